/*
 * CURVE keys and the ZAP authenticator (see curve.h).
 *
 * The authenticator thread answers libzmq's ZAP requests on
 * inproc://zeromq.zap.01 (RFC 27): version "1.0", request id, domain,
 * address, routing id, mechanism, credentials; and replies version, request
 * id, status code ("200" or "400"), status text, user id and metadata
 * (none).  For CURVE the credentials are the client's 32-byte public key:
 * allowed when a certificate in the allow-list has it, and then the user id
 * is that key in Z85, which libzmq attaches to every message of the
 * connection.  Other mechanisms: NULL is let through (libzmq asks about
 * those only for sockets given a ZAP domain, which lca's plain sockets are
 * not), anything else refused.
 */
#include "proto/curve.h"

#include "proto/base/log.h"
#include "proto/socket.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES_MAX 8

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
    /* zcert_load falls back to the public file when the secret one does not
     * parse, and reads a secret key of the wrong length as 32 zero bytes:
     * either way the certificate would hold a secret key that is not its
     * public key's pair.  The public key must follow from the secret one. */
    char derived[41];
    if (need_secret && (zmq_curve_public(derived, zcert_secret_txt(*cert)) != 0 ||
                        strcmp(derived, zcert_public_txt(*cert)) != 0)) {
        snprintf(err, err_len,
                 "CURVE key %s is damaged: it holds no secret key for the public key of %s", secret,
                 path);
        zcert_destroy(cert);
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

struct curve_auth {
    pthread_t thread;
    void *handler;         /* REP on ZAP_ENDPOINT: the thread's */
    void *pipe_main;       /* PAIR: stop, from proto_curve_auth_stop */
    void *pipe_thread;     /* PAIR: the thread's end */
    zcertstore_t *allowed; /* the thread's; refreshes itself on lookup */
    char allowed_dir[4096];
    char pipe[64]; /* the PAIRs' inproc address */
};

/* Answers one ZAP request waiting on the handler socket. */
static void zap_answer(curve_auth_t *a) {
    zmq_msg_t frames[ZAP_FRAMES_MAX];
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t scratch, *f = n < ZAP_FRAMES_MAX ? &frames[n] : &scratch;
        zmq_msg_init(f);
        if (zmq_msg_recv(f, a->handler, 0) < 0) {
            zmq_msg_close(f);
            break;
        }
        more = zmq_msg_more(f);
        if (f == &scratch)
            zmq_msg_close(f);
        else
            n++;
    }
    const char *status = "400", *text = "No access";
    char user[41] = "";
    if (n >= 6 && zmq_msg_size(&frames[0]) == 3 && !memcmp(zmq_msg_data(&frames[0]), "1.0", 3)) {
        const char *mechanism = zmq_msg_data(&frames[5]);
        size_t mechanism_len = zmq_msg_size(&frames[5]);
        if (mechanism_len == 5 && !memcmp(mechanism, "CURVE", 5) && n >= 7 &&
            zmq_msg_size(&frames[6]) == 32) {
            zmq_z85_encode(user, zmq_msg_data(&frames[6]), 32);
            if (zcertstore_lookup(a->allowed, user)) {
                status = "200", text = "OK";
            } else {
                log_info("refused a CURVE key that is not in %s: %s", a->allowed_dir, user);
                user[0] = '\0';
            }
        } else if (mechanism_len == 4 && !memcmp(mechanism, "NULL", 4)) {
            status = "200", text = "OK";
        }
    }
    /* The request id goes back as it came (frame 1), whatever it holds. */
    zmq_send(a->handler, "1.0", 3, ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send(a->handler, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), ZMQ_SNDMORE);
    else
        zmq_send(a->handler, "", 0, ZMQ_SNDMORE);
    zmq_send(a->handler, status, 3, ZMQ_SNDMORE);
    zmq_send(a->handler, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(a->handler, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(a->handler, "", 0, 0);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

static void *auth_thread(void *arg) {
    curve_auth_t *a = arg;
    a->allowed = zcertstore_new(a->allowed_dir);
    zmq_pollitem_t items[2] = {{.socket = a->pipe_thread, .events = ZMQ_POLLIN},
                               {.socket = a->handler, .events = ZMQ_POLLIN}};
    while (zmq_poll(items, 2, -1) >= 0 || errno == EINTR) {
        if (items[0].revents & ZMQ_POLLIN)
            break;
        if (items[1].revents & ZMQ_POLLIN)
            zap_answer(a);
    }
    zcertstore_destroy(&a->allowed);
    return NULL;
}

curve_auth_t *proto_curve_auth_start(const char *dir, char *err, size_t err_len) {
    curve_auth_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    snprintf(a->allowed_dir, sizeof a->allowed_dir, "%s/allowed", dir);
    struct stat st;
    if (stat(a->allowed_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "CURVE allow-list directory %s is missing", a->allowed_dir);
        free(a);
        return NULL;
    }
    snprintf(a->pipe, sizeof a->pipe, "inproc://lca-curve-auth-%p", (void *)a);
    a->handler = proto_socket_new(ZMQ_REP);
    a->pipe_thread = proto_socket_new(ZMQ_PAIR);
    a->pipe_main = proto_socket_new(ZMQ_PAIR);
    if (!a->handler || !a->pipe_thread || !a->pipe_main) {
        snprintf(err, err_len, "cannot create the CURVE authenticator's sockets");
        goto fail;
    }
    if (zmq_bind(a->handler, ZAP_ENDPOINT) != 0) {
        snprintf(err, err_len, "cannot start the CURVE authenticator: %s", zmq_strerror(errno));
        goto fail;
    }
    if (zmq_bind(a->pipe_thread, a->pipe) != 0 || zmq_connect(a->pipe_main, a->pipe) != 0 ||
        pthread_create(&a->thread, NULL, auth_thread, a) != 0) {
        snprintf(err, err_len, "cannot start the CURVE authenticator");
        goto fail;
    }
    return a;
fail:
    proto_socket_close(&a->handler);
    proto_socket_close(&a->pipe_thread);
    proto_socket_close(&a->pipe_main);
    free(a);
    return NULL;
}

void proto_curve_auth_stop(curve_auth_t **auth_p) {
    curve_auth_t *a = auth_p ? *auth_p : NULL;
    if (!a)
        return;
    *auth_p = NULL;
    zmq_send(a->pipe_main, "", 0, 0);
    pthread_join(a->thread, NULL);
    /* Closing a socket frees its inproc address only later, on ZeroMQ's
     * own thread; unbinding frees it now, so that an authenticator started
     * next finds the ZAP address free, and its pipe's (named after its
     * memory, which it may well get again) too. */
    zmq_unbind(a->handler, ZAP_ENDPOINT);
    zmq_unbind(a->pipe_thread, a->pipe);
    proto_socket_close(&a->handler);
    proto_socket_close(&a->pipe_thread);
    proto_socket_close(&a->pipe_main);
    free(a);
}
