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
 * "silenced", "info", "delivery_failed", ...). The line is written with one
 * write(2) (mode 0600 when the file is new) under a POSIX write lock, which
 * is also what makes rotation safe between the daemon and a command: a file
 * already at ALERT_HISTORY_MAX_BYTES or more is renamed before the line is
 * written, so a file ends at most one line past the limit. Info events
 * about silences (`relaywatch silence add` / `expire`) are named
 * SILENCE_ADDED and SILENCE_EXPIRED, with the silence's id as subject.
 * RW_ERR_INVALID for an empty event name, RW_ERR_NOMEM, RW_ERR_IO names the
 * file.
 */
int alert_history_append(const char *state_dir, const char *event, const struct alert *a,
                         struct rwerr *err);

/*
 * The report of [since_ms, now_ms] (wall clock, both ends included) as JSON
 * (`*json`, caller frees with cJSON_Delete) and as plain text for people
 * (`*text`, caller frees with free()); either pointer may be NULL when not
 * wanted.
 *
 * An alert is one opening of a dedup key: its lines share dedup_key and
 * seq. It is listed when it opened in the window (its opened_ms), resolved
 * in it, was updated or held by a silence in it, or is still open at
 * now_ms (no "resolved" line up to now_ms, wherever it opened): with its
 * duration (resolved_ms - opened_ms) or how long it has been open, its
 * updates, whether a silence held it and whether it was paged at all.
 * Lines after now_ms are left out. Info events are listed (those named
 * SILENCE_* under the silences), and so are "delivery_failed" events;
 * other events are counted. The silences in force at now_ms and the Tier 3
 * verdicts of the last cycle in STATE_DIR/status.json (as recorded there:
 * status, summary, and value and unit when the file has them) close it.
 * Lists are capped (200 alerts, 100 of each kind of event, 20 unreadable
 * lines named); the counts are always whole.
 *
 * The text's first line is the headline (the counts), fit to stand alone as
 * a message's summary; sections follow. The JSON holds version, since_ms,
 * now_ms, since, until, history {read, error}, counts {opened, resolved,
 * still_open, updates, held_by_silence, info, silence_changes,
 * delivery_failed, other_events, unreadable_lines}, alerts, alerts_left_out,
 * info, silence_changes, delivery_failed, unreadable_lines,
 * silences_in_force {read, error, list} and tier3 {file, read, error,
 * cycle, cycle_started_at, updated_at, figures}.
 *
 * Never fatal for what it reads: a history line that cannot be read is
 * counted and named ("FILE:LINE: why"); a history file that exists but
 * cannot be read makes history.read false and the headline says so;
 * absent files are empty. RW_ERR_INVALID when since_ms is negative or after
 * now_ms, RW_ERR_NOMEM. It reads both history files whole (up to twice
 * ALERT_HISTORY_MAX_BYTES), line by line.
 */
int alert_report_build(const char *state_dir, int64_t since_ms, int64_t now_ms, struct cJSON **json,
                       char **text, struct rwerr *err);

#endif
