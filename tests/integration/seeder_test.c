/*
 * lca-seeder over the real stack: lca-gateway hosts the broker, lca-embedder
 * embeds with its built-in model, two lca-retriever shards keep a temporary
 * data directory, and the real lca-seeder indexes copies of
 * tests/fixtures/repo.  The test reads the seeder's --json summary and asks
 * the shards themselves (collections, collection.files) what they hold, so
 * every claim of the summary is checked against the store.
 *
 * Covered: a git checkout and a plain directory; counts and content hashes
 * per shard; an unchanged re-seed that embeds nothing; an edit that
 * re-embeds one file; a delete and a rename; --watch applying an edit, a new
 * file, a delete and a rename within two seconds and stopping on SIGINT;
 * bad files (binary, invalid UTF-8, a 10 MB single line, a symlink loop, a
 * dangling symlink, symlinks out of the root, a FIFO) skipped with their
 * reasons; a hostile checkout (an fsmonitor hook in its config, a name that
 * is not UTF-8, a NUL byte 100 kB into a file) that runs nothing; an
 * unreachable broker, a shard without a worker, a model mismatch and
 * --reset.
 *
 *   make build/bin/lca-seeder build/bin/lca-gateway build/bin/lca-embedder \
 *        build/bin/lca-retriever build/tests/integration/seeder_test
 *   build/tests/integration/seeder_test [test names]
 */
#include "proto/client.h"
#include "proto/ops.h"
#include "proto/shard.h"
#include "tests/stack.h"

#include <cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <openssl/evp.h>

#define SHARDS 2

static test_stack_t stack;
static proto_client_t *client;
static bool stack_failed;

/* ---- the stack ---- */

static bool shard_ready(void *arg) {
    int shard = *(int *)arg;
    char service[32], err[128];
    shard_service(shard, service);
    int st;
    return proto_client_call(client, service, "{\"op\":\"ping\"}", NULL, 0, 300, NULL, NULL, NULL,
                             &st, err, sizeof err) == 0;
}

static bool embedder_ready(void *arg) {
    (void)arg;
    char err[128];
    int st;
    return proto_client_call(client, "embed", "{\"op\":\"info\"}", NULL, 0, 300, NULL, NULL, NULL,
                             &st, err, sizeof err) == 0;
}

/* Starts gateway, embedder and two shards once for the whole file. */
static bool stack_up(void) {
    if (client)
        return true;
    if (stack_failed)
        return false;
    stack_failed = true;
    if (!stack_start(&stack, &(stack_options_t){.shards = SHARDS}))
        return false;
    client = stack_client(&stack);
    if (!client)
        return false;
    for (int s = 0; s < SHARDS; s++)
        if (!proc_wait_for(shard_ready, &s, 15000))
            return false;
    if (!proc_wait_for(embedder_ready, NULL, 15000))
        return false;
    stack_failed = false;
    return true;
}

/* ---- running the seeder ---- */

typedef struct {
    int status;  /* exit status, -1 when it did not end in time */
    int64_t ms;  /* wall time */
    cJSON *json; /* the last --json line, or NULL */
    char err[16384];
} seed_t;

static void seed_free(seed_t *r) {
    cJSON_Delete(r->json);
    r->json = NULL;
}

/* Starts lca-seeder DIR --json extra... on the stack's broker with stdout
 * and stderr to files; env entries are added. */
static pid_t seed_start(const char *dir, const char *const *extra, const char *const *env,
                        const char *out_path, const char *err_path) {
    const char *args[32] = {"--json"};
    for (int i = 0; extra && extra[i] && i < 30; i++)
        args[i + 1] = extra[i];
    return stack_seeder_start(&stack, dir, args, env, out_path, err_path);
}

/* The last JSON line of a file. */
static cJSON *last_json(const char *path) {
    static char text[1 << 20];
    size_t n = fixture_read_text(path, text, sizeof text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    char *line = strrchr(text, '\n');
    return cJSON_Parse(line ? line + 1 : text);
}

/* Runs the seeder to its end (at most 30 s). */
static void seed(seed_t *r, const char *dir, const char *const *extra, const char *const *env) {
    memset(r, 0, sizeof *r);
    char *out = stack_path(&stack, "seed.out"), *err = stack_path(&stack, "seed.err");
    int64_t start = proc_now_ms();
    pid_t pid = seed_start(dir, extra, env, out, err);
    r->status = proc_wait_exit(pid, 30000);
    r->ms = proc_now_ms() - start;
    fixture_read_text(err, r->err, sizeof r->err);
    r->json = last_json(out);
    if (r->status != 0)
        fprintf(stderr, "  seeder exited %d:\n%s", r->status, r->err);
}

/* A number from the summary: "chunks" or "files.indexed". */
static long num(const seed_t *r, const char *key) {
    const cJSON *j = r->json;
    char copy[64];
    snprintf(copy, sizeof copy, "%s", key);
    for (char *part = strtok(copy, "."); part && j; part = strtok(NULL, "."))
        j = cJSON_GetObjectItemCaseSensitive(j, part);
    return cJSON_IsNumber(j) ? (long)j->valuedouble : -1;
}

static long skipped(const seed_t *r, const char *reason) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r->json, "skipped");
    const cJSON *c =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, reason), "count");
    return cJSON_IsNumber(c) ? (long)c->valuedouble : 0;
}

