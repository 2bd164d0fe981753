/*
 * One retrieval across shards (see context.h).
 *
 * A retrieval is a small state machine living in the request's pool:
 *   collections  (only when the gateway has no list of them yet)
 *   embed        (only when the dense signal is wanted; a collection of the
 *                built-in model is embedded right here, see embed_here())
 *   search       one call per shard, in parallel
 *   again        (only for `x.` with x an object, when the shards found
 *                different classes for it: see ask_again()) the shards
 *                that missed one, asked with all of them
 *   done         rank (fusion.h), cut to k, call back
 * A timer bounds the whole; when it fires, calls still in flight are
 * cancelled and the retrieval finishes with what arrived.  Every bridge
 * call goes through http_call(), so a request freed mid-way (the client
 * left) cancels its calls, and the pool's dispose hook unlinks the timer:
 * no callback ever touches freed memory.
 */
#include "gateway/context.h"

#include "proto/code/embedding.h"
#include "proto/code/ident.h"
#include "proto/code/repopath.h"
#include "gateway/collections.h"
#include "gateway/features.h"
#include "gateway/fusion.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/timer.h"
#include "proto/base/buf.h"
#include "proto/client.h"
#include "proto/shard.h"
#include "proto/base/clock.h"
#include "proto/base/log.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#define PER_FILE_DEFAULT 2
/* A question in words more often asks for one of several neighbouring
 * definitions of one file (try_acquire beside try_acquire_many). */
#define PER_FILE_QUESTION_DEFAULT 4
/* The longest query text embedded on the loop thread (about 0.5 ms of
 * work); a longer one (a pasted file in a chat) goes to the embed service. */
#define EMBED_HERE_MAX (16 << 10)

/* ---- weights ---- */

static fusion_weights_t weights, question_weights;
static int per_file = PER_FILE_DEFAULT, per_file_question = PER_FILE_QUESTION_DEFAULT;

/* The weights for code (LCA_FUSION over the measured ones) and for
 * questions in words (LCA_FUSION_QUESTION), and the per-file caps
 * (LCA_CONTEXT_PER_FILE, LCA_CONTEXT_PER_FILE_QUESTION), read once. */
static void weights_load(void) {
    static bool loaded;
    if (loaded)
        return;
    loaded = true;
    weights = fusion_weights_measured;
    question_weights = fusion_weights_question;
    per_file = (int)settings_env_long("LCA_CONTEXT_PER_FILE", PER_FILE_DEFAULT, 1, 100);
    per_file_question =
        (int)settings_env_long("LCA_CONTEXT_PER_FILE_QUESTION", PER_FILE_QUESTION_DEFAULT, 1, 100);
    const char *env = getenv("LCA_FUSION");
    if (env)
        fusion_weights_parse(&weights, env);
    if ((env = getenv("LCA_FUSION_QUESTION")) != NULL)
        fusion_weights_parse(&question_weights, env);
}

/* ---- the collections cache (collections.h) ---- */

static collections_cache_t *cache_of(const http_ctx_t *ctx) {
    return ctx->gateway->collections;
}

/* ---- one retrieval ---- */

typedef struct query query_t;

typedef struct {
    query_t *query;
    int shard;
    uint64_t call;
} call_t;

struct query {
    http_ctx_t *ctx;
    context_query_t q;
    context_done_t done;
    void *arg;
    int shards; /* the gateway's, every one asked */
    int pending;
    call_t *calls; /* the embed call, then one per shard; in the pool */
    int ncalls;    /* slots used, at most shards (search) or 1 (embed) */
    bool finished;
    bool waiting;                /* for the first list of collections */
    collections_waiter_t waiter; /* linked while waiting */
    cJSON **answers;             /* per shard, NULL until it answered; in the pool */
    int answered;
    bool again;                /* the shards that missed a class's lineage were asked again */
    h2o_timeout_entry_t timer; /* the deadline */
    h2o_timeout_entry_t kick;  /* starts the work on the next loop turn */
    int64_t started_us;
    const char *model;   /* the collection's embedding model (pool), once resolved */
    int dim;             /* ... and its dimension */
    features_t features; /* read once the collection is known */
    buf_t search;        /* the shards' search request header, made with the features */
    float *vector;
    size_t vector_bytes;
    context_result_t result;
};

