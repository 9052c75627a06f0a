/*
 * Unit tests for DUPLICATE_BATCH: a clean history, each way a root or batch
 * number can appear twice or unknown (in one cycle's read, or against the
 * watchdog's index of anchors checked in earlier cycles), and what cannot
 * be evaluated.
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

#include "hex.h"
#include "inv_fixture.h"

#define NAME "DUPLICATE_BATCH"
#define ROOT_A "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ROOT_B "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ROOT_E "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define ROOT_EF "0xefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef"
#define TX_1 "0x1111111111111111111111111111111111111111111111111111111111111111"
#define TX_3 "0x3333333333333333333333333333333333333333333333333333333333333333"

static struct snap_anchor anchor(uint64_t batch, uint8_t root_byte, uint64_t block, uint8_t tx)
{
        struct snap_anchor a;

        memset(&a, 0, sizeof a);
        a.batch_id = batch;
        memset(a.root, root_byte, sizeof a.root);
        a.block_number = block;
        memset(a.tx_hash, tx, sizeof a.tx_hash);
        return a;
}

/* The ledger knows `root_byte` as batch `batch`. */
static void know(struct snapshot *s, uint8_t root_byte, uint64_t batch)
{
        struct snap_root_known *k;

        k = realloc(s->ledger.roots_known, (s->ledger.nroots_known + 1) * sizeof *k);
        assert_non_null(k);
        s->ledger.roots_known = k;
        k = &k[s->ledger.nroots_known++];
        memset(k->root, root_byte, sizeof k->root);
        k->batch_number = batch;
}

/* Batches 1..3 with roots 0xaa.., 0xbb.., 0xcc.., anchored in blocks 91, 93, 95. */
static int setup(void **state)
{
        struct inv_fx *f;
        struct snap_anchor a[3];
        size_t i;

        f = inv_fx_new(1, 0);
        inv_fixture_batches(&f->s, 3, 1);
        for (i = 0; i < 3; i++) {
                a[i] = anchor(1 + i, (uint8_t)(0xaa + 0x11 * i), 91 + 2 * i,
                              (uint8_t)(0x11 * (i + 1)));
                know(&f->s, a[i].root[0], a[i].batch_id);
        }
        inv_fixture_anchors(&f->s.chains[SNAP_SOURCE].views[0], a, 3);
        *state = f;
        return 0;
}

static struct verdict *run(struct inv_fx *f)
{
        inv_fixture_release(f->out);
        return inv_fixture_run(&f->s, &f->p, f->out, NAME);
}

static void add_anchor(struct inv_fx *f, struct snap_anchor a)
{
        struct snap_view *v = &f->s.chains[SNAP_SOURCE].views[0];
        struct snap_anchor *all = malloc((v->nanchors + 1) * sizeof *all);

        assert_non_null(all);
        memcpy(all, v->anchors, v->nanchors * sizeof *all);
        all[v->nanchors] = a;
        inv_fixture_anchors(v, all, v->nanchors + 1);
        free(all);
}

static void clean_history_is_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v = run(f);

        assert_int_equal(v->status, VERDICT_OK);
        inv_fixture_contains(v->summary, "3 anchors on source in blocks 91..100");
        assert_int_equal((int)inv_fixture_num(v->evidence, "problems"), 0);
        assert_string_equal(inv_fixture_str(v->evidence, "source.endpoint"), "src-a");
        NO_SUBJECTS(v);
        /* DUPLICATE_EVENT_RATE agrees */
        assert_int_equal(f->out[11].status, VERDICT_OK);
        assert_true(f->out[11].has_value);
        assert_true(f->out[11].value == 0.0);
}

static void ledger_duplicate_root(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.ledger.duplicates = calloc(1, sizeof *f->s.ledger.duplicates);
        assert_non_null(f->s.ledger.duplicates);
        f->s.ledger.nduplicates = 1;
        f->s.ledger.duplicates[0].is_root = 1;
        snprintf(f->s.ledger.duplicates[0].value, sizeof f->s.ledger.duplicates[0].value, "%s",
                 ROOT_A);
        snprintf(f->s.ledger.duplicates[0].batch_numbers,
                 sizeof f->s.ledger.duplicates[0].batch_numbers, "1, 7");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "the ledger holds merkle root " ROOT_A
                                        " under more than one batch (batches 1, 7)");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"),
                            "ledger_duplicate_root");
        SUBJECTS(v, "root " ROOT_A);
        /* a ledger fact: no endpoint has to confirm it */
        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_false(v->needs_confirmation);
        SUBJECTS(v, "root " ROOT_A);

        /* a schema that writes the root in capitals names the same root */
        snprintf(f->s.ledger.duplicates[0].value, sizeof f->s.ledger.duplicates[0].value,
                 "0xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        SUBJECTS(run(f), "root " ROOT_A);
}

