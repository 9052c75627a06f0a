/*
 * Unit tests for invariants/invariant.c: the table, the parameters, the
 * verdict helpers, and how the engine weighs the views of several endpoints
 * (quorum, disagreement, confirmation) and shadow mode. SUPPLY_MISMATCH is
 * the check used to produce violations.
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
#include "rwclock.h"

#define SUPPLY "SUPPLY_MISMATCH"

static struct verdict *run(struct inv_fx *f, const char *name)
{
        inv_fixture_release(f->out);
        return inv_fixture_run(&f->s, &f->p, f->out, name);
}

/* The lockbox holds one wei more than the ledger says (a source-side violation). */
static void break_lockbox(struct snap_view *v)
{
        v->token_values[0] = u256_from_u64(1);
}

static void table_is_ordered_and_complete(void **state)
{
        static const char *const names[] = {
                "SUPPLY_MISMATCH",    "DUPLICATE_BATCH",    "PROOF_VERIFICATION_FAIL",
                "NONCE_DESYNC",       "RPC_TIMEOUT",        "DB_CONNECTION_LOST",
                "HIGH_LATENCY",       "GAS_ESTIMATE_MISS",  "QUEUE_BUILDUP",
                "SETTLEMENT_LATENCY", "PROOF_SUCCESS_RATE", "DUPLICATE_EVENT_RATE",
                "RPC_SUCCESS_RATE",   "LEDGER_QUERY_TIME",
        };
        size_t i;

        (void)state;
        assert_int_equal(invariant_count, sizeof names / sizeof names[0]);
        for (i = 0; i < invariant_count; i++) {
                const struct invariant *inv = invariant_table[i];

                assert_string_equal(inv->name, names[i]);
                assert_ptr_equal(invariant_find(names[i]), inv);
                assert_non_null(inv->evaluate);
                assert_int_equal(inv->tier,
                                 i < 4 ? VERDICT_TIER_HALT
                                       : (i < 9 ? VERDICT_TIER_ALERT : VERDICT_TIER_TRACK));
                /* Tier 1 over chain values weighs views; nothing else does. */
                assert_int_equal(inv->weighs_views, i < 4);
        }
        assert_null(invariant_find("supply_mismatch"));
        assert_null(invariant_find("ENDPOINT_DISAGREEMENT"));
        assert_null(invariant_find(NULL));
}

static void params_defaults_follow_the_design(void **state)
{
        struct invariant_params p;
        static const struct invariant_mode_setting modes[] = {
                {"NONCE_DESYNC", INVARIANT_SHADOW},
                {"QUEUE_BUILDUP", INVARIANT_ENFORCE},
                {NULL, INVARIANT_ENFORCE},
        };

        (void)state;
        memset(&p, 0xff, sizeof p);
        invariant_params_defaults(&p);
        assert_int_equal(p.quorum[SNAP_SOURCE], 1);
        assert_int_equal(p.quorum[SNAP_EXECUTION], 1);
        assert_int_equal(p.endpoints[SNAP_SOURCE], 1);
        assert_int_equal(p.nonce_gap, 5);
        assert_int_equal(p.relayer_cycle_ms, 2000);
        assert_int_equal(p.watchdog_cycle_ms, 2000);
        assert_int_equal(p.gas_ratio_percent, 150);
        assert_int_equal(p.pending_operations, 10);
        assert_int_equal(p.stream_lag, 100);
        assert_int_equal(p.nsigners, 0);
        assert_null(p.modes);
        assert_int_equal(invariant_params_mode(&p, "NONCE_DESYNC"), INVARIANT_ENFORCE);
        p.modes = modes;
        assert_int_equal(invariant_params_mode(&p, "NONCE_DESYNC"), INVARIANT_SHADOW);
        assert_int_equal(invariant_params_mode(&p, "QUEUE_BUILDUP"), INVARIANT_ENFORCE);
        assert_int_equal(invariant_params_mode(&p, "SUPPLY_MISMATCH"), INVARIANT_ENFORCE);
        assert_int_equal(invariant_params_mode(NULL, "SUPPLY_MISMATCH"), INVARIANT_ENFORCE);
        assert_string_equal(invariant_mode_name(INVARIANT_ENFORCE), "enforce");
        assert_string_equal(invariant_mode_name(INVARIANT_SHADOW), "shadow");
        assert_string_equal(invariant_mode_name((enum invariant_mode)7), "invalid");
}

