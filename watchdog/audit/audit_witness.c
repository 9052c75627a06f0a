#include "audit_witness.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_key.h"
#include "b64.h"
#include "fileio.h"
#include "json_strict.h"
#include "redisconn.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define STATE_FORMAT "relaywatch-witness-state/v1"
#define JSON_MAX_INT 9007199254740992.0 /* 2^53: the largest integer a double holds exactly */

/* The published key chain, verified from the pinned genesis key. */
struct chain {
        char origin[AUDIT_NOTE_NAME_MAX];
        struct verify_key *keys; /* keys[e] is epoch e's */
        size_t n;
};

/* ------------------------------------------------------------ helpers */

const char *audit_witness_outcome_name(enum audit_witness_outcome o)
{
        switch (o) {
        case AUDIT_WITNESS_ACCEPTED:
                return "accepted";
        case AUDIT_WITNESS_UNCHANGED:
                return "unchanged";
        case AUDIT_WITNESS_WAITING:
                return "waiting";
        case AUDIT_WITNESS_INCONSISTENT:
                return "inconsistent";
        case AUDIT_WITNESS_CANNOT_TELL:
                return "cannot_tell";
        }
        return "unknown";
}

static enum audit_witness_outcome verdict(struct audit_witness_result *r,
                                          enum audit_witness_outcome o, const char *reason,
                                          const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static enum audit_witness_outcome verdict(struct audit_witness_result *r,
                                          enum audit_witness_outcome o, const char *reason,
                                          const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
        r->outcome = o;
        r->reason = reason;
        return o;
}

static void b64_of(const unsigned char *bin, size_t len, char *out, size_t cap)
{
        (void)sodium_bin2base64(out, cap, bin, len, B64);
}

static int b64_32(const cJSON *item, unsigned char out[32])
{
        return cJSON_IsString(item) && b64_decode_exact(item->valuestring, out, 32) == 0;
}

static int uint_of(const cJSON *o, const char *name, uint64_t *out)
{
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);

        if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > JSON_MAX_INT ||
            n->valuedouble != (double)(uint64_t)n->valuedouble)
                return 0;
        *out = (uint64_t)n->valuedouble;
        return 1;
}

static const char *str_of(const cJSON *o, const char *name)
{
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);

        return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* A NUL-terminated copy of s[0..len), or NULL when out of memory. */
static char *copy_of(const char *s, size_t len)
{
        char *c = malloc(len + 1);

        if (c != NULL) {
                memcpy(c, s, len);
                c[len] = '\0';
        }
        return c;
}

/*
 * Parses s[0..len) as one JSON value and nothing after it but whitespace:
 * the value, or NULL with `err` saying where it stops being JSON.
 */
static cJSON *parse_json(const char *s, size_t len, const char *what, struct rwerr *err)
{
        const char *end = NULL;
        cJSON *j;

        if (len == 0) {
                rwerr_set(err, RW_ERR_INVALID, "%s is empty", what);
                return NULL;
        }
        if (memchr(s, '\0', len) != NULL) {
                rwerr_set(err, RW_ERR_INVALID, "%s holds a NUL byte", what);
                return NULL;
        }
        if ((j = cJSON_ParseWithLengthOpts(s, len, &end, 0)) == NULL) {
                rwerr_set(err, RW_ERR_INVALID, "%s is not JSON (it stops making sense at byte %zu)",
                          what, end != NULL && end >= s ? (size_t)(end - s) : (size_t)0);
                return NULL;
        }
        while (end != NULL && end < s + len &&
               (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
                end++;
        if (end != s + len) {
                cJSON_Delete(j);
                rwerr_set(err, RW_ERR_INVALID, "%s has something after its JSON value (byte %zu)",
                          what, (size_t)(end - s));
                return NULL;
        }
        return j;
}

/* ------------------------------------------------------------ the key chain */

static void chain_release(struct chain *ch)
{
        free(ch->keys);
        memset(ch, 0, sizeof *ch);
}

/*
 * Reads entry i of the chain into keys[i], checking its shape (RW_ERR_INVALID)
 * and then what it claims (RW_ERR_REFUSED): its vkey and key_id name its
 * public key, epoch 0 is the pinned key, and epoch i > 0 is certified by
 * epoch i - 1 under the same origin.
 */
static int chain_entry(struct chain *ch, size_t i, const cJSON *e, const struct verify_key *genesis,
                       struct rwerr *err)
{
        unsigned char pk[32], vpk[32], sig[64];
        char name[AUDIT_NOTE_NAME_MAX], msg[AUDIT_KEY_CERT_MAX];
        const char *key_id, *vkey, *prev = NULL, *cert = NULL;
        struct verify_key *k = &ch->keys[i];
        struct rwerr why;
        uint64_t epoch;
        size_t mlen;

        if (!cJSON_IsObject(e))
                return rwerr_set(err, RW_ERR_INVALID, "entry %zu is not an object", i);
        if (!uint_of(e, "epoch", &epoch))
                return rwerr_set(err, RW_ERR_INVALID, "entry %zu has no epoch (a whole number)", i);
        if (epoch != i)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "entry %zu is epoch %" PRIu64 ": the entries must be epochs 0, "
                                 "1, 2, ... in order",
                                 i, epoch);
        if (!b64_32(cJSON_GetObjectItemCaseSensitive(e, "public_key"), pk))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "epoch %zu: public_key is missing or not 32 bytes of base64", i);
        if ((key_id = str_of(e, "key_id")) == NULL || (vkey = str_of(e, "vkey")) == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "epoch %zu: key_id or vkey is missing", i);
        if (audit_note_vkey_parse(vkey, name, vpk, &why) != RW_OK)
                return rwerr_set(err, RW_ERR_INVALID, "epoch %zu: vkey: %s", i, why.msg);
        if (i > 0) {
                prev = str_of(e, "previous_key_id");
                cert = str_of(e, "cert");
                if (prev == NULL || cert == NULL)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "epoch %zu: previous_key_id or cert is missing", i);
                if (b64_decode_exact(cert, sig, sizeof sig) != 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "epoch %zu: cert is not 64 bytes of base64", i);
        }
        verify_key_from_bytes(pk, k);
        if (sodium_memcmp(vpk, pk, 32) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "epoch %zu: its vkey and its public_key are different keys", i);
        if (strcmp(key_id, k->key_id) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "epoch %zu: key_id \"%.20s\" is not the id of its public key (%s)",
                                 i, key_id, k->key_id);
        if (i == 0) {
                if (sodium_memcmp(pk, genesis->pk, 32) != 0)
                        return rwerr_set(err, RW_ERR_REFUSED,
                                         "the chain starts at genesis key %s, but the pinned "
                                         "key is %s: this is another log, or its history was "
                                         "re-signed with another key",
                                         k->key_id, genesis->key_id);
                snprintf(ch->origin, sizeof ch->origin, "%s", name);
                return RW_OK;
        }
        if (strcmp(name, ch->origin) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "epoch %zu: its vkey names \"%.64s\", not the log's origin "
                                 "\"%.64s\"",
                                 i, name, ch->origin);
        if (strcmp(prev, ch->keys[i - 1].key_id) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "epoch %zu: previous_key_id \"%.20s\" is not the key of epoch %zu "
                                 "(%s)",
                                 i, prev, i - 1, ch->keys[i - 1].key_id);
        mlen = audit_key_cert_message(ch->origin, i, pk, msg);
        if (mlen == 0 || crypto_sign_verify_detached(sig, (const unsigned char *)msg, mlen,
                                                     ch->keys[i - 1].pk) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "epoch %zu (key %s) is not certified by the key of epoch %zu "
                                 "(%s): its cert does not verify",
                                 i, k->key_id, i - 1, ch->keys[i - 1].key_id);
        return RW_OK;
}

