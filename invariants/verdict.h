/*
 * verdict: the outcome vocabulary every invariant shares.
 *
 * An invariant evaluates to one of three statuses. "Could not evaluate" is
 * its own status and never counts as "violated": a node that is behind or an
 * unreachable database makes the watchdog blind, which is alerted on, but it
 * must not halt a bridge.
 */
#ifndef RELAYWATCH_VERDICT_H
#define RELAYWATCH_VERDICT_H

enum verdict_status {
        VERDICT_OK = 0,
        VERDICT_UNKNOWN = 1, /* could not evaluate: missing or unreliable data */
        VERDICT_VIOLATED = 2,
};

/* Tier 1 halts the relayer, Tier 2 alerts, Tier 3 is tracked as metrics. */
enum verdict_tier {
        VERDICT_TIER_HALT = 1,
        VERDICT_TIER_ALERT = 2,
        VERDICT_TIER_TRACK = 3,
};

/* "ok", "could-not-evaluate", "violated"; "invalid" for a value out of range. */
const char *verdict_status_name(enum verdict_status status);

/* "halt", "alert", "track"; "invalid" for a value out of range. */
const char *verdict_tier_name(enum verdict_tier tier);

/*
 * The status of a set of checks given the status so far and one more:
 * any violation makes the set violated; otherwise anything not evaluated
 * makes it could-not-evaluate; otherwise it is ok.
 */
enum verdict_status verdict_status_combine(enum verdict_status so_far, enum verdict_status next);

/*
 * The exit code of `relaywatch validate` for the combined status:
 * 0 valid, 1 violated, 2 could not evaluate.
 */
int verdict_exit_code(enum verdict_status combined);

#endif
