/*
 * Unit tests for watchdog/config: the configuration file, every problem it
 * can have (with its exact FILE:LINE), defaults, ${ENV} expansion, and
 * `relaywatch check-config` as a user runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi.h"
#include "cli.h"
#include "cli_run.h"
#include "config.h"
#include "finding.h"
#include "rwerr.h"
#include "u256.h"

#define A_LOCKBOX "0x5fbdb2315678afecb367f032d93f642f64180aa3"
#define A_REGISTRY "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"
#define A_SIGIL "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0"
#define A_BSIGIL "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9"
#define A_RELAYER "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define A_OTHER "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"

/* Lines 1-8: every required section but the chains. */
#define BASE                                                                                       \
        "[database]\n"                                /* 1 */                                      \
        "url = postgres://rw@127.0.0.1:5432/bridge\n" /* 2 */                                      \
        "[asset SIGIL]\n"                             /* 3 */                                      \
        "source_token = " A_SIGIL "\n"                /* 4 */                                      \
        "bridged_token = " A_BSIGIL "\n"              /* 5 */                                      \
        "decimals = 18\n"                             /* 6 */                                      \
        "[relayer]\n"                                 /* 7 */                                      \
        "accounts = " A_RELAYER "\n"                  /* 8 */

/* Lines 9-13. */
#define SOURCE                                                                                     \
        "[chain source]\n"                    /* 9 */                                              \
        "chain_id = 31337\n"                  /* 10 */                                             \
        "endpoints = http://127.0.0.1:8545\n" /* 11 */                                             \
        "lockbox = " A_LOCKBOX "\n"           /* 12 */                                             \
        "root_registry = " A_REGISTRY "\n"    /* 13 */

/* Lines 14-16. */
#define EXEC                                                                                       \
        "[chain execution]\n"                 /* 14 */                                             \
        "chain_id = 31338\n"                  /* 15 */                                             \
        "endpoints = http://127.0.0.1:8546\n" /* 16 */

#define VALID BASE SOURCE EXEC

struct load {
        struct config *cfg;
        char *problems;
        struct rwerr err;
};

static struct load load_text(const char *text)
{
        struct load l;
        size_t len;
        FILE *f = open_memstream(&l.problems, &len);

        assert_non_null(f);
        memset(&l.err, 0, sizeof l.err);
        l.cfg = config_load_string(text, strlen(text), "test.conf", f, &l.err);
        fclose(f);
        return l;
}

static void load_free(struct load *l)
{
        config_free(l->cfg);
        free(l->problems);
}

/* `text` ends in "\n" and contains `line` as a whole line. */
static int has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        const char *p = text;

        while ((p = strstr(p, line)) != NULL) {
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return 1;
                p++;
        }
        return 0;
}

static size_t count_lines(const char *text)
{
        size_t n = 0;

        for (; *text != '\0'; text++)
                n += *text == '\n';
        return n;
}

/* Loading `text` is refused, and the problems include `expected` exactly. */
static void expect_problem(const char *text, const char *expected)
{
        struct load l = load_text(text);

        if (l.cfg != NULL || !has_line(l.problems, expected))
                print_error("expected the line\n  %s\ngot the problems\n%s", expected, l.problems);
        assert_null(l.cfg);
        assert_true(has_line(l.problems, expected));
        assert_non_null(strstr(l.err.msg, "configuration refused"));
        load_free(&l);
}

static void address_is(const uint8_t got[20], const char *want)
{
        char text[ABI_ADDRESS_TEXT_SIZE];

        abi_address_format(got, text);
        assert_string_equal(text, want);
}

static void u256_is(const struct u256 *got, const char *want)
{
        char text[U256_DEC_SIZE];

        assert_true(u256_format_dec(got, text, sizeof text) > 0);
        assert_string_equal(text, want);
}

/* ---------------------------------------------------------- valid files */

static void full_valid_file(void **state)
{
        static const char text[] =
                "; every section and key\n"
                "[watchdog]\n"
                "id = watchdog-eu-1\n"
                "state_dir = /srv/relaywatch\n"
                "correlation_prefix = eu1\n"
                "\n"
                "[database]\n"
                "url = postgres://rw:pw@db.internal:6432/ledger\n"
                "statement_timeout_ms = 2500\n"
                "failure_threshold = 7\n"
                "[redis]\n"
                "url = redis://:pw@127.0.0.1:6379/0\n"
                "[chain source]\n"
                "chain_id = 1\n"
                "endpoints = https://a.example/v2/k1 , https://b.example/k2,http://10.0.0.1:8545\n"
                "confirmations = 12\n"
                "finalized = false\n"
                "quorum = 3\n"
                "log_chunk_blocks = 500\n"
                "timeout_ms = 4000\n"
                "deploy_block = 18000000\n"
                "lockbox = " A_LOCKBOX "\n"
                "root_registry = " A_REGISTRY "\n"
                "[chain execution]\n"
                "chain_id = 10\n"
                "endpoints = https://op.example/k\n"
                "finalized = yes\n"
                "[asset SIGIL]\n"
                "source_token = " A_SIGIL "\n"
                "bridged_token = " A_BSIGIL "\n"
                "decimals = 18\n"
                "tolerance = 2.5\n"
                "[asset USDC.e]\n"
                "source_token = " A_LOCKBOX "\n"
                "bridged_token = " A_REGISTRY "\n"
                "decimals = 6\n"
                "[relayer]\n"
                "accounts = " A_RELAYER ", " A_OTHER "\n"
                "signers = " A_OTHER "\n"
                "[thresholds]\n"
                "nonce_gap = 3\n"
                "relayer_cycle_ms = 5000\n"
                "watchdog_cycle_ms = 1500\n"
                "gas_ratio_percent = 200\n"
                "pending_operations = 25\n"
                "stream_lag = 1000\n"
                "rpc_failure_threshold = 4\n"
                "rpc_slow_call_ms = 8000\n"
                "[invariant NONCE_DESYNC]\n"
                "mode = shadow\n"
                "[invariant SUPPLY_MISMATCH]\n"
                "mode = enforce\n"
                "[stream relayer:deposits]\n"
                "maxlen = 100000\n"
                "[stream relayer:withdrawals]\n";
        struct load l = load_text(text);
        const struct config *c = l.cfg;
        const struct config_chain *src, *exe;

        (void)state;
        assert_string_equal(l.problems, "");
        assert_non_null(c);
        assert_string_equal(c->path, "test.conf");
        assert_string_equal(c->watchdog_id, "watchdog-eu-1");
        assert_string_equal(c->state_dir, "/srv/relaywatch");
        assert_string_equal(c->correlation_prefix, "eu1");
        assert_string_equal(c->database_url, "postgres://rw:pw@db.internal:6432/ledger");
        assert_int_equal(c->statement_timeout_ms, 2500);
        assert_int_equal(c->db_failure_threshold, 7);
        assert_string_equal(c->redis_url, "redis://:pw@127.0.0.1:6379/0");

        src = &c->chains[SNAP_SOURCE];
        assert_true(src->present);
        assert_int_equal(src->chain_id, 1);
        assert_int_equal(src->nendpoints, 3);
        assert_string_equal(src->endpoints[0], "https://a.example/v2/k1");
        assert_string_equal(src->endpoints[1], "https://b.example/k2");
        assert_string_equal(src->endpoints[2], "http://10.0.0.1:8545");
        assert_int_equal(src->confirmations, 12);
        assert_false(src->finalized);
        assert_int_equal(src->quorum, 3);
        assert_int_equal(src->log_chunk_blocks, 500);
        assert_int_equal(src->timeout_ms, 4000);
        assert_int_equal(src->deploy_block, 18000000);
        address_is(src->lockbox, A_LOCKBOX);
        address_is(src->root_registry, A_REGISTRY);
        exe = &c->chains[SNAP_EXECUTION];
        assert_true(exe->present);
        assert_int_equal(exe->chain_id, 10);
        assert_int_equal(exe->nendpoints, 1);
        assert_true(exe->finalized);
        assert_int_equal(exe->quorum, 1);
        assert_int_equal(c->params.quorum[SNAP_SOURCE], 3);
        assert_int_equal(c->params.endpoints[SNAP_SOURCE], 3);
        assert_int_equal(c->params.quorum[SNAP_EXECUTION], 1);
        assert_int_equal(c->params.endpoints[SNAP_EXECUTION], 1);

        assert_int_equal(c->nassets, 2);
        assert_string_equal(c->assets[0].name, "SIGIL");
        assert_int_equal(c->assets[0].decimals, 18);
        u256_is(&c->assets[0].tolerance, "2500000000000000000");
        address_is(c->assets[0].source_token, A_SIGIL);
        address_is(c->assets[0].bridged_token, A_BSIGIL);
        assert_string_equal(c->assets[1].name, "USDC.e");
        assert_int_equal(c->assets[1].decimals, 6);
        u256_is(&c->assets[1].tolerance, "1000");

        assert_int_equal(c->naccounts, 2);
        address_is(c->accounts[0], A_RELAYER);
        address_is(c->accounts[1], A_OTHER);
        assert_int_equal(c->params.nsigners, 1);
        address_is(c->params.signers[0], A_OTHER);

        assert_int_equal(c->params.nonce_gap, 3);
        assert_int_equal(c->params.relayer_cycle_ms, 5000);
        assert_int_equal(c->params.watchdog_cycle_ms, 1500);
        assert_int_equal(c->params.gas_ratio_percent, 200);
        assert_int_equal(c->params.pending_operations, 25);
        assert_int_equal(c->params.stream_lag, 1000);
        assert_int_equal(c->rpc_failure_threshold, 4);
        assert_int_equal(c->rpc_slow_call_ms, 8000);

        assert_int_equal(c->nmodes, 2);
        assert_string_equal(c->modes[0].name, "NONCE_DESYNC");
        assert_int_equal(c->modes[0].mode, INVARIANT_SHADOW);
        assert_string_equal(c->modes[1].name, "SUPPLY_MISMATCH");
        assert_int_equal(c->modes[1].mode, INVARIANT_ENFORCE);
        assert_null(c->modes[2].name);
        assert_ptr_equal(c->params.modes, c->modes);

        assert_int_equal(c->nstreams, 2);
        assert_string_equal(c->streams[0].name, "relayer:deposits");
        assert_int_equal(c->streams[0].maxlen, 100000);
        assert_string_equal(c->streams[1].name, "relayer:withdrawals");
        assert_int_equal(c->streams[1].maxlen, 0);
        load_free(&l);
}

