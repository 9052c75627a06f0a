/*
 * Unit tests for watchdog/signing_key, watchdog/control_msg and
 * `relaywatch keygen`: key files, the signed control-message format, and
 * what a consumer refuses. Key files live in a fresh temporary directory per
 * test. The Ed25519 vector was made by Node's crypto.sign with the RFC 8032
 * TEST 1 key; the key_id and halt id vectors by Python's hashlib.blake2b.
 */
#include <dirent.h>
#include <fcntl.h>
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
#include <cjson/cJSON.h>
#include <sodium.h>

#include "cli.h"
#include "cli_run.h"
#include "control_msg.h"
#include "rwerr.h"
#include "signing_key.h"

struct dir {
        char path[64];
        char file[128];
};

static int dir_setup(void **state)
{
        struct dir *d = calloc(1, sizeof *d);

        if (d == NULL)
                return -1;
        (void)snprintf(d->path, sizeof d->path, "/tmp/relaywatch-test-control-XXXXXX");
        if (mkdtemp(d->path) == NULL) {
                free(d);
                return -1;
        }
        *state = d;
        return 0;
}

static int dir_teardown(void **state)
{
        struct dir *d = *state;
        struct dirent *e;
        char p[sizeof d->path + 2 + 256];
        DIR *dh = opendir(d->path);

        while (dh != NULL && (e = readdir(dh)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                (void)snprintf(p, sizeof p, "%s/%s", d->path, e->d_name);
                (void)unlink(p);
        }
        if (dh != NULL)
                (void)closedir(dh);
        (void)rmdir(d->path);
        free(d);
        return 0;
}

/* d->file = DIR/name; returns it. */
static const char *in_dir(struct dir *d, const char *name)
{
        (void)snprintf(d->file, sizeof d->file, "%s/%s", d->path, name);
        return d->file;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
}

static char *read_all(const char *path)
{
        static char buf[1024];
        FILE *f = fopen(path, "r");
        size_t n;

        assert_non_null(f);
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static struct signing_key *new_key(struct dir *d, const char *name)
{
        struct signing_key *k = NULL;
        struct rwerr err;
        char path[160];

        (void)snprintf(path, sizeof path, "%s/%s", d->path, name);
        assert_int_equal(signing_key_generate(path, &err), RW_OK);
        assert_int_equal(signing_key_load(path, &k, &err), RW_OK);
        assert_non_null(k);
        return k;
}

/* RFC 8032 TEST 1: seed || public key, and the public key alone. */
static const char rfc_secret_b64[] =
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==";
static const char rfc_public_b64[] = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc_key_id[] = "7849ac3049680be1";

/* ---------------------------------------------------------------- key files */

static void generate_and_load_round_trip(void **state)
{
        struct dir *d = *state;
        struct signing_key *k = NULL;
        struct verify_key vk;
        struct rwerr err;
        struct stat st;
        char path[160], pub[170];
        const char *text;
        size_t i;

        (void)snprintf(path, sizeof path, "%s/wd.key", d->path);
        (void)snprintf(pub, sizeof pub, "%s.pub", path);
        assert_int_equal(signing_key_generate(path, &err), RW_OK);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(pub, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);

        text = read_all(path);
        assert_int_equal(strncmp(text, "relaywatch-ed25519-secret-v1 ", 29), 0);
        assert_int_equal(strlen(text), 29 + 88 + 1);
        assert_int_equal(text[strlen(text) - 1], '\n');
        text = read_all(pub);
        assert_int_equal(strncmp(text, "relaywatch-ed25519-public-v1 ", 29), 0);
        assert_int_equal(strlen(text), 29 + 44 + 1);

        assert_int_equal(signing_key_load(path, &k, &err), RW_OK);
        assert_int_equal(verify_key_load(pub, &vk, &err), RW_OK);
        assert_memory_equal(k->pub.pk, vk.pk, sizeof vk.pk);
        assert_memory_equal(k->sk + 32, vk.pk, sizeof vk.pk);
        assert_string_equal(k->pub.key_id, vk.key_id);
        assert_int_equal(strlen(vk.key_id), 16);
        for (i = 0; i < 16; i++)
                assert_non_null(strchr("0123456789abcdef", vk.key_id[i]));
        signing_key_free(k);
        signing_key_free(NULL);
}

static void key_id_vector(void **state)
{
        unsigned char pk[32];
        struct verify_key vk;
        size_t n = 0;

        (void)state;
        assert_int_equal(sodium_base642bin(pk, sizeof pk, rfc_public_b64, strlen(rfc_public_b64),
                                           NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
                         0);
        assert_int_equal(n, 32);
        verify_key_from_bytes(pk, &vk);
        assert_string_equal(vk.key_id, rfc_key_id);
}

static void secret_readable_by_others_refused(void **state)
{
        struct dir *d = *state;
        struct signing_key *k = NULL;
        struct rwerr err;
        char path[160];

        (void)snprintf(path, sizeof path, "%s/wd.key", d->path);
        assert_int_equal(signing_key_generate(path, &err), RW_OK);

        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(signing_key_load(path, &k, &err), RW_ERR_REFUSED);
        assert_null(k);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "mode 0644"));
        assert_non_null(strstr(err.msg, "chmod 600"));

        assert_int_equal(chmod(path, 0620), 0); /* group-writable is refused too */
        assert_int_equal(signing_key_load(path, &k, &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "mode 0620"));

        assert_int_equal(chmod(path, 0400), 0); /* stricter than 0600 is fine */
        assert_int_equal(signing_key_load(path, &k, &err), RW_OK);
        signing_key_free(k);
}

static void existing_file_refused(void **state)
{
        struct dir *d = *state;
        struct rwerr err;
        char path[160], before[1024];
        struct stat st;

        (void)snprintf(path, sizeof path, "%s/wd.key", d->path);
        assert_int_equal(signing_key_generate(path, &err), RW_OK);
        (void)snprintf(before, sizeof before, "%s", read_all(path));
        assert_int_equal(signing_key_generate(path, &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "already exists"));
        assert_non_null(strstr(err.msg, path));
        assert_string_equal(read_all(path), before); /* untouched */

        /* Only FILE.pub there: refused, and no secret key is left behind. */
        write_file(in_dir(d, "other.key.pub"), "x\n", 0644);
        assert_int_equal(signing_key_generate(in_dir(d, "other.key"), &err), RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "other.key.pub already exists"));
        assert_int_equal(stat(in_dir(d, "other.key"), &st), -1);
}

