/*
 * cli: the relaywatch command line (the public interface the README documents).
 *
 * cli_main parses argv, runs one command and returns the process exit code.
 * Output goes to `out`, diagnostics to `errout`, so tests can run it on
 * memory streams exactly as main() runs it on stdout and stderr.
 */
#ifndef RELAYWATCH_CLI_H
#define RELAYWATCH_CLI_H

#include <stdio.h>

/* Exit codes shared by every command (validate adds 1 and 2 for verdicts). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 64 /* bad command line, as EX_USAGE in sysexits.h */

int cli_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