static void defaults(void **state)
{
        struct load l = load_text(BASE "[chain source]\n"
                                       "chain_id = 31337\n"
                                       "endpoints = http://127.0.0.1:8545, http://127.0.0.1:9545\n"
                                       "lockbox = " A_LOCKBOX "\n"
                                       "root_registry = " A_REGISTRY "\n" EXEC);
        const struct config *c = l.cfg;
        char host[256] = "";
        size_t i, n;
        int valid;

        (void)state;
        assert_string_equal(l.problems, "");
        assert_non_null(c);
        /* [watchdog]: the host name, when it is a valid id */
        valid = gethostname(host, sizeof host - 1) == 0;
        n = strlen(host);
        valid = valid && n > 0 && n < SNAP_NAME_MAX;
        for (i = 0; valid && i < n; i++)
                valid = (host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
                        (host[i] >= '0' && host[i] <= '9') || strchr("._:-", host[i]) != NULL;
        assert_string_equal(c->watchdog_id, valid ? host : "relaywatch");
        assert_string_equal(c->state_dir, "/var/lib/relaywatch");
        assert_string_equal(c->correlation_prefix, "rw");
        assert_int_equal(c->statement_timeout_ms, 5000);
        assert_int_equal(c->db_failure_threshold, 5);
        assert_null(c->redis_url);
        /* chains: quorum 2 with two endpoints, 1 with one */
        assert_int_equal(c->chains[SNAP_SOURCE].quorum, 2);
        assert_int_equal(c->params.quorum[SNAP_SOURCE], 2);
        assert_int_equal(c->params.endpoints[SNAP_SOURCE], 2);
        assert_int_equal(c->chains[SNAP_EXECUTION].quorum, 1);
        assert_int_equal(c->params.quorum[SNAP_EXECUTION], 1);
        assert_int_equal(c->params.endpoints[SNAP_EXECUTION], 1);
        assert_int_equal(c->chains[SNAP_EXECUTION].confirmations, 0);
        assert_false(c->chains[SNAP_EXECUTION].finalized);
        assert_int_equal(c->chains[SNAP_EXECUTION].log_chunk_blocks, 2000);
        assert_int_equal(c->chains[SNAP_EXECUTION].timeout_ms, 10000);
        assert_int_equal(c->chains[SNAP_EXECUTION].hedge_ms, 0); /* automatic */
        assert_int_equal(c->chains[SNAP_EXECUTION].deploy_block, 0);
        /* tolerance 0.001 token */
        u256_is(&c->assets[0].tolerance, "1000000000000000");
        /* signers: the accounts */
        assert_int_equal(c->params.nsigners, 1);
        address_is(c->params.signers[0], A_RELAYER);
        /* thresholds as the README gives them */
        assert_int_equal(c->params.nonce_gap, 5);
        assert_int_equal(c->params.relayer_cycle_ms, 2000);
        assert_int_equal(c->params.watchdog_cycle_ms, 2000);
        assert_int_equal(c->params.gas_ratio_percent, 150);
        assert_int_equal(c->params.pending_operations, 10);
        assert_int_equal(c->params.stream_lag, 100);
        assert_int_equal(c->rpc_failure_threshold, 3);
        assert_int_equal(c->rpc_slow_call_ms, 10000);
        /* every check enforced: an empty, NULL-terminated list */
        assert_int_equal(c->nmodes, 0);
        assert_non_null(c->modes);
        assert_null(c->modes[0].name);
        assert_int_equal(c->nstreams, 0);
        load_free(&l);
}

/* An asset with `decimals` and, when not NULL, `tolerance`; its tolerance in base units. */
static void tolerance_is(const char *decimals, const char *tolerance, const char *want)
{
        char text[1024];
        struct load l;

        (void)snprintf(text, sizeof text,
                       SOURCE EXEC "[database]\nurl = postgres://rw@h/db\n[relayer]\n"
                                   "accounts = " A_RELAYER "\n"
                                   "[asset T]\nsource_token = " A_SIGIL "\n"
                                   "bridged_token = " A_BSIGIL "\ndecimals = %s\n%s%s%s",
                       decimals, tolerance ? "tolerance = " : "", tolerance ? tolerance : "",
                       tolerance ? "\n" : "");
        l = load_text(text);
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        u256_is(&l.cfg->assets[0].tolerance, want);
        load_free(&l);
}

static void tolerance_in_token_units(void **state)
{
        (void)state;
        tolerance_is("18", "0.001", "1000000000000000");
        tolerance_is("6", "0.001", "1000");
        tolerance_is("6", NULL, "1000");
        tolerance_is("6", "1.5", "1500000");
        tolerance_is("3", NULL, "1");
        tolerance_is("2", NULL, "0"); /* below a thousandth: no default tolerance */
        tolerance_is("0", NULL, "0");
        tolerance_is("0", "7", "7");
        tolerance_is("77", "0", "0");
        /* too precise for the token, a sign, an exponent: refused with the line */
        expect_problem(VALID "[asset USDC]\n"                 /* 17 */
                             "source_token = " A_LOCKBOX "\n" /* 18 */
                             "bridged_token = " A_REGISTRY "\n"
                             "decimals = 6\n"
                             "tolerance = 0.0000001\n", /* 21 */
                       "test.conf:21: [asset USDC] tolerance: '0.0000001' is not an amount of "
                       "this token (6 decimals): token amount has 7 decimal places, the token "
                       "allows 6");
        expect_problem(VALID "[asset USDC]\n"
                             "source_token = " A_LOCKBOX "\n"
                             "tolerance = 1e3\n" /* 19 */
                             "bridged_token = " A_REGISTRY "\n"
                             "decimals = 6\n",
                       "test.conf:19: [asset USDC] tolerance: '1e3' is not an amount of this "
                       "token (6 decimals): token amount uses exponent notation ('e' at position "
                       "1); write the digits out");
}

/* ---------------------------------------------------------- problems */

static void unknown_key(void **state)
{
        (void)state;
        expect_problem(VALID "[thresholds]\nnonce_gapp = 4\n",
                       "test.conf:18: [thresholds] unknown key 'nonce_gapp' (known: nonce_gap, "
                       "relayer_cycle_ms, watchdog_cycle_ms, gas_ratio_percent, "
                       "pending_operations, stream_lag, rpc_failure_threshold, "
                       "rpc_slow_call_ms)");
        /* the source-only keys are not offered for the execution chain */
        expect_problem(VALID "chain = 2\n",
                       "test.conf:17: [chain execution] unknown key 'chain' (known: chain_id, "
                       "endpoints, confirmations, finalized, quorum, log_chunk_blocks, "
                       "timeout_ms, hedge_ms, deploy_block, multicall3)");
        expect_problem(VALID "lockbox = " A_LOCKBOX "\n",
                       "test.conf:17: [chain execution] lockbox belongs in [chain source]: the "
                       "lockbox and the root registry live on the source chain");
        expect_problem("orphan = 1\n" VALID,
                       "test.conf:1: key 'orphan' is outside any section: put it under its "
                       "section");
}

static void unknown_section(void **state)
{
        (void)state;
        expect_problem(VALID "\n[alerts]\nslack = x\n",
                       "test.conf:18: unknown section [alerts]; expected [watchdog], [database], "
                       "[redis], [chain source], [chain execution], [asset NAME], [relayer], "
                       "[thresholds], [invariant NAME], [stream NAME], [control], [alerting], "
                       "[audit], [http] or "
                       "[alert NAME]");
        expect_problem(VALID "[chain sidechain]\n",
                       "test.conf:17: unknown chain [chain sidechain]: expected [chain source] or "
                       "[chain execution]");
        expect_problem(VALID "[invariant NONCE]\nmode = shadow\n",
                       "test.conf:17: unknown invariant [invariant NONCE]; known: "
                       "SUPPLY_MISMATCH, DUPLICATE_BATCH, PROOF_VERIFICATION_FAIL, NONCE_DESYNC, "
                       "RPC_TIMEOUT, DB_CONNECTION_LOST, HIGH_LATENCY, GAS_ESTIMATE_MISS, "
                       "QUEUE_BUILDUP");
        expect_problem(VALID "[asset]\n", "test.conf:17: section [asset] needs a name: "
                                          "[asset NAME]");
        expect_problem(VALID "[relayer backup]\n",
                       "test.conf:17: section [relayer] takes no name, got 'backup'");
        expect_problem(VALID "[thresholds\n",
                       "test.conf:17: section header '[thresholds' has no closing ']'");
        expect_problem(VALID "[database]\n",
                       "test.conf:17: section [database] appears again (first at line 1): keep "
                       "one");
}

static void bad_address(void **state)
{
        (void)state;
        expect_problem(BASE "[chain source]\n"
                            "chain_id = 31337\n"
                            "endpoints = http://127.0.0.1:8545\n"
                            "lockbox = 0x5fbdb2315678afecb367f032d93f642f64180aa\n" /* 12 */
                            "root_registry = " A_REGISTRY "\n" EXEC,
                       "test.conf:12: [chain source] lockbox: "
                       "'0x5fbdb2315678afecb367f032d93f642f64180aa' is not an address (0x and 40 "
                       "hex digits)");
        expect_problem(BASE SOURCE EXEC "[asset X]\nsource_token = "
                                        "0x0000000000000000000000000000000000000000\n",
                       "test.conf:18: [asset X] source_token is the zero address");
        expect_problem(VALID "[relayer]\n", "test.conf:17: section [relayer] appears again "
                                            "(first at line 7): keep one");
        expect_problem(SOURCE EXEC "[database]\nurl = postgres://h/db\n[asset S]\n"
                                   "source_token = " A_SIGIL "\nbridged_token = " A_BSIGIL "\n"
                                   "decimals = 0\n"
                                   "[relayer]\n"                                      /* 15 */
                                   "accounts = " A_RELAYER ", nope, " A_RELAYER "\n", /* 16 */
                       "test.conf:16: [relayer] accounts entry 2: 'nope' is not an address (0x "
                       "and 40 hex digits)");
        expect_problem(SOURCE EXEC "[database]\nurl = postgres://h/db\n[asset S]\n"
                                   "source_token = " A_SIGIL "\nbridged_token = " A_BSIGIL "\n"
                                   "decimals = 0\n"
                                   "[relayer]\n"
                                   "accounts = " A_RELAYER ", " A_OTHER "," A_RELAYER "\n",
                       "test.conf:16: [relayer] accounts entry 3 repeats entry 1");
}

static void missing_address(void **state)
{
        (void)state;
        expect_problem(BASE "[chain source]\n" /* 9 */
                            "chain_id = 31337\n"
                            "endpoints = http://127.0.0.1:8545\n"
                            "lockbox = " A_LOCKBOX "\n" EXEC,
                       "test.conf:9: [chain source] is missing root_registry (required)");
        expect_problem(SOURCE EXEC "[database]\nurl = postgres://h/db\n"
                                   "[asset S]\n" /* 11 */
                                   "bridged_token = " A_BSIGIL "\ndecimals = 0\n"
                                   "[relayer]\naccounts = " A_RELAYER "\n",
                       "test.conf:11: [asset S] is missing source_token (required)");
        expect_problem(VALID "[invariant RPC_TIMEOUT]\n",
                       "test.conf:17: [invariant RPC_TIMEOUT] is missing mode (required)");
}

static void bad_number(void **state)
{
        (void)state;
        expect_problem(VALID "confirmations = 12 blocks\n",
                       "test.conf:17: [chain execution] confirmations: '12 blocks' is not a "
                       "decimal number");
        expect_problem(VALID "confirmations = 0x10\n",
                       "test.conf:17: [chain execution] confirmations: '0x10' is not a decimal "
                       "number");
        expect_problem(VALID "confirmations = -1\n",
                       "test.conf:17: [chain execution] confirmations: '-1' is not a decimal "
                       "number");
        expect_problem(VALID "confirmations =\n",
                       "test.conf:17: [chain execution] confirmations is empty");
        expect_problem(VALID "finalized = maybe\n",
                       "test.conf:17: [chain execution] finalized: 'maybe' is not a boolean "
                       "(true, false, yes, no, 1 or 0)");
        expect_problem(VALID "[invariant HIGH_LATENCY]\nmode = off\n",
                       "test.conf:18: [invariant HIGH_LATENCY] mode: 'off' is not a mode "
                       "(enforce or shadow)");
}

static void out_of_range(void **state)
{
        (void)state;
        expect_problem(VALID "[thresholds]\ngas_ratio_percent = 99\n",
                       "test.conf:18: [thresholds] gas_ratio_percent: 99 is out of range (100 to "
                       "10000)");
        expect_problem(VALID "deploy_block = 18446744073709551616\n",
                       "test.conf:17: [chain execution] deploy_block: 18446744073709551616 is out "
                       "of range (0 to 18446744073709551615)");
        expect_problem(VALID "chain_id = 0\n",
                       "test.conf:17: [chain execution] chain_id is given twice (first at line "
                       "15)");
        expect_problem(BASE "[chain source]\nchain_id = 0\n" /* 10 */
                            "endpoints = http://127.0.0.1:8545\n"
                            "lockbox = " A_LOCKBOX "\n"
                            "root_registry = " A_REGISTRY "\n" EXEC,
                       "test.conf:10: [chain source] chain_id: 0 is out of range (1 to "
                       "18446744073709551615)");
        expect_problem(VALID "[asset WIDE]\ndecimals = 78\n",
                       "test.conf:18: [asset WIDE] decimals: 78 is out of range (0 to 77)");
        expect_problem(VALID "quorum = 0\n",
                       "test.conf:17: [chain execution] quorum: 0 is out of range (1 to 16)");
}

static void duplicate_asset(void **state)
{
        (void)state;
        expect_problem(VALID "[asset SIGIL]\n",
                       "test.conf:17: duplicate asset [asset SIGIL] (first at line 3)");
        expect_problem(VALID "[asset B]\n"
                             "source_token = " A_SIGIL "\n" /* 18 */
                             "bridged_token = " A_OTHER "\n"
                             "decimals = 18\n",
                       "test.conf:18: [asset B] source_token: the same token as [asset SIGIL] "
                       "(line 4)");
}

/* VALID and `n` more assets A1..An with tokens of their own, then `tail`; malloc'd. */
static char *many_assets(size_t n, const char *tail)
{
        size_t cap = strlen(VALID) + n * 160 + strlen(tail) + 1, len, i;
        char *text = malloc(cap);

        assert_non_null(text);
        len = (size_t)snprintf(text, cap, "%s", VALID);
        for (i = 1; i <= n; i++)
                len += (size_t)snprintf(text + len, cap - len,
                                        "[asset A%zu]\nsource_token = 0x5a%038zx\n"
                                        "bridged_token = 0xba%038zx\ndecimals = 18\n",
                                        i, i, i);
        (void)snprintf(text + len, cap - len, "%s", tail);
        return text;
}

/* Ten thousand assets load; a duplicate among them is found against the first of its kind. */
static void ten_thousand_assets(void **state)
{
        char *text = many_assets(10000, "");
        struct load l = load_text(text);

        (void)state;
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_int_equal(l.cfg->nassets, 10001);
        assert_string_equal(l.cfg->assets[10000].name, "A10000");
        load_free(&l);
        free(text);
        /* VALID has 16 lines, each asset 4: A5000 starts at line 16 + 4 * 4999 + 1 */
        text = many_assets(10000, "[asset A5000]\n");
        l = load_text(text);
        assert_null(l.cfg);
        assert_string_equal(l.problems, "test.conf:40017: duplicate asset [asset A5000] (first at "
                                        "line 20013)\n");
        load_free(&l);
        free(text);
        text = many_assets(10000, "[asset Z]\nsource_token = 0x5a00000000000000000000000000000000"
                                  "001f40\nbridged_token = " A_OTHER "\ndecimals = 18\n");
        l = load_text(text);
        assert_null(l.cfg);
        assert_string_equal(l.problems, "test.conf:40018: [asset Z] source_token: the same token "
                                        "as [asset A8000] (line 32014)\n");
        load_free(&l);
        free(text);
}

static void asset_names(void **state)
{
        char text[2048];
        char name[80];
        struct load l;

        (void)state;
        /* 63 characters is the longest name (libinih alone would cut it at 43) */
        memset(name, 'N', 63);
        name[63] = '\0';
        (void)snprintf(text, sizeof text,
                       SOURCE EXEC
                       "[database]\nurl = postgres://h/db\n[relayer]\naccounts = " A_RELAYER
                       "\n[asset %s]\nsource_token = " A_SIGIL "\nbridged_token = " A_BSIGIL
                       "\ndecimals = 1\n",
                       name);
        l = load_text(text);
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_string_equal(l.cfg->assets[0].name, name);
        load_free(&l);

        memset(name, 'N', 64);
        name[64] = '\0';
        (void)snprintf(text, sizeof text, VALID "[asset %s]\n", name);
        expect_problem(text, "test.conf:17: asset name "
                             "'NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN...' is longer than "
                             "63 characters");
        expect_problem(VALID "[asset S/G]\n", "test.conf:17: asset name 'S/G' may only hold "
                                              "letters, digits and the characters ._:-");
        expect_problem(VALID "[asset A B]\n",
                       "test.conf:17: section name 'A B' contains whitespace");
}

static void missing_chain(void **state)
{
        (void)state;
        /* a missing section is reported at the end of the file */
        expect_problem(BASE SOURCE, "test.conf:13: missing section [chain execution] (with "
                                    "chain_id and endpoints)");
        expect_problem(BASE EXEC "; the end\n",
                       "test.conf:12: missing section [chain source] (with chain_id and "
                       "endpoints, lockbox and root_registry)");
        expect_problem(SOURCE EXEC "[asset S]\nsource_token = " A_SIGIL
                                   "\nbridged_token = " A_BSIGIL "\ndecimals = 0\n",
                       "test.conf:12: missing section [database] (with url)");
        expect_problem(SOURCE EXEC, "test.conf:8: no [asset NAME] section: name at least one "
                                    "asset the bridge carries");
        expect_problem("", "test.conf:1: missing section [relayer] (with accounts: the relayer's "
                           "addresses)");
}

static void quorum_above_endpoints(void **state)
{
        (void)state;
        expect_problem(VALID "quorum = 2\n", "test.conf:17: [chain execution] quorum: 2 is more "
                                             "than the 1 endpoint configured");
        expect_problem(VALID "[chain source]\n", "test.conf:17: section [chain source] appears "
                                                 "again (first at line 9): keep one");
        expect_problem(BASE "[chain source]\nchain_id = 31337\n"
                            "quorum = 3\n" /* 11 */
                            "endpoints = http://127.0.0.1:1, http://127.0.0.1:2\n"
                            "lockbox = " A_LOCKBOX "\nroot_registry = " A_REGISTRY "\n" EXEC,
                       "test.conf:11: [chain source] quorum: 3 is more than the 2 endpoints "
                       "configured");
}

/* multicall3: the standard address by default, another address, or off. */
static void multicall3_key(void **state)
{
        static const uint8_t standard[20] = {0xca, 0x11, 0xbd, 0xe0, 0x59, 0x77, 0xb3,
                                             0x63, 0x11, 0x67, 0x02, 0x88, 0x62, 0xbe,
                                             0x2a, 0x17, 0x39, 0x76, 0xca, 0x11};
        static const uint8_t off[20];
        struct load l;

        (void)state;
        l = load_text(VALID);
        assert_non_null(l.cfg);
        assert_memory_equal(l.cfg->chains[SNAP_SOURCE].multicall3, standard, 20);
        assert_memory_equal(l.cfg->chains[SNAP_EXECUTION].multicall3, standard, 20);
        load_free(&l);
        l = load_text(VALID "multicall3 = off\n");
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_memory_equal(l.cfg->chains[SNAP_EXECUTION].multicall3, off, 20);
        assert_memory_equal(l.cfg->chains[SNAP_SOURCE].multicall3, standard, 20);
        load_free(&l);
        l = load_text(VALID "multicall3 = " A_LOCKBOX "\n");
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_memory_equal(l.cfg->chains[SNAP_EXECUTION].multicall3,
                            l.cfg->chains[SNAP_SOURCE].lockbox, 20);
        load_free(&l);
        expect_problem(VALID "multicall3 = no\n",
                       "test.conf:17: [chain execution] multicall3: 'no' is neither an address "
                       "(0x and 40 hex digits) nor off");
        expect_problem(VALID "multicall3 = 0x0000000000000000000000000000000000000000\n",
                       "test.conf:17: [chain execution] multicall3 is the zero address");
}

/* hedge_ms: 0 (automatic) or 10 to 2000, per chain. */
static void hedge_ms_bounds(void **state)
{
        static const struct {
                const char *value;
                uint64_t want;
        } good[] = {{"0", 0}, {"10", 10}, {"250", 250}, {"2000", 2000}};
        size_t i;

        (void)state;
        for (i = 0; i < sizeof good / sizeof good[0]; i++) {
                char text[1024];
                struct load l;

                (void)snprintf(text, sizeof text, "%shedge_ms = %s\n", VALID, good[i].value);
                l = load_text(text);
                assert_string_equal(l.problems, "");
                assert_non_null(l.cfg);
                assert_int_equal(l.cfg->chains[SNAP_EXECUTION].hedge_ms, good[i].want);
                assert_int_equal(l.cfg->chains[SNAP_SOURCE].hedge_ms, 0);
                load_free(&l);
        }
        expect_problem(VALID "hedge_ms = 5\n", "test.conf:17: [chain execution] hedge_ms: 5 is out "
                                               "of range (0 for automatic, or 10 to 2000)");
        expect_problem(VALID "hedge_ms = 1\n", "test.conf:17: [chain execution] hedge_ms: 1 is out "
                                               "of range (0 for automatic, or 10 to 2000)");
        expect_problem(
                VALID "hedge_ms = 2001\n",
                "test.conf:17: [chain execution] hedge_ms: 2001 is out of range (0 to 2000)");
        expect_problem(VALID "hedge_ms = fast\n",
                       "test.conf:17: [chain execution] hedge_ms: 'fast' is not a decimal number");
        expect_problem(VALID "hedge_ms = -1\n",
                       "test.conf:17: [chain execution] hedge_ms: '-1' is not a decimal number");
        /* In [chain source] too, reported at its own line. */
        expect_problem(BASE "[chain source]\nchain_id = 31337\n"
                            "hedge_ms = 9\n" /* 11 */
                            "endpoints = http://127.0.0.1:1\n"
                            "lockbox = " A_LOCKBOX "\nroot_registry = " A_REGISTRY "\n" EXEC,
                       "test.conf:11: [chain source] hedge_ms: 9 is out of range (0 for "
                       "automatic, or 10 to 2000)");
}

static void unset_env_var(void **state)
{
        (void)state;
        unsetenv("RELAYWATCH_TEST_UNSET");
        expect_problem(VALID "[redis]\nurl = redis://:${RELAYWATCH_TEST_UNSET}@127.0.0.1:6379\n",
                       "test.conf:18: [redis] url: environment variable RELAYWATCH_TEST_UNSET is "
                       "not set");
        expect_problem(VALID "[watchdog]\nid = ${RELAYWATCH_TEST_UNSET\n",
                       "test.conf:18: [watchdog] id: '${' without a closing '}'");
        expect_problem(VALID "[watchdog]\nid = ${1ABC}\n",
                       "test.conf:18: [watchdog] id: malformed ${...}: a variable name is 1 to "
                       "128 letters, digits and '_', not starting with a digit");
}

static void bad_url_scheme(void **state)
{
        (void)state;
        expect_problem(BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                                   "endpoints = http://127.0.0.1:8546, ws://127.0.0.1:8546\n",
                       "test.conf:16: [chain execution] endpoints: endpoint 2 is not an http:// "
                       "or https:// URL (the value is not shown: it may hold an API key)");
        expect_problem(BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                                   "endpoints = http://127.0.0.1:8546,\n",
                       "test.conf:16: [chain execution] endpoints: endpoint 2 is empty");
        expect_problem(BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                                   "endpoints = https://a.example/k, https://a.example/k\n",
                       "test.conf:16: [chain execution] endpoints: endpoint 2 repeats endpoint 1");
        expect_problem(VALID "[redis]\nurl = http://127.0.0.1:6379\n",
                       "test.conf:18: [redis] url is not a redis://, rediss:// or unix:// URL "
                       "(the value is not shown: it may hold a password)");
        expect_problem(VALID "[watchdog]\nstate_dir = var/lib\n",
                       "test.conf:18: [watchdog] state_dir: 'var/lib' is not an absolute path");
}

static void other_problems(void **state)
{
        (void)state;
        expect_problem(VALID "just some words\n",
                       "test.conf:17: expected 'key = value', a [section] or a comment");
        expect_problem(VALID "= 5\n", "test.conf:17: a value without a key before its '='");
        expect_problem(VALID "endpoints = http://127.0.0.1:1\n",
                       "test.conf:17: [chain execution] endpoints is given twice (first at line "
                       "16)");
        expect_problem(BASE SOURCE "[chain execution]\nchain_id = 31337\n" /* 15 */
                                   "endpoints = http://127.0.0.1:8546\n",
                       "test.conf:15: [chain execution] chain_id: 31337 is also the source "
                       "chain's (line 10): the two chains must differ");
        expect_problem(VALID "[thresholds] extra\n",
                       "test.conf:17: unexpected text 'extra' after the section header");
        expect_problem(VALID "[watchdog]\nid = has space\n",
                       "test.conf:18: [watchdog] id: 'has space' may only hold letters, digits "
                       "and the characters ._:-");
}

static void several_problems_in_one_load(void **state)
{
        struct load l = load_text(BASE "[chain source]\n" /* 9 */
                                       "chain_id = abc\n" /* 10 */
                                       "endpoints = http://127.0.0.1:8545\n"
                                       "lockbox = 0x12\n" /* 12 */
                                       "[nonsense]\n"     /* 13 */
                                       "x = 1\n"
                                       "[thresholds]\n"
                                       "nonce_gap = 99999999\n"); /* 16 */

        (void)state;
        assert_null(l.cfg);
        assert_string_equal(
                l.problems,
                "test.conf:9: [chain source] is missing root_registry (required)\n"
                "test.conf:10: [chain source] chain_id: 'abc' is not a decimal number\n"
                "test.conf:12: [chain source] lockbox: '0x12' is not an address (0x and 40 hex "
                "digits)\n"
                "test.conf:13: unknown section [nonsense]; expected [watchdog], [database], "
                "[redis], [chain source], [chain execution], [asset NAME], [relayer], "
                "[thresholds], [invariant NAME], [stream NAME], [control], [alerting], [audit], "
                "[http] or "
                "[alert "
                "NAME]\n"
                "test.conf:16: [thresholds] nonce_gap: 99999999 is out of range (0 to 1000000)\n"
                "test.conf:16: missing section [chain execution] (with chain_id and endpoints)\n");
        assert_string_equal(l.err.msg, "test.conf: 6 problems, configuration refused");
        load_free(&l);
}

static void summary_without_a_problem_stream(void **state)
{
        struct rwerr err;
        static const char text[] = VALID "quorum = 9\n";
        struct config *c = config_load_string(text, strlen(text), "x.conf", NULL, &err);

        (void)state;
        assert_null(c);
        assert_string_equal(err.msg, "x.conf: 1 problem, configuration refused; the first: "
                                     "x.conf:17: [chain execution] quorum: 9 is more than the 1 "
                                     "endpoint configured");
}

static void many_problems_are_capped(void **state)
{
        size_t cap = (size_t)200 * 16 + sizeof VALID, n = 0, i;
        char *text = malloc(cap);
        struct load l;

        (void)state;
        assert_non_null(text);
        n += (size_t)snprintf(text, cap, "%s", VALID);
        for (i = 0; i < 150; i++)
                n += (size_t)snprintf(text + n, cap - n, "bogus%zu = 1\n", i);
        l = load_text(text);
        assert_null(l.cfg);
        assert_int_equal(count_lines(l.problems), 101);
        assert_true(has_line(l.problems, "test.conf:166: ... and 50 more problems not listed"));
        assert_string_equal(l.err.msg, "test.conf: 150 problems, configuration refused");
        load_free(&l);
        free(text);
}

/* ---------------------------------------------------------- values */

static void env_expansion(void **state)
{
        struct load l;

        (void)state;
        assert_int_equal(setenv("RW_TEST_PGPASS", "s3cr=t;x", 1), 0);
        assert_int_equal(setenv("RW_TEST_HOST", "db.internal", 1), 0);
        assert_int_equal(setenv("RW_TEST_KEY", "abc123", 1), 0);
        assert_int_equal(setenv("RW_TEST_DECIMALS", "6", 1), 0);
        l = load_text(SOURCE "[chain execution]\nchain_id = 31338\n"
                             "endpoints = https://x.example/v2/${RW_TEST_KEY}, "
                             "https://y.example/${RW_TEST_KEY}/${RW_TEST_KEY}\n"
                             "[database]\n"
                             "url = postgres://rw:${RW_TEST_PGPASS}@${RW_TEST_HOST}:5432/db\n"
                             "[asset S]\nsource_token = " A_SIGIL "\n"
                             "bridged_token = " A_BSIGIL "\ndecimals = ${RW_TEST_DECIMALS}\n"
                             "[relayer]\naccounts = " A_RELAYER "\n"
                             "[watchdog]\nstate_dir = /srv/cost$5/${RW_TEST_HOST}$\n");
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_string_equal(l.cfg->database_url, "postgres://rw:s3cr=t;x@db.internal:5432/db");
        assert_string_equal(l.cfg->chains[SNAP_EXECUTION].endpoints[0],
                            "https://x.example/v2/abc123");
        assert_string_equal(l.cfg->chains[SNAP_EXECUTION].endpoints[1],
                            "https://y.example/abc123/abc123");
        assert_int_equal(l.cfg->assets[0].decimals, 6);
        u256_is(&l.cfg->assets[0].tolerance, "1000");
        assert_string_equal(l.cfg->state_dir, "/srv/cost$5/db.internal$");
        load_free(&l);
        /* a lone '$' stays what it is */
        expect_problem(VALID "[watchdog]\nid = a$b c\n",
                       "test.conf:18: [watchdog] id: 'a$b c' may only hold letters, digits and "
                       "the characters ._:-");
        unsetenv("RW_TEST_PGPASS");
        unsetenv("RW_TEST_HOST");
        unsetenv("RW_TEST_KEY");
        unsetenv("RW_TEST_DECIMALS");
}

static void secrets_never_in_problems(void **state)
{
        static const char *const texts[] = {
                VALID "[redis]\nurl = http://:SECRET@127.0.0.1:6379\n",
                VALID "[redis]\nurl = SECRET\n",
                BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                            "endpoints = ftp://user:SECRET@host\n",
                BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                            "endpoints = https://SECRET host/\n",
                BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                            "endpoints = https://[SECRET/\n",
                BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                            "endpoints = https://h/SECRET/${RELAYWATCH_TEST_UNSET}\n",
                BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                            "endpoints = https://h/SECRET/${bad name}\n",
                BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                            "endpoints = https://h/SECRET, https://h/SECRET\n",
                SOURCE EXEC "[database]\nurl = host=h password=SECRET sslmode\n",
                SOURCE EXEC "[database]\nurl = postgres://u:SECRET@h:notaport/db ${\n",
                VALID "postgres://u:SECRET@host/db\n",
                VALID "password SECRET\n",
                VALID "[database]\nurl = postgres://u:SECRET@h/db\n",
        };
        size_t i;

        (void)state;
        unsetenv("RELAYWATCH_TEST_UNSET");
        for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
                struct load l = load_text(texts[i]);

                assert_null(l.cfg);
                assert_true(strlen(l.problems) > 0);
                if (strstr(l.problems, "SECRET") != NULL)
                        print_error("text %zu leaks a secret:\n%s", i, l.problems);
                assert_null(strstr(l.problems, "SECRET"));
                assert_null(strstr(l.err.msg, "SECRET"));
                load_free(&l);
        }
}

