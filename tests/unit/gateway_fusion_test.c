/*
 * gateway/fusion: shard answers written by hand, ranked as the gateway ranks
 * them.  Every rule of fusion.h has a case here; the scores are worked out
 * from the measured weights so that a change to a rule or a weight shows.
 */
#include "gateway/fusion.h"
#include "tests/test.h"

#include <errno.h>
#include <math.h>

#define K_MAX 16

/* One shard answer: {"chunks":[...]} from the chunk objects given. */
static cJSON *answer(const char *chunks) {
    char text[8192];
    snprintf(text, sizeof text, "{\"chunks\":[%s]}", chunks);
    cJSON *j = cJSON_Parse(text);
    if (!j)
        fprintf(stderr, "  bad test JSON: %s\n", text);
    return j;
}

/* A query for k chunks, up to 2 per file, with every signal. */
static fusion_query_t query(int k) {
    return (fusion_query_t){.signals = SIGNAL_ALL, .k = k, .per_file = 2};
}

typedef struct {
    fusion_pick_t picks[K_MAX];
    size_t count;
} ranked_t;

static ranked_t rank_with(const fusion_weights_t *w, const fusion_query_t *q, cJSON *a, cJSON *b) {
    const cJSON *answers[] = {a, b};
    ranked_t r = {0};
    r.count = fusion_rank(w, q, answers, 2, r.picks);
    return r;
}

static ranked_t rank(const fusion_query_t *q, cJSON *a, cJSON *b) {
    return rank_with(&fusion_weights_measured, q, a, b);
}

static bool near(double a, double b) {
    return fabs(a - b) < 1e-9;
}

