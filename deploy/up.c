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
#include "proto/shard.h"
#include "proto/base/log.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: lca up [--port N] [--broker ENDPOINT] [--data DIR] [--shards N] [--seed DIR]\n"
            "              [--broker-public EP --curve-dir DIR] [--no-generator]\n"
            "\n"
            "Starts the gateway and one worker of each service on this machine (the\n"
            "retriever as N shard processes), prefixes every log line with the process's\n"
            "name, restarts a worker that dies, and stops everything on Ctrl-C.\n"
            "\n"
            "  --port N          HTTP port for IDEs (LCA_PORT, default 11435)\n"
            "  --broker EP       broker address (LCA_BROKER, default tcp://127.0.0.1:5555)\n"
            "  --data DIR        where the index lives (LCA_DATA, default ~/.local/share/lca)\n"
            "  --shards N        retriever shards (LCA_SHARDS, default 2)\n"
            "  --seed DIR        index DIR once the services are ready (LCA_SEED)\n"
            "  --broker-public EP  also accept workers from other hosts here, CURVE only\n"
            "                    (LCA_BROKER_PUBLIC, e.g. tcp://0.0.0.0:5556)\n"
            "  --curve-dir DIR   the broker's keys and allow-list (LCA_CURVE_DIR; lca keys)\n"
            "  --no-generator    no local generator: generation runs on GPU hosts\n"
            "\n"
            "OLLAMA_HOST (default http://127.0.0.1:11434) is passed on to the generator.\n");
}

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
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
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

int command_up(int argc, char **argv) {
    const char *port = command_env("LCA_PORT", "11435");
    const char *broker = command_env("LCA_BROKER", "tcp://127.0.0.1:5555");
    const char *seed = command_env("LCA_SEED", NULL);
    const char *shards_text = command_env("LCA_SHARDS", "2");
    /* Named in messages: a bad value may come from the environment. */
    const char *port_from = "LCA_PORT", *shards_from = "LCA_SHARDS";
    char default_data[PATH_MAX];
    const char *home = command_env("HOME", "/tmp");
    snprintf(default_data, sizeof default_data, "%s/.local/share/lca", home);
    const char *data = command_env("LCA_DATA", default_data);
    const char *broker_public = command_env("LCA_BROKER_PUBLIC", NULL);
    const char *curve_dir = command_env("LCA_CURVE_DIR", NULL);
    bool with_generator = true;

    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"broker", required_argument, NULL, 'b'},
        {"data", required_argument, NULL, 'd'},
        {"shards", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'S'},
        {"broker-public", required_argument, NULL, 'P'},
        {"curve-dir", required_argument, NULL, 'c'},
        {"no-generator", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            port = optarg;
            port_from = "--port";
            break;
        case 'b':
            broker = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 's':
            shards_text = optarg;
            shards_from = "--shards";
            break;
        case 'S':
            seed = optarg;
            break;
        case 'P':
            broker_public = optarg;
            break;
        case 'c':
            curve_dir = optarg;
            break;
        case 'n':
            with_generator = false;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lca up: bad arguments (see lca up --help)\n");
        return 2;
    }
    /* The port text goes to the children as it is, so it must be exactly a
     * number: the gateway would not listen on "12abc". */
    long port_n, shards;
    if (!settings_arg_long("lca up", port_from, port, 1, 65535, &port_n) ||
        !settings_arg_long("lca up", shards_from, shards_text, 1, 64, &shards))
        return 2;
    int rc = mkdir_p(data);
    if (rc != 0) {
        fprintf(stderr, "lca up: cannot create the data directory %s: %s\n", data, strerror(-rc));
        return 1;
    }
    /* Every child reads the same settings. */
    setenv("LCA_PORT", port, 1);
    setenv("LCA_BROKER", broker, 1);
    setenv("LCA_DATA", data, 1);
    char shards_env[16];
    snprintf(shards_env, sizeof shards_env, "%ld", shards);
    setenv("LCA_SHARDS", shards_env, 1);
    /* The local workers use the plain loopback broker; only the gateway
     * needs the CURVE keys (for hosts joining on --broker-public). */
    unsetenv("LCA_CURVE_DIR");
    unsetenv("LCA_BROKER_PUBLIC");
    if (broker_public && !curve_dir) {
        fprintf(stderr, "lca up: --broker-public needs --curve-dir (see `lca keys init`)\n");
        return 2;
    }

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
    if (with_generator) {
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
        .broker = broker, .seed_dir = seed, .seeder = -1, .shards = (int)shards, .port = port};
    if (seed)
        st.seeder = supervisor_add(sv, "seeder", (char *[]){seeder, (char *)seed, NULL}, true);
    for (int i = 0; i < local + shards; i++) {
        rc = supervisor_start(sv, i);
        if (rc != 0)
            log_error("cannot start a process: %s", strerror(-rc));
    }
    log_info("starting lca: gateway on http://127.0.0.1:%s, broker on %s, data in %s", port, broker,
             data);
    supervisor_run(sv, on_tick, &st);
    log_info("stopping");
    supervisor_stop_all(sv, 5000);
    supervisor_destroy(&sv);
    proto_client_destroy(&st.client);
    return 0;
}
