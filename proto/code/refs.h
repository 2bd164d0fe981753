/*
 * refs: the member accesses a file makes — which names it reaches through
 * which receivers, and how often.
 *
 * What a repository uses of a module or a class is the best prior for the
 * member about to be typed after `utils.` or `cart.`: the seeder counts, per
 * file, every `receiver.member` (and `?.`, `->`, `::`) outside comments and
 * strings, and maps receivers that are the file's imports to the files they
 * resolve to.  The retriever then knows, for each definition, how often the
 * rest of the repository reaches it.
 *
 * The receiver is the chain of names right before the operator (`a.b` for
 * `a.b.c`, which also counts `a` -> `b`), or "" when the member is reached
 * through something that is not a name (`f().m`, `x[0].m`, `"s".m`).
 * Numbers (`1.5`), spreads (`...x`) and the member of a chain longer than
 * REFS_CHAIN_MAX names are not accesses.
 */
#ifndef LCA_CODE_REFS_H
#define LCA_CODE_REFS_H

#include "proto/code/lang.h"

#include <stddef.h>

#define REFS_CHAIN_MAX 4
#define REFS_NAME_MAX 128

typedef struct {
    const char *receiver; /* NUL-terminated chain ("a.b"), "" when not a name */
    const char *member;   /* NUL-terminated */
    int count;            /* occurrences, >= 1 */
} refs_access_t;

/* Called once per distinct (receiver, member), in order of first
 * occurrence; a non-zero return stops the scan and is returned.  Pointers
 * are valid during the call only. */
typedef int (*refs_fn)(const refs_access_t *access, void *arg);

/* Scans text[0..len) as language lang.  Returns 0, the callback's value,
 * or -ENOMEM. */
int refs_scan(lang_id_t lang, const char *text, size_t len, refs_fn fn, void *arg);

#endif
