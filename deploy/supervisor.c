/*
 * The supervisor (see supervisor.h).  One thread, one poll() over every
 * child's output pipe plus a timer; SIGCHLD is not used: exits are noticed
 * with waitpid(WNOHANG) on each turn, which is simpler and loses nothing.
 */
#include "deploy/supervisor.h"

#include "proto/base/log.h"
#include "proto/base/signals.h"
#include "proto/base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 32
#define DEATHS_WINDOW_MS 60000
#define DEATHS_MAX 5

typedef struct {
    char name[32];
    char **argv;
    bool one_shot;
    pid_t pid;
    int out_fd;      /* read end of the child's stdout+stderr, -1 when closed */
    char line[4096]; /* partial line read so far */
    size_t line_len;
    int64_t started_at;
    int64_t restart_at; /* 0: no restart pending */
    int backoff_ms;
    int64_t deaths[DEATHS_MAX];
    int ndeaths;
    bool given_up, finished;
    int exit_status;
} child_t;

struct supervisor {
    child_t children[MAX_CHILDREN];
    int count;
    int name_width;
};

supervisor_t *supervisor_new(void) {
    supervisor_t *s = calloc(1, sizeof *s);
    if (s)
        s->name_width = 8;
    return s;
}

void supervisor_destroy(supervisor_t **self_p) {
    supervisor_t *s = *self_p;
    if (!s)
        return;
    for (int i = 0; i < s->count; i++) {
        child_t *c = &s->children[i];
        for (char **a = c->argv; a && *a; a++)
            free(*a);
        free(c->argv);
        if (c->out_fd >= 0)
            close(c->out_fd);
    }
    free(s);
    *self_p = NULL;
}

int supervisor_add(supervisor_t *s, const char *name, char *const argv[], bool one_shot) {
    if (s->count == MAX_CHILDREN)
        return -1;
    child_t *c = &s->children[s->count];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    int n = 0;
    while (argv[n])
        n++;
    c->argv = calloc((size_t)n + 1, sizeof *c->argv);
    for (int i = 0; i < n; i++)
        c->argv[i] = strdup(argv[i]);
    c->one_shot = one_shot;
    c->out_fd = -1;
    c->backoff_ms = 250;
    if ((int)strlen(name) > s->name_width)
        s->name_width = (int)strlen(name);
    return s->count++;
}

/* Writes one prefixed line of a child's output to our stdout. */
static void emit(supervisor_t *s, const child_t *c, const char *line, size_t len) {
    char out[4200];
    int n = snprintf(out, sizeof out, "%-*s | %.*s\n", s->name_width, c->name, (int)len, line);
    if (n > (int)sizeof out)
        n = (int)sizeof out;
    ssize_t w = write(STDOUT_FILENO, out, (size_t)n);
    (void)w;
}

int supervisor_start(supervisor_t *s, int index) {
    child_t *c = &s->children[index];
    if (c->pid > 0)
        return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1); /* the supervisor died before prctl took effect */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        execv(c->argv[0], c->argv);
        fprintf(stderr, "cannot run %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    if (c->out_fd >= 0)
        close(c->out_fd);
    c->out_fd = fds[0];
    c->line_len = 0;
    c->pid = pid;
    c->started_at = clock_ms();
    c->restart_at = 0;
    c->finished = false;
    return 0;
}

/* Reads what a child wrote; emits whole lines. */
static void drain_output(supervisor_t *s, child_t *c) {
    for (;;) {
        ssize_t n = read(c->out_fd, c->line + c->line_len, sizeof c->line - c->line_len);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (c->line_len)
                    emit(s, c, c->line, c->line_len);
                c->line_len = 0;
                close(c->out_fd);
                c->out_fd = -1;
            }
            return;
        }
        c->line_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < c->line_len; i++)
            if (c->line[i] == '\n') {
                emit(s, c, c->line + start, i - start);
                start = i + 1;
            }
        if (start == 0 && c->line_len == sizeof c->line) { /* an overlong line */
            emit(s, c, c->line, c->line_len);
            start = c->line_len;
        }
        memmove(c->line, c->line + start, c->line_len - start);
        c->line_len -= start;
    }
}

static void describe_exit(int status, char *buf, size_t size) {
    if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "stopped");
}

