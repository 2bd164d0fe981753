/*
 * beneath: opening below a directory fd (see beneath.h).
 *
 * The user-space walk keeps the chain of directories it went through as a
 * stack of fds, root first.  Each component is opened relative to the top
 * of the stack with O_NOFOLLOW (O_PATH for directories on the way), so a
 * component swapped for a symlink after it was opened changes nothing: the
 * fd is the directory that was there.  `..` pops the stack instead of
 * asking the file system for the parent, so it can never reach above the
 * root, even if a directory on the stack was moved elsewhere meanwhile.  A
 * symlink's target is read (readlinkat) and put in front of what is left
 * of the path; an absolute target restarts from the root once the root's
 * own canonical path is cut off its front.  That path is asked of /proc
 * only when an absolute symlink is met, and trusted only when it names the
 * very directory of the root fd (same device and inode); without it
 * absolute symlinks are refused.
 */
#include "proto/base/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__linux__) && defined(SYS_openat2)
#include <linux/openat2.h>
#define BENEATH_HAVE_OPENAT2 1
#endif

#define BENEATH_READ_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
#define BENEATH_MAX_LINKS 40 /* as the kernel's own limit */

/* The directories from the root down to the current one. */
typedef struct {
    int *fds; /* fds[0] is the root (borrowed); the others are owned */
    size_t depth;
    size_t capacity;
} beneath_stack_t;

static int beneath_push(beneath_stack_t *s, int fd) {
    if (s->depth + 1 == s->capacity) {
        size_t capacity = s->capacity * 2;
        int *grown = realloc(s->fds, capacity * sizeof *grown);
        if (!grown) {
            close(fd);
            return -ENOMEM;
        }
        s->fds = grown;
        s->capacity = capacity;
    }
    s->fds[++s->depth] = fd;
    return 0;
}

static void beneath_pop_to(beneath_stack_t *s, size_t depth) {
    while (s->depth > depth)
        close(s->fds[s->depth--]);
}

/* The canonical path of the directory root_fd into out, checked to be that
 * very directory.  Returns its length, or -EXDEV when it cannot be known. */
static int beneath_root_path(int root_fd, char *out, size_t cap) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", root_fd);
    ssize_t n = readlink(proc, out, cap - 1);
    if (n <= 0 || out[0] != '/')
        return -EXDEV;
    out[n] = '\0';
    struct stat by_fd, by_path;
    if (fstat(root_fd, &by_fd) != 0 || stat(out, &by_path) != 0 || by_fd.st_dev != by_path.st_dev ||
        by_fd.st_ino != by_path.st_ino)
        return -EXDEV;
    return (int)n;
}

/* Where an absolute symlink target lands relative to the root: the rest of
 * target past the root's path ("" for the root itself), or NULL when it
 * lies outside. */
static const char *beneath_strip_root(const char *target, const char *root, size_t root_len) {
    if (root_len == 1) /* the root is "/" itself */
        return target + 1;
    if (strncmp(target, root, root_len) != 0 || (target[root_len] && target[root_len] != '/'))
        return NULL;
    return target + root_len;
}

