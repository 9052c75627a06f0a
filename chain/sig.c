#include "sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <secp256k1.h>
#include <secp256k1_preallocated.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "keccak.h"
#include "rwerr.h"

/* n / 2 for the secp256k1 group order n: the largest s ECDSA.recover accepts. */
static const uint8_t sig_half_order[32] = {
        0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
        0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

static const char sig_personal_prefix[] = "\x19"
                                          "Ethereum Signed Message:\n";

static once_flag sig_selftest_once = ONCE_FLAG_INIT;

static int sig_is_zero(const uint8_t *p, size_t len)
{
        uint8_t acc = 0;
        size_t i;

        for (i = 0; i < len; i++)
                acc |= p[i];
        return acc == 0;
}

/* secp256k1_context_static is only trusted after the library's self test. */
static const secp256k1_context *sig_static_ctx(void)
{
        call_once(&sig_selftest_once, secp256k1_selftest);
        return secp256k1_context_static;
}

/*
 * Creates a randomized context for one operation with a secret key, in memory
 * allocated here and returned in *mem_out; sig_ctx_close destroys, wipes and
 * frees it. Returns NULL with the error code in *rc on failure.
 */
static secp256k1_context *sig_ctx_new(void **mem_out, int *rc, struct rwerr *err)
{
        uint8_t seed[32];
        secp256k1_context *ctx;
        size_t size;
        void *mem;

        if (sodium_init() < 0) {
                *rc = rwerr_set(err, RW_ERR_IO, "libsodium failed to initialise its random source");
                return NULL;
        }
        size = secp256k1_context_preallocated_size(SECP256K1_CONTEXT_NONE);
        if ((mem = malloc(size)) == NULL) {
                *rc = rwerr_set(err, RW_ERR_NOMEM,
                                "cannot allocate a secp256k1 signing context (%zu bytes)", size);
                return NULL;
        }
        if ((ctx = secp256k1_context_preallocated_create(mem, SECP256K1_CONTEXT_NONE)) == NULL) {
                free(mem);
                *rc = rwerr_set(err, RW_ERR_INVALID, "cannot create a secp256k1 signing context");
                return NULL;
        }
        randombytes_buf(seed, sizeof seed);
        if (!secp256k1_context_randomize(ctx, seed)) {
                sodium_memzero(seed, sizeof seed);
                secp256k1_context_preallocated_destroy(ctx);
                sodium_memzero(mem, size);
                free(mem);
                *rc = rwerr_set(err, RW_ERR_INVALID, "cannot randomize the secp256k1 context");
                return NULL;
        }
        sodium_memzero(seed, sizeof seed);
        *mem_out = mem;
        return ctx;
}

static void sig_ctx_close(secp256k1_context *ctx, void *mem)
{
        secp256k1_context_preallocated_destroy(ctx);
        /* The context holds the blinding derived from the seed. */
        sodium_memzero(mem, secp256k1_context_preallocated_size(SECP256K1_CONTEXT_NONE));
        free(mem);
}

static int sig_check_seckey(const uint8_t seckey[SIG_SECKEY_BYTES], struct rwerr *err)
{
        if (!secp256k1_ec_seckey_verify(sig_static_ctx(), seckey))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "secret key is zero or not below the secp256k1 group order");
        return RW_OK;
}

/* Serializes `pub` uncompressed and hashes x || y into an address. */
static void sig_address_from_point(const secp256k1_pubkey *pub, uint8_t addr[SIG_ADDRESS_BYTES])
{
        uint8_t ser[1 + SIG_PUBKEY_BYTES];
        size_t serlen = sizeof ser;

        (void)secp256k1_ec_pubkey_serialize(sig_static_ctx(), ser, &serlen, pub,
                                            SECP256K1_EC_UNCOMPRESSED);
        sig_address_from_pubkey(ser + 1, addr);
}

void sig_personal_hash(const uint8_t *msg, size_t len, uint8_t out[SIG_HASH_BYTES])
{
        struct keccak256_ctx kc;
        char digits[24]; /* SIZE_MAX has at most 20 decimal digits */
        int n = snprintf(digits, sizeof digits, "%zu", len);

        keccak256_init(&kc);
        keccak256_update(&kc, sig_personal_prefix, sizeof sig_personal_prefix - 1);
        keccak256_update(&kc, digits, (size_t)n);
        if (len > 0)
                keccak256_update(&kc, msg, len);
        keccak256_final(&kc, out);
}

