/*
 * proto/wire: the frames a ZeroMQ peer sends.  The input is cut at 0xff
 * bytes (never part of UTF-8, so any JSON header can be written) into up to
 * 8 frames.
 *
 * Invariants: proto_decode() and proto_recv() (the frames sent raw over an
 * inproc pair, as a hostile peer would) agree on every message, and neither
 * leaves a frame behind; a decoded message fits its command and sends again
 * with proto_send() to arrive identical; an ERROR header reads back as a
 * status in 100..599; proto_error_header() writes strict JSON that
 * proto_error_parse() reads back; a packed-texts payload that walks cleanly
 * re-packs to the same bytes.
 */
#include "proto/base/buf.h"
#include "proto/base/json.h"
#include "proto/wire.h"
#include "tests/fuzz/fuzz.h"

#include <errno.h>

static void *tx, *rx; /* an inproc pair, kept for the whole run */

static void pair_open(void) {
    if (tx)
        return;
    void *ctx = zmq_ctx_new();
    tx = zmq_socket(ctx, ZMQ_PAIR);
    rx = zmq_socket(ctx, ZMQ_PAIR);
    int zero = 0;
    zmq_setsockopt(tx, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(rx, ZMQ_RCVHWM, &zero, sizeof zero);
    FUZZ_ASSERT(zmq_bind(rx, "inproc://wire-fuzz") == 0);
    FUZZ_ASSERT(zmq_connect(tx, "inproc://wire-fuzz") == 0);
}

/* Nothing may be left on the socket after a message was read. */
static void check_drained(void) {
    proto_msg_t extra;
    char why[64];
    FUZZ_ASSERT(proto_recv(rx, false, &extra, ZMQ_DONTWAIT, why, sizeof why) == -EAGAIN);
}

static void check_same(const proto_msg_t *a, const proto_msg_t *b) {
    FUZZ_ASSERT(a->cmd == b->cmd);
    FUZZ_ASSERT(a->id == b->id);
    FUZZ_ASSERT(strcmp(a->service, b->service) == 0);
    FUZZ_ASSERT(a->header_len == b->header_len);
    FUZZ_ASSERT((a->header == NULL) == (b->header == NULL));
    FUZZ_ASSERT(a->header_len == 0 || memcmp(a->header, b->header, a->header_len) == 0);
    FUZZ_ASSERT((a->payload == NULL) == (b->payload == NULL));
    FUZZ_ASSERT(a->payload_len == b->payload_len);
    FUZZ_ASSERT(a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
}

/* What a decoded message must look like. */
static void check_decoded(const proto_msg_t *m, const proto_frame_t *frames, size_t n) {
    FUZZ_ASSERT(m->cmd >= PROTO_READY && m->cmd <= PROTO_CMD_MAX);
    bool wants_service = m->cmd == PROTO_READY || m->cmd == PROTO_REQUEST;
    FUZZ_ASSERT(wants_service ? proto_service_valid(m->service) : m->service[0] == '\0');
    FUZZ_ASSERT(m->header_len == frames[4].size);
    FUZZ_ASSERT(m->header_len == 0 || json_check(m->header, m->header_len, true, NULL, 0) == 0);
    FUZZ_ASSERT((m->payload != NULL) == (n == 6));
    if (m->cmd == PROTO_ERROR) {
        int status;
        char message[64];
        proto_error_parse(m, &status, message, sizeof message);
        FUZZ_ASSERT(status >= 100 && status < 600);
        FUZZ_ASSERT(memchr(message, '\0', sizeof message) != NULL);
    }
}

/* Sends a decoded message on with proto_send() and reads it back. */
static void check_resend(const proto_msg_t *m) {
    proto_out_t out = {
        .cmd = m->cmd,
        .id = m->id,
        .service = m->service,
        .header = m->header,
        .header_len = m->header_len,
        .payload = m->payload,
        .payload_len = m->payload_len,
        .has_payload = m->payload != NULL,
    };
    FUZZ_ASSERT(proto_send(tx, NULL, 0, &out) == 0);
    proto_msg_t back;
    char why[128] = "";
    FUZZ_ASSERT(proto_recv(rx, false, &back, 0, why, sizeof why) == 0);
    check_same(m, &back);
    proto_msg_close(&back);
    check_drained();
}

/* The frames sent raw: proto_recv() must say what proto_decode() says. */
static void check_raw(const proto_frame_t *frames, size_t n, int decoded, const proto_msg_t *m) {
    for (size_t i = 0; i < n; i++)
        FUZZ_ASSERT(zmq_send(tx, frames[i].data, frames[i].size, i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
    proto_msg_t got;
    char why[128] = "";
    int rc = proto_recv(rx, false, &got, 0, why, sizeof why);
    FUZZ_ASSERT(rc == decoded);
    if (rc == 0) {
        check_same(m, &got);
        proto_msg_t moved = {0};
        proto_msg_move(&moved, &got);
        check_same(m, &moved);
        proto_msg_close(&got);
        proto_msg_close(&moved);
    } else {
        FUZZ_ASSERT(why[0] != '\0');
    }
    check_drained();
}

/* The message proto_error_parse() should read back from a header made for
 * message: the same, with bytes that are not UTF-8 replaced by U+FFFD. */
static char *expected_message(const char *message) {
    size_t len = strlen(message), n = 0;
    char *out = malloc(3 * len + 1);
    FUZZ_ASSERT(out != NULL);
    for (size_t i = 0; i < len;) {
        size_t k = 1;
        while (k <= 4 && i + k <= len && !utf8_valid(message + i, k))
            k++;
        if (k <= 4 && i + k <= len) {
            memcpy(out + n, message + i, k);
            n += k, i += k;
        } else {
            memcpy(out + n, "\xef\xbf\xbd", 3);
            n += 3, i++;
        }
    }
    out[n] = '\0';
    return out;
}

/* proto_error_header() always writes a header peers accept (proto_send
 * refuses any other, and the ERROR would never reach the client), and
 * proto_error_parse() reads back the status and the message, cut at a
 * character boundary when the buffer is too small. */
static void check_error_header(const char *text, size_t len, int status, size_t size) {
    char *message = fuzz_strndup(text, len);
    char *expected = expected_message(message);
    char *header = malloc(size);
    FUZZ_ASSERT(header != NULL);
    size_t n = proto_error_header(header, size, status, message);
    FUZZ_ASSERT(n < size && header[n] == '\0');
    if (size >= 64) {
        if (json_check(header, n, true, NULL, 0) != 0)
            fprintf(stderr, "fuzz: header refused by json_check: %s\n", header);
        FUZZ_ASSERT(n > 0 && json_check(header, n, true, NULL, 0) == 0);
        proto_msg_t m = {.cmd = PROTO_ERROR, .id = 1, .header = header, .header_len = n};
        int got_status;
        char *got = malloc(size);
        FUZZ_ASSERT(got != NULL);
        proto_error_parse(&m, &got_status, got, size);
        if (status >= 100 && status < 600)
            FUZZ_ASSERT(got_status == status);
        size_t got_len = strlen(got);
        FUZZ_ASSERT(got_len <= strlen(expected) && memcmp(got, expected, got_len) == 0);
        if (size >= 6 * strlen(expected) + 64) /* room for every byte escaped: whole */
            FUZZ_ASSERT(strcmp(got, expected) == 0);
        FUZZ_ASSERT(utf8_valid(got, got_len));
        free(got);
    }
    free(header);
    free(expected);
    free(message);
}

/* texts_next() walks; a payload it accepts re-packs to the same bytes. */
static void check_texts(const void *payload, size_t len) {
    long count = texts_count(payload, len);
    if (count < 0)
        return;
    buf_t again = BUF_INIT;
    size_t pos = 0, text_len;
    const char *text;
    long seen = 0;
    int rc;
    while ((rc = texts_next(payload, len, &pos, &text, &text_len)) == 1) {
        FUZZ_ASSERT(text >= (const char *)payload &&
                    text + text_len <= (const char *)payload + len);
        FUZZ_ASSERT(texts_append(&again, text, text_len) == 0);
        seen++;
    }
    FUZZ_ASSERT(rc == 0 && seen == count && pos == len);
    FUZZ_ASSERT(again.len == len && (len == 0 || memcmp(again.data, payload, len) == 0));
    buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pair_open();
    fuzz_piece_t pieces[8];
    size_t n = fuzz_split(data, size, 0xff, pieces, 8);
    proto_frame_t frames[8];
    for (size_t i = 0; i < n; i++)
        frames[i] = (proto_frame_t){pieces[i].data, pieces[i].len};

    proto_msg_t msg;
    memset(&msg, 0, sizeof msg);
    char why[128] = "";
    int rc = proto_decode(frames, n, &msg, why, sizeof why);
    FUZZ_ASSERT(rc == 0 || rc == -EPROTO);
    FUZZ_ASSERT(rc == 0 || why[0] != '\0');
    if (rc == 0) {
        check_decoded(&msg, frames, n);
        check_resend(&msg);
    }
    check_raw(frames, n, rc, &msg);

    const fuzz_piece_t *last = &pieces[n - 1];
    check_texts(last->data, last->len);
    int status = (int)(size ? data[0] * 3 : 500);
    size_t header_size = size > 1 ? 1 + (size_t)data[1] * 8 : 1024;
    check_error_header(last->data, last->len, status, header_size);
    return 0;
}
