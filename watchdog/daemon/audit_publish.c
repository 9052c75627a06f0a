#include "audit_publish.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#include "audit_log.h"
#include "audit_note.h"
#include "jsonlog.h"
#include "record_queue.h"
#include "redisconn.h"
#include "rwclock.h"
#include "signing_key.h"

#define KEY_MAX 256
#define PENDING_MAX 64             /* published checkpoints waiting for a cosignature */
#define WITNESS_CHECK_MS 10000     /* how often the cosignatures are read */
#define WITNESSES_MAX ((size_t)64) /* fields of K:cosigned looked at */

struct pending {
        uint64_t size;
        int64_t published_ms;
};

struct audit_publish {
        const struct config *cfg;
        struct finding_journal *journal;
        struct record_queue *records;
        struct redisconn *redis;
        char key[KEY_MAX], proofs_key[KEY_MAX + 8], cosigned_key[KEY_MAX + 10];

        uint64_t queued_size;    /* the last checkpoint handed to the record queue */
        uint64_t published_size; /* the last checkpoint written to Redis */
        char published_problem[RWERR_MSG_MAX];

        struct verify_key witnesses[CONFIG_KEYS_MAX];
        size_t nwitnesses;
        int witness_keys_read;
        uint64_t witness_checked_mono_ms;
        struct pending pending[PENDING_MAX];
        size_t npending;
        int stale_reported, inconsistent_reported;
        uint64_t cosigned_size; /* the largest size a witness cosigned for this log */
};

struct audit_publish *audit_publish_new(const struct config *cfg, struct finding_journal *journal,
                                        struct record_queue *records)
{
        struct audit_publish *p = calloc(1, sizeof *p);
        struct redisconn_options ro;
        struct rwerr err;

        if (p == NULL)
                return NULL;
        p->cfg = cfg;
        p->journal = journal;
        p->records = records;
        snprintf(p->key, sizeof p->key, "%s", cfg->audit_redis_key);
        snprintf(p->proofs_key, sizeof p->proofs_key, "%s:proofs", p->key);
        snprintf(p->cosigned_key, sizeof p->cosigned_key, "%s:cosigned", p->key);
        memset(&ro, 0, sizeof ro);
        ro.url = cfg->redis_url;
        ro.timeout_ms = (long)cfg->redis_timeout_ms;
        if ((p->redis = redisconn_new(&ro, &err)) == NULL) {
                free(p);
                return NULL;
        }
        return p;
}

void audit_publish_free(struct audit_publish *p)
{
        if (p == NULL)
                return;
        redisconn_free(p->redis);
        free(p);
}

static void report(struct audit_publish *p, const char *kind, enum finding_severity sev,
                   const cJSON *evidence, const char *summary)
{
        struct finding f;

        memset(&f, 0, sizeof f);
        f.kind = kind;
        f.severity = sev;
        f.summary = summary;
        f.evidence = evidence;
        f.correlation_id = "audit";
        f.subject = "audit";
        finding_report(p->journal, &f);
}

/* One command given as argv; RW_OK with *reply (freeReplyObject), or an error noted on the link. */
static int command(struct audit_publish *p, redisContext *ctx, int argc, const char **argv,
                   const size_t *lens, redisReply **reply)
{
        struct rwerr err;

        *reply = redisCommandArgv(ctx, argc, argv, lens);
        if (*reply == NULL)
                return redisconn_failed(p->redis, RW_ERR_IO,
                                        &(struct rwerr){.msg = "the audit publication: no reply"});
        if ((*reply)->type == REDIS_REPLY_ERROR) {
                rwerr_set(&err, RW_ERR_REMOTE, "the audit publication: %s", (*reply)->str);
                freeReplyObject(*reply);
                *reply = NULL;
                return redisconn_failed(p->redis, RW_ERR_REMOTE, &err);
        }
        return RW_OK;
}

/* The sizes witnesses last cosigned (parsed from K:cosigned), into sizes[*n]; their notes kept in *reply. */
static int cosigned(struct audit_publish *p, redisContext *ctx, redisReply **reply)
{
        const char *argv[2] = {"HGETALL", p->cosigned_key};
        size_t lens[2] = {7, strlen(p->cosigned_key)};

        return command(p, ctx, 2, argv, lens, reply);
}

