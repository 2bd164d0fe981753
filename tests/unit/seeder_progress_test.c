/*
 * Tests of seeder/progress, written to a memory stream: megabytes at the
 * precision their size calls for; plain lines (not a terminal) only once an
 * interval has passed, so that a short phase prints nothing, then with
 * every fact; the bar on a terminal, redrawn in place at most every 100 ms,
 * full at the end and never past it, erased by progress_finish; nothing
 * after the finish until the next phase.  The estimate of time left: from
 * the byte rate (or the file rate when bytes are unknown) measured from the
 * first update that carries work, in seconds, minutes or hours, "?" beyond
 * a hundred hours.  Time is the clock's: tests that need some of it to pass
 * wait for the clock, and check the estimate against the bounds the clock
 * readings around each call allow.
 */
#include "proto/base/clock.h"
#include "seeder/progress.h"
#include "tests/test.h"

#include <time.h>

/* ---- a memory stream to draw on ---- */

static char *text;
static size_t text_len;
static FILE *out;

static bool out_open(void) {
    free(text);
    text = NULL;
    text_len = 0;
    out = open_memstream(&text, &text_len);
    return out != NULL;
}

/* What was written so far ("" when nothing). */
static const char *written(void) {
    fflush(out);
    return text ? text : "";
}

static void out_close(void) {
    if (out)
        fclose(out);
    out = NULL;
    free(text);
    text = NULL;
}

/* Waits until the clock reads at least ms past since. */
static void wait_past(int64_t since, int ms) {
    struct timespec nap = {0, 1000000L};
    while (clock_ms() < since + ms)
        nanosleep(&nap, NULL);
}

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The seconds a "... about <eta> left" line says are left, and its form:
 * 's' ("42s"), 'm' ("3m20s"), 'h' ("5h33m"; to the minute); -1 for "?",
 * -2 when unreadable. */
static double eta_said(const char *line, char *form) {
    const char *at = strstr(line, "about ");
    *form = 0;
    if (!at)
        return -2;
    at += strlen("about ");
    if (*at == '?')
        return -1;
    int a = 0, b = 0;
    char u1 = 0, u2 = 0;
    int n = sscanf(at, "%d%c%d%c", &a, &u1, &b, &u2);
    if (n == 4 && u1 == 'h' && u2 == 'm') {
        *form = 'h';
        return a * 3600.0 + b * 60.0;
    }
    if (n == 4 && u1 == 'm' && u2 == 's') {
        *form = 'm';
        return a * 60.0 + b;
    }
    if (n >= 2 && u1 == 's') {
        *form = 's';
        return a;
    }
    return -2;
}

/* ---- tests ---- */

