/*
 * Two retriever shards over the real broker: lca-gateway hosts the broker,
 * two lca-retriever processes serve retrieve.0 and retrieve.1 on a
 * temporary data directory, and this test is the seeder and the gateway.
 * It writes files to the shard that owns them, searches both, deletes,
 * checks the counts, sends bad requests, and kills a retriever with SIGKILL
 * in the middle of a stream of writes to show that every acknowledged file
 * survives whole and no file is ever half there.
 *
 *   make build/tests/integration/retriever_test build/bin/lca-retriever build/bin/lca-gateway
 *   build/tests/integration/retriever_test [test names]
 */
#include "proto/base/buf.h"
#include "proto/client.h"
#include "proto/shard.h"
#include "tests/stack.h"

#include <cJSON.h>

#define DIM 16
#define SHARDS 2

static test_stack_t stack;

static const char *service_of(int shard) {
    static char name[4][SHARD_SERVICE_MAX];
    static int slot;
    return shard_service(shard, name[slot++ % 4]);
}

/* One request: 0 and the FINAL in *final (closed by the caller; NULL to
 * discard), or -EIO with the status. */
static int call(proto_client_t *c, int shard, const char *header, const void *payload, size_t len,
                proto_msg_t *final, int *status) {
    char err[512] = "";
    int st = 0;
    int rc = proto_client_call(c, service_of(shard), header, payload, len, 10000, NULL, NULL, final,
                               &st, err, sizeof err);
    if (status)
        *status = st;
    if (rc != 0 && st != 400 && st != 409)
        fprintf(stderr, "  %s %s: %d %s\n", service_of(shard), header, st, err);
    return rc;
}

/* Parses a FINAL's payload (or header when payload is NULL) as JSON. */
static cJSON *final_json(proto_msg_t *m, bool payload) {
    cJSON *j = payload ? cJSON_ParseWithLength(m->payload, m->payload_len)
                       : cJSON_ParseWithLength(m->header, m->header_len);
    proto_msg_close(m);
    return j;
}

static bool ping_shard(proto_client_t *c, int shard) {
    proto_msg_t m;
    char err[128];
    int st;
    if (proto_client_call(c, service_of(shard), "{\"op\":\"ping\"}", NULL, 0, 300, NULL, NULL, &m,
                          &st, err, sizeof err) != 0)
        return false;
    proto_msg_close(&m);
    return true;
}

typedef struct {
    proto_client_t *c;
    int shard;
} ping_t;

static bool shard_ready(void *arg) {
    ping_t *p = arg;
    return ping_shard(p->c, p->shard);
}

static bool wait_shard(proto_client_t *c, int shard) {
    ping_t p = {c, shard};
    return proc_wait_for(shard_ready, &p, 10000);
}

static bool ensure_all(proto_client_t *c) {
    char header[256];
    snprintf(header, sizeof header,
             "{\"op\":\"collection.ensure\",\"collection\":\"demo\",\"root\":\"/repo\","
             "\"model\":\"builtin\",\"dim\":%d,\"shards\":%d}",
             DIM, SHARDS);
    for (int s = 0; s < SHARDS; s++)
        if (call(c, s, header, NULL, 0, NULL, NULL) != 0)
            return false;
    return true;
}

/* A file's payload: `chunks` chunks whose text names the file (token
 * `fileN`) and defines `funcN_j`, vectors on axis N. */
static void file_payload(buf_t *p, int n, int chunks) {
    buf_t json = BUF_INIT;
    buf_append_str(&json, "{\"chunks\":[");
    for (int j = 0; j < chunks; j++)
        buf_printf(&json,
                   "%s{\"start_line\":%d,\"end_line\":%d,\"kind\":\"definition\","
                   "\"symbols\":[\"func%d_%d\"],\"identifiers\":[\"helper\"]}",
                   j ? "," : "", j * 10 + 1, j * 10 + 8, n, j);
    buf_append_str(&json, "]}");
    texts_append(p, json.data, json.len);
    buf_free(&json);
    for (int j = 0; j < chunks; j++) {
        buf_t text = BUF_INIT;
        buf_printf(&text, "def func%d_%d():\n    # file%d\n", n, j, n);
        for (int line = 0; line < 20; line++)
            buf_printf(&text, "    value_%d = helper(file%d, %d)\n", line, n, line);
        texts_append(p, text.data, text.len);
        buf_free(&text);
    }
    float *vecs = calloc((size_t)chunks * DIM, sizeof *vecs);
    for (int j = 0; j < chunks; j++)
        vecs[j * DIM + n % DIM] = 1;
    texts_append(p, (const char *)vecs, (size_t)chunks * DIM * sizeof *vecs);
    free(vecs);
}

