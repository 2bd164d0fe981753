/*
 * The client's view of Ollama's stream (see format.h).
 *
 * OpenAI chunks are built as cJSON trees and printed compactly; the field
 * order follows what Ollama's own OpenAI layer writes (id, object, created,
 * model, system_fingerprint, choices, usage), which is what clients were
 * tested against.  Like Ollama, every chat delta carries the role, and the
 * done line becomes one more chunk with empty content and the
 * finish_reason, so that "the last chunk has finish_reason" holds.
 *
 * Invariant: f->last is NULL until the done line was taken; after it no
 * further line changes anything.
 */
#include "gateway/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Copies a model name into f->model, cutting a name too long for it at a
 * character boundary: the answer must stay valid UTF-8. */
static void model_set(format_t *f, const char *name) {
    size_t n = strlen(name);
    if (n >= sizeof f->model) {
        n = sizeof f->model - 1;
        while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
            n--; /* name[n] continues a character: cut before that character */
    }
    memcpy(f->model, name, n);
    f->model[n] = '\0';
}

void format_init(format_t *f, const api_request_t *r, const char *rid) {
    *f = (format_t){.kind = r->kind,
                    .output = r->output,
                    .include_usage = r->include_usage,
                    .ollama_fields = r->ollama_fields,
                    .openai_fields = r->openai_fields,
                    .created = (long long)time(NULL)};
    snprintf(f->id, sizeof f->id, "%s-%s", r->kind == API_CHAT ? "chatcmpl" : "cmpl", rid);
    model_set(f, r->model ? r->model : "");
}

void format_dispose(format_t *f) {
    buf_free(&f->text);
    buf_free(&f->thinking);
    cJSON_Delete(f->tool_calls);
    cJSON_Delete(f->last);
    f->tool_calls = f->last = NULL;
}

const char *format_content_type(const format_t *f) {
    switch (f->output) {
    case API_OUT_NDJSON:
        return "application/x-ndjson";
    case API_OUT_OLLAMA_JSON:
        return "application/json; charset=utf-8";
    case API_OUT_SSE_CHAT:
    case API_OUT_SSE_TEXT:
        return "text/event-stream";
    default:
        return "application/json";
    }
}

bool format_streams(const format_t *f) {
    return f->output == API_OUT_NDJSON || format_is_sse(f);
}

bool format_is_sse(const format_t *f) {
    return f->output == API_OUT_SSE_CHAT || f->output == API_OUT_SSE_TEXT;
}

/* ---- reading a line ---- */

/* The parts of one Ollama line that matter to the formats. */
typedef struct {
    const char *text;     /* message.content or response ("" when absent) */
    const char *thinking; /* message.thinking or thinking, or NULL */
    const cJSON *tool_calls;
    bool done;
} line_t;

static const char *string_or(const cJSON *item, const char *fallback) {
    return cJSON_IsString(item) ? item->valuestring : fallback;
}

static line_t line_read(const format_t *f, const cJSON *json) {
    line_t l = {.done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "done"))};
    if (f->kind == API_CHAT) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(json, "message");
        l.text = string_or(cJSON_GetObjectItemCaseSensitive(m, "content"), "");
        l.thinking = string_or(cJSON_GetObjectItemCaseSensitive(m, "thinking"), NULL);
        l.tool_calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        if (!cJSON_IsArray(l.tool_calls) || cJSON_GetArraySize(l.tool_calls) == 0)
            l.tool_calls = NULL;
    } else {
        l.text = string_or(cJSON_GetObjectItemCaseSensitive(json, "response"), "");
        l.thinking = string_or(cJSON_GetObjectItemCaseSensitive(json, "thinking"), NULL);
    }
    return l;
}

/* A token count from an upstream line: 0 when absent or negative, and at
 * most COUNT_MAX (far beyond any real count, and small enough that the
 * conversion and the sum of two are defined). */
#define COUNT_MAX 1e15
static long long count_of(const cJSON *json, const char *name) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!cJSON_IsNumber(n) || !(n->valuedouble > 0))
        return 0;
    return (long long)(n->valuedouble < COUNT_MAX ? n->valuedouble : COUNT_MAX);
}

static const char *finish_reason(const format_t *f) {
    const char *reason = string_or(cJSON_GetObjectItemCaseSensitive(f->last, "done_reason"), "");
    if (strcmp(reason, "length") == 0)
        return "length";
    if (f->tool_calls)
        return "tool_calls";
    return "stop";
}

/* ---- OpenAI pieces ---- */

static cJSON *chunk_new(const format_t *f, const char *object) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", f->id);
    cJSON_AddStringToObject(c, "object", object);
    cJSON_AddNumberToObject(c, "created", (double)f->created);
    cJSON_AddStringToObject(c, "model", f->model);
    cJSON_AddStringToObject(c, "system_fingerprint", "fp_ollama");
    return c;
}

static cJSON *usage_new(const cJSON *last) {
    long long prompt = count_of(last, "prompt_eval_count"),
              completion = count_of(last, "eval_count");
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)completion);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt + completion));
    return u;
}

