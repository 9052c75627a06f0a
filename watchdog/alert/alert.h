/*
 * alert: one alert event, the value every part of paging passes around.
 *
 * An alert is a state change of a verdict or a finding: it fires, it may be
 * updated (a worse figure, a halt not acknowledged), and it resolves. Its
 * identity is its name (the invariant or finding, "SUPPLY_MISMATCH") and its
 * subject (what broke: "asset SIGIL", "chain source", "" for the whole
 * bridge); the dedup key made of the two is the identity everywhere: in the
 * open-alert file, in the Redis claim that keeps two replicas from paging
 * twice, and in the receivers (PagerDuty's dedup_key, Alertmanager's
 * labels). The same incident is one alert however often it is seen.
 *
 * The tracker (alert_tracker.h) decides when an event happens; the sender
 * (alert_sender.h) delivers it through the receivers (receiver.h). An event
 * is a plain value: fixed-size text and one owned JSON text of details, so
 * it crosses threads and files by copy.
 */
#ifndef RELAYWATCH_ALERT_H
#define RELAYWATCH_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "rwerr.h"

struct cJSON;
struct config;

#define ALERT_NAME_MAX 48
#define ALERT_SUBJECT_MAX 128
#define ALERT_DEDUP_MAX 200    /* under PagerDuty's 255 */
#define ALERT_SUMMARY_MAX 1024 /* PagerDuty's payload.summary limit */
#define ALERT_URL_MAX 512

enum alert_state {
        ALERT_FIRING = 0,   /* opened, or an update of an open alert (see `update`) */
        ALERT_RESOLVED = 1, /* the condition cleared (and stayed clear for flap_window_s) */
};

/* "firing" or "resolved". */
const char *alert_state_name(enum alert_state s);

enum alert_purpose {
        ALERT_INCIDENT = 0, /* a real alert */
        ALERT_TEST = 1,     /* `relaywatch alert test`: marked as a test everywhere */
        ALERT_REPORT = 2,   /* the daily report (severity INFO) */
};

struct alert {
        char name[ALERT_NAME_MAX];       /* "SUPPLY_MISMATCH", "HALT_PATH_DOWN", ... */
        char subject[ALERT_SUBJECT_MAX]; /* "" for the whole bridge */
        char dedup_key[ALERT_DEDUP_MAX]; /* alert_dedup_key(name, subject) */
        enum finding_severity severity;
        enum alert_state state;
        enum alert_purpose purpose;
        int update; /* FIRING of an alert already open: a worse figure or a re-page */
        int tier;   /* 1, 2 for verdicts; 0 for findings, tests and reports */
        char summary[ALERT_SUMMARY_MAX]; /* one line; no secret */
        char correlation_id[64];         /* the cycle that saw it */
        char halt_id[48];                /* the HALT it caused or is about, or "" */
        char runbook_url[ALERT_URL_MAX]; /* alert_runbook_url */
        int64_t opened_ms;               /* wall clock: when it first fired */
        int64_t at_ms;                   /* wall clock: this event */
        uint64_t seq;                    /* opening number of this dedup key (1, 2, ...) */
        char *details_json; /* owned: a JSON object (evidence, heights, halt id), or NULL */
        /* the audit log's checkpoint when it was raised (0 and "": none) */
        uint64_t audit_size;
        char audit_root[48];
};

/*
 * The identity of name + subject as a dedup key: "NAME" or "NAME/SUBJECT"
 * with every character outside [A-Za-z0-9._:-] made '_', and, when that
 * would be longer than ALERT_DEDUP_MAX - 1, "NAME/" and the first 32 hex
 * digits of BLAKE2b(subject). The same on every replica and every restart.
 */
void alert_dedup_key(const char *name, const char *subject, char out[ALERT_DEDUP_MAX]);

/* cfg->runbook_url + NAME + ".md" into `a->runbook_url`. */
void alert_set_runbook(struct alert *a, const struct config *cfg);

/* Copies `src` into `dst` (deep: details_json is duplicated). RW_ERR_NOMEM. */
int alert_copy(struct alert *dst, const struct alert *src);

/* Frees details_json and zeroes `a`. Accepts NULL. */
void alert_release(struct alert *a);

/*
 * An alert as a JSON object and back: the form it has in the state files
 * (open alerts, the spool of undelivered ones, the history). Every field is
 * kept; details as an object. alert_from_json checks types and lengths and
 * names the field that is wrong.
 */
struct cJSON *alert_to_json(const struct alert *a);
int alert_from_json(const struct cJSON *o, struct alert *out, struct rwerr *err);

#endif
