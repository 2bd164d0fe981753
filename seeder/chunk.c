/*
 * chunk: from lines and tags to chunks, in four passes.
 *
 * 1. Definitions.  Every tag of a boundary kind (function, class, method,
 *    struct, impl, ...; variables and fields only when they span several
 *    lines) becomes a definition with a line range.  Where ctags gives no end
 *    line, a scan that matches braces (skipping strings and comments) finds
 *    it in brace languages; elsewhere the next tag of the same scope does.
 *    Definitions are nested by range into a forest: a range that starts
 *    inside another is its child (clamped to its parent if it overhangs).
 * 2. Pieces.  Each level of the forest is laid out in order: the lines
 *    before a definition that are comments, decorators or attributes go with
 *    it; other lines between definitions go with the definition before them
 *    when they are few, else become a chunk of their own; what precedes the
 *    first definition is the preamble (or, inside a class, its header).  A
 *    definition longer than max_lines with nested definitions is laid out
 *    again at the next level (methods out of a big class); one without is
 *    cut into windows, as is any piece too long.
 * 3. Packing.  Neighbouring chunks where one is shorter than small_lines are
 *    merged while the result fits in a window (a class header with its first
 *    member: in max_lines), so a run of one-line constants becomes one
 *    chunk, not twenty.
 * 4. Contents.  Text, symbols (each tag goes to the first chunk that holds
 *    its line) and identifiers (proto/code/subword's scanner over the text with
 *    comments blanked out; keywords, one-letter names and the chunk's own
 *    symbols dropped).
 *
 * Every string a chunk_list_t hands out lives in its arena and its copy of
 * the file, freed together.
 */
#include "seeder/chunk.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/code/ident.h"
#include "proto/code/subword.h"

/* The most lines one decorator or attribute above a definition spans. */
#define LEAD_SPAN_MAX 40

typedef struct chunk_block {
    struct chunk_block *next;
    size_t used;
    size_t size;
    alignas(max_align_t) char data[];
} chunk_block_t;

struct chunk_list {
    char *data; /* copy of the file; chunk texts point into it */
    chunk_t *chunks;
    size_t count;
    chunk_block_t *blocks; /* symbol and identifier strings and arrays */
};

/* A definition during layout. */
typedef struct {
    int start, end;   /* line range, 1-based, inclusive */
    int first_child;  /* index into defs, or -1 */
    int next_sibling; /* index into defs, or -1 */
    int tag;          /* index of its tag */
    int body;         /* overloads: the line that declares the body, else 0 */
} chunk_def_t;

/* A chunk before its contents are filled in. */
typedef struct {
    int start, end;
    chunk_kind_t kind;
    int context; /* tag of the definition the span is a part of, or -1 */
} chunk_span_t;

typedef struct {
    const char *data;
    size_t len;
    const lang_t *lang;
    chunk_options_t options;
    int line_count;
    size_t *line_at;   /* line_at[i] = offset of line i (1-based); [line_count + 1] = len */
    bool *blank;       /* blank[i]: line i holds only whitespace */
    chunk_def_t *defs; /* sorted by (start, -end) */
    int *name_line;    /* per tag: the line whose chunk gets its name */
    int def_count;
    chunk_span_t *spans;
    size_t span_count, span_capacity;
    bool failed; /* out of memory somewhere */
} chunk_builder_t;

void chunk_options_default(chunk_options_t *options) {
    options->max_lines = 120;
    options->window_lines = 40;
    options->window_overlap = 10;
    options->small_lines = 3;
}

const char *chunk_kind_name(chunk_kind_t kind) {
    switch (kind) {
    case CHUNK_PREAMBLE:
        return "preamble";
    case CHUNK_DEFINITION:
        return "definition";
    case CHUNK_HEADER:
        return "header";
    case CHUNK_CODE:
        return "code";
    case CHUNK_WINDOW:
        return "window";
    }
    return "unknown";
}

/* ---- arena ---------------------------------------------------------------- */

