#include "jsonlog.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "rwclock.h"

static pthread_mutex_t jsonlog_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *jsonlog_out;                             /* NULL: stderr */
static enum jsonlog_level jsonlog_min = JSONLOG_INFO; /* both under jsonlog_lock */

/* What is printed when a line cannot be built for want of memory. */
static const char oom_line[] = "{\"level\":\"error\",\"event\":\"log_out_of_memory\"}\n";

static const char *const level_names[] = {"debug", "info", "warn", "error", "critical"};

#define NLEVELS (sizeof level_names / sizeof level_names[0])

const char *jsonlog_level_name(enum jsonlog_level level)
{
        if ((unsigned)level >= NLEVELS)
                return "info";
        return level_names[level];
}

int jsonlog_level_parse(const char *name, enum jsonlog_level *out)
{
        size_t i;

        for (i = 0; name != NULL && i < NLEVELS; i++) {
                if (strcmp(name, level_names[i]) == 0) {
                        *out = (enum jsonlog_level)i;
                        return 0;
                }
        }
        return -1;
}

void jsonlog_set_output(FILE *f)
{
        (void)pthread_mutex_lock(&jsonlog_lock);
        jsonlog_out = f;
        (void)pthread_mutex_unlock(&jsonlog_lock);
}

void jsonlog_set_min_level(enum jsonlog_level level)
{
        (void)pthread_mutex_lock(&jsonlog_lock);
        jsonlog_min = level;
        (void)pthread_mutex_unlock(&jsonlog_lock);
}

int jsonlog_enabled(enum jsonlog_level level)
{
        int on;

        (void)pthread_mutex_lock(&jsonlog_lock);
        on = level >= jsonlog_min;
        (void)pthread_mutex_unlock(&jsonlog_lock);
        return on;
}

/* Now as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static void now_rfc3339(char out[RWCLOCK_UTC_SIZE])
{
        (void)rwclock_format_utc(rwclock_wall_ms(), out, NULL);
}

struct cJSON *jsonlog_begin(enum jsonlog_level level, const char *event, const char *correlation_id)
{
        char ts[RWCLOCK_UTC_SIZE];
        cJSON *line;

        if (!jsonlog_enabled(level))
                return NULL;
        if ((line = cJSON_CreateObject()) == NULL)
                return NULL;
        now_rfc3339(ts);
        if (cJSON_AddStringToObject(line, "ts", ts) == NULL ||
            cJSON_AddStringToObject(line, "level", jsonlog_level_name(level)) == NULL ||
            cJSON_AddStringToObject(line, "event", event != NULL ? event : "") == NULL ||
            (correlation_id != NULL &&
             cJSON_AddStringToObject(line, "correlation_id", correlation_id) == NULL)) {
                cJSON_Delete(line);
                return NULL;
        }
        return line;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
        unsigned c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
                        return 0; /* overlong, or a UTF-16 surrogate */
                return 3;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
                        return 0; /* overlong, or past U+10FFFF */
                return 4;
        }
        return 0;
}

/* Replaces, in place, every byte that does not start a valid UTF-8 sequence with '?'. */
static void utf8_scrub(char *text)
{
        unsigned char *s = (unsigned char *)text;

        while (s != NULL && *s != '\0') {
                size_t n = utf8_sequence(s);

                if (n == 0) {
                        *s++ = '?';
                        continue;
                }
                s += n;
        }
}

static void scrub_tree(cJSON *item)
{
        for (; item != NULL; item = item->next) {
                utf8_scrub(item->string);
                if (cJSON_IsString(item))
                        utf8_scrub(item->valuestring);
                scrub_tree(item->child);
        }
}

/* The first fields of `line`, "truncated":true and the size that was too big. */
static char *truncated_line(const cJSON *line, size_t bytes)
{
        static const char *const keep[] = {"ts", "level", "event", "correlation_id"};
        cJSON *small = cJSON_CreateObject();
        char *text = NULL;
        size_t i;

        if (small == NULL)
                return NULL;
        for (i = 0; i < sizeof keep / sizeof keep[0]; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, keep[i]);

                if (cJSON_IsString(v) &&
                    cJSON_AddStringToObject(small, keep[i], v->valuestring) == NULL)
                        goto out;
        }
        if (cJSON_AddTrueToObject(small, "truncated") == NULL ||
            cJSON_AddNumberToObject(small, "line_bytes", (double)bytes) == NULL)
                goto out;
        text = cJSON_PrintUnformatted(small);
out:
        cJSON_Delete(small);
        return text;
}

static void write_line(const char *text, size_t len)
{
        FILE *f;

        (void)pthread_mutex_lock(&jsonlog_lock);
        f = jsonlog_out != NULL ? jsonlog_out : stderr;
        (void)fwrite(text, 1, len, f);
        (void)fflush(f);
        (void)pthread_mutex_unlock(&jsonlog_lock);
}

void jsonlog_add_runbook(struct cJSON *line, const char *name)
{
        char path[96];

        if (line != NULL && snprintf(path, sizeof path, "runbooks/%s.md", name) < (int)sizeof path)
                cJSON_AddStringToObject(line, "runbook", path);
}

void jsonlog_emit(struct cJSON *line)
{
        char *text, *small;
        size_t len;

        if (line == NULL)
                return;
        scrub_tree(line->child);
        text = cJSON_PrintUnformatted(line);
        if (text != NULL && (len = strlen(text)) + 1 >= JSONLOG_LINE_MAX) {
                small = truncated_line(line, len + 1);
                free(text);
                text = small;
        }
        cJSON_Delete(line);
        if (text == NULL) {
                write_line(oom_line, sizeof oom_line - 1);
                return;
        }
        /* The newline goes in the same buffer: one fwrite per line. */
        len = strlen(text);
        small = realloc(text, len + 2);
        if (small == NULL) {
                free(text);
                write_line(oom_line, sizeof oom_line - 1);
                return;
        }
        small[len] = '\n';
        small[len + 1] = '\0';
        write_line(small, len + 1);
        free(small);
}

void jsonlog_message(enum jsonlog_level level, const char *event, const char *correlation_id,
                     const char *fmt, ...)
{
        char message[JSONLOG_MESSAGE_MAX];
        cJSON *line;
        va_list ap;

        if ((line = jsonlog_begin(level, event, correlation_id)) == NULL)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        if (cJSON_AddStringToObject(line, "message", message) == NULL) {
                cJSON_Delete(line);
                write_line(oom_line, sizeof oom_line - 1);
                return;
        }
        jsonlog_emit(line);
}
