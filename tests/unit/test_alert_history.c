/*
 * Unit tests for watchdog/alert/alert_history: the lines appended (and
 * read back as alerts), rotation at ALERT_HISTORY_MAX_BYTES, and the
 * report of a window over a hand-made history in both files: alerts
 * matched with their resolves by dedup key and opening number, durations,
 * alerts open at the end, updates, silences, info events, delivery
 * failures, unreadable lines named, the Tier 3 figures of status.json.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "alert.h"
#include "alert_history.h"
#include "rwerr.h"
#include "silence.h"

#define MIN_MS ((int64_t)60 * 1000)
#define HOUR_MS ((int64_t)3600 * 1000)
#define DAY_MS ((int64_t)24 * HOUR_MS)
#define NOW ((int64_t)1800000000000) /* 2027-01-15T08:00:00Z */
#define SINCE (NOW - DAY_MS)

/* ------------------------------------------------------------ helpers */

struct dir {
        char path[64];
};

static struct dir dir_make(void)
{
        struct dir d = {"/tmp/test_alert_history.XXXXXX"};

        assert_non_null(mkdtemp(d.path));
        return d;
}

static void dir_remove(struct dir *d)
{
        static const char *const names[] = {"alert-history.jsonl", "alert-history.1.jsonl",
                                            "status.json", "silences.json"};
        char p[128];
        size_t i;

        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
                (void)snprintf(p, sizeof p, "%s/%s", d->path, names[i]);
                if (unlink(p) != 0)
                        (void)rmdir(p); /* the test that makes the history a directory */
        }
        assert_int_equal(rmdir(d->path), 0);
}

static void path_of(const struct dir *d, const char *name, char *out, size_t cap)
{
        (void)snprintf(out, cap, "%s/%s", d->path, name);
}

