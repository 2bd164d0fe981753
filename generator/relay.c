/*
 * The "generate" request handler (see relay.h).
 *
 * One exchange_t lives on the job thread's stack for the length of a
 * request.  Ollama's body reaches on_body() piece by piece from inside
 * libcurl; for a 2xx stream the pieces go through the NDJSON splitter and
 * each complete line is checked (is it an error, is it the "done" line) and
 * sent on as a PARTIAL before the next read, so nothing waits behind
 * anything else.  Everything else (a non-streamed answer, any non-2xx
 * answer) is collected and decided on when the transfer ends.
 *
 * The cancel hook only flags the call and wakes its poll; it is removed
 * before the call is freed, so it never touches freed memory even when a
 * CANCEL arrives as the request ends.
 */
#include "generator/relay.h"

#include "generator/ndjson.h"
#include "proto/base/buf.h"
#include "proto/base/log.h"
#include "proto/wire.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 1024
#define ERROR_BODY_MAX (64u << 10) /* kept of a non-2xx body, for its message */
#define LINE_MAX_LEN PROTO_PAYLOAD_MAX

typedef struct {
    proto_job_t *job;
    ollama_call_t *call;
    bool stream;       /* the caller wants lines as PARTIALs */
    ndjson_t *lines;   /* splitter of a 2xx stream */
    bool done;         /* a line said "done": true */
    bool done_field;   /* some line had a "done" member (chat, generate) */
    char *error;       /* message of an {"error": ...} line, heap */
    size_t lines_sent; /* PARTIALs sent */
    int send_rc;       /* first failed send (job cancelled), else 0 */
    bool too_big;      /* the answer or one line passed the size limit */
    buf_t body;        /* collected body (non-stream, or non-2xx) */
} exchange_t;

static bool status_ok(long status) {
    return status >= 200 && status < 300;
}

/* ---- error messages ---- */

void relay_error_message(const char *body, size_t len, long status, char *out, size_t size) {
    if (size > 0 && !ollama_error_text(body, len, out, size))
        snprintf(out, size, "Ollama answered HTTP %ld", status);
}

/* ---- the body as it arrives ---- */

static int on_line(void *arg, const char *line, size_t len) {
    exchange_t *ex = arg;
    cJSON *json = cJSON_ParseWithLength(line, len);
    if (cJSON_IsObject(json)) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
        if (cJSON_IsObject(error))
            error = cJSON_GetObjectItemCaseSensitive(error, "message");
        if (cJSON_IsString(error)) {
            free(ex->error);
            ex->error = strdup(error->valuestring[0] ? error->valuestring : "Ollama failed");
            cJSON_Delete(json);
            return -1; /* Ollama's last word; end here */
        }
        const cJSON *done = cJSON_GetObjectItemCaseSensitive(json, "done");
        ex->done_field |= done != NULL;
        ex->done |= cJSON_IsTrue(done);
    }
    cJSON_Delete(json);
    int rc = proto_job_partial(ex->job, NULL, line, len);
    if (rc < 0) {
        ex->send_rc = rc;
        return rc;
    }
    ex->lines_sent++;
    return 0;
}

static int body_append(exchange_t *ex, const char *data, size_t len, size_t limit) {
    if (ex->body.len + len > limit) {
        if (limit == ERROR_BODY_MAX) { /* the start of an error body is enough */
            len = limit - ex->body.len;
        } else {
            ex->too_big = true;
            return -1;
        }
    }
    return buf_append(&ex->body, data, len) == 0 ? 0 : -1;
}

static int on_body(void *arg, const char *data, size_t len) {
    exchange_t *ex = arg;
    long status = ollama_call_status(ex->call);
    if (!status_ok(status))
        return body_append(ex, data, len, ERROR_BODY_MAX);
    if (!ex->stream)
        return body_append(ex, data, len, PROTO_PAYLOAD_MAX);
    int rc = ndjson_feed(ex->lines, data, len, on_line, ex);
    if (rc == -E2BIG)
        ex->too_big = true;
    return rc;
}

static void on_cancel(void *arg) {
    ollama_call_cancel(arg);
}

/* ---- the request ---- */

typedef struct {
    const char *method;
    const char *path;
    bool stream;
    int timeout_ms;
    char rid[64];
} request_t;

