#include "rpc.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rwerr.h"
#include "rwclock.h"

struct rpc_client {
        CURL *curl;
        struct curl_slist *headers;
        char *url;
        char name[RPC_NAME_MAX];
        long timeout_ms;
        size_t max_reply_bytes;
        struct rpc_client_stats stats;
        /* The reply being received; reused between exchanges. */
        char *reply;
        size_t reply_len;
        size_t reply_cap;
        int reply_too_large;
        int reply_nomem; /* the reply could not be stored: our memory, not the peer's fault */
        /* The exchange under way: its request body and batch. */
        char *body;
        struct rpc_batch *batch;
        uint64_t started_ms;
        /* Set while the exchange runs in a multi set; busy_next links its busy list. */
        struct rpc_multi *multi;
        struct rpc_client *busy_next;
};

struct rpc_multi {
        CURLM *curlm;
        struct rpc_client *busy; /* clients with an exchange in flight */
};

struct rpc_request {
        char *method;
        cJSON *params;
        const cJSON *result; /* points into batch->reply_root */
        int answered;
        int failed; /* answered with an error object */
        struct rpc_error error;
};

struct rpc_batch {
        struct rpc_request *requests;
        size_t count;
        size_t cap;
        cJSON *reply_root;
};

/* ---------------------------------------------------------------- URLs */

int rpc_url_redact(const char *url, char *out, size_t cap)
{
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
        char *user = NULL;
        int rc = RW_ERR_INVALID;
        int hidden;

        if (cap > 0)
                out[0] = '\0';
        if (u == NULL || url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
                (void)snprintf(out, cap, "(invalid URL)");
                goto out;
        }
        (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
        (void)curl_url_get(u, CURLUPART_PATH, &path, 0);
        (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
        (void)curl_url_get(u, CURLUPART_USER, &user, 0);
        hidden = (path != NULL && strcmp(path, "/") != 0 && path[0] != '\0') || query != NULL ||
                 user != NULL;
        (void)snprintf(out, cap, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
                       hidden ? "/<redacted>" : "");
        rc = RW_OK;
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_free(path);
        curl_free(query);
        curl_free(user);
        curl_url_cleanup(u);
        return rc;
}

/* ---------------------------------------------------------------- client */

static size_t collect_reply(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct rpc_client *c = userdata;
        size_t n = size * nmemb;

        if (c->reply_len + n > c->max_reply_bytes) {
                c->reply_too_large = 1;
                return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
        }
        if (c->reply_len + n + 1 > c->reply_cap) {
                size_t want = c->reply_cap ? c->reply_cap : 4096;
                char *grown;

                while (want < c->reply_len + n + 1)
                        want *= 2;
                grown = realloc(c->reply, want);
                if (grown == NULL) {
                        c->reply_nomem = 1;
                        return 0; /* CURLE_WRITE_ERROR */
                }
                c->reply = grown;
                c->reply_cap = want;
        }
        memcpy(c->reply + c->reply_len, ptr, n);
        c->reply_len += n;
        c->reply[c->reply_len] = '\0';
        return n;
}

static int curl_global_ready(struct rwerr *err)
{
        static int done;

        /* The program is single-threaded when it creates its first client. */
        if (!done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return rwerr_set(err, RW_ERR_IO, "libcurl initialisation failed");
                done = 1;
        }
        return RW_OK;
}

struct rpc_client *rpc_client_new(const struct rpc_config *cfg, struct rwerr *err)
{
        struct rpc_client *c;
        char redacted[RPC_NAME_MAX];
        long connect_ms;

        if (cfg == NULL || cfg->url == NULL || cfg->url[0] == '\0') {
                rwerr_set(err, RW_ERR_INVALID, "RPC endpoint has no URL");
                return NULL;
        }
        if (rpc_url_redact(cfg->url, redacted, sizeof redacted) != RW_OK) {
                rwerr_set(err, RW_ERR_INVALID, "RPC endpoint %s: the URL cannot be parsed",
                          cfg->name ? cfg->name : "(unnamed)");
                return NULL;
        }
        if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0) {
                rwerr_set(err, RW_ERR_INVALID,
                          "RPC endpoint %s: only http:// and https:// URLs are supported",
                          cfg->name ? cfg->name : redacted);
                return NULL;
        }
        if (curl_global_ready(err) != RW_OK)
                return NULL;
        c = calloc(1, sizeof *c);
        if (c == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory creating an RPC client");
                return NULL;
        }
        if (cfg->name != NULL)
                (void)snprintf(c->name, sizeof c->name, "%.40s (%.80s)", cfg->name, redacted);
        else
                (void)snprintf(c->name, sizeof c->name, "%s", redacted);
        c->url = strdup(cfg->url);
        c->curl = curl_easy_init();
        c->headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (c->url == NULL || c->curl == NULL || c->headers == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory creating an RPC client", c->name);
                rpc_client_free(c);
                return NULL;
        }
        c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : RPC_DEFAULT_TIMEOUT_MS;
        connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
                                                 : RPC_DEFAULT_CONNECT_TIMEOUT_MS;
        c->max_reply_bytes =
                cfg->max_reply_bytes > 0 ? cfg->max_reply_bytes : RPC_DEFAULT_MAX_REPLY_BYTES;

        curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
        curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect_reply);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c->curl, CURLOPT_PRIVATE, c);
        if (cfg->ca_file != NULL)
                curl_easy_setopt(c->curl, CURLOPT_CAINFO, cfg->ca_file);
        return c;
}

