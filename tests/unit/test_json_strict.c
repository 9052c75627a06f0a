/*
 * Unit tests of watchdog/base/json_strict: the three checks of
 * docs/PROTOCOL.md section 5.2, in their order (UTF-8, then the grammar,
 * then duplicate names), each edge case by its bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_strict.h"

#define WHY_SIZE 256

/* json_strict_check over n bytes of s must give `want`; with `why_has` its text must contain it. */
static void expect_n(const char *s, size_t n, enum json_strict_result want, const char *why_has)
{
        char why[WHY_SIZE];
        enum json_strict_result got = json_strict_check(s, n, why, sizeof why);

        if (got != want)
                fail_msg("json_strict_check of %zu bytes '%.80s': %d (%s), wanted %d", n, s, got,
                         why, want);
        if (want == JSON_STRICT_OK)
                assert_string_equal(why, "");
        else
                assert_true(why[0] != '\0');
        if (why_has != NULL && strstr(why, why_has) == NULL)
                fail_msg("json_strict_check of '%.80s': '%s' does not say '%s'", s, why, why_has);
}

static void expect(const char *s, enum json_strict_result want)
{
        expect_n(s, strlen(s), want, NULL);
}

/* Every byte of `why` is printable ASCII: nothing of the input is copied raw. */
static void why_is_printable(const char *s, size_t n)
{
        char why[WHY_SIZE];
        size_t i;

        (void)json_strict_check(s, n, why, sizeof why);
        for (i = 0; why[i] != '\0'; i++) {
                if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
                        fail_msg("byte %zu of '%s' is 0x%02x", i, why, (unsigned char)why[i]);
        }
}

/* ------------------------------------------------------------------ UTF-8 */

