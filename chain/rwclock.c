#include "rwclock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rwerr.h"

static struct timespec read_clock(clockid_t id)
{
        struct timespec ts = {0, 0};

        (void)clock_gettime(id, &ts); /* cannot fail for these clocks on Linux */
        return ts;
}

uint64_t rwclock_mono_ms(void)
{
        struct timespec ts = read_clock(CLOCK_MONOTONIC);

        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t rwclock_mono_us(void)
{
        struct timespec ts = read_clock(CLOCK_MONOTONIC);

        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct timespec rwclock_mono_deadline(uint64_t ms)
{
        struct timespec until = read_clock(CLOCK_MONOTONIC);

        until.tv_sec += (time_t)(ms / 1000);
        until.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        return until;
}

int64_t rwclock_wall_ms(void)
{
        struct timespec ts = read_clock(CLOCK_REALTIME);

        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rwclock_format_utc(int64_t unix_ms, char out[RWCLOCK_UTC_SIZE], struct rwerr *err)
{
        static const int64_t max_ms = 253402300799999LL; /* 9999-12-31T23:59:59.999Z */
        static const char epoch[] = "1970-01-01T00:00:00.000Z";
        struct tm tm;
        time_t secs;
        int n;

        memcpy(out, epoch, sizeof epoch);
        if (unix_ms < 0 || unix_ms > max_ms)
                return rwerr_set(err, RW_ERR_RANGE, "%lld ms is outside years 1970 to 9999",
                                 (long long)unix_ms);
        secs = (time_t)(unix_ms / 1000);
        if (gmtime_r(&secs, &tm) == NULL)
                return rwerr_set(err, RW_ERR_RANGE, "cannot convert %lld ms", (long long)unix_ms);
        n = snprintf(out, RWCLOCK_UTC_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(unix_ms % 1000));
        if (n != RWCLOCK_UTC_SIZE - 1) {
                memcpy(out, epoch, sizeof epoch);
                return rwerr_set(err, RW_ERR_RANGE, "cannot format %lld ms", (long long)unix_ms);
        }
        return 0;
}
