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
#include "gateway/session.h"
#include "gateway/tokens.h"
#include "gateway/window.h"
#include "proto/base/buf.h"
#include "proto/base/clock.h"
#include "proto/base/log.h"
#include "proto/base/settings.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define RAG_K 8
#define HEADER_MAX 2048
#define COMPLETION_REPLY 256 /* tokens kept for the reply when num_predict does not say */
#define CHAT_REPLY_MAX 1024  /* ... for a chat, at most (a quarter of the window at least) */
#define TEMPLATE_TOKENS 32   /* what a model's template adds around prompt and suffix */
#define MESSAGE_TOKENS 8     /* ... around each chat message */
#define BLOCK_CHARS 200      /* a context block's own lines (repository, current file) */
#define BLOCK_TOKENS 64      /* ... in tokens */

/* What a request lets the gateway do to its prompt: the settings, then the
 * request's own "lca_*" options, which never go upstream. */
typedef struct {
    bool rag;            /* LCA_RAG, lca_rag: retrieval at all */
    bool hold;           /* LCA_RAG_HOLD, lca_hold: the context holds still */
    size_t restore;      /* LCA_RAG_RESTORE_TOKENS, lca_restore: the head put back, at most */
    long window;         /* LCA_RAG_WINDOW, lca_window: 0 learn it, -1 no budget, else fixed */
    size_t suffix;       /* LCA_RAG_SUFFIX_TOKENS, lca_suffix: the suffix kept (0: all) */
    bool family_by_name; /* LCA_RAG_FIM_BY_NAME, lca_fim_by_name */
} rules_t;

static bool env_off(const char *name) {
    const char *v = getenv(name);
    return v && (!strcasecmp(v, "off") || !strcmp(v, "0") || !strcasecmp(v, "false"));
}

/* Takes the option out of options; false only when it is false. */
static bool option_take(cJSON *options, const char *name) {
    cJSON *flag = cJSON_GetObjectItemCaseSensitive(options, name);
    bool on = !cJSON_IsFalse(flag);
    if (flag)
        cJSON_DeleteItemFromObjectCaseSensitive(options, name);
    return on;
}

static rules_t rules_read(cJSON *body) {
    cJSON *options = cJSON_GetObjectItemCaseSensitive(body, "options");
    rules_t r = {0};
    /* every option is taken out, whatever the settings say */
    bool rag = option_take(options, "lca_rag"), hold = option_take(options, "lca_hold"),
         restore = option_take(options, "lca_restore"), window = option_take(options, "lca_window"),
         suffix = option_take(options, "lca_suffix"),
         by_name = option_take(options, "lca_fim_by_name");
    r.rag = rag && !env_off("LCA_RAG");
    r.hold = hold && !env_off("LCA_RAG_HOLD");
    r.restore = restore ? (size_t)settings_env_long("LCA_RAG_RESTORE_TOKENS", 1024, 0, 1 << 20) : 0;
    if (!window || env_off("LCA_RAG_WINDOW"))
        r.window = -1;
    else if (getenv("LCA_RAG_WINDOW") && strcasecmp(getenv("LCA_RAG_WINDOW"), "auto") != 0)
        r.window = settings_env_long("LCA_RAG_WINDOW", 0, 0, 1 << 24);
    r.suffix = suffix ? (size_t)settings_env_long("LCA_RAG_SUFFIX_TOKENS", 128, 0, 1 << 20) : 0;
    r.family_by_name = by_name && !env_off("LCA_RAG_FIM_BY_NAME");
    return r;
}

typedef struct rag rag_t;
typedef void (*rag_build_t)(rag_t *rag);

