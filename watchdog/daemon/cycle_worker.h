/*
 * cycle_worker: the data plane of `relaywatch run`, on a thread of its own
 * (named "rw-cycle").
 *
 * The worker owns the observer (the chains' endpoint pools, the ledger
 * connection, the Redis connection for the relayer's streams) and runs the
 * cycles: it decides when the next one is due (interval mode: every
 * interval_ms; block mode: a cycle on every new block of either chain,
 * polled every poll_ms, and at least every interval_ms), reads
 * incrementally after its cursors (which advance only after a cycle in
 * which every Tier 1 check passed) with a full sweep at the start, after a
 * reload and at least every full_sweep_s, and hands each cycle's report to
 * the loop through a small queue, writing a byte to `wake_fd` so the loop
 * wakes. Between cycles it writes the record queue to relaywatch_state
 * (it owns the database connection).
 *
 * A cycle that cannot run (out of memory, any unexpected error) is reported
 * as failed with its reason, which the loop treats as could-not-evaluate;
 * the next cycle runs as usual. The worker never acts on a result: the
 * halt, the heartbeat, the status file and the logs belong to the loop,
 * which never waits for a cycle.
 *
 * Every wait is on the monotonic clock and wakes at once for a stop or a
 * reload. Threads: the functions below are called from the loop's thread;
 * the worker's own state is behind one mutex.
 */
#ifndef RELAYWATCH_CYCLE_WORKER_H
#define RELAYWATCH_CYCLE_WORKER_H

#include <stdint.h>

#include "cycle_result.h"
#include "rwerr.h"

struct config;
struct observer;
struct record_queue;
struct cycle_worker;

/* One cycle, handed from the worker to the loop. */
struct cycle_report {
        struct cycle_result r; /* the result; when failed, only r.snapshot.correlation_id is set */
        int failed;            /* the cycle could not run: nothing was evaluated */
        char reason[RWERR_MSG_MAX]; /* why, when failed */
        int full_sweep;             /* read everything from the deploy blocks */
        int64_t started_unix_ms;    /* wall clock, for the status file */
        uint64_t number;            /* 1 for the first cycle of this worker */
};

/* Releases what a report holds (its result) and zeroes it. Accepts NULL. */
void cycle_report_release(struct cycle_report *rep);

struct cycle_worker_options {
        struct config *cfg;           /* borrowed until the worker hands it back (see below) */
        struct observer *obs;         /* taken: the worker frees it */
        struct record_queue *records; /* borrowed; written between cycles; may be NULL */
        int wake_fd;                  /* an eventfd or pipe written when a report is ready */
        uint64_t max_cycles;          /* 0: until stopped; else stop after this many cycles */
};

/* Starts the thread. NULL with `err` filled when it cannot (the observer is then freed). */
struct cycle_worker *cycle_worker_start(const struct cycle_worker_options *o, struct rwerr *err);

/*
 * Moves the oldest waiting report into *out (the caller releases it with
 * cycle_report_release). 1 when there was one, 0 when none waits.
 */
int cycle_worker_take(struct cycle_worker *w, struct cycle_report *out);

/*
 * Hands a new configuration and its observer (taken) to the worker; it
 * switches before its next cycle (the one in progress finishes on the old
 * ones) and starts that cycle with a full sweep. The old config is then
 * returned by cycle_worker_retired_config.
 */
void cycle_worker_reload(struct cycle_worker *w, struct config *cfg, struct observer *obs);

/* A config the worker no longer uses (the caller frees it), or NULL. */
struct config *cycle_worker_retired_config(struct cycle_worker *w);

/*
 * The monotonic time the worker last showed progress (finished a cycle or
 * a wait between cycles), for the systemd watchdog keep-alive.
 */
uint64_t cycle_worker_progress_ms(struct cycle_worker *w);

/* 1 after the worker has stopped by itself (max_cycles reached). */
int cycle_worker_done(struct cycle_worker *w);

/*
 * Stops the worker: its waits end at once and a cycle in progress is
 * interrupted (observer_interrupt: its reads fail at once and it ends as
 * could-not-evaluate). Waits up to `grace_ms` (monotonic) for the thread.
 * Returns 0 when it ended and everything was freed (the observer, reports
 * not taken, the config it still used, returned through `*last_cfg` for the
 * caller to free), or RW_ERR_TIMEOUT when it did not end in time: the
 * thread is left to the process's exit and nothing is freed.
 */
int cycle_worker_stop(struct cycle_worker *w, uint64_t grace_ms, struct config **last_cfg);

#endif
