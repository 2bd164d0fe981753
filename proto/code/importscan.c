/*
 * importscan (see importscan.h): one tokenizer and a recogniser per family
 * of import syntax.
 *
 * The tokenizer knows identifiers (ident.h's rule), strings (single, double
 * and backtick quotes; Python's triple quotes), comments (`//` and block
 * comments, or `#`, or both for LANG_UNKNOWN) and single punctuation bytes.
 * Each token knows whether it is the first of its line, which is what the
 * line-oriented statements (Python, Java, every statement for LANG_UNKNOWN)
 * need.  Recognisers pull tokens and may look ahead by copying the lexer,
 * which is a few words.  C includes are read line by line: `#include <x>`
 * is not made of tokens that mean anything elsewhere.
 *
 * Strings a record shows are either spans of the text or built in the
 * scanner's buffers (a Python dotted name written with spaces, a Java name,
 * a Rust use-tree leaf); all live until the callback returns.
 */
#include "proto/code/importscan.h"

#include "proto/code/ident.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORTSCAN_TEXT_MAX 4096 /* longest module name or use tree built */

typedef enum { TOKEN_END, TOKEN_IDENT, TOKEN_STRING, TOKEN_PUNCT } token_kind_t;

typedef struct {
    token_kind_t kind;
    const char *text; /* for strings, the contents without quotes */
    size_t len;
    int line;   /* where it starts */
    bool first; /* the first token of its line */
    char quote; /* the quote of a string */
    size_t end; /* offset just past it */
} token_t;

typedef struct {
    const char *data;
    size_t len, at;
    int line;           /* line at `at` */
    int last_line;      /* line where the previous token ended (0 before the first) */
    bool slash_comment; /* `//` and block comments */
    bool hash_comment;  /* `#` to the end of the line */
    bool triple_quote;  /* Python's """ and ''' strings */
} lexer_t;

typedef struct {
    lexer_t lx;
    lang_id_t lang;
    importscan_fn fn;
    void *arg;
    int rc; /* the callback's stop value, or -ENOMEM */
    importscan_name_t *names;
    size_t name_count, name_capacity;
} scan_t;

/* ---- tokens ---------------------------------------------------------------- */

static void lexer_skip_space(lexer_t *lx) {
    const char *d = lx->data;
    while (lx->at < lx->len) {
        char c = d[lx->at];
        if (c == '\n') {
            lx->line++;
            lx->at++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->at++;
        } else if (lx->hash_comment && c == '#') {
            while (lx->at < lx->len && d[lx->at] != '\n')
                lx->at++;
        } else if (lx->slash_comment && c == '/' && lx->at + 1 < lx->len && d[lx->at + 1] == '/') {
            while (lx->at < lx->len && d[lx->at] != '\n')
                lx->at++;
        } else if (lx->slash_comment && c == '/' && lx->at + 1 < lx->len && d[lx->at + 1] == '*') {
            lx->at += 2;
            while (lx->at + 1 < lx->len && !(d[lx->at] == '*' && d[lx->at + 1] == '/'))
                lx->line += d[lx->at++] == '\n';
            lx->at = lx->at + 2 <= lx->len ? lx->at + 2 : lx->len;
        } else {
            break;
        }
    }
}

/* A string from lx->at (at its opening quote).  Single and double quotes
 * end at the line's end (a Rust lifetime or a stray quote costs one line at
 * most); backticks and triple quotes may span lines. */
static token_t lexer_string(lexer_t *lx, token_t t) {
    const char *d = lx->data;
    char q = d[lx->at];
    bool triple = lx->triple_quote && q != '`' && lx->at + 2 < lx->len && d[lx->at + 1] == q &&
                  d[lx->at + 2] == q;
    lx->at += triple ? 3 : 1;
    size_t start = lx->at;
    while (lx->at < lx->len) {
        char c = d[lx->at];
        if (c == '\\' && lx->at + 1 < lx->len) {
            lx->line += d[lx->at + 1] == '\n';
            lx->at += 2;
            continue;
        }
        if (c == q &&
            (!triple || (lx->at + 2 < lx->len && d[lx->at + 1] == q && d[lx->at + 2] == q)))
            break;
        if (c == '\n') {
            if (!triple && q != '`')
                break;
            lx->line++;
        }
        lx->at++;
    }
    t.kind = TOKEN_STRING;
    t.text = d + start;
    t.len = lx->at - start;
    t.quote = q;
    if (lx->at < lx->len && d[lx->at] == q)
        lx->at += triple ? 3 : 1;
    return t;
}

