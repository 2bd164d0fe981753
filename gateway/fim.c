/*
 * FIM prompts (see fim.h).  Recognition is by marker, in an order that
 * keeps the families apart (CodeGemma and Qwen share markers and differ in
 * spacing; CodeQwen1.5 and StarCoder2 likewise).  Every offset is checked
 * against the prompt's length: the prompt comes from the network.
 */
#include "gateway/fim.h"

#include "proto/code/lang.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

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

/* Whether the model's name, without its namespace and tag, holds word
 * (case-insensitive). */
static bool name_has(const char *model, const char *word) {
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    size_t n = strcspn(base, ":"), w = strlen(word);
    for (size_t i = 0; i + w <= n; i++)
        if (strncasecmp(base + i, word, w) == 0)
            return true;
    return false;
}

fim_family_t fim_family_for_model(const char *model, fim_family_t parsed) {
    if (!model || !*model)
        return parsed;
    switch (parsed) {
    case FIM_QWEN:
    case FIM_CODEGEMMA:
        if (name_has(model, "gemma"))
            return FIM_CODEGEMMA;
        /* CodeQwen1.5 has the other markers: its name says nothing here */
        if (name_has(model, "qwen") && !name_has(model, "codeqwen"))
            return FIM_QWEN;
        return parsed;
    case FIM_CODEQWEN:
    case FIM_STARCODER2:
        if (name_has(model, "codeqwen") || name_has(model, "stable-code") ||
            name_has(model, "stablecode"))
            return FIM_CODEQWEN;
        if (name_has(model, "starcoder"))
            return FIM_STARCODER2;
        return parsed;
    default:
        return parsed;
    }
}

fim_family_t fim_parse_for_model(const char *s, size_t len, const char *model, fim_t *out) {
    fim_family_t parsed = fim_parse(s, len, out);
    /* the spans stay as the spacing made them: only the layout follows the name */
    return out->family = fim_family_for_model(model, parsed);
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
    fim_budget_t b = {.chars = budget, .tokens = SIZE_MAX, .tokens_family = TOKENS_ANY};
    return fim_context_within(family, chunks, count, repo, current_path, &b, out, used, NULL);
}

size_t fim_context_within(fim_family_t family, const context_chunk_t *chunks, size_t count,
                          const char *repo, const char *current_path, const fim_budget_t *limits,
                          buf_t *out, bool *used, size_t *tokens) {
    size_t start = out->len, n = 0, budget = limits->chars;
    if (tokens)
        *tokens = 0;
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
    /* The closing line in tokens, counted apart: the parts of a text cost
     * at least its estimate less five, so five more per part keeps the sum
     * above the whole. */
    size_t token_budget = limits->tokens, token_trailer = 0;
    if (closing && token_budget != SIZE_MAX) {
        char line[64];
        int k = snprintf(line, sizeof line, "%s", closing);
        token_trailer = tokens_estimate(limits->tokens_family, line, (size_t)k) +
                        tokens_estimate(limits->tokens_family, cur, strlen(cur)) + 1 + 10;
    }
    token_budget = token_budget == SIZE_MAX       ? SIZE_MAX
                   : token_budget > token_trailer ? token_budget - token_trailer
                                                  : 0;
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
            buf_printf(out, "%s %s:%d-%d%s\n", comment, c->path, c->start_line, c->end_line,
                       c->kind && !strcmp(c->kind, "outline") ? " (signatures)" : "");
        }
        buf_append(out, c->text, c->text_len);
        if (c->text_len == 0 || c->text[c->text_len - 1] != '\n')
            buf_append(out, "\n", 1);
        if (family != FIM_QWEN && family != FIM_STARCODER2 && family != FIM_CODEGEMMA)
            buf_append(out, "\n", 1);
        bool fits = out->len - start <= budget;
        if (fits && token_budget != SIZE_MAX)
            fits = tokens_estimate(limits->tokens_family, out->data + start, out->len - start) <=
                   token_budget;
        if (!fits) { /* does not fit: drop it, try the next */
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
    if (tokens)
        *tokens = tokens_estimate(limits->tokens_family, out->data + start, out->len - start) +
                  (closing ? 5 : 0);
    return n;
}

/* Where the context goes in prompt: before the FIM part for the
 * repository layouts, right before the prefix for the others. */
static size_t context_at(const fim_t *fim, const char *prompt, size_t len) {
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
    return at <= len ? at : len;
}

void fim_rebuild(const fim_t *fim, const char *prompt, size_t len, const char *context,
                 size_t context_len, buf_t *out) {
    size_t at = context_at(fim, prompt, len);
    buf_append(out, prompt, at);
    buf_append(out, context, context_len);
    buf_append(out, prompt + at, len - at);
}

typedef struct {
    size_t at, cut; /* where, and how many bytes of the prompt go from there */
    const char *text;
    size_t text_len; /* what is inserted there */
} edit_t;

void fim_rebuild_parts(const fim_t *fim, const char *prompt, size_t len, const fim_parts_t *parts,
                       buf_t *out) {
    /* Three edits at most, applied in the prompt's order: the context and
     * the restored text are insertions, the suffix's tail a cut. */
    edit_t edits[3];
    int n = 0;
    if (parts->context_len)
        edits[n++] = (edit_t){context_at(fim, prompt, len), 0, parts->context, parts->context_len};
    if (parts->restored_len)
        edits[n++] = (edit_t){parts->restore_at <= len ? parts->restore_at : len, 0,
                              parts->restored, parts->restored_len};
    if (fim->family != FIM_NONE && parts->suffix_keep < fim->suffix_len &&
        fim->suffix_at + fim->suffix_len <= len)
        edits[n++] = (edit_t){fim->suffix_at + parts->suffix_keep,
                              fim->suffix_len - parts->suffix_keep, NULL, 0};
    /* insertion sort, stable: the context before the restored text at one offset */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && edits[j].at < edits[j - 1].at; j--) {
            edit_t t = edits[j];
            edits[j] = edits[j - 1];
            edits[j - 1] = t;
        }
    size_t from = 0;
    for (int i = 0; i < n; i++) {
        size_t at = edits[i].at < from ? from : edits[i].at;
        buf_append(out, prompt + from, at - from);
        buf_append(out, edits[i].text, edits[i].text_len);
        from = at + edits[i].cut > len ? len : at + edits[i].cut;
    }
    buf_append(out, prompt + from, len - from);
}

size_t fim_suffix_keep(const char *suffix, size_t len, size_t max_tokens, tokens_family_t family) {
    if (len == 0 || tokens_estimate(family, suffix, len) <= max_tokens)
        return len;
    const char *nl = memchr(suffix, '\n', len);
    size_t keep = nl ? (size_t)(nl - suffix) + 1 : len; /* the cursor's line, always */
    /* then whole lines while they fit: the estimate grows with the text, so
     * the first line that does not fit ends the scan */
    while (keep < len) {
        nl = memchr(suffix + keep, '\n', len - keep);
        if (!nl)
            break;
        size_t end = (size_t)(nl - suffix) + 1;
        if (tokens_estimate(family, suffix, end) > max_tokens)
            break;
        keep = end;
    }
    return keep;
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
