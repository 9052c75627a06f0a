/*
 * alert_attempt: one delivery attempt, one curl transfer (alert_attempt.h).
 *
 * In the order of this file: libcurl's one initialisation, the callbacks
 * (answer, headers, the email's upload), the setup (HTTP or SMTP, the
 * loopback test that lets smtp:// go without STARTTLS), open and close,
 * and the result: the transport code, the receiver's answer quoted and
 * redacted, the judgement.
 */
#include "alert_attempt.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rwclock.h"

#define ATTEMPT_DEFAULT_TIMEOUT_MS 10000L /* a route whose timeout_ms is unset */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc = -1;

static void curl_init_once(void)
{
        curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int alert_attempt_ready(struct rwerr *err)
{
        (void)pthread_once(&curl_once, curl_init_once);
        if (curl_init_rc != 0)
                return rwerr_set(err, RW_ERR_IO, "libcurl initialisation failed");
        return RW_OK;
}

/* Keeps the first RECEIVER_ANSWER_MAX bytes of the answer; the rest is read and dropped. */
static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
        struct alert_attempt *t = arg;
        size_t len = size * n, room = sizeof t->answer - t->answer_len;
        size_t take = len < room ? len : room;

        memcpy(t->answer + t->answer_len, data, take);
        t->answer_len += take;
        return len; /* the transfer itself is bounded by the route's timeout */
}

/* Notes the Retry-After header of the last response (a 100 Continue starts over). */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
        static const char name[] = "retry-after:";
        struct alert_attempt *t = arg;
        size_t len = size * n, i, o = 0;

        if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
                t->retry_after[0] = '\0';
        } else if (len >= sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
                for (i = sizeof name - 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
                        ;
                for (;
                     i < len && line[i] != '\r' && line[i] != '\n' && o + 1 < sizeof t->retry_after;
                     i++)
                        t->retry_after[o++] = line[i];
                t->retry_after[o] = '\0';
        }
        return len;
}

/* Hands the email message to libcurl (which dot-stuffs it). */
static size_t on_upload(char *buf, size_t size, size_t n, void *arg)
{
        struct alert_attempt *t = arg;
        size_t room = size * n, left = t->req.body_len - t->sent;
        size_t take = left < room ? left : room;

        memcpy(buf, t->req.body + t->sent, take);
        t->sent += take;
        return take;
}

static int host_is_loopback(const char *host)
{
        struct in_addr v4;

        if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
                return 1;
        return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

/* 1 when `url` is smtp:// (not smtps://) to 127.x, ::1 or localhost: no TLS needed. */
static int smtp_to_loopback(const char *url)
{
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL;
        int yes = 0;

        if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
                yes = strcasecmp(scheme, "smtp") == 0 && host_is_loopback(host);
        curl_free(scheme);
        curl_free(host);
        curl_url_cleanup(u);
        return yes;
}

static int setup_email(struct alert_attempt *t, const struct config_alert_route *route,
                       struct rwerr *err)
{
        size_t i;

        for (i = 0; i < route->nmail_to; i++) {
                struct curl_slist *next = curl_slist_append(t->rcpt, route->mail_to[i]);

                if (next == NULL)
                        return rwerr_set(err, RW_ERR_NOMEM, "route %s: out of memory", route->name);
                t->rcpt = next;
        }
        curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(t->curl, CURLOPT_MAIL_FROM, route->mail_from);
        curl_easy_setopt(t->curl, CURLOPT_MAIL_RCPT, t->rcpt);
        curl_easy_setopt(t->curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(t->curl, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(t->curl, CURLOPT_READDATA, t);
        curl_easy_setopt(t->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->req.body_len);
        curl_easy_setopt(t->curl, CURLOPT_USE_SSL,
                         smtp_to_loopback(t->req.url) ? (long)CURLUSESSL_NONE
                                                      : (long)CURLUSESSL_ALL);
        if (route->username != NULL)
                curl_easy_setopt(t->curl, CURLOPT_USERNAME, route->username);
        if (route->password != NULL)
                curl_easy_setopt(t->curl, CURLOPT_PASSWORD, route->password);
        return RW_OK;
}

/* The headers (an empty "Expect:" among them) are the receiver's (receiver.h). */
static void setup_http(struct alert_attempt *t)
{
        curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->req.headers);
        curl_easy_setopt(t->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, t->req.body);
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->req.body_len);
}

void alert_attempt_close(struct alert_attempt *t)
{
        if (t->curl != NULL)
                curl_easy_cleanup(t->curl);
        curl_slist_free_all(t->rcpt);
        receiver_request_release(&t->req);
        memset(t, 0, sizeof *t);
}

/*
 * Builds the request delivering `a` through `route` and an easy handle
 * ready to send it: the one curl setup of the thread and of
 * alert_send_once. On failure everything is released.
 */
int alert_attempt_open(struct alert_attempt *t, const struct config *cfg,
                       const struct config_alert_route *route, const struct alert *a,
                       struct rwerr *err)
{
        long timeout_ms = route->timeout_ms > 0 ? route->timeout_ms : ATTEMPT_DEFAULT_TIMEOUT_MS;
        int rc;

        memset(t, 0, sizeof *t);
        if ((rc = receiver_build(cfg, route, a, rwclock_wall_ms(), &t->req, err)) != RW_OK)
                return rc;
        if ((t->curl = curl_easy_init()) == NULL) {
                alert_attempt_close(t);
                return rwerr_set(err, RW_ERR_NOMEM, "route %s: out of memory for a transfer",
                                 route->name);
        }
        t->email = route->type == RECEIVER_EMAIL;
        curl_easy_setopt(t->curl, CURLOPT_URL, t->req.url);
        curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(t->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(t->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(t->curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_answer);
        curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(t->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(t->curl, CURLOPT_HEADERDATA, t);
        if (t->email && (rc = setup_email(t, route, err)) != RW_OK) {
                alert_attempt_close(t);
                return rc;
        }
        if (!t->email)
                setup_http(t);
        t->started_ms = rwclock_mono_ms();
        return RW_OK;
}

/*
 * The transfer's error as a code for receiver_judge: RW_OK when an answer
 * arrived. An SMTP server that refused a step (a 4xx or 5xx reply) did
 * answer: its code is judged. `*status` gets the code libcurl saw.
 */
static int transport_code(const struct alert_attempt *t, CURLcode cc, long *status)
{
        long code = 0;

        (void)curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        *status = code;
        if (cc == CURLE_OK || (t->email && code >= 400))
                return RW_OK;
        *status = 0;
        return cc == CURLE_OPERATION_TIMEDOUT ? RW_ERR_TIMEOUT : RW_ERR_IO;
}

/* Judges a finished attempt into `res`. */
void alert_attempt_result(const struct alert_attempt *t, const struct config_alert_route *route,
                          CURLcode cc, struct alert_attempt_result *res)
{
        size_t used;

        res->transport_rc = transport_code(t, cc, &res->status);
        res->ms = rwclock_mono_ms() - t->started_ms;
        res->outcome = receiver_judge(route, res->transport_rc, res->status, t->answer,
                                      t->answer_len, res->why, sizeof res->why);
        if (res->transport_rc != RW_OK) {
                used = strlen(res->why);
                (void)snprintf(res->why + used, sizeof res->why - used, " (%s)",
                               curl_easy_strerror(cc)); /* libcurl's words name no URL */
        }
        res->retry_after_ms = t->retry_after[0] != '\0'
                                      ? receiver_retry_after_ms(t->retry_after, rwclock_wall_ms())
                                      : -1;
        receiver_quote_answer(route, t->answer, t->answer_len, res->answer, sizeof res->answer);
}
