/*
 * bench_cycle: the supervisor's cycle, warm. Loads a configuration, keeps
 * one observer (endpoint pools, ledger connection) and runs cycle_run over
 * and over, as `relaywatch run` will: the first cycle pays for connecting,
 * the rest are what every block costs. Prints each cycle's time and the
 * median and p90 of the warm ones.
 *
 * Usage: bench_cycle CONFIG [CYCLES]   (default 20)
 * Exit 1 when a cycle's Tier 1 result is not valid: a benchmark of a
 * failing check measures nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "cycle.h"

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        struct observe_window w = {-1, 0, 0, -1, -1, 0, 0, 0};
        struct rwerr err = {{0}};
        struct config *cfg;
        struct observer *obs;
        uint64_t *ms;
        long cycles = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
        long i;
        int rc = 0;

        if (argc < 2 || cycles < 2 || cycles > 100000) {
                fprintf(stderr, "usage: bench_cycle CONFIG [CYCLES >= 2]\n");
                return 64;
        }
        if ((cfg = config_load(argv[1], stderr, &err)) == NULL ||
            (obs = observer_new(cfg, &err)) == NULL ||
            observer_track_progress(obs, &err) != RW_OK) { /* as relaywatch run does */
                fprintf(stderr, "bench_cycle: %s\n", err.msg);
                config_free(cfg);
                return 1;
        }
        ms = calloc((size_t)cycles, sizeof *ms);
        for (i = 0; ms != NULL && i < cycles && rc == 0; i++) {
                struct cycle_result r;

                if (cycle_run(obs, &cfg->params, &w, i > 0 ? ms[i - 1] : 0, &r, &err) != RW_OK) {
                        fprintf(stderr, "bench_cycle: %s\n", err.msg);
                        rc = 1;
                } else if (r.tier1 != VERDICT_OK) {
                        fprintf(stderr, "bench_cycle: cycle %ld is %s, not valid\n", i + 1,
                                verdict_status_name(r.tier1));
                        rc = 1;
                }
                ms[i] = r.duration_ms;
                printf("cycle %ld: %llu ms%s\n", i + 1, (unsigned long long)ms[i],
                       i == 0 ? " (connects)" : "");
                cycle_result_release(&r);
        }
        if (rc == 0 && ms != NULL) {
                qsort(ms + 1, (size_t)cycles - 1, sizeof *ms, cmp_u64);
                printf("warm cycles: %ld, median %llu ms, p90 %llu ms\n", cycles - 1,
                       (unsigned long long)ms[1 + (cycles - 1) / 2],
                       (unsigned long long)ms[1 + (cycles - 1) * 9 / 10]);
        }
        free(ms);
        observer_free(obs);
        config_free(cfg);
        return rc;
}
