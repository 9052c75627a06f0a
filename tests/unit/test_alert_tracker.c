/*
 * test_alert_tracker: verdicts and findings in, alert events out, once.
 *
 * The sender is replaced at link time (--wrap=alert_sender_submit,
 * --wrap=alert_sender_take_failures) by a recorder, and the clocks
 * (--wrap=rwclock_mono_ms, --wrap=rwclock_wall_ms) by a hand the test
 * moves, so the flap window and the re-page timer are tested without
 * sleeping. The state directory is real: the open alerts survive a
 * "restart" (a new tracker on the same directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "alert_sender.h"
#include "alert_tracker.h"
#include "config.h"
#include "cycle_result.h"
#include "finding.h"
#include "jsonlog.h"
#include "silence.h"

/* ------------------------------------------------------------ the hand on the clock */

#define MONO_START 1000000u
#define WALL_START 1764720000000 /* 2025-12-03 00:00 UTC */

static uint64_t mono_now = MONO_START;
static int64_t wall_now = WALL_START;

uint64_t __wrap_rwclock_mono_ms(void);
int64_t __wrap_rwclock_wall_ms(void);

uint64_t __wrap_rwclock_mono_ms(void)
{
        return mono_now;
}

int64_t __wrap_rwclock_wall_ms(void)
{
        return wall_now;
}

static void advance(uint64_t ms)
{
        mono_now += ms;
        wall_now += (int64_t)ms;
}

/* ------------------------------------------------------------ the recording sender */

#define SENT_MAX 64

static struct alert sent[SENT_MAX]; /* routed by severity */
static size_t nsent;
static struct alert resent[SENT_MAX]; /* to one route by name (Alertmanager re-sends) */
static char resent_route[SENT_MAX][64];
static size_t nresent;
static int queue_full;
static struct alert_route_change pending_change;
static int change_waiting;

int __wrap_alert_sender_submit(struct alert_sender *s, const struct alert *a, const char *route);
size_t __wrap_alert_sender_take_failures(struct alert_sender *s, struct alert_route_change *out,
                                         size_t cap);

int __wrap_alert_sender_submit(struct alert_sender *s, const struct alert *a, const char *route)
{
        (void)s;
        if (queue_full)
                return RW_ERR_RANGE;
        if (route != NULL) {
                assert_true(nresent < SENT_MAX);
                assert_int_equal(alert_copy(&resent[nresent], a), RW_OK);
                (void)snprintf(resent_route[nresent], sizeof resent_route[nresent], "%s", route);
                nresent++;
                return RW_OK;
        }
        assert_true(nsent < SENT_MAX);
        assert_int_equal(alert_copy(&sent[nsent], a), RW_OK);
        nsent++;
        return RW_OK;
}

size_t __wrap_alert_sender_take_failures(struct alert_sender *s, struct alert_route_change *out,
                                         size_t cap)
{
        (void)s;
        if (!change_waiting || cap == 0)
                return 0;
        out[0] = pending_change;
        change_waiting = 0;
        return 1;
}

static void forget_sent(void)
{
        size_t i;

        for (i = 0; i < nsent; i++)
                alert_release(&sent[i]);
        for (i = 0; i < nresent; i++)
                alert_release(&resent[i]);
        nsent = nresent = 0;
}

/* ------------------------------------------------------------ fixtures */

