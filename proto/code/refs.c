/*
 * Member accesses (see refs.h).  One pass over the code bytes: at each
 * operator followed by a name, read the chain of names back from it, and
 * count the pair in a map whose keys are "receiver\0member".
 */
#include "proto/code/refs.h"

#include "proto/base/map.h"
#include "proto/code/codemask.h"
#include "proto/code/ident.h"
#include "proto/code/imported.h"

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
    char chain[REFS_CHAIN_MAX * (REFS_NAME_MAX + 2)]; /* names and 2-byte operators */
    size_t starts[REFS_CHAIN_MAX], ends[REFS_CHAIN_MAX];
    int names = 0;
    size_t at = op_start;
    for (;;) {
        size_t s = ident_start_before(t->s, t->code, at);
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
        /* a path keeps its `::` (a Rust module path is bound by imports.h
         * under that spelling); any other operator reads as `.` */
        if (n && t->s[starts[k] - 1] == ':') {
            memcpy(chain + n, "::", 2);
            n += 2;
        } else if (n) {
            chain[n++] = '.';
        }
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

/* ---- a file's references ---- */

/* Totals by key ("target\0name\0" or "name\0"), in order of first sight. */
typedef struct {
    map_t *index; /* key -> position + 1 */
    char **keys;
    int *counts;
    size_t n, cap;
} totals_t;

static int totals_add(totals_t *t, const char *key, size_t key_len, int count) {
    uintptr_t at = (uintptr_t)map_get(t->index, key, key_len);
    if (at) {
        t->counts[at - 1] += count;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **keys = realloc(t->keys, cap * sizeof *keys);
        if (keys)
            t->keys = keys;
        int *counts = realloc(t->counts, cap * sizeof *counts);
        if (counts)
            t->counts = counts;
        if (!keys || !counts)
            return -ENOMEM;
        t->cap = cap;
    }
    char *copy = malloc(key_len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, key, key_len);
    t->keys[t->n] = copy;
    t->counts[t->n] = count;
    t->n++;
    return map_put(t->index, copy, key_len, (void *)(uintptr_t)t->n) == 0 ? 0 : -ENOMEM;
}

static void totals_free(totals_t *t) {
    for (size_t i = 0; i < t->n; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->counts);
    map_destroy(&t->index);
}

static int qualified_add(totals_t *t, const imports_entry_t *e, const char *name, int count) {
    char key[1024];
    size_t name_len = strlen(name);
    for (size_t f = 0; f < e->file_count; f++) {
        size_t target_len = strlen(e->files[f]);
        if (target_len + name_len + 2 > sizeof key)
            continue;
        memcpy(key, e->files[f], target_len + 1);
        memcpy(key + target_len + 1, name, name_len + 1);
        int rc = totals_add(t, key, target_len + 1 + name_len + 1, count);
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct {
    const imports_t *imports;
    totals_t qualified, attributes;
} file_refs_t;

static const imports_entry_t *entry_bound_to(const imports_t *imports, const char *alias) {
    const imports_entry_t *found = NULL;
    for (size_t i = 0; i < imports_count(imports); i++) {
        const imports_entry_t *e = imports_get(imports, i);
        if (e->alias && e->file_count && !strcmp(e->alias, alias))
            found = e; /* the last import of a name wins, as in the languages */
    }
    return found;
}

/* The resolved import a name imported from inside module came with: one
 * that binds no name to the module itself (`from m import a`), or, in Rust,
 * the item's own `use` (`use crate::m::a` binds `a`). */
static const imports_entry_t *entry_named(lang_id_t lang, const imports_t *imports,
                                          const char *module) {
    for (size_t i = 0; i < imports_count(imports); i++) {
        const imports_entry_t *e = imports_get(imports, i);
        if ((!e->alias || lang == LANG_RUST) && e->file_count && !strcmp(e->name, module))
            return e;
    }
    return NULL;
}

static int on_access(const refs_access_t *a, void *arg) {
    file_refs_t *r = arg;
    int rc = totals_add(&r->attributes, a->member, strlen(a->member) + 1, a->count);
    const imports_entry_t *e = a->receiver[0] ? entry_bound_to(r->imports, a->receiver) : NULL;
    if (rc == 0 && e)
        rc = qualified_add(&r->qualified, e, a->member, a->count);
    return rc;
}

int refs_of_file(lang_id_t lang, const char *text, size_t len, const imports_t *imports,
                 refs_qualified_fn qualified, refs_attribute_fn attribute, void *arg) {
    file_refs_t r = {.imports = imports};
    r.qualified.index = map_new();
    r.attributes.index = map_new();
    int rc = r.qualified.index && r.attributes.index ? 0 : -ENOMEM;
    if (rc == 0)
        rc = refs_scan(lang, text, len, on_access, &r);
    /* Names imported from inside a module: the import itself is one
     * reference (what a package re-exports by name is its public face:
     * `from .x import a` in __init__.py, `pub use x::a` in mod.rs), each
     * bare use after it another. */
    imported_name_t *names = rc == 0 && imports ? calloc(REFS_IMPORTED_MAX, sizeof *names) : NULL;
    if (rc == 0 && imports && !names)
        rc = -ENOMEM;
    size_t n = names ? imported_names_of(lang, text, len, names, REFS_IMPORTED_MAX) : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const imports_entry_t *e = entry_named(lang, imports, names[i].module);
        /* a Rust item is the last step of its path, whatever it is bound to */
        const char *item = names[i].exported, *sep = strstr(names[i].module, "::");
        if (lang == LANG_RUST && sep)
            item = strrchr(names[i].module, ':') + 1;
        if (e && *item && strcmp(item, "*") != 0 && strcmp(item, "self") != 0)
            rc = qualified_add(&r.qualified, e, item, names[i].uses + 1);
    }
    free(names);
    for (size_t i = 0; rc == 0 && qualified && i < r.qualified.n; i++) {
        const char *key = r.qualified.keys[i];
        rc = qualified(key, key + strlen(key) + 1, r.qualified.counts[i], arg);
    }
    for (size_t i = 0; rc == 0 && attribute && i < r.attributes.n; i++)
        rc = attribute(r.attributes.keys[i], r.attributes.counts[i], arg);
    totals_free(&r.qualified);
    totals_free(&r.attributes);
    return rc;
}