/*
 * Reads the published key chain: RW_OK; RW_ERR_INVALID (or NOMEM) when it
 * is not a key chain at all; RW_ERR_REFUSED when it is one that does not
 * verify from the pinned genesis key.
 */
static int chain_parse(const char *json, size_t len, const struct verify_key *genesis,
                       struct chain *ch, struct rwerr *err)
{
        const cJSON *e;
        cJSON *root;
        size_t i = 0;
        int n, rc = RW_OK;

        memset(ch, 0, sizeof *ch);
        if (len > AUDIT_WITNESS_KEYS_MAX)
                return rwerr_set(err, RW_ERR_INVALID, "it is %zu bytes, more than the %zu allowed",
                                 len, AUDIT_WITNESS_KEYS_MAX);
        if ((root = parse_json(json, len, "it", err)) == NULL)
                return RW_ERR_INVALID;
        if (!cJSON_IsArray(root) || (n = cJSON_GetArraySize(root)) == 0) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "it is not a non-empty JSON array of key epochs");
        }
        if (n > AUDIT_WITNESS_EPOCHS_MAX) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID, "it has %d epochs, more than the %d allowed",
                                 n, AUDIT_WITNESS_EPOCHS_MAX);
        }
        if ((ch->keys = calloc((size_t)n, sizeof *ch->keys)) == NULL) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for %d key epochs", n);
        }
        cJSON_ArrayForEach(e, root)
        {
                if ((rc = chain_entry(ch, i, e, genesis, err)) != RW_OK)
                        break;
                i++;
        }
        cJSON_Delete(root);
        if (rc != RW_OK) {
                chain_release(ch);
                return rc;
        }
        ch->n = i;
        return RW_OK;
}

/* ------------------------------------------------------------ proofs */

/* Reads {"from":M,"to":N,"proof":["b64",...]}; RW_ERR_INVALID naming what is wrong. */
static int proof_parse(const char *json, size_t len, uint64_t *from, uint64_t *to,
                       unsigned char hashes[][AUDIT_HASH_BYTES], size_t *n, struct rwerr *err)
{
        char why[160];
        const cJSON *arr, *h;
        cJSON *root;
        size_t i = 0;

        if (len > AUDIT_WITNESS_PROOF_JSON_MAX)
                return rwerr_set(err, RW_ERR_INVALID, "it is %zu bytes, more than the %zu allowed",
                                 len, AUDIT_WITNESS_PROOF_JSON_MAX);
        if (json_strict_check(json, len, why, sizeof why) != JSON_STRICT_OK)
                return rwerr_set(err, RW_ERR_INVALID, "it is not one strict JSON object: %s", why);
        if ((root = parse_json(json, len, "it", err)) == NULL)
                return RW_ERR_INVALID;
        arr = cJSON_GetObjectItemCaseSensitive(root, "proof");
        if (!uint_of(root, "from", from) || !uint_of(root, "to", to) || !cJSON_IsArray(arr)) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "it needs from and to (whole numbers) and proof (an array)");
        }
        if (cJSON_GetArraySize(arr) > AUDIT_PROOF_MAX) {
                cJSON_Delete(root);
                return rwerr_set(err, RW_ERR_INVALID, "its proof has more than %d hashes",
                                 AUDIT_PROOF_MAX);
        }
        cJSON_ArrayForEach(h, arr)
        {
                if (!b64_32(h, hashes[i])) {
                        cJSON_Delete(root);
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "proof hash %zu is not 32 bytes of base64", i);
                }
                i++;
        }
        cJSON_Delete(root);
        *n = i;
        return RW_OK;
}

