/*
 * relayer_sim: a lock-and-mint relayer for the local stack.
 *
 * Drives realistic traffic through the bridge and records every step in the
 * relayer ledger (schema `relayer`) exactly as a relayer would, so the tests
 * and the demo have something live to watch. Each cycle:
 *
 *   resume     settle operations a previous run left open (crash recovery)
 *   deposit    maybe a user locks 1-50 SIGIL in the Lockbox
 *   index      Locked events up to head - confirmations -> deposits
 *   mint       every unminted deposit -> BridgedToken.mint by the relayer
 *   burn       maybe a user burns part of their bSIGIL
 *   index      Burned events up to head - confirmations -> burns, withdrawals
 *   batch      enough waiting withdrawals (or old enough) -> a signed merkle batch
 *   anchor     each unanchored batch -> RootRegistry.anchor
 *   release    each withdrawal of an anchored batch -> Lockbox.release
 *   timing     one relayer.cycle_timings row
 *
 * With --control the relayer obeys relaywatch's control stream through the
 * reference consumer (tests/consumer/control_consumer.h): before each
 * relayer step it polls the stream, and while it may not run (a signed
 * HALT, Redis gone, or with --require-heartbeat no fresh heartbeat) it skips
 * every relayer step (users go on depositing and burning: they are not the
 * relayer) and XACKs the HALT, since nothing of its own is in flight between
 * steps. The pause between cycles waits on the stream itself, so a HALT is
 * seen at once even when idle.
 *
 * The order is what keeps the ledger honest at every block it claims as
 * indexed: a mint or release is recorded right after its receipt, before
 * the next indexing step can move indexed_through past its block, and a
 * failed relayer step skips the rest of the cycle's relayer steps.
 *
 * Transactions go through anvil's unlocked accounts (eth_sendTransaction);
 * the relayer's key only signs batch roots. Logs: one JSON object per line
 * on stderr. SIGTERM/SIGINT finish the current step and exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "abi.h"
#include "conninfo.h"
#include "control_consumer.h"
#include "hex.h"
#include "rpc.h"
#include "rwerr.h"
#include "sig.h"
#include "sim_batch.h"
#include "sim_chain.h"
#include "sim_ledger.h"
#include "stack_env.h"
#include "u256.h"

#define SIM_EXIT_OK 0
#define SIM_EXIT_FAILURE 1
#define SIM_EXIT_USAGE 64

#define SIM_USERS_MAX 16
#define SIM_RECEIPT_TIMEOUT_MS 60000L
#define SIM_LOG_RANGE 2000      /* blocks per eth_getLogs */
#define SIM_WORK_MAX 256        /* mints, anchors, releases per cycle */
#define SIM_UNBATCHED_MAX 4096  /* withdrawals read for batching per cycle */
#define SIM_BATCH_AGE_CYCLES 10 /* a partial batch is cut after this many cycles */
#define SIM_DEPOSIT_PERCENT 70  /* chance of a user deposit per cycle */
#define SIM_BURN_PERCENT 50     /* chance of a user burn per cycle */
#define SIM_LOG_LINE_MAX 2048
#define SIM_CONTROL_KEYS_MAX 8             /* public keys in each CONTROL_*_PUBKEYS list */
#define SIM_CONTROL_BLOCK_MAX_MS 250       /* a stop request waits at most this long in the pause */
#define SIM_CONTROL_CONSUMER "relayer_sim" /* stable: a restart re-reads its own pending HALT */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
        (void)sig;
        stop_requested = 1;
}

struct sim_options {
        const char *stack_env;
        uint64_t seed;
        uint64_t interval_ms;
        uint64_t confirmations;
        uint64_t batch_size;
        uint64_t max_cycles;
        bool users;             /* user deposits and burns */
        bool relay;             /* the relayer's steps */
        bool control;           /* obey the control stream */
        bool require_heartbeat; /* and fail safe without a fresh watchdog heartbeat */
};

struct sim_user {
        uint8_t addr[ABI_ADDRESS_BYTES];
        bool src_pending; /* a transaction on the source chain not yet seen mined */
        uint8_t src_tx[SIM_HASH_BYTES];
        bool exec_pending;
        uint8_t exec_tx[SIM_HASH_BYTES];
};

struct sim_counters {
        uint64_t deposits, mints, burns, batches, anchors, releases, errors, halts;
};

struct sim {
        struct sim_options opt;
        struct stack_env *env;
        struct sim_chain *src;
        struct sim_chain *exec;
        struct sim_ledger *ledger;
        bool settled; /* the resume step succeeded last time it ran: indexing may go on while halted */
        uint8_t sigil[ABI_ADDRESS_BYTES];
        uint8_t lockbox[ABI_ADDRESS_BYTES];
        uint8_t registry[ABI_ADDRESS_BYTES];
        uint8_t bridged[ABI_ADDRESS_BYTES];
        uint8_t relayer[ABI_ADDRESS_BYTES];
        struct sim_user users[SIM_USERS_MAX];
        size_t nusers;
        unsigned decimals;
        uint64_t source_ready_block;
        uint64_t exec_ready_block;
        uint8_t seckey[SIG_SECKEY_BYTES];
        int asset_id;
        uint64_t rng;
        uint64_t cycle;
        bool waiting; /* withdrawals wait for a batch since wait_since */
        uint64_t wait_oldest;
        uint64_t wait_since;
        struct control_consumer *control; /* --control */
        bool halted;                      /* --control: the last poll said it may not run */
        struct sim_counters n;
};

/* ---------------------------------------------------------------- logging */

/* One JSON log line, built in place; a line too long is cut and still closed. */
struct logline {
        char buf[SIM_LOG_LINE_MAX];
        size_t len;
        bool full;
};

static void log_raw(struct logline *l, const char *s, size_t n)
{
        /* Room is kept for the closing "}\n". */
        if (l->full || l->len + n > sizeof l->buf - 3) {
                l->full = true;
                return;
        }
        memcpy(l->buf + l->len, s, n);
        l->len += n;
}

static void log_text(struct logline *l, const char *s)
{
        log_raw(l, s, strlen(s));
}

static void log_quoted(struct logline *l, const char *s)
{
        char esc[8];

        log_raw(l, "\"", 1);
        for (; *s != '\0'; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)c;
                        log_raw(l, esc, 2);
                } else if (c < 0x20) {
                        (void)snprintf(esc, sizeof esc, "\\u%04x", c);
                        log_text(l, esc);
                } else {
                        log_raw(l, s, 1);
                }
        }
        log_raw(l, "\"", 1);
}

static void log_key(struct logline *l, const char *key)
{
        log_raw(l, ",", 1);
        log_quoted(l, key);
        log_raw(l, ":", 1);
}

static void log_str(struct logline *l, const char *key, const char *value)
{
        log_key(l, key);
        log_quoted(l, value);
}

static void log_u64(struct logline *l, const char *key, uint64_t v)
{
        char num[24];

        (void)snprintf(num, sizeof num, "%llu", (unsigned long long)v);
        log_key(l, key);
        log_text(l, num);
}

static void log_bool(struct logline *l, const char *key, bool v)
{
        log_key(l, key);
        log_text(l, v ? "true" : "false");
}

static void log_hex(struct logline *l, const char *key, const uint8_t *b, size_t n)
{
        char text[HEX_ENCODED_SIZE(SIG_BYTES)];

        if (hex_encode(b, n, text, sizeof text) > 0)
                log_str(l, key, text);
}

/* An amount in base units, as a decimal string (exact, unlike a JSON number). */
static void log_amount(struct logline *l, const char *key, const struct u256 *v)
{
        char text[U256_DEC_SIZE];

        (void)u256_format_dec(v, text, sizeof text);
        log_str(l, key, text);
}

#define SIM_TS_SIZE 48

