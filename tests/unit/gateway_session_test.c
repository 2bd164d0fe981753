/*
 * gateway/session: editing sessions without a server — the client's
 * window found in what a session remembers, the head put back and cut at
 * line boundaries, the scope around the cursor, the file being edited
 * recognised from chunks, the held context that changes only at its end,
 * and a store bounded in count and time.
 */
#include "gateway/session.h"
#include "tests/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const session_key_t key = {.client = "127.0.0.1|ProxyAI",
                                  .model = "qwen2.5-coder:7b",
                                  .collection = "",
                                  .path = "",
                                  .layout = 1};

/* A file of n numbered functions, each a few lines long. */
static void file_of(buf_t *out, int n) {
    buf_reset(out);
    buf_append_str(out, "import os\nfrom .models import Order\n\n\n");
    for (int i = 0; i < n; i++)
        buf_printf(out,
                   "def step_%03d(order):\n    \"\"\"Step %d of the checkout.\"\"\"\n"
                   "    total = order.total() * %d\n    return total + len(order.lines)\n\n\n",
                   i, i, i);
}

/* ---- the window in the remembered text ---- */

TEST(match_finds_the_window_in_what_was_seen) {
    buf_t f = BUF_INIT;
    file_of(&f, 20);
    size_t cursor = f.len - 40;
    /* the window slid on: it starts later, agrees to its end */
    session_match_t m = session_match(f.data, cursor, f.data + 300, cursor + 10 - 300);
    CHECK(m.same);
    CHECK_INT(m.at, ==, 300);
    CHECK_INT(m.agree, ==, cursor - 300);
    /* an edit inside the window: still the same lines */
    buf_t edited = BUF_INIT;
    buf_append(&edited, f.data + 300, 400);
    buf_append_str(&edited, "    # a comment typed here\n");
    buf_append(&edited, f.data + 700, cursor - 700);
    m = session_match(f.data, cursor, edited.data, edited.len);
    CHECK(m.same);
    CHECK_INT(m.at, ==, 300);
    CHECK_INT(m.agree, ==, 400);
    /* another file, or a window too short to tell */
    const char *other = "def unrelated(x):\n    return x * 2\n# and nothing of the file\n";
    CHECK(!session_match(f.data, cursor, other, strlen(other)).same);
    CHECK(!session_match(f.data, cursor, f.data + 300, 10).same);
    CHECK(!session_match(NULL, 0, f.data, 200).same);
    CHECK(!session_match(f.data, cursor, NULL, 0).same);
    /* the same first bytes, then another text: not the same lines */
    buf_t fork = BUF_INIT;
    buf_append(&fork, f.data + 300, 70);
    buf_append_str(&fork,
                   "    raise NotImplementedError('this is not what the file says at all')\n");
    CHECK(!session_match(f.data, cursor, fork.data, fork.len).same);
    buf_free(&fork);
    buf_free(&edited);
    buf_free(&f);
}

/* The client's window: the last `window` bytes before the cursor. */
static size_t window_of(size_t cursor, size_t window) {
    return cursor > window ? cursor - window : 0;
}

TEST(restore_keeps_the_head_where_it_was) {
    session_store_t *store = session_store_new(8, 60000);
    buf_t f = BUF_INIT;
    file_of(&f, 30);
    size_t start = 1200, window = 500;
    size_t head = window_of(start, window);
    for (size_t cursor = start; cursor < start + 600; cursor += 7) {
        size_t from = window_of(cursor, window);
        session_t *s = session_find(store, &key, f.data + from, cursor - from, 1000);
        REQUIRE(s != NULL);
        buf_t restored = BUF_INIT;
        size_t n = session_restore(s, f.data + from, cursor - from, 4096, TOKENS_QWEN, &restored);
        /* what is put back is exactly the file between the first head and
         * the window's */
        CHECK_INT(n, ==, from - head);
        CHECK_INT(restored.len, ==, n);
        if (n)
            CHECK(memcmp(restored.data, f.data + head, n) == 0);
        session_remember(s, restored.data, restored.len, f.data + from, cursor - from);
        buf_free(&restored);
    }
    CHECK_INT(session_store_count(store), ==, 1);
    session_store_destroy(&store);
    CHECK(store == NULL);
    session_store_destroy(&store);
    buf_free(&f);
}

