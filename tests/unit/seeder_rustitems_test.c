/* Tests of seeder/rustitems: the Rust items ctags does not see inside
 * macro invocations, and how they complete ctags's tags. */
#include "seeder/rustitems.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"

static char seen[4096];

/* The tags rustitems adds to ctags's (tags[0..n)), as
 * "scope.name:kind:line-end;" (no scope: "name:kind:line-end;"). */
static const char *added(const char *text, const ctags_tag_t *tags, size_t n) {
    seen[0] = '\0';
    ctags_tag_t *out = NULL;
    char *names = NULL;
    size_t nout = 0;
    CHECK_INT(rustitems_complete_tags(LANG_RUST, text, strlen(text), tags, n, &out, &nout, &names),
              ==, 0);
    for (size_t i = n; out && i < nout; i++) {
        size_t len = strlen(seen);
        snprintf(seen + len, sizeof seen - len, "%s%s%s:%s:%d-%d;",
                 out[i].scope ? out[i].scope : "", out[i].scope ? "." : "", out[i].name,
                 out[i].kind, out[i].line, out[i].end);
    }
    if (out)
        for (size_t i = 0; i < n; i++) /* ctags's own come first, unchanged */
            CHECK(out[i].line == tags[i].line && !strcmp(out[i].name, tags[i].name));
    free(out);
    free(names);
    return seen;
}

/* The shape of a crate that gates whole modules behind feature macros. */
static const char GATED[] =
    "use crate::runtime::Handle;\n"                                        /* 1 */
    "\n"                                                                   /* 2 */
    "cfg_rt! {\n"                                                          /* 3 */
    "    /// Runs the closure on a thread where blocking is fine.\n"       /* 4 */
    "    #[track_caller]\n"                                                /* 5 */
    "    pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>\n"             /* 6 */
    "    where\n"                                                          /* 7 */
    "        F: FnOnce() -> R + Send + 'static,\n"                         /* 8 */
    "    {\n"                                                              /* 9 */
    "        fn inner() {}\n"                                              /* 10 */
    "        let s = \"fn not_an_item() {\";\n"                            /* 11 */
    "        crate::runtime::spawn_blocking(f)\n"                          /* 12 */
    "    }\n"                                                              /* 13 */
    "\n"                                                                   /* 14 */
    "    pub(crate) struct Pool { size: usize }\n"                         /* 15 */
    "\n"                                                                   /* 16 */
    "    impl<T: Clone> fmt::Debug for Pool<T> {\n"                        /* 17 */
    "        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n" /* 18 */
    "            Ok(())\n"                                                 /* 19 */
    "        }\n"                                                          /* 20 */
    "    }\n"                                                              /* 21 */
    "    // pub fn commented_out() {}\n"                                   /* 22 */
    "    pub trait Schedule {\n"                                           /* 23 */
    "        fn release(&self, task: &Task) -> Option<Task>;\n"            /* 24 */
    "    }\n"                                                              /* 25 */
    "    pub const unsafe fn raw() {}\n"                                   /* 26 */
    "    pub(crate) const LIMIT: usize = 512;\n"                           /* 27 */
    "    static mut COUNT: u32 = 0;\n"                                     /* 28 */
    "    mod inner {\n"                                                    /* 29 */
    "        pub fn helper() {}\n"                                         /* 30 */
    "    }\n"                                                              /* 31 */
    "    macro_rules! gated { () => {} }\n"                                /* 32 */
    "}\n";                                                                 /* 33 */

TEST(items_inside_a_macro_are_found) {
    CHECK_STR(added(GATED, NULL, 0), "spawn_blocking:function:6-13;"
                                     "Pool:struct:15-15;"
                                     "Pool.fmt:method:18-20;"
                                     "Schedule:interface:23-25;"
                                     "Schedule.release:method:24-24;"
                                     "raw:function:26-26;"
                                     "LIMIT:constant:27-27;"
                                     "COUNT:variable:28-28;"
                                     "inner.helper:function:30-30;"
                                     "gated:macro:32-32;");
}

TEST(what_ctags_tagged_is_kept_and_not_repeated) {
    const ctags_tag_t tags[] = {
        {.path = "src/a.rs", .name = "spawn_blocking", .kind = "function", .line = 6, .end = 13},
        {.path = "src/a.rs", .name = "Pool", .kind = "struct", .line = 15, .end = 15},
    };
    const char *got = added(GATED, tags, 2);
    CHECK(strstr(got, "spawn_blocking") == NULL);
    CHECK(strstr(got, "Pool:struct") == NULL);
    CHECK(strstr(got, "Pool.fmt:method:18-20;") != NULL);
}

TEST(other_languages_and_empty_input_change_nothing) {
    ctags_tag_t *out = (ctags_tag_t *)1;
    char *names = (char *)1;
    size_t n = 7;
    CHECK_INT(rustitems_complete_tags(LANG_C, "fn f() {}\n", 10, NULL, 0, &out, &n, &names), ==, 0);
    CHECK(out == NULL && names == NULL && n == 0);
    CHECK_INT(rustitems_complete_tags(LANG_RUST, "", 0, NULL, 0, &out, &n, &names), ==, 0);
    CHECK(out == NULL);
    /* a plain file whose items ctags reports: nothing new */
    const ctags_tag_t tags[] = {{.path = "x.rs", .name = "f", .kind = "function", .line = 1}};
    CHECK_STR(added("fn f() {}\n", tags, 1), "");
}

