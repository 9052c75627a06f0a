/*
 * Fuzz target for watchdog/base/json_strict: whatever bytes arrive as a
 * control message's msg (docs/PROTOCOL.md section 5.2). Nothing may read or
 * write out of bounds or leak, and:
 *
 *   - the result is one of the enum's, the same with or without `why`, and
 *     with a `why` of any size (cut short, NUL-terminated, never overrun);
 *   - `why` is empty exactly when the text passes, and holds printable
 *     ASCII only: nothing of the input is copied raw;
 *   - not_utf8 exactly when utf8_valid refuses the bytes, and utf8_valid
 *     agrees with walking utf8_sequence_len;
 *   - what passes is one JSON object to cJSON too, with no two members of
 *     the top-level object of the same name (when no name holds a \u0000
 *     escape, which cJSON cuts short).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_why(const char *why, size_t cap, enum json_strict_result r)
{
        size_t n = strnlen(why, cap), i;

        if (n == cap) /* not terminated */
                abort();
        if ((r == JSON_STRICT_OK) != (n == 0) && cap > 1)
                abort();
        for (i = 0; i < n; i++) {
                if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
                        abort();
        }
}

/* utf8_valid by hand: every sequence well-formed, no NUL. */
static int utf8_walk(const unsigned char *s, size_t n)
{
        size_t i = 0, len;

        while (i < n) {
                if (s[i] == 0 || (len = utf8_sequence_len(s + i, n - i)) == 0 || len > 4 ||
                    len > n - i)
                        return 0;
                i += len;
        }
        return 1;
}

static int contains(const uint8_t *data, size_t size, const char *needle)
{
        size_t n = strlen(needle), i;

        for (i = 0; i + n <= size; i++) {
                if (memcmp(data + i, needle, n) == 0)
                        return 1;
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        char why[160], tiny[7];
        enum json_strict_result r, again;
        size_t bad_at = 0;
        int valid;

        r = json_strict_check(s, size, why, sizeof why);
        if (r != JSON_STRICT_OK && r != JSON_STRICT_NOT_UTF8 && r != JSON_STRICT_BAD_JSON &&
            r != JSON_STRICT_DUPLICATE_KEY && r != JSON_STRICT_NO_MEMORY)
                abort();
        check_why(why, sizeof why, r);
        if (r == JSON_STRICT_NO_MEMORY)
                return 0;
        /* the same verdict without a message, and with one cut short */
        if (json_strict_check(s, size, NULL, 0) != r)
                abort();
        memset(tiny, 'x', sizeof tiny);
        again = json_strict_check(s, size, tiny, sizeof tiny);
        if (again != r)
                abort();
        check_why(tiny, sizeof tiny, r);

        valid = utf8_valid(s, size, &bad_at);
        if (valid != utf8_walk(data, size))
                abort();
        if (!valid && bad_at >= size)
                abort();
        if ((r == JSON_STRICT_NOT_UTF8) != !valid)
                abort();

        if (r == JSON_STRICT_OK) {
                cJSON *root = cJSON_ParseWithLength(s, size), *a, *b;

                if (root == NULL || !cJSON_IsObject(root))
                        abort();
                if (!contains(data, size, "\\u0000")) {
                        for (a = root->child; a != NULL; a = a->next) {
                                for (b = a->next; b != NULL; b = b->next) {
                                        if (strcmp(a->string, b->string) == 0)
                                                abort();
                                }
                        }
                }
                cJSON_Delete(root);
        }
        return 0;
}