static void layout_of_the_file(void **state)
{
        char text[4096], endpoints[2048];
        size_t n = 0, i;
        struct load l;

        (void)state;
        /* indented keys, comments, inline comments, CRLF, a byte order mark */
        l = load_text("\xEF\xBB\xBF# relaywatch\r\n" BASE "[chain source]   ; the L1\r\n"
                      "    chain_id = 31337    ; mainnet fork\r\n"
                      "\tendpoints = http://127.0.0.1:8545\r\n"
                      "    lockbox: " A_LOCKBOX "\r\n"
                      "    root_registry = " A_REGISTRY "\r\n" EXEC);
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_int_equal(l.cfg->chains[SNAP_SOURCE].chain_id, 31337);
        load_free(&l);

        /* a line far longer than libinih's 200-byte default; line numbers stay right */
        for (i = 0; i < 16; i++)
                n += (size_t)snprintf(endpoints + n, sizeof endpoints - n,
                                      "%shttps://provider-%zu.example.com/v2/abcdefghijklmnopqrst",
                                      i > 0 ? ", " : "", i);
        assert_true(n > 800);
        (void)snprintf(text, sizeof text,
                       BASE SOURCE "[chain execution]\nchain_id = 31338\nendpoints = %s\n"
                                   "quorum = 17\n",
                       endpoints);
        l = load_text(text);
        assert_null(l.cfg);
        assert_string_equal(l.problems, "test.conf:17: [chain execution] quorum: 17 is out of "
                                        "range (1 to 16)\n");
        load_free(&l);
        (void)snprintf(text, sizeof text,
                       BASE SOURCE "[chain execution]\nchain_id = 31338\nendpoints = %s\n",
                       endpoints);
        l = load_text(text);
        assert_non_null(l.cfg);
        assert_int_equal(l.cfg->chains[SNAP_EXECUTION].nendpoints, 16);
        assert_string_equal(l.cfg->chains[SNAP_EXECUTION].endpoints[15],
                            "https://provider-15.example.com/v2/abcdefghijklmnopqrst");
        load_free(&l);
        (void)snprintf(text, sizeof text,
                       BASE SOURCE "[chain execution]\nchain_id = 31338\nendpoints = %s, "
                                   "http://x\n",
                       endpoints);
        expect_problem(text, "test.conf:16: [chain execution] endpoints: more than 16 endpoints");

        /* NUL bytes and over-long lines are problems of their own */
        {
                static const char with_nul[] = VALID "[watchdog]\nid = a\0b\n";
                struct rwerr err;
                FILE *f;
                char *out;
                size_t len;
                struct config *c;

                f = open_memstream(&out, &len);
                assert_non_null(f);
                c = config_load_string(with_nul, sizeof with_nul - 1, "test.conf", f, &err);
                fclose(f);
                assert_null(c);
                assert_string_equal(out, "test.conf:18: line contains a NUL byte\n");
                free(out);
        }
        {
                size_t big = 9000;
                char *long_text = malloc(sizeof VALID + big + 16);

                assert_non_null(long_text);
                memcpy(long_text, VALID, sizeof VALID - 1);
                long_text[sizeof VALID - 1] = ';';
                long_text[sizeof VALID] = ' ';
                memset(long_text + sizeof VALID + 1, 'x', big);
                memcpy(long_text + sizeof VALID + 1 + big, "\nquorum = 5\n", 13);
                expect_problem(long_text, "test.conf:17: line is longer than 8192 characters");
                expect_problem(long_text, "test.conf:18: [chain execution] quorum: 5 is more than "
                                          "the 1 endpoint configured");
                free(long_text);
        }
}

