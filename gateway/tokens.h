/*
 * Token counts without a tokenizer: a fast, conservative estimate of how many
 * tokens a code model's tokenizer makes of a text, so that prompts can be
 * budgeted in the unit the model's window is measured in.
 *
 * The estimate follows the shape of byte-level BPE rather than any
 * vocabulary: it cuts the text into the pieces a GPT-2-style pre-tokenizer
 * makes (a word with the character before it, one digit, a run of
 * punctuation, a run of white space) and prices each piece by what the real
 * merges typically make of it: a short lower-case word is one token, a long
 * one about one per four and a half letters, an upper-case run one per two
 * and a half, a word with few vowels (an abbreviation, a made-up name) one per
 * three and a half, each digit one, a run of punctuation one per three.  The
 * SentencePiece families (Code Llama) also pay one token per newline and
 * smaller merges.  A special marker (<|fim_prefix|>) is priced as the text it
 * is, which is more than the one token it really is.
 *
 * Invariants, measured against the real tokenizers (tests/tokens/):
 *   - over whole source files and documentation the estimate is at least the
 *     real count, and on typical code within about 1.3x of it (median 1.2);
 *     words no vocabulary knows (lorem ipsum) are the exception: as low as
 *     0.6 of the real count, so a budget keeps a reserve;
 *   - it grows with the text: appending whole characters never lowers it;
 *   - the parts of a text cut anywhere add up to at least its estimate less
 *     five (a word or a run of consonants cut in two costs less in parts),
 *     so a budget may add the estimates of context, prefix and suffix;
 *   - it is never more than one token a byte (one more for SentencePiece's
 *     leading space);
 *   - it reads the text once, allocates nothing, and accepts any bytes
 *     (invalid UTF-8 costs one token per byte, as byte-level BPE pays).
 */
#ifndef LCA_GATEWAY_TOKENS_H
#define LCA_GATEWAY_TOKENS_H

#include <stddef.h>

typedef enum {
    TOKENS_ANY = 0, /* the largest of the estimates below: any family, including unknown ones */
    TOKENS_QWEN,    /* Qwen2.5-Coder (and Qwen2/Qwen3: the same 151k byte-level BPE) */
    TOKENS_LLAMA,   /* Code Llama (Llama 2's 32k SentencePiece BPE with byte fallback) */
} tokens_family_t;

/* The family whose tokenizer a model of that name uses: "qwen2.5-coder:7b"
 * is TOKENS_QWEN, "codellama:7b-code" TOKENS_LLAMA; anything else (StarCoder2,
 * DeepSeek-Coder, Codestral, CodeGemma, NULL) TOKENS_ANY, whose estimate is
 * the safe one. */
tokens_family_t tokens_family_for_model(const char *model);

/* A conservative estimate of the number of tokens family's tokenizer makes
 * of the len bytes at text (text may be NULL when len is 0; 0 bytes are 0
 * tokens).  Special tokens are not recognised: a marker counts as its text. */
size_t tokens_estimate(tokens_family_t family, const char *text, size_t len);

#endif
