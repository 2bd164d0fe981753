/*
 * Benchmark of proto/code/embedding: how many MB of source text per second one
 * core turns into vectors, so that embedding is never what seeding waits for.
 *
 *   code_embedding_bench [FILE...]
 *       embeds the files given (e.g. `git ls-files '*.c' '*.py'`), or a
 *       deterministic synthetic corpus of code-like text (16 MiB) when none
 *       is, cut into chunks of about CHUNK bytes at line ends as the seeder
 *       cuts definitions.  Times, on one thread, the sub-word scan alone and
 *       the full embedding at several dimensions, each repeated for at least
 *       a second, and prints a table on stderr and one line per measurement
 *       on stdout:
 *         RESULT|name|MB_per_s|chunks_per_s|ns_per_byte
 */
#include "proto/code/embedding.h"
#include "proto/code/subword.h"
#include "tests/fixture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 1536
#define SYNTHETIC_BYTES (16u << 20)
#define MIN_SECONDS 1.0

static fixture_rng_t rng = {0x243f6a8885a308d3ull};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    char *data;
    size_t len, cap;
} text_t;

static void text_append(text_t *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1 << 20;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *bigger = realloc(t->data, cap);
        if (!bigger) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        t->data = bigger, t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static const char *const words[] = {
    "get",      "set",     "user",   "name",     "parse",   "http",    "header",  "request",
    "response", "buffer",  "index",  "count",    "value",   "key",     "map",     "list",
    "node",     "tree",    "file",   "path",     "read",    "write",   "open",    "close",
    "socket",   "server",  "client", "error",    "status",  "config",  "load",    "save",
    "cache",    "query",   "result", "token",    "chunk",   "vector",  "embed",   "score",
    "rank",     "merge",   "split",  "line",     "column",  "string",  "builder", "factory",
    "handler",  "event",   "queue",  "worker",   "thread",  "lock",    "time",    "date",
    "format",   "encode",  "decode", "json",     "schema",  "field",   "table",   "row",
    "insert",   "update",  "delete", "select",   "session", "account", "order",   "item",
    "price",    "total",   "matrix", "multiply", "graph",   "edge",    "visit",   "stack",
    "push",     "pop",     "peek",   "size",     "length",  "offset",  "limit",   "page",
    "retry",    "timeout",
};
#define WORDS (sizeof words / sizeof words[0])

static const char *const statements[] = {
    "    if (%s == NULL) return -EINVAL;\n",
    "    for (size_t i = 0; i < %s; i++) {\n",
    "        %s = %s(%s, %s);\n",
    "    return %s->%s + 42;\n",
    "    }\n",
    "    const char *%s = \"%s\";\n",
    "    // %s the %s before the %s\n",
    "def %s(self, %s):\n",
    "        self.%s = %s.%s(%s)\n",
    "function %s(%s) { return %s.%s; }\n",
    "    %s := %s(%s)\n",
};
#define STATEMENTS (sizeof statements / sizeof statements[0])

/* One identifier of 1-3 words in one of the common case styles. */
static void identifier_make(char *out, size_t cap) {
    int n = 1 + (int)(rng_next(&rng) % 3), style = (int)(rng_next(&rng) % 4);
    size_t len = 0;
    out[0] = '\0';
    for (int w = 0; w < n && len + 16 < cap; w++) {
        const char *word = words[rng_next(&rng) % WORDS];
        if (w && (style == 1 || style == 3))
            out[len++] = '_';
        for (size_t k = 0; word[k]; k++) {
            char c = word[k];
            bool upper = style == 3 || (style == 0 && w && k == 0) || (style == 2 && k == 0);
            out[len++] = upper ? (char)(c - 32) : c;
        }
    }
    out[len] = '\0';
}

static void synthetic_make(text_t *t) {
    char line[512], id[4][64];
    while (t->len < SYNTHETIC_BYTES) {
        for (int k = 0; k < 4; k++)
            identifier_make(id[k], sizeof id[k]);
        const char *fmt = statements[rng_next(&rng) % STATEMENTS];
        int n = snprintf(line, sizeof line, fmt, id[0], id[1], id[2], id[3]);
        text_append(t, line, (size_t)n);
    }
}

static void file_load(text_t *t, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        text_append(t, buf, n);
    fclose(f);
    text_append(t, "\n", 1);
}

/* Chunk boundaries: about CHUNK bytes each, cut after a newline. */
static size_t chunks_cut(const text_t *t, size_t **starts) {
    size_t cap = t->len / (CHUNK / 2) + 2, n = 0, at = 0;
    *starts = malloc(cap * sizeof **starts);
    if (!*starts)
        exit(1);
    while (at < t->len && n + 1 < cap) {
        (*starts)[n++] = at;
        size_t end = at + CHUNK < t->len ? at + CHUNK : t->len;
        while (end < t->len && t->data[end - 1] != '\n')
            end++;
        at = end;
    }
    (*starts)[n] = t->len;
    return n;
}

static int count_token(const subword_token_t *token, void *arg) {
    *(size_t *)arg += token->len;
    return 0;
}

static void report(const char *name, size_t bytes, size_t chunks, double seconds) {
    double mbps = (double)bytes / seconds / 1e6;
    fprintf(stderr, "%-24s %10.1f %12.0f %10.2f\n", name, mbps, (double)chunks / seconds,
            seconds * 1e9 / (double)bytes);
    printf("RESULT|%s|%.1f|%.0f|%.2f\n", name, mbps, (double)chunks / seconds,
           seconds * 1e9 / (double)bytes);
}

int main(int argc, char **argv) {
    text_t corpus = {0};
    for (int i = 1; i < argc; i++)
        file_load(&corpus, argv[i]);
    const char *source = argc > 1 ? "files" : "synthetic";
    if (corpus.len == 0)
        synthetic_make(&corpus);
    size_t *starts;
    size_t chunks = chunks_cut(&corpus, &starts);
    fprintf(stderr,
            "# builtin embedder, one thread, %s corpus: %.1f MB in %zu chunks of ~%d bytes\n",
            source, (double)corpus.len / 1e6, chunks, CHUNK);
    fprintf(stderr, "%-24s %10s %12s %10s\n", "measurement", "MB/s", "chunks/s", "ns/byte");

    /* the tokenizer alone */
    size_t sink = 0, bytes = 0, done = 0;
    double start = now_s(), elapsed;
    do {
        for (size_t c = 0; c < chunks; c++)
            subword_scan(corpus.data + starts[c], starts[c + 1] - starts[c], 0, count_token, &sink);
        bytes += corpus.len, done += chunks;
    } while ((elapsed = now_s() - start) < MIN_SECONDS);
    report("subword_scan", bytes, done, elapsed);

    const size_t dims[] = {128, 384, 768};
    float *out = malloc(BUILTIN_EMBEDDER_DIM_MAX * sizeof *out);
    for (size_t d = 0; d < sizeof dims / sizeof dims[0] && out; d++) {
        builtin_embedder_t *e = builtin_embedder_new(dims[d]);
        if (!e)
            return 1;
        bytes = 0, done = 0;
        double check = 0;
        start = now_s();
        do {
            for (size_t c = 0; c < chunks; c++) {
                builtin_embedder_embed(e, corpus.data + starts[c], starts[c + 1] - starts[c], out);
                check += out[0];
            }
            bytes += corpus.len, done += chunks;
        } while ((elapsed = now_s() - start) < MIN_SECONDS);
        char name[64];
        snprintf(name, sizeof name, "embed dim=%zu", dims[d]);
        report(name, bytes, done, elapsed);
        builtin_embedder_destroy(&e);
        if (check != check)
            fprintf(stderr, "NaN in output\n");
    }
    /* the whole corpus as one text: the feature table at its largest */
    builtin_embedder_t *e = builtin_embedder_new(384);
    if (e && out) {
        start = now_s();
        builtin_embedder_embed(e, corpus.data, corpus.len, out);
        report("embed whole corpus", corpus.len, 1, now_s() - start);
    }
    builtin_embedder_destroy(&e);
    fprintf(stderr, "# %zu token bytes scanned\n", sink);
    free(out);
    free(starts);
    free(corpus.data);
    return 0;
}
