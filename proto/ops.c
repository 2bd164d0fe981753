/*
 * The retriever's ops (see ops.h): encoding and strict decoding.
 *
 * Decoding reads fields in a fixed order per op and keeps the first fault
 * only (fields_t.err), so a request with several faults always gets the
 * same message.  Lists are copied into one array of borrowed pointers per
 * request (a request has at most one list).
 */
#include "proto/ops.h"

#include "proto/base/json.h"
#include "proto/shard.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[OPS_COUNT] = {
    [OPS_COLLECTION_ENSURE] = "collection.ensure",
    [OPS_COLLECTION_DROP] = "collection.drop",
    [OPS_COLLECTION_FILES] = "collection.files",
    [OPS_COLLECTION_TOUCH] = "collection.touch",
    [OPS_FILE_PUT] = "file.put",
    [OPS_FILE_DELETE] = "file.delete",
    [OPS_IMPORTS_PUT] = "imports.put",
    [OPS_IMPORTS_DELETE] = "imports.delete",
    [OPS_SEARCH] = "search",
    [OPS_COLLECTIONS] = "collections",
    [OPS_STATS] = "stats",
};

const char *ops_name(ops_op_t op) {
    return (unsigned)op < OPS_COUNT ? op_names[op] : NULL;
}

/* ---- encoding ---- */

/* Each put returns 0 or -ENOMEM; a buffer append that fails leaves the
 * buffer as it was, so the callers OR the results and give up at the end. */
static int put_string(buf_t *b, const char *name, const char *value, size_t len) {
    return buf_printf(b, ",\"%s\":", name) | buf_append_json_string(b, value, len);
}

static int put_strings(buf_t *b, const char *name, const char *const *list, size_t n) {
    int rc = buf_printf(b, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++)
        rc |=
            (i ? buf_append_str(b, ",") : 0) | buf_append_json_string(b, list[i], strlen(list[i]));
    return rc | buf_append_str(b, "]");
}

static int put_optional(buf_t *b, const char *name, const char *value) {
    return value ? put_string(b, name, value, strlen(value)) : 0;
}

