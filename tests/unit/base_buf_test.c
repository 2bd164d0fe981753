/* Byte buffers, JSON string literals and the packed-texts format. */
#include "proto/base/buf.h"
#include "tests/test.h"

#include <errno.h>

TEST(appends_grow_and_stay_terminated) {
    buf_t b = BUF_INIT;
    CHECK_INT(buf_append_str(&b, "abc"), ==, 0);
    CHECK_INT(buf_printf(&b, "-%d-%s", 42, "x"), ==, 0);
    CHECK_STR(b.data, "abc-42-x");
    CHECK_INT(b.len, ==, 8);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(buf_append(&b, "0123456789", 10), ==, 0);
    CHECK_INT(b.len, ==, 10008);
    CHECK(b.cap > b.len && b.data[b.len] == '\0');
    buf_reset(&b);
    CHECK_INT(b.len, ==, 0);
    CHECK_INT(buf_append(&b, "z", 1), ==, 0);
    CHECK_STR(b.data, "z");
    buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
    buf_free(&b); /* twice is fine */
}

TEST(json_strings_are_escaped) {
    buf_t b = BUF_INIT;
    const char s[] = "a\"b\\c\n\t\x01\xc3\xa9";
    CHECK_INT(buf_append_json_string(&b, s, sizeof s - 1), ==, 0);
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\"");
    buf_free(&b);
}

TEST(packed_texts_round_trip) {
    buf_t b = BUF_INIT;
    CHECK_INT(texts_append(&b, "one", 3), ==, 0);
    CHECK_INT(texts_append(&b, "", 0), ==, 0);
    CHECK_INT(texts_append(&b, "th\0ree", 6), ==, 0);
    CHECK_INT(texts_count(b.data, b.len), ==, 3);
    size_t pos = 0, len = 0;
    const char *text = NULL;
    CHECK_INT(texts_next(b.data, b.len, &pos, &text, &len), ==, 1);
    CHECK(len == 3 && memcmp(text, "one", 3) == 0);
    CHECK_INT(texts_next(b.data, b.len, &pos, &text, &len), ==, 1);
    CHECK_INT(len, ==, 0);
    CHECK_INT(texts_next(b.data, b.len, &pos, &text, &len), ==, 1);
    CHECK(len == 6 && memcmp(text, "th\0ree", 6) == 0);
    CHECK_INT(texts_next(b.data, b.len, &pos, &text, &len), ==, 0);
    /* A length that runs past the end, or a header cut short, is malformed. */
    CHECK_INT(texts_count(b.data, b.len - 1), ==, -EINVAL);
    CHECK_INT(texts_count(b.data, 2), ==, -EINVAL);
    CHECK_INT(texts_count(NULL, 0), ==, 0);
    buf_free(&b);
}

TEST(bytes_dup_and_err_printf) {
    char *copy = bytes_dup("ab\0cd", 5);
    REQUIRE(copy);
    CHECK(memcmp(copy, "ab\0cd", 6) == 0); /* the NUL inside kept, one added */
    free(copy);
    copy = bytes_dup(NULL, 0);
    CHECK(copy && copy[0] == '\0');
    free(copy);
    char err[8] = "unset";
    err_printf(err, sizeof err, "%s %d", "too long", 42);
    CHECK_STR(err, "too lon"); /* truncated, terminated */
    err_printf(NULL, 0, "%s", "nowhere");
    err_printf(err, 0, "%s", "nothing");
    CHECK_STR(err, "too lon");
}

TEST_MAIN(TEST_CASE(appends_grow_and_stay_terminated), TEST_CASE(json_strings_are_escaped),
          TEST_CASE(packed_texts_round_trip), TEST_CASE(bytes_dup_and_err_printf))