static void ledger_duplicate_batch_number(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.ledger.duplicates = calloc(1, sizeof *f->s.ledger.duplicates);
        assert_non_null(f->s.ledger.duplicates);
        f->s.ledger.nduplicates = 1;
        snprintf(f->s.ledger.duplicates[0].value, sizeof f->s.ledger.duplicates[0].value, "2");
        snprintf(f->s.ledger.duplicates[0].batch_numbers,
                 sizeof f->s.ledger.duplicates[0].batch_numbers, "2, 2");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "the ledger holds batch number 2 more than once");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"),
                            "ledger_duplicate_batch");
        SUBJECTS(v, "batch 2");
}

static void root_anchored_twice(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* batch 4 anchored with batch 1's root 0xaa.. */
        add_anchor(f, anchor(4, 0xaa, 97, 0x44));
        know(&f->s, 0xaa, 4);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "root " ROOT_A " anchored twice on source: as batch 1 at "
                                         "block 91 tx " TX_1 " and as batch 4 at block 97");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "root_anchored_twice");
        assert_int_equal((int)inv_fixture_num(v->evidence, "findings.0.anchors.1.block"), 97);
        assert_string_equal(inv_fixture_str(v->evidence, "rests_on.0"), "source");
        /* the tracked rate counts the repeat */
        assert_true(f->out[11].value == 0.25);
        SUBJECTS(v, "root " ROOT_A);

        /* a third time: two findings, still one root */
        add_anchor(f, anchor(5, 0xaa, 99, 0x45));
        know(&f->s, 0xaa, 5);
        v = run(f);
        assert_int_equal((int)inv_fixture_num(v->evidence, "problems"), 2);
        SUBJECTS(v, "root " ROOT_A);
}

static void batch_anchored_twice(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* batch 3 anchored again with another root, which the ledger knows as batch 3 too */
        add_anchor(f, anchor(3, 0xdd, 99, 0x55));
        know(&f->s, 0xdd, 3);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "batch 3 anchored twice on source: root 0xcccc");
        inv_fixture_contains(v->summary, "at block 95 tx " TX_3);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"),
                            "batch_anchored_twice");
        SUBJECTS(v, "batch 3");
}

static void forged_anchor(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        add_anchor(f, anchor(9, 0xee, 98, 0x99));
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(
                v->summary,
                "forged anchor: root "
                "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee anchored as "
                "batch "
                "9 at block 98 tx "
                "0x9999999999999999999999999999999999999999999999999999999999999999 is unknown to "
                "the ledger");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "forged_anchor");
        assert_int_equal((int)inv_fixture_num(v->evidence, "findings.0.anchors.0.batch_id"), 9);
        SUBJECTS(v, "root " ROOT_E);
}

static void root_known_under_another_batch(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* the ledger holds 0xbb.. as batch 5, not 2 */
        f->s.ledger.roots_known[1].batch_number = 5;
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "anchored as batch 2 at block 93");
        inv_fixture_contains(v->summary, "is batch 5 in the ledger");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"),
                            "batch_number_mismatch");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.ledger_batches"), "5");
        SUBJECTS(v, "root " ROOT_B);
}

static void several_problems_are_counted(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        add_anchor(f, anchor(9, 0xee, 98, 0x99));
        add_anchor(f, anchor(10, 0xef, 99, 0x98));
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "2 problems, first: forged anchor");
        assert_int_equal((int)inv_fixture_num(v->evidence, "problems"), 2);
        SUBJECTS(v, "root " ROOT_E, "root " ROOT_EF);
}

/* More problems than subjects: 16 named, the rest counted, the list marked truncated. */
static void seventeen_forged_anchors(void **state)
{
        struct inv_fx *f = *state;
        const cJSON *subjects;
        struct verdict *v;
        uint8_t root[32];
        char hex[67], want[80];
        int i;

        for (i = 0; i < 17; i++)
                add_anchor(f, anchor(20 + (uint64_t)i, (uint8_t)(0x20 + i), 98, 0x99));
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "17 problems, first: forged anchor");
        subjects = inv_fixture_at(v->evidence, "subjects");
        assert_int_equal(cJSON_GetArraySize(subjects), VERDICT_SUBJECTS_MAX);
        assert_true(cJSON_IsTrue(inv_fixture_at(v->evidence, "subjects_truncated")));
        /* the first 16 anchored (roots 0x2020.. to 0x2f2f..); the 17th is counted, not named */
        for (i = 0; i < VERDICT_SUBJECTS_MAX; i++) {
                memset(root, 0x20 + i, sizeof root);
                assert_int_equal(hex_encode(root, sizeof root, hex, sizeof hex), 66);
                snprintf(want, sizeof want, "root %s", hex);
                assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(subjects, i)), want);
        }
}

