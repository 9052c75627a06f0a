/*
 * Unit tests of watchdog/metrics/: the exposition format piece by piece
 * (escaping, numbers, families once, histograms), and metrics_render over
 * a hand-built cycle result and status object, line by line; and the
 * same figures in status.json (status_file_json), which the on-call page
 * and `relaywatch status --json` show beside the metrics.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cycle_result.h"
#include "inv_fixture.h"
#include "metrics.h"
#include "prom_text.h"
#include "status_file.h"

#define NOW_MS 1767225600000LL

static char *take(struct prom_text *t)
{
        char *s = prom_text_take(t, NULL);

        assert_non_null(s);
        return s;
}

static void has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        const char *p = text;

        while ((p = strstr(p, line)) != NULL) {
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return;
                p += n;
        }
        fail_msg("line not found: \"%s\" in:\n%s", line, text);
}

static void lacks(const char *text, const char *what)
{
        if (strstr(text, what) != NULL)
                fail_msg("\"%s\" should not be in:\n%s", what, text);
}

static size_t occurrences(const char *text, const char *what)
{
        size_t n = 0;

        for (; (text = strstr(text, what)) != NULL; text += strlen(what))
                n++;
        return n;
}

/* ------------------------------------------------------------ prom_text */

static void doubles(void **state)
{
        static const struct {
                double v;
                const char *want;
        } cases[] = {
                {0, "0"},
                {-0.0, "0"},
                {42, "42"},
                {-3, "-3"},
                {9007199254740993.0, "9007199254740992"},
                {0.25, "0.25"},
                {0.1, "0.1"},
                {2.5 / 1000.0, "0.0025"},
                {1.0 / 3.0, "0.3333333333333333"},
                {1e21, "1e+21"},
                {-1.5e-7, "-1.5e-07"},
                {1.7976931348623157e308, "1.7976931348623157e+308"},
        };
        char out[PROM_DOUBLE_SIZE];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                prom_format_double(cases[i].v, out);
                assert_string_equal(out, cases[i].want);
                assert_true(strtod(out, NULL) == cases[i].v || cases[i].v == 9007199254740993.0);
        }
        prom_format_double(NAN, out);
        assert_string_equal(out, "NaN");
        prom_format_double(INFINITY, out);
        assert_string_equal(out, "+Inf");
        prom_format_double(-INFINITY, out);
        assert_string_equal(out, "-Inf");
}

static void samples_and_escaping(void **state)
{
        struct prom_text t;
        struct prom_label l[2] = {{"asset", "a\\b\"c\nd"}, {"view", "ledger"}};
        char *s;

        (void)state;
        prom_text_init(&t);
        prom_family(&t, "x_tokens", "gauge", "Help with a \\ and\na newline \"quoted\".");
        prom_sample(&t, "x_tokens", l, 2, 1.5);
        prom_family(&t, "x_tokens", "gauge", "ignored: announced already");
        prom_sample(&t, "x_tokens", l, 1, -2);
        prom_sample_u64(&t, "x_total", NULL, 0, 18446744073709551615ULL);
        s = take(&t);
        assert_string_equal(s, "# HELP x_tokens Help with a \\\\ and\\na newline \"quoted\".\n"
                               "# TYPE x_tokens gauge\n"
                               "x_tokens{asset=\"a\\\\b\\\"c\\nd\",view=\"ledger\"} 1.5\n"
                               "x_tokens{asset=\"a\\\\b\\\"c\\nd\"} -2\n"
                               "x_total 18446744073709551615\n");
        free(s);
        /* an empty buffer is an empty string, not NULL */
        s = take(&t);
        assert_string_equal(s, "");
        free(s);
        /* bytes that are not UTF-8 (a cut sequence, a stray byte) become U+FFFD; é stays */
        l[0].value = "caf\xc3\xa9 \xc3 \xff!";
        prom_sample(&t, "x", l, 1, 1);
        s = take(&t);
        assert_string_equal(s, "x{asset=\"caf\xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd!\"} 1\n");
        free(s);
}

