/*
 * `lca health`: exit 0 when the gateway's /healthz answers 200, 1 otherwise.
 *
 * Made for container health checks: the runtime image carries libcurl but
 * no curl binary, and a check must finish quickly and say nothing on success
 * unless asked.  The gateway is found like every other subcommand finds it:
 * LCA_URL, else http://127.0.0.1:LCA_PORT.
 */
#include "deploy/commands.h"
#include "proto/base/settings.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t count, void *arg) {
    buf_t *b = arg;
    return buf_append(b, data, size * count) == 0 ? size * count : 0;
}

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
        {NULL, 0, "LCA_URL", SETTING_TEXT, NULL, "the gateway",
         .shown = "http://127.0.0.1:$LCA_PORT"},
    };
    const settings_spec_t spec = {"lca health", NULL, ABOUT, .settings = settings,
                                  .count = sizeof settings / sizeof settings[0]};
    int read = settings_read(&spec, argc, argv, NULL);
    if (read != SETTINGS_GO_ON)
        return read;
    char url[512];
    const char *base = command_env("LCA_URL", NULL);
    if (base)
        snprintf(url, sizeof url, "%s/healthz", base);
    else
        snprintf(url, sizeof url, "http://127.0.0.1:%s/healthz", command_env("LCA_PORT", "11435"));

    buf_t answer = {0};
    CURL *curl = curl_easy_init();
    if (!curl) {
        fprintf(stderr, "lca health: cannot start libcurl\n");
        return 1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    long status = 0;
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (!quiet) {
        if (rc != CURLE_OK)
            fprintf(stderr, "lca health: cannot reach %s: %s\n", url, curl_easy_strerror(rc));
        else
            printf("%ld %.*s\n", status, (int)answer.len, answer.data ? answer.data : "");
    }
    buf_free(&answer);
    return status == 200 ? 0 : 1;
}
