/*
 * Tests of gateway/guard: which Host and Origin values the gateway serves
 * without an API key.
 */
#include "gateway/guard.h"
#include "tests/test.h"

static bool host_ok(const guard_t *g, const char *host) {
    return guard_host_allowed(g, host, strlen(host));
}

static bool origin_ok(const guard_t *g, const char *origin, const char *host) {
    return guard_origin_allowed(g, origin, strlen(origin), host, strlen(host));
}

TEST(loopback_names_and_addresses_are_this_machine) {
    guard_t g;
    guard_init(&g, "127.0.0.1", NULL, NULL);
    CHECK(host_ok(&g, "127.0.0.1:11435"));
    CHECK(host_ok(&g, "127.0.0.1"));
    CHECK(host_ok(&g, "localhost:11435"));
    CHECK(host_ok(&g, "LOCALHOST"));
    CHECK(host_ok(&g, "localhost."));
    CHECK(host_ok(&g, "ide.localhost:8080"));
    CHECK(host_ok(&g, "[::1]:11435"));
    CHECK(host_ok(&g, "[::1]"));
    /* Any address literal: a rebinding attacker has only names. */
    CHECK(host_ok(&g, "192.168.1.20:11435"));
    CHECK(host_ok(&g, "[fe80::1]:11435"));
}

TEST(other_names_are_strangers) {
    guard_t g;
    guard_init(&g, "127.0.0.1", NULL, NULL);
    CHECK(!host_ok(&g, "attacker.example"));
    CHECK(!host_ok(&g, "attacker.example:11435"));
    CHECK(!host_ok(&g, "localhost.attacker.example"));
    CHECK(!host_ok(&g, "127.0.0.1.attacker.example"));
    CHECK(!host_ok(&g, "notlocalhost"));
    CHECK(!host_ok(&g, ""));
    CHECK(!host_ok(&g, ":11435"));
    CHECK(!host_ok(&g, "[::1"));
    CHECK(!host_ok(&g, "[::1]x"));
    CHECK(!host_ok(&g, "user@localhost"));
    CHECK(!host_ok(&g, "local host"));
    char nul[] = "localhost\0.evil";
    CHECK(!guard_host_allowed(&g, nul, sizeof nul - 1));
}

TEST(listen_address_hostname_and_listed_hosts) {
    guard_t g;
    guard_init(&g, "laptop.lan", "build-box, *.corp.example", NULL);
    CHECK(host_ok(&g, "laptop.lan:11435"));
    CHECK(host_ok(&g, "LAPTOP.LAN"));
    CHECK(host_ok(&g, "build-box"));
    CHECK(host_ok(&g, "gpu1.corp.example:11435"));
    CHECK(!host_ok(&g, "corp.example.attacker.example"));
    if (g.hostname[0])
        CHECK(host_ok(&g, g.hostname));
}

TEST(origins_of_local_apps_and_webviews) {
    guard_t g;
    guard_init(&g, "127.0.0.1", NULL, NULL);
    const char *host = "127.0.0.1:11435";
    CHECK(origin_ok(&g, "http://localhost", host));
    CHECK(origin_ok(&g, "http://localhost:3000", host));
    CHECK(origin_ok(&g, "https://127.0.0.1:8443", host));
    CHECK(origin_ok(&g, "http://0.0.0.0:5173", host));
    CHECK(origin_ok(&g, "vscode-webview://1abc2def", host));
    CHECK(origin_ok(&g, "vscode-file://vscode-app", host));
    CHECK(origin_ok(&g, "app://obsidian.md", host));
    CHECK(origin_ok(&g, "tauri://localhost", host));
    CHECK(origin_ok(&g, "file://", host));
    /* pages of this machine on any port, as Ollama allows */
    CHECK(origin_ok(&g, "http://127.0.0.1:11436", host));
    /* the gateway's own pages */
    CHECK(origin_ok(&g, "http://127.0.0.1:11435", host));
    CHECK(origin_ok(&g, "http://LOCALHOST:11435", "localhost:11435"));
}

TEST(origins_of_other_sites_are_strangers) {
    guard_t g;
    guard_init(&g, "127.0.0.1", NULL, NULL);
    const char *host = "127.0.0.1:11435";
    CHECK(!origin_ok(&g, "http://attacker.example", host));
    CHECK(!origin_ok(&g, "https://localhost.attacker.example", host));
    CHECK(!origin_ok(&g, "http://localhost.attacker.example:3000", host));
    CHECK(!origin_ok(&g, "null", host));
    CHECK(!origin_ok(&g, "chrome-extension://abcdef", host));
    CHECK(!origin_ok(&g, "http://127.0.0.2:11435", host));
    CHECK(!origin_ok(&g, "https://127.0.0.1.attacker.example", host));
}

TEST(listed_origin_patterns) {
    guard_t g;
    guard_init(&g, "127.0.0.1", NULL, " https://*.example.com ,chrome-extension://abcdef");
    const char *host = "127.0.0.1:11435";
    CHECK(origin_ok(&g, "https://ide.example.com", host));
    CHECK(origin_ok(&g, "chrome-extension://abcdef", host));
    CHECK(!origin_ok(&g, "chrome-extension://other", host));
    CHECK(!origin_ok(&g, "http://ide.example.com", host));
    guard_t all;
    guard_init(&all, "127.0.0.1", NULL, "*");
    CHECK(origin_ok(&all, "http://anything.example", host));
    CHECK(origin_ok(&all, "null", host));
}

TEST(pattern_matching) {
    CHECK(guard_match("*", "", 0));
    CHECK(guard_match("a*c", "abbbc", 5));
    CHECK(guard_match("a*c", "ac", 2));
    CHECK(!guard_match("a*c", "acb", 3));
    CHECK(guard_match("*b*", "aaabaaa", 7));
    CHECK(guard_match("A*", "abc", 3));
    CHECK(!guard_match("abc", "ab", 2));
    CHECK(!guard_match("ab", "abc", 3));
    CHECK(guard_match("a**b", "ab", 2));
}

TEST(too_many_patterns_are_cut_not_overflowed) {
    char list[8192];
    size_t n = 0;
    for (int i = 0; i < 500 && n + 64 < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "https://site%d.example,", i);
    guard_t g;
    guard_init(&g, "127.0.0.1", list, list);
    CHECK_INT(g.host_count, <=, GUARD_PATTERNS_MAX);
    CHECK(origin_ok(&g, "https://site0.example", "127.0.0.1"));
    CHECK(origin_ok(&g, "vscode-webview://x", "127.0.0.1")); /* defaults still there */
}

TEST_MAIN(TEST_CASE(loopback_names_and_addresses_are_this_machine),
          TEST_CASE(other_names_are_strangers), TEST_CASE(listen_address_hostname_and_listed_hosts),
          TEST_CASE(origins_of_local_apps_and_webviews),
          TEST_CASE(origins_of_other_sites_are_strangers), TEST_CASE(listed_origin_patterns),
          TEST_CASE(pattern_matching), TEST_CASE(too_many_patterns_are_cut_not_overflowed))
