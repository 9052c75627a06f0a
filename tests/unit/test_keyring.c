/*
 * Unit tests for watchdog/base/keyring: loading the keys of halt control
 * from key files made by signing_key_generate, the messages that name the
 * file that failed, and the lookups (key_id to role, signature to key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keyring.h"

struct fx {
        char dir[64];
        char wd[96], wd_pub[96], wd2_pub[96], op[96], op_pub[96], missing[96];
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        struct rwerr err;
        char wd2[96];

        assert_non_null(f);
        (void)snprintf(f->dir, sizeof f->dir, "/tmp/rw-keyring-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        (void)snprintf(f->wd, sizeof f->wd, "%s/wd.key", f->dir);
        (void)snprintf(f->wd_pub, sizeof f->wd_pub, "%s/wd.key.pub", f->dir);
        (void)snprintf(wd2, sizeof wd2, "%s/wd2.key", f->dir);
        (void)snprintf(f->wd2_pub, sizeof f->wd2_pub, "%s/wd2.key.pub", f->dir);
        (void)snprintf(f->op, sizeof f->op, "%s/op.key", f->dir);
        (void)snprintf(f->op_pub, sizeof f->op_pub, "%s/op.key.pub", f->dir);
        (void)snprintf(f->missing, sizeof f->missing, "%s/missing.pub", f->dir);
        assert_int_equal(signing_key_generate(f->wd, &err), RW_OK);
        assert_int_equal(signing_key_generate(wd2, &err), RW_OK);
        assert_int_equal(signing_key_generate(f->op, &err), RW_OK);
        assert_int_equal(unlink(wd2), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        const char *files[] = {f->wd, f->wd_pub, f->wd2_pub, f->op, f->op_pub};
        size_t i;

        for (i = 0; i < sizeof files / sizeof files[0]; i++)
                (void)unlink(files[i]);
        (void)rmdir(f->dir);
        free(f);
        return 0;
}

/* The paths of the fixture: signing with `signing`, watchdog wd and wd2, operator `op`. */
static struct keyring_paths paths_of(struct fx *f, const char *signing, char **wd, char **op,
                                     size_t nop)
{
        struct keyring_paths p;

        wd[0] = f->wd_pub;
        wd[1] = f->wd2_pub;
        memset(&p, 0, sizeof p);
        p.signing_key = signing;
        p.watchdog_keys = wd;
        p.nwatchdog = 2;
        p.operator_keys = op;
        p.noperator = nop;
        return p;
}

static void loads_every_role_and_looks_up_key_ids(void **state)
{
        struct fx *f = *state;
        char *wd[2], *op[1] = {f->op_pub};
        struct keyring_paths p = paths_of(f, f->wd, wd, op, 1);
        struct keyring ring;
        struct verify_key opk;
        struct rwerr err;
        size_t i = 99;

        assert_int_equal(keyring_load(&ring, &p, NULL, NULL, &err), RW_OK);
        assert_non_null(ring.signing);
        assert_int_equal(ring.nwatchdog, 2);
        assert_int_equal(ring.noperator, 1);
        assert_string_equal(ring.watchdog_path[1], f->wd2_pub);
        assert_string_equal(ring.operator_path[0], f->op_pub);
        /* the signing key is the first watchdog key */
        assert_string_equal(ring.signing->pub.key_id, ring.watchdog[0].key_id);
        assert_int_equal(keyring_role_of(&ring, ring.watchdog[1].key_id, &i), KEYRING_WATCHDOG);
        assert_int_equal(i, 1);
        assert_int_equal(verify_key_load(f->op_pub, &opk, &err), RW_OK);
        assert_int_equal(keyring_role_of(&ring, opk.key_id, &i), KEYRING_OPERATOR);
        assert_int_equal(i, 0);
        assert_int_equal(keyring_role_of(&ring, "0123456789abcdef", NULL), KEYRING_NONE);
        assert_string_equal(keyring_role_name(KEYRING_OPERATOR), "operator");
        /* a key already there is not added twice */
        assert_int_equal(keyring_add(&ring, KEYRING_WATCHDOG, f->wd_pub, &err), RW_OK);
        assert_int_equal(ring.nwatchdog, 2);
        keyring_free(&ring);
        assert_null(ring.signing);
        assert_int_equal(ring.nwatchdog, 0);
        keyring_free(&ring); /* twice is fine */
        keyring_free(NULL);
}

