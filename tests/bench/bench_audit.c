/*
 * bench_audit: what the audit log (watchdog/audit/audit_log.h) costs, with
 * the real writer on the disk of a directory (--dir: the state directory's
 * kind of disk; default /tmp), timed with CLOCK_MONOTONIC. Three parts:
 *
 *   1  appends per second of a cycle_verdict record (about 1 KB of content:
 *      pinned heights, block hashes and endpoints of both chains, a
 *      SUPPLY_MISMATCH verdict with its evidence), fsync'd each (durable)
 *      against batched (fsync_batch_ms = 1000, audit_log_tick once a second
 *      of real time as the supervisor's tick calls it); rounds alternate and
 *      the ratio is per round.
 *   2  the halt path: what a cycle that will HALT writes before the HALT is
 *      published, --halts times: (a) audit_log_append(durable) of the
 *      cycle_verdict then audit_log_checkpoint (Ed25519 signature, the
 *      record synced; tree.state is saved by the tick afterwards, off this
 *      path); (b) the supervisor's own call, audit_trail_cycle(halting),
 *      which builds the record from the cycle's result and writes it with
 *      the checkpoint behind one sync; (c) the signature alone; (d) a 1 KB
 *      write + fsync of a plain file on the same disk (the disk's own
 *      latency); (e) a 1 KB file replaced durably, as tree.state is by the
 *      tick (write, fsync, rename, directory fsync), for scale. Interleaved
 *      per iteration; p50/p95/p99/max.
 *   3  the log's share of a cycle at the default policy (checkpoint_s 60,
 *      fsync_batch_ms 1000, the loop's tick every second):
 *      - in line, per cycle: audit_trail_cycle on a healthy result (it only
 *        counts) and on a result with a verdict not ok (the record built and
 *        appended, not fsync'd), alternating with a warm cycle_run against
 *        --config CONF (as bench_cycle runs it) when given;
 *      - on the tick, per simulated minute (a simulated clock, real writes
 *        and fsyncs): healthy cycles: one cycles_ok summary and a checkpoint
 *        a minute and 60 ticks; every cycle not ok: its record, the tick's
 *        fsync of it, a checkpoint a minute; spread over the cycles of a
 *        minute at interval_ms = 5000 (12) and at 1 s blocks (60).
 *      Reported as a share of the warm cycle's median (--config), or of
 *      --cycle-ms.
 *
 * Usage: bench_audit [--dir DIR] [--part 1|2|3]... [--rounds R] [--seconds S]
 *                    [--halts N] [--config CONF] [--cycles C] [--cycle-ms MS]
 *                    [--minutes M] [--keep]
 * Everything it writes goes in a new DIR/bench-audit.XXXXXX, removed at the
 * end (kept with --keep). Exit 1 when something fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_log.h"
#include "audit_note.h"
#include "audit_trail.h"
#include "config.h"
#include "cycle.h"
#include "fileio.h"
#include "cycle_result.h"
#include "finding.h"

#define ORIGIN "relaywatch/bench-audit"
#define CHECKPOINT_MS 60000 /* [audit] checkpoint_s default */
#define BATCH_MS 1000       /* [audit] fsync_batch_ms default */
#define KEY_EPOCH_S 86400   /* [audit] key_epoch_s default */
#define ROTATE_BYTES (64ull << 20)

static char base[4096]; /* DIR/bench-audit.XXXXXX */

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, const struct rwerr *err)
{
        fprintf(stderr, "bench_audit: %s%s%s\n", what, err != NULL ? ": " : "",
                err != NULL ? err->msg : "");
        exit(1);
}

/* ------------------------------------------------------------ samples */

struct samples {
        double *v; /* ms */
        size_t n, cap;
};

static void add(struct samples *s, uint64_t ns)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 1024;
                if ((s->v = realloc(s->v, s->cap * sizeof *s->v)) == NULL)
                        die("out of memory", NULL);
        }
        s->v[s->n++] = (double)ns / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* nearest rank on a sorted copy */
