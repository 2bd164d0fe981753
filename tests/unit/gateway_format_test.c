/*
 * gateway/format: Ollama's stream lines in every client format, without a
 * server.  The lines below are shaped as Ollama (and the fake) write them.
 */
#include "gateway/format.h"
#include "tests/test.h"

#include <cJSON.h>

static const char *chat_lines[] = {
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.1Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"Hel\"},\"done\":false}",
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.2Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"lo\"},\"done\":false}",
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.3Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"length\",\"total_duration\":"
    "12345678901,\"prompt_eval_count\":7,\"eval_count\":2}",
};

static const char *generate_lines[] = {
    "{\"model\":\"q\",\"created_at\":\"t\",\"response\":\"a\",\"done\":false}",
    "{\"model\":\"q\",\"created_at\":\"t\",\"response\":\"b\",\"done\":false}",
    "{\"model\":\"q\",\"created_at\":\"t\",\"response\":\"\",\"done\":true,\"done_reason\":"
    "\"stop\","
    "\"context\":[1,2],\"prompt_eval_count\":3,\"eval_count\":2}",
};

static void run(format_t *f, const char **lines, size_t n, buf_t *out) {
    for (size_t i = 0; i < n; i++)
        CHECK_INT(format_add_line(f, lines[i], strlen(lines[i]), out), ==, 0);
    CHECK_INT(format_finish(f, out), ==, 0);
}

static format_t make(api_kind_t kind, api_output_t output) {
    api_request_t r = {.kind = kind, .output = output, .model = "asked"};
    format_t f;
    format_init(&f, &r, "r1");
    return f;
}

/* The SSE events of out, as parsed JSON (or NULL for [DONE]) in a cJSON array. */
static cJSON *sse_events(const buf_t *out, int *done) {
    cJSON *list = cJSON_CreateArray();
    *done = 0;
    const char *p = out->data;
    while (p && *p) {
        const char *end = strstr(p, "\n\n");
        if (!end || strncmp(p, "data: ", 6) != 0)
            break;
        if (strncmp(p + 6, "[DONE]", 6) == 0)
            (*done)++;
        else
            cJSON_AddItemToArray(list, cJSON_ParseWithLength(p + 6, (size_t)(end - p - 6)));
        p = end + 2;
    }
    return list;
}

TEST(ndjson_passes_lines_unchanged) {
    format_t f = make(API_CHAT, API_OUT_NDJSON);
    buf_t out = BUF_INIT;
    run(&f, chat_lines, 3, &out);
    buf_t want = BUF_INIT;
    for (int i = 0; i < 3; i++)
        buf_printf(&want, "%s\n", chat_lines[i]);
    CHECK_STR(out.data, want.data);
    CHECK_STR(format_content_type(&f), "application/x-ndjson");
    /* An error after output is a last {"error": ...} line. */
    buf_reset(&out);
    CHECK_INT(format_fail(&f, 500, "out of \"memory\"", &out), ==, 0);
    CHECK_STR(out.data, "{\"error\":\"out of \\\"memory\\\"\"}\n");
    buf_free(&want);
    buf_free(&out);
    format_dispose(&f);
}

TEST(ollama_json_aggregates_the_text_into_the_done_line) {
    format_t f = make(API_CHAT, API_OUT_OLLAMA_JSON);
    buf_t out = BUF_INIT;
    run(&f, chat_lines, 3, &out);
    cJSON *j = cJSON_Parse(out.data);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(j, "message"), "content")),
              "Hello");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "done_reason")), "length");
    CHECK(strstr(out.data, "\"total_duration\":12345678901") != NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "choices") == NULL);
    cJSON_Delete(j);
    buf_free(&out);
    format_dispose(&f);

    /* generate, with OpenAI's choices added for readers of choices[0].text */
    f = make(API_GENERATE, API_OUT_OLLAMA_JSON);
    f.openai_fields = true;
    run(&f, generate_lines, 3, &out);
    j = cJSON_Parse(out.data);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "response")), "ab");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "context")), ==, 2);
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "text")), "ab");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "finish_reason")),
              "stop");
    cJSON_Delete(j);
    buf_free(&out);
    format_dispose(&f);
}

