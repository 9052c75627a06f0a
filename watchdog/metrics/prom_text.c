#include "prom_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"

#define PROM_INITIAL_CAP 4096

void prom_text_init(struct prom_text *t)
{
        memset(t, 0, sizeof *t);
}

void prom_text_release(struct prom_text *t)
{
        free(t->buf);
        prom_text_init(t);
}

char *prom_text_take(struct prom_text *t, size_t *len)
{
        char *out;

        prom_text_append(t, "", 0); /* a buffer even when nothing was written */
        if (t->oom) {
                prom_text_release(t);
                return NULL;
        }
        out = t->buf;
        if (len != NULL)
                *len = t->len;
        prom_text_init(t);
        return out;
}

/* Room for `more` bytes and a NUL; 0, or -1 (and oom set) when it cannot grow. */
static int reserve(struct prom_text *t, size_t more)
{
        size_t cap = t->cap > 0 ? t->cap : PROM_INITIAL_CAP;
        char *buf;

        if (t->oom)
                return -1;
        if (more >= SIZE_MAX / 2 - t->len) {
                t->oom = 1;
                return -1;
        }
        if (t->buf != NULL && t->len + more < t->cap)
                return 0;
        while (cap <= t->len + more)
                cap *= 2;
        buf = realloc(t->buf, cap);
        if (buf == NULL) {
                t->oom = 1;
                return -1;
        }
        t->buf = buf;
        t->cap = cap;
        return 0;
}

void prom_text_append(struct prom_text *t, const char *s, size_t n)
{
        if (reserve(t, n) != 0)
                return;
        if (n > 0)
                memcpy(t->buf + t->len, s, n);
        t->len += n;
        t->buf[t->len] = '\0';
}

void prom_text_printf(struct prom_text *t, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (t->oom)
                return;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || reserve(t, (size_t)n) != 0)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        t->len += (size_t)n;
}

/*
 * `s` with `\` and newline escaped, and `"` too when `quote` (label values).
 * Bytes that are not well-formed UTF-8 become U+FFFD: Prometheus refuses a
 * whole scrape over one bad label value, and names (an endpoint's, a
 * subject's) may carry what an outsider wrote.
 */
static void append_escaped(struct prom_text *t, const char *s, int quote)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t left = strlen(s), k;

        while (left > 0) {
                if (*p == '\\') {
                        prom_text_append(t, "\\\\", 2);
                } else if (*p == '\n') {
                        prom_text_append(t, "\\n", 2);
                } else if (*p == '"' && quote) {
                        prom_text_append(t, "\\\"", 2);
                } else if ((k = utf8_sequence_len(p, left)) == 0) {
                        prom_text_append(t, "\xef\xbf\xbd", 3); /* U+FFFD */
                } else {
                        prom_text_append(t, (const char *)p, k);
                        p += k;
                        left -= k;
                        continue;
                }
                p++;
                left--;
        }
}

void prom_family(struct prom_text *t, const char *name, const char *type, const char *help)
{
        if (strcmp(t->family, name) == 0)
                return;
        (void)snprintf(t->family, sizeof t->family, "%s", name);
        prom_text_printf(t, "# HELP %s ", name);
        append_escaped(t, help, 0);
        prom_text_printf(t, "\n# TYPE %s %s\n", name, type);
}

void prom_format_double(double v, char out[PROM_DOUBLE_SIZE])
{
        int prec;

        if (isnan(v)) {
                (void)snprintf(out, PROM_DOUBLE_SIZE, "NaN");
                return;
        }
        if (isinf(v)) {
                (void)snprintf(out, PROM_DOUBLE_SIZE, "%s", v > 0 ? "+Inf" : "-Inf");
                return;
        }
        if (v == 0) {
                (void)snprintf(out, PROM_DOUBLE_SIZE, "0"); /* -0 too */
                return;
        }
        if (v == trunc(v) && fabs(v) < 1e18) { /* an integer, exactly */
                (void)snprintf(out, PROM_DOUBLE_SIZE, "%lld", (long long)v);
                return;
        }
        for (prec = 15; prec < 17; prec++) { /* the shortest that reads back the same */
                (void)snprintf(out, PROM_DOUBLE_SIZE, "%.*g", prec, v);
                if (strtod(out, NULL) == v)
                        return;
        }
        (void)snprintf(out, PROM_DOUBLE_SIZE, "%.17g", v);
}

static void append_labels(struct prom_text *t, const struct prom_label *labels, size_t n)
{
        size_t i;

        if (n == 0)
                return;
        prom_text_append(t, "{", 1);
        for (i = 0; i < n; i++) {
                prom_text_printf(t, "%s%s=\"", i > 0 ? "," : "", labels[i].name);
                append_escaped(t, labels[i].value != NULL ? labels[i].value : "", 1);
                prom_text_append(t, "\"", 1);
        }
        prom_text_append(t, "}", 1);
}

void prom_sample(struct prom_text *t, const char *name, const struct prom_label *labels,
                 size_t nlabels, double value)
{
        char v[PROM_DOUBLE_SIZE];

        prom_format_double(value, v);
        prom_text_append(t, name, strlen(name));
        append_labels(t, labels, nlabels);
        prom_text_printf(t, " %s\n", v);
}

void prom_sample_u64(struct prom_text *t, const char *name, const struct prom_label *labels,
                     size_t nlabels, uint64_t value)
{
        prom_text_append(t, name, strlen(name));
        append_labels(t, labels, nlabels);
        prom_text_printf(t, " %llu\n", (unsigned long long)value);
}

void prom_histogram(struct prom_text *t, const char *name, const struct prom_label *labels,
                    size_t nlabels, const struct latency_hist *h)
{
        struct prom_label with_le[PROM_LABELS_MAX + 1];
        char series[PROM_NAME_MAX + 16], le[PROM_DOUBLE_SIZE];
        uint64_t cumulative = 0;
        size_t i;

        if (nlabels > PROM_LABELS_MAX)
                nlabels = PROM_LABELS_MAX;
        for (i = 0; i < nlabels; i++)
                with_le[i] = labels[i];
        with_le[nlabels].name = "le";
        with_le[nlabels].value = le;
        (void)snprintf(series, sizeof series, "%s_bucket", name);
        for (i = 0; i <= LATENCY_HIST_BOUNDS; i++) {
                cumulative += h->bucket[i];
                if (i < LATENCY_HIST_BOUNDS)
                        prom_format_double(latency_hist_bounds_ms[i] / 1000.0, le);
                else
                        (void)snprintf(le, sizeof le, "+Inf");
                prom_sample_u64(t, series, with_le, nlabels + 1, cumulative);
        }
        (void)snprintf(series, sizeof series, "%s_sum", name);
        prom_sample(t, series, labels, nlabels, h->sum_ms / 1000.0);
        (void)snprintf(series, sizeof series, "%s_count", name);
        prom_sample_u64(t, series, labels, nlabels, cumulative); /* = the +Inf bucket */
}
