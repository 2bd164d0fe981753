/*
 * store: the shard's sqlite file and the vectors mirrored from it.
 *
 * Schema (one file per shard, every collection in it):
 *
 *   collections(id, name UNIQUE, root, model, dim, shards, seeded_at,
 *          placement)   placement 1 for collections made before it was recorded
 *   files(id, collection -> collections, path, hash, language, stem)
 *   chunks(id AUTOINCREMENT, file -> files, start_line, end_line, kind,
 *          symbols JSON, identifiers JSON, text)
 *   chunk_vectors(id -> chunks, vec BLOB)   read only when the store opens,
 *          kept apart so that a chunk row is small and a search that reads
 *          a few hundred rows touches few pages
 *   symbols(collection, name, scope, chunk -> chunks)   name = last part
 *   uses(collection, name, count)      chunks whose identifiers hold name
 *   imports(collection, path, target)  replicated graph; the index on
 *                                      (collection, target) gives in-degrees
 *   terms(collection, token, df)       chunks whose FTS row holds token
 *   fts_<collection id>(body, path, symbols)   FTS5, rowid = chunk id
 *
 * Foreign keys cascade (collection -> files -> chunks -> symbols), so
 * deleting a file row or a collection row removes everything under it; only
 * the FTS rows, the usage counts and the document frequencies are
 * maintained by hand, from the chunk ids, identifier lists and FTS rows read
 * before the delete.  Document frequencies are what lets a query skip the
 * common sub-words (FTS5 does not store them, and scoring a term that
 * half the shard contains costs milliseconds for almost no information).  Freed pages go to
 * sqlite's free list and are reused by the next insert, and the WAL is
 * truncated back to a bounded size after checkpoints, so churn does not grow
 * the file.
 *
 * A write parses and checks the whole request before it touches the
 * database, does its inserts and deletes inside BEGIN IMMEDIATE, and then,
 * holding the reader-writer lock exclusively, adds the new vectors, commits
 * and removes the old vectors.  If the adds or the commit fail, the added
 * vectors are removed again and the transaction rolled back, so memory and
 * disk agree after every outcome.
 */
#include "retriever/store.h"

#include "proto/base/json.h"
#include "proto/base/log.h"
#include "proto/base/map.h"
#include "proto/base/utf8.h"
#include "proto/ops.h"
#include "proto/shard.h"
#include "proto/code/ident.h"
#include "proto/code/module.h"
#include "proto/code/subword.h"
#include "retriever/scan.h"
#include "retriever/vectors.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vectors travel and are stored as little-endian float32"
#endif

#define STMT_CACHE 48
#define NAME_MAX_BYTES 256
#define PATH_MAX_BYTES 4096
#define WAL_LIMIT_BYTES (8 << 20)
/* Reads go through a shared memory map of the file (address space only;
 * the page cache holds the bytes once for every connection) plus a modest
 * private cache per connection. */
#define MMAP_BYTES (16LL << 30)
#define CACHE_KIB 4096

/* A connection with its prepared statements, cached by the address of
 * their SQL text (static strings). */
typedef struct store_reader {
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
    int ncache;
} conn_t;

typedef struct {
    int64_t id;         /* rowid in collections */
    char *name;         /* unique */
    char *root;         /* repository root */
    char *model;        /* embedding model */
    long dim;           /* vector dimension, as vectors_dim(vectors) */
    long shards;        /* equals the store's shard count */
    int placement;      /* how its files are placed on the shards (proto/shard.h) */
    int64_t seeded_at;  /* unix seconds, 0 never */
    vectors_t *vectors; /* one row per chunk of this shard, id = chunk id */
} collection_t;

struct store {
    char *db_path;
    int shard, shards;
    pthread_mutex_t write_lock; /* serialises writes; guards writer */
    conn_t writer;
    pthread_rwlock_t lock;      /* exclusive: collections list and vectors change */
    collection_t **collections; /* ncollections entries */
    size_t ncollections;
    pthread_mutex_t pool_lock; /* guards the pool below */
    conn_t **readers;          /* every read connection made, nreaders */
    size_t nreaders;
    conn_t **idle; /* those not in use, nidle */
    size_t nidle;
};

