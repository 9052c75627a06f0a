#include "sim_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "rpc.h"
#include "rwerr.h"

#define SIM_CHAIN_NAME_MAX 32
#define SIM_RECEIPT_POLL_MS 100L

struct sim_chain {
        struct rpc_client *rpc;
        uint64_t chain_id;
        char name[SIM_CHAIN_NAME_MAX];
};

struct sim_chain *sim_chain_open(const char *name, const char *url, uint64_t chain_id,
                                 struct rwerr *err)
{
        struct rpc_config cfg = {0};
        struct sim_chain *c = calloc(1, sizeof *c);

        if (c == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s chain: out of memory", name);
                return NULL;
        }
        (void)snprintf(c->name, sizeof c->name, "%s", name);
        c->chain_id = chain_id;
        cfg.url = url;
        cfg.name = c->name;
        c->rpc = rpc_client_new(&cfg, err);
        if (c->rpc == NULL)
                goto fail;
        if (rpc_client_verify_chain(c->rpc, chain_id, err) != RW_OK)
                goto fail;
        return c;
fail:
        sim_chain_free(c);
        return NULL;
}

void sim_chain_free(struct sim_chain *c)
{
        if (c == NULL)
                return;
        rpc_client_free(c->rpc);
        free(c);
}

uint64_t sim_chain_id(const struct sim_chain *c)
{
        return c->chain_id;
}

const char *sim_chain_name(const struct sim_chain *c)
{
        return c->name;
}

/* ---------------------------------------------------------------- requests */

/*
 * Sends one request (taking `params`, which may be NULL only for []) and hands
 * back the batch holding its reply; the caller frees it with rpc_batch_free.
 */
static int call1(struct sim_chain *c, const char *method, cJSON *params, struct rpc_batch **out,
                 struct rwerr *err)
{
        struct rpc_batch *b = rpc_batch_new();
        int rc;

        if (b == NULL) {
                cJSON_Delete(params);
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", c->name);
        }
        if ((rc = rpc_batch_add(b, method, params, err)) < 0)
                goto fail;
        if ((rc = rpc_batch_send(c->rpc, b, err)) != RW_OK)
                goto fail;
        *out = b;
        return RW_OK;
fail:
        rpc_batch_free(b);
        return rc;
}

/* The params builders return NULL only when out of memory. */
static int params_nomem(const struct sim_chain *c, const char *method, struct rwerr *err)
{
        return rwerr_set(err, RW_ERR_NOMEM, "%s %s: out of memory", c->name, method);
}

static int call_u64(struct sim_chain *c, const char *method, cJSON *params, uint64_t *out,
                    struct rwerr *err)
{
        struct rpc_batch *b = NULL;
        uint64_t v = 0;
        int rc;

        if ((rc = call1(c, method, params, &b, err)) != RW_OK)
                return rc;
        if ((rc = rpc_batch_u64(b, 0, &v, err)) == RW_OK)
                *out = v;
        rpc_batch_free(b);
        return rc;
}

int sim_chain_head(struct sim_chain *c, uint64_t *head, struct rwerr *err)
{
        return call_u64(c, "eth_blockNumber", NULL, head, err);
}

int sim_chain_nonce(struct sim_chain *c, const uint8_t account[ABI_ADDRESS_BYTES], const char *tag,
                    uint64_t *nonce, struct rwerr *err)
{
        char addr[ABI_ADDRESS_TEXT_SIZE];
        struct rpc_block at = {tag, 0};
        cJSON *params;

        abi_address_format(account, addr);
        params = rpc_params_address_at(addr, &at);
        if (params == NULL)
                return params_nomem(c, "eth_getTransactionCount", err);
        return call_u64(c, "eth_getTransactionCount", params, nonce, err);
}

