/*
 * Unit tests of watchdog/audit/audit_witness: the witness's decision on
 * what a primary publishes, without Redis.
 *
 * Logs are written by the real writer (audit_log.h) into a temporary
 * directory on a simulated clock; what the primary would publish (its
 * latest checkpoint, the content of its key_epoch records, consistency
 * proofs over its leaf hashes) is made here from the log's files, the way
 * `relaywatch audit consistency` makes proofs (audit_verify keep_leaves and
 * audit_tree_consistency_proof).
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <inttypes.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <sodium.h>

#include "audit_key.h"
#include "audit_log.h"
#include "audit_note.h"
#include "audit_record.h"
#include "audit_tree.h"
#include "audit_verify.h"
#include "audit_witness.h"
#include "fileio.h"
#include "signing_key.h"

#define ORIGIN "relaywatch/test-primary"
#define WITNESS "relaywatch/test-witness"
#define T0 1700000000000LL /* the simulated clock starts here (ms) */
#define NOW_S 1800000000LL /* the witness's clock */

/* One test's world: a directory with the logs, the witness's state and key. */
struct fx {
        char root[64];
        char state[128];
        struct signing_key *wkey;
        struct verify_key genesis; /* the main log's, once written */
        int64_t t;                 /* the simulated clock of the main log */
};

/* What a primary publishes, made from its log's files. */
struct pub {
        char *note;
        char *keys;
        unsigned char (*leaves)[AUDIT_HASH_BYTES];
        uint64_t nleaves, size;
        int proofs;        /* serve proofs */
        int tamper;        /* flip a bit of the proof's first hash */
        uint64_t proof_to; /* a proof to this size instead of `size` (0: size) */
        uint64_t asked;    /* the last size a proof was asked from */
};

/* ------------------------------------------------------------ files */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void path_of(const struct fx *f, const char *sub, char *out, size_t cap)
{
        snprintf(out, cap, "%s/%s", f->root, sub);
}