static void verdict_helpers(void **state)
{
        struct verdict v;
        char long_text[600];

        (void)state;
        memset(&v, 0, sizeof v);
        verdict_set(&v, VERDICT_VIOLATED, "batch %d: %s", 7, "bad");
        assert_int_equal(v.status, VERDICT_VIOLATED);
        assert_string_equal(v.summary, "batch 7: bad");
        assert_null(v.evidence);
        assert_non_null(verdict_evidence(&v));
        assert_ptr_equal(verdict_evidence(&v), v.evidence);
        assert_true(cJSON_IsObject(v.evidence));
        /* a summary longer than the buffer is cut, never overrun */
        memset(long_text, 'x', sizeof long_text - 1);
        long_text[sizeof long_text - 1] = '\0';
        verdict_set(&v, VERDICT_OK, "%s", long_text);
        assert_int_equal(strlen(v.summary), INVARIANT_SUMMARY_MAX - 1);
        verdict_release(&v);
        assert_null(v.evidence);
        assert_int_equal(v.status, VERDICT_OK);
        assert_string_equal(v.summary, "");
        verdict_release(NULL);
}

static void healthy_snapshot_and_endpoint_disagreement_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v = run(f, "ENDPOINT_DISAGREEMENT");

        assert_ptr_equal(v, &f->out[invariant_count]);
        assert_int_equal(v->status, VERDICT_OK);
        assert_int_equal(v->tier, VERDICT_TIER_ALERT);
        assert_int_equal(f->out[0].status, VERDICT_OK);
        assert_false(invariants_need_confirmation(f->out, invariant_count + 1));
        NO_SUBJECTS(v);
        NO_SUBJECTS(&f->out[0]);
        /* nothing reads a NULL params: the defaults are used */
        inv_fixture_release(f->out);
        invariants_evaluate(&f->s, NULL, f->out);
        assert_int_equal(f->out[0].status, VERDICT_OK);
        assert_string_equal(f->out[0].invariant, SUPPLY);
}

static void one_endpoint_quorum_one_violates_directly(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_false(v->needs_confirmation);
        assert_false(v->disagreement);
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1), VERDICT_VIOLATED);
        SUBJECTS(v, "asset SIGIL");
        /* a quorum above the endpoints configured cannot be met: one endpoint decides */
        f->p.quorum[SNAP_SOURCE] = 2;
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        SUBJECTS(v, "asset SIGIL");
}

static void quorum_two_one_view_asks_for_confirmation(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_true(v->needs_confirmation);
        assert_false(v->disagreement);
        inv_fixture_contains(v->summary, "unconfirmed (1 of the 2 source endpoints needed agree");
        inv_fixture_contains(v->summary, "SIGIL locked");
        assert_int_equal((int)inv_fixture_num(v->evidence, "quorum.source.required"), 2);
        assert_int_equal((int)inv_fixture_num(v->evidence, "quorum.source.agreeing"), 1);
        assert_true(invariants_need_confirmation(f->out, invariant_count + 1));
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1), VERDICT_UNKNOWN);
        /* unconfirmed is could-not-evaluate: it names no subject (pass 0's are dropped) */
        NO_SUBJECTS(v);
        assert_string_equal(inv_fixture_str(v->evidence, "views.0.status"), "violated");
}

static void quorum_two_two_views_agree_violated(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b");
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_false(v->needs_confirmation);
        assert_false(v->disagreement);
        assert_string_equal(inv_fixture_str(v->evidence, "views.0.endpoints.source"), "src-a");
        assert_string_equal(inv_fixture_str(v->evidence, "views.1.endpoints.source"), "src-b");
        /* the execution chain has one view: pass 1 reads it again */
        assert_string_equal(inv_fixture_str(v->evidence, "views.1.endpoints.execution"), "exe-a");
        assert_string_equal(inv_fixture_str(v->evidence, "views.1.status"), "violated");
        inv_fixture_contains(inv_fixture_str(v->evidence, "views.1.summary"), "SIGIL locked");
        assert_int_equal(f->out[invariant_count].status, VERDICT_OK);
        SUBJECTS(v, "asset SIGIL");
        NO_SUBJECTS(&f->out[invariant_count]);
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1), VERDICT_VIOLATED);
}

/*
 * Three endpoints, quorum 2, every view violated, but view 0 in figures of
 * its own (a provider lying about the lockbox while the bridge really
 * broke): the verdict is reported in the words the other two agree on.
 */
static void quorum_reports_the_figures_most_views_agree_on(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 3;
        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b");
        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-c");
        f->s.chains[SNAP_SOURCE].views[0].token_values[0] = u256_from_u64(32);
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, inv_fixture_str(v->evidence, "views.1.summary"));
        assert_string_equal(v->summary, inv_fixture_str(v->evidence, "views.2.summary"));
        assert_string_not_equal(v->summary, inv_fixture_str(v->evidence, "views.0.summary"));
}

