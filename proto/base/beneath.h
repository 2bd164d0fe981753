/*
 * beneath: open a file of a directory tree without ever leaving the tree.
 *
 * A repository is somebody else's bytes: a path that was a plain file when
 * the seeder listed it can be a symlink to ~/.ssh/id_rsa a moment later, or
 * one of its directories can be swapped for a symlink to /etc.  Checking a
 * path (lstat, realpath) and then opening it by name leaves that gap open.
 * beneath_open() closes it: the name is resolved relative to a directory
 * fd, one component at a time, each opened relative to the one before it
 * and never following a symlink by itself, so what is opened is what was
 * checked.  The fd it returns is the file read, and a caller that fstat()s
 * it knows what it read.
 *
 * Symlinks are followed where they stay inside the tree, as the seeder
 * always did: a relative one (`alias.c -> src/real.c`, `x -> ../lib/x.c`)
 * as long as its `..` never climbs above the root, an absolute one when it
 * names a path under the root's own canonical path.  Anything else is
 * -EXDEV, however it is reached.
 *
 * Where the kernel has openat2() (Linux 5.6), RESOLVE_BENEATH does the walk
 * in one call; it refuses absolute symlinks outright, so for those, and where
 * openat2 is missing or forbidden (older kernels, seccomp profiles), the same
 * walk runs in user space.  Both give the same answers.
 *
 * Not covered: hard links (a hard link to a file is that file; the kernel's
 * protected_hardlinks keeps strangers from making them to files they cannot
 * read), and bind mounts inside the tree, which only root can make.
 */
#ifndef LCA_BASE_BENEATH_H
#define LCA_BASE_BENEATH_H

/* Whether root can be the root of a tree: 0 when it is a directory (symlinks
 * followed), -ENOTDIR for another kind of file, else stat's -errno. */
int beneath_root_check(const char *root);

/* Opens rel, a path relative to the directory root_fd (which may be an
 * O_PATH fd), for reading: O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, so
 * that a FIFO never blocks the caller.  The file is not checked to be
 * regular: fstat() the fd.  Returns the fd (the caller closes it) or a
 * negative errno: -EXDEV when rel is absolute, climbs out with `..` or
 * meets a symlink leading outside the tree; -ELOOP after 40 symlinks;
 * otherwise what openat() says (-ENOENT, -EACCES, -ENOTDIR, ...). */
int beneath_open(int root_fd, const char *rel);

/* The same by the user-space walk alone, which beneath_open() falls back to:
 * public so that tests check both ways give the same answers. */
int beneath_open_walk(int root_fd, const char *rel);

#endif
