/* Imported names and their uses, per language. */
#include "proto/code/imported.h"
#include "tests/test.h"

static imported_name_t names[64];

static int find(size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i].name, name))
            return names[i].uses;
    return -1;
}

static size_t scan(const char *text) {
    return imported_names(text, strlen(text), names, 64);
}

TEST(es_modules) {
    size_t n = scan("import Foo, { bar, baz as qux, type T } from './a';\n"
                    "import * as ns from \"../b\";\n"
                    "import {\n  multi,\n  line as other,\n} from './c';\n"
                    "const x = bar(ns.y) + bar;\n");
    CHECK_INT(find(n, "Foo"), ==, 0);
    CHECK_INT(find(n, "bar"), ==, 2);
    CHECK_INT(find(n, "qux"), ==, 0);
    CHECK_INT(find(n, "baz"), ==, -1); /* renamed: the local name counts */
    for (size_t i = 0; i < n; i++)     /* ... and the exported one is kept beside it */
        CHECK_STR(names[i].exported, !strcmp(names[i].name, "qux")     ? "baz"
                                     : !strcmp(names[i].name, "other") ? "line"
                                                                       : names[i].name);
    CHECK_INT(find(n, "T"), ==, 0);
    CHECK_INT(find(n, "ns"), ==, 1);
    CHECK_INT(find(n, "multi"), ==, 0);
    CHECK_INT(find(n, "other"), ==, 0);
    /* only the namespace is the module object itself; a default export may
     * be a class */
    for (size_t i = 0; i < n; i++)
        CHECK(names[i].binds_module == !strcmp(names[i].name, "ns"));
}

TEST(commonjs) {
    size_t n = scan("const Compiler = require(\"./Compiler\");\n"
                    "const { a, b: c } = require('./util');\n"
                    "let d = require('d')\n"
                    "new Compiler(a);\n");
    CHECK_INT(find(n, "Compiler"), ==, 1);
    CHECK_INT(find(n, "a"), ==, 1);
    CHECK_INT(find(n, "c"), ==, 0);
    CHECK_INT(find(n, "d"), ==, 0);
}

TEST(python) {
    size_t n = scan("from .base import Engine, connect as conn\n"
                    "from ..sql import (\n    select,\n    text as t,\n)\n"
                    "import os.path as osp\n"
                    "import json\n"
                    "x = select(1) + json.dumps(2)\n");
    CHECK_INT(find(n, "Engine"), ==, 0);
    CHECK_INT(find(n, "conn"), ==, 0);
    CHECK_INT(find(n, "select"), ==, 1);
    CHECK_INT(find(n, "t"), ==, 0);
    CHECK_INT(find(n, "osp"), ==, 0);
    CHECK_INT(find(n, "json"), ==, 1);
}

TEST(java_go_rust) {
    size_t n = scan("import com.shop.Order;\nimport \"shop/billing\"\n"
                    "import (\n\t\"fmt\"\n\t\"shop/tax\"\n)\n"
                    "use crate::store::{Store, Item};\nuse std::io::Read;\n");
    CHECK_INT(find(n, "Order"), ==, 0);
    CHECK_INT(find(n, "billing"), ==, 0);
    CHECK_INT(find(n, "tax"), ==, 0);
    CHECK_INT(find(n, "Store"), ==, 0);
    CHECK_INT(find(n, "Item"), ==, 0);
    CHECK_INT(find(n, "Read"), ==, 0);
}

static const char *module_of(size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i].name, name))
            return names[i].module;
    return "(none)";
}

TEST(modules) {
    size_t n = scan("import * as ns from './lib/graph.js';\n"
                    "const RuntimeGlobals = require(\"./RuntimeGlobals\");\n"
                    "from ..sql import expression as exp\n"
                    "from . import util\n"
                    "import sqlalchemy.sql.roles as roles\n");
    CHECK_STR(module_of(n, "ns"), "./lib/graph.js");
    CHECK_STR(module_of(n, "RuntimeGlobals"), "./RuntimeGlobals");
    CHECK_STR(module_of(n, "exp"), "..sql");
    CHECK_STR(module_of(n, "util"), ".");
    CHECK_STR(module_of(n, "roles"), "sqlalchemy/sql/roles");
}

TEST(the_language_decides_what_binds) {
    const char *text = "import shop.model.Order\nOrder()\n";
    size_t n = imported_names_of(LANG_KOTLIN, text, strlen(text), names, 64);
    CHECK_INT(n, ==, 1);
    CHECK_STR(names[0].name, "Order");
    CHECK_INT(names[0].uses, ==, 1);
    CHECK_STR(names[0].module, "shop/model/Order");
    /* Without a language, a dotted import without `;` reads as Python's. */
    n = imported_names(text, strlen(text), names, 64);
    CHECK_INT(n, ==, 1);
    CHECK_STR(names[0].name, "shop");
}

TEST(comments_docstrings_and_unfinished_statements_import_nothing) {
    CHECK_INT(scan("// import { a } from './a'\n"
                   "/* import b from './b' */\n"
                   "\"\"\"\nfrom c import d\n\"\"\"\n"
                   "# use of the cache\n"
                   "import { e, f"),
              ==, 0);
    /* Whole words, with letters beyond ASCII: café is not caf. */
    size_t n = scan("from m import caf\ncaf\xc3\xa9() + caf()\n");
    CHECK_INT(find(n, "caf"), ==, 1);
}

/* A name in a string or a comment is not a use: `"NCHAR": ⟨` still wants
 * NCHAR, imported and not used yet. */
