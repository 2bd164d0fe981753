/*
 * imports: per-language resolvers over importscan's records.
 *
 * The index keeps the collection's paths sorted, plus three sorted key
 * arrays whose keys point into those same strings (no copies): by base name
 * (`util.h`), by the last two components (`shop/util.py`), and by directory.
 * "Which paths end with a/b/c.py" is then a binary search on the two-
 * component key `b/c.py` and a suffix check of the few hits, which keeps
 * resolution cheap on repositories with tens of thousands of files.
 *
 * When several files match (two `util.py` under different source roots),
 * the one sharing the longest directory prefix with the importing file
 * wins; ties go to the shorter, then the bytewise smaller path, so results
 * are deterministic.
 *
 * The statements come from importscan.h, one record per imported module;
 * this file only resolves them, per language, and records what each binds.
 */
#include "proto/code/imports.h"

#include "proto/base/map.h"
#include "proto/code/codemask.h"
#include "proto/code/ident.h"
#include "proto/code/importscan.h"
#include "proto/code/repopath.h"
#include "proto/code/tsconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORTS_PATH_MAX REPOPATH_MAX

/* snprintf that returns the length actually written (a path that does not
 * fit is cut short, and then simply resolves to nothing). */
static int imports_fmt(char *out, size_t cap, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int imports_fmt(char *out, size_t cap, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(out, cap, format, ap);
    va_end(ap);
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n >= cap ? (int)cap - 1 : n;
}

typedef struct {
    const char *key; /* points into a path string */
    size_t key_len;
    size_t path; /* index into paths */
} imports_key_t;

typedef struct {
    char *dir;    /* directory of a go.mod, "" for the root */
    char *module; /* its module path */
} imports_go_module_t;

typedef struct {
    char *name; /* crate name as `use` spells it (dashes as underscores) */
    char *src;  /* its src/ directory */
} imports_crate_t;

struct imports_index {
    char **paths; /* sorted, distinct */
    size_t count;
    imports_key_t *by_base; /* key: base name */
    imports_key_t *by_tail; /* key: last two components (paths with a directory) */
    size_t tail_count;
    imports_key_t *by_dir; /* key: directory ("" for the root) */
    imports_go_module_t *go;
    size_t go_count;
    imports_crate_t *crates; /* from the Cargo.toml files: workspace members */
    size_t crate_count;
    tsconfig_t **tsconfigs; /* JS/TS projects that declare baseUrl or paths */
    size_t tsconfig_count;
};

typedef struct {
    char *name;
    char *alias; /* NULL when the import binds no module name */
    int line;
    const char **files;
    size_t file_count;
} imports_item_t;

struct imports {
    imports_entry_t *entries;
    imports_item_t *items;
    size_t count, capacity;
    const char **files; /* union, sorted */
    size_t file_count;
};

/* A vector of path indices. */
typedef struct {
    size_t *at;
    size_t count, capacity;
    bool failed;
} imports_hits_t;

static void imports_hits_add(imports_hits_t *h, size_t path) {
    for (size_t i = 0; i < h->count; i++)
        if (h->at[i] == path)
            return;
    if (h->count == h->capacity) {
        size_t capacity = h->capacity ? h->capacity * 2 : 8;
        size_t *grown = realloc(h->at, capacity * sizeof *grown);
        if (!grown) {
            h->failed = true;
            return;
        }
        h->at = grown;
        h->capacity = capacity;
    }
    h->at[h->count++] = path;
}

/* ---- index ----------------------------------------------------------------- */

static int imports_compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int imports_compare_bytes(const char *a, size_t a_len, const char *b, size_t b_len) {
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

static int imports_compare_keys(const void *pa, const void *pb) {
    const imports_key_t *a = pa, *b = pb;
    int c = imports_compare_bytes(a->key, a->key_len, b->key, b->key_len);
    if (c != 0)
        return c;
    return a->path < b->path ? -1 : a->path > b->path;
}

/* First key >= (key, len) in keys[0..n). */
static size_t imports_lower_bound(const imports_key_t *keys, size_t n, const char *key,
                                  size_t len) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (imports_compare_bytes(keys[mid].key, keys[mid].key_len, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static long imports_find_path(const imports_index_t *self, const char *path) {
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(self->paths[mid], path);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Reads the `module` line of root/rel (a go.mod).  NULL if none. */
static char *imports_read_go_module(const char *root, const char *rel) {
    char *buf = repopath_read_text(root, rel, 8192);
    if (!buf)
        return NULL;
    char *module = NULL;
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "module", 6) == 0 && (line[6] == ' ' || line[6] == '\t')) {
            char *m = line + 6;
            while (*m == ' ' || *m == '\t' || *m == '"')
                m++;
            size_t len = 0;
            while (m[len] && m[len] != ' ' && m[len] != '\t' && m[len] != '"' && m[len] != '\r' &&
                   !(m[len] == '/' && m[len + 1] == '/'))
                len++;
            module = len ? strndup(m, len) : NULL;
            break;
        }
        line = next;
    }
    free(buf);
    return module;
}

/* The crate name in root/rel (a Cargo.toml): `[lib] name`, else `[package]
 * name`, dashes turned into underscores.  NULL if none. */
static char *imports_read_crate_name(const char *root, const char *rel) {
    char *buf = repopath_read_text(root, rel, 16384);
    if (!buf)
        return NULL;
    char package[256] = "", lib[256] = "", *section = NULL;
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '[') {
            section = strncmp(line, "[package]", 9) == 0 ? package
                      : strncmp(line, "[lib]", 5) == 0   ? lib
                                                         : NULL;
        } else if (section && strncmp(line, "name", 4) == 0) {
            char *q = strchr(line, '"');
            char *e = q ? strchr(q + 1, '"') : NULL;
            if (q && e && e - q - 1 > 0 && e - q - 1 < 256) {
                memcpy(section, q + 1, (size_t)(e - q - 1));
                section[e - q - 1] = '\0';
            }
        }
        line = next;
    }
    free(buf);
    char *name = strdup(*lib ? lib : package);
    if (name && !*name) {
        free(name);
        return NULL;
    }
    for (char *c = name; c && *c; c++)
        if (*c == '-')
            *c = '_';
    return name;
}

/* Reads the JS/TS project config rel.  Paths come sorted, so a directory's
 * jsconfig.json comes before its tsconfig.json, which replaces it (as in
 * TypeScript, which ignores a jsconfig.json beside a tsconfig.json). */
