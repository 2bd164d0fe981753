/*
 * A stand-in for universal-ctags, for the tests of the seeder's ctags and
 * tagger: a script put first on PATH that runs a shell action (crash, hang,
 * fail) when the paths it is fed name a trigger, and the real ctags
 * otherwise.
 *
 *   char dir[] = "/tmp/lca-ctags-fake-XXXXXX";
 *   char *saved = fake_ctags(dir, "odd", "exit 3");
 *   ... run ctags ...
 *   restore_path(saved, dir);
 */
#ifndef LCA_TEST_FAKE_CTAGS_H
#define LCA_TEST_FAKE_CTAGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Puts a `ctags` first on PATH that runs `action` when its input names a
 * path containing trigger, and the real ctags otherwise.  Returns the old
 * PATH (caller restores it with restore_path) or NULL. */
static inline char *fake_ctags(char *dir, const char *trigger, const char *action) {
    if (!mkdtemp(dir))
        return NULL;
    char real[4096] = "";
    FILE *which = popen("command -v ctags", "r");
    if (which) {
        if (!fgets(real, sizeof real, which))
            real[0] = '\0';
        pclose(which);
    }
    real[strcspn(real, "\n")] = '\0';
    if (real[0] != '/')
        return NULL;
    char script[4200];
    snprintf(script, sizeof script, "%s/ctags", dir);
    FILE *f = fopen(script, "w");
    if (!f)
        return NULL;
    fprintf(f,
            "#!/bin/sh\ninput=$(cat)\ncase \"$input\" in *%s*) %s ;; esac\n"
            "printf '%%s\\n' \"$input\" | exec %s \"$@\"\n",
            trigger, action, real);
    fclose(f);
    chmod(script, 0755);
    const char *path = getenv("PATH");
    char *saved = strdup(path ? path : "/usr/bin:/bin");
    char *fake_path = malloc(strlen(dir) + strlen(saved ? saved : "") + 2);
    if (!saved || !fake_path) {
        free(saved);
        free(fake_path);
        return NULL;
    }
    sprintf(fake_path, "%s:%s", dir, saved);
    setenv("PATH", fake_path, 1);
    free(fake_path);
    return saved;
}

static inline void restore_path(char *saved, const char *dir) {
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    char script[4200];
    snprintf(script, sizeof script, "%s/ctags", dir);
    remove(script);
    rmdir(dir);
}

#endif
