/*
 * Tests of proto/code/subword: identifier finding, splitting, keywords, rendering,
 * and that no byte sequence makes the scanner misbehave.
 */
#include "proto/code/subword.h"
#include "tests/test.h"

#include <errno.h>

/* Renders with the given flags into a static buffer (tests only). */
static const char *render(const char *text, unsigned flags) {
    static char out[4096];
    size_t n = 0;
    int rc = subword_render(text, strlen(text), flags, out, sizeof out, &n);
    if (rc != 0 || n != strlen(out))
        return "(render failed)";
    return out;
}

/* Joins the parts subword_split finds, lower-cased by the caller's eyes only. */
static const char *split(const char *ident) {
    static char out[512];
    size_t off[SUBWORD_PARTS_MAX], len[SUBWORD_PARTS_MAX];
    int n = subword_split(ident, strlen(ident), off, len, SUBWORD_PARTS_MAX);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, "|");
        strncat(out, ident + off[i], len[i]);
    }
    return out;
}

TEST(split_styles) {
    CHECK_STR(split("getUserName"), "get|User|Name");
    CHECK_STR(split("GetUserName"), "Get|User|Name");
    CHECK_STR(split("get_user_name"), "get|user|name");
    CHECK_STR(split("GET_USER_NAME"), "GET|USER|NAME");
    CHECK_STR(split("HTTPServerError"), "HTTP|Server|Error");
    CHECK_STR(split("parseJSON2Text"), "parse|JSON|2|Text");
    CHECK_STR(split("int64_t"), "int|64|t");
    CHECK_STR(split("__init__"), "init");
    CHECK_STR(split("$scope"), "scope");
    CHECK_STR(split("x"), "x");
    CHECK_STR(split("ABC"), "ABC");
    CHECK_STR(split("getHTTP"), "get|HTTP");
    CHECK_STR(split("a__b"), "a|b");
    CHECK_STR(split("___"), "");
}

TEST(split_limits) {
    size_t off[3], len[3];
    /* more words than slots: the last slot takes the rest */
    const char *id = "oneTwoThreeFourFive";
    int n = subword_split(id, strlen(id), off, len, 3);
    REQUIRE(n == 3);
    CHECK_INT(off[2], ==, 6);
    CHECK_INT(len[2], ==, strlen("ThreeFourFive"));
    /* the last slot takes separators and all, up to the last letter or digit */
    const char *snake = "one_two_three__";
    n = subword_split(snake, strlen(snake), off, len, 2);
    REQUIRE(n == 2);
    CHECK_INT(off[1], ==, 4);
    CHECK_INT(len[1], ==, strlen("two_three"));
    CHECK_INT(subword_split(snake, strlen(snake), off, len, 1), ==, 1);
    CHECK_INT(off[0], ==, 0);
    CHECK_INT(len[0], ==, strlen("one_two_three"));
    CHECK_INT(subword_split(id, strlen(id), off, len, 0), ==, 0);
    CHECK_INT(subword_split(NULL, 3, off, len, 3), ==, -EINVAL);
    CHECK_INT(subword_split(id, strlen(id), NULL, len, 3), ==, -EINVAL);
}

TEST(render_whole_and_parts) {
    CHECK_STR(render("getUserName", 0), "getusername get user name");
    CHECK_STR(render("HTTPServerError", 0), "httpservererror http server error");
    CHECK_STR(render("parseJSON2Text", 0), "parsejson2text parse json 2 text");
    CHECK_STR(render("get_user_name(x)", 0), "getusername get user name x");
    CHECK_STR(render("MAX_LEN", SUBWORD_PARTS), "max len");
    CHECK_STR(render("MAX_LEN name", SUBWORD_WHOLE), "maxlen name");
    /* a single-word identifier is emitted once, not as whole and part */
    CHECK_STR(render("name", 0), "name");
}

