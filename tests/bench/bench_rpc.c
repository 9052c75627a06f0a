/*
 * bench_rpc: 100 reads from a local anvil, as one batched JSON-RPC request
 * against 100 single requests over the same kept-alive connection. Rounds
 * alternate between the two so both see the same machine load; the medians
 * and their ratio are printed:
 *   batch of 100:      median 4.1 ms over 30 rounds
 *   100 single calls:  median 61.0 ms over 30 rounds
 *   ratio: batch is 14.9x faster
 * Usage: bench_rpc STACK_ENV [ROUNDS [RTT_MS]]   (STACK_ENV: a stack.env of scripts/stack-up)
 *
 * On loopback a round trip costs ~0.1 ms, far less than anvil's own work
 * per call, while a hosted provider is tens of milliseconds away. RTT_MS > 0
 * puts a relay in front of anvil that holds every chunk for RTT_MS / 2 in
 * each direction, so the cost of round trips shows as it does in production.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "rpc.h"
#include "rwerr.h"
#include "stack_env.h"

#define READS 100

/* The latency relay: one client connection at a time, forwarded to anvil. */
struct relay {
        int listen_fd;
        struct sockaddr_in upstream;
        long half_rtt_ms;
        char url[64];
};

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* Moves one chunk from `from` to `to` after the one-way delay; 0 when `from` closed. */
static int forward(const struct relay *r, int from, int to)
{
        char buf[65536];
        ssize_t n = recv(from, buf, sizeof buf, 0);
        ssize_t off = 0;

        if (n <= 0)
                return 0;
        sleep_ms(r->half_rtt_ms);
        while (off < n) {
                ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

                if (w <= 0)
                        return 0;
                off += w;
        }
        return 1;
}

static void *relay_main(void *arg)
{
        struct relay *r = arg;

        for (;;) {
                int client = accept(r->listen_fd, NULL, NULL);
                int up = socket(AF_INET, SOCK_STREAM, 0);
                struct pollfd pfd[2];

                if (client < 0 || up < 0 ||
                    connect(up, (struct sockaddr *)&r->upstream, sizeof r->upstream) != 0) {
                        fprintf(stderr, "bench_rpc: relay cannot reach anvil\n");
                        exit(1);
                }
                pfd[0] = (struct pollfd){client, POLLIN, 0};
                pfd[1] = (struct pollfd){up, POLLIN, 0};
                while (poll(pfd, 2, -1) > 0) {
                        if ((pfd[0].revents & (POLLIN | POLLHUP)) && !forward(r, client, up))
                                break;
                        if ((pfd[1].revents & (POLLIN | POLLHUP)) && !forward(r, up, client))
                                break;
                }
                close(client);
                close(up);
        }
        return NULL;
}

/* Starts a relay to the anvil at `url` (http://127.0.0.1:PORT); returns its URL. */
static const char *relay_start(struct relay *r, const char *url, long rtt_ms)
{
        struct sockaddr_in addr;
        socklen_t len = sizeof addr;
        const char *prefix = "http://127.0.0.1:";
        unsigned long port = 0;
        pthread_t thread;
        char *end = NULL;

        if (strncmp(url, prefix, strlen(prefix)) == 0)
                port = strtoul(url + strlen(prefix), &end, 10);
        if (port == 0 || port > 65535 || end == NULL || (*end != '\0' && *end != '/')) {
                fprintf(stderr, "bench_rpc: the relay needs an http://127.0.0.1:PORT URL\n");
                exit(1);
        }
        memset(&r->upstream, 0, sizeof r->upstream);
        r->upstream.sin_family = AF_INET;
        r->upstream.sin_port = htons((uint16_t)port);
        r->upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r->half_rtt_ms = rtt_ms / 2;
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
            listen(r->listen_fd, 4) != 0 ||
            getsockname(r->listen_fd, (struct sockaddr *)&addr, &len) != 0 ||
            pthread_create(&thread, NULL, relay_main, r) != 0) {
                fprintf(stderr, "bench_rpc: cannot start the latency relay\n");
                exit(1);
        }
        pthread_detach(thread);
        snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
        return r->url;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* balanceOf(holder i) calldata, for READS distinct holders. */
