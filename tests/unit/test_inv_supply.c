/*
 * Unit tests for SUPPLY_MISMATCH on hand-built snapshots: exact u256
 * comparisons to the last wei, the tolerance edge, the chain-only backing
 * check, and what cannot be evaluated.
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
#include "u256.h"

#define NAME "SUPPLY_MISMATCH"
/* 2^200 and friends, far above 2^128. */
#define BIG "1606938044258990275541962092341162602522202993782792835301376"
#define BIG_PLUS_1 "1606938044258990275541962092341162602522202993782792835301377"
#define BIG_PLUS_5 "1606938044258990275541962092341162602522202993782792835301381"

/* Ledger: deposited - released locked, minted - burnt minted. Chain: lockbox and supply. */
static void figures(struct inv_fx *f, size_t i, const char *deposited, const char *released,
                    const char *minted, const char *burnt, const char *lockbox, const char *supply)
{
        struct snap_ledger_asset *la = &f->s.ledger.assets[i];

        la->deposited = inv_fixture_u256(deposited);
        la->released = inv_fixture_u256(released);
        la->minted = inv_fixture_u256(minted);
        la->burnt = inv_fixture_u256(burnt);
        f->s.chains[SNAP_SOURCE].views[0].token_values[i] = inv_fixture_u256(lockbox);
        f->s.chains[SNAP_EXECUTION].views[0].token_values[i] = inv_fixture_u256(supply);
}

static struct verdict *run(struct inv_fx *f)
{
        inv_fixture_release(f->out);
        return inv_fixture_run(&f->s, &f->p, f->out, NAME);
}

static void balanced_is_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        figures(f, 0, "1000", "300", "500", "100", "700", "400");
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        assert_int_equal(v->tier, VERDICT_TIER_HALT);
        assert_int_equal(v->mode, INVARIANT_ENFORCE);
        assert_false(v->needs_confirmation);
        assert_false(v->disagreement);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.asset"), "SIGIL");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.status"), "ok");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.ledger.locked.base"), "700");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.ledger.minted_net.base"), "400");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.base"), "0");
        NO_SUBJECTS(v);
}

static void one_wei_either_way_is_violated(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* lockbox one wei above the ledger */
        figures(f, 0, "1000", "300", "500", "100", "701", "400");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "SIGIL locked");
        inv_fixture_contains(v->summary, "lockbox balance 0.000000000000000701 SIGIL");
        inv_fixture_contains(v->summary, "ledger locked 0.0000000000000007 SIGIL");
        inv_fixture_contains(v->summary, "delta 0.000000000000000001 SIGIL");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.comparison"),
                            "locked");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.status"),
                            "violated");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.base"), "1");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.units"),
                            "0.000000000000000001 SIGIL");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.direction"),
                            "lockbox above the ledger's locked total");
        assert_int_equal(invariants_tier1_status(f->out, invariant_count), VERDICT_VIOLATED);
        SUBJECTS(v, "asset SIGIL");

        /* one wei below */
        figures(f, 0, "1000", "300", "500", "100", "699", "400");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.direction"),
                            "lockbox below the ledger's locked total");

        /* totalSupply one wei above and below the ledger's minted total */
        figures(f, 0, "1000", "300", "500", "100", "700", "401");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "SIGIL minted");
        inv_fixture_contains(v->summary, "delta 0.000000000000000001 SIGIL");
        SUBJECTS(v, "asset SIGIL"); /* the same subject whichever comparison broke */
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.1.status"),
                            "violated");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.status"), "ok");
        figures(f, 0, "1000", "300", "500", "100", "700", "399");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.1.direction"),
                            "totalSupply below the ledger's minted total");
}

