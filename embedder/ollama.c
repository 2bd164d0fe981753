/*
 * ollama: the /api/embed client (see ollama.h for the behaviour).
 *
 * The HTTP side is lca's Ollama client (proto/ollama/client.h), whose
 * handles stay with the embedder's thread, so consecutive batches share a
 * keep-alive connection.  The response is collected into one growing
 * buffer that is reused too, so a long seeding run allocates per batch only
 * what cJSON needs.
 *
 * Request life: build JSON -> POST -> classify.  Classification decides
 * between "retry after a back-off" (no connection, connect timeout,
 * connection lost mid-answer, 429, 5xx) and "fail now" (4xx, malformed
 * answer, a sent request that timed out), and turns
 * the failure into one message for the user, built here because only here
 * are the URL, the model and Ollama's own words all known.
 *
 * Invariants: dim is 0 until a well-formed answer arrived and never changes
 * afterwards; the response buffer is NUL-terminated after each transfer;
 * cancel is cleared whenever a public call returns.
 */
#include "embedder/ollama.h"

#include "proto/base/buf.h"
#include "proto/base/utf8.h"
#include "proto/ollama/client.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BATCH 32
#define DEFAULT_ATTEMPTS 4
#define DEFAULT_BACKOFF_MS 250
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS 300000
#define RESPONSE_MAX (512u << 20) /* larger answers are not embeddings */
#define DIM_MAX 65536             /* larger "dimensions" are a broken answer */
#define PROBE_TEXT "lca dimension probe"

struct ollama_embedder {
    char *model;                       /* as given, e.g. "nomic-embed-text" */
    ollama_t *client;                  /* Ollama's URL, this thread's HTTP handles */
    size_t batch;                      /* most texts per request, >= 1 */
    unsigned attempts;                 /* tries per request, >= 1 */
    unsigned backoff_ms;               /* first retry delay */
    long connect_timeout_ms;           /* per connection attempt */
    long timeout_ms;                   /* per request */
    pthread_mutex_t lock;              /* guards call */
    ollama_call_t *call;               /* the request in progress, for a cancel */
    char *response;                    /* body of the last answer, NUL-terminated */
    size_t response_len, response_cap; /* bytes in response, allocated bytes */
    bool response_too_big;             /* the last answer passed RESPONSE_MAX */
    char *query_prefix;                /* put before query texts, "" = none */
    char *document_prefix;             /* put before document texts, "" = none */
    char *scratch;                     /* one text made valid UTF-8, NUL-terminated */
    size_t scratch_cap;                /* allocated bytes of scratch */
    size_t dim;                        /* the model's dimension; 0 = not known yet */
    atomic_bool cancel;                /* abort the call in progress */
};

/* ---- task prefixes ---- */

/* Models trained with instructions in front of the text; used without them
 * they retrieve markedly worse (see each model's card). */
static const struct {
    const char *model;    /* name without namespace and tag */
    const char *query;    /* before a query */
    const char *document; /* before a document */
} model_prefixes[] = {
    {"nomic-embed-text", "search_query: ", "search_document: "},
    {"mxbai-embed-large", "Represent this sentence for searching relevant passages: ", ""},
    {"snowflake-arctic-embed", "Represent this sentence for searching relevant passages: ", ""},
};

/* The prefixes for model ("ns/name:tag" compares as "name"); "" when unknown. */
static void model_prefixes_find(const char *model, const char **query, const char **document) {
    const char *name = strrchr(model, '/');
    name = name ? name + 1 : model;
    size_t len = strcspn(name, ":");
    *query = *document = "";
    for (size_t i = 0; i < sizeof model_prefixes / sizeof model_prefixes[0]; i++) {
        if (strlen(model_prefixes[i].model) == len &&
            strncmp(model_prefixes[i].model, name, len) == 0) {
            *query = model_prefixes[i].query;
            *document = model_prefixes[i].document;
        }
    }
}

/* ---- the answer ---- */

