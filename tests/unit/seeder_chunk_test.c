/* Tests of seeder/chunk: definition boundaries per language, windows, and
 * the invariants every chunk list keeps. */
#include "seeder/chunk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seeder/ctags.h"
#include "tests/fixture.h"
#include "tests/test.h"

static const char *const fixture_files[] = {
    "py/shop/models.py",
    "py/shop/main.py",
    "c/src/report.c",
    "c/src/stock.c",
    "go/internal/store/store.go",
    "java/src/main/java/com/example/shop/App.java",
    "rust/src/config.rs",
    "rust/src/net/http.rs",
    "rust/src/main.rs",
    "web/src/index.ts",
    "web/legacy.cjs",
    "docs/notes.txt",
    "scripts/deploy",
};
#define FIXTURE_COUNT (sizeof fixture_files / sizeof fixture_files[0])

static ctags_batch_t *fixture_tags;

/* The chunks of a fixture file, checked against the invariants of chunk.h. */
static chunk_list_t *chunk_fixture(const char *rel, lang_id_t lang);

static int count_lines(const char *data, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    return n + (len > 0 && data[len - 1] != '\n');
}

/* Offset of line l (1-based) in data. */
static size_t line_offset(const char *data, size_t len, int l) {
    size_t at = 0;
    for (int k = 1; k < l && at < len; at++)
        k += data[at] == '\n';
    return at;
}

static bool line_blank(const char *data, size_t len, int l) {
    for (size_t i = line_offset(data, len, l); i < len && data[i] != '\n'; i++)
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\f' &&
            data[i] != '\v')
            return false;
    return true;
}

static void check_invariants(const chunk_list_t *list, const char *data, size_t len) {
    int lines = count_lines(data, len);
    char *covered = calloc((size_t)lines + 2, 1);
    if (!covered)
        return;
    int previous_start = 0, previous_end = 0;
    for (size_t i = 0; i < chunk_list_count(list); i++) {
        const chunk_t *c = chunk_list_get(list, i);
        CHECK_INT(c->start_line, >=, 1);
        CHECK_INT(c->start_line, <=, c->end_line);
        CHECK_INT(c->end_line, <=, lines);
        CHECK_INT(c->start_line, >, previous_start);
        CHECK_INT(c->end_line, >, previous_end);
        previous_start = c->start_line;
        previous_end = c->end_line;
        CHECK(!line_blank(data, len, c->start_line));
        CHECK(!line_blank(data, len, c->end_line));
        size_t from = line_offset(data, len, c->start_line);
        size_t to = line_offset(data, len, c->end_line + 1);
        CHECK_INT(c->text_len, ==, to - from);
        CHECK(c->text_len > 0 && memcmp(c->text, data + from, c->text_len) == 0);
        for (int l = c->start_line; l <= c->end_line && l <= lines; l++)
            covered[l] = 1;
        for (size_t k = 1; k < c->identifier_count; k++)
            CHECK(strcmp(c->identifiers[k - 1], c->identifiers[k]) < 0);
        for (size_t k = 0; k < c->identifier_count; k++)
            for (size_t s = 0; s < c->symbol_count; s++)
                CHECK(strcmp(c->identifiers[k], c->symbols[s]) != 0);
    }
    for (int l = 1; l <= lines; l++)
        if (!covered[l] && !line_blank(data, len, l)) {
            fprintf(stderr, "  line %d is in no chunk\n", l);
            test_failed_checks++;
        }
    free(covered);
}

static chunk_list_t *chunk_fixture(const char *rel, lang_id_t lang) {
    if (!fixture_tags) {
        char *error = NULL;
        if (ctags_batch_run(fixture_repo(), fixture_files, FIXTURE_COUNT, &fixture_tags, &error)) {
            fprintf(stderr, "  ctags: %s\n", error ? error : "?");
            free(error);
            return NULL;
        }
    }
    size_t len = 0, n_tags = 0;
    char *data = fixture_repo_read(rel, &len);
    if (!data)
        return NULL;
    const ctags_tag_t *tags = ctags_batch_tags(fixture_tags, rel, &n_tags);
    chunk_list_t *list = NULL;
    if (chunk_split_file(data, len, lang, tags, n_tags, NULL, &list) == 0)
        check_invariants(list, data, len);
    free(data);
    return list;
}

static bool has_symbol(const chunk_t *c, const char *symbol) {
    for (size_t i = 0; i < c->symbol_count; i++)
        if (strcmp(c->symbols[i], symbol) == 0)
            return true;
    return false;
}

static bool has_identifier(const chunk_t *c, const char *identifier) {
    for (size_t i = 0; i < c->identifier_count; i++)
        if (strcmp(c->identifiers[i], identifier) == 0)
            return true;
    return false;
}

/* The first chunk defining symbol, or NULL. */
static const chunk_t *defining(const chunk_list_t *list, const char *symbol) {
    for (size_t i = 0; i < chunk_list_count(list); i++)
        if (has_symbol(chunk_list_get(list, i), symbol))
            return chunk_list_get(list, i);
    return NULL;
}

