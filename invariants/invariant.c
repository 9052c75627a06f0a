#include "invariant.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "rwclock.h"

#define ENDPOINT_DISAGREEMENT "ENDPOINT_DISAGREEMENT"
#define CHAIN_BIT(c) (1u << (unsigned)(c))
#define ALL_CHAINS (CHAIN_BIT(SNAP_SOURCE) | CHAIN_BIT(SNAP_EXECUTION))
#define SUBJECTS_KEY "subjects"
#define SUBJECTS_TRUNCATED_KEY "subjects_truncated"

const struct invariant *const invariant_table[] = {
        &supply_mismatch_check,    &duplicate_batch_check,    &proof_verification_fail_check,
        &nonce_desync_check,       &rpc_timeout_check,        &db_connection_lost_check,
        &high_latency_check,       &gas_estimate_miss_check,  &queue_buildup_check,
        &settlement_latency_check, &proof_success_rate_check, &duplicate_event_rate_check,
        &rpc_success_rate_check,   &ledger_query_time_check,
};
const size_t invariant_count = sizeof invariant_table / sizeof invariant_table[0];

const char *invariant_mode_name(enum invariant_mode mode)
{
        switch (mode) {
        case INVARIANT_ENFORCE:
                return "enforce";
        case INVARIANT_SHADOW:
                return "shadow";
        }
        return "invalid";
}

void invariant_params_defaults(struct invariant_params *p)
{
        size_t c;

        memset(p, 0, sizeof *p);
        for (c = 0; c < SNAP_NCHAINS; c++) {
                p->quorum[c] = 1;
                p->endpoints[c] = 1;
        }
        p->nonce_gap = 5;
        p->relayer_cycle_ms = 2000;
        p->watchdog_cycle_ms = 2000;
        p->gas_ratio_percent = 150;
        p->pending_operations = 10;
        p->stream_lag = 100;
        p->nsigners = 0;
        p->modes = NULL;
}

enum invariant_mode invariant_params_mode(const struct invariant_params *p, const char *name)
{
        const struct invariant_mode_setting *m;

        if (p == NULL || name == NULL)
                return INVARIANT_ENFORCE;
        for (m = p->modes; m != NULL && m->name != NULL; m++)
                if (strcmp(m->name, name) == 0)
                        return m->mode;
        return INVARIANT_ENFORCE;
}

void verdict_set(struct verdict *v, enum verdict_status status, const char *fmt, ...)
{
        va_list ap;

        v->status = status;
        va_start(ap, fmt);
        (void)vsnprintf(v->summary, sizeof v->summary, fmt, ap);
        va_end(ap);
}

struct cJSON *verdict_evidence(struct verdict *v)
{
        if (v->evidence == NULL)
                v->evidence = cJSON_CreateObject();
        return v->evidence;
}

/* Cuts `text` (of length len) before a UTF-8 sequence the cut left incomplete. */
static void cut_whole_characters(char *text, size_t len)
{
        size_t start = len, need;
        unsigned char lead;

        while (start > 0 && ((unsigned char)text[start - 1] & 0xc0) == 0x80)
                start--;
        if (start == 0)
                return;
        lead = (unsigned char)text[start - 1];
        if (lead < 0xc0)
                return; /* ASCII: nothing was left half */
        need = lead >= 0xf0 ? 4 : (lead >= 0xe0 ? 3 : 2);
        if (len - (start - 1) < need)
                text[start - 1] = '\0';
}

void verdict_add_subject(struct verdict *v, const char *fmt, ...)
{
        char text[VERDICT_SUBJECT_MAX];
        cJSON *ev, *arr, *item;
        size_t count = 0;
        va_list ap;
        int n;

        if (v == NULL || fmt == NULL)
                return;
        va_start(ap, fmt);
        n = vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof text)
                cut_whole_characters(text, sizeof text - 1);
        if (text[0] == '\0')
                return; /* "" is the whole bridge: a verdict without subjects */
        ev = verdict_evidence(v);
        if (ev == NULL)
                return;
        arr = cJSON_GetObjectItemCaseSensitive(ev, SUBJECTS_KEY);
        if (arr == NULL)
                arr = cJSON_AddArrayToObject(ev, SUBJECTS_KEY);
        if (!cJSON_IsArray(arr))
                return;
        cJSON_ArrayForEach(item, arr)
        {
                const char *have = cJSON_GetStringValue(item);

                if (have != NULL && strcmp(have, text) == 0)
                        return;
                count++;
        }
        if (count >= VERDICT_SUBJECTS_MAX) {
                if (cJSON_GetObjectItemCaseSensitive(ev, SUBJECTS_TRUNCATED_KEY) == NULL)
                        cJSON_AddTrueToObject(ev, SUBJECTS_TRUNCATED_KEY);
                return;
        }
        item = cJSON_CreateString(text);
        if (item == NULL || !cJSON_AddItemToArray(arr, item))
                cJSON_Delete(item);
}

