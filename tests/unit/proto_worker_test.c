/*
 * Tests of proto/worker, the worker side of the broker protocol, with the
 * peers of tests/unit/proto_peers.h: workers of this process (each on a
 * thread of its own) serve a scripted handler, either behind a real broker
 * that clients call, or connected to a ROUTER the test drives as their
 * broker.
 *
 *   behind a broker: a worker registers with its capacity, host and pid;
 *   requests reach the handler with their header and payload, PARTIALs come
 *   back in order before the FINAL; a handler that ends without a reply
 *   becomes ERROR 500; the job functions refuse what they must; ping is
 *   answered by the worker itself; CANCEL reaches the job and its hook;
 *   capacity jobs run at once; a worker waits for a broker whose socket is
 *   not there yet;
 *   by hand: READY then heartbeats, kept while the broker beats back;
 *   registering again after a silent broker or a DISCONNECT; a refusal is
 *   logged with its reason; bad frames from the broker are each logged as
 *   a malformed message and the worker serves on.
 *
 * Workers stop only with stop_request(), for the rest of the process: they
 * run until the last test, which stops them all (a DISCONNECT to the broker,
 * running jobs cancelled).
 */
#include "proto/worker.h"
#include "tests/unit/proto_peers.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#define HEARTBEAT_MS 200

/* ---- what the handler saw ---- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int started, ended; /* handler calls begun and returned */
    int hooks;          /* cancel hooks run */
    int handler_saw_cancel;
    bool gate_open;
    int after_cancel_partial, after_cancel_final;
    int bad_header, not_object, final_rc, partial_after, final_after, error_after;
    bool no_header_is_empty_object, no_payload_is_null;
} seen = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void seen_lock(void) {
    pthread_mutex_lock(&seen.lock);
}

/* Unlocks, telling waiters something changed. */
static void seen_unlock(void) {
    pthread_cond_broadcast(&seen.changed);
    pthread_mutex_unlock(&seen.lock);
}

/* Waits until done() (called under the lock) or ms pass; returns done(). */
static bool seen_wait(bool (*done)(void), int ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&seen.lock);
    bool ok;
    while (!(ok = done()) && pthread_cond_timedwait(&seen.changed, &seen.lock, &until) == 0)
        ;
    ok = done();
    pthread_mutex_unlock(&seen.lock);
    return ok;
}

static int ended_wanted;
static bool ended_enough(void) {
    return seen.ended >= ended_wanted;
}

static void on_cancel_hook(void *arg) {
    (void)arg;
    seen_lock();
    seen.hooks++;
    seen_unlock();
}

/* {"op": "echo" | "stream" (n) | "silent" | "calls" | "inspect" | "hold" | "gate"} */
static void handle(proto_job_t *job, void *arg) {
    (void)arg;
    seen_lock();
    seen.started++;
    seen_unlock();
    const char *op =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "op"));
    size_t len = 0;
    const void *payload = proto_job_payload(job, &len);
    if (!op) { /* no header at all */
        size_t header_len = 1;
        const char *header = proto_job_header(job, &header_len);
        seen_lock();
        seen.no_header_is_empty_object = cJSON_IsObject(proto_job_json(job)) &&
                                         !proto_job_json(job)->child && header_len == 0 && header &&
                                         !*header;
        seen.no_payload_is_null = payload == NULL && len == 0;
        seen_unlock();
        proto_job_final(job, NULL, NULL, 0);
    } else if (!strcmp(op, "echo")) {
        char header[64];
        snprintf(header, sizeof header, "{\"id_seen\":%llu}",
                 (unsigned long long)proto_job_id(job));
        proto_job_final(job, header, payload, len);
    } else if (!strcmp(op, "stream")) {
        int n =
            (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "n"));
        for (int i = 0; i < n; i++)
            proto_job_partial(job, NULL, &i, sizeof i);
        proto_job_final(job, "{\"done\":true}", "end", 3);
    } else if (!strcmp(op, "calls")) {
        int bad = proto_job_partial(job, "not json", NULL, 0);
        int array = proto_job_final(job, "[1,2]", NULL, 0); /* refused: the job goes on */
        int final = proto_job_final(job, "{\"ok\":true}", NULL, 0);
        int partial_after = proto_job_partial(job, NULL, "x", 1);
        int final_after = proto_job_final(job, NULL, NULL, 0);
        int error_after = proto_job_error(job, 500, "too late");
        seen_lock();
        seen.bad_header = bad, seen.not_object = array, seen.final_rc = final;
        seen.partial_after = partial_after, seen.final_after = final_after;
        seen.error_after = error_after;
        seen_unlock();
    } else if (!strcmp(op, "hold")) {
        proto_job_on_cancel(job, on_cancel_hook, NULL);
        proto_job_partial(job, "{\"started\":true}", NULL, 0);
        /* The hook signals seen.changed: wait for it, not for a time. */
        seen_lock();
        while (!proto_job_cancelled(job))
            pthread_cond_wait(&seen.changed, &seen.lock);
        seen_unlock();
        int partial = proto_job_partial(job, NULL, NULL, 0);
        int final = proto_job_final(job, NULL, NULL, 0);
        seen_lock();
        seen.handler_saw_cancel++;
        seen.after_cancel_partial = partial, seen.after_cancel_final = final;
        seen_unlock();
    } else if (!strcmp(op, "gate")) {
        proto_job_partial(job, "{\"started\":true}", NULL, 0);
        seen_lock();
        while (!seen.gate_open)
            pthread_cond_wait(&seen.changed, &seen.lock);
        seen_unlock();
        proto_job_final(job, NULL, NULL, 0);
    } /* "silent": no reply at all */
    seen_lock();
    seen.ended++;
    seen_unlock();
}

