/*
 * The bridge's progress figures (relaywatch.progress), read on a thread
 * and a PostgreSQL connection of their own, off the cycle's path.
 *
 * The view counts whole tables: on a ledger of a million withdrawals it
 * takes seconds, and inside the snapshot transaction it made every
 * fifteenth second's cycle that much longer and delayed its verdict. The
 * figures are for metrics and the on-call page only, never for a verdict,
 * so they need not come from the cycle's snapshot: the reader reads them
 * every LEDGER_PROGRESS_PERIOD_MS in a read-only transaction of its own and
 * each cycle takes the latest it has.
 *
 * Thread safety: progress_reader_latest may be called from any one thread
 * at a time; the reader's own thread only touches what the reader's lock
 * guards. Ownership: the reader copies the connection settings it is given.
 */
#ifndef RELAYWATCH_PROGRESS_READER_H
#define RELAYWATCH_PROGRESS_READER_H

#include "dbconn.h"
#include "ledger.h"
#include "rwerr.h"

/*
 * Its statement timeout: the view's scan is allowed far longer than a
 * cycle's reads, since nothing waits on it.
 */
#define PROGRESS_READER_TIMEOUT_MS 60000u

struct progress_reader;

/*
 * A reader for the ledger `cfg` names (conninfo and name are copied; the
 * statement list and timeout are its own). Nothing connects until the first
 * progress_reader_latest. NULL on no memory (err says so).
 */
struct progress_reader *progress_reader_new(const struct dbconn_config *cfg, struct rwerr *err);

/*
 * The latest attempt's outcome into *out: out->attempted 0 while none has
 * finished. The first call starts the reader's thread, which reads at once
 * and then every LEDGER_PROGRESS_PERIOD_MS; should the thread not start,
 * the outcome says so.
 */
void progress_reader_latest(struct progress_reader *r, struct ledger_progress_state *out);

/*
 * Stops the thread (a read under way is cancelled on the server) and frees
 * the reader. NULL is a no-op.
 */
void progress_reader_free(struct progress_reader *r);

#endif