/* ---- small helpers ---- */

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...) {
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int db_fail(sqlite3 *db, char *err, size_t err_len, const char *what) {
    log_error("sqlite: %s: %s", what, sqlite3_errmsg(db));
    int code = sqlite3_errcode(db);
    int rc = code == SQLITE_FULL ? -ENOSPC : code == SQLITE_NOMEM ? -ENOMEM : -EIO;
    return fail(err, err_len, rc, "shard store: %s failed: %s", what, sqlite3_errmsg(db));
}

/* The cached statement for `sql`, reset with its bindings cleared, or NULL
 * (the error is on the connection). */
static sqlite3_stmt *conn_stmt(conn_t *c, const char *sql) {
    for (int i = 0; i < c->ncache; i++)
        if (c->cache[i].sql == sql) {
            sqlite3_reset(c->cache[i].stmt);
            sqlite3_clear_bindings(c->cache[i].stmt);
            return c->cache[i].stmt;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    if (c->ncache < STMT_CACHE) {
        c->cache[c->ncache].sql = sql;
        c->cache[c->ncache++].stmt = st;
    } else {
        log_warn("statement cache full");
    }
    return st;
}

static void conn_close(conn_t *c) {
    for (int i = 0; i < c->ncache; i++)
        sqlite3_finalize(c->cache[i].stmt);
    c->ncache = 0;
    sqlite3_close(c->db);
    c->db = NULL;
}

static int conn_open(conn_t *c, const char *path, bool writer, char *err, size_t err_len) {
    memset(c, 0, sizeof *c);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        int rc = fail(err, err_len, -EIO, "cannot open %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        c->db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(c->db, 10000);
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=%d;"
             " PRAGMA mmap_size=%lld; PRAGMA cache_size=-%d;%s",
             WAL_LIMIT_BYTES, MMAP_BYTES, CACHE_KIB,
             writer ? " PRAGMA journal_mode=WAL;" : " PRAGMA query_only=1;");
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = fail(err, err_len, -EIO, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        conn_close(c);
        return rc;
    }
    return 0;
}

static int exec_sql(conn_t *c, const char *sql, char *err, size_t err_len) {
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(c->db, err, err_len, sql);
    return 0;
}

static void rollback(conn_t *c) {
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static char *dup_string(const char *s) {
    return strdup(s ? s : "");
}

static collection_t *collection_find(const store_t *self, const char *name) {
    for (size_t i = 0; i < self->ncollections; i++)
        if (strcmp(self->collections[i]->name, name) == 0)
            return self->collections[i];
    return NULL;
}

static void collection_free(collection_t *c) {
    if (!c)
        return;
    free(c->name);
    free(c->root);
    free(c->model);
    vectors_destroy(&c->vectors);
    free(c);
}

static void fts_name(int64_t id, char *out, size_t cap) {
    snprintf(out, cap, "fts_%" PRId64, id);
}

static int check_name(const char *what, const char *s, size_t max, char *err, size_t err_len) {
    if (!s || !*s)
        return fail(err, err_len, -EINVAL, "\"%s\" must be a non-empty string", what);
    if (strlen(s) > max)
        return fail(err, err_len, -EINVAL, "\"%s\" is longer than %zu bytes", what, max);
    return 0;
}

size_t store_symbol_key(const char *name, size_t len, size_t *offset) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.' || name[i] == ':' || name[i] == '#' || name[i] == '/')
            start = i + 1;
    *offset = start;
    return len - start;
}

/* The scope a qualified symbol belongs to: the part before the key
 * ("a.Outer.name" -> "Outer"); length 0 for a plain name. */
static size_t symbol_scope(const char *name, size_t len, size_t *offset) {
    size_t key_at;
    store_symbol_key(name, len, &key_at);
    size_t end = key_at;
    while (end > 0 && (name[end - 1] == '.' || name[end - 1] == ':' || name[end - 1] == '#' ||
                       name[end - 1] == '/'))
        end--;
    size_t start = end;
    while (start > 0 && name[start - 1] != '.' && name[start - 1] != ':' &&
           name[start - 1] != '#' && name[start - 1] != '/')
        start--;
    *offset = start;
    return end - start;
}

/* Whether the chunk holds name (len bytes) as the member of a scope too
 * (`Cart.total` beside `total`): then the plain name is that member's, not
 * a top-level definition, and is stored under its scope only. */
static bool symbol_scoped(const ops_chunk_t *chunk, const char *name, size_t len) {
    for (size_t i = 0; i < chunk->symbol_count; i++) {
        if (ident_member_of_scope(chunk->symbols[i], name, len))
            return true;
    }
    return false;
}

/* ---- opening ---- */

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS collections("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, root TEXT NOT NULL,"
    " model TEXT NOT NULL, dim INTEGER NOT NULL, shards INTEGER NOT NULL,"
    " seeded_at INTEGER NOT NULL DEFAULT 0, placement INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS files("
    " id INTEGER PRIMARY KEY,"
    " collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL, hash TEXT NOT NULL, language TEXT NOT NULL, stem TEXT NOT NULL,"
    " UNIQUE(collection, path));"
    "CREATE INDEX IF NOT EXISTS files_stem ON files(collection, stem);"
    "CREATE TABLE IF NOT EXISTS chunks("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " file INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, kind TEXT NOT NULL,"
    " symbols TEXT NOT NULL, identifiers TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS chunk_vectors("
    " id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, vec BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file);"
    "CREATE TABLE IF NOT EXISTS symbols("
    " collection INTEGER NOT NULL, name TEXT NOT NULL, scope TEXT NOT NULL,"
    " chunk INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,"
    " PRIMARY KEY(collection, name, scope, chunk)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS symbols_scope ON symbols(collection, scope);"
    "CREATE INDEX IF NOT EXISTS symbols_chunk ON symbols(chunk);"
    "CREATE TABLE IF NOT EXISTS uses("
    " collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY(collection, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS imports("
    " collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL, target TEXT NOT NULL,"
    " PRIMARY KEY(collection, path, target)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS imports_target ON imports(collection, target);"
    "CREATE TABLE IF NOT EXISTS refs("
    " collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " target TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY(collection, target, name, path)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS refs_path ON refs(collection, path);"
    "CREATE TABLE IF NOT EXISTS terms("
    " collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " token TEXT NOT NULL, df INTEGER NOT NULL,"
    " PRIMARY KEY(collection, token)) WITHOUT ROWID;";

static const char SQL_COLLECTIONS[] =
    "SELECT id, name, root, model, dim, shards, seeded_at, placement FROM collections ORDER BY id";

/* A shard file written before collections recorded their placement has no
 * such column: its collections were all placed by FNV-1a alone
 * (SHARD_PLACEMENT_FNV1A), which the column's default says. */
static int schema_upgrade(conn_t *w, char *err, size_t err_len) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT placement FROM collections", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    log_info("recording the placement of the collections in %s", sqlite3_db_filename(w->db, NULL));
    return exec_sql(w, "ALTER TABLE collections ADD COLUMN placement INTEGER NOT NULL DEFAULT 1",
                    err, err_len);
}
static const char SQL_COLLECTION_VECTORS[] =
    "SELECT v.id, v.vec FROM chunk_vectors v JOIN chunks c ON c.id = v.id"
    " JOIN files f ON f.id = c.file WHERE f.collection = ?";

/* Loads one collection's vectors from the database. */
static int collection_load_vectors(store_t *self, collection_t *c, char *err, size_t err_len) {
    sqlite3_stmt *st = conn_stmt(&self->writer, SQL_COLLECTION_VECTORS);
    if (!st)
        return db_fail(self->writer.db, err, err_len, "loading vectors");
    sqlite3_bind_int64(st, 1, c->id);
    float *vec = malloc((size_t)c->dim * sizeof *vec);
    if (!vec)
        return fail(err, err_len, -ENOMEM, "out of memory");
    int rc = 0, step;
    size_t bad = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const void *blob = sqlite3_column_blob(st, 1);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
        if (!blob || bytes != (size_t)c->dim * sizeof *vec) {
            bad++;
            continue;
        }
        memcpy(vec, blob, bytes);
        int added = vectors_add(c->vectors, (uint64_t)id, vec);
        if (added == -EINVAL) {
            bad++;
        } else if (added < 0) {
            rc = fail(err, err_len, added, "cannot hold the vectors of '%s': %s", c->name,
                      strerror(-added));
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_fail(self->writer.db, err, err_len, "loading vectors");
    sqlite3_reset(st);
    free(vec);
    if (bad)
        log_warn("collection '%s': %zu stored vectors are unusable and were skipped", c->name, bad);
    return rc;
}

static int store_load(store_t *self, char *err, size_t err_len) {
    sqlite3_stmt *st = conn_stmt(&self->writer, SQL_COLLECTIONS);
    if (!st)
        return db_fail(self->writer.db, err, err_len, "listing collections");
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        collection_t *c = calloc(1, sizeof *c);
        collection_t **grown = realloc(self->collections, (self->ncollections + 1) * sizeof *grown);
        if (!c || !grown) {
            free(c);
            if (grown)
                self->collections = grown;
            rc = fail(err, err_len, -ENOMEM, "out of memory");
            break;
        }
        self->collections = grown;
        c->id = sqlite3_column_int64(st, 0);
        c->name = dup_string((const char *)sqlite3_column_text(st, 1));
        c->root = dup_string((const char *)sqlite3_column_text(st, 2));
        c->model = dup_string((const char *)sqlite3_column_text(st, 3));
        c->dim = sqlite3_column_int(st, 4);
        c->shards = sqlite3_column_int(st, 5);
        c->seeded_at = sqlite3_column_int64(st, 6);
        c->placement = sqlite3_column_int(st, 7);
        c->vectors = vectors_new((size_t)c->dim);
        self->collections[self->ncollections++] = c;
        if (!c->name || !c->root || !c->model || !c->vectors) {
            rc = fail(err, err_len, -ENOMEM, "collection '%s' (dim %ld) cannot be loaded",
                      c->name ? c->name : "?", c->dim);
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(self->writer.db, err, err_len, "listing collections");
    sqlite3_reset(st);
    for (size_t i = 0; rc == 0 && i < self->ncollections; i++)
        rc = collection_load_vectors(self, self->collections[i], err, err_len);
    return rc;
}

store_t *store_open(const char *dir, int shard, int shards, char *err, size_t err_len) {
    if (!dir || shards < 1 || shard < 0 || shard >= shards) {
        fail(err, err_len, -EINVAL, "bad shard %d/%d", shard, shards);
        return NULL;
    }
    /* The index holds the code of private repositories: other users stay out. */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fail(err, err_len, -errno, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    store_t *self = calloc(1, sizeof *self);
    if (!self) {
        fail(err, err_len, -ENOMEM, "out of memory");
        return NULL;
    }
    self->shard = shard;
    self->shards = shards;
    pthread_mutex_init(&self->write_lock, NULL);
    pthread_mutex_init(&self->pool_lock, NULL);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* A steady stream of searches must not starve the seeder's writes. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&self->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    size_t n = strlen(dir) + 32;
    self->db_path = malloc(n);
    if (!self->db_path) {
        fail(err, err_len, -ENOMEM, "out of memory");
        goto failed;
    }
    snprintf(self->db_path, n, "%s/shard-%d.db", dir, shard);
    /* sqlite would make a new database 0644 less the umask, and its -wal and
     * -shm files with the database's mode: made here, all are 0600. */
    int fd = open(self->db_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    if (conn_open(&self->writer, self->db_path, true, err, err_len) != 0)
        goto failed;
    if (exec_sql(&self->writer, SCHEMA, err, err_len) != 0 ||
        schema_upgrade(&self->writer, err, err_len) != 0 || store_load(self, err, err_len) != 0)
        goto failed;
    return self;
failed:
    store_destroy(&self);
    return NULL;
}

void store_destroy(store_t **self_p) {
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    for (size_t i = 0; i < self->nreaders; i++) {
        conn_close(self->readers[i]);
        free(self->readers[i]);
    }
    free(self->readers);
    free(self->idle);
    if (self->writer.db) {
        /* A clean close checkpoints and removes the WAL. */
        conn_close(&self->writer);
    }
    for (size_t i = 0; i < self->ncollections; i++)
        collection_free(self->collections[i]);
    free(self->collections);
    free(self->db_path);
    pthread_rwlock_destroy(&self->lock);
    pthread_mutex_destroy(&self->pool_lock);
    pthread_mutex_destroy(&self->write_lock);
    free(self);
    *self_p = NULL;
}

int store_shard(const store_t *self) {
    return self->shard;
}

int store_shards(const store_t *self) {
    return self->shards;
}

/* ---- read connections ---- */

static conn_t *reader_take(store_t *self, char *err, size_t err_len) {
    pthread_mutex_lock(&self->pool_lock);
    if (self->nidle) {
        conn_t *c = self->idle[--self->nidle];
        pthread_mutex_unlock(&self->pool_lock);
        return c;
    }
    conn_t *c = calloc(1, sizeof *c);
    conn_t **all = c ? realloc(self->readers, (self->nreaders + 1) * sizeof *all) : NULL;
    conn_t **idle = all ? realloc(self->idle, (self->nreaders + 1) * sizeof *idle) : NULL;
    if (all)
        self->readers = all;
    if (idle)
        self->idle = idle;
    if (!c || !all || !idle) {
        pthread_mutex_unlock(&self->pool_lock);
        free(c);
        fail(err, err_len, -ENOMEM, "out of memory");
        return NULL;
    }
    if (conn_open(c, self->db_path, false, err, err_len) != 0) {
        pthread_mutex_unlock(&self->pool_lock);
        free(c);
        return NULL;
    }
    self->readers[self->nreaders++] = c;
    pthread_mutex_unlock(&self->pool_lock);
    return c;
}

static void reader_give(store_t *self, conn_t *c) {
    pthread_mutex_lock(&self->pool_lock);
    self->idle[self->nidle++] = c;
    pthread_mutex_unlock(&self->pool_lock);
}

int store_read_begin(store_t *self, const char *collection, store_view_t *view, char *err,
                     size_t err_len) {
    memset(view, 0, sizeof *view);
    conn_t *c = reader_take(self, err, err_len);
    if (!c)
        return -ENOMEM;
    pthread_rwlock_rdlock(&self->lock);
    collection_t *col = collection ? collection_find(self, collection) : NULL;
    if (collection && !col) {
        pthread_rwlock_unlock(&self->lock);
        reader_give(self, c);
        return fail(err, err_len, -ENOENT, "no collection '%s' (seed it first)", collection);
    }
    view->db = c->db;
    view->reader = c;
    /* One read transaction for the whole view: one snapshot, and the WAL
     * read lock taken once instead of once per statement. */
    if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        log_warn("sqlite: cannot begin a read transaction: %s", sqlite3_errmsg(c->db));
    if (col) {
        view->collection_id = col->id;
        view->vectors = col->vectors;
        view->dim = (size_t)col->dim;
        fts_name(col->id, view->fts, sizeof view->fts);
    }
    return 0;
}

void store_read_end(store_t *self, store_view_t *view) {
    if (!view->reader)
        return;
    if (!sqlite3_get_autocommit(view->reader->db))
        sqlite3_exec(view->reader->db, "COMMIT", NULL, NULL, NULL);
    pthread_rwlock_unlock(&self->lock);
    reader_give(self, view->reader);
    view->reader = NULL;
    view->db = NULL;
}

sqlite3_stmt *store_view_stmt(store_view_t *view, const char *sql) {
    return conn_stmt(view->reader, sql);
}

/* ---- collections ---- */

static const char SQL_COLLECTION_INSERT[] =
    "INSERT INTO collections(name, root, model, dim, shards, placement) VALUES(?, ?, ?, ?, ?, ?)";

int store_collection_ensure(store_t *self, const store_collection_spec_t *spec,
                            store_ensured_t *out, char *err, size_t err_len) {
    int rc;
    if ((rc = check_name("collection", spec->name, NAME_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_name("model", spec->model, NAME_MAX_BYTES, err, err_len)) != 0)
        return rc;
    if (spec->dim < 16 || spec->dim > SCAN_DIM_MAX || spec->dim % 16 != 0)
        return fail(err, err_len, -EINVAL,
                    "\"dim\" must be a multiple of 16 between 16 and %d, not %ld", SCAN_DIM_MAX,
                    spec->dim);
    if (spec->shards != self->shards)
        return fail(err, err_len, -EEXIST,
                    "collection '%s' asks for %ld shards but this retriever is shard %d of %d",
                    spec->name, spec->shards, self->shard, self->shards);
    int placement = spec->placement ? spec->placement : SHARD_PLACEMENT;
    if (placement != SHARD_PLACEMENT_FNV1A && placement != SHARD_PLACEMENT_MIXED)
        return fail(err, err_len, -EINVAL, "\"placement\" must be %d or %d, not %d",
                    SHARD_PLACEMENT_FNV1A, SHARD_PLACEMENT_MIXED, placement);
    *out = (store_ensured_t){.created = false, .placement = placement};
    pthread_mutex_lock(&self->write_lock);
    collection_t *c = collection_find(self, spec->name);
    if (c) {
        out->placement = c->placement;
        if (strcmp(c->model, spec->model) != 0 || c->dim != spec->dim || c->shards != spec->shards)
            rc = fail(err, err_len, -EEXIST,
                      "collection '%s' was indexed with %s (%ld dims, %ld shards); re-seed it "
                      "with --reset to change",
                      c->name, c->model, c->dim, c->shards);
        pthread_mutex_unlock(&self->write_lock);
        return rc;
    }
    conn_t *w = &self->writer;
    c = calloc(1, sizeof *c);
    if (!c || !(c->name = dup_string(spec->name)) || !(c->root = dup_string(spec->root)) ||
        !(c->model = dup_string(spec->model)) || !(c->vectors = vectors_new((size_t)spec->dim))) {
        rc = fail(err, err_len, -ENOMEM, "out of memory");
        goto done;
    }
    c->dim = spec->dim;
    c->shards = spec->shards;
    c->placement = placement;
    if ((rc = exec_sql(w, "BEGIN IMMEDIATE", err, err_len)) != 0)
        goto done;
    sqlite3_stmt *st = conn_stmt(w, SQL_COLLECTION_INSERT);
    if (!st) {
        rc = db_fail(w->db, err, err_len, "creating the collection");
        goto done;
    }
    sqlite3_bind_text(st, 1, spec->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, spec->root ? spec->root : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, spec->model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, spec->dim);
    sqlite3_bind_int64(st, 5, spec->shards);
    sqlite3_bind_int(st, 6, placement);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(w->db, err, err_len, "creating the collection");
        goto done;
    }
    sqlite3_reset(st);
    c->id = sqlite3_last_insert_rowid(w->db);
    char sql[160], name[32];
    fts_name(c->id, name, sizeof name);
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE %s USING fts5(body, path, symbols)", name);
    if ((rc = exec_sql(w, sql, err, err_len)) != 0)
        goto done;
    /* The list grows under the exclusive lock: readers walk it under the
     * shared one, and realloc may move it. */
    pthread_rwlock_wrlock(&self->lock);
    collection_t **grown = realloc(self->collections, (self->ncollections + 1) * sizeof *grown);
    if (grown)
        self->collections = grown;
    if (!grown || sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        pthread_rwlock_unlock(&self->lock);
        rc = grown ? db_fail(w->db, err, err_len, "creating the collection")
                   : fail(err, err_len, -ENOMEM, "out of memory");
        goto done;
    }
    self->collections[self->ncollections++] = c;
    pthread_rwlock_unlock(&self->lock);
    c = NULL;
    out->created = true;
    log_info("collection '%s' created (%s, %ld dims, %ld shards, placement %d)", spec->name,
             spec->model, spec->dim, spec->shards, placement);
done:
    if (rc != 0)
        rollback(w);
    collection_free(c);
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}

int store_collection_drop(store_t *self, const char *name, char *err, size_t err_len) {
    int rc = check_name("collection", name, NAME_MAX_BYTES, err, err_len);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&self->write_lock);
    conn_t *w = &self->writer;
    collection_t *c = collection_find(self, name);
    if (!c)
        goto done;
    char sql[160], fts[32];
    fts_name(c->id, fts, sizeof fts);
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; DROP TABLE IF EXISTS %s;"
             " DELETE FROM collections WHERE id = %" PRId64 ";",
             fts, c->id);
    if ((rc = exec_sql(w, sql, err, err_len)) != 0)
        goto done;
    pthread_rwlock_wrlock(&self->lock);
    if (sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        pthread_rwlock_unlock(&self->lock);
        rc = db_fail(w->db, err, err_len, "dropping the collection");
        goto done;
    }
    for (size_t i = 0; i < self->ncollections; i++)
        if (self->collections[i] == c) {
            self->collections[i] = self->collections[--self->ncollections];
            break;
        }
    pthread_rwlock_unlock(&self->lock);
    log_info("collection '%s' dropped", c->name);
    collection_free(c);
done:
    if (rc != 0)
        rollback(w);
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}

static const char SQL_TOUCH[] = "UPDATE collections SET seeded_at = ? WHERE id = ?";

int store_collection_touch(store_t *self, const char *name, int64_t seeded_at, char *err,
                           size_t err_len) {
    int rc = check_name("collection", name, NAME_MAX_BYTES, err, err_len);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&self->write_lock);
    collection_t *c = collection_find(self, name);
    sqlite3_stmt *st = c ? conn_stmt(&self->writer, SQL_TOUCH) : NULL;
    if (!c) {
        rc = fail(err, err_len, -ENOENT, "no collection '%s' (seed it first)", name);
    } else if (!st) {
        rc = db_fail(self->writer.db, err, err_len, "recording the seed time");
    } else {
        sqlite3_bind_int64(st, 1, seeded_at);
        sqlite3_bind_int64(st, 2, c->id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(self->writer.db, err, err_len, "recording the seed time");
        sqlite3_reset(st);
        if (rc == 0) {
            pthread_rwlock_wrlock(&self->lock);
            c->seeded_at = seeded_at;
            pthread_rwlock_unlock(&self->lock);
        }
    }
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}

int store_collection_optimize(store_t *self, const char *name, char *err, size_t err_len) {
    int rc = check_name("collection", name, NAME_MAX_BYTES, err, err_len);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&self->write_lock);
    collection_t *c = collection_find(self, name);
    if (!c) {
        rc = fail(err, err_len, -ENOENT, "no collection '%s'", name);
    } else {
        char fts[32], sql[160];
        fts_name(c->id, fts, sizeof fts);
        snprintf(sql, sizeof sql, "INSERT INTO %s(%s) VALUES('optimize')", fts, fts);
        int64_t start = clock_ms();
        rc = exec_sql(&self->writer, sql, err, err_len);
        /* The merged index went through the WAL: give that space back now. */
        sqlite3_wal_checkpoint_v2(self->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if (rc == 0)
            log_info("collection '%s': token index merged in %" PRId64 " ms", name,
                     clock_ms() - start);
    }
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}

static const char SQL_FILES[] = "SELECT path, hash FROM files WHERE collection = ? ORDER BY path";

int store_collection_files(store_t *self, const char *name, buf_t *out, char *err, size_t err_len) {
    int rc = check_name("collection", name, NAME_MAX_BYTES, err, err_len);
    store_view_t view;
    if (rc != 0 || (rc = store_read_begin(self, name, &view, err, err_len)) != 0)
        return rc;
    sqlite3_stmt *st = store_view_stmt(&view, SQL_FILES);
    if (!st) {
        rc = db_fail(view.db, err, err_len, "listing files");
        goto done;
    }
    sqlite3_bind_int64(st, 1, view.collection_id);
    buf_append_str(out, "{\"files\":[");
    int step, n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        buf_append_str(out, n++ ? ",{\"path\":" : "{\"path\":");
        buf_append_json_string(out, (const char *)sqlite3_column_text(st, 0),
                               (size_t)sqlite3_column_bytes(st, 0));
        buf_append_str(out, ",\"hash\":");
        buf_append_json_string(out, (const char *)sqlite3_column_text(st, 1),
                               (size_t)sqlite3_column_bytes(st, 1));
        buf_append_str(out, "}");
    }
    if (step != SQLITE_DONE)
        rc = db_fail(view.db, err, err_len, "listing files");
    else if (buf_append_str(out, "]}") != 0)
        rc = fail(err, err_len, -ENOMEM, "out of memory");
    sqlite3_reset(st);
done:
    store_read_end(self, &view);
    return rc;
}

static const char SQL_FILE_COUNT[] = "SELECT count(*) FROM files WHERE collection = ?";

int store_collections_list(store_t *self, buf_t *out, char *err, size_t err_len) {
    store_view_t view;
    int rc = store_read_begin(self, NULL, &view, err, err_len);
    if (rc != 0)
        return rc;
    buf_append_str(out, "{\"collections\":[");
    for (size_t i = 0; i < self->ncollections && rc == 0; i++) {
        const collection_t *c = self->collections[i];
        sqlite3_stmt *st = store_view_stmt(&view, SQL_FILE_COUNT);
        if (!st) {
            rc = db_fail(view.db, err, err_len, "counting files");
            break;
        }
        sqlite3_bind_int64(st, 1, c->id);
        long files = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        ops_collection_open(out, i == 0, c->name, c->root, c->model);
        buf_printf(out,
                   ",\"dim\":%ld,\"shards\":%ld,\"placement\":%d,\"files\":%ld,\"chunks\":%zu,"
                   "\"seeded_at\":%" PRId64 "}",
                   c->dim, c->shards, c->placement, files, vectors_count(c->vectors), c->seeded_at);
    }
    if (rc == 0 && buf_append_str(out, "]}") != 0)
        rc = fail(err, err_len, -ENOMEM, "out of memory");
    store_read_end(self, &view);
    return rc;
}

int store_stats_get(store_t *self, store_stats_t *out) {
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&self->lock);
    out->collections = (long)self->ncollections;
    for (size_t i = 0; i < self->ncollections; i++) {
        out->chunks += (long)vectors_count(self->collections[i]->vectors);
        out->vector_bytes += vectors_bytes(self->collections[i]->vectors);
    }
    pthread_rwlock_unlock(&self->lock);
    struct stat st;
    if (stat(self->db_path, &st) == 0)
        out->db_bytes += (size_t)st.st_size;
    char wal[PATH_MAX_BYTES + 8];
    snprintf(wal, sizeof wal, "%s-wal", self->db_path);
    if (stat(wal, &st) == 0)
        out->db_bytes += (size_t)st.st_size;
    return 0;
}

/* ---- parsing a file.put payload ---- */

/* A chunk of a file.put as the store writes it. */
typedef struct {
    const ops_chunk_t *chunk; /* in the decoded payload */
    char *symbols_json;       /* the symbols as JSON (as stored and returned) */
    char *identifiers_json;
    const char *text; /* in the payload, or text_copy */
    size_t text_len;
    char *text_copy; /* the text with invalid UTF-8 bytes replaced, or NULL */
} parsed_chunk_t;

typedef struct {
    ops_payload_t payload;
    parsed_chunk_t *chunks;
    size_t n;
    float *vectors; /* n * dim, aligned copy of the payload's vectors */
} parsed_file_t;

static void parsed_free(parsed_file_t *p) {
    for (size_t i = 0; p->chunks && i < p->n; i++) {
        free(p->chunks[i].symbols_json);
        free(p->chunks[i].identifiers_json);
        free(p->chunks[i].text_copy);
    }
    free(p->chunks);
    free(p->vectors);
    ops_payload_free(&p->payload);
    memset(p, 0, sizeof *p);
}

/* names as a JSON array text (heap), "[]" when there are none. */
static char *names_json(const char *const *names, size_t n) {
    if (!names || n == 0)
        return strdup("[]");
    cJSON *array = cJSON_CreateStringArray((const char *const *)names, (int)n);
    char *text = array ? cJSON_PrintUnformatted(array) : NULL;
    cJSON_Delete(array);
    return text;
}

/* Decodes the payload (proto/ops.h) and prepares what the store writes:
 * the name lists as JSON, texts in valid UTF-8, the vectors aligned. */
static int parse_file_payload(const void *payload, size_t len, size_t dim, parsed_file_t *p,
                              char *err, size_t err_len) {
    memset(p, 0, sizeof *p);
    int rc = ops_payload_decode(payload, len, dim, &p->payload, err, err_len);
    if (rc != 0)
        return rc;
    p->n = p->payload.count;
    p->chunks = calloc(p->n ? p->n : 1, sizeof *p->chunks);
    if (!p->chunks)
        return fail(err, err_len, -ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        parsed_chunk_t *pc = &p->chunks[i];
        const ops_chunk_t *c = &p->payload.chunks[i];
        pc->chunk = c;
        pc->symbols_json = names_json(c->symbols, c->symbol_count);
        pc->identifiers_json = names_json(c->identifiers, c->identifier_count);
        if (!pc->symbols_json || !pc->identifiers_json)
            return fail(err, err_len, -ENOMEM, "out of memory");
        pc->text = c->text;
        pc->text_len = c->text_len;
        if (!utf8_valid(pc->text, pc->text_len)) {
            /* Latin-1 and other stray bytes: keep the file, mark the bytes. */
            if (!(pc->text_copy = malloc(pc->text_len + 1)))
                return fail(err, err_len, -ENOMEM, "out of memory");
            memcpy(pc->text_copy, pc->text, pc->text_len);
            utf8_sanitize(pc->text_copy, pc->text_len, '?');
            pc->text = pc->text_copy;
        }
    }
    if (p->n) {
        size_t bytes = p->n * dim * sizeof(float);
        p->vectors = aligned_alloc(SCAN_ALIGN, (bytes + SCAN_ALIGN - 1) / SCAN_ALIGN * SCAN_ALIGN);
        if (!p->vectors)
            return fail(err, err_len, -ENOMEM, "out of memory");
        memcpy(p->vectors, p->payload.vectors, bytes);
    }
    return 0;
}

/* ---- writing files ---- */

static const char SQL_FILE_FIND[] = "SELECT id FROM files WHERE collection = ? AND path = ?";
static const char SQL_FILE_UPSERT[] =
    "INSERT INTO files(collection, path, hash, language, stem) VALUES(?, ?, ?, ?, ?)"
    " ON CONFLICT(collection, path) DO UPDATE SET hash = excluded.hash,"
    " language = excluded.language RETURNING id";
static const char SQL_FILE_DELETE[] = "DELETE FROM files WHERE id = ?";
static const char SQL_FILE_CHUNKS[] = "SELECT id, identifiers FROM chunks WHERE file = ?";
static const char SQL_CHUNKS_DELETE[] = "DELETE FROM chunks WHERE file = ?";
static const char SQL_CHUNK_INSERT[] =
    "INSERT INTO chunks(file, start_line, end_line, kind, symbols, identifiers, text)"
    " VALUES(?, ?, ?, ?, ?, ?, ?)";
static const char SQL_VECTOR_INSERT[] = "INSERT INTO chunk_vectors(id, vec) VALUES(?, ?)";
static const char SQL_SYMBOL_INSERT[] =
    "INSERT OR IGNORE INTO symbols(collection, name, scope, chunk) VALUES(?, ?, ?, ?)";
static const char SQL_USES_INC[] = "INSERT INTO uses(collection, name, count) VALUES(?, ?, 1)"
                                   " ON CONFLICT(collection, name) DO UPDATE SET count = count + 1";
static const char SQL_USES_DEC[] =
    "UPDATE uses SET count = count - 1 WHERE collection = ? AND name = ?";
static const char SQL_USES_DROP[] =
    "DELETE FROM uses WHERE collection = ? AND name = ? AND count <= 0";
static const char SQL_IMPORTS_CLEAR[] = "DELETE FROM imports WHERE collection = ? AND path = ?";
static const char SQL_TERM_ADD[] =
    "INSERT INTO terms(collection, token, df) VALUES(?, ?, ?)"
    " ON CONFLICT(collection, token) DO UPDATE SET df = df + excluded.df";
static const char SQL_TERM_DROP[] =
    "DELETE FROM terms WHERE collection = ? AND token = ? AND df <= 0";
static const char SQL_IMPORT_INSERT[] =
    "INSERT OR IGNORE INTO imports(collection, path, target) VALUES(?, ?, ?)";

typedef struct {
    int64_t *ids;
    size_t n, cap;
} id_list_t;

static int id_list_push(id_list_t *l, int64_t id) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        int64_t *ids = realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return -ENOMEM;
        l->ids = ids;
        l->cap = cap;
    }
    l->ids[l->n++] = id;
    return 0;
}