#define CHECK_NEAR(a, b)                                                                           \
    do {                                                                                           \
        double test_x_ = (a), test_y_ = (b);                                                       \
        if (!near(test_x_, test_y_)) {                                                             \
            fprintf(stderr, "  %s:%d: CHECK_NEAR(%s, %s) failed: %.12g vs %.12g\n", __FILE__,      \
                    __LINE__, #a, #b, test_x_, test_y_);                                           \
            test_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

/* The i-th pick is of path, with score. */
#define CHECK_PICK(r, i, file, value)                                                              \
    do {                                                                                           \
        CHECK_STR((r).picks[i].path, file);                                                        \
        CHECK_NEAR((r).picks[i].score, value);                                                     \
    } while (0)

/* A query (k 10) in a file importing the names given. */
static fusion_query_t query_importing(const imported_name_t *imports, size_t n) {
    fusion_query_t q = query(10);
    q.imports = imports;
    q.nimports = n;
    return q;
}

/* The symbol signal's measured weight, in the sums below. */
#define SYM (fusion_weights_measured.symbol)

TEST(the_measured_weights) {
    const fusion_weights_t *w = &fusion_weights_measured;
    CHECK_NEAR(w->symbol, 0.6);
    CHECK_NEAR(w->object, 0.8);
    CHECK_NEAR(w->import, 0.5);
    CHECK_NEAR(w->bm25, 0.3);
    CHECK_NEAR(w->dense, 0.15);
    CHECK_NEAR(w->uses, 0.1);
    CHECK_NEAR(w->slot, 6.0);
    CHECK_NEAR(w->fresh, 1.0);
    CHECK_NEAR(w->imported, 0.4);
}

TEST(the_score_is_the_weighted_sum_of_normalised_signals) {
    /* a: every signal at its top: BM25 and uses are the maxima, symbol
     * matches beyond 3 count as 3, an import of distance 1 counts 1. */
    cJSON *s0 = answer("{\"path\":\"a.py\",\"text\":\"a\",\"signals\":{\"dense\":0.5,\"bm25\":8,"
                       "\"symbol\":6,\"import\":1,\"object\":2,\"uses\":7}},"
                       "{\"path\":\"b.py\",\"text\":\"b\",\"signals\":{\"bm25\":2,\"symbol\":1,"
                       "\"import\":2,\"uses\":1}}");
    /* c: a file imported in turn (distance 2) and nothing else. */
    cJSON *s1 = answer("{\"path\":\"c.py\",\"text\":\"c\",\"signals\":{\"import\":2}}");
    fusion_query_t q = query(10);
    ranked_t r = rank(&q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "a.py", 0.15 * 0.5 + 0.3 * 1 + SYM * 1 + 0.5 * 1 + 0.8 * 1 + 0.1 * 1);
    CHECK_PICK(r, 1, "b.py",
               0.3 * (2.0 / 8) + SYM * (1.0 / 3) + 0.5 * 0.4 + 0.1 * (log1p(1) / log1p(7)));
    CHECK_PICK(r, 2, "c.py", 0.5 * 0.4);
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

/* A bare name followed by `.m`: the class with a member m scores its
 * owner value times the weight. */
TEST(the_class_of_the_member_after_a_bare_name_scores) {
    cJSON *s0 = answer("{\"path\":\"Reflect.java\",\"signals\":{\"owner\":1}},"
                       "{\"path\":\"Method.java\",\"signals\":{\"symbol\":1}}");
    cJSON *s1 = answer("{\"path\":\"Other.java\",\"signals\":{\"owner\":0.5}}");
    fusion_query_t q = query(10);
    ranked_t r = rank(&q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "Reflect.java", fusion_weights_measured.owner * 1.0);
    CHECK_PICK(r, 1, "Other.java", fusion_weights_measured.owner * 0.5);
    CHECK_PICK(r, 2, "Method.java", SYM / 3);
    /* ... and nothing with the symbol signal off (it is the symbol table's) */
    q.signals = SIGNAL_ALL & ~SIGNAL_SYMBOL;
    r = rank(&q, s0, s1);
    for (size_t i = 0; i < r.count; i++)
        CHECK(strcmp(r.picks[i].path, "Reflect.java") != 0 || near(r.picks[i].score, 0));
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

TEST(structure_dominates_bm25_and_dense) {
    /* The best BM25 and dense match of all loses to one symbol match of 3,
     * and to a definition of the object before the cursor. */
    cJSON *s0 = answer("{\"path\":\"text.py\",\"signals\":{\"dense\":1,\"bm25\":9}},"
                       "{\"path\":\"object.py\",\"signals\":{\"object\":1}}");
    cJSON *s1 = answer("{\"path\":\"symbol.py\",\"signals\":{\"symbol\":3}}");
    fusion_query_t q = query(10);
    ranked_t r = rank(&q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "object.py", fusion_weights_measured.object);
    CHECK_PICK(r, 1, "symbol.py", SYM);
    CHECK_PICK(r, 2, "text.py", 0.15 + 0.3);
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

/* A preamble's names are definitions like any chunk's (the seeder lists
 * none it imports, `const X = require(...)` included): `NO_ARG =
 * util.symbol("NO_ARG")` before a module's first function is offered as
 * the definition of NO_ARG. */
TEST(a_preamble_defines_what_it_lists) {
    imported_name_t imports[] = {{.name = "NO_ARG", .uses = 0, .module = ".base"}};
    fusion_query_t q = query_importing(imports, 1);
    cJSON *s0 = answer("{\"path\":\"sql/base.py\",\"kind\":\"preamble\",\"symbols\":[\"NO_ARG\"],"
                       "\"signals\":{\"symbol\":3}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 1);
    CHECK_PICK(r, 0, "sql/base.py", SYM + 1.0);
    cJSON_Delete(s0);
}

TEST(definitions_of_imported_names_fresh_before_used) {
    imported_name_t imports[] = {{.name = "fresh", .uses = 0, .module = "./m"},
                                 {.name = "used", .uses = 2, .module = "./m"}};
    fusion_query_t q = query_importing(imports, 2);
    /* Symbols come as `name` or `Scope.name`. */
    cJSON *s0 = answer("{\"path\":\"u.py\",\"symbols\":[\"used\"],\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"f.py\",\"symbols\":[\"M.fresh\"],\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"o.py\",\"symbols\":[\"other\",7],\"signals\":{\"symbol\":3}},"
                       /* a class's field of the name: ctags lists it both ways */
                       "{\"path\":\"c.py\",\"symbols\":[\"C\",\"fresh\",\"C.fresh\"],"
                       "\"signals\":{\"symbol\":2}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 4);
    CHECK_PICK(r, 0, "f.py", SYM + 1.0);
    CHECK_PICK(r, 1, "u.py", SYM + 0.4);
    CHECK_PICK(r, 2, "o.py", SYM);
    CHECK_PICK(r, 3, "c.py", SYM * 2 / 3);
    /* Without the symbol signal imports are not matched either. */
    q.signals = SIGNAL_ALL & ~SIGNAL_SYMBOL;
    r = rank(&q, s0, NULL);
    CHECK_INT(r.count, ==, 0);
    cJSON_Delete(s0);
}

/* `const { getStaticPropertyName: getName } = require(...)`: the definition
 * is named as the module exports it, not as the file calls it. */
TEST(a_renamed_import_is_defined_under_its_exported_name) {
    imported_name_t imports[] = {
        {.name = "getName", .exported = "getStaticPropertyName", .uses = 0, .module = "./u"}};
    fusion_query_t q = query_importing(imports, 1);
    cJSON *s0 = answer(
        "{\"path\":\"a.js\",\"symbols\":[\"getName\"],\"signals\":{\"symbol\":3}},"
        "{\"path\":\"u.js\",\"symbols\":[\"getStaticPropertyName\"],\"signals\":{\"symbol\":3}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "u.js", SYM + 1.0);
    CHECK_PICK(r, 1, "a.js", SYM);
    cJSON_Delete(s0);
}

TEST(an_import_named_like_its_line_leads_the_others) {
    /* `let stream = ⟨`: of two names imported and not used yet, the one
     * whose sub-words the cursor's line uses (TcpStream: half of them). */
    imported_name_t imports[] = {{.name = "TcpListener", .uses = 0, .module = "tokio::net"},
                                 {.name = "TcpStream", .uses = 0, .module = "tokio::net"}};
    fusion_query_t q = query_importing(imports, 2);
    static const double line[] = {0, 0.5}; /* features' shares for `let mut stream =` */
    q.import_line = line;
    cJSON *s0 =
        answer("{\"path\":\"l.rs\",\"symbols\":[\"TcpListener\"],\"signals\":{\"symbol\":1}},"
               "{\"path\":\"s.rs\",\"symbols\":[\"TcpStream\"],\"signals\":{\"symbol\":1}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "s.rs", SYM / 3 + 1.0 + 0.5 * 0.5);
    CHECK_PICK(r, 1, "l.rs", SYM / 3 + 1.0);
    /* Without words around the cursor, neither has the term. */
    q.import_line = NULL;
    r = rank(&q, s0, NULL);
    CHECK_NEAR(r.picks[0].score, SYM / 3 + 1.0);
    CHECK_NEAR(r.picks[1].score, SYM / 3 + 1.0);
    cJSON_Delete(s0);
}

/* `⟨(table_name)`: of two names imported and not used yet, the one whose
 * definition takes what the line passes leads (half of its parameters'
 * sub-words: `name` of normalize(self, name, quote)). */
TEST(an_import_taking_what_its_line_passes_leads_the_others) {
    imported_name_t imports[] = {{.name = "denormalize", .uses = 0, .module = "m"},
                                 {.name = "normalize", .uses = 0, .module = "m"}};
    fusion_query_t q = query_importing(imports, 2);
    static const char *const words[] = {"table", "name"};
    q.line_words = words;
    q.line_word_count = 2;
    cJSON *s0 = answer("{\"path\":\"d.py\",\"symbols\":[\"denormalize\"],"
                       "\"text\":\"def denormalize(self, value):\\n    pass\\n\","
                       "\"signals\":{\"symbol\":1}},"
                       "{\"path\":\"n.py\",\"symbols\":[\"normalize\"],"
                       "\"text\":\"def normalize(self, name, quote):\\n    pass\\n\","
                       "\"signals\":{\"symbol\":1}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "n.py", SYM / 3 + 1.0 + 0.5 * 0.5);
    CHECK_PICK(r, 1, "d.py", SYM / 3 + 1.0);
    /* Without the line's words, neither has the term. */
    q.line_word_count = 0;
    r = rank(&q, s0, NULL);
    CHECK_NEAR(r.picks[0].score, SYM / 3 + 1.0);
    CHECK_NEAR(r.picks[1].score, SYM / 3 + 1.0);
    cJSON_Delete(s0);
}

/* Two classes named Handle: the members of the one beside the current
 * file (member_here) keep `member`; the other's weigh FAR_CLASS of it.
 * Without a member beside it, all weigh alike. */
TEST(of_two_classes_of_one_name_the_near_ones_members_lead) {
    fusion_query_t q = {.signals = SIGNAL_ALL, .k = 5, .per_file = 5, .members = true};
    cJSON *s0 =
        answer("{\"path\":\"far/h.rs\",\"symbols\":[\"Handle.close\"],\"signals\":{\"member\":1}},"
               "{\"path\":\"near/w.rs\",\"symbols\":[\"Handle.stop\"],"
               "\"signals\":{\"member\":1,\"member_here\":1}},"
               "{\"path\":\"far/b.rs\",\"symbols\":[\"Base.run\"],\"signals\":{\"member\":0.5}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "near/w.rs", 2.0);
    CHECK_PICK(r, 1, "far/h.rs", 2.0 * FAR_CLASS);
    CHECK_PICK(r, 2, "far/b.rs", 2.0 * 0.5); /* a base's: as it was */
    cJSON_Delete(s0);
    s0 =
        answer("{\"path\":\"far/h.rs\",\"symbols\":[\"Handle.close\"],\"signals\":{\"member\":1}},"
               "{\"path\":\"near/w.rs\",\"symbols\":[\"Handle.stop\"],\"signals\":{\"member\":1}}");
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_NEAR(r.picks[0].score, 2.0);
    CHECK_NEAR(r.picks[1].score, 2.0);
    cJSON_Delete(s0);
    /* the class in the module the cursor names (2) before the one beside
     * the file (1); a stranger's number is clamped */
    s0 = answer("{\"path\":\"far/h.rs\",\"symbols\":[\"Handle.close\"],"
                "\"signals\":{\"member\":1,\"member_here\":1e300}},"
                "{\"path\":\"near/w.rs\",\"symbols\":[\"Handle.stop\"],"
                "\"signals\":{\"member\":1,\"member_here\":1}},"
                "{\"path\":\"x/y.rs\",\"symbols\":[\"Handle.wait\"],"
                "\"signals\":{\"member\":1,\"member_here\":-7}}");
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "far/h.rs", 2.0);
    CHECK_NEAR(r.picks[1].score, 2.0 * FAR_CLASS);
    CHECK_NEAR(r.picks[2].score, 2.0 * FAR_CLASS);
    cJSON_Delete(s0);
}

TEST(where_a_type_is_wanted_a_type_leads) {
    /* `fn f() -> ⟨`: of two names imported, the struct before the function
     * and the constant; a scoped CamelCase name (a method's scope) is no
     * type of this chunk's. */
    imported_name_t imports[] = {{.name = "connect", .uses = 0, .module = "m"},
                                 {.name = "Conn", .uses = 0, .module = "m"},
                                 {.name = "MAX_CONNS", .uses = 0, .module = "m"}};
    fusion_query_t q = query_importing(imports, 3);
    q.type_wanted = true;
    cJSON *s0 =
        answer("{\"path\":\"f.rs\",\"symbols\":[\"connect\",\"Pool.get\"],"
               "\"signals\":{\"symbol\":1}},"
               "{\"path\":\"c.rs\",\"symbols\":[\"Conn\"],\"signals\":{\"symbol\":1}},"
               "{\"path\":\"k.rs\",\"symbols\":[\"MAX_CONNS\"],\"signals\":{\"symbol\":1}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "c.rs", SYM / 3 + 1.0 + 0.5);
    CHECK_NEAR(r.picks[1].score, SYM / 3 + 1.0);
    CHECK_NEAR(r.picks[2].score, SYM / 3 + 1.0);
    /* `⟨(`: a call, where the type is held against */
    q.type_wanted = false;
    q.call_wanted = true;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 2, "c.rs", SYM / 3 + 1.0 - 0.5);
    /* elsewhere, none has the term */
    q.call_wanted = false;
    r = rank(&q, s0, NULL);
    CHECK_NEAR(r.picks[0].score, SYM / 3 + 1.0);
    cJSON_Delete(s0);
}

TEST(an_imported_object_boosts_its_definitions) {
    imported_name_t imports[] = {{.name = "helper", .uses = 0, .module = "./h"}};
    fusion_query_t q = query_importing(imports, 1);
    cJSON *s0 = answer("{\"path\":\"graph.js\",\"signals\":{\"object\":1}},"
                       "{\"path\":\"h.js\",\"symbols\":[\"helper\"],\"signals\":{\"symbol\":3}}");
    /* Not typing a member of an import: the fresh import leads. */
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "h.js", SYM + 1.0);
    CHECK_NEAR(r.picks[1].score, 0.8);
    /* `graph.` where graph is imported: object x3, fresh x0.2. */
    q.object_imported = true;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "graph.js", 0.8 * 3);
    CHECK_PICK(r, 1, "h.js", SYM + 1.0 * 0.2);
    cJSON_Delete(s0);
}

TEST(at_most_per_file_chunks_of_one_file) {
    cJSON *s0 = answer("{\"path\":\"a.py\",\"start_line\":1,\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"a.py\",\"start_line\":2,\"signals\":{\"symbol\":2}},"
                       "{\"path\":\"a.py\",\"start_line\":3,\"signals\":{\"symbol\":1.5}}");
    cJSON *s1 = answer("{\"path\":\"a.py\",\"start_line\":4,\"signals\":{\"symbol\":1.2}},"
                       "{\"path\":\"b.py\",\"start_line\":5,\"signals\":{\"symbol\":1}}");
    fusion_query_t q = query(10);
    ranked_t r = rank(&q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_INT(r.picks[0].start_line, ==, 1);
    CHECK_INT(r.picks[1].start_line, ==, 2);
    CHECK_STR(r.picks[2].path, "b.py");
    q.per_file = 1;
    r = rank(&q, s0, s1);
    REQUIRE(r.count == 2);
    CHECK_INT(r.picks[0].start_line, ==, 1);
    CHECK_STR(r.picks[1].path, "b.py");
    /* k cuts after the cap. */
    q.per_file = 4;
    q.k = 3;
    r = rank(&q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_INT(r.picks[2].start_line, ==, 3);
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

/* `use registry::{EventId, EventInfo, Init}`: each chunk defining a name
 * imported and not used yet is an answer of its own, past the file's cap. */
TEST(fresh_imports_of_one_file_pass_its_cap) {
    imported_name_t imports[] = {{.name = "EventId", .uses = 0, .module = "registry"},
                                 {.name = "EventInfo", .uses = 0, .module = "registry"},
                                 {.name = "Init", .uses = 0, .module = "registry"},
                                 {.name = "Storage", .uses = 3, .module = "registry"}};
    fusion_query_t q = query_importing(imports, 4);
    q.per_file = 2;
    cJSON *s0 = answer("{\"path\":\"registry.rs\",\"start_line\":55,\"symbols\":[\"Init\"],"
                       "\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"registry.rs\",\"start_line\":12,\"symbols\":[\"EventInfo\"],"
                       "\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"registry.rs\",\"start_line\":1,\"symbols\":[\"EventId\"],"
                       "\"signals\":{\"symbol\":2}},"
                       "{\"path\":\"registry.rs\",\"start_line\":31,\"symbols\":[\"Storage\"],"
                       "\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"registry.rs\",\"start_line\":90,\"symbols\":[\"other\"],"
                       "\"signals\":{\"symbol\":3}}");
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 3);
    CHECK_INT(r.picks[0].start_line, ==, 55);
    CHECK_INT(r.picks[1].start_line, ==, 12);
    CHECK_INT(r.picks[2].start_line, ==, 1); /* a third of the file: fresh */
    CHECK_NEAR(r.picks[2].score, SYM * 2 / 3 + 1.0);
    cJSON_Delete(s0);
}

TEST(what_the_prompt_holds_is_not_offered_again) {
    const char *body = "def apply_discount(order, rate):\\n    return order.total * (1 - rate)\\n";
    char chunks[1024];
    snprintf(chunks, sizeof chunks,
             "{\"path\":\"in_prefix.py\",\"text\":\"%s\",\"signals\":{\"symbol\":3}},"
             "{\"path\":\"short.py\",\"text\":\"x = 1\",\"signals\":{\"symbol\":2}},"
             "{\"path\":\"other.py\",\"text\":\"def other(): pass\",\"signals\":{\"symbol\":1}}",
             body);
    cJSON *s0 = answer(chunks);
    const char *prefix = "import os\n"
                         "def apply_discount(order, rate):\n    return order.total * (1 - rate)\n"
                         "x = 1\n";
    fusion_query_t q = query(10);
    q.prefix = prefix;
    q.prefix_len = strlen(prefix);
    /* The two-line chunk is in the prefix; "x = 1" is too, but shorter than
     * 40 bytes it may well be a coincidence and stays. */
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_STR(r.picks[0].path, "short.py");
    CHECK_STR(r.picks[1].path, "other.py");
    /* The suffix counts as well; a skipped chunk does not use up the file's
     * share or k. */
    q.prefix = NULL;
    q.prefix_len = 0;
    q.suffix = prefix;
    q.suffix_len = strlen(prefix);
    q.k = 2;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_STR(r.picks[0].path, "short.py");
    q.suffix_len = 0;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_STR(r.picks[0].path, "in_prefix.py");
    cJSON_Delete(s0);
}

TEST(ablation_masks_remove_what_only_that_signal_found) {
    cJSON *s0 = answer("{\"path\":\"dense.py\",\"signals\":{\"dense\":0.9}},"
                       "{\"path\":\"bm25.py\",\"signals\":{\"bm25\":4}},"
                       "{\"path\":\"symbol.py\",\"signals\":{\"symbol\":3,\"dense\":0.1}},"
                       "{\"path\":\"import.py\",\"signals\":{\"import\":1}},"
                       "{\"path\":\"object.py\",\"signals\":{\"object\":1}},"
                       "{\"path\":\"uses.py\",\"signals\":{\"uses\":50}}");
    fusion_query_t q = query(10);
    q.per_file = 10;
    /* Uses alone never makes a candidate. */
    ranked_t r = rank(&q, s0, NULL);
    CHECK_INT(r.count, ==, 5);
    for (size_t i = 0; i < r.count; i++)
        CHECK(strcmp(r.picks[i].path, "uses.py") != 0);

    q.signals = SIGNAL_DENSE;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "dense.py", 0.15 * 0.9);
    CHECK_PICK(r, 1, "symbol.py", 0.15 * 0.1);

    q.signals = SIGNAL_BM25;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 1);
    CHECK_PICK(r, 0, "bm25.py", 0.3);

    q.signals = SIGNAL_STRUCTURE;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "object.py", fusion_weights_measured.object);
    CHECK_PICK(r, 1, "symbol.py", SYM);
    CHECK_STR(r.picks[2].path, "import.py");

    q.signals = SIGNAL_OBJECT | SIGNAL_IMPORT;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_STR(r.picks[0].path, "object.py");
    CHECK_STR(r.picks[1].path, "import.py");
    cJSON_Delete(s0);
}

TEST(ties_go_to_the_denser_then_to_the_path) {
    /* Dense weighs nothing here, so all three score the same. */
    fusion_weights_t w = fusion_weights_measured;
    w.dense = 0;
    cJSON *s0 = answer("{\"path\":\"c.py\",\"signals\":{\"symbol\":3,\"dense\":0.2}},"
                       "{\"path\":\"b.py\",\"signals\":{\"symbol\":3,\"dense\":0.7}}");
    cJSON *s1 = answer("{\"path\":\"a.py\",\"signals\":{\"symbol\":3,\"dense\":0.2}}");
    fusion_query_t q = query(10);
    ranked_t r = rank_with(&w, &q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_STR(r.picks[0].path, "b.py");
    CHECK_STR(r.picks[1].path, "a.py");
    CHECK_STR(r.picks[2].path, "c.py");
    /* The same whichever shard answered first. */
    r = rank_with(&w, &q, s1, s0);
    REQUIRE(r.count == 3);
    CHECK_STR(r.picks[0].path, "b.py");
    CHECK_STR(r.picks[1].path, "a.py");
    CHECK_STR(r.picks[2].path, "c.py");
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

TEST(picks_carry_the_chunk_and_tolerate_odd_answers) {
    cJSON *s0 = answer("{\"path\":\"src/a.ts\",\"language\":\"typescript\",\"kind\":\"function\","
                       "\"start_line\":3,\"end_line\":9,\"text\":\"function a() {}\","
                       "\"signals\":{\"symbol\":3}},"
                       "{\"text\":\"no path\",\"signals\":{\"symbol\":3}},"
                       "{\"path\":7,\"signals\":{\"symbol\":3}},"
                       "{\"path\":\"bare.ts\",\"signals\":{\"symbol\":\"x\",\"import\":2}},"
                       "{\"path\":\"nothing.ts\"}");
    fusion_query_t q = query(10);
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    const fusion_pick_t *p = &r.picks[0];
    CHECK_STR(p->path, "src/a.ts");
    CHECK_STR(p->language, "typescript");
    CHECK_STR(p->kind, "function");
    CHECK_STR(p->text, "function a() {}");
    CHECK_INT(p->text_len, ==, strlen("function a() {}"));
    CHECK_INT(p->start_line, ==, 3);
    CHECK_INT(p->end_line, ==, 9);
    p = &r.picks[1];
    CHECK_STR(p->path, "bare.ts");
    CHECK_STR(p->language, "");
    CHECK_STR(p->kind, "");
    CHECK_STR(p->text, "");
    CHECK_INT(p->start_line, ==, 0);
    cJSON_Delete(s0);
    /* No shard answered, or answers without chunks. */
    cJSON *odd = cJSON_Parse("{\"chunks\":{}}");
    r = rank(&q, NULL, odd);
    CHECK_INT(r.count, ==, 0);
    r = rank(&q, NULL, NULL);
    CHECK_INT(r.count, ==, 0);
    cJSON_Delete(odd);
}

TEST(lca_fusion_sets_the_named_weights) {
    fusion_weights_t w = fusion_weights_measured;
    CHECK_INT(fusion_weights_parse(&w, "symbol=2,dense=0.5,imported=0"), ==, 0);
    CHECK_NEAR(w.symbol, 2);
    CHECK_NEAR(w.dense, 0.5);
    CHECK_NEAR(w.imported, 0);
    CHECK_NEAR(w.bm25, 0.3); /* the others stay */
    CHECK_NEAR(w.object, 0.8);
    /* Every name. */
    CHECK_INT(fusion_weights_parse(&w, "dense=1,bm25=2,symbol=3,import=4,object=5,uses=6,fresh=7,"
                                       "imported=8"),
              ==, 0);
    CHECK_NEAR(w.dense + w.bm25 + w.symbol + w.import + w.object + w.uses + w.fresh + w.imported,
               36);
    CHECK_NEAR(w.fresh, 7);
    /* Empty items and an empty spec change nothing. */
    fusion_weights_t before = w;
    CHECK_INT(fusion_weights_parse(&w, ""), ==, 0);
    CHECK_INT(fusion_weights_parse(&w, ",,"), ==, 0);
    CHECK(memcmp(&before, &w, sizeof w) == 0);
}

TEST(lca_fusion_bad_items_are_skipped_the_rest_applies) {
    fusion_weights_t w = fusion_weights_measured;
    /* An unknown name (logged), an item without '=', a name with a space. */
    CHECK_INT(fusion_weights_parse(&w, "colour=1,symbol=0.9"), ==, -EINVAL);
    CHECK_NEAR(w.symbol, 0.9);
    CHECK_INT(fusion_weights_parse(&w, "object,bm25=0.2"), ==, -EINVAL);
    CHECK_NEAR(w.object, 0.8);
    CHECK_NEAR(w.bm25, 0.2);
    CHECK_INT(fusion_weights_parse(&w, " dense=1"), ==, -EINVAL);
    CHECK_NEAR(w.dense, 0.15);
    /* A value must be a number from 0 to 100: anything else is
     * refused (logged) and the weight keeps its value. */
    CHECK_INT(fusion_weights_parse(&w, "uses=abc,fresh=2x,import=1=2,object=-1,dense=nan"), ==,
              -EINVAL);
    CHECK_NEAR(w.uses, 0.1);
    CHECK_NEAR(w.fresh, 1);
    CHECK_NEAR(w.import, 0.5);
    CHECK_NEAR(w.object, 0.8);
    CHECK_NEAR(w.dense, 0.15);
    CHECK_INT(fusion_weights_parse(&w, "uses=0.25,fresh=2"), ==, 0);
    CHECK_NEAR(w.uses, 0.25);
    CHECK_NEAR(w.fresh, 2);
    /* Only the first 255 bytes are read: an item cut there is lost whole
     * or in part, without harm. */
    char spec[600];
    memset(spec, ',', sizeof spec);
    spec[sizeof spec - 1] = '\0';
    memcpy(spec, "symbol=5", 8);
    memcpy(spec + 246, "dense=3.25", 10); /* bytes 246 to 255 */
    memcpy(spec + 400, "bm25=9", 6);
    CHECK_INT(fusion_weights_parse(&w, spec), ==, 0);
    CHECK_NEAR(w.symbol, 5);
    CHECK_NEAR(w.dense, 3.2); /* cut after "dense=3.2" */
    CHECK_NEAR(w.bm25, 0.2);
}

/* An outline (a file's member signatures) leads the best member of its
 * file, whichever the shard ranked first: that member's score and terms,
 * plus `outline`; an outline of one member counts as none; at most
 * FUSION_OUTLINES outlines are picked. */
TEST(an_outline_leads_the_best_member_of_its_file) {
    cJSON *s0 =
        answer("{\"path\":\"a.py\",\"kind\":\"definition\",\"start_line\":10,\"end_line\":12,"
               "\"signals\":{\"member\":1,\"member_uses\":20}},"
               "{\"path\":\"a.py\",\"kind\":\"definition\",\"start_line\":20,\"end_line\":22,"
               "\"signals\":{\"member\":1,\"member_uses\":1}},"
               "{\"path\":\"a.py\",\"kind\":\"outline\",\"start_line\":10,\"end_line\":20,"
               "\"signals\":{\"member\":1,\"member_uses\":1,\"outline\":2}},"
               "{\"path\":\"d.py\",\"kind\":\"outline\",\"start_line\":1,\"end_line\":2,"
               "\"signals\":{\"member\":1,\"member_uses\":20,\"outline\":1}}");
    cJSON *s1 = answer("{\"path\":\"b.py\",\"kind\":\"definition\",\"start_line\":5,\"end_line\":6,"
                       "\"signals\":{\"member\":0.6}},"
                       "{\"path\":\"b.py\",\"kind\":\"outline\",\"start_line\":5,\"end_line\":9,"
                       "\"signals\":{\"member\":0.6,\"outline\":3}},"
                       "{\"path\":\"c.py\",\"kind\":\"outline\",\"start_line\":1,\"end_line\":9,"
                       "\"signals\":{\"member\":0.5,\"outline\":4}}");
    fusion_query_t q = query(10);
    ranked_t r = rank(&q, s0, s1);
    REQUIRE(r.count >= 4);
    double best = 2.0 + 1.0; /* member 1 x 2, member_uses 20 of 20 x 1 */
    CHECK_STR(r.picks[0].kind, "outline");
    CHECK_PICK(r, 0, "a.py", best + 0.5);
    CHECK_STR(r.picks[0].terms[r.picks[0].nterms - 1].signal, "outline");
    CHECK_INT(r.picks[1].start_line, ==, 10);
    CHECK_PICK(r, 1, "a.py", best);
    size_t outlines = 0;
    bool d_outline = false, c_outline = false;
    for (size_t i = 0; i < r.count; i++) {
        outlines += !strcmp(r.picks[i].kind, "outline") && strcmp(r.picks[i].path, "d.py");
        d_outline |= !strcmp(r.picks[i].path, "d.py");
        c_outline |= !strcmp(r.picks[i].path, "c.py");
    }
    CHECK_INT(outlines, ==, FUSION_OUTLINES);
    CHECK(!c_outline); /* the third, and the weakest */
    CHECK(d_outline);  /* one member: no outline bonus, ranked as its member */
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

/* At a type's place (`throws ⟨`), how often a class is written there
 * weighs TYPE_PLACE_USES times its usual member_uses weight, `member`
 * TYPE_PLACE_MEMBER of its own, and an imported class's `fresh` is not
 * reduced as it is for a module's members. */
TEST(a_type_place_weighs_its_uses_more) {
    cJSON *s0 =
        answer("{\"path\":\"Oops.java\",\"kind\":\"header\",\"start_line\":3,\"end_line\":9,"
               "\"signals\":{\"member\":1,\"member_uses\":9}},"
               "{\"path\":\"Node.java\",\"kind\":\"header\",\"start_line\":3,\"end_line\":5,"
               "\"signals\":{\"member\":1,\"member_uses\":0,\"member_hint\":1}}");
    fusion_query_t q = query(10);
    q.members = true;
    ranked_t r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    double plain = r.picks[0].score;
    for (size_t i = 0; i < r.count; i++)
        if (!strcmp(r.picks[i].path, "Oops.java"))
            plain = r.picks[i].score;
    q.type_place = true;
    r = rank(&q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_STR(r.picks[0].path, "Oops.java");
    const fusion_weights_t *w = &fusion_weights_measured;
    CHECK_NEAR(r.picks[0].score - plain,
               (TYPE_PLACE_USES - 1) * w->member_uses + (TYPE_PLACE_MEMBER - 1) * w->member);
    cJSON_Delete(s0);

    static const imported_name_t imports[] = {{.name = "Fault", .uses = 0}};
    cJSON *s1 = answer("{\"path\":\"x/Fault.java\",\"kind\":\"header\",\"start_line\":3,"
                       "\"end_line\":9,\"symbols\":[\"Fault\"],\"signals\":{\"symbol\":1}}");
    q.imports = imports;
    q.nimports = 1;
    q.type_place = false;
    r = rank(&q, s1, NULL);
    REQUIRE(r.count == 1);
    double reduced = r.picks[0].score;
    q.type_place = true;
    r = rank(&q, s1, NULL);
    REQUIRE(r.count == 1);
    CHECK_NEAR(r.picks[0].score - reduced, 0.8 * w->fresh);
    cJSON_Delete(s1);
}

/* A module's member whose file defines members the current file already
 * uses adds member_file (log, over the best of them); one the current file
 * uses none of, nothing; a chunk that is no member, nothing. */
TEST(a_members_file_the_current_file_uses_adds) {
    fusion_weights_t w = {.member = 1.0, .member_file = 1.0};
    CHECK_NEAR(fusion_weights_measured.member_file, 1.0);
    cJSON *s0 = answer("{\"path\":\"small.py\",\"signals\":{\"member\":1,\"member_file\":7}},"
                       "{\"path\":\"measures.py\",\"signals\":{\"member\":1,\"member_file\":1}},"
                       "{\"path\":\"other.py\",\"signals\":{\"member\":1}},"
                       "{\"path\":\"stray.py\",\"signals\":{\"bm25\":1,\"member_file\":50}}");
    fusion_query_t q = query(10);
    ranked_t r = rank_with(&w, &q, s0, NULL);
    REQUIRE(r.count == 4);
    CHECK_PICK(r, 0, "small.py", 1 + 1.0);
    CHECK_PICK(r, 1, "measures.py", 1 + log1p(1) / log1p(7));
    CHECK_PICK(r, 2, "other.py", 1);
    CHECK_PICK(r, 3, "stray.py", 0);
    cJSON_Delete(s0);
}

/* In a test file, the chunks of the file it tests add `subject`: in
 * flow/tests/test_mincost.py, flow/mincost.py's; not another test's of the
 * same name, and not outside a test file. */
TEST(a_test_files_subject_adds) {
    fusion_weights_t w = {.member = 1.0, .subject = 0.5};
    CHECK_NEAR(fusion_weights_measured.subject, 0.5);
    CHECK_NEAR(fusion_weights_question.subject, 0);
    cJSON *s0 = answer("{\"path\":\"nx/flow/capacity.py\",\"signals\":{\"member\":1.2}},"
                       "{\"path\":\"nx/flow/mincost.py\",\"signals\":{\"member\":1}},"
                       "{\"path\":\"nx/flow/mincostx.py\",\"signals\":{\"member\":1}},"
                       "{\"path\":\"nx/tests/mincost.py\",\"signals\":{\"member\":1.1}}");
    fusion_query_t q = query(10);
    q.path = "nx/flow/tests/test_mincost.py";
    ranked_t r = rank_with(&w, &q, s0, NULL);
    REQUIRE(r.count == 4);
    CHECK_PICK(r, 0, "nx/flow/mincost.py", 1 + 0.5);
    CHECK_PICK(r, 1, "nx/flow/capacity.py", 1.2);
    CHECK_PICK(r, 2, "nx/tests/mincost.py", 1.1);
    q.path = "nx/flow/mincost_user.py";
    r = rank_with(&w, &q, s0, NULL);
    CHECK_PICK(r, 0, "nx/flow/capacity.py", 1.2);
    cJSON_Delete(s0);
}

/* In a function whose name spells one of a module's members (a test of it,
 * a wrapper of it), or in a statement setting a name that spells one (a
 * re-export), that member adds `within`, by the share of the name it
 * makes up when that is half or more; not a method, not a chunk that is no
 * member, not the function's own definition. */
TEST(a_member_the_functions_name_spells_adds) {
    fusion_weights_t w = {.member = 1.0, .within = 2.0};
    CHECK_NEAR(fusion_weights_measured.within, 3.0);
    CHECK_NEAR(fusion_weights_question.within, 0);
    cJSON *s0 = answer(
        "{\"path\":\"gen/classic.py\",\"symbols\":[\"path_graph\"],\"signals\":{\"member\":1.5}},"
        "{\"path\":\"gen/lattice.py\",\"symbols\":[\"grid_2d_graph\"],\"signals\":{\"member\":1}},"
        "{\"path\":\"gen/grid.py\",\"symbols\":[\"Grid\",\"Grid.grid_2d\",\"grid_2d\"],"
        "\"signals\":{\"member\":1}},"
        "{\"path\":\"gen/graph.py\",\"symbols\":[\"graph\"],\"signals\":{\"member\":1}},"
        "{\"path\":\"tests/test_grid.py\",\"symbols\":[\"test_grid_2d_graph\"],"
        "\"signals\":{\"member\":1}},"
        "{\"path\":\"gen/stray.py\",\"symbols\":[\"grid_2d_graph\"],\"signals\":{\"bm25\":1}}");
    fusion_query_t q = query(10);
    q.path = "tests/test_grid.py";
    q.within = "test_grid_2d_graph";
    ranked_t r = rank_with(&w, &q, s0, NULL);
    REQUIRE(r.count == 6);
    CHECK_PICK(r, 0, "gen/lattice.py", 1 + 2.0);
    CHECK_PICK(r, 1, "gen/classic.py", 1.5);
    /* `graph` spells a quarter of it, the method `grid_2d` none, the test
     * itself is not its own subject */
    for (size_t i = 2; i < 5; i++)
        CHECK_NEAR(r.picks[i].score, 1);
    CHECK_PICK(r, 5, "gen/stray.py", 0);
    q.within = NULL;
    r = rank_with(&w, &q, s0, NULL);
    CHECK_PICK(r, 0, "gen/classic.py", 1.5);
    /* the name a statement outside any function sets spells alike */
    q.declared = "grid_2d_graph";
    r = rank_with(&w, &q, s0, NULL);
    CHECK_PICK(r, 0, "gen/lattice.py", 1 + 2.0);
    cJSON_Delete(s0);
}

/* A question: BM25 and dense weigh as fusion_weights_question says, and
 * the name signal, normalised by the best of all shards, adds its share:
 * a chunk only the name signal found still ranks. */
/* A question's answer is the code, not its tests: a test file's chunk loses
 * `test` (0.3), unless the query speaks of tests. */
TEST(a_question_holds_test_files_against) {
    const fusion_weights_t *w = &fusion_weights_question;
    CHECK_NEAR(w->test, 0.3);
    CHECK_NEAR(fusion_weights_measured.test, 0);
    cJSON *s0 = answer("{\"path\":\"tests/io_read.rs\",\"signals\":{\"bm25\":4,\"name\":1}},"
                       "{\"path\":\"src/io/read.rs\",\"signals\":{\"bm25\":3.6,\"name\":1}}");
    fusion_query_t q = query(10);
    ranked_t r = rank_with(w, &q, s0, NULL);
    REQUIRE(r.count == 2);
    CHECK_PICK(r, 0, "src/io/read.rs", (w->bm25 + w->file) * 0.9 + w->name);
    CHECK_PICK(r, 1, "tests/io_read.rs", w->bm25 + w->file + w->name - w->test);
    bool held = false;
    for (size_t t = 0; t < r.picks[1].nterms; t++)
        held |= !strcmp(r.picks[1].terms[t].signal, "test") && r.picks[1].terms[t].value == -1;
    CHECK(held);
    q.tests_asked = true;
    r = rank_with(w, &q, s0, NULL);
    CHECK_PICK(r, 0, "tests/io_read.rs", w->bm25 + w->file + w->name);
    cJSON_Delete(s0);
}

TEST(a_question_weighs_the_names_its_words_make) {
    const fusion_weights_t *w = &fusion_weights_question;
    CHECK_NEAR(w->bm25, 0.5);
    CHECK_NEAR(w->dense, 0.3);
    CHECK_NEAR(w->name, 1.3);
    CHECK_NEAR(w->symbol, 0);
    cJSON *s0 = answer("{\"path\":\"words.py\",\"signals\":{\"dense\":0.5,\"bm25\":4,\"name\":1}},"
                       "{\"path\":\"named.py\",\"signals\":{\"bm25\":1,\"name\":4}}");
    cJSON *s1 = answer("{\"path\":\"only.py\",\"signals\":{\"name\":2}}");
    fusion_query_t q = query(10);
    ranked_t r = rank_with(w, &q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "words.py", w->dense * 0.5 + w->bm25 + w->name / 4 + w->file);
    CHECK_PICK(r, 1, "named.py", (w->bm25 + w->file) / 4 + w->name);
    CHECK_PICK(r, 2, "only.py", w->name * 2 / 4);
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

/* What the file is about: every candidate of a file, from any shard, adds
 * the best BM25 among them; with the code's weights (no `file`), none. */
TEST(a_question_counts_what_the_file_is_about) {
    const fusion_weights_t *w = &fusion_weights_question;
    CHECK_NEAR(w->file, 1.6);
    CHECK_NEAR(fusion_weights_measured.file, 0);
    cJSON *s0 = answer("{\"path\":\"pool.py\",\"symbols\":[\"drain\"],\"signals\":{\"bm25\":4}},"
                       "{\"path\":\"other.py\",\"symbols\":[\"close\"],"
                       "\"signals\":{\"bm25\":1,\"name\":2}}");
    cJSON *s1 = answer("{\"path\":\"pool.py\",\"symbols\":[\"close\"],\"signals\":{\"name\":2}}");
    fusion_query_t q = query(10);
    ranked_t r = rank_with(w, &q, s0, s1);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "pool.py", w->name + w->file); /* close: named, and beside drain */
    CHECK_PICK(r, 1, "pool.py", w->bm25 + w->file);
    CHECK_PICK(r, 2, "other.py", (w->bm25 + w->file) / 4 + w->name);
    fusion_weights_t no_file = *w;
    no_file.file = 0;
    r = rank_with(&no_file, &q, s0, s1);
    CHECK_PICK(r, 0, "other.py", w->bm25 / 4 + w->name);
    cJSON_Delete(s0);
    cJSON_Delete(s1);
}

/* The slot: the names the shards found written around the cursor, summed
 * over them; a candidate the structure offers (an imported name, a
 * member, the object's definition) adds the share of the best name it
 * defines (a member by its last name); others add nothing, and a
 * stranger's numbers are left out. */
TEST(the_names_written_in_the_slot_lead_among_those_the_structure_offers) {
    fusion_weights_t w = {.object = 1.0, .member = 1.0, .slot = 6.0};
    fusion_query_t q = query(5);
    cJSON *a = cJSON_Parse(
        "{\"chunks\":[{\"path\":\"a.py\",\"symbols\":[\"Integer\"],\"signals\":{\"object\":1}},"
        "{\"path\":\"b.py\",\"symbols\":[\"Integer\"],\"signals\":{\"bm25\":1}}],"
        "\"slot\":{\"total\":6,\"names\":{\"Integer\":3,\"String\":1}}}");
    cJSON *b =
        cJSON_Parse("{\"chunks\":[{\"path\":\"c.py\",\"symbols\":[\"Table.String\"],\"signals\":{"
                    "\"member\":1}}],"
                    "\"slot\":{\"total\":4,\"names\":{\"Integer\":2,\"Bogus\":1e300,\"Neg\":-1}}}");
    REQUIRE(a && b);
    ranked_t r = rank_with(&w, &q, a, b);
    REQUIRE(r.count == 3);
    CHECK_PICK(r, 0, "a.py", 1 + 6.0 * 5 / 10);
    CHECK_PICK(r, 1, "c.py", 1 + 6.0 * 1 / 10);
    CHECK_PICK(r, 2, "b.py", 0);
    q.signals &= ~SIGNAL_USES; /* the slot is a use: without uses, none */
    r = rank_with(&w, &q, a, b);
    CHECK_NEAR(r.picks[0].score, 1);
    CHECK_NEAR(r.picks[1].score, 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
    a = cJSON_Parse(
        "{\"chunks\":[{\"path\":\"a.py\",\"symbols\":[\"Integer\"],"
        "\"signals\":{\"object\":1}}],\"slot\":{\"total\":1e300,\"names\":{\"Integer\":1}}}");
    b = cJSON_Parse("{\"chunks\":[],\"slot\":{\"total\":\"many\",\"names\":[1,2]}}");
    REQUIRE(a && b);
    q.signals = SIGNAL_ALL;
    ranked_t twice = rank_with(&w, &q, a, b);
    CHECK_NEAR(twice.picks[0].score, 1); /* 1e300: no sense */
    cJSON_Delete(a);
    a = cJSON_Parse("{\"chunks\":[{\"path\":\"a.py\",\"symbols\":[\"Integer\"],"
                    "\"signals\":{\"object\":1}}],"
                    "\"slot\":{\"total\":2,\"names\":{\"Integer\":2,\"Integer\":2}}}");
    twice = rank_with(&w, &q, a, b);
    CHECK_NEAR(twice.picks[0].score, 1 + 6.0); /* a name twice: its share is at most all */
    cJSON_Delete(a);
    a = cJSON_Parse(
        "{\"chunks\":[{\"path\":\"a.py\",\"symbols\":[\"Integer\"],"
        "\"signals\":{\"object\":1}}],\"slot\":{\"total\":1e300,\"names\":{\"Integer\":1}}}");
    REQUIRE(a && b);
    q.signals = SIGNAL_ALL;
    r = rank_with(&w, &q, a, b);
    REQUIRE(r.count == 1);
    CHECK_NEAR(r.picks[0].score, 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

TEST_MAIN(TEST_CASE(the_measured_weights),
          TEST_CASE(the_names_written_in_the_slot_lead_among_those_the_structure_offers),
          TEST_CASE(a_test_files_subject_adds), TEST_CASE(a_member_the_functions_name_spells_adds),
          TEST_CASE(a_question_holds_test_files_against),
          TEST_CASE(a_question_counts_what_the_file_is_about),
          TEST_CASE(a_members_file_the_current_file_uses_adds),
          TEST_CASE(an_outline_leads_the_best_member_of_its_file),
          TEST_CASE(a_type_place_weighs_its_uses_more),
          TEST_CASE(the_score_is_the_weighted_sum_of_normalised_signals),
          TEST_CASE(structure_dominates_bm25_and_dense),
          TEST_CASE(the_class_of_the_member_after_a_bare_name_scores),
          TEST_CASE(a_preamble_defines_what_it_lists),
          TEST_CASE(definitions_of_imported_names_fresh_before_used),
          TEST_CASE(a_renamed_import_is_defined_under_its_exported_name),
          TEST_CASE(an_import_named_like_its_line_leads_the_others),
          TEST_CASE(an_import_taking_what_its_line_passes_leads_the_others),
          TEST_CASE(of_two_classes_of_one_name_the_near_ones_members_lead),
          TEST_CASE(where_a_type_is_wanted_a_type_leads),
          TEST_CASE(an_imported_object_boosts_its_definitions),
          TEST_CASE(at_most_per_file_chunks_of_one_file),
          TEST_CASE(fresh_imports_of_one_file_pass_its_cap),
          TEST_CASE(what_the_prompt_holds_is_not_offered_again),
          TEST_CASE(ablation_masks_remove_what_only_that_signal_found),
          TEST_CASE(ties_go_to_the_denser_then_to_the_path),
          TEST_CASE(picks_carry_the_chunk_and_tolerate_odd_answers),
          TEST_CASE(lca_fusion_sets_the_named_weights),
          TEST_CASE(lca_fusion_bad_items_are_skipped_the_rest_applies),
          TEST_CASE(a_question_weighs_the_names_its_words_make))
