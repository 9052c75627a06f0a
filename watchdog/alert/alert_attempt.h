/*
 * alert_attempt: one delivery attempt, one curl transfer. Private to alert/.
 *
 * alert_attempt_open builds the receiver's request (receiver.h) and an easy
 * handle ready to send it: the route's timeout_ms (10 s when unset), no
 * redirects, TLS verified, no signals; HTTP(S) as a POST of the request's
 * body with its headers, or SMTP(S) with the message uploaded to the
 * route's mail_to (STARTTLS required unless the URL is smtp:// to a
 * loopback host: 127.x, [::1] or localhost). The caller runs the handle
 * (curl_easy_perform, or a curl multi) and hands its CURLcode to
 * alert_attempt_result, which judges the answer (receiver_judge) and makes
 * it fit for a log line.
 *
 * The one transfer setup of the sender thread and of alert_send_once
 * (alert_sender.h): `relaywatch alert test` sends what the thread sends.
 *
 * What a result holds of the receiver's answer is untrusted text, made safe
 * by receiver_quote_answer: printable ASCII only, and any copy of the
 * route's url (or its path), routing_key, secret or password made
 * "<redacted>". Nothing here logs.
 */
#ifndef RELAYWATCH_ALERT_ATTEMPT_H
#define RELAYWATCH_ALERT_ATTEMPT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "alert.h"
#include "config.h"
#include "receiver.h"
#include "rwerr.h"

#define ALERT_ANSWER_TEXT_MAX (RECEIVER_ANSWER_MAX + 1) /* the quoted start of an answer */

/*
 * One attempt: the request, the easy handle, what came back. Owned by
 * whoever opened it (usually embedded in a bigger struct); between open
 * and close the caller uses `curl` only (to run it, and to set
 * CURLOPT_PRIVATE), the rest is the callbacks'.
 */
struct alert_attempt {
        CURL *curl;
        struct receiver_request req;
        struct curl_slist *rcpt; /* email: the recipients */
        size_t sent;             /* email: bytes of the message handed to libcurl */
        int email;
        char answer[RECEIVER_ANSWER_MAX];
        size_t answer_len;
        char retry_after[64]; /* the Retry-After header's value, or "" */
        uint64_t started_ms;  /* monotonic */
};

/* What an attempt came to: a plain value, the caller's. */
struct alert_attempt_result {
        enum receiver_outcome outcome;
        int transport_rc;       /* RW_OK when an answer came, else the transfer's error */
        long status;            /* HTTP status or SMTP code; 0 when none came */
        int64_t retry_after_ms; /* -1: none asked */
        uint64_t ms;            /* how long the attempt took */
        char why[RWERR_MSG_MAX];
        char answer[ALERT_ANSWER_TEXT_MAX]; /* quoted and redacted: untrusted text */
};

/*
 * Initialises libcurl once for the process (thread-safe; later calls are
 * free). RW_OK, or RW_ERR_IO when libcurl cannot start. Call it before the
 * first alert_attempt_open and before making a curl multi.
 */
int alert_attempt_ready(struct rwerr *err);

/*
 * Builds the request delivering `a` through `route` (`cfg` and `route`
 * borrowed: they must outlive the attempt; `a` only for the call) into
 * `t`, with an easy handle ready to send it, and starts the attempt's
 * clock. RW_OK: `t` owns the request, the handle and the recipients until
 * alert_attempt_close. Else (RW_ERR_INVALID or RW_ERR_NOMEM from the
 * receiver, RW_ERR_NOMEM for the handle) `err` says why and everything is
 * released: `t` needs no close.
 */
int alert_attempt_open(struct alert_attempt *t, const struct config *cfg,
                       const struct config_alert_route *route, const struct alert *a,
                       struct rwerr *err);

/*
 * Frees what the attempt owns (the handle, the request, the recipients)
 * and zeroes it. The handle must not be in a curl multi any more. Accepts
 * a zeroed attempt.
 */
void alert_attempt_close(struct alert_attempt *t);

/*
 * Judges the attempt `t` (opened for `route`) whose transfer ended with
 * `cc` into `res` (the caller's): the status, the outcome and its reason
 * (libcurl's words for a transfer error added; they name no URL), the
 * Retry-After asked, how long it took, and the answer quoted and
 * redacted. Call it before alert_attempt_close.
 */
void alert_attempt_result(const struct alert_attempt *t, const struct config_alert_route *route,
                          CURLcode cc, struct alert_attempt_result *res);

#endif