void rpc_client_free(struct rpc_client *c)
{
        if (c == NULL)
                return;
        if (c->multi != NULL)
                rpc_multi_cancel(c->multi, c);
        free(c->body);
        if (c->curl != NULL)
                curl_easy_cleanup(c->curl);
        curl_slist_free_all(c->headers);
        free(c->url);
        free(c->reply);
        free(c);
}

const char *rpc_client_name(const struct rpc_client *c)
{
        return c->name;
}

void rpc_client_stats(const struct rpc_client *c, struct rpc_client_stats *out)
{
        *out = c->stats;
}

long rpc_client_timeout_ms(const struct rpc_client *c)
{
        return c->timeout_ms;
}

int rpc_client_busy(const struct rpc_client *c)
{
        return c->multi != NULL;
}

/* ---------------------------------------------------------------- batch */

struct rpc_batch *rpc_batch_new(void)
{
        return calloc(1, sizeof(struct rpc_batch));
}

static void batch_clear_results(struct rpc_batch *b)
{
        size_t i;

        cJSON_Delete(b->reply_root);
        b->reply_root = NULL;
        for (i = 0; i < b->count; i++) {
                b->requests[i].result = NULL;
                b->requests[i].answered = 0;
                b->requests[i].failed = 0;
                memset(&b->requests[i].error, 0, sizeof b->requests[i].error);
        }
}

void rpc_batch_free(struct rpc_batch *b)
{
        size_t i;

        if (b == NULL)
                return;
        cJSON_Delete(b->reply_root);
        for (i = 0; i < b->count; i++) {
                free(b->requests[i].method);
                cJSON_Delete(b->requests[i].params);
        }
        free(b->requests);
        free(b);
}

int rpc_batch_add(struct rpc_batch *b, const char *method, cJSON *params, struct rwerr *err)
{
        struct rpc_request *r;

        if (params == NULL)
                params = cJSON_CreateArray();
        if (params == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", method);
        if (!cJSON_IsArray(params)) {
                cJSON_Delete(params);
                return rwerr_set(err, RW_ERR_INVALID, "%s: params must be a JSON array", method);
        }
        if (b->count == RPC_BATCH_MAX) {
                cJSON_Delete(params);
                return rwerr_set(err, RW_ERR_RANGE, "%s: batch already holds %d requests", method,
                                 RPC_BATCH_MAX);
        }
        if (b->count == b->cap) {
                size_t want = b->cap ? 2 * b->cap : 16;
                struct rpc_request *grown = realloc(b->requests, want * sizeof *grown);

                if (grown == NULL) {
                        cJSON_Delete(params);
                        return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", method);
                }
                b->requests = grown;
                b->cap = want;
        }
        r = &b->requests[b->count];
        memset(r, 0, sizeof *r);
        r->method = strdup(method);
        if (r->method == NULL) {
                cJSON_Delete(params);
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", method);
        }
        r->params = params;
        return (int)b->count++;
}

size_t rpc_batch_count(const struct rpc_batch *b)
{
        return b->count;
}

const char *rpc_batch_method(const struct rpc_batch *b, size_t i)
{
        return i < b->count ? b->requests[i].method : "(no such request)";
}

/* One request object; params are referenced, not copied. */
static cJSON *request_json(const struct rpc_request *r, size_t id)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || cJSON_AddStringToObject(o, "jsonrpc", "2.0") == NULL ||
            cJSON_AddNumberToObject(o, "id", (double)id) == NULL ||
            cJSON_AddStringToObject(o, "method", r->method) == NULL ||
            !cJSON_AddItemReferenceToObject(o, "params", r->params)) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* The request body: a plain object for one request, an array for more. */
