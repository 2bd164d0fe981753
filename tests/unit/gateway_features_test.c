/*
 * gateway/features: what a chat question or the code around a completion's
 * cursor says, and the `search` request it makes, without a server.
 */
#include "gateway/features.h"
#include "tests/test.h"

#include <cJSON.h>

static void completion(features_t *f, const char *prefix, const char *suffix) {
    features_extract(f, NULL, NULL, 0, prefix, strlen(prefix), suffix, suffix ? strlen(suffix) : 0);
}

/* A completion in path whose prefix is head then tail. */
static void completion_in(features_t *f, const char *path, const char *head, const char *tail,
                          const char *suffix) {
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s%s", head, tail);
    features_extract(f, path, NULL, 0, prefix, strlen(prefix), suffix, strlen(suffix));
}

/* The symbols as a cJSON array (an empty array when there are none). */
static cJSON *symbols_of(const features_t *f) {
    return f->symbols.len ? cJSON_Parse(f->symbols.data) : cJSON_CreateArray();
}

static int index_of(const cJSON *array, const char *name) {
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (cJSON_IsString(item) && !strcmp(item->valuestring, name))
            return i;
        i++;
    }
    return -1;
}

static cJSON *header(const features_t *f, const char *collection, const char *path, int k,
                     unsigned signals);

TEST(a_question_is_its_own_query) {
    features_t f;
    const char *q = "where is apply_discount called with a LoyaltyCard?";
    features_extract(&f, NULL, q, strlen(q), NULL, 0, NULL, 0);
    CHECK_STR(f.text.data, q);
    cJSON *s = symbols_of(&f);
    REQUIRE(s);
    CHECK(index_of(s, "apply_discount") >= 0);
    CHECK(index_of(s, "LoyaltyCard") >= 0);
    CHECK_INT(index_of(s, "a"), ==, -1); /* one letter */
    CHECK_STR(f.object, "");             /* only completions have one */
    CHECK_INT(f.nimports, ==, 0);
    cJSON_Delete(s);
    /* the retriever is told it is a question (its words may name the
     * answer), unless the lexical signals are off */
    cJSON *h = header(&f, "c", NULL, 5, SIGNAL_ALL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "question")));
    cJSON_Delete(h);
    h = header(&f, "c", NULL, 5, SIGNAL_DENSE | SIGNAL_STRUCTURE);
    CHECK(cJSON_GetObjectItemCaseSensitive(h, "question") == NULL);
    cJSON_Delete(h);
    features_free(&f);
    /* code is no question */
    const char *prefix = "def f():\n    return g";
    features_extract(&f, "a.py", NULL, 0, prefix, strlen(prefix), NULL, 0);
    h = header(&f, "c", "a.py", 5, SIGNAL_ALL);
    CHECK(cJSON_GetObjectItemCaseSensitive(h, "question") == NULL);
    cJSON_Delete(h);
    features_free(&f);
}

TEST(a_completion_queries_the_lines_around_the_cursor) {
    /* 60 lines before the cursor, 30 after. */
    buf_t prefix = BUF_INIT, suffix = BUF_INIT;
    for (int i = 1; i <= 60; i++)
        buf_printf(&prefix, "before_%d = %d\n", i, i);
    buf_append_str(&prefix, "total = ");
    for (int i = 1; i <= 30; i++)
        buf_printf(&suffix, "after_%d = %d\n", i, i);
    features_t f;
    completion(&f, prefix.data, suffix.data);
    /* The cursor's line and the 40 whole lines before it, a newline, and 10
     * lines of the suffix. */
    const char *text = f.text.data;
    REQUIRE(text);
    CHECK(strncmp(text, "before_21 = 21\n", 15) == 0);
    CHECK(strstr(text, "before_20 ") == NULL);
    CHECK(strstr(text, "total = \nafter_1 = 1\n") != NULL);
    CHECK(strstr(text, "after_10 = 10\n") != NULL);
    CHECK(strstr(text, "after_11 ") == NULL);
    /* The symbols come from the 15 lines before and 4 after. */
    cJSON *s = symbols_of(&f);
    REQUIRE(s);
    CHECK(index_of(s, "before_46") >= 0);
    CHECK_INT(index_of(s, "before_45"), ==, -1);
    CHECK(index_of(s, "total") >= 0);
    CHECK(index_of(s, "after_4") >= 0);
    CHECK_INT(index_of(s, "after_5"), ==, -1);
    cJSON_Delete(s);
    features_free(&f);
    buf_free(&prefix);
    buf_free(&suffix);
}

