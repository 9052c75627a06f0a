#include "audit_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "b64.h"
#include "audit_key.h"
#include "audit_leaves.h"
#include "audit_record.h"
#include "fileio.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define NAME_MAX_LEN 64
#define STATE_MAX ((size_t)64 * 1024)
#define MS_PER_DAY 86400000LL

struct audit_log {
        pthread_mutex_t lock;
        char *dir, *origin;
        struct audit_log_options opt;

        int fd;                           /* the current file, O_APPEND; -1 when none */
        char file[NAME_MAX_LEN];          /* its name */
        uint64_t file_bytes;              /* its length: where the next record starts */
        int64_t file_day;                 /* the UTC day of its first record */
        struct audit_tree tree;           /* over every record on disk */
        struct audit_key *key;            /* the current epoch's */
        struct audit_log_checkpoint last; /* the last checkpoint written */

        int dirty;           /* records written and not fsync'd */
        int64_t dirty_since; /* wall ms of the first of them */
        int broken;          /* an append failed: appends fail until a retry works */
        int state_dirty;     /* tree.state is behind: saved by the tick, off the halt path */
        char why[RWERR_MSG_MAX];

        struct audit_leaves *leaves; /* for proofs; NULL when it could not be kept */
        char leaves_problem[RWERR_MSG_MAX];
        cJSON *keys; /* the content of every key_epoch record, in order */
};

/* ------------------------------------------------------------ small helpers */

static void lock(struct audit_log *l)
{
        (void)pthread_mutex_lock(&l->lock);
}

static void unlock(struct audit_log *l)
{
        (void)pthread_mutex_unlock(&l->lock);
}

static void b64_of(const unsigned char *bin, size_t len, char *out, size_t cap)
{
        (void)sodium_bin2base64(out, cap, bin, len, B64);
}

static int sync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

        if (fd < 0)
                return -1;
        rc = fsync(fd);
        (void)close(fd);
        return rc;
}

static void file_name_for(uint64_t first_seq, char out[NAME_MAX_LEN])
{
        snprintf(out, NAME_MAX_LEN, "%s%012" PRIu64 "%s", AUDIT_LOG_FILE_PREFIX, first_seq,
                 AUDIT_LOG_FILE_SUFFIX);
}

int audit_log_is_file_name(const char *name)
{
        size_t n = strlen(name), p = strlen(AUDIT_LOG_FILE_PREFIX),
               s = strlen(AUDIT_LOG_FILE_SUFFIX);
        size_t i;

        if (n != p + 12 + s || strncmp(name, AUDIT_LOG_FILE_PREFIX, p) != 0 ||
            strcmp(name + n - s, AUDIT_LOG_FILE_SUFFIX) != 0)
                return 0;
        for (i = p; i < p + 12; i++)
                if (name[i] < '0' || name[i] > '9')
                        return 0;
        return 1;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The log files in dir, sorted (their names sort by first seq). Caller frees each and the array. */
int audit_log_files(const char *dir, char ***out, size_t *n, struct rwerr *err)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        char **v = NULL, **grown;
        size_t cap = 0;

        *out = NULL;
        *n = 0;
        if (d == NULL)
                return rwerr_set(err, RW_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
        while ((e = readdir(d)) != NULL) {
                if (!audit_log_is_file_name(e->d_name))
                        continue;
                if (*n == cap) {
                        cap = cap ? cap * 2 : 16;
                        if ((grown = realloc(v, cap * sizeof *v)) == NULL)
                                goto nomem;
                        v = grown;
                }
                if ((v[*n] = strdup(e->d_name)) == NULL)
                        goto nomem;
                (*n)++;
        }
        (void)closedir(d);
        if (*n > 0)
                qsort(v, *n, sizeof *v, name_cmp);
        *out = v;
        return RW_OK;
nomem:
        (void)closedir(d);
        while (*n > 0)
                free(v[--*n]);
        free(v);
        return rwerr_set(err, RW_ERR_NOMEM, "out of memory listing %s", dir);
}

void audit_log_files_free(char **v, size_t n)
{
        while (n > 0)
                free(v[--n]);
        free(v);
}

/* ------------------------------------------------------------ the key chain */

/* Keeps a key_epoch record's content (the published key chain). */
static void note_key_epoch(struct audit_log *l, const cJSON *content)
{
        cJSON *copy;

        if (l->keys == NULL && (l->keys = cJSON_CreateArray()) == NULL)
                return;
        if ((copy = cJSON_Duplicate(content, 1)) != NULL)
                cJSON_AddItemToArray(l->keys, copy);
}

/* ------------------------------------------------------------ tree.state */

static int state_save(struct audit_log *l, struct rwerr *err)
{
        cJSON *st = cJSON_CreateObject(), *edge = cJSON_AddArrayToObject(st, "edge"), *cp;
        char b64[48], *text;
        int level, rc;

        if (st == NULL || edge == NULL)
                goto nomem;
        cJSON_AddNumberToObject(st, "v", 1);
        cJSON_AddNumberToObject(st, "size", (double)l->tree.size);
        cJSON_AddStringToObject(st, "file", l->file);
        cJSON_AddNumberToObject(st, "offset", (double)l->file_bytes);
        for (level = 0; level < AUDIT_TREE_LEVELS; level++) {
                if (!(l->tree.size >> level & 1))
                        continue;
                b64_of(l->tree.edge[level], AUDIT_HASH_BYTES, b64, sizeof b64);
                cJSON_AddItemToArray(edge, cJSON_CreateString(b64));
        }
        if ((cp = cJSON_AddObjectToObject(st, "checkpoint")) == NULL)
                goto nomem;
        cJSON_AddNumberToObject(cp, "size", (double)l->last.size);
        cJSON_AddStringToObject(cp, "root", l->last.root_b64);
        cJSON_AddNumberToObject(cp, "epoch", (double)l->last.epoch);
        cJSON_AddStringToObject(cp, "key_id", l->last.key_id);
        cJSON_AddStringToObject(cp, "note", l->last.note);
        cJSON_AddNumberToObject(cp, "unix_ms", (double)l->last.unix_ms);
        if (l->keys != NULL)
                cJSON_AddItemToObject(st, "keys", cJSON_Duplicate(l->keys, 1));
        if ((text = cJSON_PrintUnformatted(st)) == NULL)
                goto nomem;
        cJSON_Delete(st);
        rc = fileio_replace(l->dir, AUDIT_LOG_STATE_FILE, text, strlen(text), 0600, 1, err);
        free(text);
        return rc;
nomem:
        cJSON_Delete(st);
        return rwerr_set(err, RW_ERR_NOMEM, "out of memory saving %s", AUDIT_LOG_STATE_FILE);
}

static int get_uint(const cJSON *o, const char *name, uint64_t *out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0)
                return 0;
        *out = (uint64_t)v->valuedouble;
        return 1;
}

