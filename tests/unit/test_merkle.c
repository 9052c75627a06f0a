/*
 * Unit tests for chain/merkle: OpenZeppelin StandardMerkleTree compatibility.
 *
 * The vector tests read the JSON that tests/vectors/merkle-vectors.mjs writes
 * with the real @openzeppelin/merkle-tree package (ctest fixture
 * "merkle_vectors"; the path comes in MERKLE_VECTORS) and check every leaf
 * hash, root and proof against the C code. The hand-written tests need no
 * file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hex.h"
#include "keccak.h"
#include "merkle.h"
#include "rwerr.h"

#define VECTORS_MAX_BYTES (16u << 20)
#define PROOF_CAP 16 /* the 100-leaf tree needs 7 */

typedef uint8_t node[MERKLE_HASH_BYTES];

/* One tree from the vector file, decoded. */
struct tree_vec {
        const char *name;
        size_t n;
        node *leaves;   /* computed by merkle_withdrawal_leaf from the values */
        node *expected; /* leafHashes from the library */
        node root;
        const cJSON *proofs;
};

struct vectors {
        cJSON *doc;
        const cJSON *trees;
};

static void decode_hex(const cJSON *item, uint8_t *out, size_t len)
{
        struct rwerr err;
        const char *s;

        assert_true(cJSON_IsString(item));
        s = cJSON_GetStringValue(item);
        if (hex_decode(s, strlen(s), out, len, &err) != RW_OK)
                fail_msg("vector value %s: %s", s, err.msg);
}

static const cJSON *field(const cJSON *obj, const char *name)
{
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

        if (item == NULL)
                fail_msg("vector file: field \"%s\" is missing", name);
        return item;
}

static char *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        size_t n;

        if (f == NULL)
                return NULL;
        buf = malloc(VECTORS_MAX_BYTES + 1);
        if (buf == NULL) {
                fclose(f);
                return NULL;
        }
        n = fread(buf, 1, VECTORS_MAX_BYTES + 1, f);
        fclose(f);
        if (n > VECTORS_MAX_BYTES) {
                free(buf);
                return NULL;
        }
        buf[n] = '\0';
        *len = n;
        return buf;
}

static int load_vectors(void **state)
{
        const char *path = getenv("MERKLE_VECTORS");
        struct vectors *v;
        size_t len = 0;
        char *text;

        if (path == NULL || path[0] == '\0') {
                print_error("MERKLE_VECTORS is not set: run through ctest, or generate the file "
                            "with node tests/vectors/merkle-vectors.mjs OUT and set "
                            "MERKLE_VECTORS=OUT\n");
                return -1;
        }
        if ((text = read_file(path, &len)) == NULL) {
                print_error("cannot read %s (missing, or over %u bytes)\n", path,
                            VECTORS_MAX_BYTES);
                return -1;
        }
        v = calloc(1, sizeof *v);
        if (v == NULL) {
                free(text);
                return -1;
        }
        v->doc = cJSON_ParseWithLength(text, len);
        free(text);
        if (v->doc == NULL) {
                print_error("%s is not valid JSON\n", path);
                free(v);
                return -1;
        }
        v->trees = cJSON_GetObjectItemCaseSensitive(v->doc, "trees");
        if (!cJSON_IsArray(v->trees)) {
                print_error("%s has no \"trees\" array\n", path);
                cJSON_Delete(v->doc);
                free(v);
                return -1;
        }
        *state = v;
        return 0;
}

static int free_vectors(void **state)
{
        struct vectors *v = *state;

        if (v != NULL) {
                cJSON_Delete(v->doc);
                free(v);
        }
        return 0;
}

