/*
 * Unit tests for watchdog/sdnotify on real AF_UNIX datagram sockets: a path
 * socket in a fresh temporary directory and an abstract one, standing in
 * for systemd's notify socket. What arrives must be byte-exact; an unset
 * NOTIFY_SOCKET is a silent success; a bad one is an error that names it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rwerr.h"
#include "sdnotify.h"

struct listener {
        char dir[64];
        char path[128]; /* the path socket, or "" */
        char env[128];  /* the NOTIFY_SOCKET value */
        int fd;
};

/* A datagram socket bound where NOTIFY_SOCKET says; 1 s receive timeout. */
static void listen_on(struct listener *l, int abstract)
{
        struct sockaddr_un sa;
        struct timeval tv = {1, 0};
        socklen_t len;

        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(l->fd >= 0);
        if (abstract) {
                static unsigned serial;
                int n = snprintf(l->env, sizeof l->env, "@relaywatch-test-notify-%d-%u",
                                 (int)getpid(), ++serial);

                memcpy(sa.sun_path + 1, l->env + 1, (size_t)n - 1);
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n);
        } else {
                (void)snprintf(l->path, sizeof l->path, "%s/notify", l->dir);
                (void)snprintf(l->env, sizeof l->env, "%s", l->path);
                assert_true(strlen(l->path) < sizeof sa.sun_path);
                memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
                len = (socklen_t)sizeof sa;
        }
        assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, len), 0);
        assert_int_equal(setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
        assert_int_equal(setenv("NOTIFY_SOCKET", l->env, 1), 0);
}

static int setup(void **state)
{
        struct listener *l = calloc(1, sizeof *l);

        if (l == NULL)
                return -1;
        (void)snprintf(l->dir, sizeof l->dir, "/tmp/relaywatch-test-sdnotify-XXXXXX");
        if (mkdtemp(l->dir) == NULL) {
                free(l);
                return -1;
        }
        l->fd = -1;
        *state = l;
        return 0;
}

static int teardown(void **state)
{
        struct listener *l = *state;

        if (l->fd >= 0)
                (void)close(l->fd);
        if (l->path[0] != '\0')
                (void)unlink(l->path);
        (void)rmdir(l->dir);
        free(l);
        (void)unsetenv("NOTIFY_SOCKET");
        (void)unsetenv("WATCHDOG_USEC");
        (void)unsetenv("WATCHDOG_PID");
        return 0;
}

/* Receives one datagram and checks it is exactly `want`. */
static void expect_datagram(const struct listener *l, const char *want)
{
        char buf[SDNOTIFY_STATE_MAX + 16];
        ssize_t n = recv(l->fd, buf, sizeof buf, 0);

        if (n < 0)
                fail_msg("nothing arrived on %s: %s", l->env, strerror(errno));
        assert_int_equal((size_t)n, strlen(want));
        assert_memory_equal(buf, want, (size_t)n);
}

