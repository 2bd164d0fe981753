/*
 * Imported names (see imported.h).  The scanner walks the text line by
 * line; a line that starts (after indentation) with an import keyword opens
 * a statement that runs to its end (a `;`, the `from` clause, or the closing
 * bracket of a multi-line list).  All reads are bounded by len: the text is
 * whatever a client sent.
 */
#include "proto/code/imported.h"

#include "proto/code/module.h"

#include <stdbool.h>
#include <string.h>

static bool ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool ident_char(char c) {
    return ident_start(c) || (c >= '0' && c <= '9');
}

typedef struct {
    const char *text;
    size_t len;
    imported_name_t *out;
    size_t max, count;
    size_t ends[64]; /* where each name's import statement ends (for counting uses) */
    char module[IMPORTED_NAME_MAX]; /* the statement being read: where its names come from */
} scan_t;

static bool word_at(const char *s, size_t len, size_t at, const char *word) {
    size_t n = strlen(word);
    return at + n <= len && memcmp(s + at, word, n) == 0 &&
           (at + n == len || !ident_char(s[at + n])) && (at == 0 || !ident_char(s[at - 1]));
}

static void add(scan_t *sc, const char *name, size_t n, size_t statement_end) {
    if (n == 0 || n >= IMPORTED_NAME_MAX || sc->count >= sc->max || !ident_start(name[0]))
        return;
    static const char *const skip[] = {"type", "typeof", "as", "from", "import", "default", NULL};
    for (int i = 0; skip[i]; i++)
        if (strlen(skip[i]) == n && memcmp(skip[i], name, n) == 0)
            return;
    for (size_t i = 0; i < sc->count; i++)
        if (strlen(sc->out[i].name) == n && memcmp(sc->out[i].name, name, n) == 0)
            return;
    memcpy(sc->out[sc->count].name, name, n);
    sc->out[sc->count].name[n] = '\0';
    sc->out[sc->count].uses = 0;
    memcpy(sc->out[sc->count].module, sc->module, sizeof sc->module);
    if (sc->count < sizeof sc->ends / sizeof sc->ends[0])
        sc->ends[sc->count] = statement_end;
    sc->count++;
}

/* Reads an identifier at *at (skipping spaces); returns its length. */
static size_t ident(const char *s, size_t len, size_t *at) {
    while (*at < len && (s[*at] == ' ' || s[*at] == '\t' || s[*at] == '\n' || s[*at] == '\r'))
        (*at)++;
    size_t start = *at;
    while (*at < len && ident_char(s[*at]))
        (*at)++;
    return *at - start;
}

/* The bindings of a `{ a, b as c, d: e }` list between open and close:
 * the name after `as` or `:` when there is one, else the name itself. */
static void brace_list(scan_t *sc, size_t open, size_t close, size_t end) {
    const char *s = sc->text;
    size_t at = open + 1;
    while (at < close) {
        size_t n = ident(s, close, &at);
        if (n == 0) {
            at++;
            continue;
        }
        const char *name = s + at - n;
        if (n == 4 && !memcmp(name, "type", 4)) { /* TS `type X` */
            size_t m = ident(s, close, &at);
            if (m)
                name = s + at - m, n = m;
        }
        size_t look = at;
        while (look < close && (s[look] == ' ' || s[look] == '\t' || s[look] == '\n'))
            look++;
        if (look < close && (s[look] == ':' || word_at(s, close, look, "as"))) {
            look += s[look] == ':' ? 1 : 2;
            size_t m = ident(s, close, &look);
            if (m)
                name = s + look - m, n = m;
            at = look;
        }
        add(sc, name, n, end);
        while (at < close && s[at] != ',')
            at++;
    }
}

/* End of a statement starting at `at`: the first `;` or newline outside
 * brackets, at most 4 KiB on. */
static size_t statement_end(const char *s, size_t len, size_t at) {
    int depth = 0;
    size_t limit = at + 4096 < len ? at + 4096 : len;
    for (size_t i = at; i < limit; i++) {
        char c = s[i];
        if (c == '{' || c == '(' || c == '[')
            depth++;
        else if ((c == '}' || c == ')' || c == ']') && depth > 0)
            depth--;
        else if ((c == ';' || c == '\n') && depth == 0)
            return i;
    }
    return limit;
}

