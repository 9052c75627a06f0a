/*
 * QUEUE_BUILDUP: more operations pending in the ledger than allowed, or a
 * consumer group of a relayer Redis stream lagging (or holding pending
 * entries) beyond the limit; a stream at its length cap with unread
 * entries is losing messages. At a limit is fine.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

struct outcome {
        struct verdict *out; /* where a violated queue is named as a subject */
        size_t violated, unknown;
        char first_violated[INVARIANT_SUMMARY_MAX];
        char first_unknown[INVARIANT_SUMMARY_MAX];
};

static void note(struct outcome *r, enum verdict_status st, const char *text)
{
        if (st == VERDICT_VIOLATED && r->violated++ == 0)
                evidence_format(r->first_violated, sizeof r->first_violated, "%s", text);
        if (st == VERDICT_UNKNOWN && r->unknown++ == 0)
                evidence_format(r->first_unknown, sizeof r->first_unknown, "%s", text);
}

static void check_group(const struct snap_stream *st, const struct snap_stream_group *g,
                        const struct invariant_params *p, struct outcome *r, cJSON *arr)
{
        char text[INVARIANT_SUMMARY_MAX];
        cJSON *o = cJSON_CreateObject();

        if (o != NULL && !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                o = NULL;
        }
        evidence_str(o, "group", g->name);
        evidence_u64(o, "consumers", g->consumers);
        evidence_u64(o, "pending", g->pending);
        if (g->lag_known)
                evidence_u64(o, "lag", g->lag);
        else
                evidence_str(o, "lag", "unknown");
        if (g->lag_known && g->lag > 0 && st->maxlen > 0 && st->length >= st->maxlen) {
                evidence_format(
                        text, sizeof text,
                        "stream %s group %s: %llu entries unread while the stream is at its cap "
                        "of %llu: messages are being lost (trimmed before they were read)",
                        st->name, g->name, (unsigned long long)g->lag,
                        (unsigned long long)st->maxlen);
                note(r, VERDICT_VIOLATED, text);
                verdict_add_subject(r->out, "stream %s", st->name);
                evidence_str(o, "problem", text);
        }
        if (g->lag_known && g->lag > p->stream_lag) {
                evidence_format(text, sizeof text,
                                "stream %s group %s lags by %llu entries (limit %llu)", st->name,
                                g->name, (unsigned long long)g->lag,
                                (unsigned long long)p->stream_lag);
                note(r, VERDICT_VIOLATED, text);
                verdict_add_subject(r->out, "stream %s", st->name);
                evidence_str(o, "lag_problem", text);
        }
        if (g->pending > p->stream_lag) {
                evidence_format(
                        text, sizeof text,
                        "stream %s group %s holds %llu delivered but unacknowledged entries "
                        "(limit %llu)",
                        st->name, g->name, (unsigned long long)g->pending,
                        (unsigned long long)p->stream_lag);
                note(r, VERDICT_VIOLATED, text);
                verdict_add_subject(r->out, "stream %s", st->name);
                evidence_str(o, "pending_problem", text);
        }
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        const struct snap_ledger *l = &s->ledger;
        cJSON *ev = verdict_evidence(out), *streams;
        char text[INVARIANT_SUMMARY_MAX];
        struct outcome r;
        size_t i, j;

        (void)view;
        memset(&r, 0, sizeof r);
        r.out = out;
        evidence_u64(ev, "pending_operations_limit", p->pending_operations);
        evidence_u64(ev, "stream_lag_limit", p->stream_lag);
        if (!l->ok) {
                evidence_format(text, sizeof text,
                                "pending operations unknown: ledger not read: %s", l->error);
                note(&r, VERDICT_UNKNOWN, text);
        } else {
                evidence_u64(ev, "pending_operations", l->pending_operations);
                if (l->pending_operations > p->pending_operations) {
                        evidence_format(text, sizeof text,
                                        "%llu operations pending in the ledger (limit %llu)",
                                        (unsigned long long)l->pending_operations,
                                        (unsigned long long)p->pending_operations);
                        note(&r, VERDICT_VIOLATED, text);
                        verdict_add_subject(out, "operations");
                }
        }
        streams = cJSON_AddArrayToObject(ev, "streams");
        for (i = 0; i < s->nstreams && s->streams != NULL; i++) {
                const struct snap_stream *st = &s->streams[i];
                cJSON *o = cJSON_CreateObject(), *groups;

                if (o != NULL && !cJSON_AddItemToArray(streams, o)) {
                        cJSON_Delete(o);
                        o = NULL;
                }
                evidence_str(o, "stream", st->name);
                if (!st->ok) {
                        evidence_format(text, sizeof text, "stream %s not read: %s", st->name,
                                        st->error);
                        note(&r, VERDICT_UNKNOWN, text);
                        evidence_str(o, "error", st->error);
                        continue;
                }
                evidence_u64(o, "length", st->length);
                evidence_u64(o, "maxlen", st->maxlen);
                groups = cJSON_AddArrayToObject(o, "groups");
                for (j = 0; j < st->ngroups && st->groups != NULL; j++)
                        check_group(st, &st->groups[j], p, &r, groups);
        }
        if (r.violated > 1)
                verdict_set(out, VERDICT_VIOLATED, "%zu queues building up, first: %s", r.violated,
                            r.first_violated);
        else if (r.violated == 1)
                verdict_set(out, VERDICT_VIOLATED, "%s", r.first_violated);
        else if (r.unknown > 0)
                verdict_set(out, VERDICT_UNKNOWN, "%s", r.first_unknown);
        else
                verdict_set(out, VERDICT_OK,
                            "%llu operations pending (limit %llu), %zu streams within a lag of "
                            "%llu",
                            (unsigned long long)l->pending_operations,
                            (unsigned long long)p->pending_operations, s->nstreams,
                            (unsigned long long)p->stream_lag);
}

const struct invariant queue_buildup_check = {
        .name = "QUEUE_BUILDUP",
        .tier = VERDICT_TIER_ALERT,
        .weighs_views = 0,
        .evaluate = evaluate,
};