/* Writes a 0600 secret key file holding `bin` (n bytes) in base64. */
static void write_secret_bytes(const char *path, const unsigned char *bin, size_t n)
{
        char b64[256], line[300];

        assert_non_null(sodium_bin2base64(b64, sizeof b64, bin, n, sodium_base64_VARIANT_ORIGINAL));
        (void)snprintf(line, sizeof line, "relaywatch-ed25519-secret-v1 %s\n", b64);
        write_file(path, line, 0600);
}

static void tampered_public_half_refused(void **state)
{
        struct dir *d = *state;
        unsigned char pk[32], sk[64], other_pk[32], other_sk[64];
        struct signing_key *k = NULL;
        struct rwerr err;

        (void)state;
        assert_int_equal(sodium_init() >= 0, 1);
        crypto_sign_keypair(pk, sk);
        crypto_sign_keypair(other_pk, other_sk);
        memcpy(sk + 32, other_pk, 32);
        write_secret_bytes(in_dir(d, "bad.key"), sk, sizeof sk);
        assert_int_equal(signing_key_load(d->file, &k, &err), RW_ERR_INVALID);
        assert_null(k);
        assert_non_null(strstr(err.msg, "public half of the secret key does not match"));
        assert_non_null(strstr(err.msg, d->file));
}

static void malformed_key_files_refused(void **state)
{
        struct dir *d = *state;
        struct signing_key *k = NULL;
        struct verify_key vk;
        struct rwerr err;
        unsigned char half[32] = {1};
        char line[256];

        /* A public key file where the secret one belongs, and the other way round. */
        (void)snprintf(line, sizeof line, "relaywatch-ed25519-public-v1 %s\n", rfc_public_b64);
        write_file(in_dir(d, "a"), line, 0600);
        assert_int_equal(signing_key_load(d->file, &k, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "this is a public key file, expected a secret key file"));
        (void)snprintf(line, sizeof line, "relaywatch-ed25519-secret-v1 %s\n", rfc_secret_b64);
        write_file(in_dir(d, "b"), line, 0600);
        assert_int_equal(verify_key_load(d->file, &vk, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "this is a secret key file, expected a public key file"));
        assert_null(strstr(err.msg, "nWGx")); /* never the key material */

        write_file(in_dir(d, "c"), "ssh-ed25519 AAAAC3Nza\n", 0600);
        assert_int_equal(signing_key_load(d->file, &k, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "not a relaywatch secret key file"));
        assert_non_null(strstr(err.msg, d->file));

        write_file(in_dir(d, "e"), "relaywatch-ed25519-secret-v1 not*base64\n", 0600);
        assert_int_equal(signing_key_load(d->file, &k, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "not valid base64"));

        write_secret_bytes(in_dir(d, "f"), half, sizeof half);
        assert_int_equal(signing_key_load(d->file, &k, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "the secret key is 32 bytes, expected 64"));

        (void)snprintf(line, sizeof line, "relaywatch-ed25519-public-v1 %s%s\n", rfc_public_b64,
                       rfc_public_b64);
        write_file(in_dir(d, "g"), line, 0644);
        assert_int_equal(verify_key_load(d->file, &vk, &err), RW_ERR_INVALID);

        assert_int_equal(verify_key_load(in_dir(d, "missing.pub"), &vk, &err), RW_ERR_IO);
        assert_non_null(strstr(err.msg, "missing.pub"));
        assert_null(k);
}

/* --------------------------------------------------------------- messages */

static const char halt_text[] =
        "{\"v\":1,\"type\":\"HALT\",\"id\":\"halt-f476e6452c69b31ffea35bfb7f3e81f6\","
        "\"invariant\":\"supply\",\"severity\":\"CRITICAL\",\"reason\":\"minted exceeds locked\","
        "\"evidence\":{\"locked\":\"100\",\"minted\":\"101\"},"
        "\"heights\":{\"source\":12345,\"execution\":678},"
        "\"issued_at\":\"2024-01-02T03:04:05.678Z\",\"watchdog_id\":\"wd-1\","
        "\"correlation_id\":\"wd-1-42\",\"key_id\":\"%s\"}";

static const struct control_height halt_heights[] = {{"source", 12345}, {"execution", 678}};

static void halt_fields(struct control_msg_fields *f, char id[CONTROL_ID_SIZE], cJSON *evidence,
                        const char *key_id)
{
        control_halt_id("supply", "SIGIL", 12345, id);
        memset(f, 0, sizeof *f);
        f->type = CONTROL_HALT;
        f->id = id;
        f->invariant = "supply";
        f->severity = "CRITICAL";
        f->reason = "minted exceeds locked";
        f->evidence = evidence;
        f->heights = halt_heights;
        f->nheights = 2;
        f->issued_at_ms = 1704164645678LL;
        f->watchdog_id = "wd-1";
        f->correlation_id = "wd-1-42";
        f->key_id = key_id;
}

/* A built HALT for key_id, caller frees. */
static char *build_halt(const char *key_id, size_t *len)
{
        struct control_msg_fields f;
        char id[CONTROL_ID_SIZE];
        cJSON *ev = cJSON_Parse("{\"locked\":\"100\",\"minted\":\"101\"}");
        struct rwerr err;
        char *text = NULL;

        assert_non_null(ev);
        halt_fields(&f, id, ev, key_id);
        assert_int_equal(control_msg_build(&f, &text, len, &err), RW_OK);
        cJSON_Delete(ev);
        return text;
}

static void halt_id_is_stable_and_specific(void **state)
{
        char a[CONTROL_ID_SIZE], b[CONTROL_ID_SIZE];

        (void)state;
        control_halt_id("supply", "SIGIL", 12345, a);
        assert_string_equal(a, "halt-f476e6452c69b31ffea35bfb7f3e81f6");
        control_halt_id("supply", "SIGIL", 12345, b);
        assert_string_equal(a, b);
        control_halt_id("nonce", "SIGIL", 12345, b);
        assert_string_not_equal(a, b);
        control_halt_id("supply", "WETH", 12345, b);
        assert_string_not_equal(a, b);
        control_halt_id("supply", "SIGIL", 12346, b);
        assert_string_not_equal(a, b);
        /* The NUL separators keep "ab"+"c" and "a"+"bc" apart. */
        control_halt_id("ab", "c", 1, a);
        control_halt_id("a", "bc", 1, b);
        assert_string_not_equal(a, b);
        control_resume_id(a);
        control_resume_id(b);
        assert_int_equal(strlen(a), 39);
        assert_int_equal(strncmp(a, "resume-", 7), 0);
        assert_string_not_equal(a, b);
}

