/*
 * keccak: Keccak-256 as Ethereum uses it (the original Keccak padding
 * 0x01 ... 0x80, not SHA3-256's 0x06 ... 0x80).
 *
 * keccak256() hashes one buffer; the context functions hash data that
 * arrives in pieces. Contexts live on the caller's stack: nothing is
 * allocated, nothing needs freeing.
 */
#ifndef RELAYWATCH_KECCAK_H
#define RELAYWATCH_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK256_BYTES 32
#define KECCAK256_RATE 136 /* bytes absorbed per permutation */

struct keccak256_ctx {
        uint64_t state[25];
        size_t pos; /* bytes absorbed into the current block */
};

/* Writes keccak256(data[0..len)) to out. `data` may be NULL when len is 0. */
void keccak256(const void *data, size_t len, uint8_t out[KECCAK256_BYTES]);

void keccak256_init(struct keccak256_ctx *ctx);
void keccak256_update(struct keccak256_ctx *ctx, const void *data, size_t len);
/* Writes the digest; the context must be initialised again before reuse. */
void keccak256_final(struct keccak256_ctx *ctx, uint8_t out[KECCAK256_BYTES]);

#endif
