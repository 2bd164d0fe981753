/*
 * search: the candidates one shard offers for a query, with every signal
 * the gateway fuses.
 *
 * A query names the current file, free text (the code around the cursor or
 * a question), the identifiers used near the cursor, the name before the
 * cursor's dot and optionally a query vector.  Each signal picks its own
 * candidates from the shard:
 *
 *   dense   the best `limit` chunks by dot product with the vector (int8
 *           scan re-scored in float32, or float32), scanned on a thread of
 *           its own while the other signals run;
 *   bm25    the best `limit` chunks by FTS5 BM25 over sub-word tokens, the
 *           query reduced to its informative terms: the rarest first (at
 *           most 16, in at most 2000 chunks together); a sub-word found in
 *           more chunks than that has an idf near zero and would make FTS5
 *           score most of the shard;
 *   symbol  the chunks that define one of the identifiers (value: how many),
 *           at most 12 per identifier and 4 * limit in all;
 *   import  chunks of files the current file imports (1) or that those
 *           import (2), the best `limit` by token overlap with the query
 *           (level-2 overlap counts half; at most 128 chunks are read);
 *   object  chunks of imported files whose stem (or directory, for Go and
 *           Java packages) is the object, and chunks defining the object or
 *           members of it;
 *   member  when the cursor follows `x.` and the gateway knows what x is:
 *           the chunks defining x's members — the top-level definitions of
 *           the module x names (found among the files the current file
 *           imports, else by the specifier's path; through a package's
 *           __init__/index/mod to the files it imports), or the members of
 *           x's class and its bases — each with how often the repository
 *           reaches that member (`member_uses`: the reference index, for a
 *           module; how often any receiver reaches a member of that name,
 *           for a class), how often the files of the current file's
 *           directory reach it (`member_near`), whether the code after the
 *           cursor names it (`member_hint`), which share of its name's
 *           sub-words the code around the cursor uses (`member_words`) and
 *           the cursor's own line and the one before it (`member_line`, a
 *           word there that starts the same 4 letters as the sub-word
 *           counting: `params` for `Parameters`), which share of the
 *           sub-words of the names in its parameter list those two lines
 *           use (`member_params`: `self.⟨(err, dbapi_connection)` for
 *           is_disconnect(self, e, connection)), and
 *           whether it starts with what is typed (`member_partial`, -1 when
 *           it does not); a member of the receiver's own class says where
 *           it is defined (`member_here`: 2 in the module the cursor names
 *           the class from, 1 in the current file's directory);
 *   owner   when a bare name is followed by a member (`⟨.constructObject(`,
 *           `⟨::new(`): the chunks defining a class (a scope) that defines a
 *           member of that name, valued 1 (none when more than OWNER_SCOPES
 *           classes have one: a member every class has says nothing; a
 *           value split among the classes would differ from shard to shard,
 *           each seeing only its own files' classes);
 *   name    for a question in words: the chunks whose defined names are
 *           made of the question's words ("Reads a symbolic link" asks for
 *           `read_link`).  Candidates come from FTS5 over the names'
 *           sub-words only, the question's words taken with their stems
 *           (subword_stem), the index's words that extend a stem (`creat`:
 *           `create`) and those a word extends (`uninit` of
 *           `uninitialized`), rarest first as for bm25; the value, for
 *           every candidate, is the best share of one defined name's
 *           sub-words that a word of the question matches (equal, by stem,
 *           or one a prefix of the other of 4 letters or more);
 *
 * and the answer is the union, each candidate carrying the value of every
 * signal (0 where it has none; `dense` is the exact score whenever a vector
 * was sent), plus `uses` (how many chunks of the shard use a symbol it
 * defines) and `imported_by` (how many files import its file).  Chunks of
 * the current file are never returned.  The list is ordered by
 * equal-weight reciprocal-rank fusion of the ranked signals, a sensible
 * default only: the gateway re-fuses across shards with measured weights.
 */
#ifndef LCA_RETRIEVER_SEARCH_H
#define LCA_RETRIEVER_SEARCH_H

#include "proto/base/buf.h"
#include "retriever/store.h"
#include "retriever/vectors.h"

#include <stdbool.h>
#include <stddef.h>

/* What the cursor follows, when it follows `x.` (proto/code/cursor.h says
 * how the gateway reads it): the members of x are the candidates. */
typedef enum {
    SEARCH_MEMBER_NONE = 0,
    SEARCH_MEMBER_MODULE, /* x is a module: `module` (as written), maybe `member_of` inside it */
    SEARCH_MEMBER_CLASS,  /* x is an object or a class: members of `type` and its `bases` */
} search_member_kind_t;

typedef struct {
    search_member_kind_t kind;
    const char *module; /* MODULE: the import's specifier; CLASS: where type came from, or NULL */
    const char *member_of;    /* MODULE: x was imported by this name from inside module, or NULL */
    const char *type;         /* CLASS: the class (a guess when call is set); NULL otherwise */
    const char *call;         /* CLASS: the value is what this function returns; NULL */
    const char *const *bases; /* CLASS: its bases, nearest first */
    size_t base_count;
    const char *partial;      /* the member typed so far, or NULL */
    const char *after;        /* a type's place: the keyword before it, or NULL (ops.h) */
    const char *const *hints; /* identifiers the code after the cursor uses (folded) */
    size_t hint_count;
    const char *const *words; /* sub-words of the identifiers around the cursor (folded) */
    size_t word_count;
    const char *const *line_words; /* ... of the cursor's line and the one before it */
    size_t line_word_count;
    const char *within;   /* MODULE: the function the cursor is in, or NULL */
    const char *declared; /* MODULE: outside any, the name the cursor's statement sets, or NULL */
} search_member_t;

typedef struct {
    const char *collection;
    size_t limit;      /* candidates per ranked signal, >= 1 */
    const char *path;  /* the current file, or NULL */
    const char *query; /* free text, or NULL */
    size_t query_len;
    const char *const *symbols; /* identifiers near the cursor */
    size_t symbol_count;
    const char *object;         /* the name before the cursor's dot, or NULL */
    const char *owner;          /* a bare name: the member written right after it, or NULL */
    const char *const *slot;    /* b3 b2 b1 a1 a2 around the name (lexeme.h), or NULL */
    const char *const *anchors; /* identifiers near the slot, nearest first */
    size_t anchor_count;
    bool question;       /* query is a question in words: the name signal runs */
    vectors_mode_t mode; /* dense scan: VECTORS_I8 or VECTORS_F32 */
    const void *vector;  /* dim little-endian float32, or NULL */
    size_t vector_bytes;
    int threads; /* scan threads for the dense signal */
    search_member_t member;
} search_query_t;

/* Runs the query on the store and appends {"chunks":[...]} to out (format
 * in retriever/main.c); *count receives the number of chunks.  Returns 0,
 * -EINVAL for a bad query (vector of the wrong size or non-finite), -ENOENT
 * for an unknown collection, or another negative errno; the message is in
 * err. */
int search_run(store_t *store, const search_query_t *query, buf_t *out, size_t *count, char *err,
               size_t err_len);

#endif
