/*
 * imports: which files of the collection a file imports.
 *
 * The strongest evidence for what a completion needs is what the current
 * file imports, resolved to files of the same repository: the retriever can
 * then favour their definitions.  Each language spells and resolves imports
 * its own way, so each has a small scanner and resolver here:
 *
 *   Python   `import a.b`, `from a.b import c`, `from ..x import y`: module
 *            `a/b.py` or package `a/b/__init__.py`, under any source root
 *            (the match closest to the importing file wins);
 *   JS/TS    `import ... from './x'`, `import './x'`, `export ... from`,
 *            `require('./x')`, `import('./x')`: relative specifiers with
 *            extension (.ts .tsx .js .jsx .mjs .cjs .mts .cts, and `.js`
 *            standing for `.ts`) and `/index.*` resolution; bare specifiers
 *            through the `paths` and `baseUrl` of the nearest tsconfig.json or
 *            jsconfig.json (see tsconfig.h); failing those, the `@/x` and `~/x`
 *            aliases under the project's src/ (or root);
 *   C/C++    `#include "x.h"`: relative to the file, then to the root or an
 *            ancestor directory and their include/, inc/ and src/, then by
 *            path suffix (closest wins); `<x.h>` the same without the first
 *            and, for bare names, the last step;
 *   Go       `import "mod/path/pkg"`: the module path of a go.mod in the
 *            collection is stripped; all non-test .go files of that directory;
 *   Java     `import a.b.C;` (also Kotlin): `a/b/C.java` under any source
 *            root, `a.b.*` every file of that package, static imports via
 *            their class;
 *   Rust     `use crate::a::b`, `use super::x`, `use self::x`, use trees with
 *            braces, `mod x;`: `a/b.rs` or `a/b/mod.rs` from the crate root
 *            (the nearest Cargo.toml's src/), falling back to the longest
 *            module prefix that is a file (an imported item lives in its
 *            module's file); `use other_crate::x` inside the crate of that
 *            name when a Cargo.toml of the collection declares it (workspaces).
 *
 * Imports that do not resolve (the standard library, third-party packages)
 * are kept by name with no files: they still say what the code is about.
 * Each import also records the name it binds in the importing file, where
 * it binds one, so that `billing.` before the cursor leads to billing.py:
 * Python `import a.b` binds `a.b`, `import a as b` and `from x import a as
 * b` bind `b`; JS default and namespace imports and `const x = require()`
 * bind their name (named imports `{ a }` bind none); Go the alias or the
 * last path element; Java/Kotlin the simple name or `as` alias; Rust the
 * last segment or `as` alias, `mod x;` binds `x`; C includes bind none.
 * Scanning is lexical, not a full parse: comments are skipped where it
 * matters, and anything odd is at worst an unresolved name, never a crash.
 *
 * Invariants of an imports_t: entries are in the order they appear in the
 * file; each entry's files are distinct paths of the index, sorted, never the
 * importing file itself; the union list holds every resolved file once,
 * sorted.
 */
#ifndef LCA_CODE_IMPORTS_H
#define LCA_CODE_IMPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/code/lang.h"

/* The paths of a collection, indexed for resolution. */
typedef struct imports_index imports_index_t;

/* What one file imports. */
typedef struct imports imports_t;

typedef struct {
    const char *name;         /* as written: "./api", "shop.util", "crate::config::Settings" */
    int line;                 /* 1-based line where the import starts */
    const char *const *files; /* resolved paths (borrowed), sorted; NULL when unresolved */
    size_t file_count;
    const char *alias; /* the name the file knows it by (`np` of `import numpy as np`, `store`
                          of a Go package, `Order` of a Java class), or NULL */
} imports_entry_t;

/* Indexes the n paths (relative to root, `/`-separated; duplicates are
 * fine) of a collection.  root is used only to read the go.mod and
 * Cargo.toml files among the paths (module path, crate name); it may be
 * NULL, and then Go imports and other workspace crates stay unresolved.  Returns 0 and sets *out
 * (caller frees with imports_index_destroy()), or -ENOMEM. */
int imports_index_new(const char *root, const char *const *paths, size_t n, imports_index_t **out);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void imports_index_destroy(imports_index_t **self_p);

/* Number of distinct paths in the index. */
size_t imports_index_count(const imports_index_t *self);

/* Scans data[0..len) (path's content; need not be NUL-terminated) as
 * language lang and resolves what it imports against index.  Languages
 * without an import scanner give an empty result.  Returns 0 and sets *out
 * (caller frees with imports_destroy()), or -ENOMEM.  The result borrows the
 * index's path strings: destroy it before the index. */
int imports_extract(const imports_index_t *index, const char *path, lang_id_t lang,
                    const char *data, size_t len, imports_t **out);

/* Frees *self_p (NULL is fine) and sets it to NULL. */
void imports_destroy(imports_t **self_p);

/* Number of imports found.  They are in the order of their lines. */
size_t imports_count(const imports_t *self);

/* Import i, borrowed from self; NULL when out of range. */
const imports_entry_t *imports_get(const imports_t *self, size_t index);

/* Number of distinct files all the imports resolve to. */
size_t imports_file_count(const imports_t *self);

/* Resolved file i (sorted), borrowed; NULL when out of range. */
const char *imports_file(const imports_t *self, size_t index);

#endif
