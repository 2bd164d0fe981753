/*
 * search: gathering one shard's candidates and their signals.
 *
 * The work is a handful of indexed lookups plus one vector scan and one FTS5
 * query, all on the caller's read connection under the store's shared lock
 * (so rows and vectors agree for the whole query).  Candidates live in one
 * array with an id -> index map; each signal adds to it and records its own
 * rank, and once every signal has run, each candidate's row is read once
 * and its remaining signal values (import level of its file, object match,
 * uses, in-degree, exact dense score) are filled in.
 *
 * Bounds keep a hostile or clumsy query cheap: at most MAX_TERMS query
 * tokens, MAX_SYMBOLS identifiers, MAX_IMPORT_FILES files in the import
 * neighbourhood and MAX_SCAN_CHUNKS chunks read to rank them by overlap.
 */
#include "retriever/search.h"

#include "proto/base/map.h"
#include "proto/code/cursor.h"
#include "proto/code/ident.h"
#include "proto/code/lang.h"
#include "proto/code/lexeme.h"
#include "proto/code/module.h"
#include "proto/code/signature.h"
#include "proto/code/subword.h"
#include "retriever/scan.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TERMS 64
#define MAX_SYMBOLS 64
#define MAX_IMPORT_FILES 256
#define MAX_SCAN_CHUNKS 128
#define RRF_K 60.0
#define BM25_POSTINGS 2000
#define BM25_TERMS 16
#define SYMBOL_DEFINERS 12
#define OWNER_SCOPES 16 /* classes with the member after a bare name, at most */
#define MAX_MEMBER_FILES 256
#define REEXPORT_DEPTH 3 /* packages re-exporting packages */
#define MAX_MEMBER_CHUNKS 512
#define MAX_USED_NAMES 256 /* of a module, the repository's most used, noted first */
#define MAX_CLASSES 32     /* a class and its bases, for its members */
#define BASE_DEPTH 4       /* steps up from a class to the bases of its bases */
#define MEMBER_REACHED 0.6 /* a member reached through a package, a re-export or a base */

#define OUTLINE_MIN_MEMBERS 4 /* fewer members than this need no outline */
#define OUTLINE_FILES 2       /* outlines per query: the receiver and a base */
#define OUTLINE_MEMBERS 64    /* best-ranked members read for them */
#define OUTLINE_CHARS 4000    /* the most text one outline holds */

#define NAME_TERMS 24      /* words of the index the name signal looks for */
#define NAME_POSTINGS 4000 /* ... in at most this many chunks together */
#define NAME_WORDS 96      /* words of the index considered before choosing */
#define NAME_EXTENSIONS 8  /* words of the index that extend one stem */
#define NAME_SUFFIX_MAX 3  /* ... by at most this many bytes */
#define SCOPE_MASS 0.2     /* the share of a name's scope in its value */
#define SUBJECT_MASS 2.0   /* ... of a scope the question points at (`this constraint`) */
#define SUBJECTS_MAX 4     /* what a question points at, at most */
#define PATH_MASS 0.3      /* ... and of its file's and its folder's names */
#define NAME_POOL 8        /* the name search reads 8 chunks for each it keeps */
#define NAME_IDF_BASE 1e5  /* idf = log(1 + NAME_IDF_BASE / df) */

enum { SIG_DENSE, SIG_BM25, SIG_SYMBOL, SIG_IMPORT, SIG_OBJECT, SIG_MEMBER, SIG_NAME, SIG_COUNT };

typedef struct {
    int64_t id;
    float dense;
    float bm25;
    int symbol;      /* distinct query identifiers it defines */
    int symbol_last; /* index + 1 of the last identifier counted */
    int import;      /* 0, 1 or 2 */
    int object;      /* 0 or 1 */
    long uses;
    long imported_by;
    double member;         /* defines a member of the receiver: 1, through a package or a base
                              MEMBER_REACHED, 0 not one */
    long member_uses;      /* how often the repository reaches that member (the best of its
                              members, when the chunk defines several) */
    long member_near;      /* ... and how often the files beside the current file do */
    bool member_hint;      /* the code after the cursor names it */
    double member_words;   /* share of its name's sub-words used around the cursor */
    double member_line;    /* ... on the cursor's line and the one before it */
    double member_params;  /* ... share of its parameters' sub-words the line uses */
    int member_here;       /* a member of the receiver's own class: 2 in the module the cursor
                            * names, 1 in the current file's directory */
    int member_partial;    /* 1 starts with what is typed, -1 does not, 0 nothing typed */
    long member_file;      /* of the receiver's members its file defines, those the current
                            * file uses already (a module's members) */
    size_t member_file_at; /* index + 1 of that file among the member files, 0 none */
    char member_name[96];  /* the member those describe ("" when it did not fit) */
    double name;           /* question: best share of a defined name's sub-words it names */
    double owner;          /* defines a class with the member after a bare name: 1 */
    bool has_dense;        /* dense was set by the scan or computed */
    bool has_name;         /* name was set by the name search */
    int rank[SIG_COUNT];   /* 1-based rank in each ranked signal, 0: absent */
    double fused;
} candidate_t;

typedef struct {
    int64_t file;
    int level;   /* 1: imported by the current file, 2: imported by those */
    bool object; /* its stem is the object */
} import_file_t;

/* The names this shard's chunks write in the cursor's slot (lexeme.h):
 * SLOT_CHUNKS chunks that write its rarest anchor are read, SLOT_TABLE
 * names at most counted, the SLOT_NAMES heaviest answered. */
#define SLOT_CHUNKS 100
#define SLOT_TABLE 1024
#define SLOT_NAMES 24

typedef struct {
    char name[LEXEME_MAX];
    double weight;
} slot_name_t;

/* The query's tokens, as a set that chunk tokens are looked up in. */
typedef struct {
    char *rendered; /* space-separated tokens (owned) */
    const char **tokens;
    size_t *lens;
    size_t n;
    uint32_t *slots; /* token index + 1, open addressing; 0 empty */
    size_t nslots;
    uint32_t *seen;                       /* per token: stamp of the last chunk that had it */
    char (*stems)[SUBWORD_IDENT_MAX + 1]; /* question only: each token's subword_stem */
    size_t *stem_lens;
    /* question only: the words it points at a class by (`this X`, `X's`), folded */
    char subjects[SUBJECTS_MAX][SUBWORD_IDENT_MAX + 1];
    size_t nsubjects;
} terms_t;

/* The signatures of one file's best-ranked members, in line order (see
 * proto/code/signature.h), and the signals of the best of them. */
typedef struct {
    int64_t file;
    char *path, *language;
    buf_t text;
    int first, last; /* line numbers of the first and last signature */
    int members;
    int64_t best_id;  /* the best-ranked member's chunk */
    candidate_t best; /* its signals, once write_results has filled them in */
} outline_t;

typedef struct {
    store_t *store;
    const search_query_t *q;
    store_view_t view;
    candidate_t *cands;
    size_t ncands, cap;
    map_t *by_id;         /* chunk id -> index + 1 */
    map_t *idf;           /* question: sub-word hash -> 1000 * idf + 1 (part_idf) */
    import_file_t *files; /* import neighbourhood, nfiles */
    size_t nfiles;
    /* the classes whose members were offered (a class query): the type
     * and the bases found, for the answer's "lineage" */
    char lineage[MAX_CLASSES][CURSOR_NAME_MAX];
    size_t nlineage;
    /* the class the call a declaration is assigned returns, where a
     * definition of the method on this shard says (the answer's "returns") */
    char returns[CURSOR_NAME_MAX];
    int64_t own_file;  /* file id of q->path on this shard, 0 none */
    size_t own_chunks; /* its chunk count */
    bool has_imports;  /* the graph knows what q->path imports */
    terms_t terms;
    outline_t outlines[OUTLINE_FILES];
    size_t noutlines;
    float *vector;             /* aligned copy of the query vector, or NULL */
    vectors_hit_t *dense_hits; /* the scan's result, dense_want slots */
    size_t dense_want;
    long dense_n; /* hits found, or a negative errno */
    pthread_t dense_thread;
    bool dense_running;           /* dense_thread must be joined */
    sqlite3_stmt *place;          /* place_uses's count, prepared once per query */
    slot_name_t slot[SLOT_NAMES]; /* the names written in the cursor's slot, heaviest first */
    size_t nslot;
    double slot_total; /* the patterns' summed weight (0: no slot read) */
    char *err;
    size_t err_len;
} search_t;

static int fail(search_t *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(search_t *s, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->err_len, fmt, ap);
    va_end(ap);
    return rc;
}

static int db_fail(search_t *s, const char *what) {
    return fail(s, -EIO, "search: %s failed: %s", what, sqlite3_errmsg(s->view.db));
}

/* The candidate for chunk id, added when new; NULL when out of memory. */
static candidate_t *candidate_get(search_t *s, int64_t id) {
    uintptr_t at = (uintptr_t)map_get_u64(s->by_id, (uint64_t)id);
    if (at)
        return &s->cands[at - 1];
    if (s->ncands == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        candidate_t *grown = realloc(s->cands, cap * sizeof *grown);
        if (!grown)
            return NULL;
        s->cands = grown;
        s->cap = cap;
    }
    if (map_put_u64(s->by_id, (uint64_t)id, (void *)(uintptr_t)(s->ncands + 1)) != 0)
        return NULL;
    candidate_t *c = &s->cands[s->ncands++];
    memset(c, 0, sizeof *c);
    c->id = id;
    return c;
}

/* ---- query terms ---- */

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static long terms_find(const terms_t *t, const char *p, size_t n) {
    if (!t->nslots)
        return -1;
    size_t i = (size_t)hash_bytes(p, n) & (t->nslots - 1);
    while (t->slots[i]) {
        size_t k = t->slots[i] - 1;
        if (t->lens[k] == n && memcmp(t->tokens[k], p, n) == 0)
            return (long)k;
        i = (i + 1) & (t->nslots - 1);
    }
    return -1;
}

/* Sub-word name[at..at+len) folded to lower case into part (at most
 * SUBWORD_IDENT_MAX bytes, NUL-terminated); returns its length. */
static size_t fold_part(const char *name, size_t at, size_t len, char part[SUBWORD_IDENT_MAX + 1]) {
    len = len < SUBWORD_IDENT_MAX ? len : SUBWORD_IDENT_MAX;
    for (size_t k = 0; k < len; k++) {
        char ch = name[at + k];
        part[k] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    part[len] = '\0';
    return len;
}

/* Whether w[0..n) is a word English writes after `this` that names no
 * thing: "turns this into", "this is". */
static bool function_word(const char *w, size_t n) {
    static const char *const words[] = {"a",    "an",   "and", "as",  "at",    "by",   "can",
                                        "for",  "from", "has", "in",  "into",  "is",   "it",
                                        "may",  "must", "of",  "on",  "one",   "or",   "should",
                                        "that", "the",  "to",  "was", "which", "will", "with"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && !strncasecmp(words[i], w, n))
            return true;
    return false;
}

/* The words a doc comment's sentence points at its own class by: the one
 * after `this` ("Execute this DDL", "this TreeTableCell") and one before
 * `'s` ("the PMREMGenerator's internal memory"), folded to lower case. */
static void subjects_read(terms_t *t, const char *q, size_t len) {
    bool after_this = false;
    for (size_t i = 0; i < len && t->nsubjects < SUBJECTS_MAX;) {
        if (!ident_ascii_char((unsigned char)q[i])) {
            i++;
            continue;
        }
        size_t at = i;
        while (i < len && ident_ascii_char((unsigned char)q[i]))
            i++;
        size_t n = i - at;
        bool possessive = i + 1 < len && q[i] == '\'' && q[i + 1] == 's' &&
                          (i + 2 == len || !ident_ascii_char((unsigned char)q[i + 2]));
        if ((after_this || possessive) && n >= 2 && n <= SUBWORD_IDENT_MAX &&
            !function_word(q + at, n))
            fold_part(q, at, n, t->subjects[t->nsubjects++]);
        after_this = n == 4 && !strncasecmp(q + at, "this", 4) && i < len && q[i] == ' ';
    }
}

/* Builds the term set from the free text and the identifiers. */
static int terms_build(search_t *s) {
    terms_t *t = &s->terms;
    /* The identifiers first: they are the ones nearest the cursor, and the
     * term list is cut at MAX_TERMS. */
    buf_t text = BUF_INIT;
    for (size_t i = 0; i < s->q->symbol_count && i < MAX_SYMBOLS; i++) {
        buf_append_str(&text, s->q->symbols[i]);
        buf_append_str(&text, " ");
    }
    if (s->q->query && s->q->query_len)
        buf_append(&text, s->q->query, s->q->query_len);
    /* A question's words are English: `from`, `new`, `is`, `for` there
     * are words that names are made of (fromEvent, new_task, isEmpty),
     * not code to skip. */
    bool question = s->q->question;
    t->rendered = subword_render_new(
        text.data ? text.data : "", text.len,
        SUBWORD_DEFAULT | SUBWORD_UNIQUE | (question ? 0 : SUBWORD_SKIP_KEYWORDS), NULL);
    buf_free(&text);
    t->tokens = calloc(MAX_TERMS, sizeof *t->tokens);
    t->lens = calloc(MAX_TERMS, sizeof *t->lens);
    t->seen = calloc(MAX_TERMS, sizeof *t->seen);
    t->nslots = 4 * MAX_TERMS;
    t->slots = calloc(t->nslots, sizeof *t->slots);
    if (!t->rendered || !t->tokens || !t->lens || !t->seen || !t->slots)
        return fail(s, -ENOMEM, "out of memory");
    for (char *p = t->rendered; *p && t->n < MAX_TERMS;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (terms_find(t, p, n) < 0) {
            t->tokens[t->n] = p;
            t->lens[t->n] = n;
            size_t i = (size_t)hash_bytes(p, n) & (t->nslots - 1);
            while (t->slots[i])
                i = (i + 1) & (t->nslots - 1);
            t->slots[i] = (uint32_t)++t->n;
        }
        p += n;
    }
    if (!s->q->question)
        return 0;
    t->stems = calloc(t->n ? t->n : 1, sizeof *t->stems);
    t->stem_lens = calloc(t->n ? t->n : 1, sizeof *t->stem_lens);
    if (!t->stems || !t->stem_lens)
        return fail(s, -ENOMEM, "out of memory");
    for (size_t i = 0; i < t->n; i++)
        t->stem_lens[i] = subword_stem(t->tokens[i], t->lens[i], t->stems[i]);
    if (s->q->query)
        subjects_read(t, s->q->query, s->q->query_len);
    return 0;
}

static void terms_free(terms_t *t) {
    free(t->stems);
    free(t->stem_lens);
    free(t->rendered);
    free(t->tokens);
    free(t->lens);
    free(t->seen);
    free(t->slots);
}

/* How many distinct query terms occur in the space-separated tokens;
 * `stamp` must differ between calls. */
static int terms_overlap(terms_t *t, const char *tokens, uint32_t stamp) {
    int hits = 0;
    for (const char *p = tokens; p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        long k = terms_find(t, p, n);
        if (k >= 0 && t->seen[k] != stamp) {
            t->seen[k] = stamp;
            hits++;
        }
        p += n;
    }
    return hits;
}

/* Whether folded word w (wl bytes) and sub-word part (n bytes) are one
 * word: equal, or, when near, one abbreviating the other by 4 letters or
 * more (`params`, `parameters`; `cfg` is too short to tell). */
static bool word_matches(const char *w, size_t wl, const char *part, size_t n, bool near) {
    if (wl == n && !memcmp(w, part, n))
        return true;
    size_t common = 0;
    while (common < wl && common < n && w[common] == part[common])
        common++;
    return near && common >= 4 && (common == wl || common == n);
}

/* ---- the signals ---- */

static const char SQL_OWN_FILE[] =
    "SELECT f.id, (SELECT count(*) FROM chunks c WHERE c.file = f.id) FROM files f"
    " WHERE f.collection = ? AND f.path = ?";

static int find_own_file(search_t *s) {
    if (!s->q->path || !*s->q->path)
        return 0;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_OWN_FILE);
    if (!st)
        return db_fail(s, "finding the current file");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, s->q->path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->own_file = sqlite3_column_int64(st, 0);
        s->own_chunks = (size_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return 0;
}

/* The vector scan runs on its own thread while the lexical and structural
 * signals query sqlite on the caller's: they use different resources
 * (memory bandwidth vs. b-tree lookups), so the query takes about the
 * longer of the two instead of their sum.  A shard small enough that its
 * scan is shorter than starting a thread (the bound scan.c starts its own
 * threads by) is scanned inline instead: under load a new thread also
 * waits for a core, and the query waits for it. */
#define DENSE_THREAD_MIN_WORK (1u << 19) /* rows * dim */
static void *dense_main(void *arg) {
    search_t *s = arg;
    s->dense_n = vectors_search(s->view.vectors, s->vector, s->dense_want, s->q->mode,
                                s->q->threads, s->dense_hits);
    return NULL;
}

static int dense_start(search_t *s) {
    if (!s->q->vector)
        return 0;
    size_t dim = s->view.dim;
    if (s->q->vector_bytes != dim * sizeof(float))
        return fail(s, -EINVAL, "the query vector must be %zu float32 (%zu bytes), not %zu bytes",
                    dim, dim * sizeof(float), s->q->vector_bytes);
    s->vector =
        aligned_alloc(SCAN_ALIGN, (dim * sizeof(float) + SCAN_ALIGN - 1) / SCAN_ALIGN * SCAN_ALIGN);
    if (!s->vector)
        return fail(s, -ENOMEM, "out of memory");
    memcpy(s->vector, s->q->vector, dim * sizeof(float));
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(s->vector[i]))
            return fail(s, -EINVAL, "the query vector has a non-finite value");
    s->dense_want = s->q->limit + s->own_chunks;
    if (!(s->dense_hits = malloc(s->dense_want * sizeof *s->dense_hits)))
        return fail(s, -ENOMEM, "out of memory");
    size_t work = vectors_count(s->view.vectors) * dim;
    s->dense_running =
        work >= DENSE_THREAD_MIN_WORK && pthread_create(&s->dense_thread, NULL, dense_main, s) == 0;
    if (!s->dense_running)
        dense_main(s); /* small, or no thread to be had: scan here */
    return 0;
}

