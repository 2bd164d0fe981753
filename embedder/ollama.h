/*
 * ollama: embeddings from an Ollama server's /api/embed.
 *
 * Texts go out in batches of at most `batch` per POST
 * (`{"model":…,"input":[…],"truncate":true}` -> `{"embeddings":[[…]…]}`)
 * over one reused libcurl easy handle, so consecutive batches share a
 * keep-alive connection.  Connection failures (connect timeouts included),
 * connections lost mid-answer, 429 and 5xx are retried with exponential
 * back-off; everything else fails at once (a request Ollama received but did
 * not answer within the timeout too: sending it again would only wait as
 * long once more) with a message that says what to do (start Ollama, set
 * OLLAMA_HOST, pull the model).
 *
 * The dimension is the model's: it is learned from the first answer, or
 * from a one-word probe when asked for before any embedding, and every later
 * answer must match it (a model swapped under the same name would otherwise
 * mix vectors of different spaces in one collection).
 *
 * Empty texts are not sent (Ollama rejects or pads them); they get the zero
 * vector, as with the built-in backend.
 *
 * Models trained with task instructions get them: nomic-embed-text sees
 * "search_query: " before queries and "search_document: " before documents,
 * mxbai-embed-large and snowflake-arctic-embed their retrieval instruction
 * before queries.  Other models get the texts as they are; the config can
 * set or clear the prefixes for any model.
 */
#ifndef LCA_EMBEDDER_OLLAMA_H
#define LCA_EMBEDDER_OLLAMA_H

#include "proto/ollama/url.h"

#include <stddef.h>

#define OLLAMA_EMBEDDER_DEFAULT_HOST OLLAMA_DEFAULT_HOST

typedef struct ollama_embedder ollama_embedder_t;

/* What a text is: some models embed queries and documents differently. */
typedef enum {
    OLLAMA_DOCUMENT = 0, /* a chunk of the collection */
    OLLAMA_QUERY = 1,    /* what the collection is searched with */
} ollama_text_kind_t;

/* Settings; a zero field takes the default in brackets. */
typedef struct {
    const char *model; /* Ollama model name, e.g. "nomic-embed-text" (required) */
    const char
        *host;    /* URL or OLLAMA_HOST-style host[:port] [$OLLAMA_HOST, else 127.0.0.1:11434] */
    size_t batch; /* most texts per request [32] */
    unsigned attempts;           /* tries per request, first included [4] */
    unsigned backoff_ms;         /* wait before the first retry, doubled after each [250] */
    long connect_timeout_ms;     /* per connection attempt [5000] */
    long timeout_ms;             /* per request, model loading included [300000] */
    const char *query_prefix;    /* put before queries [the model's, see below] */
    const char *document_prefix; /* put before documents [the model's, see below] */
} ollama_embedder_config_t;

/*
 * Creates an embedder for config->model at config->host.  Does not contact
 * the server.  Returns NULL with a message in err[0..errlen) when the model
 * is missing, the host is not a usable URL, or memory or libcurl fail.
 */
ollama_embedder_t *ollama_embedder_new(const ollama_embedder_config_t *config, char *err,
                                       size_t errlen);

/* The base URL requests go to, normalised ("http://host:port", no trailing slash). */
const char *ollama_embedder_url(const ollama_embedder_t *embedder);

/*
 * Stores the model's dimension in *dim, asking the server (one probe text)
 * if no answer has been seen yet.  Returns 0 or a negative code with a
 * message in err (see ollama_embedder_embed for the codes).
 */
int ollama_embedder_dim(ollama_embedder_t *embedder, size_t *dim, char *err, size_t errlen);

/*
 * Embeds texts[i][0..lens[i]) for i < n, all of one kind (documents or
 * queries), into out, n rows of dim floats (call ollama_embedder_dim first
 * to size out; this call probes too if needed).
 * Returns 0, or on failure a negative code with a message in err:
 *   -ECONNREFUSED  Ollama not reachable (after the retries)
 *   -ETIMEDOUT     a request took longer than timeout_ms (after the retries)
 *   -ENOENT        the model is not there (Ollama's message and a pull hint)
 *   -EINVAL        Ollama refused the request (4xx: message passed through)
 *   -EIO           Ollama failed (5xx after the retries)
 *   -ERANGE        the dimension changed between answers
 *   -EBADMSG       the answer was not the JSON expected
 *   -ECANCELED     ollama_embedder_cancel was called
 *   -ENOMEM
 * On failure the content of out is unspecified.
 */
int ollama_embedder_embed(ollama_embedder_t *embedder, ollama_text_kind_t kind,
                          const char *const *texts, const size_t *lens, size_t n, float *out,
                          char *err, size_t errlen);

/*
 * Makes the ollama_embedder_embed/dim call in progress in another thread
 * return -ECANCELED soon (the transfer is aborted, a back-off wait cut
 * short).  Safe from any thread; a cancel that finds no call in progress
 * cancels the next one.
 */
void ollama_embedder_cancel(ollama_embedder_t *embedder);

/* Frees the embedder and sets *embedder_p to NULL; accepts NULL and *NULL. */
void ollama_embedder_destroy(ollama_embedder_t **embedder_p);

#endif
