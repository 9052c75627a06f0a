/*
 * TLS in chain/rpc: certificates are always verified, and an extra CA file
 * is how an operator trusts a private provider. A throwaway self-signed
 * certificate is served by `openssl s_server` on loopback: without the CA
 * file the handshake is refused; with it the handshake succeeds (s_server
 * then never answers a POST, so the exchange ends in a timeout, not a TLS
 * error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc.h"
#include "rwerr.h"
#include "test_util.h"

struct tls_server {
        char dir[64];
        char cert[128];
        char key[128];
        char url[64];
        pid_t pid;
};

/* Runs argv to completion with its output discarded; returns its exit status. */
static int run(char *const argv[])
{
        pid_t pid = fork();
        int status = -1;

        if (pid == 0) {
                int devnull = open("/dev/null", O_RDWR);

                if (devnull >= 0) {
                        dup2(devnull, STDIN_FILENO);
                        dup2(devnull, STDOUT_FILENO);
                        dup2(devnull, STDERR_FILENO);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int setup(void **state)
{
        struct tls_server *s = calloc(1, sizeof *s);
        char accept[32];
        uint16_t port;
        int i;

        if (s == NULL)
                return -1;
        *state = s;
        snprintf(s->dir, sizeof s->dir, "/tmp/relaywatch-tls.XXXXXX");
        if (mkdtemp(s->dir) == NULL)
                return -1;
        snprintf(s->cert, sizeof s->cert, "%s/cert.pem", s->dir);
        snprintf(s->key, sizeof s->key, "%s/key.pem", s->dir);
        {
                char *const req[] = {
                        "openssl",  "req",           "-x509",   "-newkey",
                        "rsa:2048", "-nodes",        "-keyout", s->key,
                        "-out",     s->cert,         "-days",   "1",
                        "-subj",    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        NULL};

                if (run(req) != 0) {
                        fprintf(stderr, "openssl req failed: is openssl installed?\n");
                        return -1;
                }
        }
        port = test_free_port();
        snprintf(accept, sizeof accept, "127.0.0.1:%u", (unsigned)port);
        snprintf(s->url, sizeof s->url, "https://127.0.0.1:%u/", (unsigned)port);
        s->pid = fork();
        if (s->pid == 0) {
                int devnull = open("/dev/null", O_RDWR);

                if (devnull >= 0) {
                        dup2(devnull, STDIN_FILENO);
                        dup2(devnull, STDOUT_FILENO);
                        dup2(devnull, STDERR_FILENO);
                }
                execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert", s->cert,
                       "-key", s->key, "-www", "-quiet", (char *)NULL);
                _exit(127);
        }
        for (i = 0; i < 200 && !test_port_accepts(port); i++)
                nanosleep(&(struct timespec){0, 25000000L}, NULL);
        return test_port_accepts(port) ? 0 : -1;
}

static int teardown(void **state)
{
        struct tls_server *s = *state;

        if (s->pid > 0) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, NULL, 0);
        }
        remove(s->cert);
        remove(s->key);
        rmdir(s->dir);
        free(s);
        return 0;
}

static int exchange(const struct tls_server *s, const char *ca_file, struct rwerr *err)
{
        struct rpc_config cfg = {0};
        struct rpc_client *c;
        struct rpc_batch *b = rpc_batch_new();
        int rc;

        cfg.url = s->url;
        cfg.name = "tls";
        cfg.ca_file = ca_file;
        /* Long enough for a TLS handshake under valgrind on a loaded machine:
         * at 1.5 s a refused handshake could end as a timeout instead. */
        cfg.timeout_ms = 5000;
        c = rpc_client_new(&cfg, err);
        assert_non_null(c);
        assert_non_null(b);
        assert_int_equal(rpc_batch_add(b, "eth_chainId", NULL, err), 0);
        rc = rpc_batch_send(c, b, err);
        rpc_batch_free(b);
        rpc_client_free(c);
        return rc;
}

static void unknown_certificate_is_refused(void **state)
{
        struct rwerr err;

        assert_int_equal(exchange(*state, NULL, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "SSL peer certificate or SSH remote key was not OK"));
}

static void certificate_from_the_ca_file_is_trusted(void **state)
{
        const struct tls_server *s = *state;
        struct rwerr err;

        /* The handshake passes; s_server then leaves the POST unanswered. */
        assert_int_equal(exchange(s, s->cert, &err), RW_ERR_TIMEOUT);
        assert_null(strstr(err.msg, "SSL"));
}

static void missing_ca_file_is_an_error(void **state)
{
        struct rwerr err;

        assert_int_equal(exchange(*state, "/nonexistent/ca.pem", &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "tls (https://127.0.0.1:"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(unknown_certificate_is_refused),
                cmocka_unit_test(certificate_from_the_ca_file_is_trusted),
                cmocka_unit_test(missing_ca_file_is_an_error),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, setup, teardown);
}
