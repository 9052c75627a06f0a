#include "fake_http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_HTTP_MAX_REQUEST (1 << 20)

struct fake_http {
        int listen_fd;
        pthread_t thread;
        pthread_mutex_t lock;
        int stop;
        uint64_t chain_id;
        char url[64];
        enum fake_http_mode mode;
        int status;
        char *body;
        unsigned fail_next;
        int fail_status;
        unsigned delay_ms;
        unsigned requests;
        unsigned connections;
        char *extra_headers; /* fake_http_set_headers */
        char *last_head;     /* the last request read */
        char *last_body;
};

static int stopping(struct fake_http *f)
{
        int s;

        pthread_mutex_lock(&f->lock);
        s = f->stop;
        pthread_mutex_unlock(&f->lock);
        return s;
}

/* Waits for `fd` to be readable; 0 when stopping or on timeout slices forever. */
static int wait_readable(struct fake_http *f, int fd)
{
        struct pollfd pfd = {fd, POLLIN, 0};

        while (!stopping(f)) {
                int r = poll(&pfd, 1, 20);

                if (r > 0)
                        return 1;
                if (r < 0)
                        return 0;
        }
        return 0;
}

static int send_all(int fd, const char *p, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Keeps a copy of the last request's head and body (fake_http_last_request). */
static void remember(struct fake_http *f, const char *buf, size_t header_len, const char *body)
{
        char *head = strndup(buf, header_len), *copy = strdup(body);

        pthread_mutex_lock(&f->lock);
        free(f->last_head);
        free(f->last_body);
        f->last_head = head;
        f->last_body = copy;
        pthread_mutex_unlock(&f->lock);
}

/* Reads one HTTP request; returns its body (caller frees) or NULL when the peer left. */
static char *read_request(struct fake_http *f, int fd)
{
        static const size_t cap = FAKE_HTTP_MAX_REQUEST;
        char *buf = malloc(cap + 1);
        size_t len = 0, need = 0;
        char *body = NULL;

        if (buf == NULL)
                return NULL;
        for (;;) {
                char *end;
                ssize_t n;

                buf[len] = '\0';
                end = strstr(buf, "\r\n\r\n");
                if (end != NULL) {
                        char *cl = strstr(buf, "Content-Length:");
                        size_t header = (size_t)(end + 4 - buf);

                        need = header + (cl ? strtoul(cl + 15, NULL, 10) : 0);
                        if (need > cap)
                                break;
                        if (len >= need) {
                                body = strndup(buf + header, need - header);
                                if (body != NULL)
                                        remember(f, buf, header, body);
                                break;
                        }
                }
                if (len == cap || !wait_readable(f, fd))
                        break;
                n = recv(fd, buf + len, cap - len, 0);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        free(buf);
        return body;
}

static int respond(int fd, int status, const char *extra, const char *body, size_t promised)
{
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d Fake\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: keep-alive\r\n%s\r\n",
                         status, promised, extra);

        if (n < 0 || (size_t)n >= sizeof head || send_all(fd, head, (size_t)n) != 0)
                return -1;
        return send_all(fd, body, strlen(body));
}

/* Waits `ms`, in slices, unless the server is stopping. */
static void delay(struct fake_http *f, unsigned ms)
{
        while (ms > 0 && !stopping(f)) {
                unsigned slice = ms < 20 ? ms : 20;

                (void)poll(NULL, 0, (int)slice);
                ms -= slice;
        }
}

/* The FAKE_HTTP_RPC answer to a request body, for chain `chain_id`. Caller frees. */
static char *rpc_answer(const char *request, uint64_t chain_id)
{
        cJSON *req = cJSON_Parse(request);
        cJSON *out = NULL;
        char *text = NULL;
        int i, n;

        if (req == NULL)
                return strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                              "\"message\":\"Parse error\"}}");
        n = cJSON_IsArray(req) ? cJSON_GetArraySize(req) : 1;
        out = cJSON_IsArray(req) ? cJSON_CreateArray() : NULL;
        for (i = n - 1; i >= 0; i--) {
                const cJSON *r = cJSON_IsArray(req) ? cJSON_GetArrayItem(req, i) : req;
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
                const cJSON *method = cJSON_GetObjectItemCaseSensitive(r, "method");
                cJSON *o = cJSON_CreateObject();
                char value[32];

                if (cJSON_IsString(method) && strcmp(method->valuestring, "eth_chainId") == 0)
                        snprintf(value, sizeof value, "0x%llx", (unsigned long long)chain_id);
                else
                        snprintf(
                                value, sizeof value, "0x%llx",
                                (unsigned long long)(cJSON_IsNumber(id) ? id->valuedouble + 1 : 0));
                cJSON_AddStringToObject(o, "jsonrpc", "2.0");
                cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
                cJSON_AddStringToObject(o, "result", value);
                if (out != NULL)
                        cJSON_AddItemToArray(out, o);
                else
                        out = o;
        }
        text = cJSON_PrintUnformatted(out);
        cJSON_Delete(out);
        cJSON_Delete(req);
        return text;
}

