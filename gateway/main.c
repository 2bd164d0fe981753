/*
 * lca-gateway: the HTTP front door and the broker.
 *
 * One process, three threads: the h2o event loop (all HTTP), the broker
 * (routes requests between services), and the bridge's I/O thread (the
 * loop's connection to the broker).  See DESIGN.md.
 */
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "proto/broker.h"
#include "proto/base/log.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LCA_VERSION "0.1.0"

extern gateway_t *http_gateway;

static void usage(FILE *out) {
    fprintf(out,
            "usage: lca-gateway [options]\n"
            "\n"
            "Serves the Ollama- and OpenAI-compatible HTTP API and hosts the broker\n"
            "that lca's workers connect to.\n"
            "\n"
            "  --host ADDR           HTTP address (LCA_HOST, default 127.0.0.1)\n"
            "  --port N              HTTP port (LCA_PORT, default 11435)\n"
            "  --broker ENDPOINT     broker address for workers (LCA_BROKER,\n"
            "                        default tcp://127.0.0.1:5555)\n"
            "  --broker-public EP    a second, CURVE-only broker address for other hosts\n"
            "                        (LCA_BROKER_PUBLIC), e.g. tcp://0.0.0.0:5556\n"
            "  --curve-dir DIR       CURVE keys and allow-list (LCA_CURVE_DIR; see `lca keys`)\n"
            "  --shards N            retriever shards the index uses (LCA_SHARDS, default 2)\n"
            "  --max-body BYTES      largest request body (LCA_MAX_BODY, default 8388608)\n"
            "  --timeout MS          longest generation (LCA_REQUEST_TIMEOUT_MS, default 300000)\n"
            "  --broker-spin US      after a message, the broker polls up to US microseconds\n"
            "                        before it sleeps, adapting to the traffic\n"
            "                        (LCA_BROKER_SPIN_US, default 200; 0: never)\n"
            "  --insecure            allow a non-loopback --host without LCA_API_KEY\n"
            "  --insecure-broker     serve --broker without CURVE even on a non-loopback\n"
            "                        address (LCA_BROKER_INSECURE=1); only for a private\n"
            "                        network such as docker compose's\n"
            "  -h, --help            this text\n"
            "\n"
            "LCA_API_KEY, when set, is required as `Authorization: Bearer <key>` on every\n"
            "route but /healthz.  Without it only this machine's names are served\n"
            "(Host: localhost, an IP address, --host, or a name in LCA_HOSTS) and web\n"
            "pages only from allowed origins (local apps and IDE webviews, and the\n"
            "comma-separated patterns of LCA_ORIGINS).\n");
}

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static bool host_is_loopback(const char *host) {
    return !strncmp(host, "127.", 4) || !strcmp(host, "localhost") || !strcmp(host, "::1");
}

int main(int argc, char **argv) {
    log_init("gateway");
    const char *host = env_or("LCA_HOST", "127.0.0.1");
    long port = settings_env_long("LCA_PORT", 11435, 0, 65535);
    const char *broker_ep = env_or("LCA_BROKER", "tcp://127.0.0.1:5555");
    const char *broker_public = env_or("LCA_BROKER_PUBLIC", NULL);
    const char *curve_dir = env_or("LCA_CURVE_DIR", NULL);
    long shards = settings_env_long("LCA_SHARDS", 2, 1, 256);
    long max_body = settings_env_long("LCA_MAX_BODY", 8 << 20, 1024, 1L << 30);
    long timeout = settings_env_long("LCA_REQUEST_TIMEOUT_MS", 300000, 100, 86400000);
    long spin_us = settings_env_long("LCA_BROKER_SPIN_US", 200, 0, 100000);
    bool insecure = false;
    bool insecure_broker = settings_env_long("LCA_BROKER_INSECURE", 0, 0, 1) == 1;

    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"broker", required_argument, NULL, 'b'},
        {"broker-public", required_argument, NULL, 'B'},
        {"curve-dir", required_argument, NULL, 'c'},
        {"shards", required_argument, NULL, 's'},
        {"max-body", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'},
        {"broker-spin", required_argument, NULL, 'S'},
        {"insecure", no_argument, NULL, 'i'},
        {"insecure-broker", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'H':
            host = optarg;
            break;
        case 'p':
            ok = settings_arg_long("lca-gateway", "--port", optarg, 0, 65535, &port);
            break;
        case 'b':
            broker_ep = optarg;
            break;
        case 'B':
            broker_public = optarg;
            break;
        case 'c':
            curve_dir = optarg;
            break;
        case 's':
            ok = settings_arg_long("lca-gateway", "--shards", optarg, 1, 256, &shards);
            break;
        case 'm':
            ok = settings_arg_long("lca-gateway", "--max-body", optarg, 1024, 1L << 30, &max_body);
            break;
        case 't':
            ok = settings_arg_long("lca-gateway", "--timeout", optarg, 100, 86400000, &timeout);
            break;
        case 'S':
            ok = settings_arg_long("lca-gateway", "--broker-spin", optarg, 0, 100000, &spin_us);
            break;
        case 'i':
            insecure = true;
            break;
        case 'I':
            insecure_broker = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "lca-gateway: bad arguments (see --help)\n");
        return 2;
    }
    const char *api_key = env_or("LCA_API_KEY", NULL);
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
    /* Our own check answers 413 in the caller's API shape; h2o's limit only
     * stops bodies far beyond it. */
    config.max_request_entity_size = (size_t)max_body * 2;
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT(HTTP_NO_HOST)), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    h2o_create_handler(pathconf, sizeof(h2o_handler_t))->on_req = http_on_request;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&context, loop, &config);
    accept_ctx.ctx = &context;
    accept_ctx.hosts = config.hosts;

    static guard_t guard;
    guard_init(&guard, host, getenv("LCA_HOSTS"), getenv("LCA_ORIGINS"));
    static gateway_t gateway;
    gateway = (gateway_t){.context = &context,
                          .api_key = api_key,
                          .guard = &guard,
                          .max_body = (size_t)max_body,
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