static size_t find_char(const char *s, size_t from, size_t to, char c) {
    for (size_t i = from; i < to; i++)
        if (s[i] == c)
            return i;
    return to;
}

/* The last identifier of a dotted or `::` path in [from, to). */
static void last_component(scan_t *sc, size_t from, size_t to, size_t end) {
    const char *s = sc->text;
    size_t best = 0, best_len = 0, at = from;
    while (at < to && (s[at] == ' ' || s[at] == '\t'))
        at++;
    while (at < to) {
        if (ident_char(s[at])) {
            size_t start = at;
            while (at < to && ident_char(s[at]))
                at++;
            best = start, best_len = at - start;
        } else if (s[at] == '.' || s[at] == ':' || s[at] == '/') {
            at++;
        } else {
            break;
        }
    }
    add(sc, s + best, best_len, end);
}

/* Sets sc->module to s[from, to) trimmed (cut to fit). */
static void set_module(scan_t *sc, size_t from, size_t to) {
    const char *s = sc->text;
    while (from < to && (s[from] == ' ' || s[from] == '\t'))
        from++;
    while (to > from && (s[to - 1] == ' ' || s[to - 1] == '\t' || s[to - 1] == '\r'))
        to--;
    size_t n = to - from < sizeof sc->module - 1 ? to - from : sizeof sc->module - 1;
    memcpy(sc->module, s + from, n);
    sc->module[n] = '\0';
}

/* The first quoted string of [from, to) becomes the module. */
static void quoted_module(scan_t *sc, size_t from, size_t to) {
    const char *s = sc->text;
    for (size_t i = from; i < to; i++)
        if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
            size_t close = find_char(s, i + 1, to, s[i]);
            set_module(sc, i + 1, close);
            return;
        }
}

void imported_module_stem(const char *module, char *out, size_t size) {
    module_stem(module, out, size);
}