struct rag {
    http_ctx_t *ctx;
    api_request_t *request;
    rag_go_t go;
    rag_fail_t fail;
    void *arg;
    rules_t rules;
    bool explicit_collection;
    tokens_family_t tokens;
    /* what the prompt waits for */
    int pending;   /* the retrieval, the window */
    bool finished; /* go or fail ran */
    rag_build_t build;
    const context_result_t *result;
    long window; /* tokens; LONG_MAX: no budget */
    /* completion */
    fim_t fim;
    const char *prompt;
    size_t prompt_len;
    const char *suffix_field; /* "suffix" of a prompt + suffix request */
    size_t suffix_field_len;
    size_t diff_len;  /* ProxyAI's diff comment at the prefix's start */
    const char *code; /* the client's code before the cursor (after the diff comment) */
    size_t code_len;
    const char *suffix; /* the code after the cursor */
    size_t suffix_len;
    char *path;        /* the current file, when the request names it */
    bool sessioned;    /* the request goes through its editing session */
    session_key_t key; /* which (strings in the pool); the session itself is found again
                          when the prompt is built: another request may have moved the
                          store meanwhile */
    buf_t restored;    /* what the session would put back, before the budget */
};

static session_store_t *sessions;

/* The store of editing sessions, made at first use (LCA_RAG_SESSIONS,
 * LCA_RAG_SESSION_TTL_S). */
static session_store_t *sessions_get(void) {
    if (!sessions)
        sessions =
            session_store_new((size_t)settings_env_long("LCA_RAG_SESSIONS", 256, 1, 1 << 16),
                              settings_env_long("LCA_RAG_SESSION_TTL_S", 900, 1, 7 * 86400) * 1000);
    return sessions;
}

static void rag_dispose(void *p) {
    rag_t *rag = p;
    buf_free(&rag->restored);
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
    if (rag->finished)
        return;
    rag->finished = true;
    rag->go(rag->arg);
}

/* A collection the client named that does not exist is its mistake (404);
 * no collection at all, or a retrieval that failed, lets the request go on
 * without (new) context. */
static bool refused(rag_t *rag, const context_result_t *r) {
    if (r->status == 404 && rag->explicit_collection) {
        rag->finished = true;
        rag->fail(rag->arg, 404, r->message);
        return true;
    }
    if (r->status != 200 && r->status != 204)
        log_warn("req=%s no context: %d %s", rag->ctx->rid, r->status, r->message);
    return false;
}

/* One of the things the prompt waits for has come. */
static void part_done(rag_t *rag) {
    if (--rag->pending > 0 || rag->finished)
        return;
    rag->build(rag);
}

static void on_context(http_ctx_t *ctx, const context_result_t *r, void *arg) {
    (void)ctx;
    rag_t *rag = arg;
    rag->result = r;
    part_done(rag);
}

static void on_window(void *arg, long window) {
    rag_t *rag = arg;
    if (rag->rules.window == 0)
        rag->window = window;
    part_done(rag);
}

/* Starts what the prompt waits for: the retrieval, and the window when it
 * is not known yet. */
static void start(rag_t *rag, context_query_t *q) {
    rag->pending = 2; /* the retrieval, and this call's own count */
    rag->window = LONG_MAX;
    if (rag->rules.window > 0) {
        rag->window = rag->rules.window;
    } else if (rag->rules.window == 0) {
        const cJSON *options = cJSON_GetObjectItemCaseSensitive(rag->request->body, "options");
        if (!window_get(rag->ctx, rag->request->model, options, q->deadline_ms, on_window, rag,
                        &rag->window))
            rag->pending++;
    }
    context_retrieve(rag->ctx, q, on_context, rag);
    part_done(rag);
}

/* The tokens kept for the reply: num_predict when the client set one, else
 * fallback; never more than half the window. */
static long reply_reserve(const rag_t *rag, long fallback) {
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(rag->request->body, "options");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(options, "num_predict");
    long want = cJSON_IsNumber(n) && n->valuedouble >= 1 && n->valuedouble < 1e9
                    ? (long)n->valuedouble
                    : fallback;
    return want < rag->window / 2 ? want : rag->window / 2;
}

/* What remains of the window for the gateway's own text once used tokens
 * and the reply's are counted, and a small margin: the estimate is above
 * the real count on code, not on every text. */
static size_t room_left(const rag_t *rag, size_t used, long reply) {
    if (rag->window == LONG_MAX)
        return SIZE_MAX;
    long margin = rag->window / 64 + 16;
    long left = rag->window - reply - margin - (long)used;
    return left > 0 ? (size_t)left : 0;
}