static int imports_add_tsconfig(imports_index_t *self, const char *root, const char *rel) {
    tsconfig_t *config = tsconfig_read(root, rel);
    if (!config)
        return 0;
    size_t n = self->tsconfig_count;
    for (size_t i = 0; i < n; i++)
        if (strcmp(tsconfig_dir(self->tsconfigs[i]), tsconfig_dir(config)) == 0) {
            tsconfig_destroy(&self->tsconfigs[i]);
            self->tsconfigs[i] = config;
            return 0;
        }
    void *grown = realloc(self->tsconfigs, (n + 1) * sizeof *self->tsconfigs);
    if (!grown) {
        tsconfig_destroy(&config);
        return -ENOMEM;
    }
    self->tsconfigs = grown;
    self->tsconfigs[self->tsconfig_count++] = config;
    return 0;
}

int imports_index_new(const char *root, const char *const *paths, size_t n, imports_index_t **out) {
    *out = NULL;
    imports_index_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->paths = calloc(n ? n : 1, sizeof *self->paths);
    if (!self->paths)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!(self->paths[self->count] = strdup(paths[i])))
            goto fail;
        self->count++;
    }
    qsort(self->paths, self->count, sizeof *self->paths, imports_compare_strings);
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++) {
        if (kept > 0 && strcmp(self->paths[kept - 1], self->paths[i]) == 0) {
            free(self->paths[i]);
            continue;
        }
        self->paths[kept++] = self->paths[i];
    }
    self->count = kept;
    size_t slots = self->count ? self->count : 1;
    self->by_base = calloc(slots, sizeof *self->by_base);
    self->by_tail = calloc(slots, sizeof *self->by_tail);
    self->by_dir = calloc(slots, sizeof *self->by_dir);
    if (!self->by_base || !self->by_tail || !self->by_dir)
        goto fail;
    for (size_t i = 0; i < self->count; i++) {
        const char *p = self->paths[i];
        const char *slash = strrchr(p, '/');
        const char *base = slash ? slash + 1 : p;
        self->by_base[i] = (imports_key_t){base, strlen(base), i};
        self->by_dir[i] = (imports_key_t){p, slash ? (size_t)(slash - p) : 0, i};
        if (slash) {
            const char *tail = p;
            for (const char *q = slash - 1; q >= p; q--)
                if (*q == '/') {
                    tail = q + 1;
                    break;
                }
            self->by_tail[self->tail_count++] = (imports_key_t){tail, strlen(tail), i};
        }
        if (strcmp(base, "Cargo.toml") == 0 && root) {
            char *name = imports_read_crate_name(root, p);
            if (name) {
                void *grown = realloc(self->crates, (self->crate_count + 1) * sizeof *self->crates);
                char *src = NULL;
                if (grown)
                    self->crates = grown;
                if (!grown || asprintf(&src, "%.*s%ssrc", slash ? (int)(slash - p) : 0, p,
                                       slash ? "/" : "") < 0) {
                    free(name);
                    goto fail;
                }
                self->crates[self->crate_count++] = (imports_crate_t){name, src};
            }
        }
        if ((strcmp(base, "tsconfig.json") == 0 || strcmp(base, "jsconfig.json") == 0) && root &&
            imports_add_tsconfig(self, root, p) != 0)
            goto fail;
        if (strcmp(base, "go.mod") == 0 && root) {
            char *module = imports_read_go_module(root, p);
            if (module) {
                void *grown = realloc(self->go, (self->go_count + 1) * sizeof *self->go);
                char *dir = strndup(p, slash ? (size_t)(slash - p) : 0);
                if (grown)
                    self->go = grown;
                if (!grown || !dir) {
                    free(module);
                    free(dir);
                    goto fail;
                }
                self->go = grown;
                self->go[self->go_count++] = (imports_go_module_t){dir, module};
            }
        }
    }
    qsort(self->by_base, self->count, sizeof *self->by_base, imports_compare_keys);
    qsort(self->by_tail, self->tail_count, sizeof *self->by_tail, imports_compare_keys);
    qsort(self->by_dir, self->count, sizeof *self->by_dir, imports_compare_keys);
    *out = self;
    return 0;
fail:
    imports_index_destroy(&self);
    return -ENOMEM;
}

void imports_index_destroy(imports_index_t **self_p) {
    if (!self_p || !*self_p)
        return;
    imports_index_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free(self->paths[i]);
    for (size_t i = 0; i < self->go_count; i++) {
        free(self->go[i].dir);
        free(self->go[i].module);
    }
    free(self->go);
    for (size_t i = 0; i < self->crate_count; i++) {
        free(self->crates[i].name);
        free(self->crates[i].src);
    }
    free(self->crates);
    for (size_t i = 0; i < self->tsconfig_count; i++)
        tsconfig_destroy(&self->tsconfigs[i]);
    free(self->tsconfigs);
    free(self->paths);
    free(self->by_base);
    free(self->by_tail);
    free(self->by_dir);
    free(self);
    *self_p = NULL;
}

size_t imports_index_count(const imports_index_t *self) {
    return self ? self->count : 0;
}

/* ---- path helpers ---------------------------------------------------------- */

/* Adds path if it is in the collection.  True when it is. */
static bool imports_try(const imports_index_t *index, const char *path, imports_hits_t *hits) {
    long at = imports_find_path(index, path);
    if (at < 0)
        return false;
    imports_hits_add(hits, (size_t)at);
    return true;
}

/* Paths equal to rel or ending in "/rel", into hits. */
static void imports_find_suffix(const imports_index_t *index, const char *rel,
                                imports_hits_t *hits) {
    const char *slash = strrchr(rel, '/');
    size_t rel_len = strlen(rel);
    const imports_key_t *keys;
    size_t n;
    const char *key;
    if (slash) {
        key = rel;
        for (const char *q = slash - 1; q >= rel; q--)
            if (*q == '/') {
                key = q + 1;
                break;
            }
        keys = index->by_tail;
        n = index->tail_count;
    } else {
        key = rel;
        keys = index->by_base;
        n = index->count;
    }
    size_t key_len = strlen(key);
    for (size_t i = imports_lower_bound(keys, n, key, key_len);
         i < n && imports_compare_bytes(keys[i].key, keys[i].key_len, key, key_len) == 0; i++) {
        const char *p = index->paths[keys[i].path];
        size_t p_len = strlen(p);
        if (p_len == rel_len ? strcmp(p, rel) == 0
                             : p_len > rel_len && p[p_len - rel_len - 1] == '/' &&
                                   strcmp(p + p_len - rel_len, rel) == 0)
            imports_hits_add(hits, keys[i].path);
    }
}

