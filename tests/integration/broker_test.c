/*
 * The broker, over real processes: lca-gateway hosts it, tests/tools/test_worker
 * processes serve, and this test is the client, over a Unix socket of each
 * test's own (as lca's default broker is) or over TCP with CURVE.
 * Heartbeats run at 100 ms so failure detection is quick.
 *
 *   make build/tests/integration/broker_test build/tests/tools/test_worker build/bin/lca-gateway
 *   build/tests/integration/broker_test [test names]
 */
#include "proto/client.h"
#include "proto/socket.h"
#include "tests/stack.h"

#include <cJSON.h>
#include <czmq.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>

#define HEARTBEAT_MS 100

static test_stack_t gateway; /* the gateway of the test running */

/* Heartbeat of the processes a test starts (slower under valgrind, where a
 * 100 ms beat would be missed by a broker running 20 times slower). */
static int heartbeat_ms = HEARTBEAT_MS;

static char *log_path(const char *name) {
    return proc_path(gateway.dir, name, ".log");
}

/* Starts a gateway (the broker) in a directory of its own, on a fresh port
 * and on broker (NULL: a Unix socket of its own), with extra arguments,
 * optionally under a wrapper (valgrind, with the release binary from
 * $LCA_RELEASE_BIN when set). */
static bool gateway_start(const char *const *wrapper, const char *broker,
                          const char *const *extra) {
    const char *release = wrapper ? getenv("LCA_RELEASE_BIN") : NULL;
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/lca-gateway", release ? release : "");
    return stack_gateway_up(&gateway,
                            &(stack_options_t){.broker = broker,
                                               .gateway_args = extra,
                                               .gateway_wrap = wrapper,
                                               .gateway_bin = release && *release ? bin : NULL,
                                               .heartbeat_ms = heartbeat_ms},
                            wrapper ? 30000 : 5000);
}

/* A test_worker serving service on endpoint, with the certificates of
 * curve_dir (NULL: none); its output goes to the gateway's workers.log. */
static pid_t worker_start(const char *endpoint, const char *service, int capacity,
                          const char *curve_dir) {
    char cap[16];
    snprintf(cap, sizeof cap, "%d", capacity);
    char *argv[] = {(char *)proc_tool("test_worker"), (char *)endpoint, (char *)service, cap, NULL};
    char curve_env[300];
    snprintf(curve_env, sizeof curve_env, "LCA_CURVE_DIR=%s", curve_dir ? curve_dir : "");
    const char *env[] = {gateway.heartbeat, curve_dir ? curve_env : NULL, NULL};
    return proc_start(argv, env, log_path("workers"));
}

static bool wait_workers(proto_client_t *c, const char *service, int n) {
    return stack_wait_broker_workers(c, service, n, 5000);
}

static long header_long(const proto_msg_t *m, const char *key) {
    cJSON *j = cJSON_ParseWithLength(m->header, m->header_len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    long r = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
    cJSON_Delete(j);
    return r;
}

static void stop_all(void) {
    proc_kill_all();
}

/* ---- tests ---- */

TEST(two_workers_share_100_requests_each_answered_once) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    pid_t a = worker_start(gateway.broker, "echo", 1, NULL),
          b = worker_start(gateway.broker, "echo", 1, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "echo", 2));
    enum { N = 100 };
    static int answers[N + 1];
    memset(answers, 0, sizeof answers);
    int by_a = 0, by_b = 0;
    for (int i = 0; i < N; i++) {
        char payload[16];
        int len = snprintf(payload, sizeof payload, "%d", i);
        uint64_t id;
        CHECK_INT(
            proto_client_send(c, "echo", "{\"op\":\"echo\"}", payload, (size_t)len, 5000, &id), ==,
            0);
    }
    for (int got = 0; got < N;) {
        proto_msg_t m;
        REQUIRE(proto_client_recv(c, &m, 5000) == 0);
        REQUIRE(m.cmd == PROTO_FINAL && m.payload);
        char text[16] = "";
        memcpy(text, m.payload, m.payload_len < 15 ? m.payload_len : 15);
        int i = atoi(text);
        REQUIRE(i >= 0 && i < N);
        answers[i]++;
        long pid = header_long(&m, "pid");
        by_a += pid == a;
        by_b += pid == b;
        proto_msg_close(&m);
        got++;
    }
    for (int i = 0; i < N; i++)
        CHECK_INT(answers[i], ==, 1);
    CHECK_INT(by_a + by_b, ==, N);
    CHECK_INT(by_a, >=, 20); /* both took a real share */
    CHECK_INT(by_b, >=, 20);
    proto_msg_t extra;
    CHECK_INT(proto_client_recv(c, &extra, 200), ==, -ETIMEDOUT); /* nothing twice */
    proto_client_destroy(&c);
    stop_all();
}

