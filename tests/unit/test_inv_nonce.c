/*
 * Unit tests for NONCE_DESYNC: the ledger's next nonce against the chain's
 * latest and pending counts, at and around the allowed gap.
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

#define NAME "NONCE_DESYNC"
#define ACCOUNT0 "0xa0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
#define ACCOUNT1 "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"

/* Account 0 on the source chain, account 1 on the execution chain; both at nonce 7. */
static int setup(void **state)
{
        struct inv_fx *f;

        f = inv_fx_new(1, 2);
        *state = f;
        return 0;
}

static struct verdict *run(struct inv_fx *f)
{
        inv_fixture_release(f->out);
        return inv_fixture_run(&f->s, &f->p, f->out, NAME);
}

static void nonces(struct inv_fx *f, size_t account, uint64_t ledger_next, uint64_t latest,
                   uint64_t pending)
{
        struct snap_view *v = &f->s.chains[f->s.accounts[account].chain].views[0];

        f->s.accounts[account].ledger_next = ledger_next;
        v->nonce_latest[account] = latest;
        v->nonce_pending[account] = pending;
}

static void in_step_is_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        inv_fixture_contains(v->summary, "2 relayer accounts");
        assert_string_equal(inv_fixture_str(v->evidence, "accounts.0.address"), ACCOUNT0);
        assert_string_equal(inv_fixture_str(v->evidence, "accounts.1.chain"), "execution");
        assert_string_equal(inv_fixture_str(v->evidence, "accounts.1.endpoint"), "exe-a");
        NO_SUBJECTS(v);
        /* the ledger ahead of latest but within pending: transactions in the mempool */
        nonces(f, 0, 9, 7, 9);
        assert_int_equal(run(f)->status, VERDICT_OK);
}

static void chain_ahead_by_one(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        nonces(f, 1, 7, 8, 8);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary,
                            "account " ACCOUNT1 " on execution: chain nonce 8 at block 200 is "
                            "ahead of the ledger's next nonce 7: someone else sent from the key, "
                            "or the ledger lost state");
        assert_string_equal(inv_fixture_str(v->evidence, "accounts.1.status"), "violated");
        assert_int_equal((int)inv_fixture_num(v->evidence, "accounts.1.nonce_latest"), 8);
        assert_int_equal((int)inv_fixture_num(v->evidence, "accounts.1.ledger_next"), 7);
        assert_string_equal(inv_fixture_str(v->evidence, "accounts.0.status"), "ok");
        assert_string_equal(inv_fixture_str(v->evidence, "rests_on.0"), "execution");
        /* the account out of step, and not the one in step */
        SUBJECTS(v, "account " ACCOUNT1);
}

static void ledger_ahead_of_pending_at_and_over_the_gap(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->p.nonce_gap = 5;
        nonces(f, 0, 12, 7, 7); /* ahead by exactly 5 */
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);

        nonces(f, 0, 13, 7, 7); /* ahead by 6 */
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary,
                            "account " ACCOUNT0 " on source: the ledger's next nonce 13 is ahead "
                            "of the pending nonce 7 by 6 (allowed 5): transactions vanished");
        SUBJECTS(v, "account " ACCOUNT0);
        /* further out of step: the same subject (no figure in it) */
        nonces(f, 0, 20, 7, 7);
        SUBJECTS(run(f), "account " ACCOUNT0);

        f->p.nonce_gap = 0;
        nonces(f, 0, 8, 7, 7);
        assert_int_equal(run(f)->status, VERDICT_VIOLATED);
        nonces(f, 0, 7, 7, 7);
        assert_int_equal(run(f)->status, VERDICT_OK);
}

static void both_accounts_wrong(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        nonces(f, 0, 7, 9, 9);
        nonces(f, 1, 30, 7, 7);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "2 accounts out of step, first: account " ACCOUNT0);
        SUBJECTS(v, "account " ACCOUNT0, "account " ACCOUNT1);
}

static void unknown_account_cannot_be_evaluated(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.accounts[1].ledger_known = 0;
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary,
                            "account " ACCOUNT1 " on execution: the ledger has no nonce for it");
        NO_SUBJECTS(v);
        /* a violation elsewhere still wins, and names only its own account */
        nonces(f, 0, 7, 8, 8);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        SUBJECTS(v, "account " ACCOUNT0);
}

static void view_not_ok_cannot_be_evaluated(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *src = &f->s.chains[SNAP_SOURCE].views[0];
        struct verdict *v;

        nonces(f, 0, 7, 100, 100); /* would be violated */
        src->ok = 0;
        snprintf(src->error, sizeof src->error, "eth_getTransactionCount: 502 Bad Gateway");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary, "account " ACCOUNT0 ": source endpoint src-a failed: "
                                        "eth_getTransactionCount: 502 Bad Gateway");
        NO_SUBJECTS(v);

        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error, "relaywatch.nonces: timeout");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        inv_fixture_contains(v->summary, "ledger not read");
}

static void no_accounts_configured(void **state)
{
        struct inv_fx *f = *state;

        snapshot_free(&f->s);
        inv_fixture_snapshot(&f->s, 1, 0);
        assert_int_equal(run(f)->status, VERDICT_UNKNOWN);
        inv_fixture_contains(f->out[3].summary, "no relayer accounts configured");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(in_step_is_ok, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(chain_ahead_by_one, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(ledger_ahead_of_pending_at_and_over_the_gap, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(both_accounts_wrong, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(unknown_account_cannot_be_evaluated, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(view_not_ok_cannot_be_evaluated, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(no_accounts_configured, setup, inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
