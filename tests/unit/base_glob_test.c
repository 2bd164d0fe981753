/* Tests of proto/base/glob: the allow-lists' pattern language. */
#include "proto/base/glob.h"
#include "tests/test.h"

static bool match(const char *pattern, const char *text) {
    return glob_match(pattern, text, strlen(text));
}

static bool in_list(const char *list, const char *text) {
    return glob_list_match(list, text, strlen(text));
}

TEST(stars_match_any_run) {
    CHECK(match("*", ""));
    CHECK(match("*", "anything"));
    CHECK(match("retrieve.*", "retrieve.0"));
    CHECK(match("retrieve.*", "retrieve."));
    CHECK(!match("retrieve.*", "retrieve"));
    CHECK(match("a*c", "abbbc"));
    CHECK(!match("a*c", "acb"));
    CHECK(match("*b*", "aaabaaa"));
    CHECK(match("a**b", "ab"));
    CHECK(match("http://localhost:*", "http://localhost:3000"));
    CHECK(!match("http://localhost:*", "http://localhost.evil:3000"));
}

TEST(literal_text_and_case) {
    CHECK(match("generate", "generate"));
    CHECK(!match("generate", "generates"));
    CHECK(!match("generate", "generat"));
    CHECK(match("GENERATE", "generate"));
    CHECK(match("?", "?"));
    CHECK(!match("?", "a")); /* only the star is special */
}

TEST(lists) {
    CHECK(in_list("generate, embed", "embed"));
    CHECK(in_list(" generate ,embed ", "generate"));
    CHECK(in_list("broker.status,retrieve.*", "retrieve.12"));
    CHECK(!in_list("generate,embed", "retrieve.0"));
    CHECK(!in_list("", "generate"));
    CHECK(!in_list(NULL, "generate"));
    CHECK(!in_list(",,", ""));
    CHECK(in_list("*", "x"));
}

TEST(long_inputs_stay_linear) {
    static char text[100000];
    memset(text, 'a', sizeof text - 1);
    CHECK(!glob_match("*a*a*a*a*a*a*a*a*b", text, sizeof text - 1));
    CHECK(glob_match("*a*a*a*a*a*a*a*a*", text, sizeof text - 1));
}

TEST_MAIN(TEST_CASE(stars_match_any_run), TEST_CASE(literal_text_and_case), TEST_CASE(lists),
          TEST_CASE(long_inputs_stay_linear))