static bool stream_in_order(proto_client_t *c, uint64_t id, long n, int *partials) {
    (void)id;
    long next = 0;
    for (;;) {
        proto_msg_t m;
        if (proto_client_recv(c, &m, 10000) != 0)
            return false;
        if (m.cmd == PROTO_FINAL) {
            proto_msg_close(&m);
            return next == n;
        }
        if (m.cmd != PROTO_PARTIAL || m.payload_len < 8) {
            proto_msg_close(&m);
            return false;
        }
        long index;
        memcpy(&index, m.payload, sizeof index);
        proto_msg_close(&m);
        if (index != next)
            return false;
        next++;
        (*partials)++;
    }
}

TEST(ten_thousand_partials_arrive_complete_and_in_order) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    worker_start(gateway.broker, "stream", 1, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "stream", 1));
    uint64_t id;
    REQUIRE(proto_client_send(c, "stream", "{\"op\":\"stream\",\"n\":10000,\"size\":64}", NULL, 0,
                              20000, &id) == 0);
    int partials = 0;
    CHECK(stream_in_order(c, id, 10000, &partials));
    CHECK_INT(partials, ==, 10000);
    proto_client_destroy(&c);
    stop_all();
}

TEST(two_hundred_concurrent_streams_arrive_complete_and_in_order) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    worker_start(gateway.broker, "stream", 100, NULL);
    worker_start(gateway.broker, "stream", 100, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "stream", 2));
    enum { STREAMS = 200, EACH = 300 };
    static long next[STREAMS + 1];
    static bool done[STREAMS + 1];
    memset(next, 0, sizeof next);
    memset(done, 0, sizeof done);
    uint64_t first = 0;
    for (int s = 0; s < STREAMS; s++) {
        uint64_t id;
        REQUIRE(proto_client_send(c, "stream", "{\"op\":\"stream\",\"n\":300,\"size\":32}", NULL, 0,
                                  30000, &id) == 0);
        if (s == 0)
            first = id;
    }
    int finished = 0, disorder = 0, errors = 0;
    while (finished < STREAMS) {
        proto_msg_t m;
        REQUIRE(proto_client_recv(c, &m, 10000) == 0);
        long s = (long)(m.id - first);
        REQUIRE(s >= 0 && s < STREAMS);
        if (m.cmd == PROTO_PARTIAL) {
            long index;
            memcpy(&index, m.payload, sizeof index);
            disorder += index != next[s];
            next[s]++;
        } else {
            errors += m.cmd != PROTO_FINAL || next[s] != EACH || done[s];
            done[s] = true;
            finished++;
        }
        proto_msg_close(&m);
    }
    CHECK_INT(disorder, ==, 0);
    CHECK_INT(errors, ==, 0);
    proto_client_destroy(&c);
    stop_all();
}

