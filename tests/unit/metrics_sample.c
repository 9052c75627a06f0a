/*
 * metrics_sample: a full /metrics exposition for a realistic hand-built
 * state (two chains of two endpoints, three assets, a check violated for
 * two subjects, findings, open alerts, two receivers, HALTs in force, the
 * audit log), written to stdout. The metrics_promtool test pipes it into
 * `promtool check metrics`, which must print nothing.
 *
 *   metrics_sample [--assets N] [--time]
 *
 * --assets N renders with N assets instead of three (the render benchmark);
 * --time prints the size and the render time to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cycle_result.h"
#include "invariant.h"
#include "metrics.h"
#include "rwclock.h"
#include "snapshot.h"
#include "u256.h"

#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static const char *const status_text =
        "{\"v\":1,\"watchdog_id\":\"wd-1\",\"healthy\":false,"
        "\"halt_path\":{\"ok\":true,\"state_readable\":true,\"problems\":[]},"
        "\"heartbeat\":{\"ok\":true,\"last_set_at_ms\":1767225599250,\"ttl_ms\":3000,"
        "\"key\":\"relaywatch:heartbeat\"},"
        "\"incidents\":["
        "{\"invariant\":\"SUPPLY_MISMATCH\",\"subject\":\"SIGIL\",\"id\":\"h1\",\"phase\":"
        "\"published\",\"ours\":true,\"acked_at_ms\":0},"
        "{\"invariant\":\"NONCE_DESYNC\",\"subject\":\"\",\"id\":\"h2\",\"phase\":\"pending\","
        "\"ours\":true,\"acked_at_ms\":0},"
        "{\"invariant\":\"DUPLICATE_BATCH\",\"subject\":\"\",\"id\":\"h0\",\"phase\":"
        "\"published\",\"ours\":false,\"acked_at_ms\":1767225000000},"
        "{\"invariant\":\"DUPLICATE_BATCH\",\"subject\":\"\",\"id\":\"h-1\",\"phase\":"
        "\"resumed\",\"ours\":false,\"acked_at_ms\":1767224000000}],"
        "\"alerts\":["
        "{\"name\":\"SUPPLY_MISMATCH\",\"subject\":\"asset SIGIL\",\"severity\":\"CRITICAL\"},"
        "{\"name\":\"SUPPLY_MISMATCH\",\"subject\":\"asset USDX\",\"severity\":\"CRITICAL\"},"
        "{\"name\":\"RPC_TIMEOUT\",\"subject\":\"chain execution\",\"severity\":\"WARNING\"}],"
        "\"silences\":[],"
        "\"alert_routes\":{"
        "\"pagerduty\":{\"type\":\"pagerduty\",\"queued\":0,\"in_flight\":1,\"spooled\":0,"
        "\"delivered\":12,\"failed\":0,\"retried\":1,\"failing\":false,\"last_problem\":\"\"},"
        "\"team \\\"chat\\\"\":{\"type\":\"slack\",\"queued\":2,\"in_flight\":0,\"spooled\":3,"
        "\"delivered\":40,\"failed\":5,\"retried\":9,\"failing\":true,"
        "\"last_problem\":\"HTTP 500\"}},"
        "\"audit\":{\"dir\":\"/var/lib/relaywatch/audit\",\"down\":false,\"records\":4821,"
        "\"checkpoint_size\":4800,\"checkpoint_unix_ms\":1767225540000,\"epoch\":3}}";

static void die(const char *what)
{
        fprintf(stderr, "metrics_sample: %s\n", what);
        exit(1);
}

static void set_u256(struct u256 *out, const char *units, unsigned decimals)
{
        if (u256_parse_units(units, strlen(units), decimals, out, NULL) != 0)
                die("bad amount");
}

static void fill_chain(struct snapshot *s, enum snap_chain_role c, uint64_t chain_id, uint64_t head,
                       unsigned confirmations)
{
        static const char *const names[SNAP_NCHAINS][2] = {
                {"https://eth-mainnet.example/v2/<redacted>", "https://rpc.ankr.example/eth"},
                {"https://arb1.example/rpc", "wss://arb.example:8548/<redacted>"}};
        struct snap_chain *ch = &s->chains[c];
        size_t k, i;

        ch->chain_id = chain_id;
        ch->ok = 1;
        ch->head = head;
        ch->confirmations = confirmations;
        ch->tip = head - confirmations;
        ch->pinned = ch->tip - 2;
        ch->ledger_indexed = 1;
        ch->indexed_through = ch->pinned;
        ch->nviews = 1;
        (void)snprintf(ch->views[0].endpoint, sizeof ch->views[0].endpoint, "%s", names[c][0]);
        ch->views[0].ok = 1;
        if (snapshot_alloc_view(s, c, &ch->views[0]) != 0)
                die("out of memory");
        ch->nendpoints = 2;
        for (k = 0; k < 2; k++) {
                struct snap_endpoint_health *h = &ch->endpoints[k];

                (void)snprintf(h->endpoint, sizeof h->endpoint, "%s", names[c][k]);
                h->breaker = k == 0 ? "closed" : (c == SNAP_EXECUTION ? "open" : "half-open");
                for (i = 0; i < 500 + 37 * k; i++)
                        latency_hist_add(&h->latency, (double)((i * 7 + k * 13) % 900) + 0.4);
                if (k == 1)
                        latency_hist_add(&h->latency, 31000); /* a timeout: past the last bound */
                h->exchanges = h->latency.count;
                h->failures = k == 1 ? 23 : 0;
        }
}

