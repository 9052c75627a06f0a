#include "audit_key.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "b64.h"
#include "fileio.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define SECRET_B64_SIZE sodium_base64_ENCODED_LEN(SIGNING_KEY_SECRET_BYTES, B64)
#define PUBLIC_B64_SIZE sodium_base64_ENCODED_LEN(SIGNING_KEY_PUBLIC_BYTES, B64)
#define KEY_LINE_MAX 256

/* What a secret key file line is built in: locked memory, wiped on free. */
struct key_text {
        char line[KEY_LINE_MAX];
        char b64[SECRET_B64_SIZE];
};

static int path_of(char *out, size_t cap, const char *dir, const char *name, struct rwerr *err)
{
        if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
                return rwerr_set(err, RW_ERR_RANGE, "%s/%s: path too long", dir, name);
        return RW_OK;
}

void audit_key_free(struct audit_key *k)
{
        if (k == NULL)
                return;
        signing_key_free(k->key);
        free(k);
}

/* A new audit_key around a fresh key pair (or the given secret when sk != NULL). */
static struct audit_key *key_new(const unsigned char *sk, uint64_t epoch, int64_t started_s,
                                 struct rwerr *err)
{
        struct audit_key *k = calloc(1, sizeof *k);

        if (k == NULL || (k->key = sodium_malloc(sizeof *k->key)) == NULL) {
                free(k);
                rwerr_set(err, RW_ERR_NOMEM, "cannot allocate locked memory for the audit key");
                return NULL;
        }
        if (sk != NULL) {
                memcpy(k->key->sk, sk, SIGNING_KEY_SECRET_BYTES);
        } else {
                unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];

                if (crypto_sign_keypair(pk, k->key->sk) != 0) {
                        audit_key_free(k);
                        rwerr_set(err, RW_ERR_IO, "libsodium failed to generate the audit key");
                        return NULL;
                }
        }
        verify_key_from_bytes(k->key->sk + 32, &k->key->pub);
        k->epoch = epoch;
        k->started_s = started_s;
        return k;
}

/* Writes `k` to dir/name (mode 0600, replaced atomically and durably). */
static int key_save(const char *dir, const char *name, const struct audit_key *k, struct rwerr *err)
{
        struct key_text *t = sodium_malloc(sizeof *t);
        int n, rc;

        if (t == NULL)
                return rwerr_set(err, RW_ERR_NOMEM,
                                 "cannot allocate locked memory for the audit key");
        (void)sodium_bin2base64(t->b64, sizeof t->b64, k->key->sk, SIGNING_KEY_SECRET_BYTES, B64);
        n = snprintf(t->line, sizeof t->line, "%s %" PRIu64 " %" PRId64 " %s\n", AUDIT_KEY_HEADER,
                     k->epoch, k->started_s, t->b64);
        if (n < 0 || (size_t)n >= sizeof t->line)
                rc = rwerr_set(err, RW_ERR_RANGE, "%s/%s: key line too long", dir, name);
        else
                rc = fileio_replace(dir, name, t->line, (size_t)n, 0600, 1, err);
        sodium_free(t);
        return rc;
}

/* A decimal number of digits only (no sign, no space) at *p, which moves past it. */
static int parse_digits(const char **p, unsigned long long *out)
{
        char *end;

        if (**p < '0' || **p > '9')
                return -1;
        errno = 0;
        *out = strtoull(*p, &end, 10);
        if (errno != 0)
                return -1;
        *p = end;
        return 0;
}

/* "HEADER EPOCH STARTED BASE64\n", exactly; b64 gets the base64 text. */
static int parse_key_line(const char *line, unsigned long long *epoch, long long *started,
                          char *b64, size_t cap)
{
        const char *p = line, *nl;
        unsigned long long s;
        size_t hl = strlen(AUDIT_KEY_HEADER);

        if (strncmp(p, AUDIT_KEY_HEADER " ", hl + 1) != 0)
                return -1;
        p += hl + 1;
        if (parse_digits(&p, epoch) != 0 || *p++ != ' ' || parse_digits(&p, &s) != 0 ||
            s > (unsigned long long)INT64_MAX || *p++ != ' ')
                return -1;
        *started = (long long)s;
        if ((nl = strchr(p, '\n')) == NULL || nl[1] != '\0' || (size_t)(nl - p) >= cap)
                return -1;
        memcpy(b64, p, (size_t)(nl - p));
        b64[nl - p] = '\0';
        return 0;
}

