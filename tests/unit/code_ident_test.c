/* What an identifier character is: ASCII, letters beyond it, and bytes
 * that are not characters at all. */
#include "proto/code/ident.h"
#include "proto/code/subword.h"
#include "tests/test.h"

#define S(s) (s), strlen(s)

TEST(ascii_letters_digits_underscore_and_dollar) {
    for (int c = 0; c < 128; c++) {
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
        bool digit = c >= '0' && c <= '9';
        char s[2] = {(char)c, 'x'};
        CHECK(ident_ascii_start((unsigned char)c) == letter);
        CHECK(ident_ascii_char((unsigned char)c) == (letter || digit));
        CHECK_INT(ident_char_len(s, 2), ==, letter || digit);
        CHECK_INT(ident_start_len(s, 2), ==, letter);
    }
}

TEST(letters_beyond_ascii_are_in_names) {
    CHECK_INT(ident_char_len(S("\xc3\xa9")), ==, 2);         /* é */
    CHECK_INT(ident_char_len(S("\xc3\x9f")), ==, 2);         /* ß */
    CHECK_INT(ident_char_len(S("\xce\xbb")), ==, 2);         /* λ */
    CHECK_INT(ident_char_len(S("\xe4\xb8\xad")), ==, 3);     /* 中 */
    CHECK_INT(ident_start_len(S("\xd0\x96")), ==, 2);        /* Ж */
    CHECK_INT(ident_char_len(S("\xe2\x80\xa6")), ==, 0);     /* … */
    CHECK_INT(ident_char_len(S("\xe2\x86\x92")), ==, 0);     /* → */
    CHECK_INT(ident_char_len(S("\xe2\x80\x9c")), ==, 0);     /* “ */
    CHECK_INT(ident_char_len(S("\xc3\x97")), ==, 0);         /* × */
    CHECK_INT(ident_char_len(S("\xef\xbf\xbd")), ==, 0);     /* U+FFFD */
    CHECK_INT(ident_char_len(S("\xf0\x9f\x98\x80")), ==, 0); /* an emoji */
    CHECK_INT(ident_char_len(S("\xe3\x80\x82")), ==, 0);     /* 。 */
}

TEST(bytes_that_are_not_utf8_are_not_in_names) {
    CHECK_INT(ident_char_len(S("\xe9")), ==, 0); /* Latin-1 é */
    CHECK_INT(ident_char_len(S("\x80")), ==, 0);
    CHECK_INT(ident_char_len("\xc3\xa9", 1), ==, 0); /* cut by the length */
    CHECK_INT(ident_len(S("ab\xffz")), ==, 2);
}

TEST(whole_identifiers) {
    CHECK_INT(ident_len(S("caf\xc3\xa9_2 = 1")), ==, 7);
    CHECK_INT(ident_len(S("$el.x")), ==, 3);
    CHECK_INT(ident_len(S("9lives")), ==, 0);
    CHECK_INT(ident_len(S("(x)")), ==, 0);
    CHECK_INT(ident_len("abc", 0), ==, 0);
    CHECK_INT(ident_len(S("x\xe2\x80\xa6y")), ==, 1);
}

TEST(reading_backwards) {
    const char *s = "x = caf\xc3\xa9.";
    size_t at = strlen(s) - 1; /* before the dot */
    CHECK_INT(ident_char_len_before(s, at), ==, 2);
    CHECK_INT(ident_char_len_before(s, at - 2), ==, 1);
    CHECK_INT(ident_char_len_before(s, strlen(s)), ==, 0);
    CHECK_INT(ident_char_len_before(s, 0), ==, 0);
    CHECK_INT(ident_char_len_before("\xe2\x80\xa6", 3), ==, 0); /* … */
    CHECK_INT(ident_char_len_before("\xa9", 1), ==, 0);         /* a stray continuation */
    CHECK_INT(ident_char_len_before("a\xe4\xb8\xad", 4), ==, 3);
}

TEST(whole_words) {
    const char *s = "use(x) + xy + x1 + caf\xc3\xa9x + x";
    size_t len = strlen(s);
    CHECK(ident_is_whole_word(s, len, 4, 1));
    CHECK(!ident_is_whole_word(s, len, 9, 1));  /* xy */
    CHECK(!ident_is_whole_word(s, len, 14, 1)); /* x1 */
    CHECK(!ident_is_whole_word(s, len, 24, 1)); /* the x of caféx */
    CHECK(ident_is_whole_word(s, len, len - 1, 1));
}

typedef struct {
    char words[8][32];
    int count;
} words_t;