/* Decodes one tree; leaves and expected are freed by tree_vec_free. */
static void tree_vec_load(const cJSON *t, struct tree_vec *tv)
{
        const cJSON *values = field(t, "values");
        const cJSON *hashes = field(t, "leafHashes");
        size_t i;

        memset(tv, 0, sizeof *tv);
        tv->name = cJSON_GetStringValue(field(t, "name"));
        assert_non_null(tv->name);
        tv->n = (size_t)cJSON_GetArraySize(values);
        assert_true(tv->n > 0);
        assert_int_equal(cJSON_GetArraySize(hashes), tv->n);
        tv->proofs = field(t, "proofs");
        assert_int_equal(cJSON_GetArraySize(tv->proofs), tv->n);
        tv->leaves = calloc(tv->n, sizeof *tv->leaves);
        tv->expected = calloc(tv->n, sizeof *tv->expected);
        assert_non_null(tv->leaves);
        assert_non_null(tv->expected);
        for (i = 0; i < tv->n; i++) {
                const cJSON *val = cJSON_GetArrayItem(values, (int)i);
                uint8_t id[32], token[20], recipient[20], amount[32];

                decode_hex(field(val, "withdrawalId"), id, sizeof id);
                decode_hex(field(val, "token"), token, sizeof token);
                decode_hex(field(val, "recipient"), recipient, sizeof recipient);
                decode_hex(field(val, "amount"), amount, sizeof amount);
                merkle_withdrawal_leaf(id, token, recipient, amount, tv->leaves[i]);
                decode_hex(cJSON_GetArrayItem(hashes, (int)i), tv->expected[i], MERKLE_HASH_BYTES);
        }
        decode_hex(field(t, "root"), tv->root, MERKLE_HASH_BYTES);
}

static void tree_vec_free(struct tree_vec *tv)
{
        free(tv->leaves);
        free(tv->expected);
        tv->leaves = NULL;
        tv->expected = NULL;
}

/* The library's proof of leaf i, decoded into proof[]; returns its length. */
static size_t expected_proof(const struct tree_vec *tv, size_t i, node proof[PROOF_CAP])
{
        const cJSON *p = cJSON_GetArrayItem(tv->proofs, (int)i);
        size_t len = (size_t)cJSON_GetArraySize(p), k;

        assert_true(len <= PROOF_CAP);
        for (k = 0; k < len; k++)
                decode_hex(cJSON_GetArrayItem(p, (int)k), proof[k], MERKLE_HASH_BYTES);
        return len;
}

static void vectors_cover_every_size(void **state)
{
        static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 16, 33, 100};
        const struct vectors *v = *state;
        const char *lib = cJSON_GetStringValue(field(v->doc, "library"));
        size_t i, found = 0;

        assert_non_null(lib);
        assert_int_equal(strncmp(lib, "@openzeppelin/merkle-tree ", 26), 0);
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                const cJSON *t;

                cJSON_ArrayForEach(t, v->trees)
                {
                        if ((size_t)cJSON_GetArraySize(field(t, "values")) == sizes[i]) {
                                found++;
                                break;
                        }
                }
        }
        assert_int_equal(found, sizeof sizes / sizeof sizes[0]);
}

static void leaf_hashes_match_library(void **state)
{
        const struct vectors *v = *state;
        const cJSON *t;

        cJSON_ArrayForEach(t, v->trees)
        {
                struct tree_vec tv;
                size_t i;

                tree_vec_load(t, &tv);
                for (i = 0; i < tv.n; i++)
                        if (memcmp(tv.leaves[i], tv.expected[i], MERKLE_HASH_BYTES) != 0)
                                fail_msg("%s: leaf hash %zu differs from tree.leafHash", tv.name,
                                         i);
                tree_vec_free(&tv);
        }
}

static void roots_match_library(void **state)
{
        const struct vectors *v = *state;
        const cJSON *t;

        cJSON_ArrayForEach(t, v->trees)
        {
                struct tree_vec tv;
                struct rwerr err;
                node root;

                tree_vec_load(t, &tv);
                assert_int_equal(merkle_root((const node *)tv.leaves, tv.n, root, &err), RW_OK);
                if (memcmp(root, tv.root, MERKLE_HASH_BYTES) != 0)
                        fail_msg("%s: root differs from tree.root", tv.name);
                tree_vec_free(&tv);
        }
}

