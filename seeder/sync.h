/*
 * sync: make a collection in the retriever shards match a directory, doing
 * as little as possible.
 *
 * The shards are the memory of what was indexed: each one answers
 * `collection.files` with the path and content hash of every file it owns,
 * so a re-seed needs no local state.  A file whose SHA-256 is unchanged is
 * left alone (no chunking, no embedding, no write); a file that is new or
 * changed is chunked at its definitions (ctags runs over slices of a few
 * hundred files, one process per slice, ahead of the chunker),
 * embedded in batches with several requests in flight so the embedder's
 * threads stay busy, and written with one `file.put` to the shard that owns
 * its path; a file that vanished (or is now skipped) gets `file.delete` on
 * its shard and `imports.delete` on all of them.  A rename is a delete plus
 * an add.
 *
 * The import graph is replicated on every shard, so `imports.put` goes to
 * all of them: for every new or changed file, and, when the set of files
 * changed, for every unchanged file whose imports now resolve differently
 * (a new file can make an old import resolve; a deleted one can break it).
 * That is decided by resolving each unchanged file's imports against the
 * old and the new file list and comparing.
 *
 * After the first full run, a sync_t keeps what the shards hold (path ->
 * hash), so `--watch` can apply a handful of changed paths with the same
 * machinery (sync_paths) without asking the shards again.
 *
 * Every file is read through an fd opened beneath the root
 * (proto/base/beneath.h), so a tree that changed after the walk cannot make
 * the run read, and index, a file outside it: a path that now leads out
 * fails like an unreadable file.
 *
 * Failures of single files (a put the retriever refused, an embed request
 * that failed, a file that cannot be read) are reported and counted, and the
 * run goes on; the file keeps its old hash in the shards, so the next run
 * tries it again.  The
 * small writes (imports.put with a file's references, file.delete,
 * imports.delete) are sent again when a shard fails them with a fault (500,
 * 502, 503: a worker restarting, a full queue), a few times with a growing
 * back-off; one that still fails is reported and counted, and says what it
 * leaves wrong: nothing records a lost imports.put, so an unchanged file's
 * imports are not sent again by the next run.
 * Failures of the whole (broker gone, a shard without a worker, a model
 * mismatch) end the run with a message for the user.
 *
 * Invariants: the known map holds exactly the files this process believes
 * the shards hold, each with the hash of the content that was written; a
 * file is put only with vectors for every one of its chunks.
 */
#ifndef LCA_SEEDER_SYNC_H
#define LCA_SEEDER_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/client.h"
#include "seeder/progress.h"
#include "seeder/walk.h"
#include "proto/base/signals.h"

#define SYNC_EXAMPLES 3 /* example paths kept per skip reason */

typedef struct {
    proto_client_t *client; /* borrowed; nothing else may use it while a sync call runs */
    const char *endpoint;   /* broker address, for messages */
    const char *collection; /* collection name */
    const char *root;       /* absolute path of the directory, as the collection records it */
    int shards;             /* number of retriever shards (>= 1) */
    bool reset;             /* drop the collection before anything else (sync_open) */
    const walk_options_t *walk_options; /* NULL: walk's defaults */
    int embed_batch;                    /* texts per embed request (0: 128) */
    int embed_inflight;   /* embed requests in flight (0: twice the embedders' threads) */
    int write_inflight;   /* writes to shards in flight (0: 32) */
    int timeout_ms;       /* deadline of control requests (0: 5000) */
    int write_attempts;   /* sends of a small write a shard fails with a fault (0: 5) */
    int retry_ms;         /* back-off before its second send, doubled each time after (0: 250) */
    progress_t *progress; /* may be NULL */
    FILE *report;         /* per-file errors are written here (NULL: stderr) */
} sync_config_t;

typedef struct {
    uint64_t files_seen;      /* accepted files looked at */
    uint64_t files_indexed;   /* new or changed files written */
    uint64_t files_new;       /* of which new */
    uint64_t files_unchanged; /* same hash as in the shards */
    uint64_t files_deleted;   /* removed from the shards */
    uint64_t files_failed;    /* reading, embedding or writing failed */
    uint64_t writes_failed;   /* deletes and import updates the shards refused (after retries) */
    uint64_t writes_retried;  /* of those small writes, sends repeated after a shard's fault */
    uint64_t files_skipped;   /* sum of skipped[] */
    uint64_t skipped[WALK_REASON_COUNT];
    char *examples[WALK_REASON_COUNT][SYNC_EXAMPLES]; /* "path (detail)", owned */
    uint64_t chunks;                                  /* chunks written */
    uint64_t texts_embedded;                          /* texts sent to the embedder */
    uint64_t embed_requests;                          /* embed requests made */
    uint64_t imports_updates; /* files whose import lists were sent to the shards */
    uint64_t bytes_seen;      /* bytes of the accepted files */
    uint64_t bytes_indexed;   /* bytes of the files written */
    int64_t elapsed_ms;       /* wall time of the run */
} sync_stats_t;

typedef struct sync sync_t;

/* Connects the run to lca: checks that the broker answers, asks the
 * embedder for its model and dimension, drops the collection first when
 * config->reset, makes sure every shard has the collection with that model
 * (collection.ensure), and loads what the shards hold.  A collection whose
 * files were placed on the shards by an older hash (proto/shard.h) is
 * dropped and made again, with one line in the log, so that the run
 * indexes it from scratch.  config is copied
 * (its strings must outlive the sync_t).  Returns 0 and sets *out; on
 * failure returns a negative errno (-EHOSTUNREACH: the broker does not
 * answer; -EEXIST: the collection was indexed with another model or
 * dimension) and, if error is not NULL, sets *error to a message for the
 * user (caller frees). */
int sync_open(const sync_config_t *config, sync_t **out, char **error);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void sync_destroy(sync_t **self_p);

/* The embedder's model name and dimension, as learned by sync_open(). */
const char *sync_model(const sync_t *self);
unsigned sync_dim(const sync_t *self);

/* Number of files the shards hold, as far as this process knows. */
size_t sync_known_count(const sync_t *self);

/* Brings the collection in line with walk (a listing of the root): indexes
 * new and changed files, deletes vanished ones, updates import lists, and
 * touches the collection.  Fills *stats (which the caller releases with
 * sync_stats_free()).  Returns 0 when the run completed (single files may
 * still have failed: see stats->files_failed); -EINTR when a stop was
 * requested (stop_requested()); another negative errno when the run
 * could not go on, with *error set as in sync_open(). */
int sync_full(sync_t *self, const walk_t *walk, sync_stats_t *stats, char **error);

/* The same for a few paths (relative to the root) that may have changed,
 * been created or been deleted; a path ending in '/' stands for every
 * known file under that directory.  Paths that are not known and not
 * accepted by walk_check_file() are counted as skipped.  Returns as
 * sync_full(). */
int sync_paths(sync_t *self, const char *const *paths, size_t n, sync_stats_t *stats, char **error);

/* Releases the example strings of stats and zeroes it. */
void sync_stats_free(sync_stats_t *stats);

/* SHA-256 of data as 64 lower-case hex digits and a NUL, into hex. */
void sync_hash_content(const void *data, size_t len, char hex[65]);

#endif
