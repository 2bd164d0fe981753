/*
 * tagger: slices of ctags work on a thread of their own (see tagger.h).
 *
 * The published table is an array of slices, each either pending, ready
 * (with its batch, possibly NULL when it had nothing to parse or ctags
 * failed) or freed.  The thread waits on the condition variable while it is
 * `ahead` slices in front of the caller; the caller waits on the same
 * variable when it needs a slice that is not ready yet.
 */
#include "seeder/tagger.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ctags_batch_t *batch; /* NULL: no tags (nothing to parse, or ctags failed) */
    bool ready;           /* published by the thread */
} tagger_slice_t;

struct tagger {
    const char *root;
    const char *const *paths; /* borrowed, n entries, NULL: not parsed */
    size_t n;
    size_t slice_files;
    size_t ahead;
    size_t nslices;
    tagger_slice_t *slices;
    size_t current; /* the caller's slice: earlier ones are freed */
    bool stop;      /* the thread must end */
    char *error;    /* first ctags failure */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started;
};

static void *tagger_main(void *arg) {
    tagger_t *t = arg;
    size_t from = t->n, count = 0;
    const char **batch_paths = malloc((t->slice_files + 1) * sizeof *batch_paths);
    for (size_t k = 0; k < t->nslices; k++) {
        pthread_mutex_lock(&t->lock);
        while (!t->stop && k > t->current + t->ahead)
            pthread_cond_wait(&t->cond, &t->lock);
        bool stop = t->stop;
        /* The caller went past this slice before it was parsed: nobody
         * will read its tags. */
        bool behind = k < t->current;
        if (behind && !stop) {
            t->slices[k].ready = true;
            pthread_cond_broadcast(&t->cond);
        }
        pthread_mutex_unlock(&t->lock);
        if (stop)
            break;
        if (behind)
            continue;
        from = k * t->slice_files;
        size_t to = from + t->slice_files < t->n ? from + t->slice_files : t->n;
        count = 0;
        for (size_t i = from; batch_paths && i < to; i++)
            if (t->paths[i])
                batch_paths[count++] = t->paths[i];
        ctags_batch_t *batch = NULL;
        char *error = NULL;
        int rc = !batch_paths ? -ENOMEM
                 : count      ? ctags_batch_run(t->root, batch_paths, count, &batch, &error)
                              : 0;
        pthread_mutex_lock(&t->lock);
        if (rc != 0 && !t->error)
            t->error = error ? error : strdup(strerror(rc < 0 ? -rc : rc));
        else
            free(error);
        /* Went past while it was parsed: tagger_ready freed the slices
         * before the caller's then, this one included had it been there. */
        ctags_batch_t *unread = k < t->current ? batch : NULL;
        t->slices[k].batch = unread ? NULL : batch;
        t->slices[k].ready = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        ctags_batch_destroy(&unread);
    }
    free(batch_paths);
    return NULL;
}

int tagger_new(const char *root, const char *const *paths, size_t n, size_t slice_files,
               size_t ahead, tagger_t **out) {
    *out = NULL;
    tagger_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->root = root;
    t->paths = paths;
    t->n = n;
    t->slice_files = slice_files ? slice_files : 256;
    t->ahead = ahead;
    t->nslices = (n + t->slice_files - 1) / t->slice_files;
    t->slices = calloc(t->nslices + 1, sizeof *t->slices);
    if (!t->slices) {
        free(t);
        return -ENOMEM;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    int rc = pthread_create(&t->thread, NULL, tagger_main, t);
    if (rc != 0) {
        tagger_destroy(&t);
        return -rc;
    }
    t->started = true;
    *out = t;
    return 0;
}

void tagger_destroy(tagger_t **self_p) {
    if (!self_p || !*self_p)
        return;
    tagger_t *t = *self_p;
    if (t->started) {
        pthread_mutex_lock(&t->lock);
        t->stop = true;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->thread, NULL);
    }
    for (size_t k = 0; k < t->nslices; k++)
        ctags_batch_destroy(&t->slices[k].batch);
    free(t->slices);
    free(t->error);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    free(t);
    *self_p = NULL;
}

bool tagger_ready(tagger_t *self, size_t i, bool wait) {
    if (i >= self->n)
        return true;
    size_t k = i / self->slice_files;
    pthread_mutex_lock(&self->lock);
    if (k > self->current) {
        for (size_t s = self->current; s < k; s++)
            ctags_batch_destroy(&self->slices[s].batch);
        self->current = k;
        pthread_cond_broadcast(&self->cond);
    }
    while (wait && !self->slices[k].ready)
        pthread_cond_wait(&self->cond, &self->lock);
    bool ready = self->slices[k].ready;
    pthread_mutex_unlock(&self->lock);
    return ready;
}

const ctags_tag_t *tagger_tags(tagger_t *self, size_t i, size_t *count) {
    *count = 0;
    if (i >= self->n || !self->paths[i])
        return NULL;
    size_t k = i / self->slice_files;
    pthread_mutex_lock(&self->lock);
    ctags_batch_t *batch = self->slices[k].ready ? self->slices[k].batch : NULL;
    pthread_mutex_unlock(&self->lock);
    return batch ? ctags_batch_tags(batch, self->paths[i], count) : NULL;
}

const char *tagger_error(tagger_t *self) {
    pthread_mutex_lock(&self->lock);
    const char *error = self->error;
    pthread_mutex_unlock(&self->lock);
    return error;
}
