/*
 * Features of a retrieval request (see features.h).
 */
#include "gateway/features.h"

#include "proto/code/ident.h"
#include "proto/code/refs.h"
#include "proto/ops.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUERY_LINES_BEFORE 40
#define QUERY_LINES_AFTER 10
#define SYMBOL_LINES_BEFORE 15
#define SYMBOL_LINES_AFTER 4
#define SEEN_BYTES (64 * 1024) /* of the prefix read for members already reached */
#define MAX_SYMBOLS 48

/* Start of the n-th line counted back from the end of text. */
static size_t lines_back(const char *text, size_t len, int n) {
    size_t i = len;
    while (i > 0) {
        if (text[i - 1] == '\n' && --n < 0)
            break;
        i--;
    }
    return i;
}

/* End of the n-th line from the start of text. */
static size_t lines_forward(const char *text, size_t len, int n) {
    size_t i = 0;
    while (i < len) {
        if (text[i++] == '\n' && --n <= 0)
            break;
    }
    return i;
}

/* The last `before` lines of the prefix, a newline, the first `after` lines
 * of the suffix: the code around the cursor. */
static void around_cursor(const char *prefix, size_t prefix_len, const char *suffix,
                          size_t suffix_len, int before, int after, buf_t *out) {
    size_t from = lines_back(prefix, prefix_len, before);
    buf_append(out, prefix + from, prefix_len - from);
    buf_append(out, "\n", 1);
    buf_append(out, suffix, lines_forward(suffix, suffix_len, after));
}

/* The length of the rest of the name at the cursor: the suffix's leading
 * identifier characters. */
static size_t name_rest(const char *suffix, size_t len) {
    size_t i = 0, k;
    while (i < len && (k = ident_char_len(suffix + i, len - i)) > 0)
        i += k;
    return i;
}

/* The character right after the rest of the name at the cursor, '\0' at
 * the end. */
static char after_name(const char *suffix, size_t len) {
    size_t i = name_rest(suffix, len);
    return i < len ? suffix[i] : '\0';
}

/* Whether the name at the cursor stands alone (no `.` or `::` before it)
 * and the code right after it calls it or gives it type arguments
 * (`⟨(`, `⟨<A>`): then it is no module object. */
static bool bare_and_called(const char *prefix, size_t len, const char *suffix, size_t suffix_len) {
    size_t k;
    while ((k = ident_char_len_before(prefix, len)) > 0)
        len -= k;
    if (len > 0 && (prefix[len - 1] == '.' || prefix[len - 1] == ':'))
        return false;
    char next = after_name(suffix, suffix_len);
    return next == '(' || next == '<';
}

/* Whether the cursor's line is a decorator's or an annotation's (`@⟨`),
 * which belongs to the definition on the line after it. */
static bool decorator_line(const char *prefix, size_t len) {
    size_t i = lines_back(prefix, len, 0);
    while (i < len && (prefix[i] == ' ' || prefix[i] == '\t'))
        i++;
    return i < len && prefix[i] == '@';
}

typedef struct {
    buf_t *out;
    int count;
    const imported_name_t *imports; /* already in the list */
    size_t nimports;
} symbols_acc_t;

static void add_name(symbols_acc_t *acc, const char *name, size_t len) {
    if (acc->count >= MAX_SYMBOLS || len < 2)
        return;
    buf_append_str(acc->out, acc->count ? "," : "[");
    buf_append_json_string(acc->out, name, len);
    acc->count++;
}

static int add_symbol(const subword_token_t *t, void *arg) {
    symbols_acc_t *acc = arg;
    for (size_t i = 0; i < acc->nimports; i++)
        if (strlen(acc->imports[i].name) == t->ident_len &&
            !memcmp(acc->imports[i].name, t->ident, t->ident_len))
            return 0;
    add_name(acc, t->ident, t->ident_len);
    return 0;
}

/* The identifier before the cursor's `.`, `->` or `::` (with the member
 * being typed skipped), e.g. "utils" for "x = utils.fo". */
static void object_before_cursor(const char *prefix, size_t len, char *out, size_t size) {
    out[0] = '\0';
    size_t i = len;
#define IDENT_CHAR(c)                                                                              \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') ||     \
     (c) == '_' || (c) == '$')
    while (i > 0 && IDENT_CHAR(prefix[i - 1]))
        i--;
    if (i > 0 && prefix[i - 1] == '.')
        i--;
    else if (i > 1 && ((prefix[i - 2] == '-' && prefix[i - 1] == '>') ||
                       (prefix[i - 2] == ':' && prefix[i - 1] == ':')))
        i -= 2;
    else
        return;
    size_t end = i;
    while (i > 0 && IDENT_CHAR(prefix[i - 1]))
        i--;
#undef IDENT_CHAR
    if (end > i && end - i < size && !(prefix[i] >= '0' && prefix[i] <= '9')) {
        memcpy(out, prefix + i, end - i);
        out[end - i] = '\0';
    }
}

/* When the object before the cursor is a name the file imports, the member
 * being typed is defined in that module: name its file stem for the shards
 * (`ns` of `import * as ns from './graph'` is `graph`; a Python
 * `from .pkg import mod` names the module itself). */
