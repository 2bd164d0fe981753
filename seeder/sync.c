/*
 * sync: the incremental pipeline (see sync.h for what it guarantees).
 *
 * A run has two halves.  The plan reads every candidate file once, hashes
 * it and sorts it into unchanged, to index (a job) or to delete; unchanged
 * files whose imports resolve differently under the new file list get an
 * `imports.put`.  The execution then drives one loop over one client socket
 * with three kinds of requests in flight at once:
 *
 *   embed   a batch of chunk texts from one or more jobs, in file order;
 *   put     one finished job (all its chunks have vectors) to its shard;
 *   write   the small requests: file.delete, imports.put, imports.delete.
 *
 * Jobs are loaded (read, chunked, imports resolved) just ahead of the embed
 * cursor, so memory holds a bounded window of files, never the repository;
 * ctags runs on its own thread a few hundred files ahead of the loader
 * (tagger.h), so parsing overlaps embedding and writing.
 * Each job keeps its vectors until its put has been sent; the put carries
 * the hash of exactly the bytes that were chunked, so a file edited during
 * the run is simply found changed again next time.
 *
 * Every request has a deadline.  A reply the client made up because the
 * deadline passed (504) ends the run: something in lca stopped answering,
 * and waiting on the other requests would only repeat that.
 */
#include "seeder/sync.h"

#include "proto/base/beneath.h"
#include "proto/base/buf.h"
#include "proto/base/json.h"
#include "proto/base/log.h"
#include "proto/base/map.h"
#include "proto/ops.h"
#include "proto/shard.h"
#include "proto/socket.h"
#include "seeder/chunk.h"
#include "seeder/ctags.h"
#include "seeder/jsclass.h"
#include "seeder/rustitems.h"
#include "proto/code/imports.h"
#include "proto/code/refs.h"
#include "seeder/tagger.h"
#include "proto/base/signals.h"
#include "proto/base/clock.h"
#include "proto/base/utf8.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SYNC_PROBE_TIMEOUT_MS 3000
#define SYNC_EMBED_TIMEOUT_MS 120000
#define SYNC_WRITE_TIMEOUT_MS 60000
#define SYNC_STORE_TIMEOUT_MS                                                                      \
    120000 /* collection ops: a drop of a big collection takes a while                             \
            */
#define SYNC_LOADED_BYTES_MAX (32u << 20) /* bytes held by loaded jobs: text, chunks, vectors */
#define SYNC_LOADED_FILES_MAX 4096
#define SYNC_BATCH_BYTES_MAX (8u << 20) /* text bytes per embed request */
#define SYNC_ERRORS_SHOWN 20            /* per-file error lines before we only count */
#define SYNC_IMPORTS_MAX 4096           /* the retriever takes lists of at most this many */
#define SYNC_TICK_MS 100                /* longest wait between progress updates */
#define SYNC_TAG_SLICE 512              /* files per ctags run */
#define SYNC_TAG_AHEAD 2                /* ctags slices parsed ahead of the loader */

#define SYNC_REFS_MAX 1024 /* references one file sends (the most repeated first) */

/* The files one file imports, resolved, and the references it makes
 * (proto/code/refs.h): all owned strings. */
typedef struct {
    char **paths;
    size_t count;
    ops_ref_t *refs; /* never NULL once listed: an empty list clears the shards' copy */
    size_t ref_count;
} import_list_t;

/* What the shards hold for one path. */
typedef struct {
    char *path;
    char hash[65];
} known_t;

struct sync {
    sync_config_t config; /* strings borrowed from the caller */
    int root_fd;          /* config.root, held open: files are read beneath it */
    char model[128];      /* the embedder's model */
    unsigned dim;         /* and its dimension */
    map_t *known;         /* path -> known_t*, owned */
    int errors_shown;     /* per-file error lines written so far */
};

typedef enum {
    JOB_WAITING = 0, /* not loaded yet */
    JOB_LOADED,      /* chunked; waiting for vectors */
    JOB_READY,       /* every chunk has its vector; put not sent yet */
    JOB_WRITING,     /* put sent */
    JOB_DONE,        /* written */
    JOB_FAILED,      /* reported and counted */
} job_state_t;

/* One new or changed file on its way to a shard. */
typedef struct {
    char *path;
    lang_id_t lang;
    bool is_new; /* the shards did not hold the path */
    job_state_t state;
    char *data; /* the content chunked (LOADED, READY) */
    size_t len;
    char hash[65]; /* of data */
    chunk_list_t *chunks;
    size_t nchunks;
    import_list_t imports; /* the resolved files it imports */
    float *vectors;        /* nchunks * dim */
    size_t queued;         /* chunks handed to embed batches */
    size_t embedded;       /* chunks whose vectors arrived */
    size_t mem;            /* bytes this job holds while loaded (counted in loaded_bytes) */
} job_t;

/* A small request waiting for a free slot. */
typedef struct {
    char *service;
    char *header;
    char *what;      /* "file.delete a/b.c", for messages */
    char *forget;    /* path to drop from the known map on success, or NULL */
    bool missing_ok; /* a 404 is success (deleting what is not there) */
    int attempts;    /* times sent so far */
    int64_t due_ms;  /* a retry waits until then (clock_ms) */
} write_op_t;

typedef enum { REQ_EMBED, REQ_PUT, REQ_WRITE } req_kind_t;

/* A request in flight. */
typedef struct {
    req_kind_t kind;
    size_t job;     /* REQ_PUT */
    size_t count;   /* REQ_EMBED: texts */
    size_t *jobs;   /* REQ_EMBED: job of each text */
    size_t *chunks; /* REQ_EMBED: chunk of each text */
    write_op_t op;  /* REQ_WRITE */
} req_t;

/* The state of one execution. */
typedef struct {
    sync_t *sync;
    sync_stats_t *stats;
    job_t *jobs;
    size_t njobs;
    tagger_t *tagger;       /* ctags for the jobs, running ahead of the loader */
    const char **tag_paths; /* job path when ctags parses its language, else NULL */
    imports_index_t *index; /* the new file list */
    size_t next_load;       /* first job not loaded yet */
    size_t cursor_job;      /* next chunk to embed: job ... */
    size_t cursor_chunk;    /* ... and chunk */
    size_t unsent;          /* loaded chunks not in a batch yet */
    uint64_t loaded_bytes;  /* memory held by loaded jobs (job_t.mem) */
    size_t loaded_files;
    size_t *ready; /* jobs whose put can be sent (a FIFO) */
    size_t ready_head, ready_len, ready_cap;
    write_op_t *ops; /* FIFO of small requests */
    size_t ops_head, ops_len, ops_cap;
    write_op_t *retries; /* small requests a shard's fault sent back, waiting out a back-off */
    size_t retry_len, retry_cap;
    map_t *requests; /* id -> req_t*, in flight */
    int embed_inflight, write_inflight;
    uint64_t files_done, bytes_done; /* progress of the index phase */
    int fatal;                       /* negative errno that ends the run */
    char *fatal_message;
} run_t;

/* ---- small helpers ---- */

void sync_hash_content(const void *data, size_t len, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1)
        md_len = 0;
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = i < md_len ? digits[md[i] >> 4] : '0';
        hex[2 * i + 1] = i < md_len ? digits[md[i] & 15] : '0';
    }
    hex[64] = '\0';
}

