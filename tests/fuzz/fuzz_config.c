/*
 * Fuzz target for watchdog/config: whatever bytes an operator (or a broken
 * deployment tool) leaves in the configuration file. Loading must never
 * read or write out of bounds or leak; a refused file must come with a
 * terminated message; an accepted one must hold what config.h promises
 * (both chains, at least one asset and account, a quorum within the
 * endpoints, a NULL-terminated list of modes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rwerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct config *c)
{
        int role;
        size_t i;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct config_chain *ch = &c->chains[role];

                if (!ch->present || ch->nendpoints == 0 || ch->nendpoints > CONFIG_ENDPOINTS_MAX)
                        abort();
                if (ch->quorum < 1 || ch->quorum > ch->nendpoints)
                        abort();
                if (c->params.quorum[role] != ch->quorum ||
                    c->params.endpoints[role] != ch->nendpoints)
                        abort();
                for (i = 0; i < ch->nendpoints; i++) {
                        if (ch->endpoints[i] == NULL ||
                            (strncmp(ch->endpoints[i], "http://", 7) != 0 &&
                             strncmp(ch->endpoints[i], "https://", 8) != 0))
                                abort();
                }
        }
        if (c->nassets == 0 || c->naccounts == 0 || c->naccounts > CONFIG_ACCOUNTS_MAX)
                abort();
        if (c->params.nsigners == 0 || c->database_url == NULL || c->watchdog_id == NULL)
                abort();
        for (i = 0; i < c->nassets; i++) {
                if (strnlen(c->assets[i].name, SNAP_NAME_MAX) == SNAP_NAME_MAX ||
                    c->assets[i].decimals > 77)
                        abort();
        }
        if (c->modes == NULL || c->modes[c->nmodes].name != NULL || c->params.modes != c->modes)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static FILE *sink;
        struct config *c;
        struct rwerr err;

        if (sink == NULL)
                sink = fopen("/dev/null", "w");
        /* The problem listing and, without it, the summary with the first problem. */
        c = config_load_string((const char *)data, size, "fuzz.conf", (size & 1) ? sink : NULL,
                               &err);
        if (c == NULL) {
                if (strnlen(err.msg, sizeof err.msg) == sizeof err.msg || err.msg[0] == '\0')
                        abort();
                return 0;
        }
        check(c);
        config_free(c);
        return 0;
}