/* The checkpoint fields of a checkpoint record's content (or the state's copy). */
static int checkpoint_from_json(const cJSON *c, struct audit_log_checkpoint *out)
{
        const cJSON *root = cJSON_GetObjectItemCaseSensitive(c, "root"),
                    *kid = cJSON_GetObjectItemCaseSensitive(c, "key_id"),
                    *note = cJSON_GetObjectItemCaseSensitive(c, "note");
        uint64_t ms = 0;

        memset(out, 0, sizeof *out);
        if (!get_uint(c, "size", &out->size) || !get_uint(c, "epoch", &out->epoch) ||
            !cJSON_IsString(root) || !cJSON_IsString(kid) || !cJSON_IsString(note) ||
            strlen(note->valuestring) >= sizeof out->note ||
            strlen(kid->valuestring) >= sizeof out->key_id ||
            b64_decode_exact(root->valuestring, out->root, sizeof out->root) != 0)
                return 0;
        snprintf(out->root_b64, sizeof out->root_b64, "%s", root->valuestring);
        snprintf(out->key_id, sizeof out->key_id, "%s", kid->valuestring);
        snprintf(out->note, sizeof out->note, "%s", note->valuestring);
        (void)get_uint(c, "unix_ms", &ms);
        out->unix_ms = (int64_t)ms;
        return 1;
}

/* Reads tree.state: 1 when read, 0 when there is none, <0 when it is unreadable. */
static int state_load(struct audit_log *l, uint64_t *offset, struct rwerr *err)
{
        char path[4096], *text = NULL;
        size_t len;
        cJSON *st, *edge, *item, *cp;
        uint64_t size, level;
        size_t i = 0;
        int rc;

        snprintf(path, sizeof path, "%s/%s", l->dir, AUDIT_LOG_STATE_FILE);
        rc = fileio_read(path, STATE_MAX, &text, &len, err);
        if (rc == RW_ERR_IO && errno == ENOENT)
                return 0;
        if (rc != RW_OK)
                return rc;
        st = cJSON_ParseWithLength(text, len);
        free(text);
        edge = cJSON_GetObjectItemCaseSensitive(st, "edge");
        item = cJSON_GetObjectItemCaseSensitive(st, "file");
        cp = cJSON_GetObjectItemCaseSensitive(st, "checkpoint");
        if (st == NULL || !get_uint(st, "size", &size) || !get_uint(st, "offset", offset) ||
            !cJSON_IsString(item) || !audit_log_is_file_name(item->valuestring) ||
            !cJSON_IsArray(edge) ||
            (size_t)cJSON_GetArraySize(edge) != (size_t)__builtin_popcountll(size) ||
            !cJSON_IsObject(cp) || !checkpoint_from_json(cp, &l->last))
                goto bad;
        snprintf(l->file, sizeof l->file, "%s", item->valuestring);
        item = cJSON_GetObjectItemCaseSensitive(st, "keys");
        cJSON_Delete(l->keys);
        l->keys = cJSON_IsArray(item) ? cJSON_Duplicate(item, 1) : NULL;
        audit_tree_init(&l->tree);
        l->tree.size = size;
        for (level = 0; level < AUDIT_TREE_LEVELS; level++) {
                const cJSON *h;

                if (!(size >> level & 1))
                        continue;
                h = cJSON_GetArrayItem(edge, (int)i++);
                if (!cJSON_IsString(h) ||
                    b64_decode_exact(h->valuestring, l->tree.edge[level], AUDIT_HASH_BYTES) != 0)
                        goto bad;
        }
        cJSON_Delete(st);
        return 1;
bad:
        cJSON_Delete(st);
        memset(&l->last, 0, sizeof l->last);
        return rwerr_set(err, RW_ERR_INVALID, "%s: not a tree state this relaywatch wrote", path);
}

