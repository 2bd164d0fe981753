/*
 * Fixtures for lca's C tests: where the repository and its sample project
 * (tests/fixtures/repo) are, temporary directories and the files a test
 * writes into them, reading a file back, and a deterministic random number
 * generator.  Header-only and free of any lca library, so that every test,
 * unit or integration, can include it.
 *
 *   char root[64];
 *   REQUIRE(fixture_tmpdir(root, sizeof root, "walk"));
 *   REQUIRE(fixture_write_tree(root, (const fixture_file_t[]){{"src/a.py", "x = 1\n"},
 *                                                             {"README", "hi\n"},
 *                                                             {NULL, NULL}}) == 0);
 *   ...
 *   fixture_remove_tree(root);
 */
#ifndef LCA_TEST_FIXTURE_H
#define LCA_TEST_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- where things are ---- */

/* The repository root with a trailing '/': "" when the working directory
 * is it, else the nearest parent of this test binary holding
 * tests/fixture.h ("" too when none does). */
static inline const char *fixture_root(void) {
    static char root[PATH_MAX + 1];
    static bool found;
    if (found)
        return root;
    found = true;
    if (access("tests/fixture.h", R_OK) == 0)
        return root;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    for (char *slash; (slash = strrchr(exe, '/'));) {
        *slash = '\0';
        char probe[PATH_MAX + 64];
        snprintf(probe, sizeof probe, "%s/tests/fixture.h", exe);
        if (access(probe, R_OK) == 0) {
            size_t len = strlen(exe);
            memcpy(root, exe, len);
            root[len] = '/';
            root[len + 1] = '\0';
            break;
        }
    }
    return root;
}

/* The sample project every language test reads: tests/fixtures/repo under
 * $LCA_SOURCE_DIR when set, else under fixture_root() ("./" when that is
 * the working directory). */
static inline const char *fixture_repo(void) {
    static char path[PATH_MAX + 32];
    const char *source = getenv("LCA_SOURCE_DIR");
    if (source && *source)
        snprintf(path, sizeof path, "%s/tests/fixtures/repo", source);
    else
        snprintf(path, sizeof path, "%stests/fixtures/repo",
                 fixture_root()[0] ? fixture_root() : "./");
    return path;
}

/* ---- temporary trees ---- */

/* A fresh directory /tmp/lca-<name>-XXXXXX (mode 0700) written to dir;
 * false when it could not be made. */
static inline bool fixture_tmpdir(char *dir, size_t size, const char *name) {
    if ((size_t)snprintf(dir, size, "/tmp/lca-%s-XXXXXX", name) >= size) {
        if (size)
            dir[0] = '\0';
        return false;
    }
    if (mkdtemp(dir))
        return true;
    dir[0] = '\0';
    return false;
}

/* Writes len bytes of data to root/rel (to rel itself when root is NULL),
 * making its missing directories on the way, root's own included.  0, or
 * -errno. */
