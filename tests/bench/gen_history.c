/*
 * gen_history: a years-old bridge on a quiet local stack, for
 * `scripts/bench history` (tests/bench/history_bench.sh).
 *
 * On the stack named by STACK_ENV (scripts/stack-up with STACK_SIMULATOR=0,
 * STACK_BLOCK_TIME=0), it makes a healthy bridge whose history holds
 * BATCHES settled batches of LEAVES withdrawals each, over ASSETS assets,
 * so that `relaywatch validate` says every Tier 1 check holds:
 *
 *   assets    (first run only) the stack's SIGIL and bSIGIL runtime code
 *             copied (anvil_setCode) to ASSETS new addresses on each chain;
 *             each asset's float F (1e18 + i * 1e15 base units) set as the
 *             lockbox's balance and the token's totalSupply on the source
 *             chain, and as the bridged totalSupply (and a holder's balance)
 *             on the execution chain (anvil_setStorageAt, OpenZeppelin
 *             ERC20 slots: _balances 0, _totalSupply 2); in the ledger the
 *             assets, one deposit and one mint of F each, the chains, the
 *             relayer's nonces as the chains have them;
 *   history   per withdrawal: a deposit and its mint (the tokens that left),
 *             a burn, the withdrawal, released; so each asset's locked and
 *             minted totals stay F, the chains' figures. Per batch: the
 *             leaves (OpenZeppelin StandardMerkleTree leaves of
 *             (withdrawalId, token, recipient, amount), chain/merkle.c), the
 *             root, every withdrawal's proof, the relayer's EIP-191
 *             signature of the root (chain/sig.c, RELAYER_PRIVATE_KEY), and
 *             status anchored;
 *   anchors   roots(batchId) of the RootRegistry returns each batch's root:
 *             the mapping's slots (keccak256(abi.encode(batchId, 0))) set
 *             with anvil_setStorageAt in JSON-RPC batches, anchorCount
 *             (slot 1) set to BATCHES. No RootAnchored events are emitted:
 *             the sweep's eth_getLogs finds none, which its checks accept
 *             (DUPLICATE_BATCH compares the events there are; the proof
 *             check reads roots(batchId)).
 *
 * The rows of this run go into blocks mined for it (SPAN_BLOCKS empty
 * blocks on each chain), then TAIL_BLOCKS more are mined and the ledger
 * says it has indexed both chains through the last one, so no history row
 * falls in a cycle's "recent blocks" window.
 *
 * The ledger is filled with COPY as the database's superuser with
 * session_replication_role = replica (foreign keys are not checked row by
 * row; every row is built to satisfy them), in one transaction per run.
 * Run it again with a larger BATCHES to grow the same bridge: batches
 * already there are kept. Writes the [asset NAME] sections of the
 * configuration to ASSETS_CONF. Progress and phase timings go to stderr.
 *
 * Usage: gen_history --stack-env FILE --batches N --assets-conf FILE
 *                    [--assets M (10000)] [--leaves L (10)]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "abi.h"
#include "hex.h"
#include "keccak.h"
#include "merkle.h"
#include "rpc.h"
#include "rwerr.h"
#include "sig.h"
#include "stack_env.h"

#define RPC_CHUNK 500                     /* requests per JSON-RPC batch */
#define COPY_FLUSH (1u << 20)             /* bytes buffered before PQputCopyData */
#define SPAN_BLOCKS 256                   /* empty blocks mined per run for its rows */
#define TAIL_BLOCKS 16                    /* blocks mined after them: no row is "recent" */
#define PROOF_CAP 8                       /* sibling hashes kept per leaf (10 leaves need 4) */
#define LEAVES_MAX 256                    /* leaves per batch */
#define FLOAT_BASE 1000000000000000000ull /* 1e18: every asset's float starts here */
#define UNIT 1000000000000000ull          /* 1e15 */

static double t_start;

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "gen_history: [%7.1f s] ", now_s() - t_start);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "gen_history: error: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static void *xcalloc(size_t n, size_t size, const char *what)
{
        void *p = calloc(n ? n : 1, size);

        if (p == NULL)
                die("out of memory for %zu %s", n, what);
        return p;
}

/* ------------------------------------------------------------ values */

/* An address: `prefix`, then i big-endian in the other 19 bytes. */
static void addr_of(uint8_t prefix, uint64_t i, uint8_t out[20])
{
        int k;

        memset(out, 0, 20);
        out[0] = prefix;
        for (k = 19; k >= 12; k--, i >>= 8)
                out[k] = (uint8_t)(i & 0xff);
}

/* A 32-byte word: v big-endian in the last 8 bytes, `tag` in the first. */
static void word_of(uint8_t tag, uint64_t v, uint8_t out[32])
{
        int k;

        memset(out, 0, 32);
        out[0] = tag;
        for (k = 31; k >= 24; k--, v >>= 8)
                out[k] = (uint8_t)(v & 0xff);
}

static uint64_t asset_float(long a)
{
        return FLOAT_BASE + (uint64_t)a * UNIT;
}

