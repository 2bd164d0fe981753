/*
 * Broker benchmark: what the broker hop costs.
 *
 * The same traffic twice, in the same run: through lca-gateway's broker to a
 * test_worker (client -> broker -> worker -> broker -> client), and on a
 * direct DEALER-ROUTER pair to bench_peer (client -> peer -> client), both
 * speaking lca's wire codec.  Round trip: sequential 32-byte echo requests,
 * median and p99, taken in interleaved rounds (every path in turn, ROUNDS
 * times) so that a passing load on the machine falls on all paths alike.  Streaming: one request
 * answered by N PARTIALs of 32 bytes, PARTIALs per second.  Targets: the broker adds < 50 us median
 * round trip and keeps >= half of the direct pair's PARTIAL throughput.
 *
 * The broker is measured twice, with its adaptive busy-poll (the default)
 * and with --broker-spin 0, and the CPU its gateway used is read from /proc:
 * while the round trips ran, and over an idle second afterwards (workers
 * still heartbeating), so the price of the spin is on the table too.
 */
#include "proto/client.h"
#include "proto/socket.h"
#include "tests/proc.h"
#include "proto/base/clock.h"

#include <cJSON.h>

#define ROUND_TRIPS 20000 /* per path, over all rounds */
#define ROUNDS 10
#define WARMUP 2000
#define PARTIALS 200000
#define RUNS 3

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Round-trip samples of one path, gathered over the rounds. */
typedef struct {
    int64_t us[ROUND_TRIPS];
    int n;
} samples_t;

static void samples_stats(samples_t *s, double *median, double *p99) {
    qsort(s->us, (size_t)s->n, sizeof s->us[0], cmp_i64);
    *median = (double)s->us[s->n / 2];
    *p99 = (double)s->us[s->n * 99 / 100];
}

/* n sequential echo round trips through a client; kept in s when s. */
static void round_trips(proto_client_t *c, int n, samples_t *s) {
    char payload[32];
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < n; i++) {
        int64_t t0 = clock_us();
        uint64_t id;
        proto_client_send(c, "bench", "{\"op\":\"echo\"}", payload, sizeof payload, 5000, &id);
        proto_msg_t m;
        if (proto_client_recv(c, &m, 5000) != 0) {
            fprintf(stderr, "round trip %d failed\n", i);
            exit(1);
        }
        proto_msg_close(&m);
        if (s)
            s->us[s->n++] = clock_us() - t0;
    }
}

static double stream_rate(proto_client_t *c) {
    double best = 0;
    for (int run = 0; run < RUNS; run++) {
        char header[96];
        snprintf(header, sizeof header, "{\"op\":\"stream\",\"n\":%d,\"size\":32}", PARTIALS);
        int64_t t0 = clock_us();
        uint64_t id;
        proto_client_send(c, "bench", header, NULL, 0, 60000, &id);
        long partials = 0;
        for (;;) {
            proto_msg_t m;
            if (proto_client_recv(c, &m, 60000) != 0) {
                fprintf(stderr, "stream failed\n");
                exit(1);
            }
            int cmd = m.cmd;
            proto_msg_close(&m);
            if (cmd == PROTO_PARTIAL)
                partials++;
            else
                break;
        }
        double rate = partials / ((clock_us() - t0) / 1e6);
        if (partials != PARTIALS) {
            fprintf(stderr, "stream lost PARTIALs: %ld of %d\n", partials, PARTIALS);
            exit(1);
        }
        if (rate > best)
            best = rate;
    }
    return best;
}

/* ---- the same worker, without the broker: we are its ROUTER ---- */

typedef struct {
    void *router;
    uint8_t route[PROTO_ROUTE_MAX];
    size_t route_len;
    uint64_t next_id;
    int64_t last_beat;
} direct_t;