static void histogram(void **state)
{
        struct latency_hist h;
        struct prom_text t;
        struct prom_label l[1] = {{"check", "SUPPLY_MISMATCH"}};
        char *s;

        (void)state;
        memset(&h, 0, sizeof h);
        latency_hist_add(&h, 0.5);   /* <= 1 ms */
        latency_hist_add(&h, 1);     /* <= 1 ms: bounds are inclusive */
        latency_hist_add(&h, 7);     /* <= 10 */
        latency_hist_add(&h, 600);   /* <= 1000 */
        latency_hist_add(&h, 45000); /* past 30 s */
        prom_text_init(&t);
        prom_family(&t, "h_seconds", "histogram", "A histogram.");
        prom_histogram(&t, "h_seconds", l, 1, &h);
        s = take(&t);
        assert_string_equal(s, "# HELP h_seconds A histogram.\n"
                               "# TYPE h_seconds histogram\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.001\"} 2\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.0025\"} 2\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.005\"} 2\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.01\"} 3\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.025\"} 3\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.05\"} 3\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.1\"} 3\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.25\"} 3\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"0.5\"} 3\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"1\"} 4\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"2.5\"} 4\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"5\"} 4\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"10\"} 4\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"30\"} 4\n"
                               "h_seconds_bucket{check=\"SUPPLY_MISMATCH\",le=\"+Inf\"} 5\n"
                               "h_seconds_sum{check=\"SUPPLY_MISMATCH\"} 45.6085\n"
                               "h_seconds_count{check=\"SUPPLY_MISMATCH\"} 5\n");
        free(s);
}

/* ------------------------------------------------------------ metrics */

/* The verdict of `name` in r, to change by hand (cycle_result_verdict returns it const). */
static struct verdict *verdict_of(struct cycle_result *r, const char *name)
{
        size_t i;

        for (i = 0; i < r->nverdicts; i++)
                if (strcmp(r->verdicts[i].invariant, name) == 0)
                        return &r->verdicts[i];
        fail_msg("no verdict %s", name);
        return NULL;
}

static const struct metrics_info info = {.version = "1.2.3",
                                         .started_unix_ms = 1767225000500,
                                         .blind_limit_ms = 60000,
                                         .cycle_target_ms = 2000};

static char *render(const struct metrics *m, const cJSON *status)
{
        size_t len = 0;
        char *s = metrics_render(m, status, NOW_MS, &len);

        assert_non_null(s);
        assert_int_equal(strlen(s), len);
        return s;
}

static void nothing_known_yet(void **state)
{
        struct metrics *m = metrics_new(&info);
        char *s;

        (void)state;
        assert_non_null(m);
        s = render(m, NULL);
        has_line(s, "relaywatch_build_info{version=\"1.2.3\"} 1");
        has_line(s, "relaywatch_start_time_seconds 1767225000.5");
        has_line(s, "relaywatch_cycles_total{result=\"ok\"} 0");
        has_line(s, "relaywatch_cycles_total{result=\"failed\"} 0");
        has_line(s, "relaywatch_cycle_duration_seconds_count 0");
        has_line(s, "relaywatch_cycle_target_seconds 2");
        has_line(s, "relaywatch_blind_limit_seconds 60");
        has_line(s, "relaywatch_halts_published_total 0");
        /* what is not known is left out */
        lacks(s, "relaywatch_tier1_status");
        lacks(s, "relaywatch_last_tier1_evaluation_timestamp_seconds");
        lacks(s, "relaywatch_check_status");
        lacks(s, "relaywatch_halts_in_force");
        lacks(s, "relaywatch_halt_path_up");
        lacks(s, "relaywatch_heartbeat_age_seconds");
        lacks(s, "relaywatch_alerts_open");
        lacks(s, "relaywatch_audit_log_up");
        lacks(s, "relaywatch_rpc_requests_total");
        lacks(s, "relaywatch_chain_head_block");
        lacks(s, "relaywatch_bridge_");
        lacks(s, "relaywatch_findings_total");
        free(s);

        /* a cycle that could not run: counted, Tier 1 could not be evaluated */
        assert_int_equal(metrics_observe_cycle(m, NULL, NOW_MS), 0);
        s = render(m, NULL);
        has_line(s, "relaywatch_cycles_total{result=\"failed\"} 1");
        has_line(s, "relaywatch_tier1_status 1");
        lacks(s, "relaywatch_last_tier1_evaluation_timestamp_seconds");
        lacks(s, "relaywatch_check_status");
        free(s);
        metrics_free(m);
        metrics_free(NULL);
}