/* ------------------------------------------------------------ reading back at open */

struct replay {
        unsigned char epoch_pk[SIGNING_KEY_PUBLIC_BYTES]; /* the last key_epoch record's key */
        uint64_t epoch;
        int have_epoch;
        uint64_t partial_bytes; /* an incomplete last line set aside */
        char partial_file[NAME_MAX_LEN + 32];
        unsigned char partial_sha[32];
};

static void replay_note_record(struct audit_log *l, struct replay *rp, const struct audit_record *r)
{
        if (strcmp(r->kind, AUDIT_KIND_KEY_EPOCH) == 0) {
                const cJSON *pk = cJSON_GetObjectItemCaseSensitive(r->content, "public_key");
                uint64_t epoch;

                note_key_epoch(l, r->content);
                if (cJSON_IsString(pk) && get_uint(r->content, "epoch", &epoch) &&
                    b64_decode_exact(pk->valuestring, rp->epoch_pk, sizeof rp->epoch_pk) == 0) {
                        rp->epoch = epoch;
                        rp->have_epoch = 1;
                }
        } else if (strcmp(r->kind, AUDIT_KIND_CHECKPOINT) == 0) {
                struct audit_log_checkpoint cp;

                if (checkpoint_from_json(r->content, &cp))
                        l->last = cp;
        }
}

/* Sets aside the bytes [from, end) of an incomplete last line and cuts the file there. */
static int set_aside(struct audit_log *l, int fd, const char *name, uint64_t from,
                     const char *bytes, size_t n, struct replay *rp, struct rwerr *err)
{
        char path[4096];

        snprintf(rp->partial_file, sizeof rp->partial_file, "partial-%012" PRIu64 ".bin",
                 l->tree.size);
        crypto_hash_sha256(rp->partial_sha, (const unsigned char *)bytes, n);
        rp->partial_bytes = n;
        if (fileio_replace(l->dir, rp->partial_file, bytes, n, 0600, 1, err) != RW_OK)
                return rwerr_prefix(err, RW_ERR_IO, "setting aside an incomplete record");
        if (ftruncate(fd, (off_t)from) != 0 || fsync(fd) != 0) {
                snprintf(path, sizeof path, "%s/%s", l->dir, name);
                return rwerr_set(err, RW_ERR_IO, "%s: cannot cut the incomplete last record: %s",
                                 path, strerror(errno));
        }
        return RW_OK;
}

/*
 * Reads the records of file `name` from byte `offset` into the tree. `last`
 * says it is the newest file (where an incomplete line may end it).
 */
static int replay_file(struct audit_log *l, const char *name, uint64_t offset, int last,
                       struct replay *rp, struct rwerr *err)
{
        char path[4096];
        char *buf = NULL, *p, *nl;
        struct stat st;
        uint64_t pos;
        ssize_t got;
        size_t have = 0;
        int fd, rc = RW_OK;

        snprintf(path, sizeof path, "%s/%s", l->dir, name);
        fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < offset) {
                (void)close(fd);
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "%s is %lld bytes but relaywatch had written %" PRIu64
                                 " to it: the audit log was cut outside relaywatch",
                                 path, (long long)st.st_size, offset);
        }
        if ((buf = malloc((size_t)st.st_size - offset + 1)) == NULL) {
                (void)close(fd);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        }
        while (have < (size_t)st.st_size - offset) {
                got = pread(fd, buf + have, (size_t)st.st_size - offset - have,
                            (off_t)(offset + have));
                if (got <= 0) {
                        rc = rwerr_set(err, RW_ERR_IO, "%s: read failed: %s", path,
                                       got < 0 ? strerror(errno) : "unexpected end");
                        goto done;
                }
                have += (size_t)got;
        }
        for (p = buf, pos = offset; p < buf + have; p = nl + 1) {
                struct audit_record r;
                unsigned char leaf[AUDIT_HASH_BYTES];

                nl = memchr(p, '\n', (size_t)(buf + have - p));
                if (nl == NULL) {
                        if (!last) {
                                rc = rwerr_set(err, RW_ERR_REFUSED,
                                               "%s: the last line is incomplete in a rotated file",
                                               path);
                                goto done;
                        }
                        rc = set_aside(l, fd, name, pos, p, (size_t)(buf + have - p), rp, err);
                        have = (size_t)(p - buf);
                        break;
                }
                if (audit_record_parse(p, (size_t)(nl - p), &r, err) != RW_OK) {
                        char where[4200];

                        snprintf(where, sizeof where, "%s, the record at byte %" PRIu64, path, pos);
                        rc = rwerr_prefix(err, RW_ERR_REFUSED, where);
                        goto done;
                }
                if (r.seq != l->tree.size) {
                        rwerr_set(err, RW_ERR_REFUSED,
                                  "%s: record %" PRIu64 " stands where record %" PRIu64
                                  " should: the log was changed outside relaywatch",
                                  path, r.seq, l->tree.size);
                        audit_record_release(&r);
                        rc = RW_ERR_REFUSED;
                        goto done;
                }
                replay_note_record(l, rp, &r);
                audit_record_release(&r);
                audit_tree_leaf_hash(p, (size_t)(nl - p), leaf);
                if (audit_tree_append(&l->tree, leaf) != RW_OK) {
                        rc = rwerr_set(err, RW_ERR_RANGE, "%s: more records than a tree holds",
                                       path);
                        goto done;
                }
                pos += (uint64_t)(nl - p) + 1;
        }
        if (last) {
                l->file_bytes = offset + have;
                snprintf(l->file, sizeof l->file, "%s", name);
        }
