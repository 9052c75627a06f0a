#include "json_strict.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_SHOWN_MAX 48 /* bytes of a duplicate name quoted in `why` */

size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
        size_t len, i;

        if (n == 0)
                return 0;
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4;
        else
                return 0; /* a continuation byte, an overlong lead (c0, c1) or past U+10FFFF */
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        }
        if ((s[0] == 0xe0 && s[1] < 0xa0) || /* overlong */
            (s[0] == 0xed && s[1] > 0x9f) || /* UTF-16 surrogates */
            (s[0] == 0xf0 && s[1] < 0x90) || /* overlong */
            (s[0] == 0xf4 && s[1] > 0x8f))   /* past U+10FFFF */
                return 0;
        return len;
}

int utf8_valid(const char *s, size_t n, size_t *bad_at)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, len;

        while (i < n) {
                len = utf8_sequence_len(u + i, n - i);
                if (len == 0 || u[i] == 0) {
                        if (bad_at != NULL)
                                *bad_at = i;
                        return 0;
                }
                i += len;
        }
        return 1;
}

/* ------------------------------------------------------------ the grammar */

/* One member name, unescaped, kept while its object is being read. */
struct name {
        char *text;
        size_t len;
};

struct reader {
        const unsigned char *s;
        size_t n, at;
        int depth;
        enum json_strict_result result; /* the first failure */
        char *why;
        size_t cap;
};

