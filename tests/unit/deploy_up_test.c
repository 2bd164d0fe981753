/*
 * Tests of `lca up` (deploy/up.c).  Settings it refuses before starting
 * anything (or making any directory) run in this process: --help, numbers
 * out of range (from the environment too), --broker-public without keys, a
 * broker others could reach or no other process could, a repository to
 * seed that is not there, an OLLAMA_HOST the workers would refuse, a
 * broker that already runs, a data directory that cannot be made.
 *
 * The whole command runs from a copy of this test binary in a temporary
 * directory whose lca-gateway, lca-embedder, lca-generator, lca-retriever
 * and lca-seeder are scripts: each prints its arguments, environment and
 * pid, and becomes this binary again in another role (LCA_UP_TEST_ROLE):
 * the gateway a broker on LCA_BROKER, the others workers of their service.
 * So the test sees what `lca up` starts and with what (a retriever per
 * shard, the settings in every child's environment, the CURVE keys for the
 * gateway alone), that it makes the data directory 0700, that it announces
 * the gateway once the index services and a generator have joined the
 * broker and runs the seeder once then, and that SIGTERM ends it with
 * every child gone.
 */
#include "deploy/commands.h"
#include "proto/base/log.h"
#include "proto/base/signals.h"
#include "proto/broker.h"
#include "proto/worker.h"
#include "tests/command.h"
#include "tests/fixture.h"
#include "tests/proc.h"

/* ---- the roles a copy of this binary plays ---- */

/* The fake gateway: a broker on LCA_BROKER until SIGTERM. */
static int role_broker(void) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* the broker's thread too */
    char err[256];
    broker_t *b = broker_new(&(broker_config_t){.endpoint = getenv("LCA_BROKER")}, err, sizeof err);
    if (!b) {
        fprintf(stderr, "broker: %s\n", err);
        return 1;
    }
    printf("broker listening\n");
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    broker_destroy(&b);
    return 0;
}

static void answer(proto_job_t *job, void *arg) {
    (void)arg;
    proto_job_final(job, "{}", NULL, 0);
}

/* A fake service process: a worker of service until SIGTERM. */
static int role_worker(const char *service) {
    stop_on_signals();
    return proto_worker_serve(&(proto_worker_config_t){
        .endpoint = getenv("LCA_BROKER"), .service = service, .handler = answer});
}

/* ---- the test's side ---- */

