/*
 * jsclass: the members of JavaScript and TypeScript classes (see jsclass.h).
 *
 * One pass over the code bytes, following braces and parentheses.  A class
 * keyword makes the next brace a class body; at a class body's own level
 * (no parenthesis open), the first token of a line, or the one after `;`
 * or after a member's closing brace, starts a member.  A method is reported
 * when its body closes (then its last line is known), a property at once.
 */
#include "seeder/jsclass.h"

#include "proto/code/codemask.h"
#include "proto/code/ident.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CLASSES_MAX 64 /* classes open at once (nested): deeper ones are not read */

typedef struct {
    const char *s;
    size_t n;
    const uint8_t *code;
    size_t *starts; /* offset of each line's first byte */
    size_t lines;
} text_t;

typedef struct {
    int depth; /* brace depth inside its body */
    const char *name;
    size_t len;
    /* the member being read: a method waiting for (or inside) its body */
    jsclass_member_t method;
    bool pending;  /* a method header was read, its body not opened yet */
    bool open;     /* inside that method's body */
    bool at_start; /* the next token starts a member */
} klass_t;

static int line_of(const text_t *t, size_t at) {
    size_t lo = 0, hi = t->lines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->starts[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return (int)lo + 1;
}

static size_t word_len(const text_t *t, size_t i) {
    return i < t->n && t->code[i] ? ident_len(t->s + i, t->n - i) : 0;
}

static bool word_is(const text_t *t, size_t i, size_t len, const char *w) {
    return strlen(w) == len && memcmp(t->s + i, w, len) == 0;
}

static size_t skip_space(const text_t *t, size_t i) {
    while (i < t->n &&
           (!t->code[i] || t->s[i] == ' ' || t->s[i] == '\t' || t->s[i] == '\n' || t->s[i] == '\r'))
        i++;
    return i;
}

/* Past the balanced (...) at i (i at the opening one). */
static size_t skip_parens(const text_t *t, size_t i) {
    int depth = 0;
    for (; i < t->n; i++) {
        if (!t->code[i])
            continue;
        if (t->s[i] == '(')
            depth++;
        else if (t->s[i] == ')' && --depth == 0)
            return i + 1;
    }
    return t->n;
}

static const char *const modifiers[] = {
    "public",   "private", "protected", "static", "readonly", "async", "abstract",
    "override", "declare", "accessor",  "get",    "set",      NULL,
};

static bool is_modifier(const text_t *t, size_t i, size_t len) {
    for (size_t k = 0; modifiers[k]; k++)
        if (word_is(t, i, len, modifiers[k]))
            return true;
    return false;
}

/* Reads a member's header at i: a method goes pending in k, a property is
 * reported.  Returns the callback's value. */
static int member_at(const text_t *t, size_t i, klass_t *k, jsclass_fn fn, void *arg) {
    for (int guard = 0; guard < 16 && i < t->n; guard++) {
        i = skip_space(t, i);
        if (i < t->n && t->s[i] == '@') { /* a decorator: @a.b(...) */
            i++;
            while (word_len(t, i) || (i < t->n && t->s[i] == '.'))
                i += word_len(t, i) ? word_len(t, i) : 1;
            if (i < t->n && t->s[i] == '(')
                i = skip_parens(t, i);
            continue;
        }
        if (i < t->n && t->s[i] == '*') { /* a generator */
            i++;
            continue;
        }
        size_t len = word_len(t, i);
        if (len && is_modifier(t, i, len)) {
            size_t next = skip_space(t, i + len);
            /* `get(key)`, `static = 1`: the modifier's word is the name */
            if (next < t->n && (word_len(t, next) || t->s[next] == '#' || t->s[next] == '*' ||
                                t->s[next] == '[')) {
                i = next;
                continue;
            }
        }
        break;
    }
    size_t name = i;
    if (i < t->n && t->s[i] == '#')
        i++;
    size_t len = word_len(t, i);
    if (!len)
        return 0; /* `[computed]`, `}`, a stray token: not a member we can name */
    i += len;
    jsclass_member_t m = {.name = t->s + name,
                          .name_len = i - name,
                          .class_name = k->name,
                          .class_len = k->len,
                          .line = line_of(t, name)};
    size_t after = i;
    while (after < t->n && (t->s[after] == ' ' || t->s[after] == '\t'))
        after++;
    if (after < t->n && (t->s[after] == '?' || t->s[after] == '!'))
        after++;
    while (after < t->n && (t->s[after] == ' ' || t->s[after] == '\t'))
        after++;
    char c = after < t->n ? t->s[after] : '\n';
    if (c == '(' || c == '<') {
        m.method = true;
        m.end = m.line;
        k->method = m;
        k->pending = true;
        return 0;
    }
    if (c == ':' || c == '=' || c == ';' || c == '\n' || c == '\r' || c == '}') {
        m.end = m.line;
        return fn(&m, arg);
    }
    return 0;
}

/* Whether only blanks precede i on its line. */
static bool at_line_start(const text_t *t, size_t i) {
    while (i > 0 && (t->s[i - 1] == ' ' || t->s[i - 1] == '\t'))
        i--;
    return i == 0 || t->s[i - 1] == '\n';
}

/* A top-level declaration starting at i: `[export] [default] [declare]
 * [async] const|let|var|function[*] name` is reported (a destructuring
 * `const {a} =` names nothing here).  Returns the callback's value. */
static int top_level_at(const text_t *t, size_t i, jsclass_fn fn, void *arg) {
    static const char *const leading[] = {"export", "default", "declare", "async", NULL};
    bool function = false, variable = false;
    for (int guard = 0; guard < 6 && !function && !variable; guard++) {
        size_t w = word_len(t, i);
        if (!w)
            return 0;
        bool lead = false;
        for (size_t k = 0; leading[k] && !lead; k++)
            lead = word_is(t, i, w, leading[k]);
        function = word_is(t, i, w, "function");
        variable = word_is(t, i, w, "const") || word_is(t, i, w, "let") || word_is(t, i, w, "var");
        if (!lead && !function && !variable)
            return 0;
        i = skip_space(t, i + w);
        if (function && i < t->n && t->s[i] == '*')
            i = skip_space(t, i + 1);
    }
    size_t len = word_len(t, i);
    if ((!function && !variable) || !len || word_is(t, i, len, "enum"))
        return 0;
    int line = line_of(t, i);
    jsclass_member_t m = {.name = t->s + i,
                          .name_len = len,
                          .class_name = "",
                          .line = line,
                          .end = line,
                          .method = function,
                          .top = true};
    return fn(&m, arg);
}

int jsclass_scan(lang_id_t lang, const char *text, size_t len, jsclass_fn fn, void *arg) {
    if ((lang != LANG_JAVASCRIPT && lang != LANG_TYPESCRIPT) || !text || !len || !fn)
        return 0;
    text_t t = {.s = text, .n = len};
    uint8_t *code = malloc(len);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    t.starts = malloc(lines * sizeof *t.starts);
    klass_t *classes = calloc(CLASSES_MAX, sizeof *classes);
    if (!code || !t.starts || !classes) {
        free(code);
        free(t.starts);
        free(classes);
        return -ENOMEM;
    }
    t.starts[t.lines++] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' && t.lines < lines)
            t.starts[t.lines++] = i + 1;
    codemask_build(lang, text, len, code);
    t.code = code;

    int depth = 0, parens = 0, nclasses = 0, rc = 0;
    bool class_next = false; /* a class keyword was read: the next { is its body */
    const char *class_name = "";
    size_t class_len = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (!code[i])
            continue;
        klass_t *k = nclasses ? &classes[nclasses - 1] : NULL;
        bool at_class = k && depth == k->depth && parens == 0;
        char c = text[i];
        if (at_class && k->at_start && !k->pending && c != ' ' && c != '\t' && c != '\n' &&
            c != '\r' && c != ';' && c != '}' && c != '{') {
            k->at_start = false;
            rc = member_at(&t, i, k, fn, arg);
            /* go on from here: the header's own braces and parentheses count */
        }
        size_t w = word_len(&t, i);
        if (w && (i == 0 || !ident_char_len_before(text, i))) {
            if (depth == 0 && parens == 0 && at_line_start(&t, i) &&
                (rc = top_level_at(&t, i, fn, arg)) != 0)
                break;
            if (word_is(&t, i, w, "class") && !(i > 0 && text[i - 1] == '.')) {
                size_t next = skip_space(&t, i + w);
                size_t nl = word_len(&t, next);
                /* `class Foo`, `class {`, `class extends B`: not `class:` */
                class_next = nl || (next < len && text[next] == '{');
                bool named =
                    nl && !word_is(&t, next, nl, "extends") && !word_is(&t, next, nl, "implements");
                class_name = named ? text + next : "";
                class_len = named ? nl : 0;
            }
            i += w - 1;
            continue;
        }
        switch (c) {
        case '(':
            parens++;
            break;
        case ')':
            parens -= parens > 0;
            break;
        case '{':
            depth++;
            if (class_next && nclasses < CLASSES_MAX) {
                classes[nclasses++] = (klass_t){
                    .depth = depth, .name = class_name, .len = class_len, .at_start = true};
                class_next = false;
                parens = 0;
            } else if (at_class && k->pending) {
                k->pending = false;
                k->open = true;
            }
            break;
        case '}':
            if (k && depth == k->depth) { /* the class body closes */
                nclasses--;
            } else if (k && depth == k->depth + 1 && k->open && parens == 0) {
                k->open = false;
                k->method.end = line_of(&t, i);
                k->at_start = true;
                rc = fn(&k->method, arg);
            } else if (k && depth == k->depth + 1 && parens == 0) {
                k->at_start = true; /* an initializer's object, a static block */
            }
            depth -= depth > 0;
            break;
        case ';':
            if (at_class) {
                if (k->pending) { /* an overload's or an abstract method's signature */
                    k->pending = false;
                    k->method.end = line_of(&t, i);
                    rc = fn(&k->method, arg);
                }
                k->at_start = true;
            }
            break;
        case '\n':
            if (at_class && !k->pending)
                k->at_start = true;
            break;
        default:
            break;
        }
    }
    free(classes);
    free(t.starts);
    free(code);
    return rc;
}

