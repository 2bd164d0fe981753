/*
 * The integration tests' HTTP client (libcurl, one easy handle per request
 * unless the caller keeps one for keep-alive).
 *
 * A reply keeps its status, the headers the tests look at, and its body
 * split into non-empty lines as they arrive (NDJSON and SSE streams), with
 * each line's arrival time; a body that does not end in a newline (a JSON
 * answer) gives its last line too.  A request can close its connection, or
 * kill -9 a process, after a number of data lines: how the tests make a
 * client or a worker go away in the middle of a stream.
 *
 * The including test sets http_base (the gateway's URL) before its first
 * request; a request may name another base.
 */
#ifndef LCA_TEST_HTTP_H
#define LCA_TEST_HTTP_H

#include "proto/base/buf.h"
#include "tests/proc.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <strings.h>

#define HTTP_MAX_LINES 256

static const char *http_base = "";

typedef struct {
    const char *method; /* NULL: POST when body, else GET */
    const char *base;   /* NULL: http_base */
    const char *path;
    const char *body;       /* NULL: none */
    size_t body_len;        /* 0: strlen(body) */
    const char *accept;     /* Accept header, or NULL */
    const char *auth;       /* Authorization header, or NULL */
    const char *headers[6]; /* more "Name: value" lines, NULL-terminated */
    bool http2;             /* cleartext HTTP/2 with prior knowledge */
    int timeout_ms;         /* 0: 10 s */
    int abort_after;        /* close the connection after this many data lines (0: never) */
    pid_t kill_after_pid;   /* kill -9 this process after kill_after data lines */
    int kill_after;
    CURL *handle; /* reuse (keep-alive); NULL: a fresh one */
} http_request_t;

typedef struct {
    CURLcode rc;
    long status;
    long version;  /* CURL_HTTP_VERSION_* of the response */
    long connects; /* new connections made for this request */
    char content_type[128];
    char context[2100];     /* X-LCA-Context (at most 2 KB) */
    char allow_origin[256]; /* Access-Control-Allow-Origin */
    bool has_context;
    buf_t body;
    size_t scanned;
    int nlines;
    char *lines[HTTP_MAX_LINES];
    double line_ms[HTTP_MAX_LINES]; /* arrival, epoch ms */
    int data_lines;                 /* lines that carry JSON ({...} or data: {...}) */
    int abort_after, kill_after;
    pid_t kill_pid;
    double aborted_ms;                 /* when the test closed the connection, epoch ms */
    int64_t started_ms, first_byte_ms; /* proc_now_ms() */
} http_reply_t;

