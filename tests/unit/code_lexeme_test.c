/*
 * Tests of proto/code/lexeme: tokens, a name's slot at the cursor, and the
 * names a text writes in that slot.
 */
#include "proto/code/lexeme.h"
#include "tests/test.h"

#include <math.h>
#include <string.h>

#define CHECK_NEAR(a, b) CHECK(fabs((a) - (b)) < 1e-9)

/* The tokens of s joined by spaces (at most cap - 1 bytes). */
static void tokens(const char *s, char *out, size_t cap) {
    size_t at = 0, start, n, w = 0, len = strlen(s);
    out[0] = '\0';
    while ((n = lexeme_next(s, len, &at, &start)) > 0 && w + n + 2 < cap) {
        if (w)
            out[w++] = ' ';
        memcpy(out + w, s + start, n);
        w += n;
        out[w] = '\0';
    }
}

TEST(tokens_are_names_strings_numbers_and_punctuation) {
    char got[256];
    tokens("x = Column(\"id\", 3.5e2) :: a->b => 'it\\'s' ", got, sizeof got);
    CHECK_STR(got, "x = Column ( \"id\" , 3.5e2 ) :: a -> b => 'it\\'s'");
    tokens("s = \"open\nrest", got, sizeof got); /* a quote that does not close */
    CHECK_STR(got, "s = \"open rest");
    tokens("café.ünï", got, sizeof got);
    CHECK_STR(got, "café . ünï");
    CHECK(lexeme_is_name("Integer", 7));
    CHECK(!lexeme_is_name("3x", 2));
    CHECK(!lexeme_is_name("\"id\"", 4));
}

TEST(the_slot_is_read_around_the_name_typed) {
    lexeme_slot_t s;
    const char *pre = "def f():\n    t = Table(\"t\", Column(\"id\", Int";
    const char *suf = "eger, primary_key=True))\n";
    CHECK(lexeme_slot_read(pre, strlen(pre), suf, strlen(suf), &s));
    CHECK_STR(s.before[0], "(");
    CHECK_STR(s.before[1], "\"id\"");
    CHECK_STR(s.before[2], ",");
    CHECK_STR(s.after[0], ",");
    CHECK_STR(s.after[1], "primary_key");
    /* the identifiers among the last tokens, nearest first, then those
     * after the name on its line */
    REQUIRE(s.anchor_count == 4);
    CHECK_STR(s.anchors[0], "Column");
    CHECK_STR(s.anchors[1], "Table");
    CHECK_STR(s.anchors[2], "primary_key");
    CHECK_STR(s.anchors[3], "True");
    const char *two = "x = f(a, ";
    CHECK(lexeme_slot_read(two, strlen(two), "b, c\nnext_line", 15, &s));
    REQUIRE(s.anchor_count == 4);
    CHECK_STR(s.anchors[3], "c"); /* not next_line */
    const char *go = "G = nx.";
    CHECK(lexeme_slot_read(go, strlen(go), "(\n", 2, &s));
    CHECK_STR(s.before[0], "=");
    CHECK_STR(s.before[1], "nx");
    CHECK_STR(s.before[2], ".");
    CHECK_STR(s.after[0], "(");
    CHECK_STR(s.after[1], ""); /* the suffix ends */
    /* nothing before: no slot; the start of the text is unknown */
    CHECK(!lexeme_slot_read("abc", 3, NULL, 0, &s));
    CHECK(lexeme_slot_read("x.", 2, NULL, 0, &s));
    CHECK_STR(s.before[0], "");
    CHECK_STR(s.before[1], "x");
    CHECK_STR(s.after[0], "");
}

typedef struct {
    char names[8][32];
    double weights[8];
    int n;
} found_t;

static void note(const char *name, size_t len, double weight, void *arg) {
    found_t *f = arg;
    for (int i = 0; i < f->n; i++)
        if (strlen(f->names[i]) == len && !memcmp(f->names[i], name, len)) {
            f->weights[i] += weight;
            return;
        }
    if (f->n < 8 && len < 32) {
        memcpy(f->names[f->n], name, len);
        f->names[f->n][len] = '\0';
        f->weights[f->n++] = weight;
    }
}

TEST(the_names_a_text_writes_in_the_slot_weigh_by_the_patterns_matched) {
    lexeme_slot_t s;
    const char *pre = "Column(\"id\", ";
    lexeme_slot_read(pre, strlen(pre), ", primary_key=True)", 19, &s);
    const char *text = "a = Column(\"id\", Integer, primary_key=True)\n"
                       "b = Column(\"id\", String(30))\n"
                       "c = f(x, y)\n" /* `, y` matches no pattern: y's b2 is x */
                       "d = g(\"id\", Float, nullable=True)\n";
    found_t f = {0};
    double total = lexeme_slot_scan(&s, text, strlen(text), note, &f);
    REQUIRE(f.n == 3);
    CHECK_STR(f.names[0], "Integer");
    CHECK_NEAR(f.weights[0], 1.0 + 1.0 + 2.0 + 0.5 + 0.5 + 0.5); /* every pattern */
    CHECK_STR(f.names[1], "String");
    CHECK_NEAR(f.weights[1], 1.0 + 0.5); /* b3 b2 b1, b2 b1 */
    CHECK_STR(f.names[2], "Float");
    CHECK_NEAR(f.weights[2], 1.0 + 1.0 + 0.5 + 0.5); /* all but those that read a2 */
    CHECK_NEAR(total, 5.5 + 1.5 + 3.0);
    /* near the anchor only: the lines that write it and the line after */
    f = (found_t){0};
    CHECK_NEAR(lexeme_slot_scan_near(&s, "Column", text, strlen(text), note, &f), 5.5 + 1.5);
    CHECK_INT(f.n, ==, 2);
    f = (found_t){0};
    CHECK_NEAR(lexeme_slot_scan_near(&s, "f(", text, strlen(text), note, &f), 3.0);
    CHECK_STR(f.names[0], "Float");
    CHECK_NEAR(lexeme_slot_scan_near(&s, "nowhere", text, strlen(text), note, &f), 0);
    CHECK_NEAR(lexeme_slot_scan_near(&s, "", text, strlen(text), note, &f), 0);
    /* a name at the very end is read too, with what it has after it */
    const char *end = "x = Column(\"id\", Tail";
    f = (found_t){0};
    CHECK_NEAR(lexeme_slot_scan(&s, end, strlen(end), note, &f), 1.0 + 0.5);
    lexeme_slot_t none = {{{0}}};
    CHECK_NEAR(lexeme_slot_scan(&none, text, strlen(text), note, &f), 0);
}

TEST_MAIN(TEST_CASE(tokens_are_names_strings_numbers_and_punctuation),
          TEST_CASE(the_slot_is_read_around_the_name_typed),
          TEST_CASE(the_names_a_text_writes_in_the_slot_weigh_by_the_patterns_matched))
