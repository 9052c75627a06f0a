/*
 * audit_sink: how the rooms that act (control/, alert/) hand what they do
 * to the audit log without linking it (the audit room sits beside them).
 *
 * The supervisor fills one from its audit trail and lends it to halt
 * control and to paging. Both calls are safe from any thread (the alert
 * sender records from its own). A NULL sink, or NULL functions in it, is
 * fine: nothing is recorded.
 */
#ifndef RELAYWATCH_AUDIT_SINK_H
#define RELAYWATCH_AUDIT_SINK_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define AUDIT_REF_NOTE_MAX 1024

/* A checkpoint of the audit log: what a HALT message and a page carry. */
struct audit_ref {
        uint64_t size;
        char root[48];                 /* base64 of the 32-byte root */
        char note[AUDIT_REF_NOTE_MAX]; /* the signed note */
};

struct audit_sink {
        /* Records one event (`content` borrowed, an object or NULL); durable: on disk before it returns. */
        void (*record)(void *ctx, const char *kind, const char *correlation_id,
                       const struct cJSON *content, int durable);
        /* The latest checkpoint: 0, or -1 when there is none (the log is down or empty). */
        int (*latest)(void *ctx, struct audit_ref *out);
        /* A checkpoint over everything recorded so far (written now if needed): 0 or -1. */
        int (*checkpoint)(void *ctx, const char *correlation_id, struct audit_ref *out);
        void *ctx;
};

static inline void audit_sink_record(const struct audit_sink *s, const char *kind,
                                     const char *correlation_id, const struct cJSON *content,
                                     int durable)
{
        if (s != NULL && s->record != NULL)
                s->record(s->ctx, kind, correlation_id, content, durable);
}

static inline int audit_sink_latest(const struct audit_sink *s, struct audit_ref *out)
{
        if (s == NULL || s->latest == NULL)
                return -1;
        return s->latest(s->ctx, out);
}

static inline int audit_sink_checkpoint(const struct audit_sink *s, const char *correlation_id,
                                        struct audit_ref *out)
{
        if (s == NULL || s->checkpoint == NULL)
                return -1;
        return s->checkpoint(s->ctx, correlation_id, out);
}

#endif
