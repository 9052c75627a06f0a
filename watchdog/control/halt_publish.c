#include "halt_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "redisconn.h"

/*
 * KEYS[1] resumed, KEYS[2] incidents, KEYS[3] marker, KEYS[4] stream,
 * KEYS[5] halt key ("" for none); ARGV[1] incidents field, ARGV[2] msg,
 * ARGV[3] sig, ARGV[4] message id. Returns {outcome, detail}: {4, halt id
 * lifted}, {2, "HALT_ID ENTRY_ID"}, {3} or {1, entry id}.
 */
static const char publish_script[] =
        "local f = ARGV[1]\n"
        "if f ~= 'MANUAL' then\n"
        "  local lifted = redis.call('HGET', KEYS[1], f)\n"
        "  if lifted then return {4, lifted} end\n"
        "end\n"
        "local open = redis.call('HGET', KEYS[2], f)\n"
        "if open then return {2, open} end\n"
        "if not redis.call('SET', KEYS[3], '1', 'NX') then return {3} end\n"
        "local e = redis.call('XADD', KEYS[4], '*', 'msg', ARGV[2], 'sig', ARGV[3])\n"
        "redis.call('HSET', KEYS[2], f, ARGV[4] .. ' ' .. e)\n"
        "if KEYS[5] ~= '' and redis.call('EXISTS', KEYS[5]) == 0 then\n"
        "  redis.call('HSET', KEYS[5], 'msg', ARGV[2], 'sig', ARGV[3])\n"
        "end\n"
        "return {1, e}\n";

/*
 * KEYS[1] marker, KEYS[2] stream, KEYS[3] incidents, KEYS[4] resumed,
 * KEYS[5] halt key ("" for none); ARGV[1] msg, ARGV[2] sig, ARGV[3] "1"
 * when forced, ARGV[4] the ack key prefix, ARGV[5..] the HALT ids the
 * RESUME lifts. Returns {1, entry id}; {0} when the marker existed; {2,
 * halt id} when a HALT in `incidents` is not among those lifted (it came
 * in force after the RESUME was signed: nothing is written).
 */
static const char resume_script[] =
        "local lifts = {}\n"
        "for i = 5, #ARGV do lifts[ARGV[i]] = true end\n"
        "local all = redis.call('HGETALL', KEYS[3])\n"
        "for i = 1, #all, 2 do\n"
        "  local v = all[i + 1]\n"
        "  local sp = string.find(v, ' ', 1, true)\n"
        "  if sp then v = string.sub(v, 1, sp - 1) end\n"
        "  if not lifts[v] then return {2, v} end\n"
        "end\n"
        "if not redis.call('SET', KEYS[1], '1', 'NX') then return {0} end\n"
        "local e = redis.call('XADD', KEYS[2], '*', 'msg', ARGV[1], 'sig', ARGV[2])\n"
        "if ARGV[3] == '1' then\n"
        "  for i = 1, #all, 2 do\n"
        "    if all[i] ~= 'MANUAL' then\n"
        "      local v = all[i + 1]\n"
        "      local sp = string.find(v, ' ', 1, true)\n"
        "      if sp then v = string.sub(v, 1, sp - 1) end\n"
        "      redis.call('HSET', KEYS[4], all[i], v)\n"
        "    end\n"
        "  end\n"
        "end\n"
        "redis.call('DEL', KEYS[3])\n"
        "if KEYS[5] ~= '' then redis.call('DEL', KEYS[5]) end\n"
        "for i = 5, #ARGV do redis.call('DEL', ARGV[4] .. ARGV[i]) end\n"
        "return {1, e}\n";

/* The names every call needs, explicit or derived from the stream. */
struct names {
        char marker_base[HALT_PUBLISH_KEY_MAX];
        char incidents[HALT_PUBLISH_KEY_MAX];
        char resumed[HALT_PUBLISH_KEY_MAX];
        char ack_prefix[HALT_PUBLISH_KEY_MAX]; /* STREAM:ack: */
        char clients[HALT_PUBLISH_KEY_MAX];    /* STREAM:clients */
};

