#include "abi.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "keccak.h"
#include "rwerr.h"
#include "u256.h"

#define ABI_ADDRESS_PAD (ABI_WORD_BYTES - ABI_ADDRESS_BYTES)
#define ABI_FIELD_NAME_MAX 32

/*
 * Checks that `s` is "0x" (or "0X") and hex digits; sets *ndigits. The
 * message starts with `what`.
 */
static int abi_hex_digits(const char *s, size_t len, const char *what, size_t *ndigits,
                          struct rwerr *err)
{
        size_t i;

        if (s == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s is missing", what);
        if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                return rwerr_set(err, RW_ERR_INVALID, "%s does not start with \"0x\"", what);
        for (i = 2; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (hex_digit_value(s[i]) >= 0)
                        continue;
                if (c >= 0x20 && c < 0x7f)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "%s has an invalid hex digit '%c' at position %zu", what,
                                         (char)c, i);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s has an invalid hex digit (byte 0x%02x) at position %zu", what,
                                 c, i);
        }
        *ndigits = len - 2;
        return RW_OK;
}

/* Like abi_hex_digits, for whole bytes: the digit count must be even. Sets *nbytes. */
static int abi_hex_bytes(const char *s, size_t len, const char *what, size_t *nbytes,
                         struct rwerr *err)
{
        size_t ndigits = 0;
        int rc;

        if ((rc = abi_hex_digits(s, len, what, &ndigits, err)) != RW_OK)
                return rc;
        if (ndigits % 2 != 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s has an odd number of hex digits (%zu)",
                                 what, ndigits);
        *nbytes = ndigits / 2;
        return RW_OK;
}

/* Hex text of exactly `n` bytes into `out`; "<what> is X bytes, expected N" otherwise. */
static int abi_hex_fixed(const char *s, size_t len, const char *what, uint8_t *out, size_t n,
                         struct rwerr *err)
{
        size_t nbytes = 0;
        int rc;

        if ((rc = abi_hex_bytes(s, len, what, &nbytes, err)) != RW_OK)
                return rc;
        if (nbytes != n)
                return rwerr_set(err, RW_ERR_INVALID, "%s is %zu bytes, expected %zu", what, nbytes,
                                 n);
        if ((rc = hex_decode(s, len, out, n, err)) != RW_OK)
                return rwerr_prefix(err, rc, what);
        return RW_OK;
}

int abi_address_parse(const char *s, size_t len, uint8_t out[ABI_ADDRESS_BYTES], struct rwerr *err)
{
        size_t ndigits = 0;
        int rc;

        if ((rc = abi_hex_digits(s, len, "address", &ndigits, err)) != RW_OK)
                return rc;
        if (ndigits != 2 * (size_t)ABI_ADDRESS_BYTES)
                return rwerr_set(err, RW_ERR_INVALID, "address has %zu hex digits, expected %d",
                                 ndigits, 2 * ABI_ADDRESS_BYTES);
        if ((rc = hex_decode(s, len, out, ABI_ADDRESS_BYTES, err)) != RW_OK)
                return rwerr_prefix(err, rc, "address");
        return RW_OK;
}

void abi_address_format(const uint8_t in[ABI_ADDRESS_BYTES], char out[ABI_ADDRESS_TEXT_SIZE])
{
        (void)hex_encode(in, ABI_ADDRESS_BYTES, out, ABI_ADDRESS_TEXT_SIZE);
}

void abi_selector(const char *signature, uint8_t out[ABI_SELECTOR_BYTES])
{
        uint8_t hash[KECCAK256_BYTES];

        keccak256(signature, strlen(signature), hash);
        memcpy(out, hash, ABI_SELECTOR_BYTES);
}

void abi_event_topic(const char *signature, uint8_t out[ABI_WORD_BYTES])
{
        keccak256(signature, strlen(signature), out);
}

/* ---- call encoding ---- */

void abi_call_init(struct abi_call *c, const char *signature)
{
        memset(c->data, 0, sizeof c->data);
        abi_selector(signature, c->data);
        c->len = ABI_SELECTOR_BYTES;
}

