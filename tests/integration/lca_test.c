/*
 * `lca up` as a user runs it: the whole stack under the supervisor.  Every
 * service answers ping through the broker; a worker killed with kill -9 is
 * restarted and rejoins; SIGTERM leaves no process behind; the broker is
 * the default one, a socket in a directory of the user's alone, where
 * `lca status` finds it and a second `lca up` is refused; the data
 * directory is made 0700; `lca status`
 * shows the workers; `lca keys` writes keys the broker accepts.  A number
 * option given junk is refused with one line and exit status 2, by `lca up`
 * itself (not by the gateway it would start) as by the services.
 */
#include "proto/client.h"
#include "tests/stack.h"

#include <cJSON.h>
#include <dirent.h>
#include <sys/stat.h>

static char broker_ep[300], logfile[300], data_dir[256], runtime_env[300];
static int http_port;
static pid_t lca_pid;

static bool start_up(void) {
    snprintf(data_dir, sizeof data_dir, "%s", proc_tmpdir());
    snprintf(logfile, sizeof logfile, "%s/lca.log", data_dir);
    http_port = proc_free_port();
    /* No --broker: the default, in this test's own runtime directory. */
    snprintf(runtime_env, sizeof runtime_env, "XDG_RUNTIME_DIR=%s", data_dir);
    snprintf(broker_ep, sizeof broker_ep, "ipc://%s/lca/broker", data_dir);
    unsetenv("LCA_BROKER");
    char port_arg[16], data_arg[300];
    snprintf(port_arg, sizeof port_arg, "%d", http_port);
    snprintf(data_arg, sizeof data_arg, "%s/data", data_dir);
    const char *args[] = {"up", "--port", port_arg, "--data", data_arg, "--shards", "2", NULL};
    const char *env[] = {"LCA_HEARTBEAT_MS=100", "OLLAMA_HOST=http://127.0.0.1:9", runtime_env,
                         NULL};
    lca_pid = proc_start_bin("lca", args, env, logfile);
    return lca_pid > 0;
}

static cJSON *broker_status(proto_client_t *c) {
    return stack_broker_status(c, 1000);
}

static const char *const services[] = {"embed", "generate", "retrieve.0", "retrieve.1"};

static bool all_services_up(void *arg) {
    cJSON *j = broker_status(arg);
    bool up = j != NULL;
    for (size_t i = 0; up && i < 4; i++) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "services"),
                                             services[i]),
            "workers");
        up = cJSON_IsNumber(w) && w->valuedouble == 1;
    }
    cJSON_Delete(j);
    return up;
}

/* The pid of the one worker of service, or 0. */
static pid_t worker_pid(proto_client_t *c, const char *service) {
    cJSON *j = broker_status(c);
    pid_t pid = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j, "workers")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(w, "service");
        if (cJSON_IsString(s) && !strcmp(s->valuestring, service))
            pid = (pid_t)cJSON_GetObjectItemCaseSensitive(w, "pid")->valuedouble;
    }
    cJSON_Delete(j);
    return pid;
}

typedef struct {
    proto_client_t *c;
    pid_t old;
} replaced_t;

static bool embed_replaced(void *arg) {
    replaced_t *r = arg;
    pid_t now = worker_pid(r->c, "embed");
    return now != 0 && now != r->old;
}

/* Runs a shell command; its output (what fits) in out.  Returns its exit
 * status, or -1. */
