/*
 * Strict JSON and UTF-8 checks for bytes that come from outside: wire
 * headers, HTTP bodies, files.  cJSON parses leniently (it accepts invalid
 * UTF-8 and trailing garbage in some modes); these checks run first so that
 * what we parse is RFC 8259 JSON in valid UTF-8.  They allocate nothing and
 * bound nesting depth, so hostile input costs at most one linear pass.
 *
 * cJSON makes one node (about 80 bytes with the allocator's overhead) of
 * every value, so a body of small values costs some 40 times its size once
 * parsed: an 8 MB array of four million zeros is half a gigabyte.
 * json_check_bounded() counts the values as it goes and stops at a limit,
 * so a caller can refuse such a body before cJSON sees it.
 */
#ifndef LCA_BASE_JSON_H
#define LCA_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/base/utf8.h" /* utf8_valid(), which json_check() applies to strings */

#define JSON_MAX_DEPTH 64

/* Checks that s[0..len) is one JSON value (an object when want_object),
 * optionally surrounded by whitespace, in valid UTF-8, nested at most
 * JSON_MAX_DEPTH deep, with no \u escape of a lone UTF-16 surrogate (cJSON
 * refuses those: what passes here, cJSON parses).  Returns 0, or -EINVAL
 * with a reason in why ("unexpected ',' at byte 17"). */
int json_check(const char *s, size_t len, bool want_object, char *why, size_t why_len);

/* json_check(), and at most max_values values (0: any number): every
 * object, array, string, number, true, false and null counts once, as
 * cJSON makes one node of each; member names do not count (cJSON keeps
 * them in their value's node).  Returns 0, -EINVAL as json_check() does,
 * or -E2BIG with a reason in why ("more than 100 values") as soon as the
 * count passes max_values, whatever follows. */
int json_check_bounded(const char *s, size_t len, bool want_object, size_t max_values, char *why,
                       size_t why_len);

#endif
