/*
 * What the code before a cursor says about the name being typed (see
 * cursor.h).
 *
 * A mask marks which bytes of the prefix are code (not comments or
 * strings), so that braces and declarations in a string or a comment count
 * for nothing.  It is built from the start of the prefix (of its last
 * WINDOW bytes, for a prefix longer than any source file): begun in the
 * middle of a docstring or a block comment, it would take code for text
 * and text for code from there on.
 */
#include "proto/code/cursor.h"

#include "proto/code/codemask.h"
#include "proto/code/ident.h"
#include "proto/code/importscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW (4 * 1024 * 1024)

/* ---- what a function returns ---- */

static bool word_before(const char *text, size_t at, const char *word) {
    size_t n = strlen(word);
    while (at > 0 && (text[at - 1] == ' ' || text[at - 1] == '\t'))
        at--;
    return at >= n && !memcmp(text + at - n, word, n) &&
           (at == n || !ident_char_len_before(text, at - n));
}

/* Whether the definition of name starts at text[at] (`name` is there): a
 * function keyword before it on its line (Go's after a receiver). */
static bool definition_at(const char *text, size_t at) {
    if (word_before(text, at, "fn") || word_before(text, at, "def") ||
        word_before(text, at, "function") || word_before(text, at, "func"))
        return true;
    /* func (r *T) name( */
    size_t i = at;
    while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t'))
        i--;
    if (i == 0 || text[i - 1] != ')')
        return false;
    while (i > 0 && text[i - 1] != '(' && text[i - 1] != '\n')
        i--;
    return i > 0 && text[i - 1] == '(' && word_before(text, i - 1, "func");
}

bool cursor_return_type(const char *text, size_t len, const char *name, char *out, size_t cap) {
    size_t n = name ? strlen(name) : 0;
    if (!text || !n || cap == 0)
        return false;
    for (size_t at = 0; at + n < len; at++) {
        if (memcmp(text + at, name, n) != 0 || (at && ident_char_len_before(text, at)) ||
            text[at + n] != '(' || !definition_at(text, at))
            continue;
        /* past the parameters */
        size_t i = at + n;
        int depth = 0;
        for (; i < len; i++) {
            depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
            if (depth == 0)
                break;
        }
        for (i++; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
            ;
        if (i + 1 < len && text[i] == '-' && text[i + 1] == '>')
            i += 2;
        else if (i < len && text[i] == ':')
            i++;
        while (i < len && (text[i] == ' ' || text[i] == '(' || text[i] == '*' || text[i] == '&'))
            i++;
        /* a.b.T, a::b::T: the last name */
        size_t from = i, last = i;
        while (i < len) {
            size_t m = ident_len(text + i, len - i);
            if (!m)
                break;
            last = i;
            i += m;
            if (i < len && text[i] == '.')
                i++;
            else if (i + 1 < len && text[i] == ':' && text[i + 1] == ':')
                i += 2;
            else
                break;
        }
        size_t m = i > from ? ident_len(text + last, len - last) : 0;
        static const char *const plain[] = {
            "error",     "string", "bool",   "int",     "int64",  "int32",   "uint",
            "uint64",    "uint32", "byte",   "rune",    "any",    "float64", "float32",
            "interface", "struct", "map",    "chan",    "func",   "void",    "None",
            "Self",      "str",    "usize",  "i32",     "i64",    "u8",      "u32",
            "u64",       "f64",    "number", "boolean", "Promise"};
        if (!m || m >= cap)
            return false;
        for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++)
            if (strlen(plain[k]) == m && !memcmp(plain[k], text + last, m))
                return false;
        memcpy(out, text + last, m);
        out[m] = '\0';
        return true;
    }
    return false;
}

/* Whether text[from..to) is one of the words no type is named. */
static bool not_a_type(const char *text, size_t from, size_t to) {
    static const char *const words[] = {
        "void",    "boolean",   "byte",   "char",   "short",    "int",          "long",
        "float",   "double",    "return", "new",    "throw",    "else",         "public",
        "private", "protected", "static", "final",  "abstract", "synchronized", "native",
        "default", "var",       "String", "Object", "bool",     "string",       "object"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strlen(words[k]) == to - from && !memcmp(words[k], text + from, to - from))
            return true;
    return false;
}