static void file_path(char *out, size_t cap, int n) {
    snprintf(out, cap, "src/mod%d.py", n);
}

static int shard_of_file(int n) {
    char path[64];
    file_path(path, sizeof path, n);
    return shard_of(path, strlen(path), SHARDS);
}

static void file_header(char *out, size_t cap, int n) {
    char path[64];
    file_path(path, sizeof path, n);
    snprintf(out, cap,
             "{\"op\":\"file.put\",\"collection\":\"demo\",\"path\":\"%s\",\"hash\":\"h%d\","
             "\"language\":\"python\",\"imports\":[]}",
             path, n);
}

static int put_file(proto_client_t *c, int n, int chunks) {
    char header[512];
    file_header(header, sizeof header, n);
    buf_t p = BUF_INIT;
    file_payload(&p, n, chunks);
    int rc = call(c, shard_of_file(n), header, p.data, p.len, NULL, NULL);
    buf_free(&p);
    return rc;
}

/* Sum over shards of a collection field from `collections`. */
static long total(proto_client_t *c, const char *field) {
    long sum = 0;
    for (int s = 0; s < SHARDS; s++) {
        proto_msg_t m;
        if (call(c, s, "{\"op\":\"collections\"}", NULL, 0, &m, NULL) != 0)
            return -1;
        cJSON *j = final_json(&m, true);
        const cJSON *col =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "collections"), 0);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(col, field);
        sum += cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
        cJSON_Delete(j);
    }
    return sum;
}

/* Searches one shard; returns the parsed payload (caller deletes). */
static cJSON *search(proto_client_t *c, int shard, const char *header, const float *vector) {
    proto_msg_t m;
    if (call(c, shard, header, vector, vector ? DIM * sizeof *vector : 0, &m, NULL) != 0)
        return NULL;
    return final_json(&m, true);
}

/* How many chunks of `path` a search result holds. */
static int chunks_of(const cJSON *result, const char *path) {
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(result, "chunks")) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "path");
        n += cJSON_IsString(p) && strcmp(p->valuestring, path) == 0;
    }
    return n;
}

/* A gateway and the two shards, new for every test. */
static bool setup(proto_client_t **c) {
    if (!stack_gateway_up(&stack, &(stack_options_t){.shards = SHARDS, .retriever_threads = 4},
                          5000))
        return false;
    for (int s = 0; s < SHARDS; s++)
        stack_retriever_start(&stack, s);
    *c = stack_client(&stack);
    return *c && wait_shard(*c, 0) && wait_shard(*c, 1) && ensure_all(*c);
}

/* ---- tests ---- */

