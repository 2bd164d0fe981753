/*
 * tsconfig (see tsconfig.h).
 *
 * A config is read into: its directory, the baseUrl (repository-relative),
 * and its path patterns, each split at its `*` with targets already joined
 * to the directory they are relative to.  JSON with comments is turned into
 * JSON by blanking comments and trailing commas in place (offsets stay
 * put), then parsed with cJSON.
 */
#include "proto/code/tsconfig.h"

#include "proto/code/repopath.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSCONFIG_MAX_BYTES (1 << 20)
#define TSCONFIG_MAX_DEPTH 8

typedef struct {
    char *prefix, *suffix; /* around the `*`; suffix NULL for an exact pattern */
    char **targets;        /* repository-relative, each with at most one `*` */
    size_t target_count;
} tsconfig_pattern_t;

struct tsconfig {
    char *dir;
    char *base_url; /* NULL when no config in the chain sets one */
    tsconfig_pattern_t *patterns;
    size_t pattern_count;
};

/* ---- reading ---- */

/* Blanks comments and trailing commas outside strings, in place. */
static void tsconfig_strip(char *s) {
    char *last_comma = NULL; /* a comma with only blanks after it so far */
    for (char *p = s; *p; p++) {
        if (*p == '"') {
            last_comma = NULL;
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p)
                return;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (!*p)
                return;
        } else if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            char *stop = end ? end + 2 : p + strlen(p);
            while (p < stop)
                *p++ = ' ';
            p--;
        } else if (*p == ',') {
            last_comma = p;
        } else if (*p == '}' || *p == ']') {
            if (last_comma)
                *last_comma = ' ';
            last_comma = NULL;
        } else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            last_comma = NULL;
        }
    }
}

static void tsconfig_patterns_free(tsconfig_pattern_t *patterns, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(patterns[i].prefix);
        free(patterns[i].suffix);
        for (size_t t = 0; t < patterns[i].target_count; t++)
            free(patterns[i].targets[t]);
        free(patterns[i].targets);
    }
    free(patterns);
}

/* Reads `paths` (an object of pattern -> [target]) with targets relative to
 * dir.  False when out of memory. */
static bool tsconfig_read_paths(tsconfig_t *self, const cJSON *paths, const char *dir) {
    const cJSON *entry;
    size_t n = 0;
    cJSON_ArrayForEach(entry, paths) n++;
    self->patterns = calloc(n ? n : 1, sizeof *self->patterns);
    if (!self->patterns)
        return false;
    cJSON_ArrayForEach(entry, paths) {
        const char *key = entry->string;
        const char *star = key ? strchr(key, '*') : NULL;
        if (!key || !cJSON_IsArray(entry) || (star && strchr(star + 1, '*')))
            continue;
        tsconfig_pattern_t *p = &self->patterns[self->pattern_count];
        p->prefix = star ? strndup(key, (size_t)(star - key)) : strdup(key);
        p->suffix = star ? strdup(star + 1) : NULL;
        p->targets = calloc((size_t)cJSON_GetArraySize(entry) + 1, sizeof *p->targets);
        self->pattern_count++;
        if (!p->prefix || (star && !p->suffix) || !p->targets)
            return false;
        const cJSON *target;
        cJSON_ArrayForEach(target, entry) {
            char joined[REPOPATH_MAX];
            if (!cJSON_IsString(target) ||
                !repopath_join(dir, target->valuestring, joined, sizeof joined))
                continue;
            if (!(p->targets[p->target_count] = strdup(joined)))
                return false;
            p->target_count++;
        }
    }
    return true;
}

/* What reading a chain of configs gathers besides self's fields: the
 * nearest `paths` object, the directory its targets are relative to when no
 * baseUrl is set, and the parsed documents it points into. */
typedef struct {
    const char *root;
    const cJSON *paths;
    char paths_dir[REPOPATH_MAX];
    cJSON *docs[TSCONFIG_MAX_DEPTH];
    int ndocs;
} tsconfig_chain_t;

/* Reads rel and, through `extends`, its ancestors, filling what is still
 * unset: the nearest config to set baseUrl or paths wins.  False only when
 * out of memory. */