TEST(imported_names_lead_the_symbols_unused_first) {
    features_t f;
    completion(&f,
               "import { used, fresh, other } from './shop/cart';\n"
               "used(1);\nother(2);\nconst price = ",
               "\nreturn price;\n");
    REQUIRE(f.nimports == 3);
    cJSON *s = symbols_of(&f);
    REQUIRE(s);
    CHECK_INT(index_of(s, "fresh"), ==, 0);
    CHECK_INT(index_of(s, "used"), ==, 1);
    CHECK_INT(index_of(s, "other"), ==, 2);
    CHECK(index_of(s, "price") > 2);
    /* Each name once, though the code near the cursor names them again. */
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, s) n += !strcmp(item->valuestring, "used");
    CHECK_INT(n, ==, 1);
    cJSON_Delete(s);
    /* The sub-words of the cursor's line and the one before, for fusion's
     * `line` term: not those of lines further away, nor the name typed. */
    cJSON *holder;
    size_t count;
    const char **line = features_list(&f.line_words, &holder, &count);
    bool price = false, other = false, used = false;
    for (size_t i = 0; i < count; i++) {
        price |= !strcmp(line[i], "price");
        other |= !strcmp(line[i], "other");
        used |= !strcmp(line[i], "used");
    }
    CHECK(price && other);
    CHECK(!used);
    free(line);
    cJSON_Delete(holder);
    features_free(&f);
}

TEST(an_import_named_like_the_line_is_looked_up_first) {
    /* Forty names imported, the 38th named like the line: it is kept
     * (past the first 32) and is the first symbol looked up. */
    buf_t prefix = BUF_INIT;
    for (int i = 0; i < 40; i++) {
        if (i == 37)
            buf_append_str(&prefix, "from .types import BINARY\n");
        else
            buf_printf(&prefix, "from .types import Kind%02d\n", i);
    }
    buf_append_str(&prefix, "MSBlob = blob()\nMSBinary = ");
    features_t f;
    features_extract(&f, "pkg/base.py", NULL, 0, prefix.data, prefix.len, "\n", 1);
    bool kept = false;
    for (size_t i = 0; i < f.nimports; i++) {
        bool binary = !strcmp(f.imports[i].name, "BINARY");
        kept |= binary;
        /* the share fusion's `line` term takes: all of BINARY, none of KindNN */
        CHECK(f.import_line[i] == (binary ? 1.0 : 0.0));
    }
    CHECK(kept);
    CHECK_INT(f.nimports, ==, 33); /* the first 32, and BINARY */
    cJSON *s = symbols_of(&f);
    REQUIRE(s);
    CHECK_INT(index_of(s, "BINARY"), ==, 0);
    cJSON_Delete(s);
    features_free(&f);
    buf_free(&prefix);
}

/* A decorator's line belongs to the definition under it: that line's
 * words count as the cursor's line (drop_db for `def _oracle_drop_db`). */
TEST(a_decorators_line_reads_the_definition_under_it) {
    features_t f;
    const char *prefix = "from .provision import create_db, drop_db\n\n"
                         "@create_db.for_db(\"x\")\ndef _x_create_db(cfg):\n    pass\n\n@";
    const char *suffix = ".for_db(\"oracle\")\ndef _oracle_drop_db(cfg, eng):\n    pass\n";
    completion_in(&f, "dialects/oracle/provision.py", prefix, "", suffix);
    for (size_t i = 0; i < f.nimports; i++)
        CHECK(f.import_line[i] == (!strcmp(f.imports[i].name, "drop_db") ? 1.0 : 0.0));
    CHECK_INT(f.nimports, ==, 2);
    features_free(&f);
    /* a line that is no decorator's reads only itself and the one before */
    completion_in(&f, "dialects/oracle/provision.py", prefix,
                  "\nhook = ", "\ndef _oracle_drop_db(cfg, eng):\n    pass\n");
    for (size_t i = 0; i < f.nimports; i++)
        CHECK(f.import_line[i] == 0.0);
    CHECK_INT(f.nimports, ==, 2);
    features_free(&f);
}

/* `⟨<A>` or `⟨(`: a module object is neither called nor given type
 * arguments, so a namespace import is no candidate there; a named one is. */
TEST(a_called_name_is_no_namespace) {
    static const char head[] = "import type * as Cause from './Cause.js'\n"
                               "import type { LazyArg } from './Function.js'\n"
                               "export const make: (ref: ";
    const char *suffixes[] = {"<A>) => A", "(x)", ".Cause<A>"};
    for (int k = 0; k < 3; k++) {
        features_t f;
        completion_in(&f, "FiberRef.ts", head, "", suffixes[k]);
        bool cause = false, lazy = false;
        for (size_t i = 0; i < f.nimports; i++) {
            cause |= !strcmp(f.imports[i].name, "Cause");
            lazy |= !strcmp(f.imports[i].name, "LazyArg");
        }
        CHECK(lazy);
        CHECK(cause == (k == 2));
        features_free(&f);
    }
}

TEST(the_receivers_own_words_name_no_member) {
    /* `tokio::time::⟨`: "time" is the receiver's, not a hint that the
     * member is `timeout`; the line's other words stay. */
    const char *prefix = "fn f() {\n    let delay = ms(5);\n    tokio::time::";
    features_t f;
    features_extract(&f, "src/a.rs", NULL, 0, prefix, strlen(prefix), "(delay).await;\n", 16);
    cJSON *holder;
    size_t n;
    const char **line = features_list(&f.line_words, &holder, &n);
    bool time = false, tokio = false, delay = false;
    for (size_t i = 0; i < n; i++) {
        time |= !strcmp(line[i], "time");
        tokio |= !strcmp(line[i], "tokio");
        delay |= !strcmp(line[i], "delay");
    }
    CHECK(!time && !tokio);
    CHECK(delay);
    free(line);
    cJSON_Delete(holder);
    features_free(&f);
}