/* ---- workers, on threads until the last test ---- */

#define WORKERS_MAX 12
static proto_worker_t *workers[WORKERS_MAX];
static pthread_t threads[WORKERS_MAX];
static int nworkers;
#define FAKES 5
static void *fakes[FAKES]; /* ROUTERs standing in for a broker */

static void *worker_main(void *w) {
    proto_worker_run(w);
    return NULL;
}

/* Stops every worker and closes everything (the last test, or a failed
 * REQUIRE's exit). */
static void all_stop(void) {
    stop_request();
    for (int i = 0; i < nworkers; i++) {
        pthread_join(threads[i], NULL);
        proto_worker_destroy(&workers[i]);
    }
    nworkers = 0;
    for (int i = 0; i < FAKES; i++)
        proto_socket_close(&fakes[i]);
    everything_stop();
}

/* A client of the broker, the same for every test. */
static void *client_of_broker(void) {
    return peers[0] ? peers[0] : peer(0);
}

/* The broker every test may use, and its log caught. */
static bool setup(void) {
    test_before_exit = all_stop;
    return broker || broker_start(&(broker_config_t){.heartbeat_ms = HEARTBEAT_MS});
}

static proto_worker_t *worker_start(const char *endpoint, const char *service, int capacity) {
    char err[512];
    if (nworkers == WORKERS_MAX)
        return NULL;
    proto_worker_t *w = proto_worker_new(&(proto_worker_config_t){.endpoint = endpoint,
                                                                  .service = service,
                                                                  .capacity = capacity,
                                                                  .heartbeat_ms = HEARTBEAT_MS,
                                                                  .handler = handle},
                                         err, sizeof err);
    if (!w) {
        fprintf(stderr, "  worker %s: %s\n", service, err);
        return NULL;
    }
    if (pthread_create(&threads[nworkers], NULL, worker_main, w) != 0) {
        proto_worker_destroy(&w);
        return NULL;
    }
    return workers[nworkers++] = w;
}

/* A ROUTER at inproc://worker-test-<i> as a worker's broker, and a worker
 * of service on it whose READY was read (its routing id into route). */
static bool fake_start(int i, const char *service, int capacity, uint8_t *route,
                       size_t *route_len) {
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://worker-test-%d", i);
    fakes[i] = router_new(endpoint);
    proto_msg_t m;
    if (!fakes[i] || !worker_start(endpoint, service, capacity) || !router_next(fakes[i], &m))
        return false;
    bool ok = m.cmd == PROTO_READY && !strcmp(m.service, service);
    memcpy(route, m.route, m.route_len);
    *route_len = m.route_len;
    proto_msg_close(&m);
    return ok;
}

