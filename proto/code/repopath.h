/*
 * repopath: paths inside a repository, as the import resolvers and the
 * project configs (go.mod, Cargo.toml, tsconfig.json) speak of them.
 *
 * A repository path is relative to the collection's root, `/`-separated,
 * with no leading or trailing slash, no `.` or `..` components; "" is the
 * root itself.  These helpers keep that form: a join that would climb above
 * the root fails instead of producing `../x`.  Nothing here allocates but
 * repopath_read_text(), and every output is bounded by its capacity.
 */
#ifndef LCA_CODE_REPOPATH_H
#define LCA_CODE_REPOPATH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest repository path the resolvers build. */
#define REPOPATH_MAX 4096

/* Joins dir and rel (repository paths, "" for the root; rel may hold `.`
 * and `..`) folding `.` and `..` into out; false when the result would
 * leave the root, is empty or does not fit in cap. */
bool repopath_join(const char *dir, const char *rel, char *out, size_t cap);

/* The directory part of path ("" for a file at the root) into out, cut to
 * fit cap (cap >= 1). */
void repopath_dirname(const char *path, char *out, size_t cap);

/* Cuts the last component off dir in place ("a/b" -> "a", "a" -> "");
 * false when dir is already the root, "". */
bool repopath_parent(char *dir);

/* Whether path is a test's by the conventions of the languages lca reads:
 * a directory test, tests, __tests__, spec, testdata or src/test (Maven),
 * or a file named *_test.go, test_*.py, *_test.py, *.test.js, *.spec.ts
 * (any JS/TS extension), *Test.java, *Tests.kt, conftest.py. */
bool repopath_is_test(const char *path);

/* The name of the file a test file tests, by the same conventions: the
 * stem of test_mincost.py, mincost_test.py, mincost_test.go, mincost.test.js,
 * mincost.spec.ts, MincostTest.java or MincostTests.kt is "mincost" (or
 * "Mincost").  Written into out (cap >= 1) and its length returned; 0 when
 * path's file name names no tested file, or it does not fit. */
size_t repopath_test_subject(const char *path, char *out, size_t cap);

/* The first max bytes of root/rel as a NUL-terminated string (caller
 * frees), or NULL when it cannot be read: the small files that steer
 * resolution (go.mod, Cargo.toml, tsconfig.json).  rel is opened beneath
 * root (proto/base/beneath.h), so a config that is, or sits behind, a
 * symlink out of the repository is not read; nor is anything but a
 * regular file. */
char *repopath_read_text(const char *root, const char *rel, size_t max);

#endif