TEST(at_most_48_symbols_of_two_bytes_or_more) {
    buf_t prefix = BUF_INIT;
    for (int i = 0; i < 12; i++)
        buf_printf(&prefix, "name_a%d + name_b%d + name_c%d + name_d%d + name_e%d + x\n", i, i, i,
                   i, i);
    features_t f;
    completion(&f, prefix.data, "");
    cJSON *s = symbols_of(&f);
    REQUIRE(s);
    CHECK_INT(cJSON_GetArraySize(s), ==, 48);
    CHECK_INT(index_of(s, "x"), ==, -1);
    cJSON_Delete(s);
    features_free(&f);
    buf_free(&prefix);
    /* Nothing to look up: no symbols at all, not "[]". */
    completion(&f, "  ", "");
    CHECK_INT(f.symbols.len, ==, 0);
    features_free(&f);
    /* A one-letter import is no symbol either. */
    completion(&f, "import { q } from './m';\nq(", "");
    CHECK_INT(f.nimports, ==, 1);
    CHECK_INT(f.symbols.len, ==, 0);
    features_free(&f);
}

TEST(the_object_before_the_cursor) {
    static const struct {
        const char *prefix, *object;
    } cases[] = {
        {"x = utils.fo", "utils"},
        {"x = utils.", "utils"},
        {"p->na", "p"},
        {"std::vec", "std"},
        {"a.b.c", "b"},
        {"$el.ad", "$el"},
        {"x = 3.fo", ""},
        {"call(arg", ""},
        {"x = .5", ""},
        {"", ""},
        {"->x", ""},
        {"-> x", ""},
        {"self.items.ap", "items"},
        {"a :: b", ""},
        {"Map<K>::ne", ""},
        {"_private.x", "_private"},
        {"obj2.y", "obj2"},
        {".", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        features_t f;
        completion(&f, cases[i].prefix, "");
        if (strcmp(f.object, cases[i].object) != 0)
            fprintf(stderr, "  prefix \"%s\"\n", cases[i].prefix);
        CHECK_STR(f.object, cases[i].object);
        CHECK(!f.object_imported);
        features_free(&f);
    }
    /* An identifier longer than the longest kept is no object. */
    char prefix[400];
    memset(prefix, 'a', 300);
    memcpy(prefix + 300, ".b", 3);
    features_t f;
    completion(&f, prefix, "");
    CHECK_STR(f.object, "");
    features_free(&f);
}

TEST(an_imported_object_is_its_module_stem) {
    features_t f;
    completion(&f, "import * as ns from './graph/node_utils.js';\nconst n = ns.ad", "");
    CHECK(f.object_imported);
    CHECK_STR(f.object, "node_utils");
    features_free(&f);
    completion(&f, "const cfg = require('../config');\nlet v = cfg.", "");
    CHECK(f.object_imported);
    CHECK_STR(f.object, "config");
    features_free(&f);
    /* Python: `from .pkg import mod` names the module itself. */
    completion(&f, "from .pkg import mod\n\nmod.ru", "");
    CHECK(f.object_imported);
    CHECK_STR(f.object, "mod");
    features_free(&f);
    /* A name that is not imported stays as written. */
    completion(&f, "import * as ns from './graph';\nlocal.ad", "");
    CHECK(!f.object_imported);
    CHECK_STR(f.object, "local");
    features_free(&f);
}

/* The search header for f, parsed. */
static cJSON *header(const features_t *f, const char *collection, const char *path, int k,
                     unsigned signals) {
    buf_t h = BUF_INIT;
    features_search_header(f, collection, path, k, signals, &h);
    cJSON *j = cJSON_Parse(h.data);
    buf_free(&h);
    return j;
}

static const char *string_at(const cJSON *j, const char *key) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

static double number_at(const cJSON *j, const char *key) {
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

TEST(the_search_request_carries_what_the_signals_want) {
    features_t f;
    completion(&f, "import { helper } from './h';\nconst v = graph.no", "\n");
    cJSON *j = header(&f, "we\"ird", "src/app.js", 5, SIGNAL_ALL);
    REQUIRE(j);
    CHECK_STR(string_at(j, "op"), "search");
    CHECK_STR(string_at(j, "collection"), "we\"ird");
    CHECK_INT(number_at(j, "k"), ==, 5);
    CHECK_INT(number_at(j, "limit"), ==, 40);
    CHECK_STR(string_at(j, "path"), "src/app.js");
    CHECK_STR(string_at(j, "query"), f.text.data);
    CHECK_STR(string_at(j, "object"), "graph");
    const cJSON *symbols = cJSON_GetObjectItemCaseSensitive(j, "symbols");
    CHECK_INT(index_of(symbols, "helper"), ==, 0);
    /* the slot: `v = graph . ⟨` with nothing after, and graph to find it by */
    const cJSON *slot = cJSON_GetObjectItemCaseSensitive(j, "slot");
    REQUIRE(cJSON_GetArraySize(slot) == 5);
    CHECK_INT(index_of(slot, "="), ==, 0);
    CHECK_INT(index_of(slot, "graph"), ==, 1);
    CHECK_INT(index_of(slot, "."), ==, 2);
    CHECK_INT(index_of(slot, ""), ==, 3); /* and 4 */
    CHECK_INT(index_of(cJSON_GetObjectItemCaseSensitive(j, "anchors"), "graph"), ==, 0);
    cJSON_Delete(j);
    j = header(&f, "c", NULL, 5, SIGNAL_ALL & ~SIGNAL_USES); /* a use: asked with uses only */
    CHECK(!cJSON_HasObjectItem(j, "slot"));
    cJSON_Delete(j);

    /* Dense only: the vector says it all (it travels as the payload). */
    j = header(&f, "c", "", 20, SIGNAL_DENSE);
    REQUIRE(j);
    CHECK_INT(number_at(j, "limit"), ==, 80);
    CHECK(!cJSON_HasObjectItem(j, "path"));
    CHECK(!cJSON_HasObjectItem(j, "query"));
    CHECK(!cJSON_HasObjectItem(j, "symbols"));
    CHECK(!cJSON_HasObjectItem(j, "object"));
    cJSON_Delete(j);

    /* The import signal needs the query text too (the retriever resolves
     * imports from it); the others only their own field. */
    j = header(&f, "c", NULL, 5, SIGNAL_IMPORT);
    CHECK(cJSON_HasObjectItem(j, "query"));
    CHECK(!cJSON_HasObjectItem(j, "symbols"));
    cJSON_Delete(j);
    j = header(&f, "c", NULL, 5, SIGNAL_SYMBOL);
    CHECK(!cJSON_HasObjectItem(j, "query"));
    CHECK(cJSON_HasObjectItem(j, "symbols"));
    CHECK(!cJSON_HasObjectItem(j, "object"));
    cJSON_Delete(j);
    j = header(&f, "c", NULL, 5, SIGNAL_OBJECT);
    CHECK_STR(string_at(j, "object"), "graph");
    CHECK(!cJSON_HasObjectItem(j, "symbols"));
    cJSON_Delete(j);
    features_free(&f);

    /* Nothing found: no empty fields. */
    completion(&f, "", "");
    j = header(&f, "c", NULL, 5, SIGNAL_ALL);
    REQUIRE(j);
    CHECK(!cJSON_HasObjectItem(j, "symbols"));
    CHECK(!cJSON_HasObjectItem(j, "object"));
    cJSON_Delete(j);
    features_free(&f);
}

TEST(odd_text_is_read_safely) {
    /* NUL bytes, invalid UTF-8, a prefix that is all newlines. */
    const char odd[] = "a\0b.\xff\xfe.c\n\n\n";
    features_t f;
    features_extract(&f, NULL, NULL, 0, odd, sizeof odd - 1, odd, sizeof odd - 1);
    buf_t h = BUF_INIT;
    features_search_header(&f, "c", NULL, 5, SIGNAL_ALL, &h);
    cJSON *j = cJSON_Parse(h.data);
    CHECK(j != NULL); /* still one JSON object */
    cJSON_Delete(j);
    buf_free(&h);
    features_free(&f);
    features_free(&f); /* twice is harmless */
    CHECK_INT(f.text.len, ==, 0);
}

/* Outside any function, the name a statement sets at a module's member is
 * sent: a re-export names what it re-exports. */
TEST(a_statement_outside_functions_says_the_name_it_sets) {
    const char *prefix = "import * as internal from './internal/sink.js'\n"
                         "export const splitWhere: {\n  <A>(self: Sink<A>): Sink<A>\n} = internal.";
    features_t f;
    features_extract(&f, "src/Sink.ts", NULL, 0, prefix, strlen(prefix), "\n", 1);
    CHECK_INT(f.cursor.kind, ==, CURSOR_MODULE);
    CHECK_STR(f.within, "");
    CHECK_STR(f.declared, "splitWhere");
    cJSON *j = header(&f, "c", "src/Sink.ts", 5, SIGNAL_ALL);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "member");
    CHECK_STR(string_at(m, "declared"), "splitWhere");
    CHECK(!cJSON_GetObjectItemCaseSensitive(m, "within"));
    cJSON_Delete(j);
    features_free(&f);
}

TEST(the_search_request_asks_for_the_objects_members) {
    const char *prefix = "from email import utils\n\ndef parse(s):\n    return utils.pa";
    const char *suffix = "rseaddr(s)\n\ndef again(t):\n    return utils.formatdate(t)\n";
    features_t f;
    features_extract(&f, "mail/reader.py", NULL, 0, prefix, strlen(prefix), suffix, strlen(suffix));
    CHECK_INT(f.cursor.kind, ==, CURSOR_MODULE);
    CHECK_STR(f.within, "parse"); /* the function the cursor is in */
    CHECK_STR(f.declared, "");    /* a local's name is none */
    cJSON *j = header(&f, "c", "mail/reader.py", 5, SIGNAL_ALL);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "member");
    CHECK_STR(string_at(m, "kind"), "module");
    CHECK_STR(string_at(m, "module"), "email");
    CHECK_STR(string_at(m, "member_of"), "utils");
    CHECK_STR(string_at(m, "partial"), "pa");
    CHECK_STR(string_at(m, "within"), "parse");
    bool named = false;
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(m, "hints")) named |=
        cJSON_IsString(h) && !strcmp(h->valuestring, "formatdate");
    CHECK(named);
    /* the words of the cursor's line and the one before it; not those
     * further away, nor keywords, nor the name the cursor stands in, nor
     * the receiver's own (utils) */
    bool line_has[5] = {false};
    const char *const line_want[] = {"parse", "utils", "return", "pa", "rseaddr"};
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(m, "line")) {
        for (size_t i = 0; i < 5; i++)
            line_has[i] |= cJSON_IsString(h) && !strcmp(h->valuestring, line_want[i]);
        CHECK(cJSON_IsString(h) && strcmp(h->valuestring, "email") &&
              strcmp(h->valuestring, "formatdate"));
    }
    CHECK(line_has[0] && !line_has[1]);
    CHECK(!line_has[2] && !line_has[3] && !line_has[4]);
    bool around = false;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(m, "words")) around |=
        cJSON_IsString(h) && !strcmp(h->valuestring, "email");
    CHECK(around);
    cJSON_Delete(j);
    /* without the object signal (an ablation), no members */
    j = header(&f, "c", "mail/reader.py", 5, SIGNAL_BM25);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "member") == NULL);
    cJSON_Delete(j);
    features_free(&f);
    /* self in a class: the class and its bases */
    const char *cls = "class Cart(Base):\n    def total(self):\n        return self.";
    features_extract(&f, "shop/cart.py", NULL, 0, cls, strlen(cls), "", 0);
    j = header(&f, "c", "shop/cart.py", 5, SIGNAL_ALL);
    m = cJSON_GetObjectItemCaseSensitive(j, "member");
    CHECK_STR(string_at(m, "kind"), "class");
    CHECK_STR(string_at(m, "type"), "Cart");
    CHECK_STR(
        cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "bases"), 0)),
        "Base");
    cJSON_Delete(j);
    features_free(&f);
}

