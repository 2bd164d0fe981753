/*
 * The ring of recent requests (see history.h).
 *
 * Invariants: ring[(id - 1) % HISTORY_MAX].id == id for the last
 * HISTORY_MAX ids begun (unless cleared since); every string an entry's
 * chunks point at was malloc'd here and is freed when its slot is taken or
 * cleared.
 */
#include "gateway/history.h"

#include "proto/base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static history_entry_t ring[HISTORY_MAX];
static uint64_t last_id;
static history_listener_t listener;
static void *listener_arg;

static void chunks_free(history_entry_t *e) {
    for (size_t i = 0; i < e->nchunks; i++) {
        context_chunk_t *c = &e->chunks[i].chunk;
        free((char *)c->path);
        free((char *)c->language);
        free((char *)c->kind);
        free((char *)c->text);
    }
    e->nchunks = 0;
}

static void copy_string(char *out, size_t cap, const char *s) {
    snprintf(out, cap, "%s", s ? s : "");
}

static history_entry_t *entry_of(uint64_t id) {
    if (id == 0)
        return NULL;
    history_entry_t *e = &ring[(id - 1) % HISTORY_MAX];
    return e->id == id ? e : NULL;
}

static void changed(history_entry_t *e) {
    e->version++;
    if (listener)
        listener(e, listener_arg);
}

static int64_t wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

uint64_t history_begin(const char *rid, const char *route, const char *model) {
    uint64_t id = ++last_id;
    history_entry_t *e = &ring[(id - 1) % HISTORY_MAX];
    chunks_free(e);
    memset(e, 0, sizeof *e);
    e->id = id;
    copy_string(e->rid, sizeof e->rid, rid);
    copy_string(e->route, sizeof e->route, route);
    copy_string(e->model, sizeof e->model, model);
    e->started_ms = wall_ms();
    e->first_token_ms = -1;
    e->duration_ms = -1;
    e->tokens = e->prompt_tokens = e->reread_tokens = -1;
    changed(e);
    return id;
}

/* Where UTF-8 text of len bytes may be cut at most max bytes in, without
 * splitting a character. */
static size_t utf8_cut(const char *text, size_t len, size_t max) {
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--;
    return n;
}

void history_context(uint64_t id, const context_result_t *r, const bool *used) {
    history_entry_t *e = entry_of(id);
    if (!e || !r)
        return;
    chunks_free(e);
    e->has_context = true;
    e->retrieval_ms = r->elapsed_ms;
    copy_string(e->collection, sizeof e->collection, r->status == 200 ? r->collection : "");
    e->chunks_dropped = 0;
    for (size_t i = 0; r->status == 200 && i < r->count; i++) {
        if (e->nchunks == HISTORY_CHUNKS_MAX) {
            e->chunks_dropped++;
            continue;
        }
        const context_chunk_t *c = &r->chunks[i];
        const char *text = c->text ? c->text : "";
        size_t text_len = c->text ? utf8_cut(text, c->text_len, HISTORY_TEXT_MAX) : 0;
        const char *path = c->path ? c->path : "", *language = c->language ? c->language : "";
        const char *kind = c->kind ? c->kind : "";
        history_chunk_t *h = &e->chunks[e->nchunks];
        *h = (history_chunk_t){
            .chunk = *c, .used = !used || used[i], .truncated = c->text && text_len < c->text_len};
        h->chunk.path = bytes_dup(path, strlen(path));
        h->chunk.language = bytes_dup(language, strlen(language));
        h->chunk.kind = bytes_dup(kind, strlen(kind));
        h->chunk.text = bytes_dup(text, text_len);
        h->chunk.text_len = text_len;
        if (h->chunk.nterms > FUSION_TERMS_MAX)
            h->chunk.nterms = FUSION_TERMS_MAX;
        e->nchunks++; /* counted now so that chunks_free frees what was made */
        if (!h->chunk.path || !h->chunk.language || !h->chunk.kind || !h->chunk.text) {
            chunks_free(e); /* out of memory: the request keeps no chunks */
            e->chunks_dropped = r->count;
            break;
        }
    }
    changed(e);
}

void history_first_token(uint64_t id, double ms) {
    history_entry_t *e = entry_of(id);
    if (!e || e->first_token_ms >= 0)
        return;
    e->first_token_ms = ms;
    changed(e);
}

void history_reread(uint64_t id, long tokens) {
    history_entry_t *e = entry_of(id);
    if (!e)
        return;
    e->reread_tokens = tokens;
    changed(e);
}

void history_end(uint64_t id, int status, double duration_ms, long tokens, long prompt_tokens) {
    history_entry_t *e = entry_of(id);
    if (!e || e->status != 0)
        return;
    e->status = status > 0 ? status : 500;
    e->duration_ms = duration_ms;
    e->tokens = tokens;
    e->prompt_tokens = prompt_tokens;
    changed(e);
}

const history_entry_t *history_find(uint64_t id) {
    return entry_of(id);
}

uint64_t history_last_id(void) {
    return last_id;
}

void history_listen(history_listener_t fn, void *arg) {
    listener = fn;
    listener_arg = arg;
}

void history_clear(void) {
    for (size_t i = 0; i < HISTORY_MAX; i++) {
        chunks_free(&ring[i]);
        memset(&ring[i], 0, sizeof ring[i]);
    }
}