static token_t lexer_next(lexer_t *lx) {
    lexer_skip_space(lx);
    token_t t = {TOKEN_END, lx->data + lx->at, 0, lx->line, false, 0, lx->at};
    if (lx->at >= lx->len)
        return t;
    t.first = lx->line != lx->last_line;
    const char *d = lx->data;
    char c = d[lx->at];
    size_t n;
    if (c == '"' || c == '\'' || c == '`') {
        t = lexer_string(lx, t);
    } else if ((n = ident_len(d + lx->at, lx->len - lx->at)) > 0) {
        t.kind = TOKEN_IDENT;
        t.len = n;
        lx->at += n;
    } else {
        t.kind = TOKEN_PUNCT;
        t.len = 1;
        lx->at++;
    }
    t.end = lx->at;
    lx->last_line = lx->line;
    return t;
}

static bool token_is(const token_t *t, token_kind_t kind, const char *text) {
    size_t n = strlen(text);
    return t->kind == kind && t->len == n && memcmp(t->text, text, n) == 0;
}

static bool is_word(const token_t *t, const char *word) {
    return token_is(t, TOKEN_IDENT, word);
}

static bool is_punct(const token_t *t, char c) {
    return t->kind == TOKEN_PUNCT && t->text[0] == c;
}

/* The next token without taking it. */
static token_t lexer_peek(const lexer_t *lx) {
    lexer_t copy = *lx;
    return lexer_next(&copy);
}

/* ---- records --------------------------------------------------------------- */

static void names_reset(scan_t *sc) {
    sc->name_count = 0;
}

static void names_add(scan_t *sc, const char *name, size_t name_len, const char *local,
                      size_t local_len) {
    if (name_len == 0 || local_len == 0 || sc->rc)
        return;
    if (sc->name_count == sc->name_capacity) {
        size_t capacity = sc->name_capacity ? sc->name_capacity * 2 : 16;
        importscan_name_t *grown = realloc(sc->names, capacity * sizeof *grown);
        if (!grown) {
            sc->rc = -ENOMEM;
            return;
        }
        sc->names = grown;
        sc->name_capacity = capacity;
    }
    sc->names[sc->name_count++] = (importscan_name_t){name, name_len, local, local_len};
}

/* Hands one record to the callback (names: those gathered since the last
 * names_reset()). */
static void emit(scan_t *sc, const char *module, size_t module_len, const char *binds,
                 size_t binds_len, unsigned flags, int line, size_t end) {
    if (sc->rc || module_len == 0)
        return;
    importscan_t record = {.lang = sc->lang,
                           .module = module,
                           .module_len = module_len,
                           .binds = binds_len ? binds : NULL,
                           .binds_len = binds_len,
                           .names = sc->name_count ? sc->names : NULL,
                           .name_count = sc->name_count,
                           .flags = flags,
                           .line = line,
                           .end = end};
    sc->rc = sc->fn(&record, sc->arg);
}

/* ---- Python ---------------------------------------------------------------- */

/* Python statements run to the end of their logical line: a token that
 * starts a line ends them unless brackets are open or the line before
 * ended with a backslash; `;` ends them too. */
typedef struct {
    int depth;
    bool continued; /* the previous token was a backslash */
    size_t end;     /* just past the last token taken */
} python_statement_t;

static token_t python_next(scan_t *sc, python_statement_t *st) {
    for (;;) {
        lexer_t saved = sc->lx;
        token_t t = lexer_next(&sc->lx);
        if (t.kind == TOKEN_END || (t.first && st->depth == 0 && !st->continued)) {
            sc->lx = saved;
            return (token_t){.kind = TOKEN_END, .line = t.line, .end = st->end};
        }
        st->continued = is_punct(&t, '\\');
        st->end = t.end;
        if (st->continued)
            continue;
        if (is_punct(&t, '(') || is_punct(&t, '[') || is_punct(&t, '{'))
            st->depth++;
        else if ((is_punct(&t, ')') || is_punct(&t, ']') || is_punct(&t, '}')) && st->depth > 0)
            st->depth--;
        else if (is_punct(&t, ';') && st->depth == 0)
            return (token_t){.kind = TOKEN_END, .line = t.line, .end = t.end};
        return t;
    }
}

/* A dotted name (`a.b.c`, with leading dots when relative) into out;
 * returns its length (0 for none) and leaves *t at the token after it. */
static size_t python_dotted(scan_t *sc, python_statement_t *st, token_t *t, bool relative,
                            char *out, size_t cap) {
    size_t n = 0;
    while (relative && is_punct(t, '.') && n + 1 < cap) {
        out[n++] = '.';
        *t = python_next(sc, st);
    }
    while (t->kind == TOKEN_IDENT && !is_word(t, "import") && n + t->len + 1 < cap) {
        memcpy(out + n, t->text, t->len);
        n += t->len;
        *t = python_next(sc, st);
        if (!is_punct(t, '.'))
            break;
        lexer_t saved = sc->lx;
        python_statement_t saved_st = *st;
        token_t after = python_next(sc, st);
        if (after.kind != TOKEN_IDENT) { /* `a.` cut short: the dot is not ours */
            sc->lx = saved;
            *st = saved_st;
            break;
        }
        out[n++] = '.';
        *t = after;
    }
    out[n] = '\0';
    return n;
}