/* Nothing more is waiting on the socket. */
static void expect_nothing(const struct listener *l)
{
        char buf[64];

        assert_int_equal(recv(l->fd, buf, sizeof buf, MSG_DONTWAIT), -1);
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void states_arrive_byte_exact(const struct listener *l)
{
        struct rwerr err;

        assert_int_equal(sdnotify_send("READY=1", &err), RW_OK);
        expect_datagram(l, "READY=1");
        assert_int_equal(sdnotify_ready("watching 2 chains", &err), RW_OK);
        expect_datagram(l, "READY=1\nSTATUS=watching 2 chains");
        assert_int_equal(sdnotify_ready(NULL, &err), RW_OK);
        expect_datagram(l, "READY=1");
        assert_int_equal(sdnotify_status(&err, "cycle %d: %s", 42, "ok"), RW_OK);
        expect_datagram(l, "STATUS=cycle 42: ok");
        assert_int_equal(sdnotify_watchdog(&err), RW_OK);
        expect_datagram(l, "WATCHDOG=1");
        assert_int_equal(sdnotify_stopping(&err), RW_OK);
        expect_datagram(l, "STOPPING=1");
        expect_nothing(l);
}

static void path_socket(void **state)
{
        struct listener *l = *state;

        listen_on(l, 0);
        states_arrive_byte_exact(l);
}

static void abstract_socket(void **state)
{
        struct listener *l = *state;

        listen_on(l, 1);
        states_arrive_byte_exact(l);
}

static void reloading_carries_the_monotonic_clock(void **state)
{
        struct listener *l = *state;
        char buf[128];
        struct timespec before, after;
        unsigned long long usec;
        char *end = NULL;
        ssize_t n;
        struct rwerr err;

        listen_on(l, 0);
        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &before), 0);
        assert_int_equal(sdnotify_reloading(&err), RW_OK);
        assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &after), 0);
        n = recv(l->fd, buf, sizeof buf - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_int_equal(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
        usec = strtoull(buf + 27, &end, 10);
        assert_string_equal(end, "");
        assert_true(usec >= (unsigned long long)before.tv_sec * 1000000ull +
                                    (unsigned long long)before.tv_nsec / 1000ull);
        assert_true(usec <= (unsigned long long)after.tv_sec * 1000000ull +
                                    (unsigned long long)after.tv_nsec / 1000ull);
}

static void long_status_is_cut_at_the_limit(void **state)
{
        struct listener *l = *state;
        char *big = malloc(SDNOTIFY_STATE_MAX + 100);
        char *want = malloc(SDNOTIFY_STATE_MAX);
        struct rwerr err;

        assert_non_null(big);
        assert_non_null(want);
        listen_on(l, 1);
        memset(big, 'x', SDNOTIFY_STATE_MAX + 99);
        big[SDNOTIFY_STATE_MAX + 99] = '\0';
        assert_int_equal(sdnotify_status(&err, "%s", big), RW_OK);
        memcpy(want, "STATUS=", 7);
        memset(want + 7, 'x', SDNOTIFY_STATE_MAX - 8);
        want[SDNOTIFY_STATE_MAX - 1] = '\0';
        expect_datagram(l, want);
        /* a raw state that long is refused, not cut */
        assert_int_equal(sdnotify_send(big, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "limit is 4095"));
        expect_nothing(l);
        free(big);
        free(want);
}

static void unset_socket_sends_nothing_and_succeeds(void **state)
{
        struct rwerr err;

        (void)state;
        assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
        assert_int_equal(sdnotify_send("READY=1", &err), RW_OK);
        assert_int_equal(sdnotify_watchdog(&err), RW_OK);
        assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
        assert_int_equal(sdnotify_ready("x", &err), RW_OK);
        /* a caller's mistake shows outside systemd too */
        assert_int_equal(sdnotify_send("", &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "empty state"));
}

static void bad_socket_names_are_clear_errors(void **state)
{
        struct listener *l = *state;
        char longpath[200], missing[160];
        struct rwerr err;

        assert_int_equal(setenv("NOTIFY_SOCKET", "run/notify", 1), 0);
        assert_int_equal(sdnotify_send("READY=1", &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "NOTIFY_SOCKET=\"run/notify\""));
        assert_non_null(strstr(err.msg, "neither an absolute path"));

        assert_int_equal(setenv("NOTIFY_SOCKET", "@", 1), 0);
        assert_int_equal(sdnotify_send("READY=1", &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "abstract socket name is empty"));

        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = '\0';
        assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
        assert_int_equal(sdnotify_send("READY=1", &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "path of 199 bytes"));
        longpath[0] = '@';
        assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
        assert_int_equal(sdnotify_send("READY=1", &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "abstract name of 198 bytes"));

        /* well formed, but nobody listens there */
        (void)snprintf(missing, sizeof missing, "%s/nobody", l->dir);
        assert_int_equal(setenv("NOTIFY_SOCKET", missing, 1), 0);
        assert_int_equal(sdnotify_send("READY=1", &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, missing));
        assert_non_null(strstr(err.msg, strerror(ENOENT)));

        /* an empty state is a caller's mistake */
        listen_on(l, 0);
        assert_int_equal(sdnotify_send("", &err), RW_ERR_INVALID);
        assert_int_equal(sdnotify_send(NULL, &err), RW_ERR_INVALID);
        expect_nothing(l);
}

static void watchdog_interval_follows_the_environment(void **state)
{
        char pid[24];
        uint64_t usec = 7;

        (void)state;
        assert_int_equal(unsetenv("WATCHDOG_USEC"), 0);
        assert_int_equal(unsetenv("WATCHDOG_PID"), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(usec, 7);

        assert_int_equal(setenv("WATCHDOG_USEC", "30000000", 1), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 1);
        assert_int_equal(usec, 30000000);

        (void)snprintf(pid, sizeof pid, "%d", (int)getpid());
        assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
        usec = 7;
        assert_int_equal(sdnotify_watchdog_interval(&usec), 1);
        assert_int_equal(usec, 30000000);

        /* meant for another process (our parent, before a fork) */
        (void)snprintf(pid, sizeof pid, "%d", (int)getpid() + 1);
        assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
        usec = 7;
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(usec, 7);
        assert_int_equal(setenv("WATCHDOG_PID", "garbage", 1), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(unsetenv("WATCHDOG_PID"), 0);

        assert_int_equal(setenv("WATCHDOG_USEC", "0", 1), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(setenv("WATCHDOG_USEC", "-5", 1), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(setenv("WATCHDOG_USEC", "30s", 1), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(setenv("WATCHDOG_USEC", "99999999999999999999999", 1), 0);
        assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
        assert_int_equal(usec, 7);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(path_socket, setup, teardown),
                cmocka_unit_test_setup_teardown(abstract_socket, setup, teardown),
                cmocka_unit_test_setup_teardown(reloading_carries_the_monotonic_clock, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(long_status_is_cut_at_the_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(unset_socket_sends_nothing_and_succeeds, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(bad_socket_names_are_clear_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(watchdog_interval_follows_the_environment, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
