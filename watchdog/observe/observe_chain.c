#include "observe_chain.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "abi.h"
#include "hex.h"
#include "multicall.h"
#include "rpc.h"
#include "rwclock.h"

/*
 * Requests per JSON-RPC batch, well under RPC_BATCH_MAX and provider caps,
 * and reads: an aggregate3 counts as the reads it carries, so a batch stays
 * under about 500 kB (anvil refuses a body over 2 MB, hosted providers
 * less).
 */
#define OBSERVE_BATCH_REQUESTS 500
#define OBSERVE_BATCH_READS 1000
#define ROOT_ANCHORED_EVENT "RootAnchored(uint256,bytes32,address)"
/*
 * Reads per aggregate3: about 5 million gas for 500 balanceOf calls, well
 * under the eth_call gas caps of common nodes (anvil's block gas limit,
 * geth's 50 million).
 */
#define MULTICALL_GROUP 500
/* After aggregate3 failed as a whole on an endpoint: one call per read for this long. */
#define MULTICALL_RETRY_MS ((uint64_t)10 * 60 * 1000)

/* ------------------------------------------------------------------ heads */

static int block_number_of(const cJSON *block, uint64_t *out, struct rwerr *err)
{
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(block, "number");

        if (!cJSON_IsString(n))
                return rwerr_set(err, RW_ERR_PROTOCOL, "block has no number");
        return rpc_quantity_u64(n->valuestring, out, err);
}

int observe_chain_heads(struct endpoint_pool *pool, const struct config_chain *cc,
                        enum snap_chain_role role, struct snapshot *s, int *served,
                        struct rwerr *err)
{
        struct snap_chain *ch = &s->chains[role];
        struct rpc_batch *b = rpc_batch_new();
        struct endpoint_pool_status st;
        int rc, i_head, i_fin = -1;

        *served = -1;
        if (b == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for a batch");
        i_head = rpc_batch_add(b, "eth_blockNumber", NULL, err);
        if (i_head >= 0 && cc->finalized) {
                cJSON *params = cJSON_CreateArray();
                cJSON *blk = cJSON_CreateString("finalized");

                if (params == NULL || blk == NULL || !cJSON_AddItemToArray(params, blk)) {
                        cJSON_Delete(params);
                        cJSON_Delete(blk);
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for a request");
                        goto done;
                }
                if (!cJSON_AddItemToArray(params, cJSON_CreateFalse())) {
                        cJSON_Delete(params);
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for a request");
                        goto done;
                }
                i_fin = rpc_batch_add(b, "eth_getBlockByNumber", params, err);
        }
        if (i_head < 0 || (cc->finalized && i_fin < 0)) {
                rc = i_head < 0 ? i_head : i_fin;
                goto done;
        }
        if ((rc = endpoint_pool_send(pool, b, err)) != RW_OK)
                goto done;
        endpoint_pool_last_status(pool, &st);
        *served = st.served_by;
        if ((rc = rpc_batch_u64(b, (size_t)i_head, &ch->head, err)) != RW_OK)
                goto done;
        if (i_fin >= 0) {
                const cJSON *blk = rpc_batch_result(b, (size_t)i_fin);

                if (!cJSON_IsObject(blk)) {
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "eth_getBlockByNumber(\"finalized\") returned no block: "
                                       "the node does not track finality");
                        goto done;
                }
                if ((rc = block_number_of(blk, &ch->finalized, err)) != RW_OK)
                        goto done;
        }
done:
        rpc_batch_free(b);
        if (rc != RW_OK)
                rwerr_prefix(err, rc, snap_chain_role_name(role));
        return rc;
}

/* ------------------------------------------------------------------ reads */

enum req_kind {
        REQ_BLOCK,
        REQ_TOKEN,
        REQ_TOKEN_TIP, /* the same read at the chain's tip (snapshot.h) */
        REQ_NONCE_LATEST,
        REQ_NONCE_PENDING,
        REQ_ROOT,
        REQ_LOGS,
        REQ_MULTI, /* `count` reads of kind `sub` from `index` on, in one aggregate3 */
};

struct req {
        enum req_kind kind;
        size_t index;      /* asset, account or batch; REQ_MULTI: the first */
        uint64_t from, to; /* REQ_LOGS: blocks from..to inclusive */
        enum req_kind sub; /* REQ_MULTI: REQ_TOKEN, REQ_TOKEN_TIP or REQ_ROOT */
        size_t count;      /* REQ_MULTI */
};