/* `import a.b as c, d` (t is `import`). */
static void python_import(scan_t *sc, token_t t) {
    python_statement_t st = {.end = t.end};
    int line = t.line;
    char module[IMPORTSCAN_TEXT_MAX];
    t = python_next(sc, &st);
    for (;;) {
        size_t n = python_dotted(sc, &st, &t, false, module, sizeof module);
        if (n == 0)
            break;
        const char *binds = module;
        size_t binds_len = strcspn(module, ".");
        unsigned flags = IMPORTSCAN_NAMESPACE;
        if (is_word(&t, "as")) {
            t = python_next(sc, &st);
            if (t.kind == TOKEN_IDENT) {
                binds = t.text, binds_len = t.len, flags |= IMPORTSCAN_ALIASED;
                t = python_next(sc, &st);
            }
        }
        /* The statement's end: skip what is left of it first. */
        lexer_t saved = sc->lx;
        python_statement_t rest = st;
        token_t look = t;
        while (look.kind != TOKEN_END)
            look = python_next(sc, &rest);
        sc->lx = saved;
        names_reset(sc);
        emit(sc, module, n, binds, binds_len, flags, line, rest.end);
        if (!is_punct(&t, ','))
            break;
        t = python_next(sc, &st);
    }
    while (t.kind != TOKEN_END)
        t = python_next(sc, &st);
}

/* `from ..m import x, y as z` and `from m import *` (t is `from`). */
static void python_from(scan_t *sc, token_t t) {
    python_statement_t st = {.end = t.end};
    int line = t.line;
    char module[IMPORTSCAN_TEXT_MAX];
    t = python_next(sc, &st);
    size_t n = python_dotted(sc, &st, &t, true, module, sizeof module);
    if (n == 0 || !is_word(&t, "import")) {
        while (t.kind != TOKEN_END)
            t = python_next(sc, &st);
        return;
    }
    names_reset(sc);
    unsigned flags = 0;
    for (t = python_next(sc, &st); t.kind != TOKEN_END; t = python_next(sc, &st)) {
        if (is_punct(&t, '*')) {
            flags |= IMPORTSCAN_WILDCARD;
        } else if (t.kind == TOKEN_IDENT) {
            token_t name = t, local = t;
            lexer_t saved = sc->lx;
            python_statement_t saved_st = st;
            token_t as = python_next(sc, &st);
            if (is_word(&as, "as")) {
                token_t alias = python_next(sc, &st);
                if (alias.kind == TOKEN_IDENT)
                    local = alias;
            } else {
                sc->lx = saved;
                st = saved_st;
            }
            names_add(sc, name.text, name.len, local.text, local.len);
        }
    }
    if (sc->name_count || (flags & IMPORTSCAN_WILDCARD))
        emit(sc, module, n, NULL, 0, flags, line, st.end);
}

/* ---- JavaScript and TypeScript --------------------------------------------- */

#define RECENT 64 /* tokens kept for looking back: a destructuring pattern */

typedef struct {
    token_t at[RECENT]; /* a ring */
    size_t count;       /* tokens ever pushed */
} recent_t;

static void recent_push(recent_t *r, const token_t *t) {
    r->at[r->count++ % RECENT] = *t;
}

/* The token pushed `back` tokens ago (0: the last one); TOKEN_END when gone. */
static const token_t *recent_get(const recent_t *r, size_t back) {
    static const token_t none = {TOKEN_END, "", 0, 0, false, 0, 0};
    if (back >= r->count || back >= RECENT)
        return &none;
    return &r->at[(r->count - 1 - back) % RECENT];
}

/* The names of a `{ a, b as c, type T, d: e }` list in tokens[0..n)
 * (without the braces): `as` for imports, `:` for destructuring. */
static void js_brace_names(scan_t *sc, const token_t *tokens, size_t n) {
    for (size_t i = 0; i < n;) {
        if (tokens[i].kind != TOKEN_IDENT) {
            i++;
            continue;
        }
        size_t at = i;
        if (is_word(&tokens[at], "type") && at + 1 < n && tokens[at + 1].kind == TOKEN_IDENT &&
            !is_word(&tokens[at + 1], "as"))
            at++; /* TS `type T` */
        const token_t *name = &tokens[at], *local = name;
        if (at + 2 < n && (is_word(&tokens[at + 1], "as") || is_punct(&tokens[at + 1], ':')) &&
            tokens[at + 2].kind == TOKEN_IDENT) {
            local = &tokens[at + 2];
            at += 2;
        }
        names_add(sc, name->text, name->len, local->text, local->len);
        for (i = at + 1; i < n && !is_punct(&tokens[i], ','); i++)
            if (is_punct(&tokens[i], '{')) /* a nested pattern: skip it */
                break;
    }
}

