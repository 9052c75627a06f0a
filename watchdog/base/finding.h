/*
 * finding: what the act side reports that is not a halt: the halt not
 * acknowledged or not taking effect, the halt path down, the watchdog
 * blind for too long.
 *
 * Every finding goes to a list of sinks. The journal below is the one the
 * supervisor always has: it logs the finding (one JSON line), keeps the
 * most recent ones for `relaywatch status`, and queues them for the
 * watchdog's records in the database. Paging plugs in as one more sink;
 * a sink must not block (queue and return), so reporting never delays a
 * halt or a cycle.
 */
#ifndef RELAYWATCH_FINDING_H
#define RELAYWATCH_FINDING_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

enum finding_severity {
        FINDING_INFO = 0,
        FINDING_WARNING = 1,
        FINDING_ERROR = 2,
        FINDING_CRITICAL = 3,
};

/* "INFO", "WARNING", "ERROR" or "CRITICAL" (the escalation levels in the README). */
const char *finding_severity_name(enum finding_severity s);

/* One finding; everything borrowed for the duration of the report call. */
struct finding {
        const char *kind; /* e.g. "HALT_NOT_ACKNOWLEDGED" */
        enum finding_severity severity;
        const char *summary;          /* one line an on-call engineer can act on */
        const struct cJSON *evidence; /* an object, or NULL */
        const char *correlation_id;   /* the cycle that found it */
        const char *halt_id;          /* the halt it is about, or NULL */
        const char *subject;          /* what it is about ("redis", an alert route), or NULL */
        int cleared;                  /* 1: the condition ended (finding_clear) */
};

struct finding_sink {
        void (*report)(void *ctx, const struct finding *f);
        void *ctx;
};

#define FINDING_SINKS_MAX 4
#define FINDING_RECENT_MAX 20
#define FINDING_TEXT_MAX 400

/* A finding as kept by the journal (copied text). */
struct finding_record {
        char kind[48];
        enum finding_severity severity;
        char summary[FINDING_TEXT_MAX];
        char correlation_id[64];
        char halt_id[48];
        char *evidence_json; /* owned; "{}" when there was none; NULL after OOM */
        int64_t at_ms;
};

struct finding_journal {
        /* the most recent findings, oldest first (a ring of FINDING_RECENT_MAX) */
        struct finding_record recent[FINDING_RECENT_MAX];
        size_t nrecent, next;
        /* reported but not yet written to the database, oldest first */
        struct finding_record *unsaved;
        size_t nunsaved;
        size_t dropped; /* unsaved records dropped because the queue was full */
        /* further sinks (paging) */
        struct finding_sink sinks[FINDING_SINKS_MAX];
        size_t nsinks;
};

/* A zeroed journal is ready; finding_journal_release frees what it holds. */
void finding_journal_release(struct finding_journal *j);

/* Adds a sink called after the journal's own handling; -1 when full. */
int finding_journal_add_sink(struct finding_journal *j, const struct finding_sink *s);

/* Logs, records and passes on one finding. */
void finding_report(struct finding_journal *j, const struct finding *f);

/*
 * Says that the condition a finding reported has ended (the halt path is up
 * again, Tier 1 is evaluated again): logged as "finding_cleared" and passed
 * to the sinks with `cleared` set, so paging can resolve the alert. Not
 * kept in the recent list or the database.
 */
void finding_clear(struct finding_journal *j, const char *kind, const char *subject,
                   const char *correlation_id, const char *summary);

/* The queue of unsaved records: the caller writes them and then calls finding_journal_saved(n). */
void finding_journal_saved(struct finding_journal *j, size_t n);

/* The recent findings as a JSON array (newest last); NULL on OOM. Caller frees. */
struct cJSON *finding_journal_recent_json(const struct finding_journal *j);

#endif
