#include "hex.h"

#include "rwerr.h"

int hex_digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Skips an optional 0x prefix and checks every digit; sets *digits and *ndigits. */
static int hex_scan(const char *hex, size_t len, const char **digits, size_t *ndigits,
                    struct rwerr *err)
{
        size_t i;
        size_t skip = 0;

        if (hex == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "hex value is missing");
        if (len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
                skip = 2;
        for (i = skip; i < len; i++) {
                if (hex_digit_value(hex[i]) < 0) {
                        unsigned char c = (unsigned char)hex[i];

                        if (c >= 0x20 && c < 0x7f)
                                return rwerr_set(err, RW_ERR_INVALID,
                                                 "invalid hex digit '%c' at position %zu", (char)c,
                                                 i);
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "invalid hex digit (byte 0x%02x) at position %zu", c, i);
                }
        }
        if ((len - skip) % 2 != 0)
                return rwerr_set(err, RW_ERR_INVALID, "hex value has an odd number of digits (%zu)",
                                 len - skip);
        *digits = hex + skip;
        *ndigits = len - skip;
        return RW_OK;
}

static void hex_unpack(const char *digits, size_t nbytes, uint8_t *out)
{
        size_t i;

        for (i = 0; i < nbytes; i++) {
                int hi = hex_digit_value(digits[2 * i]);
                int lo = hex_digit_value(digits[2 * i + 1]);

                out[i] = (uint8_t)(((unsigned)hi << 4) | (unsigned)lo);
        }
}

int hex_decode(const char *hex, size_t len, uint8_t *out, size_t outlen, struct rwerr *err)
{
        const char *digits = NULL;
        size_t ndigits = 0;
        int rc;

        if ((rc = hex_scan(hex, len, &digits, &ndigits, err)) != RW_OK)
                return rc;
        if (ndigits != 2 * outlen)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "expected %zu hex digits (%zu bytes), got %zu", 2 * outlen, outlen,
                                 ndigits);
        hex_unpack(digits, outlen, out);
        return RW_OK;
}

int hex_decode_any(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *outlen,
                   struct rwerr *err)
{
        const char *digits = NULL;
        size_t ndigits = 0;
        int rc;

        if ((rc = hex_scan(hex, len, &digits, &ndigits, err)) != RW_OK)
                return rc;
        if (ndigits / 2 > cap)
                return rwerr_set(err, RW_ERR_RANGE,
                                 "hex value of %zu bytes exceeds the limit of %zu bytes",
                                 ndigits / 2, cap);
        hex_unpack(digits, ndigits / 2, out);
        *outlen = ndigits / 2;
        return RW_OK;
}

size_t hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
        static const char digits[] = "0123456789abcdef";
        size_t i;

        if (cap < HEX_ENCODED_SIZE(len)) {
                if (cap > 0)
                        out[0] = '\0';
                return 0;
        }
        out[0] = '0';
        out[1] = 'x';
        for (i = 0; i < len; i++) {
                out[2 + 2 * i] = digits[in[i] >> 4];
                out[3 + 2 * i] = digits[in[i] & 0x0f];
        }
        out[2 + 2 * len] = '\0';
        return 2 + 2 * len;
}
