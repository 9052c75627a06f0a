#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fileio_write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0)
                        errno = EIO;
                if (n <= 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

int fileio_replace(const char *dir, const char *name, const char *data, size_t len, int mode,
                   int durable, struct rwerr *err)
{
        char path[PATH_MAX], tmp[PATH_MAX];
        int fd, dfd, rc = RW_OK;

        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
            snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= (int)sizeof tmp)
                return rwerr_set(err, RW_ERR_RANGE, "the path %s/%s is too long", dir, name);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        if (fileio_write_all(fd, data, len) != 0 || (durable && fsync(fd) != 0)) {
                rc = rwerr_set(err, RW_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
                close(fd);
                (void)unlink(tmp);
                return rc;
        }
        if (close(fd) != 0 || rename(tmp, path) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "cannot put %s in place: %s", path, strerror(errno));
                (void)unlink(tmp);
                return rc;
        }
        if (!durable)
                return RW_OK;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
                rc = rwerr_set(err, RW_ERR_IO, "cannot fsync the directory %s: %s", dir,
                               strerror(errno));
        if (dfd >= 0)
                close(dfd);
        return rc;
}

int fileio_read(const char *path, size_t max, char **out, size_t *len, struct rwerr *err)
{
        char *buf = NULL;
        size_t n = 0, cap = 0;
        int fd, saved;

        *out = NULL;
        *len = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                saved = errno;
                rwerr_set(err, RW_ERR_IO, "cannot open %s: %s", path, strerror(saved));
                errno = saved;
                return RW_ERR_IO;
        }
        for (;;) {
                ssize_t r;

                if (n == cap) {
                        char *p;

                        if (cap > max) {
                                free(buf);
                                close(fd);
                                return rwerr_set(err, RW_ERR_RANGE, "%s is larger than %zu bytes",
                                                 path, max);
                        }
                        cap = cap == 0 ? 4096 : cap * 2;
                        p = realloc(buf, cap + 1);
                        if (p == NULL) {
                                free(buf);
                                close(fd);
                                return rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s",
                                                 path);
                        }
                        buf = p;
                }
                r = read(fd, buf + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        saved = errno;
                        free(buf);
                        close(fd);
                        rwerr_set(err, RW_ERR_IO, "cannot read %s: %s", path, strerror(saved));
                        errno = saved;
                        return RW_ERR_IO;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        close(fd);
        if (n > max) {
                free(buf);
                return rwerr_set(err, RW_ERR_RANGE, "%s is larger than %zu bytes", path, max);
        }
        if (buf == NULL && (buf = malloc(1)) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        buf[n] = '\0';
        *out = buf;
        *len = n;
        return RW_OK;
}
