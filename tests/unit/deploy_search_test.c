/*
 * Tests of `lca search` (deploy/search.c) against a fake gateway
 * (tests/command.h): the POST /api/context it sends (the words joined into
 * one query, k, the collection), how it prints the chunks (path:lines and
 * score, the first --lines lines of each, cut at 110 characters), an empty
 * result, the gateway's error in either API shape, an answer that is not
 * lca's, no gateway, and --help and bad options.
 */
#include "deploy/commands.h"
#include "tests/command.h"

#include <cJSON.h>

/* An HTTP answer with body: status line and headers, then the body. */
static char *answer(const char *status, const char *body) {
    size_t size = strlen(body) + 256;
    char *text = malloc(size);
    snprintf(text, size,
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             status, strlen(body), body);
    return text;
}

static const char found[] =
    "{\"collection\":\"shop\",\"elapsed_ms\":12.34,\"chunks\":["
    "{\"path\":\"src/cart.py\",\"start_line\":10,\"end_line\":24,\"score\":0.876,"
    "\"text\":\"def total(cart):\\n    s = 0\\n    for item in cart:\\n        s += item\\n"
    "    return s\\n\"},"
    "{\"path\":\"src/long.py\",\"start_line\":1,\"end_line\":1,\"score\":0.5,"
    "\"text\":\"x = '"
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789'\"}]}";

TEST(the_query_goes_to_api_context_and_the_chunks_are_printed) {
    char *response = answer("200 OK", found);
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, response));
    output_t o;
    int rc = command_run(command_search,
                         (const char *[]){"search", "how", "--collection", "shop", "is the", "-k",
                                          "3", "total", "made", NULL},
                         &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out,
              "src/cart.py:10-24  (0.88)\n"
              "    def total(cart):\n"
              "        s = 0\n"
              "        for item in cart:\n"
              "            s += item\n"
              "src/long.py:1-1  (0.50)\n"
              "    x = '0123456789012345678901234567890123456789012345678901234567890123456789"
              "01234567890123456789012345678901234\n"
              "(collection shop, 12.3 ms)\n");
    CHECK_STR(o.err, "");
    CHECK(starts_with(g.request, "POST /api/context HTTP/1.1\r\n"));
    CHECK(strstr(g.request, "\r\nContent-Type: application/json\r\n") != NULL);
    cJSON *req = cJSON_Parse(fake_gateway_body(&g));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "query")), "how is the total made");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(req, "k")) == 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(req, "collection")), "shop");
    cJSON_Delete(req);
    output_free(&o);
    free(response);
}

TEST(lines_says_how_much_of_each_chunk_and_k_defaults_to_8) {
    char *response = answer("200 OK", found);
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, response));
    output_t o;
    int rc =
        command_run(command_search, (const char *[]){"search", "--lines", "1", "total", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "src/cart.py:10-24  (0.88)\n    def total(cart):\nsrc/long.py:1-1") !=
          NULL);
    cJSON *req = cJSON_Parse(fake_gateway_body(&g));
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(req, "k")) == 8);
    CHECK(cJSON_GetObjectItem(req, "collection") == NULL); /* the gateway's default */
    cJSON_Delete(req);
    output_free(&o);

    REQUIRE(fake_gateway_start(&g, response));
    rc = command_run(command_search, (const char *[]){"search", "--lines", "0", "total", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "src/cart.py:10-24  (0.88)\nsrc/long.py:1-1  (0.50)\n"
                     "(collection shop, 12.3 ms)\n");
    output_free(&o);
    free(response);
}

TEST(nothing_found_says_so) {
    char *response =
        answer("200 OK", "{\"collection\":\"default\",\"elapsed_ms\":0.4,\"chunks\":[]}");
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, response));
    output_t o;
    int rc = command_run(command_search, (const char *[]){"search", "zebra", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "nothing found\n(collection default, 0.4 ms)\n");
    output_free(&o);
    free(response);
}

