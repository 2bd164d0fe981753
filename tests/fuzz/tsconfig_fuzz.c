/*
 * proto/code/tsconfig: a project's tsconfig.json (JSON with comments and
 * trailing commas, from the repository being indexed) and the config it
 * extends, read from disk and used to resolve module specifiers.
 *
 * The input is cut at 0xff into web/tsconfig.json, the files it may extend
 * (web/base.json and tsconfig.base.json at the root) and specifiers, one a
 * line.  They are written to a directory made once per run (removed at
 * exit).  Invariants: a config read has its directory "web"; resolving
 * hands the callback NUL-terminated paths that fit TypeScript's path limit,
 * stops at the first that it accepts, and returns whether one was.
 */
#include "proto/code/tsconfig.h"
#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void root_remove(void) {
    char path[128];
    static const char *const files[] = {"web/tsconfig.json", "web/base.json", "tsconfig.base.json",
                                        "web", NULL};
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        if (unlink(path) != 0)
            rmdir(path);
    }
    rmdir(root);
}

static void root_make(void) {
    if (root[0])
        return;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 32)
        tmp = "/tmp";
    snprintf(root, sizeof root, "%s/lca-fuzz-tsconfig-XXXXXX", tmp);
    FUZZ_ASSERT(mkdtemp(root) != NULL);
    char web[128];
    snprintf(web, sizeof web, "%s/web", root);
    FUZZ_ASSERT(mkdir(web, 0700) == 0);
    atexit(root_remove);
}

static void write_file(const char *rel, const fuzz_piece_t *piece) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_ASSERT(fd >= 0);
    FUZZ_ASSERT(write(fd, piece->data, piece->len) == (ssize_t)piece->len);
    close(fd);
}

typedef struct {
    size_t calls, accept_at;
} try_t;

static bool on_try(const char *path, void *arg) {
    try_t *t = arg;
    FUZZ_ASSERT(strlen(path) < 4096);
    return ++t->calls == t->accept_at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    root_make();
    fuzz_piece_t pieces[4] = {{"", 0}, {"", 0}, {"", 0}, {"", 0}};
    fuzz_split(data, size, 0xff, pieces, 4);
    write_file("web/tsconfig.json", &pieces[0]);
    write_file("web/base.json", &pieces[1]);
    write_file("tsconfig.base.json", &pieces[2]);

    tsconfig_t *config = tsconfig_read(root, "web/tsconfig.json");
    if (config) {
        FUZZ_ASSERT(strcmp(tsconfig_dir(config), "web") == 0);
        const char *spec = pieces[3].data, *end = spec + pieces[3].len;
        for (size_t i = 0; spec < end && i < 16; i++) {
            const char *nl = memchr(spec, '\n', (size_t)(end - spec));
            size_t len = nl ? (size_t)(nl - spec) : (size_t)(end - spec);
            char *s = fuzz_strndup(spec, len);
            try_t all = {0, 0}, first = {0, 1};
            bool none = tsconfig_resolve(config, s, on_try, &all);
            FUZZ_ASSERT(!none);
            bool some = tsconfig_resolve(config, s, on_try, &first);
            FUZZ_ASSERT(some == (all.calls > 0) && first.calls == (all.calls > 0));
            free(s);
            spec += len + 1;
        }
    }
    tsconfig_destroy(&config);
    FUZZ_ASSERT(config == NULL);
    return 0;
}
