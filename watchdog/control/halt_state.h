/*
 * halt_state: the halts this relaywatch has issued or adopted and is still
 * watching, kept on disk in STATE_DIR/halt-state.json so that a restart
 * carries on where the last run stopped (the ack deadline, the effect
 * check, an incident an operator resumed while its violation persists).
 *
 * One incident per invariant (or "MANUAL"): while it is open the same
 * violation seen again, by this replica or another, is the same incident
 * and is not published again; a different invariant gets its own.
 *
 * The file is JSON, written whole under a temporary name, fsync'd, renamed
 * into place and the directory fsync'd. A missing file is an empty state
 * (a first start); a file that cannot be read or parsed is an error naming
 * the file, and the caller must not report itself healthy while it lasts.
 */
#ifndef RELAYWATCH_HALT_STATE_H
#define RELAYWATCH_HALT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "control_msg.h"
#include "halt_publish.h"
#include "invariant.h"
#include "rwerr.h"
#include "snapshot.h"

struct cJSON;

#define HALT_STATE_FILE "halt-state.json"
#define HALT_STATE_MAX 32 /* open incidents; there are four Tier 1 invariants and MANUAL */
#define HALT_STATE_NAME_MAX 64

enum incident_phase {
        INCIDENT_PENDING = 0,   /* signed, waiting in the outbox for Redis */
        INCIDENT_PUBLISHED = 1, /* on the control stream (ours or another replica's) */
        INCIDENT_RESUMED = 2,   /* an operator resumed while the violation persisted */
};

struct incident {
        char invariant[HALT_STATE_NAME_MAX];
        char subject[SNAP_NAME_MAX]; /* asset or chain that broke; "" for none */
        char id[CONTROL_ID_SIZE];    /* the HALT's message id (maybe another replica's) */
        char entry_id[HALT_PUBLISH_ENTRY_ID_SIZE]; /* stream entry; "" while pending */
        uint64_t first_height;                     /* the pinned height it was first seen at */
        char correlation_id[64];                   /* the cycle that detected it */
        char severity[16];
        char reason[INVARIANT_SUMMARY_MAX];
        enum incident_phase phase;
        int ours; /* this replica published it */
        /*
         * Where the incident came from: 0, a verdict of a cycle (ours, or
         * joined with another replica's HALT for the same invariant); 1, a
         * valid HALT found in force on the control stream that no incident
         * of this replica tracked (a manual halt, `relaywatch halt`, or any
         * other signer's). An incident from the stream is never published:
         * it is watched (acknowledgement, effect) until a RESUME lifts it.
         * In the file as "origin": "cycle" or "stream" (absent: "cycle").
         */
        int from_stream;
        char key_id[SIGNING_KEY_ID_SIZE]; /* from the stream: the key that signed it; else "" */
        int64_t detected_at_ms;           /* unix ms */
        int64_t published_at_ms;          /* 0: not yet */
        int64_t acked_at_ms;              /* 0: not acknowledged yet */
        int not_acked_reported;           /* HALT_NOT_ACKNOWLEDGED was raised */
        int not_effective_reported;       /* HALT_NOT_EFFECTIVE was raised */
        /* the relayer's activity at the first cycle after the ack */
        int has_baseline;
        uint64_t baseline_nonces[SNAP_NCHAINS]; /* sum of the relayer accounts' nonces */
        uint64_t baseline_op_id;                /* the ledger's newest operation */
        /*
         * In memory only, never in the file: when this run started waiting
         * for the ack, on the monotonic clock (0: not yet), so a step of
         * the wall clock cannot fire or delay HALT_NOT_ACKNOWLEDGED. After a
         * restart the wait starts again from the start.
         */
        uint64_t ack_wait_from_mono_ms;
        uint64_t acked_mono_ms; /* in memory only: when this run saw the ack (0: before it) */
};

struct halt_state {
        size_t n;
        struct incident incidents[HALT_STATE_MAX];
        /*
         * The last control-stream entry the supervisor has judged and
         * reported on ("" before the first): entries after it that fail
         * the protocol's checks are CONTROL_STREAM_FORGERY.
         */
        char stream_cursor[HALT_PUBLISH_ENTRY_ID_SIZE];
};

/*
 * Reads STATE_DIR/halt-state.json into *out (zeroed first). A missing file
 * gives an empty state and RW_OK; anything else that goes wrong is an
 * error naming the file and what is wrong with it.
 */
int halt_state_load(const char *state_dir, struct halt_state *out, struct rwerr *err)
        __attribute__((warn_unused_result));

/* Writes *s durably (see above). The directory must exist. */
int halt_state_save(const char *state_dir, const struct halt_state *s, struct rwerr *err)
        __attribute__((warn_unused_result));

/* The open incident of `invariant`, or NULL. */
struct incident *halt_state_find(struct halt_state *s, const char *invariant);

/*
 * Appends a zeroed incident for `invariant` and returns it, or NULL when
 * HALT_STATE_MAX incidents are open already.
 */
struct incident *halt_state_add(struct halt_state *s, const char *invariant);

/* Removes incident `i` (keeps the order of the others). */
void halt_state_remove(struct halt_state *s, size_t i);

/* "pending", "published" or "resumed". */
const char *incident_phase_name(enum incident_phase phase);

/* One incident as the JSON object the file and status.json hold; NULL on OOM. Caller frees. */
struct cJSON *halt_state_incident_json(const struct incident *inc);

#endif
