/*
 * guard: which callers the gateway serves when no API key is set.
 *
 * A web page in the user's browser runs on the user's machine and can reach
 * 127.0.0.1: it may POST text/plain without a preflight, and after DNS
 * rebinding (its own name resolving to 127.0.0.1) it can even read the
 * answers.  So without a key, a request is served only when
 *
 *   - its Host names this machine the way no rebinding can: an IP literal,
 *     `localhost` or a `*.localhost` name, the address the gateway was told
 *     to listen on, or a name listed in LCA_HOSTS; and
 *   - its Origin, when it has one, is the gateway's own (same scheme-less
 *     host and port as Host), or matches an allowed origin: those of local
 *     apps and IDE webviews that Ollama allows by default
 *     (http(s)://localhost, 127.0.0.1 and 0.0.0.0 on any port, app://,
 *     file://, tauri://, vscode-webview://, vscode-file://) and the
 *     comma-separated patterns of LCA_ORIGINS, where `*` matches any run of
 *     characters (`https://app.*.example.com`; a lone `*` lets every origin in).
 *
 * With an API key the key decides (see http.h); Host and Origin are not
 * looked at.  Pure functions of their inputs: tested without a server.
 */
#ifndef LCA_GATEWAY_GUARD_H
#define LCA_GATEWAY_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#define GUARD_PATTERNS_MAX 32

typedef struct {
    char listen_host[256]; /* the --host the gateway listens on ("" : none) */
    char hostname[256];    /* this machine's name ("" : unknown) */
    /* Allowed Host names (LCA_HOSTS) and Origin patterns (LCA_ORIGINS,
     * then the defaults); NUL-separated in one buffer each. */
    const char *hosts[GUARD_PATTERNS_MAX];
    size_t host_count;
    const char *origins[GUARD_PATTERNS_MAX + 32]; /* room for the defaults too */
    size_t origin_count;
    char storage[4096];
} guard_t;

/* Fills g from the listen host and the LCA_HOSTS / LCA_ORIGINS values
 * (either may be NULL).  Patterns beyond the limits are ignored. */
void guard_init(guard_t *g, const char *listen_host, const char *hosts_env,
                const char *origins_env);

/* True when host[0..len) (a Host header, with or without :port, IPv6 in
 * brackets) names this machine in a way DNS rebinding cannot forge. */
bool guard_host_allowed(const guard_t *g, const char *host, size_t len);

/* True when the Origin header origin[0..len) may call us, the request's
 * Host being host[0..host_len). */
bool guard_origin_allowed(const guard_t *g, const char *origin, size_t len, const char *host,
                          size_t host_len);

/* True when origin[0..len) is the gateway's own for a request whose Host
 * is host[0..host_len): http(s)://<Host>, the page it served itself. */
bool guard_origin_is_own(const char *origin, size_t len, const char *host, size_t host_len);

/* True when text[0..len) matches pattern (NUL-terminated; `*` matches any
 * run of characters, comparison ignores ASCII case). */
bool guard_match(const char *pattern, const char *text, size_t len);

#endif