TEST(restore_re_anchors_at_a_line_past_its_cap) {
    session_store_t *store = session_store_new(8, 60000);
    buf_t f = BUF_INIT;
    file_of(&f, 60);
    size_t window = 400, cap = 120, cuts = 0;
    size_t head = window_of(1000, window), last_head = head;
    for (size_t cursor = 1000; cursor < 4000; cursor += 11) {
        size_t from = window_of(cursor, window);
        session_t *s = session_find(store, &key, f.data + from, cursor - from, 1000);
        buf_t restored = BUF_INIT;
        session_restore(s, f.data + from, cursor - from, cap, TOKENS_QWEN, &restored);
        CHECK(tokens_estimate(TOKENS_QWEN, restored.data, restored.len) <= cap);
        size_t now_head = from - restored.len;
        if (restored.len)
            CHECK(memcmp(restored.data, f.data + now_head, restored.len) == 0);
        if (now_head != last_head) {
            cuts++;
            /* a new head starts a line, and leaves room to grow */
            CHECK(f.data[now_head - 1] == '\n');
            CHECK(tokens_estimate(TOKENS_QWEN, restored.data, restored.len) <= cap / 2 + 1);
        }
        last_head = now_head;
        session_remember(s, restored.data, restored.len, f.data + from, cursor - from);
        buf_free(&restored);
    }
    /* it moved now and then, not at every keystroke */
    CHECK(cuts >= 3);
    CHECK(cuts < 40);
    session_store_destroy(&store);
    buf_free(&f);
}

TEST(restore_starts_again_when_the_window_is_elsewhere) {
    session_store_t *store = session_store_new(8, 60000);
    buf_t f = BUF_INIT;
    file_of(&f, 40);
    session_t *s = session_find(
        store,
        &(session_key_t){
            .client = "c", .model = "m", .collection = "", .path = "a.py", .layout = 0},
        f.data + 500, 400, 1000);
    session_remember(s, NULL, 0, f.data + 500, 400);
    buf_t restored = BUF_INIT;
    /* the cursor jumped far down: nothing to put back, a new anchor */
    CHECK_INT(session_restore(s, f.data + 3000, 400, 4096, TOKENS_QWEN, &restored), ==, 0);
    CHECK_INT(restored.len, ==, 0);
    session_remember(s, NULL, 0, f.data + 3000, 400);
    CHECK_INT(session_restore(s, f.data + 3050, 400, 4096, TOKENS_QWEN, &restored), ==, 50);
    CHECK(memcmp(restored.data, f.data + 3000, 50) == 0);
    /* a cap of 0 puts nothing back */
    buf_reset(&restored);
    CHECK_INT(session_restore(s, f.data + 3050, 400, 0, TOKENS_QWEN, &restored), ==, 0);
    buf_free(&restored);
    session_store_destroy(&store);
    buf_free(&f);
}

TEST(trim_head_cuts_at_line_starts) {
    buf_t f = BUF_INIT;
    file_of(&f, 10);
    size_t all = tokens_estimate(TOKENS_QWEN, f.data, f.len);
    CHECK_INT(session_trim_head(f.data, f.len, all, TOKENS_QWEN), ==, 0);
    for (size_t max = 0; max < all; max += 13) {
        size_t cut = session_trim_head(f.data, f.len, max, TOKENS_QWEN);
        CHECK(cut <= f.len);
        if (cut < f.len) {
            CHECK(f.data[cut - 1] == '\n');
            CHECK(tokens_estimate(TOKENS_QWEN, f.data + cut, f.len - cut) <= max);
            /* the line before would not have fitted */
            size_t prev = cut - 1;
            while (prev > 0 && f.data[prev - 1] != '\n')
                prev--;
            CHECK(tokens_estimate(TOKENS_QWEN, f.data + prev, f.len - prev) > max);
        }
    }
    CHECK_INT(session_trim_head("one line only", 13, 1, TOKENS_QWEN), ==, 13);
    buf_free(&f);
}