/* The next message from the worker on a fake broker that is not a
 * HEARTBEAT (each answered with one, as a broker does); false after 2 s. */
static bool fake_next(void *fake, proto_msg_t *m) {
    while (router_next(fake, m)) {
        if (m->cmd != PROTO_HEARTBEAT)
            return true;
        proto_send(fake, m->route, m->route_len, &(proto_out_t){.cmd = PROTO_HEARTBEAT});
        proto_msg_close(m);
    }
    return false;
}

/* A request from a client (or a fake broker: route) with a JSON header. */
static int send_request(void *s, const uint8_t *route, size_t route_len, uint64_t id,
                        const char *service, const char *header, const void *payload, size_t len) {
    return proto_send(s, route, route_len,
                      &(proto_out_t){.cmd = PROTO_REQUEST,
                                     .id = id,
                                     .service = service,
                                     .header = header,
                                     .payload = payload,
                                     .payload_len = len,
                                     .has_payload = payload != NULL});
}

/* The status and message of an ERROR. */
static int error_of(const proto_msg_t *m, char *message, size_t cap) {
    int status = 0;
    message[0] = '\0';
    if (m->cmd == PROTO_ERROR)
        proto_error_parse(m, &status, message, cap);
    return status;
}

/* A number, true or a string in a message's header. */
static double header_number(const proto_msg_t *m, const char *key) {
    cJSON *h = cJSON_ParseWithLength(m->header, m->header_len);
    double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, key));
    cJSON_Delete(h);
    return v;
}

static bool header_true(const proto_msg_t *m, const char *key) {
    cJSON *h = cJSON_ParseWithLength(m->header, m->header_len);
    bool yes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, key));
    cJSON_Delete(h);
    return yes;
}

static bool header_says(const proto_msg_t *m, const char *key, const char *want) {
    cJSON *h = cJSON_ParseWithLength(m->header, m->header_len);
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, key));
    bool same = v && !strcmp(v, want);
    cJSON_Delete(h);
    return same;
}

/* Polls the caught log until it holds needle (at least n times); false after 5 s. */
static bool log_wait(const char *needle, int n) {
    int64_t until = clock_ms() + 5000;
    struct timespec nap = {0, 5 * 1000000L};
    while (log_count(needle) < n && clock_ms() < until)
        nanosleep(&nap, NULL);
    return log_count(needle) >= n;
}

/* ---- a worker's configuration ---- */

TEST(a_worker_needs_an_endpoint_a_handler_a_service_and_a_usable_broker_address) {
    REQUIRE(setup());
    char err[512];
    const proto_worker_config_t bad[] = {
        {.service = "svc", .handler = handle},
        {.endpoint = "inproc://x", .service = "svc"},
        {.endpoint = "inproc://x", .service = "Not A Service", .handler = handle},
        {.endpoint = "inproc://x", .handler = handle},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(proto_worker_new(&bad[i], err, sizeof err) == NULL);
        CHECK(strstr(err, "a valid service name") != NULL);
    }
    /* A broker directory others may enter is refused, not joined. */
    char dir[64], endpoint[128];
    snprintf(dir, sizeof dir, "/tmp/lca-worker-XXXXXX");
    REQUIRE(mkdtemp(dir));
    REQUIRE(chmod(dir, 0755) == 0);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/broker", dir);
    proto_worker_config_t open_dir = {.endpoint = endpoint, .service = "svc", .handler = handle};
    CHECK(proto_worker_new(&open_dir, err, sizeof err) == NULL);
    CHECK(strstr(err, "no one else may enter") != NULL);
    /* CURVE keys that are not there. */
    proto_worker_config_t keys = {
        .endpoint = "inproc://x", .service = "svc", .curve_dir = dir, .handler = handle};
    CHECK(proto_worker_new(&keys, err, sizeof err) == NULL);
    CHECK(strstr(err, "broker.cert is missing") != NULL);
    /* The whole life of a worker process that cannot start: 1, logged. */
    CHECK_INT(proto_worker_serve(&keys), ==, 1);
    CHECK(log_wait("broker.cert is missing", 1));
    rmdir(dir);
}

/* ---- behind a real broker ---- */

