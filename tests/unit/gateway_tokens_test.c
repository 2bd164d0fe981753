/*
 * Token estimates (gateway/tokens.h) on their edges: nothing, one
 * character, long runs, every kind of UTF-8 and non-UTF-8, growth by whole
 * characters, concatenation, and model names.  How close the estimate is to
 * the real tokenizers on real files is tests/tokens/'s business; the real
 * counts quoted here are Qwen2.5's and Llama 2's for the same strings.
 */
#include "gateway/tokens.h"
#include "tests/test.h"

#include <stdint.h>

static size_t est(tokens_family_t family, const char *s) {
    return tokens_estimate(family, s, strlen(s));
}

static const tokens_family_t FAMILIES[] = {TOKENS_QWEN, TOKENS_LLAMA, TOKENS_ANY};

TEST(nothing_is_no_tokens) {
    for (size_t f = 0; f < 3; f++) {
        CHECK_INT(tokens_estimate(FAMILIES[f], NULL, 0), ==, 0);
        CHECK_INT(tokens_estimate(FAMILIES[f], "", 0), ==, 0);
        CHECK_INT(tokens_estimate(FAMILIES[f], "abc", 0), ==, 0);
    }
}

TEST(one_character_is_one_token) {
    static const char *const one[] = {"a", "Z", "7", " ", "\n", "(", "_", "\t"};
    for (size_t i = 0; i < sizeof one / sizeof *one; i++)
        CHECK_INT(est(TOKENS_QWEN, one[i]), ==, 1);
    /* Llama 2 writes a space before the text: it joins a letter, not the rest */
    CHECK_INT(est(TOKENS_LLAMA, "a"), ==, 1);
    CHECK_INT(est(TOKENS_LLAMA, " "), ==, 1);
    CHECK_INT(est(TOKENS_LLAMA, "7"), ==, 2);
    CHECK_INT(est(TOKENS_LLAMA, "("), ==, 2);
}

/* Real counts: Qwen2.5 (Qwen3 package) and Llama 2, add_special_tokens off. */
TEST(at_least_the_real_count_of_known_strings) {
    static const struct {
        const char *text;
        size_t qwen, llama;
    } known[] = {
        {"hello world", 2, 3},
        {"def f():", 3, 3},
        /* markers priced as text; Code Llama does not use these */
        {"<|fim_prefix|>def f():<|fim_suffix|>", 5, 0},
        {"    return self._cache.get(key, default)\n", 10, 13},
        {"for (size_t i = 0; i < n; i++) {\n", 16, 18},
        {"0123456789", 10, 11},
        {"a\nb", 3, 3},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        size_t q = est(TOKENS_QWEN, known[i].text), l = est(TOKENS_LLAMA, known[i].text);
        CHECK_INT(q, >=, known[i].qwen);
        CHECK_INT(l, >=, known[i].llama);
        if (!strstr(known[i].text, "<|")) { /* conservative, not absurd */
            CHECK_INT(q, <=, 2 * known[i].qwen + 2);
            CHECK_INT(l, <=, 2 * known[i].llama + 2);
        }
        CHECK_INT(est(TOKENS_ANY, known[i].text), ==, q > l ? q : l);
    }
}

TEST(long_runs_of_spaces_newlines_and_one_letter) {
    static char text[65536 + 1];
    memset(text, ' ', 1000);
    /* Qwen has single tokens for up to 128 spaces (9 for 1000), Llama 2 up to 16 (63). */
    CHECK_INT(tokens_estimate(TOKENS_QWEN, text, 1000), >=, 9);
    CHECK_INT(tokens_estimate(TOKENS_QWEN, text, 1000), <=, 40);
    CHECK_INT(tokens_estimate(TOKENS_LLAMA, text, 1000), >=, 63);
    CHECK_INT(tokens_estimate(TOKENS_LLAMA, text, 1000), <=, 130);
    memset(text, '\n', 1000);
    CHECK_INT(tokens_estimate(TOKENS_LLAMA, text, 1000), >=, 1001); /* one byte token each */
    CHECK_INT(tokens_estimate(TOKENS_QWEN, text, 1000), >=, 32);    /* at most 32 in a token */
    CHECK_INT(tokens_estimate(TOKENS_QWEN, text, 1000), <=, 100);
    memset(text, 'x', 65536);
    size_t q = tokens_estimate(TOKENS_QWEN, text, 65536);
    CHECK_INT(q, >=, 65536 / 8); /* Qwen: 8192 tokens of eight */
    CHECK_INT(q, <=, 65536);     /* never more than a token a byte */
    CHECK_INT(tokens_estimate(TOKENS_LLAMA, text, 65536), >=, 32768); /* Llama 2: pairs */
    memset(text, '=', 65536);
    CHECK_INT(tokens_estimate(TOKENS_QWEN, text, 65536), >=, 1024);
    CHECK_INT(tokens_estimate(TOKENS_LLAMA, text, 65536), >=, 4098);
    CHECK_INT(tokens_estimate(TOKENS_QWEN, text, 65536), <=, 65536);
}

