/*
 * walk: candidates from git or from a directory walk, then one classifier.
 *
 * Both sources feed the same per-file check (walk_check_at), so a file gets
 * the same verdict whichever way it was found, and the same again from
 * walk_check_file() when a watcher asks about it later.  The checks run from
 * cheapest to dearest: the name (vendored, lock files), lstat (symlinks,
 * special files, size), and only then the bytes (binary, UTF-8, generated
 * header, line length), so a 10 MB file is never read just to be refused.
 *
 * The directory walk does not follow symlinks to directories, as git does
 * not: following them is how walks loop forever or index a tree twice.  A
 * symlink to a file is followed if its target stays inside the root.  The
 * tree may change under the walk (it is somebody else's), so the checks by
 * name (lstat, realpath) only explain a verdict: every byte is read through
 * an fd that proto/base/beneath.h opened relative to the root without
 * leaving it, and the walk enters each directory relative to its parent's fd
 * without following symlinks, so a directory swapped for a symlink after it
 * was looked at leads nowhere.
 *
 * git is started with fork/exec (never a shell) in the root with stdin and
 * stderr on /dev/null, and a repository is somebody else's too: see
 * walk_git_list() for what keeps its config and our environment from making
 * git run anything.  When git fails for any reason (not a checkout, not
 * installed, "dubious ownership") the walk takes over.
 */
#include "seeder/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/base/beneath.h"
#include "proto/base/buf.h"
#include "proto/base/utf8.h"
#include "seeder/ignore.h"

#define WALK_HEADER_PROBE 4096
#define WALK_HEADER_LINES 12

typedef struct {
    char *path;
    walk_reason_t reason;
    char *detail;
    lang_id_t lang;
    uint64_t size;
} walk_item_t;

struct walk {
    walk_entry_t *entries; /* sorted by path; strings owned through the items */
    walk_item_t *items;    /* parallel to entries: the owned strings */
    size_t count;
    size_t capacity;
    size_t accepted;
    const char *method; /* "git" or "walk" */
};

/* The root of a walk, held open: every file is opened beneath fd. */
typedef struct {
    const char *path; /* as the caller named it */
    char *real;       /* its realpath, for the "stays inside" explanations */
    int fd;           /* the directory itself (O_PATH), or -1 */
} walk_root_t;

/* The walker's state during one walk_list(). */
typedef struct {
    walk_root_t root;
    walk_options_t options;
    walk_t *out;
    struct {
        char *dir; /* directory of the .gitignore, relative to root ("" for root) */
        ignore_t *ignore;
    } * ignores;
    size_t ignore_count;
    size_t ignore_capacity;
} walker_t;

static const char *const walk_reason_names[WALK_REASON_COUNT] = {
    [WALK_ACCEPTED] = "accepted",
    [WALK_SKIP_BINARY] = "binary",
    [WALK_SKIP_NOT_UTF8] = "not-utf8",
    [WALK_SKIP_NAME_NOT_UTF8] = "name-not-utf8",
    [WALK_SKIP_TOO_BIG] = "too-big",
    [WALK_SKIP_VENDORED] = "vendored",
    [WALK_SKIP_GENERATED] = "generated",
    [WALK_SKIP_MINIFIED] = "minified",
    [WALK_SKIP_SYMLINK] = "symlink",
    [WALK_SKIP_UNREADABLE] = "unreadable",
    [WALK_SKIP_OUTSIDE_ROOT] = "outside-root",
    [WALK_SKIP_NOT_REGULAR] = "not-regular",
};

/* Directory names whose contents are somebody else's code or build output. */
static const char *const walk_vendored_dirs[] = {
    "node_modules",  "bower_components",
    "jspm_packages", "vendor",
    "third_party",   "third-party",
    "thirdparty",    "3rdparty",
    ".venv",         "venv",
    "site-packages", "__pycache__",
    ".tox",          ".mypy_cache",
    ".pytest_cache", ".next",
    ".nuxt",         ".gradle",
    "Pods",          "Carthage",
    ".yarn",         ".pnpm-store",
    ".bundle",       ".git",
    ".hg",           ".svn",
};

