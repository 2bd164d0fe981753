/* The import scanner: what each language's statements yield, and that
 * comments, strings and hostile text do not. */
#include "proto/code/importscan.h"
#include "tests/test.h"

#include <errno.h>

/* Records rendered one per line: "module|binds|name->local,...|flags|line". */
static char seen[4096];

static int render(const importscan_t *im, void *arg) {
    (void)arg;
    size_t n = strlen(seen);
    n += (size_t)snprintf(seen + n, sizeof seen - n, "%.*s|%.*s|", (int)im->module_len, im->module,
                          (int)im->binds_len, im->binds ? im->binds : "");
    for (size_t i = 0; i < im->name_count && n < sizeof seen; i++)
        n += (size_t)snprintf(seen + n, sizeof seen - n, "%s%.*s->%.*s", i ? "," : "",
                              (int)im->names[i].name_len, im->names[i].name,
                              (int)im->names[i].local_len, im->names[i].local);
    if (n < sizeof seen)
        snprintf(seen + n, sizeof seen - n, "|%u|%d\n", im->flags, im->line);
    return 0;
}

static const char *scan(lang_id_t lang, const char *text) {
    seen[0] = '\0';
    CHECK_INT(importscan_text(lang, text, strlen(text), render, NULL), ==, 0);
    return seen;
}

TEST(python) {
    CHECK_STR(scan(LANG_PYTHON, "import os.path as osp, json\n"
                                "import a.b\n"
                                "from ..sql import (\n    select,  # a comment\n    text as t,\n)\n"
                                "from . import util\n"
                                "from m import *\n"
                                "def f():\n    import lazy\n"),
              "os.path|osp||48|1\n" /* aliased (16), the module itself (32) */
              "json|json||32|1\n"
              "a.b|a||32|2\n"
              "..sql||select->select,text->t|0|3\n"
              ".||util->util|0|7\n"
              "m|||1|8\n"
              "lazy|lazy||32|10\n");
    /* Docstrings, comments and strings hold no imports. */
    CHECK_STR(scan(LANG_PYTHON, "\"\"\"\nfrom x import y\n\"\"\"\n# import z\ns = 'import w'\n"
                                "x = 1; import after_semicolon\n"),
              "after_semicolon|after_semicolon||32|6\n");
}

TEST(javascript_and_typescript) {
    CHECK_STR(scan(LANG_TYPESCRIPT, "import Foo, { bar, baz as qux, type T } from './a';\n"
                                    "import * as ns from \"../b\";\n"
                                    "import {\n  multi,\n} from './c';\n"
                                    "import './side-effect.css';\n"
                                    "export { x } from './d';\n"
                                    "const lazy = () => import('./e');\n"
                                    "import type Shape from './f';\n"
                                    "import Def, * as all from './g';\n"
                                    "// import nope from './h';\n"),
              "./a|Foo|bar->bar,baz->qux,T->T|0|1\n"
              "../b|ns||32|2\n"
              "./c||multi->multi|0|5\n"
              "./side-effect.css|||0|6\n"
              "./d|||0|7\n"
              "./e|||0|8\n"
              "./f|Shape||0|9\n"
              "./g|all|default->Def|32|10\n");
    CHECK_STR(scan(LANG_JAVASCRIPT, "const Compiler = require(\"./Compiler\");\n"
                                    "const { a, b: c } = require('./util');\n"
                                    "module.exports = require('./index');\n"
                                    "X.Template = require('./t');\n"
                                    "import x = require('./ts-style');\n"),
              "./Compiler|Compiler||0|1\n"
              "./util||a->a,b->c|0|2\n"
              "./index|||0|3\n"
              "./t|||0|4\n"
              "./ts-style|x||0|5\n");
}

