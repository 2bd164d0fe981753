/*
 * gateway/fim: the raw FIM prompt of every template ProxyAI builds (see
 * the clients' notes), recognised, given repository context in its
 * family's layout and rebuilt, without a server.
 *
 * The promise checked everywhere: the FIM part of a prompt — markers,
 * spaces, prefix and suffix — comes out byte for byte as it went in, and
 * the context sits exactly where the family wants it, within the budget.
 * Bad input (markers missing, out of order, cut in half, invalid UTF-8,
 * NUL bytes, megabytes of text) is "not a FIM prompt", never a crash.
 */
#include "gateway/fim.h"
#include "tests/test.h"

#include <stdlib.h>
#include <string.h>

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

/* One row of ProxyAI's template table: what it is called there, the family
 * it must be recognised as, and the template pieces around P and S. */
typedef struct {
    const char *label;
    fim_family_t family;
    const char *open, *between, *close; /* open P between S close (Codestral: S and P swapped) */
    bool suffix_first;
} template_t;

static const template_t templates[] = {
    {"CodeQwen2.5", FIM_QWEN, "<|fim_prefix|> ", " <|fim_suffix|>", " <|fim_middle|>", false},
    {"OpenAI", FIM_QWEN, "<|fim_prefix|> ", " <|fim_suffix|>", " <|fim_middle|>", false},
    {"CodeGemma", FIM_CODEGEMMA, "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", false},
    {"CodeQwen1.5", FIM_CODEQWEN, "<fim_prefix>", "<fim_suffix>", "<fim_middle>", false},
    {"Stability", FIM_CODEQWEN, "<fim_prefix>", "<fim_suffix>", "<fim_middle>", false},
    {"StarCoder2", FIM_STARCODER2, "<fim_prefix>", " <fim_suffix> ", "<fim_middle>", false},
    {"Code Llama", FIM_CODELLAMA, "<PRE> ", " <SUF>", " <MID>", false},
    {"DeepSeek Coder", FIM_DEEPSEEK, DS_BEGIN, DS_HOLE, DS_END, false},
    {"Codestral", FIM_CODESTRAL, "[SUFFIX]", "[PREFIX]", "[MIDDLE]", true},
};
#define NTEMPLATES (sizeof templates / sizeof templates[0])

/* The prompt ProxyAI sends for P and S (lengths given: P may hold NULs). */
static void build(const template_t *t, const char *p, size_t plen, const char *s, size_t slen,
                  buf_t *out) {
    buf_reset(out);
    buf_append_str(out, t->open);
    if (t->suffix_first)
        buf_append(out, s, slen);
    else
        buf_append(out, p, plen);
    buf_append_str(out, t->between);
    if (t->suffix_first)
        buf_append(out, p, plen);
    else
        buf_append(out, s, slen);
    buf_append_str(out, t->close);
}

/* Parses the prompt of t for P and S and checks family and both spans. */
static void check_roundtrip(const template_t *t, const char *p, size_t plen, const char *s,
                            size_t slen) {
    buf_t prompt = BUF_INIT;
    build(t, p, plen, s, slen, &prompt);
    fim_t fim;
    fim_family_t f = fim_parse(prompt.data, prompt.len, &fim);
    if (f != t->family)
        fprintf(stderr, "  template %s: parsed as %s\n", t->label, fim_family_name(f));
    CHECK_INT(f, ==, t->family);
    CHECK_INT(fim.family, ==, t->family);
    CHECK_INT(fim.prefix_len, ==, plen);
    CHECK_INT(fim.suffix_len, ==, slen);
    CHECK(fim.prefix_at + fim.prefix_len <= prompt.len);
    CHECK(fim.suffix_at + fim.suffix_len <= prompt.len);
    if (fim.prefix_len == plen && fim.prefix_at + plen <= prompt.len)
        CHECK(memcmp(prompt.data + fim.prefix_at, p, plen) == 0);
    if (fim.suffix_len == slen && fim.suffix_at + slen <= prompt.len)
        CHECK(memcmp(prompt.data + fim.suffix_at, s, slen) == 0);
    buf_free(&prompt);
}

static const char *P = "import shop.tax as tax\n\ndef total(order):\n    return tax.compute(";
static const char *S = ")\n\n\ndef other():\n    pass\n";

TEST(parse_recognises_every_template_of_the_table) {
    for (size_t i = 0; i < NTEMPLATES; i++)
        check_roundtrip(&templates[i], P, strlen(P), S, strlen(S));
}

TEST(parse_keeps_spaces_that_belong_to_the_code) {
    /* Indentation at the start of P, a trailing space at its end, spaces
     * around S: only the template's own spaces are taken off. */
    static const char *const prefixes[] = {"    return x", "x = ", "  ", " a ", "\t"};
    static const char *const suffixes[] = {" + 1\n", "  ", "\n ", " b", ""};
    for (size_t i = 0; i < NTEMPLATES; i++) {
        /* CodeGemma and Qwen (and CodeQwen1.5 and StarCoder2) differ only in
         * spaces: a P/S that looks like the other's spacing is ambiguous by
         * construction, so those families get only unambiguous cases. */
        for (size_t a = 0; a < 5; a++)
            for (size_t b = 0; b < 5; b++) {
                const char *p = prefixes[a], *s = suffixes[b];
                size_t pl = strlen(p), sl = strlen(s);
                if (templates[i].family == FIM_CODEGEMMA && pl && p[0] == ' ' && p[pl - 1] == ' ')
                    continue;
                if (templates[i].family == FIM_CODEQWEN && pl && sl && p[pl - 1] == ' ' &&
                    s[0] == ' ')
                    continue;
                check_roundtrip(&templates[i], p, pl, s, sl);
            }
    }
}