/* Waits for the scan (if any) and adds its hits. */
static int dense_finish(search_t *s) {
    if (s->dense_running) {
        pthread_join(s->dense_thread, NULL);
        s->dense_running = false;
    }
    if (!s->dense_hits)
        return 0;
    if (s->dense_n < 0)
        return fail(s, (int)s->dense_n, "vector search failed: %s", strerror((int)-s->dense_n));
    for (long i = 0; i < s->dense_n; i++) {
        candidate_t *c = candidate_get(s, (int64_t)s->dense_hits[i].id);
        if (!c)
            return fail(s, -ENOMEM, "out of memory");
        c->dense = s->dense_hits[i].score;
        c->has_dense = true;
        c->rank[SIG_DENSE] = (int)i + 1;
    }
    return 0;
}

static const char SQL_TERM_DF[] = "SELECT df FROM terms WHERE collection = ? AND token = ?";

/* How many chunks of the collection hold the token word[0..len): 0 when
 * none, -1 when the table cannot be read. */
static long term_df(search_t *s, const char *word, size_t len) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_TERM_DF);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, word, (int)len, SQLITE_STATIC);
    long df = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return df;
}

typedef struct {
    size_t term; /* a token's index, or MAX_TERMS + the index of a token whose stem it is */
    long df;
} term_df_t;

static int term_df_cmp(const void *a, const void *b) {
    const term_df_t *x = a, *y = b;
    if (x->df != y->df)
        return x->df < y->df ? -1 : 1;
    return x->term < y->term ? -1 : x->term > y->term;
}

/* Runs the FTS5 query in match (NULL data: out of memory) over the
 * collection's chunks, best first by BM25 with the column weights given
 * (body, path, symbols), and calls found(s, rowid, score, at, arg) for each
 * of at most `limit` rows (at counts from 1); a non-zero return stops.
 * what names the search in errors. */
static int fts_each(search_t *s, const buf_t *match, const char *weights, size_t limit,
                    const char *what,
                    int (*found)(search_t *s, int64_t id, double score, int at, void *arg),
                    void *arg) {
    if (!match->data)
        return fail(s, -ENOMEM, "out of memory");
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT rowid, -bm25(%s, %s) FROM %s WHERE %s MATCH ? ORDER BY bm25(%s, %s) LIMIT ?",
             s->view.fts, weights, s->view.fts, s->view.fts, s->view.fts, weights);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->view.db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, what);
    sqlite3_bind_text(st, 1, match->data, (int)match->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int step, at = 0, rc = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = found(s, sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1), ++at, arg);
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(s, what);
    sqlite3_finalize(st);
    return rc;
}

static int bm25_found(search_t *s, int64_t id, double score, int at, void *arg) {
    (void)arg;
    candidate_t *c = candidate_get(s, id);
    if (!c)
        return fail(s, -ENOMEM, "out of memory");
    c->bm25 = (float)score;
    c->rank[SIG_BM25] = at;
    return 0;
}

/* BM25 over the query's informative terms: those in fewer than
 * BM25_POSTINGS chunks, rarest first, while their chunks add up to at most
 * BM25_POSTINGS, and at most BM25_TERMS of them (each costs FTS5 a lookup
 * and a pass over its chunks to count them for the idf).  FTS5 scores every chunk that matches any
 * term, so one common sub-word (`get`, `value`) would cost a pass over most of the shard while
 * adding almost nothing to the ranking (its idf is near zero).  A question's
 * words count with their stems, which names are made of: "Selects the given
 * index" finds `select(int index)` (measured on the evaluation's questions:
 * MRR@10 0.365 -> 0.382 tune, 0.349 -> 0.375 report). */
static int signal_bm25(search_t *s) {
    terms_t *t = &s->terms;
    if (!t->n)
        return 0;
    term_df_t dfs[2 * MAX_TERMS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        long df = term_df(s, t->tokens[i], t->lens[i]);
        if (df < 0)
            return db_fail(s, "reading term counts");
        if (df > 0 && df <= BM25_POSTINGS)
            dfs[n++] = (term_df_t){i, df};
        /* a question's word and its stem: "selects" finds `select` */
        if (!t->stems || t->stem_lens[i] == t->lens[i] ||
            terms_find(t, t->stems[i], t->stem_lens[i]) >= 0)
            continue;
        df = term_df(s, t->stems[i], t->stem_lens[i]);
        if (df < 0)
            return db_fail(s, "reading term counts");
        if (df > 0 && df <= BM25_POSTINGS)
            dfs[n++] = (term_df_t){MAX_TERMS + i, df};
    }
    qsort(dfs, n, sizeof *dfs, term_df_cmp);
    buf_t match = BUF_INIT;
    long postings = 0;
    for (size_t i = 0; i < n && i < BM25_TERMS && postings + dfs[i].df <= BM25_POSTINGS; i++) {
        postings += dfs[i].df;
        size_t k = dfs[i].term % MAX_TERMS;
        buf_append_str(&match, i ? " OR \"" : "\"");
        if (dfs[i].term >= MAX_TERMS)
            buf_append(&match, t->stems[k], t->stem_lens[k]);
        else
            buf_append(&match, t->tokens[k], t->lens[k]);
        buf_append_str(&match, "\"");
    }
    if (!postings)
        return 0;
    /* Column weights: a term in the names a chunk defines counts 8 times,
     * in its path twice, in its body once (measured on the evaluation's
     * questions in words: R@5 0.29 -> 0.31 over 1,1,1). */
    int rc = fts_each(s, &match, "1, 2, 8", s->q->limit + s->own_chunks, "BM25", bm25_found, NULL);
    buf_free(&match);
    return rc;
}

/* ---- names in a question ---- */

/* How rare a sub-word is on this shard: log(1 + NAME_IDF_BASE / df), df
 * from the terms table (1 when absent), remembered in s->idf. */
static double part_idf(search_t *s, const char *part, size_t len) {
    uint64_t key = hash_bytes(part, len);
    uintptr_t known = (uintptr_t)map_get_u64(s->idf, key);
    if (known)
        return (double)(known - 1) / 1000.0;
    long df = term_df(s, part, len);
    double idf = log1p(NAME_IDF_BASE / (double)(df > 0 ? df : 1));
    map_put_u64(s->idf, key, (void *)(uintptr_t)(idf * 1000.0 + 1));
    return idf;
}

/* How well a name (its last step after `.` or `::`) is made of the
 * question's words: the share of its sub-words (of 2 bytes or more, not
 * numbers) that a word of the question matches, as written or by stem,
 * times how rare the matched ones are together (their idf summed): a name
 * all of whose words the question says, and rare ones, comes first. */
/* The idf mass of the sub-words of s[0..n) that the question's words make
 * up (by the word, its stem or an abbreviation, see word_matches), and in
 * *share the part of them it makes up. */
static double words_mass(search_t *s, const char *name, size_t name_len, double *share) {
    const terms_t *t = &s->terms;
    size_t offsets[SUBWORD_PARTS_MAX], lengths[SUBWORD_PARTS_MAX];
    int n = subword_split(name, name_len, offsets, lengths, SUBWORD_PARTS_MAX);
    int counted = 0, found = 0;
    double mass = 0;
    for (int i = 0; i < n; i++) {
        size_t len = lengths[i];
        char part[SUBWORD_IDENT_MAX + 1], stem[SUBWORD_IDENT_MAX + 1];
        if (len < 2 || len > SUBWORD_IDENT_MAX)
            continue;
        fold_part(name, offsets[i], len, part);
        if (strspn(part, "0123456789") == len)
            continue; /* a number */
        counted++;
        size_t stem_len = subword_stem(part, len, stem);
        for (size_t w = 0; w < t->n; w++)
            if (word_matches(t->tokens[w], t->lens[w], part, len, true) ||
                word_matches(t->stems[w], t->stem_lens[w], stem, stem_len, true)) {
                found++;
                mass += part_idf(s, part, len);
                break;
            }
    }
    *share = counted ? (double)found / counted : 0;
    return mass;
}

/* How well the question names name: the idf mass of the sub-words of its
 * last component it makes up, times their share; the words of its scope
 * (`ReadBuf` of `ReadBuf.uninit`) add SCOPE_MASS of their mass. */
/* The last step of a name after `.` or `::`. */
static const char *name_last(const char *name) {
    const char *last = name;
    for (const char *p = name; *p; p++)
        if (*p == '.' || *p == ':')
            last = p + 1;
    return last;
}

/* Whether the scope name[0..len) (its last step: `Constraint` of
 * `schema.Constraint.`) is what the question points at (subjects_read):
 * the whole of it, or one of its sub-words (`this constraint` and
 * ColumnCollectionConstraint). */
static bool scope_pointed_at(const search_t *s, const char *name, size_t len) {
    const terms_t *t = &s->terms;
    if (!t->nsubjects)
        return false;
    while (len && (name[len - 1] == '.' || name[len - 1] == ':'))
        len--;
    size_t from = len;
    while (from && name[from - 1] != '.' && name[from - 1] != ':')
        from--;
    if (from == len)
        return false;
    char whole[SUBWORD_IDENT_MAX + 1], part[SUBWORD_IDENT_MAX + 1];
    size_t whole_len = fold_part(name, from, len - from, whole);
    size_t offsets[SUBWORD_PARTS_MAX], lengths[SUBWORD_PARTS_MAX];
    int n = subword_split(name + from, len - from, offsets, lengths, SUBWORD_PARTS_MAX);
    for (size_t k = 0; k < t->nsubjects; k++) {
        const char *w = t->subjects[k];
        size_t wl = strlen(w);
        if (wl == whole_len && !memcmp(w, whole, wl))
            return true;
        for (int i = 0; i < n; i++)
            if (word_matches(w, wl, part, fold_part(name + from, offsets[i], lengths[i], part),
                             true))
                return true;
    }
    return false;
}

static double name_share(search_t *s, const char *name) {
    const char *last = name_last(name);
    double share, scope_share;
    double v = words_mass(s, last, strlen(last), &share) * share;
    if (v > 0 && last > name) {
        size_t scope_len = (size_t)(last - name);
        double mass = scope_pointed_at(s, name, scope_len) ? SUBJECT_MASS : SCOPE_MASS;
        v += mass * words_mass(s, name, scope_len, &scope_share);
    }
    return v;
}

/* Whether a name of a before e has e's last step: a method is listed as
 * `recv` and as `Socket.recv`, one name. */
static bool name_listed_before(const cJSON *a, const cJSON *e) {
    const char *last = name_last(e->valuestring);
    for (const cJSON *b = a->child; b && b != e; b = b->next)
        if (cJSON_IsString(b) && !strcmp(name_last(b->valuestring), last))
            return true;
    return false;
}

/* The best name_share of the names a chunk defines (its symbols, JSON
 * array text as stored), plus PATH_MASS of the idf mass of its file's and
 * folder's names that the question makes up (`pop` of `queue.py` for "Pops
 * from the queue"), over the square root of how many names it defines. */
static double name_value(search_t *s, const char *symbols_json, size_t len, const char *path) {
    cJSON *a = cJSON_ParseWithLength(symbols_json, len);
    double best = 0;
    int names = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (cJSON_IsString(e)) {
            double v = name_share(s, e->valuestring);
            best = v > best ? v : best;
            names += !name_listed_before(a, e);
        }
    }
    cJSON_Delete(a);
    if (best > 0 && path) {
        /* the file's name and its folder's: `queue` of `.../queue.rs` */
        const char *end = strrchr(path, '.'), *base = strrchr(path, '/');
        if (!end || (base && end < base))
            end = path + strlen(path);
        const char *from = path;
        for (const char *p = base ? base - 1 : path; base && p > path; p--)
            if (*p == '/') {
                from = p + 1;
                break;
            }
        double share;
        best += PATH_MASS * words_mass(s, from, (size_t)(end - from), &share);
    }
    return names > 1 ? best / sqrt((double)names) : best;
}

typedef struct {
    char word[SUBWORD_IDENT_MAX + 1];
    long df;
    int tier; /* 0: a question's word or its stem; 1: a word it extends; 2: one extending it */
} vocab_word_t;

typedef struct {
    vocab_word_t words[NAME_WORDS];
    size_t n;
} vocab_t;

static void vocab_add(vocab_t *v, const char *word, size_t len, long df, int tier) {
    if (df <= 0 || df > NAME_POSTINGS || len > SUBWORD_IDENT_MAX || v->n == NAME_WORDS)
        return;
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->words[i].word) == len && !memcmp(v->words[i].word, word, len)) {
            v->words[i].tier = tier < v->words[i].tier ? tier : v->words[i].tier;
            return;
        }
    memcpy(v->words[v->n].word, word, len);
    v->words[v->n].word[len] = '\0';
    v->words[v->n].df = df;
    v->words[v->n++].tier = tier;
}

static const char SQL_TERMS_EXTENDING[] =
    "SELECT token, df FROM terms WHERE collection = ? AND token > ? AND token < ?"
    " AND length(token) <= ? LIMIT ?";

/* The index's words that a question's word stands for (tier 0): itself
 * and its stem. */
static int vocab_of_word(search_t *s, vocab_t *v, size_t i) {
    const terms_t *t = &s->terms;
    const char *w = t->tokens[i], *stem = t->stems[i];
    size_t n = t->lens[i], stem_len = t->stem_lens[i];
    if (n < 3)
        return 0;
    long df = term_df(s, w, n), stem_df = stem_len != n ? term_df(s, stem, stem_len) : 0;
    if (df < 0 || stem_df < 0)
        return db_fail(s, "reading term counts");
    vocab_add(v, w, n, df, 0);
    vocab_add(v, stem, stem_len, stem_df, 0);
    return 0;
}

