/*
 * fake_http: a misbehaving JSON-RPC provider on loopback, for tests.
 *
 * The real chain is anvil; this stands in only for what anvil will not do:
 * hang, answer garbage, cut a reply short, fail with HTTP errors, answer a
 * batch out of order, answer late, turn into another chain. It serves one
 * connection at a time on 127.0.0.1 with HTTP/1.1 keep-alive, in a thread
 * of its own.
 */
#ifndef RELAYWATCH_TEST_FAKE_HTTP_H
#define RELAYWATCH_TEST_FAKE_HTTP_H

#include <stdint.h>

struct fake_http;

enum fake_http_mode {
        FAKE_HTTP_RPC,      /* answer JSON-RPC: eth_chainId with the configured id, anything
                               else with "0x<id + 1>"; batch replies in reverse order */
        FAKE_HTTP_REPLY,    /* answer every request with a fixed status and body */
        FAKE_HTTP_TRUNCATE, /* promise the body plus 50 bytes, send the body, close */
        FAKE_HTTP_CLOSE,    /* read the request, close without a word */
        FAKE_HTTP_HANG,     /* read the request, never answer */
};

/* Starts on a free port. NULL when the socket or thread cannot be made. */
struct fake_http *fake_http_start(uint64_t chain_id);
/* Stops the thread and frees everything; accepts NULL. */
void fake_http_stop(struct fake_http *f);

/* "http://127.0.0.1:PORT/"; owned by `f`. */
const char *fake_http_url(const struct fake_http *f);

/* Changes what the next requests get. `body` is copied (used by REPLY and TRUNCATE). */
void fake_http_set(struct fake_http *f, enum fake_http_mode mode, int status, const char *body);

/* The next `n` requests are answered with HTTP `status` and no body, then the mode resumes. */
void fake_http_fail_next(struct fake_http *f, unsigned n, int status);

/* Every answer from now on waits `ms` first (0: none); a stop cuts the wait short. */
void fake_http_set_delay(struct fake_http *f, unsigned ms);

/* eth_chainId answers `chain_id` from now on. */
void fake_http_set_chain_id(struct fake_http *f, uint64_t chain_id);

/*
 * Every answer from now on (fail_next's too) carries `lines` after its own
 * headers: "Name: value\r\n" each, e.g. "Retry-After: 1\r\n". Copied; NULL
 * or "" for none.
 */
void fake_http_set_headers(struct fake_http *f, const char *lines);

/*
 * A copy of the last request read: its head (request line and headers, up
 * to the blank line) and its body, each NUL-terminated and freed by the
 * caller. 0, or -1 (and both NULL) when no request came yet or memory ran
 * out.
 */
int fake_http_last_request(struct fake_http *f, char **head, char **body);

/* Requests served and connections accepted so far. */
unsigned fake_http_requests(struct fake_http *f);
unsigned fake_http_connections(struct fake_http *f);

#endif