TEST(python_big_class_is_split_into_methods) {
    chunk_list_t *list = chunk_fixture("py/shop/models.py", LANG_PYTHON);
    REQUIRE(list);
    const chunk_t *c = chunk_list_get(list, 0);
    CHECK_INT(c->kind, ==, CHUNK_PREAMBLE);
    CHECK_INT(c->start_line, ==, 1);
    CHECK_INT(c->end_line, ==, 3);
    c = defining(list, "Customer");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 6); /* the @dataclass decorator goes with the class */
    c = defining(list, "Order");
    REQUIRE(c);
    CHECK(c->context == NULL);              /* whole, at the top level */
    CHECK(has_symbol(c, "Order.add_line")); /* a small class stays whole */
    CHECK(!has_symbol(c, "Inventory"));
    c = defining(list, "Inventory");
    REQUIRE(c);
    CHECK_INT(c->kind, ==, CHUNK_HEADER);
    CHECK_INT(c->start_line, ==, 26);
    CHECK(has_symbol(c, "Inventory.__init__")); /* the small first member packs with the header */
    CHECK(!has_symbol(c, "Inventory.receive"));
    c = defining(list, "Inventory.receive");
    REQUIRE(c);
    CHECK_INT(c->kind, ==, CHUNK_DEFINITION);
    CHECK_INT(c->start_line, ==, 33);
    CHECK_INT(c->end_line, ==, 41);
    CHECK_STR(c->context, "Inventory"); /* a method split out of its class */
    CHECK(has_symbol(c, "receive"));
    CHECK(has_identifier(c, "history"));
    CHECK(has_identifier(c, "ValueError"));
    CHECK(!has_identifier(c, "receive"));
    CHECK(!has_identifier(c, "self") && !has_identifier(c, "return")); /* keywords dropped */
    CHECK(!has_identifier(c, "units"));                                /* from the docstring */
    CHECK(has_identifier(c, "product"));
    c = defining(list, "Inventory.reconcile");
    REQUIRE(c);
    CHECK_INT(c->end_line, ==, 171);
    CHECK_INT(chunk_list_count(list), ==, 18);
    chunk_list_destroy(&list);
}

TEST(python_preamble_and_decorated_function) {
    chunk_list_t *list = chunk_fixture("py/shop/main.py", LANG_PYTHON);
    REQUIRE(list);
    const chunk_t *c = chunk_list_get(list, 0);
    CHECK_INT(c->kind, ==, CHUNK_PREAMBLE);
    CHECK_INT(c->end_line, ==, 8);
    CHECK(has_identifier(c, "billing"));
    CHECK(!has_identifier(c, "Command")); /* the module docstring is prose */
    CHECK_INT(c->symbol_count, ==, 0);    /* `import ... as billing` defines nothing */
    c = defining(list, "checkout");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 20);
    CHECK_INT(c->end_line, ==, 31); /* the short `if __name__` tail joins it */
    CHECK(has_identifier(c, "slugify"));
    CHECK(has_identifier(c, "Customer"));
    CHECK(!has_identifier(c, "checkout"));
    c = defining(list, "parse_args");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 11);
    CHECK_INT(c->end_line, ==, 17);
    chunk_list_destroy(&list);
}

TEST(c_long_function_becomes_windows) {
    chunk_list_t *list = chunk_fixture("c/src/report.c", LANG_C);
    REQUIRE(list);
    int windows = 0, last_start = 0, last_end = 0;
    for (size_t i = 0; i < chunk_list_count(list); i++) {
        const chunk_t *c = chunk_list_get(list, i);
        if (c->kind != CHUNK_WINDOW)
            continue;
        if (windows++ > 0)
            CHECK_INT(last_end - c->start_line + 1, ==, 10); /* overlap */
        CHECK_INT(c->end_line - c->start_line + 1, <=, 40 + 15);
        CHECK_STR(c->context, "report_print");
        last_start = c->start_line;
        last_end = c->end_line;
    }
    (void)last_start;
    CHECK_INT(windows, ==, 4);
    CHECK_INT(last_end, ==, 131); /* the function's closing brace */
    const chunk_t *first = defining(list, "report_print");
    REQUIRE(first);
    CHECK_INT(first->kind, ==, CHUNK_WINDOW);
    CHECK_INT(first->start_line, ==, 5); /* with its comment */
    const chunk_t *total = defining(list, "report_total");
    REQUIRE(total);
    CHECK_INT(total->kind, ==, CHUNK_DEFINITION);
    CHECK(total->context == NULL);
    CHECK_INT(total->start_line, ==, 133);
    CHECK_INT(total->end_line, ==, 141);
    CHECK(has_identifier(total, "stock_count"));
    chunk_list_destroy(&list);
}

