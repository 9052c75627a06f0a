#include "audit_verify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "b64.h"
#include "audit_key.h"
#include "audit_log.h"
#include "audit_record.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

struct external {
        struct audit_note note;
        struct audit_checkpoint cp;
        const char *source;
        int checked;
};

struct verifier {
        const struct audit_verify_options *o;
        struct audit_verify_result *r;
        struct audit_tree tree;
        uint64_t leaves_cap;
        int have_key; /* key is the epoch in force */
        struct verify_key key;
        uint64_t epoch;
        uint64_t epoch_from; /* the seq of the key_epoch record that started it */
        size_t keys_cap;
        struct external *ext;
        size_t next;
        const char *file; /* where we are, for messages */
        uint64_t line;
        /* the last checkpoint that verified: what lies after it is what a bad root blames */
        uint64_t good_size;
        char good_file[512];
        uint64_t good_line;
        int done; /* a verdict other than INTACT was reached */
};

static void verdict(struct verifier *v, enum audit_verdict what, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void verdict(struct verifier *v, enum audit_verdict what, const char *fmt, ...)
{
        char msg[900];
        va_list ap;

        if (v->done)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (v->file != NULL)
                snprintf(v->r->message, sizeof v->r->message, "%s:%" PRIu64 ": %s", v->file,
                         v->line, msg);
        else
                snprintf(v->r->message, sizeof v->r->message, "%s", msg);
        v->r->verdict = what;
        v->done = 1;
}

static void notice(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void notice(struct verifier *v, const char *fmt, ...)
{
        size_t used = strlen(v->r->notices);
        va_list ap;

        if (used + 2 >= sizeof v->r->notices)
                return;
        va_start(ap, fmt);
        vsnprintf(v->r->notices + used, sizeof v->r->notices - used - 1, fmt, ap);
        va_end(ap);
        used = strlen(v->r->notices);
        v->r->notices[used] = '\n';
        v->r->notices[used + 1] = '\0';
}

static int b64_32(const cJSON *item, unsigned char out[32])
{

        return cJSON_IsString(item) && b64_decode_exact(item->valuestring, out, 32) == 0;
}

static int uint_of(const cJSON *o, const char *name, uint64_t *out)
{
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);

        if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 9007199254740992.0 ||
            n->valuedouble != (double)(uint64_t)n->valuedouble)
                return 0;
        *out = (uint64_t)n->valuedouble;
        return 1;
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');

        return s != NULL ? s + 1 : path;
}

/* ------------------------------------------------------------ records */

static void take_key(struct verifier *v, const unsigned char pk[32], uint64_t epoch, uint64_t seq)
{
        struct verify_key *grown;

        verify_key_from_bytes(pk, &v->key);
        v->have_key = 1;
        v->epoch = epoch;
        v->epoch_from = seq;
        if (v->r->epochs == v->keys_cap) {
                v->keys_cap = v->keys_cap ? v->keys_cap * 2 : 8;
                grown = realloc(v->r->keys, v->keys_cap * sizeof *grown);
                if (grown == NULL) {
                        verdict(v, AUDIT_CANNOT_TELL, "out of memory");
                        return;
                }
                v->r->keys = grown;
        }
        v->r->keys[v->r->epochs++] = v->key;
}

