/*
 * features: what a retrieval request says, read from its text alone.  Pure
 * (no server), tested in tests/unit/gateway_features_test.c.
 *
 * A chat question is its own query.  For a completion the gateway reads the
 * code around the cursor:
 *   - the query text BM25 and the embedder see: the last 40 lines of the
 *     prefix and the first 10 of the suffix;
 *   - the symbols to look up: first the names the prefix imports (those not
 *     used yet first), then identifiers of the 15 lines before and 4 after
 *     the cursor (whole identifiers, no keywords or one-letter names, each
 *     once, at most 48 in all, names shorter than 2 bytes left out);
 *   - the object before the cursor's `.`, `->` or `::` ("utils" for
 *     "x = utils.fo"), and whether it is a name the prefix imports; then it
 *     is replaced by the stem of the module it comes from (`ns` of
 *     `import * as ns from './graph'` is `graph`), which is the file the
 *     member being typed is defined in;
 *   - what that object is (proto/code/cursor.h: a module, self, a value
 *     of a known class, a class) and the words of the code after the cursor
 *     (the first 10 lines of the suffix, whole identifiers folded): the
 *     retriever offers the object's members, those the suffix names first;
 *   - a bare name (no object) in Go, whose files see every name of their
 *     package unqualified: the package's own definitions are offered as its
 *     members (the module `.`), with the name typed so far.
 * For a chat question the symbols are the question's identifiers.
 *
 * features_search_header() turns them into the retriever's `search` request
 * (the op's contract is in retriever/main.c).
 */
#ifndef LCA_GATEWAY_FEATURES_H
#define LCA_GATEWAY_FEATURES_H

#include "gateway/fusion.h"
#include "proto/base/buf.h"
#include "proto/code/cursor.h"
#include "proto/code/lexeme.h"
#include "proto/code/imported.h"
#include "proto/code/subword.h"

#include <cJSON.h>

#include <stdbool.h>
#include <stddef.h>

#define FEATURES_IMPORTS_READ 256 /* names imported read from the prefix, */
#define FEATURES_IMPORTS_KEPT 32  /* ... the first kept, */
#define FEATURES_IMPORTS_MAX 48   /* ... and after them those named like the line */
#define FEATURES_HINTS_MAX 96

typedef struct {
    buf_t text;    /* the query BM25 and the embedder see */
    buf_t symbols; /* JSON array of names to look up; empty (len 0) when none */
    char object[SUBWORD_IDENT_MAX + 1];            /* "" when the cursor follows no object */
    imported_name_t imports[FEATURES_IMPORTS_MAX]; /* names the prefix imports */
    double import_line[FEATURES_IMPORTS_MAX];      /* ... the share of each name's sub-words that
                                                      line_words hold */
    size_t nimports;
    bool object_imported; /* object names an imported module or name (then: its stem) */
    cursor_t cursor;      /* what the object is; cursor.kind CURSOR_NONE when no object */
    char after[16];       /* a type's place in Java, Kotlin or C#: the keyword before it */
    char owner[64];       /* a bare name followed by a member: that member (`run` of `⟨.run(`) */
    /* At a module's members ("" elsewhere, and when none): */
    char within[CURSOR_NAME_MAX];   /* the function the cursor is in (cursor_function) */
    char declared[CURSOR_NAME_MAX]; /* outside any, the name its statement sets (cursor_declared) */
    lexeme_slot_t slot;             /* the tokens around the name at the cursor */
    bool has_slot;                  /* ... when the one right before it is known */
    bool type_wanted; /* Rust, Python, TS, JS: a type's place (`-> ⟨`, `impl ⟨`, ...) */
    bool call_wanted; /* Rust, TS, JS: the name is called (`⟨(`), no `new`: no type */
    bool package;     /* a bare name in Go, whose files see their package's names:
                         those are the members offered */
    buf_t hints;      /* JSON array of the suffix's folded identifiers; len 0 when none */
    buf_t words;      /* JSON array of the sub-words around the cursor; len 0 when none */
    buf_t line_words; /* ... of the cursor's line and the one before it; len 0 when none */
    bool question;    /* a chat question: its words may name what it asks for */
} features_t;

/* Reads the features of a chat question (query_len > 0) or of the code
 * around a completion's cursor (prefix and suffix; NULL when empty) of the
 * file at path (NULL when unknown: its language is guessed from the code)
 * into *f, which it overwrites (free it with features_free). */
void features_extract(features_t *f, const char *path, const char *query, size_t query_len,
                      const char *prefix, size_t prefix_len, const char *suffix, size_t suffix_len);

/* Frees what *f holds; it reads as empty afterwards. */
void features_free(features_t *f);

/* The strings of one of f's JSON array texts (symbols, hints, words,
 * line_words) as a list borrowed from *holder (cJSON_Delete it, and free
 * the list, after); *n 0 and NULL when there are none. */
const char **features_list(const buf_t *json, cJSON **holder, size_t *n);

/* Writes the header of the retriever's `search` request for f into out
 * (appended): the collection, k and a candidate limit of max(40, 4k), the
 * current file's path (NULL or "": none), and of f only what the signals
 * mask wants (the query text for BM25 and imports, the symbols, the
 * object and its members). */
void features_search_header(const features_t *f, const char *collection, const char *path, int k,
                            unsigned signals, buf_t *out);

#endif