static void object_resolve(features_t *f) {
    for (size_t i = 0; f->object[0] && i < f->nimports; i++) {
        if (strcmp(f->imports[i].name, f->object) != 0)
            continue;
        f->object_imported = true;
        const char *module = f->imports[i].module;
        char stem[IMPORTED_NAME_MAX];
        if (strchr(module, '/'))
            imported_module_stem(module, stem, sizeof stem);
        else
            snprintf(stem, sizeof stem, "%s", f->imports[i].name);
        if (stem[0])
            snprintf(f->object, sizeof f->object, "%s", stem);
        return;
    }
}

typedef struct {
    buf_t *out;
    int count;
} hints_acc_t;

static int add_hint(const subword_token_t *t, void *arg) {
    hints_acc_t *acc = arg;
    if (acc->count >= FEATURES_HINTS_MAX)
        return 1;
    buf_append_str(acc->out, acc->count++ ? "," : "[");
    buf_append_json_string(acc->out, t->text, t->len);
    return 0;
}

/* The folded identifiers of the code right after the cursor: a member
 * used there again (`utils.parse(a) ... utils.parse(b)`) is the likeliest
 * one to type now.  And the sub-words of the identifiers around it: a
 * member whose name shares them (`DMLColumnRole` where the code speaks of
 * columns and DML) is a likelier one. */
/* The members the code before the cursor reached through the same
 * receiver (`self.flush()` ... `self.`): what the file already uses of a
 * thing is what it likeliest uses again. */
typedef struct {
    char receiver[CURSOR_CHAIN_MAX * (CURSOR_NAME_MAX + 2)];
    hints_acc_t *acc;
} seen_acc_t;

static int add_seen(const refs_access_t *a, void *arg) {
    seen_acc_t *s = arg;
    if (strcmp(a->receiver, s->receiver) != 0 || s->acc->count >= FEATURES_HINTS_MAX / 2)
        return 0;
    char folded[CURSOR_NAME_MAX];
    size_t n = ident_fold(a->member, folded, sizeof folded);
    if (n) {
        buf_append_str(s->acc->out, s->acc->count++ ? "," : "[");
        buf_append_json_string(s->acc->out, folded, n);
    }
    return 0;
}

/* The distinct sub-words of the identifiers of around_cursor()'s lines, as
 * a JSON array into out (left empty when there are none).  The name the
 * cursor stands in is left out, both halves: what is typed is the partial
 * signal's, and the rest of it is a fragment, not a word. */
static void words_around(const char *prefix, size_t prefix_len, const char *suffix,
                         size_t suffix_len, int before, int after, buf_t *out) {
    size_t k;
    while ((k = ident_char_len_before(prefix, prefix_len)) > 0)
        prefix_len -= k;
    while (suffix_len && (k = ident_char_len(suffix, suffix_len)) > 0) {
        suffix += k;
        suffix_len -= k;
    }
    buf_t near = BUF_INIT;
    around_cursor(prefix, prefix_len, suffix, suffix_len, before, after, &near);
    hints_acc_t acc = {out, 0};
    subword_scan(near.data ? near.data : "", near.len,
                 SUBWORD_WHOLE | SUBWORD_PARTS | SUBWORD_SKIP_KEYWORDS | SUBWORD_SKIP_SINGLE |
                     SUBWORD_UNIQUE,
                 add_hint, &acc);
    if (acc.count)
        buf_append_str(out, "]");
    buf_free(&near);
}

static void member_hints(features_t *f, lang_id_t lang, const char *prefix, size_t prefix_len,
                         const char *suffix, size_t suffix_len) {
    hints_acc_t acc = {&f->hints, 0};
    seen_acc_t seen = {.acc = &acc};
    size_t at = 0;
    for (int i = 0; i < f->cursor.chain_len; i++)
        at += (size_t)snprintf(seen.receiver + at, sizeof seen.receiver - at, "%s%s",
                               i ? (strcmp(f->cursor.op, "::") ? "." : "::") : "",
                               f->cursor.chain[i]);
    size_t from = prefix_len > SEEN_BYTES ? prefix_len - SEEN_BYTES : 0;
    if (at < sizeof seen.receiver)
        refs_scan(lang, prefix + from, prefix_len - from, add_seen, &seen);
    size_t n = lines_forward(suffix, suffix_len, QUERY_LINES_AFTER);
    subword_scan(suffix, n, SUBWORD_WHOLE | SUBWORD_SKIP_KEYWORDS | SUBWORD_UNIQUE, add_hint, &acc);
    if (acc.count)
        buf_append_str(&f->hints, "]");
    words_around(prefix, prefix_len, suffix, suffix_len, SYMBOL_LINES_BEFORE, SYMBOL_LINES_AFTER,
                 &f->words);
}

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The start of the identifier that ends prefix[0..at) (at itself when none). */
static size_t word_start(const char *prefix, size_t at) {
    size_t k;
    while (at > 0 && (k = ident_char_len_before(prefix, at)) > 0)
        at -= k;
    return at;
}

/* Whether prefix[0..at) ends at the start of a method's parameter, after
 * the `(` or a `,` of its list (`void set(Object o, ⟨`): the list's `(`
 * follows a name that follows a type, a modifier, `>` or `]` (a
 * declaration), not `=`, `.`, `return` or `new` (a call). */