TEST(utf8_of_every_length_and_bytes_that_are_not_utf8) {
    /* Real counts (Qwen2.5, Llama 2): 日本 1 and 3, 🚀 1 and 2; Llama 2 spells a
     * character it lacks in bytes. */
    CHECK_INT(est(TOKENS_QWEN, "\xe6\x97\xa5\xe6\x9c\xac"), >=, 1);
    CHECK_INT(est(TOKENS_LLAMA, "\xe6\x97\xa5\xe6\x9c\xac"), >=, 3);
    CHECK_INT(est(TOKENS_QWEN, "\xf0\x9f\x9a\x80"), >=, 1);
    CHECK_INT(est(TOKENS_LLAMA, "\xf0\x9f\x9a\x80"), >=, 4); /* four bytes at worst */
    /* Cyrillic words merge; Latin letters with accents break words. */
    size_t ru =
        est(TOKENS_QWEN, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"); /* привет: 3, 2 */
    CHECK_INT(ru, >=, 3);
    CHECK_INT(ru, <=, 8);
    CHECK_INT(est(TOKENS_LLAMA, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"), >=, 2);
    CHECK_INT(est(TOKENS_QWEN, "Gr\xc3\xb6\xc3\x9f"
                               "e"),
              >=, 2); /* Größe: 2, 3 */
    CHECK_INT(est(TOKENS_LLAMA, "Gr\xc3\xb6\xc3\x9f"
                                "e"),
              >=, 3);
    /* Bytes of no character: one token each, and nothing read past the end. */
    static const char bad[] = "\xff\xfe\xc0\x80\xe6\x97\xf0\x9f\x9a";
    size_t n = sizeof bad - 1;
    CHECK_INT(tokens_estimate(TOKENS_QWEN, bad, n), >=, n - 2);
    CHECK_INT(tokens_estimate(TOKENS_LLAMA, bad, n), >=, n - 2);
    CHECK_INT(tokens_estimate(TOKENS_QWEN, "\xe6\x97\xa5", 2), ==, 2); /* a cut character */
    static const char nul[] = "a\0b\0\0c";
    CHECK_INT(tokens_estimate(TOKENS_QWEN, nul, sizeof nul - 1), >=, 3);
}

/* A deterministic text of every class: words in each case, digits,
 * punctuation, blanks, newlines, two-, three- and four-byte characters. */
static size_t sample_text(char *out, size_t cap, uint32_t seed) {
    static const char *const parts[] = {"get",
                                        "HTTPServer",
                                        "_name",
                                        "x",
                                        "strlen",
                                        "  ",
                                        "\n",
                                        "\n    ",
                                        "\t",
                                        " = ",
                                        "();",
                                        "->",
                                        "42",
                                        "\"",
                                        "{",
                                        "}\n",
                                        "// ",
                                        "\xc3\xa9",
                                        "\xd0\xb4",
                                        "\xe4\xb8\xad",
                                        "\xf0\x9f\x99\x82",
                                        "ABC",
                                        "gslsfbessel",
                                        "::",
                                        " ",
                                        ".",
                                        "'s",
                                        "#"};
    size_t len = 0;
    uint32_t x = seed;
    for (;;) {
        x = x * 1103515245u + 12345u;
        const char *p = parts[(x >> 16) % (sizeof parts / sizeof *parts)];
        size_t n = strlen(p);
        if (len + n >= cap)
            break;
        memcpy(out + len, p, n);
        len += n;
    }
    out[len] = '\0';
    return len;
}

static size_t char_len(const char *s) {
    unsigned char c = (unsigned char)*s;
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
}

TEST(growing_by_whole_characters_never_lowers_the_estimate) {
    static char text[1024];
    for (uint32_t seed = 1; seed <= 8; seed++) {
        size_t len = sample_text(text, sizeof text, seed);
        for (size_t f = 0; f < 3; f++) {
            size_t before = 0, failures = 0;
            for (size_t at = 0; at < len; at += char_len(text + at)) {
                size_t now = tokens_estimate(FAMILIES[f], text, at + char_len(text + at));
                if (now < before)
                    failures++;
                before = now;
            }
            CHECK_INT(failures, ==, 0);
        }
    }
}

TEST(the_parts_of_a_text_add_up_to_at_least_nearly_the_whole) {
    /* Budgets add the estimates of context, prefix and suffix: the estimate
     * of the joined prompt may exceed their sum by a little (a word or a run
     * of consonants cut in two is priced lower in parts), never more. */
    static char text[1024];
    for (uint32_t seed = 1; seed <= 8; seed++) {
        size_t len = sample_text(text, sizeof text, seed);
        for (size_t cut = 0; cut < len; cut += char_len(text + cut)) {
            for (size_t f = 0; f < 3; f++) {
                size_t whole = tokens_estimate(FAMILIES[f], text, len);
                size_t parts = tokens_estimate(FAMILIES[f], text, cut) +
                               tokens_estimate(FAMILIES[f], text + cut, len - cut);
                if (whole > parts + 5) {
                    fprintf(stderr, "  seed %u cut %zu family %zu: whole %zu, parts %zu\n", seed,
                            cut, f, whole, parts);
                    CHECK_INT(whole, <=, parts + 5);
                    return;
                }
            }
        }
    }
}

TEST(model_names_choose_the_family) {
    CHECK_INT(tokens_family_for_model("qwen2.5-coder:7b"), ==, TOKENS_QWEN);
    CHECK_INT(tokens_family_for_model("qwen2.5-coder:1.5b-base"), ==, TOKENS_QWEN);
    CHECK_INT(tokens_family_for_model("hf.co/Qwen/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M"), ==,
              TOKENS_QWEN);
    CHECK_INT(tokens_family_for_model("qwen3:8b"), ==, TOKENS_QWEN);
    CHECK_INT(tokens_family_for_model("codellama:7b-code"), ==, TOKENS_LLAMA);
    CHECK_INT(tokens_family_for_model("codeqwen:7b-code-v1.5"), ==, TOKENS_ANY);
    CHECK_INT(tokens_family_for_model("starcoder2:3b"), ==, TOKENS_ANY);
    CHECK_INT(tokens_family_for_model("deepseek-coder:6.7b-base"), ==, TOKENS_ANY);
    CHECK_INT(tokens_family_for_model("codestral:latest"), ==, TOKENS_ANY);
    CHECK_INT(tokens_family_for_model("my/qwen"), ==, TOKENS_QWEN);
    CHECK_INT(tokens_family_for_model("registry/codellama-fork:tag/with/slash"), ==, TOKENS_ANY);
    CHECK_INT(tokens_family_for_model(""), ==, TOKENS_ANY);
    CHECK_INT(tokens_family_for_model(NULL), ==, TOKENS_ANY);
    char huge[1000];
    memset(huge, 'q', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    CHECK_INT(tokens_family_for_model(huge), ==, TOKENS_ANY);
}

TEST_MAIN(TEST_CASE(nothing_is_no_tokens), TEST_CASE(one_character_is_one_token),
          TEST_CASE(at_least_the_real_count_of_known_strings),
          TEST_CASE(long_runs_of_spaces_newlines_and_one_letter),
          TEST_CASE(utf8_of_every_length_and_bytes_that_are_not_utf8),
          TEST_CASE(growing_by_whole_characters_never_lowers_the_estimate),
          TEST_CASE(the_parts_of_a_text_add_up_to_at_least_nearly_the_whole),
          TEST_CASE(model_names_choose_the_family))
