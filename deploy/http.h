/*
 * http: the `lca` subcommands' one way to talk to the gateway over HTTP.
 *
 * The gateway is LCA_URL, else http://127.0.0.1:LCA_PORT (port 11435);
 * LCA_API_KEY, when set, goes with every request as a bearer token.  A
 * request is a GET or a POST of JSON; the answer's body is collected whole
 * or handed over piece by piece as it arrives (a stream), and its header
 * lines too when asked for.  Loopback traffic never goes through a proxy.
 */
#ifndef LCA_DEPLOY_HTTP_H
#define LCA_DEPLOY_HTTP_H

#include "proto/base/buf.h"
#include "proto/base/settings.h"

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* The settings a subcommand that calls the gateway documents in --help. */
#define COMMAND_HTTP_SETTINGS                                                                      \
    {                                                                                              \
        NULL,                                                                                      \
        0,                                                                                         \
        "LCA_URL",                                                                                 \
        SETTING_TEXT,                                                                              \
        NULL,                                                                                      \
        "the gateway",                                                                             \
        .shown = "http://127.0.0.1:$LCA_PORT"},                                                    \
    {                                                                                              \
        NULL, 0, "LCA_API_KEY", SETTING_TEXT, NULL, "the gateway's API key, when it has one"       \
    }

typedef struct {
    const char *path;       /* "/api/chat"; appended to the gateway's URL */
    const char *body;       /* JSON to POST; NULL: a GET */
    const char *accept;     /* the Accept header; NULL: none */
    const char *collection; /* X-LCA-Collection; NULL: none */
    long timeout_ms;        /* the whole exchange; 0: no limit (connecting still ends in 10 s) */
    /* Each piece of the body as it arrives (the status is known by then);
     * return false to stop.  NULL: the body is collected into `answer`. */
    bool (*on_body)(void *arg, long status, const char *data, size_t len);
    /* Each header line as it arrives, status lines included; NULL: none. */
    void (*on_header)(void *arg, const char *line, size_t len);
    void *arg;
    buf_t *answer; /* where the body goes without on_body; may be NULL */
} command_http_request_t;

typedef struct {
    long status;     /* the HTTP status; 0: no answer */
    bool complete;   /* the whole answer arrived */
    char url[512];   /* where the request went, for messages */
    char error[256]; /* what went wrong when not complete (libcurl's words) */
} command_http_result_t;

/* Runs one request to the gateway; *result says how it went. */
void command_http(const command_http_request_t *request, command_http_result_t *result);

/* The message of an error answer in either API shape ({"error":"..."} or
 * {"error":{"message":"..."}}); NULL when j is not one. */
const char *command_http_error(const struct cJSON *j);

#endif