TEST(c_functions_with_comments) {
    chunk_list_t *list = chunk_fixture("c/src/stock.c", LANG_C);
    REQUIRE(list);
    CHECK_INT(chunk_list_get(list, 0)->kind, ==, CHUNK_PREAMBLE);
    const chunk_t *c = defining(list, "stock_find");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 19);
    CHECK_INT(c->end_line, ==, 27);
    CHECK(!has_identifier(c, "Finds")); /* words of the comment are not identifiers */
    CHECK(has_identifier(c, "strcmp"));
    CHECK(defining(list, "stock_add") != defining(list, "stock_count"));
    CHECK(defining(list, "entry.quantity") != NULL);
    chunk_list_destroy(&list);
}

TEST(go_methods_are_qualified) {
    chunk_list_t *list = chunk_fixture("go/internal/store/store.go", LANG_GO);
    REQUIRE(list);
    const chunk_t *c = defining(list, "Store.Add");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 18); /* the doc comment */
    CHECK_INT(c->end_line, ==, 24);
    CHECK(has_symbol(c, "Add"));
    CHECK(!has_identifier(c, "changes"));
    CHECK(has_identifier(c, "Unlock"));
    CHECK(defining(list, "Store.Count") != c);
    CHECK(defining(list, "main.Store.Add") == NULL); /* no package prefix */
    CHECK_INT(chunk_list_get(list, 0)->kind, ==, CHUNK_PREAMBLE);
    chunk_list_destroy(&list);
}

TEST(java_class_with_annotated_methods) {
    chunk_list_t *list = chunk_fixture("java/src/main/java/com/example/shop/App.java", LANG_JAVA);
    REQUIRE(list);
    const chunk_t *pre = chunk_list_get(list, 0);
    REQUIRE(pre);
    CHECK_INT(pre->kind, ==, CHUNK_PREAMBLE);
    CHECK_INT(pre->end_line, ==, 6);
    const chunk_t *c = defining(list, "App");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 8); /* the javadoc line */
    CHECK(has_symbol(c, "App.toString"));
    CHECK(has_identifier(c, "Override"));
    chunk_list_destroy(&list);
}

TEST(rust_ends_found_by_brace_matching) {
    chunk_list_t *list = chunk_fixture("rust/src/config.rs", LANG_RUST);
    REQUIRE(list);
    const chunk_t *c = defining(list, "Settings.from_env");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 10);
    CHECK_INT(c->end_line, ==, 20); /* lifetimes 'a are not character literals */
    /* `impl Settings` holds Settings's methods; it does not define Settings */
    CHECK(has_symbol(c, "Settings.describe"));
    CHECK(!has_symbol(c, "Settings"));
    c = defining(list, "Settings");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 3); /* doc comment and #[derive] */
    CHECK_INT(c->end_line, ==, 8);
    chunk_list_destroy(&list);
    list = chunk_fixture("rust/src/net/http.rs", LANG_RUST);
    REQUIRE(list);
    c = defining(list, "serve");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 9);
    CHECK_INT(c->end_line, ==, 12); /* '{' is a character, not a block */
    chunk_list_destroy(&list);
    /* `mod config;` declares a module defined in its own file: no symbol */
    list = chunk_fixture("rust/src/main.rs", LANG_RUST);
    REQUIRE(list);
    CHECK(defining(list, "main"));
    CHECK(!defining(list, "config"));
    CHECK(!defining(list, "net"));
    chunk_list_destroy(&list);
}

TEST(typescript_and_javascript_classes) {
    chunk_list_t *list = chunk_fixture("web/src/index.ts", LANG_TYPESCRIPT);
    REQUIRE(list);
    const chunk_t *c = defining(list, "App");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 12);
    CHECK_INT(c->end_line, ==, 25);
    CHECK(has_symbol(c, "App.render"));
    CHECK(!has_symbol(c, "labels")); /* a local of render */
    c = defining(list, "main");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 27);
    CHECK_INT(c->end_line, ==, 31);
    CHECK_INT(chunk_list_get(list, 0)->end_line, ==, 5);
    chunk_list_destroy(&list);
    list = chunk_fixture("web/legacy.cjs", LANG_JAVASCRIPT);
    REQUIRE(list);
    c = defining(list, "LegacyCart");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 5);
    CHECK_INT(c->end_line, ==, 20);
    CHECK(has_symbol(c, "LegacyCart.describe"));
    chunk_list_destroy(&list);
}

TEST(untagged_text_gets_overlapping_windows) {
    chunk_list_t *list = chunk_fixture("docs/notes.txt", LANG_UNKNOWN);
    REQUIRE(list);
    REQUIRE(chunk_list_count(list) == 3);
    int expected[3][2] = {{1, 40}, {31, 70}, {61, 100}};
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT(chunk_list_get(list, i)->start_line, ==, expected[i][0]);
        CHECK_INT(chunk_list_get(list, i)->end_line, ==, expected[i][1]);
        CHECK_INT(chunk_list_get(list, i)->kind, ==, CHUNK_WINDOW);
        CHECK_INT(chunk_list_get(list, i)->symbol_count, ==, 0);
        CHECK(chunk_list_get(list, i)->context == NULL);
    }
    chunk_list_destroy(&list);
}