/* What else of the body the model reads: a system prompt, tool
 * definitions. */
static size_t extra_tokens(const rag_t *rag) {
    const cJSON *body = rag->request->body;
    const char *system = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "system"));
    size_t n = system ? tokens_estimate(rag->tokens, system, strlen(system)) : 0;
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(body, "tools");
    char *text = tools ? cJSON_PrintUnformatted(tools) : NULL;
    if (text)
        n += tokens_estimate(rag->tokens, text, strlen(text));
    free(text);
    return n;
}

/* ---- chat ---- */

static void build_chat(rag_t *rag) {
    const context_result_t *r = rag->result;
    http_ctx_t *ctx = rag->ctx;
    if (refused(rag, r))
        return;
    if (r->status != 200) {
        set_context_header(ctx, &(context_result_t){0}, NULL);
        go_on(rag);
        return;
    }
    long budget = settings_env_long("LCA_RAG_CHAT_BUDGET", 6000, 0, 1 << 20);
    /* The conversation stays whole: the context gets what the window has
     * left once it and the reply are counted. */
    cJSON *messages = cJSON_GetObjectItemCaseSensitive(rag->request->body, "messages");
    size_t conversation = TEMPLATE_TOKENS + extra_tokens(rag);
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const char *content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "content"));
        conversation +=
            MESSAGE_TOKENS + (content ? tokens_estimate(rag->tokens, content, strlen(content)) : 0);
    }
    long reply = CHAT_REPLY_MAX;
    if (rag->window != LONG_MAX && rag->window / 4 < reply)
        reply = rag->window / 4;
    size_t room = room_left(rag, conversation + MESSAGE_TOKENS, reply_reserve(rag, reply));
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
        buf_printf(&text, "\n%s:%d-%d%s\n```%s\n", c->path, c->start_line, c->end_line,
                   c->kind && !strcmp(c->kind, "outline") ? " (signatures only)" : "", c->language);
        buf_append(&text, c->text, c->text_len);
        if (c->text_len && c->text[c->text_len - 1] != '\n')
            buf_append(&text, "\n", 1);
        buf_append_str(&text, "```\n");
        used[i] = text.len - header_len <= (size_t)budget &&
                  (room == SIZE_MAX || tokens_estimate(rag->tokens, text.data, text.len) <= room);
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
        int at = 0;
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
    rag->build = build_chat;
    start(rag, q);
}

/* ---- completion ---- */

/* The chunks retrieval offered, in a copy the session may filter. */
static size_t fresh_chunks(rag_t *rag, context_chunk_t **out) {
    const context_result_t *r = rag->result;
    if (r->status != 200 || r->count == 0) {
        *out = NULL;
        return 0;
    }
    *out = h2o_mem_alloc_pool(&rag->ctx->req->pool, sizeof **out * r->count);
    memcpy(*out, r->chunks, sizeof **out * r->count);
    return r->count;
}