static bool parameter_place(const char *prefix, size_t at) {
    static const char *const not_types[] = {"return", "new", "else", "throw", "case", "assert"};
    size_t i = at;
    while (i > 0 && blank(prefix[i - 1]))
        i--;
    if (i == 0 || (prefix[i - 1] != '(' && prefix[i - 1] != ','))
        return false;
    int depth = 0;
    size_t j = i;
    while (j > 0) {
        char ch = prefix[--j];
        if (ch == ')' || ch == ']')
            depth++;
        else if ((ch == '(' || ch == '[') && depth > 0)
            depth--;
        else if (ch == '(')
            break;
        else if (ch == ';' || ch == '{' || ch == '}' || ch == '=' || ch == '"')
            return false;
    }
    if (prefix[j] != '(')
        return false;
    while (j > 0 && blank(prefix[j - 1]))
        j--;
    size_t name = word_start(prefix, j);
    if (name == j)
        return false;
    size_t m = name;
    while (m > 0 && blank(prefix[m - 1]))
        m--;
    if (m > 0 && (prefix[m - 1] == '>' || prefix[m - 1] == ']'))
        return true;
    size_t word = word_start(prefix, m);
    if (word == m || (word > 0 && prefix[word - 1] == '.'))
        return false;
    for (size_t k = 0; k < sizeof not_types / sizeof not_types[0]; k++)
        if (m - word == strlen(not_types[k]) && !memcmp(prefix + word, not_types[k], m - word))
            return false;
    return true;
}

/* The keyword that ends prefix[0..at) where Java, Kotlin or C# wants a
 * type name (`extends`, `implements`, `throws`, `instanceof`, `new`, a
 * modifier of a field or method, or `catch` before a `(`), "(" at a method
 * parameter's start, or NULL. */
static const char *type_position(const char *prefix, size_t at) {
    static const char *const kws[] = {"extends", "implements", "throws",    "instanceof", "new",
                                      "public",  "private",    "protected", "static",     "final"};
    if (parameter_place(prefix, at))
        return "(";
    bool paren = at > 0 && prefix[at - 1] == '(';
    if (paren) {
        at--;
        while (at > 0 && (prefix[at - 1] == ' ' || prefix[at - 1] == '\t'))
            at--;
    }
    size_t start = at;
    while (start > 0 && ident_char_len_before(prefix, start))
        start -= ident_char_len_before(prefix, start);
    size_t n = at - start;
    if (paren)
        return n == 5 && !memcmp(prefix + start, "catch", 5) ? "catch" : NULL;
    for (size_t k = 0; k < sizeof kws / sizeof kws[0]; k++)
        if (n == strlen(kws[k]) && !memcmp(prefix + start, kws[k], n))
            return kws[k];
    return NULL;
}

/* Where the variable's name ends when the code after a name at the cursor
 * declares a variable of it, the name a statement's first word (Java, C#):
 * `⟨ returnControl = null;`, `⟨<String> names;`, `⟨[] parts = ...`.  The
 * suffix past the rest of the name (and a generic's or an array's
 * brackets) is an identifier and then `=`, `;`, `,`, `:` or `)`; 0 when it
 * is not. */
static size_t declared_variable_end(const char *prefix, size_t at, const char *suffix, size_t len) {
    while (at > 0 && (prefix[at - 1] == ' ' || prefix[at - 1] == '\t'))
        at--;
    if (at > 0 && !strchr("\n{};", prefix[at - 1]))
        return 0;
    size_t i = name_rest(suffix, len);
    int depth = 0;
    for (; i < len && (depth > 0 || suffix[i] == '<' || suffix[i] == '['); i++) {
        if (suffix[i] == '<' || suffix[i] == '[')
            depth++;
        else if (suffix[i] == '>' || suffix[i] == ']')
            depth--;
        else if (suffix[i] == '\n' || suffix[i] == ';' || suffix[i] == '(' || depth > 4)
            return 0;
    }
    while (i < len && (suffix[i] == ' ' || suffix[i] == '\t'))
        i++;
    size_t name = i;
    i += name_rest(suffix + i, len - i);
    if (i == name)
        return 0;
    size_t end = i;
    while (i < len && (suffix[i] == ' ' || suffix[i] == '\t'))
        i++;
    bool declares = i < len && strchr("=;,:)", suffix[i]) &&
                    !(suffix[i] == '=' && i + 1 < len && suffix[i + 1] == '=');
    return declares ? end : 0;
}

/* The method whose result a declaration at the cursor is assigned
 * (`⟨<T,?> editCell = table.getEditingCell();`: getEditingCell) into call,
 * "" when it is none (a `new`, a cast, a literal); the variable's name ends
 * at suffix[i] (declared_variable_end). */
static void assigned_from_call(const char *suffix, size_t len, size_t i, char *call, size_t cap) {
    call[0] = '\0';
    while (i < len && (suffix[i] == ' ' || suffix[i] == '\t'))
        i++;
    if (i >= len || suffix[i] != '=')
        return;
    for (i++; i < len && (suffix[i] == ' ' || suffix[i] == '\t'); i++)
        ;
    size_t last = i, last_len = 0; /* the last name of `a.b.getFoo` */
    for (;;) {
        size_t start = i;
        i += name_rest(suffix + i, len - i);
        if (i == start)
            break;
        last = start;
        last_len = i - start;
        if (i >= len || suffix[i] != '.')
            break;
        i++;
    }
    if (!last_len || i >= len || suffix[i] != '(' || last_len >= cap ||
        (last_len == 3 && !memcmp(suffix + last, "new", 3)))
        return;
    memcpy(call, suffix + last, last_len);
    call[last_len] = '\0';
}

