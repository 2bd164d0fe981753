/*
 * Tests of proto/curve: CURVE keys in the layout `lca keys` writes, made
 * here in temporary directories with czmq (as `lca keys` does), and the
 * authenticator.  A server takes the broker's key pair, a client its own
 * pair and the broker's public key; a missing key is named with the command
 * that makes it; a damaged key file (a secret that does not parse, has the
 * wrong length or belongs to another public key) is refused instead of
 * turning into a socket with a key of zeros.  The authenticator needs its
 * allow-list, runs once per process, lets in only the keys listed (re-read
 * when the list changes) with the key as the messages' User-Id, and answers
 * ZAP requests that are not CURVE, or not well-formed, with 400.
 */
#include "proto/curve.h"
#include "proto/socket.h"
#include "proto/wire.h"
#include "tests/test.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- sockets the tests open, closed whatever happens ---- */

#define SOCKETS_MAX 16
static void *sockets[SOCKETS_MAX];
static curve_auth_t *auth;

static void *socket_new(int type) {
    for (int i = 0; i < SOCKETS_MAX; i++)
        if (!sockets[i])
            return sockets[i] = proto_socket_new(type);
    return NULL;
}

static void socket_close(void *s) {
    for (int i = 0; i < SOCKETS_MAX; i++)
        if (sockets[i] == s && s)
            proto_socket_close(&sockets[i]);
}

static void everything_close(void) {
    for (int i = 0; i < SOCKETS_MAX; i++)
        proto_socket_close(&sockets[i]);
    proto_curve_auth_stop(&auth);
}

/* ---- keys, as `lca keys` lays them out ---- */

static char root[64];

/* A fresh temporary directory for the test's keys. */
static bool keys_dir(void) {
    test_before_exit = everything_close;
    snprintf(root, sizeof root, "/tmp/lca-curve-XXXXXX");
    return mkdtemp(root) != NULL;
}

