/*
 * importscan: the import statements of a source file, read once for
 * everyone who needs them.
 *
 * Two questions are asked of the same statements: which files of the
 * repository a file imports (imports.h, the seeder's import graph) and which
 * names the code before a cursor imports and how often it has used them
 * since (imported.h, the gateway's strongest hint).  Both are answered from
 * what this scanner yields, one record per imported module:
 *
 *   language      statement                          module            binds  names
 *   Python        import a.b as c, d                 a.b / d           c / d
 *                 import a.b                         a.b               a
 *                 from ..m import x, y as z          ..m                      x, y->z
 *   JS/TS         import X, {a, b as c} from './m'   ./m               X      a, b->c
 *                 import * as ns from './m'          ./m               ns
 *                 export {a} from './m', import './m', import('./m')   ./m
 *                 const x = require('./m')           ./m               x
 *                 const {a, b: c} = require('./m')   ./m                      a, b->c
 *   Go            import f "a/b/v2"                  a/b/v2            f (else `b`: the
 *                                                                      last element, a /vN
 *                                                                      suffix skipped)
 *   Java/Kotlin   import static a.b.C.m;             a.b.C.m           m
 *                 import a.b.* ; import a.b.C as D   a.b (wildcard) / a.b.C   - / D
 *   Rust          use crate::a::{B, C as D};         crate::a::B / crate::a::C   B / D
 *                 mod x;                             x (declaration)   x
 *   C/C++         #include "x.h" / <x.h>             x.h (system)
 *
 * "binds" is the name the file gets for the module itself, "names" what it
 * imports from inside the module (as exported, and as the file calls it).
 *
 * With LANG_UNKNOWN the scanner reads every language at once, the way the
 * gateway must for a prefix without a path: statements that start a line
 * are recognised by their shape (`import "x"` and `import (` are Go, an
 * `import` with `from`, braces or `*` is JavaScript, `import a.b.C;` with its
 * semicolon Java, any other `import` or a `from` Python; `use` is Rust;
 * `const`/`let`/`var` with `require(` CommonJS), with the comments and
 * strings of all of them skipped.
 *
 * Scanning is lexical, not a parse: comments and strings are skipped (with
 * Python's triple quotes), anything odd is at worst a missed import, never
 * a crash or a read outside text[0..len).
 */
#ifndef LCA_CODE_IMPORTSCAN_H
#define LCA_CODE_IMPORTSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/code/lang.h"

/* One name imported from inside a module. */
typedef struct {
    const char *name; /* as the module exports it: `b` of `{ b as c }` */
    size_t name_len;
    const char *local; /* as this file calls it: `c` (the same as name when not renamed) */
    size_t local_len;
} importscan_name_t;

enum {
    IMPORTSCAN_WILDCARD = 1 << 0,    /* `import a.b.*`, `from m import *`, `use a::*`, Go `.` */
    IMPORTSCAN_STATIC = 1 << 1,      /* Java `import static` */
    IMPORTSCAN_SYSTEM = 1 << 2,      /* C `#include <x.h>` */
    IMPORTSCAN_DECLARATION = 1 << 3, /* Rust `mod x;`: a module declared, not imported */
    IMPORTSCAN_ALIASED = 1 << 4,     /* binds was written (`as`, a Go alias), not implied */
    IMPORTSCAN_NAMESPACE = 1 << 5,   /* binds is the module object itself (Python `import`, a
                                        Go package, JS `* as ns`), no class or function */
};

/* One imported module.  Every pointer is borrowed and valid only during the
 * callback. */
typedef struct {
    lang_id_t lang;     /* the syntax it was read in (with LANG_UNKNOWN, the one it matched) */
    const char *module; /* as written (see the table above); never empty */
    size_t module_len;
    const char *binds; /* the name bound to the module itself, or NULL */
    size_t binds_len;
    const importscan_name_t *names; /* names bound from inside it */
    size_t name_count;
    unsigned flags; /* IMPORTSCAN_* */
    int line;       /* 1-based line where the module is named */
    size_t end;     /* offset in text just past the statement: the file's uses start there */
} importscan_t;

/* Called for each imported module, in order of appearance; a non-zero
 * return stops the scan and becomes importscan_text()'s return value. */
typedef int (*importscan_fn)(const importscan_t *import, void *arg);

/* Scans text[0..len) (need not be NUL-terminated) as language lang and
 * calls fn for each imported module.  Languages without import statements
 * (or none lca reads) yield nothing.  Returns 0, the callback's value, or
 * -ENOMEM. */
int importscan_text(lang_id_t lang, const char *text, size_t len, importscan_fn fn, void *arg);

#endif
