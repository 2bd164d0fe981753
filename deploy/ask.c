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
#include "deploy/http.h"
#include "proto/base/buf.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The state of one streamed answer. */
typedef struct {
    buf_t line;         /* the NDJSON line being received */
    buf_t error_body;   /* the whole body of a non-200 answer */
    char *context;      /* X-LCA-Context, or NULL */
    bool printed;       /* some text went to stdout */
    bool ends_newline;  /* the last text printed ended with '\n' */
    char *stream_error; /* an {"error": ...} line in the stream */
} answer_t;

static void on_header(void *arg, const char *data, size_t len) {
    answer_t *a = arg;
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
}

/* One NDJSON line of a 200 answer: print its token, or keep its error. */
static void on_line(answer_t *a, const char *line, size_t len) {
    if (a->stream_error)
        return; /* the answer ended at its error line */
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j)
        return; /* not JSON: nothing a chat stream carries */
    const char *error = command_http_error(j);
    const cJSON *content =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "message"), "content");
    if (error) {
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

static bool on_body(void *arg, long status, const char *data, size_t len) {
    answer_t *a = arg;
    if (status != 200) {
        buf_append(&a->error_body, data, len);
        return true;
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
    return true;
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
        COMMAND_HTTP_SETTINGS,
    };
    const settings_spec_t spec = {"lca ask", "[options] QUESTION", ABOUT, SETTINGS_OF(settings),
                                  COMMAND_WORDS("QUESTION")};
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

    answer_t a = {.line = BUF_INIT, .error_body = BUF_INIT};
    command_http_result_t result;
    command_http(&(command_http_request_t){.path = "/api/chat",
                                           .body = body,
                                           .accept = "application/x-ndjson",
                                           .collection = collection,
                                           .on_body = on_body,
                                           .on_header = on_header,
                                           .arg = &a},
                 &result);
    free(body);
    long status = result.status;
    if (a.line.len && status == 200) /* a last line without its newline */
        on_line(&a, a.line.data, a.line.len);
    if (a.printed && !a.ends_newline)
        putchar('\n');

    int exit_status = 0;
    if (!result.complete && !a.printed && status == 0) {
        fprintf(stderr, "lca ask: cannot reach lca at %s (%s): is `lca up` running?\n", result.url,
                result.error);
        exit_status = 1;
    } else if (status != 200) {
        cJSON *j =
            a.error_body.len ? cJSON_ParseWithLength(a.error_body.data, a.error_body.len) : NULL;
        const char *message = command_http_error(j);
        fprintf(stderr, "lca ask: %s (HTTP %ld)\n",
                message ? message : (a.error_body.len ? a.error_body.data : "no answer"), status);
        cJSON_Delete(j);
        exit_status = 1;
    } else if (a.stream_error) {
        fprintf(stderr, "lca ask: the answer broke off: %s\n", a.stream_error);
        exit_status = 1;
    } else if (!result.complete) {
        fprintf(stderr, "lca ask: the answer broke off: %s\n", result.error);
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
