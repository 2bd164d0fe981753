/*
 * Process helpers for lca's integration tests: start the real binaries,
 * find free ports, wait for conditions with a deadline, and make sure no
 * child outlives the test.
 *
 * Binaries come from $LCA_BIN (default build/bin of the repository), test
 * tools from $LCA_TESTS/tools (default build/tests/tools).  Children are put in their
 * own process group and killed with it when the test exits.
 */
#ifndef LCA_TEST_PROC_H
#define LCA_TEST_PROC_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "tests/test.h"

#define PROC_MAX 64
static pid_t proc_children[PROC_MAX];

static inline int64_t proc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void proc_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void proc_kill_all(void) {
    for (int i = 0; i < PROC_MAX; i++)
        if (proc_children[i] > 0) {
            kill(-proc_children[i], SIGKILL);
            waitpid(proc_children[i], NULL, 0);
            proc_children[i] = 0;
        }
}

static inline void proc_on_signal(int sig) {
    proc_kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void proc_setup(void) {
    static bool done;
    if (done)
        return;
    done = true;
    atexit(proc_kill_all);
    test_before_exit = proc_kill_all;
    signal(SIGINT, proc_on_signal);
    signal(SIGTERM, proc_on_signal);
    signal(SIGPIPE, SIG_IGN);
}

/* dir/name, dir taken from the environment variable var, else
 * <repository>/fallback; in one of 16 rotating buffers. */
static inline const char *proc_build_path(const char *var, const char *fallback, const char *name) {
    static char path[16][PATH_MAX];
    static int slot;
    const char *dir = getenv(var);
    char *p = path[slot++ % 16];
    int n = dir && *dir ? snprintf(p, PATH_MAX, "%s/%s", dir, name)
                        : snprintf(p, PATH_MAX, "%s%s/%s", fixture_root(), fallback, name);
    if (n < 0 || n >= PATH_MAX)
        fprintf(stderr, "  path too long: %s...\n", p);
    return p;
}

/* Path of a product binary (lca-gateway, lca, ...). */
static inline const char *proc_bin(const char *name) {
    return proc_build_path("LCA_BIN", "build/bin", name);
}

/* Path of a test tool (tests/tools/<name>.c). */
static inline const char *proc_tool(const char *name) {
    char tool[256];
    snprintf(tool, sizeof tool, "tools/%s", name);
    return proc_build_path("LCA_TESTS", "build/tests", tool);
}

/* Starts argv (NULL-terminated; argv[0] a path, or a name looked up in
 * PATH) with env: "NAME=value" entries added to the environment, "NAME"
 * alone removed from it (NULL-terminated, may be NULL).  stdout and stderr
 * are appended to log_path when given (the same file for both); else
 * stdout goes to out_path and stderr to err_path, each emptied first, when
 * given; else to ours.  Returns the pid, or -1. */
static inline pid_t proc_spawn(char *const argv[], const char *const env[], const char *log_path,
                               const char *out_path, const char *err_path) {
    proc_setup();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        for (int i = 0; env && env[i]; i++) {
            if (strchr(env[i], '='))
                putenv((char *)env[i]);
            else
                unsetenv(env[i]);
        }
        const char *paths[2] = {log_path ? log_path : out_path, log_path ? log_path : err_path};
        for (int fd = 1; fd <= 2; fd++) {
            if (!paths[fd - 1])
                continue;
            int flags = O_WRONLY | O_CREAT | (log_path ? O_APPEND : O_TRUNC);
            int to = open(paths[fd - 1], flags, 0644);
            if (to >= 0) {
                dup2(to, fd);
                close(to);
            }
        }
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    for (int i = 0; i < PROC_MAX; i++)
        if (proc_children[i] == 0) {
            proc_children[i] = pid;
            break;
        }
    return pid;
}

/* proc_spawn with stdout and stderr appended to log_path (NULL: ours). */
static inline pid_t proc_start(char *const argv[], const char *const env[], const char *log_path) {
    return proc_spawn(argv, env, log_path, NULL, NULL);
}

/* proc_spawn with stdout in out_path and stderr in err_path, both emptied
 * first. */
static inline pid_t proc_start_split(char *const argv[], const char *const env[],
                                     const char *out_path, const char *err_path) {
    return proc_spawn(argv, env, NULL, out_path, err_path);
}

/* Starts the program name of $LCA_BIN (lca-gateway, lca, ...) with
 * arguments args and environment env (both NULL-terminated, may be NULL;
 * env as proc_spawn's), output appended to log_path (NULL: ours). */
static inline pid_t proc_start_bin(const char *name, const char *const *args,
                                   const char *const env[], const char *log_path) {
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)proc_bin(name);
    for (int i = 0; args && args[i] && n < 63; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return proc_start(argv, env, log_path);
}

static inline void proc_forget(pid_t pid) {
    for (int i = 0; i < PROC_MAX; i++)
        if (proc_children[i] == pid)
            proc_children[i] = 0;
}

/* Sends sig to the process; returns its exit status after it ended (waits
 * up to timeout_ms, then SIGKILLs), or -1. */
static inline int proc_stop(pid_t pid, int sig, int timeout_ms) {
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    int64_t until = proc_now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0) {
            proc_forget(pid);
            return -1;
        }
        if (proc_now_ms() > until) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            proc_forget(pid);
            return -2;
        }
        proc_sleep_ms(5);
    }
    kill(-pid, SIGKILL); /* anything the process left in its group */
    proc_forget(pid);
    return status;
}