struct req_queue {
        struct req *items;
        size_t n, cap, next;
};

static int queue_push(struct req_queue *q, struct req r, struct rwerr *err)
{
        if (q->n == q->cap) {
                size_t cap = q->cap ? q->cap * 2 : 64;
                struct req *items = realloc(q->items, cap * sizeof *items);

                if (items == NULL)
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu requests", cap);
                q->items = items;
                q->cap = cap;
        }
        q->items[q->n++] = r;
        return RW_OK;
}

/* A whole view, its state at the heights (block, tokens, nonces), or its history. */
enum view_part {
        VIEW_ALL,
        VIEW_STATE,
        VIEW_HISTORY,
};

/* What one view's reads need, shared by the request builders and the readers. */
struct view_reads {
        const struct config *cfg;
        const struct config_chain *cc;
        enum snap_chain_role role;
        struct snapshot *s;
        struct snap_view *v;
        struct rpc_block at; /* the pinned block */
        size_t anchors_cap;
        struct multicall_memo *memo; /* NULL: one call per read */
        enum view_part part;         /* what of the view to read */
};

static cJSON *call_params(const uint8_t to[ABI_ADDRESS_BYTES], const struct abi_call *call,
                          const struct rpc_block *at)
{
        char addr[ABI_ADDRESS_TEXT_SIZE];
        char data[2 + 2 * (ABI_SELECTOR_BYTES + 2 * ABI_WORD_BYTES) + 1];

        abi_address_format(to, addr);
        if (abi_call_hex(call, data, sizeof data) == 0)
                return NULL;
        return rpc_params_eth_call(addr, data, at);
}

/*
 * The contract and calldata of a single-word read (REQ_TOKEN, REQ_TOKEN_TIP,
 * REQ_ROOT) of item `index`, and the block it is read at.
 */
static int word_read(const struct view_reads *r, enum req_kind kind, size_t index,
                     struct multicall_call *out, struct rpc_block *at, struct rwerr *err)
{
        int rc = RW_OK;

        *at = r->at;
        if (kind == REQ_ROOT) {
                abi_call_init(&out->call, "roots(uint256)");
                rc = abi_call_add_u64(&out->call, r->s->ledger.batches[index].batch_number);
                memcpy(out->target, r->cc->root_registry, ABI_ADDRESS_BYTES);
        } else if (r->role == SNAP_SOURCE) {
                abi_call_init(&out->call, "balanceOf(address)");
                rc = abi_call_add_address(&out->call, r->cc->lockbox);
                memcpy(out->target, r->s->assets[index].source_token, ABI_ADDRESS_BYTES);
        } else {
                abi_call_init(&out->call, "totalSupply()");
                memcpy(out->target, r->s->assets[index].bridged_token, ABI_ADDRESS_BYTES);
        }
        if (kind == REQ_TOKEN_TIP)
                at->number = r->s->chains[r->role].tip;
        return rc != RW_OK ? rwerr_set(err, rc, "could not encode a call") : RW_OK;
}

/* The eth_call params of aggregate3 over the reads of `q` (REQ_MULTI) into *params. */
static int multi_params(const struct view_reads *r, const struct req *q, cJSON **params,
                        struct rwerr *err)
{
        struct multicall_call *calls = calloc(q->count, sizeof *calls);
        struct rpc_block at = r->at;
        char addr[ABI_ADDRESS_TEXT_SIZE];
        char *data = NULL;
        size_t i;
        int rc = RW_OK;

        *params = NULL;
        if (calls == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu calls", q->count);
        for (i = 0; i < q->count && rc == RW_OK; i++)
                rc = word_read(r, q->sub, q->index + i, &calls[i], &at, err);
        if (rc == RW_OK && (data = multicall_encode(calls, q->count, err)) == NULL)
                rc = RW_ERR_NOMEM; /* or a count out of range: plan_reads keeps to the bounds */
        if (rc == RW_OK) {
                abi_address_format(r->cc->multicall3, addr);
                if ((*params = rpc_params_eth_call(addr, data, &at)) == NULL)
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for a request");
        }
        free(data);
        free(calls);
        return rc;
}

static int add_request(struct view_reads *r, struct rpc_batch *b, const struct req *q,
                       struct rwerr *err)
{
        char text[ABI_ADDRESS_TEXT_SIZE];
        char topic[HEX_ENCODED_SIZE(ABI_WORD_BYTES)];
        cJSON *params = NULL;
        const char *method = "eth_call";
        int rc = RW_OK;

