/*
 * status_file: STATE_DIR/status.json, what `relaywatch status` reads to
 * tell an operator what the supervisor last saw.
 *
 * status_file_json builds the object from the last cycle's result: the
 * watchdog's identity, when it was written (wall clock, for people, and
 * the monotonic clock, which `relaywatch status` on the same host can
 * compare without trusting the wall clock), the cycle (correlation id,
 * duration, pinned heights, every verdict) and the endpoints. The daemon
 * adds what other rooms know (the halt path, incidents, findings) before
 * status_file_write replaces the file atomically.
 */
#ifndef RELAYWATCH_STATUS_FILE_H
#define RELAYWATCH_STATUS_FILE_H

#include <stdint.h>

#include "cycle_result.h"
#include "rwerr.h"

struct cJSON;

#define STATUS_FILE_NAME "status.json"

struct status_file_info {
        const char *watchdog_id;
        uint64_t interval_ms;
        int healthy;                   /* the halt path is up and the watchdog not blind */
        const struct cycle_result *r;  /* the last cycle; NULL before the first */
        const char *failure;           /* why that cycle could not run, or NULL */
        int full_sweep;                /* that cycle read everything from the deploy blocks */
        int64_t cycle_started_unix_ms; /* when it started, wall clock */
};

/* A new status object (caller frees with cJSON_Delete), or NULL when out of memory. */
struct cJSON *status_file_json(const struct status_file_info *info);

/* Replaces STATE_DIR/status.json with `status`, printed. RW_OK or the error naming the file. */
int status_file_write(const char *state_dir, const struct cJSON *status, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
