/*
 * Tests of `lca keys` (deploy/keys.c) in temporary directories: init makes
 * the broker's key pair (the secret readable by its owner only) and an
 * empty allow-list in a folder only its owner may enter, and keeps keys
 * that exist; add makes a worker host's key pair, allows it with what it
 * may serve and call, and puts in DIR/hosts/NAME what that host needs and
 * nothing more (never the broker's secret); what add refuses (no broker
 * keys yet, host names that are not a folder of their own, service lists
 * with other characters) writes nothing; and usage errors.
 */
#include "deploy/commands.h"
#include "tests/command.h"
#include "tests/proc.h"

#include <czmq.h>

static int mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The names in dir, sorted, joined by spaces ("" when empty or missing). */
static void listing(const char *dir, char *out, size_t size) {
    char command[512];
    snprintf(command, sizeof command, "ls -A %s 2>/dev/null | tr '\\n' ' '", dir);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, size - 1, p) : 0;
    out[n] = '\0';
    if (p)
        pclose(p);
}

static int keys(const char *const *args, output_t *o) {
    return command_run(command_keys, args, o);
}

TEST(init_makes_the_broker_keys_and_an_empty_allow_list) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/curve", tmp);
    output_t o;
    int rc = keys((const char *[]){"keys", "init", dir, NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.err, "");
    char expected[2048];
    snprintf(expected, sizeof expected,
             "broker keys in %s; start the gateway with LCA_CURVE_DIR=%s\n"
             "and --broker-public tcp://0.0.0.0:5556, then `lca keys add NAME %s` per host\n",
             dir, dir, dir);
    CHECK_STR(o.out, expected);
    output_free(&o);

    char names[256];
    listing(dir, names, sizeof names);
    CHECK_STR(names, "allowed broker.cert broker.cert_secret ");
    listing(proc_path(dir, "allowed", ""), names, sizeof names);
    CHECK_STR(names, "");
    CHECK_INT(mode_of(dir), ==, 0700);
    CHECK_INT(mode_of(proc_path(dir, "allowed", "")), ==, 0700);
    CHECK_INT(mode_of(proc_path(dir, "broker.cert_secret", "")) & 077, ==, 0);

    zcert_t *cert = zcert_load(proc_path(dir, "broker.cert", ""));
    REQUIRE(cert != NULL);
    CHECK_STR(zcert_meta(cert, "name"), "lca broker");
    CHECK_INT(strlen(zcert_public_txt(cert)), ==, 40);
    zcert_destroy(&cert);
    proc_shell("rm -rf %s", tmp);
}

TEST(init_keeps_keys_that_exist) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    output_t o;
    REQUIRE(keys((const char *[]){"keys", "init", tmp, NULL}, &o) == 0);
    output_free(&o);
    zcert_t *before = zcert_load(proc_path(tmp, "broker.cert", ""));
    REQUIRE(before != NULL);

    int rc = keys((const char *[]){"keys", "init", tmp, NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "");
    char expected[2048];
    snprintf(expected, sizeof expected, "lca keys: %s/broker.cert exists; keeping it\n", tmp);
    CHECK_STR(o.err, expected);
    output_free(&o);
    zcert_t *after = zcert_load(proc_path(tmp, "broker.cert", ""));
    REQUIRE(after != NULL);
    CHECK(zcert_eq(before, after));
    CHECK_STR(zcert_secret_txt(before), zcert_secret_txt(after));
    zcert_destroy(&before);
    zcert_destroy(&after);

    /* A folder that cannot be made is an error. */
    char deep[300];
    snprintf(deep, sizeof deep, "%s/no/such/parent", tmp);
    rc = keys((const char *[]){"keys", "init", deep, NULL}, &o);
    CHECK_INT(rc, ==, 1);
    snprintf(expected, sizeof expected, "lca keys: cannot create %s: No such file or directory\n",
             deep);
    CHECK_STR(o.err, expected);
    output_free(&o);
    proc_shell("rm -rf %s", tmp);
}

