/*
 * Retrieval-augmented prompts (see rag.h).
 *
 * The request body is Ollama's native shape by the time it gets here (the
 * OpenAI adapters translated it), so there are two cases only: "messages"
 * (chat) and "prompt" (+ "suffix", "raw") (completion).  Everything that
 * parses client text here treats it as untrusted: offsets are checked,
 * nothing is assumed NUL-free beyond what cJSON guarantees.
 */
#include "gateway/rag.h"

#include "gateway/context.h"
#include "gateway/fim.h"
#include "gateway/history.h"
#include "proto/base/buf.h"
#include "proto/base/log.h"
#include "proto/base/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RAG_K 8
#define HEADER_MAX 2048

typedef struct {
    http_ctx_t *ctx;
    api_request_t *request;
    rag_go_t go;
    rag_fail_t fail;
    void *arg;
    bool explicit_collection;
    /* completion */
    fim_t fim;
    const char *prompt;
    size_t prompt_len;
    char *path; /* the current file, when the request names it */
} rag_t;

static bool rag_enabled(const cJSON *body) {
    cJSON *options = cJSON_GetObjectItemCaseSensitive(body, "options");
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(options, "lca_rag");
    bool on = !cJSON_IsFalse(flag);
    if (flag) /* ours, not Ollama's: it never goes upstream, even with LCA_RAG=off */
        cJSON_DeleteItemFromObjectCaseSensitive(options, "lca_rag");
    const char *env = getenv("LCA_RAG");
    if (env && (!strcasecmp(env, "off") || !strcmp(env, "0") || !strcasecmp(env, "false")))
        return false;
    return on;
}

size_t rag_context_header(char *out, size_t cap, const context_result_t *r, const bool *used) {
    size_t count = 0;
    for (size_t i = 0; i < r->count; i++)
        count += !used || used[i];
    int head = snprintf(out, cap, "%zu chunk%s", count, count == 1 ? "" : "s");
    if (head < 0 || (size_t)head >= cap)
        return 0;
    size_t n = (size_t)head, listed = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (used && !used[i])
            continue;
        char item[HEADER_MAX];
        int len = snprintf(item, sizeof item, "%s:%d-%d", r->chunks[i].path,
                           r->chunks[i].start_line, r->chunks[i].end_line);
        /* Room for the separator, this item and, should more follow, for
         * ", +N more". */
        size_t reserve = listed + 1 < count ? 32 : 0;
        if (len < 0 || (size_t)len >= sizeof item || n + 2 + (size_t)len + reserve >= cap)
            break;
        memcpy(out + n, listed ? ", " : ": ", 2);
        n += 2;
        for (int k = 0; k < len; k++) /* printable ASCII; a comma only between items */
            out[n++] = item[k] >= 0x20 && item[k] < 0x7f && item[k] != ',' ? item[k] : '?';
        listed++;
    }
    if (listed < count) {
        int more = snprintf(out + n, cap - n, "%s+%zu more", listed ? ", " : ": ", count - listed);
        n = more > 0 && n + (size_t)more < cap ? n + (size_t)more : n;
    }
    out[n] = '\0';
    return n;
}

/* Sets X-LCA-Context (see rag.h). */
static void set_context_header(http_ctx_t *ctx, const context_result_t *r, const bool *used) {
    char value[HEADER_MAX];
    size_t n = rag_context_header(value, sizeof value, r, used);
    h2o_add_header_by_str(&ctx->req->pool, &ctx->req->res.headers, H2O_STRLIT("x-lca-context"), 0,
                          NULL, h2o_strdup(&ctx->req->pool, value, n).base, n);
    history_context(ctx->history_id, r, used); /* the status page shows what the model got */
}

static void go_on(rag_t *rag) {
    rag->go(rag->arg);
}

/* A collection the client named that does not exist is its mistake (404);
 * no collection at all, or a retrieval that failed, lets the request go on
 * without context. */
static bool handle_failure(rag_t *rag, const context_result_t *r) {
    if (r->status == 200)
        return false;
    if (r->status == 404 && rag->explicit_collection) {
        rag->fail(rag->arg, 404, r->message);
        return true;
    }
    if (r->status != 204)
        log_warn("req=%s no context: %d %s", rag->ctx->rid, r->status, r->message);
    set_context_header(rag->ctx, &(context_result_t){0}, NULL);
    go_on(rag);
    return true;
}