static void *chunk_alloc(chunk_list_t *self, size_t size) {
    size = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    chunk_block_t *b = self->blocks;
    if (!b || b->size - b->used < size) {
        /* Blocks double from 1 KiB to 32 KiB: the seeder holds thousands of
         * lists at once, and a small file's names fill far less than one
         * 32 KiB block (the first block was that size once, 32 KiB a file). */
        size_t grow = b ? (b->size < 32768 ? b->size * 2 : 32768) : 1024;
        size_t block_size = size > grow ? size : grow;
        b = malloc(sizeof *b + block_size);
        if (!b)
            return NULL;
        b->next = self->blocks;
        b->used = 0;
        b->size = block_size;
        self->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

static char *chunk_strndup(chunk_list_t *self, const char *s, size_t len) {
    char *copy = chunk_alloc(self, len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

/* ---- kinds ----------------------------------------------------------------- */

static bool chunk_kind_in(const char *kind, const char *const *list) {
    for (; *list; list++)
        if (strcmp(kind, *list) == 0)
            return true;
    return false;
}

/* Kinds that always delimit a chunk. */
static const char *const chunk_boundary_kinds[] = {
    "function",   "func",          "method",     "class",          "struct",      "interface",
    "enum",       "union",         "trait",      "implementation", "module",      "namespace",
    "type",       "record",        "object",     "protocol",       "constructor", "singletonMethod",
    "procedure",  "subroutine",    "getter",     "setter",         "chapter",     "section",
    "subsection", "subsubsection", "annotation", "macro",          "generator",   NULL,
};

/* Kinds that delimit a chunk only when they span several lines (a method in
 * Python is a "member"; an arrow function is a "constant"). */
static const char *const chunk_multiline_kinds[] = {
    "member", "field",   "property", "variable", "constant", "var",
    "const",  "typedef", "alias",    "object",   NULL,
};

/* Kinds that are not definitions at all. */
static const char *const chunk_ignored_kinds[] = {
    "local", "parameter", "label",  "package", "packageName",
    "file",  "import",    "header", "unknown", NULL,
};

/* Variables inside a function are locals, not symbols anyone looks up. */
static const char *const chunk_local_scopes[] = {
    "function", "method", "func", "getter", "setter", "constructor", NULL,
};
static const char *const chunk_variable_kinds[] = {
    "variable", "constant", "var", "const", "let", "local", NULL,
};

/* The bytes of tag's line, its newline included: [return, *end). */
static const char *chunk_tag_line(const chunk_builder_t *b, const ctags_tag_t *tag,
                                  const char **end) {
    *end = b->data + b->line_at[tag->line + 1];
    return b->data + b->line_at[tag->line];
}

/* The first occurrence of word (n bytes) that lies before limit in the line
 * [line, end) and is a whole word of that line, or NULL. */
static const char *chunk_word_on_line(const char *line, const char *end, const char *limit,
                                      const char *word, size_t n) {
    for (const char *p = line; (p = memmem(p, (size_t)(limit - p), word, n)) != NULL; p++)
        if (ident_is_whole_word(line, (size_t)(end - line), (size_t)(p - line), n))
            return p;
    return NULL;
}

/* Whether a Python variable's line binds it to None (`config = None`,
 * `x: Optional[int] = None  # set later`): at a module's top level, a
 * placeholder that a later `global` or import fills, not the definition a
 * reader of the name wants.  (A class's `name = None` is a member: kept.) */
static bool chunk_python_placeholder(const chunk_builder_t *b, const ctags_tag_t *tag) {
    const char *end, *p = chunk_tag_line(b, tag, &end);
    size_t n = strlen(tag->name);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < n || memcmp(p, tag->name, n) != 0)
        return false;
    p += n;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p == ':') /* an annotation, up to its `=` */
        while (p < end && *p != '=' && *p != '\n')
            p++;
    if (p >= end || *p != '=' || (p + 1 < end && p[1] == '='))
        return false;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 4 || memcmp(p, "None", 4) != 0)
        return false;
    p += 4;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end || *p == '\n' || *p == '#';
}

/* Whether a TypeScript variable's line declares its name: `const`, `let`
 * or `var` before it, or the name first on the line (after `{`, `,` or an
 * object's `x.`) with `=`, `:`, `,`, `;`, `}`, `)` or nothing after it.
 * ctags 5.9 also takes names out of a typed constant's call signatures
 * (`<A>(f: (a: A) => A) => ...`, `Predicate<{ ... }> :`) and out of computed
 * keys (`[TypeId]: TypeId`), none of which defines the name. */
static bool chunk_ts_declared(const chunk_builder_t *b, const ctags_tag_t *tag) {
    const char *end, *line = chunk_tag_line(b, tag, &end);
    size_t n = strlen(tag->name);
    const char *p = chunk_word_on_line(line, end, end, tag->name, n);
    if (!p)
        return false;
    static const char *const keywords[] = {"const", "let", "var"};
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
        if (chunk_word_on_line(line, end, p, keywords[k], strlen(keywords[k])))
            return true;
    const char *q = line;
    while (q < p && *q && strchr(" \t{,", *q))
        q++;
    while (q < p) { /* `x.` steps of a member's owner */
        const char *word = q;
        while (q < p && ident_ascii_char((unsigned char)*q))
            q++;
        if (q == word || q == p || *q != '.')
            return false;
        q++;
    }
    for (q = p + n; q < end && (*q == ' ' || *q == '\t' || *q == '?' || *q == '!'); q++)
        ;
    if (q == end || *q == '\n' || *q == '\r')
        return true;
    if (*q == '=')
        return !(q + 1 < end && (q[1] == '=' || q[1] == '>'));
    return *q && strchr(":,;})", *q) != NULL;
}

/* Whether the statement at tag's line binds its name to a module:
 * `x = require("x")`, `x = await import("x")` (and a member of one,
 * `require("x").y`). */
static bool chunk_binds_require(const chunk_builder_t *b, const ctags_tag_t *tag) {
    const char *end, *line = chunk_tag_line(b, tag, &end);
    const char *p = memmem(line, (size_t)(end - line), tag->name, strlen(tag->name));
    if (!p)
        return false;
    p = memchr(p, '=', (size_t)(end - p));
    if (!p || (p + 1 < end && (p[1] == '=' || p[1] == '>')))
        return false;
    for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
        ;
    if (end - p > 6 && !memcmp(p, "await ", 6))
        for (p += 6; p < end && *p == ' '; p++)
            ;
    return (end - p > 8 && !memcmp(p, "require(", 8)) || (end - p > 7 && !memcmp(p, "import(", 7));
}

/* Whether a TypeScript alias tag's line goes on after its name with `=`
 * or `<` (`type A<T> = ...`, `type B<\n`), as a definition does. */
static bool chunk_alias_defined(const chunk_builder_t *b, const ctags_tag_t *tag) {
    const char *end, *line = chunk_tag_line(b, tag, &end);
    size_t n = strlen(tag->name);
    const char *q = chunk_word_on_line(line, end, end, tag->name, n);
    if (!q)
        return false;
    for (q += n; q < end && (*q == ' ' || *q == '\t'); q++)
        ;
    return q < end && (*q == '=' || *q == '<');
}

/* Whether tag names a definition of these bytes.  ctags read the file by
 * its name, at another moment than the bytes chunked here were read: a tag
 * whose name is not on its line is about other bytes (a file edited, or
 * swapped for another, in between), and is left out rather than put a name
 * into the index that the file does not hold. */
static bool chunk_is_symbol_tag(const chunk_builder_t *b, const ctags_tag_t *tag) {
    lang_id_t lang = b->lang->id;
    if (!tag->name || !tag->name[0] || strncmp(tag->name, "__anon", 6) == 0 ||
        strncmp(tag->name, "AnonymousFunction", 17) == 0)
        return false;
    if (tag->line < 1 || tag->line > b->line_count)
        return false;
    const char *end, *line = chunk_tag_line(b, tag, &end);
    size_t line_len = (size_t)(end - line);
    if (!memmem(line, line_len, tag->name, strlen(tag->name)))
        return false;
    if (!tag->kind)
        return true;
    if (chunk_kind_in(tag->kind, chunk_ignored_kinds))
        return false;
    /* Python's "namespace" tags are `import x as y` aliases, not definitions. */
    if (lang == LANG_PYTHON && strcmp(tag->kind, "namespace") == 0)
        return false;
    /* Rust's `mod x;` declares a module whose definitions live in its own
     * file: the line names it, it defines nothing to look up here. */
    if (lang == LANG_RUST && strcmp(tag->kind, "module") == 0) {
        if (memchr(line, ';', line_len) && !memchr(line, '{', line_len))
            return false;
    }
    if (tag->scope_kind && chunk_kind_in(tag->scope_kind, chunk_local_scopes) &&
        chunk_kind_in(tag->kind, chunk_variable_kinds))
        return false;
    if (lang == LANG_PYTHON && !tag->scope && chunk_kind_in(tag->kind, chunk_variable_kinds) &&
        chunk_python_placeholder(b, tag))
        return false;
    /* `const x = require("x")` binds what another file defines: an import
     * by another name, as Python's `import x as y` is. */
    if ((lang == LANG_JAVASCRIPT || lang == LANG_TYPESCRIPT) &&
        chunk_kind_in(tag->kind, chunk_variable_kinds) && chunk_binds_require(b, tag))
        return false;
    if (lang == LANG_TYPESCRIPT && chunk_kind_in(tag->kind, chunk_variable_kinds) &&
        !chunk_ts_declared(b, tag))
        return false;
    /* ctags takes `import { type X } from "./x"` for a type alias X: one
     * has `=` (or its generics' `<`) after the name. */
    if (lang == LANG_TYPESCRIPT && !strcmp(tag->kind, "alias") && !chunk_alias_defined(b, tag))
        return false;
    return true;
}

/* ---- lines ----------------------------------------------------------------- */

static int chunk_index_lines(chunk_builder_t *b) {
    int count = 0;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] == '\n')
            count++;
    if (b->len > 0 && b->data[b->len - 1] != '\n')
        count++;
    b->line_count = count;
    b->line_at = malloc(((size_t)count + 2) * sizeof *b->line_at);
    b->blank = malloc(((size_t)count + 2) * sizeof *b->blank);
    if (!b->line_at || !b->blank)
        return -ENOMEM;
    int line = 1;
    b->line_at[1] = 0;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] == '\n' && line <= count)
            b->line_at[++line] = i + 1;
    b->line_at[count + 1] = b->len;
    for (int l = 1; l <= count; l++) {
        bool blank = true;
        for (size_t i = b->line_at[l]; i < b->line_at[l + 1] && blank; i++) {
            char c = b->data[i];
            blank = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
        }
        b->blank[l] = blank;
    }
    return 0;
}

