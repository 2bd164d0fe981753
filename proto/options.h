/*
 * options: the settings several lca programs share, spelled once, as
 * entries of a settings table (proto/base/settings.h).  Each program puts
 * the ones it reads into its own table; the option, the variable, the range
 * and the help line are the same everywhere.
 */
#ifndef LCA_PROTO_OPTIONS_H
#define LCA_PROTO_OPTIONS_H

#include "proto/base/settings.h"
#include "proto/shard.h"

#define PROTO_DATA_DEFAULT "~/.local/share/lca"

/* --broker EP / LCA_BROKER: the broker to connect to (const char **; its
 * default is proto_broker_default(), proto/socket.h). */
#define OPTION_BROKER(target)                                                                      \
    {                                                                                              \
        "broker", 0, "LCA_BROKER", SETTING_TEXT, "ENDPOINT",                                       \
            "broker address: by default a Unix socket only this user may reach; "                  \
            "tcp://HOST:PORT for a broker on another host (with LCA_CURVE_DIR)",                   \
            .out = (target)                                                                        \
    }

/* LCA_CURVE_DIR: a client's keys for a CURVE broker (const char **). */
#define OPTION_CURVE_KEYS(target)                                                                  \
    {                                                                                              \
        NULL, 0, "LCA_CURVE_DIR", SETTING_TEXT, NULL,                                              \
            "client keys, when the broker requires CURVE", .out = (target)                         \
    }

/* --curve-dir DIR / LCA_CURVE_DIR: a broker's keys and allow-list (const char **). */
#define OPTION_CURVE_DIR(target)                                                                   \
    {                                                                                              \
        "curve-dir", 0, "LCA_CURVE_DIR", SETTING_TEXT, "DIR",                                      \
            "the broker's CURVE keys and allow-list (see `lca keys`)", .out = (target)             \
    }

/* --broker-public EP / LCA_BROKER_PUBLIC: a second broker address for other
 * hosts, CURVE only (const char **). */
#define OPTION_BROKER_PUBLIC(target)                                                               \
    {                                                                                              \
        "broker-public", 0, "LCA_BROKER_PUBLIC", SETTING_TEXT, "EP",                               \
            "a second, CURVE-only broker address for workers on other hosts, e.g. "                \
            "tcp://0.0.0.0:5556",                                                                  \
            .out = (target)                                                                        \
    }

/* --data DIR / LCA_DATA: where the retriever shards keep the index
 * (const char **; its default is computed from HOME). */
#define OPTION_DATA(target)                                                                        \
    {                                                                                              \
        "data", 0, "LCA_DATA", SETTING_TEXT, "DIR", "where the index lives",                       \
            .shown = PROTO_DATA_DEFAULT, .out = (target)                                           \
    }

/* --shards N / LCA_SHARDS: the retriever shards of the index, 1..SHARD_MAX
 * (long *).  Every process must agree on it, so a bad value in the
 * environment stops the program instead of leaving the default. */
#define OPTION_SHARDS(target)                                                                      \
    {                                                                                              \
        "shards", 0, "LCA_SHARDS", SETTING_NUMBER, "N", OPTION_SHARDS_HELP,                        \
            .min = 1, .max = SHARD_MAX, .out = (target), .strict = true                            \
    }
#define OPTION_SHARDS_HELP "retriever shards, at most " SHARD_MAX_TEXT

#endif