/* ---------------------------------------------------------- files and the command */

/* Writes `text` to a new temporary file; its path goes into `path`. */
static void write_temp(const char *text, char path[64])
{
        int fd;
        size_t len = strlen(text);

        (void)snprintf(path, 64, "/tmp/relaywatch-test-config-XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
}

static void load_from_file(void **state)
{
        char path[64], want[160];
        struct rwerr err;
        struct config *c;
        FILE *f;
        char *out;
        size_t len;

        (void)state;
        write_temp(VALID, path);
        c = config_load(path, NULL, &err);
        assert_non_null(c);
        assert_string_equal(c->path, path);
        config_free(c);
        unlink(path);

        write_temp(VALID "confirmations = many\n", path);
        f = open_memstream(&out, &len);
        assert_non_null(f);
        c = config_load(path, f, &err);
        fclose(f);
        assert_null(c);
        (void)snprintf(want, sizeof want,
                       "%s:17: [chain execution] confirmations: 'many' is not a decimal number\n",
                       path);
        assert_string_equal(out, want);
        free(out);
        unlink(path);

        assert_null(config_load(path, NULL, &err));
        (void)snprintf(want, sizeof want, "cannot open %s: No such file or directory", path);
        assert_string_equal(err.msg, want);
}

static void config_path_order(void **state)
{
        (void)state;
        assert_int_equal(setenv("RELAYWATCH_CONFIG", "/from/env.conf", 1), 0);
        assert_string_equal(config_path("/given.conf"), "/given.conf");
        assert_string_equal(config_path(NULL), "/from/env.conf");
        assert_int_equal(setenv("RELAYWATCH_CONFIG", "", 1), 0);
        assert_string_equal(config_path(NULL), "/etc/relaywatch/relaywatch.conf");
        unsetenv("RELAYWATCH_CONFIG");
        assert_string_equal(config_path(NULL), CONFIG_DEFAULT_PATH);
}

static void check_config_command(void **state)
{
        char path[64], want[200];
        struct cli_run r;

        (void)state;
        write_temp(BASE SOURCE "[chain execution]\nchain_id = 31338\n"
                               "endpoints = https://a.example/v2/APIKEY1, https://b.example/K2\n"
                               "[redis]\nurl = redis://:REDISPW@127.0.0.1:6379/0\n"
                               "[invariant NONCE_DESYNC]\nmode = shadow\n",
                   path);
        {
                char *argv[] = {"relaywatch", "check-config", "-c", path};

                r = cli_run(4, argv);
        }
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_string_equal(r.err, "");
        (void)snprintf(want, sizeof want, "%s: configuration OK", path);
        assert_true(has_line(r.out, want));
        assert_true(has_line(r.out, "chain source: chain id 31337, 1 endpoint, quorum 1, "
                                    "confirmations 0, deploy block 0, log_chunk_blocks 2000, "
                                    "timeout_ms 10000, hedge_ms auto"));
        assert_true(has_line(r.out, "chain execution: chain id 31338, 2 endpoints, quorum 2, "
                                    "confirmations 0, deploy block 0, log_chunk_blocks 2000, "
                                    "timeout_ms 10000, hedge_ms auto"));
        assert_true(has_line(r.out, "asset SIGIL: decimals 18, tolerance 0.001 SIGIL, "
                                    "source_token " A_SIGIL ", bridged_token " A_BSIGIL));
        assert_true(has_line(r.out, "relayer: 1 account: " A_RELAYER "; signers: " A_RELAYER));
        assert_true(has_line(r.out, "invariants: NONCE_DESYNC shadow, every other check enforce"));
        assert_true(has_line(r.out, "database: postgres://rw@127.0.0.1:5432/bridge (password "
                                    "not shown), statement_timeout_ms 5000, failure_threshold 5"));
        assert_true(has_line(r.out, "redis: configured (URL not shown)"));
        assert_null(strstr(r.out, "APIKEY1"));
        assert_null(strstr(r.out, "K2"));
        assert_null(strstr(r.out, "REDISPW"));
        assert_null(strstr(r.out, "http"));
        cli_run_free(&r);

        /* the same file through $RELAYWATCH_CONFIG */
        assert_int_equal(setenv("RELAYWATCH_CONFIG", path, 1), 0);
        {
                char *argv[] = {"relaywatch", "check-config"};

                r = cli_run(2, argv);
        }
        unsetenv("RELAYWATCH_CONFIG");
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_true(has_line(r.out, want));
        cli_run_free(&r);
        unlink(path);

        /* problems: listed on errout, exit 1, nothing on out */
        write_temp(VALID "quorum = 2\n[bogus]\n", path);
        {
                char *argv[] = {"relaywatch", "check-config", "--config", path};

                r = cli_run(4, argv);
        }
        assert_int_equal(r.code, CLI_EXIT_FAILURE);
        assert_string_equal(r.out, "");
        (void)snprintf(want, sizeof want,
                       "%s:17: [chain execution] quorum: 2 is more than the 1 endpoint configured",
                       path);
        assert_true(has_line(r.err, want));
        (void)snprintf(want, sizeof want,
                       "relaywatch check-config: %s: 2 problems, configuration "
                       "refused",
                       path);
        assert_true(has_line(r.err, want));
        assert_int_equal(count_lines(r.err), 3);
        cli_run_free(&r);
        unlink(path);

        /* a file that is not there */
        {
                char *argv[] = {"relaywatch", "check-config", "-c", path};

                r = cli_run(4, argv);
        }
        assert_int_equal(r.code, CLI_EXIT_FAILURE);
        (void)snprintf(want, sizeof want,
                       "relaywatch check-config: cannot open %s: No such file or directory", path);
        assert_true(has_line(r.err, want));
        cli_run_free(&r);
}

static void check_config_usage(void **state)
{
        char *missing[] = {"relaywatch", "check-config", "-c"};
        char *extra[] = {"relaywatch", "check-config", "now"};
        char *twice[] = {"relaywatch", "check-config", "-c", "a", "-c", "b"};
        char *help[] = {"relaywatch", "check-config", "--help"};
        struct cli_run r;

        (void)state;
        r = cli_run(3, missing);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "relaywatch check-config: -c needs a FILE\n"));
        assert_non_null(strstr(r.err, "Usage: relaywatch check-config [-c FILE]"));
        cli_run_free(&r);
        r = cli_run(3, extra);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "unexpected argument 'now'"));
        cli_run_free(&r);
        r = cli_run(6, twice);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "-c: the file is given twice"));
        cli_run_free(&r);
        r = cli_run(3, help);
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_non_null(strstr(r.out, "Usage: relaywatch check-config [-c FILE]"));
        cli_run_free(&r);
}

