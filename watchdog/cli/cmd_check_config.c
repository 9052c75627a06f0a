#include "cmd_check_config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "abi.h"
#include "cli.h"
#include "cli_setup.h"
#include "config.h"
#include "conninfo.h"
#include "finding.h"
#include "rwerr.h"
#include "u256.h"

static const char help[] =
        "Reads and validates a configuration file without connecting to anything;\n"
        "prints every problem as FILE:LINE: message, or a summary when it is valid.\n"
        "\n"
        "  -c, --config FILE  the file (default: $RELAYWATCH_CONFIG, then " CONFIG_DEFAULT_PATH
        ")\n";

static const char *mode_name(enum invariant_mode m)
{
        return m == INVARIANT_SHADOW ? "shadow" : "enforce";
}

static void print_addresses(FILE *out, const uint8_t (*list)[ABI_ADDRESS_BYTES], size_t n)
{
        char text[ABI_ADDRESS_TEXT_SIZE];
        size_t i;

        for (i = 0; i < n; i++) {
                abi_address_format(list[i], text);
                fprintf(out, "%s%s", i > 0 ? ", " : "", text);
        }
}

static void print_chain(FILE *out, const char *role, const struct config_chain *ch, int is_source)
{
        char a[ABI_ADDRESS_TEXT_SIZE], b[ABI_ADDRESS_TEXT_SIZE], hedge[24] = "auto";

        if (ch->hedge_ms > 0)
                (void)snprintf(hedge, sizeof hedge, "%llu", (unsigned long long)ch->hedge_ms);
        fprintf(out,
                "chain %s: chain id %llu, %zu endpoint%s, quorum %u, confirmations %u%s, "
                "deploy block %llu, log_chunk_blocks %llu, timeout_ms %ld, hedge_ms %s\n",
                role, (unsigned long long)ch->chain_id, ch->nendpoints,
                ch->nendpoints == 1 ? "" : "s", ch->quorum, ch->confirmations,
                ch->finalized ? " (pinned to the finalized tag)" : "",
                (unsigned long long)ch->deploy_block, (unsigned long long)ch->log_chunk_blocks,
                ch->timeout_ms, hedge);
        if (is_source) {
                abi_address_format(ch->lockbox, a);
                abi_address_format(ch->root_registry, b);
                fprintf(out, "  lockbox %s, root_registry %s\n", a, b);
        }
}

/*
 * Where a receiver's URL points, as scheme://host[:port]: no user, password,
 * path or query (a webhook's path is its secret).
 */