static void check_key_epoch(struct verifier *v, const struct audit_record *rec)
{
        const cJSON *c = rec->content;
        const cJSON *vkey = cJSON_GetObjectItemCaseSensitive(c, "vkey");
        unsigned char pk[32], sig[64], vpk[32];
        char name[AUDIT_NOTE_NAME_MAX], msg[AUDIT_KEY_CERT_MAX];
        uint64_t epoch;
        size_t mlen;
        struct rwerr err;

        if (!uint_of(c, "epoch", &epoch) ||
            !b64_32(cJSON_GetObjectItemCaseSensitive(c, "public_key"), pk) ||
            !cJSON_IsString(vkey) ||
            audit_note_vkey_parse(vkey->valuestring, name, vpk, &err) != RW_OK) {
                verdict(v, AUDIT_TAMPERED,
                        "record %" PRIu64 ": a key_epoch record without a valid "
                        "epoch, public_key and vkey",
                        rec->seq);
                return;
        }
        if (sodium_memcmp(vpk, pk, 32) != 0) {
                verdict(v, AUDIT_TAMPERED,
                        "record %" PRIu64 ": its vkey and public_key name "
                        "different keys",
                        rec->seq);
                return;
        }
        if (!v->have_key) {
                if (rec->seq != 0 || epoch != 0) {
                        verdict(v, AUDIT_TAMPERED,
                                "record %" PRIu64 ": the first key_epoch record "
                                "is epoch %" PRIu64 ", not the genesis (epoch 0 at record 0)",
                                rec->seq, epoch);
                        return;
                }
                snprintf(v->r->origin, sizeof v->r->origin, "%s", name);
                if (v->o->genesis != NULL && sodium_memcmp(v->o->genesis->pk, pk, 32) != 0) {
                        struct verify_key k;

                        verify_key_from_bytes(pk, &k);
                        verdict(v, AUDIT_TAMPERED,
                                "the log's genesis key is %s but the pinned key "
                                "is %s: this is another log, or it was re-signed with another key",
                                k.key_id, v->o->genesis->key_id);
                        return;
                }
                take_key(v, pk, 0, rec->seq);
                return;
        }
        if (epoch != v->epoch + 1 || strcmp(name, v->r->origin) != 0) {
                verdict(v, AUDIT_TAMPERED,
                        "record %" PRIu64 ": key epoch %" PRIu64 " for \"%s\" "
                        "follows epoch %" PRIu64 " of \"%s\"",
                        rec->seq, epoch, name, v->epoch, v->r->origin);
                return;
        }
        mlen = audit_key_cert_message(v->r->origin, epoch, pk, msg);
        {
                const cJSON *cert = cJSON_GetObjectItemCaseSensitive(c, "cert");

                if (mlen == 0 || !cJSON_IsString(cert) ||
                    b64_decode_exact(cert->valuestring, sig, sizeof sig) != 0 ||
                    crypto_sign_verify_detached(sig, (const unsigned char *)msg, mlen, v->key.pk) !=
                            0) {
                        verdict(v, AUDIT_TAMPERED,
                                "record %" PRIu64 ": the key of epoch %" PRIu64
                                " is not certified by the key of epoch %" PRIu64 " (%s)",
                                rec->seq, epoch, v->epoch, v->key.key_id);
                        return;
                }
        }
        take_key(v, pk, epoch, rec->seq);
}

/* Which earlier epoch's key signed the note, or -1. */
static long expired_signer(const struct verifier *v, const struct audit_note *n)
{
        uint64_t i;
        struct rwerr err;

        for (i = 0; i + 1 < v->r->epochs; i++)
                if (audit_note_verify(n, v->r->origin, v->r->keys[i].pk, &err) == RW_OK)
                        return (long)i;
        return -1;
}