/* Files directly in dir (not below), into hits; filter may reject some. */
static void imports_files_in(const imports_index_t *index, const char *dir,
                             bool (*filter)(const char *path), imports_hits_t *hits) {
    size_t len = strlen(dir);
    for (size_t i = imports_lower_bound(index->by_dir, index->count, dir, len);
         i < index->count &&
         imports_compare_bytes(index->by_dir[i].key, index->by_dir[i].key_len, dir, len) == 0;
         i++) {
        const char *p = index->paths[index->by_dir[i].path];
        if (!filter || filter(p))
            imports_hits_add(hits, index->by_dir[i].path);
    }
}

/* Number of leading directory components a and b share. */
static size_t imports_shared_dirs(const char *a, const char *b) {
    size_t shared = 0;
    for (size_t i = 0; a[i] && a[i] == b[i]; i++)
        if (a[i] == '/')
            shared++;
    return shared;
}

/* Keeps only the hit closest to from (see the top of the file). */
static void imports_keep_closest(const imports_index_t *index, const char *from,
                                 imports_hits_t *hits) {
    if (hits->count <= 1)
        return;
    size_t best = hits->at[0];
    for (size_t i = 1; i < hits->count; i++) {
        size_t c = hits->at[i];
        size_t sb = imports_shared_dirs(index->paths[best], from);
        size_t sc = imports_shared_dirs(index->paths[c], from);
        size_t lb = strlen(index->paths[best]), lc = strlen(index->paths[c]);
        if (sc > sb || (sc == sb && (lc < lb || (lc == lb && c < best))))
            best = c;
    }
    hits->at[0] = best;
    hits->count = 1;
}

/* ---- result ---------------------------------------------------------------- */

typedef struct {
    const imports_index_t *index;
    const char *path; /* the importing file */
    long self_at;     /* its index in the collection, or -1 */
    imports_t *out;
    bool failed;
    lang_id_t lang;            /* the file's language */
    struct imports_rust *rust; /* where a Rust file sits in its crate, found on first use */
} imports_ctx_t;

static int imports_compare_ptrs(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Records one import, bound to alias (alias_len 0 for none), with the
 * given hits (which it empties). */
static void imports_record(imports_ctx_t *ctx, const char *name, size_t name_len, const char *alias,
                           size_t alias_len, int line, imports_hits_t *hits) {
    imports_t *out = ctx->out;
    if (hits->failed)
        ctx->failed = true;
    if (ctx->failed || name_len == 0) {
        hits->count = 0;
        return;
    }
    if (out->count == out->capacity) {
        size_t capacity = out->capacity ? out->capacity * 2 : 16;
        imports_item_t *grown = realloc(out->items, capacity * sizeof *grown);
        if (!grown) {
            ctx->failed = true;
            return;
        }
        out->items = grown;
        out->capacity = capacity;
    }
    imports_item_t *item = &out->items[out->count];
    *item = (imports_item_t){.name = strndup(name, name_len), .line = line};
    if (alias && alias_len > 0)
        item->alias = strndup(alias, alias_len);
    if (!item->name || (alias && alias_len > 0 && !item->alias)) {
        free(item->name);
        free(item->alias);
        ctx->failed = true;
        return;
    }
    if (hits->count > 0) {
        item->files = calloc(hits->count, sizeof *item->files);
        if (!item->files) {
            free(item->name);
            free(item->alias);
            ctx->failed = true;
            return;
        }
        for (size_t i = 0; i < hits->count; i++)
            if ((long)hits->at[i] != ctx->self_at)
                item->files[item->file_count++] = ctx->index->paths[hits->at[i]];
        qsort(item->files, item->file_count, sizeof *item->files, imports_compare_ptrs);
        if (item->file_count == 0) {
            free(item->files);
            item->files = NULL;
        }
    }
    out->count++;
    hits->count = 0;
}

/* ---- Python ---------------------------------------------------------------- */

/* Resolves dotted module (a.b.c) below base ("" = anywhere, by suffix). */
static void imports_python_module(imports_ctx_t *ctx, const char *base, bool relative,
                                  const char *module, size_t len, imports_hits_t *hits) {
    char rel[IMPORTS_PATH_MAX], candidate[IMPORTS_PATH_MAX];
    if (len + 16 >= sizeof rel)
        return;
    for (size_t i = 0; i < len; i++)
        rel[i] = module[i] == '.' ? '/' : module[i];
    rel[len] = '\0';
    static const char *const forms[] = {"%s.py", "%s/__init__.py", "%s.pyi"};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        char file[IMPORTS_PATH_MAX];
        imports_fmt(file, sizeof file, forms[f], rel);
        if (relative) {
            if (repopath_join(base, file, candidate, sizeof candidate))
                imports_try(ctx->index, candidate, hits);
        } else {
            imports_find_suffix(ctx->index, file, hits);
        }
        if (hits->count > 0)
            break;
    }
    if (!relative)
        imports_keep_closest(ctx->index, ctx->path, hits);
}

/* One Python record: `import a.b [as c]` (the module binds), or `from m
 * import x, y` whose names may be submodules (then each is an import of
 * its own) or members of m. */
static void imports_python(imports_ctx_t *ctx, const importscan_t *im) {
    imports_hits_t hits = {0};
    const char *module = im->module;
    size_t module_len = im->module_len;
    if (im->binds) {
        /* Binds its alias, else the dotted name as written (`a.b`). */
        imports_python_module(ctx, "", false, module, module_len, &hits);
        if (im->flags & IMPORTSCAN_ALIASED)
            imports_record(ctx, module, module_len, im->binds, im->binds_len, im->line, &hits);
        else
            imports_record(ctx, module, module_len, module, module_len, im->line, &hits);
        free(hits.at);
        return;
    }
    char dir[IMPORTS_PATH_MAX], base[IMPORTS_PATH_MAX], full[IMPORTS_PATH_MAX];
    repopath_dirname(ctx->path, dir, sizeof dir);
    size_t level = 0;
    while (level < module_len && module[level] == '.')
        level++;
    imports_fmt(base, sizeof base, "%s", dir);
    bool above_root = false;
    for (size_t up = 1; up < level && !above_root; up++)
        above_root = !repopath_parent(base);
    bool relative = level > 0;
    const char *rest = module + (relative && !above_root ? level : 0);
    size_t rest_len = module_len - (size_t)(rest - module);
    bool has_plain = (im->flags & IMPORTSCAN_WILDCARD) != 0;
    for (size_t i = 0; i < im->name_count && !above_root; i++) {
        const importscan_name_t *item = &im->names[i];
        if (rest_len + item->name_len + 2 >= sizeof full)
            continue;
        int n = imports_fmt(full, sizeof full, "%.*s%s%.*s", (int)rest_len, rest,
                            rest_len ? "." : "", (int)item->name_len, item->name);
        imports_python_module(ctx, base, relative, full, (size_t)n, &hits);
        if (hits.count > 0) {
            char shown[IMPORTS_PATH_MAX];
            int m = imports_fmt(shown, sizeof shown, "%.*s%s%.*s", (int)module_len, module,
                                rest_len ? "." : "", (int)item->name_len, item->name);
            imports_record(ctx, shown, (size_t)m, item->local, item->local_len, im->line, &hits);
        } else {
            has_plain = true;
        }
    }
    if (has_plain || above_root) {
        if (!above_root) {
            if (rest_len > 0)
                imports_python_module(ctx, base, relative, rest, rest_len, &hits);
            else if (repopath_join(base, "__init__.py", full, sizeof full))
                imports_try(ctx->index, full, &hits);
        }
        imports_record(ctx, module, module_len, NULL, 0, im->line, &hits);
    }
    free(hits.at);
}

