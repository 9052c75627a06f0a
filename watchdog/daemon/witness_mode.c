#include "witness_mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "audit_witness.h"
#include "jsonlog.h"
#include "redisconn.h"
#include "rwclock.h"
#include "signing_key.h"

struct witness_mode {
        const struct config *cfg;
        struct finding_journal *journal;
        struct redisconn *redis;
        struct verify_key genesis;
        struct signing_key *key;
        uint64_t last_poll_mono_ms;
        int polled;
        char reported[48]; /* the published root last reported inconsistent */
        enum audit_witness_outcome last;
};

struct witness_mode *witness_mode_new(const struct config *cfg, struct finding_journal *journal)
{
        struct witness_mode *w;
        struct redisconn_options ro;
        struct rwerr err;

        if (cfg->witness_log == NULL || (w = calloc(1, sizeof *w)) == NULL)
                return NULL;
        w->cfg = cfg;
        w->journal = journal;
        if (verify_key_load(cfg->witness_log_pubkey, &w->genesis, &err) != RW_OK ||
            signing_key_load(cfg->witness_signing_key, &w->key, &err) != RW_OK) {
                jsonlog_message(JSONLOG_ERROR, "witness_disabled", "witness",
                                "[audit] witness_log %s is not witnessed: %s", cfg->witness_log,
                                err.msg);
                free(w);
                return NULL;
        }
        memset(&ro, 0, sizeof ro);
        ro.url = cfg->redis_url;
        ro.timeout_ms = (long)cfg->redis_timeout_ms;
        if ((w->redis = redisconn_new(&ro, &err)) == NULL) {
                signing_key_free(w->key);
                free(w);
                return NULL;
        }
        return w;
}

void witness_mode_free(struct witness_mode *w)
{
        if (w == NULL)
                return;
        redisconn_free(w->redis);
        signing_key_free(w->key);
        free(w);
}

static void report_inconsistent(struct witness_mode *w, const struct audit_witness_result *r)
{
        char summary[FINDING_TEXT_MAX];
        cJSON *ev;
        struct finding f;

        if (strcmp(w->reported, r->root) == 0)
                return; /* this publication was reported already */
        snprintf(w->reported, sizeof w->reported, "%s", r->root);
        ev = audit_witness_evidence(r);
        snprintf(summary, sizeof summary,
                 "the audit log of %.120s is not consistent with what "
                 "this witness accepted before (%s): %.200s",
                 r->origin[0] != '\0' ? r->origin : w->cfg->witness_log, r->reason, r->message);
        memset(&f, 0, sizeof f);
        f.kind = AUDIT_WITNESS_FINDING;
        f.severity = FINDING_CRITICAL;
        f.summary = summary;
        f.evidence = ev;
        f.correlation_id = "witness";
        f.subject = w->cfg->witness_log;
        finding_report(w->journal, &f);
        cJSON_Delete(ev);
}

void witness_mode_tick(struct witness_mode *w)
{
        struct audit_witness_config c;
        struct audit_witness_result r;
        redisContext *ctx;
        struct rwerr err;
        uint64_t now = rwclock_mono_ms();
        int rc;

        if (w == NULL ||
            (w->polled && now - w->last_poll_mono_ms < w->cfg->audit_checkpoint_s * 1000))
                return;
        w->polled = 1;
        w->last_poll_mono_ms = now;
        if ((ctx = redisconn_get(w->redis)) == NULL)
                return; /* the halt path reports Redis */
        memset(&c, 0, sizeof c);
        c.genesis = &w->genesis;
        c.key = w->key;
        c.name = w->cfg->audit_origin;
        c.state_dir = w->cfg->witness_state_dir;
        c.now_s = (int64_t)time(NULL);
        rc = audit_witness_poll(ctx, w->cfg->witness_log, &c, &r, &err);
        if (rc != RW_OK)
                (void)redisconn_failed(w->redis, rc, &err);
        if (r.outcome == AUDIT_WITNESS_INCONSISTENT)
                report_inconsistent(w, &r);
        else if (r.outcome != w->last || r.outcome == AUDIT_WITNESS_CANNOT_TELL)
                jsonlog_message(r.outcome == AUDIT_WITNESS_ACCEPTED ||
                                                r.outcome == AUDIT_WITNESS_UNCHANGED
                                        ? JSONLOG_INFO
                                        : JSONLOG_WARN,
                                "witness_poll", "witness", "%s: %s",
                                audit_witness_outcome_name(r.outcome), r.message);
        w->last = r.outcome;
        audit_witness_result_release(&r);
}
