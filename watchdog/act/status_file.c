#include "status_file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "rwclock.h"

static void add_time(cJSON *o, const char *name, int64_t unix_ms)
{
        char text[RWCLOCK_UTC_SIZE];

        (void)rwclock_format_utc(unix_ms, text, NULL);
        cJSON_AddStringToObject(o, name, text);
}

static int add_endpoints(cJSON *eps, const struct snapshot *s)
{
        size_t k;
        int role;

        for (role = 0; role < SNAP_NCHAINS; role++) {
                const struct snap_chain *ch = &s->chains[role];
                const char *name = snap_chain_role_name((enum snap_chain_role)role);

                for (k = 0; k < ch->nendpoints; k++) {
                        const struct snap_endpoint_health *h = &ch->endpoints[k];
                        cJSON *e = cJSON_CreateObject();

                        if (e == NULL || !cJSON_AddItemToArray(eps, e)) {
                                cJSON_Delete(e);
                                return -1;
                        }
                        cJSON_AddStringToObject(e, "chain", name);
                        cJSON_AddStringToObject(e, "endpoint", h->endpoint);
                        cJSON_AddStringToObject(e, "breaker", h->breaker != NULL ? h->breaker : "");
                        cJSON_AddNumberToObject(e, "exchanges", (double)h->exchanges);
                        cJSON_AddNumberToObject(e, "failures", (double)h->failures);
                        cJSON_AddBoolToObject(e, "ok", ch->ok);
                        cJSON_AddStringToObject(e, "error", ch->ok ? "" : ch->error);
                }
        }
        return 0;
}

static int add_verdicts(cJSON *verdicts, const struct cycle_result *r)
{
        size_t i;

        for (i = 0; i < r->nverdicts; i++) {
                const struct verdict *v = &r->verdicts[i];
                cJSON *o = cJSON_CreateObject();

                if (o == NULL || !cJSON_AddItemToArray(verdicts, o)) {
                        cJSON_Delete(o);
                        return -1;
                }
                cJSON_AddStringToObject(o, "invariant", v->invariant);
                cJSON_AddNumberToObject(o, "tier", (double)v->tier);
                cJSON_AddStringToObject(o, "status", verdict_status_name(v->status));
                cJSON_AddStringToObject(o, "mode", invariant_mode_name(v->mode));
                cJSON_AddStringToObject(o, "summary", v->summary);
                if (v->has_value && isfinite(v->value)) { /* Tier 3: the figure, for the report */
                        cJSON_AddNumberToObject(o, "value", v->value);
                        if (v->unit != NULL)
                                cJSON_AddStringToObject(o, "unit", v->unit);
                }
        }
        return 0;
}

static int add_cycle(cJSON *st, const struct status_file_info *info)
{
        const struct cycle_result *r = info->r;
        const struct snapshot *s = &r->snapshot;
        cJSON *cyc, *heights, *verdicts, *eps;
        int role;

        cyc = cJSON_AddObjectToObject(st, "cycle");
        if (cyc == NULL)
                return -1;
        cJSON_AddStringToObject(cyc, "correlation_id", s->correlation_id);
        add_time(cyc, "started_at", info->cycle_started_unix_ms);
        cJSON_AddNumberToObject(cyc, "duration_ms", (double)r->duration_ms);
        cJSON_AddBoolToObject(cyc, "full_sweep", info->full_sweep);
        cJSON_AddStringToObject(cyc, "tier1", verdict_status_name(r->tier1));
        if (info->failure != NULL)
                cJSON_AddStringToObject(cyc, "failed", info->failure);
        heights = cJSON_AddObjectToObject(cyc, "heights");
        verdicts = cJSON_AddArrayToObject(cyc, "verdicts");
        eps = cJSON_AddArrayToObject(st, "endpoints");
        if (heights == NULL || verdicts == NULL || eps == NULL)
                return -1;
        for (role = 0; role < SNAP_NCHAINS; role++)
                cJSON_AddNumberToObject(heights, snap_chain_role_name((enum snap_chain_role)role),
                                        (double)s->chains[role].pinned);
        if (add_verdicts(verdicts, r) != 0 || add_endpoints(eps, s) != 0)
                return -1;
        return 0;
}

cJSON *status_file_json(const struct status_file_info *info)
{
        cJSON *st = cJSON_CreateObject();
        int64_t now = rwclock_wall_ms();

        if (st == NULL)
                return NULL;
        cJSON_AddNumberToObject(st, "v", 1);
        cJSON_AddStringToObject(st, "watchdog_id", info->watchdog_id);
        cJSON_AddNumberToObject(st, "pid", (double)getpid());
        add_time(st, "updated_at", now);
        cJSON_AddNumberToObject(st, "updated_at_ms", (double)now);
        cJSON_AddNumberToObject(st, "updated_mono_ms", (double)rwclock_mono_ms());
        cJSON_AddNumberToObject(st, "interval_ms", (double)info->interval_ms);
        cJSON_AddBoolToObject(st, "healthy", info->healthy);
        if (info->r != NULL && add_cycle(st, info) != 0) {
                cJSON_Delete(st);
                return NULL;
        }
        return st;
}

int status_file_write(const char *state_dir, const cJSON *status, struct rwerr *err)
{
        char *text = cJSON_Print(status);
        int rc;

        if (text == NULL)
                return rwerr_set(err, RW_ERR_NOMEM, "out of memory printing %s", STATUS_FILE_NAME);
        rc = fileio_replace(state_dir, STATUS_FILE_NAME, text, strlen(text), 0644, 0, err);
        free(text);
        return rc;
}
