/*
 * The retriever's dispatcher (see dispatch.h): ops decoded by proto/ops.h,
 * run against the store, answered as the contract in proto/ops.h says.
 */
#include "retriever/dispatch.h"

#include "proto/base/clock.h"
#include "proto/base/log.h"
#include "proto/ops.h"
#include "retriever/search.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The ERROR status of a store failure. */
static int status_of(int rc) {
    switch (rc) {
    case -EINVAL:
        return 400;
    case -ENOENT:
        return 404;
    case -EEXIST:
        return 409;
    case -ENOMEM:
    case -ENOSPC:
        return 503;
    default:
        return 500;
    }
}

/* Ends the reply: FINAL with header when rc is 0 (the payload is already
 * in reply->payload), else ERROR with err. */
static void finish(dispatch_reply_t *reply, int rc, const char *err, const char *header) {
    if (rc != 0) {
        reply->status = status_of(rc);
        snprintf(reply->message, sizeof reply->message, "%s", err[0] ? err : "request failed");
        return;
    }
    if (buf_append_str(&reply->header, header) != 0) {
        reply->status = 503;
        snprintf(reply->message, sizeof reply->message, "out of memory");
    }
}

static void run_search(const dispatch_t *d, const ops_request_t *req, const void *payload,
                       size_t payload_len, dispatch_reply_t *reply) {
    const ops_search_t *s = &req->search;
    search_query_t q = {.collection = req->collection,
                        .limit = (size_t)s->limit,
                        .path = s->path,
                        .query = s->query,
                        .query_len = s->query_len,
                        .symbols = s->symbols,
                        .symbol_count = s->symbol_count,
                        .object = s->object,
                        .owner = s->owner,
                        .slot = s->slot_count == 5 ? s->slot : NULL,
                        .anchors = s->anchors,
                        .anchor_count = s->anchor_count,
                        .member = {.kind = (search_member_kind_t)s->member.kind,
                                   .module = s->member.module,
                                   .member_of = s->member.member_of,
                                   .type = s->member.type,
                                   .call = s->member.call,
                                   .bases = s->member.bases,
                                   .base_count = s->member.base_count,
                                   .partial = s->member.partial,
                                   .after = s->member.after,
                                   .hints = s->member.hints,
                                   .hint_count = s->member.hint_count,
                                   .words = s->member.words,
                                   .word_count = s->member.word_count,
                                   .line_words = s->member.line_words,
                                   .line_word_count = s->member.line_word_count,
                                   .within = s->member.within,
                                   .declared = s->member.declared},
                        .question = s->question,
                        .mode = s->f32 ? VECTORS_F32 : VECTORS_I8,
                        .vector = payload_len ? payload : NULL,
                        .vector_bytes = payload_len,
                        .threads = d->scan_threads};
    if (d->test_delay_ms > 0)
        usleep((useconds_t)d->test_delay_ms * 1000);
    size_t count = 0;
    char err[512] = "";
    int64_t start = clock_us();
    int rc = search_run(d->store, &q, &reply->payload, &count, err, sizeof err);
    char header[96];
    snprintf(header, sizeof header, "{\"count\":%zu,\"us\":%" PRId64 "}", count,
             clock_us() - start);
    finish(reply, rc, err, header);
}

/* imports.put's references into the reference index (the wire's form and
 * the store's are the same three fields). */
