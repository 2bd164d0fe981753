/*
 * watch: recursive inotify with .gitignore filtering (see watch.h).
 *
 * Two tables carry the state: watch descriptor -> relative directory path
 * (to turn an event into a path), and directory -> its parsed `.gitignore`
 * (NULL when it has none), loaded on first use and dropped wholesale when
 * any `.gitignore` changes.
 *
 * A path is ignored the way git decides it: each component, from the top,
 * is asked of the `.gitignore` files of the directories above it, deepest
 * first; the first file with an opinion decides, and an excluded directory
 * hides everything below it.  `.git` is always ignored.
 */
#include "seeder/watch.h"

#include "proto/base/beneath.h"
#include "proto/base/map.h"
#include "seeder/ignore.h"
#include "proto/base/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_QUIET_MS 200      /* apply once the tree was quiet this long */
#define WATCH_MAX_DELAY_MS 1000 /* but never later than this after the first event */
#define WATCH_MASK                                                                                 \
    (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |            \
     IN_ATTRIB | IN_DONT_FOLLOW | IN_ONLYDIR | IN_EXCL_UNLINK)

/* An ignore_t that stands for "this directory has no .gitignore". */
static char watch_no_ignore;

struct watch {
    char *root;
    int fd;           /* inotify */
    map_t *dirs;      /* wd (u64) -> relative dir path ("" for the root), owned */
    map_t *ignores;   /* relative dir path -> ignore_t* or &watch_no_ignore */
    map_t *pending;   /* path -> owned copy of the path */
    bool rescan;      /* an overflow or a .gitignore change since the last take */
    int64_t first_ms; /* first event of the pending burst, 0 when none */
    int64_t last_ms;  /* latest event */
    int limit_errno;  /* set when adding a watch failed (ENOSPC: limit reached) */
};

static char *watch_join(const char *dir, const char *name) {
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
        return NULL;
    return s;
}

/* ---- .gitignore ---- */

static void watch_free_ignore(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    if (value != &watch_no_ignore) {
        ignore_t *ignore = value;
        ignore_destroy(&ignore);
    }
}

static void watch_clear_ignores(watch_t *w) {
    map_each(w->ignores, watch_free_ignore, NULL);
    map_destroy(&w->ignores);
    w->ignores = map_new();
}

/* The patterns of dir/.gitignore (dir is dir_len bytes, "" for the root),
 * or NULL when it has none. */
