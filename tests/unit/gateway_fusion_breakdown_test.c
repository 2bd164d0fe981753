/*
 * gateway/fusion: the breakdown of a ranked chunk's score (fusion_term_t),
 * which /api/context and the status page show as "why it ranked".  The
 * terms must add up to the score exactly, name only the signals that
 * added something, and carry the weights the query really used.
 */
#include "gateway/fusion.h"
#include "tests/test.h"

#include <math.h>

static cJSON *answer(const char *chunks) {
    char text[4096];
    snprintf(text, sizeof text, "{\"chunks\":[%s]}", chunks);
    return cJSON_Parse(text);
}

/* The term of pick named signal, or NULL. */
static const fusion_term_t *term(const fusion_pick_t *p, const char *signal) {
    for (size_t i = 0; i < p->nterms; i++)
        if (!strcmp(p->terms[i].signal, signal))
            return &p->terms[i];
    return NULL;
}

static double sum(const fusion_pick_t *p) {
    double s = 0;
    for (size_t i = 0; i < p->nterms; i++)
        s += p->terms[i].value * p->terms[i].weight;
    return s;
}

TEST(the_terms_add_up_to_the_score_exactly) {
    cJSON *a = answer("{\"path\":\"a.py\",\"signals\":{\"dense\":0.37,\"bm25\":8.2,"
                      "\"symbol\":2,\"import\":1,\"object\":1,\"uses\":5}},"
                      "{\"path\":\"b.py\",\"signals\":{\"dense\":0.11,\"bm25\":3.3,\"uses\":2}},"
                      "{\"path\":\"c.py\",\"signals\":{\"import\":2}}");
    const cJSON *answers[] = {a};
    fusion_query_t q = {.signals = SIGNAL_ALL, .k = 8, .per_file = 2};
    fusion_pick_t picks[8];
    size_t n = fusion_rank(&fusion_weights_measured, &q, answers, 1, picks);
    REQUIRE(n == 3);
    for (size_t i = 0; i < n; i++) {
        CHECK(picks[i].nterms > 0 && picks[i].nterms <= FUSION_TERMS_MAX);
        /* Summed in the order listed, as fusion sums them: not near, equal. */
        CHECK(sum(&picks[i]) == picks[i].score);
    }
    const fusion_pick_t *top = &picks[0];
    CHECK_STR(top->path, "a.py");
    const fusion_term_t *t = term(top, "bm25");
    REQUIRE(t);
    CHECK(t->value == 1.0); /* the largest BM25 of the set normalises to 1 */
    CHECK(t->weight == fusion_weights_measured.bm25);
    t = term(top, "symbol");
    REQUIRE(t);
    CHECK(fabs(t->value - 2.0 / 3) < 1e-12);
    CHECK(term(top, "fresh") == NULL); /* no import matched: a zero term is left out */
    /* c.py was found only as a file imported in turn. */
    const fusion_pick_t *c = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(picks[i].path, "c.py"))
            c = &picks[i];
    CHECK(c && c->nterms == 1 && !strcmp(c->terms[0].signal, "import") && c->terms[0].value == 0.4);
    cJSON_Delete(a);
}

TEST(the_weights_are_those_the_query_used) {
    /* Typing a member of an imported module: object weighs 3 times more,
     * fresh 5 times less, and the breakdown says so. */
    imported_name_t imports[] = {{.name = "Graph", .uses = 0, .module = "./graph"}};
    cJSON *a = answer("{\"path\":\"graph.js\",\"symbols\":[\"Graph\"],"
                      "\"signals\":{\"symbol\":1,\"object\":1}}");
    const cJSON *answers[] = {a};
    fusion_query_t q = {.signals = SIGNAL_ALL,
                        .k = 4,
                        .per_file = 2,
                        .imports = imports,
                        .nimports = 1,
                        .object_imported = true};
    fusion_pick_t picks[4];
    REQUIRE(fusion_rank(&fusion_weights_measured, &q, answers, 1, picks) == 1);
    const fusion_term_t *object = term(&picks[0], "object"), *fresh = term(&picks[0], "fresh");
    REQUIRE(object && fresh);
    CHECK(fabs(object->weight - fusion_weights_measured.object * 3) < 1e-12);
    CHECK(fabs(fresh->weight - fusion_weights_measured.fresh * 0.2) < 1e-12);
    CHECK(sum(&picks[0]) == picks[0].score);
    cJSON_Delete(a);
}

TEST(a_signal_left_out_is_not_in_the_breakdown) {
    cJSON *a = answer("{\"path\":\"a.py\",\"signals\":{\"dense\":0.5,\"bm25\":4,\"symbol\":3}}");
    const cJSON *answers[] = {a};
    fusion_query_t q = {.signals = SIGNAL_BM25 | SIGNAL_SYMBOL, .k = 4, .per_file = 2};
    fusion_pick_t picks[4];
    REQUIRE(fusion_rank(&fusion_weights_measured, &q, answers, 1, picks) == 1);
    CHECK(term(&picks[0], "dense") == NULL);
    CHECK(term(&picks[0], "bm25") != NULL);
    CHECK(term(&picks[0], "symbol") != NULL);
    CHECK_INT(picks[0].nterms, ==, 2);
    cJSON_Delete(a);
}

TEST_MAIN(TEST_CASE(the_terms_add_up_to_the_score_exactly),
          TEST_CASE(the_weights_are_those_the_query_used),
          TEST_CASE(a_signal_left_out_is_not_in_the_breakdown))