TEST(mentions_in_strings_and_comments_are_not_uses) {
    const char *py = "from .types import CHAR, NCHAR\n"
                     "# NCHAR is Oracle's\n"
                     "names = {\n    \"CHAR\": CHAR,\n    \"NCHAR\": ";
    size_t n = imported_names_in_code(LANG_PYTHON, py, strlen(py), names, 64);
    CHECK_INT(find(n, "CHAR"), ==, 1);
    CHECK_INT(find(n, "NCHAR"), ==, 0);
    const char *js = "import { parse, format } from './util';\n"
                     "/* parse, then format */\n"
                     "const s = 'parse';\n"
                     "format(s);\n";
    n = imported_names_in_code(LANG_JAVASCRIPT, js, strlen(js), names, 64);
    CHECK_INT(find(n, "parse"), ==, 0);
    CHECK_INT(find(n, "format"), ==, 1);
    n = imported_names_of(LANG_JAVASCRIPT, js, strlen(js), names, 64); /* every mention */
    CHECK_INT(find(n, "parse"), ==, 2);
    CHECK_INT(find(n, "format"), ==, 2);
}

/* A name written in a later import statement is imported again, not used:
 * `import a.ScrollPane.ScrollBarPolicy;` after `import a.ScrollPane;`, a
 * Python submodule of an imported package. */
TEST(mentions_in_import_statements_are_not_uses) {
    const char *java = "import javafx.scene.control.ScrollPane;\n"
                       "import javafx.scene.control.ScrollPane.ScrollBarPolicy;\n"
                       "import javafx.scene.control.SkinBase;\n"
                       "\n"
                       "public class ScrollPaneSkin extends SkinBase<";
    size_t n = imported_names_in_code(LANG_JAVA, java, strlen(java), names, 64);
    CHECK_INT(find(n, "ScrollPane"), ==, 0);
    CHECK_INT(find(n, "SkinBase"), ==, 1);
    CHECK_INT(find(n, "ScrollBarPolicy"), ==, 0);
    const char *py = "from sqlalchemy import util\n"
                     "from sqlalchemy.util import (\n"
                     "    compat,\n"
                     ")\n"
                     "x = util.";
    n = imported_names_in_code(LANG_PYTHON, py, strlen(py), names, 64);
    CHECK_INT(find(n, "util"), ==, 1);
    CHECK_INT(find(n, "compat"), ==, 0);
}

/* A use is the whole identifier after the import: `ab` is not used by
 * `abc`, `_ab`, `ab1` or `xab`, and `café` is one word.  Checked against a
 * count of the body's words made here, over random bodies. */
TEST(uses_are_whole_identifiers) {
    static const char *const words[] = {"ab",  "abc", "_ab", "ab1", "xab", "café",
                                        "caf", "$el", "el",  "abé", "1ab"};
    static const char *const seps[] = {" ", ".", "(", "\n", ", ", "+", "é "};
    static const char head[] = "import { ab, abc, café, $el } from './m';\n";
    static char text[8192];
    unsigned seed = 7;
    for (int round = 0; round < 300; round++) {
        size_t len = sizeof head - 1;
        memcpy(text, head, len);
        int want[4] = {0}; /* ab, abc, café, $el */
        while (len < sizeof text - 64) {
            const char *w = words[rand_r(&seed) % (sizeof words / sizeof words[0])];
            const char *sep = seps[rand_r(&seed) % (sizeof seps / sizeof seps[0])];
            memcpy(text + len, w, strlen(w));
            len += strlen(w);
            memcpy(text + len, sep, strlen(sep));
            len += strlen(sep);
            bool joined = !strcmp(sep, "é "); /* a letter after it: one longer word (`caf` é) */
            want[0] += !joined && !strcmp(w, "ab");
            want[1] += !joined && !strcmp(w, "abc");
            want[2] += (!joined && !strcmp(w, "café")) || (joined && !strcmp(w, "caf"));
            want[3] += !joined && !strcmp(w, "$el");
        }
        size_t n = imported_names(text, len, names, 64);
        CHECK_INT(find(n, "ab"), ==, want[0]);
        CHECK_INT(find(n, "abc"), ==, want[1]);
        CHECK_INT(find(n, "café"), ==, want[2]);
        CHECK_INT(find(n, "$el"), ==, want[3]);
    }
}

TEST(hostile_text_never_crashes) {
    const char *bad[] = {"import",       "import {",
                         "import * as",  "from x import (",
                         "const {",      "const x = require(",
                         "use a::{",     "import (",
                         "import \"",    "from",
                         "import {a as", "\n\n\nimport\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(scan(bad[i]) <= 64);
    static char big[1 << 16];
    unsigned seed = 3;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = "import{}*as ,:()\"'\nfromusecontrequire.xy_"[rand_r(&seed) % 41];
        CHECK(imported_names(big, sizeof big, names, 64) <= 64);
    }
}

TEST_MAIN(TEST_CASE(es_modules), TEST_CASE(commonjs), TEST_CASE(python), TEST_CASE(java_go_rust),
          TEST_CASE(mentions_in_strings_and_comments_are_not_uses),
          TEST_CASE(mentions_in_import_statements_are_not_uses), TEST_CASE(modules),
          TEST_CASE(the_language_decides_what_binds),
          TEST_CASE(comments_docstrings_and_unfinished_statements_import_nothing),
          TEST_CASE(uses_are_whole_identifiers), TEST_CASE(hostile_text_never_crashes))