TEST(parse_empty_prefix_and_suffix) {
    for (size_t i = 0; i < NTEMPLATES; i++) {
        check_roundtrip(&templates[i], "", 0, S, strlen(S));
        check_roundtrip(&templates[i], P, strlen(P), "", 0);
        check_roundtrip(&templates[i], "", 0, "", 0);
    }
}

TEST(parse_exact_bytes_of_the_qwen_default) {
    const char *prompt =
        "<|fim_prefix|> def f(x):\n    return <|fim_suffix|>\n\nf(1) <|fim_middle|>";
    fim_t fim;
    CHECK_INT(fim_parse(prompt, strlen(prompt), &fim), ==, FIM_QWEN);
    CHECK_INT(fim.prefix_at, ==, strlen("<|fim_prefix|> "));
    CHECK_INT(fim.prefix_len, ==, strlen("def f(x):\n    return"));
    CHECK_INT(fim.suffix_at, ==, strlen("<|fim_prefix|> def f(x):\n    return <|fim_suffix|>"));
    CHECK_INT(fim.suffix_len, ==, strlen("\n\nf(1)"));
    CHECK_STR(fim_family_name(fim.family), "qwen2.5");
}

TEST(parse_refuses_what_is_not_a_fim_prompt) {
    static const char *const bad[] = {
        "",
        "def f(x):\n    return x\n",
        "<|fim_prefix|> P <|fim_suffix|>S",                /* no middle marker */
        "<|fim_suffix|>S <|fim_prefix|> P <|fim_middle|>", /* out of order */
        "<|fim_middle|><|fim_suffix|>S<|fim_prefix|>P",    /* reversed */
        "<fim_prefix>P<fim_middle>S<fim_suffix>",          /* middle before suffix */
        "<PRE> P <MID> S <SUF>",                           /* out of order */
        "<SUF>S <PRE> P <MID>",                            /* out of order */
        "<|fim_prefix|> P <|fim_suffix|>S <|fim_mid",      /* marker cut in half */
        "<|fim_prefix|> P <|fim_suf|>S <|fim_middle|>",    /* marker misspelt */
        "[PREFIX]P[SUFFIX]S[MIDDLE]",                      /* Codestral, out of order */
        "[SUFFIX]S[MIDDLE][PREFIX]P",                      /* Codestral, middle first */
        "[SUFFIX]S[PREFIX]P",                              /* Codestral, no middle */
        DS_BEGIN "P" DS_END "S" DS_HOLE,                   /* DeepSeek, out of order */
        "<\xef\xbd\x9c"
        "fim\xe2\x96\x81"
        "begin\xef\xbd"
        "P" DS_HOLE "S" DS_END, /* cut UTF-8 */
        "<|fim_prefix|",
        "<",
        "[",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fim_t fim;
        memset(&fim, 0x5a, sizeof fim);
        fim_family_t f = fim_parse(bad[i], strlen(bad[i]), &fim);
        if (f != FIM_NONE)
            fprintf(stderr, "  case %zu parsed as %s\n", i, fim_family_name(f));
        CHECK_INT(f, ==, FIM_NONE);
        CHECK_INT(fim.family, ==, FIM_NONE);
        CHECK_INT(fim.prefix_len, ==, 0);
        CHECK_INT(fim.suffix_len, ==, 0);
    }
}

TEST(parse_respects_the_length_given) {
    /* The markers lie past len: the prompt is not a FIM prompt. */
    const char *prompt = "<|fim_prefix|> P <|fim_suffix|>S <|fim_middle|>";
    fim_t fim;
    CHECK_INT(fim_parse(prompt, strlen(prompt) - 3, &fim), ==, FIM_NONE);
    CHECK_INT(fim_parse(prompt, 0, &fim), ==, FIM_NONE);
    /* A copy without NUL terminator, exactly len bytes long (ASan checks). */
    size_t n = strlen(prompt);
    char *exact = malloc(n);
    memcpy(exact, prompt, n);
    CHECK_INT(fim_parse(exact, n, &fim), ==, FIM_QWEN);
    CHECK_INT(fim_parse(exact, n - 1, &fim), ==, FIM_NONE);
    free(exact);
}

TEST(parse_invalid_utf8_and_nul_bytes) {
    const char p[] = "x = \xff\xfe\xc0\x80 \x00 y\xe2\x82";
    const char s[] = "\xed\xa0\x80\x00\xf8tail";
    for (size_t i = 0; i < NTEMPLATES; i++)
        check_roundtrip(&templates[i], p, sizeof p - 1, s, sizeof s - 1);
}