/* ... and those it may stand for: words of 4 bytes or more that it extends
 * (tier 1: `uninit` of `uninitialized`, `connect` of `connection`) and,
 * after them, words a little longer than its stem that extend it (tier 2,
 * `creat`: `create`, `creates`, `creating`), not the whole folded names
 * that start with it (`readbufcursor`).  A rare extension (`observableb`)
 * would otherwise take the place of the word the question shortens. */
static int vocab_near_word(search_t *s, vocab_t *v, size_t i) {
    const terms_t *t = &s->terms;
    const char *w = t->tokens[i], *stem = t->stems[i];
    size_t n = t->lens[i], stem_len = t->stem_lens[i];
    if (n < 3)
        return 0;
    long df = 0;
    for (size_t k = 4; k < n && df >= 0; k++)
        vocab_add(v, w, k, df = term_df(s, w, k), 1);
    if (df < 0)
        return db_fail(s, "reading term counts");
    if (stem_len < 4)
        return 0;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_TERMS_EXTENDING);
    if (!st)
        return db_fail(s, "reading terms");
    char upper[SUBWORD_IDENT_MAX + 2];
    memcpy(upper, stem, stem_len);
    upper[stem_len] = '\xff'; /* above every byte of UTF-8 */
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, stem, (int)stem_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, upper, (int)stem_len + 1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)stem_len + NAME_SUFFIX_MAX);
    sqlite3_bind_int(st, 5, NAME_EXTENSIONS);
    while (sqlite3_step(st) == SQLITE_ROW)
        vocab_add(v, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                  (long)sqlite3_column_int64(st, 1), 2);
    sqlite3_reset(st);
    return 0;
}

/* The question's own words first, then the rarest. */
static int vocab_cmp(const void *a, const void *b) {
    const vocab_word_t *x = a, *y = b;
    if (x->tier != y->tier)
        return x->tier - y->tier;
    return x->df < y->df ? -1 : x->df > y->df;
}

/* A chunk the name search found, and its name value. */
typedef struct {
    int64_t id;
    double value;
    int at; /* FTS5's order, for ties */
} name_hit_t;

typedef struct {
    name_hit_t *hits;
    size_t n;
} name_hits_t;

static const char SQL_CHUNK_NAMES[] =
    "SELECT c.symbols, f.path FROM chunks c JOIN files f ON f.id = c.file WHERE c.id = ?";

/* The name value of one chunk FTS5 found. */
static int name_found(search_t *s, int64_t id, double score, int at, void *arg) {
    (void)score;
    name_hits_t *h = arg;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CHUNK_NAMES);
    if (!st)
        return db_fail(s, "reading a chunk's names");
    sqlite3_bind_int64(st, 1, id);
    double value = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        value = name_value(s, (const char *)sqlite3_column_text(st, 0),
                           (size_t)sqlite3_column_bytes(st, 0),
                           (const char *)sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    if (value > 0)
        h->hits[h->n++] = (name_hit_t){id, value, at};
    return 0;
}

static int name_hit_cmp(const void *a, const void *b) {
    const name_hit_t *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? 1 : -1;
    return x->at - y->at;
}

/* The name signal's candidates: FTS5 finds the chunks whose names hold the
 * index's words the question's words may stand for (the rarest first), and
 * of NAME_POOL times `limit` of them in FTS5's order, the best `limit` by
 * name value stay.  FTS5's order alone favours a name made of many of the
 * question's words over one made of all of a few: `poll_read_buf` before
 * `read_exact` for "read exactly enough bytes to fill a buffer". */
static int signal_name(search_t *s) {
    terms_t *t = &s->terms;
    if (!s->q->question || !t->n)
        return 0;
    vocab_t *v = calloc(1, sizeof *v);
    if (!v)
        return fail(s, -ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = vocab_of_word(s, v, i);
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = vocab_near_word(s, v, i);
    qsort(v->words, v->n, sizeof *v->words, vocab_cmp);
    buf_t match = BUF_INIT;
    buf_append_str(&match, "symbols : (");
    long postings = 0;
    size_t used = 0;
    for (size_t i = 0; i < v->n && used < NAME_TERMS && postings + v->words[i].df <= NAME_POSTINGS;
         i++) {
        postings += v->words[i].df;
        buf_printf(&match, "%s\"%s\"", used++ ? " OR " : "", v->words[i].word);
    }
    buf_append_str(&match, ")");
    free(v);
    size_t keep = s->q->limit + s->own_chunks, pool = NAME_POOL * keep;
    name_hits_t h = {calloc(pool, sizeof *h.hits), 0};
    if (rc == 0 && !h.hits)
        rc = fail(s, -ENOMEM, "out of memory");
    if (rc == 0 && used)
        rc = fts_each(s, &match, "0, 0, 1", pool, "the name search", name_found, &h);
    if (rc == 0 && h.n)
        qsort(h.hits, h.n, sizeof *h.hits, name_hit_cmp);
    for (size_t i = 0; rc == 0 && i < h.n && i < keep; i++) {
        candidate_t *c = candidate_get(s, h.hits[i].id);
        if (!c) {
            rc = fail(s, -ENOMEM, "out of memory");
            break;
        }
        c->name = h.hits[i].value;
        c->has_name = true;
        c->rank[SIG_NAME] = (int)i + 1;
    }
    free(h.hits);
    buf_free(&match);
    return rc;
}

static const char SQL_DEFINERS[] =
    "SELECT DISTINCT chunk FROM symbols WHERE collection = ? AND name = ?";

static int signal_symbol(search_t *s) {
    size_t budget = 4 * s->q->limit, found = 0;
    for (size_t i = 0; i < s->q->symbol_count && i < MAX_SYMBOLS && found < budget; i++) {
        const char *name = s->q->symbols[i];
        size_t key_at, key_len = store_symbol_key(name, strlen(name), &key_at);
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = strcmp(s->q->symbols[j], name) == 0;
        if (!key_len || repeated)
            continue;
        sqlite3_stmt *st = store_view_stmt(&s->view, SQL_DEFINERS);
        if (!st)
            return db_fail(s, "symbol lookup");
        sqlite3_bind_int64(st, 1, s->view.collection_id);
        sqlite3_bind_text(st, 2, name + key_at, (int)key_len, SQLITE_STATIC);
        /* A name defined everywhere (`get`, `__init__`) says little and
         * would crowd out the rest: at most SYMBOL_DEFINERS of its definers. */
        size_t definers = 0;
        while (found < budget && definers++ < SYMBOL_DEFINERS && sqlite3_step(st) == SQLITE_ROW) {
            candidate_t *c = candidate_get(s, sqlite3_column_int64(st, 0));
            if (!c) {
                sqlite3_reset(st);
                return fail(s, -ENOMEM, "out of memory");
            }
            if (c->symbol_last != (int)i + 1) {
                c->symbol_last = (int)i + 1;
                c->symbol++;
                found++;
            }
        }
        sqlite3_reset(st);
    }
    /* Rank: more identifiers defined first, then by id (stable). */
    int rank = 0;
    for (int want = MAX_SYMBOLS; want >= 1; want--)
        for (size_t i = 0; i < s->ncands; i++)
            if (s->cands[i].symbol == want)
                s->cands[i].rank[SIG_SYMBOL] = ++rank;
    return 0;
}

/* ---- owner: the class of the member written after a bare name ---- */

static const char SQL_SCOPES_OF[] =
    "SELECT DISTINCT scope FROM symbols WHERE collection = ? AND name = ? AND scope != ''"
    " LIMIT ?";

/* `⟨.constructObject(`: the classes (scopes) defining a member of that
 * name on this shard, and the chunks defining each of them (the class's
 * header or definition, which a file's other chunks do not name), valued
 * 1; with more than OWNER_SCOPES, the member says too little of its class
 * to add anything. */
static int signal_owner(search_t *s) {
    if (!s->q->owner || !*s->q->owner)
        return 0;
    size_t key_at, key_len = store_symbol_key(s->q->owner, strlen(s->q->owner), &key_at);
    if (!key_len)
        return 0;
    char scopes[OWNER_SCOPES][CURSOR_NAME_MAX];
    size_t n = 0;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_SCOPES_OF);
    if (!st)
        return db_fail(s, "scope lookup");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, s->q->owner + key_at, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, OWNER_SCOPES + 1); /* one more: too many to say which */
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *last = name_last((const char *)sqlite3_column_text(st, 0));
        bool known = !*last || strlen(last) >= CURSOR_NAME_MAX;
        for (size_t i = 0; i < n && !known; i++)
            known = !strcmp(scopes[i], last);
        if (known)
            continue;
        if (n == OWNER_SCOPES) {
            n = 0; /* too many to say which */
            break;
        }
        snprintf(scopes[n++], CURSOR_NAME_MAX, "%s", last);
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < n; i++) {
        st = store_view_stmt(&s->view, SQL_DEFINERS);
        if (!st)
            return db_fail(s, "symbol lookup");
        sqlite3_bind_int64(st, 1, s->view.collection_id);
        sqlite3_bind_text(st, 2, scopes[i], -1, SQLITE_STATIC);
        size_t definers = 0;
        while (definers++ < SYMBOL_DEFINERS && sqlite3_step(st) == SQLITE_ROW) {
            candidate_t *c = candidate_get(s, sqlite3_column_int64(st, 0));
            if (!c) {
                sqlite3_reset(st);
                return fail(s, -ENOMEM, "out of memory");
            }
            c->owner = 1.0;
        }
        sqlite3_reset(st);
    }
    return 0;
}

static const char SQL_IMPORTS_OF[] =
    "SELECT target FROM imports WHERE collection = ? AND path = ? LIMIT 256";
static const char SQL_FILE_BY_PATH[] = "SELECT id FROM files WHERE collection = ? AND path = ?";
static const char SQL_FILES_IN_DIR[] = "SELECT count(*) FROM files WHERE collection = ?1 AND "
                                       "substr(path, 1, length(?2) + 1) = ?2 || '/'"
                                       " AND instr(substr(path, length(?2) + 2), '/') = 0";
static const char SQL_FILES_BY_STEM[] =
    "SELECT id FROM files WHERE collection = ? AND stem = ? LIMIT 64";
static const char SQL_CHUNKS_OF_FILE[] = "SELECT id FROM chunks WHERE file = ? LIMIT 4096";

/* The id of this shard's file at path into *id (0: another shard's, or
 * none); what names the reading in errors. */
static int file_id(search_t *s, const char *path, const char *what, int64_t *id) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_FILE_BY_PATH);
    if (!st)
        return db_fail(s, what);
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    *id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return 0;
}

static import_file_t *import_file_find(search_t *s, int64_t file) {
    for (size_t i = 0; i < s->nfiles; i++)
        if (s->files[i].file == file)
            return &s->files[i];
    return NULL;
}

/* Adds a file of this shard to the neighbourhood (keeping the lowest level). */
static int import_file_add(search_t *s, int64_t file, int level, bool object) {
    import_file_t *f = import_file_find(s, file);
    if (f) {
        if (level && (!f->level || level < f->level))
            f->level = level;
        f->object |= object;
        return 0;
    }
    if (s->nfiles >= MAX_IMPORT_FILES)
        return 0;
    if (!s->files && !(s->files = calloc(MAX_IMPORT_FILES, sizeof *s->files)))
        return fail(s, -ENOMEM, "out of memory");
    s->files[s->nfiles++] = (import_file_t){file, level, object};
    return 0;
}

/* True when the directory holding `path` is named `name`: a Go or Java
 * package (`client.Do()` with the files of client/ imported) names its directory,
 * not a file. */
/* Collects the targets `path` imports into list (owned strings). */
static int imports_of(search_t *s, const char *path, char ***list, size_t *n) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_IMPORTS_OF);
    if (!st)
        return db_fail(s, "reading imports");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
    int rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **grown = realloc(*list, (*n + 1) * sizeof *grown);
        char *target = strdup((const char *)sqlite3_column_text(st, 0));
        if (!grown || !target) {
            free(target);
            if (grown)
                *list = grown;
            rc = fail(s, -ENOMEM, "out of memory");
            break;
        }
        *list = grown;
        (*list)[(*n)++] = target;
    }
    sqlite3_reset(st);
    return rc;
}

/* Builds the import neighbourhood of the current file: levels 1 and 2, and
 * whether a level-1 file's stem is the object. */
static int import_neighbourhood(search_t *s) {
    if (!s->q->path || !*s->q->path)
        return 0;
    char **level1 = NULL, **level2 = NULL;
    size_t n1 = 0, n2 = 0;
    int rc = imports_of(s, s->q->path, &level1, &n1);
    s->has_imports = n1 > 0;
    for (size_t i = 0; rc == 0 && i < n1 && n2 < MAX_IMPORT_FILES; i++)
        rc = imports_of(s, level1[i], &level2, &n2);
    for (int level = 1; rc == 0 && level <= 2; level++) {
        char **list = level == 1 ? level1 : level2;
        size_t n = level == 1 ? n1 : n2;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (strcmp(list[i], s->q->path) == 0)
                continue;
            int64_t id;
            rc = file_id(s, list[i], "reading imported files", &id);
            if (rc == 0 && id) {
                bool object = level == 1 && module_names_file(s->q->object, list[i]);
                rc = import_file_add(s, id, level, object);
            }
        }
    }
    for (size_t i = 0; i < n1; i++)
        free(level1[i]);
    for (size_t i = 0; i < n2; i++)
        free(level2[i]);
    free(level1);
    free(level2);
    /* A file the graph knows nothing of (new, unsaved, not seeded): any file
     * named like the object stands in for the module it would import. */
    if (rc == 0 && !s->has_imports && s->q->object && *s->q->object) {
        sqlite3_stmt *st = store_view_stmt(&s->view, SQL_FILES_BY_STEM);
        if (!st)
            return db_fail(s, "reading files by stem");
        sqlite3_bind_int64(st, 1, s->view.collection_id);
        sqlite3_bind_text(st, 2, s->q->object, -1, SQLITE_STATIC);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
            rc = import_file_add(s, sqlite3_column_int64(st, 0), 0, true);
        sqlite3_reset(st);
    }
    return rc;
}

typedef struct {
    int64_t id;
    double score;
} scored_t;

static int scored_cmp(const void *a, const void *b) {
    const scored_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Ranks the chunks of the neighbourhood files selected by `want_object`
 * (object files) or by level (import files) by term overlap and adds the
 * best `limit` as candidates of signal `sig`. */
static int rank_neighbourhood(search_t *s, int sig) {
    size_t cap = MAX_SCAN_CHUNKS, n = 0;
    scored_t *scored = NULL;
    sqlite3_stmt *tokens = NULL;
    int rc = 0;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT body, path, symbols FROM %s WHERE rowid = ?", s->view.fts);
    for (size_t f = 0; f < s->nfiles && n < cap && rc == 0; f++) {
        const import_file_t *file = &s->files[f];
        if (sig == SIG_OBJECT ? !file->object : !file->level)
            continue;
        if (!scored && !(scored = malloc(cap * sizeof *scored))) {
            rc = fail(s, -ENOMEM, "out of memory");
            break;
        }
        if (!tokens && sqlite3_prepare_v2(s->view.db, sql, -1, &tokens, NULL) != SQLITE_OK) {
            rc = db_fail(s, "reading tokens");
            break;
        }
        sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CHUNKS_OF_FILE);
        if (!st) {
            rc = db_fail(s, "reading chunks of imported files");
            break;
        }
        sqlite3_bind_int64(st, 1, file->file);
        while (n < cap && sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            sqlite3_reset(tokens);
            sqlite3_bind_int64(tokens, 1, id);
            int overlap = 0;
            if (sqlite3_step(tokens) == SQLITE_ROW)
                for (int col = 0; col < 3; col++)
                    overlap += terms_overlap(
                        &s->terms, (const char *)sqlite3_column_text(tokens, col), (uint32_t)n + 1);
            double level = sig == SIG_OBJECT || !file->level ? 1 : file->level;
            scored[n++] = (scored_t){id, overlap / level};
        }
        sqlite3_reset(st);
    }
    if (rc == 0 && n) {
        qsort(scored, n, sizeof *scored, scored_cmp);
        for (size_t i = 0; i < n && i < s->q->limit; i++) {
            candidate_t *c = candidate_get(s, scored[i].id);
            if (!c) {
                rc = fail(s, -ENOMEM, "out of memory");
                break;
            }
            c->rank[sig] = (int)i + 1;
        }
    }
    sqlite3_finalize(tokens);
    free(scored);
    return rc;
}

