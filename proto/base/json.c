/*
 * A validating JSON scanner (see json.h).  It walks the text once with an
 * explicit container stack instead of recursion, so depth is bounded by
 * JSON_MAX_DEPTH and no input can exhaust the C stack.
 */
#include "proto/base/json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    char *why;
    size_t why_len;
} scanner_t;

static int fail(scanner_t *sc, const char *what) {
    if (sc->why && sc->why_len) {
        if (sc->pos < sc->len)
            snprintf(sc->why, sc->why_len, "%s at byte %zu", what, sc->pos);
        else
            snprintf(sc->why, sc->why_len, "%s at end of input", what);
    }
    return -EINVAL;
}

static void skip_space(scanner_t *sc) {
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        sc->pos++;
    }
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The code unit of a "\uXXXX" escape at s[at..at+6), or -1 when there is none. */
static long unit_at(const scanner_t *sc, size_t at) {
    if (at + 6 > sc->len || sc->s[at] != '\\' || sc->s[at + 1] != 'u')
        return -1;
    long unit = 0;
    for (size_t i = at + 2; i < at + 6; i++) {
        char c = sc->s[i];
        if (!is_hex(c))
            return -1;
        unit = unit * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return unit;
}

static int scan_string(scanner_t *sc) {
    sc->pos++; /* opening quote */
    size_t start = sc->pos;
    while (sc->pos < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->pos];
        if (c == '"') {
            if (!utf8_valid(sc->s + start, sc->pos - start))
                return fail(sc, "invalid UTF-8 in string");
            sc->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(sc, "control character in string");
        if (c == '\\') {
            if (sc->pos + 1 >= sc->len)
                return fail(sc, "unterminated escape");
            char e = sc->s[sc->pos + 1];
            if (e == 'u') {
                if (sc->pos + 6 > sc->len)
                    return fail(sc, "short \\u escape");
                long unit = unit_at(sc, sc->pos);
                if (unit < 0)
                    return fail(sc, "bad \\u escape");
                /* UTF-16 surrogates only come in pairs: a high one escaped
                 * right before a low one.  RFC 8259's grammar lets a lone
                 * one through, but it names no character and cJSON refuses
                 * it, so what passes here must not have one. */
                if (unit >= 0xdc00 && unit <= 0xdfff)
                    return fail(sc, "lone low surrogate in \\u escape");
                if (unit >= 0xd800 && unit <= 0xdbff) {
                    long low = unit_at(sc, sc->pos + 6);
                    if (low < 0xdc00 || low > 0xdfff)
                        return fail(sc, "lone high surrogate in \\u escape");
                    sc->pos += 6;
                }
                sc->pos += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0)
                return fail(sc, "bad escape");
            sc->pos += 2;
            continue;
        }
        sc->pos++;
    }
    return fail(sc, "unterminated string");
}

static bool digit_at(const scanner_t *sc, size_t pos) {
    return pos < sc->len && sc->s[pos] >= '0' && sc->s[pos] <= '9';
}

static int scan_number(scanner_t *sc) {
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (!digit_at(sc, sc->pos))
        return fail(sc, "bad number");
    if (sc->s[sc->pos] == '0')
        sc->pos++;
    else
        while (digit_at(sc, sc->pos))
            sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (!digit_at(sc, sc->pos))
            return fail(sc, "bad fraction");
        while (digit_at(sc, sc->pos))
            sc->pos++;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (!digit_at(sc, sc->pos))
            return fail(sc, "bad exponent");
        while (digit_at(sc, sc->pos))
            sc->pos++;
    }
    return 0;
}

static int scan_literal(scanner_t *sc, const char *word) {
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return fail(sc, "unexpected character");
    sc->pos += n;
    return 0;
}

int json_check(const char *s, size_t len, bool want_object, char *why, size_t why_len) {
    return json_check_bounded(s, len, want_object, 0, why, why_len);
}

int json_check_bounded(const char *s, size_t len, bool want_object, size_t max_values, char *why,
                       size_t why_len) {
    scanner_t sc = {s, len, 0, why, why_len};
    char stack[JSON_MAX_DEPTH]; /* '{' or '[' for each open container */
    int depth = 0;
    size_t values = 0; /* values begun so far */

    skip_space(&sc);
    if (sc.pos >= len)
        return fail(&sc, "empty document");
    if (want_object && s[sc.pos] != '{')
        return fail(&sc, "expected an object");

    /* Each turn scans one value; containers push and we come back for members. */
    for (;;) {
        skip_space(&sc);
        if (sc.pos >= len)
            return fail(&sc, "unexpected end");
        char c = s[sc.pos];
        int rc = 0;
        if (max_values && ++values > max_values) {
            if (why && why_len)
                snprintf(why, why_len, "more than %zu values", max_values);
            return -E2BIG;
        }
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH)
                return fail(&sc, "nested too deep");
            stack[depth++] = c;
            sc.pos++;
            skip_space(&sc);
            if (sc.pos < len && s[sc.pos] == (c == '{' ? '}' : ']')) {
                sc.pos++;
                depth--;
                goto after_value;
            }
            if (c == '{')
                goto object_key;
            continue;
        } else if (c == '"') {
            rc = scan_string(&sc);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            rc = scan_number(&sc);
        } else if (c == 't') {
            rc = scan_literal(&sc, "true");
        } else if (c == 'f') {
            rc = scan_literal(&sc, "false");
        } else if (c == 'n') {
            rc = scan_literal(&sc, "null");
        } else {
            return fail(&sc, "unexpected character");
        }
        if (rc)
            return rc;

    after_value:
        /* After a value: close containers or move to the next member. */
        for (;;) {
            skip_space(&sc);
            if (depth == 0) {
                if (sc.pos != len)
                    return fail(&sc, "trailing data");
                return 0;
            }
            if (sc.pos >= len)
                return fail(&sc, "unexpected end");
            char open = stack[depth - 1];
            c = s[sc.pos];
            if (c == (open == '{' ? '}' : ']')) {
                sc.pos++;
                depth--;
                continue;
            }
            if (c != ',')
                return fail(&sc, "expected ',' or close");
            sc.pos++;
            if (open == '[')
                break; /* next element */
            goto object_key;
        }
        continue;

    object_key:
        skip_space(&sc);
        if (sc.pos >= len || s[sc.pos] != '"')
            return fail(&sc, "expected a member name");
        if ((rc = scan_string(&sc)) != 0)
            return rc;
        skip_space(&sc);
        if (sc.pos >= len || s[sc.pos] != ':')
            return fail(&sc, "expected ':'");
        sc.pos++;
    }
}