static char *batch_body(const struct rpc_batch *b)
{
        cJSON *root;
        char *text;
        size_t i;

        if (b->count == 1) {
                root = request_json(&b->requests[0], 0);
        } else {
                root = cJSON_CreateArray();
                for (i = 0; root != NULL && i < b->count; i++) {
                        cJSON *o = request_json(&b->requests[i], i);

                        if (o == NULL || !cJSON_AddItemToArray(root, o)) {
                                cJSON_Delete(o);
                                cJSON_Delete(root);
                                root = NULL;
                        }
                }
        }
        if (root == NULL)
                return NULL;
        text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        return text;
}

/* Up to 40 printable characters of a body, for messages about garbage. */
static void body_excerpt(const char *body, size_t len, char *out, size_t cap)
{
        size_t i, n = len < 40 ? len : 40;

        if (cap == 0)
                return;
        if (n > cap - 1)
                n = cap - 1;
        for (i = 0; i < n; i++) {
                if (body[i] >= 0x20 && body[i] < 0x7f)
                        out[i] = body[i];
                else
                        out[i] = '.';
        }
        out[n] = '\0';
}

/* A JSON number that is a whole number in the range of a long. */
static int json_whole_number(const cJSON *n)
{
        return cJSON_IsNumber(n) && n->valuedouble > -1e15 && n->valuedouble < 1e15 &&
               n->valuedouble == (double)(long)n->valuedouble;
}

static void copy_error(struct rpc_error *dst, const cJSON *error)
{
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");

        dst->code = json_whole_number(code) ? (long)code->valuedouble : 0;
        (void)snprintf(dst->message, sizeof dst->message, "%s",
                       cJSON_IsString(msg) ? msg->valuestring : "(no message)");
}

static int is_error_object(const cJSON *e)
{
        return cJSON_IsObject(e) && json_whole_number(cJSON_GetObjectItemCaseSensitive(e, "code"));
}

/* Matches one reply object to its request. `k` is its position, for messages. */
static int parse_reply_element(struct rpc_batch *b, const cJSON *el, size_t k, struct rwerr *err)
{
        const cJSON *jsonrpc = cJSON_GetObjectItemCaseSensitive(el, "jsonrpc");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(el, "id");
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(el, "result");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(el, "error");
        struct rpc_request *r;
        double v;

        if (!cJSON_IsObject(el))
                return rwerr_set(err, RW_ERR_PROTOCOL, "reply element %zu is not an object", k);
        if (!cJSON_IsString(jsonrpc) || strcmp(jsonrpc->valuestring, "2.0") != 0)
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "reply element %zu lacks \"jsonrpc\": \"2.0\"", k);
        if (!cJSON_IsNumber(id)) {
                if (error != NULL && is_error_object(error)) {
                        struct rpc_error e;

                        copy_error(&e, error);
                        return rwerr_set(err, RW_ERR_REMOTE,
                                         "provider rejected the request: error %ld: %s", e.code,
                                         e.message);
                }
                return rwerr_set(err, RW_ERR_PROTOCOL, "reply element %zu has no numeric id", k);
        }
        v = id->valuedouble;
        if (!(v >= 0 && v < (double)b->count) || v != (double)(size_t)v)
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "reply element %zu has id %g, which was never sent", k, v);
        r = &b->requests[(size_t)v];
        if (r->answered)
                return rwerr_set(err, RW_ERR_PROTOCOL, "reply repeats id %zu (%s)", (size_t)v,
                                 r->method);
        if ((result != NULL) == (error != NULL))
                return rwerr_set(
                        err, RW_ERR_PROTOCOL,
                        "reply to request %zu (%s) must have exactly one of result and error",
                        (size_t)v, r->method);
        if (error != NULL) {
                if (!is_error_object(error))
                        return rwerr_set(err, RW_ERR_PROTOCOL,
                                         "reply to request %zu (%s) has a malformed error object",
                                         (size_t)v, r->method);
                copy_error(&r->error, error);
                r->failed = 1;
        } else {
                r->result = result;
        }
        r->answered = 1;
        return RW_OK;
}