static void statement(scan_t *sc, size_t at) {
    const char *s = sc->text;
    size_t len = sc->len, end = statement_end(s, len, at);
    sc->module[0] = '\0';
    if (word_at(s, len, at, "import") || word_at(s, len, at, "const") ||
        word_at(s, len, at, "let") || word_at(s, len, at, "var"))
        quoted_module(sc, at, end);
    if (word_at(s, len, at, "import")) {
        size_t p = at + 6;
        while (p < end && (s[p] == ' ' || s[p] == '\t'))
            p++;
        if (p < end && s[p] == '"') { /* Go: import "a/b/c" */
            size_t close = find_char(s, p + 1, end, '"');
            last_component(sc, p + 1, close, end);
            return;
        }
        if (p < end && s[p] == '(') { /* Go: import ( "a" "b/c" ) */
            size_t close = find_char(s, p, end, ')');
            for (size_t q = find_char(s, p, close, '"'); q < close;
                 q = find_char(s, q + 1, close, '"')) {
                size_t e = find_char(s, q + 1, close, '"');
                last_component(sc, q + 1, e, end);
                q = e;
            }
            return;
        }
        /* ES: import a, {b} from '...'; import * as ns from '...' */
        bool es = false;
        for (size_t q = p; q + 4 <= end; q++)
            if (word_at(s, end, q, "from")) {
                es = true;
                break;
            }
        size_t brace = find_char(s, p, end, '{');
        if (es || brace < end) {
            size_t star = find_char(s, p, end, '*');
            if (star < end) {
                size_t q = star + 1;
                size_t n = ident(s, end, &q); /* "as" */
                if (n == 2) {
                    n = ident(s, end, &q);
                    add(sc, s + q - n, n, end);
                }
            }
            size_t q = p;
            size_t n = ident(s, end, &q);
            if (n && !(n == 4 && !memcmp(s + q - n, "type", 4)) && (brace == end || q < brace))
                add(sc, s + q - n, n, end);
            if (brace < end)
                brace_list(sc, brace, find_char(s, brace, end, '}'), end);
            return;
        }
        /* Python `import a.b as c` / `import a` ; Java `import a.b.C;` */
        size_t q = p;
        while (q < end) {
            size_t start = q;
            while (q < end && s[q] != ',')
                q++;
            size_t as = start;
            bool aliased = false;
            for (size_t r = start; r + 2 <= q; r++)
                if (word_at(s, q, r, "as")) {
                    as = r + 2, aliased = true;
                    break;
                }
            if (!sc->module[0] || aliased) {
                size_t path_end = start;
                while (path_end < q && s[path_end] != ' ' && s[path_end] != '\t')
                    path_end++;
                size_t path_start = start;
                while (path_start < q && (s[path_start] == ' ' || s[path_start] == '\t'))
                    path_start++;
                path_end = path_start;
                while (path_end < q && s[path_end] != ' ' && s[path_end] != '\t' &&
                       s[path_end] != ';')
                    path_end++;
                set_module(sc, path_start, path_end);
                /* `import a.b.g`: a path to the module itself; written with
                 * slashes so it reads like the other languages' paths. */
                for (char *c = sc->module; *c; c++)
                    if (*c == '.')
                        *c = '/';
            }
            if (aliased) {
                size_t n = ident(s, q, &as);
                add(sc, s + as - n, n, end);
            } else {
                size_t r = start;
                size_t n = ident(s, q, &r);
                bool java = memchr(s + start, '.', q - start) && end < len && s[end] == ';';
                if (java || (n == 6 && !memcmp(s + r - n, "static", 6)))
                    last_component(sc, r, q, end);
                else
                    add(sc, s + r - n, n, end);
            }
            q++;
        }
        return;
    }
    if (word_at(s, len, at, "from")) { /* Python: from m import a, b as c */
        size_t imp = at + 4;
        while (imp < end && !word_at(s, end, imp, "import"))
            imp++;
        if (imp >= end)
            return;
        set_module(sc, at + 4, imp);
        imp += 6;
        while (imp < end && (s[imp] == ' ' || s[imp] == '\t'))
            imp++;
        size_t close = end;
        if (imp < end && s[imp] == '(')
            close = find_char(s, imp, end, ')');
        /* Reuse the brace-list reader: it understands `as`. */
        brace_list(sc, imp - 1, close, end);
        return;
    }
    if (word_at(s, len, at, "use")) { /* Rust */
        size_t brace = find_char(s, at, end, '{');
        if (brace < end)
            brace_list(sc, brace, find_char(s, brace, end, '}'), end);
        else
            last_component(sc, at + 3, end, end);
        return;
    }
    if (word_at(s, len, at, "const") || word_at(s, len, at, "let") || word_at(s, len, at, "var")) {
        size_t req = at;
        bool found = false;
        for (; req + 7 < end; req++)
            if (word_at(s, end, req, "require") && s[req + 7] == '(') {
                found = true;
                break;
            }
        if (!found)
            return;
        size_t p = at + (s[at] == 'c' ? 5 : 3);
        while (p < req && (s[p] == ' ' || s[p] == '\t'))
            p++;
        if (p < req && s[p] == '{') {
            brace_list(sc, p, find_char(s, p, req, '}'), end);
        } else {
            size_t n = ident(s, req, &p);
            add(sc, s + p - n, n, end);
        }
    }
}

/* Counts whole-word occurrences of name in text after `from`. */
static int count_uses(const char *s, size_t len, size_t from, const char *name) {
    size_t n = strlen(name);
    int count = 0;
    for (const char *p = s + from; p + n <= s + len;) {
        const char *hit = memmem(p, (size_t)(s + len - p), name, n);
        if (!hit)
            break;
        size_t at = (size_t)(hit - s);
        if ((at == 0 || !ident_char(s[at - 1])) && (at + n == len || !ident_char(s[at + n])))
            count++;
        p = hit + n;
    }
    return count;
}

size_t imported_names(const char *text, size_t len, imported_name_t *out, size_t max) {
    scan_t sc = {.text = text, .len = len, .out = out, .max = max};
    size_t at = 0;
    while (at < len) {
        size_t line = at;
        while (at < len && (text[at] == ' ' || text[at] == '\t'))
            at++;
        if (at < len && ident_start(text[at]))
            statement(&sc, at);
        while (line < len && text[line] != '\n')
            line++;
        at = line + 1;
    }
    for (size_t i = 0; i < sc.count; i++) {
        size_t from = i < sizeof sc.ends / sizeof sc.ends[0] ? sc.ends[i] : len;
        out[i].uses = count_uses(text, len, from < len ? from : len, out[i].name);
    }
    return sc.count;
}