int ops_encode(const ops_request_t *req, buf_t *b) {
    const char *name = ops_name(req->op);
    bool collection = req->op != OPS_COLLECTIONS && req->op != OPS_STATS;
    if (!name || (collection && !req->collection))
        return -EINVAL;
    switch (req->op) {
    case OPS_COLLECTION_ENSURE:
        if (!req->ensure.model)
            return -EINVAL;
        break;
    case OPS_FILE_PUT:
        if (!req->file.path || !req->file.hash)
            return -EINVAL;
        break;
    case OPS_FILE_DELETE:
    case OPS_IMPORTS_PUT:
    case OPS_IMPORTS_DELETE:
        if (!req->path.path)
            return -EINVAL;
        break;
    default:
        break;
    }
    int rc = buf_printf(b, "{\"op\":\"%s\"", name);
    if (collection)
        rc |= put_optional(b, "collection", req->collection);
    switch (req->op) {
    case OPS_COLLECTION_ENSURE:
        rc |= put_optional(b, "root", req->ensure.root) |
              put_optional(b, "model", req->ensure.model) |
              buf_printf(b, ",\"dim\":%ld,\"shards\":%ld", req->ensure.dim, req->ensure.shards);
        if (req->ensure.placement > 0)
            rc |= buf_printf(b, ",\"placement\":%ld", req->ensure.placement);
        break;
    case OPS_COLLECTION_TOUCH:
        rc |= buf_printf(b, ",\"seeded_at\":%" PRId64, req->seeded_at);
        break;
    case OPS_FILE_PUT:
        rc |= put_optional(b, "path", req->file.path) | put_optional(b, "hash", req->file.hash) |
              put_optional(b, "language", req->file.language) |
              put_strings(b, "imports", req->file.imports, req->file.import_count);
        break;
    case OPS_FILE_DELETE:
    case OPS_IMPORTS_DELETE:
        rc |= put_optional(b, "path", req->path.path);
        break;
    case OPS_IMPORTS_PUT:
        rc |= put_optional(b, "path", req->path.path) |
              put_strings(b, "imports", req->path.imports, req->path.import_count);
        if (req->path.refs) {
            rc |= buf_append_str(b, ",\"refs\":[");
            for (size_t i = 0; i < req->path.ref_count; i++) {
                const ops_ref_t *r = &req->path.refs[i];
                rc |= buf_append_str(b, i ? ",[" : "[") |
                      buf_append_json_string(b, r->target, strlen(r->target)) |
                      buf_append_str(b, ",") | buf_append_json_string(b, r->name, strlen(r->name)) |
                      buf_printf(b, ",%ld]", r->count);
            }
            rc |= buf_append_str(b, "]");
        }
        break;
    case OPS_SEARCH: {
        const ops_search_t *s = &req->search;
        if (s->k > 0)
            rc |= buf_printf(b, ",\"k\":%ld", s->k);
        if (s->limit > 0)
            rc |= buf_printf(b, ",\"limit\":%ld", s->limit);
        rc |= put_optional(b, "path", s->path);
        if (s->query)
            rc |= put_string(b, "query", s->query, s->query_len);
        if (s->symbols)
            rc |= put_strings(b, "symbols", s->symbols, s->symbol_count);
        rc |= put_optional(b, "object", s->object);
        rc |= put_optional(b, "owner", s->owner);
        if (s->slot)
            rc |= put_strings(b, "slot", s->slot, s->slot_count);
        if (s->anchors)
            rc |= put_strings(b, "anchors", s->anchors, s->anchor_count);
        if (s->member.kind != OPS_MEMBER_NONE) {
            const ops_member_t *m = &s->member;
            rc |= buf_printf(b, ",\"member\":{\"kind\":\"%s\"",
                             m->kind == OPS_MEMBER_MODULE ? "module" : "class") |
                  put_optional(b, "module", m->module) |
                  put_optional(b, "member_of", m->member_of) | put_optional(b, "type", m->type) |
                  put_optional(b, "call", m->call) | put_optional(b, "partial", m->partial) |
                  put_optional(b, "after", m->after) | put_optional(b, "within", m->within) |
                  put_optional(b, "declared", m->declared);
            if (m->base_count)
                rc |= put_strings(b, "bases", m->bases, m->base_count);
            if (m->hint_count)
                rc |= put_strings(b, "hints", m->hints, m->hint_count);
            if (m->word_count)
                rc |= put_strings(b, "words", m->words, m->word_count);
            if (m->line_word_count)
                rc |= put_strings(b, "line", m->line_words, m->line_word_count);
            rc |= buf_append_str(b, "}");
        }
        if (s->f32)
            rc |= buf_append_str(b, ",\"mode\":\"f32\"");
        if (s->question)
            rc |= buf_append_str(b, ",\"question\":true");
        break;
    }
    default:
        break;
    }
    rc |= buf_append_str(b, "}");
    return rc ? -ENOMEM : 0;
}

/* ---- decoding ---- */

/* Reads the request's fields, with a 400 message on the first bad one. */
typedef struct {
    const cJSON *json;
    char *err;
    size_t err_len;
    int rc; /* 0, or the first fault: -EINVAL, -ENOMEM */
} fields_t;

/* Records a fault unless one was recorded already; returns the first. */
static int field_fail(fields_t *f, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int field_fail(fields_t *f, int rc, const char *fmt, ...) {
    if (f->rc)
        return f->rc;
    f->rc = rc;
    if (f->err && f->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->err, f->err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *field_string(fields_t *f, const char *name, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, name);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            field_fail(f, -EINVAL, "missing \"%s\" (a string)", name);
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        field_fail(f, -EINVAL, "\"%s\" must be a string", name);
        return NULL;
    }
    return v->valuestring;
}

static long field_long(fields_t *f, const char *name, bool required, long fallback, long min,
                       long max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, name);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            field_fail(f, -EINVAL, "missing \"%s\" (an integer)", name);
        return fallback;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)min || v->valuedouble > (double)max) {
        field_fail(f, -EINVAL, "\"%s\" must be an integer in [%ld, %ld]", name, min, max);
        return fallback;
    }
    return (long)v->valuedouble;
}

/* The strings of an array field (borrowed from the JSON) in a new array
 * owned by req; NULL and *n = 0 when absent or null. */