/* Whether the cursor starts or continues a bare name (no `.` or `::`
 * before it, not a number) whose file sees its package's names
 * unqualified: any in Go; in Java, Kotlin and C# only at a type's place
 * (type_position, whose keyword goes into after; "(" as well where the
 * code after it declares a variable of it, in Java and C#), with nothing
 * typed or an upper-case start.  The part typed goes into c->partial.  (Java's
 * classes of the same package offered at every bare name crowded out the
 * imported ones: the eval fell from 0.53 to 0.10.) */
static bool bare_name(lang_id_t lang, const char *prefix, size_t len, const char *suffix,
                      size_t suffix_len, cursor_t *c, char after[16]) {
    bool typed_lang = lang == LANG_JAVA || lang == LANG_KOTLIN || lang == LANG_CSHARP;
    if (lang != LANG_GO && !typed_lang)
        return false;
    size_t i = len;
    while (i > 0 && ident_char_len_before(prefix, i))
        i -= ident_char_len_before(prefix, i);
    size_t typed = len - i;
    if (typed >= sizeof c->partial || (typed && prefix[i] >= '0' && prefix[i] <= '9'))
        return false;
    if (typed_lang && typed && !(prefix[i] >= 'A' && prefix[i] <= 'Z'))
        return false;
    while (i > 0 && (prefix[i - 1] == ' ' || prefix[i - 1] == '\t'))
        i--;
    /* after a `.` or a quote no bare name starts; nor after `::`, nor in
     * Java after `:` (a label's, a ternary's); Go's `Field: ⟨` is a value */
    if (i > 0 && (prefix[i - 1] == '.' || (prefix[i - 1] == ':' && lang != LANG_GO) ||
                  prefix[i - 1] == '"' || prefix[i - 1] == '\'' || prefix[i - 1] == '`'))
        return false;
    if (typed_lang) {
        const char *kw = type_position(prefix, i);
        size_t declared =
            !kw && lang != LANG_KOTLIN ? declared_variable_end(prefix, i, suffix, suffix_len) : 0;
        if (declared) {
            kw = "("; /* a place without a keyword, as a parameter's */
            assigned_from_call(suffix, suffix_len, declared, c->call, sizeof c->call);
        }
        if (!kw)
            return false;
        snprintf(after, 16, "%s", kw);
    }
    memcpy(c->partial, prefix + len - typed, typed);
    c->partial[typed] = '\0';
    return true;
}

/* ---- the member written after a bare name ---- */

/* The member the code right after the cursor reaches through the name being
 * typed (`obj = ⟨.constructObject(`, `⟨::new()`, `⟨?.close()`): the name is
 * likely a class that has it.  "" when the suffix, past the rest of the
 * name, does not go on with `.`, `?.`, `::` or `->` and an identifier. */
static void member_after(const char *suffix, size_t len, char *out, size_t size) {
    out[0] = '\0';
    size_t i = name_rest(suffix, len);
    if (i + 1 < len && suffix[i] == '?' && suffix[i + 1] == '.')
        i += 2;
    else if (i + 1 < len && ((suffix[i] == ':' && suffix[i + 1] == ':') ||
                             (suffix[i] == '-' && suffix[i + 1] == '>')))
        i += 2;
    else if (i < len && suffix[i] == '.')
        i++;
    else
        return;
    size_t from = i;
    i += name_rest(suffix + i, len - i);
    if (i > from && i - from < size && !(suffix[from] >= '0' && suffix[from] <= '9')) {
        memcpy(out, suffix + from, i - from);
        out[i - from] = '\0';
    }
}

/* ---- where a type is wanted (Rust, Python, TypeScript, JavaScript) ---- */

static bool ends_with_word(const char *prefix, size_t at, const char *word) {
    size_t n = strlen(word);
    return at >= n && !memcmp(prefix + at - n, word, n) &&
           (at == n || !ident_char_len_before(prefix, at - n));
}

/* The first word of the line holding prefix[at] (after its indentation). */
static bool line_starts_with(const char *prefix, size_t at, const char *word) {
    size_t l = at;
    while (l > 0 && prefix[l - 1] != '\n')
        l--;
    while (l < at && (prefix[l] == ' ' || prefix[l] == '\t'))
        l++;
    size_t n = strlen(word);
    return at - l >= n && !memcmp(prefix + l, word, n) &&
           (at - l == n || !ident_char_len(prefix + l + n, at - l - n));
}

/* The bracket (`(`, `{`, `<`, `[`) that is open at prefix[at], or at
 * itself when none is (or a statement ends first, for `(` and `[`). */
static size_t open_bracket(const char *prefix, size_t at) {
    int depth = 0;
    for (size_t j = at; j > 0;) {
        char ch = prefix[--j];
        if (ch == ')' || ch == '}' || ch == ']')
            depth++;
        else if ((ch == '(' || ch == '{' || ch == '[') && depth > 0)
            depth--;
        else if (ch == '(' || ch == '{' || ch == '[')
            return j;
        else if (ch == ';' && depth == 0)
            return at;
    }
    return at;
}