static void search_start(query_t *qs);
static void finish(query_t *qs);

static void query_dispose(void *p) {
    query_t *qs = p;
    if (h2o_timeout_is_linked(&qs->timer))
        h2o_timeout_unlink(&qs->timer);
    if (h2o_timeout_is_linked(&qs->kick))
        h2o_timeout_unlink(&qs->kick);
    collections_cancel_wait(&qs->waiter);
    for (int i = 0; i < qs->shards; i++)
        cJSON_Delete(qs->answers[i]);
    features_free(&qs->features);
    buf_free(&qs->search);
    free(qs->vector);
}

static void cancel_pending(query_t *qs) {
    for (int i = 0; i < qs->ncalls; i++)
        if (qs->calls[i].call) {
            http_cancel(qs->ctx, qs->calls[i].call);
            qs->calls[i].call = 0;
            /* a shard asked again still has its first answer */
            if (qs->calls[i].shard >= 0 && !qs->answers[qs->calls[i].shard])
                qs->result.shards_missing++;
        }
    qs->pending = 0;
}

static void on_deadline(h2o_timeout_entry_t *entry) {
    query_t *qs = H2O_STRUCT_FROM_MEMBER(query_t, timer, entry);
    qs->result.timed_out = true;
    cancel_pending(qs);
    /* Still waiting for the list of collections: this request gives up on
     * it; the refresh goes on for the next ones. */
    collections_cancel_wait(&qs->waiter);
    qs->waiting = false;
    finish(qs);
}

static void fail(query_t *qs, int status, const char *message) {
    if (qs->finished)
        return;
    cancel_pending(qs);
    qs->result.status = status;
    snprintf(qs->result.message, sizeof qs->result.message, "%s", message);
    finish(qs);
}

static int remaining_ms(const query_t *qs) {
    int64_t left = qs->q.deadline_ms - (clock_us() - qs->started_us) / 1000;
    return left < 1 ? 1 : (int)left;
}

/* The next call's slot: calls are made one phase at a time (embed, then
 * the shards), each phase from slot 0, so shards slots always suffice. */
static call_t *call_slot(query_t *qs, int shard) {
    call_t *c = &qs->calls[qs->ncalls++];
    *c = (call_t){.query = qs, .shard = shard};
    return c;
}

static void call_done(call_t *c) {
    http_untrack(c->query->ctx, c->call);
    c->call = 0;
    c->query->pending--;
}

/* -- collections -- */

static bool resolve(query_t *qs, const collections_t *snapshot);
static void go(query_t *qs);

static void on_collections_ready(collections_waiter_t *w, const collections_t *snapshot) {
    query_t *qs = H2O_STRUCT_FROM_MEMBER(query_t, waiter, w);
    qs->waiting = false;
    if (qs->finished)
        return;
    if (resolve(qs, snapshot))
        go(qs);
    else
        finish(qs);
}

/* -- embed -- */

static void on_embed_final(void *arg, const proto_msg_t *msg) {
    call_t *c = arg;
    query_t *qs = c->query;
    call_done(c);
    if (msg->payload && msg->payload_len >= sizeof(float)) {
        qs->vector = malloc(msg->payload_len);
        if (qs->vector) {
            memcpy(qs->vector, msg->payload, msg->payload_len);
            qs->vector_bytes = msg->payload_len;
        }
    }
    search_start(qs);
}

static void on_embed_error(void *arg, int status, const char *message) {
    call_t *c = arg;
    query_t *qs = c->query;
    call_done(c);
    log_warn("req=%s embedding the query failed (%d %s); searching without vectors", qs->ctx->rid,
             status, message);
    search_start(qs);
}

/* -- search -- */

static bool ask_again(query_t *qs);

static void on_search_final(void *arg, const proto_msg_t *msg) {
    call_t *c = arg;
    query_t *qs = c->query;
    call_done(c);
    cJSON *j = msg->payload ? cJSON_ParseWithLength(msg->payload, msg->payload_len) : NULL;
    if (j) {
        if (qs->answers[c->shard]) /* asked again: the new answer replaces the first */
            cJSON_Delete(qs->answers[c->shard]);
        else
            qs->answered++;
        qs->answers[c->shard] = j;
    }
    if (qs->pending == 0 && !ask_again(qs))
        finish(qs);
}

