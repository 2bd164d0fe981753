/*
 * store: one retriever shard on disk (sqlite) and in memory (vectors).
 *
 * A retriever process owns shard i of N of every collection it serves, in
 * one sqlite file DIR/shard-<i>.db.  The file holds, per collection, the
 * files of this shard (path, content hash, language), their chunks (line
 * range, kind, text, the symbols they define, the identifiers they use, the
 * float32 vector), an FTS5 table of each chunk's sub-word tokens, a symbol
 * table (name -> defining chunks), a usage table (name -> how many chunks
 * use it), and two tables the seeder replicates to every shard: the import
 * graph and the reference index (which file reaches which definitions of
 * which file, how often; which member names it reaches at all).
 * The vectors are also kept in memory, one vectors_t per collection, loaded
 * when the store opens.
 *
 * Durability: each write is one sqlite transaction (WAL, synchronous=NORMAL),
 * so a crash leaves every file either wholly as before or wholly replaced.
 * Chunk ids come from AUTOINCREMENT and are never reused, so a vector id in
 * memory names one chunk for the life of the database.
 *
 * Threads: writes are serialised by a mutex on one write connection; reads
 * (search, listings) borrow a connection from a pool, so they run in
 * parallel with each other and with the slow part of a write.  A
 * reader-writer lock makes the in-memory vectors and the committed rows
 * change together: a writer holds it exclusively only for the vector
 * updates and the COMMIT.
 *
 * Errors: functions return 0 or a negative errno with a message for the
 * client in err: -EINVAL bad request (400), -ENOENT unknown collection
 * (404), -EEXIST collection mismatch (409), anything else a server fault.
 */
#ifndef LCA_RETRIEVER_STORE_H
#define LCA_RETRIEVER_STORE_H

#include "proto/base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* What a collection is indexed with; `collection.ensure` sends it. */
typedef struct {
    const char *name;  /* the collection */
    const char *root;  /* absolute path of the repository it indexes */
    const char *model; /* embedding model, e.g. "builtin" */
    long dim;          /* vector dimension: a multiple of 16 in [16, 4096] */
    long shards;       /* shards the collection is split into */
    int placement;     /* how its files go to shards (proto/shard.h); 0: SHARD_PLACEMENT */
} store_collection_spec_t;

/* What collection.ensure found or made. */
typedef struct {
    bool created;  /* the collection is new */
    int placement; /* the placement its files are checked against */
} store_ensured_t;

/* One file to (re)place, as `file.put` sends it (payload described at
 * store_file_put). */
typedef struct {
    const char *collection;
    const char *path; /* collection-relative */
    const char *hash; /* content hash, opaque */
    const char *language;
    const char *const *imports; /* resolved collection-relative paths */
    size_t import_count;
} store_file_spec_t;

typedef struct {
    long collections;
    long chunks;
    size_t vector_bytes; /* memory held by the vector stores */
    size_t db_bytes;     /* the database file plus its WAL */
} store_stats_t;

/* Opens (creating if needed) DIR/shard-<shard>.db for shard `shard` of
 * `shards` and loads every collection's vectors.  NULL with a message in
 * err when the directory, the file or its contents are unusable. */
store_t *store_open(const char *dir, int shard, int shards, char *err, size_t err_len);

/* Closes the database and frees everything; sets *self_p to NULL.  No call
 * may be running.  Accepts NULL. */
void store_destroy(store_t **self_p);

/* This store's shard number and count. */
int store_shard(const store_t *self);
int store_shards(const store_t *self);

/* Creates the collection, or checks that the existing one has the same
 * model, dim and shards (-EEXIST with the message the client sees when not;
 * -EINVAL for a dim the vector store cannot take or shards different from
 * this process's).  An existing collection keeps its placement, whatever
 * spec asks for.  *out says whether it was created and its placement. */
int store_collection_ensure(store_t *self, const store_collection_spec_t *spec,
                            store_ensured_t *out, char *err, size_t err_len);

/* Deletes the collection with all its rows and vectors.  Returns 0 also when
 * it did not exist (dropping is idempotent). */
int store_collection_drop(store_t *self, const char *name, char *err, size_t err_len);

/* Records the last seed time (unix seconds). */
int store_collection_touch(store_t *self, const char *name, int64_t seeded_at, char *err,
                           size_t err_len);

