#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cycle_result.h"
#include "latency_hist.h"
#include "prom_text.h"
#include "u256.h"

#define CHECKS_MAX 64 /* distinct checks kept (the table has about twenty) */
#define CHECK_NAME_MAX 64
#define KIND_MAX 48 /* finding kinds (finding.h) */
#define SEVERITY_MAX 16
#define BREAKER_MAX 16
#define NRESULTS 4 /* ok, could-not-evaluate, violated (verdict_status), failed */
#define RESULT_FAILED 3

static const char *const result_names[NRESULTS] = {"ok", "could-not-evaluate", "violated",
                                                   "failed"};
static const char *const severities[] = {"CRITICAL", "ERROR", "WARNING", "INFO"};
static const char *const breaker_states[] = {"closed", "open", "half-open", "refused"};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct check_stat {
        char name[CHECK_NAME_MAX];
        struct latency_hist eval; /* evaluation time, every cycle */
        int in_last;              /* a verdict of the last cycle */
        enum verdict_status status;
        size_t nsubjects;
        char subjects[VERDICT_SUBJECTS_MAX][VERDICT_SUBJECT_MAX];
};

struct query_stat {
        char name[CHECK_NAME_MAX];
        struct latency_hist h;
};

struct endpoint_stat {
        char name[SNAP_ENDPOINT_MAX];
        uint64_t exchanges, failures;
        char breaker[BREAKER_MAX];
        struct latency_hist latency; /* the pool's, cumulative already */
};

struct chain_stat {
        int known; /* heights read */
        uint64_t head, pinned;
        size_t nendpoints;
        struct endpoint_stat endpoints[SNAP_VIEWS_MAX];
};

/* A figure in tokens that may be unknown. */
struct fig {
        int known;
        double v;
};

struct asset_stat {
        char name[SNAP_NAME_MAX];
        struct fig locked_ledger, locked_chain, locked_delta;
        struct fig minted_ledger, minted_chain, minted_delta;
};

struct finding_count {
        char kind[KIND_MAX];
        char severity[SEVERITY_MAX];
        uint64_t n;
};

struct metrics {
        char version[64];
        struct metrics_info info;

        /* counted across cycles */
        uint64_t cycles[NRESULTS];
        struct latency_hist cycle_duration;
        size_t nchecks;
        struct check_stat checks[CHECKS_MAX];
        size_t nqueries;
        struct query_stat queries[SNAP_QUERIES_MAX];
        size_t nfindings;
        struct finding_count *findings; /* METRICS_FINDINGS_MAX */
        uint64_t halts_published, halts_acknowledged, halts_lifted;

        /* the last cycle */
        int have_cycle;  /* a cycle ran, the figures below are its */
        int have_result; /* any cycle ended, tier1 is set */
        enum verdict_status tier1;
        int64_t last_tier1_unix_ms; /* 0: never */
        struct chain_stat chains[SNAP_NCHAINS];
        int ledger_ok;
        uint64_t pending_operations;
        struct snap_progress progress;
        size_t nassets;
        struct asset_stat *assets;

        /* the Tier 3 measures, as last measured */
        struct fig settlement_ms, proof_ratio, relayer_cycle_ms;
        uint64_t relayer_cycle_id;
};

struct metrics *metrics_new(const struct metrics_info *info)
{
        struct metrics *m = calloc(1, sizeof *m);

        if (m == NULL)
                return NULL;
        m->findings = calloc(METRICS_FINDINGS_MAX, sizeof *m->findings);
        if (m->findings == NULL) {
                free(m);
                return NULL;
        }
        m->info = *info;
        (void)snprintf(m->version, sizeof m->version, "%s",
                       info->version != NULL ? info->version : "");
        m->info.version = m->version;
        return m;
}

void metrics_free(struct metrics *m)
{
        if (m == NULL)
                return;
        free(m->findings);
        free(m->assets);
        free(m);
}

/* ------------------------------------------------------------ observing */

static struct check_stat *check_of(struct metrics *m, const char *name)
{
        size_t i;