TEST(shell_script_by_shebang) {
    chunk_list_t *list = chunk_fixture("scripts/deploy", LANG_SHELL);
    REQUIRE(list);
    CHECK(defining(list, "deploy_to") != NULL);
    chunk_list_destroy(&list);
}

static chunk_list_t *split(const char *text, lang_id_t lang, const ctags_tag_t *tags, size_t n,
                           const chunk_options_t *options) {
    chunk_list_t *list = NULL;
    if (chunk_split_file(text, strlen(text), lang, tags, n, options, &list) != 0)
        return NULL;
    check_invariants(list, text, strlen(text));
    return list;
}

TEST(degenerate_inputs) {
    chunk_list_t *list = split("", LANG_C, NULL, 0, NULL);
    REQUIRE(list);
    CHECK_INT(chunk_list_count(list), ==, 0);
    CHECK(chunk_list_get(list, 0) == NULL);
    chunk_list_destroy(&list);
    list = split("\n\n  \n\t\n", LANG_PYTHON, NULL, 0, NULL);
    REQUIRE(list);
    CHECK_INT(chunk_list_count(list), ==, 0);
    chunk_list_destroy(&list);
    /* No trailing newline, CRLF ends, one short untagged file: one chunk. */
    list = split("\r\nalpha beta\r\ngamma", LANG_UNKNOWN, NULL, 0, NULL);
    REQUIRE(list);
    REQUIRE(chunk_list_count(list) == 1);
    CHECK_INT(chunk_list_get(list, 0)->kind, ==, CHUNK_CODE);
    CHECK_INT(chunk_list_get(list, 0)->start_line, ==, 2);
    CHECK_INT(chunk_list_get(list, 0)->end_line, ==, 3);
    CHECK(has_identifier(chunk_list_get(list, 0), "gamma"));
    chunk_list_destroy(&list);
    /* Stale or broken tags: past the end, line 0, end before line. */
    ctags_tag_t tags[] = {
        {"f.py", "ghost", "function", NULL, NULL, 99, 120},
        {"f.py", "zero", "function", NULL, NULL, 0, 3},
        {"f.py", "f", "function", NULL, NULL, 2, 1},
        {"f.py", "g", "function", NULL, NULL, 4, 50},
    };
    list = split("x = 1\ndef f():\n    pass\ndef g():\n    return 2\n", LANG_PYTHON, tags, 4, NULL);
    REQUIRE(list);
    CHECK(defining(list, "ghost") == NULL);
    CHECK(defining(list, "g") != NULL);
    CHECK_INT(chunk_list_get(list, chunk_list_count(list) - 1)->end_line, ==, 5);
    chunk_list_destroy(&list);
    CHECK(list == NULL);
    chunk_list_destroy(&list);
    /* A brace language whose next tag lies past the end (stale tags). */
    ctags_tag_t stale[] = {
        {"f.js", "f", "function", NULL, NULL, 1, 0},
        {"f.js", "g", "function", NULL, NULL, 50, 0},
    };
    list = split("function f() {\n  return 1;\n}\n", LANG_JAVASCRIPT, stale, 2, NULL);
    REQUIRE(list);
    CHECK_INT(chunk_list_count(list), ==, 1);
    CHECK(defining(list, "f") != NULL);
    chunk_list_destroy(&list);
}

/* ctags read the file by its name at another moment: a tag whose name is
 * not on its line speaks of other bytes (an edit, or a file swapped for one
 * outside the repository) and must not name a symbol of these. */
TEST(tags_of_other_bytes_name_nothing) {
    const char *text = "def real():\n    return 1\n\n\ndef other():\n    return 2\n";
    ctags_tag_t tags[] = {
        {"f.py", "real", "function", NULL, NULL, 1, 2},
        {"f.py", "secret_of_another_file", "function", NULL, NULL, 5, 6},
        {"f.py", "other", "function", NULL, NULL, 4, 6}, /* a line too early: stale */
    };
    chunk_list_t *list = split(text, LANG_PYTHON, tags, 3, NULL);
    REQUIRE(list);
    CHECK(defining(list, "real") != NULL);
    CHECK(defining(list, "secret_of_another_file") == NULL);
    CHECK(defining(list, "other") == NULL);
    chunk_list_destroy(&list);
}

/* A module's `name = None` is a placeholder that a later assignment fills:
 * not a definition of name.  A class's `name = None` is its member, and a
 * module's `name = None or x` or `name == None` binds something else. */
TEST(python_none_placeholders_define_nothing) {
    const char *text = "config = None\n"
                       "timeout: Optional[int] = None  # set by setup()\n"
                       "limit = 10\n"
                       "fallback = None or limit\n"
                       "\n"
                       "\n"
                       "class Conf:\n"
                       "    path = None\n";
    ctags_tag_t tags[] = {
        {"f.py", "config", "variable", NULL, NULL, 1, 1},
        {"f.py", "timeout", "variable", NULL, NULL, 2, 2},
        {"f.py", "limit", "variable", NULL, NULL, 3, 3},
        {"f.py", "fallback", "variable", NULL, NULL, 4, 4},
        {"f.py", "Conf", "class", NULL, NULL, 7, 8},
        {"f.py", "path", "variable", "Conf", "class", 8, 8},
    };
    chunk_list_t *list = split(text, LANG_PYTHON, tags, 6, NULL);
    REQUIRE(list);
    CHECK(defining(list, "config") == NULL);
    CHECK(defining(list, "timeout") == NULL);
    CHECK(defining(list, "limit") != NULL);
    CHECK(defining(list, "fallback") != NULL);
    CHECK(defining(list, "Conf") != NULL);
    CHECK(defining(list, "path") != NULL || defining(list, "Conf.path") != NULL);
    chunk_list_destroy(&list);
}