static const char SQL_OBJECT_DEFINERS[] =
    "SELECT chunk FROM symbols WHERE collection = ?1 AND name = ?2"
    " UNION SELECT chunk FROM symbols WHERE collection = ?1 AND scope = ?2 LIMIT ?3";

static int signal_object(search_t *s) {
    if (!s->q->object || !*s->q->object)
        return 0;
    int rc = rank_neighbourhood(s, SIG_OBJECT);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_OBJECT_DEFINERS);
    if (!st)
        return db_fail(s, "object lookup");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, s->q->object, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(4 * s->q->limit));
    int rank = 0;
    for (size_t i = 0; i < s->ncands; i++)
        if (s->cands[i].rank[SIG_OBJECT] > rank)
            rank = s->cands[i].rank[SIG_OBJECT];
    while (sqlite3_step(st) == SQLITE_ROW) {
        candidate_t *c = candidate_get(s, sqlite3_column_int64(st, 0));
        if (!c) {
            rc = fail(s, -ENOMEM, "out of memory");
            break;
        }
        c->object = 1;
        if (!c->rank[SIG_OBJECT])
            c->rank[SIG_OBJECT] = ++rank;
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- member: what the cursor's receiver holds ---- */

static const char SQL_FILES_OF_MODULE[] =
    "SELECT path FROM files WHERE collection = ?1 AND (stem = ?2 OR path LIKE '%/' || ?2 || '/%'"
    " OR substr(path, 1, length(?3) + 1) = ?3 || '/') ORDER BY length(path) LIMIT 256";
static const char SQL_REFS_OF[] =
    "SELECT sum(count) FROM refs WHERE collection = ? AND target = ? AND name = ?";
static const char SQL_REFS_TO[] =
    "SELECT name, sum(count), sum(CASE WHEN substr(path, 1, ?3) = ?4"
    " AND instr(substr(path, ?3 + 1), '/') = 0 AND path <> ?5 THEN count ELSE 0 END),"
    " sum(CASE WHEN path = ?5 THEN count ELSE 0 END) AS here"
    " FROM refs WHERE collection = ?1 AND target = ?2 GROUP BY name"
    " ORDER BY here > 0 DESC, 2 DESC, name";
static const char SQL_REFS_NEAR[] =
    "SELECT sum(count) FROM refs WHERE collection = ?1 AND target = ?2 AND name = ?3"
    " AND substr(path, 1, ?4) = ?5 AND instr(substr(path, ?4 + 1), '/') = 0 AND path <> ?6";
static const char SQL_CLASS_MEMBERS_AT[] =
    "SELECT s.chunk, s.name, f.path FROM symbols s JOIN chunks c ON c.id = s.chunk"
    " JOIN files f ON f.id = c.file WHERE s.collection = ? AND s.scope = ? LIMIT 512";
static const char SQL_CHUNK_SYMBOLS[] = "SELECT id, symbols FROM chunks WHERE file = ?";

/* Whether files a and b are in one directory. */
static bool same_dir(const char *a, const char *b) {
    if (!a || !b)
        return false;
    const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
    size_t da = sa ? (size_t)(sa - a) : 0, db = sb ? (size_t)(sb - b) : 0;
    return da == db && !strncmp(a, b, da);
}

/* Rust's self:: and super:: paths, from the current file's module (a
 * mod.rs, lib.rs or main.rs is its directory's module): `super::x` in
 * src/a/b.rs is src/a/x.  False when spec is not one. */
static bool rust_relative(const char *current, const char *spec, char *out, size_t cap) {
    bool self = !strcmp(spec, "self") || !strncmp(spec, "self::", 6);
    bool super = !strcmp(spec, "super") || !strncmp(spec, "super::", 7);
    size_t len = current ? strlen(current) : 0;
    if (len < 4 || strcmp(current + len - 3, ".rs") || !(self || super) || cap < 2)
        return false;
    char base[512];
    snprintf(base, sizeof base, "%s", current);
    char *slash = strrchr(base, '/'), *dot = strrchr(slash ? slash : base, '.');
    if (dot)
        *dot = '\0';
    const char *last = slash ? slash + 1 : base;
    if (!strcmp(last, "mod") || !strcmp(last, "lib") || !strcmp(last, "main"))
        *(slash ? slash : base) = '\0';
    const char *p = spec;
    if (self)
        p += strncmp(p, "self::", 6) ? 4 : 6;
    while (!strncmp(p, "super", 5) && (p[5] == '\0' || !strncmp(p + 5, "::", 2))) {
        slash = strrchr(base, '/');
        *(slash ? slash : base) = '\0';
        p += p[5] ? 7 : 5;
    }
    char rel[512];
    size_t n = 0;
    for (; *p && n + 1 < sizeof rel; p++) {
        rel[n++] = *p == ':' && p[1] == ':' ? '/' : *p;
        p += *p == ':' && p[1] == ':';
    }
    rel[n] = '\0';
    snprintf(out, cap, "%s%s%s", base, *base && *rel ? "/" : "", rel);
    return true;
}

/* A specifier as a repository path to compare file paths with: `a.b` and
 * `crate::a::b` become `a/b`; `./x`, `../x` and Python's leading dots are
 * resolved against the current file's directory (then *anchored is set: the
 * path must match whole, not as a tail). */
static bool spec_path(const char *current, const char *spec, const char *member_of, char *out,
                      size_t cap, bool *anchored) {
    char rel[512];
    size_t n = 0;
    *anchored = false;
    const char *p = spec;
    if (rust_relative(current, spec, out, cap)) {
        *anchored = true;
        return *out != '\0';
    }
    /* Rust: crate:: is the crate's root module, lib.rs */
    if (!strcmp(p, "crate"))
        p = "lib";
    else if (!strncmp(p, "crate::", 7))
        p += 7;
    bool js_relative = !strncmp(p, "./", 2) || !strncmp(p, "../", 3);
    /* a path (a JS specifier, a Go import path: dots in names) or a dotted
     * or ::-separated module name (Python, Java, Rust) */
    bool path_like = strchr(p, '/') != NULL;
    size_t dots = 0;
    if (!path_like)
        while (p[dots] == '.')
            dots++;
    for (const char *q = p + dots; *q && n + 2 < sizeof rel; q++) {
        if (!path_like && (*q == '.' || (*q == ':' && q[1] == ':'))) {
            rel[n++] = '/';
            q += *q == ':';
        } else {
            rel[n++] = *q;
        }
    }
    if (member_of && *member_of && n + strlen(member_of) + 2 < sizeof rel)
        n += (size_t)snprintf(rel + n, sizeof rel - n, "%s%s", n ? "/" : "", member_of);
    rel[n] = '\0';
    /* a JS/TS extension is not part of the module's name */
    char *ext = strrchr(rel, '.');
    if (js_relative && ext && !strchr(ext, '/') && ext != rel && ext[-1] != '.')
        *ext = '\0';
    if (!js_relative && dots == 0) {
        snprintf(out, cap, "%s", rel);
        return n > 0;
    }
    /* relative: from the current file's directory */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", current ? current : "");
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    for (size_t up = 1; up < dots; up++) {
        slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            dir[0] = '\0';
    }
    char joined[1024];
    snprintf(joined, sizeof joined, "%s%s%s", dir, *dir && *rel ? "/" : "", rel);
    /* fold ./ and ../ of a JS specifier */
    char parts[64][128], *save = NULL;
    int np = 0;
    for (char *tok = strtok_r(joined, "/", &save); tok && np < 64;
         tok = strtok_r(NULL, "/", &save)) {
        if (!strcmp(tok, "."))
            continue;
        if (!strcmp(tok, "..")) {
            if (np > 0)
                np--;
            continue;
        }
        snprintf(parts[np++], sizeof parts[0], "%s", tok);
    }
    size_t m = 0;
    out[0] = '\0';
    for (int i = 0; i < np && m + 2 < cap; i++)
        m += (size_t)snprintf(out + m, cap - m, "%s%s", i ? "/" : "", parts[i]);
    *anchored = true;
    return np > 0;
}

/* The module a file path is: without its extension, and without a trailing
 * /__init__, /index or /mod (a package's own file; for Rust also /lib and
 * /main).  *package tells it was. */
static void file_module(const char *path, char *out, size_t cap, bool *package) {
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    char *dot = strrchr(slash ? slash : out, '.');
    if (dot && dot != (slash ? slash + 1 : out))
        *dot = '\0';
    *package = false;
    /* a Rust crate's root file is its directory's module too */
    size_t len = strlen(path);
    bool rust = len > 3 && !strcmp(path + len - 3, ".rs");
    static const char *const own[] = {"__init__", "index", "mod", "lib", "main"};
    const char *last = slash ? slash + 1 : out;
    for (size_t i = 0; i < (rust ? 5u : 3u); i++)
        if (!strcmp(last, own[i])) {
            *package = true;
            if (slash)
                *slash = '\0';
            else
                out[0] = '\0';
        }
}

/* Whether want (a repository path, or a tail of one unless anchored) names
 * the module of the file at path, or its directory (Go, Java packages).
 * A file the current one imports (imported) is also named by a want that
 * ends with its directory: a Go import path is the module's path (go.mod)
 * and then the directory, `github.com/x/y/v5/plumbing/format` for
 * plumbing/format.  *package tells that path is a package's own file
 * (__init__, index, mod), whose imports are what it re-exports. */
static bool module_matches(const char *path, const char *want, bool anchored, bool imported,
                           bool *package) {
    char mod[1024], dir[1024], bare[1024];
    file_module(path, mod, sizeof mod, package);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    /* and the path without its extension: `lib` names src/lib.rs */
    snprintf(bare, sizeof bare, "%s", path);
    char *dot = strrchr(bare, '.');
    if (dot && !strchr(dot, '/'))
        *dot = '\0';
    const char *forms[3] = {mod, dir, bare};
    /* a Go package is its directory only: plumbing/object.go is no part
     * of plumbing/object/ */
    size_t len = strlen(path);
    bool go = len > 3 && !strcmp(path + len - 3, ".go");
    for (int i = go ? 1 : 0; i < (go ? 2 : 3); i++) {
        size_t n = strlen(forms[i]), w = strlen(want);
        if (imported && i == 1 && n && w > n && want[w - n - 1] == '/' &&
            !strcmp(want + w - n, forms[i]))
            return true;
        if (!w || w > n)
            continue;
        if (n == w ? !strcmp(forms[i], want)
                   : !anchored && forms[i][n - w - 1] == '/' && !strcmp(forms[i] + n - w, want))
            return true; /* the file's module, or its directory (a Go or Java package) */
    }
    return false;
}

typedef struct {
    int64_t file;
    char *path;
    double weight; /* 1: the module itself, MEMBER_REACHED: through a package */
    int via;       /* the file it was reached through (an index), -1: none */
    map_t *named;  /* the names via reaches of it, once read (see member_named) */
    bool named_read;
} member_file_t;

typedef struct {
    member_file_t files[MAX_MEMBER_FILES];
    size_t n;
} member_files_t;

/* Adds path, reached through file via (-1: none), unless it is there
 * already; named: the names via reaches of it when read already (taken). */
static int member_file_add(search_t *s, member_files_t *mf, const char *path, double weight,
                           int via, map_t *named) {
    for (size_t i = 0; i < mf->n; i++)
        if (!strcmp(mf->files[i].path, path)) {
            map_destroy(&named);
            return 0;
        }
    if (mf->n == MAX_MEMBER_FILES || (s->q->path && !strcmp(path, s->q->path))) {
        map_destroy(&named);
        return 0;
    }
    int64_t id;
    int rc = file_id(s, path, "reading member files", &id);
    char *copy = rc == 0 ? strdup(path) : NULL;
    if (!copy) {
        map_destroy(&named);
        return rc ? rc : fail(s, -ENOMEM, "out of memory");
    }
    /* files of other shards are kept too: their paths are targets the
     * reference index counts under, even if their chunks are elsewhere */
    mf->files[mf->n++] = (member_file_t){id, copy, weight, via, named, named != NULL};
    return 0;
}

static void member_files_free(member_files_t *mf) {
    for (size_t i = 0; i < mf->n; i++) {
        free(mf->files[i].path);
        map_destroy(&mf->files[i].named);
    }
    mf->n = 0;
}

static int names_reached(search_t *s, const char *from, const char *target, map_t **out);

/* The names the file member file f was reached through reaches of it (what
 * a package imports by name from one of its modules is its public face),
 * read once: NULL when none, or when f was not reached through a file. */
static int member_named(search_t *s, member_files_t *mf, size_t f, const map_t **out) {
    member_file_t *m = &mf->files[f];
    int rc = 0;
    if (!m->named_read && m->via >= 0)
        rc = names_reached(s, mf->files[m->via].path, m->path, &m->named);
    m->named_read = rc == 0;
    *out = m->named;
    return rc;
}

/* The files of the module the receiver names: among what the current file
 * imports when the graph knows it, else among the files of this shard. */
/* The files of this shard whose stem, or a directory of whose path, is
 * want's last name, or that are under want: candidates for a module the
 * graph cannot name, the shallowest first. */
static int files_by_stem(search_t *s, const char *want, char ***targets, size_t *n) {
    char stem[256];
    module_stem(want, stem, sizeof stem);
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_FILES_OF_MODULE);
    if (!st)
        return db_fail(s, "reading files by module");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, stem, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, want, -1, SQLITE_STATIC); /* its files, when want is a directory */
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char **grown = realloc(*targets, (*n + 1) * sizeof *grown);
        char *path = strdup((const char *)sqlite3_column_text(st, 0));
        if (!grown || !path) {
            free(path);
            if (grown)
                *targets = grown;
            rc = fail(s, -ENOMEM, "out of memory");
            break;
        }
        *targets = grown;
        (*targets)[(*n)++] = path;
    }
    sqlite3_reset(st);
    return rc;
}

