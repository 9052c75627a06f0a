/*
 * cli_args: what every command of the command line shares before it does
 * anything: its descriptor (name, usage line, one-line summary, --help
 * text), the getopt_long loop over its option table, and the one way a
 * command reports a bad command line.
 *
 * Every command parses the same way: `--config=FILE`, `--config FILE`,
 * `-cFILE` and `-c FILE` are one; a long option may be shortened while it
 * stays unambiguous; `--` ends the options; `-h` and `--help` print the
 * command's help and exit 0. A mistake is reported by cli_usage_error as
 *
 *     relaywatch CMD: MESSAGE
 *     Usage: relaywatch CMD ...
 *     Run 'relaywatch CMD --help' for details.
 *
 * with exit status 64, and the messages are the same for every command:
 * "-c needs a FILE", "--config: the file is given twice", "unexpected
 * argument 'X'", "--json takes no value".
 *
 *     static const struct cli_option options[] = {
 *             CLI_OPTION_CONFIG,
 *             {"json", OPT_JSON, NULL},
 *     };
 *     struct cli_args a;
 *     int opt;
 *
 *     cli_args_init(&a, &cmd_validate_command, options, CLI_NOPTIONS(options), argc, argv,
 *                   out, errout);
 *     while ((opt = cli_args_next(&a)) > 0) {
 *             switch (opt) {
 *             case 'c': config = a.value; break;
 *             case OPT_JSON: json = 1; break;
 *             }
 *     }
 *     if (opt == CLI_ARGS_EXIT)
 *             return a.exit_code;
 *
 * The parser keeps getopt's global state, so one command line is parsed
 * at a time (what a process does; the tests run commands one after
 * another).
 */
#ifndef RELAYWATCH_CLI_ARGS_H
#define RELAYWATCH_CLI_ARGS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One command (or subcommand) of the command line. */
struct cli_command {
        const char *name;    /* as typed after "relaywatch": "validate", "control tail" */
        const char *usage;   /* its usage line, without "Usage: " */
        const char *summary; /* one line for `relaywatch --help` */
        const char *help;    /* what --help prints after the usage line; NULL: the summary */
        /* argv[0] is the command's own name; returns the exit status */
        int (*run)(int argc, char **argv, FILE *out, FILE *errout);
};

/* One entry of a command's option table. */
struct cli_option {
        const char *name;  /* the long name, without "--" */
        int key;           /* its short letter, or CLI_OPT_LONG + n for a long-only option */
        const char *value; /* the value's name ("FILE"); NULL for a flag */
};

#define CLI_OPT_LONG 256 /* keys from here on have no short letter */
#define CLI_OPTION_CONFIG                                                                          \
        {                                                                                          \
                "config", 'c', "FILE"                                                              \
        }
#define CLI_OPTIONS_MAX 12
#define CLI_NOPTIONS(table) (sizeof(table) / sizeof((table)[0]))

/* cli_args_next's results besides an option's key. */
#define CLI_ARGS_END 0     /* the options are read; positional arguments from a.next */
#define CLI_ARGS_EXIT (-1) /* return a.exit_code: help was printed, or a usage error reported */

struct cli_args {
        /* for the command, after cli_args_next */
        const char *value;     /* the value of the option returned (NULL for a flag) */
        const char *typed;     /* the option's name as a user writes it: "-c", "--config" */
        int exit_code;         /* after CLI_ARGS_EXIT */
        int next;              /* after CLI_ARGS_END: the first positional argument */
        const char *word;      /* after CLI_ARGS_END of cli_args_next_around_word: the WORD */
        size_t max_positional; /* positional arguments allowed (set after init); default 0 */
        /* the parser's own */
        const struct cli_command *cmd;
        const struct cli_option *options;
        size_t noptions;
        int argc;
        char **argv;
        FILE *out, *errout;
        int started;
        int around_word; /* parsing for cli_args_next_around_word */
        char typed_buf[64];
        unsigned char given[CLI_OPTIONS_MAX];
        struct option longopts[CLI_OPTIONS_MAX + 2];
        char shortopts[3 * CLI_OPTIONS_MAX + 8];
};

/*
 * Sets `a` up to parse argv[1..argc) of `cmd` (argv[0] is the command's
 * name) with options[0..n) and -h/--help; nothing is read yet. Everything
 * is borrowed. n is at most CLI_OPTIONS_MAX.
 */
void cli_args_init(struct cli_args *a, const struct cli_command *cmd,
                   const struct cli_option *options, size_t n, int argc, char **argv, FILE *out,
                   FILE *errout);

/*
 * The next option: its key (> 0) with a.value and a.typed set; CLI_ARGS_END
 * when the options are read and at most max_positional arguments follow;
 * CLI_ARGS_EXIT when the command must return a.exit_code (--help printed:
 * 0; a usage error reported: 64). An option that takes a value and is
 * given twice, a missing or empty value, an unknown option and a stray
 * argument are usage errors.
 */
int cli_args_next(struct cli_args *a);

/*
 * cli_args_next for a command that takes one positional WORD (a NAME, an
 * ID, a ROUTE) and lets it stand before, between or after the options:
 * "silence expire ID -c FILE" and "silence expire -c FILE ID" are one. The
 * options on both sides are read as one command line, so a value given on
 * each side is given twice. After CLI_ARGS_END, a.word is the WORD, or NULL
 * when none was given (the command says whether it needs one); a second
 * word is the usage error "unexpected argument 'Y'". a.word points into
 * argv, borrowed like every a.value. It reads on past the word by moving
 * a.argv and a.argc up to it, so a.next and max_positional mean nothing here.
 */
int cli_args_next_around_word(struct cli_args *a);

/*
 * a.value as a number in [min, max] into *out: 0, or the usage error
 * "OPTION 'VALUE': expected a number from MIN to MAX" reported and 64.
 */
int cli_args_number(struct cli_args *a, uint64_t min, uint64_t max, uint64_t *out)
        __attribute__((warn_unused_result));

/*
 * The one usage-error path: prints "relaywatch NAME: MESSAGE", the
 * command's usage line and where its help is to errout, and returns 64
 * (CLI_EXIT_USAGE). `cmd` NULL: a mistake before any command was chosen
 * ("relaywatch: MESSAGE" and where the list of commands is).
 */
int cli_usage_error(const struct cli_command *cmd, FILE *errout, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A failure of the command's own work (not of its command line): "relaywatch NAME: MESSAGE". */
void cli_error(const struct cli_command *cmd, FILE *errout, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A command's --help: "Usage: ..." and its help text. */
void cli_print_help(const struct cli_command *cmd, FILE *out);

/* Whether `arg` asks for help: "-h" or "--help". */
int cli_is_help(const char *arg);

#endif