static void clean_environment(void) {
    const char *names[] = {"LCA_PORT",          "LCA_BROKER",  "LCA_DATA",
                           "LCA_SHARDS",        "LCA_SEED",    "LCA_CURVE_DIR",
                           "LCA_BROKER_PUBLIC", "OLLAMA_HOST", "LCA_BROKER_INSECURE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

static int up(const char *const *args, output_t *o) {
    return command_run(command_up, args, o);
}

static int mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

TEST(help_names_every_setting) {
    clean_environment();
    output_t o;
    int rc = up((const char *[]){"up", "--help", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    const char *words[] = {"lca up",     "--port",          "LCA_PORT",    "--broker",
                           "--data",     "--shards",        "LCA_SHARDS",  "--seed",
                           "LCA_SEED",   "--broker-public", "--curve-dir", "--no-generator",
                           "OLLAMA_HOST"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        CHECK(strstr(o.out, words[i]) != NULL);
    CHECK_STR(o.err, "");
    output_free(&o);
}

TEST(bad_settings_stop_it_before_anything_starts) {
    clean_environment();
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    /* The data directory and the broker's socket directory: neither may be
     * made when any setting is wrong (the data directory once was, before
     * the other settings were looked at). */
    char data[300], run[300], ep[320], file[300], seed_file[320], keys[300], no_keys[400];
    snprintf(data, sizeof data, "%s/share/data", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(ep, sizeof ep, "ipc://%s/broker", run);
    snprintf(file, sizeof file, "%s/file", tmp);
    snprintf(seed_file, sizeof seed_file, "--seed=%s", file);
    snprintf(keys, sizeof keys, "%s/keys", tmp);
    snprintf(no_keys, sizeof no_keys, "lca up: --curve-dir %s holds no broker key (", keys);
    REQUIRE(fixture_write_text(tmp, "file", "x") == 0);
    REQUIRE(mkdir(keys, 0700) == 0);
    const struct {
        const char *env; /* NAME=value, or NULL */
        const char *args[10];
        const char *said; /* the start of the one line on stderr */
    } cases[] = {
        {NULL, {"up", "--port", "0", NULL}, "lca up: --port wants a whole number from 1 to 65535"},
        {NULL, {"up", "--shards", "0", NULL}, "lca up: --shards wants a whole number from 1 to "},
        {"LCA_SHARDS=two", {"up", NULL}, "lca up: LCA_SHARDS wants a whole number"},
        {"LCA_PORT=80a", {"up", NULL}, "lca up: LCA_PORT wants a whole number"},
        {NULL, {"up", "--frobnicate", NULL}, "lca up: "},
        {NULL, {"up", "extra", NULL}, "lca up: "},
        {NULL,
         {"up", "--data", data, "--broker", ep, "--broker-public", "tcp://0.0.0.0:5556", NULL},
         "lca up: --broker-public needs --curve-dir (see `lca keys init`)\n"},
        {NULL,
         {"up", "--data", data, "--broker", "tcp://127.0.0.1:5555", NULL},
         "lca up: the local broker tcp://127.0.0.1:5555 would be open to anyone who reaches it"},
        {NULL,
         {"up", "--data", data, "--broker", "inproc://broker", NULL},
         "lca up: the broker inproc://broker is reachable only inside the gateway's process"},
        {NULL,
         {"up", "--data", data, "--broker", "ipc://relative/broker", NULL},
         "lca up: ipc://relative/broker: an ipc:// endpoint needs an absolute path"},
        {NULL,
         {"up", "--data", data, "--broker", ep, "--broker-public", "tcp://0.0.0.0:5556",
          "--curve-dir", keys, NULL},
         no_keys},
        {NULL,
         {"up", "--data", data, "--broker", ep, "--broker-public", "tcp://0.0.0.0:5556",
          "--curve-dir", "/nonexistent/keys", NULL},
         "lca up: --curve-dir /nonexistent/keys: No such file or directory\n"},
        {NULL,
         {"up", "--data", data, "--broker", ep, "--seed", "/nonexistent/repo", NULL},
         "lca up: --seed /nonexistent/repo: No such file or directory\n"},
        {NULL, {"up", "--data", data, "--broker", ep, seed_file, NULL}, "lca up: --seed "},
        {"OLLAMA_HOST=ftp://ollama:11434",
         {"up", "--data", data, "--broker", ep, NULL},
         "lca up: OLLAMA_HOST ftp://ollama:11434 is no Ollama address"},
    };
    /* Were a case let through, `lca up` would run the stack in this process
     * until stopped: the alarm ends the test rather than have it hang. */
    alarm(60);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].env)
            putenv((char *)cases[i].env);
        output_t o;
        int rc = up(cases[i].args, &o);
        clean_environment();
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        if (!starts_with(o.err, cases[i].said))
            fprintf(stderr, "  case %zu said: %s", i, o.err ? o.err : "(nothing)");
        CHECK(starts_with(o.err, cases[i].said));
        CHECK_INT(count_of(o.err, "\n"), ==, 1);
        output_free(&o);
        CHECK(access(proc_path(tmp, "share", ""), F_OK) != 0);
        CHECK(access(run, F_OK) != 0);
    }
    alarm(0);
    proc_shell("rm -rf %s", tmp);
}

TEST(a_running_broker_or_an_impossible_data_directory_is_exit_status_1) {
    clean_environment();
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    char data[300], ep[300], err[256];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(ep, sizeof ep, "ipc://%s/broker", tmp);
    broker_t *running = broker_new(&(broker_config_t){.endpoint = ep}, err, sizeof err);
    REQUIRE(running != NULL);
    output_t o;
    int rc = up((const char *[]){"up", "--data", data, "--broker", ep, NULL}, &o);
    broker_destroy(&running);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    CHECK(starts_with(o.err, "lca up: "));
    CHECK_INT(count_of(o.err, "\n"), ==, 1);
    output_free(&o);

    /* A file where a parent directory should be, a name longer than a file
     * name may be: refused before the broker's directory is made. */
    REQUIRE(fixture_write_text(tmp, "file", "x") == 0);
    char impossible[300], long_name[600], run_ep[320];
    snprintf(impossible, sizeof impossible, "%s/file/data", tmp);
    snprintf(long_name, sizeof long_name, "%s/new/%0300d", tmp, 0);
    snprintf(run_ep, sizeof run_ep, "ipc://%s/run/broker", tmp);
    const struct {
        const char *data, *error;
    } impossibles[] = {{impossible, "Not a directory"}, {long_name, "File name too long"}};
    for (size_t i = 0; i < 2; i++) {
        clean_environment();
        rc =
            up((const char *[]){"up", "--data", impossibles[i].data, "--broker", run_ep, NULL}, &o);
        CHECK_INT(rc, ==, 1);
        char expected[1024];
        snprintf(expected, sizeof expected, "lca up: cannot create the data directory %s: %s\n",
                 impossibles[i].data, impossibles[i].error);
        CHECK_STR(o.err, expected);
        output_free(&o);
        CHECK(access(proc_path(tmp, "run", ""), F_OK) != 0);
        CHECK(access(proc_path(tmp, "new", ""), F_OK) != 0);
    }
    clean_environment();
    proc_shell("rm -rf %s", tmp);
}

/* ---- the whole command over fake services ---- */

typedef struct {
    char tmp[256], bin[300], lca[320], data[320], repo[320], ep[320], keys[320], log[320];
    int port;
} scene_t;

/* The copy of this binary, the fake services beside it, a repository. */
static bool scene_make(scene_t *s) {
    const char *tmp = proc_tmpdir();
    char self[PATH_MAX];
    if (!tmp || !realpath("/proc/self/exe", self))
        return false;
    snprintf(s->tmp, sizeof s->tmp, "%s", tmp);
    snprintf(s->bin, sizeof s->bin, "%s/bin", tmp);
    snprintf(s->lca, sizeof s->lca, "%s/lca", s->bin);
    snprintf(s->data, sizeof s->data, "%s/share/lca/data", tmp);
    snprintf(s->repo, sizeof s->repo, "%s/repo", tmp);
    snprintf(s->ep, sizeof s->ep, "ipc://%s/run/broker", tmp);
    snprintf(s->keys, sizeof s->keys, "%s/keys", tmp);
    snprintf(s->log, sizeof s->log, "%s/up.log", tmp);
    s->port = proc_free_port();
    /* `lca up` looks for the broker's key in the keys directory; the fake
     * gateway never reads it. */
    if (mkdir(s->bin, 0755) != 0 || mkdir(s->repo, 0755) != 0 || mkdir(s->keys, 0700) != 0 ||
        fixture_write_text(s->keys, "broker.cert_secret", "fake") != 0 ||
        proc_shell("cp %s %s", self, s->lca) != 0)
        return false;
    /* What every fake prints first: its arguments, settings and pid. */
    const char *says = "echo \"$(basename $0) [$*] port=$LCA_PORT data=$LCA_DATA "
                       "shards=$LCA_SHARDS broker=$LCA_BROKER curve=${LCA_CURVE_DIR-unset} "
                       "public=${LCA_BROKER_PUBLIC-unset} pid=$$\"";
    const struct {
        const char *name, *then;
    } fakes[] = {
        {"lca-gateway", "LCA_UP_TEST_ROLE=broker exec %s"},
        {"lca-embedder", "LCA_UP_TEST_ROLE=worker exec %s embed"},
        {"lca-generator", "LCA_UP_TEST_ROLE=worker exec %s generate"},
        {"lca-retriever", "LCA_UP_TEST_ROLE=worker exec %s retrieve.${2%%%%/*}"},
        {"lca-seeder", "echo \"seeding $1\"; exit 0"},
    };
    for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++) {
        char then[PATH_MAX + 128], script[2 * PATH_MAX];
        snprintf(then, sizeof then, fakes[i].then, self);
        snprintf(script, sizeof script, "#!/bin/sh\n%s\n%s\n", says, then);
        const char *path = proc_path(s->bin, fakes[i].name, "");
        if (fixture_write_text(NULL, path, script) != 0 || chmod(path, 0755) != 0)
            return false;
    }
    return true;
}

/* The log (what[0]) holds every text of what[1..], a NULL-terminated list. */
static bool log_has(void *arg) {
    const char **what = arg;
    FILE *f = fopen(what[0], "r");
    if (!f)
        return false;
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (int i = 1; what[i]; i++)
        if (!strstr(text, what[i]))
            return false;
    return true;
}

static char *read_log(const scene_t *s) {
    FILE *f = fopen(s->log, "r");
    char *text = calloc(1, 1 << 17);
    if (f && text)
        text[fread(text, 1, (1 << 17) - 1, f)] = '\0';
    if (f)
        fclose(f);
    return text;
}

/* The pids the fakes printed, all of them gone. */
static bool every_pid_gone(const char *log, int *count) {
    bool all = true;
    *count = 0;
    for (const char *p = log; (p = strstr(p, " pid=")) != NULL; p += 5) {
        pid_t pid = (pid_t)atol(p + 5);
        (*count)++;
        if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) {
            fprintf(stderr, "  pid %d is still there\n", (int)pid);
            all = false;
        }
    }
    return all;
}

TEST(up_starts_the_stack_seeds_once_and_stops_clean) {
    clean_environment();
    scene_t s;
    REQUIRE(scene_make(&s));
    char port[16];
    snprintf(port, sizeof port, "%d", s.port);
    char *argv[] = {s.lca,      "up", "--port", port,   "--data", s.data,
                    "--broker", s.ep, "--seed", s.repo, NULL};
    /* The keys and the public address from the environment, where the
     * children would find them too. */
    char keys_env[400];
    snprintf(keys_env, sizeof keys_env, "LCA_CURVE_DIR=%s", s.keys);
    const char *env[] = {"LCA_UP_TEST_ROLE=up", keys_env, "LCA_BROKER_PUBLIC=tcp://127.0.0.1:5556",
                         NULL};
    pid_t pid = proc_start(argv, env, s.log);
    REQUIRE(pid > 0);
    char seeding[400], ready[200];
    snprintf(seeding, sizeof seeding, "seeder      | seeding %s\n", s.repo);
    snprintf(ready, sizeof ready,
             "ready: point your IDE (Ollama or OpenAI provider) at http://127.0.0.1:%d\n", s.port);
    const char *until[] = {s.log, seeding, ready, NULL};
    bool seeded = proc_wait_for(log_has, until, 30000);
    /* Not proc_stop: that would kill what the command left behind. */
    kill(pid, SIGTERM);
    int status = proc_wait_exit(pid, 15000);
    char *log = read_log(&s);
    REQUIRE(log != NULL);
    CHECK(seeded);
    CHECK_INT(status, ==, 0);

    char line[1024];
    snprintf(line, sizeof line,
             "starting lca: gateway on http://127.0.0.1:%d, broker on %s, data in %s\n", s.port,
             s.ep, s.data);
    CHECK(strstr(log, line) != NULL);
    /* Every child by name (padded to "retriever.0"), with the settings in
     * its environment; the CURVE keys and the public address go to the
     * gateway alone, as arguments. */
    const struct {
        const char *prefix, *args;
    } children[] = {
        {"gateway     | lca-gateway", "--broker-public tcp://127.0.0.1:5556 --curve-dir "},
        {"embedder    | lca-embedder", ""},
        {"generator   | lca-generator", ""},
        {"retriever.0 | lca-retriever", "--shard 0/2"},
        {"retriever.1 | lca-retriever", "--shard 1/2"},
    };
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        snprintf(line, sizeof line,
                 "%s [%s%s] port=%d data=%s shards=2 broker=%s curve=unset public=unset pid=",
                 children[i].prefix, children[i].args, i == 0 ? s.keys : "", s.port, s.data, s.ep);
        CHECK(strstr(log, line) != NULL);
    }
    CHECK_INT(count_of(log, "| lca-"), ==, 5 + 1); /* and the seeder */
    /* Announced once, when the index services and a generator have
     * joined; the seeder run once, when the index services have. */
    CHECK_INT(count_of(log, ready), ==, 1);
    CHECK_INT(count_of(log, seeding), ==, 1);
    /* The broker (the fake gateway) said each index worker joined before
     * the seeder was started. */
    const char *seeder = strstr(log, "seeder      | lca-seeder");
    const char *joined[] = {"joined embed ", "joined retrieve.0 ", "joined retrieve.1 "};
    for (size_t i = 0; i < sizeof joined / sizeof joined[0]; i++) {
        const char *at = strstr(log, joined[i]);
        CHECK(at != NULL && seeder != NULL && at < seeder);
    }
    CHECK(strstr(log, "restarting") == NULL);
    CHECK(strstr(log, "stopping\n") != NULL);
    /* The data directory: only its owner may enter; its parents made too. */
    CHECK_INT(mode_of(s.data), ==, 0700);
    mode_t mask = umask(0);
    umask(mask);
    CHECK_INT(mode_of(proc_path(s.tmp, "share/lca", "")), ==, 0755 & ~mask);
    int pids = 0;
    CHECK(every_pid_gone(log, &pids));
    CHECK_INT(pids, ==, 6);
    free(log);
    proc_shell("rm -rf %s", s.tmp);
}