TEST(a_worker_registers_with_its_capacity_host_and_pid) {
    REQUIRE(setup());
    void *client = client_of_broker();
    REQUIRE(client && worker_start(broker_local_endpoint(broker), "w.echo", 3));
    REQUIRE(wait_workers(client, "w.echo", 1));
    cJSON *j = status(client);
    const cJSON *w, *mine = NULL;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j, "workers")) {
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "service")), "w.echo"))
            mine = w;
    }
    REQUIRE(mine);
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mine, "capacity")), ==, 3);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mine, "pid")), ==, getpid());
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mine, "host")), host);
    cJSON_Delete(j);
}

TEST(requests_reach_the_handler_and_replies_come_back_in_order) {
    REQUIRE(setup());
    void *client = client_of_broker();
    REQUIRE(client);
    if (!workers_of(client, "w.echo", NULL))
        REQUIRE(worker_start(broker_local_endpoint(broker), "w.echo", 3) &&
                wait_workers(client, "w.echo", 1));
    proto_msg_t m;
    CHECK_INT(send_request(client, NULL, 0, 11, "w.echo", "{\"op\":\"echo\"}", "bytes\0in", 8), ==,
              0);
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 11);
    CHECK(m.payload_len == 8 && !memcmp(m.payload, "bytes\0in", 8));
    CHECK(header_number(&m, "id_seen") > 0); /* the broker's id, not the client's */
    proto_msg_close(&m);

    CHECK_INT(send_request(client, NULL, 0, 12, "w.echo", "{\"op\":\"stream\",\"n\":40}", NULL, 0),
              ==, 0);
    int partials = 0;
    bool in_order = true;
    while (next(client, &m) && m.cmd == PROTO_PARTIAL) {
        int i = -1;
        if (m.payload_len == sizeof i)
            memcpy(&i, m.payload, sizeof i);
        in_order &= m.id == 12 && i == partials;
        partials++;
        proto_msg_close(&m);
    }
    CHECK_INT(partials, ==, 40);
    CHECK(in_order);
    CHECK(m.cmd == PROTO_FINAL && m.id == 12 && m.payload_len == 3);
    CHECK(header_true(&m, "done"));
    proto_msg_close(&m);

    /* No header and no payload: the handler sees {} and NULL. */
    seen_lock();
    ended_wanted = seen.ended + 1;
    seen_unlock();
    CHECK_INT(proto_send(client, NULL, 0,
                         &(proto_out_t){.cmd = PROTO_REQUEST, .id = 13, .service = "w.echo"}),
              ==, 0);
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 13);
    proto_msg_close(&m);
    CHECK(seen_wait(ended_enough, 2000));
    CHECK(seen.no_header_is_empty_object);
    CHECK(seen.no_payload_is_null);
}

TEST(a_handler_without_a_reply_is_an_error_500_and_job_functions_refuse_what_they_must) {
    REQUIRE(setup());
    void *client = client_of_broker();
    REQUIRE(client && worker_start(broker_local_endpoint(broker), "w.script", 2));
    REQUIRE(wait_workers(client, "w.script", 1));
    proto_msg_t m;
    char message[256];
    CHECK_INT(send_request(client, NULL, 0, 21, "w.script", "{\"op\":\"silent\"}", NULL, 0), ==, 0);
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_ERROR && m.id == 21);
    CHECK_INT(error_of(&m, message, sizeof message), ==, 500);
    CHECK_STR(message, "the handler ended without a reply");
    proto_msg_close(&m);

    seen_lock();
    ended_wanted = seen.ended + 1;
    seen_unlock();
    CHECK_INT(send_request(client, NULL, 0, 22, "w.script", "{\"op\":\"calls\"}", NULL, 0), ==, 0);
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 22 && header_true(&m, "ok"));
    proto_msg_close(&m);
    REQUIRE(seen_wait(ended_enough, 2000));
    CHECK_INT(seen.bad_header, ==, -EINVAL);
    CHECK_INT(seen.not_object, ==, -EINVAL);
    CHECK_INT(seen.final_rc, ==, 0);
    CHECK_INT(seen.partial_after, ==, -EALREADY);
    CHECK_INT(seen.final_after, ==, -EALREADY);
    CHECK_INT(seen.error_after, ==, -EALREADY);
    /* Exactly one reply: nothing else is on its way. */
    CHECK_INT(send_request(client, NULL, 0, 23, "w.script", "{\"op\":\"echo\"}", NULL, 0), ==, 0);
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 23);
    proto_msg_close(&m);
}