/* The checkpoint a cosigned note is about, when it is this log's (origin). */
static int note_checkpoint(const struct audit_publish *p, const char *text, size_t len,
                           struct audit_note *n, struct audit_checkpoint *cp)
{
        struct rwerr err;

        if (audit_note_parse(text, len, n, &err) != RW_OK)
                return 0;
        if (audit_checkpoint_parse(n->text, n->text_len, cp, &err) != RW_OK ||
            strcmp(cp->origin, p->cfg->audit_origin) != 0) {
                audit_note_release(n);
                return 0;
        }
        return 1;
}

/* HSET K:proofs M {...} for every size witnesses stand at, and HDEL the others. */
static int publish_proofs(struct audit_publish *p, redisContext *ctx, struct audit_log *log,
                          uint64_t to, const redisReply *cos)
{
        unsigned char proof[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES];
        const char *del[2] = {"DEL", p->proofs_key};
        size_t dlen[2] = {3, strlen(p->proofs_key)}, i, j, n;
        redisReply *reply;
        struct rwerr err;
        int rc;

        if ((rc = command(p, ctx, 2, del, dlen, &reply)) != RW_OK)
                return rc;
        freeReplyObject(reply);
        for (i = 1; cos != NULL && i < cos->elements && i < 2 * WITNESSES_MAX; i += 2) {
                struct audit_note note;
                struct audit_checkpoint cp;
                char from[24], b64[48], *text;
                cJSON *o, *arr;
                const char *argv[4];
                size_t lens[4];

                if (cos->element[i]->type != REDIS_REPLY_STRING ||
                    !note_checkpoint(p, cos->element[i]->str, cos->element[i]->len, &note, &cp))
                        continue;
                audit_note_release(&note);
                if (cp.size == 0 || cp.size >= to)
                        continue;
                if (audit_log_consistency_proof(log, cp.size, to, proof, &n, &err) != RW_OK) {
                        snprintf(p->published_problem, sizeof p->published_problem, "%s", err.msg);
                        continue;
                }
                if ((o = cJSON_CreateObject()) == NULL)
                        return RW_ERR_NOMEM;
                cJSON_AddNumberToObject(o, "from", (double)cp.size);
                cJSON_AddNumberToObject(o, "to", (double)to);
                arr = cJSON_AddArrayToObject(o, "proof");
                for (j = 0; arr != NULL && j < n; j++) {
                        (void)sodium_bin2base64(b64, sizeof b64, proof[j], AUDIT_HASH_BYTES,
                                                sodium_base64_VARIANT_ORIGINAL);
                        cJSON_AddItemToArray(arr, cJSON_CreateString(b64));
                }
                text = cJSON_PrintUnformatted(o);
                cJSON_Delete(o);
                if (text == NULL)
                        return RW_ERR_NOMEM;
                snprintf(from, sizeof from, "%" PRIu64, cp.size);
                argv[0] = "HSET";
                argv[1] = p->proofs_key;
                argv[2] = from;
                argv[3] = text;
                for (j = 0; j < 4; j++)
                        lens[j] = strlen(argv[j]);
                rc = command(p, ctx, 4, argv, lens, &reply);
                free(text);
                if (rc != RW_OK)
                        return rc;
                freeReplyObject(reply);
        }
        return RW_OK;
}

/*
 * The key chain up to the epoch that signed the checkpoint published with
 * it: a witness takes a later key in the chain for the one that must sign
 * (a rotation cut short by a failure would otherwise look like an expired
 * key). Malloc'd JSON text, or NULL.
 */
static char *keys_up_to(struct audit_log *log, uint64_t epoch)
{
        char *text = audit_log_keys_json(log);
        cJSON *chain = text != NULL ? cJSON_Parse(text) : NULL;
        int i;

        free(text);
        if (!cJSON_IsArray(chain)) {
                cJSON_Delete(chain);
                return NULL;
        }
        for (i = cJSON_GetArraySize(chain) - 1; i >= 0; i--) {
                const cJSON *e =
                        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(chain, i), "epoch");

                if (cJSON_IsNumber(e) && e->valuedouble > (double)epoch)
                        cJSON_DeleteItemFromArray(chain, i);
        }
        text = cJSON_PrintUnformatted(chain);
        cJSON_Delete(chain);
        return text;
}