/* A bare name in Go: the package's own names are its members (module
 * "."), with what is typed; not after a dot, not in other languages.  In
 * Java, Kotlin and C#, only at a type's place, whose keyword goes along as
 * "after", and only upper-case when something is typed. */
TEST(a_go_value_made_by_a_function_of_this_file_has_its_type) {
    /* makeToken is defined before the cursor (newStore after it): every
     * shard is told the type, not only the one holding this file. */
    const char *prefix = "package token\n\n"
                         "func makeToken(issuer string,\n\tn int) (*Token, error) {\n"
                         "\treturn nil, nil\n}\n\n"
                         "func TestX(t *testing.T) {\n"
                         "\ttok, err := makeToken(\"a\", 1)\n"
                         "\ts := newStore()\n"
                         "\tq := other()\n";
    static const struct {
        const char *line, *type, *call;
    } cases[] = {
        {"\ttok.Ver", "Token", "makeToken"},
        {"\ts.", "store", "newStore"},
        {"\tq.", "", "other"}, /* defined elsewhere: the shards look */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", prefix, cases[i].line);
        const char *suffix = "\n}\n\nfunc newStore() *store {\n\treturn &store{}\n}\n";
        features_t f;
        features_extract(&f, "token/token_test.go", NULL, 0, text, strlen(text), suffix,
                         strlen(suffix));
        CHECK_INT(f.cursor.kind, ==, CURSOR_VALUE);
        CHECK_STR(f.cursor.type, cases[i].type);
        CHECK_STR(f.cursor.call, cases[i].call);
        features_free(&f);
    }
}