static int name_or_derived(const char *given, const char *stream, const char *suffix, char *out,
                           struct rwerr *err)
{
        int n = given != NULL ? snprintf(out, HALT_PUBLISH_KEY_MAX, "%s", given)
                              : snprintf(out, HALT_PUBLISH_KEY_MAX, "%s:%s", stream, suffix);

        if (n < 0 || n >= HALT_PUBLISH_KEY_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "control key name %s%s%s is too long",
                                 given != NULL ? given : stream, given != NULL ? "" : ":",
                                 given != NULL ? "" : suffix);
        return RW_OK;
}

static int names_get(const struct halt_publish_keys *k, struct names *n, struct rwerr *err)
{
        int rc;

        if (k->stream == NULL || k->stream[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "no control stream name given");
        if ((rc = name_or_derived(k->marker_base, k->stream, "published", n->marker_base, err)) !=
                    RW_OK ||
            (rc = name_or_derived(k->incidents, k->stream, "incidents", n->incidents, err)) !=
                    RW_OK ||
            (rc = name_or_derived(k->resumed, k->stream, "resumed", n->resumed, err)) != RW_OK ||
            (rc = name_or_derived(NULL, k->stream, "ack:", n->ack_prefix, err)) != RW_OK ||
            (rc = name_or_derived(NULL, k->stream, "clients", n->clients, err)) != RW_OK)
                return rc;
        return RW_OK;
}

void halt_publish_default_keys(struct halt_publish_keys *k)
{
        k->stream = "relayer:control";
        k->halt_key = "relayer:halt";
        k->marker_base = "relayer:control:published";
        k->incidents = "relayer:control:incidents";
        k->resumed = "relayer:control:resumed";
}

void halt_publish_keys_from_config(struct halt_publish_keys *k, const struct config *c)
{
        k->stream = c->control_stream != NULL ? c->control_stream : "relayer:control";
        k->halt_key = c->halt_key != NULL ? c->halt_key : "relayer:halt";
        k->marker_base = NULL;
        k->incidents = NULL;
        k->resumed = NULL;
}

/*
 * The common failures of one command: no reply (connection) and an error
 * reply. Returns RW_OK when `r` is a reply of another type; otherwise frees
 * nothing and fills `err` with "WHAT: ...".
 */
static int reply_check(redisContext *ctx, const redisReply *r, const char *what, struct rwerr *err)
{
        if (r == NULL)
                return rwerr_set(err, RW_ERR_IO, "%s: %s", what,
                                 ctx->errstr[0] ? ctx->errstr : "no reply from Redis");
        if (r->type == REDIS_REPLY_ERROR)
                return rwerr_set(err, RW_ERR_REMOTE, "%s: Redis says: %s", what, r->str);
        return RW_OK;
}

/* Copies a string reply into out[cap]; 0 when it is not a string or does not fit. */
static int copy_str(const redisReply *r, char *out, size_t cap)
{
        if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) ||
            r->len >= cap || memchr(r->str, '\0', r->len) != NULL)
                return 0;
        memcpy(out, r->str, r->len);
        out[r->len] = '\0';
        return 1;
}

static int str_is(const redisReply *r, const char *s)
{
        return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
               r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
        uint64_t v = 0;
        size_t i;

        if (len == 0 || len > 20)
                return 0;
        for (i = 0; i < len; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return 0;
                d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return 0;
                v = v * 10 + d;
        }
        *out = v;
        return 1;
}

/* "MS-SEQ" into its two numbers; 0 when it is not of that form. */
static int entry_id_parse(const char *id, uint64_t *ms, uint64_t *seq)
{
        const char *dash = strchr(id, '-');

        if (dash == NULL)
                return 0;
        return parse_u64(id, (size_t)(dash - id), ms) && parse_u64(dash + 1, strlen(dash + 1), seq);
}

