/*
 * config: reading the relaywatch configuration file.
 *
 * libinih splits `key = value` lines; everything else is ours. Debian's
 * libinih (r55) calls the handler without a line number and keeps section
 * names in a 50-byte buffer, so the file is fed to ini_parse_stream through
 * read_line(), which counts lines, and hands libinih one normalised line at
 * a time: leading and trailing whitespace gone (so no line is ever taken as
 * the continuation of the previous value), comments and section headers
 * replaced by an empty line. Section headers are parsed here, at any
 * length; lines that are neither a section, a comment nor `key = value` are
 * reported here too, so every problem in the file is reported, not only
 * the first libinih would return.
 *
 * Each key is a row of a table (name, type, field, bounds, required);
 * defaults are in place before parsing, cross-key checks (quorum against
 * endpoints, tolerance against decimals, the gap in hedge_ms's range,
 * required keys and sections, and for [alert NAME] everything that depends
 * on the route's type: the keys it needs or refuses, its default
 * severities, the scheme of its url) run once at the end, since a key may
 * come before the one it depends on. Any problem refuses the whole file.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>
#include <sodium.h>

#include "abi.h"
#include "conninfo.h"
#include "endpoint_pool.h"
#include "finding.h"
#include "multicall.h"
#include "rpc.h"
#include "rwerr.h"
#include "u256.h"

#define CONFIG_FILE_MAX ((size_t)16 << 20) /* bytes in a config file */
#define CONFIG_LINE_MAX 8192               /* characters in one line */
#define CONFIG_VALUE_MAX 8192              /* characters in a value once ${...} are expanded */
#define CONFIG_PROBLEMS_MAX 100            /* problems listed; the rest are counted */
#define CONFIG_ASSETS_MAX 100000 /* a bridge with more assets splits them over watchdogs */
#define CONFIG_STREAMS_MAX 64
#define CONFIG_ENV_NAME_MAX 128
#define CONFIG_PATH_MAX 4096
#define SECTION_KEYS_MAX 16
#define CONFIG_RUNBOOK_URL_MAX 400 /* room left in an alert's 512 for NAME.md */
#define CONFIG_MAIL_MAX 254        /* characters in an e-mail address (RFC 5321 path) */
#define CONFIG_SCHEME_MAX 16
#define SHOWN_MAX 48 /* characters of a (non-secret) value quoted in a message */

/*
 * [invariant NAME] sections: at most one per check of invariant_table that
 * halts or alerts (Tier 3 measures have no mode).
 */
#define CONFIG_MODES_MAX 64

static const char *const chain_names[SNAP_NCHAINS] = {"source", "execution"};

/* ------------------------------------------------------------ the tables */

enum key_type {
        KEY_IDENT,       /* char *: letters, digits and "._:-", length min..max */
        KEY_GROUPS,      /* char *[max]: comma-separated Redis names, as KEY_IDENT, none twice */
        KEY_PATH,        /* char *: an absolute path */
        KEY_PG_URL,      /* char *: a libpq connection string; secret */
        KEY_REDIS_URL,   /* char *: redis://, rediss:// or unix://; secret */
        KEY_URLS,        /* char *[max] and a size_t count: http(s) URLs; secret */
        KEY_U64,         /* uint64_t in min..max */
        KEY_UNSIGNED,    /* unsigned in min..max */
        KEY_LONG,        /* long in min..max */
        KEY_BOOL,        /* int: true/false/yes/no/1/0 */
        KEY_ADDRESS,     /* uint8_t[20], not zero */
        KEY_ADDRESS_OFF, /* uint8_t[20], not zero, or "off" (all zero) */
        KEY_ADDRESSES,   /* uint8_t[max][20] and a size_t count */
        KEY_AMOUNT,      /* char *: kept as text until the decimals are known */
        KEY_MODE,        /* enum invariant_mode */
        KEY_RUN_MODE,    /* enum config_run_mode */
        KEY_PATHS,       /* char *[max] and a size_t count: absolute paths */
        KEY_RUNBOOK_URL, /* char *: http(s):// or file:///, '/'-terminated; length <= max */
        KEY_CLOCK,       /* unsigned: HH:MM (UTC) as minutes after midnight */
        KEY_RECEIVER,    /* enum config_receiver_type */
        KEY_SEVERITIES,  /* unsigned: bit (1u << enum finding_severity) per name */
        KEY_ROUTE_URL,   /* char *: a receiver's URL, scheme checked per type; secret */
        KEY_ROUTING_KEY, /* char *: exactly max letters and digits; secret */
        KEY_SECRET,      /* char *: min..max bytes, anything; secret */
        KEY_TEXT,        /* char *: min..max characters, no control character */
        KEY_MAIL,        /* char *: one address local@domain */
        KEY_MAILS,       /* char *[max] and a size_t count: addresses */
};

#define KEY_REQUIRED 1u
#define KEY_SOURCE_ONLY 2u /* [chain source] only */
/* [alert NAME]: the key is refused on a route of any other type than those given here. */
#define KEY_FOR(t) (1u << (4 + (unsigned)(t)))
#define KEY_FOR_MASK (0x1fu << 4)
/* [alert NAME]: a route of type t must have this key. */
#define KEY_NEEDED(t) (1u << (12 + (unsigned)(t)))
#define RECEIVER_TYPES 5

struct key_def {
        const char *name;
        enum key_type type;
        unsigned flags;
        size_t offset;       /* of the field in the section's target struct */
        size_t count_offset; /* KEY_URLS, KEY_ADDRESSES, KEY_PATHS: of the size_t count */
        uint64_t min, max;   /* numbers: bounds; lists: most entries; KEY_IDENT: length */
};

/* What an [asset NAME] section fills before it is checked as a whole. */
struct asset_draft {
        struct snap_asset a;
        char *tolerance; /* as written; NULL: the default */
};

#define CFG(f) offsetof(struct config, f)
#define CHAIN(f) offsetof(struct config_chain, f)
#define ASSET(f) offsetof(struct asset_draft, f)
#define ROUTE(f) offsetof(struct config_alert_route, f)

static const struct key_def watchdog_keys[] = {
        {"id", KEY_IDENT, 0, CFG(watchdog_id), 0, 1, SNAP_NAME_MAX - 1},
        {"state_dir", KEY_PATH, 0, CFG(state_dir), 0, 0, 0},
        {"correlation_prefix", KEY_IDENT, 0, CFG(correlation_prefix), 0, 1, 16},
        {"mode", KEY_RUN_MODE, 0, CFG(run_mode), 0, 0, 0},
        {"interval_ms", KEY_U64, 0, CFG(interval_ms), 0, 10, 86400000},
        {"poll_ms", KEY_U64, 0, CFG(poll_ms), 0, 10, 60000},
        {"full_sweep_s", KEY_U64, 0, CFG(full_sweep_s), 0, 0, 604800},
        {"blind_limit_ms", KEY_U64, 0, CFG(blind_limit_ms), 0, 1000, 86400000},
        {"page_batches", KEY_UNSIGNED, 0, CFG(page_batches), 0, 1, 100000},
};

static const struct key_def database_keys[] = {
        {"url", KEY_PG_URL, KEY_REQUIRED, CFG(database_url), 0, 0, 0},
        {"statement_timeout_ms", KEY_LONG, 0, CFG(statement_timeout_ms), 0, 1, 3600000},
        {"failure_threshold", KEY_UNSIGNED, 0, CFG(db_failure_threshold), 0, 1, 1000},
};

static const struct key_def redis_keys[] = {
        {"url", KEY_REDIS_URL, 0, CFG(redis_url), 0, 0, 0},
};

static const struct key_def chain_keys[] = {
        {"chain_id", KEY_U64, KEY_REQUIRED, CHAIN(chain_id), 0, 1, UINT64_MAX},
        {"endpoints", KEY_URLS, KEY_REQUIRED, CHAIN(endpoints), CHAIN(nendpoints), 1,
         CONFIG_ENDPOINTS_MAX},
        {"confirmations", KEY_UNSIGNED, 0, CHAIN(confirmations), 0, 0, 100000},
        {"finalized", KEY_BOOL, 0, CHAIN(finalized), 0, 0, 1},
        {"quorum", KEY_UNSIGNED, 0, CHAIN(quorum), 0, 1, CONFIG_ENDPOINTS_MAX},
        {"log_chunk_blocks", KEY_U64, 0, CHAIN(log_chunk_blocks), 0, 1, 1000000},
        {"timeout_ms", KEY_LONG, 0, CHAIN(timeout_ms), 0, 1, 600000},
        {"hedge_ms", KEY_U64, 0, CHAIN(hedge_ms), 0, 0,
         ENDPOINT_POOL_HEDGE_MAX_MS}, /* 1-9: check_chains */
        {"deploy_block", KEY_U64, 0, CHAIN(deploy_block), 0, 0, UINT64_MAX},
        {"lockbox", KEY_ADDRESS, KEY_REQUIRED | KEY_SOURCE_ONLY, CHAIN(lockbox), 0, 0, 0},
        {"root_registry", KEY_ADDRESS, KEY_REQUIRED | KEY_SOURCE_ONLY, CHAIN(root_registry), 0, 0,
         0},
        {"multicall3", KEY_ADDRESS_OFF, 0, CHAIN(multicall3), 0, 0, 0},
};
#define CHAIN_KEY_QUORUM 4
#define CHAIN_KEY_HEDGE 7

static const struct key_def asset_keys[] = {
        {"source_token", KEY_ADDRESS, KEY_REQUIRED, ASSET(a.source_token), 0, 0, 0},
        {"bridged_token", KEY_ADDRESS, KEY_REQUIRED, ASSET(a.bridged_token), 0, 0, 0},
        {"decimals", KEY_UNSIGNED, KEY_REQUIRED, ASSET(a.decimals), 0, 0, U256_DECIMALS_MAX},
        {"tolerance", KEY_AMOUNT, 0, ASSET(tolerance), 0, 0, 0},
};
#define ASSET_KEY_SOURCE 0
#define ASSET_KEY_BRIDGED 1
#define ASSET_KEY_DECIMALS 2
#define ASSET_KEY_TOLERANCE 3

/* Redis key names: letters, digits and "._:-", as KEY_IDENT allows. */
static const struct key_def control_keys[] = {
        {"stream", KEY_IDENT, 0, CFG(control_stream), 0, 1, 200},
        {"halt_key", KEY_IDENT, 0, CFG(halt_key), 0, 1, 200},
        {"heartbeat_key", KEY_IDENT, 0, CFG(heartbeat_key), 0, 1, 200},
        {"consumer_group", KEY_GROUPS, 0, CFG(consumer_groups), CFG(nconsumer_groups), 1,
         CONFIG_GROUPS_MAX},
        {"signing_key", KEY_PATH, 0, CFG(signing_key), 0, 0, 0},
        {"watchdog_keys", KEY_PATHS, 0, CFG(watchdog_pubkeys), CFG(nwatchdog_pubkeys), 1,
         CONFIG_KEYS_MAX},
        {"operator_keys", KEY_PATHS, 0, CFG(operator_pubkeys), CFG(noperator_pubkeys), 1,
         CONFIG_KEYS_MAX},
        {"heartbeat_ttl_ms", KEY_U64, 0, CFG(heartbeat_ttl_ms), 0, 1000,
         3600000}, /* under heartbeat.h's one day */
        {"ack_timeout_ms", KEY_U64, 0, CFG(ack_timeout_ms), 0, 100, 3600000},
        {"consumer_idle_ms", KEY_U64, 0, CFG(consumer_idle_ms), 0, 1000, 86400000},
        {"redis_timeout_ms", KEY_LONG, 0, CFG(redis_timeout_ms), 0, 10, 60000},
};
#define CONTROL_KEY_WATCHDOG_KEYS 5

static const struct key_def alerting_keys[] = {
        {"flap_window_s", KEY_U64, 0, CFG(flap_window_s), 0, 0, 86400},
        {"repage_s", KEY_U64, 0, CFG(repage_s), 0, 60, 86400},
        {"spool_retry_s", KEY_U64, 0, CFG(spool_retry_s), 0, 5, 86400},
        {"runbook_url", KEY_RUNBOOK_URL, 0, CFG(runbook_url), 0, 0, CONFIG_RUNBOOK_URL_MAX},
        {"source", KEY_IDENT, 0, CFG(alert_source), 0, 1, 64},
        {"report_at", KEY_CLOCK, 0, CFG(report_minute), 0, 0, 0},
        {"claim_prefix", KEY_IDENT, 0, CFG(claim_prefix), 0, 1, 200}, /* as [control]'s keys */
};

/* [audit]: the audit log (audit_log.h). */
static const struct key_def audit_keys[] = {
        {"dir", KEY_PATH, 0, CFG(audit_dir), 0, 0, 0},
        {"origin", KEY_TEXT, 0, CFG(audit_origin), 0, 1, 200},
        {"checkpoint_s", KEY_U64, 0, CFG(audit_checkpoint_s), 0, 1, 86400},
        {"fsync_batch_ms", KEY_U64, 0, CFG(audit_fsync_batch_ms), 0, 0, 60000},
        {"rotate_bytes", KEY_U64, 0, CFG(audit_rotate_bytes), 0, 0, 1ull << 40},
        {"rotate_daily", KEY_BOOL, 0, CFG(audit_rotate_daily), 0, 0, 1},
        {"key_epoch_s", KEY_U64, 0, CFG(audit_key_epoch_s), 0, 0, 31536000},
        {"redis_key", KEY_IDENT, 0, CFG(audit_redis_key), 0, 1, 200},
        {"witness_keys", KEY_PATHS, 0, CFG(audit_witness_keys), CFG(naudit_witness_keys), 1,
         CONFIG_KEYS_MAX},
        {"witness_max_age_s", KEY_U64, 0, CFG(audit_witness_max_age_s), 0, 0, 31536000},
        {"witness_log", KEY_IDENT, 0, CFG(witness_log), 0, 1, 200},
        {"witness_log_pubkey", KEY_PATH, 0, CFG(witness_log_pubkey), 0, 0, 0},
        {"witness_signing_key", KEY_PATH, 0, CFG(witness_signing_key), 0, 0, 0},
        {"witness_state_dir", KEY_PATH, 0, CFG(witness_state_dir), 0, 0, 0},
};

