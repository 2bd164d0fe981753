/*
 * Retrieval across shards, and its fusion (see context.h).
 *
 * One retrieval is a small state machine living in the request's pool:
 *   collections  (only when the cached list is older than 2 s or empty)
 *   embed        (only when the dense signal is wanted)
 *   search       one call per shard, in parallel
 *   done         fuse, cut to k, call back
 * A timer bounds the whole; when it fires, calls still in flight are
 * cancelled and the retrieval finishes with what arrived.  Every bridge
 * call goes through http_call(), so a request freed mid-way (the client
 * left) cancels its calls, and the pool's dispose hook unlinks the timer:
 * no callback ever touches freed memory.
 *
 * Fusion.  Each candidate carries every signal's value from its shard.  The
 * gateway normalises them over the whole candidate set (BM25 by its maximum,
 * uses by log scale, symbol matches capped at 3) and sums them with weights
 * measured on the retrieval evaluation (tests/eval).  What the evaluation
 * taught: structure decides completion — a chunk that defines an identifier
 * used near the cursor, or belongs to the module before the cursor's dot, is
 * nearly always the right one — while BM25 and dense similarity only order
 * the rest.  Equal-weight rank fusion lets a weak signal drown the strong
 * one, so the weights are far from equal.  LCA_FUSION overrides them
 * ("symbol=1,object=0.8,import=0.5,bm25=0.3,dense=0.15,uses=0.1,fresh=1,imported=0.4").
 */
#include "gateway/context.h"

#include "gateway/collections.h"

#include "gateway/gateway.h"
#include "proto/code/imported.h"
#include "gateway/metrics.h"
#include "gateway/timer.h"
#include "proto/base/buf.h"
#include "proto/base/json.h"
#include "proto/base/log.h"
#include "proto/code/subword.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHARDS 24
#define QUERY_LINES_BEFORE 40
#define QUERY_LINES_AFTER 10
#define SYMBOL_LINES_BEFORE 15
#define SYMBOL_LINES_AFTER 4
#define MAX_SYMBOLS 48
#define PER_FILE_DEFAULT 2

/* ---- weights ---- */

typedef struct {
    double dense, bm25, symbol, import, object, uses, fresh, imported;
} weights_t;

static weights_t weights = {.dense = 0.15,
                            .bm25 = 0.3,
                            .symbol = 1.0,
                            .import = 0.5,
                            .object = 0.8,
                            .uses = 0.1,
                            .fresh = 1.0,
                            .imported = 0.4};
static int per_file = PER_FILE_DEFAULT;

static void weights_load(void) {
    static bool loaded;
    if (loaded)
        return;
    loaded = true;
    per_file = (int)settings_env_long("LCA_CONTEXT_PER_FILE", PER_FILE_DEFAULT, 1, 100);
    const char *env = getenv("LCA_FUSION");
    if (!env)
        return;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", env);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            continue;
        *eq = '\0';
        double v = atof(eq + 1);
        if (!strcmp(item, "dense"))
            weights.dense = v;
        else if (!strcmp(item, "bm25"))
            weights.bm25 = v;
        else if (!strcmp(item, "symbol"))
            weights.symbol = v;
        else if (!strcmp(item, "import"))
            weights.import = v;
        else if (!strcmp(item, "object"))
            weights.object = v;
        else if (!strcmp(item, "uses"))
            weights.uses = v;
        else if (!strcmp(item, "fresh"))
            weights.fresh = v;
        else if (!strcmp(item, "imported"))
            weights.imported = v;
        else
            log_warn("LCA_FUSION: unknown signal %s", item);
    }
}

/* ---- the collections cache (collections.h) ---- */

static collections_cache_t *cache_of(const http_ctx_t *ctx) {
    return ctx->gateway->collections;
}

/* ---- one retrieval ---- */

typedef struct candidate {
    const cJSON *json; /* the chunk object, inside a shard answer */
    const char *path;
    double dense, bm25, symbol, import, object, uses;
    double fresh, imported; /* defines a name the file imports: not used yet / used */
    double score;
} candidate_t;

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
    int shards;
    int pending;
    call_t calls[MAX_SHARDS + 1];
    int ncalls;
    bool finished;
    bool waiting;                /* for the first list of collections */
    collections_waiter_t waiter; /* linked while waiting */
    cJSON *answers[MAX_SHARDS];
    int answered;
    h2o_timeout_entry_t timer; /* the deadline */
    h2o_timeout_entry_t kick;  /* starts the work on the next loop turn */
    int64_t started_us;
    char *query_text; /* what BM25 and the embedder see */
    size_t query_text_len;
    buf_t symbols; /* JSON array text */
    char object[SUBWORD_IDENT_MAX + 1];
    imported_name_t imports[32]; /* names the prefix imports, with their uses */
    size_t nimports;
    bool object_imported; /* the object before the cursor is an imported module or name */
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
    for (int i = 0; i < MAX_SHARDS; i++)
        cJSON_Delete(qs->answers[i]);
    buf_free(&qs->symbols);
    free(qs->query_text);
    free(qs->vector);
}