/* Ollama's tool calls (arguments as an object) in OpenAI's form (arguments
 * as JSON text, an id and an index). */
static cJSON *tool_calls_openai(const format_t *f, const cJSON *calls) {
    cJSON *out = cJSON_CreateArray();
    int i = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        cJSON *o = cJSON_CreateObject();
        char id[80];
        snprintf(id, sizeof id, "call_%s_%d", f->id, i);
        cJSON_AddStringToObject(o, "id",
                                string_or(cJSON_GetObjectItemCaseSensitive(call, "id"), id));
        cJSON_AddNumberToObject(o, "index", i++);
        cJSON_AddStringToObject(o, "type", "function");
        cJSON *ofn = cJSON_AddObjectToObject(o, "function");
        cJSON_AddStringToObject(ofn, "name",
                                string_or(cJSON_GetObjectItemCaseSensitive(fn, "name"), ""));
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
        char *text = args ? cJSON_PrintUnformatted(args) : NULL;
        cJSON_AddStringToObject(ofn, "arguments", text ? text : "{}");
        free(text);
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

/* Appends "data: <json>\n\n" and frees json. */
static int sse_event(buf_t *out, cJSON *json) {
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (!text)
        return -ENOMEM;
    int rc = buf_printf(out, "data: %s\n\n", text);
    free(text);
    return rc;
}

static int sse_chat_chunk(format_t *f, const line_t *l, buf_t *out) {
    cJSON *c = chunk_new(f, "chat.completion.chunk");
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON *delta = cJSON_AddObjectToObject(choice, "delta");
    cJSON_AddStringToObject(delta, "role", "assistant");
    cJSON_AddStringToObject(delta, "content", l->text);
    if (l->thinking && l->thinking[0])
        cJSON_AddStringToObject(delta, "reasoning", l->thinking);
    if (l->tool_calls)
        cJSON_AddItemToObject(delta, "tool_calls", tool_calls_openai(f, l->tool_calls));
    if (l->done)
        cJSON_AddStringToObject(choice, "finish_reason", finish_reason(f));
    else
        cJSON_AddNullToObject(choice, "finish_reason");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "choices"), choice);
    return sse_event(out, c);
}

static cJSON *text_choice(const char *text, const char *reason) {
    cJSON *choice = cJSON_CreateObject();
    cJSON_AddStringToObject(choice, "text", text);
    cJSON_AddNumberToObject(choice, "index", 0);
    if (reason)
        cJSON_AddStringToObject(choice, "finish_reason", reason);
    else
        cJSON_AddNullToObject(choice, "finish_reason");
    return choice;
}

static int sse_text_chunk(format_t *f, const line_t *l, buf_t *out) {
    cJSON *c = chunk_new(f, "text_completion");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "choices"),
                         text_choice(l->text, l->done ? finish_reason(f) : NULL));
    if (f->ollama_fields) {
        cJSON_AddStringToObject(c, "response", l->text);
        cJSON_AddBoolToObject(c, "done", l->done);
        if (l->done)
            cJSON_AddStringToObject(
                c, "done_reason",
                string_or(cJSON_GetObjectItemCaseSensitive(f->last, "done_reason"), "stop"));
    }
    return sse_event(out, c);
}

/* ---- taking lines ---- */

static int aggregate(format_t *f, const line_t *l) {
    if (buf_append_str(&f->text, l->text) != 0)
        return -ENOMEM;
    if (l->thinking && buf_append_str(&f->thinking, l->thinking) != 0)
        return -ENOMEM;
    if (l->tool_calls) {
        if (!f->tool_calls && !(f->tool_calls = cJSON_CreateArray()))
            return -ENOMEM;
        const cJSON *call;
        cJSON_ArrayForEach(call, l->tool_calls) {
            cJSON_AddItemToArray(f->tool_calls, cJSON_Duplicate(call, true));
        }
    }
    return 0;
}

int format_add_line(format_t *f, const char *line, size_t len, buf_t *out) {
    if (f->last)
        return 0;
    cJSON *json = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        if (f->output != API_OUT_NDJSON)
            return 0;
        return buf_append(out, line, len) == 0 && buf_append(out, "\n", 1) == 0 ? 0 : -ENOMEM;
    }
    f->lines++;
    const char *model = string_or(cJSON_GetObjectItemCaseSensitive(json, "model"), NULL);
    if (model && model[0])
        model_set(f, model);
    line_t l = line_read(f, json);
    int rc = aggregate(f, &l);
    if (l.done)
        f->last = json; /* kept: the metrics and done_reason of the end */
    if (rc == 0) {
        switch (f->output) {
        case API_OUT_NDJSON:
            rc = buf_append(out, line, len) == 0 && buf_append(out, "\n", 1) == 0 ? 0 : -ENOMEM;
            break;
        case API_OUT_SSE_CHAT:
            rc = sse_chat_chunk(f, &l, out);
            break;
        case API_OUT_SSE_TEXT:
            rc = sse_text_chunk(f, &l, out);
            break;
        default:
            break;
        }
    }
    if (!l.done)
        cJSON_Delete(json);
    return rc;
}

/* ---- the end ---- */

