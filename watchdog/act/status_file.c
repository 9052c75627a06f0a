#include "status_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "rwclock.h"
#include "u256.h"

static void add_time(cJSON *o, const char *name, int64_t unix_ms)
{
        char text[RWCLOCK_UTC_SIZE];

        (void)rwclock_format_utc(unix_ms, text, NULL);
        cJSON_AddStringToObject(o, name, text);
}

static int add_endpoints(cJSON *eps, const struct snapshot *s)
{
        size_t k;
        int role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &s->chains[role];
                const char *name = snap_chain_role_name((enum snap_chain_role)role);

                for (k = 0; k < ch->nendpoints; k++) {
                        const struct snap_endpoint_health *h = &ch->endpoints[k];
                        cJSON *e = cJSON_CreateObject();

                        if (e == NULL || !cJSON_AddItemToArray(eps, e)) {
                                cJSON_Delete(e);
                                return -1;
                        }
                        cJSON_AddStringToObject(e, "chain", name);
                        cJSON_AddStringToObject(e, "endpoint", h->endpoint);
                        cJSON_AddStringToObject(e, "breaker", h->breaker != NULL ? h->breaker : "");
                        cJSON_AddNumberToObject(e, "exchanges", (double)h->exchanges);
                        cJSON_AddNumberToObject(e, "failures", (double)h->failures);
                        cJSON_AddBoolToObject(e, "ok", ch->ok);
                        cJSON_AddStringToObject(e, "error", ch->ok ? "" : ch->error);
                }
        }
        return 0;
}

/* ------------------------------------------------------------ assets */

/* parent[key] = {"base": "-123", "units": "-0.000123"}, or null when a is NULL. */
static int add_amount(cJSON *parent, const char *key, const struct u256_signed *a,
                      unsigned decimals)
{
        char dec[U256_DEC_SIZE + 1], units[U256_UNITS_SIZE(0) + 1];
        int neg;
        cJSON *o;

        if (a == NULL)
                return cJSON_AddNullToObject(parent, key) != NULL ? 0 : -1;
        neg = a->neg && !u256_is_zero(&a->mag);
        dec[0] = units[0] = '-';
        u256_format_dec(&a->mag, dec + 1, sizeof dec - 1);
        if (u256_format_units(&a->mag, decimals, NULL, units + 1, sizeof units - 1) == 0)
                (void)snprintf(units + 1, sizeof units - 1, "?");
        o = cJSON_AddObjectToObject(parent, key);
        if (o == NULL || cJSON_AddStringToObject(o, "base", dec + !neg) == NULL ||
            cJSON_AddStringToObject(o, "units", units + !neg) == NULL)
                return -1;
        return 0;
}

/* View 0's value of asset i on chain c, or NULL when that chain was not read. */
static const struct u256 *chain_value(const struct snapshot *s, enum snap_chain_role c, size_t i)
{
        const struct snap_chain *ch = &s->chains[c];

        if (!ch->ok || ch->nviews == 0 || !ch->views[0].ok || ch->views[0].token_values == NULL)
                return NULL;
        return &ch->views[0].token_values[i];
}

/*
 * parent[key] = {"ledger", "chain", "delta"} for one side; *within is 1
 * when |delta| <= tolerance, 0 when not, -1 when the delta is unknown.
 */
static int add_side(cJSON *parent, const char *key, const struct u256_signed *ledger,
                    const struct u256 *chain, const struct snap_asset *a, int *within)
{
        struct u256_signed c, d;
        int have_delta =
                ledger != NULL && chain != NULL && u256_signed_sub(ledger, chain, &d) == RW_OK;
        cJSON *o = cJSON_AddObjectToObject(parent, key);

        *within = have_delta ? u256_cmp(&d.mag, &a->tolerance) <= 0 : -1;
        if (chain != NULL) {
                c.neg = 0;
                c.mag = *chain;
        }
        if (o == NULL || add_amount(o, "ledger", ledger, a->decimals) != 0 ||
            add_amount(o, "chain", chain != NULL ? &c : NULL, a->decimals) != 0 ||
            add_amount(o, "delta", have_delta ? &d : NULL, a->decimals) != 0)
                return -1;
        return 0;
}

/*
 * Whether the SUPPLY_MISMATCH verdict `v` names asset `name` among its
 * subjects: its evidence lists "asset NAME" for each asset it found
 * violated, whichever comparison broke (ledger against the chain at the
 * pinned heights, or the chain's own backing at its tip).
 */
static int supply_names(const struct verdict *v, const char *name)
{
        const cJSON *subjects, *it;
        char want[SNAP_NAME_MAX + 8];

        if (v == NULL || v->status != VERDICT_VIOLATED)
                return 0;
        subjects = cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects");
        (void)snprintf(want, sizeof want, "asset %s", name);
        cJSON_ArrayForEach(it, subjects)
        {
                if (cJSON_IsString(it) && strcmp(it->valuestring, want) == 0)
                        return 1;
        }
        return 0;
}

