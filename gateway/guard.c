/*
 * Host and Origin checks (see guard.h).
 */
#include "gateway/guard.h"

#include "proto/base/glob.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Origins Ollama lets in by default: local pages on any port, and the
 * schemes of desktop apps and IDE webviews. */
static const char *const default_origins[] = {
    "http://localhost", "https://localhost", "http://localhost:*", "https://localhost:*",
    "http://127.0.0.1", "https://127.0.0.1", "http://127.0.0.1:*", "https://127.0.0.1:*",
    "http://0.0.0.0",   "https://0.0.0.0",   "http://0.0.0.0:*",   "https://0.0.0.0:*",
    "app://*",          "file://*",          "tauri://*",          "vscode-webview://*",
    "vscode-file://*",
};

bool guard_match(const char *pattern, const char *text, size_t len) {
    return glob_match(pattern, text, len);
}

/* Splits a comma-separated list into patterns kept in g->storage. */
static size_t split_list(guard_t *g, size_t *used, const char *list, const char **out, size_t max) {
    size_t n = 0;
    for (const char *p = list; p && *p && n < max;) {
        size_t len = strcspn(p, ",");
        const char *item = p;
        p += len + (p[len] == ',');
        while (len && (*item == ' ' || *item == '\t'))
            item++, len--;
        while (len && (item[len - 1] == ' ' || item[len - 1] == '\t'))
            len--;
        if (len == 0 || *used + len + 1 > sizeof g->storage)
            continue;
        memcpy(g->storage + *used, item, len);
        g->storage[*used + len] = '\0';
        out[n++] = g->storage + *used;
        *used += len + 1;
    }
    return n;
}

void guard_init(guard_t *g, const char *listen_host, const char *hosts_env,
                const char *origins_env) {
    memset(g, 0, sizeof *g);
    snprintf(g->listen_host, sizeof g->listen_host, "%s", listen_host ? listen_host : "");
    if (gethostname(g->hostname, sizeof g->hostname - 1) != 0)
        g->hostname[0] = '\0';
    size_t used = 0;
    g->host_count = split_list(g, &used, hosts_env, g->hosts, GUARD_PATTERNS_MAX);
    g->origin_count = split_list(g, &used, origins_env, g->origins, GUARD_PATTERNS_MAX);
    _Static_assert(sizeof default_origins / sizeof default_origins[0] <= 32,
                   "guard_t.origins has room for 32 defaults");
    for (size_t i = 0; i < sizeof default_origins / sizeof default_origins[0]; i++)
        g->origins[g->origin_count++] = default_origins[i];
}

/* The host part of a Host header: without the port, IPv6 without brackets.
 * Returns false when it is malformed. */
static bool host_part(const char *host, size_t len, char *out, size_t cap) {
    const char *start = host;
    size_t n = len;
    if (len > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (!close || (close + 1 < host + len && close[1] != ':'))
            return false;
        start = host + 1;
        n = (size_t)(close - start);
    } else {
        const char *colon = memchr(host, ':', len);
        if (colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - host)))
            n = (size_t)(colon - host);
    }
    if (n > 0 && start[n - 1] == '.') /* "localhost." is localhost */
        n--;
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '@')
            return false;
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
    }
    out[n] = '\0';
    return true;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

bool guard_host_allowed(const guard_t *g, const char *host, size_t len) {
    char name[256];
    if (!host_part(host, len, name, sizeof name))
        return false;
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return true; /* an address: no name for a rebinding attacker to point here */
    if (!strcmp(name, "localhost") || ends_with(name, ".localhost"))
        return true;
    if ((g->listen_host[0] && !strcasecmp(name, g->listen_host)) ||
        (g->hostname[0] && !strcasecmp(name, g->hostname)))
        return true;
    for (size_t i = 0; i < g->host_count; i++)
        if (guard_match(g->hosts[i], name, strlen(name)))
            return true;
    return false;
}

bool guard_origin_is_own(const char *origin, size_t len, const char *host, size_t host_len) {
    const char *authority = NULL;
    if (len > 7 && !strncasecmp(origin, "http://", 7))
        authority = origin + 7;
    else if (len > 8 && !strncasecmp(origin, "https://", 8))
        authority = origin + 8;
    return authority && host_len > 0 && (size_t)(origin + len - authority) == host_len &&
           !strncasecmp(authority, host, host_len);
}

bool guard_origin_allowed(const guard_t *g, const char *origin, size_t len, const char *host,
                          size_t host_len) {
    /* Same origin: the page was served by this gateway at this Host. */
    if (guard_origin_is_own(origin, len, host, host_len))
        return true;
    for (size_t i = 0; i < g->origin_count; i++)
        if (guard_match(g->origins[i], origin, len))
            return true;
    return false;
}
