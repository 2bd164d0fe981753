/*
 * The code mask (see codemask.h): one forward pass.
 */
#include "proto/code/codemask.h"

#include <stdbool.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n;
    uint8_t *code;
} text_t;

static bool python_like(lang_id_t lang) {
    return lang == LANG_PYTHON || lang == LANG_RUBY || lang == LANG_SHELL || lang == LANG_PERL ||
           lang == LANG_R || lang == LANG_ELIXIR;
}

void codemask_build(lang_id_t lang, const char *text, size_t len, uint8_t *mask) {
    text_t view = {.s = text, .n = len, .code = mask}, *t = &view;
    bool hash = python_like(lang);
    bool slash = !hash;
    bool single_quote = lang != LANG_RUST;
    size_t i = 0;
    while (i < t->n) {
        char c = t->s[i];
        if ((hash && c == '#') || (slash && c == '/' && i + 1 < t->n && t->s[i + 1] == '/')) {
            while (i < t->n && t->s[i] != '\n')
                t->code[i++] = 0;
            continue;
        }
        if (slash && c == '/' && i + 1 < t->n && t->s[i + 1] == '*') {
            size_t start = i;
            i += 2;
            while (i + 1 < t->n && !(t->s[i] == '*' && t->s[i + 1] == '/'))
                i++;
            i = i + 2 < t->n ? i + 2 : t->n;
            memset(t->code + start, 0, i - start);
            continue;
        }
        if (c == '"' || c == '`' || (c == '\'' && single_quote)) {
            size_t start = i;
            bool triple = hash && i + 2 < t->n && t->s[i + 1] == c && t->s[i + 2] == c;
            i += triple ? 3 : 1;
            while (i < t->n) {
                if (t->s[i] == '\\') {
                    i += 2;
                    continue;
                }
                if (!triple && t->s[i] == '\n' && c != '`')
                    break; /* an unterminated string ends with its line */
                if (t->s[i] == c &&
                    (!triple || (i + 2 < t->n && t->s[i + 1] == c && t->s[i + 2] == c))) {
                    i += triple ? 3 : 1;
                    break;
                }
                i++;
            }
            if (i > t->n)
                i = t->n;
            memset(t->code + start, 0, i - start);
            continue;
        }
        t->code[i++] = 1;
    }
}