/* Copies every regular file of directory `from` into `to` (created), modes kept. */
static void copy_dir(const char *from, const char *to)
{
        DIR *d = opendir(from);
        struct dirent *e;
        struct rwerr err;

        assert_non_null(d);
        assert_int_equal(mkdir(to, 0700), 0);
        while ((e = readdir(d)) != NULL) {
                char src[512];
                struct stat st;
                char *data;
                size_t len;

                snprintf(src, sizeof src, "%s/%s", from, e->d_name);
                if (stat(src, &st) != 0 || !S_ISREG(st.st_mode))
                        continue;
                assert_int_equal(fileio_read(src, 64 << 20, &data, &len, &err), RW_OK);
                assert_int_equal(
                        fileio_replace(to, e->d_name, data, len, (int)(st.st_mode & 0777), 0, &err),
                        RW_OK);
                free(data);
        }
        closedir(d);
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        char path[256];
        struct rwerr err;

        if (f == NULL)
                return -1;
        snprintf(f->root, sizeof f->root, "/tmp/relaywatch-witness-XXXXXX");
        if (mkdtemp(f->root) == NULL) {
                free(f);
                return -1;
        }
        snprintf(f->state, sizeof f->state, "%s/state", f->root);
        snprintf(path, sizeof path, "%s/witness.key", f->root);
        if (signing_key_generate(path, &err) != RW_OK ||
            signing_key_load(path, &f->wkey, &err) != RW_OK) {
                print_error("witness key: %s\n", err.msg);
                (void)nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
                free(f);
                return -1;
        }
        f->t = T0;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        signing_key_free(f->wkey);
        (void)nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/*
 * Appends `records` records to the log in ROOT/sub (made when missing),
 * starting at *t (ms) and one second apart, a checkpoint every 10 and one
 * at the end; the key evolves every `epoch_s` simulated seconds (0: never).
 */
static void grow(struct fx *f, const char *sub, int records, int64_t *t, uint64_t epoch_s)
{
        struct audit_log_options o;
        struct audit_log *l;
        struct rwerr err;
        char dir[256];
        int i;

        path_of(f, sub, dir, sizeof dir);
        memset(&o, 0, sizeof o);
        o.dir = dir;
        o.origin = ORIGIN;
        o.fsync_batch_ms = 1000;
        o.key_epoch_s = epoch_s;
        l = audit_log_open(&o, *t, &err);
        if (l == NULL)
                fail_msg("audit_log_open %s: %s", dir, err.msg);
        for (i = 0; i < records; i++, *t += 1000) {
                cJSON *c = cJSON_CreateObject();
                int rc;

                cJSON_AddNumberToObject(c, "n", i);
                rc = audit_log_append(l, "test_event", "witness-test", c, 0, *t, NULL, &err);
                cJSON_Delete(c);
                if (rc != RW_OK || audit_log_tick(l, *t, UINT64_MAX, NULL, &err) != RW_OK)
                        fail_msg("append: %s", err.msg);
                if ((i + 1) % 10 == 0 &&
                    audit_log_checkpoint(l, "witness-test", *t, NULL, &err) != RW_OK)
                        fail_msg("checkpoint: %s", err.msg);
        }
        if (audit_log_checkpoint(l, "witness-test", *t, NULL, &err) != RW_OK)
                fail_msg("checkpoint: %s", err.msg);
        audit_log_close(l);
}

/* The main log ("log"): grown, and its genesis key pinned by the witness. */
static void grow_main(struct fx *f, int records, uint64_t epoch_s)
{
        char path[256];
        struct rwerr err;

        grow(f, "log", records, &f->t, epoch_s);
        snprintf(path, sizeof path, "%s/log/%s", f->root, AUDIT_KEY_PUB_FILE);
        assert_int_equal(verify_key_load(path, &f->genesis, &err), RW_OK);
}

/* The key_epoch records' content of the log in dir, as a JSON array. */
static char *keys_of(const char *dir)
{
        char **names = NULL, path[512], *line = NULL, *text;
        size_t n = 0, i, cap = 0;
        cJSON *keys = cJSON_CreateArray();
        struct rwerr err;

        assert_int_equal(audit_log_files(dir, &names, &n, &err), RW_OK);
        for (i = 0; i < n; i++) {
                FILE *fp;
                ssize_t got;

                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                assert_non_null(fp = fopen(path, "rb"));
                while ((got = getline(&line, &cap, fp)) > 0) {
                        struct audit_record rec;

                        assert_int_equal(audit_record_parse(line, (size_t)got - 1, &rec, &err),
                                         RW_OK);
                        if (strcmp(rec.kind, AUDIT_KIND_KEY_EPOCH) == 0)
                                cJSON_AddItemToArray(keys, cJSON_Duplicate(rec.content, 1));
                        audit_record_release(&rec);
                }
                fclose(fp);
        }
        free(line);
        audit_log_files_free(names, n);
        text = cJSON_PrintUnformatted(keys);
        cJSON_Delete(keys);
        assert_non_null(text);
        return text;
}

/* What the log in ROOT/sub publishes now (proofs served). */
static void publish(const struct fx *f, const char *sub, struct pub *p)
{
        struct audit_verify_options vo;
        struct audit_verify_result r;
        struct verify_key pin;
        char dir[256], path[512], **names = NULL, **paths;
        size_t n = 0, i;
        struct rwerr err;

        memset(p, 0, sizeof *p);
        path_of(f, sub, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%s", dir, AUDIT_KEY_PUB_FILE);
        assert_int_equal(verify_key_load(path, &pin, &err), RW_OK);
        assert_int_equal(audit_log_files(dir, &names, &n, &err), RW_OK);
        assert_non_null(paths = calloc(n, sizeof *paths));
        for (i = 0; i < n; i++) {
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                assert_non_null(paths[i] = strdup(path));
        }
        memset(&vo, 0, sizeof vo);
        vo.genesis = &pin;
        vo.keep_leaves = 1;
        if (audit_verify_files((const char *const *)paths, n, &vo, &r) != AUDIT_INTACT)
                fail_msg("the log in %s does not verify: %s", dir, r.message);
        assert_non_null(p->note = strdup(r.last_note));
        p->size = r.last.size;
        p->nleaves = r.records;
        assert_non_null(p->leaves = malloc(r.records * AUDIT_HASH_BYTES));
        memcpy(p->leaves, r.leaves, r.records * AUDIT_HASH_BYTES);
        p->keys = keys_of(dir);
        p->proofs = 1;
        audit_verify_release(&r);
        for (i = 0; i < n; i++)
                free(paths[i]);
        free(paths);
        audit_log_files_free(names, n);
}

static void pub_release(struct pub *p)
{
        free(p->note);
        free(p->keys);
        free(p->leaves);
        memset(p, 0, sizeof *p);
}

/* The root of the first `size` leaves of p. */
static void root_at(const struct pub *p, uint64_t size, unsigned char out[AUDIT_HASH_BYTES])
{
        struct audit_tree_leaves src = {(const unsigned char(*)[AUDIT_HASH_BYTES])p->leaves,
                                        p->nleaves};
        struct rwerr err;

        assert_int_equal(audit_tree_range_leaves(&src, 0, size, out, &err), RW_OK);
}

/* audit_witness_proof_fn over a struct pub: the proof from `from` to its size. */
static int serve_proof(void *ctx, uint64_t from, char **json, size_t *len, struct rwerr *err)
{
        struct pub *p = ctx;
        struct audit_tree_leaves src = {(const unsigned char(*)[AUDIT_HASH_BYTES])p->leaves,
                                        p->nleaves};
        unsigned char proof[AUDIT_PROOF_MAX][AUDIT_HASH_BYTES];
        uint64_t to = p->proof_to ? p->proof_to : p->size;
        char *s, b64[48];
        size_t n, i, used, cap;

        p->asked = from;
        *json = NULL;
        *len = 0;
        if (!p->proofs || from == 0 || from > to)
                return RW_OK;
        if (audit_tree_consistency_proof(audit_tree_range_leaves, &src, from, to, proof, &n, err) !=
            RW_OK)
                return RW_ERR_INVALID;
        if (p->tamper && n > 0)
                proof[0][0] ^= 1;
        cap = 64 + n * 48;
        assert_non_null(s = malloc(cap));
        used = (size_t)snprintf(s, cap, "{\"from\":%" PRIu64 ",\"to\":%" PRIu64 ",\"proof\":[",
                                from, to);
        for (i = 0; i < n; i++) {
                (void)sodium_bin2base64(b64, sizeof b64, proof[i], AUDIT_HASH_BYTES,
                                        sodium_base64_VARIANT_ORIGINAL);
                used += (size_t)snprintf(s + used, cap - used, "%s\"%s\"", i ? "," : "", b64);
        }
        used += (size_t)snprintf(s + used, cap - used, "]}");
        *json = s;
        *len = used;
        return RW_OK;
}

static struct audit_witness_published items(struct pub *p)
{
        struct audit_witness_published w;

        memset(&w, 0, sizeof w);
        w.checkpoint = p->note;
        w.checkpoint_len = strlen(p->note);
        w.keys = p->keys;
        w.keys_len = strlen(p->keys);
        w.proof = serve_proof;
        w.proof_ctx = p;
        return w;
}

static struct audit_witness_config config_of(const struct fx *f)
{
        struct audit_witness_config c;

        memset(&c, 0, sizeof c);
        c.genesis = &f->genesis;
        c.key = f->wkey;
        c.name = WITNESS;
        c.state_dir = f->state;
        c.now_s = NOW_S;
        return c;
}

/* One step on p; the outcome must be `want`. */
static void step_expect(const struct fx *f, struct pub *p, enum audit_witness_outcome want,
                        struct audit_witness_result *r)
{
        struct audit_witness_published w = items(p);
        struct audit_witness_config c = config_of(f);

        if (audit_witness_step(&w, &c, r) != want)
                fail_msg("expected %s, got %s: %s", audit_witness_outcome_name(want),
                         audit_witness_outcome_name(r->outcome), r->message);
}

static void assert_says(const char *msg, const char *want)
{
        if (strstr(msg, want) == NULL)
                fail_msg("message '%s' does not say '%s'", msg, want);
}

/* The cosigned note verifies: the witness's cosignature at NOW_S, and still the log's signature. */
static void assert_cosigned(const struct fx *f, const struct audit_witness_result *r, uint64_t size)
{
        struct audit_note n;
        struct audit_checkpoint cp;
        struct rwerr err;
        uint64_t t = 0;

        assert_non_null(r->cosigned);
        assert_int_equal(audit_note_parse(r->cosigned, strlen(r->cosigned), &n, &err), RW_OK);
        if (audit_note_verify_cosignature(&n, WITNESS, f->wkey->pub.pk, &t, &err) != RW_OK)
                fail_msg("cosignature: %s", err.msg);
        assert_int_equal(t, NOW_S);
        assert_int_equal(audit_checkpoint_parse(n.text, n.text_len, &cp, &err), RW_OK);
        assert_int_equal(cp.size, size);
        assert_string_equal(cp.origin, ORIGIN);
        assert_true(n.nsigs >= 2);
        audit_note_release(&n);
}

/* A first checkpoint accepted from the main log as it stands. */
static void accept_first(struct fx *f, struct pub *p)
{
        struct audit_witness_result r;

        publish(f, "log", p);
        step_expect(f, p, AUDIT_WITNESS_ACCEPTED, &r);
        audit_witness_result_release(&r);
}

/* ------------------------------------------------------------ tests */

static void test_first_accept(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p;

        grow_main(f, 25, 0);
        publish(f, "log", &p);
        step_expect(f, &p, AUDIT_WITNESS_ACCEPTED, &r);
        assert_true(r.first_use);
        assert_says(r.message, "trust on first use");
        assert_says(r.message, ORIGIN);
        assert_string_equal(r.origin, ORIGIN);
        assert_int_equal(r.size, p.size);
        assert_int_equal(r.previous_size, 0);
        assert_null(r.accepted_note);
        assert_int_equal(p.asked, 0); /* no proof is needed the first time */
        assert_cosigned(f, &r, p.size);
        assert_string_equal(r.reason, "");
        audit_witness_result_release(&r);
        pub_release(&p);
}

static void test_growth_accepted(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p0, p1;

        grow_main(f, 25, 0);
        accept_first(f, &p0);
        grow_main(f, 17, 0);
        publish(f, "log", &p1);
        assert_true(p1.size > p0.size);
        step_expect(f, &p1, AUDIT_WITNESS_ACCEPTED, &r);
        assert_false(r.first_use);
        assert_int_equal(p1.asked, p0.size);
        assert_int_equal(r.previous_size, p0.size);
        assert_int_equal(r.size, p1.size);
        assert_says(r.message, "consistent with");
        assert_cosigned(f, &r, p1.size);
        audit_witness_result_release(&r);
        pub_release(&p0);
        pub_release(&p1);
}

static void test_unchanged(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p;

        grow_main(f, 12, 0);
        accept_first(f, &p);
        step_expect(f, &p, AUDIT_WITNESS_UNCHANGED, &r);
        assert_says(r.message, "unchanged");
        /* cosigned again: the primary sees the witness is alive */
        assert_cosigned(f, &r, p.size);
        audit_witness_result_release(&r);
        pub_release(&p);
}

static void test_waiting_without_proof(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p0, p1;

        grow_main(f, 12, 0);
        accept_first(f, &p0);
        grow_main(f, 12, 0);
        publish(f, "log", &p1);
        p1.proofs = 0;
        step_expect(f, &p1, AUDIT_WITNESS_WAITING, &r);
        assert_says(r.message, "no consistency proof");
        /* the old note, cosigned again: it tells the primary which size to prove from */
        assert_cosigned(f, &r, p0.size);
        audit_witness_result_release(&r);

        /* a proof for an older checkpoint (to another size) is no proof yet */
        p1.proofs = 1;
        p1.proof_to = p1.size - 1;
        step_expect(f, &p1, AUDIT_WITNESS_WAITING, &r);
        assert_says(r.message, "has not published the proof for this checkpoint yet");
        audit_witness_result_release(&r);

        /* no proof source at all */
        {
                struct audit_witness_published w = items(&p1);
                struct audit_witness_config c = config_of(f);

                w.proof = NULL;
                assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_WAITING);
                audit_witness_result_release(&r);
        }

        /* and once the proof is there, it is accepted */
        p1.proof_to = 0;
        step_expect(f, &p1, AUDIT_WITNESS_ACCEPTED, &r);
        audit_witness_result_release(&r);
        pub_release(&p0);
        pub_release(&p1);
}

static void test_rollback(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p0, p1;
        cJSON *ev;

        grow_main(f, 20, 0);
        accept_first(f, &p0);
        grow_main(f, 20, 0);
        publish(f, "log", &p1);
        step_expect(f, &p1, AUDIT_WITNESS_ACCEPTED, &r);
        audit_witness_result_release(&r);

        /* the older checkpoint published again: rolled back */
        step_expect(f, &p0, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "rollback");
        assert_says(r.message, "rolled back");
        assert_null(r.cosigned);
        assert_string_equal(r.accepted_note, p1.note);
        assert_string_equal(r.published_note, p0.note);
        assert_int_equal(r.previous_size, p1.size);
        assert_int_equal(r.size, p0.size);
        /* the evidence carries both checkpoints */
        assert_non_null(ev = audit_witness_evidence(&r));
        assert_string_equal(cJSON_GetObjectItem(ev, "reason")->valuestring, "rollback");
        assert_string_equal(
                cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "accepted"), "note")->valuestring,
                p1.note);
        assert_string_equal(
                cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "published"), "note")->valuestring,
                p0.note);
        assert_int_equal(
                cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "published"), "size")->valuedouble,
                p0.size);
        cJSON_Delete(ev);
        audit_witness_result_release(&r);

        /* the state is untouched: the newer checkpoint is still the accepted one */
        step_expect(f, &p1, AUDIT_WITNESS_UNCHANGED, &r);
        audit_witness_result_release(&r);
        pub_release(&p0);
        pub_release(&p1);
}

