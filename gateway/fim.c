/*
 * FIM prompts (see fim.h).  Recognition is by marker, in an order that
 * keeps the families apart (CodeGemma and Qwen share markers and differ in
 * spacing; CodeQwen1.5 and StarCoder2 likewise).  Every offset is checked
 * against the prompt's length: the prompt comes from the network.
 */
#include "gateway/fim.h"

#include "proto/code/lang.h"

#include <string.h>

typedef struct {
    const char *begin, *middle, *end;
} markers_t;

static const markers_t qwen = {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"};
static const markers_t codeqwen = {"<fim_prefix>", "<fim_suffix>", "<fim_middle>"};
static const markers_t codellama = {"<PRE>", "<SUF>", "<MID>"};
static const markers_t deepseek = {"<\xef\xbd\x9c"
                                   "fim\xe2\x96\x81"
                                   "begin\xef\xbd\x9c>",
                                   "<\xef\xbd\x9c"
                                   "fim\xe2\x96\x81"
                                   "hole\xef\xbd\x9c>",
                                   "<\xef\xbd\x9c"
                                   "fim\xe2\x96\x81"
                                   "end\xef\xbd\x9c>"};

const char *fim_family_name(fim_family_t family) {
    static const char *const names[] = {"none",       "qwen2.5",   "codegemma", "codeqwen1.5",
                                        "starcoder2", "codellama", "deepseek",  "codestral"};
    return family <= FIM_CODESTRAL ? names[family] : "?";
}

static const char *find(const char *s, size_t len, size_t from, const char *needle) {
    if (from > len)
        return NULL;
    return memmem(s + from, len - from, needle, strlen(needle));
}

/* begin P middle S end: fills the offsets of P and S.  Returns false when
 * the markers are not all there, in order, with end last. */
static bool split3(const char *s, size_t len, const markers_t *m, fim_t *out) {
    const char *b = find(s, len, 0, m->begin);
    if (!b)
        return false;
    size_t p = (size_t)(b - s) + strlen(m->begin);
    const char *mid = find(s, len, p, m->middle);
    if (!mid)
        return false;
    size_t sfx = (size_t)(mid - s) + strlen(m->middle);
    const char *e = find(s, len, sfx, m->end);
    if (!e)
        return false;
    out->prefix_at = p;
    out->prefix_len = (size_t)(mid - s) - p;
    out->suffix_at = sfx;
    out->suffix_len = (size_t)(e - s) - sfx;
    return true;
}

/* Narrows [at, at+len) by one space on each side where the template puts one. */
static void trim_space(const char *s, size_t *at, size_t *len, bool lead, bool trail) {
    if (lead && *len > 0 && s[*at] == ' ') {
        (*at)++;
        (*len)--;
    }
    if (trail && *len > 0 && s[*at + *len - 1] == ' ')
        (*len)--;
}

fim_family_t fim_parse(const char *s, size_t len, fim_t *out) {
    memset(out, 0, sizeof *out);
    if (split3(s, len, &qwen, out)) {
        /* Spaced: "<|fim_prefix|> P <|fim_suffix|>S <|fim_middle|>". */
        bool spaced = out->prefix_len > 0 && s[out->prefix_at] == ' ' &&
                      s[out->prefix_at + out->prefix_len - 1] == ' ';
        if (spaced) {
            trim_space(s, &out->prefix_at, &out->prefix_len, true, true);
            trim_space(s, &out->suffix_at, &out->suffix_len, false, true);
        }
        return out->family = spaced ? FIM_QWEN : FIM_CODEGEMMA;
    }
    if (split3(s, len, &codeqwen, out)) {
        /* StarCoder2: "<fim_prefix>P <fim_suffix> S<fim_middle>". */
        bool spaced = out->prefix_len > 0 && s[out->prefix_at + out->prefix_len - 1] == ' ' &&
                      out->suffix_len > 0 && s[out->suffix_at] == ' ';
        if (spaced) {
            trim_space(s, &out->prefix_at, &out->prefix_len, false, true);
            trim_space(s, &out->suffix_at, &out->suffix_len, true, false);
        }
        return out->family = spaced ? FIM_STARCODER2 : FIM_CODEQWEN;
    }
    if (split3(s, len, &codellama, out)) {
        trim_space(s, &out->prefix_at, &out->prefix_len, true, true);
        trim_space(s, &out->suffix_at, &out->suffix_len, false, true);
        return out->family = FIM_CODELLAMA;
    }
    if (split3(s, len, &deepseek, out))
        return out->family = FIM_DEEPSEEK;
    /* Codestral: "[SUFFIX]S[PREFIX]P[MIDDLE]" — suffix first. */
    const char *sx = find(s, len, 0, "[SUFFIX]");
    const char *px = sx ? find(s, len, (size_t)(sx - s) + 8, "[PREFIX]") : NULL;
    const char *mx = px ? find(s, len, (size_t)(px - s) + 8, "[MIDDLE]") : NULL;
    if (mx) {
        out->suffix_at = (size_t)(sx - s) + 8;
        out->suffix_len = (size_t)(px - s) - out->suffix_at;
        out->prefix_at = (size_t)(px - s) + 8;
        out->prefix_len = (size_t)(mx - s) - out->prefix_at;
        return out->family = FIM_CODESTRAL;
    }
    memset(out, 0, sizeof *out);
    return FIM_NONE;
}

const char *fim_comment_for(const char *path, const char *language) {
    lang_id_t id = lang_detect(path, NULL, 0);
    if (id == LANG_UNKNOWN && language)
        id = lang_from_name(language);
    const char *comment = lang_get(id)->line_comment;
    return comment ? comment : "//";
}

/* True when text holds a model's special token (a FIM marker, a repository
 * separator).  Code about language models does (this repository does):
 * such a chunk in the context would read as a second FIM prompt, so it is
 * left out. */
static bool has_special_token(const char *text, size_t len) {
    static const char *const tokens[] = {"<|fim_",
                                         "<fim_",
                                         "<PRE>",
                                         "<SUF>",
                                         "<MID>",
                                         "[SUFFIX]",
                                         "[PREFIX]",
                                         "[MIDDLE]",
                                         "<|file_sep",
                                         "<|repo_name",
                                         "<file_sep>",
                                         "<repo_name>",
                                         "<|endoftext|>",
                                         "<\xef\xbd\x9c"
                                         "fim\xe2\x96\x81",
                                         NULL};
    for (int i = 0; tokens[i]; i++)
        if (memmem(text, len, tokens[i], strlen(tokens[i])))
            return true;
    return false;
}

size_t fim_context(fim_family_t family, const context_chunk_t *chunks, size_t count,
                   const char *repo, const char *current_path, size_t budget, buf_t *out,
                   bool *used) {
    size_t start = out->len, n = 0;
    const char *comment = fim_comment_for(current_path, count ? chunks[0].language : NULL);
    /* The current file's separator closes the repository layouts; it counts
     * against the budget too, so room for it is kept from the start. */
    const char *cur = current_path && *current_path ? current_path : "untitled";
    const char *closing = family == FIM_QWEN         ? "<|file_sep|>"
                          : family == FIM_STARCODER2 ? "<file_sep>"
                          : family == FIM_CODEGEMMA  ? "<|file_separator|>"
                                                     : NULL;
    size_t trailer = closing ? strlen(closing) + strlen(cur) + 1 : 0;
    budget = budget > trailer ? budget - trailer : 0;
    if (family == FIM_QWEN || family == FIM_CODEGEMMA || family == FIM_STARCODER2) {
        if (family == FIM_QWEN)
            buf_printf(out, "<|repo_name|>%s\n", repo ? repo : "repository");
        else if (family == FIM_STARCODER2)
            buf_printf(out, "<repo_name>%s", repo ? repo : "repository");
    }
    for (size_t i = 0; i < count; i++) {
        const context_chunk_t *c = &chunks[i];
        size_t before = out->len;
        if (has_special_token(c->text, c->text_len) ||
            has_special_token(c->path, strlen(c->path))) {
            used[i] = false;
            continue;
        }
        switch (family) {
        case FIM_QWEN:
            buf_printf(out, "<|file_sep|>%s\n", c->path);
            break;
        case FIM_STARCODER2:
            buf_printf(out, "<file_sep>%s\n", c->path);
            break;
        case FIM_CODEGEMMA:
            buf_printf(out, "<|file_separator|>%s\n", c->path);
            break;
        default:
            buf_printf(out, "%s %s:%d-%d\n", comment, c->path, c->start_line, c->end_line);
        }
        buf_append(out, c->text, c->text_len);
        if (c->text_len == 0 || c->text[c->text_len - 1] != '\n')
            buf_append(out, "\n", 1);
        if (family != FIM_QWEN && family != FIM_STARCODER2 && family != FIM_CODEGEMMA)
            buf_append(out, "\n", 1);
        if (out->len - start > budget) { /* does not fit: drop it, try the next */
            out->len = before;
            out->data[out->len] = '\0';
            used[i] = false;
            continue;
        }
        used[i] = true;
        n++;
    }
    if (n == 0) { /* nothing fitted: no header either */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return 0;
    }
    if (closing)
        buf_printf(out, "%s%s\n", closing, cur);
    return n;
}

void fim_rebuild(const fim_t *fim, const char *prompt, size_t len, const char *context,
                 size_t context_len, buf_t *out) {
    size_t at;
    switch (fim->family) {
    case FIM_QWEN:
    case FIM_CODEGEMMA:
    case FIM_STARCODER2: {
        /* Before the FIM part: where its first marker starts. */
        const char *marker = fim->family == FIM_STARCODER2 ? "<fim_prefix>" : "<|fim_prefix|>";
        const char *m = memmem(prompt, len, marker, strlen(marker));
        at = m ? (size_t)(m - prompt) : 0;
        break;
    }
    case FIM_NONE:
        at = 0;
        break;
    default:
        at = fim->prefix_at; /* right before the prefix */
    }
    buf_append(out, prompt, at);
    buf_append(out, context, context_len);
    buf_append(out, prompt + at, len - at);
}

size_t fim_skip_diff_comment(const char *prefix, size_t len) {
    if (len < 7 || memcmp(prefix, "/*\n", 3) != 0)
        return 0;
    const char *end = memmem(prefix + 3, len - 3, "\n*/\n\n", 5);
    if (!end)
        return 0;
    /* Only a diff: its lines look like one ("diff --git", "@@", "+", "-", ...). */
    if (!memmem(prefix, (size_t)(end - prefix), "diff --git", 10) &&
        !memmem(prefix, (size_t)(end - prefix), "\n@@ ", 4))
        return 0;
    return (size_t)(end - prefix) + 5;
}
