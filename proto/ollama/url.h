/*
 * Where Ollama is: OLLAMA_HOST-style settings turned into a base URL, read
 * the way Ollama's own client reads them.  The generator and the embedder's
 * Ollama backend both use it, so one setting means the same to both.
 */
#ifndef LCA_OLLAMA_URL_H
#define LCA_OLLAMA_URL_H

/* Where Ollama is when nothing says otherwise. */
#define OLLAMA_DEFAULT_HOST "http://127.0.0.1:11434"

/* Turns an OLLAMA_HOST-style setting into a base URL, as Ollama does: no
 * scheme means http, no port means 11434 (80 for "http://", 443 for
 * "https://"), an empty setting means http://127.0.0.1:11434, a path (a
 * reverse proxy's prefix) is kept without its trailing '/'.  The wildcard
 * addresses 0.0.0.0 and [::] (what a server binds to) become 127.0.0.1 and
 * [::1].  Stores a heap string in *url.  Returns 0, -EINVAL for a scheme other
 * than http(s), a bad port, a host name with a byte no host name has (a
 * space, '#', '?', '@', ...) or a path with a space, a control byte, '?' or
 * '#', -ENOMEM. */
int ollama_url_from_host(const char *host, char **url);

#endif