/*
 * cJSON's parser records where a parse failed in one global, so two threads
 * parsing at once (clients of two chains read side by side) would race on
 * it; the parse is short next to the exchange, so it is simply serialised.
 */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

static cJSON *parse_json(const char *body, size_t len)
{
        cJSON *root;

        pthread_mutex_lock(&parse_lock);
        root = cJSON_ParseWithLength(body, len);
        pthread_mutex_unlock(&parse_lock);
        return root;
}

int rpc_batch_parse_reply(struct rpc_batch *b, const char *body, size_t len, struct rwerr *err)
{
        cJSON *root;
        const cJSON *el;
        size_t i, k = 0;
        int rc = RW_OK;

        batch_clear_results(b);
        root = parse_json(body, len);
        if (root == NULL) {
                char excerpt[48];

                body_excerpt(body, len, excerpt, sizeof excerpt);
                return rwerr_set(err, RW_ERR_PROTOCOL, "reply is not JSON (%zu bytes: \"%s\")", len,
                                 excerpt);
        }
        b->reply_root = root;
        if (cJSON_IsObject(root)) {
                if (b->count == 1)
                        rc = parse_reply_element(b, root, 0, err);
                else if (is_error_object(cJSON_GetObjectItemCaseSensitive(root, "error")))
                        rc = parse_reply_element(b, root, 0, err) == RW_ERR_REMOTE
                                     ? RW_ERR_REMOTE
                                     : rwerr_set(err, RW_ERR_PROTOCOL,
                                                 "reply to a batch of %zu is a single object",
                                                 b->count);
                else
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "reply to a batch of %zu is a single object", b->count);
        } else if (cJSON_IsArray(root)) {
                cJSON_ArrayForEach(el, root)
                {
                        if ((rc = parse_reply_element(b, el, k++, err)) != RW_OK)
                                break;
                }
        } else {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "reply is neither a JSON object nor an array");
        }
        for (i = 0; rc == RW_OK && i < b->count; i++) {
                if (!b->requests[i].answered)
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "reply has no answer to request %zu (%s)", i,
                                       b->requests[i].method);
        }
        if (rc != RW_OK)
                batch_clear_results(b);
        return rc;
}

/* Turns a failed or non-200 exchange into a message naming the endpoint. */
static int exchange_error(struct rpc_client *c, CURLcode cc, long status, struct rwerr *err)
{
        long os_errno = 0;

        if (c->reply_too_large)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: reply larger than the %zu-byte limit",
                                 c->name, c->max_reply_bytes);
        if (c->reply_nomem)
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory receiving the reply",
                                 c->name);
        switch (cc) {
        case CURLE_OK:
                break;
        case CURLE_OPERATION_TIMEDOUT:
                return rwerr_set(err, RW_ERR_TIMEOUT, "%s: no complete reply within %ld ms",
                                 c->name, c->timeout_ms);
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: reply cut short (%s)", c->name,
                                 curl_easy_strerror(cc));
        default:
                curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
                return rwerr_set(err, RW_ERR_IO, "%s: %s%s%s", c->name, curl_easy_strerror(cc),
                                 os_errno ? ": " : "", os_errno ? strerror((int)os_errno) : "");
        }
        if (status == 429)
                return rwerr_set(err, RW_ERR_IO, "%s: rate limited (HTTP 429)", c->name);
        return rwerr_set(err, RW_ERR_IO, "%s: HTTP status %ld", c->name, status);
}