/* File names that tools write, not people. */
static const char *const walk_lock_files[] = {
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock",    "pnpm-lock.yaml", "Cargo.lock",
    "Gemfile.lock",      "poetry.lock",         "Pipfile.lock", "composer.lock",  "go.sum",
    "flake.lock",        "packages.lock.json",  "mix.lock",     "pubspec.lock",   "Podfile.lock",
    "bun.lockb",
};

void walk_options_default(walk_options_t *options) {
    options->max_file_bytes = 1u << 20;
    options->max_average_line = 300;
    options->minified_min_bytes = 1024;
    options->use_git = true;
}

const char *walk_reason_name(walk_reason_t reason) {
    if ((int)reason < 0 || reason >= WALK_REASON_COUNT)
        return "unknown";
    return walk_reason_names[reason];
}

static bool walk_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Build output only at the root: deeper, a directory so named is as often
 * source (Go's go/build, a build/ package of tools). */
static const char *const walk_output_dirs[] = {"dist", "build"};

/* Whether the directory name (at the root when top) holds code that is not
 * the repository's own. */
static bool walk_is_vendored_dir(const char *name, bool top) {
    for (size_t i = 0; i < sizeof walk_vendored_dirs / sizeof walk_vendored_dirs[0]; i++)
        if (strcmp(name, walk_vendored_dirs[i]) == 0)
            return true;
    for (size_t i = 0; top && i < sizeof walk_output_dirs / sizeof walk_output_dirs[0]; i++)
        if (strcmp(name, walk_output_dirs[i]) == 0)
            return true;
    return false;
}

/* Name-only verdicts: escaping paths, names that are not UTF-8, vendored
 * directories or bundles, lock files and the generated-file names of common
 * code generators. */
static walk_reason_t walk_check_name(const char *rel, char *detail, size_t detail_len) {
    if (rel[0] == '/' || rel[0] == '\0') {
        err_printf(detail, detail_len, "not a path relative to the root");
        return WALK_SKIP_OUTSIDE_ROOT;
    }
    /* A path travels as JSON (to the shards, into prompts, to the IDE),
     * which cannot carry it, and no client could name the file back. */
    size_t name_len = strlen(rel), valid = utf8_valid_prefix(rel, name_len);
    if (valid < name_len) {
        err_printf(detail, detail_len, "the name is not UTF-8 (byte 0x%02x at offset %zu)",
                   (unsigned char)rel[valid], valid);
        return WALK_SKIP_NAME_NOT_UTF8;
    }
    const char *component = rel;
    for (;;) {
        const char *slash = strchr(component, '/');
        size_t len = slash ? (size_t)(slash - component) : strlen(component);
        if ((len == 2 && component[0] == '.' && component[1] == '.') ||
            (len == 1 && component[0] == '.') || len == 0) {
            err_printf(detail, detail_len, "path has an empty, '.' or '..' component");
            return WALK_SKIP_OUTSIDE_ROOT;
        }
        if (!slash)
            break;
        char name[NAME_MAX + 1];
        if (len <= NAME_MAX) {
            memcpy(name, component, len);
            name[len] = '\0';
            if (walk_is_vendored_dir(name, component == rel)) {
                err_printf(detail, detail_len, "inside %s/", name);
                return WALK_SKIP_VENDORED;
            }
        }
        component = slash + 1;
    }
    const char *base = component;
    if (strstr(base, ".min.") || walk_ends_with(base, "-min.js") ||
        walk_ends_with(base, "-min.css") || walk_ends_with(base, ".bundle.js")) {
        err_printf(detail, detail_len, "minified bundle by name");
        return WALK_SKIP_VENDORED;
    }
    for (size_t i = 0; i < sizeof walk_lock_files / sizeof walk_lock_files[0]; i++)
        if (strcmp(base, walk_lock_files[i]) == 0) {
            err_printf(detail, detail_len, "lock file");
            return WALK_SKIP_GENERATED;
        }
    if (walk_ends_with(base, ".lock") || walk_ends_with(base, ".pb.go") ||
        walk_ends_with(base, "_pb2.py") || walk_ends_with(base, "_pb2_grpc.py") ||
        walk_ends_with(base, ".pb.cc") || walk_ends_with(base, ".pb.h") ||
        walk_ends_with(base, ".js.map") || walk_ends_with(base, ".css.map") ||
        walk_ends_with(base, ".designer.cs") || walk_ends_with(base, ".g.dart")) {
        err_printf(detail, detail_len, "generated file by name");
        return WALK_SKIP_GENERATED;
    }
    return WALK_ACCEPTED;
}

/* A generated-file marker in the first lines: Go's "Code generated ... DO
 * NOT EDIT.", "@generated" (Facebook, Rust, ...), C#'s "<auto-generated",
 * or any header line that says both "generated" and "do not edit". */
static bool walk_has_generated_header(const char *data, size_t len) {
    char head[WALK_HEADER_PROBE + 1];
    size_t n = len < WALK_HEADER_PROBE ? len : WALK_HEADER_PROBE;
    memcpy(head, data, n);
    head[n] = '\0';
    char *line = head;
    for (int i = 0; i < WALK_HEADER_LINES && line && *line; i++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strstr(line, "@generated") || strcasestr(line, "<auto-generated") ||
            (strcasestr(line, "generated") && strcasestr(line, "do not edit")))
            return true;
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

walk_reason_t walk_check_content(const char *rel_path, const char *data, size_t len,
                                 const walk_options_t *options, char *detail, size_t detail_len) {
    walk_options_t defaults;
    if (!options) {
        walk_options_default(&defaults);
        options = &defaults;
    }
    (void)rel_path;
    /* Anywhere, not only near the start: a NUL is valid UTF-8, and text
     * with one further on would reach the index, and prompts, whole. */
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        err_printf(detail, detail_len, "NUL byte at offset %zu", (size_t)(nul - data));
        return WALK_SKIP_BINARY;
    }
    size_t bad = utf8_valid_prefix(data, len);
    if (bad < len) {
        err_printf(detail, detail_len, "invalid UTF-8 at offset %zu", bad);
        return WALK_SKIP_NOT_UTF8;
    }
    if (walk_has_generated_header(data, len)) {
        err_printf(detail, detail_len, "generated-file marker in the header");
        return WALK_SKIP_GENERATED;
    }
    if (len >= options->minified_min_bytes && options->max_average_line > 0) {
        size_t lines = 0;
        for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + len - p))); p++)
            lines++;
        if (len > 0 && data[len - 1] != '\n')
            lines++;
        if (lines == 0 || len / lines > options->max_average_line) {
            err_printf(detail, detail_len, "average line of %zu bytes", lines ? len / lines : len);
            return WALK_SKIP_MINIFIED;
        }
    }
    return WALK_ACCEPTED;
}

