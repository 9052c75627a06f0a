#include "inv_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hex.h"
#include "rwerr.h"
#include "u256.h"

static const char *const asset_names[] = {"SIGIL", "USDX", "WETH", "DAI"};
static const unsigned asset_decimals[] = {18, 6, 18, 18};

static void set_view(struct snap_view *v, const char *endpoint, uint8_t hash_byte)
{
        snprintf(v->endpoint, sizeof v->endpoint, "%s", endpoint);
        v->ok = 1;
        memset(v->block_hash, hash_byte, sizeof v->block_hash);
}

void inv_fixture_snapshot(struct snapshot *s, size_t nassets, size_t naccounts)
{
        size_t i, c;

        assert_true(nassets <= sizeof asset_names / sizeof asset_names[0]);
        memset(s, 0, sizeof *s);
        s->taken_ms = 1700000000000;
        snprintf(s->correlation_id, sizeof s->correlation_id, "test-cycle");
        assert_int_equal(snapshot_alloc_assets_accounts(s, nassets, naccounts), RW_OK);
        for (i = 0; i < nassets; i++) {
                struct snap_asset *a = &s->assets[i];

                snprintf(a->name, sizeof a->name, "%s", asset_names[i]);
                a->decimals = asset_decimals[i];
                memset(a->source_token, 0x10 + (int)i, sizeof a->source_token);
                memset(a->bridged_token, 0x20 + (int)i, sizeof a->bridged_token);
                s->ledger.assets[i].known = 1;
        }
        for (i = 0; i < naccounts; i++) {
                struct snap_account *a = &s->accounts[i];

                memset(a->address, 0xa0 + (int)i, sizeof a->address);
                a->chain = i % 2 == 0 ? SNAP_SOURCE : SNAP_EXECUTION;
                a->ledger_known = 1;
                a->ledger_next = 7;
        }
        for (c = 0; c < SNAP_NCHAINS; c++) {
                struct snap_chain *ch = &s->chains[c];

                ch->chain_id = c + 1;
                ch->ok = 1;
                ch->confirmations = 2;
                ch->head = c == SNAP_SOURCE ? 102 : 202;
                ch->pinned = c == SNAP_SOURCE ? 100 : 200;
                ch->ledger_indexed = 1;
                ch->indexed_through = ch->pinned;
                ch->tip = ch->pinned;
                ch->anchors_from = c == SNAP_SOURCE ? 90 : 0;
                ch->anchors_to = ch->pinned;
                ch->nviews = 1;
                set_view(&ch->views[0], c == SNAP_SOURCE ? "src-a" : "exe-a", (uint8_t)(0xb0 + c));
                assert_int_equal(snapshot_alloc_view(s, (enum snap_chain_role)c, &ch->views[0]),
                                 RW_OK);
                for (i = 0; i < naccounts; i++) {
                        ch->views[0].nonce_latest[i] = 7;
                        ch->views[0].nonce_pending[i] = 7;
                }
                ch->nendpoints = 1;
                snprintf(ch->endpoints[0].endpoint, sizeof ch->endpoints[0].endpoint, "%s",
                         c == SNAP_SOURCE ? "src-a" : "exe-a");
                ch->endpoints[0].breaker = "closed";
        }
        s->ledger.ok = 1;
}

void inv_fixture_params(struct invariant_params *p)
{
        invariant_params_defaults(p);
        p->quorum[SNAP_SOURCE] = 1;
        p->quorum[SNAP_EXECUTION] = 1;
        p->endpoints[SNAP_SOURCE] = 1;
        p->endpoints[SNAP_EXECUTION] = 1;
}

static void *dup_or_null(const void *src, size_t n, size_t size)
{
        void *p;

        if (src == NULL || n == 0)
                return NULL;
        p = malloc(n * size);
        assert_non_null(p);
        memcpy(p, src, n * size);
        return p;
}