static int word(const subword_token_t *t, void *arg) {
    words_t *w = arg;
    if (w->count < 8 && t->ident_len < 32) {
        memcpy(w->words[w->count], t->ident, t->ident_len);
        w->words[w->count++][t->ident_len] = '\0';
    }
    return 0;
}

TEST(subword_splits_identifiers_by_the_same_rule) {
    const char *s = "caf\xc3\xa9\xe2\x80\xa6x \xe9t\xc3\xa9 $a_b";
    words_t w = {0};
    CHECK_INT(subword_scan(s, strlen(s), SUBWORD_WHOLE, word, &w), ==, 0);
    CHECK_INT(w.count, ==, 4);
    CHECK_STR(w.words[0], "caf\xc3\xa9");
    CHECK_STR(w.words[1], "x");
    CHECK_STR(w.words[2], "t\xc3\xa9");
    CHECK_STR(w.words[3], "$a_b");
    for (int i = 0; i < w.count; i++)
        CHECK_INT(ident_len(w.words[i], strlen(w.words[i])), ==, strlen(w.words[i]));
}

TEST(a_name_read_back_from_its_end) {
    const char *s = "x = foo.bar9 /*baz*/ 12ab";
    uint8_t code[32];
    memset(code, 1, sizeof code);
    for (size_t i = 13; i < 20; i++)
        code[i] = 0;                                    /* the comment */
    CHECK_INT(ident_start_before(s, code, 12), ==, 8);  /* bar9 */
    CHECK_INT(ident_start_before(s, code, 7), ==, 4);   /* foo */
    CHECK_INT(ident_start_before(s, code, 19), ==, 19); /* inside the comment: none */
    CHECK_INT(ident_start_before(s, code, 25), ==, 23); /* 12ab: a name starts at the letter */
    CHECK_INT(ident_start_before(s, code, 0), ==, 0);
    code[9] = 0; /* a masked character ends the name */
    CHECK_INT(ident_start_before(s, code, 12), ==, 10);
}

/* `Cls.name` names a member; `Cls.Cls` (a constructor) leaves `Cls` the
 * class itself, and a nested class's (`Outer.Cls.Cls`) its scope's. */
TEST(a_member_of_a_scope_is_not_its_constructor) {
    CHECK(ident_member_of_scope("Cart.total", "total", 5));
    CHECK(ident_member_of_scope("a::b::spawn", "spawn", 5));
    CHECK(ident_member_of_scope("Outer.Inner.Cart", "Cart", 4));
    CHECK(ident_member_of_scope("pkg/Cart#total", "total", 5));
    CHECK(!ident_member_of_scope("Cart.Cart", "Cart", 4));
    CHECK(ident_member_of_scope("TableView.FocusModel.FocusModel", "FocusModel", 10));
    CHECK(ident_member_of_scope("ns::Cart::Cart", "Cart", 4));
    CHECK(!ident_member_of_scope("total", "total", 5));
    CHECK(!ident_member_of_scope(".total", "total", 5));
    CHECK(!ident_member_of_scope("Cart.subtotal", "total", 5));
    CHECK(!ident_member_of_scope("Cart.totals", "total", 5));
    /* and a symbol's last name */
    CHECK_STR(ident_last_name("Foo.bar"), "bar");
    CHECK_STR(ident_last_name("a::b::spawn"), "spawn");
    CHECK_STR(ident_last_name("pkg/Cart#total"), "total");
    CHECK_STR(ident_last_name("Integer"), "Integer");
    CHECK_STR(ident_last_name("Foo."), "");
}

TEST(a_folded_name_as_hints_write_it) {
    char out[8];
    CHECK_INT(ident_fold("Get_Value$", out, sizeof out), ==, 7);
    CHECK_STR(out, "getvalu"); /* cut at cap - 1 */
    CHECK_INT(ident_fold("BshClassManager", out, 4), ==, 3);
    CHECK_STR(out, "bsh");
    CHECK_INT(ident_fold("__", out, sizeof out), ==, 0);
    CHECK_STR(out, "");
    char wide[32];
    CHECK_INT(ident_fold("TablePosition", wide, sizeof wide), ==, 13);
    CHECK_STR(wide, "tableposition");
}

TEST_MAIN(TEST_CASE(ascii_letters_digits_underscore_and_dollar),
          TEST_CASE(letters_beyond_ascii_are_in_names),
          TEST_CASE(bytes_that_are_not_utf8_are_not_in_names), TEST_CASE(whole_identifiers),
          TEST_CASE(reading_backwards), TEST_CASE(whole_words),
          TEST_CASE(subword_splits_identifiers_by_the_same_rule),
          TEST_CASE(a_name_read_back_from_its_end),
          TEST_CASE(a_member_of_a_scope_is_not_its_constructor),
          TEST_CASE(a_folded_name_as_hints_write_it))
