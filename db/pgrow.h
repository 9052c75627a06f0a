/*
 * pgrow: strict, typed reads of one field of a libpq result.
 *
 * Every ledger value crosses into C through here, so a NULL, a negative or
 * fractional amount, or a malformed hash is an error that names the query,
 * the row and the column ("locked_in_range row 2 (SIGIL), column credited:
 * negative amount ..."), never a zero. `what` is the caller's label for the
 * row; the column name comes from the result.
 */
#ifndef RELAYWATCH_PGROW_H
#define RELAYWATCH_PGROW_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct rwerr;
struct u256;

/* A non-NULL NUMERIC/text holding a non-negative integer below 2^256. */
int pgrow_u256(const PGresult *res, int row, int col, const char *what, struct u256 *out,
               struct rwerr *err) __attribute__((warn_unused_result));

/* A non-NULL integer in [min, max]. */
int pgrow_i64(const PGresult *res, int row, int col, const char *what, int64_t min, int64_t max,
              int64_t *out, struct rwerr *err) __attribute__((warn_unused_result));

/* Like pgrow_i64 but NULL is allowed and gives `*is_null = 1`. */
int pgrow_i64_or_null(const PGresult *res, int row, int col, const char *what, int64_t min,
                      int64_t max, int64_t *out, int *is_null, struct rwerr *err)
        __attribute__((warn_unused_result));

/* A non-NULL text value, copied into `out` (cap bytes, NUL included); too long is an error. */
int pgrow_text(const PGresult *res, int row, int col, const char *what, char *out, size_t cap,
               struct rwerr *err) __attribute__((warn_unused_result));

/* A non-NULL "0x"-hex value of exactly `len` bytes. */
int pgrow_hex(const PGresult *res, int row, int col, const char *what, uint8_t *out, size_t len,
              struct rwerr *err) __attribute__((warn_unused_result));

/*
 * A "0x"-hex value of any length up to `cap` bytes into `out` (*len set);
 * NULL is allowed when `null_ok`, giving *len = 0 and *is_null = 1.
 */
int pgrow_hex_any(const PGresult *res, int row, int col, const char *what, int null_ok,
                  uint8_t *out, size_t cap, size_t *len, int *is_null, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
