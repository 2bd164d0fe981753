/*
 * ctags: one universal-ctags process per batch, fed and drained with poll.
 *
 * The child gets three pipes.  We write "./path\n" for each path (the "./"
 * keeps a path that starts with `-` from reading as an option) while
 * reading its JSON lines and its stderr, so that a batch of any size flows
 * without either side stalling.  A fourth, close-on-exec pipe tells us
 * whether exec itself failed, which is how "ctags is not installed" becomes
 * a clear -ENOENT instead of an empty result.
 *
 * SIGPIPE is blocked while we write (ctags may exit early) and any pending
 * one is consumed before we return, so the caller's signal state is as it
 * was.  Signal masks are per thread, so ctags_batch_run() can run one
 * ctags per slice of a big batch in parallel threads and concatenate the
 * results in slice order.
 */
#include "seeder/ctags.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/base/buf.h"
#include "proto/code/lang.h"

#define CTAGS_STDERR_KEEP 2048
#define CTAGS_SLICE_MIN 256 /* fewest files worth a process of their own */
#define CTAGS_SLICES_MAX 8
#define CTAGS_IDLE_MS 60000 /* silence after which ctags is taken to hang */

static const char *ctags_json_string(const cJSON *object, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int ctags_json_int(const cJSON *object, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 1e9)
        return 0;
    return (int)item->valuedouble;
}

/* Parses one output line and hands a tag to fn.  Returns 0, fn's result, or
 * -EPROTO when the line is not JSON. */
static int ctags_handle_line(const char *line, size_t len, ctags_tag_fn fn, void *arg) {
    if (len == 0)
        return 0;
    cJSON *json = cJSON_ParseWithLength(line, len);
    if (!json)
        return -EPROTO;
    int rc = 0;
    const char *type = ctags_json_string(json, "_type");
    const char *name = ctags_json_string(json, "name");
    const char *path = ctags_json_string(json, "path");
    if (type && strcmp(type, "tag") == 0 && name && path) {
        if (path[0] == '.' && path[1] == '/')
            path += 2;
        ctags_tag_t tag = {
            .path = path,
            .name = name,
            .kind = ctags_json_string(json, "kind"),
            .scope = ctags_json_string(json, "scope"),
            .scope_kind = ctags_json_string(json, "scopeKind"),
            .line = ctags_json_int(json, "line"),
            .end = ctags_json_int(json, "end"),
        };
        if (!tag.kind)
            tag.kind = "";
        if (tag.end < tag.line)
            tag.end = 0;
        if (tag.line > 0)
            rc = fn(&tag, arg);
    }
    cJSON_Delete(json);
    return rc;
}

/* The argument vector: fixed options plus one --map option per extension
 * lang.h knows for a language ctags parses.  Returns NULL when out of memory;
 * the strings from index first_owned on are the caller's to free. */
static char **ctags_build_argv(size_t *first_owned, size_t *count) {
    static const char *const fixed[] = {
        "ctags",
        "--options=NONE",
        "--quiet=yes",
        "-G",
        "--sort=no",
        "--output-format=json",
        "--fields=+nezZ-T-P",
        "-f",
        "-",
        "-L",
        "-",
    };
    size_t n_fixed = sizeof fixed / sizeof fixed[0];
    size_t n_maps = 0;
    for (int id = 1; id < LANG_COUNT; id++) {
        const lang_t *lang = lang_get((lang_id_t)id);
        if (lang->ctags_name)
            for (const char *const *e = lang->extensions; *e; e++)
                n_maps++;
    }
    char **argv = calloc(n_fixed + n_maps + 1, sizeof *argv);
    if (!argv)
        return NULL;
    for (size_t i = 0; i < n_fixed; i++)
        argv[i] = (char *)fixed[i];
    size_t at = n_fixed;
    for (int id = 1; id < LANG_COUNT; id++) {
        const lang_t *lang = lang_get((lang_id_t)id);
        if (!lang->ctags_name)
            continue;
        for (const char *const *e = lang->extensions; *e; e++) {
            if (asprintf(&argv[at], "--map-%s=+.%s", lang->ctags_name, *e) < 0) {
                for (size_t k = n_fixed; k < at; k++)
                    free(argv[k]);
                free(argv);
                return NULL;
            }
            at++;
        }
    }
    *first_owned = n_fixed;
    *count = at;
    return argv;
}

