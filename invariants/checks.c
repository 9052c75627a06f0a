#include "checks.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "evidence.h"
#include "merkle.h"

void checks_rests_on(struct verdict *out, const char *name)
{
        cJSON *ev = verdict_evidence(out), *arr, *item;

        if (ev == NULL)
                return;
        arr = cJSON_GetObjectItemCaseSensitive(ev, CHECKS_RESTS_ON);
        if (arr == NULL)
                arr = cJSON_AddArrayToObject(ev, CHECKS_RESTS_ON);
        if (!cJSON_IsArray(arr))
                return;
        cJSON_ArrayForEach(item, arr)
        {
                const char *have = cJSON_GetStringValue(item);

                if (have != NULL && strcmp(have, name) == 0)
                        return;
        }
        cJSON_AddItemToArray(arr, cJSON_CreateString(name));
}

void checks_u64_word(uint64_t v, uint8_t out[32])
{
        size_t i;

        memset(out, 0, 32);
        for (i = 0; i < 8; i++)
                out[31 - i] = (uint8_t)(v >> (8 * i));
}

static int is_zero(const uint8_t *b, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (b[i] != 0)
                        return 0;
        return 1;
}

int checks_withdrawal_proof(const struct snapshot *s, const struct snap_view *src,
                            const struct snap_withdrawal *w, int *chain_root, char *why, size_t cap)
{
        uint8_t id[32], amount[32], leaf[32];
        char root_text[EVIDENCE_HASH_TEXT];
        const uint8_t *root;
        long bi;

        *chain_root = 0;
        bi = snapshot_batch_index(s, w->batch_number);
        if (bi < 0) {
                evidence_format(
                        why, cap,
                        "withdrawal %llu: its batch %llu is not among the ledger batches read",
                        (unsigned long long)w->withdrawal_id, (unsigned long long)w->batch_number);
                return -1;
        }
        root = s->ledger.batches[bi].merkle_root;
        if (src != NULL && src->anchored_roots != NULL && !is_zero(src->anchored_roots[bi], 32)) {
                root = src->anchored_roots[bi];
                *chain_root = 1;
        }
        evidence_hex_text(root, 32, root_text, sizeof root_text);
        if (w->proof_len > SNAP_PROOF_MAX) {
                evidence_format(
                        why, cap,
                        "withdrawal %llu (batch %llu): proof of %zu hashes is longer than any "
                        "tree allows (%d)",
                        (unsigned long long)w->withdrawal_id, (unsigned long long)w->batch_number,
                        w->proof_len, SNAP_PROOF_MAX);
                return 0;
        }
        checks_u64_word(w->withdrawal_id, id);
        u256_to_be32(&w->amount, amount);
        merkle_withdrawal_leaf(id, w->token, w->recipient, amount, leaf);
        if (!merkle_verify(leaf, w->proof_len > 0 ? w->proof : NULL, w->proof_len, root)) {
                evidence_format(why, cap,
                                "withdrawal %llu (batch %llu): proof of %zu hashes does not verify "
                                "against the %s root %s",
                                (unsigned long long)w->withdrawal_id,
                                (unsigned long long)w->batch_number, w->proof_len,
                                *chain_root ? "anchored" : "ledger", root_text);
                return 0;
        }
        if (cap > 0)
                why[0] = '\0';
        return 1;
}
