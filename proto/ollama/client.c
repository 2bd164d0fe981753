/*
 * Ollama HTTP client (see client.h).
 *
 * Each thread that makes calls owns one multi handle and one easy handle,
 * kept in a pthread key between calls: the multi handle holds the connection
 * cache, so consecutive calls of a thread reuse their keep-alive connection.
 * A call adds the easy handle to the multi handle, then alternates
 * curl_multi_perform() and curl_multi_poll() until the transfer ends, the
 * deadline passes or the cancel flag is set.  Removing an unfinished transfer
 * from the multi handle makes libcurl close its connection, which is how
 * Ollama learns that the client has gone (it then stops generating).
 *
 * Invariants: a call's `multi` and `easy` belong to the thread that created
 * the call; `cancelled` only goes from false to true; curl_multi_wakeup() is
 * the one libcurl function called from another thread.
 */
#include "proto/ollama/client.h"

#include "proto/base/clock.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_MS 10000
#define POLL_SLICE_MS 1000

struct ollama {
    char *url;                       /* base URL, no trailing '/' */
    char *agent;                     /* User-Agent */
    char *noproxy;                   /* hosts reached without a proxy */
    struct curl_slist *post_headers; /* headers of a POST */
    struct curl_slist *headers;      /* headers of GET and HEAD */
    pthread_key_t handles_key;       /* -> thread_handles_t of the calling thread */
};

typedef struct {
    CURLM *multi; /* the thread's connection cache lives here */
    CURL *easy;   /* reset and reused by each call */
} thread_handles_t;

struct ollama_call {
    ollama_t *ollama;
    ollama_request_t request;
    CURLM *multi; /* the creating thread's */
    CURL *easy;
    char *url;
    atomic_bool cancelled;
    bool stopped;                /* on_body asked to stop */
    bool sent;                   /* the request went out whole */
    bool timed_out;              /* the run ended on a timeout */
    long status;                 /* HTTP status; 0 until known */
    char content_type[128];      /* "" until known */
    char error[CURL_ERROR_SIZE]; /* libcurl's error text */
    int64_t started_ms;          /* clock_ms() when the run began */
    int64_t first_byte_ms;       /* -1 until a body byte arrives */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void) {
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- the client ---- */

static void thread_handles_free(void *p) {
    thread_handles_t *h = p;
    if (!h)
        return;
    curl_easy_cleanup(h->easy);
    curl_multi_cleanup(h->multi);
    free(h);
}

static thread_handles_t *thread_handles(ollama_t *o) {
    thread_handles_t *h = pthread_getspecific(o->handles_key);
    if (h)
        return h;
    h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->multi = curl_multi_init();
    h->easy = curl_easy_init();
    if (!h->multi || !h->easy || pthread_setspecific(o->handles_key, h) != 0) {
        thread_handles_free(h);
        return NULL;
    }
    return h;
}

/* Frees what ollama_new() allocated, but the thread key. */
static void client_free(ollama_t *o) {
    curl_slist_free_all(o->headers);
    curl_slist_free_all(o->post_headers);
    free(o->agent);
    free(o->noproxy);
    free(o->url);
    free(o);
}

ollama_t *ollama_new(const char *host, const char *agent, char *err, size_t err_len) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        snprintf(err, err_len, "libcurl failed to start: %s", curl_easy_strerror(curl_init_result));
        return NULL;
    }
    if (!host)
        host = getenv("OLLAMA_HOST");
    ollama_t *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    int rc = ollama_url_from_host(host, &o->url);
    if (rc != 0) {
        snprintf(err, err_len,
                 rc == -EINVAL ? "bad Ollama address \"%s\" (want [http[s]://]host[:port])"
                               : "out of memory",
                 host);
        free(o);
        return NULL;
    }
    /* Like Ollama's own client (Go's ProxyFromEnvironment), never send
     * loopback traffic through an http_proxy; keep the user's no_proxy list
     * ("*" alone means no proxy at all). */
    const char *no_proxy = getenv("no_proxy");
    if (!no_proxy || !*no_proxy)
        no_proxy = getenv("NO_PROXY");
    if (no_proxy && strcmp(no_proxy, "*") == 0)
        o->noproxy = strdup("*");
    else if (asprintf(&o->noproxy, "localhost,127.0.0.1,::1%s%s", no_proxy && *no_proxy ? "," : "",
                      no_proxy ? no_proxy : "") < 0)
        o->noproxy = NULL;
    o->agent = strdup(agent ? agent : "lca");
    /* "Expect:" stops libcurl from waiting for "100 Continue" before sending
     * a large prompt: a round trip for nothing. */
    o->headers = curl_slist_append(NULL, "Expect:");
    o->post_headers = curl_slist_append(NULL, "Expect:");
    if (o->post_headers)
        o->post_headers = curl_slist_append(o->post_headers, "Content-Type: application/json");
    if (!o->noproxy || !o->agent || !o->headers || !o->post_headers ||
        pthread_key_create(&o->handles_key, thread_handles_free) != 0) {
        snprintf(err, err_len, "out of memory");
        client_free(o);
        return NULL;
    }
    return o;
}

