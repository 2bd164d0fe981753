/*
 * cursor: what the code right before a cursor says about the name being
 * typed — above all, what the thing before the dot is.
 *
 * When a developer has typed `utils.`, `self.`, `cart.` or `pkg::`, the next
 * name is a member of that thing, and the right context is its members'
 * definitions.  This module reads the prefix (the file's text up to the
 * cursor) and says, as far as the prefix shows:
 *
 *   receiver   the expression before `.`, `?.`, `->` or `::`, as a chain of
 *              names (`self.session` -> "self", "session"), and the part of
 *              the member typed so far;
 *   what it is
 *     module   bound by an import of the prefix: its module specifier as
 *              written (`email.utils` for `from email import utils`, `./g`,
 *              `github.com/a/b`, `crate::config`), and whether it was
 *              imported as a name from inside another module (then the
 *              name may be a submodule or a class of it: both are offered);
 *     self     `self`/`this` (or a Go method's receiver): the class the
 *              cursor is in, with the bases its header names;
 *     value    a variable whose type the prefix shows (`x = Foo(...)`,
 *              `x: Foo`, `self.x = Foo()`, `const x = new Foo()`,
 *              `x := pkg.NewFoo()`, `x := &Foo{}`, `var x Foo`,
 *              `let x = Foo::new()`, `let x: Foo`, `Foo x = ...`): the type,
 *              and where the prefix imports it from when it does;
 *     type     a name that is itself a class or type (capitalised, or
 *              defined or imported as one): its static members;
 *     unknown  a receiver the prefix says nothing about.
 *
 * Reading is lexical, per language, on the last few hundred lines at most;
 * wrong guesses cost a little precision, never a crash or a read outside
 * prefix[0..len).  Names longer than CURSOR_NAME_MAX are not names.
 */
#ifndef LCA_CODE_CURSOR_H
#define LCA_CODE_CURSOR_H

#include "proto/code/lang.h"

#include <stdbool.h>
#include <stddef.h>

#define CURSOR_NAME_MAX 96
#define CURSOR_SPEC_MAX 256
#define CURSOR_CHAIN_MAX 6
#define CURSOR_BASES_MAX 16

typedef enum {
    CURSOR_NONE = 0, /* no member access at the cursor */
    CURSOR_UNKNOWN,  /* `x.` with nothing known about x */
    CURSOR_MODULE,   /* x is a module, package or namespace */
    CURSOR_SELF,     /* x is self/this: members of the enclosing class */
    CURSOR_VALUE,    /* x is a variable of a known type */
    CURSOR_TYPE,     /* x is a class or type: its static members */
} cursor_kind_t;

typedef struct {
    cursor_kind_t kind;
    char op[3];                                    /* ".", "?.", "->", "::" */
    char chain[CURSOR_CHAIN_MAX][CURSOR_NAME_MAX]; /* the receiver, outermost first */
    int chain_len;                                 /* 0 when kind is CURSOR_NONE */
    char receiver[CURSOR_NAME_MAX];                /* the last name of the chain */
    char partial[CURSOR_NAME_MAX];                 /* the member typed so far ("" none) */
    char module[CURSOR_SPEC_MAX];    /* CURSOR_MODULE: the specifier; for VALUE/TYPE: where the type
                                        was imported from ("" when not imported) */
    char member_of[CURSOR_NAME_MAX]; /* CURSOR_MODULE: x was imported as this name from inside
                                        `module` (it may be a submodule or a class of it) */
    char type[CURSOR_NAME_MAX];      /* CURSOR_VALUE/TYPE: the type's name; CURSOR_SELF: the
                                        enclosing class */
    char bases[CURSOR_BASES_MAX][CURSOR_NAME_MAX]; /* CURSOR_SELF: the class's bases as written
                                                      (last name of each: `mod.Base` -> Base) */
    int base_count;
    char call[CURSOR_NAME_MAX]; /* CURSOR_VALUE: the value is what this function returns
                                   (Go `x, err := pkg.Open(...)`; Python, JS, TS, Rust
                                   `x = make(...)`, a lower-case call, which may also be a
                                   class: `registry()`), its type being unknown here ("" then)
                                   or guessed (`NewFoo` makes a Foo); "" otherwise */
} cursor_t;

/* Reads prefix[0..len) (need not be NUL-terminated) as language lang
 * (LANG_UNKNOWN: guessed from the syntax) and fills *out.  Always succeeds;
 * out->kind is CURSOR_NONE when the cursor does not follow a member access. */
void cursor_read(lang_id_t lang, const char *prefix, size_t len, cursor_t *out);

/* The class the end of prefix[0..len) is in, as lang reads: out->kind
 * CURSOR_SELF with its type and bases, as for `this.` there (for a Go
 * method, its receiver's type).  False, with out zeroed, outside any. */
bool cursor_enclosing(lang_id_t lang, const char *prefix, size_t len, cursor_t *out);

/* The name of the function the end of prefix[0..len) is in, as lang
 * reads (`def test_grid_2d_graph():`, `func (c *Client) Get() {`,
 * `public void testFoo() throws X {`, `const load = (x) => {`) into out:
 * the innermost named one (an anonymous callback is looked through).
 * False, with out "", outside any, or directly in a class's body. */
bool cursor_function(lang_id_t lang, const char *prefix, size_t len, char out[CURSOR_NAME_MAX]);

/* The name the statement at the end of prefix[0..len) declares or sets,
 * when that end is a value after its `=` (`export const splitWhere: {...}
 * = internal.`, `dumps = json.`, `x := pkg.`, `exports.run = impl.`): the
 * one name before the `=` (and before a type annotation's `:`) into out.
 * False, with out "", otherwise (`a, b = f.`, `x == y.`). */
bool cursor_declared(lang_id_t lang, const char *prefix, size_t len, char out[CURSOR_NAME_MAX]);

/* The class a function returns, read from its definition in text[0..len)
 * (a chunk holding `func name(...) (*T, error)`, `fn name(..) -> T`,
 * `def name(..) -> T:`, `function name(..): T`): T's last name (`pkg.T`
 * -> T) into out.  False when text defines no such function or it returns
 * nothing with members (error, string, int, a slice, a map...). */
bool cursor_return_type(const char *text, size_t len, const char *name, char *out, size_t cap);

/* The same, where the type comes before the name (Java, C#: a method's
 * header `public final TablePosition<S, ?> getEditingCell() {`): T of
 * `T name(...)` followed by `{`, `throws` or `;`.  False for void, a
 * primitive, an array, or no such header. */
bool cursor_declared_type(const char *text, size_t len, const char *name, char *out, size_t cap);

/* The bases that the header of class (or interface, struct, trait) name
 * declares in text[0..len) (a chunk holding `class name(A, B):`, `class
 * name<T> extends A implements B {`, `struct name : A`), as lang reads:
 * the last name of each (`mod.Base` -> Base), at most CURSOR_BASES_MAX,
 * into out.  Returns how many (0 when text has no such header). */
int cursor_class_bases(lang_id_t lang, const char *text, size_t len, const char *name,
                       char out[][CURSOR_NAME_MAX]);

/* Short name of a kind: "none", "unknown", "module", "self", "value", "type". */
const char *cursor_kind_name(cursor_kind_t kind);

#endif
