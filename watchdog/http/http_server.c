#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <sodium.h>

#include "embedded_file.h"
#include "jsonlog.h"
#include "rwclock.h"

#define STATUS_MAX_AGE_DEFAULT_MS 2000
#define PROBE_BODY_MAX 1024
#define PAGE_FILE "oncall_page.html"
#define PAGE_MARKER "/*RELAYWATCH_STATUS*/null"
#define RUNBOOK_PREFIX "/runbooks/"
#define RUNBOOK_NAME_MAX 96

/* A published text, shared by the responses that send it. */
struct blob {
        atomic_uint refs;
        size_t len;
        char *data;
};

struct http_server {
        struct MHD_Daemon *daemon;
        unsigned port;
        int has_token;
        uint8_t token_hash[crypto_generichash_BYTES];

        pthread_mutex_t mu; /* guards what follows up to the counts */
        pthread_cond_t wake;
        struct blob *metrics;
        struct blob *status;
        uint64_t status_made_mono_ms;
        int status_wanted, stopping;
        struct http_health health;

        atomic_uint_fast64_t answered[3]; /* 2xx and 3xx, 4xx, 5xx */

        char *(*status_json)(void *ctx, size_t *len);
        void *status_ctx;
        uint64_t status_max_age_ms;
        pthread_t status_thread;
        int status_thread_started;
};

/* ------------------------------------------------------------ blobs */

static struct blob *blob_new(char *data, size_t len)
{
        struct blob *b = malloc(sizeof *b);

        if (b == NULL)
                return NULL;
        atomic_init(&b->refs, 1);
        b->data = data;
        b->len = len;
        return b;
}

static void blob_release(void *arg)
{
        struct blob *b = arg;

        if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
                free(b->data);
                free(b);
        }
}

/* Another reference to `b` (taken under s->mu), or NULL for NULL. */
static struct blob *blob_take(struct blob *b)
{
        if (b != NULL)
                atomic_fetch_add(&b->refs, 1);
        return b;
}

/* ------------------------------------------------------------ the status thread */

