/*
 * audit_gen: writes an audit log with the real writer (audit_log.h) on a
 * simulated clock, for the tests and benchmarks of the audit log.
 *
 *   audit_gen DIR [--records N] [--start-ms T] [--step-ms S]
 *             [--checkpoint-every C] [--epoch-s E] [--rotate-bytes B]
 *             [--fsync-batch-ms F] [--durable]
 *       opens (or creates) the log in DIR/audit, appends N records of kind
 *       "test_event" at T, T+S, ... (wall ms; default T = now, S = 1000),
 *       a checkpoint every C records (default 10), the key evolving every
 *       E simulated seconds (default 0: never), then a last checkpoint;
 *       prints the genesis verifier key (vkey) and copies the genesis
 *       public key to DIR/audit.key.pub.
 *
 *   audit_gen forge DIR KEYFILE
 *       appends to the newest file of DIR/audit a checkpoint record over
 *       the whole log signed with the audit key in KEYFILE (a copy of
 *       audit.key taken earlier: a stolen, expired key).
 *
 *   audit_gen publish DIR
 *       prints what a watchdog publishes for its witnesses (docs/AUDIT.md,
 *       "Witnesses") about the log in DIR/audit, as one JSON object:
 *       {"size": the last checkpoint's size, "checkpoint": its signed note,
 *       "keys": [the content of every key_epoch record, in order]}.
 *
 * Exit 0, or 1 with the reason on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit_key.h"
#include "audit_log.h"
#include "audit_note.h"
#include "audit_record.h"
#include "audit_tree.h"
#include "fileio.h"

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *what, const struct rwerr *err)
{
        fprintf(stderr, "audit_gen: %s: %s\n", what, err != NULL ? err->msg : "");
        return 1;
}

static int generate(int argc, char **argv)
{
        const char *dir = argv[1];
        uint64_t records = 100, every = 10, epoch_s = 0, rotate = 0, batch = 1000, i;
        int64_t t = now_ms(), step = 1000;
        int durable = 0, a;
        char logdir[4096], vkey[512], *pub = NULL;
        size_t publen;
        struct audit_log_options o;
        struct audit_log *l;
        struct verify_key k;
        struct rwerr err;

        for (a = 2; a < argc; a++) {
                const char *v = a + 1 < argc ? argv[a + 1] : "0";

                if (strcmp(argv[a], "--durable") == 0) {
                        durable = 1;
                        continue;
                }
                if (strcmp(argv[a], "--records") == 0)
                        records = strtoull(v, NULL, 10);
                else if (strcmp(argv[a], "--start-ms") == 0)
                        t = strtoll(v, NULL, 10);
                else if (strcmp(argv[a], "--step-ms") == 0)
                        step = strtoll(v, NULL, 10);
                else if (strcmp(argv[a], "--checkpoint-every") == 0)
                        every = strtoull(v, NULL, 10);
                else if (strcmp(argv[a], "--epoch-s") == 0)
                        epoch_s = strtoull(v, NULL, 10);
                else if (strcmp(argv[a], "--rotate-bytes") == 0)
                        rotate = strtoull(v, NULL, 10);
                else if (strcmp(argv[a], "--fsync-batch-ms") == 0)
                        batch = strtoull(v, NULL, 10);
                else {
                        fprintf(stderr, "audit_gen: unknown option %s\n", argv[a]);
                        return 1;
                }
                a++;
        }
        snprintf(logdir, sizeof logdir, "%s/audit", dir);
        memset(&o, 0, sizeof o);
        o.dir = logdir;
        o.origin = "relaywatch/audit-gen";
        o.rotate_bytes = rotate;
        o.fsync_batch_ms = batch;
        o.key_epoch_s = epoch_s;
        if ((l = audit_log_open(&o, t, &err)) == NULL)
                return fail(logdir, &err);
        for (i = 0; i < records; i++, t += step) {
                cJSON *c = cJSON_CreateObject();
                char cid[32];
                int rc;

                cJSON_AddNumberToObject(c, "n", (double)i);
                cJSON_AddStringToObject(c, "what", "a simulated event \"quoted\" with unicode é");
                snprintf(cid, sizeof cid, "gen-%" PRIu64, i);
                rc = audit_log_append(l, "test_event", cid, c, durable, t, NULL, &err);
                cJSON_Delete(c);
                if (rc != RW_OK || audit_log_tick(l, t, UINT64_MAX, NULL, &err) != RW_OK) {
                        audit_log_close(l);
                        return fail("append", &err);
                }
                if (every > 0 && (i + 1) % every == 0 &&
                    audit_log_checkpoint(l, "gen-checkpoint", t, NULL, &err) != RW_OK) {
                        audit_log_close(l);
                        return fail("checkpoint", &err);
                }
        }
        if (audit_log_checkpoint(l, "gen-checkpoint", t, NULL, &err) != RW_OK) {
                audit_log_close(l);
                return fail("checkpoint", &err);
        }
        audit_log_close(l);
        snprintf(logdir, sizeof logdir, "%s/audit/%s", dir, AUDIT_KEY_PUB_FILE);
        if (verify_key_load(logdir, &k, &err) != RW_OK ||
            fileio_read(logdir, 4096, &pub, &publen, &err) != RW_OK)
                return fail("genesis key", &err);
        if (fileio_replace(dir, AUDIT_KEY_PUB_FILE, pub, publen, 0644, 1, &err) != RW_OK) {
                free(pub);
                return fail("copying the genesis key", &err);
        }
        free(pub);
        if (audit_note_vkey(o.origin, k.pk, vkey, sizeof vkey, &err) != RW_OK)
                return fail("vkey", &err);
        printf("%s\n", vkey);
        return 0;
}

/* Appends a checkpoint signed with a stolen key file to the log in DIR/audit. */
static int forge(const char *dir, const char *keyfile)
{
        char logdir[4096], path[4300], *text = NULL, *note = NULL, *line = NULL, *buf = NULL;
        char **files = NULL, keydir[4096], *slash;
        size_t nfiles = 0, len, i;
        struct audit_key *stolen = NULL, *next = NULL;
        struct audit_tree tree;
        struct audit_checkpoint cp;
        struct rwerr err;
        FILE *f;
        int rc = 1;

        snprintf(logdir, sizeof logdir, "%s/audit", dir);
        snprintf(keydir, sizeof keydir, "%s", keyfile);
        if ((slash = strrchr(keydir, '/')) == NULL)
                return fail("forge", NULL);
        *slash = '\0';
        /* the stolen copy is named audit.key in a directory of its own */
        if (audit_key_open(keydir, 0, 0, &stolen, &next, &err) != RW_OK)
                return fail(keyfile, &err);
        audit_key_free(next);
        if (audit_log_files(logdir, &files, &nfiles, &err) != RW_OK || nfiles == 0)
                goto done;
        audit_tree_init(&tree);
        for (i = 0; i < nfiles; i++) {
                size_t cap = 0;
                ssize_t got;

                snprintf(path, sizeof path, "%s/%s", logdir, files[i]);
                if ((f = fopen(path, "rb")) == NULL)
                        goto done;
                while ((got = getline(&buf, &cap, f)) > 0) {
                        unsigned char leaf[32];

                        audit_tree_leaf_hash(buf, (size_t)got - 1, leaf);
                        (void)audit_tree_append(&tree, leaf);
                }
                fclose(f);
        }
        memset(&cp, 0, sizeof cp);
        snprintf(cp.origin, sizeof cp.origin, "relaywatch/audit-gen");
        cp.size = tree.size;
        audit_tree_root(&tree, cp.root);
        if (audit_checkpoint_format(&cp, &text, &err) != RW_OK ||
            audit_note_sign(text, cp.origin, stolen->key->sk, &note, &err) != RW_OK)
                goto done;
        {
                cJSON *c = cJSON_CreateObject();
                char root[48];

                (void)sodium_bin2base64(root, sizeof root, cp.root, 32,
                                        sodium_base64_VARIANT_ORIGINAL);
                cJSON_AddNumberToObject(c, "size", (double)cp.size);
                cJSON_AddStringToObject(c, "root", root);
                cJSON_AddNumberToObject(c, "epoch", (double)stolen->epoch);
                cJSON_AddStringToObject(c, "key_id", stolen->key->pub.key_id);
                cJSON_AddStringToObject(c, "note", note);
                rc = audit_record_format(tree.size, now_ms(), AUDIT_KIND_CHECKPOINT, "forged", c,
                                         &line, &len, &err);
                cJSON_Delete(c);
                if (rc != RW_OK) {
                        rc = 1;
                        goto done;
                }
        }
        snprintf(path, sizeof path, "%s/%s", logdir, files[nfiles - 1]);
        if ((f = fopen(path, "ab")) == NULL)
                goto done;
        fprintf(f, "%s\n", line);
        fclose(f);
        rc = 0;
done:
        if (rc != 0)
                fail("forge", &err);
        audit_log_files_free(files, nfiles);
        audit_key_free(stolen);
        free(buf);
        free(text);
        free(note);
        free(line);
        return rc;
}