/* The length of path's directory, its last `/` included (0: none). */
static size_t dir_len(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

/* Whether member file f lies in the directory of the module file it was
 * reached from first (the files before first are those): a package's
 * subpackages re-export for it (`networkx/algorithms/__init__.py` for
 * `networkx`), a package elsewhere that it merely uses does not
 * (`src/util/mod.rs` for `src/task/mod.rs`). */
static bool inside_root(const member_files_t *mf, size_t f, size_t first) {
    size_t root = f;
    for (int hops = 0; root >= first && mf->files[root].via >= 0 && hops < MAX_MEMBER_FILES; hops++)
        root = (size_t)mf->files[root].via;
    const char *rp = mf->files[root].path;
    return strncmp(mf->files[f].path, rp, dir_len(rp)) == 0;
}

/* Whether path is a package's own file (__init__.py, index.js, mod.rs). */
static bool package_file(const char *path) {
    char mod[1024];
    bool package = false;
    file_module(path, mod, sizeof mod, &package);
    return package;
}

typedef struct {
    const map_t *set;
    bool meet;
} meet_t;

static void meet_one(const void *key, size_t len, void *value, void *arg) {
    (void)value;
    meet_t *m = arg;
    m->meet = m->meet || map_get(m->set, key, len);
}

/* Whether two sets of names meet (not when either is NULL). */
static bool names_meet(const map_t *a, const map_t *b) {
    meet_t m = {b, false};
    if (a && b)
        map_each(a, meet_one, &m);
    return m.meet;
}

/* Adds what mf->files[from] re-exports, breadth first: the files it
 * imports, and through a package's own file among them what that one
 * imports in turn (`import networkx as nx` reaches nx.path_graph through
 * networkx/__init__.py, networkx/generators/__init__.py, then
 * generators/classic.py), at most REEXPORT_DEPTH packages deep.  A package
 * outside the module's directory is followed only from a package, and only
 * to the files of the names it was reached for. */
static int reexports_add(search_t *s, member_files_t *mf, size_t from) {
    int rc = 0;
    size_t from0 = from;
    size_t level_end = mf->n;
    bool from_package = package_file(mf->files[from0].path);
    for (int depth = 0; rc == 0 && depth < REEXPORT_DEPTH && from < level_end; depth++) {
        for (size_t f = from; rc == 0 && f < level_end; f++) {
            if (depth > 0 && !package_file(mf->files[f].path))
                continue;
            /* a package outside the module's directory re-exports for it
             * only the names the module named of it (`pub use
             * crate::runtime::task::{JoinError, JoinHandle}`): the files
             * those come from */
            const map_t *only = NULL;
            if (depth > 0 && !inside_root(mf, f, from0)) {
                if (!from_package || (rc = member_named(s, mf, f, &only)) != 0 || !only)
                    continue;
            }
            char **inner = NULL;
            size_t k = 0;
            rc = imports_of(s, mf->files[f].path, &inner, &k);
            for (size_t j = 0; rc == 0 && j < k; j++) {
                map_t *named = NULL;
                if (only && (rc = names_reached(s, mf->files[f].path, inner[j], &named)) == 0 &&
                    !names_meet(named, only)) {
                    map_destroy(&named);
                    continue;
                }
                if (rc == 0)
                    rc = member_file_add(s, mf, inner[j], MEMBER_REACHED, (int)f, named);
            }
            for (size_t j = 0; j < k; j++)
                free(inner[j]);
            free(inner);
        }
        from = level_end;
        level_end = mf->n;
    }
    return rc;
}

/* Whether a directory of one of targets is named name[0..len). */
static bool a_directory_of(char *const *targets, size_t n, const char *name, size_t len) {
    for (size_t i = 0; i < n; i++)
        for (const char *p = targets[i], *q; (q = strchr(p, '/')); p = q + 1)
            if ((size_t)(q - p) == len && !memcmp(p, name, len))
                return true;
    return false;
}

/* Whether want, a Go import path none of the current file's imports
 * (targets) matches, names the module's root package: a remote path
 * (`github.com/x/y/v5`: a dot in its first element) none of whose other
 * elements is a directory of those imports (as `format` of
 * `github.com/x/y/v5/format/x` is).  The root's files are the imported Go
 * files at the collection's root, which no tail of the path spells. */
static bool go_root_named(const char *want, char *const *targets, size_t n) {
    const char *dot = strchr(want, '.'), *slash = strchr(want, '/');
    if (!dot || !slash || dot > slash)
        return false;
    for (const char *p = slash + 1; *p;) {
        size_t len = strcspn(p, "/");
        if (len && a_directory_of(targets, n, p, len))
            return false;
        p += len + (p[len] == '/');
    }
    return true;
}

static bool go_root_file(const char *target) {
    size_t n = strlen(target);
    return !strchr(target, '/') && n > 3 && !strcmp(target + n - 3, ".go") &&
           !(n > 8 && !strcmp(target + n - 8, "_test.go"));
}

/* Adds the targets that want names (and, for a package's own file or a
 * Python module, what it re-exports).  The current file's imports (when
 * imported) name a Go module's root package when nothing else does. */
static int module_match_targets(search_t *s, member_files_t *mf, char **targets, size_t n,
                                const char *want, bool anchored, bool imported) {
    int rc = 0;
    bool named = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool package = false;
        if (!module_matches(targets[i], want, anchored, imported, &package))
            continue;
        named = true;
        size_t first = mf->n;
        rc = member_file_add(s, mf, targets[i], 1.0, -1, NULL);
        /* A package's own file re-exports what it imports; so does any
         * Python module (what it imports is an attribute of it). */
        size_t len = strlen(targets[i]);
        bool python = len > 3 && !strcmp(targets[i] + len - 3, ".py");
        if (rc == 0 && (package || python) && mf->n > first)
            rc = reexports_add(s, mf, first);
    }
    if (rc == 0 && imported && !named && go_root_named(want, targets, n))
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (go_root_file(targets[i]))
                rc = member_file_add(s, mf, targets[i], 1.0, -1, NULL);
    return rc;
}

static void targets_free(char **targets, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(targets[i]);
    free(targets);
}

/* Java, Kotlin: a bare name may be a class of a package the file imports
 * whole (`import pkg.*;`), which the graph holds as every file of it.  A
 * directory is taken for such an import when the file imports each of the
 * files this shard holds of it (two at least), and those join mf at MEMBER_REACHED,
 * as reached through a package; a class imported by its own name is the
 * fusion's imported name, not a member. */
static bool in_dir(const char *path, const char *dir, size_t len) {
    return !strncmp(path, dir, len) && path[len] == '/' && !strchr(path + len + 1, '/');
}

static int wildcard_files(search_t *s, member_files_t *mf) {
    char **targets = NULL;
    size_t n = 0;
    int rc = imports_of(s, s->q->path, &targets, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *slash = strrchr(targets[i], '/');
        size_t dir = slash ? (size_t)(slash - targets[i]) : 0;
        bool seen = false; /* a directory is judged once, at its first target */
        for (size_t j = 0; j < i && !seen; j++)
            seen = in_dir(targets[j], targets[i], dir);
        if (!dir || seen || same_dir(s->q->path, targets[i]))
            continue;
        long here = 0, imported = 0; /* files of it on this shard; of those, imported */
        for (size_t j = i; rc == 0 && j < n; j++) {
            int64_t id = 0;
            if (in_dir(targets[j], targets[i], dir))
                rc = file_id(s, targets[j], "reading member files", &id);
            imported += id != 0;
        }
        sqlite3_stmt *st = rc == 0 ? store_view_stmt(&s->view, SQL_FILES_IN_DIR) : NULL;
        if (rc == 0 && !st)
            rc = db_fail(s, "reading member files");
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, s->view.collection_id);
        sqlite3_bind_text(st, 2, targets[i], (int)dir, SQLITE_STATIC);
        here = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (imported < 2 || imported != here)
            continue;
        for (size_t j = i; rc == 0 && j < n; j++)
            if (in_dir(targets[j], targets[i], dir))
                rc = member_file_add(s, mf, targets[j], MEMBER_REACHED, -1, NULL);
    }
    targets_free(targets, n);
    return rc;
}

/* The files of the module the receiver names: among what the current file
 * imports when the graph knows it, else (or when none of those is it)
 * among the files of this shard named like it.  A Rust path that starts
 * with a crate's own name (tests, examples, the crates of a workspace) is
 * tried without it too. */
static int module_files(search_t *s, member_files_t *mf) {
    const search_member_t *m = &s->q->member;
    char want[1024];
    bool anchored;
    if (!m->module || !spec_path(s->q->path, m->module, m->member_of, want, sizeof want, &anchored))
        return 0;
    const char *tail = m->module && strstr(m->module, "::") ? strchr(want, '/') : NULL;
    const char *wants[2] = {want, tail ? tail + 1 : NULL};
    int rc = 0;
    for (int source = 0; source < 2 && rc == 0 && mf->n == 0; source++) {
        char **targets = NULL;
        size_t n = 0;
        if (source == 0 && s->q->path && *s->q->path)
            rc = imports_of(s, s->q->path, &targets, &n);
        for (int w = 0; w < 2 && rc == 0 && mf->n == 0 && wants[w]; w++) {
            if (source == 1) {
                targets_free(targets, n);
                targets = NULL;
                n = 0;
                rc = files_by_stem(s, wants[w], &targets, &n);
            }
            if (rc == 0)
                rc = module_match_targets(s, mf, targets, n, wants[w], anchored, source == 0);
        }
        targets_free(targets, n);
    }
    lang_id_t lang = s->q->path ? lang_detect(s->q->path, NULL, 0) : LANG_UNKNOWN;
    if (rc == 0 && !strcmp(m->module, ".") && (lang == LANG_JAVA || lang == LANG_KOTLIN))
        rc = wildcard_files(s, mf);
    return rc;
}

static bool word_in(const search_member_t *m, const char *name) {
    char folded[256];
    ident_fold(name, folded, sizeof folded);
    for (size_t i = 0; i < m->hint_count; i++)
        if (!strcmp(m->hints[i], folded))
            return true;
    return false;
}

static int partial_of(const search_member_t *m, const char *name) {
    if (!m->partial || !*m->partial)
        return 0;
    size_t n = strlen(m->partial);
    for (size_t i = 0; i < n; i++) {
        char a = name[i], b = m->partial[i];
        if (!a)
            return -1;
        if ((a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) !=
            (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b))
            return -1;
    }
    return 1;
}

/* Records that chunk id defines member `name` of the receiver, with weight
 * and how often the repository (and the current file's neighbours) reach
 * it. */
static int member_note(search_t *s, int64_t id, const char *name, double weight, long uses,
                       long near) {
    candidate_t *c = candidate_get(s, id);
    if (!c)
        return fail(s, -ENOMEM, "out of memory");
    const search_member_t *m = &s->q->member;
    int partial = partial_of(m, name);
    bool hint = word_in(m, name) || (s->returns[0] && !strcmp(name, s->returns));
    double line = subword_share(m->line_words, m->line_word_count, true, name);
    /* The chunk's best member: what is typed first, then named after the
     * cursor, then by the words of its line, then reached most. */
    bool better =
        c->member == 0 || partial > c->member_partial ||
        (partial == c->member_partial && hint > c->member_hint) ||
        (partial == c->member_partial && hint == c->member_hint && line > c->member_line) ||
        (partial == c->member_partial && hint == c->member_hint && line == c->member_line &&
         uses > c->member_uses);
    if (weight > c->member)
        c->member = weight;
    if (better) {
        c->member_partial = partial;
        c->member_hint = hint;
        c->member_uses = uses;
        c->member_near = near;
        c->member_words = subword_share(m->words, m->word_count, false, name);
        c->member_line = line;
        size_t n = strlen(name);
        if (n < sizeof c->member_name)
            memcpy(c->member_name, name, n + 1);
        else
            c->member_name[0] = '\0';
    }
    return 0;
}

/* How often the repository, and the files beside the current file, reach
 * each name of one target: read once per target with one query, then
 * looked up (a module has hundreds of members). */
typedef struct {
    long uses, near, here; /* the repository's uses, its neighbours', the current file's */
} tally_t;

typedef struct {
    map_t *by_name; /* "target\0name" -> tally_t * */
    map_t *read;    /* targets read already */
} tallies_t;

static void tally_free(const void *key, size_t len, void *value, void *arg) {
    (void)key, (void)len, (void)arg;
    free(value);
}

static void tallies_free(tallies_t *t) {
    if (t->by_name)
        map_each(t->by_name, tally_free, NULL);
    map_destroy(&t->by_name);
    map_destroy(&t->read);
}

static int tallies_read(search_t *s, tallies_t *t, const char *target) {
    if (!t->by_name && !(t->by_name = map_new()))
        return fail(s, -ENOMEM, "out of memory");
    if (!t->read && !(t->read = map_new()))
        return fail(s, -ENOMEM, "out of memory");
    if (map_get(t->read, target, strlen(target)))
        return 0;
    if (map_put(t->read, target, strlen(target), (void *)1) != 0)
        return fail(s, -ENOMEM, "out of memory");
    const char *path = s->q->path ? s->q->path : "";
    int dir = (int)dir_len(path); /* with its slash; 0 at the root */
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_REFS_TO);
    if (!st)
        return db_fail(s, "reading references");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, *path ? dir : -1); /* no current file: no neighbours */
    sqlite3_bind_text(st, 4, path, dir, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
    int rc = 0;
    char key[1024];
    size_t tl = strlen(target);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t nl = name ? strlen(name) : 0;
        if (!name || tl + nl + 1 > sizeof key)
            continue;
        memcpy(key, target, tl + 1);
        memcpy(key + tl + 1, name, nl);
        tally_t *v = malloc(sizeof *v);
        if (!v || map_put(t->by_name, key, tl + 1 + nl, v) != 0) {
            free(v);
            rc = fail(s, -ENOMEM, "out of memory");
            break;
        }
        v->uses = (long)sqlite3_column_int64(st, 1);
        v->near = (long)sqlite3_column_int64(st, 2);
        v->here = (long)sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return rc;
}

/* The tally of name of target (zeros when nothing reaches it). */
static tally_t tally_of(search_t *s, tallies_t *t, const char *target, const char *name) {
    tally_t none = {0, 0, 0};
    if (tallies_read(s, t, target) != 0)
        return none;
    char key[1024];
    size_t tl = strlen(target), nl = strlen(name);
    if (tl + nl + 1 > sizeof key)
        return none;
    memcpy(key, target, tl + 1);
    memcpy(key + tl + 1, name, nl);
    const tally_t *v = map_get(t->by_name, key, tl + 1 + nl);
    return v ? *v : none;
}

/* How often the files of the current file's directory (not the file
 * itself, not its subdirectories) reach name of target. */
static long refs_near(search_t *s, const char *target, const char *name) {
    const char *path = s->q->path;
    if (!path || !*path)
        return 0;
    int dir = (int)dir_len(path); /* with its slash ("" at the root) */
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_REFS_NEAR);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, dir);
    sqlite3_bind_text(st, 5, path, dir, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, path, -1, SQLITE_STATIC);
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

static long refs_of(search_t *s, const char *target, const char *name) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_REFS_OF);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

static const char SQL_USES_OF[] = "SELECT count FROM uses WHERE collection = ? AND name = ?";

/* How many chunks of this shard use name (len bytes, -1: up to its NUL): what a bare name is
 * reached by (a Go package's own names are written unqualified, so the reference index, which
 * counts `x.name`, does not see them). */
static long name_uses(search_t *s, const char *name, int len) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_USES_OF);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, name, len, SQLITE_STATIC);
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

/* How many chunks of this shard write name right after keyword (`throws
 * EvalError`, `catch (IOException`): an FTS5 phrase of the two tokens, the
 * name folded as the index folds a whole identifier; with keyword "("
 * (a parameter's place), how many write name. */
static long place_uses(search_t *s, const char *keyword, const char *name) {
    char phrase[2 * CURSOR_NAME_MAX + 32];
    /* a place without a keyword (a parameter's, "("): chunks that write it */
    bool word = (*keyword >= 'a' && *keyword <= 'z') || (*keyword >= 'A' && *keyword <= 'Z');
    int at = snprintf(phrase, sizeof phrase, "body : \"%s%s", word ? keyword : "", word ? " " : "");
    if (at < 0 || (size_t)at >= sizeof phrase || strchr(keyword, '"'))
        return 0;
    for (const char *p = name; *p && (size_t)at + 2 < sizeof phrase; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            phrase[at++] = *p;
        else if (*p >= 'A' && *p <= 'Z')
            phrase[at++] = (char)(*p - 'A' + 'a');
    phrase[at++] = '"';
    phrase[at] = '\0';
    if (!s->place) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s MATCH ?", s->view.fts,
                 s->view.fts);
        if (sqlite3_prepare_v2(s->view.db, sql, -1, &s->place, NULL) != SQLITE_OK) {
            sqlite3_finalize(s->place);
            s->place = NULL;
            return 0;
        }
    }
    sqlite3_bind_text(s->place, 1, phrase, at, SQLITE_STATIC);
    long n = sqlite3_step(s->place) == SQLITE_ROW ? (long)sqlite3_column_int64(s->place, 0) : 0;
    sqlite3_reset(s->place);
    return n;
}

/* ---- the slot ---- */

