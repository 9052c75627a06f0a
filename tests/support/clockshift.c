/*
 * clockshift: an LD_PRELOAD library that steps the wall clock of the
 * process it is loaded into, for the tests that prove relaywatch times
 * nothing with it.
 *
 * CLOCK_REALTIME (and its coarse variant), gettimeofday() and time() are
 * moved by an offset in milliseconds read from the file named by
 * $CLOCKSHIFT_FILE (one signed decimal number; a missing or empty file is
 * 0). The file is read again at most every 20 ms, so a test steps the
 * clock of a running process by writing the file. CLOCK_MONOTONIC and
 * every other clock are left alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REREAD_NS 20000000LL

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime(void)
{
        static clock_gettime_fn fn;

        if (fn == NULL)
                fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        return fn;
}

static int64_t read_offset_ms(void)
{
        const char *path = getenv("CLOCKSHIFT_FILE");
        char buf[32];
        ssize_t n;
        int fd;

        if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        (void)close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        return strtoll(buf, NULL, 10);
}

/* The offset, read again when the last read is older than REREAD_NS. */
static int64_t offset_ms(void)
{
        static int64_t cached, read_at_ns = -1;
        struct timespec now;
        int64_t ns;
        int saved = errno;

        if (real_clock_gettime()(CLOCK_MONOTONIC, &now) != 0)
                return cached;
        ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
        if (__atomic_load_n(&read_at_ns, __ATOMIC_RELAXED) < 0 ||
            ns - __atomic_load_n(&read_at_ns, __ATOMIC_RELAXED) > REREAD_NS) {
                __atomic_store_n(&cached, read_offset_ms(), __ATOMIC_RELAXED);
                __atomic_store_n(&read_at_ns, ns, __ATOMIC_RELAXED);
        }
        errno = saved;
        return __atomic_load_n(&cached, __ATOMIC_RELAXED);
}

static void shift(struct timespec *ts, int64_t ms)
{
        int64_t ns = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + ms * 1000000LL;

        ts->tv_sec = (time_t)(ns / 1000000000LL);
        ts->tv_nsec = (long)(ns % 1000000000LL);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
        int rc = real_clock_gettime()(id, ts);

        if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
                shift(ts, offset_ms());
        return rc;
}

/* Fills *tv when there is one: callers may pass NULL although glibc declares it nonnull. */
static void put_timeval(struct timeval *tv, const struct timespec *ts)
{
        if (tv != NULL) {
                tv->tv_sec = ts->tv_sec;
                tv->tv_usec = ts->tv_nsec / 1000;
        }
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
        struct timespec ts;

        (void)tz;
        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                return -1;
        put_timeval(tv, &ts);
        return 0;
}

time_t time(time_t *out)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                return (time_t)-1;
        if (out != NULL)
                *out = ts.tv_sec;
        return ts.tv_sec;
}