static bool path_valid(const char *path) {
    size_t n = strlen(path);
    if (n == 0 || n > PATH_MAX_LEN || path[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f)
            return false;
    return true;
}

/* Reads the header; 0, or -EINVAL with a message in why. */
static int request_parse(proto_job_t *job, bool has_payload, request_t *r, const char **why) {
    const cJSON *h = proto_job_json(job);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(h, "rid");
    size_t n = 0;
    if (cJSON_IsString(rid))
        for (const char *p = rid->valuestring; *p && n + 1 < sizeof r->rid; p++)
            if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
                r->rid[n++] = *p;
    r->rid[n] = '\0';
    if (n == 0)
        snprintf(r->rid, sizeof r->rid, "g%" PRIu64, proto_job_id(job));

    const cJSON *method = cJSON_GetObjectItemCaseSensitive(h, "method");
    r->method = has_payload ? "POST" : "GET";
    if (cJSON_IsString(method))
        r->method = method->valuestring;
    else if (method) {
        *why = "\"method\" must be a string";
        return -EINVAL;
    }
    if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "GET") != 0 &&
        strcmp(r->method, "HEAD") != 0) {
        *why = "\"method\" must be POST, GET or HEAD";
        return -EINVAL;
    }
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(h, "path");
    if (!cJSON_IsString(path) || !path_valid(path->valuestring)) {
        *why = "\"path\" must be an absolute path such as /api/chat";
        return -EINVAL;
    }
    r->path = path->valuestring;
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(h, "stream");
    r->stream = cJSON_IsTrue(stream);
    if (stream && !cJSON_IsBool(stream)) {
        *why = "\"stream\" must be true or false";
        return -EINVAL;
    }
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(h, "timeout_ms");
    r->timeout_ms = RELAY_DEFAULT_TIMEOUT_MS;
    if (cJSON_IsNumber(timeout) && timeout->valuedouble >= 1 && timeout->valuedouble <= 86400000.0)
        r->timeout_ms = (int)timeout->valuedouble;
    /* The client gives up at the same deadline, counted from before the
     * request was queued; end a little earlier so that our own message (and
     * a closed upstream connection) is what the user gets. */
    int margin = r->timeout_ms / 20 < 500 ? r->timeout_ms / 20 : 500;
    r->timeout_ms -= margin;
    return 0;
}

/* Sends FINAL for a non-streamed 2xx answer. */
static void send_whole(exchange_t *ex, const request_t *r) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddNumberToObject(h, "status", (double)ollama_call_status(ex->call));
    const char *type = ollama_call_content_type(ex->call);
    if (type[0])
        cJSON_AddStringToObject(h, "content_type", type);
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text) {
        proto_job_error(ex->job, 500, "generator out of memory");
        return;
    }
    bool head = strcmp(r->method, "HEAD") == 0;
    proto_job_final(ex->job, text, head ? NULL : ex->body.data ? ex->body.data : "", ex->body.len);
    free(text);
}

