#include "cli_setup.h"

#include <string.h>

_Static_assert(CONFIG_KEYS_MAX < KEYRING_KEYS_MAX, "a key ring holds every configured key");

void cli_setup_init(struct cli_setup *s, const struct cli_command *cmd, FILE *errout)
{
        memset(s, 0, sizeof *s);
        s->cmd = cmd;
        s->errout = errout;
}

int cli_setup_config(struct cli_setup *s, const char *given)
{
        struct rwerr err;

        if ((s->cfg = config_load(config_path(given), s->errout, &err)) != NULL)
                return RW_OK;
        cli_error(s->cmd, s->errout, "%s", err.msg);
        return RW_ERR_INVALID;
}

int cli_setup_keys(struct cli_setup *s, const char *signing_key, keyring_skip_fn skip, void *arg,
                   struct rwerr *err)
{
        struct keyring_paths p;

        memset(&p, 0, sizeof p);
        p.signing_key = signing_key;
        p.watchdog_keys = s->cfg->watchdog_pubkeys;
        p.nwatchdog = s->cfg->nwatchdog_pubkeys;
        p.operator_keys = s->cfg->operator_pubkeys;
        p.noperator = s->cfg->noperator_pubkeys;
        return keyring_load(&s->keys, &p, skip, arg, err);
}

int cli_setup_signing_key(struct cli_setup *s, const char *path, struct rwerr *err)
{
        struct keyring_paths p;

        memset(&p, 0, sizeof p);
        p.signing_key = path;
        return keyring_load(&s->keys, &p, NULL, NULL, err);
}

static int no_redis(const struct config *cfg, struct rwerr *err)
{
        return rwerr_set(err, RW_ERR_INVALID,
                         "%s has no [redis] url: the relayer's control stream and halt state live "
                         "in Redis",
                         cfg->path);
}

int cli_setup_require_redis(struct cli_setup *s)
{
        struct rwerr err;

        if (s->cfg->redis_url != NULL)
                return RW_OK;
        (void)no_redis(s->cfg, &err);
        cli_error(s->cmd, s->errout, "%s", err.msg);
        return RW_ERR_INVALID;
}

redisContext *cli_setup_redis(struct cli_setup *s, struct rwerr *err)
{
        struct redisconn_options o;
        redisContext *ctx;

        if (s->cfg->redis_url == NULL) {
                (void)no_redis(s->cfg, err);
                return NULL;
        }
        memset(&o, 0, sizeof o);
        o.url = s->cfg->redis_url;
        o.timeout_ms = s->cfg->redis_timeout_ms;
        if (s->redis == NULL && (s->redis = redisconn_new(&o, err)) == NULL)
                return NULL;
        if ((ctx = redisconn_get_now(s->redis)) == NULL)
                rwerr_set(err, RW_ERR_IO, "%s", redisconn_problem(s->redis));
        return ctx;
}

void cli_setup_release(struct cli_setup *s)
{
        redisconn_free(s->redis);
        s->redis = NULL;
        keyring_free(&s->keys);
        config_free(s->cfg);
        s->cfg = NULL;
}
