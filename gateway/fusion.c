/*
 * Fusion (see fusion.h): candidates with their signals in, ranked chunks out.
 */
#include "gateway/fusion.h"

#include "proto/base/log.h"
#include "proto/code/ident.h"
#include "proto/code/repopath.h"
#include "proto/code/signature.h"
#include "proto/code/subword.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const fusion_weights_t fusion_weights_measured = {.dense = 0.15,
                                                  .bm25 = 0.3,
                                                  .symbol = 0.6,
                                                  .import = 0.5,
                                                  .object = 0.8,
                                                  .uses = 0.1,
                                                  .fresh = 1.0,
                                                  .imported = 0.4,
                                                  .member = 2.0,
                                                  .member_uses = 1.0,
                                                  .member_near = 1.0,
                                                  .member_hint = 1.0,
                                                  .member_words = 1.0,
                                                  .member_line = 1.0,
                                                  .member_params = 1.0,
                                                  .params = 0.5,
                                                  .member_partial = 1.5,
                                                  .member_file = 1.0,
                                                  .outline = 0.5,
                                                  .line = 0.5,
                                                  .type = 0.5,
                                                  .owner = 1.0,
                                                  .slot = 6.0,
                                                  .name = 1.0,
                                                  .subject = 0.5,
                                                  .within = 3.0};

/* For a question in words: what the words match (BM25 over identifier
 * sub-words, the names they make up, the dense vector) decides, and the
 * file's best BM25 says what the file is about; structure has nothing to
 * say (on the evaluation's questions, tune set: R@5 0.15 with the code
 * weights, 0.51 with these without the file, 0.57 with it). */
const fusion_weights_t fusion_weights_question = {
    .dense = 0.3, .bm25 = 0.5, .name = 1.3, .test = 0.3, .file = 1.6};

/* ---- weights ---- */

static double *weight_named(fusion_weights_t *w, const char *name) {
    const struct {
        const char *name;
        double *weight;
    } names[] = {
        {"dense", &w->dense},
        {"bm25", &w->bm25},
        {"symbol", &w->symbol},
        {"import", &w->import},
        {"object", &w->object},
        {"uses", &w->uses},
        {"fresh", &w->fresh},
        {"imported", &w->imported},
        {"member", &w->member},
        {"member_uses", &w->member_uses},
        {"member_near", &w->member_near},
        {"member_hint", &w->member_hint},
        {"member_words", &w->member_words},
        {"line", &w->line},
        {"type", &w->type},
        {"owner", &w->owner},
        {"member_line", &w->member_line},
        {"member_params", &w->member_params},
        {"params", &w->params},
        {"member_partial", &w->member_partial},
        {"outline", &w->outline},
        {"name", &w->name},
        {"test", &w->test},
        {"slot", &w->slot},
        {"file", &w->file},
        {"member_file", &w->member_file},
        {"subject", &w->subject},
        {"within", &w->within},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name))
            return names[i].weight;
    return NULL;
}

int fusion_weights_parse(fusion_weights_t *w, const char *spec) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", spec);
    int rc = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            log_warn("LCA_FUSION: %s is not name=weight; ignored", item);
            rc = -EINVAL;
            continue;
        }
        *eq = '\0';
        double *weight = weight_named(w, item);
        char *end = NULL;
        double value = strtod(eq + 1, &end);
        if (weight && (end == eq + 1 || *end || !isfinite(value) || value < 0 || value > 100 ||
                       isnan(value))) {
            log_warn("LCA_FUSION: %s=%s is not a weight from 0 to 100; ignored", item, eq + 1);
            rc = -EINVAL;
        } else if (weight) {
            *weight = value;
        } else {
            log_warn("LCA_FUSION: unknown signal %s", item);
            rc = -EINVAL;
        }
    }
    return rc;
}

/* ---- ranking ---- */