static bool tsconfig_read_chain(tsconfig_t *self, tsconfig_chain_t *chain, const char *rel) {
    if (chain->ndocs >= TSCONFIG_MAX_DEPTH)
        return true;
    char *text = repopath_read_text(chain->root, rel, TSCONFIG_MAX_BYTES);
    if (!text)
        return true;
    tsconfig_strip(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        return true;
    chain->docs[chain->ndocs++] = doc;
    char dir[REPOPATH_MAX];
    repopath_dirname(rel, dir, sizeof dir);
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(doc, "compilerOptions");
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(options, "baseUrl");
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(options, "paths");
    if (!self->base_url && cJSON_IsString(base)) {
        char joined[REPOPATH_MAX];
        const char *value = base->valuestring;
        bool is_dir = !*value || !strcmp(value, ".") || !strcmp(value, "./");
        if (is_dir || repopath_join(dir, value, joined, sizeof joined)) {
            if (!(self->base_url = strdup(is_dir ? dir : joined)))
                return false;
        }
    }
    if (!chain->paths && cJSON_IsObject(paths)) {
        chain->paths = paths;
        snprintf(chain->paths_dir, sizeof chain->paths_dir, "%s", dir);
    }
    const cJSON *extends = cJSON_GetObjectItemCaseSensitive(doc, "extends");
    char parent[REPOPATH_MAX];
    if (!cJSON_IsString(extends) || extends->valuestring[0] != '.' ||
        !repopath_join(dir, extends->valuestring, parent, sizeof parent - 5))
        return true; /* none, a package's (not in the repository), or outside the root */
    size_t len = strlen(parent);
    if (len < 5 || strcmp(parent + len - 5, ".json") != 0)
        strcat(parent, ".json");
    return tsconfig_read_chain(self, chain, parent);
}

tsconfig_t *tsconfig_read(const char *root, const char *rel) {
    tsconfig_t *self = calloc(1, sizeof *self);
    const char *slash = strrchr(rel, '/');
    if (!self || !(self->dir = strndup(rel, slash ? (size_t)(slash - rel) : 0))) {
        free(self);
        return NULL;
    }
    tsconfig_chain_t chain = {.root = root};
    bool ok = tsconfig_read_chain(self, &chain, rel);
    if (ok && chain.paths)
        ok = tsconfig_read_paths(self, chain.paths,
                                 self->base_url ? self->base_url : chain.paths_dir);
    for (int i = 0; i < chain.ndocs; i++)
        cJSON_Delete(chain.docs[i]);
    if (!ok || (!self->base_url && self->pattern_count == 0))
        tsconfig_destroy(&self);
    return self;
}

/* ---- resolving ---- */

/* The pattern TypeScript picks for spec: an exact one, else the wildcard
 * with the longest prefix; NULL for none.  *capture gets what `*` matched. */
static const tsconfig_pattern_t *tsconfig_match(const tsconfig_t *self, const char *spec,
                                                const char **capture, size_t *capture_len) {
    const tsconfig_pattern_t *best = NULL;
    size_t spec_len = strlen(spec), best_prefix = 0;
    for (size_t i = 0; i < self->pattern_count; i++) {
        const tsconfig_pattern_t *p = &self->patterns[i];
        if (!p->suffix) {
            if (strcmp(p->prefix, spec) == 0) {
                *capture = NULL;
                *capture_len = 0;
                return p;
            }
            continue;
        }
        size_t pre = strlen(p->prefix), suf = strlen(p->suffix);
        if (spec_len < pre + suf || strncmp(spec, p->prefix, pre) != 0 ||
            strcmp(spec + spec_len - suf, p->suffix) != 0)
            continue;
        if (!best || pre > best_prefix) {
            best = p;
            best_prefix = pre;
            *capture = spec + pre;
            *capture_len = spec_len - pre - suf;
        }
    }
    return best;
}

bool tsconfig_resolve(const tsconfig_t *self, const char *specifier,
                      bool (*try)(const char *path, void *arg), void *arg) {
    const char *capture = NULL;
    size_t capture_len = 0;
    const tsconfig_pattern_t *p = tsconfig_match(self, specifier, &capture, &capture_len);
    char path[REPOPATH_MAX];
    for (size_t t = 0; p && t < p->target_count; t++) {
        const char *target = p->targets[t];
        const char *star = strchr(target, '*');
        int n = star ? snprintf(path, sizeof path, "%.*s%.*s%s", (int)(star - target), target,
                                (int)capture_len, capture ? capture : "", star + 1)
                     : snprintf(path, sizeof path, "%s", target);
        if (n > 0 && (size_t)n < sizeof path && try(path, arg))
            return true;
    }
    if (self->base_url && repopath_join(self->base_url, specifier, path, sizeof path))
        return try(path, arg);
    return false;
}

const char *tsconfig_dir(const tsconfig_t *self) {
    return self->dir;
}

void tsconfig_destroy(tsconfig_t **self_p) {
    tsconfig_t *self = *self_p;
    if (!self)
        return;
    tsconfig_patterns_free(self->patterns, self->pattern_count);
    free(self->dir);
    free(self->base_url);
    free(self);
    *self_p = NULL;
}