/* Collects the answer's body into o->response. */
static int on_body(void *arg, const char *data, size_t n) {
    ollama_embedder_t *o = arg;
    if (o->response_len + n + 1 > RESPONSE_MAX) {
        o->response_too_big = true;
        return -1; /* ends the transfer */
    }
    if (o->response_len + n + 1 > o->response_cap) {
        size_t cap = o->response_cap ? o->response_cap : 16384;
        while (cap < o->response_len + n + 1)
            cap *= 2;
        char *bigger = realloc(o->response, cap);
        if (!bigger)
            return -1;
        o->response = bigger, o->response_cap = cap;
    }
    memcpy(o->response + o->response_len, data, n);
    o->response_len += n;
    o->response[o->response_len] = '\0';
    return 0;
}

/* ---- life cycle ---- */

ollama_embedder_t *ollama_embedder_new(const ollama_embedder_config_t *config, char *err,
                                       size_t errlen) {
    if (!config || !config->model || !*config->model) {
        err_printf(err, errlen, "ollama: no model given (e.g. ollama:nomic-embed-text)");
        return NULL;
    }
    ollama_embedder_t *o = calloc(1, sizeof *o);
    if (!o)
        goto no_memory;
    pthread_mutex_init(&o->lock, NULL);
    char why[256];
    if (!(o->client = ollama_new(config->host, "lca-embedder", why, sizeof why))) {
        err_printf(err, errlen, "ollama: %s", why);
        ollama_embedder_destroy(&o);
        return NULL;
    }
    if (!(o->model = strdup(config->model)))
        goto no_memory;
    const char *query, *document;
    model_prefixes_find(config->model, &query, &document);
    o->query_prefix = strdup(config->query_prefix ? config->query_prefix : query);
    o->document_prefix = strdup(config->document_prefix ? config->document_prefix : document);
    if (!o->query_prefix || !o->document_prefix)
        goto no_memory;
    o->batch = config->batch ? config->batch : DEFAULT_BATCH;
    o->attempts = config->attempts ? config->attempts : DEFAULT_ATTEMPTS;
    o->backoff_ms = config->backoff_ms ? config->backoff_ms : DEFAULT_BACKOFF_MS;
    o->connect_timeout_ms =
        config->connect_timeout_ms > 0 ? config->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    o->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : DEFAULT_TIMEOUT_MS;
    return o;

no_memory:
    ollama_embedder_destroy(&o);
    err_printf(err, errlen, "ollama: out of memory");
    return NULL;
}

const char *ollama_embedder_url(const ollama_embedder_t *embedder) {
    return embedder ? ollama_url(embedder->client) : NULL;
}

void ollama_embedder_cancel(ollama_embedder_t *embedder) {
    if (!embedder)
        return;
    pthread_mutex_lock(&embedder->lock);
    atomic_store(&embedder->cancel, true);
    if (embedder->call)
        ollama_call_cancel(embedder->call);
    pthread_mutex_unlock(&embedder->lock);
}

void ollama_embedder_destroy(ollama_embedder_t **embedder_p) {
    if (!embedder_p || !*embedder_p)
        return;
    ollama_embedder_t *o = *embedder_p;
    ollama_destroy(&o->client);
    pthread_mutex_destroy(&o->lock);
    free(o->model);
    free(o->response);
    free(o->scratch);
    free(o->query_prefix);
    free(o->document_prefix);
    free(o);
    *embedder_p = NULL;
}

/* ---- request body ---- */

/* Copies text into scratch as valid UTF-8 without NULs (invalid bytes become
 * U+FFFD, NUL a space), NUL-terminated; returns scratch or NULL. */
