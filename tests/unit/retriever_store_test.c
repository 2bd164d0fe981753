/*
 * Tests of retriever/store and retriever/search on a temporary directory:
 * collections (ensure, mismatch, drop), file put/replace/delete, each
 * search signal on a small synthetic corpus, exclusion of the current file,
 * the import graph, reloading from disk, bounded size under churn, and
 * rejection of malformed writes and queries.
 */
#include "proto/base/buf.h"
#include "proto/shard.h"
#include "retriever/search.h"
#include "retriever/store.h"
#include "tests/fixture.h"
#include "tests/test.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIM 16

static char dir[256];
static char err[512];

static void fresh_dir(void) {
    fixture_tmpdir(dir, sizeof dir, "store");
}

static store_t *open_store(int shard, int shards) {
    store_t *s = store_open(dir, shard, shards, err, sizeof err);
    if (!s)
        fprintf(stderr, "  store_open: %s\n", err);
    return s;
}

static int ensure(store_t *s, const char *name, const char *model, long dim, long shards,
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

static void unit_vector(float *v, int axis) {
    memset(v, 0, DIM * sizeof *v);
    if (axis >= 0) {
        v[axis % DIM] = 1;
    } else {
        v[(-axis) % DIM] = 0.8f;
        v[(-axis + 1) % DIM] = 0.6f;
    }
}

static void payload_build(buf_t *p, const chunk_def_t *chunks, size_t n) {
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

static int put(store_t *s, const char *path, const char *hash, const char *const *imports,
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

static bool load_corpus(store_t *s) {
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
static const cJSON *search(store_t *s, search_query_t *q, cJSON **root) {
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

static const cJSON *find_chunk(const cJSON *chunks, const char *path, int start_line) {
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

static double signal(const cJSON *chunk, const char *name) {
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(chunk, "signals"), name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static bool has_path(const cJSON *chunks, const char *path) {
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "path")->valuestring, path) == 0)
            return true;
    }
    return false;
}

static long listed(store_t *s, const char *field) {
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

static void cleanup(store_t **s) {
    store_destroy(s);
    fixture_remove_tree(dir);
}

/* ---- tests ---- */

TEST(ensure_creates_verifies_and_rejects_a_mismatch) {
    fresh_dir();
    store_t *s = open_store(0, 2);
    REQUIRE(s);
    bool created = false;
    CHECK_INT(ensure(s, "demo", "builtin", 384, 2, &created), ==, 0);
    CHECK(created);
    CHECK_INT(ensure(s, "demo", "builtin", 384, 2, &created), ==, 0);
    CHECK(!created);
    CHECK_INT(ensure(s, "demo", "nomic-embed-text", 768, 2, NULL), ==, -EEXIST);
    CHECK(strstr(err, "collection 'demo' was indexed with builtin (384 dims, 2 shards); re-seed "
                      "it with --reset to change") != NULL);
    CHECK_INT(ensure(s, "demo", "builtin", 384, 3, NULL), ==, -EEXIST);
    CHECK_INT(ensure(s, "bad", "builtin", 100, 2, NULL), ==, -EINVAL);
    CHECK_INT(ensure(s, "", "builtin", 384, 2, NULL), ==, -EINVAL);
    CHECK_INT(store_collection_drop(s, "demo", err, sizeof err), ==, 0);
    CHECK_INT(ensure(s, "demo", "nomic-embed-text", 768, 2, &created), ==, 0);
    CHECK(created);
    CHECK_INT(store_collection_drop(s, "never", err, sizeof err), ==, 0);
    cleanup(&s);
}

TEST(a_new_index_is_closed_to_other_users) {
    fresh_dir();
    char parent[256];
    memcpy(parent, dir, sizeof parent);
    snprintf(dir, sizeof dir, "%.200s/index", parent); /* parent: /tmp/lca-store-XXXXXX */
    mode_t old = umask(022); /* the usual umask: what it lets through, the store must not */
    store_t *s = open_store(0, 1);
    bool created = false;
    if (s)
        CHECK_INT(ensure(s, "demo", "builtin", 384, 1, &created), ==, 0); /* a write */
    umask(old);
    REQUIRE(s);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    /* The files too, for a --data directory that others may enter. */
    const char *files[] = {"shard-0.db", "shard-0.db-wal", "shard-0.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK(stat(path, &st) == 0);
        if ((st.st_mode & 0777) != 0600)
            fprintf(stderr, "  %s: mode %03o\n", files[i], (unsigned)(st.st_mode & 0777));
        CHECK_INT(st.st_mode & 0777, ==, 0600);
    }
    cleanup(&s);
    rmdir(parent);
}

TEST(put_replace_and_delete_keep_counts) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    CHECK_INT(listed(s, "files"), ==, 5);
    CHECK_INT(listed(s, "chunks"), ==, 8);
    /* Replace utils.py with one chunk. */
    CHECK_INT(put(s, "src/utils.py", "h-utils-2", NULL, 0, UTILS, 1), ==, 0);
    CHECK_INT(listed(s, "files"), ==, 5);
    CHECK_INT(listed(s, "chunks"), ==, 7);
    buf_t out = BUF_INIT;
    CHECK_INT(store_collection_files(s, "demo", &out, err, sizeof err), ==, 0);
    CHECK(out.data && strstr(out.data, "{\"path\":\"src/utils.py\",\"hash\":\"h-utils-2\"}"));
    buf_free(&out);
    CHECK_INT(store_file_delete(s, "demo", "src/utils.py", err, sizeof err), ==, 0);
    CHECK_INT(store_file_delete(s, "demo", "src/utils.py", err, sizeof err), ==, 0);
    CHECK_INT(listed(s, "files"), ==, 4);
    CHECK_INT(listed(s, "chunks"), ==, 6);
    CHECK_INT(store_collection_touch(s, "demo", 1700000000, err, sizeof err), ==, 0);
    CHECK_INT(listed(s, "seeded_at"), ==, 1700000000);
    CHECK_INT(store_collection_optimize(s, "demo", err, sizeof err), ==, 0);
    CHECK_INT(store_collection_optimize(s, "nope", err, sizeof err), ==, -ENOENT);
    CHECK_INT(store_file_delete(s, "nope", "x", err, sizeof err), ==, -ENOENT);
    /* An empty file is a file with no chunks (its hash still recorded). */
    CHECK_INT(put(s, "empty.py", "h-empty", NULL, 0, NULL, 0), ==, 0);
    CHECK_INT(listed(s, "files"), ==, 5);
    CHECK_INT(listed(s, "chunks"), ==, 6);
    CHECK_INT(store_file_delete(s, "demo", "empty.py", err, sizeof err), ==, 0);
    store_stats_t st;
    store_stats_get(s, &st);
    CHECK_INT(st.collections, ==, 1);
    CHECK_INT(st.chunks, ==, 6);
    CHECK_INT(st.vector_bytes, >, 0);
    CHECK_INT(st.db_bytes, >, 0);
    cleanup(&s);
}

TEST(each_signal_finds_its_chunk_and_the_current_file_is_excluded) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    cJSON *root;

    /* dense: the query vector points at other.py's chunk. */
    float q[DIM];
    unit_vector(q, -7);
    search_query_t dq = {.path = "src/app.py", .vector = q, .vector_bytes = sizeof q, .limit = 1};
    const cJSON *chunks = search(s, &dq, &root);
    REQUIRE(chunks);
    const cJSON *c = find_chunk(chunks, "lib/other.py", 1);
    CHECK(c && fabs(signal(c, "dense") - 1.0) < 1e-3);
    CHECK(!has_path(chunks, "src/app.py"));
    cJSON_Delete(root);

    /* f32 mode agrees. */
    dq.mode = VECTORS_F32;
    chunks = search(s, &dq, &root);
    CHECK(chunks && find_chunk(chunks, "lib/other.py", 1));
    cJSON_Delete(root);

    /* bm25: sub-words of tokenizeWhitespace. */
    search_query_t bq = {.path = "src/app.py", .query = "x = tokenizeWhitespace(line)"};
    bq.query_len = strlen(bq.query);
    chunks = search(s, &bq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "lib/other.py", 1);
    CHECK(c && signal(c, "bm25") > 0);
    const cJSON *e;
    cJSON_ArrayForEach(e, chunks) {
        CHECK(e == c || signal(e, "bm25") < signal(c, "bm25"));
    }
    cJSON_Delete(root);

    /* symbol: who defines load_user and save (User.save counts once). */
    static const char *const syms[] = {"load_user", "save", "load_user"};
    search_query_t sq = {.path = "src/app.py", .symbols = syms, .symbol_count = 3};
    chunks = search(s, &sq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "src/utils.py", 8);
    CHECK(c && signal(c, "symbol") == 1);
    c = find_chunk(chunks, "src/models.py", 5);
    CHECK(c && signal(c, "symbol") == 1);
    cJSON_Delete(root);

    /* import: app.py imports utils and models (1), utils imports helpers (2). */
    search_query_t iq = {.path = "src/app.py", .query = "parse config", .query_len = 12};
    chunks = search(s, &iq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "src/utils.py", 1);
    CHECK(c && signal(c, "import") == 1);
    c = find_chunk(chunks, "src/models.py", 1);
    CHECK(c && signal(c, "import") == 1);
    c = find_chunk(chunks, "src/helpers.py", 1);
    CHECK(c && signal(c, "import") == 2);
    c = find_chunk(chunks, "lib/other.py", 1);
    CHECK(c && signal(c, "import") == 0);
    CHECK(!has_path(chunks, "src/app.py"));
    /* uses: parse_config is used by app.py's two chunks and other.py. */
    c = find_chunk(chunks, "src/utils.py", 1);
    CHECK(c && signal(c, "uses") == 3);
    /* in-degree: utils.py is imported by one file. */
    CHECK(c && signal(c, "imported_by") == 1);
    cJSON_Delete(root);

    /* object: `utils.` -> the imported module's chunks; `User.` -> the class
     * and its members. */
    search_query_t oq = {.path = "src/app.py", .object = "utils"};
    chunks = search(s, &oq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "src/utils.py", 8);
    CHECK(c && signal(c, "object") == 1);
    c = find_chunk(chunks, "src/models.py", 1);
    CHECK(!c || signal(c, "object") == 0);
    cJSON_Delete(root);
    oq.object = "User";
    chunks = search(s, &oq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "src/models.py", 1);
    CHECK(c && signal(c, "object") == 1);
    c = find_chunk(chunks, "src/models.py", 5);
    CHECK(c && signal(c, "object") == 1);
    cJSON_Delete(root);

    /* Go: `helpers.` names the directory of an imported package. */
    CHECK_INT(store_imports_put(s, "demo", "cmd/main.go", (const char *const[]){"lib/other.py"}, 1,
                                err, sizeof err),
              ==, 0);
    search_query_t gq = {.path = "cmd/main.go", .object = "lib"};
    chunks = search(s, &gq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "lib/other.py", 1);
    CHECK(c && signal(c, "object") == 1 && signal(c, "import") == 1);
    cJSON_Delete(root);

    /* A file unknown to the graph still finds the module by its stem. */
    search_query_t nq = {.path = "src/new.py", .object = "utils"};
    chunks = search(s, &nq, &root);
    REQUIRE(chunks);
    c = find_chunk(chunks, "src/utils.py", 1);
    CHECK(c && signal(c, "object") == 1 && signal(c, "import") == 0);
    cJSON_Delete(root);

    /* The text and symbols come back as stored. */
    chunks = search(s, &bq, &root);
    c = find_chunk(chunks, "lib/other.py", 1);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
    CHECK(cJSON_IsString(text) && strcmp(text->valuestring, OTHER[0].text) == 0);
    const cJSON *sy = cJSON_GetObjectItemCaseSensitive(c, "symbols");
    CHECK(cJSON_IsArray(sy) && cJSON_GetArraySize(sy) == 1);
    cJSON_Delete(root);
    cleanup(&s);
}

TEST(import_graph_is_replicated_and_counts_in_degree) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    /* Paths need not be this shard's files: the graph is replicated. */
    static const char *const t[] = {"src/utils.py", "src/models.py"};
    CHECK_INT(store_imports_put(s, "demo", "elsewhere/a.py", t, 2, err, sizeof err), ==, 0);
    CHECK_INT(store_imports_put(s, "demo", "elsewhere/b.py", t, 1, err, sizeof err), ==, 0);
    cJSON *root;
    search_query_t q = {.path = "elsewhere/a.py"};
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *c = find_chunk(chunks, "src/utils.py", 1);
    CHECK(c && signal(c, "import") == 1 && signal(c, "imported_by") == 3);
    c = find_chunk(chunks, "src/models.py", 1);
    CHECK(c && signal(c, "imported_by") == 2);
    cJSON_Delete(root);
    CHECK_INT(store_imports_delete(s, "demo", "elsewhere/a.py", err, sizeof err), ==, 0);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK_INT(cJSON_GetArraySize(chunks), ==, 0);
    cJSON_Delete(root);
    CHECK_INT(store_imports_put(s, "demo", "", t, 1, err, sizeof err), ==, -EINVAL);
    CHECK_INT(store_imports_put(s, "nope", "a", t, 1, err, sizeof err), ==, -ENOENT);
    cleanup(&s);
}

TEST(reopening_loads_vectors_and_rows) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    store_destroy(&s);
    s = open_store(0, 1);
    REQUIRE(s);
    store_stats_t st;
    store_stats_get(s, &st);
    CHECK_INT(st.chunks, ==, 8);
    CHECK_INT(listed(s, "files"), ==, 5);
    float q[DIM];
    unit_vector(q, 3);
    cJSON *root;
    search_query_t dq = {.vector = q, .vector_bytes = sizeof q, .limit = 1};
    const cJSON *chunks = search(s, &dq, &root);
    REQUIRE(chunks);
    const cJSON *c = cJSON_GetArrayItem(chunks, 0);
    CHECK(c && find_chunk(chunks, "src/utils.py", 8) == c);
    cJSON_Delete(root);
    /* New chunk ids never reuse old ones. */
    CHECK_INT(put(s, "src/utils.py", "h2", NULL, 0, UTILS, 2), ==, 0);
    store_stats_get(s, &st);
    CHECK_INT(st.chunks, ==, 8);
    cleanup(&s);
}