/* ---- C and C++ ------------------------------------------------------------- */

static void imports_c_include(imports_ctx_t *ctx, const char *name, size_t len, bool quoted,
                              int line) {
    imports_hits_t hits = {0};
    char rel[IMPORTS_PATH_MAX], dir[IMPORTS_PATH_MAX], candidate[IMPORTS_PATH_MAX];
    if (len == 0 || len >= sizeof rel)
        return;
    memcpy(rel, name, len);
    rel[len] = '\0';
    repopath_dirname(ctx->path, dir, sizeof dir);
    if (quoted && repopath_join(dir, rel, candidate, sizeof candidate))
        imports_try(ctx->index, candidate, &hits);
    /* The file's ancestors and their usual include directories. */
    static const char *const subdirs[] = {"", "include", "inc", "src"};
    char ancestor[IMPORTS_PATH_MAX];
    imports_fmt(ancestor, sizeof ancestor, "%s", dir);
    while (hits.count == 0) {
        for (size_t s = 0; s < sizeof subdirs / sizeof subdirs[0] && hits.count == 0; s++) {
            char base[IMPORTS_PATH_MAX];
            if (*subdirs[s])
                imports_fmt(base, sizeof base, "%s%s%s", ancestor, *ancestor ? "/" : "",
                            subdirs[s]);
            else
                imports_fmt(base, sizeof base, "%s", ancestor);
            if (repopath_join(base, rel, candidate, sizeof candidate))
                imports_try(ctx->index, candidate, &hits);
        }
        if (!repopath_parent(ancestor))
            break;
    }
    if (hits.count == 0 && (quoted || strchr(rel, '/'))) {
        imports_find_suffix(ctx->index, rel, &hits);
        imports_keep_closest(ctx->index, ctx->path, &hits);
    }
    imports_record(ctx, name, len, NULL, 0, line, &hits);
    free(hits.at);
}

static bool imports_has(const imports_index_t *index, const char *dir, const char *name);

/* ---- JavaScript and TypeScript --------------------------------------------- */

/* A JS/TS module path (already joined, without `./`) as a file: itself,
 * with an extension, `.js` standing for `.ts`, or its directory's index. */
static void imports_js_resolve(imports_ctx_t *ctx, const char *base, imports_hits_t *hits) {
    static const char *const exts[] = {".ts",  ".tsx", ".js",  ".jsx", ".mjs",
                                       ".cjs", ".mts", ".cts", ".d.ts"};
    size_t n_exts = sizeof exts / sizeof exts[0];
    char candidate[IMPORTS_PATH_MAX + 16];
    if (imports_try(ctx->index, base, hits))
        return;
    for (size_t e = 0; e < n_exts && hits->count == 0; e++) {
        imports_fmt(candidate, sizeof candidate, "%s%s", base, exts[e]);
        imports_try(ctx->index, candidate, hits);
    }
    const char *dot = strrchr(base, '.');
    const char *slash = strrchr(base, '/');
    if (hits->count == 0 && dot && (!slash || dot > slash)) {
        static const char *const js_exts[] = {".js", ".jsx", ".mjs", ".cjs"};
        static const char *const ts_exts[] = {".ts", ".tsx", ".mts", ".cts"};
        for (size_t e = 0; e < 4 && hits->count == 0; e++)
            if (strcmp(dot, js_exts[e]) == 0)
                for (size_t k = 0; k < 4 && hits->count == 0; k++) {
                    imports_fmt(candidate, sizeof candidate, "%.*s%s", (int)(dot - base), base,
                                ts_exts[k]);
                    imports_try(ctx->index, candidate, hits);
                }
    }
    for (size_t e = 0; e < n_exts && hits->count == 0; e++) {
        imports_fmt(candidate, sizeof candidate, "%s/index%s", base, exts[e]);
        imports_try(ctx->index, candidate, hits);
    }
}

typedef struct {
    imports_ctx_t *ctx;
    imports_hits_t *hits;
} imports_js_try_t;

static bool imports_js_try(const char *path, void *arg) {
    imports_js_try_t *t = arg;
    imports_js_resolve(t->ctx, path, t->hits);
    return t->hits->count > 0;
}

/* A bare specifier through the baseUrl and paths of the nearest enclosing
 * project that declares them. */
static void imports_js_project_paths(imports_ctx_t *ctx, const char *spec, const char *dir,
                                     imports_hits_t *hits) {
    const tsconfig_t *nearest = NULL;
    size_t nearest_len = 0;
    for (size_t i = 0; i < ctx->index->tsconfig_count; i++) {
        const char *d = tsconfig_dir(ctx->index->tsconfigs[i]);
        size_t len = strlen(d);
        bool encloses = len == 0 || (strncmp(dir, d, len) == 0 && (!dir[len] || dir[len] == '/'));
        if (encloses && (!nearest || len > nearest_len)) {
            nearest = ctx->index->tsconfigs[i];
            nearest_len = len;
        }
    }
    if (nearest)
        tsconfig_resolve(nearest, spec, imports_js_try, &(imports_js_try_t){ctx, hits});
}

