/* Strict JSON and UTF-8 checks. */
#include "proto/base/json.h"
#include "tests/test.h"

#include <errno.h>

static int check(const char *s, bool object) {
    char why[96];
    return json_check(s, strlen(s), object, why, sizeof why);
}

TEST(accepts_valid_json) {
    CHECK_INT(check("{}", true), ==, 0);
    CHECK_INT(check(" {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"], \"b\": {}} ", true),
              ==, 0);
    CHECK_INT(check("[]", false), ==, 0);
    CHECK_INT(check("\"caf\xc3\xa9\"", false), ==, 0);
    CHECK_INT(check("0", false), ==, 0);
}

TEST(rejects_invalid_json) {
    const char *bad[] = {"",
                         "{",
                         "{\"a\":}",
                         "{\"a\" 1}",
                         "{a:1}",
                         "[1,]",
                         "{\"a\":1,}",
                         "01",
                         "1.",
                         "-",
                         "tru",
                         "\"\\x\"",
                         "\"a\nb\"",
                         "{} x",
                         "\"\\u12\"",
                         "[1 2]",
                         "{\"a\":1 \"b\":2}",
                         "nul"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (check(bad[i], false) != -EINVAL)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK_INT(check(bad[i], false), ==, -EINVAL);
    }
    CHECK_INT(check("[1]", true), ==, -EINVAL); /* not an object */
}

TEST(rejects_invalid_utf8_and_deep_nesting) {
    CHECK_INT(check("\"\xff\"", false), ==, -EINVAL);
    CHECK_INT(check("\"\xc0\xaf\"", false), ==, -EINVAL);         /* overlong */
    CHECK_INT(check("\"\xed\xa0\x80\"", false), ==, -EINVAL);     /* surrogate */
    CHECK_INT(check("\"\xf4\x90\x80\x80\"", false), ==, -EINVAL); /* > U+10FFFF */
    CHECK_INT(check("\"\xe2\x82\"", false), ==, -EINVAL);         /* truncated */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    CHECK_INT(json_check(deep, 200, false, NULL, 0), ==, -EINVAL);
    CHECK_INT(json_check(deep + 100 - JSON_MAX_DEPTH, 2 * JSON_MAX_DEPTH, false, NULL, 0), ==, 0);
}

TEST_MAIN(TEST_CASE(accepts_valid_json), TEST_CASE(rejects_invalid_json),
          TEST_CASE(rejects_invalid_utf8_and_deep_nesting))
