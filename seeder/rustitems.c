/*
 * Rust items ctags misses (see rustitems.h): a line scanner with a stack of
 * the blocks braces open, each a function body, a scope (impl, trait, mod)
 * or anything else (a macro's body, a struct's fields, an expression).
 */
#include "seeder/rustitems.h"

#include "proto/code/codemask.h"
#include "proto/code/ident.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 128 /* blocks open at once: deeper ones are counted, not read */

typedef enum { BLOCK_OTHER, BLOCK_FN, BLOCK_SCOPE } block_kind_t;

typedef struct {
    block_kind_t kind;
    const char *scope; /* BLOCK_SCOPE: the type, trait or module (into the text) */
    size_t scope_len;
    const char *scope_kind;
    long item; /* the found item this block is the body of, -1: none */
} block_t;

typedef struct {
    const char *name, *scope, *kind, *scope_kind;
    size_t name_len, scope_len;
    int line, end;
    long tag; /* ctags's tag on its line, or -1 */
} item_t;

typedef struct {
    const char *s;
    size_t n;
    const uint8_t *code;
    block_t stack[DEPTH_MAX];
    int depth;    /* may exceed DEPTH_MAX: those levels are not kept */
    int fn_depth; /* function bodies among the open blocks */
    item_t *items;
    size_t count, cap;
    bool failed;
    /* what the next `{` opens, set by an item's header */
    bool pending;
    block_t next;
} scan_t;

static bool is_code(const scan_t *t, size_t i) {
    return i < t->n && t->code[i];
}

static size_t skip_space(const scan_t *t, size_t i, size_t end) {
    while (i < end && (!t->code[i] || t->s[i] == ' ' || t->s[i] == '\t'))
        i++;
    return i;
}

/* The identifier at i (0 when none). */
static size_t word_at(const scan_t *t, size_t i, size_t end) {
    if (i >= end || !is_code(t, i))
        return 0;
    size_t n = ident_len(t->s + i, end - i);
    return n;
}

static bool word_is(const scan_t *t, size_t i, size_t n, const char *w) {
    return n == strlen(w) && !memcmp(t->s + i, w, n);
}

/* Skips a balanced <...> at i (generics); returns the offset after it. */
static size_t skip_angles(const scan_t *t, size_t i, size_t end) {
    if (i >= end || t->s[i] != '<')
        return i;
    int level = 0;
    for (; i < end; i++) {
        if (!t->code[i])
            continue;
        if (t->s[i] == '<')
            level++;
        else if (t->s[i] == '>' && (i == 0 || t->s[i - 1] != '-') && --level == 0)
            return i + 1;
        else if (t->s[i] == '{' || t->s[i] == ';')
            return i;
    }
    return i;
}

static void item_add(scan_t *t, const char *kind, size_t name_at, size_t name_len, int line) {
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        item_t *grown = realloc(t->items, cap * sizeof *grown);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->items = grown;
        t->cap = cap;
    }
    const block_t *scope = NULL;
    for (int d = (t->depth < DEPTH_MAX ? t->depth : DEPTH_MAX) - 1; d >= 0 && !scope; d--)
        if (t->stack[d].kind == BLOCK_SCOPE)
            scope = &t->stack[d];
    bool method = scope && !strcmp(kind, "function") && strcmp(scope->scope_kind, "module") != 0;
    t->items[t->count++] = (item_t){.name = t->s + name_at,
                                    .name_len = name_len,
                                    .kind = method ? "method" : kind,
                                    .scope = scope ? scope->scope : NULL,
                                    .scope_len = scope ? scope->scope_len : 0,
                                    .scope_kind = scope ? scope->scope_kind : NULL,
                                    .line = line,
                                    .end = line};
}

/* The type an impl header names (`impl<T> fmt::Debug for Foo<T>` is Foo):
 * the last path segment after `for`, else after the generics. */
static bool impl_type(const scan_t *t, size_t i, size_t end, size_t *at, size_t *len) {
    size_t brace = i;
    while (brace < end && !(t->code[brace] && (t->s[brace] == '{' || t->s[brace] == ';')))
        brace++;
    size_t from = skip_space(t, skip_angles(t, i, brace), brace);
    for (size_t k = from; k + 3 < brace; k++)
        if (t->code[k] && (k == 0 || !ident_ascii_char((unsigned char)t->s[k - 1])) &&
            !memcmp(t->s + k, "for", 3) && (t->s[k + 3] == ' ' || t->s[k + 3] == '\t'))
            from = k + 3;
    from = skip_space(t, from, brace);
    while (from < brace && (t->s[from] == '&' || t->s[from] == '(' || t->s[from] == '*'))
        from = skip_space(t, from + 1, brace);
    /* a reference's lifetime and mutability: &'a mut T is T */
    if (from < brace && t->s[from] == '\'')
        from = skip_space(t, from + 1 + word_at(t, from + 1, brace), brace);
    size_t n = word_at(t, from, brace);
    if (n && (word_is(t, from, n, "mut") || word_is(t, from, n, "const")))
        from = skip_space(t, from + n, brace), n = word_at(t, from, brace);
    if (n && word_is(t, from, n, "dyn"))
        from = skip_space(t, from + n, brace), n = word_at(t, from, brace);
    if (!n)
        return false;
    /* the last segment of a path: a::b::C */
    while (from + n + 2 < brace && t->s[from + n] == ':' && t->s[from + n + 1] == ':' &&
           word_at(t, from + n + 2, brace)) {
        from += n + 2;
        n = word_at(t, from, brace);
    }
    *at = from;
    *len = n;
    return true;
}

