/*
 * Unit tests for chain/sig: EIP-191 hashing, signing and recovery, checked
 * against signatures made by Foundry's cast 1.7.1 (node_modules/.bin/cast).
 *
 * Keys are anvil's well-known development accounts 0 and 1. The 32-byte
 * "root" is `cast keccak "relaywatch batch 1"`
 * = 0x792271480eb630d188e6f391925584f452092cf6bd0e0cd4dadf0e946f6dacaf.
 * `cast wallet sign` decodes a 0x-prefixed MESSAGE from hex and signs the
 * resulting bytes as a personal message (so the root is signed as 32 raw
 * bytes, prefix "\x19Ethereum Signed Message:\n32"); with --no-hash it signs
 * the 32 bytes as the hash itself, without the prefix. (`cast hash-message`
 * does not decode: it hashes a 0x-prefixed argument as text.)
 *
 * The commands quoted above each literal are shell commands with
 * K0, K1, ROOT and LONG_MSG set to the values #defined below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "hex.h"
#include "rwerr.h"
#include "sig.h"

#define K0 "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define K1 "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#define ADDR0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#define ADDR1 "0x70997970C51812dc3A010C7d01b50e0d17dC79C8"
#define ROOT "0x792271480eb630d188e6f391925584f452092cf6bd0e0cd4dadf0e946f6dacaf"

/* 179 bytes: longer than one 136-byte Keccak block. */
#define LONG_MSG                                                                                   \
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy "    \
        "dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the "    \
        "lazy dog."

enum msg_kind { MSG_TEXT, MSG_ROOT_BYTES };

struct vector {
        const char *seckey;
        const char *address;
        enum msg_kind kind;
        const char *text; /* MSG_TEXT */
        const char *sig;
};

static const struct vector vectors[] = {
        /* cast wallet sign --private-key $K0 "hello" */
        {K0, ADDR0, MSG_TEXT, "hello",
         "0xf16ea9a3478698f695fd1401bfe27e9e4a7e8e3da94aa72b021125e31fa899cc"
         "573c48ea3fe1d4ab61a9db10c19032026e3ed2dbccba5a178235ac27f94504311c"},
        /* cast wallet sign --private-key $K0 "" */
        {K0, ADDR0, MSG_TEXT, "",
         "0xc1977b761f1dd36c29795783460d241885c8e7f9d962dbe7bba2753fd94e89b4"
         "44a1cd9ed855dd09afa3b73f7c2bd097ec9abc2d2775d737505a02d3f0cafa591b"},
        /* cast wallet sign --private-key $K0 $ROOT */
        {K0, ADDR0, MSG_ROOT_BYTES, NULL,
         "0xccd3192353f00163d60c17a9133767b5b4f3517acb15c0290f9f0fe46fe0f0d5"
         "0130ae86a7663ca5243331662c8e4ba41674ebaf8a388f667fd9908531f450281c"},
        /* cast wallet sign --private-key $K0 "$LONG_MSG" */
        {K0, ADDR0, MSG_TEXT, LONG_MSG,
         "0xe155aa8deb62f9d11e08daf15bd3677315db26c51292cc1aabc31b72c01a2d9a"
         "5f141bc5f3e5619ec4509d1cb6cc7eea484d8aa7b886cc865f1d0bd9bd450bbf1b"},
        /* cast wallet sign --private-key $K1 "hello" */
        {K1, ADDR1, MSG_TEXT, "hello",
         "0x76930d64d2e5eb4b3f4572ce806eda50e1e2329d51d9ca5a713a9befcb9d2088"
         "3e3d4885c3c5eaf775fc8c9fcf4882a28b582b427bc0270565f3294d935549221b"},
        /* cast wallet sign --private-key $K1 "" */
        {K1, ADDR1, MSG_TEXT, "",
         "0xc18322a726b4f865da04323fe77b713df8286e67ae6f50fe10aa54519fddaa23"
         "6c14dadd6b82cedfd527bf3c20dac250a004e3a614095f85c106068f46b3ad431c"},
        /* cast wallet sign --private-key $K1 $ROOT */
        {K1, ADDR1, MSG_ROOT_BYTES, NULL,
         "0x4c0df88dced5feb9527922675c0949674dfae4963c682182ca9e3fa4f6e06168"
         "04bd327f95f15a493cc16b2f3d1f3e71b446a4ed484629c2f7427c81eea197941b"},
        /* cast wallet sign --private-key $K1 "$LONG_MSG" */
        {K1, ADDR1, MSG_TEXT, LONG_MSG,
         "0x5ccb30829e29cc208f5d3698ba57c62415dc797e7d8491d238cf0dd368358dd8"
         "1e533a9f56eeaf56e6326961d7a69e541b8b107a5f8f90a415a424f9a0e2d9c11c"},
};

