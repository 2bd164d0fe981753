/*
 * subword: identifiers in source text and the lower-case sub-words they are
 * made of.
 *
 * Every part of lca that looks at code lexically speaks this one vocabulary:
 * the seeder records the identifiers a chunk uses, the retriever indexes the
 * sub-words in sqlite FTS5 for BM25, the gateway builds queries from the code
 * around the cursor and the built-in embedder hashes them.  If two of them
 * split `HTTPServerError` differently, lexical retrieval silently degrades,
 * so the rules live here and nowhere else.
 *
 * An identifier is a run that starts with an ASCII letter, `_`, `$` or a
 * non-ASCII letter and continues with those or ASCII digits.  Runs that
 * start with a digit are numbers (`0x1F`, `1e9`, `64u`) and are skipped
 * whole.  Non-ASCII code points count as letters unless they are obvious
 * punctuation or symbols (general punctuation, arrows, maths, box drawing,
 * CJK punctuation, emoji, ...); they are kept as they are (only ASCII is
 * case-folded).  Invalid UTF-8 bytes end an identifier and are otherwise
 * ignored: no input crashes the scanner or makes it read out of bounds.
 *
 * Each identifier yields:
 *   - one WHOLE token: the identifier lower-cased with `_` and `$` removed,
 *     so `getUserName`, `get_user_name` and `GET_USER_NAME` all give
 *     `getusername` (style-insensitive exact match);
 *   - when it has more than one part, one PART token per sub-word, split at
 *     `_`/`$`, at lower->upper changes (camelCase), before the last capital
 *     of a run of capitals followed by a lower-case letter (acronyms:
 *     `HTTPServerError` -> http server error) and between digits and
 *     letters (`parseJSON2Text` -> parse json 2 text, `int64_t` -> int 64 t).
 * Identifiers made only of `_`/`$` yield nothing.  Identifiers longer than
 * SUBWORD_IDENT_MAX bytes are data (base64, hashes, minified code), not
 * names, and are skipped.
 *
 * Tokens contain only [a-z0-9] and non-ASCII UTF-8 letters: never spaces,
 * quotes or FTS5 operators, so they can be joined with spaces and handed to
 * FTS5 as they are.
 *
 * The hot path allocates nothing: tokens are built in a buffer on the stack
 * and handed to a callback, valid only for the duration of the call.
 */
#ifndef LCA_CODE_SUBWORD_H
#define LCA_CODE_SUBWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Longest identifier (in bytes) that is still treated as a name. */
#define SUBWORD_IDENT_MAX 128

/* Most parts an identifier is split into; the rest of a longer one is one part. */
#define SUBWORD_PARTS_MAX 32

/* What subword_scan() emits and drops. */
enum {
    SUBWORD_WHOLE = 1 << 0,         /* emit the WHOLE token of each identifier */
    SUBWORD_PARTS = 1 << 1,         /* emit the PART tokens of multi-part identifiers */
    SUBWORD_SKIP_KEYWORDS = 1 << 2, /* drop identifiers that are language keywords */
    SUBWORD_SKIP_SINGLE = 1 << 3,   /* drop tokens one byte long (`i`, `x`, the `t` of int64_t) */
    SUBWORD_UNIQUE = 1 << 4,        /* emit each distinct token once, where it first occurs */
};

/* The default: every whole identifier and its parts. */
#define SUBWORD_DEFAULT (SUBWORD_WHOLE | SUBWORD_PARTS)

typedef enum {
    SUBWORD_KIND_WHOLE = 1, /* the whole identifier, folded */
    SUBWORD_KIND_PART = 2,  /* one sub-word of a multi-part identifier */
} subword_kind_t;

/* One token, as handed to a subword_fn.  Every pointer is borrowed and valid
 * only during the callback. */
typedef struct {
    const char *text;    /* lower-case token, NUL-terminated */
    size_t len;          /* strlen(text), >= 1 */
    subword_kind_t kind; /* WHOLE or PART */
    unsigned part;       /* index of a PART within its identifier (0 for WHOLE) */
    unsigned parts;      /* number of parts of the identifier (1 = single word) */
    bool keyword;        /* the identifier is a language keyword (see subword_is_keyword) */
    const char *ident;   /* the identifier as written in the input */
    size_t ident_len;    /* its length in bytes */
} subword_token_t;

/* Called for each token; a non-zero return stops the scan and becomes the
 * return value of subword_scan(). */
typedef int (*subword_fn)(const subword_token_t *token, void *arg);

