/*
 * A minimal test harness for lca's C tests.
 *
 * Each test binary is a list of TEST() functions run by test_main(); every
 * CHECK that fails prints file:line and the expression, marks the test
 * failed and goes on, so one run shows every broken assertion.  The output
 * is TAP ("ok 3 - name"), which tests/run counts.
 */
#ifndef LCA_TEST_H
#define LCA_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*test_fn)(void);

typedef struct {
    const char *name;
    test_fn fn;
} test_case_t;

static int test_failed_checks;

/* Set by tests that own resources which must go before exit (child
 * processes, ZeroMQ sockets a failed REQUIRE left open: czmq's exit handler
 * would wait for those forever).  When set, the binary ends with _exit. */
static void (*test_before_exit)(void);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
            test_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        long long test_a_ = (long long)(a), test_b_ = (long long)(b);                              \
        if (!(test_a_ op test_b_)) {                                                               \
            fprintf(stderr, "  %s:%d: CHECK(%s %s %s) failed: %lld vs %lld\n", __FILE__, __LINE__, \
                    #a, #op, #b, test_a_, test_b_);                                                \
            test_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *test_a_ = (a), *test_b_ = (b);                                                 \
        if (!test_a_ || !test_b_ || strcmp(test_a_, test_b_) != 0) {                               \
            fprintf(stderr, "  %s:%d: CHECK_STR(%s, %s) failed: \"%s\" vs \"%s\"\n", __FILE__,     \
                    __LINE__, #a, #b, test_a_ ? test_a_ : "(null)", test_b_ ? test_b_ : "(null)"); \
            test_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

/* Stops the current test at once (for preconditions later checks rely on). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond);           \
            test_failed_checks++;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TEST(name) static void name(void)
#define TEST_CASE(name)                                                                            \
    { #name, name }

/* Runs the cases (or only those named on the command line); exit 1 on any failure. */
static inline int test_main(int argc, char **argv, const test_case_t *cases, size_t n) {
    int failed = 0, run = 0;
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        bool selected = argc < 2;
        for (int a = 1; a < argc; a++)
            selected |= strcmp(argv[a], cases[i].name) == 0;
        if (!selected) {
            printf("ok %zu - %s # SKIP not selected\n", i + 1, cases[i].name);
            continue;
        }
        int before = test_failed_checks;
        cases[i].fn();
        run++;
        bool ok = test_failed_checks == before;
        failed += !ok;
        printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1, cases[i].name);
        fflush(stdout);
    }
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv) {                                                              \
        static const test_case_t cases[] = {__VA_ARGS__};                                          \
        int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);                     \
        if (test_before_exit) {                                                                    \
            test_before_exit();                                                                    \
            fflush(stdout);                                                                        \
            fflush(stderr);                                                                        \
            _exit(rc);                                                                             \
        }                                                                                          \
        return rc;                                                                                 \
    }

#endif