int sim_chain_call_uint(struct sim_chain *c, const uint8_t to[ABI_ADDRESS_BYTES],
                        const struct sim_calldata *data, const struct rpc_block *at,
                        struct u256 *out, struct rwerr *err)
{
        static const struct rpc_block latest = {"latest", 0};
        char addr[ABI_ADDRESS_TEXT_SIZE];
        char hexdata[HEX_ENCODED_SIZE(SIM_CALLDATA_MAX)];
        struct rpc_batch *b = NULL;
        const char *res = NULL;
        struct u256 v;
        cJSON *params;
        int rc;

        abi_address_format(to, addr);
        (void)hex_encode(data->data, data->len, hexdata, sizeof hexdata);
        params = rpc_params_eth_call(addr, hexdata, at != NULL ? at : &latest);
        if (params == NULL)
                return params_nomem(c, "eth_call", err);
        if ((rc = call1(c, "eth_call", params, &b, err)) != RW_OK)
                return rc;
        if ((rc = rpc_batch_hex(b, 0, &res, err)) == RW_OK &&
            (rc = abi_decode_uint256(res, strlen(res), &v, err)) == RW_OK)
                *out = v;
        rpc_batch_free(b);
        return rc;
}

/* {"from":..,"to":..,"data":..} plus "nonce" and "gas" when given; NULL when out of memory. */
static cJSON *tx_object(const uint8_t *from, const uint8_t *to, const struct sim_calldata *data,
                        uint64_t nonce, uint64_t gas)
{
        char from_text[ABI_ADDRESS_TEXT_SIZE], to_text[ABI_ADDRESS_TEXT_SIZE];
        char hexdata[HEX_ENCODED_SIZE(SIM_CALLDATA_MAX)];
        char q[24];
        cJSON *tx = cJSON_CreateObject();

        abi_address_format(from, from_text);
        abi_address_format(to, to_text);
        (void)hex_encode(data->data, data->len, hexdata, sizeof hexdata);
        if (tx == NULL || cJSON_AddStringToObject(tx, "from", from_text) == NULL ||
            cJSON_AddStringToObject(tx, "to", to_text) == NULL ||
            cJSON_AddStringToObject(tx, "data", hexdata) == NULL)
                goto fail;
        if (nonce != SIM_CHAIN_AUTO) {
                (void)snprintf(q, sizeof q, "0x%llx", (unsigned long long)nonce);
                if (cJSON_AddStringToObject(tx, "nonce", q) == NULL)
                        goto fail;
        }
        if (gas != SIM_CHAIN_AUTO) {
                (void)snprintf(q, sizeof q, "0x%llx", (unsigned long long)gas);
                if (cJSON_AddStringToObject(tx, "gas", q) == NULL)
                        goto fail;
        }
        return tx;
fail:
        cJSON_Delete(tx);
        return NULL;
}

/* [item], taking `item`; NULL (and item freed) when out of memory. */
static cJSON *wrap1(cJSON *item)
{
        cJSON *a = item != NULL ? cJSON_CreateArray() : NULL;

        if (a == NULL || !cJSON_AddItemToArray(a, item)) {
                cJSON_Delete(item);
                cJSON_Delete(a);
                return NULL;
        }
        return a;
}

int sim_chain_estimate_gas(struct sim_chain *c, const uint8_t from[ABI_ADDRESS_BYTES],
                           const uint8_t to[ABI_ADDRESS_BYTES], const struct sim_calldata *data,
                           uint64_t *gas, struct rwerr *err)
{
        cJSON *params = wrap1(tx_object(from, to, data, SIM_CHAIN_AUTO, SIM_CHAIN_AUTO));

        if (params == NULL)
                return params_nomem(c, "eth_estimateGas", err);
        return call_u64(c, "eth_estimateGas", params, gas, err);
}

int sim_chain_send(struct sim_chain *c, const struct sim_tx *tx, uint8_t tx_hash[SIM_HASH_BYTES],
                   struct rwerr *err)
{
        cJSON *params = wrap1(tx_object(tx->from, tx->to, tx->data, tx->nonce, tx->gas));
        struct rpc_batch *b = NULL;
        const char *res = NULL;
        int rc;