TEST(sse_chat_chunks_usage_and_done) {
    format_t f = make(API_CHAT, API_OUT_SSE_CHAT);
    f.include_usage = true;
    buf_t out = BUF_INIT;
    run(&f, chat_lines, 3, &out);
    int done;
    cJSON *events = sse_events(&out, &done);
    CHECK_INT(done, ==, 1);
    CHECK_INT(cJSON_GetArraySize(events), ==, 4);
    const char *want[] = {"Hel", "lo", ""};
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(events, i);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "object")),
                  "chat.completion.chunk");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id")), "chatcmpl-r1");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "model")), "llama3.2");
        const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "choices"), 0);
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(c, "delta");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(delta, "content")),
                  want[i]);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(delta, "role")),
                  "assistant");
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
        if (i < 2)
            CHECK(cJSON_IsNull(reason));
        else
            CHECK_STR(cJSON_GetStringValue(reason), "length");
    }
    const cJSON *usage = cJSON_GetArrayItem(events, 3);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(usage, "choices")), ==, 0);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(usage, "usage");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens")), ==, 7);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(u, "completion_tokens")), ==,
              2);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(u, "total_tokens")), ==, 9);
    cJSON_Delete(events);
    /* An error after output is an OpenAI-shaped event. */
    buf_reset(&out);
    CHECK_INT(format_fail(&f, 404, "gone", &out), ==, 0);
    CHECK_STR(out.data, "data: {\"error\":{\"message\":\"gone\",\"type\":\"not_found_error\","
                        "\"param\":null,\"code\":null}}\n\n");
    buf_free(&out);
    format_dispose(&f);
}

TEST(sse_text_carries_both_response_and_choices_text) {
    format_t f = make(API_GENERATE, API_OUT_SSE_TEXT);
    f.ollama_fields = true;
    buf_t out = BUF_INIT;
    CHECK_INT(format_add_line(&f, "not json", 8, &out), ==, 0); /* ignored */
    run(&f, generate_lines, 3, &out);
    int done;
    cJSON *events = sse_events(&out, &done);
    CHECK_INT(done, ==, 1);
    CHECK_INT(cJSON_GetArraySize(events), ==, 3);
    const cJSON *first = cJSON_GetArrayItem(events, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "response")), "a");
    CHECK_STR(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(first, "choices"), 0), "text")),
        "a");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "object")),
              "text_completion");
    const cJSON *last = cJSON_GetArrayItem(events, 2);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(last, "done")));
    cJSON_Delete(events);
    buf_free(&out);
    format_dispose(&f);
}

TEST(openai_chat_json_with_tool_calls) {
    format_t f = make(API_CHAT, API_OUT_OPENAI_CHAT);
    const char *lines[] = {
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{"
        "\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}}]},\"done\":"
        "false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
        "\"done_reason\":\"stop\",\"prompt_eval_count\":1,\"eval_count\":1}",
    };
    buf_t out = BUF_INIT;
    run(&f, lines, 2, &out);
    cJSON *j = cJSON_Parse(out.data);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "object")),
              "chat.completion");
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "finish_reason")),
              "tool_calls");
    const cJSON *call =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(choice, "message"), "tool_calls"),
                           0);
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "name")), "get_weather");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "arguments")),
              "{\"city\":\"Oslo\"}");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(call, "type")), "function");
    cJSON_Delete(j);
    buf_free(&out);
    format_dispose(&f);
}

TEST(lines_after_done_change_nothing) {
    format_t f = make(API_GENERATE, API_OUT_OPENAI_TEXT);
    buf_t out = BUF_INIT;
    for (size_t i = 0; i < 3; i++)
        format_add_line(&f, generate_lines[i], strlen(generate_lines[i]), &out);
    format_add_line(&f, generate_lines[0], strlen(generate_lines[0]), &out);
    CHECK_INT(out.len, ==, 0);
    CHECK_INT(format_finish(&f, &out), ==, 0);
    cJSON *j = cJSON_Parse(out.data);
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(choice, "text")), "ab");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id")), "cmpl-r1");
    cJSON_Delete(j);
    buf_free(&out);
    format_dispose(&f);
}

TEST_MAIN(TEST_CASE(ndjson_passes_lines_unchanged),
          TEST_CASE(ollama_json_aggregates_the_text_into_the_done_line),
          TEST_CASE(sse_chat_chunks_usage_and_done),
          TEST_CASE(sse_text_carries_both_response_and_choices_text),
          TEST_CASE(openai_chat_json_with_tool_calls), TEST_CASE(lines_after_done_change_nothing))