static void test_fork(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub base, a, b;
        char from[256], to[256];
        int64_t tb;

        grow_main(f, 20, 0);
        accept_first(f, &base);
        /* one copy of the log, grown two ways */
        path_of(f, "log", from, sizeof from);
        path_of(f, "fork", to, sizeof to);
        copy_dir(from, to);
        tb = f->t + 500; /* other times, so other records */
        grow_main(f, 15, 0);
        grow(f, "fork", 15, &tb, 0);
        publish(f, "log", &a);
        publish(f, "fork", &b);
        assert_int_equal(a.size, b.size);
        assert_string_not_equal(a.note, b.note);

        step_expect(f, &a, AUDIT_WITNESS_ACCEPTED, &r);
        audit_witness_result_release(&r);
        step_expect(f, &b, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "fork");
        assert_says(r.message, "forked");
        assert_string_equal(r.accepted_note, a.note);
        assert_string_equal(r.published_note, b.note);
        audit_witness_result_release(&r);

        /* the fork grows on: its own proof from our size does not verify against our root */
        grow(f, "fork", 9, &tb, 0);
        pub_release(&b);
        publish(f, "fork", &b);
        step_expect(f, &b, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "proof");
        assert_says(r.message, "does not verify");
        audit_witness_result_release(&r);
        pub_release(&base);
        pub_release(&a);
        pub_release(&b);
}