static void utf8_sequences(void **state)
{
        static const struct {
                const char *bytes;
                size_t n, want;
        } cases[] = {
                {"A", 1, 1},
                {"\x7f", 1, 1},
                {"\xc2\x80", 2, 2},         /* U+0080, the smallest 2-byte */
                {"\xdf\xbf", 2, 2},         /* U+07FF */
                {"\xe0\xa0\x80", 3, 3},     /* U+0800, the smallest 3-byte */
                {"\xed\x9f\xbf", 3, 3},     /* U+D7FF, just below the surrogates */
                {"\xee\x80\x80", 3, 3},     /* U+E000, just above them */
                {"\xef\xbf\xbf", 3, 3},     /* U+FFFF */
                {"\xf0\x90\x80\x80", 4, 4}, /* U+10000 */
                {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF, the largest */
                {"\xc0\x80", 2, 0},         /* overlong NUL */
                {"\xc1\xbf", 2, 0},         /* overlong U+007F */
                {"\xe0\x80\x80", 3, 0},     /* overlong NUL in 3 bytes */
                {"\xe0\x9f\xbf", 3, 0},     /* overlong U+07FF */
                {"\xf0\x80\x80\x80", 4, 0}, /* overlong NUL in 4 bytes */
                {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong U+FFFF */
                {"\xed\xa0\x80", 3, 0},     /* U+D800, a high surrogate */
                {"\xed\xbf\xbf", 3, 0},     /* U+DFFF, a low surrogate */
                {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
                {"\xf5\x80\x80\x80", 4, 0}, /* lead byte past U+10FFFF */
                {"\xff", 1, 0},
                {"\x80", 1, 0},         /* a stray continuation byte */
                {"\xc2", 1, 0},         /* cut short */
                {"\xe2\x82", 2, 0},     /* cut short */
                {"\xf0\x9f\x98", 3, 0}, /* cut short */
                {"\xe2\x41\x82", 3, 0}, /* a continuation that is not one */
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t got = utf8_sequence_len((const unsigned char *)cases[i].bytes, cases[i].n);

                if (got != cases[i].want)
                        fail_msg("case %zu: %zu, wanted %zu", i, got, cases[i].want);
        }
        assert_int_equal(utf8_sequence_len((const unsigned char *)"", 0), 0);
        /* NUL is one byte to utf8_sequence_len, refused by utf8_valid */
        assert_int_equal(utf8_sequence_len((const unsigned char *)"\0", 1), 1);
}

static void utf8_valid_says_where(void **state)
{
        size_t at = 99;

        (void)state;
        assert_true(utf8_valid("", 0, &at));
        assert_true(utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11, &at));
        assert_false(utf8_valid("ab\0cd", 5, &at));
        assert_int_equal(at, 2);
        assert_false(utf8_valid("abc\xc0\x80", 5, &at));
        assert_int_equal(at, 3);
        assert_false(utf8_valid("\xe2\x82\xac\xe2\x82", 5, &at));
        assert_int_equal(at, 3);
        assert_false(utf8_valid("x\xed\xa0\x80", 4, NULL));
}

static void not_utf8_comes_first(void **state)
{
        static const char *const bad[] = {
                "{\"a\":\"\xc0\x80\"}",
                "{\"a\":\"\xe0\x80\x80\"}",
                "{\"a\":\"\xf0\x80\x80\x80\"}",
                "{\"a\":\"\xed\xa0\x80\"}",
                "{\"a\":\"\xf4\x90\x80\x80\"}",
                "{\"a\":\"\xc3\"}",
                "{\"a\":\"\xe2\x82\"}",
                "{\"a\":\"\x80\"}",
                "{\"a\":\"\xff\"}",
                /* bad UTF-8 in what is bad JSON too: UTF-8 is step 1 */
                " {\"a\":\"\xc0\x80\"",
                "{\"a\xff\":1,\"a\xff\":2}",
        };
        char nul[] = "{\"a\":\"x\0y\"}";
        size_t i;

        (void)state;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                expect_n(bad[i], strlen(bad[i]), JSON_STRICT_NOT_UTF8, "not UTF-8");
                why_is_printable(bad[i], strlen(bad[i]));
        }
        expect_n(nul, sizeof nul - 1, JSON_STRICT_NOT_UTF8, "byte 7: a NUL byte");
        expect_n("{}\0", 3, JSON_STRICT_NOT_UTF8, "NUL");
        expect_n("{\"a\":\"\xc0\x80\"}", 10, JSON_STRICT_NOT_UTF8, "byte 6: not UTF-8 (byte 0xc0)");
        /* the largest code point and the ones around the surrogates are fine */
        expect("{\"a\":\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"}", JSON_STRICT_OK);
}

/* ---------------------------------------------------------------- grammar */

static void accepted_texts(void **state)
{
        static const char *const ok[] = {
                "{}",
                "{ }",
                "{\"a\":1}",
                "{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }",
                "{\"a\":\t\r\n1}",
                "{\"n\":[0,-0,1,-1,0.5,-0.5,1e5,1E5,1e+5,1e-5,1.5e10,12345678901234567890]}",
                "{\"t\":true,\"f\":false,\"z\":null,\"s\":\"\",\"o\":{},\"a\":[]}",
                "{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
                "{\"u\":\"\\u0041\\u00e9\\u20ac\\uFFFF\"}",
                "{\"pair\":\"\\ud83d\\ude00\",\"PAIR\":\"\\uD83D\\uDE00\"}",
                "{\"del\":\"\x7f\",\"utf8\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
                "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}",
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
                expect(ok[i], JSON_STRICT_OK);
}

static void grammar_refusals(void **state)
{
        static const struct {
                const char *text;
                const char *why;
        } bad[] = {
                {"", "must start with '{'"},
                {" {}", "must start with '{'"},
                {"\n{}", "must start with '{'"},
                {"\xef\xbb\xbf{}", "must start with '{'"}, /* a byte-order mark */
                {"{} ", "1 bytes after the JSON object"},
                {"{}\n", "1 bytes after the JSON object"},
                {"{}{}", "2 bytes after the JSON object"},
                {"{},", "after the JSON object"},
                {"[1]", "must start with '{'"},
                {"\"a\"", "must start with '{'"},
                {"1", "must start with '{'"},
                {"{", "a member name must be a string"},
                {"{\"a\":1", "',' or '}' expected"},
                {"{\"a\":1,}", "a member name must be a string"},
                {"{\"a\":[1,]}", "not a JSON value"},
                {"{\"a\":[1 2]}", "',' or ']' expected"},
                {"{,\"a\":1}", "a member name must be a string"},
                {"{\"a\" 1}", "':' expected"},
                {"{\"a\":}", "not a JSON value"},
                {"{a:1}", "a member name must be a string"},
                {"{'a':1}", "a member name must be a string"},
                {"{\"a\":'x'}", "not a JSON value"},
                {"{\"a\":01}", "leading zero"},
                {"{\"a\":-01}", "leading zero"},
                {"{\"a\":00}", "leading zero"},
                {"{\"a\":+1}", "not a JSON value"},
                {"{\"a\":-}", "a number without digits"},
                {"{\"a\":.5}", "not a JSON value"},
                {"{\"a\":1.}", "no digit after a decimal point"},
                {"{\"a\":1.e5}", "no digit after a decimal point"},
                {"{\"a\":1e}", "no digit in an exponent"},
                {"{\"a\":1e+}", "no digit in an exponent"},
                {"{\"a\":0x10}", "',' or '}' expected"},
                {"{\"a\":NaN}", "not a JSON value"},
                {"{\"a\":Infinity}", "not a JSON value"},
                {"{\"a\":-Infinity}", "a number without digits"},
                {"{\"a\":tru}", "not a JSON value"},
                {"{\"a\":True}", "not a JSON value"},
                {"{\"a\":nul}", "not a JSON value"},
                {"{\"a\":undefined}", "not a JSON value"},
                {"{/*c*/\"a\":1}", "a member name must be a string"},
                {"{\"a\":1//c\n}", "',' or '}' expected"},
                {"{\"a\":1}//c", "after the JSON object"},
                {"{\"a\":\"x}", "a string is not closed"},
                {"{\"a\":\"x\\", "a string ends in a backslash"},
                {"{\"a\":\"\\x41\"}", "\\x is not a JSON escape"},
                {"{\"a\":\"\\'\"}", "\\' is not a JSON escape"},
                {"{\"a\":\"\\a\"}", "\\a is not a JSON escape"},
                {"{\"a\":\"\\U0041\"}", "\\U is not a JSON escape"},
                {"{\"a\":\"\\u41\"}", "\\u needs four hex digits"},
                {"{\"a\":\"\\u004g\"}", "\\u needs four hex digits"},
                {"{\"a\":\"\\u00", "\\u needs four hex digits"},
                {"{\"a\":\"tab\there\"}", "control character (0x09)"},
                {"{\"a\":\"nl\nhere\"}", "control character (0x0a)"},
                {"{\"a\":\"\x1f\"}", "control character (0x1f)"},
                {"{\"a\":\"\\ud800\"}", "\\ud800 is a high surrogate without a low one"},
                {"{\"a\":\"\\udbff\"}", "\\udbff is a high surrogate without a low one"},
                {"{\"a\":\"\\udc00\"}", "\\udc00 is a low surrogate without a high one"},
                {"{\"a\":\"\\udfff\\ud800\"}", "\\udfff is a low surrogate"},
                {"{\"a\":\"\\ud800x\"}", "high surrogate without a low one"},
                {"{\"a\":\"\\ud800\\n\"}", "high surrogate without a low one"},
                {"{\"a\":\"\\ud800\\u0041\"}", "high surrogate without a low one"},
                {"{\"a\":\"\\ud800\\ud800\"}", "high surrogate without a low one"},
                {"{\"a\":\"\\ud83d\\ude00\\ude00\"}", "\\ude00 is a low surrogate"},
                {"{\"a\\ud800\":1}", "high surrogate without a low one"},
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                expect_n(bad[i].text, strlen(bad[i].text), JSON_STRICT_BAD_JSON, bad[i].why);
                why_is_printable(bad[i].text, strlen(bad[i].text));
        }
}

/* An object with `depth` nested arrays or objects in all (the outer object counts). */
static char *nested(int depth, int objects)
{
        char *s = malloc((size_t)depth * 6 + 8);
        size_t n = 0;
        int i;

        assert_non_null(s);
        s[n++] = '{';
        for (i = 1; i < depth; i++) {
                if (objects) {
                        memcpy(s + n, "\"a\":{", 5);
                        n += 5;
                } else {
                        memcpy(s + n, i == 1 ? "\"a\":[" : "[", i == 1 ? 5 : 1);
                        n += i == 1 ? 5 : 1;
                }
        }
        for (i = depth - 1; i >= 1; i--)
                s[n++] = objects ? '}' : ']';
        s[n++] = '}';
        s[n] = '\0';
        return s;
}

static void depth_limit(void **state)
{
        char *s;

        (void)state;
        s = nested(JSON_STRICT_DEPTH_MAX, 1);
        expect(s, JSON_STRICT_OK);
        free(s);
        s = nested(JSON_STRICT_DEPTH_MAX, 0);
        expect(s, JSON_STRICT_OK);
        free(s);
        s = nested(JSON_STRICT_DEPTH_MAX + 1, 1);
        expect_n(s, strlen(s), JSON_STRICT_BAD_JSON, "nested more than 32 deep");
        free(s);
        s = nested(JSON_STRICT_DEPTH_MAX + 1, 0);
        expect_n(s, strlen(s), JSON_STRICT_BAD_JSON, "nested more than 32 deep");
        free(s);
        /* deep, but never more than 32 at once */
        s = nested(2000, 0);
        expect(s, JSON_STRICT_BAD_JSON);
        free(s);
}

/* -------------------------------------------------------------- duplicates */

static void duplicate_names(void **state)
{
        static const struct {
                const char *text;
                const char *why;
        } dup[] = {
                {"{\"id\":\"a\",\"id\":\"b\"}", "byte 10: the name \"id\" is given twice"},
                {"{\"id\":\"a\",\"id\":\"a\"}", "\"id\" is given twice"},
                {"{\"a\":1,\"b\":2,\"c\":3,\"a\":4}", "\"a\" is given twice"},
                {"{\"a\":{\"x\":1,\"x\":2}}", "\"x\" is given twice"},
                {"{\"a\":[1,{\"b\":{\"c\":1,\"c\":2}}]}", "\"c\" is given twice"},
                {"{\"list\":[{\"k\":1},{\"k\":2,\"k\":3}]}", "\"k\" is given twice"},
                {"{\"a\":1,\"\\u0061\":2}", "\"a\" is given twice"},
                {"{\"\\u0061\":1,\"a\":2}", "\"a\" is given twice"},
                {"{\"\\n\":1,\"\\u000a\":2}", "\"\\x0a\" is given twice"},
                {"{\"\\/\":1,\"/\":2}", "\"/\" is given twice"},
                {"{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", "\"\\xf0\\x9f\\x98\\x80\" is"},
                {"{\"\":1,\"\":2}", "\"\" is given twice"},
                {"{\"\\\"\":1,\"\\u0022\":2}", "\"\\x22\" is given twice"},
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof dup / sizeof dup[0]; i++) {
                expect_n(dup[i].text, strlen(dup[i].text), JSON_STRICT_DUPLICATE_KEY, dup[i].why);
                why_is_printable(dup[i].text, strlen(dup[i].text));
        }
        /* the same name in different objects, or differing in case or escape-free bytes */
        expect("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", JSON_STRICT_OK);
        expect("{\"a\":[{\"a\":1},{\"a\":1}]}", JSON_STRICT_OK);
        expect("{\"a\":1,\"A\":2,\"a \":3,\"\\u0062\":4}", JSON_STRICT_OK);
        expect("{\"a\":\"a\",\"b\":\"a\"}", JSON_STRICT_OK);
}

static void grammar_beats_an_earlier_duplicate(void **state)
{
        (void)state;
        /* a duplicate, then a grammar error further on: the grammar is step 2 */
        expect_n("{\"a\":1,\"a\":2,}", 14, JSON_STRICT_BAD_JSON, "a member name must be a string");
        expect_n("{\"a\":1,\"a\":2} ", 14, JSON_STRICT_BAD_JSON, "after the JSON object");
        expect_n("{\"a\":{\"b\":1,\"b\":2},\"c\":01}", 26, JSON_STRICT_BAD_JSON, "leading zero");
        expect_n("{\"a\":1,\"a\":\"\\ud800\"}", 20, JSON_STRICT_BAD_JSON, "high surrogate");
        /* and bad UTF-8 anywhere beats both */
        expect_n("{\"a\":1,\"a\":2,\"\xc0\x80\"}", 17, JSON_STRICT_NOT_UTF8, NULL);
        /* the first of two duplicates is the one named */
        expect_n("{\"a\":1,\"a\":2,\"b\":1,\"b\":2}", 25, JSON_STRICT_DUPLICATE_KEY, "\"a\"");
}

static void many_names_in_one_object(void **state)
{
        /* ~9000 distinct names in a 64 KiB object: fast, and small in memory */
        size_t cap = 65536, n = 0;
        char *s = malloc(cap + 16);
        int i;

        (void)state;
        assert_non_null(s);
        s[n++] = '{';
        for (i = 0; n + 16 < cap; i++)
                n += (size_t)snprintf(s + n, cap - n, "%s\"%x\":0", i ? "," : "", i);
        s[n++] = '}';
        s[n] = '\0';
        expect_n(s, n, JSON_STRICT_OK, NULL);
        /* the last name again */
        n--;
        n += (size_t)snprintf(s + n, cap + 16 - n, ",\"%x\":1}", i - 1);
        expect_n(s, n, JSON_STRICT_DUPLICATE_KEY, "is given twice");
        free(s);
}

static void why_is_optional_and_capped(void **state)
{
        char why[8];

        (void)state;
        assert_int_equal(json_strict_check("{} ", 3, NULL, 0), JSON_STRICT_BAD_JSON);
        assert_int_equal(json_strict_check("{\"a\":1,\"a\":1}", 13, NULL, 5),
                         JSON_STRICT_DUPLICATE_KEY);
        assert_int_equal(json_strict_check("{\"a\":1,\"a\":1}", 13, why, sizeof why),
                         JSON_STRICT_DUPLICATE_KEY);
        assert_int_equal(strlen(why), sizeof why - 1);
        assert_int_equal(json_strict_check("{}", 2, why, sizeof why), JSON_STRICT_OK);
        assert_string_equal(why, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(utf8_sequences),
                cmocka_unit_test(utf8_valid_says_where),
                cmocka_unit_test(not_utf8_comes_first),
                cmocka_unit_test(accepted_texts),
                cmocka_unit_test(grammar_refusals),
                cmocka_unit_test(depth_limit),
                cmocka_unit_test(duplicate_names),
                cmocka_unit_test(grammar_beats_an_earlier_duplicate),
                cmocka_unit_test(many_names_in_one_object),
                cmocka_unit_test(why_is_optional_and_capped),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
