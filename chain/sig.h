/*
 * sig: secp256k1 ECDSA signatures the way Ethereum uses them.
 *
 * A signature is 65 bytes r || s || v with v 27 or 28 (recovery id + 27), the
 * form `cast wallet sign`, eth_sign and OpenZeppelin's ECDSA.recover use.
 * Recovery accepts exactly what ECDSA.recover accepts: v 27 or 28, r and s
 * non-zero, s in the lower half of the curve order; anything else is an error
 * whose message names the field. An address is the last 20 bytes of
 * keccak256 of the 64-byte uncompressed public key (no 0x04 prefix).
 *
 * Contexts and threads: recovery needs no secret, so it runs on libsecp256k1's
 * read-only secp256k1_context_static (after secp256k1_selftest, run once per
 * process through call_once). Functions that use a secret key (signing,
 * address from secret key) create a context of their own for the call in
 * memory they allocate, randomize it with 32 bytes from libsodium's
 * randombytes_buf (side-channel blinding), and wipe and free it before
 * returning. No function here keeps mutable global state, so every function
 * is safe to call from several threads at once; the price is one extra
 * base-point multiplication per signature, which is nothing at the rate the
 * relayer signs batch roots.
 *
 * Signing uses RFC 6979 deterministic nonces and always produces low-s
 * signatures, so the same key and message give the same bytes as cast, ethers
 * or any other RFC 6979 signer.
 *
 * Nothing here allocates memory the caller must free. Secret keys are read,
 * never copied out or formatted into an error message.
 */
#ifndef RELAYWATCH_SIG_H
#define RELAYWATCH_SIG_H

#include <stddef.h>
#include <stdint.h>

struct rwerr;

#define SIG_BYTES 65 /* r || s || v */
#define SIG_HASH_BYTES 32
#define SIG_SECKEY_BYTES 32
#define SIG_PUBKEY_BYTES 64 /* x || y, without the 0x04 prefix */
#define SIG_ADDRESS_BYTES 20

/*
 * Writes the EIP-191 personal-message hash of msg[0..len) to `out`:
 * keccak256("\x19Ethereum Signed Message:\n" || decimal len || msg).
 * `msg` may be NULL when len is 0. Cannot fail.
 */
void sig_personal_hash(const uint8_t *msg, size_t len, uint8_t out[SIG_HASH_BYTES]);

/* Writes the address of an uncompressed public key (x || y). Cannot fail. */
void sig_address_from_pubkey(const uint8_t pub[SIG_PUBKEY_BYTES], uint8_t addr[SIG_ADDRESS_BYTES]);

/*
 * Recovers the signer's address from a 32-byte hash and a 65-byte signature
 * r || s || v. Returns 0, or RW_ERR_INVALID when v is not 27 or 28, r or s is
 * zero, r is not below the curve order, s is above n/2 (high-s, the malleable
 * twin that ECDSA.recover rejects), or no public key matches; the message
 * says which. `addr` is untouched on failure.
 */
int sig_recover(const uint8_t hash[SIG_HASH_BYTES], const uint8_t sig[SIG_BYTES],
                uint8_t addr[SIG_ADDRESS_BYTES], struct rwerr *err)
        __attribute__((warn_unused_result));

/* sig_recover of sig_personal_hash(msg, len): the signer of a personal message. */
int sig_recover_personal(const uint8_t *msg, size_t len, const uint8_t sig[SIG_BYTES],
                         uint8_t addr[SIG_ADDRESS_BYTES], struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Signs a 32-byte hash as is (cast wallet sign --no-hash) and writes
 * r || s || v, v 27 or 28, s low, to `sig`. Returns 0, RW_ERR_INVALID when
 * the secret key is zero or not below the curve order, RW_ERR_NOMEM when the
 * signing context cannot be allocated, RW_ERR_IO when the system random
 * source fails. `sig` is untouched on failure.
 */
int sig_sign_hash(const uint8_t seckey[SIG_SECKEY_BYTES], const uint8_t hash[SIG_HASH_BYTES],
                  uint8_t sig[SIG_BYTES], struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Signs the EIP-191 personal message msg[0..len) (cast wallet sign MESSAGE,
 * eth_sign); errors as sig_sign_hash. `msg` may be NULL when len is 0.
 */
int sig_sign_personal(const uint8_t seckey[SIG_SECKEY_BYTES], const uint8_t *msg, size_t len,
                      uint8_t sig[SIG_BYTES], struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Writes the address of a secret key (cast wallet address --private-key).
 * Errors as sig_sign_hash; `addr` is untouched on failure.
 */
int sig_address_from_seckey(const uint8_t seckey[SIG_SECKEY_BYTES], uint8_t addr[SIG_ADDRESS_BYTES],
                            struct rwerr *err) __attribute__((warn_unused_result));

#endif