TEST(files_go_to_their_shards_and_search_spans_both) {
    proto_client_t *c = NULL;
    REQUIRE(setup(&c));
    enum { FILES = 24, CHUNKS = 3 };
    int on[SHARDS] = {0};
    for (int n = 0; n < FILES; n++) {
        CHECK_INT(put_file(c, n, CHUNKS), ==, 0);
        on[shard_of_file(n)]++;
    }
    CHECK(on[0] > 0 && on[1] > 0);
    CHECK_INT(total(c, "files"), ==, FILES);
    CHECK_INT(total(c, "chunks"), ==, FILES * CHUNKS);

    /* A write sent to the wrong shard is refused. */
    char header[512];
    file_header(header, sizeof header, 0);
    buf_t p = BUF_INIT;
    file_payload(&p, 0, CHUNKS);
    int status = 0;
    CHECK_INT(call(c, 1 - shard_of_file(0), header, p.data, p.len, NULL, &status), ==, -EIO);
    CHECK_INT(status, ==, 400);
    buf_free(&p);

    /* Imports are replicated: mod1 imports mod2 and mod3, on every shard. */
    for (int s = 0; s < SHARDS; s++)
        CHECK_INT(call(c, s,
                       "{\"op\":\"imports.put\",\"collection\":\"demo\",\"path\":\"src/mod1.py\","
                       "\"imports\":[\"src/mod2.py\",\"src/mod3.py\"]}",
                       NULL, 0, NULL, NULL),
                  ==, 0);

    /* Lexical: file7's token is found on file 7's shard only, all 3 chunks. */
    int found = 0;
    for (int s = 0; s < SHARDS; s++) {
        cJSON *r = search(c, s,
                          "{\"op\":\"search\",\"collection\":\"demo\",\"k\":5,"
                          "\"query\":\"x = file7 + 1\"}",
                          NULL);
        REQUIRE(r);
        found += chunks_of(r, "src/mod7.py");
        cJSON_Delete(r);
    }
    CHECK_INT(found, ==, CHUNKS);

    /* Dense + symbols + imports + object across both shards, from mod1. */
    float q[DIM] = {0};
    q[5] = 1; /* files 5 and 21 live on axis 5 */
    int dense_hits = 0, import_hits = 0, symbol_hits = 0, own = 0, object_hits = 0;
    for (int s = 0; s < SHARDS; s++) {
        cJSON *r = search(c, s,
                          "{\"op\":\"search\",\"collection\":\"demo\",\"k\":3,\"mode\":\"f32\","
                          "\"path\":\"src/mod1.py\",\"query\":\"helper\",\"symbols\":[\"func9_0\"],"
                          "\"object\":\"mod3\"}",
                          q);
        REQUIRE(r);
        dense_hits += chunks_of(r, "src/mod5.py") + chunks_of(r, "src/mod21.py");
        own += chunks_of(r, "src/mod1.py");
        const cJSON *ch;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(r, "chunks")) {
            const cJSON *sig = cJSON_GetObjectItemCaseSensitive(ch, "signals");
            const char *path = cJSON_GetObjectItemCaseSensitive(ch, "path")->valuestring;
            if (cJSON_GetObjectItemCaseSensitive(sig, "import")->valuedouble == 1)
                import_hits += strcmp(path, "src/mod2.py") == 0 || strcmp(path, "src/mod3.py") == 0;
            if (cJSON_GetObjectItemCaseSensitive(sig, "symbol")->valuedouble == 1)
                symbol_hits += strcmp(path, "src/mod9.py") == 0;
            if (cJSON_GetObjectItemCaseSensitive(sig, "object")->valuedouble == 1)
                object_hits += strcmp(path, "src/mod3.py") == 0;
        }
        cJSON_Delete(r);
    }
    CHECK_INT(dense_hits, ==, 2 * CHUNKS);
    CHECK_INT(import_hits, ==, 2 * CHUNKS);
    CHECK_INT(symbol_hits, ==, 1);
    CHECK_INT(object_hits, ==, CHUNKS);
    CHECK_INT(own, ==, 0);

    /* Delete two files; the counts follow. */
    for (int n = 0; n < 2; n++) {
        char del[256], path[64];
        file_path(path, sizeof path, n);
        snprintf(del, sizeof del,
                 "{\"op\":\"file.delete\",\"collection\":\"demo\",\"path\":\"%s\"}", path);
        CHECK_INT(call(c, shard_of_file(n), del, NULL, 0, NULL, NULL), ==, 0);
    }
    CHECK_INT(total(c, "files"), ==, FILES - 2);
    CHECK_INT(total(c, "chunks"), ==, (FILES - 2) * CHUNKS);

    /* A mismatched ensure is a 409 with the message the user sees. */
    status = 0;
    CHECK_INT(call(c, 0,
                   "{\"op\":\"collection.ensure\",\"collection\":\"demo\",\"root\":\"/repo\","
                   "\"model\":\"nomic-embed-text\",\"dim\":768,\"shards\":2}",
                   NULL, 0, NULL, &status),
              ==, -EIO);
    CHECK_INT(status, ==, 409);

    proto_msg_t m;
    REQUIRE(call(c, 0, "{\"op\":\"stats\"}", NULL, 0, &m, NULL) == 0);
    cJSON *stats = final_json(&m, false);
    CHECK(cJSON_GetObjectItemCaseSensitive(stats, "db_bytes")->valuedouble > 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(stats, "collections")->valuedouble == 1);
    cJSON_Delete(stats);
    /* SIGTERM: a clean exit (under ASan also: nothing leaked). */
    for (int s = 0; s < SHARDS; s++) {
        int st = proc_stop(stack.retriever[s], SIGTERM, 10000);
        CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    proto_client_destroy(&c);
    proc_kill_all();
}