static void test_key_chain_fork(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub base, a, b;
        char from[256], to[256];
        int64_t tb;

        grow_main(f, 10, 30);
        accept_first(f, &base);
        path_of(f, "log", from, sizeof from);
        path_of(f, "fork", to, sizeof to);
        copy_dir(from, to);
        tb = f->t + 500;
        /* both copies move on to epoch 1, each with a key of its own */
        grow_main(f, 40, 30);
        grow(f, "fork", 40, &tb, 30);
        publish(f, "log", &a);
        publish(f, "fork", &b);
        step_expect(f, &a, AUDIT_WITNESS_ACCEPTED, &r);
        assert_true(r.epoch >= 1);
        audit_witness_result_release(&r);
        step_expect(f, &b, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "key_chain");
        assert_says(r.message, "two keys were certified for one epoch");
        assert_non_null(r.accepted_note);
        assert_non_null(r.published_note);
        audit_witness_result_release(&r);
        pub_release(&base);
        pub_release(&a);
        pub_release(&b);
}

static void test_tampered_proof(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p0, p1;

        grow_main(f, 13, 0);
        accept_first(f, &p0);
        grow_main(f, 30, 0);
        publish(f, "log", &p1);
        p1.tamper = 1;
        step_expect(f, &p1, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "proof");
        assert_null(r.cosigned);
        assert_non_null(r.accepted_note);
        audit_witness_result_release(&r);

        pub_release(&p0);
        pub_release(&p1);
}