static void proofs_match_library(void **state)
{
        const struct vectors *v = *state;
        const cJSON *t;

        cJSON_ArrayForEach(t, v->trees)
        {
                struct tree_vec tv;
                size_t i;

                tree_vec_load(t, &tv);
                for (i = 0; i < tv.n; i++) {
                        node want[PROOF_CAP], got[PROOF_CAP];
                        size_t want_len = expected_proof(&tv, i, want), got_len = 99;
                        struct rwerr err;

                        assert_int_equal(merkle_proof((const node *)tv.leaves, tv.n, i, got,
                                                      PROOF_CAP, &got_len, &err),
                                         RW_OK);
                        if (got_len != want_len ||
                            memcmp(got, want, want_len * MERKLE_HASH_BYTES) != 0)
                                fail_msg("%s: proof of leaf %zu differs from tree.getProof(%zu)",
                                         tv.name, i, i);
                        assert_true(got_len <= merkle_proof_max(tv.n));
                        assert_true(
                                merkle_verify(tv.leaves[i], (const node *)got, got_len, tv.root));
                }
                tree_vec_free(&tv);
        }
}

static void tampered_proofs_fail(void **state)
{
        const struct vectors *v = *state;
        const cJSON *t;

        cJSON_ArrayForEach(t, v->trees)
        {
                struct tree_vec tv;
                size_t i;

                tree_vec_load(t, &tv);
                for (i = 0; i < tv.n; i++) {
                        node proof[PROOF_CAP], root;
                        size_t len = expected_proof(&tv, i, proof), j;
                        const node *p = (const node *)proof;

                        assert_true(merkle_verify(tv.leaves[i], p, len, tv.root));
                        /* The wrong leaf: any leaf with a different hash. */
                        for (j = 0; j < tv.n; j++)
                                if (memcmp(tv.leaves[j], tv.leaves[i], MERKLE_HASH_BYTES) != 0)
                                        assert_false(merkle_verify(tv.leaves[j], p, len, tv.root));
                        /* The wrong root. */
                        memcpy(root, tv.root, sizeof root);
                        root[31] ^= 0x01;
                        assert_false(merkle_verify(tv.leaves[i], p, len, root));
                        if (len == 0)
                                continue;
                        /* A sibling dropped, at either end. */
                        assert_false(merkle_verify(tv.leaves[i], p, len - 1, tv.root));
                        assert_false(merkle_verify(tv.leaves[i], p + 1, len - 1, tv.root));
                        /* One bit flipped in each sibling in turn. */
                        for (j = 0; j < len; j++) {
                                proof[j][(i + j) % MERKLE_HASH_BYTES] ^=
                                        (uint8_t)(1u << ((i + j) % 8));
                                assert_false(merkle_verify(tv.leaves[i], p, len, tv.root));
                                proof[j][(i + j) % MERKLE_HASH_BYTES] ^=
                                        (uint8_t)(1u << ((i + j) % 8));
                        }
                        assert_true(merkle_verify(tv.leaves[i], p, len, tv.root));
                }
                tree_vec_free(&tv);
        }
}

static void fill(node *leaves, size_t n, uint8_t seed)
{
        size_t i;

        for (i = 0; i < n; i++) {
                uint8_t in[2] = {seed, (uint8_t)i};

                keccak256(in, sizeof in, leaves[i]);
        }
}

static void single_leaf_is_its_own_root(void **state)
{
        node leaf[1], root, proof[1];
        size_t len = 99;
        struct rwerr err;

        (void)state;
        fill(leaf, 1, 1);
        assert_int_equal(merkle_root((const node *)leaf, 1, root, &err), RW_OK);
        assert_memory_equal(root, leaf[0], MERKLE_HASH_BYTES);
        assert_int_equal(merkle_proof((const node *)leaf, 1, 0, proof, 1, &len, &err), RW_OK);
        assert_int_equal(len, 0);
        /* No room for a proof is fine when the proof is empty. */
        len = 99;
        assert_int_equal(merkle_proof((const node *)leaf, 1, 0, NULL, 0, &len, &err), RW_OK);
        assert_int_equal(len, 0);
        assert_true(merkle_verify(leaf[0], NULL, 0, root));
        root[0] ^= 0x80;
        assert_false(merkle_verify(leaf[0], NULL, 0, root));
}