static void *status_main(void *arg)
{
        struct http_server *s = arg;
        char *text;
        size_t len = 0;
        struct blob *b, *old;

        pthread_mutex_lock(&s->mu);
        for (;;) {
                while (!s->stopping && !s->status_wanted)
                        pthread_cond_wait(&s->wake, &s->mu);
                if (s->stopping)
                        break;
                pthread_mutex_unlock(&s->mu);
                text = s->status_json(s->status_ctx, &len);
                b = text != NULL ? blob_new(text, len) : NULL;
                if (text != NULL && b == NULL)
                        free(text);
                pthread_mutex_lock(&s->mu);
                s->status_wanted = 0;
                if (b != NULL) {
                        old = s->status;
                        s->status = b;
                        s->status_made_mono_ms = rwclock_mono_ms();
                        pthread_mutex_unlock(&s->mu);
                        blob_release(old);
                        pthread_mutex_lock(&s->mu);
                }
        }
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

/* The status JSON last made (a reference), asking for a new one when it is old. */
static struct blob *status_take(struct http_server *s)
{
        struct blob *b;
        uint64_t now = rwclock_mono_ms();

        pthread_mutex_lock(&s->mu);
        b = blob_take(s->status);
        if ((b == NULL || now - s->status_made_mono_ms > s->status_max_age_ms) &&
            !s->status_wanted) {
                s->status_wanted = 1;
                pthread_cond_signal(&s->wake);
        }
        pthread_mutex_unlock(&s->mu);
        return b;
}

/* ------------------------------------------------------------ responses */

/*
 * libmicrohttpd 0.9.75 takes a buffer it only reads (MHD_RESPMEM_PERSISTENT
 * or _MUST_COPY) as void *; it has no const variant yet.
 */
static void *readonly(const void *p)
{
        union {
                const void *in;
                void *out;
        } u = {.in = p};

        return u.out;
}

static enum MHD_Result queue(struct http_server *s, struct MHD_Connection *c, unsigned code,
                             struct MHD_Response *r, const char *type)
{
        enum MHD_Result rc;

        if (r == NULL)
                return MHD_NO; /* out of memory: the connection is closed */
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        (void)MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        rc = MHD_queue_response(c, code, r);
        MHD_destroy_response(r);
        atomic_fetch_add(&s->answered[code < 400 ? 0 : code < 500 ? 1 : 2], 1);
        return rc;
}

/* A response with a copy of text[len]. */
static enum MHD_Result answer_copy(struct http_server *s, struct MHD_Connection *c, unsigned code,
                                   const char *type, const char *text, size_t len)
{
        struct MHD_Response *r =
                MHD_create_response_from_buffer(len, readonly(text), MHD_RESPMEM_MUST_COPY);

        return queue(s, c, code, r, type);
}

/* A small JSON error: {"error": "..."}. */
static enum MHD_Result answer_error(struct http_server *s, struct MHD_Connection *c, unsigned code,
                                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result answer_error(struct http_server *s, struct MHD_Connection *c, unsigned code,
                                    const char *fmt, ...)
{
        char msg[512], body[sizeof msg * 2 + 32];
        size_t i, n = 0;
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        n += (size_t)snprintf(body, sizeof body, "{\"error\":\"");
        for (i = 0; msg[i] != '\0'; i++) { /* our own words and a path: quotes, controls escaped */
                unsigned char ch = (unsigned char)msg[i];

                if (ch == '"' || ch == '\\') {
                        body[n++] = '\\';
                        body[n++] = (char)ch;
                } else if (ch < 0x20 || ch >= 0x7f) {
                        body[n++] = '?';
                } else {
                        body[n++] = (char)ch;
                }
        }
        n += (size_t)snprintf(body + n, sizeof body - n, "\"}\n");
        return answer_copy(s, c, code, "application/json", body, n);
}

/* A response that sends a blob and drops its reference when done. */
static enum MHD_Result answer_blob(struct http_server *s, struct MHD_Connection *c, struct blob *b,
                                   const char *type)
{
        struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
                b->len, b->data, blob_release, b);

        if (r == NULL)
                blob_release(b);
        return queue(s, c, MHD_HTTP_OK, r, type);
}

/* ------------------------------------------------------------ the probes */

static size_t append(char *out, size_t cap, size_t n, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static size_t append(char *out, size_t cap, size_t n, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (n >= cap)
                return n;
        va_start(ap, fmt);
        k = vsnprintf(out + n, cap - n, fmt, ap);
        va_end(ap);
        return k < 0 ? n : n + (size_t)k >= cap ? cap - 1 : n + (size_t)k;
}

/* The JSON-safe copy of a problem text (it is ours, but may quote a server's words). */
static void json_safe(const char *in, char *out, size_t cap)
{
        size_t i, n = 0;

        for (i = 0; in[i] != '\0' && n + 1 < cap; i++) {
                unsigned char ch = (unsigned char)in[i];

                if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f)
                        out[n++] = '\'';
                else
                        out[n++] = in[i];
        }
        out[n] = '\0';
}

/*
 * Judges probe `which` ("live", "ready" or "startup") on the health last
 * published; the body says why in words. 200 or 503.
 */
static unsigned probe(struct http_server *s, const char *which, char *body, size_t cap, size_t *len)
{
        struct http_health h;
        uint64_t now = rwclock_mono_ms(), turn_age, t1_age;
        char problem[HTTP_PROBLEM_MAX];
        int live, ok;
        size_t n = 0;

        pthread_mutex_lock(&s->mu);
        h = s->health;
        pthread_mutex_unlock(&s->mu);
        turn_age = h.tick_mono_ms > 0 ? now - h.tick_mono_ms : UINT64_MAX;
        live = h.tick_mono_ms > 0 && turn_age <= h.live_limit_ms;
        t1_age = h.tier1_evaluated ? now - h.tier1_mono_ms : UINT64_MAX;

        if (strcmp(which, "live") == 0) {
                ok = live;
        } else if (strcmp(which, "ready") == 0) {
                ok = live && h.halt_path_up && h.tier1_evaluated && t1_age <= h.blind_limit_ms;
        } else {
                ok = live && h.cycles > 0;
        }
        n = append(body, cap, n, "{\"probe\":\"%s\",\"ok\":%s", which, ok ? "true" : "false");
        if (h.tick_mono_ms > 0)
                n = append(body, cap, n, ",\"last_turn_ms_ago\":%llu",
                           (unsigned long long)turn_age);
        if (h.tier1_evaluated)
                n = append(body, cap, n, ",\"last_tier1_evaluation_ms_ago\":%llu",
                           (unsigned long long)t1_age);
        n = append(body, cap, n, ",\"cycles\":%llu,\"halt_path_up\":%s",
                   (unsigned long long)h.cycles, h.halt_path_up ? "true" : "false");
        if (!ok) {
                n = append(body, cap, n, ",\"reason\":\"");
                if (!live && h.tick_mono_ms == 0)
                        n = append(body, cap, n, "the loop has not started; ");
                else if (!live)
                        n = append(body, cap, n,
                                   "the loop has not turned for %llu ms (limit %llu ms); ",
                                   (unsigned long long)turn_age,
                                   (unsigned long long)h.live_limit_ms);
                if (strcmp(which, "ready") == 0) {
                        if (!h.halt_path_up) {
                                json_safe(h.halt_path_problem[0] != '\0' ? h.halt_path_problem
                                                                         : "no detail",
                                          problem, sizeof problem);
                                n = append(body, cap, n, "the halt path is down: %s; ", problem);
                        }
                        if (!h.tier1_evaluated)
                                n = append(body, cap, n,
                                           "no cycle has evaluated the Tier 1 checks yet; ");
                        else if (t1_age > h.blind_limit_ms)
                                n = append(body, cap, n,
                                           "the Tier 1 checks were last evaluated %llu ms ago "
                                           "(blind limit %llu ms); ",
                                           (unsigned long long)t1_age,
                                           (unsigned long long)h.blind_limit_ms);
                }
                if (strcmp(which, "startup") == 0 && h.cycles == 0)
                        n = append(body, cap, n, "the first cycle has not finished; ");
                if (n >= 2 && body[n - 2] == ';')
                        n -= 2;
                n = append(body, cap, n, "\"");
        }
        n = append(body, cap, n, "}\n");
        *len = n;
        return ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
}

/* ------------------------------------------------------------ the page and the runbooks */

/* '<' inside a <script>, as JSON may write it (no NUL: it is copied into a larger text) */
static const char lt_escape[6] = {'\\', 'u', '0', '0', '3', 'c'};

/* The on-call page with the status JSON in it, '<' written as \u003c. */
static enum MHD_Result answer_page(struct http_server *s, struct MHD_Connection *c)
{
        const struct embedded_file *page =
                embedded_file_find(http_page_files, http_page_files_count, PAGE_FILE);
        const char *mark = page != NULL ? strstr(page->text, PAGE_MARKER) : NULL;
        struct blob *st = status_take(s);
        const char *json = st != NULL ? st->data : "null";
        size_t jlen = st != NULL ? st->len : 4, i, n, lt = 0, head, tail, cap;
        char *out;
        struct MHD_Response *r;

        if (mark == NULL) {
                blob_release(st);
                return answer_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                    "the on-call page is missing from this build");
        }
        for (i = 0; i < jlen; i++)
                lt += json[i] == '<';
        head = (size_t)(mark - page->text);
        tail = page->len - head - strlen(PAGE_MARKER);
        cap = head + jlen + lt * (sizeof lt_escape - 1) + tail;
        if ((out = malloc(cap + 1)) == NULL) {
                blob_release(st);
                return MHD_NO;
        }
        memcpy(out, page->text, head);
        n = head;
        for (i = 0; i < jlen; i++) {
                if (json[i] == '<') {
                        memcpy(out + n, lt_escape, sizeof lt_escape);
                        n += sizeof lt_escape;
                } else {
                        out[n++] = json[i];
                }
        }
        memcpy(out + n, mark + strlen(PAGE_MARKER), tail);
        n += tail;
        blob_release(st);
        r = MHD_create_response_from_buffer_with_free_callback(n, out, free);
        if (r == NULL) {
                free(out);
                return MHD_NO;
        }
        (void)MHD_add_response_header(r, "Content-Security-Policy",
                                      "default-src 'none'; script-src 'unsafe-inline'; "
                                      "style-src 'unsafe-inline'; img-src data:; "
                                      "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                                      "frame-ancestors 'none'");
        return queue(s, c, MHD_HTTP_OK, r, "text/html; charset=utf-8");
}

/* /runbooks/NAME.md: NAME in capitals, digits and '_' (README.md too). */
static enum MHD_Result answer_runbook(struct http_server *s, struct MHD_Connection *c,
                                      const char *name)
{
        const struct embedded_file *f = NULL;
        size_t i, n = strlen(name);
        int plain = n > 3 && n < RUNBOOK_NAME_MAX && strcmp(name + n - 3, ".md") == 0;

        for (i = 0; plain && i + 3 < n; i++)
                plain = (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
                        name[i] == '_';
        if (plain)
                f = embedded_file_find(http_runbook_files, http_runbook_files_count, name);
        if (f == NULL)
                return answer_error(s, c, MHD_HTTP_NOT_FOUND,
                                    "no runbook %s%.*s (GET /runbooks/README.md lists them)",
                                    RUNBOOK_PREFIX, RUNBOOK_NAME_MAX, name);
        return queue(
                s, c, MHD_HTTP_OK,
                MHD_create_response_from_buffer(f->len, readonly(f->text), MHD_RESPMEM_PERSISTENT),
                "text/plain; charset=utf-8");
}

/* ------------------------------------------------------------ a request */

/* Whether the request carries the token, compared in time independent of the guess. */
static int authorised(const struct http_server *s, struct MHD_Connection *c)
{
        const char *auth, *given = NULL;
        uint8_t h[crypto_generichash_BYTES];

        if (!s->has_token)
                return 1;
        auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0)
                given = auth + 7;
        if (given == NULL)
                given = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        if (given == NULL)
                return 0;
        crypto_generichash(h, sizeof h, (const unsigned char *)given, strlen(given), NULL, 0);
        return sodium_memcmp(h, s->token_hash, sizeof h) == 0;
}

static int has_body(struct MHD_Connection *c)
{
        const char *len =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

        return (len != NULL && strcmp(len, "0") != 0) ||
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
                       NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
        struct http_server *s = cls;
        char body[PROBE_BODY_MAX];
        size_t len;
        unsigned code;
        struct blob *b;

        (void)version;
        (void)upload_data;
        (void)req_cls;
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
                static const char only[] = "{\"error\":\"only GET and HEAD\"}\n";
                struct MHD_Response *r = MHD_create_response_from_buffer(
                        sizeof only - 1, readonly(only), MHD_RESPMEM_PERSISTENT);

                if (r != NULL)
                        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
                return queue(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, r, "application/json");
        }
        if (*upload_data_size != 0 || has_body(c))
                return answer_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
                                    "request bodies are refused: these endpoints only read");
        if (strncmp(url, "/health/", 8) == 0 &&
            (strcmp(url + 8, "live") == 0 || strcmp(url + 8, "ready") == 0 ||
             strcmp(url + 8, "startup") == 0)) {
                code = probe(s, url + 8, body, sizeof body, &len);
                return answer_copy(s, c, code, "application/json", body, len);
        }
        if (!authorised(s, c)) {
                static const char needed[] =
                        "{\"error\":\"a bearer token is needed ([http] token): send "
                        "Authorization: Bearer TOKEN or ?token=TOKEN\"}\n";
                struct MHD_Response *r = MHD_create_response_from_buffer(
                        sizeof needed - 1, readonly(needed), MHD_RESPMEM_PERSISTENT);

                if (r != NULL)
                        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                                      "Bearer realm=\"relaywatch\"");
                return queue(s, c, MHD_HTTP_UNAUTHORIZED, r, "application/json");
        }
        if (strcmp(url, "/metrics") == 0) {
                pthread_mutex_lock(&s->mu);
                b = blob_take(s->metrics);
                pthread_mutex_unlock(&s->mu);
                if (b == NULL)
                        return answer_error(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                            "no metrics yet: the watchdog is starting");
                return answer_blob(s, c, b, "text/plain; version=0.0.4; charset=utf-8");
        }
        if (strcmp(url, "/status") == 0) {
                if ((b = status_take(s)) == NULL)
                        return answer_error(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                            "the status is being read; ask again in a second");
                return answer_blob(s, c, b, "application/json");
        }
        if (strcmp(url, "/") == 0)
                return answer_page(s, c);
        if (strncmp(url, RUNBOOK_PREFIX, strlen(RUNBOOK_PREFIX)) == 0)
                return answer_runbook(s, c, url + strlen(RUNBOOK_PREFIX));
        return answer_error(s, c, MHD_HTTP_NOT_FOUND,
                            "no such page: %.200s (try /, /status, /metrics, /health/live, "
                            "/health/ready, /health/startup)",
                            url);
}

