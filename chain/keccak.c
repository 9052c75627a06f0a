/*
 * Keccak-256: the Keccak-f[1600] permutation with the five steps of a round
 * (theta, rho, pi, chi, iota) written out lane by lane, so the compiler keeps
 * the state in registers, and a sponge of rate 136 bytes.
 * Reference: The Keccak reference, version 3.0 (Bertoni, Daemen, Peeters,
 * Van Assche), sections 1.2 and 5.
 */
#include "keccak.h"

#include <string.h>

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

static const uint64_t keccak_round_constants[24] = {
        0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
        0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
        0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
        0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
        0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
        0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Lane A[x][y] is st[x + 5y]; b holds A after rho and pi, at B[y][2x+3y]. */
static void keccak_f1600(uint64_t st[25])
{
        uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
        uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12;
        uint64_t b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
        int round;

        for (round = 0; round < 24; round++) {
                /* theta */
                c0 = st[0] ^ st[5] ^ st[10] ^ st[15] ^ st[20];
                c1 = st[1] ^ st[6] ^ st[11] ^ st[16] ^ st[21];
                c2 = st[2] ^ st[7] ^ st[12] ^ st[17] ^ st[22];
                c3 = st[3] ^ st[8] ^ st[13] ^ st[18] ^ st[23];
                c4 = st[4] ^ st[9] ^ st[14] ^ st[19] ^ st[24];
                d0 = c4 ^ ROL64(c1, 1);
                d1 = c0 ^ ROL64(c2, 1);
                d2 = c1 ^ ROL64(c3, 1);
                d3 = c2 ^ ROL64(c4, 1);
                d4 = c3 ^ ROL64(c0, 1);

                /* rho and pi */
                b0 = st[0] ^ d0;
                b1 = ROL64(st[6] ^ d1, 44);
                b2 = ROL64(st[12] ^ d2, 43);
                b3 = ROL64(st[18] ^ d3, 21);
                b4 = ROL64(st[24] ^ d4, 14);
                b5 = ROL64(st[3] ^ d3, 28);
                b6 = ROL64(st[9] ^ d4, 20);
                b7 = ROL64(st[10] ^ d0, 3);
                b8 = ROL64(st[16] ^ d1, 45);
                b9 = ROL64(st[22] ^ d2, 61);
                b10 = ROL64(st[1] ^ d1, 1);
                b11 = ROL64(st[7] ^ d2, 6);
                b12 = ROL64(st[13] ^ d3, 25);
                b13 = ROL64(st[19] ^ d4, 8);
                b14 = ROL64(st[20] ^ d0, 18);
                b15 = ROL64(st[4] ^ d4, 27);
                b16 = ROL64(st[5] ^ d0, 36);
                b17 = ROL64(st[11] ^ d1, 10);
                b18 = ROL64(st[17] ^ d2, 15);
                b19 = ROL64(st[23] ^ d3, 56);
                b20 = ROL64(st[2] ^ d2, 62);
                b21 = ROL64(st[8] ^ d3, 55);
                b22 = ROL64(st[14] ^ d4, 39);
                b23 = ROL64(st[15] ^ d0, 41);
                b24 = ROL64(st[21] ^ d1, 2);

                /* chi */
                st[0] = b0 ^ (~b1 & b2);
                st[1] = b1 ^ (~b2 & b3);
                st[2] = b2 ^ (~b3 & b4);
                st[3] = b3 ^ (~b4 & b0);
                st[4] = b4 ^ (~b0 & b1);
                st[5] = b5 ^ (~b6 & b7);
                st[6] = b6 ^ (~b7 & b8);
                st[7] = b7 ^ (~b8 & b9);
                st[8] = b8 ^ (~b9 & b5);
                st[9] = b9 ^ (~b5 & b6);
                st[10] = b10 ^ (~b11 & b12);
                st[11] = b11 ^ (~b12 & b13);
                st[12] = b12 ^ (~b13 & b14);
                st[13] = b13 ^ (~b14 & b10);
                st[14] = b14 ^ (~b10 & b11);
                st[15] = b15 ^ (~b16 & b17);
                st[16] = b16 ^ (~b17 & b18);
                st[17] = b17 ^ (~b18 & b19);
                st[18] = b18 ^ (~b19 & b15);
                st[19] = b19 ^ (~b15 & b16);
                st[20] = b20 ^ (~b21 & b22);
                st[21] = b21 ^ (~b22 & b23);
                st[22] = b22 ^ (~b23 & b24);
                st[23] = b23 ^ (~b24 & b20);
                st[24] = b24 ^ (~b20 & b21);

                /* iota */
                st[0] ^= keccak_round_constants[round];
        }
}

static uint64_t load64_le(const uint8_t *p)
{
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
               (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
               (uint64_t)p[7] << 56;
}

static void store64_le(uint8_t *p, uint64_t v)
{
        int i;

        for (i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* XORs byte `b` into byte position `pos` of the state's rate part. */
static void xor_byte(uint64_t st[25], size_t pos, uint8_t b)
{
        st[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

/* Absorbs whole blocks straight from `p`; returns the bytes consumed. */
static size_t absorb_blocks(uint64_t st[25], const uint8_t *p, size_t len)
{
        size_t done = 0;
        int i;

        while (len - done >= KECCAK256_RATE) {
                for (i = 0; i < KECCAK256_RATE / 8; i++)
                        st[i] ^= load64_le(p + done + 8 * (size_t)i);
                keccak_f1600(st);
                done += KECCAK256_RATE;
        }
        return done;
}

static void squeeze(const uint64_t st[25], uint8_t out[KECCAK256_BYTES])
{
        int i;

        for (i = 0; i < KECCAK256_BYTES / 8; i++)
                store64_le(out + 8 * (size_t)i, st[i]);
}

void keccak256_init(struct keccak256_ctx *ctx)
{
        memset(ctx, 0, sizeof *ctx);
}

void keccak256_update(struct keccak256_ctx *ctx, const void *data, size_t len)
{
        const uint8_t *p = data;

        /* Finish a partial block byte by byte. */
        while (len > 0 && ctx->pos != 0) {
                xor_byte(ctx->state, ctx->pos++, *p++);
                len--;
                if (ctx->pos == KECCAK256_RATE) {
                        keccak_f1600(ctx->state);
                        ctx->pos = 0;
                }
        }
        if (len == 0)
                return;
        /* Whole blocks, then the tail. */
        {
                size_t done = absorb_blocks(ctx->state, p, len);

                for (; done < len; done++)
                        xor_byte(ctx->state, ctx->pos++, p[done]);
        }
}

void keccak256_final(struct keccak256_ctx *ctx, uint8_t out[KECCAK256_BYTES])
{
        xor_byte(ctx->state, ctx->pos, 0x01);
        xor_byte(ctx->state, KECCAK256_RATE - 1, 0x80);
        keccak_f1600(ctx->state);
        squeeze(ctx->state, out);
}

void keccak256(const void *data, size_t len, uint8_t out[KECCAK256_BYTES])
{
        uint64_t st[25] = {0};
        const uint8_t *p = data;
        size_t done = len > 0 ? absorb_blocks(st, p, len) : 0;
        size_t rest = len - done;
        size_t lanes = rest / 8, i;

        /* The last partial block: whole lanes, then the odd bytes, then padding. */
        for (i = 0; i < lanes; i++)
                st[i] ^= load64_le(p + done + 8 * i);
        for (i = lanes * 8; i < rest; i++)
                xor_byte(st, i, p[done + i]);
        xor_byte(st, rest, 0x01);
        xor_byte(st, KECCAK256_RATE - 1, 0x80);
        keccak_f1600(st);
        squeeze(st, out);
}