TEST(shards_and_no_generator) {
    clean_environment();
    scene_t s;
    REQUIRE(scene_make(&s));
    char port[16];
    snprintf(port, sizeof port, "%d", s.port);
    char *argv[] = {s.lca,    "up",   "--no-generator", "--port", port,
                    "--data", s.data, "--broker",       s.ep,     NULL};
    char shards_env[] = "LCA_SHARDS=3", seed_env[400];
    snprintf(seed_env, sizeof seed_env, "LCA_SEED=%s", s.repo);
    const char *env[] = {"LCA_UP_TEST_ROLE=up", shards_env, seed_env, NULL};
    pid_t pid = proc_start(argv, env, s.log);
    REQUIRE(pid > 0);
    char seeding[400];
    snprintf(seeding, sizeof seeding, "seeder      | seeding %s\n", s.repo);
    const char *until[] = {s.log, seeding, NULL};
    bool seeded = proc_wait_for(log_has, until, 30000);
    /* Not proc_stop: that would kill what the command left behind. */
    kill(pid, SIGTERM);
    int status = proc_wait_exit(pid, 15000);
    char *log = read_log(&s);
    REQUIRE(log != NULL);
    CHECK(seeded);
    CHECK_INT(status, ==, 0);
    char line[1024];
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof line, "retriever.%d | lca-retriever [--shard %d/3] ", i, i);
        CHECK(strstr(log, line) != NULL);
    }
    CHECK(strstr(log, "shards=3 ") != NULL);
    CHECK(strstr(log, "lca-generator") == NULL);
    /* Seeding needs only the index; the announcement waits for a
     * generator. */
    CHECK(strstr(log, "ready: point your IDE") == NULL);
    snprintf(line, sizeof line, "gateway     | lca-gateway [] port=%d ", s.port);
    CHECK(strstr(log, line) != NULL);
    int pids = 0;
    CHECK(every_pid_gone(log, &pids));
    CHECK_INT(pids, ==, 6);
    free(log);
    proc_shell("rm -rf %s", s.tmp);
}

int main(int argc, char **argv) {
    const char *role = getenv("LCA_UP_TEST_ROLE");
    if (role && !strcmp(role, "up")) {
        log_init("lca");
        return command_up(argc - 1, argv + 1);
    }
    if (role && !strcmp(role, "broker"))
        return role_broker();
    if (role && !strcmp(role, "worker") && argc > 1)
        return role_worker(argv[1]);
    static const test_case_t cases[] = {
        TEST_CASE(help_names_every_setting),
        TEST_CASE(bad_settings_stop_it_before_anything_starts),
        TEST_CASE(a_running_broker_or_an_impossible_data_directory_is_exit_status_1),
        TEST_CASE(up_starts_the_stack_seeds_once_and_stops_clean),
        TEST_CASE(shards_and_no_generator),
    };
    int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
    if (test_before_exit) {
        test_before_exit();
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    return rc;
}
