#include "evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "u256.h"

#define EVIDENCE_EXACT_MAX (UINT64_C(1) << 53) /* doubles are exact up to here */

void evidence_format(char *out, size_t cap, const char *fmt, ...)
{
        va_list ap;

        if (cap == 0)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(out, cap, fmt, ap);
        va_end(ap);
}

void evidence_hex_text(const uint8_t *in, size_t n, char *out, size_t cap)
{
        if (cap == 0)
                return;
        if (hex_encode(in, n, out, cap) == 0)
                (void)snprintf(out, cap, "?");
}

void evidence_units_text(const struct u256 *a, unsigned decimals, const char *symbol, char *out,
                         size_t cap)
{
        if (cap == 0)
                return;
        if (u256_format_units(a, decimals, symbol, out, cap) == 0)
                (void)snprintf(out, cap, "?");
}

struct cJSON *evidence_amount(struct cJSON *parent, const char *key, const struct u256 *a,
                              unsigned decimals, const char *symbol)
{
        char dec[U256_DEC_SIZE];
        char units[U256_UNITS_SIZE(SNAP_NAME_MAX)];
        cJSON *o;

        if (parent == NULL)
                return NULL;
        o = cJSON_AddObjectToObject(parent, key);
        if (o == NULL)
                return NULL;
        u256_format_dec(a, dec, sizeof dec);
        evidence_units_text(a, decimals, symbol, units, sizeof units);
        cJSON_AddStringToObject(o, "base", dec);
        cJSON_AddStringToObject(o, "units", units);
        return o;
}

void evidence_hex(struct cJSON *parent, const char *key, const uint8_t *in, size_t n)
{
        char text[HEX_ENCODED_SIZE(65)];

        if (parent == NULL)
                return;
        evidence_hex_text(in, n, text, sizeof text);
        cJSON_AddStringToObject(parent, key, text);
}

void evidence_u64(struct cJSON *parent, const char *key, uint64_t v)
{
        char text[24];

        if (parent == NULL)
                return;
        if (v <= EVIDENCE_EXACT_MAX) {
                cJSON_AddNumberToObject(parent, key, (double)v);
                return;
        }
        evidence_format(text, sizeof text, "%llu", (unsigned long long)v);
        cJSON_AddStringToObject(parent, key, text);
}

void evidence_str(struct cJSON *parent, const char *key, const char *s)
{
        if (parent != NULL)
                cJSON_AddStringToObject(parent, key, s);
}

void evidence_chain(struct cJSON *parent, const char *key, const struct snapshot *s,
                    enum snap_chain_role c, size_t view)
{
        const struct snap_chain *ch = &s->chains[c];
        cJSON *o;

        if (parent == NULL)
                return;
        o = cJSON_AddObjectToObject(parent, key);
        if (o == NULL)
                return;
        evidence_u64(o, "chain_id", ch->chain_id);
        if (!ch->ok) {
                evidence_str(o, "error", ch->error);
                return;
        }
        evidence_u64(o, "head", ch->head);
        evidence_u64(o, "pinned", ch->pinned);
        if (view >= ch->nviews) {
                evidence_str(o, "error", "no endpoint was read");
                return;
        }
        evidence_str(o, "endpoint", ch->views[view].endpoint);
        if (!ch->views[view].ok) {
                evidence_str(o, "error", ch->views[view].error);
                return;
        }
        evidence_hex(o, "block_hash", ch->views[view].block_hash, 32);
}

const struct snap_view *evidence_view(const struct snapshot *s, enum snap_chain_role c, size_t view,
                                      char *why, size_t cap)
{
        const struct snap_chain *ch = &s->chains[c];
        const char *role = snap_chain_role_name(c);

        if (!ch->ok) {
                evidence_format(why, cap, "%s chain not read: %s", role, ch->error);
                return NULL;
        }
        if (view >= ch->nviews || view >= SNAP_VIEWS_MAX) {
                evidence_format(why, cap, "%s chain: no endpoint was read at the pinned block %llu",
                                role, (unsigned long long)ch->pinned);
                return NULL;
        }
        if (!ch->views[view].ok) {
                evidence_format(why, cap, "%s endpoint %s failed: %s", role,
                                ch->views[view].endpoint, ch->views[view].error);
                return NULL;
        }
        return &ch->views[view];
}