static void calldata(int i, char *out, size_t cap)
{
        struct abi_call call;
        uint8_t holder[ABI_ADDRESS_BYTES] = {0};

        holder[18] = (uint8_t)(i >> 8);
        holder[19] = (uint8_t)i;
        abi_call_init(&call, "balanceOf(address)");
        if (abi_call_add_address(&call, holder) != RW_OK || abi_call_hex(&call, out, cap) == 0) {
                fprintf(stderr, "bench_rpc: cannot encode calldata\n");
                exit(1);
        }
}

static int add_read(struct rpc_batch *b, const char *token, const struct rpc_block *at, int i,
                    struct rwerr *err)
{
        char data[2 + 2 * 36 + 1];

        calldata(i, data, sizeof data);
        return rpc_batch_add(b, "eth_call", rpc_params_eth_call(token, data, at), err);
}

static void check(int rc, const struct rwerr *err)
{
        if (rc < 0) {
                fprintf(stderr, "bench_rpc: %s\n", err->msg);
                exit(1);
        }
}

int main(int argc, char **argv)
{
        struct rpc_config cfg = {0};
        struct stack_env *env;
        struct rpc_client *c;
        struct rpc_batch *batch, *single[READS];
        struct rpc_block at = {NULL, 0};
        struct rwerr err;
        const char *token;
        double *t_batch, *t_single;
        int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 30;
        long rtt_ms = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
        struct relay relay;
        int r, i;

        if (argc < 2 || rounds < 1 || rtt_ms < 0) {
                fprintf(stderr, "usage: bench_rpc STACK_ENV [ROUNDS [RTT_MS]]\n");
                return 64;
        }
        env = stack_env_load(argv[1], &err);
        if (env == NULL) {
                fprintf(stderr, "bench_rpc: %s\n", err.msg);
                return 1;
        }
        cfg.url = stack_env_get(env, "SOURCE_RPC_URL");
        if (rtt_ms > 0)
                cfg.url = relay_start(&relay, cfg.url, rtt_ms);
        token = stack_env_get(env, "SIGIL_ADDRESS");
        at.number = strtoull(stack_env_get(env, "SOURCE_READY_BLOCK"), NULL, 10);
        c = rpc_client_new(&cfg, &err);
        batch = rpc_batch_new();
        t_batch = calloc((size_t)rounds, sizeof *t_batch);
        t_single = calloc((size_t)rounds, sizeof *t_single);
        if (c == NULL || batch == NULL || t_batch == NULL || t_single == NULL) {
                fprintf(stderr, "bench_rpc: setup failed\n");
                free(t_batch);
                free(t_single);
                return 1;
        }
        for (i = 0; i < READS; i++) {
                check(add_read(batch, token, &at, i, &err), &err);
                single[i] = rpc_batch_new();
                check(single[i] ? add_read(single[i], token, &at, i, &err) : -1, &err);
        }
        /* Warm up the connection and anvil's caches. */
        check(rpc_batch_send(c, batch, &err), &err);
        for (r = 0; r < rounds; r++) {
                double t0 = now_ms();

                check(rpc_batch_send(c, batch, &err), &err);
                t_batch[r] = now_ms() - t0;
                t0 = now_ms();
                for (i = 0; i < READS; i++)
                        check(rpc_batch_send(c, single[i], &err), &err);
                t_single[r] = now_ms() - t0;
        }
        qsort(t_batch, (size_t)rounds, sizeof *t_batch, cmp_double);
        qsort(t_single, (size_t)rounds, sizeof *t_single, cmp_double);
        printf("round-trip time added: %ld ms\n", rtt_ms);
        printf("batch of %d:      median %.2f ms over %d rounds (min %.2f, max %.2f)\n", READS,
               t_batch[rounds / 2], rounds, t_batch[0], t_batch[rounds - 1]);
        printf("%d single calls:  median %.2f ms over %d rounds (min %.2f, max %.2f)\n", READS,
               t_single[rounds / 2], rounds, t_single[0], t_single[rounds - 1]);
        printf("ratio: batch is %.1fx faster\n", t_single[rounds / 2] / t_batch[rounds / 2]);
        for (i = 0; i < READS; i++)
                rpc_batch_free(single[i]);
        rpc_batch_free(batch);
        rpc_client_free(c);
        free(t_batch);
        free(t_single);
        stack_env_free(env);
        return 0;
}
