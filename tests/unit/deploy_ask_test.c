/*
 * Tests of `lca ask` (deploy/ask.c) against a fake gateway
 * (tests/command.h): the streaming POST /api/chat it sends (model, the
 * question's words, the collection), each token printed as its line
 * arrives, the sources from X-LCA-Context after the answer, the gateway's
 * error before the answer, an error line or a lost connection in the
 * middle of it, no gateway, and --help and bad options.
 */
#include "deploy/commands.h"
#include "tests/command.h"

#include <cJSON.h>

#define NDJSON_200 "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n"
#define LINE(text)                                                                                 \
    "{\"message\":{\"role\":\"assistant\",\"content\":\"" text "\"},\"done\":false}\n"
#define DONE "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true}\n"

TEST(the_question_goes_to_api_chat_and_the_answer_ends_with_its_sources) {
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, NDJSON_200
                               "X-LCA-Context: 2 chunks: src/cart.py:10-24, src/tax.py:3-9\r\n"
                               "\r\n" LINE("The total") LINE(" is summed\\nin cart.py.") DONE));
    unsetenv("LCA_CHAT_MODEL");
    output_t o;
    int rc = command_run(
        command_ask, (const char *[]){"ask", "how", "-c", "shop", "is the", "total", "made?", NULL},
        &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "The total is summed\nin cart.py.\n"
                     "\n"
                     "sources (2):\n"
                     "  src/cart.py:10-24\n"
                     "  src/tax.py:3-9\n");
    CHECK_STR(o.err, "");
    CHECK(starts_with(g.request, "POST /api/chat HTTP/1.1\r\n"));
    CHECK(strstr(g.request, "\r\nAccept: application/x-ndjson\r\n") != NULL);
    CHECK(strstr(g.request, "\r\nX-LCA-Collection: shop\r\n") != NULL);
    cJSON *req = cJSON_Parse(fake_gateway_body(&g));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "model")), "llama3.2");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(req, "stream")));
    const cJSON *messages = cJSON_GetObjectItem(req, "messages");
    CHECK_INT(cJSON_GetArraySize(messages), ==, 1);
    const cJSON *m = cJSON_GetArrayItem(messages, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(m, "role")), "user");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(m, "content")), "how is the total made?");
    cJSON_Delete(req);
    output_free(&o);
}

TEST(the_model_comes_from_the_option_or_the_environment) {
    const struct {
        const char *env, *option, *model;
    } cases[] = {
        {"qwen2.5-coder", NULL, "qwen2.5-coder"},
        {"qwen2.5-coder", "codellama", "codellama"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_gateway_t g;
        REQUIRE(fake_gateway_start(&g, NDJSON_200 "\r\n" LINE("ok\\n") DONE));
        setenv("LCA_CHAT_MODEL", cases[i].env, 1);
        output_t o;
        const char *args[] = {"ask", "hi", cases[i].option ? "--model" : NULL, cases[i].option,
                              NULL};
        int rc = command_run(command_ask, args, &o);
        fake_gateway_stop(&g);
        unsetenv("LCA_CHAT_MODEL");
        CHECK_INT(rc, ==, 0);
        cJSON *req = cJSON_Parse(fake_gateway_body(&g));
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "model")), cases[i].model);
        cJSON_Delete(req);
        /* No collection asked for: no header, the gateway's default. */
        CHECK(strstr(g.request, "X-LCA-Collection") == NULL);
        /* An answer that ends with its newline gets no other. */
        CHECK(starts_with(o.out, "ok\n\nsources: none"));
        output_free(&o);
    }
}

static bool printed_first_token(void *arg) {
    char *out = output_peek(arg, 1);
    bool seen = out && strcmp(out, "Once") == 0;
    free(out);
    return seen;
}