TEST(odd_input_is_read_safely) {
    static const char *const odd[] = {
        "}}}} fn a() {", "impl",
        "impl<",         "pub(",
        "pub(crate",     "fn",
        "const",         "static mut",
        "impl X for",    "trait T { fn x(&self) { { { {",
        "macro_rules!",  "extern \"C\" fn c_fn() {}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char *copy = malloc(strlen(odd[i])); /* no NUL after it: reads stay inside */
        memcpy(copy, odd[i], strlen(odd[i]));
        ctags_tag_t *out = NULL;
        char *names = NULL;
        size_t n = 0;
        CHECK_INT(
            rustitems_complete_tags(LANG_RUST, copy, strlen(odd[i]), NULL, 0, &out, &n, &names), ==,
            0);
        free(out);
        free(names);
        free(copy);
    }
    CHECK_STR(added("extern \"C\" fn c_fn() {}\n", NULL, 0), "c_fn:function:1-1;");
}

/* Braces and quotes in Rust's literals and comments are not code: before
 * codemask knew them, the '{' below opened a block that never closed, and
 * every item after lex() was taken for a local of its body. */
TEST(braces_in_literals_do_not_hide_later_items) {
    static const char text[] = "fn lex(c: char) -> i32 {\n"                   /* 1 */
                               "    let q = '\"';\n"                          /* 2 */
                               "    let e = '\\'';\n"                         /* 3 */
                               "    let raw = r#\"a \"quoted\" { brace\"#;\n" /* 4 */
                               "    let text = \"spans {\n"                   /* 5 */
                               "        lines\";\n"                           /* 6 */
                               "    /* nested /* comment */ { */\n"           /* 7 */
                               "    match c { '{' => 1, _ => 0 }\n"           /* 8 */
                               "}\n"                                          /* 9 */
                               "fn after<'a>(x: &'a str) -> &'a str { x }\n"; /* 10 */
    CHECK_STR(added(text, NULL, 0), "lex:function:1-9;after:function:10-10;");
}

/* Blocks nested deeper than the scanner keeps: once they close, the items
 * after them are read again (a function body opened down there used to
 * stay counted for the rest of the file). */
TEST(items_after_very_deep_nesting_are_found) {
    char text[2048] = "";
    for (int i = 0; i < 140; i++)
        strcat(text, "{");
    strcat(text, "\nfn deep() { let x = 1; }\n");
    for (int i = 0; i < 140; i++)
        strcat(text, "}");
    strcat(text, "\nfn after_deep() {}\n");
    CHECK(strstr(added(text, NULL, 0), "after_deep:function:4-4;") != NULL);
}

/* An impl for a reference names the type behind the lifetime. */
TEST(impl_for_a_reference_is_a_scope) {
    CHECK_STR(added("m! {\n"
                    "impl<'a, T: Run> Run for &'a mut Task<T> {\n"
                    "    fn run(&self) {}\n"
                    "}\n"
                    "}\n",
                    NULL, 0),
              "Task.run:method:3-3;");
}

/* ctags 5.9 tags the methods of an impl whose header goes on past its
 * line (a `where` clause) as plain functions: they get their impl. */
TEST(a_method_ctags_left_unscoped_gets_its_impl) {
    static const char text[] = "impl<T, S> Harness<T, S>\n"
                               "where\n"
                               "    S: 'static,\n"
                               "{\n"
                               "    pub(super) fn poll(self) {}\n"
                               "}\n"
                               "fn free() {}\n";
    const ctags_tag_t tags[] = {
        {.path = "src/h.rs", .name = "Harness", .kind = "implementation", .line = 1, .end = 6},
        {.path = "src/h.rs", .name = "poll", .kind = "function", .line = 5},
        {.path = "src/h.rs", .name = "free", .kind = "function", .line = 7},
    };
    ctags_tag_t *out = NULL;
    char *names = NULL;
    size_t nout = 0;
    REQUIRE(rustitems_complete_tags(LANG_RUST, text, strlen(text), tags, 3, &out, &nout, &names) ==
            0);
    REQUIRE(out && nout == 3); /* nothing added */
    CHECK_STR(out[1].name, "poll");
    CHECK_STR(out[1].kind, "method");
    CHECK_STR(out[1].scope, "Harness");
    CHECK_STR(out[1].scope_kind, "implementation");
    CHECK(out[2].scope == NULL && !strcmp(out[2].kind, "function"));
    free(out);
    free(names);
}

TEST_MAIN(TEST_CASE(items_inside_a_macro_are_found),
          TEST_CASE(what_ctags_tagged_is_kept_and_not_repeated),
          TEST_CASE(other_languages_and_empty_input_change_nothing),
          TEST_CASE(odd_input_is_read_safely),
          TEST_CASE(braces_in_literals_do_not_hide_later_items),
          TEST_CASE(items_after_very_deep_nesting_are_found),
          TEST_CASE(impl_for_a_reference_is_a_scope),
          TEST_CASE(a_method_ctags_left_unscoped_gets_its_impl))