static char *sync_format(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *sync_format(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    char *s = NULL;
    if (vasprintf(&s, format, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* Reads rel, a regular file of at most max bytes, opened beneath the root
 * (proto/base/beneath.h): the walk checked the path a while ago, and the
 * tree may have changed since, so what is read is what this fd holds.
 * Returns 0 with *data (caller frees, NUL-terminated) and *len, or a
 * negative errno (-EFBIG when larger, -EINVAL when not a regular file,
 * -EXDEV when the path now leads outside the root). */
static int sync_read_file(const sync_t *s, const char *rel, uint64_t max, char **data,
                          size_t *len) {
    *data = NULL;
    *len = 0;
    int fd = beneath_open(s->root_fd, rel);
    if (fd < 0)
        return fd;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if ((uint64_t)st.st_size > max)
        rc = -EFBIG;
    size_t cap = rc == 0 ? (size_t)st.st_size + 1 : 0, used = 0;
    char *buf = rc == 0 ? malloc(cap + 1) : NULL;
    if (rc == 0 && !buf)
        rc = -ENOMEM;
    while (rc == 0) {
        if (used == cap) {
            if (used > max) {
                rc = -EFBIG;
                break;
            }
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (rc == 0 && used > max)
        rc = -EFBIG;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return 0;
}

/* Why sync_read_file() failed, for the user. */
static const char *sync_read_error(int rc) {
    switch (rc) {
    case -EXDEV:
        return "its path now leads outside the root (a symlink or a directory changed since it "
               "was listed): not read";
    case -EINVAL:
        return "no longer a regular file";
    case -EFBIG:
        return "grew past the size limit";
    default:
        return strerror(-rc);
    }
}

static const walk_options_t *sync_walk_options(const sync_t *s, walk_options_t *defaults) {
    if (s->config.walk_options)
        return s->config.walk_options;
    walk_options_default(defaults);
    return defaults;
}

/* Writes a per-file error line (the first SYNC_ERRORS_SHOWN of a run). */
static void sync_report(sync_t *s, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void sync_report(sync_t *s, const char *format, ...) {
    FILE *out = s->config.report ? s->config.report : stderr;
    if (s->errors_shown >= SYNC_ERRORS_SHOWN) {
        if (s->errors_shown++ == SYNC_ERRORS_SHOWN)
            fprintf(out, "error: more errors follow; only counted from now on\n");
        return;
    }
    s->errors_shown++;
    va_list ap;
    va_start(ap, format);
    fprintf(out, "error: ");
    vfprintf(out, format, ap);
    fprintf(out, "\n");
    va_end(ap);
}

/* path as the summary shows it: every byte that is not part of a UTF-8
 * character written as \xNN, so that a name that is not UTF-8 can be shown
 * (and sent as JSON) at all.  NULL when out of memory. */
static char *sync_shown_path(const char *path) {
    size_t len = strlen(path);
    buf_t b = BUF_INIT;
    int rc = buf_reserve(&b, len + 1);
    for (size_t at = 0; rc == 0 && at < len;) {
        size_t n = utf8_decode(path + at, len - at, NULL);
        rc = n ? buf_append(&b, path + at, n) : buf_printf(&b, "\\x%02x", (unsigned char)path[at]);
        at += n ? n : 1;
    }
    if (rc != 0 || b.len == 0) {
        buf_free(&b);
        return rc == 0 ? strdup(path) : NULL;
    }
    return b.data; /* NUL-terminated (buf.h) */
}

static void sync_add_skip(sync_stats_t *stats, walk_reason_t reason, const char *path,
                          const char *detail) {
    if (reason <= WALK_ACCEPTED || reason >= WALK_REASON_COUNT)
        return;
    uint64_t seen = stats->skipped[reason]++;
    stats->files_skipped++;
    if (seen < SYNC_EXAMPLES) {
        char *shown = sync_shown_path(path);
        stats->examples[reason][seen] =
            !shown || !detail || !*detail ? shown : sync_format("%s (%s)", shown, detail);
        if (shown && stats->examples[reason][seen] != shown)
            free(shown);
    }
}

void sync_stats_free(sync_stats_t *stats) {
    for (int r = 0; r < WALK_REASON_COUNT; r++)
        for (int i = 0; i < SYNC_EXAMPLES; i++)
            free(stats->examples[r][i]);
    memset(stats, 0, sizeof *stats);
}

/* ---- the known map ---- */

static known_t *sync_known_get(const sync_t *s, const char *path) {
    return map_get(s->known, path, strlen(path));
}

static int sync_known_set(sync_t *s, const char *path, const char *hash) {
    known_t *k = sync_known_get(s, path);
    if (k) {
        snprintf(k->hash, sizeof k->hash, "%s", hash);
        return 0;
    }
    k = calloc(1, sizeof *k);
    if (!k || !(k->path = strdup(path))) {
        free(k);
        return -ENOMEM;
    }
    snprintf(k->hash, sizeof k->hash, "%s", hash);
    int rc = map_put(s->known, path, strlen(path), k);
    if (rc != 0) {
        free(k->path);
        free(k);
    }
    return rc;
}

static void sync_known_forget(sync_t *s, const char *path) {
    known_t *k = map_remove(s->known, path, strlen(path));
    if (k) {
        free(k->path);
        free(k);
    }
}

static void sync_known_free_each(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    known_t *k = value;
    free(k->path);
    free(k);
}

typedef struct {
    const char **paths;
    size_t n;
} path_list_t;

static void sync_known_collect(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len;
    path_list_t *list = arg;
    list->paths[list->n++] = ((known_t *)value)->path;
}

static int sync_compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The known paths, sorted (borrowed from the map; caller frees the array). */
static const char **sync_known_paths(const sync_t *s, size_t *n) {
    size_t count = map_size(s->known);
    path_list_t list = {calloc(count + 1, sizeof *list.paths), 0};
    if (!list.paths)
        return NULL;
    map_each(s->known, sync_known_collect, &list);
    qsort(list.paths, list.n, sizeof *list.paths, sync_compare_strings);
    *n = list.n;
    return list.paths;
}

size_t sync_known_count(const sync_t *self) {
    return map_size(self->known);
}

const char *sync_model(const sync_t *self) {
    return self->model;
}

unsigned sync_dim(const sync_t *self) {
    return self->dim;
}

/* ---- one request at a time (sync_open, touch) ---- */

/* A request and its FINAL.  On ERROR returns -EIO with *status and err set. */
static int sync_call(sync_t *s, const char *service, const char *header, int timeout_ms,
                     proto_msg_t *final, int *status, char *err, size_t err_len) {
    return proto_client_call(s->config.client, service, header, NULL, 0, timeout_ms, NULL, NULL,
                             final, status, err, err_len);
}

/* The message for a failed request to a shard or the embedder. */
static char *sync_service_error(const sync_t *s, const char *service, int status, const char *err) {
    if (status == 503) {
        int shard = shard_of_service(service);
        if (shard >= 0)
            return sync_format("%s: is lca-retriever --shard %d/%d running?", err, shard,
                               s->config.shards);
        return sync_format("%s: is lca-%s running?", err,
                           strcmp(service, "embed") == 0 ? "embedder" : service);
    }
    if (status == 504)
        return sync_format("%s (is lca still running at %s?)", err, s->config.endpoint);
    return sync_format("%s: %s", service, err);
}

/* The header of a request to the shards (proto/ops.h) as a heap string;
 * NULL when out of memory. */
static char *sync_header(const ops_request_t *req) {
    buf_t b = BUF_INIT;
    if (ops_encode(req, &b) != 0) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* {"op":op,"collection":name} */
static char *sync_collection_header(const sync_t *s, ops_op_t op) {
    return sync_header(&(ops_request_t){.op = op, .collection = s->config.collection});
}

/* Reads one shard's `collection.files` answer into the known map.  Entries
 * on the wrong shard (the shard count changed under them) are deleted there
 * and left out, so they are indexed again where they belong. */
static int sync_load_shard(sync_t *s, int shard, char **error) {
    char service[SHARD_SERVICE_MAX], err[512];
    shard_service(shard, service);
    char *header = sync_collection_header(s, OPS_COLLECTION_FILES);
    if (!header)
        return -ENOMEM;
    proto_msg_t final;
    int status = 0;
    int rc = sync_call(s, service, header, SYNC_STORE_TIMEOUT_MS, &final, &status, err, sizeof err);
    free(header);
    if (rc != 0) {
        *error = sync_service_error(s, service, status, err);
        return status == 504 ? -ETIMEDOUT : -EIO;
    }
    cJSON *root = final.payload ? cJSON_ParseWithLength(final.payload, final.payload_len) : NULL;
    proto_msg_close(&final);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(files)) {
        cJSON_Delete(root);
        *error = sync_format("%s: collection.files answered without a file list", service);
        return -EPROTO;
    }
    rc = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, files) {
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive(f, "hash");
        if (!cJSON_IsString(path) || !cJSON_IsString(hash))
            continue;
        const char *p = path->valuestring;
        if (shard_of(p, strlen(p), s->config.shards) != shard) {
            log_warn("%s holds %s, which belongs to shard %d: deleting it there", service, p,
                     shard_of(p, strlen(p), s->config.shards));
            char *h = sync_header(&(ops_request_t){
                .op = OPS_FILE_DELETE, .collection = s->config.collection, .path.path = p});
            int st;
            char e[256];
            if (h)
                sync_call(s, service, h, SYNC_STORE_TIMEOUT_MS, NULL, &st, e, sizeof e);
            free(h);
            continue;
        }
        if ((rc = sync_known_set(s, p, hash->valuestring)) != 0)
            break;
    }
    cJSON_Delete(root);
    return rc;
}

/* Drops the collection on one shard (dropping what is not there is fine). */
static int sync_drop(sync_t *s, const char *service, char **message) {
    char err[512];
    int status = 0;
    char *header = sync_collection_header(s, OPS_COLLECTION_DROP);
    int call = header ? sync_call(s, service, header, SYNC_STORE_TIMEOUT_MS, NULL, &status, err,
                                  sizeof err)
                      : -ENOMEM;
    free(header);
    if (call == 0 || status == 404)
        return 0;
    *message =
        call == -ENOMEM ? strdup("out of memory") : sync_service_error(s, service, status, err);
    return call == -ENOMEM ? -ENOMEM : -EIO;
}

/* Makes sure one shard has the collection with the embedder's model; sets
 * *placement to the placement the shard has it with. */
static int sync_ensure(sync_t *s, const char *service, int *placement, char **message) {
    char err[512];
    int status = 0;
    proto_msg_t final;
    char *h = sync_header(&(ops_request_t){.op = OPS_COLLECTION_ENSURE,
                                           .collection = s->config.collection,
                                           .ensure = {.root = s->config.root,
                                                      .model = s->model,
                                                      .dim = s->dim,
                                                      .shards = s->config.shards,
                                                      .placement = SHARD_PLACEMENT}});
    int call = h ? sync_call(s, service, h, SYNC_STORE_TIMEOUT_MS, &final, &status, err, sizeof err)
                 : -ENOMEM;
    free(h);
    if (call == -ENOMEM) {
        *message = strdup("out of memory");
        return -ENOMEM;
    }
    if (call != 0 && status == 409) {
        *message = sync_format("cannot seed collection %s with %s (dim %u, %d shards): %s%s",
                               s->config.collection, s->model, s->dim, s->config.shards, err,
                               strstr(err, "this retriever is shard")
                                   ? "; set --shards (or LCA_SHARDS) to the number of "
                                     "retriever shards"
                               : strstr(err, "--reset")
                                   ? ""
                                   : "; seed with --reset to drop it and index it again");
        return -EEXIST;
    }
    if (call != 0) {
        *message = sync_service_error(s, service, status, err);
        return -EIO;
    }
    cJSON *answer = cJSON_ParseWithLength(final.header, final.header_len);
    proto_msg_close(&final);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(answer, "placement");
    *placement = cJSON_IsNumber(p) ? (int)p->valuedouble : SHARD_PLACEMENT;
    cJSON_Delete(answer);
    return 0;
}

/* Embed requests to keep in flight: enough for every embedder thread the
 * broker knows of to have one, plus one queued behind each (2..32; 4 when
 * the broker's status says nothing). */
static int sync_embed_inflight(const proto_msg_t *status) {
    cJSON *root = cJSON_ParseWithLength(status->header, status->header_len);
    int capacity = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(root, "workers")) {
        const cJSON *service = cJSON_GetObjectItemCaseSensitive(w, "service");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(w, "capacity");
        if (cJSON_IsString(service) && strcmp(service->valuestring, "embed") == 0 &&
            cJSON_IsNumber(c) && c->valuedouble > 0)
            capacity += c->valuedouble < 64 ? (int)c->valuedouble : 64;
    }
    cJSON_Delete(root);
    if (capacity == 0)
        return 4;
    return capacity * 2 < 2 ? 2 : capacity * 2 > 32 ? 32 : capacity * 2;
}

int sync_open(const sync_config_t *config, sync_t **out, char **error) {
    *out = NULL;
    char *message = NULL;
    int rc = 0, status = 0;
    sync_t *s = calloc(1, sizeof *s);
    if (!s || !(s->known = map_new())) {
        free(s);
        if (error)
            *error = strdup("out of memory");
        return -ENOMEM;
    }
    s->root_fd = -1;
    s->config = *config;
    s->root_fd = open(config->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        rc = -errno;
        message = sync_format("cannot open %s: %s", config->root, strerror(errno));
        goto done;
    }
    if (s->config.shards < 1)
        s->config.shards = 1;
    if (s->config.embed_batch <= 0)
        s->config.embed_batch = 128;
    if (s->config.embed_batch > 4096)
        s->config.embed_batch = 4096;
    if (s->config.write_inflight <= 0)
        s->config.write_inflight = 32;
    if (s->config.timeout_ms <= 0)
        s->config.timeout_ms = 5000;
    if (s->config.write_attempts <= 0)
        s->config.write_attempts = 5;
    if (s->config.retry_ms <= 0)
        s->config.retry_ms = 250;
    char err[512];
    proto_msg_t final;

    /* The broker answers broker.status itself: silence means no broker. */
    int probe =
        s->config.timeout_ms < SYNC_PROBE_TIMEOUT_MS ? s->config.timeout_ms : SYNC_PROBE_TIMEOUT_MS;
    if (sync_call(s, "broker.status", NULL, probe, &final, &status, err, sizeof err) != 0) {
        message = sync_format("cannot reach lca at %s: is `lca up` running?", config->endpoint);
        rc = -EHOSTUNREACH;
        goto done;
    }
    if (s->config.embed_inflight <= 0)
        s->config.embed_inflight = sync_embed_inflight(&final);
    proto_msg_close(&final);

    if (sync_call(s, "embed", "{\"op\":\"info\"}", s->config.timeout_ms, &final, &status, err,
                  sizeof err) != 0) {
        message = sync_service_error(s, "embed", status, err);
        rc = -EIO;
        goto done;
    }
    cJSON *info = cJSON_ParseWithLength(final.header, final.header_len);
    proto_msg_close(&final);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(info, "model");
    const cJSON *dim = cJSON_GetObjectItemCaseSensitive(info, "dim");
    if (cJSON_IsString(model) && cJSON_IsNumber(dim) && dim->valuedouble >= 1 &&
        dim->valuedouble <= 65536) {
        snprintf(s->model, sizeof s->model, "%s", model->valuestring);
        s->dim = (unsigned)dim->valuedouble;
    }
    cJSON_Delete(info);
    if (!s->dim) {
        message = strdup("the embedder's info answer has no model and dimension");
        rc = -EPROTO;
        goto done;
    }

    /* Shard by shard: ping (the worker library answers at once, so a
     * missing worker shows within the short timeout; the collection ops may
     * legitimately take long), drop when resetting, ensure. */
    int placed = SHARD_PLACEMENT; /* a placement other than ours, if a shard has one */
    for (int shard = 0; shard < s->config.shards; shard++) {
        char service[SHARD_SERVICE_MAX];
        shard_service(shard, service);
        if (sync_call(s, service, "{\"op\":\"ping\"}", s->config.timeout_ms, NULL, &status, err,
                      sizeof err) != 0) {
            message = sync_service_error(s, service, status, err);
            rc = -EIO;
            goto done;
        }
        int placement = SHARD_PLACEMENT;
        if ((s->config.reset && (rc = sync_drop(s, service, &message)) != 0) ||
            (rc = sync_ensure(s, service, &placement, &message)) != 0)
            goto done;
        if (placement != SHARD_PLACEMENT)
            placed = placement;
    }
    /* Files placed by another hash would sit on the wrong shards: index the
     * collection again from scratch. */
    if (placed != SHARD_PLACEMENT) {
        log_warn("collection %s was placed on its shards the old way (placement %d, now %d): "
                 "dropping it and indexing it again from scratch",
                 s->config.collection, placed, SHARD_PLACEMENT);
        for (int shard = 0; shard < s->config.shards; shard++) {
            char service[SHARD_SERVICE_MAX];
            shard_service(shard, service);
            int placement = SHARD_PLACEMENT;
            if ((rc = sync_drop(s, service, &message)) != 0 ||
                (rc = sync_ensure(s, service, &placement, &message)) != 0)
                goto done;
            if (placement != SHARD_PLACEMENT) {
                message = sync_format("%s keeps collection %s placed the old way after a drop",
                                      service, s->config.collection);
                rc = -EPROTO;
                goto done;
            }
        }
    }

    for (int shard = 0; shard < s->config.shards; shard++)
        if ((rc = sync_load_shard(s, shard, &message)) != 0)
            goto done;
done:
    if (rc != 0) {
        if (error)
            *error = message ? message : strdup("cannot start the seeding run");
        else
            free(message);
        sync_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void sync_destroy(sync_t **self_p) {
    if (!self_p || !*self_p)
        return;
    sync_t *s = *self_p;
    if (s->known) {
        map_each(s->known, sync_known_free_each, NULL);
        map_destroy(&s->known);
    }
    if (s->root_fd >= 0)
        close(s->root_fd);
    free(s);
    *self_p = NULL;
}

/* ---- imports ---- */

static void import_list_free(import_list_t *list) {
    for (size_t i = 0; i < list->count; i++)
        free(list->paths[i]);
    free(list->paths);
    for (size_t i = 0; i < list->ref_count; i++) {
        free((char *)list->refs[i].target);
        free((char *)list->refs[i].name);
    }
    free(list->refs);
    *list = (import_list_t){0};
}

static int ref_add(import_list_t *list, const char *target, const char *name, int count) {
    if (list->ref_count == SYNC_REFS_MAX || strlen(name) > OPS_NAME_MAX)
        return 0;
    ops_ref_t *r = &list->refs[list->ref_count];
    r->target = strdup(target);
    r->name = strdup(name);
    r->count = count;
    if (!r->target || !r->name) {
        free((char *)r->target);
        free((char *)r->name);
        return -ENOMEM;
    }
    list->ref_count++;
    return 0;
}

/* The references of one file, gathered in one scan: qualified ones into
 * out, member names apart, appended after them (when room is short, the
 * qualified ones matter more). */
typedef struct {
    import_list_t *out;
    import_list_t names;
} refs_gather_t;

static int on_qualified_ref(const char *target, const char *name, int count, void *arg) {
    return ref_add(((refs_gather_t *)arg)->out, target, name, count);
}

static int on_attribute_ref(const char *name, int count, void *arg) {
    /* one-letter member names say nothing of which member it is */
    return name[0] && name[1] ? ref_add(&((refs_gather_t *)arg)->names, "", name, count) : 0;
}

static int refs_gather(lang_id_t lang, const char *data, size_t len, const imports_t *imports,
                       import_list_t *out) {
    refs_gather_t g = {.out = out};
    if (!(out->refs = calloc(SYNC_REFS_MAX, sizeof *out->refs)) ||
        !(g.names.refs = calloc(SYNC_REFS_MAX, sizeof *g.names.refs))) {
        free(g.names.refs);
        return -ENOMEM;
    }
    int rc = refs_of_file(lang, data, len, imports, on_qualified_ref, on_attribute_ref, &g);
    for (size_t i = 0; i < g.names.ref_count; i++) {
        if (rc == 0 && out->ref_count < SYNC_REFS_MAX) {
            out->refs[out->ref_count++] = g.names.refs[i]; /* moved */
        } else {
            free((char *)g.names.refs[i].target);
            free((char *)g.names.refs[i].name);
        }
    }
    free(g.names.refs);
    /* The list was made room for SYNC_REFS_MAX references (24 KiB); most
     * files make far fewer, and a loaded window holds thousands of lists. */
    ops_ref_t *fit = realloc(out->refs, (out->ref_count ? out->ref_count : 1) * sizeof *fit);
    if (fit)
        out->refs = fit;
    return rc;
}

static bool import_list_equal(const import_list_t *a, const import_list_t *b) {
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->paths[i], b->paths[i]) != 0)
            return false;
    return true;
}

/* The files path imports under index, into *out.  Returns 0 or -ENOMEM. */
static int sync_imports_list(const imports_index_t *index, const char *path, lang_id_t lang,
                             const char *data, size_t len, import_list_t *out) {
    *out = (import_list_t){0};
    imports_t *imports = NULL;
    if (imports_extract(index, path, lang, data, len, &imports) != 0)
        return -ENOMEM;
    size_t n = imports_file_count(imports);
    if (n > SYNC_IMPORTS_MAX)
        n = SYNC_IMPORTS_MAX; /* a vast Go package: the first files say enough */
    int rc = (out->paths = calloc(n + 1, sizeof *out->paths)) ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        if ((out->paths[out->count] = strdup(imports_file(imports, i))))
            out->count++;
        else
            rc = -ENOMEM;
    /* What it reaches through those imports, and which member names at all:
     * the reference index (qualified references first, they matter most). */
    if (rc == 0)
        rc = refs_gather(lang, data, len, imports, out);
    imports_destroy(&imports);
    if (rc != 0)
        import_list_free(out);
    return rc;
}

/* ---- the queue of small requests ---- */

static void write_op_free(write_op_t *w) {
    free(w->service);
    free(w->header);
    free(w->what);
    free(w->forget);
    memset(w, 0, sizeof *w);
}

/* Takes *w (zeroing it) into the FIFO of small requests to send. */
static int run_queue_op(run_t *r, write_op_t *w) {
    if (r->ops_head == r->ops_len) /* all sent: start over rather than grow for the whole run */
        r->ops_head = r->ops_len = 0;
    if (r->ops_len == r->ops_cap) {
        size_t cap = r->ops_cap ? r->ops_cap * 2 : 64;
        write_op_t *grown = realloc(r->ops, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        r->ops = grown;
        r->ops_cap = cap;
    }
    r->ops[r->ops_len++] = *w;
    memset(w, 0, sizeof *w);
    return 0;
}

static int run_push_op(run_t *r, int shard, ops_op_t op, const char *path,
                       const import_list_t *imports, bool forget, bool missing_ok) {
    const sync_t *s = r->sync;
    char service[SHARD_SERVICE_MAX];
    shard_service(shard, service);
    ops_request_t req = {.op = op, .collection = s->config.collection, .path.path = path};
    if (imports) {
        req.path.imports = (const char *const *)imports->paths;
        req.path.import_count = imports->count;
        req.path.refs = imports->refs;
        req.path.ref_count = imports->ref_count;
    }
    char *header = sync_header(&req);
    if (!header)
        return -ENOMEM;
    write_op_t w = {.service = strdup(service),
                    .header = header,
                    .what = sync_format("%s %s on %s", ops_name(op), path, service),
                    .forget = forget ? strdup(path) : NULL,
                    .missing_ok = missing_ok};
    if (!w.service || !w.what || (forget && !w.forget) || run_queue_op(r, &w) != 0) {
        write_op_free(&w);
        return -ENOMEM;
    }
    return 0;
}

/* imports.put of path to every shard but skip (-1: none; the owner after a
 * file.put, which carried the imports already). */
static int run_push_imports(run_t *r, const char *path, const import_list_t *imports, int skip) {
    for (int shard = 0; shard < r->sync->config.shards; shard++) {
        if (shard == skip)
            continue;
        int rc = run_push_op(r, shard, OPS_IMPORTS_PUT, path, imports, false, false);
        if (rc != 0)
            return rc;
    }
    r->stats->imports_updates++;
    return 0;
}

/* file.delete on the owner, imports.delete everywhere. */
static int run_push_delete(run_t *r, const char *path) {
    const sync_t *s = r->sync;
    int rc = run_push_op(r, shard_of(path, strlen(path), s->config.shards), OPS_FILE_DELETE, path,
                         NULL, true, true);
    for (int shard = 0; shard < s->config.shards && rc == 0; shard++)
        rc = run_push_op(r, shard, OPS_IMPORTS_DELETE, path, NULL, false, true);
    return rc;
}

/* ---- jobs ---- */

static void job_release(run_t *r, job_t *job) {
    if (job->mem) {
        r->loaded_bytes -= job->mem;
        r->loaded_files--;
        job->mem = 0;
    }
    free(job->data);
    job->data = NULL;
    chunk_list_destroy(&job->chunks);
    free(job->vectors);
    job->vectors = NULL;
}

static void run_count_done(run_t *r, const job_t *job) {
    r->files_done++;
    r->bytes_done += job->len;
}

static void run_fail_job(run_t *r, size_t j, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void run_fail_job(run_t *r, size_t j, const char *format, ...) {
    job_t *job = &r->jobs[j];
    if (job->state == JOB_FAILED || job->state == JOB_DONE)
        return;
    va_list ap;
    va_start(ap, format);
    char *why = NULL;
    if (vasprintf(&why, format, ap) < 0)
        why = NULL;
    va_end(ap);
    sync_report(r->sync, "%s: %s", job->path, why ? why : "failed");
    free(why);
    if (job->state == JOB_LOADED)
        r->unsent -= job->nchunks - job->queued;
    job->state = JOB_FAILED;
    r->stats->files_failed++;
    run_count_done(r, job);
    job_release(r, job);
    import_list_free(&job->imports); /* a failed file's list is never sent */
}

static int run_push_ready(run_t *r, size_t j) {
    if (r->ready_len == r->ready_cap) {
        size_t cap = r->ready_cap ? r->ready_cap * 2 : 64;
        size_t *grown = realloc(r->ready, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        r->ready = grown;
        r->ready_cap = cap;
    }
    r->ready[r->ready_len++] = j;
    r->jobs[j].state = JOB_READY;
    return 0;
}

/* Reads, chunks and resolves job j. */
static int run_load_job(run_t *r, size_t j) {
    sync_t *s = r->sync;
    job_t *job = &r->jobs[j];
    walk_options_t defaults;
    const walk_options_t *options = sync_walk_options(s, &defaults);
    int rc = sync_read_file(s, job->path, options->max_file_bytes, &job->data, &job->len);
    if (rc < 0) {
        job->state = JOB_LOADED;
        run_fail_job(r, j, "cannot read it: %s", sync_read_error(rc));
        return 0;
    }
    job->mem = job->len;
    r->loaded_bytes += job->mem;
    r->loaded_files++;
    job->state = JOB_LOADED;
    char detail[160];
    walk_reason_t reason =
        walk_check_content(job->path, job->data, job->len, options, detail, sizeof detail);
    if (reason != WALK_ACCEPTED) {
        run_fail_job(r, j, "changed while being indexed, now %s (%s)", walk_reason_name(reason),
                     detail);
        return 0;
    }
    sync_hash_content(job->data, job->len, job->hash);
    size_t ntags = 0, nmore = 0;
    const ctags_tag_t *tags = r->tagger ? tagger_tags(r->tagger, j, &ntags) : NULL;
    /* the class members ctags loses in JavaScript and TypeScript */
    ctags_tag_t *more = NULL;
    char *more_names = NULL;
    rc = jsclass_complete_tags(job->lang, job->data, job->len, tags, ntags, &more, &nmore,
                               &more_names);
    /* ... and the Rust items it does not see inside macros */
    if (rc == 0 && !more)
        rc = rustitems_complete_tags(job->lang, job->data, job->len, tags, ntags, &more, &nmore,
                                     &more_names);
    if (rc == 0 && more) {
        tags = more;
        ntags = nmore;
    }
    if (rc != 0 ||
        (rc = chunk_split_file(job->data, job->len, job->lang, tags, ntags, NULL, &job->chunks)) !=
            0 ||
        (rc = sync_imports_list(r->index, job->path, job->lang, job->data, job->len,
                                &job->imports)) != 0) {
        free(more);
        free(more_names);
        run_fail_job(r, j, "out of memory while chunking");
        return -ENOMEM;
    }
    free(more);
    free(more_names);
    job->nchunks = chunk_list_count(job->chunks);
    size_t extra = job->nchunks * s->dim * sizeof *job->vectors;
    for (size_t i = 0; i < job->nchunks; i++)
        extra += chunk_list_get(job->chunks, i)->text_len;
    job->mem += extra;
    r->loaded_bytes += extra;
    if (job->nchunks) {
        job->vectors = malloc(job->nchunks * s->dim * sizeof *job->vectors);
        if (!job->vectors) {
            run_fail_job(r, j, "out of memory for %zu vectors", job->nchunks);
            return -ENOMEM;
        }
        r->unsent += job->nchunks;
        return 0;
    }
    return run_push_ready(r, j);
}

/* ---- requests ---- */

static void req_free(req_t *req) {
    if (!req)
        return;
    free(req->jobs);
    free(req->chunks);
    write_op_free(&req->op);
    free(req);
}

static int run_track(run_t *r, uint64_t id, req_t *req) {
    int rc = map_put_u64(r->requests, id, req);
    if (rc != 0) {
        proto_client_cancel(r->sync->config.client, id);
        req_free(req);
    }
    return rc;
}

static void run_set_fatal(run_t *r, int rc, char *message) {
    if (r->fatal) {
        free(message);
        return;
    }
    r->fatal = rc;
    r->fatal_message = message;
}

/* Sends the next embed batch: up to embed_batch texts in file order. */
static int run_send_batch(run_t *r) {
    sync_t *s = r->sync;
    size_t max = (size_t)s->config.embed_batch;
    req_t *req = calloc(1, sizeof *req);
    if (!req)
        return -ENOMEM;
    req->kind = REQ_EMBED;
    req->jobs = malloc(max * sizeof *req->jobs);
    req->chunks = malloc(max * sizeof *req->chunks);
    buf_t payload = BUF_INIT;
    int rc = req->jobs && req->chunks ? 0 : -ENOMEM;
    while (rc == 0 && req->count < max && payload.len < SYNC_BATCH_BYTES_MAX &&
           r->cursor_job < r->next_load) {
        job_t *job = &r->jobs[r->cursor_job];
        if (job->state != JOB_LOADED || r->cursor_chunk >= job->nchunks) {
            r->cursor_job++;
            r->cursor_chunk = 0;
            continue;
        }
        const chunk_t *c = chunk_list_get(job->chunks, r->cursor_chunk);
        if ((rc = texts_append(&payload, c->text, c->text_len)) != 0)
            break;
        req->jobs[req->count] = r->cursor_job;
        req->chunks[req->count] = r->cursor_chunk;
        req->count++;
        job->queued++;
        r->unsent--;
        r->cursor_chunk++;
    }
    if (rc == 0 && req->count == 0) {
        req_free(req);
        buf_free(&payload);
        return 0;
    }
    uint64_t id = 0;
    if (rc == 0)
        rc = proto_client_send(s->config.client, "embed", "{\"kind\":\"document\"}", payload.data,
                               payload.len, SYNC_EMBED_TIMEOUT_MS, &id);
    buf_free(&payload);
    if (rc != 0) {
        for (size_t i = 0; i < req->count; i++)
            run_fail_job(r, req->jobs[i], "cannot send it to the embedder: %s", strerror(-rc));
        req_free(req);
        return rc == -ENOMEM ? rc : 0;
    }
    r->stats->embed_requests++;
    r->stats->texts_embedded += req->count;
    r->embed_inflight++;
    return run_track(r, id, req);
}

static void run_on_embed(run_t *r, req_t *req, const proto_msg_t *msg) {
    sync_t *s = r->sync;
    char why[512] = "";
    if (msg->cmd == PROTO_ERROR) {
        int status;
        char err[400];
        proto_error_parse(msg, &status, err, sizeof err);
        if (status == 504) {
            run_set_fatal(r, -ETIMEDOUT, sync_service_error(s, "embed", status, err));
            return;
        }
        char *m = sync_service_error(s, "embed", status, err);
        snprintf(why, sizeof why, "embedding failed: %s", m ? m : err);
        free(m);
    } else {
        cJSON *h = cJSON_ParseWithLength(msg->header, msg->header_len);
        const cJSON *dim = cJSON_GetObjectItemCaseSensitive(h, "dim");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(h, "count");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(h, "model");
        if (!cJSON_IsNumber(dim) || (unsigned)dim->valuedouble != s->dim ||
            !cJSON_IsString(model) || strcmp(model->valuestring, s->model) != 0)
            snprintf(why, sizeof why, "the embedder changed its model or dimension mid-run");
        else if (!cJSON_IsNumber(count) || (size_t)count->valuedouble != req->count ||
                 msg->payload_len != req->count * s->dim * sizeof(float))
            snprintf(why, sizeof why, "the embedder answered with the wrong number of vectors");
        cJSON_Delete(h);
    }
    for (size_t i = 0; i < req->count; i++) {
        size_t j = req->jobs[i];
        job_t *job = &r->jobs[j];
        if (job->state != JOB_LOADED)
            continue; /* failed meanwhile */
        if (why[0]) {
            run_fail_job(r, j, "%s", why);
            continue;
        }
        memcpy(job->vectors + req->chunks[i] * s->dim,
               (const char *)msg->payload + i * s->dim * sizeof(float), s->dim * sizeof(float));
        if (++job->embedded == job->nchunks && run_push_ready(r, j) != 0)
            run_fail_job(r, j, "out of memory");
    }
}

/* Sends file.put for a ready job to the shard that owns its path. */
static int run_send_put(run_t *r, size_t j) {
    sync_t *s = r->sync;
    job_t *job = &r->jobs[j];
    int shard = shard_of(job->path, strlen(job->path), s->config.shards);
    char service[SHARD_SERVICE_MAX];
    shard_service(shard, service);
    buf_t h = BUF_INIT, payload = BUF_INIT;
    ops_request_t put = {.op = OPS_FILE_PUT,
                         .collection = s->config.collection,
                         .file = {.path = job->path,
                                  .hash = job->hash,
                                  .language = lang_get(job->lang)->name,
                                  .imports = (const char *const *)job->imports.paths,
                                  .import_count = job->imports.count}};
    ops_chunk_t *chunks = calloc(job->nchunks + 1, sizeof *chunks);
    for (size_t i = 0; chunks && i < job->nchunks; i++) {
        const chunk_t *c = chunk_list_get(job->chunks, i);
        chunks[i] = (ops_chunk_t){.start_line = c->start_line,
                                  .end_line = c->end_line,
                                  .kind = chunk_kind_name(c->kind),
                                  .symbols = c->symbols,
                                  .symbol_count = c->symbol_count,
                                  .identifiers = c->identifiers,
                                  .identifier_count = c->identifier_count,
                                  .text = c->text,
                                  .text_len = c->text_len};
    }
    int rc = chunks ? ops_encode(&put, &h) : -ENOMEM;
    if (rc == 0)
        rc = ops_payload_encode(&payload, chunks, job->nchunks, job->vectors, s->dim);
    free(chunks);
    uint64_t id = 0;
    if (rc == 0)
        rc = proto_client_send(s->config.client, service, h.data, payload.data, payload.len,
                               SYNC_WRITE_TIMEOUT_MS, &id);
    buf_free(&h);
    buf_free(&payload);
    if (rc != 0) {
        run_fail_job(r, j, "cannot send file.put: %s", strerror(-rc));
        return rc == -ENOMEM ? rc : 0;
    }
    job->state = JOB_WRITING;
    size_t len = job->len; /* keep the size for the counts; free the bulk */
    job_release(r, job);
    job->len = len;
    req_t *req = calloc(1, sizeof *req);
    if (!req) {
        proto_client_cancel(s->config.client, id);
        run_fail_job(r, j, "out of memory");
        return -ENOMEM;
    }
    req->kind = REQ_PUT;
    req->job = j;
    r->write_inflight++;
    return run_track(r, id, req);
}

static void run_on_put(run_t *r, req_t *req, const proto_msg_t *msg) {
    sync_t *s = r->sync;
    job_t *job = &r->jobs[req->job];
    char service[SHARD_SERVICE_MAX];
    shard_service(shard_of(job->path, strlen(job->path), s->config.shards), service);
    if (msg->cmd == PROTO_ERROR) {
        int status;
        char err[400];
        proto_error_parse(msg, &status, err, sizeof err);
        if (status == 504) {
            run_set_fatal(r, -ETIMEDOUT, sync_service_error(s, service, status, err));
            return;
        }
        char *m = sync_service_error(s, service, status, err);
        run_fail_job(r, req->job, "file.put failed: %s", m ? m : err);
        free(m);
        return;
    }
    job->state = JOB_DONE;
    r->stats->files_indexed++;
    r->stats->files_new += job->is_new;
    r->stats->chunks += job->nchunks;
    r->stats->bytes_indexed += job->len;
    run_count_done(r, job);
    /* Every shard gets its imports and references (the owner too: file.put
     * carried only the imports). */
    if (sync_known_set(s, job->path, job->hash) != 0 ||
        ((!job->is_new || job->imports.count > 0 || job->imports.ref_count > 0) &&
         run_push_imports(r, job->path, &job->imports, -1) != 0))
        run_set_fatal(r, -ENOMEM, strdup("out of memory"));
    /* The writes above hold their own encoding of the list: kept to the end
     * of the run, every file's would add up to the repository's references. */
    import_list_free(&job->imports);
}

/* Whether a small write that failed with status may succeed if sent again:
 * the faults of a shard or of the way to it (a worker that died with the
 * request, a queue that was full, no worker for a moment), not a refusal
 * (400, 404, 409), nor a deadline that passed (504 ends the run). */
static bool sync_write_retryable(int status) {
    return status == 500 || status == 502 || status == 503;
}

/* Takes *w (zeroing it) to be sent again after its back-off: retry_ms, then
 * twice that, and so on. */
static int run_retry_later(run_t *r, write_op_t *w) {
    if (r->retry_len == r->retry_cap) {
        size_t cap = r->retry_cap ? r->retry_cap * 2 : 16;
        write_op_t *grown = realloc(r->retries, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        r->retries = grown;
        r->retry_cap = cap;
    }
    int shift = w->attempts - 1 < 16 ? w->attempts - 1 : 16;
    w->due_ms = clock_ms() + ((int64_t)r->sync->config.retry_ms << shift);
    r->retries[r->retry_len++] = *w;
    memset(w, 0, sizeof *w);
    return 0;
}

/* Queues the retries whose back-off is over, in the order they failed;
 * returns the milliseconds until the next one is due, or -1 when none waits. */
static int run_release_retries(run_t *r) {
    int64_t now = clock_ms(), next = -1;
    size_t kept = 0;
    for (size_t i = 0; i < r->retry_len; i++) {
        write_op_t *w = &r->retries[i];
        if (w->due_ms <= now && run_queue_op(r, w) == 0)
            continue;
        if (next < 0 || w->due_ms - now < next)
            next = w->due_ms > now ? w->due_ms - now : 0;
        r->retries[kept++] = *w;
    }
    r->retry_len = kept;
    return next < 0 ? -1 : next > INT32_MAX ? INT32_MAX : (int)next;
}

static int run_send_op(run_t *r) {
    write_op_t *w = &r->ops[r->ops_head];
    w->attempts++;
    uint64_t id = 0;
    int rc = proto_client_send(r->sync->config.client, w->service, w->header, NULL, 0,
                               SYNC_WRITE_TIMEOUT_MS, &id);
    req_t *req = rc == 0 ? calloc(1, sizeof *req) : NULL;
    if (rc != 0 || !req) {
        sync_report(r->sync, "%s: cannot send it: %s", w->what, strerror(rc ? -rc : ENOMEM));
        r->stats->writes_failed++;
        write_op_free(w);
        r->ops_head++;
        return 0;
    }
    req->kind = REQ_WRITE;
    req->op = *w;
    memset(w, 0, sizeof *w);
    r->ops_head++;
    r->write_inflight++;
    return run_track(r, id, req);
}

static void run_on_op(run_t *r, req_t *req, const proto_msg_t *msg) {
    sync_t *s = r->sync;
    int status = 200;
    char err[400] = "";
    if (msg->cmd == PROTO_ERROR)
        proto_error_parse(msg, &status, err, sizeof err);
    if (status == 504) {
        run_set_fatal(r, -ETIMEDOUT, sync_service_error(s, req->op.service, status, err));
        return;
    }
    if (msg->cmd == PROTO_ERROR && !(status == 404 && req->op.missing_ok)) {
        if (sync_write_retryable(status) && req->op.attempts < s->config.write_attempts) {
            log_debug("%s failed (%d %s): sending it again", req->op.what, status, err);
            if (run_retry_later(r, &req->op) == 0) {
                r->stats->writes_retried++;
                return;
            }
        }
        char *m = sync_service_error(s, req->op.service, status, err);
        /* An unchanged file's imports are sent again only when they
         * resolve differently, so say what stays wrong, and until when. */
        bool imports = strncmp(req->op.what, "imports.put ", 12) == 0;
        char attempts[48] = "";
        if (req->op.attempts > 1)
            snprintf(attempts, sizeof attempts, " after %d attempts", req->op.attempts);
        sync_report(s, "%s failed%s: %s%s", req->op.what, attempts, m ? m : err,
                    imports ? "; that shard does not know what the file imports and references "
                              "until it changes or the collection is seeded with --reset"
                            : "");
        free(m);
        r->stats->writes_failed++;
        return;
    }
    if (req->op.forget) {
        sync_known_forget(s, req->op.forget);
        r->stats->files_deleted++;
    }
}

static void run_dispatch(run_t *r, proto_msg_t *msg) {
    if (msg->cmd == PROTO_PARTIAL)
        return;
    req_t *req = map_remove_u64(r->requests, msg->id);
    if (!req)
        return;
    switch (req->kind) {
    case REQ_EMBED:
        r->embed_inflight--;
        run_on_embed(r, req, msg);
        break;
    case REQ_PUT:
        r->write_inflight--;
        run_on_put(r, req, msg);
        break;
    case REQ_WRITE:
        r->write_inflight--;
        run_on_op(r, req, msg);
        break;
    }
    req_free(req);
}

static bool run_can_load(const run_t *r) {
    return r->next_load < r->njobs && r->loaded_bytes < SYNC_LOADED_BYTES_MAX &&
           r->loaded_files < SYNC_LOADED_FILES_MAX &&
           (!r->tagger || tagger_ready(r->tagger, r->next_load, false));
}

/* Drives every request of the run to its end. */
static int run_loop(run_t *r) {
    sync_t *s = r->sync;
    uint64_t total_bytes = 0;
    for (size_t j = 0; j < r->njobs; j++)
        total_bytes += r->jobs[j].len;
    if (s->config.progress)
        progress_begin(s->config.progress, "indexing", r->njobs, total_bytes);
    int rc = 0;
    for (;;) {
        if (stop_requested())
            return -EINTR;
        if (r->fatal)
            return r->fatal;
        int retry_in = run_release_retries(r); /* -1: no retry waits */
        while (r->ops_head < r->ops_len && r->write_inflight < s->config.write_inflight)
            if ((rc = run_send_op(r)) != 0)
                return rc;
        while (r->ready_head < r->ready_len && r->write_inflight < s->config.write_inflight)
            if ((rc = run_send_put(r, r->ready[r->ready_head++])) != 0)
                return rc;
        while (r->embed_inflight < s->config.embed_inflight) {
            while (r->unsent < (size_t)s->config.embed_batch && run_can_load(r))
                if ((rc = run_load_job(r, r->next_load++)) != 0)
                    return rc;
            if (r->unsent == 0 || (r->unsent < (size_t)s->config.embed_batch && run_can_load(r)))
                break;
            if ((rc = run_send_batch(r)) != 0)
                return rc;
        }
        /* Jobs with no chunks became ready while loading. */
        if (r->ready_head < r->ready_len && r->write_inflight < s->config.write_inflight)
            continue;
        bool tags_pending =
            r->next_load < r->njobs && r->tagger && !tagger_ready(r->tagger, r->next_load, false);
        if (map_size(r->requests) == 0 && retry_in < 0) {
            if (tags_pending) /* nothing else to wait for */
                tagger_ready(r->tagger, r->next_load, true);
            if (r->ops_head < r->ops_len || r->unsent > 0 || r->next_load < r->njobs)
                continue;
            break;
        }
        /* Wait for a reply, or until the next retry is due. */
        int wait = tags_pending ? 5 : SYNC_TICK_MS;
        if (retry_in >= 0 && retry_in < wait)
            wait = retry_in;
        proto_msg_t msg;
        rc = proto_client_recv(s->config.client, &msg, wait);
        if (rc == 0) {
            run_dispatch(r, &msg);
            proto_msg_close(&msg);
        } else if (rc != -ETIMEDOUT && rc != -EINTR) {
            run_set_fatal(r, rc,
                          sync_format("lost the connection to lca at %s: %s", s->config.endpoint,
                                      zmq_strerror(-rc)));
        }
        if (s->config.progress)
            progress_update(s->config.progress, r->files_done, r->bytes_done);
    }
    if (s->config.progress)
        progress_finish(s->config.progress);
    return 0;
}

/* ---- planning and running ---- */

static void run_cancel_each(const void *key, size_t key_len, void *value, void *arg) {
    uint64_t id;
    if (key_len == sizeof id) {
        memcpy(&id, key, sizeof id);
        proto_client_cancel(arg, id);
    }
    req_free(value);
}

static void run_free(run_t *r) {
    tagger_destroy(&r->tagger); /* first: its thread reads the jobs' paths */
    free(r->tag_paths);
    for (size_t j = 0; j < r->njobs; j++) {
        job_release(r, &r->jobs[j]);
        free(r->jobs[j].path);
        import_list_free(&r->jobs[j].imports);
    }
    free(r->jobs);
    imports_index_destroy(&r->index);
    free(r->ready);
    for (size_t i = r->ops_head; i < r->ops_len; i++)
        write_op_free(&r->ops[i]);
    free(r->ops);
    for (size_t i = 0; i < r->retry_len; i++)
        write_op_free(&r->retries[i]);
    free(r->retries);
    if (r->requests) {
        /* Requests abandoned by a stop or a fatal error: cancel them, so
         * their late replies never reach a later run. */
        map_each(r->requests, run_cancel_each, r->sync->config.client);
        map_destroy(&r->requests);
    }
    free(r->fatal_message);
}

static int run_add_job(run_t *r, const char *path, lang_id_t lang, uint64_t size, bool is_new) {
    job_t *grown = realloc(r->jobs, (r->njobs + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    r->jobs = grown;
    job_t *job = &r->jobs[r->njobs];
    *job = (job_t){.lang = lang, .is_new = is_new, .len = (size_t)size};
    if (!(job->path = strdup(path)))
        return -ENOMEM;
    r->njobs++;
    return 0;
}

/* Starts ctags over the jobs whose language it parses, slice by slice
 * ahead of the loader. */
static int run_start_tagger(run_t *r) {
    r->tag_paths = calloc(r->njobs + 1, sizeof *r->tag_paths);
    if (!r->tag_paths)
        return -ENOMEM;
    for (size_t j = 0; j < r->njobs; j++)
        if (lang_get(r->jobs[j].lang)->ctags_name)
            r->tag_paths[j] = r->jobs[j].path;
    return tagger_new(r->sync->config.root, r->tag_paths, r->njobs, SYNC_TAG_SLICE, SYNC_TAG_AHEAD,
                      &r->tagger);
}

/* Says once per process that ctags failed and chunks are line windows. */
static void run_warn_tagger(run_t *r) {
    static bool warned;
    const char *err = r->tagger ? tagger_error(r->tagger) : NULL;
    if (!err || warned)
        return;
    warned = true;
    fprintf(r->sync->config.report ? r->sync->config.report : stderr,
            "warning: %s; chunking by line windows instead\n", err);
}

/* Tells every shard the collection was seeded now. */
static int sync_touch(sync_t *s, char **error) {
    for (int shard = 0; shard < s->config.shards; shard++) {
        char service[SHARD_SERVICE_MAX], err[400];
        shard_service(shard, service);
        char *h = sync_header(&(ops_request_t){.op = OPS_COLLECTION_TOUCH,
                                               .collection = s->config.collection,
                                               .seeded_at = (int64_t)time(NULL)});
        int status = 0;
        int rc = h ? sync_call(s, service, h, SYNC_STORE_TIMEOUT_MS, NULL, &status, err, sizeof err)
                   : -ENOMEM;
        free(h);
        if (rc != 0) {
            *error = sync_service_error(s, service, status, err);
            return status == 504 ? -ETIMEDOUT : -EIO;
        }
    }
    return 0;
}

/* Indexes the jobs and sends the queued writes, then touches. */
static int run_execute(run_t *r, bool touch, char **error) {
    sync_t *s = r->sync;
    s->errors_shown = 0;
    r->requests = map_new();
    if (!r->requests || (r->njobs && run_start_tagger(r) != 0))
        return -ENOMEM;
    int rc = run_loop(r);
    run_warn_tagger(r);
    if (rc == 0 && touch)
        rc = sync_touch(s, error);
    else if (rc != 0 && rc != -EINTR && error && !*error)
        *error = r->fatal_message ? strdup(r->fatal_message) : sync_format("%s", strerror(-rc));
    if (s->config.progress)
        progress_finish(s->config.progress);
    return rc;
}

/* For an unchanged file when the file list changed: queues imports.put if
 * its imports resolve differently under the new list. */
/* Sends path's imports again when they resolve differently under the new
 * index than under old_index; with no old_index, always (the shards' copy
 * cannot be reproduced: a config that steered it has changed). */
static int run_check_imports(run_t *r, const imports_index_t *old_index, const char *path,
                             lang_id_t lang, const char *data, size_t len) {
    import_list_t before = {0}, after = {0};
    int rc = old_index ? sync_imports_list(old_index, path, lang, data, len, &before) : 0;
    if (rc == 0)
        rc = sync_imports_list(r->index, path, lang, data, len, &after);
    if (rc == 0 && (!old_index || !import_list_equal(&before, &after)))
        rc = run_push_imports(r, path, &after, -1);
    import_list_free(&before);
    import_list_free(&after);
    return rc;
}

_Static_assert(LANG_COUNT <= 64, "a language set is a 64-bit mask");

/* The languages whose imports a file's content steers (0 for most files):
 * go.mod names Go's module path, Cargo.toml a crate, a tsconfig or
 * jsconfig the module paths of JavaScript and TypeScript. */
static uint64_t sync_config_languages(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t len = strlen(base);
    if (!strcmp(base, "go.mod"))
        return 1ull << LANG_GO;
    if (!strcmp(base, "Cargo.toml"))
        return 1ull << LANG_RUST;
    if (!strcmp(base, "jsconfig.json") ||
        (!strncmp(base, "tsconfig", 8) && len >= 13 && !strcmp(base + len - 5, ".json")))
        return 1ull << LANG_JAVASCRIPT | 1ull << LANG_TYPESCRIPT;
    return 0;
}

/* The languages whose files' imports must all be sent again because such a
 * config is new, gone or edited in this run.  (Its content is read here:
 * the hashing pass comes too late for the files sorted before it.) */
static uint64_t sync_configs_changed(sync_t *s, const walk_entry_t *const *accepted,
                                     size_t n_accepted, const char *const *deletes,
                                     size_t n_deletes, uint64_t max) {
    uint64_t langs = 0;
    for (size_t d = 0; d < n_deletes; d++)
        langs |= sync_config_languages(deletes[d]);
    for (size_t i = 0; i < n_accepted; i++) {
        uint64_t steers = sync_config_languages(accepted[i]->path);
        if (!steers || (langs & steers) == steers)
            continue;
        const known_t *k = sync_known_get(s, accepted[i]->path);
        char *data = NULL;
        size_t len = 0;
        char hash[65] = "";
        if (k && sync_read_file(s, accepted[i]->path, max, &data, &len) == 0)
            sync_hash_content(data, len, hash);
        free(data);
        if (!k || strcmp(hash, k->hash) != 0)
            langs |= steers;
    }
    return langs;
}

static int sync_compare_entries(const void *a, const void *b) {
    return strcmp((*(const walk_entry_t *const *)a)->path, (*(const walk_entry_t *const *)b)->path);
}

/* The shared end of sync_full and sync_paths: candidates are accepted
 * entries (sorted by path); deletes are known paths that are gone; when the
 * file list changed, every other known file is read again for its imports. */
static int sync_plan_and_run(sync_t *s, const walk_entry_t *const *accepted, size_t n_accepted,
                             const char *const *deletes, size_t n_deletes, bool full,
                             sync_stats_t *stats, char **error) {
    int64_t started = clock_ms();
    run_t r = {.sync = s, .stats = stats};
    int rc = 0;
    walk_options_t defaults;
    const walk_options_t *options = sync_walk_options(s, &defaults);
    size_t n_known = 0;
    const char **known = sync_known_paths(s, &n_known);
    imports_index_t *old_index = NULL;
    const char **paths = NULL;
    size_t n_paths = 0;
    if (!known) {
        rc = -ENOMEM;
        goto done;
    }

    /* The new file list: for a full run the accepted entries; for a few
     * paths the known files minus deletes plus the new ones. */
    bool changed_set = n_deletes > 0;
    for (size_t i = 0; i < n_accepted && !changed_set; i++)
        changed_set = !sync_known_get(s, accepted[i]->path);
    if (full && !changed_set)
        changed_set = n_accepted != n_known;
    uint64_t resend =
        sync_configs_changed(s, accepted, n_accepted, deletes, n_deletes, options->max_file_bytes);
    paths = malloc((n_known + n_accepted + 1) * sizeof *paths);
    if (!paths) {
        rc = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_accepted; i++)
        paths[n_paths++] = accepted[i]->path;
    if (!full) {
        for (size_t i = 0; i < n_known; i++) {
            bool gone = false;
            for (size_t d = 0; d < n_deletes && !gone; d++)
                gone = strcmp(known[i], deletes[d]) == 0;
            if (!gone)
                paths[n_paths++] = known[i];
        }
    }
    if ((rc = imports_index_new(s->config.root, paths, n_paths, &r.index)) != 0 ||
        (changed_set && (rc = imports_index_new(s->config.root, known, n_known, &old_index)) != 0))
        goto done;

    for (size_t d = 0; d < n_deletes && rc == 0; d++)
        rc = run_push_delete(&r, deletes[d]);

    /* Hash every candidate: unchanged ones stop here. */
    uint64_t total = 0, done_bytes = 0;
    for (size_t i = 0; i < n_accepted; i++)
        total += accepted[i]->size;
    if (s->config.progress)
        progress_begin(s->config.progress, "checking", n_accepted, total);
    for (size_t i = 0; i < n_accepted && rc == 0; i++) {
        const walk_entry_t *e = accepted[i];
        if (stop_requested()) {
            rc = -EINTR;
            break;
        }
        char *data = NULL;
        size_t len = 0;
        int read_rc = sync_read_file(s, e->path, options->max_file_bytes, &data, &len);
        stats->files_seen++;
        if (read_rc < 0) {
            sync_report(s, "%s: cannot read it: %s", e->path, sync_read_error(read_rc));
            stats->files_failed++;
            continue;
        }
        stats->bytes_seen += len;
        done_bytes += len;
        char hash[65];
        sync_hash_content(data, len, hash);
        const known_t *k = sync_known_get(s, e->path);
        if (k && strcmp(k->hash, hash) == 0) {
            stats->files_unchanged++;
            bool again = resend & (1ull << e->lang);
            if (changed_set || again)
                rc = run_check_imports(&r, again ? NULL : old_index, e->path, e->lang, data, len);
        } else {
            rc = run_add_job(&r, e->path, e->lang, len, !k);
        }
        free(data);
        if (s->config.progress)
            progress_update(s->config.progress, i + 1, done_bytes);
    }
    /* A few paths changed the file list, or a resolution config: the other
     * files' imports may resolve differently now. */
    for (size_t i = 0; !full && (changed_set || resend) && i < n_known && rc == 0; i++) {
        const char *path = known[i];
        bool skip = false;
        for (size_t d = 0; d < n_deletes && !skip; d++)
            skip = strcmp(path, deletes[d]) == 0;
        for (size_t a = 0; a < n_accepted && !skip; a++)
            skip = strcmp(path, accepted[a]->path) == 0;
        if (skip)
            continue;
        char *data = NULL;
        size_t len = 0;
        if (sync_read_file(s, path, options->max_file_bytes, &data, &len) == 0) {
            lang_id_t lang = lang_detect(path, data, len);
            bool again = resend & (1ull << lang);
            if (changed_set || again)
                rc = run_check_imports(&r, again ? NULL : old_index, path, lang, data, len);
        }
        free(data);
    }
    if (s->config.progress)
        progress_finish(s->config.progress);
    if (rc == 0)
        rc = run_execute(&r, full || r.njobs > 0 || n_deletes > 0 || stats->imports_updates > 0,
                         error);
done:
    if (rc == -ENOMEM && error && !*error)
        *error = strdup("out of memory");
    stats->elapsed_ms += clock_ms() - started;
    imports_index_destroy(&old_index);
    free(paths);
    free(known);
    run_free(&r);
    return rc;
}

int sync_full(sync_t *self, const walk_t *walk, sync_stats_t *stats, char **error) {
    if (error)
        *error = NULL;
    size_t n = walk_count(walk), n_accepted = 0, n_deletes = 0;
    const walk_entry_t **accepted = malloc((n + 1) * sizeof *accepted);
    size_t n_known = 0;
    const char **known = sync_known_paths(self, &n_known);
    const char **deletes = known ? malloc((n_known + 1) * sizeof *deletes) : NULL;
    if (!accepted || !deletes) {
        free(accepted);
        free(known);
        free(deletes);
        if (error)
            *error = strdup("out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const walk_entry_t *e = walk_get(walk, i);
        if (e->reason != WALK_ACCEPTED)
            sync_add_skip(stats, e->reason, e->path, e->detail);
        else
            accepted[n_accepted++] = e;
    }
    /* Known paths not accepted now: gone, renamed, or skipped now. */
    for (size_t i = 0; i < n_known; i++) {
        const walk_entry_t *e = walk_find(walk, known[i]);
        if (!e || e->reason != WALK_ACCEPTED)
            deletes[n_deletes++] = known[i];
    }
    /* The deletes borrow the known map's strings, which a delete's success
     * frees: copy them. */
    int rc = 0;
    for (size_t d = 0; d < n_deletes && rc == 0; d++)
        if (!(deletes[d] = strdup(deletes[d])))
            rc = -ENOMEM;
    if (rc == 0)
        rc = sync_plan_and_run(self, accepted, n_accepted, deletes, n_deletes, true, stats, error);
    else if (error)
        *error = strdup("out of memory");
    for (size_t d = 0; d < n_deletes; d++)
        free((char *)deletes[d]);
    free(deletes);
    free(known);
    free(accepted);
    return rc;
}

int sync_paths(sync_t *self, const char *const *paths, size_t n, sync_stats_t *stats,
               char **error) {
    if (error)
        *error = NULL;
    size_t n_known = 0;
    const char **known = sync_known_paths(self, &n_known);
    /* Expand directories into the known files under them; dedupe. */
    size_t cap = n + n_known + 1, count = 0;
    char **candidates = known ? calloc(cap, sizeof *candidates) : NULL;
    int rc = candidates ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(paths[i]);
        if (len && paths[i][len - 1] == '/') {
            for (size_t k = 0; k < n_known && rc == 0; k++)
                if (strncmp(known[k], paths[i], len) == 0 &&
                    !(candidates[count++] = strdup(known[k])))
                    rc = -ENOMEM;
        } else if (len && !(candidates[count++] = strdup(paths[i]))) {
            rc = -ENOMEM;
        }
    }
    if (rc == 0)
        qsort(candidates, count, sizeof *candidates, sync_compare_strings);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++) {
        if (unique && strcmp(candidates[unique - 1], candidates[i]) == 0) {
            free(candidates[i]);
            continue;
        }
        candidates[unique++] = candidates[i];
    }
    count = unique;

    walk_entry_t *entries = rc == 0 ? calloc(count + 1, sizeof *entries) : NULL;
    char(*details)[160] = rc == 0 ? calloc(count + 1, sizeof *details) : NULL;
    const walk_entry_t **accepted = rc == 0 ? calloc(count + 1, sizeof *accepted) : NULL;
    const char **deletes = rc == 0 ? calloc(count + 1, sizeof *deletes) : NULL;
    if (rc == 0 && (!entries || !details || !accepted || !deletes))
        rc = -ENOMEM;
    size_t n_accepted = 0, n_deletes = 0;
    walk_options_t defaults;
    const walk_options_t *options = sync_walk_options(self, &defaults);
    for (size_t i = 0; i < count && rc == 0; i++) {
        int check = walk_check_file(self->config.root, candidates[i], options, &entries[i],
                                    details[i], sizeof details[i]);
        bool known_path = sync_known_get(self, candidates[i]) != NULL;
        if (entries[i].reason == WALK_ACCEPTED)
            accepted[n_accepted++] = &entries[i];
        else {
            if (check != -ENOENT)
                sync_add_skip(stats, entries[i].reason, candidates[i], entries[i].detail);
            if (known_path)
                deletes[n_deletes++] = candidates[i];
        }
    }
    if (rc == 0) {
        qsort(accepted, n_accepted, sizeof *accepted, sync_compare_entries);
        rc = sync_plan_and_run(self, accepted, n_accepted, deletes, n_deletes, false, stats, error);
    } else if (error) {
        *error = strdup("out of memory");
    }
    for (size_t i = 0; i < count; i++)
        free(candidates[i]);
    free(candidates);
    free(entries);
    free(details);
    free(accepted);
    free(deletes);
    free(known);
    return rc;
}
