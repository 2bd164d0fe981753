/*
 * gateway/fim: FIM prompts from HTTP bodies, recognised and rebuilt with
 * repository context.
 *
 * The input is cut at 0xff bytes into: a raw prompt, a chunk's text, the
 * chunk's path, and P and S for a template.  Invariants:
 *   - fim_parse() spans lie inside the prompt (all zero for FIM_NONE);
 *   - rebuilding with no context gives the prompt back byte for byte;
 *   - rebuilding with fim_context() output parses again as the same family
 *     with the same suffix, and the same prefix for the families whose
 *     context goes before the markers (Qwen, CodeGemma, StarCoder2), the
 *     context followed by the prefix for the others: the FIM part is never
 *     changed;
 *   - fim_context() stays within its budget and marks what it used;
 *   - a prompt built from any template of the table with P and S that hold
 *     no FIM marker parses as that family with exactly P and S (except the
 *     two spacing ambiguities the format has by construction);
 *   - fim_skip_diff_comment() skips a whole "/" "*...*" "/" block or nothing;
 *   - fim_parse_for_model() finds the spans fim_parse() finds, and a family
 *     that is fim_parse's or its twin on the same markers;
 *   - fim_context_within() stays within its tokens as it counts them;
 *   - fim_rebuild_parts() inserts exactly the context and the restored
 *     text, cuts exactly the suffix's tail, and with nothing to do gives
 *     the prompt back; fim_suffix_keep() keeps whole lines or the cursor's.
 */
#include "gateway/fim.h"
#include "tests/fuzz/fuzz.h"

#define DS_BEGIN                                                                                   \
    "<\xef\xbd\x9c"                                                                                \
    "fim\xe2\x96\x81"                                                                              \
    "begin\xef\xbd\x9c>"
#define DS_HOLE                                                                                    \
    "<\xef\xbd\x9c"                                                                                \
    "fim\xe2\x96\x81"                                                                              \
    "hole\xef\xbd\x9c>"
#define DS_END                                                                                     \
    "<\xef\xbd\x9c"                                                                                \
    "fim\xe2\x96\x81"                                                                              \
    "end\xef\xbd\x9c>"

typedef struct {
    fim_family_t family;
    const char *open, *between, *close;
    bool suffix_first;
} template_t;

/* ProxyAI's templates (see tests/unit/gateway_fim_test.c). */
static const template_t templates[] = {
    {FIM_QWEN, "<|fim_prefix|> ", " <|fim_suffix|>", " <|fim_middle|>", false},
    {FIM_CODEGEMMA, "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", false},
    {FIM_CODEQWEN, "<fim_prefix>", "<fim_suffix>", "<fim_middle>", false},
    {FIM_STARCODER2, "<fim_prefix>", " <fim_suffix> ", "<fim_middle>", false},
    {FIM_CODELLAMA, "<PRE> ", " <SUF>", " <MID>", false},
    {FIM_DEEPSEEK, DS_BEGIN, DS_HOLE, DS_END, false},
    {FIM_CODESTRAL, "[SUFFIX]", "[PREFIX]", "[MIDDLE]", true},
};
#define NTEMPLATES (sizeof templates / sizeof templates[0])

/* Any FIM marker of any family, or the start of one. */
static bool has_marker(const char *s, size_t len) {
    static const char *const markers[] = {"<|fim_",
                                          "<fim_",
                                          "<PRE>",
                                          "<SUF>",
                                          "<MID>",
                                          "[SUFFIX]",
                                          "[PREFIX]",
                                          "[MIDDLE]",
                                          "<\xef\xbd\x9c"
                                          "fim\xe2\x96\x81",
                                          NULL};
    for (int i = 0; markers[i]; i++)
        if (fuzz_contains(s, len, markers[i]))
            return true;
    return false;
}

static void check_spans(const fim_t *f, size_t len) {
    FUZZ_ASSERT(f->family >= FIM_NONE && f->family <= FIM_CODESTRAL);
    FUZZ_ASSERT(f->prefix_at <= len && f->prefix_len <= len - f->prefix_at);
    FUZZ_ASSERT(f->suffix_at <= len && f->suffix_len <= len - f->suffix_at);
    if (f->family == FIM_NONE)
        FUZZ_ASSERT(f->prefix_at == 0 && f->prefix_len == 0 && f->suffix_at == 0 &&
                    f->suffix_len == 0);
}

