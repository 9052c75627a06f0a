#include "signing_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "b64.h"
#include "fileio.h"

_Static_assert(SIGNING_KEY_SECRET_BYTES == crypto_sign_SECRETKEYBYTES, "secret key size");
_Static_assert(SIGNING_KEY_PUBLIC_BYTES == crypto_sign_PUBLICKEYBYTES, "public key size");

/* A key file is one short line; anything longer is not a key file. */
#define KEY_FILE_MAX 512
#define PUBLIC_B64_SIZE (sodium_base64_ENCODED_LEN(SIGNING_KEY_PUBLIC_BYTES, B64_VARIANT))
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

static int init_sodium(struct rwerr *err)
{
        if (sodium_init() < 0)
                return rwerr_set(err, RW_ERR_IO, "libsodium failed to initialise");
        return RW_OK;
}

void verify_key_from_bytes(const unsigned char pk[SIGNING_KEY_PUBLIC_BYTES], struct verify_key *out)
{
        unsigned char h[crypto_generichash_BYTES];
        static const char digits[] = "0123456789abcdef";
        size_t i;

        memcpy(out->pk, pk, SIGNING_KEY_PUBLIC_BYTES);
        (void)crypto_generichash(h, sizeof h, pk, SIGNING_KEY_PUBLIC_BYTES, NULL, 0);
        for (i = 0; i < SIGNING_KEY_ID_LEN / 2; i++) {
                out->key_id[2 * i] = digits[h[i] >> 4];
                out->key_id[2 * i + 1] = digits[h[i] & 0xf];
        }
        out->key_id[SIGNING_KEY_ID_LEN] = '\0';
}

/* Writes all of buf to fd, then fsyncs it. */
static int write_all_sync(int fd, const char *buf, size_t len)
{
        if (fileio_write_all(fd, buf, len) != 0)
                return -1;
        return fsync(fd);
}

/* fsync the directory holding `path`, so a new entry in it is durable. */
static int sync_parent_dir(const char *path, struct rwerr *err)
{
        const char *slash = strrchr(path, '/');
        char dir[4096];
        int fd, rc = RW_OK;

        if (slash == NULL) {
                dir[0] = '.';
                dir[1] = '\0';
        } else if (slash == path) {
                dir[0] = '/';
                dir[1] = '\0';
        } else {
                if ((size_t)(slash - path) >= sizeof dir)
                        return rwerr_set(err, RW_ERR_RANGE, "%s: directory name too long", path);
                memcpy(dir, path, (size_t)(slash - path));
                dir[slash - path] = '\0';
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "%s: cannot open the directory to sync it: %s",
                                 dir, strerror(errno));
        if (fsync(fd) != 0)
                rc = rwerr_set(err, RW_ERR_IO, "%s: fsync of the directory failed: %s", dir,
                               strerror(errno));
        (void)close(fd);
        return rc;
}

/* Creates `path` (O_EXCL) with exactly `mode` and the line `header b64\n`, fsync'd. */
static int write_key_file(const char *path, mode_t mode, const char *header, const char *b64,
                          char *line, size_t cap, struct rwerr *err)
{
        size_t hl = strlen(header), bl = strlen(b64);
        int fd, rc = RW_OK;

        if (hl + 1 + bl + 1 > cap)
                return rwerr_set(err, RW_ERR_RANGE, "%s: key line too long", path);
        memcpy(line, header, hl);
        line[hl] = ' ';
        memcpy(line + hl + 1, b64, bl);
        line[hl + 1 + bl] = '\n';

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
                if (errno == EEXIST)
                        return rwerr_set(err, RW_ERR_REFUSED,
                                         "%s already exists; refusing to overwrite a key file "
                                         "(move it away or choose another --out)",
                                         path);
                return rwerr_set(err, RW_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        }
        /* The umask may have taken bits away; set exactly the mode wanted. */
        if (fchmod(fd, mode) != 0)
                rc = rwerr_set(err, RW_ERR_IO, "%s: cannot set mode %04o: %s", path, (unsigned)mode,
                               strerror(errno));
        else if (write_all_sync(fd, line, hl + bl + 2) != 0)
                rc = rwerr_set(err, RW_ERR_IO, "%s: write or fsync failed: %s", path,
                               strerror(errno));
        if (close(fd) != 0 && rc == RW_OK)
                rc = rwerr_set(err, RW_ERR_IO, "%s: close failed: %s", path, strerror(errno));
        sodium_memzero(line, cap);
        if (rc != RW_OK)
                (void)unlink(path);
        return rc;
}