/* ------------------------------------------------------------ start and stop */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];

        (void)cls;
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        jsonlog_message(JSONLOG_WARN, "http_server", NULL, "%s", msg);
}

/* The address to bind for `host`, or 0 when it names none; *flags gets IPv6 when needed. */
static socklen_t bind_address(const char *host, unsigned port, struct sockaddr_storage *ss,
                              unsigned *flags)
{
        struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
        char inner[INET6_ADDRSTRLEN + 1];
        size_t n = strlen(host);

        memset(ss, 0, sizeof *ss);
        if (strcasecmp(host, "localhost") == 0)
                host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
                v4->sin_family = AF_INET;
                v4->sin_port = htons((uint16_t)port);
                return sizeof *v4;
        }
        if (n >= 3 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof inner) {
                memcpy(inner, host + 1, n - 2);
                inner[n - 2] = '\0';
                if (inet_pton(AF_INET6, inner, &v6->sin6_addr) == 1) {
                        v6->sin6_family = AF_INET6;
                        v6->sin6_port = htons((uint16_t)port);
                        *flags |= MHD_USE_IPv6;
                        return sizeof *v6;
                }
        }
        return 0;
}

/*
 * Connections one address may hold: half of them (all of a small limit), so
 * that one client holding its connections open leaves room for the
 * kubelet's probes and Prometheus, which come from other addresses.
 */
