#include "anvil_proc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rwerr.h"
#include "test_rpc.h"
#include "test_util.h"

#define ANVIL_PROC_MAX 16

/* The pids this process started and has not reaped yet. */
static pid_t running[ANVIL_PROC_MAX];

static void remember(pid_t pid)
{
        size_t i;

        for (i = 0; i < ANVIL_PROC_MAX; i++) {
                if (running[i] == 0) {
                        running[i] = pid;
                        return;
                }
        }
}

static void forget(pid_t pid)
{
        size_t i;

        for (i = 0; i < ANVIL_PROC_MAX; i++) {
                if (running[i] == pid)
                        running[i] = 0;
        }
}

void anvil_proc_kill_all(void)
{
        size_t i;

        for (i = 0; i < ANVIL_PROC_MAX; i++) {
                if (running[i] > 0) {
                        kill(running[i], SIGKILL);
                        waitpid(running[i], NULL, 0);
                        running[i] = 0;
                }
        }
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

static int spawn(struct anvil_proc *a, struct rwerr *err)
{
        char port[16], chain[32];
        pid_t pid;
        int i;

        snprintf(port, sizeof port, "%u", (unsigned)a->port);
        snprintf(chain, sizeof chain, "%llu", (unsigned long long)a->chain_id);
        pid = fork();
        if (pid < 0)
                return rwerr_set(err, RW_ERR_IO, "fork failed");
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDWR);

                if (devnull >= 0) {
                        dup2(devnull, STDIN_FILENO);
                        dup2(devnull, STDOUT_FILENO);
                        dup2(devnull, STDERR_FILENO);
                }
                execl(a->anvil, a->anvil, "--host", "127.0.0.1", "--port", port, "--chain-id",
                      chain, "--silent", (char *)NULL);
                _exit(127);
        }
        a->pid = pid;
        remember(pid);
        /* Up to 20 s for the first eth_chainId answer from our own process. */
        for (i = 0; i < 400; i++) {
                struct rwerr ignored;
                char *id;
                int status;

                if (waitpid(pid, &status, WNOHANG) == pid) {
                        forget(pid);
                        a->pid = 0;
                        return rwerr_set(err, RW_ERR_IO, "anvil exited at start (port %s taken?)",
                                         port);
                }
                id = test_rpc_call(a->url, "eth_chainId", "[]", &ignored);
                if (id != NULL) {
                        free(id);
                        /* Make sure the answer came from our process, not a neighbour's. */
                        sleep_ms(100);
                        if (waitpid(pid, &status, WNOHANG) == pid) {
                                forget(pid);
                                a->pid = 0;
                                return rwerr_set(err, RW_ERR_IO,
                                                 "anvil exited at start (port %s taken)", port);
                        }
                        return RW_OK;
                }
                sleep_ms(50);
        }
        anvil_proc_kill(a);
        return rwerr_set(err, RW_ERR_TIMEOUT, "anvil on port %s did not answer within 20 s", port);
}

int anvil_proc_start(struct anvil_proc *a, uint64_t chain_id, struct rwerr *err)
{
        const char *path = getenv("RELAYWATCH_ANVIL");
        int attempt, rc = RW_ERR_IO;

        memset(a, 0, sizeof *a);
        if (path == NULL)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "RELAYWATCH_ANVIL is not set (ctest sets it)");
        snprintf(a->anvil, sizeof a->anvil, "%s", path);
        a->chain_id = chain_id;
        for (attempt = 0; attempt < 5 && rc != RW_OK; attempt++) {
                a->port = test_free_port();
                snprintf(a->url, sizeof a->url, "http://127.0.0.1:%u", (unsigned)a->port);
                rc = spawn(a, err);
        }
        return rc;
}

int anvil_proc_restart(struct anvil_proc *a, struct rwerr *err)
{
        return spawn(a, err);
}

void anvil_proc_kill(struct anvil_proc *a)
{
        if (a->pid > 0) {
                kill(a->pid, SIGKILL);
                waitpid(a->pid, NULL, 0);
                forget(a->pid);
                a->pid = 0;
        }
}
