/*
 * Tests of proto/code/cursor: what the thing before the cursor's dot is, in
 * each language.
 */
#include "proto/code/cursor.h"
#include "tests/test.h"

static cursor_t read_as(lang_id_t lang, const char *prefix) {
    cursor_t c;
    cursor_read(lang, prefix, strlen(prefix), &c);
    return c;
}

TEST(no_member_access_is_none) {
    CHECK_INT(read_as(LANG_PYTHON, "x = 1\nfoo").kind, ==, CURSOR_NONE);
    CHECK_INT(read_as(LANG_PYTHON, "x = 1.").kind, ==, CURSOR_NONE);
    CHECK_INT(read_as(LANG_PYTHON, "# utils.").kind, ==, CURSOR_NONE);
    CHECK_INT(read_as(LANG_JAVASCRIPT, "s = 'utils.").kind, ==, CURSOR_NONE);
    CHECK_INT(read_as(LANG_PYTHON, "").kind, ==, CURSOR_NONE);
    cursor_t c = read_as(LANG_JAVASCRIPT, "f().");
    CHECK_INT(c.kind, ==, CURSOR_UNKNOWN);
    CHECK_INT(c.chain_len, ==, 0);
}

TEST(receiver_chain_operator_and_partial) {
    cursor_t c = read_as(LANG_PYTHON, "def f():\n    return a.b.pa");
    CHECK_INT(c.chain_len, ==, 2);
    CHECK_STR(c.chain[0], "a");
    CHECK_STR(c.receiver, "b");
    CHECK_STR(c.partial, "pa");
    CHECK_STR(c.op, ".");
    c = read_as(LANG_RUST, "let v = config::");
    CHECK_STR(c.op, "::");
    CHECK_STR(c.receiver, "config");
    c = read_as(LANG_C, "n = node->");
    CHECK_STR(c.op, "->");
    c = read_as(LANG_TYPESCRIPT, "const v = maybe?.");
    CHECK_STR(c.op, "?.");
    CHECK_STR(c.receiver, "maybe");
    c = read_as(LANG_RUST, "    self.local\n        .inner\n        .aw");
    CHECK_INT(c.chain_len, ==, 3);
    CHECK_STR(c.chain[0], "self");
    CHECK_STR(c.receiver, "inner");
    CHECK_STR(c.partial, "aw");
    c = read_as(LANG_RUST, "    local\n        .");
    CHECK_INT(c.chain_len, ==, 1);
    CHECK_STR(c.receiver, "local");
    CHECK_INT(read_as(LANG_PYTHON, "from .").kind, ==, CURSOR_NONE);
}