/* cast wallet sign --private-key $K0 --no-hash $ROOT */
static const char no_hash_sig0[] =
        "0x1771c63763049909941250b55f1faa29d56d69d4493d53bb36bc245f30e82cd7"
        "4a357f512c4d353738ab5fbf3f4f58bbb5383ddde529206d6fda74438959a84b1b";
/* cast wallet sign --private-key $K1 --no-hash $ROOT */
static const char no_hash_sig1[] =
        "0xc48297ad1c9ebdf5f9c8246d87ee8107fb4d52955737be371bf946feb4939035"
        "3c725143aa736d37e915f14148c6aa1c5afc94dbb43206ed2ba7422f6f0c5caf1c";

/* The secp256k1 group order n, big-endian. */
static const uint8_t group_order[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static void unhex(const char *s, uint8_t *out, size_t len)
{
        struct rwerr err;

        if (hex_decode(s, strlen(s), out, len, &err) != RW_OK)
                fail_msg("test literal %s: %s", s, err.msg);
}

/* The message bytes of a vector; `buf` holds the decoded root. */
static const uint8_t *vector_msg(const struct vector *v, uint8_t buf[32], size_t *len)
{
        if (v->kind == MSG_ROOT_BYTES) {
                unhex(ROOT, buf, 32);
                *len = 32;
                return buf;
        }
        *len = strlen(v->text);
        return (const uint8_t *)v->text;
}

/* out = a - b over 32-byte big-endian numbers (a >= b). */
static void sub256(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
        int i, borrow = 0;

        for (i = 31; i >= 0; i--) {
                int d = (int)a[i] - (int)b[i] - borrow;

                borrow = d < 0;
                out[i] = (uint8_t)(d + (borrow ? 256 : 0));
        }
}

static void personal_hash_matches_cast(void **state)
{
        uint8_t root[32], h[32], want[32];

        (void)state;
        /* cast hash-message "hello" */
        unhex("0x50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750", want, 32);
        sig_personal_hash((const uint8_t *)"hello", 5, h);
        assert_memory_equal(h, want, 32);
        /* cast hash-message "" */
        unhex("0x5f35dce98ba4fba25530a026ed80b2cecdaa31091ba4958b99b52ea1d068adad", want, 32);
        sig_personal_hash(NULL, 0, h);
        assert_memory_equal(h, want, 32);
        /*
         * The root as 32 raw bytes, as `cast wallet sign ROOT` signs it:
         * cast keccak 0x$(printf '\x19Ethereum Signed Message:\n32' | xxd -p)<ROOT digits>
         */
        unhex("0x2d9a389a7e66894ce63701301304d1ed76907e6156beac4f260ed76e3a245255", want, 32);
        unhex(ROOT, root, 32);
        sig_personal_hash(root, 32, h);
        assert_memory_equal(h, want, 32);
        /*
         * Unlike `cast wallet sign`, `cast hash-message ROOT` hashes the 66
         * characters of the text "0x7922...", not the decoded bytes.
         */
        unhex("0x687de01f276e16d381a168962616f3237a2b4b8ae07e52edba0230260aeaa743", want, 32);
        sig_personal_hash((const uint8_t *)ROOT, strlen(ROOT), h);
        assert_memory_equal(h, want, 32);
}

static void addresses_from_keys_match_cast(void **state)
{
        uint8_t key[32], addr[20], want[20];
        struct rwerr err;

        (void)state;
        unhex(K0, key, 32);
        unhex(ADDR0, want, 20);
        assert_int_equal(sig_address_from_seckey(key, addr, &err), RW_OK);
        assert_memory_equal(addr, want, 20);
        unhex(K1, key, 32);
        unhex(ADDR1, want, 20);
        assert_int_equal(sig_address_from_seckey(key, addr, &err), RW_OK);
        assert_memory_equal(addr, want, 20);
}

static void recovers_cast_signatures(void **state)
{
        size_t i;

        (void)state;
        for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
                const struct vector *v = &vectors[i];
                uint8_t sig[SIG_BYTES], addr[20], want[20], buf[32];
                size_t len;
                const uint8_t *msg = vector_msg(v, buf, &len);
                struct rwerr err;

                unhex(v->sig, sig, sizeof sig);
                unhex(v->address, want, sizeof want);
                if (sig_recover_personal(msg, len, sig, addr, &err) != RW_OK)
                        fail_msg("vector %zu: %s", i, err.msg);
                assert_memory_equal(addr, want, sizeof want);
        }
}

