/*
 * `lca keys`: CURVE key pairs for a broker that accepts workers from other
 * hosts (proto/curve.h has the layout).
 *
 *   lca keys init DIR        DIR/broker.cert(+_secret), DIR/allowed/
 *   lca keys add NAME DIR [--serves SERVICES] [--calls SERVICES]
 *                            DIR/hosts/NAME/{broker.cert, client.cert(+_secret)}
 *                            and DIR/allowed/NAME.cert; copy DIR/hosts/NAME to the
 *                            host and point LCA_CURVE_DIR there.  The allowed
 *                            certificate says what the key may serve (default:
 *                            generate) and call (default: nothing), as metadata
 *                            the broker reads (proto/broker.c).
 */
#include "deploy/commands.h"
#include "proto/base/settings.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int make_dir(const char *path) {
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "lca keys: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int keys_init(const char *dir) {
    char path[4096];
    if (make_dir(dir) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/allowed", dir);
    if (make_dir(path) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/broker.cert", dir);
    if (exists(path)) {
        fprintf(stderr, "lca keys: %s exists; keeping it\n", path);
        return 0;
    }
    zcert_t *cert = zcert_new();
    zcert_set_meta(cert, "name", "lca broker");
    int rc = zcert_save(cert, path);
    zcert_destroy(&cert);
    if (rc != 0) {
        fprintf(stderr, "lca keys: cannot write %s\n", path);
        return 1;
    }
    printf("broker keys in %s; start the gateway with LCA_CURVE_DIR=%s\n"
           "and --broker-public tcp://0.0.0.0:5556, then `lca keys add NAME %s` per host\n",
           dir, dir, dir);
    return 0;
}

/* A list of service patterns: service-name characters, `*` and commas. */
static bool services_valid(const char *list) {
    for (const char *p = list; *p; p++)
        if (!(*p == ',' || *p == '*' || *p == '.' || *p == '_' || *p == '-' ||
              (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

static int keys_add(const char *name, const char *dir, const char *serves, const char *calls) {
    if (!services_valid(serves) || !services_valid(calls)) {
        fprintf(stderr, "lca keys: --serves and --calls take service names or patterns "
                        "(a-z 0-9 . _ - *), comma-separated\n");
        return 2;
    }
    /* DIR/hosts/NAME must be a folder of its own: not "", "." or ".."
     * (DIR/hosts or DIR itself, whose copy would carry the broker's secret). */
    bool name_valid = name[0] != '\0' && name[0] != '.';
    for (const char *p = name; *p; p++)
        name_valid &= *p == '-' || *p == '_' || *p == '.' || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
    if (!name_valid) {
        fprintf(stderr, "lca keys: a host name may use letters, digits, '.', '_' and '-', and "
                        "does not begin with '.'\n");
        return 2;
    }
    char path[4096], host[4096];
    snprintf(path, sizeof path, "%s/broker.cert", dir);
    zcert_t *broker = zcert_load(path);
    if (!broker) {
        fprintf(stderr, "lca keys: no broker keys in %s: run `lca keys init %s` first\n", dir, dir);
        return 1;
    }
    snprintf(path, sizeof path, "%s/hosts", dir);
    snprintf(host, sizeof host, "%s/hosts/%s", dir, name);
    if (make_dir(path) != 0 || make_dir(host) != 0) {
        zcert_destroy(&broker);
        return 1;
    }
    zcert_t *cert = zcert_new();
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "serves", "%s", serves);
    zcert_set_meta(cert, "calls", "%s", calls);
    char client[4200], broker_copy[4200], allowed[4200];
    snprintf(client, sizeof client, "%s/client.cert", host);
    snprintf(broker_copy, sizeof broker_copy, "%s/broker.cert", host);
    snprintf(allowed, sizeof allowed, "%s/allowed/%s.cert", dir, name);
    int rc = zcert_save(cert, client) | zcert_save_public(broker, broker_copy) |
             zcert_save_public(cert, allowed);
    zcert_destroy(&cert);
    zcert_destroy(&broker);
    if (rc != 0) {
        fprintf(stderr, "lca keys: cannot write the keys for %s\n", name);
        return 1;
    }
    printf("host %s allowed to serve %s and to call %s.  Copy %s to that host and\n"
           "run its workers with LCA_CURVE_DIR=<the copy> LCA_BROKER=tcp://<this machine>:5556\n",
           name, serves, *calls ? calls : "nothing", host);
    return 0;
}

#define ABOUT                                                                                      \
    "init creates the broker's key pair and an empty allow-list in DIR; run the "                  \
    "gateway with LCA_CURVE_DIR=DIR.  add creates a key pair for the worker host "                 \
    "NAME, allows it, and writes what that host needs to DIR/hosts/NAME: copy that "               \
    "folder there and set LCA_CURVE_DIR to it.  Remove DIR/allowed/NAME.cert to "                  \
    "revoke a host."

int command_keys(int argc, char **argv) {
    const char *serves = "generate", *calls = "";
    const setting_t settings[] = {
        {"serves", 0, NULL, SETTING_TEXT, "SERVICES",
         "add: services the host's workers may serve, comma-separated patterns\n"
         "(generate,embed; 'retrieve.*')",
         .out = &serves},
        {"calls", 0, NULL, SETTING_TEXT, "SERVICES",
         "add: services its programs may send requests to (broker.status for\n"
         "`lca status`)",
         .shown = "nothing", .out = &calls},
    };
    const settings_spec_t spec = {"lca keys",
                                  "init DIR | add NAME DIR [--serves S] [--calls S]",
                                  ABOUT,
                                  SETTINGS_OF(settings),
                                  .operands = "init DIR or add NAME DIR",
                                  .min_operands = 2,
                                  .max_operands = 3};
    int first = 0, read = settings_read(&spec, argc, argv, &first);
    if (read != SETTINGS_GO_ON)
        return read;
    int n = argc - first;
    if (n == 2 && !strcmp(argv[first], "init"))
        return keys_init(argv[first + 1]);
    if (n == 3 && !strcmp(argv[first], "add"))
        return keys_add(argv[first + 1], argv[first + 2], serves, calls);
    fprintf(stderr, "lca keys: wants init DIR or add NAME DIR, not \"%s\" (see lca keys --help)\n",
            argv[first]);
    return 2;
}
