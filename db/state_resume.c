#include "state_resume.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rwerr.h"

#define STATE_RESUME_TIME_MAX_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

static const char insert_sql[] =
        "INSERT INTO relaywatch_state.resumes "
        "(resume_id, lifts, key_id, reason, forced, msg, sig, entry_id, issued_at, seen_at) "
        "VALUES ($1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3, $4, $5::boolean, "
        "$6, $7, $8, "
        "timestamptz 'epoch' + $9::bigint * interval '1 millisecond', "
        "timestamptz 'epoch' + $10::bigint * interval '1 millisecond') "
        "ON CONFLICT (resume_id) DO NOTHING";

static const char count_sql[] =
        "SELECT count(*) FROM relaywatch_state.resumes WHERE resume_id = $1";

static int check_text(const char *field, const char *v, size_t max, int may_be_empty,
                      struct rwerr *err)
{
        if (v == NULL || (!may_be_empty && v[0] == '\0'))
                return rwerr_set(err, RW_ERR_INVALID, "resume record: %s is missing", field);
        if (strlen(v) > max)
                return rwerr_set(err, RW_ERR_RANGE, "resume record: %s is longer than %zu bytes",
                                 field, max);
        return RW_OK;
}

static int check_time(const char *field, int64_t ms, struct rwerr *err)
{
        if (ms <= 0 || ms > STATE_RESUME_TIME_MAX_MS)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "resume record: %s %" PRId64 " is not a time in unix ms", field,
                                 ms);
        return RW_OK;
}

static int check(const struct state_resume *r, struct rwerr *err)
{
        size_t i;
        int rc;

        if ((rc = check_text("resume_id", r->resume_id, STATE_RESUME_NAME_MAX, 0, err)) != RW_OK ||
            (rc = check_text("key_id", r->key_id, STATE_RESUME_NAME_MAX, 0, err)) != RW_OK ||
            (rc = check_text("reason", r->reason, STATE_RESUME_TEXT_MAX, 1, err)) != RW_OK ||
            (rc = check_text("msg", r->msg, STATE_RESUME_MSG_MAX, 0, err)) != RW_OK ||
            (rc = check_text("sig", r->sig, STATE_RESUME_NAME_MAX, 0, err)) != RW_OK ||
            (rc = check_text("entry_id", r->entry_id, STATE_RESUME_NAME_MAX, 0, err)) != RW_OK ||
            (rc = check_time("issued_at", r->issued_at_ms, err)) != RW_OK ||
            (rc = check_time("seen_at", r->seen_at_ms, err)) != RW_OK)
                return rc;
        if (r->lifts == NULL || r->nlifts == 0)
                return rwerr_set(err, RW_ERR_INVALID, "resume record: lifts is missing");
        if (r->nlifts > STATE_RESUME_LIFTS_MAX)
                return rwerr_set(err, RW_ERR_RANGE, "resume record: lifts has more than %d ids",
                                 STATE_RESUME_LIFTS_MAX);
        for (i = 0; i < r->nlifts; i++) {
                if ((rc = check_text("lifts", r->lifts[i], STATE_RESUME_NAME_MAX, 0, err)) != RW_OK)
                        return rc;
        }
        return RW_OK;
}

/* The connection into *out, when it is up and no transaction is open. */
static int idle_pg(struct dbconn *c, PGconn **out, struct rwerr *err)
{
        PGconn *pg = dbconn_pg(c);

        *out = NULL;
        if (pg == NULL || PQstatus(pg) != CONNECTION_OK)
                return rwerr_set(err, RW_ERR_IO,
                                 "resume record: the ledger database is not connected");
        if (PQtransactionStatus(pg) != PQTRANS_IDLE)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "resume record: refused inside an open transaction");
        *out = pg;
        return RW_OK;
}

/* The server's message, without its trailing newline. */
static int server_error(PGconn *pg, PGresult *res, const char *what, struct rwerr *err)
{
        const char *m = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg);
        size_t n = strlen(m);

        while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
                n--;
        return rwerr_set(err, RW_ERR_IO, "%s: %.*s", what, (int)n, m);
}

int state_resume_record(struct dbconn *c, const struct state_resume *r, int *inserted,
                        struct rwerr *err)
{
        char issued[24], seen[24];
        const char *params[10];
        cJSON *lifts = NULL;
        char *lifts_text = NULL;
        PGresult *res = NULL;
        PGconn *pg;
        size_t i;
        int rc;

        if (inserted != NULL)
                *inserted = 0;
        if ((rc = check(r, err)) != RW_OK)
                return rc;
        if ((rc = idle_pg(c, &pg, err)) != RW_OK)
                return rc;
        if ((lifts = cJSON_CreateArray()) == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory recording %s", r->resume_id);
        for (i = 0; i < r->nlifts; i++) {
                cJSON *s = cJSON_CreateString(r->lifts[i]);

                if (s == NULL || !cJSON_AddItemToArray(lifts, s)) {
                        cJSON_Delete(s);
                        cJSON_Delete(lifts);
                        return rwerr_set(err, RW_ERR_NOMEM, "out of memory recording %s",
                                         r->resume_id);
                }
        }
        lifts_text = cJSON_PrintUnformatted(lifts);
        cJSON_Delete(lifts);
        if (lifts_text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory recording %s", r->resume_id);
        (void)snprintf(issued, sizeof issued, "%" PRId64, r->issued_at_ms);
        (void)snprintf(seen, sizeof seen, "%" PRId64, r->seen_at_ms);
        params[0] = r->resume_id;
        params[1] = lifts_text;
        params[2] = r->key_id;
        params[3] = r->reason;
        params[4] = r->forced ? "true" : "false";
        params[5] = r->msg;
        params[6] = r->sig;
        params[7] = r->entry_id;
        params[8] = issued;
        params[9] = seen;
        res = PQexecParams(pg, insert_sql, 10, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                rc = server_error(pg, res, "recording RESUME in relaywatch_state.resumes", err);
        } else {
                rc = RW_OK;
                if (inserted != NULL)
                        *inserted = strcmp(PQcmdTuples(res), "1") == 0;
        }
        PQclear(res);
        cJSON_free(lifts_text);
        return rc;
}

int state_resume_count(struct dbconn *c, const char *resume_id, long *n, struct rwerr *err)
{
        const char *params[1] = {resume_id};
        PGresult *res;
        PGconn *pg;
        int rc = RW_OK;

        if (resume_id == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "resume count: resume_id is missing");
        if ((rc = idle_pg(c, &pg, err)) != RW_OK)
                return rc;
        res = PQexecParams(pg, count_sql, 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
                rc = server_error(pg, res, "counting relaywatch_state.resumes", err);
        else if (n != NULL)
                *n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return rc;
}