/* HSET K checkpoint ... keys ... and the proofs; RW_OK when all of it is written. */
static int publish_redis(struct audit_publish *p, struct audit_log *log,
                         const struct audit_log_checkpoint *last)
{
        redisContext *ctx = redisconn_get(p->redis);
        redisReply *reply = NULL, *cos = NULL;
        char size[24], *keys;
        const char *argv[12];
        size_t lens[12], i;
        int rc;

        if (ctx == NULL)
                return RW_ERR_IO;
        if ((keys = keys_up_to(log, last->epoch)) == NULL)
                return RW_ERR_NOMEM;
        snprintf(size, sizeof size, "%" PRIu64, last->size);
        argv[0] = "HSET";
        argv[1] = p->key;
        argv[2] = "checkpoint";
        argv[3] = last->note;
        argv[4] = "keys";
        argv[5] = keys;
        argv[6] = "origin";
        argv[7] = p->cfg->audit_origin;
        argv[8] = "size";
        argv[9] = size;
        argv[10] = "root";
        argv[11] = last->root_b64;
        for (i = 0; i < 12; i++)
                lens[i] = strlen(argv[i]);
        rc = command(p, ctx, 12, argv, lens, &reply);
        free(keys);
        if (rc != RW_OK)
                return rc;
        freeReplyObject(reply);
        if ((rc = cosigned(p, ctx, &cos)) != RW_OK)
                return rc;
        rc = publish_proofs(p, ctx, log, last->size, cos->type == REDIS_REPLY_ARRAY ? cos : NULL);
        freeReplyObject(cos);
        return rc;
}

/* ------------------------------------------------------------ witnesses */

static void read_witness_keys(struct audit_publish *p)
{
        struct rwerr err;
        size_t i;

        p->witness_keys_read = 1;
        for (i = 0; i < p->cfg->naudit_witness_keys; i++) {
                if (verify_key_load(p->cfg->audit_witness_keys[i], &p->witnesses[p->nwitnesses],
                                    &err) == RW_OK)
                        p->nwitnesses++;
                else
                        jsonlog_message(JSONLOG_ERROR, "audit_witness_key_unreadable", "audit",
                                        "[audit] witness_keys: %s: cosignatures by it are not "
                                        "counted",
                                        err.msg);
        }
}

/* A cosignature by a configured witness on `n`: 1 with its time and key_id. */
static int witnessed(const struct audit_publish *p, const struct audit_note *n, uint64_t *time_s,
                     const char **who)
{
        struct rwerr err;
        size_t i, s;

        for (i = 0; i < p->nwitnesses; i++)
                for (s = 0; s < n->nsigs; s++)
                        if (audit_note_verify_cosignature(n, n->sigs[s].name, p->witnesses[i].pk,
                                                          time_s, &err) == RW_OK) {
                                *who = p->witnesses[i].key_id;
                                return 1;
                        }
        return 0;
}