static void built_halt_is_exactly_the_documented_text(void **state)
{
        static const char *const names[] = {
                "v",        "type",    "id",        "invariant",   "severity",       "reason",
                "evidence", "heights", "issued_at", "watchdog_id", "correlation_id", "key_id",
        };
        char want[1024];
        size_t len = 0, i = 0;
        char *text = build_halt("0123456789abcdef", &len);
        cJSON *root, *c;

        (void)state;
        (void)snprintf(want, sizeof want, halt_text, "0123456789abcdef");
        assert_string_equal(text, want);
        assert_int_equal(len, strlen(want));
        root = cJSON_Parse(text);
        assert_non_null(root);
        for (c = root->child; c != NULL; c = c->next, i++) {
                assert_true(i < sizeof names / sizeof names[0]);
                assert_string_equal(c->string, names[i]);
        }
        assert_int_equal(i, sizeof names / sizeof names[0]);
        cJSON_Delete(root);
        free(text);
}

static void built_resume_and_refused_fields(void **state)
{
        static const struct control_height from[] = {{"source", 100}};
        static const struct control_height top[] = {{"source", 9007199254740991ULL}};
        static const struct control_height huge[] = {{"source", 9007199254740992ULL}};
        struct control_msg_fields f;
        char id[CONTROL_ID_SIZE], rid[CONTROL_ID_SIZE];
        const char *lifts[1];
        struct control_msg m;
        struct rwerr err;
        char *text = NULL;
        size_t len = 0;

        (void)state;
        halt_fields(&f, id, NULL, "0123456789abcdef");
        control_resume_id(rid);
        lifts[0] = id;
        f.type = CONTROL_RESUME;
        f.id = rid;
        f.lifts = lifts;
        f.nlifts = 1;
        f.resume_from = from;
        f.nresume_from = 1;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_OK);
        assert_non_null(strstr(text, "\"evidence\":{},"));
        assert_non_null(strstr(text, "\"lifts\":[\"halt-f476e6452c69b31ffea35bfb7f3e81f6\"],"
                                     "\"resume_from\":{\"source\":100},\"issued_at\""));
        assert_int_equal(control_msg_parse(text, len, &m, &err), RW_OK);
        assert_int_equal(m.type, CONTROL_RESUME);
        assert_int_equal(m.nlifts, 1);
        assert_string_equal(m.lifts[0], id);
        assert_int_equal(m.nresume_from, 1);
        assert_int_equal(m.resume_from[0].block, 100);
        control_msg_free(&m);
        free(text);

        f.nresume_from = 0; /* a RESUME says where to resume from */
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_null(text);
        assert_non_null(strstr(err.msg, "resume_from"));
        f.nresume_from = 1;
        f.id = id; /* a halt id on a RESUME */
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "id: a RESUME id is 'resume-'"));

        halt_fields(&f, id, NULL, "0123456789abcdef");
        f.resume_from = from;
        f.nresume_from = 1;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "only a RESUME carries them"));
        f.nresume_from = 0;
        f.lifts = lifts; /* a HALT lifts nothing */
        f.nlifts = 1;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "only a RESUME carries them"));
        f.lifts = NULL;
        f.nlifts = 0;
        f.reason = "";
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "reason: missing or empty");
        f.reason = "r";
        f.key_id = "0123456789ABCDEF";
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "key_id"));
        f.key_id = "0123456789abcdef";
        f.heights = top;
        f.nheights = 1;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_OK);
        assert_non_null(strstr(text, "\"heights\":{\"source\":9007199254740991},"));
        assert_int_equal(control_msg_parse(text, len, &m, &err), RW_OK);
        assert_int_equal(m.heights[0].block, 9007199254740991ULL);
        control_msg_free(&m);
        free(text);
        text = NULL;
        f.heights = huge;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "heights.source: block 9007199254740992"));
        f.heights = halt_heights;
        f.issued_at_ms = -1;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_RANGE);
        assert_non_null(strstr(err.msg, "issued_at"));
        assert_null(text);
}

static void issued_at_format(void **state)
{
        char t[CONTROL_ISSUED_AT_SIZE];
        struct rwerr err;

        (void)state;
        assert_int_equal(control_format_time(0, t, &err), RW_OK);
        assert_string_equal(t, "1970-01-01T00:00:00.000Z");
        assert_int_equal(control_format_time(1709251199001LL, t, &err), RW_OK);
        assert_string_equal(t, "2024-02-29T23:59:59.001Z");
        assert_int_equal(control_format_time(253402300799999LL, t, &err), RW_OK);
        assert_string_equal(t, "9999-12-31T23:59:59.999Z");
        assert_int_equal(control_format_time(253402300800000LL, t, &err), RW_ERR_RANGE);
}

static void sign_verify_round_trip(void **state)
{
        struct dir *d = *state;
        struct signing_key *k = new_key(d, "wd.key");
        char sig[CONTROL_SIG_B64_SIZE];
        struct control_msg m;
        struct rwerr err;
        size_t len = 0;
        char *text = build_halt(k->pub.key_id, &len);

        assert_int_equal(control_msg_sign(k, text, len, sig, &err), RW_OK);
        assert_int_equal(strlen(sig), 88);
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, sig, &err), 0);
        assert_int_equal(
                control_msg_check(&k->pub, 1, CONTROL_ALLOW_HALT, text, len, sig, &m, &err), 0);
        assert_int_equal(m.type, CONTROL_HALT);
        assert_string_equal(m.id, "halt-f476e6452c69b31ffea35bfb7f3e81f6");
        assert_string_equal(m.invariant, "supply");
        assert_string_equal(m.severity, "CRITICAL");
        assert_string_equal(m.reason, "minted exceeds locked");
        assert_string_equal(cJSON_GetObjectItem(m.evidence, "minted")->valuestring, "101");
        assert_int_equal(m.nheights, 2);
        assert_string_equal(m.heights[0].chain, "source");
        assert_int_equal(m.heights[0].block, 12345);
        assert_string_equal(m.heights[1].chain, "execution");
        assert_int_equal(m.heights[1].block, 678);
        assert_null(m.resume_from);
        assert_string_equal(m.issued_at, "2024-01-02T03:04:05.678Z");
        assert_int_equal(m.issued_at_ms, 1704164645678LL);
        assert_string_equal(m.watchdog_id, "wd-1");
        assert_string_equal(m.correlation_id, "wd-1-42");
        assert_string_equal(m.key_id, k->pub.key_id);
        control_msg_free(&m);
        control_msg_free(&m); /* zeroed: a second free is harmless */

        /* A HALT from a key configured for RESUME only is refused. */
        assert_int_equal(
                control_msg_check(&k->pub, 1, CONTROL_ALLOW_RESUME, text, len, sig, &m, &err),
                RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "not configured to sign a HALT"));
        assert_null(m.root);
        free(text);
        signing_key_free(k);
}

