/*
 * `lca up`: the whole stack on one machine, under the supervisor.
 *
 * Starts lca-gateway (which hosts the broker), lca-embedder, lca-generator
 * and N lca-retriever shards; with --seed DIR (or LCA_SEED) it runs the
 * seeder once, as soon as the embedder and every shard have registered with
 * the broker.  Settings go to the children through the environment, so each
 * process reads the same LCA_* values.
 */
#include "deploy/commands.h"
#include "deploy/supervisor.h"
#include "proto/client.h"
#include "proto/ollama/url.h"
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/shard.h"
#include "proto/base/log.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether mkdir_p(path) can make path, without making anything: `lca up`
 * checks every setting before it leaves a trace on disk, so a typo in
 * another option does not leave a stray data directory behind.  Returns 0
 * (path is a directory, or its nearest existing ancestor is one this user
 * may write), or -errno: the name does not fit, a component is not a
 * directory, the place cannot be written. */
static int data_dir_check(const char *path) {
    size_t len = strlen(path);
    if (len == 0)
        return -ENOENT;
    if (len >= PATH_MAX)
        return -ENAMETOOLONG;
    for (const char *c = path; *c;) {
        size_t n = strcspn(c, "/");
        if (n > NAME_MAX)
            return -ENAMETOOLONG;
        c += n + (c[n] == '/');
    }
    char at[PATH_MAX];
    snprintf(at, sizeof at, "%s", path);
    for (;;) {
        struct stat st;
        if (stat(at, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
            if (!strcmp(at, path))
                return 0; /* there already: mkdir_p() has nothing to do */
            return access(at, W_OK | X_OK) == 0 ? 0 : -errno;
        }
        if (errno != ENOENT)
            return -errno; /* ENOTDIR: a file where a parent should be */
        /* up to the parent: "a/b//c/" -> "a/b", "a" -> "." */
        char *end = at + strlen(at);
        while (end > at + 1 && end[-1] == '/')
            *--end = '\0';
        char *slash = strrchr(at, '/');
        if (!slash) {
            snprintf(at, sizeof at, ".");
            continue;
        }
        while (slash > at && slash[-1] == '/')
            slash--;
        slash[slash == at] = '\0'; /* "/x" -> "/" */
    }
}

/* Makes path and its missing parents; path itself 0700 (the index holds the
 * code of private repositories), the parents 0755.  path fits PATH_MAX
 * (data_dir_check()). */
static int mkdir_p(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

typedef struct {
    const char *broker;
    const char *seed_dir;
    int seeder; /* supervisor index of the seeder, -1 when none */
    int shards;
    proto_client_t *client;
    int64_t next_check;
    bool seeding;
    bool announced;
    const char *port;
} up_state_t;

/* True when service has at least one worker in a broker.status answer. */
static bool has_worker(const cJSON *services, const char *name) {
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(services, name), "workers");
    return cJSON_IsNumber(w) && w->valuedouble >= 1;
}

/* Asks the broker whether the index services are up. */
static bool index_ready(up_state_t *st, bool *generator) {
    if (!st->client) {
        char err[256];
        st->client = proto_client_new(st->broker, NULL, err, sizeof err);
        if (!st->client)
            return false;
    }
    proto_msg_t final;
    int status;
    char err[256];
    if (proto_client_call(st->client, "broker.status", NULL, NULL, 0, 1000, NULL, NULL, &final,
                          &status, err, sizeof err) != 0)
        return false;
    cJSON *j = cJSON_ParseWithLength(final.header, final.header_len);
    proto_msg_close(&final);
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(j, "services");
    bool ready = has_worker(services, "embed");
    for (int i = 0; i < st->shards; i++) {
        char name[SHARD_SERVICE_MAX];
        ready = ready && has_worker(services, shard_service(i, name));
    }
    *generator = has_worker(services, "generate");
    cJSON_Delete(j);
    return ready;
}

static bool on_tick(supervisor_t *sv, void *arg) {
    up_state_t *st = arg;
    int64_t now = clock_ms();
    if (st->announced && (!st->seed_dir || st->seeding))
        return false;
    if (now < st->next_check)
        return false;
    st->next_check = now + 250;
    bool generator = false;
    if (!index_ready(st, &generator))
        return false;
    if (generator && !st->announced) {
        st->announced = true;
        log_info("ready: point your IDE (Ollama or OpenAI provider) at http://127.0.0.1:%s",
                 st->port);
    }
    if (st->seed_dir && !st->seeding) {
        st->seeding = true;
        int rc = supervisor_start(sv, st->seeder);
        if (rc != 0)
            log_error("cannot start the seeder: %s", strerror(-rc));
    }
    return false;
}

/* Whether dir is an existing directory; else a message and false. */
static bool is_directory(const char *what, const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "lca up: %s %s: %s\n", what, dir, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "lca up: %s %s: %s\n", what, dir, strerror(ENOTDIR));
        return false;
    }
    return true;
}

