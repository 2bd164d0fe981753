/*
 * seeder/ignore: a .gitignore read from the directory being indexed, and
 * paths matched against it.
 *
 * The input is cut at 0xff into the .gitignore text and paths (one a line,
 * the first byte of each line saying whether it is a directory).
 * Invariants:
 *   - the text added at once or line by line holds the same patterns and
 *     says the same of every path (patterns are kept in file order);
 *   - with "*" added last every path is excluded, with "!*" after it every
 *     path is re-included: the last matching pattern wins;
 *   - a plain glob (only literal characters, `*` and `?`; no brackets,
 *     escapes or `**` components) agrees with fnmatch(3): on the base name
 *     when it has no `/`, on the whole path (FNM_PATHNAME) when it has one.
 */
#include "seeder/ignore.h"
#include "tests/fuzz/fuzz.h"

#include <fnmatch.h>

/* The first line of text as a plain glob whose meaning fnmatch shares, or
 * NULL.  Lines with what the .gitignore syntax treats specially (comments,
 * `!`, escapes, trailing spaces or `/`, leading `/`) are not plain. */
static char *plain_glob(const char *text, size_t len) {
    const char *nl = memchr(text, '\n', len);
    size_t n = nl ? (size_t)(nl - text) : len;
    if (n == 0 || n > 200 || memchr(text, '\0', n) || memchr(text, '[', n) ||
        memchr(text, '\\', n) || strchr("#!/", text[0]) || text[n - 1] == ' ' ||
        text[n - 1] == '/' || text[n - 1] == '\r')
        return NULL;
    char *glob = fuzz_strndup(text, n);
    for (char *c = glob; c;) { /* `**` as a whole component means directories */
        char *slash = strchr(c, '/');
        size_t clen = slash ? (size_t)(slash - c) : strlen(c);
        if (clen == 2 && c[0] == '*' && c[1] == '*') {
            free(glob);
            return NULL;
        }
        c = slash ? slash + 1 : NULL;
    }
    return glob;
}

static size_t components(const char *s) {
    size_t n = 1;
    for (; *s; s++)
        n += *s == '/';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_piece_t pieces[2] = {{"", 0}, {"", 0}};
    fuzz_split(data, size, 0xff, pieces, 2);
    const char *text = pieces[0].data;
    size_t text_len = pieces[0].len;

    ignore_t *whole = ignore_new(), *by_line = ignore_new(), *last = ignore_new();
    FUZZ_ASSERT(whole && by_line && last);
    FUZZ_ASSERT(ignore_add_text(whole, text, text_len) == 0);
    size_t lines = 0;
    for (size_t at = 0; at < text_len;) {
        const char *nl = memchr(text + at, '\n', text_len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : text_len - at;
        FUZZ_ASSERT(ignore_add_text(by_line, text + at, n) == 0);
        lines++;
        at += n + 1;
    }
    FUZZ_ASSERT(ignore_count(whole) == ignore_count(by_line) && ignore_count(whole) <= lines);
    FUZZ_ASSERT(ignore_add_text(last, text, text_len) == 0);
    FUZZ_ASSERT(ignore_add_text(last, "\n*\n", 3) == 0);
    ignore_t *negated = ignore_new();
    FUZZ_ASSERT(ignore_add_text(negated, text, text_len) == 0);
    FUZZ_ASSERT(ignore_add_text(negated, "\n*\n!*", 5) == 0);

    char *glob = plain_glob(text, text_len);
    ignore_t *single = ignore_new();
    if (glob)
        FUZZ_ASSERT(ignore_add_text(single, glob, strlen(glob)) == 0 && ignore_count(single) == 1);

    const char *p = pieces[1].data, *end = p + pieces[1].len;
    for (size_t i = 0; p < end && i < 32; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool is_dir = n > 0 && (p[0] & 1);
        char *path = fuzz_strndup(n > 0 ? p + 1 : p, n > 0 ? n - 1 : 0);
        ignore_match_t m = ignore_match_path(whole, path, is_dir);
        FUZZ_ASSERT(m == IGNORE_NO_MATCH || m == IGNORE_EXCLUDED || m == IGNORE_INCLUDED);
        FUZZ_ASSERT(m == ignore_match_path(by_line, path, is_dir));
        if (components(path) <= 64) {
            FUZZ_ASSERT(ignore_match_path(last, path, is_dir) == IGNORE_EXCLUDED);
            FUZZ_ASSERT(ignore_match_path(negated, path, is_dir) == IGNORE_INCLUDED);
        }
        if (glob && components(path) <= 64) {
            const char *base = strrchr(path, '/');
            bool anchored = strchr(glob, '/') != NULL;
            const char *subject = anchored ? path : (base ? base + 1 : path);
            bool want = fnmatch(glob, subject, anchored ? FNM_PATHNAME : 0) == 0;
            bool got = ignore_match_path(single, path, is_dir) == IGNORE_EXCLUDED;
            if (want != got)
                fprintf(stderr, "fuzz: glob \"%s\" on \"%s\": fnmatch %d, ignore %d\n", glob,
                        subject, want, got);
            FUZZ_ASSERT(want == got);
        }
        free(path);
        p += n + 1;
    }
    free(glob);
    ignore_destroy(&whole);
    ignore_destroy(&by_line);
    ignore_destroy(&last);
    ignore_destroy(&negated);
    ignore_destroy(&single);
    FUZZ_ASSERT(whole == NULL && single == NULL);
    ignore_match_path(NULL, "x", false);
    return 0;
}
