/*
 * Peers driven over the wire by hand, for the tests of proto/: a broker in
 * this process (made small or not, by broker_config_t) with DEALER peers a
 * test connects to it, broker.status read back, a ROUTER standing in for
 * a broker or a client, and the process's log caught to be read.
 *
 *   REQUIRE(broker_start(&(broker_config_t){.heartbeat_ms = 2000}));
 *   void *client = peer(0);
 *   ... proto_send(client, ...); next(client, &m) ...
 *   everything_stop();
 *
 * broker_start also catches stderr (log_count reads it) and, unless the
 * test set one, makes everything_stop the test's exit hook, so that a
 * failed REQUIRE leaves no socket open.
 */
#ifndef LCA_TEST_PROTO_PEERS_H
#define LCA_TEST_PROTO_PEERS_H

#include "proto/base/clock.h"
#include "proto/broker.h"
#include "proto/socket.h"
#include "proto/wire.h"
#include "tests/capture.h"
#include "tests/test.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the broker's log, caught ---- */

/* stderr goes to a file while a test runs, so that the broker's lines can be
 * read (tests/capture.h); everything caught is copied to the real stderr at
 * the end. */
static capture_t caught = {.saved = -1};

static inline void catch_start(void) {
    capture_begin(&caught, 2);
}

/* Everything caught so far, NUL-terminated (the caller frees); NULL on failure. */
static inline char *caught_text(void) {
    return capture_text(&caught);
}

static inline void catch_stop(void) {
    if (caught.saved < 0)
        return;
    char *text = capture_end(&caught);
    if (text)
        fputs(text, stderr);
    free(text);
}

/* How many times the caught log holds needle. */
static inline int log_count(const char *needle) {
    char *text = caught_text();
    if (!text)
        return -1;
    int count = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        count++;
    free(text);
    return count;
}

/* ---- a broker and its peers ---- */

#define PEERS_MAX 8

static broker_t *broker;
static void *peers[PEERS_MAX];

static inline void everything_stop(void) {
    for (int i = 0; i < PEERS_MAX; i++)
        proto_socket_close(&peers[i]);
    broker_destroy(&broker);
    catch_stop();
}

static inline bool broker_start(const broker_config_t *config) {
    if (!test_before_exit)
        test_before_exit = everything_stop;
    catch_start();
    char err[256];
    broker = broker_new(config, err, sizeof err);
    if (!broker)
        fprintf(stderr, "  broker: %s\n", err);
    return broker != NULL;
}

/* A DEALER connected to the broker, closed by everything_stop. */
static inline void *peer(int i) {
    peers[i] = proto_socket_new(ZMQ_DEALER);
    if (peers[i] && zmq_connect(peers[i], broker_local_endpoint(broker)) != 0)
        proto_socket_close(&peers[i]);
    return peers[i];
}

/* The next message for s; false when none comes within 5 s. */
static inline bool next(void *s, proto_msg_t *m) {
    zmq_pollitem_t item = {.socket = s, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, 5000) <= 0)
        return false;
    return proto_recv(s, false, m, 0, NULL, 0) == 0;
}

/* Whether anything waits for s now. */
static inline bool waiting(void *s) {
    zmq_pollitem_t item = {.socket = s, .events = ZMQ_POLLIN};
    return zmq_poll(&item, 1, 0) > 0;
}

/* broker.status, asked by s (which must have nothing else coming), parsed; NULL on failure. */
static inline cJSON *status(void *s) {
    static uint64_t id = 1000000;
    if (proto_send(s, NULL, 0,
                   &(proto_out_t){.cmd = PROTO_REQUEST, .id = ++id, .service = "broker.status"}) !=
        0)
        return NULL;
    proto_msg_t m;
    if (!next(s, &m))
        return NULL;
    cJSON *j =
        m.cmd == PROTO_FINAL && m.id == id ? cJSON_ParseWithLength(m.header, m.header_len) : NULL;
    proto_msg_close(&m);
    return j;
}

/* A number in broker.status: section.key, or key at the top when section is NULL. */
static inline double status_number(void *s, const char *section, const char *key) {
    cJSON *j = status(s);
    const cJSON *in = section ? cJSON_GetObjectItemCaseSensitive(j, section) : j;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
    double n = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(j);
    return n;
}

/* The workers of service, and the services, the broker knows. */
static inline int workers_of(void *s, const char *service, int *services) {
    cJSON *j = status(s);
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(j, "services");
    const cJSON *w =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(all, service), "workers");
    int n = cJSON_IsNumber(w) ? (int)w->valuedouble : 0;
    if (services)
        *services = cJSON_GetArraySize(all);
    cJSON_Delete(j);
    return n;
}

/* Asks broker.status until service has n workers (the broker reads its
 * peers in turn, so a READY sent before may be read after); false after 5 s. */
static inline bool wait_workers(void *s, const char *service, int n) {
    int64_t until = clock_ms() + 5000;
    while (clock_ms() < until)
        if (workers_of(s, service, NULL) == n)
            return true;
    return false;
}

/* ---- a ROUTER in place of the other side ---- */

/* A ROUTER bound at endpoint, standing in for the other side (NULL on
 * failure). */
static inline void *router_new(const char *endpoint) {
    void *r = proto_socket_new(ZMQ_ROUTER);
    if (r && zmq_bind(r, endpoint) != 0)
        proto_socket_close(&r);
    return r;
}

/* The next message a peer sent to router (with its routing id); false when
 * none comes in 2 s. */
static inline bool router_next(void *router, proto_msg_t *m) {
    zmq_pollitem_t item = {.socket = router, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, 2000) <= 0)
        return false;
    return proto_recv(router, true, m, 0, NULL, 0) == 0;
}

#endif
