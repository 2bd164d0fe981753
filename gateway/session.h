/*
 * session: what the gateway remembers of one editing session between
 * keystrokes, so that the prompt it sends the model changes as little as
 * the editing does.
 *
 * Ollama keeps the KV cache of the last prompt and reads again only what
 * follows the longest common prefix, so every byte that changes early in a
 * prompt costs the model everything after it.  Two things change early
 * unless someone holds them still:
 *
 *   - the repository context, which a retrieval per keystroke would
 *     reshuffle: a session holds the chunks it put in the block and keeps
 *     them, in their order, while the cursor stays in one scope (the
 *     enclosing definition); a chunk joins only when retrieval offers it
 *     among its best on two keystrokes running, and joins at the end, so
 *     what precedes it stays cached; held chunks nobody offers any more
 *     make room when room is needed.  A new scope keeps the held chunks
 *     retrieval still offers, in their order, and adds the rest after them.
 *     (llama.vscode keeps a ring of chunks per editor and moves new ones in
 *     only when the user pauses; the gateway serves every client, so the
 *     ring is per session and the pause is "offered twice".)
 *   - the head of the client's own text: clients cut a window around the
 *     cursor (ProxyAI about 256 tokens), so its start slides with every
 *     keystroke.  The session remembers the file's text it saw before the
 *     cursor and puts back what fell off the window's head, so the head
 *     stays where it was.  The client's window is found in that text by its
 *     first bytes and must agree with it for a good stretch (it is the
 *     same file, the same lines); when it does not, or the text put back
 *     grows past its cap, the head moves to a line boundary (re-anchoring)
 *     and the model reads everything once.
 *
 * It also learns which file is being edited when the client does not say:
 * a retrieved chunk whose lines are the client's own (its window, or the
 * text put back) is of that file, and from then on no chunk of it enters
 * the context and retrieval is told the path.
 *
 * Who a session is: the client (address and user agent), the model, the
 * collection the request names, the prompt's layout and the file's path
 * when the client sends one.  A client that sends no path (ProxyAI) may
 * edit several files: up to SESSION_FILES_PER_CLIENT sessions share its
 * key, and a request goes to the one whose remembered text its window is
 * found in.
 *
 * Bounded: at most max sessions (the least recently used go), each
 * forgotten after ttl of silence; the text remembered is at most
 * SESSION_TEXT_MAX bytes; held chunks are bounded by the context budget.
 * Pure (no server, no clock: callers pass the time), loop thread only;
 * tested in tests/unit/gateway_session_test.c.
 */
#ifndef LCA_GATEWAY_SESSION_H
#define LCA_GATEWAY_SESSION_H

#include "gateway/context.h"
#include "gateway/tokens.h"
#include "proto/base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_FILES_PER_CLIENT 4
#define SESSION_TEXT_MAX (256 * 1024)
#define SESSION_HELD_MAX 16

typedef struct session_store session_store_t;
typedef struct session session_t;

/* Who is editing (every string borrowed, "" when unknown). */
typedef struct {
    const char *client;     /* the peer's address and user agent */
    const char *model;      /* the model asked for */
    const char *collection; /* the collection the request names */
    const char *path;       /* the file, when the client names it */
    int layout;             /* the prompt's shape (a fim_family_t) */
} session_key_t;

/* A store for at most max_sessions (>= 1), each forgotten after ttl_ms
 * without a request.  NULL when out of memory. */
session_store_t *session_store_new(size_t max_sessions, int64_t ttl_ms);

/* Frees the store and every session; *self_p becomes NULL.  NULL is fine. */
void session_store_destroy(session_store_t **self_p);

/* Sessions held now. */
size_t session_store_count(const session_store_t *self);

/* The session for key whose file's client window is prefix (the client's
 * code before the cursor): among the sessions of key, the one whose
 * remembered text prefix is found in; else a new one (a client naming its
 * file has one session per file: it is taken and re-anchored).  Sessions
 * silent for longer than the ttl go first.  NULL only when out of memory.
 * The session stays valid until the next call on the store. */
session_t *session_find(session_store_t *self, const session_key_t *key, const char *prefix,
                        size_t len, int64_t now_ms);

/* ---- the prefix ---- */

/* Where a client's window starts in a remembered text: the same file and
 * lines when the window's first bytes are found in known and the two then
 * agree for at least min(len, 128) bytes. */
typedef struct {
    bool same;
    size_t at;    /* where the window starts in known */
    size_t agree; /* bytes that agree from there */
} session_match_t;

session_match_t session_match(const char *known, size_t known_len, const char *prefix, size_t len);

/* The text of the file before the client's window that s remembers, to put
 * back before it: none when the window is not found in what s remembers
 * (then s re-anchors at the window), else cut at a line boundary to at most
 * max_tokens (family's estimate) — when it is longer, to half of it, so
 * that it can grow again for a while before the next cut.  Appends it to
 * out; returns its length. */
size_t session_restore(session_t *s, const char *prefix, size_t len, size_t max_tokens,
                       tokens_family_t family, buf_t *out);

/* The start of the last part of text[0, len) that begins a line and costs
 * at most max_tokens: the offset to cut text at (len when no line fits). */
size_t session_trim_head(const char *text, size_t len, size_t max_tokens, tokens_family_t family);

/* Remembers what was sent as the file's text before the cursor: restored
 * (what the gateway put back) then prefix (the client's). */
void session_remember(session_t *s, const char *restored, size_t restored_len, const char *prefix,
                      size_t len);

/* ---- the context ---- */

/* A hash of the scope the cursor is in: the line of the nearest enclosing
 * definition in text (the code before the cursor), found by indentation —
 * a line less indented than the cursor's that starts a definition (a
 * keyword such as def, class, function, fn, func, or a C-like header);
 * control statements, continuation lines, brackets, comments and
 * decorators are passed over.  0 when there is none. */
uint64_t session_scope(const char *text, size_t len);

/* What a context block may cost (see fim_budget_t). */
typedef struct {
    size_t chars;
    size_t tokens;
    tokens_family_t family;
} session_budget_t;

/* Drops from chunks[0, count) those of the file being edited, in place:
 * those of the path s learned, and those whose lines are the client's own
 * (found in texts), whose path s then learns.  Returns the new count. */
size_t session_leave_out_own(session_t *s, context_chunk_t *chunks, size_t count,
                             const char *const *texts, const size_t *lens, size_t ntexts);

/* The path of the file being edited, as learned from the chunks (NULL:
 * not known). */
const char *session_own_path(const session_t *s);

/* Updates the held chunks with a retrieval's (fresh, best first; none when
 * it failed or ran out of time: then nothing changes) for the cursor in
 * scope, within budget.  Returns whether the held list changed. */
bool session_hold(session_t *s, uint64_t scope, const context_chunk_t *fresh, size_t count,
                  const session_budget_t *budget);

/* The held chunks, in the block's order (owned by s, valid until the next
 * call on s). */
size_t session_held(const session_t *s, const context_chunk_t **chunks);

/* Keeps only the held chunks used[i] marks (those the block had room for). */
void session_keep(session_t *s, const bool *used);

#endif