/* The fixture's healthy snapshot, with figures, and every check evaluated. */
static void build_result(struct cycle_result *r)
{
        struct snapshot *s = &r->snapshot;
        struct invariant_params p;
        struct snap_endpoint_health *h;
        size_t i;

        memset(r, 0, sizeof *r);
        inv_fixture_snapshot(s, 2, 0); /* SIGIL (18 decimals), USDX (6) */
        inv_fixture_params(&p);
        /* SIGIL: ledger locked 10 - 2.5 = 7.5, chain 9: delta -1.5 */
        s->ledger.assets[0].deposited = inv_fixture_units("10", 18);
        s->ledger.assets[0].released = inv_fixture_units("2.5", 18);
        s->chains[SNAP_SOURCE].views[0].token_values[0] = inv_fixture_units("9", 18);
        s->ledger.assets[0].minted = inv_fixture_units("7.5", 18);
        s->chains[SNAP_EXECUTION].views[0].token_values[0] = inv_fixture_units("7.5", 18);
        /* USDX; and the execution chain was not read */
        s->ledger.assets[1].deposited = inv_fixture_units("1000.000001", 6);
        s->chains[SNAP_SOURCE].views[0].token_values[1] = inv_fixture_units("1000.000001", 6);
        s->ledger.assets[1].minted = inv_fixture_units("1000.000001", 6);
        s->chains[SNAP_EXECUTION].ok = 0;
        snprintf(s->chains[SNAP_EXECUTION].error, sizeof s->chains[SNAP_EXECUTION].error,
                 "timed out");
        s->chains[SNAP_SOURCE].head = 112;
        h = &s->chains[SNAP_SOURCE].endpoints[0];
        h->exchanges = 10;
        h->failures = 2;
        latency_hist_add(&h->latency, 3);
        latency_hist_add(&h->latency, 40);
        s->chains[SNAP_EXECUTION].endpoints[0].breaker = "half-open";
        s->ledger.pending_operations = 4;
        s->ledger.nqueries = 2;
        s->ledger.queries[0] = (struct snap_query_time){"totals", 2};
        s->ledger.queries[1] = (struct snap_query_time){"batches", 30};
        s->ledger.progress = (struct snap_progress){.known = 1,
                                                    .deposits = 10,
                                                    .deposits_pending = 1,
                                                    .batches_created = 5,
                                                    .batches_anchored = 3,
                                                    .withdrawals = 4,
                                                    .withdrawals_claimed = 2,
                                                    .withdrawals_pending = 2};
        r->verdicts = calloc(INV_FIXTURE_VERDICTS, sizeof *r->verdicts);
        assert_non_null(r->verdicts);
        r->nverdicts = invariant_count + 1;
        invariants_evaluate(s, &p, r->verdicts);
        for (i = 0; i < r->nverdicts; i++)
                r->verdicts[i].eval_us = 1500; /* 1.5 ms each */
        r->tier1 = invariants_tier1_status(r->verdicts, r->nverdicts);
        r->duration_ms = 120;
}

static const char *const status_text =
        "{\"halt_path\":{\"ok\":true,\"problems\":[]},"
        "\"heartbeat\":{\"ok\":true,\"last_set_at_ms\":1767225598000},"
        "\"incidents\":[{\"phase\":\"published\",\"acked_at_ms\":0},"
        "{\"phase\":\"pending\",\"acked_at_ms\":0},"
        "{\"phase\":\"published\",\"acked_at_ms\":1767225000000},"
        "{\"phase\":\"resumed\",\"acked_at_ms\":0}],"
        "\"alerts\":[{\"severity\":\"CRITICAL\"},{\"severity\":\"CRITICAL\"},"
        "{\"severity\":\"INFO\"}],"
        "\"alert_routes\":{\"ops\\\"page\":{\"queued\":2,\"in_flight\":1,\"spooled\":3,"
        "\"delivered\":7,\"failed\":1,\"retried\":4,\"failing\":true}},"
        "\"audit\":{\"down\":false,\"records\":321,\"checkpoint_unix_ms\":1767225570000}}";