        if (params == NULL)
                return params_nomem(c, "eth_sendTransaction", err);
        if ((rc = call1(c, "eth_sendTransaction", params, &b, err)) != RW_OK)
                return rc;
        if ((rc = rpc_batch_hex(b, 0, &res, err)) == RW_OK)
                rc = hex_decode(res, strlen(res), tx_hash, SIM_HASH_BYTES, err);
        rpc_batch_free(b);
        return rc;
}

static const char *json_string(const cJSON *obj, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Reads a mined receipt object into *out. */
static int parse_receipt(const struct sim_chain *c, const cJSON *r, struct sim_receipt *out,
                         struct rwerr *err)
{
        const char *status = json_string(r, "status");
        const char *hash = json_string(r, "transactionHash");
        struct sim_receipt rc = {0};

        if (status == NULL || hash == NULL)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: receipt without status or hash",
                                 c->name);
        if (strcmp(status, "0x1") != 0 && strcmp(status, "0x0") != 0)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: receipt status %.16s", c->name, status);
        rc.success = strcmp(status, "0x1") == 0;
        if (hex_decode(hash, strlen(hash), rc.tx_hash, sizeof rc.tx_hash, err) != RW_OK ||
            rpc_quantity_u64(json_string(r, "blockNumber"), &rc.block_number, err) != RW_OK ||
            rpc_quantity_u64(json_string(r, "gasUsed"), &rc.gas_used, err) != RW_OK)
                return rwerr_prefix(err, RW_ERR_PROTOCOL, "receipt");
        *out = rc;
        return RW_OK;
}

static long elapsed_ms(const struct timespec *since)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (long)(now.tv_sec - since->tv_sec) * 1000L +
               (now.tv_nsec - since->tv_nsec) / 1000000L;
}

int sim_chain_wait_receipt(struct sim_chain *c, const uint8_t tx_hash[SIM_HASH_BYTES],
                           long timeout_ms, struct sim_receipt *out, struct rwerr *err)
{
        char hash[HEX_ENCODED_SIZE(SIM_HASH_BYTES)];
        struct timespec start, pause = {0, SIM_RECEIPT_POLL_MS * 1000000L};
        int rc;

        (void)hex_encode(tx_hash, SIM_HASH_BYTES, hash, sizeof hash);
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct rpc_batch *b = NULL;
                const cJSON *res;
                cJSON *params = wrap1(cJSON_CreateString(hash));

                if (params == NULL)
                        return params_nomem(c, "eth_getTransactionReceipt", err);
                if ((rc = call1(c, "eth_getTransactionReceipt", params, &b, err)) != RW_OK)
                        return rc;
                res = rpc_batch_result(b, 0);
                if (res == NULL) {
                        const struct rpc_error *e = rpc_batch_error(b, 0);

                        rc = rwerr_set(err, RW_ERR_REMOTE,
                                       "%s eth_getTransactionReceipt: error %ld: %s", c->name,
                                       e != NULL ? e->code : 0L, e != NULL ? e->message : "?");
                        rpc_batch_free(b);
                        return rc;
                }
                if (cJSON_IsObject(res)) {
                        rc = parse_receipt(c, res, out, err);
                        rpc_batch_free(b);
                        return rc;
                }
                rpc_batch_free(b);
                if (elapsed_ms(&start) >= timeout_ms)
                        return rwerr_set(err, RW_ERR_TIMEOUT,
                                         "%s: transaction %s not mined after %ld ms", c->name, hash,
                                         timeout_ms);
                nanosleep(&pause, NULL);
        }
}

/* ---------------------------------------------------------------- logs */

static const char *const event_signatures[] = {
        [SIM_EVENT_LOCKED] = "Locked(uint256,address,address,address,uint256)",
        [SIM_EVENT_RELEASED] = "Released(uint256,uint256,address,address,uint256)",
        [SIM_EVENT_ROOT_ANCHORED] = "RootAnchored(uint256,bytes32,address)",
        [SIM_EVENT_MINTED] = "Minted(address,uint256,uint256)",
        [SIM_EVENT_BURNED] = "Burned(uint256,address,address,uint256)",
};