/* A verdict that is no longer violated names no subject. */
static void drop_subjects(struct verdict *v)
{
        cJSON_DeleteItemFromObjectCaseSensitive(v->evidence, SUBJECTS_KEY);
        cJSON_DeleteItemFromObjectCaseSensitive(v->evidence, SUBJECTS_TRUNCATED_KEY);
}

void verdict_release(struct verdict *v)
{
        if (v == NULL)
                return;
        cJSON_Delete(v->evidence);
        memset(v, 0, sizeof *v);
}

const struct invariant *invariant_find(const char *name)
{
        size_t i;

        if (name == NULL)
                return NULL;
        for (i = 0; i < invariant_count; i++)
                if (strcmp(invariant_table[i]->name, name) == 0)
                        return invariant_table[i];
        return NULL;
}

static void verdict_start(struct verdict *v, const char *name, enum verdict_tier tier,
                          const struct invariant_params *p)
{
        memset(v, 0, sizeof *v);
        v->invariant = name;
        v->tier = tier;
        v->mode = invariant_params_mode(p, name);
}

/* The chains a weighed check reads at all. */
static unsigned chains_read(const struct invariant *inv, const struct snapshot *s)
{
        unsigned mask = 0;
        size_t i;

        if (inv == &duplicate_batch_check || inv == &proof_verification_fail_check)
                return CHAIN_BIT(SNAP_SOURCE);
        if (inv != &nonce_desync_check)
                return ALL_CHAINS;
        for (i = 0; i < s->naccounts && s->accounts != NULL; i++)
                if ((unsigned)s->accounts[i].chain < SNAP_NCHAINS)
                        mask |= CHAIN_BIT(s->accounts[i].chain);
        return mask;
}

/*
 * The chains a violation rests on, from its evidence (see CHECKS_RESTS_ON):
 * none when it rests on the ledger alone.
 */
static unsigned chains_rested_on(const struct verdict *v, unsigned fallback)
{
        const cJSON *arr, *item;
        unsigned mask = 0;

        arr = cJSON_GetObjectItemCaseSensitive(v->evidence, CHECKS_RESTS_ON);
        if (!cJSON_IsArray(arr))
                return fallback;
        cJSON_ArrayForEach(item, arr)
        {
                const char *name = cJSON_GetStringValue(item);

                if (name == NULL)
                        continue;
                if (strcmp(name, snap_chain_role_name(SNAP_SOURCE)) == 0)
                        mask |= CHAIN_BIT(SNAP_SOURCE);
                else if (strcmp(name, snap_chain_role_name(SNAP_EXECUTION)) == 0)
                        mask |= CHAIN_BIT(SNAP_EXECUTION);
        }
        return mask;
}

static size_t chain_views(const struct snapshot *s, size_t c)
{
        size_t n = s->chains[c].nviews;

        return n > SNAP_VIEWS_MAX ? SNAP_VIEWS_MAX : n;
}

/* The quorum of chain c that can be met: 1 .. endpoints configured. */
static unsigned effective_quorum(const struct invariant_params *p, size_t c)
{
        unsigned q = p->quorum[c], n = p->endpoints[c];

        if (n == 0)
                n = 1;
        if (q == 0)
                q = 1;
        return q > n ? n : q;
}

/* Pass k reads view k of each chain, or its last view when it has fewer. */
static void pass_views(const struct snapshot *s, size_t k, size_t view[SNAP_NCHAINS])
{
        size_t c, n;

        for (c = 0; c < SNAP_NCHAINS; c++) {
                n = chain_views(s, c);
                view[c] = n == 0 ? 0 : (k < n ? k : n - 1);
        }
}

/* "source rpc-a, execution rpc-b" for the chains in `mask`, as pass k read them. */
static void pass_label(const struct snapshot *s, size_t k, unsigned mask, char *out, size_t cap)
{
        size_t view[SNAP_NCHAINS], c, len = 0;

        out[0] = '\0';
        pass_views(s, k, view);
        for (c = 0; c < SNAP_NCHAINS && len < cap; c++) {
                const char *ep;
                int n;

                if (!(mask & CHAIN_BIT(c)))
                        continue;
                ep = view[c] < chain_views(s, c) ? s->chains[c].views[view[c]].endpoint
                                                 : "(no endpoint)";
                n = snprintf(out + len, cap - len, "%s%s %s", len > 0 ? ", " : "",
                             snap_chain_role_name((enum snap_chain_role)c), ep);
                if (n < 0)
                        break;
                len += (size_t)n;
        }
        if (len >= cap && cap > 0)
                out[cap - 1] = '\0';
}

