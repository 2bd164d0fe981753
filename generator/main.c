/*
 * lca-generator: the "generate" worker.  It connects to the broker, takes
 * requests for Ollama's API and streams Ollama's answers back (relay.c),
 * talking to one Ollama (proto/ollama/client.h).  Run one per Ollama host; the broker
 * spreads requests over all of them, least busy first.  Its settings are
 * the table in main() (`lca-generator --help` prints it).
 */
#include "proto/ollama/client.h"
#include "generator/relay.h"
#include "proto/base/log.h"
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/worker.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define ABOUT                                                                                      \
    "Serves the \"generate\" service: relays requests from lca's broker to Ollama "                \
    "and streams the answers back."

int main(int argc, char **argv) {
    log_init("generator");
    const char *ollama_host = OLLAMA_DEFAULT_HOST, *broker = proto_broker_default(),
               *curve_dir = NULL;
    long capacity = DEFAULT_CAPACITY;
    const setting_t settings[] = {
        {"ollama", 0, "OLLAMA_HOST", SETTING_TEXT, "URL",
         "Ollama to use; host:port without a scheme works too", .out = &ollama_host},
        OPTION_BROKER(&broker),
        {"capacity", 0, "LCA_GENERATOR_CAPACITY", SETTING_NUMBER, "N", "concurrent requests",
         .min = 1, .max = CAPACITY_MAX, .out = &capacity},
        OPTION_CURVE_KEYS(&curve_dir),
        {NULL, 0, "LCA_LOG", SETTING_TEXT, NULL, "the log level: debug, info, warn, error",
         .shown = "info"},
    };
    const settings_spec_t spec = {"lca-generator", NULL, ABOUT, SETTINGS_OF(settings)};
    int rc = settings_read(&spec, argc, argv, NULL);
    if (rc != SETTINGS_GO_ON)
        return rc;

    char err[512];
    ollama_t *ollama = ollama_new(ollama_host, "lca-generator", err, sizeof err);
    if (!ollama) {
        log_error("%s", err);
        return 1;
    }
    stop_on_signals();
    probe_ollama(ollama);
    rc = proto_worker_serve(&(proto_worker_config_t){.endpoint = broker,
                                                     .service = "generate",
                                                     .curve_dir = curve_dir,
                                                     .capacity = (int)capacity,
                                                     .handler = relay_handle_job,
                                                     .arg = ollama});
    ollama_destroy(&ollama);
    if (rc == 0)
        log_info("stopped");
    return rc;
}
