/*
 * DUPLICATE_EVENT_RATE (tracked): the share of RootAnchored events in view 0
 * of the source chain that repeat an earlier event's root or batch number.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

struct entry {
        const struct snap_anchor *a;
        size_t pos;
};

static int by_root(const void *x, const void *y)
{
        const struct entry *a = x, *b = y;
        int c = memcmp(a->a->root, b->a->root, sizeof a->a->root);

        if (c != 0)
                return c;
        return a->pos < b->pos ? -1 : (a->pos > b->pos);
}

static int by_batch(const void *x, const void *y)
{
        const struct entry *a = x, *b = y;

        if (a->a->batch_id != b->a->batch_id)
                return a->a->batch_id < b->a->batch_id ? -1 : 1;
        return a->pos < b->pos ? -1 : (a->pos > b->pos);
}

/* Anchors that repeat an earlier one's root or batch id; (size_t)-1 when out of memory. */
static size_t count_repeats(const struct snap_anchor *anchors, size_t n)
{
        struct entry *e = malloc(n * sizeof *e);
        unsigned char *repeat = calloc(n, 1);
        size_t i, count = 0;

        if (e == NULL || repeat == NULL) {
                free(e);
                free(repeat);
                return (size_t)-1;
        }
        for (i = 0; i < n; i++) {
                e[i].a = &anchors[i];
                e[i].pos = i;
        }
        qsort(e, n, sizeof *e, by_root);
        for (i = 1; i < n; i++)
                if (memcmp(e[i].a->root, e[i - 1].a->root, 32) == 0)
                        repeat[e[i].pos] = 1;
        qsort(e, n, sizeof *e, by_batch);
        for (i = 1; i < n; i++)
                if (e[i].a->batch_id == e[i - 1].a->batch_id)
                        repeat[e[i].pos] = 1;
        for (i = 0; i < n; i++)
                count += repeat[i];
        free(e);
        free(repeat);
        return count;
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        char why[RWERR_MSG_MAX] = "";
        const struct snap_view *src;
        cJSON *ev = verdict_evidence(out);
        size_t dups;

        (void)p;
        out->unit = "ratio";
        src = evidence_view(s, SNAP_SOURCE, view[SNAP_SOURCE], why, sizeof why);
        if (src == NULL) {
                verdict_set(out, VERDICT_UNKNOWN, "%s", why);
                return;
        }
        evidence_str(ev, "endpoint", src->endpoint);
        evidence_u64(ev, "anchors", src->nanchors);
        if (src->nanchors == 0 || src->anchors == NULL) {
                verdict_set(out, VERDICT_OK, "no anchors this cycle");
                return;
        }
        dups = count_repeats(src->anchors, src->nanchors);
        if (dups == (size_t)-1) {
                verdict_set(out, VERDICT_UNKNOWN, "out of memory counting %zu anchors",
                            src->nanchors);
                return;
        }
        evidence_u64(ev, "duplicates", dups);
        out->has_value = 1;
        out->value = (double)dups / (double)src->nanchors;
        verdict_set(out, VERDICT_OK, "%zu of %zu anchor events repeat a root or batch number", dups,
                    src->nanchors);
}

const struct invariant duplicate_event_rate_check = {
        .name = "DUPLICATE_EVENT_RATE",
        .tier = VERDICT_TIER_TRACK,
        .weighs_views = 0,
        .evaluate = evaluate,
        .reads_history = 1,
        .worse_value = 1,
};