/* Whether line l (trimmed) is a comment, a decorator or an attribute: lines
 * that belong to the definition below them. */
static bool chunk_is_lead_line(const chunk_builder_t *b, int l) {
    size_t i = b->line_at[l], end = b->line_at[l + 1];
    while (i < end && (b->data[i] == ' ' || b->data[i] == '\t'))
        i++;
    const char *s = b->data + i;
    size_t n = end - i;
    const char *comment = b->lang->line_comment;
    if (comment && n >= strlen(comment) && memcmp(s, comment, strlen(comment)) == 0)
        return true;
    if (n >= 2 && ((s[0] == '/' && s[1] == '*') || (s[0] == '*' && s[1] == '/') ||
                   (s[0] == '#' && s[1] == '[')))
        return true;
    if (n >= 1 && (s[0] == '@' || (s[0] == '*' && b->lang->braces)))
        return true;
    return false;
}

/* How many more brackets line l closes than it opens (quoted text skipped). */
static int chunk_bracket_balance(const chunk_builder_t *b, int l) {
    const char *d = b->data;
    size_t i = b->line_at[l], end = b->line_at[l + 1];
    int balance = 0;
    for (; i < end; i++) {
        char c = d[i];
        if (c == '"' || c == '\'') {
            while (++i < end && d[i] != c)
                i += d[i] == '\\';
            continue;
        }
        balance += (c == ')' || c == ']' || c == '}') - (c == '(' || c == '[' || c == '{');
    }
    return balance;
}

/* The first line of the comments, decorators and attributes that lead the
 * definition starting at line `start`, no higher than `floor`.  A decorator
 * may span lines (`@deprecated(\n  "...",\n)`, `#[cfg(any(\n ...))]`): a line
 * that closes brackets an earlier decorator line opened belongs to it. */
static int chunk_lead_start(const chunk_builder_t *b, int start, int floor) {
    int lead = start;
    while (lead - 1 >= floor) {
        if (chunk_is_lead_line(b, lead - 1)) {
            lead--;
            continue;
        }
        int depth = chunk_bracket_balance(b, lead - 1), open = lead - 1;
        while (depth > 0 && open - 1 >= floor && lead - open < LEAD_SPAN_MAX)
            depth += chunk_bracket_balance(b, --open);
        if (depth > 0 || open == lead - 1 || !chunk_is_lead_line(b, open))
            break;
        lead = open;
    }
    return lead;
}

/* ---- definitions ----------------------------------------------------------- */

/* Skips a string or comment starting at data[*i]; returns true if one was
 * skipped (then *i is just past it and *line counts its newlines). */
static bool chunk_skip_literal(const chunk_builder_t *b, size_t *i, int *line) {
    const char *d = b->data;
    size_t n = b->len, at = *i;
    char c = d[at];
    const char *comment = b->lang->line_comment;
    size_t comment_len = comment ? strlen(comment) : 0;
    if (comment && n - at >= comment_len && memcmp(d + at, comment, comment_len) == 0) {
        while (at < n && d[at] != '\n')
            at++;
        *i = at;
        return true;
    }
    if (c == '/' && at + 1 < n && d[at + 1] == '*') {
        at += 2;
        while (at + 1 < n && !(d[at] == '*' && d[at + 1] == '/'))
            *line += d[at++] == '\n';
        *i = at + 2 <= n ? at + 2 : n;
        return true;
    }
    if (c == '\'' && b->lang->char_quotes) {
        /* 'x', '\n', '\u{1F600}'; otherwise a lifetime or an apostrophe. */
        if (at + 2 < n && d[at + 1] != '\\' && d[at + 2] == '\'') {
            *i = at + 3;
            return true;
        }
        if (at + 1 < n && d[at + 1] == '\\') {
            for (size_t k = at + 2; k < n && k < at + 14 && d[k] != '\n'; k++)
                if (d[k] == '\'' && d[k - 1] != '\\') {
                    *i = k + 1;
                    return true;
                }
        }
        *i = at + 1;
        return true;
    }
    if (c == '"' || c == '`' || (c == '\'' && !b->lang->char_quotes)) {
        at++;
        while (at < n && d[at] != c) {
            if (d[at] == '\\' && at + 1 < n)
                at++;
            else if (d[at] == '\n') {
                if (c != '`')
                    break; /* unterminated: give up at the line end */
                (*line)++;
            }
            at++;
        }
        *i = at < n && d[at] == c ? at + 1 : at;
        return true;
    }
    return false;
}

