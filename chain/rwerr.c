#include "rwerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rwerr_set(struct rwerr *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (err == NULL)
                return code;
        va_start(ap, fmt);
        (void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        return code;
}

int rwerr_prefix(struct rwerr *err, int code, const char *prefix)
{
        const size_t cap = sizeof err->msg - 1;
        size_t plen, mlen;

        if (err == NULL)
                return code;
        plen = strlen(prefix) + 2; /* "prefix: " */
        if (plen > cap)
                plen = cap;
        mlen = strnlen(err->msg, cap);
        if (mlen > cap - plen)
                mlen = cap - plen;
        /* Shift the old message right, then write the prefix in front of it. */
        memmove(err->msg + plen, err->msg, mlen);
        err->msg[plen + mlen] = '\0';
        memcpy(err->msg, prefix, plen >= 2 ? plen - 2 : plen);
        if (plen >= 2) {
                err->msg[plen - 2] = ':';
                err->msg[plen - 1] = ' ';
        }
        return code;
}

const char *rwerr_code_name(int code)
{
        switch (code) {
        case RW_OK:
                return "ok";
        case RW_ERR_INVALID:
                return "invalid input";
        case RW_ERR_RANGE:
                return "out of range";
        case RW_ERR_NOMEM:
                return "out of memory";
        case RW_ERR_IO:
                return "I/O error";
        case RW_ERR_TIMEOUT:
                return "timed out";
        case RW_ERR_PROTOCOL:
                return "protocol error";
        case RW_ERR_REMOTE:
                return "remote error";
        case RW_ERR_REFUSED:
                return "refused";
        default:
                return "unknown error";
        }
}