struct snap_view *inv_fixture_add_view(struct snapshot *s, enum snap_chain_role c,
                                       const char *endpoint)
{
        struct snap_chain *ch = &s->chains[c];
        const struct snap_view *v0 = &ch->views[0];
        struct snap_view *v;
        size_t nbatches = c == SNAP_SOURCE ? s->ledger.nbatches : 0;

        assert_true(ch->nviews < SNAP_VIEWS_MAX);
        v = &ch->views[ch->nviews++];
        memset(v, 0, sizeof *v);
        set_view(v, endpoint, v0->block_hash[0]);
        v->token_values = dup_or_null(v0->token_values, s->nassets, sizeof *v->token_values);
        v->nonce_latest = dup_or_null(v0->nonce_latest, s->naccounts, sizeof *v->nonce_latest);
        v->nonce_pending = dup_or_null(v0->nonce_pending, s->naccounts, sizeof *v->nonce_pending);
        v->anchored_roots = dup_or_null(v0->anchored_roots, nbatches, sizeof *v->anchored_roots);
        v->anchors = dup_or_null(v0->anchors, v0->nanchors, sizeof *v->anchors);
        v->nanchors = v0->nanchors;
        if (ch->nendpoints < SNAP_VIEWS_MAX) {
                struct snap_endpoint_health *h = &ch->endpoints[ch->nendpoints++];

                snprintf(h->endpoint, sizeof h->endpoint, "%s", endpoint);
                h->breaker = "closed";
        }
        return v;
}

void inv_fixture_batches(struct snapshot *s, size_t n, uint64_t first)
{
        struct snap_chain *src = &s->chains[SNAP_SOURCE];
        size_t i;

        free(s->ledger.batches);
        s->ledger.batches = calloc(n, sizeof *s->ledger.batches);
        assert_non_null(s->ledger.batches);
        s->ledger.nbatches = n;
        for (i = 0; i < n; i++) {
                s->ledger.batches[i].batch_number = first + i;
                s->ledger.batches[i].created_ms = -1;
                s->ledger.batches[i].anchored_ms = -1;
        }
        for (i = 0; i < src->nviews; i++) {
                free(src->views[i].anchored_roots);
                src->views[i].anchored_roots = calloc(n, sizeof *src->views[i].anchored_roots);
                assert_non_null(src->views[i].anchored_roots);
        }
}

void inv_fixture_anchors(struct snap_view *v, const struct snap_anchor *anchors, size_t n)
{
        free(v->anchors);
        v->anchors = dup_or_null(anchors, n, sizeof *anchors);
        v->nanchors = n;
}

struct u256 inv_fixture_u256(const char *dec)
{
        struct u256 v;
        struct rwerr err;

        if (u256_parse_dec(dec, strlen(dec), &v, &err) != RW_OK)
                fail_msg("inv_fixture_u256(\"%s\"): %s", dec, err.msg);
        return v;
}

struct u256 inv_fixture_units(const char *units, unsigned decimals)
{
        struct u256 v;
        struct rwerr err;

        if (u256_parse_units(units, strlen(units), decimals, &v, &err) != RW_OK)
                fail_msg("inv_fixture_units(\"%s\"): %s", units, err.msg);
        return v;
}

void inv_fixture_hex(const char *hex, uint8_t *out, size_t n)
{
        struct rwerr err;

        if (hex_decode(hex, strlen(hex), out, n, &err) != RW_OK)
                fail_msg("inv_fixture_hex(\"%s\"): %s", hex, err.msg);
}

struct verdict *inv_fixture_run(const struct snapshot *s, const struct invariant_params *p,
                                struct verdict *out, const char *name)
{
        size_t i;

        assert_true(invariant_count + 1 <= INV_FIXTURE_VERDICTS);
        memset(out, 0, INV_FIXTURE_VERDICTS * sizeof *out);
        invariants_evaluate(s, p, out);
        for (i = 0; i <= invariant_count; i++) {
                assert_non_null(out[i].invariant);
                /* Every verdict carries a summary and evidence. */
                if (out[i].summary[0] == '\0')
                        fail_msg("%s: empty summary", out[i].invariant);
                assert_non_null(out[i].evidence);
        }
        for (i = 0; i <= invariant_count; i++)
                if (strcmp(out[i].invariant, name) == 0)
                        return &out[i];
        fail_msg("no verdict called %s", name);
        return NULL;
}

