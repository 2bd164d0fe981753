/*
 * UTF-8 decoding (see utf8.h).  The lead byte says how many continuation
 * bytes follow and which range the second byte may take: that range is what
 * excludes overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90..BF) without computing the code point
 * first.  C0, C1 and F5..FF never start a character.
 */
#include "proto/base/utf8.h"

size_t utf8_decode(const char *s, size_t len, uint32_t *code_point) {
    if (len == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0];
    if (c < 0x80) {
        if (code_point)
            *code_point = c;
        return 1;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    uint32_t value;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2, value = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3, value = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4, value = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (len < need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 1; k < need; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        value = value << 6 | (p[k] & 0x3f);
    }
    if (code_point)
        *code_point = value;
    return need;
}

size_t utf8_valid_prefix(const char *s, size_t len) {
    size_t at = 0;
    while (at < len) {
        if ((unsigned char)s[at] < 0x80) {
            at++;
            continue;
        }
        size_t n = utf8_decode(s + at, len - at, NULL);
        if (n == 0)
            return at;
        at += n;
    }
    return len;
}

bool utf8_valid(const char *s, size_t len) {
    return utf8_valid_prefix(s, len) == len;
}

size_t utf8_sanitize(char *s, size_t len, char replacement) {
    size_t at = 0, replaced = 0;
    while (at < len) {
        size_t n = utf8_decode(s + at, len - at, NULL);
        if (n == 0) {
            s[at++] = replacement;
            replaced++;
        } else {
            at += n;
        }
    }
    return replaced;
}