TEST(parse_huge_input) {
    size_t big = 8u << 20;
    char *p = malloc(big), *s = malloc(big / 2);
    for (size_t i = 0; i < big; i++)
        p[i] = "abc <|fim_prefix\n"[i % 17]; /* looks like a marker, never is one */
    for (size_t i = 0; i < big / 2; i++)
        s[i] = "xyz [SUFFIX\n"[i % 12];
    for (size_t i = 0; i < NTEMPLATES; i++)
        check_roundtrip(&templates[i], p, big, s, big / 2);
    /* Megabytes without any marker. */
    fim_t fim;
    CHECK_INT(fim_parse(p, big, &fim), ==, FIM_NONE);
    free(p);
    free(s);
}

/* ---- fim_context ---- */

static context_chunk_t chunk(const char *path, int from, int to, const char *language,
                             const char *text) {
    return (context_chunk_t){.path = path,
                             .start_line = from,
                             .end_line = to,
                             .language = language,
                             .kind = "function",
                             .text = text,
                             .text_len = strlen(text)};
}

static context_chunk_t chunks[] = {
    {.path = "py/shop/services/tax.py",
     .start_line = 4,
     .end_line = 5,
     .language = "python",
     .text = "def compute(amount):\n    return amount * RATE",
     .text_len = 45},
    {.path = "py/shop/util.py",
     .start_line = 10,
     .end_line = 11,
     .language = "python",
     .text = "def clamp(value, low, high):\n    return max(low, min(high, value))\n",
     .text_len = 67},
};

static void context_of(fim_family_t family, const char *current, size_t budget, buf_t *out,
                       size_t *n, bool used[2]) {
    buf_reset(out);
    *n = fim_context(family, chunks, 2, "shop", current, budget, out, used);
}

TEST(context_layout_of_each_family) {
    CHECK_INT(chunks[0].text_len, ==, strlen(chunks[0].text));
    CHECK_INT(chunks[1].text_len, ==, strlen(chunks[1].text));
    buf_t out = BUF_INIT;
    bool used[2];
    size_t n;
    const char *cur = "py/shop/main.py";

    context_of(FIM_QWEN, cur, 4000, &out, &n, used);
    CHECK_INT(n, ==, 2);
    CHECK(used[0] && used[1]);
    CHECK_STR(out.data, "<|repo_name|>shop\n"
                        "<|file_sep|>py/shop/services/tax.py\n"
                        "def compute(amount):\n    return amount * RATE\n"
                        "<|file_sep|>py/shop/util.py\n"
                        "def clamp(value, low, high):\n    return max(low, min(high, value))\n"
                        "<|file_sep|>py/shop/main.py\n");

    context_of(FIM_STARCODER2, cur, 4000, &out, &n, used);
    CHECK_INT(n, ==, 2);
    CHECK_STR(out.data, "<repo_name>shop"
                        "<file_sep>py/shop/services/tax.py\n"
                        "def compute(amount):\n    return amount * RATE\n"
                        "<file_sep>py/shop/util.py\n"
                        "def clamp(value, low, high):\n    return max(low, min(high, value))\n"
                        "<file_sep>py/shop/main.py\n");

    context_of(FIM_CODEGEMMA, cur, 4000, &out, &n, used);
    CHECK_INT(n, ==, 2);
    CHECK_STR(out.data, "<|file_separator|>py/shop/services/tax.py\n"
                        "def compute(amount):\n    return amount * RATE\n"
                        "<|file_separator|>py/shop/util.py\n"
                        "def clamp(value, low, high):\n    return max(low, min(high, value))\n"
                        "<|file_separator|>py/shop/main.py\n");

    /* Path-headed comment blocks in the current file's syntax. */
    static const fim_family_t commented[] = {FIM_CODEQWEN, FIM_CODELLAMA, FIM_DEEPSEEK,
                                             FIM_CODESTRAL, FIM_NONE};
    for (size_t i = 0; i < sizeof commented / sizeof commented[0]; i++) {
        context_of(commented[i], cur, 4000, &out, &n, used);
        CHECK_INT(n, ==, 2);
        CHECK_STR(out.data,
                  "# py/shop/services/tax.py:4-5\n"
                  "def compute(amount):\n    return amount * RATE\n\n"
                  "# py/shop/util.py:10-11\n"
                  "def clamp(value, low, high):\n    return max(low, min(high, value))\n\n");
    }
    context_of(FIM_CODELLAMA, "src/main.c", 4000, &out, &n, used);
    CHECK(strncmp(out.data, "// py/shop/services/tax.py:4-5\n", 31) == 0);
    context_of(FIM_DEEPSEEK, "db/schema.sql", 4000, &out, &n, used);
    CHECK(strncmp(out.data, "-- py/shop/services/tax.py:4-5\n", 31) == 0);
    /* No current path: "untitled" names it, the comment follows the language. */
    context_of(FIM_QWEN, NULL, 4000, &out, &n, used);
    CHECK(strstr(out.data, "<|file_sep|>untitled\n") != NULL);
    context_of(FIM_CODELLAMA, NULL, 4000, &out, &n, used);
    CHECK(strncmp(out.data, "# py/shop", 9) == 0);
    buf_free(&out);
}