/* Reads dir/name; RW_ERR_IO with errno ENOENT when it is not there. */
static int key_load(const char *dir, const char *name, struct audit_key **out, struct rwerr *err)
{
        char path[4096];
        struct key_text *t;
        unsigned char *sk;
        struct stat st;
        unsigned long long epoch;
        long long started;
        ssize_t got;
        int fd, rc = RW_OK;

        *out = NULL;
        if ((rc = path_of(path, sizeof path, dir, name, err)) != RW_OK)
                return rc;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;

                rc = rwerr_set(err, RW_ERR_IO, "%s: cannot open: %s", path, strerror(e));
                errno = e;
                return rc;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
                (void)close(fd);
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "%s: not a regular file of mode 0600: the audit key must be "
                                 "readable by its owner only",
                                 path);
        }
        t = sodium_malloc(sizeof *t + SIGNING_KEY_SECRET_BYTES);
        if (t == NULL) {
                (void)close(fd);
                return rwerr_set(err, RW_ERR_NOMEM,
                                 "cannot allocate locked memory for the audit key");
        }
        sk = (unsigned char *)(t + 1);
        got = read(fd, t->line, sizeof t->line - 1);
        (void)close(fd);
        if (got <= 0) {
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "%s: empty or unreadable (a key zeroed by a "
                               "rotation that did not finish?)",
                               path);
                goto done;
        }
        t->line[got] = '\0';
        if (parse_key_line(t->line, &epoch, &started, t->b64, sizeof t->b64) != 0) {
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "%s: not an audit key file (expected one line \"%s EPOCH "
                               "STARTED BASE64\")",
                               path, AUDIT_KEY_HEADER);
                goto done;
        }
        if (b64_decode_exact(t->b64, sk, SIGNING_KEY_SECRET_BYTES) != 0) {
                rc = rwerr_set(err, RW_ERR_INVALID, "%s: the secret key is not 64 bytes of base64",
                               path);
                goto done;
        }
        {
                unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];

                if (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
                    sodium_memcmp(pk, sk + 32, 32) != 0) {
                        rc = rwerr_set(err, RW_ERR_INVALID,
                                       "%s: the public half does not match the secret key", path);
                        goto done;
                }
        }
        if ((*out = key_new(sk, (uint64_t)epoch, (int64_t)started, err)) == NULL)
                rc = RW_ERR_NOMEM;
done:
        sodium_free(t);
        return rc;
}

static int write_pub(const char *dir, const struct audit_key *k, struct rwerr *err)
{
        char b64[PUBLIC_B64_SIZE], line[KEY_LINE_MAX];
        int n;

        (void)sodium_bin2base64(b64, sizeof b64, k->key->pub.pk, SIGNING_KEY_PUBLIC_BYTES, B64);
        n = snprintf(line, sizeof line, "%s %s\n", SIGNING_KEY_PUBLIC_HEADER, b64);
        return fileio_replace(dir, AUDIT_KEY_PUB_FILE, line, (size_t)n, 0644, 1, err);
}

int audit_key_open(const char *dir, int create, int64_t now_s, struct audit_key **cur,
                   struct audit_key **next, struct rwerr *err)
{
        char pub[4096];
        struct stat st;
        int rc;

