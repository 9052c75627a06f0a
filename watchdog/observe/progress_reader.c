#include "progress_reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "rwclock.h"

struct progress_reader {
        struct dbconn *db; /* the reader thread's own */
        pthread_t thread;
        int started;     /* the thread was started (it is joined on free) */
        int start_tried; /* a start was attempted */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        /* under `lock` */
        int stopping;
        PGcancel *cancel; /* for the read under way, made by the reader thread */
        struct ledger_progress_state latest;
        char start_problem[RWERR_MSG_MAX];
};

struct progress_reader *progress_reader_new(const struct dbconn_config *cfg, struct rwerr *err)
{
        struct progress_reader *r = calloc(1, sizeof *r);
        struct dbconn_config dc = *cfg;
        pthread_condattr_t attr;

        if (r == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory for the progress reader");
                return NULL;
        }
        dc.statements = NULL;
        dc.nstatements = 0;
        dc.statement_timeout_ms = PROGRESS_READER_TIMEOUT_MS;
        if ((r->db = dbconn_new(&dc, err)) == NULL) {
                free(r);
                return NULL;
        }
        (void)pthread_mutex_init(&r->lock, NULL);
        (void)pthread_condattr_init(&attr);
        (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        (void)pthread_cond_init(&r->wake, &attr);
        (void)pthread_condattr_destroy(&attr);
        return r;
}

/* Waits `ms` or until stopped; 1 when stopped. Called with `lock` held. */
static int wait_or_stop(struct progress_reader *r, uint64_t ms)
{
        struct timespec until;

        until = rwclock_mono_deadline(ms);
        while (!r->stopping)
                if (pthread_cond_timedwait(&r->wake, &r->lock, &until) == ETIMEDOUT)
                        break;
        return r->stopping;
}

/* A cancel handle for the connection as it is now (none while it is down). */
static void arm_cancel(struct progress_reader *r)
{
        PGconn *pg = dbconn_pg(r->db);
        PGcancel *c = pg != NULL ? PQgetCancel(pg) : NULL;

        (void)pthread_mutex_lock(&r->lock);
        PQfreeCancel(r->cancel);
        r->cancel = c;
        (void)pthread_mutex_unlock(&r->lock);
}

/*
 * One read, in a read-only transaction of its own. `st` is the thread's
 * working copy: it also keeps which connection the statement was prepared on.
 */
static void read_once(struct progress_reader *r, struct ledger_progress_state *st)
{
        struct ledger_progress_figures f = {0};
        struct rwerr err, ignored;
        int rc, connected;

        if ((rc = dbconn_ensure(r->db, &err)) == RW_OK) {
                arm_cancel(r);
                rc = ledger_snapshot_begin(r->db, &err);
        }
        connected = rc == RW_OK;
        if (connected)
                rc = ledger_progress_read(r->db, st, &f, &err);
        if (ledger_snapshot_end(r->db, &ignored) != RW_OK) {
                /* the next read reconnects if need be */
        }
        st->attempted = 1;
        st->read_at_ms = rwclock_mono_ms();
        st->known = rc == RW_OK;
        if (st->known) {
                st->figures = f;
                st->problem[0] = '\0';
        } else {
                /* the view's own errors name it; the connection's do not */
                if (!connected)
                        rwerr_prefix(&err, RW_ERR_IO, "relaywatch.progress: not read");
                (void)snprintf(st->problem, sizeof st->problem, "%s", err.msg);
        }
}

static void *reader_main(void *arg)
{
        struct progress_reader *r = arg;
        struct ledger_progress_state st;
        int stop;

        memset(&st, 0, sizeof st);
        (void)pthread_mutex_lock(&r->lock);
        stop = r->stopping;
        (void)pthread_mutex_unlock(&r->lock);
        while (!stop) {
                read_once(r, &st);
                (void)pthread_mutex_lock(&r->lock);
                r->latest = st;
                stop = wait_or_stop(r, LEDGER_PROGRESS_PERIOD_MS);
                (void)pthread_mutex_unlock(&r->lock);
        }
        return NULL;
}

void progress_reader_latest(struct progress_reader *r, struct ledger_progress_state *out)
{
        int rc;

        (void)pthread_mutex_lock(&r->lock);
        if (!r->start_tried) {
                r->start_tried = 1;
                if ((rc = pthread_create(&r->thread, NULL, reader_main, r)) == 0)
                        r->started = 1;
                else
                        (void)snprintf(r->start_problem, sizeof r->start_problem,
                                       "relaywatch.progress: not read: its reader thread did "
                                       "not start: %s",
                                       strerror(rc));
        }
        *out = r->latest;
        if (!r->started) {
                out->attempted = 1;
                out->known = 0;
                (void)snprintf(out->problem, sizeof out->problem, "%s", r->start_problem);
        }
        (void)pthread_mutex_unlock(&r->lock);
}

void progress_reader_free(struct progress_reader *r)
{
        char why[256];

        if (r == NULL)
                return;
        (void)pthread_mutex_lock(&r->lock);
        r->stopping = 1;
        if (r->cancel != NULL && !PQcancel(r->cancel, why, (int)sizeof why)) {
                /* the read ends at its statement timeout instead */
        }
        (void)pthread_cond_broadcast(&r->wake);
        (void)pthread_mutex_unlock(&r->lock);
        if (r->started)
                (void)pthread_join(r->thread, NULL);
        PQfreeCancel(r->cancel);
        dbconn_free(r->db);
        (void)pthread_cond_destroy(&r->wake);
        (void)pthread_mutex_destroy(&r->lock);
        free(r);
}