static void tolerance_is_inclusive(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* 0.001 SIGIL = 10^15 wei */
        f->s.assets[0].tolerance = inv_fixture_units("0.001", 18);
        figures(f, 0, "1000000000000000000", "0", "0", "0", "1001000000000000000", "0");
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.base"),
                            "1000000000000000");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.tolerance.units"),
                            "0.001 SIGIL");

        figures(f, 0, "1000000000000000000", "0", "0", "0", "1001000000000000001", "0");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "delta 0.001000000000000001 SIGIL");

        /* the same below the ledger */
        figures(f, 0, "1000000000000000000", "0", "0", "0", "999000000000000000", "0");
        assert_int_equal(run(f)->status, VERDICT_OK);
        figures(f, 0, "1000000000000000000", "0", "0", "0", "998999999999999999", "0");
        assert_int_equal(run(f)->status, VERDICT_VIOLATED);

        /* and for the minted side */
        figures(f, 0, "5000000000000000000", "0", "2000000000000000000", "0", "5000000000000000000",
                "2001000000000000000");
        assert_int_equal(run(f)->status, VERDICT_OK);
        figures(f, 0, "5000000000000000000", "0", "2000000000000000000", "0", "5000000000000000000",
                "2001000000000000001");
        assert_int_equal(run(f)->status, VERDICT_VIOLATED);
}

static void values_above_2_128_are_exact(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        figures(f, 0, BIG_PLUS_5, "5", BIG, "0", BIG, BIG);
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.ledger.locked.base"), BIG);

        figures(f, 0, BIG_PLUS_5, "5", BIG, "0", BIG_PLUS_1, BIG);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.base"), "1");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.lockbox_balance.base"),
                            BIG_PLUS_1);
}

/*
 * The snapshot carries ledger figures through the pinned height only; the
 * movements of the last blocks are context for a human, never an input.
 */
static void in_flight_movements_do_not_change_the_result(void **state)
{
        struct inv_fx *f = *state;
        struct snap_ledger_asset *la = &f->s.ledger.assets[0];
        struct verdict *v;

        figures(f, 0, "1000", "0", "600", "0", "1000", "600");
        la->recent_blocks = 10;
        la->recent_deposited = inv_fixture_u256("250");
        la->recent_minted = inv_fixture_u256("250");
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.in_flight.note"),
                            "transfers in flight that could explain it");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.in_flight.deposited.base"),
                            "250");
        assert_int_equal((int)inv_fixture_num(v->evidence, "assets.0.in_flight.blocks"), 10);

        /* A mismatch the recent deposits would "explain" is still reported. */
        f->s.chains[SNAP_SOURCE].views[0].token_values[0] = inv_fixture_u256("1250");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.base"),
                            "250");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.in_flight.deposited.base"),
                            "250");
}

static void empty_ledger_is_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v = run(f);

        assert_int_equal(v->status, VERDICT_OK);
        inv_fixture_contains(v->summary, "source block 100");
        inv_fixture_contains(v->summary, "execution block 200");
}

static void unknown_asset_cannot_be_evaluated_but_backing_still_counts(void **state)
{
        struct inv_fx *f = *state;
        struct snap_ledger_asset *la = &f->s.ledger.assets[0];
        struct verdict *v;

        figures(f, 0, "0", "0", "0", "0", "500", "500");
        la->known = 0;
        snprintf(la->problem, sizeof la->problem, "asset SIGIL is not in the ledger");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        NO_SUBJECTS(v); /* could not evaluate names nothing */
        inv_fixture_contains(v->summary, "SIGIL locked: could not compare");
        inv_fixture_contains(v->summary, "asset SIGIL is not in the ledger");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.2.status"), "ok");
        assert_int_equal(invariants_tier1_status(f->out, invariant_count), VERDICT_UNKNOWN);

        /* minted > locked from the chains alone */
        f->s.chains[SNAP_EXECUTION].views[0].token_values[0] = inv_fixture_u256("501");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "SIGIL backing");
        inv_fixture_contains(v->summary, "exceeds lockbox balance");
        SUBJECTS(v, "asset SIGIL");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.2.delta.base"), "1");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.ledger_error"),
                            "ledger does not know SIGIL: asset SIGIL is not in the ledger");
}

/*
 * A stalled relayer freezes the pinned heights; the chain-only backing is
 * read at the chains' tips instead, so a drained lockbox shows at once.
 */