        for (i = 0; i < m->nchecks; i++)
                if (strcmp(m->checks[i].name, name) == 0)
                        return &m->checks[i];
        if (m->nchecks == CHECKS_MAX)
                return NULL;
        (void)snprintf(m->checks[m->nchecks].name, CHECK_NAME_MAX, "%s", name);
        return &m->checks[m->nchecks++];
}

static void observe_verdict(struct metrics *m, const struct verdict *v)
{
        struct check_stat *c = v->invariant != NULL ? check_of(m, v->invariant) : NULL;
        const cJSON *subjects, *item;

        if (c == NULL)
                return;
        latency_hist_add(&c->eval, (double)v->eval_us / 1000.0);
        c->in_last = 1;
        c->status = v->status;
        c->nsubjects = 0;
        subjects = cJSON_GetObjectItemCaseSensitive(v->evidence, "subjects");
        cJSON_ArrayForEach(item, subjects)
        {
                const char *s = cJSON_GetStringValue(item);

                if (s == NULL || c->nsubjects == VERDICT_SUBJECTS_MAX)
                        continue;
                (void)snprintf(c->subjects[c->nsubjects++], VERDICT_SUBJECT_MAX, "%s", s);
        }
}

static void observe_queries(struct metrics *m, const struct snap_ledger *l)
{
        size_t i, k;

        for (i = 0; i < l->nqueries && i < SNAP_QUERIES_MAX; i++) {
                const struct snap_query_time *q = &l->queries[i];

                if (q->name == NULL)
                        continue;
                for (k = 0; k < m->nqueries; k++)
                        if (strcmp(m->queries[k].name, q->name) == 0)
                                break;
                if (k == m->nqueries) {
                        if (m->nqueries == SNAP_QUERIES_MAX)
                                continue; /* bounded: a name past the first 16 is not kept */
                        (void)snprintf(m->queries[k].name, CHECK_NAME_MAX, "%s", q->name);
                        m->nqueries++;
                }
                latency_hist_add(&m->queries[k].h, q->ms);
        }
}

static void observe_chains(struct metrics *m, const struct snapshot *s)
{
        int c;
        size_t k;

        for (c = 0; c < SNAP_NCHAINS; c++) {
                const struct snap_chain *ch = &s->chains[c];
                struct chain_stat *cs = &m->chains[c];

                cs->known = ch->ok;
                cs->head = ch->head;
                cs->pinned = ch->pinned;
                cs->nendpoints = ch->nendpoints < SNAP_VIEWS_MAX ? ch->nendpoints : SNAP_VIEWS_MAX;
                for (k = 0; k < cs->nendpoints; k++) {
                        const struct snap_endpoint_health *h = &ch->endpoints[k];
                        struct endpoint_stat *e = &cs->endpoints[k];

                        (void)snprintf(e->name, sizeof e->name, "%s", h->endpoint);
                        (void)snprintf(e->breaker, sizeof e->breaker, "%s",
                                       h->breaker != NULL ? h->breaker : "");
                        e->exchanges = h->exchanges;
                        e->failures = h->failures;
                        e->latency = h->latency;
                }
        }
}

/* `a` base units in tokens of `decimals` decimals, rounded once (through the exact text). */
static struct fig tokens_of(const struct u256 *a, int neg, unsigned decimals)
{
        char text[U256_UNITS_SIZE(0)];
        struct fig f = {0, 0};

        if (u256_format_units(a, decimals, NULL, text, sizeof text) == 0)
                return f;
        f.known = 1;
        f.v = strtod(text, NULL);
        if (neg)
                f.v = -f.v;
        return f;
}

static struct fig tokens_signed(const struct u256_signed *a, unsigned decimals)
{
        return tokens_of(&a->mag, a->neg, decimals);
}

/* View 0's value of asset i on chain c, or NULL when that chain was not read. */
static const struct u256 *chain_value(const struct snapshot *s, enum snap_chain_role c, size_t i)
{
        const struct snap_chain *ch = &s->chains[c];

        if (!ch->ok || ch->nviews == 0 || !ch->views[0].ok || ch->views[0].token_values == NULL)
                return NULL;
        return &ch->views[0].token_values[i];
}

/* One side (locked or minted): ledger figure `l` (when known) against chain value `cv`. */
static void side_figures(const struct u256_signed *l, const struct u256 *cv, unsigned decimals,
                         struct fig *ledger, struct fig *chain, struct fig *delta)
{
        struct u256_signed d;