done:
        free(buf);
        if (rc == RW_OK && last) {
                if (fcntl(fd, F_SETFL, O_APPEND) != 0)
                        rc = rwerr_set(err, RW_ERR_IO, "%s: cannot set O_APPEND: %s", path,
                                       strerror(errno));
                else
                        l->fd = fd;
        }
        if (rc != RW_OK || !last)
                (void)close(fd);
        return rc;
}

/* ------------------------------------------------------------ writing */

static int64_t utc_day(int64_t unix_ms)
{
        return unix_ms / MS_PER_DAY;
}

static void mark_broken(struct audit_log *l, const struct rwerr *err)
{
        l->broken = 1;
        snprintf(l->why, sizeof l->why, "%s", err->msg);
}

/* Starts a new file for the records from seq tree.size on. */
static int open_new_file(struct audit_log *l, int64_t now_ms, struct rwerr *err)
{
        char name[NAME_MAX_LEN], path[4096];
        int fd;

        if (l->fd >= 0) {
                if (fdatasync(l->fd) != 0)
                        return rwerr_set(err, RW_ERR_IO, "%s/%s: fdatasync failed: %s", l->dir,
                                         l->file, strerror(errno));
                (void)close(l->fd);
                l->fd = -1;
                l->dirty = 0;
        }
        file_name_for(l->tree.size, name);
        snprintf(path, sizeof path, "%s/%s", l->dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        if (sync_dir(l->dir) != 0) {
                (void)close(fd);
                return rwerr_set(err, RW_ERR_IO, "%s: cannot fsync the directory: %s", l->dir,
                                 strerror(errno));
        }
        l->fd = fd;
        snprintf(l->file, sizeof l->file, "%s", name);
        l->file_bytes = 0;
        l->file_day = utc_day(now_ms);
        return RW_OK;
}

static int maybe_rotate(struct audit_log *l, int64_t now_ms, struct rwerr *err)
{
        if (l->fd < 0)
                return open_new_file(l, now_ms, err);
        if (l->file_bytes == 0)
                return RW_OK;
        if ((l->opt.rotate_bytes > 0 && l->file_bytes >= l->opt.rotate_bytes) ||
            (l->opt.rotate_daily && utc_day(now_ms) != l->file_day))
                return open_new_file(l, now_ms, err);
        return RW_OK;
}

static int append_locked(struct audit_log *l, const char *kind, const char *correlation_id,
                         const cJSON *content, int durable, int64_t now_ms, uint64_t *seq,
                         struct rwerr *err)
{
        unsigned char leaf[AUDIT_HASH_BYTES];
        char *line = NULL;
        size_t len;
        int rc;

        if (l->broken)
                return rwerr_set(err, RW_ERR_IO, "the audit log is down: %s", l->why);
        if ((rc = maybe_rotate(l, now_ms, err)) != RW_OK)
                goto broken;
        if ((rc = audit_record_format(l->tree.size, now_ms, kind, correlation_id, content, &line,
                                      &len, err)) != RW_OK)
                return rc; /* the record's fault, not the log's */
        line[len] = '\n';  /* the NUL's place: one write carries the line and its end */
        if (fileio_write_all(l->fd, line, len + 1) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "%s/%s: write failed: %s", l->dir, l->file,
                               strerror(errno));
                /* leave no part of it behind: the next record must start a line */
                if (ftruncate(l->fd, (off_t)l->file_bytes) != 0) {
                        /* the next start sets the piece aside */
                }
                free(line);
                goto broken;
        }
        audit_tree_leaf_hash(line, len, leaf);
        free(line);
        if (audit_tree_append(&l->tree, leaf) != RW_OK) {
                rc = rwerr_set(err, RW_ERR_RANGE,
                               "the audit log holds as many records as a tree can");
                goto broken;
        }
        l->file_bytes += len + 1;
        if (l->leaves != NULL && audit_leaves_append(l->leaves, leaf, err) != RW_OK) {
                /* proofs for witnesses are lost until a restart rebuilds them; the log is fine */
                snprintf(l->leaves_problem, sizeof l->leaves_problem, "%s", err->msg);
                audit_leaves_close(l->leaves);
                l->leaves = NULL;
        }
        if (strcmp(kind, AUDIT_KIND_KEY_EPOCH) == 0 && content != NULL)
                note_key_epoch(l, content);
        if (seq != NULL)
                *seq = l->tree.size - 1;
        if (durable) {
                if (fdatasync(l->fd) != 0) {
                        rc = rwerr_set(err, RW_ERR_IO, "%s/%s: fdatasync failed: %s", l->dir,
                                       l->file, strerror(errno));
                        goto broken;
                }
                l->dirty = 0;
        } else if (!l->dirty) {
                l->dirty = 1;
                l->dirty_since = now_ms;
        }
        return RW_OK;
broken:
        mark_broken(l, err);
        return rc;
}

static int checkpoint_locked(struct audit_log *l, const char *correlation_id, int64_t now_ms,
                             struct audit_log_checkpoint *out, struct rwerr *err)
{
        struct audit_checkpoint body;
        struct audit_log_checkpoint cp;
        char *text = NULL, *note = NULL;
        cJSON *content = NULL;
        int rc;