/* ---- chat ---- */

static void on_chat_context(http_ctx_t *ctx, const context_result_t *r, void *arg) {
    rag_t *rag = arg;
    if (handle_failure(rag, r))
        return;
    long budget = settings_env_long("LCA_RAG_CHAT_BUDGET", 6000, 0, 1 << 20);
    bool *used = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *used * (r->count + 1));
    buf_t text = BUF_INIT;
    buf_printf(&text,
               "Code from the repository %s that may help (path and line range, then the "
               "code):\n",
               r->collection);
    size_t header_len = text.len, n = 0;
    for (size_t i = 0; i < r->count; i++) {
        const context_chunk_t *c = &r->chunks[i];
        size_t before = text.len;
        buf_printf(&text, "\n%s:%d-%d\n```%s\n", c->path, c->start_line, c->end_line, c->language);
        buf_append(&text, c->text, c->text_len);
        if (c->text_len && c->text[c->text_len - 1] != '\n')
            buf_append(&text, "\n", 1);
        buf_append_str(&text, "```\n");
        used[i] = text.len - header_len <= (size_t)budget;
        if (!used[i]) {
            text.len = before;
            text.data[before] = '\0';
            continue;
        }
        n++;
    }
    set_context_header(ctx, r, used);
    if (n > 0) {
        /* After the client's own system messages, before the conversation. */
        cJSON *messages = cJSON_GetObjectItemCaseSensitive(rag->request->body, "messages");
        int at = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, messages) {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            if (!cJSON_IsString(role) || strcmp(role->valuestring, "system") != 0)
                break;
            at++;
        }
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "system");
        cJSON_AddStringToObject(msg, "content", text.data);
        /* Rebuilt rather than cJSON_InsertItemInArray: Debian 12's cJSON
         * (1.7.15-1+deb12u4) refuses to insert anywhere but at the head
         * (returns false, and the item would leak). */
        cJSON *rebuilt = cJSON_CreateArray();
        for (int i = 0; messages && messages->child; i++) {
            if (i == at)
                cJSON_AddItemToArray(rebuilt, msg);
            cJSON_AddItemToArray(rebuilt, cJSON_DetachItemFromArray(messages, 0));
        }
        if (cJSON_GetArraySize(rebuilt) <= at) /* only system messages, or none */
            cJSON_AddItemToArray(rebuilt, msg);
        cJSON_ReplaceItemInObjectCaseSensitive(rag->request->body, "messages", rebuilt);
    }
    buf_free(&text);
    go_on(rag);
}

/* A path the text names: "File Path: /abs", a ```ext:/abs fence, or the
 * <project_path> of ProxyAI's system prompt (as "<root>/"). */
static char *path_hint(h2o_mem_pool_t *pool, const char *text) {
    const char *p;
    if ((p = strstr(text, "File Path: ")) != NULL) {
        p += 11;
        size_t n = strcspn(p, "\r\n");
        return n ? h2o_strdup(pool, p, n).base : NULL;
    }
    for (p = strstr(text, "```"); p; p = strstr(p + 3, "```")) {
        const char *colon = p + 3;
        size_t word = strcspn(colon, ":\r\n `");
        if (colon[word] == ':' && colon[word + 1] == '/') {
            size_t n = strcspn(colon + word + 1, "\r\n");
            return h2o_strdup(pool, colon + word + 1, n).base;
        }
    }
    if ((p = strstr(text, "<project_path>")) != NULL) {
        p += 14;
        p += strspn(p, " \r\n\t");
        size_t n = strcspn(p, "<\r\n");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '/'))
            n--;
        if (n) {
            char *s = h2o_mem_alloc_pool(pool, n + 2);
            memcpy(s, p, n);
            memcpy(s + n, "/", 2);
            return s;
        }
    }
    return NULL;
}