static void altered_byte_rejected(void **state)
{
        struct dir *d = *state;
        struct signing_key *k = new_key(d, "wd.key");
        char sig[CONTROL_SIG_B64_SIZE];
        struct control_msg m;
        struct rwerr err;
        size_t len = 0, i;
        char *text = build_halt(k->pub.key_id, &len);

        assert_int_equal(control_msg_sign(k, text, len, sig, &err), RW_OK);
        /* Any one byte changed, here every byte in turn. */
        for (i = 0; i < len; i++) {
                text[i] ^= 0x01;
                assert_int_equal(control_msg_verify(&k->pub, 1, text, len, sig, &err),
                                 RW_ERR_REFUSED);
                text[i] ^= 0x01;
        }
        assert_string_equal(err.msg, "signature does not verify with any of the 1 configured key");
        /* One byte fewer or more is a different message too. */
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len - 1, sig, &err), RW_ERR_REFUSED);
        text[5] = 'X';
        assert_int_equal(
                control_msg_check(&k->pub, 1, CONTROL_ALLOW_HALT, text, len, sig, &m, &err),
                RW_ERR_REFUSED);
        assert_null(m.root);
        free(text);
        signing_key_free(k);
}

static void other_key_rejected(void **state)
{
        struct dir *d = *state;
        struct signing_key *a = new_key(d, "a.key"), *b = new_key(d, "b.key");
        struct verify_key both[2];
        char sig[CONTROL_SIG_B64_SIZE];
        struct control_msg m;
        struct rwerr err;
        size_t len = 0;
        char *text = build_halt(b->pub.key_id, &len);

        both[0] = a->pub;
        both[1] = b->pub;
        assert_string_not_equal(a->pub.key_id, b->pub.key_id);
        assert_int_equal(control_msg_sign(b, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_verify(&a->pub, 1, text, len, sig, &err), RW_ERR_REFUSED);
        assert_int_equal(
                control_msg_check(&a->pub, 1, CONTROL_ALLOW_HALT, text, len, sig, &m, &err),
                RW_ERR_REFUSED);
        assert_int_equal(control_msg_verify(both, 2, text, len, sig, &err), 1);
        assert_int_equal(control_msg_check(both, 2, CONTROL_ALLOW_HALT, text, len, sig, &m, &err),
                         1);
        control_msg_free(&m);
        assert_int_equal(control_msg_verify(both, 2, text, len, sig, &err), 1);
        assert_int_equal(control_msg_verify(both, 0, text, len, sig, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "no public key configured"));
        free(text);

        /* Signed by b, but the msg claims to be from a: verify alone passes, check does not. */
        text = build_halt(a->pub.key_id, &len);
        assert_int_equal(control_msg_sign(b, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_verify(both, 2, text, len, sig, &err), 1);
        assert_int_equal(control_msg_check(both, 2, CONTROL_ALLOW_HALT, text, len, sig, &m, &err),
                         RW_ERR_REFUSED);
        assert_non_null(strstr(err.msg, "key_id"));
        assert_non_null(strstr(err.msg, a->pub.key_id));
        assert_null(m.root);
        free(text);
        signing_key_free(a);
        signing_key_free(b);
}

static void bad_signatures_rejected(void **state)
{
        struct dir *d = *state;
        struct signing_key *k = new_key(d, "wd.key");
        char sig[CONTROL_SIG_B64_SIZE], bad[300];
        struct rwerr err;
        size_t len = 0;
        char *text = build_halt(k->pub.key_id, &len);

        assert_int_equal(control_msg_sign(k, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, "!!!not base64!!!", &err),
                         RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "sig: not valid base64"));
        /* 84 characters: 63 bytes. */
        (void)snprintf(bad, sizeof bad, "%.84s", sig);
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, bad, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "sig: 63 bytes, expected 64");
        /* Cut anywhere else: no longer padded base64. */
        (void)snprintf(bad, sizeof bad, "%.87s", sig);
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, bad, &err), RW_ERR_INVALID);
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, "", &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "sig: 0 bytes, expected 64");
        /* URL-safe alphabet is not the original one. */
        (void)snprintf(bad, sizeof bad, "%s", sig);
        bad[0] = '-';
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, bad, &err), RW_ERR_INVALID);
        memset(bad, 'A', 200);
        bad[200] = '\0';
        assert_int_equal(control_msg_verify(&k->pub, 1, text, len, bad, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "more than 128 characters"));
        free(text);
        signing_key_free(k);
}

/* A signature made by Node's crypto.sign(null, msg, key) with the RFC 8032 TEST 1 key. */
static void node_signature_vector(void **state)
{
        static const char node_msg[] =
                "{\"v\":1,\"type\":\"HALT\",\"id\":\"halt-00112233445566778899aabbccddeeff\","
                "\"invariant\":\"supply\",\"severity\":\"CRITICAL\",\"reason\":\"node vector\","
                "\"evidence\":{},\"heights\":{\"source\":1},"
                "\"issued_at\":\"2024-01-02T03:04:05.678Z\",\"watchdog_id\":\"w\","
                "\"correlation_id\":\"c\",\"key_id\":\"7849ac3049680be1\"}";
        static const char node_sig[] =
                "GtHbyfmlrvv1Xwn14c2NKXUf19eh0PFNUsfKslHF8hj9wZetJfUMfVmYs7mB"
                "0AB9+TKO4l5C4wUioOQ8/f7uBw==";
        struct dir *d = *state;
        struct signing_key *k = NULL;
        char sig[CONTROL_SIG_B64_SIZE], line[256];
        struct control_msg m;
        struct verify_key vk;
        struct rwerr err;

        (void)snprintf(line, sizeof line, "relaywatch-ed25519-secret-v1 %s\n", rfc_secret_b64);
        write_file(in_dir(d, "rfc.key"), line, 0600);
        assert_int_equal(signing_key_load(d->file, &k, &err), RW_OK);
        (void)snprintf(line, sizeof line, "relaywatch-ed25519-public-v1 %s\n", rfc_public_b64);
        write_file(in_dir(d, "rfc.key.pub"), line, 0644);
        assert_int_equal(verify_key_load(d->file, &vk, &err), RW_OK);
        assert_string_equal(k->pub.key_id, rfc_key_id);
        assert_string_equal(vk.key_id, rfc_key_id);

        /* Ed25519 is deterministic: the same key and bytes give Node's signature. */
        assert_int_equal(control_msg_sign(k, node_msg, strlen(node_msg), sig, &err), RW_OK);
        assert_string_equal(sig, node_sig);
        assert_int_equal(control_msg_check(&vk, 1, CONTROL_ALLOW_HALT, node_msg, strlen(node_msg),
                                           node_sig, &m, &err),
                         0);
        assert_string_equal(m.reason, "node vector");
        control_msg_free(&m);
        signing_key_free(k);
}