        ledger->known = chain->known = delta->known = 0;
        if (l != NULL)
                *ledger = tokens_signed(l, decimals);
        if (cv != NULL)
                *chain = tokens_of(cv, 0, decimals);
        if (l != NULL && cv != NULL && u256_signed_sub(l, cv, &d) == RW_OK)
                *delta = tokens_signed(&d, decimals);
}

static int observe_assets(struct metrics *m, const struct snapshot *s)
{
        const struct snap_ledger *l = &s->ledger;
        size_t i;

        if (s->nassets != m->nassets) {
                struct asset_stat *a = NULL;

                if (s->nassets > 0 && (a = calloc(s->nassets, sizeof *a)) == NULL)
                        return -1;
                free(m->assets);
                m->assets = a;
                m->nassets = s->nassets;
        }
        for (i = 0; i < m->nassets; i++) {
                const struct snap_asset *as = &s->assets[i];
                const struct snap_ledger_asset *la =
                        l->ok && l->assets != NULL && l->assets[i].known ? &l->assets[i] : NULL;
                struct asset_stat *a = &m->assets[i];
                struct u256_signed locked, minted;

                (void)snprintf(a->name, sizeof a->name, "%s", as->name);
                if (la != NULL) {
                        u256_signed_diff(&la->deposited, &la->released, &locked);
                        u256_signed_diff(&la->minted, &la->burnt, &minted);
                }
                side_figures(la != NULL ? &locked : NULL, chain_value(s, SNAP_SOURCE, i),
                             as->decimals, &a->locked_ledger, &a->locked_chain, &a->locked_delta);
                side_figures(la != NULL ? &minted : NULL, chain_value(s, SNAP_EXECUTION, i),
                             as->decimals, &a->minted_ledger, &a->minted_chain, &a->minted_delta);
        }
        return 0;
}

static void observe_tier3(struct metrics *m, const struct cycle_result *r)
{
        const struct verdict *v;
        const struct snap_ledger *l = &r->snapshot.ledger;
        size_t i;

        v = cycle_result_verdict(r, "SETTLEMENT_LATENCY");
        if (v != NULL && v->has_value) {
                m->settlement_ms.known = 1;
                m->settlement_ms.v = v->value;
        }
        v = cycle_result_verdict(r, "PROOF_SUCCESS_RATE");
        if (v != NULL && v->has_value) {
                m->proof_ratio.known = 1;
                m->proof_ratio.v = v->value;
        }
        /* the relayer's newest cycle the ledger recorded */
        for (i = 0; l->ok && l->cycles != NULL && i < l->ncycles; i++) {
                const struct snap_cycle_timing *c = &l->cycles[i];

                if (!m->relayer_cycle_ms.known || c->cycle_id >= m->relayer_cycle_id) {
                        m->relayer_cycle_ms.known = 1;
                        m->relayer_cycle_ms.v = (double)c->duration_ms;
                        m->relayer_cycle_id = c->cycle_id;
                }
        }
}

int metrics_observe_cycle(struct metrics *m, const struct cycle_result *r, int64_t finished_unix_ms)
{
        const struct snapshot *s;
        size_t i;

        m->have_result = 1;
        if (r == NULL) {
                m->cycles[RESULT_FAILED]++;
                m->tier1 = VERDICT_UNKNOWN;
                return 0;
        }
        s = &r->snapshot;
        m->cycles[r->tier1 <= VERDICT_VIOLATED ? r->tier1 : VERDICT_UNKNOWN]++;
        m->tier1 = r->tier1;
        if (r->tier1 == VERDICT_OK || r->tier1 == VERDICT_VIOLATED)
                m->last_tier1_unix_ms = finished_unix_ms;
        latency_hist_add(&m->cycle_duration, (double)r->duration_ms);
        for (i = 0; i < m->nchecks; i++)
                m->checks[i].in_last = 0;
        for (i = 0; i < r->nverdicts && r->verdicts != NULL; i++)
                observe_verdict(m, &r->verdicts[i]);
        observe_queries(m, &s->ledger);
        observe_chains(m, s);
        m->ledger_ok = s->ledger.ok;
        m->pending_operations = s->ledger.pending_operations;
        m->progress = s->ledger.progress;
        observe_tier3(m, r);
        m->have_cycle = 1;
        return observe_assets(m, s);
}

