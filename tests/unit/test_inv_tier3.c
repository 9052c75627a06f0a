/*
 * Unit tests for the Tier 3 (tracked) measures: SETTLEMENT_LATENCY,
 * PROOF_SUCCESS_RATE, DUPLICATE_EVENT_RATE, RPC_SUCCESS_RATE and
 * LEDGER_QUERY_TIME. A measure is always ok; it has a value when there was
 * something to measure.
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
#include "merkle.h"

static struct verdict *run(struct inv_fx *f, const char *name)
{
        struct verdict *v;

        inv_fixture_release(f->out);
        v = inv_fixture_run(&f->s, &f->p, f->out, name);
        assert_int_equal(v->tier, VERDICT_TIER_TRACK);
        return v;
}

static void settlement_latency(void **state)
{
        struct inv_fx *f = *state;
        struct snap_batch *b;
        struct verdict *v;

        v = run(f, "SETTLEMENT_LATENCY");
        assert_int_equal(v->status, VERDICT_OK);
        assert_false(v->has_value);
        assert_string_equal(v->summary, "no batches anchored this cycle");
        assert_string_equal(v->unit, "ms");

        inv_fixture_batches(&f->s, 4, 10);
        b = f->s.ledger.batches;
        b[0].anchored = 1;
        b[0].created_ms = 1000;
        b[0].anchored_ms = 1500; /* 500 */
        b[1].anchored = 1;
        b[1].created_ms = 1000;
        b[1].anchored_ms = 2500; /* 1500 */
        b[2].anchored = 0;       /* not anchored: not counted */
        b[2].created_ms = 0;
        b[3].anchored = 1; /* creation time unknown: not counted */
        b[3].anchored_ms = 99999;
        v = run(f, "SETTLEMENT_LATENCY");
        assert_int_equal(v->status, VERDICT_OK);
        assert_true(v->has_value);
        assert_true(v->value == 1500.0);
        assert_true(inv_fixture_num(v->evidence, "mean_ms") == 1000.0);
        assert_int_equal((int)inv_fixture_num(v->evidence, "max_batch"), 11);
        assert_int_equal((int)inv_fixture_num(v->evidence, "batches_anchored"), 2);
        assert_string_equal(v->summary,
                            "2 batches anchored: settlement latency mean 1000 ms, max 1500 ms "
                            "(batch 11)");

        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error, "gone");
        v = run(f, "SETTLEMENT_LATENCY");
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_false(v->has_value);
}

static void u64_word(uint64_t v, uint8_t out[32])
{
        size_t i;

        memset(out, 0, 32);
        for (i = 0; i < 8; i++)
                out[31 - i] = (uint8_t)(v >> (8 * i));
}

/* Batch 1 with two withdrawals and their proofs, the root not anchored on chain. */
static void two_withdrawals(struct inv_fx *f)
{
        uint8_t leaves[2][32], id[32], amount[32];
        struct snap_withdrawal *w;
        struct rwerr err;
        size_t i, len = 0;

        inv_fixture_batches(&f->s, 1, 1);
        f->s.ledger.withdrawals = calloc(2, sizeof *w);
        assert_non_null(f->s.ledger.withdrawals);
        f->s.ledger.nwithdrawals = 2;
        for (i = 0; i < 2; i++) {
                w = &f->s.ledger.withdrawals[i];
                w->withdrawal_id = 500 + i;
                w->batch_number = 1;
                memset(w->token, 0x10, sizeof w->token);
                memset(w->recipient, 0x60 + (int)i, sizeof w->recipient);
                w->amount = u256_from_u64(1000 * (i + 1));
                u64_word(w->withdrawal_id, id);
                u256_to_be32(&w->amount, amount);
                merkle_withdrawal_leaf(id, w->token, w->recipient, amount, leaves[i]);
        }
        assert_int_equal(merkle_root((const uint8_t(*)[32])leaves, 2,
                                     f->s.ledger.batches[0].merkle_root, &err),
                         RW_OK);
        for (i = 0; i < 2; i++) {
                w = &f->s.ledger.withdrawals[i];
                assert_int_equal(merkle_proof((const uint8_t(*)[32])leaves, 2, i, w->proof,
                                              SNAP_PROOF_MAX, &len, &err),
                                 RW_OK);
                w->proof_len = len;
        }
}