static void now_iso(char out[SIM_TS_SIZE])
{
        struct timespec ts;
        struct tm tm;
        char base[24];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        (void)snprintf(out, SIM_TS_SIZE, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

static void log_begin(struct logline *l, const struct sim *s, const char *level, const char *event)
{
        char ts[SIM_TS_SIZE];

        now_iso(ts);
        l->len = 0;
        l->full = false;
        log_text(l, "{\"ts\":");
        log_quoted(l, ts);
        log_str(l, "level", level);
        log_str(l, "event", event);
        if (s != NULL && s->cycle > 0)
                log_u64(l, "cycle", s->cycle);
}

static void log_end(struct logline *l)
{
        /* log_raw kept room for this even when the line was cut. */
        memcpy(l->buf + l->len, "}\n", 2);
        l->len += 2;
        (void)fwrite(l->buf, 1, l->len, stderr);
        (void)fflush(stderr);
}

static void log_error(struct sim *s, const char *step, const struct rwerr *err)
{
        struct logline l;

        s->n.errors++;
        log_begin(&l, s, "error", "error");
        log_str(&l, "step", step);
        log_str(&l, "message", err->msg);
        log_end(&l);
}

/* ---------------------------------------------------------------- helpers */

/* splitmix64: small, seedable, good enough to pick users and amounts. */
static uint64_t rng_next(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* A number in [0, n). */
static uint64_t rng_below(uint64_t *state, uint64_t n)
{
        return rng_next(state) % n;
}

static uint64_t ms_since(const struct timespec *t0)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (uint64_t)((now.tv_sec - t0->tv_sec) * 1000L +
                          (now.tv_nsec - t0->tv_nsec) / 1000000L);
}

static int parse_u64(const char *s, uint64_t *out)
{
        char *end = NULL;
        unsigned long long v;

        if (s == NULL || s[0] < '0' || s[0] > '9')
                return RW_ERR_INVALID;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return RW_ERR_INVALID;
        *out = (uint64_t)v;
        return RW_OK;
}

/* *out = m * 10^e; RW_ERR_RANGE when it does not fit. */
static int scaled_pow10(uint64_t m, unsigned e, struct u256 *out)
{
        struct u256 v = u256_from_u64(m);
        unsigned i;

        for (i = 0; i < e; i++) {
                if (u256_mul_u64(&v, 10, &v) != RW_OK)
                        return RW_ERR_RANGE;
        }
        *out = v;
        return RW_OK;
}

static struct sim_chain *chain_of(struct sim *s, uint64_t chain_id)
{
        if (chain_id == sim_chain_id(s->src))
                return s->src;
        if (chain_id == sim_chain_id(s->exec))
                return s->exec;
        return NULL;
}

/* ---------------------------------------------------------------- operations */

/*
 * Sends one relayer transaction as a relayer does: nonce from nonce_state,
 * eth_estimateGas, an operation row 'pending', the transaction with that
 * nonce and 1.2 x the estimate, then the row 'sent' and next_nonce bumped
 * together. Returns 1 when sent (*op filled), 0 when the estimate or the
 * node refused it (logged; nothing left open), < 0 on an error that may
 * leave the operation open (the next cycle's resume step settles it).
 */
static int send_op(struct sim *s, struct sim_chain *c, enum sim_op_kind kind, int64_t ref,
                   const uint8_t to[ABI_ADDRESS_BYTES], const struct sim_calldata *data,
                   struct sim_op *op, struct rwerr *err)
{
        struct sim_tx tx = {s->relayer, to, data, 0, 0};
        struct sim_op o = {0};
        uint64_t gas = 0;
        int rc;

        o.kind = kind;
        o.chain_id = sim_chain_id(c);
        o.ref_id = ref;
        memcpy(o.account, s->relayer, sizeof o.account);
        if ((rc = sim_chain_estimate_gas(c, s->relayer, to, data, &gas, err)) != RW_OK) {
                if (rc != RW_ERR_REMOTE)
                        return rc;
                rwerr_prefix(err, rc, sim_ledger_op_kind_name(kind));
                log_error(s, sim_ledger_op_kind_name(kind), err);
                return 0;
        }
        if ((rc = sim_ledger_next_nonce(s->ledger, o.chain_id, s->relayer, &o.nonce, err)) != RW_OK)
                return rc;
        o.gas_estimate = gas;
        if ((rc = sim_ledger_op_begin(s->ledger, &o, err)) != RW_OK)
                return rc;
        tx.nonce = o.nonce;
        tx.gas = gas + (gas + 4) / 5;
        if ((rc = sim_chain_send(c, &tx, o.tx_hash, err)) != RW_OK) {
                struct rwerr drop_err;

                if (rc != RW_ERR_REMOTE)
                        return rc;
                /* Refused by the node: never sent, the nonce is still free. */
                rwerr_prefix(err, rc, sim_ledger_op_kind_name(kind));
                log_error(s, sim_ledger_op_kind_name(kind), err);
                if ((rc = sim_ledger_op_drop(s->ledger, &o, &drop_err)) != RW_OK) {
                        *err = drop_err;
                        return rc;
                }
                return 0;
        }
        o.sent = true;
        if ((rc = sim_ledger_op_sent(s->ledger, &o, err)) != RW_OK)
                return rc;
        *op = o;
        return 1;
}

/*
 * Waits for the receipt of a sent operation and records the outcome: the
 * operation 'confirmed' with what it did, or 'failed' (logged) when it
 * reverted. *confirmed says which.
 */
static int settle_op(struct sim *s, const struct sim_op *op, struct sim_receipt *r, bool *confirmed,
                     long wait_ms, struct rwerr *err)
{
        struct sim_chain *c = chain_of(s, op->chain_id);
        int rc;

        if (c == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "operation %lld is on unknown chain %llu",
                                 (long long)op->op_id, (unsigned long long)op->chain_id);
        if ((rc = sim_chain_wait_receipt(c, op->tx_hash, wait_ms, r, err)) != RW_OK)
                return rc;
        if (r->success) {
                *confirmed = true;
                return sim_ledger_op_confirmed(s->ledger, op, r, err);
        }
        *confirmed = false;
        if ((rc = sim_ledger_op_failed(s->ledger, op, r, err)) != RW_OK)
                return rc;
        {
                struct logline l;

                s->n.errors++;
                log_begin(&l, s, "error", "op_failed");
                log_str(&l, "kind", sim_ledger_op_kind_name(op->kind));
                log_u64(&l, "ref_id", (uint64_t)op->ref_id);
                log_str(&l, "chain", sim_chain_name(c));
                log_u64(&l, "nonce", op->nonce);
                log_u64(&l, "block", r->block_number);
                log_hex(&l, "tx", r->tx_hash, SIM_HASH_BYTES);
                log_str(&l, "message", "transaction reverted");
                log_end(&l);
        }
        return RW_OK;
}

/*
 * Settles one of several operations a step sent: true when it confirmed.
 * An error does not stop the others from settling; the step's first error
 * is the one kept in *rc and *err, and the operation stays open for resume.
 */
static bool settle_keeping_first_error(struct sim *s, const struct sim_op *op,
                                       struct sim_receipt *r, int *rc, struct rwerr *err)
{
        struct rwerr settle_err;
        bool confirmed = false;
        int settle_rc = settle_op(s, op, r, &confirmed, SIM_RECEIPT_TIMEOUT_MS, &settle_err);

        if (settle_rc != RW_OK) {
                if (*rc >= 0) {
                        *err = settle_err;
                        *rc = settle_rc;
                }
                return false;
        }
        return confirmed;
}

/* The fields every recorded operation's log line carries. */
static void log_op(struct logline *l, const struct sim_op *op, const struct sim_receipt *r)
{
        log_u64(l, "block", r->block_number);
        log_hex(l, "tx", r->tx_hash, SIM_HASH_BYTES);
        log_u64(l, "nonce", op->nonce);
        log_u64(l, "gas_estimate", op->gas_estimate);
        log_u64(l, "gas_used", r->gas_used);
}

/* ---------------------------------------------------------------- resume */

/*
 * Finds the event that a sent-but-unrecorded operation left on chain: the
 * Minted of its deposit nonce, the RootAnchored of its batch, the Released
 * of its withdrawal. *found false when there is none.
 */
static int find_op_event(struct sim *s, const struct sim_op *op, struct abi_log *out, bool *found,
                         struct rwerr *err)
{
        struct sim_chain *c = chain_of(s, op->chain_id);
        uint8_t word[ABI_WORD_BYTES];
        const uint8_t *topics[3] = {NULL, NULL, NULL};
        const uint8_t *address;
        enum sim_chain_event event;
        uint64_t from, head = 0;
        struct u256 v;
        int rc;

        if (c == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "operation on unknown chain");
        if (op->kind == SIM_OP_MINT) {
                struct sim_deposit_row d;

                if ((rc = sim_ledger_deposit(s->ledger, op->ref_id, &d, err)) != RW_OK)
                        return rc;
                v = d.deposit_nonce;
                address = s->bridged;
                event = SIM_EVENT_MINTED;
                topics[1] = word;
        } else {
                v = u256_from_u64((uint64_t)op->ref_id);
                address = op->kind == SIM_OP_ANCHOR ? s->registry : s->lockbox;
                event = op->kind == SIM_OP_ANCHOR ? SIM_EVENT_ROOT_ANCHORED : SIM_EVENT_RELEASED;
                topics[op->kind == SIM_OP_ANCHOR ? 0 : 1] = word;
        }
        u256_to_be32(&v, word);
        if ((rc = sim_chain_head(c, &head, err)) != RW_OK)
                return rc;
        *found = false;
        from = c == s->src ? s->source_ready_block : s->exec_ready_block;
        while (from <= head && !*found) {
                uint64_t to = head - from >= SIM_LOG_RANGE ? from + SIM_LOG_RANGE - 1 : head;
                struct abi_log *logs = NULL;
                size_t n = 0;

                if ((rc = sim_chain_logs(c, address, event, topics, from, to, &logs, &n, err)) !=
                    RW_OK)
                        return rc;
                if (n > 0) {
                        *out = logs[0];
                        *found = true;
                }
                free(logs);
                from = to + 1;
        }
        return RW_OK;
}

/* Waits until the chain's mined nonce of the account passes `nonce`. */
static int wait_nonce_mined(struct sim_chain *c, const uint8_t account[ABI_ADDRESS_BYTES],
                            uint64_t nonce, struct rwerr *err)
{
        struct timespec t0, pause = {0, 200000000L};
        uint64_t mined = 0;
        int rc;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                if ((rc = sim_chain_nonce(c, account, "latest", &mined, err)) != RW_OK)
                        return rc;
                if (mined > nonce)
                        return RW_OK;
                if (ms_since(&t0) >= (uint64_t)SIM_RECEIPT_TIMEOUT_MS)
                        return rwerr_set(err, RW_ERR_TIMEOUT,
                                         "%s: nonce %llu not mined after %ld ms", sim_chain_name(c),
                                         (unsigned long long)nonce, SIM_RECEIPT_TIMEOUT_MS);
                nanosleep(&pause, NULL);
        }
}

static void log_recovered(struct sim *s, const struct sim_op *op, const struct sim_receipt *r,
                          bool confirmed, const char *how)
{
        struct logline l;

        if (!confirmed)
                return; /* settle_op logged the failure */
        if (op->kind == SIM_OP_MINT)
                s->n.mints++;
        else if (op->kind == SIM_OP_ANCHOR)
                s->n.anchors++;
        else
                s->n.releases++;
        log_begin(&l, s, "warn", sim_ledger_op_kind_name(op->kind));
        log_str(&l, "recovered", how);
        log_u64(&l, "ref_id", (uint64_t)op->ref_id);
        log_op(&l, op, r);
        log_end(&l);
}

/*
 * A 'pending' operation: the process stopped between recording it and
 * recording it sent. If the chain never took its nonce it was never sent:
 * drop it. Otherwise find what it did on chain and record that.
 */
static int resume_pending(struct sim *s, struct sim_op *op, struct rwerr *err)
{
        struct sim_chain *c = chain_of(s, op->chain_id);
        struct sim_receipt r;
        struct abi_log log;
        bool found = false, confirmed = false;
        uint64_t pending = 0;
        struct logline l;
        int rc;

        if (c == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "operation %lld on unknown chain %llu",
                                 (long long)op->op_id, (unsigned long long)op->chain_id);
        if ((rc = sim_chain_nonce(c, op->account, "pending", &pending, err)) != RW_OK)
                return rc;
        if (pending <= op->nonce) {
                if ((rc = sim_ledger_op_drop(s->ledger, op, err)) != RW_OK)
                        return rc;
                log_begin(&l, s, "warn", "op_dropped");
                log_str(&l, "kind", sim_ledger_op_kind_name(op->kind));
                log_u64(&l, "ref_id", (uint64_t)op->ref_id);
                log_u64(&l, "nonce", op->nonce);
                log_str(&l, "reason", "never sent");
                log_end(&l);
                return RW_OK;
        }
        if ((rc = wait_nonce_mined(c, op->account, op->nonce, err)) != RW_OK ||
            (rc = find_op_event(s, op, &log, &found, err)) != RW_OK)
                return rc;
        if (!found) {
                if ((rc = sim_ledger_op_failed(s->ledger, op, NULL, err)) != RW_OK)
                        return rc;
                s->n.errors++;
                log_begin(&l, s, "error", "op_failed");
                log_str(&l, "kind", sim_ledger_op_kind_name(op->kind));
                log_u64(&l, "ref_id", (uint64_t)op->ref_id);
                log_u64(&l, "nonce", op->nonce);
                log_str(&l, "message", "nonce used on chain but no event of the operation");
                log_end(&l);
                return RW_OK;
        }
        memcpy(op->tx_hash, log.tx_hash, SIM_HASH_BYTES);
        op->sent = true;
        if ((rc = settle_op(s, op, &r, &confirmed, SIM_RECEIPT_TIMEOUT_MS, err)) != RW_OK)
                return rc;
        log_recovered(s, op, &r, confirmed, "found on chain");
        return RW_OK;
}

static int settle_open(struct sim *s, long wait_ms, struct rwerr *err);

/* Settles every operation a previous cycle or run left open. */
static int step_resume(struct sim *s, struct rwerr *err)
{
        return settle_open(s, SIM_RECEIPT_TIMEOUT_MS, err);
}

/* Halted: records the receipts already there, waiting for none; a failure is only logged. */
static void settle_while_halted(struct sim *s)
{
        struct rwerr err;

        if (settle_open(s, 0, &err) != RW_OK)
                log_error(s, "settle_while_halted", &err);
}

/*
 * Settles every open operation, each receipt awaited at most `wait_ms`: in
 * order, stopping at the first failure; with 0 (halted: nothing is sent, so
 * order does not matter) every one is tried, and the first failure returned.
 */
static int settle_open(struct sim *s, long wait_ms, struct rwerr *err)
{
        struct sim_op *ops = NULL;
        size_t i, n = 0;
        int rc, first = RW_OK;
        struct rwerr one;

        if ((rc = sim_ledger_open_ops(s->ledger, &ops, &n, err)) != RW_OK)
                return rc;
        for (i = 0; i < n && (first == RW_OK || wait_ms == 0); i++) {
                struct sim_receipt r;
                bool confirmed = false;

                if (!ops[i].sent)
                        rc = resume_pending(s, &ops[i], &one);
                else if ((rc = settle_op(s, &ops[i], &r, &confirmed, wait_ms, &one)) == RW_OK)
                        log_recovered(s, &ops[i], &r, confirmed, "receipt");
                if (rc != RW_OK && first == RW_OK) {
                        first = rc;
                        *err = one;
                }
        }
        free(ops);
        return first;
}

/* ---------------------------------------------------------------- users */

/* Waits for a user's previous transaction on `c`, so the next one sees its effect. */
static int user_wait(struct sim *s, struct sim_chain *c, bool *pending,
                     const uint8_t tx[SIM_HASH_BYTES], const uint8_t user[ABI_ADDRESS_BYTES],
                     struct rwerr *err)
{
        struct sim_receipt r;
        int rc;

        if (!*pending)
                return RW_OK;
        if ((rc = sim_chain_wait_receipt(c, tx, SIM_RECEIPT_TIMEOUT_MS, &r, err)) != RW_OK)
                return rc;
        *pending = false;
        if (!r.success) {
                struct logline l;

                s->n.errors++;
                log_begin(&l, s, "error", "user_tx_failed");
                log_str(&l, "chain", sim_chain_name(c));
                log_hex(&l, "user", user, ABI_ADDRESS_BYTES);
                log_hex(&l, "tx", r.tx_hash, SIM_HASH_BYTES);
                log_end(&l);
        }
        return RW_OK;
}

/* 1 to 50 tokens, whole or with up to four decimals. */
static int random_amount(struct sim *s, struct u256 *out)
{
        uint64_t units = 10000 + rng_below(&s->rng, 490001); /* 1.0000 .. 50.0000 */

        if (rng_below(&s->rng, 2) == 0 || s->decimals < 4)
                units -= units % 10000;
        if (s->decimals >= 4)
                return scaled_pow10(units, s->decimals - 4, out);
        return scaled_pow10(units / 10000, s->decimals, out);
}

static int step_user_deposit(struct sim *s, struct rwerr *err)
{
        struct sim_user *u;
        struct sim_calldata cd;
        struct sim_tx tx = {0};
        struct u256 amount, balance;
        struct logline l;
        int rc;

        if (rng_below(&s->rng, 100) >= SIM_DEPOSIT_PERCENT)
                return RW_OK;
        u = &s->users[rng_below(&s->rng, s->nusers)];
        if (random_amount(s, &amount) != RW_OK)
                return rwerr_set(err, RW_ERR_RANGE, "%u decimals: amount too large", s->decimals);
        if ((rc = user_wait(s, s->src, &u->src_pending, u->src_tx, u->addr, err)) != RW_OK)
                return rc;
        sim_chain_data_balance_of(&cd, u->addr);
        if ((rc = sim_chain_call_uint(s->src, s->sigil, &cd, NULL, &balance, err)) != RW_OK)
                return rc;
        if (u256_cmp(&balance, &amount) < 0)
                return RW_OK;
        sim_chain_data_lock(&cd, s->sigil, &amount, u->addr);
        tx.from = u->addr;
        tx.to = s->lockbox;
        tx.data = &cd;
        tx.nonce = SIM_CHAIN_AUTO;
        tx.gas = SIM_CHAIN_AUTO;
        if ((rc = sim_chain_send(s->src, &tx, u->src_tx, err)) != RW_OK)
                return rc;
        u->src_pending = true;
        log_begin(&l, s, "info", "user_lock");
        log_hex(&l, "user", u->addr, ABI_ADDRESS_BYTES);
        log_amount(&l, "amount", &amount);
        log_hex(&l, "tx", u->src_tx, SIM_HASH_BYTES);
        log_end(&l);
        return RW_OK;
}

static int step_user_burn(struct sim *s, struct rwerr *err)
{
        struct sim_user *u;
        struct sim_calldata cd;
        struct sim_tx tx = {0};
        struct u256 balance, amount;
        uint64_t percent;
        struct logline l;
        int rc;

        if (rng_below(&s->rng, 100) >= SIM_BURN_PERCENT)
                return RW_OK;
        u = &s->users[rng_below(&s->rng, s->nusers)];
        percent = 10 + rng_below(&s->rng, 41); /* 10% .. 50% of the balance */
        if ((rc = user_wait(s, s->exec, &u->exec_pending, u->exec_tx, u->addr, err)) != RW_OK)
                return rc;
        sim_chain_data_balance_of(&cd, u->addr);
        if ((rc = sim_chain_call_uint(s->exec, s->bridged, &cd, NULL, &balance, err)) != RW_OK)
                return rc;
        if (u256_mul_u64(&balance, percent, &amount) != RW_OK ||
            u256_divmod_u64(&amount, 100, &amount, NULL) != RW_OK || u256_is_zero(&amount))
                return RW_OK;
        sim_chain_data_burn(&cd, &amount, u->addr);
        tx.from = u->addr;
        tx.to = s->bridged;
        tx.data = &cd;
        tx.nonce = SIM_CHAIN_AUTO;
        tx.gas = SIM_CHAIN_AUTO;
        if ((rc = sim_chain_send(s->exec, &tx, u->exec_tx, err)) != RW_OK)
                return rc;
        u->exec_pending = true;
        log_begin(&l, s, "info", "user_burn");
        log_hex(&l, "user", u->addr, ABI_ADDRESS_BYTES);
        log_amount(&l, "amount", &amount);
        log_hex(&l, "tx", u->exec_tx, SIM_HASH_BYTES);
        log_end(&l);
        return RW_OK;
}

/* Each user approves the Lockbox once, for everything (skipped when already done). */
static int approve_users(struct sim *s, struct rwerr *err)
{
        struct u256 max, allowance, half;
        struct sim_calldata cd;
        size_t i;
        int rc;

        memset(max.limb, 0xff, sizeof max.limb);
        half = max;
        half.limb[3] >>= 1;
        for (i = 0; i < s->nusers; i++) {
                struct sim_user *u = &s->users[i];
                struct sim_tx tx = {u->addr, s->sigil, &cd, SIM_CHAIN_AUTO, SIM_CHAIN_AUTO};
                struct sim_receipt r;
                struct logline l;

                sim_chain_data_allowance(&cd, u->addr, s->lockbox);
                if ((rc = sim_chain_call_uint(s->src, s->sigil, &cd, NULL, &allowance, err)) !=
                    RW_OK)
                        return rc;
                if (u256_cmp(&allowance, &half) > 0)
                        continue;
                sim_chain_data_approve(&cd, s->lockbox, &max);
                if ((rc = sim_chain_send(s->src, &tx, u->src_tx, err)) != RW_OK ||
                    (rc = sim_chain_wait_receipt(s->src, u->src_tx, SIM_RECEIPT_TIMEOUT_MS, &r,
                                                 err)) != RW_OK)
                        return rc;
                if (!r.success)
                        return rwerr_set(err, RW_ERR_REMOTE, "approve by a user reverted");
                log_begin(&l, s, "info", "user_approve");
                log_hex(&l, "user", u->addr, ABI_ADDRESS_BYTES);
                log_hex(&l, "tx", r.tx_hash, SIM_HASH_BYTES);
                log_end(&l);
        }
        return RW_OK;
}

/* ---------------------------------------------------------------- indexing */

/* The block range to index next on `c`: (*after, *through]; false when nothing is due. */
static int index_range(struct sim *s, struct sim_chain *c, uint64_t *after, uint64_t *through,
                       bool *due, struct rwerr *err)
{
        uint64_t head = 0;
        int rc;

        *due = false;
        if ((rc = sim_chain_head(c, &head, err)) != RW_OK ||
            (rc = sim_ledger_indexed_through(s->ledger, sim_chain_id(c), after, err)) != RW_OK)
                return rc;
        if (head < s->opt.confirmations || head - s->opt.confirmations <= *after)
                return RW_OK;
        *through = head - s->opt.confirmations;
        if (*through - *after > SIM_LOG_RANGE)
                *through = *after + SIM_LOG_RANGE;
        *due = true;
        return RW_OK;
}

static int index_source_range(struct sim *s, uint64_t after, uint64_t through, struct rwerr *err)
{
        struct abi_log *logs = NULL;
        struct sim_locked *d = NULL;
        bool *is_new = NULL;
        size_t i, n = 0, nd = 0;
        int rc;

        if ((rc = sim_chain_logs(s->src, s->lockbox, SIM_EVENT_LOCKED, NULL, after + 1, through,
                                 &logs, &n, err)) != RW_OK)
                return rc;
        if (n > 0 && ((d = calloc(n, sizeof *d)) == NULL || (is_new = calloc(n, 1)) == NULL)) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu deposits", n);
                goto out;
        }
        for (i = 0; i < n; i++) {
                if ((rc = sim_chain_decode_locked(&logs[i], &d[nd], err)) != RW_OK)
                        goto out;
                if (memcmp(d[nd].token, s->sigil, ABI_ADDRESS_BYTES) != 0) {
                        struct logline l;

                        log_begin(&l, s, "warn", "unsupported_token");
                        log_hex(&l, "token", d[nd].token, ABI_ADDRESS_BYTES);
                        log_amount(&l, "deposit_nonce", &d[nd].nonce);
                        log_u64(&l, "block", d[nd].block_number);
                        log_end(&l);
                        continue;
                }
                nd++;
        }
        if ((rc = sim_ledger_record_deposits(s->ledger, sim_chain_id(s->src), s->asset_id, d, nd,
                                             is_new, after, through, err)) != RW_OK)
                goto out;
        for (i = 0; i < nd; i++) {
                struct logline l;

                if (!is_new[i])
                        continue;
                s->n.deposits++;
                log_begin(&l, s, "info", "deposit");
                log_amount(&l, "deposit_nonce", &d[i].nonce);
                log_hex(&l, "depositor", d[i].depositor, ABI_ADDRESS_BYTES);
                log_hex(&l, "recipient", d[i].recipient, ABI_ADDRESS_BYTES);
                log_amount(&l, "amount", &d[i].amount);
                log_u64(&l, "block", d[i].block_number);
                log_hex(&l, "tx", d[i].tx_hash, SIM_HASH_BYTES);
                log_end(&l);
        }
out:
        free(is_new);
        free(d);
        free(logs);
        return rc;
}