static long asset_of(uint64_t wid, long nassets)
{
        return (long)((wid - 1) % (uint64_t)nassets) + 1;
}

static uint64_t amount_of(uint64_t wid)
{
        return (wid % 1000 + 1) * UNIT;
}

static void hex0x(const uint8_t *in, size_t len, char *out, size_t cap)
{
        if (hex_encode(in, len, out, cap) == 0)
                die("hex buffer of %zu bytes too small for %zu bytes", cap, len);
}

static void parse_hex(const char *what, const char *text, uint8_t *out, size_t len)
{
        struct rwerr err;

        if (text == NULL)
                die("stack.env has no %s", what);
        if (hex_decode(text, strlen(text), out, len, &err) != RW_OK)
                die("%s: %s", what, err.msg);
}

/* ------------------------------------------------------------ JSON-RPC */

/* Requests sent RPC_CHUNK at a time; any error in a reply stops the program. */
struct calls {
        struct rpc_client *c;
        const char *chain;
        struct rpc_batch *b;
        long sent;
};

static void calls_flush(struct calls *k)
{
        struct rwerr err;
        size_t i, n;

        if (k->b == NULL || rpc_batch_count(k->b) == 0)
                return;
        n = rpc_batch_count(k->b);
        if (rpc_batch_send(k->c, k->b, &err) != RW_OK)
                die("%s chain: %s", k->chain, err.msg);
        for (i = 0; i < n; i++) {
                const struct rpc_error *e = rpc_batch_error(k->b, i);

                if (e != NULL)
                        die("%s chain: %s: error %ld: %s", k->chain, rpc_batch_method(k->b, i),
                            e->code, e->message);
        }
        k->sent += (long)n;
        rpc_batch_free(k->b);
        k->b = NULL;
}

static cJSON *strings(int n, ...)
{
        cJSON *arr = cJSON_CreateArray();
        va_list ap;
        int i;

        if (arr == NULL)
                die("out of memory for JSON");
        va_start(ap, n);
        for (i = 0; i < n; i++) {
                cJSON *s = cJSON_CreateString(va_arg(ap, const char *));

                if (s == NULL || !cJSON_AddItemToArray(arr, s))
                        die("out of memory for JSON");
        }
        va_end(ap);
        return arr;
}

static void calls_add(struct calls *k, const char *method, cJSON *params)
{
        struct rwerr err;

        if (k->b == NULL && (k->b = rpc_batch_new()) == NULL)
                die("out of memory for a batch");
        if (rpc_batch_add(k->b, method, params, &err) < 0)
                die("%s: %s", method, err.msg);
        if (rpc_batch_count(k->b) >= RPC_CHUNK)
                calls_flush(k);
}

/* One request, sent at once; its result stays valid until the batch is freed. */
static const cJSON *call1(struct rpc_client *c, const char *chain, const char *method,
                          cJSON *params, struct rpc_batch **b)
{
        struct rwerr err;
        const cJSON *r;

        if ((*b = rpc_batch_new()) == NULL)
                die("out of memory for a batch");
        if (rpc_batch_add(*b, method, params, &err) < 0)
                die("%s: %s", method, err.msg);
        if (rpc_batch_send(c, *b, &err) != RW_OK)
                die("%s chain: %s: %s", chain, method, err.msg);
        if ((r = rpc_batch_result(*b, 0)) == NULL)
                die("%s chain: %s: %s", chain, method,
                    rpc_batch_error(*b, 0) ? rpc_batch_error(*b, 0)->message : "no result");
        return r;
}

static uint64_t call_u64(struct rpc_client *c, const char *chain, const char *method, cJSON *params)
{
        struct rpc_batch *b;
        struct rwerr err;
        uint64_t v;

        (void)call1(c, chain, method, params, &b);
        if (rpc_batch_u64(b, 0, &v, &err) != RW_OK)
                die("%s chain: %s: %s", chain, method, err.msg);
        rpc_batch_free(b);
        return v;
}

/* The 32-byte word an eth_call returns. */
static void call_word(struct rpc_client *c, const char *chain, const uint8_t to[20],
                      const struct abi_call *call, uint8_t out[32])
{
        char addr[ABI_ADDRESS_TEXT_SIZE], data[ABI_CALL_HEX_SIZE];
        struct rpc_block latest = {"latest", 0};
        struct rpc_batch *b;
        struct rwerr err;
        const char *hex;

        abi_address_format(to, addr);
        if (abi_call_hex(call, data, sizeof data) == 0)
                die("cannot encode a call");
        (void)call1(c, chain, "eth_call", rpc_params_eth_call(addr, data, &latest), &b);
        if (rpc_batch_hex(b, 0, &hex, &err) != RW_OK ||
            abi_decode_bytes32(hex, strlen(hex), out, &err) != RW_OK)
                die("%s chain: eth_call to %s: %s", chain, addr, err.msg);
        rpc_batch_free(b);
}