static void cancel_pending(query_t *qs) {
    for (int i = 0; i < qs->ncalls; i++)
        if (qs->calls[i].call) {
            http_cancel(qs->ctx, qs->calls[i].call);
            qs->calls[i].call = 0;
            if (qs->calls[i].shard >= 0)
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

static call_t *call_slot(query_t *qs, int shard) {
    if (qs->ncalls == (int)(sizeof qs->calls / sizeof qs->calls[0]))
        return NULL;
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

static void on_search_final(void *arg, const proto_msg_t *msg) {
    call_t *c = arg;
    query_t *qs = c->query;
    call_done(c);
    cJSON *j = msg->payload ? cJSON_ParseWithLength(msg->payload, msg->payload_len) : NULL;
    if (j) {
        qs->answers[c->shard] = j;
        qs->answered++;
    }
    if (qs->pending == 0)
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
    qs->result.shards_missing++;
    if (qs->pending == 0)
        finish(qs);
}

static void search_start(query_t *qs) {
    static const bridge_callbacks_t callbacks = {NULL, on_search_final, on_search_error};
    if (qs->finished)
        return;
    buf_t h = BUF_INIT;
    buf_append_str(&h, "{\"op\":\"search\",\"collection\":");
    buf_append_json_string(&h, qs->result.collection, strlen(qs->result.collection));
    buf_printf(&h, ",\"k\":%d,\"limit\":%d", qs->q.k, qs->q.k * 4 < 40 ? 40 : qs->q.k * 4);
    if (qs->q.path && *qs->q.path) {
        buf_append_str(&h, ",\"path\":");
        buf_append_json_string(&h, qs->q.path, strlen(qs->q.path));
    }
    if (qs->query_text_len && (qs->q.signals & (SIGNAL_BM25 | SIGNAL_IMPORT))) {
        buf_append_str(&h, ",\"query\":");
        buf_append_json_string(&h, qs->query_text, qs->query_text_len);
    }
    if (qs->symbols.len && (qs->q.signals & SIGNAL_SYMBOL))
        buf_printf(&h, ",\"symbols\":%s", qs->symbols.data);
    if (qs->object[0] && (qs->q.signals & SIGNAL_OBJECT)) {
        buf_append_str(&h, ",\"object\":");
        buf_append_json_string(&h, qs->object, strlen(qs->object));
    }
    buf_append_str(&h, "}");
    qs->ncalls = 0;
    for (int i = 0; i < qs->shards; i++) {
        char service[32];
        snprintf(service, sizeof service, "retrieve.%d", i);
        call_t *c = call_slot(qs, i);
        qs->pending++;
        c->call = http_call(qs->ctx, service, h.data, qs->vector, qs->vector ? qs->vector_bytes : 0,
                            remaining_ms(qs), &callbacks, c);
        if (!c->call) {
            qs->pending--;
            qs->result.shards_missing++;
        }
    }
    buf_free(&h);
    if (qs->pending == 0)
        finish(qs);
}

/* -- features of the request -- */

/* Start of the n-th line counted back from the end of text. */
static size_t lines_back(const char *text, size_t len, int n) {
    size_t i = len;
    while (i > 0) {
        if (text[i - 1] == '\n' && --n < 0)
            break;
        i--;
    }
    return i;
}

/* End of the n-th line from the start of text. */
static size_t lines_forward(const char *text, size_t len, int n) {
    size_t i = 0;
    while (i < len) {
        if (text[i++] == '\n' && --n <= 0)
            break;
    }
    return i;
}

typedef struct {
    buf_t *out;
    int count;
    const imported_name_t *imports; /* already in the list */
    size_t nimports;
} symbols_acc_t;

static void add_name(symbols_acc_t *acc, const char *name, size_t len) {
    if (acc->count >= MAX_SYMBOLS || len < 2)
        return;
    buf_append_str(acc->out, acc->count ? "," : "[");
    buf_append_json_string(acc->out, name, len);
    acc->count++;
}

static int add_symbol(const subword_token_t *t, void *arg) {
    symbols_acc_t *acc = arg;
    for (size_t i = 0; i < acc->nimports; i++)
        if (strlen(acc->imports[i].name) == t->ident_len &&
            !memcmp(acc->imports[i].name, t->ident, t->ident_len))
            return 0;
    add_name(acc, t->ident, t->ident_len);
    return 0;
}

/* The identifier before the cursor's `.`, `->` or `::` (with the member
 * being typed skipped), e.g. "utils" for "x = utils.fo". */
static void object_before_cursor(const char *prefix, size_t len, char *out, size_t size) {
    out[0] = '\0';
    size_t i = len;
#define IDENT_CHAR(c)                                                                              \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') ||     \
     (c) == '_' || (c) == '$')
    while (i > 0 && IDENT_CHAR(prefix[i - 1]))
        i--;
    if (i > 0 && prefix[i - 1] == '.')
        i--;
    else if (i > 1 && ((prefix[i - 2] == '-' && prefix[i - 1] == '>') ||
                       (prefix[i - 2] == ':' && prefix[i - 1] == ':')))
        i -= 2;
    else
        return;
    size_t end = i;
    while (i > 0 && IDENT_CHAR(prefix[i - 1]))
        i--;
#undef IDENT_CHAR
    if (end > i && end - i < size && !(prefix[i] >= '0' && prefix[i] <= '9')) {
        memcpy(out, prefix + i, end - i);
        out[end - i] = '\0';
    }
}

/* When the object before the cursor is a name the file imports, the member
 * being typed is defined in that module: name its file stem for the shards
 * (`ns` of `import * as ns from './graph'` is `graph`; a Python
 * `from .pkg import mod` names the module itself). */
static void object_resolve(query_t *qs) {
    for (size_t i = 0; qs->object[0] && i < qs->nimports; i++) {
        if (strcmp(qs->imports[i].name, qs->object) != 0)
            continue;
        qs->object_imported = true;
        const char *module = qs->imports[i].module;
        char stem[IMPORTED_NAME_MAX];
        if (strchr(module, '/'))
            imported_module_stem(module, stem, sizeof stem);
        else
            snprintf(stem, sizeof stem, "%s", qs->imports[i].name);
        if (stem[0])
            snprintf(qs->object, sizeof qs->object, "%s", stem);
        return;
    }
}

static void features(query_t *qs) {
    const context_query_t *q = &qs->q;
    buf_t text = BUF_INIT;
    if (q->query_len) {
        buf_append(&text, q->query, q->query_len);
    } else {
        size_t from = lines_back(q->prefix, q->prefix_len, QUERY_LINES_BEFORE);
        buf_append(&text, q->prefix + from, q->prefix_len - from);
        buf_append(&text, "\n", 1);
        buf_append(&text, q->suffix, lines_forward(q->suffix, q->suffix_len, QUERY_LINES_AFTER));
    }
    qs->query_text = text.data;
    qs->query_text_len = text.len;

    /* Names the file imports, those not used yet first; then identifiers
     * near the cursor. */
    symbols_acc_t acc = {&qs->symbols, 0, NULL, 0};
    if (!q->query_len) {
        qs->nimports = imported_names(q->prefix, q->prefix_len, qs->imports,
                                      sizeof qs->imports / sizeof qs->imports[0]);
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < qs->nimports; i++)
                if ((qs->imports[i].uses == 0) == (pass == 0))
                    add_name(&acc, qs->imports[i].name, strlen(qs->imports[i].name));
        acc.imports = qs->imports;
        acc.nimports = qs->nimports;
    }
    unsigned flags = SUBWORD_WHOLE | SUBWORD_SKIP_KEYWORDS | SUBWORD_SKIP_SINGLE | SUBWORD_UNIQUE;
    if (q->query_len) {
        subword_scan(q->query, q->query_len, flags, add_symbol, &acc);
    } else {
        size_t from = lines_back(q->prefix, q->prefix_len, SYMBOL_LINES_BEFORE);
        buf_t near = BUF_INIT;
        buf_append(&near, q->prefix + from, q->prefix_len - from);
        buf_append(&near, "\n", 1);
        buf_append(&near, q->suffix, lines_forward(q->suffix, q->suffix_len, SYMBOL_LINES_AFTER));
        subword_scan(near.data ? near.data : "", near.len, flags, add_symbol, &acc);
        buf_free(&near);
        object_before_cursor(q->prefix, q->prefix_len, qs->object, sizeof qs->object);
        object_resolve(qs);
    }
    if (acc.count)
        buf_append_str(&qs->symbols, "]");
}

/* -- fusion -- */

static double number(const cJSON *o, const char *key) {
    double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return isnan(v) ? 0 : v;
}

/* Marks x when it defines a name the current file imports (fresh: not used
 * since the import).  Symbols come as `name` or `Scope.name`. */
static void import_match(const query_t *qs, const cJSON *symbols, candidate_t *x) {
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        if (!cJSON_IsString(sym))
            continue;
        const char *name = sym->valuestring, *dot = strrchr(name, '.');
        const char *last = dot ? dot + 1 : name;
        for (size_t i = 0; i < qs->nimports; i++) {
            if (strcmp(qs->imports[i].name, name) != 0 && strcmp(qs->imports[i].name, last) != 0)
                continue;
            if (qs->imports[i].uses == 0)
                x->fresh = 1;
            else
                x->imported = 1;
        }
    }
}

