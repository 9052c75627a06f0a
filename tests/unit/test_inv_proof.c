/*
 * Unit tests for PROOF_VERIFICATION_FAIL.
 *
 * Batches are built two ways: from trees the real @openzeppelin/merkle-tree
 * built (the JSON tests/vectors/merkle-vectors.mjs writes; ctest fixture
 * "merkle_vectors", path in MERKLE_VECTORS), and with chain/merkle for
 * hand-made withdrawals. Roots are signed with chain/sig as the relayer
 * signs them (personal_sign over the 32 root bytes).
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
#include "merkle.h"
#include "sig.h"
#include "test_util.h"

#define NAME "PROOF_VERIFICATION_FAIL"
/* anvil's first two well-known development keys */
#define RELAYER_KEY "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define RELAYER_ADDR "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define OTHER_KEY "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#define OTHER_ADDR "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"

static void sign_root(struct snap_batch *b, const char *key_hex)
{
        uint8_t key[32];
        struct rwerr err;

        inv_fixture_hex(key_hex, key, sizeof key);
        if (sig_sign_personal(key, b->merkle_root, 32, b->relayer_signature, &err) != RW_OK)
                fail_msg("sign: %s", err.msg);
}

static void leaf_of(const struct snap_leaf *l, uint8_t out[32])
{
        uint8_t id[32] = {0}, amount[32];
        size_t i;

        for (i = 0; i < 8; i++)
                id[31 - i] = (uint8_t)(l->withdrawal_id >> (8 * i));
        u256_to_be32(&l->amount, amount);
        merkle_withdrawal_leaf(id, l->token, l->recipient, amount, out);
}

/* Appends rows to the ledger arrays. */
static struct snap_leaf *new_leaf(struct snapshot *s)
{
        struct snap_leaf *l = realloc(s->ledger.leaves, (s->ledger.nleaves + 1) * sizeof *l);

        assert_non_null(l);
        s->ledger.leaves = l;
        l = &l[s->ledger.nleaves++];
        memset(l, 0, sizeof *l);
        return l;
}

static struct snap_withdrawal *new_withdrawal(struct snapshot *s)
{
        struct snap_withdrawal *w =
                realloc(s->ledger.withdrawals, (s->ledger.nwithdrawals + 1) * sizeof *w);

        assert_non_null(w);
        s->ledger.withdrawals = w;
        w = &w[s->ledger.nwithdrawals++];
        memset(w, 0, sizeof *w);
        return w;
}

/*
 * Fills batch bi (already in ledger.batches) with leaves[0..n) (leaf_hash
 * filled here), a withdrawal with its proof for each, the root, its anchor on
 * chain in view 0 at block 95, and the relayer's signature.
 */
static void finish_batch(struct snapshot *s, size_t bi, struct snap_leaf *rows, size_t n)
{
        struct snap_batch *b = &s->ledger.batches[bi];
        uint8_t(*hashes)[32] = calloc(n, 32);
        struct rwerr err;
        size_t i;

        assert_non_null(hashes);
        for (i = 0; i < n; i++) {
                rows[i].batch_number = b->batch_number;
                rows[i].leaf_index = (uint32_t)i;
                leaf_of(&rows[i], rows[i].leaf_hash);
                memcpy(hashes[i], rows[i].leaf_hash, 32);
                *new_leaf(s) = rows[i];
        }
        assert_int_equal(merkle_root((const uint8_t(*)[32])hashes, n, b->merkle_root, &err), RW_OK);
        for (i = 0; i < n; i++) {
                struct snap_withdrawal *w = new_withdrawal(s);

                w->withdrawal_id = rows[i].withdrawal_id;
                w->batch_number = b->batch_number;
                memcpy(w->token, rows[i].token, 20);
                memcpy(w->recipient, rows[i].recipient, 20);
                w->amount = rows[i].amount;
                assert_int_equal(merkle_proof((const uint8_t(*)[32])hashes, n, i, w->proof,
                                              SNAP_PROOF_MAX, &w->proof_len, &err),
                                 RW_OK);
        }
        free(hashes);
        b->leaf_count = (uint32_t)n;
        b->anchored = 1;
        b->has_anchor_block = 1;
        b->anchor_block = 95;
        memcpy(s->chains[SNAP_SOURCE].views[0].anchored_roots[bi], b->merkle_root, 32);
        sign_root(b, RELAYER_KEY);
}

