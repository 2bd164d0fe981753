/*
 * The corpus the retriever's store and search tests share: a temporary
 * shard directory, one store over it, a collection "demo" of DIM-dimensional
 * vectors, files put as the seeder sends them (a JSON chunk list, the chunk
 * texts, one unit vector per chunk), and a small Python project:
 *
 *   src/app.py imports src/utils.py and src/models.py; src/utils.py imports
 *   src/helpers.py; lib/other.py stands alone.
 *
 * with search() to run a query on it and read back the chunks and their
 * signals.  Every test makes its own directory (fresh_dir) and removes it
 * (cleanup).
 */
#ifndef LCA_TEST_RETRIEVER_CORPUS_H
#define LCA_TEST_RETRIEVER_CORPUS_H

#include "proto/base/buf.h"
#include "retriever/search.h"
#include "retriever/store.h"
#include "tests/fixture.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 16

static char dir[256];
static char err[512];

static inline void fresh_dir(void) {
    fixture_tmpdir(dir, sizeof dir, "store");
}

static inline store_t *open_store(int shard, int shards) {
    store_t *s = store_open(dir, shard, shards, err, sizeof err);
    if (!s)
        fprintf(stderr, "  store_open: %s\n", err);
    return s;
}

static inline int ensure(store_t *s, const char *name, const char *model, long dim, long shards,
                         bool *created) {
    store_collection_spec_t spec = {name, "/repo", model, dim, shards, 0};
    store_ensured_t out = {0};
    int rc = store_collection_ensure(s, &spec, &out, err, sizeof err);
    if (created)
        *created = out.created;
    return rc;
}

/* One chunk of a test file. */
typedef struct {
    int start, end;
    const char *symbols;     /* JSON array text */
    const char *identifiers; /* JSON array text */
    const char *text;
    int axis; /* its vector is the unit vector on this axis (mixed with axis+1 when negative) */
} chunk_def_t;

static inline void unit_vector(float *v, int axis) {
    memset(v, 0, DIM * sizeof *v);
    if (axis >= 0) {
        v[axis % DIM] = 1;
    } else {
        v[(-axis) % DIM] = 0.8f;
        v[(-axis + 1) % DIM] = 0.6f;
    }
}

static inline void payload_build(buf_t *p, const chunk_def_t *chunks, size_t n) {
    buf_t json = BUF_INIT;
    buf_append_str(&json, "{\"chunks\":[");
    for (size_t i = 0; i < n; i++)
        buf_printf(&json,
                   "%s{\"start_line\":%d,\"end_line\":%d,\"kind\":\"definition\",\"symbols\":%s,"
                   "\"identifiers\":%s}",
                   i ? "," : "", chunks[i].start, chunks[i].end, chunks[i].symbols,
                   chunks[i].identifiers);
    buf_append_str(&json, "]}");
    texts_append(p, json.data, json.len);
    buf_free(&json);
    for (size_t i = 0; i < n; i++)
        texts_append(p, chunks[i].text, strlen(chunks[i].text));
    float *vecs = calloc(n ? n * DIM : 1, sizeof *vecs);
    for (size_t i = 0; i < n; i++)
        unit_vector(vecs + i * DIM, chunks[i].axis);
    texts_append(p, (const char *)vecs, n * DIM * sizeof *vecs);
    free(vecs);
}

static inline int put(store_t *s, const char *path, const char *hash, const char *const *imports,
                      size_t nimports, const chunk_def_t *chunks, size_t n) {
    buf_t p = BUF_INIT;
    payload_build(&p, chunks, n);
    store_file_spec_t f = {"demo", path, hash, "python", imports, nimports};
    long stored = -1;
    int rc = store_file_put(s, &f, p.data, p.len, &stored, err, sizeof err);
    if (rc == 0 && stored != (long)n)
        rc = -EPROTO;
    buf_free(&p);
    return rc;
}

