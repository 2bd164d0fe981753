/*
 * gateway/ui: the status page's files as compiled in, who may call its
 * routes, when / is the page rather than Ollama's answer, and the JSON the
 * page reads.  Served over HTTP in tests/ui/ (node, and Chromium).
 */
#include "gateway/gateway.h"
#include "gateway/ui.h"
#include "tests/test.h"

#include <cJSON.h>

static h2o_iovec_t iov(const char *s) {
    return s ? h2o_iovec_init(s, strlen(s)) : h2o_iovec_init(NULL, 0);
}

static const char *asset_text(const char *name) {
    const ui_asset_t *a = ui_asset_find(name, strlen(name));
    return a ? (const char *)a->data : NULL;
}

TEST(the_page_files_are_compiled_in) {
    const char *names[] = {"index.html", "app.js", "style.css"};
    for (size_t i = 0; i < 3; i++) {
        const ui_asset_t *a = ui_asset_find(names[i], strlen(names[i]));
        REQUIRE(a);
        CHECK(a->len > 500);
        CHECK(a->data[a->len] == '\0'); /* a NUL after, so it reads as text */
        CHECK_INT(strlen((const char *)a->data), ==, a->len);
    }
    CHECK(ui_asset_find("app", 3) == NULL);
    CHECK(ui_asset_find("app.jsx", 7) == NULL);
    CHECK_STR(ui_content_type("index.html"), "text/html; charset=utf-8");
    CHECK_STR(ui_content_type("app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(ui_content_type("style.css"), "text/css; charset=utf-8");
    CHECK_STR(ui_content_type("x.bin"), "application/octet-stream");
}

TEST(every_file_has_its_route) {
    for (const ui_asset_t *a = ui_assets; a->name; a++) {
        char path[64];
        snprintf(path, sizeof path, "/ui/%s", !strcmp(a->name, "index.html") ? "" : a->name);
        bool known = false;
        const http_route_t *r = http_route_find("GET", 3, path, strlen(path), &known);
        CHECK(r != NULL);
        if (r)
            CHECK(r->handler == ui_handle_file);
    }
}

TEST(the_page_obeys_its_own_policy) {
    const char *html = asset_text("index.html"), *js = asset_text("app.js");
    REQUIRE(html && js);
    /* default-src 'self' and nothing inline: every script has a src, no
     * style attribute, no inline event handler, nothing from elsewhere. */
    CHECK(strstr(ui_csp, "default-src 'self'") != NULL);
    CHECK(strstr(ui_csp, "unsafe") == NULL);
    for (const char *p = strstr(html, "<script"); p; p = strstr(p + 1, "<script")) {
        const char *end = strchr(p, '>');
        REQUIRE(end);
        CHECK(memmem(p, (size_t)(end - p), " src=\"/ui/", 10) != NULL);
    }
    CHECK(strstr(html, " style=") == NULL);
    CHECK(strstr(html, " onclick=") == NULL && strstr(html, " onload=") == NULL);
    CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    CHECK(strstr(html, "href=\"/ui/style.css\"") != NULL);
    /* The script writes what the server says as text, never as HTML. */
    CHECK(strstr(js, "innerHTML") == NULL && strstr(js, "outerHTML") == NULL);
    CHECK(strstr(js, "insertAdjacentHTML") == NULL && strstr(js, "eval(") == NULL);
    CHECK(strstr(js, "sessionStorage") != NULL);
}

TEST(only_the_own_origin_may_call) {
    const char *host = "127.0.0.1:11435";
    struct {
        const char *origin, *site, *mode;
        bool page, allowed;
    } cases[] = {
        {NULL, NULL, NULL, false, true}, /* curl, a script */
        {"http://127.0.0.1:11435", "same-origin", "cors", false, true},
        {"https://127.0.0.1:11435", NULL, NULL, false, true},
        {NULL, "none", "navigate", true, true},         /* the address typed */
        {NULL, "cross-site", "navigate", true, true},   /* a link from elsewhere */
        {NULL, "cross-site", "navigate", false, false}, /* ... to data: no */
        {NULL, "cross-site", "no-cors", false, false},  /* <script src> elsewhere */
        {NULL, "same-site", "cors", false, false},      /* another port of this host */
        {"http://localhost:3000", NULL, NULL, false, false},
        {"http://127.0.0.1:11436", "same-site", "cors", false, false},
        {"http://127.0.0.1", NULL, NULL, false, false}, /* port differs */
        {"null", NULL, NULL, false, false},
        {"vscode-webview://abc", NULL, NULL, false, false},
        {"http://127.0.0.1:11435.evil.com", NULL, NULL, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ui_caller_t c = {.origin = iov(cases[i].origin),
                         .host = iov(host),
                         .fetch_site = iov(cases[i].site),
                         .fetch_mode = iov(cases[i].mode),
                         .page = cases[i].page};
        const char *why = ui_refusal(&c);
        if ((why == NULL) != cases[i].allowed)
            fprintf(stderr, "  case %zu: %s\n", i, why ? why : "allowed");
        CHECK((why == NULL) == cases[i].allowed);
    }
    /* Without a Host nothing is "own". */
    ui_caller_t c = {.origin = iov("http://127.0.0.1:11435")};
    CHECK(ui_refusal(&c) != NULL);
}

TEST(slash_is_the_page_only_for_a_browser_opening_it) {
    const char *chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    CHECK(ui_browser_navigation(iov(chrome), iov("document"), true));
    CHECK(ui_browser_navigation(iov(chrome), iov(NULL), true));        /* no fetch metadata */
    CHECK(ui_browser_navigation(iov(chrome), iov("document"), false)); /* no upgrade header */
    CHECK(!ui_browser_navigation(iov(chrome), iov("empty"), false));   /* fetch() from a page */
    CHECK(!ui_browser_navigation(iov("*/*"), iov(NULL), false));       /* curl, ollama-js */
    CHECK(!ui_browser_navigation(iov(NULL), iov(NULL), false));
    /* Java's HttpURLConnection puts text/html first, but is no browser. */
    CHECK(!ui_browser_navigation(iov("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"),
                                 iov(NULL), false));
    CHECK(ui_path("/ui", 3) && ui_path("/ui/", 4) && ui_path("/ui/events", 10));
    CHECK(!ui_path("/uix", 4) && !ui_path("/", 1) && !ui_path("/api/ui", 7));
}

/* An entry as relay.c and rag.c leave it. */
static uint64_t recorded(void) {
    uint64_t id = history_begin("rid-7", "/api/generate", "m\"odel");
    context_chunk_t chunks[2] = {
        {.path = "a.py",
         .start_line = 1,
         .end_line = 9,
         .language = "python",
         .kind = "function",
         .score = 1.25,
         .text = "def a(): pass\n",
         .text_len = 14,
         .nterms = 2,
         .terms = {{"symbol", 1, 1}, {"bm25", 0.5, 0.5}}},
        {.path = "b.py", .start_line = 3, .end_line = 4, .text = "x = 1\n", .text_len = 6},
    };
    bool used[2] = {true, false};
    history_context(
        id,
        &(context_result_t){
            .status = 200, .collection = "shop", .chunks = chunks, .count = 2, .elapsed_ms = 2.5},
        used);
    history_first_token(id, 31);
    history_end(id, 200, 90, 5, 120);
    return id;
}

TEST(a_request_as_the_page_reads_it) {
    history_clear();
    uint64_t id = recorded();
    buf_t out = BUF_INIT;
    ui_append_request(&out, history_find(id));
    cJSON *j = cJSON_Parse(out.data);
    REQUIRE(j);
    CHECK_INT(cJSON_GetObjectItem(j, "id")->valuedouble, ==, id);
    CHECK_INT(cJSON_GetObjectItem(j, "version")->valuedouble, ==, 4);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "model")), "m\"odel");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "route")), "/api/generate");
    CHECK_INT(cJSON_GetObjectItem(j, "status")->valuedouble, ==, 200);
    CHECK(cJSON_GetObjectItem(j, "first_token_ms")->valuedouble == 31);
    CHECK_INT(cJSON_GetObjectItem(j, "tokens")->valuedouble, ==, 5);
    CHECK_INT(cJSON_GetObjectItem(j, "prompt_tokens")->valuedouble, ==, 120);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "reread_tokens")));
    const cJSON *context = cJSON_GetObjectItem(j, "context");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(context, "collection")), "shop");
    const cJSON *chunks = cJSON_GetObjectItem(context, "chunks");
    REQUIRE(cJSON_GetArraySize(chunks) == 2);
    const cJSON *a = cJSON_GetArrayItem(chunks, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a, "path")), "a.py");
    CHECK(cJSON_GetObjectItem(a, "text") == NULL); /* texts come one by one */
    const cJSON *breakdown = cJSON_GetObjectItem(a, "breakdown");
    REQUIRE(cJSON_GetArraySize(breakdown) == 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(breakdown, 1), "signal")),
              "bm25");
    const cJSON *used = cJSON_GetObjectItem(context, "used");
    CHECK(cJSON_IsTrue(cJSON_GetArrayItem(used, 0)) && cJSON_IsFalse(cJSON_GetArrayItem(used, 1)));
    cJSON_Delete(j);

    /* Running, no retrieval: nulls, not zeros. */
    buf_reset(&out);
    uint64_t running = history_begin("r", "/api/chat", "m");
    ui_append_request(&out, history_find(running));
    j = cJSON_Parse(out.data);
    REQUIRE(j);
    CHECK_INT(cJSON_GetObjectItem(j, "status")->valuedouble, ==, 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "first_token_ms")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "duration_ms")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "tokens")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "context")));
    cJSON_Delete(j);
    buf_free(&out);
    history_clear();
}