/* Opens root->path: 0, or a negative errno (-ENOTDIR when it is not a
 * directory). */
static int walk_root_open(walk_root_t *root) {
    root->real = NULL;
    root->fd = open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root->fd < 0)
        return -errno;
    if (!(root->real = realpath(root->path, NULL))) {
        int rc = -errno;
        close(root->fd);
        root->fd = -1;
        return rc;
    }
    return 0;
}

static void walk_root_close(walk_root_t *root) {
    if (root->fd >= 0)
        close(root->fd);
    root->fd = -1;
    free(root->real);
    root->real = NULL;
}

/* Whether resolved (an absolute, symlink-free path) lies in real_root. */
static bool walk_is_inside(const char *real_root, const char *resolved) {
    size_t n = strlen(real_root);
    if (n == 1 && real_root[0] == '/')
        return true;
    return strncmp(resolved, real_root, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0');
}

/* Reads up to limit + 1 bytes of fd into *data (NUL-terminated); *len the
 * count.  Returns 0 or a negative errno. */
static int walk_read_fd(int fd, uint64_t limit, char **data, size_t *len) {
    size_t capacity = 65536, used = 0;
    char *buf = malloc(capacity + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (used == capacity) {
            if (used > limit)
                break;
            capacity *= 2;
            char *grown = realloc(buf, capacity + 1);
            if (!grown) {
                free(buf);
                return -ENOMEM;
            }
            buf = grown;
        }
        ssize_t n = read(fd, buf + used, capacity - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int rc = -errno;
            free(buf);
            return rc;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > limit)
            break;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return 0;
}

/* The common check of rel, relative to root.  Returns 0, or -ENOENT when
 * the file does not exist. */
static int walk_check_at(const walk_root_t *root, const char *rel, const walk_options_t *options,
                         walk_entry_t *entry, char *detail, size_t detail_len) {
    *entry = (walk_entry_t){.path = rel, .detail = NULL, .lang = LANG_UNKNOWN};
    if (detail && detail_len)
        detail[0] = '\0';
    int rc = 0;
    char *full = NULL, *resolved = NULL, *data = NULL;
    walk_reason_t reason = walk_check_name(rel, detail, detail_len);
    if (reason != WALK_ACCEPTED && reason != WALK_SKIP_VENDORED && reason != WALK_SKIP_GENERATED)
        goto done;
    if (asprintf(&full, "%s/%s", root->path, rel) < 0) {
        full = NULL;
        reason = WALK_SKIP_UNREADABLE;
        err_printf(detail, detail_len, "out of memory");
        goto done;
    }
    struct stat st;
    if (lstat(full, &st) != 0) {
        rc = errno == ENOENT ? -ENOENT : 0;
        err_printf(detail, detail_len, "%s", strerror(errno));
        reason = WALK_SKIP_UNREADABLE;
        goto done;
    }
    entry->size = (uint64_t)st.st_size;
    if (reason != WALK_ACCEPTED)
        goto done; /* vendored or generated by name: no need to look further */
    resolved = realpath(full, NULL);
    if (S_ISLNK(st.st_mode)) {
        if (!resolved) {
            reason = WALK_SKIP_SYMLINK;
            err_printf(detail, detail_len, "%s",
                       errno == ELOOP ? "symlink loop" : "dangling symlink");
            goto done;
        }
        if (!walk_is_inside(root->real, resolved)) {
            reason = WALK_SKIP_SYMLINK;
            err_printf(detail, detail_len, "symlink points outside the root");
            goto done;
        }
        if (stat(full, &st) != 0) {
            reason = WALK_SKIP_SYMLINK;
            err_printf(detail, detail_len, "%s", strerror(errno));
            goto done;
        }
        entry->size = (uint64_t)st.st_size;
        if (S_ISDIR(st.st_mode)) {
            reason = WALK_SKIP_SYMLINK;
            err_printf(detail, detail_len, "symlink to a directory (not followed)");
            goto done;
        }
    } else if (resolved && !walk_is_inside(root->real, resolved)) {
        reason = WALK_SKIP_OUTSIDE_ROOT;
        err_printf(detail, detail_len, "a parent directory leads outside the root");
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        reason = WALK_SKIP_NOT_REGULAR;
        err_printf(detail, detail_len, "%s",
                   S_ISDIR(st.st_mode) ? "a directory (submodule?)" : "not a regular file");
        goto done;
    }
    if ((uint64_t)st.st_size > options->max_file_bytes) {
        reason = WALK_SKIP_TOO_BIG;
        err_printf(detail, detail_len, "%llu bytes, limit %llu", (unsigned long long)st.st_size,
                   (unsigned long long)options->max_file_bytes);
        goto done;
    }
    /* What was checked above by name is opened again beneath the root:
     * the verdict is about the bytes of this fd, whatever the path became. */
    int fd = beneath_open(root->fd, rel);
    if (fd < 0) {
        reason = fd == -EXDEV   ? WALK_SKIP_OUTSIDE_ROOT
                 : fd == -ELOOP ? WALK_SKIP_SYMLINK
                                : WALK_SKIP_UNREADABLE;
        err_printf(detail, detail_len, "%s",
                   fd == -EXDEV   ? "leads outside the root when opened"
                   : fd == -ELOOP ? "symlink loop"
                                  : strerror(-fd));
        goto done;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        reason = WALK_SKIP_NOT_REGULAR;
        err_printf(detail, detail_len, "not a regular file when opened");
        goto done;
    }
    size_t len = 0;
    int read_rc = walk_read_fd(fd, options->max_file_bytes, &data, &len);
    close(fd);
    if (read_rc < 0) {
        reason = WALK_SKIP_UNREADABLE;
        err_printf(detail, detail_len, "%s", strerror(-read_rc));
        goto done;
    }
    entry->size = len;
    if (len > options->max_file_bytes) {
        reason = WALK_SKIP_TOO_BIG;
        err_printf(detail, detail_len, "grew past the limit of %llu bytes while read",
                   (unsigned long long)options->max_file_bytes);
        goto done;
    }
    reason = walk_check_content(rel, data, len, options, detail, detail_len);
    entry->lang = lang_detect(rel, data, len);
done:
    entry->reason = reason;
    if (reason != WALK_ACCEPTED && detail && detail_len)
        entry->detail = detail;
    free(full);
    free(resolved);
    free(data);
    return rc;
}

int walk_check_file(const char *root, const char *rel_path, const walk_options_t *options,
                    walk_entry_t *entry, char *detail, size_t detail_len) {
    walk_options_t defaults;
    if (!options) {
        walk_options_default(&defaults);
        options = &defaults;
    }
    walk_root_t at = {.path = root};
    int rc = walk_root_open(&at);
    if (rc != 0) {
        *entry = (walk_entry_t){.path = rel_path, .reason = WALK_SKIP_UNREADABLE};
        err_printf(detail, detail_len, "root: %s", strerror(-rc));
        entry->detail = detail;
        return rc;
    }
    /* An absolute path under the root is accepted and made relative. */
    size_t n = strlen(at.real);
    const char *rel = rel_path;
    if (rel[0] == '/' && strncmp(rel, at.real, n) == 0 && rel[n] == '/')
        rel += n + 1;
    rc = walk_check_at(&at, rel, options, entry, detail, detail_len);
    entry->path = rel_path;
    walk_root_close(&at);
    return rc;
}

/* Appends an entry with copies of path and detail.  Returns 0 or -ENOMEM. */
static int walk_append(walk_t *self, const char *path, walk_reason_t reason, const char *detail,
                       lang_id_t lang, uint64_t size) {
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 256;
        walk_item_t *grown = realloc(self->items, capacity * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        self->items = grown;
        self->capacity = capacity;
    }
    walk_item_t *item = &self->items[self->count];
    item->path = strdup(path);
    item->detail = detail && *detail ? strdup(detail) : NULL;
    if (!item->path || (detail && *detail && !item->detail)) {
        free(item->path);
        free(item->detail);
        return -ENOMEM;
    }
    item->reason = reason;
    item->lang = lang;
    item->size = size;
    self->count++;
    return 0;
}

/* Length of rel up to and including its first vendored directory and the
 * slash after it ("a/node_modules/" of "a/node_modules/x/y.js"), or 0. */
static size_t walk_vendored_prefix(const char *rel) {
    for (const char *component = rel;;) {
        const char *slash = strchr(component, '/');
        if (!slash)
            return 0;
        size_t len = (size_t)(slash - component);
        char name[NAME_MAX + 1];
        if (len <= NAME_MAX) {
            memcpy(name, component, len);
            name[len] = '\0';
            if (walk_is_vendored_dir(name, component == rel))
                return (size_t)(slash - rel) + 1;
        }
        component = slash + 1;
    }
}

static int walk_check_and_append(walker_t *w, const char *rel, bool drop_missing) {
    char detail[256];
    walk_entry_t entry;
    /* A vendored directory is one entry, whether git lists its files or
     * the walk meets the directory (walk_finish drops the repeats). */
    size_t prefix = walk_vendored_prefix(rel);
    if (prefix > 0) {
        char *dir = strndup(rel, prefix);
        if (!dir)
            return -ENOMEM;
        int rc =
            walk_append(w->out, dir, WALK_SKIP_VENDORED, "vendored directory", LANG_UNKNOWN, 0);
        free(dir);
        return rc;
    }
    int rc = walk_check_at(&w->root, rel, &w->options, &entry, detail, sizeof detail);
    if (rc == -ENOENT && drop_missing)
        return 0;
    return walk_append(w->out, rel, entry.reason, entry.detail, entry.lang, entry.size);
}

static int walk_compare_items(const void *a, const void *b) {
    return strcmp(((const walk_item_t *)a)->path, ((const walk_item_t *)b)->path);
}

/* Sorts, drops duplicates (git lists a conflicted path once per stage) and
 * builds the public entry array.  Returns 0 or -ENOMEM. */
static int walk_finish(walk_t *self) {
    if (self->count > 1)
        qsort(self->items, self->count, sizeof *self->items, walk_compare_items);
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++) {
        if (kept > 0 && strcmp(self->items[kept - 1].path, self->items[i].path) == 0) {
            free(self->items[i].path);
            free(self->items[i].detail);
            continue;
        }
        self->items[kept++] = self->items[i];
    }
    self->count = kept;
    self->entries = calloc(kept ? kept : 1, sizeof *self->entries);
    if (!self->entries)
        return -ENOMEM;
    self->accepted = 0;
    for (size_t i = 0; i < kept; i++) {
        const walk_item_t *it = &self->items[i];
        self->entries[i] = (walk_entry_t){it->path, it->reason, it->detail, it->lang, it->size};
        self->accepted += it->reason == WALK_ACCEPTED;
    }
    return 0;
}

/* What git runs with.  The repository's own config is read by any git
 * command and may name programs; the settings given with -c win over every
 * config file, so they switch off each one that `ls-files` could start:
 * the fsmonitor hook (it runs when the index is read), hooks of any kind,
 * and every transport (ssh, a proxy, a remote helper, a partial clone's lazy
 * fetch).  Drivers a .gitattributes names (filter, diff, merge) have names
 * of the repository's choosing, so they cannot be listed here: ls-files
 * reads no file content and never starts them.  The user's and the
 * system's config stay in (they are the user's and the administrator's,
 * and say which untracked files the user ignores); no pager is started. */
static const char *const walk_git_argv[] = {
    "git",
    "--no-pager",
    "-c",
    "core.quotepath=off",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "protocol.allow=never",
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
    NULL,
};

/* Our environment without any GIT_* variable (an outer git's GIT_DIR or
 * GIT_INDEX_FILE would list another repository, GIT_CONFIG_* and
 * GIT_EXEC_PATH would undo the settings above, GIT_TRACE* write files),
 * and git told never to prompt nor take the index lock.  The strings are
 * borrowed from environ; the caller frees the array.  NULL when out of
 * memory. */
static char **walk_git_environment(void) {
    extern char **environ;
    static char quiet[] = "GIT_TERMINAL_PROMPT=0", no_locks[] = "GIT_OPTIONAL_LOCKS=0";
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t kept = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "GIT_", 4) != 0)
            env[kept++] = *e;
    env[kept++] = quiet;
    env[kept++] = no_locks;
    return env;
}