        memset(&body, 0, sizeof body);
        memset(&cp, 0, sizeof cp);
        snprintf(body.origin, sizeof body.origin, "%s", l->origin);
        body.size = l->tree.size;
        audit_tree_root(&l->tree, body.root);
        if ((rc = audit_checkpoint_format(&body, &text, err)) != RW_OK ||
            (rc = audit_note_sign(text, l->origin, l->key->key->sk, &note, err)) != RW_OK)
                goto done;
        if (strlen(note) >= sizeof cp.note) {
                rc = rwerr_set(err, RW_ERR_RANGE, "the checkpoint note is too long");
                goto done;
        }
        cp.size = body.size;
        memcpy(cp.root, body.root, sizeof cp.root);
        b64_of(cp.root, sizeof cp.root, cp.root_b64, sizeof cp.root_b64);
        cp.epoch = l->key->epoch;
        snprintf(cp.key_id, sizeof cp.key_id, "%s", l->key->key->pub.key_id);
        snprintf(cp.note, sizeof cp.note, "%s", note);
        cp.unix_ms = now_ms;
        if ((content = cJSON_CreateObject()) == NULL ||
            cJSON_AddNumberToObject(content, "size", (double)cp.size) == NULL ||
            cJSON_AddStringToObject(content, "root", cp.root_b64) == NULL ||
            cJSON_AddNumberToObject(content, "epoch", (double)cp.epoch) == NULL ||
            cJSON_AddStringToObject(content, "key_id", cp.key_id) == NULL ||
            cJSON_AddStringToObject(content, "note", cp.note) == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory writing a checkpoint");
                goto done;
        }
        if ((rc = append_locked(l, AUDIT_KIND_CHECKPOINT, correlation_id, content, 1, now_ms, NULL,
                                err)) != RW_OK)
                goto done;
        l->last = cp;
        l->state_dirty = 1; /* the tick saves it: a checkpoint before a HALT pays one fsync */
        if (out != NULL)
                *out = cp;
done:
        cJSON_Delete(content);
        free(text);
        free(note);
        return rc;
}

/* The key_epoch record's content for `k`, certified by `by` (NULL for the genesis). */
static cJSON *epoch_content(const struct audit_log *l, const struct audit_key *k,
                            const struct audit_key *by, struct rwerr *err)
{
        char pk_b64[48], vkey[512], cert_msg[AUDIT_KEY_CERT_MAX], sig_b64[96];
        unsigned char sig[64];
        size_t mlen;
        cJSON *c;

        b64_of(k->key->pub.pk, SIGNING_KEY_PUBLIC_BYTES, pk_b64, sizeof pk_b64);
        if (audit_note_vkey(l->origin, k->key->pub.pk, vkey, sizeof vkey, err) != RW_OK)
                return NULL;
        if ((c = cJSON_CreateObject()) == NULL)
                goto nomem;
        cJSON_AddNumberToObject(c, "epoch", (double)k->epoch);
        cJSON_AddStringToObject(c, "public_key", pk_b64);
        cJSON_AddStringToObject(c, "key_id", k->key->pub.key_id);
        cJSON_AddStringToObject(c, "vkey", vkey);
        if (by != NULL) {
                mlen = audit_key_cert_message(l->origin, k->epoch, k->key->pub.pk, cert_msg);
                if (mlen == 0) {
                        cJSON_Delete(c);
                        rwerr_set(err, RW_ERR_RANGE,
                                  "the origin is too long for a key certificate");
                        return NULL;
                }
                (void)crypto_sign_detached(sig, NULL, (const unsigned char *)cert_msg, mlen,
                                           by->key->sk);
                b64_of(sig, sizeof sig, sig_b64, sizeof sig_b64);
                cJSON_AddStringToObject(c, "previous_key_id", by->key->pub.key_id);
                if (cJSON_AddStringToObject(c, "cert", sig_b64) == NULL)
                        goto nomem;
        }
        if (cJSON_GetObjectItemCaseSensitive(c, "vkey") == NULL)
                goto nomem;
        return c;
nomem:
        cJSON_Delete(c);
        rwerr_set(err, RW_ERR_NOMEM, "out of memory writing a key epoch record");
        return NULL;
}

/* Ends the current epoch: checkpoint, the next key certified, checkpoint with the next key. */
static int rotate_key_locked(struct audit_log *l, int64_t now_ms, struct rwerr *err)
{
        struct audit_key *next = NULL;
        cJSON *content;
        char cid[64];
        int rc;

        snprintf(cid, sizeof cid, "audit-epoch-%" PRIu64, l->key->epoch + 1);
        if ((rc = checkpoint_locked(l, cid, now_ms, NULL, err)) != RW_OK)
                return rc;
        if ((rc = audit_key_prepare_next(l->dir, l->key, now_ms / 1000, &next, err)) != RW_OK)
                return rc;
        if ((content = epoch_content(l, next, l->key, err)) == NULL) {
                audit_key_abandon(l->dir, next);
                return RW_ERR_NOMEM;
        }
        rc = append_locked(l, AUDIT_KIND_KEY_EPOCH, cid, content, 1, now_ms, NULL, err);
        cJSON_Delete(content);
        if (rc != RW_OK) {
                audit_key_abandon(l->dir, next);
                return rc;
        }
        if ((rc = audit_key_commit(l->dir, &l->key, next, err)) != RW_OK) {
                /* the record names the next key: a restart commits it (audit_log_open) */
                mark_broken(l, err);
                audit_key_free(next);
                return rc;
        }
        return checkpoint_locked(l, cid, now_ms, NULL, err);
}