static void set_storage(struct calls *k, const uint8_t addr[20], const uint8_t slot[32],
                        const uint8_t value[32])
{
        char a[HEX_ENCODED_SIZE(20)], s[HEX_ENCODED_SIZE(32)], v[HEX_ENCODED_SIZE(32)];

        hex0x(addr, 20, a, sizeof a);
        hex0x(slot, 32, s, sizeof s);
        hex0x(value, 32, v, sizeof v);
        calls_add(k, "anvil_setStorageAt", strings(3, a, s, v));
}

/* keccak256(abi.encode(key, slot)): a mapping entry's slot (a key is a 32-byte word). */
static void mapping_slot(const uint8_t key[32], uint64_t slot, uint8_t out[32])
{
        uint8_t buf[64];

        memcpy(buf, key, 32);
        word_of(0, slot, buf + 32);
        keccak256(buf, sizeof buf, out);
}

static void address_word(const uint8_t addr[20], uint8_t out[32])
{
        memset(out, 0, 32);
        memcpy(out + 12, addr, 20);
}

/* Mines `n` blocks (anvil_mine) and returns the new head. */
static uint64_t mine(struct rpc_client *c, const char *chain, uint64_t n)
{
        char count[24];
        struct rpc_batch *b;

        (void)snprintf(count, sizeof count, "0x%" PRIx64, n);
        (void)call1(c, chain, "anvil_mine", strings(1, count), &b);
        rpc_batch_free(b);
        return call_u64(c, chain, "eth_blockNumber", NULL);
}

/* ------------------------------------------------------------ PostgreSQL */

