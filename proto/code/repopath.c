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