TEST(the_whole_state_as_the_page_reads_it) {
    history_clear();
    uint64_t older = recorded();
    uint64_t newer = history_begin("r2", "/v1/chat/completions", "llama");
    gateway_t gw = {.version = "9.9.9", .shards = 2, .api_key = "k"};
    collections_t *snapshot = collections_new();
    const char *shard0 = "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\","
                         "\"model\":\"builtin\",\"dim\":8,\"shards\":2,\"files\":3,"
                         "\"chunks\":30,\"seeded_at\":1700000000}]}";
    REQUIRE(snapshot && collections_merge_shard(snapshot, 0, 2, shard0, strlen(shard0)) == 0);
    snapshot->known = true;
    snapshot->shards_missing = 1;
    const char *broker = "{\"services\":{\"generate\":{\"workers\":1}},\"workers\":[{\"service\":"
                         "\"generate\",\"host\":\"gpu1\",\"key\":\"gpu1\",\"inflight\":1,"
                         "\"capacity\":4}]}";
    buf_t out = BUF_INIT;
    ui_append_state(&out, &gw, broker, NULL, snapshot);
    cJSON *j = cJSON_Parse(out.data);
    REQUIRE(j);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "version")), "9.9.9");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "auth")));
    CHECK_INT(cJSON_GetObjectItem(j, "history_max")->valuedouble, ==, HISTORY_MAX);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "broker_error")));
    const cJSON *worker =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "broker"), "workers"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(worker, "host")), "gpu1");
    const cJSON *collections = cJSON_GetObjectItem(j, "collections");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(collections, "known")));
    CHECK_INT(cJSON_GetObjectItem(collections, "shards_missing")->valuedouble, ==, 1);
    const cJSON *shop = cJSON_GetArrayItem(cJSON_GetObjectItem(collections, "list"), 0);
    const cJSON *spread = cJSON_GetObjectItem(shop, "shard_chunks");
    CHECK(cJSON_GetArrayItem(spread, 0)->valuedouble == 30);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(spread, 1)));
    const cJSON *requests = cJSON_GetObjectItem(j, "requests");
    REQUIRE(cJSON_GetArraySize(requests) == 2);
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(requests, 0), "id")->valuedouble, ==, newer);
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(requests, 1), "id")->valuedouble, ==, older);
    cJSON_Delete(j);

    /* No broker answer, no collections yet: still valid JSON the page can show. */
    buf_reset(&out);
    gw.api_key = NULL;
    ui_append_state(&out, &gw, NULL, "the broker is \"not\" reachable", NULL);
    j = cJSON_Parse(out.data);
    REQUIRE(j);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "broker")));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "broker_error")),
              "the broker is \"not\" reachable");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "auth")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "collections"), "known")));
    cJSON_Delete(j);
    buf_free(&out);
    collections_release(&snapshot);
    history_clear();
}

TEST_MAIN(TEST_CASE(the_page_files_are_compiled_in), TEST_CASE(every_file_has_its_route),
          TEST_CASE(the_page_obeys_its_own_policy), TEST_CASE(only_the_own_origin_may_call),
          TEST_CASE(slash_is_the_page_only_for_a_browser_opening_it),
          TEST_CASE(a_request_as_the_page_reads_it),
          TEST_CASE(the_whole_state_as_the_page_reads_it))