static double pct(const struct samples *s, double p)
{
        double *c, r;
        size_t k;

        if (s->n == 0)
                return 0;
        if ((c = malloc(s->n * sizeof *c)) == NULL)
                die("out of memory", NULL);
        memcpy(c, s->v, s->n * sizeof *c);
        qsort(c, s->n, sizeof *c, cmp_double);
        k = (size_t)(p * (double)s->n); /* ceil without libm */
        if ((double)k < p * (double)s->n)
                k++;
        r = c[k > 0 ? k - 1 : 0];
        free(c);
        return r;
}

static double mean(const struct samples *s)
{
        double t = 0;
        size_t i;

        for (i = 0; i < s->n; i++)
                t += s->v[i];
        return s->n ? t / (double)s->n : 0;
}

static void print_row(const char *name, const struct samples *s)
{
        printf("  %-50s %8.3f %8.3f %8.3f %8.3f %8.3f\n", name, pct(s, 0.5), pct(s, 0.95),
               pct(s, 0.99), pct(s, 1.0), mean(s));
}

static void print_header(size_t n)
{
        printf("  %-50s %8s %8s %8s %8s %8s   (ms, %zu each)\n", "", "p50", "p95", "p99", "max",
               "mean", n);
}

/* ------------------------------------------------------------ the log */

static struct audit_log *open_log(const char *name)
{
        struct audit_log_options o;
        struct audit_log *l;
        struct rwerr err;
        char dir[4200];

