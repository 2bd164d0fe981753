/*
 * Tests of retriever/search on the corpus of tests/unit/retriever_corpus.h
 * (a shard in a temporary directory): each signal finds its chunk and the
 * current file is never returned, the replicated import graph and
 * in-degree, the fused order, members of modules (Python, Rust, Go, through
 * packages) and of classes and their bases, searches in parallel with
 * writes, and rejection of malformed queries.
 */
#include "tests/unit/retriever_corpus.h"
#include "tests/test.h"

#include <pthread.h>
#include <stdatomic.h>

static bool has_path(const cJSON *chunks, const char *path) {
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "path")->valuestring, path) == 0)
            return true;
    }
    return false;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The files of the chunks the member signal offers when the cursor in
 * `path` follows a member of `module`, "|"-joined into got: in rank order,
 * or in path order when sorted.  False when the search fails. */
static bool member_files(store_t *s, const char *path, const char *module, bool sorted, char *got,
                         size_t cap) {
    search_query_t q = {.path = path, .member = {.kind = SEARCH_MEMBER_MODULE, .module = module}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    got[0] = '\0';
    if (!chunks) {
        cJSON_Delete(root);
        return false;
    }
    const char *paths[16];
    size_t np = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        if (!isnan(signal(c, "member")) && np < sizeof paths / sizeof paths[0])
            paths[np++] = cJSON_GetObjectItem(c, "path")->valuestring;
    }
    if (sorted)
        qsort(paths, np, sizeof *paths, compare_strings);
    size_t n = 0;
    for (size_t k = 0; k < np && n < cap; k++)
        n += (size_t)snprintf(got + n, cap - n, "%s%s", k ? "|" : "", paths[k]);
    cJSON_Delete(root);
    return true;
}

/* ---- tests ---- */

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

TEST(malformed_queries_are_rejected) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    /* Queries: a vector of the wrong size, a NaN, an unknown collection. */
    float q[DIM + 1] = {1};
    search_query_t bad = {.collection = "demo", .vector = q, .vector_bytes = sizeof q, .limit = 4};
    buf_t out = BUF_INIT;
    size_t count;
    CHECK_INT(search_run(s, &bad, &out, &count, err, sizeof err), ==, -EINVAL);
    q[0] = NAN;
    bad.vector_bytes = DIM * sizeof(float);
    CHECK_INT(search_run(s, &bad, &out, &count, err, sizeof err), ==, -EINVAL);
    bad.collection = "nope";
    CHECK_INT(search_run(s, &bad, &out, &count, err, sizeof err), ==, -ENOENT);
    /* No candidates at all asked for. */
    search_query_t none = {.collection = "demo", .path = "src/app.py", .limit = 0};
    CHECK_INT(search_run(s, &none, &out, &count, err, sizeof err), ==, -EINVAL);
    CHECK(strstr(err, "\"limit\" must be at least 1") != NULL);
    CHECK_INT(out.len, ==, 0);
    buf_free(&out);
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

    /* the words of the cursor's line: half of parse_config's sub-words,
     * an abbreviation of 4 letters or more counting either way (`conf`,
     * `parsed`); 3 letters do not (`cfg`) */
    static const char *const conf[] = {"conf", "zzz"}, *const cfg[] = {"cfg", "parsed"};
    q.member.partial = NULL;
    q.member.hints = NULL;
    q.member.hint_count = 0;
    q.member.line_words = conf;
    q.member.line_word_count = 2;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "src/utils.py", 1), "member_line") - 0.5) < 1e-9);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 8), "member_line") == 0);
    cJSON_Delete(root);
    q.member.line_words = cfg;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "src/utils.py", 1), "member_line") - 0.5) < 1e-9);
    cJSON_Delete(root);
    q.member.line_words = cfg;
    q.member.line_word_count = 1;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 1), "member_line") == 0);
    cJSON_Delete(root);
    /* the line passes what load_user(uid) takes, nothing parse_config(path) does */
    static const char *const args[] = {"uid", "user"};
    q.member.line_words = args;
    q.member.line_word_count = 2;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 8), "member_params") == 1);
    CHECK(signal(find_chunk(chunks, "src/utils.py", 1), "member_params") == 0);
    cJSON_Delete(root);
    q.member.line_words = NULL;
    q.member.line_word_count = 0;

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

    /* `from models import User` then `User.`: a class of the module, its
     * members; a lower-case name so imported is a module, not a class */
    search_query_t imported = {
        .path = "src/app.py",
        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "models", .member_of = "User"}};
    chunks = search(s, &imported, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/models.py", 5), "member") == 1);
    cJSON_Delete(root);
    static const chunk_def_t TRACE[] = {
        {1, 3, "[\"task\",\"task.name\"]", "[]", "def task(name):\n    task.name = name\n", 9}};
    REQUIRE(put(s, "src/trace.py", "h-trace", NULL, 0, TRACE, 1) == 0);
    imported.member.member_of = "task";
    chunks = search(s, &imported, &root);
    REQUIRE(chunks);
    const cJSON *lower = find_chunk(chunks, "src/trace.py", 1);
    CHECK(!lower || isnan(signal(lower, "member")));
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
        char got[256];
        REQUIRE(member_files(s, cases[i].path, cases[i].module, false, got, sizeof got));
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "  %s from %s:\n", cases[i].module, cases[i].path);
        CHECK_STR(got, cases[i].want);
    }
    cleanup(&s);
}

/* A member the language keeps from the current file is none of its
 * candidates: a Go name that starts lower-case from another package, a
 * Rust item without `pub` outside its module, a `pub(crate)` one outside
 * its crate (tests/ is a crate of its own). */
TEST(members_the_language_hides_are_not_offered) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t RT[] = {
        {1, 3, "[\"spawn\"]", "[]", "pub fn spawn() {}\n", 1},
        {5, 7, "[\"enter\"]", "[]", "#[inline]\npub(crate) fn enter() {}\n", 2},
        {9, 11, "[\"inner\"]", "[]", "fn inner() {}\n", 3},
    };
    static const chunk_def_t TASK[] = {{1, 3, "[\"join\"]", "[]", "pub fn join() {}\n", 4}};
    static const chunk_def_t ENC[] = {{1, 3, "[\"Encode\"]", "[]", "func Encode() {}\n", 5},
                                      {5, 7, "[\"encodeOne\"]", "[]", "func encodeOne() {}\n", 6}};
    static const chunk_def_t ENC_TEST[] = {
        {1, 3, "[\"TestEncode\"]", "[]", "func TestEncode(t *testing.T) {}\n", 7}};
    static const chunk_def_t MAIN[] = {{1, 3, "[\"main\"]", "[]", "func main() {}\n", 8}};
    static const char *const main_imports[] = {"format/encoder.go"};
    REQUIRE(put(s, "cmd/main.go", "h5", main_imports, 1, MAIN, 1) == 0);
    REQUIRE(put(s, "src/rt/mod.rs", "h1", NULL, 0, RT, 3) == 0 &&
            put(s, "src/rt/task.rs", "h2", NULL, 0, TASK, 1) == 0 &&
            put(s, "format/encoder.go", "h3", NULL, 0, ENC, 2) == 0 &&
            put(s, "format/encoder_test.go", "h4", NULL, 0, ENC_TEST, 1) == 0);
    static const struct {
        const char *path, *module;
        int line; /* of src/rt/mod.rs's or format/encoder.go's chunk */
        bool offered;
    } cases[] = {
        {"tests/it.rs", "mycrate::rt", 1, true},
        {"tests/it.rs", "mycrate::rt", 5, false}, /* pub(crate), from another crate */
        {"tests/it.rs", "mycrate::rt", 9, false},
        {"src/lib.rs", "self::rt", 5, true},  /* pub(crate), in its crate */
        {"src/lib.rs", "self::rt", 9, false}, /* private to rt */
        {"src/rt/task.rs", "super", 9, true}, /* a module inside rt sees it */
        {"cmd/main.go", "github.com/x/y/format", 1, true},
        {"cmd/main.go", "github.com/x/y/format", 5, false},
        {"format/encoder_test.go", ".", 5, true}, /* its own package */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        search_query_t q = {.path = cases[i].path,
                            .member = {.kind = SEARCH_MEMBER_MODULE, .module = cases[i].module}};
        cJSON *root;
        const cJSON *chunks = search(s, &q, &root);
        REQUIRE(chunks);
        const char *file = strstr(cases[i].module, "format") || !strcmp(cases[i].module, ".")
                               ? "format/encoder.go"
                               : "src/rt/mod.rs";
        const cJSON *c = find_chunk(chunks, file, cases[i].line);
        bool offered = c && !isnan(signal(c, "member"));
        if (offered != cases[i].offered)
            fprintf(stderr, "  %s:%d from %s\n", file, cases[i].line, cases[i].path);
        CHECK(offered == cases[i].offered);
        cJSON_Delete(root);
    }
    cleanup(&s);
}

