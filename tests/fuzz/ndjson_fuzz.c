/*
 * generator/ndjson: Ollama's NDJSON stream cut into lines as the bytes
 * arrive, and generator/relay's reading of Ollama's error bodies.
 *
 * The input's first bytes choose the line limit, a line at which the
 * callback stops the feed, and the seed of the read sizes; the rest is the
 * stream, fed in pieces of those sizes.  Invariant: the lines handed over
 * are exactly those of the stream cut at every "\n" (one "\r" before it
 * dropped, blank lines skipped), in order, up to the first line longer than
 * the limit (-E2BIG) or the callback's stop, whatever the read sizes.
 * relay_error_message() always writes a NUL-terminated, non-empty message.
 */
#include "generator/ndjson.h"
#include "generator/relay.h"
#include "proto/base/buf.h"
#include "tests/fuzz/fuzz.h"

#include <errno.h>

typedef struct {
    buf_t lines; /* each line as <length>:<bytes> */
    size_t count, stop_at;
} sink_t;

static void record(buf_t *b, const char *line, size_t len) {
    FUZZ_ASSERT(buf_printf(b, "%zu:", len) == 0);
    FUZZ_ASSERT(buf_append(b, line, len) == 0);
}

static int on_line(void *arg, const char *line, size_t len) {
    sink_t *s = arg;
    FUZZ_ASSERT(memchr(line, '\n', len) == NULL);
    record(&s->lines, line, len);
    return ++s->count == s->stop_at ? -1 : 0;
}

static bool blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* The lines of the whole stream by the rules above; returns the result the
 * feed (and finish) must end with: 0, -1 (stopped) or -E2BIG. */
static int reference(const char *s, size_t len, size_t max_line, size_t stop_at, buf_t *out) {
    size_t count = 0, start = 0;
    while (start < len) {
        const char *nl = memchr(s + start, '\n', len - start);
        size_t raw = nl ? (size_t)(nl - (s + start)) : len - start;
        if (raw > max_line)
            return -E2BIG;
        size_t n = raw && s[start + raw - 1] == '\r' ? raw - 1 : raw;
        if (!blank(s + start, n)) {
            record(out, s + start, n);
            if (++count == stop_at)
                return -1;
        }
        start += raw + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t limit = fuzz_take_byte(&data, &size);
    uint8_t stop = fuzz_take_byte(&data, &size);
    uint32_t seed = fuzz_take_byte(&data, &size) | 1u;
    size_t max_line = limit < 128 ? 1 + limit : (size_t)limit << 8;
    const char *stream = (const char *)data;

    sink_t sink = {BUF_INIT, 0, stop % 16};
    ndjson_t *nd = ndjson_new(max_line);
    FUZZ_ASSERT(nd != NULL);
    int rc = 0;
    size_t at = 0;
    while (at < size) {
        seed = seed * 1103515245u + 12345u;
        size_t piece = 1 + (seed >> 16) % (seed & 0x100 ? 7 : 300);
        if (piece > size - at)
            piece = size - at;
        rc = ndjson_feed(nd, stream + at, piece, on_line, &sink);
        at += piece;
        if (rc != 0)
            break;
        FUZZ_ASSERT(ndjson_pending(nd) <= max_line);
    }
    if (rc == 0) {
        const char *nl = size ? memrchr(stream, '\n', size) : NULL;
        size_t tail = nl ? size - (size_t)(nl - stream) - 1 : size;
        FUZZ_ASSERT(ndjson_pending(nd) == tail);
        rc = ndjson_finish(nd, on_line, &sink);
        FUZZ_ASSERT(ndjson_pending(nd) == 0);
    }
    ndjson_destroy(&nd);
    FUZZ_ASSERT(nd == NULL);

    buf_t want = BUF_INIT;
    int want_rc = reference(stream, size, max_line, sink.stop_at, &want);
    FUZZ_ASSERT(rc == want_rc);
    FUZZ_ASSERT(sink.lines.len == want.len);
    FUZZ_ASSERT(want.len == 0 || memcmp(sink.lines.data, want.data, want.len) == 0);
    buf_free(&want);
    buf_free(&sink.lines);

    /* The same bytes as an error body. */
    char message[160];
    size_t cap = 1 + limit % sizeof message;
    relay_error_message(stream, size, 400 + stop, message, cap);
    FUZZ_ASSERT(memchr(message, '\0', cap) != NULL);
    if (cap >= 32)
        FUZZ_ASSERT(message[0] != '\0');
    return 0;
}
