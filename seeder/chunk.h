/*
 * chunk: one file cut into the pieces that are embedded, indexed and put
 * into prompts.
 *
 * A good chunk is one definition: a function, a class, a method of a big
 * class, with the comments and decorators right above it; the file's
 * preamble (package line, imports) is a chunk of its own, because that is
 * what a completion at the top of a file needs.  The boundaries come from
 * ctags (ctags.h); where ctags gives no end line, a brace-matching scan (for
 * brace languages) or the next definition decides.  A definition longer than
 * max_lines is cut into overlapping windows, and so is every file of a
 * language without tags.  Tiny neighbouring definitions (one-line constants,
 * macros) are packed together so that no chunk is a lone line.
 *
 * Each chunk records what retrieval needs: its line range, its text, the
 * symbols it defines (plain names and `Class.method` qualified forms), the
 * definition it is a part of when it is not whole (so a prompt can say
 * "inside Publish.publish") and the identifiers it uses but does not define
 * (whole identifiers as proto/code/subword.h sees them, outside comments and
 * Python docstrings; keywords and one-letter names left out).
 *
 * Invariants of a chunk_list_t: chunks are in file order (strictly
 * increasing start lines, and so are their end lines);
 * 1 <= start_line <= end_line <= number of lines; no chunk is empty or starts
 * or ends with a blank line; every line that is not blank lies in at least
 * one chunk; chunks overlap only where a long definition or an untagged file
 * was cut into windows; text is exactly the bytes of lines start..end
 * (including the last line's newline if it has one).
 */
#ifndef LCA_SEEDER_CHUNK_H
#define LCA_SEEDER_CHUNK_H

#include <stddef.h>

#include "seeder/ctags.h"
#include "proto/code/lang.h"

typedef enum {
    CHUNK_PREAMBLE = 0, /* what precedes the first definition: package, imports, file comment */
    CHUNK_DEFINITION,   /* one or more whole definitions (with their leading comments) */
    CHUNK_HEADER,       /* the head of a big class or namespace that was split into members */
    CHUNK_CODE,         /* top-level statements between definitions */
    CHUNK_WINDOW,       /* a window of a long definition or of an untagged file */
} chunk_kind_t;

typedef struct {
    int max_lines;      /* longer definitions are split (default 120) */
    int window_lines;   /* window size (default 40) */
    int window_overlap; /* lines shared by consecutive windows (default 10) */
    int small_lines;    /* definitions shorter than this are packed with neighbours (default 3) */
} chunk_options_t;

typedef struct {
    int start_line; /* 1-based, inclusive */
    int end_line;   /* 1-based, inclusive */
    chunk_kind_t kind;
    const char *text; /* the bytes of the lines, not NUL-terminated */
    size_t text_len;
    const char *const *symbols; /* defined here: `name` and `Scope.name`, distinct */
    size_t symbol_count;
    const char *const *identifiers; /* used here but not defined here; distinct, sorted */
    size_t identifier_count;
    const char *context; /* the definition this chunk is a part of ("Publish.publish" for the
                            windows of a long method, "Inventory" for the methods of a class
                            split up), or NULL for whole top-level chunks */
} chunk_t;

typedef struct chunk_list chunk_list_t;

/* The defaults above. */
void chunk_options_default(chunk_options_t *options);

/* Short name of a kind: "preamble", "definition", "header", "code", "window". */
const char *chunk_kind_name(chunk_kind_t kind);

/* Splits data[0..len) (the file's bytes; need not be NUL-terminated) in
 * language lang using its tags (from ctags; any order, may be NULL when
 * n_tags is 0; tags of other paths must not be passed).  options may be NULL
 * for the defaults; nonsensical option values are replaced by defaults.
 * Tags that point past the end of the file, or whose name is not on their
 * line, are ignored, so stale tags (ctags read the file at another moment)
 * cannot make a bad chunk nor name a symbol the file does not define.  On success returns 0 and
 * sets *out (caller frees with chunk_list_destroy(); it copies everything it needs from data and
 * tags). A file with nothing but blank lines gives an empty list.  Returns -ENOMEM (with *out NULL)
 * when out of memory. */
int chunk_split_file(const char *data, size_t len, lang_id_t lang, const ctags_tag_t *tags,
                     size_t n_tags, const chunk_options_t *options, chunk_list_t **out);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void chunk_list_destroy(chunk_list_t **self_p);

/* Number of chunks. */
size_t chunk_list_count(const chunk_list_t *self);

/* Chunk i, borrowed from self; NULL when out of range. */
const chunk_t *chunk_list_get(const chunk_list_t *self, size_t index);

#endif
