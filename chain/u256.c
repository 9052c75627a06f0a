#include "u256.h"

#include <string.h>

#include "hex.h"
#include "rwerr.h"

#define U256_LIMBS 4
#define U256_POW10_9 1000000000u /* the largest power of ten below 2^32: the fast divisor */
#define U256_DEC_DIGITS_MAX 78
#define U256_HEX_DIGITS_MAX 64

struct u256 u256_from_u64(uint64_t v)
{
        struct u256 r = {{v, 0, 0, 0}};

        return r;
}

int u256_to_u64(const struct u256 *a, uint64_t *out)
{
        if (a->limb[1] != 0 || a->limb[2] != 0 || a->limb[3] != 0)
                return RW_ERR_RANGE;
        *out = a->limb[0];
        return RW_OK;
}

bool u256_is_zero(const struct u256 *a)
{
        return (a->limb[0] | a->limb[1] | a->limb[2] | a->limb[3]) == 0;
}

int u256_cmp(const struct u256 *a, const struct u256 *b)
{
        int i;

        for (i = U256_LIMBS - 1; i >= 0; i--) {
                if (a->limb[i] != b->limb[i])
                        return a->limb[i] > b->limb[i] ? 1 : -1;
        }
        return 0;
}

bool u256_eq(const struct u256 *a, const struct u256 *b)
{
        return u256_cmp(a, b) == 0;
}

int u256_add(const struct u256 *a, const struct u256 *b, struct u256 *out)
{
        struct u256 r;
        uint64_t carry = 0;
        int i;

        for (i = 0; i < U256_LIMBS; i++) {
                uint64_t s = a->limb[i] + b->limb[i];
                uint64_t c1 = s < a->limb[i];

                r.limb[i] = s + carry;
                carry = c1 | (r.limb[i] < s);
        }
        if (carry)
                return RW_ERR_RANGE;
        *out = r;
        return RW_OK;
}

/* *out = a - b modulo 2^256; returns the borrow out of the top limb. */
static uint64_t u256_sub_wrap(const struct u256 *a, const struct u256 *b, struct u256 *out)
{
        uint64_t borrow = 0;
        int i;

        for (i = 0; i < U256_LIMBS; i++) {
                uint64_t d = a->limb[i] - b->limb[i];
                uint64_t b1 = a->limb[i] < b->limb[i];

                out->limb[i] = d - borrow;
                borrow = b1 | (d < borrow);
        }
        return borrow;
}

int u256_sub(const struct u256 *a, const struct u256 *b, struct u256 *out)
{
        struct u256 r;

        if (u256_sub_wrap(a, b, &r) != 0)
                return RW_ERR_RANGE;
        *out = r;
        return RW_OK;
}

/* The 128-bit product a * b as hi:lo, without relying on a 128-bit integer type. */
static uint64_t u256_mul64(uint64_t a, uint64_t b, uint64_t *hi)
{
        uint64_t a_lo = a & 0xffffffffU, a_hi = a >> 32;
        uint64_t b_lo = b & 0xffffffffU, b_hi = b >> 32;
        uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
        uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffU) + (p2 & 0xffffffffU);

        *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
        return (mid << 32) | (p0 & 0xffffffffU);
}

int u256_mul_u64(const struct u256 *a, uint64_t m, struct u256 *out)
{
        struct u256 r;
        uint64_t carry = 0;
        int i;

        for (i = 0; i < U256_LIMBS; i++) {
                uint64_t hi;
                uint64_t lo = u256_mul64(a->limb[i], m, &hi);

                r.limb[i] = lo + carry;
                carry = hi + (r.limb[i] < lo); /* hi <= 2^64 - 2, so this cannot wrap */
        }
        if (carry)
                return RW_ERR_RANGE;
        *out = r;
        return RW_OK;
}

/* *quot = a / d, returns a % d, for 0 < d < 2^32: eight 64-by-32-bit
 * divisions, most significant half-limb first. */
static uint64_t u256_div_u32(const struct u256 *a, uint32_t d, struct u256 *quot)
{
        struct u256 q = {{0, 0, 0, 0}};
        uint64_t r = 0;
        int i;

        for (i = 7; i >= 0; i--) {
                uint64_t cur = (r << 32) | ((a->limb[i / 2] >> (32 * (i % 2))) & 0xffffffffu);

                q.limb[i / 2] |= (cur / d) << (32 * (i % 2));
                r = cur % d;
        }
        *quot = q;
        return r;
}

