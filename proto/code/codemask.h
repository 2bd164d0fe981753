/*
 * codemask: which bytes of a source text are code, and which are comments
 * or strings.
 *
 * Readers that look for declarations, braces or member accesses (cursor.h,
 * refs.h) must not see them in a comment or a string.  This is the one
 * lexical split they share, per language family: line comments `//` (C
 * family, JavaScript, Go, Rust, Java...) or `#` (Python, Ruby, shell...),
 * block comments `/ * ... * /`, strings in double quotes, backquotes and
 * single quotes, and Python's triple-quoted strings.  An unterminated
 * string ends with its line (but a backquoted one, which may span lines).
 * Rust has its own rules: ' starts a character literal ('{', '"', '\n',
 * not code) or a lifetime or label ('a, code), raw strings (r#"..."#,
 * br"...") have no escapes, strings span lines and block comments nest.
 * A lexer, not a parser: at worst a byte is misjudged, never read out of
 * bounds.
 */
#ifndef LCA_CODE_CODEMASK_H
#define LCA_CODE_CODEMASK_H

#include "proto/code/lang.h"

#include <stddef.h>
#include <stdint.h>

/* Sets mask[i] to 1 where text[i] is code, 0 in comments and strings, for
 * text[0..len) read as lang (LANG_UNKNOWN: the C family's rules). */
void codemask_build(lang_id_t lang, const char *text, size_t len, uint8_t *mask);

#endif
