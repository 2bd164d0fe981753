/*
 * proto/base/json: the strict UTF-8 and JSON checks that every body, wire header
 * and stored file goes through before cJSON sees it.
 *
 * Invariants: utf8_valid() agrees with a reference written straight from
 * Unicode's table of well-formed byte sequences; a text json_check() accepts
 * is valid UTF-8 and cJSON parses it (gateway/api.c relies on that: it
 * answers "out of memory" if cJSON then fails), an accepted object is also
 * an accepted value, and cJSON's printout of it is accepted again; the
 * values json_check_bounded() counts are exactly the nodes cJSON makes (so
 * a limit on one is a limit on the other); a string buf_append_json_string()
 * writes is accepted and parses back to its bytes.
 */
#include "proto/base/buf.h"
#include "proto/base/json.h"
#include "tests/fuzz/fuzz.h"

#include <cJSON.h>
#include <errno.h>

/* Unicode 15, table 3-7: the well-formed UTF-8 byte sequences. */
static bool utf8_reference(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i], lo = 0x80, hi = 0xbf;
        size_t more;
        if (c <= 0x7f) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c == 0xe0) {
            more = 2, lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            more = 2;
        } else if (c == 0xed) {
            more = 2, hi = 0x9f;
        } else if (c == 0xf0) {
            more = 3, lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            more = 3;
        } else if (c == 0xf4) {
            more = 3, hi = 0x8f;
        } else {
            return false;
        }
        if (n - i <= more || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= more; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += more + 1;
    }
    return true;
}

/* The nodes of a cJSON tree. */
static size_t nodes(const cJSON *item) {
    size_t n = 1;
    for (const cJSON *child = item->child; child; child = child->next)
        n += nodes(child);
    return n;
}

static void check_reason(const char *why, size_t cap) {
    FUZZ_ASSERT(memchr(why, '\0', cap) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    bool valid = utf8_valid(text, size);
    FUZZ_ASSERT(valid == utf8_reference(data, size));

    char why[96] = "", tiny[5] = "";
    int any = json_check(text, size, false, why, sizeof why);
    int object = json_check(text, size, true, tiny, sizeof tiny);
    FUZZ_ASSERT(any == 0 || any == -EINVAL);
    FUZZ_ASSERT(object == 0 || object == -EINVAL);
    check_reason(why, sizeof why);
    check_reason(tiny, sizeof tiny);
    FUZZ_ASSERT(any != 0 || why[0] == '\0');
    FUZZ_ASSERT(any == 0 || why[0] != '\0');
    if (object == 0)
        FUZZ_ASSERT(any == 0);

    if (any == 0) {
        FUZZ_ASSERT(valid);
        cJSON *json = cJSON_ParseWithLength(text, size);
        if (!json)
            fprintf(stderr, "fuzz: json_check accepted what cJSON refuses: %.*s\n",
                    (int)(size < 200 ? size : 200), text);
        FUZZ_ASSERT(json != NULL);
        FUZZ_ASSERT(object != 0 || cJSON_IsObject(json));
        size_t n = nodes(json);
        FUZZ_ASSERT(json_check_bounded(text, size, false, n, NULL, 0) == 0);
        FUZZ_ASSERT(n < 2 || json_check_bounded(text, size, false, n - 1, NULL, 0) == -E2BIG);
        char *printed = cJSON_PrintUnformatted(json);
        FUZZ_ASSERT(printed != NULL);
        FUZZ_ASSERT(json_check(printed, strlen(printed), false, NULL, 0) == 0);
        free(printed);
        cJSON_Delete(json);
    }

    /* The encoder side: any valid UTF-8 (without NUL, which C strings cannot
     * carry through cJSON) comes back from a JSON string unchanged. */
    buf_t b = BUF_INIT;
    FUZZ_ASSERT(buf_append_json_string(&b, text, size) == 0);
    FUZZ_ASSERT(b.len >= size + 2);
    FUZZ_ASSERT(json_check(b.data, b.len, false, NULL, 0) == (valid ? 0 : -EINVAL));
    if (valid && !memchr(text, '\0', size)) {
        cJSON *s = cJSON_ParseWithLength(b.data, b.len);
        FUZZ_ASSERT(cJSON_IsString(s));
        FUZZ_ASSERT(strlen(s->valuestring) == size && memcmp(s->valuestring, text, size) == 0);
        cJSON_Delete(s);
    }
    buf_free(&b);
    return 0;
}
