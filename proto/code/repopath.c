/*
 * Repository paths (see repopath.h).  Joining copies into a scratch buffer
 * first, so out may be short and dir or rel may point into it.
 */
#include "proto/code/repopath.h"

#include "proto/base/beneath.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool repopath_join(const char *dir, const char *rel, char *out, size_t cap) {
    char tmp[REPOPATH_MAX];
    int n =
        *dir ? snprintf(tmp, sizeof tmp, "%s/%s", dir, rel) : snprintf(tmp, sizeof tmp, "%s", rel);
    if (n < 0 || (size_t)n >= sizeof tmp - 1 || (size_t)n >= cap)
        return false;
    size_t len = 0;
    for (char *comp = tmp; comp;) {
        char *slash = strchr(comp, '/');
        if (slash)
            *slash = '\0';
        if (strcmp(comp, "..") == 0) {
            if (len == 0)
                return false;
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the slash */
        } else if (*comp && strcmp(comp, ".") != 0) {
            if (len > 0)
                out[len++] = '/';
            size_t c = strlen(comp);
            memcpy(out + len, comp, c);
            len += c;
        }
        comp = slash ? slash + 1 : NULL;
    }
    out[len] = '\0';
    return len > 0;
}

void repopath_dirname(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, path, len);
    out[len] = '\0';
}

static bool component_is(const char *p, size_t n, const char *word) {
    return strlen(word) == n && !memcmp(p, word, n);
}

static bool ends_with(const char *p, size_t n, const char *tail) {
    size_t t = strlen(tail);
    return n > t && !memcmp(p + n - t, tail, t);
}

bool repopath_is_test(const char *path) {
    if (!path)
        return false;
    static const char *const dirs[] = {"test", "tests", "__tests__", "spec", "testdata"};
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash) { /* the file's name */
            const char *dot = memchr(p, '.', n);
            size_t stem = dot ? (size_t)(dot - p) : n;
            if (ends_with(p, n, "_test.go") || ends_with(p, n, "_test.py") ||
                (n > 8 && !memcmp(p, "test_", 5) && ends_with(p, n, ".py")) ||
                component_is(p, n, "conftest.py") || ends_with(p, stem, "Test") ||
                ends_with(p, stem, "Tests"))
                return true;
            /* name.test.js, name.spec.tsx */
            return dot && (!strncmp(dot, ".test.", 6) || !strncmp(dot, ".spec.", 6));
        }
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
            if (component_is(p, n, dirs[i]))
                return true;
        p = slash + 1;
    }
}

size_t repopath_test_subject(const char *path, char *out, size_t cap) {
    *out = '\0';
    if (!path)
        return 0;
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    const char *dot = strchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name), from = 0, len = 0;
    if (dot && (!strcmp(dot, ".py") || !strcmp(dot, ".go")) && stem > 5 &&
        ends_with(name, stem, "_test"))
        len = stem - 5;
    else if (dot && !strcmp(dot, ".py") && stem > 5 && !memcmp(name, "test_", 5))
        from = 5, len = stem - 5;
    else if (dot && (!strncmp(dot, ".test.", 6) || !strncmp(dot, ".spec.", 6)))
        len = stem;
    else if (dot && stem > 5 && ends_with(name, stem, "Tests"))
        len = stem - 5;
    else if (dot && stem > 4 && ends_with(name, stem, "Test"))
        len = stem - 4;
    if (!len || len >= cap)
        return 0;
    memcpy(out, name + from, len);
    out[len] = '\0';
    return len;
}

bool repopath_parent(char *dir) {
    if (!*dir)
        return false;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        *dir = '\0';
    return true;
}

char *repopath_read_text(const char *root, const char *rel, size_t max) {
    int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return NULL;
    int fd = beneath_open(root_fd, rel);
    close(root_fd);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *text = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? malloc(max + 1) : NULL;
    size_t len = 0;
    while (text && len < max) {
        ssize_t got = read(fd, text + len, max - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    if (text)
        text[len] = '\0';
    return text;
}
