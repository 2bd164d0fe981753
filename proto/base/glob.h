/*
 * glob: the one pattern language of lca's allow-lists (LCA_ORIGINS,
 * LCA_HOSTS, the services a CURVE key may serve or call).
 *
 * A pattern is literal text in which `*` matches any run of characters,
 * empty included; nothing else is special.  Comparison ignores ASCII case.
 * A list is patterns separated by commas, blanks around each ignored.
 */
#ifndef LCA_BASE_GLOB_H
#define LCA_BASE_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* True when text[0..len) matches pattern (NUL-terminated). */
bool glob_match(const char *pattern, const char *text, size_t len);

/* True when text[0..len) matches one pattern of the comma-separated list
 * (NULL or empty: none matches). */
bool glob_list_match(const char *list, const char *text, size_t len);

#endif
