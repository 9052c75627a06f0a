#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

const char *snap_chain_role_name(enum snap_chain_role role)
{
        switch (role) {
        case SNAP_SOURCE:
                return "source";
        case SNAP_EXECUTION:
                return "execution";
        case SNAP_NCHAINS:
                break;
        }
        return "invalid";
}

/* calloc(n, size), but NULL only on failure: n == 0 gives NULL without failing. */
static int alloc_zeroed(void **out, size_t n, size_t size)
{
        void *p;

        *out = NULL;
        if (n == 0)
                return RW_OK;
        p = calloc(n, size);
        if (p == NULL)
                return RW_ERR_NOMEM;
        *out = p;
        return RW_OK;
}

int snapshot_alloc_assets_accounts(struct snapshot *s, size_t nassets, size_t naccounts)
{
        void *assets = NULL, *accounts = NULL, *ledger_assets = NULL;

        if (alloc_zeroed(&assets, nassets, sizeof(struct snap_asset)) != RW_OK ||
            alloc_zeroed(&accounts, naccounts, sizeof(struct snap_account)) != RW_OK ||
            alloc_zeroed(&ledger_assets, nassets, sizeof(struct snap_ledger_asset)) != RW_OK) {
                free(assets);
                free(accounts);
                free(ledger_assets);
                return RW_ERR_NOMEM;
        }
        free(s->assets);
        free(s->accounts);
        free(s->ledger.assets);
        s->assets = assets;
        s->nassets = nassets;
        s->accounts = accounts;
        s->naccounts = naccounts;
        s->ledger.assets = ledger_assets;
        return RW_OK;
}

static void view_free_arrays(struct snap_view *v)
{
        free(v->token_values);
        free(v->tip_values);
        free(v->nonce_latest);
        free(v->nonce_pending);
        free(v->anchored_roots);
        free(v->anchors);
        v->token_values = NULL;
        v->tip_values = NULL;
        v->nonce_latest = NULL;
        v->nonce_pending = NULL;
        v->anchored_roots = NULL;
        v->anchors = NULL;
        v->nanchors = 0;
}

int snapshot_alloc_view(struct snapshot *s, enum snap_chain_role chain, struct snap_view *v)
{
        void *values = NULL, *tip = NULL, *latest = NULL, *pending = NULL, *roots = NULL;
        size_t nbatches = chain == SNAP_SOURCE ? s->ledger.nbatches : 0;
        int at_tip = s->chains[chain].tip != s->chains[chain].pinned;

        if (alloc_zeroed(&values, s->nassets, sizeof(struct u256)) != RW_OK ||
            (at_tip && alloc_zeroed(&tip, s->nassets, sizeof(struct u256)) != RW_OK) ||
            alloc_zeroed(&latest, s->naccounts, sizeof(uint64_t)) != RW_OK ||
            alloc_zeroed(&pending, s->naccounts, sizeof(uint64_t)) != RW_OK ||
            alloc_zeroed(&roots, nbatches, 32) != RW_OK) {
                free(values);
                free(tip);
                free(latest);
                free(pending);
                free(roots);
                return RW_ERR_NOMEM;
        }
        /* Replaces what this function allocates; the anchors stay. */
        free(v->token_values);
        free(v->tip_values);
        free(v->nonce_latest);
        free(v->nonce_pending);
        free(v->anchored_roots);
        v->token_values = values;
        v->tip_values = tip;
        v->nonce_latest = latest;
        v->nonce_pending = pending;
        v->anchored_roots = roots;
        return RW_OK;
}

void snapshot_free_history(struct snapshot *s)
{
        struct snap_ledger *l = &s->ledger;
        size_t i;

        free(l->batches);
        free(l->leaves);
        free(l->withdrawals);
        free(l->roots_known);
        l->batches = NULL;
        l->leaves = NULL;
        l->withdrawals = NULL;
        l->roots_known = NULL;
        l->nbatches = l->nleaves = l->nwithdrawals = l->nroots_known = 0;
        free(s->known_anchors);
        s->known_anchors = NULL;
        s->nknown_anchors = 0;
        for (i = 0; i < SNAP_VIEWS_MAX; i++) {
                struct snap_view *v = &s->chains[SNAP_SOURCE].views[i];

                free(v->anchored_roots);
                free(v->anchors);
                v->anchored_roots = NULL;
                v->anchors = NULL;
                v->nanchors = 0;
        }
}

void snapshot_free(struct snapshot *s)
{
        size_t c, i;

        if (s == NULL)
                return;
        for (c = 0; c < SNAP_NCHAINS; c++)
                for (i = 0; i < SNAP_VIEWS_MAX; i++)
                        view_free_arrays(&s->chains[c].views[i]);
        free(s->assets);
        free(s->accounts);
        free(s->ledger.assets);
        free(s->ledger.batches);
        free(s->ledger.leaves);
        free(s->ledger.withdrawals);
        free(s->ledger.duplicates);
        free(s->ledger.roots_known);
        free(s->ledger.operations);
        free(s->ledger.cycles);
        if (s->streams != NULL)
                for (i = 0; i < s->nstreams; i++)
                        free(s->streams[i].groups);
        free(s->streams);
        free(s->known_anchors);
        memset(s, 0, sizeof *s);
}

long snapshot_batch_index(const struct snapshot *s, uint64_t batch_number)
{
        const struct snap_batch *b = s->ledger.batches;
        size_t lo = 0, hi = s->ledger.nbatches, i;

        if (b == NULL)
                return -1;
        /* The ledger lists batches in ascending order: search, then make sure. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (b[mid].batch_number < batch_number)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < s->ledger.nbatches && b[lo].batch_number == batch_number)
                return (long)lo;
        /* Not sorted after all, or not there: look at every batch. */
        for (i = 0; i < s->ledger.nbatches; i++)
                if (b[i].batch_number == batch_number)
                        return (long)i;
        return -1;
}