void metrics_count_finding(struct metrics *m, const char *kind, const char *severity)
{
        struct finding_count *f;
        size_t i;

        if (kind == NULL || severity == NULL)
                return;
        for (i = 0; i < m->nfindings; i++) {
                f = &m->findings[i];
                if (strcmp(f->kind, kind) == 0 && strcmp(f->severity, severity) == 0) {
                        f->n++;
                        return;
                }
        }
        if (m->nfindings == METRICS_FINDINGS_MAX)
                return;
        f = &m->findings[m->nfindings++];
        (void)snprintf(f->kind, sizeof f->kind, "%s", kind);
        (void)snprintf(f->severity, sizeof f->severity, "%s", severity);
        f->n = 1;
}

void metrics_count_record(struct metrics *m, const char *kind)
{
        if (kind == NULL)
                return;
        if (strcmp(kind, "halt_published") == 0)
                m->halts_published++;
        else if (strcmp(kind, "halt_acknowledged") == 0)
                m->halts_acknowledged++;
        else if (strcmp(kind, "halt_lifted") == 0)
                m->halts_lifted++;
}

/* ------------------------------------------------------------ rendering */

#define NAME(x) "relaywatch_" x

static void gauge(struct prom_text *t, const char *name, const char *help, double v)
{
        prom_family(t, name, "gauge", help);
        prom_sample(t, name, NULL, 0, v);
}

static void counter(struct prom_text *t, const char *name, const char *help, uint64_t v)
{
        prom_family(t, name, "counter", help);
        prom_sample_u64(t, name, NULL, 0, v);
}

static double seconds(double ms)
{
        return ms / 1000.0;
}

static void render_watchdog(struct prom_text *t, const struct metrics *m)
{
        struct prom_label l[1];
        size_t i;

        prom_family(t, NAME("build_info"), "gauge", "The running relaywatch's version; always 1.");
        l[0] = (struct prom_label){"version", m->version};
        prom_sample(t, NAME("build_info"), l, 1, 1);
        gauge(t, NAME("start_time_seconds"), "Unix time the process started.",
              seconds((double)m->info.started_unix_ms));
        prom_family(t, NAME("cycles_total"), "counter",
                    "Cycles ended, by result: the enforce-mode Tier 1 status, or failed (could not "
                    "run).");
        for (i = 0; i < NRESULTS; i++) {
                l[0] = (struct prom_label){"result", result_names[i]};
                prom_sample_u64(t, NAME("cycles_total"), l, 1, m->cycles[i]);
        }
        prom_family(t, NAME("cycle_duration_seconds"), "histogram",
                    "Duration of the cycles that ran (observe and evaluate).");
        prom_histogram(t, NAME("cycle_duration_seconds"), NULL, 0, &m->cycle_duration);
        gauge(t, NAME("cycle_target_seconds"),
              "The watchdog's own cycle time above which HIGH_LATENCY is raised.",
              seconds((double)m->info.cycle_target_ms));
        if (m->nchecks > 0)
                prom_family(t, NAME("check_duration_seconds"), "histogram",
                            "Time to evaluate one check (all views), per cycle.");
        for (i = 0; i < m->nchecks; i++) {
                l[0] = (struct prom_label){"check", m->checks[i].name};
                prom_histogram(t, NAME("check_duration_seconds"), l, 1, &m->checks[i].eval);
        }
}

static void check_status_lines(struct prom_text *t, const char *check, const char *subject,
                               enum verdict_status status)
{
        static const enum verdict_status all[] = {VERDICT_OK, VERDICT_VIOLATED, VERDICT_UNKNOWN};
        struct prom_label l[3] = {{"check", check}, {"subject", subject}, {"status", NULL}};
        size_t k;

        for (k = 0; k < NELEMS(all); k++) {
                l[2].value = verdict_status_name(all[k]);
                prom_sample(t, NAME("check_status"), l, 3, all[k] == status ? 1 : 0);
        }
}