static int index_exec_range(struct sim *s, uint64_t after, uint64_t through, struct rwerr *err)
{
        struct abi_log *logs = NULL;
        struct sim_burned *b = NULL;
        bool *is_new = NULL;
        size_t i, n = 0;
        int rc;

        if ((rc = sim_chain_logs(s->exec, s->bridged, SIM_EVENT_BURNED, NULL, after + 1, through,
                                 &logs, &n, err)) != RW_OK)
                return rc;
        if (n > 0 && ((b = calloc(n, sizeof *b)) == NULL || (is_new = calloc(n, 1)) == NULL)) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu burns", n);
                goto out;
        }
        for (i = 0; i < n; i++) {
                if ((rc = sim_chain_decode_burned(&logs[i], &b[i], err)) != RW_OK)
                        goto out;
        }
        if ((rc = sim_ledger_record_burns(s->ledger, sim_chain_id(s->exec), s->asset_id, b, n,
                                          is_new, after, through, err)) != RW_OK)
                goto out;
        for (i = 0; i < n; i++) {
                struct logline l;

                if (!is_new[i])
                        continue;
                s->n.burns++;
                log_begin(&l, s, "info", "burn");
                log_amount(&l, "burn_nonce", &b[i].nonce);
                log_hex(&l, "burner", b[i].burner, ABI_ADDRESS_BYTES);
                log_hex(&l, "recipient", b[i].recipient, ABI_ADDRESS_BYTES);
                log_amount(&l, "amount", &b[i].amount);
                log_u64(&l, "block", b[i].block_number);
                log_hex(&l, "tx", b[i].tx_hash, SIM_HASH_BYTES);
                log_end(&l);
        }
