/*
 * Fill-in-the-middle prompts: recognising the raw FIM prompt of each model
 * family ProxyAI builds, and rebuilding it with repository context in the
 * layout that family was trained on.
 *
 *   family          prompt (P prefix, S suffix; spaces significant)
 *   Qwen2.5/OpenAI  <|fim_prefix|> P <|fim_suffix|>S <|fim_middle|>
 *   CodeGemma       <|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>
 *   CodeQwen1.5     <fim_prefix>P<fim_suffix>S<fim_middle>      (also Stability)
 *   StarCoder2      <fim_prefix>P <fim_suffix> S<fim_middle>
 *   Code Llama      <PRE> P <SUF>S <MID>
 *   DeepSeek-Coder  <｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>
 *   Codestral       [SUFFIX]S[PREFIX]P[MIDDLE]
 *
 * Context goes where the family expects it: Qwen's <|repo_name|> and
 * <|file_sep|> blocks before the FIM part, StarCoder2's <repo_name> and
 * <file_sep>, CodeGemma's <|file_separator|>, and for the rest path-headed
 * blocks in the current file's comment syntax right before the prefix.  The
 * FIM part itself — markers, spaces, prefix and suffix — is never changed.
 */
#ifndef LCA_GATEWAY_FIM_H
#define LCA_GATEWAY_FIM_H

#include "gateway/context.h"
#include "gateway/tokens.h"
#include "proto/base/buf.h"

#include <stddef.h>

typedef enum {
    FIM_NONE = 0,
    FIM_QWEN,       /* spaced <|fim_prefix|> form (Qwen2.5-Coder, ProxyAI's "OpenAI") */
    FIM_CODEGEMMA,  /* unspaced <|fim_prefix|> form */
    FIM_CODEQWEN,   /* <fim_prefix>P<fim_suffix>S<fim_middle> (CodeQwen1.5, Stability) */
    FIM_STARCODER2, /* <fim_prefix>P <fim_suffix> S<fim_middle> */
    FIM_CODELLAMA,
    FIM_DEEPSEEK,
    FIM_CODESTRAL,
} fim_family_t;

typedef struct {
    fim_family_t family;
    size_t prefix_at, prefix_len; /* where P sits in the prompt */
    size_t suffix_at, suffix_len; /* where S sits in the prompt */
} fim_t;

const char *fim_family_name(fim_family_t family);

/* Recognises a raw FIM prompt.  Returns its family (FIM_NONE when the
 * prompt is not one) and where the prefix and suffix are.  Where two
 * families share markers, the spacing around them decides (see
 * fim_parse_for_model). */
fim_family_t fim_parse(const char *prompt, size_t len, fim_t *out);

/* As fim_parse, but the model's name decides the family where templates
 * share markers: <|fim_prefix|> is Qwen2.5-Coder's for a model named
 * "qwen..." and CodeGemma's for "codegemma"/"gemma"; <fim_prefix> is
 * CodeQwen1.5's for "codeqwen" (and Stability's "stable-code") and
 * StarCoder2's for "starcoder".  Spacing decides only when the name says
 * nothing (model NULL, or another name).  The spans of prefix and suffix
 * always follow the spacing of the prompt itself, so the family changes
 * the repository layout, never the client's text. */
fim_family_t fim_parse_for_model(const char *prompt, size_t len, const char *model, fim_t *out);

/* The family the model's name decides among those sharing parsed's
 * markers, else parsed itself. */
fim_family_t fim_family_for_model(const char *model, fim_family_t parsed);

/* The line comment of the current file's language ("//", "#", "--", "%"),
 * from lang.h: its language by file name or extension, else the one named
 * by language (a chunk's language, for a path without one); "//" when
 * neither is known or the language has no line comment. */
const char *fim_comment_for(const char *path, const char *language);

/* Appends the repository context for chunks to out, in family's layout,
 * within budget characters (chunks that do not fit are skipped); repo names
 * the collection and current_path the file being edited (may be NULL).
 * For FIM_NONE (a plain prefix) the blocks are comments.  Returns the number
 * of chunks used; *used[i] is set for each chunk included. */
size_t fim_context(fim_family_t family, const context_chunk_t *chunks, size_t count,
                   const char *repo, const char *current_path, size_t budget, buf_t *out,
                   bool *used);

/* What a context block may cost: bytes, and tokens as tokens_estimate
 * counts them for a family's tokenizer. */
typedef struct {
    size_t chars;
    size_t tokens; /* SIZE_MAX: no limit */
    tokens_family_t tokens_family;
} fim_budget_t;

/* As fim_context, within both limits of budget: chunks are taken in order,
 * each only if the whole block with it still fits, so a list that fits
 * renders the same bytes whatever the budget above it.  *tokens (may be
 * NULL) receives the block's estimate. */
size_t fim_context_within(fim_family_t family, const context_chunk_t *chunks, size_t count,
                          const char *repo, const char *current_path, const fim_budget_t *budget,
                          buf_t *out, bool *used, size_t *tokens);

/* Rebuilds prompt with context (made by fim_context) at the family's place:
 * before the FIM markers for Qwen, CodeGemma and StarCoder2, right before the
 * prefix for the others. */
void fim_rebuild(const fim_t *fim, const char *prompt, size_t len, const char *context,
                 size_t context_len, buf_t *out);

/* What the gateway changes in a prompt besides the context. */
typedef struct {
    const char *context; /* at the family's place (fim_rebuild's) */
    size_t context_len;
    const char *restored; /* text of the file put back before the client's prefix */
    size_t restored_len;
    size_t restore_at;  /* where it goes: an offset inside the prefix span */
    size_t suffix_keep; /* bytes of the suffix span kept (the rest is left out); SIZE_MAX: all */
} fim_parts_t;

/* Rebuilds prompt with parts applied, everything else byte for byte.  For
 * FIM_NONE the prompt is all prefix (context at 0) and has no suffix span.
 * An offset outside the prompt is clamped. */
void fim_rebuild_parts(const fim_t *fim, const char *prompt, size_t len, const fim_parts_t *parts,
                       buf_t *out);

/* How much of a suffix to keep within max_tokens (family's estimate): all
 * of it when it fits, else up to the end of the last whole line that fits,
 * and never less than the rest of the cursor's line (up to its newline).
 * Returns the bytes to keep. */
size_t fim_suffix_keep(const char *suffix, size_t len, size_t max_tokens, tokens_family_t family);

/* ProxyAI starts the prefix with the uncommitted git diff inside a block
 * comment followed by a blank line; the retrieval query skips it (the
 * prompt keeps it).  Returns how many bytes of prefix to skip (0: none). */
size_t fim_skip_diff_comment(const char *prefix, size_t len);

#endif
