#include "control_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An accepted id and the entry it came from. */
struct seen {
        char id[CONTROL_ID_SIZE];
        char entry_id[CONTROL_ENTRY_ID_SIZE];
};

struct control_state {
        struct verify_key *wkeys, *okeys;
        struct control_keys keys;

        struct control_in_force *in_force;
        size_t nin_force, capin_force;

        struct seen *seen; /* ids accepted from stream entries, sorted by id */
        size_t nseen, capseen;
};

void control_keys_from_keyring(struct control_keys *k, const struct keyring *ring)
{
        k->watchdog_keys = ring->watchdog;
        k->nwatchdog = ring->nwatchdog;
        k->operator_keys = ring->operator;
        k->noperator = ring->noperator;
}

struct control_state *control_state_new(const struct control_keys *keys)
{
        struct control_state *st = calloc(1, sizeof *st);

        if (st == NULL)
                return NULL;
        st->wkeys = calloc(keys->nwatchdog + 1, sizeof *st->wkeys);
        st->okeys = calloc(keys->noperator + 1, sizeof *st->okeys);
        if (st->wkeys == NULL || st->okeys == NULL) {
                control_state_free(st);
                return NULL;
        }
        if (keys->nwatchdog > 0)
                memcpy(st->wkeys, keys->watchdog_keys, keys->nwatchdog * sizeof *st->wkeys);
        if (keys->noperator > 0)
                memcpy(st->okeys, keys->operator_keys, keys->noperator * sizeof *st->okeys);
        st->keys.watchdog_keys = st->wkeys;
        st->keys.nwatchdog = keys->nwatchdog;
        st->keys.operator_keys = st->okeys;
        st->keys.noperator = keys->noperator;
        return st;
}

void control_state_reset(struct control_state *st)
{
        size_t i;

        for (i = 0; i < st->nin_force; i++)
                free(st->in_force[i].msg);
        st->nin_force = 0;
        st->nseen = 0;
}

void control_state_free(struct control_state *st)
{
        if (st == NULL)
                return;
        control_state_reset(st);
        free(st->in_force);
        free(st->seen);
        free(st->wkeys);
        free(st->okeys);
        free(st);
}

int control_state_halted(const struct control_state *st)
{
        return st->nin_force > 0;
}

size_t control_state_in_force(const struct control_state *st, const struct control_in_force **list)
{
        *list = st->in_force;
        return st->nin_force;
}

/* ------------------------------------------------------------ the two sets */