TEST(render_code) {
    const char *c = "static int parse_header(const char *buf, size_t len) {\n"
                    "    if (len == 0) return -EINVAL; /* empty HTTPHeader */\n"
                    "    return 0x1F + 42u;\n}\n";
    CHECK_STR(render(c, SUBWORD_DEFAULT | SUBWORD_SKIP_KEYWORDS),
              "parseheader parse header buf einval empty httpheader http header");
    CHECK_STR(render("user.getName() + obj->m_count", 0),
              "user getname get name obj mcount m count");
    CHECK_STR(render("x = foo2bar;", SUBWORD_DEFAULT | SUBWORD_SKIP_SINGLE), "foo2bar foo bar");
    CHECK_STR(render("", 0), "");
    CHECK_STR(render("  123 4.5e10 0xFF ++ -- ", 0), "");
}

TEST(keywords) {
    const char *kw[] = {"if",         "for",     "return", "const", "def",     "function",
                        "import",     "func",    "fn",     "let",   "None",    "none",
                        "NULL",       "null",    "self",   "this",  "elif",    "struct",
                        "impl",       "package", "typeof", "_Bool", "nullptr", "static_cast",
                        "staticcast", "True",    "true"};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        if (!subword_is_keyword(kw[i], strlen(kw[i])))
            fprintf(stderr, "  not a keyword: %s\n", kw[i]);
        CHECK(subword_is_keyword(kw[i], strlen(kw[i])));
    }
    const char *not_kw[] = {"user", "getUserName", "If", "RETURN", "parse", "i", "", "foreach"};
    for (size_t i = 0; i < sizeof not_kw / sizeof not_kw[0]; i++)
        CHECK(!subword_is_keyword(not_kw[i], strlen(not_kw[i])));
    /* a prefix of a keyword is not a keyword */
    CHECK(!subword_is_keyword("return", 3));
    CHECK(!subword_is_keyword(NULL, 2));
}

typedef struct {
    int count;
    int stop_after;
    char log[1024];
} collect_t;

static int collect(const subword_token_t *t, void *arg) {
    collect_t *c = arg;
    char line[256];
    snprintf(line, sizeof line, "%s:%s:%u/%u:%.*s%s;", t->kind == SUBWORD_KIND_WHOLE ? "W" : "P",
             t->text, t->part, t->parts, (int)t->ident_len, t->ident, t->keyword ? ":kw" : "");
    strncat(c->log, line, sizeof c->log - strlen(c->log) - 1);
    CHECK_INT(strlen(t->text), ==, t->len);
    c->count++;
    return c->stop_after && c->count >= c->stop_after ? 7 : 0;
}

TEST(scan_callback_fields) {
    collect_t c = {0};
    const char *text = "if fooBar";
    CHECK_INT(subword_scan(text, strlen(text), 0, collect, &c), ==, 0);
    CHECK_STR(c.log, "W:if:0/1:if:kw;W:foobar:0/2:fooBar;P:foo:0/2:fooBar;P:bar:1/2:fooBar;");
    CHECK_INT(c.count, ==, 4);
}

TEST(scan_stops_on_callback) {
    collect_t c = {.stop_after = 2};
    const char *text = "alpha beta gamma delta";
    CHECK_INT(subword_scan(text, strlen(text), 0, collect, &c), ==, 7);
    CHECK_INT(c.count, ==, 2);
    CHECK_INT(subword_scan(NULL, 1, 0, collect, &c), ==, -EINVAL);
    CHECK_INT(subword_scan(text, 3, 0, NULL, NULL), ==, -EINVAL);
    CHECK_INT(subword_scan(NULL, 0, 0, collect, &c), ==, 0);
}

TEST(scan_respects_length) {
    /* the scan must not look past len: "abc" of "abcdef" */
    CHECK_STR(render("abcdef", 0), "abcdef");
    char out[64];
    size_t n;
    CHECK_INT(subword_render("fooBar baz", 6, 0, out, sizeof out, &n), ==, 0);
    CHECK_STR(out, "foobar foo bar");
    CHECK_INT(n, ==, 14);
}

