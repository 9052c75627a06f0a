/*
 * SUPPLY_MISMATCH: per asset, at the pinned heights,
 *   (a) locked: ledger deposited - released == lockbox balance (source),
 *   (b) minted: ledger minted - burnt == bridged totalSupply (execution),
 *   (c) backing: totalSupply <= lockbox balance, from chain data alone,
 * each within the asset's tolerance (inclusive), in exact u256 arithmetic.
 * (c) is evaluated even when the ledger cannot be: minting more than is
 * locked is a fact of the two chains.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "evidence.h"

#define RECENT_OPERATIONS 5 /* ledger operations quoted in the evidence */
/* Up to this many assets every one is in the evidence; above it only those
 * not ok are, so a bridge of a thousand assets gets a readable verdict
 * (and a cycle that does not spend its time writing JSON nobody reads). */
#define ALL_ASSETS_IN_EVIDENCE 16
#define UNITS_MAX U256_UNITS_SIZE(SNAP_NAME_MAX)

enum cmp_kind { CMP_LOCKED, CMP_MINTED, CMP_BACKING, CMP_COUNT };

static const char *const cmp_names[CMP_COUNT] = {"locked", "minted", "backing"};

struct cmp {
        enum verdict_status status;
        int sign;                         /* chain figure vs the other figure: -1, 0, 1 */
        struct u256 delta;                /* |difference| */
        char line[INVARIANT_SUMMARY_MAX]; /* what was compared, or why it could not be */
};

struct asset_ctx {
        const struct snapshot *s;
        size_t i;
        const struct snap_asset *a;
        const struct u256 *balance; /* NULL: source view unusable */
        const struct u256 *supply;  /* NULL: execution view unusable */
        /* the same at the chains' tips, for the chain-only backing check */
        const struct u256 *tip_balance, *tip_supply;
        const struct snap_ledger_asset *la; /* NULL: ledger unusable for this asset */
        char source_why[RWERR_MSG_MAX];
        char exec_why[RWERR_MSG_MAX];
        char ledger_why[RWERR_MSG_MAX];
};

/*
 * sign of chain - (plus - minus) with |difference| in *delta, without ever
 * going below zero: a ledger that released more than it took in has a
 * negative "locked" figure, which the chain's value exceeds by value + excess.
 * A difference beyond 2^256 - 1 saturates (it is violated either way).
 */
static int signed_delta(const struct u256 *chain, const struct u256 *plus, const struct u256 *minus,
                        struct u256 *delta)
{
        struct u256 net, excess;

        if (u256_sub(plus, minus, &net) == RW_OK)
                return u256_abs_diff(chain, &net, delta);
        if (u256_sub(minus, plus, &excess) != RW_OK || u256_add(chain, &excess, delta) != RW_OK)
                memset(delta, 0xff, sizeof *delta);
        return 1;
}

/* plus - minus as token units, "-" in front when negative. */
static void net_text(const struct asset_ctx *x, const struct u256 *plus, const struct u256 *minus,
                     char *out, size_t cap)
{
        struct u256 net;
        int neg = u256_abs_diff(plus, minus, &net) < 0;

        if (neg)
                out[0] = '-';
        evidence_units_text(&net, x->a->decimals, x->a->name, out + neg, cap - (size_t)neg);
}

/* parent[key] = { base, units } of plus - minus, signed. */
static void net_amount(const struct asset_ctx *x, cJSON *parent, const char *key,
                       const struct u256 *plus, const struct u256 *minus)
{
        char dec[U256_DEC_SIZE + 1], units[UNITS_MAX + 1];
        struct u256 net;
        cJSON *o;

        if (u256_abs_diff(plus, minus, &net) >= 0) {
                evidence_amount(parent, key, &net, x->a->decimals, x->a->name);
                return;
        }
        dec[0] = '-';
        u256_format_dec(&net, dec + 1, sizeof dec - 1);
        net_text(x, plus, minus, units, sizeof units);
        o = cJSON_AddObjectToObject(parent, key);
        cJSON_AddStringToObject(o, "base", dec);
        cJSON_AddStringToObject(o, "units", units);
}