TEST(killed_worker_fails_its_request_within_three_heartbeats_and_the_survivor_serves) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    pid_t a = worker_start(gateway.broker, "svc", 1, NULL),
          b = worker_start(gateway.broker, "svc", 1, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "svc", 2));
    uint64_t id;
    REQUIRE(proto_client_send(c, "svc", "{\"op\":\"hold\"}", NULL, 0, 10000, &id) == 0);
    proto_msg_t m;
    REQUIRE(proto_client_recv(c, &m, 5000) == 0);
    CHECK_INT(m.cmd, ==, PROTO_PARTIAL);
    pid_t holder = (pid_t)header_long(&m, "pid");
    proto_msg_close(&m);
    REQUIRE(holder == a || holder == b);
    pid_t survivor = holder == a ? b : a;

    int64_t killed = proc_now_ms();
    kill(holder, SIGKILL);
    REQUIRE(proto_client_recv(c, &m, 5000) == 0);
    int64_t took = proc_now_ms() - killed;
    CHECK_INT(m.cmd, ==, PROTO_ERROR);
    CHECK(m.id == id);
    int status;
    char message[256];
    proto_error_parse(&m, &status, message, sizeof message);
    CHECK_INT(status, ==, 503);
    CHECK(strstr(message, "svc") != NULL);
    proto_msg_close(&m);
    /* Three intervals, plus scheduling slack for sanitizer builds. */
    CHECK_INT(took, <=, 3 * HEARTBEAT_MS + 150);

    for (int i = 0; i < 5; i++) {
        proto_msg_t final;
        char err[128];
        REQUIRE(proto_client_call(c, "svc", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL, &final,
                                  &status, err, sizeof err) == 0);
        CHECK_INT(header_long(&final, "pid"), ==, survivor);
        proto_msg_close(&final);
    }

    pid_t again = worker_start(gateway.broker, "svc", 1, NULL);
    REQUIRE(wait_workers(c, "svc", 2));
    bool served_by_new = false;
    for (int i = 0; i < 10 && !served_by_new; i++) {
        proto_msg_t final;
        char err[128];
        REQUIRE(proto_client_call(c, "svc", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL, &final,
                                  &status, err, sizeof err) == 0);
        served_by_new = header_long(&final, "pid") == again;
        proto_msg_close(&final);
    }
    CHECK(served_by_new);
    proto_client_destroy(&c);
    stop_all();
}

TEST(cancel_reaches_the_worker_and_its_handler_stops) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    worker_start(gateway.broker, "svc", 1, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "svc", 1));
    uint64_t id;
    REQUIRE(proto_client_send(c, "svc", "{\"op\":\"hold\"}", NULL, 0, 10000, &id) == 0);
    proto_msg_t m;
    REQUIRE(proto_client_recv(c, &m, 5000) == 0);
    CHECK_INT(m.cmd, ==, PROTO_PARTIAL);
    proto_msg_close(&m);
    CHECK_INT(proto_client_cancel(c, id), ==, 0);
    /* Capacity 1: stats is served only once the held handler has stopped. */
    proto_msg_t final;
    int status;
    char err[128];
    REQUIRE(proto_client_call(c, "svc", "{\"op\":\"stats\"}", NULL, 0, 3000, NULL, NULL, &final,
                              &status, err, sizeof err) == 0);
    CHECK_INT(header_long(&final, "cancelled"), ==, 1);
    proto_msg_close(&final);
    CHECK_INT(proto_client_pending(c), ==, 0);
    proto_client_destroy(&c);
    stop_all();
}

TEST(service_without_worker_fails_within_the_deadline) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c);
    int64_t start = proc_now_ms();
    int status;
    char err[256];
    int rc = proto_client_call(c, "nobody", NULL, NULL, 0, 300, NULL, NULL, NULL, &status, err,
                               sizeof err);
    int64_t took = proc_now_ms() - start;
    CHECK_INT(rc, ==, -EIO);
    CHECK_INT(status, ==, 503);
    CHECK_STR(err, "no nobody worker available");
    CHECK_INT(took, >=, 290);
    CHECK_INT(took, <=, 800);
    proto_client_destroy(&c);
    stop_all();
}

TEST(service_nobody_runs_fails_after_five_heartbeats_not_the_whole_deadline) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c);
    int64_t start = proc_now_ms();
    int status;
    char err[256];
    int rc = proto_client_call(c, "nobody", NULL, NULL, 0, 20000, NULL, NULL, NULL, &status, err,
                               sizeof err);
    int64_t took = proc_now_ms() - start;
    CHECK_INT(rc, ==, -EIO);
    CHECK_INT(status, ==, 503);
    CHECK_INT(took, >=, 5 * HEARTBEAT_MS - 10);
    CHECK_INT(took, <=, 5 * HEARTBEAT_MS + 400);
    proto_client_destroy(&c);
    stop_all();
}