/* An `import` clause (the tokens between `import` and `from`): the default
 * or namespace binding into *binds, named imports into the names; returns
 * IMPORTSCAN_NAMESPACE for a namespace's (`* as ns`). */
static unsigned js_clause(scan_t *sc, const token_t *clause, size_t n, const token_t **binds) {
    unsigned flags = 0;
    *binds = NULL;
    size_t i = 0;
    if (i + 1 < n && is_word(&clause[i], "type") && !is_word(&clause[i + 1], "from"))
        i++; /* import type X from, import type {X} from */
    const token_t *default_binding = NULL;
    if (i < n && clause[i].kind == TOKEN_IDENT && !is_word(&clause[i], "from"))
        *binds = default_binding = &clause[i];
    for (; i < n; i++) {
        if (i + 2 < n && is_punct(&clause[i], '*') && is_word(&clause[i + 1], "as") &&
            clause[i + 2].kind == TOKEN_IDENT) {
            /* import X, * as ns: ns is the module, X its default export */
            if (default_binding)
                names_add(sc, "default", 7, default_binding->text, default_binding->len);
            *binds = &clause[i + 2];
            flags = IMPORTSCAN_NAMESPACE;
        }
        if (is_punct(&clause[i], '{')) {
            size_t close = i + 1;
            while (close < n && !is_punct(&clause[close], '}'))
                close++;
            js_brace_names(sc, clause + i + 1, close - i - 1);
            i = close;
        }
    }
    return flags;
}

#define CLAUSE_MAX 512

/* `import ...` from its keyword (t): a static import with its clause, a
 * side-effect import, `import('./x')` or TS `import x = require('./x')`.
 * Tokens it reads go into recent. */
static void js_import(scan_t *sc, recent_t *recent, token_t t) {
    token_t *clause = malloc(CLAUSE_MAX * sizeof *clause);
    if (!clause) {
        sc->rc = -ENOMEM;
        return;
    }
    size_t n = 0;
    recent_push(recent, &t);
    for (;;) {
        lexer_t saved = sc->lx;
        token_t u = lexer_next(&sc->lx);
        if (u.kind == TOKEN_END)
            break;
        if (u.kind == TOKEN_STRING) {
            const token_t *prev = recent_get(recent, 0);
            if (is_word(prev, "from") || is_word(prev, "import")) {
                const token_t *binds = NULL;
                names_reset(sc);
                unsigned flags = js_clause(sc, clause, n, &binds);
                emit(sc, u.text, u.len, binds ? binds->text : NULL, binds ? binds->len : 0, flags,
                     u.line, u.end);
                recent_push(recent, &u);
            } else {
                sc->lx = saved; /* `import x = require('y')`: the caller's pattern */
            }
            break;
        }
        if (is_punct(&u, ';') || is_punct(&u, '(')) {
            if (is_punct(&u, '(') && is_word(recent_get(recent, 0), "import")) {
                token_t spec = lexer_peek(&sc->lx);
                if (spec.kind == TOKEN_STRING) { /* import('./x') */
                    names_reset(sc);
                    emit(sc, spec.text, spec.len, NULL, 0, 0, spec.line, spec.end);
                }
            }
            sc->lx = saved;
            break;
        }
        recent_push(recent, &u);
        if (n < CLAUSE_MAX)
            clause[n++] = u;
    }
    free(clause);
}

/* Where the statement around offset `from` ends: its first `;` or line end
 * outside brackets, at most 4 KiB on (`require('x').y;` ends after `.y`). */
static size_t line_statement_end(const lexer_t *lx, size_t from) {
    int depth = 0;
    size_t limit = from + 4096 < lx->len ? from + 4096 : lx->len;
    for (size_t i = from; i < limit; i++) {
        char c = lx->data[i];
        if (c == '{' || c == '(' || c == '[')
            depth++;
        else if ((c == '}' || c == ')' || c == ']') && depth > 0)
            depth--;
        else if ((c == ';' || c == '\n') && depth == 0)
            return i;
    }
    return limit;
}

/* `require('x')` just read (spec is the string, recent ends with `(`):
 * what it is assigned to. */
