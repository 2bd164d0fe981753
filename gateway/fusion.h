/*
 * fusion: the candidates every shard found for a retrieval, ranked into the
 * few chunks the prompt gets.  Pure (no server, no clock, no I/O), so it is
 * tested on shard answers written by hand (tests/unit/gateway_fusion_test.c).
 *
 * Each candidate carries every signal's value from its shard.  Fusion
 * normalises them over the whole candidate set (BM25 by its maximum, uses by
 * log scale, symbol matches capped at 3) and sums them with weights measured
 * on the retrieval evaluation (tests/eval).  What the evaluation taught:
 * structure decides completion — a chunk that defines an identifier used
 * near the cursor, or belongs to the module before the cursor's dot, is
 * nearly always the right one — while BM25 and dense similarity only order
 * the rest.  Equal-weight rank fusion lets a weak signal drown the strong
 * one, so the weights are far from equal.
 *
 * The rules, in the order they apply:
 *   - a signal the query did not ask for (the SIGNAL_* mask) counts 0, and a
 *     candidate none of dense, BM25, symbol, import or object found is left
 *     out (so an ablation really removes what only that signal found);
 *   - a preamble chunk (a file's imports) "defines" the names it imports
 *     (`const X = require(...)`): its symbol matches count 0, and it is never
 *     offered as the definition of an imported name;
 *   - with the symbol signal, a chunk defining a name the current file
 *     imports scores `fresh` when the name is not used yet since its
 *     import, `imported` otherwise, and `line`, the share of the name's
 *     sub-words that the cursor's line and the one before use (`let stream
 *     = ⟨` and TcpStream), and `params`, the share of the sub-words of the
 *     names in its definition's parameter list those lines use (`⟨(table_name)`
 *     and normalize(self, name));
 *   - when the object before the cursor's dot is an imported module or
 *     name, `object` weighs 3 times more and `fresh` 5 times less;
 *   - when the shards were asked for the object's members, a member adds
 *     `member` (times 0.6 through a package's re-export or a base class),
 *     how often the repository reaches it (`member_uses`, log-scaled over
 *     the members found), whether the code after the cursor names it
 *     (`member_hint`), the share of its parameters' sub-words the cursor's
 *     line uses (`member_params`, as `params` above) and whether it starts
 *     with what is typed (`member_partial`, subtracted when it does not);
 *     where classes share the receiver's name and one is nearer (`member_here`:
 *     in the module the cursor names, else in the current file's directory),
 *     the others' own members' `member` is FAR_CLASS of itself (tokio has a
 *     dozen `Handle`s); `fresh` and
 *     `imported` weigh 5 times less (the name to come is the object's);
 *     at a type's place in Java, Kotlin or C# (`throws ⟨`, a method
 *     parameter's `(Object o, ⟨`; the package's classes offered as
 *     members), member_uses counts how often each is written after that
 *     keyword (for a parameter: at all) and weighs TYPE_PLACE_USES times more,
 *     `member` weighs TYPE_PLACE_MEMBER of itself and `fresh` and
 *     `imported` weigh as much as ever (an imported class is as likely);
 *   - where a type is wanted (Rust, Python, TypeScript, JavaScript: `-> ⟨`,
 *     `impl ⟨`, `x: ⟨`, `extends ⟨`, `class A(⟨`, ...), a chunk that
 *     defines a type adds `type`: a name it defines, not a member's, is
 *     CamelCase (these languages write functions and constants otherwise);
 *   - with the uses signal, the shards count which names the repository
 *     writes between the tokens around the cursor (`Column("id", ⟨,`:
 *     Integer; proto/code/lexeme.h): a candidate the structure offers (an
 *     imported name, a member, the object's definition) adds `slot`, the
 *     share of that count of the best name it defines (a member by its last
 *     name); others add nothing, a name every file defines would lead;
 *   - a bare name the code after the cursor goes on from with a member
 *     (`obj = ⟨.constructObject(`): a chunk defining a class that has a
 *     member of that name adds `owner`;
 *   - an outline (a file's best-ranked members' signatures, one chunk) has
 *     its best member's signals and adds `outline`: it leads that member;
 *     at most FUSION_OUTLINES of them are picked;
 *   - in a test file, a chunk of the file it tests by name (test_mincost.py,
 *     mincost_test.go, mincost.spec.ts, MincostTest.java: mincost.*) adds
 *     `subject`;
 *   - a chunk of a test file (proto/code/repopath.h) loses `test`, unless
 *     the query speaks of tests (for a question: what it asks about is the
 *     code, and tests have no doc comments to answer it with);
 *   - ties go to the denser candidate, then to the path that sorts first;
 *   - at most per_file chunks of one file (members of the object before
 *     the cursor excepted: they share a file), and none whose text the
 *     prompt already holds (prefix or suffix, for texts of 40 to 4000 bytes).
 *
 * LCA_FUSION overrides the weights ("symbol=1,object=0.8,import=0.5,bm25=0.3,
 * dense=0.15,uses=0.1,fresh=1,imported=0.4"; fusion_weights_parse).
 */
