/*
 * shard_balance: how evenly each placement (proto/shard.h) spreads a tree's
 * files over N shards.
 *
 *   git ls-files | shard_balance 2 3 4 8
 *
 * Reads collection-relative paths, one a line, and prints a table: per
 * shard count and placement, the files on each shard, the largest shard
 * over the mean (1.00 is perfect; the seeding time of a collection goes
 * with its largest shard), and the chi-square statistic against an even
 * spread with its degrees of freedom (N - 1: a value far above that is
 * worse than chance).
 */
#include "proto/shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHARDS 64

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: shard_balance N... < paths\n");
        return 2;
    }
    size_t cap = 1024, n = 0;
    char **paths = malloc(cap * sizeof *paths);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    while (paths && (len = getline(&line, &line_cap, stdin)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (n == cap) {
            char **grown = realloc(paths, (cap *= 2) * sizeof *paths);
            if (!grown)
                break;
            paths = grown;
        }
        paths[n++] = strdup(line);
    }
    free(line);
    printf("%zu files\n\n| shards | placement | files per shard | largest / mean | chi-square "
           "(df) |\n|---:|---|---|---:|---:|\n",
           n);
    for (int a = 1; a < argc; a++) {
        int shards = atoi(argv[a]);
        if (shards < 1 || shards > MAX_SHARDS)
            continue;
        for (int placement = SHARD_PLACEMENT_FNV1A; placement <= SHARD_PLACEMENT_MIXED;
             placement++) {
            long counts[MAX_SHARDS] = {0};
            for (size_t i = 0; i < n; i++)
                if (paths[i])
                    counts[shard_of_placement(placement, paths[i], strlen(paths[i]), shards)]++;
            double mean = (double)n / shards, chi = 0;
            long largest = 0;
            printf("| %d | %s | ", shards,
                   placement == SHARD_PLACEMENT_FNV1A ? "1 (FNV-1a)" : "2 (FNV-1a, mixed)");
            for (int s = 0; s < shards; s++) {
                printf("%s%ld", s ? " / " : "", counts[s]);
                largest = counts[s] > largest ? counts[s] : largest;
                chi += mean > 0 ? (counts[s] - mean) * (counts[s] - mean) / mean : 0;
            }
            printf(" | %.2f | %.1f (%d) |\n", mean > 0 ? largest / mean : 0, chi, shards - 1);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return 0;
}