/* Whether an example of reason mentions text. */
static bool skip_example(const seed_t *r, const char *reason, const char *text) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r->json, "skipped");
    const cJSON *examples =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, reason), "examples");
    const cJSON *e;
    cJSON_ArrayForEach(e,
                       examples) if (cJSON_IsString(e) && strstr(e->valuestring, text)) return true;
    return false;
}

/* ---- what the shards hold ---- */

typedef struct {
    char path[256];
    char hash[65];
    int shard;
} held_t;

/* Every file of collection on every shard (at most max); -1 on failure. */
static int held_files(const char *collection, held_t *out, int max) {
    int n = 0;
    for (int s = 0; s < SHARDS; s++) {
        char service[32], header[256], err[256];
        shard_service(s, service);
        snprintf(header, sizeof header, "{\"op\":\"collection.files\",\"collection\":\"%s\"}",
                 collection);
        proto_msg_t m;
        int st;
        if (proto_client_call(client, service, header, NULL, 0, 3000, NULL, NULL, &m, &st, err,
                              sizeof err) != 0)
            return -1;
        cJSON *j = cJSON_ParseWithLength(m.payload, m.payload_len);
        proto_msg_close(&m);
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(j, "files")) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(f, "hash");
            if (n < max && cJSON_IsString(p) && cJSON_IsString(h)) {
                snprintf(out[n].path, sizeof out[n].path, "%s", p->valuestring);
                snprintf(out[n].hash, sizeof out[n].hash, "%s", h->valuestring);
                out[n].shard = s;
                n++;
            }
        }
        cJSON_Delete(j);
    }
    return n;
}

static const held_t *held_find(const held_t *files, int n, const char *path) {
    for (int i = 0; i < n; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

/* Files and chunks of collection summed over the shards' `collections`. */
static void held_counts(const char *collection, long *files, long *chunks) {
    *files = *chunks = 0;
    for (int s = 0; s < SHARDS; s++) {
        char service[32], err[256];
        shard_service(s, service);
        proto_msg_t m;
        int st;
        if (proto_client_call(client, service, "{\"op\":\"collections\"}", NULL, 0, 3000, NULL,
                              NULL, &m, &st, err, sizeof err) != 0) {
            *files = *chunks = -1;
            return;
        }
        cJSON *j = cJSON_ParseWithLength(m.payload, m.payload_len);
        proto_msg_close(&m);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "collections")) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
            if (!cJSON_IsString(name) || strcmp(name->valuestring, collection) != 0)
                continue;
            *files += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "files"));
            *chunks += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "chunks"));
        }
        cJSON_Delete(j);
    }
}

static void sha256_file(const char *path, char hex[65]) {
    static char data[1 << 21];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(data, 1, sizeof data, f) : 0;
    if (f)
        fclose(f);
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
}

/* Every held file sits on its shard with the hash of its content on disk. */
static int held_mismatches(const char *dir, const held_t *files, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char full[PATH_MAX], hex[65];
        snprintf(full, sizeof full, "%s/%s", dir, files[i].path);
        sha256_file(full, hex);
        if (files[i].shard != shard_of(files[i].path, strlen(files[i].path), SHARDS) ||
            strcmp(hex, files[i].hash) != 0) {
            fprintf(stderr, "  %s: shard %d hash %s, want shard %d hash %s\n", files[i].path,
                    files[i].shard, files[i].hash,
                    shard_of(files[i].path, strlen(files[i].path), SHARDS), hex);
            bad++;
        }
    }
    return bad;
}

/* Paths of the chunks the shards return with the "import" signal for a
 * search from path (every shard must know path's imports: the graph is
 * replicated).  Fills out (at most max) and returns the count, -1 on failure. */
static int imported_paths(const char *collection, const char *path, char out[][256], int max) {
    int n = 0;
    for (int s = 0; s < SHARDS; s++) {
        char service[32], header[512], err[256];
        shard_service(s, service);
        snprintf(header, sizeof header,
                 "{\"op\":\"search\",\"collection\":\"%s\",\"k\":50,\"path\":\"%s\","
                 "\"query\":\"charge order tax clamp\",\"mode\":\"f32\"}",
                 collection, path);
        proto_msg_t m;
        int st;
        if (proto_client_call(client, service, header, NULL, 0, 3000, NULL, NULL, &m, &st, err,
                              sizeof err) != 0) {
            fprintf(stderr, "  search on %s: %d %s\n", service, st, err);
            return -1;
        }
        cJSON *j = cJSON_ParseWithLength(m.payload, m.payload_len);
        proto_msg_close(&m);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "chunks")) {
            const cJSON *signals = cJSON_GetObjectItemCaseSensitive(c, "signals");
            const cJSON *import = cJSON_GetObjectItemCaseSensitive(signals, "import");
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "path");
            if (n < max && cJSON_IsNumber(import) && import->valuedouble > 0 && cJSON_IsString(p))
                snprintf(out[n++], 256, "%s", p->valuestring);
        }
        cJSON_Delete(j);
    }
    return n;
}

