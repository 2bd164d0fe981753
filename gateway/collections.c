/*
 * The collections cache (see collections.h).
 *
 * One refresh at a time: `refresh` is the one in flight or NULL.  It holds a
 * slot per shard with the bridge call's id, and the snapshot being built.
 * When the last shard has answered or failed, the snapshot is published
 * (unless no shard answered and there is one already) and every waiter is
 * called with it, in the order they came.  The refresh is the gateway's: it
 * is freed when it completes or when the cache is destroyed, never with a
 * request.
 */
#include "gateway/collections.h"

#include "gateway/metrics.h"

#include "proto/base/log.h"
#include "proto/ops.h"
#include "proto/shard.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct refresh refresh_t;

typedef struct {
    refresh_t *refresh;
    int shard;
    uint64_t call; /* 0 once it ended */
} refresh_call_t;

struct refresh {
    collections_cache_t *cache;
    collections_t *building;
    int pending;  /* calls not ended yet */
    int answered; /* shards that answered */
    refresh_call_t *calls;
};

struct collections_cache {
    bridge_t *bridge;
    int shards;
    int timeout_ms;
    collections_t *current; /* NULL until a refresh finished */
    int64_t current_at_ms;  /* when the refresh that last completed started */
    refresh_t *refresh;     /* in flight, or NULL */
    int64_t refresh_at_ms;  /* when it started */
    h2o_linklist_t waiters; /* collections_waiter_t, oldest first */
};

/* ---- snapshots ---- */

collections_t *collections_new(void) {
    collections_t *s = calloc(1, sizeof *s);
    if (s)
        s->refs = 1;
    return s;
}

void collections_release(collections_t **snapshot_p) {
    collections_t *s = snapshot_p ? *snapshot_p : NULL;
    if (!s)
        return;
    *snapshot_p = NULL;
    if (--s->refs > 0)
        return;
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].name);
        free(s->items[i].root);
        free(s->items[i].model);
        free(s->items[i].shard_files);
        free(s->items[i].shard_chunks);
    }
    free(s->items);
    free(s->shard_answered);
    free(s);
}

const collection_t *collections_find(const collections_t *s, const char *name) {
    for (size_t i = 0; s && name && i < s->count; i++)
        if (!strcmp(s->items[i].name, name))
            return &s->items[i];
    return NULL;
}

const collection_t *collections_for_path(const collections_t *s, const char *path, size_t len) {
    const collection_t *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; s && i < s->count; i++) {
        const char *root = s->items[i].root;
        size_t n = strlen(root);
        if (n == 0 || n > len || n <= best_len || memcmp(root, path, n) != 0)
            continue;
        if (n < len && path[n] != '/')
            continue;
        best = &s->items[i];
        best_len = n;
    }
    return best;
}

static double number_of(const cJSON *o, const char *key) {
    double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return isnan(v) || isinf(v) ? 0 : v;
}

static const char *string_of(const cJSON *o, const char *key) {
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v ? v : "";
}

/* A count as an int, 0 when it is not a sane one. */
static int small_int(double v) {
    return v >= 0 && v <= 1 << 20 ? (int)v : 0;
}

static int add_item(collections_t *s, const cJSON *c, const char *name) {
    collection_t *grown = realloc(s->items, (s->count + 1) * sizeof *s->items);
    if (!grown)
        return -ENOMEM;
    s->items = grown;
    collection_t *item = &s->items[s->count];
    *item = (collection_t){.name = strdup(name),
                           .root = strdup(string_of(c, "root")),
                           .model = strdup(string_of(c, "model")),
                           .dim = small_int(number_of(c, "dim")),
                           .shards = small_int(number_of(c, "shards"))};
    if (s->nshards > 0) {
        item->shard_files = calloc((size_t)s->nshards, sizeof *item->shard_files);
        item->shard_chunks = calloc((size_t)s->nshards, sizeof *item->shard_chunks);
        item->nshards = s->nshards;
    }
    if (!item->name || !item->root || !item->model ||
        (s->nshards > 0 && (!item->shard_files || !item->shard_chunks))) {
        free(item->name);
        free(item->root);
        free(item->model);
        free(item->shard_files);
        free(item->shard_chunks);
        return -ENOMEM;
    }
    s->count++;
    return 0;
}

