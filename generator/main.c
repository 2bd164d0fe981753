/*
 * lca-generator: the "generate" worker.  It connects to the broker, takes
 * requests for Ollama's API and streams Ollama's answers back (relay.c),
 * talking to one Ollama (ollama.c).  Run one per Ollama host; the broker
 * spreads requests over all of them, least busy first.
 *
 * Settings, command line first, then environment, then default:
 *   --ollama URL     OLLAMA_HOST              http://127.0.0.1:11434
 *   --broker EP      LCA_BROKER               tcp://127.0.0.1:5555
 *   --capacity N     LCA_GENERATOR_CAPACITY   64 concurrent requests
 *                    LCA_CURVE_DIR            client keys for a CURVE broker
 */
#include "generator/ollama.h"
#include "generator/relay.h"
#include "proto/base/log.h"
#include "proto/worker.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BROKER "tcp://127.0.0.1:5555"
#define DEFAULT_CAPACITY 64
#define CAPACITY_MAX 4096

static int probe_collect(void *arg, const char *data, size_t len) {
    char *out = arg;
    size_t have = strlen(out), room = 127 - have;
    memcpy(out + have, data, len < room ? len : room);
    out[have + (len < room ? len : room)] = '\0';
    return 0;
}

/* Says in the log whether Ollama answers, so a wrong OLLAMA_HOST shows at
 * start and not at the first request.  Serving starts either way: Ollama may
 * come up later. */
static void probe_ollama(ollama_t *ollama) {
    char body[128] = "";
    ollama_call_t *call = ollama_call_new(ollama, &(ollama_request_t){.method = "GET",
                                                                      .path = "/api/version",
                                                                      .timeout_ms = 1500,
                                                                      .on_body = probe_collect,
                                                                      .arg = body});
    if (!call)
        return;
    int rc = ollama_call_run(call);
    const char *version = strstr(body, "\"version\":\"");
    if (rc == 0 && ollama_call_status(call) == 200 && version)
        log_info("Ollama %.*s at %s", (int)strcspn(version + 11, "\""), version + 11,
                 ollama_url(ollama));
    else if (rc == 0)
        log_warn("%s answered HTTP %ld to /api/version: is it Ollama?", ollama_url(ollama),
                 ollama_call_status(call));
    else
        log_warn("Ollama is not reachable at %s yet (%s): start it with `ollama serve` or set "
                 "OLLAMA_HOST",
                 ollama_url(ollama),
                 ollama_call_error(call)[0] ? ollama_call_error(call) : "no answer");
    ollama_call_destroy(&call);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: lca-generator [--ollama URL] [--broker ENDPOINT] [--capacity N]\n"
            "\n"
            "Serves the \"generate\" service: relays requests from lca's broker to Ollama\n"
            "and streams the answers back.\n"
            "\n"
            "  --ollama URL       Ollama to use (env OLLAMA_HOST; default %s);\n"
            "                     host:port without a scheme works too\n"
            "  --broker ENDPOINT  broker to serve (env LCA_BROKER; default %s)\n"
            "  --capacity N       concurrent requests (env LCA_GENERATOR_CAPACITY; default %d)\n"
            "  --help             this text\n"
            "\n"
            "LCA_CURVE_DIR names the client keys for a CURVE broker; LCA_LOG sets the log\n"
            "level (debug, info, warn, error).\n",
            OLLAMA_DEFAULT_HOST, DEFAULT_BROKER, DEFAULT_CAPACITY);
}

/* Reads "--name value" or "--name=value" at argv[*i]; NULL when argv[*i] is
 * not that option. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int main(int argc, char **argv) {
    const char *ollama_host = NULL, *broker = NULL, *capacity_text = NULL;
    for (int i = 1; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((v = option_value(argc, argv, &i, "--ollama", &missing))) {
            ollama_host = v;
        } else if ((v = option_value(argc, argv, &i, "--broker", &missing))) {
            broker = v;
        } else if ((v = option_value(argc, argv, &i, "--capacity", &missing))) {
            capacity_text = v;
        } else {
            fprintf(stderr, "lca-generator: %s %s\n", argv[i],
                    missing ? "needs a value" : "is not an option");
            usage(stderr);
            return 2;
        }
    }
    log_init("generator");
    if (!broker)
        broker = getenv("LCA_BROKER");
    if (!broker || !*broker)
        broker = DEFAULT_BROKER;
    long capacity = settings_env_long("LCA_GENERATOR_CAPACITY", DEFAULT_CAPACITY, 1, CAPACITY_MAX);
    if (capacity_text &&
        !settings_arg_long("lca-generator", "--capacity", capacity_text, 1, CAPACITY_MAX, &capacity))
        return 2;
    const char *curve_dir = getenv("LCA_CURVE_DIR");
    if (curve_dir && !*curve_dir)
        curve_dir = NULL;

    char err[512];
    ollama_t *ollama = ollama_new(ollama_host, err, sizeof err);
    if (!ollama) {
        log_error("%s", err);
        return 1;
    }
    stop_on_signals();
    probe_ollama(ollama);
    proto_worker_t *worker = proto_worker_new(&(proto_worker_config_t){.endpoint = broker,
                                                                       .service = "generate",
                                                                       .curve_dir = curve_dir,
                                                                       .capacity = (int)capacity,
                                                                       .handler = relay_handle_job,
                                                                       .arg = ollama},
                                              err, sizeof err);
    if (!worker) {
        log_error("%s", err);
        ollama_destroy(&ollama);
        return 1;
    }
    log_info("serving generate from Ollama at %s via %s%s, %ld at a time", ollama_url(ollama),
             broker, curve_dir ? " (CURVE)" : "", capacity);
    proto_worker_run(worker);
    proto_worker_destroy(&worker);
    ollama_destroy(&ollama);
    log_info("stopped");
    return 0;
}
