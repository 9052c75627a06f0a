/*
 * audit_log: the writer's leaf index gives the same consistency proofs and
 * roots as the tree recomputed from the files (audit_verify), across chunk
 * boundaries, after a reopen, and after the index was lost and rebuilt; the
 * published key chain follows the epochs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit_leaves.h"
#include "audit_log.h"
#include "audit_verify.h"

#define RECORDS 2600 /* more than two chunks of the leaf index */
#define T0 1700000000000LL

struct fixture {
        char dir[256];
        char logdir[300];
};

static struct audit_log *open_log(struct fixture *f, int64_t now)
{
        struct audit_log_options o;
        struct rwerr err;
        struct audit_log *l;

        memset(&o, 0, sizeof o);
        o.dir = f->logdir;
        o.origin = "relaywatch/test";
        o.fsync_batch_ms = 60000;
        o.key_epoch_s = 600;
        l = audit_log_open(&o, now, &err);
        if (l == NULL)
                fail_msg("audit_log_open: %s", err.msg);
        return l;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/test_audit_log.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->logdir, sizeof f->logdir, "%s/audit", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[400];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

/* The log's files verified from scratch, keeping every leaf. */
static void verify_all(struct fixture *f, struct audit_verify_result *r)
{
        char **names, *paths[64];
        size_t n, i;
        struct audit_verify_options vo;
        struct verify_key pin;
        char pub[400];
        struct rwerr err;

        assert_int_equal(audit_log_files(f->logdir, &names, &n, &err), RW_OK);
        assert_true(n > 0 && n < 64);
        for (i = 0; i < n; i++) {
                paths[i] = malloc(400);
                snprintf(paths[i], 400, "%s/%s", f->logdir, names[i]);
        }
        snprintf(pub, sizeof pub, "%s/audit.key.pub", f->logdir);
        assert_int_equal(verify_key_load(pub, &pin, &err), RW_OK);
        memset(&vo, 0, sizeof vo);
        vo.genesis = &pin;
        vo.keep_leaves = 1;
        assert_int_equal(audit_verify_files((const char *const *)paths, n, &vo, r), AUDIT_INTACT);
        for (i = 0; i < n; i++)
                free(paths[i]);
        audit_log_files_free(names, n);
}

static void same_proofs(struct audit_log *l, const struct audit_verify_result *r)
{
        static const uint64_t froms[] = {1, 2, 3, 1023, 1024, 1025, 2047, 2048, 2049, 2500};
        unsigned char a[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES], b[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES];
        unsigned char ra[AUDIT_HASH_BYTES], rb[AUDIT_HASH_BYTES];
        struct audit_tree_leaves src = {(const unsigned char(*)[AUDIT_HASH_BYTES])r->leaves,
                                        r->records};
        uint64_t to = r->records;
        size_t na, nb, i;
        struct rwerr err;

        for (i = 0; i < sizeof froms / sizeof froms[0]; i++) {
                assert_int_equal(audit_log_consistency_proof(l, froms[i], to, a, &na, &err), RW_OK);
                assert_int_equal(audit_tree_consistency_proof(audit_tree_range_leaves, &src,
                                                              froms[i], to, b, &nb, &err),
                                 RW_OK);
                assert_int_equal(na, nb);
                assert_memory_equal(a, b, na * AUDIT_HASH_BYTES);
                assert_int_equal(audit_log_root_at(l, froms[i], ra, &err), RW_OK);
                assert_int_equal(audit_tree_range_leaves(&src, 0, froms[i], rb, &err), RW_OK);
                assert_memory_equal(ra, rb, AUDIT_HASH_BYTES);
        }
        assert_int_equal(audit_log_consistency_proof(l, 0, to, a, &na, &err), RW_ERR_RANGE);
        assert_int_equal(audit_log_consistency_proof(l, 5, to + 1, a, &na, &err), RW_ERR_RANGE);
}

static void proofs_from_the_index_match_the_files(void **state)
{
        struct fixture *f = *state;
        struct audit_verify_result r;
        struct audit_log *l = open_log(f, T0);
        struct rwerr err;
        char path[400], *keys;
        cJSON *chain;
        uint64_t i;

        for (i = 0; i < RECORDS; i++) {
                cJSON *c = cJSON_CreateObject();

                cJSON_AddNumberToObject(c, "n", (double)i);
                assert_int_equal(audit_log_append(l, "test_event", "t", c, 0,
                                                  T0 + (int64_t)i * 1000, NULL, &err),
                                 RW_OK);
                cJSON_Delete(c);
                assert_int_equal(audit_log_tick(l, T0 + (int64_t)i * 1000, 30000, NULL, &err),
                                 RW_OK);
        }
        assert_int_equal(audit_log_checkpoint(l, "t", T0 + RECORDS * 1000LL, NULL, &err), RW_OK);
        verify_all(f, &r);
        assert_true(r.epochs >= 4); /* 2600 s of simulated time, a key every 600 s */
        same_proofs(l, &r);

        /* the key chain as published: one entry per epoch, in order */
        keys = audit_log_keys_json(l);
        assert_non_null(keys);
        chain = cJSON_Parse(keys);
        assert_true(cJSON_IsArray(chain));
        assert_int_equal((uint64_t)cJSON_GetArraySize(chain), r.epochs);
        for (i = 0; i < r.epochs; i++) {
                const cJSON *e = cJSON_GetArrayItem(chain, (int)i);

                assert_int_equal(cJSON_GetObjectItem(e, "epoch")->valuedouble, (double)i);
                assert_string_equal(cJSON_GetObjectItem(e, "key_id")->valuestring,
                                    r.keys[i].key_id);
        }
        cJSON_Delete(chain);
        free(keys);
        audit_log_close(l);

        /* reopened: the index is read back, the chain comes from tree.state */
        l = open_log(f, T0 + RECORDS * 1000LL + 1);
        same_proofs(l, &r);
        keys = audit_log_keys_json(l);
        chain = cJSON_Parse(keys);
        assert_int_equal((uint64_t)cJSON_GetArraySize(chain), r.epochs);
        cJSON_Delete(chain);
        free(keys);
        audit_log_close(l);

        /* the index lost: rebuilt from the records */
        snprintf(path, sizeof path, "%s/%s", f->logdir, AUDIT_LEAVES_FILE);
        assert_int_equal(unlink(path), 0);
        l = open_log(f, T0 + RECORDS * 1000LL + 2);
        same_proofs(l, &r);
        audit_log_close(l);
        audit_verify_release(&r);
}

/*
 * A write that fails (the file size limit standing in for a full disk):
 * the log is broken, every append fails fast naming the first error, no
 * part of a record stays behind, and once writing works again a retry
 * writes a `recovered` record (in a new file) and the log verifies.
 */
static void a_failed_write_breaks_the_log_until_a_retry_works(void **state)
{
        struct fixture *f = *state;
        struct audit_verify_result r;
        struct audit_log *l = open_log(f, T0);
        struct rlimit old, small;
        struct rwerr err;
        char why[RWERR_MSG_MAX], big[8192];
        cJSON *c = cJSON_CreateObject();
        int i, failed = 0;

        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        cJSON_AddStringToObject(c, "padding", big);
        assert_int_equal(audit_log_checkpoint(l, "t", T0, NULL, &err), RW_OK);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        small = old;
        small.rlim_cur = (rlim_t)64 * 1024;
        assert_true(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
        for (i = 0; i < 20 && !failed; i++)
                failed = audit_log_append(l, "test_event", "t", c, 0, T0 + i, NULL, &err) != RW_OK;
        assert_true(failed);
        assert_non_null(strstr(err.msg, "write failed"));
        assert_true(audit_log_broken(l, why, sizeof why));
        assert_int_equal(audit_log_append(l, "test_event", "t", NULL, 0, T0 + 100, NULL, &err),
                         RW_ERR_IO);
        assert_non_null(strstr(err.msg, "the audit log is down"));
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        assert_int_equal(audit_log_retry(l, T0 + 300, &err), RW_OK);
        assert_false(audit_log_broken(l, NULL, 0));
        assert_int_equal(audit_log_append(l, "test_event", "t", NULL, 0, T0 + 400, NULL, &err),
                         RW_OK);
        assert_int_equal(audit_log_checkpoint(l, "t", T0 + 500, NULL, &err), RW_OK);
        audit_log_close(l);
        cJSON_Delete(c);
        verify_all(f, &r); /* intact: nothing of the failed record stayed */
        audit_verify_release(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(proofs_from_the_index_match_the_files, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_failed_write_breaks_the_log_until_a_retry_works,
                                                setup, teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
