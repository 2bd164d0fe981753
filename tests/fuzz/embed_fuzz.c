/*
 * embedder: the answer of Ollama's /api/embed (from a server that may be
 * remote, broken or not Ollama at all), the request bodies built from file
 * texts, and the built-in embedding of any text.  The answer reader and the
 * body builder are static, so this target includes embedder/ollama.c itself
 * (the embedder library's copy is then never linked in); no request is
 * ever sent.
 *
 * The first input byte picks the number of rows asked for and whether the
 * dimension is already known; the rest is the answer body, and the texts
 * (cut at 0xff).  Invariants:
 *   - an answer is accepted only with exactly the rows asked for, each of
 *     the known dimension (or, when none is known yet, of one 1..DIM_MAX
 *     dimension that is then learned); a refused answer leaves the
 *     dimension as it was;
 *   - the error message read from any answer is NUL-terminated;
 *   - a text made ready to send is valid UTF-8 without NULs, the text
 *     itself when it already was; a request body is strict JSON with one
 *     input per text;
 *   - the built-in embedding is deterministic, finite, and the zero vector
 *     or a unit vector.
 */
#include "proto/code/embedding.h"
#include "embedder/ollama.c"
#include "proto/base/json.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>

static ollama_embedder_t *embedder(void) {
    static ollama_embedder_t *o;
    if (!o) {
        char err[256];
        ollama_embedder_config_t config = {.model = "nomic-embed-text",
                                           .host = "http://127.0.0.1:9"};
        o = ollama_embedder_new(&config, err, sizeof err);
        FUZZ_ASSERT(o != NULL);
    }
    return o;
}

static void check_answer(ollama_embedder_t *o, const uint8_t *data, size_t size, size_t count,
                         size_t known_dim) {
    free(o->response);
    o->response = fuzz_strndup(data, size); /* as on_body() keeps it: NUL-terminated */
    o->response_len = size, o->response_cap = size + 1;
    o->dim = known_dim;
    char err[256] = "";
    if (known_dim == 0) {
        int rc = answer_read(o, count, NULL, err, sizeof err);
        FUZZ_ASSERT(rc == 0 || rc == -EBADMSG);
        FUZZ_ASSERT(rc == 0 ? o->dim >= 1 && o->dim <= DIM_MAX : o->dim == 0);
        if (rc != 0)
            FUZZ_ASSERT(err[0] != '\0');
    }
    if (o->dim) {
        size_t dim = o->dim;
        float *rows = malloc(count * dim * sizeof *rows);
        FUZZ_ASSERT(rows != NULL);
        int rc = answer_read(o, count, rows, err, sizeof err);
        FUZZ_ASSERT(rc == 0 || rc == -EBADMSG || rc == -ERANGE);
        FUZZ_ASSERT(o->dim == dim); /* never changes once known */
        if (known_dim == 0)         /* the first read accepted it: so does this one */
            FUZZ_ASSERT(rc == 0);
        if (rc == 0) {
            cJSON *root = cJSON_ParseWithLength(o->response, o->response_len);
            const cJSON *embeddings = cJSON_GetObjectItemCaseSensitive(root, "embeddings");
            FUZZ_ASSERT((size_t)cJSON_GetArraySize(embeddings) == count);
            for (size_t r = 0; r < count; r++) {
                const cJSON *row = cJSON_GetArrayItem(embeddings, (int)r);
                FUZZ_ASSERT((size_t)cJSON_GetArraySize(row) == dim);
                for (size_t d = 0; d < dim; d++)
                    FUZZ_ASSERT(rows[r * dim + d] ==
                                    (float)cJSON_GetArrayItem(row, (int)d)->valuedouble ||
                                isnan(rows[r * dim + d]));
            }
            cJSON_Delete(root);
        }
        free(rows);
    }
    char message[128];
    ollama_error_text(o->response, o->response_len, message, sizeof message);
    FUZZ_ASSERT(memchr(message, '\0', sizeof message) != NULL);
}

static void check_body(ollama_embedder_t *o, const fuzz_piece_t *texts, size_t n) {
    const char *ptrs[4];
    size_t lens[4], idx[4];
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = texts[i].data, lens[i] = texts[i].len, idx[i] = i;
        const char *clean = text_sanitise(o, o->query_prefix, texts[i].data, texts[i].len);
        FUZZ_ASSERT(clean != NULL);
        size_t len = strlen(clean), prefix = strlen(o->query_prefix);
        FUZZ_ASSERT(utf8_valid(clean, len) && len <= prefix + 3 * texts[i].len);
        FUZZ_ASSERT(strncmp(clean, o->query_prefix, prefix) == 0);
        if (utf8_valid(texts[i].data, texts[i].len) && !memchr(texts[i].data, '\0', texts[i].len))
            FUZZ_ASSERT(len == prefix + texts[i].len &&
                        memcmp(clean + prefix, texts[i].data, texts[i].len) == 0);
    }
    char *body = body_build(o, o->document_prefix, ptrs, lens, idx, n);
    FUZZ_ASSERT(body != NULL);
    FUZZ_ASSERT(json_check(body, strlen(body), true, NULL, 0) == 0);
    cJSON *root = cJSON_Parse(body);
    FUZZ_ASSERT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "input")) == (int)n);
    cJSON_Delete(root);
    free(body);
}

static void check_builtin(const char *text, size_t len, size_t dim) {
    static builtin_embedder_t *small, *standard;
    if (!small) {
        small = builtin_embedder_new(16);
        standard = builtin_embedder_new(BUILTIN_EMBEDDER_DIM_DEFAULT);
        FUZZ_ASSERT(small && standard);
    }
    builtin_embedder_t *e = dim == 16 ? small : standard;
    FUZZ_ASSERT(builtin_embedder_dim(e) == dim);
    float v[BUILTIN_EMBEDDER_DIM_DEFAULT], w[BUILTIN_EMBEDDER_DIM_DEFAULT];
    FUZZ_ASSERT(builtin_embedder_embed(e, text, len, v) == 0);
    FUZZ_ASSERT(builtin_embedder_embed(e, text, len, w) == 0);
    FUZZ_ASSERT(memcmp(v, w, dim * sizeof *v) == 0);
    double norm = 0;
    for (size_t i = 0; i < dim; i++) {
        FUZZ_ASSERT(isfinite(v[i]));
        norm += (double)v[i] * v[i];
    }
    FUZZ_ASSERT(norm == 0 || fabs(norm - 1) < 1e-3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t setup = fuzz_take_byte(&data, &size);
    size_t count = 1 + (setup & 3);
    size_t known_dim = setup & 4 ? 1 + (setup >> 4) : 0;
    ollama_embedder_t *o = embedder();
    check_answer(o, data, size, count, known_dim);

    fuzz_piece_t texts[4];
    size_t n = fuzz_split(data, size, 0xff, texts, 4);
    check_body(o, texts, n);
    check_builtin((const char *)data, size, setup & 8 ? 16 : BUILTIN_EMBEDDER_DIM_DEFAULT);
    return 0;
}
