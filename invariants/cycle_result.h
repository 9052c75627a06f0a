/*
 * cycle_result: what one observe → evaluate pass produced, the snapshot
 * and its verdicts. It is the value the data plane hands to the rooms that
 * act on it (halt control, status, and later alerts and the audit log), so
 * it is defined here, beside the snapshot and the verdicts it is made of,
 * and the rooms that act need not know how it was observed.
 */
#ifndef RELAYWATCH_CYCLE_RESULT_H
#define RELAYWATCH_CYCLE_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "invariant.h"
#include "pages.h"
#include "snapshot.h"

/* Events a cycle hands on for the known-anchors index, at most (beyond: the next sweep's). */
#define CYCLE_NEW_ANCHORS_MAX 200000

struct cycle_result {
        struct snapshot snapshot;
        struct verdict *verdicts; /* invariant_count + 1 (ENDPOINT_DISAGREEMENT last) */
        size_t nverdicts;
        int confirmed;             /* other endpoints were read to confirm a violation */
        int totals_recounted;      /* evaluated again on a full sum of the ledger's totals */
        enum verdict_status tier1; /* enforce-mode Tier 1 combined */
        uint64_t observed_mono_ms; /* when the cycle began (monotonic), set by its runner */
        uint64_t duration_ms;      /* the whole cycle */
        /* the history's pages (pages.h): the snapshot holds the last one only */
        struct page_totals pages;
        /*
         * The batch cursor the history supports: the last batch of the
         * unbroken run of batches from the window's cursor on whose root
         * view 0 of the source chain read anchored (the cursor itself when
         * the first batch read is not anchored yet).
         */
        uint64_t anchored_through;
        /* view 0's events the known-anchors index lacks, for the caller to add */
        struct snap_anchor *new_anchors;
        size_t nnew_anchors;
        size_t new_anchors_dropped; /* beyond CYCLE_NEW_ANCHORS_MAX or memory */
};

/* Frees the verdicts' evidence, the verdicts and the snapshot, and zeroes `r`. Accepts NULL. */
void cycle_result_release(struct cycle_result *r);

/* The verdict of check `invariant` in `r`, or NULL. */
const struct verdict *cycle_result_verdict(const struct cycle_result *r, const char *invariant);

#endif
