/* Unit tests for watchdog/outbox: signed messages kept on disk until Redis is back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "outbox.h"

/* 88 base64 characters, the shape of a signature */
#define SIG_A                                                                                      \
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=="
#define SIG_B                                                                                      \
        "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQg=="
#define ID_A "halt-0123456789abcdef0123456789abcdef"
#define ID_B "halt-fedcba9876543210fedcba9876543210"

struct fx {
        char root[64];
        char dir[96];
};

static int setup(void **state)
{
        static struct fx f;

        (void)snprintf(f.root, sizeof f.root, "/tmp/relaywatch-outbox.XXXXXX");
        assert_non_null(mkdtemp(f.root));
        (void)snprintf(f.dir, sizeof f.dir, "%s/outbox", f.root);
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char cmd[160];

        (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static struct outbox *open_ok(const struct fx *f)
{
        struct rwerr err;
        struct outbox *o = outbox_open(f->dir, &err);

        if (o == NULL)
                fail_msg("%s", err.msg);
        return o;
}

static void write_file(const char *path, const char *text)
{
        FILE *fp = fopen(path, "w");

        assert_non_null(fp);
        assert_int_equal(fputs(text, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
}

static void kept_in_order_across_a_restart_until_delivered(void **state)
{
        struct fx *f = *state;
        const char msg_a[] = "{\"v\":1,\"type\":\"HALT\",\"id\":\"a\"}";
        const char msg_b[] = "{\"v\":1,\"type\":\"HALT\",\"id\":\"b\"}\nsecond line";
        struct outbox_list l;
        struct rwerr err;
        struct stat st;
        struct outbox *o = open_ok(f);

        assert_int_equal(stat(f->dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(outbox_put(o, ID_B, msg_b, strlen(msg_b), SIG_B, &err), RW_OK);
        assert_int_equal(outbox_put(o, ID_A, msg_a, strlen(msg_a), SIG_A, &err), RW_OK);
        /* the same id again: already waiting, not stored twice */
        assert_int_equal(outbox_put(o, ID_B, msg_b, strlen(msg_b), SIG_B, &err), RW_OK);
        outbox_close(o);

        /* a restart: the messages are still there, in the order they were put */
        o = open_ok(f);
        assert_int_equal(outbox_list(o, &l, &err), RW_OK);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.entries[0].id, ID_B);
        assert_string_equal(l.entries[0].sig, SIG_B);
        assert_int_equal(l.entries[0].msg_len, strlen(msg_b));
        assert_memory_equal(l.entries[0].msg, msg_b, strlen(msg_b));
        assert_string_equal(l.entries[1].id, ID_A);
        assert_memory_equal(l.entries[1].msg, msg_a, strlen(msg_a));

        /* delivered: gone, and a new message after the restart still sorts last */
        assert_int_equal(outbox_done(o, &l.entries[0], &err), RW_OK);
        outbox_list_free(&l);
        assert_int_equal(outbox_put(o, ID_B, msg_b, strlen(msg_b), SIG_B, &err), RW_OK);
        assert_int_equal(outbox_list(o, &l, &err), RW_OK);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.entries[0].id, ID_A);
        assert_string_equal(l.entries[1].id, ID_B);
        outbox_list_free(&l);
        outbox_close(o);
}

static void an_interrupted_write_leaves_nothing(void **state)
{
        struct fx *f = *state;
        struct outbox_list l;
        struct rwerr err;
        char path[192];
        struct outbox *o = open_ok(f);

        outbox_close(o);
        (void)snprintf(path, sizeof path, "%s/00000000000000000007-" ID_A ".msg.tmp", f->dir);
        write_file(path, "relaywatch-outbox-v1 " ID_A " half");
        o = open_ok(f);
        assert_int_equal(access(path, F_OK), -1); /* removed at open */
        assert_int_equal(outbox_list(o, &l, &err), RW_OK);
        assert_int_equal(l.n, 0);
        outbox_list_free(&l);
        outbox_close(o);
}

static void a_damaged_file_is_named_and_kept(void **state)
{
        struct fx *f = *state;
        struct outbox_list l;
        struct rwerr err;
        char path[192];
        struct outbox *o = open_ok(f);

        (void)snprintf(path, sizeof path, "%s/00000000000000000003-" ID_A ".msg", f->dir);
        write_file(path, "not an outbox file\n{}");
        assert_int_equal(outbox_list(o, &l, &err), RW_ERR_PROTOCOL);
        assert_non_null(strstr(err.msg, "00000000000000000003-" ID_A ".msg"));
        assert_non_null(strstr(err.msg, "left in place"));
        assert_int_equal(l.n, 0);
        assert_int_equal(access(path, F_OK), 0);

        /* a first line naming another message is refused the same way */
        write_file(path, "relaywatch-outbox-v1 " ID_B " " SIG_B "\n{}");
        assert_int_equal(outbox_list(o, &l, &err), RW_ERR_PROTOCOL);
        assert_non_null(strstr(err.msg, "does not name message " ID_A));
        outbox_close(o);
}

static void bad_input_is_refused(void **state)
{
        struct fx *f = *state;
        struct rwerr err;
        struct outbox *o;

        o = open_ok(f);
        assert_int_equal(outbox_put(o, "../escape", "{}", 2, SIG_A, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "'../escape'"));
        assert_int_equal(outbox_put(o, ID_A, "{}", 2, "short", &err), RW_ERR_INVALID);
        outbox_close(o);

        /* a directory others may read is not a place for halts */
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_null(outbox_open(f->dir, &err));
        assert_non_null(strstr(err.msg, "mode 0755"));
        assert_non_null(strstr(err.msg, "chmod 700"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(kept_in_order_across_a_restart_until_delivered,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(an_interrupted_write_leaves_nothing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_damaged_file_is_named_and_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_input_is_refused, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