static bool in_list(char list[][256], int n, const char *path) {
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], path) == 0)
            return true;
    return false;
}

/* Regular files under dir (the fixture has no others). */
static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' &&
            (!de->d_name[1] || de->d_name[1] == '.' || strcmp(de->d_name, ".git") == 0))
            continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(sub, &st) != 0)
            continue;
        n += S_ISDIR(st.st_mode) ? count_files(sub) : S_ISREG(st.st_mode);
    }
    closedir(d);
    return n;
}

/* A fresh copy of the fixture at <stack dir>/name; with git, a checkout. */
static const char *fixture_copy(const char *name, bool git) {
    const char *dir = stack_path(&stack, name);
    fixture_remove_tree(dir);
    if (fixture_copy_repo(dir) != 0)
        return NULL;
    if (git && proc_shell("cd '%s' && git init -q && git add -A", dir) != 0)
        return NULL;
    return dir;
}

static int fixture_files;

/* A copy of the fixture for tests that only need some repository. */
static const char *scratch_copy(void) {
    static char dir[PATH_MAX]; /* fixture_copy's path is in proc_path's ring of 16 */
    const char *made = dir[0] ? dir : fixture_copy("scratch", false);
    if (made && made != dir)
        snprintf(dir, sizeof dir, "%s", made);
    return made ? dir : NULL;
}

/* Sends req (encoded with proto/ops.h) to shard s; 0 and the FINAL's
 * header in answer (may be NULL), or -1. */
static int shard_call(int s, const ops_request_t *req, const buf_t *payload, char *answer,
                      size_t answer_len) {
    char service[SHARD_SERVICE_MAX], err[256];
    buf_t h = BUF_INIT;
    if (ops_encode(req, &h) != 0)
        return -1;
    proto_msg_t m;
    int st;
    int rc =
        proto_client_call(client, shard_service(s, service), h.data, payload ? payload->data : NULL,
                          payload ? payload->len : 0, 3000, NULL, NULL, &m, &st, err, sizeof err);
    buf_free(&h);
    if (rc != 0) {
        fprintf(stderr, "  %s on %s: %d %s\n", ops_name(req->op), service, st, err);
        return -1;
    }
    if (answer)
        snprintf(answer, answer_len, "%.*s", (int)m.header_len, m.header);
    proto_msg_close(&m);
    return 0;
}

/* ---- tests ---- */

TEST(git_checkout_is_seeded_whole_and_matches_the_shards) {
    REQUIRE(stack_up());
    const char *dir = fixture_copy("git", true);
    REQUIRE(dir);
    fixture_files = count_files(dir);
    REQUIRE(fixture_files >= 30);
    seed_t r;
    const char *extra[] = {"--collection", "git", NULL};
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r.json, "method")), "git");
    CHECK_INT(num(&r, "files.indexed"), ==, fixture_files);
    CHECK_INT(num(&r, "files.new"), ==, fixture_files);
    CHECK_INT(num(&r, "files.failed"), ==, 0);
    CHECK_INT(num(&r, "files.skipped"), ==, 0);
    CHECK_INT(num(&r, "chunks"), >=, fixture_files);
    CHECK_INT(num(&r, "texts_embedded"), ==, num(&r, "chunks"));
    CHECK_INT(num(&r, "imports_updates"), >, 0); /* the fixture's files import each other */
    long files, chunks;
    held_counts("git", &files, &chunks);
    CHECK_INT(files, ==, fixture_files);
    CHECK_INT(chunks, ==, num(&r, "chunks"));
    static held_t held[256];
    int n = held_files("git", held, 256);
    CHECK_INT(n, ==, fixture_files);
    CHECK_INT(held_mismatches(dir, held, n), ==, 0);
    CHECK(held_find(held, n, "py/shop/services/billing.py") != NULL);
    /* main.py (shard 0) imports models.py (shard 1) and util.py (shard 0):
     * shard 1 knows only because main.py's imports went to every shard. */
    CHECK_INT(shard_of("py/shop/main.py", 15, SHARDS), ==, 0);
    CHECK_INT(shard_of("py/shop/models.py", 17, SHARDS), ==, 1);
    static char imported[256][256];
    int k = imported_paths("git", "py/shop/main.py", imported, 256);
    CHECK(in_list(imported, k, "py/shop/models.py"));
    CHECK(in_list(imported, k, "py/shop/util.py"));
    seed_free(&r);
}

TEST(unchanged_reseed_embeds_and_writes_nothing) {
    REQUIRE(stack_up() && fixture_files > 0);
    seed_t r;
    const char *extra[] = {"--collection", "git", NULL};
    seed(&r, stack_path(&stack, "git"), extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json);
    CHECK_INT(num(&r, "files.unchanged"), ==, fixture_files);
    CHECK_INT(num(&r, "files.indexed"), ==, 0);
    CHECK_INT(num(&r, "files.deleted"), ==, 0);
    CHECK_INT(num(&r, "embed_requests"), ==, 0);
    CHECK_INT(num(&r, "imports_updates"), ==, 0);
    fprintf(stderr, "  unchanged re-seed of %d files: %lld ms\n", fixture_files, (long long)r.ms);
    seed_free(&r);
}

