/*
 * gateway_tokens_estimate: prints the token estimates of files (tokens.h),
 * for the test that holds them against real tokenizers (tests/tokens/).
 *
 *   gateway_tokens_estimate FILE...
 *   -> one line per file: path, bytes, Qwen, Llama and any-family estimates,
 *      separated by tabs.
 */
#include "gateway/tokens.h"

#include <stdio.h>
#include <stdlib.h>

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap);
    size_t got;
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(data, cap * 2);
            if (!bigger) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return data;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: gateway_tokens_estimate FILE...\n");
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        size_t len = 0;
        char *text = read_all(argv[i], &len);
        if (!text) {
            fprintf(stderr, "gateway_tokens_estimate: cannot read %s\n", argv[i]);
            status = 1;
            continue;
        }
        printf("%s\t%zu\t%zu\t%zu\t%zu\n", argv[i], len, tokens_estimate(TOKENS_QWEN, text, len),
               tokens_estimate(TOKENS_LLAMA, text, len), tokens_estimate(TOKENS_ANY, text, len));
        free(text);
    }
    return status;
}