static void on_search_error(void *arg, int status, const char *message) {
    call_t *c = arg;
    query_t *qs = c->query;
    call_done(c);
    if (status == 404 || status == 409 || status == 400) {
        fail(qs, status, message);
        return;
    }
    log_warn("req=%s shard %d did not answer: %d %s", qs->ctx->rid, c->shard, status, message);
    if (!qs->answers[c->shard]) /* asked again, it still has its first answer */
        qs->result.shards_missing++;
    if (qs->pending == 0 && !ask_again(qs))
        finish(qs);
}

static void search_start(query_t *qs) {
    static const bridge_callbacks_t callbacks = {NULL, on_search_final, on_search_error};
    if (qs->finished)
        return;
    qs->ncalls = 0;
    for (int i = 0; i < qs->shards; i++) {
        char service[SHARD_SERVICE_MAX];
        shard_service(i, service);
        call_t *c = call_slot(qs, i);
        qs->pending++;
        c->call = http_call(qs->ctx, service, qs->search.data, qs->vector,
                            qs->vector ? qs->vector_bytes : 0, remaining_ms(qs), &callbacks, c);
        if (!c->call) {
            qs->pending--;
            qs->result.shards_missing++;
        }
    }
    if (qs->pending == 0)
        finish(qs);
}

/* -- a class's lineage, across shards -- */

static bool lineage_has(const cJSON *lineage, const char *name) {
    const cJSON *e;
    cJSON_ArrayForEach(e, lineage) {
        if (cJSON_IsString(e) && !strcmp(e->valuestring, name))
            return true;
    }
    return false;
}

/* Asks the shards missed[] names again with header (freed); whether any
 * call was made. */
static bool ask_missed(query_t *qs, const bool *missed, buf_t *header) {
    static const bridge_callbacks_t callbacks = {NULL, on_search_final, on_search_error};
    qs->ncalls = 0;
    for (int i = 0; i < qs->shards && i < SHARD_MAX; i++) {
        if (!missed[i])
            continue;
        char service[SHARD_SERVICE_MAX];
        shard_service(i, service);
        call_t *slot = call_slot(qs, i);
        qs->pending++;
        slot->call =
            http_call(qs->ctx, service, header->data, qs->vector, qs->vector ? qs->vector_bytes : 0,
                      remaining_ms(qs), &callbacks, slot);
        if (!slot->call)
            qs->pending--;
    }
    buf_free(header);
    return qs->pending > 0;
}

/* A declaration's type from the call it is assigned (`⟨ bcm =
 * interpreter.getClassManager();`): the shard holding the method's
 * definition read the class it returns (its answer's "returns") and
 * offered that class first among the package's; a shard that holds no
 * such definition, but may hold the class, is asked once more with the
 * class's name among the hints.  Returns whether calls were made. */
static bool ask_again_returns(query_t *qs) {
    features_t *f = &qs->features;
    const char *said[SHARD_MAX] = {NULL}, *returns = NULL;
    for (int i = 0; i < qs->shards && i < SHARD_MAX; i++) {
        said[i] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(qs->answers[i], "returns"));
        if (!returns && said[i] && *said[i] && strlen(said[i]) < CURSOR_NAME_MAX)
            returns = said[i];
    }
    if (!returns)
        return false;
    bool missed[SHARD_MAX] = {false}, any = false;
    for (int i = 0; i < qs->shards && i < SHARD_MAX; i++) {
        missed[i] = qs->answers[i] && (!said[i] || strcmp(said[i], returns) != 0);
        any |= missed[i];
    }
    if (!any)
        return false;
    char folded[CURSOR_NAME_MAX];
    size_t n = ident_fold(returns, folded, sizeof folded);
    buf_t was = f->hints, hints = BUF_INIT;
    if (was.len > 1) {
        buf_append(&hints, was.data, was.len - 1);
        buf_append_str(&hints, ",");
    } else {
        buf_append_str(&hints, "[");
    }
    buf_append_json_string(&hints, folded, n);
    buf_append_str(&hints, "]");
    f->hints = hints;
    buf_t header = BUF_INIT;
    features_search_header(f, qs->result.collection, qs->q.path, qs->q.k, qs->q.signals, &header);
    f->hints = was;
    buf_free(&hints);
    if (!header.data || header.len > PROTO_CLIENT_HEADER_MAX) {
        buf_free(&header);
        return false;
    }
    return ask_missed(qs, missed, &header);
}

