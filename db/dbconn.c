#include "dbconn.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conninfo.h"
#include "dbconn_ahead.h"
#include "rwclock.h"

/* The statements are prepared in one pipeline (setup_pipeline): libpq 14 or later. */
#ifndef LIBPQ_HAS_PIPELINING
#error "libpq without pipeline mode (PQenterPipelineMode): libpq 14 or later is required"
#endif

#define DEFAULT_CONNECT_TIMEOUT_S 5u
#define DEFAULT_STATEMENT_TIMEOUT_MS 5000u
#define DEFAULT_FAILURE_THRESHOLD 5u

/* Delay before the next connect after 1, 2, 3 ... failures in a row. */
static const uint64_t reconnect_delay_ms[] = {0, 1000, 2000, 5000, 10000, 30000};

struct dbconn {
        char *conninfo;
        char *password; /* only to scrub it from libpq's messages; wiped on free */
        char name[32];
        unsigned connect_timeout_s;
        unsigned statement_timeout_ms;
        unsigned failure_threshold;
        const struct dbconn_statement *sets[DBCONN_MAX_STATEMENT_SETS];
        size_t set_sizes[DBCONN_MAX_STATEMENT_SETS];
        size_t nsets;
        PGconn *pg;
        struct ahead *ahead; /* statements sent ahead on pg (dbconn_send_ahead) */
        uint64_t last_failure_ms;
        struct dbconn_health health;
};

static char *password_of(const char *conninfo)
{
        PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
        const PQconninfoOption *o;
        char *pw = NULL;

        for (o = opts; o != NULL && o->keyword != NULL; o++) {
                if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
                        pw = strdup(o->val);
                        break;
                }
        }
        PQconninfoFree(opts);
        return pw;
}

/* Copies a libpq message into `err`, one line, with the password masked. */
static int set_pg_error(struct dbconn *c, int code, const char *what, const char *pgmsg,
                        struct rwerr *err)
{
        char msg[RWERR_MSG_MAX];
        size_t i, j = 0, pwlen = c->password ? strlen(c->password) : 0;

        for (i = 0; pgmsg != NULL && pgmsg[i] != '\0' && j < sizeof msg - 4; i++) {
                if (pwlen >= 4 && strncmp(pgmsg + i, c->password, pwlen) == 0) {
                        memcpy(msg + j, "***", 3);
                        j += 3;
                        i += pwlen - 1;
                } else if (pgmsg[i] == '\n' || pgmsg[i] == '\r') {
                        if (pgmsg[i + 1] != '\0')
                                msg[j++] = ' ';
                } else {
                        msg[j++] = pgmsg[i];
                }
        }
        msg[j] = '\0';
        return rwerr_set(err, code, "%s: %s: %s", c->health.description, what,
                         j > 0 ? msg : "(no message from libpq)");
}

struct dbconn *dbconn_new(const struct dbconn_config *cfg, struct rwerr *err)
{
        struct dbconn *c;
        char where[DBCONN_DESCRIPTION_MAX];

        if (conninfo_describe(cfg->conninfo, where, sizeof where, err) != RW_OK) {
                rwerr_prefix(err, RW_ERR_INVALID, cfg->name ? cfg->name : "database");
                return NULL;
        }
        c = calloc(1, sizeof *c);
        if (c == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory");
                return NULL;
        }
        (void)snprintf(c->name, sizeof c->name, "%s", cfg->name ? cfg->name : "database");
        (void)snprintf(c->health.description, sizeof c->health.description, "%.30s (%.120s)",
                       c->name, where);
        c->conninfo = strdup(cfg->conninfo);
        c->password = password_of(cfg->conninfo);
        c->ahead = ahead_new();
        if (c->conninfo == NULL || c->ahead == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "out of memory");
                dbconn_free(c);
                return NULL;
        }
        c->connect_timeout_s =
                cfg->connect_timeout_s ? cfg->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
        c->statement_timeout_ms = cfg->statement_timeout_ms ? cfg->statement_timeout_ms
                                                            : DEFAULT_STATEMENT_TIMEOUT_MS;
        c->failure_threshold =
                cfg->failure_threshold ? cfg->failure_threshold : DEFAULT_FAILURE_THRESHOLD;
        if (cfg->statements != NULL && cfg->nstatements > 0) {
                c->sets[0] = cfg->statements;
                c->set_sizes[0] = cfg->nstatements;
                c->nsets = 1;
        }
        return c;
}