TEST(where_a_type_is_wanted) {
    static const struct {
        const char *path, *prefix;
        bool wanted;
    } cases[] = {
        {"a.rs", "fn f() -> ", true},
        {"a.rs", "impl Foo for ", true},
        {"a.rs", "fn f(x: &dyn ", true},
        {"a.rs", "let v: Vec<", true},
        {"a.rs", "fn f() {\n    let s: Str", true},
        {"a.rs", "fn f(a: u8, b: ", true},
        {"a.rs", "struct C {\n    tx: mpsc::", true},
        {"a.rs", "fn f() {\n    C { tx: ", false}, /* a struct literal's value */
        {"a.rs", "fn f() {\n    if a < ", false},
        {"a.rs", "fn f() {\n    let x = ", false},
        {"a.rs", "for x in ", false},
        {"a.py", "def f(x) -> ", true},
        {"a.py", "class A(", true},
        {"a.py", "class A(Base, mixins.", true},
        {"a.py", "try:\n    g()\nexcept ", true},
        {"a.py", "if isinstance(x, ", true},
        {"a.py", "def f(self, x: ", true},
        {"a.py", "class A:\n    name: ", true},
        {"a.py", "d = {\"a\": ", false},
        {"a.py", "f(x, ", false},
        {"a.ts", "class A extends ", true},
        {"a.ts", "function f(x: ", true},
        {"a.ts", "function f(x): ", true},
        {"a.ts", "const m: Map<string, ", false}, /* after a comma: not read */
        {"a.ts", "const p: Promise<", true},
        {"a.ts", "interface I {\n  a: ", true},
        {"a.ts", "const o = { a: ", false},
        {"a.js", "const x = new ", true},
        {"a.go", "func f() ", false},
        {"A.java", "class A extends ", false}, /* Java's places are type_position's */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        features_t f;
        features_extract(&f, cases[i].path, NULL, 0, cases[i].prefix, strlen(cases[i].prefix), "",
                         0);
        if (f.type_wanted != cases[i].wanted)
            fprintf(stderr, "  %s: \"%s\"\n", cases[i].path, cases[i].prefix);
        CHECK(f.type_wanted == cases[i].wanted);
        features_free(&f);
    }
    /* type arguments after the name say a generic type (Rust, TypeScript) */
    static const struct {
        const char *path, *prefix, *suffix;
        bool wanted;
    } after[] = {
        {"a.rs", "fn f() {\n    is_send::<tokio::task::", "<()>>();", true},
        {"a.rs", "fn f() {\n    let x = mpsc::Sen", "der<u8>::new();", true},
        {"a.rs", "fn f() {\n    let x = fs::", "(p);", false},
        {"a.ts", "const m = new Map<", "<any>, number>()", true},
        {"a.ts", "const x = ", " < 3", false},
        {"a.go", "x := ", "[int]{}", false},
    };
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        features_t f;
        features_extract(&f, after[i].path, NULL, 0, after[i].prefix, strlen(after[i].prefix),
                         after[i].suffix, strlen(after[i].suffix));
        if (f.type_wanted != after[i].wanted)
            fprintf(stderr, "  %s: \"%s\"\n", after[i].path, after[i].prefix);
        CHECK(f.type_wanted == after[i].wanted);
        features_free(&f);
    }
    /* a bare name called (Rust, TS, JS without `new`): no type, most likely */
    static const struct {
        const char *path, *prefix, *suffix;
        bool called;
    } calls[] = {
        {"a.rs", "fn f() {\n    let x = ", "(p);", true},
        {"a.rs", "fn f() {\n    let x = fs::", "(p);", false}, /* a member */
        {"a.ts", "const x = ", "(a)", true},
        {"a.ts", "const x = new ", "(a)", false}, /* a type's place */
        {"a.py", "x = ", "(a)", false},
        {"a.ts", "const x = ", " (a)", false},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        features_t f;
        features_extract(&f, calls[i].path, NULL, 0, calls[i].prefix, strlen(calls[i].prefix),
                         calls[i].suffix, strlen(calls[i].suffix));
        if (f.call_wanted != calls[i].called)
            fprintf(stderr, "  %s: \"%s\"\n", calls[i].path, calls[i].prefix);
        CHECK(f.call_wanted == calls[i].called);
        features_free(&f);
    }
}