/* The secret-side buffers of generate, in one sodium_malloc'd block. */
struct gen_secret {
        unsigned char sk[SIGNING_KEY_SECRET_BYTES];
        char b64[sodium_base64_ENCODED_LEN(SIGNING_KEY_SECRET_BYTES, B64_VARIANT)];
        char line[KEY_FILE_MAX];
};

int signing_key_generate(const char *path, struct rwerr *err)
{
        unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];
        char pub_b64[PUBLIC_B64_SIZE], pub_line[KEY_FILE_MAX], pub_path[4096];
        struct gen_secret *s = NULL;
        struct stat st;
        int rc;

        if ((rc = init_sodium(err)) != RW_OK)
                return rc;
        if (path == NULL || path[0] == '\0')
                return rwerr_set(err, RW_ERR_INVALID, "no key file name given");
        if ((size_t)snprintf(pub_path, sizeof pub_path, "%s.pub", path) >= sizeof pub_path)
                return rwerr_set(err, RW_ERR_RANGE, "%s: file name too long", path);
        /* Refuse before writing anything when either file is there already. */
        if (lstat(path, &st) == 0 || lstat(pub_path, &st) == 0)
                return rwerr_set(err, RW_ERR_REFUSED,
                                 "%s already exists; refusing to overwrite a key file "
                                 "(move it away or choose another --out)",
                                 lstat(path, &st) == 0 ? path : pub_path);

        s = sodium_malloc(sizeof *s);
        if (s == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "cannot allocate locked memory for a key");
        if (crypto_sign_keypair(pk, s->sk) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "libsodium failed to generate a key pair");
                goto cleanup;
        }
        (void)sodium_bin2base64(s->b64, sizeof s->b64, s->sk, sizeof s->sk, B64_VARIANT);
        (void)sodium_bin2base64(pub_b64, sizeof pub_b64, pk, sizeof pk, B64_VARIANT);

        rc = write_key_file(path, 0600, SIGNING_KEY_SECRET_HEADER, s->b64, s->line, sizeof s->line,
                            err);
        if (rc != RW_OK)
                goto cleanup;
        rc = write_key_file(pub_path, 0644, SIGNING_KEY_PUBLIC_HEADER, pub_b64, pub_line,
                            sizeof pub_line, err);
        if (rc == RW_OK)
                rc = sync_parent_dir(path, err);
        if (rc != RW_OK) {
                (void)unlink(path);
                (void)unlink(pub_path);
        }
cleanup:
        sodium_free(s);
        return rc;
}

/*
 * Reads the key file at `path` into buf (cap bytes, NUL-terminated). With
 * `secret`, refuses any access for group or others.
 */
static int read_key_file(const char *path, int secret, char *buf, size_t cap, size_t *len,
                         struct rwerr *err)
{
        struct stat st;
        size_t got = 0;
        int fd, rc = RW_OK;