static void pair_hash_sorts_its_inputs(void **state)
{
        node a, b, ab, ba, expect;
        uint8_t cat[64];

        (void)state;
        /* keccak256(0x00..01 || 0xff..ff), from `cast keccak 0x00…01ff…ff`. */
        static const char want[] =
                "0x9d3f4b35d3a7dca202fde247a7a06c78d8c5fd77130c593212f65d004b29c60a";
        struct rwerr err;

        memset(a, 0, sizeof a);
        a[31] = 0x01;
        memset(b, 0xff, sizeof b);
        assert_int_equal(hex_decode(want, strlen(want), expect, sizeof expect, &err), RW_OK);
        merkle_hash_pair(a, b, ab);
        merkle_hash_pair(b, a, ba);
        assert_memory_equal(ab, expect, sizeof ab);
        assert_memory_equal(ba, expect, sizeof ba);
        /* The order is byte-wise from the first byte, not by the last byte. */
        memset(a, 0, sizeof a);
        a[0] = 0x01;
        memset(b, 0, sizeof b);
        b[0] = 0x00;
        b[31] = 0xff;
        memcpy(cat, b, 32);
        memcpy(cat + 32, a, 32);
        keccak256(cat, sizeof cat, expect);
        merkle_hash_pair(a, b, ab);
        assert_memory_equal(ab, expect, sizeof ab);
        /* The output may overwrite an input. */
        merkle_hash_pair(a, b, a);
        assert_memory_equal(a, expect, sizeof a);
}

static void two_leaves_prove_each_other(void **state)
{
        node leaves[2], root, pair, proof[1];
        size_t len = 0;
        struct rwerr err;

        (void)state;
        fill(leaves, 2, 2);
        merkle_hash_pair(leaves[0], leaves[1], pair);
        assert_int_equal(merkle_root((const node *)leaves, 2, root, &err), RW_OK);
        assert_memory_equal(root, pair, sizeof root);
        assert_int_equal(merkle_proof((const node *)leaves, 2, 0, proof, 1, &len, &err), RW_OK);
        assert_int_equal(len, 1);
        assert_memory_equal(proof[0], leaves[1], MERKLE_HASH_BYTES);
        assert_int_equal(merkle_proof((const node *)leaves, 2, 1, proof, 1, &len, &err), RW_OK);
        assert_memory_equal(proof[0], leaves[0], MERKLE_HASH_BYTES);
}

static void withdrawal_leaf_matches_cast(void **state)
{
        /*
         * cast keccak $(cast keccak $(cast abi-encode "f(uint256,address,address,uint256)" 1
         *   0x5FbDB2315678afecb367f032d93F642f64180aa3
         *   0x70997970C51812dc3A010C7d01b50e0d17dC79C8 1000000000000000000))
         */
        static const char want[] =
                "0x33f737503a7d1cf968961b50ead1ecafd00c3cc5359c559a049792703055945d";
        static const char token_hex[] = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        static const char recipient_hex[] = "0x70997970C51812dc3A010C7d01b50e0d17dC79C8";
        static const uint8_t one_ether[8] = {0x0d, 0xe0, 0xb6, 0xb3,
                                             0xa7, 0x64, 0x00, 0x00}; /* 10^18 */
        uint8_t id[32] = {0}, amount[32] = {0}, token[20], recipient[20];
        node leaf, expect;
        struct rwerr err;

        (void)state;
        id[31] = 1;
        memcpy(amount + 24, one_ether, sizeof one_ether);
        assert_int_equal(hex_decode(token_hex, strlen(token_hex), token, sizeof token, &err),
                         RW_OK);
        assert_int_equal(
                hex_decode(recipient_hex, strlen(recipient_hex), recipient, sizeof recipient, &err),
                RW_OK);
        assert_int_equal(hex_decode(want, strlen(want), expect, sizeof expect, &err), RW_OK);
        merkle_withdrawal_leaf(id, token, recipient, amount, leaf);
        assert_memory_equal(leaf, expect, sizeof leaf);
}

