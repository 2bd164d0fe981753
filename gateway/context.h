/*
 * Retrieval: the chunks of a collection that matter for a request.
 *
 * context_retrieve() resolves the collection, reads the request's features
 * (features.h), embeds the query, asks every retriever shard for its
 * candidates (in parallel, under one deadline), and ranks them (fusion.h):
 * the code's structure (the symbols used near the cursor and where they are
 * defined, the object before the cursor, the current file's imports) first,
 * then BM25 over identifier sub-words, then dense similarity.  A shard that
 * does not answer in time degrades the answer (result->shards_missing), it
 * never holds it up.
 *
 * The routes that expose it, POST /api/context and GET /api/collections,
 * are in knowledge.h.
 */
#ifndef LCA_GATEWAY_CONTEXT_H
#define LCA_GATEWAY_CONTEXT_H

#include "gateway/fusion.h"
#include "gateway/http.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *collection; /* NULL: the request's (prefix, header) or the default */
    const char *path;       /* current file, relative to the root (or absolute under it) */
    const char *prefix;     /* code before the cursor (completion) */
    size_t prefix_len;
    const char *suffix; /* code after the cursor */
    size_t suffix_len;
    const char *query; /* a question (chat) */
    size_t query_len;
    int k;              /* chunks wanted */
    unsigned signals;   /* SIGNAL_* mask; 0: all */
    int deadline_ms;    /* whole retrieval */
    bool quiet_unknown; /* no collection at all is not an error (pass-through requests) */
} context_query_t;

typedef struct {
    const char *path; /* relative to the collection root */
    int start_line, end_line;
    const char *language;
    const char *kind;
    double score;
    const char *text;
    size_t text_len;
    fusion_term_t terms[FUSION_TERMS_MAX]; /* why it ranked: score = sum of value * weight */
    size_t nterms;
} context_chunk_t;

typedef struct {
    int status;        /* 200, or the error's status (404 unknown collection, ...) */
    char message[256]; /* the error's message */
    const char *collection;
    const char *root;
    context_chunk_t *chunks; /* best first; in the request's pool */
    size_t count;
    int shards_missing; /* shards that did not answer within the deadline */
    bool timed_out;
    double elapsed_ms;
} context_result_t;

typedef void (*context_done_t)(http_ctx_t *ctx, const context_result_t *result, void *arg);

/* Starts a retrieval on behalf of the request; done runs once, later, on
 * the loop thread (never from inside this call).  Query strings must stay
 * valid until then (the request's pool or body). */
void context_retrieve(http_ctx_t *ctx, const context_query_t *query, context_done_t done,
                      void *arg);

#endif
