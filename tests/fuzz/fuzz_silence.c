/*
 * Fuzz target for the two readers of paging's state files that an operator
 * or a crash can leave in any shape: the silences file (silence_load,
 * watchdog/alert/silence.h) and the lines of the alert history, read by
 * alert_report_build (alert_history.h).
 *
 * The first byte chooses: 'H' makes the rest STATE_DIR/alert-history.jsonl,
 * anything else makes the rest STATE_DIR/silences.json. Both go through the
 * real entry points, files and all, in a directory of the process's own.
 *
 *   silences  refused: the set is left exactly as it was and the reason
 *             names the file; read: at most SILENCE_MAX silences, each id,
 *             name and text terminated and well formed, none longer than 7
 *             days; written back and read again, the silences still in
 *             force are the same, field for field.
 *   history   never fatal: RW_OK with a report, its text ending in a line
 *             end, the unreadable lines at most the lines there are, every
 *             count a whole number not below 0.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alert_history.h"
#include "rwclock.h"
#include "silence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPORT_NOW ((int64_t)4102444800000) /* 2100-01-01: every plausible line is before */

static char dir[64];

static const char *state_dir(void)
{
        if (dir[0] == '\0') {
                (void)snprintf(dir, sizeof dir, "/tmp/fuzz_silence.XXXXXX");
                if (mkdtemp(dir) == NULL)
                        abort();
        }
        return dir;
}

static void put(const char *name, const uint8_t *data, size_t size)
{
        char path[128];
        FILE *f;

        (void)snprintf(path, sizeof path, "%s/%s", state_dir(), name);
        if ((f = fopen(path, "w")) == NULL)
                abort();
        if (size > 0 && fwrite(data, 1, size, f) != size)
                abort();
        if (fclose(f) != 0)
                abort();
}

static int terminated(const char *s, size_t cap)
{
        return memchr(s, '\0', cap) != NULL;
}

static void check_silence(const struct silence *s)
{
        if (!terminated(s->id, sizeof s->id) || !terminated(s->name, sizeof s->name) ||
            !terminated(s->subject, sizeof s->subject) ||
            !terminated(s->reason, sizeof s->reason) ||
            !terminated(s->created_by, sizeof s->created_by))
                abort();
        if (strlen(s->id) != 18 || strncmp(s->id, "s-", 2) != 0 || s->name[0] == '\0' ||
            s->reason[0] == '\0' || s->ends_ms - s->created_ms > SILENCE_FOR_MAX_MS)
                abort();
}

static int same(const struct silence *a, const struct silence *b)
{
        return strcmp(a->id, b->id) == 0 && strcmp(a->name, b->name) == 0 &&
               strcmp(a->subject, b->subject) == 0 && strcmp(a->reason, b->reason) == 0 &&
               strcmp(a->created_by, b->created_by) == 0 && a->created_ms == b->created_ms &&
               a->ends_ms == b->ends_ms;
}

/* Written and read again, the silences in force are the same. */
static void check_round_trip(const struct silence_set *set)
{
        struct silence_set *back = calloc(1, sizeof *back);
        struct rwerr err = {""};
        int64_t now = rwclock_wall_ms();
        size_t i, k = 0;

        if (back == NULL)
                return;
        if (silence_save(state_dir(), set, &err) != RW_OK ||
            silence_load(state_dir(), back, &err) != RW_OK)
                abort();
        for (i = 0; i < set->n; i++) {
                if (set->items[i].ends_ms <= now + 1000)
                        continue; /* may have ended between the two reads of the clock */
                while (k < back->n && strcmp(back->items[k].id, set->items[i].id) != 0)
                        k++;
                if (k == back->n || !same(&back->items[k], &set->items[i]))
                        abort();
        }
        free(back);
}

static void fuzz_silences(const uint8_t *data, size_t size)
{
        struct silence_set *set = calloc(1, sizeof *set);
        struct rwerr err = {""};
        size_t i;

        if (set == NULL)
                return;
        put("silences.json", data, size);
        set->n = 1;
        memcpy(set->items[0].id, "s-before", 9);
        if (silence_load(state_dir(), set, &err) != RW_OK) {
                if (set->n != 1 || strcmp(set->items[0].id, "s-before") != 0 ||
                    strstr(err.msg, "silences.json") == NULL)
                        abort();
                free(set);
                return;
        }
        if (set->n > SILENCE_MAX)
                abort();
        for (i = 0; i < set->n; i++)
                check_silence(&set->items[i]);
        check_round_trip(set);
        free(set);
}

static size_t count_lines(const uint8_t *data, size_t size)
{
        size_t i, n = 0;

        for (i = 0; i < size; i++)
                n += data[i] == '\n';
        return n + (size > 0 && data[size - 1] != '\n');
}

static void fuzz_history(const uint8_t *data, size_t size)
{
        struct rwerr err = {""};
        const cJSON *counts, *c;
        cJSON *json = NULL;
        char *text = NULL;
        int rc;

        put("alert-history.jsonl", data, size);
        rc = alert_report_build(state_dir(), 0, REPORT_NOW, &json, &text, &err);
        if (rc == RW_ERR_NOMEM)
                return;
        if (rc != RW_OK || json == NULL || text == NULL || text[0] == '\0' ||
            text[strlen(text) - 1] != '\n')
                abort();
        counts = cJSON_GetObjectItemCaseSensitive(json, "counts");
        cJSON_ArrayForEach(c, counts)
        {
                if (!cJSON_IsNumber(c) || c->valuedouble < 0 ||
                    c->valuedouble != (double)(int64_t)c->valuedouble)
                        abort();
        }
        c = cJSON_GetObjectItemCaseSensitive(counts, "unreadable_lines");
        if (!cJSON_IsNumber(c) || c->valuedouble > (double)count_lines(data, size))
                abort();
        cJSON_Delete(json);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 0 && data[0] == 'H')
                fuzz_history(data + 1, size - 1);
        else
                fuzz_silences(size > 0 ? data + 1 : data, size > 0 ? size - 1 : 0);
        return 0;
}