/* Batch 1: withdrawals 1000..1004; batch 2: withdrawals 2000..2002. */
static int setup(void **state)
{
        struct inv_fx *f;
        struct snap_leaf rows[5];
        size_t bi, i, n;

        f = inv_fx_new(1, 0);
        f->p.nsigners = 1;
        inv_fixture_hex(RELAYER_ADDR, f->p.signers[0], 20);
        inv_fixture_batches(&f->s, 2, 1);
        for (bi = 0; bi < 2; bi++) {
                n = bi == 0 ? 5 : 3;
                memset(rows, 0, sizeof rows);
                for (i = 0; i < n; i++) {
                        rows[i].withdrawal_id = 1000 * (bi + 1) + i;
                        memset(rows[i].token, 0x10, 20);
                        memset(rows[i].recipient, 0x40 + (int)i, 20);
                        rows[i].amount =
                                inv_fixture_u256(i == 2 ? "340282366920938463463374607431768211457"
                                                        : "1500000000000000000");
                }
                finish_batch(&f->s, bi, rows, n);
        }
        *state = f;
        return 0;
}

static struct verdict *run(struct inv_fx *f)
{
        inv_fixture_release(f->out);
        return inv_fixture_run(&f->s, &f->p, f->out, NAME);
}

static struct snap_withdrawal *withdrawal(struct inv_fx *f, uint64_t id)
{
        size_t i;

        for (i = 0; i < f->s.ledger.nwithdrawals; i++)
                if (f->s.ledger.withdrawals[i].withdrawal_id == id)
                        return &f->s.ledger.withdrawals[i];
        fail_msg("no withdrawal %llu", (unsigned long long)id);
        return NULL;
}

static void clean_batches_are_ok(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v = run(f);

        assert_int_equal(v->status, VERDICT_OK);
        inv_fixture_contains(v->summary, "2 batches after batch 0");
        inv_fixture_contains(v->summary, "8 of 8 withdrawal proofs verify");
        assert_int_equal((int)inv_fixture_num(v->evidence, "proofs_verified"), 8);
        assert_int_equal(cJSON_GetArraySize(inv_fixture_at(v->evidence, "findings")), 0);
        NO_SUBJECTS(v);
        assert_true(f->out[10].has_value);
        assert_true(f->out[10].value == 1.0);
}

static void expect_proof_failure(struct inv_fx *f, uint64_t id)
{
        char want[64];
        struct verdict *v = run(f);

        assert_int_equal(v->status, VERDICT_VIOLATED);
        snprintf(want, sizeof want, "withdrawal %llu (batch 1): proof of ", (unsigned long long)id);
        inv_fixture_contains(v->summary, want);
        inv_fixture_contains(v->summary, "does not verify against the anchored root 0x");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "withdrawal_proof");
        /* the batch the withdrawal is in, never the withdrawal's figures */
        SUBJECTS(v, "batch 1");
}

static void tampered_proof_byte(void **state)
{
        struct inv_fx *f = *state;
        struct snap_withdrawal *w = withdrawal(f, 1003);

        w->proof[1][17] ^= 0x40;
        expect_proof_failure(f, 1003);
}

static void tampered_proof_siblings_swapped(void **state)
{
        struct inv_fx *f = *state;
        struct snap_withdrawal *w = withdrawal(f, 1001);
        uint8_t tmp[32];

        assert_true(w->proof_len >= 2);
        memcpy(tmp, w->proof[0], 32);
        memcpy(w->proof[0], w->proof[1], 32);
        memcpy(w->proof[1], tmp, 32);
        expect_proof_failure(f, 1001);
}

static void tampered_proof_length(void **state)
{
        struct inv_fx *f = *state;
        struct snap_withdrawal *w = withdrawal(f, 1000);
        size_t len = w->proof_len;

        w->proof_len = len - 1;
        expect_proof_failure(f, 1000);
        w->proof_len = len + 1; /* one hash too many */
        expect_proof_failure(f, 1000);
        w->proof_len = SNAP_PROOF_MAX + 1; /* corrupt: never read past the array */
        assert_int_equal(run(f)->status, VERDICT_VIOLATED);
        inv_fixture_contains(run(f)->summary, "longer than any tree allows");
}