TEST(add_allows_a_host_and_gives_it_what_it_needs) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    output_t o;
    REQUIRE(keys((const char *[]){"keys", "init", tmp, NULL}, &o) == 0);
    output_free(&o);

    int rc = keys((const char *[]){"keys", "add", "gpu-1.lan", tmp, NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.err, "");
    char expected[2048];
    snprintf(expected, sizeof expected,
             "host gpu-1.lan allowed to serve generate and to call nothing.  Copy "
             "%s/hosts/gpu-1.lan to that host and\n"
             "run its workers with LCA_CURVE_DIR=<the copy> LCA_BROKER=tcp://<this machine>:5556\n",
             tmp);
    CHECK_STR(o.out, expected);
    output_free(&o);

    char host[300], names[256];
    snprintf(host, sizeof host, "%s/hosts/gpu-1.lan", tmp);
    /* The host gets the broker's public key and its own pair: no more. */
    listing(host, names, sizeof names);
    CHECK_STR(names, "broker.cert client.cert client.cert_secret ");
    CHECK_INT(mode_of(host), ==, 0700);
    CHECK_INT(mode_of(proc_path(host, "client.cert_secret", "")) & 077, ==, 0);
    /* The allow-list gets the host's public key only. */
    listing(proc_path(tmp, "allowed", ""), names, sizeof names);
    CHECK_STR(names, "gpu-1.lan.cert ");

    zcert_t *broker = zcert_load(proc_path(tmp, "broker.cert", ""));
    zcert_t *copy = zcert_load(proc_path(host, "broker.cert", ""));
    zcert_t *client = zcert_load(proc_path(host, "client.cert", ""));
    zcert_t *allowed = zcert_load(proc_path(tmp, "allowed/gpu-1.lan", ".cert"));
    REQUIRE(broker && copy && client && allowed);
    /* Public keys (the copies hold no secret). */
    CHECK_STR(zcert_public_txt(copy), zcert_public_txt(broker));
    CHECK_STR(zcert_public_txt(allowed), zcert_public_txt(client));
    CHECK(strcmp(zcert_public_txt(client), zcert_public_txt(broker)) != 0);
    CHECK_STR(zcert_meta(allowed, "name"), "gpu-1.lan");
    CHECK_STR(zcert_meta(allowed, "serves"), "generate");
    CHECK_STR(zcert_meta(allowed, "calls"), "");
    zcert_destroy(&broker);
    zcert_destroy(&copy);
    zcert_destroy(&client);
    zcert_destroy(&allowed);

    /* What it may serve and call is the caller's to say. */
    rc = keys((const char *[]){"keys", "add", "--serves", "embed,retrieve.*", "box2", tmp,
                               "--calls", "broker.status", NULL},
              &o);
    CHECK_INT(rc, ==, 0);
    CHECK(starts_with(o.out,
                      "host box2 allowed to serve embed,retrieve.* and to call broker.status."));
    output_free(&o);
    allowed = zcert_load(proc_path(tmp, "allowed/box2", ".cert"));
    REQUIRE(allowed != NULL);
    CHECK_STR(zcert_meta(allowed, "serves"), "embed,retrieve.*");
    CHECK_STR(zcert_meta(allowed, "calls"), "broker.status");
    zcert_destroy(&allowed);
    proc_shell("rm -rf %s", tmp);
}

TEST(add_wants_the_broker_keys_first) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    output_t o;
    int rc = keys((const char *[]){"keys", "add", "gpu1", tmp, NULL}, &o);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    char expected[2048];
    snprintf(expected, sizeof expected,
             "lca keys: no broker keys in %s: run `lca keys init %s` first\n", tmp, tmp);
    CHECK_STR(o.err, expected);
    output_free(&o);
    char names[256];
    listing(tmp, names, sizeof names);
    CHECK_STR(names, "");
    proc_shell("rm -rf %s", tmp);
}

TEST(add_refuses_names_and_services_it_cannot_use_and_writes_nothing) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    output_t o;
    REQUIRE(keys((const char *[]){"keys", "init", tmp, NULL}, &o) == 0);
    output_free(&o);
    /* "." and ".." would be DIR/hosts and DIR itself: the host's copy would
     * hold the broker's secret. */
    const char *names[] = {"a/b", "../x", "gpu 1", "", ".", "..", ".hidden"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = keys((const char *[]){"keys", "add", names[i], tmp, NULL}, &o);
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        CHECK(starts_with(o.err, "lca keys: a host name may use letters, digits"));
        output_free(&o);
    }
    const char *lists[][2] = {{"Generate", ""}, {"generate", "broker status"}, {"gen;rm", ""}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        int rc = keys((const char *[]){"keys", "add", "--serves", lists[i][0], "--calls",
                                       lists[i][1], "gpu1", tmp, NULL},
                      &o);
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        CHECK(starts_with(o.err, "lca keys: --serves and --calls take service names"));
        output_free(&o);
    }
    char list[256];
    listing(tmp, list, sizeof list);
    CHECK_STR(list, "allowed broker.cert broker.cert_secret ");
    listing(proc_path(tmp, "allowed", ""), list, sizeof list);
    CHECK_STR(list, "");
    proc_shell("rm -rf %s", tmp);
}

TEST(usage_errors_and_help) {
    output_t o;
    int rc = keys((const char *[]){"keys", "--help", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "lca keys init DIR | add NAME DIR") != NULL);
    CHECK(strstr(o.out, "--serves") != NULL);
    CHECK(strstr(o.out, "--calls") != NULL);
    output_free(&o);

    const char *const bad[][6] = {
        {"keys", NULL},
        {"keys", "init", NULL},
        {"keys", "add", "a", "b", "c", NULL},
        {"keys", "--nope", "init", "/tmp/x", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = keys(bad[i], &o);
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        CHECK(starts_with(o.err, "lca keys: "));
        CHECK_INT(count_of(o.err, "\n"), ==, 1);
        output_free(&o);
    }
    /* The right number of operands, the wrong words. */
    const char *const wrong[][5] = {
        {"keys", "remove", "gpu1", "/tmp/x", NULL},
        {"keys", "init", "a", "b", NULL},
        {"keys", "add", "/tmp/x", NULL},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        rc = keys(wrong[i], &o);
        CHECK_INT(rc, ==, 2);
        char expected[256];
        snprintf(expected, sizeof expected,
                 "lca keys: wants init DIR or add NAME DIR, not \"%s\" (see lca keys --help)\n",
                 wrong[i][1]);
        CHECK_STR(o.err, expected);
        output_free(&o);
    }
    CHECK(!exists("a") && !exists("b"));
}

TEST_MAIN(TEST_CASE(init_makes_the_broker_keys_and_an_empty_allow_list),
          TEST_CASE(init_keeps_keys_that_exist),
          TEST_CASE(add_allows_a_host_and_gives_it_what_it_needs),
          TEST_CASE(add_wants_the_broker_keys_first),
          TEST_CASE(add_refuses_names_and_services_it_cannot_use_and_writes_nothing),
          TEST_CASE(usage_errors_and_help))
