/*
 * json_strict: the strictness checks a control message must pass before it
 * is parsed (docs/PROTOCOL.md section 5.2), in the order the protocol
 * gives them:
 *
 *   1. well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 *      nothing above U+10FFFF) and no NUL byte;
 *   2. exactly one JSON object (RFC 8259 grammar) and nothing else: no byte
 *      before the '{' or after the closing '}', not even whitespace; no \u
 *      escape that leaves a lone surrogate, and no \u0000 (cJSON, like
 *      every reader of NUL-terminated strings, would cut a name there);
 *      arrays and objects nested at most JSON_STRICT_DEPTH_MAX deep;
 *   3. no object, at any depth, with two members of the same name
 *      (compared after unescaping).
 *
 * cJSON, like most JSON readers, takes the last of two duplicate names and
 * decodes lone surrogates; these checks run first so that every reader of
 * a message that passes sees the same thing.
 *
 * Pure functions over a buffer: no allocation beyond the names of one
 * object at a time, no global state, safe from any thread.
 */
#ifndef RELAYWATCH_JSON_STRICT_H
#define RELAYWATCH_JSON_STRICT_H

#include <stddef.h>

#define JSON_STRICT_DEPTH_MAX 32

enum json_strict_result {
        JSON_STRICT_OK = 0,
        JSON_STRICT_NOT_UTF8 = 1,      /* step 1 failed */
        JSON_STRICT_BAD_JSON = 2,      /* step 2 failed */
        JSON_STRICT_DUPLICATE_KEY = 3, /* step 3 failed */
        JSON_STRICT_NO_MEMORY = 4,     /* the duplicate check ran out of memory */
};

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (1 to 4), or 0 when
 * the bytes there are not one (a stray continuation byte, an overlong form,
 * a surrogate, a code point above U+10FFFF, or a sequence cut short).
 * NUL counts as a valid 1-byte sequence here.
 */
size_t utf8_sequence_len(const unsigned char *s, size_t n);

/* 1 when s[0..n) is well-formed UTF-8 with no NUL byte; else 0 and *bad_at the first bad byte. */
int utf8_valid(const char *s, size_t n, size_t *bad_at);

/*
 * Runs the three checks over s[0..n). On a failure `why` (cap bytes, may be
 * NULL) says what and where, e.g. "byte 17: a name given twice in one
 * object: \"id\"", with anything taken from the input escaped.
 */
enum json_strict_result json_strict_check(const char *s, size_t n, char *why, size_t cap);

#endif
