/* Tests of proto/code/refs: the member accesses of a file, counted. */
#include "proto/code/refs.h"
#include "tests/test.h"

typedef struct {
    char text[4096];
    size_t n;
} seen_t;

static int collect(const refs_access_t *a, void *arg) {
    seen_t *s = arg;
    if (s->n + 300 < sizeof s->text)
        s->n += (size_t)snprintf(s->text + s->n, sizeof s->text - s->n, "%s>%s=%d;", a->receiver,
                                 a->member, a->count);
    return 0;
}

#define REQUIRE_NULL(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond);           \
            test_failed_checks++;                                                                  \
            return "";                                                                             \
        }                                                                                          \
    } while (0)

static const char *scan(lang_id_t lang, const char *text) {
    static seen_t s;
    memset(&s, 0, sizeof s);
    CHECK_INT(refs_scan(lang, text, strlen(text), collect, &s), ==, 0);
    return s.text;
}

TEST(accesses_are_counted_per_receiver_and_member) {
    CHECK_STR(scan(LANG_PYTHON, "utils.parse(x)\nutils.parse(y)\nutils.format(z)\n"),
              "utils>parse=2;utils>format=1;");
    CHECK_STR(scan(LANG_GO, "fmt.Println(a)\nstore.NewCart()\n"), "fmt>Println=1;store>NewCart=1;");
    CHECK_STR(scan(LANG_RUST, "let c = config::load();\nx.y"), "config>load=1;x>y=1;");
    CHECK_STR(scan(LANG_C, "n->next = p->next;"), "n>next=1;p>next=1;");
    CHECK_STR(scan(LANG_TYPESCRIPT, "a?.b"), "a>b=1;");
}

TEST(chains_count_each_step) {
    CHECK_STR(scan(LANG_PYTHON, "os.path.join(a, b)"), "os>path=1;os.path>join=1;");
    CHECK_STR(scan(LANG_PYTHON, "self.session.query()"), "self>session=1;self.session>query=1;");
    /* a path keeps its `::`, so that it reads as the module it names */
    CHECK_STR(scan(LANG_RUST, "crate::util::error::GONE"),
              "crate>util=1;crate::util>error=1;crate::util::error>GONE=1;");
    CHECK_STR(scan(LANG_RUST, "self.io::read()"), "self>io=1;self.io>read=1;");
}

TEST(non_names_numbers_comments_and_strings) {
    CHECK_STR(scan(LANG_JAVASCRIPT, "f().then(g); a[0].x; x = 1.5 + .5;"), ">then=1;>x=1;");
    CHECK_STR(scan(LANG_PYTHON, "# utils.parse\ns = 'utils.parse'\n\"\"\"utils.parse\"\"\"\n"), "");
    CHECK_STR(scan(LANG_JAVASCRIPT, "const {...rest} = o; [...a].map(f)"), ">map=1;");
    CHECK_STR(scan(LANG_JAVASCRIPT, "// utils.parse\n/* a.b */ c.d"), "c>d=1;");
}

static int stop_at_first(const refs_access_t *a, void *arg) {
    (void)a;
    (*(int *)arg)++;
    return 7;
}

TEST(the_callback_can_stop_the_scan) {
    int calls = 0;
    CHECK_INT(refs_scan(LANG_PYTHON, "a.b\nc.d\n", 8, stop_at_first, &calls), ==, 7);
    CHECK_INT(calls, ==, 1);
    CHECK_INT(refs_scan(LANG_PYTHON, NULL, 0, stop_at_first, &calls), ==, 0);
}

TEST(many_and_long_accesses) {
    static char big[300000];
    size_t n = 0;
    for (int i = 0; n + 40 < sizeof big; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "m%d.f%d()\n", i % 500, i % 7);
    seen_t s = {0};
    CHECK_INT(refs_scan(LANG_PYTHON, big, n, collect, &s), ==, 0);
    char name[400];
    memset(name, 'a', 300);
    memcpy(name + 300, ".b", 3);
    CHECK_STR(scan(LANG_PYTHON, name), ">b=1;"); /* a 300-byte name is not a receiver */
}