/* Reserves the next argument word, zeroed; NULL when the builder is full. */
static uint8_t *abi_call_next_word(struct abi_call *c)
{
        uint8_t *word;

        if (c->len > sizeof c->data - ABI_WORD_BYTES)
                return NULL;
        word = c->data + c->len;
        memset(word, 0, ABI_WORD_BYTES);
        c->len += ABI_WORD_BYTES;
        return word;
}

int abi_call_add_address(struct abi_call *c, const uint8_t addr[ABI_ADDRESS_BYTES])
{
        uint8_t *word = abi_call_next_word(c);

        if (word == NULL)
                return RW_ERR_RANGE;
        memcpy(word + ABI_ADDRESS_PAD, addr, ABI_ADDRESS_BYTES);
        return RW_OK;
}

int abi_call_add_uint(struct abi_call *c, const struct u256 *v)
{
        uint8_t *word = abi_call_next_word(c);

        if (word == NULL)
                return RW_ERR_RANGE;
        u256_to_be32(v, word);
        return RW_OK;
}

int abi_call_add_u64(struct abi_call *c, uint64_t v)
{
        struct u256 u = u256_from_u64(v);

        return abi_call_add_uint(c, &u);
}

int abi_call_add_bytes32(struct abi_call *c, const uint8_t word[ABI_WORD_BYTES])
{
        uint8_t *dst = abi_call_next_word(c);

        if (dst == NULL)
                return RW_ERR_RANGE;
        memcpy(dst, word, ABI_WORD_BYTES);
        return RW_OK;
}

size_t abi_call_hex(const struct abi_call *c, char *out, size_t cap)
{
        return hex_encode(c->data, c->len, out, cap);
}

/* ---- decoding ---- */

int abi_word_at(const uint8_t *data, size_t len, size_t index, uint8_t out[ABI_WORD_BYTES],
                struct rwerr *err)
{
        if (data == NULL && len > 0)
                return rwerr_set(err, RW_ERR_INVALID, "ABI data is missing");
        if (index >= len / ABI_WORD_BYTES) {
                if (index < SIZE_MAX / ABI_WORD_BYTES)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "ABI data is %zu bytes, too short for word %zu "
                                         "(needs %zu bytes)",
                                         len, index, (index + 1) * ABI_WORD_BYTES);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "ABI data is %zu bytes, too short for word %zu", len, index);
        }
        memcpy(out, data + index * ABI_WORD_BYTES, ABI_WORD_BYTES);
        return RW_OK;
}

/* The index of the first non-zero byte among the first `n` of `word`, or n. */
static size_t abi_first_nonzero(const uint8_t *word, size_t n)
{
        size_t i;

        for (i = 0; i < n && word[i] == 0; i++)
                ;
        return i;
}

int abi_word_address(const uint8_t word[ABI_WORD_BYTES], uint8_t out[ABI_ADDRESS_BYTES],
                     struct rwerr *err)
{
        size_t i = abi_first_nonzero(word, ABI_ADDRESS_PAD);

        if (i < ABI_ADDRESS_PAD)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "ABI word is not an address: byte %zu of the 12 zero padding "
                                 "bytes is 0x%02x",
                                 i, word[i]);
        memcpy(out, word + ABI_ADDRESS_PAD, ABI_ADDRESS_BYTES);
        return RW_OK;
}

int abi_word_bool(const uint8_t word[ABI_WORD_BYTES], bool *out, struct rwerr *err)
{
        if (abi_first_nonzero(word, ABI_WORD_BYTES - 1) < ABI_WORD_BYTES - 1 ||
            word[ABI_WORD_BYTES - 1] > 1)
                return rwerr_set(err, RW_ERR_INVALID, "ABI word is not a bool: neither 0 nor 1");
        *out = word[ABI_WORD_BYTES - 1] == 1;
        return RW_OK;
}

int abi_word_u64(const uint8_t word[ABI_WORD_BYTES], uint64_t *out, struct rwerr *err)
{
        struct u256 v;

        u256_from_be32(word, &v);
        if (u256_to_u64(&v, out) != RW_OK)
                return rwerr_set(err, RW_ERR_RANGE, "ABI word does not fit in 64 bits");
        return RW_OK;
}

/* The single word of an eth_call result. */
static int abi_result_word(const char *hex, size_t len, uint8_t word[ABI_WORD_BYTES],
                           struct rwerr *err)
{
        static const char what[] = "eth_call result";
        size_t nbytes = 0;
        int rc;

