/*
 * Unit tests for the Tier 2 (alerting) checks: RPC_TIMEOUT,
 * DB_CONNECTION_LOST, HIGH_LATENCY, GAS_ESTIMATE_MISS and QUEUE_BUILDUP,
 * each below, at and above its threshold. Tier 2 is never weighed and never
 * halts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "inv_fixture.h"

static struct verdict *run(struct inv_fx *f, const char *name)
{
        struct verdict *v;

        inv_fixture_release(f->out);
        v = inv_fixture_run(&f->s, &f->p, f->out, name);
        assert_int_equal(v->tier, VERDICT_TIER_ALERT);
        assert_false(v->needs_confirmation);
        assert_null(inv_fixture_at(v->evidence, "views"));
        return v;
}

static void rpc_timeout(void **state)
{
        struct inv_fx *f = *state;
        struct snap_chain *exe = &f->s.chains[SNAP_EXECUTION];
        struct verdict *v;

        v = run(f, "RPC_TIMEOUT");
        assert_int_equal(v->status, VERDICT_OK);
        assert_string_equal(inv_fixture_str(v->evidence, "source.endpoints.0.breaker"), "closed");
        NO_SUBJECTS(v);

        exe->rpc_timeout = 1;
        snprintf(exe->rpc_timeout_reason, sizeof exe->rpc_timeout_reason,
                 "exe-a: 3 consecutive failures (last: timeout after 10000 ms)");
        exe->endpoints[0].exchanges = 10;
        exe->endpoints[0].failures = 3;
        v = run(f, "RPC_TIMEOUT");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "execution chain: exe-a: 3 consecutive failures (last: "
                                        "timeout after 10000 ms)");
        assert_int_equal((int)inv_fixture_num(v->evidence, "execution.endpoints.0.failures"), 3);
        /* the chain, as the evidence names it: never an endpoint URL */
        SUBJECTS(v, "chain execution");
        /* Tier 2 never moves the halt decision */
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1),
                         invariants_tier1_status(f->out, 4));

        f->s.chains[SNAP_SOURCE].rpc_timeout = 1;
        snprintf(f->s.chains[SNAP_SOURCE].rpc_timeout_reason,
                 sizeof f->s.chains[SNAP_SOURCE].rpc_timeout_reason, "src-a: call over 10 s");
        v = run(f, "RPC_TIMEOUT");
        assert_string_equal(v->summary,
                            "both chains time out; source chain: src-a: call over 10 s");
        SUBJECTS(v, "chain source", "chain execution");
}

/* An endpoint resting after its failures, or refused, keeps RPC_TIMEOUT up between them. */
static void rpc_timeout_while_an_endpoint_is_out_of_service(void **state)
{
        struct inv_fx *f = *state;
        struct snap_chain *src = &f->s.chains[SNAP_SOURCE];
        struct verdict *v;

        src->endpoints[0].failures = 4;
        src->endpoints[0].breaker = "open";
        v = run(f, "RPC_TIMEOUT");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_non_null(strstr(v->summary, "source chain: "));
        assert_non_null(strstr(v->summary, " is out of service (breaker open) after 4 failures"));
        assert_non_null(strstr(inv_fixture_str(v->evidence, "source.reason"), "breaker open"));
        assert_false(cJSON_IsTrue(inv_fixture_at(v->evidence, "source.timeout")));
        SUBJECTS(v, "chain source");

        src->endpoints[0].breaker = "refused";
        v = run(f, "RPC_TIMEOUT");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_non_null(strstr(v->summary, "(breaker refused)"));

        src->endpoints[0].breaker = "closed"; /* its probe answered */
        v = run(f, "RPC_TIMEOUT");
        assert_int_equal(v->status, VERDICT_OK);
}

static void db_connection_lost(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        v = run(f, "DB_CONNECTION_LOST");
        assert_int_equal(v->status, VERDICT_OK);

        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error, "server closed the connection");
        v = run(f, "DB_CONNECTION_LOST");
        assert_int_equal(v->status, VERDICT_OK); /* one failure is not a lost connection */
        NO_SUBJECTS(v);

        f->s.ledger.connection_lost = 1;
        snprintf(f->s.ledger.connection_reason, sizeof f->s.ledger.connection_reason,
                 "5 consecutive failures: connection refused");
        v = run(f, "DB_CONNECTION_LOST");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "ledger database connection lost: 5 consecutive "
                                        "failures: connection refused");
        NO_SUBJECTS(v); /* the whole ledger: one alert, no subject */
}

static void cycles(struct inv_fx *f, const uint64_t *ms, size_t n)
{
        size_t i;

        free(f->s.ledger.cycles);
        f->s.ledger.cycles = calloc(n, sizeof *f->s.ledger.cycles);
        assert_non_null(f->s.ledger.cycles);
        f->s.ledger.ncycles = n;
        for (i = 0; i < n; i++) {
                f->s.ledger.cycles[i].cycle_id = 40 + i;
                f->s.ledger.cycles[i].duration_ms = ms[i];
        }
}