/* Go: an import path is the go.mod module's path and then the directory,
 * so a file the current one imports is named by a path that ends with its
 * directory; and a bare name's members (module ".") are the other files
 * of the current file's package, ranked by how many chunks use each name
 * (written unqualified, they are not in the reference index). */
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
    static const chunk_def_t ROOT[] = {{1, 3, "[\"Clone\"]", "[]", "func Clone() {}\n", 8}};
    static const char *const main_imports[] = {"cmd/help.go", "format/config/decoder.go",
                                               "format/config/encoder.go", "repo.go"};
    static const char *const help_imports[] = {"cmd/main.go"};
    static const char *const enc_imports[] = {"format/config.go"};
    static const chunk_def_t NAMED[] = {{1, 3, "[\"Load\"]", "[]", "func Load() {}\n", 9}};
    REQUIRE(put(s, "format/config.go", "h6", NULL, 0, NAMED, 1) == 0 &&
            put(s, "format/config/encoder.go", "h1", enc_imports, 1, ENC, 2) == 0 &&
            put(s, "format/config/decoder.go", "h2", NULL, 0, DEC, 2) == 0 &&
            put(s, "cmd/main.go", "h3", main_imports, 4, MAIN, 2) == 0 &&
            put(s, "cmd/help.go", "h4", help_imports, 1, HELP, 1) == 0 &&
            put(s, "repo.go", "h5", NULL, 0, ROOT, 1) == 0);
    static const struct {
        const char *path, *module, *want; /* the member files, "|"-joined */
    } cases[] = {
        {"cmd/main.go", "github.com/x/y/v5/format/config",
         "format/config/decoder.go|format/config/decoder.go|format/config/encoder.go"},
        {"cmd/main.go", "github.com/x/y/v5/format", ""}, /* a parent directory is not it */
        /* the module's own path: its root package, which no tail spells */
        {"cmd/main.go", "github.com/x/y/v5", "repo.go"},
        {"cmd/main.go", "github.com/x/y", "repo.go"},
        {"cmd/main.go", "github.com/x/y/v5/format/gone", ""}, /* under a directory: not it */
        {"cmd/main.go", "golang.org/x/text", "repo.go"},
        {"cmd/main.go", ".", "cmd/help.go"}, /* its own package */
        {"cmd/help.go", ".", "cmd/main.go|cmd/main.go"},
        /* format/config.go, which it imports, is package format's */
        {"format/config/encoder.go", ".", "format/config/decoder.go|format/config/decoder.go"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[256];
        /* in path order, not rank */
        REQUIRE(member_files(s, cases[i].path, cases[i].module, true, got, sizeof got));
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "  %s from %s:\n", cases[i].module, cases[i].path);
        CHECK_STR(got, cases[i].want);
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

/* Java's classes of one package at a type's place (`throws ⟨`): each is
 * ranked by how many chunks write it after that keyword; a class whose
 * chunk also holds its constructor (`Oops.Oops`) is still the class. */
TEST(a_type_place_ranks_the_packages_classes_by_that_place) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t OOPS[] = {
        {3, 9, "[\"Oops\",\"Oops.Oops\",\"Oops.why\"]", "[]",
         "class Oops extends Exception {\n  Oops(String m) { super(m); }\n}\n", 1}};
    static const chunk_def_t NODE[] = {{3, 5, "[\"Node\"]", "[]", "class Node {\n}\n", 2}};
    static const chunk_def_t USE[] = {
        {3, 4, "[\"A.f\"]", "[]", "void f() throws Oops { }\n", 3},
        {5, 6, "[\"A.g\"]", "[]", "void g() throws Oops { new Node(); }\n", 4},
        {7, 8, "[\"A.h\"]", "[]", "void h() { new Node(); new Node(); }\n", 5},
        {9, 10, "[\"A.k\"]", "[]", "void k() { Node n = new Node(); }\n", 6},
        {11, 12, "[\"getNode\",\"A.getNode\"]", "[]", "  public Node getNode() { return n; }\n",
         9}};
    static const chunk_def_t FAULT[] = {
        {2, 4, "[\"Fault\"]", "[]", "public class Fault extends Exception {\n}\n", 7}};
    static const chunk_def_t THROWER[] = {
        {3, 4, "[\"T.f\"]", "[]", "void f() throws Fault { }\n", 8}};
    REQUIRE(put(s, "p/Oops.java", "h1", NULL, 0, OOPS, 1) == 0 &&
            put(s, "p/Node.java", "h2", NULL, 0, NODE, 1) == 0 &&
            put(s, "p/A.java", "h3", NULL, 0, USE, 5) == 0 &&
            put(s, "q/Fault.java", "h4", NULL, 0, FAULT, 1) == 0 &&
            put(s, "r/T.java", "h5", NULL, 0, THROWER, 1) == 0);
    search_query_t q = {.path = "p/B.java",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = ".", .after = "throws"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *oops = find_chunk(chunks, "p/Oops.java", 3);
    const cJSON *node = find_chunk(chunks, "p/Node.java", 3);
    REQUIRE(oops && node);
    CHECK(signal(oops, "member") > 0 && signal(node, "member") > 0);
    CHECK(signal(oops, "member_uses") == 2 && signal(node, "member_uses") == 0);
    CHECK(isnan(signal(find_chunk(chunks, "q/Fault.java", 2), "member"))); /* another package */
    cJSON_Delete(root);
    /* a class the code around names (an import) joins them, by the same count */
    static const char *const near[] = {"Fault", "helper", "Missing"};
    q.symbols = near;
    q.symbol_count = 3;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *fault = find_chunk(chunks, "q/Fault.java", 2);
    REQUIRE(fault);
    CHECK(signal(fault, "member") == 1 && signal(fault, "member_uses") == 1);
    cJSON_Delete(root);
    q.symbols = NULL;
    q.symbol_count = 0;
    q.member.after = "new";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "p/Node.java", 3), "member_uses") == 3);
    CHECK(signal(find_chunk(chunks, "p/Oops.java", 3), "member_uses") == 0);
    cJSON_Delete(root);
    /* a parameter's place has no keyword: the chunks that write the class */
    q.member.after = "(";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "p/Node.java", 3), "member_uses") == 5);
    CHECK(signal(find_chunk(chunks, "p/Oops.java", 3), "member_uses") == 3);
    CHECK(!cJSON_GetObjectItemCaseSensitive(root, "returns"));
    cJSON_Delete(root);
    /* `⟨ n = a.getNode();`: the class getNode's header says it returns is
     * the one the code around names, and the answer says which */
    q.member.call = "getNode";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "returns")), "Node");
    CHECK(signal(find_chunk(chunks, "p/Node.java", 3), "member_hint") == 1);
    CHECK(signal(find_chunk(chunks, "p/Oops.java", 3), "member_hint") == 0);
    cJSON_Delete(root);
    q.member.call = NULL;
    /* the class is a top-level definition: found by its name */
    static const char *const syms[] = {"Oops"};
    search_query_t byname = {.path = "p/B.java", .symbols = syms, .symbol_count = 1};
    chunks = search(s, &byname, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "p/Oops.java", 3), "symbol") == 1);
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
    static const chunk_def_t HELPER[] = {
        {1, 2, "[\"helper\"]", "[]", "def helper():\n    pass\n", 4}};
    static const char *const top[] = {"pkg/sub/__init__.py", "util/__init__.py"};
    static const char *const sub[] = {"pkg/sub/deep.py"};
    static const char *const util[] = {"util/helpers.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/sub/deep.py", "h1", NULL, 0, DEEP, 1) == 0 &&
            put(s, "pkg/sub/__init__.py", "h2", sub, 1, INIT, 1) == 0 &&
            put(s, "pkg/__init__.py", "h3", top, 2, INIT, 1) == 0 &&
            put(s, "util/__init__.py", "h5", util, 1, INIT, 1) == 0 &&
            put(s, "util/helpers.py", "h6", NULL, 0, HELPER, 1) == 0 &&
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
    CHECK(fabs(signal(deep, "member") - 1.0) < 1e-9); /* reached as the package's own */
    CHECK(signal(deep, "member_uses") == 3);
    /* a package elsewhere that pkg merely imports re-exports nothing for it */
    CHECK(isnan(signal(find_chunk(chunks, "util/helpers.py", 1), "member")));
    cJSON_Delete(root);
    cleanup(&s);
}

/* What the current file already uses of a module says which of its files
 * it is about: each member carries how many members of its file the
 * current file uses (`nx.bull_graph`, `nx.cube_graph`, then `nx.⟨`: the
 * rest of small.py), counted by name, not by use. */
