/* The one UTF-8 decoder: characters, validity, prefixes and sanitizing. */
#include "proto/base/utf8.h"
#include "tests/test.h"

/* The rule written the slow way, from the code point: a sequence of n
 * bytes is well-formed when its bits make a code point that needs exactly
 * n bytes and is not a surrogate or above U+10FFFF. */
static size_t reference_length(const unsigned char *s, size_t len, uint32_t *cp) {
    if (len == 0)
        return 0;
    if (s[0] < 0x80)
        return *cp = s[0], 1;
    size_t n = (s[0] & 0xe0) == 0xc0   ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || len < n)
        return 0;
    uint32_t v = s[0] & (0x7f >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3f);
    }
    uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return *cp = v, n;
}

TEST(decodes_each_length) {
    uint32_t cp = 0;
    CHECK_INT(utf8_decode("A", 1, &cp), ==, 1);
    CHECK_INT(cp, ==, 'A');
    CHECK_INT(utf8_decode("\0x", 2, &cp), ==, 1); /* NUL is a character */
    CHECK_INT(cp, ==, 0);
    CHECK_INT(utf8_decode("\xc3\xa9", 2, &cp), ==, 2);
    CHECK_INT(cp, ==, 0xe9);
    CHECK_INT(utf8_decode("\xe2\x82\xac", 3, &cp), ==, 3);
    CHECK_INT(cp, ==, 0x20ac);
    CHECK_INT(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), ==, 4);
    CHECK_INT(cp, ==, 0x1f600);
    CHECK_INT(utf8_decode("\xf4\x8f\xbf\xbf", 4, NULL), ==, 4); /* U+10FFFF, the last */
    CHECK_INT(utf8_decode("", 0, &cp), ==, 0);
}

TEST(rejects_what_is_not_a_character) {
    const char *bad[] = {
        "\x80",             /* a continuation byte alone */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong */
        "\xe0\x9f\xbf",     /* overlong, the last one */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf0\x8f\xbf\xbf", /* overlong */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* never a lead byte */
        "\xff",             /* never a lead byte */
        "\xc3(",            /* continuation missing */
        "\xe2\x82(",        /* continuation missing */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(utf8_decode(bad[i], strlen(bad[i]), NULL), ==, 0);
        CHECK(!utf8_valid(bad[i], strlen(bad[i])));
    }
    /* Cut short by the length given, even with the bytes there. */
    CHECK_INT(utf8_decode("\xf0\x9f\x98\x80", 3, NULL), ==, 0);
    CHECK_INT(utf8_decode("\xc3\xa9", 1, NULL), ==, 0);
}

TEST(agrees_with_the_rule_on_every_short_sequence) {
    /* Every 1-, 2- and 3-byte sequence, and 4-byte ones over every lead and
     * second byte (the only ones that decide the range). */
    unsigned char s[4];
    long disagreements = 0, accepted = 0;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned c = 0; c < 256; c += (a >= 0xe0 ? 1 : 255)) {
                s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = (unsigned char)c;
                s[3] = 0x80;
                for (size_t len = 1; len <= 4; len++) {
                    uint32_t want_cp = 0, got_cp = 0;
                    size_t want = reference_length(s, len, &want_cp);
                    size_t got = utf8_decode((const char *)s, len, &got_cp);
                    if (got != want || (got && got_cp != want_cp))
                        disagreements++;
                    accepted += got > 1;
                }
            }
    CHECK_INT(disagreements, ==, 0);
    CHECK(accepted > 0);
}

TEST(valid_prefix_stops_at_the_first_bad_byte) {
    CHECK_INT(utf8_valid_prefix("caf\xc3\xa9", 5), ==, 5);
    CHECK_INT(utf8_valid_prefix("caf\xe9!", 5), ==, 3);       /* Latin-1 */
    CHECK_INT(utf8_valid_prefix("ok\xf0\x9f\x98", 5), ==, 2); /* cut short at the end */
    CHECK_INT(utf8_valid_prefix("", 0), ==, 0);
    CHECK(utf8_valid("", 0));
    CHECK(utf8_valid("a\0b", 3));
    CHECK(utf8_valid("\xe2\x82\xac\xf0\x9f\x98\x80", 7));
}

TEST(sanitize_replaces_bytes_in_place) {
    char text[] = "a\xe9z \xc3\xa9 \xed\xa0\x80 \xf0\x9f\x98";
    size_t len = sizeof text - 1;
    size_t replaced = utf8_sanitize(text, len, '?');
    CHECK_STR(text, "a?z \xc3\xa9 ??? ???");
    CHECK_INT(replaced, ==, 7);
    CHECK(utf8_valid(text, len));
    char clean[] = "d\xc3\xa9j\xc3\xa0";
    CHECK_INT(utf8_sanitize(clean, sizeof clean - 1, '?'), ==, 0);
    CHECK_STR(clean, "d\xc3\xa9j\xc3\xa0");
}

TEST_MAIN(TEST_CASE(decodes_each_length), TEST_CASE(rejects_what_is_not_a_character),
          TEST_CASE(agrees_with_the_rule_on_every_short_sequence),
          TEST_CASE(valid_prefix_stops_at_the_first_bad_byte),
          TEST_CASE(sanitize_replaces_bytes_in_place))