static void high_latency(void **state)
{
        static const uint64_t at[] = {100, 1999, 2000};
        static const uint64_t over[] = {2001, 100, 5400, 2000};
        struct inv_fx *f = *state;
        struct verdict *v;

        cycles(f, at, 3);
        f->s.previous_cycle_ms = 2000;
        v = run(f, "HIGH_LATENCY");
        assert_int_equal(v->status, VERDICT_OK);
        NO_SUBJECTS(v);

        cycles(f, over, 4);
        v = run(f, "HIGH_LATENCY");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(
                v->summary,
                "2 relayer cycles over 2000 ms (worst 5400 ms, cycle 42; cycles 40, 42)");
        assert_int_equal((int)inv_fixture_num(v->evidence, "slow_cycles.1.duration_ms"), 5400);
        SUBJECTS(v, "relayer"); /* not the cycle ids: they change every cycle */
        f->s.previous_cycle_ms = 2001;
        v = run(f, "HIGH_LATENCY");
        SUBJECTS(v, "relayer", "watchdog");

        cycles(f, at, 3);
        f->s.previous_cycle_ms = 2001;
        v = run(f, "HIGH_LATENCY");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "the watchdog's last cycle took 2001 ms (limit 2000 ms)");
        SUBJECTS(v, "watchdog");

        /* the watchdog's own time counts even without the ledger */
        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error, "down");
        assert_int_equal(run(f, "HIGH_LATENCY")->status, VERDICT_VIOLATED);
        f->s.previous_cycle_ms = 10;
        v = run(f, "HIGH_LATENCY");
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        NO_SUBJECTS(v);
        inv_fixture_contains(v->summary, "ledger not read: down");
}

static void operation(struct snap_operation *op, uint64_t id, uint64_t estimate, uint64_t used)
{
        memset(op, 0, sizeof *op);
        op->op_id = id;
        snprintf(op->kind, sizeof op->kind, "anchor");
        op->chain_id = 1;
        op->gas_estimate = estimate;
        op->has_gas_used = 1;
        op->gas_used = used;
        op->has_tx_hash = 1;
        memset(op->tx_hash, 0x7e, sizeof op->tx_hash);
}

static void gas_estimate_miss(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.ledger.operations = calloc(3, sizeof *f->s.ledger.operations);
        assert_non_null(f->s.ledger.operations);
        f->s.ledger.noperations = 3;
        operation(&f->s.ledger.operations[0], 1, 100000, 149999);
        operation(&f->s.ledger.operations[1], 2, 100000, 150000); /* exactly 1.5x */
        operation(&f->s.ledger.operations[2], 3, 100000, 0);
        f->s.ledger.operations[2].has_gas_used = 0; /* not mined yet */
        f->s.ledger.operations[2].gas_used = UINT64_MAX;
        v = run(f, "GAS_ESTIMATE_MISS");
        assert_int_equal(v->status, VERDICT_OK);
        inv_fixture_contains(v->summary, "2 operations with gas used");
        NO_SUBJECTS(v);

        operation(&f->s.ledger.operations[1], 2, 100000, 150001);
        v = run(f, "GAS_ESTIMATE_MISS");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary,
                            "operation 2 (anchor, tx "
                            "0x7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e) "
                            "used 150001 gas, 150% of its estimate 100000 (limit 150%)");
        assert_int_equal((int)inv_fixture_num(v->evidence, "misses.0.op_id"), 2);
        SUBJECTS(v, "operation 2");

        /* no overflow on huge figures */
        operation(&f->s.ledger.operations[0], 1, UINT64_MAX, UINT64_MAX);
        operation(&f->s.ledger.operations[1], 2, UINT64_MAX / 2, UINT64_MAX);
        v = run(f, "GAS_ESTIMATE_MISS");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "operation 2 ");
        inv_fixture_contains(v->summary, "200% of its estimate");
        SUBJECTS(v, "operation 2");

        /* two misses: two subjects */
        operation(&f->s.ledger.operations[0], 1, 100, 151);
        v = run(f, "GAS_ESTIMATE_MISS");
        SUBJECTS(v, "operation 1", "operation 2");

        f->p.gas_ratio_percent = 250;
        v = run(f, "GAS_ESTIMATE_MISS");
        assert_int_equal(v->status, VERDICT_OK);
        NO_SUBJECTS(v);
}