/* ---- completing ctags's tags ---- */

typedef struct {
    jsclass_member_t *items;
    size_t count, cap;
} found_t;

static int found_add(const jsclass_member_t *m, void *arg) {
    found_t *f = arg;
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        jsclass_member_t *grown = realloc(f->items, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        f->items = grown;
        f->cap = cap;
    }
    f->items[f->count++] = *m;
    return 0;
}

static bool tag_is(const ctags_tag_t *t, const char *name, size_t len, int line) {
    return t->line == line && t->name && strlen(t->name) == len && !memcmp(t->name, name, len);
}

static bool top_tag_is(const ctags_tag_t *t, const char *name, size_t len) {
    return (!t->scope || !*t->scope) && t->name && strlen(t->name) == len &&
           !memcmp(t->name, name, len);
}

/* A variable ctags put at the top level that lies inside a method found. */
static bool local_of_found(const ctags_tag_t *t, const found_t *f) {
    static const char *const variables[] = {"variable", "constant", "let", "var", NULL};
    bool variable = false;
    for (size_t k = 0; t->kind && variables[k]; k++)
        variable |= !strcmp(t->kind, variables[k]);
    if (!variable || (t->scope && *t->scope))
        return false;
    for (size_t i = 0; i < f->count; i++)
        if (f->items[i].method && !f->items[i].top && t->line > f->items[i].line &&
            t->line <= f->items[i].end)
            return true;
    return false;
}