void sim_chain_event_topic(enum sim_chain_event event, uint8_t out[ABI_WORD_BYTES])
{
        abi_event_topic(event_signatures[event], out);
}

/* [{"address":a,"fromBlock":f,"toBlock":t,"topics":[t0, t1|null, ...]}] */
static cJSON *logs_params(const uint8_t address[ABI_ADDRESS_BYTES], enum sim_chain_event event,
                          const uint8_t *const topic[3], uint64_t from, uint64_t to)
{
        char addr[ABI_ADDRESS_TEXT_SIZE], text[HEX_ENCODED_SIZE(ABI_WORD_BYTES)];
        uint8_t t0[ABI_WORD_BYTES];
        cJSON *filter = cJSON_CreateObject(), *topics = cJSON_CreateArray();
        size_t i, last = 0;

        if (filter == NULL || topics == NULL)
                goto fail;
        abi_address_format(address, addr);
        if (cJSON_AddStringToObject(filter, "address", addr) == NULL)
                goto fail;
        (void)snprintf(text, sizeof text, "0x%llx", (unsigned long long)from);
        if (cJSON_AddStringToObject(filter, "fromBlock", text) == NULL)
                goto fail;
        (void)snprintf(text, sizeof text, "0x%llx", (unsigned long long)to);
        if (cJSON_AddStringToObject(filter, "toBlock", text) == NULL)
                goto fail;
        sim_chain_event_topic(event, t0);
        (void)hex_encode(t0, sizeof t0, text, sizeof text);
        if (!cJSON_AddItemToArray(topics, cJSON_CreateString(text)))
                goto fail;
        for (i = 0; topic != NULL && i < 3; i++) {
                if (topic[i] != NULL)
                        last = i + 1;
        }
        for (i = 0; i < last; i++) {
                cJSON *item;

                if (topic[i] != NULL) {
                        (void)hex_encode(topic[i], ABI_WORD_BYTES, text, sizeof text);
                        item = cJSON_CreateString(text);
                } else {
                        item = cJSON_CreateNull();
                }
                if (item == NULL || !cJSON_AddItemToArray(topics, item)) {
                        cJSON_Delete(item);
                        goto fail;
                }
        }
        if (!cJSON_AddItemToObject(filter, "topics", topics)) {
                goto fail;
        }
        return wrap1(filter);
fail:
        cJSON_Delete(topics);
        cJSON_Delete(filter);
        return NULL;
}

int sim_chain_logs(struct sim_chain *c, const uint8_t address[ABI_ADDRESS_BYTES],
                   enum sim_chain_event event, const uint8_t *const topic[3], uint64_t from,
                   uint64_t to, struct abi_log **logs, size_t *n, struct rwerr *err)
{
        cJSON *params = logs_params(address, event, topic, from, to);
        struct rpc_batch *b = NULL;
        struct abi_log *out = NULL;
        const cJSON *res, *entry;
        size_t count = 0, total;
        int rc;

        if (params == NULL)
                return params_nomem(c, "eth_getLogs", err);
        if ((rc = call1(c, "eth_getLogs", params, &b, err)) != RW_OK)
                return rc;
        res = rpc_batch_result(b, 0);
        if (!cJSON_IsArray(res)) {
                const struct rpc_error *e = rpc_batch_error(b, 0);

                if (e != NULL)
                        rc = rwerr_set(err, RW_ERR_REMOTE, "%s eth_getLogs: error %ld: %s", c->name,
                                       e->code, e->message);
                else
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "%s eth_getLogs: result is not an array", c->name);
                goto out;
        }
        total = (size_t)cJSON_GetArraySize(res);
        if (total == 0) {
                *logs = NULL;
                *n = 0;
                rc = RW_OK;
                goto out;
        }
        if ((out = calloc(total, sizeof *out)) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "%s eth_getLogs: out of memory for %zu logs",
                               c->name, total);
                goto out;
        }
        cJSON_ArrayForEach(entry, res)
        {
                if (count == total)
                        break;
                if ((rc = abi_log_from_json(entry, &out[count], err)) != RW_OK) {
                        rc = rwerr_prefix(err, rc, c->name);
                        goto out;
                }
                if (!out[count].removed)
                        count++;
        }
        *logs = count > 0 ? out : NULL;
        *n = count;
        if (count > 0)
                out = NULL;
        rc = RW_OK;
