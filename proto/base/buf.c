/*
 * Growable buffers and packed texts (see buf.h).
 */
#include "proto/base/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(buf_t *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data)
        return -ENOMEM;
    b->data = data;
    b->cap = cap;
    return 0;
}

int buf_append(buf_t *b, const void *data, size_t len) {
    if (buf_reserve(b, len) != 0)
        return -ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(buf_t *b, const char *s) {
    return buf_append(b, s, strlen(s));
}

int buf_printf(buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *bytes_dup(const void *s, size_t len) {
    char *p = malloc(len + 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void err_printf(char *err, size_t err_len, const char *fmt, ...) {
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

int buf_append_u32(buf_t *b, uint32_t v) {
    unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24)};
    return buf_append(b, le, 4);
}

int buf_append_json_string(buf_t *b, const char *s, size_t len) {
    if (buf_reserve(b, len + 2) != 0)
        return -ENOMEM;
    int rc = buf_append(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = buf_append(b, s + start, i - start);
        char esc[8];
        switch (c) {
        case '"':
            memcpy(esc, "\\\"", 3);
            break;
        case '\\':
            memcpy(esc, "\\\\", 3);
            break;
        case '\n':
            memcpy(esc, "\\n", 3);
            break;
        case '\r':
            memcpy(esc, "\\r", 3);
            break;
        case '\t':
            memcpy(esc, "\\t", 3);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
        }
        if (rc == 0)
            rc = buf_append_str(b, esc);
        start = i + 1;
    }
    if (rc == 0)
        rc = buf_append(b, s + start, len - start);
    if (rc == 0)
        rc = buf_append(b, "\"", 1);
    return rc;
}

void buf_reset(buf_t *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(buf_t *b) {
    free(b->data);
    *b = (buf_t)BUF_INIT;
}

int texts_append(buf_t *b, const char *text, size_t len) {
    if (len > UINT32_MAX)
        return -EINVAL;
    if (buf_reserve(b, 4 + len) != 0)
        return -ENOMEM;
    buf_append_u32(b, (uint32_t)len);
    return buf_append(b, text, len);
}

int texts_next(const void *payload, size_t len, size_t *pos, const char **text, size_t *text_len) {
    const unsigned char *p = payload;
    if (*pos == len)
        return 0;
    if (len - *pos < 4)
        return -EINVAL;
    size_t n = (size_t)p[*pos] | (size_t)p[*pos + 1] << 8 | (size_t)p[*pos + 2] << 16 |
               (size_t)p[*pos + 3] << 24;
    if (len - *pos - 4 < n)
        return -EINVAL;
    *text = (const char *)p + *pos + 4;
    *text_len = n;
    *pos += 4 + n;
    return 1;
}

long texts_count(const void *payload, size_t len) {
    size_t pos = 0, n;
    const char *t;
    long count = 0;
    int rc;
    while ((rc = texts_next(payload, len, &pos, &t, &n)) == 1)
        count++;
    return rc < 0 ? -EINVAL : count;
}