static void write_text(const struct dir *d, const char *name, const char *text, const char *mode)
{
        char p[128];
        FILE *f;

        path_of(d, name, p, sizeof p);
        f = fopen(p, mode);
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static char *read_text(const struct dir *d, const char *name)
{
        char p[128], *buf;
        FILE *f;
        long n;

        path_of(d, name, p, sizeof p);
        f = fopen(p, "r");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void assert_has(const char *got, const char *want)
{
        if (strstr(got, want) == NULL)
                fail_msg("expected '%s' in:\n%s", want, got);
}

static void assert_lacks(const char *got, const char *unwanted)
{
        if (strstr(got, unwanted) != NULL)
                fail_msg("did not expect '%s' in:\n%s", unwanted, got);
}

static struct alert make(const char *name, const char *subject, uint64_t seq,
                         enum finding_severity sev, int64_t opened_ms, int64_t at_ms,
                         const char *summary)
{
        struct alert a;

        memset(&a, 0, sizeof a);
        (void)snprintf(a.name, sizeof a.name, "%s", name);
        (void)snprintf(a.subject, sizeof a.subject, "%s", subject);
        alert_dedup_key(a.name, a.subject, a.dedup_key);
        a.severity = sev;
        a.tier = 1;
        a.seq = seq;
        a.opened_ms = opened_ms;
        a.at_ms = at_ms;
        (void)snprintf(a.summary, sizeof a.summary, "%s", summary);
        return a;
}

/* Appends one event of a made alert. */
static void event(const struct dir *d, const char *ev, const char *name, const char *subject,
                  uint64_t seq, int64_t opened_ms, int64_t at_ms, const char *summary)
{
        struct alert a = make(name, subject, seq, FINDING_ERROR, opened_ms, at_ms, summary);
        struct rwerr err;

        if (strcmp(ev, "resolved") == 0)
                a.state = ALERT_RESOLVED;
        if (strcmp(ev, "updated") == 0)
                a.update = 1;
        if (strcmp(ev, "info") == 0 || strcmp(ev, "delivery_failed") == 0) {
                a.severity = FINDING_INFO;
                a.tier = 0;
        }
        assert_int_equal(alert_history_append(d->path, ev, &a, &err), RW_OK);
}

static const cJSON *item(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (v == NULL)
                fail_msg("no \"%s\" in the report", key);
        return v;
}

static double num(const cJSON *o, const char *key)
{
        const cJSON *v = item(o, key);

        assert_true(cJSON_IsNumber(v));
        return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
        const cJSON *v = item(o, key);

        assert_true(cJSON_IsString(v));
        return v->valuestring;
}

/* The listed alert of `key` and `seq`; fails when there is none. */
static const cJSON *listed(const cJSON *report, const char *key, double seq)
{
        const cJSON *a;

        cJSON_ArrayForEach(a, item(report, "alerts"))
        {
                if (strcmp(str(a, "dedup_key"), key) == 0 && num(a, "seq") == seq)
                        return a;
        }
        fail_msg("alert %s #%.0f is not listed", key, seq);
        return NULL;
}

static int is_listed(const cJSON *report, const char *key)
{
        const cJSON *a;

        cJSON_ArrayForEach(a, item(report, "alerts"))
        {
                if (strcmp(str(a, "dedup_key"), key) == 0)
                        return 1;
        }
        return 0;
}

/* ------------------------------------------------------------ appending */

static void appended_lines_read_back(void **state)
{
        struct alert a = make("SUPPLY_MISMATCH", "asset SIGIL", 4, FINDING_CRITICAL, NOW - HOUR_MS,
                              NOW, "SIGIL: locked 10 < minted 11");
        struct alert back;
        struct rwerr err;
        struct stat st;
        struct dir d;
        char p[128], *text, *nl;
        cJSON *o;

        (void)state;
        d = dir_make();
        a.details_json = strdup("{\"locked\":\"10\"}");
        assert_non_null(a.details_json);
        assert_int_equal(alert_history_append(d.path, "opened", &a, &err), RW_OK);
        a.state = ALERT_RESOLVED;
        assert_int_equal(alert_history_append(d.path, "resolved", &a, &err), RW_OK);
        assert_int_equal(alert_history_append(d.path, "", &a, &err), RW_ERR_INVALID);
        path_of(&d, "alert-history.jsonl", p, sizeof p);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        text = read_text(&d, "alert-history.jsonl");
        nl = strchr(text, '\n');
        assert_non_null(nl);
        assert_string_equal(nl + 1 + strcspn(nl + 1, "\n"), "\n"); /* exactly two lines */
        *nl = '\0';
        o = cJSON_Parse(text);
        assert_non_null(o);
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "event")), "opened");
        assert_int_equal(alert_from_json(o, &back, &err), RW_OK);
        assert_string_equal(back.dedup_key, "SUPPLY_MISMATCH/asset_SIGIL");
        assert_int_equal(back.seq, 4);
        assert_int_equal(back.opened_ms, NOW - HOUR_MS);
        assert_string_equal(back.details_json, "{\"locked\":\"10\"}");
        alert_release(&back);
        cJSON_Delete(o);
        free(text);
        alert_release(&a);
        dir_remove(&d);
}

static void rotates_at_the_limit(void **state)
{
        struct alert a = make("X", "", 1, FINDING_ERROR, NOW, NOW, "x");
        struct rwerr err;
        struct stat st;
        struct dir d;
        char p[128], old[128], *text;
        int fd;

        (void)state;
        d = dir_make();
        path_of(&d, "alert-history.jsonl", p, sizeof p);
        path_of(&d, "alert-history.1.jsonl", old, sizeof old);
        /* one byte under the limit: the line goes in, past the limit */
        fd = open(p, O_WRONLY | O_CREAT, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, ALERT_HISTORY_MAX_BYTES - 1), 0);
        close(fd);
        assert_int_equal(alert_history_append(d.path, "opened", &a, &err), RW_OK);
        assert_int_equal(stat(old, &st), -1);
        assert_int_equal(stat(p, &st), 0);
        assert_true(st.st_size > ALERT_HISTORY_MAX_BYTES);
        /* at or past it: renamed first, the line begins a new file */
        assert_int_equal(alert_history_append(d.path, "updated", &a, &err), RW_OK);
        assert_int_equal(stat(old, &st), 0);
        assert_true(st.st_size > ALERT_HISTORY_MAX_BYTES);
        text = read_text(&d, "alert-history.jsonl");
        assert_has(text, "\"event\":\"updated\"");
        assert_lacks(text, "\"event\":\"opened\"");
        assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text)); /* one line */
        free(text);
        /* the next rotation replaces the old generation */
        fd = open(p, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, ALERT_HISTORY_MAX_BYTES), 0);
        close(fd);
        assert_int_equal(alert_history_append(d.path, "resolved", &a, &err), RW_OK);
        assert_int_equal(stat(old, &st), 0);
        assert_int_equal(st.st_size, ALERT_HISTORY_MAX_BYTES);
        dir_remove(&d);
}