        *cur = NULL;
        *next = NULL;
        rc = key_load(dir, AUDIT_KEY_NEXT_FILE, next, err);
        if (rc != RW_OK && !(rc == RW_ERR_IO && errno == ENOENT))
                *next = NULL; /* a half-written next key was never used: the log decides */
        rc = key_load(dir, AUDIT_KEY_FILE, cur, err);
        if (rc == RW_OK)
                return RW_OK;
        if (rc == RW_ERR_IO && errno == ENOENT && create) {
                if ((rc = path_of(pub, sizeof pub, dir, AUDIT_KEY_PUB_FILE, err)) != RW_OK)
                        goto fail;
                if (lstat(pub, &st) == 0) {
                        rc = rwerr_set(err, RW_ERR_REFUSED,
                                       "%s/%s is missing but %s exists: the audit key was "
                                       "removed; relaywatch will not start a new genesis key "
                                       "over an old one (see the AUDIT_LOG_DOWN runbook)",
                                       dir, AUDIT_KEY_FILE, pub);
                        goto fail;
                }
                if ((*cur = key_new(NULL, 0, now_s, err)) == NULL) {
                        rc = RW_ERR_NOMEM;
                        goto fail;
                }
                if ((rc = key_save(dir, AUDIT_KEY_FILE, *cur, err)) != RW_OK ||
                    (rc = write_pub(dir, *cur, err)) != RW_OK)
                        goto fail;
                return RW_OK;
        }
        if (*next != NULL)
                return RW_ERR_REFUSED; /* a rotation cut short: the caller finishes it with *next */
fail:
        audit_key_free(*cur);
        audit_key_free(*next);
        *cur = NULL;
        *next = NULL;
        return rc;
}

int audit_key_prepare_next(const char *dir, const struct audit_key *cur, int64_t now_s,
                           struct audit_key **next, struct rwerr *err)
{
        int rc;

        if ((*next = key_new(NULL, cur->epoch + 1, now_s, err)) == NULL)
                return RW_ERR_NOMEM;
        if ((rc = key_save(dir, AUDIT_KEY_NEXT_FILE, *next, err)) != RW_OK) {
                audit_key_free(*next);
                *next = NULL;
        }
        return rc;
}

/* Overwrites dir/name with zeros of its own length and fsyncs it; errors are ignored. */
static void zero_file(const char *dir, const char *name)
{
        char path[4096], zeros[KEY_LINE_MAX] = {0};
        struct stat st;
        int fd;

        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
                return;
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= sizeof zeros &&
            fileio_write_all(fd, zeros, (size_t)st.st_size) == 0)
                (void)fsync(fd);
        (void)close(fd);
}

int audit_key_commit(const char *dir, struct audit_key **cur, struct audit_key *next,
                     struct rwerr *err)
{
        char from[4096], to[4096];
        int rc, dfd;

        if ((rc = path_of(from, sizeof from, dir, AUDIT_KEY_NEXT_FILE, err)) != RW_OK ||
            (rc = path_of(to, sizeof to, dir, AUDIT_KEY_FILE, err)) != RW_OK)
                return rc;
        zero_file(dir, AUDIT_KEY_FILE);
        if (rename(from, to) != 0)
                return rwerr_set(err, RW_ERR_IO, "cannot rename %s to %s: %s", from, to,
                                 strerror(errno));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void)fsync(dfd);
                (void)close(dfd);
        }
        audit_key_free(*cur);
        *cur = next;
        return RW_OK;
}

void audit_key_abandon(const char *dir, struct audit_key *next)
{
        char path[4096];

        zero_file(dir, AUDIT_KEY_NEXT_FILE);
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, AUDIT_KEY_NEXT_FILE) < sizeof path)
                (void)unlink(path);
        audit_key_free(next);
}

size_t audit_key_cert_message(const char *origin, uint64_t epoch,
                              const unsigned char pk[SIGNING_KEY_PUBLIC_BYTES],
                              char out[AUDIT_KEY_CERT_MAX])
{
        char b64[PUBLIC_B64_SIZE];
        int n;

        (void)sodium_bin2base64(b64, sizeof b64, pk, SIGNING_KEY_PUBLIC_BYTES, B64);
        n = snprintf(out, AUDIT_KEY_CERT_MAX, "relaywatch-audit-key/v1\n%s\n%" PRIu64 "\n%s\n",
                     origin, epoch, b64);
        return n < 0 || n >= AUDIT_KEY_CERT_MAX ? 0 : (size_t)n;
}