/* Runs git ls-files in root; on success returns 0 with the NUL-separated
 * list in *out (caller frees).  Any failure is a negative code. */
static int walk_git_list(const char *root, char **out, size_t *out_len) {
    char **env = walk_git_environment(); /* before fork: the child only execs */
    if (!env)
        return -ENOMEM;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        free(env);
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        free(env);
        return rc;
    }
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd < 0 || chdir(root) != 0 || dup2(pipe_fds[1], 1) < 0 || dup2(null_fd, 0) < 0 ||
            dup2(null_fd, 2) < 0)
            _exit(127);
        execvpe("git", (char *const *)walk_git_argv, env);
        _exit(127);
    }
    free(env);
    close(pipe_fds[1]);
    char *data = NULL;
    size_t len = 0;
    int rc = walk_read_fd(pipe_fds[0], UINT64_MAX - 1, &data, &len);
    close(pipe_fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = -ECHILD;
    if (rc < 0) {
        free(data);
        return rc;
    }
    *out = data;
    *out_len = len;
    return 0;
}

/* True when the .gitignore files on the way down exclude rel. */
static bool walk_is_ignored(const walker_t *w, const char *rel, bool is_dir) {
    for (size_t i = w->ignore_count; i-- > 0;) {
        const char *dir = w->ignores[i].dir;
        size_t n = strlen(dir);
        const char *sub = n ? rel + n + 1 : rel;
        ignore_match_t m = ignore_match_path(w->ignores[i].ignore, sub, is_dir);
        if (m != IGNORE_NO_MATCH)
            return m == IGNORE_EXCLUDED;
    }
    return false;
}

