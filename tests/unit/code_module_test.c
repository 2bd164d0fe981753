/* Module stems: one rule for an import specifier and for a file's path, so
 * that the gateway's object and the retriever's files meet. */
#include "proto/code/module.h"
#include "tests/test.h"

static const char *stem(const char *path) {
    static char out[64];
    module_stem(path, out, sizeof out);
    return out;
}

TEST(last_component_without_extension) {
    CHECK_STR(stem("./lib/graph.js"), "graph");
    CHECK_STR(stem("./RuntimeGlobals"), "RuntimeGlobals");
    CHECK_STR(stem("sqlalchemy/sql/roles"), "roles");
    CHECK_STR(stem("src/shop/billing.py"), "billing");
    CHECK_STR(stem("com/shop/Order.java"), "Order");
    CHECK_STR(stem("example.com/shop/store"), "store");
    CHECK_STR(stem("../g"), "g");
    CHECK_STR(stem("billing.py"), "billing");
    CHECK_STR(stem("lib/utils/"), "utils");
}

TEST(the_first_dot_ends_the_stem) {
    CHECK_STR(stem("vendor/jquery.min.js"), "jquery");
    CHECK_STR(stem("./jquery.min"), "jquery"); /* the same module, written without .js */
    CHECK_STR(stem("types/index.d.ts"), "types");
    CHECK_STR(stem("gopkg.in/yaml.v3"), "yaml");
    CHECK_STR(stem("config/.eslintrc.js"), "eslintrc");
    CHECK_STR(stem("..sql"), "sql");
}

TEST(a_directory_s_own_module_is_the_directory) {
    /* The specifier and the file it resolves to give the same stem. */
    CHECK_STR(stem("./utils/index.js"), "utils");
    CHECK_STR(stem("./utils"), "utils");
    CHECK_STR(stem("src/utils/index.js"), "utils");
    CHECK_STR(stem("shop/billing/__init__.py"), "billing");
    CHECK_STR(stem("src/net/mod.rs"), "net");
    CHECK_STR(stem("x/y/index.ts"), "y");
    /* No directory to name: the file's own name. */
    CHECK_STR(stem("index.js"), "index");
    CHECK_STR(stem("./index"), "index");
    CHECK_STR(stem("../__init__.py"), "__init__");
    /* main is a module like any other. */
    CHECK_STR(stem("cli/main.py"), "main");
    CHECK_STR(stem("cmd/server/main.go"), "main");
}

TEST(nothing_to_name) {
    CHECK_STR(stem("."), "");
    CHECK_STR(stem(".."), "");
    CHECK_STR(stem("../"), "");
    CHECK_STR(stem(""), "");
    CHECK_STR(stem("/"), "");
    char small[4] = "xyz";
    module_stem("abcdef.js", small, sizeof small);
    CHECK_STR(small, "abc"); /* cut to fit */
    module_stem("abcdef.js", small, 0);
    CHECK_STR(small, "abc"); /* untouched */
}

TEST(object_names_a_file_by_stem_or_directory) {
    CHECK(module_names_file("utils", "src/utils/index.js"));
    CHECK(module_names_file("billing", "shop/billing.py"));
    CHECK(module_names_file("store", "shop/store/items.go")); /* a Go package */
    CHECK(!module_names_file("shop", "shop/store/items.go"));
    CHECK(!module_names_file("items", "shop/store/main.go"));
    CHECK(!module_names_file("", "a/b.py"));
    CHECK(!module_names_file(NULL, "a/b.py"));
    CHECK(!module_names_file("a", "a.b/c.py")); /* directories are named whole */
    CHECK(module_names_file("b", "b.py"));
}

TEST_MAIN(TEST_CASE(last_component_without_extension), TEST_CASE(the_first_dot_ends_the_stem),
          TEST_CASE(a_directory_s_own_module_is_the_directory), TEST_CASE(nothing_to_name),
          TEST_CASE(object_names_a_file_by_stem_or_directory))