/* ------------------------------------------------------------ the state file */

void audit_witness_state_name(const struct verify_key *genesis, char *out, size_t cap)
{
        snprintf(out, cap, "%s%s%s", AUDIT_WITNESS_STATE_PREFIX, genesis->key_id,
                 AUDIT_WITNESS_STATE_SUFFIX);
}

void audit_witness_state_release(struct audit_witness_state *st)
{
        if (st == NULL)
                return;
        free(st->note);
        memset(st, 0, sizeof *st);
}

/* Checks a parsed state object against the pinned key; fills *st (note copied). */
static int state_from_json(const cJSON *j, const struct verify_key *genesis,
                           struct audit_witness_state *st, struct rwerr *err)
{
        const char *format = str_of(j, "format"), *origin = str_of(j, "origin");
        const char *gid = str_of(j, "genesis_key_id"), *key_id = str_of(j, "key_id");
        const char *note = str_of(j, "note");
        const cJSON *when = cJSON_GetObjectItemCaseSensitive(j, "accepted_unix_s");
        unsigned char pk[32];
        struct audit_note n;
        struct audit_checkpoint cp;
        struct rwerr why;

        if (format == NULL || strcmp(format, STATE_FORMAT) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "its format is not \"%s\"", STATE_FORMAT);
        if (origin == NULL || gid == NULL || key_id == NULL || note == NULL ||
            !uint_of(j, "epoch", &st->epoch) || !uint_of(j, "size", &st->size) ||
            !b64_32(cJSON_GetObjectItemCaseSensitive(j, "public_key"), pk) ||
            !b64_32(cJSON_GetObjectItemCaseSensitive(j, "root"), st->root) ||
            !cJSON_IsNumber(when) || when->valuedouble < 0 || when->valuedouble > JSON_MAX_INT)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "it needs origin, genesis_key_id, epoch, public_key, key_id, "
                                 "size, root, note and accepted_unix_s");
        if (strcmp(gid, genesis->key_id) != 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "it is for the log whose genesis key is %.20s, not the pinned %s",
                                 gid, genesis->key_id);
        verify_key_from_bytes(pk, &st->key);
        if (strcmp(key_id, st->key.key_id) != 0 ||
            (st->epoch == 0 && sodium_memcmp(pk, genesis->pk, 32) != 0))
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "its key_id, public_key and epoch do not agree");
        if (strlen(origin) >= sizeof st->origin)
                return rwerr_set(err, RW_ERR_INVALID, "its origin is too long");
        snprintf(st->origin, sizeof st->origin, "%s", origin);
        snprintf(st->genesis_key_id, sizeof st->genesis_key_id, "%s", gid);
        st->accepted_s = (int64_t)when->valuedouble;
        if (audit_note_parse(note, strlen(note), &n, &why) != RW_OK)
                return rwerr_set(err, RW_ERR_INVALID, "its note: %s", why.msg);
        if (audit_checkpoint_parse(n.text, n.text_len, &cp, &why) != RW_OK ||
            strcmp(cp.origin, st->origin) != 0 || cp.size != st->size ||
            sodium_memcmp(cp.root, st->root, 32) != 0) {
                audit_note_release(&n);
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "its note is not the checkpoint (origin, size, root) it records");
        }
        if (audit_note_verify(&n, st->origin, st->key.pk, &why) != RW_OK) {
                audit_note_release(&n);
                return rwerr_set(err, RW_ERR_REFUSED, "its note: %s", why.msg);
        }
        audit_note_release(&n);
        if ((st->note = strdup(note)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory");
        return RW_OK;
}

int audit_witness_state_load(const char *dir, const struct verify_key *genesis,
                             struct audit_witness_state *st, int *found, struct rwerr *err)
{
        char name[64], path[4200], why[160], *buf = NULL;
        struct rwerr local;
        size_t len = 0;
        cJSON *j;
        int rc;

        if (err == NULL)
                err = &local;
        memset(st, 0, sizeof *st);
        *found = 0;
        audit_witness_state_name(genesis, name, sizeof name);
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
                return rwerr_set(err, RW_ERR_RANGE, "witness state directory %.64s...: too long",
                                 dir);
        if ((rc = fileio_read(path, AUDIT_WITNESS_STATE_MAX, &buf, &len, err)) != RW_OK) {
                if (rc == RW_ERR_IO && errno == ENOENT)
                        return RW_OK;
                return rwerr_prefix(err, rc, "witness state");
        }
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (json_strict_check(buf, len, why, sizeof why) != JSON_STRICT_OK) {
                free(buf);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "witness state %s: not one strict JSON object: %s", path, why);
        }
        if ((j = parse_json(buf, len, "it", err)) == NULL) {
                free(buf);
                memcpy(&local, err, sizeof local);
                return rwerr_set(err, RW_ERR_INVALID, "witness state %s: %s", path, local.msg);
        }
        free(buf);
        rc = state_from_json(j, genesis, st, err);
        cJSON_Delete(j);
        if (rc != RW_OK) {
                audit_witness_state_release(st);
                {
                        char prefix[4300];

                        snprintf(prefix, sizeof prefix, "witness state %s", path);
                        return rwerr_prefix(err, rc, prefix);
                }
        }
        *found = 1;
        return RW_OK;
}