static unsigned int per_ip_limit(unsigned max_connections)
{
        return max_connections >= 8 ? max_connections / 2 : max_connections;
}

struct http_server *http_server_start(const struct http_server_options *opt, struct rwerr *err)
{
        struct http_server *s = calloc(1, sizeof *s);
        struct sockaddr_storage ss;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        int any = strcmp(opt->host, "*") == 0;
        socklen_t sslen = 0;
        const union MHD_DaemonInfo *info;

        if (s == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the HTTP server");
                return NULL;
        }
        if (!any && (sslen = bind_address(opt->host, opt->port, &ss, &flags)) == 0) {
                free(s);
                rwerr_set(err, RW_ERR_INVALID, "[http] listen: cannot bind to \"%s\"", opt->host);
                return NULL;
        }
        if (any)
                flags |= MHD_USE_DUAL_STACK;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->wake, NULL);
        s->status_json = opt->status_json;
        s->status_ctx = opt->status_ctx;
        s->status_max_age_ms =
                opt->status_max_age_ms > 0 ? opt->status_max_age_ms : STATUS_MAX_AGE_DEFAULT_MS;
        if (opt->token != NULL) {
                s->has_token = 1;
                crypto_generichash(s->token_hash, sizeof s->token_hash,
                                   (const unsigned char *)opt->token, strlen(opt->token), NULL, 0);
        }
        if (s->status_json != NULL) {
                s->status_wanted = 1; /* the first copy now, before anyone asks */
                if (pthread_create(&s->status_thread, NULL, status_main, s) != 0) {
                        rwerr_set(err, RW_ERR_IO, "cannot start the HTTP status thread");
                        http_server_stop(s);
                        return NULL;
                }
                s->status_thread_started = 1;
        }
        /* clang-format off: one option and its value per line */
        s->daemon = MHD_start_daemon(
                flags, (uint16_t)opt->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                on_mhd_log, (void *)NULL, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned int)opt->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                per_ip_limit(opt->max_connections), MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned int)opt->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                MHD_OPTION_STRICT_FOR_CLIENT, (int)1, any ? MHD_OPTION_END : MHD_OPTION_SOCK_ADDR,
                (struct sockaddr *)&ss, MHD_OPTION_END);
        /* clang-format on */
        if (s->daemon == NULL) {
                int e = errno;

                http_server_stop(s);
                rwerr_set(err, RW_ERR_IO, "cannot listen on %s:%u for HTTP: %s", opt->host,
                          opt->port, e != 0 ? strerror(e) : "libmicrohttpd refused to start");
                return NULL;
        }
        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = info != NULL ? info->port : opt->port;
        (void)sslen;
        return s;
}

