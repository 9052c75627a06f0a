/*
 * Multicall3's aggregate3: many read-only calls made as one eth_call, at
 * one block, by the Multicall3 contract found on most EVM chains (at
 * MULTICALL3_ADDRESS, or wherever a chain's configuration says).
 *
 *     aggregate3((address target, bool allowFailure, bytes callData)[])
 *         returns ((bool success, bytes returnData)[])
 *
 * Every call here is made with allowFailure = true: one call that fails
 * (a token that reverts) fails alone, and its caller reads it again on its
 * own, so an error is reported in the words of a plain eth_call.
 *
 * Pure: encoding and decoding only, no I/O. The reply is outside input (an
 * endpoint may answer anything): multicall_decode checks every offset and
 * length against the data before it reads.
 */
#ifndef RELAYWATCH_MULTICALL_H
#define RELAYWATCH_MULTICALL_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

struct rwerr;

/* The address Multicall3 has on most chains (the same deployment everywhere). */
#define MULTICALL3_ADDRESS "0xcA11bde05977b3631167028862bE2a173976CA11"

/* Calls in one aggregate3: a reply stays well under the RPC client's size cap. */
#define MULTICALL_CALLS_MAX 1000

/* One call of an aggregate: its contract and calldata (abi_call's bytes). */
struct multicall_call {
        uint8_t target[ABI_ADDRESS_BYTES];
        struct abi_call call;
};

/* What one call returned; `data` points into the buffer multicall_decode gave. */
struct multicall_result {
        int success;
        const uint8_t *data;
        size_t len;
};

/*
 * The eth_call `data` of aggregate3(calls) as "0x"-prefixed lowercase hex
 * with a NUL, malloc'd: the caller frees it. NULL when out of memory or
 * when n is 0 or above MULTICALL_CALLS_MAX (err says which).
 */
char *multicall_encode(const struct multicall_call *calls, size_t n, struct rwerr *err);

/*
 * Decodes aggregate3's return value (the eth_call `result`, `hex` of
 * `hexlen` characters with its "0x") into exactly `n` results, in the order
 * of the calls. `*buf` receives the decoded bytes (malloc'd; the caller
 * frees it, also on failure, when not NULL); each result's data points
 * into it. RW_OK, or RW_ERR_INVALID with what is wrong (an empty reply:
 * no contract at that address; a count other than n; an offset or length
 * outside the data; a success flag that is not 0 or 1), or RW_ERR_NOMEM.
 */
int multicall_decode(const char *hex, size_t hexlen, size_t n, struct multicall_result *out,
                     uint8_t **buf, struct rwerr *err) __attribute__((warn_unused_result));

#endif
