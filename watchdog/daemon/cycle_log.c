#include "cycle_log.h"

#include <cjson/cJSON.h>

#include "jsonlog.h"

static void log_cycle_line(const struct cycle_result *r, int full)
{
        const struct snapshot *s = &r->snapshot;
        cJSON *line, *heights;
        int role;

        line = jsonlog_begin(r->tier1 == VERDICT_OK ? JSONLOG_DEBUG : JSONLOG_INFO, "cycle",
                             s->correlation_id);
        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "tier1", verdict_status_name(r->tier1));
        cJSON_AddNumberToObject(line, "duration_ms", (double)r->duration_ms);
        cJSON_AddBoolToObject(line, "full_sweep", full);
        cJSON_AddNumberToObject(line, "pages", (double)r->pages.pages);
        cJSON_AddNumberToObject(line, "batches", (double)r->pages.batches);
        cJSON_AddNumberToObject(line, "anchors", (double)r->pages.anchors);
        cJSON_AddStringToObject(line, "totals", s->ledger.totals_running ? "running" : "summed");
        if (r->totals_recounted)
                cJSON_AddBoolToObject(line, "totals_recounted", 1);
        heights = cJSON_AddObjectToObject(line, "heights");
        for (role = 0; heights != NULL && role < SNAP_NCHAINS; role++)
                cJSON_AddNumberToObject(heights, snap_chain_role_name((enum snap_chain_role)role),
                                        (double)s->chains[role].pinned);
        jsonlog_emit(line);
}

static void log_verdict(const struct verdict *v, const char *cid)
{
        enum jsonlog_level level;
        cJSON *line;

        level = v->status == VERDICT_UNKNOWN                                   ? JSONLOG_WARN
                : v->tier == VERDICT_TIER_HALT && v->mode == INVARIANT_ENFORCE ? JSONLOG_CRITICAL
                                                                               : JSONLOG_ERROR;
        line = jsonlog_begin(level, "verdict", cid);
        if (line == NULL)
                return;
        cJSON_AddStringToObject(line, "invariant", v->invariant);
        cJSON_AddNumberToObject(line, "tier", (double)v->tier);
        cJSON_AddStringToObject(line, "status", verdict_status_name(v->status));
        cJSON_AddStringToObject(line, "mode", invariant_mode_name(v->mode));
        cJSON_AddStringToObject(line, "summary", v->summary);
        jsonlog_add_runbook(line, v->invariant);
        if (v->evidence != NULL)
                cJSON_AddItemToObject(line, "evidence", cJSON_Duplicate(v->evidence, 1));
        jsonlog_emit(line);
}

void cycle_log_result(struct cycle_log *log, const struct cycle_result *r, int full,
                      uint64_t now_mono_ms)
{
        const char *cid = r->snapshot.correlation_id;
        size_t i;

        log_cycle_line(r, full);
        if (r->snapshot.ledger.totals_changed > 0)
                jsonlog_message(JSONLOG_WARN, "ledger_totals_changed", cid,
                                "%zu assets' ledger totals summed in full differ from the running "
                                "totals: rows at or below blocks already counted were written, "
                                "changed or deleted since (the verdicts use the full sums)",
                                r->snapshot.ledger.totals_changed);
        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];

                if (i < CYCLE_LOG_VERDICTS_MAX) {
                        int changed = log->status[i] != v->status;

                        log->status[i] = v->status;
                        if (!changed && now_mono_ms - log->logged_mono_ms[i] < CYCLE_LOG_REPEAT_MS)
                                continue;
                        log->logged_mono_ms[i] = now_mono_ms;
                        if (changed && v->status == VERDICT_OK && v->tier != VERDICT_TIER_TRACK) {
                                jsonlog_message(JSONLOG_INFO, "verdict_ok", cid, "%s is ok again",
                                                v->invariant);
                                continue;
                        }
                }
                if (v->status != VERDICT_OK && v->tier != VERDICT_TIER_TRACK)
                        log_verdict(v, cid);
        }
}

void cycle_log_failure(const char *correlation_id, uint64_t number, const char *reason)
{
        jsonlog_message(JSONLOG_ERROR, "cycle_failed", correlation_id,
                        "cycle %llu could not run, nothing was evaluated (the next one runs as "
                        "usual): %s",
                        (unsigned long long)number, reason);
}