static const char *text_sanitise(ollama_embedder_t *o, const char *prefix, const char *text,
                                 size_t len) {
    size_t prefix_len = strlen(prefix);
    if (len > (SIZE_MAX - 1 - prefix_len) / 3)
        return NULL;
    size_t need = prefix_len + len * 3 + 1;
    if (need > o->scratch_cap) {
        char *bigger = realloc(o->scratch, need);
        if (!bigger)
            return NULL;
        o->scratch = bigger, o->scratch_cap = need;
    }
    const unsigned char *s = (const unsigned char *)text;
    char *out = o->scratch;
    memcpy(out, prefix, prefix_len);
    out += prefix_len;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_decode(text + i, len - i, NULL);
        if (k == 0) {
            memcpy(out, "\xef\xbf\xbd", 3), out += 3, i++;
        } else if (k == 1 && s[i] == 0) {
            *out++ = ' ', i++;
        } else {
            memcpy(out, s + i, k), out += k, i += k;
        }
    }
    *out = '\0';
    return o->scratch;
}

/* Builds the JSON body for texts[idx[0..count)]; heap string or NULL. */
static char *body_build(ollama_embedder_t *o, const char *prefix, const char *const *texts,
                        const size_t *lens, const size_t *idx, size_t count) {
    char *body = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *input = root ? cJSON_AddArrayToObject(root, "input") : NULL;
    if (!input || !cJSON_AddStringToObject(root, "model", o->model) ||
        !cJSON_AddTrueToObject(root, "truncate"))
        goto done;
    for (size_t i = 0; i < count; i++) {
        const char *clean = text_sanitise(o, prefix, texts[idx[i]], lens[idx[i]]);
        cJSON *item = clean ? cJSON_CreateString(clean) : NULL;
        if (!item || !cJSON_AddItemToArray(input, item)) {
            cJSON_Delete(item);
            goto done;
        }
    }
    body = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(root);
    return body;
}

/* ---- one request with retries ---- */