TEST(context_stays_within_the_budget) {
    static const fim_family_t all[] = {FIM_NONE,       FIM_QWEN,      FIM_CODEGEMMA, FIM_CODEQWEN,
                                       FIM_STARCODER2, FIM_CODELLAMA, FIM_DEEPSEEK,  FIM_CODESTRAL};
    /* A big chunk first, then small ones: the big one is skipped, the small
     * ones still fit. */
    char *big = malloc(3001);
    memset(big, 'x', 3000);
    big[3000] = '\0';
    context_chunk_t list[] = {
        chunk("a/big.py", 1, 100, "python", big),
        chunk("a/one.py", 1, 2, "python", "def one():\n    return 1\n"),
        chunk("a/two.py", 1, 2, "python", "def two():\n    return 2\n"),
    };
    buf_t out = BUF_INIT;
    for (size_t f = 0; f < sizeof all / sizeof all[0]; f++)
        for (size_t budget = 0; budget <= 3300; budget += 7) {
            bool used[3] = {true, true, true};
            buf_reset(&out);
            size_t n = fim_context(all[f], list, 3, "repo", "a/cur.py", budget, &out, used);
            if (out.len > budget)
                fprintf(stderr, "  %s, budget %zu: %zu bytes\n", fim_family_name(all[f]), budget,
                        out.len);
            CHECK(out.len <= budget);
            CHECK_INT(n, ==, (size_t)used[0] + used[1] + used[2]);
            if (n == 0)
                CHECK_INT(out.len, ==, 0);
            if (budget >= 3200) /* room for everything */
                CHECK_INT(n, ==, 3);
            if (budget < 3000)
                CHECK(!used[0]);
            for (size_t i = 0; i < 3; i++)
                if (used[i])
                    CHECK(strstr(out.data, list[i].path) != NULL);
        }
    /* Appends after what out holds already; the budget counts only its own bytes. */
    buf_reset(&out);
    buf_append_str(&out, "KEEP");
    bool used[3];
    size_t n = fim_context(FIM_QWEN, list + 1, 2, "repo", "a/cur.py", 200, &out, used);
    CHECK_INT(n, ==, 2);
    CHECK(strncmp(out.data, "KEEP<|repo_name|>repo\n", 22) == 0);
    CHECK(out.len - 4 <= 200);
    /* Nothing fits: no header either, and out is left as it was. */
    n = fim_context(FIM_QWEN, list, 1, "repo", "a/cur.py", 10, &out, used);
    CHECK_INT(n, ==, 0);
    CHECK(strncmp(out.data, "KEEP<|repo_name|>repo\n", 22) == 0);
    buf_free(&out);
    /* No chunks at all. */
    buf_t empty = BUF_INIT;
    CHECK_INT(fim_context(FIM_QWEN, NULL, 0, "repo", NULL, 4000, &empty, used), ==, 0);
    CHECK_INT(empty.len, ==, 0);
    buf_free(&empty);
    free(big);
}

TEST(context_leaves_out_chunks_with_special_tokens) {
    /* Code about models (this repository's gateway/fim.c) holds FIM markers;
     * in a prompt they would read as a second FIM part. */
    static const char *const texts[] = {
        "const char *m = \"<|fim_prefix|>\";\n",
        "s = '<fim_suffix>'\n",
        "x = \"<PRE> \" + p\n",
        "t = '[SUFFIX]' + s + '[PREFIX]'\n",
        "sep = \"<|file_sep|>\"\n",
        "r = '<repo_name>'\n",
        "e = '<|endoftext|>'\n",
        "d = \"" DS_BEGIN "\"\n",
    };
    static const fim_family_t all[] = {FIM_NONE,       FIM_QWEN,      FIM_CODEGEMMA, FIM_CODEQWEN,
                                       FIM_STARCODER2, FIM_CODELLAMA, FIM_DEEPSEEK,  FIM_CODESTRAL};
    buf_t out = BUF_INIT;
    for (size_t f = 0; f < sizeof all / sizeof all[0]; f++)
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            context_chunk_t list[] = {chunk("gateway/fim.c", 1, 1, "c", texts[i]),
                                      chunk("a/ok.py", 1, 2, "python", "def ok():\n    pass\n")};
            bool used[2] = {true, false};
            buf_reset(&out);
            size_t n = fim_context(all[f], list, 2, "repo", "a/cur.py", 4000, &out, used);
            CHECK_INT(n, ==, 1);
            CHECK(!used[0] && used[1]);
            CHECK(strstr(out.data, "gateway/fim.c") == NULL);
        }
    buf_free(&out);
}

/* ---- fim_rebuild ---- */

TEST(rebuild_puts_context_in_place_and_keeps_the_fim_part) {
    const char *ctx = "CONTEXT\n";
    size_t ctx_len = strlen(ctx);
    for (size_t i = 0; i < NTEMPLATES; i++) {
        const template_t *t = &templates[i];
        buf_t prompt = BUF_INIT, out = BUF_INIT;
        build(t, P, strlen(P), S, strlen(S), &prompt);
        fim_t fim;
        REQUIRE(fim_parse(prompt.data, prompt.len, &fim) == t->family);
        fim_rebuild(&fim, prompt.data, prompt.len, ctx, ctx_len, &out);
        CHECK_INT(out.len, ==, prompt.len + ctx_len);
        const char *at = strstr(out.data, ctx);
        REQUIRE(at != NULL);
        size_t pos = (size_t)(at - out.data);
        /* Before the FIM part for the repository layouts, right before P for the rest. */
        size_t want =
            (t->family == FIM_QWEN || t->family == FIM_CODEGEMMA || t->family == FIM_STARCODER2)
                ? 0
                : fim.prefix_at;
        CHECK_INT(pos, ==, want);
        /* The rest is the original, byte for byte. */
        CHECK(memcmp(out.data, prompt.data, pos) == 0);
        CHECK(memcmp(out.data + pos + ctx_len, prompt.data + pos, prompt.len - pos) == 0);
        /* And parses to the same P and S. */
        fim_t again;
        CHECK_INT(fim_parse(out.data, out.len, &again), ==, t->family);
        CHECK_INT(again.prefix_len, ==, strlen(P) + (pos ? ctx_len : 0));
        CHECK_INT(again.suffix_len, ==, strlen(S));
        CHECK(memcmp(out.data + again.suffix_at, S, strlen(S)) == 0);
        if (pos == 0)
            CHECK(memcmp(out.data + again.prefix_at, P, strlen(P)) == 0);
        else /* the context now opens the prefix span */
            CHECK(memcmp(out.data + again.prefix_at + ctx_len, P, strlen(P)) == 0);
        buf_free(&prompt);
        buf_free(&out);
    }
}