/* ------------------------------------------------------------ open and close */

static int finish_open(struct audit_log *l, struct audit_key *next, const struct replay *rp,
                       int64_t now_ms, struct rwerr *err)
{
        cJSON *c;
        int rc;

        /* A rotation a crash cut short: commit it if the log names the new key, else drop it. */
        if (next != NULL) {
                if (rp->have_epoch && rp->epoch == next->epoch &&
                    sodium_memcmp(rp->epoch_pk, next->key->pub.pk, SIGNING_KEY_PUBLIC_BYTES) == 0) {
                        if ((rc = audit_key_commit(l->dir, &l->key, next, err)) != RW_OK) {
                                audit_key_free(next);
                                return rc;
                        }
                } else {
                        audit_key_abandon(l->dir, next);
                }
        }
        if (l->key == NULL)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "%s/%s cannot be read and no rotation was under way: the audit "
                                 "key is lost",
                                 l->dir, AUDIT_KEY_FILE);
        if (l->tree.size == 0) {
                if ((c = epoch_content(l, l->key, NULL, err)) == NULL)
                        return RW_ERR_NOMEM;
                rc = append_locked(l, AUDIT_KIND_KEY_EPOCH, "audit-genesis", c, 1, now_ms, NULL,
                                   err);
                cJSON_Delete(c);
                return rc;
        }
        if (rp->have_epoch &&
            (rp->epoch != l->key->epoch ||
             sodium_memcmp(rp->epoch_pk, l->key->key->pub.pk, SIGNING_KEY_PUBLIC_BYTES) != 0))
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "%s/%s holds the key of epoch %" PRIu64
                                 " but the log's last key_epoch record names epoch %" PRIu64
                                 " with another key",
                                 l->dir, AUDIT_KEY_FILE, l->key->epoch, rp->epoch);
        if (rp->partial_bytes > 0) {
                char hex[65];

                if ((c = cJSON_CreateObject()) == NULL)
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory");
                sodium_bin2hex(hex, sizeof hex, rp->partial_sha, sizeof rp->partial_sha);
                cJSON_AddStringToObject(c, "reason",
                                        "the last record was cut short (a crash in the middle of "
                                        "a write); its bytes were set aside and are not part of "
                                        "the log");
                cJSON_AddStringToObject(c, "set_aside", rp->partial_file);
                cJSON_AddNumberToObject(c, "bytes", (double)rp->partial_bytes);
                cJSON_AddStringToObject(c, "sha256", hex);
                rc = append_locked(l, AUDIT_KIND_RECOVERED, "audit-open", c, 1, now_ms, NULL, err);
                cJSON_Delete(c);
                return rc;
        }
        return RW_OK;
}

/* Reads the log back into l: from tree.state when there is one, else every file. */
static int replay_log(struct audit_log *l, struct replay *rp, struct rwerr *err)
{
        char **files = NULL;
        size_t n = 0, i, start = 0;
        uint64_t offset = 0;
        int rc, have_state;

        if ((rc = audit_log_files(l->dir, &files, &n, err)) != RW_OK)
                return rc;
        have_state = state_load(l, &offset, err);
        if (have_state < 0) {
                rc = have_state;
                goto done;
        }
        if (have_state && n == 0) {
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "%s/%s says the log has %" PRIu64
                               " records but there is no audit-*.jsonl file: the log was removed",
                               l->dir, AUDIT_LOG_STATE_FILE, l->tree.size);
                goto done;
        }
        if (have_state) {
                for (start = 0; start < n && strcmp(files[start], l->file) != 0; start++)
                        ;
                if (start == n) {
                        rc = rwerr_set(err, RW_ERR_REFUSED,
                                       "%s/%s names %s, which is not there: the log was changed "
                                       "outside relaywatch",
                                       l->dir, AUDIT_LOG_STATE_FILE, l->file);
                        goto done;
                }
                /* the key epoch in force is the key file's; the state does not repeat it */
        } else {
                audit_tree_init(&l->tree);
                memset(&l->last, 0, sizeof l->last);
                cJSON_Delete(l->keys);
                l->keys = NULL;
        }
        for (i = start; i < n; i++) {
                if (i > start) {
                        char want[NAME_MAX_LEN];

                        file_name_for(l->tree.size, want);
                        if (strcmp(files[i], want) != 0) {
                                rc = rwerr_set(err, RW_ERR_REFUSED,
                                               "%s/%s follows a file that ends at record %" PRIu64
                                               ": a file is missing or was renamed",
                                               l->dir, files[i], l->tree.size);
                                goto done;
                        }
                }
                rc = replay_file(l, files[i], i == start ? offset : 0, i == n - 1, rp, err);
                if (rc != RW_OK)
                        goto done;
        }
done:
        audit_log_files_free(files, n);
        return rc;
}

