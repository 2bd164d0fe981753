/* Log lines: their form, and the LCA_LOG threshold. */
#include "proto/base/log.h"
#include "tests/test.h"

#include <fcntl.h>

/* Runs the log calls of `body` with stderr sent to a file; returns what was written. */
static const char *captured(void (*body)(void)) {
    static char out[1024];
    char path[] = "/tmp/lca-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        CHECK(fd >= 0);
        return "";
    }
    int saved = dup(2);
    dup2(fd, 2);
    body();
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return out;
}

static void info_and_debug(void) {
    log_info("listening on %s", "127.0.0.1:1");
    log_debug("not shown at info");
}

static void warn_only(void) {
    log_info("below the threshold");
    log_warn("shown");
}

TEST(lines_have_time_level_process_and_message) {
    unsetenv("LCA_LOG");
    log_init("tester");
    CHECK(log_enabled(LOG_LEVEL_INFO) && !log_enabled(LOG_LEVEL_DEBUG));
    const char *out = captured(info_and_debug);
    /* 2026-11-26T15:26:39.123Z info tester: listening on 127.0.0.1:1 */
    CHECK(strlen(out) > 25 && out[4] == '-' && out[10] == 'T' && out[23] == 'Z');
    CHECK(strstr(out, "Z info tester: listening on 127.0.0.1:1\n") != NULL);
    CHECK(strstr(out, "not shown") == NULL);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
}

TEST(threshold_from_lca_log) {
    setenv("LCA_LOG", "warn", 1);
    log_init("tester");
    CHECK(!log_enabled(LOG_LEVEL_INFO) && log_enabled(LOG_LEVEL_WARN) &&
          log_enabled(LOG_LEVEL_ERROR));
    const char *out = captured(warn_only);
    CHECK(strstr(out, "below") == NULL);
    CHECK(strstr(out, " warn tester: shown\n") != NULL);
    setenv("LCA_LOG", "debug", 1);
    log_init("tester");
    CHECK(log_enabled(LOG_LEVEL_DEBUG));
    unsetenv("LCA_LOG");
}

TEST_MAIN(TEST_CASE(lines_have_time_level_process_and_message), TEST_CASE(threshold_from_lca_log))