out:
        free(is_new);
        free(b);
        free(logs);
        return rc;
}

static int step_index(struct sim *s, struct sim_chain *c, struct rwerr *err)
{
        uint64_t after = 0, through = 0;
        bool due = false;
        int rc;

        for (;;) {
                if ((rc = index_range(s, c, &after, &through, &due, err)) != RW_OK || !due)
                        return rc;
                rc = c == s->src ? index_source_range(s, after, through, err)
                                 : index_exec_range(s, after, through, err);
                if (rc != RW_OK)
                        return rc;
        }
}

static int step_index_source(struct sim *s, struct rwerr *err)
{
        return step_index(s, s->src, err);
}

static int step_index_exec(struct sim *s, struct rwerr *err)
{
        return step_index(s, s->exec, err);
}

/* ---------------------------------------------------------------- mint */

static int step_mint(struct sim *s, struct rwerr *err)
{
        struct sim_deposit_row *rows = NULL;
        struct sim_op *ops = NULL;
        size_t *row_of = NULL;
        size_t i, n = 0, nsent = 0;
        int rc;

        if ((rc = sim_ledger_unminted(s->ledger, SIM_WORK_MAX, &rows, &n, err)) != RW_OK)
                return rc;
        if (n == 0)
                return RW_OK;
        if ((ops = calloc(n, sizeof *ops)) == NULL ||
            (row_of = calloc(n, sizeof *row_of)) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu mints", n);
                goto out;
        }
        /* Send them all, then wait: the chain mines them together. */
        for (i = 0; i < n && !stop_requested; i++) {
                struct sim_calldata cd;

                sim_chain_data_mint(&cd, rows[i].recipient, &rows[i].amount,
                                    &rows[i].deposit_nonce);
                rc = send_op(s, s->exec, SIM_OP_MINT, rows[i].deposit_id, s->bridged, &cd,
                             &ops[nsent], err);
                if (rc < 0)
                        break;
                if (rc == 1)
                        row_of[nsent++] = i;
        }
        /* Whatever was sent is settled, even after an error or a stop request. */
        for (i = 0; i < nsent; i++) {
                struct sim_deposit_row *d = &rows[row_of[i]];
                struct sim_receipt r;
                struct logline l;

                if (!settle_keeping_first_error(s, &ops[i], &r, &rc, err))
                        continue;
                s->n.mints++;
                log_begin(&l, s, "info", "mint");
                log_u64(&l, "deposit_id", (uint64_t)d->deposit_id);
                log_amount(&l, "deposit_nonce", &d->deposit_nonce);
                log_hex(&l, "recipient", d->recipient, ABI_ADDRESS_BYTES);
                log_amount(&l, "amount", &d->amount);
                log_op(&l, &ops[i], &r);
                log_end(&l);
        }
        if (rc > 0)
                rc = RW_OK;
out:
        free(row_of);
        free(ops);
        free(rows);
        return rc;
}