static void backing_is_compared_at_the_tips(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *src = &f->s.chains[SNAP_SOURCE].views[0];
        struct snap_view *exe = &f->s.chains[SNAP_EXECUTION].views[0];
        struct verdict *v;

        figures(f, 0, "1000", "300", "500", "100", "700", "400");
        f->s.chains[SNAP_SOURCE].tip = 130;
        f->s.chains[SNAP_EXECUTION].tip = 230;
        src->tip_values = calloc(1, sizeof *src->tip_values);
        exe->tip_values = calloc(1, sizeof *exe->tip_values);
        assert_non_null(src->tip_values);
        assert_non_null(exe->tip_values);
        /* at the tips the lockbox holds 399 against a supply of 400 */
        src->tip_values[0] = inv_fixture_u256("399");
        exe->tip_values[0] = inv_fixture_u256("400");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "SIGIL backing");
        inv_fixture_contains(v->summary, "at execution block 230");
        inv_fixture_contains(v->summary, "at source block 130");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.status"), "ok");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.2.status"),
                            "violated");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.lockbox_balance_at_tip.base"),
                            "399");

        /* and only there: backed at the tips is ok whatever the pinned figures say */
        src->tip_values[0] = inv_fixture_u256("400");
        f->s.chains[SNAP_EXECUTION].views[0].token_values[0] = inv_fixture_u256("400");
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
}

static void ledger_not_read(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error, "relaywatch.asset_totals: timeout");
        figures(f, 0, "0", "0", "0", "0", "500", "500");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        inv_fixture_contains(v->summary, "ledger not read: relaywatch.asset_totals: timeout");

        f->s.chains[SNAP_EXECUTION].views[0].token_values[0] = inv_fixture_u256("600");
        assert_int_equal(run(f)->status, VERDICT_VIOLATED);
}

static void view_not_ok_cannot_be_evaluated(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *src = &f->s.chains[SNAP_SOURCE].views[0];
        struct verdict *v;

        figures(f, 0, "10", "0", "5", "0", "999", "5"); /* wrong, but unreadable */
        src->ok = 0;
        snprintf(src->error, sizeof src->error, "balanceOf: connection refused");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        inv_fixture_contains(v->summary, "source endpoint src-a failed: balanceOf: connection "
                                         "refused");
        assert_string_equal(inv_fixture_str(v->evidence, "source.error"),
                            "balanceOf: connection refused");

        /* a chain not read at all */
        src->ok = 1;
        f->s.chains[SNAP_EXECUTION].ok = 0;
        snprintf(f->s.chains[SNAP_EXECUTION].error, sizeof f->s.chains[SNAP_EXECUTION].error,
                 "eth_chainId: 5 is not the configured 2");
        figures(f, 0, "10", "0", "5", "0", "10", "999");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        inv_fixture_contains(v->summary, "execution chain not read: eth_chainId");
}

static void negative_ledger_locked_total(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* released more than was deposited: the ledger's locked total is -5 */
        figures(f, 0, "5", "10", "0", "0", "0", "0");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.ledger.locked.base"), "-5");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.ledger.locked.units"),
                            "-0.000000000000000005 SIGIL");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.comparisons.0.delta.base"), "5");
        inv_fixture_contains(v->summary, "ledger locked -0.000000000000000005 SIGIL");
}

