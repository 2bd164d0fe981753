/*
 * module: the name code uses for the module a file is, which is how an
 * `object` before the cursor (`utils.` in `utils.parse(`) is matched to the
 * files that may define its members.
 *
 * Two sides must agree on it: the gateway names the module an import
 * specifier points at (`./lib/utils/index.js`, `sqlalchemy/sql/roles` for
 * `import sqlalchemy.sql.roles`, `example.com/shop/store`), the retriever
 * the module each file of the collection is (`lib/utils/index.js`); a
 * completion gets the object signal only when both give the same stem.
 * So both call module_stem() and nothing else.
 *
 * The rule, on a `/`-separated path or specifier:
 *   - the last component, trailing slashes ignored; "" when it is `.` or
 *     `..` (a directory we cannot name from here);
 *   - cut at its first dot after any leading ones: the extension and any
 *     inner suffix go (`graph.js`, `jquery.min.js` -> `jquery`,
 *     `yaml.v3` -> `yaml`, `.eslintrc.js` -> `eslintrc`), so a specifier
 *     written with or without its extension names the same stem as the file;
 *   - `index`, `__init__` and `mod` are the directory's own module (Node and
 *     TypeScript resolve `./utils` to `utils/index.js`, Python's `import
 *     utils` runs `utils/__init__.py`, Rust's `mod utils;` reads
 *     `utils/mod.rs`): their stem is the directory's name, when the path
 *     has one.  Other names, `main` included, are their own module: no
 *     language imports a directory through its main file.
 * Dotted module names (`a.b.c`) are not paths: callers turn them into
 * `a/b/c` first.
 */
#ifndef LCA_CODE_MODULE_H
#define LCA_CODE_MODULE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the stem of path (see above) NUL-terminated into out, cut to
 * cap - 1 bytes; cap 0 writes nothing. */
void module_stem(const char *path, char *out, size_t cap);

/* True when object names the module of the file at path: its stem, or the
 * name of the directory it is in (a Go or Java package is its directory,
 * whatever its files are called). */
bool module_names_file(const char *object, const char *path);

#endif