static void render_checks(struct prom_text *t, const struct metrics *m)
{
        size_t i, k;

        if (m->have_cycle) {
                prom_family(t, NAME("check_status"), "gauge",
                            "1 for the status of each check in the last cycle that ran, by "
                            "subject (\"all\": the check as a whole).");
                for (i = 0; i < m->nchecks; i++) {
                        const struct check_stat *c = &m->checks[i];

                        if (!c->in_last)
                                continue;
                        check_status_lines(t, c->name, "all", c->status);
                        for (k = 0; k < c->nsubjects; k++)
                                check_status_lines(t, c->name, c->subjects[k], VERDICT_VIOLATED);
                }
        }
        if (m->have_result)
                gauge(t, NAME("tier1_status"),
                      "Enforce-mode Tier 1 combined, last cycle: 0 ok, 1 could-not-evaluate (or "
                      "the cycle failed), 2 violated.",
                      (double)m->tier1);
        if (m->last_tier1_unix_ms > 0)
                gauge(t, NAME("last_tier1_evaluation_timestamp_seconds"),
                      "Unix time of the last cycle whose Tier 1 checks were all evaluated.",
                      seconds((double)m->last_tier1_unix_ms));
        gauge(t, NAME("blind_limit_seconds"),
              "How long without a Tier 1 evaluation before WATCHDOG_BLIND.",
              seconds((double)m->info.blind_limit_ms));
}

/* ------------------------------------------------ from the status object */