int halt_publish_entry_id_cmp(const char *a, const char *b, int *cmp, struct rwerr *err)
{
        uint64_t ams = 0, aseq = 0, bms = 0, bseq = 0;

        *cmp = 0;
        if (!entry_id_parse(a, &ams, &aseq))
                return rwerr_set(err, RW_ERR_INVALID, "'%s' is not a stream entry id (MS-SEQ)", a);
        if (!entry_id_parse(b, &bms, &bseq))
                return rwerr_set(err, RW_ERR_INVALID, "'%s' is not a stream entry id (MS-SEQ)", b);
        if (ams != bms)
                *cmp = ams < bms ? -1 : 1;
        else if (aseq != bseq)
                *cmp = aseq < bseq ? -1 : 1;
        return RW_OK;
}

/* Splits an incidents value "HALT_ID ENTRY_ID"; 0 when it is not of that form. */
static int split_incident(const char *v, size_t len, char halt_id[CONTROL_ID_SIZE],
                          char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE])
{
        const char *sp = memchr(v, ' ', len);
        size_t a, b;
        uint64_t ms, seq;

        if (sp == NULL)
                return 0;
        a = (size_t)(sp - v);
        b = len - a - 1;
        if (a == 0 || a >= CONTROL_ID_SIZE || b == 0 || b >= HALT_PUBLISH_ENTRY_ID_SIZE ||
            memchr(v, '\0', len) != NULL)
                return 0;
        memcpy(halt_id, v, a);
        halt_id[a] = '\0';
        memcpy(entry_id, sp + 1, b);
        entry_id[b] = '\0';
        return entry_id_parse(entry_id, &ms, &seq) && strchr(halt_id, ' ') == NULL;
}

int halt_publish(redisContext *ctx, const struct halt_publish_keys *k, const char *id,
                 const char *incident_field, const char *msg, size_t msg_len, const char *sig,
                 struct halt_publish_result *res, struct rwerr *err)
{
        char marker[HALT_PUBLISH_KEY_MAX + CONTROL_ID_SIZE], what[HALT_PUBLISH_KEY_MAX + 96];
        const char *halt_key = k->halt_key != NULL ? k->halt_key : "";
        struct names n;
        redisReply *r;
        long long outcome;
        int rc;

        memset(res, 0, sizeof *res);
        if ((rc = names_get(k, &n, err)) != RW_OK)
                return rc;
        if (incident_field == NULL || incident_field[0] == '\0' ||
            strlen(incident_field) >= HALT_PUBLISH_FIELD_SIZE)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "publishing %s: the incident field must be 1 to %d bytes", id,
                                 HALT_PUBLISH_FIELD_SIZE - 1);
        if (strlen(id) >= CONTROL_ID_SIZE || strchr(id, ' ') != NULL)
                return rwerr_set(err, RW_ERR_RANGE, "message id %.64s... is not a control id", id);
        if (snprintf(marker, sizeof marker, "%s:%s", n.marker_base, id) >= (int)sizeof marker)
                return rwerr_set(err, RW_ERR_RANGE, "message id %s makes a marker key too long",
                                 id);
        (void)snprintf(what, sizeof what, "publishing HALT %s on stream %s", id, k->stream);
        r = redisCommand(ctx, "EVAL %s 5 %s %s %s %s %s %s %b %s %s", publish_script, n.resumed,
                         n.incidents, marker, k->stream, halt_key, incident_field, msg, msg_len,
                         sig, id);
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
            r->element[0]->type != REDIS_REPLY_INTEGER) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL,
                               "%s: the script returned %s, not {outcome, ...}", what,
                               redisconn_reply_type_name(r->type));
                goto out;
        }
        outcome = r->element[0]->integer;
        if (outcome == HALT_ALREADY_OPEN && r->elements == 2 &&
            r->element[1]->type == REDIS_REPLY_STRING) {
                if (!split_incident(r->element[1]->str, r->element[1]->len, res->halt_id,
                                    res->entry_id)) {
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "%s: field %s of %s is not \"HALT_ID ENTRY_ID\"", what,
                                       incident_field, n.incidents);
                        goto out;
                }
        } else if (outcome == HALT_RESUMED_OPEN && r->elements == 2 &&
                   copy_str(r->element[1], res->halt_id, sizeof res->halt_id)) {
                res->entry_id[0] = '\0'; /* halt_id: the one the forced RESUME lifted */
        } else if ((outcome == HALT_PUBLISHED && r->elements == 2 &&
                    copy_str(r->element[1], res->entry_id, sizeof res->entry_id)) ||
                   (outcome == HALT_ALREADY_SENT && r->elements == 1)) {
                (void)snprintf(res->halt_id, sizeof res->halt_id, "%s", id);
        } else {
                rc = rwerr_set(err, RW_ERR_PROTOCOL,
                               "%s: the script returned outcome %lld with %zu values", what,
                               outcome, r->elements);
                goto out;
        }
        res->outcome = (enum halt_publish_outcome)outcome;