/* Sleeps ms milliseconds in short slices; false if cancelled meanwhile. */
static bool backoff_sleep(ollama_embedder_t *o, unsigned ms) {
    while (ms > 0) {
        if (atomic_load(&o->cancel))
            return false;
        unsigned slice = ms < 20 ? ms : 20;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return !atomic_load(&o->cancel);
}

/*
 * POSTs body and leaves a 200 answer in o->response.  Retries transient
 * failures up to o->attempts tries; returns 0 or a negative code with the
 * user's message in err.
 */
static int request_send(ollama_embedder_t *o, const char *body, char *err, size_t errlen) {
    char message[512], detail[256];
    unsigned delay = o->backoff_ms;
    int rc = -EIO;
    const char *url = ollama_url(o->client);
    for (unsigned attempt = 1; attempt <= o->attempts; attempt++) {
        if (attempt > 1 && !backoff_sleep(o, delay)) {
            err_printf(err, errlen, "ollama: cancelled");
            return -ECANCELED;
        }
        if (attempt > 1)
            delay = delay > UINT32_MAX / 2 ? delay : delay * 2;
        o->response_len = 0, o->response_too_big = false;
        if (o->response)
            o->response[0] = '\0';
        ollama_call_t *call = ollama_call_new(
            o->client, &(ollama_request_t){.method = "POST",
                                           .path = "/api/embed",
                                           .body = body,
                                           .body_len = strlen(body),
                                           .timeout_ms = (int)o->timeout_ms,
                                           .connect_timeout_ms = (int)o->connect_timeout_ms,
                                           .on_body = on_body,
                                           .arg = o});
        if (!call) {
            err_printf(err, errlen, "ollama: out of memory");
            return -ENOMEM;
        }
        /* A cancel from now on reaches this call. */
        pthread_mutex_lock(&o->lock);
        bool cancelled = atomic_load(&o->cancel);
        o->call = cancelled ? NULL : call;
        pthread_mutex_unlock(&o->lock);
        int run = cancelled ? -ECANCELED : ollama_call_run(call);
        pthread_mutex_lock(&o->lock);
        o->call = NULL;
        pthread_mutex_unlock(&o->lock);
        long status = ollama_call_status(call);
        bool sent = ollama_call_sent(call), timed_out = ollama_call_timed_out(call);
        snprintf(detail, sizeof detail, "%s",
                 ollama_call_error(call)[0] ? ollama_call_error(call) : strerror(-run));
        ollama_call_destroy(&call);
        if (run == -ECANCELED) {
            err_printf(err, errlen, "ollama: cancelled");
            return -ECANCELED;
        }
        if (run == -ECONNABORTED) { /* on_body refused the answer */
            err_printf(err, errlen, "ollama: answer from %s %s", url,
                       o->response_too_big ? "too large" : "could not be stored (out of memory)");
            return o->response_too_big ? -EBADMSG : -ENOMEM;
        }
        if (run == -EIO) {
            err_printf(err, errlen, "ollama: request to %s/api/embed failed: %s", url, detail);
            return -EIO;
        }
        if (run != 0 && timed_out && sent) {
            /* the request went out and Ollama is slow: trying again would
             * only wait as long once more */
            err_printf(err, errlen,
                       "ollama: %s did not answer within %ld ms (is the model still loading? a "
                       "larger timeout may help): %s",
                       url, o->timeout_ms, detail);
            return -ETIMEDOUT;
        }
        if (run != 0) { /* not reachable, or the connection broke: try again */
            err_printf(err, errlen,
                       "Ollama not reachable at %s%s (start it with `ollama serve` or set "
                       "OLLAMA_HOST): %s",
                       url, timed_out ? " in time" : "", detail);
            rc = timed_out ? -ETIMEDOUT : -ECONNREFUSED;
            continue;
        }
        if (status == 200)
            return 0;
        if (!ollama_error_text(o->response, o->response_len, message, sizeof message))
            snprintf(message, sizeof message, "(empty answer)");
        if (status == 429 || status >= 500) {
            err_printf(err, errlen, "ollama: %s failed with HTTP %ld: %s", url, status, message);
            rc = -EIO;
            continue;
        }
        if (status == 404) {
            bool from_ollama = strstr(message, "model") != NULL;
            if (from_ollama)
                err_printf(err, errlen, "ollama: %s (run `ollama pull %s`)", message, o->model);
            else
                err_printf(err, errlen,
                           "ollama: %s has no /api/embed (HTTP 404: %s); is it Ollama 0.3 or "
                           "newer?",
                           url, message);
            return from_ollama ? -ENOENT : -EINVAL;
        }
        err_printf(err, errlen, "ollama: %s refused the request with HTTP %ld: %s", url, status,
                   message);
        return -EINVAL;
    }
    return rc;
}

/*
 * Reads count rows from the last answer into out (count * dim floats),
 * learning dim if it is not known yet.  Returns 0, -EBADMSG or -ERANGE.
 */
static int answer_read(ollama_embedder_t *o, size_t count, float *out, char *err, size_t errlen) {
    int rc = 0;
    bool learned = false; /* dim was set by this answer: undo if it turns out malformed */
    cJSON *root = cJSON_ParseWithLength(o->response, o->response_len);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "embeddings");
    if (!cJSON_IsArray(rows) || (size_t)cJSON_GetArraySize(rows) != count) {
        err_printf(err, errlen,
                   "ollama: malformed answer from %s: want \"embeddings\" with %zu rows",
                   ollama_url(o->client), count);
        rc = -EBADMSG;
        goto done;
    }
    size_t r = 0, width = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        int size = cJSON_IsArray(row) ? cJSON_GetArraySize(row) : -1;
        if (size <= 0 || size > DIM_MAX) {
            err_printf(err, errlen, "ollama: malformed answer from %s: row %zu is not a vector",
                       ollama_url(o->client), r);
            rc = -EBADMSG;
            goto done;
        }
        /* Rows of one answer differ: a broken answer, not a model whose
         * dimension changed (-ERANGE tells the user to re-seed). */
        if (r > 0 && (size_t)size != width) {
            err_printf(err, errlen,
                       "ollama: malformed answer from %s: row %zu has %d values, row 0 has %zu",
                       ollama_url(o->client), r, size, width);
            rc = -EBADMSG;
            goto done;
        }
        width = (size_t)size;
        if (o->dim == 0) {
            o->dim = (size_t)size;
            learned = true;
        } else if ((size_t)size != o->dim) {
            err_printf(err, errlen,
                       "ollama: dimension of %s changed from %zu to %d between answers (model "
                       "replaced?); re-seed the collection",
                       o->model, o->dim, size);
            rc = -ERANGE;
            goto done;
        }
        size_t d = 0;
        const cJSON *value;
        cJSON_ArrayForEach(value, row) {
            if (!cJSON_IsNumber(value)) {
                err_printf(err, errlen,
                           "ollama: malformed answer from %s: row %zu holds a non-number",
                           ollama_url(o->client), r);
                rc = -EBADMSG;
                goto done;
            }
            if (out)
                out[r * o->dim + d] = (float)value->valuedouble;
            d++;
        }
        r++;
    }