static void js_require(scan_t *sc, const recent_t *recent, const token_t *spec) {
    names_reset(sc);
    const token_t *assign = recent_get(recent, 2), *target = recent_get(recent, 3);
    const token_t *binds = NULL;
    if (is_punct(assign, '=') && target->kind == TOKEN_IDENT &&
        !is_punct(recent_get(recent, 4), '.')) {
        binds = target; /* const x = require('./x') */
    } else if (is_punct(assign, '=') && is_punct(target, '}')) {
        /* const { a, b: c } = require('./x'): find the opening brace. */
        size_t back = 4;
        int depth = 1;
        while (back < RECENT && recent_get(recent, back)->kind != TOKEN_END) {
            const token_t *t = recent_get(recent, back);
            depth += is_punct(t, '}') ? 1 : is_punct(t, '{') ? -1 : 0;
            if (depth == 0)
                break;
            back++;
        }
        const token_t *before = recent_get(recent, back + 1);
        if (depth == 0 &&
            (is_word(before, "const") || is_word(before, "let") || is_word(before, "var"))) {
            token_t pattern[RECENT];
            size_t n = 0;
            for (size_t k = back - 1; k > 3; k--)
                pattern[n++] = *recent_get(recent, k);
            js_brace_names(sc, pattern, n);
        }
    }
    emit(sc, spec->text, spec->len, binds ? binds->text : NULL, binds ? binds->len : 0, 0,
         spec->line, line_statement_end(&sc->lx, spec->end));
}

/* Every import, re-export and require of a JS/TS file from t on; with
 * one_statement (LANG_UNKNOWN), only the statement that starts at t: to a
 * `;` or a line start outside brackets, or its import or require. */
static void js_scan(scan_t *sc, token_t t, bool one_statement) {
    recent_t *recent = calloc(1, sizeof *recent);
    if (!recent) {
        sc->rc = -ENOMEM;
        return;
    }
    int depth = 0;
    while (t.kind != TOKEN_END && !sc->rc) {
        const token_t *prev = recent_get(recent, 0), *prev2 = recent_get(recent, 1);
        if (is_word(&t, "import") && !is_punct(prev, '.')) {
            js_import(sc, recent, t);
            if (one_statement)
                break;
        } else {
            if (t.kind == TOKEN_STRING && is_word(prev, "from")) {
                names_reset(sc);
                emit(sc, t.text, t.len, NULL, 0, 0, t.line, t.end); /* export ... from */
            } else if (t.kind == TOKEN_STRING && is_punct(prev, '(') && is_word(prev2, "require")) {
                js_require(sc, recent, &t);
                if (one_statement)
                    break;
            }
            depth += is_punct(&t, '(') || is_punct(&t, '[') || is_punct(&t, '{')     ? 1
                     : (is_punct(&t, ')') || is_punct(&t, ']') || is_punct(&t, '}')) ? -1
                                                                                     : 0;
            recent_push(recent, &t);
        }
        if (one_statement && depth <= 0 && is_punct(&t, ';'))
            break;
        lexer_t saved = sc->lx;
        t = lexer_next(&sc->lx);
        if (one_statement && t.first && depth <= 0) {
            sc->lx = saved; /* the next statement is the caller's */
            break;
        }
    }
    free(recent);
}

/* ---- Go -------------------------------------------------------------------- */

/* One import path (spec) with what was written before it on its line. */
static void go_path(scan_t *sc, const token_t *spec, const token_t *alias) {
    const char *binds = NULL;
    size_t binds_len = 0;
    unsigned flags = 0;
    if (alias && alias->kind == TOKEN_IDENT && !is_word(alias, "_")) {
        binds = alias->text, binds_len = alias->len, flags = IMPORTSCAN_ALIASED;
    } else if (alias && is_punct(alias, '.')) {
        flags = IMPORTSCAN_WILDCARD; /* import . "x": its names, unqualified */
    } else if (!alias) {
        /* The last element of the path, a /vN version suffix skipped. */
        const char *end = spec->text + spec->len, *start = end;
        while (start > spec->text && start[-1] != '/')
            start--;
        bool version = end - start >= 2 && start[0] == 'v' && start[1] >= '0' && start[1] <= '9';
        if (version && start > spec->text) {
            end = start - 1;
            start = end;
            while (start > spec->text && start[-1] != '/')
                start--;
        }
        binds = start, binds_len = (size_t)(end - start);
    }
    if (binds)
        flags |= IMPORTSCAN_NAMESPACE;
    names_reset(sc);
    emit(sc, spec->text, spec->len, binds, binds_len, flags, spec->line, spec->end);
}

