/*
 * metrics: what `GET /metrics` shows, in the Prometheus text format
 * (docs/METRICS.md is the catalogue: every name, type, label and bound).
 *
 * A struct metrics accumulates across cycles what a single status object
 * does not hold: counters (cycles by result, findings, halts published,
 * acknowledged and lifted) and histograms (cycle, check and ledger query
 * durations), and keeps a copy of the last cycle's figures (checks and
 * their subjects, endpoints, heights, the bridge's progress and supply per
 * asset, the Tier 3 measures) so it never points into a cycle_result the
 * daemon has released. metrics_render adds what the daemon's status
 * object says now (the halt path, incidents, heartbeat, alerts and their
 * routes, the audit log) and writes the text.
 *
 * What is not known is left out, never written as a 0 that would mean
 * something else: no cycle yet, no progress figures, a chain not read, no
 * audit log. Label sets come from the configuration (checks, assets,
 * endpoints, routes) or from short fixed lists, so cardinality is bounded.
 *
 * Not thread-safe: one thread (the daemon's loop) observes and renders.
 */
#ifndef RELAYWATCH_METRICS_H
#define RELAYWATCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct cycle_result;
struct metrics;

struct metrics_info {
        const char *version;      /* copied */
        int64_t started_unix_ms;  /* when the process started */
        uint64_t blind_limit_ms;  /* config: WATCHDOG_BLIND after this long without Tier 1 */
        uint64_t cycle_target_ms; /* config: HIGH_LATENCY above this for the watchdog's cycle */
};

/* A new accumulator (free with metrics_free), or NULL when out of memory. */
struct metrics *metrics_new(const struct metrics_info *info);

/* Frees it. Accepts NULL. */
void metrics_free(struct metrics *m);

/*
 * Counts one cycle that ended at `finished_unix_ms` and keeps a copy of
 * its figures; `r` is NULL when the cycle could not run (counted as
 * result "failed"; the last cycle's figures stay, tier1_status becomes
 * could-not-evaluate). `r` is only read during the call. Returns 0, or -1
 * when out of memory (the counters are still counted; the figures of the
 * last cycle that could be copied stay).
 */
int metrics_observe_cycle(struct metrics *m, const struct cycle_result *r,
                          int64_t finished_unix_ms);

/* Counts one finding of `kind` and `severity` (strings copied; at most METRICS_FINDINGS_MAX pairs). */
#define METRICS_FINDINGS_MAX 256
void metrics_count_finding(struct metrics *m, const char *kind, const char *severity);

/* Counts one audit record: "halt_published", "halt_acknowledged" and "halt_lifted" count, others are ignored. */
void metrics_count_record(struct metrics *m, const char *kind);

/*
 * The exposition text (NUL-terminated, its length in *len when len is not
 * NULL), owned by the caller (free), or NULL when out of memory. `status`
 * is the daemon's status object (status_file_json and what the rooms add
 * to it) or NULL; `now_unix_ms` is the wall clock, for ages.
 */
char *metrics_render(const struct metrics *m, const struct cJSON *status, int64_t now_unix_ms,
                     size_t *len);

#endif