TEST(a_members_file_counts_the_members_the_current_file_uses) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t SMALL[] = {
        {1, 2, "[\"house_graph\"]", "[]", "def house_graph():\n    pass\n", 1},
        {4, 5, "[\"bull_graph\"]", "[]", "def bull_graph():\n    pass\n", 2},
        {7, 8, "[\"cube_graph\"]", "[]", "def cube_graph():\n    pass\n", 3}};
    static const chunk_def_t MEASURES[] = {
        {1, 2, "[\"diameter\"]", "[]", "def diameter(g):\n    pass\n", 4},
        {4, 5, "[\"radius\"]", "[]", "def radius(g):\n    pass\n", 5}};
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 6}};
    static const char *const init[] = {"pkg/small.py", "pkg/measures.py"};
    static const char *const uses_pkg[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/small.py", "h1", NULL, 0, SMALL, 3) == 0 &&
            put(s, "pkg/measures.py", "h2", NULL, 0, MEASURES, 2) == 0 &&
            put(s, "pkg/__init__.py", "h3", init, 2, INIT, 1) == 0 &&
            put(s, "tests/test_small.py", "h4", uses_pkg, 1, INIT, 1) == 0 &&
            put(s, "app.py", "h5", uses_pkg, 1, INIT, 1) == 0);
    static const store_ref_t tests[] = {{"pkg/__init__.py", "bull_graph", 2},
                                        {"pkg/__init__.py", "cube_graph", 1},
                                        {"pkg/__init__.py", "diameter", 9}};
    static const store_ref_t app[] = {{"pkg/__init__.py", "diameter", 4}};
    CHECK_INT(store_refs_put(s, "demo", "tests/test_small.py", tests, 3, err, sizeof err), ==, 0);
    CHECK_INT(store_refs_put(s, "demo", "app.py", app, 1, err, sizeof err), ==, 0);
    search_query_t q = {.path = "tests/test_small.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "pkg/small.py", 1), "member_file") == 2);
    CHECK(signal(find_chunk(chunks, "pkg/small.py", 4), "member_file") == 2);
    CHECK(signal(find_chunk(chunks, "pkg/measures.py", 4), "member_file") == 1);
    CHECK(signal(find_chunk(chunks, "pkg/measures.py", 1), "member_uses") == 13);
    cJSON_Delete(root);
    q.path = "app.py"; /* uses only diameter: small.py's members carry nothing */
    REQUIRE((chunks = search(s, &q, &root)));
    CHECK(isnan(signal(find_chunk(chunks, "pkg/small.py", 1), "member_file")));
    CHECK(signal(find_chunk(chunks, "pkg/measures.py", 4), "member_file") == 1);
    cJSON_Delete(root);
    cleanup(&s);
}

/* `import pkg as p` then `p.`: of the names the repository reaches as
 * p.x, the most used are taken first when there are more than the member
 * search notes as the module's own (256), whatever their spelling. */
TEST(the_most_used_names_of_a_module_come_first) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    enum { NAMES = 300 };
    chunk_def_t *defs = calloc(NAMES + 1, sizeof *defs);
    store_ref_t *refs = calloc(NAMES + 1, sizeof *refs);
    char(*symbols)[32] = calloc(NAMES + 1, sizeof *symbols);
    char(*names)[16] = calloc(NAMES + 1, sizeof *names);
    REQUIRE(defs && refs && symbols && names);
    for (int i = 0; i <= NAMES; i++) {
        snprintf(names[i], sizeof names[i], i < NAMES ? "a%03d" : "zeta", i);
        snprintf(symbols[i], sizeof symbols[i], "[\"%s\"]", names[i]);
        defs[i] = (chunk_def_t){2 * i + 1, 2 * i + 1, symbols[i], "[]", "x = 1\n", i % DIM};
        refs[i] = (store_ref_t){"pkg/__init__.py", names[i], i < NAMES ? 1 : 5};
    }
    /* defined in pkg/impl.py, which pkg/__init__.py star-imports: reached
     * as the package's (1) only as names the repository uses as p.x */
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 1}};
    static const char *const init[] = {"pkg/impl.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/impl.py", "h1", NULL, 0, defs, NAMES + 1) == 0 &&
            put(s, "pkg/__init__.py", "h3", init, 1, INIT, 1) == 0 &&
            put(s, "app.py", "h2", app, 1, INIT, 1) == 0);
    CHECK_INT(store_refs_put(s, "demo", "app.py", refs, NAMES + 1, err, sizeof err), ==, 0);
    search_query_t q = {.path = "app.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *zeta = find_chunk(chunks, "pkg/impl.py", 2 * NAMES + 1);
    REQUIRE(zeta);
    CHECK(fabs(signal(zeta, "member") - 1.0) < 1e-9);
    CHECK(signal(zeta, "member_uses") == 5);
    cJSON_Delete(root);
    free(defs);
    free(refs);
    free(symbols);
    free(names);
    cleanup(&s);
}

/* ... except that the names the current file itself uses of the module
 * come before them all: a test's `nx.max_flow_min_cost`, used twice in the
 * whole repository, both times there. */
TEST(the_names_a_file_uses_of_a_module_come_first) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    enum { NAMES = 300 };
    chunk_def_t *defs = calloc(NAMES + 1, sizeof *defs);
    store_ref_t *refs = calloc(NAMES, sizeof *refs);
    char(*symbols)[32] = calloc(NAMES + 1, sizeof *symbols);
    char(*names)[16] = calloc(NAMES + 1, sizeof *names);
    REQUIRE(defs && refs && symbols && names);
    for (int i = 0; i <= NAMES; i++) {
        snprintf(names[i], sizeof names[i], i < NAMES ? "a%03d" : "mine", i);
        snprintf(symbols[i], sizeof symbols[i], "[\"%s\"]", names[i]);
        defs[i] = (chunk_def_t){2 * i + 1, 2 * i + 1, symbols[i], "[]", "x = 1\n", i % DIM};
        if (i < NAMES)
            refs[i] = (store_ref_t){"pkg/__init__.py", names[i], 2};
    }
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 1}};
    static const char *const init[] = {"pkg/impl.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/impl.py", "h1", NULL, 0, defs, NAMES + 1) == 0 &&
            put(s, "pkg/__init__.py", "h3", init, 1, INIT, 1) == 0 &&
            put(s, "other.py", "h4", app, 1, INIT, 1) == 0 &&
            put(s, "app.py", "h2", app, 1, INIT, 1) == 0);
    static const store_ref_t mine[] = {{"pkg/__init__.py", "mine", 1}};
    CHECK_INT(store_refs_put(s, "demo", "other.py", refs, NAMES, err, sizeof err), ==, 0);
    CHECK_INT(store_refs_put(s, "demo", "app.py", mine, 1, err, sizeof err), ==, 0);
    search_query_t q = {.path = "app.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *found = find_chunk(chunks, "pkg/impl.py", 2 * NAMES + 1);
    REQUIRE(found);
    CHECK(fabs(signal(found, "member") - 1.0) < 1e-9);
    cJSON_Delete(root);
    /* from a file that does not use it, it is the least used again, after
     * the cut: only a name of the package's star-imported file */
    q.path = "other.py";
    REQUIRE((chunks = search(s, &q, &root)));
    found = find_chunk(chunks, "pkg/impl.py", 2 * NAMES + 1);
    CHECK(!found || signal(found, "member") < 1.0);
    cJSON_Delete(root);
    free(defs);
    free(refs);
    free(symbols);
    free(names);
    cleanup(&s);
}

/* A package that imports a file for one name (`use mocks::spawn_blocking`)
 * does not make that file's other names its own: of the names the
 * repository uses as p.x, a mock's `metadata` is not p.metadata. */
TEST(a_file_reached_for_one_name_gives_no_other) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t REAL[] = {
        {1, 2, "[\"metadata\"]", "[]", "pub fn metadata() {\n}\n", 1}};
    static const chunk_def_t MOCK[] = {
        {1, 2, "[\"spawn_blocking\"]", "[]", "pub fn spawn_blocking() {\n}\n", 2},
        {4, 5, "[\"metadata\"]", "[]", "pub fn metadata(&self);\n", 3}};
    static const chunk_def_t INIT[] = {{1, 1, "[\"asyncify\"]", "[]", "fn asyncify() {}\n", 4}};
    static const char *const init[] = {"pkg/metadata.rs", "pkg/mocks.rs"};
    static const char *const app[] = {"pkg/mod.rs"};
    REQUIRE(put(s, "pkg/metadata.rs", "h1", NULL, 0, REAL, 1) == 0 &&
            put(s, "pkg/mocks.rs", "h2", NULL, 0, MOCK, 2) == 0 &&
            put(s, "pkg/mod.rs", "h3", init, 2, INIT, 1) == 0 &&
            put(s, "app.rs", "h4", app, 1, INIT, 1) == 0);
    static const store_ref_t reached[] = {{"pkg/metadata.rs", "metadata", 1},
                                          {"pkg/mocks.rs", "spawn_blocking", 1}};
    static const store_ref_t used[] = {{"pkg/mod.rs", "metadata", 4}};
    CHECK_INT(store_refs_put(s, "demo", "pkg/mod.rs", reached, 2, err, sizeof err), ==, 0);
    CHECK_INT(store_refs_put(s, "demo", "app.rs", used, 1, err, sizeof err), ==, 0);
    search_query_t q = {.path = "app.rs",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "pkg/metadata.rs", 1), "member") - 1.0) < 1e-9);
    const cJSON *mock = find_chunk(chunks, "pkg/mocks.rs", 4);
    CHECK(!mock || !(signal(mock, "member") >= 1.0)); /* below, or none */
    cJSON_Delete(root);
    cleanup(&s);
}