        *len = 0;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rwerr_set(err, RW_ERR_IO, "%s: cannot open the %s key file: %s", path,
                                 secret ? "secret" : "public", strerror(errno));
        if (fstat(fd, &st) != 0) {
                rc = rwerr_set(err, RW_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
                goto cleanup;
        }
        if (!S_ISREG(st.st_mode)) {
                rc = rwerr_set(err, RW_ERR_INVALID, "%s: not a regular file", path);
                goto cleanup;
        }
        if (secret && (st.st_mode & 077) != 0) {
                rc = rwerr_set(err, RW_ERR_REFUSED,
                               "%s: mode %04o lets group or others access the secret key; "
                               "run 'chmod 600 %s' (and consider the key exposed if others "
                               "could read it)",
                               path, (unsigned)(st.st_mode & 07777), path);
                goto cleanup;
        }
        for (;;) {
                ssize_t n = read(fd, buf + got, cap - 1 - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = rwerr_set(err, RW_ERR_IO, "%s: read failed: %s", path,
                                       strerror(errno));
                        goto cleanup;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
                if (got == cap - 1) {
                        rc = rwerr_set(err, RW_ERR_INVALID,
                                       "%s: more than %zu bytes; a key file is one short line",
                                       path, cap - 2);
                        goto cleanup;
                }
        }
        buf[got] = '\0';
        *len = got;
cleanup:
        (void)close(fd);
        return rc;
}

/*
 * Parses "HEADER <base64>" with at most one trailing newline into bin
 * (exactly binlen bytes).
 */
static int parse_key_line(const char *path, const char *buf, size_t len, const char *header,
                          const char *what, unsigned char *bin, size_t binlen, struct rwerr *err)
{
        size_t hl = strlen(header), blen = 0;
        const char *b64;
        const char *other = strcmp(header, SIGNING_KEY_SECRET_HEADER) == 0
                                    ? SIGNING_KEY_PUBLIC_HEADER
                                    : SIGNING_KEY_SECRET_HEADER;

        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len > 0 && buf[len - 1] == '\r')
                len--;
        if (len < hl + 1 || memcmp(buf, header, hl) != 0 || buf[hl] != ' ') {
                if (len >= strlen(other) && memcmp(buf, other, strlen(other)) == 0)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "%s: this is a %s key file, expected a %s key file", path,
                                         strcmp(what, "secret") == 0 ? "public" : "secret", what);
                return rwerr_set(err, RW_ERR_INVALID,
                                 "%s: not a relaywatch %s key file (the line must start with "
                                 "'%s ')",
                                 path, what, header);
        }
        b64 = buf + hl + 1;
        if (memchr(b64, '\0', len - hl - 1) != NULL)
                return rwerr_set(err, RW_ERR_INVALID, "%s: the %s key is not valid base64", path,
                                 what);
        if (b64_decode(b64, len - hl - 1, bin, binlen, &blen) != 0) {
                /* Too long for bin also ends here: tell the two apart by the text length. */
                if (len - hl - 1 > sodium_base64_ENCODED_LEN(binlen, B64_VARIANT) - 1)
                        return rwerr_set(err, RW_ERR_INVALID,
                                         "%s: the %s key is too long (expected %zu bytes)", path,
                                         what, binlen);
                return rwerr_set(err, RW_ERR_INVALID, "%s: the %s key is not valid base64", path,
                                 what);
        }
        if (blen != binlen)
                return rwerr_set(err, RW_ERR_INVALID, "%s: the %s key is %zu bytes, expected %zu",
                                 path, what, blen, binlen);
        return RW_OK;
}

/* The secret-side buffers of load, in one sodium_malloc'd block. */
struct load_secret {
        char text[KEY_FILE_MAX];
        unsigned char seed[crypto_sign_SEEDBYTES];
        unsigned char sk2[SIGNING_KEY_SECRET_BYTES];
};

