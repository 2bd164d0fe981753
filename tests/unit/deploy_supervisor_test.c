/*
 * Tests of the supervisor behind `lca up` (deploy/supervisor.c) with small
 * real children (/bin/sh scripts, /bin/sleep): every line a child writes on
 * stdout or stderr comes out prefixed with its name (names padded to the
 * longest, an overlong line in pieces, a last line without its newline
 * too); a one-shot child runs once and reports its exit status; a child
 * that dies is restarted after a back-off that doubles, and left down after
 * its fifth quick death; stopping sends SIGTERM and SIGKILL after the grace
 * period; children go when the supervisor dies; and a stop signal ends
 * supervisor_run.  Waits poll a condition with a deadline.
 */
#include "deploy/supervisor.h"
#include "proto/base/signals.h"
#include "tests/command.h"
#include "tests/proc.h"

#include <sys/prctl.h>

/* ---- running the supervisor until a condition holds ---- */

typedef struct {
    bool (*done)(supervisor_t *sv, void *arg);
    void *arg;
    int64_t until;
    bool timed_out;
    int ticks;
} waiting_t;

static bool on_tick(supervisor_t *sv, void *arg) {
    waiting_t *w = arg;
    w->ticks++;
    if (w->done && w->done(sv, w->arg))
        return true;
    w->timed_out = proc_now_ms() > w->until;
    return w->timed_out;
}

/* Runs sv until done(sv, arg) holds (true) or timeout_ms passed (false). */
static bool run_until(supervisor_t *sv, bool (*done)(supervisor_t *, void *), void *arg,
                      int timeout_ms) {
    waiting_t w = {.done = done, .arg = arg, .until = proc_now_ms() + timeout_ms};
    supervisor_run(sv, on_tick, &w);
    return !w.timed_out;
}

/* Children 0..n-1 are all one-shot and finished. */
static bool all_finished(supervisor_t *sv, void *arg) {
    int n = *(int *)arg;
    for (int i = 0; i < n; i++)
        if (!supervisor_finished(sv, i, NULL))
            return false;
    return true;
}

/* What the output caught so far holds a text. */
typedef struct {
    output_t *output;
    int fd;
    const char *text;
    int count; /* at least this many times (0: once) */
} seen_t;

static bool seen(supervisor_t *sv, void *arg) {
    (void)sv;
    seen_t *s = arg;
    char *text = output_peek(s->output, s->fd);
    bool found = count_of(text, s->text) >= (s->count ? s->count : 1);
    free(text);
    return found;
}