TEST(the_gateways_error_in_either_shape_is_exit_status_1) {
    const struct {
        const char *status, *body, *said;
    } cases[] = {
        {"404 Not Found", "{\"error\":\"unknown collection 'nope'\"}",
         "lca search: unknown collection 'nope'\n"},
        {"401 Unauthorized", "{\"error\":{\"message\":\"bad API key\",\"type\":\"auth\"}}",
         "lca search: bad API key\n"},
        {"502 Bad Gateway", "<html>proxy error</html>", "lca search: unknown error\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *response = answer(cases[i].status, cases[i].body);
        fake_gateway_t g;
        REQUIRE(fake_gateway_start(&g, response));
        output_t o;
        int rc = command_run(command_search, (const char *[]){"search", "x", NULL}, &o);
        fake_gateway_stop(&g);
        CHECK_INT(rc, ==, 1);
        CHECK_STR(o.out, "");
        CHECK_STR(o.err, cases[i].said);
        output_free(&o);
        free(response);
    }
}

TEST(an_answer_that_is_not_lcas_is_exit_status_1) {
    /* Something else on the port that says 200: not "nothing found". */
    const char *bodies[] = {"<html>it works</html>", "{\"models\":[]}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char *response = answer("200 OK", bodies[i]);
        fake_gateway_t g;
        REQUIRE(fake_gateway_start(&g, response));
        output_t o;
        int rc = command_run(command_search, (const char *[]){"search", "x", NULL}, &o);
        fake_gateway_stop(&g);
        CHECK_INT(rc, ==, 1);
        CHECK_STR(o.out, "");
        char expected[128];
        snprintf(expected, sizeof expected,
                 "lca search: http://127.0.0.1:%d/api/context did not answer as lca does\n",
                 g.port);
        CHECK_STR(o.err, expected);
        output_free(&o);
        free(response);
    }
}

TEST(no_gateway_is_exit_status_1_with_a_hint) {
    REQUIRE(fake_gateway_absent());
    output_t o;
    int rc = command_run(command_search, (const char *[]){"search", "x", NULL}, &o);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    char expected[128];
    snprintf(expected, sizeof expected, "lca search: cannot reach lca at http://127.0.0.1:%s/",
             getenv("LCA_PORT"));
    CHECK(starts_with(o.err, expected));
    CHECK(strstr(o.err, "): is `lca up` running?\n") != NULL);
    output_free(&o);
}

TEST(help_and_bad_options) {
    output_t o;
    int rc = command_run(command_search, (const char *[]){"search", "--help", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "lca search [options] TEXT") != NULL);
    CHECK(strstr(o.out, "--collection") != NULL);
    CHECK(strstr(o.out, "--lines") != NULL);
    CHECK(strstr(o.out, "-k") != NULL);
    output_free(&o);

    const char *const bad[][5] = {
        {"search", NULL},                 /* no text */
        {"search", "-k", "0", "x", NULL}, /* out of range */
        {"search", "-k", "101", "x", NULL},
        {"search", "--lines", "-1", "x", NULL},
        {"search", "--nope", "x", NULL},
    };
    REQUIRE(fake_gateway_absent());
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = command_run(command_search, bad[i], &o);
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        CHECK(starts_with(o.err, "lca search: "));
        CHECK(strstr(o.err, "cannot reach") == NULL);
        CHECK_INT(count_of(o.err, "\n"), ==, 1);
        output_free(&o);
    }
}

TEST_MAIN(TEST_CASE(the_query_goes_to_api_context_and_the_chunks_are_printed),
          TEST_CASE(lines_says_how_much_of_each_chunk_and_k_defaults_to_8),
          TEST_CASE(nothing_found_says_so),
          TEST_CASE(the_gateways_error_in_either_shape_is_exit_status_1),
          TEST_CASE(an_answer_that_is_not_lcas_is_exit_status_1),
          TEST_CASE(no_gateway_is_exit_status_1_with_a_hint), TEST_CASE(help_and_bad_options))