/* ------------------------------------------------------------ the report */

/*
 * The history of the report tests, in both files:
 *   A  SUPPLY_MISMATCH asset SIGIL #1: opened -10h, updated -9h, resolved -8h (2h)
 *   A2 SUPPLY_MISMATCH asset SIGIL #2: opened -3h, still open
 *   B  RPC_TIMEOUT chain source #3: opened -2h, still open
 *   C  HIGH_LATENCY #1: opened -30h, resolved -29h: before the window
 *   D  QUEUE_BUILDUP #2: opened -40h, still open
 *   E  NONCE_DESYNC #1: opened -26h, resolved -1h (25h)
 *   F  DUPLICATE_BATCH #1: held by a silence -5h, resolved -4h
 *   G  GAS_ESTIMATE_MISS #1: opened after the report's end
 * plus info, silence and delivery events, and four unreadable lines.
 */
static void write_history(const struct dir *d)
{
        /* the older file first, as rotation leaves it */
        event(d, "opened", "QUEUE_BUILDUP", "", 2, NOW - 40 * HOUR_MS, NOW - 40 * HOUR_MS,
              "queue 120 > 10");
        event(d, "opened", "HIGH_LATENCY", "", 1, NOW - 30 * HOUR_MS, NOW - 30 * HOUR_MS, "slow");
        event(d, "resolved", "HIGH_LATENCY", "", 1, NOW - 30 * HOUR_MS, NOW - 29 * HOUR_MS,
              "resolved");
        event(d, "info", "HALT_LIFTED", "h-old", 0, NOW - 30 * HOUR_MS, NOW - 30 * HOUR_MS,
              "an old resume");
        event(d, "opened", "NONCE_DESYNC", "account 0x70", 1, NOW - 26 * HOUR_MS,
              NOW - 26 * HOUR_MS, "nonce 7 vs 9");
        {
                char cur[128], old[128];

                path_of(d, "alert-history.jsonl", cur, sizeof cur);
                path_of(d, "alert-history.1.jsonl", old, sizeof old);
                assert_int_equal(rename(cur, old), 0);
        }
        event(d, "opened", "SUPPLY_MISMATCH", "asset SIGIL", 1, NOW - 10 * HOUR_MS,
              NOW - 10 * HOUR_MS, "SIGIL: locked 100 < minted 101");
        event(d, "updated", "SUPPLY_MISMATCH", "asset SIGIL", 1, NOW - 10 * HOUR_MS,
              NOW - 9 * HOUR_MS, "SIGIL: locked 100 < minted 150");
        write_text(d, "alert-history.jsonl", "this is not json\n", "a");
        event(d, "resolved", "SUPPLY_MISMATCH", "asset SIGIL", 1, NOW - 10 * HOUR_MS,
              NOW - 8 * HOUR_MS, "resolved: clear for flap_window_s");
        event(d, "info", "HALT_LIFTED", "h-1", 0, NOW - 7 * HOUR_MS, NOW - 7 * HOUR_MS,
              "HALT h-1 (SUPPLY_MISMATCH) was lifted by an operator's RESUME");
        event(d, "info", "SILENCE_ADDED", "s-0123456789abcdef", 0, NOW - 6 * HOUR_MS,
              NOW - 6 * HOUR_MS, "silence s-0123456789abcdef added by alice");
        event(d, "silenced", "DUPLICATE_BATCH", "batch 12", 1, NOW - 5 * HOUR_MS, NOW - 5 * HOUR_MS,
              "batch 12 twice");
        event(d, "delivery_failed", "ALERT_DELIVERY_FAILED", "route team", 0, NOW - 5 * HOUR_MS,
              NOW - 5 * HOUR_MS, "slack route team: 500");
        write_text(d, "alert-history.jsonl", "{\"event\":\"opened\",\"name\":\"X\"}\n", "a");
        event(d, "resolved", "DUPLICATE_BATCH", "batch 12", 1, NOW - 5 * HOUR_MS, NOW - 4 * HOUR_MS,
              "resolved");
        event(d, "opened", "SUPPLY_MISMATCH", "asset SIGIL", 2, NOW - 3 * HOUR_MS,
              NOW - 3 * HOUR_MS, "SIGIL again");
        write_text(d, "alert-history.jsonl", "{\"name\":\"no event\"}\n{\"a\":1} {\"b\":2}\n", "a");
        event(d, "opened", "RPC_TIMEOUT", "chain source", 3, NOW - 2 * HOUR_MS, NOW - 2 * HOUR_MS,
              "3 timeouts");
        event(d, "resolved", "NONCE_DESYNC", "account 0x70", 1, NOW - 26 * HOUR_MS, NOW - HOUR_MS,
              "resolved");
        event(d, "something_new", "X", "", 0, NOW - HOUR_MS, NOW - HOUR_MS, "a kind not known");
        event(d, "opened", "GAS_ESTIMATE_MISS", "", 1, NOW + HOUR_MS, NOW + HOUR_MS, "future");
}