static void fill_assets(struct snapshot *s, size_t nassets)
{
        static const char *const names[] = {"SIGIL", "USDX", "WBTC"};
        static const unsigned decimals[] = {18, 6, 8};
        struct snap_view *src = &s->chains[SNAP_SOURCE].views[0];
        struct snap_view *exe = &s->chains[SNAP_EXECUTION].views[0];
        size_t i;

        for (i = 0; i < nassets; i++) {
                struct snap_asset *a = &s->assets[i];
                struct snap_ledger_asset *la = &s->ledger.assets[i];
                char amount[64];

                if (i < 3)
                        (void)snprintf(a->name, sizeof a->name, "%s", names[i]);
                else
                        (void)snprintf(a->name, sizeof a->name, "TOKEN%zu", i);
                a->decimals = decimals[i % 3];
                set_u256(&a->tolerance, "0.01", a->decimals);
                la->known = 1;
                (void)snprintf(amount, sizeof amount, "%zu.5", 1000000 + i * 1000);
                set_u256(&la->deposited, amount, a->decimals);
                set_u256(&la->released, "250000.25", a->decimals);
                set_u256(&la->minted, amount, a->decimals);
                set_u256(&la->burnt, "250000.25", a->decimals);
                /* the chain agrees except: SIGIL short on the lockbox, USDX over-minted */
                (void)snprintf(amount, sizeof amount, "%zu.25", 750000 + i * 1000);
                set_u256(&src->token_values[i], amount, a->decimals);
                set_u256(&exe->token_values[i], amount, a->decimals);
                if (i == 0)
                        set_u256(&src->token_values[i], "749990", a->decimals);
                if (i == 1)
                        set_u256(&exe->token_values[i], "751001.25", a->decimals);
        }
}

static void fill_ledger(struct snapshot *s)
{
        static const char *const queries[] = {"totals",     "batches", "withdrawals",
                                              "operations", "cycles",  "progress"};
        struct snap_ledger *l = &s->ledger;
        size_t i;

        l->ok = 1;
        l->pending_operations = 3;
        for (i = 0; i < sizeof queries / sizeof queries[0]; i++) {
                l->queries[i].name = queries[i];
                l->queries[i].ms = 0.3 + (double)i * 1.7;
        }
        l->nqueries = i;
        l->progress = (struct snap_progress){.known = 1,
                                             .deposits = 18234,
                                             .deposits_pending = 4,
                                             .batches_created = 912,
                                             .batches_anchored = 910,
                                             .withdrawals = 6001,
                                             .withdrawals_claimed = 5990,
                                             .withdrawals_pending = 11};
        l->cycles = calloc(2, sizeof *l->cycles);
        if (l->cycles == NULL)
                die("out of memory");
        l->ncycles = 2;
        l->cycles[0] = (struct snap_cycle_timing){.cycle_id = 77120, .duration_ms = 1450};
        l->cycles[1] = (struct snap_cycle_timing){.cycle_id = 77121, .duration_ms = 1310};
}