static const cJSON *item(const cJSON *o, const char *name)
{
        return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* o[name] as a number into *v; 0 when it is not one. */
static int number(const cJSON *o, const char *name, double *v)
{
        const cJSON *x = item(o, name);

        if (!cJSON_IsNumber(x))
                return 0;
        *v = x->valuedouble;
        return 1;
}

static const char *string(const cJSON *o, const char *name)
{
        return cJSON_GetStringValue(item(o, name));
}

static void render_halts(struct prom_text *t, const struct metrics *m, const cJSON *status,
                         int64_t now)
{
        const cJSON *incidents = item(status, "incidents"), *inc;
        const cJSON *path = item(status, "halt_path"), *hb = item(status, "heartbeat");
        double in_force = 0, unacked = 0, pending = 0, at;

        if (cJSON_IsArray(incidents)) {
                cJSON_ArrayForEach(inc, incidents)
                {
                        const char *phase = string(inc, "phase");

                        if (phase == NULL || strcmp(phase, "resumed") == 0)
                                continue; /* a RESUME forced over it: no HALT stands */
                        in_force++;
                        if (!number(inc, "acked_at_ms", &at) || at <= 0)
                                unacked++;
                        if (strcmp(phase, "pending") == 0)
                                pending++;
                }
                gauge(t, NAME("halts_in_force"), "HALTs in force now (any signer).", in_force);
                gauge(t, NAME("halts_unacknowledged"),
                      "HALTs in force that no relayer has acknowledged.", unacked);
        }
        counter(t, NAME("halts_published_total"), "HALTs this watchdog published.",
                m->halts_published);
        counter(t, NAME("halts_acknowledged_total"), "HALTs seen acknowledged by a relayer.",
                m->halts_acknowledged);
        counter(t, NAME("halts_lifted_total"), "HALTs lifted (RESUME).", m->halts_lifted);
        if (cJSON_IsObject(path))
                gauge(t, NAME("halt_path_up"),
                      "1 when a HALT can be published now (Redis, the stream, the key).",
                      cJSON_IsTrue(item(path, "ok")) ? 1 : 0);
        /* the outbox as halt control counts it; older daemons: the incidents not yet out */
        if (number(path, "outbox_waiting", &at))
                gauge(t, NAME("outbox_depth"), "HALTs signed and waiting in the disk outbox.", at);
        else if (cJSON_IsArray(incidents))
                gauge(t, NAME("outbox_depth"), "HALTs signed and waiting in the disk outbox.",
                      pending);
        if (number(hb, "last_set_at_ms", &at) && at > 0)
                gauge(t, NAME("heartbeat_age_seconds"), "Since the heartbeat key was last set.",
                      seconds((double)now - at));
}

static void render_findings(struct prom_text *t, const struct metrics *m)
{
        struct prom_label l[2] = {{"kind", NULL}, {"severity", NULL}};
        size_t i;

        if (m->nfindings == 0)
                return;
        prom_family(t, NAME("findings_total"), "counter",
                    "Findings reported, by kind and severity.");
        for (i = 0; i < m->nfindings; i++) {
                l[0].value = m->findings[i].kind;
                l[1].value = m->findings[i].severity;
                prom_sample_u64(t, NAME("findings_total"), l, 2, m->findings[i].n);
        }
}

static void render_alerts(struct prom_text *t, const cJSON *status)
{
        const cJSON *alerts = item(status, "alerts"), *routes = item(status, "alert_routes"), *a;
        static const struct {
                const char *name, *type, *help, *field;
        } per_route[] = {
                {NAME("alerts_sent_total"), "counter", "Alert messages delivered, per receiver.",
                 "delivered"},
                {NAME("alerts_failed_total"), "counter",
                 "Alert messages given up on or rejected, per receiver.", "failed"},
                {NAME("alerts_retried_total"), "counter", "Alert delivery retries, per receiver.",
                 "retried"},
                {NAME("alerts_queued"), "gauge",
                 "Alert messages waiting for delivery (in memory and spooled), per receiver.",
                 NULL},
                {NAME("alert_receiver_failing"), "gauge",
                 "1 while a receiver's messages are spooled or rejected.", NULL},
        };
        struct prom_label l[1];
        size_t i, k;

        if (cJSON_IsArray(alerts)) {
                double open[NELEMS(severities)] = {0};

                cJSON_ArrayForEach(a, alerts)
                {
                        const char *sev = string(a, "severity");

                        for (k = 0; sev != NULL && k < NELEMS(severities); k++)
                                if (strcmp(sev, severities[k]) == 0)
                                        open[k]++;
                }
                prom_family(t, NAME("alerts_open"), "gauge", "Alerts open now, by severity.");
                for (k = 0; k < NELEMS(severities); k++) {
                        l[0] = (struct prom_label){"severity", severities[k]};
                        prom_sample(t, NAME("alerts_open"), l, 1, open[k]);
                }
        }
        if (!cJSON_IsObject(routes) || routes->child == NULL)
                return;
        for (i = 0; i < NELEMS(per_route); i++) {
                prom_family(t, per_route[i].name, per_route[i].type, per_route[i].help);
                cJSON_ArrayForEach(a, routes)
                {
                        double v = 0, x;

                        l[0] = (struct prom_label){"receiver", a->string};
                        if (per_route[i].field != NULL)
                                (void)number(a, per_route[i].field, &v);
                        else if (i == 3)
                                v = (number(a, "queued", &x) ? x : 0) +
                                    (number(a, "spooled", &x) ? x : 0);
                        else
                                v = cJSON_IsTrue(item(a, "failing")) ? 1 : 0;
                        prom_sample(t, per_route[i].name, l, 1, v);
                }
        }
}

static void render_rpc(struct prom_text *t, const struct metrics *m)
{
        struct prom_label l[3] = {{"chain", NULL}, {"endpoint", NULL}, {"state", NULL}};
        size_t n = 0, k, s;
        int c, pass;
        static const char *const names[] = {NAME("rpc_requests_total"), NAME("rpc_errors_total"),
                                            NAME("rpc_request_duration_seconds"),
                                            NAME("endpoint_up"), NAME("endpoint_circuit_state")};
        static const char *const types[] = {"counter", "counter", "histogram", "gauge", "gauge"};
        static const char *const helps[] = {
                "JSON-RPC exchanges with an endpoint since its pool began.",
                "JSON-RPC exchanges that failed.",
                "Duration of each attempt to an endpoint.",
                "1 while the endpoint's circuit breaker is closed (in use).",
                "1 for the endpoint's circuit breaker state.",
        };

        for (c = 0; c < SNAP_NCHAINS; c++)
                n += m->chains[c].nendpoints;
        if (!m->have_cycle || n == 0)
                return;
        for (pass = 0; pass < (int)NELEMS(names); pass++) {
                prom_family(t, names[pass], types[pass], helps[pass]);
                for (c = 0; c < SNAP_NCHAINS; c++) {
                        const struct chain_stat *cs = &m->chains[c];

                        l[0].value = snap_chain_role_name((enum snap_chain_role)c);
                        for (k = 0; k < cs->nendpoints; k++) {
                                const struct endpoint_stat *e = &cs->endpoints[k];

                                l[1].value = e->name;
                                switch (pass) {
                                case 0:
                                        prom_sample_u64(t, names[pass], l, 2, e->exchanges);
                                        break;
                                case 1:
                                        prom_sample_u64(t, names[pass], l, 2, e->failures);
                                        break;
                                case 2:
                                        prom_histogram(t, names[pass], l, 2, &e->latency);
                                        break;
                                case 3:
                                        prom_sample(t, names[pass], l, 2,
                                                    strcmp(e->breaker, "closed") == 0 ? 1 : 0);
                                        break;
                                default:
                                        for (s = 0; s < NELEMS(breaker_states); s++) {
                                                l[2].value = breaker_states[s];
                                                prom_sample(t, names[pass], l, 3,
                                                            strcmp(e->breaker, breaker_states[s]) ==
                                                                            0
                                                                    ? 1
                                                                    : 0);
                                        }
                                }
                        }
                }
        }
}

static void render_db_chains(struct prom_text *t, const struct metrics *m)
{
        struct prom_label l[1];
        size_t i;
        int c, pass, any = 0;
        static const char *const names[] = {NAME("chain_head_block"), NAME("chain_pinned_block"),
                                            NAME("chain_confirmation_depth_blocks")};
        static const char *const helps[] = {
                "The chain's latest block, last cycle.",
                "The height the last cycle read the chain at.",
                "Head minus pinned height, last cycle.",
        };

        if (m->nqueries > 0)
                prom_family(t, NAME("db_query_duration_seconds"), "histogram",
                            "Duration of each ledger query, per cycle.");
        for (i = 0; i < m->nqueries; i++) {
                l[0] = (struct prom_label){"query", m->queries[i].name};
                prom_histogram(t, NAME("db_query_duration_seconds"), l, 1, &m->queries[i].h);
        }
        for (c = 0; c < SNAP_NCHAINS; c++)
                any |= m->have_cycle && m->chains[c].known;
        for (pass = 0; any && pass < (int)NELEMS(names); pass++) {
                prom_family(t, names[pass], "gauge", helps[pass]);
                for (c = 0; c < SNAP_NCHAINS; c++) {
                        const struct chain_stat *cs = &m->chains[c];
                        uint64_t v = pass == 0               ? cs->head
                                     : pass == 1             ? cs->pinned
                                     : cs->head > cs->pinned ? cs->head - cs->pinned
                                                             : 0;

                        if (!cs->known)
                                continue;
                        l[0] = (struct prom_label){"chain",
                                                   snap_chain_role_name((enum snap_chain_role)c)};
                        prom_sample_u64(t, names[pass], l, 1, v);
                }
        }
}

static void render_audit(struct prom_text *t, const cJSON *status, int64_t now)
{
        const cJSON *a = item(status, "audit");
        double v;

        if (!cJSON_IsObject(a))
                return;
        gauge(t, NAME("audit_log_up"), "1 while the audit log takes records.",
              cJSON_IsTrue(item(a, "down")) ? 0 : 1);
        if (number(a, "records", &v))
                gauge(t, NAME("audit_log_records"), "The audit log's size, in records.", v);
        if (number(a, "checkpoint_unix_ms", &v) && v > 0)
                gauge(t, NAME("audit_checkpoint_age_seconds"), "Since the last signed checkpoint.",
                      seconds((double)now - v));
}

static void render_progress(struct prom_text *t, const struct metrics *m)
{
        const struct snap_progress *p = &m->progress;

        if (m->have_cycle && p->known) {
                gauge(t, NAME("bridge_deposits_indexed"), "Deposits the ledger has indexed.",
                      (double)p->deposits);
                gauge(t, NAME("bridge_deposits_pending"), "Deposits indexed, not yet minted.",
                      (double)p->deposits_pending);
                gauge(t, NAME("bridge_batches_created"), "Settlement batches created.",
                      (double)p->batches_created);
                gauge(t, NAME("bridge_batches_anchored"),
                      "Settlement batches anchored on the source chain.",
                      (double)p->batches_anchored);
                gauge(t, NAME("bridge_batches_pending"), "Settlement batches not yet anchored.",
                      p->batches_created > p->batches_anchored
                              ? (double)(p->batches_created - p->batches_anchored)
                              : 0);
                gauge(t, NAME("bridge_withdrawals_claimed"),
                      "Withdrawals released on the source chain.", (double)p->withdrawals_claimed);
                gauge(t, NAME("bridge_withdrawals_pending"),
                      "Withdrawals recorded, not yet released.", (double)p->withdrawals_pending);
        }
        if (m->have_cycle && m->ledger_ok)
                gauge(t, NAME("bridge_operations_pending"),
                      "Relayer operations the ledger lists as pending.",
                      (double)m->pending_operations);
}

static void asset_pair(struct prom_text *t, const char *name, const char *asset, const char *key,
                       const char *a, const struct fig *fa, const char *b, const struct fig *fb)
{
        struct prom_label l[2] = {{"asset", asset}, {key, NULL}};

        if (fa->known) {
                l[1].value = a;
                prom_sample(t, name, l, 2, fa->v);
        }
        if (fb->known) {
                l[1].value = b;
                prom_sample(t, name, l, 2, fb->v);
        }
}

static void render_assets(struct prom_text *t, const struct metrics *m)
{
        size_t i;

        if (!m->have_cycle || m->nassets == 0)
                return;
        prom_family(t, NAME("bridge_locked_tokens"), "gauge",
                    "Tokens locked: ledger (deposited - released) and chain (the lockbox's "
                    "balance on the source chain).");
        for (i = 0; i < m->nassets; i++)
                asset_pair(t, NAME("bridge_locked_tokens"), m->assets[i].name, "view", "ledger",
                           &m->assets[i].locked_ledger, "chain", &m->assets[i].locked_chain);
        prom_family(t, NAME("bridge_minted_tokens"), "gauge",
                    "Tokens minted: ledger (minted - burnt) and chain (the bridged token's "
                    "totalSupply).");
        for (i = 0; i < m->nassets; i++)
                asset_pair(t, NAME("bridge_minted_tokens"), m->assets[i].name, "view", "ledger",
                           &m->assets[i].minted_ledger, "chain", &m->assets[i].minted_chain);
        prom_family(t, NAME("bridge_supply_delta_tokens"), "gauge",
                    "Ledger minus chain, in tokens, per side.");
        for (i = 0; i < m->nassets; i++)
                asset_pair(t, NAME("bridge_supply_delta_tokens"), m->assets[i].name, "side",
                           "locked", &m->assets[i].locked_delta, "minted",
                           &m->assets[i].minted_delta);
}

static void render_tier3(struct prom_text *t, const struct metrics *m)
{
        if (m->settlement_ms.known)
                gauge(t, NAME("bridge_settlement_latency_seconds"),
                      "Worst batch creation-to-anchor time of the last cycle that anchored any.",
                      seconds(m->settlement_ms.v));
        if (m->proof_ratio.known)
                gauge(t, NAME("bridge_proof_verification_success_ratio"),
                      "Share of withdrawal proofs that verify, last cycle with withdrawals.",
                      m->proof_ratio.v);
        if (m->relayer_cycle_ms.known)
                gauge(t, NAME("bridge_relayer_cycle_seconds"),
                      "Duration of the relayer's newest cycle the ledger recorded.",
                      seconds(m->relayer_cycle_ms.v));
}

char *metrics_render(const struct metrics *m, const cJSON *status, int64_t now_unix_ms, size_t *len)
{
        struct prom_text t;

        prom_text_init(&t);
        render_watchdog(&t, m);
        render_checks(&t, m);
        render_halts(&t, m, status, now_unix_ms);
        render_findings(&t, m);
        render_alerts(&t, status);
        render_rpc(&t, m);
        render_db_chains(&t, m);
        render_audit(&t, status, now_unix_ms);
        render_progress(&t, m);
        render_assets(&t, m);
        render_tier3(&t, m);
        return prom_text_take(&t, len);
}
