/*
 * outbox: signed control messages waiting for Redis, on disk.
 *
 * When Redis cannot be reached a HALT must not be lost: it is written here
 * first, fsync'd, and delivered (halt_publish) when Redis is back, oldest
 * first, also after a restart of relaywatch. Each message is one file
 * OUTBOX_DIR/NNNNNNNNNNNNNNNNNNNN-ID.msg (a sequence number, so the order
 * survives a restart) holding the signature line and then the msg bytes:
 *
 *   relaywatch-outbox-v1 ID SIG\n
 *   MSG
 *
 * A file is written under a temporary name, fsync'd, renamed into place
 * and the directory fsync'd, so a crash leaves either the whole message or
 * nothing (a leftover temporary file is ignored and removed). Putting an
 * id that is already waiting does nothing: publishing is idempotent anyway.
 */
#ifndef RELAYWATCH_OUTBOX_H
#define RELAYWATCH_OUTBOX_H

#include <stddef.h>

#include "control_msg.h"
#include "rwerr.h"

struct outbox;

/* One waiting message; strings owned by the outbox_list that returned it. */
struct outbox_entry {
        char *path; /* the file, for messages */
        char id[CONTROL_ID_SIZE];
        char sig[CONTROL_SIG_B64_SIZE];
        char *msg;
        size_t msg_len;
};

struct outbox_list {
        size_t n;
        struct outbox_entry *entries; /* oldest first */
};

/*
 * Opens (creating, mode 0700) the outbox directory `dir`. NULL with `err`
 * filled when it cannot be created or is not a private directory.
 */
struct outbox *outbox_open(const char *dir, struct rwerr *err);
void outbox_close(struct outbox *o);

/* Stores one message durably (see above). */
int outbox_put(struct outbox *o, const char *id, const char *msg, size_t msg_len, const char *sig,
               struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Every waiting message, oldest first, into *out (free with
 * outbox_list_free). A file that cannot be read as a message is not
 * skipped silently: the call fails naming it, and the file stays for a
 * human to look at.
 */
int outbox_list(struct outbox *o, struct outbox_list *out, struct rwerr *err)
        __attribute__((warn_unused_result));
void outbox_list_free(struct outbox_list *l);

/* Removes a delivered message (entry from outbox_list), and fsyncs the directory. */
int outbox_done(struct outbox *o, const struct outbox_entry *e, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
