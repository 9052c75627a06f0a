#include "audit_leaves.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

#define H AUDIT_HASH_BYTES

struct audit_leaves {
        int fd;
        char path[4096];
        uint64_t size;
        unsigned char (*chunks)[H]; /* roots of the complete chunks */
        uint64_t nchunks, cap;
        struct audit_tree open_chunk; /* the leaves after the last complete chunk */
};

static int push_chunk(struct audit_leaves *lv, struct rwerr *err)
{
        if (lv->nchunks == lv->cap) {
                uint64_t cap = lv->cap ? lv->cap * 2 : 64;
                void *grown = realloc(lv->chunks, cap * H);

                if (grown == NULL)
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory for the leaf index");
                lv->chunks = grown;
                lv->cap = cap;
        }
        audit_tree_root(&lv->open_chunk, lv->chunks[lv->nchunks++]);
        audit_tree_init(&lv->open_chunk);
        return RW_OK;
}

/* The leaf in memory's bookkeeping only (the file is written by the caller). */
static int take(struct audit_leaves *lv, const unsigned char leaf[H], struct rwerr *err)
{
        (void)audit_tree_append(&lv->open_chunk, leaf);
        lv->size++;
        return lv->open_chunk.size == AUDIT_LEAVES_CHUNK ? push_chunk(lv, err) : RW_OK;
}

void audit_leaves_close(struct audit_leaves *lv)
{
        if (lv == NULL)
                return;
        if (lv->fd >= 0)
                (void)close(lv->fd);
        free(lv->chunks);
        free(lv);
}

struct audit_leaves *audit_leaves_open(const char *dir, uint64_t size, int *rebuild,
                                       struct rwerr *err)
{
        struct audit_leaves *lv = calloc(1, sizeof *lv);
        unsigned char buf[H * 256];
        struct stat st;
        uint64_t done = 0;

        *rebuild = 0;
        if (lv == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the leaf index");
                return NULL;
        }
        audit_tree_init(&lv->open_chunk);
        snprintf(lv->path, sizeof lv->path, "%s/%s", dir, AUDIT_LEAVES_FILE);
        lv->fd = open(lv->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (lv->fd < 0 || fstat(lv->fd, &st) != 0) {
                rwerr_set(err, RW_ERR_IO, "%s: cannot open: %s", lv->path, strerror(errno));
                goto fail;
        }
        if ((uint64_t)st.st_size != size * H) {
                if (ftruncate(lv->fd, 0) != 0) {
                        rwerr_set(err, RW_ERR_IO, "%s: cannot empty it: %s", lv->path,
                                  strerror(errno));
                        goto fail;
                }
                *rebuild = 1;
                return lv;
        }
        while (done < size) {
                uint64_t want = size - done < 256 ? size - done : 256, i;
                ssize_t got = pread(lv->fd, buf, (size_t)(want * H), (off_t)(done * H));

                if (got != (ssize_t)(want * H)) {
                        rwerr_set(err, RW_ERR_IO, "%s: read failed", lv->path);
                        goto fail;
                }
                for (i = 0; i < want; i++)
                        if (take(lv, buf + i * H, err) != RW_OK)
                                goto fail;
                done += want;
        }
        return lv;
fail:
        audit_leaves_close(lv);
        return NULL;
}

int audit_leaves_append(struct audit_leaves *lv, const unsigned char leaf[H], struct rwerr *err)
{
        if (fileio_write_all(lv->fd, (const char *)leaf, H) != 0)
                return rwerr_set(err, RW_ERR_IO, "%s: write failed: %s", lv->path, strerror(errno));
        return take(lv, leaf, err);
}

uint64_t audit_leaves_size(const struct audit_leaves *lv)
{
        return lv->size;
}

static int is_pow2(uint64_t n)
{
        return n != 0 && (n & (n - 1)) == 0;
}

/* MTH over `m` (a power of two) chunk roots from `first`. */
static int over_chunks(const struct audit_leaves *lv, uint64_t first, uint64_t m,
                       unsigned char out[H], struct rwerr *err)
{
        unsigned char(*work)[H];
        uint64_t i;

        if ((work = malloc(m * H)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory building a proof");
        memcpy(work, lv->chunks[first], m * H);
        for (; m > 1; m /= 2)
                for (i = 0; i < m / 2; i++)
                        audit_tree_node_hash(work[2 * i], work[2 * i + 1], work[i]);
        memcpy(out, work[0], H);
        free(work);
        return RW_OK;
}

/* MTH over leaves read from the file. */
static int over_file(const struct audit_leaves *lv, uint64_t begin, uint64_t end,
                     unsigned char out[H], struct rwerr *err)
{
        struct audit_tree_leaves src;
        unsigned char(*buf)[H];
        ssize_t got;
        int rc;

        if ((buf = malloc((end - begin) * H)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory building a proof");
        got = pread(lv->fd, buf, (size_t)((end - begin) * H), (off_t)(begin * H));
        if (got != (ssize_t)((end - begin) * H)) {
                free(buf);
                return rwerr_set(err, RW_ERR_IO, "%s: read failed", lv->path);
        }
        src.leaf = (const unsigned char(*)[H])buf;
        src.n = end - begin;
        rc = audit_tree_range_leaves(&src, 0, end - begin, out, err);
        free(buf);
        return rc;
}

int audit_leaves_range(void *ctx, uint64_t begin, uint64_t end, unsigned char out[H],
                       struct rwerr *err)
{
        const struct audit_leaves *lv = ctx;
        uint64_t n = end - begin, k;
        unsigned char left[H], right[H];
        int rc;

        if (begin >= end || end > lv->size)
                return rwerr_set(err, RW_ERR_RANGE, "leaves %llu to %llu: the index holds %llu",
                                 (unsigned long long)begin, (unsigned long long)end,
                                 (unsigned long long)lv->size);
        if (is_pow2(n) && n >= AUDIT_LEAVES_CHUNK && begin % AUDIT_LEAVES_CHUNK == 0 &&
            end / AUDIT_LEAVES_CHUNK <= lv->nchunks)
                return over_chunks(lv, begin / AUDIT_LEAVES_CHUNK, n / AUDIT_LEAVES_CHUNK, out,
                                   err);
        if (n <= AUDIT_LEAVES_CHUNK)
                return over_file(lv, begin, end, out, err);
        for (k = 1; k * 2 < n; k *= 2)
                ;
        if ((rc = audit_leaves_range(ctx, begin, begin + k, left, err)) != RW_OK ||
            (rc = audit_leaves_range(ctx, begin + k, end, right, err)) != RW_OK)
                return rc;
        audit_tree_node_hash(left, right, out);
        return RW_OK;
}