static size_t file_bytes(const char *suffix) {
    char path[400];
    snprintf(path, sizeof path, "%s/shard-0.db%s", dir, suffix);
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

TEST(hundred_rounds_of_delete_and_re_add_do_not_grow) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    enum { CHUNKS = 40 };
    static chunk_def_t big[CHUNKS];
    static char texts[CHUNKS][2048];
    static char idents[CHUNKS][256];
    for (int i = 0; i < CHUNKS; i++) {
        int n = 0;
        for (int w = 0; n < 1900; w++)
            n += snprintf(texts[i] + n, sizeof texts[i] - (size_t)n, "value_%d_%d = compute%d(x)\n",
                          i, w, w % 17);
        snprintf(idents[i], sizeof idents[i], "[\"compute%d\",\"helper_%d\"]", i % 17, i);
        big[i] = (chunk_def_t){i * 10 + 1, i * 10 + 9, "[\"big\"]", idents[i], texts[i], i};
    }
    size_t db20 = 0, vec20 = 0;
    store_stats_t st;
    for (int round = 1; round <= 100; round++) {
        REQUIRE(store_file_delete(s, "demo", "big.py", err, sizeof err) == 0);
        REQUIRE(put(s, "big.py", "h", NULL, 0, big, CHUNKS) == 0);
        if (round == 20) {
            store_stats_get(s, &st);
            db20 = file_bytes("");
            vec20 = st.vector_bytes;
        }
    }
    store_stats_get(s, &st);
    size_t db100 = file_bytes(""), wal = file_bytes("-wal");
    fprintf(stderr, "  db after 20 rounds %zu, after 100 %zu; wal %zu; vectors %zu -> %zu\n", db20,
            db100, wal, vec20, st.vector_bytes);
    CHECK_INT(st.chunks, ==, CHUNKS);
    CHECK_INT(st.vector_bytes, ==, vec20);
    CHECK_INT(db100, <=, db20 + db20 / 4);
    CHECK_INT(wal, <=, 9 << 20);
    cleanup(&s);
}

