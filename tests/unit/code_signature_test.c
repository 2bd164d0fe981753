/* A definition's signature found in the text of its chunk: its line, the
 * parameters that go on over more lines, and the lines that only mention
 * it (comments, other words) left alone. */
#include "proto/code/signature.h"
#include "tests/test.h"

#include <math.h>
#include <string.h>

#define S(s) (s), strlen(s)

static const char *found(const char *text, const char *name, signature_t *sig) {
    static char line[512];
    if (!signature_find(S(text), S(name), sig))
        return NULL;
    snprintf(line, sizeof line, "%.*s", (int)sig->len, text + sig->at);
    return line;
}

TEST(the_line_that_names_it_after_decorators_and_comments) {
    signature_t sig;
    const char *py = "    @property\n"
                     "    # execute_scalar below\n"
                     "    def execute_scalar(self, stmt):\n"
                     "        return self.run(stmt)\n";
    CHECK_STR(found(py, "execute_scalar", &sig), "    def execute_scalar(self, stmt):");
    CHECK_INT(sig.line, ==, 2);
    CHECK_INT(sig.lines, ==, 1);
    const char *java = "/**\n"
                       " * Calls layout() when dirty.\n"
                       " */\n"
                       "protected void layout() {\n"
                       "    layoutChildren();\n"
                       "}\n";
    CHECK_STR(found(java, "layout", &sig), "protected void layout() {");
    CHECK_INT(sig.line, ==, 3);
    const char *go = "// Open opens it.\nfunc (r *Repo) Open(path string) error {\n\treturn nil\n}";
    CHECK_STR(found(go, "Open", &sig), "func (r *Repo) Open(path string) error {");
    const char *c = "#define MAX_LEN 64\n";
    CHECK_STR(found(c, "MAX_LEN", &sig), "#define MAX_LEN 64");
}

TEST(parameters_over_several_lines) {
    signature_t sig;
    const char *py = "def connect(\n"
                     "    host,\n"
                     "    port=80,\n"
                     "):\n"
                     "    pass\n";
    CHECK_STR(found(py, "connect", &sig), "def connect(\n    host,\n    port=80,\n):");
    CHECK_INT(sig.lines, ==, 4);
    /* a body's braces are not followed */
    const char *rs = "pub fn spawn<F>(f: F) -> JoinHandle {\n    inner(f)\n}\n";
    CHECK_STR(found(rs, "spawn", &sig), "pub fn spawn<F>(f: F) -> JoinHandle {");
    CHECK_INT(sig.lines, ==, 1);
    /* never more than SIGNATURE_LINES_MAX lines, even unbalanced */
    const char *open = "f(\na\nb\nc\nd\ne\nf\ng\n";
    CHECK(found(open, "f", &sig) != NULL);
    CHECK_INT(sig.lines, ==, SIGNATURE_LINES_MAX);
    /* a carriage return and trailing spaces are not kept */
    CHECK_STR(found("int count(void)  \r\n{}", "count", &sig), "int count(void)");
}

TEST(whole_words_only_and_absent_names) {
    signature_t sig;
    CHECK_STR(found("x = spawner()\ndef spawn(): pass\n", "spawn", &sig), "def spawn(): pass");
    CHECK(found("// spawn it\n", "spawn", &sig) == NULL);
    CHECK(found("", "spawn", &sig) == NULL);
    CHECK(!signature_find(S("spawn"), "", 0, &sig));
    CHECK(!signature_find(NULL, 0, S("spawn"), &sig));
    /* the last line without a newline */
    CHECK_STR(found("a\nlet total = 1", "total", &sig), "let total = 1");
    CHECK_INT(sig.line, ==, 1);
}