        switch (q->kind) {
        case REQ_BLOCK:
                params = cJSON_CreateArray();
                if (params != NULL) {
                        char num[24];

                        (void)snprintf(num, sizeof num, "0x%" PRIx64, r->at.number);
                        if (!cJSON_AddItemToArray(params, cJSON_CreateString(num)) ||
                            !cJSON_AddItemToArray(params, cJSON_CreateFalse())) {
                                cJSON_Delete(params);
                                params = NULL;
                        }
                }
                method = "eth_getBlockByNumber";
                break;
        case REQ_TOKEN:
        case REQ_TOKEN_TIP:
        case REQ_ROOT: {
                struct multicall_call mc;
                struct rpc_block at;

                if ((rc = word_read(r, q->kind, q->index, &mc, &at, err)) != RW_OK)
                        return rc;
                params = call_params(mc.target, &mc.call, &at);
                break;
        }
        case REQ_MULTI:
                if ((rc = multi_params(r, q, &params, err)) != RW_OK)
                        return rc;
                break;
        case REQ_NONCE_LATEST:
        case REQ_NONCE_PENDING: {
                struct rpc_block pending = {"pending", 0};
                struct rpc_block at_nonce = {NULL, r->s->chains[r->role].tip};

                abi_address_format(r->s->accounts[q->index].address, text);
                params = rpc_params_address_at(text,
                                               q->kind == REQ_NONCE_LATEST ? &at_nonce : &pending);
                method = "eth_getTransactionCount";
                break;
        }
        case REQ_LOGS: {
                uint8_t t0[ABI_WORD_BYTES];

                abi_event_topic(ROOT_ANCHORED_EVENT, t0);
                (void)hex_encode(t0, sizeof t0, topic, sizeof topic);
                abi_address_format(r->cc->root_registry, text);
                params = rpc_params_get_logs(text, topic, q->from, q->to);
                method = "eth_getLogs";
                break;
        }
        }
        if (rc != RW_OK)
                return rwerr_set(err, rc, "could not encode a call");
        if (params == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for a request");
        rc = rpc_batch_add(b, method, params, err);
        return rc < 0 ? rc : RW_OK;
}

/* A provider refusing an eth_getLogs range as too wide, in the words providers use. */
static int is_range_limit(const struct rpc_error *e)
{
        static const char *const words[] = {"range",  "limit",     "too many",
                                            "exceed", "too large", "10000 results"};
        size_t i;

        if (e == NULL)
                return 0;
        if (e->code == -32005)
                return 1;
        for (i = 0; i < sizeof words / sizeof words[0]; i++) {
                if (strstr(e->message, words[i]) != NULL)
                        return 1;
        }
        return 0;
}

static int add_anchor(struct view_reads *r, const struct abi_log *log, struct rwerr *err)
{
        struct snap_view *v = r->v;
        struct snap_anchor *a;
        uint64_t batch_id;
        int rc;

        if (log->removed)
                return RW_OK; /* reorged out: not part of the canonical chain */
        if (log->ntopics != 4)
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "RootAnchored log at block %" PRIu64 " has %zu topics, expected 4",
                                 log->block_number, log->ntopics);
        if ((rc = abi_word_u64(log->topics[1], &batch_id, err)) != RW_OK)
                return rwerr_prefix(err, rc, "RootAnchored batch id");
        if (v->nanchors == r->anchors_cap) {
                size_t cap = r->anchors_cap ? r->anchors_cap * 2 : 32;
                struct snap_anchor *p = realloc(v->anchors, cap * sizeof *p);

                if (p == NULL)
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu anchors", cap);
                v->anchors = p;
                r->anchors_cap = cap;
        }
        a = &v->anchors[v->nanchors++];
        a->batch_id = batch_id;
        memcpy(a->root, log->topics[2], sizeof a->root);
        a->block_number = log->block_number;
        memcpy(a->tx_hash, log->tx_hash, sizeof a->tx_hash);
        return RW_OK;
}

static int read_logs(struct view_reads *r, const cJSON *result, struct rwerr *err)
{
        const cJSON *entry;
        struct abi_log *log = malloc(sizeof *log);
        int rc = RW_OK;

        if (log == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for a log");
        if (!cJSON_IsArray(result)) {
                free(log);
                return rwerr_set(err, RW_ERR_PROTOCOL, "eth_getLogs result is not an array");
        }
        cJSON_ArrayForEach(entry, result)
        {
                if ((rc = abi_log_from_json(entry, log, err)) != RW_OK) {
                        rwerr_prefix(err, rc, "eth_getLogs entry");
                        break;
                }
                if ((rc = add_anchor(r, log, err)) != RW_OK)
                        break;
        }
        free(log);
        return rc;
}

static int read_block_hash(struct view_reads *r, const struct rpc_batch *b, size_t i,
                           struct rwerr *err)
{
        const cJSON *blk = rpc_batch_result(b, i);
        const cJSON *hash;
        const struct rpc_error *e = rpc_batch_error(b, i);
        struct rwerr ignored;

        if (e != NULL)
                return rwerr_set(err, RW_ERR_REMOTE, "eth_getBlockByNumber(%" PRIu64 "): %s",
                                 r->at.number, e->message);
        if (!cJSON_IsObject(blk))
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "endpoint has no block %" PRIu64 " (is it behind?)", r->at.number);
        hash = cJSON_GetObjectItemCaseSensitive(blk, "hash");
        if (!cJSON_IsString(hash) || strncmp(hash->valuestring, "0x", 2) != 0 ||
            hex_decode(hash->valuestring + 2, strlen(hash->valuestring + 2), r->v->block_hash,
                       sizeof r->v->block_hash, &ignored) != RW_OK)
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "block %" PRIu64 " has no valid 32-byte hash", r->at.number);
        return RW_OK;
}

