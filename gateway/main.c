/*
 * lca-gateway: the HTTP front door and the broker.
 *
 * One process, three threads: the h2o event loop (all HTTP), the broker
 * (routes requests between services), and the bridge's I/O thread (the
 * loop's connection to the broker).  README.md, "How the pieces fit", has
 * the whole picture.
 */
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "proto/broker.h"
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/base/log.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LCA_VERSION "0.1.0"

extern gateway_t *http_gateway;

#define ABOUT                                                                                      \
    "Serves the Ollama- and OpenAI-compatible HTTP API and hosts the broker that lca's workers "   \
    "connect to."

static bool host_is_loopback(const char *host) {
    return !strncmp(host, "127.", 4) || !strcmp(host, "localhost") || !strcmp(host, "::1");
}

int main(int argc, char **argv) {
    log_init("gateway");
    const char *host = "127.0.0.1", *broker_ep = proto_broker_default(), *broker_public = NULL,
               *curve_dir = NULL, *api_key = NULL, *hosts = NULL, *origins = NULL;
    long port = 11435, shards = 2, max_body = 8 << 20, timeout = 300000, spin_us = 200,
         max_json_values = GATEWAY_JSON_VALUES_DEFAULT;
    bool insecure = false, insecure_broker = false;
    const setting_t settings[] = {
        {"host", 0, "LCA_HOST", SETTING_TEXT, "ADDR", "HTTP address", .out = &host},
        {"port", 0, "LCA_PORT", SETTING_NUMBER, "N", "HTTP port", .min = 0, .max = 65535,
         .out = &port},
        OPTION_BROKER(&broker_ep),
        OPTION_BROKER_PUBLIC(&broker_public),
        OPTION_CURVE_DIR(&curve_dir),
        OPTION_SHARDS(&shards),
        {"max-body", 0, "LCA_MAX_BODY", SETTING_NUMBER, "BYTES", "largest request body",
         .min = 1024, .max = 1L << 30, .out = &max_body},
        {"max-json-values", 0, "LCA_MAX_JSON_VALUES", SETTING_NUMBER, "N",
         "most values (objects, arrays, strings, numbers, literals) in a JSON request body",
         .min = 16, .max = 1L << 26, .out = &max_json_values},
        {"timeout", 0, "LCA_REQUEST_TIMEOUT_MS", SETTING_NUMBER, "MS", "longest generation",
         .min = 100, .max = 86400000, .out = &timeout},
        {"broker-spin", 0, "LCA_BROKER_SPIN_US", SETTING_NUMBER, "US",
         "after a message, the broker polls up to US microseconds before it sleeps, adapting "
         "to the traffic; 0: never",
         .min = 0, .max = 100000, .out = &spin_us},
        {"insecure", 0, NULL, SETTING_SWITCH, NULL,
         "allow a non-loopback --host without LCA_API_KEY", .out = &insecure},
        {"insecure-broker", 0, "LCA_BROKER_INSECURE", SETTING_SWITCH, NULL,
         "serve a tcp:// --broker without CURVE: whoever reaches the address (every local "
         "user, on loopback) may serve or call any service; only for a network whose every "
         "peer you trust",
         .out = &insecure_broker},
        {NULL, 0, "LCA_API_KEY", SETTING_TEXT, NULL,
         "when set, required as `Authorization: Bearer <key>` on every route but /healthz",
         .shown = "", .out = &api_key},
        {NULL, 0, "LCA_HOSTS", SETTING_TEXT, NULL,
         "without an API key, Host names served besides localhost, IP addresses and --host "
         "(comma-separated patterns, * any run of characters)",
         .shown = "", .out = &hosts},
        {NULL, 0, "LCA_ORIGINS", SETTING_TEXT, NULL,
         "without an API key, web page origins served besides the gateway's own, local "
         "pages and IDE webviews (comma-separated patterns, e.g. https://*.example.com)",
         .shown = "", .out = &origins},
    };
    const settings_spec_t spec = {"lca-gateway", NULL, ABOUT, SETTINGS_OF(settings)};
    int rc = settings_read(&spec, argc, argv, NULL);
    if (rc != SETTINGS_GO_ON)
        return rc;
    if (!host_is_loopback(host) && !api_key && !insecure) {
        fprintf(stderr,
                "lca-gateway: refusing to serve on %s without an API key: set LCA_API_KEY "
                "(or pass --insecure to accept anyone who can reach this address)\n",
                host);
        return 2;
    }

    stop_on_signals();
    char err[512];
    broker_t *broker = broker_new(&(broker_config_t){.endpoint = broker_ep,
                                                     .public_endpoint = broker_public,
                                                     .curve_dir = curve_dir,
                                                     .plain_endpoint = insecure_broker,
                                                     .spin_us = (int)spin_us},
                                  err, sizeof err);
    if (!broker) {
        log_error("%s", err);
        return 1;
    }

    static h2o_globalconf_t config;
    static h2o_context_t context;
    static h2o_accept_ctx_t accept_ctx;
    h2o_config_init(&config);
    config.server_name = h2o_iovec_init(H2O_STRLIT("lca"));
    /* h2o 2.2.5 reads a body whole before any handler runs, the API key
     * check included, and this process-wide limit is the only one it has:
     * it refuses a larger Content-Length from the headers alone, before a
     * byte of the body is read, and stops a chunked or HTTP/2 body as soon
     * as what it read passes the limit.  So no caller, with a key or
     * without, makes the gateway hold more than this.  The slack lets a
     * body a little over --max-body reach our own check, which answers 413
     * in the caller's API shape (HTTP/2 would otherwise see a bare stream
     * reset). */
    config.max_request_entity_size = (size_t)max_body + HTTP_BODY_SLACK;
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT(HTTP_NO_HOST)), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    h2o_create_handler(pathconf, sizeof(h2o_handler_t))->on_req = http_on_request;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&context, loop, &config);
    accept_ctx.ctx = &context;
    accept_ctx.hosts = config.hosts;

    static guard_t guard;
    guard_init(&guard, host, hosts, origins);
    static gateway_t gateway;
    gateway = (gateway_t){.context = &context,
                          .api_key = api_key,
                          .guard = &guard,
                          .max_body = (size_t)max_body,
                          .max_json_values = (size_t)max_json_values,
                          .shards = (int)shards,
                          .request_timeout_ms = (int)timeout,
                          .status_timeout_ms = 2000,
                          .version = LCA_VERSION};
    http_gateway = &gateway;
    gateway.bridge = bridge_new(loop, broker_local_endpoint(broker), err, sizeof err);
    if (!gateway.bridge) {
        log_error("%s", err);
        broker_destroy(&broker);
        return 1;
    }
    gateway.collections =
        collections_cache_new(gateway.bridge, gateway.shards, gateway.status_timeout_ms);
    if (!gateway.collections) {
        log_error("out of memory");
        bridge_destroy(&gateway.bridge);
        broker_destroy(&broker);
        return 1;
    }
    h2o_socket_t *listener = NULL;
    if (http_listen(&context, &accept_ctx, host, (int)port, &listener, err, sizeof err) != 0) {
        log_error("%s", err);
        collections_cache_destroy(&gateway.collections);
        bridge_destroy(&gateway.bridge);
        broker_destroy(&broker);
        return 1;
    }
    log_info("listening on http://%s:%ld; broker on %s%s%s", host, port, broker_ep,
             broker_public ? " and " : "", broker_public ? broker_public : "");

    while (!stop_requested())
        h2o_evloop_run(loop, 250);

    log_info("shutting down");
    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    collections_cache_destroy(&gateway.collections);
    bridge_destroy(&gateway.bridge);
    broker_destroy(&broker);
    return 0;
}
