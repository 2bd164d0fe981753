/*
 * ops: the requests a retriever shard ("retrieve.<i>", proto/shard.h)
 * serves, as C structs, with one encoder (the seeder and the gateway build
 * requests with it) and one strict decoder (the retriever reads them with
 * it).  This comment is the contract.
 *
 * Every request header is a JSON object with "op"; every op but
 * `collections` and `stats` also has "collection".  Errors are ERROR
 * {status, message}: 400 for a bad request (unknown op, missing or
 * mistyped field, malformed payload, vector of the wrong size, a path that
 * belongs to another shard), 404 for an unknown collection, 409 for a
 * collection indexed differently, 500/503 for faults of the retriever.
 *
 *  collection.ensure {collection, root, model, dim, shards, placement}
 *      Creates the collection or checks the existing record.  A different
 *      model, dim or shards is 409 "collection 'x' was indexed with <model>
 *      (<dim> dims, <n> shards); re-seed it with --reset to change".
 *      placement (proto/shard.h; default SHARD_PLACEMENT) is how the files
 *      of a new collection are placed; an existing collection keeps its own
 *      and says which it is, so that the seeder can index a collection
 *      placed the old way again (drop, then ensure).
 *      -> FINAL {"created": bool, "placement": the collection's}
 *  collection.drop {collection}            -> FINAL {"dropped": true}
 *      Deletes all its rows and vectors (idempotent).
 *  collection.files {collection}
 *      -> FINAL, payload {"files":[{"path","hash"}...]} (this shard's files)
 *  file.put {collection, path, hash, language, imports:[paths]}
 *      payload = packed texts (proto/base/buf.h): text 0 is JSON
 *      {"chunks":[{"start_line","end_line","kind","symbols":[...],
 *      "identifiers":[...]}...]}, then one text per chunk (its source), then
 *      one text of n*dim little-endian float32 (n = number of chunks).
 *      Replaces the file's chunks, tokens, symbols, vectors and imports in
 *      one transaction.  path must be this shard's under the collection's
 *      placement (shard_of_placement).
 *      -> FINAL {"chunks": n}
 *  file.delete {collection, path}          -> FINAL {"deleted": true}
 *  imports.put {collection, path, imports:[paths], refs:[[target, name, count]...]}
 *  imports.delete {collection, path}       -> FINAL {}
 *      The import graph and the reference index are replicated to every
 *      shard (the seeder sends these to all), so any shard answers "what
 *      does F import" (the number of files importing a target is its
 *      in-degree) and "how often does the repository reach name of file T"
 *      (refs: path reaches name of target count times; target "" for a
 *      member name reached through any receiver).  refs is optional; when
 *      given it replaces path's references, and imports.delete clears them.
 *  collection.touch {collection, seeded_at (unix seconds)} -> FINAL {}
 *      Also merges the collection's token index, after replying.
 *  collections {}
 *      -> FINAL, payload {"collections":[{"name","root","model","dim",
 *         "shards","placement","files","chunks","seeded_at"}...]} (this
 *         shard's counts)
 *  search {collection, k (10), path, query, symbols:[...], object, owner,
 *          slot:[b3, b2, b1, a1, a2], anchors:[...],
 *          member {kind "module"|"class", module, member_of, type, call,
 *          bases:[...], partial, hints:[...], words:[...], line:[...], within,
 *          declared},
 *          mode "i8"|"f32" ("i8"), limit (4*k), question (false)}; payload:
 *      optional query vector (dim float32).  member says what the object
 *      before the cursor is (proto/code/cursor.h) so that its members are
 *      offered; question true says the query is a question in words, whose
 *      words may name the definition it asks for;
 *      module "." is the current file's own package (a bare name in Go),
 *      call a function whose return type is the class (with module ".", the
 *      method a declaration at the cursor is assigned from); owner the member
 *      written right after a bare name (`run` of `⟨.run(`): the chunks defining
 *      a class that has such a member are the candidates of "owner";
 *      within the function the cursor is in (a module's members), declared
 *      the name its statement sets outside any: a member either spells
 *      (`test_grid_2d_graph`: grid_2d_graph) is offered whatever the caps;
 *      slot the tokens before the name at the cursor and the two after it
 *      ("" unknown), anchors identifiers near them: the shard counts which
 *      names its chunks write between the same tokens (proto/code/lexeme.h)
 *      and answers "slot": {"total": the patterns' summed weight, "names":
 *      {name: weight...}} (its SLOT_NAMES heaviest).
 *      -> FINAL {"count": n, "us": time taken}, payload {"chunks":[{"id","path","start_line",
 *         "end_line","language","kind","text","symbols":[...],
 *         "signals":{"dense","bm25","symbol","import","object","uses",
 *         "imported_by", "owner" (1: it defines a class having that member), and
 *         for a member "member","member_uses","member_near","member_hint",
 *         "member_words","member_line","member_partial","member_params",
 *         "member_here" (its class's: 2 in the module the cursor names, 1 in
 *         the current file's directory);
 *         for a question "name"}}...], for a class's members "lineage":[the
 *         class, then the bases found...], and for module "." with a call
 *         "returns": the class a definition of the call here returns}: the union of every signal's
 * candidates on this shard, never a chunk of `path` itself (see retriever/search.h for what each
 * signal means). stats {} -> FINAL {"collections","chunks","vector_bytes","db_bytes"} ping {}  ->
 * answered by the worker library (proto/worker.h).
 *
 * The decoder checks what the wire can say wrong (types, ranges, required
 * fields, list lengths) and stops at the first fault, with the message the
 * client sees; what only the store can judge (a dim its vectors cannot
 * take, a path of another shard, names too long for it) the store checks.
 * Decoded strings are borrowed from the cJSON header (or the payload) they
 * came from.
 */