/* A Rust item reaches as far as the `pub` before its keyword says. */
TEST(how_far_a_rust_item_reaches) {
    static const struct {
        const char *line;
        signature_reach_t want;
    } cases[] = {
        {"pub fn spawn() {", SIGNATURE_PUBLIC},
        {"    pub async fn read(p: &Path) {", SIGNATURE_PUBLIC},
        {"\tpub struct Runtime {", SIGNATURE_PUBLIC},
        {"pub(crate) fn asyncify<F>(f: F) {", SIGNATURE_CRATE},
        {"pub(super) struct Inner;", SIGNATURE_CRATE},
        {"pub(in crate::rt) fn enter() {", SIGNATURE_CRATE},
        {"pub( self ) fn mine() {", SIGNATURE_PRIVATE},
        {"fn helper() {", SIGNATURE_PRIVATE},
        {"    const LIMIT: usize = 4;", SIGNATURE_PRIVATE},
        {"publish_all();", SIGNATURE_PRIVATE},
        {"macro_rules! cfg_rt {", SIGNATURE_PUBLIC},
        {"pub", SIGNATURE_PUBLIC},
        {"", SIGNATURE_PRIVATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        signature_reach_t got = signature_rust_reach(cases[i].line, strlen(cases[i].line));
        if (got != cases[i].want)
            fprintf(stderr, "  %s\n", cases[i].line);
        CHECK_INT(got, ==, cases[i].want);
    }
}

/* What a definition takes: the names in its parameter list, types too,
 * but not the receiver every method has. */
TEST(the_names_a_signature_takes) {
    static const struct {
        const char *sig, *name, *want;
    } cases[] = {
        {"def is_disconnect(self, e, connection, cursor):", "is_disconnect", "e_connection_cursor"},
        {"func (d *driver) Walk(ctx context.Context, f WalkFn) error {", "Walk",
         "ctx_context_Context_f_WalkFn"},
        {"pub fn spawn<F>(f: F) -> JoinHandle {", "spawn", "f_F"},
        {"public void select(int index) {", "select", "int_index"},
        {"  setViewOffset( fullWidth, fullHeight ) {", "setViewOffset", "fullWidth_fullHeight"},
        {"def f(a=g(1), *args, **kw):", "f", "a_g_args_kw"},
        {"def close(self):", "close", ""},
        {"MAX_SIZE = 4", "MAX_SIZE", ""},  /* no parameter list */
        {"let f = g(x)", "f", ""},         /* a call after `=` is none of its own */
        {"def other(x):", "missing", ""},  /* the name is not there */
        {"def open(path", "open", "path"}, /* cut short: what there is */
        {"def go(x, y):", "go(x", ""},     /* never a whole word */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t n = signature_params(cases[i].sig, strlen(cases[i].sig), cases[i].name,
                                    strlen(cases[i].name), out, sizeof out);
        if (strcmp(out, cases[i].want) != 0)
            fprintf(stderr, "  %s\n", cases[i].sig);
        CHECK_STR(out, cases[i].want);
        CHECK_INT(n, ==, strlen(cases[i].want));
    }
    /* a name that does not fit is left out whole */
    char small[8];
    const char *sig = "def f(alpha, beta, gamma):";
    CHECK_INT(signature_params(sig, strlen(sig), "f", 1, small, sizeof small), ==, 5);
    CHECK_STR(small, "alpha");
    CHECK_INT(signature_params(sig, strlen(sig), "f", 1, small, 0), ==, 0);
}

/* How much of what a definition takes a call's words pass: `connection`
 * of two names (e, a single letter, does not count), nothing without a
 * signature or words. */
TEST(the_share_of_its_parameters_a_call_passes) {
    static const char *const words[] = {"dbapi", "connection"};
    const char *text = "    def is_disconnect(self, e, connection):\n        return False\n";
    CHECK(fabs(signature_params_share(text, strlen(text), "is_disconnect", words, 2) - 1.0) < 1e-9);
    const char *two = "def close(self, connection, cursor):\n";
    CHECK(fabs(signature_params_share(two, strlen(two), "close", words, 2) - 0.5) < 1e-9);
    CHECK(signature_params_share(two, strlen(two), "close", words, 0) == 0);
    CHECK(signature_params_share(two, strlen(two), "open", words, 2) == 0);
    CHECK(signature_params_share(NULL, 0, "close", words, 2) == 0);
}

TEST_MAIN(TEST_CASE(the_line_that_names_it_after_decorators_and_comments),
          TEST_CASE(the_share_of_its_parameters_a_call_passes),
          TEST_CASE(the_names_a_signature_takes), TEST_CASE(parameters_over_several_lines),
          TEST_CASE(whole_words_only_and_absent_names), TEST_CASE(how_far_a_rust_item_reaches))