typedef struct {
    const cJSON *json; /* the chunk object, inside a shard answer */
    const char *path;
    double dense, bm25, symbol, import, object, uses;
    double fresh, imported; /* defines a name the file imports: not used yet / used */
    double line;            /* ... and the share of its sub-words the cursor's line uses */
    double type;            /* 1: defines a type (a CamelCase name) */
    double owner;           /* defines a class with the member after a bare name */
    double member, member_uses, member_near, member_hint, member_words, member_line, member_partial;
    double member_params;
    double member_file; /* of its file's members, those the current file uses */
    double subject;     /* a chunk of the file the current (test) file tests */
    double within;      /* defines a name the cursor's function's name spells */
    int member_here;    /* a member of the receiver's class: 2 in the module named, 1 beside */
    double params;      /* an imported name it defines: its parameters the line passes */
    double outline;
    double slot; /* the share of the slot's weight of the best name it defines */
    double name;
    double test; /* 1: a test file's chunk the query did not ask for */
    double file; /* the best BM25 of a candidate of its file (normalised) */
    double score;
    fusion_term_t terms[FUSION_TERMS_MAX]; /* the score, term by term */
    size_t nterms;
} candidate_t;

static double number(const cJSON *o, const char *key) {
    double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return isnan(v) ? 0 : v;
}

static const char *string_or_empty(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Whether symbols hold name as a member of some scope too (`Cls.name`
 * beside `name`): then the chunk defines a field or method of that name, not
 * the module-level name an import brings in. */
static bool scoped_too(const cJSON *symbols, const char *name) {
    size_t n = strlen(name);
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        if (!cJSON_IsString(sym))
            continue;
        if (ident_member_of_scope(sym->valuestring, name, n))
            return true;
    }
    return false;
}

/* Whether symbols list name itself, unscoped. */
static bool listed(const cJSON *symbols, const char *name) {
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        if (cJSON_IsString(sym) && !strcmp(sym->valuestring, name))
            return true;
    }
    return false;
}

/* Marks x when it defines a name the current file imports (fresh: not used
 * since the import).  Symbols come as `name` or `Scope.name` (a Java static
 * import's method); a name listed both ways is a class's field or method
 * (ctags lists both), not the module-level name an import brings in. */
static void import_match(const fusion_query_t *q, const cJSON *symbols, const char *text,
                         candidate_t *x) {
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        if (!cJSON_IsString(sym))
            continue;
        const char *name = sym->valuestring, *dot = strrchr(name, '.');
        const char *last = dot ? dot + 1 : name;
        if (dot ? listed(symbols, last) : scoped_too(symbols, name))
            continue;
        bool imported = false;
        for (size_t i = 0; i < q->nimports; i++) {
            if (strcmp(imported_defined_as(&q->imports[i]), last) != 0)
                continue;
            imported = true;
            if (q->imports[i].uses == 0)
                x->fresh = 1;
            else
                x->imported = 1;
            if (q->import_line && q->import_line[i] > x->line)
                x->line = q->import_line[i];
        }
        double p = imported ? signature_params_share(text, strlen(text), last, q->line_words,
                                                     q->line_word_count)
                            : 0;
        if (p > x->params)
            x->params = p;
    }
}

/* Whether symbols name a type: an unscoped CamelCase name (upper case
 * first, a lower-case letter after: `TcpStream`, not `MAX_SIZE`). */
static bool defines_type(const cJSON *symbols) {
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        const char *n = cJSON_GetStringValue(sym);
        if (!n || !(n[0] >= 'A' && n[0] <= 'Z') || strpbrk(n, ".:"))
            continue;
        for (const char *p = n + 1; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                return true;
    }
    return false;
}

/* Whether the file name of path is stem and an extension. */
static bool stem_is(const char *path, const char *stem) {
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t n = strlen(stem);
    return !strncmp(name, stem, n) && name[n] == '.';
}

/* How much of the name of the function the cursor is in, or of the name its
 * statement sets, a name symbols (a chunk's) hold spells, on its sub-words'
 * edges (subword_spelled): `export const splitWhere: ... = internal.⟨`
 * re-exports splitWhere, a test names what it tests
 * (`test_grid_2d_graph`, `TestReadUint16`), a wrapper what it wraps
 * (`def goldberg_radzik(...): return nx.goldberg_radzik(...)`).  Names of
 * the module's own only: a class's methods share names too often
 * (`constructor`, `__init__`); and not that function's own definition. */