/* A package that names what it takes from a package elsewhere (tokio's
 * task/mod.rs: `pub use crate::runtime::task::{JoinError, JoinHandle}`)
 * offers those names from the files that one takes them from
 * (runtime/task/join.rs), and nothing else of it. */
TEST(a_package_reexporting_from_elsewhere_reaches_the_names_it_named) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 1}};
    static const chunk_def_t JOIN[] = {
        {1, 2, "[\"Handle\"]", "[]", "class Handle:\n    pass\n", 2}};
    static const chunk_def_t CORE[] = {{1, 2, "[\"Cell\"]", "[]", "class Cell:\n    pass\n", 3}};
    static const char *const pkg[] = {"other/sub/__init__.py"};
    static const char *const sub[] = {"other/sub/join.py", "other/sub/core.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "other/sub/join.py", "h1", NULL, 0, JOIN, 1) == 0 &&
            put(s, "other/sub/core.py", "h2", NULL, 0, CORE, 1) == 0 &&
            put(s, "other/sub/__init__.py", "h3", sub, 2, INIT, 1) == 0 &&
            put(s, "pkg/__init__.py", "h4", pkg, 1, INIT, 1) == 0 &&
            put(s, "app.py", "h5", app, 1, INIT, 1) == 0);
    static const store_ref_t named[] = {{"other/sub/__init__.py", "Handle", 1}};
    static const store_ref_t took[] = {{"other/sub/join.py", "Handle", 1},
                                       {"other/sub/core.py", "Cell", 1}};
    CHECK_INT(store_refs_put(s, "demo", "pkg/__init__.py", named, 1, err, sizeof err), ==, 0);
    CHECK_INT(store_refs_put(s, "demo", "other/sub/__init__.py", took, 2, err, sizeof err), ==, 0);
    search_query_t q = {.path = "app.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "other/sub/join.py", 1), "member") - 1.0) < 1e-9);
    const cJSON *cell = find_chunk(chunks, "other/sub/core.py", 1);
    CHECK(!cell || !(signal(cell, "member") > 0));
    cJSON_Delete(root);
    cleanup(&s);
}

/* In a function whose name spells a name defined in the package's tree
 * (a wrapper's `def goldberg_radzik(...)`, a test's `test_goldberg_radzik`
 * or `testFoo`), or in a statement outside any that sets such a name
 * (`goldberg_radzik = pkg.⟨`), that definition is a member even when no import reaches
 * its file; not one outside the tree, and not without the function. */
TEST(a_member_the_functions_name_spells_is_found_in_the_packages_tree) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 1}};
    static const chunk_def_t A[] = {{1, 2, "[\"alpha\"]", "[]", "def alpha():\n    pass\n", 2}};
    static const chunk_def_t DEEP[] = {
        {1, 2, "[\"goldberg_radzik\"]", "[]", "def goldberg_radzik(g):\n    pass\n", 3},
        {4, 5, "[\"foo\"]", "[]", "def foo():\n    pass\n", 4}};
    static const chunk_def_t OTHER[] = {
        {1, 2, "[\"goldberg_radzik\"]", "[]", "def goldberg_radzik(g):\n    pass\n", 5}};
    static const char *const init[] = {"pkg/a.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/a.py", "h1", NULL, 0, A, 1) == 0 &&
            put(s, "pkg/deep/weighted.py", "h2", NULL, 0, DEEP, 2) == 0 &&
            put(s, "other/weighted.py", "h3", NULL, 0, OTHER, 1) == 0 &&
            put(s, "pkg/__init__.py", "h4", init, 1, INIT, 1) == 0 &&
            put(s, "tests/test_w.py", "h5", app, 1, INIT, 1) == 0);
    /* and the name a statement sets outside any function: a re-export */
    static const char *const within[] = {"goldberg_radzik", "test_goldberg_radzik", "testFoo", NULL,
                                         NULL};
    static const char *const declared[] = {NULL, NULL, NULL, "goldberg_radzik", NULL};
    static const char *const wants[] = {"pkg/deep/weighted.py", "pkg/deep/weighted.py",
                                        "pkg/deep/weighted.py", "pkg/deep/weighted.py", NULL};
    static const int lines[] = {1, 1, 4, 1, 1};
    for (size_t i = 0; i < 5; i++) {
        search_query_t q = {.path = "tests/test_w.py",
                            .member = {.kind = SEARCH_MEMBER_MODULE,
                                       .module = "pkg",
                                       .within = within[i],
                                       .declared = declared[i]}};
        cJSON *root;
        const cJSON *chunks = search(s, &q, &root);
        REQUIRE(chunks);
        CHECK(signal(find_chunk(chunks, "pkg/a.py", 1), "member") > 0);
        const cJSON *deep = find_chunk(chunks, "pkg/deep/weighted.py", lines[i]);
        if (wants[i])
            CHECK(fabs(signal(deep, "member") - 0.6) < 1e-9);
        else
            CHECK(!deep || !(signal(deep, "member") > 0));
        const cJSON *other = find_chunk(chunks, "other/weighted.py", 1);
        CHECK(!other || !(signal(other, "member") > 0));
        cJSON_Delete(root);
    }
    cleanup(&s);
}

/* `from .impl import public` in a package's __init__.py (or `pub use
 * imp::public` in a mod.rs): of impl's names, those the package names are
 * its own members, the rest rank below them. */
TEST(names_a_package_imports_are_its_members) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t IMPL[] = {
        {1, 2, "[\"public\"]", "[]", "def public():\n    pass\n", 1},
        {4, 5, "[\"internal\"]", "[]", "def internal():\n    pass\n", 2}};
    static const chunk_def_t INIT[] = {{1, 1, "[\"VERSION\"]", "[]", "VERSION = 1\n", 3}};
    static const chunk_def_t APP[] = {{1, 2, "[\"main\"]", "[]", "def main():\n    pass\n", 4}};
    /* and a big module read before impl.py, more names than the member
     * search takes (MAX_MEMBER_CHUNKS): the named ones are taken first */
    enum { BIG = 600 };
    chunk_def_t *big = calloc(BIG, sizeof *big);
    char(*names)[32] = calloc(BIG, sizeof *names);
    REQUIRE(big && names);
    for (int i = 0; i < BIG; i++) {
        snprintf(names[i], sizeof names[i], "[\"name%d\"]", i);
        big[i] = (chunk_def_t){2 * i + 1, 2 * i + 1, names[i], "[]", "x = 1\n", i % DIM};
    }
    static const char *const init[] = {"pkg/aaa.py", "pkg/impl.py"};
    static const char *const app[] = {"pkg/__init__.py"};
    REQUIRE(put(s, "pkg/impl.py", "h1", NULL, 0, IMPL, 2) == 0 &&
            put(s, "pkg/aaa.py", "h4", NULL, 0, big, BIG) == 0 &&
            put(s, "pkg/__init__.py", "h2", init, 2, INIT, 1) == 0 &&
            put(s, "app.py", "h3", app, 1, APP, 1) == 0);
    free(big);
    free(names);
    static const store_ref_t named[] = {{"pkg/impl.py", "public", 1}};
    CHECK_INT(store_refs_put(s, "demo", "pkg/__init__.py", named, 1, err, sizeof err), ==, 0);
    search_query_t q = {.path = "app.py",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "pkg"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "pkg/impl.py", 1), "member") - 1.0) < 1e-9);
    cJSON_Delete(root);
    /* without the big module, the unnamed ones too, below */
    CHECK_INT(store_file_delete(s, "demo", "pkg/aaa.py", err, sizeof err), ==, 0);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "pkg/impl.py", 1), "member") - 1.0) < 1e-9);
    CHECK(fabs(signal(find_chunk(chunks, "pkg/impl.py", 4), "member") - 0.3) < 1e-9);
    cJSON_Delete(root);
    /* a package that names none of them (a star import): all alike */
    CHECK_INT(store_refs_put(s, "demo", "pkg/__init__.py", NULL, 0, err, sizeof err), ==, 0);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "pkg/impl.py", 1), "member") - 0.6) < 1e-9);
    CHECK(fabs(signal(find_chunk(chunks, "pkg/impl.py", 4), "member") - 0.6) < 1e-9);
    cJSON_Delete(root);
    cleanup(&s);
}

/* Nothing to go on (no file, text, identifiers, object or vector): an
 * empty list, still a JSON object. */
