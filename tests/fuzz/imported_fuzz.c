/*
 * proto/code/imported: the names a code prefix sent by a client imports.
 *
 * Invariants, read without a language and as each language: at most max
 * names, each a NUL-terminated identifier (ident.h's rule) shorter than
 * IMPORTED_NAME_MAX, all distinct,
 * each with a non-negative use count no greater than the number of its
 * occurrences in the text; modules NUL-terminated; a module's stem is a
 * NUL-terminated part of it that fits the buffer.
 */
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

    /* The stem of the text itself, as a module specifier. */
    char *module = fuzz_strndup(text, size < 256 ? size : 256);
    check_stem(module);
    free(module);
    return 0;
}
