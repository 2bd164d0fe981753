/*
 * seeder/rustitems: the lexical finder of the Rust items ctags misses, over
 * any bytes (a .rs file of the repository being indexed) and the tags ctags
 * could have given for it.
 *
 * The first input byte picks how many ctags tags there are (its low two
 * bits) and, with its high bit, a language other than Rust; the next byte
 * per tag is its line (1..256); the rest is the file.  Invariants of
 * rustitems.h: another language changes nothing; when something changes,
 * ctags's tags come first, unchanged, then the new ones in file order, each
 * on a line of the file where ctags has no tag, ending on it or after, with
 * one of the documented kinds, a name that is an identifier written on its
 * line, and a scope (an identifier of the text) exactly when it has a scope
 * kind.
 */
#include "seeder/rustitems.h"
#include "proto/code/ident.h"
#include "tests/fuzz/fuzz.h"

static const char *const kinds[] = {"function", "method",    "struct",  "enum",
                                    "union",    "interface", "typedef", "constant",
                                    "variable", "macro",     NULL};
static const char *const scope_kinds[] = {"implementation", "interface", "module", NULL};

static bool one_of(const char *s, const char *const *list) {
    for (size_t i = 0; list[i]; i++)
        if (s && !strcmp(s, list[i]))
            return true;
    return false;
}

static bool is_ident(const char *s) {
    size_t n = strlen(s);
    return n > 0 && ident_len(s, n) == n;
}

/* Whether text's line l (1-based) holds word. */
static bool on_line(const char *text, size_t len, int l, const char *word) {
    size_t at = 0;
    for (int k = 1; k < l && at < len; at++)
        k += text[at] == '\n';
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len;
    return fuzz_contains(text + at, end - at, word);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t setup = fuzz_take_byte(&data, &size);
    lang_id_t lang = setup & 0x80 ? LANG_C : LANG_RUST;
    ctags_tag_t tags[3];
    size_t n = setup & 3;
    if (n == 3)
        n = 0; /* most inputs: none, as for a file whose items all sit in a macro */
    for (size_t k = 0; k < n; k++) {
        int line = 1 + fuzz_take_byte(&data, &size);
        tags[k] = (ctags_tag_t){
            .path = "src/lib.rs", .name = "tagged", .kind = "function", .line = line, .end = line};
    }
    /* An exact-size copy: a read past the end is ASan's to report. */
    char *text = size ? fuzz_strndup(data, size) : NULL;
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';

    ctags_tag_t *out = (ctags_tag_t *)&setup;
    char *names = (char *)&setup;
    size_t nout = 99;
    FUZZ_ASSERT(
        rustitems_complete_tags(lang, text, size, n ? tags : NULL, n, &out, &nout, &names) == 0);
    if (!out) {
        FUZZ_ASSERT(nout == 0 && names == NULL);
    } else {
        FUZZ_ASSERT(lang == LANG_RUST && size > 0);
        FUZZ_ASSERT(nout > n && names != NULL);
        FUZZ_ASSERT(n == 0 || !memcmp(out, tags, n * sizeof *out));
        int previous = 1;
        for (size_t i = n; i < nout; i++) {
            const ctags_tag_t *t = &out[i];
            FUZZ_ASSERT(t->path == (n ? tags[0].path : NULL));
            FUZZ_ASSERT(t->line >= previous && t->line <= lines);
            previous = t->line;
            FUZZ_ASSERT(t->end >= t->line && t->end <= lines);
            for (size_t k = 0; k < n; k++)
                FUZZ_ASSERT(tags[k].line != t->line);
            FUZZ_ASSERT(one_of(t->kind, kinds));
            FUZZ_ASSERT(t->name && is_ident(t->name) && on_line(text, size, t->line, t->name));
            FUZZ_ASSERT((t->scope == NULL) == (t->scope_kind == NULL));
            if (t->scope) {
                FUZZ_ASSERT(one_of(t->scope_kind, scope_kinds));
                FUZZ_ASSERT(is_ident(t->scope) && fuzz_contains(text, size, t->scope));
            }
            FUZZ_ASSERT(strcmp(t->kind, "method") || (t->scope && strcmp(t->scope_kind, "module")));
        }
        free(out);
        free(names);
    }
    free(text);
    return 0;
}
