/* The X-LCA-Context header: whole items, a count of what did not fit,
 * printable ASCII, and a list `lca ask` can split at commas. */
#include "gateway/rag.h"
#include "tests/test.h"

#include <stdio.h>
#include <string.h>

static context_chunk_t chunk(const char *path, int start, int end) {
    return (context_chunk_t){.path = path, .start_line = start, .end_line = end};
}

TEST(lists_the_used_chunks) {
    context_chunk_t chunks[] = {chunk("a.py", 1, 20), chunk("b.py", 5, 9), chunk("c.py", 40, 61)};
    context_result_t r = {.chunks = chunks, .count = 3};
    char out[256];
    bool used[] = {true, false, true};
    size_t n = rag_context_header(out, sizeof out, &r, used);
    CHECK_STR(out, "2 chunks: a.py:1-20, c.py:40-61");
    CHECK_INT(n, ==, strlen(out));
    rag_context_header(out, sizeof out, &r, NULL);
    CHECK_STR(out, "3 chunks: a.py:1-20, b.py:5-9, c.py:40-61");
    bool one[] = {false, true, false};
    rag_context_header(out, sizeof out, &r, one);
    CHECK_STR(out, "1 chunk: b.py:5-9");
    context_result_t none = {0};
    rag_context_header(out, sizeof out, &none, NULL);
    CHECK_STR(out, "0 chunks");
}

TEST(what_does_not_fit_is_counted_not_cut) {
    static char paths[40][200];
    static context_chunk_t chunks[40];
    for (int i = 0; i < 40; i++) {
        snprintf(paths[i], sizeof paths[i], "src/%0150d/file%d.ts", 0, i);
        chunks[i] = chunk(paths[i], i, i + 10);
    }
    context_result_t r = {.chunks = chunks, .count = 40};
    char out[2048];
    size_t n = rag_context_header(out, sizeof out, &r, NULL);
    CHECK(n < sizeof out);
    CHECK(strncmp(out, "40 chunks: src/", 15) == 0);
    const char *more = strstr(out, ", +");
    REQUIRE(more);
    int listed = 0;
    for (const char *p = out; (p = strstr(p, ".ts:")); p++)
        listed++;
    int rest = 0;
    CHECK_INT(sscanf(more, ", +%d more", &rest), ==, 1);
    CHECK_INT(listed + rest, ==, 40);
    CHECK(listed >= 10);
    /* every listed item is whole: it ends in its line range */
    char expect[64];
    snprintf(expect, sizeof expect, "file%d.ts:%d-%d, +", listed - 1, listed - 1, listed + 9);
    CHECK(strstr(out, expect) != NULL);
    /* a buffer too small for any item still says how many there are */
    char tiny[40];
    rag_context_header(tiny, sizeof tiny, &r, NULL);
    CHECK_STR(tiny, "40 chunks: +40 more");
}

TEST(paths_cannot_break_the_header_or_the_list) {
    context_chunk_t chunks[] = {chunk("we,ird\r\nX-Evil: 1\x7f\xc3\xa9.py", 3, 4),
                                chunk("ok.py", 1, 2)};
    context_result_t r = {.chunks = chunks, .count = 2};
    char out[256];
    rag_context_header(out, sizeof out, &r, NULL);
    for (const char *p = out; *p; p++)
        CHECK(*p >= 0x20 && *p < 0x7f);
    CHECK_STR(out, "2 chunks: we?ird??X-Evil: 1???.py:3-4, ok.py:1-2");
}

TEST_MAIN(TEST_CASE(lists_the_used_chunks), TEST_CASE(what_does_not_fit_is_counted_not_cut),
          TEST_CASE(paths_cannot_break_the_header_or_the_list))