TEST(a_query_with_nothing_to_go_on_finds_nothing) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    search_query_t q = {.collection = "demo", .limit = 8};
    buf_t out = BUF_INIT;
    size_t count = 99;
    CHECK_INT(search_run(s, &q, &out, &count, err, sizeof err), ==, 0);
    CHECK_INT(count, ==, 0);
    CHECK(out.data && out.len == strlen("{\"chunks\":[]}") &&
          memcmp(out.data, "{\"chunks\":[]}", out.len) == 0);
    buf_free(&out);
    /* An identifier nobody defines and words nobody wrote: nothing either. */
    static const char *const unknown[] = {"never_defined_anywhere"};
    search_query_t u = {.path = "lib/other.py",
                        .query = "zyxxy qwrtp",
                        .query_len = 11,
                        .symbols = unknown,
                        .symbol_count = 1};
    cJSON *root;
    const cJSON *chunks = search(s, &u, &root);
    REQUIRE(chunks);
    CHECK_INT(cJSON_GetArraySize(chunks), ==, 0);
    cJSON_Delete(root);
    cleanup(&s);
}

/* Reciprocal-rank fusion: the chunk that defines the identifier, matches
 * the words and sits in an imported file comes first; a chunk only the
 * words find comes after it; no chunk comes twice. */
TEST(chunks_found_by_more_signals_rank_first) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    static const char *const syms[] = {"parse_config"};
    search_query_t q = {.path = "src/app.py",
                        .query = "cfg = parse_config(path)",
                        .query_len = 24,
                        .symbols = syms,
                        .symbol_count = 1};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks && cJSON_GetArraySize(chunks) >= 2);
    const cJSON *first = cJSON_GetArrayItem(chunks, 0);
    CHECK(first == find_chunk(chunks, "src/utils.py", 1));
    CHECK(signal(first, "symbol") == 1 && signal(first, "import") == 1 &&
          signal(first, "bm25") > 0);
    int at_utils = -1, at_other = -1, i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        const cJSON *d;
        int same = 0;
        cJSON_ArrayForEach(d, chunks) {
            same += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "id")) ==
                    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "id"));
        }
        CHECK_INT(same, ==, 1);
        if (c == first)
            at_utils = i;
        if (c == find_chunk(chunks, "lib/other.py", 1))
            at_other = i;
        i++;
    }
    CHECK_INT(at_other, >, at_utils);
    cJSON_Delete(root);
    cleanup(&s);
}

/* `admin.` where admin is an Admin(User): Admin's own members first (1),
 * then its base's (0.6); the class itself is no member of it, and what is
 * typed tells members apart. */
TEST(members_of_a_class_and_of_its_bases) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    static const chunk_def_t ADMIN[] = {
        {1, 2, "[\"Admin\"]", "[\"User\"]", "class Admin(User):\n    level = 1\n", 8},
        {3, 5, "[\"grant\",\"Admin.grant\"]", "[\"save\"]",
         "    def grant(self):\n        self.save()\n", 9},
    };
    static const char *const admin_imports[] = {"src/models.py"};
    REQUIRE(put(s, "src/admin.py", "h-admin", admin_imports, 1, ADMIN, 2) == 0);
    static const char *const bases[] = {"User"};
    search_query_t q = {
        .path = "src/app.py",
        .member = {.kind = SEARCH_MEMBER_CLASS, .type = "Admin", .bases = bases, .base_count = 1}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *grant = find_chunk(chunks, "src/admin.py", 3);
    const cJSON *save = find_chunk(chunks, "src/models.py", 5);
    REQUIRE(grant && save);
    CHECK(signal(grant, "member") == 1);
    CHECK(fabs(signal(save, "member") - 0.6) < 1e-9);
    CHECK(isnan(signal(find_chunk(chunks, "src/admin.py", 1), "member")));
    CHECK(isnan(signal(find_chunk(chunks, "src/models.py", 1), "member")));
    /* grant is the receiver's own class's, beside app.py: member_here */
    CHECK(signal(grant, "member_here") == 1);
    CHECK(isnan(signal(save, "member_here")));
    cJSON_Delete(root);
    q.path = "lib/app.py"; /* elsewhere: no member is beside it */
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(isnan(signal(find_chunk(chunks, "src/admin.py", 3), "member_here")));
    cJSON_Delete(root);
    q.member.module = "src.admin"; /* `x = src.admin.Admin()`: the module named */
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/admin.py", 3), "member_here") == 2);
    CHECK(isnan(signal(find_chunk(chunks, "src/models.py", 5), "member_here")));
    cJSON_Delete(root);
    q.member.module = NULL;
    q.path = "src/app.py";
    q.member.partial = "SA";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/models.py", 5), "member_partial") == 1);
    CHECK(signal(find_chunk(chunks, "src/admin.py", 3), "member_partial") == -1);
    cJSON_Delete(root);
    cleanup(&s);
}

/* The outline chunk of path in chunks, or NULL. */
static const cJSON *outline_of(const cJSON *chunks, const char *path) {
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c, "kind");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "path");
        if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "outline") && cJSON_IsString(p) &&
            !strcmp(p->valuestring, path))
            return c;
    }
    return NULL;
}

/* `leaf.` where leaf is a Leaf, with no bases given: the index's class
 * headers say Leaf(Mid) and Mid(Base), so Mid's members weigh 0.6 and
 * Base's 0.5.  Base's file holds three of them: an outline chunk (id 0)
 * shows their signatures, a parameter list over two lines included, in
 * line order, with the signals of the best of them; a file with one
 * member gets none, and what is typed, leaving fewer than four, none. */
TEST(a_class_lineage_from_the_index_and_its_outline) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    static const chunk_def_t BASE[] = {
        {1, 2, "[\"Base\"]", "[]", "class Base:\n    name = 'base'\n", 8},
        {3, 4, "[\"open\",\"Base.open\"]", "[]", "    def open(self):\n        pass\n", 9},
        {5, 8, "[\"flush\",\"Base.flush\"]", "[]",
         "    # flush: write it out\n    def flush(self,\n              force=False):\n"
         "        pass\n",
         10},
        {9, 10, "[\"close\",\"Base.close\"]", "[]", "    def close(self):\n        pass\n", 11},
    };
    static const chunk_def_t MID[] = {
        {1, 1, "[\"Mid\"]", "[\"Base\"]", "class Mid(base.Base):\n", 12},
        {2, 3, "[\"reset\",\"Mid.reset\"]", "[]", "    def reset(self):\n        pass\n", 13},
    };
    static const chunk_def_t LEAF[] = {
        {1, 1, "[\"Leaf\"]", "[\"Mid\"]", "class Leaf(Mid):\n", 14},
        {2, 3, "[\"grow\",\"Leaf.grow\"]", "[]", "    def grow(self):\n        pass\n", 15},
    };
    REQUIRE(put(s, "src/base.py", "h-base", NULL, 0, BASE, 4) == 0);
    REQUIRE(put(s, "src/mid.py", "h-mid", NULL, 0, MID, 2) == 0);
    REQUIRE(put(s, "src/leaf.py", "h-leaf", NULL, 0, LEAF, 2) == 0);
    search_query_t q = {.path = "src/app.py",
                        .member = {.kind = SEARCH_MEMBER_CLASS, .type = "Leaf"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/leaf.py", 2), "member") == 1);
    CHECK(fabs(signal(find_chunk(chunks, "src/mid.py", 2), "member") - 0.6) < 1e-9);
    CHECK(fabs(signal(find_chunk(chunks, "src/base.py", 3), "member") - 0.5) < 1e-9);
    CHECK(fabs(signal(find_chunk(chunks, "src/base.py", 9), "member") - 0.5) < 1e-9);
    const cJSON *outline = outline_of(chunks, "src/base.py");
    REQUIRE(outline);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(outline, "text")),
              "    def open(self):\n    def flush(self,\n              force=False):\n"
              "    def close(self):");
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(outline, "id")->valueint, ==, 0);
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(outline, "start_line")->valueint, ==, 3);
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(outline, "end_line")->valueint, ==, 9);
    CHECK(signal(outline, "outline") == 3);
    CHECK(fabs(signal(outline, "member") - 0.5) < 1e-9);
    CHECK(outline_of(chunks, "src/leaf.py") == NULL);
    CHECK(outline_of(chunks, "src/mid.py") == NULL);
    /* the classes whose members it offered, for the gateway to compare
     * across shards */
    const cJSON *lineage = cJSON_GetObjectItemCaseSensitive(root, "lineage");
    REQUIRE(cJSON_GetArraySize(lineage) == 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(lineage, 0)), "Leaf");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(lineage, 1)), "Mid");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(lineage, 2)), "Base");
    cJSON_Delete(root);
    q.member.partial = "fl";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(outline_of(chunks, "src/base.py") == NULL);
    cJSON_Delete(root);
    cleanup(&s);
}

/* A question in words finds the definitions its words make up: by stem
 * (`Removes` remove), by a word that extends a name's (`uninitialized`
 * uninit), by a word of the index that extends a stem (`Creates` create),
 * even where BM25 has nothing to match; a name a question leaves half
 * unsaid, or one of many names of a chunk, counts less. */