TEST(worker_errors_and_missing_replies_reach_the_client) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    worker_start(gateway.broker, "svc", 1, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "svc", 1));
    int status;
    char err[256];
    CHECK_INT(proto_client_call(c, "svc", "{\"op\":\"fail\"}", NULL, 0, 2000, NULL, NULL, NULL,
                                &status, err, sizeof err),
              ==, -EIO);
    CHECK_INT(status, ==, 418);
    CHECK_STR(err, "scripted failure");
    CHECK_INT(proto_client_call(c, "svc", "{\"op\":\"silent\"}", NULL, 0, 2000, NULL, NULL, NULL,
                                &status, err, sizeof err),
              ==, -EIO);
    CHECK_INT(status, ==, 500);
    CHECK(strstr(err, "without a reply") != NULL);
    /* Every service answers ping. */
    proto_msg_t final;
    CHECK_INT(proto_client_call(c, "svc", "{\"op\":\"ping\"}", NULL, 0, 2000, NULL, NULL, &final,
                                &status, err, sizeof err),
              ==, 0);
    CHECK(final.header && strstr(final.header, "\"pong\":true") != NULL);
    proto_msg_close(&final);
    proto_client_destroy(&c);
    stop_all();
}

/* Quick request/reply traffic opens the broker's busy-poll window; when the
 * traffic stops the broker must go back to sleep, not keep a core busy. */
TEST(broker_sleeps_once_quick_traffic_stops) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    worker_start(gateway.broker, "echo", 1, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "echo", 1));
    for (int i = 0; i < 2000; i++) {
        proto_msg_t final;
        int status;
        char err[128];
        REQUIRE(proto_client_call(c, "echo", "{\"op\":\"echo\"}", "x", 1, 5000, NULL, NULL, &final,
                                  &status, err, sizeof err) == 0);
        proto_msg_close(&final);
    }
    double cpu0 = proc_cpu_seconds(gateway.gateway);
    int64_t t0 = proc_now_ms();
    proc_sleep_ms(500); /* a measuring window: heartbeats still flow in it */
    double used = proc_cpu_seconds(gateway.gateway) - cpu0;
    double window = (double)(proc_now_ms() - t0) / 1000;
    REQUIRE(cpu0 >= 0);
    CHECK(used < 0.1 * window); /* well under a tenth of a core */
    proto_client_destroy(&c);
    stop_all();
}

TEST(malformed_messages_do_not_hurt_the_broker) {
    REQUIRE(gateway_start(NULL, NULL, NULL));
    worker_start(gateway.broker, "svc", 1, NULL);
    void *raw = proto_socket_new(ZMQ_DEALER);
    REQUIRE(zmq_connect(raw, gateway.broker) == 0);
    zmq_send(raw, "garbage", 7, 0);
    zmq_send(raw, "LCA\x01", 4, ZMQ_SNDMORE);
    zmq_send(raw, "\x02", 1, 0);              /* truncated REQUEST */
    zmq_send(raw, "LCA\x07", 4, ZMQ_SNDMORE); /* wrong version */
    zmq_send(raw, "\x07", 1, ZMQ_SNDMORE);
    zmq_send(raw, "\0\0\0\0\0\0\0\0", 8, ZMQ_SNDMORE);
    zmq_send(raw, "", 0, ZMQ_SNDMORE);
    zmq_send(raw, "", 0, 0);
    proto_socket_close(&raw);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "svc", 1));
    int status;
    char err[128];
    CHECK_INT(proto_client_call(c, "svc", "{\"op\":\"echo\"}", "ok", 2, 2000, NULL, NULL, NULL,
                                &status, err, sizeof err),
              ==, 0);
    CHECK(proc_alive(gateway.gateway));
    proto_client_destroy(&c);
    stop_all();
}

static bool make_cert(const char *path) {
    zcert_t *cert = zcert_new();
    int rc = cert ? zcert_save(cert, path) : -1;
    zcert_destroy(&cert);
    return rc == 0;
}

static bool copy_public(const char *from, const char *to) {
    zcert_t *cert = zcert_load(from);
    int rc = cert ? zcert_save_public(cert, to) : -1;
    zcert_destroy(&cert);
    return rc == 0;
}

/* The log of the test's workers holds text. */
static bool workers_log_has(void *text) {
    return fixture_file_has(log_path("workers"), text);
}