static void quorum_two_views_disagree(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v, *d;

        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b"); /* src-b says all is well */
        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_true(v->disagreement);
        assert_false(v->needs_confirmation);
        inv_fixture_contains(v->summary, "endpoints disagree");
        inv_fixture_contains(v->summary, "source src-a");
        assert_string_equal(inv_fixture_str(v->evidence, "views.0.status"), "violated");
        assert_string_equal(inv_fixture_str(v->evidence, "views.1.status"), "ok");
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1), VERDICT_UNKNOWN);
        NO_SUBJECTS(v); /* the disagreement is paged as ENDPOINT_DISAGREEMENT, not as SIGIL */

        d = &f->out[invariant_count];
        assert_string_equal(d->invariant, "ENDPOINT_DISAGREEMENT");
        assert_int_equal(d->status, VERDICT_VIOLATED);
        assert_int_equal(d->tier, VERDICT_TIER_ALERT);
        inv_fixture_contains(d->summary, "SUPPLY_MISMATCH");
        inv_fixture_contains(d->summary, "source src-a");
        inv_fixture_contains(d->summary, "source src-b");
        inv_fixture_contains(d->summary, "violated");
        assert_string_equal(inv_fixture_str(d->evidence, "disagreements.0.invariant"), SUPPLY);
        assert_string_equal(
                inv_fixture_str(d->evidence, "disagreements.0.views.1.endpoints.source"), "src-b");
        SUBJECTS(d, "check " SUPPLY);
}

/* Two checks whose endpoints disagree: ENDPOINT_DISAGREEMENT names each check once. */
static void endpoint_disagreement_names_each_check(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *a;
        struct verdict *d;

        snapshot_free(&f->s);
        inv_fixture_snapshot(&f->s, 1, 1); /* account 0 on the source chain */
        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b"); /* src-b: all is well */
        a = &f->s.chains[SNAP_SOURCE].views[0];
        break_lockbox(a);
        a->nonce_latest[0] = f->s.accounts[0].ledger_next + 1; /* src-a: chain ahead */
        d = run(f, "ENDPOINT_DISAGREEMENT");
        assert_int_equal(d->status, VERDICT_VIOLATED);
        inv_fixture_contains(d->summary, "endpoints disagree on 2 checks");
        SUBJECTS(d, "check SUPPLY_MISMATCH", "check NONCE_DESYNC");
        NO_SUBJECTS(&f->out[0]);
        NO_SUBJECTS(&f->out[3]);

        /* src-b agrees on the nonce: NONCE_DESYNC stands, only SUPPLY_MISMATCH disagrees */
        f->s.chains[SNAP_SOURCE].views[1].nonce_latest[0] = a->nonce_latest[0];
        d = run(f, "ENDPOINT_DISAGREEMENT");
        SUBJECTS(d, "check SUPPLY_MISMATCH");
        assert_int_equal(f->out[3].status, VERDICT_VIOLATED);
        SUBJECTS(&f->out[3], "account 0xa0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0");
}

static void quorum_short_and_no_endpoint_left(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *b;
        struct verdict *v;

        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        b = inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b");
        b->ok = 0;
        snprintf(b->error, sizeof b->error, "eth_call: timeout after 10000 ms");
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_false(v->needs_confirmation);
        assert_false(v->disagreement);
        inv_fixture_contains(v->summary, "no other endpoint left to ask");
        NO_SUBJECTS(v);
        inv_fixture_contains(inv_fixture_str(v->evidence, "views.1.summary"),
                             "source endpoint src-b failed: eth_call: timeout");
        assert_int_equal(f->out[invariant_count].status, VERDICT_OK);
}

/* A violation of the execution side alone is weighed by the execution chain's quorum. */
static void violation_weighed_on_the_chains_it_rests_on(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        f->s.chains[SNAP_EXECUTION].views[0].token_values[0] = u256_from_u64(0);
        f->s.ledger.assets[0].minted = u256_from_u64(3);
        f->s.chains[SNAP_SOURCE].views[0].token_values[0] = u256_from_u64(0);
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "SIGIL minted");
        assert_string_equal(inv_fixture_str(v->evidence, "rests_on.0"), "execution");
        assert_null(inv_fixture_at(v->evidence, "quorum.source"));
        SUBJECTS(v, "asset SIGIL");
}

static void shadow_mode_never_counts_for_tier1(void **state)
{
        struct inv_fx *f = *state;
        static const struct invariant_mode_setting modes[] = {
                {"SUPPLY_MISMATCH", INVARIANT_SHADOW},
                {NULL, INVARIANT_ENFORCE},
        };
        struct verdict *v;
        size_t i;

        f->p.modes = modes;
        /* the other Tier 1 checks have something to check and find it fine */
        snapshot_free(&f->s);
        inv_fixture_snapshot(&f->s, 1, 1);
        break_lockbox(&f->s.chains[SNAP_SOURCE].views[0]);
        v = run(f, SUPPLY);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_int_equal(v->mode, INVARIANT_SHADOW);
        SUBJECTS(v, "asset SIGIL"); /* shadow mode pages too (WARNING): same subjects */
        for (i = 0; i < invariant_count; i++)
                if (f->out[i].tier == VERDICT_TIER_HALT && &f->out[i] != v)
                        assert_int_equal(f->out[i].status, VERDICT_OK);
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1), VERDICT_OK);
        /* enforce again: the same snapshot is violated */
        f->p.modes = NULL;
        run(f, SUPPLY);
        assert_int_equal(invariants_tier1_status(f->out, invariant_count + 1), VERDICT_VIOLATED);
}

