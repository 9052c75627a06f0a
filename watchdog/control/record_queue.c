#include "record_queue.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "control_msg.h"
#include "control_state.h"
#include "jsonlog.h"
#include "state.h"
#include "state_resume.h"

enum record_kind {
        RECORD_HALT,
        RECORD_ACKNOWLEDGED,
        RECORD_FINDING,
        RECORD_CHECKPOINT,
        RECORD_RESUME,
};

struct record {
        struct record *next;
        enum record_kind kind;
        /* RECORD_HALT, RECORD_RESUME */
        char *msg;
        size_t len;
        char sig[CONTROL_SIG_B64_SIZE];
        /* RECORD_HALT: published; RECORD_ACKNOWLEDGED: acked; RECORD_RESUME: seen */
        int64_t at_ms;
        /* RECORD_RESUME: its stream entry */
        char entry_id[CONTROL_ENTRY_ID_SIZE];
        /* RECORD_ACKNOWLEDGED */
        char halt_id[CONTROL_ID_SIZE];
        /* RECORD_FINDING (its evidence_json owned) */
        struct finding_record finding;
        /* RECORD_CHECKPOINT (its strings owned) */
        struct record_checkpoint checkpoint;
};

struct record_queue {
        pthread_mutex_t lock;
        struct record *head, *tail;
        size_t n;
        size_t dropped;
        size_t refused;
};

static void record_free(struct record *r)
{
        if (r == NULL)
                return;
        free(r->msg);
        free(r->finding.evidence_json);
        free(r->checkpoint.origin);
        free(r->checkpoint.note);
        free(r->checkpoint.key_id);
        free(r);
}

struct record_queue *record_queue_new(void)
{
        struct record_queue *q = calloc(1, sizeof *q);

        if (q == NULL)
                return NULL;
        if (pthread_mutex_init(&q->lock, NULL) != 0) {
                free(q);
                return NULL;
        }
        return q;
}

void record_queue_free(struct record_queue *q)
{
        struct record *r, *next;

        if (q == NULL)
                return;
        for (r = q->head; r != NULL; r = next) {
                next = r->next;
                record_free(r);
        }
        (void)pthread_mutex_destroy(&q->lock);
        free(q);
}

/* Unlinks `r` (whose predecessor is `prev`, NULL for the head). Under the lock. */
static void unlink_record(struct record_queue *q, struct record *prev, struct record *r)
{
        if (prev == NULL)
                q->head = r->next;
        else
                prev->next = r->next;
        if (q->tail == r)
                q->tail = prev;
        q->n--;
}

/* The oldest record of `kind` (and its predecessor), or NULL. Under the lock. */
static struct record *oldest_of(struct record_queue *q, enum record_kind kind, struct record **prev)
{
        struct record *r;

        for (*prev = NULL, r = q->head; r != NULL && r->kind != kind; r = r->next)
                *prev = r;
        return r;
}

/*
 * Makes room for one more: the oldest finding goes first, then the oldest
 * checkpoint (a later one covers it), else the oldest record. Under the lock.
 */
static void make_room(struct record_queue *q)
{
        struct record *prev = NULL, *r;

        while (q->n >= RECORD_QUEUE_MAX) {
                if ((r = oldest_of(q, RECORD_FINDING, &prev)) == NULL &&
                    (r = oldest_of(q, RECORD_CHECKPOINT, &prev)) == NULL) {
                        prev = NULL;
                        r = q->head;
                }
                if (r == NULL)
                        break; /* cannot happen while n counts the records */
                unlink_record(q, prev, r);
                record_free(r);
                q->dropped++;
        }
}

static void append(struct record_queue *q, struct record *r)
{
        (void)pthread_mutex_lock(&q->lock);
        make_room(q);
        r->next = NULL;
        if (q->tail != NULL)
                q->tail->next = r;
        else
                q->head = r;
        q->tail = r;
        q->n++;
        (void)pthread_mutex_unlock(&q->lock);
}

int record_queue_add_halt(struct record_queue *q, const char *msg, size_t len, const char *sig,
                          int64_t published_at_ms)
{
        struct record *r = calloc(1, sizeof *r);

        if (r == NULL || (r->msg = malloc(len + 1)) == NULL) {
                free(r);
                return RW_ERR_NOMEM;
        }
        r->kind = RECORD_HALT;
        memcpy(r->msg, msg, len);
        r->msg[len] = '\0';
        r->len = len;
        (void)snprintf(r->sig, sizeof r->sig, "%s", sig);
        r->at_ms = published_at_ms;
        append(q, r);
        return RW_OK;
}