static void render_a_cycle(void **state)
{
        struct metrics *m = metrics_new(&info);
        struct cycle_result r;
        struct verdict *supply;
        cJSON *status = cJSON_Parse(status_text);
        char *s;

        (void)state;
        assert_non_null(m);
        assert_non_null(status);
        build_result(&r);
        supply = verdict_of(&r, "SUPPLY_MISMATCH");
        assert_non_null(supply);
        assert_int_equal(supply->status, VERDICT_VIOLATED); /* 1.5 SIGIL off */
        assert_int_equal(metrics_observe_cycle(m, &r, NOW_MS - 1000), 0);
        assert_int_equal(metrics_observe_cycle(m, &r, NOW_MS - 500), 0);
        metrics_count_finding(m, "HALT_PATH_DOWN", "CRITICAL");
        metrics_count_finding(m, "HALT_PATH_DOWN", "CRITICAL");
        metrics_count_record(m, "halt_published");
        metrics_count_record(m, "halt_lifted");
        metrics_count_record(m, "audit_checkpoint");
        s = render(m, status);

        /* cycles and checks */
        has_line(s, "relaywatch_cycles_total{result=\"violated\"} 2");
        has_line(s, "relaywatch_cycles_total{result=\"ok\"} 0");
        has_line(s, "relaywatch_cycle_duration_seconds_bucket{le=\"0.1\"} 0");
        has_line(s, "relaywatch_cycle_duration_seconds_bucket{le=\"0.25\"} 2");
        has_line(s, "relaywatch_cycle_duration_seconds_sum 0.24");
        has_line(s, "relaywatch_check_duration_seconds_bucket{check=\"SUPPLY_MISMATCH\","
                    "le=\"0.0025\"} 2");
        has_line(s, "relaywatch_check_duration_seconds_count{check=\"SUPPLY_MISMATCH\"} 2");
        has_line(s, "relaywatch_check_status{check=\"SUPPLY_MISMATCH\",subject=\"all\","
                    "status=\"violated\"} 1");
        has_line(s, "relaywatch_check_status{check=\"SUPPLY_MISMATCH\",subject=\"all\","
                    "status=\"ok\"} 0");
        has_line(s, "relaywatch_check_status{check=\"SUPPLY_MISMATCH\",subject=\"asset SIGIL\","
                    "status=\"violated\"} 1");
        lacks(s, "subject=\"asset USDX\"");
        has_line(s, "relaywatch_check_status{check=\"DUPLICATE_BATCH\",subject=\"all\","
                    "status=\"ok\"} 1");
        has_line(s, "relaywatch_tier1_status 2");
        has_line(s, "relaywatch_last_tier1_evaluation_timestamp_seconds 1767225599.5");
        assert_int_equal(occurrences(s, "# TYPE relaywatch_check_status gauge\n"), 1);
        assert_int_equal(occurrences(s, "# TYPE relaywatch_check_duration_seconds histogram\n"), 1);

        /* the halt path, alerts, audit from the status object */
        has_line(s, "relaywatch_halts_in_force 3");
        has_line(s, "relaywatch_halts_unacknowledged 2");
        has_line(s, "relaywatch_outbox_depth 1"); /* no outbox_waiting: the pending incidents */
        has_line(s, "relaywatch_halt_path_up 1");
        has_line(s, "relaywatch_heartbeat_age_seconds 2");
        has_line(s, "relaywatch_halts_published_total 1");
        has_line(s, "relaywatch_halts_acknowledged_total 0");
        has_line(s, "relaywatch_halts_lifted_total 1");
        has_line(s, "relaywatch_findings_total{kind=\"HALT_PATH_DOWN\",severity=\"CRITICAL\"} 2");
        has_line(s, "relaywatch_alerts_open{severity=\"CRITICAL\"} 2");
        has_line(s, "relaywatch_alerts_open{severity=\"ERROR\"} 0");
        has_line(s, "relaywatch_alerts_open{severity=\"INFO\"} 1");
        has_line(s, "relaywatch_alerts_sent_total{receiver=\"ops\\\"page\"} 7");
        has_line(s, "relaywatch_alerts_failed_total{receiver=\"ops\\\"page\"} 1");
        has_line(s, "relaywatch_alerts_retried_total{receiver=\"ops\\\"page\"} 4");
        has_line(s, "relaywatch_alerts_queued{receiver=\"ops\\\"page\"} 5");
        has_line(s, "relaywatch_alert_receiver_failing{receiver=\"ops\\\"page\"} 1");
        has_line(s, "relaywatch_audit_log_up 1");
        has_line(s, "relaywatch_audit_log_records 321");
        has_line(s, "relaywatch_audit_checkpoint_age_seconds 30");
        free(s);
        /* halt control's own count of the outbox, when the status has it */
        cJSON_AddNumberToObject(cJSON_GetObjectItem(status, "halt_path"), "outbox_waiting", 4);
        s = render(m, status);
        has_line(s, "relaywatch_outbox_depth 4");

        /* endpoints and chains */
        has_line(s, "relaywatch_rpc_requests_total{chain=\"source\",endpoint=\"src-a\"} 10");
        has_line(s, "relaywatch_rpc_errors_total{chain=\"source\",endpoint=\"src-a\"} 2");
        has_line(s, "relaywatch_rpc_request_duration_seconds_bucket{chain=\"source\","
                    "endpoint=\"src-a\",le=\"0.005\"} 1");
        has_line(s, "relaywatch_rpc_request_duration_seconds_count{chain=\"source\","
                    "endpoint=\"src-a\"} 2");
        has_line(s, "relaywatch_endpoint_up{chain=\"source\",endpoint=\"src-a\"} 1");
        has_line(s, "relaywatch_endpoint_up{chain=\"execution\",endpoint=\"exe-a\"} 0");
        has_line(s, "relaywatch_endpoint_circuit_state{chain=\"execution\",endpoint=\"exe-a\","
                    "state=\"half-open\"} 1");
        has_line(s, "relaywatch_endpoint_circuit_state{chain=\"execution\",endpoint=\"exe-a\","
                    "state=\"closed\"} 0");
        has_line(s,
                 "relaywatch_db_query_duration_seconds_bucket{query=\"batches\",le=\"0.025\"} 0");
        has_line(s, "relaywatch_db_query_duration_seconds_bucket{query=\"batches\",le=\"0.05\"} 2");
        has_line(s, "relaywatch_db_query_duration_seconds_sum{query=\"totals\"} 0.004");
        has_line(s, "relaywatch_chain_head_block{chain=\"source\"} 112");
        has_line(s, "relaywatch_chain_pinned_block{chain=\"source\"} 100");
        has_line(s, "relaywatch_chain_confirmation_depth_blocks{chain=\"source\"} 12");
        lacks(s, "relaywatch_chain_head_block{chain=\"execution\"}");

        /* the bridge */
        has_line(s, "relaywatch_bridge_deposits_indexed 10");
        has_line(s, "relaywatch_bridge_batches_pending 2");
        has_line(s, "relaywatch_bridge_withdrawals_pending 2");
        has_line(s, "relaywatch_bridge_operations_pending 4");
        has_line(s, "relaywatch_bridge_locked_tokens{asset=\"SIGIL\",view=\"ledger\"} 7.5");
        has_line(s, "relaywatch_bridge_locked_tokens{asset=\"SIGIL\",view=\"chain\"} 9");
        has_line(s, "relaywatch_bridge_supply_delta_tokens{asset=\"SIGIL\",side=\"locked\"} -1.5");
        has_line(s, "relaywatch_bridge_minted_tokens{asset=\"SIGIL\",view=\"ledger\"} 7.5");
        /* the execution chain was not read: no chain figure, no delta */
        lacks(s, "relaywatch_bridge_supply_delta_tokens{asset=\"SIGIL\",side=\"minted\"}");
        has_line(s, "relaywatch_bridge_locked_tokens{asset=\"USDX\",view=\"chain\"} 1000.000001");
        has_line(s, "relaywatch_bridge_minted_tokens{asset=\"USDX\",view=\"ledger\"} 1000.000001");
        lacks(s, "relaywatch_bridge_minted_tokens{asset=\"USDX\",view=\"chain\"}");
        lacks(s, "relaywatch_bridge_supply_delta_tokens{asset=\"USDX\",side=\"minted\"}");
        /* no batch anchored, no withdrawal, no relayer cycle: no measure */
        lacks(s, "relaywatch_bridge_settlement_latency_seconds");
        lacks(s, "relaywatch_bridge_proof_verification_success_ratio");
        lacks(s, "relaywatch_bridge_relayer_cycle_seconds");
        free(s);

        /* a cycle that fails keeps the last figures and says Tier 1 was not evaluated */
        assert_int_equal(metrics_observe_cycle(m, NULL, NOW_MS), 0);
        s = render(m, NULL);
        has_line(s, "relaywatch_tier1_status 1");
        has_line(s, "relaywatch_last_tier1_evaluation_timestamp_seconds 1767225599.5");
        has_line(s, "relaywatch_cycles_total{result=\"failed\"} 1");
        lacks(s, "relaywatch_halts_in_force");
        free(s);

        cycle_result_release(&r);
        cJSON_Delete(status);
        metrics_free(m);
}