TEST(rebuild_keeps_text_before_the_markers) {
    /* A client that put something before the FIM part (a system line):
     * Qwen's context goes between it and <|fim_prefix|>. */
    const char *prompt = "HEAD\n<|fim_prefix|> a <|fim_suffix|>b <|fim_middle|>";
    fim_t fim;
    REQUIRE(fim_parse(prompt, strlen(prompt), &fim) == FIM_QWEN);
    buf_t out = BUF_INIT;
    fim_rebuild(&fim, prompt, strlen(prompt), "<|repo_name|>r\n", 15, &out);
    CHECK_STR(out.data, "HEAD\n<|repo_name|>r\n<|fim_prefix|> a <|fim_suffix|>b <|fim_middle|>");
    /* A plain prompt (prompt + suffix): context first. */
    fim_t none = {0};
    buf_reset(&out);
    fim_rebuild(&none, "def f(", 6, "# a.py:1-2\nx\n\n", 14, &out);
    CHECK_STR(out.data, "# a.py:1-2\nx\n\ndef f(");
    /* Empty context: the prompt unchanged. */
    buf_reset(&out);
    fim_rebuild(&fim, prompt, strlen(prompt), "", 0, &out);
    CHECK_STR(out.data, prompt);
    buf_free(&out);
}

/* ---- the model's name decides where markers are shared ---- */

