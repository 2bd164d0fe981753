/*
 * `lca status`: what the broker knows (services, workers with their host)
 * and what the index holds (collections, summed over the retriever shards).
 */
#include "deploy/commands.h"
#include "proto/base/settings.h"
#include "proto/client.h"
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/ops.h"
#include "proto/shard.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static cJSON *call_json(proto_client_t *c, const char *service, const char *header,
                        bool from_payload, char *err, size_t err_len) {
    proto_msg_t final;
    int status;
    if (proto_client_call(c, service, header, NULL, 0, 2000, NULL, NULL, &final, &status, err,
                          err_len) != 0)
        return NULL;
    cJSON *j =
        from_payload
            ? (final.payload ? cJSON_ParseWithLength(final.payload, final.payload_len) : NULL)
            : cJSON_ParseWithLength(final.header, final.header_len);
    proto_msg_close(&final);
    if (!j)
        snprintf(err, err_len, "%s answered something that is not JSON", service);
    return j;
}

static double number(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *string(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

#define ABOUT                                                                                      \
    "Shows services, workers (with host and load) and indexed collections, asking "                \
    "the broker."

int command_status(int argc, char **argv) {
    const char *broker = proto_broker_default(), *curve_dir = NULL;
    const setting_t settings[] = {
        {NULL, 0, "LCA_BROKER", SETTING_TEXT, NULL, "the broker to ask", .out = &broker},
        OPTION_CURVE_KEYS(&curve_dir),
    };
    const settings_spec_t spec = {"lca status", "", ABOUT, SETTINGS_OF(settings)};
    int read = settings_read(&spec, argc, argv, NULL);
    if (read != SETTINGS_GO_ON)
        return read;
    char err[512];
    proto_client_t *c = proto_client_new(broker, curve_dir, err, sizeof err);
    if (!c) {
        fprintf(stderr, "lca status: %s\n", err);
        return 1;
    }
    cJSON *st = call_json(c, "broker.status", NULL, false, err, sizeof err);
    if (!st) {
        fprintf(stderr, "lca status: cannot reach lca at %s (%s): is `lca up` running?\n", broker,
                err);
        proto_client_destroy(&c);
        return 1;
    }
    printf("broker %s\n\nservices\n", broker);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(st, "services")) {
        printf("  %-14s %3.0f worker%s  %3.0f in flight  %3.0f queued  %6.0f requests  %4.0f "
               "failed\n",
               s->string, number(s, "workers"), number(s, "workers") == 1 ? " " : "s",
               number(s, "inflight"), number(s, "queued"), number(s, "requests"),
               number(s, "failures"));
    }
    printf("\nworkers\n");
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(st, "workers")) {
        printf("  %-14s %-20s pid %-7.0f busy %3.0f of %-3.0f %8.0f served\n", string(w, "service"),
               string(w, "host"), number(w, "pid"), number(w, "inflight"), number(w, "capacity"),
               number(w, "served"));
    }
    /* What the broker may hold, and what it refused past that (broker.h). */
    const cJSON *limits = cJSON_GetObjectItemCaseSensitive(st, "limits");
    const cJSON *refused = cJSON_GetObjectItemCaseSensitive(st, "refused");
    const struct {
        const char *label, *key;
        double now;
    } rows[] = {
        {"services", "services",
         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "services"))},
        {"workers", "workers", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "workers"))},
        {"waiting bytes", "queued_bytes", number(st, "queued_bytes")},
    };
    if (limits) {
        printf("\nlimits\n");
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            printf("  %-14s %10.0f of %-10.0f %6.0f refused\n", rows[i].label, rows[i].now,
                   number(limits, rows[i].key), number(refused, rows[i].key));
    }

    /* Collections: every shard reports its part. */
    cJSON *totals = cJSON_CreateObject();
    buf_t header = BUF_INIT;
    ops_encode(&(ops_request_t){.op = OPS_COLLECTIONS}, &header);
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(st, "services")) {
        if (shard_of_service(s->string) < 0 || number(s, "workers") < 1)
            continue;
        cJSON *cols = call_json(c, s->string, header.data, true, err, sizeof err);
        const cJSON *col;
        cJSON_ArrayForEach(col, cJSON_GetObjectItemCaseSensitive(cols, "collections")) {
            const char *name = string(col, "name");
            cJSON *t = cJSON_GetObjectItemCaseSensitive(totals, name);
            if (!t) {
                t = cJSON_AddObjectToObject(totals, name);
                cJSON_AddStringToObject(t, "root", string(col, "root"));
                cJSON_AddStringToObject(t, "model", string(col, "model"));
                cJSON_AddNumberToObject(t, "files", 0);
                cJSON_AddNumberToObject(t, "chunks", 0);
                cJSON_AddNumberToObject(t, "seeded_at", 0);
            }
            cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "files"),
                                 number(t, "files") + number(col, "files"));
            cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "chunks"),
                                 number(t, "chunks") + number(col, "chunks"));
            if (number(col, "seeded_at") > number(t, "seeded_at"))
                cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "seeded_at"),
                                     number(col, "seeded_at"));
        }
        cJSON_Delete(cols);
    }
    buf_free(&header);
    printf("\ncollections\n");
    if (!totals->child)
        printf("  (none yet: index a repository with `lca seed DIR`)\n");
    const cJSON *t;
    cJSON_ArrayForEach(t, totals) {
        char when[64] = "never";
        time_t at = (time_t)number(t, "seeded_at");
        if (at) {
            struct tm tm;
            localtime_r(&at, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        }
        printf("  %-20s %6.0f files %8.0f chunks  %-22s seeded %s  %s\n", t->string,
               number(t, "files"), number(t, "chunks"), string(t, "model"), when,
               string(t, "root"));
    }
    cJSON_Delete(totals);
    cJSON_Delete(st);
    proto_client_destroy(&c);
    return 0;
}