TEST(options_control_sizes) {
    /* A 30-line function with max_lines 10: windows of 8 overlapping by 2. */
    char text[2048] = "int f(void) {\n";
    for (int i = 0; i < 28; i++)
        strcat(text, "    call_something();\n");
    strcat(text, "}\n");
    ctags_tag_t tag = {"f.c", "f", "function", NULL, NULL, 1, 30};
    chunk_options_t options = {
        .max_lines = 10, .window_lines = 8, .window_overlap = 2, .small_lines = 3};
    chunk_list_t *list = split(text, LANG_C, &tag, 1, &options);
    REQUIRE(list);
    CHECK_INT(chunk_list_count(list), ==, 5);
    for (size_t i = 0; i < chunk_list_count(list); i++) {
        const chunk_t *c = chunk_list_get(list, i);
        CHECK_INT(c->kind, ==, CHUNK_WINDOW);
        if (i > 0)
            CHECK_INT(chunk_list_get(list, i - 1)->end_line - c->start_line + 1, ==, 2);
    }
    CHECK(has_symbol(chunk_list_get(list, 0), "f"));
    CHECK(!has_symbol(chunk_list_get(list, 1), "f"));
    chunk_list_destroy(&list);
    /* Nonsense options fall back to defaults: one chunk for 30 lines. */
    options = (chunk_options_t){.max_lines = -5, .window_lines = 0, .window_overlap = 99};
    list = split(text, LANG_C, &tag, 1, &options);
    REQUIRE(list);
    CHECK_INT(chunk_list_count(list), ==, 1);
    chunk_list_destroy(&list);
}

TEST(tiny_definitions_are_packed) {
    const char *text = "#define A 1\n#define B 2\n\nint f(void) { return A; }\n"
                       "int g(void) { return B; }\nint h(void) { return 3; }\n";
    ctags_tag_t tags[] = {
        {"f.c", "A", "macro", NULL, NULL, 1, 1},    {"f.c", "B", "macro", NULL, NULL, 2, 2},
        {"f.c", "f", "function", NULL, NULL, 4, 4}, {"f.c", "g", "function", NULL, NULL, 5, 5},
        {"f.c", "h", "function", NULL, NULL, 6, 6},
    };
    chunk_list_t *list = split(text, LANG_C, tags, 5, NULL);
    REQUIRE(list);
    CHECK_INT(chunk_list_count(list), ==, 1);
    CHECK(has_symbol(chunk_list_get(list, 0), "A") && has_symbol(chunk_list_get(list, 0), "h"));
    chunk_list_destroy(&list);
}

/* ctags 5.9 tags a TypeScript function with overloads at its first
 * signature only: the definition runs on to the implementation's body, and
 * when it is long the name goes with the body, not with the signatures. */
TEST(typescript_overloads_reach_the_implementation) {
    const char *text = "import { X } from './x';\n"                 /* 1 */
                       "\n"                                         /* 2 */
                       "export function pick(a: number): number;\n" /* 3 */
                       "export function pick(\n"                    /* 4 */
                       "  a: string,\n"                             /* 5 */
                       "): string;\n"                               /* 6 */
                       "/** Picks. */\n"                            /* 7 */
                       "export function pick(a: any): any {\n"      /* 8 */
                       "  return a;\n"                              /* 9 */
                       "}\n"                                        /* 10 */
                       "export function other(): void;\n"           /* 11 */
                       "export function otherwise() {}\n";          /* 12 */
    ctags_tag_t tags[] = {
        {"f.ts", "pick", "function", NULL, NULL, 3, 0},
        {"f.ts", "other", "function", NULL, NULL, 11, 0},
        {"f.ts", "otherwise", "function", NULL, NULL, 12, 0},
    };
    chunk_list_t *list = split(text, LANG_TYPESCRIPT, tags, 3, NULL);
    REQUIRE(list);
    const chunk_t *c = defining(list, "pick");
    REQUIRE(c);
    CHECK_INT(c->start_line, <=, 3);
    CHECK_INT(c->end_line, >=, 10);
    CHECK(defining(list, "otherwise")); /* another name is not an overload */
    chunk_list_destroy(&list);
    /* An object type inside a signature's `<...>` is no body: the name
     * still goes with the implementation's long body. */
    char typed[8192] = "export function all<T>(a: T): Observable<{ [K in keyof T]: T[K] }>;\n"
                       "export function all(...args: any[]): Observable<unknown> {\n";
    for (int i = 0; i < 150; i++)
        strcat(typed, "  n = n < 10 ? n + 1 : n;\n"); /* a `<` that compares */
    strcat(typed, "  return from(args);\n}\n");
    ctags_tag_t all = {"f.ts", "all", "function", NULL, NULL, 1, 0};
    list = split(typed, LANG_TYPESCRIPT, &all, 1, NULL);
    REQUIRE(list);
    c = defining(list, "all");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 2);
    CHECK_INT(chunk_list_get(list, chunk_list_count(list) - 1)->end_line, ==, 154);
    chunk_list_destroy(&list);
    /* A long body: the signatures are a chunk of their own, the name goes
     * with the body's first window. */
    char big[8192] = "export function pick(a: number): number;\n"
                     "export function pick(a: string): string;\n"
                     "// Picks.\n"
                     "export function pick(a: any): any {\n";
    for (int i = 0; i < 150; i++)
        strcat(big, "  a = a + 1;\n");
    strcat(big, "  return a;\n}\n");
    ctags_tag_t tag = {"f.ts", "pick", "function", NULL, NULL, 1, 0};
    list = split(big, LANG_TYPESCRIPT, &tag, 1, NULL);
    REQUIRE(list);
    c = defining(list, "pick");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 3);
    CHECK_INT(c->end_line, >, 4);
    CHECK_INT(chunk_list_get(list, 0)->start_line, ==, 1);
    CHECK(!has_symbol(chunk_list_get(list, 0), "pick"));
    CHECK_INT(chunk_list_get(list, chunk_list_count(list) - 1)->end_line, ==, 156);
    chunk_list_destroy(&list);
}