/* ---------------------------------------------------------------- batches */

static int cut_batch(struct sim *s, const struct sim_withdrawal *w, size_t n, struct rwerr *err)
{
        struct sim_batch *b = NULL;
        uint64_t number = 0;
        struct logline l;
        int rc;

        if ((rc = sim_batch_build(w, n, s->sigil, s->seckey, &b, err)) != RW_OK)
                return rc;
        if ((rc = sim_ledger_record_batch(s->ledger, b, &number, err)) == RW_OK) {
                s->n.batches++;
                log_begin(&l, s, "info", "batch");
                log_u64(&l, "batch_number", number);
                log_u64(&l, "leaves", n);
                log_u64(&l, "first_withdrawal", w[0].withdrawal_id);
                log_u64(&l, "last_withdrawal", w[n - 1].withdrawal_id);
                log_hex(&l, "root", b->root, SIM_HASH_BYTES);
                log_end(&l);
        }
        sim_batch_free(b);
        return rc;
}

static int step_batch(struct sim *s, struct rwerr *err)
{
        struct sim_withdrawal *w = NULL;
        size_t n = 0, off = 0;
        int rc;

        if ((rc = sim_ledger_unbatched(s->ledger, SIM_UNBATCHED_MAX, &w, &n, err)) != RW_OK)
                return rc;
        if (n == 0) {
                s->waiting = false;
                return RW_OK;
        }
        if (!s->waiting || s->wait_oldest != w[0].withdrawal_id) {
                s->waiting = true;
                s->wait_oldest = w[0].withdrawal_id;
                s->wait_since = s->cycle;
        }
        while (rc == RW_OK && n - off >= s->opt.batch_size) {
                rc = cut_batch(s, w + off, (size_t)s->opt.batch_size, err);
                off += (size_t)s->opt.batch_size;
        }
        if (rc == RW_OK && off < n && s->cycle - s->wait_since >= SIM_BATCH_AGE_CYCLES) {
                rc = cut_batch(s, w + off, n - off, err);
        }
        free(w);
        return rc;
}

static int step_anchor(struct sim *s, struct rwerr *err)
{
        struct sim_anchor_row *rows = NULL;
        size_t i, n = 0;
        int rc;

        if ((rc = sim_ledger_unanchored(s->ledger, SIM_WORK_MAX, &rows, &n, err)) != RW_OK)
                return rc;
        /* One at a time: a batch is anchored before the next one is sent. */
        for (i = 0; i < n && rc == RW_OK && !stop_requested; i++) {
                struct sim_calldata cd;
                struct sim_op op;
                struct sim_receipt r;
                struct logline l;
                bool confirmed = false;

                sim_chain_data_anchor(&cd, rows[i].batch_number, rows[i].root);
                rc = send_op(s, s->src, SIM_OP_ANCHOR, (int64_t)rows[i].batch_number, s->registry,
                             &cd, &op, err);
                if (rc <= 0)
                        continue;
                if ((rc = settle_op(s, &op, &r, &confirmed, SIM_RECEIPT_TIMEOUT_MS, err)) !=
                            RW_OK ||
                    !confirmed)
                        continue;
                s->n.anchors++;
                log_begin(&l, s, "info", "anchor");
                log_u64(&l, "batch_number", rows[i].batch_number);
                log_hex(&l, "root", rows[i].root, SIM_HASH_BYTES);
                log_op(&l, &op, &r);
                log_end(&l);
        }
        free(rows);
        return rc;
}

/* ---------------------------------------------------------------- release */

