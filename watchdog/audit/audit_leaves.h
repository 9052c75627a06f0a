/*
 * audit_leaves: the audit log's leaf hashes kept beside it, so the writer
 * can build a consistency proof for a witness without reading the log.
 *
 *     leaves.bin   32 bytes per record, the record's leaf hash, in order
 *
 * In memory it keeps the root of every complete run of AUDIT_LEAVES_CHUNK
 * leaves (32 bytes per 1024 records), so any subtree hash a proof asks for
 * costs at most a few reads of AUDIT_LEAVES_CHUNK hashes and hashing over
 * the chunk roots. The file is derived data: the log is the truth, and a
 * file that does not match the log's size is rebuilt from the records.
 *
 * Not thread-safe: the audit log calls it under its lock.
 */
#ifndef RELAYWATCH_AUDIT_LEAVES_H
#define RELAYWATCH_AUDIT_LEAVES_H

#include <stdint.h>

#include "audit_tree.h"
#include "rwerr.h"

#define AUDIT_LEAVES_FILE "leaves.bin"
#define AUDIT_LEAVES_CHUNK 1024

struct audit_leaves;

/*
 * Opens dir/leaves.bin for a log of `size` records. When the file holds
 * exactly `size` hashes they are read back (the chunk roots); otherwise it
 * is emptied and *rebuild is set: the caller appends every record's leaf
 * again. NULL with `err` on an I/O error or no memory.
 */
struct audit_leaves *audit_leaves_open(const char *dir, uint64_t size, int *rebuild,
                                       struct rwerr *err);

void audit_leaves_close(struct audit_leaves *lv);

/* Appends one leaf hash. */
int audit_leaves_append(struct audit_leaves *lv, const unsigned char leaf[AUDIT_HASH_BYTES],
                        struct rwerr *err) __attribute__((warn_unused_result));

/* Leaves held. */
uint64_t audit_leaves_size(const struct audit_leaves *lv);

/* audit_tree_range_fn over the leaves (ctx: the struct audit_leaves). */
int audit_leaves_range(void *ctx, uint64_t begin, uint64_t end, unsigned char out[AUDIT_HASH_BYTES],
                       struct rwerr *err);

#endif