/* ------------------------------------------------------------------ parsing */

/*
 * control_msg_parse on `text` must fail with a message containing `want`,
 * and control_msg_parse_why with the rejection `code`.
 */
static void expect_parse_error(const char *text, size_t len, enum control_reject code,
                               const char *want)
{
        enum control_reject why = CONTROL_ACCEPTED;
        struct control_msg m;
        struct rwerr err;
        int rc = control_msg_parse(text, len, &m, &err);

        if (rc == RW_OK || strstr(err.msg, want) == NULL)
                fail_msg("parse of %.200s: rc %d, message '%s', wanted '%s'", text, rc,
                         rc == RW_OK ? "" : err.msg, want);
        assert_null(m.root);
        assert_null(m.heights);
        assert_null(m.lifts);
        assert_int_not_equal(control_msg_parse_why(text, len, &m, &why, &err), RW_OK);
        if (why != code)
                fail_msg("parse of %.200s: %s, wanted %s", text, control_reject_name(why),
                         control_reject_name(code));
        assert_null(m.root);
}

/* The valid HALT with field `name` replaced by `json` (NULL: removed). */
static void expect_field_error(const char *name, const char *json, enum control_reject code,
                               const char *want)
{
        char base[1024];
        cJSON *root;
        char *text;

        (void)snprintf(base, sizeof base, halt_text, "0123456789abcdef");
        root = cJSON_Parse(base);
        assert_non_null(root);
        if (json == NULL) {
                cJSON_DeleteItemFromObjectCaseSensitive(root, name);
        } else {
                cJSON *v = cJSON_CreateRaw(json); /* verbatim: no reprinting of numbers */

                assert_non_null(v);
                if (cJSON_GetObjectItemCaseSensitive(root, name) != NULL)
                        assert_true(cJSON_ReplaceItemInObjectCaseSensitive(root, name, v));
                else
                        assert_true(cJSON_AddItemToObject(root, name, v));
        }
        text = cJSON_PrintUnformatted(root);
        assert_non_null(text);
        if (code == CONTROL_ACCEPTED) {
                struct control_msg m;
                struct rwerr err;

                assert_int_equal(control_msg_parse(text, strlen(text), &m, &err), RW_OK);
                control_msg_free(&m);
        } else {
                expect_parse_error(text, strlen(text), code, want);
        }
        cJSON_free(text);
        cJSON_Delete(root);
}

static void parse_refuses_missing_and_mistyped_fields(void **state)
{
        static const char *const strings[] = {
                "type",      "id",          "invariant",      "severity", "reason",
                "issued_at", "watchdog_id", "correlation_id", "key_id"};
        char want[64];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof strings / sizeof strings[0]; i++) {
                (void)snprintf(want, sizeof want, "%s: missing", strings[i]);
                expect_field_error(strings[i], NULL, CONTROL_MISSING_FIELD, want);
                (void)snprintf(want, sizeof want, "%s: must be a string", strings[i]);
                expect_field_error(strings[i], "7", CONTROL_BAD_FIELD, want);
                expect_field_error(strings[i], "null", CONTROL_BAD_FIELD, want);
                (void)snprintf(want, sizeof want, "%s: must not be empty", strings[i]);
                expect_field_error(strings[i], "\"\"", CONTROL_BAD_FIELD, want);
        }
        expect_field_error("v", NULL, CONTROL_MISSING_FIELD, "v: missing");
        /* a v other than the number 1 is a version this reader does not implement */
        expect_field_error("v", "\"1\"", CONTROL_UNKNOWN_VERSION,
                           "v: version that is not a number is not one this reader implements");
        expect_field_error("v", "2", CONTROL_UNKNOWN_VERSION,
                           "v: version other than 1 is not one this reader implements");
        expect_field_error("v", "1.5", CONTROL_UNKNOWN_VERSION, "v: version other than 1");
        expect_field_error("v", "null", CONTROL_UNKNOWN_VERSION, "v: version that is not");
        expect_field_error("evidence", NULL, CONTROL_MISSING_FIELD, "evidence: missing");
        expect_field_error("evidence", "[1]", CONTROL_BAD_FIELD, "evidence: must be an object");
        expect_field_error("heights", NULL, CONTROL_MISSING_FIELD, "heights: missing");
        expect_field_error("heights", "[12345]", CONTROL_BAD_FIELD, "heights: must be an object");
        /* the chain's name is not repeated: it is text from outside */
        expect_field_error("heights", "{\"source\":\"12345\"}", CONTROL_BAD_FIELD,
                           "heights: a value is not a block number");
        expect_field_error("heights", "{\"source\":-1}", CONTROL_BAD_FIELD,
                           "heights: a value is not a block number");
        expect_field_error("heights", "{\"source\":1.5}", CONTROL_BAD_FIELD,
                           "heights: a value is not a block number");
        expect_field_error("heights", "{\"source\":9007199254740992}", CONTROL_BAD_FIELD,
                           "heights: a value is not a block number");
        expect_field_error("heights", "{\"source\":9007199254740991}", CONTROL_ACCEPTED, "");
        expect_field_error("heights", "{\"\":1}", CONTROL_BAD_FIELD,
                           "heights: a chain name is empty");
        expect_field_error("heights", "{\"a\":1,\"a\":2}", CONTROL_DUPLICATE_KEY,
                           "the name \"a\" is given twice in one object");
        expect_field_error("type", "\"STOP\"", CONTROL_BAD_FIELD,
                           "type: must be \"HALT\" or \"RESUME\"");
        expect_field_error("type", "\"halt\"", CONTROL_BAD_FIELD, "type: must be");
        expect_field_error("id", "\"halt-F476E6452C69B31FFEA35BFB7F3E81F6\"", CONTROL_BAD_FIELD,
                           "id: a HALT id");
        expect_field_error("id", "\"halt-f476e6452c69b31ffea35bfb7f3e81f\"", CONTROL_BAD_FIELD,
                           "id: a HALT id");
        expect_field_error("id", "\"resume-f476e6452c69b31ffea35bfb7f3e81f6\"", CONTROL_BAD_FIELD,
                           "id: a HALT id");
        expect_field_error("key_id", "\"0123456789abcde\"", CONTROL_BAD_FIELD,
                           "key_id: must be 16");
        expect_field_error("key_id", "\"0123456789abcdeg\"", CONTROL_BAD_FIELD,
                           "key_id: must be 16");
        expect_field_error("issued_at", "\"2024-01-02T03:04:05.678\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("issued_at", "\"2024-01-02T03:04:05Z\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("issued_at", "\"2024-01-02 03:04:05.678Z\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("issued_at", "\"2023-02-29T03:04:05.678Z\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("issued_at", "\"2024-13-02T03:04:05.678Z\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("issued_at", "\"2024-01-02T24:04:05.678Z\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("issued_at", "\"1969-12-31T23:59:59.999Z\"", CONTROL_BAD_FIELD,
                           "issued_at: must be UTC");
        expect_field_error("resume_from", "{\"source\":1}", CONTROL_BAD_FIELD,
                           "lifts, resume_from: only a RESUME carries them");
        expect_field_error("lifts", "[\"halt-f476e6452c69b31ffea35bfb7f3e81f6\"]",
                           CONTROL_BAD_FIELD, "lifts, resume_from: only a RESUME carries them");
}

