/*
 * Tests of proto/ollama/url: OLLAMA_HOST-style settings read the way
 * Ollama's own client reads them.  The scheme and its default port, a port
 * of the setting's own, the wildcard bind addresses, IPv6 with and without
 * brackets, a reverse proxy's path, the spaces and quotes a setting copied
 * from a shell line carries, and the settings refused (another scheme, a
 * bad port, an unclosed bracket, a byte no host name or proxy path has)
 * with nothing left in *url.
 */
#include "proto/ollama/url.h"
#include "tests/test.h"

#include <errno.h>

static void check_url(const char *host, const char *want) {
    char *url = NULL;
    int rc = ollama_url_from_host(host, &url);
    if (rc != 0 || !url || strcmp(url, want) != 0)
        fprintf(stderr, "  host \"%s\": rc %d, \"%s\", want \"%s\"\n", host ? host : "(null)", rc,
                url ? url : "", want);
    CHECK(rc == 0 && url && strcmp(url, want) == 0);
    free(url);
}

static void check_refused(const char *host) {
    char *url = (char *)"unchanged";
    int rc = ollama_url_from_host(host, &url);
    if (rc != -EINVAL)
        fprintf(stderr, "  host \"%s\": rc %d, \"%s\", want -EINVAL\n", host, rc,
                rc == 0 && url ? url : "");
    CHECK_INT(rc, ==, -EINVAL);
    CHECK(url == NULL);
    if (rc == 0)
        free(url);
}

TEST(hosts_read_like_ollama) {
    check_url(NULL, "http://127.0.0.1:11434");
    check_url("", "http://127.0.0.1:11434");
    check_url("gpu-box", "http://gpu-box:11434");
    check_url("gpu-box:8080", "http://gpu-box:8080");
    check_url("10.0.0.7:11434", "http://10.0.0.7:11434");
    check_url("http://gpu-box", "http://gpu-box:80");
    check_url("https://ollama.example.org", "https://ollama.example.org:443");
    check_url("https://ollama.example.org/proxy/", "https://ollama.example.org:443/proxy");
    check_url("http://127.0.0.1:11434/", "http://127.0.0.1:11434");
    check_url(" \"http://h:1\" ", "http://h:1");
    check_url("0.0.0.0", "http://127.0.0.1:11434");
    check_url("0.0.0.0:9999", "http://127.0.0.1:9999");
    check_url("[::]:11434", "http://[::1]:11434");
    check_url("[::1]", "http://[::1]:11434");
    check_url("::1", "http://[::1]:11434");
    check_url("[fe80::1]:8000", "http://[fe80::1]:8000");
    check_url(":7000", "http://127.0.0.1:7000");
}

TEST(bad_hosts_are_refused) {
    static const char *bad[] = {"ftp://h", "h:port", "h:99999", "[::1", "[::1]x", "h:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_refused(bad[i]);
}

TEST(the_scheme_decides_the_default_port_whatever_its_case) {
    check_url("HTTP://h", "http://h:80");
    check_url("Https://h", "https://h:443");
    check_url("https://h:11434", "https://h:11434");
    check_url("http://h:65535", "http://h:65535");
    /* Only http and https; "://" alone is an empty scheme. */
    check_refused("gopher://h");
    check_refused("httpx://h");
    check_refused("://h");
    check_refused("https://h:65536");
    check_refused("h:123456");
    check_refused("h:-1");
    check_refused("h:+80");
    check_refused("h: 80");
}

TEST(the_wildcard_addresses_mean_this_machine) {
    check_url("http://0.0.0.0:80", "http://127.0.0.1:80");
    check_url("https://0.0.0.0", "https://127.0.0.1:443");
    check_url("[::]", "http://[::1]:11434");
    check_url("::", "http://[::1]:11434");
    /* Only those exactly: a name that starts alike is a name. */
    check_url("0.0.0.01", "http://0.0.0.01:11434");
    check_url("[::2]", "http://[::2]:11434");
    /* An empty name is this machine too, with the scheme's port. */
    check_url("https://:8080/x", "https://127.0.0.1:8080/x");
    check_url("http://:80", "http://127.0.0.1:80");
    /* A scheme and nothing after: its slashes go as trailing ones, and
     * "http:" is a name with an empty port. */
    check_refused("http://");
}

TEST(ipv6_addresses_get_their_brackets) {
    check_url("2001:db8::7", "http://[2001:db8::7]:11434");
    check_url("[2001:db8::7]:443", "http://[2001:db8::7]:443");
    check_url("https://[2001:db8::7]/ollama/", "https://[2001:db8::7]:443/ollama");
    check_url("[2001:db8::7]/p", "http://[2001:db8::7]:11434/p");
    check_refused("[2001:db8::7]:");
    check_refused("[2001:db8::7]:http");
    check_refused("[2001:db8::7]8000");
}

TEST(a_path_is_kept_without_trailing_slashes) {
    check_url("h/a/b", "http://h:11434/a/b");
    check_url("h:1/a/b///", "http://h:1/a/b");
    check_url("http://h:1//", "http://h:1");
    check_url("h/", "http://h:11434");
    check_url("/", "http://127.0.0.1:11434");
    check_url("/prefix", "http://127.0.0.1:11434/prefix");
}

TEST(spaces_and_quotes_around_a_setting_are_dropped) {
    check_url("\t'gpu:1'\r\n", "http://gpu:1");
    check_url("   ", "http://127.0.0.1:11434");
    check_url("\"\"", "http://127.0.0.1:11434");
    check_url("''", "http://127.0.0.1:11434");
    check_url("\" https://h \"", "https://h:443");
}

/* A host name that is no host name would make the URL name another host,
 * another port or none ("h#x:1" is host h on port 80 with a fragment);
 * and the API's paths are appended to a proxy's path. */
TEST(bytes_no_host_name_has_are_refused) {
    static const char *const bad[] = {
        "gpu box",    "evil.example#@127.0.0.1",
        "user@gpu:1", "gpu?x",
        "gpu#x:1",    "gpu\x01",
        "gpu\x7f:1",  "[::1 ]:80",
        "[::1]x]",    "\\\\gpu",
        "gpu/a b",    "gpu/p?x",
        "gpu/p#x",    "gpu/p\x02q",
        "gpu/a\\b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_refused(bad[i]);
    /* What host names and proxy paths do hold still goes. */
    check_url("ollama_gpu:11434", "http://ollama_gpu:11434");
    check_url("m\xc3\xbcnchen.example", "http://m\xc3\xbcnchen.example:11434");
    check_url("[fe80::1%eth0]:80", "http://[fe80::1%eth0]:80");
    check_url("https://h/v1-api/x_y.z~%7E", "https://h:443/v1-api/x_y.z~%7E");
}

TEST_MAIN(TEST_CASE(hosts_read_like_ollama), TEST_CASE(bad_hosts_are_refused),
          TEST_CASE(the_scheme_decides_the_default_port_whatever_its_case),
          TEST_CASE(the_wildcard_addresses_mean_this_machine),
          TEST_CASE(ipv6_addresses_get_their_brackets),
          TEST_CASE(a_path_is_kept_without_trailing_slashes),
          TEST_CASE(spaces_and_quotes_around_a_setting_are_dropped),
          TEST_CASE(bytes_no_host_name_has_are_refused))