/* Stores the one-word result of read (kind, index): REQ_TOKEN, REQ_TOKEN_TIP or REQ_ROOT. */
static void store_word(struct view_reads *r, enum req_kind kind, size_t index,
                       const uint8_t word[ABI_WORD_BYTES])
{
        if (kind == REQ_ROOT)
                memcpy(r->v->anchored_roots[index], word, ABI_WORD_BYTES);
        else
                u256_from_be32(word, kind == REQ_TOKEN ? &r->v->token_values[index]
                                                       : &r->v->tip_values[index]);
}

static int multicall_usable(const struct view_reads *r)
{
        static const uint8_t off[ABI_ADDRESS_BYTES];

        return r->memo != NULL && memcmp(r->cc->multicall3, off, sizeof off) != 0 &&
               (r->memo->retry_ms == 0 || rwclock_mono_ms() >= r->memo->retry_ms);
}

/*
 * The reply to an aggregate3 (REQ_MULTI `q`, index `i` of `b`): each read
 * that returned one word is stored; every other read is queued again as a
 * call of its own, whose reply then says what is wrong in the words of a
 * plain eth_call. When the aggregate failed as a whole (no Multicall3 at
 * the address, the node refused it, a reply that does not decode), all its
 * reads are queued again and the endpoint makes one call per read for
 * MULTICALL_RETRY_MS. So the values are those of single calls either way.
 */