static const char **field_strings(fields_t *f, ops_request_t *req, const char *name, size_t *n) {
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    int size = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (size < 0 || size > OPS_LIST_MAX) {
        field_fail(f, -EINVAL, "\"%s\" must be an array of at most %d strings", name, OPS_LIST_MAX);
        return NULL;
    }
    const char **list = calloc((size_t)size + 1, sizeof *list);
    if (!list) {
        field_fail(f, -ENOMEM, "out of memory");
        return NULL;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsString(e)) {
            field_fail(f, -EINVAL, "\"%s\" must hold only strings", name);
            free(list);
            *n = 0;
            return NULL;
        }
        list[(*n)++] = e->valuestring;
    }
    if (req->owned_count == OPS_OWNED_MAX) {
        free(list);
        *n = 0;
        field_fail(f, -EINVAL, "too many lists in one request");
        return NULL;
    }
    req->owned[req->owned_count++] = list;
    return list;
}

/* "member": {kind, module, member_of, type, call, bases, partial, hints, words, line} */
static void decode_member(fields_t *f, ops_request_t *req) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, "member");
    if (!v || cJSON_IsNull(v))
        return;
    if (!cJSON_IsObject(v)) {
        field_fail(f, -EINVAL, "\"member\" must be an object");
        return;
    }
    fields_t inner = {.json = v, .err = f->err, .err_len = f->err_len};
    ops_member_t *m = &req->search.member;
    const char *kind = field_string(&inner, "kind", true);
    if (kind && !strcmp(kind, "module"))
        m->kind = OPS_MEMBER_MODULE;
    else if (kind && !strcmp(kind, "class"))
        m->kind = OPS_MEMBER_CLASS;
    else if (kind)
        field_fail(&inner, -EINVAL, "\"member\".\"kind\" must be \"module\" or \"class\"");
    m->module = field_string(&inner, "module", false);
    m->member_of = field_string(&inner, "member_of", false);
    m->type = field_string(&inner, "type", false);
    m->call = field_string(&inner, "call", false);
    m->partial = field_string(&inner, "partial", false);
    m->after = field_string(&inner, "after", false);
    m->within = field_string(&inner, "within", false);
    m->declared = field_string(&inner, "declared", false);
    m->bases = field_strings(&inner, req, "bases", &m->base_count);
    m->hints = field_strings(&inner, req, "hints", &m->hint_count);
    m->words = field_strings(&inner, req, "words", &m->word_count);
    m->line_words = field_strings(&inner, req, "line", &m->line_word_count);
    /* inner wrote its message where f's goes: only its status moves up */
    if (inner.rc && !f->rc)
        f->rc = inner.rc;
    if (f->rc)
        memset(m, 0, sizeof *m);
}

/* "refs": [[target, name, count]...] */
static void decode_refs(fields_t *f, ops_request_t *req) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, "refs");
    if (!v || cJSON_IsNull(v))
        return;
    int size = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (size < 0 || size > OPS_REFS_MAX) {
        field_fail(f, -EINVAL, "\"refs\" must be an array of at most %d [target, name, count]",
                   OPS_REFS_MAX);
        return;
    }
    ops_ref_t *refs = calloc((size_t)size + 1, sizeof *refs);
    if (!refs) {
        field_fail(f, -ENOMEM, "out of memory");
        return;
    }
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        const cJSON *target = cJSON_GetArrayItem(e, 0), *name = cJSON_GetArrayItem(e, 1),
                    *count = cJSON_GetArrayItem(e, 2);
        if (cJSON_GetArraySize(e) != 3 || !cJSON_IsString(target) || !cJSON_IsString(name) ||
            !*name->valuestring || !cJSON_IsNumber(count) || count->valuedouble < 1 ||
            count->valuedouble > 1e9 || count->valuedouble != floor(count->valuedouble)) {
            free(refs);
            field_fail(f, -EINVAL, "\"refs\" holds [target path, non-empty name, count >= 1]");
            return;
        }
        refs[n++] = (ops_ref_t){target->valuestring, name->valuestring, (long)count->valuedouble};
    }
    free(req->owned_refs);
    req->owned_refs = refs;
    req->path.refs = refs;
    req->path.ref_count = n;
}

