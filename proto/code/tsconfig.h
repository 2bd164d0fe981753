/*
 * tsconfig: the module paths a TypeScript or JavaScript project declares.
 *
 * Projects name their own modules without `./`: `import { db } from
 * '@app/db'` with the pattern `@app/<star>` mapped to `src/app/<star>` in
 * "paths", or `from 'components/Button'` with `"baseUrl": "src"`.  Those live in the
 * project's tsconfig.json (jsconfig.json for JavaScript), which may inherit
 * them from another config through `extends`.
 *
 * Reading follows TypeScript's rules where they matter for finding a file:
 *   - the files are JSON with comments and trailing commas;
 *   - `extends` with a relative path is followed (to a depth of 8) inside
 *     the repository; a package name (`@tsconfig/node20/...`) is not;
 *   - the nearest config that sets `baseUrl` gives it, relative to that
 *     config's directory; the nearest that sets `paths` gives them, relative
 *     to baseUrl when there is one, else to its own directory;
 *   - a specifier matching several patterns uses the one with the longest
 *     prefix before its `*`; an exact pattern beats any wildcard.
 * Resolution then tries each target of the pattern in order, then
 * baseUrl/specifier.  Anything unreadable simply declares nothing.
 */
#ifndef LCA_CODE_TSCONFIG_H
#define LCA_CODE_TSCONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tsconfig tsconfig_t;

/* Reads root/rel (a tsconfig.json or jsconfig.json; rel relative to the
 * repository root).  NULL when it declares neither baseUrl nor paths, or
 * cannot be read. */
tsconfig_t *tsconfig_read(const char *root, const char *rel);

/* The directory of the config (repository-relative, "" for the root): the
 * files below it are its project's. */
const char *tsconfig_dir(const tsconfig_t *self);

/* Calls try(path, arg) with each repository-relative module path (no
 * extension resolution: that is the caller's) the specifier maps to, in
 * TypeScript's order, until one call returns true.  Returns whether one did. */
bool tsconfig_resolve(const tsconfig_t *self, const char *specifier,
                      bool (*try)(const char *path, void *arg), void *arg);

/* Accepts NULL. */
void tsconfig_destroy(tsconfig_t **self_p);

#endif
