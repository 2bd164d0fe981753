/*
 * proto/code/lexeme: tokens, the cursor's slot read from a prefix and a
 * suffix (a stranger's request), and the names a chunk's text (a
 * repository's bytes) writes in that slot.
 *
 * The input is a prefix, a suffix and a text, split at NUL bytes.
 * Invariants: every token lies inside the text, is not empty and starts
 * after the previous one; the slot's tokens and anchors are NUL-terminated
 * and shorter than LEXEME_MAX, the anchors identifiers; the scan reports
 * identifiers of the text with a positive weight, and its total is their
 * sum; near an anchor it finds no more than in the whole text.
 */
#include "proto/code/lexeme.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <stddef.h>

typedef struct {
    const char *text;
    size_t len;
    double sum;
} seen_t;

static void found(const char *name, size_t len, double weight, void *arg) {
    seen_t *s = arg;
    FUZZ_ASSERT(name >= s->text && len <= s->len && name - s->text <= (ptrdiff_t)(s->len - len));
    FUZZ_ASSERT(lexeme_is_name(name, len));
    FUZZ_ASSERT(weight > 0 && weight <= 5.5);
    s->sum += weight;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_piece_t piece[3];
    if (fuzz_split(data, size, 0, piece, 3) < 3)
        return 0;
    const char *text = piece[2].data;
    size_t len = piece[2].len, at = 0, start, n, last_end = 0;
    while ((n = lexeme_next(text, len, &at, &start)) > 0) {
        FUZZ_ASSERT(start >= last_end && start + n <= len && at == start + n);
        last_end = at;
    }
    FUZZ_ASSERT(at == len);
    lexeme_slot_t slot;
    lexeme_slot_read(piece[0].data, piece[0].len, piece[1].data, piece[1].len, &slot);
    for (int k = 0; k < LEXEME_BEFORE; k++)
        FUZZ_ASSERT(strlen(slot.before[k]) < LEXEME_MAX);
    for (int k = 0; k < LEXEME_AFTER; k++)
        FUZZ_ASSERT(strlen(slot.after[k]) < LEXEME_MAX);
    FUZZ_ASSERT(slot.anchor_count <= LEXEME_ANCHORS);
    for (size_t k = 0; k < slot.anchor_count; k++)
        FUZZ_ASSERT(lexeme_is_name(slot.anchors[k], strlen(slot.anchors[k])));
    seen_t seen = {text, len, 0};
    double total = lexeme_slot_scan(&slot, text, len, found, &seen);
    FUZZ_ASSERT(total >= 0 && fabs(total - seen.sum) < 1e-6);
    /* near each anchor: no more than the whole text finds */
    for (size_t k = 0; k < slot.anchor_count; k++) {
        seen_t near = {text, len, 0};
        double part = lexeme_slot_scan_near(&slot, slot.anchors[k], text, len, found, &near);
        FUZZ_ASSERT(part >= 0 && fabs(part - near.sum) < 1e-6 && part <= total + 1e-6);
    }
    return 0;
}