TEST(a_bare_go_name_asks_for_its_packages_names) {
    static const struct {
        const char *path, *prefix, *partial; /* partial NULL: no package members */
        const char *after;                   /* the type place's keyword; NULL: none */
    } cases[] = {
        {"pkg/a.go", "package pkg\n\nfunc f() {\n\tx := newRe", "newRe", NULL},
        {"pkg/a.go", "package pkg\n\nfunc f() {\n\treturn ", "", NULL},
        {"pkg/a.go", "package pkg\n\nvar t = T{\n\tField: ", "", NULL},     /* a field's value */
        {"pkg/a.go", "package pkg\n\nfunc f() {\n\tfmt.Pri", NULL, NULL},   /* a member */
        {"pkg/a.go", "package pkg\n\nfunc f() {\n\ts := \"ab", NULL, NULL}, /* a string */
        {"pkg/a.go", "package pkg\n\nfunc f() {\n\tn := 12", NULL, NULL},   /* a number */
        {"pkg/a.py", "def f():\n    return new_re", NULL, NULL},
        {"pkg/A.java", "class A {\n  void f() {\n    new Rea", "Rea", "new"},
        {"pkg/A.java", "class A extends ", "", "extends"},
        {"pkg/A.java", "class A {\n  void f() throws Eval", "Eval", "throws"},
        {"pkg/A.java", "class A {\n  void f() {\n    try { g(); } catch ( ", "", "catch"},
        {"pkg/A.java", "class A {\n  boolean f(Object o) { return o instanceof ", "", "instanceof"},
        {"pkg/A.cs", "class A : B {\n  void f() {\n    var x = new ", "", "new"},
        {"pkg/A.java", "class A {\n  void f() {\n    new rea", NULL, NULL}, /* lower-case */
        {"pkg/A.java", "class A {\n  void f() {\n    ", NULL, NULL},        /* no type place */
        {"pkg/A.java", "class A {\n  void f() {\n    renew ", NULL, NULL},  /* not `new` */
        {"pkg/A.java", "class A {\n  void f() {\n    g(", NULL, NULL},      /* a call's `(` */
        /* after a modifier: a field's or a method's type */
        {"pkg/A.java", "class A {\n  private Fi", "Fi", "private"},
        {"pkg/A.java", "class A {\n  public static ", "", "static"},
        /* a method parameter's type: after the `(` or a `,` of a declaration */
        {"pkg/A.java", "class A {\n  void set(Object o, ", "", "("},
        {"pkg/A.java", "class A {\n  public static <T> List<T> of(\n\t\tNa", "Na", "("},
        {"pkg/A.java", "class A {\n  void f() {\n    g(a, ", NULL, NULL},    /* a call's */
        {"pkg/A.java", "class A {\n  int f() {\n    return h(", NULL, NULL}, /* a call's */
        {"pkg/A.java", "class A {\n  void f() {\n    x = y.m(", NULL, NULL}, /* a call's */
        {"pkg/a.ts", "class A extends ", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        features_t f;
        features_extract(&f, cases[i].path, NULL, 0, cases[i].prefix, strlen(cases[i].prefix), "",
                         0);
        cJSON *j = header(&f, "c", cases[i].path, 5, SIGNAL_ALL);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "member");
        if (cases[i].partial) {
            CHECK(f.package);
            CHECK_STR(string_at(m, "kind"), "module");
            CHECK_STR(string_at(m, "module"), ".");
            CHECK_STR(f.cursor.partial, cases[i].partial);
            if (cases[i].after)
                CHECK_STR(string_at(m, "after"), cases[i].after);
            else
                CHECK(!cJSON_GetObjectItemCaseSensitive(m, "after"));
        } else {
            CHECK(!f.package);
            CHECK(m == NULL || strcmp(string_at(m, "module"), ".") != 0);
        }
        cJSON_Delete(j);
        features_free(&f);
    }
}