static void fail(struct reader *r, enum json_strict_result res, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void fail(struct reader *r, enum json_strict_result res, const char *fmt, ...)
{
        va_list ap;
        int w;

        if (r->result != JSON_STRICT_OK && r->result != JSON_STRICT_DUPLICATE_KEY)
                return;
        /* a grammar error found after a duplicate still wins: grammar is step 2 */
        r->result = res;
        if (r->why == NULL || r->cap == 0)
                return;
        w = snprintf(r->why, r->cap, "byte %zu: ", r->at);
        if (w < 0 || (size_t)w >= r->cap)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(r->why + w, r->cap - (size_t)w, fmt, ap);
        va_end(ap);
}

static int broken(const struct reader *r)
{
        return r->result != JSON_STRICT_OK && r->result != JSON_STRICT_DUPLICATE_KEY;
}

static int peek(const struct reader *r)
{
        return r->at < r->n ? r->s[r->at] : -1;
}

static void skip_ws(struct reader *r)
{
        while (r->at < r->n && (r->s[r->at] == ' ' || r->s[r->at] == '\t' || r->s[r->at] == '\n' ||
                                r->s[r->at] == '\r'))
                r->at++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
        unsigned v = 0;
        int i;

        for (i = 0; i < 4; i++) {
                unsigned c = p[i], d;

                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if (c >= 'a' && c <= 'f')
                        d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        d = c - 'A' + 10;
                else
                        return 0;
                v = v << 4 | d;
        }
        *out = v;
        return 1;
}

/* Appends code point cp as UTF-8 to out (room for 4 more bytes is there). */
static size_t put_utf8(unsigned char *out, uint32_t cp)
{
        if (cp < 0x80) {
                out[0] = (unsigned char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (unsigned char)(0xc0 | cp >> 6);
                out[1] = (unsigned char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (unsigned char)(0xe0 | cp >> 12);
                out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                out[2] = (unsigned char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (unsigned char)(0xf0 | cp >> 18);
        out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (unsigned char)(0x80 | (cp & 0x3f));
        return 4;
}

/* Bytes up to the closing quote of the string that starts at s (all of n when it is not closed). */
static size_t escaped_len(const unsigned char *s, size_t n)
{
        size_t i = 0;

        while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
        return i < n ? i : n;
}

/*
 * A string at r->at (the opening quote). With `name` non-NULL its unescaped
 * bytes are kept there (malloc'd; the unescaped form is never longer than
 * the escaped one). The input is valid UTF-8 already (step 1).
 */
static void read_string(struct reader *r, struct name *name)
{
        size_t start = ++r->at, out_len = 0;
        unsigned char *out = NULL;

        if (name != NULL) {
                /*
                 * The unescaped name is never longer than its escaped text: size
                 * the copy by that text, not by the rest of the input: the
                 * ~9000 names one 64 KiB object can hold, each kept with a copy
                 * of the rest of the input, took hundreds of megabytes.
                 */
                out = malloc(escaped_len(r->s + start, r->n - start) + 1);
                if (out == NULL) {
                        name->text = NULL;
                        name->len = 0;
                        fail(r, JSON_STRICT_NO_MEMORY, "out of memory");
                        return;
                }
        }
        for (;;) {
                int c = peek(r);

                if (c < 0) {
                        fail(r, JSON_STRICT_BAD_JSON, "a string is not closed");
                        break;
                }
                if (c == '"') {
                        r->at++;
                        break;
                }
                if (c < 0x20) {
                        fail(r, JSON_STRICT_BAD_JSON,
                             "a control character (0x%02x) inside a string must be escaped", c);
                        break;
                }
                if (c != '\\') {
                        if (out != NULL)
                                out[out_len++] = (unsigned char)c;
                        r->at++;
                        continue;
                }
                if (r->at + 1 >= r->n) {
                        fail(r, JSON_STRICT_BAD_JSON, "a string ends in a backslash");
                        break;
                }
                c = r->s[r->at + 1];
                if (c == 'u') {
                        unsigned hi, lo;
                        uint32_t cp;

                        if (r->at + 6 > r->n || !hex4(r->s + r->at + 2, &hi)) {
                                fail(r, JSON_STRICT_BAD_JSON, "\\u needs four hex digits");
                                break;
                        }
                        r->at += 6;
                        cp = hi;
                        if (hi == 0) {
                                fail(r, JSON_STRICT_BAD_JSON,
                                     "\\u0000 is not allowed (a NUL ends a string for some "
                                     "readers and not for others)");
                                break;
                        }
                        if (hi >= 0xdc00 && hi <= 0xdfff) {
                                fail(r, JSON_STRICT_BAD_JSON,
                                     "\\u%04x is a low surrogate without a high one before it", hi);
                                break;
                        }
                        if (hi >= 0xd800 && hi <= 0xdbff) {
                                if (r->at + 6 > r->n || r->s[r->at] != '\\' ||
                                    r->s[r->at + 1] != 'u' || !hex4(r->s + r->at + 2, &lo) ||
                                    lo < 0xdc00 || lo > 0xdfff) {
                                        fail(r, JSON_STRICT_BAD_JSON,
                                             "\\u%04x is a high surrogate without a low one "
                                             "after it",
                                             hi);
                                        break;
                                }
                                r->at += 6;
                                cp = 0x10000 + ((uint32_t)(hi - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        if (out != NULL)
                                out_len += put_utf8(out + out_len, cp);
                        continue;
                }
                if (strchr("\"\\/bfnrt", c) == NULL || c == 0) {
                        fail(r, JSON_STRICT_BAD_JSON, "\\%c is not a JSON escape",
                             c >= 0x20 && c < 0x7f ? c : '?');
                        break;
                }
                if (out != NULL) {
                        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";

                        out[out_len++] = (unsigned char)to[strchr(from, c) - from];
                }
                r->at += 2;
        }
        if (name != NULL) {
                if (broken(r)) {
                        free(out);
                        out = NULL;
                        out_len = 0;
                }
                name->text = (char *)out;
                name->len = out_len;
        }
}

static void read_number(struct reader *r)
{
        size_t digits;

        if (peek(r) == '-')
                r->at++;
        if (peek(r) == '0') {
                r->at++;
                if (peek(r) >= '0' && peek(r) <= '9') {
                        fail(r, JSON_STRICT_BAD_JSON, "a number with a leading zero");
                        return;
                }
        } else if (peek(r) >= '1' && peek(r) <= '9') {
                while (peek(r) >= '0' && peek(r) <= '9')
                        r->at++;
        } else {
                fail(r, JSON_STRICT_BAD_JSON, "a number without digits");
                return;
        }
        if (peek(r) == '.') {
                r->at++;
                for (digits = 0; peek(r) >= '0' && peek(r) <= '9'; digits++)
                        r->at++;
                if (digits == 0) {
                        fail(r, JSON_STRICT_BAD_JSON, "no digit after a decimal point");
                        return;
                }
        }
        if (peek(r) == 'e' || peek(r) == 'E') {
                r->at++;
                if (peek(r) == '+' || peek(r) == '-')
                        r->at++;
                for (digits = 0; peek(r) >= '0' && peek(r) <= '9'; digits++)
                        r->at++;
                if (digits == 0)
                        fail(r, JSON_STRICT_BAD_JSON, "no digit in an exponent");
        }
}

static void read_literal(struct reader *r, const char *word)
{
        size_t len = strlen(word);

        if (r->n - r->at < len || memcmp(r->s + r->at, word, len) != 0) {
                fail(r, JSON_STRICT_BAD_JSON, "not a JSON value");
                return;
        }
        r->at += len;
}

static void read_value(struct reader *r);

/* Quotes at most NAME_SHOWN_MAX bytes of a name for `why`, escaping what is not printable. */
static void show_name(const struct name *nm, char *out, size_t cap)
{
        size_t i, used = 0;

        for (i = 0; i < nm->len && i < NAME_SHOWN_MAX && used + 5 < cap; i++) {
                unsigned char c = (unsigned char)nm->text[i];
                int w = c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
                                ? snprintf(out + used, cap - used, "%c", c)
                                : snprintf(out + used, cap - used, "\\x%02x", c);

                used += w > 0 ? (size_t)w : 0;
        }
        out[used < cap ? used : cap - 1] = '\0';
}

static void check_duplicate(struct reader *r, struct name *names, size_t n, size_t name_at)
{
        char shown[NAME_SHOWN_MAX * 4 + 8];
        size_t i;

        for (i = 0; i + 1 < n; i++) {
                if (names[i].len == names[n - 1].len &&
                    (names[i].len == 0 ||
                     memcmp(names[i].text, names[n - 1].text, names[i].len) == 0)) {
                        if (r->result == JSON_STRICT_OK) {
                                size_t at = r->at;

                                show_name(&names[n - 1], shown, sizeof shown);
                                r->at = name_at;
                                fail(r, JSON_STRICT_DUPLICATE_KEY,
                                     "the name \"%s\" is given twice in one object", shown);
                                r->at = at;
                        }
                        return;
                }
        }
}

static void read_object(struct reader *r)
{
        struct name *names = NULL;
        size_t n = 0, cap = 0, i;

        r->at++; /* '{' */
        skip_ws(r);
        if (peek(r) == '}') {
                r->at++;
                return;
        }
        while (!broken(r)) {
                size_t name_at;

                skip_ws(r);
                if (peek(r) != '"') {
                        fail(r, JSON_STRICT_BAD_JSON, "a member name must be a string");
                        break;
                }
                if (n == cap) {
                        size_t ncap = cap ? 2 * cap : 16;
                        struct name *grown = realloc(names, ncap * sizeof *grown);

                        if (grown == NULL) {
                                fail(r, JSON_STRICT_NO_MEMORY, "out of memory");
                                break;
                        }
                        names = grown;
                        cap = ncap;
                }
                name_at = r->at;
                read_string(r, &names[n]);
                if (broken(r))
                        break;
                n++;
                check_duplicate(r, names, n, name_at);
                skip_ws(r);
                if (peek(r) != ':') {
                        fail(r, JSON_STRICT_BAD_JSON, "':' expected after a member name");
                        break;
                }
                r->at++;
                read_value(r);
                if (broken(r))
                        break;
                skip_ws(r);
                if (peek(r) == ',') {
                        r->at++;
                        continue;
                }
                if (peek(r) == '}') {
                        r->at++;
                        break;
                }
                fail(r, JSON_STRICT_BAD_JSON, "',' or '}' expected in an object");
        }
        for (i = 0; i < n; i++)
                free(names[i].text);
        free(names);
}

static void read_array(struct reader *r)
{
        r->at++; /* '[' */
        skip_ws(r);
        if (peek(r) == ']') {
                r->at++;
                return;
        }
        while (!broken(r)) {
                read_value(r);
                if (broken(r))
                        return;
                skip_ws(r);
                if (peek(r) == ',') {
                        r->at++;
                        continue;
                }
                if (peek(r) == ']') {
                        r->at++;
                        return;
                }
                fail(r, JSON_STRICT_BAD_JSON, "',' or ']' expected in an array");
        }
}

static void read_value(struct reader *r)
{
        int c;

        skip_ws(r);
        c = peek(r);
        if (c == '{' || c == '[') {
                if (++r->depth > JSON_STRICT_DEPTH_MAX) {
                        fail(r, JSON_STRICT_BAD_JSON, "nested more than %d deep",
                             JSON_STRICT_DEPTH_MAX);
                        return;
                }
                if (c == '{')
                        read_object(r);
                else
                        read_array(r);
                r->depth--;
        } else if (c == '"') {
                read_string(r, NULL);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
                read_number(r);
        } else if (c == 't') {
                read_literal(r, "true");
        } else if (c == 'f') {
                read_literal(r, "false");
        } else if (c == 'n') {
                read_literal(r, "null");
        } else if (c < 0) {
                fail(r, JSON_STRICT_BAD_JSON, "the text ends where a value should be");
        } else {
                fail(r, JSON_STRICT_BAD_JSON, "not a JSON value");
        }
}

enum json_strict_result json_strict_check(const char *s, size_t n, char *why, size_t cap)
{
        struct reader r = {(const unsigned char *)s, n, 0, 0, JSON_STRICT_OK, why, cap};
        size_t bad_at = 0;

        if (why != NULL && cap > 0)
                why[0] = '\0';
        if (!utf8_valid(s, n, &bad_at)) {
                r.at = bad_at;
                fail(&r, JSON_STRICT_NOT_UTF8,
                     r.s[bad_at] == 0 ? "a NUL byte" : "not UTF-8 (byte 0x%02x)", r.s[bad_at]);
                return r.result;
        }
        if (n == 0 || r.s[0] != '{') {
                fail(&r, JSON_STRICT_BAD_JSON, "the message must start with '{'");
                return r.result;
        }
        read_value(&r);
        if (!broken(&r) && r.at != n)
                fail(&r, JSON_STRICT_BAD_JSON, "%zu bytes after the JSON object", n - r.at);
        return r.result;
}
