/*
 * backend: spec parsing and dispatch to the built-in and Ollama embedders.
 *
 * Deliberately a switch over two kinds rather than a table of function
 * pointers: there are two backends, and a switch keeps the spec grammar,
 * the model string and the error texts in one readable place.  The model
 * string is built once at creation and never changes.
 */
#include "embedder/backend.h"

#include "proto/code/embedding.h"
#include "embedder/ollama.h"
#include "proto/base/buf.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { BACKEND_BUILTIN, BACKEND_OLLAMA } backend_kind_t;

struct embed_backend {
    backend_kind_t kind;
    builtin_embedder_t *builtin; /* set iff kind == BACKEND_BUILTIN */
    ollama_embedder_t *ollama;   /* set iff kind == BACKEND_OLLAMA */
    char *model;                 /* label of the vectors, owned */
    atomic_bool cancel;          /* builtin: stop between texts */
};

/* Parses "<digits>" fully into *value; false on anything else. */
static bool parse_size(const char *s, size_t *value) {
    if (!*s || strlen(s) > 9)
        return false;
    size_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (size_t)(*s - '0');
    }
    *value = v;
    return true;
}

static embed_backend_t *backend_new_builtin(const char *arg, char *err, size_t errlen) {
    size_t dim = BUILTIN_EMBEDDER_DIM_DEFAULT;
    if (arg && (!parse_size(arg, &dim) || builtin_embedder_check_dim(dim) != 0)) {
        err_printf(err, errlen,
                   "embedder: bad dimension '%s' in builtin:<dim>: want a multiple of 16 "
                   "from 16 to %d",
                   arg, BUILTIN_EMBEDDER_DIM_MAX);
        return NULL;
    }
    embed_backend_t *b = calloc(1, sizeof *b);
    if (b) {
        b->kind = BACKEND_BUILTIN;
        b->builtin = builtin_embedder_new(dim);
        b->model = strdup(BUILTIN_EMBEDDER_MODEL);
    }
    if (!b || !b->builtin || !b->model) {
        embed_backend_destroy(&b);
        err_printf(err, errlen, "embedder: out of memory");
        return NULL;
    }
    return b;
}

static embed_backend_t *backend_new_ollama(const char *arg, char *err, size_t errlen) {
    char *model = strdup(arg);
    if (!model) {
        err_printf(err, errlen, "embedder: out of memory");
        return NULL;
    }
    char *host = strchr(model, '@');
    if (host)
        *host++ = '\0';
    embed_backend_t *b = NULL;
    if (!*model || strpbrk(model, " \t\r\n\"\\")) {
        err_printf(err, errlen,
                   "embedder: bad model name in 'ollama:%s' (e.g. ollama:nomic-embed-text)", arg);
        goto done;
    }
    if (host && !*host) {
        err_printf(err, errlen, "embedder: empty host after '@' in 'ollama:%s'", arg);
        goto done;
    }
    ollama_embedder_config_t config = {.model = model, .host = host};
    b = calloc(1, sizeof *b);
    if (!b) {
        err_printf(err, errlen, "embedder: out of memory");
        goto done;
    }
    b->kind = BACKEND_OLLAMA;
    b->ollama = ollama_embedder_new(&config, err, errlen);
    if (!b->ollama) {
        embed_backend_destroy(&b);
        goto done;
    }
    size_t need = strlen("ollama:") + strlen(model) + 1;
    b->model = malloc(need);
    if (!b->model) {
        embed_backend_destroy(&b);
        err_printf(err, errlen, "embedder: out of memory");
        goto done;
    }
    snprintf(b->model, need, "ollama:%s", model);
done:
    free(model);
    return b;
}

embed_backend_t *embed_backend_new(const char *spec, char *err, size_t errlen) {
    if (!spec || !*spec)
        spec = EMBED_BACKEND_DEFAULT;
    if (strcmp(spec, "builtin") == 0)
        return backend_new_builtin(NULL, err, errlen);
    if (strncmp(spec, "builtin:", 8) == 0)
        return backend_new_builtin(spec + 8, err, errlen);
    if (strncmp(spec, "ollama:", 7) == 0)
        return backend_new_ollama(spec + 7, err, errlen);
    err_printf(err, errlen,
               "embedder: unknown backend '%s' (want builtin, builtin:<dim> or ollama:<model>)",
               spec);
    return NULL;
}

const char *embed_backend_model(const embed_backend_t *backend) {
    return backend ? backend->model : NULL;
}

size_t embed_backend_dim(embed_backend_t *backend, char *err, size_t errlen) {
    if (!backend) {
        err_printf(err, errlen, "embedder: no backend");
        return 0;
    }
    if (backend->kind == BACKEND_BUILTIN)
        return builtin_embedder_dim(backend->builtin);
    size_t dim = 0;
    return ollama_embedder_dim(backend->ollama, &dim, err, errlen) == 0 ? dim : 0;
}

static int builtin_embed_all(embed_backend_t *b, const char *const *texts, const size_t *lens,
                             size_t n, float *out, char *err, size_t errlen) {
    size_t dim = builtin_embedder_dim(b->builtin);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (atomic_load(&b->cancel)) {
            err_printf(err, errlen, "embedder: cancelled");
            rc = -ECANCELED;
            break;
        }
        rc = builtin_embedder_embed(b->builtin, texts[i], lens[i], out + i * dim);
        if (rc != 0)
            err_printf(err, errlen, "embedder: %s", strerror(-rc));
    }
    atomic_store(&b->cancel, false);
    return rc;
}

int embed_backend_embed_kind(embed_backend_t *backend, embed_kind_t kind, const char *const *texts,
                             const size_t *lens, size_t n, float *out, char *err, size_t errlen) {
    if (!backend || (n && (!texts || !lens || !out)) ||
        (kind != EMBED_DOCUMENT && kind != EMBED_QUERY)) {
        err_printf(err, errlen, "embedder: bad arguments");
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!texts[i] && lens[i]) {
            err_printf(err, errlen, "embedder: text %zu is NULL", i);
            return -EINVAL;
        }
    }
    if (backend->kind == BACKEND_BUILTIN)
        return builtin_embed_all(backend, texts, lens, n, out, err, errlen);
    ollama_text_kind_t ollama_kind = kind == EMBED_QUERY ? OLLAMA_QUERY : OLLAMA_DOCUMENT;
    return ollama_embedder_embed(backend->ollama, ollama_kind, texts, lens, n, out, err, errlen);
}

int embed_backend_embed(embed_backend_t *backend, const char *const *texts, const size_t *lens,
                        size_t n, float *out, char *err, size_t errlen) {
    return embed_backend_embed_kind(backend, EMBED_DOCUMENT, texts, lens, n, out, err, errlen);
}

void embed_backend_cancel(embed_backend_t *backend) {
    if (!backend)
        return;
    if (backend->kind == BACKEND_OLLAMA)
        ollama_embedder_cancel(backend->ollama);
    else
        atomic_store(&backend->cancel, true);
}

void embed_backend_destroy(embed_backend_t **backend_p) {
    if (!backend_p || !*backend_p)
        return;
    embed_backend_t *b = *backend_p;
    builtin_embedder_destroy(&b->builtin);
    ollama_embedder_destroy(&b->ollama);
    free(b->model);
    free(b);
    *backend_p = NULL;
}