#ifndef LCA_GATEWAY_FUSION_H
#define LCA_GATEWAY_FUSION_H

#include "proto/code/imported.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The signals a retrieval may use (a request's "signals" names them). */
enum {
    SIGNAL_DENSE = 1 << 0,
    SIGNAL_BM25 = 1 << 1,
    SIGNAL_SYMBOL = 1 << 2, /* chunks defining identifiers used near the cursor */
    SIGNAL_IMPORT = 1 << 3, /* chunks of files the current file imports */
    SIGNAL_OBJECT = 1 << 4, /* definitions of the module/type before the cursor's dot */
    SIGNAL_USES = 1 << 5,   /* how widely a definition is used */
    SIGNAL_STRUCTURE = SIGNAL_SYMBOL | SIGNAL_IMPORT | SIGNAL_OBJECT | SIGNAL_USES,
    SIGNAL_ALL = SIGNAL_DENSE | SIGNAL_BM25 | SIGNAL_STRUCTURE,
};

#define FUSION_OUTLINES 2
#define TYPE_PLACE_USES 3.0
#define TYPE_PLACE_MEMBER 0.25
/* ... and where classes share the receiver's name, one of them with members
 * in the current file's directory: the others' `member` times this */
#define FAR_CLASS 0.6
/* names of the cursor's slot read from all shards' answers, at most */
#define SHARD_SLOT_NAMES 256

/* What each normalised signal adds to a candidate's score. */
typedef struct {
    double dense, bm25, symbol, import, object, uses;
    double fresh;    /* defines a name the file imports and has not used yet */
    double imported; /* defines a name the file imports and already uses */
    /* When the cursor follows an object whose members the shards offered: */
    double member;         /* defines a member of it (through a package or a base: 0.6 of it) */
    double member_uses;    /* how often the repository reaches that member (log, normalised) */
    double member_near;    /* how often the current file's neighbours do (log, normalised) */
    double member_hint;    /* the code after the cursor names that member */
    double member_words;   /* share of its name's sub-words the code around the cursor uses */
    double member_line;    /* ... the cursor's line and the one before it use */
    double member_params;  /* share of its parameters' sub-words those lines use */
    double params;         /* an imported name: share of its parameters' sub-words they use */
    double member_partial; /* the member starts with what is typed (against: when it does not) */
    double member_file;    /* how many members of its file the current file uses (log) */
    double line;           /* an imported name: share of its sub-words the cursor's line uses */
    double type;           /* where a type is wanted: the chunk defines one (a CamelCase name) */
    double owner;   /* a bare name followed by `.m`: the chunk defines a class with a member m */
    double outline; /* an outline: the signatures of several members, over its best's */
    double slot;    /* the share of the names the repository writes in the cursor's slot
                     * (the tokens around it, proto/code/lexeme.h) that it defines */
    /* For a question in words: */
    double name; /* share of a name it defines that the question's words make up */
    double test; /* against: a test file's chunk, unless the query asks about tests */
    double file; /* the best BM25 of a candidate of its file: what the file is about */
    /* In a test file: */
    double subject; /* a chunk of the file it tests (test_mincost.py: mincost.py) */
    /* In a function: */
    double within; /* defines a name that the function's own name, or the name the statement
                      sets, spells (`test_grid_2d_graph`, `const splitWhere = internal.⟨`) */
} fusion_weights_t;