/* The word before prefix[at] (blanks skipped) is `word`, and the one
 * before that is `keyword` (NULL: any). */
static bool named_after(const char *prefix, size_t at, const char *keyword) {
    while (at > 0 && blank(prefix[at - 1]))
        at--;
    size_t name = word_start(prefix, at);
    if (name == at)
        return false;
    if (!keyword)
        return true;
    size_t m = name;
    while (m > 0 && blank(prefix[m - 1]))
        m--;
    return ends_with_word(prefix, m, keyword);
}

/* Whether the code right after the name at the cursor gives it type
 * arguments (`⟨<()>`, `⟨<T, U>`): a generic type, in the languages whose
 * type names are told by their case (see type_wanted). */
static bool generic_after(lang_id_t lang, const char *suffix, size_t len) {
    return (lang == LANG_RUST || lang == LANG_TYPESCRIPT) && after_name(suffix, len) == '<';
}

/* Whether the code right after the bare name at the cursor calls it, in
 * a language where a type is not called (Rust; TS and JS without `new`,
 * which type_wanted reads): then a type is the less likely name.  Only a
 * bare name: a module's members are ranked by what the repository calls
 * (`Schema.Struct(`), and the same rule measured nothing there. */
static bool called_after(lang_id_t lang, const char *suffix, size_t len) {
    return (lang == LANG_RUST || lang == LANG_TYPESCRIPT || lang == LANG_JAVASCRIPT) &&
           after_name(suffix, len) == '(';
}

/* Whether the code before the cursor wants a type name (a class, a struct,
 * a trait) next, as lang reads: `-> ⟨`, `impl ⟨`, `dyn ⟨`, `Vec<⟨`,
 * `x: ⟨` in a `let`, a parameter list or a struct's fields, `extends ⟨`,
 * `new ⟨`, `class A(⟨`, `except ⟨`, `isinstance(x, ⟨`; a path typed
 * so far (`mpsc::⟨`, `typing.⟨`) is skipped.  Languages whose type names
 * are not told by their case (Go) or that have their own places (Java,
 * Kotlin, C#: type_position) say false. */
static bool type_wanted(lang_id_t lang, const char *prefix, size_t len) {
    bool rust = lang == LANG_RUST, py = lang == LANG_PYTHON, ts = lang == LANG_TYPESCRIPT,
         js = lang == LANG_JAVASCRIPT;
    if (!rust && !py && !ts && !js)
        return false;
    size_t i = word_start(prefix, len);
    for (;;) { /* the path before the name: a::b::, a.b. */
        size_t j = i;
        if (rust && j >= 2 && prefix[j - 1] == ':' && prefix[j - 2] == ':')
            j -= 2;
        else if (!rust && j >= 1 && prefix[j - 1] == '.')
            j -= 1;
        else
            break;
        size_t w = word_start(prefix, j);
        if (w == j)
            break;
        i = w;
    }
    while (i > 0 && (prefix[i - 1] == ' ' || prefix[i - 1] == '\t'))
        i--;
    if (i == 0)
        return false;
    char c = prefix[i - 1];
    if ((rust || py) && i >= 2 && c == '>' && prefix[i - 2] == '-')
        return true;
    if (rust && (ends_with_word(prefix, i, "impl") || ends_with_word(prefix, i, "dyn") ||
                 ends_with_word(prefix, i, "as") ||
                 (ends_with_word(prefix, i, "for") && line_starts_with(prefix, i, "impl"))))
        return true;
    if ((ts || js) &&
        (ends_with_word(prefix, i, "extends") || ends_with_word(prefix, i, "new") ||
         ends_with_word(prefix, i, "instanceof") ||
         (ts && (ends_with_word(prefix, i, "implements") || ends_with_word(prefix, i, "as")))))
        return true;
    if (py && (ends_with_word(prefix, i, "except") || ends_with_word(prefix, i, "raise")))
        return true;
    /* a generic's argument: `Vec<⟨`, `Promise<⟨`, `::<⟨` (not `a < b`) */
    if ((rust || ts) && c == '<' && i >= 2 &&
        (ident_char_len_before(prefix, i - 1) || prefix[i - 2] == ':'))
        return true;
    if (py && (c == '(' || c == ',')) {
        size_t open = open_bracket(prefix, i);
        if (open < i && prefix[open] == '(' && named_after(prefix, open, "class"))
            return true; /* class A(⟨ */
        if (open < i && prefix[open] == '(' && c == ',' &&
            ends_with_word(prefix, open, "isinstance"))
            return true;
        if (c == '(' && ends_with_word(prefix, i - 1, "except"))
            return true;
        return false;
    }
    if (c != ':' || (i >= 2 && prefix[i - 2] == ':'))
        return false;
    /* `name: ⟨`: an annotation, unless it is a value's (a dict's, an
     * object's, a struct literal's field) */
    if (ts && i >= 2 && prefix[i - 2] == ')')
        return true; /* a function's return type */
    /* let x: ⟨, let mut x: ⟨, const x: ⟨ */
    if ((rust && (named_after(prefix, i - 1, "let") || named_after(prefix, i - 1, "mut"))) ||
        (ts && (named_after(prefix, i - 1, "let") || named_after(prefix, i - 1, "const") ||
                named_after(prefix, i - 1, "var"))))
        return true;
    size_t open = open_bracket(prefix, i);
    if (open == i) { /* Python's `name: ⟨` (or `self.name: ⟨`) as a statement */
        size_t w = word_start(prefix, i - 1);
        if (!py || w == i - 1)
            return false;
        if (w >= 5 && !memcmp(prefix + w - 5, "self.", 5))
            w -= 5;
        while (w > 0 && (prefix[w - 1] == ' ' || prefix[w - 1] == '\t'))
            w--;
        return w == 0 || prefix[w - 1] == '\n';
    }
    if (prefix[open] == '(') /* a parameter: fn f(, def f(, function f(, m( in a class */
        return (rust && named_after(prefix, open, "fn")) ||
               (py && named_after(prefix, open, "def")) || (ts && named_after(prefix, open, NULL));
    if (prefix[open] == '{')
        return (rust &&
                (named_after(prefix, open, "struct") || named_after(prefix, open, "union"))) ||
               (ts &&
                (named_after(prefix, open, "interface") || named_after(prefix, open, "class")));
    return false;
}