/* What the witnesses cosigned, checked against this log. */
static void check_witnesses(struct audit_publish *p, struct audit_log *log, int64_t now_ms)
{
        redisContext *ctx = redisconn_get(p->redis);
        redisReply *cos = NULL;
        char summary[FINDING_TEXT_MAX];
        size_t i;

        if (ctx == NULL || cosigned(p, ctx, &cos) != RW_OK || cos == NULL)
                return;
        for (i = 1; cos->type == REDIS_REPLY_ARRAY && i < cos->elements && i < 2 * WITNESSES_MAX;
             i += 2) {
                struct audit_note note;
                struct audit_checkpoint cp;
                unsigned char root[AUDIT_HASH_BYTES];
                const char *who = NULL;
                uint64_t t = 0;
                struct rwerr err;

                if (cos->element[i]->type != REDIS_REPLY_STRING ||
                    !note_checkpoint(p, cos->element[i]->str, cos->element[i]->len, &note, &cp))
                        continue;
                if (!witnessed(p, &note, &t, &who)) {
                        audit_note_release(&note);
                        continue;
                }
                if (audit_log_root_at(log, cp.size, root, &err) == RW_OK &&
                    sodium_memcmp(root, cp.root, AUDIT_HASH_BYTES) != 0 &&
                    !p->inconsistent_reported) {
                        cJSON *ev = cJSON_CreateObject();

                        cJSON_AddStringToObject(ev, "witness_key_id", who);
                        cJSON_AddStringToObject(ev, "cosigned", cos->element[i]->str);
                        snprintf(summary, sizeof summary,
                                 "witness %s cosigned a checkpoint of %" PRIu64
                                 " records whose root is not this log's: it was shown another "
                                 "history of the audit log",
                                 who, cp.size);
                        report(p, "AUDIT_LOG_INCONSISTENT", FINDING_CRITICAL, ev, summary);
                        cJSON_Delete(ev);
                        p->inconsistent_reported = 1;
                } else if (cp.size > p->cosigned_size) {
                        p->cosigned_size = cp.size;
                }
                audit_note_release(&note);
        }
        freeReplyObject(cos);
        /* what is cosigned no longer waits */
        while (p->npending > 0 && p->pending[0].size <= p->cosigned_size) {
                memmove(&p->pending[0], &p->pending[1], (p->npending - 1) * sizeof p->pending[0]);
                p->npending--;
        }
        if (p->npending > 0 &&
            now_ms - p->pending[0].published_ms > (int64_t)p->cfg->audit_witness_max_age_s * 1000) {
                if (!p->stale_reported) {
                        cJSON *ev = cJSON_CreateObject();

                        cJSON_AddNumberToObject(ev, "uncosigned_size", (double)p->pending[0].size);
                        cJSON_AddNumberToObject(ev, "cosigned_size", (double)p->cosigned_size);
                        cJSON_AddNumberToObject(ev, "witness_max_age_s",
                                                (double)p->cfg->audit_witness_max_age_s);
                        snprintf(summary, sizeof summary,
                                 "no witness has cosigned the audit checkpoint of %" PRIu64
                                 " records for more than %" PRIu64
                                 " s: nobody outside this host vouches for the log since",
                                 p->pending[0].size, p->cfg->audit_witness_max_age_s);
                        report(p, "AUDIT_WITNESS_STALE", FINDING_ERROR, ev, summary);
                        cJSON_Delete(ev);
                        p->stale_reported = 1;
                }
        } else if (p->stale_reported) {
                finding_clear(p->journal, "AUDIT_WITNESS_STALE", "audit", "audit",
                              "a witness cosigned the audit log again");
                p->stale_reported = 0;
        }
}

void audit_publish_tick(struct audit_publish *p, struct audit_log *log)
{
        struct audit_log_checkpoint last;
        uint64_t now = rwclock_mono_ms();

        if (p == NULL || log == NULL)
                return;
        (void)audit_log_latest(log, &last);
        if (last.unix_ms == 0)
                return;
        if (last.size != p->queued_size && p->records != NULL &&
            record_queue_add_checkpoint(p->records, p->cfg->audit_origin, last.size, last.root,
                                        last.note, last.epoch, last.key_id, last.unix_ms) == RW_OK)
                p->queued_size = last.size;
        if (last.size != p->published_size && p->cfg->redis_url != NULL &&
            publish_redis(p, log, &last) == RW_OK) {
                p->published_size = last.size;
                if (p->npending == PENDING_MAX) {
                        memmove(&p->pending[0], &p->pending[1],
                                (PENDING_MAX - 1) * sizeof p->pending[0]);
                        p->npending--;
                }
                p->pending[p->npending].size = last.size;
                p->pending[p->npending++].published_ms = last.unix_ms;
        }
        if (p->cfg->naudit_witness_keys == 0 || p->cfg->audit_witness_max_age_s == 0 ||
            now - p->witness_checked_mono_ms < WITNESS_CHECK_MS)
                return;
        p->witness_checked_mono_ms = now;
        if (!p->witness_keys_read)
                read_witness_keys(p);
        check_witnesses(p, log, rwclock_wall_ms());
}