/* Reads an item header at the start of the line [i, end). */
static void header(scan_t *t, size_t i, size_t end, int line) {
    i = skip_space(t, i, end);
    size_t n = word_at(t, i, end);
    if (n && word_is(t, i, n, "pub")) {
        i = skip_space(t, i + n, end);
        if (i < end && t->s[i] == '(') {
            while (i < end && t->s[i] != ')')
                i++;
            i = skip_space(t, i + 1, end);
        }
        n = word_at(t, i, end);
    }
    for (;;) {
        static const char *const modifiers[] = {"default", "async", "unsafe", "extern", NULL};
        bool modifier = false;
        for (int m = 0; modifiers[m] && !modifier; m++)
            modifier = word_is(t, i, n, modifiers[m]);
        if (n && word_is(t, i, n, "const")) {
            size_t j = skip_space(t, i + n, end), k = word_at(t, j, end);
            modifier = word_is(t, j, k, "fn") || word_is(t, j, k, "unsafe") ||
                       word_is(t, j, k, "async") || word_is(t, j, k, "extern");
        }
        if (!modifier)
            break;
        i = skip_space(t, i + n, end); /* skips an ABI string too: not code */
        n = word_at(t, i, end);
    }
    if (!n)
        return;
    static const struct {
        const char *keyword, *kind;
    } items[] = {
        {"fn", "function"},         {"struct", "struct"},   {"enum", "enum"},
        {"union", "union"},         {"trait", "interface"}, {"type", "typedef"},
        {"const", "constant"},      {"static", "variable"}, {"mod", "module"},
        {"impl", "implementation"},
    };
    const char *kind = NULL;
    for (size_t k = 0; k < sizeof items / sizeof items[0] && !kind; k++)
        if (word_is(t, i, n, items[k].keyword))
            kind = items[k].kind;
    if (!kind && word_is(t, i, n, "macro_rules") && i + n < end && t->s[i + n] == '!')
        kind = "macro", n++;
    if (!kind)
        return;
    size_t after = skip_space(t, i + n, end);
    if (!strcmp(kind, "implementation")) {
        size_t at, len;
        if (impl_type(t, after, end, &at, &len)) {
            t->pending = true;
            t->next = (block_t){BLOCK_SCOPE, t->s + at, len, "implementation", -1};
        }
        return;
    }
    if (!strcmp(kind, "variable")) { /* static mut NAME */
        size_t k = word_at(t, after, end);
        if (word_is(t, after, k, "mut"))
            after = skip_space(t, after + k, end);
    }
    size_t name_len = word_at(t, after, end);
    if (!name_len || word_is(t, after, name_len, "_"))
        return;
    bool inside_fn = t->fn_depth > 0;
    if (!strcmp(kind, "module")) {
        /* `mod x;` declares a file; `mod x {` opens a scope */
        t->pending = true;
        t->next = (block_t){BLOCK_SCOPE, t->s + after, name_len, "module", -1};
        return;
    }
    long index = -1;
    if (!inside_fn) {
        item_add(t, kind, after, name_len, line);
        index = (long)t->count - 1;
    }
    t->pending = true;
    if (!strcmp(kind, "interface"))
        t->next = (block_t){BLOCK_SCOPE, t->s + after, name_len, "interface", index};
    else
        t->next =
            (block_t){!strcmp(kind, "function") ? BLOCK_FN : BLOCK_OTHER, NULL, 0, NULL, index};
}

static void open_block(scan_t *t) {
    block_t b = t->pending ? t->next : (block_t){BLOCK_OTHER, NULL, 0, NULL, -1};
    t->pending = false;
    /* A level too deep to keep is not counted as a function body either:
     * close_block() cannot tell what it was, and a count it never takes
     * back would hide every later item of the file. */
    if (t->depth < DEPTH_MAX) {
        t->stack[t->depth] = b;
        t->fn_depth += b.kind == BLOCK_FN;
    }
    t->depth++;
}

