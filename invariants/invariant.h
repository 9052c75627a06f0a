/*
 * invariant: one interface for every check, and the engine that runs them.
 *
 * An invariant is a pure function of a snapshot (snapshot.h) and the
 * thresholds (struct invariant_params): no I/O of any kind. It fills one
 * verdict: a status, a one-line summary an on-call engineer can act on, and
 * the evidence as a JSON object (every figure in base units and, for
 * amounts, token units; heights; block hashes; endpoints).
 *
 * Weighing endpoints (the quorum). Tier 1 checks that read chain values are
 * evaluated once per view (snapshot.h): pass k uses view k of each chain
 * (the last view of a chain with fewer). A violation on view 0 alone, while
 * a chain has fewer views than its quorum and more endpoints configured,
 * stands as could-not-evaluate with needs_confirmation set: the caller reads
 * the other endpoints at the same heights and evaluates again. With the
 * quorum present, the violation stands only when every view that answered
 * says violated; views that disagree give could-not-evaluate with
 * `disagreement` set, and the ENDPOINT_DISAGREEMENT alert names them.
 */
#ifndef RELAYWATCH_INVARIANT_H
#define RELAYWATCH_INVARIANT_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "verdict.h"

struct cJSON;

#define INVARIANT_SIGNERS_MAX 16
#define INVARIANT_SUMMARY_MAX 320

enum invariant_mode {
        INVARIANT_ENFORCE = 0, /* a Tier 1 violation halts the relayer */
        INVARIANT_SHADOW = 1,  /* reported like any other, never halts */
};

/* "enforce" or "shadow". */
const char *invariant_mode_name(enum invariant_mode mode);

struct invariant_mode_setting {
        const char *name; /* invariant name; NULL ends the list */
        enum invariant_mode mode;
};

/* Thresholds and policy; invariant_params_defaults fills the documented defaults (README). */
struct invariant_params {
        unsigned quorum[SNAP_NCHAINS];    /* views that must agree (k of n); 1: view 0 alone */
        unsigned endpoints[SNAP_NCHAINS]; /* endpoints configured per chain (n) */
        uint64_t nonce_gap;               /* ledger may be ahead of pending by this much; 5 */
        uint64_t relayer_cycle_ms;        /* HIGH_LATENCY above this; 2000 */
        uint64_t watchdog_cycle_ms;       /* HIGH_LATENCY above this; 2000 */
        unsigned gas_ratio_percent;  /* GAS_ESTIMATE_MISS when used > estimate * this / 100; 150 */
        uint64_t pending_operations; /* QUEUE_BUILDUP above this; 10 */
        uint64_t stream_lag;         /* QUEUE_BUILDUP when a group's lag or pending is above; 100 */
        size_t nsigners;             /* addresses allowed to sign batch roots */
        uint8_t signers[INVARIANT_SIGNERS_MAX][20];
        const struct invariant_mode_setting *modes; /* NULL: every check enforced */
};

void invariant_params_defaults(struct invariant_params *p);

/* The mode configured for `name` (enforce when not listed). */
enum invariant_mode invariant_params_mode(const struct invariant_params *p, const char *name);

struct verdict {
        const char *invariant; /* static name, e.g. "SUPPLY_MISMATCH" */
        enum verdict_tier tier;
        enum verdict_status status;
        char summary[INVARIANT_SUMMARY_MAX]; /* one line */
        struct cJSON *evidence;              /* a JSON object, owned; may be NULL after OOM */
        int needs_confirmation;              /* see the quorum above */
        int disagreement;                    /* endpoints returned different answers */
        enum invariant_mode mode;
        int has_value; /* Tier 3: a measure */
        double value;
        const char *unit; /* static: "ms", "ratio", ... */
        uint64_t eval_us; /* how long evaluating it took (all views), for metrics */
};

/*
 * Sets status and summary (printf-style) in one go; the evidence object is
 * created on first use by verdict_evidence().
 */
void verdict_set(struct verdict *v, enum verdict_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
struct cJSON *verdict_evidence(struct verdict *v);

/*
 * Names one subject the verdict is violated for ("asset SIGIL", "account
 * 0x…", "batch 12", "stream relayer:deposits", "chain source"): paging
 * opens one alert per subject, so a second asset breaking is a second
 * page and the first one clearing resolves only its own. Kept in the
 * evidence as "subjects" (a JSON array, each subject once, at most
 * VERDICT_SUBJECTS_MAX; past that "subjects_truncated": true, and paging
 * then resolves none of the verdict's open alerts until the list fits).
 * Call it for each violated item; a verdict without subjects is about the
 * whole bridge.
 */
#define VERDICT_SUBJECTS_MAX 16
#define VERDICT_SUBJECT_MAX 120
void verdict_add_subject(struct verdict *v, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Frees the evidence and zeroes the verdict. Accepts NULL. */
void verdict_release(struct verdict *v);

/*
 * Evaluates with view `view[c]` of chain c; invariants that read no chain
 * values ignore it. The verdict arrives zeroed with invariant, tier and mode set.
 */
typedef void (*invariant_fn)(const struct snapshot *s, const size_t view[SNAP_NCHAINS],
                             const struct invariant_params *p, struct verdict *out);

struct invariant {
        const char *name;
        enum verdict_tier tier;
        int weighs_views; /* Tier 1 over chain values: evaluated per view */
        invariant_fn evaluate;
        /*
         * Reads the history a cycle reads in pages (ledger batches, leaves,
         * withdrawals, roots, anchors): evaluated on every page (pages.h).
         */
        int reads_history;
        /* A Tier 3 value's bad direction across pages: 1 higher, -1 lower, 0 none. */
        int worse_value;
};

/* Every check, Tier 1 first, then Tier 2, then Tier 3. */
extern const struct invariant *const invariant_table[];
extern const size_t invariant_count;

/* The check called `name`, or NULL. */
const struct invariant *invariant_find(const char *name);

/*
 * Runs every check of invariant_table on `s` into out[0 .. invariant_count-1]
 * and appends ENDPOINT_DISAGREEMENT at out[invariant_count]; `out` must hold
 * invariant_count + 1 verdicts. Release each with verdict_release.
 */
void invariants_evaluate(const struct snapshot *s, const struct invariant_params *p,
                         struct verdict *out);

/*
 * Like invariants_evaluate for the checks that read history
 * (reads_history) only, for a page of history after the first; out[i] of
 * every other check, and out[invariant_count], are left zeroed.
 */
void invariants_evaluate_history(const struct snapshot *s, const struct invariant_params *p,
                                 struct verdict *out);

/*
 * Evaluates ENDPOINT_DISAGREEMENT (out[invariant_count]) again from
 * out[0 .. invariant_count-1], after pages were merged into them.
 */
void invariants_evaluate_disagreement(const struct invariant_params *p, struct verdict *out);

/* Some verdict asks for confirmation through other endpoints. */
int invariants_need_confirmation(const struct verdict *v, size_t n);

/*
 * The combined status of the Tier 1 checks in enforce mode (what validate's
 * exit code and a halt decision rest on).
 */
enum verdict_status invariants_tier1_status(const struct verdict *v, size_t n);

#endif