/* Receives the next reply for id from the worker, answering its heartbeats. */
static int direct_recv(direct_t *d, proto_msg_t *m) {
    for (;;) {
        int64_t now = clock_ms();
        if (now - d->last_beat > 300) {
            proto_send(d->router, d->route, d->route_len, &(proto_out_t){.cmd = PROTO_HEARTBEAT});
            d->last_beat = now;
        }
        zmq_pollitem_t item = {.socket = d->router, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 300) < 0)
            return -1;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        if (proto_recv(d->router, true, m, ZMQ_DONTWAIT, NULL, 0) != 0)
            continue;
        if (m->cmd == PROTO_PARTIAL || m->cmd == PROTO_FINAL || m->cmd == PROTO_ERROR)
            return 0;
        if (m->cmd == PROTO_READY) { /* it reconnected: a request in flight is lost */
            fprintf(stderr, "broker bench: the direct worker reconnected\n");
            proto_msg_close(m);
            return -1;
        }
        proto_msg_close(m);
    }
}

static void direct_send(direct_t *d, const char *header, const void *payload, size_t len) {
    proto_send(d->router, d->route, d->route_len,
               &(proto_out_t){.cmd = PROTO_REQUEST,
                              .id = ++d->next_id,
                              .service = "bench",
                              .header = header,
                              .payload = payload,
                              .payload_len = len,
                              .has_payload = payload != NULL});
}

static void direct_round_trips(direct_t *d, int n, samples_t *s) {
    char payload[32];
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < n; i++) {
        int64_t t0 = clock_us();
        direct_send(d, "{\"op\":\"echo\"}", payload, sizeof payload);
        proto_msg_t m;
        if (direct_recv(d, &m) != 0)
            exit(1);
        proto_msg_close(&m);
        if (s)
            s->us[s->n++] = clock_us() - t0;
    }
}

static double direct_stream_rate(direct_t *d) {
    double best = 0;
    for (int run = 0; run < RUNS; run++) {
        char header[96];
        snprintf(header, sizeof header, "{\"op\":\"stream\",\"n\":%d,\"size\":32}", PARTIALS);
        int64_t t0 = clock_us();
        direct_send(d, header, NULL, 0);
        long partials = 0;
        for (;;) {
            proto_msg_t m;
            if (direct_recv(d, &m) != 0)
                exit(1);
            int cmd = m.cmd;
            proto_msg_close(&m);
            if (cmd != PROTO_PARTIAL)
                break;
            partials++;
        }
        double rate = partials / ((clock_us() - t0) / 1e6);
        if (rate > best)
            best = rate;
    }
    return best;
}

/* Binds a ROUTER, starts a test_worker on it and waits for its READY. */
/* With LCA_BENCH_TCP=1 the paths run over TCP on loopback (as workers on
 * other hosts reach the broker, less CURVE); else over a Unix socket in a
 * directory of its own, lca's default between the processes of one host. */
static bool bench_tcp(void) {
    const char *tcp = getenv("LCA_BENCH_TCP");
    return tcp && !strcmp(tcp, "1");
}

/* An endpoint of the transport under test. */
static void endpoint(char *ep, size_t size) {
    if (bench_tcp() || !proc_broker_endpoint(ep, size))
        snprintf(ep, size, "tcp://127.0.0.1:%d", proc_free_port());
}

static bool direct_open(direct_t *d) {
    char ep[300];
    endpoint(ep, sizeof ep);
    d->router = proto_socket_new(ZMQ_ROUTER);
    if (!d->router || zmq_bind(d->router, ep) != 0)
        return false;
    const char *env[] = {"LCA_LOG=warn", NULL};
    proc_start((char *[]){(char *)proc_tool("test_worker"), ep, "bench", "1", NULL}, env,
               "/dev/null");
    int64_t until = clock_ms() + 10000;
    while (clock_ms() < until) {
        zmq_pollitem_t item = {.socket = d->router, .events = ZMQ_POLLIN};
        zmq_poll(&item, 1, 100);
        proto_msg_t m;
        if (proto_recv(d->router, true, &m, ZMQ_DONTWAIT, NULL, 0) != 0)
            continue;
        bool is_ready = m.cmd == PROTO_READY;
        memcpy(d->route, m.route, m.route_len);
        d->route_len = m.route_len;
        proto_msg_close(&m);
        if (is_ready) {
            d->last_beat = clock_ms();
            return true;
        }
    }
    return false;
}