        if ((rc = abi_hex_bytes(hex, len, what, &nbytes, err)) != RW_OK)
                return rc;
        if (nbytes == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s is empty (\"0x\"): the contract returned no data, likely "
                                 "no contract at that address",
                                 what);
        if (nbytes != ABI_WORD_BYTES)
                return rwerr_set(err, RW_ERR_INVALID, "%s is %zu bytes, expected %d (one word)",
                                 what, nbytes, ABI_WORD_BYTES);
        if ((rc = hex_decode(hex, len, word, ABI_WORD_BYTES, err)) != RW_OK)
                return rwerr_prefix(err, rc, what);
        return RW_OK;
}

int abi_decode_uint256(const char *hex, size_t len, struct u256 *out, struct rwerr *err)
{
        uint8_t word[ABI_WORD_BYTES];
        int rc;

        if ((rc = abi_result_word(hex, len, word, err)) != RW_OK)
                return rc;
        u256_from_be32(word, out);
        return RW_OK;
}

int abi_decode_address(const char *hex, size_t len, uint8_t out[ABI_ADDRESS_BYTES],
                       struct rwerr *err)
{
        uint8_t word[ABI_WORD_BYTES] = {0};
        int rc;

        if ((rc = abi_result_word(hex, len, word, err)) != RW_OK)
                return rc;
        if ((rc = abi_word_address(word, out, err)) != RW_OK)
                return rwerr_prefix(err, rc, "eth_call result");
        return RW_OK;
}

int abi_decode_bytes32(const char *hex, size_t len, uint8_t out[ABI_WORD_BYTES], struct rwerr *err)
{
        uint8_t word[ABI_WORD_BYTES];
        int rc;

        if ((rc = abi_result_word(hex, len, word, err)) != RW_OK)
                return rc;
        memcpy(out, word, ABI_WORD_BYTES);
        return RW_OK;
}

int abi_decode_bool(const char *hex, size_t len, bool *out, struct rwerr *err)
{
        uint8_t word[ABI_WORD_BYTES] = {0};
        int rc;

        if ((rc = abi_result_word(hex, len, word, err)) != RW_OK)
                return rc;
        if ((rc = abi_word_bool(word, out, err)) != RW_OK)
                return rwerr_prefix(err, rc, "eth_call result");
        return RW_OK;
}

/* ---- logs ---- */

static const char *abi_json_type(const cJSON *item)
{
        if (cJSON_IsNull(item))
                return "null";
        if (cJSON_IsBool(item))
                return "a boolean";
        if (cJSON_IsNumber(item))
                return "a number";
        if (cJSON_IsString(item))
                return "a string";
        if (cJSON_IsArray(item))
                return "an array";
        if (cJSON_IsObject(item))
                return "an object";
        return "not valid JSON";
}

/* `item`, named `name`, as a string; "<name> is a number, expected a hex string" otherwise. */
static int abi_json_string(const cJSON *item, const char *name, const char **s, size_t *len,
                           struct rwerr *err)
{
        if (item == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s is missing", name);
        if (!cJSON_IsString(item) || item->valuestring == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s is %s, expected a hex string", name,
                                 abi_json_type(item));
        *s = item->valuestring;
        *len = strlen(item->valuestring);
        return RW_OK;
}

static int abi_json_hex_fixed(const cJSON *obj, const char *name, uint8_t *out, size_t n,
                              struct rwerr *err)
{
        const char *s = NULL;
        size_t len = 0;
        int rc;

