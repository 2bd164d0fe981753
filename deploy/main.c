/*
 * lca: the one command a user types.
 *
 *   lca up       run the whole stack on this machine (supervised)
 *   lca seed     index a repository (runs lca-seeder)
 *   lca status   services, workers and collections, as the broker sees them
 *   lca ask      a chat about the repository from the terminal
 *   lca keys     CURVE keys for workers on other hosts
 *   lca health   exit status from the gateway's /healthz (container health checks)
 *
 * The product binaries live next to this one (build/bin, or /usr/local/bin
 * in a container); `lca` finds them through /proc/self/exe.
 */
#include "deploy/commands.h"
#include "proto/base/log.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: lca <command> [options]\n"
            "\n"
            "A local code assistant: an Ollama- and OpenAI-compatible gateway that puts the\n"
            "right code from your repository into every completion and chat.\n"
            "\n"
            "commands:\n"
            "  up [--port N] [--broker EP] [--data DIR] [--shards N] [--seed DIR]\n"
            "                 start the gateway and one worker of each service here, restart\n"
            "                 any that dies, stop everything on Ctrl-C\n"
            "  seed DIR [--collection NAME] [--watch] [--reset]\n"
            "                 index a repository (needs `lca up` running)\n"
            "  status         services, workers (with host) and collections\n"
            "  search [--collection NAME] [-k N] TEXT\n"
            "                 the code the assistant would use for TEXT\n"
            "  ask [--collection NAME] [--model M] QUESTION\n"
            "                 chat about the repository from the terminal, with sources\n"
            "  health         exit 0 when the gateway's /healthz says every service is up\n"
            "  keys init DIR  create the broker's CURVE key pair and allow-list in DIR\n"
            "  keys add NAME DIR\n"
            "                 create keys for a worker host NAME and allow it\n"
            "  version        print the version\n"
            "\n"
            "environment: LCA_PORT (11435), LCA_BROKER (ipc://$XDG_RUNTIME_DIR/lca/broker),\n"
            "LCA_DATA (~/.local/share/lca), LCA_SHARDS (2), OLLAMA_HOST (http://127.0.0.1:11434),\n"
            "LCA_API_KEY, LCA_CURVE_DIR, LCA_LOG (debug|info|warn|error).\n"
            "`lca <command> --help` tells more.\n");
}

int main(int argc, char **argv) {
    log_init("lca");
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("lca %s\n", LCA_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "up"))
        return command_up(argc - 1, argv + 1);
    if (!strcmp(cmd, "seed"))
        return command_exec("lca-seeder", argc - 1, argv + 1);
    if (!strcmp(cmd, "status"))
        return command_status(argc - 1, argv + 1);
    if (!strcmp(cmd, "search"))
        return command_search(argc - 1, argv + 1);
    if (!strcmp(cmd, "ask"))
        return command_ask(argc - 1, argv + 1);
    if (!strcmp(cmd, "health"))
        return command_health(argc - 1, argv + 1);
    if (!strcmp(cmd, "keys"))
        return command_keys(argc - 1, argv + 1);
    fprintf(stderr, "lca: unknown command '%s' (see lca --help)\n", cmd);
    return 2;
}