/* [http]: the metrics, probes, status and on-call page (http_server.h). */
static const struct key_def http_keys[] = {
        {"listen", KEY_TEXT, 0, CFG(http_listen), 0, 1, 300},
        {"token", KEY_SECRET, 0, CFG(http_token), 0, 16, 1024},
        {"max_connections", KEY_UNSIGNED, 0, CFG(http_max_connections), 0, 1, 4096},
        {"timeout_s", KEY_UNSIGNED, 0, CFG(http_timeout_s), 0, 1, 600},
};

static const struct key_def route_keys[] = {
        {"type", KEY_RECEIVER, KEY_REQUIRED, ROUTE(type), 0, 0, 0},
        {"severities", KEY_SEVERITIES, 0, ROUTE(severities), 0, 0, 0},
        {"url", KEY_ROUTE_URL,
         KEY_NEEDED(RECEIVER_SLACK) | KEY_NEEDED(RECEIVER_EMAIL) | KEY_NEEDED(RECEIVER_WEBHOOK) |
                 KEY_NEEDED(RECEIVER_ALERTMANAGER),
         ROUTE(url), 0, 0, 0},
        {"routing_key", KEY_ROUTING_KEY,
         KEY_FOR(RECEIVER_PAGERDUTY) | KEY_NEEDED(RECEIVER_PAGERDUTY), ROUTE(routing_key), 0,
         CONFIG_PD_ROUTING_KEY_LEN, CONFIG_PD_ROUTING_KEY_LEN},
        {"secret", KEY_SECRET, KEY_FOR(RECEIVER_WEBHOOK) | KEY_NEEDED(RECEIVER_WEBHOOK),
         ROUTE(secret), 0, 16, CONFIG_VALUE_MAX},
        {"mail_from", KEY_MAIL, KEY_FOR(RECEIVER_EMAIL) | KEY_NEEDED(RECEIVER_EMAIL),
         ROUTE(mail_from), 0, 0, 0},
        {"mail_to", KEY_MAILS, KEY_FOR(RECEIVER_EMAIL) | KEY_NEEDED(RECEIVER_EMAIL), ROUTE(mail_to),
         ROUTE(nmail_to), 1, CONFIG_MAIL_TO_MAX},
        {"username", KEY_TEXT, KEY_FOR(RECEIVER_EMAIL), ROUTE(username), 0, 1, 256},
        {"password", KEY_SECRET, KEY_FOR(RECEIVER_EMAIL), ROUTE(password), 0, 1, CONFIG_VALUE_MAX},
        {"min_interval_ms", KEY_U64, 0, ROUTE(min_interval_ms), 0, 0, 3600000},
        {"timeout_ms", KEY_LONG, 0, ROUTE(timeout_ms), 0, 100, 120000},
        {"max_attempts", KEY_UNSIGNED, 0, ROUTE(max_attempts), 0, 1, 100},
        {"resend_s", KEY_U64, KEY_FOR(RECEIVER_ALERTMANAGER), ROUTE(resend_s), 0, 10, 3600},
};
#define ROUTE_KEY_TYPE 0
#define ROUTE_KEY_SEVERITIES 1
#define ROUTE_KEY_URL 2
#define ROUTE_KEY_USERNAME 7
#define ROUTE_KEY_PASSWORD 8
#define ROUTE_KEY_MIN_INTERVAL 9

static const struct key_def relayer_keys[] = {
        {"accounts", KEY_ADDRESSES, KEY_REQUIRED, CFG(accounts), CFG(naccounts), 1,
         CONFIG_ACCOUNTS_MAX},
        {"signers", KEY_ADDRESSES, 0, CFG(params.signers), CFG(params.nsigners), 1,
         INVARIANT_SIGNERS_MAX},
};
#define RELAYER_KEY_SIGNERS 1

static const struct key_def threshold_keys[] = {
        {"nonce_gap", KEY_U64, 0, CFG(params.nonce_gap), 0, 0, 1000000},
        {"relayer_cycle_ms", KEY_U64, 0, CFG(params.relayer_cycle_ms), 0, 1, 86400000},
        {"watchdog_cycle_ms", KEY_U64, 0, CFG(params.watchdog_cycle_ms), 0, 1, 86400000},
        {"gas_ratio_percent", KEY_UNSIGNED, 0, CFG(params.gas_ratio_percent), 0, 100, 10000},
        {"pending_operations", KEY_U64, 0, CFG(params.pending_operations), 0, 0, 100000000},
        {"stream_lag", KEY_U64, 0, CFG(params.stream_lag), 0, 0, 1000000000},
        {"rpc_failure_threshold", KEY_UNSIGNED, 0, CFG(rpc_failure_threshold), 0, 1, 1000},
        {"rpc_slow_call_ms", KEY_U64, 0, CFG(rpc_slow_call_ms), 0, 1, 600000},
};

static const struct key_def invariant_keys[] = {
        {"mode", KEY_MODE, KEY_REQUIRED, offsetof(struct invariant_mode_setting, mode), 0, 0, 0},
};

static const struct key_def stream_keys[] = {
        {"maxlen", KEY_U64, 0, offsetof(struct config_stream, maxlen), 0, 0, UINT64_MAX},
};

enum section_kind {
        SEC_WATCHDOG,
        SEC_DATABASE,
        SEC_REDIS,
        SEC_CHAIN,
        SEC_ASSET,
        SEC_RELAYER,
        SEC_THRESHOLDS,
        SEC_INVARIANT,
        SEC_STREAM,
        SEC_CONTROL,
        SEC_ALERTING,
        SEC_AUDIT,
        SEC_HTTP,
        SEC_ALERT,
};

struct section_def {
        const char *type;
        enum section_kind kind;
        int named; /* [type NAME] */
        const struct key_def *keys;
        size_t nkeys;
};

#define SECTION(type, kind, named, keys)                                                           \
        {                                                                                          \
                (type), (kind), (named), (keys), sizeof(keys) / sizeof((keys)[0])                  \
        }

static const struct section_def section_defs[] = {
        SECTION("watchdog", SEC_WATCHDOG, 0, watchdog_keys),
        SECTION("database", SEC_DATABASE, 0, database_keys),
        SECTION("redis", SEC_REDIS, 0, redis_keys),
        SECTION("chain", SEC_CHAIN, 1, chain_keys),
        SECTION("asset", SEC_ASSET, 1, asset_keys),
        SECTION("relayer", SEC_RELAYER, 0, relayer_keys),
        SECTION("thresholds", SEC_THRESHOLDS, 0, threshold_keys),
        SECTION("invariant", SEC_INVARIANT, 1, invariant_keys),
        SECTION("stream", SEC_STREAM, 1, stream_keys),
        SECTION("control", SEC_CONTROL, 0, control_keys),
        SECTION("alerting", SEC_ALERTING, 0, alerting_keys),
        SECTION("audit", SEC_AUDIT, 0, audit_keys),
        SECTION("http", SEC_HTTP, 0, http_keys),
        SECTION("alert", SEC_ALERT, 1, route_keys),
};
#define NSECTION_DEFS (sizeof section_defs / sizeof section_defs[0])

_Static_assert(sizeof chain_keys / sizeof chain_keys[0] <= SECTION_KEYS_MAX,
               "SECTION_KEYS_MAX must hold the largest section");
_Static_assert(CONFIG_ACCOUNTS_MAX == INVARIANT_SIGNERS_MAX,
               "accounts and signers share a list size; the signers default to the accounts");
_Static_assert(sizeof threshold_keys / sizeof threshold_keys[0] <= SECTION_KEYS_MAX,
               "SECTION_KEYS_MAX must hold the largest section");
_Static_assert(sizeof control_keys / sizeof control_keys[0] <= SECTION_KEYS_MAX,
               "SECTION_KEYS_MAX must hold the largest section");
_Static_assert(sizeof route_keys / sizeof route_keys[0] <= SECTION_KEYS_MAX,
               "SECTION_KEYS_MAX must hold the largest section");
_Static_assert(RECEIVER_ALERTMANAGER + 1 == RECEIVER_TYPES, "KEY_FOR and KEY_NEEDED: 5 types");
_Static_assert(FINDING_CRITICAL < 8 * sizeof(unsigned), "severities are bits of an unsigned");

static const char sections_expected[] =
        "[watchdog], [database], [redis], [chain source], [chain execution], [asset NAME], "
        "[relayer], [thresholds], [invariant NAME], [stream NAME], [control], [alerting], "
        "[audit], [http] or [alert NAME]";

/* ------------------------------------------------------------ the loader */

/* One section as it appears in the file. */
struct section {
        const struct section_def *def;
        unsigned line;                   /* of its header; 0: not in the file */
        int chain;                       /* SEC_CHAIN: the role */
        char label[SNAP_NAME_MAX + 16];  /* "[asset SIGIL]", for messages */
        void *target;                    /* the struct its keys fill */
        unsigned seen[SECTION_KEYS_MAX]; /* line of each key; 0: not given */
        bool ok[SECTION_KEYS_MAX];       /* the key's value was accepted */
};

struct named_asset {
        struct section sec;
        struct asset_draft d;
};

struct named_mode {
        struct section sec;
        struct invariant_mode_setting m;
};

struct named_stream {
        struct section sec;
        struct config_stream s;
};

struct named_route {
        struct section sec;
        struct config_alert_route r; /* its strings move to cfg->routes in finish() */
};

struct problem {
        unsigned line;
        size_t seq;
        char *msg;
};

/*
 * Entries of the loader by a byte key, for duplicate checks in linear time
 * (a bridge may name many thousands of assets). Keys are borrowed: they
 * live in the entries.
 */
struct key_slot {
        const uint8_t *key; /* NULL: empty */
        size_t len;
        size_t entry;
};

struct key_index {
        struct key_slot *slot;
        size_t cap; /* a power of two, above twice n */
        size_t n;
};

static uint64_t key_hash(const uint8_t *key, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
        size_t i;

        for (i = 0; i < len; i++)
                h = (h ^ key[i]) * 0x100000001b3ull;
        return h;
}

static struct key_slot *key_slot_for(const struct key_index *ix, const uint8_t *key, size_t len)
{
        size_t i = (size_t)key_hash(key, len) & (ix->cap - 1);

        while (ix->slot[i].key != NULL &&
               (ix->slot[i].len != len || memcmp(ix->slot[i].key, key, len) != 0))
                i = (i + 1) & (ix->cap - 1);
        return &ix->slot[i];
}

static int key_index_grow(struct key_index *ix)
{
        size_t old_cap = ix->cap, cap = old_cap ? old_cap * 2 : 64, i;
        struct key_slot *old = ix->slot, *slot = calloc(cap, sizeof *slot);

        if (slot == NULL)
                return RW_ERR_NOMEM;
        ix->slot = slot;
        ix->cap = cap;
        for (i = 0; i < old_cap; i++) {
                if (old[i].key != NULL)
                        *key_slot_for(ix, old[i].key, old[i].len) = old[i];
        }
        free(old);
        return RW_OK;
}

/*
 * The entry `key` was first added with into *first (1), or adds it for
 * `entry` (0). RW_ERR_NOMEM when the index cannot grow.
 */
static int key_index_first(struct key_index *ix, const uint8_t *key, size_t len, size_t entry,
                           size_t *first)
{
        struct key_slot *s;

        if ((ix->n + 1) * 2 > ix->cap && key_index_grow(ix) != RW_OK)
                return RW_ERR_NOMEM;
        s = key_slot_for(ix, key, len);
        if (s->key != NULL) {
                *first = s->entry;
                return 1;
        }
        s->key = key;
        s->len = len;
        s->entry = entry;
        ix->n++;
        return 0;
}

static void key_index_free(struct key_index *ix)
{
        free(ix->slot);
        memset(ix, 0, sizeof *ix);
}

struct loader {
        const char *name; /* the file, in messages */
        struct config *cfg;

        /* read_line: the text, the line being handed to libinih */
        const char *text;
        size_t len, pos;
        unsigned line;
        const char *chunk; /* the normalised line, without its '\n' */
        size_t chunk_len;
        size_t chunk_off; /* handed out so far; chunk_len + 1 once the '\n' is out */

        /* the section keys go to; NULL with skipping set: ignore them */
        struct section *cur;
        bool skipping;
        struct section watchdog, database, redis, relayer, thresholds, control, alerting, audit,
                http;
        struct section chains[SNAP_NCHAINS];
        struct named_asset **assets;
        size_t nassets, cap_assets;
        /* the assets by name, source token and bridged token (duplicate checks) */
        struct key_index asset_names, asset_tokens[2];
        struct named_mode *modes[CONFIG_MODES_MAX];
        size_t nmodes;
        struct named_stream *streams[CONFIG_STREAMS_MAX];
        size_t nstreams;
        struct named_route *routes[CONFIG_ROUTES_MAX];
        size_t nroutes;

        struct problem *problems;
        size_t nproblems, dropped;
        bool nomem;

        char value[CONFIG_VALUE_MAX + 1]; /* a value with ${...} expanded */
};

static void problem(struct loader *ld, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Records one problem at `line` of the file. */
static void problem(struct loader *ld, unsigned line, const char *fmt, ...)
{
        va_list ap;
        struct problem *p;
        char *msg;
        int n;

        if (ld->nproblems >= CONFIG_PROBLEMS_MAX) {
                ld->dropped++;
                return;
        }
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                ld->nomem = true;
                return;
        }
        msg = malloc((size_t)n + 1);
        if (msg == NULL) {
                ld->nomem = true;
                return;
        }
        va_start(ap, fmt);
        (void)vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
        if (ld->problems == NULL) {
                ld->problems = calloc(CONFIG_PROBLEMS_MAX, sizeof *ld->problems);
                if (ld->problems == NULL) {
                        free(msg);
                        ld->nomem = true;
                        return;
                }
        }
        p = &ld->problems[ld->nproblems];
        p->line = line;
        p->seq = ld->nproblems;
        p->msg = msg;
        ld->nproblems++;
}