TEST(malformed_writes_and_queries_are_rejected_without_effect) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    store_file_spec_t f = {"demo", "src/utils.py", "h-bad", "python", NULL, 0};
    long n;
    CHECK_INT(store_file_put(s, &f, NULL, 0, &n, err, sizeof err), ==, -EINVAL);
    CHECK_INT(store_file_put(s, &f, "\x05\x00\x00\x00ab", 6, &n, err, sizeof err), ==, -EINVAL);

    static const char *const bad_json[] = {
        "not json",
        "{\"chunks\":{}}",
        "{\"chunks\":[1]}",
        "{\"chunks\":[{\"start_line\":5,\"end_line\":2}]}",
        "{\"chunks\":[{\"start_line\":1.5,\"end_line\":2}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"symbols\":\"x\"}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"identifiers\":[3]}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"kind\":7}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"symbols\":[\"caf\xe9\"]}]}",
        "{\"chunks\":[]} trailing",
    };
    float vec[DIM] = {1};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        buf_t p = BUF_INIT;
        texts_append(&p, bad_json[i], strlen(bad_json[i]));
        texts_append(&p, "x", 1);
        texts_append(&p, (const char *)vec, sizeof vec);
        CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
        buf_free(&p);
    }
    /* Wrong number of texts, wrong vector size, a NaN. */
    const char *one = "{\"chunks\":[{\"start_line\":1,\"end_line\":2}]}";
    buf_t p = BUF_INIT;
    texts_append(&p, one, strlen(one));
    texts_append(&p, (const char *)vec, sizeof vec);
    CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
    buf_reset(&p);
    texts_append(&p, one, strlen(one));
    texts_append(&p, "x", 1);
    texts_append(&p, (const char *)vec, sizeof vec - 4);
    CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
    CHECK(strstr(err, "float32") != NULL);
    buf_reset(&p);
    vec[3] = NAN;
    texts_append(&p, one, strlen(one));
    texts_append(&p, "x", 1);
    texts_append(&p, (const char *)vec, sizeof vec);
    CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
    buf_free(&p);
    /* Nothing changed. */
    CHECK_INT(listed(s, "chunks"), ==, 8);
    buf_t out = BUF_INIT;
    store_collection_files(s, "demo", &out, err, sizeof err);
    CHECK(out.data && strstr(out.data, "\"h-utils\"") && !strstr(out.data, "h-bad"));
    buf_free(&out);

    /* Invalid UTF-8 in a chunk's text is stored as '?', so replies stay JSON. */
    chunk_def_t latin = {1, 1, "[\"caf\"]", "[]", "caf\xe9 = 1\n", 9};
    CHECK_INT(put(s, "latin.py", "h", NULL, 0, &latin, 1), ==, 0);

    /* Queries: a vector of the wrong size, a NaN, an unknown collection. */
    float q[DIM + 1] = {1};
    search_query_t bad = {.collection = "demo", .vector = q, .vector_bytes = sizeof q, .limit = 4};
    out = (buf_t)BUF_INIT;
    size_t count;
    CHECK_INT(search_run(s, &bad, &out, &count, err, sizeof err), ==, -EINVAL);
    q[0] = NAN;
    bad.vector_bytes = DIM * sizeof(float);
    CHECK_INT(search_run(s, &bad, &out, &count, err, sizeof err), ==, -EINVAL);
    bad.collection = "nope";
    CHECK_INT(search_run(s, &bad, &out, &count, err, sizeof err), ==, -ENOENT);
    buf_free(&out);
    cleanup(&s);
}