static const char SQL_CHUNK_TEXT[] = "SELECT text FROM chunks WHERE id = ?";

typedef struct {
    slot_name_t *table; /* SLOT_TABLE entries, open addressing; name "" empty */
    size_t used;
} slot_count_t;

static void slot_note(const char *name, size_t len, double weight, void *arg) {
    slot_count_t *c = arg;
    if (len >= LEXEME_MAX)
        return;
    size_t i = (size_t)hash_bytes(name, len) & (SLOT_TABLE - 1);
    for (; c->table[i].name[0]; i = (i + 1) & (SLOT_TABLE - 1))
        if (!memcmp(c->table[i].name, name, len) && !c->table[i].name[len]) {
            c->table[i].weight += weight;
            return;
        }
    if (4 * (c->used + 1) > 3 * SLOT_TABLE)
        return; /* full enough: a name not counted yet stays so */
    memcpy(c->table[i].name, name, len);
    c->table[i].name[len] = '\0';
    c->table[i].weight = weight;
    c->used++;
}

/* The anchor to look for: of the query's, the one the fewest chunks of
 * this shard write (but some do); its index, -1 when none is written, and
 * folded as the index folds a whole identifier into folded.  An anchor
 * that is no identifier is none (it goes into an FTS5 query). */
static int slot_anchor(search_t *s, char folded[LEXEME_MAX]) {
    long best = 0;
    int at = -1;
    for (size_t i = 0; i < s->q->anchor_count && i < LEXEME_ANCHORS; i++) {
        char f[LEXEME_MAX];
        const char *a = s->q->anchors[i];
        size_t len = strlen(a);
        size_t n = len < LEXEME_MAX && lexeme_is_name(a, len) ? ident_fold(a, f, sizeof f) : 0;
        long df = n ? term_df(s, f, n) : 0;
        if (df > 0 && (best == 0 || df < best)) {
            best = df;
            at = (int)i;
            memcpy(folded, f, n + 1);
        }
    }
    return at;
}

/* What this shard's chunks write in the cursor's slot: reads SLOT_CHUNKS
 * chunks that write the anchor and counts the names standing between the
 * slot's tokens, on the lines that write it (lexeme_slot_scan_near), into
 * s->slot. */
static int signal_slot(search_t *s) {
    const search_query_t *q = s->q;
    char anchor[LEXEME_MAX];
    int which = q->slot ? slot_anchor(s, anchor) : -1;
    if (which < 0)
        return 0;
    lexeme_slot_t slot = {0};
    for (int k = 0; k < LEXEME_BEFORE + LEXEME_AFTER; k++) {
        char *to = k < LEXEME_BEFORE ? slot.before[k] : slot.after[k - LEXEME_BEFORE];
        if (strlen(q->slot[k]) < LEXEME_MAX)
            strcpy(to, q->slot[k]);
    }
    char sql[160], match[LEXEME_MAX + 16];
    snprintf(sql, sizeof sql, "SELECT rowid FROM %s WHERE %s MATCH ? LIMIT %d", s->view.fts,
             s->view.fts, SLOT_CHUNKS);
    snprintf(match, sizeof match, "body : \"%s\"", anchor);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->view.db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return db_fail(s, "reading the cursor's slot");
    }
    slot_count_t count = {calloc(SLOT_TABLE, sizeof *count.table), 0};
    if (!count.table) {
        sqlite3_finalize(st);
        return fail(s, -ENOMEM, "out of memory");
    }
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_stmt *text = store_view_stmt(&s->view, SQL_CHUNK_TEXT);
        if (!text) {
            rc = db_fail(s, "reading the cursor's slot");
            break;
        }
        sqlite3_bind_int64(text, 1, sqlite3_column_int64(st, 0));
        if (sqlite3_step(text) == SQLITE_ROW)
            s->slot_total += lexeme_slot_scan_near(
                &slot, q->anchors[which], (const char *)sqlite3_column_text(text, 0),
                (size_t)sqlite3_column_bytes(text, 0), slot_note, &count);
        sqlite3_reset(text);
    }
    sqlite3_finalize(st);
    /* the heaviest SLOT_NAMES, heaviest first */
    for (size_t i = 0; rc == 0 && i < SLOT_TABLE; i++) {
        const slot_name_t *e = &count.table[i];
        if (!e->name[0])
            continue;
        size_t at = s->nslot < SLOT_NAMES ? s->nslot++ : SLOT_NAMES;
        while (at > 0 && s->slot[at - 1].weight < e->weight) {
            if (at < SLOT_NAMES)
                s->slot[at] = s->slot[at - 1];
            at--;
        }
        if (at < SLOT_NAMES)
            s->slot[at] = *e;
    }
    free(count.table);
    return rc;
}

/* Where the component `component` (a directory's name) of path starts: the
 * length of its parent's path with the slash, -1 when path has none. */
static long component_at(const char *path, const char *component) {
    size_t n = strlen(component);
    for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
        if (!strncmp(p, component, n) && p[n] == '/')
            return (long)(p - path);
    return -1;
}

/* Whether a Rust item of path with reach r can be named from the current
 * file: a private one from its module and the modules inside it (mod.rs,
 * lib.rs and main.rs are their directory's module; x.rs is x/), a
 * pub(crate) one from its crate's src/ (what comes before src/ names the
 * crate; tests/, benches/ and examples/ are crates of their own). */
static bool rust_reaches(const char *current, const char *path, signature_reach_t r) {
    if (r == SIGNATURE_PUBLIC || !strcmp(current, path))
        return true;
    if (r == SIGNATURE_CRATE) {
        long crate = component_at(path, "src");
        return crate < 0 ||
               (component_at(current, "src") == crate && !strncmp(current, path, (size_t)crate));
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, "mod.rs") || !strcmp(base, "lib.rs") || !strcmp(base, "main.rs"))
        return !strncmp(current, path, (size_t)(base - path));
    size_t module = strlen(path) - 3; /* x.rs: x/ */
    return !strncmp(current, path, module) && current[module] == '/';
}

/* Whether the current file may name member `name` of file path, defined in
 * chunk id (whose text is read only for Rust): a Go package exports only
 * the names that start upper-case, a Rust item reaches as far as its `pub`
 * says (see rust_reaches). */
static bool member_visible(search_t *s, const char *path, int64_t id, const char *name) {
    const char *current = s->q->path;
    if (!current || !*current || !path)
        return true;
    size_t n = strlen(path);
    if (n > 3 && !strcmp(path + n - 3, ".go"))
        return !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_') || same_dir(path, current);
    sqlite3_stmt *st;
    if (n <= 3 || strcmp(path + n - 3, ".rs") != 0 ||
        !(st = store_view_stmt(&s->view, SQL_CHUNK_TEXT)))
        return true;
    sqlite3_bind_int64(st, 1, id);
    bool visible = true;
    signature_t sig;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        if (text &&
            signature_find(text, (size_t)sqlite3_column_bytes(st, 0), name, strlen(name), &sig))
            visible = rust_reaches(current, path, signature_rust_reach(text + sig.at, sig.len));
    }
    sqlite3_reset(st);
    return visible;
}

/* The top-level definitions of a name: chunk, path, text (at most ?3). */
static const char SQL_TOP_LEVEL_DEFS[] =
    "SELECT s.chunk, f.path, c.text FROM symbols s JOIN chunks c ON c.id = s.chunk"
    " JOIN files f ON f.id = c.file"
    " WHERE s.collection = ?1 AND s.name = ?2 AND s.scope = '' LIMIT ?3";

/* SQL_TOP_LEVEL_DEFS bound for name, at most limit rows (NULL when the
 * store fails: db_fail says why). */
static sqlite3_stmt *top_level_defs(search_t *s, const char *name, int limit) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_TOP_LEVEL_DEFS);
    if (st) {
        sqlite3_bind_int64(st, 1, s->view.collection_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, limit);
    }
    return st;
}

/* How often the repository reaches name of the file at path: as a member
 * of that file itself, or of the module the receiver names (a package
 * re-exporting it, weight 1). */
static void member_tally(search_t *s, tallies_t *tallies, const member_files_t *mf,
                         const char *path, const char *name, long *uses, long *near, long *here) {
    tally_t own = tally_of(s, tallies, path, name);
    *uses = own.uses;
    *near = own.near;
    *here = own.here;
    for (size_t t = 0; t < mf->n; t++)
        if (mf->files[t].weight >= 1.0 && strcmp(mf->files[t].path, path) != 0) {
            tally_t via = tally_of(s, tallies, mf->files[t].path, name);
            *uses += via.uses;
            *near += via.near;
            *here += via.here;
        }
}

/* Notes that member `name` of member file f was noted: which file defines
 * the chunk's member, and one more of f's members the current file uses
 * when it does. */
static void member_of_file(search_t *s, int64_t id, size_t f, long here, long *file_here) {
    candidate_t *c = candidate_get(s, id);
    if (c && !c->member_file_at)
        c->member_file_at = f + 1;
    if (here > 0)
        file_here[f]++;
}

/* Whether name of file path was noted already; notes it.  A name defined
 * in several chunks of one file (a Rust type and its `impl` blocks) is
 * offered by its first, the definition itself. */
static bool noted_before(search_t *s, map_t *noted, const char *path, const char *name) {
    char key[1024];
    int n = snprintf(key, sizeof key, "%s%c%s", path, '\0', name);
    if (n < 0 || (size_t)n >= sizeof key)
        return false;
    if (map_get(noted, key, (size_t)n))
        return true;
    if (map_put(noted, key, (size_t)n, (void *)1) != 0)
        fail(s, -ENOMEM, "out of memory");
    return false;
}

/* The weight of member name of file f: a file reached through a package
 * that names some of its members (`from .x import a`, `pub use x::a`)
 * offers those as the module's own, the rest below its other files'. */
static double member_weight(const member_files_t *mf, size_t f, const map_t *named,
                            const char *name) {
    if (!named)
        return mf->files[f].weight;
    return map_get(named, name, strlen(name)) ? 1.0 : mf->files[f].weight / 2;
}

/* Notes the top-level definitions of name in the member files: as the
 * receiver's own (weight 1) when root is NULL, else at their file's weight,
 * or at a re-export's (MEMBER_REACHED) in a file under root[0..root_len) (a directory) that the
 * member files did not reach; in a file reached for some names, those at
 * full weight, the rest at half (member_weight: tokio's `use
 * mocks::spawn_blocking` does not make the mock File's `metadata` one of
 * `tokio::fs::`). */
static int member_by_name(search_t *s, const member_files_t *mf, const map_t *const *named,
                          const char *name, const char *root, size_t root_len, tallies_t *tallies,
                          map_t *noted, size_t *found, long *file_here) {
    sqlite3_stmt *defs = top_level_defs(s, name, 16);
    if (!defs)
        return db_fail(s, "reading definitions");
    int rc = 0;
    while (rc == 0 && sqlite3_step(defs) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(defs, 1);
        int64_t id = sqlite3_column_int64(defs, 0);
        size_t f = 0;
        while (path && f < mf->n && strcmp(mf->files[f].path, path) != 0)
            f++;
        bool under = root && path && f == mf->n && !strncmp(path, root, root_len) &&
                     !(s->q->path && !strcmp(path, s->q->path));
        if (!path || (f == mf->n && !under) || !member_visible(s, path, id, name) ||
            noted_before(s, noted, path, name))
            continue;
        long uses, near, here;
        member_tally(s, tallies, mf, path, name, &uses, &near, &here);
        double weight = under      ? MEMBER_REACHED
                        : named[f] ? member_weight(mf, f, named[f], name)
                        : root     ? mf->files[f].weight
                                   : 1.0;
        rc = member_note(s, id, name, weight, uses, near);
        if (!under)
            member_of_file(s, id, f, here, file_here);
        ++*found;
    }
    sqlite3_reset(defs);
    return rc;
}

/* The members the repository already reaches through the receiver's own
 * files (`nx.path_graph` counts against networkx/__init__.py), found by
 * name among the member files before any other: a package re-exporting
 * thousands of names has its used ones offered whatever the caps. */
static int used_members(search_t *s, const member_files_t *mf, const map_t *const *named,
                        tallies_t *tallies, map_t *noted, size_t *found, long *file_here) {
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < mf->n; r++) {
        if (mf->files[r].weight < 1.0 || tallies_read(s, tallies, mf->files[r].path) != 0)
            continue;
        sqlite3_stmt *refs = store_view_stmt(&s->view, SQL_REFS_TO);
        if (!refs)
            return db_fail(s, "reading references");
        sqlite3_bind_int64(refs, 1, s->view.collection_id);
        sqlite3_bind_text(refs, 2, mf->files[r].path, -1, SQLITE_STATIC);
        sqlite3_bind_int(refs, 3, -1);
        sqlite3_bind_text(refs, 4, "", 0, SQLITE_STATIC);
        sqlite3_bind_text(refs, 5, s->q->path ? s->q->path : "", -1, SQLITE_STATIC);
        char **names = NULL;
        size_t n = 0;
        /* what the current file uses of it first, then the most used:
         * networkx's `nx.` reaches a thousand names, and in name order
         * `path_graph` came after the cut; by use alone, a test's own
         * `nx.max_flow_min_cost` did */
        while (rc == 0 && n < MAX_USED_NAMES && sqlite3_step(refs) == SQLITE_ROW) {
            char **grown = realloc(names, (n + 1) * sizeof *grown);
            char *name = grown ? strdup((const char *)sqlite3_column_text(refs, 0)) : NULL;
            if (grown)
                names = grown;
            if (!name)
                rc = fail(s, -ENOMEM, "out of memory");
            else
                names[n++] = name;
        }
        sqlite3_reset(refs);
        for (size_t i = 0; rc == 0 && i < n && *found < MAX_MEMBER_CHUNKS; i++)
            rc = member_by_name(s, mf, named, names[i], NULL, 0, tallies, noted, found, file_here);
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
    }
    return rc;
}

/* The members of a package that the name the cursor's statement sets
 * outside any function (`export const splitWhere: ... = internal.⟨`), or
 * the name of the function it is in, spells whole: a wrapper's (`def
 * goldberg_radzik(...)`), a test's after
 * its `test` (`test_grid_2d_graph`, `TestReadUint16`, `testFoo`: also
 * `foo`), found by name anywhere in the package's tree whatever the caps:
 * networkx's `nx.` reaches a thousand names through more files than are
 * read.  Last, so that what the other ways noted keeps their weights. */
static int spelled_members(search_t *s, const member_files_t *mf, const map_t *const *named,
                           tallies_t *tallies, map_t *noted, size_t *found, long *file_here) {
    const char *within = s->q->member.within, *declared = s->q->member.declared;
    size_t len = within ? strlen(within) : 0, dlen = declared ? strlen(declared) : 0;
    if ((!len && !dlen) || len >= CURSOR_NAME_MAX || dlen >= CURSOR_NAME_MAX || !mf->n ||
        !package_file(mf->files[0].path))
        return 0;
    /* the package's tree: its own file's directory */
    const char *root = mf->files[0].path;
    size_t root_len = dir_len(root);
    char names[4][CURSOR_NAME_MAX];
    size_t n = 0;
    if (dlen)
        memcpy(names[n++], declared, dlen + 1);
    if (len)
        memcpy(names[n++], within, len + 1);
    const char *rest = len ? subword_after_test(within) : NULL;
    if (rest) {
        memcpy(names[n++], rest, strlen(rest) + 1);
        if (rest[0] >= 'A' && rest[0] <= 'Z') {
            memcpy(names[n], rest, strlen(rest) + 1);
            names[n++][0] = (char)(rest[0] - 'A' + 'a');
        }
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = member_by_name(s, mf, named, names[i], root, root_len, tallies, noted, found,
                            file_here);
    return rc;
}

static const char SQL_REFS_FROM[] =
    "SELECT name FROM refs WHERE collection = ?1 AND path = ?2 AND target = ?3";

/* The names file `from` reaches of file `target` (what a package imports by
 * name from one of its modules is its public face): a set, NULL when none. */
static int names_reached(search_t *s, const char *from, const char *target, map_t **out) {
    *out = NULL;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_REFS_FROM);
    if (!st)
        return db_fail(s, "reading references");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!name)
            continue;
        if ((!*out && !(*out = map_new())) || map_put(*out, name, strlen(name), (void *)1) != 0)
            rc = fail(s, -ENOMEM, "out of memory");
    }
    sqlite3_reset(st);
    return rc;
}