out:
        if (rc != RW_OK)
                memset(res, 0, sizeof *res);
        freeReplyObject(r);
        return rc;
}

int halt_publish_resume(redisContext *ctx, const struct halt_publish_keys *k, const char *id,
                        const char *msg, size_t msg_len, const char *sig, int forced,
                        const char *const *lifts, size_t nlifts,
                        struct halt_publish_resume_result *res, struct rwerr *err)
{
        char marker[HALT_PUBLISH_KEY_MAX + CONTROL_ID_SIZE], what[HALT_PUBLISH_KEY_MAX + 96];
        const char *halt_key = k->halt_key != NULL ? k->halt_key : "";
        const char **argv = NULL;
        size_t *argl = NULL, i, argc = 12 + nlifts;
        struct names n;
        redisReply *r = NULL;
        int rc;

        memset(res, 0, sizeof *res);
        if ((rc = names_get(k, &n, err)) != RW_OK)
                return rc;
        if (snprintf(marker, sizeof marker, "%s:%s", n.marker_base, id) >= (int)sizeof marker)
                return rwerr_set(err, RW_ERR_RANGE, "message id %s makes a marker key too long",
                                 id);
        (void)snprintf(what, sizeof what, "publishing RESUME %s on stream %s", id, k->stream);
        argv = calloc(argc, sizeof *argv);
        argl = calloc(argc, sizeof *argl);
        if (argv == NULL || argl == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", what);
                goto out;
        }
        argv[0] = "EVAL";
        argv[1] = resume_script;
        argv[2] = "5";
        argv[3] = marker;
        argv[4] = k->stream;
        argv[5] = n.incidents;
        argv[6] = n.resumed;
        argv[7] = halt_key;
        argv[8] = msg;
        argv[9] = sig;
        argv[10] = forced ? "1" : "0";
        argv[11] = n.ack_prefix;
        for (i = 0; i < nlifts; i++)
                argv[12 + i] = lifts[i];
        for (i = 0; i < argc; i++)
                argl[i] = i == 8 ? msg_len : strlen(argv[i]);
        r = redisCommandArgv(ctx, (int)argc, argv, argl);
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
            r->element[0]->type != REDIS_REPLY_INTEGER ||
            (r->element[0]->integer != 0 && r->elements != 2)) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: the script returned %s", what,
                               redisconn_reply_type_name(r->type));
                goto out;
        }
        res->outcome = (int)r->element[0]->integer;
        if (res->outcome == HALT_RESUME_PUBLISHED &&
            !copy_str(r->element[1], res->entry_id, sizeof res->entry_id))
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: the entry id is too long", what);
        else if (res->outcome == HALT_RESUME_NOT_LISTED &&
                 !copy_str(r->element[1], res->halt_id, sizeof res->halt_id))
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: the halt id is too long", what);
        else if (res->outcome != HALT_RESUME_PUBLISHED && res->outcome != HALT_RESUME_NOT_LISTED &&
                 res->outcome != HALT_RESUME_ALREADY_SENT)
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: the script returned outcome %d", what,
                               res->outcome);
