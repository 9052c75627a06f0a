/*
 * Fuzz target for chain/abi: every eth_call result and eth_getLogs entry a
 * JSON-RPC provider may send. The input goes to the eth_call decoders as hex
 * text, which must agree with each other (an address or a bool is also a
 * valid bytes32, and its word is what the bytes32 decoder returns), and to
 * abi_log_from_json as JSON (an entry, or an array of entries), whose
 * results must respect the struct's bounds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "abi.h"
#include "hex.h"
#include "rwerr.h"
#include "u256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const struct rwerr *err)
{
        if (strnlen(err->msg, sizeof err->msg) == sizeof err->msg || err->msg[0] == '\0')
                abort();
}

static void fuzz_decoders(const char *in, size_t size)
{
        uint8_t word[ABI_WORD_BYTES], addr[ABI_ADDRESS_BYTES], be[ABI_WORD_BYTES];
        uint8_t bytes[4 * ABI_WORD_BYTES];
        char text[ABI_ADDRESS_TEXT_SIZE];
        struct u256 v;
        struct rwerr err;
        size_t n = 0, i;
        bool b;
        int word_rc;

        memset(&err, 0, sizeof err);
        word_rc = abi_decode_bytes32(in, size, word, &err);
        if (word_rc != RW_OK)
                check_message(&err);
        /* The uint256 decoder accepts exactly what the bytes32 one does. */
        if ((abi_decode_uint256(in, size, &v, &err) == RW_OK) != (word_rc == RW_OK))
                abort();
        if (word_rc == RW_OK) {
                u256_to_be32(&v, be);
                if (memcmp(be, word, sizeof be) != 0)
                        abort();
        }
        if (abi_decode_address(in, size, addr, &err) == RW_OK) {
                if (word_rc != RW_OK || memcmp(word + 12, addr, sizeof addr) != 0)
                        abort();
                abi_address_format(addr, text);
                if (strlen(text) != ABI_ADDRESS_TEXT_SIZE - 1)
                        abort();
        } else {
                check_message(&err);
        }
        if (abi_decode_bool(in, size, &b, &err) == RW_OK) {
                if (word_rc != RW_OK || word[31] != (b ? 1 : 0))
                        abort();
        } else {
                check_message(&err);
        }
        if (abi_address_parse(in, size, addr, &err) == RW_OK) {
                abi_address_format(addr, text);
                if (size != 42 || strncasecmp(text + 2, in + 2, 40) != 0)
                        abort();
        }
        /* As multi-word data: every word in range is there, the next one is not. */
        if (hex_decode_any(in, size, bytes, sizeof bytes, &n, &err) == RW_OK) {
                for (i = 0; i < n / ABI_WORD_BYTES; i++) {
                        if (abi_word_at(bytes, n, i, word, &err) != RW_OK ||
                            memcmp(word, bytes + i * ABI_WORD_BYTES, ABI_WORD_BYTES) != 0)
                                abort();
                }
                if (abi_word_at(bytes, n, i, word, &err) != RW_ERR_INVALID)
                        abort();
                check_message(&err);
        }
}

static void fuzz_log(const cJSON *entry)
{
        static struct abi_log log, keep;
        struct rwerr err;

        memset(&keep, 0xa5, sizeof keep);
        memcpy(&log, &keep, sizeof log);
        memset(&err, 0, sizeof err);
        if (abi_log_from_json(entry, &log, &err) != RW_OK) {
                check_message(&err);
                /* Byte-wise: keep was copied into log with its padding. */
                if (memcmp((const unsigned char *)&log, (const unsigned char *)&keep, sizeof log) !=
                    0)
                        abort();
                return;
        }
        if (log.ntopics > ABI_LOG_TOPICS_MAX || log.data_len > ABI_LOG_DATA_MAX)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *in = (const char *)data;
        cJSON *json, *item;

        fuzz_decoders(in, size);
        json = cJSON_ParseWithLength(in, size);
        if (json == NULL)
                return 0;
        if (cJSON_IsArray(json)) {
                cJSON_ArrayForEach(item, json)
                {
                        fuzz_log(item);
                }
        } else {
                fuzz_log(json);
        }
        cJSON_Delete(json);
        return 0;
}