int beneath_open_walk(int root_fd, const char *rel) {
    if (!rel || rel[0] == '/')
        return -EXDEV;
    if (!rel[0])
        return -ENOENT;
    size_t rel_len = strlen(rel);
    if (rel_len >= PATH_MAX)
        return -ENAMETOOLONG;
    char rest[2 * PATH_MAX], joined[2 * PATH_MAX], target[PATH_MAX], root_path[PATH_MAX];
    int root_len = 0; /* 0: not asked yet */
    memcpy(rest, rel, rel_len + 1);
    beneath_stack_t stack = {.fds = malloc(16 * sizeof(int)), .capacity = 16};
    if (!stack.fds)
        return -ENOMEM;
    stack.fds[0] = root_fd;
    int links = 0, rc = 0;
    const char *p = rest;
    for (;;) {
        while (*p == '/')
            p++;
        int dir = stack.fds[stack.depth];
        if (!*p) { /* the path ended at a directory */
            rc = openat(dir, ".", BENEATH_READ_FLAGS);
            rc = rc >= 0 ? rc : -errno;
            break;
        }
        const char *next = strchrnul(p, '/');
        size_t n = (size_t)(next - p);
        if (n > NAME_MAX) {
            rc = -ENAMETOOLONG;
            break;
        }
        char name[NAME_MAX + 1];
        memcpy(name, p, n);
        name[n] = '\0';
        if (strcmp(name, ".") == 0) {
            p = next;
            continue;
        }
        if (strcmp(name, "..") == 0) {
            if (stack.depth == 0) {
                rc = -EXDEV;
                break;
            }
            beneath_pop_to(&stack, stack.depth - 1);
            p = next;
            continue;
        }
        if (!*next) { /* the last component: the file itself */
            int fd = openat(dir, name, BENEATH_READ_FLAGS | O_NOFOLLOW);
            if (fd >= 0) {
                rc = fd;
                break;
            }
            if (errno != ELOOP) { /* ELOOP under O_NOFOLLOW: a symlink */
                rc = -errno;
                break;
            }
        } else {
            int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) != 0) {
                rc = -errno;
                if (fd >= 0)
                    close(fd);
                break;
            }
            if (S_ISDIR(st.st_mode)) {
                if ((rc = beneath_push(&stack, fd)) != 0)
                    break;
                p = next;
                continue;
            }
            close(fd);
            if (!S_ISLNK(st.st_mode)) {
                rc = -ENOTDIR;
                break;
            }
        }
        /* name is a symlink: go on from its target. */
        if (++links > BENEATH_MAX_LINKS) {
            rc = -ELOOP;
            break;
        }
        ssize_t t = readlinkat(dir, name, target, sizeof target - 1);
        if (t < 0 && errno == EINVAL)
            continue; /* no longer a symlink: look at it again (links bounds this) */
        if (t <= 0) {
            rc = t < 0 ? -errno : -ENOENT;
            break;
        }
        target[t] = '\0';
        const char *from = target;
        if (target[0] == '/') {
            if (root_len == 0)
                root_len = beneath_root_path(root_fd, root_path, sizeof root_path);
            from = root_len > 0 ? beneath_strip_root(target, root_path, (size_t)root_len) : NULL;
            if (!from) {
                rc = -EXDEV;
                break;
            }
            beneath_pop_to(&stack, 0);
        }
        int len = snprintf(joined, sizeof joined, "%s%s", from, next);
        if (len < 0 || (size_t)len >= sizeof joined) {
            rc = -ENAMETOOLONG;
            break;
        }
        memcpy(rest, joined, (size_t)len + 1);
        p = rest;
    }
    beneath_pop_to(&stack, 0);
    free(stack.fds);
    return rc;
}

#ifdef BENEATH_HAVE_OPENAT2
static atomic_bool beneath_no_openat2; /* the kernel lacks it, or a sandbox forbids it */
#endif

int beneath_open(int root_fd, const char *rel) {
    if (!rel || rel[0] == '/')
        return -EXDEV;
#ifdef BENEATH_HAVE_OPENAT2
    if (!atomic_load_explicit(&beneath_no_openat2, memory_order_relaxed)) {
        struct open_how how = {.flags = BENEATH_READ_FLAGS,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        int e = errno;
        if (e == ENOSYS || e == EPERM || e == EINVAL || e == E2BIG)
            atomic_store_explicit(&beneath_no_openat2, true, memory_order_relaxed);
        else if (e != EXDEV && e != EAGAIN)
            return -e;
        /* EXDEV: an absolute symlink (the walk may accept it) or a way out
         * (the walk says so again); EAGAIN: a rename raced the lookup. */
    }
#endif
    return beneath_open_walk(root_fd, rel);
}

int beneath_root_check(const char *root) {
    struct stat st;
    if (stat(root, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