static void tier3_measures(void **state)
{
        struct metrics *m = metrics_new(&info);
        struct cycle_result r;
        struct verdict *v;
        char *s;

        (void)state;
        assert_non_null(m);
        build_result(&r);
        v = verdict_of(&r, "SETTLEMENT_LATENCY");
        assert_non_null(v);
        v->has_value = 1;
        v->value = 1500;
        v = verdict_of(&r, "PROOF_SUCCESS_RATE");
        assert_non_null(v);
        v->has_value = 1;
        v->value = 0.75;
        r.snapshot.ledger.cycles = calloc(2, sizeof *r.snapshot.ledger.cycles);
        assert_non_null(r.snapshot.ledger.cycles);
        r.snapshot.ledger.ncycles = 2;
        r.snapshot.ledger.cycles[0] = (struct snap_cycle_timing){.cycle_id = 9, .duration_ms = 250};
        r.snapshot.ledger.cycles[1] = (struct snap_cycle_timing){.cycle_id = 8, .duration_ms = 900};
        assert_int_equal(metrics_observe_cycle(m, &r, NOW_MS), 0);
        s = render(m, NULL);
        has_line(s, "relaywatch_bridge_settlement_latency_seconds 1.5");
        has_line(s, "relaywatch_bridge_proof_verification_success_ratio 0.75");
        has_line(s, "relaywatch_bridge_relayer_cycle_seconds 0.25");
        free(s);
        cycle_result_release(&r);
        metrics_free(m);
}