/* The corpus: app.py imports utils.py and models.py; utils.py imports
 * helpers.py; other.py stands alone. */
static const chunk_def_t APP[] = {
    {1, 3, "[]", "[\"parse_config\",\"User\"]", "from utils import parse_config\n", 0},
    {5, 9, "[\"main\"]", "[\"parse_config\",\"load_user\"]",
     "def main():\n    cfg = parse_config('x')\n    load_user(cfg)\n", 1},
};
static const chunk_def_t UTILS[] = {
    {1, 6, "[\"parse_config\"]", "[\"open\",\"json\"]",
     "def parse_config(path):\n    return json.load(open(path))\n", 2},
    {8, 12, "[\"load_user\"]", "[\"fetch_row\"]",
     "def load_user(uid):\n    return fetch_row(uid)\n", 3},
};
static const chunk_def_t MODELS[] = {
    {1, 4, "[\"User\"]", "[]", "class User:\n    name = ''\n", 4},
    {5, 8, "[\"save\",\"User.save\"]", "[\"write_row\"]",
     "    def save(self):\n        write_row(self)\n", 5},
};
static const chunk_def_t HELPERS[] = {
    {1, 3, "[\"fetch_row\"]", "[]", "def fetch_row(uid):\n    return db[uid]\n", 6},
};
static const chunk_def_t OTHER[] = {
    {1, 4, "[\"tokenize_whitespace\"]", "[\"parse_config\"]",
     "def tokenize_whitespace(s):\n    return s.split()  # parse_config elsewhere\n", -7},
};

static inline bool load_corpus(store_t *s) {
    static const char *const app_imports[] = {"src/utils.py", "src/models.py"};
    static const char *const utils_imports[] = {"src/helpers.py"};
    return ensure(s, "demo", "builtin", DIM, 1, NULL) == 0 &&
           put(s, "src/app.py", "h-app", app_imports, 2, APP, 2) == 0 &&
           put(s, "src/utils.py", "h-utils", utils_imports, 1, UTILS, 2) == 0 &&
           put(s, "src/models.py", "h-models", NULL, 0, MODELS, 2) == 0 &&
           put(s, "src/helpers.py", "h-helpers", NULL, 0, HELPERS, 1) == 0 &&
           put(s, "lib/other.py", "h-other", NULL, 0, OTHER, 1) == 0;
}

/* Runs a search and returns the parsed chunks array (caller deletes the
 * root in *root). */
static inline const cJSON *search(store_t *s, search_query_t *q, cJSON **root) {
    buf_t out = BUF_INIT;
    size_t count = 0;
    if (!q->collection)
        q->collection = "demo";
    if (!q->limit)
        q->limit = 8;
    int rc = search_run(s, q, &out, &count, err, sizeof err);
    *root = rc == 0 ? cJSON_ParseWithLength(out.data, out.len) : NULL;
    buf_free(&out);
    if (rc != 0)
        fprintf(stderr, "  search: %s\n", err);
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(*root, "chunks");
    if (chunks && (size_t)cJSON_GetArraySize(chunks) != count)
        return NULL;
    return chunks;
}

static inline const cJSON *find_chunk(const cJSON *chunks, const char *path, int start_line) {
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "path");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "start_line");
        if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0 &&
            (int)l->valuedouble == start_line)
            return c;
    }
    return NULL;
}

static inline double signal(const cJSON *chunk, const char *name) {
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(chunk, "signals"), name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline long listed(store_t *s, const char *field) {
    buf_t out = BUF_INIT;
    store_collections_list(s, &out, err, sizeof err);
    cJSON *j = cJSON_ParseWithLength(out.data, out.len);
    buf_free(&out);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "collections"), 0);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, field);
    long r = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
    cJSON_Delete(j);
    return r;
}

static inline void cleanup(store_t **s) {
    store_destroy(s);
    fixture_remove_tree(dir);
}

#endif