/* ---- the scope ---- */

static uint64_t scope_of(const char *text) {
    return session_scope(text, strlen(text));
}

TEST(scope_is_the_enclosing_definition) {
    const char *head = "class Cart:\n    def total(self, rate):\n";
    char a[256], b[256], c[256];
    snprintf(a, sizeof a, "%s        x = 1\n        if x:\n            retu", head);
    snprintf(b, sizeof b, "%s        x = 1\n        for y in z:\n            y += 1\n        ",
             head);
    snprintf(c, sizeof c, "%s        # a comment\n        @decorated\n        retur", head);
    uint64_t total = scope_of(a);
    CHECK(total != 0);
    /* control statements, comments, blank lines and a new line: same scope */
    CHECK(scope_of(b) == total);
    CHECK(scope_of(c) == total);
    /* a new line right after the def belongs to it */
    CHECK(scope_of("class Cart:\n    def total(self, rate):\n") == total);
    char d[256];
    snprintf(d, sizeof d, "%s        x = 1\n\n    def other(self):\n        ", head);
    CHECK(scope_of(d) != total);
    /* a statement's continuation lines are not a scope */
    char e[400];
    snprintf(e, sizeof e,
             "%s        assert issubclass(\n            x, Undefined\n        ), \"must be\"\n"
             "        assert (\n            a\n            != ",
             head);
    CHECK(scope_of(e) == total);
    snprintf(e, sizeof e, "%s        value = compute(\n            a,\n            b", head);
    CHECK(scope_of(e) == total);
    /* a header cut over lines is the header */
    uint64_t multi = scope_of("class Loader:\n    def get_source(\n        self, environment\n"
                              "    ) -> t.Tuple[str, str]:\n        x = 1\n        ");
    CHECK(multi != 0);
    CHECK(multi == scope_of("class Loader:\n    def get_source(\n        self, environment\n"
                            "    ) -> t.Tuple[str, str]:\n        if x:\n            y"));
    CHECK(multi != scope_of("class Loader:\n    x = 1\n    "));
    /* C: the line that opens the function, not its brace */
    uint64_t f = scope_of("static int f(int x)\n{\n    int y = x;\n    if (y) {\n        re");
    CHECK(f != 0);
    CHECK(scope_of("static int f(int x)\n{\n    return ") == f);
    CHECK(scope_of("static int g(void)\n{\n    return ") != f);
    /* JavaScript: a function expression in a module */
    CHECK(scope_of("export function a() {\n  const b = 1;\n  ") ==
          scope_of("export function a() {\n  if (c) {\n    d();\n  }\n  "));
    /* top level: no scope */
    CHECK(scope_of("import os\nx = 1\n") == 0);
    CHECK(scope_of("") == 0);
    CHECK(session_scope(NULL, 0) == 0);
    CHECK(scope_of("\n\n\n") == 0);
}

/* ---- the file being edited ---- */

static context_chunk_t chunk(const char *path, int start, const char *text) {
    return (context_chunk_t){.path = path,
                             .start_line = start,
                             .end_line = start + 3,
                             .language = "python",
                             .kind = "function",
                             .score = 1,
                             .text = text,
                             .text_len = strlen(text)};
}