/* Loads .gitignore of the directory dir_fd (rel_dir relative to the root)
 * if there is one and pushes it.  A symlink is not followed, as git does
 * not follow one either.  Returns 1 if pushed, 0 if there was none (or it
 * was unreadable), -ENOMEM. */
static int walk_push_gitignore(walker_t *w, int dir_fd, const char *rel_dir) {
    int fd = openat(dir_fd, ".gitignore", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? walk_read_fd(fd, 1u << 20, &text, &len)
                                                        : -EINVAL;
    close(fd);
    if (rc < 0)
        return rc == -ENOMEM ? rc : 0;
    ignore_t *ignore = ignore_new();
    if (!ignore || ignore_add_text(ignore, text, len) < 0) {
        free(text);
        ignore_destroy(&ignore);
        return -ENOMEM;
    }
    free(text);
    if (w->ignore_count == w->ignore_capacity) {
        size_t capacity = w->ignore_capacity ? w->ignore_capacity * 2 : 8;
        void *grown = realloc(w->ignores, capacity * sizeof *w->ignores);
        if (!grown) {
            ignore_destroy(&ignore);
            return -ENOMEM;
        }
        w->ignores = grown;
        w->ignore_capacity = capacity;
    }
    w->ignores[w->ignore_count].dir = strdup(rel_dir);
    if (!w->ignores[w->ignore_count].dir) {
        ignore_destroy(&ignore);
        return -ENOMEM;
    }
    w->ignores[w->ignore_count].ignore = ignore;
    w->ignore_count++;
    return 1;
}

static void walk_pop_gitignore(walker_t *w) {
    w->ignore_count--;
    free(w->ignores[w->ignore_count].dir);
    ignore_destroy(&w->ignores[w->ignore_count].ignore);
}

static int walk_compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks rel_dir ("" for the root), whose parent directory is parent_fd
 * (the root's fd for the root itself).  Returns 0, -ENOMEM, or the error of
 * opening the root; problems below it become skipped entries. */
static int walk_directory(walker_t *w, int parent_fd, const char *name, const char *rel_dir,
                          int depth) {
    /* Below the root, never through a symlink: a directory replaced by one
     * after it was listed is not entered. */
    int dir_fd = depth > 200
                     ? -1
                     : openat(parent_fd, name,
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC | (depth ? O_NOFOLLOW : 0));
    int list_fd = dir_fd >= 0 ? dup(dir_fd) : -1;
    DIR *dir = list_fd >= 0 ? fdopendir(list_fd) : NULL;
    if (!dir) {
        int e = depth > 200 ? ELOOP : errno ? errno : EACCES;
        if (list_fd >= 0)
            close(list_fd);
        if (dir_fd >= 0)
            close(dir_fd);
        if (depth == 0)
            return -e; /* the root itself: the walk cannot start */
        char detail[128];
        snprintf(detail, sizeof detail, "%s", depth > 200 ? "too deep" : strerror(e));
        char *path = NULL;
        if (asprintf(&path, "%s/", rel_dir) < 0)
            return -ENOMEM;
        int rc = walk_append(w->out, path, WALK_SKIP_UNREADABLE, detail, LANG_UNKNOWN, 0);
        free(path);
        return rc;
    }
    char **names = NULL;
    size_t count = 0, capacity = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, ".git") == 0)
            continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 32;
            char **grown = realloc(names, capacity * sizeof *names);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            names = grown;
        }
        if (!(names[count] = strdup(de->d_name))) {
            rc = -ENOMEM;
            break;
        }
        count++;
    }
    closedir(dir);
    int pushed = rc == 0 ? walk_push_gitignore(w, dir_fd, rel_dir) : 0;
    if (pushed < 0)
        rc = pushed;
    if (rc == 0 && count > 1)
        qsort(names, count, sizeof *names, walk_compare_names);
    for (size_t i = 0; i < count && rc == 0; i++) {
        char *rel = NULL;
        if (asprintf(&rel, "%s%s%s", rel_dir, *rel_dir ? "/" : "", names[i]) < 0) {
            rc = -ENOMEM;
            break;
        }
        struct stat st;
        bool is_dir =
            fstatat(dir_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        if (walk_is_ignored(w, rel, is_dir)) {
            /* Ignored paths are not candidates at all: nothing to report. */
        } else if (is_dir && walk_is_vendored_dir(names[i], !*rel_dir)) {
            char *shown = NULL;
            rc = asprintf(&shown, "%s/", rel) < 0 ? -ENOMEM : 0;
            if (rc == 0)
                rc = walk_append(w->out, shown, WALK_SKIP_VENDORED, "vendored directory",
                                 LANG_UNKNOWN, 0);
            free(shown);
        } else if (is_dir) {
            rc = walk_directory(w, dir_fd, names[i], rel, depth + 1);
        } else {
            rc = walk_check_and_append(w, rel, false);
        }
        free(rel);
    }
    if (pushed > 0)
        walk_pop_gitignore(w);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    close(dir_fd);
    return rc;
}

