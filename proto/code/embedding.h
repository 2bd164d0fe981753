/*
 * embedding: lca's own code embedding, the embedder's default backend.  No model, no
 * network, deterministic: the same text gives the same vector on every run
 * and every host, so a collection seeded on one machine can be queried from
 * another.
 *
 * A text becomes a bag of features: its identifiers (folded whole, see
 * proto/code/subword.h), their sub-words, and the character 3-grams of each
 * sub-word, weighted by kind (keywords and one-letter names count little),
 * with sublinear term frequency (1 + ln tf), signed-hashed into dim
 * dimensions and L2-normalised.  Dot product is then cosine similarity,
 * and code that uses the same names in any case style lands close.
 *
 * The features and weights are versioned by BUILTIN_EMBEDDER_MODEL: any
 * change that moves vectors must bump it, since collections record the model
 * they were built with and refuse to mix.
 */
#ifndef LCA_CODE_EMBEDDING_H
#define LCA_CODE_EMBEDDING_H

#include <stddef.h>

#define BUILTIN_EMBEDDER_MODEL "builtin-v1"
#define BUILTIN_EMBEDDER_DIM_DEFAULT 384
#define BUILTIN_EMBEDDER_DIM_MAX 4096

typedef struct builtin_embedder builtin_embedder_t;

/* Returns 0 if dim is usable (a multiple of 16 in [16, BUILTIN_EMBEDDER_DIM_MAX]),
 * else -EINVAL. */
int builtin_embedder_check_dim(size_t dim);

/* Creates an embedder of dim dimensions (see builtin_embedder_check_dim).
 * Returns NULL on a bad dim or when memory runs out.  One embedder is used by
 * one thread at a time; make one per thread for parallel embedding. */
builtin_embedder_t *builtin_embedder_new(size_t dim);

/* The embedder's dimension. */
size_t builtin_embedder_dim(const builtin_embedder_t *embedder);

/*
 * Embeds text[0..len) (any bytes; need not be NUL-terminated) into
 * out[0..dim).  A text without identifiers gives the zero vector, any other
 * a unit vector.  Returns 0, -EINVAL on NULL arguments, or -ENOMEM (out is
 * then zeroed).
 */
int builtin_embedder_embed(builtin_embedder_t *embedder, const char *text, size_t len, float *out);

/* Frees the embedder and sets *embedder_p to NULL; accepts NULL and *NULL. */
void builtin_embedder_destroy(builtin_embedder_t **embedder_p);

#endif