static void keys_remove(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (root[0] && system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", root);
}

/* root/sub/name, into path. */
static const char *at(char *path, size_t cap, const char *sub, const char *name) {
    snprintf(path, cap, "%s/%s%s%s", root, sub, name ? "/" : "", name ? name : "");
    return path;
}

static bool write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* root/server: broker.cert(+_secret) and an empty allowed/. */
static bool server_keys(void) {
    char path[256];
    mkdir(at(path, sizeof path, "server", NULL), 0700);
    mkdir(at(path, sizeof path, "server", "allowed"), 0700);
    zcert_t *cert = zcert_new();
    int rc = cert ? zcert_save(cert, at(path, sizeof path, "server", "broker.cert")) : -1;
    zcert_destroy(&cert);
    return rc == 0;
}

/* root/<name>: the broker's public key and a pair of its own. */
static bool client_keys(const char *name) {
    char path[256];
    mkdir(at(path, sizeof path, name, NULL), 0700);
    zcert_t *broker = zcert_load(at(path, sizeof path, "server", "broker.cert"));
    zcert_t *cert = zcert_new();
    int rc = broker && cert
                 ? zcert_save_public(broker, at(path, sizeof path, name, "broker.cert")) |
                       zcert_save(cert, at(path, sizeof path, name, "client.cert"))
                 : -1;
    zcert_destroy(&broker);
    zcert_destroy(&cert);
    return rc == 0;
}

/* Puts (or, with allowed false, takes) name's public key in the allow-list. */
static bool allow(const char *name, bool allowed) {
    char from[256], to[256];
    snprintf(to, sizeof to, "%s/server/allowed/%s.cert", root, name);
    if (!allowed)
        return unlink(to) == 0;
    zcert_t *cert = zcert_load(at(from, sizeof from, name, "client.cert"));
    int rc = cert ? zcert_save_public(cert, to) : -1;
    zcert_destroy(&cert);
    return rc == 0;
}

/* The public (or secret) key of a certificate file, 32 bytes into key. */
static bool key_of(const char *path, bool secret, uint8_t key[32]) {
    zcert_t *cert = zcert_load(path);
    bool loaded = cert != NULL;
    if (loaded)
        memcpy(key, secret ? zcert_secret_key(cert) : zcert_public_key(cert), 32);
    zcert_destroy(&cert);
    return loaded;
}

/* The Z85 text of a certificate's public key into z85[41]. */
static bool public_text(const char *path, char z85[41]) {
    zcert_t *cert = zcert_load(path);
    bool loaded = cert != NULL;
    if (loaded)
        snprintf(z85, 41, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    return loaded;
}

/* A socket option of 32 key bytes. */
static bool option_is(void *s, int option, const uint8_t want[32]) {
    uint8_t got[32];
    size_t len = sizeof got;
    return zmq_getsockopt(s, option, got, &len) == 0 && len == 32 && !memcmp(got, want, 32);
}

static int mechanism_of(void *s) {
    int mechanism = -1;
    size_t len = sizeof mechanism;
    zmq_getsockopt(s, ZMQ_MECHANISM, &mechanism, &len);
    return mechanism;
}

/* ---- connections ---- */

/* A CURVE ROUTER with the server keys on a free loopback port (its address
 * into endpoint). */
static void *curve_server(char *endpoint, size_t cap) {
    char dir[256], err[512] = "";
    void *s = socket_new(ZMQ_ROUTER);
    size_t len = cap;
    if (!s || proto_curve_server(s, at(dir, sizeof dir, "server", NULL), err, sizeof err) != 0 ||
        zmq_bind(s, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        fprintf(stderr, "  server: %s\n", err);
        socket_close(s);
        return NULL;
    }
    return s;
}

/* A DEALER with name's client keys, watched for the outcome of its
 * handshake (*monitor), connected to endpoint. */
static void *curve_client(const char *name, const char *endpoint, void **monitor) {
    static int monitors;
    char dir[256], err[512] = "", address[64];
    void *s = socket_new(ZMQ_DEALER);
    snprintf(address, sizeof address, "inproc://curve-test-monitor-%d", ++monitors);
    if (!s || proto_curve_client(s, at(dir, sizeof dir, name, NULL), err, sizeof err) != 0 ||
        zmq_socket_monitor(s, address,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
        !(*monitor = socket_new(ZMQ_PAIR)) || zmq_connect(*monitor, address) != 0 ||
        zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "  client %s: %s\n", name, err);
        socket_close(s);
        return NULL;
    }
    return s;
}

/* The first handshake event the monitor reports within 5 s (0: none), and
 * its value (the ZAP status code of a refusal). */
static int handshake(void *monitor, int *value) {
    zmq_pollitem_t item = {.socket = monitor, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, 5000) <= 0)
        return 0;
    uint8_t event[6];
    int n = zmq_recv(monitor, event, sizeof event, 0);
    char address[256];
    zmq_recv(monitor, address, sizeof address, 0);
    if (n != 6)
        return 0;
    uint16_t id;
    uint32_t v;
    memcpy(&id, event, 2);
    memcpy(&v, event + 2, 4);
    *value = (int)v;
    return id;
}

/* The next proto message on a ROUTER within 5 s. */
static bool next(void *s, proto_msg_t *m) {
    zmq_pollitem_t item = {.socket = s, .events = ZMQ_POLLIN};
    return zmq_poll(&item, 1, 5000) > 0 && proto_recv(s, true, m, 0, NULL, 0) == 0;
}

static int ready(void *s) {
    return proto_send(s, NULL, 0, &(proto_out_t){.cmd = PROTO_READY, .service = "svc"});
}

/* ---- keys ---- */

TEST(a_server_takes_the_broker_key_pair) {
    REQUIRE(keys_dir() && server_keys());
    char dir[256], path[256], err[512] = "";
    uint8_t public_key[32], secret_key[32];
    REQUIRE(key_of(at(path, sizeof path, "server", "broker.cert"), false, public_key));
    REQUIRE(key_of(path, true, secret_key));
    void *s = socket_new(ZMQ_ROUTER);
    REQUIRE(s);
    CHECK_INT(proto_curve_server(s, at(dir, sizeof dir, "server", NULL), err, sizeof err), ==, 0);
    int server = 0;
    size_t len = sizeof server;
    CHECK(zmq_getsockopt(s, ZMQ_CURVE_SERVER, &server, &len) == 0 && server == 1);
    CHECK_INT(mechanism_of(s), ==, ZMQ_CURVE);
    CHECK(option_is(s, ZMQ_CURVE_PUBLICKEY, public_key));
    CHECK(option_is(s, ZMQ_CURVE_SECRETKEY, secret_key));
    socket_close(s);
    keys_remove();
}

TEST(a_client_takes_its_pair_and_the_brokers_public_key) {
    REQUIRE(keys_dir() && server_keys() && client_keys("host"));
    char dir[256], path[256], err[512] = "";
    uint8_t broker_key[32], public_key[32], secret_key[32];
    REQUIRE(key_of(at(path, sizeof path, "server", "broker.cert"), false, broker_key));
    REQUIRE(key_of(at(path, sizeof path, "host", "client.cert"), false, public_key));
    REQUIRE(key_of(path, true, secret_key));
    /* The host holds the broker's public key only: enough for a client. */
    struct stat st;
    CHECK(stat(at(path, sizeof path, "host", "broker.cert_secret"), &st) != 0);
    void *s = socket_new(ZMQ_DEALER);
    REQUIRE(s);
    CHECK_INT(proto_curve_client(s, at(dir, sizeof dir, "host", NULL), err, sizeof err), ==, 0);
    CHECK_INT(mechanism_of(s), ==, ZMQ_CURVE);
    CHECK(option_is(s, ZMQ_CURVE_SERVERKEY, broker_key));
    CHECK(option_is(s, ZMQ_CURVE_PUBLICKEY, public_key));
    CHECK(option_is(s, ZMQ_CURVE_SECRETKEY, secret_key));
    /* czmq writes a secret key for the user alone (`lca keys` relies on it). */
    CHECK(stat(at(path, sizeof path, "host", "client.cert_secret"), &st) == 0 &&
          (st.st_mode & 077) == 0);
    socket_close(s);
    keys_remove();
}

TEST(missing_keys_are_named_with_the_command_that_makes_them) {
    REQUIRE(keys_dir() && server_keys() && client_keys("host"));
    char dir[256], want[300], err[512] = "";
    void *s = socket_new(ZMQ_ROUTER);
    REQUIRE(s);
    /* A worker host's directory has no broker secret: it cannot serve. */
    CHECK_INT(proto_curve_server(s, at(dir, sizeof dir, "host", NULL), err, sizeof err), ==,
              -ENOENT);
    snprintf(want, sizeof want, "CURVE key %s/broker.cert_secret is missing", dir);
    CHECK(strstr(err, want) != NULL);
    CHECK(strstr(err, "lca keys init") != NULL);
    /* An empty directory: the broker's key is the first missing. */
    CHECK_INT(proto_curve_client(s, at(dir, sizeof dir, "empty", NULL), err, sizeof err), ==,
              -ENOENT);
    snprintf(want, sizeof want, "CURVE key %s/broker.cert is missing", dir);
    CHECK(strstr(err, want) != NULL);
    /* The server's directory has no client pair. */
    CHECK_INT(proto_curve_client(s, at(dir, sizeof dir, "server", NULL), err, sizeof err), ==,
              -ENOENT);
    snprintf(want, sizeof want, "CURVE key %s/client.cert_secret is missing", dir);
    CHECK(strstr(err, want) != NULL);
    /* Nothing was half set. */
    CHECK_INT(mechanism_of(s), ==, ZMQ_NULL);
    socket_close(s);
    keys_remove();
}

TEST(damaged_key_files_are_refused) {
    REQUIRE(keys_dir() && server_keys() && client_keys("host") && client_keys("other"));
    char dir[256], secret[256], public_path[256], other[256], err[512];
    at(dir, sizeof dir, "host", NULL);
    at(secret, sizeof secret, "host", "client.cert_secret");
    at(public_path, sizeof public_path, "host", "client.cert");
    char good_public[41];
    REQUIRE(public_text(public_path, good_public));
    char wrong_length[512], not_ours[512];
    snprintf(wrong_length, sizeof wrong_length,
             "curve\n    public-key = \"%s\"\n    secret-key = \"tooshort\"\n", good_public);
    /* A well-formed secret file whose secret key is another pair's. */
    zcert_t *stranger = zcert_load(at(other, sizeof other, "other", "client.cert"));
    REQUIRE(stranger);
    snprintf(not_ours, sizeof not_ours, "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             good_public, zcert_secret_txt(stranger));
    zcert_destroy(&stranger);
    static const char garbage[] = "\x01\x02 not a certificate !!!\n";
    const struct {
        const char *what, *secret_text;
    } cases[] = {
        {"a secret file that does not parse", garbage},
        {"a secret key of the wrong length", wrong_length},
        {"another pair's secret key", not_ours},
    };
    void *s = socket_new(ZMQ_DEALER);
    REQUIRE(s);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        REQUIRE(write_file(secret, cases[i].secret_text));
        err[0] = '\0';
        int rc = proto_curve_client(s, dir, err, sizeof err);
        if (rc != -EINVAL)
            fprintf(stderr, "  %s: rc %d, \"%s\"\n", cases[i].what, rc, err);
        CHECK_INT(rc, ==, -EINVAL);
        CHECK(strstr(err, secret) != NULL && strstr(err, "is damaged") != NULL);
    }
    CHECK_INT(mechanism_of(s), ==, ZMQ_NULL);
    /* Neither file readable as a certificate. */
    REQUIRE(write_file(secret, garbage) && write_file(public_path, garbage));
    CHECK_INT(proto_curve_client(s, dir, err, sizeof err), ==, -EINVAL);
    CHECK(strstr(err, "could not be read") != NULL);
    /* The broker's own: a secret file that is a directory. */
    at(secret, sizeof secret, "server", "broker.cert_secret");
    REQUIRE(unlink(secret) == 0 && mkdir(secret, 0700) == 0);
    CHECK_INT(proto_curve_server(s, at(dir, sizeof dir, "server", NULL), err, sizeof err), ==,
              -EINVAL);
    CHECK_INT(mechanism_of(s), ==, ZMQ_NULL);
    socket_close(s);
    keys_remove();
}

/* ---- the authenticator ---- */

TEST(the_authenticator_needs_its_allow_list_and_runs_once) {
    REQUIRE(keys_dir());
    char dir[256], path[256], err[512] = "";
    at(dir, sizeof dir, "server", NULL);
    CHECK(proto_curve_auth_start(root, err, sizeof err) == NULL); /* no allowed/ */
    char want[300];
    snprintf(want, sizeof want, "CURVE allow-list directory %s/allowed is missing", root);
    CHECK(strstr(err, want) != NULL);
    /* allowed/ must be a directory. */
    mkdir(dir, 0700);
    REQUIRE(write_file(at(path, sizeof path, "server", "allowed"), "not a directory\n"));
    CHECK(proto_curve_auth_start(dir, err, sizeof err) == NULL);
    REQUIRE(unlink(path) == 0 && mkdir(path, 0700) == 0);
    auth = proto_curve_auth_start(dir, err, sizeof err);
    REQUIRE(auth);
    /* One per process: the ZAP address is taken. */
    err[0] = '\0';
    CHECK(proto_curve_auth_start(dir, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot start the CURVE authenticator") != NULL);
    proto_curve_auth_stop(&auth);
    CHECK(auth == NULL);
    proto_curve_auth_stop(&auth); /* NULL and *NULL are fine */
    proto_curve_auth_stop(NULL);
    /* Stopped, it can start again. */
    auth = proto_curve_auth_start(dir, err, sizeof err);
    if (!auth)
        fprintf(stderr, "  again: %s\n", err);
    CHECK(auth != NULL);
    proto_curve_auth_stop(&auth);
    keys_remove();
}

TEST(only_allowed_keys_get_in_and_their_messages_carry_the_key) {
    REQUIRE(keys_dir() && server_keys() && client_keys("friend") && client_keys("stranger"));
    REQUIRE(allow("friend", true));
    char dir[256], path[256], err[512] = "", endpoint[128];
    auth = proto_curve_auth_start(at(dir, sizeof dir, "server", NULL), err, sizeof err);
    REQUIRE(auth);
    void *server = curve_server(endpoint, sizeof endpoint);
    REQUIRE(server);

    void *monitor, *friend = curve_client("friend", endpoint, &monitor);
    REQUIRE(friend);
    int value = 0;
    CHECK_INT(handshake(monitor, &value), ==, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    CHECK_INT(ready(friend), ==, 0);
    proto_msg_t m;
    char friend_key[41], stranger_key[41];
    REQUIRE(public_text(at(path, sizeof path, "friend", "client.cert"), friend_key));
    REQUIRE(public_text(at(path, sizeof path, "stranger", "client.cert"), stranger_key));
    REQUIRE(next(server, &m));
    CHECK(m.cmd == PROTO_READY);
    CHECK_STR(m.user_id, friend_key);
    proto_msg_close(&m);

    /* A valid pair that is not in the list: refused (400), nothing arrives. */
    void *stranger_monitor, *stranger = curve_client("stranger", endpoint, &stranger_monitor);
    REQUIRE(stranger);
    CHECK_INT(handshake(stranger_monitor, &value), ==, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    CHECK_INT(value, ==, 400);
    socket_close(stranger);
    socket_close(stranger_monitor);

    /* Listed while the broker runs: it gets in, no restart needed. */
    REQUIRE(allow("stranger", true));
    stranger = curve_client("stranger", endpoint, &stranger_monitor);
    REQUIRE(stranger);
    CHECK_INT(handshake(stranger_monitor, &value), ==, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    CHECK_INT(ready(stranger), ==, 0);
    REQUIRE(next(server, &m));
    CHECK_STR(m.user_id, stranger_key);
    proto_msg_close(&m);
    socket_close(stranger);
    socket_close(stranger_monitor);

    /* Revoked: refused again. */
    REQUIRE(allow("stranger", false));
    stranger = curve_client("stranger", endpoint, &stranger_monitor);
    REQUIRE(stranger);
    CHECK_INT(handshake(stranger_monitor, &value), ==, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    CHECK_INT(value, ==, 400);
    everything_close();
    keys_remove();
}

/* One ZAP request, frames as given, to the authenticator; its reply's
 * frames into reply (each NUL-terminated), their count returned (-1: no
 * reply within 5 s). */
static int zap(const char *const *frames, const size_t *lens, int n, char reply[8][64]) {
    void *req = socket_new(ZMQ_REQ);
    if (!req || zmq_connect(req, "inproc://zeromq.zap.01") != 0) {
        socket_close(req);
        return -1;
    }
    for (int i = 0; i < n; i++)
        zmq_send(req, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
    zmq_pollitem_t item = {.socket = req, .events = ZMQ_POLLIN};
    int got = -1;
    if (zmq_poll(&item, 1, 5000) > 0) {
        int more = 1;
        size_t more_len = sizeof more;
        for (got = 0; more; got++) {
            char scratch[64];
            char *into = got < 8 ? reply[got] : scratch;
            int len = zmq_recv(req, into, 63, 0);
            into[len < 0 ? 0 : len > 63 ? 63 : len] = '\0';
            zmq_getsockopt(req, ZMQ_RCVMORE, &more, &more_len);
        }
    }
    socket_close(req);
    return got;
}

TEST(zap_requests_other_than_allowed_curve_keys_are_answered_400) {
    REQUIRE(keys_dir() && server_keys());
    char dir[256], err[512] = "", reply[8][64];
    auth = proto_curve_auth_start(at(dir, sizeof dir, "server", NULL), err, sizeof err);
    REQUIRE(auth);
    /* version, request id, domain, address, routing id, mechanism, credentials */
    static const uint8_t key[32] = {1, 2, 3};
    const char *curve[] = {"1.0", "id-1", "", "127.0.0.1", "", "CURVE", (const char *)key};
    size_t curve_lens[] = {3, 4, 0, 9, 0, 5, 32};
    /* NULL: let through (only sockets given a ZAP domain ask). */
    const char *null_mechanism[] = {"1.0", "id-2", "lca", "127.0.0.1", "", "NULL"};
    size_t null_lens[] = {3, 4, 3, 9, 0, 4};
    CHECK_INT(zap(null_mechanism, null_lens, 6, reply), ==, 6);
    CHECK_STR(reply[0], "1.0");
    CHECK_STR(reply[1], "id-2");
    CHECK_STR(reply[2], "200");
    CHECK_STR(reply[4], "");
    /* A CURVE key nobody allowed. */
    CHECK_INT(zap(curve, curve_lens, 7, reply), ==, 6);
    CHECK_STR(reply[1], "id-1");
    CHECK_STR(reply[2], "400");
    CHECK_STR(reply[4], ""); /* no User-Id for a refused key */
    /* Another mechanism. */
    const char *plain[] = {"1.0", "id-3", "", "127.0.0.1", "", "PLAIN", "user", "password"};
    size_t plain_lens[] = {3, 4, 0, 9, 0, 5, 4, 8};
    CHECK_INT(zap(plain, plain_lens, 8, reply), ==, 6);
    CHECK_STR(reply[2], "400");
    /* Malformed: a key of 31 bytes, another version, too few frames, too
     * many frames; each answered, the request id as it came. */
    curve_lens[6] = 31;
    CHECK_INT(zap(curve, curve_lens, 7, reply), ==, 6);
    CHECK_STR(reply[2], "400");
    curve_lens[6] = 32;
    curve[0] = "2.0";
    CHECK_INT(zap(curve, curve_lens, 7, reply), ==, 6);
    CHECK_STR(reply[1], "id-1");
    CHECK_STR(reply[2], "400");
    CHECK_INT(zap(curve, curve_lens, 1, reply), ==, 6);
    CHECK_STR(reply[1], "");
    CHECK_STR(reply[2], "400");
    const char *many[12];
    size_t many_lens[12];
    for (int i = 0; i < 12; i++) {
        many[i] = i < 6 ? null_mechanism[i] : "extra";
        many_lens[i] = strlen(many[i]);
    }
    CHECK_INT(zap(many, many_lens, 12, reply), ==, 6);
    CHECK_STR(reply[1], "id-2");
    CHECK_STR(reply[2], "200");
    /* And it still works after all that. */
    curve[0] = "1.0";
    CHECK_INT(zap(curve, curve_lens, 7, reply), ==, 6);
    CHECK_STR(reply[2], "400");
    everything_close();
    keys_remove();
}

TEST_MAIN(TEST_CASE(a_server_takes_the_broker_key_pair),
          TEST_CASE(a_client_takes_its_pair_and_the_brokers_public_key),
          TEST_CASE(missing_keys_are_named_with_the_command_that_makes_them),
          TEST_CASE(damaged_key_files_are_refused),
          TEST_CASE(the_authenticator_needs_its_allow_list_and_runs_once),
          TEST_CASE(only_allowed_keys_get_in_and_their_messages_carry_the_key),
          TEST_CASE(zap_requests_other_than_allowed_curve_keys_are_answered_400))