typedef struct {
    pid_t gateway;
    proto_client_t *client;
    samples_t samples;
    double med, p99, rate;
    double busy_s, cpu_s; /* time spent in round trips, and the gateway's CPU meanwhile */
    double busy_cpu;      /* cpu_s / busy_s: share of a core while busy */
    double idle_cpu;      /* share of a core the gateway used over an idle second */
} broker_run_t;

/* Starts a gateway (with extra arguments) and a test_worker on it. */
static bool broker_start(broker_run_t *r, const char *spin) {
    char ep[300], port[16], err[256];
    endpoint(ep, sizeof ep);
    snprintf(port, sizeof port, "%d", proc_free_port());
    /* Plain TCP on loopback is for a benchmark only. */
    const char *env[] = {"LCA_LOG=warn", bench_tcp() ? "LCA_BROKER_INSECURE=1" : NULL, NULL};
    r->gateway = proc_start((char *[]){(char *)proc_bin("lca-gateway"), "--port", port, "--broker",
                                       ep, "--broker-spin", (char *)spin, NULL},
                            env, "/dev/null");
    proc_start((char *[]){(char *)proc_tool("test_worker"), ep, "bench", "1", NULL}, env,
               "/dev/null");
    r->client = proto_client_new(ep, NULL, err, sizeof err);
    return r->client != NULL;
}

/* One round of round trips through this broker, with the gateway's CPU. */
static void broker_round(broker_run_t *r, int n) {
    double cpu0 = proc_cpu_seconds(r->gateway);
    int64_t t0 = clock_us();
    round_trips(r->client, n, &r->samples);
    r->busy_s += (clock_us() - t0) / 1e6;
    r->cpu_s += proc_cpu_seconds(r->gateway) - cpu0;
}

static void broker_idle(broker_run_t *r) {
    double cpu0 = proc_cpu_seconds(r->gateway);
    int64_t t0 = clock_us();
    proc_sleep_ms(1000); /* measuring idleness: nothing to wait for */
    r->idle_cpu = (proc_cpu_seconds(r->gateway) - cpu0) / ((clock_us() - t0) / 1e6);
}

static bool ready(void *arg) {
    proto_client_t *c = arg;
    int status;
    char err[128];
    return proto_client_call(c, "bench", "{\"op\":\"echo\"}", "x", 1, 200, NULL, NULL, NULL,
                             &status, err, sizeof err) == 0;
}