TEST(edit_delete_and_rename_touch_only_those_files) {
    REQUIRE(stack_up() && fixture_files > 0);
    const char *dir = stack_path(&stack, "git");
    const char *extra[] = {"--collection", "git", NULL};
    REQUIRE(proc_shell(
                "printf '\\ndef freshly_added(x):\\n    return x * 2\\n' >> '%s/py/shop/util.py'",
                dir) == 0);
    seed_t r;
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json);
    CHECK_INT(num(&r, "files.indexed"), ==, 1);
    CHECK_INT(num(&r, "files.new"), ==, 0);
    CHECK_INT(num(&r, "files.unchanged"), ==, fixture_files - 1);
    CHECK_INT(num(&r, "embed_requests"), ==, 1);
    CHECK_INT(num(&r, "texts_embedded"), ==, num(&r, "chunks")); /* that file's chunks only */
    CHECK_INT(num(&r, "chunks"), >=, 1);
    seed_free(&r);
    static held_t held[256];
    int n = held_files("git", held, 256);
    CHECK_INT(held_mismatches(dir, held, n), ==, 0);

    /* Delete one file, rename another (a rename is a delete plus an add). */
    const held_t *before = held_find(held, n, "rust/src/config.rs");
    REQUIRE(before);
    char renamed_hash[65];
    snprintf(renamed_hash, sizeof renamed_hash, "%s", before->hash);
    REQUIRE(proc_shell("cd '%s' && rm c/src/report.c && mv rust/src/config.rs rust/src/settings.rs",
                       dir) == 0);
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json);
    CHECK_INT(num(&r, "files.deleted"), ==, 2);
    CHECK_INT(num(&r, "files.indexed"), ==, 1);
    CHECK_INT(num(&r, "files.new"), ==, 1);
    /* main.rs's `mod config;` no longer resolves: its import list is sent again. */
    CHECK_INT(num(&r, "imports_updates"), >=, 1);
    CHECK_INT(num(&r, "files.unchanged"), ==, fixture_files - 2);
    seed_free(&r);
    n = held_files("git", held, 256);
    CHECK_INT(n, ==, fixture_files - 1);
    CHECK(!held_find(held, n, "c/src/report.c"));
    CHECK(!held_find(held, n, "rust/src/config.rs"));
    const held_t *after = held_find(held, n, "rust/src/settings.rs");
    CHECK(after && strcmp(after->hash, renamed_hash) == 0);
    CHECK_INT(held_mismatches(dir, held, n), ==, 0);
    long files, chunks;
    held_counts("git", &files, &chunks);
    CHECK_INT(files, ==, fixture_files - 1);
}

TEST(plain_directory_skips_bad_files_with_reasons_and_succeeds) {
    REQUIRE(stack_up());
    const char *dir = fixture_copy("plain", false);
    REQUIRE(dir);
    int good = count_files(dir) + 1; /* and long_name.c, made below */
    REQUIRE(proc_shell("cd '%s' && printf 'GIF89a\\0\\0\\1' > logo.gif.dat && "
                       "printf 'caf\\351 au lait\\n' > latin1.txt && "
                       "head -c 10000000 /dev/zero | tr '\\0' x > huge_line.js && "
                       "ln -s loop_b loop_a && ln -s loop_a loop_b && "
                       "ln -s does/not/exist dangling.py && "
                       "ln -s /etc/hostname outside_file.txt && ln -s /usr outside_dir && "
                       "mkfifo pipe.py && "
                       "printf 'int %%0300d;\\n' 0 | tr 0 z > long_name.c",
                       dir) == 0);
    bool unreadable = geteuid() != 0; /* root reads anything: the FIFO stands in */
    if (unreadable)
        REQUIRE(proc_shell("cd '%s' && echo 'x = 1' > secret.py && chmod 000 secret.py", dir) == 0);
    seed_t r;
    const char *extra[] = {"--collection", "plain", NULL};
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r.json, "method")), "walk");
    CHECK_INT(num(&r, "files.indexed"), ==, good);
    CHECK_INT(num(&r, "files.failed"), ==, 0);
    CHECK_INT(skipped(&r, "binary"), ==, 1);
    CHECK(skip_example(&r, "binary", "logo.gif.dat"));
    CHECK_INT(skipped(&r, "not-utf8"), ==, 1);
    CHECK(skip_example(&r, "not-utf8", "latin1.txt"));
    CHECK_INT(skipped(&r, "too-big"), ==, 1);
    CHECK(skip_example(&r, "too-big", "huge_line.js"));
    CHECK_INT(skipped(&r, "symlink"), ==, 5); /* two loop ends, dangling, two leaving the root */
    CHECK(skip_example(&r, "symlink", "loop"));
    CHECK_INT(skipped(&r, "not-regular"), ==, 1);
    CHECK(skip_example(&r, "not-regular", "pipe.py"));
    if (unreadable)
        CHECK_INT(skipped(&r, "unreadable"), ==, 1);
    CHECK(strstr(r.err, "skipped 1 binary: logo.gif.dat") != NULL); /* the human summary */
    long files, chunks;
    held_counts("plain", &files, &chunks);
    CHECK_INT(files, ==, good);
    CHECK_INT(chunks, ==, num(&r, "chunks"));
    seed_free(&r);
}