/* `const x = require("x")` binds another file's module: no definition of
 * x, as Python's `import x as y` is none; a constant, or a function that
 * requires lazily, is one. */
TEST(a_required_module_is_no_definition) {
    const char *text = "const fs = require(\"fs\");\n"            /* 1 */
                       "const util = await import(\"./util\");\n" /* 2 */
                       "const read = require(\"./io\").read;\n"   /* 3 */
                       "const LIMIT = 10;\n"                      /* 4 */
                       "const lazy = () => require(\"./big\");\n" /* 5 */
                       "\n"                                       /* 6 */
                       "function main() {\n"                      /* 7 */
                       "  return fs.readFileSync(LIMIT);\n"       /* 8 */
                       "}\n";                                     /* 9 */
    ctags_tag_t tags[] = {
        {"f.js", "fs", "constant", NULL, NULL, 1, 0},
        {"f.js", "util", "constant", NULL, NULL, 2, 0},
        {"f.js", "read", "constant", NULL, NULL, 3, 0},
        {"f.js", "LIMIT", "constant", NULL, NULL, 4, 0},
        {"f.js", "lazy", "constant", NULL, NULL, 5, 0},
        {"f.js", "main", "function", NULL, NULL, 7, 9},
    };
    chunk_list_t *list = split(text, LANG_JAVASCRIPT, tags, 6, NULL);
    REQUIRE(list);
    CHECK(!defining(list, "fs"));
    CHECK(!defining(list, "util"));
    CHECK(!defining(list, "read"));
    CHECK(defining(list, "LIMIT"));
    CHECK(defining(list, "lazy"));
    CHECK(defining(list, "main"));
    chunk_list_destroy(&list);
}

/* ctags takes the `type X` of an import for a type alias: only one with
 * `=` (or generics) after its name defines it. */
TEST(a_type_imported_is_no_alias) {
    const char *text = "import { format, type Inspectable } from \"./Inspectable.js\"\n" /* 1 */
                       "import {\n"                                                      /* 2 */
                       "  type Predicate,\n"                                             /* 3 */
                       "} from \"./Predicate.js\"\n"                                     /* 4 */
                       "export { type Foo } from \"./foo.js\"\n"                         /* 5 */
                       "export type Bar<A> = A\n"                                        /* 6 */
                       "export type Baz<\n"                                              /* 7 */
                       "  A\n"                                                           /* 8 */
                       "> = A\n"                                                         /* 9 */
                       "type Inspect = Inspectable\n";                                   /* 10 */
    ctags_tag_t tags[] = {
        {"f.ts", "Inspectable", "alias", NULL, NULL, 1, 0},
        {"f.ts", "Predicate", "alias", NULL, NULL, 3, 0},
        {"f.ts", "Foo", "alias", NULL, NULL, 5, 0},
        {"f.ts", "Bar", "alias", NULL, NULL, 6, 0},
        {"f.ts", "Baz", "alias", NULL, NULL, 7, 0},
        {"f.ts", "Inspect", "alias", NULL, NULL, 10, 0},
    };
    chunk_list_t *list = split(text, LANG_TYPESCRIPT, tags, 6, NULL);
    REQUIRE(list);
    CHECK(!defining(list, "Inspectable"));
    CHECK(!defining(list, "Predicate"));
    CHECK(!defining(list, "Foo"));
    CHECK(defining(list, "Bar"));
    CHECK(defining(list, "Baz"));
    CHECK(defining(list, "Inspect")); /* `Inspectable` on its line is another name */
    chunk_list_destroy(&list);
}