static void units(const struct asset_ctx *x, const struct u256 *v, char *out, size_t cap)
{
        evidence_units_text(v, x->a->decimals, x->a->name, out, cap);
}

/* Ledger figure (plus - minus) against a chain figure, within tolerance. */
static void compare_ledger(const struct asset_ctx *x, enum cmp_kind kind, struct cmp *r)
{
        const struct snap_chain *src = &x->s->chains[SNAP_SOURCE];
        const struct snap_chain *exe = &x->s->chains[SNAP_EXECUTION];
        char chain_u[UNITS_MAX], ledger_u[UNITS_MAX + 1], delta_u[UNITS_MAX];
        const struct u256 *chain = kind == CMP_LOCKED ? x->balance : x->supply;
        const struct u256 *plus, *minus;
        const char *why = kind == CMP_LOCKED ? x->source_why : x->exec_why;

        if (x->la == NULL || chain == NULL) {
                r->status = VERDICT_UNKNOWN;
                evidence_format(r->line, sizeof r->line, "%s %s: could not compare: %s", x->a->name,
                                cmp_names[kind], x->la == NULL ? x->ledger_why : why);
                return;
        }
        plus = kind == CMP_LOCKED ? &x->la->deposited : &x->la->minted;
        minus = kind == CMP_LOCKED ? &x->la->released : &x->la->burnt;
        r->sign = signed_delta(chain, plus, minus, &r->delta);
        r->status = u256_cmp(&r->delta, &x->a->tolerance) > 0 ? VERDICT_VIOLATED : VERDICT_OK;
        units(x, chain, chain_u, sizeof chain_u);
        net_text(x, plus, minus, ledger_u, sizeof ledger_u);
        units(x, &r->delta, delta_u, sizeof delta_u);
        if (kind == CMP_LOCKED)
                evidence_format(r->line, sizeof r->line,
                                "%s locked: lockbox balance %s vs ledger locked %s at source block "
                                "%llu: delta %s, lockbox %s the ledger",
                                x->a->name, chain_u, ledger_u, (unsigned long long)src->pinned,
                                delta_u,
                                r->sign > 0 ? "above" : (r->sign < 0 ? "below" : "equal to"));
        else
                evidence_format(
                        r->line, sizeof r->line,
                        "%s minted: bridged totalSupply %s vs ledger minted %s at execution "
                        "block %llu: delta %s, totalSupply %s the ledger",
                        x->a->name, chain_u, ledger_u, (unsigned long long)exe->pinned, delta_u,
                        r->sign > 0 ? "above" : (r->sign < 0 ? "below" : "equal to"));
}

/*
 * From the chains alone: totalSupply <= lockbox balance + tolerance, at the
 * chains' tips (snapshot.h): this needs nothing from the ledger, so it is
 * not held back by how far the relayer has indexed.
 */
static void compare_backing(const struct asset_ctx *x, struct cmp *r)
{
        char supply_u[UNITS_MAX], balance_u[UNITS_MAX], delta_u[UNITS_MAX];
        unsigned long long src_block = x->s->chains[SNAP_SOURCE].tip;
        unsigned long long exe_block = x->s->chains[SNAP_EXECUTION].tip;

        if (x->tip_balance == NULL || x->tip_supply == NULL) {
                r->status = VERDICT_UNKNOWN;
                evidence_format(r->line, sizeof r->line, "%s backing: could not compare: %s",
                                x->a->name, x->tip_balance == NULL ? x->source_why : x->exec_why);
                return;
        }
        r->sign = u256_abs_diff(x->tip_supply, x->tip_balance, &r->delta);
        r->status = r->sign > 0 && u256_cmp(&r->delta, &x->a->tolerance) > 0 ? VERDICT_VIOLATED
                                                                             : VERDICT_OK;
        units(x, x->tip_supply, supply_u, sizeof supply_u);
        units(x, x->tip_balance, balance_u, sizeof balance_u);
        units(x, &r->delta, delta_u, sizeof delta_u);
        if (r->sign > 0)
                evidence_format(r->line, sizeof r->line,
                                "%s backing: bridged totalSupply %s at execution block %llu "
                                "exceeds lockbox balance %s at source block %llu by %s: more "
                                "minted than locked",
                                x->a->name, supply_u, exe_block, balance_u, src_block, delta_u);
        else
                evidence_format(r->line, sizeof r->line,
                                "%s backing: bridged totalSupply %s within lockbox balance %s",
                                x->a->name, supply_u, balance_u);
}