TEST(curve_lets_in_only_allowed_workers) {
    char dir[256], path[512], path2[512];
    snprintf(dir, sizeof dir, "%s", proc_tmpdir());
    const char *subdirs[] = {"allowed", "good", "bad"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
        mkdir(path, 0700);
    }
    snprintf(path, sizeof path, "%s/broker.cert", dir);
    REQUIRE(make_cert(path));
    for (int i = 1; i < 3; i++) {
        snprintf(path2, sizeof path2, "%s/%s/broker.cert", dir, subdirs[i]);
        REQUIRE(copy_public(path, path2));
        snprintf(path2, sizeof path2, "%s/%s/client.cert", dir, subdirs[i]);
        REQUIRE(make_cert(path2));
    }
    snprintf(path, sizeof path, "%s/good/client.cert", dir);
    snprintf(path2, sizeof path2, "%s/allowed/good.cert", dir);
    REQUIRE(copy_public(path, path2));

    char public_ep[64];
    snprintf(public_ep, sizeof public_ep, "tcp://127.0.0.1:%d", proc_free_port());
    const char *extra[] = {"--broker-public", public_ep, "--curve-dir", dir, NULL};
    REQUIRE(gateway_start(NULL, NULL, extra));
    char good_dir[300], bad_dir[300];
    snprintf(good_dir, sizeof good_dir, "%s/good", dir);
    snprintf(bad_dir, sizeof bad_dir, "%s/bad", dir);
    pid_t bad = worker_start(public_ep, "generate", 1, bad_dir);
    pid_t good = worker_start(public_ep, "generate", 1, good_dir);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c && wait_workers(c, "generate", 1));
    int status;
    char err[128];
    for (int i = 0; i < 10; i++) {
        proto_msg_t final;
        REQUIRE(proto_client_call(c, "generate", "{\"op\":\"echo\"}", "x", 1, 2000, NULL, NULL,
                                  &final, &status, err, sizeof err) == 0);
        CHECK_INT(header_long(&final, "pid"), ==, good);
        proto_msg_close(&final);
    }
    /* These certificates carry no rules (made before there were any, when
     * keys were for GPU hosts): generate, and nothing else. */
    pid_t shard = worker_start(public_ep, "retrieve.0", 1, good_dir);
    CHECK(proc_wait_for(workers_log_has, "refused us: key ? may not serve retrieve.0", 10000));
    CHECK_INT(stack_broker_workers(c, "retrieve.0"), ==, 0);
    proc_stop(shard, SIGKILL, 1000);
    /* Long enough for the rejected worker to have retried: still one worker. */
    proc_sleep_ms(5 * HEARTBEAT_MS);
    CHECK_INT(stack_broker_workers(c, "generate"), ==, 1);
    proc_stop(good, SIGKILL, 1000);
    CHECK(wait_workers(c, "generate", 0));
    CHECK_INT(proto_client_call(c, "generate", "{\"op\":\"echo\"}", "x", 1, 500, NULL, NULL, NULL,
                                &status, err, sizeof err),
              ==, -EIO);
    CHECK_INT(status, ==, 503);
    CHECK(proc_alive(bad));
    proto_client_destroy(&c);
    stop_all();
}

