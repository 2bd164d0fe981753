/*
 * Benchmark of one retriever shard's search (retriever/search over
 * retriever/store), without the wire.
 *
 *   retriever_search_bench DIR [CHUNKS [QUERIES [DIM]]]
 *
 * Builds (once; a later run with the same DIR reuses it) a shard of CHUNKS
 * synthetic code chunks (default 200000, 20 per file, dim 384): identifiers
 * drawn with a Zipf law from a vocabulary of 50000 made of 400 sub-words,
 * so that common names and sub-words match many chunks as in real code;
 * every file imports five others.  Then times
 * QUERIES (default 300) completion-shaped queries: ~1.5 KB of code around a
 * cursor, 8 identifiers, the current file, an object, the cursor's slot
 * (the tokens around it, read from the chunks that write them), and a query vector
 * near one chunk's, in i8 and f32 modes, then with the members of a module
 * or of a class asked for as well (every file holds 10 references to what
 * it imports, for the reference index to rank them), and prints, in ms,
 *   RESULT|name|wall p50|p95|p99|candidates|thread cpu p50|p95|process cpu p50|p95
 * The CPU times tell what the wall time would be on an idle machine: the
 * searching thread's is the sqlite part (the vector scan overlaps it on its
 * own thread), the process's is the total work.
 */
#include "proto/base/buf.h"
#include "retriever/scan.h"
#include "retriever/search.h"
#include "retriever/store.h"
#include "tests/fixture.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNKS_PER_FILE 20
#define REFS_PER_FILE 10
#define LINES_PER_CHUNK 12
#define WORDS 400
#define VOCABULARY 50000

static fixture_rng_t rng = {0x9e3779b97f4a7c15ull};

static void word(char *out, size_t cap, int i) {
    static const char *const syll[] = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi",
                                       "de", "po", "fa", "gu", "hi", "jo", "be", "zu"};
    snprintf(out, cap, "%s%s%s", syll[i % 16], syll[(i / 16) % 16], i >= 256 ? "x" : "");
}

/* Identifier number i of the vocabulary: 1-3 sub-words, camelCase or
 * snake_case, the same every time. */
static void identifier_of(char *out, size_t cap, uint64_t i) {
    uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
    int parts = 1 + (int)(h % 3);
    bool snake = (h >> 8) & 1;
    size_t n = 0;
    for (int p = 0; p < parts && n + 8 < cap; p++) {
        char w[16];
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        /* Sub-words themselves follow a skewed law: low numbers are common. */
        uint64_t r = (h >> 33) % (WORDS * WORDS);
        word(w, sizeof w, WORDS - 1 - (int)sqrt((double)r));
        if (p && snake)
            out[n++] = '_';
        if (p && !snake)
            w[0] = (char)(w[0] - 'a' + 'A');
        n += (size_t)snprintf(out + n, cap - n, "%s", w);
    }
}

/* An identifier drawn from a vocabulary of VOCABULARY with a Zipf law (rank
 * r has weight 1/r), as in real code: a few names everywhere, most rare. */
static void identifier(char *out, size_t cap) {
    double u = rng_unit(&rng);
    /* Inverse of the continuous Zipf CDF: r = V^u. */
    uint64_t rank = (uint64_t)pow((double)VOCABULARY, u);
    identifier_of(out, cap, rank);
}

static void random_unit(float *v, size_t dim) {
    double norm = 0;
    for (size_t i = 0; i < dim; i++) {
        double u = rng_unit(&rng) + 1e-12, w = rng_unit(&rng);
        v[i] = (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * w));
        norm += (double)v[i] * v[i];
    }
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(norm));
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double process_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void file_path(char *out, size_t cap, long f) {
    snprintf(out, cap, "pkg%ld/mod%ld.py", f % 97, f);
}

/* Writes one file of CHUNKS_PER_FILE chunks; its text into chunk_text when
 * asked (for queries). */