/* The line at which a missing section or a whole-file problem is reported. */
static unsigned end_line(const struct loader *ld)
{
        return ld->line > 0 ? ld->line : 1;
}

/*
 * A non-secret value (or a name from the file) fit for a message: at most
 * SHOWN_MAX characters, anything unprintable as '?'.
 */
static const char *shown(const char *s, size_t len, char buf[SHOWN_MAX + 4])
{
        size_t i, n = len > SHOWN_MAX ? SHOWN_MAX : len;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c >= 0x7f)
                        buf[i] = '?';
                else
                        buf[i] = s[i];
        }
        if (n < len) {
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n] = '\0';
        return buf;
}

static bool is_space(char c)
{
        return isspace((unsigned char)c) != 0;
}

/* Trims whitespace from both ends of s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
        size_t n = *len;

        while (n > 0 && is_space(*s)) {
                s++;
                n--;
        }
        while (n > 0 && is_space(s[n - 1]))
                n--;
        *len = n;
        return s;
}

static bool is_ident_char(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':';
}

/* ------------------------------------------------------------ sections */

static void section_init(struct section *sec, const struct section_def *def, unsigned line,
                         const char *name, void *target)
{
        sec->def = def;
        sec->line = line;
        sec->target = target;
        if (name != NULL)
                (void)snprintf(sec->label, sizeof sec->label, "[%s %s]", def->type, name);
        else
                (void)snprintf(sec->label, sizeof sec->label, "[%s]", def->type);
}

static const struct section_def *section_def_find(const char *type, size_t len)
{
        size_t i;

        for (i = 0; i < NSECTION_DEFS; i++) {
                if (strlen(section_defs[i].type) == len &&
                    memcmp(section_defs[i].type, type, len) == 0)
                        return &section_defs[i];
        }
        return NULL;
}

/* A singleton section ([database], [chain source], ...) given a second time. */
static bool section_repeated(struct loader *ld, const struct section *sec, const char *label)
{
        if (sec->line == 0)
                return false;
        problem(ld, ld->line, "section %s appears again (first at line %u): keep one", label,
                sec->line);
        return true;
}

/* Names of assets and streams: 1..63 characters of letters, digits and "._:-". */
static bool name_ok(struct loader *ld, const char *what, const char *name, size_t len)
{
        char buf[SHOWN_MAX + 4];
        size_t i;

        if (len >= SNAP_NAME_MAX) {
                problem(ld, ld->line, "%s name '%s' is longer than %d characters", what,
                        shown(name, len, buf), SNAP_NAME_MAX - 1);
                return false;
        }
        for (i = 0; i < len; i++) {
                if (!is_ident_char(name[i])) {
                        problem(ld, ld->line,
                                "%s name '%s' may only hold letters, digits and the characters "
                                "._:-",
                                what, shown(name, len, buf));
                        return false;
                }
        }
        return true;
}

static struct section *begin_asset(struct loader *ld, const struct section_def *def,
                                   const char *name)
{
        struct named_asset *na;
        size_t first;
        int dup;

        if (ld->nassets >= CONFIG_ASSETS_MAX) {
                problem(ld, ld->line, "more than %d [asset NAME] sections", CONFIG_ASSETS_MAX);
                return NULL;
        }
        if (ld->nassets == ld->cap_assets) {
                size_t cap = ld->cap_assets ? ld->cap_assets * 2 : 64;
                struct named_asset **grown =
                        realloc(ld->assets, cap * sizeof(struct named_asset *));

                if (grown == NULL) {
                        ld->nomem = true;
                        return NULL;
                }
                ld->assets = grown;
                ld->cap_assets = cap;
        }
        na = calloc(1, sizeof *na);
        if (na == NULL) {
                ld->nomem = true;
                return NULL;
        }
        (void)snprintf(na->d.a.name, sizeof na->d.a.name, "%s", name);
        dup = key_index_first(&ld->asset_names, (const uint8_t *)na->d.a.name, strlen(na->d.a.name),
                              ld->nassets, &first);
        if (dup != 0) {
                if (dup == 1)
                        problem(ld, ld->line, "duplicate asset [asset %s] (first at line %u)", name,
                                ld->assets[first]->sec.line);
                else
                        ld->nomem = true;
                free(na);
                return NULL;
        }
        section_init(&na->sec, def, ld->line, name, &na->d);
        ld->assets[ld->nassets++] = na;
        return &na->sec;
}

static struct section *begin_invariant(struct loader *ld, const struct section_def *def,
                                       const char *name)
{
        const struct invariant *inv = invariant_find(name);
        struct named_mode *nm;
        char known[512];
        size_t i, used = 0;

        if (inv == NULL || inv->tier == VERDICT_TIER_TRACK || ld->nmodes >= CONFIG_MODES_MAX) {
                known[0] = '\0';
                for (i = 0; i < invariant_count; i++) {
                        int n;

                        if (invariant_table[i]->tier == VERDICT_TIER_TRACK)
                                continue;
                        n = snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "",
                                     invariant_table[i]->name);

                        if (n < 0 || (size_t)n >= sizeof known - used)
                                break;
                        used += (size_t)n;
                }
                problem(ld, ld->line, "unknown invariant [invariant %s]; known: %s", name, known);
                return NULL;
        }
        for (i = 0; i < ld->nmodes; i++) {
                if (ld->modes[i]->m.name == inv->name) {
                        problem(ld, ld->line,
                                "section [invariant %s] appears again (first at "
                                "line %u): keep one",
                                name, ld->modes[i]->sec.line);
                        return NULL;
                }
        }
        nm = calloc(1, sizeof *nm);
        if (nm == NULL) {
                ld->nomem = true;
                return NULL;
        }
        nm->m.name = inv->name;
        nm->m.mode = INVARIANT_ENFORCE;
        section_init(&nm->sec, def, ld->line, name, &nm->m);
        ld->modes[ld->nmodes++] = nm;
        return &nm->sec;
}

static struct section *begin_stream(struct loader *ld, const struct section_def *def,
                                    const char *name)
{
        struct named_stream *ns;
        size_t i;

        for (i = 0; i < ld->nstreams; i++) {
                if (strcmp(ld->streams[i]->s.name, name) == 0) {
                        problem(ld, ld->line,
                                "section [stream %s] appears again (first at "
                                "line %u): keep one",
                                name, ld->streams[i]->sec.line);
                        return NULL;
                }
        }
        if (ld->nstreams >= CONFIG_STREAMS_MAX) {
                problem(ld, ld->line, "more than %d [stream NAME] sections", CONFIG_STREAMS_MAX);
                return NULL;
        }
        ns = calloc(1, sizeof *ns);
        if (ns == NULL) {
                ld->nomem = true;
                return NULL;
        }
        (void)snprintf(ns->s.name, sizeof ns->s.name, "%s", name);
        section_init(&ns->sec, def, ld->line, name, &ns->s);
        ld->streams[ld->nstreams++] = ns;
        return &ns->sec;
}

static struct section *begin_route(struct loader *ld, const struct section_def *def,
                                   const char *name)
{
        struct named_route *nr;
        size_t i;

        for (i = 0; i < ld->nroutes; i++) {
                if (strcmp(ld->routes[i]->r.name, name) == 0) {
                        problem(ld, ld->line,
                                "section [alert %s] appears again (first at line %u): keep one",
                                name, ld->routes[i]->sec.line);
                        return NULL;
                }
        }
        if (ld->nroutes >= CONFIG_ROUTES_MAX) {
                problem(ld, ld->line, "more than %d [alert NAME] sections", CONFIG_ROUTES_MAX);
                return NULL;
        }
        nr = calloc(1, sizeof *nr);
        if (nr == NULL) {
                ld->nomem = true;
                return NULL;
        }
        (void)snprintf(nr->r.name, sizeof nr->r.name, "%s", name);
        nr->r.line = ld->line;
        /* the defaults that do not depend on the type; the others: check_routes */
        nr->r.timeout_ms = 10000;
        nr->r.max_attempts = 6;
        nr->r.resend_s = 60;
        section_init(&nr->sec, def, ld->line, name, &nr->r);
        ld->routes[ld->nroutes++] = nr;
        return &nr->sec;
}

/* The section a header names, or NULL after reporting why there is none. */
static struct section *open_section(struct loader *ld, const struct section_def *def,
                                    const char *name)
{
        struct config *c = ld->cfg;
        struct section *sec;
        char label[SNAP_NAME_MAX + 16];
        int role;

        switch (def->kind) {
        case SEC_CHAIN:
                for (role = 0; role < SNAP_NCHAINS; role++) {
                        if (strcmp(name, chain_names[role]) == 0)
                                break;
                }
                if (role == SNAP_NCHAINS) {
                        problem(ld, ld->line,
                                "unknown chain [chain %s]: expected [chain source] or "
                                "[chain execution]",
                                name);
                        return NULL;
                }
                sec = &ld->chains[role];
                (void)snprintf(label, sizeof label, "[chain %s]", name);
                if (section_repeated(ld, sec, label))
                        return NULL;
                section_init(sec, def, ld->line, name, &c->chains[role]);
                sec->chain = role;
                c->chains[role].present = 1;
                return sec;
        case SEC_ASSET:
                return name_ok(ld, "asset", name, strlen(name)) ? begin_asset(ld, def, name) : NULL;
        case SEC_INVARIANT:
                return begin_invariant(ld, def, name);
        case SEC_STREAM:
                return name_ok(ld, "stream", name, strlen(name)) ? begin_stream(ld, def, name)
                                                                 : NULL;
        case SEC_ALERT:
                return name_ok(ld, "alert", name, strlen(name)) ? begin_route(ld, def, name) : NULL;
        case SEC_ALERTING:
                sec = &ld->alerting;
                break;
        case SEC_AUDIT:
                sec = &ld->audit;
                break;
        case SEC_HTTP:
                sec = &ld->http;
                break;
        case SEC_WATCHDOG:
                sec = &ld->watchdog;
                break;
        case SEC_DATABASE:
                sec = &ld->database;
                break;
        case SEC_REDIS:
                sec = &ld->redis;
                break;
        case SEC_RELAYER:
                sec = &ld->relayer;
                break;
        case SEC_CONTROL:
                sec = &ld->control;
                c->control_present = 1;
                break;
        case SEC_THRESHOLDS:
        default:
                sec = &ld->thresholds;
                break;
        }
        (void)snprintf(label, sizeof label, "[%s]", def->type);
        if (section_repeated(ld, sec, label))
                return NULL;
        section_init(sec, def, ld->line, NULL, c);
        return sec;
}

/*
 * A section header: `s` (trimmed, `len` > 0) starts with '['. Keys that
 * follow go to the section it opens; after a bad header they are skipped
 * (the header's problem is the one worth reading).
 */
static void begin_section(struct loader *ld, const char *s, size_t len)
{
        const struct section_def *def;
        const char *close = memchr(s, ']', len);
        const char *inner, *type, *name, *after;
        char buf[SHOWN_MAX + 4], namebuf[SNAP_NAME_MAX + 1] = {0};
        size_t inner_len, type_len, name_len, after_len, i;

        ld->cur = NULL;
        ld->skipping = true;
        if (close == NULL) {
                problem(ld, ld->line, "section header '%s' has no closing ']'", shown(s, len, buf));
                return;
        }
        after = close + 1;
        after_len = len - (size_t)(after - s);
        after = trim(after, &after_len);
        if (after_len > 0 && after[0] != ';' && after[0] != '#')
                problem(ld, ld->line, "unexpected text '%s' after the section header",
                        shown(after, after_len, buf));

        inner_len = (size_t)(close - s) - 1;
        inner = trim(s + 1, &inner_len);
        type = inner;
        for (type_len = 0; type_len < inner_len && !is_space(type[type_len]); type_len++)
                ;
        name_len = inner_len - type_len;
        name = trim(type + type_len, &name_len);

        def = section_def_find(type, type_len);
        if (def == NULL) {
                problem(ld, ld->line, "unknown section [%s]; expected %s",
                        shown(inner, inner_len, buf), sections_expected);
                return;
        }
        if (!def->named && name_len > 0) {
                problem(ld, ld->line, "section [%s] takes no name, got '%s'", def->type,
                        shown(name, name_len, buf));
                return;
        }
        if (def->named && name_len == 0) {
                problem(ld, ld->line, "section [%s] needs a name: [%s NAME]", def->type, def->type);
                return;
        }
        for (i = 0; i < name_len; i++) {
                if (is_space(name[i])) {
                        problem(ld, ld->line, "section name '%s' contains whitespace",
                                shown(name, name_len, buf));
                        return;
                }
        }
        if (name_len > SNAP_NAME_MAX) {
                problem(ld, ld->line, "%s name '%s' is longer than %d characters", def->type,
                        shown(name, name_len, buf), SNAP_NAME_MAX - 1);
                return;
        }
        memcpy(namebuf, name, name_len); /* nothing for an unnamed section */
        namebuf[name_len] = '\0';
        ld->cur = open_section(ld, def, namebuf);
        ld->skipping = ld->cur == NULL;
}

/* ------------------------------------------------------------ values */

static bool is_secret(const struct key_def *kd)
{
        return kd->type == KEY_PG_URL || kd->type == KEY_REDIS_URL || kd->type == KEY_URLS ||
               kd->type == KEY_ROUTE_URL || kd->type == KEY_ROUTING_KEY || kd->type == KEY_SECRET;
}

/*
 * Expands every ${NAME} of `value` from the environment into ld->value.
 * Returns false after reporting each variable that is not set or each
 * reference that is malformed. Never quotes the value.
 */