const char *ollama_url(const ollama_t *self) {
    return self->url;
}

void ollama_destroy(ollama_t **self_p) {
    ollama_t *o = *self_p;
    if (!o)
        return;
    thread_handles_free(pthread_getspecific(o->handles_key));
    pthread_setspecific(o->handles_key, NULL);
    pthread_key_delete(o->handles_key);
    client_free(o);
    *self_p = NULL;
}

/* ---- one call ---- */

static void note_status(ollama_call_t *call) {
    long status = 0;
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
    call->status = status;
    const char *type = NULL;
    curl_easy_getinfo(call->easy, CURLINFO_CONTENT_TYPE, &type);
    snprintf(call->content_type, sizeof call->content_type, "%s", type ? type : "");
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg) {
    ollama_call_t *call = arg;
    size_t n = size * nmemb;
    if (call->first_byte_ms < 0) {
        call->first_byte_ms = clock_ms() - call->started_ms;
        note_status(call);
    }
    if (atomic_load(&call->cancelled))
        return 0; /* aborts the transfer */
    if (call->request.on_body && call->request.on_body(call->request.arg, data, n) < 0) {
        call->stopped = true;
        return 0;
    }
    return n;
}

ollama_call_t *ollama_call_new(ollama_t *o, const ollama_request_t *request) {
    const char *method = request->method;
    if (!method ||
        (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "POST") != 0))
        return NULL;
    thread_handles_t *h = thread_handles(o);
    if (!h)
        return NULL;
    ollama_call_t *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    call->ollama = o;
    call->request = *request;
    call->multi = h->multi;
    call->easy = h->easy;
    call->first_byte_ms = -1;
    if (asprintf(&call->url, "%s%s", o->url, request->path ? request->path : "/") < 0) {
        free(call);
        return NULL;
    }
    CURL *c = call->easy;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, call->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, o->noproxy);
    curl_easy_setopt(c, CURLOPT_USERAGENT, o->agent);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, call->error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, call);
    long timeout = request->timeout_ms > 0 ? request->timeout_ms : 1;
    long connect =
        request->connect_timeout_ms > 0 ? request->connect_timeout_ms : CONNECT_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < connect ? timeout : connect);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, o->post_headers);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request->body ? (const char *)request->body : "");
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, o->headers);
        if (strcmp(method, "HEAD") == 0)
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    return call;
}

static bool connected(ollama_call_t *call) {
    curl_off_t t = 0;
    curl_easy_getinfo(call->easy, CURLINFO_CONNECT_TIME_T, &t);
    return t > 0;
}

/* What a finished transfer's libcurl code means to the caller. */
static int result_of(ollama_call_t *call, CURLcode code) {
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_WRITE_ERROR:
        if (atomic_load(&call->cancelled))
            return -ECANCELED;
        return call->stopped ? -ECONNABORTED : -EIO;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT: /* only the connect timeout is libcurl's */
        call->timed_out = true;
        return connected(call) ? -ETIMEDOUT : -ECONNREFUSED;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return -EPIPE;
    default:
        return -EIO;
    }
}