TEST(bad_requests_get_400_and_the_shard_keeps_serving) {
    proto_client_t *c = NULL;
    REQUIRE(setup(&c));
    static const char *const headers[] = {
        "{\"op\":\"frobnicate\",\"collection\":\"demo\"}",
        "{\"collection\":\"demo\"}",
        "{\"op\":7}",
        "{\"op\":\"search\"}",
        "{\"op\":\"search\",\"collection\":\"demo\",\"k\":\"ten\"}",
        "{\"op\":\"search\",\"collection\":\"demo\",\"symbols\":\"x\"}",
        "{\"op\":\"search\",\"collection\":\"demo\",\"mode\":\"f16\"}",
        "{\"op\":\"file.put\",\"collection\":\"demo\",\"hash\":\"h\"}",
        "{\"op\":\"file.put\",\"collection\":\"demo\",\"path\":\"src/mod0.py\",\"hash\":\"h\","
        "\"imports\":[1]}",
        "{\"op\":\"collection.ensure\",\"collection\":\"x\",\"model\":\"m\",\"dim\":-1,"
        "\"shards\":2}",
        "{\"op\":\"imports.put\",\"collection\":\"demo\",\"path\":\"a\"}",
        "{\"op\":\"collection.touch\",\"collection\":\"demo\"}",
    };
    int shard = shard_of_file(0);
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        int status = 0;
        CHECK_INT(call(c, shard, headers[i], NULL, 0, NULL, &status), ==, -EIO);
        if (status != 400)
            fprintf(stderr, "  %s -> %d\n", headers[i], status);
        CHECK_INT(status, ==, 400);
    }
    /* Malformed payloads and a wrong-size vector. */
    char header[512];
    file_header(header, sizeof header, 0);
    int status = 0;
    CHECK_INT(call(c, shard, header, "\xff\xff\xff\xff", 4, NULL, &status), ==, -EIO);
    CHECK_INT(status, ==, 400);
    CHECK_INT(call(c, shard, header, NULL, 0, NULL, &status), ==, -EIO);
    CHECK_INT(status, ==, 400);
    float q[DIM + 3] = {1};
    CHECK_INT(
        call(c, shard, "{\"op\":\"search\",\"collection\":\"demo\"}", q, sizeof q, NULL, &status),
        ==, -EIO);
    CHECK_INT(status, ==, 400);
    status = 0;
    CHECK_INT(call(c, shard, "{\"op\":\"search\",\"collection\":\"none\"}", NULL, 0, NULL, &status),
              ==, -EIO);
    CHECK_INT(status, ==, 404);
    CHECK(ping_shard(c, shard));
    CHECK(proc_alive(stack.retriever[shard]));
    CHECK_INT(put_file(c, 0, 2), ==, 0);
    proto_client_destroy(&c);
    proc_kill_all();
}