static double spelled_within(const fusion_query_t *q, const cJSON *symbols, const char *path) {
    double best = 0;
    const char *spellers[] = {q->within, q->declared};
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        const char *name = cJSON_GetStringValue(sym);
        if (!name || strpbrk(name, ".:#/") || scoped_too(symbols, name))
            continue; /* a method: `constructor` in `constructor`, `__init__`... */
        for (size_t i = 0; i < 2; i++) {
            if (!spellers[i] || (q->path && !strcmp(path, q->path) && !strcmp(name, spellers[i])))
                continue;
            double share = subword_spelled(spellers[i], name);
            best = share >= 0.5 && share > best ? share : best;
        }
    }
    return best;
}

/* One chunk of a shard answer as a candidate: the wanted signals' raw values. */
static void candidate_read(const fusion_query_t *q, const char *subject, const cJSON *chunk,
                           const char *path, candidate_t *x) {
    unsigned sig = q->signals;
    const cJSON *signals = cJSON_GetObjectItemCaseSensitive(chunk, "signals");
    x->json = chunk;
    x->path = path;
    x->test = !q->tests_asked && repopath_is_test(path) ? 1 : 0;
    x->subject = *subject && stem_is(path, subject) && !repopath_is_test(path) ? 1 : 0;
    x->dense = sig & SIGNAL_DENSE ? number(signals, "dense") : 0;
    x->bm25 = sig & SIGNAL_BM25 ? number(signals, "bm25") : 0;
    x->name = sig & SIGNAL_BM25 ? number(signals, "name") : 0;
    x->symbol = sig & SIGNAL_SYMBOL ? number(signals, "symbol") : 0;
    x->owner = sig & SIGNAL_SYMBOL ? number(signals, "owner") : 0;
    /* 1: a file the current file imports; 2: one it imports in turn. */
    double imp = number(signals, "import");
    x->import = sig & SIGNAL_IMPORT ? (imp == 1 ? 1.0 : imp == 2 ? 0.4 : 0) : 0;
    x->object = sig & SIGNAL_OBJECT ? number(signals, "object") : 0;
    x->uses = sig & SIGNAL_USES ? number(signals, "uses") : 0;
    if (sig & SIGNAL_OBJECT) {
        x->member = number(signals, "member");
        x->member_uses = number(signals, "member_uses");
        x->member_near = number(signals, "member_near");
        x->member_hint = number(signals, "member_hint");
        x->member_words = number(signals, "member_words");
        x->member_line = number(signals, "member_line");
        x->member_params = number(signals, "member_params");
        double here = number(signals, "member_here"); /* a stranger's number: clamped */
        x->member_here = here >= 2 ? 2 : here >= 1 ? 1 : 0;
        x->member_partial = number(signals, "member_partial");
        x->member_file = number(signals, "member_file");
        x->outline = x->member > 0 && number(signals, "outline") > 1 ? 1 : 0;
    }
    if (q->type_wanted || q->call_wanted)
        x->type = defines_type(cJSON_GetObjectItemCaseSensitive(chunk, "symbols")) ? 1 : 0;
    if ((q->within || q->declared) && (sig & SIGNAL_OBJECT))
        x->within = spelled_within(q, cJSON_GetObjectItemCaseSensitive(chunk, "symbols"), path);
    if (sig & SIGNAL_SYMBOL)
        import_match(q, cJSON_GetObjectItemCaseSensitive(chunk, "symbols"),
                     string_or_empty(chunk, "text"), x);
}

static int by_score(const void *a, const void *b) {
    const candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    if (x->dense != y->dense)
        return x->dense < y->dense ? 1 : -1;
    return strcmp(x->path, y->path);
}

static int by_path(const void *a, const void *b) {
    const candidate_t *const *x = a, *const *y = b;
    return strcmp((*x)->path, (*y)->path);
}

/* Each candidate's `file`: the best BM25 of the candidates of its file.  A
 * question's answer often sits beside the definitions that say its words
 * (tune set, questions: MRR@10 0.38 -> 0.42). */
