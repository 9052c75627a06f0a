#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

#define OUTBOX_HEADER "relaywatch-outbox-v1"
#define OUTBOX_SUFFIX ".msg"
#define OUTBOX_TMP_SUFFIX ".tmp"
#define OUTBOX_NAME_MAX 128

struct outbox {
        char *dir;
        int dirfd;
        uint64_t next_seq;
};

/* An id is what control_msg makes: lowercase letters, digits and '-'. */
static int id_ok(const char *id)
{
        size_t i, n = strlen(id);

        if (n == 0 || n >= CONTROL_ID_SIZE)
                return 0;
        for (i = 0; i < n; i++) {
                char c = id[i];

                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                        return 0;
        }
        return 1;
}

static int has_suffix(const char *name, const char *suffix)
{
        size_t n = strlen(name), s = strlen(suffix);

        return n > s && strcmp(name + n - s, suffix) == 0;
}

/*
 * Splits NNNNNNNNNNNNNNNNNNNN-ID.msg into its sequence number and id;
 * 0 when the name is not an outbox message.
 */
static int parse_name(const char *name, uint64_t *seq, char id[CONTROL_ID_SIZE])
{
        size_t n = strlen(name), i;
        uint64_t v = 0;

        if (n < 22 + strlen(OUTBOX_SUFFIX) || !has_suffix(name, OUTBOX_SUFFIX) || name[20] != '-')
                return 0;
        for (i = 0; i < 20; i++) {
                if (name[i] < '0' || name[i] > '9')
                        return 0;
                v = v * 10 + (uint64_t)(name[i] - '0');
        }
        n -= 21 + strlen(OUTBOX_SUFFIX);
        if (n >= CONTROL_ID_SIZE)
                return 0;
        memcpy(id, name + 21, n);
        id[n] = '\0';
        if (!id_ok(id))
                return 0;
        *seq = v;
        return 1;
}

static int sync_dir(struct outbox *o, struct rwerr *err)
{
        if (fsync(o->dirfd) != 0)
                return rwerr_set(err, RW_ERR_IO, "outbox %s: fsync of the directory failed: %s",
                                 o->dir, strerror(errno));
        return RW_OK;
}

/*
 * Calls `fn` for each entry name of the directory. Stops at the first
 * non-zero return and returns it.
 */
static int each_name(struct outbox *o, int (*fn)(struct outbox *, const char *, void *), void *ctx,
                     struct rwerr *err)
{
        int fd = dup(o->dirfd);
        DIR *d;
        const struct dirent *e;
        int rc = RW_OK;

        if (fd < 0 || (d = fdopendir(fd)) == NULL) {
                if (fd >= 0)
                        close(fd);
                return rwerr_set(err, RW_ERR_IO, "outbox %s: cannot list: %s", o->dir,
                                 strerror(errno));
        }
        rewinddir(d);
        while (rc == RW_OK && (e = readdir(d)) != NULL)
                rc = fn(o, e->d_name, ctx);
        closedir(d);
        return rc;
}

/* At open: the next sequence number, and leftovers of interrupted writes removed. */
static int scan_at_open(struct outbox *o, const char *name, void *ctx)
{
        char id[CONTROL_ID_SIZE];
        uint64_t seq;

        (void)ctx;
        if (has_suffix(name, OUTBOX_TMP_SUFFIX)) {
                (void)unlinkat(o->dirfd, name, 0);
                return RW_OK;
        }
        if (parse_name(name, &seq, id) && seq >= o->next_seq)
                o->next_seq = seq + 1;
        return RW_OK;
}

struct outbox *outbox_open(const char *dir, struct rwerr *err)
{
        struct outbox *o = calloc(1, sizeof *o);
        struct stat st;

        if (o == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the outbox");
                return NULL;
        }
        o->dirfd = -1;
        if ((o->dir = strdup(dir)) == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the outbox");
                goto fail;
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                rwerr_set(err, RW_ERR_IO, "outbox %s: cannot create: %s", dir, strerror(errno));
                goto fail;
        }
        o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o->dirfd < 0 || fstat(o->dirfd, &st) != 0) {
                rwerr_set(err, RW_ERR_IO, "outbox %s: cannot open: %s", dir, strerror(errno));
                goto fail;
        }
        if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
                rwerr_set(err, RW_ERR_INVALID,
                          "outbox %s: must be a directory of this user that no one else can "
                          "read or write (mode %04o; fix: chmod 700)",
                          dir, (unsigned)(st.st_mode & 07777));
                goto fail;
        }
        if (each_name(o, scan_at_open, NULL, err) != RW_OK)
                goto fail;
        return o;
