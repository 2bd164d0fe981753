/*
 * The names a file imports, read from the code before the cursor, and how
 * often each is used after its import.
 *
 * This is the strongest hint of what is about to be typed: a developer
 * imports a name to use it, and a name imported but not used yet is very
 * often the one the next line needs.  The gateway asks the shards for the
 * definitions of these names and ranks a definition of a "fresh" import
 * (imported, never used since) above everything else.
 *
 * Recognised: ES modules (`import a, {b, c as d} from`, `import * as ns`),
 * CommonJS (`const a = require(...)`, `const {b, c: d} = require(...)`),
 * Python (`from m import a, b as c`, `import a.b as c`, `import a`), Java
 * and Kotlin (`import a.b.C`), Go (`import "a/b/c"` and grouped), Rust
 * (`use a::b::{C, D}`).  A light scanner, not a parser: it reads statements
 * that start a line, so code that merely mentions "import" is left alone.
 */
#ifndef LCA_CODE_IMPORTED_H
#define LCA_CODE_IMPORTED_H

#include <stddef.h>

#define IMPORTED_NAME_MAX 64

typedef struct {
    char name[IMPORTED_NAME_MAX];
    int uses;                       /* whole-word occurrences after the import statement */
    char module[IMPORTED_NAME_MAX]; /* where it comes from: "./g", "a.b.g", ".base" */
} imported_name_t;

/* module_stem() (see module.h) under its old name, for gateway/context.c
 * until it calls module_stem() itself. */
void imported_module_stem(const char *module, char *out, size_t size);

/* Fills out with up to max distinct names imported in text[0..len), in
 * order of appearance; returns how many. */
size_t imported_names(const char *text, size_t len, imported_name_t *out, size_t max);

#endif