TEST(ping_is_answered_by_the_worker_itself) {
    REQUIRE(setup());
    void *client = client_of_broker();
    REQUIRE(client);
    if (!workers_of(client, "w.script", NULL))
        REQUIRE(worker_start(broker_local_endpoint(broker), "w.script", 2) &&
                wait_workers(client, "w.script", 1));
    seen_lock();
    int started = seen.started;
    seen_unlock();
    CHECK_INT(send_request(client, NULL, 0, 31, "w.script", "{\"op\":\"ping\"}", NULL, 0), ==, 0);
    proto_msg_t m;
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 31);
    CHECK(header_true(&m, "pong"));
    CHECK(header_says(&m, "service", "w.script"));
    CHECK_INT(header_number(&m, "pid"), ==, getpid());
    proto_msg_close(&m);
    seen_lock();
    CHECK_INT(seen.started, ==, started); /* the handler never saw it */
    seen_unlock();
}

static int hooks_wanted;
static bool hooked_and_ended(void) {
    return seen.hooks >= hooks_wanted && seen.ended >= ended_wanted;
}

TEST(cancel_reaches_the_job_and_its_hook) {
    REQUIRE(setup());
    void *client = client_of_broker();
    REQUIRE(client && worker_start(broker_local_endpoint(broker), "w.hold", 1));
    REQUIRE(wait_workers(client, "w.hold", 1));
    seen_lock();
    hooks_wanted = seen.hooks + 1;
    ended_wanted = seen.ended + 1;
    int saw_cancel = seen.handler_saw_cancel;
    seen_unlock();
    CHECK_INT(send_request(client, NULL, 0, 41, "w.hold", "{\"op\":\"hold\"}", NULL, 0), ==, 0);
    proto_msg_t m;
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_PARTIAL && m.id == 41 && header_true(&m, "started"));
    proto_msg_close(&m);
    CHECK_INT(proto_send(client, NULL, 0, &(proto_out_t){.cmd = PROTO_CANCEL, .id = 41}), ==, 0);
    REQUIRE(seen_wait(hooked_and_ended, 5000));
    seen_lock();
    CHECK_INT(seen.hooks, ==, hooks_wanted); /* once */
    CHECK_INT(seen.handler_saw_cancel, ==, saw_cancel + 1);
    CHECK_INT(seen.after_cancel_partial, ==, -ECANCELED);
    CHECK_INT(seen.after_cancel_final, ==, -ECANCELED);
    seen_unlock();
    /* The slot is free again, and the cancelled job sent nothing more. */
    CHECK_INT(send_request(client, NULL, 0, 42, "w.hold", "{\"op\":\"echo\"}", NULL, 0), ==, 0);
    REQUIRE(next(client, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 42);
    proto_msg_close(&m);
}

TEST(capacity_jobs_run_at_once) {
    REQUIRE(setup());
    void *client = client_of_broker();
    REQUIRE(client && worker_start(broker_local_endpoint(broker), "w.gate", 2));
    REQUIRE(wait_workers(client, "w.gate", 1));
    seen_lock();
    seen.gate_open = false;
    seen_unlock();
    CHECK_INT(send_request(client, NULL, 0, 51, "w.gate", "{\"op\":\"gate\"}", NULL, 0), ==, 0);
    CHECK_INT(send_request(client, NULL, 0, 52, "w.gate", "{\"op\":\"gate\"}", NULL, 0), ==, 0);
    /* Both start while neither can end. */
    proto_msg_t m;
    uint64_t started = 0;
    for (int i = 0; i < 2; i++) {
        REQUIRE(next(client, &m));
        CHECK(m.cmd == PROTO_PARTIAL);
        started += m.id;
        proto_msg_close(&m);
    }
    CHECK_INT(started, ==, 51 + 52);
    seen_lock();
    seen.gate_open = true;
    seen_unlock();
    uint64_t ended = 0;
    for (int i = 0; i < 2; i++) {
        REQUIRE(next(client, &m));
        CHECK(m.cmd == PROTO_FINAL);
        ended += m.id;
        proto_msg_close(&m);
    }
    CHECK_INT(ended, ==, 51 + 52);
}