/* The lines of a file (runs a script counted). */
static int lines_in(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

static bool gone(pid_t pid) {
    return kill(pid, 0) != 0 && errno == ESRCH;
}

TEST(every_line_comes_out_prefixed_with_the_childs_name) {
    supervisor_t *sv = supervisor_new();
    REQUIRE(sv != NULL);
    CHECK_INT(
        supervisor_add(sv, "seeder",
                       (char *[]){"/bin/sh", "-c",
                                  "printf 'one\\ntwo\\n'; echo warn >&2; printf partial", NULL},
                       true),
        ==, 0);
    CHECK_INT(supervisor_add(sv, "retriever.10", (char *[]){"/bin/echo", "x", NULL}, true), ==, 1);
    /* A line longer than the supervisor's line buffer comes in pieces. */
    CHECK_INT(supervisor_add(sv, "long",
                             (char *[]){"/bin/sh", "-c",
                                        "i=0; while [ $i -lt 500 ]; do printf 0123456789; "
                                        "i=$((i+1)); done; echo",
                                        NULL},
                             true),
              ==, 2);
    output_t o;
    output_begin(&o);
    for (int i = 0; i < 3; i++)
        CHECK_INT(supervisor_start(sv, i), ==, 0);
    int n = 3;
    bool done = run_until(sv, all_finished, &n, 10000);
    output_end(&o);
    CHECK(done);
    /* Names are padded to the longest ("retriever.10"). */
    const char *one = strstr(o.out, "seeder       | one\n");
    const char *two = strstr(o.out, "seeder       | two\n");
    CHECK(one != NULL && two != NULL && one < two);
    CHECK(strstr(o.out, "seeder       | warn\n") != NULL);
    CHECK(strstr(o.out, "seeder       | partial\n") != NULL);
    CHECK(strstr(o.out, "retriever.10 | x\n") != NULL);
    char piece[4200] = "long         | ";
    size_t at = strlen(piece);
    for (int i = 0; i < 4096; i++)
        piece[at + i] = (char)('0' + i % 10);
    piece[at + 4096] = '\n';
    piece[at + 4097] = '\0';
    CHECK(strstr(o.out, piece) != NULL);
    CHECK(strstr(o.out, "long         | 6789012345") != NULL); /* the 904 bytes after 4096 */
    CHECK_INT(count_of(o.out, "\n"), ==, 7);
    output_free(&o);
    supervisor_destroy(&sv);
    CHECK(sv == NULL);
}

TEST(a_one_shot_child_runs_once_and_reports_its_exit_status) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    char script[512];
    snprintf(script, sizeof script, "echo run >> %s/runs; exit 3", tmp);
    supervisor_t *sv = supervisor_new();
    REQUIRE(sv != NULL);
    int seeder = supervisor_add(sv, "seeder", (char *[]){"/bin/sh", "-c", script, NULL}, true);
    REQUIRE(seeder == 0);
    int status = -1;
    CHECK(!supervisor_finished(sv, seeder, &status));
    CHECK_INT(supervisor_pid(sv, seeder), ==, 0);
    output_t o;
    output_begin(&o);
    CHECK_INT(supervisor_start(sv, seeder), ==, 0);
    CHECK(supervisor_pid(sv, seeder) > 0);
    int n = 1;
    bool done = run_until(sv, all_finished, &n, 10000);
    /* A few turns more: it stays finished and is not started again. */
    waiting_t w = {.until = proc_now_ms() + 300};
    supervisor_run(sv, on_tick, &w);
    output_end(&o);
    CHECK(done);
    CHECK(supervisor_finished(sv, seeder, &status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    CHECK_INT(supervisor_pid(sv, seeder), ==, 0);
    CHECK_INT(lines_in(proc_path(tmp, "runs", "")), ==, 1);
    CHECK(strstr(o.err, "seeder exited with status 3") != NULL);
    CHECK(strstr(o.err, "restarting") == NULL);
    output_free(&o);
    supervisor_destroy(&sv);

    /* A program that cannot run says so in its own lines: status 127. */
    sv = supervisor_new();
    REQUIRE(sv != NULL);
    supervisor_add(sv, "ghost", (char *[]){"/nonexistent/lca-ghost", NULL}, true);
    output_begin(&o);
    CHECK_INT(supervisor_start(sv, 0), ==, 0);
    done = run_until(sv, all_finished, &n, 10000);
    output_end(&o);
    CHECK(done);
    CHECK(supervisor_finished(sv, 0, &status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
    CHECK(strstr(o.out,
                 "ghost    | cannot run /nonexistent/lca-ghost: No such file or directory\n") !=
          NULL);
    output_free(&o);
    supervisor_destroy(&sv);
    proc_shell("rm -rf %s", tmp);
}

TEST(a_dying_child_is_restarted_with_a_doubling_back_off_then_left_down) {
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    char script[512];
    snprintf(script, sizeof script, "echo run >> %s/runs; echo dying; exit 1", tmp);
    supervisor_t *sv = supervisor_new();
    REQUIRE(sv != NULL);
    int worker = supervisor_add(sv, "worker", (char *[]){"/bin/sh", "-c", script, NULL}, false);
    output_t o;
    output_begin(&o);
    int64_t started = proc_now_ms();
    CHECK_INT(supervisor_start(sv, worker), ==, 0);
    /* Five restarts after 250, 500, 1000, 2000 and 4000 ms; the sixth
     * death within the minute is the last. */
    seen_t given_up = {&o, 2, "not restarting it"};
    bool done = run_until(sv, seen, &given_up, 30000);
    int64_t took = proc_now_ms() - started;
    waiting_t w = {.until = proc_now_ms() + 300};
    supervisor_run(sv, on_tick, &w);
    output_end(&o);
    CHECK(done);
    CHECK(took >= 250 + 500 + 1000 + 2000 + 4000);
    CHECK_INT(lines_in(proc_path(tmp, "runs", "")), ==, 6);
    CHECK_INT(count_of(o.out, "worker   | dying\n"), ==, 6);
    const char *steps[] = {"restarting in 250 ms", "restarting in 500 ms", "restarting in 1000 ms",
                           "restarting in 2000 ms", "restarting in 4000 ms"};
    const char *at = o.err;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const char *next = at ? strstr(at, steps[i]) : NULL;
        CHECK(next != NULL);
        at = next;
    }
    CHECK_INT(count_of(o.err, "worker exited with status 1; restarting in"), ==, 5);
    CHECK(strstr(o.err, "worker exited with status 1 and died 5 times within 60 s: not "
                        "restarting it") != NULL);
    CHECK_INT(supervisor_pid(sv, worker), ==, 0);
    CHECK(!supervisor_finished(sv, worker, NULL)); /* finished is for one-shot children */
    output_free(&o);
    supervisor_destroy(&sv);
    proc_shell("rm -rf %s", tmp);
}

TEST(stopping_sends_sigterm_then_sigkill_after_the_grace_period) {
    supervisor_t *sv = supervisor_new();
    REQUIRE(sv != NULL);
    supervisor_add(sv, "sleeper", (char *[]){"/bin/sleep", "60", NULL}, false);
    /* Ignores SIGTERM (the disposition survives exec). */
    supervisor_add(
        sv, "stubborn",
        (char *[]){"/bin/sh", "-c", "trap '' TERM; echo ready; exec /bin/sleep 60", NULL}, false);
    output_t o;
    output_begin(&o);
    CHECK_INT(supervisor_start(sv, 0), ==, 0);
    CHECK_INT(supervisor_start(sv, 1), ==, 0);
    pid_t sleeper = supervisor_pid(sv, 0), stubborn = supervisor_pid(sv, 1);
    seen_t ready = {&o, 1, "stubborn | ready\n"};
    bool started = run_until(sv, seen, &ready, 10000);
    int64_t t0 = proc_now_ms();
    supervisor_stop_all(sv, 300);
    int64_t took = proc_now_ms() - t0;
    output_end(&o);
    CHECK(started);
    CHECK(sleeper > 0 && stubborn > 0);
    CHECK_INT(supervisor_pid(sv, 0), ==, 0);
    CHECK_INT(supervisor_pid(sv, 1), ==, 0);
    CHECK(gone(sleeper)); /* reaped by the supervisor */
    CHECK(gone(stubborn));
    CHECK(took >= 300 && took < 5000);
    CHECK(strstr(o.err, "stubborn did not stop in time; killing it") != NULL);
    CHECK(strstr(o.err, "sleeper did not stop") == NULL);
    output_free(&o);

    /* Children that stop at once: no waiting for the grace period. */
    supervisor_start(sv, 0);
    sleeper = supervisor_pid(sv, 0);
    t0 = proc_now_ms();
    output_begin(&o);
    supervisor_stop_all(sv, 5000);
    output_end(&o);
    CHECK(proc_now_ms() - t0 < 2500);
    CHECK(gone(sleeper));
    CHECK_STR(o.err, "");
    output_free(&o);
    supervisor_destroy(&sv);
}

TEST(children_go_when_the_supervisor_dies) {
    /* This process adopts the orphan, so that it can wait for it. */
    REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t parent = fork();
    REQUIRE(parent >= 0);
    if (parent == 0) {
        supervisor_t *sv = supervisor_new();
        supervisor_add(sv, "sleeper", (char *[]){"/bin/sleep", "60", NULL}, false);
        supervisor_start(sv, 0);
        pid_t child = supervisor_pid(sv, 0);
        /* Once the child runs sleep, its death signal is set. */
        char path[64], cmd[64] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)child);
        for (int64_t until = proc_now_ms() + 5000; proc_now_ms() < until;) {
            FILE *f = fopen(path, "r");
            size_t n = f ? fread(cmd, 1, sizeof cmd - 1, f) : 0;
            if (f)
                fclose(f);
            cmd[n] = '\0';
            if (strcmp(cmd, "/bin/sleep") == 0)
                break;
            proc_sleep_ms(2);
        }
        if (write(fds[1], &child, sizeof child) < 0)
            _exit(2);
        _exit(0); /* without stopping anything */
    }
    close(fds[1]);
    pid_t child = 0;
    CHECK(read(fds[0], &child, sizeof child) == sizeof child);
    close(fds[0]);
    int status = 0;
    waitpid(parent, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    REQUIRE(child > 0);
    int64_t until = proc_now_ms() + 5000;
    pid_t r;
    while ((r = waitpid(child, &status, WNOHANG)) == 0 && proc_now_ms() < until)
        proc_sleep_ms(2);
    if (r == 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
    }
    CHECK_INT(r, ==, child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static bool raise_stop_once_running(supervisor_t *sv, void *arg) {
    (void)arg;
    if (supervisor_pid(sv, 0) > 0)
        raise(SIGTERM);
    return false;
}

/* Last: a stop, once asked for, holds for the rest of the process. */
TEST(a_stop_signal_ends_the_run) {
    stop_on_signals();
    supervisor_t *sv = supervisor_new();
    REQUIRE(sv != NULL);
    supervisor_add(sv, "sleeper", (char *[]){"/bin/sleep", "60", NULL}, false);
    CHECK_INT(supervisor_start(sv, 0), ==, 0);
    pid_t sleeper = supervisor_pid(sv, 0);
    bool done = run_until(sv, raise_stop_once_running, NULL, 5000);
    CHECK(done); /* returned because of the signal, before the deadline */
    CHECK(stop_requested());
    CHECK(supervisor_pid(sv, 0) == sleeper); /* run leaves stopping to stop_all */
    output_t o;
    output_begin(&o);
    supervisor_stop_all(sv, 2000);
    output_end(&o);
    CHECK(gone(sleeper));
    output_free(&o);
    supervisor_destroy(&sv);
}

TEST_MAIN(TEST_CASE(every_line_comes_out_prefixed_with_the_childs_name),
          TEST_CASE(a_one_shot_child_runs_once_and_reports_its_exit_status),
          TEST_CASE(a_dying_child_is_restarted_with_a_doubling_back_off_then_left_down),
          TEST_CASE(stopping_sends_sigterm_then_sigkill_after_the_grace_period),
          TEST_CASE(children_go_when_the_supervisor_dies), TEST_CASE(a_stop_signal_ends_the_run))