/* ---------------------------------------------------------- supervisor and [control] */

static void run_and_control_defaults(void **state)
{
        struct load l = load_text(VALID);
        const struct config *c = l.cfg;

        (void)state;
        assert_non_null(c);
        assert_int_equal(c->run_mode, CONFIG_RUN_INTERVAL);
        assert_int_equal(c->interval_ms, 5000);
        assert_int_equal(c->poll_ms, 100);
        assert_int_equal(c->full_sweep_s, 300);
        assert_int_equal(c->page_batches, 256);
        assert_int_equal(c->blind_limit_ms, 60000);
        assert_false(c->control_present);
        assert_string_equal(c->control_stream, "relayer:control");
        assert_string_equal(c->halt_key, "relayer:halt");
        assert_string_equal(c->heartbeat_key, "relayer:watchdog:heartbeat");
        assert_int_equal(c->nconsumer_groups, 1);
        assert_string_equal(c->consumer_groups[0], "relayer");
        assert_null(c->signing_key);
        assert_int_equal(c->nwatchdog_pubkeys, 0);
        assert_int_equal(c->heartbeat_ttl_ms, 30000);
        assert_int_equal(c->ack_timeout_ms, 10000);
        assert_int_equal(c->consumer_idle_ms, 30000);
        assert_int_equal(c->redis_timeout_ms, 1000);
        load_free(&l);
}

static void control_section(void **state)
{
        struct load l = load_text(
                VALID "[watchdog]\n"
                      "mode = block\n"
                      "poll_ms = 50\n"
                      "interval_ms = 2000\n"
                      "full_sweep_s = 0\n"
                      "page_batches = 1\n"
                      "[redis]\n"
                      "url = redis://127.0.0.1:6379/0\n"
                      "[control]\n"
                      "stream = bridge:control\n"
                      "signing_key = /etc/relaywatch/watchdog.key\n"
                      "operator_keys = /etc/relaywatch/alice.pub, /etc/relaywatch/bob.pub\n"
                      "ack_timeout_ms = 2500\n");
        const struct config *c = l.cfg;

        (void)state;
        assert_string_equal(l.problems, "");
        assert_non_null(c);
        assert_int_equal(c->run_mode, CONFIG_RUN_BLOCK);
        assert_int_equal(c->poll_ms, 50);
        assert_int_equal(c->interval_ms, 2000);
        assert_int_equal(c->full_sweep_s, 0);
        assert_int_equal(c->page_batches, 1);
        assert_true(c->control_present);
        assert_string_equal(c->control_stream, "bridge:control");
        assert_string_equal(c->signing_key, "/etc/relaywatch/watchdog.key");
        /* the watchdog's public key defaults to the signing key's .pub */
        assert_int_equal(c->nwatchdog_pubkeys, 1);
        assert_string_equal(c->watchdog_pubkeys[0], "/etc/relaywatch/watchdog.key.pub");
        assert_int_equal(c->noperator_pubkeys, 2);
        assert_string_equal(c->operator_pubkeys[0], "/etc/relaywatch/alice.pub");
        assert_string_equal(c->operator_pubkeys[1], "/etc/relaywatch/bob.pub");
        assert_int_equal(c->ack_timeout_ms, 2500);
        load_free(&l);
}

static void control_problems(void **state)
{
        (void)state;
        /* lines 17-18 */
        expect_problem(
                VALID "[control]\nsigning_key = /k\n",
                "test.conf:17: [control] needs [redis] url: halts are published on a Redis stream");
        expect_problem(
                VALID "[redis]\nurl = redis://127.0.0.1/0\n[control]\n"
                      "operator_keys = /a.pub, keys/b.pub\n",
                "test.conf:20: [control] operator_keys: 'keys/b.pub' is not an absolute path");
        expect_problem(VALID "[watchdog]\nmode = sometimes\n",
                       "test.conf:18: [watchdog] mode: 'sometimes' is not a run mode (interval: "
                       "every interval_ms; block: every new block of either chain)");
        expect_problem(VALID "[watchdog]\npoll_ms = 5\n",
                       "test.conf:18: [watchdog] poll_ms: 5 is out of range (10 to 60000)");
        expect_problem(VALID "[redis]\nurl = redis://127.0.0.1/0\n[control]\nstream = a b\n",
                       "test.conf:20: [control] stream: 'a b' may only hold letters, digits and "
                       "the characters ._:-");
        expect_problem(VALID "[redis]\nurl = redis://127.0.0.1/0\n[control]\n"
                             "consumer_group = relayer-a, relayer-a\n",
                       "test.conf:20: [control] consumer_group group 2 repeats group 1");
        expect_problem(VALID "[redis]\nurl = redis://127.0.0.1/0\n[control]\n"
                             "consumer_group = relayer-a, relayer b\n",
                       "test.conf:20: [control] consumer_group group 2: 'relayer b' is not a "
                       "group name (1 to 200 letters, digits and the characters ._:-)");
}

static void control_groups_are_a_list(void **state)
{
        struct load l = load_text(VALID "[redis]\nurl = redis://127.0.0.1/0\n[control]\n"
                                        "consumer_group = relayer-a, relayer-b\n");

        (void)state;
        assert_non_null(l.cfg);
        assert_int_equal(l.cfg->nconsumer_groups, 2);
        assert_string_equal(l.cfg->consumer_groups[0], "relayer-a");
        assert_string_equal(l.cfg->consumer_groups[1], "relayer-b");
        load_free(&l);
}

/* ---------------------------------------------------------- [alerting] and [alert NAME] */

#define PD_KEY "abcdefghijklmnopqrstuvwxyz012345" /* 32 letters and digits */
#define SEV(s) (1u << (s))
#define SEV_CRIT SEV(FINDING_CRITICAL)
#define SEV_ERR SEV(FINDING_ERROR)
#define SEV_WARN SEV(FINDING_WARNING)
#define SEV_INFO SEV(FINDING_INFO)

static const struct config_alert_route *route_named(const struct config *c, const char *name)
{
        size_t i;

        for (i = 0; i < c->nroutes; i++) {
                if (strcmp(c->routes[i].name, name) == 0)
                        return &c->routes[i];
        }
        fail_msg("no route %s", name);
        return NULL;
}

static void alerting_defaults(void **state)
{
        struct load l = load_text(VALID);
        const struct config *c = l.cfg;

        (void)state;
        assert_string_equal(l.problems, "");
        assert_non_null(c);
        assert_int_equal(c->flap_window_s, 300);
        assert_int_equal(c->repage_s, 900);
        assert_int_equal(c->spool_retry_s, 60);
        assert_string_equal(c->runbook_url, "file:///usr/local/share/doc/relaywatch/runbooks/");
        assert_non_null(c->alert_source);
        assert_string_equal(c->alert_source, c->watchdog_id); /* the host name */
        assert_int_equal(c->report_minute, 8 * 60);
        assert_string_equal(c->claim_prefix, "relayer:control:alert:");
        assert_int_equal(c->nroutes, 0);
        assert_null(c->routes);
        load_free(&l);

        /* the source follows the watchdog id, the claims its control stream */
        l = load_text(VALID "[watchdog]\nid = wd-eu-2\n[redis]\nurl = redis://127.0.0.1/0\n"
                            "[control]\nstream = bridge:ctl\n[alerting]\nrepage_s = 60\n");
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_string_equal(l.cfg->alert_source, "wd-eu-2");
        assert_string_equal(l.cfg->claim_prefix, "bridge:ctl:alert:");
        assert_int_equal(l.cfg->repage_s, 60);
        assert_int_equal(l.cfg->flap_window_s, 300);
        load_free(&l);
}

