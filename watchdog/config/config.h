/*
 * config: the relaywatch configuration file.
 *
 * An INI file read with libinih. Values may name environment variables as
 * ${NAME}; they are expanded when the file is read (an unset variable is an
 * error). Sections:
 *
 *   [watchdog]            id, state_dir, correlation_prefix
 *   [database]            url, statement_timeout_ms, failure_threshold
 *   [redis]               url (optional: needed for streams and, later, halts)
 *   [chain source]        chain_id, endpoints (comma separated URLs),
 *   [chain execution]     confirmations, finalized, quorum, log_chunk_blocks,
 *                         timeout_ms, hedge_ms, deploy_block; source also
 *                         lockbox and root_registry
 *   [asset NAME]          source_token, bridged_token, decimals, tolerance
 *                         (token units, default 0.001)
 *   [relayer]             accounts, signers (comma separated addresses)
 *   [thresholds]          nonce_gap, relayer_cycle_ms, watchdog_cycle_ms,
 *                         gas_ratio_percent, pending_operations, stream_lag,
 *                         rpc_failure_threshold, rpc_slow_call_ms
 *   [invariant NAME]      mode = enforce | shadow
 *   [stream NAME]         maxlen (the relayer's queue streams to watch)
 *   [control]             halt control (optional; `run`, `halt`, `resume`,
 *                         `status` and `control tail` need it, with
 *                         [redis] url): stream, halt_key, heartbeat_key,
 *                         consumer_group, signing_key, watchdog_keys,
 *                         operator_keys, heartbeat_ttl_ms, ack_timeout_ms,
 *                         consumer_idle_ms, redis_timeout_ms
 *
 *   [alerting]            paging policy (optional): flap_window_s,
 *                         repage_s, spool_retry_s, runbook_url, source,
 *                         report_at, claim_prefix
 *   [audit]               the audit log (optional): dir, origin,
 *                         checkpoint_s, fsync_batch_ms, rotate_bytes,
 *                         rotate_daily, key_epoch_s, redis_key,
 *                         witness_keys, witness_max_age_s; witness_log,
 *                         witness_log_pubkey, witness_signing_key,
 *                         witness_state_dir (to witness another's log)
 *   [http]                the HTTP endpoints (optional): listen (HOST:PORT
 *                         or off; default 127.0.0.1:9464), token,
 *                         max_connections, timeout_s
 *   [alert NAME]          one receiver (a route): type = pagerduty | slack |
 *                         email | webhook | alertmanager, severities, url,
 *                         routing_key, secret, mail_from, mail_to,
 *                         username, password, min_interval_ms, timeout_ms,
 *                         max_attempts, resend_s (see struct
 *                         config_alert_route for each)
 *
 *   [watchdog] also holds the supervisor's schedule: mode (interval or
 *   block), interval_ms, poll_ms, full_sweep_s, blind_limit_ms.
 *
 * A file is loaded whole or not at all: every problem (unknown section or
 * key, bad value, missing required key) is collected with its file and line
 * and config_load fails listing all of them.
 */
#ifndef RELAYWATCH_CONFIG_H
#define RELAYWATCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "invariant.h"
#include "snapshot.h"

#define CONFIG_ENDPOINTS_MAX SNAP_VIEWS_MAX
#define CONFIG_ACCOUNTS_MAX 16
#define CONFIG_KEYS_MAX 8
#define CONFIG_DEFAULT_PATH "/etc/relaywatch/relaywatch.conf"
#define CONFIG_HTTP_LISTEN_DEFAULT "127.0.0.1:9464"