static void imports_js(imports_ctx_t *ctx, const importscan_t *im) {
    imports_hits_t hits = {0};
    char rel[IMPORTS_PATH_MAX], dir[IMPORTS_PATH_MAX], base[IMPORTS_PATH_MAX];
    if (im->module_len >= sizeof rel - 16)
        return;
    memcpy(rel, im->module, im->module_len);
    rel[im->module_len] = '\0';
    repopath_dirname(ctx->path, dir, sizeof dir);
    bool relative = rel[0] == '.' && (rel[1] == '/' || (rel[1] == '.' && rel[2] == '/') ||
                                      rel[1] == '\0' || (rel[1] == '.' && rel[2] == '\0'));
    if (relative) {
        if (repopath_join(dir, rel, base, sizeof base))
            imports_js_resolve(ctx, base, &hits);
    } else {
        imports_js_project_paths(ctx, rel, dir, &hits);
    }
    if (!relative && hits.count == 0 && (rel[0] == '@' || rel[0] == '~') && rel[1] == '/') {
        /* The `@/x` and `~/x` path aliases of bundlers and tsconfig: the
         * project's src/ (or root), the project being the nearest ancestor
         * with a package.json, tsconfig.json or jsconfig.json. */
        static const char *const markers[] = {"package.json", "tsconfig.json", "jsconfig.json"};
        char ancestor[IMPORTS_PATH_MAX];
        imports_fmt(ancestor, sizeof ancestor, "%s", dir);
        for (;;) {
            bool project = false;
            for (size_t m = 0; m < 3 && !project; m++)
                project = imports_has(ctx->index, ancestor, markers[m]);
            if (project) {
                char under[IMPORTS_PATH_MAX];
                imports_fmt(under, sizeof under, "%s%ssrc", ancestor, *ancestor ? "/" : "");
                if (repopath_join(under, rel + 2, base, sizeof base))
                    imports_js_resolve(ctx, base, &hits);
                if (hits.count == 0 && repopath_join(ancestor, rel + 2, base, sizeof base))
                    imports_js_resolve(ctx, base, &hits);
                break;
            }
            if (!repopath_parent(ancestor))
                break;
        }
    }
    imports_record(ctx, im->module, im->module_len, im->binds, im->binds_len, im->line, &hits);
    free(hits.at);
}

/* The name an import clause binds to the whole module: `X` of
 * `import X from`, `ns` of `import * as ns from`; NULL for named imports
 * only (`import { a } from`).  clause holds the tokens after `import`. */
/* ---- Go -------------------------------------------------------------------- */

static bool imports_is_go_source(const char *path) {
    size_t n = strlen(path);
    return n > 3 && strcmp(path + n - 3, ".go") == 0 &&
           !(n > 8 && strcmp(path + n - 8, "_test.go") == 0);
}

/* An import path: all non-test .go files of its directory, found through
 * the go.mod of the collection that declares its module, else by the path
 * itself. */
static void imports_go(imports_ctx_t *ctx, const importscan_t *im) {
    const char *spec = im->module;
    size_t spec_len = im->module_len;
    imports_hits_t hits = {0};
    const imports_go_module_t *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < ctx->index->go_count; i++) {
        const imports_go_module_t *m = &ctx->index->go[i];
        size_t n = strlen(m->module);
        if (spec_len >= n && memcmp(spec, m->module, n) == 0 && (spec_len == n || spec[n] == '/') &&
            n > best_len) {
            best = m;
            best_len = n;
        }
    }
    if (best) {
        /* the module's own path is its root package: dir "" when the
         * go.mod is the collection's */
        char dir[IMPORTS_PATH_MAX];
        const char *rest = spec + best_len + (spec_len > best_len ? 1 : 0);
        size_t rest_len = spec_len - (size_t)(rest - spec);
        int n = snprintf(dir, sizeof dir, "%s%s%.*s", best->dir, *best->dir && rest_len ? "/" : "",
                         (int)rest_len, rest);
        if (n >= 0 && (size_t)n < sizeof dir)
            imports_files_in(ctx->index, dir, imports_is_go_source, &hits);
    } else if (spec_len < IMPORTS_PATH_MAX && memchr(spec, '.', spec_len)) {
        /* No go.mod declares it (a GOPATH tree, or a checkout without its
         * module file): the import path is a directory, under the
         * collection's root or under one of its directories: for a
         * remote path (a dot in its first element), the whole path, then its
         * tails, longest first: `github.com/a/b/pkg/x` is `pkg/x` of a
         * checkout of github.com/a/b.  The standard library's paths (no dot)
         * stay unresolved, so `log` never lands on a ./log of the
         * repository. */
        char dir[IMPORTS_PATH_MAX];
        memcpy(dir, spec, spec_len);
        dir[spec_len] = '\0';
        const char *first_slash = memchr(spec, '/', spec_len);
        bool remote = first_slash && memchr(spec, '.', (size_t)(first_slash - spec));
        for (const char *tail = dir; remote && tail && !hits.count; tail = strchr(tail, '/')) {
            if (*tail == '/')
                tail++;
            imports_files_in(ctx->index, tail, imports_is_go_source, &hits);
        }
    }
    imports_record(ctx, spec, spec_len, im->binds, im->binds_len, im->line, &hits);
    free(hits.at);
}

/* ---- Java and Kotlin ------------------------------------------------------- */

static bool imports_is_jvm_source(const char *path) {
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".java") == 0) ||
           (n > 3 && strcmp(path + n - 3, ".kt") == 0);
}

/* Resolves a.b.C (or, with wildcard, a.b.*) to files. */
static void imports_java(imports_ctx_t *ctx, const importscan_t *im) {
    const char *name = im->module;
    size_t len = im->module_len;
    bool wildcard = im->flags & IMPORTSCAN_WILDCARD, is_static = im->flags & IMPORTSCAN_STATIC;
    imports_hits_t hits = {0};
    char rel[IMPORTS_PATH_MAX], file[IMPORTS_PATH_MAX + 8];
    if (len == 0 || len >= sizeof rel)
        return;
    for (size_t i = 0; i < len; i++)
        rel[i] = name[i] == '.' ? '/' : name[i];
    rel[len] = '\0';
    bool was_wildcard = wildcard;
    if (wildcard) {
        /* Every source file of a directory whose path ends with rel. */
        size_t rel_len = len;
        for (size_t i = 0; i < ctx->index->count; i++) {
            const imports_key_t *k = &ctx->index->by_dir[i];
            if (k->key_len >= rel_len && memcmp(k->key + k->key_len - rel_len, rel, rel_len) == 0 &&
                (k->key_len == rel_len || k->key[k->key_len - rel_len - 1] == '/') &&
                imports_is_jvm_source(ctx->index->paths[k->path]))
                imports_hits_add(&hits, k->path);
        }
    }
    /* A class, then (static imports, wildcard of a class) its enclosing names. */
    for (size_t cut = len; hits.count == 0 && cut > 0;) {
        rel[cut] = '\0';
        imports_fmt(file, sizeof file, "%s.java", rel);
        imports_find_suffix(ctx->index, file, &hits);
        if (hits.count == 0) {
            imports_fmt(file, sizeof file, "%s.kt", rel);
            imports_find_suffix(ctx->index, file, &hits);
        }
        if (!is_static && !wildcard)
            break;
        char *slash = strrchr(rel, '/');
        if (!slash)
            break;
        cut = (size_t)(slash - rel);
        is_static = false; /* one level: the class of the member */
        wildcard = false;
    }
    if (!was_wildcard)
        imports_keep_closest(ctx->index, ctx->path, &hits);
    /* The simple name binds (`Order`, a static member), or a Kotlin alias. */
    imports_record(ctx, name, len, im->binds, im->binds_len, im->line, &hits);
    free(hits.at);
}