/* [{ pass, endpoints: { chain: endpoint }, status, summary }] of every pass. */
static cJSON *views_evidence(const struct snapshot *s, const struct verdict *passes, size_t npasses,
                             unsigned mask)
{
        cJSON *arr = cJSON_CreateArray();
        size_t k, c, view[SNAP_NCHAINS];

        for (k = 0; k < npasses && arr != NULL; k++) {
                cJSON *o = cJSON_CreateObject(), *eps;

                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        break;
                }
                cJSON_AddNumberToObject(o, "pass", (double)k);
                eps = cJSON_AddObjectToObject(o, "endpoints");
                pass_views(s, k, view);
                for (c = 0; c < SNAP_NCHAINS && eps != NULL; c++)
                        if ((mask & CHAIN_BIT(c)) && view[c] < chain_views(s, c))
                                cJSON_AddStringToObject(
                                        eps, snap_chain_role_name((enum snap_chain_role)c),
                                        s->chains[c].views[view[c]].endpoint);
                cJSON_AddStringToObject(o, "status", verdict_status_name(passes[k].status));
                cJSON_AddStringToObject(o, "summary", passes[k].summary);
        }
        return arr;
}

/*
 * Of the violated passes, the one whose summary the most others repeat
 * word for word (ties: the earliest, `first`). Endpoints that answer
 * honestly read the same figures; one that lies stands alone, and a real
 * violation seen through every view must not be paged in the liar's words.
 */
static size_t most_repeated(const struct verdict *passes, const enum verdict_status *status,
                            size_t npasses, size_t first)
{
        size_t k, j, best = first, best_n = 0;

        for (k = 0; k < npasses; k++) {
                size_t n = 0;

                if (status[k] != VERDICT_VIOLATED)
                        continue;
                for (j = 0; j < npasses; j++) {
                        if (j != k && status[j] == VERDICT_VIOLATED &&
                            strcmp(passes[j].summary, passes[k].summary) == 0)
                                n++;
                }
                if (n > best_n) {
                        best = k;
                        best_n = n;
                }
        }
        return best;
}

struct quorum_state {
        unsigned short_of; /* chains whose agreeing views are fewer than the quorum */
        unsigned can_ask;  /* of those, chains with endpoints not read yet */
        size_t agreeing[SNAP_NCHAINS];
};

/* How many views of each chain in `mask` answered and agree on the violation. */
static void weigh_quorum(const struct snapshot *s, const struct invariant_params *p,
                         const enum verdict_status *status, size_t npasses, unsigned mask,
                         struct quorum_state *q, cJSON *ev)
{
        cJSON *qo = cJSON_AddObjectToObject(ev, "quorum");
        size_t c, j;

        memset(q, 0, sizeof *q);
        for (c = 0; c < SNAP_NCHAINS; c++) {
                size_t n = chain_views(s, c);
                unsigned need = effective_quorum(p, c);
                cJSON *co;

                if (!(mask & CHAIN_BIT(c)))
                        continue;
                for (j = 0; j < n && j < npasses; j++)
                        if (s->chains[c].views[j].ok && status[j] == VERDICT_VIOLATED)
                                q->agreeing[c]++;
                if (q->agreeing[c] < need) {
                        q->short_of |= CHAIN_BIT(c);
                        if (n < p->endpoints[c])
                                q->can_ask |= CHAIN_BIT(c);
                }
                co = cJSON_AddObjectToObject(qo, snap_chain_role_name((enum snap_chain_role)c));
                cJSON_AddNumberToObject(co, "required", need);
                cJSON_AddNumberToObject(co, "configured", p->endpoints[c]);
                cJSON_AddNumberToObject(co, "views", (double)n);
                cJSON_AddNumberToObject(co, "agreeing", (double)q->agreeing[c]);
        }
}

/* "2 of 3 source endpoints" for the first chain short of its quorum. */
static void quorum_text(const struct invariant_params *p, const struct quorum_state *q, char *out,
                        size_t cap)
{
        size_t c;

        out[0] = '\0';
        for (c = 0; c < SNAP_NCHAINS; c++)
                if (q->short_of & CHAIN_BIT(c)) {
                        snprintf(out, cap, "%zu of the %u %s endpoints needed agree",
                                 q->agreeing[c], effective_quorum(p, c),
                                 snap_chain_role_name((enum snap_chain_role)c));
                        return;
                }
}