static bool expand(struct loader *ld, const struct section *sec, const char *key, const char *value)
{
        size_t n = 0;
        bool ok = true;
        const char *p = value;

        while (*p != '\0') {
                const char *add = p;
                size_t add_len = 1;

                if (p[0] == '$' && p[1] == '{') {
                        const char *name = p + 2;
                        const char *close = strchr(name, '}');
                        size_t name_len, i;
                        bool valid;
                        char var[CONFIG_ENV_NAME_MAX + 1];

                        if (close == NULL) {
                                problem(ld, ld->line, "%s %s: '${' without a closing '}'",
                                        sec->label, key);
                                return false;
                        }
                        name_len = (size_t)(close - name);
                        valid = name_len > 0 && name_len <= CONFIG_ENV_NAME_MAX &&
                                !isdigit((unsigned char)name[0]);
                        for (i = 0; valid && i < name_len; i++)
                                valid = isalnum((unsigned char)name[i]) || name[i] == '_';
                        p = close + 1;
                        if (!valid) {
                                problem(ld, ld->line,
                                        "%s %s: malformed ${...}: a variable name is 1 to %d "
                                        "letters, digits and '_', not starting with a digit",
                                        sec->label, key, CONFIG_ENV_NAME_MAX);
                                ok = false;
                                continue;
                        }
                        memcpy(var, name, name_len);
                        var[name_len] = '\0';
                        add = getenv(var);
                        if (add == NULL) {
                                problem(ld, ld->line, "%s %s: environment variable %s is not set",
                                        sec->label, key, var);
                                ok = false;
                                continue;
                        }
                        add_len = strlen(add);
                } else {
                        p++;
                }
                if (add_len > CONFIG_VALUE_MAX - n) {
                        problem(ld, ld->line,
                                "%s %s: the value is longer than %d characters once ${...} are "
                                "expanded",
                                sec->label, key, CONFIG_VALUE_MAX);
                        return false;
                }
                memcpy(ld->value + n, add, add_len);
                n += add_len;
        }
        ld->value[n] = '\0';
        return ok;
}

/*
 * A decimal number: digits only (no sign, no spaces, no 0x). Returns 0, -1
 * when it is not one, -2 when it does not fit in 64 bits.
 */
static int parse_dec(const char *s, uint64_t *out)
{
        uint64_t v = 0;

        if (*s == '\0')
                return -1;
        for (; *s != '\0'; s++) {
                unsigned d;

                if (*s < '0' || *s > '9')
                        return -1;
                d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -2;
                v = v * 10 + d;
        }
        *out = v;
        return 0;
}

static bool set_number(struct loader *ld, const struct section *sec, const struct key_def *kd,
                       const char *v)
{
        char buf[SHOWN_MAX + 4];
        uint64_t n = 0;
        int rc = parse_dec(v, &n);
        void *field = (char *)sec->target + kd->offset;

        if (rc == -1) {
                problem(ld, ld->line, "%s %s: '%s' is not a decimal number", sec->label, kd->name,
                        shown(v, strlen(v), buf));
                return false;
        }
        if (rc == -2 || n < kd->min || n > kd->max) {
                problem(ld, ld->line, "%s %s: %s is out of range (%llu to %llu)", sec->label,
                        kd->name, shown(v, strlen(v), buf), (unsigned long long)kd->min,
                        (unsigned long long)kd->max);
                return false;
        }
        if (kd->type == KEY_U64)
                *(uint64_t *)field = n;
        else if (kd->type == KEY_UNSIGNED)
                *(unsigned *)field = (unsigned)n;
        else
                *(long *)field = (long)n;
        return true;
}

static bool set_bool(struct loader *ld, const struct section *sec, const struct key_def *kd,
                     const char *v)
{
        static const char *const yes[] = {"true", "yes", "1"};
        static const char *const no[] = {"false", "no", "0"};
        char buf[SHOWN_MAX + 4];
        size_t i;

        for (i = 0; i < 3; i++) {
                if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
                        *(int *)((char *)sec->target + kd->offset) = strcmp(v, yes[i]) == 0;
                        return true;
                }
        }
        problem(ld, ld->line, "%s %s: '%s' is not a boolean (true, false, yes, no, 1 or 0)",
                sec->label, kd->name, shown(v, strlen(v), buf));
        return false;
}

/* One address; `what` names it in messages ("lockbox", "accounts entry 2"). */
static bool parse_address(struct loader *ld, const struct section *sec, const char *what,
                          const char *s, size_t len, uint8_t out[ABI_ADDRESS_BYTES])
{
        static const uint8_t zero[ABI_ADDRESS_BYTES];
        char buf[SHOWN_MAX + 4];
        struct rwerr err;

        if (len == 0) {
                problem(ld, ld->line, "%s %s is empty", sec->label, what);
                return false;
        }
        if (abi_address_parse(s, len, out, &err) != RW_OK) {
                problem(ld, ld->line, "%s %s: '%s' is not an address (0x and 40 hex digits)",
                        sec->label, what, shown(s, len, buf));
                return false;
        }
        if (memcmp(out, zero, sizeof zero) == 0) {
                problem(ld, ld->line, "%s %s is the zero address", sec->label, what);
                return false;
        }
        return true;
}

/* The items of a comma-separated value, each trimmed, in order. */
struct list_iter {
        const char *p; /* the rest of the value */
        bool done;
};

static bool list_next(struct list_iter *it, const char **item, size_t *len)
{
        const char *comma;

        if (it->done)
                return false;
        comma = strchr(it->p, ',');
        *len = comma != NULL ? (size_t)(comma - it->p) : strlen(it->p);
        *item = trim(it->p, len);
        if (comma == NULL)
                it->done = true;
        else
                it->p = comma + 1;
        return true;
}

/*
 * A comma-separated list of addresses, each trimmed, none repeated, at most
 * kd->max. Every bad entry is reported; the field is set only when all are good.
 */
static bool set_addresses(struct loader *ld, const struct section *sec, const struct key_def *kd,
                          const char *v)
{
        uint8_t *list = (uint8_t *)sec->target + kd->offset;
        size_t *count = (size_t *)((char *)sec->target + kd->count_offset);
        uint8_t parsed[INVARIANT_SIGNERS_MAX][ABI_ADDRESS_BYTES]; /* == CONFIG_ACCOUNTS_MAX */
        char what[64];
        size_t n = 0, i, len;
        bool ok = true;
        struct list_iter it = {v, false};
        const char *item;

        while (list_next(&it, &item, &len)) {
                if (n >= kd->max) {
                        problem(ld, ld->line, "%s %s: more than %llu addresses", sec->label,
                                kd->name, (unsigned long long)kd->max);
                        return false;
                }
                (void)snprintf(what, sizeof what, "%s entry %zu", kd->name, n + 1);
                if (parse_address(ld, sec, what, item, len, parsed[n])) {
                        for (i = 0; i < n; i++) {
                                if (memcmp(parsed[i], parsed[n], ABI_ADDRESS_BYTES) == 0) {
                                        problem(ld, ld->line, "%s %s repeats entry %zu", sec->label,
                                                what, i + 1);
                                        ok = false;
                                        break;
                                }
                        }
                } else {
                        ok = false;
                }
                n++;
        }
        if (!ok)
                return false;
        memcpy(list, parsed, n * ABI_ADDRESS_BYTES);
        *count = n;
        return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
        size_t plen = strlen(prefix);

        return len >= plen && memcmp(s, prefix, plen) == 0;
}

/* Wipes and frees a string that may hold a secret. */
static void free_secret(char *s)
{
        if (s != NULL) {
                sodium_memzero(s, strlen(s));
                free(s);
        }
}

/* Frees a list of strings such as endpoint URLs, wiping them (those carry API keys). */
static void free_urls(char **urls, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (urls[i] != NULL) {
                        sodium_memzero(urls[i], strlen(urls[i]));
                        free(urls[i]);
                        urls[i] = NULL;
                }
        }
}

/*
 * One RPC endpoint, checked without ever being quoted. `what` names it in
 * messages ("endpoints: endpoint 2").
 */
static bool url_ok(struct loader *ld, const struct section *sec, const char *what, const char *s,
                   size_t len)
{
        char redacted[256], *copy;
        size_t i;
        int rc;

        if (len == 0) {
                problem(ld, ld->line, "%s %s is empty", sec->label, what);
                return false;
        }
        if (!(has_prefix(s, len, "http://") && len > 7) &&
            !(has_prefix(s, len, "https://") && len > 8)) {
                problem(ld, ld->line,
                        "%s %s is not an http:// or https:// URL (the value is not shown: it "
                        "may hold an API key)",
                        sec->label, what);
                return false;
        }
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c <= 0x20 || c == 0x7f) {
                        problem(ld, ld->line, "%s %s contains whitespace or a control character",
                                sec->label, what);
                        return false;
                }
        }
        copy = strndup(s, len);
        if (copy == NULL) {
                ld->nomem = true;
                return false;
        }
        rc = rpc_url_redact(copy, redacted, sizeof redacted);
        sodium_memzero(copy, len);
        free(copy);
        if (rc != RW_OK) {
                problem(ld, ld->line,
                        "%s %s is not a valid URL (the value is not shown: it may hold an API key)",
                        sec->label, what);
                return false;
        }
        return true;
}

/*
 * What set_list needs to know of one kind of list: how its items are named
 * in messages, checked and compared.
 */
struct list_kind {
        const char *items; /* "more than 16 endpoints" */
        const char *sep;   /* after the key: "endpoints: endpoint 2", "mail_to entry 2" */
        const char *item;  /* "endpoint", "entry": "... repeats entry 1" */
        /* reports what is wrong with item `what`, s[0..len); true when nothing is */
        bool (*check)(struct loader *ld, const struct section *sec, const char *what, const char *s,
                      size_t len);
        int (*cmp)(const char *a, const char *b); /* 0: a repeat (strcmp, strcasecmp) */
};

static const struct list_kind endpoint_list = {"endpoints", ": ", "endpoint", url_ok, strcmp};

#define LIST_MAX CONFIG_ENDPOINTS_MAX /* the longest list set_list reads */
_Static_assert(CONFIG_MAIL_TO_MAX <= LIST_MAX, "set_list reads mail_to too");
_Static_assert(CONFIG_GROUPS_MAX <= LIST_MAX, "set_list reads consumer_group too");

/*
 * A comma-separated list of strings (KEY_URLS, KEY_MAILS) into a field of
 * char *[kd->max] and its count: each item trimmed, checked, none the same
 * as an earlier one, at most kd->max. Every bad item is reported; the field
 * gets the copies (the config's to free) only when all are good, else they
 * are wiped (endpoints carry API keys) and freed. Never quotes an item.
 */
static bool set_list(struct loader *ld, const struct section *sec, const struct key_def *kd,
                     const char *v, const struct list_kind *kind)
{
        char **list = (char **)((char *)sec->target + kd->offset);
        size_t *count = (size_t *)((char *)sec->target + kd->count_offset);
        char *parsed[LIST_MAX] = {NULL};
        char what[64];
        size_t n = 0, i, len;
        bool ok = true;
        struct list_iter it = {v, false};
        const char *item;

        while (list_next(&it, &item, &len)) {
                if (n >= kd->max || n >= LIST_MAX) {
                        problem(ld, ld->line, "%s %s: more than %llu %s", sec->label, kd->name,
                                (unsigned long long)kd->max, kind->items);
                        ok = false;
                        break;
                }
                (void)snprintf(what, sizeof what, "%s%s%s %zu", kd->name, kind->sep, kind->item,
                               n + 1);
                if (kind->check(ld, sec, what, item, len)) {
                        parsed[n] = strndup(item, len);
                        if (parsed[n] == NULL) {
                                ld->nomem = true;
                                ok = false;
                                break;
                        }
                        for (i = 0; i < n; i++) {
                                if (parsed[i] != NULL && kind->cmp(parsed[i], parsed[n]) == 0) {
                                        problem(ld, ld->line, "%s %s repeats %s %zu", sec->label,
                                                what, kind->item, i + 1);
                                        ok = false;
                                        break;
                                }
                        }
                } else {
                        ok = false;
                }
                n++;
        }
        if (!ok) {
                free_urls(parsed, LIST_MAX);
                return false;
        }
        memcpy(list, parsed, n * sizeof *list);
        *count = n;
        return true;
}

static void free_strings(char **list, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                free(list[i]);
                list[i] = NULL;
        }
}

/* A comma-separated list of absolute paths (key files). */
static bool set_paths(struct loader *ld, const struct section *sec, const struct key_def *kd,
                      const char *v)
{
        char **paths = (char **)((char *)sec->target + kd->offset);
        size_t *count = (size_t *)((char *)sec->target + kd->count_offset);
        char *parsed[CONFIG_KEYS_MAX] = {NULL};
        char buf[SHOWN_MAX + 4];
        size_t n = 0, len;
        struct list_iter it = {v, false};
        const char *item;

        while (list_next(&it, &item, &len)) {
                if (n >= kd->max || n >= CONFIG_KEYS_MAX) {
                        problem(ld, ld->line, "%s %s: more than %llu files", sec->label, kd->name,
                                (unsigned long long)kd->max);
                        goto fail;
                }
                if (len == 0 || item[0] != '/' || len >= CONFIG_PATH_MAX) {
                        problem(ld, ld->line, "%s %s: '%s' is not an absolute path", sec->label,
                                kd->name, shown(item, len, buf));
                        goto fail;
                }
                parsed[n] = strndup(item, len);
                if (parsed[n] == NULL) {
                        ld->nomem = true;
                        goto fail;
                }
                n++;
        }
        free_strings(paths, *count); /* none: a key is given once */
        memcpy(paths, parsed, n * sizeof *paths);
        *count = n;
        return true;
fail:
        free_strings(parsed, n);
        return false;
}