static const ignore_t *watch_ignore_of(watch_t *w, const char *dir, size_t dir_len) {
    if (!w->ignores || dir_len >= PATH_MAX)
        return NULL;
    char key[PATH_MAX + 1]; /* "/" + dir: never an empty key */
    key[0] = '/';
    memcpy(key + 1, dir, dir_len);
    void *cached = map_get(w->ignores, key, dir_len + 1);
    if (cached)
        return cached == &watch_no_ignore ? NULL : cached;
    char *path = NULL;
    void *value = &watch_no_ignore;
    if (asprintf(&path, "%s/%.*s%s.gitignore", w->root, (int)dir_len, dir, dir_len ? "/" : "") >=
        0) {
        /* Not through a symlink: neither git nor the walk follows one. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (1 << 20)) {
            char *text = malloc((size_t)st.st_size + 1);
            ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
            ignore_t *ignore = n >= 0 ? ignore_new() : NULL;
            if (ignore && ignore_add_text(ignore, text, (size_t)n) == 0)
                value = ignore;
            else
                ignore_destroy(&ignore);
            free(text);
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    if (map_put(w->ignores, key, dir_len + 1, value) != 0) {
        watch_free_ignore(NULL, 0, value, NULL);
        return NULL;
    }
    return value == &watch_no_ignore ? NULL : value;
}

/* Whether rel (relative to the root) is ignored; is_dir says what its last
 * component is. */
static bool watch_is_ignored(watch_t *w, const char *rel, bool is_dir) {
    size_t len = strlen(rel);
    for (size_t end = 0; end <= len; end++) {
        if (end < len && rel[end] != '/')
            continue;
        /* rel[0..end) is one prefix: a directory unless it is the whole path. */
        size_t start = end;
        while (start > 0 && rel[start - 1] != '/')
            start--;
        if (end - start == 4 && memcmp(rel + start, ".git", 4) == 0)
            return true;
        bool prefix_is_dir = end < len || is_dir;
        char prefix[PATH_MAX];
        if (end >= sizeof prefix)
            return false;
        memcpy(prefix, rel, end);
        prefix[end] = '\0';
        /* Ancestors of the prefix, deepest first. */
        size_t dir_end = start ? start - 1 : 0;
        for (;;) {
            const ignore_t *ignore = watch_ignore_of(w, rel, dir_end);
            if (ignore) {
                const char *sub = prefix + (dir_end ? dir_end + 1 : 0);
                ignore_match_t m = ignore_match_path(ignore, sub, prefix_is_dir);
                if (m == IGNORE_EXCLUDED)
                    return true;
                if (m == IGNORE_INCLUDED)
                    break;
            }
            if (dir_end == 0)
                break;
            while (dir_end > 0 && rel[dir_end - 1] != '/')
                dir_end--;
            dir_end = dir_end ? dir_end - 1 : 0;
        }
        if (end == len)
            break;
    }
    return false;
}

/* ---- pending paths ---- */

/* Single paths are not enough: the whole tree must be listed again. */
static void watch_rescan(watch_t *w) {
    int64_t now = clock_ms();
    w->rescan = true;
    if (!w->first_ms)
        w->first_ms = now;
    w->last_ms = now;
}

static void watch_mark(watch_t *w, const char *path) {
    size_t len = strlen(path);
    if (!len || map_get(w->pending, path, len))
        return;
    char *copy = strdup(path);
    if (!copy || map_put(w->pending, path, len, copy) != 0) {
        free(copy);
        watch_rescan(w); /* out of memory: a full pass will catch it */
        return;
    }
    int64_t now = clock_ms();
    if (!w->first_ms)
        w->first_ms = now;
    w->last_ms = now;
}

/* ---- watches ---- */

/* Watches rel_dir and, recursively, the directories under it; with report,
 * the files found are marked pending (they may predate the watch). */
static int watch_add_tree(watch_t *w, const char *rel_dir, bool report, int depth) {
    if (depth > 200)
        return 0;
    char *full = NULL;
    if (asprintf(&full, "%s%s%s", w->root, *rel_dir ? "/" : "", rel_dir) < 0)
        return -ENOMEM;
    int wd = inotify_add_watch(w->fd, full, WATCH_MASK);
    if (wd < 0) {
        int e = errno;
        free(full);
        if (e == ENOSPC || e == ENOMEM) {
            w->limit_errno = e;
            return -e;
        }
        return 0; /* vanished or unreadable: nothing to watch */
    }
    char *copy = strdup(rel_dir);
    char *old = map_get_u64(w->dirs, (uint64_t)wd);
    if (!copy || map_put_u64(w->dirs, (uint64_t)wd, copy) != 0) {
        free(copy);
        free(full);
        return -ENOMEM;
    }
    if (old != copy)
        free(old);
    DIR *dir = opendir(full);
    free(full);
    if (!dir)
        return 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
            continue;
        char *rel = watch_join(rel_dir, de->d_name);
        if (!rel) {
            rc = -ENOMEM;
            break;
        }
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            char *path = NULL;
            if (asprintf(&path, "%s/%s", w->root, rel) >= 0) {
                is_dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
                free(path);
            }
        }
        if (!watch_is_ignored(w, rel, is_dir)) {
            if (is_dir)
                rc = watch_add_tree(w, rel, report, depth + 1);
            else if (report)
                watch_mark(w, rel);
        }
        free(rel);
    }
    closedir(dir);
    return rc;
}

typedef struct {
    watch_t *w;
    const char *prefix; /* "dir" */
    size_t len;
    int *wds; /* found */
    size_t n, cap;
} watch_find_t;

static void watch_find_under(const void *key, size_t key_len, void *value, void *arg) {
    watch_find_t *f = arg;
    const char *dir = value;
    if (strncmp(dir, f->prefix, f->len) != 0 || (dir[f->len] != '\0' && dir[f->len] != '/'))
        return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        int *grown = realloc(f->wds, cap * sizeof *grown);
        if (!grown)
            return;
        f->wds = grown;
        f->cap = cap;
    }
    uint64_t wd;
    memcpy(&wd, key, key_len < sizeof wd ? key_len : sizeof wd);
    f->wds[f->n++] = (int)wd;
}

/* Drops the watches of rel_dir and every directory under it. */
static void watch_remove_tree(watch_t *w, const char *rel_dir) {
    watch_find_t f = {.w = w, .prefix = rel_dir, .len = strlen(rel_dir)};
    map_each(w->dirs, watch_find_under, &f);
    for (size_t i = 0; i < f.n; i++) {
        inotify_rm_watch(w->fd, f.wds[i]);
        free(map_remove_u64(w->dirs, (uint64_t)f.wds[i]));
    }
    free(f.wds);
}

static void watch_free_value(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    free(value);
}