fail:
        outbox_close(o);
        return NULL;
}

void outbox_close(struct outbox *o)
{
        if (o == NULL)
                return;
        if (o->dirfd >= 0)
                close(o->dirfd);
        free(o->dir);
        free(o);
}

struct id_query {
        const char *id;
};

/* 1 (stops the listing) when `name` is a waiting message with the queried id. */
static int waiting_with_id(struct outbox *o, const char *name, void *ctx)
{
        const struct id_query *q = ctx;
        char id[CONTROL_ID_SIZE];
        uint64_t seq;

        (void)o;
        return parse_name(name, &seq, id) && strcmp(id, q->id) == 0 ? 1 : RW_OK;
}

int outbox_put(struct outbox *o, const char *id, const char *msg, size_t msg_len, const char *sig,
               struct rwerr *err)
{
        char name[OUTBOX_NAME_MAX], tmp[OUTBOX_NAME_MAX + 8],
                header[64 + CONTROL_ID_SIZE + CONTROL_SIG_B64_SIZE];
        struct id_query query;
        int fd, rc, hlen;

        if (!id_ok(id))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "outbox: message id '%s' is not a control "
                                 "message id",
                                 id);
        if (strlen(sig) != CONTROL_SIG_B64_SIZE - 1 || strchr(sig, ' ') || strchr(sig, '\n'))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "outbox: the signature of %s is not one "
                                 "base64 signature",
                                 id);
        if (msg_len > CONTROL_MSG_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "outbox: message %s is larger than %d bytes",
                                 id, CONTROL_MSG_MAX);
        query.id = id;
        rc = each_name(o, waiting_with_id, &query, err);
        if (rc == 1)
                return RW_OK; /* already waiting */
        if (rc != RW_OK)
                return rc;
        (void)snprintf(name, sizeof name, "%020" PRIu64 "-%s" OUTBOX_SUFFIX, o->next_seq, id);
        (void)snprintf(tmp, sizeof tmp, "%s" OUTBOX_TMP_SUFFIX, name);
        hlen = snprintf(header, sizeof header, OUTBOX_HEADER " %s %s\n", id, sig);
        fd = openat(o->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "outbox %s: cannot create %s: %s", o->dir, tmp,
                                 strerror(errno));
        if (fileio_write_all(fd, header, (size_t)hlen) != 0 ||
            fileio_write_all(fd, msg, msg_len) != 0 || fsync(fd) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "outbox %s: cannot write %s: %s", o->dir, tmp,
                               strerror(errno));
                close(fd);
                (void)unlinkat(o->dirfd, tmp, 0);
                return rc;
        }
        if (close(fd) != 0 || renameat(o->dirfd, tmp, o->dirfd, name) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "outbox %s: cannot put %s in place: %s", o->dir,
                               name, strerror(errno));
                (void)unlinkat(o->dirfd, tmp, 0);
                return rc;
        }
        o->next_seq++;
        return sync_dir(o, err);
}

