/*
 * watch: which files of a directory tree changed, from inotify.
 *
 * `lca-seeder --watch` keeps a collection current while someone edits the
 * repository.  inotify watches one directory at a time, so every directory
 * of the tree gets a watch, except `.git` and the directories the
 * `.gitignore` files exclude (build output, node_modules: often most of the
 * tree, and the kernel limits watches).  A directory that appears later,
 * created or moved in, is watched as soon as its event arrives, and the
 * files already inside it are reported, since they may have been written
 * before the watch existed.
 *
 * Events are reduced to paths relative to the root: a file that was
 * written, created, deleted, renamed (both names) or changed its mode.  A
 * directory that was deleted or moved away is reported as "dir/", meaning
 * every file that was under it.  Editors save in bursts (write a temporary
 * file, rename it over the original, touch the mode), so paths are
 * collected in a set and handed out together once the tree has been quiet
 * for a moment (watch_due_in()), and never later than a second after the
 * first event of the burst.
 *
 * When the kernel's queue overflowed, or a `.gitignore` changed (which may
 * change what is indexed anywhere below it), single paths are not enough:
 * watch_take() then says the caller should list the whole tree again.
 *
 * Invariants: every watched directory maps to its current relative path;
 * a directory that moves away loses its watches (with its subdirectories)
 * and gets fresh ones if it reappears inside the tree.
 */
#ifndef LCA_SEEDER_WATCH_H
#define LCA_SEEDER_WATCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct watch watch_t;

/* Starts watching root (a directory) recursively.  Returns 0 and sets *out
 * (caller frees with watch_destroy()), or a negative errno with a message
 * for the user in *error (caller frees) when error is not NULL: inotify is
 * unavailable, or the watch limit (fs.inotify.max_user_watches) was hit. */
int watch_new(const char *root, watch_t **out, char **error);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void watch_destroy(watch_t **self_p);

/* The inotify descriptor, to poll for POLLIN. */
int watch_fd(const watch_t *self);

/* Reads every event waiting (never blocks) into the pending set.  Returns
 * the number of events read (0: none), or a negative errno. */
int watch_read(watch_t *self);

/* Milliseconds until the pending paths should be applied: 0 when due now,
 * -1 when nothing is pending. */
int watch_due_in(const watch_t *self);

/* Hands out the pending paths (sorted; *paths and each string are the
 * caller's to free, see watch_paths_free()) and clears the set.  *rescan is
 * set when the whole tree must be listed again.  Returns 0 or -ENOMEM. */
int watch_take(watch_t *self, char ***paths, size_t *n, bool *rescan);

/* Frees what watch_take() handed out. */
void watch_paths_free(char **paths, size_t n);

/* Number of directories watched. */
size_t watch_dir_count(const watch_t *self);

#endif
