#include "pages.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "evidence.h"

/* How bad a status is: violated above could-not-evaluate above ok. */
static int rank(enum verdict_status st)
{
        switch (st) {
        case VERDICT_OK:
                return 0;
        case VERDICT_UNKNOWN:
                return 1;
        case VERDICT_VIOLATED:
                return 2;
        }
        return 1;
}

/* Adds every subject `from` names to `to`. */
static void add_subjects(struct verdict *to, const struct verdict *from)
{
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(from->evidence, "subjects");
        const cJSON *item;

        cJSON_ArrayForEach(item, arr)
        {
                const char *subject = cJSON_GetStringValue(item);

                if (subject != NULL)
                        verdict_add_subject(to, "%s", subject);
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(from->evidence, "subjects_truncated"))) {
                cJSON *ev = verdict_evidence(to);

                if (ev != NULL &&
                    cJSON_GetObjectItemCaseSensitive(ev, "subjects_truncated") == NULL)
                        cJSON_AddTrueToObject(ev, "subjects_truncated");
        }
}

/* The page's value is worse than the pages' before. */
static int worse_value(const struct invariant *inv, const struct verdict *acc,
                       const struct verdict *page)
{
        if (!page->has_value)
                return 0;
        if (!acc->has_value)
                return 1;
        return (inv->worse_value > 0 && page->value > acc->value) ||
               (inv->worse_value < 0 && page->value < acc->value);
}

void pages_merge(const struct invariant *inv, struct verdict *acc, struct verdict *page)
{
        int disagreement, confirm;
        uint64_t eval_us;

        if (page->invariant == NULL)
                return;
        disagreement = acc->disagreement || page->disagreement;
        confirm = acc->needs_confirmation || page->needs_confirmation;
        eval_us = acc->eval_us + page->eval_us;
        if (rank(page->status) > rank(acc->status) ||
            (page->status == VERDICT_OK && acc->status == VERDICT_OK &&
             worse_value(inv, acc, page))) {
                verdict_release(acc);
                *acc = *page;
                memset(page, 0, sizeof *page);
        } else if (page->status == VERDICT_VIOLATED && acc->status == VERDICT_VIOLATED) {
                add_subjects(acc, page);
        }
        verdict_release(page);
        acc->disagreement = disagreement;
        acc->needs_confirmation = confirm;
        acc->eval_us = eval_us;
}

void pages_note_totals(struct verdict *out, const struct page_totals *t)
{
        char summary[INVARIANT_SUMMARY_MAX];
        cJSON *ev, *o;
        size_t i;

        if (t->pages < 2)
                return;
        for (i = 0; i < invariant_count; i++) {
                if (!invariant_table[i]->reads_history || out[i].invariant == NULL)
                        continue;
                memcpy(summary, out[i].summary, sizeof summary);
                verdict_set(
                        &out[i], out[i].status,
                        "%zu pages (%zu batches, %zu withdrawals, %zu anchors in all), worst: %s",
                        t->pages, t->batches, t->withdrawals, t->anchors, summary);
                ev = verdict_evidence(&out[i]);
                o = ev != NULL ? cJSON_AddObjectToObject(ev, "pages") : NULL;
                if (o == NULL)
                        continue;
                evidence_u64(o, "pages", t->pages);
                evidence_u64(o, "batches", t->batches);
                evidence_u64(o, "withdrawals", t->withdrawals);
                evidence_u64(o, "anchors", t->anchors);
        }
}
