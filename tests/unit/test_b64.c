/* b64: strict base64 as relaywatch reads keys, signatures and hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"

static int decodes(const char *s, size_t *n)
{
        unsigned char out[64];

        return b64_decode(s, strlen(s), out, sizeof out, n);
}

static void accepts_canonical_padded_text(void **state)
{
        unsigned char out[8];
        size_t n;

        (void)state;
        assert_int_equal(decodes("", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(decodes("Zm9vYmFy", &n), 0);
        assert_int_equal(n, 6);
        assert_int_equal(decodes("Zm9vYg==", &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(decodes("Zm9vYmE=", &n), 0);
        assert_int_equal(n, 5);
        assert_int_equal(b64_decode_exact("Zm9vYmE=", out, 5), 0);
        assert_memory_equal(out, "fooba", 5);
}

static void refuses_everything_else(void **state)
{
        unsigned char out[8];
        size_t n;

        (void)state;
        assert_int_equal(decodes("Zm9vYg", &n), -1);                /* no padding */
        assert_int_equal(decodes("Zm9vYh==", &n), -1);              /* non-zero unused bits */
        assert_int_equal(decodes("Zm9vYmF=", &n), -1);              /* the same, one '=' */
        assert_int_equal(decodes("Zm9v Ymg=", &n), -1);             /* whitespace */
        assert_int_equal(decodes("Zm9v\nYmFy", &n), -1);            /* a line break */
        assert_int_equal(decodes("Zm9v-_Fy", &n), -1);              /* the URL-safe alphabet */
        assert_int_equal(decodes("Zm=vYmFy", &n), -1);              /* '=' in the middle */
        assert_int_equal(decodes("Zm9vYmFy====", &n), -1);          /* padding of nothing */
        assert_int_equal(decodes("\xc8\x99\xd4\xbe", &n), -1);      /* bytes above 0x7f */
        assert_int_equal(b64_decode_exact("Zm9vYmE=", out, 4), -1); /* 5 bytes, not 4 */
        assert_int_equal(b64_decode_exact("Zm9vYmE=", out, 6), -1); /* nor 6 */
        assert_int_equal(b64_decode_exact(NULL, out, 6), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(accepts_canonical_padded_text),
                cmocka_unit_test(refuses_everything_else),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