static void build_completion(rag_t *rag) {
    http_ctx_t *ctx = rag->ctx;
    const context_result_t *r = rag->result;
    if (refused(rag, r))
        return;
    h2o_mem_pool_t *pool = &ctx->req->pool;
    long chars = settings_env_long("LCA_RAG_COMPLETION_BUDGET", 4000, 0, 1 << 20);

    /* The suffix the model reads again at every keystroke, cut to its
     * tokens (when asked to): room freed for the context too.  Not where
     * the suffix comes first (Codestral's [SUFFIX]S[PREFIX]P): there it
     * stays cached. */
    size_t suffix_keep = rag->suffix_len;
    bool suffix_first =
        rag->fim.family == FIM_CODESTRAL || (rag->fim.family == FIM_NONE && rag->request->model &&
                                             strcasestr(rag->request->model, "codestral"));
    if (rag->rules.suffix && !suffix_first)
        suffix_keep = fim_suffix_keep(rag->suffix, rag->suffix_len, rag->rules.suffix, rag->tokens);

    /* The window's share for the gateway: what the client's text (its
     * suffix as cut), the template and the reply leave. */
    size_t client;
    if (rag->fim.family == FIM_NONE) {
        client = tokens_estimate(rag->tokens, rag->prompt, rag->prompt_len) +
                 tokens_estimate(rag->tokens, rag->suffix_field, suffix_keep);
    } else { /* the prompt but for the suffix's cut tail; five for the cut */
        size_t cut_at = rag->fim.suffix_at + suffix_keep,
               cut_end = rag->fim.suffix_at + rag->fim.suffix_len;
        client = tokens_estimate(rag->tokens, rag->prompt, cut_at) +
                 tokens_estimate(rag->tokens, rag->prompt + cut_end, rag->prompt_len - cut_end) + 5;
    }
    client += TEMPLATE_TOKENS + extra_tokens(rag);
    size_t room = room_left(rag, client, reply_reserve(rag, COMPLETION_REPLY));

    /* The context: what the session holds, or what retrieval offered. */
    context_chunk_t *fresh;
    size_t nfresh = fresh_chunks(rag, &fresh);
    const char *current = rag->path;
    session_t *session =
        rag->sessioned ? session_find(sessions, &rag->key, rag->code, rag->code_len, clock_ms())
                       : NULL;
    if (session) {
        const char *texts[] = {rag->restored.data ? rag->restored.data : "", rag->code,
                               rag->suffix};
        size_t lens[] = {rag->restored.len, rag->code_len, rag->suffix_len};
        const char *was = session_own_path(session);
        nfresh = session_leave_out_own(session, fresh, nfresh, texts, lens, 3);
        if (session_own_path(session) && session_own_path(session) != was)
            log_debug("req=%s session: the file being edited is %s", ctx->rid,
                      session_own_path(session));
        if (!current) /* the file the session learned it is */
            current = session_own_path(session);
    }
    const context_chunk_t *chunks = fresh;
    size_t count = nfresh;
    fim_budget_t budget = {.chars = (size_t)chars, .tokens = room, .tokens_family = rag->tokens};
    if (session && rag->rules.hold) {
        buf_t known = BUF_INIT; /* the code before the cursor, as the session will know it */
        buf_append(&known, rag->restored.data, rag->restored.len);
        buf_append(&known, rag->code, rag->code_len);
        uint64_t scope = session_scope(known.data, known.len);
        buf_free(&known);
        /* The session counts chunks only; the block also has its repository
         * line and its closing line: kept aside, so that what the session
         * holds is what the block renders. */
        session_budget_t hold = {
            .chars = budget.chars > BLOCK_CHARS ? budget.chars - BLOCK_CHARS : 0,
            .tokens = budget.tokens == SIZE_MAX      ? SIZE_MAX
                      : budget.tokens > BLOCK_TOKENS ? budget.tokens - BLOCK_TOKENS
                                                     : 0,
            .family = rag->tokens};
        bool changed = session_hold(session, scope, fresh, nfresh, &hold);
        log_debug("req=%s session: scope %016llx, %zu offered, held list %s", ctx->rid,
                  (unsigned long long)scope, nfresh, changed ? "changed" : "kept");
        count = session_held(session, &chunks);
    }
    bool *used = h2o_mem_alloc_pool(pool, sizeof *used * (count + 1));
    buf_t context = BUF_INIT;
    size_t context_tokens = 0;
    size_t n = 0;
    if (count && r->collection)
        n = fim_context_within(rag->fim.family, chunks, count, r->collection, current, &budget,
                               &context, used, &context_tokens);
    if (session && rag->rules.hold && count)
        session_keep(session, used);
    /* The header names what the block holds (the session's list, in its order). */
    context_result_t shown = *r; /* the status page also wants its collection and time */
    shown.chunks = (context_chunk_t *)chunks;
    shown.count = count;
    set_context_header(ctx, &shown, count ? used : NULL);

    /* The text put back before the client's window: what the room has left
     * after the context, cut at a line boundary. */
    const char *restored = rag->restored.data;
    size_t restored_len = rag->restored.len;
    if (restored_len && room != SIZE_MAX) {
        size_t left = room > context_tokens ? room - context_tokens : 0;
        if (tokens_estimate(rag->tokens, restored, restored_len) > left) {
            size_t cut = session_trim_head(restored, restored_len, left / 2, rag->tokens);
            restored += cut;
            restored_len -= cut;
        }
    }
    if (session)
        session_remember(session, restored, restored_len, rag->code, rag->code_len);

    bool suffix_cut = suffix_keep < rag->suffix_len;
    if (n > 0 || restored_len || suffix_cut) {
        buf_t prompt = BUF_INIT;
        fim_parts_t parts = {.context = context.data,
                             .context_len = n ? context.len : 0,
                             .restored = restored,
                             .restored_len = restored_len,
                             .restore_at = rag->fim.prefix_at + rag->diff_len,
                             .suffix_keep = suffix_keep};
        fim_rebuild_parts(&rag->fim, rag->prompt, rag->prompt_len, &parts, &prompt);
        cJSON_ReplaceItemInObjectCaseSensitive(rag->request->body, "prompt",
                                               cJSON_CreateString(prompt.data ? prompt.data : ""));
        buf_free(&prompt);
        if (suffix_cut && rag->fim.family == FIM_NONE) { /* the "suffix" field */
            char *kept = h2o_mem_alloc_pool(pool, suffix_keep + 1);
            memcpy(kept, rag->suffix, suffix_keep);
            kept[suffix_keep] = '\0';
            cJSON_ReplaceItemInObjectCaseSensitive(rag->request->body, "suffix",
                                                   cJSON_CreateString(kept));
        }
    }
    log_debug("req=%s prompt: window %ld, room %zu, context %zu chunks %zu tokens, %zu bytes put "
              "back, suffix %zu of %zu bytes",
              ctx->rid, rag->window == LONG_MAX ? -1 : rag->window, room == SIZE_MAX ? 0 : room, n,
              context_tokens, restored_len, suffix_keep, rag->suffix_len);
    buf_free(&context);
    go_on(rag);
}