static void tier1_status_combines_enforced_tier1_only(void **state)
{
        struct verdict v[3];

        (void)state;
        memset(v, 0, sizeof v);
        v[0].tier = VERDICT_TIER_HALT;
        v[0].status = VERDICT_OK;
        v[1].tier = VERDICT_TIER_ALERT;
        v[1].status = VERDICT_VIOLATED; /* Tier 2 never halts */
        v[2].tier = VERDICT_TIER_HALT;
        v[2].status = VERDICT_UNKNOWN;
        assert_int_equal(invariants_tier1_status(v, 2), VERDICT_OK);
        assert_int_equal(invariants_tier1_status(v, 3), VERDICT_UNKNOWN);
        v[2].mode = INVARIANT_SHADOW;
        assert_int_equal(invariants_tier1_status(v, 3), VERDICT_OK);
        v[0].status = VERDICT_VIOLATED;
        assert_int_equal(invariants_tier1_status(v, 3), VERDICT_VIOLATED);
        assert_int_equal(invariants_tier1_status(v, 0), VERDICT_OK);
        assert_false(invariants_need_confirmation(v, 3));
        v[1].needs_confirmation = 1;
        assert_true(invariants_need_confirmation(v, 3));
}

/*
 * eval_us: each verdict carries how long its check took. DUPLICATE_BATCH
 * over 20,000 batches with distinct roots, weighed over two source views,
 * does measurable work; the times are the engine's own (they add up to no
 * more than the whole evaluation took) and verdict_release clears them.
 */
static void eval_time_is_measured_per_check(void **state)
{
        struct inv_fx *f = *state;
        const size_t nbatches = 20000;
        struct verdict *v;
        uint64_t t0, took, sum = 0;
        size_t i;

        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b");
        inv_fixture_batches(&f->s, nbatches, 1);
        for (i = 0; i < nbatches; i++) {
                uint8_t *root = f->s.ledger.batches[i].merkle_root;

                root[0] = 0xab;
                root[28] = (uint8_t)(i >> 24);
                root[29] = (uint8_t)(i >> 16);
                root[30] = (uint8_t)(i >> 8);
                root[31] = (uint8_t)i;
        }
        inv_fixture_release(f->out);
        t0 = rwclock_mono_us();
        invariants_evaluate(&f->s, &f->p, f->out);
        took = rwclock_mono_us() - t0;
        v = &f->out[1];
        assert_string_equal(v->invariant, "DUPLICATE_BATCH");
        if (v->status != VERDICT_OK)
                fail_msg("DUPLICATE_BATCH: %s", v->summary);
        /* both views were weighed: the verdict is the weighed one, time and all */
        assert_int_equal(cJSON_GetArraySize(inv_fixture_at(v->evidence, "views")), 2);
        if (v->eval_us == 0)
                fail_msg("DUPLICATE_BATCH over %zu batches and 2 views took 0 us", nbatches);
        for (i = 0; i <= invariant_count; i++)
                sum += f->out[i].eval_us;
        if (sum > took)
                fail_msg("the checks took %llu us in all, the evaluation %llu us",
                         (unsigned long long)sum, (unsigned long long)took);
        inv_fixture_release(f->out);
        for (i = 0; i <= invariant_count; i++)
                assert_int_equal(f->out[i].eval_us, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(table_is_ordered_and_complete),
                cmocka_unit_test(params_defaults_follow_the_design),
                cmocka_unit_test(verdict_helpers),
                cmocka_unit_test(tier1_status_combines_enforced_tier1_only),
                cmocka_unit_test_setup_teardown(healthy_snapshot_and_endpoint_disagreement_ok,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(one_endpoint_quorum_one_violates_directly,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(quorum_two_one_view_asks_for_confirmation,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(quorum_two_two_views_agree_violated, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(quorum_reports_the_figures_most_views_agree_on,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(quorum_two_views_disagree, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(endpoint_disagreement_names_each_check,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(quorum_short_and_no_endpoint_left, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(violation_weighed_on_the_chains_it_rests_on,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(shadow_mode_never_counts_for_tier1, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(eval_time_is_measured_per_check, inv_fx_setup,
                                                inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
