/*
 * proto/ops: a retriever request as a peer sends it.  The input is cut at
 * the first 0xff byte (never part of UTF-8) into a header and a file.put
 * payload; the payload's first byte picks the collection's dimension.
 *
 * Invariants: a header that decodes encodes again to one that decodes to
 * the same request; a refused header always says why; a payload that
 * decodes has chunks with 1 <= start_line <= end_line, non-empty names of
 * at most OPS_NAME_MAX bytes, texts and vectors inside the payload and
 * finite vectors, and encodes again to a payload that decodes the same.
 */
#include "proto/base/buf.h"
#include "proto/base/json.h"
#include "proto/ops.h"
#include "tests/fuzz/fuzz.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>

static bool same_string(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_list(const char *const *a, size_t na, const char *const *b, size_t nb) {
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static bool same_request(const ops_request_t *a, const ops_request_t *b) {
    if (a->op != b->op || !same_string(a->collection, b->collection))
        return false;
    switch (a->op) {
    case OPS_COLLECTION_ENSURE:
        return same_string(a->ensure.root, b->ensure.root) &&
               same_string(a->ensure.model, b->ensure.model) && a->ensure.dim == b->ensure.dim &&
               a->ensure.shards == b->ensure.shards;
    case OPS_COLLECTION_TOUCH:
        return a->seeded_at == b->seeded_at;
    case OPS_FILE_PUT:
        return same_string(a->file.path, b->file.path) && same_string(a->file.hash, b->file.hash) &&
               same_string(a->file.language, b->file.language) &&
               same_list(a->file.imports, a->file.import_count, b->file.imports,
                         b->file.import_count);
    case OPS_FILE_DELETE:
    case OPS_IMPORTS_DELETE:
        return same_string(a->path.path, b->path.path);
    case OPS_IMPORTS_PUT:
        return same_string(a->path.path, b->path.path) &&
               same_list(a->path.imports, a->path.import_count, b->path.imports,
                         b->path.import_count);
    case OPS_SEARCH: {
        const ops_search_t *x = &a->search, *y = &b->search;
        return x->k == y->k && x->limit == y->limit && same_string(x->path, y->path) &&
               same_string(x->query, y->query) && x->query_len == y->query_len &&
               (x->symbols != NULL) == (y->symbols != NULL) &&
               same_list(x->symbols, x->symbol_count, y->symbols, y->symbol_count) &&
               same_string(x->object, y->object) && x->f32 == y->f32;
    }
    default:
        return true;
    }
}

static void fuzz_header(const char *text, size_t len) {
    if (json_check(text, len, true, NULL, 0) != 0)
        return;
    cJSON *json = cJSON_ParseWithLength(text, len);
    FUZZ_ASSERT(json != NULL);
    ops_request_t req;
    char err[512] = "";
    int rc = ops_decode(json, &req, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == -EINVAL && err[0] != '\0');
        cJSON_Delete(json);
        return;
    }
    FUZZ_ASSERT(ops_name(req.op) != NULL);
    buf_t again = BUF_INIT;
    FUZZ_ASSERT(ops_encode(&req, &again) == 0);
    FUZZ_ASSERT(json_check(again.data, again.len, true, NULL, 0) == 0);
    cJSON *json2 = cJSON_ParseWithLength(again.data, again.len);
    ops_request_t req2;
    FUZZ_ASSERT(json2 && ops_decode(json2, &req2, err, sizeof err) == 0);
    FUZZ_ASSERT(same_request(&req, &req2));
    ops_request_free(&req2);
    ops_request_free(&req);
    cJSON_Delete(json2);
    cJSON_Delete(json);
    buf_free(&again);
}

static void check_payload(const ops_payload_t *p, const char *start, size_t len, size_t dim) {
    for (size_t i = 0; i < p->count; i++) {
        const ops_chunk_t *c = &p->chunks[i];
        FUZZ_ASSERT(c->start_line >= 1 && c->start_line <= c->end_line);
        FUZZ_ASSERT(c->kind && strlen(c->kind) <= OPS_KIND_MAX);
        FUZZ_ASSERT(c->text >= start && c->text + c->text_len <= start + len);
        for (size_t k = 0; k < c->symbol_count; k++)
            FUZZ_ASSERT(c->symbols[k][0] && strlen(c->symbols[k]) <= OPS_NAME_MAX);
        for (size_t k = 0; k < c->identifier_count; k++)
            FUZZ_ASSERT(c->identifiers[k][0] && strlen(c->identifiers[k]) <= OPS_NAME_MAX);
    }
    const char *v = p->vectors;
    FUZZ_ASSERT(p->count == 0 || (v >= start && v + p->count * dim * 4 <= start + len));
    for (size_t k = 0; k < p->count * dim; k++) {
        float f;
        memcpy(&f, v + k * sizeof f, sizeof f);
        FUZZ_ASSERT(isfinite(f));
    }
}

static void fuzz_payload(const uint8_t *data, size_t size) {
    size_t dim = (size_t)(fuzz_take_byte(&data, &size) % 4) * 4;
    ops_payload_t p;
    char err[512] = "";
    int rc = ops_payload_decode(size ? data : NULL, size, dim, &p, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == -EINVAL && err[0] != '\0');
        FUZZ_ASSERT(p.chunks == NULL && p.json == NULL && p.names == NULL);
        return;
    }
    check_payload(&p, (const char *)data, size, dim);
    /* The vectors are unaligned in the payload: copy them for the encoder. */
    float *vectors = malloc(p.count * dim * sizeof *vectors + 1);
    FUZZ_ASSERT(vectors != NULL);
    memcpy(vectors, p.vectors ? p.vectors : "", p.count * dim * sizeof *vectors);
    buf_t again = BUF_INIT;
    FUZZ_ASSERT(ops_payload_encode(&again, p.chunks, p.count, vectors, dim) == 0);
    ops_payload_t q;
    FUZZ_ASSERT(ops_payload_decode(again.data, again.len, dim, &q, err, sizeof err) == 0);
    FUZZ_ASSERT(q.count == p.count);
    for (size_t i = 0; i < p.count; i++) {
        const ops_chunk_t *a = &p.chunks[i], *b = &q.chunks[i];
        FUZZ_ASSERT(a->start_line == b->start_line && a->end_line == b->end_line);
        FUZZ_ASSERT(strcmp(a->kind, b->kind) == 0);
        FUZZ_ASSERT(a->text_len == b->text_len && memcmp(a->text, b->text, a->text_len) == 0);
        FUZZ_ASSERT(same_list(a->symbols, a->symbol_count, b->symbols, b->symbol_count));
        FUZZ_ASSERT(
            same_list(a->identifiers, a->identifier_count, b->identifiers, b->identifier_count));
    }
    FUZZ_ASSERT(p.count == 0 || memcmp(p.vectors, q.vectors, p.count * dim * 4) == 0);
    ops_payload_free(&q);
    ops_payload_free(&p);
    free(vectors);
    buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_piece_t pieces[2] = {{"", 0}, {"", 0}};
    size_t n = fuzz_split(data, size, 0xff, pieces, 2);
    fuzz_header(pieces[0].data, pieces[0].len);
    if (n == 2)
        fuzz_payload((const uint8_t *)pieces[1].data, pieces[1].len);
    return 0;
}