/*
 * Scans text[0..len) and calls fn for each token, in order of appearance:
 * for one identifier its WHOLE token first, then its PARTs left to right,
 * as selected by flags (SUBWORD_* bits; 0 means SUBWORD_DEFAULT).  text need
 * not be NUL-terminated and may hold any bytes.  Returns 0 when the text is
 * done, the callback's non-zero value if it stopped the scan, -EINVAL if fn
 * is NULL or text is NULL with len > 0, or -ENOMEM (SUBWORD_UNIQUE only: it
 * keeps a set of the tokens seen, one heap table per call).
 */
int subword_scan(const char *text, size_t len, unsigned flags, subword_fn fn, void *arg);

/*
 * Splits one identifier into parts without allocating.  ident[0..len) is
 * taken as one identifier: ASCII characters that cannot be part of one act
 * like `_`, non-ASCII bytes count as lower-case letters.  Stores up to max parts as (offset,
 * length) pairs into ident in offsets[]/lengths[] and returns the number of parts (0 if none), or
 * -EINVAL on NULL arguments.  Parts keep their original case; a part beyond
 * max-1 absorbs the rest of the identifier.
 */
int subword_split(const char *ident, size_t len, size_t *offsets, size_t *lengths, size_t max);

/*
 * The share of name's sub-words (of 3 bytes or more; see subword_split)
 * that one of words[0..count) holds, compared in lower case: as written,
 * or when near, also where one is a prefix of the other and they share 4
 * bytes or more (`conn` of `connection`).  words are lower-case sub-words
 * (subword_scan's tokens).  0 when name has no such sub-word.
 */
double subword_share(const char *const *words, size_t count, bool near, const char *name);

/*
 * A test's name after its first sub-word `test`, in any case (`grid_2d_graph`
 * of `test_grid_2d_graph`, `ReadUint16` of `TestReadUint16`), or NULL when
 * it has no such first sub-word or nothing after it.
 */
const char *subword_after_test(const char *ident);

/*
 * When name, folded (lower case, only its letters and digits), is a run of
 * whole's sub-words folded alike, the share of whole it makes up (a first
 * sub-word `test` left out of whole): 1 for `grid_2d_graph` in
 * `test_grid_2d_graph` and `MultiDiGraph` in `TestMultiDiGraph`, 7/11 for
 * `getType` in `getTypeNode`.  0 for `set_level` in `reset_level`, `split`
 * in `clone_splitter`, and a name that folds to fewer than 4 bytes.
 */
double subword_spelled(const char *whole, const char *name);

/*
 * True if word[0..len) is a keyword, literal, primitive type or receiver
 * name of C/C++, Python, JavaScript/TypeScript, Go, Java or Rust (`if`,
 * `def`, `func`, `const`, `return`, `import`, `None`, `NULL`, `self`,
 * `this`, `int64_t`, `usize`, ...) or one of a few names as ubiquitous
 * (`err`, `std`, `len`): words that say little about what code is about.
 * The test is case-sensitive as the languages are; the folded form of each
 * keyword (lower case, no `_`) is included too, so the WHOLE token of
 * subword_scan() can be tested as well as the identifier as written.
 */
bool subword_is_keyword(const char *word, size_t len);

/*
 * The stem of an English word as a question writes it, for matching it
 * against the sub-words of names: word[0..len) lower-case ASCII, its
 * inflection taken off (`reads` read, `copies` copy, `matches` match,
 * `returning` return, `created` creat, `stopped` stop).  Words of 3 bytes
 * or fewer, and `-ss`, `-us`, `-is` words, are their own stem.  Writes
 * the stem into out (NUL-terminated, at most len bytes) and returns its
 * length; 0 when len > SUBWORD_IDENT_MAX.
 */
size_t subword_stem(const char *word, size_t len, char out[SUBWORD_IDENT_MAX + 1]);

/*
 * Renders the tokens of text[0..len) (see subword_scan; flags 0 means
 * SUBWORD_DEFAULT) as one line of space-separated tokens, as an FTS5 column
 * wants it, into out[0..cap), NUL-terminated.  *out_len (if not NULL)
 * receives the length written.  Returns 0, -ENOSPC if the tokens did not
 * all fit (out then holds the tokens that did, whole tokens only, still
 * NUL-terminated), -EINVAL on bad arguments (out NULL or cap 0), or -ENOMEM
 * (SUBWORD_UNIQUE only).  With SUBWORD_UNIQUE | SUBWORD_SKIP_KEYWORDS it
 * also makes the term list of a query from the code around a cursor.
 */
int subword_render(const char *text, size_t len, unsigned flags, char *out, size_t cap,
                   size_t *out_len);

/*
 * As subword_render() but into a new heap string that the caller frees.
 * Returns NULL on allocation failure (or text NULL with len > 0).
 */
char *subword_render_new(const char *text, size_t len, unsigned flags, size_t *out_len);

#endif
