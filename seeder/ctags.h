/*
 * ctags: the definitions in a batch of files, from universal-ctags.
 *
 * Chunking at definition boundaries needs a real parser, and Debian's
 * universal-ctags has one for every language we index.  Starting it once per
 * file would cost more than parsing (10k files, 10k forks), so one process
 * reads the whole batch of paths from its stdin and streams one JSON object
 * per tag back on its stdout; we feed and read at the same time (poll) so
 * neither side ever blocks on a full pipe, and parse each line with cJSON as
 * it arrives.
 *
 * ctags is told the same extension -> language map as lang.h, so that both
 * agree, and to guess the language of files without a known extension from
 * their `#!` line.  It is run with `--options=NONE`, so a user's ctags
 * configuration cannot change what we index.
 *
 * Invariants: tags of one file arrive together and in the order ctags
 * found them (ctags runs with --sort=no); `line` is 1-based; `end` is 0 when
 * ctags does not know where the definition ends (its JavaScript, TypeScript
 * and Rust parsers, for instance) and otherwise >= line.
 */
#ifndef LCA_SEEDER_CTAGS_H
#define LCA_SEEDER_CTAGS_H

#include <stddef.h>

typedef struct {
    const char *path;       /* as passed in paths[] */
    const char *name;       /* the defined name */
    const char *kind;       /* long kind name: "function", "class", "method", "member", ... */
    const char *scope;      /* enclosing scope ("Foo", "main.S", "ns::C"), or NULL */
    const char *scope_kind; /* kind of that scope ("class", "package", ...), or NULL */
    int line;               /* first line, 1-based */
    int end;                /* last line, or 0 when unknown */
} ctags_tag_t;

/* Called for each tag; the strings are valid only during the call.  Return
 * 0 to go on; anything else stops the run, and ctags_run returns it. */
typedef int (*ctags_tag_fn)(const ctags_tag_t *tag, void *arg);

/* Runs universal-ctags once in directory root over the n paths (relative to
 * root) and calls fn for every tag.  Paths that contain a newline are left
 * out (ctags reads one path per line); files ctags cannot open give no tags.
 * Returns 0; -ENOENT when ctags is not installed; -EPROTO when the program
 * found is not universal-ctags with JSON output, or ctags exited with an
 * error; -ECHILD when ctags was killed by a signal (it crashed);
 * -ETIMEDOUT when it went 60 s (or LCA_CTAGS_TIMEOUT_MS) without reading a
 * path or writing a tag, and was killed; fn's own non-zero result; or
 * another negative errno.  On failure, if error is not
 * NULL, *error is a message for the user (caller frees). */
int ctags_run(const char *root, const char *const *paths, size_t n, ctags_tag_fn fn, void *arg,
              char **error);

/* The tags of a batch, collected per file. */
typedef struct ctags_batch ctags_batch_t;

/* ctags_run() collecting every tag; *out holds them until
 * ctags_batch_destroy().  A big batch (hundreds of files per CPU) is cut
 * into slices parsed by parallel ctags processes.  When ctags crashes or
 * hangs, the run is split and repeated until the file responsible is found; that file
 * gets no tags and is listed by ctags_batch_failed(), and the run succeeds.
 * Otherwise returns as ctags_run(); *out is NULL on failure. */
int ctags_batch_run(const char *root, const char *const *paths, size_t n, ctags_batch_t **out,
                    char **error);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void ctags_batch_destroy(ctags_batch_t **self_p);

/* The tags of path in file order, borrowed from self; *count is set to their
 * number (0 and NULL when the file had none). */
const ctags_tag_t *ctags_batch_tags(const ctags_batch_t *self, const char *path, size_t *count);

/* Total number of tags held. */
size_t ctags_batch_count(const ctags_batch_t *self);

/* Number of paths ctags crashed on (they have no tags). */
size_t ctags_batch_failed_count(const ctags_batch_t *self);

/* Failed path i, borrowed from self; NULL when out of range. */
const char *ctags_batch_failed(const ctags_batch_t *self, size_t index);

#endif