TEST(unicode) {
    /* letters are kept (only ASCII is folded), punctuation and symbols separate */
    CHECK_STR(render("größeBerechnen", 0), "größeberechnen größe berechnen");
    CHECK_STR(render("naïve—approach", 0), "naïve approach");
    CHECK_STR(render("x\xe2\x86\x92y", 0), "x y");    /* x→y */
    CHECK_STR(render("\xef\xbb\xbfmain", 0), "main"); /* BOM */
    CHECK_STR(render("变量名 = 1", 0), "变量名");
    CHECK_STR(render("hi\xf0\x9f\x98\x80there", 0), "hi there"); /* emoji */
}

TEST(invalid_utf8_never_crashes) {
    /* lone continuation bytes, overlongs, surrogates, truncated sequences */
    CHECK_STR(render("ab\x80\x80"
                     "cd",
                     0),
              "ab cd");
    CHECK_STR(render("ab\xc0\xaf"
                     "cd",
                     0),
              "ab cd");
    CHECK_STR(render("ab\xed\xa0\x80"
                     "cd",
                     0),
              "ab cd");
    CHECK_STR(render("ab\xf4\x90\x80\x80"
                     "cd",
                     0),
              "ab cd");
    CHECK_STR(render("ab\xe4\xb8", 0), "ab");
    CHECK_STR(render("\xff\xfe", 0), "");

    /* every two- and three-byte input, each in its own exact-size heap buffer */
    size_t tokens = 0;
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            unsigned char *buf = malloc(3);
            REQUIRE(buf);
            buf[0] = (unsigned char)a, buf[1] = (unsigned char)b, buf[2] = (unsigned char)(a ^ b);
            collect_t c = {0};
            subword_scan((const char *)buf, 2, 0, collect, &c);
            subword_scan((const char *)buf, 3, 0, collect, &c);
            tokens += (size_t)c.count;
            free(buf);
        }
    }
    CHECK(tokens > 0);

    /* random bytes */
    unsigned x = 12345;
    char *blob = malloc(1 << 16);
    REQUIRE(blob);
    for (int i = 0; i < 1 << 16; i++) {
        x = x * 1103515245u + 12345u;
        blob[i] = (char)(x >> 16);
    }
    size_t n = 0;
    char *out = subword_render_new(blob, 1 << 16, 0, &n);
    CHECK(out != NULL);
    if (out)
        CHECK_INT(strlen(out), ==, n);
    free(out);
    free(blob);
}

TEST(long_identifiers_are_data) {
    char text[300];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    CHECK_STR(render(text, 0), "");
    text[SUBWORD_IDENT_MAX] = ' ';
    char expect[SUBWORD_IDENT_MAX + 1];
    memset(expect, 'a', SUBWORD_IDENT_MAX);
    expect[SUBWORD_IDENT_MAX] = '\0';
    /* exactly SUBWORD_IDENT_MAX letters, then a space, then a too-long run */
    CHECK_STR(render(text, 0), expect);
}

TEST(many_parts) {
    /* 40 words: the scanner still emits bounded, well-formed parts */
    char text[256] = "";
    for (int i = 0; i < 40; i++)
        strcat(text, i ? "_w" : "w");
    collect_t c = {0};
    CHECK_INT(subword_scan(text, strlen(text), SUBWORD_PARTS, collect, &c), ==, 0);
    CHECK_INT(c.count, ==, SUBWORD_PARTS_MAX);
}

