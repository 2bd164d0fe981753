/*
 * Helpers shared by the subcommands.
 */
#include "deploy/commands.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *command_bindir(void) {
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(dir, sizeof dir, ".");
        return dir;
    }
    self[n] = '\0';
    snprintf(dir, sizeof dir, "%s", dirname(self));
    return dir;
}

const char *command_env(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int command_exec(const char *binary, int argc, char **argv) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", command_bindir(), binary);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return 1;
    args[0] = path;
    for (int i = 1; i < argc; i++)
        args[i] = argv[i];
    execv(path, args);
    fprintf(stderr, "lca: cannot run %s: %s\n", path, strerror(errno));
    free(args);
    return 127;
}

void command_join_args(int argc, char **argv, int from, buf_t *out) {
    for (int i = from; i < argc; i++) {
        if (i > from)
            buf_append_str(out, " ");
        buf_append_str(out, argv[i]);
    }
}