/* The end line of a brace-language definition that starts on line `line`,
 * found by matching braces; limit bounds the search.  0 when not found.
 * *bodiless: it ended at a `;` before any brace (a signature).  Before the
 * body, brackets nest and so, in TypeScript, do a type's `<...>` (a `<`
 * right after a name) and the braces of an object type inside them
 * (`): Observable<{ [K in keyof T]: T[K] }>;` is a signature, not a body). */
static int chunk_match_braces(const chunk_builder_t *b, int line, int limit, bool *bodiless) {
    *bodiless = false;
    size_t i = b->line_at[line], stop = b->line_at[limit + 1];
    int depth = 0, paren = 0, current = line;
    bool newline_ends = b->lang->id == LANG_GO || b->lang->id == LANG_KOTLIN ||
                        b->lang->id == LANG_SWIFT || b->lang->id == LANG_SCALA;
    bool angles = b->lang->id == LANG_TYPESCRIPT;
    while (i < stop) {
        char c = b->data[i];
        if (chunk_skip_literal(b, &i, &current))
            continue;
        if (c == '\n') {
            if (depth == 0 && paren == 0 && newline_ends)
                return current;
            current++;
        } else if (depth == 0) {
            /* a type's `<` follows its name (`Array<`); `a < b` compares */
            bool generic = c == '<' && i > 0 && ident_ascii_char((unsigned char)b->data[i - 1]);
            bool arrow = c == '>' && i > 0 && b->data[i - 1] == '=';
            if (c == '(' || c == '[' || (angles && (generic || (c == '{' && paren > 0))))
                paren++;
            else if ((c == ')' || c == ']' || (angles && ((c == '>' && !arrow) || c == '}'))) &&
                     paren > 0)
                paren--;
            else if (paren == 0 && c == ';') {
                *bodiless = true;
                return current;
            } else if (paren == 0 && c == '{')
                depth = 1;
            else if (paren == 0 && c == '}')
                return current > line ? current - 1 : line;
        } else if (c == '{') {
            depth++;
        } else if (c == '}') {
            if (--depth == 0)
                return current;
        }
        i++;
    }
    return 0;
}

/* Whether line l declares a function named name: [export] [declare]
 * [default] [async] function name, then `(` or `<`. */
static bool chunk_declares_function(const chunk_builder_t *b, int l, const char *name) {
    static const char *const modifiers[] = {"export", "declare", "default", "async", NULL};
    const char *s = b->data + b->line_at[l], *end = b->data + b->line_at[l + 1];
    size_t name_len = strlen(name);
    bool function = false;
    for (;;) {
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        size_t n = 0;
        while (s + n < end && ident_ascii_char((unsigned char)s[n]))
            n++;
        if (n == 0)
            return false;
        bool modifier = false;
        for (const char *const *m = modifiers; *m && !function; m++)
            modifier |= strlen(*m) == n && memcmp(s, *m, n) == 0;
        if (modifier) {
            s += n;
            continue;
        }
        if (!function && n == 8 && memcmp(s, "function", 8) == 0) {
            function = true;
            s += n;
            continue;
        }
        if (!function || n != name_len || memcmp(s, name, n) != 0)
            return false;
        s += n;
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        return s < end && (*s == '(' || *s == '<');
    }
}

/* A TypeScript function declared with overloads (`function f(a: A): R;`
 * lines, then the implementation with its body): ctags 5.9 tags the first
 * signature only, so the definition would end there and the implementation
 * would be left as untagged code.  From a signature that ends on line end,
 * follows the next declarations of the same name (comments and blank lines
 * between them) to the body's last line; *body is the line that
 * declares the body (0 if none does). */
static int chunk_overloads_end(const chunk_builder_t *b, const ctags_tag_t *tag, int end, int limit,
                               int *body) {
    *body = 0;
    for (;;) {
        int next = end + 1;
        while (next <= limit && (b->blank[next] || chunk_is_lead_line(b, next)))
            next++;
        if (next > limit || !chunk_declares_function(b, next, tag->name))
            return end;
        bool bodiless;
        int last = chunk_match_braces(b, next, limit, &bodiless);
        if (last == 0)
            return end;
        end = last;
        if (!bodiless) {
            *body = next;
            return end;
        }
    }
}

static bool chunk_same_scope(const ctags_tag_t *a, const ctags_tag_t *b) {
    if (!a->scope || !b->scope)
        return !a->scope && !b->scope;
    return strcmp(a->scope, b->scope) == 0;
}