static void evaluate_weighed(const struct invariant *inv, const struct snapshot *s,
                             const struct invariant_params *p, struct verdict *out)
{
        struct verdict passes[SNAP_VIEWS_MAX];
        enum verdict_status status[SNAP_VIEWS_MAX];
        size_t view[SNAP_NCHAINS], npasses = 1, k, c, nviolated = 0, nok = 0, chosen = 0;
        unsigned mask = chains_read(inv, s), rests = 0;
        char seen[INVARIANT_SUMMARY_MAX], label[INVARIANT_SUMMARY_MAX];
        struct quorum_state q;
        cJSON *views, *ev;

        for (c = 0; c < SNAP_NCHAINS; c++)
                if ((mask & CHAIN_BIT(c)) && chain_views(s, c) > npasses)
                        npasses = chain_views(s, c);
        for (k = 0; k < npasses; k++) {
                verdict_start(&passes[k], inv->name, inv->tier, p);
                pass_views(s, k, view);
                inv->evaluate(s, view, p, &passes[k]);
                status[k] = passes[k].status;
                if (passes[k].status == VERDICT_VIOLATED) {
                        if (nviolated++ == 0)
                                chosen = k;
                        rests |= chains_rested_on(&passes[k], mask);
                } else if (passes[k].status == VERDICT_OK) {
                        nok++;
                }
        }
        views = views_evidence(s, passes, npasses, mask);
        if (nviolated > 1)
                chosen = most_repeated(passes, status, npasses, chosen);

        /* The result is the pass it reports, evidence and all. */
        *out = passes[chosen];
        memset(&passes[chosen], 0, sizeof passes[chosen]);
        for (k = 0; k < npasses; k++)
                verdict_release(&passes[k]);
        ev = verdict_evidence(out);
        if (ev == NULL || !cJSON_AddItemToObject(ev, "views", views))
                cJSON_Delete(views);
        if (nviolated == 0)
                return;

        memcpy(seen, out->summary, sizeof seen);
        pass_label(s, chosen, mask, label, sizeof label);
        if (nok > 0) {
                /* Some endpoints say violated, others ok: believe neither. */
                out->disagreement = 1;
                drop_subjects(out);
                verdict_set(
                        out, VERDICT_UNKNOWN,
                        "endpoints disagree: %zu of %zu views say violated, %zu ok; %s says: %s",
                        nviolated, npasses, nok, label, seen);
                return;
        }
        weigh_quorum(s, p, status, npasses, rests, &q, ev);
        if (q.short_of == 0)
                return; /* the violation stands */
        out->needs_confirmation = q.can_ask != 0;
        drop_subjects(out);
        quorum_text(p, &q, label, sizeof label);
        verdict_set(out, VERDICT_UNKNOWN, "unconfirmed (%s; %s): %s", label,
                    q.can_ask != 0 ? "reading the other endpoints at the same height"
                                   : "no other endpoint left to ask",
                    seen);
}

/* "NAME (source a: violated; source b: ok)" from a verdict's "views" evidence. */
static size_t disagreement_text(const struct verdict *v, char *out, size_t cap)
{
        const cJSON *views = cJSON_GetObjectItemCaseSensitive(v->evidence, "views"), *pass;
        size_t len = 0;
        int n;

        n = snprintf(out, cap, "%s (", v->invariant);
        if (n < 0 || (size_t)n >= cap)
                return cap;
        len = (size_t)n;
        cJSON_ArrayForEach(pass, views)
        {
                const cJSON *eps = cJSON_GetObjectItemCaseSensitive(pass, "endpoints"), *ep;
                const char *status =
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pass, "status"));
                int first = 1;

                if (len >= cap)
                        break;
                if (pass != views->child) {
                        n = snprintf(out + len, cap - len, "; ");
                        len += n > 0 ? (size_t)n : 0;
                }
                cJSON_ArrayForEach(ep, eps)
                {
                        if (len >= cap)
                                break;
                        n = snprintf(out + len, cap - len, "%s%s %s", first ? "" : ", ", ep->string,
                                     cJSON_GetStringValue(ep));
                        len += n > 0 ? (size_t)n : 0;
                        first = 0;
                }
                if (len < cap) {
                        n = snprintf(out + len, cap - len, ": %s", status != NULL ? status : "?");
                        len += n > 0 ? (size_t)n : 0;
                }
        }
        if (len < cap) {
                n = snprintf(out + len, cap - len, ")");
                len += n > 0 ? (size_t)n : 0;
        }
        return len;
}