/* Who the client is, for its sessions: its address and user agent. */
static char *client_of(http_ctx_t *ctx) {
    struct sockaddr_storage sa;
    char address[INET6_ADDRSTRLEN] = "";
    memset(&sa, 0, sizeof sa);
    if (ctx->req->conn->callbacks->get_peername &&
        ctx->req->conn->callbacks->get_peername(ctx->req->conn, (struct sockaddr *)&sa) > 0) {
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, address, sizeof address);
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, address, sizeof address);
    }
    h2o_iovec_t agent = http_header(ctx->req, "user-agent");
    size_t alen = agent.len < 200 ? agent.len : 200;
    char *out = h2o_mem_alloc_pool(&ctx->req->pool, sizeof address + alen + 2);
    snprintf(out, sizeof address + alen + 2, "%s|%.*s", address, (int)alen,
             agent.base ? agent.base : "");
    return out;
}

static void prepare_completion(rag_t *rag, context_query_t *q) {
    cJSON *body = rag->request->body;
    h2o_mem_pool_t *pool = &rag->ctx->req->pool;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(body, "prompt");
    const cJSON *suffix = cJSON_GetObjectItemCaseSensitive(body, "suffix");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(body, "raw");
    if (!cJSON_IsString(prompt) || !prompt->valuestring[0]) {
        go_on(rag); /* an empty prompt loads the model: nothing to retrieve for */
        return;
    }
    rag->prompt = prompt->valuestring;
    rag->prompt_len = strlen(prompt->valuestring);
    const char *model = rag->rules.family_by_name ? rag->request->model : NULL;
    if (cJSON_IsTrue(raw) &&
        fim_parse_for_model(rag->prompt, rag->prompt_len, model, &rag->fim) != FIM_NONE) {
        rag->code = rag->prompt + rag->fim.prefix_at;
        rag->code_len = rag->fim.prefix_len;
        rag->suffix = rag->prompt + rag->fim.suffix_at;
        rag->suffix_len = rag->fim.suffix_len;
    } else {
        /* prompt (+ suffix): the context goes at the start of the prompt,
         * where Ollama's template puts the prefix. */
        memset(&rag->fim, 0, sizeof rag->fim);
        rag->fim.prefix_len = rag->prompt_len;
        rag->code = rag->prompt;
        rag->code_len = rag->prompt_len;
        rag->suffix = cJSON_IsString(suffix) ? suffix->valuestring : "";
        rag->suffix_len = strlen(rag->suffix);
        rag->suffix_field = rag->suffix;
        rag->suffix_field_len = rag->suffix_len;
    }
    rag->diff_len = fim_skip_diff_comment(rag->code, rag->code_len);
    rag->code += rag->diff_len;
    rag->code_len -= rag->diff_len;
    h2o_iovec_t path = http_header(rag->ctx->req, "x-lca-path");
    if (path.len)
        rag->path = h2o_strdup(pool, path.base, path.len).base;

    /* The editing session: the context it holds and the text it puts back. */
    if ((rag->rules.hold || rag->rules.restore) && sessions_get()) {
        h2o_iovec_t header = http_header(rag->ctx->req, "x-lca-collection");
        char *collection =
            rag->ctx->collection.len
                ? h2o_strdup(pool, rag->ctx->collection.base, rag->ctx->collection.len).base
            : header.len ? h2o_strdup(pool, header.base, header.len).base
                         : "";
        rag->key = (session_key_t){.client = client_of(rag->ctx),
                                   .model = rag->request->model,
                                   .collection = collection,
                                   .path = rag->path ? rag->path : "",
                                   .layout = (int)rag->fim.family};
        session_t *session =
            session_find(sessions, &rag->key, rag->code, rag->code_len, clock_ms());
        rag->sessioned = session != NULL;
        if (session && rag->rules.restore)
            session_restore(session, rag->code, rag->code_len, rag->rules.restore, rag->tokens,
                            &rag->restored);
        /* the file the session learnt it is, for retrieval (a copy: the
         * session may change before retrieval reads it) */
        const char *own = session ? session_own_path(session) : NULL;
        if (!rag->path && own)
            q->path = h2o_strdup(pool, own, strlen(own)).base;
    }
    /* Retrieval reads the code before the cursor as the model will. */
    if (rag->restored.len) {
        char *joined = h2o_mem_alloc_pool(pool, rag->restored.len + rag->code_len + 1);
        memcpy(joined, rag->restored.data, rag->restored.len);
        memcpy(joined + rag->restored.len, rag->code, rag->code_len);
        joined[rag->restored.len + rag->code_len] = '\0';
        q->prefix = joined;
        q->prefix_len = rag->restored.len + rag->code_len;
    } else {
        q->prefix = rag->code;
        q->prefix_len = rag->code_len;
    }
    q->suffix = rag->suffix;
    q->suffix_len = rag->suffix_len;
    if (rag->path)
        q->path = rag->path;
    q->deadline_ms = (int)settings_env_long("LCA_RAG_COMPLETION_MS", 40, 1, 60000);
    rag->build = build_completion;
    start(rag, q);
}

void rag_prepare(http_ctx_t *ctx, api_request_t *request, rag_go_t go, rag_fail_t fail, void *arg) {
    rules_t rules = rules_read(request->body);
    if (!rules.rag) {
        go(arg);
        return;
    }
    rag_t *rag = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *rag, rag_dispose);
    memset(rag, 0, sizeof *rag);
    rag->ctx = ctx;
    rag->request = request;
    rag->go = go;
    rag->fail = fail;
    rag->arg = arg;
    rag->rules = rules;
    rag->tokens = tokens_family_for_model(request->model);
    rag->explicit_collection =
        ctx->collection.len > 0 || http_header(ctx->req, "x-lca-collection").len > 0;
    context_query_t q = {.k = RAG_K, .quiet_unknown = true};
    if (request->kind == API_CHAT)
        prepare_chat(rag, &q);
    else
        prepare_completion(rag, &q);
}