int jsclass_complete_tags(lang_id_t lang, const char *text, size_t len, const ctags_tag_t *tags,
                          size_t n, ctags_tag_t **out, size_t *nout, char **names) {
    *out = NULL;
    *nout = 0;
    *names = NULL;
    found_t f = {0};
    int rc = jsclass_scan(lang, text, len, found_add, &f);
    if (rc != 0 || f.count == 0) {
        free(f.items);
        return rc < 0 ? rc : 0;
    }
    /* the members ctags has already, at the same line, are not new */
    size_t fresh = 0, bytes = 0;
    for (size_t i = 0; i < f.count; i++) {
        /* a top-level name ctags has anywhere is known (a function's
         * overloads are one definition: chunk.c joins them) */
        bool known = false;
        for (size_t k = 0; k < n && !known; k++)
            known = f.items[i].top
                        ? top_tag_is(&tags[k], f.items[i].name, f.items[i].name_len)
                        : tag_is(&tags[k], f.items[i].name, f.items[i].name_len, f.items[i].line);
        for (size_t j = 0; j < i && !known && f.items[i].top; j++)
            known = f.items[j].top && f.items[j].name_len == f.items[i].name_len &&
                    !memcmp(f.items[j].name, f.items[i].name, f.items[i].name_len);
        if (known) {
            f.items[i].name_len = 0; /* marked */
            continue;
        }
        fresh++;
        bytes += f.items[i].name_len + 1 + f.items[i].class_len + 1;
    }
    size_t dropped = 0;
    for (size_t k = 0; k < n; k++)
        dropped += local_of_found(&tags[k], &f);
    if (fresh == 0 && dropped == 0) {
        free(f.items);
        return 0;
    }
    ctags_tag_t *all = malloc((n + fresh) * sizeof *all);
    char *arena = malloc(bytes ? bytes : 1);
    if (!all || !arena) {
        free(all);
        free(arena);
        free(f.items);
        return -ENOMEM;
    }
    size_t count = 0, at = 0;
    for (size_t k = 0; k < n; k++)
        if (!local_of_found(&tags[k], &f))
            all[count++] = tags[k];
    const char *path = n ? tags[0].path : NULL;
    for (size_t i = 0; i < f.count; i++) {
        const jsclass_member_t *m = &f.items[i];
        if (!m->name_len)
            continue;
        char *name = arena + at;
        memcpy(name, m->name, m->name_len);
        name[m->name_len] = '\0';
        at += m->name_len + 1;
        char *scope = arena + at;
        memcpy(scope, m->class_name, m->class_len);
        scope[m->class_len] = '\0';
        at += m->class_len + 1;
        all[count++] = (ctags_tag_t){.path = path,
                                     .name = name,
                                     .kind = m->top      ? (m->method ? "function" : "constant")
                                             : m->method ? "method"
                                                         : "property",
                                     .scope = m->class_len ? scope : NULL,
                                     .scope_kind = m->class_len ? "class" : NULL,
                                     .line = m->line,
                                     .end = m->end};
    }
    free(f.items);
    *out = all;
    *nout = count;
    *names = arena;
    return 0;
}
