/*
 * progress: what a long seeding run tells the person waiting for it.
 *
 * On a terminal one status line is redrawn in place (a bar, files done of
 * total, megabytes, rate and an estimate of the time left), at most ten
 * times a second so that drawing never costs more than the work it shows.
 * Anywhere else (a log file, CI, a pipe) the same facts go out as plain
 * lines, one every couple of seconds, which read well after the fact.
 *
 * The seeder calls progress_update() as often as it likes, with running
 * totals; this module decides when to draw.  Rates are measured from the
 * first update that carries work, so the time spent connecting and listing
 * files does not make the first estimate look slow.
 *
 * Invariants: nothing is written between progress_finish() and the next
 * progress_begin(); on a terminal the
 * line is erased by progress_finish(), so the summary that follows starts on
 * a clean line.
 */
#ifndef LCA_SEEDER_PROGRESS_H
#define LCA_SEEDER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress progress_t;

/* A reporter writing to out (borrowed; usually stderr).  tty selects the
 * redrawn bar; otherwise a plain line every interval_ms (2000 when 0).
 * Returns NULL when out of memory. */
progress_t *progress_new(FILE *out, bool tty, int interval_ms);

/* Frees *self_p (NULL is fine) and sets it to NULL; does not draw. */
void progress_destroy(progress_t **self_p);

/* Sets the amount of work of the current phase (label: "indexing",
 * "checking", ...; copied) and starts its clock afresh. */
void progress_begin(progress_t *self, const char *label, uint64_t files_total,
                    uint64_t bytes_total);

/* Reports running totals of the current phase; draws if it is time to. */
void progress_update(progress_t *self, uint64_t files_done, uint64_t bytes_done);

/* Erases the bar on a terminal; nothing is drawn until the next
 * progress_begin().  Safe to call more than once. */
void progress_finish(progress_t *self);

/* Formats a byte count as "12.3 MB" (decimal megabytes, as rates are quoted)
 * into buf. */
void progress_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif
