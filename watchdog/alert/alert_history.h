/*
 * alert_history: what paging did, kept for the daily report.
 *
 * Every alert event the tracker makes (opened, updated, resolved, held by
 * a silence) and every INFO event (a halt lifted, a resume, a silence
 * added or expired) is appended as one JSON line (alert_to_json plus
 * "event") to STATE_DIR/alert-history.jsonl with O_APPEND. When the file
 * passes ALERT_HISTORY_MAX_BYTES it is renamed to alert-history.1.jsonl
 * (one generation kept) and a new one begun.
 *
 * The report reads both files and summarises a window: the alerts opened
 * and resolved with their durations, those still open, halts and resumes,
 * silences, delivery failures, and the Tier 3 figures of the last cycle
 * (STATE_DIR/status.json).
 */
#ifndef RELAYWATCH_ALERT_HISTORY_H
#define RELAYWATCH_ALERT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "rwerr.h"

struct cJSON;

#define ALERT_HISTORY_MAX_BYTES ((int64_t)16 * 1024 * 1024)

/*
 * Appends `a` with "event": `event` ("opened", "updated", "resolved",
 * "silenced", "info", "delivery_failed", ...). RW_ERR_IO names the file.
 */
int alert_history_append(const char *state_dir, const char *event, const struct alert *a,
                         struct rwerr *err);

/*
 * The report of [since_ms, now_ms] (wall clock) as JSON (`*json`, caller
 * frees with cJSON_Delete) and as plain text for people (`*text`, caller
 * frees with free()); either pointer may be NULL when not wanted. A
 * history line that cannot be read is counted and named in the report,
 * never fatal.
 */
int alert_report_build(const char *state_dir, int64_t since_ms, int64_t now_ms,
                       struct cJSON **json, char **text, struct rwerr *err);

#endif
