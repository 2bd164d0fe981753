/*
 * Identifier characters (see ident.h).  ASCII is decided by the inline
 * tests; anything else is decoded with the one UTF-8 decoder and its code
 * point looked up in the list of blocks that are not letters.
 */
#include "proto/code/ident.h"

#include "proto/base/utf8.h"

#include <string.h>

bool ident_code_point_is_letter(uint32_t cp) {
    if (cp < 0x80)
        return ident_ascii_start((unsigned char)cp);
    if (cp < 0xc0)
        return cp == 0xaa || cp == 0xb5 || cp == 0xba;
    if (cp == 0xd7 || cp == 0xf7)
        return false;
    if (cp >= 0x2000 && cp <= 0x2bff) /* punctuation, arrows, maths, boxes, symbols */
        return false;
    if (cp >= 0x2e00 && cp <= 0x2e7f) /* supplemental punctuation */
        return false;
    if (cp >= 0x3000 && cp <= 0x303f) /* CJK symbols and punctuation */
        return false;
    if (cp >= 0xe000 && cp <= 0xf8ff) /* private use */
        return false;
    if ((cp >= 0xfe00 && cp <= 0xfe1f) || (cp >= 0xfe30 && cp <= 0xfe6f) || cp == 0xfeff)
        return false;
    if ((cp >= 0xff00 && cp <= 0xff0f) || (cp >= 0xff1a && cp <= 0xff20) ||
        (cp >= 0xff3b && cp <= 0xff40) || (cp >= 0xff5b && cp <= 0xff65))
        return false;                 /* fullwidth punctuation */
    if (cp >= 0xfff0 && cp <= 0xffff) /* specials, U+FFFD */
        return false;
    if (cp >= 0x1f000 && cp <= 0x1faff) /* emoji, pictographs */
        return false;
    if (cp >= 0xe0000) /* tags, private use planes */
        return false;
    return true;
}

size_t ident_char_len(const char *s, size_t len) {
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80)
        return ident_ascii_char(c);
    uint32_t cp;
    size_t n = utf8_decode(s, len, &cp);
    return n && ident_code_point_is_letter(cp) ? n : 0;
}

size_t ident_start_len(const char *s, size_t len) {
    unsigned char c = (unsigned char)s[0];
    return c >= '0' && c <= '9' ? 0 : ident_char_len(s, len);
}

size_t ident_len(const char *s, size_t len) {
    if (len == 0)
        return 0;
    size_t at = ident_start_len(s, len);
    if (at == 0)
        return 0;
    while (at < len) {
        size_t n = ident_char_len(s + at, len - at);
        if (n == 0)
            break;
        at += n;
    }
    return at;
}

size_t ident_char_len_before(const char *s, size_t at) {
    if (at == 0)
        return 0;
    unsigned char c = (unsigned char)s[at - 1];
    if (c < 0x80)
        return ident_ascii_char(c);
    /* Back over continuation bytes to the lead byte (at most 3 of them). */
    size_t start = at - 1;
    while (start > 0 && at - start < 4 && ((unsigned char)s[start] & 0xc0) == 0x80)
        start--;
    size_t n = ident_char_len(s + start, at - start);
    return n == at - start ? n : 0;
}

size_t ident_start_before(const char *s, const uint8_t *code, size_t end) {
    size_t i = end;
    while (i > 0 && code[i - 1]) {
        size_t n = ident_char_len_before(s, i);
        if (!n)
            break;
        i -= n;
    }
    while (i < end && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

bool ident_is_whole_word(const char *s, size_t len, size_t at, size_t n) {
    return ident_char_len_before(s, at) == 0 &&
           (at + n >= len || !ident_char_len(s + at + n, len - at - n));
}

bool ident_member_of_scope(const char *sym, const char *name, size_t len) {
    size_t n = strlen(sym);
    if (n <= len + 1 || !strchr(".:#/", sym[n - len - 1]) || memcmp(sym + n - len, name, len))
        return false;
    size_t end = n - len - 1; /* the scope is sym[0..end), separators trimmed */
    while (end > 0 && strchr(".:#/", sym[end - 1]))
        end--;
    size_t start = end;
    while (start > 0 && !strchr(".:#/", sym[start - 1]))
        start--;
    /* `Cart.Cart`, a constructor: the class, scoped only as it is itself
     * (`Outer.Cart.Cart`, a nested class's) */
    return !(end - start == len && !memcmp(sym + start, name, len)) || start > 0;
}

const char *ident_last_name(const char *sym) {
    const char *last = sym;
    for (const char *p = sym; *p; p++)
        if (strchr(".:#/", *p))
            last = p + 1;
    return last;
}

size_t ident_fold(const char *name, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < cap; p++)
        if (*p != '_' && *p != '$')
            out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    out[n] = '\0';
    return n;
}