/* Index of id in the sorted seen list, or where it would go (*found 0). */
static size_t seen_find(const struct control_state *st, const char *id, int *found)
{
        size_t lo = 0, hi = st->nseen;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(st->seen[mid].id, id);

                if (c == 0) {
                        *found = 1;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = 0;
        return lo;
}

/* Makes room for one more of each set, so applying an entry cannot fail half-way. */
static int reserve(struct control_state *st)
{
        if (st->nseen == st->capseen) {
                size_t cap = st->capseen ? 2 * st->capseen : 16;
                struct seen *grown = realloc(st->seen, cap * sizeof *grown);

                if (grown == NULL)
                        return -1;
                st->seen = grown;
                st->capseen = cap;
        }
        if (st->nin_force == st->capin_force) {
                size_t cap = st->capin_force ? 2 * st->capin_force : 8;
                struct control_in_force *grown = realloc(st->in_force, cap * sizeof *grown);

                if (grown == NULL)
                        return -1;
                st->in_force = grown;
                st->capin_force = cap;
        }
        return 0;
}

static void seen_add(struct control_state *st, size_t at, const char *id, const char *entry_id)
{
        memmove(&st->seen[at + 1], &st->seen[at], (st->nseen - at) * sizeof st->seen[0]);
        (void)snprintf(st->seen[at].id, sizeof st->seen[at].id, "%s", id);
        (void)snprintf(st->seen[at].entry_id, sizeof st->seen[at].entry_id, "%s", entry_id);
        st->nseen++;
}

static struct control_in_force *in_force_find(struct control_state *st, const char *halt_id)
{
        size_t i;

        for (i = 0; i < st->nin_force; i++) {
                if (strcmp(st->in_force[i].halt_id, halt_id) == 0)
                        return &st->in_force[i];
        }
        return NULL;
}

/* Puts a verified HALT in force (room was reserved; the msg copy may fail). */
static int in_force_add(struct control_state *st, const struct control_msg *m,
                        const struct control_outcome *out, const char *entry_id, const char *msg,
                        size_t len)
{
        struct control_in_force *f = &st->in_force[st->nin_force];
        char *copy = malloc(len + 1);

        if (copy == NULL)
                return -1;
        memcpy(copy, msg, len);
        copy[len] = '\0';
        memset(f, 0, sizeof *f);
        (void)snprintf(f->halt_id, sizeof f->halt_id, "%s", m->id);
        (void)snprintf(f->entry_id, sizeof f->entry_id, "%s", entry_id);
        (void)snprintf(f->key_id, sizeof f->key_id, "%s", out->key_id);
        f->role = out->role;
        f->msg = copy;
        f->msg_len = len;
        st->nin_force++;
        return 0;
}

static size_t lift(struct control_state *st, const struct control_msg *m)
{
        size_t i, j, n = 0;

        for (i = 0; i < m->nlifts; i++) {
                for (j = 0; j < st->nin_force; j++) {
                        if (strcmp(st->in_force[j].halt_id, m->lifts[i]) == 0) {
                                free(st->in_force[j].msg);
                                memmove(&st->in_force[j], &st->in_force[j + 1],
                                        (st->nin_force - j - 1) * sizeof st->in_force[0]);
                                st->nin_force--;
                                n++;
                                break;
                        }
                }
        }
        return n;
}

static size_t lifts_in_force(struct control_state *st, const struct control_msg *m)
{
        size_t i, n = 0;

        for (i = 0; i < m->nlifts; i++)
                n += in_force_find(st, m->lifts[i]) != NULL;
        return n;
}

/* ------------------------------------------------------------ judging */

static enum control_reject reject(struct control_outcome *out, enum control_reject r,
                                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum control_reject reject(struct control_outcome *out, enum control_reject r,
                                  const char *fmt, ...)
{
        va_list ap;

        out->reject = r;
        va_start(ap, fmt);
        (void)vsnprintf(out->detail, sizeof out->detail, fmt, ap);
        va_end(ap);
        return r;
}

static int is_field(const struct control_field *f, const char *name)
{
        return f->name_len == strlen(name) && memcmp(f->name, name, f->name_len) == 0;
}

/* Step 1, then steps 2-11; on acceptance *m holds the parsed msg. */
static enum control_reject judge_fields(const struct control_state *st,
                                        const struct control_field *fields, size_t n,
                                        struct control_msg *m, struct control_outcome *out,
                                        const struct control_field **msg_out)
{
        const struct control_field *msg = NULL, *sig = NULL;
        struct control_judgement j;
        size_t i, nmsg = 0, nsig = 0;

        for (i = 0; i < n; i++) {
                if (is_field(&fields[i], "msg")) {
                        msg = &fields[i];
                        nmsg++;
                } else if (is_field(&fields[i], "sig")) {
                        sig = &fields[i];
                        nsig++;
                }
        }
        if (nmsg != 1 || nsig != 1 || n != 2)
                return reject(out, CONTROL_BAD_ENTRY,
                              "the entry has %zu field%s (%zu msg, %zu sig); it must have exactly "
                              "one msg and one sig",
                              n, n == 1 ? "" : "s", nmsg, nsig);
        *msg_out = msg;
        if (control_msg_judge(&st->keys, msg->value, msg->value_len, sig->value, sig->value_len, m,
                              &j) != CONTROL_ACCEPTED) {
                out->role = j.role;
                if (j.key != NULL)
                        (void)snprintf(out->key_id, sizeof out->key_id, "%s", j.key->key_id);
                return reject(out, j.reject, "%s", j.detail);
        }
        out->role = j.role;
        (void)snprintf(out->key_id, sizeof out->key_id, "%s", j.key->key_id);
        out->type = m->type;
        (void)snprintf(out->msg_id, sizeof out->msg_id, "%s", m->id);
        return CONTROL_ACCEPTED;
}

static void finish(struct control_msg *m, struct control_msg *keep)
{
        if (keep != NULL)
                *keep = *m;
        else
                control_msg_free(m);
}

enum control_reject control_state_entry(struct control_state *st, const char *entry_id,
                                        const struct control_field *fields, size_t n,
                                        struct control_msg *keep, struct control_outcome *out)
{
        const struct control_field *msg = NULL;
        struct control_in_force *f;
        struct control_msg m;
        size_t at;
        int found = 0;

        memset(out, 0, sizeof *out);
        memset(&m, 0, sizeof m);
        if (keep != NULL)
                memset(keep, 0, sizeof *keep);
        if (judge_fields(st, fields, n, &m, out, &msg) != CONTROL_ACCEPTED)
                return out->reject;
        if (reserve(st) != 0) {
                control_msg_free(&m);
                return reject(out, CONTROL_NO_MEMORY, "out of memory keeping the stream's state");
        }
        at = seen_find(st, m.id, &found);
        if (found && strcmp(st->seen[at].entry_id, entry_id) == 0) {
                /* the same entry read again (pending entries after a reconnect): no change */
                out->known = 1;
                finish(&m, keep);
                return CONTROL_ACCEPTED;
        }
        if (found) {
                (void)snprintf(out->first_seen, sizeof out->first_seen, "%s",
                               st->seen[at].entry_id);
                control_msg_free(&m);
                return reject(out, CONTROL_REPLAY,
                              "%s %s was accepted before, from entry %s: this is a copy",
                              control_type_name(out->type), out->msg_id, out->first_seen);
        }
        if (m.type == CONTROL_RESUME && lifts_in_force(st, &m) == 0) {
                control_msg_free(&m);
                return reject(out, CONTROL_REPLAY,
                              "RESUME %s lifts no HALT in force: an old RESUME, replayed",
                              out->msg_id);
        }
        if (m.type == CONTROL_HALT) {
                f = in_force_find(st, m.id);
                if (f != NULL) {
                        /* in force from the halt key: this is its entry */
                        out->known = 1;
                        (void)snprintf(f->entry_id, sizeof f->entry_id, "%s", entry_id);
                } else if (in_force_add(st, &m, out, entry_id, msg->value, msg->value_len) != 0) {
                        control_msg_free(&m);
                        return reject(out, CONTROL_NO_MEMORY, "out of memory keeping a HALT");
                }
        } else {
                out->nlifted = lift(st, &m);
        }
        seen_add(st, at, m.id, entry_id);
        finish(&m, keep);
        return CONTROL_ACCEPTED;
}

enum control_reject control_state_halt_key(struct control_state *st,
                                           const struct control_field *fields, size_t n,
                                           struct control_msg *keep, struct control_outcome *out)
{
        const struct control_field *msg = NULL;
        struct control_msg m;
        size_t at;
        int found = 0;

        memset(out, 0, sizeof *out);
        memset(&m, 0, sizeof m);
        if (keep != NULL)
                memset(keep, 0, sizeof *keep);
        if (judge_fields(st, fields, n, &m, out, &msg) != CONTROL_ACCEPTED)
                return out->reject;
        if (m.type != CONTROL_HALT) {
                control_msg_free(&m);
                return reject(out, CONTROL_BAD_FIELD, "the halt key holds a %s, not a HALT",
                              control_type_name(out->type));
        }
        if (reserve(st) != 0) {
                control_msg_free(&m);
                return reject(out, CONTROL_NO_MEMORY, "out of memory keeping the stream's state");
        }
        at = seen_find(st, m.id, &found);
        if (in_force_find(st, m.id) != NULL) {
                out->known = 1;
        } else if (found) {
                control_msg_free(&m);
                return reject(out, CONTROL_REPLAY,
                              "the halt key holds HALT %s, which a RESUME lifted after entry %s: "
                              "a stale or copied halt key",
                              out->msg_id, st->seen[at].entry_id);
        } else if (in_force_add(st, &m, out, "", msg->value, msg->value_len) != 0) {
                control_msg_free(&m);
                return reject(out, CONTROL_NO_MEMORY, "out of memory keeping a HALT");
        }
        finish(&m, keep);
        return CONTROL_ACCEPTED;
}