static void check_checkpoint(struct verifier *v, const struct audit_record *rec)
{
        const cJSON *c = rec->content, *note = cJSON_GetObjectItemCaseSensitive(c, "note");
        unsigned char root[32], content_root[32];
        struct audit_note n;
        struct audit_checkpoint cp;
        uint64_t size;
        struct rwerr err;
        long old;

        audit_tree_root(&v->tree, root);
        if (!uint_of(c, "size", &size) ||
            !b64_32(cJSON_GetObjectItemCaseSensitive(c, "root"), content_root) ||
            !cJSON_IsString(note)) {
                verdict(v, AUDIT_TAMPERED,
                        "checkpoint record %" PRIu64 ": size, root or note "
                        "missing or malformed",
                        rec->seq);
                return;
        }
        if (size != rec->seq || sodium_memcmp(content_root, root, 32) != 0) {
                if (strcmp(v->good_file, v->file) == 0)
                        verdict(v, AUDIT_TAMPERED,
                                "checkpoint record %" PRIu64 " signs another "
                                "root than the records before it have: one of records %" PRIu64
                                " to %" PRIu64 " (%s lines %" PRIu64 " to %" PRIu64 ") was "
                                "changed since it was signed",
                                rec->seq, v->good_size, rec->seq - 1, base_name(v->file),
                                v->good_line + 1, v->line - 1);
                else
                        verdict(v, AUDIT_TAMPERED,
                                "checkpoint record %" PRIu64 " signs another "
                                "root than the records before it have: one of records %" PRIu64
                                " to %" PRIu64 " (from %s line %" PRIu64 " on) was changed since "
                                "it was signed",
                                rec->seq, v->good_size, rec->seq - 1,
                                v->good_file[0] ? base_name(v->good_file) : "the first file",
                                v->good_line + 1);
                return;
        }
        if (audit_note_parse(note->valuestring, strlen(note->valuestring), &n, &err) != RW_OK) {
                verdict(v, AUDIT_TAMPERED, "checkpoint record %" PRIu64 ": its note: %s", rec->seq,
                        err.msg);
                return;
        }
        if (audit_checkpoint_parse(n.text, n.text_len, &cp, &err) != RW_OK ||
            strcmp(cp.origin, v->r->origin) != 0 || cp.size != size ||
            sodium_memcmp(cp.root, root, 32) != 0) {
                verdict(v, AUDIT_TAMPERED,
                        "checkpoint record %" PRIu64 ": the signed note is not "
                        "the checkpoint (%s, %" PRIu64 ", root) of the records before it",
                        rec->seq, v->r->origin, size);
                audit_note_release(&n);
                return;
        }
        if (audit_note_verify(&n, v->r->origin, v->key.pk, &err) != RW_OK) {
                if ((old = expired_signer(v, &n)) >= 0)
                        verdict(v, AUDIT_TAMPERED,
                                "checkpoint record %" PRIu64 " is signed by the "
                                "key of epoch %ld (%s), which expired at record %" PRIu64
                                " when epoch %" PRIu64 " began: a stolen old key cannot sign new "
                                "checkpoints",
                                rec->seq, old, v->r->keys[old].key_id, v->epoch_from, v->epoch);
                else
                        verdict(v, AUDIT_TAMPERED,
                                "checkpoint record %" PRIu64 ": the note's "
                                "signature does not verify with the epoch %" PRIu64 " key (%s): %s",
                                rec->seq, v->epoch, v->key.key_id, err.msg);
                audit_note_release(&n);
                return;
        }
        v->r->last = cp;
        v->good_size = rec->seq + 1;
        snprintf(v->good_file, sizeof v->good_file, "%s", v->file);
        v->good_line = v->line;
        free(v->r->last_note);
        v->r->last_note = strdup(note->valuestring);
        v->r->checkpoints++;
        if (v->o->keep_leaves) {
                struct audit_verified_checkpoint *grown =
                        realloc(v->r->cps, (v->r->ncps + 1) * sizeof *grown);

                if (grown == NULL || (grown[v->r->ncps].note = strdup(note->valuestring)) == NULL) {
                        if (grown != NULL)
                                v->r->cps = grown;
                        verdict(v, AUDIT_CANNOT_TELL, "out of memory keeping checkpoints");
                } else {
                        v->r->cps = grown;
                        grown[v->r->ncps++].size = size;
                }
        }
        audit_note_release(&n);
}

/* Checkpoints from outside whose size is the tree's size now. */
static void check_externals(struct verifier *v)
{
        unsigned char root[32];
        struct rwerr err;
        size_t i;
        int have_root = 0;

        for (i = 0; i < v->o->nexternal && !v->done; i++) {
                struct external *e = &v->ext[i];

                if (e->checked || e->cp.size != v->tree.size)
                        continue;
                e->checked = 1;
                if (!have_root) { /* only at a size someone gave: it costs log2(size) hashes */
                        audit_tree_root(&v->tree, root);
                        have_root = 1;
                }
                if (audit_note_verify(&e->note, v->r->origin, v->key.pk, &err) != RW_OK) {
                        long old = expired_signer(v, &e->note);

                        verdict(v, old >= 0 ? AUDIT_TAMPERED : AUDIT_CANNOT_TELL,
                                "the checkpoint from %s (size %" PRIu64 ") is not signed by the "
                                "key of epoch %" PRIu64 " (%s), in force at that size%s",
                                e->source, e->cp.size, v->epoch, v->key.key_id,
                                old >= 0 ? ", but by an expired one" : "");
                        continue;
                }
                if (strcmp(e->cp.origin, v->r->origin) != 0 ||
                    sodium_memcmp(e->cp.root, root, 32) != 0)
                        verdict(v, AUDIT_TAMPERED,
                                "the log does not extend the checkpoint from %s: at size %" PRIu64
                                " its root differs from the signed one (the log was rewritten, or "
                                "this is a fork of it)",
                                e->source, e->cp.size);
        }
}