/* Merges one answer; shard is its shard's index into the spread, or -1. */
static int merge(collections_t *s, int shard, const char *answer, size_t len) {
    cJSON *json = answer ? cJSON_ParseWithLength(answer, len) : NULL;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "collections");
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(json);
        return -EINVAL;
    }
    if (shard >= 0)
        s->shard_answered[shard] = true;
    int rc = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        if (!name || !*name)
            continue;
        const collection_t *found = collections_find(s, name);
        if (!found) {
            if ((rc = add_item(s, c, name)) != 0)
                break;
            found = &s->items[s->count - 1];
        }
        collection_t *item = (collection_t *)found;
        item->files += number_of(c, "files");
        item->chunks += number_of(c, "chunks");
        double seeded = number_of(c, "seeded_at");
        if (seeded > item->seeded_at)
            item->seeded_at = seeded;
        if (shard >= 0 && shard < item->nshards) {
            item->shard_files[shard] += number_of(c, "files");
            item->shard_chunks[shard] += number_of(c, "chunks");
        }
    }
    cJSON_Delete(json);
    return rc;
}

int collections_merge(collections_t *s, const char *answer, size_t len) {
    if (s->nshards > 0)
        return -EINVAL;
    return merge(s, -1, answer, len);
}

int collections_merge_shard(collections_t *s, int shard, int shards, const char *answer,
                            size_t len) {
    if (shards <= 0 || shards > SHARD_MAX || shard < 0 || shard >= shards ||
        (s->nshards > 0 && s->nshards != shards) || (s->nshards == 0 && s->count > 0))
        return -EINVAL;
    if (s->nshards == 0) {
        s->shard_answered = calloc((size_t)shards, sizeof *s->shard_answered);
        if (!s->shard_answered)
            return -ENOMEM;
        s->nshards = shards;
    }
    return merge(s, shard, answer, len);
}

/* "name":[v0,v1,...], null where the shard did not answer. */
static void append_spread(buf_t *out, const char *name, const collections_t *s,
                          const double *values) {
    buf_printf(out, ",\"%s\":[", name);
    for (int i = 0; i < s->nshards; i++) {
        if (i)
            buf_append_str(out, ",");
        if (s->shard_answered[i])
            buf_printf(out, "%.0f", values[i]);
        else
            buf_append_str(out, "null");
    }
    buf_append_str(out, "]");
}

void collections_append_json(const collections_t *s, buf_t *out) {
    buf_append_str(out, "[");
    for (size_t i = 0; s && i < s->count; i++) {
        const collection_t *c = &s->items[i];
        ops_collection_open(out, i == 0, c->name, c->root, c->model);
        buf_printf(out,
                   ",\"dim\":%d,\"shards\":%d,\"files\":%.0f,\"chunks\":%.0f,\"seeded_at\":%.0f",
                   c->dim, c->shards, c->files, c->chunks, c->seeded_at);
        if (c->nshards > 0 && c->nshards == s->nshards) {
            append_spread(out, "shard_files", s, c->shard_files);
            append_spread(out, "shard_chunks", s, c->shard_chunks);
        }
        buf_append_str(out, "}");
    }
    buf_append_str(out, "]");
}

void collections_append_metrics(const collections_t *s, buf_t *out) {
    buf_append_str(out, "# HELP lca_collection_chunks Chunks indexed per collection.\n"
                        "# TYPE lca_collection_chunks gauge\n");
    for (size_t i = 0; s && i < s->count; i++) {
        buf_append_str(out, "lca_collection_chunks{collection=\"");
        metrics_label(out, s->items[i].name);
        buf_printf(out, "\"} %.0f\n", s->items[i].chunks);
    }
}

/* ---- refreshes ---- */

static void refresh_free(refresh_t *r) {
    if (!r)
        return;
    collections_release(&r->building);
    free(r->calls);
    free(r);
}

/* Publishes what the refresh built and calls the waiters. */
static void refresh_complete(refresh_t *r) {
    collections_cache_t *cache = r->cache;
    cache->refresh = NULL;
    r->building->known = r->answered > 0;
    r->building->shards_missing = cache->shards - r->answered;
    if (r->answered > 0 || !cache->current) {
        collections_release(&cache->current);
        cache->current = r->building;
        r->building = NULL;
    } else {
        log_warn("no retriever shard listed its collections; keeping the list there was");
    }
    cache->current_at_ms = cache->refresh_at_ms;
    refresh_free(r);

    /* Waiters that arrive while these are called wait for the next refresh. */
    h2o_linklist_t ready;
    h2o_linklist_init_anchor(&ready);
    h2o_linklist_insert_list(&ready, &cache->waiters);
    collections_t *snapshot = cache->current;
    snapshot->refs++;
    while (!h2o_linklist_is_empty(&ready)) {
        collections_waiter_t *w = H2O_STRUCT_FROM_MEMBER(collections_waiter_t, link, ready.next);
        h2o_linklist_unlink(&w->link);
        w->on_ready(w, snapshot);
    }
    collections_release(&snapshot);
}