        if ((rc = abi_json_string(cJSON_GetObjectItemCaseSensitive(obj, name), name, &s, &len,
                                  err)) != RW_OK)
                return rc;
        return abi_hex_fixed(s, len, name, out, n, err);
}

static int abi_json_u64(const cJSON *obj, const char *name, uint64_t *out, struct rwerr *err)
{
        const char *s = NULL;
        size_t len = 0;
        struct u256 v;
        int rc;

        if ((rc = abi_json_string(cJSON_GetObjectItemCaseSensitive(obj, name), name, &s, &len,
                                  err)) != RW_OK)
                return rc;
        if ((rc = u256_parse_hex(s, len, &v, err)) != RW_OK)
                return rwerr_prefix(err, rc, name);
        /* A successful parse means at most "0x" and 64 digits: short enough to quote. */
        if (u256_to_u64(&v, out) != RW_OK)
                return rwerr_set(err, RW_ERR_RANGE, "%s %s does not fit in 64 bits", name, s);
        return RW_OK;
}

static int abi_json_topics(const cJSON *obj, struct abi_log *log, struct rwerr *err)
{
        const cJSON *topics = cJSON_GetObjectItemCaseSensitive(obj, "topics");
        const cJSON *t;
        size_t n = 0;
        int rc;

        if (topics == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "topics is missing");
        if (!cJSON_IsArray(topics))
                return rwerr_set(err, RW_ERR_INVALID, "topics is %s, expected an array",
                                 abi_json_type(topics));
        cJSON_ArrayForEach(t, topics)
        {
                char name[ABI_FIELD_NAME_MAX];
                const char *s = NULL;
                size_t len = 0;

                if (n == ABI_LOG_TOPICS_MAX)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "topics has %d entries, at most %d allowed",
                                         cJSON_GetArraySize(topics), ABI_LOG_TOPICS_MAX);
                (void)snprintf(name, sizeof name, "topics[%zu]", n);
                if ((rc = abi_json_string(t, name, &s, &len, err)) != RW_OK)
                        return rc;
                if ((rc = abi_hex_fixed(s, len, name, log->topics[n], ABI_WORD_BYTES, err)) !=
                    RW_OK)
                        return rc;
                n++;
        }
        log->ntopics = n;
        return RW_OK;
}

static int abi_json_data(const cJSON *obj, struct abi_log *log, struct rwerr *err)
{
        const char *s = NULL;
        size_t len = 0, nbytes = 0;
        int rc;

        if ((rc = abi_json_string(cJSON_GetObjectItemCaseSensitive(obj, "data"), "data", &s, &len,
                                  err)) != RW_OK)
                return rc;
        if ((rc = abi_hex_bytes(s, len, "data", &nbytes, err)) != RW_OK)
                return rc;
        if (nbytes > ABI_LOG_DATA_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "data is %zu bytes, more than the %d allowed",
                                 nbytes, ABI_LOG_DATA_MAX);
        if ((rc = hex_decode(s, len, log->data, nbytes, err)) != RW_OK)
                return rwerr_prefix(err, rc, "data");
        log->data_len = nbytes;
        return RW_OK;
}

static int abi_json_removed(const cJSON *obj, struct abi_log *log, struct rwerr *err)
{
        const cJSON *removed = cJSON_GetObjectItemCaseSensitive(obj, "removed");

        if (removed == NULL) {
                log->removed = false;
                return RW_OK;
        }
        if (!cJSON_IsBool(removed))
                return rwerr_set(err, RW_ERR_INVALID, "removed is %s, expected a boolean",
                                 abi_json_type(removed));
        log->removed = cJSON_IsTrue(removed) != 0;
        return RW_OK;
}

int abi_log_from_json(const struct cJSON *entry, struct abi_log *out, struct rwerr *err)
{
        struct abi_log log;
        int rc;

        if (entry == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "log entry is missing");
        if (!cJSON_IsObject(entry))
                return rwerr_set(err, RW_ERR_INVALID, "log entry is %s, expected an object",
                                 abi_json_type(entry));
        memset(&log, 0, sizeof log);
        if ((rc = abi_json_hex_fixed(entry, "address", log.address, ABI_ADDRESS_BYTES, err)) !=
                    RW_OK ||
            (rc = abi_json_topics(entry, &log, err)) != RW_OK ||
            (rc = abi_json_data(entry, &log, err)) != RW_OK ||
            (rc = abi_json_u64(entry, "blockNumber", &log.block_number, err)) != RW_OK ||
            (rc = abi_json_hex_fixed(entry, "blockHash", log.block_hash, ABI_WORD_BYTES, err)) !=
                    RW_OK ||
            (rc = abi_json_hex_fixed(entry, "transactionHash", log.tx_hash, ABI_WORD_BYTES, err)) !=
                    RW_OK ||
            (rc = abi_json_u64(entry, "logIndex", &log.log_index, err)) != RW_OK ||
            (rc = abi_json_removed(entry, &log, err)) != RW_OK)
                return rwerr_prefix(err, rc, "log entry");
        *out = log;
        return RW_OK;
}
