/*
 * Tests of generator/ndjson: lines come out whole and in order however the
 * bytes are cut, at once when their newline arrives, with blank lines and
 * "\r" dropped; the size limit and a stopping callback are honoured.
 */
#include "generator/ndjson.h"
#include "tests/test.h"

#include <errno.h>

typedef struct {
    char lines[16][64];
    int n;
    int stop_at; /* return -1 for this line number (0: never) */
} sink_t;

static int collect(void *arg, const char *line, size_t len) {
    sink_t *s = arg;
    if (s->n < 16) {
        snprintf(s->lines[s->n], sizeof s->lines[s->n], "%.*s", (int)len, line);
        s->n++;
    }
    return s->stop_at && s->n == s->stop_at ? -1 : 0;
}

TEST(whole_lines_in_one_read) {
    ndjson_t *p = ndjson_new(1024);
    sink_t s = {0};
    CHECK_INT(ndjson_feed(p, "{\"a\":1}\n{\"b\":2}\n", 16, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 2);
    CHECK_STR(s.lines[0], "{\"a\":1}");
    CHECK_STR(s.lines[1], "{\"b\":2}");
    CHECK_INT(ndjson_pending(p), ==, 0);
    ndjson_destroy(&p);
    CHECK(p == NULL);
    ndjson_destroy(&p); /* accepts NULL */
}

TEST(every_split_point_gives_the_same_lines) {
    const char *text = "{\"x\":\"one\"}\r\n\n{\"x\":\"two\"}\n  \n{\"x\":\"three\"}\n";
    size_t len = strlen(text);
    for (size_t cut1 = 0; cut1 <= len; cut1++) {
        for (size_t cut2 = cut1; cut2 <= len; cut2++) {
            ndjson_t *p = ndjson_new(1024);
            sink_t s = {0};
            int rc = ndjson_feed(p, text, cut1, collect, &s);
            rc |= ndjson_feed(p, text + cut1, cut2 - cut1, collect, &s);
            rc |= ndjson_feed(p, text + cut2, len - cut2, collect, &s);
            rc |= ndjson_finish(p, collect, &s);
            bool ok = rc == 0 && s.n == 3 && strcmp(s.lines[0], "{\"x\":\"one\"}") == 0 &&
                      strcmp(s.lines[1], "{\"x\":\"two\"}") == 0 &&
                      strcmp(s.lines[2], "{\"x\":\"three\"}") == 0;
            if (!ok)
                fprintf(stderr, "  cut at %zu and %zu: %d lines\n", cut1, cut2, s.n);
            CHECK(ok);
            ndjson_destroy(&p);
        }
    }
}

TEST(a_line_goes_out_when_its_newline_arrives) {
    ndjson_t *p = ndjson_new(1024);
    sink_t s = {0};
    CHECK_INT(ndjson_feed(p, "{\"a\":", 5, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 0);
    CHECK_INT(ndjson_pending(p), ==, 5);
    CHECK_INT(ndjson_feed(p, "1}", 2, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 0);
    CHECK_INT(ndjson_feed(p, "\n{", 2, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 1);
    CHECK_STR(s.lines[0], "{\"a\":1}");
    CHECK_INT(ndjson_pending(p), ==, 1);
    ndjson_destroy(&p);
}

TEST(finish_passes_a_last_line_without_newline) {
    ndjson_t *p = ndjson_new(1024);
    sink_t s = {0};
    CHECK_INT(ndjson_feed(p, "{\"done\":true}", 13, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 0);
    CHECK_INT(ndjson_finish(p, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 1);
    CHECK_STR(s.lines[0], "{\"done\":true}");
    CHECK_INT(ndjson_finish(p, collect, &s), ==, 0); /* nothing left */
    CHECK_INT(s.n, ==, 1);
    ndjson_destroy(&p);
}

TEST(too_long_lines_are_refused) {
    ndjson_t *p = ndjson_new(8);
    sink_t s = {0};
    CHECK_INT(ndjson_feed(p, "12345678\n", 9, collect, &s), ==, 0);
    CHECK_INT(s.n, ==, 1);
    CHECK_INT(ndjson_feed(p, "123456789\n", 10, collect, &s), ==, -E2BIG);
    ndjson_destroy(&p);
    p = ndjson_new(8);
    CHECK_INT(ndjson_feed(p, "12345", 5, collect, &s), ==, 0);
    CHECK_INT(ndjson_feed(p, "6789", 4, collect, &s), ==, -E2BIG);
    ndjson_destroy(&p);
}

TEST(a_callback_can_stop_the_feed) {
    ndjson_t *p = ndjson_new(64);
    sink_t s = {.stop_at = 2};
    CHECK_INT(ndjson_feed(p, "a\nb\nc\n", 6, collect, &s), ==, -1);
    CHECK_INT(s.n, ==, 2);
    CHECK_STR(s.lines[1], "b");
    ndjson_destroy(&p);
}

TEST_MAIN(TEST_CASE(whole_lines_in_one_read), TEST_CASE(every_split_point_gives_the_same_lines),
          TEST_CASE(a_line_goes_out_when_its_newline_arrives),
          TEST_CASE(finish_passes_a_last_line_without_newline),
          TEST_CASE(too_long_lines_are_refused), TEST_CASE(a_callback_can_stop_the_feed))
