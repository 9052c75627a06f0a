/*
 * The conformance vectors of docs/PROTOCOL.md section 12
 * (docs/protocol-vectors/vectors.json) through relaywatch's own reader:
 * every key's line, digest and key_id; every case through a fresh
 * control_state (halt key first, then the entries in order), each outcome
 * and rejection name, and the HALTs in force at the end; every heartbeat
 * through heartbeat_check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "control_state.h"
#include "heartbeat.h"
#include "signing_key.h"

#ifndef PROTOCOL_VECTORS
#error "PROTOCOL_VECTORS: the path of docs/protocol-vectors/vectors.json"
#endif

#define FIELDS_MAX 8
#define KEYS_MAX 8

struct vectors {
        cJSON *root;
        struct verify_key watchdog[KEYS_MAX], operators[KEYS_MAX];
        size_t nwatchdog, noperator;
};

static char *read_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        long n;

        if (f == NULL)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n + 1)) != NULL) {
                if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                        free(buf);
                        buf = NULL;
                } else {
                        buf[n] = '\0';
                }
        }
        fclose(f);
        return buf;
}

static const char *str(const cJSON *o, const char *name)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

        if (!cJSON_IsString(it))
                fail_msg("vectors: \"%s\" is not a string", name);
        return it->valuestring;
}

/* base64 text into a malloc'd buffer (NUL-terminated, *n bytes). */
static char *unb64(const char *text, size_t *n)
{
        size_t cap = strlen(text) / 4 * 3 + 1;
        char *out = malloc(cap + 1);

        assert_non_null(out);
        if (sodium_base642bin((unsigned char *)out, cap, text, strlen(text), NULL, n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
                fail_msg("vectors: not base64: %.60s", text);
        out[*n] = '\0';
        return out;
}

/* Reads one role's keys, checking each key's published figures. */
static void load_role(const cJSON *keys, const char *role, struct verify_key *out, size_t *n)
{
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(keys, role), *k;

        *n = 0;
        assert_true(cJSON_IsArray(list));
        cJSON_ArrayForEach(k, list)
        {
                unsigned char seed[32], pk[32], sk[64], digest[32];
                char line[128], hexd[65];
                size_t len = 0, i;
                char *raw = unb64(str(k, "public_key_b64"), &len);

                assert_int_equal(len, SIGNING_KEY_PUBLIC_BYTES);
                assert_true(*n < KEYS_MAX);
                verify_key_from_bytes((const unsigned char *)raw, &out[*n]);
                assert_string_equal(out[*n].key_id, str(k, "key_id"));
                /* BLAKE2b-256 of the key; the key_id is its first 8 bytes */
                (void)crypto_generichash(digest, sizeof digest, (const unsigned char *)raw, len,
                                         NULL, 0);
                for (i = 0; i < sizeof digest; i++)
                        (void)snprintf(hexd + 2 * i, 3, "%02x", digest[i]);
                assert_string_equal(hexd, str(k, "blake2b_256_hex"));
                assert_memory_equal(hexd, out[*n].key_id, SIGNING_KEY_ID_LEN);
                (void)snprintf(line, sizeof line, "%s %s", SIGNING_KEY_PUBLIC_HEADER,
                               str(k, "public_key_b64"));
                assert_string_equal(line, str(k, "public_file_line"));
                /* the seed makes the key */
                assert_int_equal(
                        sodium_hex2bin(seed, sizeof seed, str(k, "seed_hex"), 64, NULL, &len, NULL),
                        0);
                assert_int_equal(len, 32);
                assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
                assert_memory_equal(pk, raw, 32);
                sodium_memzero(sk, sizeof sk);
                free(raw);
                (*n)++;
        }
}

static int group_setup(void **state)
{
        static struct vectors v;
        char *text;
        size_t n = 0;

        if (sodium_init() < 0)
                return -1;
        text = read_file(PROTOCOL_VECTORS);
        if (text == NULL) {
                fprintf(stderr, "%s: cannot read it\n", PROTOCOL_VECTORS);
                return -1;
        }
        v.root = cJSON_Parse(text);
        free(text);
        if (v.root == NULL) {
                fprintf(stderr, "%s: not JSON\n", PROTOCOL_VECTORS);
                return -1;
        }
        load_role(cJSON_GetObjectItemCaseSensitive(v.root, "keys"), "watchdog", v.watchdog,
                  &v.nwatchdog);
        load_role(cJSON_GetObjectItemCaseSensitive(v.root, "keys"), "operator", v.operators,
                  &v.noperator);
        {
                struct verify_key stranger[KEYS_MAX];

                load_role(cJSON_GetObjectItemCaseSensitive(v.root, "keys"), "stranger", stranger,
                          &n);
                assert_true(n >= 1);
        }
        *state = &v;
        return 0;
}

static int group_teardown(void **state)
{
        struct vectors *v = *state;

        cJSON_Delete(v->root);
        return 0;
}

/* A vector's field list into fields[] (values malloc'd into bufs[]); returns the count. */
static size_t fields_of(const cJSON *list, struct control_field *fields, char **bufs)
{
        const cJSON *f;
        size_t n = 0;

        assert_true(cJSON_IsArray(list));
        cJSON_ArrayForEach(f, list)
        {
                assert_true(n < FIELDS_MAX);
                fields[n].name = str(f, "name");
                fields[n].name_len = strlen(fields[n].name);
                bufs[n] = unb64(str(f, "value_b64"), &fields[n].value_len);
                fields[n].value = bufs[n];
                n++;
        }
        return n;
}

static void free_bufs(char **bufs, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                free(bufs[i]);
}

/* What an outcome is, in the vectors' words. */
static const char *outcome_name(const struct control_outcome *out)
{
        if (out->reject != CONTROL_ACCEPTED)
                return "reject";
        return out->type == CONTROL_HALT ? "halt" : "resume";
}

/* Checks one outcome against expect/reason; 1 when it matches (else prints why). */
static int matches(const char *where, const struct control_outcome *out, const char *expect,
                   const cJSON *reason)
{
        const char *got = outcome_name(out);

        if (strcmp(got, expect) != 0 ||
            (strcmp(expect, "reject") == 0 &&
             (!cJSON_IsString(reason) ||
              strcmp(control_reject_name(out->reject), reason->valuestring) != 0))) {
                fprintf(stderr, "%s: %s %s (%s), wanted %s %s\n", where, got,
                        out->reject ? control_reject_name(out->reject) : "", out->detail, expect,
                        cJSON_IsString(reason) ? reason->valuestring : "");
                return 0;
        }
        return 1;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The HALTs in force against final_in_force, as sets. */
static int final_matches(const char *name, const struct control_state *st, const cJSON *final)
{
        const struct control_in_force *list;
        size_t n = control_state_in_force(st, &list), i, want_n = 0;
        const char *have[64], *want[64];
        const cJSON *id;
        int ok;

        assert_true(n <= 64);
        for (i = 0; i < n; i++)
                have[i] = list[i].halt_id;
        assert_true(cJSON_IsArray(final));
        cJSON_ArrayForEach(id, final)
        {
                assert_true(want_n < 64 && cJSON_IsString(id));
                want[want_n++] = id->valuestring;
        }
        qsort(have, n, sizeof have[0], cmp_str);
        qsort(want, want_n, sizeof want[0], cmp_str);
        ok = n == want_n;
        for (i = 0; ok && i < n; i++)
                ok = strcmp(have[i], want[i]) == 0;
        if (!ok)
                fprintf(stderr, "case %s: %zu HALT(s) in force at the end, wanted %zu\n", name, n,
                        want_n);
        return ok;
}

/* Runs one case; 1 when every outcome is the expected one. */
static int run_case(const struct vectors *v, const cJSON *c, size_t *nentries)
{
        struct control_keys keys = {v->watchdog, v->nwatchdog, v->operators, v->noperator};
        struct control_state *st = control_state_new(&keys);
        const char *name = str(c, "name");
        const cJSON *hk = cJSON_GetObjectItemCaseSensitive(c, "halt_key"), *e;
        struct control_field fields[FIELDS_MAX];
        char *bufs[FIELDS_MAX], where[160];
        struct control_outcome out;
        int ok = 1;
        size_t n;

        assert_non_null(st);
        if (cJSON_IsObject(hk)) {
                const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "halt_key_expect");

                n = fields_of(cJSON_GetObjectItemCaseSensitive(hk, "fields"), fields, bufs);
                (void)control_state_halt_key(st, fields, n, NULL, &out);
                free_bufs(bufs, n);
                (void)snprintf(where, sizeof where, "case %s, halt key", name);
                if (cJSON_IsString(expect))
                        ok &= matches(where, &out, expect->valuestring,
                                      cJSON_GetObjectItemCaseSensitive(c, "halt_key_reason"));
        } else {
                assert_true(cJSON_IsNull(hk));
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "entries"))
        {
                const char *entry_id = str(e, "entry_id");

                n = fields_of(cJSON_GetObjectItemCaseSensitive(e, "fields"), fields, bufs);
                (void)control_state_entry(st, entry_id, fields, n, NULL, &out);
                free_bufs(bufs, n);
                (void)snprintf(where, sizeof where, "case %s, entry %s", name, entry_id);
                ok &= matches(where, &out, str(e, "expect"),
                              cJSON_GetObjectItemCaseSensitive(e, "reason"));
                (*nentries)++;
        }
        ok &= final_matches(name, st, cJSON_GetObjectItemCaseSensitive(c, "final_in_force"));
        control_state_free(st);
        return ok;
}

static void every_case(void **state)
{
        const struct vectors *v = *state;
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(v->root, "cases"), *c;
        size_t ncases = 0, nentries = 0, failed = 0;
        int seen[CONTROL_NO_MEMORY + 1] = {0};

        assert_int_equal(cJSON_GetObjectItemCaseSensitive(v->root, "protocol")->valuedouble, 1);
        assert_true(cJSON_IsArray(cases));
        cJSON_ArrayForEach(c, cases)
        {
                const cJSON *e;

                failed += !run_case(v, c, &nentries);
                ncases++;
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "entries"))
                {
                        const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "reason");
                        int i;

                        for (i = 0; r != NULL && i <= CONTROL_NO_MEMORY; i++)
                                seen[i] |= strcmp(control_reject_name((enum control_reject)i),
                                                  r->valuestring) == 0;
                }
        }
        fprintf(stderr, "%zu cases, %zu entries, %zu failed\n", ncases, nentries, failed);
        assert_int_equal(failed, 0);
        assert_true(ncases >= 40);
        /* every rejection of section 6.1 has at least one vector */
        {
                int i;

                for (i = CONTROL_BAD_ENTRY; i <= CONTROL_REPLAY; i++) {
                        if (!seen[i])
                                fail_msg("no vector rejects an entry as %s",
                                         control_reject_name((enum control_reject)i));
                }
        }
}

