/*
 * The supervisor behind `lca up`: runs lca's processes on one machine.
 *
 * Each child's stdout and stderr are read line by line and written to ours
 * prefixed with its name ("embedder   | ..."), so one terminal shows the whole
 * stack.  A child that exits is restarted after a back-off that doubles with
 * each quick death (250 ms up to 8 s); one that dies too often (5 times
 * within a minute) is reported and left down.  A one-shot child (the seeder)
 * is never restarted.  On SIGINT/SIGTERM every child gets SIGTERM, then
 * SIGKILL after a grace period, and the supervisor returns: nothing is left
 * behind.  Children also get SIGTERM if the supervisor itself dies
 * (PR_SET_PDEATHSIG).
 */
#ifndef LCA_DEPLOY_SUPERVISOR_H
#define LCA_DEPLOY_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct supervisor supervisor_t;

supervisor_t *supervisor_new(void);
void supervisor_destroy(supervisor_t **self_p);

/* Adds a child: name for log prefixes, argv (copied, NULL-terminated), and
 * whether it is one-shot.  Returns its index or -1. */
int supervisor_add(supervisor_t *self, const char *name, char *const argv[], bool one_shot);

/* Starts child index now (if not running).  Returns 0 or -errno. */
int supervisor_start(supervisor_t *self, int index);

/* Runs until a stop signal (stop_requested) or until `until` returns
 * true (checked each turn; may be NULL); restarts children as described.
 * Calls on_tick(arg) about every 100 ms (may be NULL). */
void supervisor_run(supervisor_t *self, bool (*on_tick)(supervisor_t *self, void *arg), void *arg);

/* Stops every child (SIGTERM, then SIGKILL after grace_ms). */
void supervisor_stop_all(supervisor_t *self, int grace_ms);

/* The pid of child index, or 0 when it is not running. */
pid_t supervisor_pid(const supervisor_t *self, int index);

/* True once one-shot child index has exited; *status is its exit status. */
bool supervisor_finished(const supervisor_t *self, int index, int *status);

#endif