static void decode_search(fields_t *f, ops_request_t *req) {
    ops_search_t *s = &req->search;
    s->k = field_long(f, "k", false, 10, 1, OPS_K_MAX);
    s->limit = field_long(f, "limit", false, 4 * s->k, 1, 4 * OPS_K_MAX);
    s->path = field_string(f, "path", false);
    s->query = field_string(f, "query", false);
    s->query_len = s->query ? strlen(s->query) : 0;
    s->object = field_string(f, "object", false);
    s->owner = field_string(f, "owner", false);
    const char *mode = field_string(f, "mode", false);
    s->symbols = field_strings(f, req, "symbols", &s->symbol_count);
    s->slot = field_strings(f, req, "slot", &s->slot_count);
    if (s->slot && s->slot_count != 5)
        field_fail(f, -EINVAL, "\"slot\" must hold 5 strings: 3 tokens before the name, 2 after");
    s->anchors = field_strings(f, req, "anchors", &s->anchor_count);
    decode_member(f, req);
    if (mode && strcmp(mode, "i8") != 0 && strcmp(mode, "f32") != 0)
        field_fail(f, -EINVAL, "\"mode\" must be \"i8\" or \"f32\"");
    s->f32 = mode && strcmp(mode, "f32") == 0;
    const cJSON *question = cJSON_GetObjectItemCaseSensitive(f->json, "question");
    if (question && !cJSON_IsNull(question) && !cJSON_IsBool(question))
        field_fail(f, -EINVAL, "\"question\" must be true or false");
    s->question = cJSON_IsTrue(question);
}

static void decode_fields(fields_t *f, ops_request_t *req) {
    switch (req->op) {
    case OPS_SEARCH:
        decode_search(f, req);
        break;
    case OPS_COLLECTION_ENSURE:
        req->ensure.root = field_string(f, "root", false);
        req->ensure.model = field_string(f, "model", true);
        req->ensure.dim = field_long(f, "dim", true, 0, 0, 1 << 20);
        req->ensure.shards = field_long(f, "shards", true, 0, 1, SHARD_MAX);
        req->ensure.placement =
            field_long(f, "placement", false, SHARD_PLACEMENT, 1, SHARD_PLACEMENT);
        break;
    case OPS_COLLECTION_TOUCH:
        req->seeded_at = field_long(f, "seeded_at", true, 0, 0, INT64_MAX / 2);
        break;
    case OPS_FILE_PUT:
        req->file.imports = field_strings(f, req, "imports", &req->file.import_count);
        req->file.path = field_string(f, "path", true);
        req->file.hash = field_string(f, "hash", true);
        req->file.language = field_string(f, "language", false);
        break;
    case OPS_FILE_DELETE:
    case OPS_IMPORTS_DELETE:
        req->path.path = field_string(f, "path", true);
        break;
    case OPS_IMPORTS_PUT:
        req->path.path = field_string(f, "path", true);
        req->path.imports = field_strings(f, req, "imports", &req->path.import_count);
        if (!cJSON_GetObjectItemCaseSensitive(f->json, "imports"))
            field_fail(f, -EINVAL, "missing \"imports\" (an array of paths)");
        decode_refs(f, req);
        break;
    default:
        break;
    }
}

int ops_decode(const cJSON *header, ops_request_t *req, char *err, size_t err_len) {
    memset(req, 0, sizeof *req);
    if (err && err_len)
        err[0] = '\0';
    fields_t f = {.json = header, .err = err, .err_len = err_len};
    const char *op = field_string(&f, "op", true);
    if (!op)
        return -EINVAL;
    req->op = OPS_COUNT;
    for (int i = 0; i < OPS_COUNT; i++)
        if (strcmp(op, op_names[i]) == 0)
            req->op = (ops_op_t)i;
    if (req->op == OPS_COUNT) {
        field_fail(&f, -EINVAL, "unknown op \"%.64s\"", op);
        return -EINVAL;
    }
    if (req->op != OPS_COLLECTIONS && req->op != OPS_STATS &&
        !(req->collection = field_string(&f, "collection", true)))
        return -EINVAL;
    decode_fields(&f, req);
    int rc = f.rc;
    if (rc != 0)
        ops_request_free(req);
    return rc;
}

void ops_request_free(ops_request_t *req) {
    if (!req)
        return;
    for (int i = 0; i < req->owned_count; i++)
        free(req->owned[i]);
    free(req->owned_refs);
    memset(req, 0, sizeof *req);
}

/* ---- the payload of file.put ---- */