/* The members of `x.` where x is an object: each shard offers those of the
 * classes it knows x to have (its answer's "lineage": x's class, then the
 * bases it found), and it knows only what its part of the index defines.
 * The class a call returns (`tok := makeToken()`), a base class, a base's
 * base, may be defined on one shard only: the others then offered the
 * members of too few classes, or none.  When the shards' lineages differ,
 * those that missed a class are asked once more, with the longest lineage
 * as the type and its bases and every other class any shard found after
 * them (at most CURSOR_BASES_MAX).  Returns whether calls were made. */
static bool ask_again(query_t *qs) {
    features_t *f = &qs->features;
    cursor_t *c = &f->cursor;
    if (qs->again || qs->finished || !(qs->q.signals & SIGNAL_OBJECT))
        return false;
    if (f->package && c->call[0]) {
        qs->again = true;
        return ask_again_returns(qs);
    }
    if (c->kind <= CURSOR_MODULE || f->package)
        return false;
    qs->again = true;
    const cJSON *longest = NULL;
    int longest_n = 0;
    for (int i = 0; i < qs->shards; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(qs->answers[i], "lineage");
        int n = cJSON_GetArraySize(l);
        if (n > longest_n) {
            longest = l;
            longest_n = n;
        }
    }
    if (!longest)
        return false;
    /* the classes: the longest lineage, then what the others add */
    const char *names[1 + CURSOR_BASES_MAX];
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, longest) {
        if (cJSON_IsString(e) && n < 1 + CURSOR_BASES_MAX &&
            strlen(e->valuestring) < CURSOR_NAME_MAX)
            names[n++] = e->valuestring;
    }
    for (int i = 0; i < qs->shards; i++) {
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(qs->answers[i], "lineage")) {
            bool seen = false;
            for (int k = 0; k < n && !seen; k++)
                seen = cJSON_IsString(e) && !strcmp(names[k], e->valuestring);
            if (cJSON_IsString(e) && !seen && n < 1 + CURSOR_BASES_MAX &&
                strlen(e->valuestring) < CURSOR_NAME_MAX)
                names[n++] = e->valuestring;
        }
    }
    bool missed[SHARD_MAX] = {false}, any = false;
    for (int i = 0; i < qs->shards && i < SHARD_MAX; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(qs->answers[i], "lineage");
        if (!qs->answers[i])
            continue; /* it did not answer: it is not asked again either */
        for (int k = 0; k < n && !missed[i]; k++)
            missed[i] = !lineage_has(l, names[k]);
        any |= missed[i];
    }
    if (!any)
        return false;
    /* the type and bases as every shard should read them; the call is
     * answered (names[0] is what it returns, where a shard knew) */
    cursor_t was = *c;
    memmove(c->type, names[0], strlen(names[0]) + 1);
    for (int k = 1; k < n; k++)
        memmove(c->bases[k - 1], names[k], strlen(names[k]) + 1);
    c->base_count = n - 1;
    c->call[0] = '\0';
    buf_t header = BUF_INIT;
    features_search_header(f, qs->result.collection, qs->q.path, qs->q.k, qs->q.signals, &header);
    *c = was;
    if (!header.data || header.len > PROTO_CLIENT_HEADER_MAX) {
        buf_free(&header);
        return false;
    }
    return ask_missed(qs, missed, &header);
}

/* -- done -- */

