/*
 * Tests of generator/relay's reading of Ollama's error bodies: the message a
 * user sees for each kind of non-2xx answer.
 */
#include "generator/relay.h"
#include "tests/test.h"

static void check_message(const char *body, long status, const char *want) {
    char out[128];
    relay_error_message(body, body ? strlen(body) : 0, status, out, sizeof out);
    CHECK_STR(out, want);
}

TEST(ollama_error_bodies) {
    check_message("{\"error\":\"model 'x' not found\"}", 404, "model 'x' not found");
    check_message("{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}", 400,
                  "bad");
    check_message("404 page not found", 404, "404 page not found");
    check_message("  first line\nsecond line", 502, "first line");
    check_message("tab\there", 500, "tab here");
    check_message("", 503, "Ollama answered HTTP 503");
    check_message(NULL, 500, "Ollama answered HTTP 500");
    check_message("{\"error\":\"\"}", 500, "Ollama answered HTTP 500");
    check_message("{\"other\":1}", 418, "Ollama answered HTTP 418");
}

TEST(messages_are_cut_to_the_buffer) {
    char out[8];
    relay_error_message("{\"error\":\"a long message\"}", 26, 500, out, sizeof out);
    CHECK_STR(out, "a long ");
    relay_error_message("plain text that is long", 23, 500, out, sizeof out);
    CHECK_STR(out, "plain t");
    char tiny[1] = {'x'};
    relay_error_message("x", 1, 500, tiny, sizeof tiny);
    CHECK(tiny[0] == '\0');
}

TEST_MAIN(TEST_CASE(ollama_error_bodies), TEST_CASE(messages_are_cut_to_the_buffer))