TEST(a_path_of_another_shard_is_refused) {
    fresh_dir();
    store_t *s = open_store(1, 2);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 2, NULL) == 0);
    char path[32];
    int i = 0;
    do
        snprintf(path, sizeof path, "f%d.py", i++);
    while (shard_of(path, strlen(path), 2) != 0);
    CHECK_INT(put(s, path, "h", NULL, 0, HELPERS, 1), ==, -EINVAL);
    CHECK(strstr(err, "belongs to shard 0 of 2") != NULL);
    do
        snprintf(path, sizeof path, "f%d.py", i++);
    while (shard_of(path, strlen(path), 2) != 1);
    CHECK_INT(put(s, path, "h", NULL, 0, HELPERS, 1), ==, 0);
    cleanup(&s);
}

/* A path "f<n>.py" with the given shards under the old and the new
 * placement (of 2 shards). */
static void path_placed(char *path, size_t cap, int old_shard, int new_shard) {
    int i = 0;
    do
        snprintf(path, cap, "f%d.py", i++);
    while (shard_of_placement(SHARD_PLACEMENT_FNV1A, path, strlen(path), 2) != old_shard ||
           shard_of_placement(SHARD_PLACEMENT_MIXED, path, strlen(path), 2) != new_shard);
}

/* The placement collection `name` reports in the store's listing; -1: none. */
static int listed_placement(store_t *s, const char *name) {
    buf_t out = BUF_INIT;
    store_collections_list(s, &out, err, sizeof err);
    cJSON *j = cJSON_ParseWithLength(out.data, out.len);
    buf_free(&out);
    int placement = -1;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "collections")) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), name) == 0)
            placement = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "placement"));
    }
    cJSON_Delete(j);
    return placement;
}