static void parse_refuses_malformed_text(void **state)
{
        char base[1024], text[1100];
        struct control_msg m;
        struct rwerr err;
        size_t n;

        (void)state;
        (void)snprintf(base, sizeof base, halt_text, "0123456789abcdef");
        n = strlen(base);
        assert_int_equal(control_msg_parse(base, n, &m, &err), RW_OK);
        control_msg_free(&m);

        expect_parse_error("", 0, CONTROL_BAD_JSON,
                           "msg: not strict JSON: byte 0: the message must start with '{'");
        expect_parse_error("[1,2]", 5, CONTROL_BAD_JSON, "the message must start with '{'");
        expect_parse_error("\"HALT\"", 6, CONTROL_BAD_JSON, "the message must start with '{'");
        expect_parse_error(base, n - 1, CONTROL_BAD_JSON, "msg: not strict JSON");
        (void)snprintf(text, sizeof text, " %s", base);
        expect_parse_error(text, n + 1, CONTROL_BAD_JSON, "the message must start with '{'");
        (void)snprintf(text, sizeof text, "%s ", base);
        expect_parse_error(text, n + 1, CONTROL_BAD_JSON, "1 bytes after the JSON object");
        (void)snprintf(text, sizeof text, "%s{}", base);
        expect_parse_error(text, n + 2, CONTROL_BAD_JSON, "2 bytes after the JSON object");
        memcpy(text, base, n);
        text[20] = '\0';
        expect_parse_error(text, n, CONTROL_NOT_UTF8, "msg: byte 20: a NUL byte");
        memcpy(text, base, n);
        text[40] = (char)0xc0;
        text[41] = (char)0x80;
        expect_parse_error(text, n, CONTROL_NOT_UTF8, "msg: byte 40: not UTF-8 (byte 0xc0)");
        /* A duplicate field, first or second copy valid: refused either way. */
        (void)snprintf(text, sizeof text, "{\"reason\":\"x\",%s", base + 1);
        expect_parse_error(text, strlen(text), CONTROL_DUPLICATE_KEY,
                           "the name \"reason\" is given twice in one object");
        expect_parse_error(text, CONTROL_MSG_MAX + 1, CONTROL_TOO_LONG,
                           "msg: 65537 bytes, at most 65536");

        /* An unknown type in an otherwise valid message. */
        (void)snprintf(text, sizeof text, "%s", base);
        memcpy(strstr(text, "\"HALT\""), "\"RSUM\"", 6);
        expect_parse_error(text, n, CONTROL_BAD_FIELD, "type: must be");
}