/* Orders tag indices by (scope, line) for chunk_scope_limits(). */
static int chunk_compare_by_scope(const void *pa, const void *pb, void *arg) {
    const ctags_tag_t *tags = arg;
    const ctags_tag_t *a = &tags[*(const size_t *)pa], *b = &tags[*(const size_t *)pb];
    if (!a->scope != !b->scope)
        return a->scope ? 1 : -1;
    int c = a->scope ? strcmp(a->scope, b->scope) : 0;
    if (c != 0)
        return c;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* limits[t]: the line before the next tag of t's scope, or the last line.
 * That next sibling bounds a definition whose end ctags did not give.
 * Sorting by scope keeps this O(n log n) for files with thousands of tags.
 * Returns NULL when out of memory. */
static int *chunk_scope_limits(const ctags_tag_t *tags, size_t n_tags, int line_count) {
    int *limits = malloc((n_tags ? n_tags : 1) * sizeof *limits);
    size_t *order = malloc((n_tags ? n_tags : 1) * sizeof *order);
    if (!limits || !order) {
        free(limits);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n_tags; i++)
        order[i] = i;
    qsort_r(order, n_tags, sizeof *order, chunk_compare_by_scope, (void *)tags);
    for (size_t i = 0; i < n_tags; i++) {
        const ctags_tag_t *tag = &tags[order[i]];
        limits[order[i]] = line_count;
        for (size_t k = i + 1; k < n_tags && chunk_same_scope(tag, &tags[order[k]]); k++)
            if (tags[order[k]].line > tag->line) {
                limits[order[i]] = tags[order[k]].line - 1;
                break;
            }
    }
    free(order);
    return limits;
}

static int chunk_compare_defs(const void *pa, const void *pb) {
    const chunk_def_t *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end > b->end ? -1 : 1;
    return 0;
}

/* Fills b->defs from the tags and links them into a forest. */
static int chunk_find_definitions(chunk_builder_t *b, const ctags_tag_t *tags, size_t n_tags) {
    b->defs = calloc(n_tags ? n_tags : 1, sizeof *b->defs);
    b->name_line = malloc((n_tags ? n_tags : 1) * sizeof *b->name_line);
    int *limits = chunk_scope_limits(tags, n_tags, b->line_count);
    if (!b->defs || !b->name_line || !limits) {
        free(limits);
        return -ENOMEM;
    }
    for (size_t t = 0; t < n_tags; t++) {
        const ctags_tag_t *tag = &tags[t];
        b->name_line[t] = tag->line;
        if (!chunk_is_symbol_tag(b, tag) || !tag->kind)
            continue;
        bool always = chunk_kind_in(tag->kind, chunk_boundary_kinds);
        bool if_long = !always && chunk_kind_in(tag->kind, chunk_multiline_kinds);
        if (!always && !if_long)
            continue;
        int limit = limits[t] < b->line_count ? limits[t] : b->line_count; /* stale tags */
        int end = tag->end, body = 0;
        if (end == 0 && b->lang->braces) {
            bool bodiless;
            end = chunk_match_braces(b, tag->line, limit, &bodiless);
            if (bodiless && b->lang->id == LANG_TYPESCRIPT && strcmp(tag->kind, "function") == 0)
                end = chunk_overloads_end(b, tag, end, limit, &body);
            if (body > 0)
                b->name_line[t] = body; /* where the definition is, not a signature */
        }
        if (end == 0)
            end = if_long ? tag->line : limit;
        if (end > b->line_count)
            end = b->line_count;
        if (end < tag->line)
            end = tag->line;
        while (end > tag->line && b->blank[end])
            end--;
        if (if_long && end == tag->line)
            continue;
        b->defs[b->def_count++] = (chunk_def_t){tag->line, end, -1, -1, (int)t, body};
    }
    free(limits);
    qsort(b->defs, (size_t)b->def_count, sizeof *b->defs, chunk_compare_defs);
    /* Nest by range with a stack of open definitions. */
    int *stack = malloc(((size_t)b->def_count + 1) * sizeof *stack);
    int *last_child = malloc(((size_t)b->def_count + 1) * sizeof *last_child);
    if (!stack || !last_child) {
        free(stack);
        free(last_child);
        return -ENOMEM;
    }
    int depth = 0, last_root = -1;
    for (int d = 0; d < b->def_count; d++) {
        chunk_def_t *def = &b->defs[d];
        last_child[d] = -1;
        while (depth > 0 && b->defs[stack[depth - 1]].end < def->start)
            depth--;
        if (depth > 0) {
            int parent = stack[depth - 1];
            if (def->end > b->defs[parent].end)
                def->end = b->defs[parent].end;
            if (last_child[parent] < 0)
                b->defs[parent].first_child = d;
            else
                b->defs[last_child[parent]].next_sibling = d;
            last_child[parent] = d;
        } else {
            if (last_root >= 0)
                b->defs[last_root].next_sibling = d;
            last_root = d;
        }
        stack[depth++] = d;
    }
    free(stack);
    free(last_child);
    return 0;
}

/* ---- layout ---------------------------------------------------------------- */

static void chunk_push_span(chunk_builder_t *b, int start, int end, chunk_kind_t kind,
                            int context) {
    while (start <= end && b->blank[start])
        start++;
    while (end >= start && b->blank[end])
        end--;
    if (start > end)
        return;
    if (b->span_count > 0) {
        /* Trimming blank lines can make a window start where the previous
         * one did, or fall inside it: extend or drop rather than repeat. */
        chunk_span_t *last = &b->spans[b->span_count - 1];
        if (start <= last->start || end <= last->end) {
            if (end > last->end)
                last->end = end;
            return;
        }
    }
    if (b->span_count == b->span_capacity) {
        size_t capacity = b->span_capacity ? b->span_capacity * 2 : 64;
        chunk_span_t *grown = realloc(b->spans, capacity * sizeof *grown);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->spans = grown;
        b->span_capacity = capacity;
    }
    b->spans[b->span_count++] = (chunk_span_t){start, end, kind, context};
}

/* Lines lo..hi as one chunk if they fit in `fits` lines, else as windows;
 * context is the tag of the definition they are part of (windows of a long
 * definition are part of it), or -1. */
static void chunk_emit_range(chunk_builder_t *b, int lo, int hi, chunk_kind_t kind, int fits,
                             int context, int own) {
    while (lo <= hi && b->blank[lo])
        lo++;
    while (hi >= lo && b->blank[hi])
        hi--;
    if (lo > hi)
        return;
    if (hi - lo + 1 <= fits) {
        chunk_push_span(b, lo, hi, kind, context);
        return;
    }
    if (own >= 0)
        context = own; /* cut up: each window is a part of that definition */
    int size = b->options.window_lines, step = size - b->options.window_overlap;
    for (int s = lo;; s += step) {
        int e = s + size - 1;
        if (e + step / 2 >= hi)
            e = hi; /* absorb a short tail into the last window */
        chunk_push_span(b, s, e, CHUNK_WINDOW, context);
        if (e == hi)
            break;
    }
}

static int chunk_count_code_lines(const chunk_builder_t *b, int lo, int hi) {
    int n = 0;
    for (int l = lo; l <= hi; l++)
        n += !b->blank[l];
    return n;
}

typedef struct {
    int start, end;
    chunk_kind_t kind;
    int def; /* index into defs for a DEFINITION piece, else -1 */
} chunk_piece_t;

/* Lays out lines lo..hi whose definitions are first_child and its siblings. */
static void chunk_layout(chunk_builder_t *b, int lo, int hi, int first_child, bool top,
                         int context) {
    size_t capacity = 8, count = 0;
    chunk_piece_t *pieces = malloc(capacity * sizeof *pieces);
    if (!pieces) {
        b->failed = true;
        return;
    }
    int cursor = lo;
    for (int c = first_child;; c = b->defs[c].next_sibling) {
        bool last = c < 0;
        int gap_hi = last ? hi : b->defs[c].start - 1;
        int lead = gap_hi + 1;
        if (!last)
            lead = chunk_lead_start(b, lead, cursor);
        int rest_hi = last ? hi : lead - 1;
        int code = cursor <= rest_hi ? chunk_count_code_lines(b, cursor, rest_hi) : 0;
        if (count + 3 > capacity) {
            capacity *= 2;
            chunk_piece_t *grown = realloc(pieces, capacity * sizeof *pieces);
            if (!grown) {
                b->failed = true;
                break;
            }
            pieces = grown;
        }
        if (code > 0) {
            if (count > 0 && code < b->options.small_lines) {
                pieces[count - 1].end = rest_hi;
            } else {
                chunk_kind_t kind = count > 0 ? CHUNK_CODE : top ? CHUNK_PREAMBLE : CHUNK_HEADER;
                pieces[count++] = (chunk_piece_t){cursor, rest_hi, kind, -1};
            }
        }
        if (last)
            break;
        const chunk_def_t *def = &b->defs[c];
        if (def->body > 0 && def->end - lead + 1 > b->options.max_lines) {
            /* Overload signatures too many lines ahead of a long body: a
             * chunk of their own, so that the body's windows start at it. */
            int body_lead = def->body;
            while (body_lead - 1 > def->start &&
                   (b->blank[body_lead - 1] || chunk_is_lead_line(b, body_lead - 1)))
                body_lead--;
            pieces[count++] = (chunk_piece_t){lead, body_lead - 1, CHUNK_CODE, -1};
            lead = body_lead;
        }
        pieces[count++] = (chunk_piece_t){lead, def->end, CHUNK_DEFINITION, c};
        cursor = def->end + 1;
    }
    for (size_t i = 0; i < count && !b->failed; i++) {
        chunk_piece_t *p = &pieces[i];
        int lines = p->end - p->start + 1;
        if (p->def >= 0 && lines > b->options.max_lines && b->defs[p->def].first_child >= 0)
            chunk_layout(b, p->start, p->end, b->defs[p->def].first_child, false,
                         b->defs[p->def].tag);
        else
            chunk_emit_range(b, p->start, p->end, p->kind, b->options.max_lines, context,
                             p->def >= 0 ? b->defs[p->def].tag : -1);
    }
    free(pieces);
}

/* Merges neighbours where one is small, while the result fits max_lines. */
static void chunk_pack(chunk_builder_t *b) {
    size_t kept = 0;
    for (size_t i = 0; i < b->span_count; i++) {
        chunk_span_t s = b->spans[i];
        if (kept > 0) {
            chunk_span_t *prev = &b->spans[kept - 1];
            /* A header packs with its first member, never with what precedes it. */
            bool packable = prev->kind != CHUNK_WINDOW && s.kind != CHUNK_WINDOW &&
                            prev->kind != CHUNK_PREAMBLE && s.kind != CHUNK_PREAMBLE &&
                            s.kind != CHUNK_HEADER && prev->end < s.start;
            bool small = prev->end - prev->start + 1 < b->options.small_lines ||
                         s.end - s.start + 1 < b->options.small_lines;
            /* A tiny header joins its first member whatever that member's
             * size (up to max_lines); other packing stops at a window. */
            int fits = prev->kind == CHUNK_HEADER ? b->options.max_lines : b->options.window_lines;
            if (packable && small && s.end - prev->start + 1 <= fits) {
                prev->end = s.end;
                if (s.kind == CHUNK_DEFINITION && prev->kind == CHUNK_CODE)
                    prev->kind = CHUNK_DEFINITION;
                if (prev->context != s.context)
                    prev->context = -1;
                continue;
            }
        }
        b->spans[kept++] = s;
    }
    b->span_count = kept;
}

/* ---- contents -------------------------------------------------------------- */

typedef struct {
    const char **items;
    size_t count, capacity;
    chunk_list_t *list;
    bool failed;
} chunk_strings_t;

static bool chunk_strings_has(const chunk_strings_t *s, const char *text, size_t len) {
    for (size_t i = 0; i < s->count; i++)
        if (strlen(s->items[i]) == len && memcmp(s->items[i], text, len) == 0)
            return true;
    return false;
}

static void chunk_strings_add(chunk_strings_t *s, const char *text, size_t len) {
    if (s->failed)
        return;
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 16;
        const char **grown = realloc(s->items, capacity * sizeof *grown);
        if (!grown) {
            s->failed = true;
            return;
        }
        s->items = grown;
        s->capacity = capacity;
    }
    const char *copy = chunk_strndup(s->list, text, len);
    if (!copy) {
        s->failed = true;
        return;
    }
    s->items[s->count++] = copy;
}

