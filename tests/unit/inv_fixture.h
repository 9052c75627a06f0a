/*
 * inv_fixture: hand-built snapshots for the invariant tests.
 *
 * inv_fixture_snapshot builds a healthy snapshot: both chains read (source
 * chain id 1 pinned at block 100, execution chain id 2 pinned at 200), one
 * view per chain ("src-a", "exe-a"), `nassets` assets (SIGIL with 18
 * decimals, then USDX with 6, ...) whose figures are all zero, and
 * `naccounts` relayer accounts (even indexes on the source chain, odd on the
 * execution chain) in step with the chain. The ledger is read and knows every
 * asset. Tests then change what they need. Free with snapshot_free.
 *
 * Failures inside the helpers fail the running cmocka test.
 */
#ifndef RELAYWATCH_INV_FIXTURE_H
#define RELAYWATCH_INV_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "invariant.h"
#include "snapshot.h"

struct cJSON;

#define INV_FIXTURE_VERDICTS 32 /* more than invariant_count + 1 */

void inv_fixture_snapshot(struct snapshot *s, size_t nassets, size_t naccounts);

/* Default params with one endpoint and quorum 1 per chain. */
void inv_fixture_params(struct invariant_params *p);

/*
 * Adds a view to chain c named `endpoint`, a deep copy of view 0 (values,
 * nonces, anchored roots, anchors). Returns it.
 */
struct snap_view *inv_fixture_add_view(struct snapshot *s, enum snap_chain_role c,
                                       const char *endpoint);

/*
 * Gives the ledger `n` zeroed batches numbered first, first + 1, ... and
 * every source view an anchored_roots array for them (all zero).
 */
void inv_fixture_batches(struct snapshot *s, size_t n, uint64_t first);

/* Replaces the anchors of view v with a copy of anchors[0..n). */
void inv_fixture_anchors(struct snap_view *v, const struct snap_anchor *anchors, size_t n);

/* Decimal text to u256. */
struct u256 inv_fixture_u256(const char *dec);

/* Token units ("0.001") to base units. */
struct u256 inv_fixture_units(const char *units, unsigned decimals);

/* 0x-hex text into exactly n bytes. */
void inv_fixture_hex(const char *hex, uint8_t *out, size_t n);

/*
 * Runs every check (invariants_evaluate) into out[INV_FIXTURE_VERDICTS] and
 * returns the verdict called `name` (failing the test when it is missing).
 * Release with inv_fixture_release.
 */
struct verdict *inv_fixture_run(const struct snapshot *s, const struct invariant_params *p,
                                struct verdict *out, const char *name);
void inv_fixture_release(struct verdict *out);

/*
 * The item at a dotted path ("assets.0.comparisons.1.delta.base"; numbers
 * index arrays) under root, or NULL.
 */
const struct cJSON *inv_fixture_at(const struct cJSON *root, const char *path);
/* Its string value; fails the test when it is not a string. */
const char *inv_fixture_str(const struct cJSON *root, const char *path);
/* Its number value; fails the test when it is not a number. */
double inv_fixture_num(const struct cJSON *root, const char *path);

/* Fails the test unless `needle` occurs in `hay`, printing both. */
void inv_fixture_contains(const char *hay, const char *needle);

/*
 * One test's state: a snapshot, the default params and room for every
 * verdict. cmocka runs one test at a time, so it lives in static storage.
 */
struct inv_fx {
        struct snapshot s;
        struct invariant_params p;
        struct verdict out[INV_FIXTURE_VERDICTS];
};

/* A fresh fixture with `nassets` assets and `naccounts` accounts. */
struct inv_fx *inv_fx_new(size_t nassets, size_t naccounts);

/* cmocka setup (one asset, no accounts) and teardown for a struct inv_fx. */
int inv_fx_setup(void **state);
int inv_fx_teardown(void **state);

/*
 * Fails unless v's evidence lists exactly want[0..n) as "subjects", in that
 * order and not truncated; n == 0: no "subjects" at all. SUBJECTS(v, "a",
 * "b") and NO_SUBJECTS(v) say it shorter.
 */
void inv_fixture_subjects_are(const struct verdict *v, const char *const *want, size_t n);
#define SUBJECTS(v, ...)                                                                           \
        inv_fixture_subjects_are((v), (const char *const[]){__VA_ARGS__},                          \
                                 sizeof((const char *const[]){__VA_ARGS__}) /                      \
                                         sizeof(const char *))
#define NO_SUBJECTS(v) inv_fixture_subjects_are((v), NULL, 0)

#endif
