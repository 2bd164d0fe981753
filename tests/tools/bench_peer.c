/*
 * bench_peer: a worker without a broker, for the broker benchmark's
 * baseline.  It binds a ROUTER at ENDPOINT and answers REQUESTs itself with
 * the same codec and the same ops as test_worker ("echo", and "stream" with
 * n and size), so the only difference measured is the broker hop.
 *
 *   bench_peer ENDPOINT
 */
#include "proto/base/log.h"
#include "proto/socket.h"
#include "proto/wire.h"
#include "proto/base/signals.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench_peer ENDPOINT\n");
        return 2;
    }
    log_init("bench-peer");
    stop_on_signals();
    void *router = proto_socket_new(ZMQ_ROUTER);
    /* The benchmark's bursts outrun any mark: this peer queues them all, as
     * a worker's own DEALER does (see socket.h). */
    int unbounded = 0;
    if (router)
        zmq_setsockopt(router, ZMQ_SNDHWM, &unbounded, sizeof unbounded);
    if (!router || zmq_bind(router, argv[1]) != 0) {
        log_error("cannot bind %s: %s", argv[1], zmq_strerror(errno));
        return 1;
    }
    unsigned char buf[4096] = {0};
    while (!stop_requested()) {
        zmq_pollitem_t item = {.socket = router, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        proto_msg_t m;
        if (proto_recv(router, true, &m, ZMQ_DONTWAIT, NULL, 0) != 0)
            continue;
        if (m.cmd != PROTO_REQUEST) {
            proto_msg_close(&m);
            continue;
        }
        cJSON *h = m.header ? cJSON_ParseWithLength(m.header, m.header_len) : NULL;
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(h, "op");
        if (cJSON_IsString(op) && !strcmp(op->valuestring, "stream")) {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(h, "n");
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(h, "size");
            long count = cJSON_IsNumber(n) ? (long)n->valuedouble : 10;
            size_t bytes = cJSON_IsNumber(size) ? (size_t)size->valuedouble : 8;
            if (bytes < 8 || bytes > sizeof buf)
                bytes = 8;
            for (long i = 0; i < count; i++) {
                memcpy(buf, &i, sizeof i);
                proto_send(
                    router, m.route, m.route_len,
                    &(proto_out_t){
                        .cmd = PROTO_PARTIAL, .id = m.id, .payload = buf, .payload_len = bytes});
            }
            proto_send(router, m.route, m.route_len,
                       &(proto_out_t){.cmd = PROTO_FINAL, .id = m.id, .header = "{}"});
        } else {
            proto_send(router, m.route, m.route_len,
                       &(proto_out_t){.cmd = PROTO_FINAL,
                                      .id = m.id,
                                      .header = "{\"pid\":0}",
                                      .payload = m.payload,
                                      .payload_len = m.payload_len,
                                      .has_payload = m.payload != NULL});
        }
        cJSON_Delete(h);
        proto_msg_close(&m);
    }
    proto_socket_close(&router);
    return 0;
}