static void proof_success_rate(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        v = run(f, "PROOF_SUCCESS_RATE");
        assert_int_equal(v->status, VERDICT_OK);
        assert_false(v->has_value);
        assert_string_equal(v->summary, "no withdrawals this cycle");
        assert_string_equal(v->unit, "ratio");

        two_withdrawals(f);
        v = run(f, "PROOF_SUCCESS_RATE");
        assert_true(v->has_value);
        assert_true(v->value == 1.0);
        f->s.ledger.withdrawals[1].proof[0][5] ^= 0x01;
        v = run(f, "PROOF_SUCCESS_RATE");
        assert_int_equal(v->status, VERDICT_OK);
        assert_true(v->value == 0.5);
        assert_int_equal((int)inv_fixture_num(v->evidence, "failed"), 1);
        assert_string_equal(v->summary, "1 of 2 withdrawal proofs verify (0.5000)");
        /* the Tier 1 check sees the same withdrawal fail */
        assert_int_equal(f->out[2].status, VERDICT_VIOLATED);
}

static void anchors(struct inv_fx *f, const uint64_t *batch, const uint8_t *root, size_t n)
{
        struct snap_anchor *a = calloc(n, sizeof *a);
        size_t i;

        assert_non_null(a);
        for (i = 0; i < n; i++) {
                a[i].batch_id = batch[i];
                memset(a[i].root, root[i], sizeof a[i].root);
                a[i].block_number = 91 + i;
        }
        inv_fixture_anchors(&f->s.chains[SNAP_SOURCE].views[0], a, n);
        free(a);
}

static void duplicate_event_rate(void **state)
{
        static const uint64_t unique_b[] = {1, 2, 3, 4};
        static const uint8_t unique_r[] = {1, 2, 3, 4};
        static const uint64_t dup_b[] = {1, 2, 1, 4}; /* batch 1 again */
        static const uint8_t dup_r[] = {1, 2, 3, 2};  /* root 2 again */
        struct inv_fx *f = *state;
        struct verdict *v;

        v = run(f, "DUPLICATE_EVENT_RATE");
        assert_int_equal(v->status, VERDICT_OK);
        assert_false(v->has_value);
        assert_string_equal(v->summary, "no anchors this cycle");

        anchors(f, unique_b, unique_r, 4);
        v = run(f, "DUPLICATE_EVENT_RATE");
        assert_true(v->has_value);
        assert_true(v->value == 0.0);

        anchors(f, dup_b, dup_r, 4);
        v = run(f, "DUPLICATE_EVENT_RATE");
        assert_true(v->value == 0.5);
        assert_int_equal((int)inv_fixture_num(v->evidence, "duplicates"), 2);

        f->s.chains[SNAP_SOURCE].ok = 0;
        snprintf(f->s.chains[SNAP_SOURCE].error, sizeof f->s.chains[SNAP_SOURCE].error, "no head");
        v = run(f, "DUPLICATE_EVENT_RATE");
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary, "source chain not read: no head");
}

static void rpc_success_rate(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        v = run(f, "RPC_SUCCESS_RATE");
        assert_false(v->has_value);
        f->s.chains[SNAP_SOURCE].endpoints[0].exchanges = 30;
        f->s.chains[SNAP_EXECUTION].endpoints[0].exchanges = 10;
        v = run(f, "RPC_SUCCESS_RATE");
        assert_true(v->has_value);
        assert_true(v->value == 1.0);
        f->s.chains[SNAP_EXECUTION].endpoints[0].failures = 4;
        v = run(f, "RPC_SUCCESS_RATE");
        assert_true(v->value == 0.9);
        assert_string_equal(v->summary, "4 of 40 JSON-RPC exchanges failed (success 0.9000)");
        assert_string_equal(inv_fixture_str(v->evidence, "endpoints.1.endpoint"), "exe-a");
}

static void ledger_query_time(void **state)
{
        struct inv_fx *f = *state;
        struct snap_ledger *l = &f->s.ledger;
        struct verdict *v;

        v = run(f, "LEDGER_QUERY_TIME");
        assert_false(v->has_value);
        l->nqueries = 3;
        l->queries[0].name = "asset_totals";
        l->queries[0].ms = 4.5;
        l->queries[1].name = "batches";
        l->queries[1].ms = 12.25;
        l->queries[2].name = "nonces";
        l->queries[2].ms = 0.5;
        v = run(f, "LEDGER_QUERY_TIME");
        assert_int_equal(v->status, VERDICT_OK);
        assert_true(v->has_value);
        assert_true(v->value == 12.25);
        assert_string_equal(v->unit, "ms");
        assert_string_equal(v->summary, "3 ledger queries, slowest batches at 12.2 ms");
        assert_string_equal(inv_fixture_str(v->evidence, "queries.2.query"), "nonces");
        assert_true(inv_fixture_num(v->evidence, "queries.0.ms") == 4.5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(settlement_latency, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(proof_success_rate, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(duplicate_event_rate, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(rpc_success_rate, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(ledger_query_time, inv_fx_setup, inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