int audit_witness_state_save(const char *dir, const struct audit_witness_state *st,
                             struct rwerr *err)
{
        char name[64], pk[48], root[48], *text;
        struct verify_key g;
        cJSON *j;
        int rc;

        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return rwerr_set(err, RW_ERR_IO, "witness state directory %s: cannot create: %s",
                                 dir, strerror(errno));
        b64_of(st->key.pk, 32, pk, sizeof pk);
        b64_of(st->root, 32, root, sizeof root);
        if ((j = cJSON_CreateObject()) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "witness state: out of memory");
        cJSON_AddStringToObject(j, "format", STATE_FORMAT);
        cJSON_AddStringToObject(j, "origin", st->origin);
        cJSON_AddStringToObject(j, "genesis_key_id", st->genesis_key_id);
        cJSON_AddNumberToObject(j, "epoch", (double)st->epoch);
        cJSON_AddStringToObject(j, "public_key", pk);
        cJSON_AddStringToObject(j, "key_id", st->key.key_id);
        cJSON_AddNumberToObject(j, "size", (double)st->size);
        cJSON_AddStringToObject(j, "root", root);
        cJSON_AddStringToObject(j, "note", st->note);
        cJSON_AddNumberToObject(j, "accepted_unix_s", (double)st->accepted_s);
        text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "witness state: out of memory");
        /* the file is named after the genesis key_id it records */
        memset(&g, 0, sizeof g);
        snprintf(g.key_id, sizeof g.key_id, "%s", st->genesis_key_id);
        audit_witness_state_name(&g, name, sizeof name);
        {
                size_t len = strlen(text);
                char *line = realloc(text, len + 2);

                if (line == NULL) {
                        free(text);
                        return rwerr_set(err, RW_ERR_NOMEM, "witness state: out of memory");
                }
                line[len] = '\n';
                line[len + 1] = '\0';
                rc = fileio_replace(dir, name, line, len + 1, 0600, 1, err);
                free(line);
        }
        if (rc != RW_OK)
                return rwerr_prefix(err, rc, "witness state");
        return RW_OK;
}

/* ------------------------------------------------------------ the decision */

void audit_witness_result_release(struct audit_witness_result *r)
{
        if (r == NULL)
                return;
        free(r->published_note);
        free(r->accepted_note);
        free(r->cosigned);
        memset(r, 0, sizeof *r);
}

/* Cosigns note[0..len) into r->cosigned; the message says so when it cannot. */
static void cosign(struct audit_witness_result *r, const struct audit_witness_config *c,
                   const char *note, size_t len)
{
        struct rwerr err;
        size_t used;

        if (audit_note_cosign(note, len, c->name, c->key->sk, (uint64_t)c->now_s, &r->cosigned,
                              &err) == RW_OK)
                return;
        r->cosigned = NULL;
        used = strlen(r->message);
        snprintf(r->message + used, sizeof r->message - used, " (not cosigned: %s)", err.msg);
}

/* Which epoch's key signed the note under `origin`, newest first; -1 when none did. */
static long signer_of(const struct audit_note *n, const struct chain *ch)
{
        struct rwerr err;
        size_t e;

        for (e = ch->n; e-- > 0;)
                if (audit_note_verify(n, ch->origin, ch->keys[e].pk, &err) == RW_OK)
                        return (long)e;
        return -1;
}

/* Accepts the published checkpoint: cosigns it, then saves it as the state. */
static enum audit_witness_outcome accept(struct audit_witness_result *r,
                                         const struct audit_witness_config *c,
                                         const struct chain *ch, const struct audit_checkpoint *cp,
                                         enum audit_witness_outcome o)
{
        struct audit_witness_state st;
        struct rwerr err;

        if (audit_note_cosign(r->published_note, strlen(r->published_note), c->name, c->key->sk,
                              (uint64_t)c->now_s, &r->cosigned, &err) != RW_OK) {
                r->cosigned = NULL;
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "cannot cosign: %s", err.msg);
        }
        memset(&st, 0, sizeof st);
        snprintf(st.origin, sizeof st.origin, "%s", ch->origin);
        snprintf(st.genesis_key_id, sizeof st.genesis_key_id, "%s", ch->keys[0].key_id);
        st.epoch = r->epoch;
        st.key = ch->keys[r->epoch];
        st.size = cp->size;
        memcpy(st.root, cp->root, 32);
        st.note = r->published_note;
        st.accepted_s = c->now_s;
        if (audit_witness_state_save(c->state_dir, &st, &err) != RW_OK) {
                free(r->cosigned);
                r->cosigned = NULL;
                r->first_use = 0;
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the checkpoint of %" PRIu64 " records checks out but cannot be "
                               "kept, so it is not cosigned: %s",
                               cp->size, err.msg);
        }
        r->outcome = o;
        return o;
}

