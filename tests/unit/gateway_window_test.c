/*
 * gateway/window: a model's window from what Ollama answers to /api/show
 * and /api/ps (as Ollama 0.12 writes them), and the order in which they
 * count, without a server.
 */
#include "gateway/window.h"
#include "tests/test.h"

#include <string.h>

/* /api/show of a model whose Modelfile sets num_ctx, as Ollama prints it. */
static const char *show_with_num_ctx =
    "{\"license\":\"Apache\",\"modelfile\":\"FROM x\\nPARAMETER num_ctx 8192\\n\","
    "\"parameters\":\"num_ctx                        8192\\nstop                           "
    "\\\"<|endoftext|>\\\"\",\"template\":\"{{ .Prompt }}\",\"details\":{\"family\":\"qwen2\"},"
    "\"model_info\":{\"general.architecture\":\"qwen2\",\"qwen2.block_count\":28,"
    "\"qwen2.context_length\":32768,\"qwen2.embedding_length\":3584},"
    "\"capabilities\":[\"completion\",\"insert\"]}";

static const char *show_plain =
    "{\"parameters\":\"stop                           \\\"<|endoftext|>\\\"\","
    "\"model_info\":{\"general.architecture\":\"llama\",\"llama.context_length\":131072}}";

static const char *ps =
    "{\"models\":[{\"name\":\"qwen2.5-coder:7b\",\"model\":\"qwen2.5-coder:7b\",\"size\":1,"
    "\"context_length\":16384},{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\","
    "\"context_length\":4096}]}";

TEST(show_gives_the_num_ctx_parameter_and_the_trained_length) {
    window_facts_t f = {.loaded = 7};
    CHECK(window_parse_show(show_with_num_ctx, strlen(show_with_num_ctx), &f));
    CHECK_INT(f.num_ctx, ==, 8192);
    CHECK_INT(f.trained, ==, 32768);
    CHECK_INT(f.loaded, ==, 7); /* not show's to say */
    CHECK(window_parse_show(show_plain, strlen(show_plain), &f));
    CHECK_INT(f.num_ctx, ==, 0);
    CHECK_INT(f.trained, ==, 131072);
    /* odd answers: nothing learnt, never a crash */
    static const char *const odd[] = {
        "{}",
        "{\"parameters\":42,\"model_info\":[]}",
        "{\"parameters\":\"num_ctx\",\"model_info\":{\"x.context_length\":\"big\"}}",
        "{\"parameters\":\"num_ctx -5\\nnum_ctxx 9\"}",
        "{\"parameters\":\"num_ctx 99999999999999999999\"}",
        "{\"model_info\":{\"a.context_length\":-1}}",
        "{\"model_info\":{\"a.context_length\":1e300}}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        window_facts_t g = {0};
        CHECK(window_parse_show(odd[i], strlen(odd[i]), &g));
        CHECK_INT(g.num_ctx, ==, 0);
        CHECK_INT(g.trained, ==, 0);
    }
    window_facts_t g = {0};
    CHECK(!window_parse_show("not json", 8, &g));
    CHECK(!window_parse_show("[1]", 3, &g));
    CHECK(!window_parse_show(show_plain, 10, &g)); /* the length bounds it */
}

TEST(ps_gives_the_loaded_model_s_window) {
    window_facts_t f = {0};
    CHECK(window_parse_ps(ps, strlen(ps), "qwen2.5-coder:7b", &f));
    CHECK_INT(f.loaded, ==, 16384);
    /* ":latest" is implied where a name has no tag */
    CHECK(window_parse_ps(ps, strlen(ps), "llama3.2", &f));
    CHECK_INT(f.loaded, ==, 4096);
    CHECK(window_parse_ps(ps, strlen(ps), "qwen2.5-coder", &f));
    CHECK_INT(f.loaded, ==, 0); /* another tag: not loaded */
    CHECK(window_parse_ps(ps, strlen(ps), "qwen2.5-coder:7", &f));
    CHECK_INT(f.loaded, ==, 0);
    CHECK(window_parse_ps("{\"models\":[]}", 13, "llama3.2", &f));
    CHECK_INT(f.loaded, ==, 0);
    CHECK(window_parse_ps("{\"models\":[1,{\"name\":7}]}", 25, "llama3.2", &f));
    CHECK(!window_parse_ps("", 0, "llama3.2", &f));
}

TEST(the_window_in_ollama_s_order) {
    window_facts_t none = {0};
    CHECK_INT(window_tokens(&none, 0, 0), ==, WINDOW_DEFAULT);
    /* the request's num_ctx first */
    window_facts_t all = {.num_ctx = 8192, .trained = 32768, .loaded = 16384};
    CHECK_INT(window_tokens(&all, 2048, 0), ==, 2048);
    /* then the model's parameter */
    CHECK_INT(window_tokens(&all, 0, 0), ==, 8192);
    /* then what the loaded model runs with: the server's default */
    window_facts_t loaded = {.trained = 32768, .loaded = 16384};
    CHECK_INT(window_tokens(&loaded, 0, 0), ==, 16384);
    /* ... unless a client asked for that very window: it says nothing of
     * the default, which the next request without num_ctx gets */
    CHECK_INT(window_tokens(&loaded, 0, 16384), ==, WINDOW_DEFAULT);
    CHECK_INT(window_tokens(&loaded, 0, 2048), ==, 16384);
    /* never past what the model was trained with */
    window_facts_t small = {.trained = 2048};
    CHECK_INT(window_tokens(&small, 0, 0), ==, 2048);
    CHECK_INT(window_tokens(&small, 8192, 0), ==, 2048);
    window_facts_t param = {.num_ctx = 65536, .trained = 32768};
    CHECK_INT(window_tokens(&param, 0, 0), ==, 32768);
    /* and never less than Ollama's least */
    CHECK_INT(window_tokens(&none, 1, 0), ==, 4);
}

TEST(num_ctx_of_a_request) {
    cJSON *o = cJSON_Parse("{\"num_ctx\":1024}");
    CHECK_INT(window_asked(o), ==, 1024);
    cJSON_Delete(o);
    static const char *const odd[] = {"{\"num_ctx\":0}",      "{\"num_ctx\":-5}",
                                      "{\"num_ctx\":\"8k\"}", "{\"num_ctx\":1e12}",
                                      "{\"num_ctx\":null}",   "{}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        o = cJSON_Parse(odd[i]);
        CHECK_INT(window_asked(o), ==, 0);
        cJSON_Delete(o);
    }
    CHECK_INT(window_asked(NULL), ==, 0);
}

TEST_MAIN(TEST_CASE(show_gives_the_num_ctx_parameter_and_the_trained_length),
          TEST_CASE(ps_gives_the_loaded_model_s_window), TEST_CASE(the_window_in_ollama_s_order),
          TEST_CASE(num_ctx_of_a_request))