static int step_release(struct sim *s, struct rwerr *err)
{
        struct sim_release_row *rows = NULL;
        struct sim_op *ops = NULL;
        size_t *row_of = NULL;
        size_t i, n = 0, nsent = 0;
        int rc;

        if ((rc = sim_ledger_unreleased(s->ledger, SIM_WORK_MAX, &rows, &n, err)) != RW_OK)
                return rc;
        if (n == 0)
                return RW_OK;
        if ((ops = calloc(n, sizeof *ops)) == NULL ||
            (row_of = calloc(n, sizeof *row_of)) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory for %zu releases", n);
                goto out;
        }
        for (i = 0; i < n && !stop_requested; i++) {
                struct sim_calldata cd;

                if ((rc = sim_chain_data_release(&cd, rows[i].batch_number, rows[i].w.withdrawal_id,
                                                 s->sigil, rows[i].w.recipient, &rows[i].w.amount,
                                                 (const uint8_t(*)[SIM_HASH_BYTES])rows[i].proof,
                                                 rows[i].proof_len, err)) != RW_OK)
                        break;
                rc = send_op(s, s->src, SIM_OP_RELEASE, (int64_t)rows[i].w.withdrawal_id,
                             s->lockbox, &cd, &ops[nsent], err);
                if (rc < 0)
                        break;
                if (rc == 1)
                        row_of[nsent++] = i;
        }
        /* Recorded right after each receipt, before any later indexing step. */
        for (i = 0; i < nsent; i++) {
                struct sim_release_row *w = &rows[row_of[i]];
                struct sim_receipt r;
                struct logline l;

                if (!settle_keeping_first_error(s, &ops[i], &r, &rc, err))
                        continue;
                s->n.releases++;
                log_begin(&l, s, "info", "release");
                log_u64(&l, "batch_number", w->batch_number);
                log_u64(&l, "withdrawal_id", w->w.withdrawal_id);
                log_hex(&l, "recipient", w->w.recipient, ABI_ADDRESS_BYTES);
                log_amount(&l, "amount", &w->w.amount);
                log_op(&l, &ops[i], &r);
                log_end(&l);
        }
        if (rc > 0)
                rc = RW_OK;
out:
        free(row_of);
        free(ops);
        free(rows);
        return rc;
}

/* ---------------------------------------------------------------- control */

/* The consumer's decisions, as the simulator's log lines. */
static void control_log(void *ctx, const char *level, const char *event, const char *detail)
{
        const struct sim *s = ctx;
        struct logline l;

        log_begin(&l, s, level, "control");
        log_str(&l, "control_event", event);
        log_str(&l, "detail", detail);
        log_end(&l);
}

/*
 * Polls the control stream, waiting up to block_ms for an entry, and says
 * whether the relayer may run (always, without --control). Logs "halted"
 * on the way into a halt and "resumed" on the way out. While it may not
 * run it confirms the stop (XACKs the HALTs): between steps no relayer
 * transaction is in flight, every one sent has been settled.
 */
static bool control_may_run(struct sim *s, long block_ms)
{
        struct rwerr err;
        struct logline l;

        if (s->control == NULL)
                return true;
        /* A Redis failure is logged by the consumer and shows in may_run. */
        (void)control_consumer_poll(s->control, block_ms, &err);
        if (control_consumer_may_run(s->control)) {
                if (s->halted) {
                        s->halted = false;
                        log_begin(&l, s, "info", "resumed");
                        log_end(&l);
                }
                return true;
        }
        if (!s->halted) {
                s->halted = true;
                s->n.halts++;
                log_begin(&l, s, "warn", "halted");
                log_str(&l, "reason", control_consumer_reason(s->control));
                log_end(&l);
        }
        if (control_consumer_confirm_stopped(s->control, &err) != RW_OK) {
                log_begin(&l, s, "warn", "control_error");
                log_str(&l, "message", err.msg);
                log_end(&l);
        }
        return false;
}

/* ---------------------------------------------------------------- the cycle */

struct sim_step {
        const char *name;
        int (*run)(struct sim *s, struct rwerr *err);
        bool relay; /* a relayer step (else a user step) */
        bool reads; /* a relayer step that only reads the chains into the ledger */
};

/*
 * A halted relayer sends nothing and signs nothing, but settles what it
 * left open (receipts, read) and keeps indexing: the
 * ledger then keeps up with the chains, so once an operator has mended what
 * broke, `relaywatch resume` can validate the fix at current heights. (A
 * relayer that stopped indexing too would freeze the watchdog's pinned
 * heights at the broken block.) Indexing waits until the resume step has
 * settled what an earlier run left open.
 */
static const struct sim_step steps[] = {
        {"resume", step_resume, true, false},
        {"deposit", step_user_deposit, false, false},
        {"index_source", step_index_source, true, true},
        {"mint", step_mint, true, false},
        {"burn", step_user_burn, false, false},
        {"index_execution", step_index_exec, true, true},
        {"batch", step_batch, true, false},
        {"anchor", step_anchor, true, false},
        {"release", step_release, true, false},
};

static void run_cycle(struct sim *s)
{
        char started[SIM_TS_SIZE];
        struct timespec t0;
        struct rwerr err;
        bool ledger_ok = s->opt.relay, relay, relayed = false;
        size_t i;

        now_iso(started);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (ledger_ok && sim_ledger_ensure(s->ledger, &err) != RW_OK) {
                log_error(s, "ledger", &err);
                ledger_ok = false;
        }
        relay = ledger_ok;
        for (i = 0; i < sizeof steps / sizeof steps[0] && !stop_requested; i++) {
                if (steps[i].relay ? !relay : !s->opt.users)
                        continue;
                /*
                 * Halted: the relayer's sending steps wait; indexing and the
                 * users go on. What the relayer left open is settled first
                 * where its receipt is already there (a mint whose receipt
                 * the ledger could not take when it was down), without
                 * waiting for the others: a transaction the HALT caught
                 * unminable must not stop the indexing an operator's
                 * validate needs.
                 */
                if (steps[i].relay && !control_may_run(s, 0)) {
                        if (steps[i].run == step_resume)
                                settle_while_halted(s);
                        if (!(steps[i].reads && s->settled))
                                continue;
                }
                if (i == 0)
                        s->settled = false; /* set again when the resume step succeeds */
                relayed = relayed || (steps[i].relay && !steps[i].reads);
                if (steps[i].run(s, &err) == RW_OK) {
                        if (steps[i].run == step_resume)
                                s->settled = true;
                } else {
                        log_error(s, steps[i].name, &err);
                        /*
                         * The relayer's steps depend on each other's order (a
                         * mint or release must be recorded before indexing
                         * passes its block): after a failure, none runs until
                         * the next cycle's resume step has settled things.
                         */
                        if (steps[i].relay)
                                relay = false;
                }
        }
        /*
         * Failed cycles are timed too: a slow, failing cycle is what latency
         * alerts are for. A halted relayer did nothing and writes nothing.
         */
        if (ledger_ok && relayed &&
            sim_ledger_cycle_timing(s->ledger, started, ms_since(&t0), &err) != RW_OK)
                log_error(s, "timing", &err);
}

/* Sleeps `ms`, or less when a stop is requested (the signal ends nanosleep). */
static void pause_ms(uint64_t ms)
{
        struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

        while (!stop_requested && nanosleep(&left, &left) != 0 && errno == EINTR)
                ;
}

/* The pause between cycles; with --control it waits on the control stream instead. */
static void pause_cycle(struct sim *s, uint64_t ms)
{
        struct timespec t0;
        uint64_t done;

        if (s->control == NULL) {
                pause_ms(ms);
                return;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!stop_requested && (done = ms_since(&t0)) < ms) {
                uint64_t left = ms - done;

                (void)control_may_run(
                        s,
                        (long)(left < SIM_CONTROL_BLOCK_MAX_MS ? left : SIM_CONTROL_BLOCK_MAX_MS));
        }
}

/* ---------------------------------------------------------------- setup */

static int env_need(const struct sim *s, const char *key, const char **out, struct rwerr *err)
{
        const char *v = stack_env_get(s->env, key);

        if (v == NULL || v[0] == '\0') {
                rwerr_set(err, RW_ERR_INVALID, "%s: no %s", s->opt.stack_env, key);
                return RW_ERR_INVALID;
        }
        *out = v;
        return RW_OK;
}

static int env_u64(const struct sim *s, const char *key, uint64_t *out, struct rwerr *err)
{
        const char *v = NULL;
        int rc;

        if ((rc = env_need(s, key, &v, err)) != RW_OK)
                return rc;
        if (parse_u64(v, out) != RW_OK)
                return rwerr_set(err, RW_ERR_INVALID, "%s: %s is not a number", s->opt.stack_env,
                                 key);
        return RW_OK;
}

static int env_address(const struct sim *s, const char *key, uint8_t out[ABI_ADDRESS_BYTES],
                       struct rwerr *err)
{
        const char *v = NULL;
        int rc;

        if ((rc = env_need(s, key, &v, err)) != RW_OK)
                return rc;
        if ((rc = abi_address_parse(v, strlen(v), out, err)) != RW_OK)
                return rwerr_prefix(err, rc, key);
        return RW_OK;
}