/* Runs a statement that returns no rows; 0 or the failure. */
static int step_done(conn_t *w, sqlite3_stmt *st, char *err, size_t err_len, const char *what) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(w->db, err, err_len, what);
    sqlite3_reset(st);
    return rc;
}

/* Adds delta (+1 or -1) to the usage count of every identifier in the
 * JSON array text. */
static int uses_update(conn_t *w, int64_t cid, const char *identifiers_json, int delta, char *err,
                       size_t err_len) {
    cJSON *a = cJSON_Parse(identifiers_json);
    int rc = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e))
            continue;
        const char *sqls[2] = {delta > 0 ? SQL_USES_INC : SQL_USES_DEC,
                               delta > 0 ? NULL : SQL_USES_DROP};
        for (int k = 0; k < 2 && sqls[k] && rc == 0; k++) {
            sqlite3_stmt *st = conn_stmt(w, sqls[k]);
            if (!st) {
                rc = db_fail(w->db, err, err_len, "updating usage counts");
                break;
            }
            sqlite3_bind_int64(st, 1, cid);
            sqlite3_bind_text(st, 2, e->valuestring, -1, SQLITE_STATIC);
            rc = step_done(w, st, err, err_len, "updating usage counts");
        }
        if (rc != 0)
            break;
    }
    cJSON_Delete(a);
    return rc;
}

