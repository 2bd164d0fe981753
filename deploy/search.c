/*
 * `lca search`: what the assistant would know for a question, in the
 * terminal — the best chunks (path:lines and a few lines of code), asked of
 * the gateway's POST /api/context.  Works before Ollama is running.
 */
#include "deploy/commands.h"
#include "deploy/http.h"
#include "proto/base/buf.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABOUT                                                                                      \
    "Prints the chunks of the index that best match the text: what the assistant will put into "   \
    "a prompt about it."

int command_search(int argc, char **argv) {
    const char *collection = NULL;
    long k = 8, lines = 4;
    const setting_t settings[] = {
        {"collection", 0, NULL, SETTING_TEXT, "NAME", "the repository, when several are indexed",
         .out = &collection},
        {NULL, 'k', NULL, SETTING_NUMBER, "N", "chunks to print", .min = 1, .max = 100, .out = &k},
        {"lines", 0, NULL, SETTING_NUMBER, "N", "lines of each chunk to print", .min = 0,
         .max = LONG_MAX, .out = &lines},
        COMMAND_HTTP_SETTINGS,
    };
    const settings_spec_t spec = {"lca search", "[options] TEXT", ABOUT, SETTINGS_OF(settings),
                                  COMMAND_WORDS("TEXT")};
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
    command_http_result_t result;
    command_http(
        &(command_http_request_t){
            .path = "/api/context", .body = body, .timeout_ms = 30000, .answer = &answer},
        &result);
    free(body);
    cJSON *j = answer.len ? cJSON_ParseWithLength(answer.data, answer.len) : NULL;
    int rc = 0;
    const char *message = command_http_error(j);
    if (!result.complete) {
        fprintf(stderr, "lca search: cannot reach lca at %s (%s): is `lca up` running?\n",
                result.url, result.error);
        rc = 1;
    } else if (result.status != 200) {
        fprintf(stderr, "lca search: %s\n", message ? message : "unknown error");
        rc = 1;
    } else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "chunks")) ||
               !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "collection"))) {
        /* Something else answered on the port: not "nothing found". */
        fprintf(stderr, "lca search: %s did not answer as lca does\n", result.url);
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
