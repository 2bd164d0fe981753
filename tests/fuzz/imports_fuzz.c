/*
 * proto/code/imports: what a file of the repository imports (any bytes, in any
 * of the languages with a scanner), resolved against a fixed index of the
 * paths of tests/fixtures/repo plus a few more.
 *
 * The first input byte picks the importing file (and so the language, or a
 * language forced by its high bit); the rest is the file.  Invariants of
 * imports.h: entries in the order they appear (lines non-decreasing, within
 * the file), each with a name; each entry's files distinct paths of the
 * index, sorted, never the importing file; the union list every resolved
 * file exactly once, sorted.  repopath_join() never leaves the root and
 * gives a path without empty, "." or ".." components that fits.
 */
#include "proto/code/imports.h"
#include "proto/code/repopath.h"
#include "tests/fuzz/fuzz.h"

static const char *const paths[] = {
    "README.md",
    "c/include/inventory/stock.h",
    "c/lib/vec.h",
    "c/src/report.c",
    "c/src/stock.c",
    "c/src/util.h",
    "go.mod",
    "go/cmd/server/main.go",
    "go/internal/store/cache.go",
    "go/internal/store/store.go",
    "go/internal/store/store_test.go",
    "java/src/main/java/com/example/shop/App.java",
    "java/src/main/java/com/example/shop/model/Order.java",
    "java/src/main/java/com/example/shop/util/Money.java",
    "java/src/main/java/com/example/shop/util/Strings.java",
    "kt/src/main/kotlin/com/example/Cart.kt",
    "py/shop/__init__.py",
    "py/shop/main.py",
    "py/shop/models.py",
    "py/shop/services/__init__.py",
    "py/shop/services/billing.py",
    "py/shop/services/tax.py",
    "py/shop/util.py",
    "rust/Cargo.toml",
    "rust/src/config.rs",
    "rust/src/main.rs",
    "rust/src/lib.rs",
    "rust/src/net/http.rs",
    "rust/src/net/mod.rs",
    "web/legacy.cjs",
    "web/tsconfig.json",
    "web/src/api.ts",
    "web/src/components/Button.tsx",
    "web/src/index.ts",
    "web/src/util/format.ts",
    "web/src/util/index.js",
    "web/src/util/slug.mjs",
    "src/app.cpp",
    "include/app/app.hpp",
};
#define NPATHS (sizeof paths / sizeof paths[0])

static imports_index_t *index_get(void) {
    static imports_index_t *index;
    if (!index)
        FUZZ_ASSERT(imports_index_new(NULL, paths, NPATHS, &index) == 0);
    return index;
}

static bool in_index(const char *path) {
    for (size_t i = 0; i < NPATHS; i++)
        if (strcmp(paths[i], path) == 0)
            return true;
    return false;
}

static void check_sorted_distinct(const char *const *files, size_t n) {
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(files[i] != NULL && in_index(files[i]));
        if (i > 0)
            FUZZ_ASSERT(strcmp(files[i - 1], files[i]) < 0);
    }
}

static void check_join(const char *text, size_t len) {
    char *dir = fuzz_strndup(text, len / 2), *rel = fuzz_strndup(text + len / 2, len - len / 2);
    char out[128];
    size_t cap = 1 + len % sizeof out;
    if (repopath_join(dir, rel, out, cap)) {
        size_t n = strlen(out);
        FUZZ_ASSERT(n > 0 && n < cap);
        FUZZ_ASSERT(out[0] != '/' && out[n - 1] != '/' && !strstr(out, "//"));
        for (const char *c = out; c;) {
            const char *slash = strchr(c, '/');
            size_t clen = slash ? (size_t)(slash - c) : strlen(c);
            FUZZ_ASSERT(!(clen == 1 && c[0] == '.') && !(clen == 2 && c[0] == '.' && c[1] == '.'));
            c = slash ? slash + 1 : NULL;
        }
        char again[128];
        FUZZ_ASSERT(repopath_join("", out, again, sizeof again) && strcmp(again, out) == 0);
    }
    free(dir);
    free(rel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t pick = fuzz_take_byte(&data, &size);
    const char *path = paths[pick % NPATHS];
    const char *text = (const char *)data;
    lang_id_t lang = lang_detect(path, text, size);
    if (pick & 0x80)
        lang = (lang_id_t)(pick % LANG_COUNT);

    const imports_index_t *index = index_get();
    FUZZ_ASSERT(imports_index_count(index) == NPATHS);
    imports_t *im = NULL;
    FUZZ_ASSERT(imports_extract(index, path, lang, text, size, &im) == 0 && im != NULL);
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    int previous_line = 1;
    size_t total = 0;
    for (size_t i = 0; i < imports_count(im); i++) {
        const imports_entry_t *e = imports_get(im, i);
        FUZZ_ASSERT(e != NULL && e->name != NULL);
        FUZZ_ASSERT(e->line >= previous_line && e->line <= lines);
        previous_line = e->line;
        FUZZ_ASSERT((e->file_count == 0) == (e->files == NULL));
        check_sorted_distinct(e->files, e->file_count);
        for (size_t k = 0; k < e->file_count; k++) {
            FUZZ_ASSERT(strcmp(e->files[k], path) != 0);
            bool in_union = false;
            for (size_t u = 0; u < imports_file_count(im); u++)
                in_union |= strcmp(imports_file(im, u), e->files[k]) == 0;
            FUZZ_ASSERT(in_union);
        }
        total += e->file_count;
    }
    FUZZ_ASSERT(imports_get(im, imports_count(im)) == NULL);
    size_t n = imports_file_count(im);
    FUZZ_ASSERT(n <= total && imports_file(im, n) == NULL);
    FUZZ_ASSERT(n <= NPATHS);
    const char *files[NPATHS];
    for (size_t u = 0; u < n; u++)
        files[u] = imports_file(im, u);
    check_sorted_distinct(files, n);
    imports_destroy(&im);
    FUZZ_ASSERT(im == NULL);

    check_join(text, size);
    return 0;
}
