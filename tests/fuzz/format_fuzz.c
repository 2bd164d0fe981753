/*
 * gateway/format: Ollama's NDJSON lines (relayed from the generator) turned
 * into what the client asked for: NDJSON, Ollama JSON, OpenAI SSE or JSON.
 *
 * The first input byte picks the request (output, kind, usage and extra
 * fields), the second how the stream ends; the rest are the upstream lines.
 * Invariants, for every output:
 *   - NDJSON: each line until the done line comes out unchanged plus "\n";
 *   - JSON outputs: nothing until the end, then one JSON object;
 *   - SSE: a run of "data: <JSON object>\n\n" events, ending with
 *     "data: [DONE]\n\n" after a good end;
 *   - a failure after output began gives one error in the stream's form;
 *   - the JSON written parses with cJSON, and when the upstream lines were
 *     valid UTF-8 it passes the strict check clients' parsers apply.
 */
#include "gateway/format.h"
#include "proto/base/json.h"
#include "tests/fuzz/fuzz.h"

/* Checks that s[0..len) is one JSON object (strictly when strict). */
static void check_object(const char *s, size_t len, bool strict) {
    cJSON *json = cJSON_ParseWithLength(s, len);
    FUZZ_ASSERT(cJSON_IsObject(json));
    cJSON_Delete(json);
    if (strict && json_check(s, len, true, NULL, 0) != 0)
        fprintf(stderr, "fuzz: not strict JSON: %.*s\n", (int)(len < 300 ? len : 300), s);
    FUZZ_ASSERT(!strict || json_check(s, len, true, NULL, 0) == 0);
}

/* Checks that out is a run of SSE data events holding JSON objects; returns
 * whether the last one is [DONE]. */
static bool check_sse(const char *s, size_t len, bool strict) {
    bool done = false;
    size_t at = 0;
    while (at < len) {
        FUZZ_ASSERT(!done);
        FUZZ_ASSERT(len - at > 6 && memcmp(s + at, "data: ", 6) == 0);
        const char *end = memmem(s + at, len - at, "\n\n", 2);
        FUZZ_ASSERT(end != NULL);
        const char *event = s + at + 6;
        size_t n = (size_t)(end - event);
        if (n == 6 && memcmp(event, "[DONE]", 6) == 0)
            done = true;
        else
            check_object(event, n, strict);
        at = (size_t)(end - s) + 2;
    }
    return done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t setup = fuzz_take_byte(&data, &size);
    uint8_t ending = fuzz_take_byte(&data, &size);
    bool strict = utf8_valid((const char *)data, size);
    api_request_t request = {
        .kind = setup & 1 ? API_GENERATE : API_CHAT,
        .output = (api_output_t)((setup >> 1) % 6),
        .model = "qwen2.5-coder:7b",
        .include_usage = setup & 0x10,
        .ollama_fields = setup & 0x20,
        .openai_fields = setup & 0x40,
    };
    format_t f;
    format_init(&f, &request, "7f3a");
    FUZZ_ASSERT(format_content_type(&f) != NULL);
    FUZZ_ASSERT(format_streams(&f) == (request.output == API_OUT_NDJSON || format_is_sse(&f)));

    buf_t out = BUF_INIT, expected = BUF_INIT;
    bool ended = false; /* a done line was taken */
    const char *line = (const char *)data, *end = line + size;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        size_t before = out.len;
        FUZZ_ASSERT(format_add_line(&f, line, len, &out) == 0);
        if (ended) {
            FUZZ_ASSERT(out.len == before); /* nothing after the done line */
        } else if (request.output == API_OUT_NDJSON) {
            buf_append(&expected, line, len);
            buf_append(&expected, "\n", 1);
        } else if (!format_streams(&f)) {
            FUZZ_ASSERT(out.len == 0);
        }
        ended = f.last != NULL;
        line += len + 1;
    }
    if (request.output == API_OUT_NDJSON)
        FUZZ_ASSERT(out.len == expected.len &&
                    (out.len == 0 || memcmp(out.data, expected.data, out.len) == 0));
    if (format_is_sse(&f))
        FUZZ_ASSERT(!check_sse(out.data, out.len, strict));

    size_t before = out.len;
    if (ending & 1) {
        FUZZ_ASSERT(format_fail(&f, 400 + ending, "upstream \"failed\"\n", &out) == 0);
        const char *tail = out.data ? out.data + before : "";
        size_t n = out.len - before;
        if (request.output == API_OUT_NDJSON) {
            FUZZ_ASSERT(n > 1 && tail[n - 1] == '\n');
            check_object(tail, n - 1, true);
        } else if (format_is_sse(&f)) {
            FUZZ_ASSERT(!check_sse(tail, n, true) && n > 0);
        } else {
            FUZZ_ASSERT(n == 0);
        }
    } else {
        FUZZ_ASSERT(format_finish(&f, &out) == 0);
        const char *tail = out.data ? out.data + before : "";
        size_t n = out.len - before;
        if (request.output == API_OUT_NDJSON)
            FUZZ_ASSERT(n == 0);
        else if (format_is_sse(&f))
            FUZZ_ASSERT(check_sse(tail, n, strict));
        else
            check_object(tail, n, strict);
    }
    format_dispose(&f);
    buf_free(&out);
    buf_free(&expected);
    return 0;
}