static const char *direction(enum cmp_kind kind, int sign)
{
        static const char *const text[CMP_COUNT][3] = {
                {"lockbox below the ledger's locked total", "equal",
                 "lockbox above the ledger's locked total"},
                {"totalSupply below the ledger's minted total", "equal",
                 "totalSupply above the ledger's minted total"},
                {"totalSupply below the lockbox balance", "equal",
                 "totalSupply above the lockbox balance"},
        };

        return text[kind][sign + 1];
}

static void cmp_evidence(const struct asset_ctx *x, enum cmp_kind kind, const struct cmp *r,
                         cJSON *arr)
{
        cJSON *o = cJSON_CreateObject();

        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return;
        }
        evidence_str(o, "comparison", cmp_names[kind]);
        evidence_str(o, "status", verdict_status_name(r->status));
        evidence_str(o, "detail", r->line);
        if (r->status == VERDICT_UNKNOWN)
                return;
        evidence_amount(o, "delta", &r->delta, x->a->decimals, x->a->name);
        evidence_str(o, "direction", direction(kind, r->sign));
}

static void in_flight_evidence(const struct asset_ctx *x, cJSON *parent)
{
        cJSON *o = cJSON_AddObjectToObject(parent, "in_flight");
        unsigned d = x->a->decimals;
        const char *sym = x->a->name;

        evidence_str(o, "note", "transfers in flight that could explain it");
        evidence_u64(o, "blocks", x->la->recent_blocks);
        evidence_amount(o, "deposited", &x->la->recent_deposited, d, sym);
        evidence_amount(o, "released", &x->la->recent_released, d, sym);
        evidence_amount(o, "minted", &x->la->recent_minted, d, sym);
        evidence_amount(o, "burnt", &x->la->recent_burnt, d, sym);
}

static void asset_evidence(const struct asset_ctx *x, const struct cmp *r, enum verdict_status st,
                           cJSON *arr)
{
        cJSON *o = cJSON_CreateObject(), *cmps, *ledger;
        unsigned d = x->a->decimals;
        const char *sym = x->a->name;
        size_t k;

        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return;
        }
        evidence_str(o, "asset", sym);
        evidence_u64(o, "decimals", d);
        evidence_str(o, "status", verdict_status_name(st));
        evidence_hex(o, "source_token", x->a->source_token, sizeof x->a->source_token);
        evidence_hex(o, "bridged_token", x->a->bridged_token, sizeof x->a->bridged_token);
        evidence_amount(o, "tolerance", &x->a->tolerance, d, sym);
        if (x->balance != NULL)
                evidence_amount(o, "lockbox_balance", x->balance, d, sym);
        if (x->supply != NULL)
                evidence_amount(o, "total_supply", x->supply, d, sym);
        if (x->tip_balance != NULL && x->tip_balance != x->balance)
                evidence_amount(o, "lockbox_balance_at_tip", x->tip_balance, d, sym);
        if (x->tip_supply != NULL && x->tip_supply != x->supply)
                evidence_amount(o, "total_supply_at_tip", x->tip_supply, d, sym);
        if (x->la != NULL) {
                ledger = cJSON_AddObjectToObject(o, "ledger");
                evidence_amount(ledger, "deposited", &x->la->deposited, d, sym);
                evidence_amount(ledger, "released", &x->la->released, d, sym);
                net_amount(x, ledger, "locked", &x->la->deposited, &x->la->released);
                evidence_amount(ledger, "minted", &x->la->minted, d, sym);
                evidence_amount(ledger, "burnt", &x->la->burnt, d, sym);
                net_amount(x, ledger, "minted_net", &x->la->minted, &x->la->burnt);
        } else {
                evidence_str(o, "ledger_error", x->ledger_why);
        }
        cmps = cJSON_AddArrayToObject(o, "comparisons");
        for (k = 0; k < CMP_COUNT; k++)
                cmp_evidence(x, (enum cmp_kind)k, &r[k], cmps);
        if (x->la != NULL)
                in_flight_evidence(x, o);
}

