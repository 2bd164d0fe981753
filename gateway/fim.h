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
 * prompt is not one) and where the prefix and suffix are. */
fim_family_t fim_parse(const char *prompt, size_t len, fim_t *out);

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

/* Rebuilds prompt with context (made by fim_context) at the family's place:
 * before the FIM markers for Qwen, CodeGemma and StarCoder2, right before the
 * prefix for the others. */
void fim_rebuild(const fim_t *fim, const char *prompt, size_t len, const char *context,
                 size_t context_len, buf_t *out);

/* ProxyAI starts the prefix with the uncommitted git diff inside a block
 * comment followed by a blank line; the retrieval query skips it (the
 * prompt keeps it).  Returns how many bytes of prefix to skip (0: none). */
size_t fim_skip_diff_comment(const char *prefix, size_t len);

#endif