static const char *aggregated(const buf_t *b) {
    return b->len ? b->data : "";
}

/* Ollama's stream:false object: the done line with the whole text. */
static cJSON *ollama_object(format_t *f) {
    cJSON *o = cJSON_Duplicate(f->last, true);
    if (f->kind == API_CHAT) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
        if (!cJSON_IsObject(m)) {
            cJSON_DeleteItemFromObjectCaseSensitive(o, "message");
            m = cJSON_AddObjectToObject(o, "message");
            cJSON_AddStringToObject(m, "role", "assistant");
        }
        cJSON *content = cJSON_CreateString(aggregated(&f->text));
        if (cJSON_GetObjectItemCaseSensitive(m, "content"))
            cJSON_ReplaceItemInObjectCaseSensitive(m, "content", content);
        else
            cJSON_AddItemToObject(m, "content", content);
        if (f->thinking.len) {
            cJSON_DeleteItemFromObjectCaseSensitive(m, "thinking");
            cJSON_AddStringToObject(m, "thinking", f->thinking.data);
        }
        if (f->tool_calls) {
            cJSON_DeleteItemFromObjectCaseSensitive(m, "tool_calls");
            cJSON_AddItemToObject(m, "tool_calls", cJSON_Duplicate(f->tool_calls, true));
        }
    } else {
        cJSON *response = cJSON_CreateString(aggregated(&f->text));
        if (cJSON_GetObjectItemCaseSensitive(o, "response"))
            cJSON_ReplaceItemInObjectCaseSensitive(o, "response", response);
        else
            cJSON_AddItemToObject(o, "response", response);
        if (f->thinking.len) {
            cJSON_DeleteItemFromObjectCaseSensitive(o, "thinking");
            cJSON_AddStringToObject(o, "thinking", f->thinking.data);
        }
    }
    return o;
}

static cJSON *chat_message(const format_t *f) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", aggregated(&f->text));
    if (f->thinking.len)
        cJSON_AddStringToObject(m, "reasoning", f->thinking.data);
    if (f->tool_calls)
        cJSON_AddItemToObject(m, "tool_calls", tool_calls_openai(f, f->tool_calls));
    return m;
}

static cJSON *openai_object(format_t *f) {
    bool chat = f->output == API_OUT_OPENAI_CHAT;
    cJSON *o = chunk_new(f, chat ? "chat.completion" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    if (chat) {
        cJSON *choice = cJSON_CreateObject();
        cJSON_AddNumberToObject(choice, "index", 0);
        cJSON_AddItemToObject(choice, "message", chat_message(f));
        cJSON_AddStringToObject(choice, "finish_reason", finish_reason(f));
        cJSON_AddItemToArray(choices, choice);
    } else {
        cJSON_AddItemToArray(choices, text_choice(aggregated(&f->text), finish_reason(f)));
    }
    cJSON_AddItemToObject(o, "usage", usage_new(f->last));
    return o;
}

static int print_json(cJSON *json, buf_t *out) {
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (!text)
        return -ENOMEM;
    int rc = buf_append_str(out, text);
    free(text);
    return rc;
}

int format_finish(format_t *f, buf_t *out) {
    if (!f->last) /* the generator ends only after a done line; be safe anyway */
        f->last = cJSON_Parse("{\"done\":true,\"done_reason\":\"stop\"}");
    switch (f->output) {
    case API_OUT_NDJSON:
        return 0;
    case API_OUT_SSE_CHAT:
    case API_OUT_SSE_TEXT:
        if (f->include_usage) {
            cJSON *c = chunk_new(f, f->output == API_OUT_SSE_CHAT ? "chat.completion.chunk"
                                                                  : "text_completion");
            cJSON_AddArrayToObject(c, "choices");
            cJSON_AddItemToObject(c, "usage", usage_new(f->last));
            if (sse_event(out, c) != 0)
                return -ENOMEM;
        }
        return buf_append_str(out, "data: [DONE]\n\n");
    case API_OUT_OLLAMA_JSON: {
        cJSON *o = ollama_object(f);
        if (f->openai_fields && f->kind == API_GENERATE)
            cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "choices"),
                                 text_choice(aggregated(&f->text), finish_reason(f)));
        return print_json(o, out);
    }
    default:
        return print_json(openai_object(f), out);
    }
}

int format_fail(format_t *f, int status, const char *message, buf_t *out) {
    if (f->output == API_OUT_NDJSON) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "error", message);
        return print_json(e, out) == 0 && buf_append(out, "\n", 1) == 0 ? 0 : -ENOMEM;
    }
    if (!format_is_sse(f))
        return 0;
    cJSON *e = cJSON_CreateObject();
    cJSON *inner = cJSON_AddObjectToObject(e, "error");
    cJSON_AddStringToObject(inner, "message", message);
    cJSON_AddStringToObject(inner, "type",
                            status == 404  ? "not_found_error"
                            : status < 500 ? "invalid_request_error"
                                           : "api_error");
    cJSON_AddNullToObject(inner, "param");
    cJSON_AddNullToObject(inner, "code");
    return sse_event(out, e);
}