int dbconn_add_statements(struct dbconn *c, const struct dbconn_statement *statements, size_t n,
                          struct rwerr *err)
{
        if (c->nsets == DBCONN_MAX_STATEMENT_SETS)
                return rwerr_set(err, RW_ERR_RANGE, "%s: more than %d statement sets",
                                 c->health.description, DBCONN_MAX_STATEMENT_SETS);
        c->sets[c->nsets] = statements;
        c->set_sizes[c->nsets] = n;
        c->nsets++;
        if (c->pg != NULL) {
                /* Already connected: prepare them on the next connect. */
                PQfinish(c->pg);
                c->pg = NULL;
                ahead_forget(c->ahead);
                c->health.connected = 0;
        }
        return RW_OK;
}

static void wipe_free(char *s)
{
        if (s != NULL) {
                sodium_memzero(s, strlen(s));
                free(s);
        }
}

void dbconn_free(struct dbconn *c)
{
        if (c == NULL)
                return;
        if (c->pg != NULL)
                PQfinish(c->pg);
        ahead_free(c->ahead);
        wipe_free(c->conninfo);
        wipe_free(c->password);
        free(c);
}

static void record_failure(struct dbconn *c, const struct rwerr *err)
{
        c->health.failures++;
        c->health.consecutive_failures++;
        c->health.connection_lost = c->health.consecutive_failures >= c->failure_threshold;
        c->health.connected = 0;
        c->last_failure_ms = rwclock_mono_ms();
        (void)snprintf(c->health.last_error, sizeof c->health.last_error, "%s",
                       err ? err->msg : "connection failed");
}

static void record_success(struct dbconn *c)
{
        c->health.consecutive_failures = 0;
        c->health.connection_lost = 0;
        c->health.last_error[0] = '\0';
}

/* Drops a connection that failed; the next dbconn_ensure makes a new one. */
static void drop(struct dbconn *c, const struct rwerr *err)
{
        if (c->pg != NULL) {
                PQfinish(c->pg);
                c->pg = NULL;
        }
        ahead_forget(c->ahead);
        record_failure(c, err);
}

/* Server notices ("relation already exists, skipping") are not ours to print. */
static void ignore_notice(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

/* A connect that failed at `what`: drop the connection, count it, say why. */
static int connect_failed(struct dbconn *c, const char *what, const char *pgmsg, struct rwerr *err)
{
        struct rwerr e;

        set_pg_error(c, RW_ERR_IO, what, pgmsg, &e);
        drop(c, &e);
        if (err != NULL)
                *err = e;
        return RW_ERR_IO;
}

/*
 * Reads the result of one command of the setup pipeline, in order: 0 when
 * it succeeded, otherwise the failure named by `what` with the server's
 * message (the connection is dropped). Each command's result is followed
 * by a NULL that ends it.
 */
static int pipeline_result(struct dbconn *c, const char *what, struct rwerr *err)
{
        PGresult *res = PQgetResult(c->pg);
        PGresult *end;
        int rc;

        if (res == NULL)
                return connect_failed(c, what, PQerrorMessage(c->pg), err);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                /* The first failure; the commands after it are PGRES_PIPELINE_ABORTED. */
                rc = connect_failed(c, what,
                                    PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                                                 : PQerrorMessage(c->pg),
                                    err);
                PQclear(res);
                return rc;
        }
        PQclear(res);
        if ((end = PQgetResult(c->pg)) != NULL) {
                PQclear(end);
                return connect_failed(c, what, "more than one result", err);
        }
        return RW_OK;
}

/* The `what` of statement `s` in messages: "preparing statement NAME". */
static const char *preparing(const struct dbconn_statement *s, char *what, size_t cap)
{
        (void)snprintf(what, cap, "preparing statement %s", s->name);
        return what;
}

/*
 * Sets statement_timeout and prepares every statement of every set in one
 * pipeline: all of them are sent, then one sync, then the results are read
 * in order, so a connect costs one round trip for its setup however many
 * statements there are. The first command that fails is the one named
 * (those after it are only aborted, not tried); the connection is dropped.
 *
 * Pipeline mode is libpq 14 or later; the build requires it (Debian 12 has
 * libpq 15, whose libpq-fe.h declares PQenterPipelineMode and defines
 * LIBPQ_HAS_PIPELINING, checked at the top of this file), so there is no
 * path that prepares one statement per round trip.
 *
 * The connection stays in blocking mode: the replies are a few bytes per
 * command (ParseComplete, or one error and then nothing), so the server
 * never waits for us to read while we are still sending.
 */