static void parse_resume_rules(void **state)
{
        static const char resume[] =
                "{\"v\":1,\"type\":\"RESUME\",\"id\":\"resume-00112233445566778899aabbccddeeff\","
                "\"invariant\":\"*\",\"severity\":\"INFO\",\"reason\":\"fixed\",\"evidence\":{},"
                "\"heights\":{},%s%s\"issued_at\":\"2024-01-02T03:04:05.678Z\","
                "\"watchdog_id\":\"op\",\"correlation_id\":\"c\",\"key_id\":\"0123456789abcdef\"}";
        static const char lifts[] = "\"lifts\":[\"halt-00000000000000000000000000000001\","
                                    "\"halt-00000000000000000000000000000002\"],";
        char text[1024];
        struct control_msg m;
        struct rwerr err;

        (void)state;
        (void)snprintf(text, sizeof text, resume, lifts, "\"resume_from\":{\"source\":7},");
        assert_int_equal(control_msg_parse(text, strlen(text), &m, &err), RW_OK);
        assert_int_equal(m.type, CONTROL_RESUME);
        assert_int_equal(m.nheights, 0);
        assert_null(m.heights);
        assert_int_equal(m.nlifts, 2);
        assert_string_equal(m.lifts[0], "halt-00000000000000000000000000000001");
        assert_string_equal(m.lifts[1], "halt-00000000000000000000000000000002");
        assert_int_equal(m.resume_from[0].block, 7);
        control_msg_free(&m);
        (void)snprintf(text, sizeof text, resume, lifts, "");
        expect_parse_error(text, strlen(text), CONTROL_MISSING_FIELD, "resume_from: missing");
        (void)snprintf(text, sizeof text, resume, "", "\"resume_from\":{\"source\":7},");
        expect_parse_error(text, strlen(text), CONTROL_MISSING_FIELD,
                           "lifts: missing (a RESUME names the HALTs it lifts)");
        /* both missing: lifts comes first in the table */
        (void)snprintf(text, sizeof text, resume, "", "");
        expect_parse_error(text, strlen(text), CONTROL_MISSING_FIELD, "lifts: missing");
        (void)snprintf(text, sizeof text, resume, lifts, "\"resume_from\":{},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD,
                           "resume_from: must name at least one chain");
        (void)snprintf(text, sizeof text, resume, lifts, "\"resume_from\":{\"source\":true},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD,
                           "resume_from: a value is not a block number");
        /* lifts: 1 to 256 distinct HALT ids */
        (void)snprintf(text, sizeof text, resume, "\"lifts\":[],", "\"resume_from\":{\"s\":7},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD,
                           "lifts: a RESUME lifts 1 to 256 HALT ids, not 0");
        (void)snprintf(text, sizeof text, resume,
                       "\"lifts\":\"halt-00000000000000000000000000000001\",",
                       "\"resume_from\":{\"s\":7},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD,
                           "lifts: must be an array of HALT ids");
        (void)snprintf(text, sizeof text, resume,
                       "\"lifts\":[\"halt-00000000000000000000000000000001\",null],",
                       "\"resume_from\":{\"s\":7},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD,
                           "lifts[1]: a HALT id is 'halt-' and 32 lowercase hex digits");
        (void)snprintf(text, sizeof text, resume,
                       "\"lifts\":[\"resume-00000000000000000000000000000001\"],",
                       "\"resume_from\":{\"s\":7},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD, "lifts[0]: a HALT id is");
        (void)snprintf(text, sizeof text, resume,
                       "\"lifts\":[\"halt-00000000000000000000000000000001\","
                       "\"halt-00000000000000000000000000000001\"],",
                       "\"resume_from\":{\"s\":7},");
        expect_parse_error(text, strlen(text), CONTROL_BAD_FIELD,
                           "lifts: halt-00000000000000000000000000000001 is given twice");
}

/* --------------------------------------------------------------- judging */

/* A RESUME lifting `lift` signed by `key`, naming key_id; *sig filled. Caller frees. */
static char *signed_resume(const struct signing_key *key, const char *key_id, const char *lift,
                           char sig[CONTROL_SIG_B64_SIZE], size_t *len)
{
        static const struct control_height from[] = {{"source", 100}};
        struct control_msg_fields f;
        char hid[CONTROL_ID_SIZE];
        const char *lifts[1] = {lift};
        struct rwerr err;
        char *text = NULL;

        halt_fields(&f, hid, NULL, key_id);
        f.type = CONTROL_RESUME;
        f.id = "resume-00112233445566778899aabbccddeeff";
        f.lifts = lifts;
        f.nlifts = 1;
        f.resume_from = from;
        f.nresume_from = 1;
        assert_int_equal(control_msg_build(&f, &text, len, &err), RW_OK);
        assert_int_equal(control_msg_sign(key, text, *len, sig, &err), RW_OK);
        return text;
}

static void judge_whom_to_trust(void **state)
{
        struct dir *d = *state;
        struct signing_key *w = new_key(d, "w.key"), *o = new_key(d, "o.key"),
                           *x = new_key(d, "x.key");
        struct control_keys keys = {&w->pub, 1, &o->pub, 1};
        struct control_judgement j;
        char sig[CONTROL_SIG_B64_SIZE];
        struct control_msg m;
        struct rwerr err;
        size_t len = 0;
        char *text;

        /* a HALT of the watchdog's key */
        text = build_halt(w->pub.key_id, &len);
        assert_int_equal(control_msg_sign(w, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_ACCEPTED);
        assert_int_equal(j.reject, CONTROL_ACCEPTED);
        assert_int_equal(j.role, CONTROL_ROLE_WATCHDOG);
        assert_ptr_equal(j.key, &w->pub);
        assert_int_equal(m.type, CONTROL_HALT);
        control_msg_free(&m);
        free(text);
        /* a HALT of the operator's: an operator may halt by hand */
        text = build_halt(o->pub.key_id, &len);
        assert_int_equal(control_msg_sign(o, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_ACCEPTED);
        assert_int_equal(j.role, CONTROL_ROLE_OPERATOR);
        assert_ptr_equal(j.key, &o->pub);
        control_msg_free(&m);
        free(text);
        /* a HALT of nobody's: no role, no key, nothing parsed */
        text = build_halt(x->pub.key_id, &len);
        assert_int_equal(control_msg_sign(x, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_BAD_SIGNATURE);
        assert_int_equal(j.role, CONTROL_ROLE_NONE);
        assert_null(j.key);
        assert_null(m.root);
        assert_string_equal(j.detail,
                            "no configured watchdog or operator key verifies the signature");
        free(text);

        /* a RESUME of the operator's */
        text = signed_resume(o, o->pub.key_id, "halt-f476e6452c69b31ffea35bfb7f3e81f6", sig, &len);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_ACCEPTED);
        assert_int_equal(j.role, CONTROL_ROLE_OPERATOR);
        assert_int_equal(m.type, CONTROL_RESUME);
        assert_int_equal(m.nlifts, 1);
        control_msg_free(&m);
        free(text);
        /* a RESUME of the watchdog's: refused, after its key_id is checked */
        text = signed_resume(w, w->pub.key_id, "halt-f476e6452c69b31ffea35bfb7f3e81f6", sig, &len);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_RESUME_BY_WATCHDOG_KEY);
        assert_int_equal(j.role, CONTROL_ROLE_WATCHDOG);
        assert_ptr_equal(j.key, &w->pub);
        assert_null(m.root);
        assert_non_null(strstr(j.detail, w->pub.key_id));
        free(text);
        text = signed_resume(w, o->pub.key_id, "halt-f476e6452c69b31ffea35bfb7f3e81f6", sig, &len);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_KEY_ID_MISMATCH);
        assert_null(m.root);
        free(text);

        /* the same key in both roles (a configuration error): a RESUME is the operator's */
        keys.operator_keys = &w->pub;
        text = signed_resume(w, w->pub.key_id, "halt-f476e6452c69b31ffea35bfb7f3e81f6", sig, &len);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_ACCEPTED);
        assert_int_equal(j.role, CONTROL_ROLE_OPERATOR);
        control_msg_free(&m);
        free(text);
        text = build_halt(w->pub.key_id, &len);
        assert_int_equal(control_msg_sign(w, text, len, sig, &err), RW_OK);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_ACCEPTED);
        assert_int_equal(j.role, CONTROL_ROLE_WATCHDOG);
        control_msg_free(&m);

        free(text);

        /* watchdog keys only: a HALT passes, a RESUME never */
        keys.noperator = 0;
        text = signed_resume(w, w->pub.key_id, "halt-f476e6452c69b31ffea35bfb7f3e81f6", sig, &len);
        assert_int_equal(control_msg_judge(&keys, text, len, sig, strlen(sig), &m, &j),
                         CONTROL_RESUME_BY_WATCHDOG_KEY);
        free(text);
        signing_key_free(w);
        signing_key_free(o);
        signing_key_free(x);
}