/* Appends names as JSON strings, leaving out the empty and the overlong. */
static int put_names(buf_t *b, const char *const *names, size_t n) {
    int rc = 0;
    bool first = true;
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(names[k]);
        if (len == 0 || len > OPS_NAME_MAX)
            continue;
        rc |= (first ? 0 : buf_append_str(b, ",")) | buf_append_json_string(b, names[k], len);
        first = false;
    }
    return rc;
}

int ops_payload_encode(buf_t *payload, const ops_chunk_t *chunks, size_t n, const float *vectors,
                       size_t dim) {
    buf_t meta = BUF_INIT;
    int rc = buf_append_str(&meta, "{\"chunks\":[");
    for (size_t i = 0; i < n; i++) {
        const ops_chunk_t *c = &chunks[i];
        const char *kind = c->kind ? c->kind : "";
        rc |= buf_printf(&meta, "%s{\"start_line\":%ld,\"end_line\":%ld,\"kind\":", i ? "," : "",
                         c->start_line, c->end_line) |
              buf_append_json_string(&meta, kind, strlen(kind)) |
              buf_append_str(&meta, ",\"symbols\":[") |
              put_names(&meta, c->symbols, c->symbol_count) |
              buf_append_str(&meta, "],\"identifiers\":[") |
              put_names(&meta, c->identifiers, c->identifier_count) | buf_append_str(&meta, "]}");
    }
    rc = rc | buf_append_str(&meta, "]}") ? -ENOMEM : 0;
    if (rc == 0)
        rc = texts_append(payload, meta.data, meta.len);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = texts_append(payload, chunks[i].text ? chunks[i].text : "", chunks[i].text_len);
    if (rc == 0)
        rc = texts_append(payload, n ? (const char *)vectors : "", n * dim * sizeof(float));
    buf_free(&meta);
    return rc;
}

static bool json_integer(const cJSON *v, long min, long max, long *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)min || v->valuedouble > (double)max)
        return false;
    *out = (long)v->valuedouble;
    return true;
}

/* Checks that a (when present) is an array of non-empty strings of at most
 * OPS_NAME_MAX bytes, and counts them. */
static int check_names(fields_t *f, const cJSON *a, const char *what, size_t i, size_t *count) {
    *count = 0;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a))
        return field_fail(f, -EINVAL, "chunk %zu: \"%s\" must be an array of strings", i, what);
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e) || !e->valuestring[0] || strlen(e->valuestring) > OPS_NAME_MAX)
            return field_fail(f, -EINVAL,
                              "chunk %zu: \"%s\" must hold non-empty strings of at most %d bytes",
                              i, what, OPS_NAME_MAX);
        (*count)++;
    }
    return 0;
}

/* The strings of a (checked by check_names), in the next slots of names. */
static const char *const *take_names(const cJSON *a, const char **names, size_t *used) {
    if (!a)
        return NULL;
    const char **list = names + *used;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        names[(*used)++] = e->valuestring;
    }
    return list;
}

/* Reads the chunk JSON (text 0) into p->chunks, lists included. */
static int payload_chunks(fields_t *f, ops_payload_t *p, const cJSON *chunks) {
    size_t total = 0, i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        ops_chunk_t *pc = &p->chunks[i];
        if (!cJSON_IsObject(c))
            return field_fail(f, -EINVAL, "chunk %zu is not an object", i);
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c, "kind");
        if (!json_integer(cJSON_GetObjectItemCaseSensitive(c, "start_line"), 1, INT32_MAX,
                          &pc->start_line) ||
            !json_integer(cJSON_GetObjectItemCaseSensitive(c, "end_line"), pc->start_line,
                          INT32_MAX, &pc->end_line))
            return field_fail(f, -EINVAL,
                              "chunk %zu: \"start_line\" and \"end_line\" must be integers with "
                              "1 <= start_line <= end_line",
                              i);
        if (kind && (!cJSON_IsString(kind) || strlen(kind->valuestring) > OPS_KIND_MAX))
            return field_fail(f, -EINVAL, "chunk %zu: \"kind\" must be a short string", i);
        pc->kind = kind ? kind->valuestring : "";
        int rc;
        if ((rc = check_names(f, cJSON_GetObjectItemCaseSensitive(c, "symbols"), "symbols", i,
                              &pc->symbol_count)) != 0 ||
            (rc = check_names(f, cJSON_GetObjectItemCaseSensitive(c, "identifiers"), "identifiers",
                              i, &pc->identifier_count)) != 0)
            return rc;
        total += pc->symbol_count + pc->identifier_count;
        i++;
    }
    p->names = calloc(total + 1, sizeof *p->names);
    if (!p->names)
        return field_fail(f, -ENOMEM, "out of memory");
    size_t used = 0;
    i = 0;
    cJSON_ArrayForEach(c, chunks) {
        ops_chunk_t *pc = &p->chunks[i++];
        pc->symbols = take_names(cJSON_GetObjectItemCaseSensitive(c, "symbols"), p->names, &used);
        pc->identifiers =
            take_names(cJSON_GetObjectItemCaseSensitive(c, "identifiers"), p->names, &used);
    }
    return 0;
}