static int setup_pipeline(struct dbconn *c, const char *setting, struct rwerr *err)
{
        char what[96];
        size_t set, i;
        PGresult *res;

        if (!PQenterPipelineMode(c->pg))
                return connect_failed(c, "cannot enter pipeline mode", PQerrorMessage(c->pg), err);
        if (!PQsendQueryParams(c->pg, setting, 0, NULL, NULL, NULL, NULL, 0))
                return connect_failed(c, "cannot set statement_timeout", PQerrorMessage(c->pg),
                                      err);
        for (set = 0; set < c->nsets; set++) {
                for (i = 0; i < c->set_sizes[set]; i++) {
                        const struct dbconn_statement *s = &c->sets[set][i];

                        if (!PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL))
                                return connect_failed(c, preparing(s, what, sizeof what),
                                                      PQerrorMessage(c->pg), err);
                }
        }
        if (!PQpipelineSync(c->pg))
                return connect_failed(c, "cannot send the statements", PQerrorMessage(c->pg), err);
        if (pipeline_result(c, "cannot set statement_timeout", err) != RW_OK)
                return RW_ERR_IO;
        for (set = 0; set < c->nsets; set++) {
                for (i = 0; i < c->set_sizes[set]; i++) {
                        if (pipeline_result(c, preparing(&c->sets[set][i], what, sizeof what),
                                            err) != RW_OK)
                                return RW_ERR_IO;
                }
        }
        res = PQgetResult(c->pg);
        if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
                PQclear(res);
                return connect_failed(c, "preparing statements: no end of the pipeline",
                                      PQerrorMessage(c->pg), err);
        }
        PQclear(res);
        if (!PQexitPipelineMode(c->pg))
                return connect_failed(c, "cannot leave pipeline mode", PQerrorMessage(c->pg), err);
        return RW_OK;
}

static int connect_now(struct dbconn *c, struct rwerr *err)
{
        char timeout[16], setting[64];
        const char *keys[] = {
                "dbname",          "connect_timeout",     "application_name", "keepalives",
                "keepalives_idle", "keepalives_interval", "keepalives_count", NULL};
        const char *values[] = {c->conninfo, timeout, "relaywatch", "1", "30", "10", "3", NULL};

        (void)snprintf(timeout, sizeof timeout, "%u", c->connect_timeout_s);
        c->pg = PQconnectdbParams(keys, values, 1);
        if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK)
                return connect_failed(c, "cannot connect", c->pg ? PQerrorMessage(c->pg) : NULL,
                                      err);
        PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
        (void)snprintf(setting, sizeof setting, "SET statement_timeout = %u",
                       c->statement_timeout_ms);
        if (setup_pipeline(c, setting, err) != RW_OK)
                return RW_ERR_IO;
        c->health.connected = 1;
        c->health.connects++;
        record_success(c);
        return RW_OK;
}

int dbconn_ensure(struct dbconn *c, struct rwerr *err)
{
        unsigned n = c->health.consecutive_failures;

        if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK)
                return RW_OK;
        if (c->pg != NULL) {
                struct rwerr e;

                rwerr_set(&e, RW_ERR_IO, "%s: connection lost", c->health.description);
                drop(c, &e);
                n = c->health.consecutive_failures;
        }
        if (n > 0) {
                size_t k = n - 1 < sizeof reconnect_delay_ms / sizeof reconnect_delay_ms[0]
                                   ? n - 1
                                   : sizeof reconnect_delay_ms / sizeof reconnect_delay_ms[0] - 1;
                uint64_t due = c->last_failure_ms + reconnect_delay_ms[k];
                uint64_t now = rwclock_mono_ms();

                if (now < due)
                        return rwerr_set(err, RW_ERR_IO,
                                         "%s: not connected (%u failures in a row; next attempt in "
                                         "%llu ms): %s",
                                         c->health.description, n, (unsigned long long)(due - now),
                                         c->health.last_error);
        }
        return connect_now(c, err);
}

static PGresult *check_result(struct dbconn *c, PGresult *res, ExecStatusType expect,
                              const char *what, struct rwerr *err)
{
        if (res != NULL && PQresultStatus(res) == expect) {
                record_success(c);
                return res;
        }
        set_pg_error(c, RW_ERR_IO, what, res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg),
                     err);
        PQclear(res);
        if (PQstatus(c->pg) != CONNECTION_OK)
                drop(c, err);
        return NULL;
}

/*
 * Before a command of our own: the results of statements sent ahead that
 * are still due are read and dropped, and pipeline mode left. RW_OK, or
 * RW_ERR_IO with the connection dropped when it failed on the way.
 */