/* *quot = a / d, returns a % d; d is not 0. */
static uint64_t u256_div_small(const struct u256 *a, uint64_t d, struct u256 *quot)
{
        struct u256 q = {{0, 0, 0, 0}};
        uint64_t r = 0;
        int bit;

        if (d <= 0xffffffffu)
                return u256_div_u32(a, (uint32_t)d, quot);
        /* Schoolbook binary long division: 256 shift-and-subtract steps. */
        for (bit = 255; bit >= 0; bit--) {
                uint64_t top = r >> 63;

                r = (r << 1) | ((a->limb[bit / 64] >> (bit % 64)) & 1);
                /* With the top bit shifted out, the true remainder is 2^64 + r >= d. */
                if (top || r >= d) {
                        r -= d;
                        q.limb[bit / 64] |= (uint64_t)1 << (bit % 64);
                }
        }
        *quot = q;
        return r;
}

int u256_divmod_u64(const struct u256 *a, uint64_t d, struct u256 *quot, uint64_t *rem)
{
        struct u256 q;
        uint64_t r;

        if (d == 0)
                return RW_ERR_INVALID;
        r = u256_div_small(a, d, &q);
        if (quot != NULL)
                *quot = q;
        if (rem != NULL)
                *rem = r;
        return RW_OK;
}

int u256_abs_diff(const struct u256 *a, const struct u256 *b, struct u256 *out)
{
        int c = u256_cmp(a, b);
        struct u256 r = {{0, 0, 0, 0}};

        /* The larger minus the smaller cannot underflow. */
        if (c > 0)
                (void)u256_sub_wrap(a, b, &r);
        else if (c < 0)
                (void)u256_sub_wrap(b, a, &r);
        *out = r;
        return c;
}

void u256_signed_diff(const struct u256 *a, const struct u256 *b, struct u256_signed *out)
{
        out->neg = u256_abs_diff(a, b, &out->mag) < 0;
}

int u256_signed_sub(const struct u256_signed *a, const struct u256 *b, struct u256_signed *out)
{
        if (!a->neg) {
                u256_signed_diff(&a->mag, b, out);
                return RW_OK;
        }
        out->neg = 1; /* -(|a| + b) */
        return u256_add(&a->mag, b, &out->mag) == 0 ? RW_OK : RW_ERR_RANGE;
}

void u256_from_be32(const uint8_t in[U256_BYTES], struct u256 *out)
{
        struct u256 r;
        int i, j;

        for (i = 0; i < U256_LIMBS; i++) {
                const uint8_t *p = in + (size_t)(U256_LIMBS - 1 - i) * 8;
                uint64_t v = 0;

                for (j = 0; j < 8; j++)
                        v = (v << 8) | p[j];
                r.limb[i] = v;
        }
        *out = r;
}

void u256_to_be32(const struct u256 *a, uint8_t out[U256_BYTES])
{
        int i, j;

        for (i = 0; i < U256_LIMBS; i++) {
                uint8_t *p = out + (size_t)(U256_LIMBS - 1 - i) * 8;
                uint64_t v = a->limb[i];

                for (j = 7; j >= 0; j--) {
                        p[j] = (uint8_t)(v & 0xff);
                        v >>= 8;
                }
        }
}

/* ---- parsing ---- */

static bool u256_is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* "<what> has <desc> '<c>' at position <i>", or the byte value when it is not printable. */
static int u256_bad_char(struct rwerr *err, const char *what, const char *desc, const char *s,
                         size_t i)
{
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f)
                return rwerr_set(err, RW_ERR_INVALID, "%s has %s '%c' at position %zu", what, desc,
                                 (char)c, i);
        return rwerr_set(err, RW_ERR_INVALID, "%s has %s (byte 0x%02x) at position %zu", what, desc,
                         c, i);
}

/* *acc = *acc * 10^n. RW_ERR_RANGE on overflow, *acc then undefined. */
static int u256_scale_pow10(struct u256 *acc, size_t n)
{
        while (n > 0) {
                size_t k = n < 19 ? n : 19;
                uint64_t p = 1;
                size_t i;

                for (i = 0; i < k; i++)
                        p *= 10;
                if (u256_mul_u64(acc, p, acc) != RW_OK)
                        return RW_ERR_RANGE;
                n -= k;
        }
        return RW_OK;
}

/*
 * *acc = *acc * 10^n + (the n digits at s), 19 digits at a time. The digits
 * have been checked. RW_ERR_RANGE on overflow, *acc then undefined.
 */
