/*
 * window: how many tokens a model reads, so that a prompt the gateway
 * enlarges never goes over it.
 *
 * Ollama gives a model a window of num_ctx tokens: the request's
 * options.num_ctx, else the model's num_ctx parameter (its Modelfile, shown
 * by POST /api/show in "parameters"), else the server's default
 * (OLLAMA_CONTEXT_LENGTH, or 4096 on machines with less than 24 GiB of
 * VRAM), and never more than the context length the model was trained with
 * (/api/show's model_info "<arch>.context_length").  A prompt longer than
 * the window loses its start, silently: where the gateway puts its context.
 *
 * The server's default cannot be asked for; GET /api/ps shows it as the
 * context_length of a model loaded without a num_ctx.  So the window of a
 * request is, in order: options.num_ctx; the model's num_ctx parameter;
 * /api/ps's context_length for the loaded model, unless a client asked for
 * that very num_ctx through the gateway (then it says nothing about the
 * default); 4096 — each capped by the trained length when known.
 *
 * What Ollama says of a model is kept per model (at most WINDOW_MODELS, the
 * least recently used go first) for WINDOW_FRESH_MS, then asked again while
 * the old answer still serves; a model Ollama did not answer for is asked
 * again after WINDOW_RETRY_MS.  A model Ollama knows but has not loaded, and
 * whose window it does not name, is asked again — and waited for — after
 * WINDOW_UNSURE_MS, so that the server's default is learnt soon after the
 * model loads.  The cache lives on the loop thread, like every caller.
 *
 * The parsers and window_tokens() are pure, tested without a server
 * (tests/unit/gateway_window_test.c).
 */
#ifndef LCA_GATEWAY_WINDOW_H
#define LCA_GATEWAY_WINDOW_H

#include "gateway/http.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_DEFAULT 4096 /* Ollama's default num_ctx under 24 GiB of VRAM */
#define WINDOW_MODELS 32
#define WINDOW_FRESH_MS 60000
#define WINDOW_RETRY_MS 10000
#define WINDOW_UNSURE_MS 1000

/* What Ollama said of one model; 0 where it said nothing. */
typedef struct {
    long num_ctx; /* the model's num_ctx parameter (/api/show) */
    long trained; /* the context length it was trained with (/api/show model_info) */
    long loaded;  /* the num_ctx it is loaded with (/api/ps), 0: not loaded */
} window_facts_t;

/* Reads /api/show's answer (body, len bytes) into *facts' num_ctx and
 * trained.  Returns false when it is not a JSON object. */
bool window_parse_show(const char *body, size_t len, window_facts_t *facts);

/* Reads /api/ps's answer: the context_length of model among the loaded
 * ones ("name" or "model" equal, ":latest" implied when a name has no tag)
 * into facts->loaded (0 when not loaded).  Returns false when it is not a
 * JSON object. */
bool window_parse_ps(const char *body, size_t len, const char *model, window_facts_t *facts);

/* The window of a request: asked (options.num_ctx, 0: none), else the
 * facts in the order above; explicit is the last num_ctx a client asked
 * for this model (0: none). */
long window_tokens(const window_facts_t *facts, long asked, long explicit_asked);

/* options.num_ctx as a whole positive number, else 0. */
long window_asked(const cJSON *options);

typedef void (*window_done_t)(void *arg, long window);

/* The window for a request of model with options (the body's, may be
 * NULL).  When it is known now — asked, or the model's facts are cached —
 * returns true with *window set, and done never runs (stale facts are
 * refreshed on the side, for later requests).  Otherwise asks Ollama
 * through the generator on behalf of ctx (at most timeout_ms), returns
 * false, and done(arg, window) runs once later on the loop thread — unless
 * the request is freed first.  A model Ollama does not answer for gets
 * WINDOW_DEFAULT (or asked). */
bool window_get(http_ctx_t *ctx, const char *model, const cJSON *options, int timeout_ms,
                window_done_t done, void *arg, long *window);

/* Forgets every model (tests). */
void window_forget_all(void);

#endif