unsigned http_server_port(const struct http_server *s)
{
        return s->port;
}

void http_server_set_metrics(struct http_server *s, char *text, size_t len)
{
        struct blob *b = blob_new(text, len), *old;

        if (b == NULL) {
                free(text);
                return;
        }
        pthread_mutex_lock(&s->mu);
        old = s->metrics;
        s->metrics = b;
        pthread_mutex_unlock(&s->mu);
        blob_release(old);
}

void http_server_set_health(struct http_server *s, const struct http_health *h)
{
        pthread_mutex_lock(&s->mu);
        s->health = *h;
        pthread_mutex_unlock(&s->mu);
}

void http_server_counts(const struct http_server *s, uint64_t *ok, uint64_t *client_errors,
                        uint64_t *server_errors)
{
        *ok = atomic_load(&s->answered[0]);
        *client_errors = atomic_load(&s->answered[1]);
        *server_errors = atomic_load(&s->answered[2]);
}

void http_server_stop(struct http_server *s)
{
        if (s == NULL)
                return;
        if (s->daemon != NULL)
                MHD_stop_daemon(s->daemon); /* waits for the responses in flight */
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->mu);
        if (s->status_thread_started)
                pthread_join(s->status_thread, NULL);
        blob_release(s->metrics);
        blob_release(s->status);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        sodium_memzero(s->token_hash, sizeof s->token_hash);
        free(s);
}
