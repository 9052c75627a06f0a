/*
 * evidence: the JSON building blocks every check writes its evidence with,
 * and the access to one view of a chain that every Tier 1 check needs.
 *
 * Internal to invariants/. The adders take the parent object (or array) and
 * add to it; a NULL parent (the evidence could not be allocated) is
 * ignored, so a check never has to test for out-of-memory itself: the
 * verdict stands, only its evidence is poorer.
 */
#ifndef RELAYWATCH_EVIDENCE_H
#define RELAYWATCH_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct cJSON;
struct u256;

/* "0x" and 64 digits and a NUL. */
#define EVIDENCE_HASH_TEXT 67

/*
 * printf into out[cap], truncated to fit: for the one-line texts of
 * verdicts, where a cut-off end beats no message (cap > 0).
 */
void evidence_format(char *out, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* `n` bytes as "0x..." into out[cap]. */
void evidence_hex_text(const uint8_t *in, size_t n, char *out, size_t cap);

/* An amount in token units ("1.5 SIGIL") into out[cap]; "?" when it does not fit. */
void evidence_units_text(const struct u256 *a, unsigned decimals, const char *symbol, char *out,
                         size_t cap);

/* parent[key] = { "base": "<decimal>", "units": "<token units>" }; returns the object. */
struct cJSON *evidence_amount(struct cJSON *parent, const char *key, const struct u256 *a,
                              unsigned decimals, const char *symbol);

/* parent[key] = "0x..." of n bytes. */
void evidence_hex(struct cJSON *parent, const char *key, const uint8_t *in, size_t n);

/* parent[key] = v, a JSON number when exact (<= 2^53), else a decimal string. */
void evidence_u64(struct cJSON *parent, const char *key, uint64_t v);

/* parent[key] = s. */
void evidence_str(struct cJSON *parent, const char *key, const char *s);

/*
 * parent[key] = where chain `c` was read through view `view`: chain id, head,
 * pinned height, the pinned block's hash and the endpoint (when the view
 * exists), and the chain's or the view's error when there is one.
 */
void evidence_chain(struct cJSON *parent, const char *key, const struct snapshot *s,
                    enum snap_chain_role c, size_t view);

/*
 * View `view` of chain `c` when the chain was read and that view answered;
 * otherwise NULL, with why[cap] naming the chain, the endpoint and its error.
 */
const struct snap_view *evidence_view(const struct snapshot *s, enum snap_chain_role c, size_t view,
                                      char *why, size_t cap);

#endif
