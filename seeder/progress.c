/*
 * progress: the status line of a seeding run (see progress.h).
 *
 * Drawing is decided by the clock alone: an update that comes less than the
 * redraw interval after the last drawing returns at once, so callers may
 * report after every file.  The estimate of time left divides the bytes
 * still to do by the byte rate so far (bytes predict work better than file
 * counts: one big file costs as much as many small ones), falling back to
 * files when the byte total is unknown.
 */
#include "seeder/progress.h"

#include "proto/base/clock.h"

#include <stdlib.h>
#include <string.h>

#define PROGRESS_TTY_INTERVAL_MS 100
#define PROGRESS_BAR_WIDTH 24

struct progress {
    FILE *out;       /* borrowed */
    bool tty;        /* redraw one line in place */
    int interval_ms; /* between drawings */
    bool drawn;      /* a bar is on the screen (tty only) */
    bool finished;   /* nothing more is drawn */
    char label[32];  /* phase name */
    uint64_t files_total, bytes_total;
    int64_t started_ms; /* when the phase began */
    int64_t drawn_ms;   /* last drawing, or 0 */
    /* The phase's first update that carried work, and its totals: rates
     * count from there (0: none yet). */
    int64_t work_ms;
    uint64_t files_at_work, bytes_at_work;
};

progress_t *progress_new(FILE *out, bool tty, int interval_ms) {
    progress_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    p->tty = tty;
    p->interval_ms = tty ? PROGRESS_TTY_INTERVAL_MS : interval_ms > 0 ? interval_ms : 2000;
    snprintf(p->label, sizeof p->label, "seeding");
    p->started_ms = clock_ms();
    return p;
}

void progress_destroy(progress_t **self_p) {
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void progress_begin(progress_t *self, const char *label, uint64_t files_total,
                    uint64_t bytes_total) {
    snprintf(self->label, sizeof self->label, "%s", label);
    self->files_total = files_total;
    self->bytes_total = bytes_total;
    self->started_ms = clock_ms();
    self->finished = false;
    self->drawn = false;
    self->work_ms = 0;
    /* A plain line is due one interval after the phase starts, not at once:
     * short phases then print nothing at all. */
    self->drawn_ms = self->tty ? 0 : self->started_ms;
}

void progress_format_bytes(uint64_t bytes, char *buf, size_t len) {
    double mb = (double)bytes / 1e6;
    if (mb < 10)
        snprintf(buf, len, "%.2f MB", mb);
    else if (mb < 1000)
        snprintf(buf, len, "%.1f MB", mb);
    else
        snprintf(buf, len, "%.0f MB", mb);
}

static void progress_format_seconds(double s, char *buf, size_t len) {
    if (s < 0 || s > 360000)
        snprintf(buf, len, "?");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

void progress_update(progress_t *self, uint64_t files_done, uint64_t bytes_done) {
    if (self->finished)
        return;
    int64_t now = clock_ms();
    if (!self->work_ms && (files_done || bytes_done)) {
        self->work_ms = now;
        self->files_at_work = files_done;
        self->bytes_at_work = bytes_done;
    }
    if (self->drawn_ms && now - self->drawn_ms < self->interval_ms)
        return;
    self->drawn_ms = now;
    /* What was done since the first work, over the time since: the wait
     * before it (the embedder loading its model) is no part of the rate. */
    double seconds = self->work_ms ? (double)(now - self->work_ms) / 1000.0 : 0;
    uint64_t bytes = bytes_done > self->bytes_at_work ? bytes_done - self->bytes_at_work : 0;
    uint64_t files = files_done > self->files_at_work ? files_done - self->files_at_work : 0;
    double rate = seconds > 0 ? (double)bytes / seconds : 0;
    double eta = -1;
    if (self->bytes_total > 0 && rate > 0 && bytes_done <= self->bytes_total)
        eta = (double)(self->bytes_total - bytes_done) / rate;
    else if (self->files_total > 0 && files > 0 && seconds > 0)
        eta = (double)(self->files_total - files_done) * seconds / (double)files;
    char done[32], total[32], speed[32], left[32];
    progress_format_bytes(bytes_done, done, sizeof done);
    progress_format_bytes(self->bytes_total, total, sizeof total);
    progress_format_bytes((uint64_t)rate, speed, sizeof speed);
    progress_format_seconds(eta, left, sizeof left);
    if (self->tty) {
        double fraction = self->files_total ? (double)files_done / (double)self->files_total : 0;
        if (self->bytes_total)
            fraction = (double)bytes_done / (double)self->bytes_total;
        if (fraction > 1)
            fraction = 1;
        char bar[PROGRESS_BAR_WIDTH + 1];
        int fill = (int)(fraction * PROGRESS_BAR_WIDTH + 0.5);
        for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[PROGRESS_BAR_WIDTH] = '\0';
        fprintf(self->out, "\r%s [%s] %llu/%llu files  %s/%s  %s/s  ETA %s\033[K", self->label, bar,
                (unsigned long long)files_done, (unsigned long long)self->files_total, done, total,
                speed, left);
        self->drawn = true;
    } else {
        fprintf(self->out, "%s: %llu/%llu files, %s of %s, %s/s, about %s left\n", self->label,
                (unsigned long long)files_done, (unsigned long long)self->files_total, done, total,
                speed, left);
    }
    fflush(self->out);
}

void progress_finish(progress_t *self) {
    if (!self || self->finished)
        return;
    self->finished = true;
    if (self->tty && self->drawn) {
        fprintf(self->out, "\r\033[K");
        fflush(self->out);
    }
}
