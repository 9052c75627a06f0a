/*
 * bench_merkle: how fast chain/merkle proves and checks withdrawals in a
 * tree of 1024 leaves (a large relayer batch).
 *
 *     build/tests/bench/bench_merkle
 *
 * Each measurement repeats its operation until at least one second has
 * passed (CLOCK_MONOTONIC) and prints one line: the operation, the count,
 * the seconds and the rate per second. Exits 1 if any result is wrong.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "merkle.h"
#include "rwerr.h"

#define LEAVES 1024
#define PROOF_MAX 16
#define MIN_SECONDS 1.0

typedef uint8_t node[MERKLE_HASH_BYTES];

static node leaves[LEAVES];
static node proofs[LEAVES][PROOF_MAX];
static size_t proof_lens[LEAVES];

static double now(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, unsigned long long count, double seconds)
{
        printf("%-28s leaves=%d count=%llu seconds=%.3f rate=%.0f/s\n", what, LEAVES, count,
               seconds, (double)count / seconds);
}

/* Deterministic withdrawal leaves: id i, two tokens, varied recipients and amounts. */
static void make_leaves(void)
{
        size_t i;

        for (i = 0; i < LEAVES; i++) {
                uint8_t id[32] = {0}, amount[32] = {0}, token[20], recipient[20];

                id[30] = (uint8_t)(i >> 8);
                id[31] = (uint8_t)i;
                memset(token, i % 2 == 0 ? 0x11 : 0x22, sizeof token);
                memset(recipient, 0x40, sizeof recipient);
                recipient[18] = (uint8_t)(i >> 8);
                recipient[19] = (uint8_t)i;
                amount[20] = (uint8_t)(i * 7);
                amount[31] = (uint8_t)(i * 13 + 1);
                merkle_withdrawal_leaf(id, token, recipient, amount, leaves[i]);
        }
}

static int bench_root(node root)
{
        unsigned long long count = 0;
        double start = now(), elapsed;
        struct rwerr err;

        do {
                if (merkle_root((const node *)leaves, LEAVES, root, &err) != RW_OK) {
                        fprintf(stderr, "bench_merkle: merkle_root: %s\n", err.msg);
                        return -1;
                }
                count++;
        } while ((elapsed = now() - start) < MIN_SECONDS);
        report("merkle_root", count, elapsed);
        return 0;
}

static int bench_proof(void)
{
        unsigned long long count = 0;
        double start = now(), elapsed;
        struct rwerr err;

        do {
                size_t i = (size_t)(count % LEAVES);

                if (merkle_proof((const node *)leaves, LEAVES, i, proofs[i], PROOF_MAX,
                                 &proof_lens[i], &err) != RW_OK) {
                        fprintf(stderr, "bench_merkle: merkle_proof: %s\n", err.msg);
                        return -1;
                }
                count++;
        } while ((elapsed = now() - start) < MIN_SECONDS || count < LEAVES);
        report("merkle_proof", count, elapsed);
        return 0;
}

static int bench_verify(const node root)
{
        unsigned long long count = 0, ok = 0;
        double start = now(), elapsed;
        size_t i;

        do {
                for (i = 0; i < LEAVES; i++)
                        ok += merkle_verify(leaves[i], (const node *)proofs[i], proof_lens[i],
                                            root);
                count += LEAVES;
        } while ((elapsed = now() - start) < MIN_SECONDS);
        if (ok != count) {
                fprintf(stderr, "bench_merkle: %llu of %llu proofs failed to verify\n", count - ok,
                        count);
                return -1;
        }
        report("merkle_verify (depth 10)", count, elapsed);
        return 0;
}

int main(void)
{
        node root;

        make_leaves();
        if (bench_root(root) != 0 || bench_proof() != 0 || bench_verify(root) != 0)
                return 1;
        return 0;
}