/* Copies the collected strings into an arena array; NULL for none. */
static const char *const *chunk_strings_freeze(chunk_strings_t *s) {
    if (s->count == 0 || s->failed)
        return NULL;
    const char **array = chunk_alloc(s->list, s->count * sizeof *array);
    if (!array) {
        s->failed = true;
        return NULL;
    }
    memcpy(array, s->items, s->count * sizeof *array);
    return array;
}

/* `Scope.name` of a tag into buf (cap bytes), or its plain name when it has
 * no scope worth naming: `::` becomes `.`, Go's package prefix (`main.S`)
 * is dropped, and package scopes give the plain name.  Returns the length,
 * 0 when it does not fit. */
static size_t chunk_qualified_name(const ctags_tag_t *tag, lang_id_t lang, char *buf, size_t cap) {
    size_t name_len = strlen(tag->name), at = 0;
    if (tag->scope && tag->scope[0] &&
        !(tag->scope_kind && strcmp(tag->scope_kind, "package") == 0)) {
        const char *scope = tag->scope;
        if (lang == LANG_GO && strchr(scope, '.'))
            scope = strchr(scope, '.') + 1;
        for (const char *p = scope; *p && at + 2 < cap; p++) {
            if (p[0] == ':' && p[1] == ':') {
                buf[at++] = '.';
                p++;
            } else {
                buf[at++] = *p;
            }
        }
        buf[at++] = '.';
    }
    if (at + name_len + 1 > cap)
        return 0;
    memcpy(buf + at, tag->name, name_len);
    at += name_len;
    buf[at] = '\0';
    return at;
}

