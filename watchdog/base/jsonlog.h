/*
 * jsonlog: relaywatch's structured log, one JSON object per line, by
 * default on stderr where systemd's journal or a log shipper picks it up.
 *
 * Every line starts with the same fields, in this order:
 *
 *   ts              "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC, milliseconds)
 *   level           "debug" | "info" | "warn" | "error" | "critical"
 *   event           a short fixed name for what happened ("cycle_done")
 *   correlation_id  the cycle or command it belongs to (left out when NULL)
 *
 * followed by the caller's own fields. A line is printed unformatted, so a
 * string holding quotes, newlines or control characters is escaped and the
 * line stays one line; bytes that are not valid UTF-8 are replaced by '?'
 * so every line parses. A line longer than JSONLOG_LINE_MAX is replaced by
 * the four fields above plus "truncated":true and "line_bytes".
 *
 * Each line is written with one fwrite and flushed while a mutex is held,
 * so threads never interleave their lines.
 *
 * SECRETS NEVER GO THROUGH HERE: this module prints what it is given. RPC
 * URLs with API keys, database URLs with passwords, key material, webhook
 * routing keys are the caller's job to leave out (log the configured name
 * of an endpoint, or conninfo_describe's text, never the URL itself).
 *
 * Only the program logs (STYLE.md): modules return codes and messages, and
 * the supervisor and commands decide what to log.
 */
#ifndef RELAYWATCH_JSONLOG_H
#define RELAYWATCH_JSONLOG_H

#include <stdio.h>

struct cJSON;

#define JSONLOG_LINE_MAX 65536   /* bytes of one line, newline included */
#define JSONLOG_MESSAGE_MAX 4096 /* bytes of jsonlog_message's formatted text; longer is cut */

enum jsonlog_level {
        JSONLOG_DEBUG = 0,
        JSONLOG_INFO = 1,
        JSONLOG_WARN = 2,
        JSONLOG_ERROR = 3,
        JSONLOG_CRITICAL = 4,
};

/* "debug", "info", "warn", "error", "critical" ("info" for an unknown value). */
const char *jsonlog_level_name(enum jsonlog_level level);

/* Parses one of the names above (exact, lowercase): 0 and *out set, or -1 and *out untouched. */
int jsonlog_level_parse(const char *name, enum jsonlog_level *out);

/*
 * Where lines go: `f` (borrowed: the caller keeps it open while it is set
 * and closes it after setting another), or stderr again when NULL.
 */
void jsonlog_set_output(FILE *f);

/* Lines below `level` are dropped; the default is JSONLOG_INFO. */
void jsonlog_set_min_level(enum jsonlog_level level);

/* 1 when a line at `level` would be printed. */
int jsonlog_enabled(enum jsonlog_level level);

/*
 * Starts a line: a new JSON object holding ts, level, event and, when not
 * NULL, correlation_id. The caller adds its fields (cJSON_Add...ToObject)
 * and hands it to jsonlog_emit, which frees it; a caller that changes its
 * mind frees it with cJSON_Delete. Returns NULL when `level` is below the
 * minimum or memory ran out: callers just skip adding fields (cJSON_Add*
 * functions accept a NULL object) and pass the NULL on to jsonlog_emit.
 */
struct cJSON *jsonlog_begin(enum jsonlog_level level, const char *event,
                            const char *correlation_id);

/*
 * Adds "runbook": "runbooks/NAME.md", the runbook of alert or check NAME
 * (relaywatch runbook NAME prints it), to `line` (NULL is allowed).
 */
void jsonlog_add_runbook(struct cJSON *line, const char *name);

/* Prints `line` as one line, flushes, and frees it (takes ownership). NULL is allowed. */
void jsonlog_emit(struct cJSON *line);

/* A line with one more field, "message", formatted from fmt (cut at JSONLOG_MESSAGE_MAX). */
void jsonlog_message(enum jsonlog_level level, const char *event, const char *correlation_id,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
