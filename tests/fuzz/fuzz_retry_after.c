/*
 * Fuzz target for the one parser of outside input in the receivers,
 * receiver_retry_after_ms (watchdog/alert/receiver.h): a Retry-After
 * header as a receiver sends it. The input is the header's value. The
 * answer is -1 or a delay in 0..3600000 ms, the same on a second call, and
 * the same at every `now` when the value is delta-seconds; an HTTP-date
 * asks for no more a second later than it did at `now`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receiver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP_MS 3600000

static int all_digits(const char *s)
{
        for (; *s == ' ' || *s == '\t'; s++)
                ;
        if (*s < '0' || *s > '9')
                return 0;
        for (; *s >= '0' && *s <= '9'; s++)
                ;
        for (; *s == ' ' || *s == '\t'; s++)
                ;
        return *s == '\0';
}

static void check(const char *s, int64_t now_ms)
{
        int64_t r = receiver_retry_after_ms(s, now_ms);

        if (r < -1 || r > CAP_MS || r != receiver_retry_after_ms(s, now_ms))
                abort();
        if (all_digits(s) && (r < 0 || r % 1000 != 0 || r != receiver_retry_after_ms(s, 0)))
                abort();
        if (!all_digits(s) && r >= 0 && now_ms < INT64_MAX - 1000) {
                int64_t later = receiver_retry_after_ms(s, now_ms + 1000);

                if (later < 0 || later > r)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const int64_t nows[] = {0, 1764744194123, -1, INT64_MIN, INT64_MAX};
        char *s = malloc(size + 1);
        size_t i;

        if (s == NULL)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        for (i = 0; i < sizeof nows / sizeof nows[0]; i++)
                check(s, nows[i]);
        free(s);
        return 0;
}
