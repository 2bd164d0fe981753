/*
 * seeder/chunk and proto/code/lang: a file of the repository being indexed (any
 * bytes), its language, and tags (as stale or nonsensical as ctags could
 * give), cut into chunks.
 *
 * Input: 6 bytes of set-up (options, language choice), then the file's path,
 * a run of 5-byte tag records and the file's bytes, separated by 0xff (the
 * file keeps any 0xff of its own).  Invariants are those of chunk.h: chunks
 * in file order (start and end lines strictly increasing), 1 <= start <=
 * end <= number of lines, no chunk starts or ends with a blank line, every
 * non-blank line lies in a chunk, each text is exactly the bytes of its
 * lines; symbols distinct, identifiers sorted, distinct and not symbols.
 * And lang.h's: the entry of every id is itself, with a name and a fence
 * that lang_from_name() maps back.
 */
#include "seeder/chunk.h"
#include "proto/code/lang.h"
#include "tests/fuzz/fuzz.h"

#include <errno.h>

static int count_lines(const char *data, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    return n + (len > 0 && data[len - 1] != '\n');
}

/* Offset of line l (1-based); len for the line after the last. */
static size_t line_offset(const char *data, size_t len, int l) {
    size_t at = 0;
    for (int k = 1; k < l && at < len; at++)
        k += data[at] == '\n';
    return at;
}

static bool line_blank(const char *data, size_t len, int l) {
    for (size_t i = line_offset(data, len, l); i < len && data[i] != '\n'; i++)
        if (!strchr(" \t\r\f\v", data[i]) || data[i] == '\0')
            return false;
    return true;
}

static void check_lang(lang_id_t id) {
    const lang_t *l = lang_get(id);
    FUZZ_ASSERT(l != NULL && l->id == id && l->name && l->fence && l->extensions);
    FUZZ_ASSERT(lang_from_name(l->name) == id);
    FUZZ_ASSERT((l->block_open == NULL) == (l->block_close == NULL));
}

static void check_chunks(const chunk_list_t *list, const char *data, size_t len) {
    int lines = count_lines(data, len);
    char *covered = calloc((size_t)lines + 2, 1);
    FUZZ_ASSERT(covered != NULL);
    int previous_start = 0, previous_end = 0;
    for (size_t i = 0; i < chunk_list_count(list); i++) {
        const chunk_t *c = chunk_list_get(list, i);
        FUZZ_ASSERT(c != NULL);
        FUZZ_ASSERT(c->start_line >= 1 && c->start_line <= c->end_line && c->end_line <= lines);
        FUZZ_ASSERT(c->start_line > previous_start && c->end_line > previous_end);
        previous_start = c->start_line, previous_end = c->end_line;
        FUZZ_ASSERT(!line_blank(data, len, c->start_line));
        FUZZ_ASSERT(!line_blank(data, len, c->end_line));
        size_t from = line_offset(data, len, c->start_line);
        size_t to = line_offset(data, len, c->end_line + 1);
        FUZZ_ASSERT(c->text_len == to - from && c->text_len > 0);
        FUZZ_ASSERT(memcmp(c->text, data + from, c->text_len) == 0);
        FUZZ_ASSERT(c->kind >= CHUNK_PREAMBLE && c->kind <= CHUNK_WINDOW);
        FUZZ_ASSERT(strcmp(chunk_kind_name(c->kind), "unknown") != 0);
        for (int l = c->start_line; l <= c->end_line; l++)
            covered[l] = 1;
        for (size_t k = 0; k < c->symbol_count; k++) {
            FUZZ_ASSERT(c->symbols[k] != NULL);
            for (size_t j = 0; j < k; j++)
                FUZZ_ASSERT(strcmp(c->symbols[j], c->symbols[k]) != 0);
        }
        for (size_t k = 0; k < c->identifier_count; k++) {
            FUZZ_ASSERT(c->identifiers[k] != NULL && c->identifiers[k][0] != '\0');
            if (k > 0)
                FUZZ_ASSERT(strcmp(c->identifiers[k - 1], c->identifiers[k]) < 0);
            for (size_t s = 0; s < c->symbol_count; s++)
                FUZZ_ASSERT(strcmp(c->identifiers[k], c->symbols[s]) != 0);
        }
    }
    FUZZ_ASSERT(chunk_list_get(list, chunk_list_count(list)) == NULL);
    for (int l = 1; l <= lines; l++) {
        if (!covered[l] && !line_blank(data, len, l))
            fprintf(stderr, "fuzz: line %d is in no chunk\n", l);
        FUZZ_ASSERT(covered[l] || line_blank(data, len, l));
    }
    free(covered);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t setup[6];
    for (int i = 0; i < 6; i++)
        setup[i] = fuzz_take_byte(&data, &size);
    fuzz_piece_t pieces[3] = {{"", 0}, {"", 0}, {"", 0}};
    fuzz_split(data, size, 0xff, pieces, 3);
    char *path = fuzz_strndup(pieces[0].data, pieces[0].len);
    const char *file = pieces[2].data;
    size_t len = pieces[2].len;

    lang_id_t lang = lang_detect(path, file, len);
    FUZZ_ASSERT(lang >= LANG_UNKNOWN && lang < LANG_COUNT);
    check_lang(lang);
    if (setup[5] & 0x80)
        lang = (lang_id_t)(setup[5] % LANG_COUNT);
    check_lang(lang);
    FUZZ_ASSERT(lang_get((lang_id_t)(LANG_COUNT + setup[5]))->id == LANG_UNKNOWN);

    static const char *const kinds[] = {"function", "class",  "method",    "member", "variable",
                                        "constant", "struct", "namespace", "local",  "interface",
                                        "impl",     "enum",   "module",    "macro",  "field",
                                        "type",     "alias"};
    static const char *const scopes[] = {NULL, "A", "A.B", "main.S", "ns::C", "Inventory", "", "x"};
    static const char *const names[] = {"f", "A", "B", "S", "add", "main", "Inventory", "x_1"};
    ctags_tag_t tags[48];
    size_t n_tags = 0;
    const uint8_t *t = (const uint8_t *)pieces[1].data;
    for (size_t at = 0; at + 5 <= pieces[1].len && n_tags < 48; at += 5) {
        tags[n_tags++] = (ctags_tag_t){
            .path = path,
            .name = names[t[at + 4] % 8],
            .kind = kinds[t[at] % (sizeof kinds / sizeof kinds[0])],
            .scope = scopes[t[at + 1] % 8],
            .scope_kind = t[at + 1] & 0x80 ? "class" : "package",
            .line = (int)t[at + 2] - 3,
            .end = t[at + 3] < 64 ? 0 : (int)t[at + 3] - 64,
        };
    }

    chunk_options_t options = {(int8_t)setup[1], (int8_t)setup[2], (int8_t)setup[3],
                               (int8_t)setup[4]};
    chunk_list_t *list = NULL;
    int rc = chunk_split_file(file, len, lang, n_tags ? tags : NULL, n_tags,
                              setup[0] & 1 ? &options : NULL, &list);
    FUZZ_ASSERT(rc == 0 && list != NULL);
    check_chunks(list, file, len);
    chunk_list_destroy(&list);
    FUZZ_ASSERT(list == NULL);
    free(path);
    return 0;
}