static int by_score(const void *a, const void *b) {
    const candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    if (x->dense != y->dense)
        return x->dense < y->dense ? 1 : -1;
    return strcmp(x->path, y->path);
}

static char *pool_strdup(h2o_mem_pool_t *pool, const char *s, size_t len) {
    char *p = h2o_mem_alloc_pool(pool, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* True when the chunk's text already sits in the prompt the model gets. */
static bool already_in_prompt(const query_t *qs, const char *text, size_t len) {
    if (len < 40 || len > 4000)
        return false;
    return (qs->q.prefix_len && memmem(qs->q.prefix, qs->q.prefix_len, text, len)) ||
           (qs->q.suffix_len && memmem(qs->q.suffix, qs->q.suffix_len, text, len));
}

static void fuse(query_t *qs) {
    size_t n = 0;
    for (int s = 0; s < qs->shards; s++)
        n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(qs->answers[s], "chunks"));
    if (n == 0)
        return;
    candidate_t *c = calloc(n, sizeof *c);
    if (!c)
        return;
    size_t m = 0;
    double max_bm25 = 0, max_uses = 0;
    unsigned sig = qs->q.signals;
    for (int s = 0; s < qs->shards; s++) {
        const cJSON *chunk;
        cJSON_ArrayForEach(chunk, cJSON_GetObjectItemCaseSensitive(qs->answers[s], "chunks")) {
            const cJSON *signals = cJSON_GetObjectItemCaseSensitive(chunk, "signals");
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(chunk, "path");
            if (!cJSON_IsString(path) || m == n)
                continue;
            candidate_t *x = &c[m++];
            x->json = chunk;
            x->path = path->valuestring;
            x->dense = sig & SIGNAL_DENSE ? number(signals, "dense") : 0;
            x->bm25 = sig & SIGNAL_BM25 ? number(signals, "bm25") : 0;
            x->symbol = sig & SIGNAL_SYMBOL ? number(signals, "symbol") : 0;
            double imp = number(signals, "import");
            x->import = sig & SIGNAL_IMPORT ? (imp == 1 ? 1.0 : imp == 2 ? 0.4 : 0) : 0;
            x->object = sig & SIGNAL_OBJECT ? number(signals, "object") : 0;
            x->uses = sig & SIGNAL_USES ? number(signals, "uses") : 0;
            /* A preamble "defines" the names it imports (`const X =
             * require(...)`): never a definition to offer for them. */
            const cJSON *kind = cJSON_GetObjectItemCaseSensitive(chunk, "kind");
            bool preamble = cJSON_IsString(kind) && !strcmp(kind->valuestring, "preamble");
            if (preamble)
                x->symbol = 0;
            else if (sig & SIGNAL_SYMBOL)
                import_match(qs, cJSON_GetObjectItemCaseSensitive(chunk, "symbols"), x);
            if (x->bm25 > max_bm25)
                max_bm25 = x->bm25;
            if (x->uses > max_uses)
                max_uses = x->uses;
        }
    }
    /* Typing a member of an imported module: its definitions lead, and the
     * file's other imports matter less than usual. */
    double w_object = weights.object * (qs->object_imported ? 3.0 : 1.0);
    double w_fresh = weights.fresh * (qs->object_imported ? 0.2 : 1.0);
    for (size_t i = 0; i < m; i++) {
        candidate_t *x = &c[i];
        double sym = x->symbol > 3 ? 1.0 : x->symbol / 3.0;
        x->score = weights.dense * x->dense +
                   weights.bm25 * (max_bm25 > 0 ? x->bm25 / max_bm25 : 0) + weights.symbol * sym +
                   weights.import * x->import + w_object * (x->object > 0 ? 1.0 : 0) +
                   weights.uses * (max_uses > 0 ? log1p(x->uses) / log1p(max_uses) : 0) +
                   w_fresh * x->fresh + weights.imported * x->imported;
        /* A candidate no wanted signal found stays out (ablations). */
        if (x->dense == 0 && x->bm25 == 0 && sym == 0 && x->import == 0 && x->object == 0)
            x->score = -1;
    }
    qsort(c, m, sizeof *c, by_score);

    h2o_mem_pool_t *pool = &qs->ctx->req->pool;
    qs->result.chunks = h2o_mem_alloc_pool(pool, sizeof *qs->result.chunks * (size_t)qs->q.k);
    size_t out = 0;
    for (size_t i = 0; i < m && out < (size_t)qs->q.k; i++) {
        if (c[i].score < 0)
            break;
        int same_file = 0;
        for (size_t j = 0; j < out; j++)
            same_file += !strcmp(qs->result.chunks[j].path, c[i].path);
        if (same_file >= per_file)
            continue;
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c[i].json, "text");
        const char *t = cJSON_IsString(text) ? text->valuestring : "";
        size_t tl = strlen(t);
        if (already_in_prompt(qs, t, tl))
            continue;
        const cJSON *lang = cJSON_GetObjectItemCaseSensitive(c[i].json, "language");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c[i].json, "kind");
        context_chunk_t *r = &qs->result.chunks[out++];
        r->path = pool_strdup(pool, c[i].path, strlen(c[i].path));
        r->start_line = (int)number(c[i].json, "start_line");
        r->end_line = (int)number(c[i].json, "end_line");
        r->language = cJSON_IsString(lang)
                          ? pool_strdup(pool, lang->valuestring, strlen(lang->valuestring))
                          : "";
        r->kind = cJSON_IsString(kind)
                      ? pool_strdup(pool, kind->valuestring, strlen(kind->valuestring))
                      : "";
        r->score = c[i].score;
        r->text = pool_strdup(pool, t, tl);
        r->text_len = tl;
    }
    qs->result.count = out;
    free(c);
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
    metrics_retrieval(qs->result.elapsed_ms);
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

