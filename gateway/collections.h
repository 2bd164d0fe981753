/*
 * collections: which repositories the retriever shards hold, as the gateway
 * last heard — the one long-lived piece of retrieval state, shared by every
 * request.
 *
 * The list lives in snapshots.  A refresh asks every shard for its
 * `collections`, merges the answers into a new snapshot and publishes it in
 * place of the current one.  A snapshot never changes once published and is
 * freed only when its last holder lets go (collections_release), so however
 * refreshes and requests interleave, nothing a request reads is freed or
 * rewritten under it.  Requests that outlive the call that gave them a
 * snapshot copy what they keep (the name and root) into their own pool.
 *
 * Refreshes belong to the gateway, not to a request: they run under their
 * own timeout, so no client's short deadline can cut one short or make the
 * list look empty.  A snapshot older than COLLECTIONS_FRESH_MS is still
 * served while a refresh runs behind it; only a gateway that has no
 * snapshot yet makes a request wait, and then no longer than the request's
 * own deadline.  A refresh that no shard answers keeps the snapshot there
 * was (the shards are restarting, not empty).
 *
 * Loop thread only: everything here runs on the h2o loop, so nothing locks.
 */
#ifndef LCA_GATEWAY_COLLECTIONS_H
#define LCA_GATEWAY_COLLECTIONS_H

#include "gateway/bridge.h"
#include "proto/base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Age after which a snapshot is refreshed (it is still served meanwhile). */
#define COLLECTIONS_FRESH_MS 2000

typedef struct {
    char *name, *root, *model; /* never NULL */
    double files, chunks,
        seeded_at; /* summed (latest, for seeded_at) over the shards that answered */
    int dim, shards;
    /* The spread over the shards: what each holds (0 when it answered
     * without listing the collection).  nshards entries each; NULL and 0
     * when the answers were merged without saying which shard gave them. */
    double *shard_files, *shard_chunks;
    int nshards;
} collection_t;

/* An immutable snapshot of the list. */
typedef struct {
    int refs;           /* holders; freed at 0 */
    bool known;         /* at least one shard answered the refresh that made it */
    int shards_missing; /* shards that did not answer that refresh */
    size_t count;
    collection_t *items; /* count of them, in the order the shards listed them */
    /* Which shards answered (nshards entries; NULL and 0 as in collection_t). */
    bool *shard_answered;
    int nshards;
} collections_t;

typedef struct collections_cache collections_cache_t;

/* A request waiting for a snapshot.  Lives in the request (its pool); the
 * request unlinks it with collections_cancel_wait before it goes away. */
typedef struct collections_waiter {
    h2o_linklist_t link;
    /* Called once with a snapshot, borrowed for the duration of the call. */
    void (*on_ready)(struct collections_waiter *self, const collections_t *snapshot);
} collections_waiter_t;

/* A cache asking shards retrieve.0 .. retrieve.<shards-1> through bridge,
 * each refresh bounded by timeout_ms.  NULL on allocation failure. */
collections_cache_t *collections_cache_new(bridge_t *bridge, int shards, int timeout_ms);

/* Cancels a refresh in flight (waiters are dropped without a callback),
 * releases the current snapshot, frees *self_p and nulls it.  Accepts NULL. */
void collections_cache_destroy(collections_cache_t **self_p);

/* The current snapshot as a new reference (release it), or NULL when no
 * refresh has finished yet.  A snapshot older than COLLECTIONS_FRESH_MS starts
 * a refresh behind it; no snapshot at all starts one too. */
collections_t *collections_current(collections_cache_t *self);

/* Calls waiter->on_ready with the snapshot the next refresh publishes (one
 * is started unless one is running).  When not one shard can even be asked
 * (the bridge refuses every call) the callback runs before this returns, so
 * call it last. */
void collections_wait(collections_cache_t *self, collections_waiter_t *waiter);

/* Unlinks a waiter; no callback runs for it afterwards.  Safe when it is not
 * linked (its link zeroed, or after its callback ran). */
void collections_cancel_wait(collections_waiter_t *waiter);

/* Drops one reference; frees the snapshot at the last.  Nulls *snapshot_p;
 * accepts NULL. */
void collections_release(collections_t **snapshot_p);

/* The collection named name, borrowed from snapshot, or NULL. */
const collection_t *collections_find(const collections_t *snapshot, const char *name);

/* The collection whose root is the longest prefix of the absolute path
 * path[0..len) (at a `/` boundary), or NULL. */
const collection_t *collections_for_path(const collections_t *snapshot, const char *path,
                                         size_t len);

/* Merges one shard's answer ({"collections":[{"name","root","model","dim",
 * "shards","files","chunks","seeded_at"}...]}, text of len bytes) into the
 * snapshot being built: names already there add their counts.  Malformed
 * answers and entries are skipped.  Returns 0, -EINVAL when the text is not
 * such an object, -ENOMEM. */
int collections_merge(collections_t *snapshot, const char *answer, size_t len);

/* collections_merge(), knowing that the answer is shard's, one of shards
 * (at most 4096): the snapshot then keeps each collection's spread over
 * the shards, and which shards answered.  A snapshot merges either way,
 * never both. */
int collections_merge_shard(collections_t *snapshot, int shard, int shards, const char *answer,
                            size_t len);

/* A new, empty, unpublished snapshot with one reference; NULL on ENOMEM. */
collections_t *collections_new(void);

/* Appends the snapshot as the JSON array of GET /api/collections; with
 * the spread known, each collection also has "shard_files" and
 * "shard_chunks" arrays, null for a shard that did not answer. */
void collections_append_json(const collections_t *snapshot, buf_t *out);

/* Appends the lca_collection_chunks gauges (Prometheus text); snapshot may
 * be NULL (no collections known yet). */
void collections_append_metrics(const collections_t *snapshot, buf_t *out);

#endif
