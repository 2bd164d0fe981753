/*
 * proto/code/imported and proto/code/cursor: the names a code prefix sent
 * by a client imports, what the thing before its cursor's dot is, the
 * function it is in and the name its statement sets.
 *
 * Invariants, read without a language and as each language: at most max
 * names, each a NUL-terminated identifier (ident.h's rule) shorter than
 * IMPORTED_NAME_MAX, all distinct,
 * each with a non-negative use count no greater than the number of its
 * occurrences in the text; modules NUL-terminated; a module's stem is a
 * NUL-terminated part of it that fits the buffer.
 */
#include "proto/code/cursor.h"
#include "proto/code/ident.h"
#include "proto/code/imported.h"
#include "tests/fuzz/fuzz.h"

static int occurrences(const char *text, size_t len, const char *name) {
    size_t n = strlen(name);
    int count = 0;
    for (const char *p = text; (p = memmem(p, (size_t)(text + len - p), name, n)) != NULL; p++)
        count++;
    return count;
}

static void check_stem(const char *module) {
    char stem[IMPORTED_NAME_MAX], small[4];
    imported_module_stem(module, stem, sizeof stem);
    FUZZ_ASSERT(memchr(stem, '\0', sizeof stem) != NULL);
    FUZZ_ASSERT(stem[0] == '\0' || strstr(module, stem) != NULL);
    imported_module_stem(module, small, sizeof small);
    FUZZ_ASSERT(memchr(small, '\0', sizeof small) != NULL);
    FUZZ_ASSERT(strncmp(small, stem, strlen(small)) == 0);
}

/* The cursor's reading of the same prefix: every field NUL-terminated,
 * counts within bounds, names identifiers. */
static void check_cursor(lang_id_t lang, const char *text, size_t size) {
    cursor_t c;
    cursor_read(lang, text, size, &c);
    FUZZ_ASSERT(c.kind <= CURSOR_TYPE);
    FUZZ_ASSERT(c.chain_len >= 0 && c.chain_len <= CURSOR_CHAIN_MAX);
    FUZZ_ASSERT(c.base_count >= 0 && c.base_count <= CURSOR_BASES_MAX);
    FUZZ_ASSERT(memchr(c.module, '\0', sizeof c.module) && memchr(c.type, '\0', sizeof c.type));
    FUZZ_ASSERT(memchr(c.partial, '\0', sizeof c.partial) && memchr(c.op, '\0', sizeof c.op));
    for (int i = 0; i < c.chain_len; i++) {
        size_t n = strnlen(c.chain[i], CURSOR_NAME_MAX);
        FUZZ_ASSERT(n > 0 && n < CURSOR_NAME_MAX && ident_len(c.chain[i], n) == n);
    }
    for (int i = 0; i < c.base_count; i++)
        FUZZ_ASSERT(strnlen(c.bases[i], CURSOR_NAME_MAX) < CURSOR_NAME_MAX);
    /* the function the cursor is in, and the name its statement sets: an
     * identifier when found, "" when not */
    char name[CURSOR_NAME_MAX];
    bool found = cursor_function(lang, text, size, name);
    size_t n = strnlen(name, sizeof name);
    FUZZ_ASSERT(n < sizeof name && found == (n > 0) && ident_len(name, n) == n);
    found = cursor_declared(lang, text, size, name);
    n = strnlen(name, sizeof name);
    FUZZ_ASSERT(n < sizeof name && found == (n > 0) && ident_len(name, n) == n);
}

static void check_names(lang_id_t lang, const char *text, size_t size, size_t max) {
    imported_name_t *out = max ? calloc(max, sizeof *out) : NULL;
    size_t n = lang == LANG_UNKNOWN ? imported_names(text, size, out, max)
                                    : imported_names_of(lang, text, size, out, max);
    FUZZ_ASSERT(n <= max);
    for (size_t i = 0; i < n; i++) {
        const imported_name_t *e = &out[i];
        size_t len = strnlen(e->name, IMPORTED_NAME_MAX);
        FUZZ_ASSERT(len > 0 && len < IMPORTED_NAME_MAX);
        FUZZ_ASSERT(ident_len(e->name, len) == len);
        FUZZ_ASSERT(e->uses >= 0 && e->uses <= occurrences(text, size, e->name));
        FUZZ_ASSERT(memchr(e->module, '\0', IMPORTED_NAME_MAX) != NULL);
        for (size_t j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(out[j].name, e->name) != 0);
        check_stem(e->module);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t max = fuzz_take_byte(&data, &size) % 80;
    const char *text = (const char *)data;
    check_names(LANG_UNKNOWN, text, size, max);
    check_names((lang_id_t)(max % LANG_COUNT), text, size, max);
    check_cursor(LANG_UNKNOWN, text, size);
    check_cursor((lang_id_t)(max % LANG_COUNT), text, size);

    /* The stem of the text itself, as a module specifier. */
    char *module = fuzz_strndup(text, size < 256 ? size : 256);
    check_stem(module);
    free(module);
    return 0;
}
