/*
 * u256: exact 256-bit unsigned integers, the type of every token amount.
 *
 * Amounts travel through relaywatch as u256 end to end: parsed from
 * JSON-RPC hex and from PostgreSQL NUMERIC text, compared and subtracted
 * exactly, and formatted back for evidence and alerts. Nothing here goes
 * through `double`.
 *
 * Values are plain structs on the caller's stack: nothing is allocated,
 * nothing needs freeing. Arithmetic never wraps: a result that does not fit
 * is RW_ERR_RANGE with the output untouched. Output pointers may alias the
 * inputs (`u256_add(&a, &b, &a)` is fine).
 */
#ifndef RELAYWATCH_U256_H
#define RELAYWATCH_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rwerr;

/* limb[0] is the least significant 64 bits. */
struct u256 {
        uint64_t limb[4];
};

#define U256_BYTES 32
/* Buffer sizes for the formatters, terminating NUL included. */
#define U256_DEC_SIZE 79 /* 2^256-1 has 78 decimal digits */
#define U256_HEX_SIZE 67 /* "0x" and up to 64 digits */
/* Most decimals a token may have: 10^77 is the largest power of ten below 2^256. */
#define U256_DECIMALS_MAX 77
/*
 * u256_format_units needs at most 79 characters for the number ("0." and 77
 * digits, or 78 digits and a point), then a space, the symbol and the NUL.
 */
#define U256_UNITS_SIZE(symbol_len) (81 + (size_t)(symbol_len))

struct u256 u256_from_u64(uint64_t v);

/* Stores `a` in *out when it fits in 64 bits; else RW_ERR_RANGE, *out untouched. */
int u256_to_u64(const struct u256 *a, uint64_t *out) __attribute__((warn_unused_result));

bool u256_is_zero(const struct u256 *a);
/* -1, 0 or 1 as a is less than, equal to or greater than b. */
int u256_cmp(const struct u256 *a, const struct u256 *b);
bool u256_eq(const struct u256 *a, const struct u256 *b);

/*
 * *out = a + b, or a - b. Returns 0, or RW_ERR_RANGE when the sum exceeds
 * 2^256-1 or b > a, leaving *out untouched.
 */
int u256_add(const struct u256 *a, const struct u256 *b, struct u256 *out)
        __attribute__((warn_unused_result));
int u256_sub(const struct u256 *a, const struct u256 *b, struct u256 *out)
        __attribute__((warn_unused_result));

/* *out = a * m. Returns 0, or RW_ERR_RANGE on overflow with *out untouched. */
int u256_mul_u64(const struct u256 *a, uint64_t m, struct u256 *out)
        __attribute__((warn_unused_result));

/*
 * *quot = a / d and *rem = a % d (either pointer may be NULL). Returns 0, or
 * RW_ERR_INVALID when d is 0, leaving both untouched.
 */
int u256_divmod_u64(const struct u256 *a, uint64_t d, struct u256 *quot, uint64_t *rem)
        __attribute__((warn_unused_result));

/*
 * *out = |a - b|, the "delta" of a comparison. Cannot fail. Returns which
 * side is larger, as u256_cmp(a, b) does: 1 when a > b, -1 when a < b, 0
 * when they are equal (and *out is zero).
 */
int u256_abs_diff(const struct u256 *a, const struct u256 *b, struct u256 *out);

/*
 * A signed amount, for differences such as a ledger's figure minus the
 * chain's (a negative zero is never made: zero has neg == 0).
 */
struct u256_signed {
        int neg;
        struct u256 mag;
};

/* out = a - b, signed. */
void u256_signed_diff(const struct u256 *a, const struct u256 *b, struct u256_signed *out);

/* out = a - b for a signed `a`; RW_ERR_RANGE when the magnitude does not fit in 256 bits. */
int u256_signed_sub(const struct u256_signed *a, const struct u256 *b, struct u256_signed *out);

/* Big-endian 32-byte form, as in an ABI word or a storage slot. */
void u256_from_be32(const uint8_t in[U256_BYTES], struct u256 *out);
void u256_to_be32(const struct u256 *a, uint8_t out[U256_BYTES]);

/*
 * The parsers read exactly `len` characters of `s` (so a value inside a
 * larger buffer needs no copy), accept nothing around the number (no
 * spaces, no sign), and on failure return a negative RW_ERR_* code with a
 * message that names the problem and its position, leaving *out untouched.
 * RW_ERR_RANGE means well formed but larger than 2^256-1 (or, for
 * u256_parse_units, more precise than the token).
 */

/*
 * Plain decimal digits, as PostgreSQL prints an integral NUMERIC. Leading
 * zeros are fine. A '-' is "negative amount", a '.' is "non-integer amount".
 */
int u256_parse_dec(const char *s, size_t len, struct u256 *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * A JSON-RPC QUANTITY or a 32-byte word: "0x" (or "0X"), then 1 to 64 hex
 * digits in either case. Leading zeros are accepted ("0x00ff", a full
 * 64-digit word), but never more than 64 digits in all: a 65-digit value is
 * RW_ERR_RANGE if its top digit is not zero and RW_ERR_INVALID if it is
 * only zero-padded. "0x" alone is an error.
 */
int u256_parse_hex(const char *s, size_t len, struct u256 *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/*
 * A token amount in whole-token units ("0.001", "1234.5678", "7") into base
 * units for a token with `decimals` (0..U256_DECIMALS_MAX) decimals:
 * "1.5" at 6 decimals is 1500000. The grammar is DIGITS [ "." DIGITS ]:
 * there must be a digit on both sides of the point, so ".5" and "1." are
 * rejected (write "0.5" and "1"), as are signs, exponents ("1e18") and
 * spaces. More fractional digits than `decimals` is RW_ERR_RANGE even when
 * the extra digits are zeros ("7.0" for a token with 0 decimals): the amount
 * must be exactly representable as written. Leading zeros are fine.
 */
int u256_parse_units(const char *s, size_t len, unsigned decimals, struct u256 *out,
                     struct rwerr *err) __attribute__((warn_unused_result));

/*
 * The formatters write a NUL-terminated string into `buf` and return its
 * length, or return 0 (with buf[0] = '\0' when cap > 0) when `cap` is too
 * small.
 */

/* Decimal digits, no leading zeros ("0" for zero). U256_DEC_SIZE always suffices. */
size_t u256_format_dec(const struct u256 *a, char *buf, size_t cap);

/* A QUANTITY: "0x0", "0x1a"; lowercase, no leading zeros. U256_HEX_SIZE always suffices. */
size_t u256_format_hex(const struct u256 *a, char *buf, size_t cap);

/*
 * Base units as a token amount: "1234.5678 SIGIL" (trailing fractional zeros
 * trimmed), "1234 SIGIL" for a whole amount, "0.000000000000000001 SIGIL"
 * for one base unit at 18 decimals. A NULL or empty `symbol` leaves out the
 * space and the symbol. Returns 0 as well when `decimals` exceeds
 * U256_DECIMALS_MAX. U256_UNITS_SIZE(strlen(symbol)) always suffices.
 */
size_t u256_format_units(const struct u256 *a, unsigned decimals, const char *symbol, char *buf,
                         size_t cap);

#endif