static void endpoint_disagreement(const struct verdict *v, size_t n, struct verdict *out)
{
        char text[INVARIANT_SUMMARY_MAX];
        size_t i, len = 0, count = 0;
        cJSON *ev = verdict_evidence(out), *arr = cJSON_AddArrayToObject(ev, "disagreements");

        text[0] = '\0';
        for (i = 0; i < n; i++) {
                const cJSON *views;
                cJSON *o;

                if (!v[i].disagreement)
                        continue;
                verdict_add_subject(out, "check %s", v[i].invariant);
                if (count++ > 0 && len < sizeof text)
                        len += (size_t)snprintf(text + len, sizeof text - len, "; ");
                if (len < sizeof text)
                        len += disagreement_text(&v[i], text + len, sizeof text - len);
                o = cJSON_CreateObject();
                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        continue;
                }
                cJSON_AddStringToObject(o, "invariant", v[i].invariant);
                cJSON_AddStringToObject(o, "summary", v[i].summary);
                views = cJSON_GetObjectItemCaseSensitive(v[i].evidence, "views");
                if (views != NULL)
                        cJSON_AddItemToObject(o, "views", cJSON_Duplicate(views, 1));
        }
        if (count == 0) {
                verdict_set(out, VERDICT_OK, "every endpoint read agrees");
                return;
        }
        verdict_set(out, VERDICT_VIOLATED, "endpoints disagree on %zu check%s: %s", count,
                    count == 1 ? "" : "s", text);
}

/*
 * Each verdict's eval_us is the time its check took on the monotonic clock:
 * every weighed view and the weighing, for a check evaluated per view;
 * ENDPOINT_DISAGREEMENT's is its own pass over the others. A verdict
 * evaluated again (after a confirmation) carries the time of the
 * evaluation it reports, not a sum.
 */
/* Every check, or only those that read history, into out[0 .. invariant_count-1]. */
static void evaluate_checks(const struct snapshot *s, const struct invariant_params *p,
                            struct verdict *out, int history_only)
{
        size_t i, none[SNAP_NCHAINS] = {0};
        uint64_t t0;

        for (i = 0; i < invariant_count; i++) {
                const struct invariant *inv = invariant_table[i];

                if (history_only && !inv->reads_history)
                        continue;
                t0 = rwclock_mono_us();
                if (inv->weighs_views) {
                        evaluate_weighed(inv, s, p, &out[i]);
                } else {
                        verdict_start(&out[i], inv->name, inv->tier, p);
                        inv->evaluate(s, none, p, &out[i]);
                }
                out[i].eval_us = rwclock_mono_us() - t0;
        }
}

void invariants_evaluate_disagreement(const struct invariant_params *p, struct verdict *out)
{
        struct invariant_params defaults;
        uint64_t t0 = rwclock_mono_us();

        if (p == NULL) {
                invariant_params_defaults(&defaults);
                p = &defaults;
        }
        verdict_release(&out[invariant_count]);
        verdict_start(&out[invariant_count], ENDPOINT_DISAGREEMENT, VERDICT_TIER_ALERT, p);
        endpoint_disagreement(out, invariant_count, &out[invariant_count]);
        out[invariant_count].eval_us = rwclock_mono_us() - t0;
}

void invariants_evaluate(const struct snapshot *s, const struct invariant_params *p,
                         struct verdict *out)
{
        struct invariant_params defaults;

        if (p == NULL) {
                invariant_params_defaults(&defaults);
                p = &defaults;
        }
        evaluate_checks(s, p, out, 0);
        memset(&out[invariant_count], 0, sizeof out[invariant_count]);
        invariants_evaluate_disagreement(p, out);
}

void invariants_evaluate_history(const struct snapshot *s, const struct invariant_params *p,
                                 struct verdict *out)
{
        struct invariant_params defaults;

        if (p == NULL) {
                invariant_params_defaults(&defaults);
                p = &defaults;
        }
        memset(out, 0, (invariant_count + 1) * sizeof *out);
        evaluate_checks(s, p, out, 1);
}

int invariants_need_confirmation(const struct verdict *v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (v[i].needs_confirmation)
                        return 1;
        return 0;
}

enum verdict_status invariants_tier1_status(const struct verdict *v, size_t n)
{
        enum verdict_status st = VERDICT_OK;
        size_t i;

        for (i = 0; i < n; i++)
                if (v[i].tier == VERDICT_TIER_HALT && v[i].mode == INVARIANT_ENFORCE)
                        st = verdict_status_combine(st, v[i].status);
        return st;
}