static int settle(struct dbconn *c, struct rwerr *err)
{
        struct rwerr e;

        if (c->pg == NULL)
                return rwerr_set(err, RW_ERR_IO, "%s: not connected", c->health.description);
        if (ahead_settle(c->ahead, c->pg) == 0)
                return RW_OK;
        set_pg_error(c, RW_ERR_IO, "reading the results of statements sent ahead",
                     PQerrorMessage(c->pg), &e);
        drop(c, &e);
        if (err != NULL)
                *err = e;
        return RW_ERR_IO;
}

int dbconn_send_ahead(struct dbconn *c, const struct ahead_query *q, size_t n, struct rwerr *err)
{
        struct rwerr e;
        int rc;

        if (settle(c, err) != RW_OK)
                return RW_ERR_IO;
        if ((rc = ahead_send(c->ahead, c->pg, q, n)) == 0)
                return RW_OK;
        if (rc == AHEAD_OUT_OF_BOUNDS)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "%s: %zu statements to send ahead: at most %d, each with at most "
                                 "%d parameters of at most %d bytes",
                                 c->health.description, n, AHEAD_MAX, AHEAD_PARAMS_MAX,
                                 AHEAD_PARAM_SIZE - 1);
        set_pg_error(c, RW_ERR_IO, "sending statements ahead", PQerrorMessage(c->pg), &e);
        (void)settle(c, NULL); /* drops the connection unless it is still good */
        if (err != NULL)
                *err = e;
        return RW_ERR_IO;
}

PGresult *dbconn_exec_prepared(struct dbconn *c, const char *name, int nparams,
                               const char *const *params, ExecStatusType expect, struct rwerr *err)
{
        PGresult *res = NULL;
        struct rwerr e;

        if (c->pg == NULL) {
                rwerr_set(err, RW_ERR_IO, "%s: not connected", c->health.description);
                return NULL;
        }
        switch (ahead_take(c->ahead, c->pg, name, nparams, params, &res)) {
        case AHEAD_TAKEN:
                return check_result(c, res, expect, name, err);
        case AHEAD_BROKEN:
                set_pg_error(c, RW_ERR_IO, name, PQerrorMessage(c->pg), &e);
                drop(c, &e);
                if (err != NULL)
                        *err = e;
                return NULL;
        case AHEAD_NONE:
                break;
        }
        if (settle(c, err) != RW_OK)
                return NULL;
        return check_result(c, PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0), expect,
                            name, err);
}

PGresult *dbconn_exec(struct dbconn *c, const char *sql, ExecStatusType expect, struct rwerr *err)
{
        if (settle(c, err) != RW_OK)
                return NULL;
        return check_result(c, PQexec(c->pg, sql), expect, sql, err);
}

int dbconn_command(struct dbconn *c, const char *sql, struct rwerr *err)
{
        PGresult *res = dbconn_exec(c, sql, PGRES_COMMAND_OK, err);

        if (res == NULL)
                return RW_ERR_IO;
        PQclear(res);
        return RW_OK;
}

int dbconn_with_savepoint(struct dbconn *c, const char *name,
                          int (*fn)(struct dbconn *c, void *arg, struct rwerr *err), void *arg,
                          struct rwerr *err)
{
        char sql[128];
        struct rwerr ignored;
        int rc;

        if (c->pg != NULL && settle(c, err) != RW_OK)
                return RW_ERR_IO;
        if (c->pg == NULL || PQtransactionStatus(c->pg) != PQTRANS_INTRANS)
                return fn(c, arg, err);
        (void)snprintf(sql, sizeof sql, "SAVEPOINT %s", name);
        if (dbconn_command(c, sql, err) != RW_OK)
                return rwerr_prefix(err, RW_ERR_IO, "making a savepoint");
        if ((rc = fn(c, arg, err)) != RW_OK) {
                (void)snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT %s", name);
                if (c->pg != NULL && dbconn_command(c, sql, &ignored) != RW_OK) {
                        /* the connection died: the transaction's end deals with it */
                }
                return rc;
        }
        (void)snprintf(sql, sizeof sql, "RELEASE SAVEPOINT %s", name);
        if (dbconn_command(c, sql, err) != RW_OK)
                return rwerr_prefix(err, RW_ERR_IO, "releasing a savepoint");
        return RW_OK;
}

PGconn *dbconn_pg(struct dbconn *c)
{
        if (c->pg != NULL && settle(c, NULL) != RW_OK)
                return NULL;
        return c->pg;
}

void dbconn_health(const struct dbconn *c, struct dbconn_health *out)
{
        *out = c->health;
        ahead_counts(c->ahead, &out->sent_ahead, &out->sent_ahead_unused);
}