done:
    if (rc && learned)
        o->dim = 0;
    cJSON_Delete(root);
    return rc;
}

/* Learns dim with a probe if no answer has been seen. */
static int dim_ensure(ollama_embedder_t *o, char *err, size_t errlen) {
    if (o->dim)
        return 0;
    const char *text = PROBE_TEXT;
    size_t len = strlen(text), idx = 0;
    char *body = body_build(o, "", &text, &len, &idx, 1);
    if (!body) {
        err_printf(err, errlen, "ollama: out of memory");
        return -ENOMEM;
    }
    int rc = request_send(o, body, err, errlen);
    free(body);
    return rc ? rc : answer_read(o, 1, NULL, err, errlen);
}

int ollama_embedder_dim(ollama_embedder_t *embedder, size_t *dim, char *err, size_t errlen) {
    if (!embedder || !dim) {
        err_printf(err, errlen, "ollama: bad arguments");
        return -EINVAL;
    }
    int rc = dim_ensure(embedder, err, errlen);
    *dim = rc == 0 ? embedder->dim : 0;
    atomic_store(&embedder->cancel, false);
    return rc;
}

int ollama_embedder_embed(ollama_embedder_t *embedder, ollama_text_kind_t kind,
                          const char *const *texts, const size_t *lens, size_t n, float *out,
                          char *err, size_t errlen) {
    ollama_embedder_t *o = embedder;
    const char *prefix = !o ? "" : kind == OLLAMA_QUERY ? o->query_prefix : o->document_prefix;
    if (!o || (n && (!texts || !lens || !out))) {
        err_printf(err, errlen, "ollama: bad arguments");
        return -EINVAL;
    }
    size_t *idx = NULL;
    int rc = dim_ensure(o, err, errlen);
    if (rc || n == 0)
        goto done;
    idx = malloc((o->batch < n ? o->batch : n) * sizeof *idx);
    if (!idx) {
        err_printf(err, errlen, "ollama: out of memory");
        rc = -ENOMEM;
        goto done;
    }
    size_t dim = o->dim, next = 0;
    while (next < n && rc == 0) {
        /* gather up to batch non-empty texts; empty ones get the zero row */
        size_t count = 0;
        for (; next < n && count < o->batch; next++) {
            if (lens[next] == 0 || !texts[next])
                memset(out + next * dim, 0, dim * sizeof *out);
            else
                idx[count++] = next;
        }
        if (count == 0)
            break;
        char *body = body_build(o, prefix, texts, lens, idx, count);
        if (!body) {
            err_printf(err, errlen, "ollama: out of memory");
            rc = -ENOMEM;
            break;
        }
        rc = request_send(o, body, err, errlen);
        free(body);
        if (rc)
            break;
        float *rows = malloc(count * dim * sizeof *rows);
        if (!rows) {
            err_printf(err, errlen, "ollama: out of memory");
            rc = -ENOMEM;
            break;
        }
        rc = answer_read(o, count, rows, err, errlen);
        for (size_t i = 0; rc == 0 && i < count; i++)
            memcpy(out + idx[i] * dim, rows + i * dim, dim * sizeof *out);
        free(rows);
    }
done:
    free(idx);
    atomic_store(&o->cancel, false);
    return rc;
}