static void write_status(const struct dir *d)
{
        write_text(d, "status.json",
                   "{\"v\":1,\"updated_at\":\"2027-01-15T07:59:58.000Z\",\"updated_at_ms\":1,"
                   "\"cycle\":{\"correlation_id\":\"rw-abc\",\"started_at\":"
                   "\"2027-01-15T07:59:57.000Z\",\"verdicts\":["
                   "{\"invariant\":\"SUPPLY_MISMATCH\",\"tier\":1,\"status\":\"ok\","
                   "\"mode\":\"enforce\",\"summary\":\"supply holds\"},"
                   "{\"invariant\":\"SETTLEMENT_LATENCY\",\"tier\":3,\"status\":\"ok\","
                   "\"mode\":\"enforce\",\"summary\":\"3 batches anchored: mean 1200 ms\"},"
                   "{\"invariant\":\"RPC_SUCCESS_RATE\",\"tier\":3,\"status\":\"ok\","
                   "\"mode\":\"enforce\",\"summary\":\"99.5% of calls\",\"value\":0.995,"
                   "\"unit\":\"ratio\"}]}}",
                   "w");
}

static void report_counts_and_lists(void **state)
{
        const cJSON *c, *a, *u, *t3, *f;
        cJSON *r = NULL;
        char *text = NULL;
        struct rwerr err;
        struct dir d;
        char cur[128];

        (void)state;
        d = dir_make();
        write_history(&d);
        write_status(&d);
        path_of(&d, "alert-history.jsonl", cur, sizeof cur);
        assert_int_equal(alert_report_build(d.path, SINCE, NOW, &r, &text, &err), RW_OK);
        assert_non_null(r);
        assert_non_null(text);
        assert_true(cJSON_IsTrue(item(item(r, "history"), "read")));
        c = item(r, "counts");
        assert_int_equal(num(c, "opened"), 4);     /* A, A2, B, F */
        assert_int_equal(num(c, "resolved"), 3);   /* A, E, F */
        assert_int_equal(num(c, "still_open"), 3); /* A2, B, D */
        assert_int_equal(num(c, "updates"), 1);
        assert_int_equal(num(c, "held_by_silence"), 1);
        assert_int_equal(num(c, "info"), 1);
        assert_int_equal(num(c, "silence_changes"), 1);
        assert_int_equal(num(c, "delivery_failed"), 1);
        assert_int_equal(num(c, "other_events"), 1);
        assert_int_equal(num(c, "unreadable_lines"), 4);
        assert_int_equal(cJSON_GetArraySize(item(r, "alerts")), 6);
        /* A: matched with its resolve, seq 1 only */
        a = listed(r, "SUPPLY_MISMATCH/asset_SIGIL", 1);
        assert_int_equal(num(a, "duration_ms"), 2 * HOUR_MS);
        assert_int_equal(num(a, "updates"), 1);
        assert_true(cJSON_IsTrue(item(a, "paged")));
        assert_false(cJSON_IsTrue(item(a, "open_at_end")));
        assert_string_equal(str(a, "summary"), "SIGIL: locked 100 < minted 101");
        /* A2: the same key, opened again: its own alert, open */
        a = listed(r, "SUPPLY_MISMATCH/asset_SIGIL", 2);
        assert_true(cJSON_IsTrue(item(a, "open_at_end")));
        assert_true(cJSON_IsNull(item(a, "resolved_ms")));
        assert_int_equal(num(a, "open_for_ms"), 3 * HOUR_MS);
        /* D: opened before the window (in the older file), still open */
        a = listed(r, "QUEUE_BUILDUP", 2);
        assert_false(cJSON_IsTrue(item(a, "opened_in_window")));
        assert_true(cJSON_IsTrue(item(a, "open_at_end")));
        /* E: opened before, resolved in the window */
        a = listed(r, "NONCE_DESYNC/account_0x70", 1);
        assert_int_equal(num(a, "duration_ms"), 25 * HOUR_MS);
        /* F: held, never paged */
        a = listed(r, "DUPLICATE_BATCH/batch_12", 1);
        assert_true(cJSON_IsTrue(item(a, "held_by_silence")));
        assert_false(cJSON_IsTrue(item(a, "paged")));
        assert_int_equal(num(a, "duration_ms"), HOUR_MS);
        /* C: all before the window; G: after its end */
        assert_false(is_listed(r, "HIGH_LATENCY"));
        assert_false(is_listed(r, "GAS_ESTIMATE_MISS"));
        /* oldest opening first */
        assert_string_equal(str(cJSON_GetArrayItem(item(r, "alerts"), 0), "name"), "QUEUE_BUILDUP");
        assert_string_equal(str(cJSON_GetArrayItem(item(r, "alerts"), 5), "name"), "RPC_TIMEOUT");
        /* the events */
        assert_string_equal(str(cJSON_GetArrayItem(item(r, "info"), 0), "subject"), "h-1");
        assert_string_equal(str(cJSON_GetArrayItem(item(r, "silence_changes"), 0), "name"),
                            "SILENCE_ADDED");
        assert_string_equal(str(cJSON_GetArrayItem(item(r, "delivery_failed"), 0), "summary"),
                            "slack route team: 500");
        /* the unreadable lines, named by file and line */
        u = item(r, "unreadable_lines");
        assert_int_equal(cJSON_GetArraySize(u), 4);
        assert_has(cJSON_GetArrayItem(u, 0)->valuestring, cur);
        assert_has(cJSON_GetArrayItem(u, 0)->valuestring, ".jsonl:3: not JSON");
        assert_has(cJSON_GetArrayItem(u, 1)->valuestring, ".jsonl:9: alert: \"subject\"");
        assert_has(cJSON_GetArrayItem(u, 2)->valuestring, ".jsonl:12: no \"event\" name");
        assert_has(cJSON_GetArrayItem(u, 3)->valuestring, ".jsonl:13: more than one JSON value");
        /* Tier 3: only tier 3, as status.json has them */
        t3 = item(r, "tier3");
        assert_true(cJSON_IsTrue(item(t3, "read")));
        assert_string_equal(str(t3, "cycle"), "rw-abc");
        assert_int_equal(cJSON_GetArraySize(item(t3, "figures")), 2);
        f = cJSON_GetArrayItem(item(t3, "figures"), 1);
        assert_string_equal(str(f, "invariant"), "RPC_SUCCESS_RATE");
        assert_true(num(f, "value") == 0.995);
        assert_string_equal(str(f, "unit"), "ratio");
        /* the text says the same */
        assert_has(text, "relaywatch report 2027-01-14T08:00:00Z to 2027-01-15T08:00:00Z: 4 alerts "
                         "opened, 3 resolved, 3 still open; 1 update or re-page; 1 held by a "
                         "silence; 1 halt lifted or resume; 1 delivery failure; 4 unreadable "
                         "history lines\n");
        assert_has(text, "2027-01-14T22:00:00Z ERROR    SUPPLY_MISMATCH asset SIGIL (tier 1)\n"
                         "      resolved 2027-01-15T00:00:00Z after 2h 0m; 1 update\n"
                         "      SIGIL: locked 100 < minted 101\n");
        assert_has(text, "QUEUE_BUILDUP (tier 1)\n      STILL OPEN, for 1d 16h (opened before "
                         "the window)\n");
        assert_has(text, "resolved 2027-01-15T07:00:00Z after 1d 1h (opened before the window)");
        assert_has(text, "held by a silence, never paged");
        assert_has(text, "HALT_LIFTED h-1: HALT h-1 (SUPPLY_MISMATCH) was lifted");
        assert_lacks(text, "an old resume");
        assert_has(text, "SILENCE_ADDED s-0123456789abcdef: silence s-0123456789abcdef added");
        assert_has(text, "ALERT_DELIVERY_FAILED route team: slack route team: 500");
        assert_has(text, "Tier 3 figures of the last cycle (rw-abc, started "
                         "2027-01-15T07:59:57Z):\n");
        assert_has(text, "RPC_SUCCESS_RATE       ok                 0.995 ratio: 99.5% of calls");
        assert_has(text, "SETTLEMENT_LATENCY");
        assert_lacks(text, "supply holds");
        assert_has(text, "Unreadable history lines (4, left out of the figures above):\n  ");
        assert_has(text, ".jsonl:3: not JSON\n");
        cJSON_Delete(r);
        free(text);
        dir_remove(&d);
}