static void on_exit_of(child_t *c, int status, int64_t now) {
    c->pid = 0;
    c->exit_status = status;
    char how[96];
    describe_exit(status, how, sizeof how);
    if (c->one_shot) {
        c->finished = true;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            log_warn("%s %s", c->name, how);
        return;
    }
    /* Forget deaths older than the window, then record this one. */
    int kept = 0;
    for (int i = 0; i < c->ndeaths; i++)
        if (now - c->deaths[i] < DEATHS_WINDOW_MS)
            c->deaths[kept++] = c->deaths[i];
    c->ndeaths = kept;
    if (c->ndeaths == DEATHS_MAX) {
        c->given_up = true;
        log_error("%s %s and died %d times within %d s: not restarting it; see its log lines "
                  "above",
                  c->name, how, DEATHS_MAX, DEATHS_WINDOW_MS / 1000);
        return;
    }
    c->deaths[c->ndeaths++] = now;
    if (now - c->started_at > 30000)
        c->backoff_ms = 250; /* it ran well for a while: start the back-off afresh */
    log_warn("%s %s; restarting in %d ms", c->name, how, c->backoff_ms);
    c->restart_at = now + c->backoff_ms;
    c->backoff_ms = c->backoff_ms * 2 > 8000 ? 8000 : c->backoff_ms * 2;
}

static void reap(supervisor_t *s, int64_t now) {
    for (int i = 0; i < s->count; i++) {
        child_t *c = &s->children[i];
        int status;
        if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid) {
            if (c->out_fd >= 0)
                drain_output(s, c);
            on_exit_of(c, status, now);
        }
    }
}

void supervisor_run(supervisor_t *s, bool (*on_tick)(supervisor_t *self, void *arg), void *arg) {
    int64_t next_tick = clock_ms();
    while (!stop_requested()) {
        struct pollfd fds[MAX_CHILDREN];
        int who[MAX_CHILDREN], n = 0;
        for (int i = 0; i < s->count; i++)
            if (s->children[i].out_fd >= 0) {
                fds[n] = (struct pollfd){.fd = s->children[i].out_fd, .events = POLLIN};
                who[n++] = i;
            }
        int64_t now = clock_ms();
        int timeout = next_tick > now ? (int)(next_tick - now) : 0;
        if (poll(fds, (nfds_t)n, timeout) > 0)
            for (int i = 0; i < n; i++)
                if (fds[i].revents)
                    drain_output(s, &s->children[who[i]]);
        now = clock_ms();
        reap(s, now);
        for (int i = 0; i < s->count; i++) {
            child_t *c = &s->children[i];
            if (c->restart_at && now >= c->restart_at && !c->given_up) {
                int rc = supervisor_start(s, i);
                if (rc != 0)
                    log_error("cannot restart %s: %s", c->name, strerror(-rc));
            }
        }
        if (now >= next_tick) {
            next_tick = now + 100;
            if (on_tick && on_tick(s, arg))
                return;
        }
    }
}

void supervisor_stop_all(supervisor_t *s, int grace_ms) {
    for (int i = 0; i < s->count; i++) {
        s->children[i].restart_at = 0;
        if (s->children[i].pid > 0)
            kill(s->children[i].pid, SIGTERM);
    }
    int64_t until = clock_ms() + grace_ms;
    for (;;) {
        bool running = false;
        for (int i = 0; i < s->count; i++) {
            child_t *c = &s->children[i];
            if (c->out_fd >= 0)
                drain_output(s, c);
            int status;
            if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid)
                c->pid = 0;
            running |= c->pid > 0;
        }
        if (!running)
            return;
        if (clock_ms() > until) {
            for (int i = 0; i < s->count; i++)
                if (s->children[i].pid > 0) {
                    log_warn("%s did not stop in time; killing it", s->children[i].name);
                    kill(s->children[i].pid, SIGKILL);
                    waitpid(s->children[i].pid, NULL, 0);
                    s->children[i].pid = 0;
                }
            return;
        }
        usleep(10000);
    }
}

pid_t supervisor_pid(const supervisor_t *s, int index) {
    return s->children[index].pid;
}

bool supervisor_finished(const supervisor_t *s, int index, int *status) {
    if (status)
        *status = s->children[index].exit_status;
    return s->children[index].finished;
}