static void alerting_every_key(void **state)
{
        struct load l;
        const struct config *c;
        const struct config_alert_route *r;

        (void)state;
        l = load_text(VALID "[alerting]\n"
                            "flap_window_s = 0\n"
                            "repage_s = 86400\n"
                            "spool_retry_s = 5\n"
                            "runbook_url = https://wiki.example/ops/runbooks\n"
                            "source = bridge-eu.watchdog-1\n"
                            "report_at = 23:59\n"
                            "claim_prefix = rw:claims:\n"
                            "[alert oncall]\n"
                            "type = pagerduty\n"
                            "routing_key = " PD_KEY "\n"
                            "url = https://events.eu.pagerduty.com\n"
                            "severities = critical, Error\n"
                            "min_interval_ms = 250\n"
                            "timeout_ms = 100\n"
                            "max_attempts = 100\n"
                            "[alert team-slack]\n"
                            "type = slack\n"
                            "url = https://hooks.slack.com/services/T0/B0/x\n"
                            "severities = WARNING\n"
                            "min_interval_ms = 3600000\n"
                            "timeout_ms = 120000\n"
                            "max_attempts = 1\n"
                            "[alert mail]\n"
                            "type = email\n"
                            "url = smtps://mail.example:465\n"
                            "mail_from = relaywatch@bridge.example\n"
                            "mail_to = ops@bridge.example , oncall+bridge@corp.example\n"
                            "username = relaywatch\n"
                            "password = pw-of-the-mailbox\n"
                            "severities = INFO\n"
                            "[alert hook]\n"
                            "type = webhook\n"
                            "url = http://127.0.0.1:9000/relaywatch\n"
                            "secret = 0123456789abcdef\n"
                            "[alert am]\n"
                            "type = alertmanager\n"
                            "url = http://[::1]:9093\n"
                            "resend_s = 3600\n"
                            "severities = CRITICAL,ERROR,WARNING\n");
        c = l.cfg;
        assert_string_equal(l.problems, "");
        assert_non_null(c);
        assert_int_equal(c->flap_window_s, 0);
        assert_int_equal(c->repage_s, 86400);
        assert_int_equal(c->spool_retry_s, 5);
        assert_string_equal(c->runbook_url, "https://wiki.example/ops/runbooks/"); /* '/' added */
        assert_string_equal(c->alert_source, "bridge-eu.watchdog-1");
        assert_int_equal(c->report_minute, 23 * 60 + 59);
        assert_string_equal(c->claim_prefix, "rw:claims:");
        assert_int_equal(c->nroutes, 5);

        r = route_named(c, "oncall");
        assert_int_equal(r->type, RECEIVER_PAGERDUTY);
        assert_int_equal(r->line, 25);
        assert_string_equal(r->routing_key, PD_KEY);
        assert_string_equal(r->url, "https://events.eu.pagerduty.com");
        assert_int_equal(r->severities, SEV_CRIT | SEV_ERR);
        assert_int_equal(r->min_interval_ms, 250);
        assert_int_equal(r->timeout_ms, 100);
        assert_int_equal(r->max_attempts, 100);

        r = route_named(c, "team-slack");
        assert_int_equal(r->type, RECEIVER_SLACK);
        assert_string_equal(r->url, "https://hooks.slack.com/services/T0/B0/x");
        assert_int_equal(r->severities, SEV_WARN);
        assert_int_equal(r->min_interval_ms, 3600000);
        assert_int_equal(r->timeout_ms, 120000);
        assert_int_equal(r->max_attempts, 1);

        r = route_named(c, "mail");
        assert_int_equal(r->type, RECEIVER_EMAIL);
        assert_string_equal(r->url, "smtps://mail.example:465");
        assert_string_equal(r->mail_from, "relaywatch@bridge.example");
        assert_int_equal(r->nmail_to, 2);
        assert_string_equal(r->mail_to[0], "ops@bridge.example");
        assert_string_equal(r->mail_to[1], "oncall+bridge@corp.example");
        assert_string_equal(r->username, "relaywatch");
        assert_string_equal(r->password, "pw-of-the-mailbox");
        assert_int_equal(r->severities, SEV_INFO);

        r = route_named(c, "hook");
        assert_int_equal(r->type, RECEIVER_WEBHOOK);
        assert_string_equal(r->secret, "0123456789abcdef");
        assert_string_equal(r->url, "http://127.0.0.1:9000/relaywatch");

        r = route_named(c, "am");
        assert_int_equal(r->type, RECEIVER_ALERTMANAGER);
        assert_int_equal(r->resend_s, 3600);
        assert_int_equal(r->severities, SEV_CRIT | SEV_ERR | SEV_WARN);
        load_free(&l);

        /* a runbook base that has its '/' keeps it; file:/// is a base too; 0:05 is 5 */
        l = load_text(VALID "[alerting]\nrunbook_url = file:///srv/runbooks/\nreport_at = 0:05\n");
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_string_equal(l.cfg->runbook_url, "file:///srv/runbooks/");
        assert_int_equal(l.cfg->report_minute, 5);
        load_free(&l);
}

static void route_type_defaults(void **state)
{
        struct load l = load_text(VALID "[alert pd]\ntype = pagerduty\nrouting_key = " PD_KEY "\n"
                                        "[alert sl]\ntype = slack\nurl = https://hooks.example/x\n"
                                        "[alert em]\ntype = email\nurl = smtp://127.0.0.1:2525\n"
                                        "mail_from = a@b.example\nmail_to = c@d.example\n"
                                        "[alert wh]\ntype = webhook\nurl = https://h.example/\n"
                                        "secret = 16-bytes-or-more!\n"
                                        "[alert am]\ntype = alertmanager\n"
                                        "url = https://am.example\n");
        const struct config *c = l.cfg;
        const struct config_alert_route *r;
        size_t i;

        (void)state;
        assert_string_equal(l.problems, "");
        assert_non_null(c);
        assert_int_equal(c->nroutes, 5);
        /* in the order of the file */
        assert_string_equal(c->routes[0].name, "pd");
        assert_string_equal(c->routes[4].name, "am");
        for (i = 0; i < c->nroutes; i++) {
                assert_int_equal(c->routes[i].timeout_ms, 10000);
                assert_int_equal(c->routes[i].max_attempts, 6);
        }
        r = route_named(c, "pd");
        assert_int_equal(r->severities, SEV_CRIT);
        assert_int_equal(r->min_interval_ms, 0);
        assert_null(r->url); /* the Events API's own */
        r = route_named(c, "sl");
        assert_int_equal(r->severities, SEV_CRIT | SEV_ERR | SEV_WARN | SEV_INFO);
        assert_int_equal(r->min_interval_ms, 1000);
        r = route_named(c, "em");
        assert_int_equal(r->severities, SEV_CRIT | SEV_ERR | SEV_INFO);
        assert_int_equal(r->min_interval_ms, 0);
        assert_null(r->username);
        assert_null(r->password);
        r = route_named(c, "wh");
        assert_int_equal(r->severities, SEV_CRIT | SEV_ERR | SEV_WARN);
        assert_int_equal(r->min_interval_ms, 0);
        r = route_named(c, "am");
        assert_int_equal(r->severities, SEV_CRIT | SEV_ERR | SEV_WARN);
        assert_int_equal(r->min_interval_ms, 0);
        assert_int_equal(r->resend_s, 60);
        load_free(&l);

        assert_string_equal(config_receiver_type_name(RECEIVER_PAGERDUTY), "pagerduty");
        assert_string_equal(config_receiver_type_name(RECEIVER_SLACK), "slack");
        assert_string_equal(config_receiver_type_name(RECEIVER_EMAIL), "email");
        assert_string_equal(config_receiver_type_name(RECEIVER_WEBHOOK), "webhook");
        assert_string_equal(config_receiver_type_name(RECEIVER_ALERTMANAGER), "alertmanager");
}

static void alerting_problems(void **state)
{
        (void)state;
        expect_problem(VALID "[alerting]\nflap_window_s = 86401\n",
                       "test.conf:18: [alerting] flap_window_s: 86401 is out of range (0 to "
                       "86400)");
        expect_problem(VALID "[alerting]\nrepage_s = 59\n",
                       "test.conf:18: [alerting] repage_s: 59 is out of range (60 to 86400)");
        expect_problem(VALID "[alerting]\nspool_retry_s = 4\n",
                       "test.conf:18: [alerting] spool_retry_s: 4 is out of range (5 to 86400)");
        expect_problem(VALID "[alerting]\nrunbook_url = ftp://wiki/\n",
                       "test.conf:18: [alerting] runbook_url: 'ftp://wiki/' is not an https://, "
                       "http:// or file:/// URL (the base of the runbook links)");
        expect_problem(VALID "[alerting]\nrunbook_url = file://relative/\n",
                       "test.conf:18: [alerting] runbook_url: 'file://relative/' is not an "
                       "https://, http:// or file:/// URL (the base of the runbook links)");
        expect_problem(VALID "[alerting]\nrunbook_url = https://wiki/run books\n",
                       "test.conf:18: [alerting] runbook_url: 'https://wiki/run books' contains "
                       "whitespace or a control character");
        expect_problem(VALID "[alerting]\nsource = two words\n",
                       "test.conf:18: [alerting] source: 'two words' may only hold letters, "
                       "digits and the characters ._:-");
        expect_problem(VALID "[alerting]\nsource = "
                             "s2345678901234567890123456789012345678901234567890123456789012345\n",
                       "test.conf:18: [alerting] source: "
                       "'s23456789012345678901234567890123456789012345678...' must be 1 to 64 "
                       "characters");
        expect_problem(VALID "[alerting]\nreport_at = 24:00\n",
                       "test.conf:18: [alerting] report_at: '24:00' is not a time of day HH:MM "
                       "(UTC, 00:00 to 23:59)");
        expect_problem(VALID "[alerting]\nreport_at = 8\n",
                       "test.conf:18: [alerting] report_at: '8' is not a time of day HH:MM "
                       "(UTC, 00:00 to 23:59)");
        expect_problem(VALID "[alerting]\nreport_at = 08:60\n",
                       "test.conf:18: [alerting] report_at: '08:60' is not a time of day HH:MM "
                       "(UTC, 00:00 to 23:59)");
        expect_problem(VALID "[alerting]\nreport_at = 8:0\n",
                       "test.conf:18: [alerting] report_at: '8:0' is not a time of day HH:MM "
                       "(UTC, 00:00 to 23:59)");
        expect_problem(VALID "[alerting]\nclaim_prefix = rw claims\n",
                       "test.conf:18: [alerting] claim_prefix: 'rw claims' may only hold "
                       "letters, digits and the characters ._:-");
        expect_problem(VALID "[alerting]\nsilence = 1\n",
                       "test.conf:18: [alerting] unknown key 'silence' (known: flap_window_s, "
                       "repage_s, spool_retry_s, runbook_url, source, report_at, claim_prefix)");
        expect_problem(VALID "[alerting]\n[alerting]\n",
                       "test.conf:18: section [alerting] appears again (first at line 17): keep "
                       "one");
        expect_problem(VALID "[alerting eu]\n",
                       "test.conf:17: section [alerting] takes no name, got 'eu'");
}

/* Lines 17-19: a valid slack route to add bad keys to. */
#define SLACK VALID "[alert team-slack]\ntype = slack\nurl = https://hooks.example/T/B/x\n"