int watch_new(const char *root, watch_t **out, char **error) {
    *out = NULL;
    if (error)
        *error = NULL;
    watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->root = strdup(root);
    w->dirs = map_new();
    w->ignores = map_new();
    w->pending = map_new();
    int rc = beneath_root_check(root);
    if (rc != 0) {
        if (error && asprintf(error, "cannot watch %s: %s", root, strerror(-rc)) < 0)
            *error = NULL;
    } else if (w->fd < 0) {
        rc = -errno;
        if (error && asprintf(error, "cannot watch %s: inotify: %s", root, strerror(errno)) < 0)
            *error = NULL;
    } else if (!w->root || !w->dirs || !w->ignores || !w->pending) {
        rc = -ENOMEM;
    } else if ((rc = watch_add_tree(w, "", false, 0)) != 0 && error) {
        if (asprintf(error,
                     "cannot watch every directory of %s: %s (raise "
                     "fs.inotify.max_user_watches)",
                     root, strerror(-rc)) < 0)
            *error = NULL;
    }
    if (rc != 0) {
        watch_destroy(&w);
        return rc;
    }
    *out = w;
    return 0;
}

void watch_destroy(watch_t **self_p) {
    if (!self_p || !*self_p)
        return;
    watch_t *w = *self_p;
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirs) {
        map_each(w->dirs, watch_free_value, NULL);
        map_destroy(&w->dirs);
    }
    if (w->ignores) {
        map_each(w->ignores, watch_free_ignore, NULL);
        map_destroy(&w->ignores);
    }
    if (w->pending) {
        map_each(w->pending, watch_free_value, NULL);
        map_destroy(&w->pending);
    }
    free(w->root);
    free(w);
    *self_p = NULL;
}

int watch_fd(const watch_t *self) {
    return self->fd;
}

size_t watch_dir_count(const watch_t *self) {
    return map_size(self->dirs);
}

static void watch_event(watch_t *w, const struct inotify_event *ev) {
    if (ev->mask & IN_Q_OVERFLOW) {
        watch_rescan(w);
        return;
    }
    if (ev->mask & IN_IGNORED) {
        free(map_remove_u64(w->dirs, (uint64_t)ev->wd));
        return;
    }
    const char *dir = map_get_u64(w->dirs, (uint64_t)ev->wd);
    if (!dir || !ev->len || !ev->name[0])
        return;
    char *rel = watch_join(dir, ev->name);
    if (!rel) {
        watch_rescan(w);
        return;
    }
    bool is_dir = (ev->mask & IN_ISDIR) != 0;
    if (strcmp(ev->name, ".gitignore") == 0 && !is_dir) {
        /* What is ignored may have changed anywhere below: start afresh. */
        watch_clear_ignores(w);
        watch_rescan(w);
    } else if (watch_is_ignored(w, rel, is_dir)) {
        /* not ours */
    } else if (is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
        if (watch_add_tree(w, rel, true, 0) != 0)
            watch_rescan(w);
    } else if (is_dir && (ev->mask & (IN_DELETE | IN_MOVED_FROM))) {
        watch_remove_tree(w, rel);
        char *prefix = NULL;
        if (asprintf(&prefix, "%s/", rel) >= 0) {
            watch_mark(w, prefix);
            free(prefix);
        }
    } else if (!is_dir) {
        watch_mark(w, rel);
    }
    free(rel);
}

int watch_read(watch_t *self) {
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int events = 0;
    for (;;) {
        ssize_t n = read(self->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return events;
        if (n < 0)
            return -errno;
        if (n == 0)
            return events;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            watch_event(self, ev);
            events++;
            p += sizeof *ev + ev->len;
        }
    }
}

int watch_due_in(const watch_t *self) {
    if (map_size(self->pending) == 0 && !self->rescan)
        return -1;
    int64_t now = clock_ms();
    int64_t due = self->last_ms + WATCH_QUIET_MS;
    if (self->first_ms && due > self->first_ms + WATCH_MAX_DELAY_MS)
        due = self->first_ms + WATCH_MAX_DELAY_MS;
    return due <= now ? 0 : (int)(due - now);
}

typedef struct {
    char **paths;
    size_t n;
} watch_take_t;

static void watch_take_each(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len;
    watch_take_t *t = arg;
    t->paths[t->n++] = value;
}

static int watch_compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int watch_take(watch_t *self, char ***paths, size_t *n, bool *rescan) {
    size_t count = map_size(self->pending);
    watch_take_t t = {calloc(count + 1, sizeof *t.paths), 0};
    if (!t.paths)
        return -ENOMEM;
    map_each(self->pending, watch_take_each, &t);
    map_t *fresh = map_new();
    if (!fresh) {
        free(t.paths);
        return -ENOMEM;
    }
    map_destroy(&self->pending); /* the strings now belong to t.paths */
    self->pending = fresh;
    qsort(t.paths, t.n, sizeof *t.paths, watch_compare);
    *paths = t.paths;
    *n = t.n;
    *rescan = self->rescan;
    self->rescan = false;
    self->first_ms = self->last_ms = 0;
    return 0;
}

void watch_paths_free(char **paths, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}
