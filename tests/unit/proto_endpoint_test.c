/* The broker's address and the checks that keep it this user's: where the
 * default socket goes, which endpoints count as private, and what
 * proto_endpoint_prepare accepts before binding or connecting (the broker
 * and clients over a live socket are in tests/integration/broker_test.c). */
#include "tests/fixture.h"
#include "tests/test.h"
#include "proto/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

/* proto_broker_default() in a child whose XDG_RUNTIME_DIR is runtime (NULL:
 * unset): the answer is computed once per process. */
static void default_with(const char *runtime, char *out, size_t len) {
    int fds[2];
    out[0] = '\0';
    if (pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (runtime)
            setenv("XDG_RUNTIME_DIR", runtime, 1);
        else
            unsetenv("XDG_RUNTIME_DIR");
        const char *ep = proto_broker_default();
        ssize_t w = write(fds[1], ep, strlen(ep));
        _exit(w < 0);
    }
    close(fds[1]);
    ssize_t n = pid > 0 ? read(fds[0], out, len - 1) : -1;
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

TEST(the_default_broker_is_a_socket_in_the_users_runtime_directory) {
    char ep[256], fallback[64];
    snprintf(fallback, sizeof fallback, "ipc:///tmp/lca-%u/broker", (unsigned)getuid());
    default_with("/run/user/4242", ep, sizeof ep);
    CHECK_STR(ep, "ipc:///run/user/4242/lca/broker");
    /* Without one, or with one that is no absolute path or too long for a
     * socket's address: a directory of this uid's in /tmp. */
    default_with(NULL, ep, sizeof ep);
    CHECK_STR(ep, fallback);
    default_with("", ep, sizeof ep);
    CHECK_STR(ep, fallback);
    default_with("run/user/4242", ep, sizeof ep);
    CHECK_STR(ep, fallback);
    char longdir[200];
    memset(longdir, 'x', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    default_with(longdir, ep, sizeof ep);
    CHECK_STR(ep, fallback);
}

TEST(only_inproc_and_unix_sockets_are_private) {
    CHECK(proto_endpoint_is_private("inproc://broker"));
    CHECK(proto_endpoint_is_private("ipc:///tmp/lca-1000/broker"));
    /* Loopback reaches every local user. */
    CHECK(!proto_endpoint_is_private("tcp://127.0.0.1:5555"));
    CHECK(!proto_endpoint_is_private("tcp://localhost:5555"));
    CHECK(!proto_endpoint_is_private("tcp://[::1]:5555"));
    CHECK(!proto_endpoint_is_private("tcp://0.0.0.0:5556"));
}

static char top[64];

static const char *fresh_top(void) {
    return fixture_tmpdir(top, sizeof top, "endpoint") ? top : NULL;
}

static void ep_in(char *ep, size_t len, const char *dir) {
    snprintf(ep, len, "ipc://%s/%s/broker", top, dir);
}

static mode_t mode_of(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_mode : 0;
}

TEST(binding_makes_the_directory_0700_whatever_the_umask) {
    REQUIRE(fresh_top());
    char ep[160], err[512], dir[80];
    ep_in(ep, sizeof ep, "run");
    snprintf(dir, sizeof dir, "%s/run", top);
    mode_t old = umask(0); /* nothing masked: the mode asked for is the mode made */
    int rc = proto_endpoint_prepare(ep, true, err, sizeof err);
    umask(old);
    CHECK_INT(rc, ==, 0);
    CHECK(S_ISDIR(mode_of(dir)));
    CHECK_INT(mode_of(dir) & 0777, ==, 0700);
    /* A client accepts it; sealing makes a socket there 0600. */
    CHECK_INT(proto_endpoint_prepare(ep, false, err, sizeof err), ==, 0);
    char sock[96];
    snprintf(sock, sizeof sock, "%s/broker", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
    umask(0);
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    umask(old);
    CHECK_INT(proto_endpoint_seal(ep), ==, 0);
    CHECK_INT(mode_of(sock) & 0777, ==, 0600);
    /* Bound but not listening is a socket left behind: replaceable. */
    CHECK_INT(proto_endpoint_prepare(ep, true, err, sizeof err), ==, 0);
    REQUIRE(listen(fd, 1) == 0);
    CHECK_INT(proto_endpoint_prepare(ep, true, err, sizeof err), ==, -EADDRINUSE);
    CHECK(strstr(err, "another broker listens on") != NULL);
    close(fd);
    unlink(sock);
    rmdir(dir);
    rmdir(top);
}

TEST(a_directory_others_may_enter_or_a_symlink_is_refused) {
    REQUIRE(fresh_top());
    char ep[160], err[512], dir[128], link[128];
    snprintf(dir, sizeof dir, "%s/open", top);
    REQUIRE(mkdir(dir, 0700) == 0);
    ep_in(ep, sizeof ep, "open");
    const mode_t modes[] = {0750, 0705, 0701, 0777};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        REQUIRE(chmod(dir, modes[i]) == 0);
        err[0] = '\0';
        CHECK_INT(proto_endpoint_prepare(ep, false, err, sizeof err), ==, -EPERM);
        CHECK_INT(proto_endpoint_prepare(ep, true, err, sizeof err), ==, -EPERM);
        CHECK(strstr(err, "no one else may enter (chmod 700)") != NULL);
    }
    REQUIRE(chmod(dir, 0700) == 0);
    CHECK_INT(proto_endpoint_prepare(ep, false, err, sizeof err), ==, 0);
    /* A symlink to a good directory is not that directory: whoever made the
     * link may point it elsewhere later. */
    snprintf(link, sizeof link, "%s/link", top);
    REQUIRE(symlink(dir, link) == 0);
    ep_in(ep, sizeof ep, "link");
    CHECK_INT(proto_endpoint_prepare(ep, false, err, sizeof err), ==, -EPERM);
    CHECK(strstr(err, "not a directory") != NULL);
    CHECK_INT(proto_endpoint_prepare(ep, true, err, sizeof err), ==, -EPERM);
    unlink(link);
    rmdir(dir);
    rmdir(top);
}

TEST(an_ipc_address_must_be_an_absolute_path_in_a_directory) {
    char err[512];
    const char *bad[] = {
        "ipc://broker",      /* relative */
        "ipc://run/broker",  /* relative */
        "ipc://@lca-broker", /* abstract: any process of the network namespace */
        "ipc:///broker",     /* directly in / */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_INT(proto_endpoint_prepare(bad[i], true, err, sizeof err), ==, -EINVAL);
        CHECK(strstr(err, "needs an absolute path") != NULL);
    }
    /* Longer than a socket's address can be. */
    char longer[160] = "ipc:///tmp/";
    memset(longer + 11, 'x', 120);
    strcpy(longer + 131, "/broker");
    CHECK_INT(proto_endpoint_prepare(longer, false, err, sizeof err), ==, -EINVAL);
    /* Other transports are not its business. */
    CHECK_INT(proto_endpoint_prepare("tcp://127.0.0.1:5555", true, err, sizeof err), ==, 0);
    CHECK_INT(proto_endpoint_prepare("inproc://broker", true, err, sizeof err), ==, 0);
}

TEST_MAIN(TEST_CASE(the_default_broker_is_a_socket_in_the_users_runtime_directory),
          TEST_CASE(only_inproc_and_unix_sockets_are_private),
          TEST_CASE(binding_makes_the_directory_0700_whatever_the_umask),
          TEST_CASE(a_directory_others_may_enter_or_a_symlink_is_refused),
          TEST_CASE(an_ipc_address_must_be_an_absolute_path_in_a_directory))