static void a_bad_file_is_named(void **state)
{
        struct fx *f = *state;
        char *wd[2], *op[2] = {f->op_pub, f->missing};
        struct keyring_paths p = paths_of(f, NULL, wd, op, 2);
        struct keyring ring;
        struct rwerr err;

        assert_int_equal(keyring_load(&ring, &p, NULL, NULL, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "operator key: "));
        assert_non_null(strstr(err.msg, f->missing));
        /* all or nothing */
        assert_int_equal(ring.nwatchdog, 0);
        assert_int_equal(ring.noperator, 0);
        keyring_free(&ring);

        /* a secret key others may read: refused, the file and the role named */
        assert_int_equal(chmod(f->op, 0644), 0);
        p = paths_of(f, f->op, wd, op, 1);
        assert_int_equal(keyring_load(&ring, &p, NULL, NULL, &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "signing key: "));
        assert_non_null(strstr(err.msg, f->op));
        assert_null(ring.signing);
        keyring_free(&ring);
        assert_int_equal(chmod(f->op, 0600), 0);

        /* a public key file where a secret one belongs */
        assert_int_equal(chmod(f->op_pub, 0600), 0);
        p = paths_of(f, f->op_pub, wd, op, 1);
        assert_int_equal(keyring_load(&ring, &p, NULL, NULL, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "signing key: "));
        assert_non_null(strstr(err.msg, "this is a public key file"));
        keyring_free(&ring);
}

static void collect(void *arg, const struct rwerr *err)
{
        char *seen = arg;

        (void)snprintf(seen + strlen(seen), 512 - strlen(seen), "[%s]", err->msg);
}

static void skipping_keeps_the_others(void **state)
{
        struct fx *f = *state;
        char *wd[2], *op[2] = {f->missing, f->op_pub};
        struct keyring_paths p = paths_of(f, f->missing, wd, op, 2);
        struct keyring ring;
        struct rwerr err;
        char seen[512] = "";

        assert_int_equal(keyring_load(&ring, &p, collect, seen, &err), RW_OK);
        assert_null(ring.signing);
        assert_int_equal(ring.nwatchdog, 2);
        assert_int_equal(ring.noperator, 1);
        assert_non_null(strstr(seen, "[signing key: "));
        assert_non_null(strstr(seen, "[operator key: "));
        assert_non_null(strstr(seen, "missing.pub"));
        keyring_free(&ring);
}

/* Signs msg with the secret key file `path`: base64 into sig. */
static void sign_with(const char *path, const char *msg, char sig[96])
{
        struct signing_key *key = NULL;
        unsigned char raw[crypto_sign_BYTES];
        struct rwerr err;

        assert_int_equal(signing_key_load(path, &key, &err), RW_OK);
        assert_int_equal(
                crypto_sign_detached(raw, NULL, (const unsigned char *)msg, strlen(msg), key->sk),
                0);
        (void)sodium_bin2base64(sig, 96, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
        signing_key_free(key);
}

static void which_key_verifies(void **state)
{
        struct fx *f = *state;
        char *wd[2], *op[1] = {f->op_pub};
        struct keyring_paths p = paths_of(f, NULL, wd, op, 1);
        const struct verify_key *key = NULL;
        enum keyring_role role = KEYRING_NONE;
        static const char msg[] = "{\"v\":1}";
        char by_wd[96], by_op[96];
        struct keyring ring;
        struct rwerr err;

        sign_with(f->wd, msg, by_wd);
        sign_with(f->op, msg, by_op);
        assert_int_equal(keyring_load(&ring, &p, NULL, NULL, &err), RW_OK);
        assert_int_equal(
                keyring_signer(&ring, KEYRING_ANY, msg, strlen(msg), by_wd, &key, &role, &err),
                RW_OK);
        assert_int_equal(role, KEYRING_WATCHDOG);
        assert_ptr_equal(key, &ring.watchdog[0]);
        assert_int_equal(
                keyring_signer(&ring, KEYRING_ANY, msg, strlen(msg), by_op, &key, &role, &err),
                RW_OK);
        assert_int_equal(role, KEYRING_OPERATOR);
        assert_string_equal(key->key_id, ring.operator[0].key_id);
        /* only the roles asked for */
        assert_int_equal(keyring_signer(&ring, 1u << KEYRING_OPERATOR, msg, strlen(msg), by_wd,
                                        &key, &role, &err),
                         RW_ERR_REFUSED);
        assert_null(key);
        assert_int_equal(role, KEYRING_NONE);
        assert_non_null(strstr(err.msg, "(0 watchdog, 1 operator)"));
        /* an altered byte, a malformed signature */
        assert_int_equal(
                keyring_signer(&ring, KEYRING_ANY, "{\"v\":2}", 7, by_wd, &key, &role, &err),
                RW_ERR_REFUSED);
        assert_int_equal(keyring_signer(&ring, KEYRING_ANY, msg, strlen(msg), "bm90IGEgc2ln", &key,
                                        &role, &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "sig: "));
        keyring_free(&ring);
        /* no keys at all */
        assert_int_equal(
                keyring_signer(&ring, KEYRING_ANY, msg, strlen(msg), by_wd, &key, &role, &err),
                RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "no public key configured"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(loads_every_role_and_looks_up_key_ids, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_bad_file_is_named, setup, teardown),
                cmocka_unit_test_setup_teardown(skipping_keeps_the_others, setup, teardown),
                cmocka_unit_test_setup_teardown(which_key_verifies, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
