#include "cli_args.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define HELP_KEY 'h'

static void vusage(const struct cli_command *cmd, FILE *errout, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void vusage(const struct cli_command *cmd, FILE *errout, const char *fmt, va_list ap)
{
        fprintf(errout, "relaywatch%s%s: ", cmd != NULL ? " " : "", cmd != NULL ? cmd->name : "");
        vfprintf(errout, fmt, ap);
        if (cmd != NULL)
                fprintf(errout, "\nUsage: %s\nRun 'relaywatch %s --help' for details.\n",
                        cmd->usage, cmd->name);
        else
                fprintf(errout, "\nRun 'relaywatch --help' for the list of commands.\n");
}

int cli_usage_error(const struct cli_command *cmd, FILE *errout, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vusage(cmd, errout, fmt, ap);
        va_end(ap);
        return CLI_EXIT_USAGE;
}

void cli_error(const struct cli_command *cmd, FILE *errout, const char *fmt, ...)
{
        va_list ap;

        fprintf(errout, "relaywatch %s: ", cmd->name);
        va_start(ap, fmt);
        vfprintf(errout, fmt, ap);
        va_end(ap);
        fputc('\n', errout);
}

void cli_print_help(const struct cli_command *cmd, FILE *out)
{
        if (cmd->help != NULL)
                fprintf(out, "Usage: %s\n\n%s", cmd->usage, cmd->help);
        else
                fprintf(out, "Usage: %s\n\n%s.\n", cmd->usage, cmd->summary);
}

int cli_is_help(const char *arg)
{
        return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

void cli_args_init(struct cli_args *a, const struct cli_command *cmd,
                   const struct cli_option *options, size_t n, int argc, char **argv, FILE *out,
                   FILE *errout)
{
        memset(a, 0, sizeof *a);
        a->cmd = cmd;
        a->options = options;
        a->noptions = n < CLI_OPTIONS_MAX ? n : CLI_OPTIONS_MAX;
        a->argc = argc;
        a->argv = argv;
        a->out = out;
        a->errout = errout;
        a->next = argc;
}

/* The getopt_long tables: "+:" (stop at the first argument, report a missing value) and ours. */
static void build_tables(struct cli_args *a)
{
        size_t i, s = 0;

        a->shortopts[s++] = '+';
        a->shortopts[s++] = ':';
        for (i = 0; i < a->noptions; i++) {
                const struct cli_option *o = &a->options[i];

                a->longopts[i].name = o->name;
                a->longopts[i].has_arg = o->value != NULL ? required_argument : no_argument;
                a->longopts[i].flag = NULL;
                a->longopts[i].val = o->key;
                if (o->key >= CLI_OPT_LONG)
                        continue;
                a->shortopts[s++] = (char)o->key;
                if (o->value != NULL)
                        a->shortopts[s++] = ':';
        }
        a->longopts[i].name = "help";
        a->longopts[i].has_arg = no_argument;
        a->longopts[i].val = HELP_KEY;
        a->shortopts[s++] = HELP_KEY;
        a->shortopts[s] = '\0';
}

static const struct cli_option *find_option(const struct cli_args *a, int key, size_t *index)
{
        size_t i;

        for (i = 0; i < a->noptions; i++) {
                if (a->options[i].key == key) {
                        *index = i;
                        return &a->options[i];
                }
        }
        return NULL;
}

/* a.typed: "--NAME" when it was written long (or has no letter), else "-L". */
static void set_typed(struct cli_args *a, const struct cli_option *o, int as_long)
{
        if (as_long || o->key >= CLI_OPT_LONG)
                (void)snprintf(a->typed_buf, sizeof a->typed_buf, "--%s", o->name);
        else
                (void)snprintf(a->typed_buf, sizeof a->typed_buf, "-%c", (char)o->key);
        a->typed = a->typed_buf;
}

static int refuse(struct cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(struct cli_args *a, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vusage(a->cmd, a->errout, fmt, ap);
        va_end(ap);
        a->exit_code = CLI_EXIT_USAGE;
        return CLI_ARGS_EXIT;
}

/* "the file" for FILE: how a message names an option's value. */
static const char *value_noun(const char *value, char *buf, size_t cap)
{
        size_t i;

        for (i = 0; value[i] != '\0' && i + 1 < cap; i++)
                buf[i] = (char)tolower((unsigned char)value[i]);
        buf[i] = '\0';
        return buf;
}

/*
 * With RELAYWATCH_PARSE_ONLY in the environment, a command line whose
 * options parse ends there: status 0 and nothing done. The runbooks' test
 * checks every command line a runbook shows with it.
 */
static int parsed(struct cli_args *a, int opt)
{
        if (opt != CLI_ARGS_END || getenv("RELAYWATCH_PARSE_ONLY") == NULL)
                return opt;
        a->exit_code = CLI_EXIT_OK;
        return CLI_ARGS_EXIT;
}

/* After the last option: what follows must be at most max_positional arguments. */
static int finish(struct cli_args *a)
{
        int first = optind > 0 ? optind : 1;

        if (first < a->argc && (size_t)(a->argc - first) > a->max_positional)
                return refuse(a, "unexpected argument '%s'",
                              a->argv[first + (int)a->max_positional]);
        a->next = first;
        return CLI_ARGS_END;
}

/* A value option with its value in optarg. */
static int take_value(struct cli_args *a, const struct cli_option *o, size_t index)
{
        char noun[32];

        if (optarg == NULL || optarg[0] == '\0')
                return refuse(a, "%s needs a %s", a->typed, o->value);
        if (a->given[index])
                return refuse(a, "%s: the %s is given twice", a->typed,
                              value_noun(o->value, noun, sizeof noun));
        a->given[index] = 1;
        a->value = optarg;
        return o->key;
}

int cli_args_next(struct cli_args *a)
{
        const struct cli_option *o;
        size_t index = 0;
        int at, c, as_long;

        if (!a->started) {
                build_tables(a);
                optind = 0; /* glibc: start over, whatever the last parse left */
                opterr = 0;
                a->started = 1;
        }
        /* the argument getopt looks at: the one this option is written in */
        at = optind > 0 ? optind : 1;
        as_long = at < a->argc && strncmp(a->argv[at], "--", 2) == 0;
        a->value = NULL;
        c = getopt_long(a->argc, a->argv, a->shortopts, a->longopts, NULL);
        if (c == -1)
                return a->around_word ? finish(a) : parsed(a, finish(a));
        if (c == HELP_KEY) {
                cli_print_help(a->cmd, a->out);
                a->exit_code = CLI_EXIT_OK;
                return CLI_ARGS_EXIT;
        }
        if (c == '?') {
                /* unknown, ambiguous, or a flag given a value (--json=yes) */
                if (as_long && optopt != 0 && (o = find_option(a, optopt, &index)) != NULL) {
                        set_typed(a, o, 1);
                        return refuse(a, "%s takes no value", a->typed);
                }
                if (as_long)
                        return refuse(a, "unexpected argument '%s'", a->argv[at]);
                return refuse(a, "unexpected argument '-%c'", optopt);
        }
        o = find_option(a, c == ':' ? optopt : c, &index);
        if (o == NULL) /* cannot happen: getopt returns only what the tables hold */
                return refuse(a, "unexpected argument '%s'", a->argv[at]);
        set_typed(a, o, as_long);
        if (c == ':')
                return refuse(a, "%s needs a %s", a->typed, o->value);
        if (o->value != NULL)
                return take_value(a, o, index);
        return o->key;
}

int cli_args_next_around_word(struct cli_args *a)
{
        int opt;

        a->around_word = 1;
        for (;;) {
                a->max_positional = (size_t)a->argc; /* the words are judged here */
                opt = cli_args_next(a);
                if (opt != CLI_ARGS_END || a->next >= a->argc)
                        return parsed(a, opt);
                if (a->word != NULL)
                        return refuse(a, "unexpected argument '%s'", a->argv[a->next]);
                a->word = a->argv[a->next];
                /* on after the word as if it were the command's name; a->given stays */
                a->argv += a->next;
                a->argc -= a->next;
                a->started = 0;
        }
}

int cli_args_number(struct cli_args *a, uint64_t min, uint64_t max, uint64_t *out)
{
        const char *s = a->value;
        uint64_t v = 0;
        size_t i;

        for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
                unsigned d = (unsigned)(s[i] - '0');

                if (v > (UINT64_MAX - d) / 10)
                        break;
                v = v * 10 + d;
        }
        if (i > 0 && s[i] == '\0' && v >= min && v <= max) {
                *out = v;
                return 0;
        }
        if (max == UINT64_MAX)
                (void)refuse(a, "%s '%s': expected a number of at least %llu", a->typed, s,
                             (unsigned long long)min);
        else
                (void)refuse(a, "%s '%s': expected a number from %llu to %llu", a->typed, s,
                             (unsigned long long)min, (unsigned long long)max);
        return a->exit_code;
}
