/*
 * Model windows (see window.h): two pure parsers, the rule, and a small
 * cache of what Ollama said, filled through the generator.
 *
 * A lookup is one request's: its two calls (/api/show, /api/ps) are tracked
 * by the request (http_call), so a client that leaves cancels them and no
 * callback sees freed memory.  The cache entry outlives the request; the
 * lookup only writes into it, found again by name, when both calls ended.
 */
#include "gateway/window.h"

#include "gateway/gateway.h"
#include "proto/base/clock.h"
#include "proto/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_NAME_MAX 200

/* ---- parsing ---- */

/* A positive whole number that fits a long, from a JSON number. */
static long positive(const cJSON *item) {
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= 1) || item->valuedouble > 1e9)
        return 0;
    return (long)item->valuedouble;
}

long window_asked(const cJSON *options) {
    return positive(cJSON_GetObjectItemCaseSensitive(options, "num_ctx"));
}

/* The value of a "num_ctx" line of Ollama's "parameters" text ("num_ctx
 * 8192", the name padded with spaces), 0 when there is none. */
static long parameter_num_ctx(const char *text) {
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n > 7 && memcmp(line, "num_ctx", 7) == 0 && (line[7] == ' ' || line[7] == '\t')) {
            char number[24];
            size_t k = 7;
            while (k < n && (line[k] == ' ' || line[k] == '\t'))
                k++;
            size_t digits = 0;
            while (k + digits < n && digits < sizeof number - 1 && line[k + digits] >= '0' &&
                   line[k + digits] <= '9')
                digits++;
            memcpy(number, line + k, digits);
            number[digits] = '\0';
            long v = digits && digits < 10 ? strtol(number, NULL, 10) : 0;
            return v > 0 ? v : 0;
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

bool window_parse_show(const char *body, size_t len, window_facts_t *facts) {
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return false;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "parameters");
    facts->num_ctx = cJSON_IsString(params) ? parameter_num_ctx(params->valuestring) : 0;
    facts->trained = 0;
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(j, "model_info"), *item;
    if (!cJSON_IsObject(info))
        info = NULL;
    cJSON_ArrayForEach(item, info) {
        /* "<arch>.context_length": the one key with that ending */
        size_t n = item->string ? strlen(item->string) : 0;
        if (n > 15 && strcmp(item->string + n - 15, ".context_length") == 0) {
            facts->trained = positive(item);
            break;
        }
    }
    cJSON_Delete(j);
    return true;
}

/* Whether a and b name one model, ":latest" implied where a name has no tag. */
static bool same_model(const char *a, const char *b) {
    size_t na = strcspn(a, ":"), nb = strcspn(b, ":");
    const char *ta = a[na] ? a + na + 1 : "latest", *tb = b[nb] ? b + nb + 1 : "latest";
    return na == nb && strncmp(a, b, na) == 0 && strcmp(ta, tb) == 0;
}

bool window_parse_ps(const char *body, size_t len, const char *model, window_facts_t *facts) {
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return false;
    }
    facts->loaded = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "models")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "model"));
        if ((name && same_model(name, model)) || (id && same_model(id, model))) {
            facts->loaded = positive(cJSON_GetObjectItemCaseSensitive(m, "context_length"));
            break;
        }
    }
    cJSON_Delete(j);
    return true;
}

long window_tokens(const window_facts_t *facts, long asked, long explicit_asked) {
    long w = asked > 0                                              ? asked
             : facts->num_ctx > 0                                   ? facts->num_ctx
             : facts->loaded > 0 && facts->loaded != explicit_asked ? facts->loaded
                                                                    : WINDOW_DEFAULT;
    if (facts->trained > 0 && w > facts->trained)
        w = facts->trained;
    return w < 4 ? 4 : w; /* Ollama's least */
}

/* ---- the cache ---- */

typedef struct {
    char model[MODEL_NAME_MAX]; /* "" : free */
    window_facts_t facts;
    bool answered;      /* Ollama answered /api/show for it */
    int64_t fetched_ms; /* when facts were last written (0: never) */
    int64_t used_ms;
    long explicit_asked;   /* the last options.num_ctx a client sent for it */
    int64_t refreshing_ms; /* when a lookup started that has not ended (0: none); a
                              request freed mid-way never ends its lookup, so one
                              older than WINDOW_RETRY_MS counts as over */
} entry_t;