/* Merges the collection's token index into one segment, which makes BM25
 * queries on a big shard about twice as fast, and truncates the WAL it went
 * through.  Costs a rewrite of the index (about 3 s for 200k chunks) under
 * the write lock; searches go on meanwhile.  Run after a seed. */
int store_collection_optimize(store_t *self, const char *name, char *err, size_t err_len);

/* Appends {"files":[{"path","hash"}...]} (this shard's files) to out. */
int store_collection_files(store_t *self, const char *name, buf_t *out, char *err, size_t err_len);

/* Appends {"collections":[{"name","root","model","dim","shards","placement",
 * "files","chunks","seeded_at"}...]} (counts of this shard) to out. */
int store_collections_list(store_t *self, buf_t *out, char *err, size_t err_len);

/*
 * Replaces the file's chunks with those of the payload, in one transaction:
 * rows, FTS tokens, symbols, usage counts, vectors, and the file's imports.
 * The payload is packed texts (proto/base/buf.h): text 0 is JSON
 * {"chunks":[{"start_line","end_line","kind","symbols":[...],"identifiers":[...]}...]},
 * then one text per chunk with its source, then n*dim little-endian float32
 * (n chunks).  A path that is not this shard's under the collection's
 * placement is -EINVAL, as is any malformed part of the payload; nothing
 * is written then.  *chunks receives
 * the number of chunks stored.
 */
int store_file_put(store_t *self, const store_file_spec_t *file, const void *payload,
                   size_t payload_len, long *chunks, char *err, size_t err_len);

/* Removes the file's chunks (and the file and its imports) in one
 * transaction.  A file that is not there is not an error. */
int store_file_delete(store_t *self, const char *collection, const char *path, char *err,
                      size_t err_len);

/* Replaces what `path` imports (any path: the graph is replicated to every
 * shard).  n == 0 clears it. */
int store_imports_put(store_t *self, const char *collection, const char *path,
                      const char *const *targets, size_t n, char *err, size_t err_len);

/* One reference of the reference index: `path` reaches `name` of the file
 * `target` `count` times (through an import), or, with target "", reaches
 * a member called `name` through any receiver. */
typedef struct {
    const char *target;
    const char *name;
    long count;
} store_ref_t;

#define STORE_REFS_MAX 65536

/* Replaces the references `path` makes (any path: like the import graph,
 * the reference index is replicated to every shard, so any shard can tell
 * how often the repository reaches a definition).  n == 0 clears them.
 * Duplicate (target, name) pairs add up. */
int store_refs_put(store_t *self, const char *collection, const char *path, const store_ref_t *refs,
                   size_t n, char *err, size_t err_len);

/* Clears what `path` imports, and its references. */
int store_imports_delete(store_t *self, const char *collection, const char *path, char *err,
                         size_t err_len);

/* Counts and sizes of the whole shard. */
int store_stats_get(store_t *self, store_stats_t *out);

/*
 * Reading, for retriever/search.  store_read_begin() takes a connection from
 * the pool and the shared lock, finds the collection and fills the view;
 * store_read_end() gives both back.  Between the two the collection cannot
 * be dropped and its vectors do not change.  Returns -ENOENT for an unknown
 * collection (with a message), or -ENOMEM / a sqlite failure.
 */
typedef struct {
    struct sqlite3 *db;            /* a read connection, this thread's until the end */
    int64_t collection_id;         /* rowid of the collection */
    const struct vectors *vectors; /* the collection's vectors */
    size_t dim;                    /* their dimension */
    char fts[32];                  /* name of the collection's FTS5 table */
    struct store_reader *reader;   /* pool slot (for store_read_end) */
} store_view_t;

int store_read_begin(store_t *self, const char *collection, store_view_t *view, char *err,
                     size_t err_len);
void store_read_end(store_t *self, store_view_t *view);

/* A prepared statement for `sql` on the view's connection, reset and with
 * its bindings cleared; cached by the address of `sql`, which must be a
 * string with static storage.  NULL on failure (see sqlite3_errmsg(db)). */
struct sqlite3_stmt *store_view_stmt(store_view_t *view, const char *sql);

/* The key a symbol is looked up by: the part after the last '.', ':', '#'
 * or '/' of name[0..len) ("Scope.name" -> "name").  Stores its offset and
 * returns its length (0 when name ends with a separator). */
size_t store_symbol_key(const char *name, size_t len, size_t *offset);

#endif