/* ---- Rust ------------------------------------------------------------------ */

typedef struct imports_rust {
    char root[IMPORTS_PATH_MAX];   /* crate root directory ("" = collection root) */
    char module[IMPORTS_PATH_MAX]; /* the file's module path under root, "/"-joined */
} imports_rust_t;

static bool imports_has(const imports_index_t *index, const char *dir, const char *name) {
    char path[IMPORTS_PATH_MAX];
    if (imports_fmt(path, sizeof path, "%s%s%s", dir, *dir ? "/" : "", name) >= (int)sizeof path)
        return false;
    return imports_find_path(index, path) >= 0;
}

static void imports_rust_locate(imports_ctx_t *ctx, imports_rust_t *rust) {
    char dir[IMPORTS_PATH_MAX], ancestor[IMPORTS_PATH_MAX];
    repopath_dirname(ctx->path, dir, sizeof dir);
    imports_fmt(rust->root, sizeof rust->root, "%s", dir);
    bool found = false;
    imports_fmt(ancestor, sizeof ancestor, "%s", dir);
    for (;;) {
        if (imports_has(ctx->index, ancestor, "Cargo.toml")) {
            char src[IMPORTS_PATH_MAX];
            imports_fmt(src, sizeof src, "%.*s%ssrc", (int)(sizeof src - 8), ancestor,
                        *ancestor ? "/" : "");
            size_t n = strlen(src);
            if (strncmp(ctx->path, src, n) == 0 && ctx->path[n] == '/')
                imports_fmt(rust->root, sizeof rust->root, "%s", src);
            found = true;
            break;
        }
        if (!repopath_parent(ancestor))
            break;
    }
    if (!found) {
        imports_fmt(ancestor, sizeof ancestor, "%s", dir);
        for (;;) {
            if (imports_has(ctx->index, ancestor, "lib.rs") ||
                imports_has(ctx->index, ancestor, "main.rs")) {
                imports_fmt(rust->root, sizeof rust->root, "%s", ancestor);
                break;
            }
            if (!repopath_parent(ancestor))
                break;
        }
    }
    /* The module path: the file's path under root without `.rs`, `mod`. */
    size_t n = strlen(rust->root);
    const char *rel = n ? ctx->path + n + 1 : ctx->path;
    if (n && strncmp(ctx->path, rust->root, n) != 0)
        rel = ctx->path;
    imports_fmt(rust->module, sizeof rust->module, "%s", rel);
    size_t m = strlen(rust->module);
    if (m > 3 && strcmp(rust->module + m - 3, ".rs") == 0)
        rust->module[m -= 3] = '\0';
    if (strcmp(rust->module, "main") == 0 || strcmp(rust->module, "lib") == 0)
        rust->module[0] = '\0';
    else if (m >= 4 && strcmp(rust->module + m - 4, "/mod") == 0)
        rust->module[m - 4] = '\0';
    else if (strcmp(rust->module, "mod") == 0)
        rust->module[0] = '\0';
}

/* The file of module `module` ("a/b"; "" = crate root) into hits. */
static bool imports_rust_module_file(imports_ctx_t *ctx, const imports_rust_t *rust,
                                     const char *module, imports_hits_t *hits) {
    char path[IMPORTS_PATH_MAX];
    const char *r = rust->root;
    if (!*module) {
        /* A binary's own `crate::` is its main.rs; anyone else's, lib.rs. */
        imports_fmt(path, sizeof path, "%s%smain.rs", r, *r ? "/" : "");
        bool in_main = strcmp(ctx->path, path) == 0;
        static const char *const roots[] = {"lib.rs", "main.rs"};
        for (int k = 0; k < 2; k++) {
            imports_fmt(path, sizeof path, "%s%s%s", r, *r ? "/" : "", roots[in_main ? 1 - k : k]);
            if (imports_try(ctx->index, path, hits))
                return true;
        }
        return false;
    }
    imports_fmt(path, sizeof path, "%s%s%s.rs", r, *r ? "/" : "", module);
    if (imports_try(ctx->index, path, hits))
        return true;
    imports_fmt(path, sizeof path, "%s%s%s/mod.rs", r, *r ? "/" : "", module);
    return imports_try(ctx->index, path, hits);
}

/* Resolves rest (`a::b::C`, relative to module, "a/b" under rust->root)
 * to the file of the longest module prefix that is one.  Without
 * to_root, a path none of whose prefixes is a module resolves to nothing
 * rather than to the crate root. */
static void imports_rust_resolve(imports_ctx_t *ctx, const imports_rust_t *rust,
                                 const char *module_prefix, const char *rest, bool to_root,
                                 imports_hits_t *hits) {
    char module[IMPORTS_PATH_MAX];
    imports_fmt(module, sizeof module, "%s", module_prefix);
    size_t base_len = strlen(module);
    for (const char *p = rest; *p && base_len + 2 < sizeof module;) {
        const char *sep = strstr(p, "::");
        size_t n = sep ? (size_t)(sep - p) : strlen(p);
        if (n == 1 && p[0] == '*')
            break;
        if (base_len + n + 2 >= sizeof module)
            break;
        if (base_len)
            module[base_len++] = '/';
        memcpy(module + base_len, p, n);
        base_len += n;
        module[base_len] = '\0';
        p = sep ? sep + 2 : p + n;
    }
    for (;;) {
        if (imports_rust_module_file(ctx, rust, module, hits))
            return;
        char *slash = strrchr(module, '/');
        if (!slash) {
            if (to_root && *module) {
                module[0] = '\0';
                imports_rust_module_file(ctx, rust, module, hits);
            }
            return;
        }
        *slash = '\0';
    }
}

