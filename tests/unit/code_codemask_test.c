/* Tests of proto/code/codemask: which bytes are code. */
#include "proto/code/codemask.h"
#include "tests/test.h"

/* The code bytes of text as a string, others as '_'. */
static const char *code_of(lang_id_t lang, const char *text) {
    static char out[512];
    uint8_t mask[512];
    size_t n = strlen(text);
    codemask_build(lang, text, n, mask);
    for (size_t i = 0; i < n; i++)
        out[i] = mask[i] ? text[i] : '_';
    out[n] = '\0';
    return out;
}

TEST(comments_are_not_code) {
    CHECK_STR(code_of(LANG_C, "a // b\nc /* d */ e"), "a ____\nc _______ e");
    CHECK_STR(code_of(LANG_PYTHON, "a # b\nc"), "a ___\nc");
    CHECK_STR(code_of(LANG_PYTHON, "a // b"), "a // b"); /* floor division */
    CHECK_STR(code_of(LANG_GO, "x /* unterminated"), "x _______________");
}

TEST(strings_are_not_code) {
    CHECK_STR(code_of(LANG_JAVASCRIPT, "f('a.b', \"c\\\"d\", `e\nf`) g"),
              "f(_____, ______, _____) g");
    CHECK_STR(code_of(LANG_PYTHON, "x = \"\"\"doc\nmore\"\"\" y"), "x = ______________ y");
    CHECK_STR(code_of(LANG_PYTHON, "s = 'open\nt"), "s = _____\nt"); /* ends with its line */
    CHECK_STR(code_of(LANG_RUST, "fn f<'a>(x: &'a str) { 'c' }"), "fn f<'a>(x: &'a str) { 'c' }");
}

TEST(empty_and_edges) {
    uint8_t mask[1];
    codemask_build(LANG_C, "", 0, mask);
    CHECK_STR(code_of(LANG_C, "\"\\"), "__");
    CHECK_STR(code_of(LANG_C, "/"), "/");
}

TEST_MAIN(TEST_CASE(comments_are_not_code), TEST_CASE(strings_are_not_code),
          TEST_CASE(empty_and_edges))