static void report_of_nothing(void **state)
{
        cJSON *r = NULL;
        char *text = NULL;
        struct rwerr err;
        struct dir d;

        (void)state;
        d = dir_make();
        assert_int_equal(alert_report_build(d.path, SINCE, NOW, &r, &text, &err), RW_OK);
        assert_int_equal(num(item(r, "counts"), "opened"), 0);
        assert_int_equal(num(item(r, "counts"), "unreadable_lines"), 0);
        assert_true(cJSON_IsTrue(item(item(r, "history"), "read")));
        assert_false(cJSON_IsTrue(item(item(r, "tier3"), "read")));
        assert_has(str(item(r, "tier3"), "error"), "status.json does not exist");
        assert_has(text, ": 0 alerts opened, 0 resolved, 0 still open;");
        assert_has(text, "\nAlerts opened, resolved or open in the window:\n  none\n");
        assert_has(text, "Tier 3 figures: not available");
        assert_lacks(text, "Unreadable");
        cJSON_Delete(r);
        free(text);
        /* only one form asked for */
        assert_int_equal(alert_report_build(d.path, SINCE, NOW, NULL, &text, &err), RW_OK);
        assert_non_null(text);
        free(text);
        assert_int_equal(alert_report_build(d.path, SINCE, NOW, &r, NULL, &err), RW_OK);
        assert_non_null(r);
        cJSON_Delete(r);
        /* a window that ends before it starts */
        r = (cJSON *)1;
        assert_int_equal(alert_report_build(d.path, NOW, SINCE, &r, &text, &err), RW_ERR_INVALID);
        assert_null(r);
        assert_null(text);
        dir_remove(&d);
}

