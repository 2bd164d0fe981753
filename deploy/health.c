/*
 * `lca health`: exit 0 when the gateway's /healthz answers 200, 1 otherwise.
 *
 * Made for container health checks: the runtime image carries libcurl but
 * no curl binary, and a check must finish quickly and say nothing on success
 * unless asked.  The gateway is found like every other subcommand finds it:
 * LCA_URL, else http://127.0.0.1:LCA_PORT.
 */
#include "deploy/commands.h"
#include "deploy/http.h"
#include "proto/base/settings.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABOUT                                                                                      \
    "Asks the gateway for /healthz and prints its answer.  Exits 0 when it is 200 "                \
    "(every service has a worker), 1 otherwise: a health check for containers and "                \
    "scripts."

int command_health(int argc, char **argv) {
    long timeout_ms = 3000;
    bool quiet = false;
    const setting_t settings[] = {
        {"timeout", 0, NULL, SETTING_NUMBER, "MS", "give up after MS milliseconds", .min = 1,
         .max = LONG_MAX, .out = &timeout_ms},
        {"quiet", 'q', NULL, SETTING_SWITCH, NULL, "print nothing", .out = &quiet},
        COMMAND_HTTP_SETTINGS,
    };
    const settings_spec_t spec = {"lca health", NULL, ABOUT, SETTINGS_OF(settings)};
    int read = settings_read(&spec, argc, argv, NULL);
    if (read != SETTINGS_GO_ON)
        return read;
    buf_t answer = BUF_INIT;
    command_http_result_t result;
    command_http(
        &(command_http_request_t){.path = "/healthz", .timeout_ms = timeout_ms, .answer = &answer},
        &result);
    if (!quiet) {
        if (!result.complete)
            fprintf(stderr, "lca health: cannot reach %s: %s\n", result.url, result.error);
        else
            printf("%ld %.*s\n", result.status, (int)answer.len, answer.data ? answer.data : "");
    }
    buf_free(&answer);
    return result.complete && result.status == 200 ? 0 : 1;
}
