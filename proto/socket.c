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

static int load_cert(const char *dir, const char *name, bool need_secret, zcert_t **cert, char *err,
                     size_t err_len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char secret[4200];
    snprintf(secret, sizeof secret, "%s_secret", path);
    struct stat st;
    if (stat(need_secret ? secret : path, &st) != 0) {
        snprintf(err, err_len, "CURVE key %s is missing (create keys with `lca keys init`)",
                 need_secret ? secret : path);
        return -ENOENT;
    }
    *cert = zcert_load(path);
    if (!*cert) {
        snprintf(err, err_len, "CURVE key %s could not be read", path);
        return -EINVAL;
    }
    return 0;
}

int proto_curve_server(void *socket, const char *dir, char *err, size_t err_len) {
    zcert_t *cert = NULL;
    int rc = load_cert(dir, "broker.cert", true, &cert, err, err_len);
    if (rc)
        return rc;
    int one = 1;
    zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32);
    zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, zcert_public_key(cert), 32);
    zcert_destroy(&cert);
    return 0;
}

int proto_curve_client(void *socket, const char *dir, char *err, size_t err_len) {
    zcert_t *broker = NULL, *client = NULL;
    int rc = load_cert(dir, "broker.cert", false, &broker, err, err_len);
    if (rc == 0)
        rc = load_cert(dir, "client.cert", true, &client, err, err_len);
    if (rc == 0) {
        zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, zcert_public_key(broker), 32);
        zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, zcert_public_key(client), 32);
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, zcert_secret_key(client), 32);
    }
    zcert_destroy(&broker);
    zcert_destroy(&client);
    return rc;
}

void *proto_curve_auth_start(const char *dir, char *err, size_t err_len) {
    char allowed[4096];
    snprintf(allowed, sizeof allowed, "%s/allowed", dir);
    struct stat st;
    if (stat(allowed, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "CURVE allow-list directory %s is missing", allowed);
        return NULL;
    }
    proto_context();
    zactor_t *auth = zactor_new(zauth, NULL);
    if (!auth) {
        snprintf(err, err_len, "cannot start the CURVE authenticator");
        return NULL;
    }
    if (log_enabled(LOG_DEBUG)) {
        zstr_send(auth, "VERBOSE");
        zsock_wait(auth);
    }
    zstr_sendx(auth, "CURVE", allowed, NULL);
    zsock_wait(auth);
    return auth;
}

void proto_curve_auth_stop(void **auth_p) {
    zactor_t *auth = *auth_p;
    if (auth)
        zactor_destroy(&auth);
    *auth_p = NULL;
}

int proto_heartbeat_ms(void) {
    return (int)settings_env_long("LCA_HEARTBEAT_MS", 1000, 10, 60000);
}