void inv_fixture_release(struct verdict *out)
{
        size_t i;

        for (i = 0; i < INV_FIXTURE_VERDICTS; i++)
                verdict_release(&out[i]);
}

const struct cJSON *inv_fixture_at(const struct cJSON *root, const char *path)
{
        const cJSON *cur = root;
        char part[64];
        const char *p = path;

        while (cur != NULL && *p != '\0') {
                size_t n = strcspn(p, ".");
                char *end;

                assert_true(n < sizeof part);
                memcpy(part, p, n);
                part[n] = '\0';
                p += n + (p[n] == '.');
                if (cJSON_IsArray(cur)) {
                        long idx = strtol(part, &end, 10);

                        if (*end != '\0' || idx < 0)
                                return NULL;
                        cur = cJSON_GetArrayItem(cur, (int)idx);
                } else {
                        cur = cJSON_GetObjectItemCaseSensitive(cur, part);
                }
        }
        return cur;
}

const char *inv_fixture_str(const struct cJSON *root, const char *path)
{
        const cJSON *item = inv_fixture_at(root, path);

        if (!cJSON_IsString(item)) {
                char *text = cJSON_Print(root);

                print_error("evidence: %s\n", text != NULL ? text : "(null)");
                free(text);
                fail_msg("evidence has no string at %s", path);
        }
        return cJSON_GetStringValue(item);
}

double inv_fixture_num(const struct cJSON *root, const char *path)
{
        const cJSON *item = inv_fixture_at(root, path);

        if (!cJSON_IsNumber(item)) {
                char *text = cJSON_Print(root);

                print_error("evidence: %s\n", text != NULL ? text : "(null)");
                free(text);
                fail_msg("evidence has no number at %s", path);
        }
        return cJSON_GetNumberValue(item);
}

void inv_fixture_contains(const char *hay, const char *needle)
{
        if (hay == NULL || strstr(hay, needle) == NULL)
                fail_msg("\"%s\" not found in \"%s\"", needle, hay != NULL ? hay : "(null)");
}

struct inv_fx *inv_fx_new(size_t nassets, size_t naccounts)
{
        static struct inv_fx f;

        memset(&f, 0, sizeof f);
        inv_fixture_snapshot(&f.s, nassets, naccounts);
        inv_fixture_params(&f.p);
        return &f;
}

int inv_fx_setup(void **state)
{
        *state = inv_fx_new(1, 0);
        return 0;
}

int inv_fx_teardown(void **state)
{
        struct inv_fx *f = *state;

        inv_fixture_release(f->out);
        snapshot_free(&f->s);
        return 0;
}

/*
 * Fails unless v's evidence lists exactly want[0..n) as "subjects", in that
 * order and not truncated; n == 0: no "subjects" at all.
 */
void inv_fixture_subjects_are(const struct verdict *v, const char *const *want, size_t n)
{
        const cJSON *got = inv_fixture_at(v->evidence, "subjects");
        cJSON *expect = cJSON_CreateArray();
        char *got_text, *want_text;
        int same;
        size_t i;

        assert_non_null(expect);
        for (i = 0; i < n; i++)
                assert_true(cJSON_AddItemToArray(expect, cJSON_CreateString(want[i])));
        same = n == 0 ? got == NULL : cJSON_Compare(got, expect, 1);
        if (!same) {
                got_text = got != NULL ? cJSON_PrintUnformatted(got) : NULL;
                want_text = cJSON_PrintUnformatted(expect);
                print_error("subjects %s, want %s\n", got_text != NULL ? got_text : "(none)",
                            want_text != NULL ? want_text : "?");
                free(got_text);
                free(want_text);
        }
        cJSON_Delete(expect);
        assert_true(same);
        assert_null(inv_fixture_at(v->evidence, "subjects_truncated"));
}