static void evidence_names_heights_hashes_endpoints_and_operations(void **state)
{
        struct inv_fx *f = *state;
        struct snap_operation *op;
        struct verdict *v;

        f->s.ledger.operations = calloc(7, sizeof *op);
        assert_non_null(f->s.ledger.operations);
        f->s.ledger.noperations = 7;
        for (size_t i = 0; i < 7; i++) {
                op = &f->s.ledger.operations[i];
                op->op_id = 100 + i;
                snprintf(op->kind, sizeof op->kind, "mint");
                snprintf(op->status, sizeof op->status, "confirmed");
                op->has_tx_hash = 1;
                memset(op->tx_hash, 0x33, sizeof op->tx_hash);
        }
        figures(f, 0, "10", "0", "5", "0", "9", "5");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_int_equal((int)inv_fixture_num(v->evidence, "source.pinned"), 100);
        assert_int_equal((int)inv_fixture_num(v->evidence, "execution.pinned"), 200);
        assert_string_equal(inv_fixture_str(v->evidence, "source.block_hash"),
                            "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0");
        assert_string_equal(inv_fixture_str(v->evidence, "execution.endpoint"), "exe-a");
        assert_string_equal(inv_fixture_str(v->evidence, "views.0.endpoints.source"), "src-a");
        assert_string_equal(inv_fixture_str(v->evidence, "views.0.status"), "violated");
        /* the last five operations */
        assert_int_equal(cJSON_GetArraySize(inv_fixture_at(v->evidence, "recent_operations")), 5);
        assert_int_equal((int)inv_fixture_num(v->evidence, "recent_operations.0.op_id"), 102);
        assert_int_equal((int)inv_fixture_num(v->evidence, "recent_operations.4.op_id"), 106);
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.source_token"),
                            "0x1010101010101010101010101010101010101010");
}

static void several_assets_one_verdict(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        snapshot_free(&f->s);
        inv_fixture_snapshot(&f->s, 3, 0);
        figures(f, 0, "10", "0", "5", "0", "10", "5");
        figures(f, 1, "1000000", "0", "0", "0", "1000001", "0"); /* USDX, 6 decimals */
        figures(f, 2, "3", "0", "3", "0", "3", "4");             /* WETH */
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "USDX locked: lockbox balance 1.000001 USDX vs ledger "
                                         "locked 1 USDX");
        inv_fixture_contains(v->summary, "delta 0.000001 USDX");
        inv_fixture_contains(v->summary, "(and 2 more comparisons in 2 assets)");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.0.status"), "ok");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.1.status"), "violated");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.2.status"), "violated");
        assert_string_equal(inv_fixture_str(v->evidence, "assets.2.comparisons.2.direction"),
                            "totalSupply above the lockbox balance");
        /* one subject per broken asset, in asset order; SIGIL is fine */
        SUBJECTS(v, "asset USDX", "asset WETH");

        /* SIGIL broken twice over (locked and minted) is still one subject */
        figures(f, 0, "10", "0", "5", "0", "11", "6");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        SUBJECTS(v, "asset SIGIL", "asset USDX", "asset WETH");

        /* USDX fixed, DAI unknown (not in the ledger): neither is named */
        snapshot_free(&f->s);
        inv_fixture_snapshot(&f->s, 4, 0);
        figures(f, 2, "3", "0", "3", "0", "3", "4");
        f->s.ledger.assets[3].known = 0;
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        SUBJECTS(v, "asset WETH");
}

static void no_assets_cannot_be_evaluated(void **state)
{
        struct inv_fx *f = *state;

        snapshot_free(&f->s);
        inv_fixture_snapshot(&f->s, 0, 0);
        assert_int_equal(run(f)->status, VERDICT_UNKNOWN);
        NO_SUBJECTS(&f->out[0]);
        inv_fixture_contains(run(f)->summary, "no assets configured");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(balanced_is_ok, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(one_wei_either_way_is_violated, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(tolerance_is_inclusive, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(values_above_2_128_are_exact, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(in_flight_movements_do_not_change_the_result,
                                                inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(empty_ledger_is_ok, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(
                        unknown_asset_cannot_be_evaluated_but_backing_still_counts, inv_fx_setup,
                        inv_fx_teardown),
                cmocka_unit_test_setup_teardown(backing_is_compared_at_the_tips, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(ledger_not_read, inv_fx_setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(view_not_ok_cannot_be_evaluated, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(negative_ledger_locked_total, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(
                        evidence_names_heights_hashes_endpoints_and_operations, inv_fx_setup,
                        inv_fx_teardown),
                cmocka_unit_test_setup_teardown(several_assets_one_verdict, inv_fx_setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(no_assets_cannot_be_evaluated, inv_fx_setup,
                                                inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