/* Ends the job after the transfer ended with rc; returns the status told. */
static int conclude(exchange_t *ex, const request_t *r, int rc, const char *url, char *message,
                    size_t size) {
    long status = ollama_call_status(ex->call);
    message[0] = '\0';
    if (rc == -ECANCELED || ex->send_rc < 0 || proto_job_cancelled(ex->job)) {
        snprintf(message, size, "cancelled by the client");
        proto_job_error(ex->job, 499, message); /* dropped: nobody waits */
        return 499;
    }
    if (ex->error) {
        snprintf(message, size, "%s", ex->error);
        proto_job_error(ex->job, 500, message);
        return 500;
    }
    if (ex->too_big) {
        snprintf(message, size, "Ollama's answer is larger than the generator passes on (%u MiB)",
                 PROTO_PAYLOAD_MAX >> 20);
        proto_job_error(ex->job, 502, message);
        return 502;
    }
    if ((rc == 0 || rc == -EPIPE) && status != 0 && !status_ok(status)) {
        relay_error_message(ex->body.data, ex->body.len, status, message, size);
        proto_job_error(ex->job, (int)status, message);
        return (int)status;
    }
    if (rc == 0 && ex->stream) {
        if (ndjson_finish(ex->lines, on_line, ex) < 0)
            return conclude(ex, r, -ECONNABORTED, url, message, size);
        /* Chat and generate streams end with "done": true; streams without
         * a "done" member at all (/api/pull's progress) end with the body. */
        if (!ex->done && (ex->done_field || ex->lines_sent == 0)) {
            snprintf(message, size, "Ollama closed the stream before it finished");
            proto_job_error(ex->job, 502, message);
            return 502;
        }
        proto_job_final(ex->job, "{\"status\":200}", NULL, 0);
        return 200;
    }
    if (rc == 0) {
        send_whole(ex, r);
        return (int)status;
    }
    switch (rc) {
    case -EPIPE:
        if (ex->stream && ex->done) { /* all said; only the framing was lost */
            proto_job_final(ex->job, "{\"status\":200}", NULL, 0);
            return 200;
        }
        snprintf(message, size, "%s",
                 ex->stream && status != 0 ? "Ollama closed the stream before it finished"
                 : status != 0 ? "Ollama closed the connection before its answer was complete"
                               : "Ollama closed the connection without answering");
        proto_job_error(ex->job, 502, message);
        return 502;
    case -ECONNREFUSED:
        snprintf(message, size,
                 "Ollama is not reachable at %s: start it with `ollama serve` or set OLLAMA_HOST",
                 url);
        proto_job_error(ex->job, 502, message);
        return 502;
    case -ETIMEDOUT:
        snprintf(message, size, "Ollama at %s did not finish within %d ms", url, r->timeout_ms);
        proto_job_error(ex->job, 504, message);
        return 504;
    default:
        snprintf(message, size, "the request to Ollama at %s failed: %s", url,
                 ollama_call_error(ex->call)[0] ? ollama_call_error(ex->call) : "unknown error");
        proto_job_error(ex->job, 502, message);
        return 502;
    }
}

void relay_handle_job(proto_job_t *job, void *arg) {
    ollama_t *ollama = arg;
    size_t payload_len = 0;
    const void *payload = proto_job_payload(job, &payload_len);
    request_t r = {0};
    const char *why = NULL;
    if (request_parse(job, payload != NULL, &r, &why) != 0) {
        log_warn("req=%s rejected: %s", r.rid, why);
        proto_job_error(job, 400, why);
        return;
    }
    exchange_t ex = {.job = job, .stream = r.stream};
    if (r.stream && !(ex.lines = ndjson_new(LINE_MAX_LEN))) {
        proto_job_error(job, 503, "generator out of memory");
        return;
    }
    ex.call = ollama_call_new(ollama, &(ollama_request_t){.method = r.method,
                                                          .path = r.path,
                                                          .body = payload,
                                                          .body_len = payload_len,
                                                          .timeout_ms = r.timeout_ms,
                                                          .on_body = on_body,
                                                          .arg = &ex});
    if (!ex.call) {
        ndjson_destroy(&ex.lines);
        proto_job_error(job, 503, "generator out of memory");
        return;
    }
    int64_t start = clock_ms();
    proto_job_on_cancel(job, on_cancel, ex.call);
    int rc = ollama_call_run(ex.call);
    proto_job_on_cancel(job, NULL, NULL); /* waits out a hook in progress */

    char message[512];
    int told = conclude(&ex, &r, rc, ollama_url(ollama), message, sizeof message);
    long long took = (long long)(clock_ms() - start);
    long long first = (long long)ollama_call_first_byte_ms(ex.call);
    if (told >= 200 && told < 300)
        log_info("req=%s %s %s%s -> %d, %zu lines, first byte %lld ms, %lld ms", r.rid, r.method,
                 r.path, r.stream ? " stream" : "", told, ex.lines_sent, first, took);
    else if (told == 499)
        log_info("req=%s %s %s cancelled after %zu lines, %lld ms; upstream closed", r.rid,
                 r.method, r.path, ex.lines_sent, took);
    else
        log_warn("req=%s %s %s -> ERROR %d after %zu lines, %lld ms: %s", r.rid, r.method, r.path,
                 told, ex.lines_sent, took, message);
    ollama_call_destroy(&ex.call);
    ndjson_destroy(&ex.lines);
    free(ex.error);
    buf_free(&ex.body);
}
