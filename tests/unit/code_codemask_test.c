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
}

/* Rust: ' starts a character literal or a lifetime; raw strings have no
 * escapes; strings span lines; block comments nest. */
TEST(rust_literals_and_comments) {
    CHECK_STR(code_of(LANG_RUST, "fn f<'a>(x: &'a str) { 'c' }"), "fn f<'a>(x: &'a str) { ___ }");
    CHECK_STR(code_of(LANG_RUST, "m('{', '\"', '\\'', '\\u{7f}', b'}', 'é') 'outer: x"),
              "m(___, ___, ____, ________, b___, ____) 'outer: x");
    CHECK_STR(code_of(LANG_RUST, "a(r#\"x\" {\"#, br\"\\\", r##\"\"#\"##) r#type"),
              "a(_________, _____, _________) r#type");
    CHECK_STR(code_of(LANG_RUST, "bar\"x\" f(r\"open"), "bar___ f(______");
    CHECK_STR(code_of(LANG_RUST, "s = \"a {\nb\"; }"), "s = _______; }");
    CHECK_STR(code_of(LANG_RUST, "/* a /* b */ { */ }"), "_________________ }");
    CHECK_STR(code_of(LANG_C, "/* a /* b */ { */ }"), "____________ { */ }");
    CHECK_STR(code_of(LANG_RUST, "x /* /* open */"), "x _____________");
    CHECK_STR(code_of(LANG_RUST, "'"), "'");
    CHECK_STR(code_of(LANG_RUST, "'\\"), "'\\");
}

TEST(empty_and_edges) {
    uint8_t mask[1];
    codemask_build(LANG_C, "", 0, mask);
    CHECK_STR(code_of(LANG_C, "\"\\"), "__");
    CHECK_STR(code_of(LANG_C, "/"), "/");
}

TEST_MAIN(TEST_CASE(comments_are_not_code), TEST_CASE(strings_are_not_code),
          TEST_CASE(rust_literals_and_comments), TEST_CASE(empty_and_edges))
