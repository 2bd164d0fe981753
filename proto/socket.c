/*
 * ZeroMQ plumbing (see socket.h).
 */
#include "proto/socket.h"

#include "proto/wire.h"

#include "proto/base/log.h"
#include "proto/base/settings.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_once_t context_once = PTHREAD_ONCE_INIT;
static void *context;

static void context_init(void) {
    zsys_handler_set(NULL);
    zsys_set_logstream(stderr);
    context = zsys_init();
}

void *proto_context(void) {
    pthread_once(&context_once, context_init);
    return context;
}

void *proto_socket_new(int type) {
    void *ctx = proto_context();
    if (!ctx) {
        errno = ENOMEM;
        return NULL;
    }
    void *s = zmq_socket(ctx, type);
    if (!s)
        return NULL;
    int zero = 0, one = 1, hwm = PROTO_SOCKET_HWM;
    int64_t max_frame = PROTO_PAYLOAD_MAX;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    /* What this process sends is bounded by what it does; what others send
     * it, and what a ROUTER holds for peers, by the mark. */
    zmq_setsockopt(s, ZMQ_SNDHWM, type == ZMQ_ROUTER ? &hwm : &zero, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    if (type == ZMQ_ROUTER)
        zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    return s;
}

void proto_socket_close(void **socket_p) {
    if (*socket_p)
        zmq_close(*socket_p);
    *socket_p = NULL;
}

bool proto_endpoint_is_local(const char *ep) {
    if (!strncmp(ep, "inproc://", 9) || !strncmp(ep, "ipc://", 6))
        return true;
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    const char *host = ep + 6;
    return !strncmp(host, "127.", 4) || !strncmp(host, "localhost:", 10) ||
           !strncmp(host, "[::1]:", 6) || !strncmp(host, "lo:", 3);
}

int proto_heartbeat_ms(void) {
    return (int)settings_env_long("LCA_HEARTBEAT_MS", 1000, 10, 60000);
}
