/*
 * Unit tests for chain/keccak: published vectors, and vectors computed by a
 * real implementation (Foundry's cast, via tests/vectors/keccak-vectors.sh)
 * at lengths around the sponge's 136-byte rate, hashed in one call and in
 * every way of splitting the input in two.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "keccak.h"
#include "rwerr.h"

#define MAX_INPUT 2048

static void assert_digest(const uint8_t got[KECCAK256_BYTES], const char *want_hex)
{
        uint8_t want[KECCAK256_BYTES];
        struct rwerr err;

        if (hex_decode(want_hex, strlen(want_hex), want, sizeof want, &err) != 0)
                fail_msg("bad expected digest %s: %s", want_hex, err.msg);
        assert_memory_equal(got, want, KECCAK256_BYTES);
}

static void published_vectors(void **state)
{
        uint8_t out[KECCAK256_BYTES];

        (void)state;
        /* REFERENCE.md section 6. */
        keccak256(NULL, 0, out);
        assert_digest(out, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        keccak256("abc", 3, out);
        assert_digest(out, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
        keccak256("transfer(address,uint256)", 25, out);
        assert_digest(out, "a9059cbb2ab09eb219583f4a59a5d0623ade346d962bcd4e46b11da047c9049b");
}

static void not_sha3(void **state)
{
        uint8_t out[KECCAK256_BYTES];

        (void)state;
        /* SHA3-256("") differs: a wrong padding byte (0x06) would produce it. */
        keccak256("", 0, out);
        assert_memory_not_equal(out,
                                "\xa7\xff\xc6\xf8\xbf\x1e\xd7\x66\x51\xc1\x47\x56\xa0\x61\xd6\x62"
                                "\xf5\x80\xff\x4d\xe4\x3b\x49\xfa\x82\xd8\x0a\x4b\x80\xf8\x43\x4a",
                                KECCAK256_BYTES);
}

static void incremental_equals_one_shot(const uint8_t *in, size_t len, const uint8_t *want)
{
        struct keccak256_ctx ctx;
        uint8_t out[KECCAK256_BYTES];
        size_t split, i;

        for (split = 0; split <= len; split++) {
                keccak256_init(&ctx);
                keccak256_update(&ctx, in, split);
                keccak256_update(&ctx, in + split, len - split);
                keccak256_final(&ctx, out);
                if (memcmp(out, want, KECCAK256_BYTES) != 0)
                        fail_msg("length %zu split at %zu differs from the one-shot digest", len,
                                 split);
        }
        /* One byte at a time. */
        keccak256_init(&ctx);
        for (i = 0; i < len; i++)
                keccak256_update(&ctx, in + i, 1);
        keccak256_final(&ctx, out);
        assert_memory_equal(out, want, KECCAK256_BYTES);
}

static void vectors_from_cast(void **state)
{
        const char *path = getenv("KECCAK_VECTORS");
        static char line[2 * MAX_INPUT + 2 * KECCAK256_BYTES + 16];
        static uint8_t in[MAX_INPUT];
        uint8_t out[KECCAK256_BYTES];
        struct rwerr err;
        int checked = 0;
        FILE *f;

        (void)state;
        if (path == NULL)
                fail_msg("KECCAK_VECTORS is not set: run through ctest, which generates them");
        f = fopen(path, "r");
        if (f == NULL)
                fail_msg("cannot open %s", path);
        while (fgets(line, sizeof line, f) != NULL) {
                char *space = strchr(line, ' ');
                char *digest;
                size_t len = 0;

                if (space == NULL) {
                        fail_msg("%s: malformed line %d", path, checked + 1);
                        return;
                }
                *space = '\0';
                digest = space + 1;
                digest[strcspn(digest, "\n")] = '\0';
                if (strcmp(line, "-") != 0 &&
                    hex_decode_any(line, strlen(line), in, sizeof in, &len, &err) != 0)
                        fail_msg("%s: line %d: %s", path, checked + 1, err.msg);
                keccak256(in, len, out);
                assert_digest(out, digest);
                incremental_equals_one_shot(in, len, out);
                checked++;
        }
        fclose(f);
        assert_true(checked >= 20);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(published_vectors),
                cmocka_unit_test(not_sha3),
                cmocka_unit_test(vectors_from_cast),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
