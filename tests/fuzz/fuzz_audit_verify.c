/*
 * Fuzz target for watchdog/audit/audit_verify (and audit_record under it):
 * whatever an auditor is handed as an audit log file.
 *
 * The input is written as the one file of a log and verified twice, with
 * the leaf hashes kept and without, with no key pinned (the verifier then
 * follows the log's own genesis key, so a well-formed input exercises the
 * key chain and the checkpoints). Nothing may crash, read out of bounds or
 * leak; the verdict is one of the three; the message is terminated; and
 * both runs agree, and what was kept matches the records counted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

static void write_input(const uint8_t *data, size_t size)
{
        FILE *f;

        if (path[0] == '\0') {
                char dir[] = "/tmp/fuzz_audit_verify.XXXXXX";

                if (mkdtemp(dir) == NULL || sodium_init() < 0)
                        abort();
                snprintf(path, sizeof path, "%s/audit-000000000000.jsonl", dir);
        }
        if ((f = fopen(path, "wb")) == NULL)
                abort();
        if (size > 0 && fwrite(data, 1, size, f) != size)
                abort();
        if (fclose(f) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *files[1] = {path};
        struct audit_verify_options o;
        struct audit_verify_result a, b;
        enum audit_verdict va, vb;

        write_input(data, size);
        memset(&o, 0, sizeof o);
        va = audit_verify_files(files, 1, &o, &a);
        o.keep_leaves = 1;
        vb = audit_verify_files(files, 1, &o, &b);
        if (va != AUDIT_INTACT && va != AUDIT_TAMPERED && va != AUDIT_CANNOT_TELL)
                abort();
        if (va != vb || a.records != b.records || a.checkpoints != b.checkpoints ||
            strcmp(a.message, b.message) != 0)
                abort();
        if (memchr(a.message, '\0', sizeof a.message) == NULL ||
            memchr(a.notices, '\0', sizeof a.notices) == NULL)
                abort();
        if (b.records > 0 && b.leaves == NULL && vb != AUDIT_CANNOT_TELL)
                abort();
        if (va == AUDIT_INTACT) /* nothing is intact without a pinned key */
                abort();
        audit_verify_release(&a);
        audit_verify_release(&b);
        return 0;
}