static int u256_accumulate_dec(struct u256 *acc, const char *s, size_t n)
{
        while (n > 0) {
                size_t k = n < 19 ? n : 19;
                uint64_t chunk = 0;
                struct u256 c;
                size_t i;

                for (i = 0; i < k; i++)
                        chunk = chunk * 10 + (uint64_t)(s[i] - '0');
                c = u256_from_u64(chunk);
                if (u256_scale_pow10(acc, k) != RW_OK || u256_add(acc, &c, acc) != RW_OK)
                        return RW_ERR_RANGE;
                s += k;
                n -= k;
        }
        return RW_OK;
}

int u256_parse_dec(const char *s, size_t len, struct u256 *out, struct rwerr *err)
{
        static const char what[] = "decimal amount";
        struct u256 v = {{0, 0, 0, 0}};
        size_t i;

        if (s == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s is missing", what);
        if (len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s is empty", what);
        for (i = 0; i < len; i++) {
                if (u256_is_digit(s[i]))
                        continue;
                if (s[i] == '-' && i == 0)
                        return rwerr_set(err, RW_ERR_INVALID, "negative amount: %s starts with '-'",
                                         what);
                if (s[i] == '+' && i == 0)
                        return rwerr_set(err, RW_ERR_INVALID, "%s starts with a sign '+'", what);
                if (s[i] == '.')
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "non-integer amount: %s has a '.' at position %zu", what,
                                         i);
                return u256_bad_char(err, what, "a non-digit", s, i);
        }
        if (u256_accumulate_dec(&v, s, len) != RW_OK)
                return rwerr_set(err, RW_ERR_RANGE, "%s exceeds 2^256-1", what);
        *out = v;
        return RW_OK;
}

int u256_parse_hex(const char *s, size_t len, struct u256 *out, struct rwerr *err)
{
        static const char what[] = "hex quantity";
        struct u256 v = {{0, 0, 0, 0}};
        size_t i, first, ndigits;

        if (s == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s is missing", what);
        if (len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s is empty", what);
        if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                return rwerr_set(err, RW_ERR_INVALID, "%s does not start with \"0x\"", what);
        if (len == 2)
                return rwerr_set(err, RW_ERR_INVALID, "%s \"0x\" has no digits", what);
        for (i = 2; i < len; i++) {
                if (hex_digit_value(s[i]) < 0)
                        return u256_bad_char(err, what, "an invalid hex digit", s, i);
        }
        ndigits = len - 2;
        if (ndigits > U256_HEX_DIGITS_MAX) {
                for (first = 2; first < len && s[first] == '0'; first++)
                        ;
                if (len - first > U256_HEX_DIGITS_MAX)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "%s exceeds 2^256-1 (%zu significant digits, at most %d)",
                                         what, len - first, U256_HEX_DIGITS_MAX);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s has %zu digits, at most %d allowed (too much zero padding)",
                                 what, ndigits, U256_HEX_DIGITS_MAX);
        }
        /* Digit i from the right is nibble i % 16 of limb i / 16. */
        for (i = 0; i < ndigits; i++) {
                uint64_t nib = (uint64_t)hex_digit_value(s[len - 1 - i]);

                v.limb[i / 16] |= nib << (4 * (i % 16));
        }
        *out = v;
        return RW_OK;
}

int u256_parse_units(const char *s, size_t len, unsigned decimals, struct u256 *out,
                     struct rwerr *err)
{
        static const char what[] = "token amount";
        struct u256 v = {{0, 0, 0, 0}};
        size_t i, point = len, nfrac = 0;

        if (decimals > U256_DECIMALS_MAX)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s: %u decimals is more than the %d supported", what, decimals,
                                 U256_DECIMALS_MAX);
        if (s == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s is missing", what);
        if (len == 0)
                return rwerr_set(err, RW_ERR_INVALID, "%s is empty", what);
        for (i = 0; i < len; i++) {
                char c = s[i];

                if (u256_is_digit(c))
                        continue;
                if (c == '.') {
                        if (point != len)
                                return rwerr_set(err, RW_ERR_INVALID,
                                                 "%s has a second '.' at position %zu", what, i);
                        point = i;
                        continue;
                }
                if (c == '-' && i == 0)
                        return rwerr_set(err, RW_ERR_INVALID, "negative amount: %s starts with '-'",
                                         what);
                if (c == '+' && i == 0)
                        return rwerr_set(err, RW_ERR_INVALID, "%s starts with a sign '+'", what);
                if (c == 'e' || c == 'E')
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "%s uses exponent notation ('%c' at position %zu); "
                                         "write the digits out",
                                         what, c, i);
                return u256_bad_char(err, what, "a non-digit", s, i);
        }
        if (point == 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s has no digit before the '.' at position 0 (write 0.5, not .5)",
                                 what);
        if (point != len) {
                if (point == len - 1)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "%s has no digit after the '.' at position %zu", what,
                                         point);
                nfrac = len - point - 1;
                if (nfrac > decimals)
                        return rwerr_set(err, RW_ERR_RANGE,
                                         "%s has %zu decimal places, the token allows %u", what,
                                         nfrac, decimals);
        }
        if (u256_accumulate_dec(&v, s, point) != RW_OK ||
            (nfrac > 0 && u256_accumulate_dec(&v, s + point + 1, nfrac) != RW_OK) ||
            u256_scale_pow10(&v, decimals - nfrac) != RW_OK)
                return rwerr_set(err, RW_ERR_RANGE, "%s exceeds 2^256-1 base units at %u decimals",
                                 what, decimals);
        *out = v;
        return RW_OK;
}

