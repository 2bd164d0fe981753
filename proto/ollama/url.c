/*
 * OLLAMA_HOST parsing (see url.h).  The setting comes from a user or
 * a compose file: every byte is checked, nothing is assumed.
 */
#include "proto/ollama/url.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool port_valid(const char *p, size_t n) {
    if (n == 0 || n > 5)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    return v <= 65535;
}

/* Bytes a host name may hold: letters, digits, '-', '.', '_' (container
 * names have them) and those of a UTF-8 name; an IPv6 address adds ':' and
 * '%' (its zone).  Anything else (a space, '#', '?', '@', a control byte)
 * would make the URL name another host or port, or none. */
static bool name_valid(const char *p, size_t n, bool v6) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || c >= 0x80 || (v6 && (c == ':' || c == '%'));
        if (!ok)
            return false;
    }
    return true;
}

/* A path may hold what a URL path holds as written, but no space or
 * control byte, and no '?' or '#': the API's paths are appended to it. */
static bool path_valid(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '\\')
            return false;
    }
    return true;
}

int ollama_url_from_host(const char *host, char **url) {
    *url = NULL;
    if (!host)
        host = "";
    /* Ollama trims spaces and quotes (a value copied from a shell line). */
    while (*host == ' ' || *host == '\t' || *host == '"' || *host == '\'')
        host++;
    size_t n = strlen(host);
    while (n && strchr(" \t\r\n\"'/", host[n - 1]))
        n--;
    const char *scheme = "http", *port = "11434";
    const char *sep = n >= 3 ? memmem(host, n, "://", 3) : NULL;
    if (sep) {
        size_t scheme_len = (size_t)(sep - host);
        if (scheme_len == 4 && strncasecmp(host, "http", 4) == 0)
            port = "80";
        else if (scheme_len == 5 && strncasecmp(host, "https", 5) == 0)
            scheme = "https", port = "443";
        else
            return -EINVAL;
        n -= scheme_len + 3;
        host = sep + 3;
    }
    const char *slash = memchr(host, '/', n);
    size_t hostport_len = slash ? (size_t)(slash - host) : n;
    const char *path = slash ? slash : "";
    size_t path_len = slash ? n - hostport_len : 0;

    /* Split host and port: "[v6]:port", "[v6]", "name:port", "name", "v6". */
    const char *name = host;
    size_t name_len = hostport_len;
    const char *port_text = NULL;
    size_t port_len = 0;
    bool v6 = false;
    if (hostport_len && host[0] == '[') {
        const char *close = memchr(host, ']', hostport_len);
        if (!close)
            return -EINVAL;
        name = host + 1, name_len = (size_t)(close - host) - 1, v6 = true;
        size_t rest = hostport_len - (size_t)(close - host) - 1;
        if (rest > 0) {
            if (close[1] != ':')
                return -EINVAL;
            port_text = close + 2, port_len = rest - 1;
        }
    } else {
        const char *colon = memchr(host, ':', hostport_len);
        if (colon && memchr(colon + 1, ':', hostport_len - (size_t)(colon + 1 - host))) {
            v6 = true; /* a bare IPv6 address */
        } else if (colon) {
            name_len = (size_t)(colon - host);
            port_text = colon + 1, port_len = hostport_len - name_len - 1;
        }
    }
    if ((port_text && !port_valid(port_text, port_len)) || !name_valid(name, name_len, v6) ||
        !path_valid(path, path_len))
        return -EINVAL;
    if (name_len == 0)
        name = "127.0.0.1", name_len = strlen(name), v6 = false;
    /* A server's wildcard bind address means "this machine" to a client. */
    if (name_len == 7 && strncmp(name, "0.0.0.0", 7) == 0)
        name = "127.0.0.1", name_len = 9;
    else if (v6 && name_len == 2 && strncmp(name, "::", 2) == 0)
        name = "::1", name_len = 3;
    int rc = asprintf(url, "%s://%s%.*s%s:%.*s%.*s", scheme, v6 ? "[" : "", (int)name_len, name,
                      v6 ? "]" : "", port_text ? (int)port_len : (int)strlen(port),
                      port_text ? port_text : port, (int)path_len, path);
    if (rc < 0) {
        *url = NULL;
        return -ENOMEM;
    }
    return 0;
}
