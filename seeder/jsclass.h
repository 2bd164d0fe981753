/*
 * jsclass: the members of JavaScript and TypeScript classes, read
 * lexically.
 *
 * ctags 5.9's TypeScript parser loses a class's methods after some
 * constructs (an arrow function assigned to a static property, a generic
 * method): rxjs's Subject has `next`, `error` and `complete`, and ctags
 * reports none of them, nor which lines are theirs.  Retrieval then cannot
 * offer `subject.complete`'s definition.  This scanner finds what a class
 * body declares at its own level:
 *
 *   [decorators] [modifiers] name[?!][<...>](...) [: type] { ... }   a method
 *   [modifiers] name[?!] (: type | = value | ;)                     a property
 *
 * with modifiers among public, private, protected, static, readonly,
 * async, abstract, override, declare, accessor, get, set and `*`, and
 * `#name` for private names; and at the top level, outside any brace,
 * the names that `[export] [default] [declare] [async] const|let|var|
 * function name` declares (ctags 5.9 loses `export const f = <A>(x: A)
 * => ...`, a generic arrow function, and what follows it).  Comments and
 * strings are skipped
 * (codemask.h); nesting is followed by braces, so members of classes
 * inside functions and classes inside classes are found too.  A lexer: at
 * worst a member is missed, never a read outside text[0..len).
 */
#ifndef LCA_SEEDER_JSCLASS_H
#define LCA_SEEDER_JSCLASS_H

#include "proto/code/lang.h"
#include "seeder/ctags.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name; /* into the text; `#x` keeps its # */
    size_t name_len;
    const char *class_name; /* the enclosing class ("" for an anonymous one) */
    size_t class_len;
    int line; /* 1-based, the member's first line */
    int end;  /* its last line (a method's closing brace) */
    bool method;
    bool top; /* a top-level `const`/`let`/`var`/`function` (class_name ""):
                 method says function */
} jsclass_member_t;

/* Called per member, in text order; a non-zero return stops the scan. */
typedef int (*jsclass_fn)(const jsclass_member_t *member, void *arg);

/* Scans text[0..len) as lang (JavaScript or TypeScript; any other language
 * finds nothing).  Returns 0, the callback's value, or -ENOMEM. */
int jsclass_scan(lang_id_t lang, const char *text, size_t len, jsclass_fn fn, void *arg);

/* ctags's tags of one file (tags[0..n)) completed with the members it
 * missed: kind "method" or "property", scope the class (scope kind
 * "class"), and the top-level names: kind "function" or "constant"; ctags's variables without a
 * scope that lie inside a method found here are its locals, and are left out.  Sets *out to NULL
 * when nothing changes (use tags as they are); else *out and *names (the strings the new tags point
 * to) are the caller's to free().  Returns 0 or -ENOMEM. */
int jsclass_complete_tags(lang_id_t lang, const char *text, size_t len, const ctags_tag_t *tags,
                          size_t n, ctags_tag_t **out, size_t *nout, char **names);

#endif