TEST(a_collection_keeps_its_placement_and_puts_are_checked_against_it) {
    fresh_dir();
    store_t *s = open_store(0, 2);
    REQUIRE(s);
    store_collection_spec_t old = {"demo", "/repo", "builtin", DIM, 2, SHARD_PLACEMENT_FNV1A};
    store_ensured_t out;
    REQUIRE(store_collection_ensure(s, &old, &out, err, sizeof err) == 0);
    CHECK(out.created);
    CHECK_INT(out.placement, ==, SHARD_PLACEMENT_FNV1A);
    /* Asking for the new placement does not change an existing collection. */
    store_collection_spec_t now = old;
    now.placement = 0;
    REQUIRE(store_collection_ensure(s, &now, &out, err, sizeof err) == 0);
    CHECK(!out.created);
    CHECK_INT(out.placement, ==, SHARD_PLACEMENT_FNV1A);
    CHECK_INT(listed_placement(s, "demo"), ==, SHARD_PLACEMENT_FNV1A);
    char ours_before[32], ours_now[32];
    path_placed(ours_before, sizeof ours_before, 0, 1);
    path_placed(ours_now, sizeof ours_now, 1, 0);
    CHECK_INT(put(s, ours_before, "h", NULL, 0, HELPERS, 1), ==, 0);
    CHECK_INT(put(s, ours_now, "h", NULL, 0, HELPERS, 1), ==, -EINVAL);
    CHECK(strstr(err, "belongs to shard 1 of 2") != NULL);
    /* Dropped and made again, it takes the placement asked for. */
    REQUIRE(store_collection_drop(s, "demo", err, sizeof err) == 0);
    REQUIRE(store_collection_ensure(s, &now, &out, err, sizeof err) == 0);
    CHECK(out.created);
    CHECK_INT(out.placement, ==, SHARD_PLACEMENT);
    CHECK_INT(put(s, ours_now, "h", NULL, 0, HELPERS, 1), ==, 0);
    CHECK_INT(put(s, ours_before, "h", NULL, 0, HELPERS, 1), ==, -EINVAL);
    now.placement = 3;
    CHECK_INT(store_collection_ensure(s, &now, &out, err, sizeof err), ==, -EINVAL);
    cleanup(&s);
}

TEST(a_shard_file_from_before_placements_opens_with_the_old_one) {
    fresh_dir();
    store_t *s = open_store(0, 2);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 2, NULL) == 0);
    store_destroy(&s);
    /* What an older retriever wrote: no placement column. */
    char path[300];
    snprintf(path, sizeof path, "%s/shard-0.db", dir);
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "ALTER TABLE collections DROP COLUMN placement", NULL, NULL, NULL),
              ==, SQLITE_OK);
    sqlite3_close(db);
    s = open_store(0, 2);
    REQUIRE(s);
    CHECK_INT(listed_placement(s, "demo"), ==, SHARD_PLACEMENT_FNV1A);
    char ours_before[32];
    path_placed(ours_before, sizeof ours_before, 0, 1);
    CHECK_INT(put(s, ours_before, "h", NULL, 0, HELPERS, 1), ==, 0);
    store_destroy(&s);
    /* The column stays: reopening again changes nothing. */
    s = open_store(0, 2);
    REQUIRE(s);
    CHECK_INT(listed_placement(s, "demo"), ==, SHARD_PLACEMENT_FNV1A);
    cleanup(&s);
}

