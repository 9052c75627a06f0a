/*
 * hex: strict conversion between bytes and Ethereum-style hex text.
 *
 * JSON-RPC carries every hash, address and ABI word as "0x"-prefixed hex.
 * These functions accept exactly what they are asked for: an optional "0x"
 * prefix, an even number of digits, and (for hex_decode) the exact length the
 * caller expects, so a truncated or padded reply is an error, never a
 * silently shortened value.
 */
#ifndef RELAYWATCH_HEX_H
#define RELAYWATCH_HEX_H

#include <stddef.h>
#include <stdint.h>

struct rwerr;

/*
 * Decodes `len` characters of `hex` (an optional "0x"/"0X" prefix, then
 * digits in either case) into exactly `outlen` bytes at `out`.
 * Returns 0, or RW_ERR_INVALID when the text has a non-hex character, an odd
 * number of digits, or a digit count other than 2 * outlen; the message says
 * which and where. `out` is untouched on failure.
 */
int hex_decode(const char *hex, size_t len, uint8_t *out, size_t outlen, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * Like hex_decode, but for data whose length is known only from the text
 * (revert data, log data): decodes up to `cap` bytes into `out` and stores
 * the byte count in `*outlen`. More than `cap` bytes is RW_ERR_RANGE.
 */
int hex_decode_any(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *outlen,
                   struct rwerr *err) __attribute__((warn_unused_result));

/* The value 0..15 of one hex digit (either case), or -1 for any other character. */
int hex_digit_value(char c);

/* The number of bytes hex_encode needs for `len` input bytes: "0x", digits, NUL. */
#define HEX_ENCODED_SIZE(len) (2 + 2 * (size_t)(len) + 1)

/*
 * Writes "0x" and 2 * len lowercase digits and a NUL into `out`, which must
 * hold HEX_ENCODED_SIZE(len) bytes. Returns the string length, or 0 (with
 * out[0] = '\0' when cap > 0) if `cap` is too small.
 */
size_t hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