/* Document frequency changes of one write, token -> 2 * delta + 1 (odd, so
 * never NULL). */
static int df_add_chunk(map_t *df, const char *const cols[3], int delta) {
    map_t *seen = map_new();
    if (!seen)
        return -ENOMEM;
    int rc = 0;
    for (int c = 0; c < 3 && rc == 0; c++) {
        for (const char *p = cols[c]; p && *p && rc == 0;) {
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, " ");
            if (!n)
                break;
            if (!map_get(seen, p, n)) {
                intptr_t v = (intptr_t)map_get(df, p, n);
                intptr_t count = v ? (v - 1) / 2 : 0;
                if (map_put(seen, p, n, (void *)1) != 0 ||
                    map_put(df, p, n, (void *)(2 * (count + delta) + 1)) != 0)
                    rc = -ENOMEM;
            }
            p += n;
        }
    }
    map_destroy(&seen);
    return rc;
}

typedef struct {
    conn_t *w;
    int64_t cid;
    int rc;
    char *err;
    size_t err_len;
} df_flush_t;

static void df_flush_one(const void *key, size_t key_len, void *value, void *arg) {
    df_flush_t *f = arg;
    intptr_t delta = ((intptr_t)value - 1) / 2;
    if (f->rc != 0 || delta == 0)
        return;
    const char *sqls[2] = {SQL_TERM_ADD, delta < 0 ? SQL_TERM_DROP : NULL};
    for (int k = 0; k < 2 && sqls[k] && f->rc == 0; k++) {
        sqlite3_stmt *st = conn_stmt(f->w, sqls[k]);
        if (!st) {
            f->rc = db_fail(f->w->db, f->err, f->err_len, "updating term counts");
            return;
        }
        sqlite3_bind_int64(st, 1, f->cid);
        sqlite3_bind_text(st, 2, key, (int)key_len, SQLITE_STATIC);
        if (k == 0)
            sqlite3_bind_int64(st, 3, delta);
        f->rc = step_done(f->w, st, f->err, f->err_len, "updating term counts");
    }
}