/* The size grew: the proof from the accepted size decides. */
static enum audit_witness_outcome
check_growth(struct audit_witness_result *r, const struct audit_witness_published *p,
             const struct audit_witness_config *c, const struct audit_witness_state *st,
             const struct chain *ch, const struct audit_checkpoint *cp)
{
        unsigned char hashes[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES];
        uint64_t from = 0, to = 0;
        char *json = NULL;
        size_t len = 0, n = 0;
        struct rwerr err;
        int rc = RW_OK;

        snprintf(err.msg, sizeof err.msg, "the proof source failed");
        if (p->proof == NULL ||
            ((rc = p->proof(p->proof_ctx, st->size, &json, &len, &err)) == RW_OK && json == NULL)) {
                verdict(r, AUDIT_WITNESS_WAITING, "",
                        "the log grew from %" PRIu64 " to %" PRIu64 " records, but no consistency "
                        "proof from %" PRIu64 " is published yet: cannot tell until the primary "
                        "publishes one (it proves from the sizes its witnesses cosigned)",
                        st->size, cp->size, st->size);
                cosign(r, c, st->note, strlen(st->note));
                return AUDIT_WITNESS_WAITING;
        }
        if (rc != RW_OK)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the consistency proof from %" PRIu64 " records: %s", st->size,
                               err.msg);
        rc = proof_parse(json, len, &from, &to, hashes, &n, &err);
        free(json);
        if (rc != RW_OK)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the consistency proof published for %" PRIu64 " records: %s",
                               st->size, err.msg);
        if (from != st->size)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the consistency proof published for %" PRIu64
                               " records is from %" PRIu64 " records",
                               st->size, from);
        if (to != cp->size) {
                verdict(r, AUDIT_WITNESS_WAITING, "",
                        "the consistency proof from %" PRIu64 " runs to %" PRIu64
                        " records, not to the checkpoint's %" PRIu64 ": the primary has not "
                        "published the proof for this checkpoint yet",
                        st->size, to, cp->size);
                cosign(r, c, st->note, strlen(st->note));
                return AUDIT_WITNESS_WAITING;
        }
        if (audit_tree_verify_consistency(st->size, st->root, cp->size, cp->root,
                                          (const unsigned char(*)[AUDIT_HASH_BYTES])hashes, n,
                                          &err) != RW_OK)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "proof",
                               "%s: the checkpoint of %" PRIu64 " records does not extend the "
                               "one of %" PRIu64 " accepted before: its consistency proof does "
                               "not verify (%s); the log was rewritten or forked",
                               ch->origin, cp->size, st->size, err.msg);
        verdict(r, AUDIT_WITNESS_ACCEPTED, "",
                "%s: %" PRIu64 " records (root %s), consistent with the %" PRIu64
                " accepted before; signed by the key of epoch %" PRIu64 " (%s)",
                ch->origin, cp->size, r->root, st->size, r->epoch, ch->keys[r->epoch].key_id);
        return accept(r, c, ch, cp, AUDIT_WITNESS_ACCEPTED);
}

/* What the key chain must still hold of what was accepted before. */
static enum audit_witness_outcome check_chain_keeps(struct audit_witness_result *r,
                                                    const struct audit_witness_state *st,
                                                    const struct chain *ch)
{
        if (strcmp(st->origin, ch->origin) != 0)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "origin",
                               "the log of genesis key %s was accepted as \"%s\" but now "
                               "publishes as \"%s\"",
                               ch->keys[0].key_id, st->origin, ch->origin);
        if (st->epoch >= ch->n)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "key_chain",
                               "%s: the published key chain ends at epoch %zu, but the checkpoint "
                               "accepted before was signed by the key of epoch %" PRIu64
                               " (%s): the chain was cut back",
                               ch->origin, ch->n - 1, st->epoch, st->key.key_id);
        if (sodium_memcmp(ch->keys[st->epoch].pk, st->key.pk, 32) != 0)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "key_chain",
                               "%s: the published key chain has key %s for epoch %" PRIu64
                               ", but the checkpoint accepted before was signed by key %s of that "
                               "epoch: two keys were certified for one epoch",
                               ch->origin, ch->keys[st->epoch].key_id, st->epoch, st->key.key_id);
        return AUDIT_WITNESS_ACCEPTED;
}

/* Who signed the note: a key of the chain, under the log's origin. */
static enum audit_witness_outcome check_signer(struct audit_witness_result *r,
                                               const struct audit_note *n,
                                               const struct audit_checkpoint *cp,
                                               const struct chain *ch)
{
        const struct verify_key *newest = &ch->keys[ch->n - 1];
        long e = signer_of(n, ch);
        struct rwerr err;

        if (e < 0) {
                if (audit_note_verify(n, ch->origin, newest->pk, &err) == RW_OK)
                        snprintf(err.msg, sizeof err.msg, "no signature verifies");
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "signature",
                               "%s: the published checkpoint of %" PRIu64 " records is not signed "
                               "by any key of the log's chain (the key in force is epoch %zu, "
                               "%s): %s",
                               ch->origin, cp->size, ch->n - 1, newest->key_id, err.msg);
        }
        r->epoch = (uint64_t)e;
        if (strcmp(cp->origin, ch->origin) != 0)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "origin",
                               "%s: the log's key signed a checkpoint whose origin line is "
                               "\"%.64s\"",
                               ch->origin, cp->origin);
        return AUDIT_WITNESS_ACCEPTED;
}

/* Whether the key that signed the note (r->epoch) was in force. */
static enum audit_witness_outcome check_epoch(struct audit_witness_result *r,
                                              const struct audit_checkpoint *cp,
                                              const struct audit_witness_state *st,
                                              const struct chain *ch)
{
        const struct verify_key *newest = &ch->keys[ch->n - 1];
        uint64_t e = r->epoch;

        if (st != NULL && r->epoch < st->epoch)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "expired_key",
                               "%s: the published checkpoint of %" PRIu64 " records is signed by "
                               "the key of epoch %" PRIu64 " (%s), older than epoch %" PRIu64
                               " of the checkpoint accepted before: that key had expired (a "
                               "stolen old key, or a log restored from an old copy)",
                               ch->origin, cp->size, r->epoch, ch->keys[e].key_id, st->epoch);
        if (r->epoch + 1 < ch->n)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "expired_key",
                               "%s: the published checkpoint of %" PRIu64 " records is signed by "
                               "the key of epoch %" PRIu64 " (%s), but the published key chain "
                               "goes on to epoch %zu (%s): a checkpoint must be signed by the key "
                               "in force",
                               ch->origin, cp->size, r->epoch, ch->keys[e].key_id, ch->n - 1,
                               newest->key_id);
        return AUDIT_WITNESS_ACCEPTED;
}