static void route_problems(void **state)
{
        (void)state;
        /* the section */
        expect_problem(VALID "[alert]\n", "test.conf:17: section [alert] needs a name: [alert "
                                          "NAME]");
        expect_problem(VALID "[alert on/call]\n", "test.conf:17: alert name 'on/call' may only "
                                                  "hold letters, digits and the characters ._:-");
        expect_problem(SLACK "[alert x]\ntype = pagerduty\nrouting_key = " PD_KEY "\n"
                             "[alert team-slack]\n",
                       "test.conf:23: section [alert team-slack] appears again (first at line "
                       "17): keep one");
        expect_problem(SLACK "speed = 5\n",
                       "test.conf:20: [alert team-slack] unknown key 'speed' (known: type, "
                       "severities, url, routing_key, secret, mail_from, mail_to, username, "
                       "password, min_interval_ms, timeout_ms, max_attempts, resend_s)");
        /* type */
        expect_problem(VALID "[alert a]\nurl = https://h.example/\n",
                       "test.conf:17: [alert a] is missing type (required)");
        expect_problem(VALID "[alert a]\ntype = teams\nurl = https://h.example/\n",
                       "test.conf:18: [alert a] type: 'teams' is not a receiver type "
                       "(pagerduty, slack, email, webhook or alertmanager)");
        /* keys each type needs, reported at the section */
        expect_problem(VALID "[alert pd]\ntype = pagerduty\n",
                       "test.conf:17: [alert pd] is missing routing_key (required for a "
                       "pagerduty route)");
        expect_problem(VALID "[alert s]\ntype = slack\n",
                       "test.conf:17: [alert s] is missing url (required for a slack route)");
        expect_problem(VALID "[alert am]\ntype = alertmanager\n",
                       "test.conf:17: [alert am] is missing url (required for an alertmanager "
                       "route)");
        expect_problem(VALID "[alert w]\ntype = webhook\nurl = https://h.example/\n",
                       "test.conf:17: [alert w] is missing secret (required for a webhook "
                       "route)");
        expect_problem(VALID "[alert w]\ntype = webhook\nsecret = 0123456789abcdef\n",
                       "test.conf:17: [alert w] is missing url (required for a webhook route)");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_to = a@b.example\n",
                       "test.conf:17: [alert m] is missing mail_from (required for an email "
                       "route)");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = a@b.example\n",
                       "test.conf:17: [alert m] is missing mail_to (required for an email "
                       "route)");
        expect_problem(VALID "[alert m]\ntype = email\nmail_from = a@b.example\n"
                             "mail_to = a@b.example\n",
                       "test.conf:17: [alert m] is missing url (required for an email route)");
        /* keys of another type, whichever comes first */
        expect_problem(SLACK "routing_key = " PD_KEY "\n",
                       "test.conf:20: [alert team-slack] routing_key belongs to a pagerduty "
                       "route, this one is slack");
        expect_problem(VALID "[alert team-slack]\nsecret = 0123456789abcdef\ntype = slack\n"
                             "url = https://hooks.example/T/B/x\n",
                       "test.conf:18: [alert team-slack] secret belongs to a webhook route, "
                       "this one is slack");
        expect_problem(SLACK "mail_from = a@b.example\n",
                       "test.conf:20: [alert team-slack] mail_from belongs to an email route, "
                       "this one is slack");
        expect_problem(SLACK "mail_to = a@b.example\n",
                       "test.conf:20: [alert team-slack] mail_to belongs to an email route, "
                       "this one is slack");
        expect_problem(SLACK "username = u\n",
                       "test.conf:20: [alert team-slack] username belongs to an email route, "
                       "this one is slack");
        expect_problem(SLACK "password = p\n",
                       "test.conf:20: [alert team-slack] password belongs to an email route, "
                       "this one is slack");
        expect_problem(SLACK "resend_s = 60\n",
                       "test.conf:20: [alert team-slack] resend_s belongs to an alertmanager "
                       "route, this one is slack");
        expect_problem(VALID "[alert w]\ntype = webhook\nurl = https://h.example/\n"
                             "secret = 0123456789abcdef\nrouting_key = " PD_KEY "\n",
                       "test.conf:21: [alert w] routing_key belongs to a pagerduty route, this "
                       "one is webhook");
        /* severities */
        expect_problem(SLACK "severities = CRITICAL, FATAL\n",
                       "test.conf:20: [alert team-slack] severities: 'FATAL' is not a severity "
                       "(CRITICAL, ERROR, WARNING or INFO)");
        expect_problem(SLACK "severities = critical, CRITICAL\n",
                       "test.conf:20: [alert team-slack] severities: CRITICAL is given twice");
        expect_problem(SLACK "severities = ERROR,,INFO\n",
                       "test.conf:20: [alert team-slack] severities: entry 2 is empty");
        expect_problem(SLACK "severities =\n",
                       "test.conf:20: [alert team-slack] severities is empty");
        expect_problem(VALID "[alert pd]\ntype = pagerduty\nrouting_key = " PD_KEY "\n"
                             "severities = CRITICAL, INFO\n",
                       "test.conf:20: [alert pd] severities: INFO (the daily report) is not "
                       "sent to a pagerduty route: leave it out");
        expect_problem(VALID "[alert am]\nseverities = info\ntype = alertmanager\n"
                             "url = https://am.example\n",
                       "test.conf:18: [alert am] severities: INFO (the daily report) is not "
                       "sent to an alertmanager route: leave it out");
        /* routing_key, secret */
        expect_problem(VALID "[alert pd]\ntype = pagerduty\nrouting_key = abc\n",
                       "test.conf:19: [alert pd] routing_key must be 32 letters and digits, as "
                       "PagerDuty gives an integration key (the value is not shown: it is "
                       "secret)");
        expect_problem(VALID "[alert pd]\ntype = pagerduty\n"
                             "routing_key = abcdefghijklmnopqrstuvwxyz01234-\n",
                       "test.conf:19: [alert pd] routing_key must be 32 letters and digits, as "
                       "PagerDuty gives an integration key (the value is not shown: it is "
                       "secret)");
        expect_problem(VALID "[alert pd]\ntype = pagerduty\nrouting_key =\n",
                       "test.conf:19: [alert pd] routing_key is empty");
        expect_problem(VALID "[alert w]\ntype = webhook\nurl = https://h.example/\n"
                             "secret = 0123456789abcde\n",
                       "test.conf:20: [alert w] secret must be 16 to 8192 bytes (the value is "
                       "not shown: it is secret)");
        /* mail */
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = Relay Watch <rw@b.example>\nmail_to = a@b.example\n",
                       "test.conf:20: [alert m] mail_from: 'Relay Watch <rw@b.example>' is not "
                       "an address (local@domain, without spaces, control characters, '<', '>' "
                       "or ',')");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = rw@\nmail_to = a@b.example\n",
                       "test.conf:20: [alert m] mail_from: 'rw@' is not an address "
                       "(local@domain, without spaces, control characters, '<', '>' or ',')");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = a@b.example\nmail_to = a@b.example, c@d@e\n",
                       "test.conf:21: [alert m] mail_to entry 2: 'c@d@e' is not an address "
                       "(local@domain, without spaces, control characters, '<', '>' or ',')");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = a@b.example\nmail_to = a@b.example, A@B.example\n",
                       "test.conf:21: [alert m] mail_to entry 2 repeats entry 1");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = a@b.example\nmail_to = a@b.example,\n",
                       "test.conf:21: [alert m] mail_to entry 2 is empty");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = a@b.example\n"
                             "mail_to = 1@x, 2@x, 3@x, 4@x, 5@x, 6@x, 7@x, 8@x, 9@x\n",
                       "test.conf:21: [alert m] mail_to: more than 8 addresses");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "mail_from = a@b.example\nmail_to = a@b.example\nusername = rw\n",
                       "test.conf:22: [alert m] username is given without password: SMTP AUTH "
                       "needs both, or neither");
        expect_problem(VALID "[alert m]\ntype = email\nurl = smtps://m.example\n"
                             "password = pw\nmail_from = a@b.example\nmail_to = a@b.example\n",
                       "test.conf:20: [alert m] password is given without username: SMTP AUTH "
                       "needs both, or neither");
        /* numbers */
        expect_problem(SLACK "min_interval_ms = 3600001\n",
                       "test.conf:20: [alert team-slack] min_interval_ms: 3600001 is out of "
                       "range (0 to 3600000)");
        expect_problem(SLACK "timeout_ms = 99\n", "test.conf:20: [alert team-slack] timeout_ms: "
                                                  "99 is out of range (100 to 120000)");
        expect_problem(SLACK "timeout_ms = 120001\n",
                       "test.conf:20: [alert team-slack] timeout_ms: 120001 is out of range "
                       "(100 to 120000)");
        expect_problem(SLACK "max_attempts = 0\n", "test.conf:20: [alert team-slack] "
                                                   "max_attempts: 0 is out of range (1 to 100)");
        expect_problem(SLACK "max_attempts = 101\n",
                       "test.conf:20: [alert team-slack] max_attempts: 101 is out of range (1 "
                       "to 100)");
        expect_problem(VALID "[alert am]\ntype = alertmanager\nurl = https://am.example\n"
                             "resend_s = 9\n",
                       "test.conf:20: [alert am] resend_s: 9 is out of range (10 to 3600)");
        expect_problem(VALID "[alert am]\ntype = alertmanager\nurl = https://am.example\n"
                             "resend_s = 3601\n",
                       "test.conf:20: [alert am] resend_s: 3601 is out of range (10 to 3600)");
        /* a url of the wrong kind for its type */
        expect_problem(VALID "[alert oncall]\ntype = pagerduty\nrouting_key = " PD_KEY "\n"
                             "url = http://events.example.com\n",
                       "test.conf:20: [alert oncall] url: the scheme must be https (http only to "
                       "a loopback host)");
        expect_problem(VALID "[alert m]\ntype = email\nurl = https://m.example\n"
                             "mail_from = a@b.example\nmail_to = a@b.example\n",
                       "test.conf:19: [alert m] url: the scheme must be smtps, or smtp (with "
                       "STARTTLS unless the host is loopback)");
}

/* Whether a slack route (or an email route, for smtp) with `url` is accepted. */
static int route_url_accepted(const char *type, const char *url)
{
        char text[2048];
        struct load l;
        int ok;

        (void)snprintf(text, sizeof text, VALID "[alert r]\ntype = %s\nurl = %s\n%s", type, url,
                       strcmp(type, "email") == 0
                               ? "mail_from = a@b.example\nmail_to = c@d.example\n"
                               : "");
        l = load_text(text);
        ok = l.cfg != NULL;
        if (!ok && strstr(l.problems, "test.conf:19: [alert r] url") == NULL)
                print_error("%s %s refused for another reason:\n%s", type, url, l.problems);
        load_free(&l);
        return ok;
}

static void route_url_rules(void **state)
{
        (void)state;
        /* https anywhere, http only to this machine */
        assert_true(route_url_accepted("slack", "https://example.com"));
        assert_true(route_url_accepted("slack", "HTTPS://example.com/x?y=z"));
        assert_true(route_url_accepted("slack", "https://user:pw@example.com:8443/p"));
        assert_true(route_url_accepted("slack", "http://127.0.0.1"));
        assert_true(route_url_accepted("slack", "http://127.0.0.1:8080/hook"));
        assert_true(route_url_accepted("slack", "http://127.200.3.4/"));
        assert_true(route_url_accepted("slack", "http://localhost:9/x"));
        assert_true(route_url_accepted("slack", "http://LOCALHOST/"));
        assert_true(route_url_accepted("alertmanager", "http://[::1]:9093/"));
        assert_false(route_url_accepted("slack", "http://example.com"));
        assert_false(route_url_accepted("slack", "http://128.0.0.1/"));
        assert_false(route_url_accepted("slack", "http://10.0.0.1/"));
        assert_false(route_url_accepted("slack", "http://127.0.0.1.example.com/"));
        assert_false(route_url_accepted("slack", "http://localhost.example.com/"));
        assert_false(route_url_accepted("slack", "http://[::2]/"));
        assert_false(route_url_accepted("slack", "http://127.0.0.1@example.com/"));
        assert_false(route_url_accepted("slack", "ftp://127.0.0.1/"));
        assert_false(route_url_accepted("slack", "smtp://127.0.0.1:2525"));
        assert_false(route_url_accepted("slack", "hooks.slack.com/services/x"));
        assert_false(route_url_accepted("slack", "https://"));
        assert_false(route_url_accepted("alertmanager", "http://am.internal:9093"));
        assert_true(route_url_accepted("alertmanager", "http://127.0.0.1:9093"));
        /* email: smtps anywhere, smtp anywhere (STARTTLS off loopback), nothing else */
        assert_true(route_url_accepted("email", "smtp://127.0.0.1:2525"));
        assert_true(route_url_accepted("email", "smtp://mail.example:587"));
        assert_true(route_url_accepted("email", "smtps://mail.example:465"));
        assert_false(route_url_accepted("email", "https://mail.example"));
        assert_false(route_url_accepted("email", "ftp://127.0.0.1/"));
        assert_false(route_url_accepted("email", "mail.example:25"));
        /* exactly which message, for the refusals of the brief */
        expect_problem(VALID "[alert oncall]\ntype = webhook\nurl = ftp://h.example/\n"
                             "secret = 0123456789abcdef\n",
                       "test.conf:19: [alert oncall] url: the scheme must be https (http only to "
                       "a loopback host)");
        expect_problem(VALID "[alert oncall]\ntype = slack\nurl = https://[::1/\n",
                       "test.conf:19: [alert oncall] url is not a valid URL with a host (the "
                       "value is not shown: it is secret)");
        expect_problem(VALID "[alert oncall]\ntype = slack\nurl =\n",
                       "test.conf:19: [alert oncall] url is empty");
}

static void route_secrets_never_in_problems(void **state)
{
        static const char *const texts[] = {
                /* a bad routing key, on its type and on another */
                VALID "[alert pd]\ntype = pagerduty\nrouting_key = SECRETSECRETSECRET\n",
                VALID
                "[alert pd]\ntype = pagerduty\nrouting_key = SECRETSECRETSECRETSECRETSECR-T\n",
                SLACK "routing_key = SECRETSECRETSECRETSECRETSECRETSE\n",
                /* urls refused for their scheme, host, characters */
                VALID "[alert s]\ntype = slack\nurl = http://example.com/SECRETSECRET\n",
                VALID "[alert s]\ntype = slack\nurl = ftp://SECRETSECRET@127.0.0.1/\n",
                VALID "[alert s]\ntype = slack\nurl = SECRETSECRET\n",
                VALID "[alert s]\ntype = slack\nurl = https://[SECRETSECRET/\n",
                VALID "[alert s]\ntype = slack\nurl = https://h/SECRETSECRET x\n",
                VALID
                "[alert s]\ntype = slack\nurl = https://h/SECRETSECRET/${RELAYWATCH_TEST_UNSET}\n",
                VALID "[alert s]\ntype = slack\nurl = https://h/SECRETSECRET/${bad name}\n",
                VALID "[alert s]\nurl = https://h/SECRETSECRET\nurl = https://h/SECRETSECRET\n",
                VALID "[alert m]\ntype = email\nurl = https://u:SECRETSECRET@m.example\n"
                      "mail_from = a@b.example\nmail_to = a@b.example\n",
                /* a short HMAC secret, a secret on the wrong route */
                VALID "[alert w]\ntype = webhook\nurl = https://h/\nsecret = SECRETSECRET\n",
                SLACK "secret = SECRETSECRETSECRETSECRET\n",
                /* a password without its user, on the wrong type */
                VALID "[alert m]\ntype = email\nurl = smtps://m.example\npassword = SECRETSECRET\n"
                      "mail_from = a@b.example\nmail_to = a@b.example\n",
                SLACK "password = SECRETSECRET\n",
                /* a line that is not key = value */
                SLACK "SECRETSECRETSECRETSECRETSECRETSE\n",
        };
        size_t i;

        (void)state;
        unsetenv("RELAYWATCH_TEST_UNSET");
        for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
                struct load l = load_text(texts[i]);

                assert_null(l.cfg);
                assert_true(strlen(l.problems) > 0);
                if (strstr(l.problems, "SECRETSECRET") != NULL)
                        print_error("text %zu leaks a secret:\n%s", i, l.problems);
                assert_null(strstr(l.problems, "SECRETSECRET"));
                assert_null(strstr(l.err.msg, "SECRETSECRET"));
                load_free(&l);
        }
}