static int run_command(const char *cmd, char *out, size_t size) {
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Pids of the processes whose parent is ppid. */
static int children_of(pid_t ppid, pid_t *out, int max) {
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *close_paren = strrchr(buf, ')');
        int parent = 0;
        if (close_paren && sscanf(close_paren + 2, "%*c %d", &parent) == 1 && parent == ppid)
            out[n++] = (pid_t)atoi(e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

static bool gone(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    FILE *f = fopen(path, "r");
    if (f)
        fclose(f);
    /* A zombie still has a /proc entry; it is gone once reaped or a zombie. */
    if (!f)
        return true;
    char stat[64], buf[256] = "";
    snprintf(stat, sizeof stat, "/proc/%d/stat", (int)pid);
    FILE *s = fopen(stat, "r");
    if (!s)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, s);
    fclose(s);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[2] == 'Z';
}

static bool socket_made(void *arg) {
    (void)arg;
    struct stat st;
    return stat(broker_ep + 6, &st) == 0;
}

TEST(lca_up_serves_restarts_and_stops_clean) {
    REQUIRE(start_up());
    char err[256];
    /* The client checks the socket's directory, which lca up makes first. */
    REQUIRE(proc_wait_for(socket_made, NULL, 10000));
    proto_client_t *c = proto_client_new(broker_ep, NULL, err, sizeof err);
    REQUIRE(c);
    if (!proc_wait_for(all_services_up, c, 15000)) {
        fprintf(stderr, "  services did not all register; see %s\n", logfile);
        REQUIRE(false);
    }
    /* Every service answers ping. */
    for (size_t i = 0; i < 4; i++) {
        proto_msg_t final;
        int status;
        CHECK_INT(proto_client_call(c, services[i], "{\"op\":\"ping\"}", NULL, 0, 2000, NULL, NULL,
                                    &final, &status, err, sizeof err),
                  ==, 0);
        if (status == 200) {
            CHECK(strstr(final.header, "\"pong\":true") != NULL);
            proto_msg_close(&final);
        }
    }
    /* kill -9 a worker: the supervisor restarts it and it rejoins. */
    pid_t old = worker_pid(c, "embed");
    REQUIRE(old > 0);
    kill(old, SIGKILL);
    replaced_t r = {c, old};
    CHECK(proc_wait_for(embed_replaced, &r, 10000));
    proto_msg_t final;
    int status;
    CHECK_INT(proto_client_call(c, "embed", "{\"op\":\"ping\"}", NULL, 0, 2000, NULL, NULL, &final,
                                &status, err, sizeof err),
              ==, 0);
    if (status == 200)
        proto_msg_close(&final);

    /* The broker's socket: in a directory of this user's alone. */
    char dir[300];
    snprintf(dir, sizeof dir, "%s/lca", data_dir);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700);
    CHECK(stat(broker_ep + 6, &sb) == 0 && S_ISSOCK(sb.st_mode) && (sb.st_mode & 0777) == 0600);
    /* The index, which holds the code of private repositories: no one else's. */
    snprintf(dir, sizeof dir, "%s/data", data_dir);
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700);

    /* lca status shows the services and workers, finding the broker where
     * lca up put it. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "env -u LCA_BROKER %s %s status", runtime_env, proc_bin("lca"));
    char out[8192] = "";
    CHECK_INT(run_command(cmd, out, sizeof out), ==, 0);
    CHECK(strstr(out, broker_ep) != NULL);
    CHECK(strstr(out, "retrieve.1") != NULL);
    CHECK(strstr(out, "generate") != NULL);
    /* and the broker's limits, none of them reached. */
    const char *limits = strstr(out, "\nlimits\n");
    CHECK(limits != NULL);
    double held, most, refused;
    const char *line = limits ? strstr(limits, "  services ") : NULL;
    CHECK(line && sscanf(line, " services %lf of %lf %lf refused", &held, &most, &refused) == 3 &&
          held >= 4 && most == 1024 && refused == 0);
    line = limits ? strstr(limits, "  workers ") : NULL;
    CHECK(line && sscanf(line, " workers %lf of %lf %lf refused", &held, &most, &refused) == 3 &&
          held >= 4 && most == 4096 && refused == 0);

    /* A second lca up on the same broker stops at once and says why; so
     * does one asked for a TCP broker every local user could join. */
    snprintf(cmd, sizeof cmd, "env -u LCA_BROKER %s %s up --port %d 2>&1", runtime_env,
             proc_bin("lca"), proc_free_port());
    CHECK_INT(run_command(cmd, out, sizeof out), ==, 1);
    CHECK(strstr(out, "another broker listens on") != NULL);
    snprintf(cmd, sizeof cmd, "%s up --port %d --broker tcp://127.0.0.1:%d 2>&1", proc_bin("lca"),
             proc_free_port(), proc_free_port());
    CHECK_INT(run_command(cmd, out, sizeof out), ==, 2);
    CHECK(strstr(out, "would be open to anyone who reaches it") != NULL);

    /* SIGTERM: every process lca started is gone when it returns. */
    pid_t kids[32];
    int nkids = children_of(lca_pid, kids, 32);
    CHECK_INT(nkids, ==, 5); /* gateway, embedder, generator, two retrievers */
    proto_client_destroy(&c);
    int st = proc_stop(lca_pid, SIGTERM, 10000);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < nkids; i++)
        CHECK(gone(kids[i]));
}