static char *pool_strdup(h2o_mem_pool_t *pool, const char *s, size_t len) {
    char *p = h2o_mem_alloc_pool(pool, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* Whether the query is about tests: its file is a test's, or its question
 * speaks of them. */
static bool tests_asked(const context_query_t *q) {
    if (q->path && repopath_is_test(q->path))
        return true;
    for (size_t i = 0; i + 4 <= q->query_len; i++)
        if (!strncasecmp(q->query + i, "test", 4))
            return true;
    return false;
}

/* Ranks what the shards answered into the result, copied into the pool. */
static void fuse(query_t *qs) {
    const features_t *f = &qs->features;
    /* A question in words (chat) has no code around a cursor: its own
     * weights and per-file cap. */
    bool question = qs->q.query_len > 0 && qs->q.prefix_len == 0 && qs->q.suffix_len == 0;
    fusion_query_t fq = {.signals = qs->q.signals,
                         .imports = f->imports,
                         .nimports = f->nimports,
                         .object_imported = f->object_imported,
                         .members = f->cursor.kind >= CURSOR_MODULE || f->package,
                         .path = qs->q.path,
                         .prefix = qs->q.prefix,
                         .prefix_len = qs->q.prefix_len,
                         .suffix = qs->q.suffix,
                         .suffix_len = qs->q.suffix_len,
                         .k = qs->q.k,
                         .per_file = question ? per_file_question : per_file,
                         .tests_asked = tests_asked(&qs->q),
                         .type_place = f->after[0] != '\0',
                         .type_wanted = f->type_wanted,
                         .call_wanted = f->call_wanted,
                         .import_line = f->import_line,
                         .within = f->within[0] ? f->within : NULL,
                         .declared = f->declared[0] ? f->declared : NULL};
    cJSON *line_holder = NULL;
    const char **line = features_list(&f->line_words, &line_holder, &fq.line_word_count);
    fq.line_words = line;
    h2o_mem_pool_t *pool = &qs->ctx->req->pool;
    fusion_pick_t *picks = h2o_mem_alloc_pool(pool, sizeof *picks * (size_t)qs->q.k);
    size_t count = fusion_rank(question ? &question_weights : &weights, &fq,
                               (const cJSON *const *)qs->answers, (size_t)qs->shards, picks);
    free(line);
    cJSON_Delete(line_holder);
    qs->result.chunks = h2o_mem_alloc_pool(pool, sizeof *qs->result.chunks * (count ? count : 1));
    for (size_t i = 0; i < count; i++) {
        const fusion_pick_t *p = &picks[i];
        qs->result.chunks[i] =
            (context_chunk_t){.path = pool_strdup(pool, p->path, strlen(p->path)),
                              .start_line = p->start_line,
                              .end_line = p->end_line,
                              .language = pool_strdup(pool, p->language, strlen(p->language)),
                              .kind = pool_strdup(pool, p->kind, strlen(p->kind)),
                              .score = p->score,
                              .text = pool_strdup(pool, p->text, p->text_len),
                              .text_len = p->text_len,
                              .nterms = p->nterms};
        memcpy(qs->result.chunks[i].terms, p->terms, sizeof p->terms);
    }
    qs->result.count = count;
}

static void finish(query_t *qs) {
    if (qs->finished)
        return;
    qs->finished = true;
    if (h2o_timeout_is_linked(&qs->timer))
        h2o_timeout_unlink(&qs->timer);
    if (qs->result.status == 200 && !qs->result.collection) {
        qs->result.status = 204;
        snprintf(qs->result.message, sizeof qs->result.message,
                 "retrieval ran out of time before it knew the collections");
    }
    if (qs->result.status == 200)
        fuse(qs);
    qs->result.elapsed_ms = (clock_us() - qs->started_us) / 1000.0;
    metrics_retrieval(qs->result.elapsed_ms, qs->result.timed_out);
    log_debug("req=%s context: %zu chunks from %s in %.2f ms (%d shard%s missing)", qs->ctx->rid,
              qs->result.count, qs->result.collection ? qs->result.collection : "-",
              qs->result.elapsed_ms, qs->result.shards_missing,
              qs->result.shards_missing == 1 ? "" : "s");
    qs->done(qs->ctx, &qs->result, qs->arg);
}

/* Sets the request's outcome to an error, to be reported when it finishes. */
static void refuse(query_t *qs, int status, const char *message) {
    qs->result.status = status;
    snprintf(qs->result.message, sizeof qs->result.message, "%s", message);
}

/* Picks the collection from snapshot (borrowed): the result names it from
 * then on, or holds the error.  Returns whether one was picked. */
static bool resolve(query_t *qs, const collections_t *snapshot) {
    const collection_t *col = NULL;
    const char *name = qs->q.collection;
    if (name && *name) {
        col = collections_find(snapshot, name);
        if (!col && !snapshot->known) { /* no shard answered: we cannot tell */
            refuse(qs, 204, "the retriever shards did not answer");
            return false;
        }
        if (!col) {
            char message[200];
            snprintf(message, sizeof message,
                     "no collection named '%s' is indexed (index it with `lca seed DIR "
                     "--collection %s`)",
                     name, name);
            refuse(qs, 404, message);
            return false;
        }
    } else {
        const char *wanted = getenv("LCA_COLLECTION");
        if (qs->q.path && qs->q.path[0] == '/')
            col = collections_for_path(snapshot, qs->q.path, strlen(qs->q.path));
        if (!col && wanted && *wanted)
            col = collections_find(snapshot, wanted);
        else if (!col && snapshot->count == 1)
            col = &snapshot->items[0];
        if (!col) {
            refuse(qs, qs->q.quiet_unknown ? 204 : 404,
                   snapshot->count == 0 ? "no collection is indexed yet: run `lca seed DIR`"
                                        : "several collections are indexed: name one "
                                          "(\"collection\", /c/<name>/, X-LCA-Collection or "
                                          "LCA_COLLECTION)");
            return false;
        }
    }
    /* The snapshot is only borrowed: what the request keeps is its own. */
    h2o_mem_pool_t *pool = &qs->ctx->req->pool;
    qs->result.collection = pool_strdup(pool, col->name, strlen(col->name));
    qs->result.root = pool_strdup(pool, col->root, strlen(col->root));
    qs->model = pool_strdup(pool, col->model, strlen(col->model));
    qs->dim = col->dim;
    /* An absolute path under the root becomes relative. */
    if (qs->q.path && qs->q.path[0] == '/') {
        size_t n = strlen(col->root);
        if (n && !strncmp(qs->q.path, col->root, n) && qs->q.path[n] == '/')
            qs->q.path += n + 1;
    }
    if (col->shards > 0 && col->shards != qs->shards) {
        char message[200];
        snprintf(message, sizeof message,
                 "collection '%s' was indexed with %d shards but the gateway runs %d "
                 "(LCA_SHARDS)",
                 col->name, col->shards, qs->shards);
        refuse(qs, 409, message);
        return false;
    }
    return true;
}

/* The built-in embedder of dim dimensions, made at first use and kept for
 * the process's life (the loop thread is its only user), or NULL. */
static builtin_embedder_t *builtin_for(int dim) {
    static builtin_embedder_t *made[4];
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        if (made[i] && builtin_embedder_dim(made[i]) == (size_t)dim)
            return made[i];
        if (!made[i])
            return made[i] = builtin_embedder_new((size_t)dim);
    }
    return NULL; /* four dimensions in use at once: the service does the rest */
}

/* Embeds the query on the loop thread when the collection was built with the
 * built-in model, whose vectors are the same wherever they are computed
 * (proto/code/embedding.h): this saves a hop to the embed service and back,
 * which under load costs far more than the tens of microseconds the
 * embedding takes, and the whole retrieval has only its deadline
 * (LCA_RAG_COMPLETION_MS).  It also uses the collection's own dimension,
 * whatever the embed service runs.  False when it did not: the service is
 * asked then. */
static bool embed_here(query_t *qs, const buf_t *text) {
    if (!qs->model || strcmp(qs->model, BUILTIN_EMBEDDER_MODEL) != 0 ||
        builtin_embedder_check_dim((size_t)qs->dim) != 0 || text->len > EMBED_HERE_MAX)
        return false;
    builtin_embedder_t *embedder = builtin_for(qs->dim);
    float *vector = embedder ? malloc(sizeof *vector * (size_t)qs->dim) : NULL;
    if (!vector || builtin_embedder_embed(embedder, text->data, text->len, vector) != 0) {
        free(vector);
        return false;
    }
    qs->vector = vector;
    qs->vector_bytes = sizeof *vector * (size_t)qs->dim;
    return true;
}

/* Embeds the query (if wanted) and searches every shard.  A search
 * request the wire cannot carry (its header over PROTO_CLIENT_HEADER_MAX: a query
 * of a megabyte) is refused here, before anything is sent, rather than
 * lost on the way with every shard reported missing. */
static void go(query_t *qs) {
    features_extract(&qs->features, qs->q.path, qs->q.query, qs->q.query_len, qs->q.prefix,
                     qs->q.prefix_len, qs->q.suffix, qs->q.suffix_len);
    features_search_header(&qs->features, qs->result.collection, qs->q.path, qs->q.k, qs->q.signals,
                           &qs->search);
    if (!qs->search.data || qs->search.len > PROTO_CLIENT_HEADER_MAX) {
        char message[256];
        if (qs->search.data)
            snprintf(message, sizeof message,
                     "the query is too long to search: it makes a %zu-byte request, and the "
                     "retriever takes at most %u (send a shorter query, or fewer lines around "
                     "the cursor)",
                     qs->search.len, (unsigned)PROTO_CLIENT_HEADER_MAX);
        else
            snprintf(message, sizeof message, "out of memory");
        fail(qs, qs->search.data ? 413 : 500, message);
        return;
    }
    const buf_t *text = &qs->features.text;
    if ((qs->q.signals & SIGNAL_DENSE) && text->len && !embed_here(qs, text)) {
        static const bridge_callbacks_t callbacks = {NULL, on_embed_final, on_embed_error};
        buf_t payload = BUF_INIT;
        texts_append(&payload, text->data, text->len);
        call_t *c = call_slot(qs, -1);
        c->shard = -1;
        qs->pending++;
        c->call = http_call(qs->ctx, "embed", "{\"kind\":\"query\"}", payload.data, payload.len,
                            remaining_ms(qs), &callbacks, c);
        buf_free(&payload);
        if (!c->call) {
            qs->pending--;
            search_start(qs);
        }
        return;
    }
    search_start(qs);
}

static void on_start(h2o_timeout_entry_t *entry) {
    query_t *qs = H2O_STRUCT_FROM_MEMBER(query_t, kick, entry);
    if (qs->finished) /* the deadline came first */
        return;
    if (qs->result.status != 200) {
        finish(qs);
    } else if (qs->result.collection) {
        go(qs);
    } else {
        qs->waiting = true;
        qs->waiter.on_ready = on_collections_ready;
        collections_wait(cache_of(qs->ctx), &qs->waiter);
    }
}

void context_retrieve(http_ctx_t *ctx, const context_query_t *q, context_done_t done, void *arg) {
    weights_load();
    query_t *qs = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *qs, query_dispose);
    memset(qs, 0, sizeof *qs);
    qs->ctx = ctx;
    qs->q = *q;
    if (qs->q.k <= 0)
        qs->q.k = 10;
    if (qs->q.k > 100)
        qs->q.k = 100;
    if (!qs->q.signals)
        qs->q.signals = SIGNAL_ALL;
    if (qs->q.deadline_ms <= 0)
        qs->q.deadline_ms = 1000;
    if (!qs->q.prefix)
        qs->q.prefix = "";
    if (!qs->q.suffix)
        qs->q.suffix = "";
    if (!qs->q.query)
        qs->q.query = "";
    if (!qs->q.collection && ctx->collection.len)
        qs->q.collection = pool_strdup(&ctx->req->pool, ctx->collection.base, ctx->collection.len);
    if (!qs->q.collection) {
        h2o_iovec_t header = http_header(ctx->req, "x-lca-collection");
        if (header.len)
            qs->q.collection = pool_strdup(&ctx->req->pool, header.base, header.len);
    }
    /* Per-shard state sized by the gateway's shards, however many. */
    qs->shards = ctx->gateway->shards > 0 ? ctx->gateway->shards : 1;
    qs->calls = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *qs->calls * (size_t)qs->shards);
    qs->answers = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *qs->answers * (size_t)qs->shards);
    memset(qs->calls, 0, sizeof *qs->calls * (size_t)qs->shards);
    memset(qs->answers, 0, sizeof *qs->answers * (size_t)qs->shards);
    qs->done = done;
    qs->arg = arg;
    qs->started_us = clock_us();
    qs->result.status = 200;
    qs->timer.cb = on_deadline;
    timer_start(ctx->gateway->context->loop, &qs->timer, (uint64_t)qs->q.deadline_ms);
    /* The collection is picked now when the list is known, so that even a
     * deadline that fires before the work starts answers for the right one. */
    collections_t *snapshot = collections_current(cache_of(ctx));
    if (snapshot)
        resolve(qs, snapshot);
    collections_release(&snapshot);
    /* Never call back from inside this call: start on the next loop turn
     * (h2o runs a zero-millisecond timeout then). */
    qs->kick.cb = on_start;
    timer_start(ctx->gateway->context->loop, &qs->kick, 0);
}