static void route_secrets_from_env(void **state)
{
        struct load l;
        const struct config_alert_route *r;

        (void)state;
        assert_int_equal(setenv("RW_TEST_PD_KEY", PD_KEY, 1), 0);
        assert_int_equal(setenv("RW_TEST_HOOK", "T0/B0/abcdef", 1), 0);
        l = load_text(VALID "[alert pd]\ntype = pagerduty\nrouting_key = ${RW_TEST_PD_KEY}\n"
                            "[alert s]\ntype = slack\n"
                            "url = https://hooks.slack.com/services/${RW_TEST_HOOK}\n");
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        r = route_named(l.cfg, "pd");
        assert_string_equal(r->routing_key, PD_KEY);
        r = route_named(l.cfg, "s");
        assert_string_equal(r->url, "https://hooks.slack.com/services/T0/B0/abcdef");
        load_free(&l);

        /* a key that expands to something else than a routing key: refused, not shown */
        assert_int_equal(setenv("RW_TEST_PD_KEY", "SECRETSECRET", 1), 0);
        l = load_text(VALID "[alert pd]\ntype = pagerduty\nrouting_key = ${RW_TEST_PD_KEY}\n");
        assert_null(l.cfg);
        assert_true(has_line(l.problems,
                             "test.conf:19: [alert pd] routing_key must be 32 letters and digits, "
                             "as PagerDuty gives an integration key (the value is not shown: it "
                             "is secret)"));
        assert_null(strstr(l.problems, "SECRETSECRET"));
        load_free(&l);
        unsetenv("RW_TEST_PD_KEY");
        unsetenv("RW_TEST_HOOK");
        expect_problem(VALID "[alert pd]\ntype = pagerduty\nrouting_key = ${RW_TEST_PD_KEY}\n",
                       "test.conf:19: [alert pd] routing_key: environment variable "
                       "RW_TEST_PD_KEY is not set");
}

static void route_count_limit(void **state)
{
        char text[8192];
        size_t n, i;
        struct load l;

        (void)state;
        n = (size_t)snprintf(text, sizeof text, "%s", VALID);
        for (i = 0; i < CONFIG_ROUTES_MAX; i++)
                n += (size_t)snprintf(text + n, sizeof text - n,
                                      "[alert r%zu]\ntype = slack\nurl = https://h.example/%zu\n",
                                      i, i);
        l = load_text(text);
        assert_string_equal(l.problems, "");
        assert_non_null(l.cfg);
        assert_int_equal(l.cfg->nroutes, CONFIG_ROUTES_MAX);
        assert_string_equal(l.cfg->routes[CONFIG_ROUTES_MAX - 1].name, "r15");
        load_free(&l);

        /* one more: refused at its header (line 17 + 3 x 16), its keys not judged */
        (void)snprintf(text + n, sizeof text - n, "[alert one-more]\ntype = nonsense\n");
        l = load_text(text);
        assert_null(l.cfg);
        assert_string_equal(l.problems, "test.conf:65: more than 16 [alert NAME] sections\n");
        load_free(&l);
}

/* [http]: on at 127.0.0.1:9464 by default; other machines only with a token. */
static void http_listen_rules(void **state)
{
        struct load l;

        (void)state;
        l = load_text(VALID);
        assert_non_null(l.cfg);
        assert_true(l.cfg->http_enabled);
        assert_string_equal(l.cfg->http_host, "127.0.0.1");
        assert_int_equal(l.cfg->http_port, 9464);
        assert_null(l.cfg->http_token);
        assert_int_equal(l.cfg->http_max_connections, 64);
        assert_int_equal(l.cfg->http_timeout_s, 10);
        load_free(&l);
        l = load_text(VALID "[http]\nlisten = off\n");
        assert_non_null(l.cfg);
        assert_false(l.cfg->http_enabled);
        load_free(&l);
        l = load_text(VALID "[http]\nlisten = [::1]:8080\nmax_connections = 8\n");
        assert_non_null(l.cfg);
        assert_string_equal(l.cfg->http_host, "[::1]");
        assert_int_equal(l.cfg->http_port, 8080);
        assert_int_equal(l.cfg->http_max_connections, 8);
        load_free(&l);
        l = load_text(VALID "[http]\nlisten = *:9464\ntoken = 0123456789abcdef0123\n");
        assert_non_null(l.cfg);
        assert_string_equal(l.cfg->http_host, "*");
        assert_string_equal(l.cfg->http_token, "0123456789abcdef0123");
        load_free(&l);
        expect_problem(VALID "[http]\nlisten = *:9464\n",
                       "test.conf:18: [http] listen = *:9464 can be reached from other machines: "
                       "set [http] token (e.g. token = ${RELAYWATCH_HTTP_TOKEN}) or listen on "
                       "127.0.0.1");
        expect_problem(VALID "[http]\nlisten = 10.0.0.5:9464\n",
                       "test.conf:18: [http] listen = 10.0.0.5:9464 can be reached from other "
                       "machines: set [http] token (e.g. token = ${RELAYWATCH_HTTP_TOKEN}) or "
                       "listen on 127.0.0.1");
        expect_problem(VALID "[http]\nlisten = 127.0.0.1\n",
                       "test.conf:18: [http] listen: \"127.0.0.1\" is not HOST:PORT (e.g. "
                       "127.0.0.1:9464, [::1]:9464, *:9464) or off");
        expect_problem(VALID "[http]\nlisten = 127.0.0.1:99999\n",
                       "test.conf:18: [http] listen: \"127.0.0.1:99999\" is not HOST:PORT (e.g. "
                       "127.0.0.1:9464, [::1]:9464, *:9464) or off");
        expect_problem(VALID "[http]\nlisten = example.com:80\n",
                       "test.conf:18: [http] listen: the host \"example.com\" is not an IPv4 "
                       "address, [IPv6 address], localhost or *");
        expect_problem(VALID "[http]\ntoken = short\n",
                       "test.conf:18: [http] token must be 16 to 1024 bytes (the value is not "
                       "shown: it is secret)");
}

static void check_config_shows_routes(void **state)
{
        char path[64];
        struct cli_run r;

        (void)state;
        write_temp(VALID "[alerting]\nreport_at = 6:30\nsource = eu-1\n"
                         "[alert oncall]\ntype = pagerduty\nrouting_key = " PD_KEY "\n"
                         "[alert team]\ntype = slack\n"
                         "url = https://hooks.slack.com/services/T0/B0/HOOKSECRET\n"
                         "[alert mail]\ntype = email\n"
                         "url = smtp://rw:SMTPPW@mail.example:587/relay\n"
                         "mail_from = rw@b.example\nmail_to = a@b.example, c@d.example\n"
                         "username = rw\npassword = MAILPASSWORD\n"
                         "[alert am]\ntype = alertmanager\nurl = http://[::1]:9093/?k=AMSECRET\n"
                         "[alert hook]\ntype = webhook\nurl = https://h.example/p\n"
                         "secret = HMACSECRETHMACSECRET\n",
                   path);
        {
                char *argv[] = {"relaywatch", "check-config", "-c", path};

                r = cli_run(4, argv);
        }
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_string_equal(r.err, "");
        assert_true(has_line(r.out, "alerting: flap_window_s 300, repage_s 900, spool_retry_s 60, "
                                    "report_at 06:30 UTC, source eu-1, runbook_url "
                                    "file:///usr/local/share/doc/relaywatch/runbooks/, "
                                    "claim_prefix relayer:control:alert:"));
        assert_true(has_line(r.out, "alert oncall: type pagerduty; severities CRITICAL; url the "
                                    "Events API default; min_interval_ms 0, timeout_ms 10000, "
                                    "max_attempts 6"));
        assert_true(has_line(r.out, "alert team: type slack; severities CRITICAL, ERROR, "
                                    "WARNING, INFO; url https://hooks.slack.com (host only); "
                                    "min_interval_ms 1000, timeout_ms 10000, max_attempts 6"));
        assert_true(has_line(r.out, "alert mail: type email; severities CRITICAL, ERROR, INFO; "
                                    "url smtp://mail.example:587 (host only); mail_from "
                                    "rw@b.example; mail_to a@b.example, c@d.example; username rw "
                                    "(password not shown); min_interval_ms 0, timeout_ms 10000, "
                                    "max_attempts 6"));
        assert_true(has_line(r.out, "alert am: type alertmanager; severities CRITICAL, ERROR, "
                                    "WARNING; url http://[::1]:9093 (host only); min_interval_ms "
                                    "0, timeout_ms 10000, max_attempts 6, resend_s 60"));
        assert_true(has_line(r.out, "alert hook: type webhook; severities CRITICAL, ERROR, "
                                    "WARNING; url https://h.example (host only); min_interval_ms "
                                    "0, timeout_ms 10000, max_attempts 6"));
        assert_null(strstr(r.out, PD_KEY));
        assert_null(strstr(r.out, "HOOKSECRET"));
        assert_null(strstr(r.out, "SMTPPW"));
        assert_null(strstr(r.out, "587/relay"));
        assert_null(strstr(r.out, "MAILPASSWORD"));
        assert_null(strstr(r.out, "AMSECRET"));
        assert_null(strstr(r.out, "HMACSECRET"));
        assert_null(strstr(r.out, "/p;"));
        cli_run_free(&r);
        unlink(path);

        /* no route: said so */
        write_temp(VALID, path);
        {
                char *argv[] = {"relaywatch", "check-config", "-c", path};

                r = cli_run(4, argv);
        }
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_true(has_line(r.out, "alert routes: none (findings are logged, nobody is paged)"));
        cli_run_free(&r);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(full_valid_file),
                cmocka_unit_test(run_and_control_defaults),
                cmocka_unit_test(control_section),
                cmocka_unit_test(control_problems),
                cmocka_unit_test(control_groups_are_a_list),
                cmocka_unit_test(defaults),
                cmocka_unit_test(tolerance_in_token_units),
                cmocka_unit_test(unknown_key),
                cmocka_unit_test(unknown_section),
                cmocka_unit_test(bad_address),
                cmocka_unit_test(missing_address),
                cmocka_unit_test(bad_number),
                cmocka_unit_test(out_of_range),
                cmocka_unit_test(duplicate_asset),
                cmocka_unit_test(asset_names),
                cmocka_unit_test(missing_chain),
                cmocka_unit_test(quorum_above_endpoints),
                cmocka_unit_test(hedge_ms_bounds),
                cmocka_unit_test(multicall3_key),
                cmocka_unit_test(ten_thousand_assets),
                cmocka_unit_test(unset_env_var),
                cmocka_unit_test(bad_url_scheme),
                cmocka_unit_test(other_problems),
                cmocka_unit_test(several_problems_in_one_load),
                cmocka_unit_test(summary_without_a_problem_stream),
                cmocka_unit_test(many_problems_are_capped),
                cmocka_unit_test(env_expansion),
                cmocka_unit_test(secrets_never_in_problems),
                cmocka_unit_test(layout_of_the_file),
                cmocka_unit_test(load_from_file),
                cmocka_unit_test(config_path_order),
                cmocka_unit_test(check_config_command),
                cmocka_unit_test(check_config_usage),
                cmocka_unit_test(alerting_defaults),
                cmocka_unit_test(alerting_every_key),
                cmocka_unit_test(route_type_defaults),
                cmocka_unit_test(alerting_problems),
                cmocka_unit_test(route_problems),
                cmocka_unit_test(route_url_rules),
                cmocka_unit_test(route_secrets_never_in_problems),
                cmocka_unit_test(route_secrets_from_env),
                cmocka_unit_test(route_count_limit),
                cmocka_unit_test(check_config_shows_routes),
                cmocka_unit_test(http_listen_rules),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