static bool set_string(struct loader *ld, const struct section *sec, const struct key_def *kd,
                       const char *v)
{
        char **field = (char **)((char *)sec->target + kd->offset);
        char buf[SHOWN_MAX + 4];
        size_t len = strlen(v), i;
        struct rwerr err;

        switch (kd->type) {
        case KEY_IDENT:
                if (len < kd->min || len > kd->max) {
                        problem(ld, ld->line, "%s %s: '%s' must be %llu to %llu characters",
                                sec->label, kd->name, shown(v, len, buf),
                                (unsigned long long)kd->min, (unsigned long long)kd->max);
                        return false;
                }
                for (i = 0; i < len; i++) {
                        if (!is_ident_char(v[i])) {
                                problem(ld, ld->line,
                                        "%s %s: '%s' may only hold letters, digits and the "
                                        "characters ._:-",
                                        sec->label, kd->name, shown(v, len, buf));
                                return false;
                        }
                }
                break;
        case KEY_PATH:
                if (v[0] != '/' || len >= CONFIG_PATH_MAX) {
                        problem(ld, ld->line, "%s %s: '%s' is not an absolute path", sec->label,
                                kd->name, shown(v, len, buf));
                        return false;
                }
                break;
        case KEY_PG_URL:
                if (len == 0) {
                        problem(ld, ld->line, "%s %s is empty", sec->label, kd->name);
                        return false;
                }
                {
                        char described[256];

                        if (conninfo_describe(v, described, sizeof described, &err) ==
                            RW_ERR_INVALID) {
                                problem(ld, ld->line,
                                        "%s %s: libpq cannot parse this connection string (the "
                                        "value is not shown: it may hold a password)",
                                        sec->label, kd->name);
                                return false;
                        }
                }
                break;
        case KEY_REDIS_URL:
                if (!(has_prefix(v, len, "redis://") && len > 8) &&
                    !(has_prefix(v, len, "rediss://") && len > 9) &&
                    !(has_prefix(v, len, "unix://") && len > 7)) {
                        problem(ld, ld->line,
                                "%s %s is not a redis://, rediss:// or unix:// URL (the value is "
                                "not shown: it may hold a password)",
                                sec->label, kd->name);
                        return false;
                }
                break;
        case KEY_AMOUNT:
        default:
                break;
        }
        *field = strdup(v);
        if (*field == NULL) {
                ld->nomem = true;
                return false;
        }
        return true;
}

/* ------------------------------------------------------------ [alerting] and [alert NAME] */

static const char *const receiver_names[RECEIVER_TYPES] = {"pagerduty", "slack", "email", "webhook",
                                                           "alertmanager"};

const char *config_receiver_type_name(enum config_receiver_type t)
{
        return (unsigned)t < RECEIVER_TYPES ? receiver_names[t] : "unknown";
}

/* "a slack", "an email": the type with its article, for messages. */
static const char *receiver_article(enum config_receiver_type t)
{
        return t == RECEIVER_EMAIL || t == RECEIVER_ALERTMANAGER ? "an" : "a";
}

/* Whether s[0..len) holds a control character, a space or DEL. */
static bool has_space_or_control(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c <= 0x20 || c == 0x7f)
                        return true;
        }
        return false;
}

/* The base of runbook links: http(s):// or file:///, given a trailing '/'. */
static bool set_runbook_url(struct loader *ld, const struct section *sec, const struct key_def *kd,
                            const char *v)
{
        char **field = (char **)((char *)sec->target + kd->offset);
        char buf[SHOWN_MAX + 4];
        size_t len = strlen(v);
        bool slash;

        if (!(has_prefix(v, len, "https://") && len > 8) &&
            !(has_prefix(v, len, "http://") && len > 7) &&
            !(has_prefix(v, len, "file:///") && len > 8)) {
                problem(ld, ld->line,
                        "%s %s: '%s' is not an https://, http:// or file:/// URL (the base of "
                        "the runbook links)",
                        sec->label, kd->name, shown(v, len, buf));
                return false;
        }
        if (has_space_or_control(v, len)) {
                problem(ld, ld->line, "%s %s: '%s' contains whitespace or a control character",
                        sec->label, kd->name, shown(v, len, buf));
                return false;
        }
        slash = v[len - 1] == '/';
        if (len + (slash ? 0 : 1) > kd->max) {
                problem(ld, ld->line,
                        "%s %s: '%s' is too long: at most %llu characters with the trailing '/'",
                        sec->label, kd->name, shown(v, len, buf), (unsigned long long)kd->max);
                return false;
        }
        *field = malloc(len + 2);
        if (*field == NULL) {
                ld->nomem = true;
                return false;
        }
        (void)snprintf(*field, len + 2, "%s%s", v, slash ? "" : "/");
        return true;
}

/* HH:MM, 00:00 to 23:59 (the hour may have one digit), as minutes after midnight. */
static bool set_clock(struct loader *ld, const struct section *sec, const struct key_def *kd,
                      const char *v)
{
        char buf[SHOWN_MAX + 4];
        size_t len = strlen(v), hlen;
        const char *colon = strchr(v, ':');
        unsigned h = 0, m = 0;
        size_t i;
        bool ok = colon != NULL;

        hlen = ok ? (size_t)(colon - v) : 0;
        ok = ok && (hlen == 1 || hlen == 2) && len == hlen + 3;
        for (i = 0; ok && i < len; i++)
                ok = i == hlen || (v[i] >= '0' && v[i] <= '9');
        if (ok) {
                for (i = 0; i < hlen; i++)
                        h = h * 10 + (unsigned)(v[i] - '0');
                m = (unsigned)(colon[1] - '0') * 10 + (unsigned)(colon[2] - '0');
                ok = h < 24 && m < 60;
        }
        if (!ok) {
                problem(ld, ld->line,
                        "%s %s: '%s' is not a time of day HH:MM (UTC, 00:00 to 23:59)", sec->label,
                        kd->name, shown(v, len, buf));
                return false;
        }
        *(unsigned *)((char *)sec->target + kd->offset) = h * 60 + m;
        return true;
}

static bool set_receiver(struct loader *ld, const struct section *sec, const struct key_def *kd,
                         const char *v)
{
        char buf[SHOWN_MAX + 4];
        unsigned t;

        for (t = 0; t < RECEIVER_TYPES; t++) {
                if (strcmp(v, receiver_names[t]) == 0) {
                        *(enum config_receiver_type *)((char *)sec->target + kd->offset) =
                                (enum config_receiver_type)t;
                        return true;
                }
        }
        problem(ld, ld->line,
                "%s %s: '%s' is not a receiver type (pagerduty, slack, email, webhook or "
                "alertmanager)",
                sec->label, kd->name, shown(v, strlen(v), buf));
        return false;
}

/* A comma-separated list of severity names, any case, each once. */
static bool set_severities(struct loader *ld, const struct section *sec, const struct key_def *kd,
                           const char *v)
{
        char buf[SHOWN_MAX + 4];
        unsigned mask = 0;
        size_t n = 0, len;
        bool ok = true;
        struct list_iter it = {v, false};
        const char *item;

        while (list_next(&it, &item, &len)) {
                int s, found = -1;

                n++;
                if (len == 0) {
                        problem(ld, ld->line, "%s %s: entry %zu is empty", sec->label, kd->name, n);
                        ok = false;
                        continue;
                }
                for (s = FINDING_INFO; s <= FINDING_CRITICAL; s++) {
                        const char *name = finding_severity_name((enum finding_severity)s);

                        if (strlen(name) == len && strncasecmp(item, name, len) == 0)
                                found = s;
                }
                if (found < 0) {
                        problem(ld, ld->line,
                                "%s %s: '%s' is not a severity (CRITICAL, ERROR, WARNING or "
                                "INFO)",
                                sec->label, kd->name, shown(item, len, buf));
                        ok = false;
                } else if (mask & (1u << (unsigned)found)) {
                        problem(ld, ld->line, "%s %s: %s is given twice", sec->label, kd->name,
                                finding_severity_name((enum finding_severity)found));
                        ok = false;
                } else {
                        mask |= 1u << (unsigned)found;
                }
        }
        if (!ok)
                return false;
        *(unsigned *)((char *)sec->target + kd->offset) = mask;
        return true;
}

/*
 * Secrets: a receiver's url, a routing key, an HMAC secret, a password.
 * Checked here as far as they can be without the route's type (the url's
 * scheme waits for check_routes), and never quoted.
 */
static bool set_secret(struct loader *ld, const struct section *sec, const struct key_def *kd,
                       const char *v)
{
        char **field = (char **)((char *)sec->target + kd->offset);
        size_t len = strlen(v), i;

        if (len == 0) {
                problem(ld, ld->line, "%s %s is empty", sec->label, kd->name);
                return false;
        }
        switch (kd->type) {
        case KEY_ROUTE_URL:
                if (has_space_or_control(v, len)) {
                        problem(ld, ld->line,
                                "%s %s contains whitespace or a control character (the value "
                                "is not shown: it is secret)",
                                sec->label, kd->name);
                        return false;
                }
                break;
        case KEY_ROUTING_KEY:
                for (i = 0; i < len && isalnum((unsigned char)v[i]); i++)
                        ;
                if (i < len || len < kd->min || len > kd->max) {
                        problem(ld, ld->line,
                                "%s %s must be %llu letters and digits, as PagerDuty gives an "
                                "integration key (the value is not shown: it is secret)",
                                sec->label, kd->name, (unsigned long long)kd->max);
                        return false;
                }
                break;
        case KEY_SECRET:
        default:
                if (len < kd->min || len > kd->max) {
                        problem(ld, ld->line,
                                "%s %s must be %llu to %llu bytes (the value is not shown: it is "
                                "secret)",
                                sec->label, kd->name, (unsigned long long)kd->min,
                                (unsigned long long)kd->max);
                        return false;
                }
                break;
        }
        *field = strdup(v);
        if (*field == NULL) {
                ld->nomem = true;
                return false;
        }
        return true;
}

/* Free text such as an SMTP user name: min..max characters, no control character. */
static bool set_text(struct loader *ld, const struct section *sec, const struct key_def *kd,
                     const char *v)
{
        char **field = (char **)((char *)sec->target + kd->offset);
        char buf[SHOWN_MAX + 4];
        size_t len = strlen(v), i;

        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];

                if (c < 0x20 || c == 0x7f) {
                        problem(ld, ld->line, "%s %s: '%s' contains a control character",
                                sec->label, kd->name, shown(v, len, buf));
                        return false;
                }
        }
        if (len < kd->min || len > kd->max) {
                problem(ld, ld->line, "%s %s: '%s' must be %llu to %llu characters", sec->label,
                        kd->name, shown(v, len, buf), (unsigned long long)kd->min,
                        (unsigned long long)kd->max);
                return false;
        }
        *field = strdup(v);
        if (*field == NULL) {
                ld->nomem = true;
                return false;
        }
        return true;
}

/*
 * An e-mail address as it goes into an SMTP envelope and a header:
 * local@domain, one '@', no space, control character, '<', '>' or ','.
 * `what` names it in messages ("mail_from", "mail_to entry 2").
 */
static bool mail_ok(struct loader *ld, const struct section *sec, const char *what, const char *s,
                    size_t len)
{
        char buf[SHOWN_MAX + 4];
        const char *at = memchr(s, '@', len);
        bool ok = at != NULL && at > s && at < s + len - 1 && len <= CONFIG_MAIL_MAX &&
                  memchr(at + 1, '@', len - (size_t)(at + 1 - s)) == NULL &&
                  !has_space_or_control(s, len);
        size_t i;

        for (i = 0; ok && i < len; i++)
                ok = s[i] != '<' && s[i] != '>' && s[i] != ',';
        if (len == 0) {
                problem(ld, ld->line, "%s %s is empty", sec->label, what);
                return false;
        }
        if (!ok) {
                problem(ld, ld->line,
                        "%s %s: '%s' is not an address (local@domain, without spaces, control "
                        "characters, '<', '>' or ',')",
                        sec->label, what, shown(s, len, buf));
                return false;
        }
        return true;
}

static bool set_mail(struct loader *ld, const struct section *sec, const struct key_def *kd,
                     const char *v)
{
        char **field = (char **)((char *)sec->target + kd->offset);

        if (!mail_ok(ld, sec, kd->name, v, strlen(v)))
                return false;
        *field = strdup(v);
        if (*field == NULL) {
                ld->nomem = true;
                return false;
        }
        return true;
}

static const struct list_kind mail_list = {"addresses", " ", "entry", mail_ok, strcasecmp};

/* One relayer instance's consumer group: a Redis name of 1 to 200 characters ._:- */
static bool group_ok(struct loader *ld, const struct section *sec, const char *what, const char *s,
                     size_t len)
{
        char buf[SHOWN_MAX + 4];
        size_t i;

        for (i = 0; i < len && is_ident_char(s[i]); i++)
                ;
        if (len >= 1 && len <= 200 && i == len)
                return true;
        problem(ld, ld->line,
                "%s %s: '%s' is not a group name (1 to 200 letters, digits and the characters "
                "._:-)",
                sec->label, what, shown(s, len, buf));
        return false;
}

static const struct list_kind group_list = {"groups", " ", "group", group_ok, strcmp};