/* The checks of `lca up`'s settings that settings_read() cannot make,
 * touching nothing on disk.  Returns 0, or the exit status after a line on
 * stderr: 2 for a setting that cannot work, 1 for a data directory that
 * cannot be made (as when making it fails). */
static int check_settings(const char *broker, const char *broker_public, const char *curve_dir,
                          const char *seed, const char *data) {
    if (broker_public && !curve_dir) {
        fprintf(stderr, "lca up: --broker-public needs --curve-dir (see `lca keys init`)\n");
        return 2;
    }
    /* The local workers join without keys, so the local broker must be one
     * that only this user reaches; other hosts join on --broker-public. */
    const char *insecure = getenv("LCA_BROKER_INSECURE");
    if (!proto_endpoint_is_private(broker) && !(insecure && !strcmp(insecure, "1"))) {
        fprintf(stderr,
                "lca up: the local broker %s would be open to anyone who reaches it: leave "
                "--broker unset (a Unix socket only you may reach); workers on other hosts join "
                "on --broker-public with CURVE keys\n",
                broker);
        return 2;
    }
    /* An inproc:// address lives in one process: the workers, each in its
     * own, could never reach the gateway's broker. */
    if (!strncmp(broker, "inproc://", 9)) {
        fprintf(stderr,
                "lca up: the broker %s is reachable only inside the gateway's process: use an "
                "ipc:// address (or leave --broker unset)\n",
                broker);
        return 2;
    }
    /* The ipc:// path's form and its directory's owner and mode, without
     * making the directory: missing is fine, it is made once all is well. */
    char err[512];
    int rc = proto_endpoint_prepare(broker, false, err, sizeof err);
    if (rc != 0 && rc != -ENOENT) {
        fprintf(stderr, "lca up: %s\n", err);
        return rc == -EINVAL ? 2 : 1;
    }
    if (broker_public) { /* the keys serve --broker-public alone */
        if (!is_directory("--curve-dir", curve_dir))
            return 2;
        char secret[PATH_MAX + 32];
        snprintf(secret, sizeof secret, "%s/broker.cert_secret", curve_dir);
        if (access(secret, R_OK) != 0) {
            fprintf(stderr,
                    "lca up: --curve-dir %s holds no broker key (%s: %s; see `lca keys init`)\n",
                    curve_dir, secret, strerror(errno));
            return 2;
        }
    }
    if (seed && !is_directory("--seed", seed))
        return 2;
    /* The generator and the embedder read it again: one they refuse would
     * have them restarted forever. */
    const char *ollama = getenv("OLLAMA_HOST");
    char *url = NULL;
    rc = ollama_url_from_host(ollama ? ollama : "", &url);
    free(url);
    if (rc == -EINVAL) {
        fprintf(stderr, "lca up: OLLAMA_HOST %s is no Ollama address (http://HOST:PORT)\n", ollama);
        return 2;
    }
    rc = data_dir_check(data);
    if (rc != 0) {
        fprintf(stderr, "lca up: cannot create the data directory %s: %s\n", data, strerror(-rc));
        return 1;
    }
    return 0;
}

#define ABOUT                                                                                      \
    "Starts the gateway and one worker of each service on this machine (the "                      \
    "retriever as N shard processes), prefixes every log line with the process's "                 \
    "name, restarts a worker that dies, and stops everything on Ctrl-C."

