/*
 * Tests of `lca status` (deploy/status.c) against a broker in this process
 * with scripted workers (tests/inproc.h): the services, workers and limits
 * from broker.status in their columns; the collections each retriever shard
 * reports, summed over the shards (files and chunks added, the latest
 * seeding), asked of the shards only; a shard that fails leaves the others'
 * counts; a broker with nothing indexed; no broker; keys that cannot be
 * read; and --help and operands.
 */
#include "deploy/commands.h"
#include "proto/client.h"
#include "tests/command.h"
#include "tests/inproc.h"
#include "tests/proc.h"

#include <cJSON.h>
#include <stdatomic.h>

/* ---- a broker with two embedders and three shards, started once ---- */

typedef struct {
    const char *payload; /* the collections answer; NULL: fail */
    atomic_int asked;    /* collections requests */
    atomic_int other;    /* anything else */
} shard_t;

static shard_t shards[3] = {
    {"{\"collections\":["
     "{\"name\":\"shop\",\"root\":\"/src/shop\",\"model\":\"builtin\",\"dim\":256,\"files\":3,"
     "\"chunks\":30,\"seeded_at\":1700000000},"
     "{\"name\":\"blog\",\"root\":\"/src/blog\",\"model\":\"nomic-embed-text\",\"files\":1,"
     "\"chunks\":5,\"seeded_at\":0}]}"},
    {"{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\",\"model\":\"builtin\","
     "\"files\":4,\"chunks\":40,\"seeded_at\":1700000600}]}"},
    {NULL},
};
static shard_t embedder;

static void serve(proto_job_t *job, void *arg) {
    shard_t *s = arg;
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "op");
    if (!cJSON_IsString(op) || strcmp(op->valuestring, "collections") != 0) {
        atomic_fetch_add(&s->other, 1);
        proto_job_error(job, 400, "not a collections request");
        return;
    }
    atomic_fetch_add(&s->asked, 1);
    if (s->payload)
        proto_job_final(job, "{}", s->payload, strlen(s->payload));
    else
        proto_job_error(job, 500, "the shard's store is broken");
}

static inproc_t stack;
static bool stack_up;

static void stack_stop(void) {
    if (stack_up)
        inproc_stop(&stack);
    stack_up = false;
}

/* True once every service has its worker at the broker. */
static bool all_registered(void *arg) {
    proto_client_t *c = arg;
    proto_msg_t final;
    int status;
    char err[256];
    if (proto_client_call(c, "broker.status", NULL, NULL, 0, 1000, NULL, NULL, &final, &status, err,
                          sizeof err) != 0)
        return false;
    cJSON *j = cJSON_ParseWithLength(final.header, final.header_len);
    proto_msg_close(&final);
    const char *names[] = {"embed", "retrieve.0", "retrieve.1", "retrieve.2"};
    const int wanted[] = {2, 1, 1, 1};
    bool all = true;
    for (size_t i = 0; i < 4; i++) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "services"),
                                             names[i]),
            "workers");
        all = all && cJSON_IsNumber(w) && w->valuedouble >= wanted[i];
    }
    cJSON_Delete(j);
    return all;
}

/* Starts the broker and its workers (once) and points LCA_BROKER at it. */
static bool stack_start(void) {
    if (!stack_up) {
        if (!inproc_start(&stack))
            return false;
        stack_up = true;
        test_before_exit = stack_stop;
        char name[32];
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "retrieve.%d", i);
            if (!inproc_worker(&stack, name, 2, serve, &shards[i]))
                return false;
        }
        for (int i = 0; i < 2; i++)
            if (!inproc_worker(&stack, "embed", 1, serve, &embedder))
                return false;
        char err[256];
        proto_client_t *c =
            proto_client_new(broker_local_endpoint(stack.broker), NULL, err, sizeof err);
        bool ready = c && proc_wait_for(all_registered, c, 10000);
        proto_client_destroy(&c);
        if (!ready)
            return false;
    }
    setenv("LCA_BROKER", broker_local_endpoint(stack.broker), 1);
    unsetenv("LCA_CURVE_DIR");
    return true;
}

static int status(const char *const *args, output_t *o) {
    return command_run(command_status, args, o);
}

TEST(services_workers_and_limits_in_columns) {
    REQUIRE(stack_start());
    output_t o;
    int rc = status((const char *[]){"status", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.err, "lca status") == NULL); /* the broker's own log lines may be there */
    char line[512];
    snprintf(line, sizeof line, "broker %s\n\nservices\n", broker_local_endpoint(stack.broker));
    CHECK(starts_with(o.out, line));
    CHECK(strstr(o.out, "\n  embed            2 workers    0 in flight    0 queued ") != NULL);
    CHECK(strstr(o.out, "\n  retrieve.1       1 worker     0 in flight    0 queued ") != NULL);
    CHECK(strstr(o.out, " requests     0 failed\n") != NULL);
    /* One line per worker: service, host, pid, load, served. */
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(line, sizeof line, "\n  retrieve.2     %-20s pid %-7d busy   0 of 2  ", host,
             (int)getpid());
    CHECK(strstr(o.out, line) != NULL);
    snprintf(line, sizeof line, "\n  embed          %-20s pid %-7d busy   0 of 1  ", host,
             (int)getpid());
    CHECK(strstr(o.out, line) != NULL);
    const char *workers = strstr(o.out, "\nworkers\n");
    const char *limits = strstr(o.out, "\nlimits\n");
    CHECK(workers != NULL && limits != NULL && workers < limits);
    CHECK_INT(count_of(workers, " busy "), ==, 5);
    /* What the broker holds against what it may. */
    CHECK(strstr(o.out, "\n  services                4 of 1024            0 refused\n") != NULL);
    CHECK(strstr(o.out, "\n  workers                 5 of 4096            0 refused\n") != NULL);
    CHECK(strstr(o.out, "\n  waiting bytes           0 of 1073741824      0 refused\n") != NULL);
    output_free(&o);
}

