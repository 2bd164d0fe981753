/*
 * lca-embedder: the "embed" service.
 *
 * REQUEST header {"kind": "document"|"query"} with a packed-texts payload
 * (proto/base/buf.h) -> FINAL {"model", "dim", "count"} with count*dim
 * little-endian float32 rows.  {"op": "info"} -> FINAL {"model", "dim"}.
 *
 * Each job thread has its own backend (backends are not shared across
 * threads); CANCEL interrupts a backend call in progress.
 */
#include "embedder/backend.h"
#include "proto/base/buf.h"
#include "proto/base/log.h"
#include "proto/ollama/url.h"
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/worker.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TEXTS 4096

static const char *backend_spec = EMBED_BACKEND_DEFAULT;
/* Each job thread's backend, freed when the thread ends (key destructor). */
static pthread_key_t backend_key;

static void backend_free(void *backend) {
    embed_backend_destroy((embed_backend_t **)&backend);
}

static void cancel_backend(void *arg) {
    embed_backend_cancel(arg);
}

static void handle(proto_job_t *job, void *arg) {
    (void)arg;
    char err[512] = "";
    embed_backend_t *b = pthread_getspecific(backend_key);
    if (!b) {
        if (!(b = embed_backend_new(backend_spec, err, sizeof err))) {
            proto_job_error(job, 500, err);
            return;
        }
        pthread_setspecific(backend_key, b);
    }
    size_t dim = embed_backend_dim(b, err, sizeof err);
    if (dim == 0) {
        proto_job_error(job, 502, err);
        return;
    }
    const cJSON *h = proto_job_json(job);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(h, "op");
    char header[256];
    if (cJSON_IsString(op) && strcmp(op->valuestring, "info") == 0) {
        snprintf(header, sizeof header, "{\"model\":\"%s\",\"dim\":%zu}", embed_backend_model(b),
                 dim);
        proto_job_final(job, header, NULL, 0);
        return;
    }
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(h, "kind");
    embed_kind_t k = cJSON_IsString(kind) && strcmp(kind->valuestring, "query") == 0
                         ? EMBED_QUERY
                         : EMBED_DOCUMENT;
    size_t len;
    const void *payload = proto_job_payload(job, &len);
    long n = payload ? texts_count(payload, len) : 0;
    if (n <= 0 || n > MAX_TEXTS) {
        proto_job_error(job, 400,
                        n < 0 ? "payload is not a packed list of texts"
                              : "send between 1 and 4096 texts to embed");
        return;
    }
    const char **texts = malloc((size_t)n * sizeof *texts);
    size_t *lens = malloc((size_t)n * sizeof *lens);
    float *out = malloc((size_t)n * dim * sizeof *out);
    if (!texts || !lens || !out) {
        proto_job_error(job, 503, "embedder out of memory");
        goto done;
    }
    size_t pos = 0;
    for (long i = 0; i < n; i++)
        texts_next(payload, len, &pos, &texts[i], &lens[i]);
    proto_job_on_cancel(job, cancel_backend, b);
    int rc = embed_backend_embed_kind(b, k, texts, lens, (size_t)n, out, err, sizeof err);
    proto_job_on_cancel(job, NULL, NULL);
    if (rc != 0) {
        proto_job_error(job, rc == -ECONNREFUSED ? 502 : rc == -ENOENT ? 404 : 500, err);
        goto done;
    }
    snprintf(header, sizeof header, "{\"model\":\"%s\",\"dim\":%zu,\"count\":%ld}",
             embed_backend_model(b), dim, n);
    proto_job_final(job, header, out, (size_t)n * dim * sizeof *out);
done:
    free(texts);
    free(lens);
    free(out);
}

int main(int argc, char **argv) {
    log_init("embedder");
    const char *broker = proto_broker_default(), *curve = NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long threads = cores > 0 ? cores : 1;
    const setting_t settings[] = {
        OPTION_BROKER(&broker),
        {"backend", 0, "LCA_EMBEDDER", SETTING_TEXT, "SPEC",
         "builtin, builtin:DIM, or ollama:MODEL (ollama uses OLLAMA_HOST)", .out = &backend_spec},
        {"threads", 0, "LCA_EMBEDDER_THREADS", SETTING_NUMBER, "N", "concurrent requests",
         .shown = "cores", .min = 1, .max = 256, .out = &threads},
        OPTION_CURVE_KEYS(&curve),
        {NULL, 0, "OLLAMA_HOST", SETTING_TEXT, NULL, "the Ollama of the ollama: backend",
         .shown = OLLAMA_DEFAULT_HOST},
    };
    const settings_spec_t spec = {
        "lca-embedder", NULL, "Serves the \"embed\" service: turns code and queries into vectors.",
        SETTINGS_OF(settings)};
    int rc = settings_read(&spec, argc, argv, NULL);
    if (rc != SETTINGS_GO_ON)
        return rc;
    char err[512];
    embed_backend_t *probe = embed_backend_new(backend_spec, err, sizeof err);
    if (!probe) {
        log_error("%s", err);
        return 2;
    }
    log_info("backend %s", embed_backend_model(probe));
    embed_backend_destroy(&probe);

    pthread_key_create(&backend_key, backend_free);
    stop_on_signals();
    return proto_worker_serve(&(proto_worker_config_t){.endpoint = broker,
                                                       .service = "embed",
                                                       .curve_dir = curve,
                                                       .capacity = (int)threads,
                                                       .handler = handle});
}