/* Resolves one use path (`crate::a::b`, `super::x`, `a::b`) as written. */
static void imports_rust_path(imports_ctx_t *ctx, const imports_rust_t *rust, const char *name,
                              const char *alias, size_t alias_len, int line) {
    imports_hits_t hits = {0};
    const char *rest = name;
    if (strncmp(rest, "crate::", 7) == 0 || strcmp(rest, "crate") == 0) {
        imports_rust_resolve(ctx, rust, "", rest + (rest[5] ? 7 : 5), true, &hits);
    } else if (strncmp(rest, "self::", 6) == 0 || strncmp(rest, "super::", 7) == 0 ||
               strcmp(rest, "self") == 0 || strcmp(rest, "super") == 0) {
        char module[IMPORTS_PATH_MAX];
        imports_fmt(module, sizeof module, "%s", rust->module);
        bool inside = true;
        for (;;) {
            if (strncmp(rest, "self", 4) == 0 && (rest[4] == ':' || rest[4] == '\0')) {
                rest += rest[4] ? 6 : 4;
            } else if (strncmp(rest, "super", 5) == 0 && (rest[5] == ':' || rest[5] == '\0')) {
                char *slash = strrchr(module, '/');
                if (slash)
                    *slash = '\0';
                else if (*module)
                    module[0] = '\0';
                else
                    inside = false; /* above the crate root */
                rest += rest[5] ? 7 : 5;
            } else {
                break;
            }
        }
        if (inside)
            imports_rust_resolve(ctx, rust, module, rest, true, &hits);
    } else if (strncmp(rest, "std::", 5) != 0 && strncmp(rest, "core::", 6) != 0 &&
               strncmp(rest, "alloc::", 7) != 0 && strcmp(rest, "std") != 0) {
        /* Another crate of this workspace (resolved inside it), an external
         * crate (nothing), or (2018) a module of this crate's root. */
        const char *sep = strstr(rest, "::");
        size_t first = sep ? (size_t)(sep - rest) : strlen(rest);
        const imports_crate_t *crate = NULL;
        for (size_t i = 0; i < ctx->index->crate_count && !crate; i++) {
            const imports_crate_t *c = &ctx->index->crates[i];
            if (strlen(c->name) == first && memcmp(c->name, rest, first) == 0 &&
                strcmp(c->src, rust->root) != 0)
                crate = c;
        }
        char child[IMPORTS_PATH_MAX];
        imports_hits_t probe = {0};
        /* `use x::y` inside module m names m's child module x when there
         * is one (2018 paths are relative to the current module first):
         * `pub use sleep::Sleep` in time/mod.rs is time/sleep.rs. */
        bool local = !crate && *rust->module &&
                     imports_fmt(child, sizeof child, "%s/%.*s", rust->module, (int)first, rest) <
                         (int)sizeof child &&
                     imports_rust_module_file(ctx, rust, child, &probe);
        free(probe.at);
        if (local) {
            imports_rust_resolve(ctx, rust, rust->module, rest, false, &hits);
        } else if (crate) {
            imports_rust_t *other = malloc(sizeof *other);
            if (other) {
                imports_fmt(other->root, sizeof other->root, "%s", crate->src);
                other->module[0] = '\0';
                imports_rust_resolve(ctx, other, "", sep ? sep + 2 : "", true, &hits);
                free(other);
            } else {
                hits.failed = true;
            }
        } else {
            imports_rust_resolve(ctx, rust, "", rest, false, &hits);
        }
    }
    imports_record(ctx, name, strlen(name), alias, alias_len, line, &hits);
    free(hits.at);
}

/* Expands a use tree (tokens already joined into text without spaces, such
 * as `crate::a::{b,c::{d,self}}`) into leaf paths. */
/* A `use` leaf (`crate::a::B`) or a `mod x;` declaration. */
static void imports_rust(imports_ctx_t *ctx, const importscan_t *im) {
    if (!ctx->rust) {
        if (!(ctx->rust = malloc(sizeof *ctx->rust))) {
            ctx->failed = true;
            return;
        }
        imports_rust_locate(ctx, ctx->rust);
    }
    char name[IMPORTS_PATH_MAX];
    imports_fmt(name, sizeof name, "%.*s", (int)im->module_len, im->module);
    if (!(im->flags & IMPORTSCAN_DECLARATION)) {
        imports_rust_path(ctx, ctx->rust, name, im->binds, im->binds_len, im->line);
        return;
    }
    char module[IMPORTS_PATH_MAX], shown[IMPORTS_PATH_MAX];
    imports_hits_t hits = {0};
    imports_fmt(module, sizeof module, "%s%s%s", ctx->rust->module, *ctx->rust->module ? "/" : "",
                name);
    imports_rust_module_file(ctx, ctx->rust, module, &hits);
    int n = imports_fmt(shown, sizeof shown, "mod %s", name);
    imports_record(ctx, shown, (size_t)n, im->binds, im->binds_len, im->line, &hits);
    free(hits.at);
}

/* Rust code also names modules inline, without a `use`: `crate::util::X`,
 * `super::f()`, `tokio::time::sleep(..)`.  Each distinct module path so
 * written (the names before the last, up to the first capitalised one: a
 * type's path ends the module's) is an import bound to the path itself,
 * which is how refs.h spells such a receiver.  A path of two names is one
 * only from crate, self or super (`x::y` is mostly a `use`d name's member). */
static void imports_rust_inline(imports_ctx_t *ctx, const char *data, size_t len) {
    uint8_t *code = malloc(len ? len : 1);
    map_t *seen = map_new();
    if (!code || !seen) {
        ctx->failed = true;
        goto out;
    }
    codemask_build(LANG_RUST, data, len, code);
    int line = 1;
    size_t line_at = 0;
    for (size_t i = 0; i < len && !ctx->failed;) {
        size_t n = code[i] ? ident_len(data + i, len - i) : 0;
        bool starts = n && (i == 0 || !ident_char_len_before(data, i)) &&
                      !(i >= 2 && data[i - 1] == ':' && data[i - 2] == ':');
        if (!starts) {
            i += n ? n : 1;
            continue;
        }
        char path[IMPORTS_PATH_MAX];
        size_t plen = 0, module_len = 0, at = i;
        int names = 0, module_names = 0;
        bool module_open = true;
        for (;;) {
            size_t m = ident_len(data + at, len - at);
            if (!m || plen + m + 3 >= sizeof path)
                break;
            if (names) {
                memcpy(path + plen, "::", 2);
                plen += 2;
            }
            memcpy(path + plen, data + at, m);
            plen += m;
            names++;
            at += m;
            bool more = at + 2 < len && data[at] == ':' && data[at + 1] == ':' && code[at];
            if (module_open && more && !(data[at - m] >= 'A' && data[at - m] <= 'Z')) {
                module_len = plen;
                module_names = names;
            } else {
                module_open = false;
            }
            if (!more)
                break;
            at += 2;
        }
        i = at > i ? at : i + 1;
        bool anchored = !strncmp(path, "crate::", 7) || !strncmp(path, "self::", 6) ||
                        !strncmp(path, "super::", 7);
        if (module_names == 0 || names < 2 || (module_names < 2 && !anchored) ||
            !strncmp(path, "std::", 5) || !strncmp(path, "core::", 6) ||
            !strncmp(path, "alloc::", 7))
            continue;
        path[module_len] = '\0';
        if (map_get(seen, path, module_len))
            continue;
        if (map_put(seen, path, module_len, (void *)1) != 0) {
            ctx->failed = true;
            break;
        }
        for (; line_at < i && line_at < len; line_at++)
            line += data[line_at] == '\n';
        imports_rust_path(ctx, ctx->rust, path, path, module_len, line);
    }
out:
    map_destroy(&seen);
    free(code);
}