/* 17 operations over their estimate: 16 named, the summary counts all 17. */
static void gas_estimate_miss_subjects_capped(void **state)
{
        struct inv_fx *f = *state;
        const cJSON *subjects;
        struct verdict *v;
        char want[32];
        size_t i;

        f->s.ledger.operations = calloc(17, sizeof *f->s.ledger.operations);
        assert_non_null(f->s.ledger.operations);
        f->s.ledger.noperations = 17;
        for (i = 0; i < 17; i++)
                operation(&f->s.ledger.operations[i], 100 + i, 1000, 2000);
        v = run(f, "GAS_ESTIMATE_MISS");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "17 operations over their gas estimate, first: "
                                         "operation 100 ");
        subjects = inv_fixture_at(v->evidence, "subjects");
        assert_int_equal(cJSON_GetArraySize(subjects), VERDICT_SUBJECTS_MAX);
        for (i = 0; i < VERDICT_SUBJECTS_MAX; i++) {
                snprintf(want, sizeof want, "operation %zu", 100 + i);
                assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(subjects, (int)i)),
                                    want);
        }
        assert_true(cJSON_IsTrue(inv_fixture_at(v->evidence, "subjects_truncated")));

        /* 16 exactly fit */
        f->s.ledger.noperations = 16;
        v = run(f, "GAS_ESTIMATE_MISS");
        assert_int_equal(cJSON_GetArraySize(inv_fixture_at(v->evidence, "subjects")), 16);
        assert_null(inv_fixture_at(v->evidence, "subjects_truncated"));
}

static struct snap_stream *stream(struct inv_fx *f, uint64_t length, uint64_t maxlen)
{
        struct snap_stream *st;

        f->s.streams = calloc(1, sizeof *f->s.streams);
        assert_non_null(f->s.streams);
        f->s.nstreams = 1;
        st = &f->s.streams[0];
        snprintf(st->name, sizeof st->name, "relayer:deposits");
        st->ok = 1;
        st->length = length;
        st->maxlen = maxlen;
        st->groups = calloc(1, sizeof *st->groups);
        assert_non_null(st->groups);
        st->ngroups = 1;
        snprintf(st->groups[0].name, sizeof st->groups[0].name, "relayer");
        st->groups[0].consumers = 1;
        st->groups[0].lag_known = 1;
        return st;
}

static void queue_buildup(void **state)
{
        struct inv_fx *f = *state;
        struct snap_stream *st;
        struct verdict *v;

        f->s.ledger.pending_operations = 10;
        v = run(f, "QUEUE_BUILDUP");
        assert_int_equal(v->status, VERDICT_OK);
        NO_SUBJECTS(v);
        f->s.ledger.pending_operations = 11;
        v = run(f, "QUEUE_BUILDUP");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "11 operations pending in the ledger (limit 10)");
        SUBJECTS(v, "operations");
        f->s.ledger.pending_operations = 0;

        st = stream(f, 500, 0);
        st->groups[0].lag = 100;
        st->groups[0].pending = 100;
        assert_int_equal(run(f, "QUEUE_BUILDUP")->status, VERDICT_OK);
        st->groups[0].lag = 101;
        v = run(f, "QUEUE_BUILDUP");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(
                v->summary,
                "stream relayer:deposits group relayer lags by 101 entries (limit 100)");
        SUBJECTS(v, "stream relayer:deposits");
        /* lagging and holding too many: the same stream once; with the ledger queue too */
        st->groups[0].pending = 101;
        f->s.ledger.pending_operations = 11;
        v = run(f, "QUEUE_BUILDUP");
        inv_fixture_contains(v->summary, "3 queues building up");
        SUBJECTS(v, "operations", "stream relayer:deposits");
        f->s.ledger.pending_operations = 0;
        st->groups[0].lag = 0;
        st->groups[0].pending = 101;
        v = run(f, "QUEUE_BUILDUP");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "holds 101 delivered but unacknowledged entries");
        SUBJECTS(v, "stream relayer:deposits");

        /* at its cap with unread entries: messages are trimmed before they are read */
        st->groups[0].pending = 0;
        st->maxlen = 500;
        st->groups[0].lag = 3;
        v = run(f, "QUEUE_BUILDUP");
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "messages are being lost (trimmed before they were read)");
        SUBJECTS(v, "stream relayer:deposits");
        st->groups[0].lag = 0;
        assert_int_equal(run(f, "QUEUE_BUILDUP")->status, VERDICT_OK);
        st->length = 499;
        st->groups[0].lag = 3;
        assert_int_equal(run(f, "QUEUE_BUILDUP")->status, VERDICT_OK);

        st->ok = 0;
        snprintf(st->error, sizeof st->error, "XINFO GROUPS: NOAUTH");
        v = run(f, "QUEUE_BUILDUP");
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary, "stream relayer:deposits not read: XINFO GROUPS: NOAUTH");
        NO_SUBJECTS(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(rpc_timeout, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(rpc_timeout_while_an_endpoint_is_out_of_service,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(db_connection_lost, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(high_latency, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(gas_estimate_miss, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(gas_estimate_miss_subjects_capped, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(queue_buildup, inv_fx_setup, inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
