/*
 * abi: the Solidity ABI for the static types relaywatch reads and writes.
 *
 * Addresses, function selectors and event topics; calldata for eth_call,
 * built in a fixed buffer on the caller's stack; eth_call results decoded
 * strictly from their hex text (one word is exactly 32 bytes, an address
 * word has its top 12 bytes zero, a bool is 0 or 1); and one eth_getLogs
 * entry checked field by field into a fixed-size struct.
 *
 * Nothing here allocates: every struct lives with the caller and needs no
 * freeing. Functions that can fail return 0 or a negative RW_ERR_* code, fill
 * the caller's `struct rwerr` and leave their outputs untouched on failure.
 * Hex input is "0x" (or "0X") and digits in either case; output is lowercase.
 */
#ifndef RELAYWATCH_ABI_H
#define RELAYWATCH_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct rwerr;
struct u256;

#define ABI_ADDRESS_BYTES 20
#define ABI_WORD_BYTES 32
#define ABI_SELECTOR_BYTES 4
#define ABI_ADDRESS_TEXT_SIZE 43 /* "0x", 40 digits, NUL */

/*
 * Parses "0x" and exactly 40 hex digits in either case into 20 bytes. The
 * EIP-55 mixed-case checksum is not enforced (a lowercase address is as
 * valid as a checksummed one). Reads exactly `len` characters of `s`.
 */
int abi_address_parse(const char *s, size_t len, uint8_t out[ABI_ADDRESS_BYTES], struct rwerr *err)
        __attribute__((warn_unused_result));

/* Writes "0x" and 40 lowercase digits and a NUL into `out`. */
void abi_address_format(const uint8_t in[ABI_ADDRESS_BYTES], char out[ABI_ADDRESS_TEXT_SIZE]);

/*
 * The first 4 bytes of keccak-256 of a function signature in canonical form
 * ("transfer(address,uint256)": no spaces, no parameter names, uint256 not
 * uint). The signature is hashed as given; it is not checked.
 */
void abi_selector(const char *signature, uint8_t out[ABI_SELECTOR_BYTES]);

/* topics[0] of an event: keccak-256 of its canonical signature. */
void abi_event_topic(const char *signature, uint8_t out[ABI_WORD_BYTES]);

/* ---- call encoding ---- */

#define ABI_CALL_MAX_ARGS 8
#define ABI_CALL_DATA_MAX (ABI_SELECTOR_BYTES + ABI_WORD_BYTES * ABI_CALL_MAX_ARGS)
/* abi_call_hex's output for a full builder: "0x", the digits, NUL. */
#define ABI_CALL_HEX_SIZE (2 + 2 * ABI_CALL_DATA_MAX + 1)

/*
 * Calldata for a function with up to ABI_CALL_MAX_ARGS static arguments,
 * built on the caller's stack:
 *
 *     struct abi_call c;
 *     char hex[ABI_CALL_HEX_SIZE];
 *     abi_call_init(&c, "balanceOf(address)");
 *     if (abi_call_add_address(&c, holder) != 0) ...
 *     abi_call_hex(&c, hex, sizeof hex);
 */
struct abi_call {
        uint8_t data[ABI_CALL_DATA_MAX];
        size_t len;
};

/* Starts calldata with the selector of `signature` (see abi_selector). */
void abi_call_init(struct abi_call *c, const char *signature);

/*
 * Appends one argument as a 32-byte word: an address left-padded with zeros,
 * a uint256 or a uint64 big-endian, a bytes32 as is. Returns 0, or
 * RW_ERR_RANGE with the builder unchanged when it already holds
 * ABI_CALL_MAX_ARGS arguments.
 */
int abi_call_add_address(struct abi_call *c, const uint8_t addr[ABI_ADDRESS_BYTES])
        __attribute__((warn_unused_result));
int abi_call_add_uint(struct abi_call *c, const struct u256 *v) __attribute__((warn_unused_result));
int abi_call_add_u64(struct abi_call *c, uint64_t v) __attribute__((warn_unused_result));
int abi_call_add_bytes32(struct abi_call *c, const uint8_t word[ABI_WORD_BYTES])
        __attribute__((warn_unused_result));