int record_queue_add_acknowledged(struct record_queue *q, const char *halt_id, int64_t acked_at_ms)
{
        struct record *r = calloc(1, sizeof *r);

        if (r == NULL)
                return RW_ERR_NOMEM;
        r->kind = RECORD_ACKNOWLEDGED;
        (void)snprintf(r->halt_id, sizeof r->halt_id, "%s", halt_id);
        r->at_ms = acked_at_ms;
        append(q, r);
        return RW_OK;
}

int record_queue_add_resume(struct record_queue *q, const char *msg, size_t len, const char *sig,
                            const char *entry_id, int64_t seen_at_ms)
{
        struct record *r;

        if (msg == NULL || sig == NULL || entry_id == NULL)
                return RW_ERR_INVALID;
        if ((r = calloc(1, sizeof *r)) == NULL || (r->msg = malloc(len + 1)) == NULL) {
                free(r);
                return RW_ERR_NOMEM;
        }
        r->kind = RECORD_RESUME;
        memcpy(r->msg, msg, len);
        r->msg[len] = '\0';
        r->len = len;
        (void)snprintf(r->sig, sizeof r->sig, "%s", sig);
        (void)snprintf(r->entry_id, sizeof r->entry_id, "%s", entry_id);
        r->at_ms = seen_at_ms;
        append(q, r);
        return RW_OK;
}

int record_queue_add_checkpoint(struct record_queue *q, const char *origin, uint64_t size,
                                const unsigned char *root32, const char *note, uint64_t epoch,
                                const char *key_id, int64_t signed_at_ms)
{
        struct record *r;

        if (origin == NULL || root32 == NULL || note == NULL || key_id == NULL)
                return RW_ERR_INVALID;
        if ((r = calloc(1, sizeof *r)) == NULL)
                return RW_ERR_NOMEM;
        r->kind = RECORD_CHECKPOINT;
        r->checkpoint.origin = strdup(origin);
        r->checkpoint.note = strdup(note);
        r->checkpoint.key_id = strdup(key_id);
        if (r->checkpoint.origin == NULL || r->checkpoint.note == NULL ||
            r->checkpoint.key_id == NULL) {
                record_free(r);
                return RW_ERR_NOMEM;
        }
        r->checkpoint.size = size;
        memcpy(r->checkpoint.root, root32, RECORD_ROOT_BYTES);
        r->checkpoint.epoch = epoch;
        r->checkpoint.signed_at_ms = signed_at_ms;
        append(q, r);
        return RW_OK;
}

void record_queue_take_findings(struct record_queue *q, struct finding_journal *j)
{
        size_t i;

        for (i = 0; i < j->nunsaved; i++) {
                struct record *r = calloc(1, sizeof *r);

                if (r == NULL)
                        break; /* the rest stay in the journal for the next call */
                r->kind = RECORD_FINDING;
                r->finding = j->unsaved[i];
                j->unsaved[i].evidence_json = NULL; /* moved */
                append(q, r);
        }
        finding_journal_saved(j, i);
}

/* The head record, taken out of the queue; NULL when empty. */
static struct record *pop(struct record_queue *q)
{
        struct record *r;

        (void)pthread_mutex_lock(&q->lock);
        r = q->head;
        if (r != NULL)
                unlink_record(q, NULL, r);
        (void)pthread_mutex_unlock(&q->lock);
        return r;
}

/* Puts a record that failed back at the head. */
static void push_back(struct record_queue *q, struct record *r)
{
        (void)pthread_mutex_lock(&q->lock);
        make_room(q);
        r->next = q->head;
        q->head = r;
        if (q->tail == NULL)
                q->tail = r;
        q->n++;
        (void)pthread_mutex_unlock(&q->lock);
}