typedef struct {
    store_t *store;
    atomic_int *stop;
    int searches, failures;
} reader_arg_t;

static void *reader_main(void *arg) {
    reader_arg_t *r = arg;
    float q[DIM];
    unit_vector(q, 3);
    static const char *const syms[] = {"load_user"};
    while (!*r->stop) {
        search_query_t sq = {.collection = "demo",
                             .limit = 8,
                             .path = "src/app.py",
                             .query = "load user config",
                             .query_len = 16,
                             .symbols = syms,
                             .symbol_count = 1,
                             .object = "utils",
                             .vector = q,
                             .vector_bytes = sizeof q};
        buf_t out = BUF_INIT;
        size_t count;
        char e[256];
        int rc = search_run(r->store, &sq, &out, &count, e, sizeof e);
        cJSON *j = rc == 0 ? cJSON_ParseWithLength(out.data, out.len) : NULL;
        r->failures += rc != 0 || !j;
        cJSON_Delete(j);
        buf_free(&out);
        r->searches++;
    }
    return NULL;
}

TEST(searches_run_in_parallel_with_each_other_and_with_writes) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    atomic_int stop = 0;
    enum { READERS = 4 };
    reader_arg_t args[READERS];
    pthread_t threads[READERS];
    for (int i = 0; i < READERS; i++) {
        args[i] = (reader_arg_t){s, &stop, 0, 0};
        REQUIRE(pthread_create(&threads[i], NULL, reader_main, &args[i]) == 0);
    }
    static const char *const utils_imports[] = {"src/helpers.py"};
    for (int round = 0; round < 50; round++) {
        CHECK_INT(put(s, "src/utils.py", "h", utils_imports, 1, UTILS, 1 + round % 2), ==, 0);
        CHECK_INT(store_file_delete(s, "demo", "src/models.py", err, sizeof err), ==, 0);
        CHECK_INT(put(s, "src/models.py", "h", NULL, 0, MODELS, 2), ==, 0);
    }
    stop = 1;
    int searches = 0, failures = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(threads[i], NULL);
        searches += args[i].searches;
        failures += args[i].failures;
    }
    CHECK_INT(failures, ==, 0);
    CHECK_INT(searches, >, 0);
    CHECK_INT(listed(s, "chunks"), ==, 8);
    cleanup(&s);
}

/* The member signal: the cursor follows `x.` and the gateway knows what x
 * is.  A module's top-level definitions (not a class's methods), ranked by
 * how often the repository reaches them; a class's members by scope. */
TEST(members_of_a_module_and_of_a_class) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    /* app.py reached utils.load_user 5 times and parse_config once */
    static const store_ref_t app_refs[] = {
        {"src/utils.py", "load_user", 5}, {"src/utils.py", "parse_config", 1}, {"", "save", 7}};
    CHECK_INT(store_refs_put(s, "demo", "src/app.py", app_refs, 3, err, sizeof err), ==, 0);
    static const store_ref_t other_refs[] = {{"src/utils.py", "parse_config", 2}};
    CHECK_INT(store_refs_put(s, "demo", "lib/other.py", other_refs, 1, err, sizeof err), ==, 0);

    search_query_t q = {.path = "src/app.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "utils"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *load = find_chunk(chunks, "src/utils.py", 8);
    const cJSON *parse = find_chunk(chunks, "src/utils.py", 1);
    REQUIRE(load && parse);
    CHECK(signal(load, "member") == 1);
    CHECK(signal(load, "member_uses") == 5);
    CHECK(signal(parse, "member_uses") == 3); /* summed over the files that reach it */
    /* a Python module's imports are its attributes: what utils imports
     * from helpers is reachable as utils.x, weaker than its own */
    const cJSON *helper = find_chunk(chunks, "src/helpers.py", 1);
    CHECK(helper && fabs(signal(helper, "member") - 0.6) < 1e-9);
    cJSON_Delete(root);

    /* what is typed, and what the suffix names, tell the members apart */
    static const char *const hints[] = {"parseconfig"};
    q.member.partial = "lo";
    q.member.hints = hints;
    q.member.hint_count = 1;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 8), "member_partial") == 1);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 1), "member_partial") == -1);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 1), "member_hint") == 1);
    cJSON_Delete(root);

    /* a class: User's members by scope, with how often any receiver
     * reaches a member of that name */
    search_query_t c = {.path = "src/app.py",
                        .member = {.kind = SEARCH_MEMBER_CLASS, .type = "User"}};
    chunks = search(s, &c, &root);
    REQUIRE(chunks);
    const cJSON *save = find_chunk(chunks, "src/models.py", 5);
    REQUIRE(save);
    CHECK(signal(save, "member") == 1);
    CHECK(signal(save, "member_uses") == 7);
    cJSON_Delete(root);

    /* the references go with the file that made them */
    CHECK_INT(store_imports_delete(s, "demo", "src/app.py", err, sizeof err), ==, 0);
    q.member.partial = NULL;
    chunks = search(s, &q, &root);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 8), "member_uses") == 0);
    cJSON_Delete(root);
    /* bad references are refused whole */
    static const store_ref_t bad[] = {{"src/utils.py", "", 1}};
    CHECK_INT(store_refs_put(s, "demo", "x.py", bad, 1, err, sizeof err), ==, -EINVAL);
    cleanup(&s);
}