/* Wall-clock milliseconds: comparable with the fake Ollama's event times. */
static inline double http_now_real_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline void http_reply_free(http_reply_t *r) {
    for (int i = 0; i < r->nlines; i++)
        free(r->lines[i]);
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* Keeps one line; false when the request should stop here. */
static inline bool http_add_line(http_reply_t *r, const char *start, size_t len, double t) {
    if (len == 0 || r->nlines == HTTP_MAX_LINES)
        return true;
    r->lines[r->nlines] = strndup(start, len);
    r->line_ms[r->nlines++] = t;
    if (start[0] == '{' || (len > 7 && strncmp(start, "data: {", 7) == 0))
        r->data_lines++;
    if (r->kill_after && r->data_lines == r->kill_after) {
        kill(r->kill_pid, SIGKILL);
        r->kill_after = 0;
    }
    if (r->abort_after && r->data_lines >= r->abort_after) {
        r->aborted_ms = http_now_real_ms();
        return false;
    }
    return true;
}

static inline size_t http_on_body(char *p, size_t size, size_t n, void *arg) {
    http_reply_t *r = arg;
    double t = http_now_real_ms();
    if (!r->first_byte_ms)
        r->first_byte_ms = proc_now_ms();
    buf_append(&r->body, p, size * n);
    for (;;) {
        char *start = r->body.data + r->scanned;
        char *nl = memchr(start, '\n', r->body.len - r->scanned);
        if (!nl)
            break;
        size_t len = (size_t)(nl - start);
        r->scanned += len + 1;
        if (!http_add_line(r, start, len, t))
            return 0; /* curl closes the connection */
    }
    return size * n;
}

static inline void http_header_value(const char *p, size_t len, size_t name_len, char *out,
                                     size_t size) {
    const char *v = p + name_len;
    while (*v == ' ')
        v++;
    size_t vlen = len - (size_t)(v - p);
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    snprintf(out, size, "%.*s", (int)vlen, v);
}

static inline size_t http_on_header(char *p, size_t size, size_t n, void *arg) {
    http_reply_t *r = arg;
    size_t len = size * n;
    if (len > 13 && strncasecmp(p, "content-type:", 13) == 0)
        http_header_value(p, len, 13, r->content_type, sizeof r->content_type);
    if (len > 28 && strncasecmp(p, "access-control-allow-origin:", 28) == 0)
        http_header_value(p, len, 28, r->allow_origin, sizeof r->allow_origin);
    if (len > 14 && strncasecmp(p, "x-lca-context:", 14) == 0) {
        http_header_value(p, len, 14, r->context, sizeof r->context);
        r->has_context = true;
    }
    return len;
}

static inline void http_request(const http_request_t *q, http_reply_t *r) {
    memset(r, 0, sizeof *r);
    r->abort_after = q->abort_after;
    r->kill_after = q->kill_after;
    r->kill_pid = q->kill_after_pid;
    CURL *c = q->handle ? q->handle : curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s%s", q->base ? q->base : http_base, q->path);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char line[300];
    if (q->accept) {
        snprintf(line, sizeof line, "Accept: %s", q->accept);
        headers = curl_slist_append(headers, line);
    }
    if (q->auth) {
        snprintf(line, sizeof line, "Authorization: %s", q->auth);
        headers = curl_slist_append(headers, line);
    }
    for (int i = 0; i < 6 && q->headers[i]; i++)
        headers = curl_slist_append(headers, q->headers[i]);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(q->timeout_ms ? q->timeout_ms : 10000));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
                     q->http2 ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                              : (long)CURL_HTTP_VERSION_1_1);
    if (q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                         (long)(q->body_len ? q->body_len : strlen(q->body)));
    }
    if (q->method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (q->method && strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    r->started_ms = proc_now_ms();
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &r->version);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r->connects);
    curl_slist_free_all(headers);
    if (!q->handle)
        curl_easy_cleanup(c);
    if (r->rc == CURLE_OK && r->scanned < r->body.len) /* a last line without '\n' */
        http_add_line(r, r->body.data + r->scanned, r->body.len - r->scanned, http_now_real_ms());
}

static inline cJSON *http_body_json(const http_reply_t *r) {
    return r->body.len ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
}

/* The text of an NDJSON line (message.content or response), an SSE event
 * (choices[0].delta.content or choices[0].text) or a JSON answer
 * (choices[0].message.content); NULL for anything else.  Caller frees. */
static inline char *http_line_text(const char *line) {
    if (strncmp(line, "data: ", 6) == 0)
        line += 6;
    cJSON *j = cJSON_Parse(line);
    const cJSON *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "message"), "content");
    if (!t)
        t = cJSON_GetObjectItemCaseSensitive(j, "response");
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    if (!t)
        t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "delta"),
                                             "content");
    if (!t)
        t = cJSON_GetObjectItemCaseSensitive(choice, "text");
    if (!t)
        t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "message"),
                                             "content");
    char *s = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
    cJSON_Delete(j);
    return s;
}

/* The texts of all lines of r, joined, into out. */
static inline void http_joined_text(const http_reply_t *r, char *out, size_t size) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < r->nlines; i++) {
        char *t = http_line_text(r->lines[i]);
        if (t && n < size)
            n += (size_t)snprintf(out + n, size - n, "%s", t);
        free(t);
    }
}

#endif
