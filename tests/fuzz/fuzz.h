/*
 * Helpers shared by the libFuzzer targets (tests/fuzz/<name>_fuzz.c).
 *
 * Every target defines LLVMFuzzerTestOneInput() over arbitrary bytes, frees
 * everything it allocates (LeakSanitizer runs), and checks the invariants
 * its API documents with FUZZ_ASSERT: a violated one traps, so libFuzzer
 * keeps the input as a crash just like a sanitizer report.
 */
#ifndef LCA_FUZZ_H
#define LCA_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);         \
            fflush(stderr);                                                                        \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* One piece of the input. */
typedef struct {
    const char *data;
    size_t len;
} fuzz_piece_t;

/* Cuts data at every byte sep into at most max pieces (the last one keeps
 * the rest, separators included).  Returns how many there are (>= 1). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, uint8_t sep, fuzz_piece_t *out,
                                size_t max) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i < size && n + 1 < max; i++) {
        if (data[i] == sep) {
            out[n++] = (fuzz_piece_t){(const char *)data + start, i - start};
            start = i + 1;
        }
    }
    out[n++] = (fuzz_piece_t){(const char *)data + start, size - start};
    return n;
}

/* A NUL-terminated heap copy of bytes (which may hold NULs themselves). */
static inline char *fuzz_strndup(const void *data, size_t len) {
    char *s = malloc(len + 1);
    if (!s)
        abort();
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* Takes one byte from the front of the input (0 when it is empty). */
static inline uint8_t fuzz_take_byte(const uint8_t **data, size_t *size) {
    if (*size == 0)
        return 0;
    uint8_t b = **data;
    (*data)++, (*size)--;
    return b;
}

/* True when needle occurs in hay[0..len). */
static inline bool fuzz_contains(const char *hay, size_t len, const char *needle) {
    return memmem(hay, len, needle, strlen(needle)) != NULL;
}

#endif
