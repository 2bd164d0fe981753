/*
 * utf8: the one definition of well-formed UTF-8 in lca.
 *
 * Text reaches lca from everywhere (HTTP bodies, files on disk, a model's
 * output, an upstream's error message) and leaves it as JSON, which must be
 * valid UTF-8.  Every process decides "is this a character, and how long is
 * it?" with the functions below, so that a byte one of them accepts is never
 * refused by another.  Well-formed means RFC 3629: no overlong forms, no
 * UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no sequence
 * cut short.  Nothing here allocates or reads past the length it is given.
 */
#ifndef LCA_BASE_UTF8_H
#define LCA_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the character at s[0..len): returns its length in bytes (1 to 4)
 * and stores its code point in *code_point (which may be NULL), or returns
 * 0 when s does not start with a well-formed sequence (and when len is 0).
 * An ASCII byte, NUL included, is a character of length 1. */
size_t utf8_decode(const char *s, size_t len, uint32_t *code_point);

/* True when s[0..len) is well-formed UTF-8 from end to end. */
bool utf8_valid(const char *s, size_t len);

/* Length of the longest well-formed prefix of s[0..len): the offset of the
 * first byte that does not start a character, or len when there is none. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Replaces, in place, every byte of s[0..len) that does not start a
 * well-formed character with the ASCII byte replacement, leaving the
 * characters around it as they are.  The length, and so offsets and line
 * numbers, do not change.  Returns how many bytes were replaced. */
size_t utf8_sanitize(char *s, size_t len, char replacement);

#endif