static int put_refs(const dispatch_t *d, const ops_request_t *req, char *err, size_t err_len) {
    store_ref_t *refs = calloc(req->path.ref_count + 1, sizeof *refs);
    if (!refs) {
        snprintf(err, err_len, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < req->path.ref_count; i++)
        refs[i] = (store_ref_t){req->path.refs[i].target, req->path.refs[i].name,
                                req->path.refs[i].count};
    int rc = store_refs_put(d->store, req->collection, req->path.path, refs, req->path.ref_count,
                            err, err_len);
    free(refs);
    return rc;
}

static void run_stats(const dispatch_t *d, dispatch_reply_t *reply) {
    store_stats_t st;
    store_stats_get(d->store, &st);
    char header[160];
    snprintf(header, sizeof header,
             "{\"collections\":%ld,\"chunks\":%ld,\"vector_bytes\":%zu,\"db_bytes\":%zu}",
             st.collections, st.chunks, st.vector_bytes, st.db_bytes);
    finish(reply, 0, "", header);
}

static void run_ensure(const dispatch_t *d, const ops_request_t *req, dispatch_reply_t *reply) {
    store_collection_spec_t spec = {.name = req->collection,
                                    .root = req->ensure.root,
                                    .model = req->ensure.model,
                                    .dim = req->ensure.dim,
                                    .shards = req->ensure.shards,
                                    .placement = (int)req->ensure.placement};
    store_ensured_t ensured = {0};
    char err[512] = "", header[64];
    int rc = store_collection_ensure(d->store, &spec, &ensured, err, sizeof err);
    snprintf(header, sizeof header, "{\"created\":%s,\"placement\":%d}",
             ensured.created ? "true" : "false", ensured.placement);
    finish(reply, rc, err, header);
}

static void run_file_put(const dispatch_t *d, const ops_request_t *req, const void *payload,
                         size_t payload_len, dispatch_reply_t *reply) {
    store_file_spec_t file = {.collection = req->collection,
                              .path = req->file.path,
                              .hash = req->file.hash,
                              .language = req->file.language,
                              .imports = req->file.imports,
                              .import_count = req->file.import_count};
    long chunks = 0;
    char err[512] = "", header[64];
    int rc = store_file_put(d->store, &file, payload, payload_len, &chunks, err, sizeof err);
    snprintf(header, sizeof header, "{\"chunks\":%ld}", chunks);
    finish(reply, rc, err, header);
}

static void run_collection_op(const dispatch_t *d, const ops_request_t *req,
                              dispatch_reply_t *reply) {
    char err[512] = "";
    int rc;
    switch (req->op) {
    case OPS_COLLECTIONS:
        rc = store_collections_list(d->store, &reply->payload, err, sizeof err);
        finish(reply, rc, err, "{}");
        break;
    case OPS_COLLECTION_DROP:
        rc = store_collection_drop(d->store, req->collection, err, sizeof err);
        finish(reply, rc, err, "{\"dropped\":true}");
        break;
    case OPS_COLLECTION_FILES:
        rc = store_collection_files(d->store, req->collection, &reply->payload, err, sizeof err);
        finish(reply, rc, err, "{}");
        break;
    case OPS_COLLECTION_TOUCH:
        rc = store_collection_touch(d->store, req->collection, req->seeded_at, err, sizeof err);
        finish(reply, rc, err, "{}");
        /* A seed just ended: merge its token index, after the reply so that
         * the seeder does not wait for it. */
        if (rc == 0)
            snprintf(reply->optimize, sizeof reply->optimize, "%s", req->collection);
        break;
    case OPS_FILE_DELETE:
        rc = store_file_delete(d->store, req->collection, req->path.path, err, sizeof err);
        finish(reply, rc, err, "{\"deleted\":true}");
        break;
    case OPS_IMPORTS_DELETE:
        rc = store_imports_delete(d->store, req->collection, req->path.path, err, sizeof err);
        finish(reply, rc, err, "{}");
        break;
    default: /* imports.put */
        rc = store_imports_put(d->store, req->collection, req->path.path, req->path.imports,
                               req->path.import_count, err, sizeof err);
        if (rc == 0 && req->path.refs)
            rc = put_refs(d, req, err, sizeof err);
        finish(reply, rc, err, "{}");
        break;
    }
}

void dispatch_request(const dispatch_t *d, const struct cJSON *header, const void *payload,
                      size_t payload_len, dispatch_reply_t *reply) {
    *reply = (dispatch_reply_t){.header = BUF_INIT, .payload = BUF_INIT};
    ops_request_t req;
    int rc = ops_decode(header, &req, reply->message, sizeof reply->message);
    if (rc != 0) {
        reply->status = rc == -ENOMEM ? 503 : 400;
        return;
    }
    switch (req.op) {
    case OPS_SEARCH:
        run_search(d, &req, payload, payload_len, reply);
        break;
    case OPS_STATS:
        run_stats(d, reply);
        break;
    case OPS_COLLECTION_ENSURE:
        run_ensure(d, &req, reply);
        break;
    case OPS_FILE_PUT:
        run_file_put(d, &req, payload, payload_len, reply);
        break;
    default:
        run_collection_op(d, &req, reply);
        break;
    }
    if (reply->status != 0)
        buf_reset(&reply->payload);
    ops_request_free(&req);
}

void dispatch_after_reply(const dispatch_t *d, const dispatch_reply_t *reply) {
    char err[512];
    if (reply->optimize[0] &&
        store_collection_optimize(d->store, reply->optimize, err, sizeof err) != 0)
        log_warn("merging the token index of '%s': %s", reply->optimize, err);
}

void dispatch_reply_free(dispatch_reply_t *reply) {
    buf_free(&reply->header);
    buf_free(&reply->payload);
}
