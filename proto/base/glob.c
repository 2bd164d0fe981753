/*
 * Pattern matching for allow-lists (see glob.h).  Iterative, with one
 * backtracking point (the last star): linear in practice, never recursive,
 * whatever a pattern from the environment or a certificate holds.
 */
#include "proto/base/glob.h"

#include <string.h>

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Matches pattern[0..plen) against text[0..len). */
static bool match_n(const char *pattern, size_t plen, const char *text, size_t len) {
    size_t p = 0, t = 0, star = (size_t)-1, resume = 0;
    while (t < len) {
        if (p < plen && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (p < plen && lower(pattern[p]) == lower(text[t])) {
            p++;
            t++;
        } else if (star != (size_t)-1) { /* let the last star take one more character */
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < plen && pattern[p] == '*')
        p++;
    return p == plen;
}

bool glob_match(const char *pattern, const char *text, size_t len) {
    return match_n(pattern, strlen(pattern), text, len);
}

bool glob_list_match(const char *list, const char *text, size_t len) {
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *item = p;
        p += n + (p[n] == ',');
        while (n && (*item == ' ' || *item == '\t'))
            item++, n--;
        while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
            n--;
        if (n && match_n(item, n, text, len))
            return true;
    }
    return false;
}