static int write_one(const struct record_writer *w, const struct record *r, struct rwerr *err)
{
        switch (r->kind) {
        case RECORD_HALT:
                return w->halt(w->ctx, r->msg, r->len, r->sig, r->at_ms, err);
        case RECORD_ACKNOWLEDGED:
                return w->acknowledged(w->ctx, r->halt_id, r->at_ms, err);
        case RECORD_FINDING:
                return w->finding(w->ctx, &r->finding, err);
        case RECORD_CHECKPOINT:
                if (w->checkpoint == NULL)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "checkpoint %" PRIu64 " of %s: the writer takes no "
                                         "checkpoints",
                                         r->checkpoint.size, r->checkpoint.origin);
                return w->checkpoint(w->ctx, &r->checkpoint, err);
        case RECORD_RESUME:
                if (w->resume == NULL)
                        return RW_OK; /* a writer that takes no RESUMEs: nothing to write */
                return w->resume(w->ctx, r->msg, r->len, r->sig, r->entry_id, r->at_ms, err);
        }
        return rwerr_set(err, RW_ERR_INVALID, "record of unknown kind %d", (int)r->kind);
}

/*
 * A checkpoint the database will never take (another root is recorded for
 * its size: the log was rewritten or forked). Said loudly, then dropped.
 */
