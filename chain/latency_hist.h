/*
 * latency_hist: a cumulative histogram of durations in milliseconds, with
 * fixed bucket bounds, so that whoever keeps one (the endpoint pool, the
 * supervisor) and whoever exports one (the metrics) agree on the buckets.
 *
 * Plain data, no allocation: copy it by assignment. bucket[i] counts the
 * observations <= latency_hist_bounds_ms[i] (not cumulative: the exporter
 * sums them); the last bucket (i == LATENCY_HIST_BOUNDS) counts the rest.
 */
#ifndef RELAYWATCH_LATENCY_HIST_H
#define RELAYWATCH_LATENCY_HIST_H

#include <stdint.h>

#define LATENCY_HIST_BOUNDS 14

struct latency_hist {
        uint64_t bucket[LATENCY_HIST_BOUNDS + 1];
        uint64_t count;
        double sum_ms;
};

/* The upper bounds, in ms: 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000. */
extern const double latency_hist_bounds_ms[LATENCY_HIST_BOUNDS];

/* Counts one observation of `ms` milliseconds (negative counts as 0). */
void latency_hist_add(struct latency_hist *h, double ms);

/* Adds every observation of `from` to `into`. */
void latency_hist_merge(struct latency_hist *into, const struct latency_hist *from);

#endif