struct config_chain {
        int present;
        uint64_t chain_id;
        size_t nendpoints;
        char *endpoints[CONFIG_ENDPOINTS_MAX]; /* URLs, may carry API keys: never print */
        unsigned confirmations;                /* default 0 */
        int finalized;                         /* pin against the finalized tag; default 0 */
        unsigned quorum;                       /* default: 2 when 2+ endpoints, else 1 */
        uint64_t log_chunk_blocks;             /* eth_getLogs range; default 2000 */
        long timeout_ms;                       /* per RPC exchange; default 10000 */
        uint64_t hedge_ms;                     /* hedge delay; 0 (default): auto, 10..2000 */
        uint64_t deploy_block;                 /* first block to scan for events; default 0 */
        uint8_t lockbox[20];                   /* source only, required there */
        uint8_t root_registry[20];             /* source only, required there */
        /* Multicall3 for the per-asset and per-batch reads; all zero: "off"
         * (one eth_call each). Default MULTICALL3_ADDRESS; where no contract
         * answers there, the reads fall back to one call each. */
        uint8_t multicall3[20];
};

enum config_run_mode {
        CONFIG_RUN_INTERVAL = 0, /* a cycle every interval_ms */
        CONFIG_RUN_BLOCK = 1,    /* a cycle on every new block of either chain (polled) */
};

enum config_receiver_type {
        RECEIVER_PAGERDUTY = 0,    /* PagerDuty Events API v2 */
        RECEIVER_SLACK = 1,        /* Slack incoming webhook */
        RECEIVER_EMAIL = 2,        /* SMTP through libcurl */
        RECEIVER_WEBHOOK = 3,      /* any JSON receiver, body signed with HMAC-SHA256 */
        RECEIVER_ALERTMANAGER = 4, /* Prometheus Alertmanager POST /api/v2/alerts */
};

/* "pagerduty", "slack", "email", "webhook" or "alertmanager". */
const char *config_receiver_type_name(enum config_receiver_type t);

#define CONFIG_ROUTES_MAX 16
#define CONFIG_MAIL_TO_MAX 8
#define CONFIG_GROUPS_MAX 16         /* relayer instances (consumer groups) on one control stream */
#define CONFIG_PD_ROUTING_KEY_LEN 32 /* PagerDuty integration keys are 32 characters */

/*
 * One [alert NAME] section: a receiver and the severities routed to it.
 * Secrets (url, routing_key, secret, password) come from ${ENV} in
 * practice, are wiped by config_free and are never printed: messages name
 * the route and the key only.
 */
struct config_alert_route {
        char name[SNAP_NAME_MAX]; /* the NAME of [alert NAME] */
        unsigned line;            /* of the section header, for messages */
        enum config_receiver_type type;
        /*
         * Bit (1u << enum finding_severity) for each severity sent at once
         * (key `severities`, e.g. "CRITICAL, ERROR"; any case, each once).
         * INFO means: this route gets the daily report. Defaults: pagerduty
         * CRITICAL; email CRITICAL, ERROR, INFO; slack CRITICAL, ERROR,
         * WARNING, INFO; webhook and alertmanager CRITICAL, ERROR, WARNING.
         * pagerduty and alertmanager routes may not have INFO.
         */
        unsigned severities;
        unsigned max_attempts; /* before the message goes to the spool, 1..100; default 6 */
        /*
         * pagerduty: the Events API base, NULL when not given (the receiver
         * then uses https://events.pagerduty.com; /v2/enqueue is appended);
         * slack, webhook: the webhook URL (required); alertmanager: its base
         * URL (required; /api/v2/alerts appended): https, or http only to a
         * loopback host (127.0.0.0/8, [::1], localhost). email (required):
         * smtps://HOST:PORT, or smtp://HOST:PORT, where the sender demands
         * STARTTLS (CURLUSESSL_ALL) unless the host is loopback. Secret.
         */
        char *url;
        char *routing_key; /* pagerduty, required: 32 letters and digits; secret */
        char *secret;      /* webhook, required (16+ bytes); HMAC key; secret */
        char *mail_from;   /* email, required: an address local@domain */
        size_t nmail_to;   /* email, required: 1..CONFIG_MAIL_TO_MAX addresses, none twice */
        char *mail_to[CONFIG_MAIL_TO_MAX];
        char *username;           /* email: SMTP AUTH user, or NULL (with password, or neither) */
        char *password;           /* email: SMTP AUTH password, or NULL; secret */
        uint64_t min_interval_ms; /* between two messages, 0..3600000; default 1000 slack, else 0 */
        long timeout_ms;          /* one delivery attempt, 100..120000; default 10000 */
        uint64_t resend_s;        /* alertmanager: re-sent while firing, 10..3600; default 60 */
};