static void tampered_amounts(void **state)
{
        struct inv_fx *f = *state;
        struct snap_leaf *l = &f->s.ledger.leaves[2];
        struct snap_withdrawal *w = withdrawal(f, 1002);
        struct verdict *v;
        struct u256 one = u256_from_u64(1);

        /* the withdrawal asks for one wei more than its leaf */
        assert_int_equal(u256_add(&w->amount, &one, &w->amount), RW_OK);
        expect_proof_failure(f, 1002);
        assert_int_equal(u256_sub(&w->amount, &one, &w->amount), RW_OK);
        assert_int_equal(run(f)->status, VERDICT_OK);

        /* the leaf row's amount no longer matches its stored hash, nor the root */
        assert_int_equal(u256_add(&l->amount, &one, &l->amount), RW_OK);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "2 problems, first: batch 1 leaf 2 (withdrawal 1002): "
                                         "stored leaf hash 0x");
        inv_fixture_contains(v->summary, "recomputed from its fields");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.1.kind"), "root");
        inv_fixture_contains(inv_fixture_str(v->evidence, "findings.1.message"),
                             "recomputed from its 5 leaves differs from the ledger root");
        /* a ledger fact: stands without confirmation from another endpoint */
        assert_string_equal(inv_fixture_str(v->evidence, "rests_on.0"), "ledger");
        /* a leaf and the root of one batch: one subject */
        SUBJECTS(v, "batch 1");
}

static void root_mismatch_ledger_vs_chain(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;
        char want[200];
        char root[67];

        f->s.chains[SNAP_SOURCE].views[0].anchored_roots[1][0] ^= 0xff;
        hex_encode(f->s.chains[SNAP_SOURCE].views[0].anchored_roots[1], 32, root, sizeof root);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        snprintf(want, sizeof want,
                 "first: batch 2: root %s anchored on source (endpoint src-a, "
                 "block 100) differs from the ledger root 0x",
                 root);
        inv_fixture_contains(v->summary, want);
        /* and the batch's proofs fail against what the chain anchored: 1 + 3 problems */
        assert_int_equal((int)inv_fixture_num(v->evidence, "violations"), 4);
        assert_string_equal(inv_fixture_str(v->evidence, "rests_on.0"), "source");
        SUBJECTS(v, "batch 2");

        /* with two source endpoints to agree, one view is not enough to halt */
        f->p.quorum[SNAP_SOURCE] = 2;
        f->p.endpoints[SNAP_SOURCE] = 2;
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_true(v->needs_confirmation);
        NO_SUBJECTS(v); /* unconfirmed: nothing to page for yet */
        /* the second endpoint sees the same */
        inv_fixture_add_view(&f->s, SNAP_SOURCE, "src-b");
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        SUBJECTS(v, "batch 2");
}

static void ledger_root_not_recomputable(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.ledger.batches[0].merkle_root[31] ^= 0x01;
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "first: batch 1: root 0x");
        inv_fixture_contains(v->summary,
                             "recomputed from its 5 leaves differs from the ledger root");
        SUBJECTS(v, "batch 1");
}

static void not_anchored_on_chain(void **state)
{
        struct inv_fx *f = *state;
        struct snap_batch *b = &f->s.ledger.batches[1];
        struct verdict *v;

        memset(f->s.chains[SNAP_SOURCE].views[0].anchored_roots[1], 0, 32);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "batch 2: the ledger says anchored at block 95, but the "
                                        "root registry on source (endpoint src-a) has no root for "
                                        "it at block 100");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "not_anchored");
        SUBJECTS(v, "batch 2");

        /* anchored after the pinned block: in flight, proofs checked against the ledger root */
        b->anchor_block = 101;
        v = run(f);
        assert_int_equal(v->status, VERDICT_OK);
        assert_int_equal((int)inv_fixture_num(v->evidence, "anchors_in_flight"), 1);
        NO_SUBJECTS(v);
        withdrawal(f, 2001)->proof[0][0] ^= 1;
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(v->summary, "does not verify against the ledger root 0x");
        SUBJECTS(v, "batch 2");
        withdrawal(f, 2001)->proof[0][0] ^= 1;

        /* the ledger does not claim it anchored: nothing to object to */
        b->anchored = 0;
        b->has_anchor_block = 0;
        assert_int_equal(run(f)->status, VERDICT_OK);

        /* anchored, but the ledger does not say where: cannot tell */
        b->anchored = 1;
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        inv_fixture_contains(v->summary, "records no anchor block");
        NO_SUBJECTS(v);
}