/* ctags reads names out of a typed constant's call signatures and out of
 * computed keys as constants; a TypeScript constant is a name declared. */
TEST(a_typescript_constant_is_declared) {
    const char *text = "export const tuple: {\n"                            /* 1 */
                       "  <A>(f: (a: A) => A): Predicate<A>\n"              /* 2 */
                       "  Predicate<{ readonly [K in keyof R]: R[K] }> :\n" /* 3 */
                       "} = internal.tuple\n"                               /* 4 */
                       "const proto = {\n"                                  /* 5 */
                       "  [TypeId]: TypeId,\n"                              /* 6 */
                       "  Debug: [colors.blue],\n"                          /* 7 */
                       "  handler: () => void\n"                            /* 8 */
                       "}\n"                                                /* 9 */
                       "let first = 1,\n"                                   /* 10 */
                       "  second = 2\n"                                     /* 11 */
                       "Object3D.DEFAULT_UP = new Vector3()\n"              /* 12 */
                       "const { a, b } = pair\n";                           /* 13 */
    ctags_tag_t tags[] = {
        {"f.ts", "tuple", "constant", NULL, NULL, 1, 4},
        {"f.ts", "A", "constant", NULL, NULL, 2, 0},
        {"f.ts", "Predicate", "constant", NULL, NULL, 3, 0},
        {"f.ts", "proto", "constant", NULL, NULL, 5, 9},
        {"f.ts", "TypeId", "constant", NULL, NULL, 6, 0},
        {"f.ts", "Debug", "constant", NULL, NULL, 7, 0},
        {"f.ts", "void", "constant", NULL, NULL, 8, 0},
        {"f.ts", "first", "variable", NULL, NULL, 10, 0},
        {"f.ts", "second", "variable", NULL, NULL, 11, 0},
        {"f.ts", "DEFAULT_UP", "constant", NULL, NULL, 12, 0},
        {"f.ts", "b", "constant", NULL, NULL, 13, 0},
    };
    chunk_list_t *list = split(text, LANG_TYPESCRIPT, tags, 11, NULL);
    REQUIRE(list);
    CHECK(defining(list, "tuple"));
    CHECK(!defining(list, "A"));
    CHECK(!defining(list, "Predicate"));
    CHECK(defining(list, "proto"));
    CHECK(!defining(list, "TypeId"));
    CHECK(defining(list, "Debug"));
    CHECK(!defining(list, "void"));
    CHECK(defining(list, "first"));
    CHECK(defining(list, "second"));
    CHECK(defining(list, "DEFAULT_UP"));
    CHECK(defining(list, "b"));
    chunk_list_destroy(&list);
}

/* A decorator or attribute over several lines leads its definition as a
 * one-line one does; a call that spans lines before it does not. */
TEST(decorators_over_several_lines_lead_the_definition) {
    const char *text = "def before():\n"                           /* 1 */
                       "    a = 1\n"                               /* 2 */
                       "    b = 2\n"                               /* 3 */
                       "    c = 3\n"                               /* 4 */
                       "    d = 4\n"                               /* 5 */
                       "    return a + b + c + d\n"                /* 6 */
                       "\n"                                        /* 7 */
                       "@util.deprecated(\n"                       /* 8 */
                       "    \"1.4\",\n"                            /* 9 */
                       "    \"a method (see [begin]) instead\",\n" /* 10 */
                       ")\n"                                       /* 11 */
                       "def transaction(callable_):\n"             /* 12 */
                       "    a = 1\n"                               /* 13 */
                       "    b = 2\n"                               /* 14 */
                       "    c = 3\n"                               /* 15 */
                       "    d = 4\n"                               /* 16 */
                       "    return a + b + c + d\n"                /* 17 */
                       "\n"                                        /* 18 */
                       "settings = dict(\n"                        /* 19 */
                       "    mode=1,\n"                             /* 20 */
                       "    level=2,\n"                            /* 21 */
                       "    depth=3,\n"                            /* 22 */
                       "    width=4,\n"                            /* 23 */
                       ")\n"                                       /* 24 */
                       "def after():\n"                            /* 25 */
                       "    a = 1\n"                               /* 26 */
                       "    b = 2\n"                               /* 27 */
                       "    c = 3\n"                               /* 28 */
                       "    d = 4\n"                               /* 29 */
                       "    return a + b + c + d\n";               /* 30 */
    ctags_tag_t tags[] = {
        {"f.py", "before", "function", NULL, NULL, 1, 6},
        {"f.py", "transaction", "function", NULL, NULL, 12, 17},
        {"f.py", "after", "function", NULL, NULL, 25, 30},
    };
    chunk_list_t *list = split(text, LANG_PYTHON, tags, 3, NULL);
    REQUIRE(list);
    const chunk_t *c = defining(list, "transaction");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 8);
    c = defining(list, "after");
    REQUIRE(c);
    CHECK_INT(c->start_line, >=, 25); /* `settings = dict(...)` is code, not a decorator */
    chunk_list_destroy(&list);
    const char *rust = "#[cfg(any(\n"                       /* 1 */
                       "    feature = \"net\",\n"           /* 2 */
                       "    feature = \"fs\"\n"             /* 3 */
                       "))]\n"                              /* 4 */
                       "pub fn open(path: &str) -> u32 {\n" /* 5 */
                       "    let a = 1;\n"                   /* 6 */
                       "    let b = 2;\n"                   /* 7 */
                       "    let c = 3;\n"                   /* 8 */
                       "    a + b + c\n"                    /* 9 */
                       "}\n";                               /* 10 */
    ctags_tag_t tag = {"f.rs", "open", "function", NULL, NULL, 5, 10};
    list = split(rust, LANG_RUST, &tag, 1, NULL);
    REQUIRE(list);
    c = defining(list, "open");
    REQUIRE(c);
    CHECK_INT(c->start_line, ==, 1);
    chunk_list_destroy(&list);
}