/* The name search looks for the question's own words first: names that
 * merely start with one (`FutureA`, df 1 each) must not crowd out `read`
 * and `exact` (df 3), or `read_exact` is never found. */
TEST(a_question_keeps_the_names_it_makes_best) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const char *const stems[] = {"Future", "Fill", "Buffer"};
    static char names[24][40], texts[24][24];
    chunk_def_t many[28];
    for (int i = 0; i < 24; i++) {
        snprintf(names[i], sizeof names[i], "[\"%s%c\"]", stems[i / 8], 'A' + i % 8);
        snprintf(texts[i], sizeof texts[i], "x%d = 1\n", i);
        many[i] = (chunk_def_t){2 * i + 1, 2 * i + 2, names[i], "[]", texts[i], i + 1};
    }
    many[24] = (chunk_def_t){60, 61, "[\"read_exact\"]", "[]", "fn r() {}\n", 30};
    many[25] = (chunk_def_t){62, 63, "[\"read_all\"]", "[]", "fn s() {}\n", 31};
    many[26] = (chunk_def_t){64, 65, "[\"exact_match\"]", "[]", "fn t() {}\n", 32};
    many[27] = (chunk_def_t){66, 67, "[\"read_exact\"]", "[]", "fn u() {}\n", 33};
    REQUIRE(put(s, "io.rs", "h1", NULL, 0, many, 28) == 0);
    static const chunk_def_t QUEUE[] = {{1, 3, "[\"pop\"]", "[]", "def pop(self): pass\n", 7}};
    static const chunk_def_t STACK[] = {{1, 3, "[\"pop\"]", "[]", "def pop(self): pass\n", 8}};
    REQUIRE(put(s, "sched/queue.py", "h2", NULL, 0, QUEUE, 1) == 0);
    REQUIRE(put(s, "sched/stack.py", "h3", NULL, 0, STACK, 1) == 0);

    const char *ask = "A future to read exactly enough bytes to fill a buffer.";
    search_query_t q = {.query = ask, .query_len = strlen(ask), .question = true, .limit = 4};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *exact = find_chunk(chunks, "io.rs", 60);
    if (!exact)
        exact = find_chunk(chunks, "io.rs", 66);
    REQUIRE(exact);
    CHECK(signal(exact, "name") > 0);
    cJSON_Delete(root);
    q.limit = 8;

    /* the file's name counts a little: the queue's pop for a queue */
    ask = "Pops a task from the queue.";
    q.query = ask;
    q.query_len = strlen(ask);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *queue = find_chunk(chunks, "sched/queue.py", 1);
    const cJSON *stack = find_chunk(chunks, "sched/stack.py", 1);
    REQUIRE(queue && stack);
    CHECK(signal(stack, "name") > 0 && signal(queue, "name") > signal(stack, "name"));
    CHECK(signal(queue, "name") < 2 * signal(stack, "name"));
    cJSON_Delete(root);
    cleanup(&s);
}

/* A word the question shortens (`connect` of "connection") comes before
 * the rare words that extend its others (`sourcea`, `priorb`, df 1 each):
 * however many of those, `connect` is looked for. */
TEST(a_questions_words_look_for_what_they_shorten_first) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const char *const stems[] = {"Source", "Prior", "Value"};
    static char names[24][40], texts[24][24];
    chunk_def_t many[26];
    for (int i = 0; i < 24; i++) {
        snprintf(names[i], sizeof names[i], "[\"%s%c\"]", stems[i / 8], 'A' + i % 8);
        snprintf(texts[i], sizeof texts[i], "x%d = 1\n", i);
        many[i] = (chunk_def_t){2 * i + 1, 2 * i + 2, names[i], "[]", texts[i], i + 1};
    }
    many[24] = (chunk_def_t){60, 61, "[\"connect\"]", "[]", "def c(): pass\n", 30};
    many[25] = (chunk_def_t){62, 63, "[\"connect\"]", "[]", "def d(): pass\n", 31};
    REQUIRE(put(s, "share.py", "h1", NULL, 0, many, 26) == 0);

    const char *ask = "Multicasts the source value prior to connection.";
    search_query_t q = {.query = ask, .query_len = strlen(ask), .question = true, .limit = 8};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *connect = find_chunk(chunks, "share.py", 60);
    if (!connect)
        connect = find_chunk(chunks, "share.py", 62);
    REQUIRE(connect);
    CHECK(signal(connect, "name") > 0);
    cJSON_Delete(root);
    cleanup(&s);
}

/* A question's `from`, `is`, `new` are English words, and names are made
 * of them: fromEvent is all of "emits events from a target", eventTarget
 * only some. */
TEST(a_questions_keyword_words_make_names_too) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t EV[] = {
        {1, 3, "[\"fromEvent\"]", "[]", "export function fromEvent(t) {\n  return t;\n}\n", 1},
        {5, 7, "[\"isEventTarget\"]", "[]", "function isEventTarget(t) {\n  return !!t;\n}\n", 2}};
    REQUIRE(put(s, "ev.ts", "h1", NULL, 0, EV, 2) == 0);
    const char *ask = "Emits events from the given event target.";
    search_query_t q = {.query = ask, .query_len = strlen(ask), .question = true, .limit = 8};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *from = find_chunk(chunks, "ev.ts", 1), *is = find_chunk(chunks, "ev.ts", 5);
    REQUIRE(from && is);
    CHECK(signal(from, "name") > signal(is, "name"));
    cJSON_Delete(root);
    cleanup(&s);
}

/* A question's words count in BM25 with their stems: "Selects" finds a
 * body that calls `select`, which no name makes up. */
TEST(a_questions_words_match_code_by_their_stems) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t Q[] = {
        {1, 3, "[\"pick\"]", "[]", "function pick(q) {\n  return q.select();\n}\n", 1},
        {5, 7, "[\"other\"]", "[]", "function other(q) {\n  return q.rows;\n}\n", 2}};
    REQUIRE(put(s, "q.js", "h1", NULL, 0, Q, 2) == 0);
    const char *ask = "Selects the first of them.";
    search_query_t q = {.query = ask, .query_len = strlen(ask), .question = true, .limit = 8};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *pick = find_chunk(chunks, "q.js", 1);
    REQUIRE(pick);
    CHECK(signal(pick, "bm25") > 0);
    CHECK(!find_chunk(chunks, "q.js", 5));
    cJSON_Delete(root);
    cleanup(&s);
}

/* A method is listed as `read` and as `Pipe.read`: one name, worth as much
 * as a function `read`; a chunk of two names is worth less. */
TEST(a_methods_scoped_name_is_the_same_name) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t A[] = {
        {1, 3, "[\"read\",\"Pipe.read\"]", "[]", "  fn read(&self) {}\n", 1},
        {5, 7, "[\"read\",\"write\"]", "[]", "fn read() {}\nfn write() {}\n", 2}};
    static const chunk_def_t B[] = {{1, 3, "[\"read\"]", "[]", "fn read() {}\n", 3}};
    REQUIRE(put(s, "src/a.rs", "h1", NULL, 0, A, 2) == 0);
    REQUIRE(put(s, "src/b.rs", "h2", NULL, 0, B, 1) == 0);
    const char *ask = "Reads data.";
    search_query_t q = {.query = ask, .query_len = strlen(ask), .question = true, .limit = 8};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    double method = signal(find_chunk(chunks, "src/a.rs", 1), "name");
    double two = signal(find_chunk(chunks, "src/a.rs", 5), "name");
    double function = signal(find_chunk(chunks, "src/b.rs", 1), "name");
    CHECK(function > 0 && fabs(method - function) < 1e-9);
    CHECK(two > 0 && two < function);
    cJSON_Delete(root);
    cleanup(&s);
}

/* A doc comment's sentence points at its own class by `this X` and `X's`:
 * "Execute this DDL" is DDLElement's execute rather than Connection's, and
 * the scope's words then count as much as the name's.  "turns this into"
 * points at nothing. */
