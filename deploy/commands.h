/*
 * The subcommands of `lca` (one file each).  Each takes argc/argv starting
 * at the subcommand's name and returns the process exit status.
 */
#ifndef LCA_DEPLOY_COMMANDS_H
#define LCA_DEPLOY_COMMANDS_H

#include "proto/base/buf.h"

#include <stddef.h>

#define LCA_VERSION "0.1.0"

int command_up(int argc, char **argv);
int command_status(int argc, char **argv);
int command_keys(int argc, char **argv);
int command_search(int argc, char **argv);
int command_ask(int argc, char **argv);
int command_health(int argc, char **argv);

/* Runs a product binary that sits next to `lca` with the given arguments
 * (argv[0] is replaced).  Returns only on failure. */
int command_exec(const char *binary, int argc, char **argv);

/* The directory of the running `lca` binary (where its siblings are). */
const char *command_bindir(void);

/* The operands of a settings spec (proto/base/settings.h) for a command
 * that takes free words: one or more, joined by command_join_args(). */
#define COMMAND_WORDS(name) .operands = (name), .min_operands = 1, .max_operands = -1

/* Appends argv[from..argc) to out, separated by spaces (a question or a
 * query typed without quotes). */
void command_join_args(int argc, char **argv, int from, buf_t *out);

/* An environment setting or a default. */
const char *command_env(const char *name, const char *fallback);

#endif