static void prepare_chat(rag_t *rag, context_query_t *q) {
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(rag->request->body, "messages");
    const cJSON *m, *last_user = NULL;
    char *hint = NULL;
    h2o_mem_pool_t *pool = &rag->ctx->req->pool;
    cJSON_ArrayForEach(m, messages) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(role) || !cJSON_IsString(content))
            continue;
        if (!strcmp(role->valuestring, "user"))
            last_user = content;
        if (!strcmp(role->valuestring, "system") && !hint)
            hint = path_hint(pool, content->valuestring);
    }
    if (!last_user || !last_user->valuestring[0]) {
        go_on(rag);
        return;
    }
    char *user_hint = path_hint(pool, last_user->valuestring);
    q->query = last_user->valuestring;
    q->query_len = strlen(last_user->valuestring);
    q->path = user_hint ? user_hint : hint;
    q->deadline_ms = (int)settings_env_long("LCA_RAG_CHAT_MS", 300, 1, 60000);
    context_retrieve(rag->ctx, q, on_chat_context, rag);
}

/* ---- completion ---- */

static void on_completion_context(http_ctx_t *ctx, const context_result_t *r, void *arg) {
    rag_t *rag = arg;
    if (handle_failure(rag, r))
        return;
    long budget = settings_env_long("LCA_RAG_COMPLETION_BUDGET", 4000, 0, 1 << 20);
    bool *used = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *used * (r->count + 1));
    buf_t context = BUF_INIT;
    size_t n = fim_context(rag->fim.family, r->chunks, r->count, r->collection, rag->path,
                           (size_t)budget, &context, used);
    set_context_header(ctx, r, used);
    if (n > 0) {
        buf_t prompt = BUF_INIT;
        fim_rebuild(&rag->fim, rag->prompt, rag->prompt_len, context.data, context.len, &prompt);
        cJSON_ReplaceItemInObjectCaseSensitive(rag->request->body, "prompt",
                                               cJSON_CreateString(prompt.data ? prompt.data : ""));
        buf_free(&prompt);
    }
    buf_free(&context);
    go_on(rag);
}

static void prepare_completion(rag_t *rag, context_query_t *q) {
    cJSON *body = rag->request->body;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(body, "prompt");
    const cJSON *suffix = cJSON_GetObjectItemCaseSensitive(body, "suffix");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(body, "raw");
    if (!cJSON_IsString(prompt) || !prompt->valuestring[0]) {
        go_on(rag); /* an empty prompt loads the model: nothing to retrieve for */
        return;
    }
    rag->prompt = prompt->valuestring;
    rag->prompt_len = strlen(prompt->valuestring);
    if (cJSON_IsTrue(raw) && fim_parse(rag->prompt, rag->prompt_len, &rag->fim) != FIM_NONE) {
        q->prefix = rag->prompt + rag->fim.prefix_at;
        q->prefix_len = rag->fim.prefix_len;
        q->suffix = rag->prompt + rag->fim.suffix_at;
        q->suffix_len = rag->fim.suffix_len;
    } else {
        /* prompt (+ suffix): the context goes at the start of the prompt,
         * where Ollama's template puts the prefix. */
        memset(&rag->fim, 0, sizeof rag->fim);
        rag->fim.prefix_len = rag->prompt_len;
        q->prefix = rag->prompt;
        q->prefix_len = rag->prompt_len;
        q->suffix = cJSON_IsString(suffix) ? suffix->valuestring : "";
        q->suffix_len = strlen(q->suffix);
    }
    size_t skip = fim_skip_diff_comment(q->prefix, q->prefix_len);
    q->prefix += skip;
    q->prefix_len -= skip;
    h2o_iovec_t path = http_header(rag->ctx->req, "x-lca-path");
    if (path.len)
        rag->path = h2o_strdup(&rag->ctx->req->pool, path.base, path.len).base;
    q->path = rag->path;
    q->deadline_ms = (int)settings_env_long("LCA_RAG_COMPLETION_MS", 40, 1, 60000);
    context_retrieve(rag->ctx, q, on_completion_context, rag);
}

void rag_prepare(http_ctx_t *ctx, api_request_t *request, rag_go_t go, rag_fail_t fail, void *arg) {
    if (!rag_enabled(request->body)) {
        go(arg);
        return;
    }
    rag_t *rag = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *rag);
    memset(rag, 0, sizeof *rag);
    rag->ctx = ctx;
    rag->request = request;
    rag->go = go;
    rag->fail = fail;
    rag->arg = arg;
    rag->explicit_collection =
        ctx->collection.len > 0 || http_header(ctx->req, "x-lca-collection").len > 0;
    context_query_t q = {.k = RAG_K, .quiet_unknown = true};
    if (request->kind == API_CHAT)
        prepare_chat(rag, &q);
    else
        prepare_completion(rag, &q);
}