TEST(a_question_pointing_at_a_class_favours_its_members) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t E[] = {
        {1, 3, "[\"execute\",\"Connection.execute\"]", "[]", "    def execute(self):\n", 1}};
    static const chunk_def_t D[] = {
        {1, 3, "[\"execute\",\"DDLElement.execute\"]", "[]", "    def execute(self):\n", 2}};
    static const chunk_def_t I[] = {
        {1, 3, "[\"list\",\"IntoIter.list\"]", "[]", "fn list() {}\n", 3},
        {5, 7, "[\"list\",\"Other.list\"]", "[]", "fn list() {}\n", 4}};
    REQUIRE(put(s, "engine.py", "h1", NULL, 0, E, 1) == 0);
    REQUIRE(put(s, "ddl.py", "h2", NULL, 0, D, 1) == 0);
    REQUIRE(put(s, "src/iter.rs", "h3", NULL, 0, I, 2) == 0);
    /* pointed at by `this`, by `'s` (the last word: read to the end, no further), and only
     * said */
    const char *asks[] = {"Execute this DDL immediately.", "Execute what is the DDL's",
                          "Execute a DDL statement."};
    double ratio[3] = {0};
    for (size_t i = 0; i < 3; i++) {
        search_query_t q = {
            .query = asks[i], .query_len = strlen(asks[i]), .question = true, .limit = 8};
        cJSON *root;
        const cJSON *chunks = search(s, &q, &root);
        REQUIRE(chunks);
        double ddl = signal(find_chunk(chunks, "ddl.py", 1), "name");
        double conn = signal(find_chunk(chunks, "engine.py", 1), "name");
        CHECK(conn > 0 && ddl > conn);
        ratio[i] = conn > 0 ? ddl / conn : 0;
        cJSON_Delete(root);
    }
    CHECK(ratio[2] > 1 && ratio[0] > 2 * ratio[2] && ratio[1] > 2 * ratio[2]);
    const char *into = "Turns this into a list.";
    search_query_t q = {.query = into, .query_len = strlen(into), .question = true, .limit = 8};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    double a = signal(find_chunk(chunks, "src/iter.rs", 1), "name");
    double b = signal(find_chunk(chunks, "src/iter.rs", 5), "name");
    CHECK(a > 0 && a < b * 1.5);
    cJSON_Delete(root);
    cleanup(&s);
}

/* `obj = ⟨.constructObject(`: the chunk defining each class with a member
 * of that name is a candidate, valued 1. */
/* A class with a dozen bases, each with a base of its own, and the one
 * that matters last (sqlalchemy's ColumnElement: ten roles, then
 * ClauseElement): its members and its base's are reached. */
TEST(a_wide_lineage_reaches_its_last_base) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    enum { ROLES = 12 };
    chunk_def_t roles[ROLES];
    char symbols[ROLES][32], texts[ROLES][64];
    buf_t header = BUF_INIT;
    buf_append_str(&header, "class Wide(");
    for (int i = 0; i < ROLES; i++) {
        snprintf(symbols[i], sizeof symbols[i], "[\"R%d\"]", i);
        snprintf(texts[i], sizeof texts[i], "class R%d(RoleBase%d):\n    pass\n", i, i);
        roles[i] = (chunk_def_t){2 * i + 1, 2 * i + 2, symbols[i], "[]", texts[i], i % DIM};
        buf_printf(&header, "roles.R%d, ", i);
    }
    buf_append_str(&header, "Core):\n    pass\n");
    REQUIRE(header.data);
    const chunk_def_t WIDE[] = {{1, 2, "[\"Wide\"]", "[]", header.data, 1}};
    static const chunk_def_t CORE[] = {
        {1, 1, "[\"Core\"]", "[]", "class Core(Deep):\n", 2},
        {2, 3, "[\"reset\",\"Core.reset\"]", "[]", "    def reset(self):\n        pass\n", 3}};
    static const chunk_def_t DEEP[] = {
        {1, 1, "[\"Deep\"]", "[]", "class Deep:\n", 4},
        {2, 3, "[\"memo\",\"Deep.memo\"]", "[]", "    def memo(self):\n        pass\n", 5}};
    REQUIRE(put(s, "src/roles.py", "h1", NULL, 0, roles, ROLES) == 0 &&
            put(s, "src/wide.py", "h2", NULL, 0, WIDE, 1) == 0 &&
            put(s, "src/core.py", "h3", NULL, 0, CORE, 2) == 0 &&
            put(s, "src/deep.py", "h4", NULL, 0, DEEP, 2) == 0);
    buf_free(&header);
    search_query_t q = {.path = "src/app.py",
                        .member = {.kind = SEARCH_MEMBER_CLASS, .type = "Wide"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "src/core.py", 2), "member") - 0.6) < 1e-9);
    CHECK(fabs(signal(find_chunk(chunks, "src/deep.py", 2), "member") - 0.5) < 1e-9);
    cJSON_Delete(root);
    cleanup(&s);
}

/* `decl = registry(...)` then `decl.`: a call whose definition declares no
 * return type but is a class of that name makes one of it (Python's
 * lower-case and _private classes); a plain function, nothing. */
TEST(a_call_that_names_a_class_makes_one) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t API[] = {
        {1, 1, "[\"registry\"]", "[]", "class registry:\n", 1},
        {2, 3, "[\"map_imperatively\",\"registry.map_imperatively\"]", "[]",
         "    def map_imperatively(self, cls):\n        pass\n", 2},
        {5, 6, "[\"declarative_base\"]", "[]", "def declarative_base(m):\n    pass\n", 3}};
    REQUIRE(put(s, "orm/decl_api.py", "h1", NULL, 0, API, 3) == 0);
    search_query_t q = {.path = "app.py",
                        .member = {.kind = SEARCH_MEMBER_CLASS, .call = "registry"}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "orm/decl_api.py", 2), "member") == 1);
    cJSON_Delete(root);
    q.member.call = "declarative_base";
    REQUIRE((chunks = search(s, &q, &root)));
    CHECK(isnan(signal(find_chunk(chunks, "orm/decl_api.py", 2), "member")));
    cJSON_Delete(root);
    cleanup(&s);
}

TEST(a_member_after_a_bare_name_finds_its_class) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t R[] = {{1, 3, "[\"Reflect\"]", "[]", "class Reflect {\n", 1},
                                    {5, 9, "[\"constructObject\",\"Reflect.constructObject\"]",
                                     "[]", "  static Object constructObject(Class c) {}\n", 2}};
    static const chunk_def_t O[] = {
        {1, 3, "[\"Other\"]", "[]", "class Other {\n", 3},
        {5, 7, "[\"run\",\"Other.run\"]", "[]", "  void run() {}\n", 4}};
    static const chunk_def_t H[] = {
        {1, 3, "[\"Helper\"]", "[]", "class Helper {\n", 5},
        {5, 7, "[\"run\",\"Helper.run\"]", "[]", "  void run() {}\n", 6}};
    REQUIRE(put(s, "src/Reflect.java", "h1", NULL, 0, R, 2) == 0);
    REQUIRE(put(s, "src/Other.java", "h2", NULL, 0, O, 2) == 0);
    REQUIRE(put(s, "src/Helper.java", "h3", NULL, 0, H, 2) == 0);
    search_query_t q = {.path = "src/Main.java", .owner = "constructObject", .limit = 8};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "src/Reflect.java", 1), "owner") - 1.0) < 1e-9);
    CHECK(find_chunk(chunks, "src/Other.java", 1) == NULL);
    cJSON_Delete(root);
    /* two classes have `run`: both are candidates, and only they */
    q.owner = "run";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(fabs(signal(find_chunk(chunks, "src/Other.java", 1), "owner") - 1.0) < 1e-9);
    CHECK(fabs(signal(find_chunk(chunks, "src/Helper.java", 1), "owner") - 1.0) < 1e-9);
    CHECK(find_chunk(chunks, "src/Reflect.java", 1) == NULL);
    cJSON_Delete(root);
    /* a member no class has, or none at all: nothing */
    q.owner = "missing";
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK_INT(cJSON_GetArraySize(chunks), ==, 0);
    cJSON_Delete(root);
    cleanup(&s);
}

TEST(a_question_finds_the_names_its_words_make) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t CACHE[] = {
        {1, 3, "[\"remove_entries\"]", "[]", "def remove_entries(c):\n    c.clear()\n", 1},
        {5, 7, "[\"uninit\"]", "[]", "def uninit(n):\n    return bytearray(n)\n", 2},
        {9, 11, "[\"create_pool\"]", "[]", "def create_pool():\n    return Pool()\n", 3},
        {13, 17, "[\"Pool\",\"Pool.create\",\"Pool.close\",\"Pool.size\"]", "[]",
         "class Pool:\n  def create(self): pass\n  def close(self): pass\n", 4},
        {19, 21, "[\"symlink\"]", "[]", "def symlink(a, b):\n    # a symbolic link to a\n", 5},
        {23, 24, "[\"Conn.drain\"]", "[]", "  def drain(self):\n    pass\n", 6}};
    REQUIRE(put(s, "cache.py", "h1", NULL, 0, CACHE, 6) == 0);
    const char *ask = "Removing every entry.";
    search_query_t q = {.query = ask, .query_len = strlen(ask), .question = true};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    const cJSON *removes = find_chunk(chunks, "cache.py", 1);
    REQUIRE(removes);
    /* neither `removing`, its stem `remov` nor `entry` is in its text */
    CHECK(signal(removes, "bm25") == 0);
    double both = signal(removes, "name");
    cJSON_Delete(root);
    ask = "Removes it."; /* half the name: less than half the value */
    q.query = ask;
    q.query_len = strlen(ask);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    double half = signal(find_chunk(chunks, "cache.py", 1), "name");
    CHECK(half > 0 && both > 2 * half);
    cJSON_Delete(root);

    ask = "Creates a fully uninitialized symbolic buffer.";
    q.query = ask;
    q.query_len = strlen(ask);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    double uninit = signal(find_chunk(chunks, "cache.py", 5), "name");
    double create_pool = signal(find_chunk(chunks, "cache.py", 9), "name");
    double pool = signal(find_chunk(chunks, "cache.py", 13), "name");
    CHECK(uninit > 0 && create_pool > 0 && pool > 0);
    CHECK(pool < 2 * create_pool); /* 1 of 4 names, not half of one */
    CHECK(signal(find_chunk(chunks, "cache.py", 19), "name") == 0); /* symbolic is not symlink */
    cJSON_Delete(root);

    /* the scope's words add a little: `Conn.drain` when the conn is named */
    ask = "Drains it.";
    q.query = ask;
    q.query_len = strlen(ask);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    double drain = signal(find_chunk(chunks, "cache.py", 23), "name");
    cJSON_Delete(root);
    ask = "Drains the conn.";
    q.query = ask;
    q.query_len = strlen(ask);
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    double drain_conn = signal(find_chunk(chunks, "cache.py", 23), "name");
    CHECK(drain > 0 && drain_conn > drain && drain_conn < 2 * drain);
    cJSON_Delete(root);

    /* code around a cursor is no question: no name signal */
    q.question = false;
    chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(isnan(signal(find_chunk(chunks, "cache.py", 5), "name")));
    cJSON_Delete(root);
    cleanup(&s);
}

