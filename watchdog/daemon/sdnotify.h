/*
 * sdnotify: systemd's Type=notify protocol, spoken directly on the notify
 * socket (no libsystemd), as sd_notify(3) describes it.
 *
 * systemd passes the socket in $NOTIFY_SOCKET: an absolute path of an
 * AF_UNIX datagram socket ("/run/systemd/notify") or an abstract one
 * ("@name", the '@' standing for the leading NUL byte). A state is one
 * datagram of newline-separated VAR=value assignments: "READY=1",
 * "STATUS=watching 2 chains", "WATCHDOG=1", "STOPPING=1", "RELOADING=1".
 *
 * When $NOTIFY_SOCKET is unset (not run by systemd, or not Type=notify)
 * every send is a no-op that succeeds. The socket is opened, used and
 * closed on each send, so nothing is held open across a fork or a reload,
 * and calls from several threads do not share state.
 *
 * Status texts go to systemd and `systemctl status`: never put a secret in
 * them.
 */
#ifndef RELAYWATCH_SDNOTIFY_H
#define RELAYWATCH_SDNOTIFY_H

#include <stdint.h>

#include "rwerr.h"

#define SDNOTIFY_STATE_MAX 4096 /* systemd reads at most a pipe buffer per datagram */

/*
 * Sends `state` (NUL-terminated, 1 .. SDNOTIFY_STATE_MAX - 1 bytes) as one
 * datagram to $NOTIFY_SOCKET. RW_OK when sent or when $NOTIFY_SOCKET is
 * unset (the state is checked all the same); RW_ERR_INVALID for an empty
 * state or a NOTIFY_SOCKET that is
 * neither an absolute path nor an @abstract name, RW_ERR_RANGE for a state
 * or socket name too long, RW_ERR_IO when the socket cannot be reached
 * (the message names the socket and the errno text).
 */
int sdnotify_send(const char *state, struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Whether systemd expects WATCHDOG=1 keep-alives: returns 1 and stores
 * $WATCHDOG_USEC in *usec when it is set to a positive number and
 * $WATCHDOG_PID is unset or names this process; otherwise returns 0 and
 * leaves *usec untouched. Send keep-alives at half that interval or faster.
 */
int sdnotify_watchdog_interval(uint64_t *usec);

/* "READY=1", with "\nSTATUS=<status>" after it when status is not NULL. */
int sdnotify_ready(const char *status, struct rwerr *err) __attribute__((warn_unused_result));

/* "STATUS=<formatted text>"; text past the datagram limit is cut. */
int sdnotify_status(struct rwerr *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((warn_unused_result));

/* "WATCHDOG=1": the keep-alive. */
int sdnotify_watchdog(struct rwerr *err) __attribute__((warn_unused_result));

/*
 * "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC now>": a reload has begun
 * (what Type=notify-reload wants); send sdnotify_ready when it is over.
 */
int sdnotify_reloading(struct rwerr *err) __attribute__((warn_unused_result));

/* "STOPPING=1": shutdown has begun. */
int sdnotify_stopping(struct rwerr *err) __attribute__((warn_unused_result));

#endif