out:
        free(out);
        rpc_batch_free(b);
        return rc;
}

static int check_event(const struct abi_log *log, enum sim_chain_event event, size_t ntopics,
                       size_t data_len, struct rwerr *err)
{
        uint8_t t0[ABI_WORD_BYTES];

        sim_chain_event_topic(event, t0);
        if (log->ntopics != ntopics || memcmp(log->topics[0], t0, sizeof t0) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "block %llu log %llu is not a %s event",
                                 (unsigned long long)log->block_number,
                                 (unsigned long long)log->log_index, event_signatures[event]);
        if (log->data_len != data_len)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "block %llu log %llu: %s data is %zu bytes, expected %zu",
                                 (unsigned long long)log->block_number,
                                 (unsigned long long)log->log_index, event_signatures[event],
                                 log->data_len, data_len);
        return RW_OK;
}

int sim_chain_decode_locked(const struct abi_log *log, struct sim_locked *out, struct rwerr *err)
{
        struct sim_locked d;
        uint8_t word[ABI_WORD_BYTES];
        int rc;

        if ((rc = check_event(log, SIM_EVENT_LOCKED, 4, (size_t)2 * ABI_WORD_BYTES, err)) != RW_OK)
                return rc;
        u256_from_be32(log->topics[1], &d.nonce);
        if ((rc = abi_word_address(log->topics[2], d.token, err)) != RW_OK ||
            (rc = abi_word_address(log->topics[3], d.depositor, err)) != RW_OK ||
            (rc = abi_word_at(log->data, log->data_len, 0, word, err)) != RW_OK ||
            (rc = abi_word_address(word, d.recipient, err)) != RW_OK ||
            (rc = abi_word_at(log->data, log->data_len, 1, word, err)) != RW_OK)
                return rwerr_prefix(err, rc, "Locked event");
        u256_from_be32(word, &d.amount);
        memcpy(d.tx_hash, log->tx_hash, sizeof d.tx_hash);
        d.log_index = log->log_index;
        d.block_number = log->block_number;
        *out = d;
        return RW_OK;
}

int sim_chain_decode_burned(const struct abi_log *log, struct sim_burned *out, struct rwerr *err)
{
        struct sim_burned d;
        uint8_t word[ABI_WORD_BYTES];
        int rc;

        if ((rc = check_event(log, SIM_EVENT_BURNED, 3, (size_t)2 * ABI_WORD_BYTES, err)) != RW_OK)
                return rc;
        u256_from_be32(log->topics[1], &d.nonce);
        if ((rc = abi_word_address(log->topics[2], d.burner, err)) != RW_OK ||
            (rc = abi_word_at(log->data, log->data_len, 0, word, err)) != RW_OK ||
            (rc = abi_word_address(word, d.recipient, err)) != RW_OK ||
            (rc = abi_word_at(log->data, log->data_len, 1, word, err)) != RW_OK)
                return rwerr_prefix(err, rc, "Burned event");
        u256_from_be32(word, &d.amount);
        memcpy(d.tx_hash, log->tx_hash, sizeof d.tx_hash);
        d.log_index = log->log_index;
        d.block_number = log->block_number;
        *out = d;
        return RW_OK;
}

/* ---------------------------------------------------------------- calldata */

static void data_init(struct sim_calldata *cd, const char *signature)
{
        abi_selector(signature, cd->data);
        cd->len = ABI_SELECTOR_BYTES;
}

/* Callers size their calls within SIM_CALLDATA_MAX (release checks its proof first). */
static void data_word(struct sim_calldata *cd, const uint8_t word[ABI_WORD_BYTES])
{
        memcpy(cd->data + cd->len, word, ABI_WORD_BYTES);
        cd->len += ABI_WORD_BYTES;
}