/* `import "x"`, `import f "x"`, `import ( ... )` after the keyword. */
static void go_import(scan_t *sc) {
    token_t u = lexer_next(&sc->lx);
    if (is_punct(&u, '(')) {
        token_t before = {TOKEN_END, "", 0, 0, false, 0, 0};
        for (;;) {
            token_t v = lexer_next(&sc->lx);
            if (v.kind == TOKEN_END || is_punct(&v, ')') || sc->rc)
                break;
            if (v.kind == TOKEN_STRING) {
                bool aliased = before.kind != TOKEN_END && before.line == v.line;
                go_path(sc, &v, aliased ? &before : NULL);
                before = (token_t){TOKEN_END, "", 0, 0, false, 0, 0};
            } else {
                before = v; /* an alias, `_` or `.` */
            }
        }
        return;
    }
    token_t alias = u;
    bool aliased = u.kind != TOKEN_STRING;
    if (aliased)
        u = lexer_next(&sc->lx);
    if (u.kind == TOKEN_STRING)
        go_path(sc, &u, aliased ? &alias : NULL);
}

/* ---- Java and Kotlin ------------------------------------------------------- */

/* `import [static] a.b.C [as D];` after the keyword. */
static void java_import(scan_t *sc) {
    token_t u = lexer_next(&sc->lx);
    unsigned flags = 0;
    if (is_word(&u, "static")) {
        flags |= IMPORTSCAN_STATIC;
        u = lexer_next(&sc->lx);
    }
    char name[IMPORTSCAN_TEXT_MAX];
    size_t n = 0;
    int line = u.line;
    size_t end = u.end, last = 0, last_len = 0;
    while (u.kind == TOKEN_IDENT && n + u.len + 2 < sizeof name) {
        memcpy(name + n, u.text, u.len);
        last = n, last_len = u.len;
        n += u.len;
        end = u.end;
        lexer_t saved = sc->lx;
        token_t dot = lexer_next(&sc->lx);
        if (!is_punct(&dot, '.')) {
            sc->lx = saved; /* the start of the next statement, perhaps */
            break;
        }
        u = lexer_next(&sc->lx);
        if (is_punct(&u, '*')) {
            flags |= IMPORTSCAN_WILDCARD;
            end = u.end;
            break;
        }
        if (u.kind != TOKEN_IDENT) {
            sc->lx = saved;
            break;
        }
        name[n++] = '.';
    }
    if (n == 0)
        return;
    name[n] = '\0';
    const char *binds = NULL;
    size_t binds_len = 0;
    lexer_t saved = sc->lx;
    token_t as = lexer_next(&sc->lx);
    token_t alias = is_word(&as, "as") ? lexer_next(&sc->lx) : as;
    if (is_word(&as, "as") && alias.kind == TOKEN_IDENT) { /* Kotlin: import a.b.C as D */
        binds = alias.text, binds_len = alias.len, flags |= IMPORTSCAN_ALIASED;
        end = alias.end;
    } else {
        sc->lx = saved;
        if (!(flags & IMPORTSCAN_WILDCARD))
            binds = name + last, binds_len = last_len;
    }
    names_reset(sc);
    emit(sc, name, n, binds, binds_len, flags, line, end);
}

/* ---- Rust ------------------------------------------------------------------ */

/* Expands a use tree (tokens joined into text without spaces but ` as `,
 * such as `crate::a::{b,c::{d,self}}`) into one record per leaf. */
