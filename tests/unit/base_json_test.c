/* Strict JSON and UTF-8 checks. */
#include "proto/base/json.h"
#include "tests/test.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>

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

/* Values as cJSON counts nodes: the count agrees with cJSON's own tree. */
static size_t nodes(const cJSON *item) {
    size_t n = 1;
    for (const cJSON *child = item->child; child; child = child->next)
        n += nodes(child);
    return n;
}

TEST(counts_values_as_cjson_makes_nodes) {
    const char *docs[] = {"{}",
                          "[]",
                          "{\"a\":1}",
                          "{\"a\":[1,2,{\"b\":null}],\"c\":\"x,]}\\\"[\",\"d\":{}}",
                          "[[[]],[true,false],\"\\u005d\"]",
                          " { \"k\" : [ 0 , -1.5e3 , \"\" ] } "};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        const char *s = docs[i];
        cJSON *tree = cJSON_Parse(s);
        REQUIRE(tree);
        size_t n = nodes(tree);
        cJSON_Delete(tree);
        char why[96] = "";
        /* Exactly n values: n passes, n - 1 is refused with the count in
         * the reason (0 would mean no limit). */
        CHECK_INT(json_check_bounded(s, strlen(s), false, n, why, sizeof why), ==, 0);
        if (n < 2)
            continue;
        CHECK_INT(json_check_bounded(s, strlen(s), false, n - 1, why, sizeof why), ==, -E2BIG);
        char want[64];
        snprintf(want, sizeof want, "more than %zu values", n - 1);
        CHECK_STR(why, want);
    }
    /* 0 is no limit; invalid JSON under the limit is still invalid. */
    CHECK_INT(json_check_bounded("[1,2,3]", 7, false, 0, NULL, 0), ==, 0);
    CHECK_INT(json_check_bounded("[1,2,]", 6, false, 10, NULL, 0), ==, -EINVAL);
}

TEST(a_huge_array_stops_at_the_limit) {
    /* A million elements; the scan refuses at the limit, before the end. */
    size_t count = 1000000, len = 2 * count + 1;
    char *s = malloc(len + 1);
    REQUIRE(s);
    s[0] = '[';
    for (size_t i = 0; i < count; i++) {
        s[1 + 2 * i] = '0';
        s[2 + 2 * i] = i + 1 < count ? ',' : ']';
    }
    s[len] = '\0';
    char why[96];
    CHECK_INT(json_check_bounded(s, len, false, 1000, why, sizeof why), ==, -E2BIG);
    CHECK_INT(json_check_bounded(s, len, false, count + 1, why, sizeof why), ==, 0);
    CHECK_INT(json_check_bounded(s, len, false, count, why, sizeof why), ==, -E2BIG);
    free(s);
}

TEST_MAIN(TEST_CASE(accepts_valid_json), TEST_CASE(rejects_invalid_json),
          TEST_CASE(rejects_invalid_utf8_and_deep_nesting),
          TEST_CASE(counts_values_as_cjson_makes_nodes), TEST_CASE(a_huge_array_stops_at_the_limit))