static void judge_order_before_parsing(void **state)
{
        struct dir *d = *state;
        struct signing_key *w = new_key(d, "w.key");
        struct control_keys keys = {&w->pub, 1, NULL, 0};
        struct control_judgement j;
        char sig[CONTROL_SIG_B64_SIZE], withnul[CONTROL_SIG_B64_SIZE];
        struct control_msg m;
        struct rwerr err;
        size_t len = 0;
        char *text = build_halt(w->pub.key_id, &len), *big;

        assert_int_equal(control_msg_sign(w, text, len, sig, &err), RW_OK);
        /* the length comes first, whatever the signature */
        big = calloc(1, CONTROL_MSG_MAX + 1);
        assert_non_null(big);
        assert_int_equal(control_msg_judge(&keys, big, CONTROL_MSG_MAX + 1, "x", 1, &m, &j),
                         CONTROL_TOO_LONG);
        assert_string_equal(j.detail, "msg: 65537 bytes, at most 65536");
        free(big);
        /* a signature of the wrong length, or with a NUL in it */
        assert_int_equal(control_msg_judge(&keys, text, len, sig, 87, &m, &j),
                         CONTROL_BAD_SIGNATURE);
        assert_string_equal(j.detail, "sig: 87 bytes, expected 88 base64 characters");
        memcpy(withnul, sig, sizeof withnul);
        withnul[87] = '\0';
        assert_int_equal(control_msg_judge(&keys, text, len, withnul, 88, &m, &j),
                         CONTROL_BAD_SIGNATURE);
        /* 88 characters that are not base64 */
        memset(withnul, '*', 88);
        withnul[88] = '\0';
        assert_int_equal(control_msg_judge(&keys, text, len, withnul, 88, &m, &j),
                         CONTROL_BAD_SIGNATURE);
        assert_non_null(strstr(j.detail, "not valid base64"));
        /* a signature that is not NUL-terminated is read as its 88 bytes */
        memcpy(withnul, sig, 88);
        withnul[88] = 'Z';
        assert_int_equal(control_msg_judge(&keys, text, len, withnul, 88, &m, &j),
                         CONTROL_ACCEPTED);
        control_msg_free(&m);
        /* no keys at all */
        keys.nwatchdog = 0;
        assert_int_equal(control_msg_judge(&keys, text, len, sig, 88, &m, &j),
                         CONTROL_BAD_SIGNATURE);
        free(text);
        signing_key_free(w);
}

static void build_refuses_bad_lifts(void **state)
{
        static const struct control_height from[] = {{"source", 1}};
        static char many[CONTROL_LIFTS_MAX + 1][CONTROL_ID_SIZE];
        const char *lifts[CONTROL_LIFTS_MAX + 1];
        struct control_msg_fields f;
        char hid[CONTROL_ID_SIZE];
        struct control_msg m;
        struct rwerr err;
        char *text = NULL;
        size_t len = 0, i;

        (void)state;
        for (i = 0; i <= CONTROL_LIFTS_MAX; i++) {
                (void)snprintf(many[i], sizeof many[i], "halt-%032zx", i);
                lifts[i] = many[i];
        }
        halt_fields(&f, hid, NULL, "0123456789abcdef");
        f.type = CONTROL_RESUME;
        f.id = "resume-00112233445566778899aabbccddeeff";
        f.resume_from = from;
        f.nresume_from = 1;
        f.lifts = lifts;
        f.nlifts = 0;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "lifts: a RESUME lifts 1 to 256 HALT ids, not 0");
        assert_null(text);
        f.nlifts = CONTROL_LIFTS_MAX + 1;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "lifts: a RESUME lifts 1 to 256 HALT ids, not 257");
        /* all 256: built, and read back in order */
        f.nlifts = CONTROL_LIFTS_MAX;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_OK);
        assert_int_equal(control_msg_parse(text, len, &m, &err), RW_OK);
        assert_int_equal(m.nlifts, CONTROL_LIFTS_MAX);
        for (i = 0; i < CONTROL_LIFTS_MAX; i++)
                assert_string_equal(m.lifts[i], many[i]);
        control_msg_free(&m);
        free(text);
        text = NULL;
        /* one given twice, one not a HALT id, one missing */
        lifts[1] = many[0];
        f.nlifts = 2;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "lifts: halt-00000000000000000000000000000000 is given twice");
        lifts[1] = "resume-00112233445566778899aabbccddeeff";
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_string_equal(err.msg, "lifts[1]: a HALT id is 'halt-' and 32 lowercase hex digits");
        lifts[1] = NULL;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "lifts[1]"));
        f.lifts = NULL;
        f.nlifts = 0;
        assert_int_equal(control_msg_build(&f, &text, &len, &err), RW_ERR_INVALID);
        assert_null(text);
}

/* ------------------------------------------------------------- the command */

static void keygen_command(void **state)
{
        struct dir *d = *state;
        char path[160], *argv[] = {"relaywatch", "keygen", "--out", path};
        char *none[] = {"relaywatch", "keygen"};
        char *extra[] = {"relaywatch", "keygen", "--out", path, "--force"};
        char *help[] = {"relaywatch", "--help"};
        struct verify_key vk;
        struct rwerr err;
        struct cli_run r;
        char want[200];

        (void)snprintf(path, sizeof path, "%s/wd.key", d->path);
        r = cli_run(4, argv);
        assert_int_equal(r.code, CLI_EXIT_OK);
        assert_string_equal(r.err, "");
        assert_int_equal(verify_key_load(in_dir(d, "wd.key.pub"), &vk, &err), RW_OK);
        (void)snprintf(want, sizeof want, "public key: %s (", d->file);
        assert_non_null(strstr(r.out, want));
        (void)snprintf(want, sizeof want, "key_id: %s\n", vk.key_id);
        assert_non_null(strstr(r.out, want));
        cli_run_free(&r);

        r = cli_run(4, argv); /* never overwrites */
        assert_int_equal(r.code, CLI_EXIT_FAILURE);
        assert_non_null(strstr(r.err, "already exists"));
        cli_run_free(&r);

        r = cli_run(2, none);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "--out FILE is required"));
        cli_run_free(&r);
        r = cli_run(5, extra);
        assert_int_equal(r.code, CLI_EXIT_USAGE);
        assert_non_null(strstr(r.err, "unexpected argument '--force'"));
        cli_run_free(&r);

        r = cli_run(2, help);
        assert_non_null(strstr(r.out, "  keygen       generate an Ed25519 key pair"));
        cli_run_free(&r);
}

#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                DIR_TEST(generate_and_load_round_trip),
                cmocka_unit_test(key_id_vector),
                DIR_TEST(secret_readable_by_others_refused),
                DIR_TEST(existing_file_refused),
                DIR_TEST(tampered_public_half_refused),
                DIR_TEST(malformed_key_files_refused),
                cmocka_unit_test(halt_id_is_stable_and_specific),
                cmocka_unit_test(built_halt_is_exactly_the_documented_text),
                cmocka_unit_test(built_resume_and_refused_fields),
                cmocka_unit_test(issued_at_format),
                DIR_TEST(sign_verify_round_trip),
                DIR_TEST(altered_byte_rejected),
                DIR_TEST(other_key_rejected),
                DIR_TEST(bad_signatures_rejected),
                DIR_TEST(node_signature_vector),
                cmocka_unit_test(parse_refuses_missing_and_mistyped_fields),
                cmocka_unit_test(parse_refuses_malformed_text),
                cmocka_unit_test(parse_resume_rules),
                DIR_TEST(judge_whom_to_trust),
                DIR_TEST(judge_order_before_parsing),
                cmocka_unit_test(build_refuses_bad_lifts),
                DIR_TEST(keygen_command),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