        snprintf(dir, sizeof dir, "%s/%s", base, name);
        memset(&o, 0, sizeof o);
        o.dir = dir;
        o.origin = ORIGIN;
        o.rotate_bytes = ROTATE_BYTES;
        o.rotate_daily = 1;
        o.fsync_batch_ms = BATCH_MS;
        o.key_epoch_s = KEY_EPOCH_S;
        if ((l = audit_log_open(&o, wall_ms(), &err)) == NULL)
                die(dir, &err);
        return l;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_tree(const char *path)
{
        (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------ a cycle's result */

static void fill_hash(uint8_t h[32])
{
        randombytes_buf(h, 32);
}

static cJSON *amount(cJSON *parent, const char *key, const char *base_units, const char *units)
{
        cJSON *o = cJSON_AddObjectToObject(parent, key);

        cJSON_AddStringToObject(o, "base", base_units);
        cJSON_AddStringToObject(o, "units", units);
        return o;
}

/*
 * A result as a cycle on a two-chain bridge with two endpoints per chain
 * makes it; with `violated`, SUPPLY_MISMATCH is violated with evidence shaped
 * like its own, trimmed (one asset, the comparison that failed), else every
 * verdict is ok.
 */
static void make_result(struct cycle_result *r, int violated)
{
        static const char *const names[] = {
                "SUPPLY_MISMATCH",   "NONCE_DESYNC",  "DUPLICATE_BATCH",      "INVALID_PROOF",
                "UNAUTHORIZED_MINT", "RELAYER_STALL", "HIGH_LATENCY",         "CONSUMER_LAG",
                "RPC_TIMEOUT",       "RPC_SUCCESS",   "ENDPOINT_DISAGREEMENT"};
        static const char *const endpoints[2][2] = {
                {"https://eth-mainnet.g.alchemy.com/v2/<redacted>",
                 "https://rpc.ankr.com/eth/<redacted>"},
                {"https://arb-mainnet.g.alchemy.com/v2/<redacted>",
                 "https://arbitrum.blockpi.network/v1/rpc/<redacted>"}};
        size_t i, n = sizeof names / sizeof names[0];
        int role;

        memset(r, 0, sizeof *r);
        snprintf(r->snapshot.correlation_id, sizeof r->snapshot.correlation_id,
                 "rw-6f1c2a9e4b7d4c0e8a3f5b2d1e9c7a64");
        r->snapshot.taken_ms = wall_ms();
        for (role = 0; role < SNAP_NCHAINS; role++) {
                struct snap_chain *ch = &r->snapshot.chains[role];

                ch->chain_id = role == SNAP_SOURCE ? 1 : 42161;
                ch->ok = 1;
                ch->head = role == SNAP_SOURCE ? 21345678 : 287654321;
                ch->confirmations = role == SNAP_SOURCE ? 12 : 0;
                ch->pinned = ch->tip = ch->head - ch->confirmations;
                ch->nviews = 2;
                for (i = 0; i < 2; i++) {
                        snprintf(ch->views[i].endpoint, sizeof ch->views[i].endpoint, "%s",
                                 endpoints[role][i]);
                        ch->views[i].ok = 1;
                        fill_hash(ch->views[i].block_hash);
                }
        }
        if ((r->verdicts = calloc(n, sizeof *r->verdicts)) == NULL)
                die("out of memory", NULL);
        r->nverdicts = n;
        for (i = 0; i < n; i++) {
                r->verdicts[i].invariant = names[i];
                r->verdicts[i].tier = i < 5 ? VERDICT_TIER_HALT
                                            : (i < 8 ? VERDICT_TIER_ALERT : VERDICT_TIER_TRACK);
                r->verdicts[i].status = VERDICT_OK;
                r->verdicts[i].mode = INVARIANT_ENFORCE;
                snprintf(r->verdicts[i].summary, sizeof r->verdicts[i].summary, "%s: ok", names[i]);
        }
        r->tier1 = VERDICT_OK;
        r->duration_ms = 9;
        if (violated) {
                struct verdict *v = &r->verdicts[0];
                cJSON *ev = cJSON_CreateObject(), *assets, *a, *cmps, *c;

                v->status = VERDICT_VIOLATED;
                snprintf(v->summary, sizeof v->summary,
                         "SIGIL backing: totalSupply 1,204,881.5 SIGIL at execution block "
                         "287654321 exceeds the lockbox at source block 21345666 by 602,440.75 "
                         "SIGIL");
                assets = cJSON_AddArrayToObject(ev, "assets");
                a = cJSON_CreateObject();
                cJSON_AddItemToArray(assets, a);
                cJSON_AddStringToObject(a, "asset", "SIGIL");
                cJSON_AddStringToObject(a, "status", "violated");
                cJSON_AddStringToObject(a, "source_token",
                                        "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0");
                cJSON_AddStringToObject(a, "bridged_token",
                                        "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9");
                amount(a, "lockbox_balance", "602440750000000000000000", "602,440.75 SIGIL");
                amount(a, "total_supply", "1204881500000000000000000", "1,204,881.5 SIGIL");
                cmps = cJSON_AddArrayToObject(a, "comparisons");
                c = cJSON_CreateObject();
                cJSON_AddItemToArray(cmps, c);
                cJSON_AddStringToObject(c, "comparison", "backing");
                cJSON_AddStringToObject(c, "status", "violated");
                amount(c, "delta", "602440750000000000000000", "602,440.75 SIGIL");
                cJSON_AddStringToObject(c, "direction", "totalSupply above the lockbox balance");
                c = cJSON_AddArrayToObject(ev, "subjects");
                cJSON_AddItemToArray(c, cJSON_CreateString("asset SIGIL"));
                v->evidence = ev;
                r->tier1 = VERDICT_VIOLATED;
        }
}

/*
 * The content audit_trail wrote for its last cycle_verdict in its log in
 * `dir` (read back, so the raw appends below write exactly that record).
 */
static cJSON *last_verdict_content(const char *dir, size_t *line_bytes)
{
        char **files = NULL, path[4400], *line = NULL;
        size_t nfiles = 0, cap = 0;
        ssize_t got;
        cJSON *content = NULL;
        struct rwerr err;
        FILE *f;

        if (audit_log_files(dir, &files, &nfiles, &err) != RW_OK || nfiles == 0)
                die("the trail's log files", &err);
        snprintf(path, sizeof path, "%s/%s", dir, files[nfiles - 1]);
        if ((f = fopen(path, "r")) == NULL)
                die(path, NULL);
        while ((got = getline(&line, &cap, f)) > 0) {
                cJSON *rec;

                if (strstr(line, "\"kind\":\"cycle_verdict\"") == NULL ||
                    (rec = cJSON_Parse(line)) == NULL)
                        continue;
                cJSON_Delete(content);
                content = cJSON_DetachItemFromObject(rec, "content");
                *line_bytes = (size_t)got;
                cJSON_Delete(rec);
        }
        fclose(f);
        free(line);
        audit_log_files_free(files, nfiles);
        if (content == NULL)
                die("no cycle_verdict record in the trail's log", NULL);
        return content;
}

/* ------------------------------------------------------------ the trail */

#define A_SIGIL "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0"
#define A_BSIGIL "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9"

struct trail {
        struct config *cfg;
        struct finding_journal journal;
        struct audit_trail *t;
        char dir[4200];
};

/* The supervisor's audit trail on a configuration of defaults but [audit] dir. */
static void trail_open(struct trail *tr, const char *name)
{
        char text[8192];
        struct rwerr err;

        memset(tr, 0, sizeof *tr);
        snprintf(tr->dir, sizeof tr->dir, "%s/%s", base, name);
        snprintf(text, sizeof text,
                 "[database]\nurl = postgres://rw@127.0.0.1:5432/bridge\n"
                 "[asset SIGIL]\nsource_token = " A_SIGIL "\nbridged_token = " A_BSIGIL
                 "\ndecimals = 18\n"
                 "[relayer]\naccounts = 0x70997970c51812dc3a010c7d01b50e0d17dc79c8\n"
                 "[chain source]\nchain_id = 31337\nendpoints = http://127.0.0.1:8545\n"
                 "lockbox = 0x5fbdb2315678afecb367f032d93f642f64180aa3\n"
                 "root_registry = 0xe7f1725e7734ce288f8367e1bb143e90bb3f0512\n"
                 "[chain execution]\nchain_id = 31338\nendpoints = http://127.0.0.1:8546\n"
                 "[audit]\ndir = %s\n",
                 tr->dir);
        if ((tr->cfg = config_load_string(text, strlen(text), "bench.conf", stderr, &err)) == NULL)
                die("the trail's configuration", &err);
        if ((tr->t = audit_trail_open(tr->cfg, &tr->journal, NULL)) == NULL)
                die("audit_trail_open", NULL);
}

static void trail_close(struct trail *tr)
{
        audit_trail_close(tr->t, "bench");
        finding_journal_release(&tr->journal);
        config_free(tr->cfg);
}

/* ------------------------------------------------------------ part 1 */

struct rate {
        uint64_t records, bytes, ticks;
        double seconds, tick_ms;
};

static struct rate append_for(const char *name, const cJSON *content, int durable, double seconds)
{
        struct audit_log *l = open_log(name);
        struct rate r = {0};
        struct rwerr err;
        uint64_t t0, stop, last_tick, now;
        uint64_t size0 = audit_log_size(l);

        t0 = last_tick = mono_ns();
        stop = t0 + (uint64_t)(seconds * 1e9);
        do {
                if (audit_log_append(l, "cycle_verdict", "rw-6f1c2a9e4b7d4c0e8a3f5b2d1e9c7a64",
                                     content, durable, wall_ms(), NULL, &err) != RW_OK)
                        die("append", &err);
                r.records++;
                now = mono_ns();
                if (now - last_tick >= 1000000000u) { /* the loop's tick, once a second */
                        if (audit_log_tick(l, wall_ms(), CHECKPOINT_MS, NULL, &err) != RW_OK)
                                die("tick", &err);
                        last_tick = mono_ns();
                        r.tick_ms += (double)(last_tick - now) / 1e6;
                        r.ticks++;
                        now = last_tick;
                }
        } while (now < stop);
        /* what is still waiting for the batched fsync is fsync'd at close: count it */
        audit_log_close(l);
        r.seconds = (double)(mono_ns() - t0) / 1e9;
        (void)size0;
        return r;
}

static void part_appends(const cJSON *content, size_t line_bytes, int rounds, double seconds)
{
        double ratios[64] = {0};
        int round, k;

        printf("== 1. appends per second: a cycle_verdict record of %zu bytes, %d rounds of "
               "%.1f s a side, alternating\n",
               line_bytes, rounds, seconds);
        for (round = 0; round < rounds; round++) {
                struct rate d = {0}, b = {0};
                char name[64], path[4200];

                for (k = 0; k < 2; k++) {
                        int durable = (k + round) % 2 == 0;

                        snprintf(name, sizeof name, "rate-%d-%s", round,
                                 durable ? "durable" : "batched");
                        if (durable)
                                d = append_for(name, content, 1, seconds);
                        else
                                b = append_for(name, content, 0, seconds);
                        snprintf(path, sizeof path, "%s/%s", base, name);
                        rm_tree(path); /* the disk space back before the next */
                }
                ratios[round] = ((double)b.records / b.seconds) / ((double)d.records / d.seconds);
                printf("round %d:\n", round + 1);
                printf("  durable (fsync each):          %9.0f records/s (%7.2f MB/s), %" PRIu64
                       " records in %.2f s\n",
                       (double)d.records / d.seconds,
                       (double)d.records * (double)line_bytes / d.seconds / 1e6, d.records,
                       d.seconds);
                printf("  batched (fsync_batch_ms 1000): %9.0f records/s (%7.2f MB/s), %" PRIu64
                       " records in %.2f s; %" PRIu64 " ticks took %.1f ms\n",
                       (double)b.records / b.seconds,
                       (double)b.records * (double)line_bytes / b.seconds / 1e6, b.records,
                       b.seconds, b.ticks, b.tick_ms);
                printf("  ratio batched / durable: %.0fx\n", ratios[round]);
        }
        qsort(ratios, (size_t)rounds, sizeof ratios[0], cmp_double);
        printf("median ratio batched / durable: %.0fx\n", ratios[rounds / 2]);
}

/* ------------------------------------------------------------ part 2 */

static void part_halt(const cJSON *content, struct trail *tr, const struct cycle_result *bad,
                      long halts)
{
        struct samples app = {0}, cp = {0}, both = {0}, trail = {0}, sign = {0}, disk = {0},
                       state = {0};
        struct audit_log *l = open_log("halt");
        unsigned char pk[32], sk[64], buf[1024];
        char path[4400];
        struct rwerr err;
        long i;
        int fd;

        crypto_sign_keypair(pk, sk);
        randombytes_buf(buf, sizeof buf);
        snprintf(path, sizeof path, "%s/fsync-probe", base);
        if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
                die(path, NULL);
        printf("== 2. the halt path, %ld times, interleaved: what is written before a HALT is "
               "published\n",
               halts);
        for (i = 0; i < halts; i++) {
                struct audit_checkpoint body;
                char *text = NULL, *note = NULL;
                uint64_t t0, t1, t2;

                /* (a) the raw log calls */
                t0 = mono_ns();
                if (audit_log_append(l, "cycle_verdict", "rw-halt", content, 1, wall_ms(), NULL,
                                     &err) != RW_OK)
                        die("append", &err);
                t1 = mono_ns();
                if (audit_log_checkpoint(l, "rw-halt", wall_ms(), NULL, &err) != RW_OK)
                        die("checkpoint", &err);
                t2 = mono_ns();
                add(&app, t1 - t0);
                add(&cp, t2 - t1);
                add(&both, t2 - t0);
                /* (b) the supervisor's call for a cycle that will halt */
                t0 = mono_ns();
                audit_trail_cycle(tr->t, bad, (uint64_t)i + 1, 0, 1);
                add(&trail, mono_ns() - t0);
                /* (c) the checkpoint's text and its Ed25519 signature alone */
                memset(&body, 0, sizeof body);
                snprintf(body.origin, sizeof body.origin, "%s", ORIGIN);
                body.size = (uint64_t)i + 1000;
                randombytes_buf(body.root, sizeof body.root);
                t0 = mono_ns();
                if (audit_checkpoint_format(&body, &text, &err) != RW_OK ||
                    audit_note_sign(text, ORIGIN, sk, &note, &err) != RW_OK)
                        die("sign", &err);
                add(&sign, mono_ns() - t0);
                free(text);
                free(note);
                /* (d) the disk: 1 KB appended to a plain file and fsync'd */
                t0 = mono_ns();
                if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) != 0)
                        die("write + fsync", NULL);
                add(&disk, mono_ns() - t0);
                /* (e) what the tick does to tree.state after a checkpoint: a 1 KB file replaced durably */
                t0 = mono_ns();
                if (fileio_replace(base, "state-probe", (const char *)buf, sizeof buf, 0600, 1,
                                   &err) != RW_OK)
                        die("replace", &err);
                add(&state, mono_ns() - t0);
        }
        close(fd);
        audit_log_close(l);
        print_header((size_t)halts);
        print_row("append cycle_verdict, durable (1 fsync)", &app);
        print_row("checkpoint (sign, record synced)", &cp);
        print_row("append + checkpoint", &both);
        print_row("audit_trail_cycle(halting): the supervisor", &trail);
        print_row("checkpoint text + Ed25519 signature alone", &sign);
        print_row("1 KB write + fsync of a plain file", &disk);
        print_row("1 KB file replaced (fsync, rename, dir fsync)", &state);
        printf("target: the halt path adds under 5 ms at p99: audit_trail_cycle(halting) p99 "
               "%.3f ms: %s (append + checkpoint p99 %.3f ms: %s)\n",
               pct(&trail, 0.99), pct(&trail, 0.99) < 5 ? "met" : "NOT met", pct(&both, 0.99),
               pct(&both, 0.99) < 5 ? "met" : "NOT met");
        free(app.v);
        free(cp.v);
        free(both.v);
        free(trail.v);
        free(sign.v);
        free(disk.v);
        free(state.v);
}

/* ------------------------------------------------------------ part 3 */

/*
 * One simulated minute per sample, on a log of its own: `every_s` > 0: a
 * record not ok every every_s seconds; 0: healthy (one cycles_ok summary at
 * the end of the minute). The loop's tick every second, as audit_trail_tick
 * calls audit_log_tick. The samples are each minute's total time; *append
 * gets the time of the appends alone.
 */
static void simulate(const char *name, const cJSON *content, int every_s, int minutes,
                     struct samples *total, struct samples *append)
{
        struct audit_log *l = open_log(name);
        cJSON *summary = cJSON_CreateObject(), *h;
        int64_t t = wall_ms();
        struct rwerr err;
        int m, s;