static void close_block(scan_t *t, int line) {
    if (t->depth == 0)
        return;
    t->depth--;
    if (t->depth >= DEPTH_MAX)
        return;
    const block_t *b = &t->stack[t->depth];
    t->fn_depth -= b->kind == BLOCK_FN;
    if (b->item >= 0 && (size_t)b->item < t->count)
        t->items[b->item].end = line;
}

static void scan(scan_t *t) {
    int line = 1;
    for (size_t at = 0; at < t->n && !t->failed; line++) {
        const char *nl = memchr(t->s + at, '\n', t->n - at);
        size_t end = nl ? (size_t)(nl - t->s) : t->n;
        size_t first = at;
        while (first < end && (t->s[first] == ' ' || t->s[first] == '\t'))
            first++;
        if (first < end && t->code[first] && !t->pending)
            header(t, first, end, line);
        for (size_t i = at; i < end; i++) {
            if (!t->code[i])
                continue;
            if (t->s[i] == '{')
                open_block(t);
            else if (t->s[i] == '}')
                close_block(t, line);
            else if (t->s[i] == ';' && t->pending)
                t->pending = false; /* `fn f();`, `struct S;`, `mod x;` */
        }
        at = end + 1;
    }
}

/* The first of ctags's tags on line, or -1. */
static long tagged_at(const ctags_tag_t *tags, size_t n, int line) {
    for (size_t k = 0; k < n; k++)
        if (tags[k].line == line)
            return (long)k;
    return -1;
}

/* Whether ctags's tag is this item's method without its impl: ctags 5.9
 * loses the scope of an impl whose header goes on past its first line
 * (`impl<T, S> Harness<T, S>` then a `where` clause), and tags its
 * methods as plain functions. */
static bool unscoped_method(const ctags_tag_t *tag, const item_t *it) {
    return !tag->scope && it->scope_len && !strcmp(it->kind, "method") &&
           strlen(tag->name) == it->name_len && !memcmp(tag->name, it->name, it->name_len);
}

int rustitems_complete_tags(lang_id_t lang, const char *text, size_t len, const ctags_tag_t *tags,
                            size_t n, ctags_tag_t **out, size_t *nout, char **names) {
    *out = NULL;
    *nout = 0;
    *names = NULL;
    if (lang != LANG_RUST || !text || len == 0)
        return 0;
    uint8_t *code = malloc(len);
    if (!code)
        return -ENOMEM;
    codemask_build(lang, text, len, code);
    scan_t t = {.s = text, .n = len, .code = code};
    scan(&t);
    free(code);
    if (t.failed) {
        free(t.items);
        return -ENOMEM;
    }
    size_t fresh = 0, rescoped = 0, bytes = 0;
    for (size_t i = 0; i < t.count; i++) {
        item_t *it = &t.items[i];
        long k = tagged_at(tags, n, it->line);
        it->tag = k;
        if (k >= 0 && !unscoped_method(&tags[k], it)) {
            it->name_len = 0; /* ctags knows it */
            continue;
        }
        fresh += k < 0;
        rescoped += k >= 0;
        bytes += it->name_len + 1 + it->scope_len + 1;
    }
    if (fresh + rescoped == 0) {
        free(t.items);
        return 0;
    }
    ctags_tag_t *all = malloc((n + fresh) * sizeof *all);
    char *arena = malloc(bytes);
    if (!all || !arena) {
        free(all);
        free(arena);
        free(t.items);
        return -ENOMEM;
    }
    if (n)
        memcpy(all, tags, n * sizeof *all);
    size_t count = n, at = 0;
    const char *path = n ? tags[0].path : NULL;
    for (size_t i = 0; i < t.count; i++) {
        const item_t *it = &t.items[i];
        if (!it->name_len)
            continue;
        char *name = arena + at;
        memcpy(name, it->name, it->name_len);
        name[it->name_len] = '\0';
        at += it->name_len + 1;
        char *scope = arena + at;
        if (it->scope_len)
            memcpy(scope, it->scope, it->scope_len);
        scope[it->scope_len] = '\0';
        at += it->scope_len + 1;
        if (it->tag >= 0) { /* ctags's tag, given its impl */
            all[it->tag].kind = it->kind;
            all[it->tag].scope = scope;
            all[it->tag].scope_kind = it->scope_kind;
            continue;
        }
        all[count++] = (ctags_tag_t){.path = path,
                                     .name = name,
                                     .kind = it->kind,
                                     .scope = it->scope_len ? scope : NULL,
                                     .scope_kind = it->scope_len ? it->scope_kind : NULL,
                                     .line = it->line,
                                     .end = it->end};
    }
    free(t.items);
    *out = all;
    *nout = count;
    *names = arena;
    return 0;
}