TEST(each_token_is_printed_as_its_line_arrives) {
    /* The rest of the answer is sent only once the first token is on
     * stdout. */
    output_t o;
    fake_gateway_t g;
    REQUIRE(fake_gateway_start_parts(&g, NDJSON_200 "\r\n" LINE("Once"), LINE(" upon a time") DONE,
                                     printed_first_token, &o));
    char *argv[] = {"ask", "tell", "me", NULL};
    output_begin(&o);
    int rc = command_ask(3, argv);
    output_end(&o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK(g.then_waited);
    CHECK(starts_with(o.out, "Once upon a time\n\n"));
    output_free(&o);
}

TEST(sources_none_without_context) {
    const struct {
        const char *header, *said;
    } cases[] = {
        {"", "sources: none (no repository context; is a repository indexed?)\n"},
        {"x-lca-context:   0 chunks: \r\n", "sources: none\n"},
        {"X-LCA-Context: 1 chunks: lib/a.go:1-2\r\n", "sources (1):\n  lib/a.go:1-2\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char response[512];
        snprintf(response, sizeof response, "%s%s\r\n%s%s", NDJSON_200, cases[i].header,
                 LINE("Yes."), DONE);
        fake_gateway_t g;
        REQUIRE(fake_gateway_start(&g, response));
        output_t o;
        int rc = command_run(command_ask, (const char *[]){"ask", "q", NULL}, &o);
        fake_gateway_stop(&g);
        CHECK_INT(rc, ==, 0);
        char expected[256];
        snprintf(expected, sizeof expected, "Yes.\n\n%s", cases[i].said);
        CHECK_STR(o.out, expected);
        output_free(&o);
    }
}

TEST(a_last_line_without_its_newline_still_counts) {
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, NDJSON_200
                               "\r\n" LINE("a") "not json\n{\"message\":{\"content\":\"b\"}}"));
    output_t o;
    int rc = command_run(command_ask, (const char *[]){"ask", "q", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK(starts_with(o.out, "ab\n\nsources: none"));
    output_free(&o);
}

TEST(an_error_before_the_answer_is_the_gateways_message) {
    const struct {
        const char *response, *said;
    } cases[] = {
        {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
         "{\"error\":\"model 'nope' not found\"}",
         "lca ask: model 'nope' not found (HTTP 404)\n"},
        {"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n"
         "{\"error\":{\"message\":\"bad API key\"}}",
         "lca ask: bad API key (HTTP 401)\n"},
        {"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\nupstream is down",
         "lca ask: upstream is down (HTTP 502)\n"},
        {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
         "lca ask: no answer (HTTP 500)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_gateway_t g;
        REQUIRE(fake_gateway_start(&g, cases[i].response));
        output_t o;
        int rc =
            command_run(command_ask, (const char *[]){"ask", "--model", "nope", "q", NULL}, &o);
        fake_gateway_stop(&g);
        CHECK_INT(rc, ==, 1);
        CHECK_STR(o.out, ""); /* no sources either */
        CHECK_STR(o.err, cases[i].said);
        output_free(&o);
    }
}

TEST(an_error_in_the_stream_ends_the_answer) {
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, NDJSON_200 "\r\n" LINE("Half an") "{\"error\":\"Ollama went "
                                                                     "away\"}\n" LINE(" ignored")
                                                                         DONE));
    output_t o;
    int rc = command_run(command_ask, (const char *[]){"ask", "q", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 1);
    /* What follows the error line is not part of the answer. */
    CHECK(starts_with(o.out, "Half an\n\nsources: none"));
    CHECK_STR(o.err, "lca ask: the answer broke off: Ollama went away\n");
    output_free(&o);

    /* The connection lost before the whole answer came. */
    REQUIRE(fake_gateway_start(&g, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" LINE("Half")));
    rc = command_run(command_ask, (const char *[]){"ask", "q", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 1);
    CHECK(starts_with(o.out, "Half\n\nsources: none"));
    CHECK(starts_with(o.err, "lca ask: the answer broke off: "));
    CHECK(strlen(o.err) > 32);
    output_free(&o);
}

TEST(no_gateway_is_exit_status_1_with_a_hint) {
    REQUIRE(fake_gateway_absent());
    output_t o;
    int rc = command_run(command_ask, (const char *[]){"ask", "q", NULL}, &o);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    char expected[128];
    snprintf(expected, sizeof expected,
             "lca ask: cannot reach lca at http://127.0.0.1:%s/api/chat (", getenv("LCA_PORT"));
    CHECK(starts_with(o.err, expected));
    CHECK(strstr(o.err, "): is `lca up` running?\n") != NULL);
    output_free(&o);
}

TEST(help_and_bad_options) {
    output_t o;
    int rc = command_run(command_ask, (const char *[]){"ask", "--help", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "lca ask [options] QUESTION") != NULL);
    CHECK(strstr(o.out, "--model") != NULL);
    CHECK(strstr(o.out, "LCA_CHAT_MODEL") != NULL);
    CHECK(strstr(o.out, "--collection") != NULL);
    output_free(&o);

    REQUIRE(fake_gateway_absent());
    const char *const bad[][5] = {
        {"ask", NULL},
        {"ask", "--model", NULL},
        {"ask", "--nope", "q", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = command_run(command_ask, bad[i], &o);
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        CHECK(starts_with(o.err, "lca ask: "));
        CHECK(strstr(o.err, "cannot reach") == NULL);
        CHECK_INT(count_of(o.err, "\n"), ==, 1);
        output_free(&o);
    }
    rc = command_run(command_ask, (const char *[]){"ask", "--model", "", "q", NULL}, &o);
    CHECK_INT(rc, ==, 2);
    CHECK_STR(o.err, "lca ask: --model wants a model name\n");
    output_free(&o);
}

TEST_MAIN(TEST_CASE(the_question_goes_to_api_chat_and_the_answer_ends_with_its_sources),
          TEST_CASE(the_model_comes_from_the_option_or_the_environment),
          TEST_CASE(each_token_is_printed_as_its_line_arrives),
          TEST_CASE(sources_none_without_context),
          TEST_CASE(a_last_line_without_its_newline_still_counts),
          TEST_CASE(an_error_before_the_answer_is_the_gateways_message),
          TEST_CASE(an_error_in_the_stream_ends_the_answer),
          TEST_CASE(no_gateway_is_exit_status_1_with_a_hint), TEST_CASE(help_and_bad_options))
