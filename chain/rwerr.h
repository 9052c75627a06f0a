/*
 * rwerr: the error convention shared by every relaywatch module.
 *
 * A function that can fail returns 0 on success or one of the negative
 * RW_ERR_* codes below, and fills a caller-owned `struct rwerr` with a
 * message a human can act on. The message names the thing that is wrong
 * ("balanceOf reply: expected 64 hex digits, got 63"), never a secret.
 *
 *     struct rwerr err;
 *     if (hex_decode(s, len, buf, sizeof buf, &err) != 0)
 *             fprintf(stderr, "%s\n", err.msg);
 *
 * A NULL `err` is allowed everywhere: the code is still returned, the
 * message is dropped.
 */
#ifndef RELAYWATCH_RWERR_H
#define RELAYWATCH_RWERR_H

#define RWERR_MSG_MAX 256

enum rwerr_code {
        RW_OK = 0,
        RW_ERR_INVALID = -1,  /* malformed input: bad syntax, wrong length */
        RW_ERR_RANGE = -2,    /* well formed but out of bounds, or too big */
        RW_ERR_NOMEM = -3,    /* an allocation failed */
        RW_ERR_IO = -4,       /* a file, socket or peer failed */
        RW_ERR_TIMEOUT = -5,  /* a peer did not answer in time */
        RW_ERR_PROTOCOL = -6, /* a peer answered something that breaks its protocol */
        RW_ERR_REMOTE = -7,   /* a peer answered with an error of its own (JSON-RPC error) */
        RW_ERR_REFUSED = -8,  /* a peer is not the one configured (wrong chain) */
};

struct rwerr {
        char msg[RWERR_MSG_MAX];
};

/*
 * Formats the message into `err` (truncated to RWERR_MSG_MAX - 1 bytes) and
 * returns `code`, so a failing path can end with
 * `return rwerr_set(err, RW_ERR_INVALID, "...", ...);`.
 */
int rwerr_set(struct rwerr *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * Puts `prefix` and ": " in front of the message already in `err`, so a caller
 * can say where a lower-level error happened ("SIGIL balanceOf: ..."). Returns
 * `code` like rwerr_set.
 */
int rwerr_prefix(struct rwerr *err, int code, const char *prefix);

/* A short fixed name for a code ("invalid input", "out of range", ...). */
const char *rwerr_code_name(int code);

#endif