int command_up(int argc, char **argv) {
    char default_data[PATH_MAX];
    snprintf(default_data, sizeof default_data, "%s/.local/share/lca", command_env("HOME", "/tmp"));
    const char *broker = proto_broker_default(), *data = default_data, *seed = NULL,
               *broker_public = NULL, *curve_dir = NULL;
    long port = 11435, shards = 2;
    bool no_generator = false;
    const setting_t settings[] = {
        {"port", 0, "LCA_PORT", SETTING_NUMBER, "N", "HTTP port for IDEs", .min = 1, .max = 65535,
         .out = &port},
        OPTION_BROKER(&broker),
        OPTION_DATA(&data),
        OPTION_SHARDS(&shards),
        {"seed", 0, "LCA_SEED", SETTING_TEXT, "DIR", "index DIR once the services are ready",
         .out = &seed},
        OPTION_BROKER_PUBLIC(&broker_public),
        OPTION_CURVE_DIR(&curve_dir),
        {"no-generator", 0, NULL, SETTING_SWITCH, NULL,
         "no local generator: generation runs on GPU hosts", .out = &no_generator},
        {NULL, 0, "OLLAMA_HOST", SETTING_TEXT, NULL, "passed on to the generator",
         .shown = OLLAMA_DEFAULT_HOST},
    };
    const settings_spec_t spec = {"lca up", NULL, ABOUT, SETTINGS_OF(settings),
                                  /* Every child reads these again: a bad one must stop here. */
                                  .strict_environment = true};
    int read = settings_read(&spec, argc, argv, NULL);
    if (read != SETTINGS_GO_ON)
        return read;
    char port_env[16]; /* the children and the messages get the port as text */
    snprintf(port_env, sizeof port_env, "%ld", port);
    /* Every setting is checked before anything is made on disk (the data
     * directory, the broker's socket directory): a bad one leaves no trace,
     * and one the children would refuse does not become a supervisor
     * restarting them forever. */
    int rc = check_settings(broker, broker_public, curve_dir, seed, data);
    if (rc != 0)
        return rc;
    /* Here rather than in the gateway alone: a second `lca up` says so and
     * stops, instead of restarting a gateway that cannot start.  It makes
     * the socket's directory, so it comes after the checks. */
    char err[512];
    if (proto_endpoint_prepare(broker, true, err, sizeof err) != 0) {
        fprintf(stderr, "lca up: %s\n", err);
        return 1;
    }
    rc = mkdir_p(data);
    if (rc != 0) {
        fprintf(stderr, "lca up: cannot create the data directory %s: %s\n", data, strerror(-rc));
        return 1;
    }
    /* Every child reads the same settings. */
    setenv("LCA_PORT", port_env, 1);
    setenv("LCA_BROKER", broker, 1);
    setenv("LCA_DATA", data, 1);
    char shards_env[16];
    snprintf(shards_env, sizeof shards_env, "%ld", shards);
    setenv("LCA_SHARDS", shards_env, 1);
    /* The local workers use the plain loopback broker; only the gateway
     * needs the CURVE keys (for hosts joining on --broker-public). */
    unsetenv("LCA_CURVE_DIR");
    unsetenv("LCA_BROKER_PUBLIC");

    const char *bin = command_bindir();
    char gateway[PATH_MAX], embedder[PATH_MAX], generator[PATH_MAX], retriever[PATH_MAX],
        seeder[PATH_MAX];
    snprintf(gateway, sizeof gateway, "%s/lca-gateway", bin);
    snprintf(embedder, sizeof embedder, "%s/lca-embedder", bin);
    snprintf(generator, sizeof generator, "%s/lca-generator", bin);
    snprintf(retriever, sizeof retriever, "%s/lca-retriever", bin);
    snprintf(seeder, sizeof seeder, "%s/lca-seeder", bin);

    stop_on_signals();
    supervisor_t *sv = supervisor_new();
    if (broker_public)
        supervisor_add(sv, "gateway",
                       (char *[]){gateway, "--broker-public", (char *)broker_public, "--curve-dir",
                                  (char *)curve_dir, NULL},
                       false);
    else
        supervisor_add(sv, "gateway", (char *[]){gateway, NULL}, false);
    supervisor_add(sv, "embedder", (char *[]){embedder, NULL}, false);
    int local = 2;
    if (!no_generator) {
        supervisor_add(sv, "generator", (char *[]){generator, NULL}, false);
        local++;
    }
    for (long i = 0; i < shards; i++) {
        char name[32], shard[32];
        snprintf(name, sizeof name, "retriever.%ld", i);
        snprintf(shard, sizeof shard, "%ld/%ld", i, shards);
        supervisor_add(sv, name, (char *[]){retriever, "--shard", shard, NULL}, false);
    }
    up_state_t st = {
        .broker = broker, .seed_dir = seed, .seeder = -1, .shards = (int)shards, .port = port_env};
    if (seed)
        st.seeder = supervisor_add(sv, "seeder", (char *[]){seeder, (char *)seed, NULL}, true);
    for (int i = 0; i < local + shards; i++) {
        rc = supervisor_start(sv, i);
        if (rc != 0)
            log_error("cannot start a process: %s", strerror(-rc));
    }
    log_info("starting lca: gateway on http://127.0.0.1:%s, broker on %s, data in %s", port_env,
             broker, data);
    supervisor_run(sv, on_tick, &st);
    log_info("stopping");
    supervisor_stop_all(sv, 5000);
    supervisor_destroy(&sv);
    proto_client_destroy(&st.client);
    return 0;
}
