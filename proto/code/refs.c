/*
 * Member accesses (see refs.h).  One pass over the code bytes: at each
 * operator followed by a name, read the chain of names back from it, and
 * count the pair in a map whose keys are "receiver\0member".
 */
#include "proto/code/refs.h"

#include "proto/base/map.h"
#include "proto/code/codemask.h"
#include "proto/code/ident.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key; /* receiver \0 member \0 */
    size_t key_len;
    int count;
} pair_t;

typedef struct {
    const char *s;
    size_t n;
    const uint8_t *code;
    map_t *map;
    pair_t *pairs; /* in order of first occurrence */
    size_t count, cap;
} scan_t;

/* The operator ending at end, and its length (0: none). */
static size_t operator_len_before(const scan_t *t, size_t end) {
    if (end >= 2 && !memcmp(t->s + end - 2, "?.", 2))
        return 2;
    if (end >= 2 && (!memcmp(t->s + end - 2, "->", 2) || !memcmp(t->s + end - 2, "::", 2)))
        return 2;
    if (end >= 1 && t->s[end - 1] == '.' && !(end >= 2 && t->s[end - 2] == '.'))
        return 1;
    return 0;
}

/* The name ending at end (code only): its start, or end when none. */
static size_t name_back(const scan_t *t, size_t end) {
    size_t i = end;
    while (i > 0 && t->code[i - 1]) {
        size_t n = ident_char_len_before(t->s, i);
        if (!n)
            break;
        i -= n;
    }
    while (i < end && t->s[i] >= '0' && t->s[i] <= '9')
        i++;
    return i;
}

static int count_pair(scan_t *t, const char *receiver, size_t receiver_len, const char *member,
                      size_t member_len) {
    char key[REFS_CHAIN_MAX * (REFS_NAME_MAX + 2) + REFS_NAME_MAX + 2];
    size_t key_len = receiver_len + 1 + member_len + 1;
    if (key_len > sizeof key)
        return 0;
    memcpy(key, receiver, receiver_len);
    key[receiver_len] = '\0';
    memcpy(key + receiver_len + 1, member, member_len);
    key[key_len - 1] = '\0';
    uintptr_t known = (uintptr_t)map_get(t->map, key, key_len); /* index + 1 */
    if (known) {
        t->pairs[known - 1].count++;
        return 0;
    }
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        pair_t *grown = realloc(t->pairs, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        t->pairs = grown;
        t->cap = cap;
    }
    pair_t *p = &t->pairs[t->count];
    p->key = malloc(key_len);
    if (!p->key)
        return -ENOMEM;
    memcpy(p->key, key, key_len);
    p->key_len = key_len;
    p->count = 1;
    t->count++;
    /* The array may move as it grows: the map keeps index + 1. */
    if (map_put(t->map, p->key, key_len, (void *)(uintptr_t)t->count) != 0)
        return -ENOMEM;
    return 0;
}

/* The member at i (after an operator): counts its pair with the chain of
 * names before the operator. */
static int access_at(scan_t *t, size_t op_start, size_t member, size_t member_len) {
    char chain[REFS_CHAIN_MAX * (REFS_NAME_MAX + 2)];
    size_t starts[REFS_CHAIN_MAX], ends[REFS_CHAIN_MAX];
    int names = 0;
    size_t at = op_start;
    for (;;) {
        size_t s = name_back(t, at);
        if (s == at || at - s > REFS_NAME_MAX)
            break;
        if (names == REFS_CHAIN_MAX)
            return 0; /* too deep to say anything */
        starts[names] = s;
        ends[names] = at;
        names++;
        size_t op = operator_len_before(t, s);
        if (!op || !t->code[s - 1])
            break;
        at = s - op;
    }
    if (names == 0) {
        /* `1.5` and `.5`: numbers, not accesses */
        if (op_start > 0 && t->s[op_start - 1] >= '0' && t->s[op_start - 1] <= '9')
            return 0;
        return count_pair(t, "", 0, t->s + member, member_len);
    }
    size_t n = 0;
    for (int k = names - 1; k >= 0; k--) {
        if (n)
            chain[n++] = '.';
        memcpy(chain + n, t->s + starts[k], ends[k] - starts[k]);
        n += ends[k] - starts[k];
    }
    return count_pair(t, chain, n, t->s + member, member_len);
}

int refs_scan(lang_id_t lang, const char *text, size_t len, refs_fn fn, void *arg) {
    if (!text || !fn || len == 0)
        return 0;
    scan_t t = {.s = text, .n = len};
    uint8_t *code = malloc(len);
    t.map = map_new();
    int rc = code && t.map ? 0 : -ENOMEM;
    if (rc == 0) {
        codemask_build(lang, text, len, code);
        t.code = code;
    }
    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (!code[i])
            continue;
        size_t op = 0;
        if (text[i] == '.' && !(i + 1 < len && text[i + 1] == '.') &&
            !(i > 0 && text[i - 1] == '.'))
            op = 1;
        else if (i + 1 < len && (!memcmp(text + i, "?.", 2) || !memcmp(text + i, "->", 2) ||
                                 !memcmp(text + i, "::", 2)))
            op = 2;
        if (!op || i + op >= len || !code[i + op])
            continue;
        size_t m = ident_len(text + i + op, len - i - op);
        if (m && m <= REFS_NAME_MAX)
            rc = access_at(&t, i, i + op, m);
        i += op - 1;
    }
    for (size_t k = 0; rc == 0 && k < t.count; k++) {
        const pair_t *p = &t.pairs[k];
        refs_access_t a = {
            .receiver = p->key, .member = p->key + strlen(p->key) + 1, .count = p->count};
        rc = fn(&a, arg);
    }
    for (size_t k = 0; k < t.count; k++)
        free(t.pairs[k].key);
    free(t.pairs);
    map_destroy(&t.map);
    free(code);
    return rc;
}