static int read_multi(struct view_reads *r, const struct rpc_batch *b, size_t i,
                      const struct req *q, struct req_queue *queue, struct rwerr *err)
{
        const struct rpc_error *e = rpc_batch_error(b, i);
        struct multicall_result *res = calloc(q->count, sizeof *res);
        struct rwerr why = {{0}};
        const char *hex = NULL;
        uint8_t *buf = NULL;
        size_t k;
        int rc = RW_OK, whole;

        if (res == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu results", q->count);
        if (e != NULL)
                whole = rwerr_set(&why, RW_ERR_REMOTE, "%s", e->message);
        else if ((whole = rpc_batch_hex(b, i, &hex, &why)) == RW_OK)
                whole = multicall_decode(hex, strlen(hex), q->count, res, &buf, &why);
        if (whole == RW_ERR_NOMEM) {
                *err = why;
                rc = RW_ERR_NOMEM;
                goto done;
        }
        if (whole != RW_OK) {
                r->memo->retry_ms = rwclock_mono_ms() + MULTICALL_RETRY_MS;
                (void)rwerr_prefix(&why, whole, "aggregate3 at the configured multicall3 address");
                memcpy(r->memo->problem, why.msg, sizeof r->memo->problem);
        } else {
                r->v->multicall_calls++;
        }
        for (k = 0; k < q->count && rc == RW_OK; k++) {
                struct req single = {q->sub, q->index + k, 0, 0, REQ_BLOCK, 0};

                if (whole == RW_OK && res[k].success && res[k].len == ABI_WORD_BYTES) {
                        store_word(r, q->sub, q->index + k, res[k].data);
                        continue;
                }
                r->v->multicall_fallbacks++;
                rc = queue_push(queue, single, err);
        }
done:
        free(buf);
        free(res);
        return rc;
}

/* Reads the reply to request `q` (index `i` of `b`); may queue halves of a refused log range. */
static int read_reply(struct view_reads *r, const struct rpc_batch *b, size_t i,
                      const struct req *q, struct req_queue *queue, struct rwerr *err)
{
        const char *hex = NULL;
        int rc;

        switch (q->kind) {
        case REQ_BLOCK:
                return read_block_hash(r, b, i, err);
        case REQ_TOKEN:
        case REQ_TOKEN_TIP: {
                struct u256 *values = q->kind == REQ_TOKEN ? r->v->token_values : r->v->tip_values;

                if ((rc = rpc_batch_hex(b, i, &hex, err)) != RW_OK ||
                    (rc = abi_decode_uint256(hex, strlen(hex), &values[q->index], err)) != RW_OK)
                        return rwerr_prefix(err, rc, r->s->assets[q->index].name);
                return RW_OK;
        }
        case REQ_NONCE_LATEST:
                return rpc_batch_u64(b, i, &r->v->nonce_latest[q->index], err);
        case REQ_NONCE_PENDING:
                return rpc_batch_u64(b, i, &r->v->nonce_pending[q->index], err);
        case REQ_ROOT:
                if ((rc = rpc_batch_hex(b, i, &hex, err)) != RW_OK ||
                    (rc = abi_decode_bytes32(hex, strlen(hex), r->v->anchored_roots[q->index],
                                             err)) != RW_OK)
                        return rwerr_prefix(err, rc, "roots(batch)");
                return RW_OK;
        case REQ_MULTI:
                return read_multi(r, b, i, q, queue, err);
        case REQ_LOGS:
                if (rpc_batch_error(b, i) != NULL && is_range_limit(rpc_batch_error(b, i)) &&
                    q->to > q->from) {
                        uint64_t mid = q->from + (q->to - q->from) / 2;
                        struct req lo = {REQ_LOGS, 0, q->from, mid, REQ_BLOCK, 0};
                        struct req hi = {REQ_LOGS, 0, mid + 1, q->to, REQ_BLOCK, 0};

                        if ((rc = queue_push(queue, lo, err)) != RW_OK)
                                return rc;
                        return queue_push(queue, hi, err);
                }
                if (rpc_batch_error(b, i) != NULL)
                        return rwerr_set(err, RW_ERR_REMOTE,
                                         "eth_getLogs blocks %" PRIu64 "..%" PRIu64 ": %s", q->from,
                                         q->to, rpc_batch_error(b, i)->message);
                return read_logs(r, rpc_batch_result(b, i), err);
        }
        return rwerr_set(err, RW_ERR_INVALID, "unknown request kind");
}

/* The `n` single-word reads of `kind`: in aggregate3s of MULTICALL_GROUP where usable. */
static int push_word_reads(struct view_reads *r, struct req_queue *q, enum req_kind kind, size_t n,
                           struct rwerr *err)
{
        int multi = multicall_usable(r);
        size_t i, step = multi ? MULTICALL_GROUP : 1;
        int rc = RW_OK;

        for (i = 0; i < n && rc == RW_OK; i += step) {
                size_t count = n - i < step ? n - i : step;
                struct req req = {multi ? REQ_MULTI : kind, i, 0, 0, kind, count};

                rc = queue_push(q, req, err);
        }
        return rc;
}

static int plan_reads(struct view_reads *r, struct req_queue *q, struct rwerr *err)
{
        const struct snap_chain *ch = &r->s->chains[r->role];
        struct req req = {REQ_BLOCK, 0, 0, 0, REQ_BLOCK, 0};
        size_t i;
        int rc;

        if (r->part == VIEW_HISTORY)
                goto history;
        if ((rc = queue_push(q, req, err)) != RW_OK)
                return rc;
        if ((rc = push_word_reads(r, q, REQ_TOKEN, r->s->nassets, err)) != RW_OK)
                return rc;
        if (r->v->tip_values != NULL &&
            (rc = push_word_reads(r, q, REQ_TOKEN_TIP, r->s->nassets, err)) != RW_OK)
                return rc;
        for (i = 0; i < r->s->naccounts; i++) {
                if (r->s->accounts[i].chain != r->role)
                        continue;
                req = (struct req){REQ_NONCE_LATEST, i, 0, 0, REQ_BLOCK, 0};
                if ((rc = queue_push(q, req, err)) != RW_OK)
                        return rc;
                req = (struct req){REQ_NONCE_PENDING, i, 0, 0, REQ_BLOCK, 0};
                if ((rc = queue_push(q, req, err)) != RW_OK)
                        return rc;
        }
history:
        if (r->role != SNAP_SOURCE || r->part == VIEW_STATE)
                return RW_OK;
        if ((rc = push_word_reads(r, q, REQ_ROOT, r->s->ledger.nbatches, err)) != RW_OK)
                return rc;
        if (ch->anchors_to > ch->anchors_from) {
                uint64_t from = ch->anchors_from + 1, last = ch->anchors_to;
                uint64_t chunk = r->cc->log_chunk_blocks ? r->cc->log_chunk_blocks : 2000;

                while (from <= last) {
                        uint64_t to = last - from + 1 > chunk ? from + chunk - 1 : last;

                        req = (struct req){REQ_LOGS, 0, from, to, REQ_BLOCK, 0};
                        if ((rc = queue_push(q, req, err)) != RW_OK)
                                return rc;
                        from = to + 1;
                }
        }
        return RW_OK;
}

static int read_view(struct endpoint_pool *pool, size_t endpoint, struct view_reads r,
                     struct rwerr *err)
{
        struct snap_view *v = r.v;
        struct multicall_memo *memo = r.memo;
        enum snap_chain_role role = r.role;
        struct snapshot *s = r.s;
        struct req_queue q = {NULL, 0, 0, 0};
        struct endpoint_health h;
        int rc;

        endpoint_pool_health(pool, endpoint, &h);
        (void)snprintf(v->endpoint, sizeof v->endpoint, "%s", h.name);
        v->ok = 0;
        r.at.number = s->chains[role].pinned;
        if ((rc = plan_reads(&r, &q, err)) != RW_OK)
                goto done;
        while (q.next < q.n) {
                struct rpc_batch *b = rpc_batch_new();
                size_t first = q.next, count = 0, reads, i;

                if (b == NULL) {
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for a batch");
                        goto done;
                }
                for (reads = 0; q.next < q.n && count < OBSERVE_BATCH_REQUESTS; q.next++, count++) {
                        const struct req *next = &q.items[q.next];
                        size_t weight = next->kind == REQ_MULTI ? next->count : 1;

                        if (count > 0 && reads + weight > OBSERVE_BATCH_READS)
                                break;
                        reads += weight;
                        if ((rc = add_request(&r, b, &q.items[q.next], err)) != RW_OK)
                                break;
                }
                if (rc == RW_OK)
                        rc = endpoint_pool_send_to(pool, endpoint, b, err);
                /* read_reply may grow the queue: copy each request before reading it */
                for (i = 0; rc == RW_OK && i < count; i++) {
                        struct req req = q.items[first + i];

                        rc = read_reply(&r, b, i, &req, &q, err);
                }
                rpc_batch_free(b);
                if (rc != RW_OK)
                        goto done;
        }
        v->ok = 1;
done:
        if (memo != NULL && memo->retry_ms != 0 && !multicall_usable(&r))
                memcpy(v->multicall_problem, memo->problem, sizeof v->multicall_problem);
        free(q.items);
        if (rc != RW_OK) {
                rwerr_prefix(err, rc, v->endpoint);
                (void)snprintf(v->error, sizeof v->error, "%s", err->msg);
        }
        return rc;
}

int observe_chain_view(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                       enum snap_chain_role role, struct snapshot *s, struct snap_view *v,
                       struct multicall_memo *memo, struct rwerr *err)
{
        struct view_reads r = {cfg, &cfg->chains[role], role, s, v, {NULL, 0}, 0, memo, VIEW_ALL};

        return read_view(pool, endpoint, r, err);
}

int observe_chain_state(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                        enum snap_chain_role role, struct snapshot *s, struct snap_view *v,
                        struct multicall_memo *memo, struct rwerr *err)
{
        struct view_reads r = {cfg, &cfg->chains[role], role, s, v, {NULL, 0}, 0, memo, VIEW_STATE};

        return read_view(pool, endpoint, r, err);
}

int observe_chain_history(struct endpoint_pool *pool, size_t endpoint, const struct config *cfg,
                          struct snapshot *s, struct snap_view *v, struct multicall_memo *memo,
                          struct rwerr *err)
{
        struct view_reads r = {
                cfg,         &cfg->chains[SNAP_SOURCE], SNAP_SOURCE, s, v, {NULL, 0}, 0, memo,
                VIEW_HISTORY};

        return read_view(pool, endpoint, r, err);
}