/* ---- a file's references through its imports ---- */

static int on_qualified(const char *target, const char *name, int count, void *arg) {
    seen_t *s = arg;
    if (s->n + 300 < sizeof s->text)
        s->n += (size_t)snprintf(s->text + s->n, sizeof s->text - s->n, "%s#%s=%d;", target, name,
                                 count);
    return 0;
}

static int on_attribute(const char *name, int count, void *arg) {
    seen_t *s = arg;
    if (s->n + 300 < sizeof s->text)
        s->n += (size_t)snprintf(s->text + s->n, sizeof s->text - s->n, "@%s=%d;", name, count);
    return 0;
}

static const char *refs_in(const char *path, lang_id_t lang, const char *text, bool attributes) {
    static const char *const paths[] = {"email/__init__.py", "email/utils.py",    "email/parser.py",
                                        "web/lib/graph.js",  "web/lib/util.js",   "web/app.js",
                                        "src/lib.rs",        "src/util/error.rs", "src/io/read.rs"};
    static seen_t s;
    memset(&s, 0, sizeof s);
    imports_index_t *index = NULL;
    imports_t *imports = NULL;
    REQUIRE_NULL(imports_index_new(NULL, paths, 9, &index) == 0);
    REQUIRE_NULL(imports_extract(index, path, lang, text, strlen(text), &imports) == 0);
    CHECK_INT(refs_of_file(lang, text, strlen(text), imports, on_qualified,
                           attributes ? on_attribute : NULL, &s),
              ==, 0);
    imports_destroy(&imports);
    imports_index_destroy(&index);
    return s.text;
}

TEST(members_reached_through_imports) {
    CHECK_STR(refs_in("email/parser.py", LANG_PYTHON,
                      "from email import utils\nimport email.utils as eu\n\n"
                      "def f(s):\n    utils.parseaddr(s)\n    eu.parseaddr(s)\n"
                      "    return utils.formatdate()\n",
                      false),
              "email/utils.py#parseaddr=2;email/utils.py#formatdate=1;");
    CHECK_STR(
        refs_in("web/app.js", LANG_JAVASCRIPT,
                "import * as graph from './lib/graph.js';\n"
                "import { clamp } from './lib/util.js';\n"
                "graph.addNode(clamp(1), clamp(2));\nx.addNode();\n",
                true),
        "web/lib/graph.js#addNode=1;web/lib/util.js#clamp=3;@addNode=2;"); /* import + 2 uses */
    /* a Rust module named inline, without a `use` */
    CHECK_STR(
        refs_in("src/io/read.rs", LANG_RUST,
                "fn f() -> E {\n    crate::util::error::closed(crate::util::error::GONE)\n}\n",
                false),
        "src/util/error.rs#closed=1;src/util/error.rs#GONE=1;");
    /* what a package imports by name is a reference even when unused:
     * its public face (`from .utils import a as b` names utils' a) */
    CHECK_STR(refs_in("email/__init__.py", LANG_PYTHON,
                      "from .utils import parseaddr, formatdate as fd\nfrom .parser import *\n",
                      false),
              "email/utils.py#parseaddr=1;email/utils.py#formatdate=1;");
    CHECK_STR(refs_in("src/lib.rs", LANG_RUST,
                      "mod util;\npub use crate::util::error::{closed, GONE as Gone};\n"
                      "fn f() { closed(); }\n",
                      false),
              "src/util/error.rs#closed=2;src/util/error.rs#GONE=1;");
    /* receivers that are not imports count only as attributes */
    CHECK_STR(refs_in("email/parser.py", LANG_PYTHON, "def f(x):\n    x.parse()\n", true),
              "@parse=1;");
}

TEST_MAIN(TEST_CASE(members_reached_through_imports),
          TEST_CASE(accesses_are_counted_per_receiver_and_member),
          TEST_CASE(chains_count_each_step), TEST_CASE(non_names_numbers_comments_and_strings),
          TEST_CASE(the_callback_can_stop_the_scan), TEST_CASE(many_and_long_accesses))