TEST(own_chunks_are_recognised_and_left_out) {
    session_store_t *store = session_store_new(8, 60000);
    const char *window = "from .models import Order\n"
                         "import os\n\n\n"
                         "def parse_filter_block(self) -> nodes.FilterBlock:\n"
                         "    node = nodes.FilterBlock(lineno=next(self.stream).lineno)\n"
                         "    node.body = self.parse_statements((\"name:endfilter\",))\n"
                         "    return node\n\n\n"
                         "def parse_macro(self) -> nodes.Macro:\n    node = ";
    session_t *s = session_find(store, &key, window, strlen(window), 1000);
    context_chunk_t chunks[] = {
        chunk("jinja2/nodes.py", 10, "class Macro(Stmt):\n    fields = (\"name\", \"args\")\n"),
        /* the indexed copy of the file being edited: its lines are the window's */
        chunk("jinja2/parser.py", 400,
              "def parse_filter_block(self) -> nodes.FilterBlock:\n"
              "    node = nodes.FilterBlock(lineno=next(self.stream).lineno)\n"
              "    node.body = self.parse_statements((\"name:endfilter\",))\n"
              "    return node\n"),
        chunk("jinja2/utils.py", 5, "def concat(values):\n    return \"\".join(values)\n"),
        /* another chunk of that file, nowhere in the window */
        chunk("jinja2/parser.py", 20, "class Parser:\n    \"\"\"The parser.\"\"\"\n"),
        /* imports alone say nothing: every file has them */
        chunk("jinja2/lexer.py", 1, "from .models import Order\nimport os\n"),
    };
    const char *texts[] = {window};
    size_t lens[] = {strlen(window)};
    CHECK(session_own_path(s) == NULL);
    size_t n = session_leave_out_own(s, chunks, 5, texts, lens, 1);
    CHECK_INT(n, ==, 3);
    CHECK_STR(chunks[0].path, "jinja2/nodes.py");
    CHECK_STR(chunks[1].path, "jinja2/utils.py");
    CHECK_STR(chunks[2].path, "jinja2/lexer.py");
    CHECK_STR(session_own_path(s), "jinja2/parser.py");
    /* learnt: the file's chunks go even when they share no line */
    context_chunk_t later[] = {chunk("jinja2/parser.py", 90, "def parse_if(self):\n    pass\n"),
                               chunk("jinja2/nodes.py", 10, "class If(Stmt):\n    pass\n")};
    CHECK_INT(session_leave_out_own(s, later, 2, texts, lens, 1), ==, 1);
    CHECK_STR(later[0].path, "jinja2/nodes.py");
    /* one shared line is not enough to say so */
    session_t *t = session_find(
        store,
        &(session_key_t){.client = "x", .model = "m", .collection = "", .path = "", .layout = 0},
        window, strlen(window), 1000);
    context_chunk_t one[] = {chunk("b.py", 1,
                                   "def other(self):\n    return node\n"
                                   "    node = nodes.FilterBlock(lineno=next(self.stream).lineno)\n"
                                   "    x = compute_something_else_entirely(self)\n"
                                   "    y = and_one_more_line_of_its_own(x)\n")};
    CHECK_INT(session_leave_out_own(t, one, 1, texts, lens, 1), ==, 1);
    CHECK(session_own_path(t) == NULL);
    session_store_destroy(&store);
}

/* ---- the held context ---- */

static const session_budget_t roomy = {.chars = 100000, .tokens = 100000, .family = TOKENS_QWEN};

static context_chunk_t numbered(int i) {
    static char paths[32][32], texts[32][64];
    snprintf(paths[i], sizeof paths[i], "lib/mod_%02d.py", i);
    snprintf(texts[i], sizeof texts[i], "def helper_%02d(x):\n    return x + %d\n", i, i);
    return chunk(paths[i], i * 10, texts[i]);
}

/* The held list as indexes of numbered(), e.g. "3,1,4". */
static void held_list(session_t *s, char *out, size_t cap) {
    const context_chunk_t *h;
    size_t n = session_held(s, &h);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%d", i ? "," : "", atoi(h[i].path + 8));
    }
}

static bool hold(session_t *s, uint64_t scope, const int *ids, size_t n,
                 const session_budget_t *b) {
    context_chunk_t fresh[16];
    for (size_t i = 0; i < n; i++)
        fresh[i] = numbered(ids[i]);
    return session_hold(s, scope, fresh, n, b);
}