out:
        if (rc != RW_OK)
                memset(res, 0, sizeof *res);
        free(argv);
        free(argl);
        freeReplyObject(r);
        return rc;
}

int halt_publish_clear_resumed(redisContext *ctx, const struct halt_publish_keys *k,
                               const char *const *invariants, size_t n, struct rwerr *err)
{
        char what[HALT_PUBLISH_KEY_MAX + 64];
        const char **argv = NULL;
        struct names nm;
        redisReply *r = NULL;
        size_t i;
        int rc;

        if ((rc = names_get(k, &nm, err)) != RW_OK)
                return rc;
        if (n == 0)
                return RW_OK;
        if (n > 4096)
                return rwerr_set(err, RW_ERR_RANGE, "clearing %zu fields of %s: too many", n,
                                 nm.resumed);
        if ((argv = malloc((n + 2) * sizeof *argv)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "clearing fields of %s: out of memory",
                                 nm.resumed);
        argv[0] = "HDEL";
        argv[1] = nm.resumed;
        for (i = 0; i < n; i++)
                argv[i + 2] = invariants[i];
        (void)snprintf(what, sizeof what, "clearing fields of %s (HDEL)", nm.resumed);
        r = redisCommandArgv(ctx, (int)(n + 2), argv, NULL);
        if ((rc = reply_check(ctx, r, what, err)) == RW_OK && r->type != REDIS_REPLY_INTEGER)
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: Redis returned %s, not a count", what,
                               redisconn_reply_type_name(r->type));
        freeReplyObject(r);
        free(argv);
        return rc;
}

static int open_cmp(const void *pa, const void *pb)
{
        const struct halt_publish_open *a = pa, *b = pb;
        struct rwerr err;
        int c = 0;

        if (halt_publish_entry_id_cmp(a->entry_id, b->entry_id, &c, &err) != RW_OK)
                return strcmp(a->entry_id, b->entry_id);
        return c != 0 ? c : strcmp(a->field, b->field);
}

int halt_publish_open_halts(redisContext *ctx, const struct halt_publish_keys *k,
                            struct halt_publish_open **out, size_t *n, struct rwerr *err)
{
        char what[HALT_PUBLISH_KEY_MAX + 64];
        struct halt_publish_open *list = NULL;
        struct names nm;
        redisReply *r;
        size_t i, count;
        int rc;

        *out = NULL;
        *n = 0;
        if ((rc = names_get(k, &nm, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "reading the open halts (HGETALL %s)", nm.incidents);
        r = redisCommand(ctx, "HGETALL %s", nm.incidents);
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: Redis returned %s, not field/value pairs",
                               what, redisconn_reply_type_name(r->type));
                goto out;
        }
        count = r->elements / 2;
        if (count == 0)
                goto out;
        if ((list = calloc(count, sizeof *list)) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", what);
                goto out;
        }
        for (i = 0; i < count; i++) {
                const redisReply *f = r->element[2 * i], *v = r->element[2 * i + 1];

                if (!copy_str(f, list[i].field, sizeof list[i].field)) {
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "%s: field %zu is not a name of at most %d bytes", what,
                                       i + 1, HALT_PUBLISH_FIELD_SIZE - 1);
                        goto out;
                }
                if (v->type != REDIS_REPLY_STRING ||
                    !split_incident(v->str, v->len, list[i].halt_id, list[i].entry_id)) {
                        rc = rwerr_set(err, RW_ERR_PROTOCOL,
                                       "%s: field %s is not \"HALT_ID ENTRY_ID\"", what,
                                       list[i].field);
                        goto out;
                }
        }
        qsort(list, count, sizeof *list, open_cmp);
        *out = list;
        *n = count;
        list = NULL;
out:
        free(list);
        freeReplyObject(r);
        return rc;
}

