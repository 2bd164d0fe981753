/*
 * tagger: ctags for a long list of files, running ahead of the reader.
 *
 * Chunking needs each file's tags, and asking ctags once per file would
 * cost a process per file; asking once for all of them (10k files) makes
 * the whole pipeline wait for the slowest step before the first chunk is
 * embedded, and holds every tag of the repository in memory at once
 * (hundreds of megabytes for /usr/include).  So the list is cut into slices
 * of a few hundred files, and one thread runs ctags over slice after slice,
 * staying a couple of slices ahead of the caller, who chunks files in list
 * order.  A slice's tags are freed as soon as the caller has moved past it.
 *
 * A file whose language ctags does not parse is passed as NULL and costs
 * nothing.  If ctags is missing or fails for a slice, that slice's files
 * get no tags (the chunker then cuts line windows) and the first message is
 * kept for the caller to show once.
 *
 * Invariants: slice k is parsed only after slices 0..k-1; at most `ahead`
 * slices beyond the caller's current one are held; the caller's thread and
 * the tagger's thread share only the published table, under one lock.
 */
#ifndef LCA_SEEDER_TAGGER_H
#define LCA_SEEDER_TAGGER_H

#include <stdbool.h>
#include <stddef.h>

#include "seeder/ctags.h"

typedef struct tagger tagger_t;

/* Starts tagging paths[0..n) (relative to root; entries may be NULL for
 * files not to parse) in slices of slice_files, at most ahead slices in
 * advance.  paths and its strings are borrowed until tagger_destroy().
 * Returns 0 and sets *out, or -ENOMEM / another negative errno. */
int tagger_new(const char *root, const char *const *paths, size_t n, size_t slice_files,
               size_t ahead, tagger_t **out);

/* Stops the thread, frees every slice, sets *self_p to NULL (NULL is fine). */
void tagger_destroy(tagger_t **self_p);

/* Whether the tags of file i are available now; with wait, blocks until
 * they are.  Calling it for i also frees the slices before i's. */
bool tagger_ready(tagger_t *self, size_t i, bool wait);

/* The tags of file i (i's slice must be ready), borrowed until the caller
 * moves to a later slice; *count is their number (0 and NULL when none). */
const ctags_tag_t *tagger_tags(tagger_t *self, size_t i, size_t *count);

/* The first ctags failure message, or NULL (borrowed). */
const char *tagger_error(tagger_t *self);

#endif