/* A value that may be absent: NULL when missing or empty. */
static const char *env_optional(const struct sim *s, const char *key)
{
        const char *v = stack_env_get(s->env, key);

        return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A comma-separated list of public key files (FILE.pub) into keys[0..*n). */
static int env_pubkeys(const struct sim *s, const char *key, struct verify_key *keys, size_t *n,
                       struct rwerr *err)
{
        const char *v = NULL, *p;
        char path[4096];
        int rc;

        *n = 0;
        if ((rc = env_need(s, key, &v, err)) != RW_OK)
                return rc;
        for (p = v; *p != '\0';) {
                size_t len = strcspn(p, ",");

                if (len == 0 || len >= sizeof path)
                        return rwerr_set(err, RW_ERR_INVALID, "%s: an empty or too long path", key);
                if (*n == SIM_CONTROL_KEYS_MAX)
                        return rwerr_set(err, RW_ERR_RANGE, "%s: more than %d keys", key,
                                         SIM_CONTROL_KEYS_MAX);
                memcpy(path, p, len);
                path[len] = '\0';
                if ((rc = verify_key_load(path, &keys[*n], err)) != RW_OK)
                        return rwerr_prefix(err, rc, key);
                (*n)++;
                p += len;
                if (*p == ',')
                        p++;
        }
        return RW_OK;
}

/* --control: the reference consumer, configured from stack.env. */
static int open_control(struct sim *s, struct rwerr *err)
{
        struct verify_key wkeys[SIM_CONTROL_KEYS_MAX], okeys[SIM_CONTROL_KEYS_MAX];
        struct control_consumer_config cfg;
        struct rwerr open_err;
        int rc;

        memset(&cfg, 0, sizeof cfg);
        if ((rc = env_need(s, "REDIS_URL", &cfg.redis_url, err)) != RW_OK ||
            (rc = env_pubkeys(s, "CONTROL_WATCHDOG_PUBKEYS", wkeys, &cfg.nwatchdog_keys, err)) !=
                    RW_OK ||
            (rc = env_pubkeys(s, "CONTROL_OPERATOR_PUBKEYS", okeys, &cfg.noperator_keys, err)) !=
                    RW_OK)
                return rc;
        cfg.watchdog_keys = wkeys;
        cfg.operator_keys = okeys;
        cfg.stream = env_optional(s, "CONTROL_STREAM");
        cfg.group = env_optional(s, "CONTROL_GROUP");
        cfg.halt_key = env_optional(s, "CONTROL_HALT_KEY");
        cfg.heartbeat_key = env_optional(s, "CONTROL_HEARTBEAT_KEY");
        cfg.consumer = SIM_CONTROL_CONSUMER;
        cfg.require_heartbeat = s->opt.require_heartbeat;
        cfg.log = control_log;
        cfg.log_ctx = s;
        /* Redis away is no reason to stop: the relayer waits, failed safe. */
        if ((s->control = control_consumer_open(&cfg, &open_err)) == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "control: %s", open_err.msg);
        return RW_OK;
}

static int load_users(struct sim *s, struct rwerr *err)
{
        const char *v = NULL, *p;
        int rc;

        if ((rc = env_need(s, "USER_ADDRESSES", &v, err)) != RW_OK)
                return rc;
        for (p = v; *p != '\0';) {
                size_t len = strcspn(p, ",");

                if (s->nusers == SIM_USERS_MAX)
                        return rwerr_set(err, RW_ERR_RANGE, "USER_ADDRESSES: more than %d users",
                                         SIM_USERS_MAX);
                if ((rc = abi_address_parse(p, len, s->users[s->nusers].addr, err)) != RW_OK)
                        return rwerr_prefix(err, rc, "USER_ADDRESSES");
                s->nusers++;
                p += len;
                if (*p == ',')
                        p++;
        }
        if (s->nusers == 0)
                return rwerr_set(err, RW_ERR_INVALID, "USER_ADDRESSES is empty");
        return RW_OK;
}

/* The relayer's key: 0x and 64 hex digits, and it must be RELAYER_ADDRESS's. */
static int load_key(struct sim *s, struct rwerr *err)
{
        const char *v = NULL;
        uint8_t addr[ABI_ADDRESS_BYTES];
        int rc;

        if ((rc = env_need(s, "RELAYER_PRIVATE_KEY", &v, err)) != RW_OK)
                return rc;
        /* hex_decode's message never quotes the input, so no key reaches a log. */
        if ((rc = hex_decode(v, strlen(v), s->seckey, sizeof s->seckey, err)) != RW_OK)
                return rwerr_set(err, rc, "RELAYER_PRIVATE_KEY is not 0x and 64 hex digits");
        if ((rc = sig_address_from_seckey(s->seckey, addr, err)) != RW_OK)
                return rwerr_prefix(err, rc, "RELAYER_PRIVATE_KEY");
        if (memcmp(addr, s->relayer, sizeof addr) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "RELAYER_PRIVATE_KEY does not belong to RELAYER_ADDRESS");
        return RW_OK;
}

/* nonce_state for the relayer on both chains, created from the chain when missing. */
static int init_nonces(struct sim *s, struct rwerr *err)
{
        struct sim_chain *chains[] = {s->src, s->exec};
        size_t i;
        int rc;

        for (i = 0; i < 2; i++) {
                uint64_t pending = 0, next = 0;

                if ((rc = sim_chain_nonce(chains[i], s->relayer, "pending", &pending, err)) !=
                            RW_OK ||
                    (rc = sim_ledger_nonce_init(s->ledger, sim_chain_id(chains[i]), s->relayer,
                                                pending, &next, err)) != RW_OK)
                        return rc;
                if (next != pending) {
                        struct logline l;

                        log_begin(&l, s, "warn", "nonce_mismatch");
                        log_str(&l, "chain", sim_chain_name(chains[i]));
                        log_u64(&l, "ledger_next_nonce", next);
                        log_u64(&l, "chain_pending_nonce", pending);
                        log_end(&l);
                }
        }
        return RW_OK;
}

static int setup(struct sim *s, struct rwerr *err)
{
        const char *src_url = NULL, *exec_url = NULL, *db_url = NULL;
        uint64_t src_id = 0, exec_id = 0, decimals = 0;
        char db_desc[256];
        struct logline l;
        int rc;

        s->env = stack_env_load(s->opt.stack_env, err);
        if (s->env == NULL)
                return RW_ERR_IO;
        if ((rc = env_need(s, "SOURCE_RPC_URL", &src_url, err)) != RW_OK ||
            (rc = env_need(s, "EXEC_RPC_URL", &exec_url, err)) != RW_OK ||
            (rc = env_u64(s, "SOURCE_CHAIN_ID", &src_id, err)) != RW_OK ||
            (rc = env_u64(s, "EXEC_CHAIN_ID", &exec_id, err)) != RW_OK ||
            (rc = env_u64(s, "SIGIL_DECIMALS", &decimals, err)) != RW_OK ||
            (rc = env_u64(s, "SOURCE_READY_BLOCK", &s->source_ready_block, err)) != RW_OK ||
            (rc = env_u64(s, "EXEC_READY_BLOCK", &s->exec_ready_block, err)) != RW_OK ||
            (rc = env_address(s, "SIGIL_ADDRESS", s->sigil, err)) != RW_OK ||
            (rc = env_address(s, "LOCKBOX_ADDRESS", s->lockbox, err)) != RW_OK ||
            (rc = env_address(s, "ROOT_REGISTRY_ADDRESS", s->registry, err)) != RW_OK ||
            (rc = env_address(s, "BRIDGED_SIGIL_ADDRESS", s->bridged, err)) != RW_OK ||
            (rc = env_address(s, "RELAYER_ADDRESS", s->relayer, err)) != RW_OK ||
            (rc = load_users(s, err)) != RW_OK)
                return rc;
        if (decimals > U256_DECIMALS_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "SIGIL_DECIMALS %llu is too large",
                                 (unsigned long long)decimals);
        s->decimals = (unsigned)decimals;
        if ((s->src = sim_chain_open("source", src_url, src_id, err)) == NULL ||
            (s->exec = sim_chain_open("execution", exec_url, exec_id, err)) == NULL)
                return RW_ERR_IO;
        db_desc[0] = '\0';
        if (s->opt.relay) {
                struct sim_ledger_setup ls = {0};

                if ((rc = load_key(s, err)) != RW_OK ||
                    (rc = env_need(s, "RELAYER_DATABASE_URL", &db_url, err)) != RW_OK)
                        return rc;
                if (conninfo_describe(db_url, db_desc, sizeof db_desc, err) != RW_OK)
                        return rwerr_prefix(err, RW_ERR_INVALID, "RELAYER_DATABASE_URL");
                if ((s->ledger = sim_ledger_open(db_url, err)) == NULL)
                        return RW_ERR_IO;
                ls.source_chain_id = src_id;
                ls.exec_chain_id = exec_id;
                ls.symbol = "SIGIL";
                ls.decimals = s->decimals;
                ls.source_token = s->sigil;
                ls.bridged_token = s->bridged;
                ls.source_ready_block = s->source_ready_block;
                ls.exec_ready_block = s->exec_ready_block;
                if ((rc = sim_ledger_bootstrap(s->ledger, &ls, &s->asset_id, err)) != RW_OK ||
                    (rc = init_nonces(s, err)) != RW_OK)
                        return rc;
        }
        if (s->opt.control && (rc = open_control(s, err)) != RW_OK)
                return rc;
        log_begin(&l, s, "info", "start");
        log_u64(&l, "seed", s->opt.seed);
        log_u64(&l, "interval_ms", s->opt.interval_ms);
        log_u64(&l, "confirmations", s->opt.confirmations);
        log_u64(&l, "batch_size", s->opt.batch_size);
        log_u64(&l, "max_cycles", s->opt.max_cycles);
        log_bool(&l, "users", s->opt.users);
        log_bool(&l, "relay", s->opt.relay);
        log_bool(&l, "control", s->opt.control);
        log_bool(&l, "require_heartbeat", s->opt.require_heartbeat);
        log_u64(&l, "source_chain_id", src_id);
        log_u64(&l, "exec_chain_id", exec_id);
        if (s->opt.relay)
                log_str(&l, "ledger", db_desc);
        log_end(&l);
        if (s->opt.users && (rc = approve_users(s, err)) != RW_OK)
                return rc;
        return RW_OK;
}

static void teardown(struct sim *s)
{
        sodium_memzero(s->seckey, sizeof s->seckey);
        control_consumer_close(s->control);
        sim_ledger_free(s->ledger);
        sim_chain_free(s->exec);
        sim_chain_free(s->src);
        stack_env_free(s->env);
}

/* ---------------------------------------------------------------- command line */

static void usage(FILE *out)
{
        fputs("Usage: relayer_sim --stack-env FILE [--seed N] [--interval-ms MS]\n"
              "                   [--confirmations N] [--batch-size N] [--max-cycles N]\n"
              "                   [--users-only | --no-users] [--control] [--require-heartbeat]\n"
              "\n"
              "A lock-and-mint relayer for the local stack: user deposits and burns, and the\n"
              "relayer's indexing, mints, batches, anchors and releases, recorded in the\n"
              "ledger (schema relayer) from RELAYER_DATABASE_URL in the stack.env file.\n"
              "\n"
              "  --stack-env FILE     the stack's stack.env (scripts/stack-up DIR writes it)\n"
              "  --seed N             seed of the random choices (default 1)\n"
              "  --interval-ms MS     pause between cycles (default 1000)\n"
              "  --confirmations N    depth before an event is indexed (default 2)\n"
              "  --batch-size N       withdrawals per settlement batch (default 4)\n"
              "  --max-cycles N       stop after N cycles (default 0: until SIGTERM)\n"
              "  --users-only         user traffic only: no relaying, no ledger\n"
              "  --no-users           relaying only: no user deposits or burns\n"
              "  --control            obey relaywatch's signed control stream: stop the relayer's\n"
              "                       steps on HALT (users go on), ack it, go on after RESUME.\n"
              "                       From stack.env: REDIS_URL, CONTROL_WATCHDOG_PUBKEYS and\n"
              "                       CONTROL_OPERATOR_PUBKEYS (comma-separated .pub files), and\n"
              "                       optionally CONTROL_STREAM, CONTROL_GROUP, CONTROL_HALT_KEY,\n"
              "                       CONTROL_HEARTBEAT_KEY; consumer name relayer_sim\n"
              "  --require-heartbeat  --control, and stop while relaywatch's signed heartbeat\n"
              "                       is missing, stale or forged\n",
              out);
}

static int usage_error(const char *msg, const char *arg)
{
        fprintf(stderr, "relayer_sim: %s%s%s (see --help)\n", msg, arg != NULL ? ": " : "",
                arg != NULL ? arg : "");
        return SIM_EXIT_USAGE;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct sim_options *o)
{
        static const struct {
                const char *name;
                size_t offset;
                uint64_t min, max;
        } numbers[] = {
                {"--seed", offsetof(struct sim_options, seed), 0, UINT64_MAX},
                {"--interval-ms", offsetof(struct sim_options, interval_ms), 0, 3600000},
                {"--confirmations", offsetof(struct sim_options, confirmations), 0, 1000},
                {"--batch-size", offsetof(struct sim_options, batch_size), 1, SIM_BATCH_MAX},
                {"--max-cycles", offsetof(struct sim_options, max_cycles), 0, UINT64_MAX},
        };
        bool users_only = false, no_users = false;
        int i;

        o->seed = 1;
        o->interval_ms = 1000;
        o->confirmations = 2;
        o->batch_size = 4;
        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                size_t k;

                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        usage(stdout);
                        return SIM_EXIT_OK;
                }
                if (strcmp(a, "--users-only") == 0) {
                        users_only = true;
                        continue;
                }
                if (strcmp(a, "--no-users") == 0) {
                        no_users = true;
                        continue;
                }
                if (strcmp(a, "--control") == 0) {
                        o->control = true;
                        continue;
                }
                if (strcmp(a, "--require-heartbeat") == 0) {
                        o->control = true;
                        o->require_heartbeat = true;
                        continue;
                }
                if (i + 1 >= argc)
                        return usage_error("missing value or unknown option", a);
                if (strcmp(a, "--stack-env") == 0) {
                        o->stack_env = argv[++i];
                        continue;
                }
                for (k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
                        uint64_t v;

                        if (strcmp(a, numbers[k].name) != 0)
                                continue;
                        if (parse_u64(argv[i + 1], &v) != RW_OK || v < numbers[k].min ||
                            v > numbers[k].max)
                                return usage_error("bad number for", a);
                        memcpy((char *)o + numbers[k].offset, &v, sizeof v);
                        i++;
                        break;
                }
                if (k == sizeof numbers / sizeof numbers[0])
                        return usage_error("unknown option", a);
        }
        if (o->stack_env == NULL)
                return usage_error("--stack-env FILE is required", NULL);
        if (users_only && no_users)
                return usage_error("--users-only and --no-users exclude each other", NULL);
        if (users_only && o->control)
                return usage_error("--control governs the relayer's steps, which --users-only "
                                   "leaves out",
                                   NULL);
        o->users = !no_users;
        o->relay = !users_only;
        return -1;
}

