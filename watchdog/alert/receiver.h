/*
 * receiver: what each kind of receiver is sent and how its answer is
 * judged. Pure formatting, no I/O: the sender (alert_sender.h) does the
 * transfer, so every payload can be tested byte for byte.
 *
 *   pagerduty     POST {url}/v2/enqueue, Events API v2: event_action
 *                 trigger or resolve, routing_key, dedup_key (the alert's),
 *                 payload {summary (<= 1024), source, severity (critical,
 *                 error, warning, info), timestamp (RFC 3339), component,
 *                 group, class, custom_details}, links (the runbook),
 *                 client, client_url. A resolve carries routing_key and
 *                 dedup_key only. 202 is delivered.
 *   slack         POST the webhook URL: text (the fallback) and blocks (a
 *                 header, the summary, the evidence figures, the runbook
 *                 link). 200 "ok" is delivered.
 *   email         SMTP through libcurl: a plain-text message (RFC 5322
 *                 headers, CRLF lines, dot-stuffing left to libcurl) with
 *                 the same content; STARTTLS required unless the URL is
 *                 smtp:// to a loopback host. 250 is delivered.
 *   webhook       POST the URL: the alert as one JSON object (see
 *                 alert_to_json), with headers
 *                   X-Relaywatch-Timestamp: unix seconds
 *                   X-Relaywatch-Signature: v1=HEX(HMAC-SHA256(secret,
 *                                           TIMESTAMP "." BODY))
 *                 so a receiver can reject forgeries and replays. 2xx is
 *                 delivered.
 *   alertmanager  POST {url}/api/v2/alerts: an array of one alert with
 *                 labels {alertname, severity, invariant, subject, source},
 *                 annotations {summary, runbook_url, correlation_id,
 *                 halt_id}, startsAt, endsAt (firing: now + 4 x resend_s;
 *                 resolved: now) and generatorURL. 200 is delivered.
 *
 * Every route: 2xx (250 for SMTP) is delivered; 429, 5xx, 408, a timeout
 * or a network error is retried (429 and 503 honour Retry-After); any
 * other 4xx is rejected, logged with the receiver's answer and not
 * retried. An answer that is not what the API documents (a 202 from
 * PagerDuty without "status":"success", a Slack 200 whose body is not "ok",
 * a 1xx or 3xx) is retried and logged, never trusted.
 *
 * Every HTTP request carries Content-Type: application/json, User-Agent:
 * relaywatch and an empty "Expect:" (libcurl then sends a large body
 * without waiting for a 100 Continue); an email request has no headers.
 * A test (ALERT_TEST) is marked "[TEST]" in front of its summary (and of
 * Slack's header and the email's subject) on every receiver. The daily
 * report (ALERT_REPORT) goes to slack, email and webhook only: pagerduty
 * and alertmanager refuse it with RW_ERR_INVALID. Alert text is sent as
 * valid UTF-8 (an invalid byte becomes U+FFFD) and one-line fields lose
 * their control characters.
 */
#ifndef RELAYWATCH_RECEIVER_H
#define RELAYWATCH_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "rwerr.h"

struct curl_slist;

#define RECEIVER_ANSWER_MAX 512 /* how much of an answer is kept for the log */

struct receiver_request {
        char *url;                  /* owned: where to send (secret: never print it) */
        struct curl_slist *headers; /* owned: HTTP headers, or NULL */
        char *body;                 /* owned: what to send (for email: the whole message) */
        size_t body_len;
};

/*
 * Builds the request that delivers `a` through `route` at wall time
 * `now_ms`. `cfg` gives the source name, the runbook base and the like.
 * RW_ERR_NOMEM, or RW_ERR_INVALID naming what does not fit.
 */
int receiver_build(const struct config *cfg, const struct config_alert_route *route,
                   const struct alert *a, int64_t now_ms, struct receiver_request *out,
                   struct rwerr *err);

/* Frees what the request owns and zeroes it. Accepts NULL. */
void receiver_request_release(struct receiver_request *r);

enum receiver_outcome {
        RECEIVER_DELIVERED = 0,
        RECEIVER_RETRY = 1,    /* try again after a backoff (or Retry-After) */
        RECEIVER_REJECTED = 2, /* the receiver refuses it for good: do not retry */
};

/*
 * Judges an answer: `status` is the HTTP status (or the SMTP reply code),
 * `body` what came back (`len` bytes, may be NULL). `transport_rc` is
 * RW_OK when an answer arrived, else the transfer's error (timeout,
 * refused, ...), which is always RECEIVER_RETRY, except for email: libcurl
 * fails an SMTP transfer on a 4xx or 5xx reply, so an SMTP code in
 * 400..599 decides whatever `transport_rc` says (4xx retried, 5xx
 * rejected). `why` gets one line, "alert route NAME (TYPE): ...", naming
 * what was wrong and quoting the start of the answer (printable ASCII,
 * anything of the route's url, routing_key, secret or password in it
 * made "<redacted>"); also filled when delivered.
 */
enum receiver_outcome receiver_judge(const struct config_alert_route *route, int transport_rc,
                                     long status, const char *body, size_t len, char *why,
                                     size_t cap);

/*
 * The start of a receiver's answer fit for a log line: printable ASCII only
 * (anything else '?'), at most cap - 1 bytes, and every secret of the route
 * it might echo (the URL and its path, the routing key, the secret, the
 * password) made "<redacted>". The one place answers are made safe: the
 * judgement's `why`, the sender's log lines and `relaywatch alert test` all
 * quote through it.
 */
void receiver_quote_answer(const struct config_alert_route *route, const char *body, size_t len,
                           char *out, size_t cap);

/*
 * The delay a Retry-After header asks for, in ms: delta-seconds or an
 * HTTP-date in its IMF-fixdate form, "Sun, 06 Nov 1994 08:49:37 GMT"
 * (relative to `now_ms`, wall clock; 0 when already past). -1 when absent
 * or unreadable (the obsolete RFC 850 and asctime date forms included);
 * capped at one hour. Spaces and tabs around the value are allowed.
 */
int64_t receiver_retry_after_ms(const char *header_value, int64_t now_ms);

#endif
