/*
 * gateway/session and gateway/window: what clients send (their windows,
 * their suffixes) and what Ollama answers (/api/show, /api/ps), read by
 * the editing sessions and the window lookup.
 *
 * The input is cut at 0xff bytes into: a remembered text, a client's
 * window, a chunk's text, a second window, and a JSON answer.  Invariants:
 *   - session_match() spans lie inside the remembered text, and "same"
 *     means the window's start is found there and agrees;
 *   - session_trim_head() cuts at a line start within the text;
 *   - session_restore() puts back bytes of what the session remembered;
 *   - session_leave_out_own() never grows the list; session_hold() holds
 *     what fits its budget;
 *   - session_scope() reads any bytes;
 *   - the window parsers read any bytes, and window_tokens() is at least 4.
 */
#include "gateway/session.h"
#include "gateway/window.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t mode = fuzz_take_byte(&data, &size);
    fuzz_piece_t pieces[5] = {{"", 0}, {"", 0}, {"", 0}, {"", 0}, {"", 0}};
    fuzz_split(data, size, 0xff, pieces, 5);
    const fuzz_piece_t *known = &pieces[0], *window = &pieces[1], *text = &pieces[2];

    session_match_t m = session_match(known->data, known->len, window->data, window->len);
    FUZZ_ASSERT(m.at <= known->len && m.agree <= known->len - m.at && m.agree <= window->len);
    if (m.same)
        FUZZ_ASSERT(m.agree > 0 && memcmp(known->data + m.at, window->data, m.agree) == 0);
    size_t cut = session_trim_head(known->data, known->len, mode, TOKENS_QWEN);
    FUZZ_ASSERT(cut <= known->len);
    FUZZ_ASSERT(cut == 0 || cut == known->len || known->data[cut - 1] == '\n');
    (void)session_scope(window->data, window->len);

    session_store_t *store = session_store_new(2, 1000);
    session_key_t key = {.client = "c", .model = "m", .collection = "", .path = "", .layout = 1};
    session_t *s = session_find(store, &key, known->data, known->len, 1);
    FUZZ_ASSERT(s != NULL);
    session_remember(s, NULL, 0, known->data, known->len);
    s = session_find(store, &key, window->data, window->len, 2);
    buf_t restored = BUF_INIT;
    size_t n = session_restore(s, window->data, window->len, mode * 8, TOKENS_ANY, &restored);
    FUZZ_ASSERT(n == restored.len && n <= known->len);
    if (n)
        FUZZ_ASSERT(memmem(known->data, known->len, restored.data, n) != NULL);
    session_remember(s, restored.data, restored.len, window->data, window->len);
    buf_free(&restored);

    context_chunk_t chunks[3];
    for (int i = 0; i < 3; i++)
        chunks[i] = (context_chunk_t){.path = i == 1 ? "b.py" : "a.py",
                                      .start_line = i,
                                      .end_line = i + 1,
                                      .language = "python",
                                      .kind = "function",
                                      .text = i == 2 ? pieces[3].data : text->data,
                                      .text_len = i == 2 ? pieces[3].len : text->len};
    const char *texts[] = {known->data, window->data};
    size_t lens[] = {known->len, window->len};
    size_t count = session_leave_out_own(s, chunks, 3, texts, lens, 2);
    FUZZ_ASSERT(count <= 3);
    session_budget_t budget = {
        .chars = (size_t)mode * 16, .tokens = (size_t)mode * 4, .family = TOKENS_QWEN};
    for (int round = 0; round < 3; round++)
        session_hold(s, (uint64_t)(mode & 1), chunks, count, &budget);
    const context_chunk_t *held;
    size_t nheld = session_held(s, &held), chars = 0;
    for (size_t i = 0; i < nheld; i++)
        chars += held[i].text_len;
    FUZZ_ASSERT(chars <= budget.chars);
    session_store_destroy(&store);

    window_facts_t facts = {0};
    window_parse_show(pieces[4].data, pieces[4].len, &facts);
    window_parse_ps(pieces[4].data, pieces[4].len, "qwen2.5-coder:7b", &facts);
    FUZZ_ASSERT(facts.num_ctx >= 0 && facts.trained >= 0 && facts.loaded >= 0);
    FUZZ_ASSERT(window_tokens(&facts, mode, 0) >= 4);
    return 0;
}