static void operations_evidence(const struct snapshot *s, cJSON *ev)
{
        const struct snap_ledger *l = &s->ledger;
        cJSON *arr;
        size_t i;

        if (!l->ok || l->operations == NULL || l->noperations == 0)
                return;
        arr = cJSON_AddArrayToObject(ev, "recent_operations");
        i = l->noperations > RECENT_OPERATIONS ? l->noperations - RECENT_OPERATIONS : 0;
        for (; i < l->noperations && arr != NULL; i++) {
                const struct snap_operation *op = &l->operations[i];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        return;
                }
                evidence_u64(o, "op_id", op->op_id);
                evidence_str(o, "kind", op->kind);
                evidence_u64(o, "chain_id", op->chain_id);
                evidence_u64(o, "nonce", op->nonce);
                evidence_str(o, "status", op->status);
                if (op->has_tx_hash)
                        evidence_hex(o, "tx_hash", op->tx_hash, sizeof op->tx_hash);
        }
}

static void asset_setup(const struct snapshot *s, size_t i, const struct snap_view *src,
                        const struct snap_view *exe, struct asset_ctx *x)
{
        const struct snap_ledger *l = &s->ledger;

        x->s = s;
        x->i = i;
        x->a = &s->assets[i];
        x->balance = NULL;
        x->supply = NULL;
        x->la = NULL;
        x->tip_balance = NULL;
        x->tip_supply = NULL;
        if (src != NULL && src->token_values != NULL) {
                x->balance = &src->token_values[i];
                x->tip_balance = src->tip_values ? &src->tip_values[i] : x->balance;
        }
        if (src != NULL && src->token_values == NULL)
                evidence_format(x->source_why, sizeof x->source_why,
                                "source endpoint %s returned no lockbox balances", src->endpoint);
        if (exe != NULL && exe->token_values != NULL) {
                x->supply = &exe->token_values[i];
                x->tip_supply = exe->tip_values ? &exe->tip_values[i] : x->supply;
        }
        if (exe != NULL && exe->token_values == NULL)
                evidence_format(x->exec_why, sizeof x->exec_why,
                                "execution endpoint %s returned no totalSupply", exe->endpoint);
        if (!l->ok)
                evidence_format(x->ledger_why, sizeof x->ledger_why, "ledger not read: %s",
                                l->error);
        else if (l->assets == NULL)
                evidence_format(x->ledger_why, sizeof x->ledger_why,
                                "ledger holds no asset figures");
        else if (!l->assets[i].known)
                evidence_format(x->ledger_why, sizeof x->ledger_why, "ledger does not know %s: %s",
                                x->a->name, l->assets[i].problem);
        else
                x->la = &l->assets[i];
}