/* Writes the collected document frequency changes. */
static int df_flush(conn_t *w, int64_t cid, map_t *df, char *err, size_t err_len) {
    df_flush_t f = {w, cid, 0, err, err_len};
    map_each(df, df_flush_one, &f);
    return f.rc;
}

/* Deletes the rows of the chunks of file_id (FTS rows and usage counts by
 * hand, symbols by cascade) and collects their ids into old. */
static int file_chunks_remove(conn_t *w, int64_t cid, int64_t file_id, sqlite3_stmt *fts_read,
                              sqlite3_stmt *fts_delete, map_t *df, id_list_t *old, char *err,
                              size_t err_len) {
    sqlite3_stmt *st = conn_stmt(w, SQL_FILE_CHUNKS);
    if (!st)
        return db_fail(w->db, err, err_len, "reading old chunks");
    sqlite3_bind_int64(st, 1, file_id);
    int rc = 0, step;
    /* Collect first: the usage updates below use other statements. */
    buf_t idents = BUF_INIT;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *json = (const char *)sqlite3_column_text(st, 1);
        if (id_list_push(old, sqlite3_column_int64(st, 0)) != 0 ||
            buf_append(&idents, json ? json : "[]",
                       json ? (size_t)sqlite3_column_bytes(st, 1) + 1 : 3) != 0) {
            rc = fail(err, err_len, -ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(w->db, err, err_len, "reading old chunks");
    sqlite3_reset(st);
    /* Each identifier list was appended with its NUL: walk them. */
    for (size_t at = 0, i = 0; rc == 0 && i < old->n; i++) {
        const char *json = idents.data + at;
        rc = uses_update(w, cid, json, -1, err, err_len);
        at += strlen(json) + 1;
    }
    buf_free(&idents);
    for (size_t i = 0; rc == 0 && i < old->n; i++) {
        sqlite3_reset(fts_read);
        sqlite3_bind_int64(fts_read, 1, old->ids[i]);
        if (sqlite3_step(fts_read) == SQLITE_ROW) {
            const char *cols[3] = {(const char *)sqlite3_column_text(fts_read, 0),
                                   (const char *)sqlite3_column_text(fts_read, 1),
                                   (const char *)sqlite3_column_text(fts_read, 2)};
            if (df_add_chunk(df, cols, -1) != 0)
                rc = fail(err, err_len, -ENOMEM, "out of memory");
        }
        sqlite3_reset(fts_read);
        if (rc != 0)
            break;
        sqlite3_reset(fts_delete);
        sqlite3_bind_int64(fts_delete, 1, old->ids[i]);
        rc = step_done(w, fts_delete, err, err_len, "removing old tokens");
    }
    if (rc == 0 && (st = conn_stmt(w, SQL_CHUNKS_DELETE)) == NULL)
        rc = db_fail(w->db, err, err_len, "removing old chunks");
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, file_id);
        rc = step_done(w, st, err, err_len, "removing old chunks");
    }
    return rc;
}