TEST(python_modules) {
    cursor_t c =
        read_as(LANG_PYTHON, "from email import utils\n\ndef parse(s):\n    return utils.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "email");
    CHECK_STR(c.member_of, "utils");
    c = read_as(LANG_PYTHON, "import email.utils as eu\n\nx = eu.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "email.utils");
    c = read_as(LANG_PYTHON, "import os.path\n\nx = os.path.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "os.path");
    c = read_as(LANG_PYTHON, "from . import graph\nx = graph.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, ".");
    CHECK_STR(c.member_of, "graph");
    c = read_as(LANG_PYTHON, "import networkx as nx\nG = nx.");
    CHECK_STR(c.module, "networkx");
    c = read_as(LANG_PYTHON, "from .models import Order\nx = Order.");
    CHECK_INT(c.kind, ==, CURSOR_TYPE);
    CHECK_STR(c.type, "Order");
    CHECK_STR(c.module, ".models");
}

TEST(python_self_and_values) {
    const char *src = "from .base import Base\n"
                      "from .session import Session\n"
                      "\n"
                      "class Cart(Base, metaclass=Meta):\n"
                      "    def __init__(self):\n"
                      "        self.session = Session(1)\n"
                      "\n"
                      "    def total(self):\n"
                      "        s = \"self.x = Nope()\"\n"
                      "        return self.";
    cursor_t c = read_as(LANG_PYTHON, src);
    CHECK_INT(c.kind, ==, CURSOR_SELF);
    CHECK_STR(c.type, "Cart");
    CHECK_INT(c.base_count, ==, 1);
    CHECK_STR(c.bases[0], "Base");
    char more[1024];
    snprintf(more, sizeof more, "%ssession.", src);
    c = read_as(LANG_PYTHON, more);
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Session");
    CHECK_STR(c.module, ".session");
    c = read_as(LANG_PYTHON, "import shop\n\ndef f():\n    cart = shop.Cart()\n    cart.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Cart");
    CHECK_STR(c.module, "shop");
    c = read_as(LANG_PYTHON, "def f(g: Graph):\n    return g.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Graph");
    /* a method outside any class: self is unknown */
    CHECK_INT(read_as(LANG_PYTHON, "def f(self):\n    self.").kind, ==, CURSOR_UNKNOWN);
}

TEST(javascript_and_typescript) {
    cursor_t c = read_as(LANG_TYPESCRIPT, "import * as Option from './Option.js'\nOption.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "./Option.js");
    c = read_as(LANG_JAVASCRIPT, "const astUtils = require('./utils/ast-utils');\nastUtils.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "./utils/ast-utils");
    c = read_as(LANG_JAVASCRIPT, "import { Scheduler } from './Scheduler.js';\n"
                                 "const s = new Scheduler();\ns.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Scheduler");
    CHECK_STR(c.module, "./Scheduler.js");
    c = read_as(LANG_TYPESCRIPT, "import { Mesh } from './Mesh';\n"
                                 "class Line extends Mesh implements Drawable {\n"
                                 "  draw() {\n    if (x) {\n      this.");
    CHECK_INT(c.kind, ==, CURSOR_SELF);
    CHECK_STR(c.type, "Line");
    CHECK_INT(c.base_count, ==, 2);
    CHECK_STR(c.bases[0], "Mesh");
    CHECK_STR(c.bases[1], "Drawable");
    c = read_as(LANG_TYPESCRIPT, "function f(g: Graph) {\n  return g.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Graph");
    /* braces in strings and comments do not open classes */
    c = read_as(LANG_JAVASCRIPT, "class A {\n}\n// class B {\nconst s = '{';\nthis.");
    CHECK_INT(c.kind, ==, CURSOR_UNKNOWN);
}

TEST(go_packages_receivers_and_values) {
    const char *head =
        "package cart\n\nimport (\n\t\"fmt\"\n\tstore \"example.com/shop/store\"\n)\n\n";
    char src[1024];
    snprintf(src, sizeof src, "%sfunc f() {\n\tfmt.", head);
    cursor_t c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "fmt");
    snprintf(src, sizeof src, "%sfunc f() {\n\tstore.", head);
    c = read_as(LANG_GO, src);
    CHECK_STR(c.module, "example.com/shop/store");
    snprintf(src, sizeof src, "%sfunc (c *Cart) Total() int {\n\tfor {\n\t\tc.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_SELF);
    CHECK_STR(c.type, "Cart");
    snprintf(src, sizeof src, "%sfunc f() {\n\ts := store.NewInventory(1)\n\ts.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Inventory");
    CHECK_STR(c.call, "NewInventory");
    CHECK_STR(c.module, "example.com/shop/store");
    snprintf(src, sizeof src, "%sfunc f() {\n\tx := &Item{}\n\tx.", head);
    c = read_as(LANG_GO, src);
    CHECK_STR(c.type, "Item");
    CHECK_STR(c.call, "");
    /* an unexported type's literal; what a function returns, with or
     * without an error beside it */
    snprintf(src, sizeof src, "%sfunc f() {\n\tac := &accessController{\n\t}\n\tac.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "accessController");
    snprintf(src, sizeof src, "%sfunc f() {\n\tsink := newSink(u, 0)\n\tsink.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "");
    CHECK_STR(c.call, "newSink");
    snprintf(src, sizeof src, "%sfunc f() {\n\tinv, err := store.Open(p)\n\tinv.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.call, "Open");
    CHECK_STR(c.module, "example.com/shop/store");
    snprintf(src, sizeof src, "%sfunc f() {\n\tm := map[string]int{}\n\tm.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, !=, CURSOR_VALUE);
    snprintf(src, sizeof src, "%sfunc f(r *http.Request) {\n\tr.", head);
    c = read_as(LANG_GO, src);
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Request");
}

TEST(rust_paths_impls_and_lets) {
    cursor_t c = read_as(LANG_RUST, "use crate::config;\nfn f() { config::");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "crate::config");
    c = read_as(LANG_RUST, "impl<T> Drop for Pool<T> {\n    fn drop(&mut self) {\n        self.");
    CHECK_INT(c.kind, ==, CURSOR_SELF);
    CHECK_STR(c.type, "Pool");
    c = read_as(LANG_RUST, "fn f() {\n    let mut b = Builder::new();\n    b.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Builder");
    c = read_as(LANG_RUST, "fn f(rt: &Runtime) {\n    rt.");
    CHECK_STR(c.type, "Runtime");
    /* paths written inline: the module they name, a `use`d first name
     * replaced by what it binds, a capitalised last name a type of it */
    c = read_as(LANG_RUST, "fn gone() -> Error {\n    crate::util::error::");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "crate::util::error");
    c = read_as(LANG_RUST, "fn f() {\n    super::");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "super");
    c = read_as(LANG_RUST, "use crate::runtime;\nfn f() {\n    runtime::task::sp");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "crate::runtime::task");
    CHECK_STR(c.partial, "sp");
    c = read_as(LANG_RUST, "fn rt() -> crate::runtime::Runtime::");
    CHECK_INT(c.kind, ==, CURSOR_TYPE);
    CHECK_STR(c.type, "Runtime");
    CHECK_STR(c.module, "crate::runtime");
    c = read_as(LANG_RUST, "fn f() {\n    tokio::time::");
    CHECK_STR(c.module, "tokio::time");
    /* a variable made or typed through a path: the type in that module */
    c = read_as(LANG_RUST,
                "fn f() {\n    let d = crate::runtime::signal::Driver::new(io)?;\n    d.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Driver");
    CHECK_STR(c.module, "crate::runtime::signal");
    c = read_as(LANG_RUST, "use crate::runtime;\nfn f(h: &runtime::io::Handle) {\n    h.");
    CHECK_STR(c.type, "Handle");
    CHECK_STR(c.module, "crate::runtime::io");
    c = read_as(LANG_RUST, "fn f() {\n    let s = self::Pool::default();\n    s.");
    CHECK_STR(c.type, "Pool");
    CHECK_STR(c.module, "self");
}

TEST(java_types_and_declarations) {
    cursor_t c = read_as(LANG_JAVA, "import javafx.scene.control.Button;\nclass A {\n"
                                    "  void f() {\n    Button b = new Button();\n    b.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Button");
    CHECK_STR(c.module, "javafx.scene.control.Button");
    c = read_as(LANG_JAVA, "import a.b.Util;\nclass A { void f() { Util.");
    CHECK_INT(c.kind, ==, CURSOR_TYPE);
    CHECK_STR(c.type, "Util");
    c = read_as(LANG_JAVA, "class Skin extends SkinBase<Control> implements A, B {\n"
                           "  void f() { this.");
    CHECK_INT(c.kind, ==, CURSOR_SELF);
    CHECK_STR(c.type, "Skin");
    CHECK_STR(c.bases[0], "SkinBase");
    /* The declared type, whatever the value is made by: a local method, a
     * static one (not its class), an instance's.  `new` names the class. */
    static const struct {
        const char *text, *type;
    } declared[] = {
        {"class A {\n  Class f() {\n    BSHType node = getTypeNode();\n    node.", "BSHType"},
        {"class A {\n  void f() {\n    LHS lhs = Reflect.getLHSField(c, n);\n    lhs.", "LHS"},
        {"class A {\n  void f() {\n    Map<String, Item> m = cm.items(x);\n    m.", "Map"},
        {"class A {\n  void f() {\n    Object o = new Button();\n    o.", "Button"},
        {"class A {\n  void f() {\n    x = Reflect.get(c);\n    x.", "Reflect"},
        {"class A {\n  void f() {\n    for (Item it : items) {\n      it.", "Item"},
    };
    for (size_t i = 0; i < sizeof declared / sizeof declared[0]; i++) {
        c = read_as(LANG_JAVA, declared[i].text);
        CHECK_INT(c.kind, ==, CURSOR_VALUE);
        CHECK_STR(c.type, declared[i].type);
    }
}

TEST(what_a_function_returns) {
    static const struct {
        const char *text, *name, *want; /* want NULL: nothing with members */
    } cases[] = {
        {"// Open opens.\nfunc Open(p string) (*Store, error) {\n\treturn nil, nil\n}\n", "Open",
         "Store"},
        {"func newSink(u string, n int) *httpSink {\n}\n", "newSink", "httpSink"},
        {"func (b *Builder) Build() v2.URLBuilder {\n}\n", "Build", "URLBuilder"},
        {"func Count() (int, error) {\n}\n", "Count", NULL},
        {"func Names() []Name {\n}\n", "Names", NULL},
        {"pub fn connect(addr: &str) -> io::Result<Conn> {\n}\n", "connect", "Result"},
        {"pub fn new() -> Self {\n}\n", "new", NULL},
        {"def make_engine(url) -> Engine:\n    pass\n", "make_engine", "Engine"},
        {"export function createStore(a: A): Store<S> {\n}\n", "createStore", "Store"},
        {"x := Open(p)\n", "Open", NULL}, /* a call, not the definition */
        {"func Open(", "Open", NULL},     /* cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[CURSOR_NAME_MAX] = "";
        bool found = cursor_return_type(cases[i].text, strlen(cases[i].text), cases[i].name, out,
                                        sizeof out);
        CHECK(found == (cases[i].want != NULL));
        if (found && cases[i].want)
            CHECK_STR(out, cases[i].want);
    }
    /* the type before the name: Java's and C#'s headers */
    static const struct {
        const char *text, *name, *want;
    } declared[] = {
        {"    public BshClassManager getClassManager() {\n        return bcm;\n    }\n",
         "getClassManager", "BshClassManager"},
        {"  public final TablePosition<S,?> getEditingCell() { return cell.get(); }\n",
         "getEditingCell", "TablePosition"},
        {"  @Override\n  protected abstract javafx.scene.Node make(int a)\n      throws Oops;\n",
         "make", "Node"},
        {"  Foo find(String name);\n", "find", "Foo"}, /* an interface's */
        {"  public void run() {\n  }\n", "run", NULL},
        {"  public int size() {\n  }\n", "size", NULL},
        {"  public String[] names() {\n  }\n", "names", NULL},
        {"    Foo x = find(name);\n", "find", NULL}, /* a call */
        {"    return find(name);\n", "find", NULL},  /* a call */
        {"    x = a.find(name) {\n", "find", NULL},  /* a call's receiver */
        {"  Foo find(String name", "find", NULL},    /* cut short */
    };
    for (size_t i = 0; i < sizeof declared / sizeof declared[0]; i++) {
        char out[CURSOR_NAME_MAX] = "";
        bool found = cursor_declared_type(declared[i].text, strlen(declared[i].text),
                                          declared[i].name, out, sizeof out);
        if (found != (declared[i].want != NULL))
            fprintf(stderr, "  %s", declared[i].text);
        CHECK(found == (declared[i].want != NULL));
        if (found && declared[i].want)
            CHECK_STR(out, declared[i].want);
    }
}

/* Python, JS, TS, Rust: a value a lower-case call makes is what that call
 * returns (the retriever reads its definition: a return type, or a class
 * of that name); `require(...)` is an import, and a name imported too
 * stays the import (Python's blocks are not scopes). */
TEST(a_lower_case_call_makes_a_value) {
    cursor_t c = read_as(LANG_PYTHON, "def f(cls):\n    decl = registry(metadata=m)\n    decl.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "");
    CHECK_STR(c.call, "registry");
    c = read_as(LANG_PYTHON, "def sub(self):\n    G = _AntiGraph()\n    G.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.call, "_AntiGraph");
    c = read_as(LANG_TYPESCRIPT, "function f() {\n  const store = makeStore(1);\n  store.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.call, "makeStore");
    c = read_as(LANG_RUST, "fn f() {\n    let rt = build_runtime();\n    rt.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.call, "build_runtime");
    c = read_as(LANG_JAVASCRIPT, "const astUtils = require(\"./utils/ast-utils\");\nastUtils.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.call, "");
    c = read_as(LANG_PYTHON, "from . import schema\n\nclass C:\n    def a(self, x):\n"
                             "        schema = self.preparer.format_schema(x)\n\n"
                             "    def b(self, column):\n        return isinstance(column, schema.");
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.call, "");
    /* a capitalised call is the class, as ever */
    c = read_as(LANG_PYTHON, "cart = Cart()\ncart.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Cart");
    CHECK_STR(c.call, "");
}

TEST(the_bases_a_class_header_declares) {
    static const struct {
        lang_id_t lang;
        const char *text, *name;
        int n;
        const char *first, *second;
    } cases[] = {
        {LANG_PYTHON, "@dec\nclass Join(roles.Base, Mixin, metaclass=M):\n    x = 1\n", "Join", 2,
         "Base", "Mixin"},
        {LANG_PYTHON, "class Plain:\n    pass\n", "Plain", 0, NULL, NULL},
        {LANG_JAVA,
         "/** class Label extends Wrong */\npublic class Label<T> extends Labeled<T>\n"
         "        implements Skinnable, java.io.Serializable {\n}",
         "Label", 3, "Labeled", "Skinnable"},
        {LANG_TYPESCRIPT, "export class Subject<T> extends Observable<T> implements Sub {",
         "Subject", 2, "Observable", "Sub"},
        {LANG_JAVA, "interface Cell extends Node, Styleable { }", "Cell", 2, "Node", "Styleable"},
        {LANG_RUST, "pub trait Stream: Send + Sync {", "Stream", 2, "Send", "Sync"},
        {LANG_JAVA, "class Other extends Base {}\nclass Labeled {}", "Labeled", 0, NULL, NULL},
        {LANG_JAVA, "class Labeled extends Labeled {}", "Labeled", 0, NULL, NULL},
        {LANG_JAVA, "", "Labeled", 0, NULL, NULL},
        {LANG_JAVA, "class", "class", 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char bases[CURSOR_BASES_MAX][CURSOR_NAME_MAX];
        int n = cursor_class_bases(cases[i].lang, cases[i].text, strlen(cases[i].text),
                                   cases[i].name, bases);
        CHECK_INT(n, ==, cases[i].n);
        if (n > 0 && cases[i].first)
            CHECK_STR(bases[0], cases[i].first);
        if (n > 1 && cases[i].second)
            CHECK_STR(bases[1], cases[i].second);
    }
    /* a dozen roles, then the class that matters (sqlalchemy's ColumnElement) */
    const char *wide = "class ColumnElement(\n    roles.R1,\n    roles.R2,\n    roles.R3,\n"
                       "    roles.R4,\n    roles.R5,\n    roles.R6,\n    roles.R7,\n"
                       "    roles.R8,\n    roles.R9,\n    roles.R10,\n    operators.Ops,\n"
                       "    ClauseElement,\n):\n    pass\n";
    char bases[CURSOR_BASES_MAX][CURSOR_NAME_MAX];
    CHECK_INT(cursor_class_bases(LANG_PYTHON, wide, strlen(wide), "ColumnElement", bases), ==, 12);
    CHECK_STR(bases[11], "ClauseElement");
}

TEST(the_class_the_cursor_is_in) {
    cursor_t c;
    const char *py = "class Cart(Base, Mixin):\n    def total(self):\n        return ";
    CHECK(cursor_enclosing(LANG_PYTHON, py, strlen(py), &c));
    CHECK_INT(c.kind, ==, CURSOR_SELF);
    CHECK_STR(c.type, "Cart");
    CHECK_INT(c.base_count, ==, 2);
    const char *go = "package p\n\nfunc (r *Repo) Open() {\n\tx := ";
    CHECK(cursor_enclosing(LANG_GO, go, strlen(go), &c));
    CHECK_STR(c.type, "Repo");
    const char *none = "def f():\n    return ";
    CHECK(!cursor_enclosing(LANG_PYTHON, none, strlen(none), &c));
    CHECK_INT(c.kind, ==, CURSOR_NONE);
    CHECK(!cursor_enclosing(LANG_JAVA, "", 0, &c));
    CHECK(!cursor_enclosing(LANG_JAVA, NULL, 5, &c));
}

static const char *function_of(lang_id_t lang, const char *prefix) {
    static char out[CURSOR_NAME_MAX];
    bool found = cursor_function(lang, prefix, strlen(prefix), out);
    CHECK(found == (out[0] != '\0'));
    return out;
}

TEST(the_function_the_cursor_is_in) {
    CHECK_STR(function_of(LANG_PYTHON, "class T:\n    def test_grid(self):\n        if x:\n"
                                       "            G = nx."),
              "test_grid");
    CHECK_STR(function_of(LANG_PYTHON, "async def load():\n    return "), "load");
    CHECK_STR(function_of(LANG_PYTHON,
                          "class A:\n    def compile(\n        self,\n        x=None,\n"
                          "    ):\n        if x:\n            d = default."),
              "compile");
    CHECK_STR(function_of(LANG_PYTHON, "class T:\n    x = "), "");
    CHECK_STR(function_of(LANG_PYTHON, "x = 1\ny = "), "");
    CHECK_STR(function_of(LANG_GO, "func (c *Client) Get(x int) error {\n\tif x {\n\t\tc."), "Get");
    CHECK_STR(function_of(LANG_GO, "func TestX(t *testing.T) {\n\tgo func() {\n\t\tx."), "TestX");
    CHECK_STR(function_of(LANG_RUST, "impl Foo {\n    pub fn read_to_end(&mut self) {\n"
                                     "        let f = |x| {\n            x."),
              "read_to_end");
    CHECK_STR(function_of(LANG_RUST, "impl Foo {\n    const X: u8 = "), "");
    /* an annotation's parentheses, `X.class`, a lambda and a for loop */
    CHECK_STR(function_of(LANG_JAVA, "class A {\n  @Test(expected = X.class)\n"
                                     "  public void testFoo() throws Exception {\n"
                                     "    for (int i = 0; i < 3; i++) {\n"
                                     "      run(() -> {\n        a."),
              "testFoo");
    CHECK_STR(function_of(LANG_JAVA, "class A {\n  int x = foo."), "");
    CHECK_STR(function_of(LANG_JAVA, "class A {\n  static {\n    x."), "");
    /* an arrow function is named by what it is assigned to; a callback is
     * looked through */
    CHECK_STR(function_of(LANG_TYPESCRIPT, "describe('x', () => {\n  it('y', async () => {\n"
                                           "    const load = async (x: number) => {\n      a."),
              "load");
    CHECK_STR(function_of(LANG_TYPESCRIPT, "class A {\n  async load(x: number): Promise<void> {\n"
                                           "    if (x) {\n      this."),
              "load");
    CHECK_STR(function_of(LANG_JAVASCRIPT, "function outer() {\n  describe('x', function () {\n"
                                           "    a."),
              "outer");
    CHECK_STR(function_of(LANG_JAVASCRIPT, "describe('x', function () {\n  a."), "");
    CHECK_STR(function_of(LANG_C, "static int parse(const char *s) {\n  switch (s[0]) {\n"
                                  "  case 1: {\n    x."),
              "parse");
    CHECK_STR(function_of(LANG_JAVA, ""), "");
    char out[CURSOR_NAME_MAX];
    CHECK(!cursor_function(LANG_JAVA, NULL, 5, out));
    static char big[100000];
    memset(big, '{', sizeof big - 1);
    CHECK(!cursor_function(LANG_JAVA, big, sizeof big - 1, out));
    memset(big, '(', sizeof big - 2);
    big[sizeof big - 2] = '{';
    CHECK(!cursor_function(LANG_C, big, sizeof big - 1, out));
}

static const char *declared_by(lang_id_t lang, const char *prefix) {
    static char out[CURSOR_NAME_MAX];
    bool found = cursor_declared(lang, prefix, strlen(prefix), out);
    CHECK(found == (out[0] != '\0'));
    return out;
}

TEST(the_name_a_statement_sets) {
    /* a type annotation over lines, with arrows in it */
    CHECK_STR(declared_by(LANG_TYPESCRIPT, "export const splitWhere: {\n"
                                           "  <A>(self: Sink<A>, f: Predicate<In>): Sink<A, In>\n"
                                           "  (x: (_: Utc) => A): B\n} = internal."),
              "splitWhere");
    CHECK_STR(declared_by(LANG_PYTHON, "dumps = json."), "dumps");
    CHECK_STR(declared_by(LANG_PYTHON, "    G = nx.gr"), "G");
    CHECK_STR(declared_by(LANG_PYTHON, "x: int = mod."), "x");
    CHECK_STR(declared_by(LANG_GO, "\tx := pkg.Ne"), "x");
    CHECK_STR(declared_by(LANG_JAVASCRIPT, "exports.run = impl."), "run");
    CHECK_STR(declared_by(LANG_JAVA, "  private final Foo bar = Baz."), "bar");
    CHECK_STR(declared_by(LANG_RUST, "    let x: Vec<u8> = io::"), "x");
    CHECK_STR(declared_by(LANG_TYPESCRIPT, "const m = new Map<string, number>(); const y = a."),
              "y");
    /* two names, a comparison, an argument, an arrow's body, an update */
    CHECK_STR(declared_by(LANG_PYTHON, "a, b = f."), "");
    CHECK_STR(declared_by(LANG_PYTHON, "if x == y."), "");
    CHECK_STR(declared_by(LANG_PYTHON, "f(x = mod."), "");
    CHECK_STR(declared_by(LANG_TYPESCRIPT, "const f = (a: number) => impl."), "");
    CHECK_STR(declared_by(LANG_PYTHON, "x += mod."), "");
    CHECK_STR(declared_by(LANG_PYTHON, "return mod."), "");
    CHECK_STR(declared_by(LANG_PYTHON, "= mod."), "");
    CHECK_STR(declared_by(LANG_PYTHON, ""), "");
    char out[CURSOR_NAME_MAX];
    CHECK(!cursor_declared(LANG_JAVA, NULL, 5, out));
    static char big[100000];
    memset(big, '}', sizeof big - 4);
    memcpy(big + sizeof big - 4, "=a.", 4);
    CHECK(!cursor_declared(LANG_TYPESCRIPT, big, sizeof big - 1, out));
}

TEST(only_declarations_in_scope_type_a_name) {
    /* a parameter of an earlier signature, a local of a closed block: the
     * namespace import is what `effect` is at the cursor */
    const char *ts = "import * as effect from './internal/effect.js'\n"
                     "export const a: {\n  (effect: Effect<A>): Effect<A>\n} = effect.a\n"
                     "function f() {\n  const effect = new Effect()\n}\n"
                     "export const b = effect.";
    cursor_t c = read_as(LANG_TYPESCRIPT, ts);
    CHECK_INT(c.kind, ==, CURSOR_MODULE);
    CHECK_STR(c.module, "./internal/effect.js");
    /* in scope: the parameters and locals of the function the cursor is in,
     * also past blocks that closed inside it and in an arrow's body */
    c = read_as(LANG_TYPESCRIPT, "function f(g: Graph) {\n  if (x) {\n    y()\n  }\n  g.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Graph");
    c = read_as(LANG_TYPESCRIPT, "const h = (g: Graph) => g.");
    CHECK_STR(c.type, "Graph");
    c = read_as(LANG_JAVA, "class A {\n  void f() {\n    Foo x = make();\n  }\n"
                           "  void g(Bar x) {\n    x.");
    CHECK_STR(c.type, "Bar");
    /* nothing in scope nor imported: most likely a field, of the type a
     * declaration of the same name elsewhere shows */
    c = read_as(LANG_JAVA, "class A extends B {\n  A(Space space) {\n    super(space);\n  }\n"
                           "  void g() {\n    space.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Space");
    /* a field set in another method is still the object's */
    c = read_as(LANG_JAVASCRIPT, "class A {\n  constructor() {\n    this.s = new Scheduler();\n"
                                 "  }\n  run() {\n    this.s.");
    CHECK_INT(c.kind, ==, CURSOR_VALUE);
    CHECK_STR(c.type, "Scheduler");
    /* Python's blocks are its indentation: no braces to read */
    c = read_as(LANG_PYTHON, "def f(g: Graph):\n    d = {1: 2}\n    return g.");
    CHECK_STR(c.type, "Graph");
}

TEST(hostile_prefixes_do_not_crash) {
    static char big[200000];
    memset(big, '{', sizeof big - 2);
    big[sizeof big - 2] = '.';
    cursor_t c;
    cursor_read(LANG_JAVA, big, sizeof big - 1, &c);
    memset(big, '.', sizeof big - 1);
    cursor_read(LANG_PYTHON, big, sizeof big - 1, &c);
    cursor_read(LANG_UNKNOWN, "\xff\xfe.", 3, &c);
    cursor_read(LANG_RUST, "::", 2, &c);
    cursor_read(LANG_GO, "func (", 6, &c);
    char longname[300];
    memset(longname, 'a', 200);
    memcpy(longname + 200, ".", 2);
    cursor_read(LANG_PYTHON, longname, strlen(longname), &c);
    CHECK_INT(c.kind, ==, CURSOR_NONE);
}

TEST_MAIN(TEST_CASE(no_member_access_is_none), TEST_CASE(receiver_chain_operator_and_partial),
          TEST_CASE(python_modules), TEST_CASE(python_self_and_values),
          TEST_CASE(javascript_and_typescript), TEST_CASE(go_packages_receivers_and_values),
          TEST_CASE(rust_paths_impls_and_lets), TEST_CASE(java_types_and_declarations),
          TEST_CASE(what_a_function_returns), TEST_CASE(a_lower_case_call_makes_a_value),
          TEST_CASE(the_bases_a_class_header_declares), TEST_CASE(the_class_the_cursor_is_in),
          TEST_CASE(the_function_the_cursor_is_in), TEST_CASE(the_name_a_statement_sets),
          TEST_CASE(only_declarations_in_scope_type_a_name),
          TEST_CASE(hostile_prefixes_do_not_crash))
