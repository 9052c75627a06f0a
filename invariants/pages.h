/*
 * pages: one cycle's verdicts over history read a page at a time.
 *
 * A cycle reads the bridge's history (ledger batches with their leaves and
 * withdrawals, the roots and RootAnchored events of the source chain) in
 * pages, every page at the same pinned heights and in the same ledger
 * transaction, so its memory does not grow with the bridge's age. The
 * checks that read history (struct invariant.reads_history) are evaluated
 * on each page (invariants_evaluate_history) and each page's verdict is
 * folded into the cycle's with pages_merge:
 *
 *   - the worse status wins (violated, then could-not-evaluate, then ok),
 *     the verdict of the first page that had it, evidence and all;
 *   - a violation on several pages names the subjects of all of them (up
 *     to VERDICT_SUBJECTS_MAX, as one page would);
 *   - among ok verdicts of a Tier 3 measure, the page with the worst value
 *     (struct invariant.worse_value);
 *   - disagreement and needs_confirmation of any page stay set.
 *
 * Pure, like the checks: no I/O.
 */
#ifndef RELAYWATCH_PAGES_H
#define RELAYWATCH_PAGES_H

#include <stddef.h>

#include "invariant.h"

/* What a cycle's pages held in all. */
struct page_totals {
        size_t pages;
        size_t batches;
        size_t withdrawals;
        size_t anchors;
};

/*
 * Folds `page` (a verdict of check `inv` on one page; consumed: released
 * here) into `acc` (the same check's verdict over the pages before). A
 * page verdict never evaluated (invariant NULL) leaves acc as it is.
 */
void pages_merge(const struct invariant *inv, struct verdict *acc, struct verdict *page);

/*
 * After the last page, for each check that reads history: when there were
 * several pages, the summary starts with what they held in all ("391 pages
 * (100000 batches, 1000000 withdrawals, 100000 anchors in all), worst:
 * ...", then the summary of the first page with the worst result) and the
 * evidence gets "pages" with the same figures.
 */
void pages_note_totals(struct verdict *out, const struct page_totals *t);

#endif
