/*
 * silence: operator silences, kept in STATE_DIR/silences.json.
 *
 * A silence holds the alerts of one name (and, when given, one subject) for
 * a set time with a reason: `relaywatch silence add NAME[:SUBJECT] --for 2h
 * --reason TEXT`, `silence list`, `silence expire ID`. A silence always
 * expires (at most 7 days). It holds only the alert's messages: a Tier 1
 * HALT is published whatever is silenced, and the alert is still tracked,
 * kept and logged, so it is sent if it is still open when the silence ends.
 *
 * The file is rewritten whole (write to a temporary file, fsync, rename),
 * so the daemon, which reads it again when it changes, never sees half a
 * file. The CLI and the daemon may both hold it: the last writer wins; an
 * add or expire reads the file just before it writes.
 */
#ifndef RELAYWATCH_SILENCE_H
#define RELAYWATCH_SILENCE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "rwerr.h"

struct cJSON;

#define SILENCE_MAX 64
#define SILENCE_REASON_MAX 256
#define SILENCE_FOR_MAX_MS ((int64_t)7 * 24 * 3600 * 1000)

struct silence {
        char id[20]; /* "s-" and 16 hex digits */
        char name[ALERT_NAME_MAX];
        char subject[ALERT_SUBJECT_MAX]; /* "" matches every subject */
        char reason[SILENCE_REASON_MAX];
        char created_by[64];         /* the user who added it ($USER, or "unknown") */
        int64_t created_ms, ends_ms; /* wall clock */
};

struct silence_set {
        size_t n;
        struct silence items[SILENCE_MAX];
};

/*
 * Reads STATE_DIR/silences.json (an absent file is an empty set). The file
 * is refused whole, and *out left as it was, when it is not exactly what
 * silence_save writes: {"version":1,"silences":[...]} with each silence's
 * seven keys and no other, an id "s-" and 16 lowercase hex digits (each
 * once), a name of A-Z, 0-9 and _, a non-empty reason, no control
 * character in a text, whole ms times, ends_ms at most 7 days after
 * created_ms, at most SILENCE_MAX silences. The message names the file and
 * the field ("…/silences.json: silences[2].name is not an alert name …").
 * Silences that have ended are kept as read (match and list skip them).
 */
int silence_load(const char *state_dir, struct silence_set *out, struct rwerr *err);

/*
 * Writes the set atomically (fsync'd, then renamed), mode 0600, without the
 * silences that have ended by the wall clock now (ends_ms <= now).
 */
int silence_save(const char *state_dir, const struct silence_set *set, struct rwerr *err);

/*
 * Adds a silence ending `for_ms` from `now_ms` (1 minute .. 7 days) with a
 * new random id unique in the set. `name` must be an alert name (A-Z, 0-9
 * and _, at most ALERT_NAME_MAX - 1); `subject` NULL or "" holds every
 * subject; `reason` must hold more than spaces, one line; `user` NULL or ""
 * is kept as "unknown" (cut to fit, control characters made '?'). The
 * silences that ended by `now_ms` are dropped first, so they make room.
 * RW_ERR_INVALID for a bad name, subject or reason; RW_ERR_RANGE when the
 * set is full, the time out of bounds or a text too long. Fills `out`
 * (may be NULL).
 */
int silence_add(struct silence_set *set, const char *name, const char *subject, const char *reason,
                const char *user, int64_t now_ms, int64_t for_ms, struct silence *out,
                struct rwerr *err);

/* Ends silence `id` now; RW_ERR_INVALID when there is none, or it has already ended. */
int silence_expire(struct silence_set *set, const char *id, int64_t now_ms, struct rwerr *err);

/*
 * The silence that holds name/subject at `now_ms` (in force: now_ms <
 * ends_ms; its subject "" or equal to `subject`), the one ending last when
 * several do; NULL when none.
 */
const struct silence *silence_match(const struct silence_set *set, const char *name,
                                    const char *subject, int64_t now_ms);

/*
 * The silences in force at `now_ms` as a JSON array, in the set's order:
 * each the seven fields of the file plus "created_at" and "ends_at" (RFC
 * 3339 UTC). NULL on OOM.
 */
struct cJSON *silence_list_json(const struct silence_set *set, int64_t now_ms);

/*
 * "2h", "90m", "1d", "45s" (decimal digits, then one of s, m, h, d, nothing
 * else) into ms; RW_ERR_INVALID otherwise, RW_ERR_RANGE when it does not fit
 * in int64 ms. "0m" is read as 0: the caller bounds the value.
 */
int silence_parse_duration(const char *text, int64_t *ms, struct rwerr *err);

#endif