int main(void) {
    proc_setup();
    char direct[300];
    endpoint(direct, sizeof direct);
    const char *env[] = {"LCA_LOG=warn", NULL};
    proc_start((char *[]){(char *)proc_tool("bench_peer"), direct, NULL}, env, "/dev/null");
    broker_run_t spin = {0}, sleep = {0};
    char err[256];
    proto_client_t *pair = proto_client_new(direct, NULL, err, sizeof err);
    if (!pair || !broker_start(&spin, "200") || !broker_start(&sleep, "0") ||
        !proc_wait_for(ready, spin.client, 10000) || !proc_wait_for(ready, sleep.client, 10000) ||
        !proc_wait_for(ready, pair, 10000)) {
        fprintf(stderr, "broker bench: services did not start\n");
        return 1;
    }
    direct_t worker_pair = {0};
    if (!direct_open(&worker_pair)) {
        fprintf(stderr, "broker bench: the direct worker did not start\n");
        return 1;
    }
    /* Round trips: warm every path, then interleave.  A round is short next
     * to the direct worker's heartbeat expiry (we are its broker, and
     * direct_recv beats for it only while it runs). */
    static samples_t direct_pair, worker_direct;
    round_trips(pair, WARMUP, NULL);
    direct_round_trips(&worker_pair, WARMUP, NULL);
    round_trips(spin.client, WARMUP, NULL);
    round_trips(sleep.client, WARMUP, NULL);
    for (int round = 0; round < ROUNDS; round++) {
        int n = ROUND_TRIPS / ROUNDS;
        round_trips(pair, n, &direct_pair);
        direct_round_trips(&worker_pair, n, &worker_direct);
        broker_round(&spin, n);
        broker_round(&sleep, n);
    }
    double d_med, d_p99, w_med, w_p99;
    samples_stats(&direct_pair, &d_med, &d_p99);
    samples_stats(&worker_direct, &w_med, &w_p99);
    samples_stats(&spin.samples, &spin.med, &spin.p99);
    samples_stats(&sleep.samples, &sleep.med, &sleep.p99);
    spin.busy_cpu = spin.cpu_s / spin.busy_s;
    sleep.busy_cpu = sleep.cpu_s / sleep.busy_s;
    /* Streaming: best of RUNS per path; the direct worker's first. */
    double w_rate = direct_stream_rate(&worker_pair);
    spin.rate = stream_rate(spin.client);
    sleep.rate = stream_rate(sleep.client);
    double d_rate = stream_rate(pair);
    broker_idle(&spin);
    broker_idle(&sleep);

    printf("\n### Broker over %s (%d round trips of 32 B per path in %d interleaved rounds; %d "
           "PARTIALs of 32 B, best of %d)\n\n",
           bench_tcp() ? "TCP on loopback" : "a Unix socket", ROUND_TRIPS, ROUNDS, PARTIALS, RUNS);
    printf("Direct pairs: a minimal ROUTER peer (the codec alone), and the real worker\n"
           "(test_worker, lca's worker library) on a ROUTER we hold, with no broker.\n"
           "Via the broker: the same worker through lca-gateway, with the broker's\n"
           "adaptive busy-poll (default, --broker-spin 200) and without (--broker-spin 0).\n\n");
    printf("| metric | minimal peer | worker, no broker | via broker | broker adds / ratio | "
           "via broker, no spin | adds / ratio | target |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    printf("| round trip, median | %.0f us | %.0f us | %.0f us | %+.0f us | %.0f us | %+.0f us | "
           "< +50 us |\n",
           d_med, w_med, spin.med, spin.med - w_med, sleep.med, sleep.med - w_med);
    printf("| round trip, p99 | %.0f us | %.0f us | %.0f us | %+.0f us | %.0f us | %+.0f us | |\n",
           d_p99, w_p99, spin.p99, spin.p99 - w_p99, sleep.p99, sleep.p99 - w_p99);
    printf("| PARTIALs per second | %.0f | %.0f | %.0f | %.2fx | %.0f | %.2fx | >= 0.5x |\n",
           d_rate, w_rate, spin.rate, spin.rate / w_rate, sleep.rate, sleep.rate / w_rate);
    printf("| gateway CPU, round trips | | | %.0f%% of a core | | %.0f%% of a core | | |\n",
           100 * spin.busy_cpu, 100 * sleep.busy_cpu);
    printf("| gateway CPU, idle second | | | %.1f%% | | %.1f%% | | |\n", 100 * spin.idle_cpu,
           100 * sleep.idle_cpu);
    printf("\nRESULT|broker_rtt_added_us|%.0f\nRESULT|broker_rtt_added_no_spin_us|%.0f\n"
           "RESULT|broker_stream_ratio|%.3f\nRESULT|broker_idle_cpu_pct|%.1f\n",
           spin.med - w_med, sleep.med - w_med, spin.rate / w_rate, 100 * spin.idle_cpu);
    proto_socket_close(&worker_pair.router);
    proto_client_destroy(&spin.client);
    proto_client_destroy(&sleep.client);
    proto_client_destroy(&pair);
    proc_kill_all();
    return 0;
}
