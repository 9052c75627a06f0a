/*
 * anvil_proc: an anvil chain of a test's own, started, killed and restarted
 * on the same port, for tests of failover and recovery. The shared stack's
 * chains are never killed; tests that kill a chain start their own.
 */
#ifndef RELAYWATCH_TEST_ANVIL_PROC_H
#define RELAYWATCH_TEST_ANVIL_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct rwerr;

struct anvil_proc {
        pid_t pid; /* 0 while stopped */
        uint16_t port;
        uint64_t chain_id;
        char url[64];
        char anvil[512]; /* path of the anvil binary */
};

/*
 * Starts anvil (path from $RELAYWATCH_ANVIL) on a free loopback port with
 * `chain_id`, and waits until it answers eth_chainId. Returns 0 or an error.
 */
int anvil_proc_start(struct anvil_proc *a, uint64_t chain_id, struct rwerr *err);

/* Starts it again on the same port after anvil_proc_kill. */
int anvil_proc_restart(struct anvil_proc *a, struct rwerr *err);

/* SIGKILL and reap; no-op when not running. */
void anvil_proc_kill(struct anvil_proc *a);

/*
 * Kills every anvil this process started and has not killed: for a test's
 * teardown, since a failed assertion jumps past the test's own cleanup.
 */
void anvil_proc_kill_all(void);

#endif