/* ---- entry points ---------------------------------------------------------- */

/* Imports come out in the order of their lines.  The scanners record them so,
 * except that Rust's inline paths follow its `use`s: two sorted runs, merged
 * stably by an insertion sort that moves only the inline paths. */
static void imports_order_by_line(imports_t *self) {
    for (size_t i = 1; i < self->count; i++) {
        imports_item_t it = self->items[i];
        size_t k = i;
        for (; k > 0 && self->items[k - 1].line > it.line; k--)
            self->items[k] = self->items[k - 1];
        self->items[k] = it;
    }
}

static int imports_on_record(const importscan_t *im, void *arg) {
    imports_ctx_t *ctx = arg;
    switch (ctx->lang) {
    case LANG_PYTHON:
        imports_python(ctx, im);
        break;
    case LANG_C:
    case LANG_CPP:
        imports_c_include(ctx, im->module, im->module_len, !(im->flags & IMPORTSCAN_SYSTEM),
                          im->line);
        break;
    case LANG_JAVASCRIPT:
    case LANG_TYPESCRIPT:
        imports_js(ctx, im);
        break;
    case LANG_GO:
        imports_go(ctx, im);
        break;
    case LANG_JAVA:
    case LANG_KOTLIN:
        imports_java(ctx, im);
        break;
    case LANG_RUST:
        imports_rust(ctx, im);
        break;
    default:
        break;
    }
    return ctx->failed ? -ENOMEM : 0;
}

/* A Go file sees every name of its package, and a Java or Kotlin file every
 * class of its own: the other sources of its directory are an import the
 * file never writes, recorded as `.` (no alias). */
static void imports_own_package(imports_ctx_t *ctx) {
    bool (*filter)(const char *) = ctx->lang == LANG_GO ? imports_is_go_source
                                   : ctx->lang == LANG_JAVA || ctx->lang == LANG_KOTLIN
                                       ? imports_is_jvm_source
                                       : NULL;
    if (!filter || ctx->failed || !filter(ctx->path))
        return;
    char dir[IMPORTS_PATH_MAX];
    repopath_dirname(ctx->path, dir, sizeof dir);
    imports_hits_t hits = {0};
    imports_files_in(ctx->index, dir, filter, &hits);
    /* it comes after the written imports: its line keeps them in order */
    int line = ctx->out->count ? ctx->out->items[ctx->out->count - 1].line : 1;
    imports_record(ctx, ".", 1, NULL, 0, line, &hits);
    free(hits.at);
}

int imports_extract(const imports_index_t *index, const char *path, lang_id_t lang,
                    const char *data, size_t len, imports_t **out) {
    *out = NULL;
    imports_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    imports_ctx_t ctx = {.index = index,
                         .path = path,
                         .self_at = imports_find_path(index, path),
                         .out = self,
                         .lang = lang};
    /* Languages the resolvers do not know have no imports (the scanner
     * would read any language for LANG_UNKNOWN). */
    if (lang != LANG_UNKNOWN && importscan_text(lang, data, len, imports_on_record, &ctx) < 0)
        ctx.failed = true;
    if (lang == LANG_RUST && !ctx.failed && data) {
        if (!ctx.rust && (ctx.rust = malloc(sizeof *ctx.rust)) != NULL)
            imports_rust_locate(&ctx, ctx.rust);
        ctx.failed = ctx.rust == NULL;
        if (!ctx.failed)
            imports_rust_inline(&ctx, data, len);
    }
    imports_own_package(&ctx);
    free(ctx.rust);
    imports_order_by_line(self);
    if (!ctx.failed) {
        self->entries = calloc(self->count ? self->count : 1, sizeof *self->entries);
        size_t total = 0;
        for (size_t i = 0; i < self->count; i++)
            total += self->items[i].file_count;
        self->files = calloc(total ? total : 1, sizeof *self->files);
        if (!self->entries || !self->files)
            ctx.failed = true;
    }
    if (ctx.failed) {
        imports_destroy(&self);
        return -ENOMEM;
    }
    for (size_t i = 0; i < self->count; i++) {
        const imports_item_t *it = &self->items[i];
        self->entries[i] =
            (imports_entry_t){it->name, it->line, it->files, it->file_count, it->alias};
        for (size_t k = 0; k < it->file_count; k++)
            self->files[self->file_count++] = it->files[k];
    }
    qsort(self->files, self->file_count, sizeof *self->files, imports_compare_ptrs);
    size_t kept = 0;
    for (size_t i = 0; i < self->file_count; i++)
        if (kept == 0 || strcmp(self->files[kept - 1], self->files[i]) != 0)
            self->files[kept++] = self->files[i];
    self->file_count = kept;
    *out = self;
    return 0;
}

void imports_destroy(imports_t **self_p) {
    if (!self_p || !*self_p)
        return;
    imports_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[i].name);
        free(self->items[i].alias);
        free(self->items[i].files);
    }
    free(self->items);
    free(self->entries);
    free(self->files);
    free(self);
    *self_p = NULL;
}

size_t imports_count(const imports_t *self) {
    return self ? self->count : 0;
}

const imports_entry_t *imports_get(const imports_t *self, size_t index) {
    if (!self || index >= self->count)
        return NULL;
    return &self->entries[index];
}

size_t imports_file_count(const imports_t *self) {
    return self ? self->file_count : 0;
}

const char *imports_file(const imports_t *self, size_t index) {
    if (!self || index >= self->file_count)
        return NULL;
    return self->files[index];
}