/* How long ctags may go without reading a path or writing a tag before it
 * is taken to hang: CTAGS_IDLE_MS, or LCA_CTAGS_TIMEOUT_MS from the
 * environment (milliseconds) for slow machines and for tests. */
static int ctags_idle_timeout_ms(void) {
    const char *text = getenv("LCA_CTAGS_TIMEOUT_MS");
    char *end = NULL;
    long ms = text ? strtol(text, &end, 10) : 0;
    if (!text || end == text || *end || ms <= 0 || ms > 3600000)
        return CTAGS_IDLE_MS;
    return (int)ms;
}

static void ctags_set_error(char **error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void ctags_set_error(char **error, const char *format, ...) {
    if (!error || *error)
        return;
    va_list ap;
    va_start(ap, format);
    if (vasprintf(error, format, ap) < 0)
        *error = NULL;
    va_end(ap);
}

int ctags_run(const char *root, const char *const *paths, size_t n, ctags_tag_fn fn, void *arg,
              char **error) {
    if (error)
        *error = NULL;
    buf_t input = BUF_INIT, output = BUF_INIT, errors = BUF_INIT;
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int exec_pipe[2] = {-1, -1};
    size_t first_owned = 0, argc = 0;
    char **argv = NULL;
    pid_t pid = -1;
    int rc = 0;
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strchr(paths[i], '\n') || strchr(paths[i], '\r'))
            continue;
        rc = buf_append(&input, "./", 2);
        if (rc == 0)
            rc = buf_append(&input, paths[i], strlen(paths[i]));
        if (rc == 0)
            rc = buf_append(&input, "\n", 1);
    }
    if (rc < 0)
        goto done;
    if (input.len == 0)
        goto done; /* nothing to parse: do not even start ctags */
    argv = ctags_build_argv(&first_owned, &argc);
    if (!argv) {
        rc = -ENOMEM;
        goto done;
    }
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC) ||
        pipe2(exec_pipe, O_CLOEXEC)) {
        rc = -errno;
        ctags_set_error(error, "ctags: pipe: %s", strerror(errno));
        goto done;
    }
    pid = fork();
    if (pid < 0) {
        rc = -errno;
        ctags_set_error(error, "ctags: fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        int err = 0;
        if (dup2(in_pipe[0], 0) < 0 || dup2(out_pipe[1], 1) < 0 || dup2(err_pipe[1], 2) < 0)
            err = errno;
        else if (chdir(root) != 0)
            err = errno;
        else {
            execvp("ctags", argv);
            err = errno;
        }
        ssize_t ignored = write(exec_pipe[1], &err, sizeof err);
        (void)ignored;
        _exit(127);
    }
    close(in_pipe[0]), in_pipe[0] = -1;
    close(out_pipe[1]), out_pipe[1] = -1;
    close(err_pipe[1]), err_pipe[1] = -1;
    close(exec_pipe[1]), exec_pipe[1] = -1;
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(exec_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    if (got == (ssize_t)sizeof exec_errno) {
        rc = exec_errno == ENOENT ? -ENOENT : -exec_errno;
        if (exec_errno == ENOENT)
            ctags_set_error(error, "ctags not found: install universal-ctags "
                                   "(Debian/Ubuntu: apt-get install universal-ctags)");
        else
            ctags_set_error(error, "cannot start ctags: %s", strerror(exec_errno));
        goto done;
    }
    fcntl(in_pipe[1], F_SETFL, fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
    int idle_ms = ctags_idle_timeout_ms();
    size_t written = 0;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        struct pollfd fds[3];
        int nfds = 0, in_at = -1, out_at = -1, err_at = -1;
        if (in_pipe[1] >= 0)
            fds[in_at = nfds++] = (struct pollfd){.fd = in_pipe[1], .events = POLLOUT};
        if (out_open)
            fds[out_at = nfds++] = (struct pollfd){.fd = out_pipe[0], .events = POLLIN};
        if (err_open)
            fds[err_at = nfds++] = (struct pollfd){.fd = err_pipe[0], .events = POLLIN};
        int ready = poll(fds, (nfds_t)nfds, idle_ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (ready == 0) {
            rc = -ETIMEDOUT;
            ctags_set_error(error, "ctags made no progress for %d ms (stuck on a file?)", idle_ms);
            break;
        }
        if (in_at >= 0 && fds[in_at].revents) {
            ssize_t w = write(in_pipe[1], input.data + written, input.len - written);
            if (w > 0)
                written += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.len) {
                close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
        if (out_at >= 0 && fds[out_at].revents) {
            char chunk[65536];
            ssize_t r = read(out_pipe[0], chunk, sizeof chunk);
            if (r <= 0) {
                if (r == 0 || (errno != EINTR && errno != EAGAIN))
                    out_open = false;
            } else if ((rc = buf_append(&output, chunk, (size_t)r)) == 0) {
                size_t start = 0;
                char *nl;
                while (rc == 0 && (nl = memchr(output.data + start, '\n', output.len - start))) {
                    size_t end = (size_t)(nl - output.data);
                    rc = ctags_handle_line(output.data + start, end - start, fn, arg);
                    start = end + 1;
                }
                memmove(output.data, output.data + start, output.len - start);
                output.len -= start;
            }
            if (rc != 0)
                break;
        }
        if (err_at >= 0 && fds[err_at].revents) {
            char chunk[4096];
            ssize_t r = read(err_pipe[0], chunk, sizeof chunk);
            if (r <= 0) {
                if (r == 0 || (errno != EINTR && errno != EAGAIN))
                    err_open = false;
            } else if (errors.len < CTAGS_STDERR_KEEP) {
                size_t keep = CTAGS_STDERR_KEEP - errors.len;
                buf_append(&errors, chunk, (size_t)r < keep ? (size_t)r : keep);
            }
        }
    }
    if (rc == 0 && output.len > 0)
        rc = ctags_handle_line(output.data, output.len, fn, arg);
    if (rc == -EPROTO)
        ctags_set_error(error, "ctags printed something that is not JSON: is it universal-ctags?");
done:
    if (pid > 0) {
        if (rc != 0)
            kill(pid, rc == -ETIMEDOUT ? SIGKILL : SIGTERM);
        if (in_pipe[1] >= 0)
            close(in_pipe[1]), in_pipe[1] = -1;
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            rc = WIFSIGNALED(status) ? -ECHILD : -EPROTO;
            ctags_set_error(error, "ctags failed (%s %d): %.*s",
                            WIFEXITED(status) ? "exit status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                            (int)errors.len, errors.data ? errors.data : "");
        }
    }
    for (int i = 0; i < 2; i++) {
        int *fds[] = {&in_pipe[i], &out_pipe[i], &err_pipe[i], &exec_pipe[i]};
        for (size_t k = 0; k < 4; k++)
            if (*fds[k] >= 0)
                close(*fds[k]);
    }
    if (argv) {
        for (size_t i = first_owned; i < argc; i++)
            free(argv[i]);
        free(argv);
    }
    buf_free(&input);
    buf_free(&output);
    buf_free(&errors);
    /* Consume a SIGPIPE raised by our writes before restoring the mask. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&block, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (rc < 0 && error && !*error)
        ctags_set_error(error, "ctags: %s", strerror(-rc));
    return rc;
}

/* Strings of a batch live in blocks that never move. */
typedef struct ctags_block {
    struct ctags_block *next;
    size_t used;
    size_t size;
    char data[];
} ctags_block_t;

typedef struct {
    const char *path; /* interned */
    size_t first;     /* index of its first tag in tags[] */
    size_t count;
} ctags_file_t;

struct ctags_batch {
    ctags_tag_t *tags; /* in arrival order; tags of one file are contiguous */
    size_t count, capacity;
    ctags_file_t *files; /* sorted by path once the run is over */
    size_t file_count, file_capacity;
    ctags_block_t *blocks;
    const char **failed; /* interned paths ctags crashed on, in input order */
    size_t failed_count;
};

static const char *ctags_batch_intern(ctags_batch_t *self, const char *s) {
    if (!s)
        return NULL;
    size_t len = strlen(s) + 1;
    ctags_block_t *b = self->blocks;
    if (!b || b->size - b->used < len) {
        size_t size = len > 65536 ? len : 65536;
        b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->next = self->blocks;
        b->used = 0;
        b->size = size;
        self->blocks = b;
    }
    char *copy = b->data + b->used;
    memcpy(copy, s, len);
    b->used += len;
    return copy;
}

static int ctags_batch_add(const ctags_tag_t *tag, void *arg) {
    ctags_batch_t *self = arg;
    ctags_file_t *file = self->file_count ? &self->files[self->file_count - 1] : NULL;
    if (!file || strcmp(file->path, tag->path) != 0) {
        if (self->file_count == self->file_capacity) {
            size_t capacity = self->file_capacity ? self->file_capacity * 2 : 64;
            ctags_file_t *grown = realloc(self->files, capacity * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            self->files = grown;
            self->file_capacity = capacity;
        }
        file = &self->files[self->file_count];
        file->path = ctags_batch_intern(self, tag->path);
        if (!file->path)
            return -ENOMEM;
        file->first = self->count;
        file->count = 0;
        self->file_count++;
    }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 1024;
        ctags_tag_t *grown = realloc(self->tags, capacity * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        self->tags = grown;
        self->capacity = capacity;
    }
    ctags_tag_t copy = *tag;
    copy.path = file->path;
    copy.name = ctags_batch_intern(self, tag->name);
    copy.kind = ctags_batch_intern(self, tag->kind);
    copy.scope = ctags_batch_intern(self, tag->scope);
    copy.scope_kind = ctags_batch_intern(self, tag->scope_kind);
    if (!copy.name || !copy.kind || (tag->scope && !copy.scope) ||
        (tag->scope_kind && !copy.scope_kind))
        return -ENOMEM;
    self->tags[self->count++] = copy;
    file->count++;
    return 0;
}

static int ctags_compare_files(const void *a, const void *b) {
    return strcmp(((const ctags_file_t *)a)->path, ((const ctags_file_t *)b)->path);
}

/* One slice of a batch, parsed by its own ctags process in its own thread. */
typedef struct {
    const char *root;
    const char *const *paths;
    size_t n;
    ctags_batch_t *batch;
    int rc;
    char *error;
} ctags_slice_t;

static int ctags_batch_absorb(ctags_batch_t *into, ctags_batch_t *from);

/* Collects the tags of paths into batch.  When ctags crashes (dies by a
 * signal) or hangs, the paths are halved and each half run again, down to the one
 * file that does it, which is then recorded as failed and left without
 * tags: one odd file must not cost the tags of thousands.  Other failures
 * (no ctags, not universal-ctags, out of memory) are returned at once. */
static int ctags_collect(const char *root, const char *const *paths, size_t n, ctags_batch_t *batch,
                         char **error) {
    ctags_batch_t *part = calloc(1, sizeof *part);
    if (!part)
        return -ENOMEM;
    char *part_error = NULL;
    int rc = ctags_run(root, paths, n, ctags_batch_add, part, &part_error);
    if (rc == 0)
        rc = ctags_batch_absorb(batch, part);
    ctags_batch_destroy(&part);
    if (rc != -ECHILD && rc != -ETIMEDOUT) {
        if (rc != 0 && error && !*error) {
            *error = part_error;
            part_error = NULL;
        }
        free(part_error);
        return rc;
    }
    free(part_error);
    if (n > 1) {
        size_t half = n / 2;
        rc = ctags_collect(root, paths, half, batch, error);
        return rc == 0 ? ctags_collect(root, paths + half, n - half, batch, error) : rc;
    }
    const char **grown = realloc(batch->failed, (batch->failed_count + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    batch->failed = grown;
    if (!(grown[batch->failed_count] = ctags_batch_intern(batch, paths[0])))
        return -ENOMEM;
    batch->failed_count++;
    return 0;
}

static void *ctags_slice_main(void *arg) {
    ctags_slice_t *slice = arg;
    slice->rc = ctags_collect(slice->root, slice->paths, slice->n, slice->batch, &slice->error);
    return NULL;
}

/* Moves the tags, files and string blocks of from to the end of into.
 * Returns 0 or -ENOMEM (then into is unchanged). */
static int ctags_batch_absorb(ctags_batch_t *into, ctags_batch_t *from) {
    ctags_tag_t *tags = realloc(into->tags, (into->count + from->count + 1) * sizeof *tags);
    if (!tags)
        return -ENOMEM;
    into->tags = tags;
    ctags_file_t *files =
        realloc(into->files, (into->file_count + from->file_count + 1) * sizeof *files);
    if (!files)
        return -ENOMEM;
    into->files = files;
    if (from->count > 0)
        memcpy(into->tags + into->count, from->tags, from->count * sizeof *tags);
    for (size_t i = 0; i < from->file_count; i++) {
        files[into->file_count + i] = from->files[i];
        files[into->file_count + i].first += into->count;
    }
    into->count += from->count;
    into->capacity = into->count + 1;
    into->file_count += from->file_count;
    into->file_capacity = into->file_count + 1;
    if (from->failed_count > 0) {
        const char **failed =
            realloc(into->failed, (into->failed_count + from->failed_count) * sizeof *failed);
        if (!failed)
            return -ENOMEM;
        into->failed = failed;
        memcpy(failed + into->failed_count, from->failed, from->failed_count * sizeof *failed);
        into->failed_count += from->failed_count;
        from->failed_count = 0;
    }
    ctags_block_t **tail = &into->blocks;
    while (*tail)
        tail = &(*tail)->next;
    *tail = from->blocks;
    from->blocks = NULL;
    return 0;
}

int ctags_batch_run(const char *root, const char *const *paths, size_t n, ctags_batch_t **out,
                    char **error) {
    *out = NULL;
    if (error)
        *error = NULL;
    /* Big batches are cut into slices parsed by parallel ctags processes:
     * ctags, not us, is the slow part of seeding.  Small ones are not worth
     * the extra processes. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t slices = n / CTAGS_SLICE_MIN;
    if (cpus > 0 && slices > (size_t)cpus)
        slices = (size_t)cpus;
    if (slices > CTAGS_SLICES_MAX)
        slices = CTAGS_SLICES_MAX;
    if (slices < 1)
        slices = 1;
    ctags_slice_t slice[CTAGS_SLICES_MAX] = {{0}};
    pthread_t threads[CTAGS_SLICES_MAX];
    bool started[CTAGS_SLICES_MAX] = {false};
    int rc = 0;
    for (size_t i = 0; i < slices; i++) {
        size_t from = n * i / slices, to = n * (i + 1) / slices;
        slice[i] = (ctags_slice_t){root, paths + from, to - from, calloc(1, sizeof(ctags_batch_t)),
                                   0,    NULL};
        if (!slice[i].batch)
            rc = -ENOMEM;
    }
    for (size_t i = 1; i < slices && rc == 0; i++)
        started[i] = pthread_create(&threads[i], NULL, ctags_slice_main, &slice[i]) == 0;
    if (rc == 0)
        ctags_slice_main(&slice[0]);
    for (size_t i = 1; i < slices; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else if (rc == 0)
            ctags_slice_main(&slice[i]); /* no thread to spare: do it here */
    }
    for (size_t i = 0; i < slices && rc == 0; i++)
        if (slice[i].rc != 0) {
            rc = slice[i].rc;
            if (error) {
                *error = slice[i].error;
                slice[i].error = NULL;
            }
        }
    ctags_batch_t *self = rc == 0 ? slice[0].batch : NULL;
    if (self)
        slice[0].batch = NULL;
    for (size_t i = 1; i < slices && rc == 0; i++)
        rc = ctags_batch_absorb(self, slice[i].batch);
    for (size_t i = 0; i < slices; i++) {
        ctags_batch_destroy(&slice[i].batch);
        free(slice[i].error);
    }
    if (rc != 0) {
        if (rc == -ENOMEM && error && !*error)
            ctags_set_error(error, "ctags: out of memory");
        ctags_batch_destroy(&self);
        return rc;
    }
    /* A file whose tags came in two runs of output would appear twice; ctags
     * never does that with --sort=no, and a lookup then finds one of them. */
    if (self->file_count > 1)
        qsort(self->files, self->file_count, sizeof *self->files, ctags_compare_files);
    *out = self;
    return 0;
}

void ctags_batch_destroy(ctags_batch_t **self_p) {
    if (!self_p || !*self_p)
        return;
    ctags_batch_t *self = *self_p;
    while (self->blocks) {
        ctags_block_t *next = self->blocks->next;
        free(self->blocks);
        self->blocks = next;
    }
    free(self->tags);
    free(self->files);
    free(self->failed);
    free(self);
    *self_p = NULL;
}

const ctags_tag_t *ctags_batch_tags(const ctags_batch_t *self, const char *path, size_t *count) {
    *count = 0;
    if (!self || !path)
        return NULL;
    size_t lo = 0, hi = self->file_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(self->files[mid].path, path);
        if (c == 0) {
            *count = self->files[mid].count;
            return self->tags + self->files[mid].first;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t ctags_batch_count(const ctags_batch_t *self) {
    return self ? self->count : 0;
}

size_t ctags_batch_failed_count(const ctags_batch_t *self) {
    return self ? self->failed_count : 0;
}

const char *ctags_batch_failed(const ctags_batch_t *self, size_t index) {
    if (!self || index >= self->failed_count)
        return NULL;
    return self->failed[index];
}