/* Reads one message file into `e`; the message names the file at fault. */
static int read_entry(struct outbox *o, const char *name, const char *id, struct outbox_entry *e,
                      struct rwerr *err)
{
        char *text = NULL, *nl, *sp;
        size_t len = 0, cap = 0;
        int fd = openat(o->dirfd, name, O_RDONLY | O_CLOEXEC);
        int rc = RW_OK;

        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "outbox %s: cannot open %s: %s", o->dir, name,
                                 strerror(errno));
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        char *p;

                        if (cap > (size_t)CONTROL_MSG_MAX + 256) {
                                rc = rwerr_set(err, RW_ERR_RANGE, "outbox %s: %s is too large",
                                               o->dir, name);
                                break;
                        }
                        cap = cap ? cap * 2 : 4096;
                        if ((p = realloc(text, cap + 1)) == NULL) {
                                rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", name);
                                break;
                        }
                        text = p;
                }
                n = read(fd, text + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = rwerr_set(err, RW_ERR_IO, "outbox %s: cannot read %s: %s", o->dir,
                                       name, strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (rc != RW_OK) {
                free(text);
                return rc;
        }
        if (text == NULL || (text[len] = '\0', (nl = memchr(text, '\n', len)) == NULL) ||
            strncmp(text, OUTBOX_HEADER " ", strlen(OUTBOX_HEADER) + 1) != 0) {
                free(text);
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "outbox %s: %s has no '" OUTBOX_HEADER " ID SIG' first line; "
                                 "left in place for a human to look at",
                                 o->dir, name);
        }
        *nl = '\0';
        sp = strchr(text + strlen(OUTBOX_HEADER) + 1, ' ');
        if (sp == NULL || (size_t)(sp - (text + strlen(OUTBOX_HEADER) + 1)) != strlen(id) ||
            strncmp(text + strlen(OUTBOX_HEADER) + 1, id, strlen(id)) != 0 ||
            strlen(sp + 1) != CONTROL_SIG_B64_SIZE - 1) {
                free(text);
                return rwerr_set(err, RW_ERR_PROTOCOL,
                                 "outbox %s: %s: the first line does not name message %s with "
                                 "one signature; left in place for a human to look at",
                                 o->dir, name, id);
        }
        memset(e, 0, sizeof *e);
        (void)snprintf(e->id, sizeof e->id, "%s", id);
        memcpy(e->sig, sp + 1, CONTROL_SIG_B64_SIZE);
        e->msg_len = len - (size_t)(nl + 1 - text);
        memmove(text, nl + 1, e->msg_len);
        text[e->msg_len] = '\0';
        e->msg = text;
        if ((e->path = strdup(name)) == NULL) {
                free(text);
                e->msg = NULL;
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", name);
        }
        return RW_OK;
}

struct name_list {
        char **names;
        size_t n, cap;
};

static int collect_name(struct outbox *o, const char *name, void *ctx)
{
        struct name_list *l = ctx;
        char id[CONTROL_ID_SIZE];
        uint64_t seq;

        (void)o;
        if (!parse_name(name, &seq, id))
                return RW_OK;
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                char **p = realloc(l->names, cap * sizeof *p);

                if (p == NULL)
                        return RW_ERR_NOMEM;
                l->names = p;
                l->cap = cap;
        }
        if ((l->names[l->n] = strdup(name)) == NULL)
                return RW_ERR_NOMEM;
        l->n++;
        return RW_OK;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int outbox_list(struct outbox *o, struct outbox_list *out, struct rwerr *err)
{
        struct name_list names = {NULL, 0, 0};
        size_t i;
        int rc;

        out->n = 0;
        out->entries = NULL;
        rc = each_name(o, collect_name, &names, err);
        if (rc == RW_ERR_NOMEM)
                rwerr_set(err, rc, "out of memory listing the outbox");
        if (rc == RW_OK && names.n > 0) {
                qsort(names.names, names.n, sizeof *names.names, name_cmp);
                out->entries = calloc(names.n, sizeof *out->entries);
                if (out->entries == NULL)
                        rc = rwerr_set(err, RW_ERR_NOMEM, "out of memory listing the outbox");
        }
        for (i = 0; rc == RW_OK && out->entries != NULL && i < names.n; i++) {
                char id[CONTROL_ID_SIZE];
                uint64_t seq;

                (void)parse_name(names.names[i], &seq, id);
                rc = read_entry(o, names.names[i], id, &out->entries[i], err);
                if (rc == RW_OK)
                        out->n++;
        }
        for (i = 0; i < names.n; i++)
                free(names.names[i]);
        free(names.names);
        if (rc != RW_OK)
                outbox_list_free(out);
        return rc;
}

void outbox_list_free(struct outbox_list *l)
{
        size_t i;

        if (l == NULL)
                return;
        for (i = 0; l->entries != NULL && i < l->n; i++) {
                free(l->entries[i].path);
                free(l->entries[i].msg);
        }
        free(l->entries);
        l->entries = NULL;
        l->n = 0;
}

int outbox_done(struct outbox *o, const struct outbox_entry *e, struct rwerr *err)
{
        if (unlinkat(o->dirfd, e->path, 0) != 0 && errno != ENOENT)
                return rwerr_set(err, RW_ERR_IO, "outbox %s: cannot remove %s: %s", o->dir, e->path,
                                 strerror(errno));
        return sync_dir(o, err);
}