static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen) {
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void check_rebuild(const char *prompt, size_t len, const fim_t *fim,
                          const fuzz_piece_t *text, const char *path, size_t budget, bool named) {
    /* No context: the prompt itself. */
    buf_t same = BUF_INIT;
    fim_rebuild(fim, prompt, len, "", 0, &same);
    FUZZ_ASSERT(same_bytes(same.data, same.len, prompt, len));
    buf_free(&same);

    context_chunk_t chunk = {.path = path,
                             .start_line = 3,
                             .end_line = 9,
                             .language = named ? "python" : NULL,
                             .kind = "function",
                             .text = text->data,
                             .text_len = text->len};
    buf_t context = BUF_INIT;
    bool used = true;
    /* The current file's path and the repository name come from the
     * gateway's own configuration and headers it validated: fixed here. */
    size_t n = fim_context(fim->family, &chunk, 1, named ? "shop" : NULL,
                           named ? "src/app.py" : NULL, budget, &context, &used);
    FUZZ_ASSERT(n <= 1 && used == (n == 1));
    FUZZ_ASSERT(context.len <= budget);
    if (n == 0)
        FUZZ_ASSERT(context.len == 0);

    buf_t rebuilt = BUF_INIT;
    fim_rebuild(fim, prompt, len, context.data, context.len, &rebuilt);
    FUZZ_ASSERT(rebuilt.len == len + context.len);
    if (fim->family != FIM_NONE) {
        fim_t again;
        FUZZ_ASSERT(fim_parse(rebuilt.data, rebuilt.len, &again) == fim->family);
        check_spans(&again, rebuilt.len);
        FUZZ_ASSERT(same_bytes(rebuilt.data + again.suffix_at, again.suffix_len,
                               prompt + fim->suffix_at, fim->suffix_len));
        const char *p = rebuilt.data + again.prefix_at;
        if (fim->family == FIM_QWEN || fim->family == FIM_CODEGEMMA ||
            fim->family == FIM_STARCODER2) {
            FUZZ_ASSERT(same_bytes(p, again.prefix_len, prompt + fim->prefix_at, fim->prefix_len));
        } else {
            FUZZ_ASSERT(again.prefix_len == context.len + fim->prefix_len);
            FUZZ_ASSERT(context.len == 0 || memcmp(p, context.data, context.len) == 0);
            FUZZ_ASSERT(same_bytes(p + context.len, fim->prefix_len, prompt + fim->prefix_at,
                                   fim->prefix_len));
        }
    }
    buf_free(&rebuilt);
    buf_free(&context);
}

static void check_template(const template_t *t, const fuzz_piece_t *p, const fuzz_piece_t *s) {
    if (has_marker(p->data, p->len) || has_marker(s->data, s->len))
        return;
    /* Ambiguous by construction: CodeGemma with P that looks spaced like
     * Qwen's, CodeQwen1.5 with the spacing of StarCoder2. */
    bool p_lead = p->len && p->data[0] == ' ', p_trail = p->len && p->data[p->len - 1] == ' ';
    bool s_lead = s->len && s->data[0] == ' ';
    if (t->family == FIM_CODEGEMMA && p_lead && p_trail)
        return;
    if (t->family == FIM_CODEQWEN && p_trail && s_lead)
        return;
    buf_t prompt = BUF_INIT;
    buf_append_str(&prompt, t->open);
    buf_append(&prompt, t->suffix_first ? s->data : p->data, t->suffix_first ? s->len : p->len);
    buf_append_str(&prompt, t->between);
    buf_append(&prompt, t->suffix_first ? p->data : s->data, t->suffix_first ? p->len : s->len);
    buf_append_str(&prompt, t->close);
    fim_t fim;
    fim_family_t family = fim_parse(prompt.data, prompt.len, &fim);
    if (family != t->family)
        fprintf(stderr, "fuzz: %s prompt parsed as %s\n", fim_family_name(t->family),
                fim_family_name(family));
    FUZZ_ASSERT(family == t->family);
    check_spans(&fim, prompt.len);
    FUZZ_ASSERT(same_bytes(prompt.data + fim.prefix_at, fim.prefix_len, p->data, p->len));
    FUZZ_ASSERT(same_bytes(prompt.data + fim.suffix_at, fim.suffix_len, s->data, s->len));
    buf_free(&prompt);
}

static void check_diff_comment(const char *s, size_t len) {
    size_t skip = fim_skip_diff_comment(s, len);
    FUZZ_ASSERT(skip <= len);
    if (skip) {
        FUZZ_ASSERT(skip >= 8 && memcmp(s, "/*\n", 3) == 0);
        FUZZ_ASSERT(memcmp(s + skip - 5, "\n*/\n\n", 5) == 0);
    }
}

/* The family a model's name may choose instead of parsed. */
static bool twins(fim_family_t a, fim_family_t b) {
    if (a == b)
        return true;
    bool qwen_markers =
        (a == FIM_QWEN || a == FIM_CODEGEMMA) && (b == FIM_QWEN || b == FIM_CODEGEMMA);
    bool fim_markers =
        (a == FIM_CODEQWEN || a == FIM_STARCODER2) && (b == FIM_CODEQWEN || b == FIM_STARCODER2);
    return qwen_markers || fim_markers;
}

static void check_parts(const char *prompt, size_t len, const fim_t *fim, const fuzz_piece_t *text,
                        const char *model, uint8_t mode) {
    fim_t named;
    fim_family_t by_name = fim_parse_for_model(prompt, len, model, &named);
    FUZZ_ASSERT(twins(by_name, fim->family));
    FUZZ_ASSERT(named.prefix_at == fim->prefix_at && named.prefix_len == fim->prefix_len &&
                named.suffix_at == fim->suffix_at && named.suffix_len == fim->suffix_len);

    context_chunk_t chunk = {.path = "lib/a.py",
                             .start_line = 1,
                             .end_line = 2,
                             .language = "python",
                             .kind = "function",
                             .text = text->data,
                             .text_len = text->len};
    fim_budget_t budget = {.chars = 1u << 20,
                           .tokens = (size_t)mode * 4,
                           .tokens_family = (tokens_family_t)(mode % 3)};
    buf_t context = BUF_INIT;
    bool used = false;
    size_t tokens = 0;
    fim_context_within(named.family, &chunk, 1, "shop", model, &budget, &context, &used, &tokens);
    FUZZ_ASSERT(tokens <= budget.tokens);
    FUZZ_ASSERT(tokens_estimate(budget.tokens_family, context.data, context.len) <= tokens);

    const char *suffix = prompt + named.suffix_at;
    size_t keep = fim_suffix_keep(suffix, named.suffix_len, mode, TOKENS_QWEN);
    FUZZ_ASSERT(keep <= named.suffix_len);
    FUZZ_ASSERT(keep == named.suffix_len || (keep > 0 && suffix[keep - 1] == '\n'));
    size_t restore_at = named.prefix_at + (mode & 4 ? named.prefix_len : 0);
    fim_parts_t parts = {.context = context.data,
                         .context_len = context.len,
                         .restored = text->data,
                         .restored_len = text->len,
                         .restore_at = restore_at,
                         .suffix_keep = keep};
    buf_t out = BUF_INIT;
    fim_rebuild_parts(&named, prompt, len, &parts, &out);
    size_t cut = named.family != FIM_NONE ? named.suffix_len - keep : 0;
    FUZZ_ASSERT(out.len == len + context.len + text->len - cut);
    fim_parts_t none = {.suffix_keep = SIZE_MAX};
    buf_reset(&out);
    fim_rebuild_parts(&named, prompt, len, &none, &out);
    FUZZ_ASSERT(same_bytes(out.data, out.len, prompt, len));
    buf_free(&out);
    buf_free(&context);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t mode = fuzz_take_byte(&data, &size);
    fuzz_piece_t pieces[5] = {{"", 0}, {"", 0}, {"", 0}, {"", 0}, {"", 0}};
    fuzz_split(data, size, 0xff, pieces, 5);
    const fuzz_piece_t *prompt = &pieces[0];

    fim_t fim;
    fim_family_t family = fim_parse(prompt->data, prompt->len, &fim);
    FUZZ_ASSERT(family == fim.family);
    check_spans(&fim, prompt->len);
    FUZZ_ASSERT(fim_family_name(family)[0] != '?');

    char *path = fuzz_strndup(pieces[2].data, pieces[2].len);
    size_t budget = (size_t)(mode >> 3) * 64;
    check_rebuild(prompt->data, prompt->len, &fim, &pieces[1], path, budget, mode & 1);
    check_parts(prompt->data, prompt->len, &fim, &pieces[1], path, mode);
    const char *comment = fim_comment_for(path, (mode & 2) ? "python" : NULL);
    FUZZ_ASSERT(!strcmp(comment, "//") || !strcmp(comment, "#") || !strcmp(comment, "--"));
    free(path);

    check_template(&templates[mode % NTEMPLATES], &pieces[3], &pieces[4]);
    check_diff_comment(prompt->data, prompt->len);
    if (fim.family != FIM_NONE)
        check_diff_comment(prompt->data + fim.prefix_at, fim.prefix_len);
    return 0;
}