#ifndef LCA_PROTO_OPS_H
#define LCA_PROTO_OPS_H

#include "proto/base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define OPS_LIST_MAX 4096  /* strings in a list field (imports, symbols) */
#define OPS_K_MAX 1000     /* most results a search asks for */
#define OPS_NAME_MAX 256   /* longest symbol or identifier a chunk carries */
#define OPS_KIND_MAX 64    /* longest chunk kind */
#define OPS_REFS_MAX 65536 /* references in one imports.put */
#define OPS_OWNED_MAX 7    /* lists one decoded request holds */

typedef enum {
    OPS_COLLECTION_ENSURE,
    OPS_COLLECTION_DROP,
    OPS_COLLECTION_FILES,
    OPS_COLLECTION_TOUCH,
    OPS_FILE_PUT,
    OPS_FILE_DELETE,
    OPS_IMPORTS_PUT,
    OPS_IMPORTS_DELETE,
    OPS_SEARCH,
    OPS_COLLECTIONS,
    OPS_STATS,
    OPS_COUNT
} ops_op_t;

/* collection.ensure */
typedef struct {
    const char *root;  /* absolute path of the repository; NULL: none */
    const char *model; /* embedding model, e.g. "builtin" */
    long dim;          /* vector dimension, 0..2^20 (the store wants a multiple of 16) */
    long shards;       /* shards the collection is split into, 1..SHARD_MAX (proto/shard.h) */
    long placement;    /* how its files go to shards (proto/shard.h), 1..SHARD_PLACEMENT;
                          0 when encoding: leave out (SHARD_PLACEMENT) */
} ops_ensure_t;

/* file.put */
typedef struct {
    const char *path;           /* collection-relative */
    const char *hash;           /* content hash, opaque */
    const char *language;       /* NULL: none */
    const char *const *imports; /* resolved collection-relative paths */
    size_t import_count;
} ops_file_t;

/* One reference: path reaches `name` of file `target` `count` times ("" as
 * target: a member called name, through any receiver). */
typedef struct {
    const char *target;
    const char *name;
    long count; /* >= 1 */
} ops_ref_t;

/* file.delete, imports.put, imports.delete */
typedef struct {
    const char *path;
    const char *const *imports; /* imports.put only: what path imports now */
    size_t import_count;
    const ops_ref_t *refs; /* imports.put only: the references path makes; NULL: leave them */
    size_t ref_count;
} ops_path_t;

typedef enum { OPS_MEMBER_NONE = 0, OPS_MEMBER_MODULE, OPS_MEMBER_CLASS } ops_member_kind_t;

/* What the object before the cursor is, so that its members are offered. */
typedef struct {
    ops_member_kind_t kind;
    const char *module;       /* the import's specifier as written; NULL: none */
    const char *member_of;    /* a module imported by this name from inside module; NULL */
    const char *type;         /* a class: its name; NULL */
    const char *call;         /* a class: the value is what this function returns (its definition
                                 says the class; type is then a guess, or NULL); NULL */
    const char *const *bases; /* its bases, nearest first */
    size_t base_count;
    const char *partial;      /* the member typed so far; NULL */
    const char *after;        /* a type's place: the keyword before it ("extends", "throws",
                                 "catch", "new", ...); the members are ranked by how often the
                                 repository writes them after it; NULL: not one */
    const char *const *hints; /* folded identifiers of the code after the cursor */
    size_t hint_count;
    const char *const *words; /* folded sub-words of the identifiers around the cursor */
    size_t word_count;
    const char *const *line_words; /* ... of the cursor's own line and the one before it */
    size_t line_word_count;
    const char *within;   /* a module: the function the cursor is in, whose name may spell a
                             member (`test_grid_2d_graph`); NULL */
    const char *declared; /* a module, outside any function: the name the cursor's statement
                             sets (`export const splitWhere = internal.⟨`); NULL */
} ops_member_t;