/* An error reply that means "no such stream or group". */
static int no_group_error(const redisReply *r)
{
        return r != NULL && r->type == REDIS_REPLY_ERROR &&
               (strncmp(r->str, "NOGROUP", 7) == 0 || strstr(r->str, "no such key") != NULL);
}

int halt_publish_acks(redisContext *ctx, const struct halt_publish_keys *k, const char *halt_id,
                      const char *const *groups, size_t ngroups, int *acked, struct rwerr *err)
{
        char key[2 * HALT_PUBLISH_KEY_MAX], what[2 * HALT_PUBLISH_KEY_MAX + 32];
        const char **argv = NULL;
        struct names n;
        redisReply *r = NULL;
        size_t i;
        int rc;

        for (i = 0; i < ngroups; i++)
                acked[i] = 0;
        if ((rc = names_get(k, &n, err)) != RW_OK)
                return rc;
        (void)snprintf(key, sizeof key, "%s%s", n.ack_prefix, halt_id);
        (void)snprintf(what, sizeof what, "reading the acknowledgements %s", key);
        if (ngroups == 0)
                return RW_OK;
        if ((argv = calloc(ngroups + 2, sizeof *argv)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", what);
        argv[0] = "HMGET";
        argv[1] = key;
        for (i = 0; i < ngroups; i++)
                argv[2 + i] = groups[i];
        r = redisCommandArgv(ctx, (int)(ngroups + 2), argv, NULL);
        free(argv);
        if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: not a hash", what);
                goto out;
        }
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != ngroups) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: unexpected reply", what);
                goto out;
        }
        for (i = 0; i < ngroups; i++)
                acked[i] = r->element[i]->type == REDIS_REPLY_STRING;
out:
        freeReplyObject(r);
        return rc;
}

int halt_publish_client_versions(redisContext *ctx, const struct halt_publish_keys *k,
                                 const char *group, char versions[HALT_PUBLISH_VERSIONS_SIZE],
                                 struct rwerr *err)
{
        char what[HALT_PUBLISH_KEY_MAX + 64];
        struct names n;
        redisReply *r;
        int rc;

        versions[0] = '\0';
        if ((rc = names_get(k, &n, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "HGET %s %s", n.clients, group);
        r = redisCommand(ctx, "HGET %s %s", n.clients, group);
        if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0) {
                freeReplyObject(r);
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: not a hash", what);
        }
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK || r == NULL) {
                freeReplyObject(r);
                return rc;
        }
        if (r->type == REDIS_REPLY_STRING) {
                if (r->len >= HALT_PUBLISH_VERSIONS_SIZE || strlen(r->str) != r->len)
                        rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: not a short list of versions",
                                       what);
                else
                        memcpy(versions, r->str, r->len + 1);
        } else if (r->type != REDIS_REPLY_NIL) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: unexpected reply", what);
        }
        freeReplyObject(r);
        return rc;
}

int halt_publish_versions_include(const char *versions, int version)
{
        const char *p = versions;

        while (*p != '\0') {
                char *end = NULL;
                long v = strtol(p, &end, 10);

                if (end == p)
                        return 0;
                if (v == version)
                        return 1;
                p = end;
                while (*p == ' ' || *p == ',')
                        p++;
        }
        return 0;
}

/* The value of `key` ("name", "idle") among the space-separated KEY=VALUE tokens of one line. */
static int client_field(const char *line, size_t len, const char *key, const char **val,
                        size_t *vlen)
{
        size_t klen = strlen(key), pos = 0;

        while (pos < len) {
                const char *tok = line + pos, *sp = memchr(tok, ' ', len - pos);
                size_t tlen = sp != NULL ? (size_t)(sp - tok) : len - pos;

                if (tlen > klen && memcmp(tok, key, klen) == 0 && tok[klen] == '=') {
                        *val = tok + klen + 1;
                        *vlen = tlen - klen - 1;
                        return 1;
                }
                pos += tlen + 1;
        }
        return 0;
}