static entry_t cache[WINDOW_MODELS];

void window_forget_all(void) {
    memset(cache, 0, sizeof cache);
}

static entry_t *entry_find(const char *model) {
    for (size_t i = 0; i < WINDOW_MODELS; i++)
        if (cache[i].model[0] && strcmp(cache[i].model, model) == 0)
            return &cache[i];
    return NULL;
}

/* The entry for model, made (over the least recently used) when missing. */
static entry_t *entry_take(const char *model, int64_t now) {
    entry_t *e = entry_find(model);
    if (e)
        return e;
    e = &cache[0];
    for (size_t i = 0; i < WINDOW_MODELS; i++) {
        if (!cache[i].model[0]) {
            e = &cache[i];
            break;
        }
        if (cache[i].used_ms < e->used_ms)
            e = &cache[i];
    }
    memset(e, 0, sizeof *e);
    snprintf(e->model, sizeof e->model, "%s", model);
    e->used_ms = now;
    return e;
}

/* ---- a lookup ---- */

typedef struct {
    http_ctx_t *ctx;
    char model[MODEL_NAME_MAX];
    long asked;
    window_done_t done; /* NULL: a refresh nobody waits for */
    void *arg;
    uint64_t show_call, ps_call;
    int pending;
    window_facts_t facts;
    bool show_ok, ps_ok;
} lookup_t;

static void lookup_end(lookup_t *l) {
    if (--l->pending > 0)
        return;
    entry_t *e = entry_find(l->model);
    int64_t now = clock_ms();
    if (!e)
        e = entry_take(l->model, now);
    e->refreshing_ms = 0;
    if (l->show_ok) {
        e->facts.num_ctx = l->facts.num_ctx;
        e->facts.trained = l->facts.trained;
        e->answered = true;
    }
    if (l->ps_ok)
        e->facts.loaded = l->facts.loaded;
    /* A model Ollama did not answer for is asked again soon, not at once. */
    e->fetched_ms = l->show_ok ? now : now - WINDOW_FRESH_MS + WINDOW_RETRY_MS;
    long w = window_tokens(&e->facts, l->asked, e->explicit_asked);
    log_debug("req=%s window of %s: %ld tokens (num_ctx %ld, trained %ld, loaded %ld)", l->ctx->rid,
              l->model, w, e->facts.num_ctx, e->facts.trained, e->facts.loaded);
    if (l->done)
        l->done(l->arg, w);
}

/* The call's answer: its status from the FINAL's header, the body. */
static int answer_status(const proto_msg_t *msg) {
    cJSON *h = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, "status");
    int status = cJSON_IsNumber(s) ? (int)s->valuedouble : 200;
    cJSON_Delete(h);
    return status;
}

static void on_show_final(void *arg, const proto_msg_t *msg) {
    lookup_t *l = arg;
    http_untrack(l->ctx, l->show_call);
    l->show_call = 0;
    l->show_ok = answer_status(msg) == 200 && msg->payload &&
                 window_parse_show(msg->payload, msg->payload_len, &l->facts);
    lookup_end(l);
}

static void on_show_error(void *arg, int status, const char *message) {
    lookup_t *l = arg;
    http_untrack(l->ctx, l->show_call);
    l->show_call = 0;
    log_debug("req=%s /api/show for the window: %d %s", l->ctx->rid, status, message);
    lookup_end(l);
}

static void on_ps_final(void *arg, const proto_msg_t *msg) {
    lookup_t *l = arg;
    http_untrack(l->ctx, l->ps_call);
    l->ps_call = 0;
    l->ps_ok = answer_status(msg) == 200 && msg->payload &&
               window_parse_ps(msg->payload, msg->payload_len, l->model, &l->facts);
    lookup_end(l);
}

static void on_ps_error(void *arg, int status, const char *message) {
    lookup_t *l = arg;
    http_untrack(l->ctx, l->ps_call);
    l->ps_call = 0;
    log_debug("req=%s /api/ps for the window: %d %s", l->ctx->rid, status, message);
    lookup_end(l);
}