/* A checkout somebody else prepared: its config names an fsmonitor hook (git
 * runs it whenever it reads the index), one file's name is not UTF-8, and
 * one text file has a NUL byte far past its start. */
TEST(a_hostile_checkout_runs_nothing_and_skips_what_it_must) {
    REQUIRE(stack_up());
    const char *dir = fixture_copy("hostile", true);
    REQUIRE(dir);
    int good = count_files(dir);
    char *marker = stack_path(&stack, "fsmonitor-ran");
    REQUIRE(proc_shell("cd '%s' && printf '#!/bin/sh\\ntouch %s\\n' > ../hook.sh && "
                       "chmod +x ../hook.sh && git config core.fsmonitor \"$PWD/../hook.sh\" && "
                       "printf 'x = 1\\n' > \"$(printf 'caf\\351.py')\" && "
                       "head -c 100000 /dev/zero | tr '\\0' '\\n' > late_nul.py && "
                       "printf '\\0x = 2\\n' >> late_nul.py",
                       dir, marker) == 0);
    seed_t r;
    const char *extra[] = {"--collection", "hostile", NULL};
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json); /* valid JSON, the name that is not UTF-8 included */
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r.json, "method")), "git");
    CHECK(access(marker, F_OK) != 0);
    CHECK_INT(num(&r, "files.indexed"), ==, good);
    CHECK_INT(skipped(&r, "name-not-utf8"), ==, 1);
    CHECK(skip_example(&r, "name-not-utf8", "caf\\xe9.py (the name is not UTF-8"));
    CHECK_INT(skipped(&r, "binary"), ==, 1);
    CHECK(skip_example(&r, "binary", "late_nul.py (NUL byte at offset 100000)"));
    CHECK(strstr(r.err, "skipped 1 name-not-utf8: caf\\xe9.py") != NULL); /* the human summary */
    seed_free(&r);
}

typedef struct {
    const char *collection;
    const char *path;
    const char *hash; /* wanted hash, or NULL: wanted absent */
} held_wait_t;

static bool held_as_wanted(void *arg) {
    held_wait_t *w = arg;
    static held_t held[256];
    int n = held_files(w->collection, held, 256);
    if (n < 0)
        return false;
    const held_t *h = held_find(held, n, w->path);
    return w->hash ? h && strcmp(h->hash, w->hash) == 0 : h == NULL;
}

static bool seed_line_written(void *arg) {
    char text[65536];
    fixture_read_text(arg, text, sizeof text);
    return strstr(text, "\"event\":\"seed\"") != NULL;
}

/* Makes a change in dir, then waits (at most 2 s) until the shards hold
 * path with the file's new hash (or no longer hold it). */
static int64_t change_and_wait(const char *dir, const char *command, const char *path, bool gone) {
    int64_t start = proc_now_ms();
    if (proc_shell("cd '%s' && %s", dir, command) != 0)
        return -1;
    char full[PATH_MAX], hex[65];
    snprintf(full, sizeof full, "%s/%s", dir, path);
    if (!gone)
        sha256_file(full, hex);
    held_wait_t w = {"watched", path, gone ? NULL : hex};
    if (!proc_wait_for(held_as_wanted, &w, 2000))
        return -1;
    return proc_now_ms() - start;
}

/* A tsconfig says where `@app/...` lives.  Editing it changes no TS file,
 * yet their imports now resolve elsewhere: the shards must hear of it. */
TEST(an_edited_tsconfig_re_resolves_imports_of_unchanged_files) {
    REQUIRE(stack_up());
    const char *dir = stack_path(&stack, "tsproject");
    const fixture_file_t files[] = {
        {"tsconfig.json", "{\"compilerOptions\": {\"paths\": {\"@app/*\": [\"src/app/*\"]}}}\n"},
        {"src/app/db.ts", "export function openDb() { return 1; }\n"},
        {"lib/db.ts", "export function openDb() { return 2; }\n"},
        {"src/main.ts", "import { openDb } from '@app/db';\nexport const db = openDb();\n"},
        {NULL, NULL}};
    REQUIRE(fixture_write_tree(dir, files) == 0);
    const char *extra[] = {"--collection", "ts", NULL};
    seed_t r;
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    seed_free(&r);
    static char imported[256][256];
    int k = imported_paths("ts", "src/main.ts", imported, 256);
    CHECK(in_list(imported, k, "src/app/db.ts"));
    CHECK(!in_list(imported, k, "lib/db.ts"));

    const char *moved = "{\"compilerOptions\": {\"paths\": {\"@app/*\": [\"lib/*\"]}}}\n";
    REQUIRE(fixture_write_text(dir, "tsconfig.json", moved) == 0);
    seed(&r, dir, extra, NULL);
    CHECK_INT(r.status, ==, 0);
    REQUIRE(r.json);
    CHECK_INT(num(&r, "files.indexed"), ==, 1); /* the tsconfig itself */
    CHECK_INT(num(&r, "imports_updates"), >=, 1);
    seed_free(&r);
    k = imported_paths("ts", "src/main.ts", imported, 256);
    CHECK(in_list(imported, k, "lib/db.ts"));
    CHECK(!in_list(imported, k, "src/app/db.ts"));
}

