/*
 * test_util: small helpers several tests and benchmarks share.
 */
#ifndef RELAYWATCH_TEST_UTIL_H
#define RELAYWATCH_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A loopback port that was free a moment ago (0 when none could be had). */
uint16_t test_free_port(void);

/* 1 when something accepts connections on 127.0.0.1:port. */
int test_port_accepts(uint16_t port);

/* A whole text file, NUL-terminated; caller frees. NULL when unreadable. */
char *test_read_file(const char *path);

/* `url` with its database name (after the last '/') replaced by `db`. */
void test_url_with_database(const char *url, const char *db, char *out, size_t cap);

#endif