struct fixture {
        char dir[64];
        struct config cfg;
        struct config_alert_route routes[2];
        struct alert_tracker *t;
        struct alert_sender *fake_sender; /* never dereferenced: the wrap records */
        FILE *log;
        char *logged;
        size_t loglen;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        mono_now = MONO_START; /* every test begins at midnight */
        wall_now = WALL_START;
        (void)snprintf(f->dir, sizeof f->dir, "/tmp/rw-tracker-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->cfg.state_dir = f->dir;
        f->cfg.watchdog_id = "test";
        f->cfg.flap_window_s = 60;
        f->cfg.repage_s = 300;
        f->cfg.runbook_url = "https://runbooks.example/";
        f->cfg.report_minute = 480;
        (void)snprintf(f->routes[0].name, sizeof f->routes[0].name, "pager");
        f->routes[0].type = RECEIVER_PAGERDUTY;
        f->routes[0].severities = 1u << FINDING_CRITICAL;
        (void)snprintf(f->routes[1].name, sizeof f->routes[1].name, "am");
        f->routes[1].type = RECEIVER_ALERTMANAGER;
        f->routes[1].severities = (1u << FINDING_CRITICAL) | (1u << FINDING_ERROR);
        f->routes[1].resend_s = 60;
        f->cfg.routes = f->routes;
        f->cfg.nroutes = 2;
        f->fake_sender = (struct alert_sender *)f;
        f->log = open_memstream(&f->logged, &f->loglen);
        assert_non_null(f->log);
        jsonlog_set_output(f->log);
        f->t = alert_tracker_new(&f->cfg, f->fake_sender, NULL);
        assert_non_null(f->t);
        queue_full = 0;
        change_waiting = 0;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        alert_tracker_free(f->t);
        forget_sent();
        jsonlog_set_output(stderr);
        (void)fclose(f->log);
        free(f->logged);
        (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

/* A cycle result with one verdict; subjects is a comma-free list joined by '|', or NULL. */
struct result {
        struct cycle_result r;
        struct verdict v[1];
};

static void make_result(struct result *res, const char *invariant, enum verdict_tier tier,
                        enum verdict_status status, const char *summary, const char *subjects)
{
        memset(res, 0, sizeof *res);
        res->v[0].invariant = invariant;
        res->v[0].tier = tier;
        res->v[0].status = status;
        res->v[0].mode = INVARIANT_ENFORCE;
        (void)snprintf(res->v[0].summary, sizeof res->v[0].summary, "%s", summary);
        res->v[0].evidence = cJSON_CreateObject();
        if (subjects != NULL) {
                cJSON *arr = cJSON_AddArrayToObject(res->v[0].evidence, "subjects");
                char buf[256], *save = NULL, *tok;

                (void)snprintf(buf, sizeof buf, "%s", subjects);
                for (tok = strtok_r(buf, "|", &save); tok != NULL; tok = strtok_r(NULL, "|", &save))
                        cJSON_AddItemToArray(arr, cJSON_CreateString(tok));
        }
        res->r.verdicts = res->v;
        res->r.nverdicts = 1;
}

static void observe(struct fixture *f, const char *invariant, enum verdict_tier tier,
                    enum verdict_status status, const char *summary, const char *subjects,
                    const char *halt_id)
{
        struct alert_halt_ref ref = {invariant, halt_id};
        struct result res;

        make_result(&res, invariant, tier, status, summary, subjects);
        alert_tracker_observe(f->t, &res.r, halt_id != NULL ? &ref : NULL, halt_id != NULL,
                              "rw-cycle");
        cJSON_Delete(res.v[0].evidence);
}

/* ------------------------------------------------------------ tests */

/* One page per subject, not one per cycle; a resolve after the flap window, same key. */
static void once_per_subject(void **state)
{
        struct fixture *f = *state;

        observe(f, "QUEUE_BUILDUP", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "lag 200",
                "stream a|stream b", NULL);
        assert_int_equal(nsent, 2);
        assert_string_equal(sent[0].dedup_key, "QUEUE_BUILDUP/stream_a");
        assert_string_equal(sent[1].dedup_key, "QUEUE_BUILDUP/stream_b");
        assert_int_equal(sent[0].state, ALERT_FIRING);
        assert_int_equal(sent[0].update, 0);
        assert_int_equal(sent[0].severity, FINDING_WARNING);
        assert_string_equal(sent[0].runbook_url, "https://runbooks.example/QUEUE_BUILDUP.md");
        /* the next cycles: the same incident, nothing new (the figure moves, but too soon) */
        advance(5000);
        observe(f, "QUEUE_BUILDUP", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "lag 210",
                "stream a|stream b", NULL);
        assert_int_equal(nsent, 2);
        /* stream b recovers: only its alert starts to clear */
        observe(f, "QUEUE_BUILDUP", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "lag 200", "stream a",
                NULL);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2); /* the flap window has not passed */
        advance(60000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 3);
        assert_string_equal(sent[2].dedup_key, "QUEUE_BUILDUP/stream_b");
        assert_int_equal(sent[2].state, ALERT_RESOLVED);
        assert_int_equal(sent[2].seq, sent[1].seq);
}

/* ok / violated / ok inside the window is one alert: no second page. */
static void flapping_does_not_repage(void **state)
{
        struct fixture *f = *state;

        observe(f, "RPC_TIMEOUT", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "slow", "chain source",
                NULL);
        assert_int_equal(nsent, 1);
        assert_int_equal(sent[0].severity, FINDING_ERROR);
        observe(f, "RPC_TIMEOUT", VERDICT_TIER_ALERT, VERDICT_OK, "fine", NULL, NULL);
        advance(30000);
        alert_tracker_tick(f->t);
        observe(f, "RPC_TIMEOUT", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "slow", "chain source",
                NULL);
        observe(f, "RPC_TIMEOUT", VERDICT_TIER_ALERT, VERDICT_OK, "fine", NULL, NULL);
        advance(30000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1); /* the window began again at the second ok */
        /* could-not-evaluate changes nothing */
        observe(f, "RPC_TIMEOUT", VERDICT_TIER_ALERT, VERDICT_UNKNOWN, "?", NULL, NULL);
        advance(30000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2);
        assert_int_equal(sent[1].state, ALERT_RESOLVED);
        assert_string_equal(sent[1].dedup_key, "RPC_TIMEOUT/chain_source");
}

/* A restart reads the open alerts back: the condition still standing is not paged again. */
static void restart_does_not_repage(void **state)
{
        struct fixture *f = *state;

        observe(f, "SUPPLY_MISMATCH", VERDICT_TIER_HALT, VERDICT_VIOLATED, "SIGIL: 5 minted",
                "asset SIGIL", "h-1");
        assert_int_equal(nsent, 1);
        assert_int_equal(sent[0].severity, FINDING_CRITICAL);
        assert_string_equal(sent[0].halt_id, "h-1");
        alert_tracker_free(f->t);
        f->t = alert_tracker_new(&f->cfg, f->fake_sender, NULL);
        assert_non_null(f->t);
        observe(f, "SUPPLY_MISMATCH", VERDICT_TIER_HALT, VERDICT_VIOLATED, "SIGIL: 5 minted",
                "asset SIGIL", "h-1");
        assert_int_equal(nsent, 1);
}

/* A Tier 1 alert resolves only after its HALT is lifted, even when the verdict is ok. */
static void tier1_resolves_after_the_halt(void **state)
{
        struct fixture *f = *state;

        observe(f, "SUPPLY_MISMATCH", VERDICT_TIER_HALT, VERDICT_VIOLATED, "SIGIL: 5 minted",
                "asset SIGIL", "h-1");
        /* mended, but the relayer is still halted */
        observe(f, "SUPPLY_MISMATCH", VERDICT_TIER_HALT, VERDICT_OK, "fine", NULL, "h-1");
        advance(120000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
        /* resumed: no HALT in force */
        observe(f, "SUPPLY_MISMATCH", VERDICT_TIER_HALT, VERDICT_OK, "fine", NULL, NULL);
        advance(1000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2);
        assert_int_equal(sent[1].state, ALERT_RESOLVED);
        assert_string_equal(sent[1].dedup_key, sent[0].dedup_key);
}

/* HALT_NOT_ACKNOWLEDGED re-pages the alert behind the HALT, then every repage_s. */
static void halt_not_acknowledged_repages(void **state)
{
        struct fixture *f = *state;
        struct finding fd;

        observe(f, "NONCE_DESYNC", VERDICT_TIER_HALT, VERDICT_VIOLATED, "account out of step",
                "account 0xabc", "h-7");
        memset(&fd, 0, sizeof fd);
        fd.kind = "HALT_NOT_ACKNOWLEDGED";
        fd.severity = FINDING_CRITICAL;
        fd.summary = "the relayer has not acknowledged HALT h-7";
        fd.correlation_id = "rw-x";
        fd.halt_id = "h-7";
        alert_tracker_sink(f->t, &fd);
        assert_int_equal(nsent, 2);
        assert_string_equal(sent[1].dedup_key, sent[0].dedup_key);
        assert_int_equal(sent[1].update, 1);
        assert_non_null(strstr(sent[1].summary, "HALT_NOT_ACKNOWLEDGED"));
        advance(299000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2);
        advance(1000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 3);
        assert_int_equal(sent[2].update, 1);
        /* acknowledged: the re-pages stop */
        memset(&fd, 0, sizeof fd);
        fd.kind = "HALT_NOT_ACKNOWLEDGED";
        fd.summary = "acknowledged";
        fd.subject = "h-7";
        fd.cleared = 1;
        alert_tracker_sink(f->t, &fd);
        advance(600000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 3);
}

/* HALT_PATH_DOWN, as halt control reports it with Redis down. */
static void halt_path_down(struct finding *fd)
{
        memset(fd, 0, sizeof *fd);
        fd->kind = "HALT_PATH_DOWN";
        fd->severity = FINDING_CRITICAL;
        fd->summary = "redis down";
        fd->correlation_id = "rw-1";
}

/* A finding opens its own alert and resolves when cleared. */
static void finding_open_and_clear(void **state)
{
        struct fixture *f = *state;
        struct finding fd;

        halt_path_down(&fd);
        alert_tracker_sink(f->t, &fd);
        alert_tracker_sink(f->t, &fd); /* the reminder: same alert */
        assert_int_equal(nsent, 1);
        assert_string_equal(sent[0].dedup_key, "HALT_PATH_DOWN");
        memset(&fd, 0, sizeof fd);
        fd.kind = "HALT_PATH_DOWN";
        fd.summary = "up again";
        fd.cleared = 1;
        alert_tracker_sink(f->t, &fd);
        advance(60000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2);
        assert_int_equal(sent[1].state, ALERT_RESOLVED);
}

/*
 * The process that opened HALT_PATH_DOWN died with it open: the new one
 * never saw it go down, so it never clears it. Loaded, it resolves after
 * the flap window unless the new process reports it again.
 */
static void halt_path_down_open_at_a_restart_resolves_unless_reported(void **state)
{
        struct fixture *f = *state;
        struct finding fd;

        halt_path_down(&fd);
        alert_tracker_sink(f->t, &fd);
        assert_int_equal(nsent, 1);

        /* restarted, and the path is still down: reported again, not resolved */
        alert_tracker_free(f->t);
        f->t = alert_tracker_new(&f->cfg, f->fake_sender, NULL);
        assert_non_null(f->t);
        alert_tracker_sink(f->t, &fd);
        advance(60000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);

        /* restarted again, with the path up: nothing reports it, it resolves */
        alert_tracker_free(f->t);
        f->t = alert_tracker_new(&f->cfg, f->fake_sender, NULL);
        assert_non_null(f->t);
        advance(59000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1); /* not before the flap window */
        advance(1000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2);
        assert_int_equal(sent[1].state, ALERT_RESOLVED);
        assert_string_equal(sent[1].dedup_key, "HALT_PATH_DOWN");
}

/* A silence holds the page, not the tracking; its end sends what still stands. */
static void silence_holds_the_page(void **state)
{
        struct fixture *f = *state;
        struct silence_set set;
        struct silence s;
        char path[128];

        memset(&set, 0, sizeof set);
        assert_int_equal(silence_add(&set, "QUEUE_BUILDUP", "", "maintenance", "tester", wall_now,
                                     3600000, &s, NULL),
                         RW_OK);
        assert_int_equal(silence_save(f->dir, &set, NULL), RW_OK);
        advance(1000);
        alert_tracker_tick(f->t); /* reads the silences */
        observe(f, "QUEUE_BUILDUP", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "lag", "stream a", NULL);
        assert_int_equal(nsent, 0);
        /* the silence is removed by hand: the alert that still stands is sent */
        (void)snprintf(path, sizeof path, "%s/silences.json", f->dir);
        assert_int_equal(unlink(path), 0);
        advance(1000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
        assert_string_equal(sent[0].dedup_key, "QUEUE_BUILDUP/stream_a");
}

/* A silence never holds the re-page that says the relayer may not have stopped. */
static void silence_never_holds_a_repage(void **state)
{
        struct fixture *f = *state;
        struct silence_set set;
        struct silence s;
        struct finding fd;

        memset(&set, 0, sizeof set);
        assert_int_equal(silence_add(&set, "SUPPLY_MISMATCH", "", "maintenance", "tester", wall_now,
                                     3600000, &s, NULL),
                         RW_OK);
        assert_int_equal(silence_save(f->dir, &set, NULL), RW_OK);
        advance(1000);
        alert_tracker_tick(f->t);
        observe(f, "SUPPLY_MISMATCH", VERDICT_TIER_HALT, VERDICT_VIOLATED, "SIGIL: 5 minted",
                "asset SIGIL", "h-9");
        assert_int_equal(nsent, 0); /* the page is held */
        memset(&fd, 0, sizeof fd);
        fd.kind = "HALT_NOT_ACKNOWLEDGED";
        fd.severity = FINDING_CRITICAL;
        fd.summary = "the relayer has not acknowledged HALT h-9";
        fd.correlation_id = "rw-x";
        fd.halt_id = "h-9";
        alert_tracker_sink(f->t, &fd);
        assert_int_equal(nsent, 1); /* the re-page is not */
        assert_string_equal(sent[0].dedup_key, "SUPPLY_MISMATCH/asset_SIGIL");
        assert_non_null(strstr(sent[0].summary, "HALT_NOT_ACKNOWLEDGED"));
}

/* A route that fails raises ALERT_DELIVERY_FAILED; its recovery resolves it. */
static void delivery_failure(void **state)
{
        struct fixture *f = *state;

        memset(&pending_change, 0, sizeof pending_change);
        (void)snprintf(pending_change.route, sizeof pending_change.route, "slack");
        (void)snprintf(pending_change.problem, sizeof pending_change.problem, "HTTP 404");
        pending_change.failing = 1;
        change_waiting = 1;
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
        assert_string_equal(sent[0].dedup_key, "ALERT_DELIVERY_FAILED/route_slack");
        assert_int_equal(sent[0].severity, FINDING_ERROR);
        pending_change.failing = 0;
        change_waiting = 1;
        alert_tracker_tick(f->t);
        advance(60000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 2);
        assert_int_equal(sent[1].state, ALERT_RESOLVED);
}

/* A full send queue loses nothing: the event waits and goes at the next tick. */
static void full_queue_waits(void **state)
{
        struct fixture *f = *state;

        queue_full = 1;
        observe(f, "HIGH_LATENCY", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "slow", "relayer", NULL);
        assert_int_equal(nsent, 0);
        queue_full = 0;
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
        assert_string_equal(sent[0].dedup_key, "HIGH_LATENCY/relayer");
}

/* Alertmanager routes get the firing alert again every resend_s, by name. */
static void alertmanager_resend(void **state)
{
        struct fixture *f = *state;

        observe(f, "RPC_TIMEOUT", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "slow", "chain source",
                NULL);
        assert_int_equal(nsent, 1);
        advance(59000);
        alert_tracker_tick(f->t);
        assert_int_equal(nresent, 0);
        advance(1000);
        alert_tracker_tick(f->t);
        assert_int_equal(nresent, 1);
        assert_int_equal(nsent, 1); /* nobody else hears it again */
        assert_string_equal(resent_route[0], "am");
        assert_string_equal(resent[0].dedup_key, sent[0].dedup_key);
        assert_int_equal(resent[0].update, 1);
        /* a WARNING is not for this route: never re-sent there */
        observe(f, "QUEUE_BUILDUP", VERDICT_TIER_ALERT, VERDICT_VIOLATED, "lag", "stream a", NULL);
        advance(60000);
        alert_tracker_tick(f->t);
        assert_int_equal(nresent, 2);
        assert_string_equal(resent[1].dedup_key, sent[0].dedup_key);
}

/* A HALT with no alert behind it (a manual one) that nobody acknowledges pages on its own. */
static void manual_halt_not_acknowledged(void **state)
{
        struct fixture *f = *state;
        struct finding fd;

        memset(&fd, 0, sizeof fd);
        fd.kind = "HALT_NOT_ACKNOWLEDGED";
        fd.severity = FINDING_CRITICAL;
        fd.summary = "the relayer has not acknowledged HALT m-1";
        fd.correlation_id = "rw-x";
        fd.halt_id = "m-1";
        alert_tracker_sink(f->t, &fd);
        assert_int_equal(nsent, 1);
        assert_string_equal(sent[0].dedup_key, "HALT_NOT_ACKNOWLEDGED/m-1");
        assert_int_equal(sent[0].update, 0);
}

/* The daily report goes out once a day at report_at, not at the first start. */
static void daily_report_once_a_day(void **state)
{
        struct fixture *f = *state;

        advance(8ull * 3600 * 1000); /* 08:00 on the day relaywatch started */
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 0);
        advance(24ull * 3600 * 1000 - 60000); /* 07:59 the next day */
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 0);
        advance(60000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
        assert_int_equal(sent[0].purpose, ALERT_REPORT);
        assert_int_equal(sent[0].severity, FINDING_INFO);
        assert_non_null(sent[0].details_json);
        assert_non_null(strstr(sent[0].details_json, "\"text\""));
        advance(3600ull * 1000);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
        /* a restart the same day does not send it again */
        alert_tracker_free(f->t);
        f->t = alert_tracker_new(&f->cfg, f->fake_sender, NULL);
        alert_tracker_tick(f->t);
        assert_int_equal(nsent, 1);
}

/* An alerts file that is not one is set aside, not trusted and not lost. */
static void unreadable_state_set_aside(void **state)
{
        struct fixture *f = *state;
        char path[128], aside[160];
        FILE *fp;
        struct stat st;

        alert_tracker_free(f->t);
        (void)snprintf(path, sizeof path, "%s/alerts.json", f->dir);
        (void)snprintf(aside, sizeof aside, "%s.unreadable", path);
        fp = fopen(path, "w");
        assert_non_null(fp);
        (void)fputs("{\"alerts\": 7}", fp);
        (void)fclose(fp);
        f->t = alert_tracker_new(&f->cfg, f->fake_sender, NULL);
        assert_non_null(f->t);
        assert_int_equal(stat(aside, &st), 0);
        (void)fflush(f->log);
        assert_non_null(strstr(f->logged, "alert_state_unreadable"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(once_per_subject, setup, teardown),
                cmocka_unit_test_setup_teardown(flapping_does_not_repage, setup, teardown),
                cmocka_unit_test_setup_teardown(restart_does_not_repage, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        halt_path_down_open_at_a_restart_resolves_unless_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(tier1_resolves_after_the_halt, setup, teardown),
                cmocka_unit_test_setup_teardown(halt_not_acknowledged_repages, setup, teardown),
                cmocka_unit_test_setup_teardown(finding_open_and_clear, setup, teardown),
                cmocka_unit_test_setup_teardown(silence_holds_the_page, setup, teardown),
                cmocka_unit_test_setup_teardown(silence_never_holds_a_repage, setup, teardown),
                cmocka_unit_test_setup_teardown(delivery_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(full_queue_waits, setup, teardown),
                cmocka_unit_test_setup_teardown(alertmanager_resend, setup, teardown),
                cmocka_unit_test_setup_teardown(unreadable_state_set_aside, setup, teardown),
                cmocka_unit_test_setup_teardown(manual_halt_not_acknowledged, setup, teardown),
                cmocka_unit_test_setup_teardown(daily_report_once_a_day, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