TEST(watch_applies_edits_creates_deletes_and_renames_within_two_seconds) {
    REQUIRE(stack_up());
    const char *dir = fixture_copy("watched", true);
    REQUIRE(dir);
    char *out = stack_path(&stack, "watch.out"), *err = stack_path(&stack, "watch.err");
    const char *extra[] = {"--collection", "watched", "--watch", NULL};
    pid_t pid = seed_start(dir, extra, NULL, out, err);
    REQUIRE(pid > 0);
    REQUIRE(proc_wait_for(seed_line_written, out, 20000));
    int64_t took;
    took = change_and_wait(dir, "echo 'export const late = 1;' >> web/src/api.ts", "web/src/api.ts",
                           false);
    CHECK_INT(took, >=, 0);
    fprintf(stderr, "  edit visible after %lld ms\n", (long long)took);
    took = change_and_wait(dir,
                           "mkdir -p py/shop/extra && echo 'def f(): pass' > py/shop/extra/new.py",
                           "py/shop/extra/new.py", false);
    CHECK_INT(took, >=, 0);
    took =
        change_and_wait(dir, "rm go/internal/store/cache.go", "go/internal/store/cache.go", true);
    CHECK_INT(took, >=, 0);
    took = change_and_wait(dir, "mv java/src/main/java/com/example/shop/util/Money.java Cash.java",
                           "Cash.java", false);
    CHECK_INT(took, >=, 0);
    held_wait_t gone = {"watched", "java/src/main/java/com/example/shop/util/Money.java", NULL};
    CHECK(proc_wait_for(held_as_wanted, &gone, 2000));
    /* Ignored paths and .git never reach the shards. */
    CHECK(proc_shell("cd '%s' && echo 'tmp/' > .gitignore && mkdir -p tmp && echo 'x=1' > tmp/t.py",
                     dir) == 0);
    held_wait_t ignore_file = {"watched", ".gitignore", NULL};
    char hex[65];
    sha256_file(stack_path(&stack, "watched/.gitignore"), hex);
    ignore_file.hash = hex;
    CHECK(proc_wait_for(held_as_wanted, &ignore_file, 3000));
    static held_t held[256];
    int n = held_files("watched", held, 256);
    CHECK(!held_find(held, n, "tmp/t.py"));
    CHECK_INT(held_mismatches(dir, held, n), ==, 0);
    int status = proc_stop(pid, SIGINT, 5000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool text_in_file(const char *path, const char *text) {
    static char buf[65536];
    fixture_read_text(path, buf, sizeof buf);
    return strstr(buf, text) != NULL;
}

static bool refused_put_reported(void *path) {
    return text_in_file(path, "error: web/src/api.ts: file.put failed");
}

TEST(a_refused_put_is_reported_and_the_watch_goes_on) {
    REQUIRE(stack_up());
    const char *dir = fixture_copy("refused", false);
    REQUIRE(dir);
    char *out = stack_path(&stack, "refused.out"), *err = stack_path(&stack, "refused.err");
    const char *extra[] = {"--collection", "refused", "--watch", NULL};
    pid_t pid = seed_start(dir, extra, NULL, out, err);
    REQUIRE(pid > 0);
    REQUIRE(proc_wait_for(seed_line_written, out, 20000));
    /* The collection vanishes under the running seeder: its next put fails. */
    for (int s = 0; s < SHARDS; s++) {
        char service[32], e[256];
        shard_service(s, service);
        int st;
        REQUIRE(proto_client_call(client, service,
                                  "{\"op\":\"collection.drop\",\"collection\":\"refused\"}", NULL,
                                  0, 5000, NULL, NULL, NULL, &st, e, sizeof e) == 0);
    }
    REQUIRE(proc_shell("echo 'export const x = 2;' >> '%s/web/src/api.ts'", dir) == 0);
    CHECK(proc_wait_for(refused_put_reported, err, 3000));
    CHECK(proc_alive(pid));
    int status = proc_stop(pid, SIGTERM, 5000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(unreachable_broker_is_a_clear_error_within_seconds) {
    REQUIRE(stack_up());
    /* A broker's directory with no broker in it (one that stopped), and a
     * TCP address nobody listens on. */
    char nowhere[2][300];
    REQUIRE(proc_broker_endpoint(nowhere[0], sizeof nowhere[0]));
    snprintf(nowhere[1], sizeof nowhere[1], "tcp://127.0.0.1:%d", proc_free_port());
    for (int i = 0; i < 2; i++) {
        const char *extra[] = {"--broker", nowhere[i], NULL}; /* the last --broker wins */
        seed_t r;
        seed(&r, scratch_copy(), extra, NULL);
        CHECK_INT(r.status, ==, 1);
        char want[700];
        snprintf(want, sizeof want, "cannot reach lca at %s: is `lca up` running?", nowhere[i]);
        CHECK(strstr(r.err, want) != NULL);
        CHECK_INT(r.ms, <, 6000);
        seed_free(&r);
    }
    /* No directory at all: nothing was ever started there. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nothing/broker", nowhere[0]);
    const char *extra[] = {"--broker", missing, NULL};
    seed_t r;
    seed(&r, scratch_copy(), extra, NULL);
    CHECK_INT(r.status, ==, 1);
    CHECK(strstr(r.err, "No such file or directory (is the gateway running?)") != NULL);
    seed_free(&r);
}

TEST(a_shard_without_worker_is_named) {
    REQUIRE(stack_up());
    proc_stop(stack.retriever[1], SIGKILL, 2000);
    REQUIRE(stack_wait_broker_workers(client, "retrieve.1", 0, 5000));
    const char *extra[] = {"--collection", "noshard", NULL};
    const char *env[] = {"LCA_SEEDER_TIMEOUT_MS=800", NULL};
    seed_t r;
    seed(&r, scratch_copy(), extra, env);
    CHECK_INT(r.status, ==, 1);
    CHECK(strstr(r.err, "no retrieve.1 worker available") != NULL);
    CHECK(strstr(r.err, "is lca-retriever --shard 1/2 running?") != NULL);
    CHECK_INT(r.ms, <, 5000);
    seed_free(&r);
    stack_retriever_start(&stack, 1);
    int shard = 1;
    CHECK(proc_wait_for(shard_ready, &shard, 15000));
}

TEST(a_different_shard_count_is_refused) {
    REQUIRE(stack_up());
    const char *extra[] = {"--collection", "three", "--shards", "3", NULL};
    seed_t r;
    seed(&r, scratch_copy(), extra, NULL);
    CHECK_INT(r.status, ==, 1);
    CHECK(strstr(r.err, "cannot seed collection three") != NULL);
    CHECK(strstr(r.err, "3 shards") != NULL);
    seed_free(&r);
}

TEST(model_mismatch_fails_and_reset_reindexes) {
    REQUIRE(stack_up() && scratch_copy());
    ops_request_t ensure = {
        .op = OPS_COLLECTION_ENSURE,
        .collection = "other",
        .ensure = {
            .root = scratch_copy(), .model = "some-other-model", .dim = 384, .shards = SHARDS}};
    for (int s = 0; s < SHARDS; s++)
        REQUIRE(shard_call(s, &ensure, NULL, NULL, 0) == 0);
    const char *extra[] = {"--collection", "other", NULL};
    seed_t r;
    seed(&r, scratch_copy(), extra, NULL);
    CHECK_INT(r.status, ==, 1);
    CHECK(strstr(r.err, "some-other-model") != NULL);
    CHECK(strstr(r.err, "--reset") != NULL);
    seed_free(&r);
    const char *reset[] = {"--collection", "other", "--reset", NULL};
    seed(&r, scratch_copy(), reset, NULL);
    CHECK_INT(r.status, ==, 0);
    CHECK_INT(num(&r, "files.new"), ==, num(&r, "files.seen"));
    CHECK_INT(num(&r, "files.indexed"), >, 0);
    seed_free(&r);
}

TEST(missing_embedder_is_named) {
    REQUIRE(stack_up());
    proc_stop(stack.embedder, SIGKILL, 2000);
    REQUIRE(stack_wait_broker_workers(client, "embed", 0, 5000));
    const char *extra[] = {"--collection", "noembed", NULL};
    const char *env[] = {"LCA_SEEDER_TIMEOUT_MS=800", NULL};
    seed_t r;
    seed(&r, scratch_copy(), extra, env);
    CHECK_INT(r.status, ==, 1);
    CHECK(strstr(r.err, "no embed worker available: is lca-embedder running?") != NULL);
    seed_free(&r);
    stack_embedder_start(&stack);
    CHECK(proc_wait_for(embedder_ready, NULL, 15000));
}

/* An index written before collections recorded their placement: files
 * placed by FNV-1a alone, one of them long gone from the directory. */
TEST(a_collection_placed_the_old_way_is_indexed_again_from_scratch) {
    REQUIRE(stack_up() && scratch_copy());
    char info[256], err[256];
    proto_msg_t m;
    int st;
    REQUIRE(proto_client_call(client, "embed", "{\"op\":\"info\"}", NULL, 0, 3000, NULL, NULL, &m,
                              &st, err, sizeof err) == 0);
    snprintf(info, sizeof info, "%.*s", (int)m.header_len, m.header);
    proto_msg_close(&m);
    cJSON *j = cJSON_Parse(info);
    REQUIRE(j);
    ops_request_t ensure = {
        .op = OPS_COLLECTION_ENSURE,
        .collection = "legacy",
        .ensure = {.root = scratch_copy(),
                   .model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "model")),
                   .dim = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "dim")),
                   .shards = SHARDS,
                   .placement = SHARD_PLACEMENT_FNV1A}};
    char answer[128];
    for (int s = 0; s < SHARDS; s++) {
        REQUIRE(shard_call(s, &ensure, NULL, answer, sizeof answer) == 0);
        CHECK(strstr(answer, "\"placement\":1") != NULL);
    }
    /* util.py belongs to shard 1 the old way and to shard 0 now. */
    static const char *const old_files[] = {"py/shop/util.py", "gone/old.py"};
    float *vector = calloc((size_t)ensure.ensure.dim, sizeof *vector);
    REQUIRE(vector);
    for (size_t i = 0; i < 2; i++) {
        const char *path = old_files[i];
        int old_shard = shard_of_placement(SHARD_PLACEMENT_FNV1A, path, strlen(path), SHARDS);
        ops_chunk_t chunk = {.start_line = 1, .end_line = 1, .text = "x = 1\n", .text_len = 6};
        buf_t payload = BUF_INIT;
        REQUIRE(ops_payload_encode(&payload, &chunk, 1, vector, (size_t)ensure.ensure.dim) == 0);
        ops_request_t put = {.op = OPS_FILE_PUT,
                             .collection = "legacy",
                             .file = {.path = path, .hash = "stale", .language = "python"}};
        CHECK_INT(shard_call(old_shard, &put, &payload, NULL, 0), ==, 0);
        /* The other shard refuses it: not its file under the old placement. */
        CHECK_INT(shard_call(1 - old_shard, &put, &payload, NULL, 0), ==, -1);
        buf_free(&payload);
    }
    free(vector);
    CHECK_INT(shard_of_placement(SHARD_PLACEMENT_FNV1A, "py/shop/util.py", 15, SHARDS), ==, 1);
    CHECK_INT(shard_of("py/shop/util.py", 15, SHARDS), ==, 0);

    const char *extra[] = {"--collection", "legacy", NULL};
    seed_t r;
    seed(&r, scratch_copy(), extra, NULL);
    CHECK_INT(r.status, ==, 0);
    CHECK(strstr(r.err, "collection legacy was placed on its shards the old way (placement 1, "
                        "now 2): dropping it and indexing it again from scratch") != NULL);
    CHECK_INT(num(&r, "files.new"), ==, num(&r, "files.seen"));
    CHECK_INT(num(&r, "files.indexed"), ==, count_files(scratch_copy()));
    static held_t held[256];
    int n = held_files("legacy", held, 256);
    CHECK_INT(n, ==, count_files(scratch_copy()));
    CHECK_INT(held_mismatches(scratch_copy(), held, n), ==, 0);
    CHECK(held_find(held, n, "gone/old.py") == NULL);
    const held_t *util_py = held_find(held, n, "py/shop/util.py");
    CHECK(util_py && util_py->shard == 0);
    for (int s = 0; s < SHARDS; s++) {
        ensure.ensure.placement = SHARD_PLACEMENT;
        REQUIRE(shard_call(s, &ensure, NULL, answer, sizeof answer) == 0);
        CHECK_STR(answer, "{\"created\":false,\"placement\":2}");
    }
    seed_free(&r);
    cJSON_Delete(j);

    /* Once placed the new way, a seed changes nothing. */
    seed(&r, scratch_copy(), extra, NULL);
    CHECK_INT(r.status, ==, 0);
    CHECK(strstr(r.err, "the old way") == NULL);
    CHECK_INT(num(&r, "files.indexed"), ==, 0);
    seed_free(&r);
}

static void teardown(void) {
    proto_client_destroy(&client);
    proc_kill_all();
    fixture_remove_tree(stack.dir);
}

static const test_case_t cases[] = {
    TEST_CASE(git_checkout_is_seeded_whole_and_matches_the_shards),
    TEST_CASE(unchanged_reseed_embeds_and_writes_nothing),
    TEST_CASE(edit_delete_and_rename_touch_only_those_files),
    TEST_CASE(plain_directory_skips_bad_files_with_reasons_and_succeeds),
    TEST_CASE(a_hostile_checkout_runs_nothing_and_skips_what_it_must),
    TEST_CASE(an_edited_tsconfig_re_resolves_imports_of_unchanged_files),
    TEST_CASE(watch_applies_edits_creates_deletes_and_renames_within_two_seconds),
    TEST_CASE(a_refused_put_is_reported_and_the_watch_goes_on),
    TEST_CASE(unreachable_broker_is_a_clear_error_within_seconds),
    TEST_CASE(a_shard_without_worker_is_named),
    TEST_CASE(a_different_shard_count_is_refused),
    TEST_CASE(model_mismatch_fails_and_reset_reindexes),
    TEST_CASE(missing_embedder_is_named),
    TEST_CASE(a_collection_placed_the_old_way_is_indexed_again_from_scratch),
};

int main(int argc, char **argv) {
    int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
    teardown();
    return rc;
}
