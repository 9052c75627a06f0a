/*
 * alert_spool: the on-disk spool of undelivered alert messages,
 * STATE_DIR/alert-spool.jsonl. Private to alert/.
 *
 * The format: one JSON object a line, {"route": NAME, "alert": the alert
 * (alert_to_json), "attempts": N, "last_problem": TEXT}; the owner's
 * messages in the order it lists them, then the lines kept as they were
 * read (see below).
 *
 * Writing. The spool holds no messages of its own: the owner keeps them
 * (the sender, in its routes) and marks the spool changed
 * (alert_spool_mark) whenever what it would list changes;
 * alert_spool_flush then asks it for them (the `list` hook) and rewrites
 * the whole file atomically (a temp file, fsync, rename, fsync of the
 * directory). A failed rewrite is logged once (alert_spool_write_failed),
 * what it held stays in memory with the owner, and the rewrite is tried
 * again one second later; the first that works is logged
 * (alert_spool_written).
 *
 * Loading. Each line read is handed to the owner (the `take` hook). A
 * line that cannot be read is logged with its line number
 * (alert_spool_unreadable) and appended to STATE_DIR/alert-spool.unreadable
 * (fsync'd), and the spool is marked changed so the next rewrite drops it;
 * when even that append fails the line is kept in the spool as it is. A
 * line the owner has no route for is logged (alert_spool_route_unknown)
 * and kept in the spool as it is. Blank lines are skipped; a missing file
 * is an empty spool; a file over 64 MiB is refused.
 *
 * No lock: one thread at a time uses a spool (alert_sender.c says which).
 */
#ifndef RELAYWATCH_ALERT_SPOOL_H
#define RELAYWATCH_ALERT_SPOOL_H

#include <stdint.h>

#include "alert.h"
#include "rwerr.h"

#define ALERT_SPOOL_NAME "alert-spool.jsonl"
#define ALERT_SPOOL_UNREADABLE_NAME "alert-spool.unreadable"

/* What alert_spool_hooks.take answers for a route it does not have. */
#define ALERT_SPOOL_NO_ROUTE 1

/* One message as a spool line holds it; everything borrowed. */
struct alert_spool_msg {
        const char *route; /* the route's name */
        const struct alert *alert;
        unsigned attempts;   /* made so far, counted across restarts */
        const char *problem; /* the last problem, or "" */
};

/* Adds `m` (borrowed for the call) to the spool being written; `sink` is the spool's. */
typedef void alert_spool_put_fn(void *sink, const struct alert_spool_msg *m);

/* How the spool reaches the messages, which are the owner's. */
struct alert_spool_hooks {
        void *ctx; /* the owner's, passed to both hooks */
        /*
         * Calls put(sink, m) for each message that belongs in the spool,
         * in the order they are to be sent.
         */
        void (*list)(void *ctx, alert_spool_put_fn *put, void *sink);
        /*
         * Takes one message read from the spool, for the route named
         * `route`. RW_OK: taken, and `*alert` is the owner's now (moved out
         * by value: the spool forgets it without releasing it).
         * ALERT_SPOOL_NO_ROUTE when the owner has no such route, or
         * RW_ERR_NOMEM (the load fails): `*alert` stays the spool's, which
         * releases it.
         */
        int (*take)(void *ctx, const char *route, struct alert *alert, unsigned attempts,
                    const char *problem);
};

/* A line of a route the owner does not have, or one that could not be set aside. */
struct alert_spool_kept;

/*
 * A spool: embedded in its owner, which touches it only through the
 * functions below. alert_spool_init sets it up; a zeroed one may be
 * released without it.
 */
struct alert_spool {
        const char *state_dir; /* borrowed */
        struct alert_spool_hooks hooks;
        struct alert_spool_kept *kept, *kept_tail; /* owned: written after the owner's */
        int dirty;                                 /* the file is not what the owner lists */
        uint64_t retry_at_ms;                      /* monotonic: after a failed rewrite */
        int write_failing;                         /* a failed rewrite was logged */
};

/*
 * Sets `sp` up for STATE_DIR `state_dir` (borrowed: it must outlive the
 * spool) with the owner's `hooks` (copied; hooks.ctx must outlive the
 * spool). Nothing is read or written.
 */
void alert_spool_init(struct alert_spool *sp, const char *state_dir,
                      const struct alert_spool_hooks *hooks);

/* Frees the lines kept as they were read. The file is left as it is. Accepts NULL. */
void alert_spool_release(struct alert_spool *sp);

/*
 * Reads the spool file and hands each readable line to hooks.take, in
 * order (see the top of this file for the others). Does not rewrite the
 * spool (unreadable lines are appended to alert-spool.unreadable and the
 * spool marked changed): the owner calls alert_spool_flush when it is
 * ready to list what it took. Once, before the first flush.
 * RW_OK; RW_ERR_IO or RW_ERR_RANGE when the file cannot be read (or is
 * too large); RW_ERR_NOMEM. `err` says why.
 */
int alert_spool_load(struct alert_spool *sp, struct rwerr *err);

/* What the owner lists has changed: the file is rewritten at the next flush. */
void alert_spool_mark(struct alert_spool *sp);

/*
 * Rewrites the file when it was marked changed, unless a rewrite failed
 * less than a second ago and `force` is 0. Failures are logged, not
 * returned (see the top of this file).
 */
void alert_spool_flush(struct alert_spool *sp, int force);

/*
 * 1 when a rewrite waits (marked changed, not written yet), with `*at_ms`
 * (monotonic) the earliest time the next flush without force tries it;
 * else 0.
 */
int alert_spool_pending(const struct alert_spool *sp, uint64_t *at_ms);

#endif