/* The decision, with the state already loaded (NULL: none yet). */
static enum audit_witness_outcome decide(const struct audit_witness_published *p,
                                         const struct audit_witness_config *c,
                                         const struct audit_witness_state *st,
                                         struct audit_witness_result *r)
{
        struct audit_note n;
        struct audit_checkpoint cp;
        struct chain ch;
        struct rwerr err;
        enum audit_witness_outcome o;
        int rc;

        if (st != NULL) {
                r->previous_size = st->size;
                b64_of(st->root, 32, r->previous_root, sizeof r->previous_root);
                snprintf(r->origin, sizeof r->origin, "%s", st->origin);
                if ((r->accepted_note = strdup(st->note)) == NULL)
                        return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "out of memory");
        }
        if (p->checkpoint == NULL)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "nothing published: no checkpoint (the watchdog has not published "
                               "one yet, or this is not its [audit] redis_key)");
        if ((r->published_note = copy_of(p->checkpoint, p->checkpoint_len)) == NULL)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "out of memory");
        if (p->keys == NULL)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "a checkpoint is published without its key chain (keys): cannot "
                               "tell who signed it");
        rc = chain_parse(p->keys, p->keys_len, c->genesis, &ch, &err);
        if (rc == RW_ERR_REFUSED)
                return verdict(r, AUDIT_WITNESS_INCONSISTENT, "key_chain",
                               "the published key chain does not verify from the pinned genesis "
                               "key %s: %s",
                               c->genesis->key_id, err.msg);
        if (rc != RW_OK)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the published key chain (keys): %s", err.msg);
        snprintf(r->origin, sizeof r->origin, "%s", ch.origin);
        if (audit_note_parse(p->checkpoint, p->checkpoint_len, &n, &err) != RW_OK) {
                chain_release(&ch);
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the published checkpoint is not a signed note: %s", err.msg);
        }
        if (audit_checkpoint_parse(n.text, n.text_len, &cp, &err) != RW_OK) {
                audit_note_release(&n);
                chain_release(&ch);
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                               "the published note is not a checkpoint: %s", err.msg);
        }
        r->size = cp.size;
        b64_of(cp.root, 32, r->root, sizeof r->root);
        o = st != NULL ? check_chain_keeps(r, st, &ch) : AUDIT_WITNESS_ACCEPTED;
        if (o == AUDIT_WITNESS_ACCEPTED)
                o = check_signer(r, &n, &cp, &ch);
        audit_note_release(&n);
        if (o != AUDIT_WITNESS_ACCEPTED)
                goto out;
        if (st != NULL && cp.size < st->size) {
                o = verdict(r, AUDIT_WITNESS_INCONSISTENT, "rollback",
                            "%s: rolled back: the published checkpoint covers %" PRIu64
                            " records, fewer than the %" PRIu64 " of the checkpoint accepted "
                            "before",
                            ch.origin, cp.size, st->size);
        } else if (st != NULL && cp.size == st->size && sodium_memcmp(cp.root, st->root, 32) != 0) {
                o = verdict(r, AUDIT_WITNESS_INCONSISTENT, "fork",
                            "%s: forked or rewritten: the published checkpoint and the one "
                            "accepted before both cover %" PRIu64 " records but their roots "
                            "differ (%s now, %s before)",
                            ch.origin, cp.size, r->root, r->previous_root);
        } else if ((o = check_epoch(r, &cp, st, &ch)) != AUDIT_WITNESS_ACCEPTED) {
                /* signed by a key no longer in force */
        } else if (st == NULL) {
                r->first_use = 1;
                verdict(r, AUDIT_WITNESS_ACCEPTED, "",
                        "%s: the first checkpoint seen, %" PRIu64
                        " records (root %s) signed by the "
                        "key of epoch %" PRIu64 " (%s), accepted on the pinned genesis key's "
                        "authority alone (trust on first use: nothing earlier to be consistent "
                        "with)",
                        ch.origin, cp.size, r->root, r->epoch, ch.keys[r->epoch].key_id);
                o = accept(r, c, &ch, &cp, AUDIT_WITNESS_ACCEPTED);
        } else if (cp.size == st->size) {
                o = verdict(r, AUDIT_WITNESS_UNCHANGED, "",
                            "%s: unchanged at %" PRIu64 " records (root %s)", ch.origin, cp.size,
                            r->root);
                if (r->epoch != st->epoch)
                        o = accept(r, c, &ch, &cp, AUDIT_WITNESS_UNCHANGED);
                else
                        cosign(r, c, r->published_note, strlen(r->published_note));
        } else {
                o = check_growth(r, p, c, st, &ch, &cp);
        }
out:
        chain_release(&ch);
        return o;
}

static int config_fault(const struct audit_witness_config *c, struct audit_witness_result *r)
{
        char vkey[512];
        struct rwerr err;

        if (c == NULL || c->genesis == NULL || c->key == NULL || c->name == NULL ||
            c->state_dir == NULL) {
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                        "the witness needs the pinned genesis key, its own key, its name and a "
                        "state directory");
                return 1;
        }
        if (c->now_s < 0) {
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "the clock is before 1970");
                return 1;
        }
        if (audit_note_vkey(c->name, c->key->pub.pk, vkey, sizeof vkey, &err) != RW_OK) {
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "the witness name: %s", err.msg);
                return 1;
        }
        return 0;
}

