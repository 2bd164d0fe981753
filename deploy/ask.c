/*
 * `lca ask`: a chat from the terminal, through the gateway, with the
 * repository's code in the prompt — the same path an IDE's chat takes.
 *
 * It POSTs one user message to /api/chat (streaming NDJSON), prints each
 * token the moment its line arrives, and ends with the sources the gateway
 * put into the prompt (its X-LCA-Context header).  An error before the
 * answer (unknown collection or model, Ollama down) is the gateway's
 * message on stderr and exit status 1; an error line in the middle of the
 * stream ends the answer the same way.
 */
#include "deploy/commands.h"
#include "proto/base/buf.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The state of one streamed answer. */
typedef struct {
    CURL *curl;
    long status;        /* HTTP status, known once the headers are in */
    buf_t line;         /* the NDJSON line being received */
    buf_t error_body;   /* the whole body of a non-200 answer */
    char *context;      /* X-LCA-Context, or NULL */
    bool printed;       /* some text went to stdout */
    bool ends_newline;  /* the last text printed ended with '\n' */
    char *stream_error; /* an {"error": ...} line in the stream */
} answer_t;

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
    answer_t *a = arg;
    size_t len = size * n;
    static const char name[] = "x-lca-context:";
    if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vlen = len - (sizeof name - 1);
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        free(a->context);
        a->context = strndup(v, vlen);
    } else if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new status line (after a 100 Continue, say): forget old headers. */
        free(a->context);
        a->context = NULL;
    }
    return len;
}

/* The message of an error object in either API shape, or NULL. */
static const char *error_text(const cJSON *j) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* One NDJSON line of a 200 answer: print its token, or keep its error. */
static void on_line(answer_t *a, const char *line, size_t len) {
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j)
        return; /* not JSON: nothing a chat stream carries */
    const char *error = error_text(j);
    const cJSON *content =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "message"), "content");
    if (error && !a->stream_error) {
        a->stream_error = strdup(error);
    } else if (cJSON_IsString(content) && content->valuestring[0]) {
        size_t n = strlen(content->valuestring);
        fwrite(content->valuestring, 1, n, stdout);
        fflush(stdout);
        a->printed = true;
        a->ends_newline = content->valuestring[n - 1] == '\n';
    }
    cJSON_Delete(j);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    answer_t *a = arg;
    size_t len = size * n;
    if (!a->status) /* the headers are in before the first body byte */
        curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &a->status);
    if (a->status != 200) {
        buf_append(&a->error_body, data, len);
        return len;
    }
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n') {
            buf_append(&a->line, data + i, 1);
            continue;
        }
        if (a->line.len)
            on_line(a, a->line.data, a->line.len);
        buf_reset(&a->line);
    }
    return len;
}

/* Prints the sources from X-LCA-Context: "<n> chunks: path:a-b, path:c-d". */
static void print_sources(const char *context) {
    if (!context || !*context) {
        printf("sources: none (no repository context; is a repository indexed?)\n");
        return;
    }
    const char *list = strstr(context, ": ");
    long count = strtol(context, NULL, 10);
    if (!list || count <= 0) {
        printf("sources: none\n");
        return;
    }
    printf("sources (%ld):\n", count);
    for (const char *p = list + 2; *p;) {
        size_t n = strcspn(p, ",");
        printf("  %.*s\n", (int)n, p);
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
}

#define ABOUT                                                                                      \
    "Asks the model a question about the indexed repository and streams the answer, "              \
    "then lists the code it was given (path:lines)."

int command_ask(int argc, char **argv) {
    const char *collection = NULL, *model = "llama3.2";
    const setting_t settings[] = {
        {"collection", 'c', NULL, SETTING_TEXT, "NAME", "the repository, when several are indexed",
         .out = &collection},
        {"model", 'm', "LCA_CHAT_MODEL", SETTING_TEXT, "M", "the model to ask", .out = &model},
        {NULL, 0, "LCA_URL", SETTING_TEXT, NULL, "the gateway",
         .shown = "http://127.0.0.1:$LCA_PORT"},
        {NULL, 0, "LCA_API_KEY", SETTING_TEXT, NULL, "the gateway's API key, when it has one"},
    };
    const settings_spec_t spec = {"lca ask",
                                  "[options] QUESTION",
                                  ABOUT,
                                  .settings = settings,
                                  .count = sizeof settings / sizeof settings[0],
                                  .operands = "QUESTION",
                                  .min_operands = 1,
                                  .max_operands = -1};
    int first = 0, read = settings_read(&spec, argc, argv, &first);
    if (read != SETTINGS_GO_ON)
        return read;
    if (!*model) {
        fprintf(stderr, "lca ask: --model wants a model name\n");
        return 2;
    }
    buf_t question = BUF_INIT;
    command_join_args(argc, argv, first, &question);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "model", model);
    cJSON *message = cJSON_CreateObject();
    cJSON_AddStringToObject(message, "role", "user");
    cJSON_AddStringToObject(message, "content", question.data ? question.data : "");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "messages"), message);
    cJSON_AddTrueToObject(req, "stream");
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    buf_free(&question);

    char url[512];
    const char *base = command_env("LCA_URL", NULL);
    if (base)
        snprintf(url, sizeof url, "%s/api/chat", base);
    else
        snprintf(url, sizeof url, "http://127.0.0.1:%s/api/chat", command_env("LCA_PORT", "11435"));
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/x-ndjson");
    char line[600];
    const char *key = command_env("LCA_API_KEY", NULL);
    if (key) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, line);
    }
    if (collection) {
        snprintf(line, sizeof line, "X-LCA-Collection: %s", collection);
        headers = curl_slist_append(headers, line);
    }
    answer_t a = {.line = BUF_INIT, .error_body = BUF_INIT};
    CURL *curl = curl_easy_init();
    a.curl = curl;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body);
    if (a.line.len && status == 200) /* a last line without its newline */
        on_line(&a, a.line.data, a.line.len);
    if (a.printed && !a.ends_newline)
        putchar('\n');

    int exit_status = 0;
    if (rc != CURLE_OK && !a.printed && status == 0) {
        fprintf(stderr, "lca ask: cannot reach lca at %s (%s): is `lca up` running?\n", url,
                curl_easy_strerror(rc));
        exit_status = 1;
    } else if (status != 200) {
        cJSON *j =
            a.error_body.len ? cJSON_ParseWithLength(a.error_body.data, a.error_body.len) : NULL;
        const char *message = error_text(j);
        fprintf(stderr, "lca ask: %s (HTTP %ld)\n",
                message ? message : (a.error_body.len ? a.error_body.data : "no answer"), status);
        cJSON_Delete(j);
        exit_status = 1;
    } else if (a.stream_error) {
        fprintf(stderr, "lca ask: the answer broke off: %s\n", a.stream_error);
        exit_status = 1;
    } else if (rc != CURLE_OK) {
        fprintf(stderr, "lca ask: the answer broke off: %s\n", curl_easy_strerror(rc));
        exit_status = 1;
    }
    if (status == 200) {
        printf("\n");
        print_sources(a.context);
    }
    fflush(stdout);
    buf_free(&a.line);
    buf_free(&a.error_body);
    free(a.context);
    free(a.stream_error);
    return exit_status;
}