/* Rust module paths: super:: and self:: from the current file's module (a
 * mod.rs is its directory's), crate:: and a crate's own name by the path's
 * tail when the file's imports do not name it.  A module's directory
 * counts whole: its mod.rs mostly re-exports what its files define. */
TEST(members_of_rust_module_paths) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t RT[] = {
        {1, 3, "[\"spawn\"]", "[]", "pub fn spawn() {}\n", 1},
    };
    static const chunk_def_t TASK[] = {
        {1, 3, "[\"join\"]", "[]", "pub fn join() {}\n", 2},
    };
    static const chunk_def_t TOP[] = {
        {1, 3, "[\"block_on\"]", "[]", "pub fn block_on() {}\n", 3},
    };
    REQUIRE(put(s, "src/rt/mod.rs", "h1", NULL, 0, RT, 1) == 0 &&
            put(s, "src/rt/task.rs", "h2", NULL, 0, TASK, 1) == 0 &&
            put(s, "src/lib.rs", "h3", NULL, 0, TOP, 1) == 0);
    static const struct {
        const char *path, *module, *want; /* the member files, "|"-joined */
    } cases[] = {
        {"src/rt/task.rs", "super", "src/rt/mod.rs"},      /* rt::task's parent, rt */
        {"src/rt/task.rs", "self", ""},                    /* itself: never its own member */
        {"src/rt/mod.rs", "self::task", "src/rt/task.rs"}, /* mod.rs is rt itself */
        {"src/rt/mod.rs", "super", "src/lib.rs"},          /* and its parent the crate */
        {"src/rt/task.rs", "crate", "src/lib.rs"},
        {"src/lib.rs", "self::rt", "src/rt/mod.rs|src/rt/task.rs"},
        {"tests/it.rs", "crate::rt::task", "src/rt/task.rs"},
        {"tests/it.rs", "mycrate::rt", "src/rt/mod.rs|src/rt/task.rs"}, /* a crate's name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        search_query_t q = {.path = cases[i].path,
                            .member = {.kind = SEARCH_MEMBER_MODULE, .module = cases[i].module}};
        cJSON *root;
        const cJSON *chunks = search(s, &q, &root);
        REQUIRE(chunks);
        char got[256] = "";
        size_t n = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, chunks) {
            if (!isnan(signal(c, "member")) && n < sizeof got)
                n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "|" : "",
                                      cJSON_GetObjectItem(c, "path")->valuestring);
        }
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "  %s from %s:\n", cases[i].module, cases[i].path);
        CHECK_STR(got, cases[i].want);
        cJSON_Delete(root);
    }
    cleanup(&s);
}

/* Go: an import path is the go.mod module's path and then the directory,
 * so a file the current one imports is named by a path that ends with its
 * directory; and a bare name's members (module ".") are the other files
 * of the current file's package, ranked by how many chunks use each name
 * (written unqualified, they are not in the reference index). */
static int compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

TEST(members_of_go_packages) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t ENC[] = {
        {1, 3, "[\"Encode\"]", "[]", "func Encode() {}\n", 1},
        {5, 7, "[\"Store.Get\"]", "[]", "func (s *Store) Get() {}\n", 6}};
    static const chunk_def_t DEC[] = {
        {1, 3, "[\"Decode\"]", "[]", "func Decode() {}\n", 2},
        {5, 7, "[\"Open\"]", "[]", "func Open(p string) (*Store, error) {\n}\n", 7}};
    static const chunk_def_t MAIN[] = {
        {1, 3, "[\"main\"]", "[\"Decode\",\"helper\"]", "func main() {}\n", 3},
        {5, 7, "[\"run\"]", "[\"Decode\"]", "func run() {}\n", 4}};
    static const chunk_def_t HELP[] = {{1, 3, "[\"helper\"]", "[]", "func helper() {}\n", 5}};
    static const char *const main_imports[] = {"cmd/help.go", "format/config/decoder.go",
                                               "format/config/encoder.go"};
    static const char *const help_imports[] = {"cmd/main.go"};
    REQUIRE(put(s, "format/config/encoder.go", "h1", NULL, 0, ENC, 2) == 0 &&
            put(s, "format/config/decoder.go", "h2", NULL, 0, DEC, 2) == 0 &&
            put(s, "cmd/main.go", "h3", main_imports, 3, MAIN, 2) == 0 &&
            put(s, "cmd/help.go", "h4", help_imports, 1, HELP, 1) == 0);
    static const struct {
        const char *path, *module, *want; /* the member files, "|"-joined */
    } cases[] = {
        {"cmd/main.go", "github.com/x/y/v5/format/config",
         "format/config/decoder.go|format/config/decoder.go|format/config/encoder.go"},
        {"cmd/main.go", "github.com/x/y/v5/format", ""}, /* a parent directory is not it */
        {"cmd/main.go", ".", "cmd/help.go"},             /* its own package */
        {"cmd/help.go", ".", "cmd/main.go|cmd/main.go"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        search_query_t q = {.path = cases[i].path,
                            .member = {.kind = SEARCH_MEMBER_MODULE, .module = cases[i].module}};
        cJSON *root;
        const cJSON *chunks = search(s, &q, &root);
        REQUIRE(chunks);
        const char *paths[8];
        size_t np = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, chunks) {
            if (!isnan(signal(c, "member")) && np < 8)
                paths[np++] = cJSON_GetObjectItem(c, "path")->valuestring;
        }
        qsort(paths, np, sizeof *paths, compare_strings); /* in path order, not rank */
        char got[256] = "";
        size_t n = 0;
        for (size_t k = 0; k < np && n < sizeof got; k++)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", k ? "|" : "", paths[k]);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "  %s from %s:\n", cases[i].module, cases[i].path);
        CHECK_STR(got, cases[i].want);
        cJSON_Delete(root);
    }
    /* helper is used by one chunk of the package, unqualified */
    search_query_t q = {.path = "cmd/main.go",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "."}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "cmd/help.go", 1), "member_uses") == 1);
    cJSON_Delete(root);
    /* `st, err := config.Open(p)` then `st.`: Open's definition says a Store */
    search_query_t v = {.path = "cmd/main.go",
                        .member = {.kind = SEARCH_MEMBER_CLASS,
                                   .module = "github.com/x/y/v5/format/config",
                                   .call = "Open"}};
    chunks = search(s, &v, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "format/config/encoder.go", 5), "member") == 1);
    cJSON_Delete(root);
    v.member.call = "Decode"; /* returns nothing: no members, and no crash */
    chunks = search(s, &v, &root);
    REQUIRE(chunks);
    CHECK(isnan(signal(find_chunk(chunks, "format/config/encoder.go", 5), "member")));
    cJSON_Delete(root);
    cleanup(&s);
}

