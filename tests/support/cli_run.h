/*
 * cli_run: runs the relaywatch command line in-process, as main() does,
 * with its output and diagnostics captured, for the cmocka tests of the
 * commands.
 */
#ifndef RELAYWATCH_CLI_RUN_H
#define RELAYWATCH_CLI_RUN_H

struct cli_run {
        int code;  /* cli_main's exit code */
        char *out; /* what it printed to stdout; free with cli_run_free */
        char *err; /* and to stderr */
};

/* cli_main(argc, argv) on memory streams; fails the test if they cannot be opened. */
struct cli_run cli_run(int argc, char **argv);
void cli_run_free(struct cli_run *r);

#endif
