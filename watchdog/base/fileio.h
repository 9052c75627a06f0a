/*
 * fileio: the durable-write helpers the key files, the outbox and the
 * state files share.
 */
#ifndef RELAYWATCH_FILEIO_H
#define RELAYWATCH_FILEIO_H

#include <stddef.h>

#include "rwerr.h"

/* Writes all of buf[0..len) to fd, retrying short writes and EINTR. 0, or -1 with errno set. */
int fileio_write_all(int fd, const char *buf, size_t len);

/*
 * Replaces DIR/NAME with data[0..len) so that a reader sees the old file or
 * the new one, never a mix: written to DIR/NAME.tmp (mode `mode`) and
 * renamed over NAME. With `durable` the file is fsync'd before the rename
 * and the directory after it, so a crash cannot lose it either.
 */
int fileio_replace(const char *dir, const char *name, const char *data, size_t len, int mode,
                   int durable, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Reads the whole of `path` (at most `max` bytes) into a new NUL-terminated
 * buffer *out of *len bytes, freed by the caller with free(). RW_ERR_IO
 * with errno kept (ENOENT: no such file) when it cannot be opened or read;
 * RW_ERR_RANGE when it is larger than `max`.
 */
int fileio_read(const char *path, size_t max, char **out, size_t *len, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
