/*
 * proto/code/subword: the identifier tokenizer every part of lca shares, over
 * any bytes (file contents, prompts, queries).
 *
 * The first input byte picks the flags and a render buffer size; the rest
 * is the text.  Invariants (see subword.h):
 *   - every token is 1.. bytes of [a-z0-9] and valid non-ASCII UTF-8, taken
 *     from an identifier inside the text of at most SUBWORD_IDENT_MAX bytes;
 *   - per identifier, the WHOLE token comes first and its PART tokens follow
 *     in order 0..parts-1, and (with both kinds emitted) the parts put
 *     together are the whole token;
 *   - SKIP_SINGLE, SKIP_KEYWORDS and UNIQUE drop what they say;
 *   - subword_render() is the tokens joined by spaces; into a small buffer
 *     it is -ENOSPC with a prefix of whole tokens; subword_render_new()
 *     gives the same string;
 *   - subword_split() gives ordered, disjoint parts inside the identifier;
 *   - subword_spelled() is a share, from 0 to 1.
 */
#include "proto/base/buf.h"
#include "proto/base/json.h"
#include "proto/code/subword.h"
#include "tests/fuzz/fuzz.h"

#include <errno.h>

typedef struct {
    const char *text;
    size_t len;
    unsigned flags;
    buf_t joined;     /* the tokens joined by spaces */
    buf_t whole;      /* the WHOLE token of the current identifier */
    buf_t parts;      /* its PART tokens so far, concatenated */
    unsigned next;    /* the next PART index expected */
    unsigned parts_n; /* parts of the current identifier */
    const char *ident;
    buf_t seen; /* with UNIQUE: every token so far, each followed by '\n' */
} scan_t;

static void end_identifier(scan_t *s) {
    /* With WHOLE and PARTS both emitted, a multi-part identifier's parts
     * put together are its whole token. */
    if (s->ident && s->next > 0 && (s->flags & SUBWORD_WHOLE) && !(s->flags & 0x1c) &&
        s->whole.len) {
        FUZZ_ASSERT(s->next == s->parts_n);
        FUZZ_ASSERT(s->parts.len == s->whole.len &&
                    memcmp(s->parts.data, s->whole.data, s->whole.len) == 0);
    }
    buf_reset(&s->whole);
    buf_reset(&s->parts);
    s->next = 0;
    s->ident = NULL;
}

static int on_token(const subword_token_t *t, void *arg) {
    scan_t *s = arg;
    FUZZ_ASSERT(t->len >= 1 && strlen(t->text) == t->len);
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->text[i];
        FUZZ_ASSERT((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80);
    }
    FUZZ_ASSERT(utf8_valid(t->text, t->len));
    FUZZ_ASSERT(t->ident >= s->text && t->ident_len >= 1 && t->ident_len <= SUBWORD_IDENT_MAX &&
                t->ident + t->ident_len <= s->text + s->len);
    FUZZ_ASSERT(t->keyword == subword_is_keyword(t->ident, t->ident_len));
    FUZZ_ASSERT(t->parts >= 1 && t->parts <= SUBWORD_PARTS_MAX);
    if (s->flags & SUBWORD_SKIP_SINGLE)
        FUZZ_ASSERT(t->len > 1);
    if (s->flags & SUBWORD_SKIP_KEYWORDS)
        FUZZ_ASSERT(!t->keyword);
    if (s->flags & SUBWORD_UNIQUE) {
        buf_t *seen = &s->seen;
        for (size_t at = 0; at < seen->len;) {
            const char *nl = memchr(seen->data + at, '\n', seen->len - at);
            size_t n = (size_t)(nl - (seen->data + at));
            FUZZ_ASSERT(!(n == t->len && memcmp(seen->data + at, t->text, n) == 0));
            at += n + 1;
        }
        buf_append(seen, t->text, t->len);
        buf_append(seen, "\n", 1);
    }
    if (t->ident != s->ident) {
        end_identifier(s);
        s->ident = t->ident;
        s->parts_n = t->parts;
    }
    if (t->kind == SUBWORD_KIND_WHOLE) {
        FUZZ_ASSERT(t->part == 0 && s->next == 0 && s->whole.len == 0);
        buf_append(&s->whole, t->text, t->len);
    } else {
        FUZZ_ASSERT(t->kind == SUBWORD_KIND_PART && t->parts >= 2 && t->part < t->parts);
        if (!(s->flags & 0x1c)) /* nothing dropped: parts come one after another */
            FUZZ_ASSERT(t->part == s->next);
        s->next = t->part + 1;
        buf_append(&s->parts, t->text, t->len);
    }
    if (s->joined.len)
        buf_append(&s->joined, " ", 1);
    buf_append(&s->joined, t->text, t->len);
    return 0;
}

static void check_split(const char *text, size_t len) {
    size_t offsets[SUBWORD_PARTS_MAX], lengths[SUBWORD_PARTS_MAX];
    size_t max = 1 + len % SUBWORD_PARTS_MAX;
    int n = subword_split(text, len, offsets, lengths, max);
    FUZZ_ASSERT(n >= 0 && (size_t)n <= max);
    size_t end = 0;
    for (int i = 0; i < n; i++) {
        FUZZ_ASSERT(lengths[i] >= 1 && offsets[i] >= end && offsets[i] + lengths[i] <= len);
        end = offsets[i] + lengths[i];
    }
}

/* The text cut in two at its first NUL or newline: how much of the first
 * the second spells is a share, 1 for a name spelling itself whole. */
static void check_spelled(const char *text, size_t len) {
    char *copy = malloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *second = strchr(copy, '\n');
    if (second)
        *second++ = '\0';
    const char *name = second ? second : copy;
    double share = subword_spelled(copy, name);
    FUZZ_ASSERT(share >= 0 && share <= 1);
    FUZZ_ASSERT(subword_spelled(copy, NULL) == 0 && subword_spelled(NULL, name) == 0);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t setup = fuzz_take_byte(&data, &size);
    unsigned flags = setup & 0x1f;
    const char *text = (const char *)data;
    scan_t s = {.text = text, .len = size, .flags = flags};
    if (!(flags & (SUBWORD_WHOLE | SUBWORD_PARTS))) /* as subword_scan() reads them */
        s.flags |= SUBWORD_DEFAULT;
    FUZZ_ASSERT(subword_scan(text, size, flags, on_token, &s) == 0);
    end_identifier(&s);

    size_t got_len = 0;
    char *rendered = subword_render_new(text, size, flags, &got_len);
    FUZZ_ASSERT(rendered != NULL && got_len == s.joined.len && strlen(rendered) == got_len);
    FUZZ_ASSERT(got_len == 0 || memcmp(rendered, s.joined.data, got_len) == 0);

    size_t cap = 1 + (size_t)(setup >> 5) * 9;
    char *small = malloc(cap);
    size_t small_len = 0;
    int rc = subword_render(text, size, flags, small, cap, &small_len);
    FUZZ_ASSERT(small_len < cap && strlen(small) == small_len);
    if (got_len + 1 <= cap) {
        FUZZ_ASSERT(rc == 0 && small_len == got_len);
    } else {
        FUZZ_ASSERT(rc == -ENOSPC && small_len < got_len);
        FUZZ_ASSERT(small_len == 0 ||
                    (memcmp(small, rendered, small_len) == 0 && rendered[small_len] == ' '));
    }
    free(small);
    free(rendered);

    check_split(text, size);
    check_spelled(text, size);
    buf_free(&s.joined);
    buf_free(&s.whole);
    buf_free(&s.parts);
    buf_free(&s.seen);
    return 0;
}
