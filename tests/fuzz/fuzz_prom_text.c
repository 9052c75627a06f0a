/*
 * Fuzz target for watchdog/metrics/prom_text: label values and help texts
 * that carry what an outsider wrote (an endpoint's name, a verdict's
 * subject). Whatever the bytes, the exposition must stay well-formed UTF-8
 * (Prometheus drops a whole scrape over one bad label value), keep one
 * sample per line, and give back the value when its escapes are undone,
 * with each byte that was not UTF-8 read as U+FFFD.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"
#include "prom_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* U+FFFD in UTF-8 */
static const unsigned char replacement[3] = {0xef, 0xbf, 0xbd};

/* `in` as the renderer should have kept it: each malformed byte as U+FFFD. */
static size_t expected_value(const unsigned char *in, size_t n, char *out)
{
        size_t i = 0, o = 0, k;

        while (i < n) {
                if ((k = utf8_sequence_len(in + i, n - i)) == 0) {
                        memcpy(out + o, replacement, sizeof replacement);
                        o += sizeof replacement;
                        i++;
                } else {
                        memcpy(out + o, in + i, k);
                        o += k;
                        i += k;
                }
        }
        return o;
}

/* The label value of `line` (after `v="`) with its escapes undone; -1 when malformed. */
static long unescape_value(const char *line, char *out)
{
        const char *p = strstr(line, "{v=\"");
        size_t o = 0;

        if (p == NULL)
                return -1;
        for (p += 4; *p != '"'; p++) {
                if (*p == '\0' || *p == '\n')
                        return -1;
                if (*p == '\\') {
                        p++;
                        if (*p == 'n')
                                out[o++] = '\n';
                        else if (*p == '\\' || *p == '"')
                                out[o++] = *p;
                        else
                                return -1; /* an escape Prometheus does not know */
                } else {
                        out[o++] = *p;
                }
        }
        return strncmp(p, "\"} 1\n", 5) == 0 ? (long)o : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct prom_text t;
        struct prom_label l = {"v", NULL};
        char *value, *want, *got, *text, *sample;
        size_t n, len = 0, wn, lines = 0, i, bad;
        long gn;

        if (size > 4096)
                return 0;
        n = strnlen((const char *)data, size); /* C strings: up to the first NUL */
        value = malloc(n + 1);
        want = malloc(3 * n + 1);
        got = malloc(3 * n + 1);
        if (value == NULL || want == NULL || got == NULL)
                abort();
        memcpy(value, data, n);
        value[n] = '\0';
        l.value = value;
        prom_text_init(&t);
        prom_family(&t, "relaywatch_fuzz", "gauge", value);
        prom_sample(&t, "relaywatch_fuzz", &l, 1, 1);
        text = prom_text_take(&t, &len);
        if (text == NULL)
                abort();
        if (!utf8_valid(text, len, &bad))
                abort(); /* a byte that is not UTF-8 reached the exposition */
        for (i = 0; i < len; i++)
                lines += text[i] == '\n';
        if (lines != 3 || len == 0 || text[len - 1] != '\n')
                abort(); /* HELP, TYPE and the sample, one line each */
        sample = strstr(text, "\nrelaywatch_fuzz{");
        if (sample == NULL)
                abort();
        wn = expected_value((const unsigned char *)value, n, want);
        gn = unescape_value(sample + 1, got);
        if (gn < 0 || (size_t)gn != wn || memcmp(got, want, wn) != 0)
                abort(); /* the value does not come back */
        free(text);
        free(value);
        free(want);
        free(got);
        return 0;
}