/*
 * Writes the calldata as "0x"-prefixed lowercase hex (the `data` of an
 * eth_call) and a NUL. Returns the length, or 0 (with out[0] = '\0' when
 * cap > 0) when `cap` is too small; ABI_CALL_HEX_SIZE always suffices.
 */
size_t abi_call_hex(const struct abi_call *c, char *out, size_t cap);

/* ---- decoding eth_call results ---- */

/*
 * Each takes the `result` string of an eth_call reply ("0x" and hex digits,
 * exactly `len` characters) that must hold exactly one 32-byte word. "0x"
 * alone is the reply of a call to an address without code and is reported
 * as such; any other length is an error naming the expected and the actual
 * byte count. All errors are RW_ERR_INVALID.
 */
int abi_decode_uint256(const char *hex, size_t len, struct u256 *out, struct rwerr *err)
        __attribute__((warn_unused_result));
/* The word's top 12 bytes must be zero. */
int abi_decode_address(const char *hex, size_t len, uint8_t out[ABI_ADDRESS_BYTES],
                       struct rwerr *err) __attribute__((warn_unused_result));
int abi_decode_bytes32(const char *hex, size_t len, uint8_t out[ABI_WORD_BYTES], struct rwerr *err)
        __attribute__((warn_unused_result));
/* The word must be exactly 0 or 1. */
int abi_decode_bool(const char *hex, size_t len, bool *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Copies word `index` (0-based) of ABI data already decoded to bytes (e.g. by
 * hex_decode_any) into `out`. RW_ERR_INVALID when the data is too short to
 * hold that word; the message gives the length needed and the length there is.
 */
int abi_word_at(const uint8_t *data, size_t len, size_t index, uint8_t out[ABI_WORD_BYTES],
                struct rwerr *err) __attribute__((warn_unused_result));

/*
 * Interpret one word: an address (top 12 bytes zero), a bool (0 or 1), a
 * uint64 (top 24 bytes zero; RW_ERR_RANGE otherwise). For uint256 use
 * u256_from_be32.
 */
int abi_word_address(const uint8_t word[ABI_WORD_BYTES], uint8_t out[ABI_ADDRESS_BYTES],
                     struct rwerr *err) __attribute__((warn_unused_result));
int abi_word_bool(const uint8_t word[ABI_WORD_BYTES], bool *out, struct rwerr *err)
        __attribute__((warn_unused_result));
int abi_word_u64(const uint8_t word[ABI_WORD_BYTES], uint64_t *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* ---- logs ---- */

#define ABI_LOG_TOPICS_MAX 4
#define ABI_LOG_DATA_MAX 1024

/* One eth_getLogs entry, decoded. Fixed size: it lives wherever the caller puts it. */
struct abi_log {
        uint8_t address[ABI_ADDRESS_BYTES]; /* the emitting contract */
        uint8_t topics[ABI_LOG_TOPICS_MAX][ABI_WORD_BYTES];
        size_t ntopics; /* 0..ABI_LOG_TOPICS_MAX */
        uint8_t data[ABI_LOG_DATA_MAX];
        size_t data_len;
        uint64_t block_number;
        uint8_t block_hash[ABI_WORD_BYTES];
        uint8_t tx_hash[ABI_WORD_BYTES];
        uint64_t log_index;
        bool removed; /* true when a reorg took the log out of the canonical chain */
};

/*
 * Parses one element of an eth_getLogs result (a cJSON object; the tree stays
 * the caller's) into *out. Strict: address (20 bytes), topics (an array of at
 * most 4 strings of 32 bytes each), data (even-length hex, at most
 * ABI_LOG_DATA_MAX bytes: more is RW_ERR_RANGE), blockNumber and logIndex
 * (QUANTITY that fits in 64 bits), blockHash and transactionHash (32 bytes)
 * must all be present with the right type and length; `removed`, when
 * present, must be a boolean (absent means false). Other members
 * (transactionIndex, blockTimestamp, ...) are ignored. A pending log (null
 * blockHash) is an error. Messages start with "log entry: " and name the
 * field ("log entry: topics[2] is 31 bytes, expected 32").
 */
int abi_log_from_json(const struct cJSON *entry, struct abi_log *out, struct rwerr *err)
        __attribute__((warn_unused_result));

#endif