static void take_record(struct verifier *v, const char *line, size_t len)
{
        struct audit_record rec;
        unsigned char leaf[AUDIT_HASH_BYTES];
        struct rwerr err;

        if (audit_record_parse(line, len, &rec, &err) != RW_OK) {
                verdict(v, v->tree.size == 0 ? AUDIT_CANNOT_TELL : AUDIT_TAMPERED, "%s%s",
                        v->tree.size == 0 ? "not an audit log: " : "not a record: ", err.msg);
                return;
        }
        if (rec.seq != v->tree.size) {
                if (v->tree.size == 0)
                        verdict(v, AUDIT_TAMPERED,
                                "the log starts at record %" PRIu64 ", not 0: the "
                                "files before it are missing (a rotated file removed?)",
                                rec.seq);
                else if (rec.seq > v->tree.size)
                        verdict(v, AUDIT_TAMPERED,
                                "record %" PRIu64 " follows record %" PRIu64 ": records %" PRIu64
                                " to %" PRIu64 " are missing (deleted, or a "
                                "rotated file removed)",
                                rec.seq, v->tree.size - 1, v->tree.size, rec.seq - 1);
                else
                        verdict(v, AUDIT_TAMPERED,
                                "record %" PRIu64 " where record %" PRIu64
                                " should be: records were moved, swapped or repeated",
                                rec.seq, v->tree.size);
                audit_record_release(&rec);
                return;
        }
        check_externals(v);
        if (strcmp(rec.kind, AUDIT_KIND_KEY_EPOCH) == 0)
                check_key_epoch(v, &rec);
        else if (!v->have_key)
                verdict(v, AUDIT_TAMPERED, "record 0 is a %s record, not the genesis key_epoch",
                        rec.kind);
        else if (strcmp(rec.kind, AUDIT_KIND_CHECKPOINT) == 0)
                check_checkpoint(v, &rec);
        audit_record_release(&rec);
        if (v->done)
                return;
        audit_tree_leaf_hash(line, len, leaf);
        if (v->o->keep_leaves) {
                if (v->tree.size == v->leaves_cap) {
                        uint64_t cap = v->leaves_cap ? v->leaves_cap * 2 : 1024;
                        void *grown = realloc(v->r->leaves, cap * AUDIT_HASH_BYTES);

                        if (grown == NULL) {
                                verdict(v, AUDIT_CANNOT_TELL, "out of memory keeping leaf hashes");
                                return;
                        }
                        v->r->leaves = grown;
                        v->leaves_cap = cap;
                }
                memcpy(v->r->leaves[v->tree.size], leaf, AUDIT_HASH_BYTES);
        }
        (void)audit_tree_append(&v->tree, leaf);
        v->r->records = v->tree.size;
}

/* ------------------------------------------------------------ files */

static int path_cmp(const void *a, const void *b)
{
        return strcmp(base_name(*(const char *const *)a), base_name(*(const char *const *)b));
}

static void read_file(struct verifier *v, const char *path, int newest)
{
        FILE *f = fopen(path, "rb");
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        int any = 0;

        v->file = path;
        v->line = 0;
        if (f == NULL) {
                verdict(v, AUDIT_CANNOT_TELL, "cannot open: %s", strerror(errno));
                return;
        }
        while (!v->done && (got = getline(&line, &cap, f)) > 0) {
                v->line++;
                any = 1;
                if (line[got - 1] != '\n') {
                        if (newest)
                                notice(v,
                                       "%s:%" PRIu64 ": the last line is incomplete (%zd bytes "
                                       "and no newline): a write cut short by a crash; the log "
                                       "verifies up to record %" PRIu64 " before it",
                                       path, v->line, got, v->tree.size);
                        else
                                verdict(v, AUDIT_TAMPERED,
                                        "a rotated file ends in an incomplete "
                                        "line: it was cut");
                        break;
                }
                take_record(v, line, (size_t)got - 1);
        }
        if (!v->done && ferror(f))
                verdict(v, AUDIT_CANNOT_TELL, "read failed: %s", strerror(errno));
        if (!v->done && !any)
                verdict(v, AUDIT_CANNOT_TELL,
                        "empty: no records (not an audit log, or one cut to "
                        "nothing)");
        free(line);
        (void)fclose(f);
}

enum audit_verdict audit_verify_files(const char *const *files, size_t n,
                                      const struct audit_verify_options *o,
                                      struct audit_verify_result *r)
{
        struct verifier v;
        const char **sorted = NULL;
        struct rwerr err;
        size_t i;