/* Prints {"size", "checkpoint", "keys"} of the log in DIR/audit (see the top). */
static int publish(const char *dir)
{
        char logdir[4096], path[4400], **files = NULL, *line = NULL, *text = NULL;
        size_t nfiles = 0, cap = 0, i;
        cJSON *out = cJSON_CreateObject(), *keys = cJSON_CreateArray(), *last = NULL;
        struct rwerr err = {"out of memory"};
        int rc = 1;

        snprintf(logdir, sizeof logdir, "%s/audit", dir);
        if (out == NULL || keys == NULL || audit_log_files(logdir, &files, &nfiles, &err) != RW_OK)
                goto done;
        for (i = 0; i < nfiles; i++) {
                FILE *f;
                ssize_t got;

                snprintf(path, sizeof path, "%s/%s", logdir, files[i]);
                if ((f = fopen(path, "rb")) == NULL) {
                        rwerr_set(&err, RW_ERR_IO, "%s: cannot open", path);
                        goto done;
                }
                while ((got = getline(&line, &cap, f)) > 0 && line[got - 1] == '\n') {
                        struct audit_record rec;

                        if (audit_record_parse(line, (size_t)got - 1, &rec, &err) != RW_OK) {
                                fclose(f);
                                goto done;
                        }
                        if (strcmp(rec.kind, AUDIT_KIND_KEY_EPOCH) == 0)
                                cJSON_AddItemToArray(keys, cJSON_Duplicate(rec.content, 1));
                        if (strcmp(rec.kind, AUDIT_KIND_CHECKPOINT) == 0) {
                                cJSON_Delete(last);
                                last = cJSON_Duplicate(rec.content, 1);
                        }
                        audit_record_release(&rec);
                }
                fclose(f);
        }
        if (last == NULL) {
                rwerr_set(&err, RW_ERR_INVALID, "%s: no checkpoint record", logdir);
                goto done;
        }
        cJSON_AddItemToObject(out, "size", cJSON_Duplicate(cJSON_GetObjectItem(last, "size"), 1));
        cJSON_AddItemToObject(out, "checkpoint",
                              cJSON_Duplicate(cJSON_GetObjectItem(last, "note"), 1));
        cJSON_AddItemToObject(out, "keys", keys);
        keys = NULL;
        if ((text = cJSON_PrintUnformatted(out)) == NULL)
                goto done;
        printf("%s\n", text);
        rc = 0;
done:
        if (rc != 0)
                fail("publish", &err);
        free(text);
        free(line);
        cJSON_Delete(last);
        cJSON_Delete(keys);
        cJSON_Delete(out);
        audit_log_files_free(files, nfiles);
        return rc;
}

int main(int argc, char **argv)
{
        if (sodium_init() < 0)
                return 1;
        if (argc >= 4 && strcmp(argv[1], "forge") == 0)
                return forge(argv[2], argv[3]);
        if (argc == 3 && strcmp(argv[1], "publish") == 0)
                return publish(argv[2]);
        if (argc < 2 || argv[1][0] == '-') {
                fprintf(stderr, "usage: audit_gen DIR [--records N] [--start-ms T] [--step-ms S] "
                                "[--checkpoint-every C] [--epoch-s E] [--rotate-bytes B] "
                                "[--fsync-batch-ms F] [--durable]\n"
                                "       audit_gen forge DIR KEYFILE\n"
                                "       audit_gen publish DIR\n");
                return 1;
        }
        return generate(argc, argv);
}
