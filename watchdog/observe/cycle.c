#include "cycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "hex.h"
#include "rwclock.h"

void cycle_new_correlation_id(char *out, size_t cap)
{
        uint8_t id[16];
        char text[HEX_ENCODED_SIZE(16)];

        randombytes_buf(id, sizeof id);
        (void)hex_encode(id, sizeof id, text, sizeof text);
        (void)snprintf(out, cap, "%s", text + 2); /* without "0x" */
}

static void release_verdicts(struct cycle_result *r)
{
        size_t i;

        for (i = 0; r->verdicts != NULL && i < r->nverdicts; i++)
                verdict_release(&r->verdicts[i]);
}

int cycle_run(struct observer *o, const struct invariant_params *params,
              const struct observe_window *w, uint64_t previous_cycle_ms, struct cycle_result *out,
              struct rwerr *err)
{
        uint64_t started = rwclock_mono_ms();
        int rc;

        memset(out, 0, sizeof *out);
        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_INVALID, "libsodium failed to initialise");
        out->nverdicts = invariant_count + 1;
        out->verdicts = calloc(out->nverdicts, sizeof *out->verdicts);
        if (out->verdicts == NULL) {
                out->nverdicts = 0;
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory for verdicts");
        }
        cycle_new_correlation_id(out->snapshot.correlation_id, sizeof out->snapshot.correlation_id);
        out->snapshot.previous_cycle_ms = previous_cycle_ms;
        if ((rc = observer_observe(o, w, &out->snapshot, err)) != RW_OK)
                return rc;
        invariants_evaluate(&out->snapshot, params, out->verdicts);
        if (invariants_need_confirmation(out->verdicts, out->nverdicts)) {
                if ((rc = observer_confirm(o, &out->snapshot, err)) != RW_OK)
                        return rc;
                release_verdicts(out);
                invariants_evaluate(&out->snapshot, params, out->verdicts);
                out->confirmed = 1;
        }
        out->tier1 = invariants_tier1_status(out->verdicts, out->nverdicts);
        out->duration_ms = rwclock_mono_ms() - started;
        return RW_OK;
}

int cycle_validate(const struct config *cfg, struct cycle_result *out, struct rwerr *err)
{
        /* every anchor from the deploy block, every batch, the latest rows: no cursor */
        struct observe_window w = {-1, 0, 0, -1, -1, 0, 0};
        struct observer *obs;
        int rc;

        memset(out, 0, sizeof *out);
        if ((obs = observer_new(cfg, err)) == NULL)
                return RW_ERR_INVALID;
        rc = cycle_run(obs, &cfg->params, &w, 0, out, err);
        observer_free(obs);
        return rc;
}