/* The weights measured on the retrieval evaluation: for code around a
 * cursor, and for a question in words (chat). */
extern const fusion_weights_t fusion_weights_measured;
extern const fusion_weights_t fusion_weights_question;

/* Applies spec, "name=value" items separated by commas (the first 255
 * bytes), over *w.  An item without '=' or with an unknown name (logged) is
 * skipped and the others still apply; a value is read as atof reads it.
 * Returns 0, or -EINVAL when some item was skipped. */
int fusion_weights_parse(fusion_weights_t *w, const char *spec);

/* What fusion needs of the request (all borrowed). */
typedef struct {
    unsigned signals;               /* SIGNAL_* wanted */
    const imported_name_t *imports; /* names the current file imports, with their uses */
    size_t nimports;                /* ... how many */
    bool object_imported;           /* the object before the cursor is one of them */
    bool members;                   /* the shards were asked for the object's members */
    const char *path;               /* the current file's (NULL: none) */
    const char *prefix, *suffix;    /* the prompt's code around the cursor */
    size_t prefix_len, suffix_len;  /* ... their lengths (0: none) */
    int k;                          /* chunks wanted, >= 1 */
    int per_file;                   /* chunks of one file, at most, >= 1 */
    bool tests_asked;               /* the query speaks of tests: test files are not held against */
    bool type_place;                /* a type's place (`throws ⟨`): member_uses counts the
                                       type's uses in that place (see the rules above) */
    bool type_wanted; /* Rust, Python, TS, JS: a type's place (`-> ⟨`, `impl ⟨`, `x: ⟨`) */
    bool call_wanted; /* Rust, TS, JS: a call's (`fs::⟨(`): a type is held against */
    const double *import_line;     /* per import: the share of its name's sub-words that the
                                      cursor's line and the one before use (NULL: none) */
    const char *const *line_words; /* the sub-words of those lines (folded), or NULL */
    size_t line_word_count;
    /* When the members asked for are a module's (not an object's), or NULL: */
    const char *within;   /* the function the cursor is in (`test_grid_2d_graph`) */
    const char *declared; /* the name the cursor's statement sets (`splitWhere: ... = x.⟨`) */
} fusion_query_t;

/* Why a chunk ranked: one signal's part of its score.  The score is the
 * sum of value * weight over its terms, in the order they are listed, so a
 * reader (the status page, /api/context) sees exactly what each signal
 * added.  Terms whose value is 0 are left out. */
typedef struct {
    const char *signal; /* a static name: "symbol", "bm25", "fresh", ... */
    double value;       /* the signal's value as it entered the sum (normalised) */
    double weight;      /* its weight for this query (after the query's adjustments) */
} fusion_term_t;

/* Room for every term a score may have (fusion.c's score() checks it). */
#define FUSION_TERMS_MAX 28

/* A ranked chunk, borrowed from the shard answers it came from. */
typedef struct {
    const char *path;
    const char *language, *kind; /* "" when the shard did not say */
    const char *text;            /* "" when the shard sent none */
    size_t text_len;
    int start_line, end_line;
    double score;
    fusion_term_t terms[FUSION_TERMS_MAX]; /* what made the score, see fusion_term_t */
    size_t nterms;
} fusion_pick_t;

/* Ranks the chunks of the shard answers ({"chunks":[{"path", "text",
 * "language", "kind", "start_line", "end_line", "symbols":[...],
 * "signals":{"dense","bm25","symbol","import","object","uses"}}...]}; NULL
 * entries are shards that did not answer) and writes the best, at most
 * query->k, into out (room for query->k), best first.  Chunks without a
 * path are skipped; missing numbers count 0.  Returns how many were written
 * (0 also when memory ran out). */
size_t fusion_rank(const fusion_weights_t *weights, const fusion_query_t *query,
                   const cJSON *const *answers, size_t nanswers, fusion_pick_t *out);

#endif