TEST(context_holds_still_in_one_scope) {
    session_store_t *store = session_store_new(8, 60000);
    session_t *s = session_find(store, &key, "x", 1, 1000);
    char list[128];
    /* the first retrieval is taken as it ranks */
    CHECK(hold(s, 7, (int[]){1, 2, 3, 4}, 4, &roomy));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,4");
    /* reshuffled, or one chunk missing: nothing moves */
    CHECK(!hold(s, 7, (int[]){4, 3, 2, 1}, 4, &roomy));
    CHECK(!hold(s, 7, (int[]){2, 3, 4}, 3, &roomy));
    /* a retrieval that failed or ran late: nothing moves */
    CHECK(!session_hold(s, 7, NULL, 0, &roomy));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,4");
    /* a new chunk among the best once: not yet; twice running: at the end */
    CHECK(!hold(s, 7, (int[]){9, 1, 2}, 3, &roomy));
    CHECK(hold(s, 7, (int[]){9, 1, 2}, 3, &roomy));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,4,9");
    /* offered twice but not among the best three: never */
    CHECK(!hold(s, 7, (int[]){1, 2, 3, 11}, 4, &roomy));
    CHECK(!hold(s, 7, (int[]){1, 2, 3, 11}, 4, &roomy));
    /* twice, but not running: not yet */
    CHECK(!hold(s, 7, (int[]){12, 1}, 2, &roomy));
    CHECK(!hold(s, 7, (int[]){1, 2}, 2, &roomy));
    CHECK(!hold(s, 7, (int[]){12, 1}, 2, &roomy));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,4,9");
    session_store_destroy(&store);
}

TEST(context_makes_room_at_its_end) {
    session_store_t *store = session_store_new(8, 60000);
    session_t *s = session_find(store, &key, "x", 1, 1000);
    /* room for four chunks */
    context_chunk_t c = numbered(1);
    size_t one = c.text_len + strlen(c.path) + 40;
    session_budget_t four = {.chars = 4 * one + 1, .tokens = 100000, .family = TOKENS_QWEN};
    char list[128];
    CHECK(hold(s, 7, (int[]){1, 2, 3, 4, 5}, 5, &four));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,4");
    /* 5 comes twice while 2 and 4 are no longer offered: the last of
     * those goes, so that what comes before it stays cached */
    CHECK(!hold(s, 7, (int[]){5, 1, 3}, 3, &four));
    CHECK(hold(s, 7, (int[]){5, 1, 3}, 3, &four));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,5");
    /* dropping what is no longer offered would not make room for a big
     * one: nothing moves (no chunk leaves for nothing) */
    static char big_text[2048];
    memset(big_text, 0, sizeof big_text);
    for (size_t i = 0; i + 1 < sizeof big_text && i < 3 * one; i++)
        big_text[i] = i % 40 == 39 ? '\n' : 'x';
    context_chunk_t big[] = {chunk("lib/big.py", 1, big_text), numbered(1), numbered(3)};
    CHECK(!session_hold(s, 7, big, 3, &four));
    CHECK(!session_hold(s, 7, big, 3, &four));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,5");
    /* everything held still offered: no room, nothing moves */
    CHECK(!hold(s, 7, (int[]){6, 1, 2, 3, 5}, 5, &four));
    CHECK(!hold(s, 7, (int[]){6, 1, 2, 3, 5}, 5, &four));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "1,2,3,5");
    session_store_destroy(&store);
}

TEST(a_new_scope_keeps_what_is_still_offered) {
    session_store_t *store = session_store_new(8, 60000);
    session_t *s = session_find(store, &key, "x", 1, 1000);
    char list[128];
    CHECK(hold(s, 7, (int[]){1, 2, 3, 4}, 4, &roomy));
    /* another function: 2 and 4 are still offered and keep their order,
     * then what is new, best first */
    CHECK(hold(s, 8, (int[]){6, 4, 2, 5}, 4, &roomy));
    held_list(s, list, sizeof list);
    CHECK_STR(list, "2,4,6,5");
    /* the same list in a new scope: no change */
    CHECK(!hold(s, 9, (int[]){4, 2, 6, 5}, 4, &roomy));
    /* within the token budget too */
    session_budget_t few = {.chars = 100000, .tokens = 60, .family = TOKENS_QWEN};
    hold(s, 10, (int[]){1, 2, 3, 4, 5, 6}, 6, &few);
    const context_chunk_t *h;
    size_t n = session_held(s, &h), tokens = 0;
    for (size_t i = 0; i < n; i++)
        tokens += tokens_estimate(TOKENS_QWEN, h[i].text, h[i].text_len);
    CHECK(n >= 1 && n < 6);
    CHECK(tokens <= 60);
    /* session_keep drops what the block had no room for */
    bool used[16] = {true, false, true};
    size_t before = n;
    session_keep(s, used);
    CHECK_INT(session_held(s, &h), ==, before > 2 ? 2 : 1);
    session_store_destroy(&store);
}

