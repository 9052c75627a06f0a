#include "b64.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define VARIANT sodium_base64_VARIANT_ORIGINAL

static int in_alphabet(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/';
}

int b64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
        const char *end = NULL;
        char *again;
        size_t i, pad = 0, n = 0;
        int same;

        *out_len = 0;
        if (len % 4 != 0)
                return -1;
        for (i = 0; i < len; i++) {
                if (s[i] == '=' && i + 2 >= len)
                        pad++;
                else if (pad > 0 || !in_alphabet(s[i]))
                        return -1;
        }
        if (sodium_base642bin(out, cap, s, len, NULL, &n, &end, VARIANT) != 0 || end != s + len)
                return -1;
        /* canonical: encoding the bytes again gives the same text */
        if ((again = malloc(sodium_base64_ENCODED_LEN(n, VARIANT))) == NULL)
                return -1;
        sodium_bin2base64(again, sodium_base64_ENCODED_LEN(n, VARIANT), out, n, VARIANT);
        same = strlen(again) == len && memcmp(again, s, len) == 0;
        free(again);
        if (!same)
                return -1;
        *out_len = n;
        return 0;
}

int b64_decode_exact(const char *s, unsigned char *out, size_t want)
{
        size_t n;

        return s != NULL && b64_decode(s, strlen(s), out, want, &n) == 0 && n == want ? 0 : -1;
}