/*
 * Whether CLIENT LIST text `list` shows a connection named `name` that sent
 * a command less than idle_ms ago (its idle is in seconds).
 */
static int client_active(const redisReply *list, const char *name, uint64_t idle_ms)
{
        size_t pos = 0, nlen = strlen(name);

        while (pos < list->len) {
                const char *line = list->str + pos, *nl = memchr(line, '\n', list->len - pos);
                size_t len = nl != NULL ? (size_t)(nl - line) : list->len - pos;
                const char *v = NULL;
                size_t vlen = 0;
                uint64_t idle_s = 0;

                if (len > 0 && line[len - 1] == '\r')
                        len--;
                if (client_field(line, len, "name", &v, &vlen) && vlen == nlen &&
                    memcmp(v, name, nlen) == 0 && client_field(line, len, "idle", &v, &vlen) &&
                    parse_u64(v, vlen, &idle_s) && idle_s < UINT64_MAX / 1000 &&
                    idle_s * 1000 < idle_ms)
                        return 1;
                pos += (nl != NULL ? (size_t)(nl - line) : list->len - pos) + 1;
        }
        return 0;
}

int halt_publish_live_consumers(redisContext *ctx, const struct halt_publish_keys *k,
                                const char *group, uint64_t idle_ms, size_t *live, size_t *total,
                                struct rwerr *err)
{
        char what[HALT_PUBLISH_KEY_MAX + 128];
        struct redisconn_consumer *consumers = NULL;
        redisReply *r, *clients = NULL;
        size_t i, n = 0, nlive = 0;
        int rc, clients_tried = 0;

        *live = 0;
        *total = 0;
        (void)snprintf(what, sizeof what, "listing the consumers of group %s (XINFO CONSUMERS %s)",
                       group, k->stream);
        r = redisCommand(ctx, "XINFO CONSUMERS %s %s", k->stream, group);
        if (no_group_error(r)) {
                rc = rwerr_set(err, RW_ERR_REFUSED, "no consumer group %s on %s", group, k->stream);
                goto out;
        }
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if ((rc = redisconn_xinfo_consumers(r, &consumers, &n, err)) != RW_OK) {
                (void)rwerr_prefix(err, rc, what);
                goto out;
        }
        for (i = 0; i < n; i++) {
                if (consumers[i].idle_ms < idle_ms) {
                        nlive++;
                        continue;
                }
                /* Redis before 7.2 resets idle only when a read delivers entries: a
                 * relayer blocked on a quiet stream looks idle. Its connection, named
                 * after the consumer, says whether it is there. */
                if (!clients_tried) {
                        clients_tried = 1;
                        clients = redisCommand(ctx, "CLIENT LIST TYPE normal");
                        if (clients == NULL) {
                                rc = rwerr_set(err, RW_ERR_IO, "%s: CLIENT LIST: %s", what,
                                               ctx->errstr[0] ? ctx->errstr : "no reply");
                                goto out;
                        }
                }
                if (clients->type == REDIS_REPLY_STRING &&
                    client_active(clients, consumers[i].name, idle_ms))
                        nlive++;
        }
        *live = nlive;
        *total = n;
out:
        free(consumers);
        freeReplyObject(clients);
        freeReplyObject(r);
        return rc;
}

/*
 * msg and sig out of a flat [field, value, ...] array (a stream entry or
 * HGETALL of the halt key); `what` names it in messages.
 */
