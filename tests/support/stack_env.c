#include "stack_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rwerr.h"

#define STACK_ENV_MAX_BYTES ((size_t)64 * 1024)
#define STACK_ENV_MAX_KEYS 128

struct stack_env {
        size_t n;
        char *keys[STACK_ENV_MAX_KEYS];
        char *values[STACK_ENV_MAX_KEYS];
};

static char *dup_range(const char *s, size_t len)
{
        char *p = malloc(len + 1);

        if (p != NULL) {
                memcpy(p, s, len);
                p[len] = '\0';
        }
        return p;
}

static int valid_key(const char *s, size_t len)
{
        size_t i;

        if (len == 0)
                return 0;
        for (i = 0; i < len; i++) {
                char c = s[i];

                if (!((c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9')))
                        return 0;
        }
        return 1;
}

struct stack_env *stack_env_parse(const char *text, const char *name, struct rwerr *err)
{
        struct stack_env *env = calloc(1, sizeof *env);
        const char *line = text;
        unsigned lineno = 0;

        if (env == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", name);
                return NULL;
        }
        while (*line != '\0') {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *eq = memchr(line, '=', len);

                lineno++;
                if (len == 0 || line[0] == '#')
                        goto next;
                if (eq == NULL || !valid_key(line, (size_t)(eq - line))) {
                        rwerr_set(err, RW_ERR_INVALID,
                                  "%s:%u: expected KEY=value with an upper-case KEY", name, lineno);
                        goto fail;
                }
                if (env->n == STACK_ENV_MAX_KEYS) {
                        rwerr_set(err, RW_ERR_RANGE, "%s:%u: more than %d keys", name, lineno,
                                  STACK_ENV_MAX_KEYS);
                        goto fail;
                }
                env->keys[env->n] = dup_range(line, (size_t)(eq - line));
                env->values[env->n] = dup_range(eq + 1, len - (size_t)(eq - line) - 1);
                env->n++;
                if (env->keys[env->n - 1] == NULL || env->values[env->n - 1] == NULL) {
                        rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", name);
                        goto fail;
                }
        next:
                line += len;
                if (*line == '\n')
                        line++;
        }
        return env;
fail:
        stack_env_free(env);
        return NULL;
}

struct stack_env *stack_env_load(const char *path, struct rwerr *err)
{
        struct stack_env *env = NULL;
        char *text = NULL;
        size_t len;
        FILE *f = fopen(path, "r");

        if (f == NULL) {
                rwerr_set(err, RW_ERR_IO, "%s: cannot open (is the stack up? scripts/stack-up DIR)",
                          path);
                return NULL;
        }
        text = malloc(STACK_ENV_MAX_BYTES + 1);
        if (text == NULL) {
                rwerr_set(err, RW_ERR_NOMEM, "%s: out of memory", path);
                goto out;
        }
        len = fread(text, 1, STACK_ENV_MAX_BYTES + 1, f);
        if (ferror(f)) {
                rwerr_set(err, RW_ERR_IO, "%s: read error", path);
                goto out;
        }
        if (len > STACK_ENV_MAX_BYTES) {
                rwerr_set(err, RW_ERR_RANGE, "%s: larger than %zu bytes", path,
                          STACK_ENV_MAX_BYTES);
                goto out;
        }
        text[len] = '\0';
        if (strlen(text) != len) {
                rwerr_set(err, RW_ERR_INVALID, "%s: contains a NUL byte", path);
                goto out;
        }
        env = stack_env_parse(text, path, err);
out:
        free(text);
        fclose(f);
        return env;
}

const char *stack_env_get(const struct stack_env *env, const char *key)
{
        size_t i;

        for (i = 0; i < env->n; i++) {
                if (strcmp(env->keys[i], key) == 0)
                        return env->values[i];
        }
        return NULL;
}

void stack_env_free(struct stack_env *env)
{
        size_t i;

        if (env == NULL)
                return;
        for (i = 0; i < env->n; i++) {
                free(env->keys[i]);
                free(env->values[i]);
        }
        free(env);
}

int stack_env_copy(const char *key, char *out, size_t cap, struct rwerr *err)
{
        const char *path = getenv("RELAYWATCH_STACK_ENV");
        struct stack_env *env;
        const char *value;
        int rc = RW_OK;

        if (path == NULL)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "RELAYWATCH_STACK_ENV is not set (ctest sets it for integration "
                                 "tests)");
        if ((env = stack_env_load(path, err)) == NULL)
                return RW_ERR_IO;
        value = stack_env_get(env, key);
        if (value == NULL)
                rc = rwerr_set(err, RW_ERR_INVALID, "%s has no %s", path, key);
        else if ((size_t)snprintf(out, cap, "%s", value) >= cap)
                rc = rwerr_set(err, RW_ERR_RANGE, "%s in %s is longer than %zu bytes", key, path,
                               cap - 1);
        stack_env_free(env);
        return rc;
}