TEST(curve_keys_serve_and_call_only_what_their_certificate_says) {
    char dir[256], cmd[2048];
    snprintf(dir, sizeof dir, "%s/keys", proc_tmpdir());
    const char *lca = proc_bin("lca");
    snprintf(cmd, sizeof cmd,
             "%s keys init %s >/dev/null && %s keys add gpu %s --calls broker.status >/dev/null "
             "&& %s keys add tool %s --serves '' --calls 'gen*' >/dev/null",
             lca, dir, lca, dir, lca, dir);
    REQUIRE(proc_shell("%s", cmd) == 0);
    char public_ep[64];
    snprintf(public_ep, sizeof public_ep, "tcp://127.0.0.1:%d", proc_free_port());
    const char *extra[] = {"--broker-public", public_ep, "--curve-dir", dir, NULL};
    REQUIRE(gateway_start(NULL, NULL, extra));
    char gpu[300], tool[300];
    snprintf(gpu, sizeof gpu, "%s/hosts/gpu", dir);
    snprintf(tool, sizeof tool, "%s/hosts/tool", dir);
    proto_client_t *local = stack_client(&gateway);
    REQUIRE(local);

    /* The GPU host's key serves generate, not a retriever shard. */
    worker_start(public_ep, "retrieve.0", 1, gpu);
    CHECK(proc_wait_for(workers_log_has, "refused us: key gpu may not serve retrieve.0", 10000));
    CHECK_INT(stack_broker_workers(local, "retrieve.0"), ==, 0);
    worker_start(public_ep, "generate", 1, gpu);
    CHECK(wait_workers(local, "generate", 1));

    /* Calls: the GPU key may ask for broker.status only; the tool key may
     * call gen*, and serve nothing. */
    char err[256];
    int status = 0;
    proto_client_t *as_gpu = proto_client_new(public_ep, gpu, err, sizeof err);
    REQUIRE(as_gpu);
    CHECK_INT(proto_client_call(as_gpu, "generate", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL,
                                NULL, &status, err, sizeof err),
              ==, -EIO);
    CHECK_INT(status, ==, 403);
    CHECK(strstr(err, "key gpu may not call generate") != NULL);
    proto_msg_t final;
    CHECK_INT(proto_client_call(as_gpu, "broker.status", NULL, NULL, 0, 3000, NULL, NULL, &final,
                                &status, err, sizeof err),
              ==, 0);
    if (status == 200 || final.header) {
        /* the status names the key each remote worker joined with */
        CHECK(memmem(final.header, final.header_len, "\"key\":\"gpu\"", 11) != NULL);
        proto_msg_close(&final);
    }
    proto_client_t *as_tool = proto_client_new(public_ep, tool, err, sizeof err);
    REQUIRE(as_tool);
    CHECK_INT(proto_client_call(as_tool, "generate", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL,
                                NULL, &status, err, sizeof err),
              ==, 0);
    CHECK_INT(proto_client_call(as_tool, "retrieve.0", "{\"op\":\"collections\"}", NULL, 0, 3000,
                                NULL, NULL, NULL, &status, err, sizeof err),
              ==, -EIO);
    CHECK_INT(status, ==, 403);
    worker_start(public_ep, "echo", 1, tool);
    CHECK(proc_wait_for(workers_log_has, "refused us: key tool may not serve echo", 10000));
    /* Its certificate taken out of the allow-list, the tool's next request
     * is refused on the connection it already has. */
    char allowed[300];
    snprintf(allowed, sizeof allowed, "%s/allowed/tool.cert", dir);
    REQUIRE(unlink(allowed) == 0);
    CHECK_INT(proto_client_call(as_tool, "generate", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL,
                                NULL, &status, err, sizeof err),
              ==, -EIO);
    CHECK_INT(status, ==, 403);
    CHECK(strstr(err, "key (revoked) may not call generate") != NULL);
    proto_client_destroy(&as_gpu);
    proto_client_destroy(&as_tool);
    proto_client_destroy(&local);
    stop_all();
}

/* True when the file at path holds text; says what it holds when not. */
static bool file_has(const char *path, const char *text) {
    bool found = fixture_file_has(path, text);
    if (!found) {
        char content[8192];
        fixture_read_text(path, content, sizeof content);
        fprintf(stderr, "  %s does not hold \"%s\": %s\n", path, text, content);
    }
    return found;
}

/* Starts a gateway on broker ep alone, with the product's defaults, in a
 * directory of its own where its log is (path in log); returns its exit
 * status once it ended (-1: not within 10 s). */
static int gateway_refused(const char *ep, char *log, size_t size) {
    test_stack_t g;
    log[0] = '\0';
    if (!stack_init(&g, &(stack_options_t){.broker = ep, .bare_env = true}))
        return -1;
    snprintf(log, size, "%s", stack_path(&g, "gateway.log"));
    return proc_wait_exit(stack_gateway_start(&g), 10000);
}

/* Connects to the Unix socket at path as uid (and gid) in a child process,
 * with a plain connect(): what any program, ZeroMQ included, does.
 * Returns 0 when the connection was accepted, else the errno (-1 when the
 * child could not become uid). */
static int connect_as(uid_t uid, const char *path) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
            setresuid(uid, uid, uid) != 0)
            _exit(255);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
        _exit(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? 0 : errno);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status) : -1;
}

