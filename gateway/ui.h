/*
 * ui: the status page — what a person sees of a running lca in a browser.
 *
 * One HTML page, one script and one style sheet (gateway/ui/), compiled
 * into the binary at build time (gateway/ui/embed.sh writes them into a
 * generated C file as ui_assets): no build step, no CDN, nothing to find on
 * disk, works offline.  The page reads:
 *
 *   GET /ui/api/state     everything at once: the broker's services and
 *                         workers (host, key, load), the collections (files,
 *                         chunks, last seed, spread over the shards) and the
 *                         last requests (route, model, status, first token,
 *                         tokens, the context chunks each got, with why
 *                         they ranked); see ui_append_state
 *   GET /ui/api/chunk?request=ID&index=I
 *                         one chunk a request got, with its text
 *   GET /ui/events        the same news live, as Server-Sent Events (events.h)
 *   POST /api/context     the query box (knowledge.h)
 *
 * Where it is served: GET /ui/ (and /ui), and GET / for a browser's
 * navigation (Accept: text/html with Sec-Fetch-Dest: document or
 * Upgrade-Insecure-Requests, as every browser sends when a person opens the
 * address).  Every other GET or HEAD of / gets Ollama's "Ollama is running",
 * as Ollama's clients expect.
 *
 * Who may use it (the server applies this before any handler, ui_caller_allowed):
 *   - Same origin only, API key or not: a request carrying an Origin other
 *     than the gateway's own (http(s)://<Host>) is refused, and no CORS
 *     header is ever sent for these routes.  A browser's Sec-Fetch-Site other
 *     than same-origin or none is refused too, but for navigations to the page
 *     (a link to it from elsewhere shows the page; its data still needs the
 *     page's own requests).
 *   - With LCA_API_KEY set, everything but the page's three files needs the
 *     key.  The page asks for it once, keeps it in the tab's sessionStorage
 *     and sends it as Authorization: Bearer on each request, its event stream
 *     included (read with fetch, since EventSource cannot send headers).  A
 *     header rather than a cookie: a cookie would ride along on requests
 *     other sites make, and would need CSRF tokens; a header never does.  No
 *     token in a URL either: URLs end up in logs and history.
 *   - Every answer carries a Content-Security-Policy (default-src 'self', no
 *     inline script or style), nosniff, no referrer, no framing.  The page
 *     writes all data it shows as text, never as HTML.
 */
#ifndef LCA_GATEWAY_UI_H
#define LCA_GATEWAY_UI_H

#include "gateway/collections.h"
#include "gateway/history.h"
#include "gateway/http.h"
#include "proto/base/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* A file of the page, compiled in. */
typedef struct {
    const char *name;          /* "index.html", "app.js", "style.css"; NULL ends the table */
    const unsigned char *data; /* len bytes, then a NUL */
    size_t len;
} ui_asset_t;

/* The page's files (generated from gateway/ui/ at build time). */
extern const ui_asset_t ui_assets[];

/* The asset named name[0..len), or NULL. */
const ui_asset_t *ui_asset_find(const char *name, size_t len);

/* The Content-Type for a file name, by its extension. */
const char *ui_content_type(const char *name);

/* The page's Content-Security-Policy. */
extern const char ui_csp[];

/* ---- who may call (pure, so tested without a server) ---- */

typedef struct {
    h2o_iovec_t origin;     /* Origin header (len 0: none) */
    h2o_iovec_t host;       /* Host (len 0: none) */
    h2o_iovec_t fetch_site; /* Sec-Fetch-Site (len 0: none, e.g. not a browser) */
    h2o_iovec_t fetch_mode; /* Sec-Fetch-Mode */
    bool page;              /* the request is for the page itself */
} ui_caller_t;

/* NULL when c may be answered, else the reason (for a 403). */
const char *ui_refusal(const ui_caller_t *c);

/* True when accept, Sec-Fetch-Dest and Upgrade-Insecure-Requests say that
 * a person is opening the address in a browser (see above). */
bool ui_browser_navigation(h2o_iovec_t accept, h2o_iovec_t fetch_dest, bool upgrade_insecure);

/* True when path[0..len) is under /ui (the page's own routes). */
bool ui_path(const char *path, size_t len);

/* ---- the server's hooks (server.c) ---- */

/* True when the request is the status page's: a /ui route, or / opened by
 * a browser.  Such requests follow ui_caller_allowed, not the API's CORS. */
bool ui_owns(const http_ctx_t *ctx);

/* Applies ui_refusal; answers 403 and returns false when refused. */
bool ui_caller_allowed(http_ctx_t *ctx);

/* True for the page's own files (GET or HEAD), which need no API key: a
 * browser cannot send one when a person opens the address. */
bool ui_is_public(const http_ctx_t *ctx);

/* ---- routes ---- */

/* GET / : the page for a browser, Ollama's "Ollama is running" otherwise. */
int ui_handle_root(http_ctx_t *ctx);

/* GET /ui, /ui/ (the page), /ui/app.js, /ui/style.css */
int ui_handle_file(http_ctx_t *ctx);

/* GET /ui/api/state */
int ui_handle_state(http_ctx_t *ctx);

/* GET /ui/api/chunk?request=ID&index=I */
int ui_handle_chunk(http_ctx_t *ctx);

/* Sets the page's security headers (CSP and friends) on the response, and
 * Cache-Control: no-cache unless it is a stream (stream.h sets its own). */
void ui_security_headers(h2o_req_t *req, bool stream);

/* ---- the JSON the page reads ---- */

/* One request: {"id", "version", "rid", "route", "model", "started_at",
 * "status" (0: running), "first_token_ms", "duration_ms", "tokens",
 * "prompt_tokens", "reread_tokens" (null when unknown), "context": null (no
 * retrieval) or {"collection", "elapsed_ms", "dropped", "chunks": [chunks as
 * /api/context writes them, without text], "used": [bool per chunk]}}. */
void ui_append_request(buf_t *out, const history_entry_t *e);

/* The collections: {"known", "shards_missing", "list": [as GET
 * /api/collections, with each one's spread]}; snapshot may be NULL. */
void ui_append_collections(buf_t *out, const collections_t *snapshot);

/* The whole state: {"version", "shards", "auth", "history_max", "broker"
 * (broker.status as the broker wrote it, or null), "broker_error",
 * "collections", "requests" (newest first)}. */
void ui_append_state(buf_t *out, const gateway_t *gateway, const char *broker_json,
                     const char *broker_error, const collections_t *snapshot);

#endif