/* search */
typedef struct {
    long k;            /* results wanted, 1..OPS_K_MAX; 0 when encoding: leave out (10) */
    long limit;        /* candidates per signal, 1..4*OPS_K_MAX; 0 when encoding: leave out */
    const char *path;  /* the current file; NULL: none */
    const char *query; /* free text query[0..query_len); NULL: none */
    size_t query_len;
    const char *const *symbols; /* identifiers near the cursor; NULL: none */
    size_t symbol_count;
    const char *object;         /* the name before the cursor's dot; NULL: none */
    const char *owner;          /* a bare name: the member written after it (`⟨.run(`); NULL */
    const char *const *slot;    /* the tokens around the name (proto/code/lexeme.h): b3 b2 b1
                                 * a1 a2, "" unknown; NULL: none */
    size_t slot_count;          /* 5 when slot is set */
    const char *const *anchors; /* the identifiers near the slot, nearest first */
    size_t anchor_count;
    ops_member_t member; /* what the object is; kind OPS_MEMBER_NONE: leave out */
    bool f32;            /* dense scan in float32 (mode "f32") instead of int8 */
    bool question;       /* the query is a question in words ("question": true) */
} ops_search_t;

typedef struct {
    ops_op_t op;
    const char *collection; /* every op but collections and stats */
    union {
        ops_ensure_t ensure; /* collection.ensure */
        int64_t seeded_at;   /* collection.touch: unix seconds */
        ops_file_t file;     /* file.put */
        ops_path_t path;     /* file.delete, imports.put, imports.delete */
        ops_search_t search; /* search */
    };
    const char **owned[OPS_OWNED_MAX]; /* the decoder's lists of strings */
    int owned_count;
    ops_ref_t *owned_refs; /* the decoder's references */
} ops_request_t;

/* The op's name on the wire ("file.put"); NULL for a value out of range. */
const char *ops_name(ops_op_t op);

/* Appends req's header JSON to header.  Returns 0, -EINVAL for an op out of
 * range or a required string that is NULL (collection, file.put's path and
 * hash, ensure's model, a path op's path), -ENOMEM (header then holds a
 * partial object: discard it). */
int ops_encode(const ops_request_t *req, buf_t *header);

/* Reads a request header.  Returns 0 with *req filled (strings borrowed
 * from header; release with ops_request_free), -EINVAL with the 400
 * message in err, or -ENOMEM.  *req needs no release on failure. */
int ops_decode(const struct cJSON *header, ops_request_t *req, char *err, size_t err_len);

/* Frees what ops_decode allocated and zeroes *req.  Accepts a zeroed one. */
void ops_request_free(ops_request_t *req);

/* ---- the reply of collections ---- */

/* Opens one object of the `collections` list with its strings,
 * `{"name":..,"root":..,"model":..` (a comma first unless it is the list's
 * first); the caller appends the numbers and the closing brace.  The
 * retriever writes the list, the gateway writes its merge of the shards'. */
void ops_collection_open(buf_t *out, bool first, const char *name, const char *root,
                         const char *model);

/* ---- the payload of file.put ---- */

/* One chunk of a file. */
typedef struct {
    long start_line, end_line;  /* 1 <= start_line <= end_line < 2^31 */
    const char *kind;           /* "function", ...; "" or NULL: none */
    const char *const *symbols; /* defined here; NULL: none */
    size_t symbol_count;
    const char *const *identifiers; /* used here; NULL: none */
    size_t identifier_count;
    const char *text; /* its source, text[0..text_len); not necessarily UTF-8 */
    size_t text_len;
} ops_chunk_t;

/* A decoded payload. */
typedef struct {
    ops_chunk_t *chunks;
    size_t count;
    const void *vectors; /* count * dim little-endian float32, in the payload (unaligned) */
    struct cJSON *json;  /* the chunk JSON the strings point into */
    const char **names;  /* storage of the chunks' symbol and identifier lists */
} ops_payload_t;

/* Appends the payload of a file.put: chunks[0..n) and their vectors (n * dim
 * float32).  Symbols and identifiers that are empty or longer than
 * OPS_NAME_MAX are left out (the store would refuse the whole file for one
 * of them, and a name that long helps no search).  Returns 0 or -ENOMEM. */
int ops_payload_encode(buf_t *payload, const ops_chunk_t *chunks, size_t n, const float *vectors,
                       size_t dim);

/* Reads a file.put payload for a collection of dimension dim.  Returns 0
 * with *out filled (release with ops_payload_free; texts and vectors are
 * borrowed from payload), -EINVAL with the 400 message in err, or -ENOMEM. */
int ops_payload_decode(const void *payload, size_t len, size_t dim, ops_payload_t *out, char *err,
                       size_t err_len);

/* Frees what ops_payload_decode allocated and zeroes *p.  Accepts a zeroed one. */
void ops_payload_free(ops_payload_t *p);

#endif