/* Whether symbols (a chunk's) hold name as a member of a scope as well
 * (`Cart.total` beside `total`): a field or method, not the module's. */
static bool scoped_in(const cJSON *symbols, const char *name) {
    size_t n = strlen(name);
    const cJSON *e;
    cJSON_ArrayForEach(e, symbols) {
        if (!cJSON_IsString(e))
            continue;
        if (ident_member_of_scope(e->valuestring, name, n))
            return true;
    }
    return false;
}

/* At a type's place, the classes the code around the cursor names (the
 * file's imports first) are as likely as the package's own: their
 * top-level definitions on this shard join the members, ranked by the
 * same count of that place. */
static int place_symbols(search_t *s, map_t *noted, size_t *found) {
    for (size_t i = 0; i < s->q->symbol_count && i < MAX_SYMBOLS; i++) {
        const char *name = s->q->symbols[i];
        if (!(name[0] >= 'A' && name[0] <= 'Z') || strpbrk(name, ".:#/"))
            continue;
        sqlite3_stmt *st = top_level_defs(s, name, 4);
        if (!st)
            return db_fail(s, "reading a type's definition");
        int rc = 0;
        while (rc == 0 && *found < MAX_MEMBER_CHUNKS && sqlite3_step(st) == SQLITE_ROW) {
            const char *path = (const char *)sqlite3_column_text(st, 1);
            if (noted_before(s, noted, path, name))
                continue;
            rc = member_note(s, sqlite3_column_int64(st, 0), name, 1.0,
                             place_uses(s, s->q->member.after, name), 0);
            ++*found;
        }
        sqlite3_reset(st);
        if (rc)
            return rc;
    }
    return 0;
}

/* What module_members gathers as it goes. */
typedef struct {
    tallies_t tallies;
    map_t *noted;
    size_t found;
    bool own_package;
    long file_here[MAX_MEMBER_FILES]; /* per member file: its members the current file uses */
} members_acc_t;

/* Notes the members of member file f whose weight is 1 (primary) or below;
 * named: the names the package it was reached through names (see
 * member_weight). */
static int file_members(search_t *s, const member_files_t *mf, size_t f, const map_t *named,
                        bool primary, members_acc_t *acc) {
    int rc = 0;
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CHUNK_SYMBOLS);
    if (!st)
        return db_fail(s, "reading a module's members");
    sqlite3_bind_int64(st, 1, mf->files[f].file);
    while (rc == 0 && acc->found < MAX_MEMBER_CHUNKS && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *symbols = cJSON_ParseWithLength((const char *)sqlite3_column_text(st, 1),
                                               (size_t)sqlite3_column_bytes(st, 1));
        const cJSON *e;
        cJSON_ArrayForEach(e, symbols) {
            if (!cJSON_IsString(e) || strpbrk(e->valuestring, ".:#/") ||
                scoped_in(symbols, e->valuestring))
                continue; /* `Class.method` is not the module's, nor is its `method` */
            double weight = member_weight(mf, f, named, e->valuestring);
            if ((weight >= 1.0) != primary ||
                !member_visible(s, mf->files[f].path, sqlite3_column_int64(st, 0),
                                e->valuestring) ||
                noted_before(s, acc->noted, mf->files[f].path, e->valuestring))
                continue;
            /* reached as a member of its own file, or of the module the
             * receiver names when that is a package re-exporting it */
            long uses, near, here;
            member_tally(s, &acc->tallies, mf, mf->files[f].path, e->valuestring, &uses, &near,
                         &here);
            if (acc->own_package && s->q->member.after)
                uses = place_uses(s, s->q->member.after, e->valuestring);
            else if (acc->own_package)
                uses += name_uses(s, e->valuestring, -1);
            if ((rc = member_note(s, sqlite3_column_int64(st, 0), e->valuestring, weight, uses,
                                  near)) != 0)
                break;
            member_of_file(s, sqlite3_column_int64(st, 0), f, here, acc->file_here);
            acc->found++;
        }
        cJSON_Delete(symbols);
    }
    sqlite3_reset(st);
    return rc;
}

static int module_members(search_t *s, member_files_t *mf) {
    members_acc_t acc = {.own_package = s->q->member.module && !strcmp(s->q->member.module, "."),
                         .noted = map_new()};
    if (!acc.noted)
        return fail(s, -ENOMEM, "out of memory");
    const map_t *named[MAX_MEMBER_FILES] = {NULL};
    int rc = 0;
    for (size_t f = 0; rc == 0 && f < mf->n; f++)
        if (mf->files[f].file)
            rc = member_named(s, mf, f, &named[f]);
    if (rc == 0)
        rc = used_members(s, mf, named, &acc.tallies, acc.noted, &acc.found, acc.file_here);
    /* The module's own members first (weight 1: its files', and those a
     * package names as it re-exports them), then the rest of what it
     * reaches while the budget lasts: `crate::runtime::` reaches hundreds
     * of tokio's names, and `pub use runtime::Runtime` must be among them.
     * A file reached below weight 1 with no names named has none of the
     * first. */
    for (int primary = 1; primary >= 0; primary--)
        for (size_t f = 0; rc == 0 && f < mf->n && acc.found < MAX_MEMBER_CHUNKS; f++)
            if (mf->files[f].file && /* else another shard's */
                (!primary || mf->files[f].weight >= 1.0 || named[f]))
                rc = file_members(s, mf, f, named[f], primary, &acc);
    if (rc == 0)
        rc = spelled_members(s, mf, named, &acc.tallies, acc.noted, &acc.found, acc.file_here);
    if (rc == 0 && acc.own_package && s->q->member.after)
        rc = place_symbols(s, acc.noted, &acc.found);
    /* each member: how many of its file's members the current file uses */
    for (size_t i = 0; rc == 0 && i < s->ncands; i++)
        if (s->cands[i].member_file_at)
            s->cands[i].member_file = acc.file_here[s->cands[i].member_file_at - 1];
    tallies_free(&acc.tallies);
    map_destroy(&acc.noted);
    return rc;
}

/* Whether the directory of path is the package module names: the current
 * file's own (module NULL or "") or a tail of an import path. */
static bool package_of(const char *path, const char *current, const char *module) {
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) : 0;
    if (!module || !*module)
        return same_dir(path, current);
    size_t m = strlen(module);
    return dir && m >= dir && !strncmp(module + m - dir, path, dir) &&
           (m == dir || module[m - dir - 1] == '/');
}

/* The class function call returns, from its definition on this shard (the
 * one in the package the call names first), into out. */
static bool call_type(search_t *s, const char *call, const char *module, char *out, size_t cap) {
    sqlite3_stmt *st = top_level_defs(s, call, 32);
    if (!st)
        return false;
    bool found = false, found_in_package = false;
    while (!found_in_package && sqlite3_step(st) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        char type[256];
        if (!text || !path ||
            !cursor_return_type(text, (size_t)sqlite3_column_bytes(st, 2), call, type, sizeof type))
            continue;
        bool in_package = package_of(path, s->q->path, module);
        if (!found || in_package) {
            snprintf(out, cap, "%s", type);
            found = true;
            found_in_package = in_package;
        }
    }
    sqlite3_reset(st);
    return found;
}

static const char SQL_DEFINITION_TEXTS[] =
    "SELECT c.text FROM symbols s JOIN chunks c ON c.id = s.chunk"
    " WHERE s.collection = ? AND s.name = ? LIMIT 16";

/* What a method named call returns, as a definition of it on this shard
 * declares before its name (Java, C#: `public Foo getFoo() {`), into out
 * ("" when none says). */
static int declared_type(search_t *s, const char *call, char *out, size_t cap) {
    out[0] = '\0';
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_DEFINITION_TEXTS);
    if (!st)
        return db_fail(s, "reading a method's definition");
    sqlite3_bind_int64(st, 1, s->view.collection_id);
    sqlite3_bind_text(st, 2, call, -1, SQLITE_STATIC);
    while (!out[0] && sqlite3_step(st) == SQLITE_ROW)
        cursor_declared_type((const char *)sqlite3_column_text(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0), call, out, cap);
    sqlite3_reset(st);
    return 0;
}

/* The classes whose members an object of class type has: type, the bases
 * the query names, and the bases their headers declare in the index, up
 * to BASE_DEPTH steps up and MAX_CLASSES classes; names[k] is weighed
 * weights[k].  Returns how many. */
static size_t class_lineage(search_t *s, const char *type, const char *const *bases,
                            size_t base_count, char names[][CURSOR_NAME_MAX], double *weights) {
    size_t n = 0;
    int depth[MAX_CLASSES];
    for (size_t k = 0; k <= base_count && n < MAX_CLASSES; k++) {
        const char *cls = k == 0 ? type : bases[k - 1];
        size_t len = cls ? strlen(cls) : 0;
        bool seen = len == 0 || len >= CURSOR_NAME_MAX;
        for (size_t j = 0; j < n && !seen; j++)
            seen = !strcmp(names[j], cls);
        if (seen)
            continue;
        memcpy(names[n], cls, len + 1);
        depth[n] = k > 0;
        weights[n++] = k == 0 ? 1.0 : MEMBER_REACHED;
    }
    for (size_t i = 0; i < n && n < MAX_CLASSES; i++) {
        if (depth[i] >= BASE_DEPTH)
            continue;
        sqlite3_stmt *st = top_level_defs(s, names[i], 4);
        if (!st)
            break;
        while (n < MAX_CLASSES && sqlite3_step(st) == SQLITE_ROW) {
            const char *path = (const char *)sqlite3_column_text(st, 1);
            const char *text = (const char *)sqlite3_column_text(st, 2);
            char found[CURSOR_BASES_MAX][CURSOR_NAME_MAX];
            int m = cursor_class_bases(lang_detect(path, NULL, 0), text,
                                       (size_t)sqlite3_column_bytes(st, 2), names[i], found);
            for (int b = 0; b < m && n < MAX_CLASSES; b++) {
                bool seen = false;
                for (size_t j = 0; j < n && !seen; j++)
                    seen = !strcmp(names[j], found[b]);
                if (seen)
                    continue;
                memcpy(names[n], found[b], CURSOR_NAME_MAX);
                depth[n] = depth[i] + 1;
                weights[n++] = depth[i] == 0 ? MEMBER_REACHED : 0.5;
            }
        }
        sqlite3_reset(st);
    }
    return n;
}

static bool member_file_of(const member_files_t *mf, const char *path) {
    for (size_t i = 0; mf && i < mf->n; i++)
        if (!strcmp(mf->files[i].path, path))
            return true;
    return false;
}

/* The members of class type and of its bases (see class_lineage), by the
 * scope of their symbols; mf: the files of the module the cursor names the
 * type's from, when it does. */
static int class_members(search_t *s, const char *type, const char *const *bases, size_t base_count,
                         const member_files_t *mf) {
    char names[MAX_CLASSES][CURSOR_NAME_MAX];
    double weights[MAX_CLASSES];
    size_t n = class_lineage(s, type, bases, base_count, names, weights);
    for (size_t k = 0; k < n && s->nlineage < MAX_CLASSES; k++)
        memcpy(s->lineage[s->nlineage++], names[k], sizeof names[k]);
    int rc = 0;
    size_t found = 0;
    for (size_t k = 0; rc == 0 && k < n && found < MAX_MEMBER_CHUNKS; k++) {
        sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CLASS_MEMBERS_AT);
        if (!st)
            return db_fail(s, "reading a class's members");
        sqlite3_bind_int64(st, 1, s->view.collection_id);
        sqlite3_bind_text(st, 2, names[k], -1, SQLITE_STATIC);
        while (rc == 0 && found < MAX_MEMBER_CHUNKS && sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 1);
            long uses = refs_of(s, "", name);
            int64_t id = sqlite3_column_int64(st, 0);
            rc = member_note(s, id, name, weights[k], uses, refs_near(s, "", name));
            /* several classes may share the name (tokio has a dozen
             * Handles): the fusion prefers the one in the module named,
             * else the one beside the current file */
            const char *path = (const char *)sqlite3_column_text(st, 2);
            int here = member_file_of(mf, path) ? 2 : same_dir(s->q->path, path) ? 1 : 0;
            candidate_t *c = rc == 0 && k == 0 ? candidate_get(s, id) : NULL;
            if (c && here > c->member_here)
                c->member_here = here;
            found++;
        }
        sqlite3_reset(st);
    }
    return rc;
}

/* ---- outlines ---- */

static const char SQL_CHUNK_ROW[] =
    "SELECT c.file, c.start_line, c.end_line, c.kind, c.symbols, c.text, f.path, f.language"
    " FROM chunks c JOIN files f ON f.id = c.file WHERE c.id = ?";
static const char SQL_CHUNK_FILE[] = "SELECT file FROM chunks WHERE id = ?";

typedef struct {
    int line, end; /* first and last line */
    char *text;
} sig_line_t;

static int sig_line_cmp(const void *a, const void *b) {
    const sig_line_t *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

/* Adds the signature of candidate c's member, read from its chunk row st,
 * to outline ol; lines and *nlines are its signatures so far, *chars their
 * size. */
static int outline_note(search_t *s, outline_t *ol, const candidate_t *c, sqlite3_stmt *st,
                        sig_line_t **lines, size_t *nlines, size_t *chars) {
    if (!ol->path) {
        ol->path = bytes_dup(sqlite3_column_text(st, 6), (size_t)sqlite3_column_bytes(st, 6));
        ol->language = bytes_dup(sqlite3_column_text(st, 7), (size_t)sqlite3_column_bytes(st, 7));
        if (!ol->path || !ol->language)
            return fail(s, -ENOMEM, "out of memory");
    }
    const char *text = (const char *)sqlite3_column_text(st, 5);
    signature_t sig;
    if (!signature_find(text, (size_t)sqlite3_column_bytes(st, 5), c->member_name,
                        strlen(c->member_name), &sig) ||
        *chars + sig.len + 1 > OUTLINE_CHARS)
        return 0;
    int line = (int)sqlite3_column_int64(st, 1) + sig.line;
    for (size_t k = 0; k < *nlines; k++)
        if ((*lines)[k].line == line)
            return 0; /* a chunk defining two members */
    sig_line_t *grown = realloc(*lines, (*nlines + 1) * sizeof *grown);
    if (!grown)
        return fail(s, -ENOMEM, "out of memory");
    *lines = grown;
    char *copy = bytes_dup(text + sig.at, sig.len);
    if (!copy)
        return fail(s, -ENOMEM, "out of memory");
    (*lines)[(*nlines)++] = (sig_line_t){line, line + sig.lines - 1, copy};
    *chars += sig.len + 1;
    ol->members++;
    return 0;
}

/* Renders outline ol's signatures in line order and frees them. */
static int outline_render(search_t *s, outline_t *ol, sig_line_t *lines, size_t n) {
    int rc = 0;
    if (n)
        qsort(lines, n, sizeof *lines, sig_line_cmp);
    for (size_t k = 0; k < n; k++) {
        if (rc == 0 && buf_printf(&ol->text, "%s%s", k ? "\n" : "", lines[k].text) != 0)
            rc = fail(s, -ENOMEM, "out of memory");
        free(lines[k].text);
    }
    if (n) {
        ol->first = lines[0].line;
        ol->last = lines[n - 1].end;
    }
    free(lines);
    return rc;
}

/* The file of chunk id, 0 when it has none. */
static int64_t chunk_file(search_t *s, int64_t id) {
    sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CHUNK_FILE);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, id);
    int64_t file = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return file;
}

