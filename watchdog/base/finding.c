#include "finding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "jsonlog.h"
#include "rwclock.h"

#define FINDING_UNSAVED_MAX 1000 /* the database is down for long: keep the newest this many */

const char *finding_severity_name(enum finding_severity s)
{
        switch (s) {
        case FINDING_INFO:
                return "INFO";
        case FINDING_WARNING:
                return "WARNING";
        case FINDING_ERROR:
                return "ERROR";
        case FINDING_CRITICAL:
                return "CRITICAL";
        }
        return "CRITICAL";
}

static enum jsonlog_level log_level(enum finding_severity s)
{
        switch (s) {
        case FINDING_INFO:
                return JSONLOG_INFO;
        case FINDING_WARNING:
                return JSONLOG_WARN;
        case FINDING_ERROR:
                return JSONLOG_ERROR;
        case FINDING_CRITICAL:
                return JSONLOG_CRITICAL;
        }
        return JSONLOG_CRITICAL;
}

static void record_release(struct finding_record *r)
{
        free(r->evidence_json);
        r->evidence_json = NULL;
}

static void record_fill(struct finding_record *r, const struct finding *f, int64_t at_ms)
{
        memset(r, 0, sizeof *r);
        (void)snprintf(r->kind, sizeof r->kind, "%s", f->kind);
        r->severity = f->severity;
        (void)snprintf(r->summary, sizeof r->summary, "%s", f->summary);
        (void)snprintf(r->correlation_id, sizeof r->correlation_id, "%s",
                       f->correlation_id != NULL ? f->correlation_id : "");
        (void)snprintf(r->halt_id, sizeof r->halt_id, "%s", f->halt_id != NULL ? f->halt_id : "");
        r->evidence_json = f->evidence != NULL ? cJSON_PrintUnformatted(f->evidence) : strdup("{}");
        r->at_ms = at_ms;
}

void finding_journal_release(struct finding_journal *j)
{
        size_t i;

        for (i = 0; i < j->nrecent; i++)
                record_release(&j->recent[i]);
        for (i = 0; i < j->nunsaved; i++)
                record_release(&j->unsaved[i]);
        free(j->unsaved);
        memset(j, 0, sizeof *j);
}

int finding_journal_add_sink(struct finding_journal *j, const struct finding_sink *s)
{
        if (j->nsinks >= FINDING_SINKS_MAX)
                return -1;
        j->sinks[j->nsinks++] = *s;
        return 0;
}

static void log_finding(const struct finding *f)
{
        cJSON *line = jsonlog_begin(log_level(f->severity), "finding", f->correlation_id);
        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "kind", f->kind);
        cJSON_AddStringToObject(line, "severity", finding_severity_name(f->severity));
        cJSON_AddStringToObject(line, "summary", f->summary);
        jsonlog_add_runbook(line, f->kind);
        if (f->halt_id != NULL)
                cJSON_AddStringToObject(line, "halt_id", f->halt_id);
        if (f->subject != NULL && f->subject[0] != '\0')
                cJSON_AddStringToObject(line, "subject", f->subject);
        if (f->evidence != NULL)
                cJSON_AddItemToObject(line, "evidence", cJSON_Duplicate(f->evidence, 1));
        jsonlog_emit(line);
}

static void queue_unsaved(struct finding_journal *j, const struct finding *f, int64_t at)
{
        struct finding_record *p;

        if (j->nunsaved == FINDING_UNSAVED_MAX) {
                record_release(&j->unsaved[0]);
                memmove(&j->unsaved[0], &j->unsaved[1], (j->nunsaved - 1) * sizeof *j->unsaved);
                j->nunsaved--;
                j->dropped++;
        }
        p = realloc(j->unsaved, (j->nunsaved + 1) * sizeof *p);
        if (p == NULL) {
                j->dropped++;
                return;
        }
        j->unsaved = p;
        record_fill(&j->unsaved[j->nunsaved++], f, at);
}

void finding_report(struct finding_journal *j, const struct finding *f)
{
        int64_t at = rwclock_wall_ms();
        struct finding_record *slot;
        size_t i;

        log_finding(f);
        slot = &j->recent[j->next];
        if (j->nrecent == FINDING_RECENT_MAX)
                record_release(slot);
        else
                j->nrecent++;
        record_fill(slot, f, at);
        j->next = (j->next + 1) % FINDING_RECENT_MAX;
        queue_unsaved(j, f, at);
        for (i = 0; i < j->nsinks; i++)
                j->sinks[i].report(j->sinks[i].ctx, f);
}

void finding_clear(struct finding_journal *j, const char *kind, const char *subject,
                   const char *correlation_id, const char *summary)
{
        struct finding f = {
                .kind = kind,
                .severity = FINDING_INFO,
                .summary = summary,
                .correlation_id = correlation_id,
                .subject = subject,
                .cleared = 1,
        };
        cJSON *line = jsonlog_begin(JSONLOG_INFO, "finding_cleared", correlation_id);
        size_t i;

        if (line != NULL) {
                cJSON_AddStringToObject(line, "kind", kind);
                if (subject != NULL && subject[0] != '\0')
                        cJSON_AddStringToObject(line, "subject", subject);
                cJSON_AddStringToObject(line, "summary", summary);
                jsonlog_emit(line);
        }
        for (i = 0; i < j->nsinks; i++)
                j->sinks[i].report(j->sinks[i].ctx, &f);
}

void finding_journal_saved(struct finding_journal *j, size_t n)
{
        size_t i;

        if (n > j->nunsaved)
                n = j->nunsaved;
        if (n == 0)
                return; /* unsaved may be NULL */
        for (i = 0; i < n; i++)
                record_release(&j->unsaved[i]);
        memmove(&j->unsaved[0], &j->unsaved[n], (j->nunsaved - n) * sizeof *j->unsaved);
        j->nunsaved -= n;
}

cJSON *finding_journal_recent_json(const struct finding_journal *j)
{
        cJSON *arr = cJSON_CreateArray();
        size_t k;

        if (arr == NULL)
                return NULL;
        for (k = 0; k < j->nrecent; k++) {
                /* the oldest is at `next` once the ring is full, else at 0 */
                size_t idx =
                        j->nrecent == FINDING_RECENT_MAX ? (j->next + k) % FINDING_RECENT_MAX : k;
                const struct finding_record *r = &j->recent[idx];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        cJSON_Delete(arr);
                        return NULL;
                }
                cJSON_AddStringToObject(o, "kind", r->kind);
                cJSON_AddStringToObject(o, "severity", finding_severity_name(r->severity));
                cJSON_AddStringToObject(o, "summary", r->summary);
                cJSON_AddStringToObject(o, "correlation_id", r->correlation_id);
                if (r->halt_id[0] != '\0')
                        cJSON_AddStringToObject(o, "halt_id", r->halt_id);
                cJSON_AddNumberToObject(o, "at_ms", (double)r->at_ms);
        }
        return arr;
}