TEST(render_overflow) {
    char out[16];
    size_t n = 99;
    const char *text = "alpha beta gamma delta";
    CHECK_INT(subword_render(text, strlen(text), 0, out, sizeof out, &n), ==, -ENOSPC);
    CHECK_STR(out, "alpha beta");
    CHECK_INT(n, ==, 10);
    CHECK_INT(subword_render(text, strlen(text), 0, out, 0, &n), ==, -EINVAL);
    CHECK_INT(subword_render(text, strlen(text), 0, NULL, 5, &n), ==, -EINVAL);
    char one[1];
    CHECK_INT(subword_render(text, strlen(text), 0, one, 1, &n), ==, -ENOSPC);
    CHECK_STR(one, "");
}

TEST(render_new_grows) {
    /* many tokens: the heap variant grows past its first guess */
    size_t len = 0;
    char *text = malloc(20000);
    REQUIRE(text);
    for (int i = 0; i < 1000; i++)
        len += (size_t)sprintf(text + len, "aB%d ", i);
    size_t n = 0;
    char *out = subword_render_new(text, len, 0, &n);
    REQUIRE(out);
    CHECK_INT(strlen(out), ==, n);
    CHECK(strncmp(out, "ab0 a b 0 ab1 a b 1 ", 20) == 0);
    CHECK(strstr(out, "ab999 a b 999") != NULL);
    free(out);
    free(text);
    out = subword_render_new("", 0, 0, &n);
    REQUIRE(out);
    CHECK_STR(out, "");
    free(out);
}

TEST(unique_tokens) {
    const char *text = "user.getUser(user_id); getUser(userId); User user;";
    CHECK_STR(render(text, SUBWORD_DEFAULT | SUBWORD_UNIQUE), "user getuser get userid id");
    CHECK_STR(render(text, SUBWORD_WHOLE | SUBWORD_UNIQUE), "user getuser userid");
    /* many distinct tokens: the set grows and still catches every repeat */
    size_t len = 0;
    char *big = malloc(40000);
    REQUIRE(big);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 2000; i++)
            len += (size_t)sprintf(big + len, "w%d ", i);
    size_t n = 0;
    char *out = subword_render_new(big, len, SUBWORD_WHOLE | SUBWORD_UNIQUE, &n);
    REQUIRE(out);
    int words = 0;
    for (char *p = out; *p; p++)
        words += *p == ' ';
    CHECK_INT(words + 1, ==, 2000);
    CHECK(strncmp(out, "w0 w1 w2 ", 9) == 0);
    free(out);
    free(big);
    /* the callback still sees the first spelling */
    collect_t c = {0};
    const char *two = "getUser get_user";
    CHECK_INT(subword_scan(two, strlen(two), SUBWORD_WHOLE | SUBWORD_UNIQUE, collect, &c), ==, 0);
    CHECK_STR(c.log, "W:getuser:0/2:getUser;");
}

