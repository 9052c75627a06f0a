/* Unit tests for the stack.env reader the integration tests depend on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rwerr.h"
#include "stack_env.h"

static void parses_keys_values_and_comments(void **state)
{
        struct rwerr err;
        struct stack_env *env = stack_env_parse("# written by stack-up\n"
                                                "SOURCE_RPC_URL=http://127.0.0.1:20001\n"
                                                "\n"
                                                "EMPTY=\n"
                                                "URL_WITH_EQ=postgres://a:b@h/db?x=1\n"
                                                "LAST=no-newline",
                                                "stack.env", &err);

        (void)state;
        assert_non_null(env);
        assert_string_equal(stack_env_get(env, "SOURCE_RPC_URL"), "http://127.0.0.1:20001");
        assert_string_equal(stack_env_get(env, "EMPTY"), "");
        assert_string_equal(stack_env_get(env, "URL_WITH_EQ"), "postgres://a:b@h/db?x=1");
        assert_string_equal(stack_env_get(env, "LAST"), "no-newline");
        assert_null(stack_env_get(env, "MISSING"));
        stack_env_free(env);
}

static void bad_line_is_named(void **state)
{
        struct rwerr err;

        (void)state;
        assert_null(stack_env_parse("A=1\nthis is not a pair\n", "stack.env", &err));
        assert_string_equal(err.msg, "stack.env:2: expected KEY=value with an upper-case KEY");
        assert_null(stack_env_parse("lower=1\n", "stack.env", &err));
        assert_string_equal(err.msg, "stack.env:1: expected KEY=value with an upper-case KEY");
        assert_null(stack_env_parse("=1\n", "stack.env", &err));
}

static void missing_file_says_how_to_start(void **state)
{
        struct rwerr err;

        (void)state;
        assert_null(stack_env_load("/nonexistent/stack.env", &err));
        assert_non_null(strstr(err.msg, "scripts/stack-up"));
}

static void loads_a_real_file(void **state)
{
        struct rwerr err;
        char path[] = "/tmp/test_stack_env.XXXXXX";
        int fd = mkstemp(path);
        FILE *f;
        struct stack_env *env;

        (void)state;
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        fputs("REDIS_PORT=23456\nREDIS_HOST=127.0.0.1\n", f);
        fclose(f);
        env = stack_env_load(path, &err);
        remove(path);
        assert_non_null(env);
        assert_string_equal(stack_env_get(env, "REDIS_PORT"), "23456");
        assert_string_equal(stack_env_get(env, "REDIS_HOST"), "127.0.0.1");
        stack_env_free(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_keys_values_and_comments),
                cmocka_unit_test(bad_line_is_named),
                cmocka_unit_test(missing_file_says_how_to_start),
                cmocka_unit_test(loads_a_real_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