static void evaluate(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                     const struct invariant_params *p, struct verdict *out)
{
        char source_why[RWERR_MSG_MAX] = "", exec_why[RWERR_MSG_MAX] = "";
        char first_bad[INVARIANT_SUMMARY_MAX] = "", first_unknown[INVARIANT_SUMMARY_MAX] = "";
        const struct snap_view *src, *exe;
        size_t i, k, nviolated = 0, nunknown = 0, nbad = 0, nunlisted = 0;
        cJSON *ev = verdict_evidence(out), *assets;

        (void)p;
        src = evidence_view(s, SNAP_SOURCE, view[SNAP_SOURCE], source_why, sizeof source_why);
        exe = evidence_view(s, SNAP_EXECUTION, view[SNAP_EXECUTION], exec_why, sizeof exec_why);
        evidence_chain(ev, "source", s, SNAP_SOURCE, view[SNAP_SOURCE]);
        evidence_chain(ev, "execution", s, SNAP_EXECUTION, view[SNAP_EXECUTION]);
        if (s->nassets == 0 || s->assets == NULL) {
                verdict_set(out, VERDICT_UNKNOWN, "no assets configured: nothing to compare");
                return;
        }
        assets = cJSON_AddArrayToObject(ev, "assets");
        for (i = 0; i < s->nassets; i++) {
                struct cmp r[CMP_COUNT];
                struct asset_ctx x;
                enum verdict_status st = VERDICT_OK;

                memset(r, 0, sizeof r);
                memcpy(x.source_why, source_why, sizeof x.source_why);
                memcpy(x.exec_why, exec_why, sizeof x.exec_why);
                asset_setup(s, i, src, exe, &x);
                compare_ledger(&x, CMP_LOCKED, &r[CMP_LOCKED]);
                compare_ledger(&x, CMP_MINTED, &r[CMP_MINTED]);
                compare_backing(&x, &r[CMP_BACKING]);
                for (k = 0; k < CMP_COUNT; k++) {
                        st = verdict_status_combine(st, r[k].status);
                        if (r[k].status == VERDICT_VIOLATED && nbad++ == 0)
                                memcpy(first_bad, r[k].line, sizeof first_bad);
                        if (r[k].status == VERDICT_UNKNOWN && first_unknown[0] == '\0')
                                memcpy(first_unknown, r[k].line, sizeof first_unknown);
                }
                if (r[CMP_LOCKED].status == VERDICT_VIOLATED)
                        checks_rests_on(out, snap_chain_role_name(SNAP_SOURCE));
                if (r[CMP_MINTED].status == VERDICT_VIOLATED)
                        checks_rests_on(out, snap_chain_role_name(SNAP_EXECUTION));
                if (r[CMP_BACKING].status == VERDICT_VIOLATED) {
                        checks_rests_on(out, snap_chain_role_name(SNAP_SOURCE));
                        checks_rests_on(out, snap_chain_role_name(SNAP_EXECUTION));
                }
                if (st == VERDICT_VIOLATED) {
                        nviolated++;
                        verdict_add_subject(out, "asset %s", x.a->name);
                }
                nunknown += st == VERDICT_UNKNOWN;
                if (st != VERDICT_OK || s->nassets <= ALL_ASSETS_IN_EVIDENCE)
                        asset_evidence(&x, r, st, assets);
                else
                        nunlisted++;
        }
        if (nunlisted > 0)
                evidence_u64(ev, "assets_ok_not_listed", nunlisted);
        operations_evidence(s, ev);
        if (nviolated > 0) {
                if (nbad > 1)
                        verdict_set(out, VERDICT_VIOLATED,
                                    "%s (and %zu more comparisons in %zu asset%s)", first_bad,
                                    nbad - 1, nviolated, nviolated == 1 ? "" : "s");
                else
                        verdict_set(out, VERDICT_VIOLATED, "%s", first_bad);
        } else if (nunknown > 0) {
                verdict_set(out, VERDICT_UNKNOWN, "%s", first_unknown);
        } else {
                verdict_set(out, VERDICT_OK,
                            "%zu asset%s: ledger locked and minted totals match the lockbox and "
                            "the bridged supply within tolerance at source block %llu and "
                            "execution block %llu",
                            s->nassets, s->nassets == 1 ? "" : "s",
                            (unsigned long long)s->chains[SNAP_SOURCE].pinned,
                            (unsigned long long)s->chains[SNAP_EXECUTION].pinned);
        }
}

const struct invariant supply_mismatch_check = {
        .name = "SUPPLY_MISMATCH",
        .tier = VERDICT_TIER_HALT,
        .weighs_views = 1,
        .evaluate = evaluate,
};