static void signs_like_cast_byte_for_byte(void **state)
{
        size_t i;

        (void)state;
        for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
                const struct vector *v = &vectors[i];
                uint8_t key[32], sig[SIG_BYTES], want[SIG_BYTES], buf[32];
                size_t len;
                const uint8_t *msg = vector_msg(v, buf, &len);
                struct rwerr err;

                unhex(v->seckey, key, sizeof key);
                unhex(v->sig, want, sizeof want);
                assert_int_equal(sig_sign_personal(key, msg, len, sig, &err), RW_OK);
                if (memcmp(sig, want, sizeof sig) != 0)
                        fail_msg("vector %zu: our signature differs from cast's", i);
        }
}

static void signs_hash_like_cast_no_hash(void **state)
{
        const char *keys[2] = {K0, K1}, *addrs[2] = {ADDR0, ADDR1};
        const char *sigs[2] = {no_hash_sig0, no_hash_sig1};
        size_t i;

        (void)state;
        for (i = 0; i < 2; i++) {
                uint8_t key[32], root[32], sig[SIG_BYTES], want[SIG_BYTES], addr[20], wa[20];
                struct rwerr err;

                unhex(keys[i], key, sizeof key);
                unhex(ROOT, root, sizeof root);
                unhex(sigs[i], want, sizeof want);
                unhex(addrs[i], wa, sizeof wa);
                assert_int_equal(sig_sign_hash(key, root, sig, &err), RW_OK);
                assert_memory_equal(sig, want, sizeof sig);
                assert_int_equal(sig_recover(root, want, addr, &err), RW_OK);
                assert_memory_equal(addr, wa, sizeof wa);
        }
}

/* A tampered input must not recover to the signer: another address, or an error. */
static void assert_not_signer(const uint8_t *msg, size_t len, const uint8_t sig[SIG_BYTES],
                              const uint8_t signer[20])
{
        uint8_t addr[20];
        struct rwerr err;

        if (sig_recover_personal(msg, len, sig, addr, &err) == RW_OK)
                assert_memory_not_equal(addr, signer, 20);
}