static bool set_value(struct loader *ld, const struct section *sec, const struct key_def *kd,
                      const char *v)
{
        char buf[SHOWN_MAX + 4];

        switch (kd->type) {
        case KEY_U64:
        case KEY_UNSIGNED:
        case KEY_LONG:
                return set_number(ld, sec, kd, v);
        case KEY_BOOL:
                return set_bool(ld, sec, kd, v);
        case KEY_ADDRESS_OFF: {
                uint8_t *out = (uint8_t *)sec->target + kd->offset;
                struct rwerr err;

                if (strcmp(v, "off") == 0) {
                        memset(out, 0, ABI_ADDRESS_BYTES);
                        return true;
                }
                if (abi_address_parse(v, strlen(v), out, &err) != RW_OK) {
                        problem(ld, ld->line,
                                "%s %s: '%s' is neither an address (0x and 40 hex digits) nor off",
                                sec->label, kd->name, shown(v, strlen(v), buf));
                        return false;
                }
                return parse_address(ld, sec, kd->name, v, strlen(v), out);
        }
        case KEY_ADDRESS:
                return parse_address(ld, sec, kd->name, v, strlen(v),
                                     (uint8_t *)sec->target + kd->offset);
        case KEY_ADDRESSES:
                return set_addresses(ld, sec, kd, v);
        case KEY_URLS:
                return set_list(ld, sec, kd, v, &endpoint_list);
        case KEY_PATHS:
                return set_paths(ld, sec, kd, v);
        case KEY_RUNBOOK_URL:
                return set_runbook_url(ld, sec, kd, v);
        case KEY_CLOCK:
                return set_clock(ld, sec, kd, v);
        case KEY_RECEIVER:
                return set_receiver(ld, sec, kd, v);
        case KEY_SEVERITIES:
                return set_severities(ld, sec, kd, v);
        case KEY_ROUTE_URL:
        case KEY_ROUTING_KEY:
        case KEY_SECRET:
                return set_secret(ld, sec, kd, v);
        case KEY_TEXT:
                return set_text(ld, sec, kd, v);
        case KEY_MAIL:
                return set_mail(ld, sec, kd, v);
        case KEY_MAILS:
                return set_list(ld, sec, kd, v, &mail_list);
        case KEY_GROUPS:
                return set_list(ld, sec, kd, v, &group_list);
        case KEY_RUN_MODE:
                if (strcmp(v, "interval") == 0 || strcmp(v, "block") == 0) {
                        *(enum config_run_mode *)((char *)sec->target + kd->offset) =
                                strcmp(v, "block") == 0 ? CONFIG_RUN_BLOCK : CONFIG_RUN_INTERVAL;
                        return true;
                }
                problem(ld, ld->line,
                        "%s %s: '%s' is not a run mode (interval: every interval_ms; block: "
                        "every new block of either chain)",
                        sec->label, kd->name, shown(v, strlen(v), buf));
                return false;
        case KEY_MODE:
                if (strcmp(v, "enforce") == 0 || strcmp(v, "shadow") == 0) {
                        *(enum invariant_mode *)((char *)sec->target + kd->offset) =
                                strcmp(v, "shadow") == 0 ? INVARIANT_SHADOW : INVARIANT_ENFORCE;
                        return true;
                }
                problem(ld, ld->line, "%s %s: '%s' is not a mode (enforce or shadow)", sec->label,
                        kd->name, shown(v, strlen(v), buf));
                return false;
        case KEY_IDENT:
        case KEY_PATH:
        case KEY_PG_URL:
        case KEY_REDIS_URL:
        case KEY_AMOUNT:
        default:
                return set_string(ld, sec, kd, v);
        }
}

/* Lists the keys of `sec` into buf, for "unknown key" messages. */
static const char *key_list(const struct section *sec, char *buf, size_t cap)
{
        size_t i, n = 0;

        buf[0] = '\0';
        for (i = 0; i < sec->def->nkeys; i++) {
                const struct key_def *kd = &sec->def->keys[i];
                int w;

                if ((kd->flags & KEY_SOURCE_ONLY) && sec->chain != SNAP_SOURCE)
                        continue;
                w = snprintf(buf + n, cap - n, "%s%s", n > 0 ? ", " : "", kd->name);
                if (w < 0 || (size_t)w >= cap - n)
                        break;
                n += (size_t)w;
        }
        return buf;
}

/* libinih's handler: one `key = value` of the current line. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
        struct loader *ld = user;
        struct section *sec = ld->cur;
        const struct key_def *kd = NULL;
        char buf[SHOWN_MAX + 4], keys[512];
        size_t i;

        (void)section; /* libinih's copy is cut at 49 characters: ours is ld->cur */
        if (ld->skipping)
                return 1;
        if (name[0] == '\0') {
                problem(ld, ld->line, "a value without a key before its '='");
                return 1;
        }
        if (sec == NULL) {
                problem(ld, ld->line, "key '%s' is outside any section: put it under its section",
                        shown(name, strlen(name), buf));
                return 1;
        }
        for (i = 0; i < sec->def->nkeys; i++) {
                if (strcmp(sec->def->keys[i].name, name) == 0) {
                        kd = &sec->def->keys[i];
                        break;
                }
        }
        if (kd == NULL) {
                problem(ld, ld->line, "%s unknown key '%s' (known: %s)", sec->label,
                        shown(name, strlen(name), buf), key_list(sec, keys, sizeof keys));
                return 1;
        }
        if ((kd->flags & KEY_SOURCE_ONLY) && sec->chain != SNAP_SOURCE) {
                problem(ld, ld->line,
                        "%s %s belongs in [chain source]: the lockbox and the root registry live "
                        "on the source chain",
                        sec->label, kd->name);
                return 1;
        }
        if (sec->seen[i] != 0) {
                problem(ld, ld->line, "%s %s is given twice (first at line %u)", sec->label,
                        kd->name, sec->seen[i]);
                return 1;
        }
        sec->seen[i] = ld->line;
        if (!expand(ld, sec, kd->name, value))
                return 1;
        if (!is_secret(kd) && ld->value[0] == '\0' && kd->type != KEY_AMOUNT) {
                problem(ld, ld->line, "%s %s is empty", sec->label, kd->name);
                return 1;
        }
        sec->ok[i] = set_value(ld, sec, kd, ld->value);
        sodium_memzero(ld->value, strlen(ld->value));
        return 1;
}

/* ------------------------------------------------------------ lines */

/*
 * Whether a trimmed, non-comment line is `key = value` (or `key: value`) as
 * libinih reads it: an '=' or ':' before any inline comment (a ';' after
 * whitespace).
 */
static bool is_key_value(const char *s, size_t len)
{
        bool was_space = false;
        size_t i;

        for (i = 0; i < len; i++) {
                if (s[i] == '=' || s[i] == ':')
                        return true;
                if (was_space && s[i] == ';')
                        return false;
                was_space = is_space(s[i]);
        }
        return false;
}

/* Takes the next line of the text; false at the end. */
static bool next_line(struct loader *ld)
{
        const char *raw, *nl, *s;
        size_t raw_len, len;

        if (ld->pos >= ld->len)
                return false;
        raw = ld->text + ld->pos;
        nl = memchr(raw, '\n', ld->len - ld->pos);
        raw_len = nl != NULL ? (size_t)(nl - raw) : ld->len - ld->pos;
        ld->pos += raw_len + (nl != NULL ? 1 : 0);
        ld->line++;
        ld->chunk = raw;
        ld->chunk_len = 0;
        ld->chunk_off = 0;

        if (raw_len > CONFIG_LINE_MAX) {
                problem(ld, ld->line, "line is longer than %d characters", CONFIG_LINE_MAX);
                return true;
        }
        if (memchr(raw, '\0', raw_len) != NULL) {
                problem(ld, ld->line, "line contains a NUL byte");
                return true;
        }
        s = raw;
        len = raw_len;
        if (ld->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3; /* a UTF-8 byte order mark */
                len -= 3;
        }
        s = trim(s, &len);
        if (len == 0 || s[0] == ';' || s[0] == '#')
                return true;
        if (s[0] == '[') {
                begin_section(ld, s, len);
                return true;
        }
        if (!is_key_value(s, len)) {
                /* Not quoted: a line like this may be a pasted URL or password. */
                problem(ld, ld->line, "expected 'key = value', a [section] or a comment");
                return true;
        }
        ld->chunk = s;
        ld->chunk_len = len;
        return true;
}

/*
 * libinih's reader (fgets-like): hands out the current normalised line and
 * its '\n', in as many calls as libinih's buffer needs, then the next line.
 */
static char *read_line(char *str, int num, void *stream)
{
        struct loader *ld = stream;
        size_t room, n, from_chunk;

        if (num < 2) {
                problem(ld, ld->line + 1, "libinih asked for a line into %d bytes", num);
                return NULL;
        }
        if (ld->chunk_off > ld->chunk_len && !next_line(ld))
                return NULL;
        room = (size_t)num - 1;
        n = ld->chunk_len + 1 - ld->chunk_off; /* what is left, the '\n' included */
        if (n > room)
                n = room;
        from_chunk = ld->chunk_len - ld->chunk_off;
        if (from_chunk > n)
                from_chunk = n;
        memcpy(str, ld->chunk + ld->chunk_off, from_chunk);
        if (from_chunk < n)
                str[from_chunk] = '\n';
        str[n] = '\0';
        ld->chunk_off += n;
        return str;
}

/*
 * Debian builds libinih with its options as run-time variables. A line is
 * read into a heap buffer that grows up to CONFIG_LINE_MAX (a 200-byte
 * stack buffer would cut long endpoint lists); values do not continue on
 * indented lines. These are process-wide and nothing else in relaywatch
 * uses libinih: every load sets the same values.
 */
static void ini_configure(void)
{
        static char start_comments[] = ";#";
        static char inline_comments[] = ";";

        ini_use_stack = false;
        ini_allow_realloc = true;
        ini_initial_alloc = 256;
        ini_max_line = CONFIG_LINE_MAX + 8;
        ini_allow_multiline = false;
        ini_allow_bom = true;
        ini_allow_inline_comments = true;
        ini_inline_comment_prefixes = inline_comments;
        ini_start_comment_prefixes = start_comments;
        ini_allow_no_value = false;
        ini_stop_on_first_error = false;
}

/* ------------------------------------------------------------ checks */

static void require_keys(struct loader *ld, const struct section *sec)
{
        size_t i;

        if (sec->line == 0)
                return;
        for (i = 0; i < sec->def->nkeys; i++) {
                const struct key_def *kd = &sec->def->keys[i];

                if (!(kd->flags & KEY_REQUIRED) || sec->seen[i] != 0)
                        continue;
                if ((kd->flags & KEY_SOURCE_ONLY) && sec->chain != SNAP_SOURCE)
                        continue;
                problem(ld, sec->line, "%s is missing %s (required)", sec->label, kd->name);
        }
}

static void check_chains(struct loader *ld)
{
        struct config *c = ld->cfg;
        int role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                struct section *sec = &ld->chains[role];
                struct config_chain *ch = &c->chains[role];

                if (sec->line == 0) {
                        problem(ld, end_line(ld),
                                "missing section [chain %s] (with chain_id and endpoints%s)",
                                chain_names[role],
                                role == SNAP_SOURCE ? ", lockbox and root_registry" : "");
                        continue;
                }
                require_keys(ld, sec);
                if (ch->nendpoints == 0)
                        continue; /* reported already */
                if (sec->seen[CHAIN_KEY_QUORUM] == 0) {
                        ch->quorum = ch->nendpoints >= 2 ? 2 : 1;
                } else if (sec->ok[CHAIN_KEY_QUORUM] && ch->quorum > ch->nendpoints) {
                        problem(ld, sec->seen[CHAIN_KEY_QUORUM],
                                "%s quorum: %u is more than the %zu endpoint%s configured",
                                sec->label, ch->quorum, ch->nendpoints,
                                ch->nendpoints == 1 ? "" : "s");
                }
                c->params.quorum[role] = ch->quorum;
                c->params.endpoints[role] = (unsigned)ch->nendpoints;
                if (sec->ok[CHAIN_KEY_HEDGE] && ch->hedge_ms != 0 &&
                    ch->hedge_ms < ENDPOINT_POOL_HEDGE_CONFIG_MIN_MS)
                        problem(ld, sec->seen[CHAIN_KEY_HEDGE],
                                "%s hedge_ms: %llu is out of range (0 for automatic, or %u to %u)",
                                sec->label, (unsigned long long)ch->hedge_ms,
                                ENDPOINT_POOL_HEDGE_CONFIG_MIN_MS, ENDPOINT_POOL_HEDGE_MAX_MS);
        }
        if (ld->chains[SNAP_SOURCE].ok[0] && ld->chains[SNAP_EXECUTION].ok[0] &&
            c->chains[SNAP_SOURCE].chain_id == c->chains[SNAP_EXECUTION].chain_id)
                problem(ld, ld->chains[SNAP_EXECUTION].seen[0],
                        "[chain execution] chain_id: %llu is also the source chain's (line %u): "
                        "the two chains must differ",
                        (unsigned long long)c->chains[SNAP_EXECUTION].chain_id,
                        ld->chains[SNAP_SOURCE].seen[0]);
}

/* Two assets naming the same token (key `k` of both). */
static void check_token_reuse(struct loader *ld, size_t i, size_t k)
{
        struct named_asset *a = ld->assets[i];
        const uint8_t *mine = k == ASSET_KEY_SOURCE ? a->d.a.source_token : a->d.a.bridged_token;
        struct key_index *ix = &ld->asset_tokens[k == ASSET_KEY_SOURCE ? 0 : 1];
        struct named_asset *b;
        size_t j;
        int dup;

        if (!a->sec.ok[k])
                return;
        dup = key_index_first(ix, mine, ABI_ADDRESS_BYTES, i, &j);
        if (dup < 0) {
                ld->nomem = true;
                return;
        }
        if (dup == 0)
                return;
        b = ld->assets[j];
        problem(ld, a->sec.seen[k], "%s %s: the same token as %s (line %u)", a->sec.label,
                asset_keys[k].name, b->sec.label, b->sec.seen[k]);
}