enum audit_witness_outcome audit_witness_step(const struct audit_witness_published *p,
                                              const struct audit_witness_config *c,
                                              struct audit_witness_result *r)
{
        struct audit_witness_state st;
        struct rwerr err;
        int found = 0;
        enum audit_witness_outcome o;

        memset(r, 0, sizeof *r);
        r->reason = "";
        if (config_fault(c, r))
                return r->outcome;
        if (audit_witness_state_load(c->state_dir, c->genesis, &st, &found, &err) != RW_OK)
                return verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "%s", err.msg);
        o = decide(p, c, found ? &st : NULL, r);
        audit_witness_state_release(&st);
        return o;
}

/* ------------------------------------------------------------ evidence */

static cJSON *evidence_side(const char *note, uint64_t size, const char *root)
{
        cJSON *s;

        if (note == NULL)
                return cJSON_CreateNull();
        if ((s = cJSON_CreateObject()) == NULL)
                return NULL;
        cJSON_AddNumberToObject(s, "size", (double)size);
        cJSON_AddStringToObject(s, "root", root);
        cJSON_AddStringToObject(s, "note", note);
        return s;
}

cJSON *audit_witness_evidence(const struct audit_witness_result *r)
{
        cJSON *j = cJSON_CreateObject(), *side;

        if (j == NULL)
                return NULL;
        cJSON_AddStringToObject(j, "origin", r->origin);
        cJSON_AddStringToObject(j, "reason", r->reason != NULL ? r->reason : "");
        cJSON_AddStringToObject(j, "message", r->message);
        side = evidence_side(r->accepted_note, r->previous_size, r->previous_root);
        if (side == NULL || !cJSON_AddItemToObject(j, "accepted", side)) {
                cJSON_Delete(side);
                cJSON_Delete(j);
                return NULL;
        }
        side = evidence_side(r->published_note, r->size, r->root);
        if (side == NULL || !cJSON_AddItemToObject(j, "published", side) ||
            cJSON_GetObjectItemCaseSensitive(j, "message") == NULL) {
                cJSON_Delete(side);
                cJSON_Delete(j);
                return NULL;
        }
        return j;
}

/* ------------------------------------------------------------ Redis */

/* The proof read with the checkpoint, served to the step. */
struct prefetched {
        uint64_t from;
        const redisReply *reply; /* a string, nil, or NULL when none was asked for */
};