/* Builds the request body of `b` and arms the handle; the batch is then c's until finished. */
static int exchange_begin(struct rpc_client *c, struct rpc_batch *b, struct rwerr *err)
{
        batch_clear_results(b);
        if (b->count == 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s: empty batch", c->name);
        free(c->body);
        c->body = batch_body(b);
        if (c->body == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory building a request",
                                 c->name);
        c->batch = b;
        c->reply_len = 0;
        c->reply_too_large = 0;
        c->reply_nomem = 0;
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
        c->started_ms = rwclock_mono_ms();
        return RW_OK;
}

/* Releases what exchange_begin armed and counts the exchange. */
static void exchange_end(struct rpc_client *c, int failed)
{
        c->stats.last_duration_ms = rwclock_mono_ms() - c->started_ms;
        c->stats.exchanges++;
        c->stats.requests += c->batch != NULL ? c->batch->count : 0;
        if (failed)
                c->stats.failed_exchanges++;
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
        free(c->body);
        c->body = NULL;
        c->batch = NULL;
}

/* After the transfer ended with `cc`: the outcome, with the reply matched into the batch. */
static int exchange_finish(struct rpc_client *c, CURLcode cc, struct rwerr *err)
{
        struct rpc_batch *b = c->batch;
        long status = 0;
        int rc;

        if (cc == CURLE_OK)
                curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK || c->reply_too_large || c->reply_nomem || status != 200) {
                rc = exchange_error(c, cc, status, err);
                exchange_end(c, 1);
                return rc;
        }
        rc = rpc_batch_parse_reply(b, c->reply ? c->reply : "", c->reply_len, err);
        exchange_end(c, rc != RW_OK);
        return rc != RW_OK ? rwerr_prefix(err, rc, c->name) : RW_OK;
}

int rpc_batch_send(struct rpc_client *c, struct rpc_batch *b, struct rwerr *err)
{
        int rc;

        if (c->multi != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: an exchange is already under way",
                                 c->name);
        if ((rc = exchange_begin(c, b, err)) != RW_OK)
                return rc;
        return exchange_finish(c, curl_easy_perform(c->curl), err);
}

/* ---------------------------------------------------------------- multi */

struct rpc_multi *rpc_multi_new(struct rwerr *err)
{
        struct rpc_multi *m;

        if (curl_global_ready(err) != RW_OK)
                return NULL;
        m = calloc(1, sizeof *m);
        if (m == NULL || (m->curlm = curl_multi_init()) == NULL) {
                free(m);
                rwerr_set(err, RW_ERR_NOMEM, "out of memory creating a set of RPC exchanges");
                return NULL;
        }
        return m;
}

void rpc_multi_free(struct rpc_multi *m)
{
        if (m == NULL)
                return;
        while (m->busy != NULL)
                rpc_multi_cancel(m, m->busy);
        curl_multi_cleanup(m->curlm);
        free(m);
}

/* Takes `c` off the busy list and out of libcurl's set. */
static void multi_detach(struct rpc_multi *m, struct rpc_client *c)
{
        struct rpc_client **link;

        for (link = &m->busy; *link != NULL; link = &(*link)->busy_next) {
                if (*link == c) {
                        *link = c->busy_next;
                        break;
                }
        }
        (void)curl_multi_remove_handle(m->curlm, c->curl);
        c->busy_next = NULL;
        c->multi = NULL;
}

int rpc_multi_start(struct rpc_multi *m, struct rpc_client *c, struct rpc_batch *b,
                    struct rwerr *err)
{
        CURLMcode mc;
        int rc;

        if (c->multi != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: an exchange is already under way",
                                 c->name);
        if ((rc = exchange_begin(c, b, err)) != RW_OK)
                return rc;
        mc = curl_multi_add_handle(m->curlm, c->curl);
        if (mc != CURLM_OK) {
                exchange_end(c, 1);
                return rwerr_set(err, RW_ERR_IO, "%s: libcurl: %s", c->name,
                                 curl_multi_strerror(mc));
        }
        c->multi = m;
        c->busy_next = m->busy;
        m->busy = c;
        return RW_OK;
}

void rpc_multi_cancel(struct rpc_multi *m, struct rpc_client *c)
{
        if (c->multi != m || m == NULL)
                return;
        multi_detach(m, c);
        /* A transfer removed half-way has its connection closed by libcurl. */
        exchange_end(c, 1);
}

void rpc_multi_wakeup(struct rpc_multi *m)
{
        (void)curl_multi_wakeup(m->curlm); /* thread-safe by libcurl's contract */
}