static void rust_tree(scan_t *sc, const char *prefix, const char *tree, size_t len, int line,
                      size_t end, int depth) {
    if (depth > 16 || sc->rc)
        return;
    const char *brace = memchr(tree, '{', len);
    if (!brace) {
        char leaf[IMPORTSCAN_TEXT_MAX];
        size_t n = len;
        const char *as = NULL;
        for (size_t i = 0; i + 3 < n; i++)
            if (memcmp(tree + i, " as ", 4) == 0) {
                as = tree + i;
                break;
            }
        if (as)
            n = (size_t)(as - tree);
        while (n > 0 && tree[n - 1] == ' ')
            n--;
        const char *t = tree;
        while (n > 0 && *t == ' ')
            t++, n--;
        if (n >= 6 && memcmp(t + n - 6, "::self", 6) == 0)
            n -= 6;
        int written;
        if (n == 4 && memcmp(t, "self", 4) == 0 && *prefix)
            written = snprintf(leaf, sizeof leaf, "%.*s", (int)(strlen(prefix) - 2), prefix);
        else
            written = snprintf(leaf, sizeof leaf, "%s%.*s", prefix, (int)n, t);
        if (written <= 0 || (size_t)written >= sizeof leaf || n == 0)
            return;
        /* It binds its `as` name, else its last segment (a glob binds none). */
        const char *binds = NULL;
        size_t binds_len = 0;
        unsigned flags = 0;
        if (as) {
            binds = as + 4;
            binds_len = len - (size_t)(binds - tree);
            while (binds_len > 0 && *binds == ' ')
                binds++, binds_len--;
            while (binds_len > 0 && binds[binds_len - 1] == ' ')
                binds_len--;
            flags = IMPORTSCAN_ALIASED;
        } else if (leaf[written - 1] == '*') {
            flags = IMPORTSCAN_WILDCARD;
        } else {
            const char *last = leaf + written;
            while (last > leaf && last[-1] != ':')
                last--;
            binds = last;
            binds_len = (size_t)(leaf + written - last);
        }
        if (binds && ident_len(binds, binds_len) != binds_len)
            binds = NULL, binds_len = 0; /* `a::{b%c}`: not a name */
        names_reset(sc);
        emit(sc, leaf, (size_t)written, binds, binds_len, flags, line, end);
        return;
    }
    char inner[IMPORTSCAN_TEXT_MAX];
    int written = snprintf(inner, sizeof inner, "%s%.*s", prefix, (int)(brace - tree), tree);
    if (written < 0 || (size_t)written >= sizeof inner)
        return;
    /* Split the braces' contents at top-level commas. */
    const char *stop = tree + len, *item = brace + 1;
    int level = 0;
    for (const char *p = brace + 1; p < stop; p++) {
        if (*p == '{') {
            level++;
        } else if (*p == '}' && level > 0) {
            level--;
        } else if ((*p == ',' || *p == '}') && level == 0) {
            if (p > item)
                rust_tree(sc, inner, item, (size_t)(p - item), line, end, depth + 1);
            item = p + 1;
            if (*p == '}')
                break;
        }
    }
}

/* `use ...;` after the keyword t. */
static void rust_use(scan_t *sc, const token_t *t) {
    char tree[IMPORTSCAN_TEXT_MAX];
    size_t n = 0, end = t->end;
    bool ok = true;
    for (;;) {
        token_t u = lexer_next(&sc->lx);
        if (u.kind == TOKEN_END)
            break;
        end = u.end;
        if (is_punct(&u, ';'))
            break;
        if (n + u.len + 4 >= sizeof tree || u.kind == TOKEN_STRING) {
            ok = false;
            continue;
        }
        if (is_word(&u, "as")) {
            memcpy(tree + n, " as ", 4);
            n += 4;
            continue;
        }
        memcpy(tree + n, u.text, u.len);
        n += u.len;
    }
    tree[n] = '\0';
    if (ok && n > 0)
        rust_tree(sc, "", tree, n, t->line, end, 0);
}

/* `mod name;` after the keyword: a module declared in its own file. */
static void rust_mod(scan_t *sc) {
    lexer_t saved = sc->lx;
    token_t name = lexer_next(&sc->lx);
    token_t semi = lexer_next(&sc->lx);
    if (name.kind != TOKEN_IDENT || !is_punct(&semi, ';')) {
        sc->lx = saved;
        return;
    }
    names_reset(sc);
    emit(sc, name.text, name.len, name.text, name.len, IMPORTSCAN_DECLARATION, name.line, semi.end);
}

/* ---- C and C++ ------------------------------------------------------------- */

static void c_scan(scan_t *sc, const char *data, size_t len) {
    int line = 0;
    for (size_t at = 0; at < len && !sc->rc;) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - data) : len;
        line++;
        size_t i = at;
        while (i < end && (data[i] == ' ' || data[i] == '\t'))
            i++;
        if (i < end && data[i] == '#') {
            i++;
            while (i < end && (data[i] == ' ' || data[i] == '\t'))
                i++;
            if (end - i > 7 &&
                (strncmp(data + i, "include", 7) == 0 || strncmp(data + i, "import", 6) == 0)) {
                i += data[i + 2] == 'c' ? 7 : 6;
                while (i < end && (data[i] == ' ' || data[i] == '\t'))
                    i++;
                if (i < end && (data[i] == '"' || data[i] == '<')) {
                    char close = data[i] == '"' ? '"' : '>';
                    size_t start = ++i;
                    while (i < end && data[i] != close)
                        i++;
                    names_reset(sc);
                    if (i < end)
                        emit(sc, data + start, i - start, NULL, 0,
                             close == '>' ? IMPORTSCAN_SYSTEM : 0, line, end);
                }
            }
        }
        at = end + 1;
    }
}

/* ---- every language at once ------------------------------------------------ */

/* The language of an `import` statement whose keyword was just read, by
 * its shape (see importscan.h). */