int ollama_call_run(ollama_call_t *call) {
    if (atomic_load(&call->cancelled))
        return -ECANCELED;
    call->started_ms = clock_ms();
    int64_t deadline =
        call->started_ms + (call->request.timeout_ms > 0 ? call->request.timeout_ms : 1);
    if (curl_multi_add_handle(call->multi, call->easy) != CURLM_OK) {
        snprintf(call->error, sizeof call->error, "cannot start the transfer");
        return -EIO;
    }
    int rc = -EIO;
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(call->multi, &running);
        if (mc != CURLM_OK) {
            snprintf(call->error, sizeof call->error, "%s", curl_multi_strerror(mc));
            break;
        }
        if (running == 0) {
            int left = 0;
            CURLMsg *m;
            CURLcode code = CURLE_RECV_ERROR;
            while ((m = curl_multi_info_read(call->multi, &left)))
                if (m->msg == CURLMSG_DONE && m->easy_handle == call->easy)
                    code = m->data.result;
            rc = result_of(call, code);
            break;
        }
        if (atomic_load(&call->cancelled)) {
            rc = -ECANCELED;
            break;
        }
        int64_t now = clock_ms();
        if (now >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        int64_t wait = deadline - now < POLL_SLICE_MS ? deadline - now : POLL_SLICE_MS;
        mc = curl_multi_poll(call->multi, NULL, 0, (int)wait, NULL);
        if (mc != CURLM_OK) {
            snprintf(call->error, sizeof call->error, "%s", curl_multi_strerror(mc));
            break;
        }
    }
    if (call->status == 0)
        note_status(call); /* a HEAD, an answer without a body, or none */
    long sent = 0;
    curl_easy_getinfo(call->easy, CURLINFO_REQUEST_SIZE, &sent);
    call->sent = sent > 0;
    call->timed_out |= rc == -ETIMEDOUT;
    /* Removing an unfinished transfer closes its connection. */
    curl_multi_remove_handle(call->multi, call->easy);
    return rc;
}

void ollama_call_cancel(ollama_call_t *call) {
    if (!atomic_exchange(&call->cancelled, true))
        curl_multi_wakeup(call->multi);
}

long ollama_call_status(const ollama_call_t *call) {
    return call->status;
}

const char *ollama_call_content_type(const ollama_call_t *call) {
    return call->content_type;
}

const char *ollama_call_error(const ollama_call_t *call) {
    return call->error;
}

int64_t ollama_call_first_byte_ms(const ollama_call_t *call) {
    return call->first_byte_ms;
}

bool ollama_call_sent(const ollama_call_t *call) {
    return call->sent;
}

bool ollama_call_timed_out(const ollama_call_t *call) {
    return call->timed_out;
}

/* Copies text into out as one printable line, at most size-1 bytes. */
static void copy_line(const char *text, size_t len, char *out, size_t size) {
    while (len && (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t'))
        text++, len--;
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || c == '\r')
            break;
        out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

bool ollama_error_text(const char *body, size_t len, char *out, size_t size) {
    if (size == 0)
        return false;
    out[0] = '\0';
    cJSON *json = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
    if (cJSON_IsObject(error))
        error = cJSON_GetObjectItemCaseSensitive(error, "message");
    if (cJSON_IsString(error) && error->valuestring[0])
        snprintf(out, size, "%s", error->valuestring);
    else if (!cJSON_IsObject(json) && body && len)
        copy_line(body, len, out, size);
    cJSON_Delete(json);
    return out[0] != '\0';
}

void ollama_call_destroy(ollama_call_t **call_p) {
    ollama_call_t *call = *call_p;
    if (!call)
        return;
    /* The easy handle keeps pointers into the call; drop them. */
    curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, NULL);
    free(call->url);
    free(call);
    *call_p = NULL;
}