/* The next finished exchange, if libcurl has one to report; 1 when found. */
static int multi_next_done(struct rpc_multi *m, struct rpc_client **done, int *rc,
                           struct rwerr *err)
{
        CURLMsg *msg;
        int queued;

        while ((msg = curl_multi_info_read(m->curlm, &queued)) != NULL) {
                struct rpc_client *c;
                CURLcode cc = msg->data.result;
                char *priv = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
                c = (struct rpc_client *)(void *)priv;
                if (c == NULL || c->multi != m)
                        continue;
                multi_detach(m, c); /* msg is invalid from here */
                *rc = exchange_finish(c, cc, err);
                *done = c;
                return 1;
        }
        return 0;
}

int rpc_multi_wait(struct rpc_multi *m, long timeout_ms, struct rpc_client **done, int *rc,
                   struct rwerr *err)
{
        CURLMcode mc;
        int running = 0;

        *done = NULL;
        *rc = RW_OK;
        if (multi_next_done(m, done, rc, err))
                return RW_OK;
        if ((mc = curl_multi_perform(m->curlm, &running)) != CURLM_OK)
                goto fail;
        /* Something in flight but nothing running and nothing reported: poll anyway, never spin. */
        if (multi_next_done(m, done, rc, err) || m->busy == NULL || timeout_ms <= 0)
                return RW_OK;
        if ((mc = curl_multi_poll(m->curlm, NULL, 0,
                                  timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms, NULL)) !=
                    CURLM_OK ||
            (mc = curl_multi_perform(m->curlm, &running)) != CURLM_OK)
                goto fail;
        (void)multi_next_done(m, done, rc, err);
        return RW_OK;
fail:
        return rwerr_set(err, mc == CURLM_OUT_OF_MEMORY ? RW_ERR_NOMEM : RW_ERR_IO, "libcurl: %s",
                         curl_multi_strerror(mc));
}

const cJSON *rpc_batch_result(const struct rpc_batch *b, size_t i)
{
        return i < b->count ? b->requests[i].result : NULL;
}

const struct rpc_error *rpc_batch_error(const struct rpc_batch *b, size_t i)
{
        return (i < b->count && b->requests[i].failed) ? &b->requests[i].error : NULL;
}

int rpc_batch_hex(const struct rpc_batch *b, size_t i, const char **hex, struct rwerr *err)
{
        const cJSON *res;

        if (i >= b->count || !b->requests[i].answered)
                return rwerr_set(err, RW_ERR_INVALID, "request %zu has no reply", i);
        if (b->requests[i].failed)
                return rwerr_set(err, RW_ERR_REMOTE, "%s: error %ld: %s", b->requests[i].method,
                                 b->requests[i].error.code, b->requests[i].error.message);
        res = b->requests[i].result;
        if (!cJSON_IsString(res) || strncmp(res->valuestring, "0x", 2) != 0)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: result is not a 0x-hex string",
                                 b->requests[i].method);
        *hex = res->valuestring;
        return RW_OK;
}

int rpc_quantity_u64(const char *s, uint64_t *out, struct rwerr *err)
{
        uint64_t v = 0;
        size_t i, n;

        if (s == NULL || strncmp(s, "0x", 2) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "quantity does not start with 0x");
        n = strlen(s + 2);
        if (n == 0 || n > 16)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "quantity has %zu hex digits, expected 1 to 16", n);
        if (n > 1 && s[2] == '0')
                return rwerr_set(err, RW_ERR_INVALID, "quantity %.24s has a leading zero", s);
        for (i = 0; i < n; i++) {
                char ch = s[2 + i];
                unsigned d;

                if (ch >= '0' && ch <= '9')
                        d = (unsigned)(ch - '0');
                else if (ch >= 'a' && ch <= 'f')
                        d = (unsigned)(ch - 'a' + 10);
                else if (ch >= 'A' && ch <= 'F')
                        d = (unsigned)(ch - 'A' + 10);
                else
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "quantity has a non-hex character at position %zu", i + 2);
                v = (v << 4) | d;
        }
        *out = v;
        return RW_OK;
}