        cJSON_AddNumberToObject(summary, "cycles", 12);
        cJSON_AddNumberToObject(summary, "first_cycle", 1001);
        cJSON_AddNumberToObject(summary, "last_cycle", 1012);
        h = cJSON_AddObjectToObject(summary, "last_heights");
        cJSON_AddNumberToObject(h, "source", 21345666);
        cJSON_AddNumberToObject(h, "execution", 287654321);
        /* the first checkpoint (after the start's records), outside the timing */
        if (audit_log_checkpoint(l, "start", t, NULL, &err) != RW_OK)
                die("checkpoint", &err);
        for (m = 0; m < minutes; m++) {
                uint64_t minute = 0, appends = 0, t0;

                for (s = 1; s <= 60; s++) {
                        t += 1000;
                        if ((every_s > 0 && s % every_s == 0) || (every_s == 0 && s == 60)) {
                                t0 = mono_ns();
                                if (audit_log_append(l, every_s > 0 ? "cycle_verdict" : "cycles_ok",
                                                     "rw-sim", every_s > 0 ? content : summary, 0,
                                                     t, NULL, &err) != RW_OK)
                                        die("append", &err);
                                appends += mono_ns() - t0;
                        }
                        /* the tick: a second later than the append at the latest */
                        t0 = mono_ns();
                        if (audit_log_tick(l, t + (every_s > 0 ? 999 : 0), CHECKPOINT_MS, NULL,
                                           &err) != RW_OK)
                                die("tick", &err);
                        minute += mono_ns() - t0;
                }
                add(total, minute + appends);
                add(append, appends);
        }
        cJSON_Delete(summary);
        audit_log_close(l);
}

static double median_of(const struct samples *s)
{
        return pct(s, 0.5);
}

static void part_share(const cJSON *content, struct trail *tr, const struct cycle_result *bad,
                       const char *conf, long cycles, double cycle_ms, int minutes)
{
        struct trail healthy; /* a trail of its own: a cycle not ok would write its summary */
        struct samples cyc = {0}, ok = {0}, notok = {0};
        struct samples h_min = {0}, h_app = {0}, n5_min = {0}, n5_app = {0}, n1_min = {0},
                       n1_app = {0};
        struct cycle_result good;
        struct config *cfg = NULL;
        struct observer *obs = NULL;
        struct observe_window w = {-1, 0, 0, -1, -1, 0, 0, 0};
        struct rwerr err;
        uint64_t prev = 0, t0;
        long i;

        printf("== 3. the log's share of a cycle at the default policy (checkpoint_s 60, "
               "fsync_batch_ms 1000, the tick every second)\n");
        make_result(&good, 0);
        trail_open(&healthy, "trail-healthy");
        if (conf != NULL) {
                if ((cfg = config_load(conf, stderr, &err)) == NULL ||
                    (obs = observer_new(cfg, &err)) == NULL)
                        die(conf, &err);
                printf("warm cycles: cycle_run on %s as bench_cycle runs it (the first, which "
                       "connects, not counted)\n",
                       conf);
        }
        for (i = conf != NULL ? -1 : 0; i < cycles; i++) {
                if (obs != NULL) {
                        struct cycle_result r;

                        t0 = mono_ns();
                        if (cycle_run(obs, &cfg->params, &w, prev, &r, &err) != RW_OK)
                                die("cycle_run", &err);
                        if (i >= 0)
                                add(&cyc, mono_ns() - t0);
                        if (r.tier1 != VERDICT_OK) {
                                fprintf(stderr, "bench_audit: cycle %ld is %s, not valid\n", i + 2,
                                        verdict_status_name(r.tier1));
                                exit(1);
                        }
                        prev = r.duration_ms;
                        cycle_result_release(&r);
                }
                if (i < 0)
                        continue;
                t0 = mono_ns();
                audit_trail_cycle(healthy.t, &good, (uint64_t)(100000 + i), 0, 0);
                add(&ok, mono_ns() - t0);
                t0 = mono_ns();
                audit_trail_cycle(tr->t, bad, (uint64_t)(200000 + i), 0, 0);
                add(&notok, mono_ns() - t0);
        }
        cycle_result_release(&good);
        trail_close(&healthy);
        observer_free(obs);
        config_free(cfg);
        simulate("sim-healthy", content, 0, minutes, &h_min, &h_app);
        simulate("sim-notok-5s", content, 5, minutes, &n5_min, &n5_app);
        simulate("sim-notok-1s", content, 1, minutes, &n1_min, &n1_app);

        printf("(a) in line, per cycle (%ld each, alternating%s)\n", cycles,
               conf != NULL ? " with the warm cycle" : "");
        print_header((size_t)cycles);
        if (cyc.n > 0)
                print_row("warm cycle (cycle_run)", &cyc);
        print_row("audit_trail_cycle, healthy (counted)", &ok);
        print_row("audit_trail_cycle, a verdict not ok (no fsync)", &notok);
        printf("(b) on the tick, per simulated minute (%d minutes each; real writes and "
               "fsyncs)\n",
               minutes);
        print_header((size_t)minutes);
        print_row("healthy: summary + checkpoint + 60 ticks", &h_min);
        print_row("  of which the summary's append", &h_app);
        print_row("not ok every 5 s: 12 records, fsyncs, checkpoint", &n5_min);
        print_row("  of which the 12 appends", &n5_app);
        print_row("not ok every 1 s: 60 records, fsyncs, checkpoint", &n1_min);
        print_row("  of which the 60 appends", &n1_app);

        if (cyc.n > 0)
                cycle_ms = median_of(&cyc);
        if (cycle_ms <= 0) {
                printf("(no cycle time: give --config or --cycle-ms for the shares)\n");
        } else {
                /* per cycle: in line (median) + the tick's work of a minute (mean) / cycles a minute */
                double h5 = median_of(&ok) + mean(&h_min) / 12;
                double h1 = median_of(&ok) + mean(&h_min) / 60;
                double b5 = median_of(&notok) + (mean(&n5_min) - mean(&n5_app)) / 12;
                double b1 = median_of(&notok) + (mean(&n1_min) - mean(&n1_app)) / 60;

                printf("(c) per cycle: in line (median) + the tick's work of a minute (mean) "
                       "spread over its cycles, against a warm cycle of %.3f ms (%s)\n",
                       cycle_ms, cyc.n > 0 ? "median, measured above" : "--cycle-ms");
                printf("  healthy,  interval_ms 5000 (12 a minute): %8.4f ms = %6.3f%%\n", h5,
                       100 * h5 / cycle_ms);
                printf("  healthy,  1 s blocks (60 a minute):       %8.4f ms = %6.3f%%\n", h1,
                       100 * h1 / cycle_ms);
                printf("  not ok,   interval_ms 5000:               %8.4f ms = %6.3f%%\n", b5,
                       100 * b5 / cycle_ms);
                printf("  not ok,   1 s blocks:                     %8.4f ms = %6.3f%%\n", b1,
                       100 * b1 / cycle_ms);
                printf("target: under 5%% of a cycle at the default policy (interval_ms 5000): "
                       "healthy %.3f%%: %s; not ok %.3f%%: %s\n",
                       100 * h5 / cycle_ms, 100 * h5 / cycle_ms < 5 ? "met" : "NOT met",
                       100 * b5 / cycle_ms, 100 * b5 / cycle_ms < 5 ? "met" : "NOT met");
        }
        free(cyc.v);
        free(ok.v);
        free(notok.v);
        free(h_min.v);
        free(h_app.v);
        free(n5_min.v);
        free(n5_app.v);
        free(n1_min.v);
        free(n1_app.v);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
        const char *dir = "/tmp", *conf = NULL;
        int parts = 0, rounds = 3, minutes = 30, keep = 0, a;
        double seconds = 2, cycle_ms = 0;
        long halts = 1000, cycles = 60;
        struct cycle_result bad;
        struct trail tr;
        cJSON *content;
        size_t line_bytes = 0;
        char trail_log[4300];

        for (a = 1; a < argc; a++) {
                const char *v = a + 1 < argc ? argv[a + 1] : NULL;

                if (strcmp(argv[a], "--keep") == 0) {
                        keep = 1;
                        continue;
                }
                if (v == NULL)
                        goto usage;
                if (strcmp(argv[a], "--dir") == 0)
                        dir = v;
                else if (strcmp(argv[a], "--part") == 0) {
                        long part = strtol(v, NULL, 10);

                        if (part < 1 || part > 3)
                                goto usage;
                        parts |= 1 << part;
                } else if (strcmp(argv[a], "--rounds") == 0)
                        rounds = (int)strtol(v, NULL, 10);
                else if (strcmp(argv[a], "--seconds") == 0)
                        seconds = strtod(v, NULL);
                else if (strcmp(argv[a], "--halts") == 0)
                        halts = strtol(v, NULL, 10);
                else if (strcmp(argv[a], "--config") == 0)
                        conf = v;
                else if (strcmp(argv[a], "--cycles") == 0)
                        cycles = strtol(v, NULL, 10);
                else if (strcmp(argv[a], "--cycle-ms") == 0)
                        cycle_ms = strtod(v, NULL);
                else if (strcmp(argv[a], "--minutes") == 0)
                        minutes = (int)strtol(v, NULL, 10);
                else
                        goto usage;
                a++;
        }
        if (rounds < 1 || rounds > 64 || seconds <= 0 || halts < 1 || cycles < 1 || minutes < 1)
                goto usage;
        if (parts == 0)
                parts = 1 << 1 | 1 << 2 | 1 << 3;
        if (sodium_init() < 0)
                die("sodium_init", NULL);
        snprintf(base, sizeof base, "%s/bench-audit.XXXXXX", dir);
        if (mkdtemp(base) == NULL) {
                fprintf(stderr, "bench_audit: %s: %s\n", base, strerror(errno));
                return 1;
        }
        printf("bench_audit: logs in %s\n", base);

        /* the supervisor's trail, and the record it writes for a cycle not ok */
        make_result(&bad, 1);
        trail_open(&tr, "trail");
        audit_trail_cycle(tr.t, &bad, 1, 0, 0);
        snprintf(trail_log, sizeof trail_log, "%s/trail", base);
        content = last_verdict_content(trail_log, &line_bytes);
        {
                char *text = cJSON_PrintUnformatted(content);

                printf("the cycle_verdict record: %zu bytes (content %zu bytes), as "
                       "audit_trail writes it for a result with SUPPLY_MISMATCH violated\n",
                       line_bytes, strlen(text));
                free(text);
        }

        if (parts & 1 << 1)
                part_appends(content, line_bytes, rounds, seconds);
        if (parts & 1 << 2)
                part_halt(content, &tr, &bad, halts);
        if (parts & 1 << 3)
                part_share(content, &tr, &bad, conf, cycles, cycle_ms, minutes);

        trail_close(&tr);
        cycle_result_release(&bad);
        cJSON_Delete(content);
        if (!keep)
                rm_tree(base);
        return 0;
usage:
        fprintf(stderr, "usage: bench_audit [--dir DIR] [--part 1|2|3]... [--rounds R] "
                        "[--seconds S] [--halts N] [--config CONF] [--cycles C] "
                        "[--cycle-ms MS] [--minutes M] [--keep]\n");
        return 64;
}