static void file_bm25(candidate_t *c, size_t n) {
    candidate_t **by = malloc(n * sizeof *by);
    if (!by)
        return; /* the prior is left out */
    for (size_t i = 0; i < n; i++)
        by[i] = &c[i];
    qsort(by, n, sizeof *by, by_path);
    for (size_t i = 0, j; i < n; i = j) {
        double best = 0;
        for (j = i; j < n && !strcmp(by[j]->path, by[i]->path); j++)
            best = by[j]->bm25 > best ? by[j]->bm25 : best;
        for (size_t k = i; k < j; k++)
            by[k]->file = best;
    }
    free(by);
}

/* Scores every candidate; -1 for those no wanted signal found. */
static void score(const fusion_weights_t *w, const fusion_query_t *q, candidate_t *c, size_t n) {
    double max_bm25 = 0, max_uses = 0, max_member_uses = 0, max_member_near = 0, max_name = 0;
    double max_member_file = 0;
    int here = 0; /* the nearest class's member_here */
    for (size_t i = 0; i < n; i++) {
        if (c[i].member > 0 && c[i].member_here > here)
            here = c[i].member_here;
        if (c[i].bm25 > max_bm25)
            max_bm25 = c[i].bm25;
        if (c[i].name > max_name)
            max_name = c[i].name;
        if (c[i].uses > max_uses)
            max_uses = c[i].uses;
        if (c[i].member > 0 && c[i].member_uses > max_member_uses)
            max_member_uses = c[i].member_uses;
        if (c[i].member > 0 && c[i].member_near > max_member_near)
            max_member_near = c[i].member_near;
        if (c[i].member > 0 && c[i].member_file > max_member_file)
            max_member_file = c[i].member_file;
    }
    /* Typing a member of an imported module: its definitions lead, and the
     * file's other imports matter less than usual. */
    double w_object = w->object * (q->object_imported ? 3.0 : 1.0);
    /* At a type's place, the package's classes (members) and the classes
     * the file imports are alike: neither weighs less. */
    bool place = q->type_place;
    double w_fresh = w->fresh * ((q->object_imported || q->members) && !place ? 0.2 : 1.0);
    double w_imported = w->imported * (q->members && !place ? 0.2 : 1.0);
    double w_member = w->member * (place ? TYPE_PLACE_MEMBER : 1.0);
    double w_member_uses = w->member_uses * (q->type_place ? TYPE_PLACE_USES : 1.0);
    for (size_t i = 0; i < n; i++) {
        candidate_t *x = &c[i];
        double sym = x->symbol > 3 ? 1.0 : x->symbol / 3.0;
        /* The score is the sum of its terms, kept so that a reader sees why
         * a chunk ranked (fusion_term_t). */
        bool member = x->member > 0;
        const fusion_term_t terms[] = {
            {"dense", x->dense, w->dense},
            {"bm25", max_bm25 > 0 ? x->bm25 / max_bm25 : 0, w->bm25},
            {"symbol", sym, w->symbol},
            {"import", x->import, w->import},
            {"object", x->object > 0 ? 1.0 : 0, w_object},
            {"uses", max_uses > 0 ? log1p(x->uses) / log1p(max_uses) : 0, w->uses},
            {"fresh", x->fresh, w_fresh},
            {"imported", x->imported, w_imported},
            {"line", x->line, w->line},
            {"params", x->params, w->params},
            {"type",
             q->type_wanted   ? x->type
             : q->call_wanted ? -x->type
                              : 0,
             w->type},
            {"owner", x->owner, w->owner},
            {"member",
             x->member_here < here && x->member >= 1.0 ? x->member * FAR_CLASS : x->member,
             w_member},
            {"member_uses",
             member && max_member_uses > 0 ? log1p(x->member_uses) / log1p(max_member_uses) : 0,
             w_member_uses},
            {"member_near",
             member && max_member_near > 0 ? log1p(x->member_near) / log1p(max_member_near) : 0,
             w->member_near},
            {"member_hint", member ? x->member_hint : 0, w->member_hint},
            {"member_words", member ? x->member_words : 0, w->member_words},
            {"member_line", member ? x->member_line : 0, w->member_line},
            {"member_params", member ? x->member_params : 0, w->member_params},
            {"member_partial", member ? x->member_partial : 0, w->member_partial},
            {"member_file",
             member && max_member_file > 0 ? log1p(x->member_file) / log1p(max_member_file) : 0,
             w->member_file},
            {"outline", x->outline, w->outline},
            /* what the slot says, for a name the structure offers */
            {"slot", x->fresh > 0 || x->imported > 0 || member || x->object > 0 ? x->slot : 0,
             w->slot},
            {"name", max_name > 0 ? x->name / max_name : 0, w->name},
            {"test", -x->test, w->test},
            {"file", max_bm25 > 0 ? x->file / max_bm25 : 0, w->file},
            {"subject", x->subject, w->subject},
            {"within", member ? x->within : 0, w->within},
        };
        _Static_assert(sizeof terms / sizeof terms[0] <= FUSION_TERMS_MAX, "room for every term");
        x->score = 0;
        x->nterms = 0;
        for (size_t t = 0; t < sizeof terms / sizeof terms[0]; t++) {
            x->score += terms[t].weight * terms[t].value;
            if (terms[t].value != 0)
                x->terms[x->nterms++] = terms[t];
        }
        /* A candidate no wanted signal found stays out (ablations). */
        if (x->dense == 0 && x->bm25 == 0 && sym == 0 && x->import == 0 && x->object == 0 &&
            x->member == 0 && x->name == 0 && x->owner == 0)
            x->score = -1;
    }
}