TEST(kill_9_during_writes_loses_nothing_acknowledged_and_leaves_no_half_file) {
    proto_client_t *c = NULL;
    REQUIRE(setup(&c));
    enum { FILES = 240, CHUNKS = 12, KILL_AFTER = 40 };
    /* Only files of shard 0, all sent at once: the worker runs four at a
     * time and the rest wait in the broker. */
    static int file_of_request[FILES];
    static char acked[FILES], errored[FILES];
    memset(acked, 0, sizeof acked);
    memset(errored, 0, sizeof errored);
    uint64_t first_id = 0;
    int sent = 0;
    for (int n = 0; sent < FILES; n++) {
        if (shard_of_file(n) != 0)
            continue;
        char header[512];
        file_header(header, sizeof header, n);
        buf_t p = BUF_INIT;
        file_payload(&p, n, CHUNKS);
        uint64_t id;
        REQUIRE(proto_client_send(c, "retrieve.0", header, p.data, p.len, 20000, &id) == 0);
        buf_free(&p);
        if (sent == 0)
            first_id = id;
        file_of_request[sent++] = n;
    }
    int ended = 0, acks = 0;
    bool killed = false;
    while (ended < FILES) {
        proto_msg_t m;
        REQUIRE(proto_client_recv(c, &m, 20000) == 0);
        long r = (long)(m.id - first_id);
        REQUIRE(r >= 0 && r < FILES);
        if (m.cmd == PROTO_FINAL) {
            acked[r] = 1;
            acks++;
        } else {
            errored[r] = 1;
        }
        ended++;
        proto_msg_close(&m);
        if (!killed && acks >= KILL_AFTER) {
            kill(stack.retriever[0], SIGKILL);
            proc_stop(stack.retriever[0], SIGKILL, 2000);
            killed = true;
            stack_retriever_start(&stack, 0); /* takes the requests still queued */
        }
    }
    REQUIRE(killed);
    REQUIRE(wait_shard(c, 0));

    /* What shard 0 holds now. */
    proto_msg_t m;
    REQUIRE(call(c, 0, "{\"op\":\"collection.files\",\"collection\":\"demo\"}", NULL, 0, &m,
                 NULL) == 0);
    cJSON *files = final_json(&m, true);
    static char stored[FILES];
    memset(stored, 0, sizeof stored);
    int nstored = 0, unexpected = 0, lost = 0, half = 0, errors = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(files, "files")) {
        int n = -1;
        sscanf(cJSON_GetObjectItemCaseSensitive(f, "path")->valuestring, "src/mod%d.py", &n);
        int r = -1;
        for (int i = 0; i < FILES; i++)
            if (file_of_request[i] == n)
                r = i;
        if (r < 0) {
            unexpected++;
            continue;
        }
        stored[r] = 1;
        nstored++;
        /* Whole: every chunk of the file is there. */
        char header[256];
        snprintf(header, sizeof header,
                 "{\"op\":\"search\",\"collection\":\"demo\",\"limit\":%d,\"query\":\"file%d\"}",
                 4 * CHUNKS, n);
        cJSON *res = search(c, 0, header, NULL);
        char path[64];
        file_path(path, sizeof path, n);
        half += chunks_of(res, path) != CHUNKS;
        cJSON_Delete(res);
    }
    cJSON_Delete(files);
    for (int r = 0; r < FILES; r++) {
        lost += acked[r] && !stored[r];
        unexpected += stored[r] && !acked[r] && !errored[r];
        errors += errored[r];
    }
    fprintf(stderr, "  %d acknowledged, %d failed by the kill, %d stored after restart\n", acks,
            errors, nstored);
    CHECK_INT(lost, ==, 0);
    CHECK_INT(half, ==, 0);
    CHECK_INT(unexpected, ==, 0);
    CHECK_INT(acks + errors, ==, FILES);
    CHECK_INT(nstored, >=, acks);
    REQUIRE(call(c, 0, "{\"op\":\"stats\"}", NULL, 0, &m, NULL) == 0);
    cJSON *stats = final_json(&m, false);
    CHECK_INT((long)cJSON_GetObjectItemCaseSensitive(stats, "chunks")->valuedouble, ==,
              (long)nstored * CHUNKS);
    cJSON_Delete(stats);
    proto_client_destroy(&c);
    proc_kill_all();
}

TEST_MAIN(TEST_CASE(files_go_to_their_shards_and_search_spans_both),
          TEST_CASE(bad_requests_get_400_and_the_shard_keeps_serving),
          TEST_CASE(kill_9_during_writes_loses_nothing_acknowledged_and_leaves_no_half_file))
