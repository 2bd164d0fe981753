/*
 * Writing Ollama's answer in the format the client asked for.
 *
 * The generator always streams Ollama's native NDJSON lines, one token a
 * line, the last one with "done": true and the metrics.  A format_t takes
 * these lines one by one and produces the client's bytes:
 *
 *   NDJSON         each line unchanged, plus "\n" (exactly as Ollama writes it)
 *   Ollama JSON    nothing until the end, then the done line with the whole
 *                  text in message.content / response (Ollama's stream:false)
 *   SSE chat       data: {chat.completion.chunk} per line, usage, [DONE]
 *   SSE text       data: {text_completion} per line (with "response" and
 *                  "done" too on /api/generate), usage, [DONE]
 *   OpenAI JSON    chat.completion / text_completion with usage, at the end
 *
 * It knows nothing of HTTP: the relay decides when bytes go out.  Pure and
 * synchronous, so it is tested without a server.  A format_t owns what it
 * aggregates; format_dispose() frees it.
 */
#ifndef LCA_GATEWAY_FORMAT_H
#define LCA_GATEWAY_FORMAT_H

#include "gateway/api.h"
#include "proto/base/buf.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    api_kind_t kind;
    api_output_t output;
    bool include_usage, ollama_fields, openai_fields;
    char id[48];       /* chatcmpl-... / cmpl-... */
    long long created; /* Unix seconds, the same in every chunk */
    char model[256];   /* as the client named it, until a line names it */
    buf_t text;        /* aggregated content (JSON outputs) */
    buf_t thinking;    /* aggregated message.thinking / thinking */
    cJSON *tool_calls; /* aggregated Ollama tool calls, or NULL */
    cJSON *last;       /* the done line, once seen */
    size_t lines;      /* lines taken */
} format_t;

/* Sets up f for request r; rid makes the OpenAI ids unique per request. */
void format_init(format_t *f, const api_request_t *r, const char *rid);

/* Frees what f aggregated; f may be reused after format_init. */
void format_dispose(format_t *f);

/* The Content-Type of the answer (exactly "application/x-ndjson" for NDJSON). */
const char *format_content_type(const format_t *f);

/* True when the answer goes out line by line (NDJSON, SSE); false when it
 * is one JSON object written at the end. */
bool format_streams(const format_t *f);

/* True for SSE answers (which may carry comments while waiting). */
bool format_is_sse(const format_t *f);

/* Takes one upstream line (without its newline) and appends the client's
 * bytes for it to out (nothing for JSON outputs, which aggregate).  A line
 * that is not a JSON object is passed on unchanged for NDJSON and otherwise
 * ignored.  Returns 0 or -ENOMEM. */
int format_add_line(format_t *f, const char *line, size_t len, buf_t *out);

/* After the stream ended well: appends the rest of a stream (usage chunk,
 * [DONE]) or the whole JSON body.  Returns 0 or -ENOMEM. */
int format_finish(format_t *f, buf_t *out);

/* After the stream failed once output had started: appends the error in the
 * stream's own form ({"error":"..."} line, or an SSE error event).  Returns
 * 0 or -ENOMEM. */
int format_fail(format_t *f, int status, const char *message, buf_t *out);

#endif
