/*
 * receiver_impl: what receiver.c shares with the receiver files
 * (receiver_pagerduty.c, receiver_slack.c, receiver_email.c,
 * receiver_webhook.c, receiver_alertmanager.c). Private to alert/.
 *
 * Text that leaves relaywatch goes through two gates here: rcv_line makes
 * one line of valid UTF-8 with no control character, cut at a character
 * boundary and marked with "…" when it is too long; rcv_utf8_fix repairs a
 * longer text (the details, the report) without changing its lines.
 */
#ifndef RELAYWATCH_RECEIVER_IMPL_H
#define RELAYWATCH_RECEIVER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "receiver.h"

struct cJSON;

#define RCV_ELLIPSIS "\xe2\x80\xa6" /* U+2026, put where a text was cut */
#define RCV_USER_AGENT "relaywatch"
#define RCV_TEST_MARK "[TEST] " /* before the summary of a test, everywhere */

/* One receiver: builds its request and judges its answer (2xx included). */
int rcv_pagerduty_build(const struct config *cfg, const struct config_alert_route *route,
                        const struct alert *a, int64_t now_ms, struct receiver_request *out,
                        struct rwerr *err);
enum receiver_outcome rcv_pagerduty_judge(const struct config_alert_route *route, long status,
                                          const char *body, size_t len, char *why, size_t cap);
int rcv_slack_build(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, int64_t now_ms, struct receiver_request *out,
                    struct rwerr *err);
enum receiver_outcome rcv_slack_judge(const struct config_alert_route *route, long status,
                                      const char *body, size_t len, char *why, size_t cap);
int rcv_email_build(const struct config *cfg, const struct config_alert_route *route,
                    const struct alert *a, int64_t now_ms, struct receiver_request *out,
                    struct rwerr *err);
enum receiver_outcome rcv_email_judge(const struct config_alert_route *route, int transport_rc,
                                      long status, const char *body, size_t len, char *why,
                                      size_t cap);
int rcv_webhook_build(const struct config *cfg, const struct config_alert_route *route,
                      const struct alert *a, int64_t now_ms, struct receiver_request *out,
                      struct rwerr *err);
enum receiver_outcome rcv_webhook_judge(const struct config_alert_route *route, long status,
                                        const char *body, size_t len, char *why, size_t cap);
int rcv_alertmanager_build(const struct config *cfg, const struct config_alert_route *route,
                           const struct alert *a, int64_t now_ms, struct receiver_request *out,
                           struct rwerr *err);
enum receiver_outcome rcv_alertmanager_judge(const struct config_alert_route *route, long status,
                                             const char *body, size_t len, char *why, size_t cap);

/*
 * The webhook's signature: lowercase hex of HMAC-SHA256(key, TIMESTAMP "."
 * BODY), the key of any length. Exposed for the unit test's vectors.
 */
void rcv_webhook_signature(const char *key, size_t key_len, const char *timestamp, const char *body,
                           size_t body_len, char out[65]);

/* ---------------------------------------------------------------- text */

/* The length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
size_t rcv_utf8_seq(const char *s, size_t n);

/* The largest UTF-8 boundary of valid text `s` that is <= at. */
size_t rcv_utf8_floor(const char *s, size_t at);

/*
 * `in` as one line of valid UTF-8 into out[cap]: every control character
 * made a space, every invalid byte U+FFFD, and, when longer than `max`
 * bytes (or cap - 1), cut at a character boundary and ended with "…".
 */
void rcv_line(const char *in, size_t max, char *out, size_t cap);

/* The first `len` bytes of `s` as valid UTF-8 (invalid bytes made U+FFFD), malloc'd; NULL on OOM. */
char *rcv_utf8_fix(const char *s, size_t len);

/* A growing text; `failed` once an allocation failed (then it stays empty). */
struct rcv_buf {
        char *p;
        size_t len, cap;
        int failed;
};

void rcv_buf_add(struct rcv_buf *b, const char *s, size_t n);
void rcv_buf_puts(struct rcv_buf *b, const char *s);
void rcv_buf_printf(struct rcv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rcv_buf_free(struct rcv_buf *b);

/* ---------------------------------------------------------------- the alert */

/* "critical", "error", "warning" or "info". */
const char *rcv_severity_lower(enum finding_severity s);

/* "tier1", "tier2" or "finding". */
const char *rcv_tier_group(int tier);

/* The source relaywatch names itself by: cfg->alert_source, else the watchdog id. */
const char *rcv_source(const struct config *cfg);

/* The alert's dedup key, made from name and subject when the alert has none. */
void rcv_dedup_key(const struct alert *a, char out[ALERT_DEDUP_MAX]);

/* The summary as one line of at most `max` bytes, "[TEST] " first for a test. */
void rcv_summary(const struct alert *a, size_t max, char *out, size_t cap);

/* The details as a JSON object (an empty one when there are none); NULL on OOM. */
struct cJSON *rcv_details(const struct alert *a);

/* The report's text (details "text"), or NULL. */
const char *rcv_report_text(const struct cJSON *details);

/* Adds o[key] = rcv_line(text) (at most 1024 bytes); NULL on OOM. */
struct cJSON *rcv_add_line(struct cJSON *o, const char *key, const char *text);

/* ---------------------------------------------------------------- requests */

/*
 * `ms` as RFC 3339 UTC with milliseconds; RW_ERR_RANGE naming `what` when
 * it is outside the years 1970..9999.
 */
int rcv_time(const struct config_alert_route *route, int64_t ms, const char *what, char out[32],
             struct rwerr *err);

/* out->url = base + suffix, without base's trailing '/'s when suffix is not empty. RW_ERR_NOMEM. */
int rcv_set_url(const struct config_alert_route *route, const char *base, const char *suffix,
                struct receiver_request *out, struct rwerr *err);

/* Appends Content-Type: application/json, User-Agent and "Expect:" to out->headers. */
int rcv_json_headers(const struct config_alert_route *route, struct receiver_request *out,
                     struct rwerr *err);

/* Appends one header line to out->headers. RW_ERR_NOMEM. */
int rcv_add_header(const struct config_alert_route *route, const char *line,
                   struct receiver_request *out, struct rwerr *err);

/* Prints `root` unformatted (valid UTF-8) as out->body and deletes it. RW_ERR_NOMEM. */
int rcv_json_body(const struct config_alert_route *route, struct cJSON *root,
                  struct receiver_request *out, struct rwerr *err);

/* rwerr_set with "alert route NAME (TYPE): " in front. */
int rcv_fail(struct rwerr *err, int code, const struct config_alert_route *route, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- answers */

/* "pagerduty", "slack", "email", "webhook", "alertmanager" (or "receiver"). */
const char *rcv_type_name(enum config_receiver_type t);

/* Writes "alert route NAME (TYPE): " and the message to why[cap]; returns `o`. */
enum receiver_outcome rcv_why(enum receiver_outcome o, const struct config_alert_route *route,
                              char *why, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/*
 * The HTTP statuses every receiver judges alike: 408, 429 and 5xx are
 * retried, any other 4xx rejected (quoting the answer), anything else
 * (1xx, 3xx, no status) retried as unexpected. Not for 2xx.
 */
enum receiver_outcome rcv_judge_http(const struct config_alert_route *route, long status,
                                     const char *body, size_t len, char *why, size_t cap);

#endif