/* A bare call in Java (Kotlin, C#): the enclosing class's and its bases'
 * methods, as after `this.`, with what is typed; not a type (capitalised or
 * after `new`), not after a dot, not when the code after does not call it,
 * not outside a class, not in other languages. */
/* A bare name the code after the cursor goes on from with a member
 * (`obj = ⟨.constructObject(`): the retriever is told the member, whose
 * class the name likely is. */
TEST(a_bare_name_followed_by_a_member_names_it) {
    static const struct {
        const char *path, *prefix, *suffix, *owner; /* owner NULL: none sent */
    } cases[] = {
        {"a/B.java", "class B {\n  void f() {\n    obj = ", ".constructObject( type, args );\n",
         "constructObject"},
        {"a/B.java", "class B {\n  void f() {\n    obj = Ref", "lect.invoke(x);\n", "invoke"},
        {"src/a.rs", "fn f() {\n    let rt = ", "::new().unwrap();\n", "new"},
        {"a.ts", "const x = ", "?.close();\n", "close"},
        {"a.py", "def f():\n    return ", "(1).real\n", NULL}, /* a call's member */
        {"a.py", "def f():\n    return ", ".5\n", NULL},       /* a number */
        {"a.py", "def f():\n    return ", "\n", NULL},
        {"a.py", "def f(m):\n    return m.", ".x\n", NULL}, /* a member's own: not bare */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        features_t f;
        features_extract(&f, cases[i].path, NULL, 0, cases[i].prefix, strlen(cases[i].prefix),
                         cases[i].suffix, strlen(cases[i].suffix));
        cJSON *j = header(&f, "c", cases[i].path, 5, SIGNAL_ALL);
        const cJSON *owner = cJSON_GetObjectItemCaseSensitive(j, "owner");
        if (cases[i].owner)
            CHECK_STR(cJSON_IsString(owner) ? owner->valuestring : "(none)", cases[i].owner);
        else
            CHECK(owner == NULL);
        cJSON_Delete(j);
        features_free(&f);
        /* nor is it sent when the symbol signal is off */
        features_extract(&f, cases[i].path, NULL, 0, cases[i].prefix, strlen(cases[i].prefix),
                         cases[i].suffix, strlen(cases[i].suffix));
        j = header(&f, "c", cases[i].path, 5, SIGNAL_DENSE);
        CHECK(cJSON_GetObjectItemCaseSensitive(j, "owner") == NULL);
        cJSON_Delete(j);
        features_free(&f);
    }
}

/* Java and C#: a statement's first word that the code after it declares a
 * variable of (`⟨ returnControl = null;`) is at a type's place without a
 * keyword: the package's classes are asked for, as at a parameter's. */