TEST(collections_are_summed_over_the_shards) {
    REQUIRE(stack_start());
    setenv("TZ", "UTC", 1);
    tzset();
    int asked[3], embed_asked = atomic_load(&embedder.asked) + atomic_load(&embedder.other);
    for (int i = 0; i < 3; i++)
        asked[i] = atomic_load(&shards[i].asked);
    output_t o;
    int rc = status((const char *[]){"status", NULL}, &o);
    /* Each shard was asked once; the embedder is not a shard. */
    for (int i = 0; i < 3; i++)
        CHECK_INT(atomic_load(&shards[i].asked), ==, asked[i] + 1);
    CHECK_INT(atomic_load(&embedder.asked) + atomic_load(&embedder.other), ==, embed_asked);
    for (int i = 0; i < 3; i++)
        CHECK_INT(atomic_load(&shards[i].other), ==, 0);
    /* The broken shard leaves the others' counts: no error. */
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.err, "lca status") == NULL); /* the broker's own log lines may be there */
    const char *collections = strstr(o.out, "\ncollections\n");
    REQUIRE(collections != NULL);
    CHECK(strstr(collections,
                 "\n  shop                      7 files       70 chunks  builtin       "
                 "         seeded 2023-11-14 22:23  /src/shop\n") != NULL);
    CHECK(strstr(collections, "\n  blog                      1 files        5 chunks  "
                              "nomic-embed-text       seeded never  /src/blog\n") != NULL);
    CHECK_INT(count_of(collections, " files "), ==, 2);
    CHECK(strstr(o.out, "none yet") == NULL);
    output_free(&o);
    unsetenv("TZ");
    tzset();
}

TEST(a_broker_with_nothing_indexed) {
    /* A second broker, without workers. */
    char err[256];
    broker_t *empty = broker_new(&(broker_config_t){.heartbeat_ms = 200}, err, sizeof err);
    REQUIRE(empty != NULL);
    setenv("LCA_BROKER", broker_local_endpoint(empty), 1);
    output_t o;
    int rc = status((const char *[]){"status", NULL}, &o);
    broker_destroy(&empty);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "\nservices\n\nworkers\n\nlimits\n") != NULL);
    CHECK(strstr(o.out, "\n  services                0 of 1024 ") != NULL);
    CHECK(strstr(o.out, "\ncollections\n  (none yet: index a repository with `lca seed DIR`)\n") !=
          NULL);
    output_free(&o);
}

TEST(no_broker_is_exit_status_1_with_a_hint) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    char ep[300];
    snprintf(ep, sizeof ep, "ipc://%s/broker", tmp);
    setenv("LCA_BROKER", ep, 1);
    unsetenv("LCA_CURVE_DIR");
    output_t o;
    int rc = status((const char *[]){"status", NULL}, &o);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    char expected[512];
    snprintf(expected, sizeof expected, "lca status: cannot reach lca at %s (", ep);
    CHECK(starts_with(o.err, expected));
    CHECK(strstr(o.err, "): is `lca up` running?\n") != NULL);
    output_free(&o);

    /* Keys that cannot be read: said before any call. */
    setenv("LCA_CURVE_DIR", tmp, 1);
    rc = status((const char *[]){"status", NULL}, &o);
    unsetenv("LCA_CURVE_DIR");
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    CHECK(starts_with(o.err, "lca status: "));
    CHECK(strstr(o.err, "cannot reach") == NULL);
    CHECK_INT(count_of(o.err, "\n"), ==, 1);
    output_free(&o);
    proc_shell("rm -rf %s", tmp);
}

TEST(help_and_operands) {
    output_t o;
    int rc = status((const char *[]){"status", "--help", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "lca status") != NULL);
    CHECK(strstr(o.out, "LCA_BROKER") != NULL);
    CHECK(strstr(o.out, "LCA_CURVE_DIR") != NULL);
    output_free(&o);

    rc = status((const char *[]){"status", "now", NULL}, &o);
    CHECK_INT(rc, ==, 2);
    CHECK_STR(o.out, "");
    CHECK(starts_with(o.err, "lca status: "));
    CHECK_INT(count_of(o.err, "\n"), ==, 1);
    output_free(&o);
}

TEST_MAIN(TEST_CASE(services_workers_and_limits_in_columns),
          TEST_CASE(collections_are_summed_over_the_shards),
          TEST_CASE(a_broker_with_nothing_indexed),
          TEST_CASE(no_broker_is_exit_status_1_with_a_hint), TEST_CASE(help_and_operands))
