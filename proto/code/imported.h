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
 * The statements are importscan's (see importscan.h for what each language
 * binds): this module keeps the names they bind, and counts each name's
 * whole-word uses after its statement (ident.h's word boundaries).
 */
#ifndef LCA_CODE_IMPORTED_H
#define LCA_CODE_IMPORTED_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/code/lang.h"

#define IMPORTED_NAME_MAX 64

typedef struct {
    char name[IMPORTED_NAME_MAX];
    int uses;                         /* whole-word occurrences after the import statement */
    char module[IMPORTED_NAME_MAX];   /* where it comes from: "./g", "a.b.g", ".base" */
    char exported[IMPORTED_NAME_MAX]; /* as the module calls it: `a` of `from m import a as b`
                                         (the same as name when not renamed) */
    bool binds_module; /* the module object itself (`import * as ns`, Python `import m`, a Go
                    package): never called, never given type arguments */
} imported_name_t;

/* The name an imported name's definition has: the module's own name for it
 * (`getStaticPropertyName` of `{ getStaticPropertyName: getPropertyName }`),
 * the local one for a default export. */
const char *imported_defined_as(const imported_name_t *name);

/* module_stem() (see module.h) under its old name, for gateway/context.c
 * until it calls module_stem() itself. */
void imported_module_stem(const char *module, char *out, size_t size);

/* Fills out with up to max distinct names imported in text[0..len), read
 * as language lang, in order of appearance; returns how many.  LANG_UNKNOWN
 * reads every language's statements (see importscan.h). */
size_t imported_names_of(lang_id_t lang, const char *text, size_t len, imported_name_t *out,
                         size_t max);

/* imported_names_of(), uses counted in code only: a mention in a comment
 * or a string (`"NCHAR": ⟨`, a docstring naming a class) is no use of the
 * name, and says nothing of whether the next line needs it.  The gateway's
 * "fresh" import is one of these with no use.  (The reference index counts
 * every mention: a name the docs speak of is one the repository leans on.) */
size_t imported_names_in_code(lang_id_t lang, const char *text, size_t len, imported_name_t *out,
                              size_t max);

/* imported_names_of() with LANG_UNKNOWN: for a prefix whose language is not
 * known.  gateway/context.c calls it until it passes the file's language. */
size_t imported_names(const char *text, size_t len, imported_name_t *out, size_t max);

#endif