/* A proof source that serves one fixed text. */
static int serve_text(void *ctx, uint64_t from, char **json, size_t *len, struct rwerr *err)
{
        (void)from;
        (void)err;
        assert_non_null(*json = strdup(ctx));
        *len = strlen(ctx);
        return RW_OK;
}

static void test_garbage_proof(void **state)
{
        struct fx *f = *state;
        static const char *const junk[] = {
                "nope",
                "{\"from\":1}",
                "{\"proof\":[\"x\"],\"from\":1,\"to\":2}",
                "{\"from\":1,\"from\":1,\"to\":2,\"proof\":[]}",
                "[1,2]",
                "{\"from\":-1,\"to\":2,\"proof\":[]}",
        };
        struct audit_witness_result r;
        struct pub p0, p1;
        size_t i;

        grow_main(f, 13, 0);
        accept_first(f, &p0);
        grow_main(f, 5, 0);
        publish(f, "log", &p1);
        for (i = 0; i < sizeof junk / sizeof junk[0]; i++) {
                struct audit_witness_published w = items(&p1);
                struct audit_witness_config c = config_of(f);
                char text[128];

                snprintf(text, sizeof text, "%s", junk[i]);
                w.proof = serve_text;
                w.proof_ctx = text;
                if (audit_witness_step(&w, &c, &r) != AUDIT_WITNESS_CANNOT_TELL)
                        fail_msg("proof '%s': %s: %s", junk[i],
                                 audit_witness_outcome_name(r.outcome), r.message);
                assert_says(r.message, "consistency proof");
                audit_witness_result_release(&r);
        }
        pub_release(&p0);
        pub_release(&p1);
}

