/*
 * signature: the lines of a definition that a caller needs, its signature,
 * found in the text of the chunk that holds it.
 *
 * An outline of a class or module (retriever/search) is its members'
 * signatures, one after another: what an IDE's completion list shows, and
 * what a model completing `obj.` needs to pick the member and its
 * arguments, at a line or two per member instead of a whole body each.
 *
 * The search is lexical and language-blind: the first line where name is a
 * whole word outside a comment line is the definition's line (a chunk holds
 * the definition, so decorators, attributes and doc comments above it do not
 * name it, or are comments).  The signature goes on while a parenthesis it
 * opened stays open (parameters over several lines), up to
 * SIGNATURE_LINES_MAX lines; a body's braces are not followed.
 */
#ifndef LCA_CODE_SIGNATURE_H
#define LCA_CODE_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

#define SIGNATURE_LINES_MAX 6

typedef struct {
    size_t at, len; /* its bytes in the text: whole lines, no final newline */
    int line;       /* its first line, 0-based from the text's first */
    int lines;      /* how many lines it spans, 1 to SIGNATURE_LINES_MAX */
} signature_t;

/* Finds the signature of name (len bytes) in text[0..text_len).  False when
 * no line outside a comment holds name as a whole word. */
bool signature_find(const char *text, size_t text_len, const char *name, size_t len,
                    signature_t *out);

/* The names in the parameter list that follows name in signature
 * sig[0..len) (as signature_find gives it), joined by `_` into out (at most
 * cap bytes with the NUL): parameters and their types alike, but not
 * `self`, `this` or `cls`, which every method has.  Returns the length
 * written; 0 when name has no parameter list or it names nothing. */
size_t signature_params(const char *sig, size_t len, const char *name, size_t name_len, char *out,
                        size_t cap);

/* The share of the sub-words of those names, for name's signature in chunk
 * text[0..len), that words (folded sub-words, see subword_share) hold: how
 * much of what a definition takes the code at a call passes
 * (`self.⟨(err, dbapi_connection)` and is_disconnect(self, e, connection,
 * cursor)).  0 when name has no signature or no parameters there. */
double signature_params_share(const char *text, size_t len, const char *name,
                              const char *const *words, size_t count);

/* How far a language lets a top-level definition be seen, as its
 * signature line says. */
typedef enum {
    SIGNATURE_PUBLIC,  /* anywhere: Rust `pub`, and every language that says nothing */
    SIGNATURE_CRATE,   /* Rust `pub(crate)`, `pub(super)`, `pub(in path)`: its crate */
    SIGNATURE_PRIVATE, /* Rust without `pub`: its module and those inside it */
} signature_reach_t;

/* The reach of the Rust item whose signature line is line[0..len) (as
 * signature_find gives it): `pub` before its keyword, `pub(...)`, or
 * nothing.  A macro_rules! macro is public (#[macro_export] is an
 * attribute line above). */
signature_reach_t signature_rust_reach(const char *line, size_t len);

#endif