TEST(go_java_kotlin_rust_c) {
    CHECK_STR(scan(LANG_GO, "import \"fmt\"\nimport (\n\tf \"shop/format\"\n\t_ \"x/driver\"\n"
                            "\t. \"x/dsl\"\n\t\"gopkg.in/yaml/v3\"\n)\n"),
              "fmt|fmt||32|1\nshop/format|f||48|3\nx/driver|||0|4\nx/dsl|||1|5\n"
              "gopkg.in/yaml/v3|yaml||32|6\n");
    CHECK_STR(scan(LANG_JAVA, "import com.shop.Order;\nimport static a.b.C.m;\nimport a.b.*;\n"),
              "com.shop.Order|Order||0|1\na.b.C.m|m||2|2\na.b|||1|3\n");
    CHECK_STR(scan(LANG_KOTLIN, "import a.b.C as D\nimport a.b.E\n"),
              "a.b.C|D||16|1\na.b.E|E||0|2\n");
    CHECK_STR(scan(LANG_RUST, "use crate::store::{Store, Item as It, self};\nuse std::io::*;\n"
                              "mod net;\n"),
              "crate::store::Store|Store||0|1\ncrate::store::Item|It||16|1\n"
              "crate::store|store||0|1\nstd::io::*|||1|2\nnet|net||8|3\n");
    CHECK_STR(scan(LANG_C, "#include \"util.h\"\n  #  include <stdio.h>\n#define X 1\n"),
              "util.h|||0|1\nstdio.h|||4|2\n");
}

TEST(every_language_at_once) {
    /* A prefix without a path: each statement by its shape. */
    CHECK_STR(scan(LANG_UNKNOWN, "import Foo from './a'\n"
                                 "import \"fmt\"\n"
                                 "import com.shop.Order;\n"
                                 "import os.path as osp\n"
                                 "from .base import Engine\n"
                                 "use crate::x::Y;\n"
                                 "const { q } = require('./q')\n"
                                 "let r = 1\n"
                                 "  // import commented from './c'\n"
                                 "x = 'import quoted'\n"),
              "./a|Foo||0|1\n"
              "fmt|fmt||32|2\n"
              "com.shop.Order|Order||0|3\n"
              "os.path|osp||48|4\n"
              ".base||Engine->Engine|0|5\n"
              "crate::x::Y|Y||0|6\n"
              "./q||q->q|0|7\n");
}

static int stop_at_second(const importscan_t *im, void *arg) {
    (void)im;
    return ++*(int *)arg == 2 ? 42 : 0;
}

TEST(callback_stops_the_scan) {
    int calls = 0;
    const char *text = "import a\nimport b\nimport c\n";
    CHECK_INT(importscan_text(LANG_PYTHON, text, strlen(text), stop_at_second, &calls), ==, 42);
    CHECK_INT(calls, ==, 2);
    CHECK_INT(importscan_text(LANG_PYTHON, NULL, 1, stop_at_second, &calls), ==, -EINVAL);
    CHECK_INT(importscan_text(LANG_PYTHON, text, 3, NULL, NULL), ==, -EINVAL);
    CHECK_INT(importscan_text(LANG_MARKDOWN, text, strlen(text), stop_at_second, &calls), ==, 0);
}

static int count(const importscan_t *im, void *arg) {
    CHECK(im->module_len > 0 && im->line >= 1);
    ++*(int *)arg;
    return 0;
}

TEST(hostile_text_never_crashes) {
    static char big[1 << 15];
    unsigned seed = 7;
    const char alphabet[] = "import{}*as ,:()\"'`\n#/fromusecontrequire.xy_;\\\xc3\xa9";
    for (int round = 0; round < 60; round++) {
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        for (int lang = 0; lang < LANG_COUNT; lang++) {
            int n = 0;
            CHECK_INT(importscan_text((lang_id_t)lang, big, sizeof big, count, &n), ==, 0);
        }
    }
}

TEST_MAIN(TEST_CASE(python), TEST_CASE(javascript_and_typescript), TEST_CASE(go_java_kotlin_rust_c),
          TEST_CASE(every_language_at_once), TEST_CASE(callback_stops_the_scan),
          TEST_CASE(hostile_text_never_crashes))