static void check_assets(struct loader *ld)
{
        struct config *c = ld->cfg;
        size_t i;

        if (ld->nassets == 0) {
                problem(ld, end_line(ld),
                        "no [asset NAME] section: name at least one asset the bridge carries");
                return;
        }
        for (i = 0; i < ld->nassets; i++) {
                struct named_asset *a = ld->assets[i];
                struct section *sec = &a->sec;
                unsigned decimals = a->d.a.decimals;
                struct rwerr err;

                require_keys(ld, sec);
                check_token_reuse(ld, i, ASSET_KEY_SOURCE);
                check_token_reuse(ld, i, ASSET_KEY_BRIDGED);
                if (!sec->ok[ASSET_KEY_DECIMALS])
                        continue; /* the tolerance cannot be read without them */
                if (a->d.tolerance == NULL) {
                        /* 0.001 token; a token with fewer than 3 decimals: 0 */
                        a->d.a.tolerance = u256_from_u64(0);
                        if (decimals >= 3 && u256_parse_units("0.001", 5, decimals,
                                                              &a->d.a.tolerance, &err) != RW_OK)
                                problem(ld, sec->line, "%s default tolerance: %s", sec->label,
                                        err.msg);
                        continue;
                }
                if (sec->ok[ASSET_KEY_TOLERANCE] &&
                    u256_parse_units(a->d.tolerance, strlen(a->d.tolerance), decimals,
                                     &a->d.a.tolerance, &err) != RW_OK) {
                        char buf[SHOWN_MAX + 4];

                        problem(ld, sec->seen[ASSET_KEY_TOLERANCE],
                                "%s tolerance: '%s' is not an amount of this token (%u "
                                "decimals): %s",
                                sec->label, shown(a->d.tolerance, strlen(a->d.tolerance), buf),
                                decimals, err.msg);
                }
        }
        c->assets = calloc(ld->nassets, sizeof *c->assets);
        if (c->assets == NULL) {
                ld->nomem = true;
                return;
        }
        for (i = 0; i < ld->nassets; i++)
                c->assets[i] = ld->assets[i]->d.a;
        c->nassets = ld->nassets;
}

static void check_relayer(struct loader *ld)
{
        struct config *c = ld->cfg;

        if (ld->relayer.line == 0) {
                problem(ld, end_line(ld),
                        "missing section [relayer] (with accounts: the relayer's addresses)");
                return;
        }
        require_keys(ld, &ld->relayer);
        if (ld->relayer.seen[RELAYER_KEY_SIGNERS] == 0 && c->naccounts > 0) {
                /* CONFIG_ACCOUNTS_MAX == INVARIANT_SIGNERS_MAX: they all fit */
                c->params.nsigners = c->naccounts;
                memcpy(c->params.signers, c->accounts, c->params.nsigners * ABI_ADDRESS_BYTES);
        }
}

/* Sets *field to `value` when the file did not give it. */
static void default_string(struct loader *ld, char **field, const char *value)
{
        if (*field == NULL && (*field = strdup(value)) == NULL)
                ld->nomem = true;
}

/* [control]: halts need Redis; the watchdog's public key defaults to SIGNING_KEY.pub. */
static void check_control(struct loader *ld)
{
        struct config *c = ld->cfg;

        default_string(ld, &c->control_stream, "relayer:control");
        default_string(ld, &c->halt_key, "relayer:halt");
        default_string(ld, &c->heartbeat_key, "relayer:watchdog:heartbeat");
        if (c->nconsumer_groups == 0) {
                if ((c->consumer_groups[0] = strdup("relayer")) == NULL)
                        ld->nomem = true;
                else
                        c->nconsumer_groups = 1;
        }
        if (ld->control.line == 0)
                return;
        if (c->redis_url == NULL)
                problem(ld, ld->control.line,
                        "[control] needs [redis] url: halts are published on a Redis stream");
        if (ld->control.seen[CONTROL_KEY_WATCHDOG_KEYS] == 0 && c->signing_key != NULL) {
                size_t n = strlen(c->signing_key) + sizeof ".pub";

                c->watchdog_pubkeys[0] = malloc(n);
                if (c->watchdog_pubkeys[0] == NULL) {
                        ld->nomem = true;
                        return;
                }
                (void)snprintf(c->watchdog_pubkeys[0], n, "%s.pub", c->signing_key);
                c->nwatchdog_pubkeys = 1;
        }
}

/* [alerting]: the defaults that come from other sections. */
static void check_alerting(struct loader *ld)
{
        struct config *c = ld->cfg;

        default_string(ld, &c->runbook_url, "file:///usr/local/share/doc/relaywatch/runbooks/");
        if (c->alert_source == NULL && c->watchdog_id != NULL)
                default_string(ld, &c->alert_source, c->watchdog_id);
        if (c->claim_prefix == NULL && c->control_stream != NULL) {
                size_t n = strlen(c->control_stream) + sizeof ":alert:";

                c->claim_prefix = malloc(n);
                if (c->claim_prefix == NULL) {
                        ld->nomem = true;
                        return;
                }
                (void)snprintf(c->claim_prefix, n, "%s:alert:", c->control_stream);
        }
}

/* [audit]: the defaults that come from [watchdog]. */
static void check_audit(struct loader *ld)
{
        struct config *c = ld->cfg;
        size_t n;

        if (c->state_dir == NULL || c->watchdog_id == NULL)
                return;
        if (c->audit_dir == NULL) {
                n = strlen(c->state_dir) + sizeof "/audit";
                if ((c->audit_dir = malloc(n)) == NULL) {
                        ld->nomem = true;
                        return;
                }
                (void)snprintf(c->audit_dir, n, "%s/audit", c->state_dir);
        }
        if (c->audit_origin == NULL) {
                n = strlen(c->watchdog_id) + sizeof "relaywatch/";
                if ((c->audit_origin = malloc(n)) == NULL) {
                        ld->nomem = true;
                        return;
                }
                (void)snprintf(c->audit_origin, n, "relaywatch/%s", c->watchdog_id);
        }
        if (c->audit_redis_key == NULL) {
                n = strlen(c->watchdog_id) + sizeof "relaywatch:audit:";
                if ((c->audit_redis_key = malloc(n)) == NULL) {
                        ld->nomem = true;
                        return;
                }
                (void)snprintf(c->audit_redis_key, n, "relaywatch:audit:%s", c->watchdog_id);
        }
        if (c->witness_log != NULL &&
            (c->witness_log_pubkey == NULL || c->witness_signing_key == NULL))
                problem(ld, ld->audit.line,
                        "[audit] witness_log needs witness_log_pubkey (the genesis public key of "
                        "the log to witness) and witness_signing_key (the key to cosign with)");
        if (c->witness_log != NULL && c->witness_state_dir == NULL) {
                n = strlen(c->state_dir) + sizeof "/witness";
                if ((c->witness_state_dir = malloc(n)) == NULL) {
                        ld->nomem = true;
                        return;
                }
                (void)snprintf(c->witness_state_dir, n, "%s/witness", c->state_dir);
        }
        if (c->naudit_witness_keys > 0 && c->audit_witness_max_age_s == 0)
                c->audit_witness_max_age_s = 600;
}

static bool host_is_loopback(const char *host);

/*
 * [http] listen: "HOST:PORT" (an IPv4 address, "[IPv6]", "localhost" or
 * "*" for every address) or "off"; the default 127.0.0.1:9464. A listener
 * that other machines can reach needs [http] token.
 */
static void check_http(struct loader *ld)
{
        struct config *c = ld->cfg;
        const char *listen = c->http_listen != NULL ? c->http_listen : CONFIG_HTTP_LISTEN_DEFAULT;
        const char *colon = strrchr(listen, ':');
        unsigned listen_line = ld->http.seen[0] != 0 ? ld->http.seen[0] : ld->http.line;
        char host[sizeof c->http_host];
        unsigned char addr[sizeof(struct in6_addr)];
        size_t hlen;
        char *end;
        unsigned long port;

        if (strcmp(listen, "off") == 0) {
                c->http_enabled = 0;
                return;
        }
        c->http_enabled = 1;
        hlen = colon != NULL ? (size_t)(colon - listen) : 0;
        errno = 0;
        port = colon != NULL ? strtoul(colon + 1, &end, 10) : 0;
        if (colon == NULL || hlen == 0 || hlen >= sizeof host || colon[1] == '\0' || *end != '\0' ||
            errno != 0 || port == 0 || port > 65535 || !isdigit((unsigned char)colon[1])) {
                problem(ld, listen_line,
                        "[http] listen: \"%.*s\" is not HOST:PORT (e.g. 127.0.0.1:9464, "
                        "[::1]:9464, *:9464) or off",
                        SHOWN_MAX, listen);
                return;
        }
        memcpy(host, listen, hlen);
        host[hlen] = '\0';
        if (strcmp(host, "*") != 0 && strcasecmp(host, "localhost") != 0 &&
            inet_pton(AF_INET, host, addr) != 1) {
                char v6[INET6_ADDRSTRLEN + 1];

                if (hlen < 3 || host[0] != '[' || host[hlen - 1] != ']' || hlen - 2 >= sizeof v6) {
                        problem(ld, listen_line,
                                "[http] listen: the host \"%s\" is not an IPv4 address, "
                                "[IPv6 address], localhost or *",
                                host);
                        return;
                }
                memcpy(v6, host + 1, hlen - 2);
                v6[hlen - 2] = '\0';
                if (inet_pton(AF_INET6, v6, addr) != 1) {
                        problem(ld, listen_line, "[http] listen: \"%s\" is not an IPv6 address",
                                v6);
                        return;
                }
        }
        if (!host_is_loopback(host) && c->http_token == NULL) {
                problem(ld, listen_line,
                        "[http] listen = %s can be reached from other machines: set [http] "
                        "token (e.g. token = ${RELAYWATCH_HTTP_TOKEN}) or listen on 127.0.0.1",
                        listen);
                return;
        }
        memcpy(c->http_host, host, hlen + 1);
        c->http_port = (unsigned)port;
}

/* Whether `host` (as libcurl parsed it: IPv6 in brackets) is this machine. */
static bool host_is_loopback(const char *host)
{
        unsigned char addr[sizeof(struct in6_addr)];
        char v6[INET6_ADDRSTRLEN + 1];
        size_t len = strlen(host);

        if (strcasecmp(host, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, host, addr) == 1)
                return addr[0] == 127;
        if (len < 3 || host[0] != '[' || host[len - 1] != ']' || len - 2 >= sizeof v6)
                return false;
        memcpy(v6, host + 1, len - 2);
        v6[len - 2] = '\0';
        return inet_pton(AF_INET6, v6, addr) == 1 &&
               memcmp(addr, &in6addr_loopback, sizeof(struct in6_addr)) == 0;
}

/*
 * The lower-case scheme of `url` (the letters before "://") into `out`;
 * "" when there is none.
 */
static void url_scheme(const char *url, char out[CONFIG_SCHEME_MAX])
{
        const char *sep = strstr(url, "://");
        size_t n = sep != NULL ? (size_t)(sep - url) : 0, i;

        out[0] = '\0';
        if (n == 0 || n >= CONFIG_SCHEME_MAX)
                return;
        for (i = 0; i < n; i++) {
                if (!isalpha((unsigned char)url[i]))
                        return;
                out[i] = (char)tolower((unsigned char)url[i]);
        }
        out[n] = '\0';
}

/*
 * Copies the host libcurl would connect to for `url` into `host`; false
 * when libcurl cannot parse it.
 */
static bool url_host(const char *url, char *host, size_t cap)
{
        CURLU *u = curl_url();
        char *h = NULL;
        bool ok;

        ok = u != NULL &&
             curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h != NULL && h[0] != '\0' &&
             strlen(h) < cap;
        if (ok)
                memcpy(host, h, strlen(h) + 1);
        curl_free(h);
        curl_url_cleanup(u);
        return ok;
}

/*
 * A route's url against its type, never quoting it: https, or http to a
 * loopback host; for email smtps, or smtp (the sender then demands
 * STARTTLS unless the host is loopback).
 */
static void check_route_url(struct loader *ld, const struct named_route *nr)
{
        const struct section *sec = &nr->sec;
        const struct config_alert_route *r = &nr->r;
        unsigned line = sec->seen[ROUTE_KEY_URL];
        char scheme[CONFIG_SCHEME_MAX], host[256];
        bool email = r->type == RECEIVER_EMAIL, known;

        url_scheme(r->url, scheme);
        if (email)
                known = strcmp(scheme, "smtps") == 0 || strcmp(scheme, "smtp") == 0;
        else
                known = strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0;
        if (known && !url_host(r->url, host, sizeof host)) {
                problem(ld, line,
                        "%s url is not a valid URL with a host (the value is not shown: it is "
                        "secret)",
                        sec->label);
                return;
        }
        if (email && !known)
                problem(ld, line,
                        "%s url: the scheme must be smtps, or smtp (with STARTTLS unless the "
                        "host is loopback)",
                        sec->label);
        else if (!email && (!known || (strcmp(scheme, "http") == 0 && !host_is_loopback(host))))
                problem(ld, line, "%s url: the scheme must be https (http only to a loopback host)",
                        sec->label);
}

/* "a pagerduty route", "an email or a webhook route": the types a key is for. */
static const char *types_of(unsigned flags, char *buf, size_t cap)
{
        size_t n = 0;
        unsigned t;

        buf[0] = '\0';
        for (t = 0; t < RECEIVER_TYPES; t++) {
                int w;

                if (!(flags & KEY_FOR(t)))
                        continue;
                w = snprintf(buf + n, cap - n, "%s%s %s", n > 0 ? " or " : "",
                             receiver_article((enum config_receiver_type)t), receiver_names[t]);
                if (w < 0 || (size_t)w >= cap - n)
                        break;
                n += (size_t)w;
        }
        return buf;
}