bool cursor_declared_type(const char *text, size_t len, const char *name, char *out, size_t cap) {
    size_t n = name ? strlen(name) : 0;
    if (!text || !n || cap == 0)
        return false;
    for (size_t at = 1; at + n < len; at++) {
        if (memcmp(text + at, name, n) != 0 || ident_char_len_before(text, at) ||
            text[at + n] != '(' || (text[at - 1] != ' ' && text[at - 1] != '\t'))
            continue;
        /* a header: the parameters, then `{`, `throws` or `;` */
        size_t i = at + n;
        int depth = 0;
        for (; i < len; i++) {
            depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
            if (depth == 0 || text[i] == ';' || text[i] == '{')
                break;
        }
        if (i >= len || text[i] != ')')
            continue;
        for (i++; i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'); i++)
            ;
        if (i >= len ||
            !(text[i] == '{' || text[i] == ';' || (len - i >= 6 && !memcmp(text + i, "throws", 6))))
            continue;
        /* the type before the name: `T`, `a.b.T`, `T<...>`, not `T[]` */
        size_t j = at;
        while (j > 0 && (text[j - 1] == ' ' || text[j - 1] == '\t'))
            j--;
        if (j > 0 && text[j - 1] == '>') {
            int nest = 0;
            while (j > 0) {
                char c = text[--j];
                nest += c == '>' ? 1 : c == '<' ? -1 : 0;
                if (nest == 0 || c == '\n' || c == ';')
                    break;
            }
            if (nest != 0)
                continue;
        }
        size_t end = j;
        while (j > 0 && ident_char_len_before(text, j))
            j -= ident_char_len_before(text, j);
        if (j == end || not_a_type(text, j, end) || end - j >= cap)
            continue;
        /* the type (its qualifier's start, `a.b.T`) follows a modifier, an
         * annotation or the line's start, never `.`, `=` or `(` (a call's
         * receiver or argument) */
        size_t k = j;
        while (k > 1 && text[k - 1] == '.' && ident_char_len_before(text, k - 1)) {
            k--;
            while (k > 0 && ident_char_len_before(text, k))
                k -= ident_char_len_before(text, k);
        }
        while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t'))
            k--;
        if (k > 0 &&
            (text[k - 1] == '.' || text[k - 1] == '=' || text[k - 1] == '(' || text[k - 1] == ','))
            continue;
        memcpy(out, text + j, end - j);
        out[end - j] = '\0';
        return true;
    }
    return false;
}

const char *cursor_kind_name(cursor_kind_t kind) {
    static const char *const names[] = {"none", "unknown", "module", "self", "value", "type"};
    return kind <= CURSOR_TYPE ? names[kind] : "?";
}

/* ---- the text ---- */

typedef struct {
    lang_id_t lang;
    const char *s; /* the window: the prefix's last bytes */
    size_t n;
    uint8_t *code;      /* code[i]: s[i] is code (not comment or string) */
    const char *prefix; /* the whole prefix, for the imports */
    size_t prefix_len;
} text_t;

static bool is_code(const text_t *t, size_t i) {
    return i < t->n && t->code[i];
}

/* Reads the last window bytes (at most) of prefix[0..len) as lang into *t,
 * with its code mask (free t->code).  False when there is nothing to read,
 * or no memory. */
static bool text_open(text_t *t, lang_id_t lang, const char *prefix, size_t len, size_t window) {
    if (!prefix || len == 0)
        return false;
    *t = (text_t){.lang = lang, .prefix = prefix, .prefix_len = len};
    t->n = len > window ? window : len;
    t->s = prefix + len - t->n;
    if (!(t->code = malloc(t->n)))
        return false;
    codemask_build(t->lang, t->s, t->n, t->code);
    return true;
}

/* The identifier ending just before `end` (code only): its start, or end. */
static size_t ident_back(const text_t *t, size_t end) {
    return ident_start_before(t->s, t->code, end);
}

static bool copy_name(char *out, const char *s, size_t n) {
    if (n == 0 || n >= CURSOR_NAME_MAX)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static size_t skip_space_back(const text_t *t, size_t i) {
    while (i > 0 && (t->s[i - 1] == ' ' || t->s[i - 1] == '\t'))
        i--;
    return i;
}

static size_t skip_space(const text_t *t, size_t i) {
    while (i < t->n && (t->s[i] == ' ' || t->s[i] == '\t'))
        i++;
    return i;
}

/* A chain goes on on the next line, `local\n    .run_until(`: back over the
 * blanks before i when they hold a line end (`from .` is no member of from). */
static size_t skip_blank_back(const text_t *t, size_t i) {
    size_t j = i;
    bool line_end = false;
    while (j > 0 && strchr(" \t\r\n", t->s[j - 1]))
        line_end |= t->s[--j] == '\n';
    return line_end ? j : i;
}

/* An identifier starting at i: its length (0 when none). */
static size_t ident_at(const text_t *t, size_t i) {
    return i < t->n ? ident_len(t->s + i, t->n - i) : 0;
}

static bool word_at(const text_t *t, size_t i, const char *word) {
    size_t n = strlen(word);
    return i + n <= t->n && !memcmp(t->s + i, word, n) && ident_at(t, i) == n &&
           (i == 0 || !ident_char_len_before(t->s, i));
}

static bool capitalised(const char *name) {
    return name[0] >= 'A' && name[0] <= 'Z';
}

/* ---- the receiver ---- */

/* The operator ending at end: its length, and its text in op. */
static size_t operator_back(const text_t *t, size_t end, char op[3]) {
    if (end >= 2 && t->s[end - 1] == '.' && t->s[end - 2] == '?') {
        memcpy(op, "?.", 3);
        return 2;
    }
    if (end >= 2 && t->s[end - 1] == '>' && t->s[end - 2] == '-') {
        memcpy(op, "->", 3);
        return 2;
    }
    if (end >= 2 && t->s[end - 1] == ':' && t->s[end - 2] == ':') {
        memcpy(op, "::", 3);
        return 2;
    }
    if (end >= 1 && t->s[end - 1] == '.' && !(end >= 2 && t->s[end - 2] == '.')) {
        memcpy(op, ".", 2);
        return 1;
    }
    return 0;
}

/* Reads `a.b.c.` (or ::, ->) before the cursor into out->chain.  Returns
 * false when the cursor does not follow a member access. */
static bool receiver_read(const text_t *t, cursor_t *out) {
    size_t end = t->n;
    size_t start = ident_back(t, end);
    if (start < end && !copy_name(out->partial, t->s + start, end - start))
        return false;
    size_t op = operator_back(t, start, out->op);
    if (!op || !is_code(t, start - 1))
        return false;
    char names[CURSOR_CHAIN_MAX][CURSOR_NAME_MAX];
    int count = 0;
    size_t at = skip_blank_back(t, start - op);
    for (;;) {
        size_t name_start = ident_back(t, at);
        if (name_start == at)
            break; /* `f().`, `x[0].`, `1.`: not a name */
        if (count == CURSOR_CHAIN_MAX)
            return false; /* a chain this long says little */
        if (!copy_name(names[count++], t->s + name_start, at - name_start))
            return false;
        char ignored[3];
        size_t more = operator_back(t, name_start, ignored);
        if (!more || !is_code(t, name_start - 1))
            break;
        at = skip_blank_back(t, name_start - more);
    }
    if (count == 0) {
        /* `f().`, `x[0].`: a member of something that is not a name; `1.`
         * is a number */
        char before = t->s[at - 1 < t->n ? at - 1 : 0];
        if (at == 0 || !(before == ')' || before == ']'))
            return false;
        out->kind = CURSOR_UNKNOWN;
        return true;
    }
    for (int i = 0; i < count; i++) /* outermost first */
        memcpy(out->chain[i], names[count - 1 - i], CURSOR_NAME_MAX);
    out->chain_len = count;
    memcpy(out->receiver, out->chain[count - 1], CURSOR_NAME_MAX);
    out->kind = CURSOR_UNKNOWN;
    return true;
}

/* ---- the imports ---- */

typedef struct {
    const cursor_t *cursor;
    const char *name; /* the name looked for */
    char module[CURSOR_SPEC_MAX];
    char member[CURSOR_NAME_MAX];
    bool bound;      /* name is the module itself */
    bool aliased;    /* bound by `as` or an alias */
    bool from_names; /* name was imported from inside module */
    lang_id_t lang;
} import_find_t;

static int import_match(const importscan_t *imp, void *arg) {
    import_find_t *f = arg;
    size_t n = strlen(f->name);
    if (imp->binds && imp->binds_len == n && !memcmp(imp->binds, f->name, n)) {
        snprintf(f->module, sizeof f->module, "%.*s", (int)imp->module_len, imp->module);
        f->bound = true;
        f->from_names = false;
        f->aliased = imp->flags & IMPORTSCAN_ALIASED;
        f->lang = imp->lang;
        f->member[0] = '\0';
    }
    for (size_t i = 0; i < imp->name_count; i++) {
        const importscan_name_t *nm = &imp->names[i];
        if (nm->local_len == n && !memcmp(nm->local, f->name, n)) {
            snprintf(f->module, sizeof f->module, "%.*s", (int)imp->module_len, imp->module);
            snprintf(f->member, sizeof f->member, "%.*s", (int)nm->name_len, nm->name);
            f->bound = false;
            f->from_names = true;
            f->lang = imp->lang;
        }
    }
    return 0; /* the last import of the name wins, as in the languages */
}

/* Where the prefix imports name from; false when it does not. */
static bool import_find(const text_t *t, const char *name, import_find_t *f) {
    memset(f, 0, sizeof *f);
    f->name = name;
    importscan_text(t->lang, t->prefix, t->prefix_len, import_match, f);
    return f->bound || f->from_names;
}

/* Python's `import a.b` binds `a`; `a.b.c.` then names module a.b.c when
 * the import named it: the longest import of the chain wins. */
static void python_dotted(const cursor_t *c, const import_find_t *f, char *module, size_t cap) {
    snprintf(module, cap, "%s", f->module);
    if (f->aliased || c->chain_len < 2)
        return;
    char joined[CURSOR_SPEC_MAX] = "";
    size_t n = 0;
    for (int i = 0; i < c->chain_len && n < sizeof joined; i++)
        n += (size_t)snprintf(joined + n, sizeof joined - n, "%s%s", i ? "." : "", c->chain[i]);
    size_t m = strlen(f->module);
    if (!strncmp(joined, f->module, m) && (joined[m] == '.' || !joined[m]))
        snprintf(module, cap, "%s", joined);
}

static bool rust_anchor(const char *name) {
    return !strcmp(name, "crate") || !strcmp(name, "self") || !strcmp(name, "super");
}

/* The module a Rust path names (`task::local` with `task` bound by a `use`:
 * the use's path and ::local) into module[CURSOR_SPEC_MAX]. */
static bool rust_module(const text_t *t, const char *path, char *module) {
    const char *sep = strstr(path, "::");
    size_t first_len = sep ? (size_t)(sep - path) : strlen(path);
    char first[CURSOR_NAME_MAX];
    import_find_t f;
    if (!copy_name(first, path, first_len))
        return false;
    bool bound = !rust_anchor(first) && import_find(t, first, &f) && f.bound;
    int n = snprintf(module, CURSOR_SPEC_MAX, "%s%s", bound ? f.module : first, sep ? sep : "");
    return n > 0 && n < CURSOR_SPEC_MAX;
}

/* A Rust path (`crate::a::b::`, `super::`, `tokio::time::`, `task::local::`
 * with `task` bound by a `use`): the module it names, with a capitalised
 * last name read as a type of the module before it (`runtime::Runtime::`).
 * False when the chain is one plain name, which the other rules read. */
static bool rust_path(const text_t *t, cursor_t *out) {
    bool anchor = rust_anchor(out->chain[0]);
    if (strcmp(out->op, "::") || (out->chain_len < 2 && !anchor))
        return false;
    int names = out->chain_len;
    bool type = names >= 2 && capitalised(out->chain[names - 1]);
    if (type)
        names--;
    char path[CURSOR_SPEC_MAX];
    int n = 0;
    for (int i = 0; i < names && n >= 0 && (size_t)n < sizeof path; i++)
        n += snprintf(path + n, sizeof path - (size_t)n, "%s%s", i ? "::" : "", out->chain[i]);
    if (n <= 0 || (size_t)n >= sizeof path || !rust_module(t, path, out->module))
        return false;
    out->kind = type ? CURSOR_TYPE : CURSOR_MODULE;
    if (type)
        snprintf(out->type, sizeof out->type, "%s", out->chain[out->chain_len - 1]);
    return true;
}

/* ---- declarations before the cursor ---- */

/* The type named at s[i..]: skips `&`, `*`, `mut `, `new `, `const `; a
 * dotted path gives its last name and, in qualifier, the first; a :: path
 * its last name and all the names before (`crate::io::Driver`: Driver in
 * crate::io).  Returns false when no capitalised name (or any name with
 * allow_lower) is there. */
static bool type_at(const text_t *t, size_t i, char *type, char *qualifier, bool allow_lower) {
    qualifier[0] = '\0';
    for (;;) {
        i = skip_space(t, i);
        if (i < t->n && (t->s[i] == '&' || t->s[i] == '*' || t->s[i] == '(')) {
            i++;
            continue;
        }
        if (word_at(t, i, "mut") || word_at(t, i, "new") || word_at(t, i, "const") ||
            word_at(t, i, "await")) {
            i += ident_at(t, i);
            continue;
        }
        break;
    }
    size_t n = ident_at(t, i);
    if (!n || !copy_name(type, t->s + i, n))
        return false;
    i += n;
    /* pkg.Type, mod::Type, a.b.Type */
    for (bool path = true;;) {
        size_t sep = i + 1 < t->n && t->s[i] == ':' && t->s[i + 1] == ':' ? 2
                     : i < t->n && t->s[i] == '.'                         ? 1
                                                                          : 0;
        size_t m = sep ? ident_at(t, i + sep) : 0;
        if (!m)
            break;
        size_t q = strlen(qualifier);
        if (!q)
            snprintf(qualifier, CURSOR_NAME_MAX, "%s", type);
        else if (sep == 2 && path && q + 2 + strlen(type) < CURSOR_NAME_MAX) {
            memcpy(qualifier + q, "::", 2);
            memcpy(qualifier + q + 2, type, strlen(type) + 1);
        } else
            path = false; /* a dotted path, or one too long: its first name */
        if (!copy_name(type, t->s + i + sep, m))
            return false;
        i += sep + m;
    }
    return allow_lower || capitalised(type);
}

/* Go: `pkg.NewFoo(` makes a Foo; Rust `Foo::new(`/`Foo::default(` and
 * `Foo::with_x(` a Foo (handled by the caller keeping the qualifier). */
static void constructor_type(char *type) {
    if (!strncmp(type, "New", 3) && capitalised(type + 3) && type[3])
        memmove(type, type + 3, strlen(type + 3) + 1);
}

/* The start of the line holding i. */
static size_t line_start(const text_t *t, size_t i) {
    while (i > 0 && t->s[i - 1] != '\n')
        i--;
    return i;
}

/* The type written right before the name at `at` (`Foo name`, `Foo<T>
 * name`: Java, C#, C++), capitalised, into type. */
static bool type_before(const text_t *t, size_t at, char *type) {
    size_t before = skip_space_back(t, at);
    if (before >= at || before == 0)
        return false;
    size_t end = before;
    if (t->s[end - 1] == '>') { /* skip generic arguments */
        int depth = 0;
        while (end > 0) {
            char c = t->s[--end];
            depth += c == '>' ? 1 : c == '<' ? -1 : 0;
            if (depth == 0)
                break;
        }
    }
    size_t ts = ident_back(t, end);
    char found[CURSOR_NAME_MAX];
    if (ts < end && copy_name(found, t->s + ts, end - ts) && capitalised(found) &&
        line_start(t, ts) <= ts) {
        memcpy(type, found, strlen(found) + 1);
        return true;
    }
    return false;
}

/* Which declarations before the cursor are still in scope there, in a
 * language with braces, kept while reading backwards from the cursor: none
 * inside a block that closed before it, nor among the parameters of a
 * function whose body did (a block's `{` after them that is not open at
 * the cursor).  A local of an earlier function (`(effect: Effect<A>)` in
 * one of a module's signatures) does not type a namespace used later. */
typedef struct {
    int closed;            /* blocks closed before the cursor, around here */
    int parens;            /* parenthesis groups around here */
    bool body_open;        /* the nearest `{` read is one the cursor is in */
    uint64_t param_scoped; /* bit k: group k's body is open (or none read) */
} scope_t;

static void scope_read(scope_t *sc, const text_t *t, size_t at) {
    if (!is_code(t, at))
        return;
    switch (t->s[at]) {
    case '}':
        sc->closed++;
        break;
    case '{':
        sc->body_open = sc->closed == 0;
        sc->closed -= sc->closed > 0;
        break;
    case ')':
        if (sc->closed == 0 && sc->parens < 64) {
            uint64_t bit = (uint64_t)1 << sc->parens;
            sc->param_scoped = sc->body_open ? sc->param_scoped | bit : sc->param_scoped & ~bit;
        }
        sc->parens++;
        break;
    case '(':
        sc->parens -= sc->parens > 0;
        break;
    }
}

static bool scope_holds(const scope_t *sc) {
    if (sc->closed > 0)
        return false;
    int inner = sc->parens - 1;
    return inner < 0 || inner >= 64 || (sc->param_scoped >> inner & 1);
}

/* Finds the declaration of name nearest before the end of the window and
 * the type it shows.  Patterns, at a word boundary on code:
 *   name = Foo(  name = mod.Foo(  name = new Foo(  name := pkg.NewFoo(
 *   name := &Foo{  name := Foo{  name = Foo::new(  (let|var|const) name ...
 *   name, err := pkg.Open(  (Go: the type is what Open returns; in *call)
 *   name: Foo  (annotations, parameters: Python, TS, Rust, Kotlin)
 *   var name Foo  name *Foo  (Go)    Foo name =  Foo name;  Foo<T> name (Java, C#)
 * scoped: the name is a variable (not an attribute set in another method),
 * so only declarations in scope at the cursor count (not in Python, whose
 * blocks are its indentation).
 */
static bool declaration_find(const text_t *t, const char *name, bool scoped, char *type,
                             char *qualifier, char *call) {
    size_t n = strlen(name);
    call[0] = '\0';
    scoped = scoped && t->lang != LANG_PYTHON && t->lang != LANG_UNKNOWN;
    scope_t sc = {.body_open = true};
    for (size_t at = t->n; at-- > 0;) {
        if (scoped)
            scope_read(&sc, t, at);
        if (!word_at(t, at, name) || !is_code(t, at) || at + n >= t->n)
            continue;
        if (scoped && !scope_holds(&sc))
            continue;
        size_t i = skip_space(t, at + n);
        char q[CURSOR_NAME_MAX];
        /* Go: name, err := ... (name first of the names assigned) */
        while (t->lang == LANG_GO && i < t->n && t->s[i] == ',') {
            size_t next = skip_space(t, i + 1), m = ident_at(t, next);
            if (!m)
                break;
            i = skip_space(t, next + m);
        }
        /* name = ..., name := ... (not ==) */
        if (i < t->n &&
            (t->s[i] == '=' || (t->s[i] == ':' && i + 1 < t->n && t->s[i + 1] == '='))) {
            size_t after = i + (t->s[i] == ':' ? 2 : 1);
            if (after < t->n && t->s[after] == '=')
                continue;
            /* `LHS lhs = Reflect.getField(...)`: the declared type, not a
             * guess from the call (`Foo f = new Foo()` reads on) */
            if (!word_at(t, skip_space(t, after), "new") && type_before(t, at, type)) {
                qualifier[0] = '\0';
                return true;
            }
            if (type_at(t, after, type, q, true)) {
                size_t j = after;
                while (j < t->n && t->s[j] != '\n' && t->s[j] != '(' && t->s[j] != '{')
                    j++;
                bool made = j < t->n && (t->s[j] == '(' || t->s[j] == '{');
                bool keyword = !strcmp(type, "map") || !strcmp(type, "struct") ||
                               !strcmp(type, "func") || !strcmp(type, "chan");
                if (t->lang == LANG_GO && made && !keyword) {
                    /* T{...}, &T{...}: a T, exported or not; F(...): what F
                     * returns, a Foo when F is NewFoo (a guess) */
                    if (t->s[j] == '(') {
                        snprintf(call, CURSOR_NAME_MAX, "%s", type);
                        constructor_type(type);
                        if (!strcmp(type, call) && !capitalised(type))
                            type[0] = '\0';
                    }
                    snprintf(qualifier, CURSOR_NAME_MAX, "%s", q);
                    return true;
                }
                bool call_made = made;
                constructor_type(type);
                /* Foo::new(), a::Foo::new(): the type is the qualifier's
                 * last name */
                char *last = strrchr(q, ':');
                last = last ? last + 1 : q;
                if (*last && capitalised(last) && !capitalised(type)) {
                    snprintf(type, CURSOR_NAME_MAX, "%s", last);
                    if (last == q)
                        q[0] = '\0';
                    else
                        last[-2] = '\0'; /* the `::` before it */
                }
                if (call_made && capitalised(type)) {
                    snprintf(qualifier, CURSOR_NAME_MAX, "%s", q);
                    return true;
                }
                /* `decl = registry(...)`, `const s = makeStore()`: what a
                 * lower-case call makes, its definition says (a return
                 * type, or a class of that name) */
                if (call_made && !capitalised(type) && strcmp(type, "require") != 0 &&
                    (t->lang == LANG_PYTHON || t->lang == LANG_TYPESCRIPT ||
                     t->lang == LANG_JAVASCRIPT || t->lang == LANG_RUST)) {
                    snprintf(call, CURSOR_NAME_MAX, "%s", type);
                    type[0] = '\0';
                    snprintf(qualifier, CURSOR_NAME_MAX, "%s", q);
                    return true;
                }
            }
            continue;
        }
        /* name: Foo (an annotation or a parameter), not `name::` */
        if (i < t->n && t->s[i] == ':' && !(i + 1 < t->n && t->s[i + 1] == ':')) {
            if (type_at(t, i + 1, type, q, false)) {
                snprintf(qualifier, CURSOR_NAME_MAX, "%s", q);
                return true;
            }
            /* Java's `for (Foo x : items)` */
            if (type_before(t, at, type)) {
                qualifier[0] = '\0';
                return true;
            }
            continue;
        }
        /* Go: var name Foo / name *Foo (a parameter) */
        if (t->lang == LANG_GO && type_at(t, i, type, q, false)) {
            snprintf(qualifier, CURSOR_NAME_MAX, "%s", q);
            return true;
        }
        /* Java, C#, C++, TS: Foo name = / Foo name; / Foo<T> name */
        if (type_before(t, at, type)) {
            qualifier[0] = '\0';
            return true;
        }
    }
    return false;
}

/* ---- the enclosing class ---- */

static int indent_of(const text_t *t, size_t line) {
    int n = 0;
    while (line < t->n && (t->s[line] == ' ' || t->s[line] == '\t')) {
        n += t->s[line] == '\t' ? 8 : 1;
        line++;
    }
    return n;
}

static bool blank_line(const text_t *t, size_t line) {
    size_t i = skip_space(t, line);
    return i >= t->n || t->s[i] == '\n' || t->s[i] == '#';
}

/* Adds the names of a comma-separated base list s[i..end) to out->bases:
 * the last component of each (`mod.Base` -> Base), keyword arguments and
 * generic arguments skipped. */
static void bases_read(const text_t *t, size_t i, size_t end, cursor_t *out) {
    while (i < end && out->base_count < CURSOR_BASES_MAX) {
        i = skip_space(t, i);
        char type[CURSOR_NAME_MAX], q[CURSOR_NAME_MAX];
        size_t n = ident_at(t, i);
        if (n && !word_at(t, i, "implements") && !word_at(t, i, "extends") &&
            type_at(t, i, type, q, true)) {
            size_t after = skip_space(t, i + n);
            bool keyword = after < end && t->s[after] == '=';
            if (!keyword && strcmp(type, "object") != 0)
                memcpy(out->bases[out->base_count++], type, CURSOR_NAME_MAX);
        }
        int depth = 0; /* to the next comma outside brackets */
        while (i < end) {
            char c = t->s[i];
            if (c == '(' || c == '<' || c == '[')
                depth++;
            else if ((c == ')' || c == '>' || c == ']') && depth > 0)
                depth--;
            else if ((c == ',' || c == ' ') && depth == 0)
                break;
            i++;
        }
        i++;
    }
}

/* Python: the nearest `class Name(Bases):` whose body holds the cursor. */
static bool python_class(const text_t *t, cursor_t *out) {
    size_t line = line_start(t, t->n);
    int limit = indent_of(t, line);
    while (line > 0) {
        line = line_start(t, line - 1);
        if (blank_line(t, line) || !is_code(t, skip_space(t, line)))
            continue;
        int indent = indent_of(t, line);
        if (indent >= limit)
            continue;
        limit = indent;
        size_t i = skip_space(t, line);
        if (word_at(t, i, "class")) {
            i = skip_space(t, i + 5);
            size_t n = ident_at(t, i);
            if (!copy_name(out->type, t->s + i, n))
                return false;
            i += n;
            if (i < t->n && t->s[i] == '(') {
                size_t close = i;
                while (close < t->n && t->s[close] != ')')
                    close++;
                bases_read(t, i + 1, close, out);
            }
            return true;
        }
        if (indent == 0)
            return false;
    }
    return false;
}

/* Brace languages: the next block out from before *i, the innermost `{`
 * not closed before *i, into *i, and the start of its header (back to the
 * previous `;`, `{` or `}`) into *h.  False when there is none. */
static bool block_out(const text_t *t, size_t *i, size_t *h) {
    int depth = 0;
    while ((*i)-- > 0) {
        if (!is_code(t, *i) || (t->s[*i] != '{' && t->s[*i] != '}'))
            continue;
        if (t->s[*i] == '}') {
            depth++;
            continue;
        }
        if (depth > 0) {
            depth--;
            continue;
        }
        *h = *i;
        while (*h > 0 && !(is_code(t, *h - 1) &&
                           (t->s[*h - 1] == ';' || t->s[*h - 1] == '{' || t->s[*h - 1] == '}')))
            --*h;
        return true;
    }
    *i = 0;
    return false;
}

/* Brace languages: the innermost unclosed `{` whose header declares a
 * class, interface, struct, object or (Rust) impl. */
static bool brace_class(const text_t *t, cursor_t *out, char *receiver) {
    for (size_t i = t->n, h; block_out(t, &i, &h);) {
        for (size_t k = h; k < i; k++) {
            if (!is_code(t, k))
                continue;
            if (t->lang == LANG_GO && word_at(t, k, "func")) {
                /* func (r *T) Name(...) { */
                size_t p = skip_space(t, k + 4);
                if (p < i && t->s[p] == '(') {
                    size_t rn = ident_at(t, skip_space(t, p + 1));
                    size_t r = skip_space(t, p + 1);
                    char q[CURSOR_NAME_MAX];
                    if (rn && copy_name(receiver, t->s + r, rn) &&
                        type_at(t, r + rn, out->type, q, true))
                        return true;
                }
                break;
            }
            bool is_impl = t->lang == LANG_RUST && word_at(t, k, "impl");
            if (is_impl) {
                /* impl Type / impl<T> Trait for Type */
                size_t p = k + 4, last = 0;
                for (size_t q = p; q < i; q++)
                    if (word_at(t, q, "for"))
                        last = q + 3;
                p = last ? last : p;
                p = skip_space(t, p);
                if (p < i && t->s[p] == '<') {
                    int d = 0;
                    while (p < i) {
                        d += t->s[p] == '<' ? 1 : t->s[p] == '>' ? -1 : 0;
                        p++;
                        if (d == 0)
                            break;
                    }
                }
                char q[CURSOR_NAME_MAX];
                return type_at(t, p, out->type, q, true);
            }
            if (word_at(t, k, "class") || word_at(t, k, "interface") || word_at(t, k, "object") ||
                (word_at(t, k, "struct") && t->lang != LANG_GO) || word_at(t, k, "trait")) {
                size_t p = skip_space(t, k + ident_at(t, k));
                size_t n = ident_at(t, p);
                if (!copy_name(out->type, t->s + p, n))
                    return false;
                p += n;
                /* extends A implements B, C / : A(), B (Kotlin, C#, C++) */
                for (size_t q = p; q < i; q++) {
                    if (word_at(t, q, "extends") || word_at(t, q, "implements")) {
                        bases_read(t, q + ident_at(t, q), i, out);
                        break;
                    } else if (t->s[q] == ':' && is_code(t, q) &&
                               !(q + 1 < i && t->s[q + 1] == ':')) {
                        bases_read(t, q + 1, i, out);
                        break;
                    }
                }
                return true;
            }
        }
    }
    return false;
}

/* The bases declared by the header at s[p..] (just after the class's
 * name) into out: Python `(A, B):`, or before the body's `{` (or a `;`)
 * `extends A implements B`, `: A, B`. */
static void header_bases(const text_t *t, size_t p, cursor_t *out) {
    size_t q = skip_space(t, p);
    if (t->lang == LANG_PYTHON || (q < t->n && t->s[q] == '(')) {
        if (q >= t->n || t->s[q] != '(')
            return;
        size_t close = q;
        while (close < t->n && t->s[close] != ')')
            close++;
        bases_read(t, q + 1, close, out);
        return;
    }
    size_t end = q;
    while (end < t->n && !(is_code(t, end) && (t->s[end] == '{' || t->s[end] == ';')))
        end++;
    for (; q < end; q++) {
        if (!is_code(t, q))
            continue;
        if (word_at(t, q, "extends") || word_at(t, q, "implements")) {
            /* extends A implements B: both lists */
            size_t from = q + ident_at(t, q);
            size_t to = from;
            while (to < end && !word_at(t, to, "implements"))
                to++;
            bases_read(t, from, to, out);
            if (to < end)
                bases_read(t, to + ident_at(t, to), end, out);
            return;
        }
        if (t->s[q] == ':' && !(q + 1 < end && t->s[q + 1] == ':')) {
            bases_read(t, q + 1, end, out);
            return;
        }
    }
}

int cursor_class_bases(lang_id_t lang, const char *text, size_t len, const char *name,
                       char out[][CURSOR_NAME_MAX]) {
    size_t nlen = name ? strlen(name) : 0;
    if (!text || len == 0 || nlen == 0 || nlen >= CURSOR_NAME_MAX)
        return 0;
    text_t t = {.lang = lang, .s = text, .n = len > WINDOW ? WINDOW : len};
    t.prefix = text, t.prefix_len = t.n;
    if (!(t.code = malloc(t.n)))
        return 0;
    codemask_build(t.lang, t.s, t.n, t.code);
    static const char *const words[] = {"class", "interface", "struct", "trait", "object"};
    cursor_t found;
    memset(&found, 0, sizeof found);
    for (size_t i = 0; i < t.n; i++) {
        if (!is_code(&t, i) || !ident_ascii_start((unsigned char)t.s[i]) ||
            (i > 0 && ident_ascii_char((unsigned char)t.s[i - 1])))
            continue;
        size_t k = 0;
        while (k < sizeof words / sizeof words[0] && !word_at(&t, i, words[k]))
            k++;
        if (k == sizeof words / sizeof words[0])
            continue;
        size_t p = skip_space(&t, i + strlen(words[k]));
        if (ident_at(&t, p) != nlen || memcmp(t.s + p, name, nlen) != 0)
            continue;
        header_bases(&t, p + nlen, &found);
        break;
    }
    free(t.code);
    int n = 0;
    for (int b = 0; b < found.base_count; b++)
        if (strcmp(found.bases[b], name) != 0)
            memcpy(out[n++], found.bases[b], CURSOR_NAME_MAX);
    return n;
}

/* ---- putting it together ---- */

static void type_module(const text_t *t, cursor_t *out, const char *qualifier) {
    /* Rust: `a::b::Foo`, `self::Foo` name Foo's module themselves */
    if (t->lang == LANG_RUST && qualifier && (strstr(qualifier, "::") || rust_anchor(qualifier))) {
        if (!rust_module(t, qualifier, out->module))
            out->module[0] = '\0';
        return;
    }
    import_find_t f;
    const char *look = qualifier && *qualifier ? qualifier : out->type;
    if (import_find(t, look, &f)) {
        snprintf(out->module, sizeof out->module, "%s", f.module);
        if (f.from_names && (!qualifier || !*qualifier) && strcmp(f.member, out->type) != 0)
            snprintf(out->type, sizeof out->type, "%s", f.member); /* imported under an alias */
    }
}

static bool self_word(const text_t *t, const char *name) {
    if (!strcmp(name, "this"))
        return t->lang != LANG_PYTHON;
    if (!strcmp(name, "self"))
        return t->lang == LANG_PYTHON || t->lang == LANG_RUST || t->lang == LANG_SWIFT ||
               t->lang == LANG_RUBY || t->lang == LANG_UNKNOWN;
    return false;
}

/* The class the cursor is in (for a Go method, its receiver's type, and the
 * receiver's name in receiver). */
static bool enclosing_class(const text_t *t, cursor_t *out, char *receiver) {
    receiver[0] = '\0';
    if (t->lang == LANG_PYTHON)
        return python_class(t, out);
    if (t->lang == LANG_UNKNOWN && python_class(t, out))
        return true;
    return brace_class(t, out, receiver);
}

/* ---- the enclosing function ---- */

/* Python: the nearest `def` of a smaller indent than the cursor's line,
 * unless a `class` comes first. */
static bool python_function(const text_t *t, char *out) {
    size_t line = line_start(t, t->n);
    int limit = indent_of(t, line);
    while (line > 0) {
        line = line_start(t, line - 1);
        size_t first = skip_space(t, line);
        if (blank_line(t, line) || !is_code(t, first) || strchr(")]}", t->s[first]))
            continue; /* the `):` closing a signature is as deep as its `def` */
        int indent = indent_of(t, line);
        if (indent >= limit)
            continue;
        limit = indent;
        size_t i = skip_space(t, line);
        if (word_at(t, i, "async"))
            i = skip_space(t, i + 5);
        if (word_at(t, i, "def")) {
            i = skip_space(t, i + 3);
            return copy_name(out, t->s + i, ident_at(t, i));
        }
        if (word_at(t, i, "class") || indent == 0)
            return false;
    }
    return false;
}

/* Words before `(` that open no function: `if (x) {`, `catch (e) {`. */
static bool control_word(const char *s, size_t n) {
    static const char *const words[] = {"if",     "for",          "while",   "switch", "catch",
                                        "with",   "synchronized", "foreach", "using",  "lock",
                                        "return", "new",          "typeof",  "await",  "fixed"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && !memcmp(s, words[i], n))
            return true;
    return false;
}

/* What the block header s[h..end) (up to its `{`) declares: 1 a function
 * named into out, -1 a class (no function encloses), 0 neither (a
 * control block, an anonymous callback, an object literal). */
static int function_header(const text_t *t, size_t h, size_t end, char *out) {
    bool arrow = false;
    for (size_t k = h; k + 1 < end; k++)
        arrow |= is_code(t, k) && t->s[k] == '=' && t->s[k + 1] == '>';
    for (size_t k = h; k < end; k++) {
        if (!is_code(t, k) || (k > h && ident_char_len_before(t->s, k)) ||
            (k > h && t->s[k - 1] == '.')) /* `X.class`, `foo.fn` */
            continue;
        if (word_at(t, k, "class") || word_at(t, k, "interface") || word_at(t, k, "struct") ||
            word_at(t, k, "impl") || word_at(t, k, "trait") || word_at(t, k, "enum")) {
            /* `struct {` (a Go or C struct type's fields) is none either way */
            return -1;
        }
        static const char *const keywords[] = {"func", "fn", "function", "fun", "def", "sub"};
        for (size_t w = 0; w < sizeof keywords / sizeof keywords[0]; w++) {
            if (!word_at(t, k, keywords[w]))
                continue;
            size_t p = skip_space(t, k + strlen(keywords[w]));
            if (t->lang == LANG_GO && p < end && t->s[p] == '(') { /* func (r *T) Name( */
                int depth = 0;
                for (; p < end; p++) {
                    depth += t->s[p] == '(' ? 1 : t->s[p] == ')' ? -1 : 0;
                    if (depth == 0)
                        break;
                }
                p = skip_space(t, p + 1);
            }
            if (p < end && t->s[p] == '*') /* function* gen( */
                p = skip_space(t, p + 1);
            size_t n = ident_at(t, p);
            return n && copy_name(out, t->s + p, n) ? 1 : 0; /* `func() {`: anonymous */
        }
    }
    if (t->lang == LANG_GO || t->lang == LANG_RUST || t->lang == LANG_PYTHON)
        return 0; /* their functions say `func`, `fn`, `def` */
    if (arrow) {
        /* `const load = (x) => {`, `load: async (x) => {`: the name the
         * arrow function is given, else an anonymous callback */
        size_t k = h;
        while (k < end && !(is_code(t, k) && (t->s[k] == '=' || t->s[k] == ':')))
            k++;
        size_t b = skip_space_back(t, k), a = ident_back(t, b);
        return k < end && a < b && t->s[k + 1] != '>' && copy_name(out, t->s + a, b - a) ? 1 : 0;
    }
    /* `name(params) ... {` (a method, a C or Java function): the last
     * name before a `(` closed in the header */
    size_t name_at = 0, name_len = 0;
    for (size_t k = h; k < end; k++) {
        if (!is_code(t, k) || t->s[k] != '(')
            continue;
        int depth = 0;
        size_t close = k;
        for (; close < end; close++) {
            depth += !is_code(t, close) ? 0 : t->s[close] == '(' ? 1 : t->s[close] == ')' ? -1 : 0;
            if (depth == 0)
                break;
        }
        if (close == end)
            return 0; /* a call's argument: `foo.map(|x| {`, `run(function () {` */
        size_t b = skip_space_back(t, k), a = ident_back(t, b);
        if (a < b && !(a > 0 && t->s[a - 1] == '@')) { /* not `@Test(` */
            name_at = a;
            name_len = b - a;
        }
        k = close;
    }
    if (!name_len || control_word(t->s + name_at, name_len))
        return 0;
    return copy_name(out, t->s + name_at, name_len) ? 1 : 0;
}

/* Brace languages: the innermost unclosed `{` whose header names a
 * function, through blocks that name none; none inside a class's body. */
static bool brace_function(const text_t *t, char *out) {
    for (size_t i = t->n, h; block_out(t, &i, &h);) {
        int what = function_header(t, h, i, out);
        if (what != 0)
            return what > 0;
    }
    return false;
}

bool cursor_function(lang_id_t lang, const char *prefix, size_t len, char out[CURSOR_NAME_MAX]) {
    out[0] = '\0';
    text_t t;
    if (!text_open(&t, lang, prefix, len, WINDOW))
        return false;
    bool found = lang == LANG_PYTHON ? python_function(&t, out) : brace_function(&t, out);
    free(t.code);
    if (!found)
        out[0] = '\0';
    return found;
}

/* ---- the name a statement declares ---- */

/* A statement's text is read back this far at most (a type annotation
 * over a few hundred lines is the longest seen). */
#define DECLARED_WINDOW 65536

/* Whether s[i] closes (1) or opens (-1) a bracket, reading back; 0 for
 * neither (the `>` of `=>` and `->` is none). */
static int bracket_back(const text_t *t, size_t i) {
    char c = t->s[i];
    if (!is_code(t, i))
        return 0;
    if (c == ')' || c == ']' || c == '}')
        return 1;
    if (c == '(' || c == '[' || c == '{')
        return -1;
    if (c == '>')
        return i > 0 && (t->s[i - 1] == '=' || t->s[i - 1] == '-') ? 0 : 1;
    if (c == '<')
        return -1;
    return 0;
}

static bool declared_read(const text_t *t, char *out) {
    /* back over the name typed and the receiver: `internal.split`, `a::b::` */
    size_t i = t->n;
    for (;;) {
        i = ident_back(t, i);
        char op[3];
        size_t n = i > 0 ? operator_back(t, i, op) : 0;
        if (!n || op[0] == '-' || op[0] == '?')
            break;
        i -= n;
    }
    i = skip_space_back(t, i);
    /* `=` or `:=`, not `==`, `<=`, `+=`, `=>` */
    if (i == 0 || t->s[i - 1] != '=' || !is_code(t, i - 1))
        return false;
    i--;
    if (i > 0 && strchr("=!<>+-*/%&|^", t->s[i - 1]))
        return false;
    if (i > 0 && t->s[i - 1] == ':')
        i--; /* Go's := */
    /* back to the statement's start, over brackets (a type annotation's) */
    int depth = 0;
    size_t start = i, colon = 0;
    while (start > 0) {
        size_t k = start - 1;
        int b = bracket_back(t, k);
        if (b > 0) {
            depth++;
        } else if (b < 0) {
            if (depth == 0)
                break;
            depth--;
        } else if (depth == 0 && is_code(t, k)) {
            char c = t->s[k];
            if (c == ';' || c == '\n' || c == ',')
                break;
            if (c == ':' && !(k > 0 && t->s[k - 1] == ':') && t->s[k + 1] != ':')
                colon = k; /* an annotation's: the leftmost stays */
        }
        start = k;
    }
    if (depth != 0 || (start > 0 && (t->s[start - 1] == ',' || t->s[start - 1] == '(')))
        return false; /* `a, b = ` sets two; `f(x = ` is an argument */
    size_t end = skip_space_back(t, colon ? colon : i);
    size_t at = ident_back(t, end);
    return at < end && at >= start && copy_name(out, t->s + at, end - at);
}

bool cursor_declared(lang_id_t lang, const char *prefix, size_t len, char out[CURSOR_NAME_MAX]) {
    out[0] = '\0';
    text_t t;
    if (!text_open(&t, lang, prefix, len, DECLARED_WINDOW))
        return false;
    bool found = declared_read(&t, out);
    free(t.code);
    if (!found)
        out[0] = '\0';
    return found;
}

bool cursor_enclosing(lang_id_t lang, const char *prefix, size_t len, cursor_t *out) {
    memset(out, 0, sizeof *out);
    text_t t;
    if (!text_open(&t, lang, prefix, len, WINDOW))
        return false;
    char receiver[CURSOR_NAME_MAX];
    bool found = enclosing_class(&t, out, receiver);
    free(t.code);
    if (!found) {
        memset(out, 0, sizeof *out);
        return false;
    }
    out->kind = CURSOR_SELF;
    return true;
}

void cursor_read(lang_id_t lang, const char *prefix, size_t len, cursor_t *out) {
    memset(out, 0, sizeof *out);
    if (!prefix || len == 0)
        return;
    text_t t = {.lang = lang, .prefix = prefix, .prefix_len = len};
    t.n = len > WINDOW ? WINDOW : len;
    t.s = prefix + len - t.n;
    t.code = malloc(t.n ? t.n : 1);
    if (!t.code)
        return;
    codemask_build(t.lang, t.s, t.n, t.code);
    if (!receiver_read(&t, out) || out->chain_len == 0)
        goto done;
    const char *first = out->chain[0];
    char receiver[CURSOR_NAME_MAX];

    /* Rust paths: crate::a::b::, super::, a::b:: */
    if ((lang == LANG_RUST || lang == LANG_UNKNOWN) && rust_path(&t, out))
        goto done;

    /* self. / this. (and self.x. / this.x.) */
    if (self_word(&t, first)) {
        cursor_t cls = *out;
        if (!enclosing_class(&t, &cls, receiver))
            goto done;
        if (out->chain_len == 1) {
            out->kind = CURSOR_SELF;
            memcpy(out->type, cls.type, sizeof out->type);
            memcpy(out->bases, cls.bases, sizeof out->bases);
            out->base_count = cls.base_count;
            goto done;
        }
        if (out->chain_len == 2) { /* self.x = Foo(...) somewhere above */
            char type[CURSOR_NAME_MAX], q[CURSOR_NAME_MAX];
            if (declaration_find(&t, out->chain[1], false, type, q, out->call)) {
                out->kind = CURSOR_VALUE;
                memcpy(out->type, type, sizeof out->type);
                type_module(&t, out, q);
            }
        }
        goto done;
    }

    /* Go: the receiver of the method the cursor is in */
    if (lang == LANG_GO && out->chain_len == 1) {
        cursor_t cls = *out;
        if (enclosing_class(&t, &cls, receiver) && !strcmp(receiver, first)) {
            out->kind = CURSOR_SELF;
            memcpy(out->type, cls.type, sizeof out->type);
            goto done;
        }
    }

    /* a variable declared above and in scope (nearer than any import) */
    char type[CURSOR_NAME_MAX], q[CURSOR_NAME_MAX];
    import_find_t f;
    bool imported = false;
    if (out->chain_len == 1 && declaration_find(&t, first, true, type, q, out->call)) {
        /* a lower-case call's value, where the name is also imported
         * (Python's blocks are not scopes: `schema = fmt(...)` in another
         * method, `from . import schema` at the top): the import */
        imported = lang != LANG_GO && !type[0] && import_find(&t, first, &f);
        if (!imported) {
            out->kind = CURSOR_VALUE;
            memcpy(out->type, type, sizeof out->type);
            type_module(&t, out, q);
            goto done;
        }
        out->call[0] = '\0';
    }

    /* a module, or a name imported from one */
    imported = imported || import_find(&t, first, &f);
    /* else a field, most likely of the type a declaration of the same name
     * out of scope shows (`Foo(NameSpace namespace) { this.namespace = ...`) */
    if (!imported && out->chain_len == 1 &&
        declaration_find(&t, first, false, type, q, out->call)) {
        out->kind = CURSOR_VALUE;
        memcpy(out->type, type, sizeof out->type);
        type_module(&t, out, q);
        goto done;
    }
    if (imported) {
        if (f.bound) {
            if (f.lang == LANG_PYTHON || lang == LANG_PYTHON)
                python_dotted(out, &f, out->module, sizeof out->module);
            else
                snprintf(out->module, sizeof out->module, "%s", f.module);
            bool java = f.lang == LANG_JAVA || f.lang == LANG_KOTLIN;
            out->kind = java && capitalised(first) ? CURSOR_TYPE : CURSOR_MODULE;
            if (out->kind == CURSOR_TYPE)
                snprintf(out->type, sizeof out->type, "%s", first);
        } else {
            snprintf(out->module, sizeof out->module, "%s", f.module);
            if (capitalised(f.member)) {
                out->kind = CURSOR_TYPE;
                snprintf(out->type, sizeof out->type, "%s", f.member);
            } else {
                out->kind = CURSOR_MODULE;
                snprintf(out->member_of, sizeof out->member_of, "%s", f.member);
            }
        }
        goto done;
    }

    /* Foo. / Foo:: with Foo a type of this file or the language */
    if (capitalised(first) && out->chain_len == 1) {
        out->kind = CURSOR_TYPE;
        snprintf(out->type, sizeof out->type, "%s", first);
    }
done:
    free(t.code);
}