/* `import pkg as p` then `p.`: pkg/__init__.py re-exports pkg/sub (a
 * package) which re-exports pkg/sub/deep.py; what the repository reaches
 * as p.x is found first, however many other names the packages hold. */
TEST(members_reexported_through_packages) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t DEEP[] = {
        {1, 3, "[\"path_graph\"]", "[]", "def path_graph(n):\n    pass\n", 1}};
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 2}};
    static const chunk_def_t APP[] = {{1, 2, "[\"main\"]", "[]", "def main():\n    pass\n", 3}};
    static const char *const top[] = {"pkg/sub/__init__.py"};
    static const char *const sub[] = {"pkg/sub/deep.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/sub/deep.py", "h1", NULL, 0, DEEP, 1) == 0 &&
            put(s, "pkg/sub/__init__.py", "h2", sub, 1, INIT, 1) == 0 &&
            put(s, "pkg/__init__.py", "h3", top, 1, INIT, 1) == 0 &&
            put(s, "app.py", "h4", app, 1, APP, 1) == 0);
    static const store_ref_t refs[] = {{"pkg/__init__.py", "path_graph", 3}};
    CHECK_INT(store_refs_put(s, "demo", "app.py", refs, 1, err, sizeof err), ==, 0);
    search_query_t q = {.path = "app.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *deep = find_chunk(chunks, "pkg/sub/deep.py", 1);
    REQUIRE(deep);
    CHECK(fabs(signal(deep, "member") - 0.6) < 1e-9);
    CHECK(signal(deep, "member_uses") == 3);
    cJSON_Delete(root);
    cleanup(&s);
}

TEST_MAIN(TEST_CASE(ensure_creates_verifies_and_rejects_a_mismatch),
          TEST_CASE(a_new_index_is_closed_to_other_users),
          TEST_CASE(put_replace_and_delete_keep_counts),
          TEST_CASE(each_signal_finds_its_chunk_and_the_current_file_is_excluded),
          TEST_CASE(import_graph_is_replicated_and_counts_in_degree),
          TEST_CASE(reopening_loads_vectors_and_rows),
          TEST_CASE(hundred_rounds_of_delete_and_re_add_do_not_grow),
          TEST_CASE(malformed_writes_and_queries_are_rejected_without_effect),
          TEST_CASE(a_path_of_another_shard_is_refused),
          TEST_CASE(a_collection_keeps_its_placement_and_puts_are_checked_against_it),
          TEST_CASE(a_shard_file_from_before_placements_opens_with_the_old_one),
          TEST_CASE(searches_run_in_parallel_with_each_other_and_with_writes),
          TEST_CASE(members_of_a_module_and_of_a_class), TEST_CASE(members_of_rust_module_paths),
          TEST_CASE(members_of_go_packages), TEST_CASE(members_reexported_through_packages))
