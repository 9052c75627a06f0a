/*
 * sql_embedded: the SQL files of sql/migrations and the reference contract
 * (sql/contract/reference.sql), compiled into the binary by
 * cmake/EmbedSql.cmake.
 */
#ifndef RELAYWATCH_SQL_EMBEDDED_H
#define RELAYWATCH_SQL_EMBEDDED_H

#include <stddef.h>

struct sql_embedded_file {
        const char *name; /* file name, e.g. "0001_watchdog_state.sql" */
        const char *text;
};

/* In file-name order, which is the order they are applied in. */
extern const struct sql_embedded_file sql_embedded_migrations[];
extern const size_t sql_embedded_nmigrations;

extern const struct sql_embedded_file sql_embedded_contract;

#endif