/* Embeds the query (if wanted) and searches every shard. */
static void go(query_t *qs) {
    features(qs);
    if ((qs->q.signals & SIGNAL_DENSE) && qs->query_text_len) {
        static const bridge_callbacks_t callbacks = {NULL, on_embed_final, on_embed_error};
        buf_t payload = BUF_INIT;
        texts_append(&payload, qs->query_text, qs->query_text_len);
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
    qs->shards = ctx->gateway->shards > MAX_SHARDS ? MAX_SHARDS : ctx->gateway->shards;
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

/* ---- routes ---- */

typedef struct {
    cJSON *body;
} body_t;

static void body_dispose(void *p) {
    cJSON_Delete(((body_t *)p)->body);
}

static const char *string_field(const cJSON *body, const char *key, size_t *len, bool *bad) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    if (len)
        *len = strlen(v->valuestring);
    return v->valuestring;
}

static void on_context_done(http_ctx_t *ctx, const context_result_t *r, void *arg) {
    (void)arg;
    if (r->status != 200) {
        /* 204 is "no context": nothing indexed (404), or no list of the
         * collections yet within the request's deadline (504). */
        int status = r->status != 204 ? r->status : r->timed_out ? 504 : 404;
        http_error(ctx, status, NULL, r->message);
        return;
    }
    buf_t out = BUF_INIT;
    buf_append_str(&out, "{\"collection\":");
    buf_append_json_string(&out, r->collection, strlen(r->collection));
    buf_append_str(&out, ",\"root\":");
    buf_append_json_string(&out, r->root, strlen(r->root));
    buf_printf(&out, ",\"elapsed_ms\":%.3f,\"shards_missing\":%d,\"chunks\":[", r->elapsed_ms,
               r->shards_missing);
    for (size_t i = 0; i < r->count; i++) {
        const context_chunk_t *c = &r->chunks[i];
        buf_append_str(&out, i ? ",{\"path\":" : "{\"path\":");
        buf_append_json_string(&out, c->path, strlen(c->path));
        buf_printf(&out, ",\"start_line\":%d,\"end_line\":%d,\"language\":", c->start_line,
                   c->end_line);
        buf_append_json_string(&out, c->language, strlen(c->language));
        buf_printf(&out, ",\"score\":%.4f,\"text\":", c->score);
        buf_append_json_string(&out, c->text, c->text_len);
        buf_append_str(&out, "}");
    }
    buf_append_str(&out, "]}");
    http_reply(ctx, 200, "application/json; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

int context_handle(http_ctx_t *ctx) {
    h2o_iovec_t entity = ctx->req->entity;
    char why[128];
    if (!entity.base || json_check(entity.base, entity.len, true, why, sizeof why) != 0) {
        char message[200];
        snprintf(message, sizeof message, "the body must be a JSON object: %s",
                 entity.base ? why : "empty body");
        http_error(ctx, 400, NULL, message);
        return 0;
    }
    body_t *holder = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *holder, body_dispose);
    holder->body = cJSON_ParseWithLength(entity.base, entity.len);
    const cJSON *body = holder->body;
    context_query_t q = {.deadline_ms = 2000};
    bool bad = false;
    q.query = string_field(body, "query", &q.query_len, &bad);
    q.prefix = string_field(body, "prefix", &q.prefix_len, &bad);
    q.suffix = string_field(body, "suffix", &q.suffix_len, &bad);
    q.path = string_field(body, "path", NULL, &bad);
    q.collection = string_field(body, "collection", NULL, &bad);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(body, "k");
    if (k && !(cJSON_IsNumber(k) && k->valuedouble >= 1 && k->valuedouble <= 100))
        bad = true;
    q.k = k ? (int)k->valuedouble : 10;
    const cJSON *deadline = cJSON_GetObjectItemCaseSensitive(body, "deadline_ms");
    if (cJSON_IsNumber(deadline) && deadline->valuedouble >= 1 && deadline->valuedouble <= 60000)
        q.deadline_ms = (int)deadline->valuedouble;
    const cJSON *signals = cJSON_GetObjectItemCaseSensitive(body, "signals"), *sig;
    if (signals && !cJSON_IsArray(signals))
        bad = true;
    cJSON_ArrayForEach(sig, signals) {
        const char *name = cJSON_IsString(sig) ? sig->valuestring : "";
        unsigned bit = !strcmp(name, "dense")       ? SIGNAL_DENSE
                       : !strcmp(name, "bm25")      ? SIGNAL_BM25
                       : !strcmp(name, "structure") ? SIGNAL_STRUCTURE
                       : !strcmp(name, "symbol")    ? SIGNAL_SYMBOL
                       : !strcmp(name, "import")    ? SIGNAL_IMPORT
                       : !strcmp(name, "object")    ? SIGNAL_OBJECT
                       : !strcmp(name, "uses")      ? SIGNAL_USES
                                                    : 0;
        if (!bit) {
            http_error(ctx, 400, NULL,
                       "unknown signal (use dense, bm25, structure, symbol, import, object, uses)");
            return 0;
        }
        q.signals |= bit;
    }
    if (bad) {
        http_error(ctx, 400, NULL,
                   "query, prefix, suffix, path and collection must be strings, k a number from "
                   "1 to 100, signals an array of names");
        return 0;
    }
    if (!q.query_len && !q.prefix_len && !q.suffix_len) {
        http_error(ctx, 400, NULL, "send a query (chat) or a prefix/suffix (completion)");
        return 0;
    }
    context_retrieve(ctx, &q, on_context_done, NULL);
    return 0;
}

/* GET /api/collections waits for a refresh, so that a collection seeded a
 * moment ago is listed. */
typedef struct {
    http_ctx_t *ctx;
    collections_waiter_t waiter;
} list_t;

static void list_dispose(void *p) {
    collections_cancel_wait(&((list_t *)p)->waiter);
}

static void on_list_ready(collections_waiter_t *w, const collections_t *snapshot) {
    list_t *list = H2O_STRUCT_FROM_MEMBER(list_t, waiter, w);
    buf_t out = BUF_INIT;
    buf_append_str(&out, "{\"collections\":");
    collections_append_json(snapshot, &out);
    buf_printf(&out, ",\"shards_missing\":%d}", snapshot->shards_missing);
    http_reply(list->ctx, 200, "application/json; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

int collections_handle(http_ctx_t *ctx) {
    list_t *list = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *list, list_dispose);
    memset(list, 0, sizeof *list);
    list->ctx = ctx;
    list->waiter.on_ready = on_list_ready;
    collections_wait(cache_of(ctx), &list->waiter);
    return 0;
}