static void test_chain_not_from_pinned_genesis(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p;
        struct verify_key other;
        unsigned char pk[32], sk[64];

        grow_main(f, 10, 0);
        publish(f, "log", &p);
        /* the witness pins another key */
        crypto_sign_keypair(pk, sk);
        verify_key_from_bytes(pk, &other);
        {
                struct audit_witness_published w = items(&p);
                struct audit_witness_config c = config_of(f);

                c.genesis = &other;
                assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_INCONSISTENT);
                assert_string_equal(r.reason, "key_chain");
                assert_says(r.message, "pinned");
                assert_says(r.message, other.key_id);
                assert_null(r.cosigned);
                audit_witness_result_release(&r);
        }
        /* nothing was accepted: the right key still gets its first checkpoint */
        step_expect(f, &p, AUDIT_WITNESS_ACCEPTED, &r);
        assert_true(r.first_use);
        audit_witness_result_release(&r);
        pub_release(&p);
}

/* Replaces the first character of `member` of entry `entry` in the keys JSON. */
static void alter_key(struct pub *p, int entry, const char *member)
{
        cJSON *keys = cJSON_Parse(p->keys), *e, *m;
        char *s;

        assert_non_null(keys);
        assert_non_null(e = cJSON_GetArrayItem(keys, entry));
        assert_non_null(m = cJSON_GetObjectItem(e, member));
        assert_non_null(s = strdup(m->valuestring));
        s[0] = s[0] == 'A' ? 'B' : 'A';
        cJSON_SetValuestring(m, s);
        free(s);
        free(p->keys);
        assert_non_null(p->keys = cJSON_PrintUnformatted(keys));
        cJSON_Delete(keys);
}

static void test_bad_cert(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p;

        f->t = T0;
        grow_main(f, 40, 15); /* a new epoch every 15 s */
        publish(f, "log", &p);
        alter_key(&p, 1, "cert");
        step_expect(f, &p, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "key_chain");
        assert_says(r.message, "not certified");
        audit_witness_result_release(&r);
        pub_release(&p);
}

static void test_across_key_epochs(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p0, p1, p2;

        grow_main(f, 10, 30);
        accept_first(f, &p0);
        grow_main(f, 45, 30); /* crosses at least one epoch */
        publish(f, "log", &p1);
        step_expect(f, &p1, AUDIT_WITNESS_ACCEPTED, &r);
        assert_true(r.epoch >= 1);
        assert_cosigned(f, &r, p1.size);
        audit_witness_result_release(&r);
        grow_main(f, 40, 30);
        publish(f, "log", &p2);
        step_expect(f, &p2, AUDIT_WITNESS_ACCEPTED, &r);
        assert_true(r.epoch >= 2);
        audit_witness_result_release(&r);

        /* the chain cut back to before the accepted epoch */
        {
                cJSON *keys = cJSON_Parse(p2.keys);

                cJSON_DeleteItemFromArray(keys, cJSON_GetArraySize(keys) - 1);
                free(p2.keys);
                p2.keys = cJSON_PrintUnformatted(keys);
                cJSON_Delete(keys);
        }
        step_expect(f, &p2, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "key_chain");
        assert_says(r.message, "cut back");
        audit_witness_result_release(&r);
        pub_release(&p0);
        pub_release(&p1);
        pub_release(&p2);
}

/* A checkpoint over all of p's leaves signed with the audit key kept in `keydir`. */
static char *forge_with(const char *keydir, const struct pub *p)
{
        struct audit_key *k = NULL, *next = NULL;
        struct audit_checkpoint cp;
        char *text = NULL, *note = NULL;
        struct rwerr err;

        assert_int_equal(audit_key_open(keydir, 0, 0, &k, &next, &err), RW_OK);
        audit_key_free(next);
        memset(&cp, 0, sizeof cp);
        snprintf(cp.origin, sizeof cp.origin, "%s", ORIGIN);
        cp.size = p->size;
        root_at(p, p->size, cp.root);
        assert_int_equal(audit_checkpoint_format(&cp, &text, &err), RW_OK);
        assert_int_equal(audit_note_sign(text, ORIGIN, k->key->sk, &note, &err), RW_OK);
        free(text);
        audit_key_free(k);
        return note;
}