struct config_stream {
        char name[SNAP_NAME_MAX];
        uint64_t maxlen; /* 0: not capped */
};

struct config {
        char *path; /* the file it was read from */
        /* [watchdog] */
        char *watchdog_id;             /* default: hostname */
        char *state_dir;               /* default /var/lib/relaywatch */
        char *correlation_prefix;      /* put before every correlation id; default "rw" */
        enum config_run_mode run_mode; /* key `mode`; default interval */
        uint64_t interval_ms;          /* interval mode: between cycle starts; default 5000 */
        uint64_t poll_ms;              /* block mode: eth_blockNumber poll; default 100 */
        uint64_t full_sweep_s;         /* a full sweep at least this often; default 300 */
        unsigned page_batches;         /* ledger batches per page of history; default 256 */
        uint64_t blind_limit_ms; /* no Tier 1 evaluation this long: alert, no heartbeat; 60000 */
        /* [database] */
        char *database_url;            /* required; holds a password: never print */
        long statement_timeout_ms;     /* default 5000 */
        unsigned db_failure_threshold; /* default 5 */
        /* [redis] */
        char *redis_url; /* NULL when absent */
        /* chains */
        struct config_chain chains[SNAP_NCHAINS];
        /* [asset NAME]: at least one */
        size_t nassets;
        struct snap_asset *assets;
        /* [relayer] */
        size_t naccounts;
        uint8_t accounts[CONFIG_ACCOUNTS_MAX][20];
        /* [thresholds], [invariant NAME] and [relayer] signers */
        struct invariant_params params;
        unsigned rpc_failure_threshold; /* default 3 */
        uint64_t rpc_slow_call_ms;      /* default 10000 */
        size_t nmodes;
        struct invariant_mode_setting *modes; /* NULL-terminated; params.modes points here */
        /* [stream NAME] */
        size_t nstreams;
        struct config_stream *streams;
        /* [control]; the key names have their defaults also without the section */
        int control_present;
        char *control_stream; /* default relayer:control */
        char *halt_key;       /* default relayer:halt */
        char *heartbeat_key;  /* default relayer:watchdog:heartbeat */
        /*
         * The relayer instances' consumer groups on the control stream, one
         * group per instance ([control] consumer_group, a list); default
         * one group, "relayer".
         */
        char *consumer_groups[CONFIG_GROUPS_MAX];
        size_t nconsumer_groups;
        char *signing_key;        /* the watchdog's secret key file; NULL when not given */
        size_t nwatchdog_pubkeys; /* watchdog_keys; default signing_key + ".pub" */
        char *watchdog_pubkeys[CONFIG_KEYS_MAX];
        size_t noperator_pubkeys; /* operator_keys: who may sign a RESUME */
        char *operator_pubkeys[CONFIG_KEYS_MAX];
        uint64_t heartbeat_ttl_ms; /* default 30000 */
        uint64_t ack_timeout_ms;   /* HALT_NOT_ACKNOWLEDGED after this; default 10000 */
        uint64_t consumer_idle_ms; /* a group consumer idle longer is not live; default 30000 */
        long redis_timeout_ms;     /* per Redis exchange; default 1000 */
        /* [alerting]; the defaults hold also without the section */
        uint64_t flap_window_s; /* a resolve waits this long for the condition to stay clear;
                                   a re-fire within it is the same alert; 0..86400, default 300 */
        uint64_t repage_s;      /* a CRITICAL whose HALT stays unacknowledged re-pages this
                                   often (same dedup key); 60..86400, default 900 */
        uint64_t spool_retry_s; /* undelivered alerts kept on disk are retried this often;
                                   5..86400, default 60 */
        /*
         * Base of the runbook links, NAME.md appended: http(s):// or
         * file:///, at most 400 characters, always ending in '/' (added when
         * the file leaves it out); default
         * file:///usr/local/share/doc/relaywatch/runbooks/
         */
        char *runbook_url;
        char *alert_source;     /* key `source`: PagerDuty payload.source, 1..64 characters of
                                   letters, digits and "._:-"; default the watchdog id */
        unsigned report_minute; /* key report_at = HH:MM (UTC), the daily report, as minutes
                                   after midnight (0..1439); default 08:00 = 480 */
        char *claim_prefix;     /* Redis keys claiming alerts between replicas; default
                                   the control stream + ":alert:" */
        /* [audit]: the audit log (audit_log.h) */
        char *audit_dir;               /* default STATE_DIR/audit */
        char *audit_origin;            /* checkpoints' origin and key name; default
                                           "relaywatch/" + the watchdog id */
        uint64_t audit_checkpoint_s;   /* a checkpoint at least this often; 1..86400, default 60 */
        uint64_t audit_fsync_batch_ms; /* other records fsync'd within; 0..60000, default 1000 */
        uint64_t audit_rotate_bytes;   /* a new file past this size; 0: never; default 64 MiB */
        int audit_rotate_daily;        /* and on each new UTC day; default true */
        uint64_t audit_key_epoch_s; /* the audit key evolves this often; 0: never; default 86400 */
        char *audit_redis_key;      /* where the latest checkpoint is published; default
                                           "relaywatch:audit:" + the watchdog id */
        char *audit_witness_keys[CONFIG_KEYS_MAX]; /* public key files of the witnesses */
        size_t naudit_witness_keys;
        uint64_t audit_witness_max_age_s; /* report when no witness cosigned for this long;
                                             0: not checked; default 600 with witness_keys */
        /*
         * [audit] witness_*: this watchdog also witnesses another's log
         * (audit_witness.h): the Redis key it publishes under, its genesis
         * public key, the key this one cosigns with, and where the last
         * checkpoint accepted is kept (default STATE_DIR/witness). All NULL:
         * no witnessing. witness_log needs the other two keys.
         */
        char *witness_log;
        char *witness_log_pubkey;
        char *witness_signing_key;
        char *witness_state_dir;