static inline int fixture_write(const char *root, const char *rel, const void *data, size_t len) {
    char path[PATH_MAX];
    if (root && !root[0])
        return -EINVAL; /* not "/rel": a directory that was never made */
    int n = root ? snprintf(path, sizeof path, "%s/%s", root, rel)
                 : snprintf(path, sizeof path, "%s", rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    for (char *p = path + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755); /* EEXIST is fine; a real failure shows at open */
        *p = '/';
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    for (size_t done = 0; done < len;) {
        ssize_t k = write(fd, (const char *)data + done, len - done);
        if (k <= 0) {
            close(fd);
            return -EIO;
        }
        done += (size_t)k;
    }
    return close(fd) == 0 ? 0 : -errno;
}

static inline int fixture_write_text(const char *root, const char *rel, const char *text) {
    return fixture_write(root, rel, text, strlen(text));
}

/* One file of a tree: its path below the tree's root and its text. */
typedef struct {
    const char *path, *text;
} fixture_file_t;

/* Writes every file of files (up to one whose path is NULL) below root.
 * 0, or the first failure's -errno. */
static inline int fixture_write_tree(const char *root, const fixture_file_t *files) {
    for (; files->path; files++) {
        int rc = fixture_write_text(root, files->path, files->text);
        if (rc != 0) {
            fprintf(stderr, "  cannot write %s/%s: %s\n", root, files->path, strerror(-rc));
            return rc;
        }
    }
    return 0;
}

/* Copies the sample project's files, as they are (cp -a), into dir (made
 * when missing).  0, or the shell's exit status. */
static inline int fixture_copy_repo(const char *dir) {
    char command[3 * PATH_MAX];
    snprintf(command, sizeof command, "mkdir -p '%s' && cp -a '%s/.' '%s'", dir, fixture_repo(),
             dir);
    int rc = system(command);
    if (rc != 0)
        fprintf(stderr, "  command failed (%d): %s\n", rc, command);
    return rc;
}

static inline int fixture_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw) {
    (void)st, (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        chmod(path, 0700);
    remove(path);
    return 0;
}

/* What the retrieval tests add to a copy of the sample project: a package
 * whose one definition, apply_loyalty_discount, is called nowhere else. */
static inline const fixture_file_t *fixture_pricing_files(void) {
    static const fixture_file_t files[] = {
        {"py/shop/pricing/__init__.py", ""},
        {"py/shop/pricing/discounts.py",
         "\"\"\"Discounts for returning customers.\"\"\"\n"
         "\n"
         "\n"
         "def apply_loyalty_discount(total, years):\n"
         "    \"\"\"Takes 2 % off per year of loyalty, at most 20 %.\"\"\"\n"
         "    rate = min(years * 0.02, 0.2)\n"
         "    return round(total * (1 - rate), 2)\n"},
        {NULL, NULL}};
    return files;
}

/* A second repository for them, two small files: greet_visitor and its
 * caller. */
static inline const fixture_file_t *fixture_other_files(void) {
    static const fixture_file_t files[] = {
        {"lib/greet.py", "\"\"\"Greetings.\"\"\"\n\n\ndef greet_visitor(name):\n"
                         "    \"\"\"Says hello to a visitor.\"\"\"\n"
                         "    return \"Welcome, \" + name\n"},
        {"lib/visitors.py", "from .greet import greet_visitor\n\n\ndef welcome_all(names):\n"
                            "    return [greet_visitor(n) for n in names]\n"},
        {NULL, NULL}};
    return files;
}

/* Removes dir and everything below it (links are removed, not followed).
 * A directory the test made unreadable must be opened again first. */
static inline void fixture_remove_tree(const char *dir) {
    if (dir && dir[0])
        nftw(dir, fixture_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- reading back ---- */

/* The first size - 1 bytes of the file at path in out, NUL-terminated ("" when
 * it cannot be read); returns how many were read. */
static inline size_t fixture_read_text(const char *path, char *out, size_t size) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, size - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    return n;
}

/* The whole file at path, NUL-terminated, its length in *len (may be NULL);
 * the caller frees it.  NULL when it cannot be read. */
static inline char *fixture_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *bigger = realloc(data, cap * 2);
        if (!bigger) {
            free(data);
            data = NULL;
        } else {
            data = bigger;
            cap *= 2;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (!data || failed) {
        free(data);
        return NULL;
    }
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

/* The whole file rel of the sample project (as fixture_read). */
static inline char *fixture_repo_read(const char *rel, size_t *len) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", fixture_repo(), rel);
    return fixture_read(path, len);
}

/* True when the file at path holds text. */
static inline bool fixture_file_has(const char *path, const char *text) {
    char *data = fixture_read(path, NULL);
    bool found = data && strstr(data, text) != NULL;
    free(data);
    return found;
}

/* ---- a deterministic random number generator ---- */

/* xorshift64*: the same numbers from the same seed on every machine.  The
 * state must not be 0. */
typedef struct {
    uint64_t state;
} fixture_rng_t;

static inline uint64_t rng_next(fixture_rng_t *r) {
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, 1). */
static inline double rng_unit(fixture_rng_t *r) {
    return (double)(rng_next(r) >> 11) / (double)(1ull << 53);
}

/* Uniform in [-1, 1). */
static inline float rng_uniform(fixture_rng_t *r) {
    return (float)(rng_unit(r) * 2.0 - 1.0);
}

/* Standard normal (Box-Muller). */
static inline float rng_gauss(fixture_rng_t *r) {
    double u = ((double)(rng_next(r) >> 11) + 0.5) / (double)(1ull << 53);
    double v = rng_unit(r);
    return (float)(sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v));
}

/* A random direction: dim normal numbers scaled to length 1, as embeddings
 * look to a vector scan. */
static inline void rng_unit_vector(fixture_rng_t *r, float *v, size_t dim) {
    double norm = 0;
    for (size_t i = 0; i < dim; i++) {
        v[i] = rng_gauss(r);
        norm += (double)v[i] * v[i];
    }
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(norm));
}

#endif