int ops_payload_decode(const void *payload, size_t len, size_t dim, ops_payload_t *p, char *err,
                       size_t err_len) {
    memset(p, 0, sizeof *p);
    fields_t fields = {.err = err, .err_len = err_len}, *f = &fields;
    if (!payload)
        return field_fail(f, -EINVAL, "file.put needs a payload: chunk JSON, chunk texts, vectors");
    long count = texts_count(payload, len);
    if (count < 2)
        return field_fail(f, -EINVAL,
                          count < 0
                              ? "payload is not a packed list of texts"
                              : "payload needs chunk JSON, one text per chunk and the vectors");
    size_t pos = 0;
    const char *text;
    size_t text_len;
    texts_next(payload, len, &pos, &text, &text_len);
    char why[128];
    if (json_check(text, text_len, true, why, sizeof why) != 0)
        return field_fail(f, -EINVAL, "payload text 0 is not a JSON object: %s", why);
    p->json = cJSON_ParseWithLength(text, text_len);
    if (!p->json)
        return field_fail(f, -ENOMEM, "out of memory");
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(p->json, "chunks");
    int rc = 0;
    if (!cJSON_IsArray(chunks)) {
        rc = field_fail(f, -EINVAL,
                        "payload text 0 must be JSON {\"chunks\":[...]} describing the chunks");
        goto done;
    }
    p->count = (size_t)cJSON_GetArraySize(chunks);
    if ((size_t)count != p->count + 2) {
        rc = field_fail(f, -EINVAL,
                        "payload has %ld texts; %zu chunks need %zu (JSON, texts, vectors)", count,
                        p->count, p->count + 2);
        goto done;
    }
    p->chunks = calloc(p->count ? p->count : 1, sizeof *p->chunks);
    if (!p->chunks) {
        rc = field_fail(f, -ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = payload_chunks(f, p, chunks)) != 0)
        goto done;
    for (size_t i = 0; i < p->count; i++)
        texts_next(payload, len, &pos, &p->chunks[i].text, &p->chunks[i].text_len);
    texts_next(payload, len, &pos, &text, &text_len);
    if (text_len != p->count * dim * sizeof(float)) {
        rc = field_fail(
            f, -EINVAL,
            "the last text must hold %zu chunks x %zu float32 (%zu bytes), not %zu bytes", p->count,
            dim, p->count * dim * sizeof(float), text_len);
        goto done;
    }
    p->vectors = text;
    for (size_t k = 0; k < p->count * dim; k++) {
        float v;
        memcpy(&v, text + k * sizeof v, sizeof v);
        if (!isfinite(v)) {
            rc = field_fail(f, -EINVAL, "vector of chunk %zu has a non-finite value", k / dim);
            goto done;
        }
    }
done:
    if (rc != 0)
        ops_payload_free(p);
    return rc;
}

void ops_payload_free(ops_payload_t *p) {
    if (!p)
        return;
    free(p->chunks);
    free(p->names);
    cJSON_Delete(p->json);
    memset(p, 0, sizeof *p);
}

void ops_collection_open(buf_t *out, bool first, const char *name, const char *root,
                         const char *model) {
    buf_append_str(out, first ? "{\"name\":" : ",{\"name\":");
    buf_append_json_string(out, name, strlen(name));
    buf_append_str(out, ",\"root\":");
    buf_append_json_string(out, root, strlen(root));
    buf_append_str(out, ",\"model\":");
    buf_append_json_string(out, model, strlen(model));
}