/* Whether the cursor starts or continues a bare call in Java, Kotlin or
 * C#, whose methods call their class's and its bases' methods without
 * `this.`: a name starting lower-case (or none yet), not after `.`, `::`,
 * a quote or `new`, that the code after the cursor calls (`⟨(`).  Then c
 * is the enclosing class, as after `this.`, with the part typed. */
static bool implicit_this(lang_id_t lang, const char *prefix, size_t len, const char *suffix,
                          size_t suffix_len, cursor_t *c) {
    if (lang != LANG_JAVA && lang != LANG_KOTLIN && lang != LANG_CSHARP)
        return false;
    size_t after = 0; /* the rest of the name, when the cursor is inside it */
    while (after < suffix_len && ident_char_len(suffix + after, suffix_len - after))
        after += ident_char_len(suffix + after, suffix_len - after);
    if (after >= suffix_len || suffix[after] != '(')
        return false;
    size_t i = len;
    while (i > 0 && ident_char_len_before(prefix, i))
        i -= ident_char_len_before(prefix, i);
    size_t typed = len - i;
    if (typed >= sizeof c->partial ||
        (typed && !(prefix[i] >= 'a' && prefix[i] <= 'z') && prefix[i] != '_'))
        return false;
    size_t j = i;
    while (j > 0 && (prefix[j - 1] == ' ' || prefix[j - 1] == '\t'))
        j--;
    if (j > 0 && strchr(".:\"'@", prefix[j - 1]))
        return false;
    if (j >= 3 && !memcmp(prefix + j - 3, "new", 3) &&
        (j == 3 || !ident_char_len_before(prefix, j - 3)))
        return false;
    char partial[CURSOR_NAME_MAX];
    memcpy(partial, prefix + i, typed);
    partial[typed] = '\0';
    if (!cursor_enclosing(lang, prefix, len, c))
        return false;
    memcpy(c->partial, partial, typed + 1);
    return true;
}

/* `token, err := makeToken(...)` with makeToken defined in this file:
 * what it returns is the value's type.  Each shard reads the call's
 * definition from its own part of the index and only one holds this file;
 * read here, the type reaches every shard (the call stays, for the shard
 * that can check it). */
static void call_defined_here(features_t *f, const char *prefix, size_t prefix_len,
                              const char *suffix, size_t suffix_len) {
    cursor_t *c = &f->cursor;
    if (c->kind != CURSOR_VALUE || !c->call[0])
        return;
    char type[256];
    if ((cursor_return_type(prefix, prefix_len, c->call, type, sizeof type) ||
         cursor_return_type(suffix, suffix_len, c->call, type, sizeof type)) &&
        strlen(type) < sizeof c->type)
        memcpy(c->type, type, strlen(type) + 1);
}

/* Takes out of json (a JSON array of folded sub-words) those of the
 * receiver's names: around `tokio::time::⟨` every member with "time" in
 * its name (timeout) would seem named by the line. */
static void drop_receiver_words(buf_t *json, const cursor_t *c) {
    cJSON *holder;
    size_t n;
    const char **words = features_list(json, &holder, &n);
    if (!words) {
        cJSON_Delete(holder);
        return;
    }
    buf_t kept = BUF_INIT;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        bool receiver = false;
        for (int k = 0; k < c->chain_len && !receiver; k++)
            receiver = subword_share(&words[i], 1, false, c->chain[k]) > 0 ||
                       !strcasecmp(words[i], c->chain[k]);
        if (receiver)
            continue;
        buf_append_str(&kept, count++ ? "," : "[");
        buf_append_json_string(&kept, words[i], strlen(words[i]));
    }
    if (count)
        buf_append_str(&kept, "]");
    free(words);
    cJSON_Delete(holder);
    buf_free(json);
    *json = kept;
}