/* A tag's plain name and, when it has a scope, its qualified name. */
/* A tag's name and its qualified name, as names the chunk defines.  A Rust
 * `impl X` (or `impl Trait for X`) block holds X's methods, under X's name
 * as their scope; it does not define X: listed as X's definers, a type's
 * impl blocks crowd out its `struct X`, which a bare use of X looks for. */
static void chunk_add_symbol(chunk_strings_t *symbols, const ctags_tag_t *tag, lang_id_t lang) {
    if (lang == LANG_RUST && tag->kind && strcmp(tag->kind, "implementation") == 0)
        return;
    size_t name_len = strlen(tag->name);
    if (!chunk_strings_has(symbols, tag->name, name_len))
        chunk_strings_add(symbols, tag->name, name_len);
    char buf[512];
    size_t len = chunk_qualified_name(tag, lang, buf, sizeof buf);
    if (len > name_len && !chunk_strings_has(symbols, buf, len))
        chunk_strings_add(symbols, buf, len);
}

typedef struct {
    const char *text;
    size_t len;
} chunk_word_t;

typedef struct {
    chunk_word_t *words;
    size_t count, capacity;
    bool failed;
} chunk_words_t;

static int chunk_collect_word(const subword_token_t *token, void *arg) {
    chunk_words_t *w = arg;
    if (token->kind != SUBWORD_KIND_WHOLE)
        return 0;
    if (w->count == w->capacity) {
        size_t capacity = w->capacity ? w->capacity * 2 : 128;
        chunk_word_t *grown = realloc(w->words, capacity * sizeof *grown);
        if (!grown) {
            w->failed = true;
            return -ENOMEM;
        }
        w->words = grown;
        w->capacity = capacity;
    }
    w->words[w->count++] = (chunk_word_t){token->ident, token->ident_len};
    return 0;
}

static int chunk_compare_words(const void *pa, const void *pb) {
    const chunk_word_t *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* A copy of the file with comments (and Python docstrings) blanked out,
 * newlines kept, so that the words of prose do not count as identifiers a
 * chunk uses.  Other strings stay:
 * `getattr(x, "name")` and `require('./x')` name real things.  NULL when
 * out of memory. */
static char *chunk_mask_comments(const chunk_builder_t *b) {
    char *masked = malloc(b->len ? b->len : 1);
    if (!masked)
        return NULL;
    memcpy(masked, b->data, b->len);
    const char *comment = b->lang->line_comment;
    size_t comment_len = comment ? strlen(comment) : 0;
    int line = 0;
    bool line_start = true; /* only blanks so far on this line */
    for (size_t i = 0; i < b->len;) {
        size_t start = i;
        const char *d = b->data + i;
        if (b->lang->id == LANG_PYTHON && b->len - i >= 3 && (d[0] == '"' || d[0] == '\'') &&
            d[1] == d[0] && d[2] == d[0]) {
            /* A triple-quoted string; standing alone it is a docstring,
             * which is prose like a comment. */
            size_t end = i + 3;
            while (end + 2 < b->len &&
                   !(b->data[end] == d[0] && b->data[end + 1] == d[0] && b->data[end + 2] == d[0]))
                end += b->data[end] == '\\' ? 2 : 1;
            end = end + 2 < b->len ? end + 3 : b->len;
            if (line_start)
                for (size_t k = start; k < end; k++)
                    if (masked[k] != '\n')
                        masked[k] = ' ';
            i = end;
            line_start = false;
            continue;
        }
        if (*d == '\n' || ((*d == ' ' || *d == '\t') && line_start)) {
            line_start = *d == '\n' || line_start;
            i++;
            continue;
        }
        line_start = false;
        bool is_comment =
            (comment && b->len - i >= comment_len && memcmp(d, comment, comment_len) == 0) ||
            (b->len - i >= 2 && d[0] == '/' && d[1] == '*');
        if (!chunk_skip_literal(b, &i, &line)) {
            i++;
            continue;
        }
        if (is_comment)
            for (size_t k = start; k < i; k++)
                if (masked[k] != '\n')
                    masked[k] = ' ';
    }
    return masked;
}

/* Fills symbols and identifiers of every chunk.  Returns 0 or -ENOMEM. */
static int chunk_fill(chunk_builder_t *b, chunk_list_t *list, const ctags_tag_t *tags,
                      size_t n_tags) {
    /* The definition each chunk is a part of, by its qualified name. */
    for (size_t c = 0; c < list->count; c++) {
        int context = b->spans[c].context;
        char buf[512];
        size_t len = context >= 0 && (size_t)context < n_tags
                         ? chunk_qualified_name(&tags[context], b->lang->id, buf, sizeof buf)
                         : 0;
        if (len > 0 && !(list->chunks[c].context = chunk_strndup(list, buf, len)))
            return -ENOMEM;
    }
    /* Each symbol tag goes to the first chunk holding its line. */
    int *owner = malloc((n_tags ? n_tags : 1) * sizeof *owner);
    chunk_strings_t symbols = {.list = list}, identifiers = {.list = list};
    chunk_words_t words = {0};
    char *masked = chunk_mask_comments(b);
    int rc = 0;
    if (!owner || !masked) {
        rc = -ENOMEM;
        goto done;
    }
    for (size_t t = 0; t < n_tags; t++) {
        owner[t] = -1;
        if (!chunk_is_symbol_tag(b, &tags[t]))
            continue;
        /* The last chunk starting at or before the line, then back over
         * overlapping windows to the first that holds it. */
        int line = b->name_line ? b->name_line[t] : tags[t].line;
        size_t lo = 0, hi = list->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (list->chunks[mid].start_line <= line)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t c = lo; c-- > 0;) {
            if (list->chunks[c].end_line >= line)
                owner[t] = (int)c;
            else if (owner[t] >= 0 || list->chunks[c].kind != CHUNK_WINDOW)
                break;
        }
    }
    for (size_t c = 0; c < list->count; c++) {
        chunk_t *chunk = &list->chunks[c];
        symbols.count = 0;
        identifiers.count = 0;
        words.count = 0;
        for (size_t t = 0; t < n_tags; t++)
            if (owner[t] == (int)c)
                chunk_add_symbol(&symbols, &tags[t], b->lang->id);
        subword_scan(masked + (chunk->text - list->data), chunk->text_len,
                     SUBWORD_WHOLE | SUBWORD_SKIP_KEYWORDS | SUBWORD_SKIP_SINGLE,
                     chunk_collect_word, &words);
        if (words.failed) {
            rc = -ENOMEM;
            goto done;
        }
        if (words.count > 1)
            qsort(words.words, words.count, sizeof *words.words, chunk_compare_words);
        for (size_t i = 0; i < words.count; i++) {
            if (i > 0 && chunk_compare_words(&words.words[i - 1], &words.words[i]) == 0)
                continue;
            if (chunk_strings_has(&symbols, words.words[i].text, words.words[i].len))
                continue;
            chunk_strings_add(&identifiers, words.words[i].text, words.words[i].len);
        }
        chunk->symbols = chunk_strings_freeze(&symbols);
        chunk->symbol_count = symbols.count;
        chunk->identifiers = chunk_strings_freeze(&identifiers);
        chunk->identifier_count = identifiers.count;
        if (symbols.failed || identifiers.failed) {
            rc = -ENOMEM;
            goto done;
        }
    }
done:
    free(owner);
    free(masked);
    free(symbols.items);
    free(identifiers.items);
    free(words.words);
    return rc;
}