/* Every record's leaf again, from the files (a leaf index that does not match the log). */
static int rebuild_leaves(struct audit_log *l, struct rwerr *err)
{
        char **files = NULL, path[4096], *line = NULL;
        size_t n = 0, i, cap = 0;
        ssize_t got;
        int rc = RW_OK;

        if ((rc = audit_log_files(l->dir, &files, &n, err)) != RW_OK)
                return rc;
        for (i = 0; i < n && rc == RW_OK; i++) {
                FILE *f;

                snprintf(path, sizeof path, "%s/%s", l->dir, files[i]);
                if ((f = fopen(path, "rb")) == NULL) {
                        rc = rwerr_set(err, RW_ERR_IO, "%s: cannot open: %s", path,
                                       strerror(errno));
                        break;
                }
                while (rc == RW_OK && (got = getline(&line, &cap, f)) > 0 &&
                       line[got - 1] == '\n') {
                        unsigned char leaf[AUDIT_HASH_BYTES];

                        audit_tree_leaf_hash(line, (size_t)got - 1, leaf);
                        rc = audit_leaves_append(l->leaves, leaf, err);
                }
                (void)fclose(f);
        }
        free(line);
        audit_log_files_free(files, n);
        if (rc == RW_OK && audit_leaves_size(l->leaves) != l->tree.size)
                rc = rwerr_set(err, RW_ERR_IO, "the leaf index holds %llu leaves, the log %llu",
                               (unsigned long long)audit_leaves_size(l->leaves),
                               (unsigned long long)l->tree.size);
        return rc;
}

/* The leaf index for proofs; without it the log works and proofs say why they cannot. */
static void open_leaves(struct audit_log *l)
{
        struct rwerr err;
        int rebuild;

        l->leaves = audit_leaves_open(l->dir, l->tree.size, &rebuild, &err);
        if (l->leaves != NULL && rebuild && rebuild_leaves(l, &err) != RW_OK) {
                audit_leaves_close(l->leaves);
                l->leaves = NULL;
        }
        if (l->leaves == NULL)
                snprintf(l->leaves_problem, sizeof l->leaves_problem, "%s", err.msg);
}

struct audit_log *audit_log_open(const struct audit_log_options *o, int64_t now_ms,
                                 struct rwerr *err)
{
        struct audit_log *l = calloc(1, sizeof *l);
        struct audit_key *next = NULL;
        struct replay rp;
        char **files = NULL;
        size_t nfiles = 0;
        int rc;

        if (l == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory opening the audit log");
                return NULL;
        }
        memset(&rp, 0, sizeof rp);
        l->fd = -1;
        l->opt = *o;
        (void)pthread_mutex_init(&l->lock, NULL);
        if ((l->dir = strdup(o->dir)) == NULL || (l->origin = strdup(o->origin)) == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory opening the audit log");
                goto fail;
        }
        if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
                rwerr_set(err, RW_ERR_IO, "%s: cannot create the audit log directory: %s", o->dir,
                          strerror(errno));
                goto fail;
        }
        if (audit_log_files(o->dir, &files, &nfiles, err) != RW_OK)
                goto fail;
        audit_log_files_free(files, nfiles);
        /* a new genesis key only for a new log */
        rc = audit_key_open(o->dir, nfiles == 0, now_ms / 1000, &l->key, &next, err);
        if (rc != RW_OK && next == NULL)
                goto fail;
        if (replay_log(l, &rp, err) != RW_OK) {
                audit_key_free(next);
                goto fail;
        }
        if (finish_open(l, next, &rp, now_ms, err) != RW_OK)
                goto fail;
        if (l->fd < 0 && open_new_file(l, now_ms, err) != RW_OK)
                goto fail;
        open_leaves(l);
        return l;
fail:
        audit_log_close(l);
        return NULL;
}

void audit_log_close(struct audit_log *l)
{
        if (l == NULL)
                return;
        if (l->fd >= 0) {
                (void)fdatasync(l->fd);
                (void)close(l->fd);
        }
        if (l->state_dirty && !l->broken) {
                struct rwerr err;

                (void)state_save(l, &err); /* the next open re-reads a little more without it */
        }
        audit_key_free(l->key);
        audit_leaves_close(l->leaves);
        cJSON_Delete(l->keys);
        free(l->dir);
        free(l->origin);
        (void)pthread_mutex_destroy(&l->lock);
        free(l);
}

/* ------------------------------------------------------------ the public calls */

int audit_log_append(struct audit_log *l, const char *kind, const char *correlation_id,
                     const cJSON *content, int durable, int64_t now_ms, uint64_t *seq,
                     struct rwerr *err)
{
        int rc;

        lock(l);
        rc = append_locked(l, kind, correlation_id, content, durable, now_ms, seq, err);
        unlock(l);
        return rc;
}

int audit_log_checkpoint(struct audit_log *l, const char *correlation_id, int64_t now_ms,
                         struct audit_log_checkpoint *out, struct rwerr *err)
{
        int rc;

        lock(l);
        rc = checkpoint_locked(l, correlation_id, now_ms, out, err);
        unlock(l);
        return rc;
}

int audit_log_tick(struct audit_log *l, int64_t now_ms, uint64_t checkpoint_ms, int *wrote,
                   struct rwerr *err)
{
        int rc = RW_OK;

