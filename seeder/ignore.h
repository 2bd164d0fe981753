/*
 * ignore: the patterns of one `.gitignore` file and the question "does this
 * path match them".
 *
 * The seeder walks a directory that is not a git checkout with one ignore_t
 * per `.gitignore` it meets on the way down; a path is decided by the
 * deepest file that has an opinion about it (deeper files override higher
 * ones, as in git).  Within one file the last matching pattern wins, and a
 * `!pattern` that wins re-includes the path.
 *
 * The common subset of gitignore(5) is supported: blank lines and `#`
 * comments, `\#` and `\!` escapes, trailing spaces trimmed, `!` negation, a
 * trailing `/` for directories only, patterns with a `/` before their end
 * anchored to the directory of the `.gitignore`, others matched against the
 * base name at any depth; `*`, `?`, `[a-z]`, `[!x]` that never match `/`, and
 * `**` as a whole component (leading, trailing, or between two slashes).
 *
 * Invariants: patterns are stored in file order; matching never allocates
 * and takes polynomial time in the pattern and path lengths.
 */
#ifndef LCA_SEEDER_IGNORE_H
#define LCA_SEEDER_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ignore ignore_t;

typedef enum {
    IGNORE_NO_MATCH = 0, /* no pattern of this file speaks about the path */
    IGNORE_EXCLUDED,     /* the last matching pattern excludes it */
    IGNORE_INCLUDED,     /* the last matching pattern is a negation: re-included */
} ignore_match_t;

/* A new empty pattern list, or NULL when out of memory. */
ignore_t *ignore_new(void);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void ignore_destroy(ignore_t **self_p);

/* Adds the patterns of a `.gitignore` text (len bytes, need not be
 * NUL-terminated; CRLF line ends are fine).  Lines that are not valid
 * patterns are ignored, as git does.  Returns 0 or -ENOMEM. */
int ignore_add_text(ignore_t *self, const char *text, size_t len);

/* Number of patterns held. */
size_t ignore_count(const ignore_t *self);

/* What the patterns say about rel_path, a path relative to the directory of
 * the `.gitignore` with `/` separators and no leading `/`; is_dir tells
 * whether it names a directory (for patterns ending in `/`). */
ignore_match_t ignore_match_path(const ignore_t *self, const char *rel_path, bool is_dir);

#endif