static void test_expired_key(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p0, p1;
        char from[512], stolen[256], *data;
        size_t len;
        struct rwerr err;

        grow_main(f, 10, 30);
        /* a copy of the epoch-0 key, taken now: stolen */
        path_of(f, "stolen", stolen, sizeof stolen);
        assert_int_equal(mkdir(stolen, 0700), 0);
        snprintf(from, sizeof from, "%s/log/%s", f->root, AUDIT_KEY_FILE);
        assert_int_equal(fileio_read(from, 4096, &data, &len, &err), RW_OK);
        assert_int_equal(fileio_replace(stolen, AUDIT_KEY_FILE, data, len, 0600, 0, &err), RW_OK);
        free(data);
        accept_first(f, &p0);
        assert_int_equal(p0.size > 0, 1);
        grow_main(f, 50, 30);
        publish(f, "log", &p1);

        /* before the witness accepted a later epoch: the chain says the key expired */
        free(p1.note);
        p1.note = forge_with(stolen, &p1);
        step_expect(f, &p1, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "expired_key");
        assert_says(r.message, "epoch 0");
        audit_witness_result_release(&r);
        pub_release(&p1);

        /* after it accepted a later epoch: older than the epoch accepted */
        publish(f, "log", &p1);
        step_expect(f, &p1, AUDIT_WITNESS_ACCEPTED, &r);
        audit_witness_result_release(&r);
        grow_main(f, 5, 30);
        pub_release(&p1);
        publish(f, "log", &p1);
        free(p1.note);
        p1.note = forge_with(stolen, &p1);
        step_expect(f, &p1, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "expired_key");
        assert_says(r.message, "older than epoch");
        audit_witness_result_release(&r);
        pub_release(&p0);
        pub_release(&p1);
}

static void test_not_signed_by_the_log(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct pub p;
        unsigned char pk[32], sk[64];
        struct audit_checkpoint cp;
        char *text = NULL;
        struct rwerr err;

        grow_main(f, 10, 0);
        publish(f, "log", &p);
        crypto_sign_keypair(pk, sk);
        memset(&cp, 0, sizeof cp);
        snprintf(cp.origin, sizeof cp.origin, "%s", ORIGIN);
        cp.size = p.size;
        root_at(&p, p.size, cp.root);
        assert_int_equal(audit_checkpoint_format(&cp, &text, &err), RW_OK);
        free(p.note);
        assert_int_equal(audit_note_sign(text, ORIGIN, sk, &p.note, &err), RW_OK);
        free(text);
        step_expect(f, &p, AUDIT_WITNESS_INCONSISTENT, &r);
        assert_string_equal(r.reason, "signature");
        assert_says(r.message, "not signed by any key");
        audit_witness_result_release(&r);
        pub_release(&p);
}

static void test_garbage_keys(void **state)
{
        struct fx *f = *state;
        static const char *const junk[] = {
                "",
                "garbage",
                "{}",
                "[]",
                "[1]",
                "[{\"epoch\":0}]",
                "[{\"epoch\":1,\"public_key\":\"x\"}]",
                "[{\"epoch\":0,\"public_key\":\"AAAA\",\"key_id\":\"x\",\"vkey\":\"y\"}]",
                "[null] trailing",
                "[{\"epoch\":0.5}]",
        };
        struct audit_witness_result r;
        struct pub p;
        size_t i;

        grow_main(f, 10, 0);
        publish(f, "log", &p);
        for (i = 0; i < sizeof junk / sizeof junk[0]; i++) {
                struct audit_witness_published w = items(&p);
                struct audit_witness_config c = config_of(f);

                w.keys = junk[i];
                w.keys_len = strlen(junk[i]);
                if (audit_witness_step(&w, &c, &r) != AUDIT_WITNESS_CANNOT_TELL)
                        fail_msg("keys '%s': %s: %s", junk[i],
                                 audit_witness_outcome_name(r.outcome), r.message);
                assert_says(r.message, "key chain");
                audit_witness_result_release(&r);
        }
        /* a NUL byte inside */
        {
                struct audit_witness_published w = items(&p);
                struct audit_witness_config c = config_of(f);

                w.keys_len = strlen(p.keys) + 1;
                assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_CANNOT_TELL);
                assert_says(r.message, "NUL");
                audit_witness_result_release(&r);
        }
        /* and the genuine chain is still accepted: garbage changed nothing */
        step_expect(f, &p, AUDIT_WITNESS_ACCEPTED, &r);
        audit_witness_result_release(&r);
        pub_release(&p);
}

