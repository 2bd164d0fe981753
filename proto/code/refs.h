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
 * `a.b.c`, which also counts `a` -> `b`; a path keeps its `::`: `a::b` for
 * `a::b::c`), or "" when the member is reached
 * through something that is not a name (`f().m`, `x[0].m`, `"s".m`).
 * Numbers (`1.5`), spreads (`...x`) and the member of a chain longer than
 * REFS_CHAIN_MAX names are not accesses.
 */
#ifndef LCA_CODE_REFS_H
#define LCA_CODE_REFS_H

#include "proto/code/imports.h"
#include "proto/code/lang.h"

#include <stddef.h>

#define REFS_CHAIN_MAX 6
#define REFS_NAME_MAX 128
#define REFS_IMPORTED_MAX 512 /* names imported from inside modules, per file */

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

/*
 * What one file reaches of the repository, for the reference index: each
 * (file of the repository, name) it uses through its imports, and each
 * member name it accesses at all.
 *
 *   qualified  `X.name` where X is bound to an import that resolves to
 *              files (imports.h), and the names imported from inside a
 *              resolved module (`from m import a`, `pub use m::a`: the
 *              import counts once, each bare use `a(` after it once more):
 *              one call per (target file, name) with the total count;
 *   attribute  every member name reached through any receiver (`.name`,
 *              `->name`, `::name`), with its total count: how popular a
 *              method name is, whatever its class.
 * Callbacks may be NULL; a non-zero return stops and is returned.  Returns
 * 0, that value, or -ENOMEM.
 */
typedef int (*refs_qualified_fn)(const char *target, const char *name, int count, void *arg);
typedef int (*refs_attribute_fn)(const char *name, int count, void *arg);

int refs_of_file(lang_id_t lang, const char *text, size_t len, const imports_t *imports,
                 refs_qualified_fn qualified, refs_attribute_fn attribute, void *arg);

#endif
