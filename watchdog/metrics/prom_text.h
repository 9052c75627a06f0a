/*
 * prom_text: the Prometheus text exposition format 0.0.4, written into a
 * growable buffer.
 *
 * A family is announced once (prom_family: the `# HELP` and `# TYPE`
 * lines), then its samples follow, one line each: the name, the labels
 * with their values escaped (backslash, double quote, newline), and the
 * value. Values are written so that Prometheus reads back the same double:
 * integers exactly, other values in the shortest form that round-trips,
 * and NaN, +Inf and -Inf by those names. A histogram is written from a
 * struct latency_hist (milliseconds) as Prometheus wants it: seconds,
 * cumulative `_bucket` lines up to `le="+Inf"`, then `_sum` and `_count`.
 *
 * Out of memory is sticky: the writers do nothing once an allocation
 * failed, and prom_text_take returns NULL; the caller checks once at the
 * end.
 */
#ifndef RELAYWATCH_PROM_TEXT_H
#define RELAYWATCH_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "latency_hist.h"

/* Enough for any double prom_format_double writes, NUL included. */
#define PROM_DOUBLE_SIZE 32
/* The longest family name prom_family remembers to write it only once. */
#define PROM_NAME_MAX 128

struct prom_text {
        char *buf;
        size_t len, cap;
        int oom;                    /* an allocation failed: everything after is dropped */
        char family[PROM_NAME_MAX]; /* the family last announced */
};

struct prom_label {
        const char *name;
        const char *value; /* escaped when written */
};

/* An empty buffer; prom_text_release frees it, prom_text_take hands it over. */
void prom_text_init(struct prom_text *t);
void prom_text_release(struct prom_text *t);

/*
 * The text written (NUL-terminated, its length in *len when len is not
 * NULL), owned by the caller (free), and `t` empty again; NULL when an
 * allocation failed on the way (then `t` is released).
 */
char *prom_text_take(struct prom_text *t, size_t *len);

/* Appends n bytes, or a formatted string. */
void prom_text_append(struct prom_text *t, const char *s, size_t n);
void prom_text_printf(struct prom_text *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * `# HELP name help` and `# TYPE name type` ("counter", "gauge",
 * "histogram"); nothing when `name` is the family announced last, so a
 * writer may call it before each label set. `help` is escaped as the
 * format wants (backslash, newline).
 */
void prom_family(struct prom_text *t, const char *name, const char *type, const char *help);

/* v as Prometheus reads it: "42", "0.25", "1e+21", "NaN", "+Inf", "-Inf". */
void prom_format_double(double v, char out[PROM_DOUBLE_SIZE]);

/* `name{labels} value`; nlabels may be 0. */
void prom_sample(struct prom_text *t, const char *name, const struct prom_label *labels,
                 size_t nlabels, double value);
/* The same with an exact unsigned integer (counters past 2^53 stay exact in the text). */
void prom_sample_u64(struct prom_text *t, const char *name, const struct prom_label *labels,
                     size_t nlabels, uint64_t value);

/*
 * The samples of histogram `name` (announce it first with prom_family,
 * type "histogram") from `h`: name_bucket{labels,le="0.001"} ...
 * name_bucket{labels,le="+Inf"} (cumulative), name_sum (seconds),
 * name_count. At most PROM_LABELS_MAX labels besides `le`.
 */
#define PROM_LABELS_MAX 8
void prom_histogram(struct prom_text *t, const char *name, const struct prom_label *labels,
                    size_t nlabels, const struct latency_hist *h);

#endif