static void errors_leave_outputs_alone(void **state)
{
        node leaves[5], root, proof[3];
        size_t len = 99;
        struct rwerr err;

        (void)state;
        fill(leaves, 5, 5);
        memset(root, 0xaa, sizeof root);
        memset(proof, 0xaa, sizeof proof);
        assert_int_equal(merkle_root((const node *)leaves, 0, root, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "merkle tree needs at least one leaf");
        assert_int_equal(merkle_root(NULL, 3, root, &err), RW_ERR_INVALID);
        assert_int_equal(merkle_proof((const node *)leaves, 5, 5, proof, 3, &len, &err),
                         RW_ERR_RANGE);
        assert_string_equal(err.msg, "merkle leaf index 5 is out of range (tree of 5 leaves)");
        assert_int_equal(merkle_root((const node *)leaves, SIZE_MAX / 2, root, &err), RW_ERR_RANGE);
        /* 5 leaves: 9 nodes, the deepest leaves need 3 hashes. */
        assert_int_equal(merkle_proof_max(5), 3);
        {
                size_t i, refused = 0;

                for (i = 0; i < 5; i++) {
                        int rc = merkle_proof((const node *)leaves, 5, i, proof, 2, &len, &err);

                        if (rc != RW_OK) {
                                assert_int_equal(rc, RW_ERR_RANGE);
                                assert_non_null(strstr(err.msg, "needs 3 hashes, room for 2"));
                                refused++;
                        }
                }
                /* 9 nodes: leaves at 4..8; 7 and 8 are three levels down. */
                assert_int_equal(refused, 2);
        }
        memset(proof, 0xaa, sizeof proof);
        len = 99;
        assert_int_equal(merkle_proof((const node *)leaves, 5, 0, proof, 0, &len, &err),
                         RW_ERR_RANGE);
        assert_int_equal(len, 99);
        assert_int_equal(proof[0][0], 0xaa);
        assert_int_equal(root[0], 0xaa);
        /* A NULL err is allowed. */
        assert_int_equal(merkle_root((const node *)leaves, 0, root, NULL), RW_ERR_INVALID);
}

static void proof_max_is_tree_depth(void **state)
{
        (void)state;
        assert_int_equal(merkle_proof_max(0), 0);
        assert_int_equal(merkle_proof_max(1), 0);
        assert_int_equal(merkle_proof_max(2), 1);
        assert_int_equal(merkle_proof_max(3), 2);
        assert_int_equal(merkle_proof_max(4), 2);
        assert_int_equal(merkle_proof_max(5), 3);
        assert_int_equal(merkle_proof_max(100), 7);
        assert_int_equal(merkle_proof_max(1024), 10);
        assert_int_equal(merkle_proof_max(1025), 11);
        assert_int_equal(merkle_proof_max(SIZE_MAX), sizeof(size_t) * 8);
}

int main(void)
{
        const struct CMUnitTest by_hand[] = {
                cmocka_unit_test(single_leaf_is_its_own_root),
                cmocka_unit_test(pair_hash_sorts_its_inputs),
                cmocka_unit_test(two_leaves_prove_each_other),
                cmocka_unit_test(withdrawal_leaf_matches_cast),
                cmocka_unit_test(errors_leave_outputs_alone),
                cmocka_unit_test(proof_max_is_tree_depth),
        };
        const struct CMUnitTest from_library[] = {
                cmocka_unit_test(vectors_cover_every_size),
                cmocka_unit_test(leaf_hashes_match_library),
                cmocka_unit_test(roots_match_library),
                cmocka_unit_test(proofs_match_library),
                cmocka_unit_test(tampered_proofs_fail),
        };
        int failed = cmocka_run_group_tests_name("merkle by hand", by_hand, NULL, NULL);

        failed += cmocka_run_group_tests_name("merkle vs @openzeppelin/merkle-tree", from_library,
                                              load_vectors, free_vectors);
        return failed;
}