static void url_origin(const char *url, char *out, size_t cap)
{
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL;

        if (u != NULL &&
            curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
                (void)snprintf(out, cap, "%s://%s%s%s", scheme, host, port != NULL ? ":" : "",
                               port != NULL ? port : "");
        } else {
                (void)snprintf(out, cap, "(not shown)");
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
}

static void print_alerting(FILE *out, const struct config *c)
{
        char where[300];
        size_t i, j;
        int s;

        fprintf(out,
                "alerting: flap_window_s %llu, repage_s %llu, spool_retry_s %llu, report_at "
                "%02u:%02u UTC, source %s, runbook_url %s, claim_prefix %s\n",
                (unsigned long long)c->flap_window_s, (unsigned long long)c->repage_s,
                (unsigned long long)c->spool_retry_s, c->report_minute / 60, c->report_minute % 60,
                c->alert_source, c->runbook_url, c->claim_prefix);
        if (c->nroutes == 0)
                fprintf(out, "alert routes: none (findings are logged, nobody is paged)\n");
        for (i = 0; i < c->nroutes; i++) {
                const struct config_alert_route *r = &c->routes[i];
                int first = 1;

                fprintf(out, "alert %s: type %s; severities ", r->name,
                        config_receiver_type_name(r->type));
                for (s = FINDING_CRITICAL; s >= FINDING_INFO; s--) {
                        if (!(r->severities & (1u << (unsigned)s)))
                                continue;
                        fprintf(out, "%s%s", first ? "" : ", ",
                                finding_severity_name((enum finding_severity)s));
                        first = 0;
                }
                if (r->url != NULL) {
                        url_origin(r->url, where, sizeof where);
                        fprintf(out, "; url %s (host only)", where);
                } else {
                        fprintf(out, "; url the Events API default");
                }
                if (r->type == RECEIVER_EMAIL) {
                        fprintf(out, "; mail_from %s; mail_to ", r->mail_from);
                        for (j = 0; j < r->nmail_to; j++)
                                fprintf(out, "%s%s", j > 0 ? ", " : "", r->mail_to[j]);
                        if (r->username != NULL)
                                fprintf(out, "; username %s (password not shown)", r->username);
                }
                fprintf(out, "; min_interval_ms %llu, timeout_ms %ld, max_attempts %u",
                        (unsigned long long)r->min_interval_ms, r->timeout_ms, r->max_attempts);
                if (r->type == RECEIVER_ALERTMANAGER)
                        fprintf(out, ", resend_s %llu", (unsigned long long)r->resend_s);
                fprintf(out, "\n");
        }
}

static void print_summary(FILE *out, const struct config *c)
{
        char where[256], a[ABI_ADDRESS_TEXT_SIZE], b[ABI_ADDRESS_TEXT_SIZE];
        const struct invariant_params *p = &c->params;
        struct rwerr err;
        size_t i;

        fprintf(out, "%s: configuration OK\n", c->path);
        fprintf(out, "watchdog: id %s, state_dir %s, correlation_prefix %s\n", c->watchdog_id,
                c->state_dir, c->correlation_prefix);
        if (conninfo_describe(c->database_url, where, sizeof where, &err) != RW_OK)
                (void)snprintf(where, sizeof where, "(URL not shown)");
        fprintf(out,
                "database: %s (password not shown), statement_timeout_ms %ld, "
                "failure_threshold %u\n",
                where, c->statement_timeout_ms, c->db_failure_threshold);
        fprintf(out, "redis: %s\n",
                c->redis_url != NULL ? "configured (URL not shown)" : "not configured");
        print_chain(out, "source", &c->chains[SNAP_SOURCE], 1);
        print_chain(out, "execution", &c->chains[SNAP_EXECUTION], 0);
        for (i = 0; i < c->nassets; i++) {
                const struct snap_asset *as = &c->assets[i];
                char tol[U256_UNITS_SIZE(SNAP_NAME_MAX)];

                if (u256_format_units(&as->tolerance, as->decimals, as->name, tol, sizeof tol) == 0)
                        (void)snprintf(tol, sizeof tol, "(unprintable)");
                abi_address_format(as->source_token, a);
                abi_address_format(as->bridged_token, b);
                fprintf(out,
                        "asset %s: decimals %u, tolerance %s, source_token %s, "
                        "bridged_token %s\n",
                        as->name, as->decimals, tol, a, b);
        }
        fprintf(out, "relayer: %zu account%s: ", c->naccounts, c->naccounts == 1 ? "" : "s");
        print_addresses(out, (const uint8_t(*)[ABI_ADDRESS_BYTES])c->accounts, c->naccounts);
        fprintf(out, "; signers: ");
        print_addresses(out, (const uint8_t(*)[ABI_ADDRESS_BYTES])p->signers, p->nsigners);
        fprintf(out, "\n");
        fprintf(out,
                "thresholds: nonce_gap %llu, relayer_cycle_ms %llu, watchdog_cycle_ms %llu, "
                "gas_ratio_percent %u, pending_operations %llu, stream_lag %llu, "
                "rpc_failure_threshold %u, rpc_slow_call_ms %llu\n",
                (unsigned long long)p->nonce_gap, (unsigned long long)p->relayer_cycle_ms,
                (unsigned long long)p->watchdog_cycle_ms, p->gas_ratio_percent,
                (unsigned long long)p->pending_operations, (unsigned long long)p->stream_lag,
                c->rpc_failure_threshold, (unsigned long long)c->rpc_slow_call_ms);
        fprintf(out, "invariants: ");
        for (i = 0; i < c->nmodes; i++)
                fprintf(out, "%s %s, ", c->modes[i].name, mode_name(c->modes[i].mode));
        fprintf(out, "%s enforce\n", c->nmodes > 0 ? "every other check" : "every check");
        fprintf(out, "streams: ");
        if (c->nstreams == 0)
                fprintf(out, "none");
        for (i = 0; i < c->nstreams; i++) {
                fprintf(out, "%s%s", i > 0 ? ", " : "", c->streams[i].name);
                if (c->streams[i].maxlen > 0)
                        fprintf(out, " (maxlen %llu)", (unsigned long long)c->streams[i].maxlen);
        }
        fprintf(out, "\n");
        print_alerting(out, c);
}

const struct cli_command cmd_check_config_command = {
        "check-config", "relaywatch check-config [-c FILE]",
        "parse and validate a configuration file without touching anything", help,
        cmd_check_config};

int cmd_check_config(int argc, char **argv, FILE *out, FILE *errout)
{
        static const struct cli_option options[] = {CLI_OPTION_CONFIG};
        const char *given = NULL;
        struct cli_setup s;
        struct cli_args a;
        int opt;

        cli_args_init(&a, &cmd_check_config_command, options, CLI_NOPTIONS(options), argc, argv,
                      out, errout);
        while ((opt = cli_args_next(&a)) > 0)
                given = a.value; /* -c is its only option */
        if (opt == CLI_ARGS_EXIT)
                return a.exit_code;
        cli_setup_init(&s, &cmd_check_config_command, errout);
        if (cli_setup_config(&s, given) != RW_OK)
                return CLI_EXIT_FAILURE;
        print_summary(out, s.cfg);
        cli_setup_release(&s);
        return CLI_EXIT_OK;
}
