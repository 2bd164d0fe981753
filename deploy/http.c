/*
 * The gateway's HTTP client for `lca` subcommands (see http.h): one
 * libcurl easy handle per request, set up the same way for every command.
 */
#include "deploy/http.h"

#include "deploy/commands.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const command_http_request_t *request;
    CURL *curl;
    long status; /* known at the first body byte */
} exchange_t;

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
    exchange_t *ex = arg;
    ex->request->on_header(ex->request->arg, data, size * n);
    return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    exchange_t *ex = arg;
    const command_http_request_t *r = ex->request;
    size_t len = size * n;
    if (!ex->status)
        curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &ex->status);
    if (r->on_body)
        return r->on_body(r->arg, ex->status, data, len) ? len : 0;
    return !r->answer || buf_append(r->answer, data, len) == 0 ? len : 0;
}

void command_http(const command_http_request_t *r, command_http_result_t *result) {
    *result = (command_http_result_t){0};
    const char *base = command_env("LCA_URL", NULL);
    if (base)
        snprintf(result->url, sizeof result->url, "%s%s", base, r->path);
    else
        snprintf(result->url, sizeof result->url, "http://127.0.0.1:%s%s",
                 command_env("LCA_PORT", "11435"), r->path);
    exchange_t ex = {.request = r, .curl = curl_easy_init()};
    if (!ex.curl) {
        snprintf(result->error, sizeof result->error, "cannot start libcurl");
        return;
    }
    struct curl_slist *headers = NULL;
    char line[600];
    if (r->body)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    if (r->accept) {
        snprintf(line, sizeof line, "Accept: %s", r->accept);
        headers = curl_slist_append(headers, line);
    }
    const char *key = command_env("LCA_API_KEY", NULL);
    if (key) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, line);
    }
    if (r->collection) {
        snprintf(line, sizeof line, "X-LCA-Collection: %s", r->collection);
        headers = curl_slist_append(headers, line);
    }
    CURL *c = ex.curl;
    curl_easy_setopt(c, CURLOPT_URL, result->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (r->body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    if (r->on_header) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    if (r->timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result->status);
    result->complete = rc == CURLE_OK;
    if (rc != CURLE_OK)
        snprintf(result->error, sizeof result->error, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
}

const char *command_http_error(const cJSON *j) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}