static void exec_ok(PGconn *pg, const char *sql)
{
        PGresult *r = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(r);

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                die("%.120s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
}

static long query_long(PGconn *pg, const char *sql)
{
        PGresult *r = PQexec(pg, sql);
        long v;

        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
                die("%.120s: %s", sql, PQresultErrorMessage(r));
        v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
}

static void execf(PGconn *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void execf(PGconn *pg, const char *fmt, ...)
{
        char sql[4096];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(sql, sizeof sql, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof sql)
                die("SQL statement too long");
        exec_ok(pg, sql);
}

/* A COPY ... FROM STDIN in text format, buffered. */
struct copy {
        PGconn *pg;
        const char *table;
        char *buf;
        size_t len, cap;
        long rows;
};

static void copy_begin(struct copy *c, PGconn *pg, const char *table, const char *columns)
{
        char sql[512];
        PGresult *r;

        memset(c, 0, sizeof *c);
        c->pg = pg;
        c->table = table;
        c->cap = COPY_FLUSH + 4096;
        c->buf = xcalloc(c->cap, 1, "COPY bytes");
        (void)snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", table, columns);
        r = PQexec(pg, sql);
        if (PQresultStatus(r) != PGRES_COPY_IN)
                die("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
}

static void copy_flush(struct copy *c)
{
        if (c->len > 0 && PQputCopyData(c->pg, c->buf, (int)c->len) != 1)
                die("COPY %s: %s", c->table, PQerrorMessage(c->pg));
        c->len = 0;
}

static void copy_raw(struct copy *c, const char *s, size_t n)
{
        if (c->len + n > c->cap)
                copy_flush(c);
        if (n > c->cap)
                die("COPY %s: a field of %zu bytes", c->table, n);
        memcpy(c->buf + c->len, s, n);
        c->len += n;
}

/* A field: text, a number, bytea (\\x and hex), then a tab or the row's end. */
static void copy_text(struct copy *c, const char *s)
{
        copy_raw(c, s, strlen(s));
        copy_raw(c, "\t", 1);
}

static void copy_u64(struct copy *c, uint64_t v)
{
        char num[24];

        (void)snprintf(num, sizeof num, "%" PRIu64, v);
        copy_text(c, num);
}

static void copy_bytes(struct copy *c, const uint8_t *b, size_t n)
{
        static const char digits[] = "0123456789abcdef";
        char tmp[3 + 2 * 256];
        size_t i;

        if (n > 256)
                die("COPY %s: a bytea of %zu bytes", c->table, n);
        tmp[0] = '\\';
        tmp[1] = '\\';
        tmp[2] = 'x';
        for (i = 0; i < n; i++) {
                tmp[3 + 2 * i] = digits[b[i] >> 4];
                tmp[4 + 2 * i] = digits[b[i] & 15];
        }
        copy_raw(c, tmp, 3 + 2 * n);
        copy_raw(c, "\t", 1);
}

static void copy_end_row(struct copy *c)
{
        c->buf[c->len - 1] = '\n'; /* the last field's tab */
        c->rows++;
        if (c->len >= COPY_FLUSH)
                copy_flush(c);
}

static void copy_end(struct copy *c)
{
        PGresult *r;

        copy_flush(c);
        if (PQputCopyEnd(c->pg, NULL) != 1)
                die("COPY %s: %s", c->table, PQerrorMessage(c->pg));
        while ((r = PQgetResult(c->pg)) != NULL) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK)
                        die("COPY %s: %s", c->table, PQresultErrorMessage(r));
                PQclear(r);
        }
        free(c->buf);
        note("  %s: %ld rows", c->table, c->rows);
}

/* ------------------------------------------------------------ the bridge */

struct gen {
        struct stack_env *env;
        PGconn *pg;
        struct rpc_client *src, *exe;
        uint64_t src_chain, exe_chain;
        uint8_t lockbox[20], registry[20], relayer[20], user[20], sigil[20], bsigil[20];
        uint8_t seckey[32];
        long nassets, leaves, batches;
        int *asset_id; /* the ledger's asset_id of asset 1..nassets */
};

static const char *env_get(const struct gen *g, const char *key)
{
        const char *v = stack_env_get(g->env, key);

        if (v == NULL || *v == '\0')
                die("stack.env has no %s", key);
        return v;
}

static void asset_name(long a, char out[24])
{
        (void)snprintf(out, 24, "H%05ld", a);
}

static void load_asset_ids(struct gen *g)
{
        PGresult *r = PQexec(g->pg, "SELECT asset_id, symbol FROM relayer.assets");
        int i, n;

        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                die("reading relayer.assets: %s", PQresultErrorMessage(r));
        n = PQntuples(r);
        if (n != g->nassets)
                die("the ledger holds %d assets, not %ld (this bridge was made with another "
                    "--assets: start a new stack)",
                    n, g->nassets);
        g->asset_id = xcalloc((size_t)g->nassets + 1, sizeof *g->asset_id, "asset ids");
        for (i = 0; i < n; i++) {
                const char *sym = PQgetvalue(r, i, 1);
                long a = sym[0] == 'H' ? strtol(sym + 1, NULL, 10) : 0;

                if (a < 1 || a > g->nassets)
                        die("relayer.assets holds %s, which this generator did not make", sym);
                g->asset_id[a] = (int)strtol(PQgetvalue(r, i, 0), NULL, 10);
        }
        PQclear(r);
}

static void code_of(struct gen *g, struct rpc_client *c, const char *chain, const uint8_t a[20],
                    char **out)
{
        char addr[HEX_ENCODED_SIZE(20)];
        struct rpc_block latest = {"latest", 0};
        const cJSON *r;
        struct rpc_batch *b;

        (void)g;
        hex0x(a, 20, addr, sizeof addr);
        r = call1(c, chain, "eth_getCode", rpc_params_address_at(addr, &latest), &b);
        if (!cJSON_IsString(r) || strlen(r->valuestring) < 100)
                die("%s chain: %s has no code", chain, addr);
        if ((*out = strdup(r->valuestring)) == NULL)
                die("out of memory for code");
        rpc_batch_free(b);
}

/*
 * The assets on both chains (code and balances) and in the ledger (the
 * assets, the float's deposit and mint), and the ledger's chains, nonces
 * and progress rows. Rows at blocks src_block and exe_block.
 */
static void make_assets(struct gen *g, uint64_t src_block, uint64_t exe_block)
{
        struct calls ks = {g->src, "source", NULL, 0}, ke = {g->exe, "execution", NULL, 0};
        uint8_t total_slot[32], lockbox_slot[32], holder_slot[32], w[32], tok[20], btok[20];
        char *src_code, *exe_code, a_hex[HEX_ENCODED_SIZE(20)];
        char relayer_hex[HEX_ENCODED_SIZE(20)];
        struct rpc_block latest = {"latest", 0};
        uint64_t src_nonce, exe_nonce;
        struct copy c;
        long a;

        note("assets: %ld on each chain (code and balances) and in the ledger", g->nassets);
        code_of(g, g->src, "source", g->sigil, &src_code);
        code_of(g, g->exe, "execution", g->bsigil, &exe_code);
        word_of(0, 2, total_slot);
        address_word(g->lockbox, w);
        mapping_slot(w, 0, lockbox_slot);
        address_word(g->user, w);
        mapping_slot(w, 0, holder_slot);
        for (a = 1; a <= g->nassets; a++) {
                word_of(0, asset_float(a), w);
                addr_of(0x5a, (uint64_t)a, tok);
                hex0x(tok, 20, a_hex, sizeof a_hex);
                calls_add(&ks, "anvil_setCode", strings(2, a_hex, src_code));
                set_storage(&ks, tok, total_slot, w);
                set_storage(&ks, tok, lockbox_slot, w);
                addr_of(0xba, (uint64_t)a, btok);
                hex0x(btok, 20, a_hex, sizeof a_hex);
                calls_add(&ke, "anvil_setCode", strings(2, a_hex, exe_code));
                set_storage(&ke, btok, total_slot, w);
                set_storage(&ke, btok, holder_slot, w);
        }
        calls_flush(&ks);
        calls_flush(&ke);
        free(src_code);
        free(exe_code);
        note("  %ld + %ld anvil calls", ks.sent, ke.sent);

        hex0x(g->relayer, 20, relayer_hex, sizeof relayer_hex);
        src_nonce = call_u64(g->src, "source", "eth_getTransactionCount",
                             rpc_params_address_at(relayer_hex, &latest));
        exe_nonce = call_u64(g->exe, "execution", "eth_getTransactionCount",
                             rpc_params_address_at(relayer_hex, &latest));
        exec_ok(g->pg, "BEGIN");
        execf(g->pg,
              "INSERT INTO relayer.chains (chain_id, role) VALUES (%" PRIu64 ", 'source'), "
              "(%" PRIu64 ", 'execution')",
              g->src_chain, g->exe_chain);
        execf(g->pg,
              "INSERT INTO relayer.chain_progress (chain_id, indexed_through) VALUES "
              "(%" PRIu64 ", 0), (%" PRIu64 ", 0)",
              g->src_chain, g->exe_chain);
        execf(g->pg,
              "INSERT INTO relayer.nonce_state (chain_id, account, next_nonce) VALUES "
              "(%" PRIu64 ", decode('%s', 'hex'), %" PRIu64 "), "
              "(%" PRIu64 ", decode('%s', 'hex'), %" PRIu64 ")",
              g->src_chain, relayer_hex + 2, src_nonce, g->exe_chain, relayer_hex + 2, exe_nonce);
        copy_begin(&c, g->pg, "relayer.assets", "symbol, decimals, source_token, bridged_token");
        for (a = 1; a <= g->nassets; a++) {
                char name[24];

                asset_name(a, name);
                addr_of(0x5a, (uint64_t)a, tok);
                addr_of(0xba, (uint64_t)a, btok);
                copy_text(&c, name);
                copy_text(&c, "18");
                copy_bytes(&c, tok, 20);
                copy_bytes(&c, btok, 20);
                copy_end_row(&c);
        }
        copy_end(&c);
        load_asset_ids(g);
        /* The floats: deposit nonces 1..nassets (a withdrawal's deposit is nassets + id). */
        copy_begin(&c, g->pg, "relayer.deposits",
                   "asset_id, deposit_nonce, depositor, recipient, amount, tx_hash, log_index, "
                   "block_number");
        for (a = 1; a <= g->nassets; a++) {
                word_of(0xd0, (uint64_t)a, w);
                copy_u64(&c, (uint64_t)g->asset_id[a]);
                copy_u64(&c, (uint64_t)a);
                copy_bytes(&c, g->user, 20);
                copy_bytes(&c, g->user, 20);
                copy_u64(&c, asset_float(a));
                copy_bytes(&c, w, 32);
                copy_text(&c, "0");
                copy_u64(&c, src_block);
                copy_end_row(&c);
        }
        copy_end(&c);
        execf(g->pg,
              "INSERT INTO relayer.mints (deposit_id, asset_id, recipient, amount, tx_hash, "
              "block_number) SELECT d.deposit_id, d.asset_id, d.recipient, d.amount, "
              "sha256(d.tx_hash), %" PRIu64 " FROM relayer.deposits d "
              "WHERE d.deposit_nonce <= %ld",
              exe_block, g->nassets);
        exec_ok(g->pg, "COMMIT");
}

/* One batch's leaves, root, proofs and signature. */
struct batch_out {
        uint8_t root[32];
        uint8_t sig[SIG_BYTES];
};

struct leaf_out {
        uint8_t hash[32];
        uint8_t proof[PROOF_CAP][32];
        uint8_t proof_len;
};

static void build_batch(const struct gen *g, uint64_t batch, struct batch_out *bo,
                        struct leaf_out *lo)
{
        uint8_t hashes[LEAVES_MAX][32], id[32], amount[32], tok[20], rcpt[20];
        struct rwerr err;
        long j;

        for (j = 0; j < g->leaves; j++) {
                uint64_t wid = (batch - 1) * (uint64_t)g->leaves + (uint64_t)j + 1;

                word_of(0, wid, id);
                word_of(0, amount_of(wid), amount);
                addr_of(0x5a, (uint64_t)asset_of(wid, g->nassets), tok);
                addr_of(0xcc, wid, rcpt);
                merkle_withdrawal_leaf(id, tok, rcpt, amount, hashes[j]);
                memcpy(lo[j].hash, hashes[j], 32);
        }
        if (merkle_root((const uint8_t(*)[32])hashes, (size_t)g->leaves, bo->root, &err) != RW_OK)
                die("batch %" PRIu64 ": %s", batch, err.msg);
        for (j = 0; j < g->leaves; j++) {
                size_t len = 0;

                if (merkle_proof((const uint8_t(*)[32])hashes, (size_t)g->leaves, (size_t)j,
                                 lo[j].proof, PROOF_CAP, &len, &err) != RW_OK)
                        die("batch %" PRIu64 " leaf %ld: %s", batch, j, err.msg);
                if (!merkle_verify(lo[j].hash, (const uint8_t(*)[32])lo[j].proof, len, bo->root))
                        die("batch %" PRIu64 " leaf %ld: its proof does not verify", batch, j);
                lo[j].proof_len = (uint8_t)len;
        }
        if (sig_sign_personal(g->seckey, bo->root, 32, bo->sig, &err) != RW_OK)
                die("signing batch %" PRIu64 ": %s", batch, err.msg);
}

/* Batches first..last: computed, anchored on chain, written to the ledger. */
static void make_history(struct gen *g, uint64_t first, uint64_t last, uint64_t src_lo,
                         uint64_t exe_lo, uint64_t span)
{
        size_t nb = (size_t)(last - first + 1), nl = nb * (size_t)g->leaves, i;
        struct batch_out *bo = xcalloc(nb, sizeof *bo, "batches");
        struct leaf_out *lo = xcalloc(nl, sizeof *lo, "leaves");
        struct calls ks = {g->src, "source", NULL, 0};
        uint64_t wid_lo = (first - 1) * (uint64_t)g->leaves + 1;
        uint64_t wid_hi = last * (uint64_t)g->leaves;
        uint8_t w[32], slot[32], rcpt[20];
        char check[HEX_ENCODED_SIZE(32)];
        struct abi_call call;
        struct copy c;
        uint64_t b, wid;

        note("history: batches %" PRIu64 "..%" PRIu64 " (%zu withdrawals): leaves, roots, "
             "proofs, signatures",
             first, last, nl);
        for (i = 0; i < nb; i++)
                build_batch(g, first + i, &bo[i], &lo[i * (size_t)g->leaves]);

        note("anchors: roots(batchId) of the RootRegistry, %zu slots", nb);
        for (i = 0; i < nb; i++) {
                word_of(0, first + i, w);
                mapping_slot(w, 0, slot);
                set_storage(&ks, g->registry, slot, bo[i].root);
        }
        word_of(0, 1, slot);
        word_of(0, last, w);
        set_storage(&ks, g->registry, slot, w); /* anchorCount */
        calls_flush(&ks);
        note("  %ld anvil calls", ks.sent);

        note("ledger: COPY");
        exec_ok(g->pg, "BEGIN");
        copy_begin(&c, g->pg, "relayer.deposits",
                   "asset_id, deposit_nonce, depositor, recipient, amount, tx_hash, log_index, "
                   "block_number");
        for (wid = wid_lo; wid <= wid_hi; wid++) {
                word_of(0xd1, wid, w);
                copy_u64(&c, (uint64_t)g->asset_id[asset_of(wid, g->nassets)]);
                copy_u64(&c, (uint64_t)g->nassets + wid);
                copy_bytes(&c, g->user, 20);
                copy_bytes(&c, g->user, 20);
                copy_u64(&c, amount_of(wid));
                copy_bytes(&c, w, 32);
                copy_text(&c, "0");
                copy_u64(&c, src_lo + wid % span);
                copy_end_row(&c);
        }
        copy_end(&c);
        execf(g->pg,
              "INSERT INTO relayer.mints (deposit_id, asset_id, recipient, amount, tx_hash, "
              "block_number) SELECT d.deposit_id, d.asset_id, d.recipient, d.amount, "
              "sha256(d.tx_hash), %" PRIu64 " + (d.deposit_nonce::bigint - %ld) %% %" PRIu64
              " FROM relayer.deposits d WHERE d.deposit_nonce >= %" PRIu64
              " AND d.deposit_nonce <= %" PRIu64,
              exe_lo, g->nassets, span, (uint64_t)g->nassets + wid_lo,
              (uint64_t)g->nassets + wid_hi);
        note("  relayer.mints: from the deposits");
        copy_begin(&c, g->pg, "relayer.burns",
                   "asset_id, burn_nonce, burner, recipient, amount, tx_hash, log_index, "
                   "block_number");
        for (wid = wid_lo; wid <= wid_hi; wid++) {
                word_of(0xb0, wid, w);
                addr_of(0xcc, wid, rcpt);
                copy_u64(&c, (uint64_t)g->asset_id[asset_of(wid, g->nassets)]);
                copy_u64(&c, wid);
                copy_bytes(&c, g->user, 20);
                copy_bytes(&c, rcpt, 20);
                copy_u64(&c, amount_of(wid));
                copy_bytes(&c, w, 32);
                copy_text(&c, "0");
                copy_u64(&c, exe_lo + (wid + 1) % span);
                copy_end_row(&c);
        }
        copy_end(&c);
        copy_begin(&c, g->pg, "relayer.settlement_batch",
                   "batch_number, merkle_root, leaf_count, status, anchor_tx_hash, "
                   "anchor_block, relayer_signature, anchored_at");
        for (i = 0; i < nb; i++) {
                b = first + i;
                word_of(0xa0, b, w);
                copy_u64(&c, b);
                copy_bytes(&c, bo[i].root, 32);
                copy_u64(&c, (uint64_t)g->leaves);
                copy_text(&c, "anchored");
                copy_bytes(&c, w, 32);
                copy_u64(&c, src_lo + b % span);
                copy_bytes(&c, bo[i].sig, SIG_BYTES);
                copy_text(&c, "now");
                copy_end_row(&c);
        }
        copy_end(&c);
        /* Released in a source block at or after the batch's anchor block. */
        execf(g->pg,
              "INSERT INTO relayer.withdrawals (withdrawal_id, burn_id, asset_id, recipient, "
              "amount, status, batch_number, release_tx_hash, release_block, released_at) "
              "SELECT b.burn_nonce::bigint, b.burn_id, b.asset_id, b.recipient, b.amount, "
              "'released', (b.burn_nonce::bigint - 1) / %ld + 1, sha256(b.tx_hash), "
              "%" PRIu64 " + ((b.burn_nonce::bigint - 1) / %ld + 1) %% %" PRIu64 ", now() "
              "FROM relayer.burns b WHERE b.burn_nonce >= %" PRIu64 " AND b.burn_nonce <= %" PRIu64,
              g->leaves, src_lo, g->leaves, span, wid_lo, wid_hi);
        note("  relayer.withdrawals: from the burns");
        copy_begin(&c, g->pg, "relayer.batch_leaves",
                   "batch_number, leaf_index, withdrawal_id, leaf_hash");
        for (i = 0; i < nl; i++) {
                copy_u64(&c, first + i / (size_t)g->leaves);
                copy_u64(&c, i % (size_t)g->leaves);
                copy_u64(&c, wid_lo + i);
                copy_bytes(&c, lo[i].hash, 32);
                copy_end_row(&c);
        }
        copy_end(&c);
        copy_begin(&c, g->pg, "relayer.withdrawal_proofs", "withdrawal_id, batch_number, proof");
        for (i = 0; i < nl; i++) {
                copy_u64(&c, wid_lo + i);
                copy_u64(&c, first + i / (size_t)g->leaves);
                copy_bytes(&c, &lo[i].proof[0][0], 32 * (size_t)lo[i].proof_len);
                copy_end_row(&c);
        }
        copy_end(&c);
        exec_ok(g->pg, "COMMIT");

        /* What the proof check will read: roots(first) and roots(last). */
        for (b = first;; b = last) {
                uint8_t got[32];

                abi_call_init(&call, "roots(uint256)");
                if (abi_call_add_u64(&call, b) != RW_OK)
                        die("cannot encode roots(%" PRIu64 ")", b);
                call_word(g->src, "source", g->registry, &call, got);
                if (memcmp(got, bo[b - first].root, 32) != 0) {
                        hex0x(got, 32, check, sizeof check);
                        die("roots(%" PRIu64 ") of the RootRegistry is %s, not the batch's root "
                            "(is roots no longer at slot 0?)",
                            b, check);
                }
                if (b == last)
                        break;
        }
        note("  checked: roots(%" PRIu64 ") and roots(%" PRIu64 ") on chain = the ledger's", first,
             last);
        free(bo);
        free(lo);
}

static void write_assets_conf(const struct gen *g, const char *path)
{
        FILE *f = fopen(path, "w");
        char tok[ABI_ADDRESS_TEXT_SIZE], btok[ABI_ADDRESS_TEXT_SIZE], name[24];
        uint8_t a20[20];
        long a;

        if (f == NULL)
                die("cannot write %s", path);
        for (a = 1; a <= g->nassets; a++) {
                asset_name(a, name);
                addr_of(0x5a, (uint64_t)a, a20);
                abi_address_format(a20, tok);
                addr_of(0xba, (uint64_t)a, a20);
                abi_address_format(a20, btok);
                fprintf(f, "[asset %s]\nsource_token = %s\nbridged_token = %s\ndecimals = 18\n\n",
                        name, tok, btok);
        }
        if (fclose(f) != 0)
                die("cannot write %s", path);
}

static void usage(void)
{
        fprintf(stderr, "usage: gen_history --stack-env FILE --batches N --assets-conf FILE "
                        "[--assets M] [--leaves L]\n");
        exit(64);
}

static long number_arg(const char *opt, const char *v, long lo, long hi)
{
        char *end;
        long n = strtol(v, &end, 10);

        if (*v == '\0' || *end != '\0' || n < lo || n > hi)
                die("%s %s: a whole number from %ld to %ld", opt, v, lo, hi);
        return n;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"stack-env", required_argument, NULL, 'e'},
                {"batches", required_argument, NULL, 'b'},
                {"assets", required_argument, NULL, 'a'},
                {"leaves", required_argument, NULL, 'l'},
                {"assets-conf", required_argument, NULL, 'c'},
                {NULL, 0, NULL, 0},
        };
        const char *env_path = NULL, *conf_path = NULL;
        struct gen g = {0};
        struct rpc_config rc = {0};
        struct rwerr err;
        uint8_t addr[20];
        uint64_t src_lo, exe_lo, src_head, exe_head;
        long have_batches, have_assets;
        int o;

        t_start = now_s();
        g.nassets = 10000;
        g.leaves = 10;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'e':
                        env_path = optarg;
                        break;
                case 'b':
                        g.batches = number_arg("--batches", optarg, 1, 100000000);
                        break;
                case 'a':
                        g.nassets = number_arg("--assets", optarg, 1, 1000000);
                        break;
                case 'l':
                        g.leaves = number_arg("--leaves", optarg, 1, LEAVES_MAX);
                        break;
                case 'c':
                        conf_path = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (env_path == NULL || conf_path == NULL || g.batches == 0 || optind != argc)
                usage();
        if ((g.env = stack_env_load(env_path, &err)) == NULL)
                die("%s: %s", env_path, err.msg);
        parse_hex("LOCKBOX_ADDRESS", env_get(&g, "LOCKBOX_ADDRESS"), g.lockbox, 20);
        parse_hex("ROOT_REGISTRY_ADDRESS", env_get(&g, "ROOT_REGISTRY_ADDRESS"), g.registry, 20);
        parse_hex("RELAYER_ADDRESS", env_get(&g, "RELAYER_ADDRESS"), g.relayer, 20);
        parse_hex("SIGIL_ADDRESS", env_get(&g, "SIGIL_ADDRESS"), g.sigil, 20);
        parse_hex("BRIDGED_SIGIL_ADDRESS", env_get(&g, "BRIDGED_SIGIL_ADDRESS"), g.bsigil, 20);
        parse_hex("RELAYER_PRIVATE_KEY", env_get(&g, "RELAYER_PRIVATE_KEY"), g.seckey, 32);
        {
                const char *users = env_get(&g, "USER_ADDRESSES");
                const char *comma = strchr(users, ',');
                size_t len = comma ? (size_t)(comma - users) : strlen(users);

                if (hex_decode(users, len, g.user, 20, &err) != RW_OK)
                        die("USER_ADDRESSES: %s", err.msg);
        }
        g.src_chain = strtoull(env_get(&g, "SOURCE_CHAIN_ID"), NULL, 10);
        g.exe_chain = strtoull(env_get(&g, "EXEC_CHAIN_ID"), NULL, 10);
        if (sig_address_from_seckey(g.seckey, addr, &err) != RW_OK)
                die("RELAYER_PRIVATE_KEY: %s", err.msg);
        if (memcmp(addr, g.relayer, 20) != 0)
                die("RELAYER_PRIVATE_KEY is not the key of RELAYER_ADDRESS");

        rc.timeout_ms = 600000;
        rc.max_reply_bytes = (size_t)64 << 20;
        rc.url = env_get(&g, "SOURCE_RPC_URL");
        rc.name = "source";
        if ((g.src = rpc_client_new(&rc, &err)) == NULL ||
            rpc_client_verify_chain(g.src, g.src_chain, &err) != RW_OK)
                die("source chain: %s", err.msg);
        rc.url = env_get(&g, "EXEC_RPC_URL");
        rc.name = "execution";
        if ((g.exe = rpc_client_new(&rc, &err)) == NULL ||
            rpc_client_verify_chain(g.exe, g.exe_chain, &err) != RW_OK)
                die("execution chain: %s", err.msg);

        g.pg = PQconnectdb(env_get(&g, "DATABASE_ADMIN_URL"));
        if (PQstatus(g.pg) != CONNECTION_OK)
                die("ledger database: %s", PQerrorMessage(g.pg));
        exec_ok(g.pg, "SET session_replication_role = replica");
        exec_ok(g.pg, "SET synchronous_commit = off");
        have_assets = query_long(g.pg, "SELECT count(*) FROM relayer.assets");
        have_batches = query_long(
                g.pg, "SELECT coalesce(max(batch_number), 0) FROM relayer.settlement_batch");
        if (have_batches >= g.batches)
                die("the ledger holds %ld batches already: ask for more (sizes must grow)",
                    have_batches);
        if (have_batches > 0 && query_long(g.pg, "SELECT max(leaf_count) FROM "
                                                 "relayer.settlement_batch") != g.leaves)
                die("the ledger's batches have another --leaves: start a new stack");

        /* This run's blocks: SPAN_BLOCKS for its rows, then TAIL_BLOCKS. */
        src_lo = mine(g.src, "source", SPAN_BLOCKS) - SPAN_BLOCKS + 1;
        exe_lo = mine(g.exe, "execution", SPAN_BLOCKS) - SPAN_BLOCKS + 1;
        if (have_assets == 0)
                make_assets(&g, src_lo, exe_lo);
        else
                load_asset_ids(&g);
        make_history(&g, (uint64_t)have_batches + 1, (uint64_t)g.batches, src_lo, exe_lo,
                     SPAN_BLOCKS);
        src_head = mine(g.src, "source", TAIL_BLOCKS);
        exe_head = mine(g.exe, "execution", TAIL_BLOCKS);
        execf(g.pg,
              "UPDATE relayer.chain_progress SET indexed_through = CASE chain_id WHEN %" PRIu64
              " THEN %" PRIu64 " ELSE %" PRIu64 " END, updated_at = now()",
              g.src_chain, src_head, exe_head);
        note("analyze");
        exec_ok(g.pg, "ANALYZE relayer.deposits, relayer.mints, relayer.burns, "
                      "relayer.withdrawals, relayer.settlement_batch, relayer.batch_leaves, "
                      "relayer.withdrawal_proofs, relayer.assets");
        write_assets_conf(&g, conf_path);
        note("done: %ld batches, %ld withdrawals, %ld assets; indexed through source block "
             "%" PRIu64 ", execution block %" PRIu64,
             g.batches, g.batches * g.leaves, g.nassets, src_head, exe_head);
        free(g.asset_id);
        PQfinish(g.pg);
        rpc_client_free(g.src);
        rpc_client_free(g.exe);
        stack_env_free(g.env);
        return 0;
}
