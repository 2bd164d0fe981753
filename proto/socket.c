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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

bool proto_endpoint_is_private(const char *ep) {
    return !strncmp(ep, "inproc://", 9) || !strncmp(ep, "ipc://", 6);
}

const char *proto_broker_default(void) {
    static char endpoint[256];
    if (endpoint[0])
        return endpoint;
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime && runtime[0] == '/' && strlen(runtime) < 64)
        snprintf(endpoint, sizeof endpoint, "ipc://%s/lca/broker", runtime);
    else
        snprintf(endpoint, sizeof endpoint, "ipc:///tmp/lca-%u/broker", (unsigned)getuid());
    return endpoint;
}

/* ZeroMQ removes whatever is at an ipc:// path before it binds there.  That
 * is right for a socket left behind by a broker that died, wrong for a
 * broker still listening (a second gateway would take the address from the
 * first one silently; TCP would have said "address in use"), and wrong for
 * anything that is not a socket. */
static int socket_replaceable(const char *endpoint, const char *path, char *err, size_t err_len) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0; /* nothing there */
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, err_len, "%s: %s is there and is not a socket; refusing to replace it",
                 endpoint, path);
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_len, "cannot create a socket: %s", strerror(e));
        return -e;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    /* Refused: nobody listens.  Accepted, or a full backlog: someone does. */
    bool listening = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 || errno == EAGAIN;
    close(fd);
    if (listening) {
        snprintf(err, err_len,
                 "another broker listens on %s (is lca already running? `lca status` tells)",
                 endpoint);
        return -EADDRINUSE;
    }
    return 0;
}

int proto_endpoint_prepare(const char *endpoint, bool binding, char *err, size_t err_len) {
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return 0;
    const char *path = endpoint + 6;
    const char *slash = strrchr(path, '/');
    if (path[0] != '/' || !slash || slash == path || strlen(path) >= 100) {
        snprintf(err, err_len,
                 "%s: an ipc:// endpoint needs an absolute path of less than 100 bytes, in a "
                 "directory of its own",
                 endpoint);
        return -EINVAL;
    }
    char dir[256];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (binding && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, err_len, "cannot create %s for the broker's socket: %s", dir, strerror(e));
        return -e;
    }
    struct stat st;
    if (lstat(dir, &st) != 0) {
        int e = errno;
        snprintf(err, err_len, "%s: %s (is the gateway running?)", dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0) {
        snprintf(err, err_len,
                 "refusing the broker socket in %s: it must be a directory of this user (uid "
                 "%u) that no one else may enter (chmod 700); it is %s, uid %u, mode %03o",
                 dir, (unsigned)getuid(), S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
                 (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        return -EPERM;
    }
    return binding ? socket_replaceable(endpoint, path, err, err_len) : 0;
}

int proto_endpoint_seal(const char *endpoint) {
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return 0;
    return chmod(endpoint + 6, 0600) == 0 ? 0 : -errno;
}

int proto_heartbeat_ms(void) {
    return (int)settings_env_long("LCA_HEARTBEAT_MS", 1000, 10, 60000);
}
