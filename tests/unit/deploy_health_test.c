/*
 * Tests of `lca health` (deploy/health.c) against a fake gateway
 * (tests/command.h): exit status 0 only for a 200 from GET /healthz, the
 * status and body on one line, --quiet saying nothing either way, a gateway
 * that is not there or does not answer within --timeout, and --help and
 * bad options.
 */
#include "deploy/commands.h"
#include "tests/command.h"

#define HEALTHY                                                                                    \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"                  \
    "Connection: close\r\n\r\n{\"status\":\"ok\"}"
#define STARTING                                                                                   \
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"          \
    "{\"status\":\"starting\"}"

TEST(a_200_is_exit_status_0_with_the_answer_on_one_line) {
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, HEALTHY));
    setenv("LCA_API_KEY", "k1", 1);
    output_t o;
    int rc = command_run(command_health, (const char *[]){"health", NULL}, &o);
    fake_gateway_stop(&g);
    unsetenv("LCA_API_KEY");
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "200 {\"status\":\"ok\"}\n");
    CHECK_STR(o.err, "");
    CHECK(starts_with(g.request, "GET /healthz HTTP/1.1\r\n"));
    CHECK(strstr(g.request, "\r\nAuthorization: Bearer k1\r\n") != NULL);
    output_free(&o);
}

TEST(anything_but_200_is_exit_status_1) {
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, STARTING));
    output_t o;
    int rc = command_run(command_health, (const char *[]){"health", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "503 {\"status\":\"starting\"}\n");
    output_free(&o);

    /* A 200 without a body still counts, and prints the bare status. */
    REQUIRE(fake_gateway_start(&g, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    rc = command_run(command_health, (const char *[]){"health", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "200 \n");
    output_free(&o);
}

TEST(quiet_prints_nothing_either_way) {
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, HEALTHY));
    output_t o;
    int rc = command_run(command_health, (const char *[]){"health", "--quiet", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(o.out, "");
    CHECK_STR(o.err, "");
    output_free(&o);

    REQUIRE(fake_gateway_start(&g, STARTING));
    rc = command_run(command_health, (const char *[]){"health", "-q", NULL}, &o);
    fake_gateway_stop(&g);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    CHECK_STR(o.err, "");
    output_free(&o);

    REQUIRE(fake_gateway_absent());
    rc = command_run(command_health, (const char *[]){"health", "-q", NULL}, &o);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    CHECK_STR(o.err, "");
    output_free(&o);
}

TEST(no_gateway_or_a_silent_one_is_exit_status_1_with_the_reason) {
    REQUIRE(fake_gateway_absent());
    output_t o;
    int rc = command_run(command_health, (const char *[]){"health", NULL}, &o);
    CHECK_INT(rc, ==, 1);
    CHECK_STR(o.out, "");
    char expected[128];
    snprintf(expected, sizeof expected,
             "lca health: cannot reach http://127.0.0.1:%s/healthz: ", getenv("LCA_PORT"));
    CHECK(starts_with(o.err, expected));
    output_free(&o);

    /* LCA_URL names the gateway too; a silent one is given up on in time. */
    fake_gateway_t g;
    REQUIRE(fake_gateway_start(&g, NULL));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", g.port);
    setenv("LCA_URL", url, 1);
    setenv("LCA_PORT", "1", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = command_run(command_health, (const char *[]){"health", "--timeout", "150", NULL}, &o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fake_gateway_stop(&g);
    unsetenv("LCA_URL");
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK_INT(rc, ==, 1);
    CHECK(ms >= 150 && ms < 2500);
    snprintf(expected, sizeof expected, "lca health: cannot reach %s/healthz: ", url);
    CHECK(starts_with(o.err, expected));
    CHECK(strstr(o.err, "imeout") != NULL || strstr(o.err, "timed out") != NULL);
    output_free(&o);
}

TEST(help_and_bad_options) {
    output_t o;
    int rc = command_run(command_health, (const char *[]){"health", "--help", NULL}, &o);
    CHECK_INT(rc, ==, 0);
    CHECK(strstr(o.out, "lca health") != NULL);
    CHECK(strstr(o.out, "--timeout") != NULL);
    CHECK(strstr(o.out, "--quiet") != NULL);
    CHECK(strstr(o.out, "LCA_URL") != NULL);
    CHECK(strstr(o.out, "LCA_API_KEY") != NULL);
    CHECK_STR(o.err, "");
    output_free(&o);

    /* Each is refused with one line, before any request is made (no
     * gateway listens: a request would say "cannot reach"). */
    const char *const bad[][4] = {
        {"health", "--timeout", "0", NULL},
        {"health", "--timeout", "soon", NULL},
        {"health", "--verbose", NULL},
        {"health", "extra", NULL},
    };
    REQUIRE(fake_gateway_absent());
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = command_run(command_health, bad[i], &o);
        CHECK_INT(rc, ==, 2);
        CHECK_STR(o.out, "");
        CHECK(starts_with(o.err, "lca health: "));
        CHECK(strstr(o.err, "cannot reach") == NULL);
        CHECK_INT(count_of(o.err, "\n"), ==, 1);
        output_free(&o);
    }
}

TEST_MAIN(TEST_CASE(a_200_is_exit_status_0_with_the_answer_on_one_line),
          TEST_CASE(anything_but_200_is_exit_status_1), TEST_CASE(quiet_prints_nothing_either_way),
          TEST_CASE(no_gateway_or_a_silent_one_is_exit_status_1_with_the_reason),
          TEST_CASE(help_and_bad_options))