TEST(megabytes_at_the_precision_their_size_calls_for) {
    char buf[32];
    static const struct {
        uint64_t bytes;
        const char *want;
    } cases[] = {
        {0, "0.00 MB"},          {1234567, "1.23 MB"},           {9990000, "9.99 MB"},
        {10000000, "10.0 MB"},   {123456789, "123.5 MB"},        {999900000, "999.9 MB"},
        {1000000000, "1000 MB"}, {123456789012ull, "123457 MB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        progress_format_bytes(cases[i].bytes, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want);
    }
    /* A short buffer gets what fits, terminated. */
    memset(buf, 'x', sizeof buf);
    progress_format_bytes(5000000, buf, 4);
    CHECK_STR(buf, "5.0");
}

TEST(a_plain_line_comes_after_an_interval_and_says_everything) {
    REQUIRE(out_open());
    progress_t *p = progress_new(out, false, 100);
    REQUIRE(p);
    progress_begin(p, "indexing", 10, 2000000);
    int64_t began = clock_ms();
    progress_update(p, 1, 100000);
    CHECK_STR(written(), ""); /* not yet: one interval after the phase began */
    wait_past(began, 101);
    int64_t before = clock_ms();
    progress_update(p, 5, 1000000);
    const char *line = written();
    CHECK(starts(line, "indexing: 5/10 files, 1.00 MB of 2.00 MB, "));
    CHECK(strstr(line, " MB/s, about ") != NULL);
    CHECK(ends(line, " left\n"));
    CHECK(strchr(line, '\r') == NULL && strchr(line, '\033') == NULL);
    /* The next one waits an interval again (when the clock says that less
     * than one has passed, as it does unless this process stalled). */
    size_t len = strlen(line);
    progress_update(p, 6, 1200000);
    if (clock_ms() - before < 100)
        CHECK_INT(strlen(written()), ==, len);
    progress_finish(p);
    CHECK_INT(strlen(written()), ==, len); /* nothing to erase on a log */
    progress_destroy(&p);
    CHECK(p == NULL);
    out_close();
}

TEST(a_short_phase_prints_nothing_and_nothing_comes_after_the_finish) {
    REQUIRE(out_open());
    progress_t *p = progress_new(out, false, 0); /* 0: every 2 s */
    REQUIRE(p);
    progress_begin(p, "checking", 3, 0);
    for (uint64_t i = 1; i <= 3; i++)
        progress_update(p, i, 0);
    progress_finish(p);
    progress_finish(p);
    progress_update(p, 3, 0);
    CHECK_STR(written(), "");
    progress_finish(NULL);
    progress_destroy(&p);
    progress_destroy(&p);
    progress_destroy(NULL);
    out_close();
}

TEST(the_bar_is_redrawn_in_place_and_erased_at_the_finish) {
    REQUIRE(out_open());
    progress_t *p = progress_new(out, true, 5000); /* a terminal: 100 ms, whatever is asked */
    REQUIRE(p);
    progress_begin(p, "checking", 4, 0);
    int64_t before = clock_ms();
    progress_update(p, 1, 0); /* at once on a terminal */
    const char *bar = written();
    CHECK(starts(bar, "\rchecking [######..................] 1/4 files  0.00 MB/0.00 MB  "));
    CHECK(strstr(bar, " MB/s  ETA ") != NULL);
    CHECK(ends(bar, "\033[K"));
    CHECK(strchr(bar, '\n') == NULL);
    size_t len = strlen(bar);
    progress_update(p, 2, 0); /* within 100 ms: not drawn */
    if (clock_ms() - before < 100)
        CHECK_INT(strlen(written()), ==, len);
    wait_past(clock_ms(), 101);
    progress_update(p, 4, 0);
    const char *now = written() + len;
    CHECK(starts(now, "\rchecking [########################] 4/4 files"));
    len = strlen(written());
    progress_finish(p);
    CHECK_STR(written() + len, "\r\033[K");
    progress_finish(p);
    progress_update(p, 4, 0);
    CHECK_INT(strlen(written()), ==, len + 4);

    /* The next phase draws again; bytes decide the bar when known, and it
     * never runs past full; a long label is cut. */
    len = strlen(written());
    progress_begin(p, "a label longer than thirty-one bytes", 2, 100);
    progress_update(p, 1, 500);
    now = written() + len;
    CHECK(starts(now, "\ra label longer than thirty-one  [########################] 1/2 files"));
    progress_destroy(&p);
    out_close();
}

/* One phase of total bytes (or files, when total_bytes is 0): a first
 * update with a little work, then some milliseconds later one with more;
 * checks that the line's estimate is what the rate since the first work
 * gives, within the clock's bounds, at the precision printed. */
static void check_eta(uint64_t total_files, uint64_t total_bytes, uint64_t files0, uint64_t bytes0,
                      uint64_t files1, uint64_t bytes1, int wait_ms, char form) {
    if (!out_open())
        return;
    progress_t *p = progress_new(out, false, 1);
    if (!p) {
        CHECK(p != NULL);
        out_close();
        return;
    }
    progress_begin(p, "x", total_files, total_bytes);
    int64_t a0 = clock_ms();
    progress_update(p, files0, bytes0);
    int64_t a1 = clock_ms();
    wait_past(a1, wait_ms);
    size_t len = strlen(written());
    int64_t b0 = clock_ms();
    progress_update(p, files1, bytes1);
    int64_t b1 = clock_ms();
    const char *line = written() + len;
    double lo_s = (double)(b0 - a1) / 1000.0, hi_s = (double)(b1 - a0) / 1000.0;
    double lo, hi;
    if (total_bytes) { /* left bytes / (bytes since / seconds since) */
        double per_s = (double)(total_bytes - bytes1) / (double)(bytes1 - bytes0);
        lo = per_s * lo_s, hi = per_s * hi_s;
    } else {
        double per_s = (double)(total_files - files1) / (double)(files1 - files0);
        lo = per_s * lo_s, hi = per_s * hi_s;
    }
    char said_form;
    double said = eta_said(line, &said_form), unit = said_form == 'h' ? 60 : 1;
    bool ok = said >= 0 && said + unit >= lo - 0.5 && said - unit <= hi + 0.5 && said_form == form;
    if (!ok)
        fprintf(stderr, "  \"%s\": said %.0f s, want %.1f to %.1f s in the form %c\n", line, said,
                lo, hi, form);
    CHECK(ok);
    progress_destroy(&p);
    out_close();
}

TEST(the_estimate_left_in_seconds_minutes_and_hours) {
    /* 1000 bytes in t seconds (20 ms or more) and 30000 left: 30 t,
     * seconds for any t below 2 s. */
    check_eta(0, 32000, 0, 1000, 0, 2000, 20, 's');
    /* 3500 t: minutes for t below 1 s. */
    check_eta(0, 3502000, 0, 1000, 0, 2000, 20, 'm');
    /* 200000 t: hours and minutes for t below 1.8 s. */
    check_eta(0, 200002000, 0, 1000, 0, 2000, 20, 'h');
    /* Bytes unknown: the file rate, one file in t and 18 left. */
    check_eta(20, 0, 1, 0, 2, 0, 20, 's');
}

TEST(an_estimate_past_a_hundred_hours_or_of_nothing_is_a_question_mark) {
    REQUIRE(out_open());
    progress_t *p = progress_new(out, false, 1);
    REQUIRE(p);
    char form;
    progress_begin(p, "x", 0, 1000000000000ull); /* 1e9 t seconds */
    progress_update(p, 0, 1000);
    int64_t first = clock_ms();
    wait_past(first, 20);
    progress_update(p, 0, 2000);
    CHECK_INT(eta_said(written(), &form), ==, -1);
    /* No totals, no work: nothing to go on. */
    progress_begin(p, "y", 0, 0);
    size_t len = strlen(written());
    wait_past(clock_ms(), 2);
    progress_update(p, 0, 0);
    CHECK_STR(written() + len, "y: 0/0 files, 0.00 MB of 0.00 MB, 0.00 MB/s, about ? left\n");
    /* More done than there was to do: no estimate rather than a wrong one. */
    progress_begin(p, "z", 0, 100);
    progress_update(p, 0, 10);
    wait_past(clock_ms(), 2);
    len = strlen(written());
    progress_update(p, 0, 500);
    CHECK_INT(eta_said(written() + len, &form), ==, -1);
    progress_destroy(&p);
    out_close();
}

/* The wait before the first work (the embedder loading its model) is no
 * part of the rate: 1000 bytes done 20 ms after the first work, after
 * 300 ms of nothing, leave 998 * 20 ms, not 998 * 320 ms. */
TEST(time_before_the_first_work_does_not_slow_the_estimate) {
    REQUIRE(out_open());
    progress_t *p = progress_new(out, false, 1);
    REQUIRE(p);
    int64_t began = clock_ms();
    progress_begin(p, "indexing", 0, 1000000);
    progress_update(p, 0, 0);
    wait_past(began, 300);
    int64_t a0 = clock_ms();
    progress_update(p, 0, 1000);
    int64_t a1 = clock_ms();
    wait_past(a1, 20);
    size_t len = strlen(written());
    int64_t b0 = clock_ms();
    progress_update(p, 0, 2000);
    int64_t b1 = clock_ms();
    char form;
    double said = eta_said(written() + len, &form);
    double hi = 998.0 * (double)(b1 - a0) / 1000.0;
    if (!(said >= 0 && said <= hi + 1))
        fprintf(stderr, "  \"%s\": want at most %.1f s (the first work %lld ms after the start)\n",
                written() + len, hi, (long long)(a0 - began));
    CHECK(said >= 0 && said <= hi + 1);
    CHECK(said + 1 >= 998.0 * (double)(b0 - a1) / 1000.0 - 0.5);
    progress_destroy(&p);
    out_close();
}

TEST_MAIN(TEST_CASE(megabytes_at_the_precision_their_size_calls_for),
          TEST_CASE(a_plain_line_comes_after_an_interval_and_says_everything),
          TEST_CASE(a_short_phase_prints_nothing_and_nothing_comes_after_the_finish),
          TEST_CASE(the_bar_is_redrawn_in_place_and_erased_at_the_finish),
          TEST_CASE(the_estimate_left_in_seconds_minutes_and_hours),
          TEST_CASE(an_estimate_past_a_hundred_hours_or_of_nothing_is_a_question_mark),
          TEST_CASE(time_before_the_first_work_does_not_slow_the_estimate))