/* One [alert NAME] against its type: the keys it needs or refuses, the type's defaults. */
static void check_route(struct loader *ld, struct named_route *nr)
{
        static const unsigned default_severities[RECEIVER_TYPES] = {
                [RECEIVER_PAGERDUTY] = 1u << FINDING_CRITICAL,
                [RECEIVER_SLACK] = 1u << FINDING_CRITICAL | 1u << FINDING_ERROR |
                                   1u << FINDING_WARNING | 1u << FINDING_INFO,
                [RECEIVER_EMAIL] =
                        1u << FINDING_CRITICAL | 1u << FINDING_ERROR | 1u << FINDING_INFO,
                [RECEIVER_WEBHOOK] =
                        1u << FINDING_CRITICAL | 1u << FINDING_ERROR | 1u << FINDING_WARNING,
                [RECEIVER_ALERTMANAGER] =
                        1u << FINDING_CRITICAL | 1u << FINDING_ERROR | 1u << FINDING_WARNING,
        };
        struct section *sec = &nr->sec;
        struct config_alert_route *r = &nr->r;
        enum config_receiver_type t = r->type;
        const char *tname = receiver_names[t];
        char types[128];
        size_t i;

        require_keys(ld, sec);
        if (!sec->ok[ROUTE_KEY_TYPE])
                return; /* missing or bad, reported: nothing else can be judged */
        for (i = 0; i < sec->def->nkeys; i++) {
                const struct key_def *kd = &sec->def->keys[i];

                if (sec->seen[i] != 0 && (kd->flags & KEY_FOR_MASK) != 0 &&
                    !(kd->flags & KEY_FOR(t)))
                        problem(ld, sec->seen[i], "%s %s belongs to %s route, this one is %s",
                                sec->label, kd->name, types_of(kd->flags, types, sizeof types),
                                tname);
                if (sec->seen[i] == 0 && (kd->flags & KEY_NEEDED(t)))
                        problem(ld, sec->line, "%s is missing %s (required for %s %s route)",
                                sec->label, kd->name, receiver_article(t), tname);
        }
        if (sec->seen[ROUTE_KEY_SEVERITIES] == 0)
                r->severities = default_severities[t];
        else if (sec->ok[ROUTE_KEY_SEVERITIES] && (r->severities & (1u << FINDING_INFO)) &&
                 (t == RECEIVER_PAGERDUTY || t == RECEIVER_ALERTMANAGER))
                problem(ld, sec->seen[ROUTE_KEY_SEVERITIES],
                        "%s severities: INFO (the daily report) is not sent to %s %s route: "
                        "leave it out",
                        sec->label, receiver_article(t), tname);
        if (sec->seen[ROUTE_KEY_MIN_INTERVAL] == 0)
                r->min_interval_ms = t == RECEIVER_SLACK ? 1000 : 0;
        if (sec->ok[ROUTE_KEY_URL])
                check_route_url(ld, nr);
        if (t == RECEIVER_EMAIL &&
            (sec->seen[ROUTE_KEY_USERNAME] == 0) != (sec->seen[ROUTE_KEY_PASSWORD] == 0)) {
                bool user = sec->seen[ROUTE_KEY_USERNAME] != 0;

                problem(ld, user ? sec->seen[ROUTE_KEY_USERNAME] : sec->seen[ROUTE_KEY_PASSWORD],
                        "%s %s is given without %s: SMTP AUTH needs both, or neither", sec->label,
                        user ? "username" : "password", user ? "password" : "username");
        }
}

/* Wipes and frees what a route holds, and zeroes it. */
static void route_release(struct config_alert_route *r)
{
        free_secret(r->url);
        free_secret(r->routing_key);
        free_secret(r->secret);
        free_secret(r->password);
        free(r->mail_from);
        free_strings(r->mail_to, r->nmail_to);
        free(r->username);
        memset(r, 0, sizeof *r);
}

/* Every [alert NAME]; the routes move to cfg->routes, strings and all. */
static void check_routes(struct loader *ld)
{
        struct config *c = ld->cfg;
        size_t i;

        if (ld->nroutes == 0)
                return;
        for (i = 0; i < ld->nroutes; i++)
                check_route(ld, ld->routes[i]);
        c->routes = calloc(ld->nroutes, sizeof *c->routes);
        if (c->routes == NULL) {
                ld->nomem = true;
                return; /* loader_free releases them */
        }
        for (i = 0; i < ld->nroutes; i++) {
                c->routes[i] = ld->routes[i]->r;
                memset(&ld->routes[i]->r, 0, sizeof ld->routes[i]->r);
        }
        c->nroutes = ld->nroutes;
}

/* Defaults that are not constants, and the arrays built from sections. */
static void finish(struct loader *ld)
{
        struct config *c = ld->cfg;
        size_t i;

        if (ld->database.line == 0)
                problem(ld, end_line(ld), "missing section [database] (with url)");
        require_keys(ld, &ld->database);
        check_chains(ld);
        check_assets(ld);
        check_relayer(ld);
        for (i = 0; i < ld->nmodes; i++)
                require_keys(ld, &ld->modes[i]->sec);

        if (c->watchdog_id == NULL) {
                char host[256] = "";
                size_t n;
                bool ok;

                ok = gethostname(host, sizeof host - 1) == 0;
                host[sizeof host - 1] = '\0';
                n = strlen(host);
                ok = ok && n > 0 && n < SNAP_NAME_MAX;
                for (i = 0; ok && i < n; i++)
                        ok = is_ident_char(host[i]);
                c->watchdog_id = strdup(ok ? host : "relaywatch");
        }
        if (c->state_dir == NULL)
                c->state_dir = strdup("/var/lib/relaywatch");
        if (c->correlation_prefix == NULL)
                c->correlation_prefix = strdup("rw");
        if (c->watchdog_id == NULL || c->state_dir == NULL || c->correlation_prefix == NULL)
                ld->nomem = true;
        check_control(ld);
        check_alerting(ld);
        check_audit(ld);
        check_http(ld);
        check_routes(ld);

        c->modes = calloc(ld->nmodes + 1, sizeof *c->modes);
        if (c->modes == NULL) {
                ld->nomem = true;
        } else {
                for (i = 0; i < ld->nmodes; i++)
                        c->modes[i] = ld->modes[i]->m;
                c->nmodes = ld->nmodes;
                c->params.modes = c->modes;
        }
        if (ld->nstreams > 0) {
                c->streams = calloc(ld->nstreams, sizeof *c->streams);
                if (c->streams == NULL) {
                        ld->nomem = true;
                } else {
                        for (i = 0; i < ld->nstreams; i++)
                                c->streams[i] = ld->streams[i]->s;
                        c->nstreams = ld->nstreams;
                }
        }
}

/* ------------------------------------------------------------ load */

static void config_defaults(struct config *c)
{
        struct rwerr ignored; /* the constant parses */
        int role;

        c->statement_timeout_ms = 5000;
        c->page_batches = 256; /* OBSERVE_PAGE_BATCHES */
        c->db_failure_threshold = 5;
        for (role = 0; role < SNAP_NCHAINS; role++) {
                c->chains[role].log_chunk_blocks = 2000;
                c->chains[role].timeout_ms = 10000;
                if (abi_address_parse(MULTICALL3_ADDRESS, strlen(MULTICALL3_ADDRESS),
                                      c->chains[role].multicall3, &ignored) != RW_OK)
                        memset(c->chains[role].multicall3, 0, ABI_ADDRESS_BYTES); /* off */
        }
        invariant_params_defaults(&c->params); /* the documented thresholds */
        c->rpc_failure_threshold = 3;
        c->rpc_slow_call_ms = 10000;
        c->run_mode = CONFIG_RUN_INTERVAL;
        c->interval_ms = 5000;
        c->poll_ms = 100;
        c->full_sweep_s = 300;
        c->blind_limit_ms = 60000;
        c->heartbeat_ttl_ms = 30000;
        c->ack_timeout_ms = 10000;
        c->consumer_idle_ms = 30000;
        c->redis_timeout_ms = 1000;
        c->flap_window_s = 300;
        c->repage_s = 900;
        c->spool_retry_s = 60;
        c->report_minute = 8 * 60;
        c->audit_checkpoint_s = 60;
        c->audit_fsync_batch_ms = 1000;
        c->audit_rotate_bytes = 64ull << 20;
        c->audit_rotate_daily = 1;
        c->audit_key_epoch_s = 86400;
        c->http_max_connections = 64;
        c->http_timeout_s = 10;
}

static int problem_order(const void *a, const void *b)
{
        const struct problem *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void report(struct loader *ld, FILE *problems, struct rwerr *err)
{
        size_t i, total = ld->nproblems + ld->dropped;

        qsort(ld->problems, ld->nproblems, sizeof *ld->problems, problem_order);
        if (problems != NULL) {
                for (i = 0; i < ld->nproblems; i++)
                        fprintf(problems, "%s:%u: %s\n", ld->name, ld->problems[i].line,
                                ld->problems[i].msg);
                if (ld->dropped > 0)
                        fprintf(problems, "%s:%u: ... and %zu more problems not listed\n", ld->name,
                                end_line(ld), ld->dropped);
                rwerr_set(err, RW_ERR_INVALID, "%s: %zu problem%s, configuration refused", ld->name,
                          total, total == 1 ? "" : "s");
        } else {
                rwerr_set(err, RW_ERR_INVALID,
                          "%s: %zu problem%s, configuration refused; the first: %s:%u: %s",
                          ld->name, total, total == 1 ? "" : "s", ld->name, ld->problems[0].line,
                          ld->problems[0].msg);
        }
}

static void loader_free(struct loader *ld)
{
        size_t i;

        for (i = 0; i < ld->nproblems; i++)
                free(ld->problems[i].msg);
        free(ld->problems);
        for (i = 0; i < ld->nassets; i++) {
                free(ld->assets[i]->d.tolerance);
                free(ld->assets[i]);
        }
        free(ld->assets);
        key_index_free(&ld->asset_names);
        key_index_free(&ld->asset_tokens[0]);
        key_index_free(&ld->asset_tokens[1]);
        for (i = 0; i < ld->nmodes; i++)
                free(ld->modes[i]);
        for (i = 0; i < ld->nstreams; i++)
                free(ld->streams[i]);
        for (i = 0; i < ld->nroutes; i++) {
                route_release(&ld->routes[i]->r);
                free(ld->routes[i]);
        }
        sodium_memzero(ld->value, sizeof ld->value);
        free(ld);
}

struct config *config_load_string(const char *text, size_t len, const char *name, FILE *problems,
                                  struct rwerr *err)
{
        struct loader *ld = calloc(1, sizeof *ld);
        struct config *c = NULL;
        int rc;

        if (ld == NULL || (ld->cfg = calloc(1, sizeof *ld->cfg)) == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory reading the configuration", name);
                free(ld);
                return NULL;
        }
        ld->name = name;
        ld->text = text;
        ld->len = len;
        ld->chunk_off = 1; /* nothing handed out yet: read_line takes line 1 */
        config_defaults(ld->cfg);
        ld->cfg->path = strdup(name);
        if (ld->cfg->path == NULL)
                ld->nomem = true;

        ini_configure();
        rc = ini_parse_stream(read_line, ld, on_key, ld);
        if (rc == -2)
                ld->nomem = true;
        else if (rc != 0 && !ld->nomem)
                problem(ld, rc > 0 ? (unsigned)rc : end_line(ld), "libinih cannot read this line");
        if (!ld->nomem)
                finish(ld);

        if (ld->nomem) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory reading the configuration", name);
        } else if (ld->nproblems + ld->dropped > 0) {
                report(ld, problems, err);
        } else {
                c = ld->cfg;
                ld->cfg = NULL;
        }
        config_free(ld->cfg);
        loader_free(ld);
        return c;
}

struct config *config_load(const char *path, FILE *problems, struct rwerr *err)
{
        struct config *c = NULL;
        char *text = NULL;
        size_t len;
        FILE *f;

        if (path == NULL) {
                rwerr_set(err, RW_ERR_INVALID, "no configuration file given");
                return NULL;
        }
        f = fopen(path, "rb");
        if (f == NULL) {
                rwerr_set(err, RW_ERR_IO, "cannot open %s: %s", path, strerror(errno));
                return NULL;
        }
        text = malloc(CONFIG_FILE_MAX + 1);
        if (text == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory reading the configuration", path);
                goto out;
        }
        len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
        if (ferror(f)) {
                rwerr_set(err, RW_ERR_IO, "cannot read %s: %s", path, strerror(errno));
                goto out;
        }
        if (len > CONFIG_FILE_MAX) {
                rwerr_set(err, RW_ERR_RANGE,
                          "%s is larger than %zu bytes: not a configuration file", path,
                          CONFIG_FILE_MAX);
                goto out;
        }
        c = config_load_string(text, len, path, problems, err);
        sodium_memzero(text, len);
out:
        free(text);
        fclose(f);
        return c;
}

void config_free(struct config *c)
{
        size_t i;
        int role;

        if (c == NULL)
                return;
        free(c->path);
        free(c->watchdog_id);
        free(c->state_dir);
        free(c->correlation_prefix);
        free_secret(c->database_url);
        free_secret(c->redis_url);
        for (role = 0; role < SNAP_NCHAINS; role++)
                free_urls(c->chains[role].endpoints, c->chains[role].nendpoints);
        free(c->assets);
        free(c->modes);
        free(c->streams);
        free(c->control_stream);
        free(c->halt_key);
        free(c->heartbeat_key);
        free_strings(c->consumer_groups, c->nconsumer_groups);
        free(c->signing_key);
        free_strings(c->watchdog_pubkeys, c->nwatchdog_pubkeys);
        free_strings(c->operator_pubkeys, c->noperator_pubkeys);
        free(c->runbook_url);
        free(c->alert_source);
        free(c->claim_prefix);
        free(c->audit_dir);
        free(c->audit_origin);
        free(c->audit_redis_key);
        free(c->witness_log);
        free(c->witness_log_pubkey);
        free(c->witness_signing_key);
        free(c->witness_state_dir);
        free(c->http_listen);
        free_secret(c->http_token);
        free_strings(c->audit_witness_keys, c->naudit_witness_keys);
        for (i = 0; i < c->nroutes; i++)
                route_release(&c->routes[i]);
        free(c->routes);
        free(c);
}

const char *config_path(const char *given)
{
        const char *env;

        if (given != NULL)
                return given;
        env = getenv("RELAYWATCH_CONFIG");
        if (env != NULL && env[0] != '\0')
                return env;
        return CONFIG_DEFAULT_PATH;
}