TEST(family_follows_the_model_name_for_every_shared_marker_pair) {
    /* Each pair of families sharing markers, in both spacings, for a model
     * of either family and for names that say nothing. */
    static const struct {
        const char *open, *between, *close;
        fim_family_t spaced_as; /* what the spacing alone says */
    } forms[] = {
        {"<|fim_prefix|> ", " <|fim_suffix|>", " <|fim_middle|>", FIM_QWEN},
        {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", FIM_CODEGEMMA},
        {"<fim_prefix>", " <fim_suffix> ", "<fim_middle>", FIM_STARCODER2},
        {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", FIM_CODEQWEN},
    };
    static const struct {
        const char *model;
        fim_family_t qwen_markers, fim_markers; /* FIM_NONE: the spacing decides */
    } models[] = {
        {"qwen2.5-coder:7b", FIM_QWEN, FIM_NONE},
        {"qwen2.5-coder:1.5b-base", FIM_QWEN, FIM_NONE},
        {"hf.co/Qwen/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M", FIM_QWEN, FIM_NONE},
        {"qwen3-coder:30b", FIM_QWEN, FIM_NONE},
        {"codegemma:7b-code", FIM_CODEGEMMA, FIM_NONE},
        {"codegemma", FIM_CODEGEMMA, FIM_NONE},
        {"codeqwen:7b-code-v1.5-q4_0", FIM_NONE, FIM_CODEQWEN},
        {"stable-code:3b-code", FIM_NONE, FIM_CODEQWEN},
        {"starcoder2:3b", FIM_NONE, FIM_STARCODER2},
        {"starcoder2:15b-q4_0", FIM_NONE, FIM_STARCODER2},
        {"granite-code:3b", FIM_NONE, FIM_NONE},
        {"my-model", FIM_NONE, FIM_NONE},
        {"", FIM_NONE, FIM_NONE},
        {NULL, FIM_NONE, FIM_NONE},
        /* a tag that looks like a name says nothing */
        {"mine:qwen", FIM_NONE, FIM_NONE},
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++)
        for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
            buf_t prompt = BUF_INIT;
            buf_printf(&prompt, "%s%s%s%s%s", forms[f].open, P, forms[f].between, S,
                       forms[f].close);
            fim_t fim;
            fim_family_t got = fim_parse_for_model(prompt.data, prompt.len, models[m].model, &fim);
            bool qwen_markers = forms[f].open[1] == '|';
            fim_family_t by_name = qwen_markers ? models[m].qwen_markers : models[m].fim_markers;
            fim_family_t want = by_name != FIM_NONE ? by_name : forms[f].spaced_as;
            if (got != want)
                fprintf(stderr, "  %s with %s%s: %s, not %s\n",
                        models[m].model ? models[m].model : "NULL", forms[f].open, forms[f].between,
                        fim_family_name(got), fim_family_name(want));
            CHECK_INT(got, ==, want);
            CHECK_INT(fim.family, ==, want);
            /* the spans follow the spacing, whatever the name says */
            CHECK_INT(fim.prefix_len, ==, strlen(P));
            CHECK_INT(fim.suffix_len, ==, strlen(S));
            CHECK(memcmp(prompt.data + fim.prefix_at, P, strlen(P)) == 0);
            CHECK(memcmp(prompt.data + fim.suffix_at, S, strlen(S)) == 0);
            buf_free(&prompt);
        }
    /* Families without a twin: the name changes nothing. */
    for (size_t i = 0; i < NTEMPLATES; i++) {
        if (templates[i].family == FIM_QWEN || templates[i].family == FIM_CODEGEMMA ||
            templates[i].family == FIM_CODEQWEN || templates[i].family == FIM_STARCODER2)
            continue;
        buf_t prompt = BUF_INIT;
        build(&templates[i], P, strlen(P), S, strlen(S), &prompt);
        fim_t fim;
        CHECK_INT(fim_parse_for_model(prompt.data, prompt.len, "codegemma:7b", &fim), ==,
                  templates[i].family);
        CHECK_INT(fim_parse_for_model(prompt.data, prompt.len, "starcoder2:3b", &fim), ==,
                  templates[i].family);
        buf_free(&prompt);
    }
    CHECK_INT(fim_parse_for_model("no markers", 10, "qwen2.5-coder", &(fim_t){0}), ==, FIM_NONE);
    CHECK_INT(fim_family_for_model("qwen2.5-coder", FIM_NONE), ==, FIM_NONE);
    CHECK_INT(fim_family_for_model("codegemma", FIM_CODELLAMA), ==, FIM_CODELLAMA);
}

TEST(a_qwen_model_with_unspaced_markers_gets_qwen_s_layout) {
    /* The report that started this: qwen2.5-coder with CodeGemma's spacing
     * got <|file_separator|>. */
    const char *prompt = "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n<|fim_middle|>";
    fim_t fim;
    REQUIRE(fim_parse_for_model(prompt, strlen(prompt), "qwen2.5-coder:7b", &fim) == FIM_QWEN);
    buf_t out = BUF_INIT;
    bool used[2];
    CHECK_INT(fim_context(fim.family, chunks, 2, "shop", "a.py", 4000, &out, used), ==, 2);
    CHECK(strstr(out.data, "<|file_sep|>py/shop/util.py\n") != NULL);
    CHECK(strstr(out.data, "<|file_separator|>") == NULL);
    buf_t rebuilt = BUF_INIT;
    fim_rebuild(&fim, prompt, strlen(prompt), out.data, out.len, &rebuilt);
    CHECK(strncmp(rebuilt.data, "<|repo_name|>shop\n", 18) == 0);
    /* the client's FIM part, unspaced as it came */
    CHECK(strcmp(rebuilt.data + out.len, prompt) == 0);
    buf_free(&out);
    buf_free(&rebuilt);
}

/* ---- budgets in tokens ---- */

TEST(context_within_a_token_budget) {
    static const fim_family_t all[] = {FIM_NONE,       FIM_QWEN,      FIM_CODEGEMMA, FIM_CODEQWEN,
                                       FIM_STARCODER2, FIM_CODELLAMA, FIM_DEEPSEEK,  FIM_CODESTRAL};
    buf_t out = BUF_INIT;
    for (size_t f = 0; f < sizeof all / sizeof all[0]; f++)
        for (size_t tokens = 0; tokens <= 120; tokens++) {
            bool used[2] = {true, true};
            size_t estimate = 0;
            buf_reset(&out);
            fim_budget_t b = {.chars = 4000, .tokens = tokens, .tokens_family = TOKENS_QWEN};
            size_t n = fim_context_within(all[f], chunks, 2, "shop", "py/shop/main.py", &b, &out,
                                          used, &estimate);
            CHECK_INT(n, ==, (size_t)used[0] + used[1]);
            /* the block and the estimate it reports stay within the budget */
            CHECK(estimate <= tokens);
            CHECK(tokens_estimate(TOKENS_QWEN, out.data, out.len) <= estimate);
            if (n == 0)
                CHECK_INT(out.len, ==, 0);
            if (tokens >= 100) /* room for both */
                CHECK_INT(n, ==, 2);
        }
    /* A list that fits renders the same bytes whatever the budget above it:
     * what keeps a held context byte for byte the same. */
    buf_t a = BUF_INIT, b2 = BUF_INIT;
    bool used[2];
    fim_budget_t tight = {.chars = 4000, .tokens = 100, .tokens_family = TOKENS_QWEN};
    fim_budget_t loose = {.chars = 1 << 20, .tokens = SIZE_MAX, .tokens_family = TOKENS_ANY};
    fim_context_within(FIM_QWEN, chunks, 2, "shop", "a.py", &tight, &a, used, NULL);
    fim_context_within(FIM_QWEN, chunks, 2, "shop", "a.py", &loose, &b2, used, NULL);
    CHECK_STR(a.data, b2.data);
    buf_free(&a);
    buf_free(&b2);
    buf_free(&out);
}

TEST(rebuild_parts_puts_back_the_head_and_cuts_the_suffix) {
    const char *restored = "import os\n\n";
    for (size_t i = 0; i < NTEMPLATES; i++) {
        const template_t *t = &templates[i];
        buf_t prompt = BUF_INIT, out = BUF_INIT;
        build(t, P, strlen(P), S, strlen(S), &prompt);
        fim_t fim;
        REQUIRE(fim_parse(prompt.data, prompt.len, &fim) == t->family);
        size_t keep = 3; /* ")\n\n" */
        fim_parts_t parts = {.context = "CTX\n",
                             .context_len = 4,
                             .restored = restored,
                             .restored_len = strlen(restored),
                             .restore_at = fim.prefix_at,
                             .suffix_keep = keep};
        fim_rebuild_parts(&fim, prompt.data, prompt.len, &parts, &out);
        CHECK_INT(out.len, ==, prompt.len + 4 + strlen(restored) - (strlen(S) - keep));
        fim_t again;
        CHECK_INT(fim_parse(out.data, out.len, &again), ==, t->family);
        /* the prefix is what was put back, then the client's */
        const char *prefix = out.data + again.prefix_at;
        size_t ctx_before =
            (t->family == FIM_QWEN || t->family == FIM_CODEGEMMA || t->family == FIM_STARCODER2)
                ? 0
                : 4;
        CHECK_INT(again.prefix_len, ==, ctx_before + strlen(restored) + strlen(P));
        CHECK(memcmp(prefix + ctx_before, restored, strlen(restored)) == 0);
        CHECK(memcmp(prefix + ctx_before + strlen(restored), P, strlen(P)) == 0);
        /* the suffix, cut */
        CHECK_INT(again.suffix_len, ==, keep);
        CHECK(memcmp(out.data + again.suffix_at, S, keep) == 0);
        /* nothing to do: the prompt as it came */
        buf_reset(&out);
        fim_parts_t none = {.suffix_keep = SIZE_MAX};
        fim_rebuild_parts(&fim, prompt.data, prompt.len, &none, &out);
        CHECK_STR(out.data, prompt.data);
        /* offsets past the end are clamped, never read */
        buf_reset(&out);
        fim_parts_t wild = {
            .restored = "x", .restored_len = 1, .restore_at = 1u << 30, .suffix_keep = SIZE_MAX};
        fim_rebuild_parts(&fim, prompt.data, prompt.len, &wild, &out);
        CHECK_INT(out.len, ==, prompt.len + 1);
        buf_free(&prompt);
        buf_free(&out);
    }
    /* A plain prompt: context first, the head after the diff comment. */
    const char *plain = "/*\ndiff --git a/x b/x\n*/\n\ndef f(";
    size_t skip = fim_skip_diff_comment(plain, strlen(plain));
    REQUIRE(skip > 0);
    fim_t none = {0};
    buf_t out = BUF_INIT;
    fim_parts_t parts = {.context = "# ctx\n\n",
                         .context_len = 7,
                         .restored = "x = 1\n",
                         .restored_len = 6,
                         .restore_at = skip,
                         .suffix_keep = 0};
    fim_rebuild_parts(&none, plain, strlen(plain), &parts, &out);
    CHECK_STR(out.data, "# ctx\n\n/*\ndiff --git a/x b/x\n*/\n\nx = 1\ndef f(");
    buf_free(&out);
}

TEST(suffix_keeps_whole_lines_within_its_tokens) {
    const char *suffix = "x)\n    return y\n\n\ndef other(a, b):\n    return a + b\n";
    size_t len = strlen(suffix);
    CHECK_INT(fim_suffix_keep(suffix, len, 1000, TOKENS_QWEN), ==, len);
    /* at least the cursor's line */
    CHECK_INT(fim_suffix_keep(suffix, len, 0, TOKENS_QWEN), ==, 3);
    for (size_t tokens = 0; tokens < 40; tokens++) {
        size_t keep = fim_suffix_keep(suffix, len, tokens, TOKENS_QWEN);
        CHECK(keep >= 3 && keep <= len);
        CHECK(keep == len || suffix[keep - 1] == '\n');
        if (keep > 3)
            CHECK(tokens_estimate(TOKENS_QWEN, suffix, keep) <= tokens);
        /* and no further whole line would have fitted */
        const char *next = keep < len ? strchr(suffix + keep, '\n') : NULL;
        if (next)
            CHECK(tokens_estimate(TOKENS_QWEN, suffix, (size_t)(next - suffix) + 1) > tokens);
    }
    CHECK_INT(fim_suffix_keep("", 0, 5, TOKENS_QWEN), ==, 0);
    CHECK_INT(fim_suffix_keep("no newline at all, and long enough", 34, 2, TOKENS_QWEN), ==, 34);
}

/* ---- the git diff comment ---- */

TEST(diff_comment_is_skipped_only_when_it_is_a_diff) {
    const char *diff = "/*\ndiff --git a/x.py b/x.py\n@@ -1 +1 @@\n-a\n+b\n*/\n\n";
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%sdef f():\n    ret", diff);
    CHECK_INT(fim_skip_diff_comment(prefix, strlen(prefix)), ==, strlen(diff));
    const char *hunk_only = "/*\n@@ -3,2 +3,2 @@\n-x\n+y\n*/\n\ncode";
    CHECK_INT(fim_skip_diff_comment(hunk_only, strlen(hunk_only)), ==,
              strlen(hunk_only) - strlen("code"));
    static const char *const not_diff[] = {
        "/*\n * A license header.\n */\n\ncode",
        "/*\ndiff --git a b\n", /* never closed */
        "/*\ndiff --git a b\n*/code",
        "code /*\ndiff --git a b\n*/\n\n",
        "/*\n*/\n\n",
        "",
        "/*",
    };
    for (size_t i = 0; i < sizeof not_diff / sizeof not_diff[0]; i++)
        CHECK_INT(fim_skip_diff_comment(not_diff[i], strlen(not_diff[i])), ==, 0);
    /* The length bounds the search. */
    CHECK_INT(fim_skip_diff_comment(prefix, strlen(diff) - 1), ==, 0);
}

/* The comment syntax comes from lang.h's table: every extension fim.c's own
 * table used to know gives what it gave, and languages it did not know
 * get their own comment instead of "//". */
TEST(comment_syntax_is_the_language_table_s) {
    static const struct {
        const char *path, *comment;
    } known[] = {
        {"a.py", "#"},    {"a.rb", "#"},    {"a.sh", "#"},   {"a.bash", "#"},  {"a.pl", "#"},
        {"a.r", "#"},     {"a.yaml", "#"},  {"a.yml", "#"},  {"a.toml", "#"},  {"a.mk", "#"},
        {"a.cmake", "#"}, {"a.nim", "#"},   {"a.ex", "#"},   {"a.exs", "#"},   {"a.sql", "--"},
        {"a.lua", "--"},  {"a.hs", "--"},   {"a.elm", "--"}, {"a.c", "//"},    {"a.ts", "//"},
        {"a.js", "//"},   {"a.go", "//"},   {"a.rs", "//"},  {"a.java", "//"}, {"a.txt", "//"},
        {"a.json", "//"}, {"a.html", "//"}, {"a.css", "//"}, {"a", "//"},      {"a.", "//"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        CHECK_STR(fim_comment_for(known[i].path, NULL), known[i].comment);
    /* Where the old table said "//" for want of knowing better. */
    CHECK_STR(fim_comment_for("stubs/os.pyi", NULL), "#");
    CHECK_STR(fim_comment_for("lib/Foo.pm", NULL), "#");
    CHECK_STR(fim_comment_for("src/db.erl", NULL), "%");
    CHECK_STR(fim_comment_for("Dockerfile", NULL), "#");
    CHECK_STR(fim_comment_for("app/Rakefile", NULL), "#");
    CHECK_STR(fim_comment_for("bin/tool", "lua"), "--");
    CHECK_STR(fim_comment_for("LEGACY.PY", NULL), "#");
}

TEST(comment_syntax_and_family_names) {
    CHECK_STR(fim_comment_for("a/b.py", NULL), "#");
    CHECK_STR(fim_comment_for("deploy.sh", NULL), "#");
    CHECK_STR(fim_comment_for("q.sql", NULL), "--");
    CHECK_STR(fim_comment_for("init.lua", NULL), "--");
    CHECK_STR(fim_comment_for("src/main.c", NULL), "//");
    CHECK_STR(fim_comment_for("web/index.ts", "typescript"), "//");
    CHECK_STR(fim_comment_for("scripts/deploy", "shell"), "#");
    CHECK_STR(fim_comment_for("v1.2/README", NULL), "//"); /* the dot is the directory's */
    CHECK_STR(fim_comment_for("v1.2/Makefile", NULL), "#");
    CHECK_STR(fim_comment_for(NULL, NULL), "//");
    CHECK_STR(fim_comment_for(NULL, "python"), "#");
    CHECK_STR(fim_comment_for("", ""), "//");
    static const char *const names[] = {"none",       "qwen2.5",   "codegemma", "codeqwen1.5",
                                        "starcoder2", "codellama", "deepseek",  "codestral"};
    for (int f = FIM_NONE; f <= FIM_CODESTRAL; f++)
        CHECK_STR(fim_family_name((fim_family_t)f), names[f]);
    CHECK_STR(fim_family_name((fim_family_t)99), "?");
}

TEST_MAIN(TEST_CASE(parse_recognises_every_template_of_the_table),
          TEST_CASE(parse_keeps_spaces_that_belong_to_the_code),
          TEST_CASE(parse_empty_prefix_and_suffix),
          TEST_CASE(parse_exact_bytes_of_the_qwen_default),
          TEST_CASE(parse_refuses_what_is_not_a_fim_prompt),
          TEST_CASE(parse_respects_the_length_given), TEST_CASE(parse_invalid_utf8_and_nul_bytes),
          TEST_CASE(comment_syntax_is_the_language_table_s), TEST_CASE(parse_huge_input),
          TEST_CASE(context_layout_of_each_family), TEST_CASE(context_stays_within_the_budget),
          TEST_CASE(context_leaves_out_chunks_with_special_tokens),
          TEST_CASE(rebuild_puts_context_in_place_and_keeps_the_fim_part),
          TEST_CASE(rebuild_keeps_text_before_the_markers),
          TEST_CASE(diff_comment_is_skipped_only_when_it_is_a_diff),
          TEST_CASE(comment_syntax_and_family_names),
          TEST_CASE(family_follows_the_model_name_for_every_shared_marker_pair),
          TEST_CASE(a_qwen_model_with_unspaced_markers_gets_qwen_s_layout),
          TEST_CASE(context_within_a_token_budget),
          TEST_CASE(rebuild_parts_puts_back_the_head_and_cuts_the_suffix),
          TEST_CASE(suffix_keeps_whole_lines_within_its_tokens))