static int imports_replace(conn_t *w, int64_t cid, const char *path, const char *const *targets,
                           size_t n, char *err, size_t err_len) {
    sqlite3_stmt *st = conn_stmt(w, SQL_IMPORTS_CLEAR);
    if (!st)
        return db_fail(w->db, err, err_len, "replacing imports");
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    int rc = step_done(w, st, err, err_len, "replacing imports");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!(st = conn_stmt(w, SQL_IMPORT_INSERT)))
            return db_fail(w->db, err, err_len, "replacing imports");
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, targets[i], -1, SQLITE_STATIC);
        rc = step_done(w, st, err, err_len, "replacing imports");
    }
    return rc;
}

static int check_targets(const char *const *targets, size_t n, char *err, size_t err_len) {
    for (size_t i = 0; i < n; i++)
        if (!targets[i] || !*targets[i] || strlen(targets[i]) > PATH_MAX_BYTES)
            return fail(err, err_len, -EINVAL,
                        "\"imports\" must hold non-empty paths of at most %d bytes",
                        PATH_MAX_BYTES);
    return 0;
}

static const char FTS_READ[] = "SELECT body, path, symbols FROM %s WHERE rowid = ?";

/* Prepares a statement on the collection's FTS table (named at run time,
 * so not cached). */
static sqlite3_stmt *fts_prepare(conn_t *w, int64_t cid, const char *fmt) {
    char name[32], sql[160];
    fts_name(cid, name, sizeof name);
    snprintf(sql, sizeof sql, fmt, name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

/* Inserts one chunk's rows (chunk, FTS tokens, symbols, usage); its id in *id. */
static int chunk_insert(conn_t *w, int64_t cid, int64_t file_id, const char *path,
                        const parsed_chunk_t *pc, const float *vec, size_t dim,
                        sqlite3_stmt *fts_insert, map_t *df, int64_t *id, char *err,
                        size_t err_len) {
    sqlite3_stmt *st = conn_stmt(w, SQL_CHUNK_INSERT);
    if (!st)
        return db_fail(w->db, err, err_len, "storing a chunk");
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_int64(st, 2, pc->chunk->start_line);
    sqlite3_bind_int64(st, 3, pc->chunk->end_line);
    sqlite3_bind_text(st, 4, pc->chunk->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, pc->symbols_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, pc->identifiers_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, pc->text, (int)pc->text_len, SQLITE_STATIC);
    int rc = step_done(w, st, err, err_len, "storing a chunk");
    if (rc != 0)
        return rc;
    *id = sqlite3_last_insert_rowid(w->db);
    if (!(st = conn_stmt(w, SQL_VECTOR_INSERT)))
        return db_fail(w->db, err, err_len, "storing a vector");
    sqlite3_bind_int64(st, 1, *id);
    sqlite3_bind_blob(st, 2, vec, (int)(dim * sizeof *vec), SQLITE_STATIC);
    if ((rc = step_done(w, st, err, err_len, "storing a vector")) != 0)
        return rc;

    /* Tokens: the text's sub-words, the path's, the symbols'. */
    buf_t names = BUF_INIT;
    for (size_t i = 0; i < pc->chunk->symbol_count; i++) {
        buf_append_str(&names, pc->chunk->symbols[i]);
        buf_append_str(&names, " ");
    }
    char *body = subword_render_new(pc->text, pc->text_len, SUBWORD_DEFAULT, NULL);
    char *path_tokens = subword_render_new(path, strlen(path), SUBWORD_DEFAULT, NULL);
    char *symbol_tokens =
        subword_render_new(names.data ? names.data : "", names.len, SUBWORD_DEFAULT, NULL);
    buf_free(&names);
    if (!body || !path_tokens || !symbol_tokens) {
        rc = fail(err, err_len, -ENOMEM, "out of memory");
    } else {
        sqlite3_reset(fts_insert);
        sqlite3_bind_int64(fts_insert, 1, *id);
        sqlite3_bind_text(fts_insert, 2, body, -1, SQLITE_STATIC);
        sqlite3_bind_text(fts_insert, 3, path_tokens, -1, SQLITE_STATIC);
        sqlite3_bind_text(fts_insert, 4, symbol_tokens, -1, SQLITE_STATIC);
        rc = step_done(w, fts_insert, err, err_len, "indexing tokens");
        sqlite3_clear_bindings(fts_insert);
        const char *cols[3] = {body, path_tokens, symbol_tokens};
        if (rc == 0 && df_add_chunk(df, cols, +1) != 0)
            rc = fail(err, err_len, -ENOMEM, "out of memory");
    }
    free(body);
    free(path_tokens);
    free(symbol_tokens);

    for (size_t i = 0; i < pc->chunk->symbol_count && rc == 0; i++) {
        const char *s = pc->chunk->symbols[i];
        size_t len = strlen(s), key_at, scope_at;
        size_t key_len = store_symbol_key(s, len, &key_at);
        size_t scope_len = symbol_scope(s, len, &scope_at);
        if (key_len == 0 || (scope_len == 0 && symbol_scoped(pc->chunk, s + key_at, key_len)))
            continue;
        if (!(st = conn_stmt(w, SQL_SYMBOL_INSERT)))
            return db_fail(w->db, err, err_len, "storing symbols");
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_text(st, 2, s + key_at, (int)key_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, s + scope_at, (int)scope_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, *id);
        rc = step_done(w, st, err, err_len, "storing symbols");
    }
    if (rc == 0)
        rc = uses_update(w, cid, pc->identifiers_json, +1, err, err_len);
    return rc;
}

/* Under the exclusive lock: adds the new vectors, commits, removes the old
 * ones.  On failure nothing changed in memory and the transaction is rolled
 * back. */
static int commit_vectors(store_t *self, collection_t *c, const id_list_t *added_ids,
                          const float *vectors, const id_list_t *old, char *err, size_t err_len) {
    conn_t *w = &self->writer;
    int rc = 0;
    size_t added = 0;
    pthread_rwlock_wrlock(&self->lock);
    for (; vectors && added < added_ids->n; added++) {
        int r = vectors_add(c->vectors, (uint64_t)added_ids->ids[added],
                            vectors + added * (size_t)c->dim);
        if (r != 0) {
            rc = fail(err, err_len, r == -ENOSPC ? -ENOSPC : -ENOMEM,
                      "cannot hold more vectors: %s", strerror(-r));
            break;
        }
    }
    if (rc == 0 && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(w->db, err, err_len, "committing");
    if (rc != 0) {
        for (size_t i = 0; i < added; i++)
            vectors_remove(c->vectors, (uint64_t)added_ids->ids[i]);
    } else {
        for (size_t i = 0; i < old->n; i++)
            vectors_remove(c->vectors, (uint64_t)old->ids[i]);
    }
    pthread_rwlock_unlock(&self->lock);
    return rc;
}

int store_file_put(store_t *self, const store_file_spec_t *file, const void *payload,
                   size_t payload_len, long *chunks, char *err, size_t err_len) {
    int rc;
    if ((rc = check_name("collection", file->collection, NAME_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_name("path", file->path, PATH_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_targets(file->imports, file->import_count, err, err_len)) != 0)
        return rc;
    if (!file->hash || strlen(file->hash) > NAME_MAX_BYTES)
        return fail(err, err_len, -EINVAL, "\"hash\" must be a string of at most %d bytes",
                    NAME_MAX_BYTES);
    if (file->language && strlen(file->language) > 64)
        return fail(err, err_len, -EINVAL, "\"language\" must be a short string");

    pthread_mutex_lock(&self->write_lock);
    conn_t *w = &self->writer;
    parsed_file_t parsed = {0};
    id_list_t old = {0}, added = {0};
    sqlite3_stmt *fts_insert = NULL, *fts_delete = NULL, *fts_read = NULL;
    map_t *df = map_new();
    collection_t *c = collection_find(self, file->collection);
    if (!c) {
        rc = fail(err, err_len, -ENOENT, "no collection '%s' (call collection.ensure first)",
                  file->collection);
        goto done;
    }
    int owner = shard_of_placement(c->placement, file->path, strlen(file->path), self->shards);
    if (owner != self->shard) {
        rc = fail(err, err_len, -EINVAL,
                  "path '%s' belongs to shard %d of %d, not to this shard %d (misrouted write)",
                  file->path, owner, self->shards, self->shard);
        goto done;
    }
    if ((rc = parse_file_payload(payload, payload_len, (size_t)c->dim, &parsed, err, err_len)) != 0)
        goto done;
    if ((rc = exec_sql(w, "BEGIN IMMEDIATE", err, err_len)) != 0)
        goto done;
    fts_insert =
        fts_prepare(w, c->id, "INSERT INTO %s(rowid, body, path, symbols) VALUES(?,?,?,?)");
    fts_delete = fts_prepare(w, c->id, "DELETE FROM %s WHERE rowid = ?");
    fts_read = fts_prepare(w, c->id, FTS_READ);
    sqlite3_stmt *st = conn_stmt(w, SQL_FILE_FIND);
    if (!df) {
        rc = fail(err, err_len, -ENOMEM, "out of memory");
        goto done;
    }
    if (!fts_insert || !fts_delete || !fts_read || !st) {
        rc = db_fail(w->db, err, err_len, "preparing the write");
        goto done;
    }
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, file->path, -1, SQLITE_STATIC);
    int64_t file_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (file_id && (rc = file_chunks_remove(w, c->id, file_id, fts_read, fts_delete, df, &old, err,
                                            err_len)) != 0)
        goto done;
    if (!(st = conn_stmt(w, SQL_FILE_UPSERT))) {
        rc = db_fail(w->db, err, err_len, "storing the file");
        goto done;
    }
    char stem[NAME_MAX_BYTES];
    module_stem(file->path, stem, sizeof stem);
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, file->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, file->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, file->language ? file->language : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, stem, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = db_fail(w->db, err, err_len, "storing the file");
        sqlite3_reset(st);
        goto done;
    }
    file_id = sqlite3_column_int64(st, 0);
    sqlite3_step(st); /* finish the RETURNING statement */
    sqlite3_reset(st);
    for (size_t i = 0; i < parsed.n; i++) {
        int64_t id = 0;
        if ((rc = chunk_insert(w, c->id, file_id, file->path, &parsed.chunks[i],
                               parsed.vectors + i * (size_t)c->dim, (size_t)c->dim, fts_insert, df,
                               &id, err, err_len)) != 0)
            goto done;
        if (id_list_push(&added, id) != 0) {
            rc = fail(err, err_len, -ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((rc = imports_replace(w, c->id, file->path, file->imports, file->import_count, err,
                              err_len)) != 0 ||
        (rc = df_flush(w, c->id, df, err, err_len)) != 0)
        goto done;
    /* Finalise before COMMIT: an unfinished statement would hold the lock. */
    sqlite3_finalize(fts_insert);
    sqlite3_finalize(fts_delete);
    sqlite3_finalize(fts_read);
    fts_insert = fts_delete = fts_read = NULL;
    rc = commit_vectors(self, c, &added, parsed.vectors, &old, err, err_len);
    if (rc == 0)
        *chunks = (long)parsed.n;
done:
    sqlite3_finalize(fts_insert);
    sqlite3_finalize(fts_delete);
    sqlite3_finalize(fts_read);
    if (rc != 0)
        rollback(w);
    pthread_mutex_unlock(&self->write_lock);
    map_destroy(&df);
    parsed_free(&parsed);
    free(old.ids);
    free(added.ids);
    return rc;
}

int store_file_delete(store_t *self, const char *collection, const char *path, char *err,
                      size_t err_len) {
    int rc;
    if ((rc = check_name("collection", collection, NAME_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_name("path", path, PATH_MAX_BYTES, err, err_len)) != 0)
        return rc;
    pthread_mutex_lock(&self->write_lock);
    conn_t *w = &self->writer;
    id_list_t old = {0}, none = {0};
    sqlite3_stmt *fts_delete = NULL, *fts_read = NULL;
    map_t *df = map_new();
    collection_t *c = collection_find(self, collection);
    if (!df) {
        rc = fail(err, err_len, -ENOMEM, "out of memory");
        goto done;
    }
    if (!c) {
        rc = fail(err, err_len, -ENOENT, "no collection '%s'", collection);
        goto done;
    }
    if ((rc = exec_sql(w, "BEGIN IMMEDIATE", err, err_len)) != 0)
        goto done;
    sqlite3_stmt *st = conn_stmt(w, SQL_FILE_FIND);
    fts_delete = fts_prepare(w, c->id, "DELETE FROM %s WHERE rowid = ?");
    fts_read = fts_prepare(w, c->id, FTS_READ);
    if (!st || !fts_delete || !fts_read) {
        rc = db_fail(w->db, err, err_len, "preparing the delete");
        goto done;
    }
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    int64_t file_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (file_id) {
        if ((rc = file_chunks_remove(w, c->id, file_id, fts_read, fts_delete, df, &old, err,
                                     err_len)) != 0 ||
            (rc = df_flush(w, c->id, df, err, err_len)) != 0)
            goto done;
        if (!(st = conn_stmt(w, SQL_FILE_DELETE))) {
            rc = db_fail(w->db, err, err_len, "deleting the file");
            goto done;
        }
        sqlite3_bind_int64(st, 1, file_id);
        if ((rc = step_done(w, st, err, err_len, "deleting the file")) != 0)
            goto done;
    }
    if ((rc = imports_replace(w, c->id, path, NULL, 0, err, err_len)) != 0)
        goto done;
    sqlite3_finalize(fts_delete);
    sqlite3_finalize(fts_read);
    fts_delete = fts_read = NULL;
    rc = commit_vectors(self, c, &none, NULL, &old, err, err_len);
done:
    sqlite3_finalize(fts_delete);
    sqlite3_finalize(fts_read);
    map_destroy(&df);
    if (rc != 0)
        rollback(w);
    pthread_mutex_unlock(&self->write_lock);
    free(old.ids);
    return rc;
}

int store_imports_put(store_t *self, const char *collection, const char *path,
                      const char *const *targets, size_t n, char *err, size_t err_len) {
    int rc;
    if ((rc = check_name("collection", collection, NAME_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_name("path", path, PATH_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_targets(targets, n, err, err_len)) != 0)
        return rc;
    pthread_mutex_lock(&self->write_lock);
    conn_t *w = &self->writer;
    collection_t *c = collection_find(self, collection);
    if (!c)
        rc = fail(err, err_len, -ENOENT, "no collection '%s' (call collection.ensure first)",
                  collection);
    else if ((rc = exec_sql(w, "BEGIN IMMEDIATE", err, err_len)) == 0 &&
             (rc = imports_replace(w, c->id, path, targets, n, err, err_len)) == 0)
        rc = exec_sql(w, "COMMIT", err, err_len);
    if (rc != 0)
        rollback(w);
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}

int store_imports_delete(store_t *self, const char *collection, const char *path, char *err,
                         size_t err_len) {
    int rc = store_imports_put(self, collection, path, NULL, 0, err, err_len);
    return rc ? rc : store_refs_put(self, collection, path, NULL, 0, err, err_len);
}

static const char SQL_REFS_CLEAR[] = "DELETE FROM refs WHERE collection = ? AND path = ?";
static const char SQL_REF_INSERT[] =
    "INSERT INTO refs(collection, target, name, path, count) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT DO UPDATE SET count = count + excluded.count";

int store_refs_put(store_t *self, const char *collection, const char *path, const store_ref_t *refs,
                   size_t n, char *err, size_t err_len) {
    int rc;
    if ((rc = check_name("collection", collection, NAME_MAX_BYTES, err, err_len)) != 0 ||
        (rc = check_name("path", path, PATH_MAX_BYTES, err, err_len)) != 0)
        return rc;
    if (n > STORE_REFS_MAX)
        return fail(err, err_len, -EINVAL, "at most %d references per file", STORE_REFS_MAX);
    for (size_t i = 0; i < n; i++)
        if (!refs[i].target || !refs[i].name || !*refs[i].name || refs[i].count < 1 ||
            strlen(refs[i].target) > PATH_MAX_BYTES || strlen(refs[i].name) > NAME_MAX_BYTES)
            return fail(err, err_len, -EINVAL,
                        "a reference is a target path (\"\" for any receiver), a non-empty "
                        "name and a count of at least 1");
    pthread_mutex_lock(&self->write_lock);
    conn_t *w = &self->writer;
    collection_t *c = collection_find(self, collection);
    sqlite3_stmt *st = NULL;
    if (!c) {
        rc = fail(err, err_len, -ENOENT, "no collection '%s' (call collection.ensure first)",
                  collection);
    } else if ((rc = exec_sql(w, "BEGIN IMMEDIATE", err, err_len)) == 0) {
        if (!(st = conn_stmt(w, SQL_REFS_CLEAR)))
            rc = db_fail(w->db, err, err_len, "replacing references");
        if (rc == 0) {
            sqlite3_bind_int64(st, 1, c->id);
            sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
            rc = step_done(w, st, err, err_len, "replacing references");
        }
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (!(st = conn_stmt(w, SQL_REF_INSERT))) {
                rc = db_fail(w->db, err, err_len, "replacing references");
                break;
            }
            sqlite3_bind_int64(st, 1, c->id);
            sqlite3_bind_text(st, 2, refs[i].target, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, refs[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, refs[i].count);
            rc = step_done(w, st, err, err_len, "replacing references");
        }
        if (rc == 0)
            rc = exec_sql(w, "COMMIT", err, err_len);
    }
    if (rc != 0 && c)
        rollback(w);
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}
