/*
 * ident: what an identifier character is, for every part of lca that reads
 * code lexically (the sub-word scanner, the import scanner, the names before
 * the cursor).
 *
 * An identifier starts with an ASCII letter, `_`, `$` or a non-ASCII letter
 * and goes on with those or ASCII digits.  A non-ASCII character is a letter
 * unless it is obviously punctuation or a symbol (general punctuation,
 * arrows, maths, box drawing, CJK punctuation, private use, specials,
 * emoji): the languages lca reads (Python 3, JavaScript, Go, Rust, Java,
 * Kotlin...) all allow letters beyond ASCII in names, and `café` is one
 * name, not `caf` and a stray byte.  Bytes that are not well-formed UTF-8
 * are never identifier characters.  `$` counts everywhere: it is one in
 * JavaScript and PHP and harmless elsewhere.
 *
 * The character functions take s[0..len) and read at most len bytes; len
 * must be at least 1.  The ASCII tests are inline for the scanners' inner
 * loops.
 */
#ifndef LCA_CODE_IDENT_H
#define LCA_CODE_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An ASCII byte that may start an identifier: a letter, `_` or `$`. */
static inline bool ident_ascii_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

/* An ASCII byte that may continue an identifier: a start byte or a digit. */
static inline bool ident_ascii_char(unsigned char c) {
    return ident_ascii_start(c) || (c >= '0' && c <= '9');
}

/* Whether the non-ASCII code point cp counts as a letter in identifiers. */
bool ident_code_point_is_letter(uint32_t cp);

/* Length in bytes (1 to 4) of the identifier character that starts s, or 0
 * when s starts with anything else (a digit counts: it continues names). */
size_t ident_char_len(const char *s, size_t len);

/* As ident_char_len(), but 0 for a digit: the length of a character that
 * may start an identifier. */
size_t ident_start_len(const char *s, size_t len);

/* Length in bytes of the identifier that starts s (0 when s does not start
 * one): its first character by ident_start_len(), the rest by
 * ident_char_len(). */
size_t ident_len(const char *s, size_t len);

/* Length in bytes of the identifier character that ends just before
 * s[at] (0 when at is 0 or the character there is not one): for reading
 * backwards from a cursor.  Reads s[0..at) only. */
size_t ident_char_len_before(const char *s, size_t at);

/* Where the name that ends at s[end] starts: back over identifier
 * characters that code marks as code (code[i] != 0), then forward over the
 * digits a name cannot start with; end when there is none. */
size_t ident_start_before(const char *s, const uint8_t *code, size_t end);

/* True when s[at..at+n) is a whole word: no identifier character right
 * before it or right after it, within s[0..len). */
bool ident_is_whole_word(const char *s, size_t len, size_t at, size_t n);

/* Whether the symbol sym (`Scope.name`, `a::b::name`, `Cls#name`,
 * `dir/name`) names name (len bytes) as a member of a scope: the steps
 * before it end in one of . : # / and the last of them is not name itself
 * (`Cart.Cart`, a constructor, leaves `Cart` the class), unless a scope
 * holds that class (`Outer.Cart.Cart`, a nested class's constructor). */
bool ident_member_of_scope(const char *sym, const char *name, size_t len);

/* The last name of symbol sym, after its scope's steps (`bar` of
 * `Foo.bar`, `a::b`'s b, `Cls#m`'s m); sym itself when it has none. */
const char *ident_last_name(const char *sym);

/* name as a hint is written (subword's whole form, SUBWORD_KIND_WHOLE):
 * ASCII letters lower-cased, `_` and `$` dropped, at most cap - 1 bytes,
 * into out (NUL-terminated, cap > 0); returns its length. */
size_t ident_fold(const char *name, char *out, size_t cap);

#endif