        memset(r, 0, sizeof *r);
        memset(&v, 0, sizeof v);
        v.o = o;
        v.r = r;
        audit_tree_init(&v.tree);
        if (n == 0) {
                verdict(&v, AUDIT_CANNOT_TELL, "no audit log files given");
                return r->verdict;
        }
        if ((sorted = malloc(n * sizeof *sorted)) == NULL ||
            (o->nexternal > 0 && (v.ext = calloc(o->nexternal, sizeof *v.ext)) == NULL)) {
                verdict(&v, AUDIT_CANNOT_TELL, "out of memory");
                goto done;
        }
        for (i = 0; i < o->nexternal && !v.done; i++) {
                v.ext[i].source = o->external[i].source;
                if (audit_note_parse(o->external[i].note, o->external[i].len, &v.ext[i].note,
                                     &err) != RW_OK ||
                    audit_checkpoint_parse(v.ext[i].note.text, v.ext[i].note.text_len, &v.ext[i].cp,
                                           &err) != RW_OK)
                        verdict(&v, AUDIT_CANNOT_TELL, "the checkpoint from %s: %s",
                                o->external[i].source, err.msg);
                else if (v.ext[i].cp.size == 0)
                        verdict(&v, AUDIT_CANNOT_TELL, "the checkpoint from %s is of the empty log",
                                o->external[i].source);
        }
        memcpy(sorted, files, n * sizeof *sorted);
        for (i = 0; i < n && audit_log_is_file_name(base_name(sorted[i])); i++)
                ;
        if (i == n) /* every name says its first record: put them in order */
                qsort(sorted, n, sizeof *sorted, path_cmp);
        for (i = 0; i < n && !v.done; i++)
                read_file(&v, sorted[i], i == n - 1);
        v.file = NULL;
        if (!v.done && v.have_key)
                check_externals(&v); /* those of exactly the log's size */
        for (i = 0; i < o->nexternal && !v.done; i++) {
                if (v.ext[i].checked)
                        continue;
                if (audit_note_verify(&v.ext[i].note, r->origin, v.key.pk, &err) == RW_OK ||
                    expired_signer(&v, &v.ext[i].note) >= 0)
                        verdict(&v, AUDIT_TAMPERED,
                                "the log holds %" PRIu64 " records, but the checkpoint from %s, "
                                "signed by this log's key, covers %" PRIu64
                                ": the log was cut short or rolled back",
                                v.tree.size, v.ext[i].source, v.ext[i].cp.size);
                else
                        verdict(&v, AUDIT_CANNOT_TELL,
                                "the checkpoint from %s covers %" PRIu64 " records, more than the "
                                "%" PRIu64 " here, and is signed by a key this log does not "
                                "hold: a later epoch (the log cut short?) or another log",
                                v.ext[i].source, v.ext[i].cp.size, v.tree.size);
        }
        if (v.done)
                goto done;
        if (r->checkpoints == 0) {
                verdict(&v, AUDIT_CANNOT_TELL,
                        "%" PRIu64 " records and no checkpoint: nothing in "
                        "the log is signed yet",
                        r->records);
                goto done;
        }
        if (r->records > r->last.size + 1)
                notice(&v,
                       "%" PRIu64 " records after the last checkpoint (record %" PRIu64
                       ") are not covered by a signature yet",
                       r->records - r->last.size - 1, r->last.size);
        if (o->genesis == NULL) {
                verdict(&v, AUDIT_CANNOT_TELL,
                        "consistent with its own genesis key %s, but no key "
                        "was pinned (--pubkey): cannot tell it is the log you expect",
                        r->keys[0].key_id);
                goto done;
        }
        r->verdict = AUDIT_INTACT;
        snprintf(r->message, sizeof r->message,
                 "intact: %" PRIu64 " records, %" PRIu64 " checkpoints, %" PRIu64
                 " key epochs; last checkpoint at size %" PRIu64 "%s%s",
                 r->records, r->checkpoints, r->epochs, r->last.size,
                 o->nexternal > 0 ? "; extends every checkpoint given" : "", "");
done:
        for (i = 0; v.ext != NULL && i < o->nexternal; i++)
                audit_note_release(&v.ext[i].note);
        free(v.ext);
        free(sorted);
        return r->verdict;
}

void audit_verify_release(struct audit_verify_result *r)
{
        if (r == NULL)
                return;
        free(r->last_note);
        free(r->leaves);
        free(r->keys);
        while (r->ncps > 0)
                free(r->cps[--r->ncps].note);
        free(r->cps);
        r->cps = NULL;
        r->last_note = NULL;
        r->leaves = NULL;
        r->keys = NULL;
}

const char *audit_verify_note_at(const struct audit_verify_result *r, uint64_t size)
{
        size_t lo = 0, hi = r->ncps;

        while (lo < hi) { /* sizes increase along the log */
                size_t mid = lo + (hi - lo) / 2;

                if (r->cps[mid].size == size)
                        return r->cps[mid].note;
                if (r->cps[mid].size < size)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}
