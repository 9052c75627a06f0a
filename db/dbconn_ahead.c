#include "dbconn_ahead.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ahead_entry {
        char name[AHEAD_NAME_SIZE];
        int nparams;
        char params[AHEAD_PARAMS_MAX][AHEAD_PARAM_SIZE];
        PGresult *res; /* once read, until taken */
        int read;      /* its segment has been read from the connection */
        int taken;
};

struct ahead {
        struct ahead_entry entries[AHEAD_MAX];
        size_t n;       /* sent in the current pipeline */
        size_t nread;   /* entries[0 .. nread) have been read */
        int pipelining; /* the connection is in pipeline mode on our account */
        int broken;     /* the connection failed while results were due */
        uint64_t sent, unused;
};

struct ahead *ahead_new(void)
{
        return calloc(1, sizeof(struct ahead));
}

void ahead_free(struct ahead *a)
{
        if (a == NULL)
                return;
        ahead_forget(a);
        free(a);
}

void ahead_forget(struct ahead *a)
{
        size_t i;

        for (i = 0; i < a->n; i++) {
                if (!a->entries[i].taken)
                        a->unused++;
                PQclear(a->entries[i].res);
                a->entries[i].res = NULL;
        }
        a->n = 0;
        a->nread = 0;
        a->pipelining = 0;
        a->broken = 0;
}

static int fits(const struct ahead_query *q)
{
        int i;

        if (q->name == NULL || strlen(q->name) >= AHEAD_NAME_SIZE || q->nparams < 0 ||
            q->nparams > AHEAD_PARAMS_MAX || (q->nparams > 0 && q->params == NULL))
                return 0;
        for (i = 0; i < q->nparams; i++) {
                if (q->params[i] == NULL || strlen(q->params[i]) >= AHEAD_PARAM_SIZE)
                        return 0;
        }
        return 1;
}

int ahead_send(struct ahead *a, PGconn *pg, const struct ahead_query *q, size_t n)
{
        size_t i;
        int j;

        if (a->n > 0)
                return -1; /* the caller did not settle first */
        if (n == 0 || n > AHEAD_MAX)
                return AHEAD_OUT_OF_BOUNDS;
        for (i = 0; i < n; i++) {
                if (!fits(&q[i]))
                        return AHEAD_OUT_OF_BOUNDS;
        }
        if (!PQenterPipelineMode(pg))
                return -1;
        a->pipelining = 1;
        /*
         * The connection stays in blocking mode: what is sent is a few hundred
         * bytes, which the socket takes at once, so the server never waits for
         * us to read its results while we are still sending.
         */
        for (i = 0; i < n; i++) {
                struct ahead_entry *e = &a->entries[i];

                memset(e, 0, sizeof *e);
                (void)snprintf(e->name, sizeof e->name, "%s", q[i].name); /* fits: checked */
                e->nparams = q[i].nparams;
                for (j = 0; j < q[i].nparams; j++)
                        (void)snprintf(e->params[j], sizeof e->params[j], "%s", q[i].params[j]);
                if (!PQsendQueryPrepared(pg, q[i].name, q[i].nparams, q[i].params, NULL, NULL, 0) ||
                    !PQpipelineSync(pg)) {
                        a->n = i; /* those before it were sent: ahead_settle reads them */
                        return -1;
                }
                a->n = i + 1;
                a->sent++;
        }
        return 0;
}

/*
 * Reads entry nread's segment: its results up to the NULL that ends them
 * (the first is kept, a single-row statement has only one), then the Sync's.
 */
static void read_next(struct ahead *a, PGconn *pg)
{
        struct ahead_entry *e = &a->entries[a->nread];
        PGresult *r, *sync;

        e->read = 1;
        a->nread++;
        if (a->broken)
                return;
        while ((r = PQgetResult(pg)) != NULL) {
                if (e->res == NULL)
                        e->res = r;
                else
                        PQclear(r);
        }
        sync = PQgetResult(pg);
        if (e->res == NULL || sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
                a->broken = 1;
        PQclear(sync);
}

/* Leaves pipeline mode once every segment has been read. */
static void leave_when_read(struct ahead *a, PGconn *pg)
{
        if (a->nread < a->n || !a->pipelining)
                return;
        if (!a->broken && !PQexitPipelineMode(pg))
                a->broken = 1;
        a->pipelining = 0;
}

static int same_query(const struct ahead_entry *e, const char *name, int nparams,
                      const char *const *params)
{
        int i;

        if (e->taken || e->nparams != nparams || strcmp(e->name, name) != 0)
                return 0;
        for (i = 0; i < nparams; i++) {
                if (params == NULL || params[i] == NULL || strcmp(e->params[i], params[i]) != 0)
                        return 0;
        }
        return 1;
}

enum ahead_take_result ahead_take(struct ahead *a, PGconn *pg, const char *name, int nparams,
                                  const char *const *params, PGresult **res)
{
        size_t i;

        *res = NULL;
        for (i = 0; i < a->n && !same_query(&a->entries[i], name, nparams, params); i++) {
        }
        if (i == a->n)
                return AHEAD_NONE;
        while (a->nread <= i)
                read_next(a, pg);
        leave_when_read(a, pg);
        a->entries[i].taken = 1;
        *res = a->entries[i].res;
        a->entries[i].res = NULL;
        if (a->broken) {
                PQclear(*res);
                *res = NULL;
                return AHEAD_BROKEN;
        }
        return AHEAD_TAKEN;
}

int ahead_settle(struct ahead *a, PGconn *pg)
{
        int broken;

        while (a->nread < a->n)
                read_next(a, pg);
        if (a->pipelining) {
                /* a send that failed half way: the pipeline may still hold what was queued */
                if (!a->broken && !PQexitPipelineMode(pg))
                        a->broken = 1;
                a->pipelining = 0;
        }
        broken = a->broken;
        ahead_forget(a);
        return broken ? -1 : 0;
}

void ahead_counts(const struct ahead *a, uint64_t *sent, uint64_t *unused)
{
        *sent = a->sent;
        *unused = a->unused;
}