static void signatures(void **state)
{
        struct inv_fx *f = *state;
        struct snap_batch *b = &f->s.ledger.batches[0];
        struct verdict *v;

        sign_root(b, OTHER_KEY);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "batch 1: root signed by " OTHER_ADDR
                                        ", which is not an authorised signer");
        assert_string_equal(inv_fixture_str(v->evidence, "findings.0.kind"), "signature");
        SUBJECTS(v, "batch 1");
        /* both batches signed by the wrong key: two subjects */
        sign_root(&f->s.ledger.batches[1], OTHER_KEY);
        v = run(f);
        inv_fixture_contains(v->summary, "2 problems, first: batch 1: root signed by");
        SUBJECTS(v, "batch 1", "batch 2");

        /* once the other key is authorised too, both batches pass */
        f->p.nsigners = 2;
        inv_fixture_hex(OTHER_ADDR, f->p.signers[1], 20);
        assert_int_equal(run(f)->status, VERDICT_OK);

        /* a signature that recovers nobody */
        memset(b->relayer_signature, 0, sizeof b->relayer_signature);
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        inv_fixture_contains(
                v->summary, "batch 1: the relayer signature of its root does not recover a signer");
        SUBJECTS(v, "batch 1");

        /* nobody authorised: could not evaluate, never violated */
        sign_root(b, RELAYER_KEY);
        f->p.nsigners = 0;
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary,
                            "no authorised signers configured: batch signatures cannot be checked");
        NO_SUBJECTS(v);
}

static void leaf_count_differs(void **state)
{
        struct inv_fx *f = *state;
        struct verdict *v;

        f->s.ledger.batches[1].leaf_count = 4;
        v = run(f);
        assert_int_equal(v->status, VERDICT_VIOLATED);
        assert_string_equal(v->summary, "batch 2: the ledger says 4 leaves but holds 3 leaf rows");
        SUBJECTS(v, "batch 2");
}

static void cannot_evaluate(void **state)
{
        struct inv_fx *f = *state;
        struct snap_view *src = &f->s.chains[SNAP_SOURCE].views[0];
        struct verdict *v;

        withdrawal(f, 2000)->batch_number = 77;
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary, "withdrawal 2000: its batch 77 is not among the ledger "
                                        "batches read");
        NO_SUBJECTS(v);
        withdrawal(f, 2000)->batch_number = 2;

        src->ok = 0;
        snprintf(src->error, sizeof src->error, "roots(uint256): execution reverted");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary,
                            "source endpoint src-a failed: roots(uint256): execution reverted");
        src->ok = 1;

        f->s.ledger.ok = 0;
        snprintf(f->s.ledger.error, sizeof f->s.ledger.error,
                 "relaywatch.batch_leaves: row 3: bad");
        v = run(f);
        assert_int_equal(v->status, VERDICT_UNKNOWN);
        assert_string_equal(v->summary, "ledger not read: relaywatch.batch_leaves: row 3: bad");
}

/* ---- trees built by @openzeppelin/merkle-tree ---- */

static cJSON *load_vectors(void)
{
        const char *path = getenv("MERKLE_VECTORS");
        char *text;
        cJSON *doc;

        if (path == NULL || path[0] == '\0')
                fail_msg("MERKLE_VECTORS is not set: run through ctest (fixture merkle_vectors)");
        text = test_read_file(path);
        if (text == NULL)
                fail_msg("cannot read %s", path);
        doc = cJSON_Parse(text);
        free(text);
        if (doc == NULL)
                fail_msg("%s is not JSON", path);
        return doc;
}

static void hex_field(const cJSON *obj, const char *name, uint8_t *out, size_t n)
{
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));

        if (s == NULL)
                fail_msg("vector field %s missing", name);
        inv_fixture_hex(s, out, n);
}