TEST(stems_of_question_words) {
    static const struct {
        const char *word, *stem;
    } cases[] = {
        {"reads", "read"},      {"copies", "copy"},
        {"matches", "match"},   {"classes", "class"},
        {"boxes", "box"},       {"returning", "return"},
        {"created", "creat"},   {"stopped", "stop"},
        {"running", "run"},     {"called", "call"},
        {"passes", "pass"},     {"uses", "use"},
        {"status", "status"},   {"this", "this"},
        {"process", "process"}, {"thing", "thing"},
        {"need", "need"},       {"read", "read"},
        {"its", "its"},         {"added", "add"},
        {"buzzing", "buzz"},    {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[SUBWORD_IDENT_MAX + 1];
        size_t n = subword_stem(cases[i].word, strlen(cases[i].word), out);
        CHECK_STR(out, cases[i].stem);
        CHECK_INT(n, ==, strlen(cases[i].stem));
    }
    /* too long to be a word: no stem, nothing written past the buffer */
    char big[SUBWORD_IDENT_MAX + 2], out[SUBWORD_IDENT_MAX + 1];
    memset(big, 's', sizeof big);
    CHECK_INT(subword_stem(big, sizeof big, out), ==, 0);
}

TEST(shares_of_a_names_sub_words) {
    const char *words[] = {"let", "mut", "stream", "conn"};
    CHECK(subword_share(words, 4, false, "TcpStream") == 0.5); /* tcp, stream */
    CHECK(subword_share(words, 4, false, "stream") == 1.0);
    CHECK(subword_share(words, 4, false, "ReadBuf") == 0.0);
    CHECK(subword_share(words, 4, false, "x_y") == 0.0); /* no sub-word of 3 bytes */
    /* near: an abbreviation of 4 bytes or more counts, a shorter one not */
    CHECK(subword_share(words, 4, false, "ConnectionPool") == 0.0);
    CHECK(subword_share(words, 4, true, "ConnectionPool") == 0.5);
    const char *short_words[] = {"str"};
    CHECK(subword_share(short_words, 1, true, "stream") == 0.0);
    CHECK(subword_share(NULL, 0, true, "stream") == 0.0);
}

/* A test names what it tests, a wrapper what it wraps: how much of the
 * function's name a name spells, on its sub-words' edges only. */
TEST(what_a_functions_name_spells) {
    CHECK(subword_spelled("test_grid_2d_graph", "grid_2d_graph") == 1.0);
    CHECK(subword_spelled("TestMultiDiGraph", "MultiDiGraph") == 1.0);
    CHECK(subword_spelled("test_multidigraph", "MultiDiGraph") == 1.0);
    CHECK(subword_spelled("goldberg_radzik", "goldberg_radzik") == 1.0);
    CHECK(subword_spelled("getTypeNode", "getType") == 7.0 / 11);
    CHECK(subword_spelled("test_HeapElement_gtlt", "_HeapElement") == 11.0 / 15);
    CHECK(subword_spelled("ParseNormalizedNamed", "Named") == 0.25);
    /* not on the edges, too short, or nothing */
    CHECK(subword_spelled("reset_level", "set_level") == 0);
    CHECK(subword_spelled("clone_splitter", "split") == 0);
    CHECK(subword_spelled("TestFileReaderSeek", "Read") == 0);
    CHECK(subword_spelled("test_get", "get") == 0);
    CHECK(subword_spelled("test_x", "") == 0);
    CHECK(subword_spelled("", "grid") == 0);
    CHECK(subword_spelled(NULL, "grid") == 0);
    CHECK(subword_spelled("grid", NULL) == 0);
    /* a test's name after its `test` */
    CHECK_STR(subword_after_test("test_grid_2d_graph"), "grid_2d_graph");
    CHECK_STR(subword_after_test("TestReadUint16"), "ReadUint16");
    CHECK_STR(subword_after_test("testFoo"), "Foo");
    CHECK(subword_after_test("test") == NULL);
    CHECK(subword_after_test("testing_x") == NULL);
    CHECK(subword_after_test("contest_x") == NULL);
    CHECK(subword_after_test(NULL) == NULL);
    /* `test` alone is the name, not a prefix to leave out */
    CHECK(subword_spelled("test", "test") == 1.0);
    char big[SUBWORD_IDENT_MAX + 8];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(subword_spelled(big, "aaaa") == 0);
    CHECK(subword_spelled("aaaa", big) == 0);
}

TEST_MAIN(TEST_CASE(split_styles), TEST_CASE(split_limits), TEST_CASE(render_whole_and_parts),
          TEST_CASE(render_code), TEST_CASE(keywords), TEST_CASE(scan_callback_fields),
          TEST_CASE(scan_stops_on_callback), TEST_CASE(scan_respects_length), TEST_CASE(unicode),
          TEST_CASE(invalid_utf8_never_crashes), TEST_CASE(long_identifiers_are_data),
          TEST_CASE(many_parts), TEST_CASE(render_new_grows), TEST_CASE(render_overflow),
          TEST_CASE(unique_tokens), TEST_CASE(stems_of_question_words),
          TEST_CASE(shares_of_a_names_sub_words), TEST_CASE(what_a_functions_name_spells))