        if (wrote != NULL)
                *wrote = 0;
        lock(l);
        if (l->broken) {
                rc = rwerr_set(err, RW_ERR_IO, "the audit log is down: %s", l->why);
                goto done;
        }
        if (l->dirty && (uint64_t)(now_ms - l->dirty_since) >= l->opt.fsync_batch_ms) {
                if (fdatasync(l->fd) != 0) {
                        rc = rwerr_set(err, RW_ERR_IO, "%s/%s: fdatasync failed: %s", l->dir,
                                       l->file, strerror(errno));
                        mark_broken(l, err);
                        goto done;
                }
                l->dirty = 0;
        }
        if (l->opt.key_epoch_s > 0 &&
            now_ms / 1000 - l->key->started_s >= (int64_t)l->opt.key_epoch_s) {
                rc = rotate_key_locked(l, now_ms, err);
                if (wrote != NULL && rc == RW_OK)
                        *wrote = 1;
                goto done;
        }
        if (l->tree.size > l->last.size + 1 &&
            (l->last.unix_ms == 0 || now_ms < l->last.unix_ms ||
             (uint64_t)(now_ms - l->last.unix_ms) >= checkpoint_ms)) {
                rc = checkpoint_locked(l, "audit-checkpoint", now_ms, NULL, err);
                if (wrote != NULL && rc == RW_OK)
                        *wrote = 1;
        }
done:
        if (!l->broken && l->state_dirty) {
                struct rwerr serr;

                if (state_save(l, &serr) == RW_OK)
                        l->state_dirty = 0;
                else if (rc == RW_OK)
                        rc = rwerr_set(err, RW_ERR_IO, "%s", serr.msg);
        }
        unlock(l);
        return rc;
}

int audit_log_latest(struct audit_log *l, struct audit_log_checkpoint *out)
{
        lock(l);
        *out = l->last;
        unlock(l);
        return RW_OK;
}

uint64_t audit_log_size(struct audit_log *l)
{
        uint64_t n;

        lock(l);
        n = l->tree.size;
        unlock(l);
        return n;
}

int audit_log_broken(struct audit_log *l, char *why, size_t cap)
{
        int b;

        lock(l);
        b = l->broken;
        if (b && why != NULL && cap > 0)
                snprintf(why, cap, "%s", l->why);
        unlock(l);
        return b;
}

int audit_log_retry(struct audit_log *l, int64_t now_ms, struct rwerr *err)
{
        cJSON *c;
        char why[RWERR_MSG_MAX];
        int rc;

        lock(l);
        if (!l->broken) {
                unlock(l);
                return RW_OK;
        }
        snprintf(why, sizeof why, "%s", l->why);
        l->broken = 0;
        /* a new file: whatever the failed write left in the old one stays out of the way */
        if (l->file_bytes > 0 && (rc = open_new_file(l, now_ms, err)) != RW_OK) {
                mark_broken(l, err);
                unlock(l);
                return rc;
        }
        if ((c = cJSON_CreateObject()) == NULL) {
                unlock(l);
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory");
        }
        cJSON_AddStringToObject(c, "reason", "writing the audit log failed and works again");
        cJSON_AddStringToObject(c, "error", why);
        rc = append_locked(l, AUDIT_KIND_RECOVERED, "audit-retry", c, 1, now_ms, NULL, err);
        cJSON_Delete(c);
        unlock(l);
        return rc;
}

void audit_log_key(struct audit_log *l, struct verify_key *pub, uint64_t *epoch)
{
        lock(l);
        if (pub != NULL)
                *pub = l->key->key->pub;
        if (epoch != NULL)
                *epoch = l->key->epoch;
        unlock(l);
}

int audit_log_consistency_proof(struct audit_log *l, uint64_t from, uint64_t to,
                                unsigned char proof[][AUDIT_HASH_BYTES], size_t *n,
                                struct rwerr *err)
{
        int rc;

        lock(l);
        if (l->leaves == NULL)
                rc = rwerr_set(err, RW_ERR_IO, "no leaf index for proofs: %s", l->leaves_problem);
        else if (from == 0 || from > to || to > audit_leaves_size(l->leaves))
                rc = rwerr_set(err, RW_ERR_RANGE,
                               "a consistency proof from %llu to %llu: the log has %llu records",
                               (unsigned long long)from, (unsigned long long)to,
                               (unsigned long long)audit_leaves_size(l->leaves));
        else
                rc = audit_tree_consistency_proof(audit_leaves_range, l->leaves, from, to, proof, n,
                                                  err);
        unlock(l);
        return rc;
}

int audit_log_root_at(struct audit_log *l, uint64_t size, unsigned char out[AUDIT_HASH_BYTES],
                      struct rwerr *err)
{
        int rc;

        lock(l);
        if (l->leaves == NULL)
                rc = rwerr_set(err, RW_ERR_IO, "no leaf index: %s", l->leaves_problem);
        else if (size == 0 || size > audit_leaves_size(l->leaves))
                rc = rwerr_set(err, RW_ERR_RANGE, "no tree of %llu records here",
                               (unsigned long long)size);
        else
                rc = audit_leaves_range(l->leaves, 0, size, out, err);
        unlock(l);
        return rc;
}

char *audit_log_keys_json(struct audit_log *l)
{
        char *text;

        lock(l);
        text = l->keys != NULL ? cJSON_PrintUnformatted(l->keys) : NULL;
        unlock(l);
        return text;
}