void features_extract(features_t *f, const char *path, const char *query, size_t query_len,
                      const char *prefix, size_t prefix_len, const char *suffix,
                      size_t suffix_len) {
    memset(f, 0, sizeof *f);
    if (!prefix)
        prefix = "", prefix_len = 0;
    if (!suffix)
        suffix = "", suffix_len = 0;
    f->question = query_len > 0;
    if (query_len)
        buf_append(&f->text, query, query_len);
    else
        around_cursor(prefix, prefix_len, suffix, suffix_len, QUERY_LINES_BEFORE, QUERY_LINES_AFTER,
                      &f->text);

    /* Names the file imports, those not used yet first; then identifiers
     * near the cursor. */
    symbols_acc_t acc = {&f->symbols, 0, NULL, 0};
    lang_id_t lang = path && *path ? lang_detect(path, prefix, prefix_len) : LANG_UNKNOWN;
    if (!query_len) {
        /* the cursor's own line (both sides) and the one before it: the
         * words most likely to share a sub-word with the name being typed
         * (`endpoint.Sink = ⟨(endpoint.Sink` wants newRetryingSink, `let
         * stream = ⟨` a TcpStream); a decorator's line with the definition
         * it decorates (`@⟨.for_db("oracle")` over `def _oracle_drop_db`) */
        words_around(prefix, prefix_len, suffix, suffix_len, 1,
                     decorator_line(prefix, prefix_len) ? 2 : 1, &f->line_words);
        cJSON *holder;
        size_t nline;
        const char **line = features_list(&f->line_words, &holder, &nline);
        /* The first FEATURES_IMPORTS_KEPT names imported, and those after
         * them named like the line (a file may import a hundred). */
        imported_name_t *all = calloc(FEATURES_IMPORTS_READ, sizeof *all);
        size_t nall =
            all ? imported_names_in_code(lang, prefix, prefix_len, all, FEATURES_IMPORTS_READ) : 0;
        f->nimports = 0;
        bool called = bare_and_called(prefix, prefix_len, suffix, suffix_len);
        for (size_t i = 0; i < nall && f->nimports < FEATURES_IMPORTS_MAX; i++) {
            if (called && all[i].binds_module)
                continue; /* `ns(` or `ns<T>`: no module is typed here */
            double share = subword_share(line, nline, true, all[i].name);
            if (i < FEATURES_IMPORTS_KEPT || (all[i].uses == 0 && share > 0)) {
                f->import_line[f->nimports] = share;
                f->imports[f->nimports++] = all[i];
            }
        }
        free(all);
        free(line);
        cJSON_Delete(holder);
        /* Not used yet and named like the line first (`MSBinary = ⟨` and
         * BINARY, of a file importing sixty names: only so many are
         * looked up), then the rest not used yet, then those used. */
        for (int pass = 0; pass < 3; pass++)
            for (size_t i = 0; i < f->nimports; i++) {
                bool fresh = f->imports[i].uses == 0;
                bool named = fresh && f->import_line[i] > 0;
                if ((pass == 0 && named) || (pass == 1 && fresh && !named) || (pass == 2 && !fresh))
                    add_name(&acc, imported_defined_as(&f->imports[i]),
                             strlen(imported_defined_as(&f->imports[i])));
            }
        acc.imports = f->imports;
        acc.nimports = f->nimports;
    }
    unsigned flags = SUBWORD_WHOLE | SUBWORD_SKIP_KEYWORDS | SUBWORD_SKIP_SINGLE | SUBWORD_UNIQUE;
    if (query_len) {
        subword_scan(query, query_len, flags, add_symbol, &acc);
    } else {
        buf_t near = BUF_INIT;
        around_cursor(prefix, prefix_len, suffix, suffix_len, SYMBOL_LINES_BEFORE,
                      SYMBOL_LINES_AFTER, &near);
        subword_scan(near.data ? near.data : "", near.len, flags, add_symbol, &acc);
        buf_free(&near);
        object_before_cursor(prefix, prefix_len, f->object, sizeof f->object);
        object_resolve(f);
        cursor_read(lang, prefix, prefix_len, &f->cursor);
        f->has_slot = lexeme_slot_read(prefix, prefix_len, suffix, suffix_len, &f->slot);
        call_defined_here(f, prefix, prefix_len, suffix, suffix_len);
        f->type_wanted =
            type_wanted(lang, prefix, prefix_len) || generic_after(lang, suffix, suffix_len);
        f->call_wanted = !f->type_wanted && f->cursor.kind == CURSOR_NONE &&
                         called_after(lang, suffix, suffix_len);
        f->package = f->cursor.kind == CURSOR_NONE &&
                     bare_name(lang, prefix, prefix_len, suffix, suffix_len, &f->cursor, f->after);
        if (f->cursor.kind == CURSOR_NONE && !f->package)
            implicit_this(lang, prefix, prefix_len, suffix, suffix_len, &f->cursor);
        if ((f->cursor.kind == CURSOR_NONE && !f->object[0]) || f->package)
            member_after(suffix, suffix_len, f->owner, sizeof f->owner);
        if (f->cursor.kind >= CURSOR_MODULE || f->package)
            member_hints(f, lang, prefix, prefix_len, suffix, suffix_len);
        /* a module's members: what the code around names may spell one.  In
         * a function, the name a statement sets is a local's (`dialect =
         * default.⟨`); outside any, a module's own (`export const splitWhere:
         * ... = internal.⟨` re-exports it) */
        if ((f->cursor.kind == CURSOR_MODULE || f->package) &&
            !cursor_function(lang, prefix, prefix_len, f->within))
            cursor_declared(lang, prefix, prefix_len, f->declared);
        if (f->cursor.chain_len > 0) {
            drop_receiver_words(&f->words, &f->cursor);
            drop_receiver_words(&f->line_words, &f->cursor);
            /* fewer words on the line: the imports' shares again */
            cJSON *holder;
            size_t nline;
            const char **line = features_list(&f->line_words, &holder, &nline);
            for (size_t i = 0; i < f->nimports; i++)
                f->import_line[i] = subword_share(line, nline, true, f->imports[i].name);
            free(line);
            cJSON_Delete(holder);
        }
    }
    if (acc.count)
        buf_append_str(&f->symbols, "]");
}