/* An outline leads the best member of its file that fusion found, whichever
 * member the shard ranked first: it takes that member's score and terms,
 * and adds its own. */
static void outlines_lead(const fusion_weights_t *w, candidate_t *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (c[i].outline == 0)
            continue;
        const candidate_t *best = NULL;
        for (size_t j = 0; j < n; j++)
            if (c[j].outline == 0 && c[j].member > 0 && c[j].score > c[i].score - w->outline &&
                (!best || c[j].score > best->score) && !strcmp(c[j].path, c[i].path))
                best = &c[j];
        if (!best)
            continue;
        c[i].score = best->score + w->outline;
        c[i].nterms = 0;
        for (size_t t = 0; t < best->nterms && c[i].nterms + 1 < FUSION_TERMS_MAX; t++)
            c[i].terms[c[i].nterms++] = best->terms[t];
        c[i].terms[c[i].nterms++] = (fusion_term_t){"outline", 1, w->outline};
    }
}

/* True when the chunk's text already sits in the prompt the model gets. */
static bool already_in_prompt(const fusion_query_t *q, const char *text, size_t len) {
    if (len < 40 || len > 4000)
        return false;
    return (q->prefix_len && memmem(q->prefix, q->prefix_len, text, len)) ||
           (q->suffix_len && memmem(q->suffix, q->suffix_len, text, len));
}

/* ---- the slot ---- */

/* The names the shards found written in the cursor's slot, summed over
 * them (each answers its heaviest: a name may be missing from one). */
typedef struct {
    const char *names[SHARD_SLOT_NAMES];
    double weights[SHARD_SLOT_NAMES];
    size_t n;
    double total;
} slot_t;

/* Where name is in sl; sl->n when it is not. */
static size_t slot_find(const slot_t *sl, const char *name) {
    size_t i = 0;
    while (i < sl->n && strcmp(sl->names[i], name) != 0)
        i++;
    return i;
}

static double slot_weight(const slot_t *sl, const char *name) {
    size_t i = slot_find(sl, name);
    return i < sl->n ? sl->weights[i] : 0;
}

static void slot_add(slot_t *sl, const char *name, double weight) {
    size_t i = slot_find(sl, name);
    if (i == SHARD_SLOT_NAMES)
        return;
    if (i == sl->n) {
        sl->names[sl->n++] = name;
        sl->weights[i] = 0;
    }
    sl->weights[i] += weight;
}

/* Each candidate's `slot`: the share of the slot's weight of the best name
 * it defines (a member by its last name: `bar` of `Foo.bar`). */
