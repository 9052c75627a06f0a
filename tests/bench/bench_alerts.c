/*
 * bench_alerts: alerts delivered per second by the alert sender.
 *
 * Usage: bench_alerts [ALERTS] [ROUTES]   (default 2000 alerts, 1 and 5 routes)
 *
 * Each route is a webhook (signed, the heaviest HTTP payload to build) to a
 * receiver of its own on loopback (tests/support/fake_http, answering 200
 * at once, keep-alive), so what is measured is relaywatch's side: queueing,
 * building and signing each payload, the transfer, judging the answer. The
 * alerts are updates of one open alert, which are not claimed in Redis
 * (openings are: a claim costs one Redis round trip more). Logging is
 * turned off, as in a quiet production run at the default level it is one
 * line per delivery. Prints, per route count: alerts, seconds, alerts/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "alert_sender.h"
#include "config.h"
#include "fake_http.h"
#include "jsonlog.h"
#include "rwclock.h"

#define ROUTES_MAX 8

static void pause_us(long us)
{
        struct timespec ts = {0, us * 1000};

        (void)nanosleep(&ts, NULL);
}

/* Deliveries so far over every route, from the sender's status. */
static double delivered(struct alert_sender *s)
{
        cJSON *st = cJSON_CreateObject(), *routes, *r;
        double n = 0;

        if (st == NULL || alert_sender_status_json(s, st) != 0) {
                cJSON_Delete(st);
                return -1;
        }
        routes = cJSON_GetObjectItemCaseSensitive(st, "alert_routes");
        cJSON_ArrayForEach(r, routes)
        {
                const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "delivered");

                if (cJSON_IsNumber(d))
                        n += d->valuedouble;
        }
        cJSON_Delete(st);
        return n;
}

static int run(unsigned nalerts, unsigned nroutes)
{
        struct fake_http *rcv[ROUTES_MAX] = {0};
        struct config_alert_route routes[ROUTES_MAX];
        char dir[] = "/tmp/rw-bench-alerts-XXXXXX", secret[] = "bench-webhook-secret-0123456789";
        char urls[ROUTES_MAX][64];
        struct config cfg;
        struct alert_sender *s = NULL;
        struct alert a;
        struct rwerr err;
        char details[] = "{\"lag\":250,\"pending\":12,\"group\":\"relayer\"}";
        uint64_t t0, t1;
        unsigned i, submitted = 0;
        int rc = 1;

        if (mkdtemp(dir) == NULL)
                return 1;
        memset(&cfg, 0, sizeof cfg);
        memset(routes, 0, sizeof routes);
        cfg.state_dir = dir;
        cfg.watchdog_id = "bench";
        cfg.alert_source = "bench";
        cfg.runbook_url = "https://runbooks.example/";
        cfg.spool_retry_s = 60;
        for (i = 0; i < nroutes; i++) {
                if ((rcv[i] = fake_http_start(1)) == NULL)
                        goto out;
                fake_http_set(rcv[i], FAKE_HTTP_REPLY, 200, "{\"ok\":true}");
                (void)snprintf(urls[i], sizeof urls[i], "%s", fake_http_url(rcv[i]));
                (void)snprintf(routes[i].name, sizeof routes[i].name, "hook%u", i);
                routes[i].type = RECEIVER_WEBHOOK;
                routes[i].severities = 1u << FINDING_WARNING;
                routes[i].url = urls[i];
                routes[i].secret = secret;
                routes[i].timeout_ms = 10000;
                routes[i].max_attempts = 6;
        }
        cfg.routes = routes;
        cfg.nroutes = nroutes;
        if ((s = alert_sender_new(&cfg, &err)) == NULL || alert_sender_start(s) != RW_OK) {
                fprintf(stderr, "bench_alerts: the sender did not start: %s\n", err.msg);
                goto out;
        }
        memset(&a, 0, sizeof a);
        (void)snprintf(a.name, sizeof a.name, "QUEUE_BUILDUP");
        (void)snprintf(a.subject, sizeof a.subject, "stream relayer:deposits");
        alert_dedup_key(a.name, a.subject, a.dedup_key);
        a.severity = FINDING_WARNING;
        a.update = 1;
        a.tier = 2;
        alert_set_runbook(&a, &cfg);
        a.details_json = details;
        t0 = rwclock_mono_us();
        while (submitted < nalerts) {
                a.at_ms = a.opened_ms = rwclock_wall_ms();
                (void)snprintf(a.summary, sizeof a.summary,
                               "stream relayer:deposits: group relayer lags by %u entries",
                               submitted);
                if (alert_sender_submit(s, &a, NULL) == RW_OK)
                        submitted++;
                else
                        (void)pause_us(200); /* the queue is full: let the sender drain it */
        }
        while (delivered(s) < (double)nalerts * nroutes)
                (void)pause_us(500);
        t1 = rwclock_mono_us();
        printf("%u route%s  %u alerts each  %.3f s  %.0f deliveries/s\n", nroutes,
               nroutes == 1 ? " " : "s", nalerts, (double)(t1 - t0) / 1e6,
               (double)nalerts * nroutes / ((double)(t1 - t0) / 1e6));
        rc = 0;
out:
        alert_sender_free(s, 1000);
        for (i = 0; i < nroutes; i++)
                fake_http_stop(rcv[i]);
        {
                char cmd[64];

                (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "bench_alerts: could not remove %s\n", dir);
        }
        return rc;
}

int main(int argc, char **argv)
{
        unsigned nalerts = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
        unsigned only = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;

        if (nalerts == 0 || only > ROUTES_MAX) {
                fprintf(stderr, "usage: bench_alerts [ALERTS] [ROUTES <= %d]\n", ROUTES_MAX);
                return 64;
        }
        jsonlog_set_min_level(JSONLOG_ERROR);
        if (only > 0)
                return run(nalerts, only);
        return run(nalerts, 1) != 0 || run(nalerts, 5) != 0;
}
