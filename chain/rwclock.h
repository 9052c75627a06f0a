/*
 * rwclock: the one clock of relaywatch.
 *
 * Every duration, timeout, backoff and deadline is measured on the
 * monotonic clock (rwclock_mono_ms, rwclock_mono_us): it never jumps when
 * NTP or an operator steps the wall clock. The wall clock (rwclock_wall_ms)
 * is read only for timestamps that leave the process: log lines, control
 * messages, the status file, database records.
 */
#ifndef RELAYWATCH_RWCLOCK_H
#define RELAYWATCH_RWCLOCK_H

#include <stdint.h>
#include <time.h>

struct rwerr;

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its terminating NUL. */
#define RWCLOCK_UTC_SIZE 25

/* Milliseconds and microseconds on CLOCK_MONOTONIC (since an arbitrary start). */
uint64_t rwclock_mono_ms(void);
uint64_t rwclock_mono_us(void);

/*
 * The CLOCK_MONOTONIC time `ms` from now, as pthread_cond_timedwait takes
 * it (for a condition variable whose clock attribute is CLOCK_MONOTONIC).
 */
struct timespec rwclock_mono_deadline(uint64_t ms);

/* The wall clock in Unix milliseconds: for timestamps only, never for durations. */
int64_t rwclock_wall_ms(void);

/*
 * Formats `unix_ms` as RFC 3339 UTC with milliseconds into out. Returns 0,
 * or RW_ERR_RANGE (with `err` filled) outside years 1970 to 9999,
 * when out holds "1970-01-01T00:00:00.000Z".
 */
int rwclock_format_utc(int64_t unix_ms, char out[RWCLOCK_UTC_SIZE], struct rwerr *err);

#endif