TEST(ipc_endpoint_lives_in_a_directory_only_its_user_may_enter) {
    char dir[256], ep[300], err[512];
    snprintf(dir, sizeof dir, "%s/run", proc_tmpdir());
    snprintf(ep, sizeof ep, "ipc://%s/broker", dir);
    /* The gateway makes the directory, closed to everyone else. */
    REQUIRE(gateway_start(NULL, ep, NULL));
    struct stat st;
    REQUIRE(stat(dir, &st) == 0);
    CHECK_INT(st.st_mode & 0777, ==, 0700);
    char sock[300];
    snprintf(sock, sizeof sock, "%s/broker", dir);
    REQUIRE(stat(sock, &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    /* A second gateway on the same address is refused: it would take the
     * address from the first one without a word. */
    char log[PATH_MAX];
    CHECK_INT(gateway_refused(ep, log, sizeof log), ==, 1);
    CHECK(file_has(log, "another broker listens on"));
    pid_t w = worker_start(ep, "echo", 1, NULL);
    proto_client_t *c = proto_client_new(ep, NULL, err, sizeof err);
    REQUIRE(c);
    CHECK(wait_workers(c, "echo", 1));
    int status;
    CHECK_INT(proto_client_call(c, "echo", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL, NULL,
                                &status, err, sizeof err),
              ==, 0);
    proto_client_destroy(&c);
    /* Opened to others, it is refused by clients, and by a new gateway. */
    chmod(dir, 0755);
    CHECK(proto_client_new(ep, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "chmod 700") != NULL);
    proc_stop(gateway.gateway, SIGTERM, 5000);
    proc_stop(w, SIGKILL, 1000);
    CHECK_INT(gateway_refused(ep, log, sizeof log), ==, 1);
    CHECK(file_has(log, "no one else may enter"));
    /* A directory of another user is refused too, however closed (only
     * root can give one away: as anyone else, the mode stands for it). */
    chmod(dir, 0700);
    if (geteuid() == 0) {
        REQUIRE(chown(dir, 4242, 4242) == 0);
        CHECK(proto_client_new(ep, NULL, err, sizeof err) == NULL);
        CHECK(strstr(err, "it is a directory, uid 4242, mode 700") != NULL);
        CHECK_INT(gateway_refused(ep, log, sizeof log), ==, 1);
        CHECK(file_has(log, "must be a directory of this user (uid 0)"));
        REQUIRE(chown(dir, 0, 0) == 0);
    }
    /* Something that is not a socket where the socket goes stays. */
    unlink(sock);
    REQUIRE(fixture_write_text(NULL, sock, "precious\n") == 0);
    CHECK_INT(gateway_refused(ep, log, sizeof log), ==, 1);
    CHECK(file_has(log, "is there and is not a socket"));
    CHECK(file_has(sock, "precious"));
    /* A missing directory: the client says the gateway is not there. */
    snprintf(ep, sizeof ep, "ipc://%s/nowhere/broker", dir);
    CHECK(proto_client_new(ep, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "is the gateway running?") != NULL);
    stop_all();
}

/* What the kernel lets another user do, not what our client code chooses
 * to do: a plain connect() as another uid.  Needs root to become another
 * user; as anyone else, the modes above are what can be shown. */
TEST(another_user_cannot_connect_to_the_broker) {
    if (geteuid() != 0) {
        fprintf(stderr, "  # not root: no other uid to connect as (the modes are checked "
                        "in ipc_endpoint_lives_in_a_directory_only_its_user_may_enter)\n");
        CHECK(geteuid() != 0);
        return;
    }
    char top[256], dir[300], sock[320], ep[340], err[512];
    snprintf(top, sizeof top, "%s", proc_tmpdir());
    chmod(top, 0711); /* others may pass through to the broker's directory */
    snprintf(dir, sizeof dir, "%s/run", top);
    snprintf(sock, sizeof sock, "%s/broker", dir);
    snprintf(ep, sizeof ep, "ipc://%s", sock);
    REQUIRE(gateway_start(NULL, ep, NULL));
    pid_t w = worker_start(ep, "echo", 1, NULL);
    proto_client_t *c = proto_client_new(ep, NULL, err, sizeof err);
    REQUIRE(c);
    CHECK(wait_workers(c, "echo", 1));
    /* We get in, of course; uid 4242 does not. */
    CHECK_INT(connect_as(0, sock), ==, 0);
    CHECK_INT(connect_as(4242, sock), ==, EACCES);
    /* The directory alone keeps it out (the socket opened to everyone) ... */
    chmod(sock, 0666);
    CHECK_INT(connect_as(4242, sock), ==, EACCES);
    /* ... and the socket alone (the directory opened) ... */
    chmod(sock, 0600);
    chmod(dir, 0755);
    CHECK_INT(connect_as(4242, sock), ==, EACCES);
    /* ... while both opened let it in: the test can tell. */
    chmod(sock, 0666);
    CHECK_INT(connect_as(4242, sock), ==, 0);
    chmod(sock, 0600);
    chmod(dir, 0700);
    /* The broker went on serving us throughout. */
    int status;
    CHECK_INT(proto_client_call(c, "echo", "{\"op\":\"echo\"}", "x", 1, 3000, NULL, NULL, NULL,
                                &status, err, sizeof err),
              ==, 0);
    proto_client_destroy(&c);
    proc_stop(w, SIGKILL, 1000);
    stop_all();
}

/* Every local user reaches a TCP address, loopback included: without CURVE
 * the gateway refuses one unless told the network is trusted. */
TEST(a_tcp_broker_takes_curve_even_on_loopback) {
    char ep[64], want[160], log[PATH_MAX];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", proc_free_port());
    CHECK_INT(gateway_refused(ep, log, sizeof log), ==, 1);
    snprintf(want, sizeof want, "refusing to listen on %s without CURVE", ep);
    CHECK(file_has(log, want));
    CHECK(file_has(log, "every local user, on loopback"));
    /* Asked for on purpose, it serves a worker without keys. */
    const char *extra[] = {"--insecure-broker", NULL};
    REQUIRE(gateway_start(NULL, ep, extra));
    worker_start(ep, "echo", 1, NULL);
    char err[256];
    proto_client_t *c = proto_client_new(ep, NULL, err, sizeof err);
    REQUIRE(c);
    CHECK(wait_workers(c, "echo", 1));
    proto_client_destroy(&c);
    stop_all();
}

TEST(broker_under_valgrind_serves_and_exits_clean) {
    const char *valgrind[] = {"/usr/bin/valgrind",
                              "--quiet",
                              "--error-exitcode=99",
                              "--leak-check=full",
                              "--errors-for-leak-kinds=definite",
                              NULL};
    if (access(valgrind[0], X_OK) != 0) {
        fprintf(stderr, "  valgrind is not installed (make deps installs it)\n");
        CHECK(!"valgrind available");
        return;
    }
    heartbeat_ms = 1000;
    bool started = gateway_start(valgrind, NULL, NULL);
    heartbeat_ms = HEARTBEAT_MS;
    REQUIRE(started);
    worker_start(gateway.broker, "echo", 2, NULL);
    worker_start(gateway.broker, "echo", 2, NULL);
    proto_client_t *c = stack_client(&gateway);
    REQUIRE(c);
    REQUIRE(stack_wait_broker_workers(c, "echo", 2, 20000));
    for (int i = 0; i < 50; i++) {
        int status;
        char err[128];
        CHECK_INT(proto_client_call(c, "echo", "{\"op\":\"echo\"}", "x", 1, 10000, NULL, NULL, NULL,
                                    &status, err, sizeof err),
                  ==, 0);
    }
    proto_client_destroy(&c);
    int status = proc_stop(gateway.gateway, SIGTERM, 30000);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 0); /* 99: valgrind found errors (see gateway.log) */
    stop_all();
}

TEST_MAIN(
    TEST_CASE(two_workers_share_100_requests_each_answered_once),
    TEST_CASE(ten_thousand_partials_arrive_complete_and_in_order),
    TEST_CASE(two_hundred_concurrent_streams_arrive_complete_and_in_order),
    TEST_CASE(killed_worker_fails_its_request_within_three_heartbeats_and_the_survivor_serves),
    TEST_CASE(cancel_reaches_the_worker_and_its_handler_stops),
    TEST_CASE(service_without_worker_fails_within_the_deadline),
    TEST_CASE(service_nobody_runs_fails_after_five_heartbeats_not_the_whole_deadline),
    TEST_CASE(worker_errors_and_missing_replies_reach_the_client),
    TEST_CASE(broker_sleeps_once_quick_traffic_stops),
    TEST_CASE(malformed_messages_do_not_hurt_the_broker),
    TEST_CASE(curve_lets_in_only_allowed_workers),
    TEST_CASE(curve_keys_serve_and_call_only_what_their_certificate_says),
    TEST_CASE(ipc_endpoint_lives_in_a_directory_only_its_user_may_enter),
    TEST_CASE(another_user_cannot_connect_to_the_broker),
    TEST_CASE(a_tcp_broker_takes_curve_even_on_loopback),
    TEST_CASE(broker_under_valgrind_serves_and_exits_clean))