static void tampering_changes_the_signer(void **state)
{
        size_t i, bit;

        (void)state;
        for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
                const struct vector *v = &vectors[i];
                uint8_t sig[SIG_BYTES], signer[20], buf[32], copy[256];
                size_t len;
                const uint8_t *msg = vector_msg(v, buf, &len);

                unhex(v->sig, sig, sizeof sig);
                unhex(v->address, signer, sizeof signer);
                /* A different message: one bit flipped, one byte more. */
                assert_true(len + 1 <= sizeof copy);
                memcpy(copy, msg, len);
                if (len > 0) {
                        copy[len / 2] ^= 0x01;
                        assert_not_signer(copy, len, sig, signer);
                        copy[len / 2] ^= 0x01;
                }
                copy[len] = '!';
                assert_not_signer(copy, len + 1, sig, signer);
                /* One bit of r, then of s, flipped; then the other recovery id. */
                for (bit = 0; bit < 64; bit += 13) {
                        sig[bit] ^= 0x10;
                        assert_not_signer(msg, len, sig, signer);
                        sig[bit] ^= 0x10;
                }
                sig[64] = sig[64] == 27 ? 28 : 27;
                assert_not_signer(msg, len, sig, signer);
        }
}

static void rejects_v_other_than_27_or_28(void **state)
{
        static const uint8_t bad_v[] = {0, 1, 29, 26, 255};
        uint8_t sig[SIG_BYTES], addr[20];
        struct rwerr err;
        size_t i;

        (void)state;
        unhex(vectors[0].sig, sig, sizeof sig);
        for (i = 0; i < sizeof bad_v; i++) {
                char want[64];

                sig[64] = bad_v[i];
                memset(addr, 0xaa, sizeof addr);
                assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                                 RW_ERR_INVALID);
                (void)snprintf(want, sizeof want, "signature v is %u, expected 27 or 28",
                               (unsigned)bad_v[i]);
                assert_string_equal(err.msg, want);
                assert_int_equal(addr[0], 0xaa);
        }
}

static void rejects_the_high_s_twin(void **state)
{
        uint8_t sig[SIG_BYTES], twin[SIG_BYTES], addr[20], signer[20], hash[32];
        uint8_t ser[65];
        size_t serlen = sizeof ser;
        secp256k1_ecdsa_recoverable_signature rsig;
        secp256k1_pubkey pub;
        struct rwerr err;

        (void)state;
        unhex(vectors[0].sig, sig, sizeof sig);
        unhex(ADDR0, signer, sizeof signer);
        /* s' = n - s with the other recovery id is the same signature, mirrored. */
        memcpy(twin, sig, 32);
        sub256(group_order, sig + 32, twin + 32);
        twin[64] = sig[64] == 27 ? 28 : 27;
        memset(addr, 0xaa, sizeof addr);
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, twin, addr, &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "high-s"));
        assert_int_equal(addr[0], 0xaa);

        /* Plain ecrecover (no s check) accepts the twin and finds the signer. */
        sig_personal_hash((const uint8_t *)"hello", 5, hash);
        assert_true(secp256k1_ecdsa_recoverable_signature_parse_compact(
                secp256k1_context_static, &rsig, twin, twin[64] - 27));
        assert_true(secp256k1_ecdsa_recover(secp256k1_context_static, &pub, &rsig, hash));
        assert_true(secp256k1_ec_pubkey_serialize(secp256k1_context_static, ser, &serlen, &pub,
                                                  SECP256K1_EC_UNCOMPRESSED));
        sig_address_from_pubkey(ser + 1, addr);
        assert_memory_equal(addr, signer, sizeof signer);
}

static void s_boundary_is_n_over_2(void **state)
{
        uint8_t sig[SIG_BYTES], addr[20];
        struct rwerr err;

        (void)state;
        unhex(vectors[0].sig, sig, sizeof sig);
        /* s = n/2 is the largest accepted value ... */
        unhex("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", sig + 32, 32);
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err), RW_OK);
        /* ... n/2 + 1 is high-s. */
        sig[63] = 0xa1;
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "signature s is above n/2 (high-s, a malleable signature)");
        /* s = n and above: high-s as well. */
        memcpy(sig + 32, group_order, 32);
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "high-s"));
}