/* Serves requests on one connection until the peer leaves or a mode ends it. */
static void serve_connection(struct fake_http *f, int fd)
{
        char *request;

        while ((request = read_request(f, fd)) != NULL) {
                enum fake_http_mode mode;
                int status, fail = 0, rc = 0;
                char *body, *extra, *answer = NULL;
                uint64_t chain_id;
                unsigned wait_ms;

                pthread_mutex_lock(&f->lock);
                f->requests++;
                mode = f->mode;
                status = f->status;
                body = strdup(f->body ? f->body : "");
                extra = strdup(f->extra_headers ? f->extra_headers : "");
                if (f->fail_next > 0) {
                        f->fail_next--;
                        fail = f->fail_status;
                }
                chain_id = f->chain_id;
                wait_ms = f->delay_ms;
                pthread_mutex_unlock(&f->lock);

                if (mode != FAKE_HTTP_HANG)
                        delay(f, wait_ms);

                if (body == NULL || extra == NULL) {
                        rc = -1;
                } else if (fail) {
                        rc = respond(fd, fail, extra, "", 0);
                } else {
                        switch (mode) {
                        case FAKE_HTTP_RPC:
                                answer = rpc_answer(request, chain_id);
                                rc = answer ? respond(fd, 200, extra, answer, strlen(answer)) : -1;
                                break;
                        case FAKE_HTTP_REPLY:
                                rc = respond(fd, status, extra, body, strlen(body));
                                break;
                        case FAKE_HTTP_TRUNCATE:
                                respond(fd, status, extra, body, strlen(body) + 50);
                                rc = -1;
                                break;
                        case FAKE_HTTP_CLOSE:
                                rc = -1;
                                break;
                        case FAKE_HTTP_HANG:
                                while (!stopping(f) && wait_readable(f, fd)) {
                                        char sink[256];

                                        if (recv(fd, sink, sizeof sink, 0) <= 0)
                                                break;
                                }
                                rc = -1;
                                break;
                        }
                }
                free(answer);
                free(extra);
                free(body);
                free(request);
                if (rc != 0)
                        break;
        }
}

static void *serve(void *arg)
{
        struct fake_http *f = arg;

        while (wait_readable(f, f->listen_fd)) {
                int fd = accept(f->listen_fd, NULL, NULL), one = 1;

                if (fd < 0)
                        continue;
                /* headers and body go out in two sends: without this, Nagle holds the
                   body for the client's delayed ACK, 40 ms an answer */
                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                pthread_mutex_lock(&f->lock);
                f->connections++;
                pthread_mutex_unlock(&f->lock);
                serve_connection(f, fd);
                close(fd);
        }
        return NULL;
}

struct fake_http *fake_http_start(uint64_t chain_id)
{
        struct fake_http *f = calloc(1, sizeof *f);
        struct sockaddr_in addr;
        socklen_t alen = sizeof addr;

        if (f == NULL)
                return NULL;
        pthread_mutex_init(&f->lock, NULL);
        f->chain_id = chain_id;
        f->mode = FAKE_HTTP_RPC;
        f->status = 200;
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
            listen(f->listen_fd, 16) != 0 ||
            getsockname(f->listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
                if (f->listen_fd >= 0)
                        close(f->listen_fd);
                pthread_mutex_destroy(&f->lock);
                free(f);
                return NULL;
        }
        snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/", (unsigned)ntohs(addr.sin_port));
        if (pthread_create(&f->thread, NULL, serve, f) != 0) {
                close(f->listen_fd);
                pthread_mutex_destroy(&f->lock);
                free(f);
                return NULL;
        }
        return f;
}

void fake_http_stop(struct fake_http *f)
{
        if (f == NULL)
                return;
        pthread_mutex_lock(&f->lock);
        f->stop = 1;
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
        close(f->listen_fd);
        pthread_mutex_destroy(&f->lock);
        free(f->body);
        free(f->extra_headers);
        free(f->last_head);
        free(f->last_body);
        free(f);
}

const char *fake_http_url(const struct fake_http *f)
{
        return f->url;
}

void fake_http_set(struct fake_http *f, enum fake_http_mode mode, int status, const char *body)
{
        pthread_mutex_lock(&f->lock);
        f->mode = mode;
        f->status = status;
        free(f->body);
        f->body = body ? strdup(body) : NULL;
        pthread_mutex_unlock(&f->lock);
}

void fake_http_set_headers(struct fake_http *f, const char *lines)
{
        pthread_mutex_lock(&f->lock);
        free(f->extra_headers);
        f->extra_headers = lines != NULL && lines[0] != '\0' ? strdup(lines) : NULL;
        pthread_mutex_unlock(&f->lock);
}

int fake_http_last_request(struct fake_http *f, char **head, char **body)
{
        pthread_mutex_lock(&f->lock);
        *head = f->last_head != NULL ? strdup(f->last_head) : NULL;
        *body = f->last_body != NULL ? strdup(f->last_body) : NULL;
        pthread_mutex_unlock(&f->lock);
        if (*head == NULL || *body == NULL) {
                free(*head);
                free(*body);
                *head = *body = NULL;
                return -1;
        }
        return 0;
}

void fake_http_fail_next(struct fake_http *f, unsigned n, int status)
{
        pthread_mutex_lock(&f->lock);
        f->fail_next = n;
        f->fail_status = status;
        pthread_mutex_unlock(&f->lock);
}

void fake_http_set_delay(struct fake_http *f, unsigned ms)
{
        pthread_mutex_lock(&f->lock);
        f->delay_ms = ms;
        pthread_mutex_unlock(&f->lock);
}

void fake_http_set_chain_id(struct fake_http *f, uint64_t chain_id)
{
        pthread_mutex_lock(&f->lock);
        f->chain_id = chain_id;
        pthread_mutex_unlock(&f->lock);
}

unsigned fake_http_requests(struct fake_http *f)
{
        unsigned n;

        pthread_mutex_lock(&f->lock);
        n = f->requests;
        pthread_mutex_unlock(&f->lock);
        return n;
}

unsigned fake_http_connections(struct fake_http *f)
{
        unsigned n;

        pthread_mutex_lock(&f->lock);
        n = f->connections;
        pthread_mutex_unlock(&f->lock);
        return n;
}