/* Names are unique, and every entry id is unique within its case. */
static void names_are_unique(void **state)
{
        const struct vectors *v = *state;
        const cJSON *c, *d;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v->root, "cases"))
        {
                for (d = c->next; d != NULL; d = d->next)
                        assert_string_not_equal(str(c, "name"), str(d, "name"));
        }
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v->root, "heartbeats"))
        {
                for (d = c->next; d != NULL; d = d->next)
                        assert_string_not_equal(str(c, "name"), str(d, "name"));
        }
}

static void every_heartbeat(void **state)
{
        const struct vectors *v = *state;
        const cJSON *h;
        size_t n = 0, failed = 0, fresh = 0;

        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(v->root, "heartbeats"))
        {
                size_t mlen = 0, slen = 0;
                char *msg = unb64(str(h, "msg_b64"), &mlen), *sig = unb64(str(h, "sig_b64"), &slen);
                const cJSON *now = cJSON_GetObjectItemCaseSensitive(h, "now_ms");
                int64_t issued = 0, ttl = 0;
                struct rwerr err;
                int rc;

                assert_true(cJSON_IsNumber(now));
                rc = heartbeat_check(v->watchdog, v->nwatchdog, msg, mlen, sig,
                                     (int64_t)now->valuedouble, &issued, &ttl, &err);
                if (strcmp(rc >= 0 ? "fresh" : "reject", str(h, "expect")) != 0) {
                        fprintf(stderr, "heartbeat %s: %s (%s), wanted %s\n", str(h, "name"),
                                rc >= 0 ? "fresh" : "reject", rc >= 0 ? "" : err.msg,
                                str(h, "expect"));
                        failed++;
                }
                fresh += rc >= 0;
                n++;
                free(msg);
                free(sig);
        }
        fprintf(stderr, "%zu heartbeats, %zu failed\n", n, failed);
        assert_int_equal(failed, 0);
        assert_true(n >= 5);
        assert_true(fresh >= 1 && fresh < n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_case),
                cmocka_unit_test(names_are_unique),
                cmocka_unit_test(every_heartbeat),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