static void test_nothing_published(void **state)
{
        struct fx *f = *state;
        struct audit_witness_result r;
        struct audit_witness_published w;
        struct audit_witness_config c;
        struct pub p;

        grow_main(f, 3, 0);
        c = config_of(f);
        memset(&w, 0, sizeof w);
        assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_CANNOT_TELL);
        assert_says(r.message, "nothing published");
        audit_witness_result_release(&r);

        publish(f, "log", &p);
        w = items(&p);
        w.keys = NULL;
        assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_CANNOT_TELL);
        assert_says(r.message, "key chain");
        audit_witness_result_release(&r);

        w = items(&p);
        w.checkpoint = "not a note";
        w.checkpoint_len = strlen(w.checkpoint);
        assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_CANNOT_TELL);
        assert_says(r.message, "not a signed note");
        audit_witness_result_release(&r);

        /* a bad witness name is refused before anything */
        w = items(&p);
        c.name = "has space";
        assert_int_equal(audit_witness_step(&w, &c, &r), AUDIT_WITNESS_CANNOT_TELL);
        assert_says(r.message, "witness name");
        audit_witness_result_release(&r);
        pub_release(&p);
}

static void test_state_survives_reload(void **state)
{
        struct fx *f = *state;
        struct audit_witness_state st;
        struct audit_witness_result r;
        struct pub p0, p1;
        char name[64], path[512];
        unsigned char root[32];
        struct rwerr err;
        int found = 0;
        FILE *fp;

        grow_main(f, 21, 0);
        accept_first(f, &p0);
        assert_int_equal(audit_witness_state_load(f->state, &f->genesis, &st, &found, &err), RW_OK);
        assert_true(found);
        assert_string_equal(st.origin, ORIGIN);
        assert_string_equal(st.genesis_key_id, f->genesis.key_id);
        assert_int_equal(st.size, p0.size);
        assert_int_equal(st.epoch, 0);
        assert_memory_equal(st.key.pk, f->genesis.pk, 32);
        root_at(&p0, p0.size, root);
        assert_memory_equal(st.root, root, 32);
        assert_string_equal(st.note, p0.note);
        assert_int_equal(st.accepted_s, NOW_S);
        audit_witness_state_release(&st);

        /* the file is named after the pinned key and is mode 0600 */
        audit_witness_state_name(&f->genesis, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", f->state, name);
        {
                struct stat sb;

                assert_int_equal(stat(path, &sb), 0);
                assert_int_equal(sb.st_mode & 0777, 0600);
        }

        /* a later step (another process) goes on from the file */
        grow_main(f, 8, 0);
        publish(f, "log", &p1);
        step_expect(f, &p1, AUDIT_WITNESS_ACCEPTED, &r);
        assert_int_equal(r.previous_size, p0.size);
        audit_witness_result_release(&r);

        /* another pinned key finds nothing of this log's */
        {
                struct verify_key other;
                unsigned char pk[32], sk[64];

                crypto_sign_keypair(pk, sk);
                verify_key_from_bytes(pk, &other);
                assert_int_equal(audit_witness_state_load(f->state, &other, &st, &found, &err),
                                 RW_OK);
                assert_false(found);
        }

        /* a damaged state file is never taken as "nothing accepted yet" */
        assert_non_null(fp = fopen(path, "w"));
        fputs("{\"format\":\"relaywatch-witness-state/v1\"}\n", fp);
        fclose(fp);
        step_expect(f, &p1, AUDIT_WITNESS_CANNOT_TELL, &r);
        assert_says(r.message, name);
        audit_witness_result_release(&r);
        assert_non_null(fp = fopen(path, "w"));
        fputs("garbage", fp);
        fclose(fp);
        step_expect(f, &p1, AUDIT_WITNESS_CANNOT_TELL, &r);
        assert_says(r.message, "witness state");
        audit_witness_result_release(&r);
        pub_release(&p0);
        pub_release(&p1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_first_accept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_growth_accepted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unchanged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_waiting_without_proof, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
                cmocka_unit_test_setup_teardown(test_key_chain_fork, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tampered_proof, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_proof, setup, teardown),
                cmocka_unit_test_setup_teardown(test_chain_not_from_pinned_genesis, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_bad_cert, setup, teardown),
                cmocka_unit_test_setup_teardown(test_across_key_epochs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expired_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_signed_by_the_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nothing_published, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_survives_reload, setup, teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
