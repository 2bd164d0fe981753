/*
 * Module stems (see module.h).  Everything works on (pointer, length) spans
 * of the input: no copies until the answer is written out.
 */
#include "proto/code/module.h"

#include <string.h>

/* The component of path[0..end) that ends at end: its start. */
static size_t component_start(const char *path, size_t end) {
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    return start;
}

/* The stem of the component path[start..end): *stem_len bytes at the
 * returned offset. */
static size_t component_stem(const char *path, size_t start, size_t end, size_t *stem_len) {
    size_t from = start;
    while (from < end && path[from] == '.')
        from++;
    size_t to = from;
    while (to < end && path[to] != '.')
        to++;
    *stem_len = to - from;
    return from;
}

static bool is(const char *s, size_t len, const char *word) {
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

void module_stem(const char *path, char *out, size_t cap) {
    if (cap == 0)
        return;
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = component_start(path, end);
    size_t len = 0, at = 0;
    bool dots = is(path + start, end - start, ".") || is(path + start, end - start, "..");
    if (!dots)
        at = component_stem(path, start, end, &len);
    const char *stem = path + at;
    if (!dots && start > 1 &&
        (is(stem, len, "index") || is(stem, len, "__init__") || is(stem, len, "mod"))) {
        size_t dir_end = start - 1; /* the '/' */
        size_t dir_start = component_start(path, dir_end);
        if (dir_end > dir_start && !is(path + dir_start, dir_end - dir_start, ".") &&
            !is(path + dir_start, dir_end - dir_start, "..")) {
            stem = path + dir_start;
            len = dir_end - dir_start;
        }
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(out, stem, len);
    out[len] = '\0';
}

bool module_names_file(const char *object, const char *path) {
    if (!object || !*object || !path)
        return false;
    char stem[256];
    module_stem(path, stem, sizeof stem);
    if (strcmp(stem, object) == 0)
        return true;
    const char *slash = strrchr(path, '/');
    if (!slash)
        return false;
    size_t dir_start = component_start(path, (size_t)(slash - path));
    return is(path + dir_start, (size_t)(slash - path) - dir_start, object);
}