static void slot_shares(const cJSON *const *answers, size_t nanswers, candidate_t *c, size_t n) {
    slot_t sl = {.n = 0};
    for (size_t s = 0; s < nanswers; s++) {
        const cJSON *slot = cJSON_GetObjectItemCaseSensitive(answers[s], "slot");
        double total = number(slot, "total");
        if (!(total > 0 && total < 1e12))
            continue; /* none, or a stranger's number that makes no sense */
        sl.total += total;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(slot, "names")) {
            if (cJSON_IsNumber(e) && e->valuedouble > 0 && e->valuedouble <= total && e->string)
                slot_add(&sl, e->string, e->valuedouble);
        }
    }
    if (sl.total <= 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const cJSON *sym;
        double best = 0;
        cJSON_ArrayForEach(sym, cJSON_GetObjectItemCaseSensitive(c[i].json, "symbols")) {
            const char *name = cJSON_GetStringValue(sym);
            double w = name ? slot_weight(&sl, ident_last_name(name)) : 0;
            best = w > best ? w : best;
        }
        c[i].slot = best < sl.total ? best / sl.total : 1; /* a name twice in an answer */
    }
}

size_t fusion_rank(const fusion_weights_t *weights, const fusion_query_t *q,
                   const cJSON *const *answers, size_t nanswers, fusion_pick_t *out) {
    size_t n = 0;
    for (size_t s = 0; s < nanswers; s++)
        n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(answers[s], "chunks"));
    if (n == 0)
        return 0;
    candidate_t *c = calloc(n, sizeof *c);
    if (!c)
        return 0;
    char subject[256]; /* the file the current one tests, "" when none */
    repopath_test_subject(q->path, subject, sizeof subject);
    size_t m = 0;
    for (size_t s = 0; s < nanswers; s++) {
        const cJSON *chunk;
        cJSON_ArrayForEach(chunk, cJSON_GetObjectItemCaseSensitive(answers[s], "chunks")) {
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(chunk, "path");
            if (cJSON_IsString(path) && m < n)
                candidate_read(q, subject, chunk, path->valuestring, &c[m++]);
        }
    }
    if (q->signals & SIGNAL_USES)
        slot_shares(answers, nanswers, c, m);
    if (weights->file > 0)
        file_bm25(c, m);
    score(weights, q, c, m);
    outlines_lead(weights, c, m);
    qsort(c, m, sizeof *c, by_score);
    for (size_t i = 0; i < m && i < 12 && log_enabled(LOG_LEVEL_DEBUG); i++)
        log_debug("fusion %zu: %s:%d %.3f (dense %.2f bm25 %.1f symbol %.0f import %.1f object "
                  "%.0f uses %.0f fresh %.0f imported %.0f member %.1f uses %.0f hint %.0f "
                  "partial %.0f)",
                  i, c[i].path, (int)number(c[i].json, "start_line"), c[i].score, c[i].dense,
                  c[i].bm25, c[i].symbol, c[i].import, c[i].object, c[i].uses, c[i].fresh,
                  c[i].imported, c[i].member, c[i].member_uses, c[i].member_hint,
                  c[i].member_partial);

    size_t count = 0, outlines = 0;
    for (size_t i = 0; i < m && count < (size_t)q->k; i++) {
        if (c[i].score < 0)
            break;
        if (c[i].outline > 0 && outlines++ >= FUSION_OUTLINES)
            continue;
        /* The members of the object before the cursor live in one file
         * (a module) or a few (a class and its bases), and so may the
         * names the file imports from a module and has not used yet
         * (`use registry::{EventId, EventInfo, Init}`): no cap for them. */
        int same_file = 0;
        for (size_t j = 0; j < count; j++)
            same_file += !strcmp(out[j].path, c[i].path);
        if (same_file >= q->per_file && c[i].member == 0 && c[i].fresh == 0)
            continue;
        const char *text = string_or_empty(c[i].json, "text");
        size_t text_len = strlen(text);
        if (already_in_prompt(q, text, text_len))
            continue;
        out[count++] = (fusion_pick_t){.path = c[i].path,
                                       .language = string_or_empty(c[i].json, "language"),
                                       .kind = string_or_empty(c[i].json, "kind"),
                                       .text = text,
                                       .text_len = text_len,
                                       .start_line = (int)number(c[i].json, "start_line"),
                                       .end_line = (int)number(c[i].json, "end_line"),
                                       .score = c[i].score,
                                       .nterms = c[i].nterms};
        memcpy(out[count - 1].terms, c[i].terms, sizeof c[i].terms);
    }
    free(c);
    return count;
}