        /*
         * [http]: /metrics, the /health probes, /status and the on-call page
         * (http_server.h). listen is "HOST:PORT" or "off" (default
         * CONFIG_HTTP_LISTEN_DEFAULT); http_host and http_port are what it
         * names ("*": every address; IPv6 in brackets). A host other
         * machines can reach is refused without token.
         */
        char *http_listen;
        int http_enabled;
        char http_host[64];
        unsigned http_port;
        char *http_token;              /* bearer token for all but the probes; NULL: none */
        unsigned http_max_connections; /* 1..4096, default 64 */
        unsigned http_timeout_s;       /* an idle connection is closed after; default 10 */
        /* [alert NAME] */
        size_t nroutes;
        struct config_alert_route *routes;
};

/*
 * Reads and validates `path`. On success returns a config the caller frees
 * with config_free. On failure returns NULL and writes every problem, one
 * per line as "FILE:LINE: message", sorted by line, to `problems` (when not
 * NULL); `err` gets a one-line summary ("FILE: 3 problems, configuration
 * refused", with the first problem appended when `problems` is NULL), or
 * the reason the file could not be read. Messages never show the value of
 * a url, endpoints, routing_key, secret or password key (they carry
 * passwords and API keys), only its name.
 */
struct config *config_load(const char *path, FILE *problems, struct rwerr *err);

/*
 * config_load on text already in memory: `len` bytes of `text` (need not be
 * NUL-terminated), reported under `name` ("FILE" in the messages). For
 * tests, the fuzz target and callers that read the file themselves.
 */
struct config *config_load_string(const char *text, size_t len, const char *name, FILE *problems,
                                  struct rwerr *err);

/* Frees everything the config holds, wiping the secrets first. Accepts NULL. */
void config_free(struct config *c);

/*
 * The config path a command uses: `given` (-c FILE) if not NULL, else
 * $RELAYWATCH_CONFIG, else CONFIG_DEFAULT_PATH. Static or borrowed storage.
 */
const char *config_path(const char *given);

#endif