static int build_file(store_t *s, long f, long files, size_t dim, char *err, size_t err_len) {
    char path[64];
    file_path(path, sizeof path, f);
    char imports[5][64];
    const char *targets[5];
    for (int i = 0; i < 5; i++) {
        file_path(imports[i], sizeof imports[i], (long)(rng_next(&rng) % (uint64_t)files));
        targets[i] = imports[i];
    }
    buf_t json = BUF_INIT, p = BUF_INIT;
    static buf_t texts[CHUNKS_PER_FILE];
    buf_append_str(&json, "{\"chunks\":[");
    for (int c = 0; c < CHUNKS_PER_FILE; c++) {
        char def[64], ids[6][64];
        identifier(def, sizeof def);
        buf_reset(&texts[c]);
        buf_printf(&texts[c], "def %s(self, value):\n", def);
        for (int l = 1; l < LINES_PER_CHUNK; l++) {
            for (int k = 0; k < 6; k++)
                identifier(ids[k], sizeof ids[k]);
            buf_printf(&texts[c], "    %s = %s.%s(%s, %s) + %s\n", ids[0], ids[1], ids[2], ids[3],
                       ids[4], ids[5]);
        }
        for (int k = 0; k < 6; k++)
            identifier(ids[k], sizeof ids[k]);
        buf_printf(&json,
                   "%s{\"start_line\":%d,\"end_line\":%d,\"kind\":\"definition\",\"symbols\":"
                   "[\"%s\",\"Mod%ld.%s\"],\"identifiers\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]}",
                   c ? "," : "", c * LINES_PER_CHUNK + 1, (c + 1) * LINES_PER_CHUNK, def, f, def,
                   ids[0], ids[1], ids[2], ids[3], ids[4]);
    }
    buf_append_str(&json, "]}");
    texts_append(&p, json.data, json.len);
    for (int c = 0; c < CHUNKS_PER_FILE; c++)
        texts_append(&p, texts[c].data, texts[c].len);
    float *vecs = malloc(CHUNKS_PER_FILE * dim * sizeof *vecs);
    for (int c = 0; c < CHUNKS_PER_FILE; c++)
        random_unit(vecs + (size_t)c * dim, dim);
    texts_append(&p, (const char *)vecs, CHUNKS_PER_FILE * dim * sizeof *vecs);
    free(vecs);
    store_file_spec_t spec = {"bench", path, "h", "python", targets, 5};
    long n;
    int rc = store_file_put(s, &spec, p.data, p.len, &n, err, err_len);
    /* and what it reaches of its imports: the reference index members rank by */
    char names[REFS_PER_FILE][64];
    store_ref_t refs[REFS_PER_FILE];
    for (int i = 0; rc == 0 && i < REFS_PER_FILE; i++) {
        identifier(names[i], sizeof names[i]);
        refs[i] = (store_ref_t){targets[i % 5], names[i], 1 + (long)(rng_next(&rng) % 5)};
    }
    if (rc == 0)
        rc = store_refs_put(s, "bench", path, refs, REFS_PER_FILE, err, err_len);
    buf_free(&json);
    buf_free(&p);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: retriever_search_bench DIR [CHUNKS [QUERIES [DIM]]]\n");
        return 2;
    }
    long chunks = argc > 2 ? atol(argv[2]) : 200000;
    int queries = argc > 3 ? atoi(argv[3]) : 300;
    size_t dim = argc > 4 ? (size_t)atol(argv[4]) : 384;
    int threads = getenv("BENCH_THREADS") ? atoi(getenv("BENCH_THREADS")) : 1;
    long files = (chunks + CHUNKS_PER_FILE - 1) / CHUNKS_PER_FILE;
    char err[512];
    double t_open = now_ms();
    store_t *s = store_open(argv[1], 0, 1, err, sizeof err);
    t_open = now_ms() - t_open;
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    store_collection_spec_t spec = {"bench", "/bench", "builtin", (long)dim, 1, 0};
    store_ensured_t ensured;
    if (store_collection_ensure(s, &spec, &ensured, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    store_stats_t st;
    store_stats_get(s, &st);
    if (st.chunks < chunks) {
        double t0 = now_ms();
        for (long f = st.chunks / CHUNKS_PER_FILE; f < files; f++) {
            if (build_file(s, f, files, dim, err, sizeof err) != 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            if (f % 1000 == 999)
                fprintf(stderr, "\r%ld/%ld files", f + 1, files);
        }
        fprintf(stderr, "\nbuilt %ld chunks in %.1f s\n", files * CHUNKS_PER_FILE,
                (now_ms() - t0) / 1e3);
        store_stats_get(s, &st);
    }
    double t_merge = now_ms();
    if (store_collection_optimize(s, "bench", err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    fprintf(stderr, "token index merged in %.0f ms\n", now_ms() - t_merge);
    fprintf(stderr, "shard: %ld chunks, %zu MB vectors, %zu MB on disk, opened in %.0f ms\n",
            st.chunks, st.vector_bytes >> 20, st.db_bytes >> 20, t_open);
    fprintf(stderr, "scan kernels: %s (LCA_SCAN_ISA picks narrower ones)\n",
            scan_isa_name(scan_isa_best()));

    static const struct {
        const char *name;
        vectors_mode_t mode;
        bool vector, text, structure;
        search_member_kind_t member; /* the cursor follows a module or an object */
    } runs[] = {
        {"all_signals_i8", VECTORS_I8, true, true, true},
        {"all_signals_f32", VECTORS_F32, true, true, true},
        {"dense_i8_only", VECTORS_I8, true, false, false},
        {"bm25_only", VECTORS_I8, false, true, false},
        {"structure_only", VECTORS_I8, false, false, true},
        {"members_of_module_i8", VECTORS_I8, true, true, true, SEARCH_MEMBER_MODULE},
        {"members_of_class_i8", VECTORS_I8, true, true, true, SEARCH_MEMBER_CLASS},
    };
    double *ms = malloc((size_t)queries * sizeof *ms);
    double *cpu = malloc((size_t)queries * sizeof *cpu);
    double *all = malloc((size_t)queries * sizeof *all);
    float *qv = aligned_alloc(64, dim * sizeof *qv);
    const char *only = getenv("BENCH_ONLY"); /* run only names containing this */
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        if (only && !strstr(runs[r].name, only))
            continue;
        rng.state = 0x1234567ull; /* the same queries for every run */
        long candidates = 0;
        for (int i = 0; i < queries; i++) {
            char text[2048];
            size_t n = 0;
            char ids[8][64];
            const char *symbols[8];
            for (int k = 0; k < 8; k++) {
                identifier(ids[k], sizeof ids[k]);
                symbols[k] = ids[k];
            }
            while (n < 1500) {
                char a[64], b[64], c[64];
                identifier(a, sizeof a), identifier(b, sizeof b), identifier(c, sizeof c);
                n += (size_t)snprintf(text + n, sizeof text - n, "    %s = %s.%s(x)\n", a, b, c);
            }
            char path[64], object[64];
            file_path(path, sizeof path, (long)(rng_next(&rng) % (uint64_t)files));
            snprintf(object, sizeof object, "mod%ld", (long)(rng_next(&rng) % (uint64_t)files));
            random_unit(qv, dim);
            /* `pkg3.mod17.` or `Mod17().`, with two letters typed and the
             * suffix's names as hints */
            long target = (long)(rng_next(&rng) % (uint64_t)files);
            char module[64], type[64], partial[3] = {0};
            snprintf(module, sizeof module, "pkg%ld.mod%ld", target % 97, target);
            snprintf(type, sizeof type, "Mod%ld", target);
            memcpy(partial, ids[0], 2);
            /* the slot `x = b.⟨(` with b and c to find it by: the chunks
             * that write the rarer are read (200 at most) */
            const char *slot[] = {"=", ids[1], ".", "("}, *anchors[] = {ids[1], ids[2]};
            search_query_t q = {
                .collection = "bench",
                .limit = 40,
                .path = path,
                .query = runs[r].text ? text : NULL,
                .query_len = runs[r].text ? n : 0,
                .symbols = runs[r].structure ? symbols : NULL,
                .symbol_count = runs[r].structure ? 8 : 0,
                .object = runs[r].structure ? object : NULL,
                .slot = runs[r].structure && !getenv("BENCH_NO_SLOT") ? slot : NULL,
                .anchors = anchors,
                .anchor_count = 2,
                .mode = runs[r].mode,
                .vector = runs[r].vector ? qv : NULL,
                .vector_bytes = runs[r].vector ? dim * sizeof *qv : 0,
                .threads = threads,
                .member = {.kind = runs[r].member,
                           .module = runs[r].member == SEARCH_MEMBER_MODULE ? module : NULL,
                           .type = runs[r].member == SEARCH_MEMBER_CLASS ? type : NULL,
                           .partial = partial,
                           .hints = symbols,
                           .hint_count = 8}};
            if (!runs[r].structure)
                q.path = NULL;
            buf_t out = BUF_INIT;
            size_t count;
            double t0 = now_ms(), c0 = cpu_ms(), p0 = process_cpu_ms();
            int rc = search_run(s, &q, &out, &count, err, sizeof err);
            ms[i] = now_ms() - t0;
            cpu[i] = cpu_ms() - c0;
            all[i] = process_cpu_ms() - p0;
            buf_free(&out);
            if (rc != 0) {
                fprintf(stderr, "search: %s\n", err);
                return 1;
            }
            candidates += (long)count;
        }
        qsort(ms, (size_t)queries, sizeof *ms, cmp_double);
        qsort(cpu, (size_t)queries, sizeof *cpu, cmp_double);
        qsort(all, (size_t)queries, sizeof *all, cmp_double);
        printf("RESULT|%s|%.2f|%.2f|%.2f|%ld|%.2f|%.2f|%.2f|%.2f\n", runs[r].name, ms[queries / 2],
               ms[queries * 95 / 100], ms[queries * 99 / 100], candidates / queries,
               cpu[queries / 2], cpu[queries * 95 / 100], all[queries / 2],
               all[queries * 95 / 100]);
        fflush(stdout);
    }
    free(ms);
    free(cpu);
    free(all);
    free(qv);
    store_destroy(&s);
    return 0;
}