static void cannot_evaluate_without_ledger_or_view(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *src = &f->s.chains[SNAP_SOURCE].views[0];
        struct verdict *v;

        add_anchor(f, anchor(9, 0xee, 98, 0x99)); /* would be forged */
        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error, "relaywatch.batches: gone");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary, "ledger not read: relaywatch.batches: gone");
        NO_SUBJECTS(v);

        f->s.ledger.ok = 1;
        src->ok = 0;
        snprintf(src->error, sizeof src->error, "eth_getLogs: range too large");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary,
                            "source endpoint src-a failed: eth_getLogs: range too large");
        NO_SUBJECTS(v);
}

/* The watchdog's known-anchors index holds `a` (checked in an earlier cycle). */
static void indexed(struct snapshot *s, struct snap_anchor a)
{
        struct snap_anchor *k = realloc(s->known_anchors, (s->nknown_anchors + 1) * sizeof *k);

        assert_non_null(k);
        s->known_anchors = k;
        k[s->nknown_anchors++] = a;
}

/* Only `a` read this cycle: an incremental window of blocks 96..100. */
static void read_only(struct inv_fx *f, struct snap_anchor a)
{
        f->s.chains[SNAP_SOURCE].anchors_from = 95;
        inv_fixture_anchors(&f->s.chains[SNAP_SOURCE].views[0], &a, 1);
}

#define TX_44 "0x4444444444444444444444444444444444444444444444444444444444444444"

static void known_root_anchored_again(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* batch 1's root anchored again under its own number, a cycle after batch 1 */
        indexed(&f->s, anchor(1, 0xaa, 91, 0x11));
        indexed(&f->s, anchor(2, 0xbb, 93, 0x22));
        read_only(f, anchor(1, 0xaa, 97, 0x44));
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(
                v->summary,
                "root " ROOT_A " anchored again on source: as batch 1 at block 97 tx " TX_44
                ", and as batch 1 at block 91 tx " TX_1 " (checked in an earlier cycle)");
        assert_int_equal((int)inv_fixture_num(v->evidence, "problems"), 1);
        assert_int_equal((int)inv_fixture_num(v->evidence, "known_anchors"), 2);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "root_anchored_again");
        /* both anchors, the earlier first */
        assert_int_equal((int)inv_fixture_num(v->evidence, "findings.0.anchors.0.block"), 91);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.anchors.0.tx_hash"), TX_1);
        assert_int_equal((int)inv_fixture_num(v->evidence, "findings.0.anchors.1.block"), 97);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.anchors.1.tx_hash"), TX_44);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.anchors.1.root"), ROOT_A);
        assert_string_equal(inv_fixture_str(v->evidence, "rests_on.0"), "source");
        SUBJECTS(v, "root " ROOT_A);

        /* under another batch number: the ledger's mismatch and the index's repeat */
        read_only(f, anchor(999999, 0xaa, 97, 0x44));
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_int_equal((int)inv_fixture_num(v->evidence, "problems"), 2);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.1.kind"), "root_anchored_again");
        SUBJECTS(v, "root " ROOT_A);
}

static void indexed_event_read_again_is_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;
        size_t i;

        /* a full sweep reads the three events the index holds already */
        for (i = 0; i < 3; i++)
                indexed(&f->s, f->s.chains[SNAP_SOURCE].views[0].anchors[i]);
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        assert_int_equal((int)inv_fixture_num(v->evidence, "known_anchors"), 3);
        NO_SUBJECTS(v);

        /* an incremental cycle that reads one of them again (the same tx) */
        read_only(f, anchor(2, 0xbb, 93, 0x22));
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        NO_SUBJECTS(v);
}

static void repeat_read_together_is_one_finding(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        /* both events in this cycle's read and the first in the index: one finding */
        indexed(&f->s, anchor(1, 0xaa, 91, 0x11));
        add_anchor(f, anchor(1, 0xaa, 97, 0x44));
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_int_equal((int)inv_fixture_num(v->evidence, "problems"), 1);
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "root_anchored_twice");
}

static void unread_index_is_said(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.known_anchors_failed = 1;
        snprintf(f->s.known_anchors_error, sizeof f->s.known_anchors_error,
                 "relation \"relaywatch_state.anchors\" does not exist");
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        inv_fixture_contains(v->summary, "the known-anchors index was not read");
        assert_string_equal(inv_fixture_str(v->evidence, "known_anchors_error"),
                            "relation \"relaywatch_state.anchors\" does not exist");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(clean_history_is_ok, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(ledger_duplicate_root, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(ledger_duplicate_batch_number, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(root_anchored_twice, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(batch_anchored_twice, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(forged_anchor, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(root_known_under_another_batch, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(several_problems_are_counted, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(seventeen_forged_anchors, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(cannot_evaluate_without_ledger_or_view, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(known_root_anchored_again, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(indexed_event_read_again_is_ok, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(repeat_read_together_is_one_finding, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(unread_index_is_said, setup, inv_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