static void report_says_when_the_history_cannot_be_read(void **state)
{
        cJSON *r = NULL;
        char *text = NULL, p[128];
        struct rwerr err;
        struct dir d;

        (void)state;
        d = dir_make();
        path_of(&d, "alert-history.jsonl", p, sizeof p);
        assert_int_equal(mkdir(p, 0700), 0); /* opens, cannot be read */
        assert_int_equal(alert_report_build(d.path, SINCE, NOW, &r, &text, &err), RW_OK);
        assert_false(cJSON_IsTrue(item(item(r, "history"), "read")));
        assert_has(str(item(r, "history"), "error"), p);
        assert_has(text, "HISTORY NOT READ (");
        cJSON_Delete(r);
        free(text);
        dir_remove(&d);
}

static void report_shows_silences_in_force(void **state)
{
        struct silence_set *set = calloc(1, sizeof *set);
        struct silence s;
        cJSON *r = NULL;
        char *text = NULL;
        struct rwerr err;
        struct dir d;
        int64_t now;

        (void)state;
        assert_non_null(set);
        d = dir_make();
        now = (int64_t)time(NULL) * 1000;
        assert_int_equal(silence_add(set, "HALT_PATH_DOWN", "redis", "upgrade", "alice", now,
                                     HOUR_MS, &s, &err),
                         RW_OK);
        assert_int_equal(silence_save(d.path, set, &err), RW_OK);
        assert_int_equal(alert_report_build(d.path, now - DAY_MS, now, &r, &text, &err), RW_OK);
        assert_int_equal(cJSON_GetArraySize(item(item(r, "silences_in_force"), "list")), 1);
        assert_has(text, "Silences in force at the end:\n  s-");
        assert_has(text, " HALT_PATH_DOWN:redis until ");
        assert_has(text, ", by alice: upgrade\n");
        cJSON_Delete(r);
        free(text);
        free(set);
        dir_remove(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(appended_lines_read_back),
                cmocka_unit_test(rotates_at_the_limit),
                cmocka_unit_test(report_counts_and_lists),
                cmocka_unit_test(report_of_nothing),
                cmocka_unit_test(report_says_when_the_history_cannot_be_read),
                cmocka_unit_test(report_shows_silences_in_force),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
