/*
 * rustitems: the Rust items ctags does not see, read lexically.
 *
 * ctags's Rust parser does not look inside macro invocations, and crates
 * wrap whole modules in them (`cfg_rt! { pub fn spawn_blocking(..) .. }`,
 * `cfg_if! { .. }`): a file whose items all sit in such a block gets no tags
 * at all, so none of its definitions can be found by name.  This scanner
 * reads the lines that start an item, at any brace depth that is not inside
 * a function body:
 *
 *   [pub[(..)]] [default|const|async|unsafe|extern ["abi"]]*
 *       fn|struct|enum|union|trait|type|const|static|macro_rules! NAME
 *
 * `impl [<..>] [Trait for] Type {` and `trait Name {` open a scope: the
 * functions inside are methods of Type (or Name); `mod name {` one whose
 * items are the module's.  Comments and strings are skipped (codemask.h).
 * A lexer: at worst an item is missed or misjudged, never a read outside
 * text[0..len).
 */
#ifndef LCA_SEEDER_RUSTITEMS_H
#define LCA_SEEDER_RUSTITEMS_H

#include "proto/code/lang.h"
#include "seeder/ctags.h"

#include <stddef.h>

/* ctags's tags of one file (tags[0..n)) completed with the items found here
 * on lines where ctags has no tag: kind "function", "method", "struct",
 * "enum", "union", "interface" (a trait), "typedef", "constant", "variable"
 * (a static) or "macro", with the scope of the impl, trait or module they
 * are in; and a method ctags tagged as a plain function (it loses the impl
 * of a header that goes on past its line, `impl<T> X<T>` then `where`)
 * gets its impl as scope.  Any language but Rust changes nothing.  Sets *out to NULL when
 * nothing changes (use tags as they are); else *out (*nout tags) and *names
 * (the strings the new tags point to) are the caller's to free().  Returns
 * 0 or -ENOMEM. */
int rustitems_complete_tags(lang_id_t lang, const char *text, size_t len, const ctags_tag_t *tags,
                            size_t n, ctags_tag_t **out, size_t *nout, char **names);

#endif
