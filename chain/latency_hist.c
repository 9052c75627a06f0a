#include "latency_hist.h"

const double latency_hist_bounds_ms[LATENCY_HIST_BOUNDS] = {
        1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
};

void latency_hist_add(struct latency_hist *h, double ms)
{
        unsigned i = 0;

        if (!(ms > 0)) /* negative, zero or NaN */
                ms = 0;
        while (i < LATENCY_HIST_BOUNDS && ms > latency_hist_bounds_ms[i])
                i++;
        h->bucket[i]++;
        h->count++;
        h->sum_ms += ms;
}

void latency_hist_merge(struct latency_hist *into, const struct latency_hist *from)
{
        unsigned i;

        for (i = 0; i <= LATENCY_HIST_BOUNDS; i++)
                into->bucket[i] += from->bucket[i];
        into->count += from->count;
        into->sum_ms += from->sum_ms;
}
