#include "cycle_result.h"

#include <stdlib.h>
#include <string.h>

void cycle_result_release(struct cycle_result *r)
{
        size_t i;

        if (r == NULL)
                return;
        for (i = 0; r->verdicts != NULL && i < r->nverdicts; i++)
                verdict_release(&r->verdicts[i]);
        free(r->verdicts);
        free(r->new_anchors);
        snapshot_free(&r->snapshot);
        memset(r, 0, sizeof *r);
}

const struct verdict *cycle_result_verdict(const struct cycle_result *r, const char *invariant)
{
        size_t i;

        for (i = 0; i < r->nverdicts; i++) {
                if (strcmp(r->verdicts[i].invariant, invariant) == 0)
                        return &r->verdicts[i];
        }
        return NULL;
}
