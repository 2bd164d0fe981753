/*
 * The stop flag (see signals.h).
 */
#include "proto/base/signals.h"

#include <signal.h>

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

void stop_on_signals(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool stop_requested(void) {
    return stop_flag != 0;
}

void stop_request(void) {
    stop_flag = 1;
}
