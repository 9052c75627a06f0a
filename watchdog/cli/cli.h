/*
 * cli: the relaywatch command line (the public interface the README documents).
 *
 * cli_main parses argv, runs one command and returns the process exit code.
 * Output goes to `out`, diagnostics to `errout`, so tests can run it on
 * memory streams exactly as main() runs it on stdout and stderr.
 */
#ifndef RELAYWATCH_CLI_H
#define RELAYWATCH_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes shared by every command (validate adds 1 and 2 for verdicts). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 64 /* bad command line, as EX_USAGE in sysexits.h */

int cli_main(int argc, char **argv, FILE *out, FILE *errout);

/*
 * What `relaywatch status --json -c CONFIG` prints (malloc'd, its length
 * in *len), for GET /status of `relaywatch run` (supervisor.h); `config`
 * is the path (a const char *). NULL when out of memory. The command's
 * stderr is dropped: its problems are in the JSON. It parses its
 * arguments with getopt, which nothing else in a running supervisor does.
 */
char *cli_status_json(void *config, size_t *len);

#endif
