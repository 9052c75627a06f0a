#include "pgrow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "rwerr.h"
#include "u256.h"

/* Checks the cell exists and is not NULL; names it in the error. */
static int cell(const PGresult *res, int row, int col, const char *what, int null_ok,
                const char **value, struct rwerr *err)
{
        if (row < 0 || row >= PQntuples(res) || col < 0 || col >= PQnfields(res))
                return rwerr_set(err, RW_ERR_RANGE, "%s: no column %d in row %d", what, col, row);
        if (PQgetisnull(res, row, col)) {
                *value = NULL;
                if (null_ok)
                        return RW_OK;
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: NULL where a value is required", what,
                                 PQfname(res, col));
        }
        *value = PQgetvalue(res, row, col);
        return RW_OK;
}

int pgrow_u256(const PGresult *res, int row, int col, const char *what, struct u256 *out,
               struct rwerr *err)
{
        const char *v = NULL;
        char prefix[RWERR_MSG_MAX];
        int rc;

        if ((rc = cell(res, row, col, what, 0, &v, err)) != RW_OK)
                return rc;
        if (v == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: missing value", what);
        if ((rc = u256_parse_dec(v, strlen(v), out, err)) != RW_OK) {
                (void)snprintf(prefix, sizeof prefix, "%s, column %s", what, PQfname(res, col));
                return rwerr_prefix(err, rc, prefix);
        }
        return RW_OK;
}

int pgrow_i64_or_null(const PGresult *res, int row, int col, const char *what, int64_t min,
                      int64_t max, int64_t *out, int *is_null, struct rwerr *err)
{
        const char *v = NULL;
        char *end = NULL;
        long long n;
        int rc;

        if ((rc = cell(res, row, col, what, 1, &v, err)) != RW_OK)
                return rc;
        if (v == NULL) {
                *is_null = 1;
                return RW_OK;
        }
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0')
                return rwerr_set(err, RW_ERR_INVALID, "%s, column %s: \"%.40s\" is not an integer",
                                 what, PQfname(res, col), v);
        if (n < min || n > max)
                return rwerr_set(err, RW_ERR_RANGE, "%s, column %s: %lld is outside %lld..%lld",
                                 what, PQfname(res, col), n, (long long)min, (long long)max);
        *out = n;
        *is_null = 0;
        return RW_OK;
}

int pgrow_i64(const PGresult *res, int row, int col, const char *what, int64_t min, int64_t max,
              int64_t *out, struct rwerr *err)
{
        int is_null = 0, rc;
        int64_t v = 0;

        if ((rc = pgrow_i64_or_null(res, row, col, what, min, max, &v, &is_null, err)) != RW_OK)
                return rc;
        if (is_null)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s, column %s: NULL where a value is required", what,
                                 PQfname(res, col));
        *out = v;
        return RW_OK;
}

int pgrow_text(const PGresult *res, int row, int col, const char *what, char *out, size_t cap,
               struct rwerr *err)
{
        const char *v = NULL;
        size_t len;
        int rc;

        if ((rc = cell(res, row, col, what, 0, &v, err)) != RW_OK)
                return rc;
        if (v == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: missing value", what);
        len = strlen(v);
        if (len >= cap)
                return rwerr_set(err, RW_ERR_RANGE, "%s, column %s: %zu characters, at most %zu",
                                 what, PQfname(res, col), len, cap - 1);
        memcpy(out, v, len + 1);
        return RW_OK;
}

int pgrow_hex(const PGresult *res, int row, int col, const char *what, uint8_t *out, size_t len,
              struct rwerr *err)
{
        const char *v = NULL;
        char prefix[RWERR_MSG_MAX];
        int rc;

        if ((rc = cell(res, row, col, what, 0, &v, err)) != RW_OK)
                return rc;
        if (v == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: missing value", what);
        if (strncmp(v, "0x", 2) != 0 || (rc = hex_decode(v, strlen(v), out, len, err)) != RW_OK) {
                (void)snprintf(prefix, sizeof prefix, "%s, column %s", what, PQfname(res, col));
                if (strncmp(v, "0x", 2) != 0)
                        return rwerr_set(err, RW_ERR_INVALID, "%s: \"%.20s\" is not 0x-hex", prefix,
                                         v);
                return rwerr_prefix(err, rc, prefix);
        }
        return RW_OK;
}

int pgrow_hex_any(const PGresult *res, int row, int col, const char *what, int null_ok,
                  uint8_t *out, size_t cap, size_t *len, int *is_null, struct rwerr *err)
{
        const char *v = NULL;
        char prefix[RWERR_MSG_MAX];
        int rc;

        if ((rc = cell(res, row, col, what, null_ok, &v, err)) != RW_OK)
                return rc;
        if (v == NULL) {
                *len = 0;
                *is_null = 1;
                return RW_OK;
        }
        (void)snprintf(prefix, sizeof prefix, "%s, column %s", what, PQfname(res, col));
        if (strncmp(v, "0x", 2) != 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s: \"%.20s\" is not 0x-hex", prefix, v);
        if ((rc = hex_decode_any(v, strlen(v), out, cap, len, err)) != RW_OK)
                return rwerr_prefix(err, rc, prefix);
        *is_null = 0;
        return RW_OK;
}
