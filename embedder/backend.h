/*
 * backend: the one interface the embedder worker (and anything else that
 * needs vectors) uses, whatever computes them.
 *
 * A backend is chosen by a spec string:
 *   "builtin"             the built-in code embedding, 384 dimensions
 *   "builtin:<dim>"       the same with dim dimensions (a multiple of 16)
 *   "ollama:<model>"      Ollama's /api/embed at $OLLAMA_HOST (default
 *                         http://127.0.0.1:11434), e.g. ollama:nomic-embed-text
 *   "ollama:<model>@<url>" the same at an explicit host
 * Its model string (embed_backend_model) and dimension are what a collection
 * records, so that vectors of different spaces are never mixed: "builtin-v1"
 * for the built-in one, "ollama:<model>" for Ollama.
 *
 * Vectors are float32 rows; both backends return unit vectors for texts with
 * content (Ollama's models normalise) and the zero vector for empty texts.
 * A backend is used by one thread at a time, except embed_backend_cancel.
 */
#ifndef LCA_EMBEDDER_BACKEND_H
#define LCA_EMBEDDER_BACKEND_H

#include <stddef.h>

typedef struct embed_backend embed_backend_t;

/* What a text is: some models embed queries and documents differently
 * (nomic-embed-text wants a task prefix on each); the built-in one does not. */
typedef enum {
    EMBED_DOCUMENT = 0, /* a chunk of the collection */
    EMBED_QUERY = 1,    /* what the collection is searched with */
} embed_kind_t;

/* The spec used when none is given. */
#define EMBED_BACKEND_DEFAULT "builtin"

/*
 * Creates the backend that spec names (NULL or "" means
 * EMBED_BACKEND_DEFAULT).  Does not contact any server.  Returns NULL with a
 * message in err[0..errlen) for an unknown or malformed spec or when memory
 * runs out.
 */
embed_backend_t *embed_backend_new(const char *spec, char *err, size_t errlen);

/* The model string vectors are labelled with ("builtin-v1", "ollama:nomic-embed-text"). */
const char *embed_backend_model(const embed_backend_t *backend);

/*
 * The dimension of the vectors, or 0 on failure with a message in err (an
 * Ollama backend asks the server the first time; see ollama_embedder_dim).
 */
size_t embed_backend_dim(embed_backend_t *backend, char *err, size_t errlen);

/*
 * Embeds documents texts[i][0..lens[i]) for i < n into out, n rows of
 * embed_backend_dim() floats.  Returns 0 or a negative errno-style code with
 * a message in err[0..errlen) (-EINVAL for bad arguments, -ECANCELED after
 * embed_backend_cancel; the Ollama codes are listed in embedder/ollama.h).
 */
int embed_backend_embed(embed_backend_t *backend, const char *const *texts, const size_t *lens,
                        size_t n, float *out, char *err, size_t errlen);

/* As embed_backend_embed, for texts of the given kind (queries at search time). */
int embed_backend_embed_kind(embed_backend_t *backend, embed_kind_t kind, const char *const *texts,
                             const size_t *lens, size_t n, float *out, char *err, size_t errlen);

/* Makes an embed call in progress in another thread return -ECANCELED soon
 * (Ollama); the built-in backend checks between texts.  Safe from any thread. */
void embed_backend_cancel(embed_backend_t *backend);

/* Frees the backend and sets *backend_p to NULL; accepts NULL and *NULL. */
void embed_backend_destroy(embed_backend_t **backend_p);

#endif