/* Starts both calls; false when neither could start (nothing will run). */
static bool lookup_start(lookup_t *l, int timeout_ms) {
    static const bridge_callbacks_t show_callbacks = {NULL, on_show_final, on_show_error};
    static const bridge_callbacks_t ps_callbacks = {NULL, on_ps_final, on_ps_error};
    char header[200], body[MODEL_NAME_MAX + 32];
    buf_t json = BUF_INIT;
    buf_append_str(&json, "{\"model\":");
    buf_append_json_string(&json, l->model, strlen(l->model));
    buf_append_str(&json, "}");
    snprintf(body, sizeof body, "%s", json.data ? json.data : "{}");
    buf_free(&json);
    /* Counted first, so that a call answered at once cannot end the lookup
     * while the other is being made. */
    l->pending = 3;
    snprintf(header, sizeof header,
             "{\"method\":\"POST\",\"path\":\"/api/show\",\"stream\":false,\"rid\":\"%s\","
             "\"timeout_ms\":%d}",
             l->ctx->rid, timeout_ms);
    l->show_call =
        http_call(l->ctx, "generate", header, body, strlen(body), timeout_ms, &show_callbacks, l);
    if (!l->show_call)
        l->pending--;
    snprintf(header, sizeof header,
             "{\"method\":\"GET\",\"path\":\"/api/ps\",\"stream\":false,\"rid\":\"%s\","
             "\"timeout_ms\":%d}",
             l->ctx->rid, timeout_ms);
    l->ps_call = http_call(l->ctx, "generate", header, NULL, 0, timeout_ms, &ps_callbacks, l);
    if (!l->ps_call)
        l->pending--;
    if (l->pending == 1) { /* neither started */
        l->pending = 0;
        return false;
    }
    lookup_end(l); /* the third count: both calls are out */
    return true;
}

bool window_get(http_ctx_t *ctx, const char *model, const cJSON *options, int timeout_ms,
                window_done_t done, void *arg, long *window) {
    long asked = window_asked(options);
    int64_t now = clock_ms();
    if (!model || !*model || strlen(model) >= MODEL_NAME_MAX) {
        *window = asked > 0 ? asked : WINDOW_DEFAULT;
        return true;
    }
    entry_t *e = entry_take(model, now);
    e->used_ms = now;
    if (asked > 0)
        e->explicit_asked = asked;
    /* Facts are sure when Ollama named a window (the model's num_ctx, or
     * the loaded model's): they serve WINDOW_FRESH_MS.  A model it knows
     * but has not loaded tells nothing of the server's default yet: asked
     * again, and waited for, after WINDOW_UNSURE_MS.  When Ollama did not
     * answer, the default serves until WINDOW_RETRY_MS. */
    bool known = e->fetched_ms > 0;
    bool sure = known && (!e->answered || e->facts.num_ctx > 0 || e->facts.loaded > 0);
    int64_t age = now - e->fetched_ms;
    bool fresh = known && age < (sure ? WINDOW_FRESH_MS : WINDOW_UNSURE_MS);
    if (asked > 0 || fresh || sure) {
        *window = window_tokens(&e->facts, asked, e->explicit_asked);
        bool refreshing = e->refreshing_ms && now - e->refreshing_ms < WINDOW_RETRY_MS;
        if (!fresh && !refreshing) { /* refreshed on the side, for the next requests */
            lookup_t *l = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *l);
            memset(l, 0, sizeof *l);
            l->ctx = ctx;
            snprintf(l->model, sizeof l->model, "%s", model);
            l->asked = asked;
            e->refreshing_ms = lookup_start(l, timeout_ms) ? now : 0;
        }
        return true;
    }
    lookup_t *l = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *l);
    memset(l, 0, sizeof *l);
    l->ctx = ctx;
    snprintf(l->model, sizeof l->model, "%s", model);
    l->asked = asked;
    l->done = done;
    l->arg = arg;
    /* lookup_start may end the lookup at once (both calls refused): then
     * done has not run yet, and the answer is the default. */
    if (!lookup_start(l, timeout_ms)) {
        *window = WINDOW_DEFAULT;
        return true;
    }
    e->refreshing_ms = now;
    return false;
}