static void call_ended(refresh_call_t *c) {
    c->call = 0;
    if (--c->refresh->pending == 0)
        refresh_complete(c->refresh);
}

static void on_final(void *arg, const proto_msg_t *msg) {
    refresh_call_t *c = arg;
    if (collections_merge_shard(c->refresh->building, c->shard, c->refresh->cache->shards,
                                msg->payload, msg->payload_len) == 0)
        c->refresh->answered++;
    else
        log_warn("shard %d listed its collections in a malformed answer", c->shard);
    call_ended(c);
}

static void on_error(void *arg, int status, const char *message) {
    refresh_call_t *c = arg;
    log_warn("shard %d did not list its collections: %d %s", c->shard, status, message);
    call_ended(c);
}

static void refresh_start(collections_cache_t *cache) {
    static const bridge_callbacks_t callbacks = {NULL, on_final, on_error};
    if (cache->refresh)
        return;
    refresh_t *r = calloc(1, sizeof *r);
    buf_t header = BUF_INIT;
    if (r) {
        r->calls = calloc((size_t)cache->shards, sizeof *r->calls);
        r->building = collections_new();
    }
    if (!r || !r->calls || !r->building ||
        ops_encode(&(ops_request_t){.op = OPS_COLLECTIONS}, &header) != 0) {
        refresh_free(r);
        buf_free(&header);
        log_error("out of memory refreshing the collections");
        return;
    }
    r->cache = cache;
    cache->refresh = r;
    cache->refresh_at_ms = clock_ms();
    /* Count every call first: a call that fails at once must not complete
     * the refresh while others are still to be sent. */
    r->pending = cache->shards + 1;
    for (int i = 0; i < cache->shards; i++) {
        char service[SHARD_SERVICE_MAX];
        shard_service(i, service);
        refresh_call_t *c = &r->calls[i];
        *c = (refresh_call_t){.refresh = r, .shard = i};
        c->call = bridge_call(cache->bridge, service, header.data, NULL, 0, cache->timeout_ms,
                              &callbacks, c);
        if (!c->call)
            r->pending--;
    }
    buf_free(&header);
    if (--r->pending == 0)
        refresh_complete(r);
}

/* ---- the cache ---- */

collections_cache_t *collections_cache_new(bridge_t *bridge, int shards, int timeout_ms) {
    collections_cache_t *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->bridge = bridge;
    cache->shards = shards;
    cache->timeout_ms = timeout_ms;
    h2o_linklist_init_anchor(&cache->waiters);
    return cache;
}

void collections_cache_destroy(collections_cache_t **self_p) {
    collections_cache_t *cache = self_p ? *self_p : NULL;
    if (!cache)
        return;
    *self_p = NULL;
    if (cache->refresh) {
        for (int i = 0; i < cache->shards; i++)
            if (cache->refresh->calls[i].call)
                bridge_cancel(cache->bridge, cache->refresh->calls[i].call);
        refresh_free(cache->refresh);
    }
    while (!h2o_linklist_is_empty(&cache->waiters))
        h2o_linklist_unlink(cache->waiters.next);
    collections_release(&cache->current);
    free(cache);
}

collections_t *collections_current(collections_cache_t *cache) {
    if (!cache->current || clock_ms() - cache->current_at_ms >= COLLECTIONS_FRESH_MS)
        refresh_start(cache);
    if (!cache->current)
        return NULL;
    cache->current->refs++;
    return cache->current;
}

void collections_wait(collections_cache_t *cache, collections_waiter_t *waiter) {
    collections_cancel_wait(waiter);
    h2o_linklist_insert(&cache->waiters, &waiter->link);
    refresh_start(cache);
}

void collections_cancel_wait(collections_waiter_t *waiter) {
    if (h2o_linklist_is_linked(&waiter->link))
        h2o_linklist_unlink(&waiter->link);
}