void features_free(features_t *f) {
    buf_free(&f->text);
    buf_free(&f->symbols);
    buf_free(&f->hints);
    buf_free(&f->words);
    buf_free(&f->line_words);
    memset(f, 0, sizeof *f);
}

const char **features_list(const buf_t *json, cJSON **holder, size_t *n) {
    *n = 0;
    *holder = json->len ? cJSON_ParseWithLength(json->data, json->len) : NULL;
    int size = cJSON_GetArraySize(*holder);
    const char **list = size > 0 ? calloc((size_t)size, sizeof *list) : NULL;
    if (!list)
        return NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, *holder) {
        if (cJSON_IsString(e))
            list[(*n)++] = e->valuestring;
    }
    return list;
}

void features_search_header(const features_t *f, const char *collection, const char *path, int k,
                            unsigned signals, buf_t *out) {
    cJSON *symbols_json, *hints_json, *words_json, *line_json;
    size_t nsymbols, nhints, nwords, nline;
    const char **symbols = features_list(&f->symbols, &symbols_json, &nsymbols);
    const char **hints = features_list(&f->hints, &hints_json, &nhints);
    const char **words = features_list(&f->words, &words_json, &nwords);
    const char **line = features_list(&f->line_words, &line_json, &nline);
    const cursor_t *c = &f->cursor;
    bool members = (c->kind >= CURSOR_MODULE || f->package) && (signals & SIGNAL_OBJECT);
    bool module = c->kind == CURSOR_MODULE || f->package;
    const char *bases[CURSOR_BASES_MAX];
    for (int i = 0; i < c->base_count; i++)
        bases[i] = c->bases[i];
    const lexeme_slot_t *sl = &f->slot;
    const char *slot[] = {sl->before[0], sl->before[1], sl->before[2], sl->after[0], sl->after[1]};
    const char *anchors[LEXEME_ANCHORS];
    for (size_t i = 0; i < sl->anchor_count; i++)
        anchors[i] = sl->anchors[i];
    bool slotted = f->has_slot && sl->anchor_count && (signals & SIGNAL_USES);
    ops_request_t req = {
        .op = OPS_SEARCH,
        .collection = collection,
        .search = {.k = k,
                   .limit = k * 4 < 40 ? 40 : k * 4,
                   .path = path && *path ? path : NULL,
                   .query = f->text.len && (signals & (SIGNAL_BM25 | SIGNAL_IMPORT)) ? f->text.data
                                                                                     : NULL,
                   .query_len = f->text.len,
                   .symbols = nsymbols && (signals & SIGNAL_SYMBOL) ? symbols : NULL,
                   .symbol_count = nsymbols,
                   .object = f->object[0] && (signals & SIGNAL_OBJECT) ? f->object : NULL,
                   .owner = f->owner[0] && (signals & SIGNAL_SYMBOL) ? f->owner : NULL,
                   .slot = slotted ? slot : NULL,
                   .slot_count = slotted ? 5 : 0,
                   .anchors = slotted ? anchors : NULL,
                   .anchor_count = slotted ? sl->anchor_count : 0,
                   .question = f->question && f->text.len && (signals & SIGNAL_BM25),
                   .member = {.kind = !members ? OPS_MEMBER_NONE
                                      : module ? OPS_MEMBER_MODULE
                                               : OPS_MEMBER_CLASS,
                              .module = f->package     ? "."
                                        : c->module[0] ? c->module
                                                       : NULL,
                              .member_of = module && c->member_of[0] ? c->member_of : NULL,
                              .type = !module && c->type[0] ? c->type : NULL,
                              .call = (!module || f->package) && c->call[0] ? c->call : NULL,
                              .bases = module ? NULL : bases,
                              .base_count = module ? 0 : (size_t)c->base_count,
                              .partial = c->partial[0] ? c->partial : NULL,
                              .after = f->after[0] ? f->after : NULL,
                              .hints = hints,
                              .hint_count = nhints,
                              .words = words,
                              .word_count = nwords,
                              .line_words = members ? line : NULL,
                              .line_word_count = members ? nline : 0,
                              .within = f->within[0] ? f->within : NULL,
                              .declared = f->declared[0] ? f->declared : NULL}}};
    ops_encode(&req, out);
    free(symbols);
    free(hints);
    free(words);
    free(line);
    cJSON_Delete(symbols_json);
    cJSON_Delete(hints_json);
    cJSON_Delete(words_json);
    cJSON_Delete(line_json);
}