/* The verdicts a bad day gives: SUPPLY_MISMATCH for two assets, measures for Tier 3. */
static void shape_verdicts(struct cycle_result *r)
{
        size_t i;

        for (i = 0; i < r->nverdicts; i++) {
                struct verdict *v = &r->verdicts[i];

                v->eval_us = 40 + 97 * i;
                if (strcmp(v->invariant, "SUPPLY_MISMATCH") == 0) {
                        verdict_set(v, VERDICT_VIOLATED, "locked and minted differ");
                        verdict_add_subject(v, "asset SIGIL");
                        verdict_add_subject(v, "asset USDX");
                } else if (strcmp(v->invariant, "SETTLEMENT_LATENCY") == 0) {
                        v->has_value = 1;
                        v->value = 48250;
                } else if (strcmp(v->invariant, "PROOF_SUCCESS_RATE") == 0) {
                        v->has_value = 1;
                        v->value = 0.995;
                } else if (strcmp(v->invariant, "RPC_TIMEOUT") == 0) {
                        verdict_set(v, VERDICT_UNKNOWN, "execution chain endpoint timing out");
                }
        }
        r->tier1 = invariants_tier1_status(r->verdicts, r->nverdicts);
}

static int build(struct cycle_result *r, size_t nassets)
{
        struct invariant_params p;

        memset(r, 0, sizeof *r);
        if (snapshot_alloc_assets_accounts(&r->snapshot, nassets, 0) != 0)
                return -1;
        r->snapshot.taken_ms = NOW_MS - 1800;
        (void)snprintf(r->snapshot.correlation_id, sizeof r->snapshot.correlation_id,
                       "wd-1-0123456789abcdef0123456789abcdef");
        fill_chain(&r->snapshot, SNAP_SOURCE, 1, 21000000, 12);
        fill_chain(&r->snapshot, SNAP_EXECUTION, 42161, 300000000, 0);
        fill_assets(&r->snapshot, nassets);
        fill_ledger(&r->snapshot);
        r->verdicts = calloc(invariant_count + 1, sizeof *r->verdicts);
        if (r->verdicts == NULL)
                return -1;
        r->nverdicts = invariant_count + 1;
        invariant_params_defaults(&p);
        invariants_evaluate(&r->snapshot, &p, r->verdicts);
        shape_verdicts(r);
        r->duration_ms = 1740;
        return 0;
}

int main(int argc, char **argv)
{
        struct metrics_info info = {.version = "0.9.0-sample",
                                    .started_unix_ms = NOW_MS - 86400000,
                                    .blind_limit_ms = 60000,
                                    .cycle_target_ms = 2000};
        struct cycle_result r;
        struct metrics *m;
        cJSON *status;
        size_t nassets = 3, len = 0;
        int i, timed = 0;
        uint64_t t0, t1;
        char *text;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--assets") == 0 && i + 1 < argc)
                        nassets = strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--time") == 0)
                        timed = 1;
                else
                        die("usage: metrics_sample [--assets N] [--time]");
        }
        if (nassets == 0 || nassets > 100000)
                die("--assets: 1 to 100000");
        if ((m = metrics_new(&info)) == NULL || build(&r, nassets) != 0 ||
            (status = cJSON_Parse(status_text)) == NULL)
                die("out of memory");
        (void)metrics_observe_cycle(m, NULL, NOW_MS - 60000); /* one cycle that could not run */
        for (i = 0; i < 5; i++)
                (void)metrics_observe_cycle(m, &r, NOW_MS - 2000LL * (4 - i));
        metrics_count_finding(m, "HALT_NOT_ACKNOWLEDGED", "CRITICAL");
        metrics_count_finding(m, "ALERT_DELIVERY_FAILED", "ERROR");
        metrics_count_finding(m, "ALERT_DELIVERY_FAILED", "ERROR");
        metrics_count_record(m, "halt_published");
        metrics_count_record(m, "halt_published");
        metrics_count_record(m, "halt_acknowledged");
        metrics_count_record(m, "cycle"); /* not counted */

        t0 = rwclock_mono_us();
        text = metrics_render(m, status, NOW_MS, &len);
        t1 = rwclock_mono_us();
        if (text == NULL)
                die("out of memory rendering");
        if (fwrite(text, 1, len, stdout) != len)
                die("write failed");
        if (timed)
                fprintf(stderr, "metrics_sample: %zu assets: %zu bytes in %.3f ms\n", nassets, len,
                        (double)(t1 - t0) / 1000.0);
        free(text);
        cJSON_Delete(status);
        cycle_result_release(&r);
        metrics_free(m);
        return 0;
}
