/* Project module paths from tsconfig.json / jsconfig.json: comments,
 * trailing commas, extends, baseUrl, and TypeScript's choice of pattern. */
#include "proto/code/tsconfig.h"
#include "tests/fixture.h"
#include "tests/test.h"

static char root[64]; /* made by the first test */

static void write_file(const char *rel, const char *text) {
    CHECK_INT(fixture_write_text(root, rel, text), ==, 0);
}

/* Collects every candidate tsconfig_resolve() offers, accepting none. */
typedef struct {
    char seen[512];
    const char *accept; /* the candidate to accept, or NULL */
} tries_t;

static bool try_path(const char *path, void *arg) {
    tries_t *t = arg;
    size_t n = strlen(t->seen);
    snprintf(t->seen + n, sizeof t->seen - n, "%s%s", n ? " " : "", path);
    return t->accept && strcmp(t->accept, path) == 0;
}

static const char *tries(const tsconfig_t *config, const char *spec, const char *accept) {
    static tries_t t;
    memset(&t, 0, sizeof t);
    t.accept = accept;
    bool found = tsconfig_resolve(config, spec, try_path, &t);
    CHECK(found == (accept != NULL));
    return t.seen;
}

TEST(paths_with_comments_trailing_commas_and_extends) {
    REQUIRE(fixture_tmpdir(root, sizeof root, "tsconfig"));
    write_file("web/tsconfig.base.json", "{\n"
                                         "  // shared by every package\n"
                                         "  \"compilerOptions\": {\n"
                                         "    \"baseUrl\": \"./src\", /* relative to this file */\n"
                                         "    \"paths\": {\n"
                                         "      \"@app/*\": [\"app/*\", \"legacy/app/*\",],\n"
                                         "      \"@app/core/*\": [\"core/*\"],\n"
                                         "      \"config\": [\"settings/index\"],\n"
                                         "    },\n"
                                         "  },\n"
                                         "}\n");
    write_file("web/client/tsconfig.json", "{ \"extends\": \"../tsconfig.base\" }");
    tsconfig_t *config = tsconfig_read(root, "web/client/tsconfig.json");
    REQUIRE(config != NULL);
    CHECK_STR(tsconfig_dir(config), "web/client");
    /* Targets in order, then baseUrl/specifier. */
    CHECK_STR(tries(config, "@app/db", NULL),
              "web/src/app/db web/src/legacy/app/db web/src/@app/db");
    CHECK_STR(tries(config, "@app/db", "web/src/legacy/app/db"),
              "web/src/app/db web/src/legacy/app/db");
    /* The longest prefix wins; an exact pattern beats wildcards. */
    CHECK_STR(tries(config, "@app/core/log", NULL), "web/src/core/log web/src/@app/core/log");
    CHECK_STR(tries(config, "config", NULL), "web/src/settings/index web/src/config");
    /* No pattern: baseUrl alone. */
    CHECK_STR(tries(config, "components/Button", "web/src/components/Button"),
              "web/src/components/Button");
    tsconfig_destroy(&config);
    CHECK(config == NULL);
    tsconfig_destroy(&config); /* NULL is fine */
}

TEST(paths_without_base_url_are_relative_to_their_config) {
    write_file("svc/jsconfig.json", "{\"compilerOptions\": {\"paths\": {\"~/*\": [\"./lib/*\"]}}}");
    tsconfig_t *config = tsconfig_read(root, "svc/jsconfig.json");
    REQUIRE(config != NULL);
    CHECK_STR(tries(config, "~/db/pool", NULL), "svc/lib/db/pool");
    CHECK_STR(tries(config, "lodash", NULL), ""); /* a package: nothing to try */
    tsconfig_destroy(&config);
}

TEST(configs_that_declare_nothing_or_cannot_be_read) {
    write_file("empty/tsconfig.json", "{\"compilerOptions\": {\"strict\": true}}");
    write_file("broken/tsconfig.json", "{\"compilerOptions\": {\"baseUrl\": ");
    write_file("outside/tsconfig.json", "{\"extends\": \"../../../etc/tsconfig.json\"}");
    write_file("package/tsconfig.json", "{\"extends\": \"@tsconfig/node20/tsconfig.json\"}");
    CHECK(tsconfig_read(root, "empty/tsconfig.json") == NULL);
    CHECK(tsconfig_read(root, "broken/tsconfig.json") == NULL);
    CHECK(tsconfig_read(root, "outside/tsconfig.json") == NULL);
    CHECK(tsconfig_read(root, "package/tsconfig.json") == NULL);
    CHECK(tsconfig_read(root, "missing/tsconfig.json") == NULL);
    /* A config that extends itself stops at the depth limit. */
    write_file("loop/tsconfig.json",
               "{\"extends\": \"./tsconfig.json\", \"compilerOptions\": {\"baseUrl\": \".\"}}");
    tsconfig_t *config = tsconfig_read(root, "loop/tsconfig.json");
    REQUIRE(config != NULL);
    CHECK_STR(tries(config, "x", NULL), "loop/x");
    tsconfig_destroy(&config);
    fixture_remove_tree(root);
    CHECK(access(root, F_OK) != 0);
}

TEST_MAIN(TEST_CASE(paths_with_comments_trailing_commas_and_extends),
          TEST_CASE(paths_without_base_url_are_relative_to_their_config),
          TEST_CASE(configs_that_declare_nothing_or_cannot_be_read))