int rpc_batch_u64(const struct rpc_batch *b, size_t i, uint64_t *out, struct rwerr *err)
{
        const char *hex = NULL;
        int rc;

        if ((rc = rpc_batch_hex(b, i, &hex, err)) != RW_OK)
                return rc;
        if ((rc = rpc_quantity_u64(hex, out, err)) != RW_OK)
                return rwerr_prefix(err, rc, rpc_batch_method(b, i));
        return RW_OK;
}

int rpc_chain_id_check(const struct rpc_client *c, const struct rpc_batch *b, uint64_t expected,
                       struct rwerr *err)
{
        uint64_t got = 0;
        int rc;

        if ((rc = rpc_batch_u64(b, 0, &got, err)) != RW_OK)
                return rwerr_prefix(err, rc, c->name);
        if (got != expected)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "%s serves chain id %llu, but this chain is configured with chain "
                                 "id %llu: refusing the endpoint",
                                 c->name, (unsigned long long)got, (unsigned long long)expected);
        return RW_OK;
}

int rpc_client_verify_chain(struct rpc_client *c, uint64_t expected, struct rwerr *err)
{
        struct rpc_batch *b = rpc_batch_new();
        int rc;

        if (b == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", c->name);
        if ((rc = rpc_batch_add(b, "eth_chainId", NULL, err)) < 0)
                goto out;
        if ((rc = rpc_batch_send(c, b, err)) != RW_OK)
                goto out;
        rc = rpc_chain_id_check(c, b, expected, err);
out:
        rpc_batch_free(b);
        return rc < 0 ? rc : RW_OK;
}

/* ---------------------------------------------------------------- params */

static cJSON *block_json(const struct rpc_block *block)
{
        static const char *const tags[] = {"latest", "finalized", "safe", "earliest", "pending"};
        char text[24];
        size_t i;

        if (block->tag == NULL) {
                (void)snprintf(text, sizeof text, "0x%llx", (unsigned long long)block->number);
                return cJSON_CreateString(text);
        }
        for (i = 0; i < sizeof tags / sizeof tags[0]; i++) {
                if (strcmp(block->tag, tags[i]) == 0)
                        return cJSON_CreateString(block->tag);
        }
        return NULL;
}

/* Appends `item` to `array`; on any failure frees both and returns NULL. */
static cJSON *append_or_drop(cJSON *array, cJSON *item)
{
        if (array == NULL || item == NULL || !cJSON_AddItemToArray(array, item)) {
                cJSON_Delete(item);
                cJSON_Delete(array);
                return NULL;
        }
        return array;
}

cJSON *rpc_params_eth_call(const char *to, const char *data, const struct rpc_block *block)
{
        cJSON *tx = cJSON_CreateObject();

        if (tx != NULL && (cJSON_AddStringToObject(tx, "to", to) == NULL ||
                           cJSON_AddStringToObject(tx, "data", data) == NULL)) {
                cJSON_Delete(tx);
                tx = NULL;
        }
        return append_or_drop(append_or_drop(cJSON_CreateArray(), tx), block_json(block));
}

cJSON *rpc_params_address_at(const char *address, const struct rpc_block *block)
{
        return append_or_drop(append_or_drop(cJSON_CreateArray(), cJSON_CreateString(address)),
                              block_json(block));
}

cJSON *rpc_params_get_logs(const char *address, const char *topic0, uint64_t from_block,
                           uint64_t to_block)
{
        struct rpc_block from = {NULL, from_block}, to = {NULL, to_block};
        cJSON *filter = cJSON_CreateObject();
        cJSON *topics;

        if (filter == NULL)
                return NULL;
        if (cJSON_AddStringToObject(filter, "address", address) == NULL ||
            !cJSON_AddItemToObject(filter, "fromBlock", block_json(&from)) ||
            !cJSON_AddItemToObject(filter, "toBlock", block_json(&to))) {
                cJSON_Delete(filter);
                return NULL;
        }
        if (topic0 != NULL) {
                topics = append_or_drop(cJSON_CreateArray(), cJSON_CreateString(topic0));
                if (topics == NULL || !cJSON_AddItemToObject(filter, "topics", topics)) {
                        cJSON_Delete(topics);
                        cJSON_Delete(filter);
                        return NULL;
                }
        }
        return append_or_drop(cJSON_CreateArray(), filter);
}