static void status_file_figures(void **state)
{
        struct cycle_result r;
        size_t i;
        struct status_file_info si = {.watchdog_id = "wd-1",
                                      .interval_ms = 1000,
                                      .healthy = 1,
                                      .cycle_started_unix_ms = NOW_MS - 200,
                                      .started_unix_ms = 1767225000500,
                                      .cycles = 7,
                                      .cycles_failed = 2,
                                      .cycle_target_ms = 2000};
        cJSON *st;

        (void)state;
        build_result(&r);
        r.snapshot.ledger.assets[0].burnt = inv_fixture_units("0.25", 18);
        si.r = &r;
        st = status_file_json(&si);
        assert_non_null(st);
        assert_int_equal(inv_fixture_num(st, "started_at_ms"), 1767225000500);
        assert_int_equal(inv_fixture_num(st, "cycles"), 7);
        assert_int_equal(inv_fixture_num(st, "cycles_failed"), 2);
        assert_int_equal(inv_fixture_num(st, "cycle_target_ms"), 2000);
        assert_string_equal(inv_fixture_str(st, "cycle.correlation_id"), "test-cycle");
        assert_int_equal(inv_fixture_num(st, "cycle.verdicts.0.eval_us"), 1500);

        /* SIGIL: locked 7.5 in the ledger, 9 on chain: -1.5, over the tolerance (0) */
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.asset"), "SIGIL");
        assert_int_equal(inv_fixture_num(st, "cycle.assets.0.decimals"), 18);
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.tolerance_units"), "0");
        assert_true(cJSON_IsFalse(inv_fixture_at(st, "cycle.assets.0.ok")));
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.locked.ledger.units"), "7.5");
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.locked.ledger.base"),
                            "7500000000000000000");
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.locked.chain.units"), "9");
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.locked.delta.units"), "-1.5");
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.locked.delta.base"),
                            "-1500000000000000000");
        /* minted 7.5 - burnt 0.25 in the ledger; the execution chain was not read */
        assert_string_equal(inv_fixture_str(st, "cycle.assets.0.minted.ledger.units"), "7.25");
        assert_true(cJSON_IsNull(inv_fixture_at(st, "cycle.assets.0.minted.chain")));
        assert_true(cJSON_IsNull(inv_fixture_at(st, "cycle.assets.0.minted.delta")));
        assert_true(cJSON_IsTrue(inv_fixture_at(st, "cycle.assets.0.violated")));
        /* USDX: locked agrees, minted unknown: ok unknown */
        assert_string_equal(inv_fixture_str(st, "cycle.assets.1.locked.delta.units"), "0");
        assert_string_equal(inv_fixture_str(st, "cycle.assets.1.locked.delta.base"), "0");
        assert_true(cJSON_IsNull(inv_fixture_at(st, "cycle.assets.1.ok")));
        assert_true(cJSON_IsFalse(inv_fixture_at(st, "cycle.assets.1.violated")));

        assert_string_equal(inv_fixture_str(st, "cycle.chains.0.chain"), "source");
        assert_int_equal(inv_fixture_num(st, "cycle.chains.0.chain_id"), 1);
        assert_int_equal(inv_fixture_num(st, "cycle.chains.0.head"), 112);
        assert_int_equal(inv_fixture_num(st, "cycle.chains.0.pinned"), 100);
        assert_int_equal(inv_fixture_num(st, "cycle.chains.0.tip"), 100);
        assert_int_equal(inv_fixture_num(st, "cycle.chains.0.confirmations"), 2);
        assert_int_equal(inv_fixture_num(st, "cycle.chains.0.depth"), 12);
        assert_true(cJSON_IsFalse(inv_fixture_at(st, "cycle.chains.1.ok")));

        assert_true(cJSON_IsTrue(inv_fixture_at(st, "cycle.progress.known")));
        assert_int_equal(inv_fixture_num(st, "cycle.progress.deposits"), 10);
        assert_int_equal(inv_fixture_num(st, "cycle.progress.withdrawals_pending"), 2);
        assert_null(inv_fixture_at(st, "cycle.progress.problem"));
        /* the fields that were there before stay */
        assert_int_equal(inv_fixture_num(st, "cycle.heights.source"), 100);
        assert_string_equal(inv_fixture_str(st, "endpoints.0.endpoint"), "src-a");
        cJSON_Delete(st);

        /*
         * SUPPLY_MISMATCH names USDX too (the chain's own backing, at its tip,
         * broken while the pinned figures agree): USDX is not ok
         */
        for (i = 0; i < r.nverdicts; i++)
                if (strcmp(r.verdicts[i].invariant, "SUPPLY_MISMATCH") == 0)
                        verdict_add_subject(&r.verdicts[i], "asset USDX");
        st = status_file_json(&si);
        assert_non_null(st);
        assert_true(cJSON_IsTrue(inv_fixture_at(st, "cycle.assets.1.violated")));
        assert_true(cJSON_IsFalse(inv_fixture_at(st, "cycle.assets.1.ok")));
        cJSON_Delete(st);

        /* progress not known: the problem, no figures */
        r.snapshot.ledger.progress.known = 0;
        snprintf(r.snapshot.ledger.progress.problem, sizeof r.snapshot.ledger.progress.problem,
                 "relaywatch.progress is missing");
        st = status_file_json(&si);
        assert_non_null(st);
        assert_string_equal(inv_fixture_str(st, "cycle.progress.problem"),
                            "relaywatch.progress is missing");
        assert_null(inv_fixture_at(st, "cycle.progress.deposits"));
        cJSON_Delete(st);

        /* before the first cycle: no "cycle" */
        si.r = NULL;
        st = status_file_json(&si);
        assert_non_null(st);
        assert_null(inv_fixture_at(st, "cycle"));
        assert_int_equal(inv_fixture_num(st, "cycles"), 7);
        cJSON_Delete(st);
        cycle_result_release(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(doubles),
                cmocka_unit_test(samples_and_escaping),
                cmocka_unit_test(histogram),
                cmocka_unit_test(nothing_known_yet),
                cmocka_unit_test(render_a_cycle),
                cmocka_unit_test(tier3_measures),
                cmocka_unit_test(status_file_figures),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
