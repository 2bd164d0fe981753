/*
 * history: the last generation requests the gateway served, for the status
 * page (ui.h) — what each asked, what it cost, and the exact context chunks
 * it got.
 *
 * A ring of HISTORY_MAX entries: a new request takes the oldest slot and
 * frees what it held, so memory is bounded whatever the traffic (at most
 * HISTORY_MAX * HISTORY_CHUNKS_MAX chunk texts of HISTORY_TEXT_MAX bytes,
 * about 2.4 MB).  Entries have ids 1, 2, 3, ... that are never reused; an
 * id's slot is (id - 1) % HISTORY_MAX, so a lookup is one comparison, and
 * news about a request whose slot was taken since is ignored.
 *
 * The request's modules report what they learn, each at its own moment
 * (relay.c: start, first token, end; rag.c: the context), through the id
 * kept in the request (http_ctx_t.history_id; 0 means "not recorded" and
 * every call ignores it).  One listener (the live events, events.h) hears
 * of every change.
 *
 * Loop thread only: every function runs on the h2o loop, so nothing locks.
 */
#ifndef LCA_GATEWAY_HISTORY_H
#define LCA_GATEWAY_HISTORY_H

#include "gateway/context.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_MAX 64
#define HISTORY_CHUNKS_MAX 12
#define HISTORY_TEXT_MAX 3000

/* A chunk a request got, copied: its strings are the history's. */
typedef struct {
    context_chunk_t chunk; /* path, language, kind and text owned here; text at most
                              HISTORY_TEXT_MAX bytes */
    bool used;             /* it went into the prompt (false: it did not fit the budget) */
    bool truncated;        /* the text was cut at HISTORY_TEXT_MAX */
} history_chunk_t;

typedef struct {
    uint64_t id;           /* 1, 2, ...; 0: an empty slot */
    unsigned version;      /* changes so far: of two copies, a reader keeps the higher */
    char rid[24];          /* the request id (X-Request-Id) */
    char route[32];        /* the route's path: "/api/generate", "/v1/chat/completions", ... */
    char model[96];        /* as the client named it */
    int64_t started_ms;    /* wall clock, ms since the epoch */
    int status;            /* the HTTP status; 0 while the request runs */
    double first_token_ms; /* from start to the first token; < 0: none (yet) */
    double duration_ms;    /* from start to the end; < 0 while it runs */
    long tokens;           /* tokens generated (the model's eval_count, else lines); < 0: unknown */
    long prompt_tokens;    /* the prompt's tokens as the model counted them; < 0: unknown */
    long reread_tokens;    /* prompt tokens the model evaluated anew, past its cache; < 0:
                              unknown (history_reread fills it) */
    bool has_context;      /* retrieval ran for it (then the fields below are set) */
    char collection[72];   /* the collection retrieval used ("" : none) */
    double retrieval_ms;   /* how long retrieval took */
    size_t nchunks;        /* chunks kept, at most HISTORY_CHUNKS_MAX */
    size_t chunks_dropped; /* chunks beyond HISTORY_CHUNKS_MAX, not kept */
    history_chunk_t chunks[HISTORY_CHUNKS_MAX];
} history_entry_t;

/* Called after every change of an entry (borrowed for the call). */
typedef void (*history_listener_t)(const history_entry_t *entry, void *arg);

/* Records a new request; returns its id (never 0). */
uint64_t history_begin(const char *rid, const char *route, const char *model);

/* The context retrieval gave request id: r's chunks (copied), with used[i]
 * telling which went into the prompt (NULL: all).  A failed retrieval
 * (r->status != 200) records that it ran, with no chunks. */
void history_context(uint64_t id, const context_result_t *r, const bool *used);

/* The first token came, ms after the start. */
void history_first_token(uint64_t id, double ms);

/* The model evaluated tokens of the prompt anew (those its cache did not
 * hold); for whoever knows (the prompt-economy accounting). */
void history_reread(uint64_t id, long tokens);

/* The request ended with status after duration_ms; tokens and
 * prompt_tokens < 0 when unknown. */
void history_end(uint64_t id, int status, double duration_ms, long tokens, long prompt_tokens);

/* The entry of id, borrowed until the next history_begin, or NULL when it
 * is unknown or its slot was taken since. */
const history_entry_t *history_find(uint64_t id);

/* The newest id (0: none yet).  Entries newest first: id, id - 1, ... for
 * as long as history_find finds them. */
uint64_t history_last_id(void);

/* Sets the one listener (NULL: none). */
void history_listen(history_listener_t listener, void *arg);

/* Forgets every entry and frees what they held; ids go on from where they
 * were.  For tests and shutdown. */
void history_clear(void);

#endif