TEST(a_worker_waits_for_a_broker_whose_socket_is_not_there_yet) {
    REQUIRE(setup());
    char dir[64], endpoint[128], err[512];
    snprintf(dir, sizeof dir, "/tmp/lca-worker-XXXXXX");
    REQUIRE(mkdtemp(dir));
    snprintf(endpoint, sizeof endpoint, "ipc://%s/later/broker", dir);
    REQUIRE(worker_start(endpoint, "w.late", 1));
    char said[256];
    snprintf(said, sizeof said,
             "%s/later: No such file or directory (is the gateway running?); "
             "will try again",
             dir);
    CHECK(log_wait(said, 1));
    broker_t *late = broker_new(
        &(broker_config_t){.endpoint = endpoint, .heartbeat_ms = HEARTBEAT_MS}, err, sizeof err);
    REQUIRE(late);
    void *client = proto_socket_new(ZMQ_DEALER);
    bool connected = client && zmq_connect(client, broker_local_endpoint(late)) == 0;
    CHECK(connected);
    if (connected) {
        CHECK(wait_workers(client, "w.late", 1));
        CHECK_INT(send_request(client, NULL, 0, 61, "w.late", "{\"op\":\"echo\"}", "!", 1), ==, 0);
        proto_msg_t m;
        CHECK(next(client, &m) && m.cmd == PROTO_FINAL && m.id == 61);
        proto_msg_close(&m);
    }
    proto_socket_close(&client);
    broker_destroy(&late);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* ---- a broker by hand ---- */

TEST(a_worker_says_ready_then_beats_and_stays_while_the_broker_beats_back) {
    REQUIRE(setup());
    uint8_t route[PROTO_ROUTE_MAX];
    size_t route_len = 0;
    REQUIRE(fake_start(0, "fake.ready", 3, route, &route_len));
    /* Heartbeats follow, from the same connection. */
    int beats = 0;
    bool same_route = true, only_beats = true;
    proto_msg_t m;
    while (beats < 5 && router_next(fakes[0], &m)) {
        same_route &= m.route_len == route_len && !memcmp(m.route, route, route_len);
        only_beats &= m.cmd == PROTO_HEARTBEAT && m.id == 0 && !m.payload;
        beats += m.cmd == PROTO_HEARTBEAT;
        proto_send(fakes[0], m.route, m.route_len, &(proto_out_t){.cmd = PROTO_HEARTBEAT});
        proto_msg_close(&m);
    }
    CHECK_INT(beats, ==, 5); /* five intervals, longer than three: no second READY */
    CHECK(same_route);
    CHECK(only_beats);
}

TEST(a_ready_carries_capacity_host_and_pid) {
    REQUIRE(setup());
    char endpoint[64] = "inproc://worker-test-1";
    fakes[1] = router_new(endpoint);
    REQUIRE(fakes[1] && worker_start(endpoint, "fake.hdr", 4));
    proto_msg_t m;
    REQUIRE(router_next(fakes[1], &m));
    CHECK(m.cmd == PROTO_READY);
    CHECK_STR(m.service, "fake.hdr");
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    CHECK_INT(header_number(&m, "capacity"), ==, 4);
    CHECK_INT(header_number(&m, "pid"), ==, getpid());
    CHECK(header_says(&m, "host", host));
    proto_msg_close(&m);
}

TEST(a_silent_broker_or_a_disconnect_makes_the_worker_register_again) {
    REQUIRE(setup());
    uint8_t route[PROTO_ROUTE_MAX];
    size_t route_len = 0;
    REQUIRE(fake_start(2, "fake.again", 1, route, &route_len));
    /* Silence (heartbeats unanswered): after three intervals, a new
     * connection says READY. */
    proto_msg_t m;
    int beats = 0;
    while (router_next(fakes[2], &m) && m.cmd == PROTO_HEARTBEAT) {
        beats++;
        proto_msg_close(&m);
    }
    CHECK(m.cmd == PROTO_READY);
    CHECK(beats >= 1);
    CHECK(m.route_len != route_len || memcmp(m.route, route, route_len) != 0);
    char said[128];
    snprintf(said, sizeof said, "the broker was silent for %d ms", 3 * HEARTBEAT_MS);
    CHECK(log_count(said) >= 1);
    /* A DISCONNECT without a reason: register again, after a heartbeat. */
    memcpy(route, m.route, m.route_len);
    route_len = m.route_len;
    proto_msg_close(&m);
    CHECK_INT(proto_send(fakes[2], route, route_len, &(proto_out_t){.cmd = PROTO_DISCONNECT}), ==,
              0);
    REQUIRE(fake_next(fakes[2], &m));
    CHECK(m.cmd == PROTO_READY && !strcmp(m.service, "fake.again"));
    CHECK(m.route_len != route_len || memcmp(m.route, route, route_len) != 0);
    CHECK(log_count("the broker asked us to register again") >= 1);
    memcpy(route, m.route, m.route_len);
    route_len = m.route_len;
    proto_msg_close(&m);
    /* A refusal says why, and waits the longest back-off. */
    CHECK_INT(proto_send(fakes[2], route, route_len,
                         &(proto_out_t){.cmd = PROTO_DISCONNECT,
                                        .header = "{\"message\":\"this key may not serve "
                                                  "fake.again\"}"}),
              ==, 0);
    CHECK(log_wait("the broker refused us: this key may not serve fake.again; reconnecting to "
                   "inproc://worker-test-2 in 8000 ms",
                   1));
}

TEST(bad_frames_from_the_broker_are_logged_and_the_worker_serves_on) {
    REQUIRE(setup());
    uint8_t route[PROTO_ROUTE_MAX];
    size_t route_len = 0;
    REQUIRE(fake_start(3, "fake.bad", 1, route, &route_len));
    void *f = fakes[3];
    static const uint8_t id0[8] = {0}, id9[8] = {9};
    static const struct {
        const char *why; /* what the worker must log */
        int n;           /* frames after the routing id */
        const char *frames[7];
        size_t lens[7];
    } bad[] = {
        {"too few frames", 1, {"garbage"}, {7}},
        {"not an lca message (bad signature)",
         5,
         {"XYZ\x01", "\x07", (const char *)id0, "", ""},
         {4, 1, 8, 0, 0}},
        {"protocol version 7 is not supported",
         5,
         {"LCA\x07", "\x07", (const char *)id0, "", ""},
         {4, 1, 8, 0, 0}},
        {"unknown command", 5, {"LCA\x01", "\x2a", (const char *)id0, "", ""}, {4, 1, 8, 0, 0}},
        {"command frame must be one byte",
         5,
         {"LCA\x01", "\x02\x02", (const char *)id9, "svc", ""},
         {4, 2, 8, 3, 0}},
        {"id frame must be 8 bytes",
         5,
         {"LCA\x01", "\x02", "\x09", "fake.bad", ""},
         {4, 1, 1, 8, 0}},
        {"REQUEST needs an id",
         5,
         {"LCA\x01", "\x02", (const char *)id0, "fake.bad", ""},
         {4, 1, 8, 8, 0}},
        {"REQUEST has an invalid service name",
         5,
         {"LCA\x01", "\x02", (const char *)id9, "Bad Name!", ""},
         {4, 1, 8, 9, 0}},
        {"header is not a JSON object",
         5,
         {"LCA\x01", "\x02", (const char *)id9, "fake.bad", "[1,2]"},
         {4, 1, 8, 8, 5}},
        {"HEARTBEAT takes no payload",
         6,
         {"LCA\x01", "\x07", (const char *)id0, "", "", "x"},
         {4, 1, 8, 0, 0, 1}},
        {"too many frames",
         7,
         {"LCA\x01", "\x07", (const char *)id0, "", "", "", ""},
         {4, 1, 8, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zmq_send(f, route, route_len, ZMQ_SNDMORE);
        for (int k = 0; k < bad[i].n; k++)
            zmq_send(f, bad[i].frames[k], bad[i].lens[k], k + 1 < bad[i].n ? ZMQ_SNDMORE : 0);
    }
    /* Messages a broker has no business sending, and a CANCEL for nothing:
     * ignored. */
    proto_send(f, route, route_len, &(proto_out_t){.cmd = PROTO_FINAL, .id = 5});
    proto_send(f, route, route_len, &(proto_out_t){.cmd = PROTO_READY, .service = "x"});
    proto_send(f, route, route_len, &(proto_out_t){.cmd = PROTO_CANCEL, .id = 12345});
    /* And it serves on, on the same connection. */
    CHECK_INT(send_request(f, route, route_len, 77, "fake.bad", "{\"op\":\"ping\"}", NULL, 0), ==,
              0);
    proto_msg_t m;
    REQUIRE(fake_next(f, &m));
    CHECK(m.cmd == PROTO_FINAL && m.id == 77);
    CHECK(m.route_len == route_len && !memcmp(m.route, route, route_len));
    CHECK(header_says(&m, "service", "fake.bad"));
    proto_msg_close(&m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[160];
        snprintf(line, sizeof line, "rejected a malformed message from the broker: %s", bad[i].why);
        if (log_count(line) != 1)
            fprintf(stderr, "  not logged once: \"%s\"\n", line);
        CHECK_INT(log_count(line), ==, 1);
    }
    CHECK_INT(log_count("rejected a malformed message from the broker"), ==,
              (int)(sizeof bad / sizeof bad[0]));
}

/* Last: stopping says DISCONNECT, cancels running jobs and returns. */
TEST(stopping_says_disconnect_and_cancels_running_jobs) {
    REQUIRE(setup());
    char endpoint[64] = "inproc://worker-test-stop";
    void *f = fakes[4] = router_new(endpoint);
    REQUIRE(f && worker_start(endpoint, "fake.stop", 1));
    proto_msg_t m;
    REQUIRE(router_next(f, &m) && m.cmd == PROTO_READY);
    uint8_t route[PROTO_ROUTE_MAX];
    size_t route_len = m.route_len;
    memcpy(route, m.route, route_len);
    proto_msg_close(&m);
    seen_lock();
    hooks_wanted = seen.hooks + 1;
    ended_wanted = seen.ended + 1;
    seen_unlock();
    CHECK_INT(send_request(f, route, route_len, 91, "fake.stop", "{\"op\":\"hold\"}", NULL, 0), ==,
              0);
    REQUIRE(fake_next(f, &m));
    CHECK(m.cmd == PROTO_PARTIAL && m.id == 91);
    proto_msg_close(&m);

    stop_request();
    CHECK(fake_next(f, &m) && m.cmd == PROTO_DISCONNECT);
    proto_msg_close(&m);
    CHECK(seen_wait(hooked_and_ended, 5000));
    /* Every worker's run returns; the broker hears they are gone. */
    void *client = client_of_broker();
    for (int i = 0; i < nworkers; i++) {
        pthread_join(threads[i], NULL);
        proto_worker_destroy(&workers[i]);
        CHECK(workers[i] == NULL);
    }
    nworkers = 0;
    CHECK(client && wait_workers(client, "w.echo", 0));
    all_stop();
}

TEST_MAIN(
    TEST_CASE(a_worker_needs_an_endpoint_a_handler_a_service_and_a_usable_broker_address),
    TEST_CASE(a_worker_registers_with_its_capacity_host_and_pid),
    TEST_CASE(requests_reach_the_handler_and_replies_come_back_in_order),
    TEST_CASE(a_handler_without_a_reply_is_an_error_500_and_job_functions_refuse_what_they_must),
    TEST_CASE(ping_is_answered_by_the_worker_itself),
    TEST_CASE(cancel_reaches_the_job_and_its_hook), TEST_CASE(capacity_jobs_run_at_once),
    TEST_CASE(a_worker_waits_for_a_broker_whose_socket_is_not_there_yet),
    TEST_CASE(a_worker_says_ready_then_beats_and_stays_while_the_broker_beats_back),
    TEST_CASE(a_ready_carries_capacity_host_and_pid),
    TEST_CASE(a_silent_broker_or_a_disconnect_makes_the_worker_register_again),
    TEST_CASE(bad_frames_from_the_broker_are_logged_and_the_worker_serves_on),
    TEST_CASE(stopping_says_disconnect_and_cancels_running_jobs))
