/*
 * dispatch: one retriever request (proto/ops.h) against a shard's store,
 * answered as a reply the caller sends on.
 *
 * The worker's handler (retriever/main.c) and the unit tests call the same
 * dispatch_request(), so every op's answer and every 400 message can be
 * tested on a store in a temporary directory, without a broker.  The
 * request is decoded with proto/ops.h, checked, run against the store and
 * turned into a FINAL (header and payload) or an ERROR (status, message).
 * Work that must not delay the answer (merging the token index after a
 * seed) is left in the reply for dispatch_after_reply().
 */
#ifndef LCA_RETRIEVER_DISPATCH_H
#define LCA_RETRIEVER_DISPATCH_H

#include "proto/base/buf.h"
#include "retriever/store.h"

#include <stddef.h>

struct cJSON;

typedef struct {
    store_t *store;    /* borrowed */
    int scan_threads;  /* threads per vector scan, >= 1 */
    int test_delay_ms; /* every search answers this much later: for the gateway's deadline tests */
} dispatch_t;

typedef struct {
    int status;         /* 0: FINAL; else the ERROR's status (400, 404, 409, 500, 503) */
    char message[512];  /* the ERROR's message */
    buf_t header;       /* the FINAL's header JSON */
    buf_t payload;      /* the FINAL's payload; len 0: none */
    char optimize[300]; /* after replying, merge this collection's token index; "": nothing */
} dispatch_reply_t;

/* Runs the request (its header parsed, and its payload) and fills *reply,
 * which the caller releases with dispatch_reply_free(). */
void dispatch_request(const dispatch_t *d, const struct cJSON *header, const void *payload,
                      size_t payload_len, dispatch_reply_t *reply);

/* Does what the reply left for after it was sent (logs failures). */
void dispatch_after_reply(const dispatch_t *d, const dispatch_reply_t *reply);

/* Frees the reply's buffers. */
void dispatch_reply_free(dispatch_reply_t *reply);

#endif