static int add_asset(cJSON *assets, const struct snapshot *s, const struct verdict *supply,
                     size_t i)
{
        const struct snap_asset *a = &s->assets[i];
        const struct snap_ledger *l = &s->ledger;
        int known = l->ok && l->assets != NULL && l->assets[i].known;
        char tol[U256_UNITS_SIZE(0)];
        struct u256_signed locked, minted;
        int in_locked, in_minted, violated;
        cJSON *o = cJSON_CreateObject(), *ok;

        if (o == NULL || !cJSON_AddItemToArray(assets, o)) {
                cJSON_Delete(o);
                return -1;
        }
        if (known) {
                u256_signed_diff(&l->assets[i].deposited, &l->assets[i].released, &locked);
                u256_signed_diff(&l->assets[i].minted, &l->assets[i].burnt, &minted);
        }
        if (u256_format_units(&a->tolerance, a->decimals, NULL, tol, sizeof tol) == 0)
                (void)snprintf(tol, sizeof tol, "?");
        if (cJSON_AddStringToObject(o, "asset", a->name) == NULL ||
            cJSON_AddNumberToObject(o, "decimals", (double)a->decimals) == NULL ||
            cJSON_AddStringToObject(o, "tolerance_units", tol) == NULL ||
            add_side(o, "locked", known ? &locked : NULL, chain_value(s, SNAP_SOURCE, i), a,
                     &in_locked) != 0 ||
            add_side(o, "minted", known ? &minted : NULL, chain_value(s, SNAP_EXECUTION, i), a,
                     &in_minted) != 0)
                return -1;
        /*
         * violated (SUPPLY_MISMATCH names it: the chain's own backing at the
         * tip may break while the pinned figures still agree) or out of
         * tolerance on either side: false; both known and within: true;
         * else unknown
         */
        violated = supply_names(supply, a->name);
        if (cJSON_AddBoolToObject(o, "violated", violated) == NULL)
                return -1;
        if (violated || in_locked == 0 || in_minted == 0)
                ok = cJSON_CreateFalse();
        else if (in_locked == 1 && in_minted == 1)
                ok = cJSON_CreateTrue();
        else
                ok = cJSON_CreateNull();
        if (ok == NULL || !cJSON_AddItemToObject(o, "ok", ok)) {
                cJSON_Delete(ok);
                return -1;
        }
        return 0;
}

static int add_chains(cJSON *chains, const struct snapshot *s)
{
        int role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &s->chains[role];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(chains, o)) {
                        cJSON_Delete(o);
                        return -1;
                }
                if (cJSON_AddStringToObject(
                            o, "chain", snap_chain_role_name((enum snap_chain_role)role)) == NULL ||
                    cJSON_AddNumberToObject(o, "chain_id", (double)ch->chain_id) == NULL ||
                    cJSON_AddBoolToObject(o, "ok", ch->ok) == NULL ||
                    cJSON_AddNumberToObject(o, "head", (double)ch->head) == NULL ||
                    cJSON_AddNumberToObject(o, "pinned", (double)ch->pinned) == NULL ||
                    cJSON_AddNumberToObject(o, "tip", (double)ch->tip) == NULL ||
                    cJSON_AddNumberToObject(o, "confirmations", (double)ch->confirmations) ==
                            NULL ||
                    cJSON_AddNumberToObject(o, "depth",
                                            ch->head > ch->pinned ? (double)(ch->head - ch->pinned)
                                                                  : 0) == NULL)
                        return -1;
        }
        return 0;
}

static int add_progress(cJSON *cyc, const struct snap_progress *p)
{
        cJSON *o = cJSON_AddObjectToObject(cyc, "progress");

        if (o == NULL || cJSON_AddBoolToObject(o, "known", p->known) == NULL)
                return -1;
        if (!p->known)
                return cJSON_AddStringToObject(o, "problem", p->problem) != NULL ? 0 : -1;
        if (cJSON_AddNumberToObject(o, "deposits", (double)p->deposits) == NULL ||
            cJSON_AddNumberToObject(o, "deposits_pending", (double)p->deposits_pending) == NULL ||
            cJSON_AddNumberToObject(o, "batches_created", (double)p->batches_created) == NULL ||
            cJSON_AddNumberToObject(o, "batches_anchored", (double)p->batches_anchored) == NULL ||
            cJSON_AddNumberToObject(o, "withdrawals", (double)p->withdrawals) == NULL ||
            cJSON_AddNumberToObject(o, "withdrawals_claimed", (double)p->withdrawals_claimed) ==
                    NULL ||
            cJSON_AddNumberToObject(o, "withdrawals_pending", (double)p->withdrawals_pending) ==
                    NULL)
                return -1;
        return 0;
}

