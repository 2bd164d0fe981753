/*
 * Imported names (see imported.h), read from importscan's records: every
 * name a statement binds, with the module it comes from and the end of the
 * statement, after which its uses are counted as whole words.
 */
#include "proto/code/imported.h"

#include "proto/base/map.h"
#include "proto/code/codemask.h"
#include "proto/code/ident.h"
#include "proto/code/importscan.h"
#include "proto/code/module.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_SPANS 256

typedef struct {
    imported_name_t *out;
    size_t max, count;
    size_t ends[512]; /* where each name's import statement ends (for counting uses) */
    /* the import statements, from the start of the line naming the module to
     * the statement's end: a name written there is imported, not used
     * (`import a.ScrollPane.ScrollBarPolicy;` after `import a.ScrollPane;`) */
    size_t spans[IMPORT_SPANS][2];
    size_t nspans;
    const char *text;
    size_t len, at; /* at: the start of line `line`, moving forward */
    int line;
} names_t;

static void span_add(names_t *acc, const importscan_t *im) {
    while (acc->line < im->line && acc->at < acc->len) {
        const char *nl = memchr(acc->text + acc->at, '\n', acc->len - acc->at);
        acc->at = nl ? (size_t)(nl - acc->text) + 1 : acc->len;
        acc->line++;
    }
    if (acc->nspans < IMPORT_SPANS && acc->line == im->line && acc->at < im->end) {
        acc->spans[acc->nspans][0] = acc->at;
        acc->spans[acc->nspans++][1] = im->end;
    }
}

static void add(names_t *acc, const char *name, size_t n, const char *exported, size_t exported_n,
                const char *module, size_t module_len, bool module_as_path, bool namespace,
                size_t end) {
    if (n == 0 || n >= IMPORTED_NAME_MAX || acc->count >= acc->max || ident_len(name, n) != n)
        return;
    if (exported_n == 0 || exported_n >= IMPORTED_NAME_MAX)
        exported = name, exported_n = n;
    static const char *const skip[] = {"type", "typeof", "as", "from", "import", "default", NULL};
    for (int i = 0; skip[i]; i++)
        if (strlen(skip[i]) == n && memcmp(skip[i], name, n) == 0)
            return;
    for (size_t i = 0; i < acc->count; i++)
        if (strlen(acc->out[i].name) == n && memcmp(acc->out[i].name, name, n) == 0)
            return;
    imported_name_t *out = &acc->out[acc->count];
    memcpy(out->name, name, n);
    out->name[n] = '\0';
    memcpy(out->exported, exported, exported_n);
    out->exported[exported_n] = '\0';
    out->uses = 0;
    out->binds_module = namespace;
    size_t m = module_len < sizeof out->module - 1 ? module_len : sizeof out->module - 1;
    memcpy(out->module, module, m);
    out->module[m] = '\0';
    /* `import a.b.g` (Python, Java, Kotlin) binds a path to the module
     * itself: written with slashes so it reads like the other languages'
     * paths (module_stem() takes paths). */
    for (char *c = out->module; module_as_path && *c; c++)
        if (*c == '.')
            *c = '/';
    if (acc->count < sizeof acc->ends / sizeof acc->ends[0])
        acc->ends[acc->count] = end;
    acc->count++;
}

static int record(const importscan_t *im, void *arg) {
    names_t *acc = arg;
    if (im->flags & IMPORTSCAN_DECLARATION)
        return 0;
    span_add(acc, im);
    bool dotted = im->lang == LANG_PYTHON || im->lang == LANG_JAVA || im->lang == LANG_KOTLIN;
    if (im->binds)
        add(acc, im->binds, im->binds_len, NULL, 0, im->module, im->module_len, dotted,
            im->flags & IMPORTSCAN_NAMESPACE, im->end);
    for (size_t i = 0; i < im->name_count; i++)
        add(acc, im->names[i].local, im->names[i].local_len, im->names[i].name,
            im->names[i].name_len, im->module, im->module_len, false, false, im->end);
    return 0;
}