static int msg_sig_from_fields(const redisReply *arr, const char *what, char **msg, size_t *msg_len,
                               char sig[CONTROL_SIG_B64_SIZE], struct rwerr *err)
{
        const redisReply *m = NULL, *s = NULL;
        size_t i;

        if (arr->type != REDIS_REPLY_ARRAY || arr->elements % 2 != 0)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: %s, not field/value pairs", what,
                                 redisconn_reply_type_name(arr->type));
        for (i = 0; i < arr->elements; i += 2) {
                const redisReply *f = arr->element[i], *v = arr->element[i + 1];

                if (v->type != REDIS_REPLY_STRING)
                        return rwerr_set(err, RW_ERR_PROTOCOL, "%s: value %zu is %s", what,
                                         i / 2 + 1, redisconn_reply_type_name(v->type));
                if (str_is(f, "msg") && m == NULL)
                        m = v;
                else if (str_is(f, "sig") && s == NULL)
                        s = v;
                else if (str_is(f, "msg") || str_is(f, "sig"))
                        return rwerr_set(err, RW_ERR_PROTOCOL, "%s: field %s appears twice", what,
                                         f->str);
                else
                        return rwerr_set(err, RW_ERR_PROTOCOL,
                                         "%s: unexpected field '%.64s' (only msg and sig belong)",
                                         what, f->type == REDIS_REPLY_STRING ? f->str : "?");
        }
        if (m == NULL || s == NULL)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: field %s is missing", what,
                                 m == NULL ? "msg" : "sig");
        if (m->len > CONTROL_MSG_MAX)
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: msg is %zu bytes, more than %d", what,
                                 m->len, CONTROL_MSG_MAX);
        if (!copy_str(s, sig, CONTROL_SIG_B64_SIZE))
                return rwerr_set(err, RW_ERR_PROTOCOL, "%s: sig is %zu bytes, not a signature",
                                 what, s->len);
        if ((*msg = malloc(m->len + 1)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory for msg", what);
        memcpy(*msg, m->str, m->len);
        (*msg)[m->len] = '\0';
        *msg_len = m->len;
        return RW_OK;
}

int halt_publish_read_entry(redisContext *ctx, const struct halt_publish_keys *k,
                            const char *entry_id, int *found, char **msg, size_t *msg_len,
                            char sig[CONTROL_SIG_B64_SIZE], struct rwerr *err)
{
        char what[HALT_PUBLISH_KEY_MAX + 96];
        redisReply *r;
        int rc, cmp = 0;

        *found = 0;
        *msg = NULL;
        *msg_len = 0;
        sig[0] = '\0';
        if ((rc = halt_publish_entry_id_cmp(entry_id, entry_id, &cmp, err)) != RW_OK)
                return rc;
        (void)snprintf(what, sizeof what, "entry %s of %s", entry_id, k->stream);
        r = redisCommand(ctx, "XRANGE %s %s %s COUNT 1", k->stream, entry_id, entry_id);
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->elements > 1) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: XRANGE returned %s of %zu entries", what,
                               redisconn_reply_type_name(r->type), r->elements);
                goto out;
        }
        if (r->elements == 0)
                goto out;
        if (r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
            !str_is(r->element[0]->element[0], entry_id)) {
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "%s: XRANGE returned no [id, fields] pair",
                               what);
                goto out;
        }
        if ((rc = msg_sig_from_fields(r->element[0]->element[1], what, msg, msg_len, sig, err)) !=
            RW_OK)
                goto out;
        *found = 1;
out:
        freeReplyObject(r);
        return rc;
}

int halt_publish_read_halt_key(redisContext *ctx, const struct halt_publish_keys *k, int *found,
                               char **msg, size_t *msg_len, char sig[CONTROL_SIG_B64_SIZE],
                               struct rwerr *err)
{
        char what[HALT_PUBLISH_KEY_MAX + 32];
        redisReply *r;
        int rc;

        *found = 0;
        *msg = NULL;
        *msg_len = 0;
        sig[0] = '\0';
        if (k->halt_key == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "no halt key name given");
        (void)snprintf(what, sizeof what, "halt key %s", k->halt_key);
        r = redisCommand(ctx, "HGETALL %s", k->halt_key);
        if ((rc = reply_check(ctx, r, what, err)) != RW_OK)
                goto out;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 0)
                goto out;
        if ((rc = msg_sig_from_fields(r, what, msg, msg_len, sig, err)) != RW_OK)
                goto out;
        *found = 1;
out:
        freeReplyObject(r);
        return rc;
}
