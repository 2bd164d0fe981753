/*
 * lexeme: source text as a stream of tokens, and what the repository writes
 * in the slot of the cursor.
 *
 * A name is often best predicted by the code around it: after `Column("id",`
 * sqlalchemy writes `Integer`, after `G = nx.` networkx writes `Graph`.  The
 * gateway takes the tokens right before the cursor (and the one after the
 * name) from the prefix and suffix; a shard then finds where its chunks
 * write the same tokens and counts which identifier stands between them.
 * Both sides cut text into tokens by these rules, so they live here:
 *
 *   - an identifier (proto/code/ident.h);
 *   - a string on one line, quotes included (`"id"`, `'x'`, with `\`
 *     escapes); a quote that does not close on its line is one token;
 *   - a number: a digit and the identifier characters and dots after it;
 *   - `::`, `->`, `=>`; else one byte of punctuation.
 * White space separates tokens and is no token.  Comments are not told
 * apart: `#` and `//` are punctuation like any other.
 *
 * The patterns, for the tokens b3 b2 b1 before a name and a1 a2 after it,
 * each counting the identifiers found in its slot, with its weight:
 *   b3 b2 b1 ⟨⟩         1
 *   b2 b1 ⟨⟩ a1         1
 *   b2 b1 ⟨⟩ a1 a2      2
 *   b1 ⟨⟩ a1 a2         0.5
 *   b2 b1 ⟨⟩            0.5
 *   b1 ⟨⟩ a1            0.5
 * A pattern one of whose tokens is unknown (the text starts or ends there,
 * or the token is longer than LEXEME_MAX - 1 bytes) counts nothing.  (On
 * the evaluation's tune set, the names this predicts alone are the one
 * typed for 22% of the code cases, among the first five for 34%; with the
 * two patterns that read a2, 36% and 53%.)
 */
#ifndef LCA_CODE_LEXEME_H
#define LCA_CODE_LEXEME_H

#include <stdbool.h>
#include <stddef.h>

#define LEXEME_MAX 64   /* longest token kept, NUL included */
#define LEXEME_BEFORE 3 /* tokens before the name a pattern reads */
#define LEXEME_AFTER 2  /* ... and after it */

/* The token at or after *at in s[0..len): its start in *start, its length
 * returned (0 at the end); *at moves past it. */
size_t lexeme_next(const char *s, size_t len, size_t *at, size_t *start);

/* Whether the token s[0..n) is an identifier. */
bool lexeme_is_name(const char *s, size_t n);

/* The slot of a name: the tokens before it (before[0] the farthest, ""
 * unknown), those after it (after[0] the nearest), and the identifiers
 * among the LEXEME_ANCHOR_READ tokens before it (nearest first, at most
 * LEXEME_ANCHORS_BEFORE) and the LEXEME_ANCHOR_READ_AFTER after it on its
 * line: a shard looks for the slot near where its chunks write the rarest
 * (`if self.⟨(err, dbapi_connection, None)`: dbapi_connection). */
#define LEXEME_ANCHORS_BEFORE 4
#define LEXEME_ANCHORS 7
#define LEXEME_ANCHOR_READ 8
#define LEXEME_ANCHOR_READ_AFTER 5
typedef struct {
    char before[LEXEME_BEFORE][LEXEME_MAX];
    char after[LEXEME_AFTER][LEXEME_MAX];
    char anchors[LEXEME_ANCHORS][LEXEME_MAX];
    size_t anchor_count;
} lexeme_slot_t;

/* Reads the slot of the name at the cursor: the tokens of the prefix
 * before the identifier the cursor is in or after (the part typed is the
 * name's), and the first tokens of the suffix after the rest of it.
 * Returns whether the token right before is known. */
bool lexeme_slot_read(const char *prefix, size_t prefix_len, const char *suffix, size_t suffix_len,
                      lexeme_slot_t *out);

/* Called for every identifier of a text standing in the slot, with the
 * weight of the patterns it matched (summed). */
typedef void (*lexeme_found_fn)(const char *name, size_t len, double weight, void *arg);

/* Scans text for identifiers in the slot; returns the summed weight of
 * every pattern matched at every position (the total the found weights
 * are a share of). */
double lexeme_slot_scan(const lexeme_slot_t *slot, const char *text, size_t len,
                        lexeme_found_fn found, void *arg);

/* As lexeme_slot_scan, over the lines of text that write anchor (as it is
 * written) and the line after each: the slot as the repository writes it
 * near that name, and no more of the text read than that. */
double lexeme_slot_scan_near(const lexeme_slot_t *slot, const char *anchor, const char *text,
                             size_t len, lexeme_found_fn found, void *arg);

#endif