void walk_destroy(walk_t **self_p) {
    if (!self_p || !*self_p)
        return;
    walk_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[i].path);
        free(self->items[i].detail);
    }
    free(self->items);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

int walk_list(const char *root, const walk_options_t *options, walk_t **out, char **error) {
    *out = NULL;
    if (error)
        *error = NULL;
    walker_t w = {.root = {.path = root, .fd = -1}};
    if (options)
        w.options = *options;
    else
        walk_options_default(&w.options);
    int rc = beneath_root_check(root);
    if (rc == 0)
        rc = walk_root_open(&w.root);
    if (rc < 0) {
        if (error && asprintf(error, "cannot walk %s: %s", root, strerror(-rc)) < 0)
            *error = NULL;
        return rc;
    }
    w.out = calloc(1, sizeof *w.out);
    if (!w.out) {
        rc = -ENOMEM;
        goto done;
    }
    char *list = NULL;
    size_t list_len = 0;
    if (w.options.use_git && walk_git_list(root, &list, &list_len) == 0 && list_len > 0) {
        w.out->method = "git";
        for (size_t at = 0; at < list_len && rc == 0;) {
            const char *rel = list + at;
            size_t n = strnlen(rel, list_len - at);
            if (n > 0)
                rc = walk_check_and_append(&w, rel, true);
            at += n + 1;
        }
    } else {
        w.out->method = "walk";
        rc = walk_directory(&w, w.root.fd, ".", "", 0);
    }
    free(list);
    if (rc == 0)
        rc = walk_finish(w.out);
done:
    while (w.ignore_count > 0)
        walk_pop_gitignore(&w);
    free(w.ignores);
    walk_root_close(&w.root);
    if (rc < 0) {
        walk_destroy(&w.out);
        if (error && asprintf(error, "cannot walk %s: %s", root, strerror(-rc)) < 0)
            *error = NULL;
        return rc;
    }
    *out = w.out;
    return 0;
}

const char *walk_method(const walk_t *self) {
    return self ? self->method : NULL;
}

size_t walk_count(const walk_t *self) {
    return self ? self->count : 0;
}

size_t walk_count_accepted(const walk_t *self) {
    return self ? self->accepted : 0;
}

const walk_entry_t *walk_get(const walk_t *self, size_t index) {
    if (!self || index >= self->count)
        return NULL;
    return &self->entries[index];
}

const walk_entry_t *walk_find(const walk_t *self, const char *path) {
    if (!self || !path)
        return NULL;
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(self->entries[mid].path, path);
        if (c == 0)
            return &self->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