/* Random text and random (often nonsensical) tags, every language and odd
 * options: the invariants hold and nothing reads out of bounds. */
TEST(random_inputs_keep_the_invariants) {
    static const char alphabet[] = "{}()[];'\"`/*#\n\n\n  abc_.:=<>\\@$0189 def class fn \t\r";
    static const char *const kinds[] = {"function", "class",  "method",    "member", "variable",
                                        "constant", "struct", "namespace", "local"};
    static const char *const scopes[] = {NULL, "A", "A.B", "main.S", "ns::C"};
    unsigned seed = 20261126;
    char text[1500];
    for (int round = 0; round < 1500; round++) {
        size_t len = (size_t)(rand_r(&seed) % (sizeof text - 1));
        for (size_t i = 0; i < len; i++)
            text[i] = rand_r(&seed) % 10 ? alphabet[rand_r(&seed) % (sizeof alphabet - 1)]
                                         : (char)(rand_r(&seed) % 256);
        text[len] = '\0';
        ctags_tag_t tags[24];
        size_t n = (size_t)(rand_r(&seed) % 24);
        for (size_t t = 0; t < n; t++)
            tags[t] = (ctags_tag_t){"f",
                                    "a", /* on many a line: most tags are used */
                                    kinds[rand_r(&seed) % 9],
                                    scopes[rand_r(&seed) % 5],
                                    rand_r(&seed) % 2 ? "class" : "package",
                                    (int)(rand_r(&seed) % 90) - 3,
                                    rand_r(&seed) % 3 ? 0 : (int)(rand_r(&seed) % 100)};
        chunk_options_t options = {(int)(rand_r(&seed) % 40) - 2, (int)(rand_r(&seed) % 20) - 2,
                                   (int)(rand_r(&seed) % 12) - 3, (int)(rand_r(&seed) % 6)};
        chunk_list_t *list = NULL;
        int rc = chunk_split_file(text, len, (lang_id_t)(rand_r(&seed) % LANG_COUNT), tags, n,
                                  rand_r(&seed) % 2 ? &options : NULL, &list);
        CHECK_INT(rc, ==, 0);
        if (list)
            check_invariants(list, text, len);
        chunk_list_destroy(&list);
        if (test_failed_checks)
            break; /* one broken round says enough */
    }
}

TEST(kind_names) {
    CHECK_STR(chunk_kind_name(CHUNK_PREAMBLE), "preamble");
    CHECK_STR(chunk_kind_name(CHUNK_WINDOW), "window");
    CHECK_STR(chunk_kind_name((chunk_kind_t)77), "unknown");
}

TEST(release_fixture_tags) {
    ctags_batch_destroy(&fixture_tags);
    CHECK(fixture_tags == NULL);
}

TEST_MAIN(TEST_CASE(python_big_class_is_split_into_methods),
          TEST_CASE(typescript_overloads_reach_the_implementation),
          TEST_CASE(python_preamble_and_decorated_function),
          TEST_CASE(c_long_function_becomes_windows), TEST_CASE(c_functions_with_comments),
          TEST_CASE(go_methods_are_qualified), TEST_CASE(java_class_with_annotated_methods),
          TEST_CASE(rust_ends_found_by_brace_matching),
          TEST_CASE(typescript_and_javascript_classes),
          TEST_CASE(untagged_text_gets_overlapping_windows), TEST_CASE(shell_script_by_shebang),
          TEST_CASE(degenerate_inputs), TEST_CASE(tags_of_other_bytes_name_nothing),
          TEST_CASE(python_none_placeholders_define_nothing),
          TEST_CASE(decorators_over_several_lines_lead_the_definition),
          TEST_CASE(a_required_module_is_no_definition), TEST_CASE(a_type_imported_is_no_alias),
          TEST_CASE(a_typescript_constant_is_declared), TEST_CASE(options_control_sizes),
          TEST_CASE(tiny_definitions_are_packed), TEST_CASE(random_inputs_keep_the_invariants),
          TEST_CASE(kind_names), TEST_CASE(release_fixture_tags))
