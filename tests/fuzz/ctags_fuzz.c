/*
 * seeder/ctags: the JSON lines universal-ctags writes, read into tags and
 * collected per file.  The line reader is static, so this target includes
 * ctags.c itself (the seeder library's copy is then never linked in).
 *
 * The input is ctags' output, one JSON object a line.  Invariants: each tag
 * handed over has a name, a path, a kind, line >= 1 and end 0
 * or >= line; a line that is not JSON is -EPROTO; collected in a batch,
 * every file's tags are found again by path, in arrival order, with the
 * same strings, and the batch holds every tag once.
 */
#include "seeder/ctags.c"
#include "tests/fuzz/fuzz.h"

typedef struct {
    ctags_batch_t *batch;
    size_t seen;
} collect_t;

static int on_tag(const ctags_tag_t *tag, void *arg) {
    collect_t *c = arg;
    FUZZ_ASSERT(tag->path && tag->name && tag->kind);
    FUZZ_ASSERT(tag->line >= 1);
    FUZZ_ASSERT(tag->end == 0 || tag->end >= tag->line);
    c->seen++;
    return ctags_batch_add(tag, c->batch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    collect_t c = {calloc(1, sizeof(ctags_batch_t)), 0};
    FUZZ_ASSERT(c.batch != NULL);
    const char *line = (const char *)data, *end = line + size;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        size_t before = c.seen;
        int rc = ctags_handle_line(line, len, on_tag, &c);
        FUZZ_ASSERT(rc == 0 || rc == -EPROTO);
        FUZZ_ASSERT(c.seen - before <= 1);
        if (rc == -EPROTO)
            FUZZ_ASSERT(c.seen == before);
        line += len + 1;
    }
    ctags_batch_t *b = c.batch;
    FUZZ_ASSERT(ctags_batch_count(b) == c.seen);
    if (b->file_count > 1)
        qsort(b->files, b->file_count, sizeof *b->files, ctags_compare_files);

    size_t total = 0;
    for (size_t i = 0; i < b->file_count; i++) {
        total += b->files[i].count;
        size_t count = 0;
        const ctags_tag_t *tags = ctags_batch_tags(b, b->files[i].path, &count);
        FUZZ_ASSERT(tags != NULL && count >= 1);
        for (size_t k = 0; k < count; k++) {
            FUZZ_ASSERT(strcmp(tags[k].path, b->files[i].path) == 0);
            FUZZ_ASSERT(tags[k].line >= 1 && (tags[k].end == 0 || tags[k].end >= tags[k].line));
        }
    }
    FUZZ_ASSERT(total == c.seen);
    size_t none = 7;
    const ctags_tag_t *other = ctags_batch_tags(b, "lib/other.py", &none);
    FUZZ_ASSERT(other ? none >= 1 && strcmp(other->path, "lib/other.py") == 0 : none == 0);
    ctags_batch_destroy(&c.batch);
    FUZZ_ASSERT(c.batch == NULL);
    return 0;
}