void sig_address_from_pubkey(const uint8_t pub[SIG_PUBKEY_BYTES], uint8_t addr[SIG_ADDRESS_BYTES])
{
        uint8_t h[KECCAK256_BYTES];

        keccak256(pub, SIG_PUBKEY_BYTES, h);
        memcpy(addr, h + KECCAK256_BYTES - SIG_ADDRESS_BYTES, SIG_ADDRESS_BYTES);
}

int sig_recover(const uint8_t hash[SIG_HASH_BYTES], const uint8_t sig[SIG_BYTES],
                uint8_t addr[SIG_ADDRESS_BYTES], struct rwerr *err)
{
        const secp256k1_context *ctx = sig_static_ctx();
        secp256k1_ecdsa_recoverable_signature rsig;
        secp256k1_pubkey pub;
        const uint8_t *r = sig, *s = sig + 32;
        unsigned v = sig[64];

        if (v != 27 && v != 28)
                return rwerr_set(err, RW_ERR_INVALID, "signature v is %u, expected 27 or 28", v);
        if (sig_is_zero(r, 32))
                return rwerr_set(err, RW_ERR_INVALID, "signature r is zero");
        if (sig_is_zero(s, 32))
                return rwerr_set(err, RW_ERR_INVALID, "signature s is zero");
        if (memcmp(s, sig_half_order, 32) > 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "signature s is above n/2 (high-s, a malleable signature)");
        if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, sig, (int)v - 27))
                return rwerr_set(err, RW_ERR_INVALID,
                                 "signature r is not below the secp256k1 group order");
        if (!secp256k1_ecdsa_recover(ctx, &pub, &rsig, hash))
                return rwerr_set(
                        err, RW_ERR_INVALID,
                        "signature does not recover to a public key (r is not a curve point)");
        sig_address_from_point(&pub, addr);
        return RW_OK;
}

int sig_recover_personal(const uint8_t *msg, size_t len, const uint8_t sig[SIG_BYTES],
                         uint8_t addr[SIG_ADDRESS_BYTES], struct rwerr *err)
{
        uint8_t hash[SIG_HASH_BYTES];

        sig_personal_hash(msg, len, hash);
        return sig_recover(hash, sig, addr, err);
}

int sig_sign_hash(const uint8_t seckey[SIG_SECKEY_BYTES], const uint8_t hash[SIG_HASH_BYTES],
                  uint8_t sig[SIG_BYTES], struct rwerr *err)
{
        secp256k1_ecdsa_recoverable_signature rsig;
        secp256k1_context *ctx;
        void *mem = NULL;
        uint8_t rs[64];
        int recid = 0;
        int rc;

        if ((rc = sig_check_seckey(seckey, err)) != RW_OK)
                return rc;
        if ((ctx = sig_ctx_new(&mem, &rc, err)) == NULL)
                return rc;
        /* NULL nonce function and data: RFC 6979, deterministic. */
        if (!secp256k1_ecdsa_sign_recoverable(ctx, &rsig, hash, seckey, NULL, NULL)) {
                rc = rwerr_set(err, RW_ERR_INVALID, "secp256k1 refused to sign with this key");
                goto out;
        }
        (void)secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, &recid, &rsig);
        memcpy(sig, rs, sizeof rs);
        sig[64] = (uint8_t)(27 + recid);
        rc = RW_OK;
out:
        sig_ctx_close(ctx, mem);
        return rc;
}

int sig_sign_personal(const uint8_t seckey[SIG_SECKEY_BYTES], const uint8_t *msg, size_t len,
                      uint8_t sig[SIG_BYTES], struct rwerr *err)
{
        uint8_t hash[SIG_HASH_BYTES];

        sig_personal_hash(msg, len, hash);
        return sig_sign_hash(seckey, hash, sig, err);
}

int sig_address_from_seckey(const uint8_t seckey[SIG_SECKEY_BYTES], uint8_t addr[SIG_ADDRESS_BYTES],
                            struct rwerr *err)
{
        secp256k1_context *ctx;
        secp256k1_pubkey pub;
        void *mem = NULL;
        int rc;

        if ((rc = sig_check_seckey(seckey, err)) != RW_OK)
                return rc;
        if ((ctx = sig_ctx_new(&mem, &rc, err)) == NULL)
                return rc;
        if (!secp256k1_ec_pubkey_create(ctx, &pub, seckey)) {
                rc = rwerr_set(err, RW_ERR_INVALID, "secp256k1 refused to derive a public key");
                goto out;
        }
        sig_address_from_point(&pub, addr);
        rc = RW_OK;
out:
        sig_ctx_close(ctx, mem);
        return rc;
}
