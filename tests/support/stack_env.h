/*
 * stack_env: reads the stack.env file that scripts/stack-up writes.
 *
 * The file is plain KEY=value lines (no quotes, no spaces in values), so the
 * same file can be sourced by a shell and read here. Blank lines and lines
 * starting with '#' are skipped; anything else without '=' is an error that
 * names the line.
 */
#ifndef RELAYWATCH_TEST_STACK_ENV_H
#define RELAYWATCH_TEST_STACK_ENV_H

#include <stddef.h>

struct rwerr;
struct stack_env;

/* Caller frees with stack_env_free. NULL with `err` filled on failure. */
struct stack_env *stack_env_load(const char *path, struct rwerr *err);

/* Parses text held in memory; same rules and ownership as stack_env_load. */
struct stack_env *stack_env_parse(const char *text, const char *name, struct rwerr *err);

/* The value of `key`, owned by `env`, or NULL when the file lacks it. */
const char *stack_env_get(const struct stack_env *env, const char *key);

/* Accepts NULL. */
void stack_env_free(struct stack_env *env);

/*
 * For integration tests: copies the value of `key` from the stack.env file
 * named by $RELAYWATCH_STACK_ENV into out[cap]. RW_OK, or an error naming
 * what is missing (the variable, the file, the key) or too long.
 */
int stack_env_copy(const char *key, char *out, size_t cap, struct rwerr *err);

#endif