/* Waits for pid to end by itself and returns its exit status; -1 when it
 * did not end within timeout_ms (it is killed then) or did not exit
 * normally. */
static inline int proc_wait_exit(pid_t pid, int timeout_ms) {
    int64_t until = proc_now_ms() + timeout_ms;
    int status = -1;
    while (pid > 0) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 || proc_now_ms() > until) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        proc_sleep_ms(2);
    }
    proc_forget(pid);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* True while pid is alive (not yet reaped). */
static inline bool proc_alive(pid_t pid) {
    int status;
    return waitpid(pid, &status, WNOHANG) == 0;
}

/* CPU seconds pid has used (user + system), from /proc/<pid>/stat; -1 when
 * it cannot be read. */
static inline double proc_cpu_seconds(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long utime = 0, stime = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* A memory figure of pid in KiB from /proc/<pid>/status ("VmRSS", or
 * "VmHWM": the peak resident set so far); 0 when it cannot be read. */
static inline long proc_status_kib(pid_t pid, const char *field) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = strlen(field);
    long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':')
            kib = atol(line + n + 1);
    if (f)
        fclose(f);
    return kib;
}

/* A TCP port that was free a moment ago. */
static inline int proc_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* True when something accepts a TCP connection on 127.0.0.1:port now. */
static inline bool proc_port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool open = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return open;
}

/* True once 127.0.0.1:port accepts TCP connections (open) or refuses them
 * (!open); waits up to timeout_ms. */
static inline bool proc_wait_port_state(int port, bool open, int timeout_ms) {
    int64_t until = proc_now_ms() + timeout_ms;
    do {
        if (proc_port_open(port) == open)
            return true;
        proc_sleep_ms(10);
    } while (proc_now_ms() < until);
    return false;
}

/* True once something accepts TCP connections on 127.0.0.1:port (waits up
 * to timeout_ms). */
static inline bool proc_wait_port(int port, int timeout_ms) {
    return proc_wait_port_state(port, true, timeout_ms);
}

/* Polls cond(arg) every 5 ms until it holds or timeout_ms passes. */
static inline bool proc_wait_for(bool (*cond)(void *), void *arg, int timeout_ms) {
    int64_t until = proc_now_ms() + timeout_ms;
    do {
        if (cond(arg))
            return true;
        proc_sleep_ms(5);
    } while (proc_now_ms() < until);
    return cond(arg);
}

/* dir/name followed by suffix (may be ""), in one of 16 rotating buffers:
 * valid until 16 more calls. */
static inline char *proc_path(const char *dir, const char *name, const char *suffix) {
    static char path[16][PATH_MAX];
    static int slot;
    char *p = path[slot++ % 16];
    snprintf(p, sizeof path[0], "%s/%s%s", dir, name, suffix);
    return p;
}

/* Runs a shell command made from format; says so on stderr when it fails.
 * Returns system()'s status. */
static inline int proc_shell(const char *format, ...) __attribute__((format(printf, 1, 2)));
static inline int proc_shell(const char *format, ...) {
    char command[4096];
    va_list ap;
    va_start(ap, format);
    vsnprintf(command, sizeof command, format, ap);
    va_end(ap);
    int rc = system(command);
    if (rc != 0)
        fprintf(stderr, "  command failed (%d): %s\n", rc, command);
    return rc;
}

/* A fresh temporary directory (removed by the caller if wanted). */
static inline const char *proc_tmpdir(void) {
    static char dir[64];
    return fixture_tmpdir(dir, sizeof dir, "test") ? dir : NULL;
}

/* A broker address of the test's own, as lca's default is: a Unix socket in
 * a fresh directory only this user may enter (0700, from mkdtemp), so that
 * tests running side by side never meet.  Written to ep; false when no
 * directory could be made. */
static inline bool proc_broker_endpoint(char *ep, size_t size) {
    const char *dir = proc_tmpdir();
    return dir && (size_t)snprintf(ep, size, "ipc://%s/broker", dir) < size;
}

#endif