static lang_id_t any_import_language(const lexer_t *lx) {
    lexer_t look = *lx;
    token_t u = lexer_next(&look);
    if (u.kind == TOKEN_STRING)
        return u.quote == '"' && u.len > 0 && u.text[0] != '.' && u.text[0] != '/'
                   ? LANG_GO
                   : LANG_JAVASCRIPT;
    if (is_punct(&u, '('))
        return LANG_GO;
    bool dotted = false;
    int depth = 0;
    for (int i = 0; i < 256 && u.kind != TOKEN_END; i++, u = lexer_next(&look)) {
        if (i > 0 && u.first && depth == 0)
            break;
        if (is_word(&u, "from") || is_punct(&u, '{') || is_punct(&u, '*'))
            return LANG_JAVASCRIPT;
        token_t next = lexer_peek(&look);
        if (is_punct(&u, '=') && is_word(&next, "require"))
            return LANG_JAVASCRIPT;
        if (is_punct(&u, ';') && depth == 0)
            return dotted ? LANG_JAVA : LANG_PYTHON;
        dotted |= is_punct(&u, '.');
        depth += is_punct(&u, '(') ? 1 : is_punct(&u, ')') && depth > 0 ? -1 : 0;
    }
    return LANG_PYTHON;
}

static void any_scan(scan_t *sc) {
    for (token_t t = lexer_next(&sc->lx); t.kind != TOKEN_END && !sc->rc; t = lexer_next(&sc->lx)) {
        if (!t.first || t.kind != TOKEN_IDENT)
            continue;
        if (is_word(&t, "import")) {
            sc->lang = any_import_language(&sc->lx);
            if (sc->lang == LANG_GO)
                go_import(sc);
            else if (sc->lang == LANG_JAVASCRIPT)
                js_scan(sc, t, true);
            else if (sc->lang == LANG_JAVA)
                java_import(sc);
            else
                python_import(sc, t);
        } else if (is_word(&t, "from")) {
            sc->lang = LANG_PYTHON;
            python_from(sc, t);
        } else if (is_word(&t, "use")) {
            sc->lang = LANG_RUST;
            rust_use(sc, &t);
        } else if (is_word(&t, "const") || is_word(&t, "let") || is_word(&t, "var")) {
            sc->lang = LANG_JAVASCRIPT;
            js_scan(sc, t, true);
        }
    }
}

/* ---- entry point ----------------------------------------------------------- */

int importscan_text(lang_id_t lang, const char *text, size_t len, importscan_fn fn, void *arg) {
    if (!fn || (!text && len))
        return -EINVAL;
    scan_t sc = {.lx = {.data = text ? text : "", .len = len, .line = 1},
                 .lang = lang,
                 .fn = fn,
                 .arg = arg};
    switch (lang) {
    case LANG_PYTHON:
        sc.lx.hash_comment = sc.lx.triple_quote = true;
        for (token_t t = lexer_next(&sc.lx), prev = {0}; t.kind != TOKEN_END && !sc.rc;
             prev = t, t = lexer_next(&sc.lx)) {
            bool starts = t.first || is_punct(&prev, ';');
            if (starts && is_word(&t, "import"))
                python_import(&sc, t);
            else if (starts && is_word(&t, "from"))
                python_from(&sc, t);
        }
        break;
    case LANG_JAVASCRIPT:
    case LANG_TYPESCRIPT:
        sc.lx.slash_comment = true;
        js_scan(&sc, lexer_next(&sc.lx), false);
        break;
    case LANG_GO:
        sc.lx.slash_comment = true;
        for (token_t t = lexer_next(&sc.lx); t.kind != TOKEN_END && !sc.rc; t = lexer_next(&sc.lx))
            if (is_word(&t, "import"))
                go_import(&sc);
        break;
    case LANG_JAVA:
    case LANG_KOTLIN:
        sc.lx.slash_comment = true;
        for (token_t t = lexer_next(&sc.lx), prev = {0}; t.kind != TOKEN_END && !sc.rc;
             prev = t, t = lexer_next(&sc.lx))
            if ((t.first || is_punct(&prev, ';')) && is_word(&t, "import"))
                java_import(&sc);
        break;
    case LANG_RUST:
        sc.lx.slash_comment = true;
        for (token_t t = lexer_next(&sc.lx); t.kind != TOKEN_END && !sc.rc;
             t = lexer_next(&sc.lx)) {
            if (is_word(&t, "use"))
                rust_use(&sc, &t);
            else if (is_word(&t, "mod"))
                rust_mod(&sc);
        }
        break;
    case LANG_C:
    case LANG_CPP:
        c_scan(&sc, text ? text : "", len);
        break;
    case LANG_UNKNOWN:
        sc.lx.slash_comment = sc.lx.hash_comment = sc.lx.triple_quote = true;
        any_scan(&sc);
        break;
    default:
        break;
    }
    free(sc.names);
    return sc.rc;
}
