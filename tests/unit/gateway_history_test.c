/*
 * gateway/history: the ring of recent requests the status page shows.
 * Bounded whatever the traffic, ids never reused, news about a request
 * whose slot was taken ignored, chunks copied (and cut) so that the
 * request's pool can go.
 */
#include "gateway/history.h"
#include "tests/test.h"

static int heard;
static uint64_t heard_id;

static void listener(const history_entry_t *e, void *arg) {
    (void)arg;
    heard++;
    heard_id = e->id;
}

TEST(a_request_is_recorded_as_it_goes) {
    history_clear();
    history_listen(listener, NULL);
    heard = 0;
    uint64_t id = history_begin("rid-1", "/api/generate", "qwen2.5-coder:1.5b-base");
    CHECK(id > 0);
    CHECK_INT(history_last_id(), ==, id);
    CHECK_INT(heard, ==, 1);
    const history_entry_t *e = history_find(id);
    REQUIRE(e);
    CHECK_STR(e->rid, "rid-1");
    CHECK_STR(e->route, "/api/generate");
    CHECK_STR(e->model, "qwen2.5-coder:1.5b-base");
    CHECK_INT(e->status, ==, 0); /* running */
    CHECK(e->first_token_ms < 0 && e->duration_ms < 0);
    CHECK(e->tokens < 0 && e->prompt_tokens < 0 && e->reread_tokens < 0);
    CHECK(!e->has_context);
    CHECK(e->started_ms > 1600000000000LL); /* wall clock, ms */

    history_first_token(id, 12.5);
    history_first_token(id, 99); /* only the first counts */
    CHECK(e->first_token_ms == 12.5);
    history_reread(id, 42);
    CHECK_INT(e->reread_tokens, ==, 42);
    history_end(id, 200, 80, 17, 300);
    CHECK_INT(e->status, ==, 200);
    CHECK(e->duration_ms == 80);
    CHECK_INT(e->tokens, ==, 17);
    CHECK_INT(e->prompt_tokens, ==, 300);
    history_end(id, 499, 90, 1, 1); /* ended once */
    CHECK_INT(e->status, ==, 200);
    CHECK_INT(heard, ==, 4);
    CHECK_INT(heard_id, ==, id);
    CHECK_INT(e->version, ==, 4); /* one per change */
    /* id 0 means "not recorded": every call ignores it. */
    history_first_token(0, 1);
    history_end(0, 200, 1, 1, 1);
    history_context(0, &(context_result_t){.status = 200}, NULL);
    CHECK(history_find(0) == NULL);
    CHECK_INT(heard, ==, 4);
    history_listen(NULL, NULL);
}

TEST(the_ring_is_bounded_and_ids_are_never_reused) {
    history_clear();
    uint64_t first = history_begin("a", "/api/chat", "m");
    uint64_t last = first;
    for (int i = 0; i < HISTORY_MAX; i++)
        last = history_begin("b", "/api/chat", "m");
    CHECK_INT(last, ==, first + HISTORY_MAX);
    /* first's slot went to last: news about first is dropped, not misfiled. */
    CHECK(history_find(first) == NULL);
    history_end(first, 500, 1, 1, 1);
    const history_entry_t *e = history_find(last);
    REQUIRE(e);
    CHECK_INT(e->status, ==, 0);
    CHECK(history_find(first + 1) != NULL); /* the oldest kept */
    CHECK(history_find(last + 1) == NULL);  /* not yet begun */
    history_clear();
    CHECK(history_find(last) == NULL);
    CHECK_INT(history_begin("c", "/api/chat", "m"), ==, last + 1);
    /* Long strings are cut to their fields, NULL is "". */
    char model[300];
    memset(model, 'x', sizeof model - 1);
    model[sizeof model - 1] = '\0';
    uint64_t id = history_begin(NULL, "/v1/chat/completions", model);
    e = history_find(id);
    REQUIRE(e);
    CHECK_STR(e->rid, "");
    CHECK_INT(strlen(e->model), ==, sizeof e->model - 1);
    history_clear();
}

TEST(the_context_is_copied_cut_and_marked) {
    history_clear();
    uint64_t id = history_begin("r", "/api/generate", "m");
    static char big[HISTORY_TEXT_MAX + 100];
    /* A long text of two-byte characters: cut below the limit, never inside one. */
    for (size_t i = 0; i + 1 < sizeof big; i += 2)
        big[i] = (char)0xc3, big[i + 1] = (char)0xa9;
    big[sizeof big - 1] = '\0';
    context_chunk_t chunks[HISTORY_CHUNKS_MAX + 3];
    bool used[HISTORY_CHUNKS_MAX + 3];
    char paths[HISTORY_CHUNKS_MAX + 3][16];
    for (int i = 0; i < HISTORY_CHUNKS_MAX + 3; i++) {
        snprintf(paths[i], sizeof paths[i], "f%d.py", i);
        chunks[i] = (context_chunk_t){.path = paths[i],
                                      .start_line = i + 1,
                                      .end_line = i + 5,
                                      .language = "python",
                                      .kind = "function",
                                      .score = 2.0 - i * 0.1,
                                      .text = i == 0 ? big : "def f(): pass\n",
                                      .text_len = i == 0 ? strlen(big) : 14,
                                      .nterms = 1};
        chunks[i].terms[0] = (fusion_term_t){"symbol", 1.0, 1.0};
        used[i] = i % 2 == 0;
    }
    context_result_t r = {.status = 200,
                          .collection = "shop",
                          .root = "/src/shop",
                          .chunks = chunks,
                          .count = HISTORY_CHUNKS_MAX + 3,
                          .elapsed_ms = 3.5};
    history_context(id, &r, used);
    memset(paths, 0, sizeof paths); /* the request's memory goes: the history kept copies */
    const history_entry_t *e = history_find(id);
    REQUIRE(e);
    CHECK(e->has_context);
    CHECK_STR(e->collection, "shop");
    CHECK(e->retrieval_ms == 3.5);
    CHECK_INT(e->nchunks, ==, HISTORY_CHUNKS_MAX);
    CHECK_INT(e->chunks_dropped, ==, 3);
    CHECK_STR(e->chunks[1].chunk.path, "f1.py");
    CHECK(e->chunks[0].used && !e->chunks[1].used);
    CHECK(e->chunks[0].truncated && !e->chunks[1].truncated);
    CHECK(e->chunks[0].chunk.text_len <= HISTORY_TEXT_MAX);
    CHECK_INT(e->chunks[0].chunk.text_len % 2, ==, 0);
    CHECK_INT(strlen(e->chunks[0].chunk.text), ==, e->chunks[0].chunk.text_len);
    CHECK_STR(e->chunks[1].chunk.text, "def f(): pass\n");
    CHECK_INT(e->chunks[1].chunk.nterms, ==, 1);
    CHECK_STR(e->chunks[1].chunk.terms[0].signal, "symbol");
    /* A second report replaces the first; a failed retrieval keeps none. */
    history_context(id, &(context_result_t){.status = 504, .elapsed_ms = 40}, NULL);
    CHECK(e->has_context);
    CHECK_INT(e->nchunks, ==, 0);
    CHECK_STR(e->collection, "");
    history_clear();
}

TEST_MAIN(TEST_CASE(a_request_is_recorded_as_it_goes),
          TEST_CASE(the_ring_is_bounded_and_ids_are_never_reused),
          TEST_CASE(the_context_is_copied_cut_and_marked))