/* ---- formatting ---- */

static size_t u256_too_small(char *buf, size_t cap)
{
        if (cap > 0)
                buf[0] = '\0';
        return 0;
}

/* Writes the decimal digits of a (no NUL) into digits[U256_DEC_DIGITS_MAX]; returns the count. */
static size_t u256_dec_digits(const struct u256 *a, char digits[U256_DEC_DIGITS_MAX])
{
        char rev[U256_DEC_DIGITS_MAX + 9];
        struct u256 v = *a;
        size_t n = 0, i;

        do {
                uint64_t r = u256_div_u32(&v, U256_POW10_9, &v);

                /* Every chunk but the most significant is exactly 9 digits. */
                for (i = 0; i < 9 && (r != 0 || !u256_is_zero(&v)); i++) {
                        rev[n++] = (char)('0' + r % 10);
                        r /= 10;
                }
        } while (!u256_is_zero(&v));
        if (n == 0)
                rev[n++] = '0';
        for (i = 0; i < n; i++)
                digits[i] = rev[n - 1 - i];
        return n;
}

size_t u256_format_dec(const struct u256 *a, char *buf, size_t cap)
{
        char digits[U256_DEC_DIGITS_MAX];
        size_t n = u256_dec_digits(a, digits);

        if (cap < n + 1)
                return u256_too_small(buf, cap);
        memcpy(buf, digits, n);
        buf[n] = '\0';
        return n;
}

size_t u256_format_hex(const struct u256 *a, char *buf, size_t cap)
{
        static const char hexdigits[] = "0123456789abcdef";
        char digits[U256_HEX_DIGITS_MAX];
        size_t n = 0;
        int i;

        for (i = U256_HEX_DIGITS_MAX - 1; i >= 0; i--) {
                unsigned nib = (unsigned)(a->limb[i / 16] >> (4 * (i % 16))) & 0xf;

                if (n == 0 && nib == 0 && i > 0)
                        continue; /* no leading zeros, but "0x0" for zero */
                digits[n++] = hexdigits[nib];
        }
        if (cap < 2 + n + 1)
                return u256_too_small(buf, cap);
        buf[0] = '0';
        buf[1] = 'x';
        memcpy(buf + 2, digits, n);
        buf[2 + n] = '\0';
        return 2 + n;
}

size_t u256_format_units(const struct u256 *a, unsigned decimals, const char *symbol, char *buf,
                         size_t cap)
{
        char digits[U256_DEC_DIGITS_MAX];
        char num[U256_DEC_DIGITS_MAX + 2]; /* "0." and 77 digits, or 78 digits and a '.' */
        size_t n, len = 0, nint, nfrac, zeros, slen;

        if (decimals > U256_DECIMALS_MAX)
                return u256_too_small(buf, cap);
        n = u256_dec_digits(a, digits);
        if (n > decimals) {
                nint = n - decimals;
                zeros = 0;
        } else {
                nint = 0;
                zeros = decimals - n; /* zeros between the point and the first digit */
        }
        /* Fractional digits from the number itself, trailing zeros trimmed. */
        nfrac = n - nint;
        while (nfrac > 0 && digits[nint + nfrac - 1] == '0')
                nfrac--;
        if (nint == 0) {
                num[len++] = '0';
        } else {
                memcpy(num, digits, nint);
                len = nint;
        }
        if (nfrac > 0) {
                num[len++] = '.';
                memset(num + len, '0', zeros);
                len += zeros;
                memcpy(num + len, digits + nint, nfrac);
                len += nfrac;
        }
        slen = symbol != NULL ? strlen(symbol) : 0;
        if (cap < len + (slen > 0 ? 1 + slen : 0) + 1)
                return u256_too_small(buf, cap);
        memcpy(buf, num, len);
        if (slen > 0) {
                buf[len++] = ' ';
                memcpy(buf + len, symbol, slen);
                len += slen;
        }
        buf[len] = '\0';
        return len;
}