static void rejects_zero_and_out_of_range_r_and_s(void **state)
{
        uint8_t sig[SIG_BYTES], good[SIG_BYTES], addr[20];
        struct rwerr err;

        (void)state;
        unhex(vectors[0].sig, good, sizeof good);
        memset(addr, 0xaa, sizeof addr);

        memcpy(sig, good, sizeof sig);
        memset(sig, 0, 32);
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "signature r is zero");

        memcpy(sig, good, sizeof sig);
        memset(sig + 32, 0, 32);
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "signature s is zero");

        memcpy(sig, good, sizeof sig);
        memcpy(sig, group_order, 32);
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                         RW_ERR_INVALID);
        assert_string_equal(err.msg, "signature r is not below the secp256k1 group order");

        /* r = 5: x^3 + 7 has no square root mod p, so no point has x = 5. */
        memcpy(sig, good, sizeof sig);
        memset(sig, 0, 32);
        sig[31] = 5;
        assert_int_equal(sig_recover_personal((const uint8_t *)"hello", 5, sig, addr, &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "does not recover to a public key"));
        assert_int_equal(addr[0], 0xaa);
}

static void rejects_invalid_secret_keys(void **state)
{
        uint8_t key[32], sig[SIG_BYTES], addr[20], hash[32] = {1};
        struct rwerr err;
        int k;

        (void)state;
        memset(sig, 0xaa, sizeof sig);
        memset(addr, 0xaa, sizeof addr);
        for (k = 0; k < 3; k++) {
                if (k == 0)
                        memset(key, 0, sizeof key); /* zero */
                else if (k == 1)
                        memcpy(key, group_order, sizeof key); /* n */
                else
                        memset(key, 0xff, sizeof key); /* above n */
                assert_int_equal(sig_sign_personal(key, (const uint8_t *)"x", 1, sig, &err),
                                 RW_ERR_INVALID);
                assert_string_equal(err.msg,
                                    "secret key is zero or not below the secp256k1 group order");
                assert_int_equal(sig_sign_hash(key, hash, sig, &err), RW_ERR_INVALID);
                assert_int_equal(sig_address_from_seckey(key, addr, &err), RW_ERR_INVALID);
                assert_int_equal(sig[0], 0xaa);
                assert_int_equal(addr[0], 0xaa);
        }
        /* n - 1 is the largest valid key. */
        sub256(group_order, (const uint8_t[32]){[31] = 1}, key);
        assert_int_equal(sig_address_from_seckey(key, addr, NULL), RW_OK);
        assert_int_equal(sig_sign_hash(key, hash, sig, NULL), RW_OK);
}

static void own_signatures_round_trip(void **state)
{
        uint8_t key[32], sig[SIG_BYTES], addr[20], signer[20], msg[100];
        struct rwerr err;
        size_t len;

        (void)state;
        unhex(K1, key, sizeof key);
        assert_int_equal(sig_address_from_seckey(key, signer, &err), RW_OK);
        for (len = 0; len < sizeof msg; len++) {
                msg[len] = (uint8_t)(len * 37 + 11);
                assert_int_equal(sig_sign_personal(key, msg, len, sig, &err), RW_OK);
                assert_true(sig[64] == 27 || sig[64] == 28);
                assert_int_equal(sig_recover_personal(msg, len, sig, addr, &err), RW_OK);
                assert_memory_equal(addr, signer, sizeof signer);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(personal_hash_matches_cast),
                cmocka_unit_test(addresses_from_keys_match_cast),
                cmocka_unit_test(recovers_cast_signatures),
                cmocka_unit_test(signs_like_cast_byte_for_byte),
                cmocka_unit_test(signs_hash_like_cast_no_hash),
                cmocka_unit_test(tampering_changes_the_signer),
                cmocka_unit_test(rejects_v_other_than_27_or_28),
                cmocka_unit_test(rejects_the_high_s_twin),
                cmocka_unit_test(s_boundary_is_n_over_2),
                cmocka_unit_test(rejects_zero_and_out_of_range_r_and_s),
                cmocka_unit_test(rejects_invalid_secret_keys),
                cmocka_unit_test(own_signatures_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
