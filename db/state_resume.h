/*
 * state_resume: the RESUMEs relaywatch saw on the control stream, in
 * relaywatch_state.resumes (sql/migrations/0003_resumes.sql): which HALTs
 * each lifted, who signed it, why, whether it was forced, the exact signed
 * message and signature, its stream entry, when it was issued and when the
 * watchdog saw it.
 *
 * Append-only and idempotent: the same RESUME recorded again (a restart
 * reads the stream again) is nothing new, and the first row of a resume id
 * stays as it is. One statement in autocommit, sent as SQL text with
 * parameters (no prepared statement to register): it refuses to run inside
 * an open transaction (RW_ERR_INVALID), like state.h's records.
 */
#ifndef RELAYWATCH_STATE_RESUME_H
#define RELAYWATCH_STATE_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "dbconn.h"

#define STATE_RESUME_NAME_MAX 256  /* resume id, a lifted id, key_id, sig, entry id */
#define STATE_RESUME_TEXT_MAX 4096 /* reason */
#define STATE_RESUME_MSG_MAX 65536 /* the signed msg (CONTROL_MSG_MAX) */
#define STATE_RESUME_LIFTS_MAX 256 /* CONTROL_LIFTS_MAX */

/* One RESUME as seen on the stream. Nothing is taken over; strings are NUL-terminated. */
struct state_resume {
        const char *resume_id;    /* "resume-..." */
        const char *const *lifts; /* the HALT ids it lifts, 1 .. STATE_RESUME_LIFTS_MAX */
        size_t nlifts;
        const char *key_id;   /* the operator key that signed it */
        const char *reason;   /* may be "" */
        int forced;           /* its evidence said forced: true */
        const char *msg;      /* the exact signed bytes */
        const char *sig;      /* base64 signature of msg */
        const char *entry_id; /* the stream entry that carried it */
        int64_t issued_at_ms; /* > 0 */
        int64_t seen_at_ms;   /* > 0: when relaywatch read it */
};

/*
 * Records a RESUME; *inserted (may be NULL) is 1 when this call wrote the
 * row, 0 when the resume id was recorded already. Missing, empty or
 * oversized values are RW_ERR_INVALID / RW_ERR_RANGE naming the field,
 * before anything is sent; the server's refusal is RW_ERR_IO.
 */
int state_resume_record(struct dbconn *c, const struct state_resume *r, int *inserted,
                        struct rwerr *err) __attribute__((warn_unused_result));

/* *n (may be NULL) is the count of rows for `resume_id` (0 or 1). */
int state_resume_count(struct dbconn *c, const char *resume_id, long *n, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
