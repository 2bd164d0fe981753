/*
 * walk: the files of a repository that are worth indexing.
 *
 * In a git checkout the candidates are what `git ls-files --cached --others
 * --exclude-standard` lists (tracked files plus untracked ones that are not
 * ignored), so the seeder sees the repository exactly as its owner does.
 * Elsewhere (a tarball, a directory without git, git not installed) a
 * recursive walk stands in, honouring every `.gitignore` on the way down and
 * never entering `.git`.
 *
 * Every candidate is then either accepted or skipped with a reason that the
 * seeder reports: binary, not UTF-8 (its bytes, or its name), too big,
 * vendored, generated, minified, a symlink that leaves the root or loops,
 * unreadable, outside the root, not a regular file.  A file that cannot be
 * read is a line in the report, never the end of the walk.  What is read is
 * read through an fd opened beneath the root (proto/base/beneath.h), so a
 * path changed into a way out after it was checked is refused, not read.
 *
 * Invariants of a walk_t: entries are sorted by path (bytewise) and unique;
 * paths are relative to the root, use `/`, and have no `.` or `..`
 * components; a directory skipped whole (vendored, unreadable) is one entry
 * whose path ends in `/`; an accepted entry has a UTF-8 path and is a
 * regular file (possibly reached through a symlink that stays inside the
 * root) that was valid UTF-8 text without a NUL byte, no larger than the
 * size limit, when it was read.
 */
#ifndef LCA_SEEDER_WALK_H
#define LCA_SEEDER_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/code/lang.h"

typedef enum {
    WALK_ACCEPTED = 0,
    WALK_SKIP_BINARY,        /* a NUL byte anywhere in the file */
    WALK_SKIP_NOT_UTF8,      /* invalid UTF-8 somewhere in the file */
    WALK_SKIP_NAME_NOT_UTF8, /* the path itself is not UTF-8 (the file is never read) */
    WALK_SKIP_TOO_BIG,       /* larger than walk_options_t.max_file_bytes */
    WALK_SKIP_VENDORED,      /* node_modules/, vendor/, third_party/, dist/, *.min.js, ... */
    WALK_SKIP_GENERATED,     /* "Code generated ... DO NOT EDIT", @generated, lock files */
    WALK_SKIP_MINIFIED,      /* average line far longer than anyone writes by hand */
    WALK_SKIP_SYMLINK,       /* a symlink that leaves the root, loops, dangles or names a dir */
    WALK_SKIP_UNREADABLE,    /* open or read failed (permissions, I/O error) */
    WALK_SKIP_OUTSIDE_ROOT,  /* the path itself escapes the root (`..`, absolute elsewhere) */
    WALK_SKIP_NOT_REGULAR,   /* a FIFO, socket, device, or a submodule's directory */
    WALK_REASON_COUNT
} walk_reason_t;

typedef struct {
    uint64_t max_file_bytes;   /* larger files are skipped as too big (default 1 MiB) */
    size_t max_average_line;   /* minified above this many bytes per line (default 300) */
    size_t minified_min_bytes; /* files smaller than this are never called minified (1 KiB) */
    bool use_git;              /* try `git ls-files` first (default true) */
} walk_options_t;

typedef struct {
    const char *path;     /* relative to the root */
    walk_reason_t reason; /* WALK_ACCEPTED or why it was skipped */
    const char *detail;   /* a human-readable explanation when skipped, else NULL */
    lang_id_t lang;       /* from the name or the `#!` line; LANG_UNKNOWN if skipped early */
    uint64_t size;        /* bytes, as seen by stat (0 if unknown) */
} walk_entry_t;

typedef struct walk walk_t;

/* The defaults described above. */
void walk_options_default(walk_options_t *options);

/* A short stable name for reason ("binary", "too-big", ...). */
const char *walk_reason_name(walk_reason_t reason);

/* Lists and classifies the files under root (options may be NULL for the
 * defaults).  On success returns 0 and sets *out, which the caller frees with
 * walk_destroy().  On failure (root missing, not a directory or unreadable;
 * out of memory) returns a negative errno, sets *out to NULL and, if error is
 * not NULL, sets *error to a message the caller frees.  Problems with single
 * files or subdirectories are entries of the result, not failures. */
int walk_list(const char *root, const walk_options_t *options, walk_t **out, char **error);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void walk_destroy(walk_t **self_p);

/* "git" when the candidates came from git ls-files, "walk" otherwise. */
const char *walk_method(const walk_t *self);

/* Number of entries (accepted and skipped). */
size_t walk_count(const walk_t *self);

/* Number of accepted entries. */
size_t walk_count_accepted(const walk_t *self);

/* Entry i (0 <= i < walk_count()), borrowed from self; NULL when out of range. */
const walk_entry_t *walk_get(const walk_t *self, size_t index);

/* The entry for path, borrowed from self, or NULL (binary search). */
const walk_entry_t *walk_find(const walk_t *self, const char *path);

/* Classifies one file, rel_path relative to root, exactly as walk_list()
 * would (for watchers that learn of single changed files).  Fills *entry;
 * entry->path points at rel_path and entry->detail at detail (a buffer of
 * detail_len bytes that receives the explanation).  Returns 0, or -ENOENT
 * when the file does not exist (entry->reason is then UNREADABLE). */
int walk_check_file(const char *root, const char *rel_path, const walk_options_t *options,
                    walk_entry_t *entry, char *detail, size_t detail_len);

/* The content checks alone, for data already in memory: binary, not UTF-8,
 * generated, minified, in that order (the path is used for nothing but the
 * lock-file and vendored names).  Writes an explanation into detail when it
 * returns a skip reason. */
walk_reason_t walk_check_content(const char *rel_path, const char *data, size_t len,
                                 const walk_options_t *options, char *detail, size_t detail_len);

#endif
