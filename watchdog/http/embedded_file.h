/*
 * embedded_file: text files compiled into the binary by
 * cmake/EmbedFiles.cmake: the on-call page (http_page_files) and the
 * runbooks (http_runbook_files), so that a watchdog serves them with no
 * file beside it and no network.
 */
#ifndef RELAYWATCH_EMBEDDED_FILE_H
#define RELAYWATCH_EMBEDDED_FILE_H

#include <stddef.h>

struct embedded_file {
        const char *name; /* the file's name, e.g. "SUPPLY_MISMATCH.md" */
        size_t len;       /* bytes in text (the file has no NUL of its own) */
        const char *text; /* NUL-terminated */
};

/* watchdog/http/oncall_page.html */
extern const struct embedded_file http_page_files[];
extern const size_t http_page_files_count;

/* runbooks/ *.md, in name order */
extern const struct embedded_file http_runbook_files[];
extern const size_t http_runbook_files_count;

/* The file called `name` in files[n], or NULL. */
const struct embedded_file *embedded_file_find(const struct embedded_file *files, size_t n,
                                               const char *name);

#endif
