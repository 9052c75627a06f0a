/*
 * fileio: the durable-write helpers the key files and the outbox share.
 */
#ifndef RELAYWATCH_FILEIO_H
#define RELAYWATCH_FILEIO_H

#include <stddef.h>

/* Writes all of buf[0..len) to fd, retrying short writes and EINTR. 0, or -1 with errno set. */
int fileio_write_all(int fd, const char *buf, size_t len);

#endif
