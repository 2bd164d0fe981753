/*
 * `lca search`: what the assistant would know for a question, in the
 * terminal — the best chunks (path:lines and a few lines of code), asked of
 * the gateway's POST /api/context.  Works before Ollama is running.
 */
#include "deploy/commands.h"
#include "proto/base/buf.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t n, void *arg) {
    buf_append(arg, data, size * n);
    return size * n;
}

/* POSTs body to the gateway's path; returns the HTTP status (0: no answer). */
long command_http_post(const char *path, const char *body, buf_t *answer, char *err,
                       size_t err_len) {
    char url[512];
    const char *base = command_env("LCA_URL", NULL);
    if (base)
        snprintf(url, sizeof url, "%s%s", base, path);
    else
        snprintf(url, sizeof url, "http://127.0.0.1:%s%s", command_env("LCA_PORT", "11435"), path);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = command_env("LCA_API_KEY", NULL);
    char auth[512];
    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, err_len, "cannot reach lca at %s (%s): is `lca up` running?", url,
                 curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return status;
}

/* The message of an error answer in either API shape. */
static const char *error_message(const cJSON *j) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_IsString(m) ? m->valuestring : "unknown error";
}

#define ABOUT                                                                                      \
    "Prints the chunks of the index that best match the text: what the assistant "                 \
    "will put into a prompt about it."

int command_search(int argc, char **argv) {
    const char *collection = NULL;
    long k = 8, lines = 4;
    const setting_t settings[] = {
        {"collection", 0, NULL, SETTING_TEXT, "NAME", "the repository, when several are indexed",
         .out = &collection},
        {NULL, 'k', NULL, SETTING_NUMBER, "N", "chunks to print", .min = 1, .max = 100, .out = &k},
        {"lines", 0, NULL, SETTING_NUMBER, "N", "lines of each chunk to print", .min = 0,
         .max = LONG_MAX, .out = &lines},
        {NULL, 0, "LCA_URL", SETTING_TEXT, NULL, "the gateway",
         .shown = "http://127.0.0.1:$LCA_PORT"},
        {NULL, 0, "LCA_API_KEY", SETTING_TEXT, NULL, "the gateway's API key, when it has one"},
    };
    const settings_spec_t spec = {"lca search",
                                  "[options] TEXT",
                                  ABOUT,
                                  .settings = settings,
                                  .count = sizeof settings / sizeof settings[0],
                                  .operands = "TEXT",
                                  .min_operands = 1,
                                  .max_operands = -1};
    int first = 0, read = settings_read(&spec, argc, argv, &first);
    if (read != SETTINGS_GO_ON)
        return read;
    buf_t query = BUF_INIT;
    command_join_args(argc, argv, first, &query);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "query", query.data);
    cJSON_AddNumberToObject(req, "k", (double)k);
    if (collection)
        cJSON_AddStringToObject(req, "collection", collection);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    buf_free(&query);

    buf_t answer = BUF_INIT;
    char err[512] = "";
    long status = command_http_post("/api/context", body, &answer, err, sizeof err);
    free(body);
    cJSON *j = answer.len ? cJSON_ParseWithLength(answer.data, answer.len) : NULL;
    int rc = 0;
    if (status == 0) {
        fprintf(stderr, "lca search: %s\n", err);
        rc = 1;
    } else if (status != 200) {
        fprintf(stderr, "lca search: %s\n", error_message(j));
        rc = 1;
    } else {
        const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(j, "chunks"), *c;
        if (cJSON_GetArraySize(chunks) == 0)
            printf("nothing found\n");
        cJSON_ArrayForEach(c, chunks) {
            const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "path"));
            const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "text"));
            printf("%s:%d-%d  (%.2f)\n", path ? path : "?",
                   (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "start_line")),
                   (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "end_line")),
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "score")));
            const char *p = text ? text : "";
            for (long n = 0; n < lines && *p; n++) {
                const char *nl = strchr(p, '\n');
                int len = nl ? (int)(nl - p) : (int)strlen(p);
                printf("    %.*s\n", len > 110 ? 110 : len, p);
                p = nl ? nl + 1 : p + len;
            }
        }
        printf("(collection %s, %.1f ms)\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "collection")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "elapsed_ms")));
    }
    cJSON_Delete(j);
    buf_free(&answer);
    return rc;
}