static int prefetched_proof(void *ctx, uint64_t from, char **json, size_t *len, struct rwerr *err)
{
        const struct prefetched *pf = ctx;

        *json = NULL;
        *len = 0;
        if (pf->reply == NULL || from != pf->from || pf->reply->type != REDIS_REPLY_STRING)
                return RW_OK;
        if ((*json = copy_of(pf->reply->str, pf->reply->len)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory");
        *len = pf->reply->len;
        return RW_OK;
}

/* Reads one reply of the pipeline; RW_OK or the connection's failure. */
static int get_reply(redisContext *ctx, redisReply **out, const char *what, struct rwerr *err)
{
        void *r = NULL;

        *out = NULL;
        if (redisGetReply(ctx, &r) != REDIS_OK || r == NULL) {
                (void)rwerr_set(err, RW_ERR_IO, "%s: %s", what,
                                ctx->errstr[0] != '\0' ? ctx->errstr : "no reply from Redis");
                return RW_ERR_IO;
        }
        *out = r;
        return RW_OK;
}

/*
 * A field read in the transaction: the string (s may be NULL), NULL for
 * nil; RW_ERR_REMOTE for an error reply (WRONGTYPE), RW_ERR_PROTOCOL for
 * any other type.
 */
static int field_of(const redisReply *r, const char *key, const char *field, const char **s,
                    size_t *len, struct rwerr *err)
{
        if (s != NULL) {
                *s = NULL;
                *len = 0;
        }
        if (r->type == REDIS_REPLY_NIL)
                return RW_OK;
        if (r->type == REDIS_REPLY_ERROR)
                return rwerr_set(err, RW_ERR_REMOTE, "HGET %.200s %s: Redis says: %s", key, field,
                                 r->str);
        if (r->type != REDIS_REPLY_STRING)
                return rwerr_set(err, RW_ERR_PROTOCOL, "HGET %.200s %s: Redis answered %s", key,
                                 field, redisconn_reply_type_name(r->type));
        if (s != NULL) {
                *s = r->str;
                *len = r->len;
        }
        return RW_OK;
}

/* The EXEC reply's parts into p (borrowed from exec); RW_OK or what is wrong. */
static int published_fields(const redisReply *exec, const char *key, const char *proofs_key,
                            struct audit_witness_published *p, struct rwerr *err)
{
        const redisReply *fields = exec->element[0];
        const struct prefetched *pf = p->proof_ctx;
        int rc;

        if (fields->type == REDIS_REPLY_ERROR)
                return rwerr_set(err, RW_ERR_REMOTE, "HMGET %.200s: Redis says: %s", key,
                                 fields->str);
        if (fields->type != REDIS_REPLY_ARRAY || fields->elements != 2)
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "HMGET %.200s checkpoint keys: Redis answered %s", key,
                                 redisconn_reply_type_name(fields->type));
        if ((rc = field_of(fields->element[0], key, "checkpoint", &p->checkpoint,
                           &p->checkpoint_len, err)) != RW_OK ||
            (rc = field_of(fields->element[1], key, "keys", &p->keys, &p->keys_len, err)) != RW_OK)
                return rc;
        if (pf->reply != NULL)
                return field_of(pf->reply, proofs_key, "(the proof)", NULL, NULL, err);
        return RW_OK;
}

/* MULTI; HMGET K checkpoint keys; [HGET K:proofs SIZE]; EXEC: the EXEC reply in *exec. */
static int fetch(redisContext *ctx, const char *key, const char *proofs_key,
                 const struct audit_witness_state *st, redisReply **exec, struct rwerr *err)
{
        char size[24];
        redisReply *r;
        int i, n = st != NULL ? 4 : 3, rc = RW_OK;

        *exec = NULL;
        snprintf(size, sizeof size, "%" PRIu64, st != NULL ? st->size : 0);
        if (redisAppendCommand(ctx, "MULTI") != REDIS_OK ||
            redisAppendCommand(ctx, "HMGET %s checkpoint keys", key) != REDIS_OK ||
            (st != NULL && redisAppendCommand(ctx, "HGET %s %s", proofs_key, size) != REDIS_OK) ||
            redisAppendCommand(ctx, "EXEC") != REDIS_OK)
                return rwerr_set(err, RW_ERR_NOMEM, "reading %.200s: cannot queue the commands",
                                 key);
        /* every reply is read, whatever it is, so the connection stays in step */
        for (i = 0; i < n; i++) {
                if (get_reply(ctx, &r, "reading the published checkpoint", err) != RW_OK ||
                    r == NULL)
                        return RW_ERR_IO;
                if (r->type == REDIS_REPLY_ERROR && rc == RW_OK) {
                        (void)rwerr_set(err, RW_ERR_REMOTE, "reading %.200s: Redis says: %s", key,
                                        r->str);
                        rc = RW_ERR_REMOTE;
                }
                if (i == n - 1 && rc == RW_OK)
                        *exec = r;
                else
                        freeReplyObject(r);
        }
        if (rc != RW_OK)
                return rc;
        if (*exec == NULL || (*exec)->type != REDIS_REPLY_ARRAY ||
            (*exec)->elements != (size_t)(n - 2)) {
                freeReplyObject(*exec);
                *exec = NULL;
                (void)rwerr_set(err, RW_ERR_PROTOCOL,
                                "reading %.200s: EXEC did not answer one reply per command", key);
                return RW_ERR_PROTOCOL;
        }
        return RW_OK;
}

static int publish_cosigned(redisContext *ctx, const char *key, const char *name, const char *note,
                            struct rwerr *err)
{
        redisReply *r = redisCommand(ctx, "HSET %s %s %b", key, name, note, strlen(note));
        int rc = RW_OK;

        if (r == NULL)
                return rwerr_set(err, RW_ERR_IO, "HSET %.200s: %s", key,
                                 ctx->errstr[0] != '\0' ? ctx->errstr : "no reply from Redis");
        if (r->type == REDIS_REPLY_ERROR)
                rc = rwerr_set(err, RW_ERR_REMOTE, "HSET %.200s: Redis says: %s", key, r->str);
        else if (r->type != REDIS_REPLY_INTEGER)
                rc = rwerr_set(err, RW_ERR_PROTOCOL, "HSET %.200s: Redis answered %s", key,
                               redisconn_reply_type_name(r->type));
        freeReplyObject(r);
        return rc;
}

int audit_witness_poll(redisContext *ctx, const char *redis_key,
                       const struct audit_witness_config *c, struct audit_witness_result *r,
                       struct rwerr *err)
{
        char proofs_key[AUDIT_WITNESS_REDIS_KEY_MAX + 16];
        char cosigned_key[AUDIT_WITNESS_REDIS_KEY_MAX + 16];
        struct audit_witness_published p;
        struct audit_witness_state st;
        struct prefetched pf;
        redisReply *exec = NULL;
        struct rwerr local;
        int found = 0, rc;

        if (err == NULL)
                err = &local;
        memset(r, 0, sizeof *r);
        r->reason = "";
        if (redis_key == NULL || redis_key[0] == '\0' ||
            strlen(redis_key) > AUDIT_WITNESS_REDIS_KEY_MAX) {
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "",
                        "the Redis key of the log to witness is empty or longer than %d bytes",
                        AUDIT_WITNESS_REDIS_KEY_MAX);
                return RW_OK;
        }
        if (config_fault(c, r))
                return RW_OK;
        if (audit_witness_state_load(c->state_dir, c->genesis, &st, &found, err) != RW_OK) {
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "%s", err->msg);
                return RW_OK;
        }
        snprintf(proofs_key, sizeof proofs_key, "%s:proofs", redis_key);
        snprintf(cosigned_key, sizeof cosigned_key, "%s:cosigned", redis_key);
        if ((rc = fetch(ctx, redis_key, proofs_key, found ? &st : NULL, &exec, err)) != RW_OK ||
            exec == NULL) {
                rc = rc != RW_OK ? rc : RW_ERR_PROTOCOL;
                audit_witness_state_release(&st);
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "%s", err->msg);
                return rc;
        }
        memset(&p, 0, sizeof p);
        pf.from = st.size;
        pf.reply = found ? exec->element[1] : NULL;
        p.proof = prefetched_proof;
        p.proof_ctx = &pf;
        if ((rc = published_fields(exec, redis_key, proofs_key, &p, err)) != RW_OK) {
                freeReplyObject(exec);
                audit_witness_state_release(&st);
                verdict(r, AUDIT_WITNESS_CANNOT_TELL, "", "%s", err->msg);
                return rc;
        }
        (void)decide(&p, c, found ? &st : NULL, r);
        freeReplyObject(exec);
        audit_witness_state_release(&st);
        if (r->cosigned == NULL)
                return RW_OK;
        if ((rc = publish_cosigned(ctx, cosigned_key, c->name, r->cosigned, err)) != RW_OK)
                return rc;
        r->published = 1;
        return RW_OK;
}