/* The names the shard's chunks write in the cursor's slot: found through
 * the rarest anchor, weighed by the patterns each occurrence matches
 * (lexeme.h), the heaviest first, with the total they are a share of. */
TEST(the_names_written_in_the_cursors_slot) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t A[] = {
        {1, 2, "[\"t\"]", "[\"Column\",\"Integer\"]",
         "t = Table(\"t\", Column(\"id\", Integer, primary_key=True))\n", 1},
        {3, 4, "[\"u\"]", "[\"Column\",\"String\"]", "u = Column(\"id\", String(30))\n", 2}};
    static const chunk_def_t B[] = {{1, 2, "[\"v\"]", "[\"Column\",\"Integer\"]",
                                     "v = [Column(\"id\", Integer, nullable=False)]\n", 3}};
    REQUIRE(put(s, "a.py", "ha", NULL, 0, A, 2) == 0 && put(s, "b.py", "hb", NULL, 0, B, 1) == 0);
    static const char *const slot[] = {"(", "\"id\"", ",", ",", "primary_key"};
    static const char *const anchors[] = {"nowhere", "Column", "id\" OR \"x", "id"};
    search_query_t q = {.path = "c.py", .slot = slot, .anchors = anchors, .anchor_count = 4};
    cJSON *root;
    REQUIRE(search(s, &q, &root));
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(root, "slot");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(answer, "names");
    REQUIRE(cJSON_GetArraySize(names) == 2);
    CHECK_STR(names->child->string, "Integer");
    CHECK(names->child->valuedouble == 5.5 + 3.0); /* every pattern; all but b2 b1 a1 a2 */
    CHECK_STR(names->child->next->string, "String");
    CHECK(names->child->next->valuedouble == 1.5); /* `, String(`: b3 b2 b1, b2 b1 */
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(answer, "total")) == 10);
    cJSON_Delete(root);
    /* no anchor the shard writes: no slot answered */
    static const char *const unknown[] = {"nowhere"};
    q.anchors = unknown;
    q.anchor_count = 1;
    REQUIRE(search(s, &q, &root));
    CHECK(!cJSON_GetObjectItemCaseSensitive(root, "slot"));
    cJSON_Delete(root);
    cleanup(&s);
}

/* Java: a bare name's members (module ".") are the package's classes and
 * those of a package the file imports whole (`import pkg.*;`, which the
 * graph holds as each of its files: a directory all of whose files the
 * file imports), weighed as reached through a package (0.6); a class
 * imported by name is not one (the fusion's imported name is).  Python's
 * "." is its own package only. */
TEST(a_java_files_bare_names_are_its_packages_and_the_packages_it_imports_whole) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    static const chunk_def_t CLASS[] = {{1, 3, "[\"C\"]", "[]", "class C {}\n", 1}};
    static const chunk_def_t PY[] = {{1, 3, "[\"f\"]", "[]", "def f(): pass\n", 4}};
    static const char *const main_imports[] = {"src/b/Tool.java", "src/b/Kit.java",
                                               "src/c/One.java"};
    static const char *const py_imports[] = {"py/b/t.py", "py/b/u.py"};
    REQUIRE(put(s, "src/a/Main.java", "h1", main_imports, 3, CLASS, 1) == 0 &&
            put(s, "src/a/Helper.java", "h2", NULL, 0, CLASS, 1) == 0 &&
            put(s, "src/b/Tool.java", "h3", NULL, 0, CLASS, 1) == 0 &&
            put(s, "src/b/Kit.java", "h4", NULL, 0, CLASS, 1) == 0 &&
            put(s, "src/c/One.java", "h5", NULL, 0, CLASS, 1) == 0 &&
            put(s, "src/c/Two.java", "h6", NULL, 0, CLASS, 1) == 0 &&
            put(s, "py/a/m.py", "h7", py_imports, 2, PY, 1) == 0 &&
            put(s, "py/a/n.py", "h8", NULL, 0, PY, 1) == 0 &&
            put(s, "py/b/t.py", "h9", NULL, 0, PY, 1) == 0 &&
            put(s, "py/b/u.py", "h10", NULL, 0, PY, 1) == 0);
    char got[256];
    REQUIRE(member_files(s, "src/a/Main.java", ".", true, got, sizeof got));
    CHECK_STR(got, "src/a/Helper.java|src/b/Kit.java|src/b/Tool.java"); /* not src/c */
    REQUIRE(member_files(s, "py/a/m.py", ".", true, got, sizeof got));
    CHECK_STR(got, "py/a/n.py");
    search_query_t q = {.path = "src/a/Main.java",
                        .member = {.kind = SEARCH_MEMBER_MODULE, .module = "."}};
    cJSON *root;
    const cJSON *chunks = search(s, &q, &root);
    REQUIRE(chunks);
    CHECK(signal(find_chunk(chunks, "src/a/Helper.java", 1), "member") == 1);
    CHECK(fabs(signal(find_chunk(chunks, "src/b/Tool.java", 1), "member") - 0.6) < 1e-9);
    cJSON_Delete(root);
    cleanup(&s);
}

TEST_MAIN(TEST_CASE(each_signal_finds_its_chunk_and_the_current_file_is_excluded),
          TEST_CASE(a_java_files_bare_names_are_its_packages_and_the_packages_it_imports_whole),
          TEST_CASE(the_names_written_in_the_cursors_slot),
          TEST_CASE(members_the_language_hides_are_not_offered),
          TEST_CASE(a_class_lineage_from_the_index_and_its_outline),
          TEST_CASE(import_graph_is_replicated_and_counts_in_degree),
          TEST_CASE(malformed_queries_are_rejected),
          TEST_CASE(searches_run_in_parallel_with_each_other_and_with_writes),
          TEST_CASE(members_of_a_module_and_of_a_class), TEST_CASE(members_of_rust_module_paths),
          TEST_CASE(members_of_go_packages), TEST_CASE(members_reexported_through_packages),
          TEST_CASE(the_most_used_names_of_a_module_come_first),
          TEST_CASE(the_names_a_file_uses_of_a_module_come_first),
          TEST_CASE(a_file_reached_for_one_name_gives_no_other),
          TEST_CASE(a_wide_lineage_reaches_its_last_base),
          TEST_CASE(a_call_that_names_a_class_makes_one),
          TEST_CASE(a_package_reexporting_from_elsewhere_reaches_the_names_it_named),
          TEST_CASE(a_member_the_functions_name_spells_is_found_in_the_packages_tree),
          TEST_CASE(a_members_file_counts_the_members_the_current_file_uses),
          TEST_CASE(names_a_package_imports_are_its_members),
          TEST_CASE(a_query_with_nothing_to_go_on_finds_nothing),
          TEST_CASE(chunks_found_by_more_signals_rank_first),
          TEST_CASE(members_of_a_class_and_of_its_bases),
          TEST_CASE(a_question_finds_the_names_its_words_make),
          TEST_CASE(a_methods_scoped_name_is_the_same_name),
          TEST_CASE(a_question_pointing_at_a_class_favours_its_members),
          TEST_CASE(a_member_after_a_bare_name_finds_its_class),
          TEST_CASE(a_questions_keyword_words_make_names_too),
          TEST_CASE(a_questions_words_match_code_by_their_stems),
          TEST_CASE(a_question_keeps_the_names_it_makes_best),
          TEST_CASE(a_questions_words_look_for_what_they_shorten_first),
          TEST_CASE(a_type_place_ranks_the_packages_classes_by_that_place))