static void data_address(struct sim_calldata *cd, const uint8_t addr[ABI_ADDRESS_BYTES])
{
        uint8_t word[ABI_WORD_BYTES] = {0};

        memcpy(word + ABI_WORD_BYTES - ABI_ADDRESS_BYTES, addr, ABI_ADDRESS_BYTES);
        data_word(cd, word);
}

static void data_uint(struct sim_calldata *cd, const struct u256 *v)
{
        uint8_t word[ABI_WORD_BYTES];

        u256_to_be32(v, word);
        data_word(cd, word);
}

static void data_u64(struct sim_calldata *cd, uint64_t v)
{
        struct u256 w = u256_from_u64(v);

        data_uint(cd, &w);
}

void sim_chain_data_balance_of(struct sim_calldata *cd, const uint8_t holder[ABI_ADDRESS_BYTES])
{
        data_init(cd, "balanceOf(address)");
        data_address(cd, holder);
}

void sim_chain_data_allowance(struct sim_calldata *cd, const uint8_t owner[ABI_ADDRESS_BYTES],
                              const uint8_t spender[ABI_ADDRESS_BYTES])
{
        data_init(cd, "allowance(address,address)");
        data_address(cd, owner);
        data_address(cd, spender);
}

void sim_chain_data_approve(struct sim_calldata *cd, const uint8_t spender[ABI_ADDRESS_BYTES],
                            const struct u256 *amount)
{
        data_init(cd, "approve(address,uint256)");
        data_address(cd, spender);
        data_uint(cd, amount);
}

void sim_chain_data_lock(struct sim_calldata *cd, const uint8_t token[ABI_ADDRESS_BYTES],
                         const struct u256 *amount, const uint8_t recipient[ABI_ADDRESS_BYTES])
{
        data_init(cd, "lock(address,uint256,address)");
        data_address(cd, token);
        data_uint(cd, amount);
        data_address(cd, recipient);
}

void sim_chain_data_mint(struct sim_calldata *cd, const uint8_t to[ABI_ADDRESS_BYTES],
                         const struct u256 *amount, const struct u256 *deposit_nonce)
{
        data_init(cd, "mint(address,uint256,uint256)");
        data_address(cd, to);
        data_uint(cd, amount);
        data_uint(cd, deposit_nonce);
}

void sim_chain_data_burn(struct sim_calldata *cd, const struct u256 *amount,
                         const uint8_t recipient[ABI_ADDRESS_BYTES])
{
        data_init(cd, "burn(uint256,address)");
        data_uint(cd, amount);
        data_address(cd, recipient);
}

void sim_chain_data_anchor(struct sim_calldata *cd, uint64_t batch_id,
                           const uint8_t root[SIM_HASH_BYTES])
{
        data_init(cd, "anchor(uint256,bytes32)");
        data_u64(cd, batch_id);
        data_word(cd, root);
}

int sim_chain_data_release(struct sim_calldata *cd, uint64_t batch_id, uint64_t withdrawal_id,
                           const uint8_t token[ABI_ADDRESS_BYTES],
                           const uint8_t recipient[ABI_ADDRESS_BYTES], const struct u256 *amount,
                           const uint8_t (*proof)[SIM_HASH_BYTES], size_t proof_len,
                           struct rwerr *err)
{
        size_t i;

        if (proof_len > SIM_PROOF_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "release: proof of %zu hashes, at most %d",
                                 proof_len, SIM_PROOF_MAX);
        data_init(cd, "release(uint256,uint256,address,address,uint256,bytes32[])");
        data_u64(cd, batch_id);
        data_u64(cd, withdrawal_id);
        data_address(cd, token);
        data_address(cd, recipient);
        data_uint(cd, amount);
        /* The array's offset from the start of the arguments: after the six head words. */
        data_u64(cd, (uint64_t)6 * ABI_WORD_BYTES);
        data_u64(cd, proof_len);
        for (i = 0; i < proof_len; i++)
                data_word(cd, proof[i]);
        return RW_OK;
}