int signing_key_load(const char *path, struct signing_key **out, struct rwerr *err)
{
        unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];
        struct signing_key *key = NULL;
        struct load_secret *s = NULL;
        size_t len = 0;
        int rc;

        *out = NULL;
        if ((rc = init_sodium(err)) != RW_OK)
                return rc;
        key = sodium_malloc(sizeof *key);
        s = sodium_malloc(sizeof *s);
        if (key == NULL || s == NULL) {
                rc = rwerr_set(err, RW_ERR_NOMEM, "cannot allocate locked memory for a key");
                goto cleanup;
        }
        rc = read_key_file(path, 1, s->text, sizeof s->text, &len, err);
        if (rc != RW_OK)
                goto cleanup;
        rc = parse_key_line(path, s->text, len, SIGNING_KEY_SECRET_HEADER, "secret", key->sk,
                            sizeof key->sk, err);
        if (rc != RW_OK)
                goto cleanup;
        /* The second half must be the public key that the seed derives. */
        (void)crypto_sign_ed25519_sk_to_seed(s->seed, key->sk);
        if (crypto_sign_seed_keypair(pk, s->sk2, s->seed) != 0 ||
            sodium_memcmp(pk, key->sk + crypto_sign_SEEDBYTES, sizeof pk) != 0) {
                rc = rwerr_set(err, RW_ERR_INVALID,
                               "%s: the public half of the secret key does not match its seed "
                               "(the file is damaged or was edited)",
                               path);
                goto cleanup;
        }
        verify_key_from_bytes(pk, &key->pub);
        *out = key;
        key = NULL;
cleanup:
        sodium_free(s); /* sodium_free wipes before it releases */
        sodium_free(key);
        return rc;
}

void signing_key_free(struct signing_key *key)
{
        sodium_free(key);
}

int verify_key_load(const char *path, struct verify_key *out, struct rwerr *err)
{
        unsigned char pk[SIGNING_KEY_PUBLIC_BYTES];
        char text[KEY_FILE_MAX];
        size_t len = 0;
        int rc;

        if ((rc = init_sodium(err)) != RW_OK)
                return rc;
        rc = read_key_file(path, 0, text, sizeof text, &len, err);
        if (rc != RW_OK)
                return rc;
        rc = parse_key_line(path, text, len, SIGNING_KEY_PUBLIC_HEADER, "public", pk, sizeof pk,
                            err);
        if (rc != RW_OK)
                return rc;
        verify_key_from_bytes(pk, out);
        return RW_OK;
}

/* Base64 of at most 96 bytes: a signature of the wrong length is named as such. */
#define SIG_TEXT_MAX 128

int verify_key_find(const struct verify_key *keys, size_t nkeys, const char *msg, size_t len,
                    const char *sig_b64, struct rwerr *err)
{
        unsigned char sig[crypto_sign_BYTES + 32];
        size_t slen, blen = 0, i;
        int rc;

        if ((rc = init_sodium(err)) != RW_OK)
                return rc;
        if (nkeys == 0)
                return rwerr_set(err, RW_ERR_INVALID, "no public key configured to verify with");
        if (sig_b64 == NULL)
                return rwerr_set(err, RW_ERR_INVALID, "sig: missing");
        slen = strnlen(sig_b64, SIG_TEXT_MAX + 1);
        if (slen > SIG_TEXT_MAX)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "sig: more than %d characters, expected %zu (64 bytes in base64)",
                                 SIG_TEXT_MAX,
                                 (size_t)sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64_VARIANT) -
                                         1);
        if (b64_decode(sig_b64, slen, sig, sizeof sig, &blen) != 0)
                return rwerr_set(err, RW_ERR_INVALID,
                                 "sig: not valid base64 (original alphabet, padded)");
        if (blen != crypto_sign_BYTES)
                return rwerr_set(err, RW_ERR_INVALID, "sig: %zu bytes, expected %d", blen,
                                 crypto_sign_BYTES);
        for (i = 0; i < nkeys; i++) {
                if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, len, keys[i].pk) ==
                    0)
                        return (int)i;
        }
        return rwerr_set(err, RW_ERR_REFUSED,
                         "signature does not verify with any of the %zu configured key%s", nkeys,
                         nkeys == 1 ? "" : "s");
}