static void refuse_checkpoint(struct record_queue *q, const struct record_checkpoint *cp,
                              const struct rwerr *why)
{
        char root[sodium_base64_ENCODED_LEN(RECORD_ROOT_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        cJSON *line = jsonlog_begin(JSONLOG_CRITICAL, "audit_checkpoint_refused", NULL);

        (void)sodium_bin2base64(root, sizeof root, cp->root, RECORD_ROOT_BYTES,
                                sodium_base64_VARIANT_ORIGINAL);
        cJSON_AddStringToObject(line, "origin", cp->origin);
        cJSON_AddNumberToObject(line, "size", (double)cp->size);
        cJSON_AddStringToObject(line, "root", root);
        cJSON_AddNumberToObject(line, "epoch", (double)cp->epoch);
        cJSON_AddStringToObject(line, "key_id", cp->key_id);
        cJSON_AddStringToObject(line, "note", cp->note);
        cJSON_AddStringToObject(line, "message", why->msg);
        cJSON_AddStringToObject(line, "action", "dropped from the record queue, not retried");
        jsonlog_emit(line);
        (void)pthread_mutex_lock(&q->lock);
        q->refused++;
        (void)pthread_mutex_unlock(&q->lock);
}

int record_queue_flush(struct record_queue *q, const struct record_writer *w, size_t *written,
                       struct rwerr *err)
{
        size_t limit, seen = 0, done = 0;
        struct rwerr why;
        struct record *r;
        int rc = RW_OK;

        (void)pthread_mutex_lock(&q->lock);
        limit = q->n; /* what waited when the flush began */
        (void)pthread_mutex_unlock(&q->lock);
        while (seen < limit && (r = pop(q)) != NULL) {
                seen++;
                rc = write_one(w, r, &why);
                if (rc == RW_ERR_REFUSED && r->kind == RECORD_CHECKPOINT) {
                        /* Retrying would block the queue forever: log it and drop it. */
                        refuse_checkpoint(q, &r->checkpoint, &why);
                        record_free(r);
                        rc = RW_OK;
                        continue;
                }
                if (rc != RW_OK) {
                        if (err != NULL)
                                *err = why;
                        push_back(q, r);
                        break;
                }
                record_free(r);
                done++;
        }
        if (written != NULL)
                *written = done;
        return rc;
}

size_t record_queue_waiting(struct record_queue *q)
{
        size_t n;

        (void)pthread_mutex_lock(&q->lock);
        n = q->n;
        (void)pthread_mutex_unlock(&q->lock);
        return n;
}

size_t record_queue_dropped(struct record_queue *q)
{
        size_t n;

        (void)pthread_mutex_lock(&q->lock);
        n = q->dropped;
        (void)pthread_mutex_unlock(&q->lock);
        return n;
}

size_t record_queue_refused(struct record_queue *q)
{
        size_t n;

        (void)pthread_mutex_lock(&q->lock);
        n = q->refused;
        (void)pthread_mutex_unlock(&q->lock);
        return n;
}

/* ------------------------------------------------------------ relaywatch_state */

static cJSON *heights_object(const struct control_msg *m)
{
        cJSON *o = cJSON_CreateObject();
        size_t k;

        for (k = 0; o != NULL && k < m->nheights; k++) {
                if (cJSON_AddNumberToObject(o, m->heights[k].chain, (double)m->heights[k].block) ==
                    NULL) {
                        cJSON_Delete(o);
                        return NULL;
                }
        }
        return o;
}

static int db_halt(void *ctx, const char *msg, size_t len, const char *sig, int64_t published_at_ms,
                   struct rwerr *err)
{
        struct control_msg m;
        struct state_halt h;
        char *evidence = NULL, *heights = NULL;
        cJSON *hobj = NULL;
        int rc;

        if (control_msg_parse(msg, len, &m, err) != RW_OK)
                return RW_OK; /* our own message: cannot happen; never retry it forever */
        evidence = m.evidence != NULL ? cJSON_PrintUnformatted(m.evidence) : strdup("{}");
        hobj = heights_object(&m);
        heights = hobj != NULL ? cJSON_PrintUnformatted(hobj) : NULL;
        if (evidence == NULL || heights == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory recording halt %s", m.id);
                goto out;
        }
        memset(&h, 0, sizeof h);
        h.halt_id = m.id;
        h.invariant = m.invariant;
        h.severity = m.severity;
        h.reason = m.reason;
        h.evidence_json = evidence;
        h.heights_json = heights;
        h.correlation_id = m.correlation_id;
        h.msg = msg;
        h.sig = sig;
        h.issued_at_ms = m.issued_at_ms;
        h.published_at_ms = published_at_ms;
        rc = state_halt_record(ctx, &h, err);
out:
        free(evidence);
        free(heights);
        cJSON_Delete(hobj);
        control_msg_free(&m);
        return rc;
}

static int db_acknowledged(void *ctx, const char *halt_id, int64_t acked_at_ms, struct rwerr *err)
{
        return state_halt_acknowledged(ctx, halt_id, acked_at_ms, err);
}

static int db_finding(void *ctx, const struct finding_record *f, struct rwerr *err)
{
        if (f->evidence_json == NULL)
                return rwerr_set(err, RW_ERR_NOMEM,
                                 "finding %s: its evidence was lost to an "
                                 "allocation failure",
                                 f->kind);
        return state_finding_record(ctx, f->kind, finding_severity_name(f->severity), f->summary,
                                    f->evidence_json, f->correlation_id, err);
}

static int db_checkpoint(void *ctx, const struct record_checkpoint *cp, struct rwerr *err)
{
        struct state_audit_checkpoint s;

        memset(&s, 0, sizeof s);
        s.origin = cp->origin;
        s.size = cp->size;
        s.root = cp->root;
        s.note = cp->note;
        s.epoch = cp->epoch;
        s.key_id = cp->key_id;
        s.signed_at_ms = cp->signed_at_ms;
        /* RW_ERR_REFUSED (another root held for this size) is dropped by the flush. */
        return state_audit_checkpoint_put(ctx, &s, err);
}

/* `forced` of a RESUME's evidence (relaywatch resume writes it); absent: not forced. */
static int resume_forced(const struct control_msg *m)
{
        const cJSON *f = m->evidence != NULL
                                 ? cJSON_GetObjectItemCaseSensitive(m->evidence, "forced")
                                 : NULL;

        return cJSON_IsTrue(f);
}

static int db_resume(void *ctx, const char *msg, size_t len, const char *sig, const char *entry_id,
                     int64_t seen_at_ms, struct rwerr *err)
{
        struct control_msg m;
        struct state_resume r;
        int rc;

        if (control_msg_parse(msg, len, &m, err) != RW_OK || m.type != CONTROL_RESUME) {
                control_msg_free(&m); /* zeroed when the parse failed */
                /* judged and accepted before it was queued: cannot happen; never retry it */
                jsonlog_message(JSONLOG_ERROR, "state_record_failed", NULL,
                                "the RESUME of stream entry %s could not be read again; not "
                                "recorded (the stream and the audit log have it)",
                                entry_id);
                return RW_OK;
        }
        memset(&r, 0, sizeof r);
        r.resume_id = m.id;
        r.lifts = m.lifts;
        r.nlifts = m.nlifts;
        r.key_id = m.key_id;
        r.reason = m.reason != NULL ? m.reason : "";
        r.forced = resume_forced(&m);
        r.msg = msg;
        r.sig = sig;
        r.entry_id = entry_id;
        r.issued_at_ms = m.issued_at_ms;
        r.seen_at_ms = seen_at_ms;
        rc = state_resume_record(ctx, &r, NULL, err);
        control_msg_free(&m);
        return rc;
}

int record_queue_flush_db(struct record_queue *q, struct dbconn *db, size_t *written,
                          struct rwerr *err)
{
        const struct record_writer w = {db_halt, db_acknowledged, db_finding, db_checkpoint,
                                        db,      db_resume};

        return record_queue_flush(q, &w, written, err);
}