TEST(a_java_declaration_is_a_type_place) {
    static const char JAVA[] = "package p;\nclass A {\n  void f() {\n    ";
    static const struct {
        const char *path, *prefix_tail, *suffix;
        bool place;
    } cases[] = {
        {"p/A.java", "", " returnControl=null;\n", true},
        {"p/A.java", "Ret", "urnControl rc;\n", true},
        {"p/A.java", "", "<String, T> names = new HashMap<>();\n", true},
        {"p/A.java", "", "[] parts = s.split(x);\n", true},
        {"p/A.java", "", " a, b;\n", true},
        {"Cs.cs", "", " conn = Open();\n", true},
        {"p/A.java", "", " == y;\n", false},      /* a comparison */
        {"p/A.java", "", " = 3;\n", false},       /* an assignment to it */
        {"p/A.java", "", "(a);\n", false},        /* a call */
        {"p/A.java", "x = ", " y;\n", false},     /* not a statement's first word */
        {"p/A.java", "", "<T, ?> (x);\n", false}, /* no variable */
        {"a.kt", "", " x = 1\n", false},          /* Kotlin writes `val x: T` */
        {"a.py", "", " x = 1\n", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        features_t f;
        completion_in(&f, cases[i].path, JAVA, cases[i].prefix_tail, cases[i].suffix);
        cJSON *j = header(&f, "c", cases[i].path, 5, SIGNAL_ALL);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "member");
        const char *after = string_at(m, "after");
        if (cases[i].place) {
            CHECK(f.package);
            CHECK_STR(after ? after : "(none)", "(");
        } else {
            CHECK(!after || strcmp(after, "(") != 0);
        }
        cJSON_Delete(j);
        features_free(&f);
    }
    /* the method a declaration is assigned from: its class is the type */
    static const struct {
        const char *suffix, *call;
    } calls[] = {
        {"<T,?> editCell = table.getEditingCell();\n", "getEditingCell"},
        {" bcm = interpreter.getClassManager();\n", "getClassManager"},
        {" x = make(a);\n", "make"},
        {" x = new Foo(a);\n", NULL},
        {" x = (Foo) get();\n", NULL},
        {" x = y;\n", NULL},
        {" x;\n", NULL},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        features_t f;
        completion_in(&f, "p/A.java", JAVA, "", calls[i].suffix);
        cJSON *j = header(&f, "c", "p/A.java", 5, SIGNAL_ALL);
        const char *call = string_at(cJSON_GetObjectItemCaseSensitive(j, "member"), "call");
        CHECK_STR(call ? call : "(none)", calls[i].call ? calls[i].call : "(none)");
        cJSON_Delete(j);
        features_free(&f);
    }
}

TEST(a_bare_java_call_asks_for_its_class_members) {
    static const char JAVA[] = "package p;\nclass Chart extends Region implements Styleable {\n"
                               "  void layout() {\n    if (animate) {\n      ";
    static const struct {
        const char *path, *prefix_tail, *suffix, *partial; /* partial NULL: no members */
    } cases[] = {
        {"p/Chart.java", "", "(series);\n", ""},
        {"p/Chart.java", "req", "uestLayout();\n", "req"},
        {"p/Chart.java", "int h = snap", "(h);\n", "snap"},
        {"p/Chart.java", "", " = 1;\n", NULL},              /* not a call */
        {"p/Chart.java", "Chart c = new ", "(1);\n", NULL}, /* a constructor */
        {"p/Chart.java", "Leg", "end(1);\n", NULL},         /* a type */
        {"p/Chart.java", "chart.", "(1);\n", NULL},         /* a member of something else */
        {"p/Chart.py", "", "(1)\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        features_t f;
        completion_in(&f, cases[i].path, JAVA, cases[i].prefix_tail, cases[i].suffix);
        cJSON *j = header(&f, "c", cases[i].path, 5, SIGNAL_ALL);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "member");
        if (cases[i].partial) {
            CHECK_INT(f.cursor.kind, ==, CURSOR_SELF);
            CHECK_STR(string_at(m, "kind"), "class");
            CHECK_STR(string_at(m, "type"), "Chart");
            CHECK_STR(cJSON_GetStringValue(
                          cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "bases"), 1)),
                      "Styleable");
            CHECK_STR(f.cursor.partial, cases[i].partial);
        } else {
            CHECK(f.cursor.kind != CURSOR_SELF);
        }
        cJSON_Delete(j);
        features_free(&f);
    }
    /* outside any class */
    features_t f;
    features_extract(&f, "p/A.java", NULL, 0, "import x;\n", 10, "(1);", 4);
    CHECK_INT(f.cursor.kind, ==, CURSOR_NONE);
    features_free(&f);
}

TEST_MAIN(TEST_CASE(a_question_is_its_own_query),
          TEST_CASE(a_go_value_made_by_a_function_of_this_file_has_its_type),
          TEST_CASE(where_a_type_is_wanted),
          TEST_CASE(an_import_named_like_the_line_is_looked_up_first),
          TEST_CASE(a_decorators_line_reads_the_definition_under_it),
          TEST_CASE(a_called_name_is_no_namespace),
          TEST_CASE(the_receivers_own_words_name_no_member),
          TEST_CASE(a_bare_java_call_asks_for_its_class_members),
          TEST_CASE(a_java_declaration_is_a_type_place),
          TEST_CASE(a_bare_name_followed_by_a_member_names_it),
          TEST_CASE(a_completion_queries_the_lines_around_the_cursor),
          TEST_CASE(imported_names_lead_the_symbols_unused_first),
          TEST_CASE(at_most_48_symbols_of_two_bytes_or_more),
          TEST_CASE(the_object_before_the_cursor), TEST_CASE(an_imported_object_is_its_module_stem),
          TEST_CASE(the_search_request_carries_what_the_signals_want),
          TEST_CASE(the_search_request_asks_for_the_objects_members),
          TEST_CASE(a_statement_outside_functions_says_the_name_it_sets),
          TEST_CASE(a_bare_go_name_asks_for_its_packages_names), TEST_CASE(odd_text_is_read_safely))