int chunk_split_file(const char *data, size_t len, lang_id_t lang, const ctags_tag_t *tags,
                     size_t n_tags, const chunk_options_t *options, chunk_list_t **out) {
    *out = NULL;
    chunk_builder_t b = {.data = data, .len = len, .lang = lang_get(lang)};
    chunk_options_default(&b.options);
    if (options) {
        if (options->max_lines >= 2)
            b.options.max_lines = options->max_lines;
        if (options->window_lines >= 2)
            b.options.window_lines = options->window_lines;
        if (options->window_overlap >= 0 && options->window_overlap < b.options.window_lines)
            b.options.window_overlap = options->window_overlap;
        else if (b.options.window_overlap >= b.options.window_lines)
            b.options.window_overlap = b.options.window_lines / 4;
        if (options->small_lines >= 0)
            b.options.small_lines = options->small_lines;
    }
    if (b.options.window_overlap >= b.options.window_lines)
        b.options.window_overlap = b.options.window_lines / 4;
    if (!tags)
        n_tags = 0;
    chunk_list_t *list = calloc(1, sizeof *list);
    int rc = list ? chunk_index_lines(&b) : -ENOMEM;
    if (rc == 0)
        rc = chunk_find_definitions(&b, tags, n_tags);
    if (rc < 0)
        goto done;
    if (b.def_count == 0)
        chunk_emit_range(&b, 1, b.line_count, CHUNK_WINDOW, b.options.window_lines, -1, -1);
    else
        chunk_layout(&b, 1, b.line_count, 0, true, -1);
    if (b.span_count == 1 && b.spans[0].kind == CHUNK_WINDOW && b.def_count == 0)
        b.spans[0].kind = CHUNK_CODE; /* a short untagged file is one plain chunk */
    chunk_pack(&b);
    if (b.failed) {
        rc = -ENOMEM;
        goto done;
    }
    list->data = malloc(len ? len : 1);
    list->chunks = calloc(b.span_count ? b.span_count : 1, sizeof *list->chunks);
    if (!list->data || !list->chunks) {
        rc = -ENOMEM;
        goto done;
    }
    if (len)
        memcpy(list->data, data, len);
    for (size_t i = 0; i < b.span_count; i++) {
        const chunk_span_t *s = &b.spans[i];
        size_t from = b.line_at[s->start], to = b.line_at[s->end + 1];
        list->chunks[i] = (chunk_t){.start_line = s->start,
                                    .end_line = s->end,
                                    .kind = s->kind,
                                    .text = list->data + from,
                                    .text_len = to - from};
    }
    list->count = b.span_count;
    rc = chunk_fill(&b, list, tags, n_tags);
done:
    free(b.line_at);
    free(b.blank);
    free(b.defs);
    free(b.name_line);
    free(b.spans);
    if (rc < 0) {
        chunk_list_destroy(&list);
        return rc;
    }
    *out = list;
    return 0;
}

void chunk_list_destroy(chunk_list_t **self_p) {
    if (!self_p || !*self_p)
        return;
    chunk_list_t *self = *self_p;
    while (self->blocks) {
        chunk_block_t *next = self->blocks->next;
        free(self->blocks);
        self->blocks = next;
    }
    free(self->chunks);
    free(self->data);
    free(self);
    *self_p = NULL;
}

size_t chunk_list_count(const chunk_list_t *self) {
    return self ? self->count : 0;
}

const chunk_t *chunk_list_get(const chunk_list_t *self, size_t index) {
    if (!self || index >= self->count)
        return NULL;
    return &self->chunks[index];
}