/* Whether offset at is inside an import statement (spans come in order). */
static bool in_import(const names_t *acc, size_t at) {
    size_t lo = 0, hi = acc->nspans;
    while (lo < hi) { /* the first span starting after at */
        size_t mid = lo + (hi - lo) / 2;
        if (acc->spans[mid][0] <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && at < acc->spans[lo - 1][1];
}

/* Where name i's uses may start: the end of its import statement (the
 * text's end for a name past those whose ends are kept). */
static size_t name_end(const names_t *acc, size_t i) {
    size_t end = i < sizeof acc->ends / sizeof acc->ends[0] ? acc->ends[i] : acc->len;
    return end < acc->len ? end : acc->len;
}

/* Counts whole-word occurrences of name in text after `from`, outside
 * import statements, only where code[] says code when code is not NULL. */
static int count_uses(const names_t *acc, const uint8_t *code, size_t from, const char *name) {
    const char *s = acc->text;
    size_t len = acc->len, n = strlen(name);
    int count = 0;
    for (const char *p = s + from; p + n <= s + len;) {
        const char *hit = memmem(p, (size_t)(s + len - p), name, n);
        if (!hit)
            break;
        size_t at = (size_t)(hit - s);
        count += (!code || code[at]) && ident_is_whole_word(s, len, at, n) && !in_import(acc, at);
        p = hit + n;
    }
    return count;
}

/* Every name's uses at once, in one pass over the text: each identifier
 * after the earliest import's end is looked up among the names (which are
 * identifiers, see add), and counted for the one it is as count_uses
 * would.  Names times bytes was a memmem each: 256 names over a 300 KB
 * prefix.  False when the lookup table could not be made. */
static bool count_all_uses(const names_t *acc, const uint8_t *code, imported_name_t *out,
                           size_t count) {
    map_t *names = map_new();
    size_t from = acc->len;
    for (size_t i = 0; names && i < count; i++) {
        if (map_put(names, out[i].name, strlen(out[i].name), (void *)(uintptr_t)(i + 1)) != 0)
            map_destroy(&names);
        from = name_end(acc, i) < from ? name_end(acc, i) : from;
    }
    if (!names)
        return false;
    const char *s = acc->text;
    size_t len = acc->len;
    for (size_t at = from; at < len;) {
        size_t n = ident_char_len(s + at, len - at);
        if (!n) {
            at++;
            continue;
        }
        size_t end = at + n;
        while (end < len && (n = ident_char_len(s + end, len - end)) > 0)
            end += n;
        uintptr_t k = (uintptr_t)map_get(names, s + at, end - at);
        if (k && (!code || code[at]) && ident_is_whole_word(s, len, at, end - at) &&
            !in_import(acc, at)) {
            out[k - 1].uses += at >= name_end(acc, k - 1);
        }
        at = end;
    }
    map_destroy(&names);
    return true;
}

/* The names and their uses; code_only: uses in code only (codemask.h),
 * else every whole-word mention. */
static size_t names_of(lang_id_t lang, const char *text, size_t len, imported_name_t *out,
                       size_t max, bool code_only) {
    names_t acc = {.out = out, .max = max, .text = text, .len = len, .line = 1};
    if (importscan_text(lang, text, len, record, &acc) < 0)
        return 0;
    uint8_t *code = code_only && acc.count ? malloc(len ? len : 1) : NULL;
    if (code)
        codemask_build(lang, text, len, code);
    if (acc.count && !count_all_uses(&acc, code, out, acc.count))
        for (size_t i = 0; i < acc.count; i++) /* out of memory for the table */
            out[i].uses = count_uses(&acc, code, name_end(&acc, i), out[i].name);
    free(code);
    return acc.count;
}

size_t imported_names_of(lang_id_t lang, const char *text, size_t len, imported_name_t *out,
                         size_t max) {
    return names_of(lang, text, len, out, max, false);
}

size_t imported_names_in_code(lang_id_t lang, const char *text, size_t len, imported_name_t *out,
                              size_t max) {
    return names_of(lang, text, len, out, max, true);
}

size_t imported_names(const char *text, size_t len, imported_name_t *out, size_t max) {
    return imported_names_of(LANG_UNKNOWN, text, len, out, max);
}

const char *imported_defined_as(const imported_name_t *name) {
    return name->exported[0] && strcmp(name->exported, "default") != 0 ? name->exported
                                                                       : name->name;
}

void imported_module_stem(const char *module, char *out, size_t size) {
    module_stem(module, out, size);
}
