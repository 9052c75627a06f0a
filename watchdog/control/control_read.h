/*
 * control_read: reads the control stream and the halt key from Redis into
 * a control_state (control_state.h), the way a relayer that joined from
 * the stream's start would see them: the halt key first, then every entry
 * in order.
 *
 * Errors are Redis errors (RW_ERR_IO: unreachable or the connection broke,
 * the context must not be used again; RW_ERR_REMOTE: Redis refused;
 * RW_ERR_PROTOCOL: a reply of an unexpected shape), each naming the key.
 * What the entries themselves hold is never an error: it is an outcome.
 */
#ifndef RELAYWATCH_CONTROL_READ_H
#define RELAYWATCH_CONTROL_READ_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "control_state.h"
#include "rwerr.h"

#define CONTROL_READ_PAGE 500 /* entries per XRANGE */

/*
 * Called for each judged entry (entry_id "" for the halt key); `fields`
 * are the entry's, borrowed for the call. May be NULL.
 */
typedef void (*control_read_fn)(void *arg, const char *entry_id, const struct control_field *fields,
                                size_t nfields, const struct control_outcome *out);

/*
 * The fields of one entry of an XRANGE/XREAD reply ([id, [name, value, ...]])
 * into fields[0..cap) (pointing into the reply) and its id into entry_id.
 * Returns the number of fields kept (at most cap: an entry with more is a
 * bad_entry all the same), or -1 when `e` is not of that shape. A deleted
 * entry (fields nil) has 0 fields.
 */
int control_read_entry_fields(const redisReply *e, char entry_id[CONTROL_ENTRY_ID_SIZE],
                              struct control_field *fields, size_t cap);

/*
 * Judges the halt key (when it exists) into `st`. *present 1 when the key
 * exists. A key of another type than a hash is judged as a hash with no
 * fields (bad_entry).
 */
int control_read_halt_key(redisContext *ctx, const char *halt_key, struct control_state *st,
                          int *present, control_read_fn fn, void *arg, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Judges every entry of `stream` after entry id `after` ("0-0": from the
 * start), in order, XRANGE CONTROL_READ_PAGE at a time; `last` (may be
 * NULL) gets the id of the last entry read, unchanged when there were none.
 */
int control_read_stream(redisContext *ctx, const char *stream, const char *after,
                        struct control_state *st, char last[CONTROL_ENTRY_ID_SIZE],
                        control_read_fn fn, void *arg, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