TEST(lca_keys_and_help) {
    const char *dir = proc_tmpdir();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s keys init %s/k >/dev/null && %s keys add gpu1 %s/k >/dev/null",
             proc_bin("lca"), dir, proc_bin("lca"), dir);
    mode_t old = umask(022); /* the usual umask: secrets must not follow it */
    CHECK_INT(system(cmd), ==, 0);
    umask(old);
    const char *files[] = {"k/broker.cert",
                           "k/broker.cert_secret",
                           "k/allowed/gpu1.cert",
                           "k/hosts/gpu1/broker.cert",
                           "k/hosts/gpu1/client.cert",
                           "k/hosts/gpu1/client.cert_secret"};
    for (size_t i = 0; i < 6; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK(access(path, R_OK) == 0);
    }
    char secret[512];
    snprintf(secret, sizeof secret, "%s/k/hosts/gpu1/broker.cert_secret", dir);
    CHECK(access(secret, F_OK) != 0); /* the host never gets the broker's secret */
    /* Secrets are the user's alone, in directories no one else may enter. */
    const char *private[] = {"k/broker.cert_secret", "k/hosts/gpu1/client.cert_secret", "k",
                             "k/hosts/gpu1"};
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, private[i]);
        CHECK(stat(path, &st) == 0);
        CHECK_INT(st.st_mode & 0777, ==, S_ISDIR(st.st_mode) ? 0700 : 0600);
    }
    snprintf(cmd, sizeof cmd, "%s --help | grep -q 'lca up'", proc_bin("lca"));
    CHECK_INT(system(cmd), ==, 0);
    snprintf(cmd, sizeof cmd, "%s nonsense 2>/dev/null", proc_bin("lca"));
    CHECK(WEXITSTATUS(system(cmd)) == 2);
}

TEST(junk_numbers_are_refused_in_one_line) {
    static const struct {
        const char *bin, *args, *message;
    } cases[] = {
        {"lca-gateway", "--port 12abc",
         "lca-gateway: --port wants a whole number from 0 to 65535, not \"12abc\"\n"},
        {"lca-retriever", "--threads abc",
         "lca-retriever: --threads wants a whole number from 1 to 256, not \"abc\"\n"},
        {"lca", "up --port 12abc",
         "lca up: --port wants a whole number from 1 to 65535, not \"12abc\"\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[1200], out[512];
        snprintf(cmd, sizeof cmd, "%s %s 2>&1", proc_bin(cases[i].bin), cases[i].args);
        FILE *p = popen(cmd, "r");
        REQUIRE(p);
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int st = pclose(p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        CHECK_STR(out, cases[i].message);
    }
}

TEST_MAIN(TEST_CASE(lca_up_serves_restarts_and_stops_clean), TEST_CASE(lca_keys_and_help),
          TEST_CASE(junk_numbers_are_refused_in_one_line))