/* ------------------------------------------------------------ verdicts */

static int add_verdicts(cJSON *verdicts, const struct cycle_result *r)
{
        size_t i;

        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(verdicts, o)) {
                        cJSON_Delete(o);
                        return -1;
                }
                cJSON_AddStringToObject(o, "invariant", v->invariant);
                cJSON_AddNumberToObject(o, "tier", (double)v->tier);
                cJSON_AddStringToObject(o, "status", verdict_status_name(v->status));
                cJSON_AddStringToObject(o, "mode", invariant_mode_name(v->mode));
                cJSON_AddStringToObject(o, "summary", v->summary);
                cJSON_AddNumberToObject(o, "eval_us", (double)v->eval_us);
                if (v->has_value && isfinite(v->value)) { /* Tier 3: the figure, for the report */
                        cJSON_AddNumberToObject(o, "value", v->value);
                        if (v->unit != NULL)
                                cJSON_AddStringToObject(o, "unit", v->unit);
                }
        }
        return 0;
}

static int add_cycle(cJSON *st, const struct status_file_info *info)
{
        const struct cycle_result *r = info->r;
        const struct snapshot *s = &r->snapshot;
        cJSON *cyc, *heights, *verdicts, *eps, *assets, *chains;
        size_t i;
        int role;

        cyc = cJSON_AddObjectToObject(st, "cycle");
        if (cyc == NULL)
                return -1;
        cJSON_AddStringToObject(cyc, "correlation_id", s->correlation_id);
        add_time(cyc, "started_at", info->cycle_started_unix_ms);
        cJSON_AddNumberToObject(cyc, "duration_ms", (double)r->duration_ms);
        cJSON_AddBoolToObject(cyc, "full_sweep", info->full_sweep);
        cJSON_AddStringToObject(cyc, "tier1", verdict_status_name(r->tier1));
        if (info->failure != NULL)
                cJSON_AddStringToObject(cyc, "failed", info->failure);
        heights = cJSON_AddObjectToObject(cyc, "heights");
        verdicts = cJSON_AddArrayToObject(cyc, "verdicts");
        eps = cJSON_AddArrayToObject(st, "endpoints");
        if (heights == NULL || verdicts == NULL || eps == NULL)
                return -1;
        for (role = 0; role < SNAP_NCHAINS; role++)
                cJSON_AddNumberToObject(heights, snap_chain_role_name((enum snap_chain_role)role),
                                        (double)s->chains[role].pinned);
        if (add_verdicts(verdicts, r) != 0 || add_endpoints(eps, s) != 0)
                return -1;
        assets = cJSON_AddArrayToObject(cyc, "assets");
        chains = cJSON_AddArrayToObject(cyc, "chains");
        if (assets == NULL || chains == NULL || add_chains(chains, s) != 0 ||
            add_progress(cyc, &s->ledger.progress) != 0)
                return -1;
        for (i = 0; i < s->nassets && s->assets != NULL; i++)
                if (add_asset(assets, s, cycle_result_verdict(r, "SUPPLY_MISMATCH"), i) != 0)
                        return -1;
        return 0;
}

cJSON *status_file_json(const struct status_file_info *info)
{
        cJSON *st = cJSON_CreateObject();
        int64_t now = rwclock_wall_ms();

        if (st == NULL)
                return NULL;
        cJSON_AddNumberToObject(st, "v", 1);
        cJSON_AddStringToObject(st, "watchdog_id", info->watchdog_id);
        cJSON_AddNumberToObject(st, "pid", (double)getpid());
        add_time(st, "updated_at", now);
        cJSON_AddNumberToObject(st, "updated_at_ms", (double)now);
        cJSON_AddNumberToObject(st, "updated_mono_ms", (double)rwclock_mono_ms());
        cJSON_AddNumberToObject(st, "interval_ms", (double)info->interval_ms);
        cJSON_AddBoolToObject(st, "healthy", info->healthy);
        cJSON_AddNumberToObject(st, "started_at_ms", (double)info->started_unix_ms);
        cJSON_AddNumberToObject(st, "cycles", (double)info->cycles);
        cJSON_AddNumberToObject(st, "cycles_failed", (double)info->cycles_failed);
        cJSON_AddNumberToObject(st, "cycle_target_ms", (double)info->cycle_target_ms);
        if (info->r != NULL && add_cycle(st, info) != 0) {
                cJSON_Delete(st);
                return NULL;
        }
        return st;
}

int status_file_write(const char *state_dir, const cJSON *status, struct rwerr *err)
{
        char *text = cJSON_Print(status);
        int rc;

        if (text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory printing %s", STATUS_FILE_NAME);
        rc = fileio_replace(state_dir, STATUS_FILE_NAME, text, strlen(text), 0644, 0, err);
        free(text);
        return rc;
}