/* ---- the store ---- */

TEST(store_is_bounded_in_count_and_time) {
    session_store_t *store = session_store_new(3, 1000);
    char client[16];
    for (int i = 0; i < 5; i++) {
        snprintf(client, sizeof client, "c%d", i);
        session_key_t k = key;
        k.client = client;
        CHECK(session_find(store, &k, "text of a window", 16, 100 + i) != NULL);
        CHECK(session_store_count(store) <= 3);
    }
    CHECK_INT(session_store_count(store), ==, 3);
    /* silence past the ttl: gone at the next look */
    session_find(store, &key, "text of a window", 16, 5000);
    CHECK_INT(session_store_count(store), ==, 1);
    session_store_destroy(&store);
}

TEST(store_tells_files_apart_by_their_text) {
    session_store_t *store = session_store_new(16, 60000);
    buf_t a = BUF_INIT, b = BUF_INIT;
    file_of(&a, 10);
    file_of(&b, 10);
    for (size_t i = 0; i < b.len; i++) /* another file, the same shape */
        if (b.data[i] == 'o')
            b.data[i] = 'O';
    session_t *sa = session_find(store, &key, a.data + 100, 400, 1000);
    session_remember(sa, NULL, 0, a.data + 100, 400);
    session_t *sb = session_find(store, &key, b.data + 100, 400, 1001);
    session_remember(sb, NULL, 0, b.data + 100, 400);
    CHECK(sa != sb);
    /* each window finds its own file's session */
    CHECK(session_find(store, &key, a.data + 150, 400, 1002) == sa);
    CHECK(session_find(store, &key, b.data + 150, 400, 1003) == sb);
    CHECK_INT(session_store_count(store), ==, 2);
    /* a client that names its file has one session for it */
    session_key_t named = key;
    named.path = "src/a.py";
    session_t *n1 = session_find(store, &named, a.data, 300, 1004);
    session_t *n2 = session_find(store, &named, b.data, 300, 1005);
    CHECK(n1 == n2);
    /* at most SESSION_FILES_PER_CLIENT files per client */
    char text[96];
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof text, "def f%d():\n    return %d  # a file of its own here\n", i, i);
        session_t *s = session_find(store, &key, text, strlen(text), 2000 + i);
        session_remember(s, NULL, 0, text, strlen(text));
    }
    CHECK_INT(session_store_count(store), ==, SESSION_FILES_PER_CLIENT + 1);
    session_store_destroy(&store);
    buf_free(&a);
    buf_free(&b);
}

TEST_MAIN(TEST_CASE(match_finds_the_window_in_what_was_seen),
          TEST_CASE(restore_keeps_the_head_where_it_was),
          TEST_CASE(restore_re_anchors_at_a_line_past_its_cap),
          TEST_CASE(restore_starts_again_when_the_window_is_elsewhere),
          TEST_CASE(trim_head_cuts_at_line_starts), TEST_CASE(scope_is_the_enclosing_definition),
          TEST_CASE(own_chunks_are_recognised_and_left_out),
          TEST_CASE(context_holds_still_in_one_scope), TEST_CASE(context_makes_room_at_its_end),
          TEST_CASE(a_new_scope_keeps_what_is_still_offered),
          TEST_CASE(store_is_bounded_in_count_and_time),
          TEST_CASE(store_tells_files_apart_by_their_text))