int main(int argc, char **argv)
{
        struct sim s;
        struct sigaction sa;
        struct rwerr err;
        struct logline l;
        int rc;

        memset(&s, 0, sizeof s);
        if ((rc = parse_args(argc, argv, &s.opt)) >= 0)
                return rc;
        s.rng = s.opt.seed;
        if (sodium_init() < 0) {
                fprintf(stderr, "relayer_sim: libsodium failed to initialise\n");
                return SIM_EXIT_FAILURE;
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        /* No SA_RESTART: the pause between cycles ends at once. */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (setup(&s, &err) != RW_OK) {
                log_begin(&l, &s, "error", "setup_failed");
                log_str(&l, "message", err.msg);
                log_end(&l);
                teardown(&s);
                return SIM_EXIT_FAILURE;
        }
        while (!stop_requested && (s.opt.max_cycles == 0 || s.cycle < s.opt.max_cycles)) {
                s.cycle++;
                run_cycle(&s);
                if (!stop_requested && (s.opt.max_cycles == 0 || s.cycle < s.opt.max_cycles))
                        pause_cycle(&s, s.opt.interval_ms);
        }
        log_begin(&l, &s, "info", "stop");
        log_str(&l, "reason", stop_requested ? "signal" : "max cycles");
        log_u64(&l, "deposits", s.n.deposits);
        log_u64(&l, "mints", s.n.mints);
        log_u64(&l, "burns", s.n.burns);
        log_u64(&l, "batches", s.n.batches);
        log_u64(&l, "anchors", s.n.anchors);
        log_u64(&l, "releases", s.n.releases);
        log_u64(&l, "errors", s.n.errors);
        log_u64(&l, "halts", s.n.halts);
        log_end(&l);
        teardown(&s);
        /* A bounded run (a test) fails when anything went wrong; a stopped one does not. */
        if (s.opt.max_cycles > 0 && !stop_requested && s.n.errors > 0)
                return SIM_EXIT_FAILURE;
        return SIM_EXIT_OK;
}