/* When the receiver has several members and what is typed leaves several,
 * the model is served better by their signatures, a line or two each, than
 * by five of their bodies: it sees what it may call and with what.  The
 * OUTLINE_MEMBERS best-ranked members (order is the member ranking) are
 * grouped by file; the OUTLINE_FILES files holding two or more of them, the
 * best first, get an outline each (the receiver's, a base's, another file
 * of the module). */
static int build_outlines(search_t *s, const scored_t *order, size_t n) {
    const candidate_t *picked[OUTLINE_MEMBERS];
    int64_t files[OUTLINE_MEMBERS];
    size_t npicked = 0;
    for (size_t i = 0; i < n && npicked < OUTLINE_MEMBERS; i++) {
        const candidate_t *c =
            &s->cands[(uintptr_t)map_get_u64(s->by_id, (uint64_t)order[i].id) - 1];
        if (c->member_partial < 0)
            continue;
        if (c->member_name[0] && (files[npicked] = chunk_file(s, c->id)) != s->own_file)
            picked[npicked++] = c;
    }
    if (npicked < OUTLINE_MIN_MEMBERS)
        return 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < npicked && s->noutlines < OUTLINE_FILES; i++) {
        size_t same = 0;
        for (size_t j = 0; j < npicked; j++)
            same += files[j] == files[i];
        bool taken = false;
        for (size_t o = 0; o < s->noutlines && !taken; o++)
            taken = s->outlines[o].file == files[i];
        if (same < 2 || taken)
            continue;
        outline_t *ol = &s->outlines[s->noutlines++];
        *ol = (outline_t){.file = files[i], .best_id = picked[i]->id};
        sig_line_t *lines = NULL;
        size_t nlines = 0, chars = 0;
        for (size_t j = i; rc == 0 && j < npicked; j++) {
            if (files[j] != files[i])
                continue;
            sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CHUNK_ROW);
            if (!st) {
                rc = db_fail(s, "reading a member");
                break;
            }
            sqlite3_bind_int64(st, 1, picked[j]->id);
            if (sqlite3_step(st) == SQLITE_ROW)
                rc = outline_note(s, ol, picked[j], st, &lines, &nlines, &chars);
            sqlite3_reset(st);
        }
        int r = outline_render(s, ol, lines, nlines);
        rc = rc ? rc : r;
    }
    return rc;
}

static int signal_member(search_t *s) {
    const search_member_t *m = &s->q->member;
    int rc = 0;
    if (m->kind == SEARCH_MEMBER_MODULE) {
        member_files_t mf = {0};
        if (m->call && m->module && !strcmp(m->module, "."))
            rc = declared_type(s, m->call, s->returns, sizeof s->returns);
        if (rc == 0)
            rc = module_files(s, &mf);
        if (rc == 0)
            rc = module_members(s, &mf);
        /* `from pkg import Thing`: Thing may be a class of pkg, not a file
         * (a class's name starts upper-case in every language read here; a
         * lower-case one is a module: `use crate::task;`) */
        if (rc == 0 && m->member_of && *m->member_of >= 'A' && *m->member_of <= 'Z')
            rc = class_members(s, m->member_of, NULL, 0, NULL);
        member_files_free(&mf);
    } else if (m->kind == SEARCH_MEMBER_CLASS) {
        /* what a function returns, when its definition says; else the guess */
        char returned[256];
        bool known =
            m->call && *m->call && call_type(s, m->call, m->module, returned, sizeof returned);
        member_files_t mf = {0};
        if (m->module && *m->module)
            rc = module_files(s, &mf);
        if (rc == 0)
            /* ... and else the call itself, when it names a class
             * (`decl = registry(...)`, `G = _AntiGraph()`) */
            rc = class_members(s,
                               known                 ? returned
                               : m->type && *m->type ? m->type
                                                     : m->call,
                               m->bases, m->base_count, &mf);
        member_files_free(&mf);
    }
    /* Rank: members of the receiver itself, what is typed, named nearby,
     * then by how often the repository reaches them. */
    if (rc == 0 && m->kind) {
        size_t n = 0;
        scored_t *order = malloc((s->ncands ? s->ncands : 1) * sizeof *order);
        if (!order)
            return fail(s, -ENOMEM, "out of memory");
        for (size_t i = 0; i < s->ncands; i++) {
            const candidate_t *c = &s->cands[i];
            if (c->member > 0)
                order[n++] =
                    (scored_t){c->id, c->member + c->member_partial + c->member_hint +
                                          c->member_line + log1p((double)c->member_uses) / 10.0};
        }
        qsort(order, n, sizeof *order, scored_cmp);
        for (size_t i = 0; i < n; i++)
            candidate_get(s, order[i].id)->rank[SIG_MEMBER] = (int)i + 1;
        rc = build_outlines(s, order, n);
        free(order);
    }
    return rc;
}

/* ---- filling in and writing out ---- */

static const char SQL_IMPORTED_BY[] =
    "SELECT count(*) FROM imports WHERE collection = ? AND target = ?";

static int fused_cmp(const void *a, const void *b) {
    const candidate_t *x = a, *y = b;
    if (x->fused != y->fused)
        return x->fused > y->fused ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static long query_long(search_t *s, const char *sql, int64_t a, const char *text, int64_t b) {
    sqlite3_stmt *st = store_view_stmt(&s->view, sql);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, a);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, b);
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

/* How many chunks use a name the chunk defines, from its symbols (JSON
 * array text as stored), each lookup key once: `name` and `Scope.name`
 * share one. */
static long uses_of(search_t *s, const char *symbols_json, size_t len) {
    cJSON *a = cJSON_ParseWithLength(symbols_json, len);
    const char *keys[16] = {0};
    size_t key_lens[16] = {0}, nkeys = 0;
    long sum = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e) || nkeys == 16)
            continue;
        size_t at, n = store_symbol_key(e->valuestring, strlen(e->valuestring), &at);
        bool seen = n == 0;
        for (size_t k = 0; k < nkeys && !seen; k++)
            seen = key_lens[k] == n && memcmp(keys[k], e->valuestring + at, n) == 0;
        if (seen)
            continue;
        keys[nkeys] = e->valuestring + at;
        key_lens[nkeys++] = n;
        sum += name_uses(s, e->valuestring + at, (int)n);
    }
    cJSON_Delete(a);
    return sum;
}

/* A candidate's signals, "signals":{...} without its closing brace. */
static void write_signals(buf_t *out, const candidate_t *c, bool question) {
    buf_printf(out,
               ",\"signals\":{\"dense\":%.6g,\"bm25\":%.6g,\"symbol\":%d,\"import\":%d,"
               "\"object\":%d,\"uses\":%ld,\"imported_by\":%ld",
               (double)c->dense, (double)c->bm25, c->symbol, c->import, c->object, c->uses,
               c->imported_by);
    if (c->member > 0)
        buf_printf(out,
                   ",\"member\":%.2g,\"member_uses\":%ld,\"member_near\":%ld,"
                   "\"member_hint\":%d,\"member_words\":%.2g,\"member_line\":%.2g,"
                   "\"member_partial\":%d,\"member_params\":%.2g",
                   c->member, c->member_uses, c->member_near, c->member_hint, c->member_words,
                   c->member_line, c->member_partial, c->member_params);
    if (c->member_here)
        buf_printf(out, ",\"member_here\":%d", c->member_here);
    if (c->member_file)
        buf_printf(out, ",\"member_file\":%ld", c->member_file);
    if (c->owner > 0)
        buf_printf(out, ",\"owner\":%.3g", c->owner);
    if (question)
        buf_printf(out, ",\"name\":%.3g", c->name);
}

/* An outline as a chunk: id 0 (it is no stored chunk), kind "outline", the
 * lines of its first and last signature, and its best member's signals
 * with "outline": how many members it shows.  One member's is its chunk. */
static void write_outline(buf_t *out, const outline_t *ol, size_t *count) {
    const candidate_t *c = &ol->best;
    if (ol->members < 2 || c->id != ol->best_id)
        return;
    buf_printf(out, "%s{\"id\":0,\"path\":", *count ? "," : "");
    buf_append_json_string(out, ol->path, strlen(ol->path));
    buf_printf(out, ",\"start_line\":%d,\"end_line\":%d,\"language\":", ol->first, ol->last);
    buf_append_json_string(out, ol->language, strlen(ol->language));
    buf_append_str(out, ",\"kind\":\"outline\",\"text\":");
    buf_append_json_string(out, ol->text.data, ol->text.len);
    buf_append_str(out, ",\"symbols\":[]");
    write_signals(out, c, false);
    buf_printf(out, ",\"outline\":%d}}", ol->members);
    ++*count;
}

static int write_results(search_t *s, buf_t *out, size_t *count) {
    map_t *in_degree = map_new(); /* file id -> imported_by + 1: files recur in the list */
    if (!in_degree)
        return fail(s, -ENOMEM, "out of memory");
    for (size_t i = 0; i < s->ncands; i++) {
        candidate_t *c = &s->cands[i];
        for (int k = 0; k < SIG_COUNT; k++)
            if (c->rank[k])
                c->fused += 1.0 / (RRF_K + c->rank[k]);
    }
    if (s->ncands)
        qsort(s->cands, s->ncands, sizeof *s->cands, fused_cmp);
    *count = 0;
    buf_append_str(out, "{\"chunks\":[");
    for (size_t i = 0; i < s->ncands; i++) {
        candidate_t *c = &s->cands[i];
        sqlite3_stmt *st = store_view_stmt(&s->view, SQL_CHUNK_ROW);
        if (!st) {
            map_destroy(&in_degree);
            return db_fail(s, "reading a chunk");
        }
        sqlite3_bind_int64(st, 1, c->id);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            continue; /* a vector without a row: cannot happen under the lock */
        }
        int64_t file = sqlite3_column_int64(st, 0);
        if (file == s->own_file) {
            sqlite3_reset(st);
            continue;
        }
        const import_file_t *f = import_file_find(s, file);
        c->import = f ? f->level : 0;
        c->object |= f && f->object;
        if (s->vector && !c->has_dense) {
            const float *v = vectors_get(s->view.vectors, (uint64_t)c->id);
            double dot = 0;
            for (size_t d = 0; v && d < s->view.dim; d++)
                dot += (double)v[d] * s->vector[d];
            c->dense = (float)dot;
        }
        if (c->member > 0 && c->member_name[0] && s->q->member.line_word_count)
            c->member_params = signature_params_share(
                (const char *)sqlite3_column_text(st, 5), (size_t)sqlite3_column_bytes(st, 5),
                c->member_name, s->q->member.line_words, s->q->member.line_word_count);
        c->uses = uses_of(s, (const char *)sqlite3_column_text(st, 4),
                          (size_t)sqlite3_column_bytes(st, 4));
        if (s->q->question && !c->has_name)
            c->name = name_value(s, (const char *)sqlite3_column_text(st, 4),
                                 (size_t)sqlite3_column_bytes(st, 4),
                                 (const char *)sqlite3_column_text(st, 6));
        const char *path = (const char *)sqlite3_column_text(st, 6);
        intptr_t known = (intptr_t)map_get_u64(in_degree, (uint64_t)file);
        if (known) {
            c->imported_by = (long)(known - 1);
        } else {
            c->imported_by = query_long(s, SQL_IMPORTED_BY, s->view.collection_id, path, 0);
            map_put_u64(in_degree, (uint64_t)file, (void *)(intptr_t)(c->imported_by + 1));
        }
        buf_printf(out, "%s{\"id\":%lld,\"path\":", *count ? "," : "", (long long)c->id);
        buf_append_json_string(out, path, (size_t)sqlite3_column_bytes(st, 6));
        buf_printf(out, ",\"start_line\":%lld,\"end_line\":%lld,\"language\":",
                   (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2));
        buf_append_json_string(out, (const char *)sqlite3_column_text(st, 7),
                               (size_t)sqlite3_column_bytes(st, 7));
        buf_append_str(out, ",\"kind\":");
        buf_append_json_string(out, (const char *)sqlite3_column_text(st, 3),
                               (size_t)sqlite3_column_bytes(st, 3));
        buf_append_str(out, ",\"text\":");
        buf_append_json_string(out, (const char *)sqlite3_column_text(st, 5),
                               (size_t)sqlite3_column_bytes(st, 5));
        buf_append_str(out, ",\"symbols\":");
        buf_append(out, sqlite3_column_text(st, 4), (size_t)sqlite3_column_bytes(st, 4));
        write_signals(out, c, s->q->question);
        buf_append_str(out, "}}");
        sqlite3_reset(st);
        ++*count;
        for (size_t o = 0; o < s->noutlines; o++)
            if (s->outlines[o].best_id == c->id)
                s->outlines[o].best = *c;
    }
    map_destroy(&in_degree);
    for (size_t o = 0; o < s->noutlines; o++)
        write_outline(out, &s->outlines[o], count);
    buf_append_str(out, "]");
    if (s->returns[0]) {
        buf_append_str(out, ",\"returns\":");
        buf_append_json_string(out, s->returns, strlen(s->returns));
    }
    if (s->nslot) {
        buf_printf(out, ",\"slot\":{\"total\":%.6g,\"names\":{", s->slot_total);
        for (size_t k = 0; k < s->nslot; k++) {
            buf_append_str(out, k ? "," : "");
            buf_append_json_string(out, s->slot[k].name, strlen(s->slot[k].name));
            buf_printf(out, ":%.6g", s->slot[k].weight);
        }
        buf_append_str(out, "}}");
    }
    if (s->nlineage) {
        buf_append_str(out, ",\"lineage\":[");
        for (size_t k = 0; k < s->nlineage; k++) {
            buf_append_str(out, k ? "," : "");
            buf_append_json_string(out, s->lineage[k], strlen(s->lineage[k]));
        }
        buf_append_str(out, "]");
    }
    if (buf_append_str(out, "}") != 0)
        return fail(s, -ENOMEM, "out of memory");
    return 0;
}

int search_run(store_t *store, const search_query_t *q, buf_t *out, size_t *count, char *err,
               size_t err_len) {
    search_t s = {.store = store, .q = q, .err = err, .err_len = err_len};
    *count = 0;
    if (q->limit < 1)
        return fail(&s, -EINVAL, "\"limit\" must be at least 1");
    if (!(s.by_id = map_new()) || (q->question && !(s.idf = map_new()))) {
        map_destroy(&s.by_id);
        return fail(&s, -ENOMEM, "out of memory");
    }
    int rc = store_read_begin(store, q->collection, &s.view, err, err_len);
    if (rc != 0) {
        map_destroy(&s.by_id);
        map_destroy(&s.idf);
        return rc;
    }
    if ((rc = terms_build(&s)) == 0 && (rc = find_own_file(&s)) == 0 &&
        (rc = dense_start(&s)) == 0 && (rc = import_neighbourhood(&s)) == 0 &&
        (rc = signal_bm25(&s)) == 0 && (rc = signal_name(&s)) == 0 &&
        (rc = signal_symbol(&s)) == 0 && (rc = rank_neighbourhood(&s, SIG_IMPORT)) == 0 &&
        (rc = signal_object(&s)) == 0 && (rc = signal_member(&s)) == 0 &&
        (rc = signal_owner(&s)) == 0 && (rc = signal_slot(&s)) == 0)
        rc = dense_finish(&s);
    else
        dense_finish(&s); /* join the scan; the first error stands */
    if (rc == 0)
        rc = write_results(&s, out, count);
    sqlite3_finalize(s.place); /* before the view's connection goes back */
    store_read_end(store, &s.view);
    terms_free(&s.terms);
    for (size_t o = 0; o < s.noutlines; o++) {
        free(s.outlines[o].path);
        free(s.outlines[o].language);
        buf_free(&s.outlines[o].text);
    }
    map_destroy(&s.by_id);
    map_destroy(&s.idf);
    free(s.cands);
    free(s.files);
    free(s.vector);
    free(s.dense_hits);
    return rc;
}