/* Loads tree t into a fresh snapshot as batch 1; 0 when an id does not fit in 64 bits. */
static int tree_snapshot(const cJSON *t, struct snapshot *s)
{
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(t, "values");
        const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(t, "leafHashes");
        const cJSON *proofs = cJSON_GetObjectItemCaseSensitive(t, "proofs");
        size_t n = (size_t)cJSON_GetArraySize(values), i, k;
        struct snap_batch *b;

        for (i = 0; i < n; i++) {
                uint8_t id[32];
                static const uint8_t zero[24];

                hex_field(cJSON_GetArrayItem(values, (int)i), "withdrawalId", id, 32);
                if (memcmp(id, zero, sizeof zero) != 0)
                        return 0;
        }
        inv_fixture_snapshot(s, 1, 0);
        inv_fixture_batches(s, 1, 1);
        b = &s->ledger.batches[0];
        hex_field(t, "root", b->merkle_root, 32);
        b->leaf_count = (uint32_t)n;
        b->anchored = 1;
        b->has_anchor_block = 1;
        b->anchor_block = 99;
        memcpy(s->chains[SNAP_SOURCE].views[0].anchored_roots[0], b->merkle_root, 32);
        sign_root(b, RELAYER_KEY);
        for (i = 0; i < n; i++) {
                const cJSON *val = cJSON_GetArrayItem(values, (int)i);
                const cJSON *proof = cJSON_GetArrayItem(proofs, (int)i);
                struct snap_leaf *l = new_leaf(s);
                struct snap_withdrawal *w = new_withdrawal(s);
                uint8_t id[32], amount[32];

                hex_field(val, "withdrawalId", id, 32);
                hex_field(val, "token", l->token, 20);
                hex_field(val, "recipient", l->recipient, 20);
                hex_field(val, "amount", amount, 32);
                for (k = 24; k < 32; k++)
                        l->withdrawal_id = (l->withdrawal_id << 8) | id[k];
                u256_from_be32(amount, &l->amount);
                l->batch_number = 1;
                l->leaf_index = (uint32_t)i;
                inv_fixture_hex(cJSON_GetStringValue(cJSON_GetArrayItem(hashes, (int)i)),
                                l->leaf_hash, 32);
                w->withdrawal_id = l->withdrawal_id;
                w->batch_number = 1;
                memcpy(w->token, l->token, 20);
                memcpy(w->recipient, l->recipient, 20);
                w->amount = l->amount;
                w->proof_len = (size_t)cJSON_GetArraySize(proof);
                assert_true(w->proof_len <= SNAP_PROOF_MAX);
                for (k = 0; k < w->proof_len; k++)
                        inv_fixture_hex(cJSON_GetStringValue(cJSON_GetArrayItem(proof, (int)k)),
                                        w->proof[k], 32);
        }
        return 1;
}

static void library_trees_verify(void **state)
{
        struct invariant_params p;
        struct verdict *out = calloc(INV_FIXTURE_VERDICTS, sizeof *out);
        cJSON *doc = load_vectors();
        const cJSON *t;
        size_t used = 0;

        (void)state;
        assert_non_null(out);
        inv_fixture_params(&p);
        p.nsigners = 1;
        inv_fixture_hex(RELAYER_ADDR, p.signers[0], 20);
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "trees"))
        {
                struct snapshot s;
                struct verdict *v;
                size_t last;

                if (!tree_snapshot(t, &s))
                        continue;
                used++;
                v = inv_fixture_run(&s, &p, out, NAME);
                if (v->status != VERDICT_OK)
                        fail_msg("%s: %s", cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")),
                                 v->summary);
                /* the library's proof of the last leaf, one bit off */
                last = s.ledger.nwithdrawals - 1;
                if (s.ledger.withdrawals[last].proof_len > 0) {
                        s.ledger.withdrawals[last].proof[0][31] ^= 0x80;
                        inv_fixture_release(out);
                        v = inv_fixture_run(&s, &p, out, NAME);
                        assert_int_equal(v->status, VERDICT_VIOLATED);
                        inv_fixture_contains(v->summary,
                                             "does not verify against the anchored root");
                }
                inv_fixture_release(out);
                snapshot_free(&s);
        }
        cJSON_Delete(doc);
        free(out);
        /* withdrawals-1 .. withdrawals-4 have ids that fit a ledger bigint */
        assert_true(used >= 4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(clean_batches_are_ok, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(tampered_proof_byte, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(tampered_proof_siblings_swapped, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(tampered_proof_length, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(tampered_amounts, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(root_mismatch_ledger_vs_chain, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(ledger_root_not_recomputable, setup,
                                                inv_fx_teardown),
                cmocka_unit_test_setup_teardown(not_anchored_on_chain, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(signatures, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(leaf_count_differs, setup, inv_fx_teardown),
                cmocka_unit_test_setup_teardown(cannot_evaluate, setup, inv_fx_teardown),
                cmocka_unit_test(library_trees_verify),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
