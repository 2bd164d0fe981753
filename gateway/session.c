/*
 * Editing sessions (see session.h).
 *
 * The store is a small array scanned in full: a few hundred sessions at
 * most, one scan per completion request, next to a retrieval that costs
 * milliseconds.  Every string a session keeps is its own copy.
 */
#include "gateway/session.h"

#include "proto/base/buf.h"

#include <stdlib.h>
#include <string.h>

#define PROBE_BYTES 64  /* the window's first bytes, looked for in the remembered text */
#define AGREE_BYTES 128 /* how far the two must agree to be the same file and lines */
#define OCCURRENCES_MAX 64
#define PROMOTE_RANK 3   /* a new chunk must be among retrieval's best this many */
#define PROMOTE_STREAK 2 /* ... on this many keystrokes running */
#define RING_MAX 8
#define LINE_MIN 16 /* a line shorter than this (trimmed) says nothing of its file */

typedef struct {
    uint64_t id;     /* path, lines and text */
    unsigned streak; /* consecutive rounds retrieval offered it among its best */
    uint64_t round;  /* the last of them */
} candidate_t;

struct session {
    char *client, *model, *collection, *path;
    int layout;
    int64_t used_ms;
    buf_t known;    /* the file's text before the cursor, as last sent */
    char *own_path; /* the file being edited, learned from chunks */
    uint64_t scope;
    bool scoped; /* scope was set by a retrieval */
    uint64_t round;
    context_chunk_t held[SESSION_HELD_MAX]; /* strings owned */
    uint64_t held_seen[SESSION_HELD_MAX];   /* the last round retrieval offered each */
    size_t nheld;
    candidate_t ring[RING_MAX]; /* chunks offered but not held yet */
    size_t nring;
};

struct session_store {
    session_t **items;
    size_t count, max;
    int64_t ttl_ms;
};

/* ---- helpers ---- */

static char *copy_str(const char *s) {
    return bytes_dup(s ? s : "", s ? strlen(s) : 0);
}

static uint64_t fnv(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

#define FNV_START 0xcbf29ce484222325ULL

static uint64_t chunk_id(const context_chunk_t *c) {
    uint64_t h = fnv(FNV_START, c->path, strlen(c->path) + 1);
    int lines[2] = {c->start_line, c->end_line};
    h = fnv(h, lines, sizeof lines);
    return fnv(h, c->text, c->text_len);
}

static void chunk_free(context_chunk_t *c) {
    free((char *)c->path);
    free((char *)c->language);
    free((char *)c->kind);
    free((char *)c->text);
    memset(c, 0, sizeof *c);
}

static bool chunk_copy(context_chunk_t *to, const context_chunk_t *from) {
    *to = (context_chunk_t){.path = copy_str(from->path),
                            .start_line = from->start_line,
                            .end_line = from->end_line,
                            .language = copy_str(from->language),
                            .kind = copy_str(from->kind),
                            .score = from->score,
                            .text = bytes_dup(from->text ? from->text : "", from->text_len),
                            .text_len = from->text_len,
                            .nterms = from->nterms}; /* why it ranked: static names */
    memcpy(to->terms, from->terms, sizeof to->terms);
    if (!to->path || !to->language || !to->kind || !to->text) {
        chunk_free(to);
        return false;
    }
    return true;
}

/* ---- the store ---- */

static void session_free(session_t *s) {
    if (!s)
        return;
    free(s->client);
    free(s->model);
    free(s->collection);
    free(s->path);
    free(s->own_path);
    buf_free(&s->known);
    for (size_t i = 0; i < s->nheld; i++)
        chunk_free(&s->held[i]);
    free(s);
}

session_store_t *session_store_new(size_t max_sessions, int64_t ttl_ms) {
    session_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max = max_sessions ? max_sessions : 1;
    self->ttl_ms = ttl_ms;
    self->items = calloc(self->max, sizeof *self->items);
    if (!self->items) {
        free(self);
        return NULL;
    }
    return self;
}

void session_store_destroy(session_store_t **self_p) {
    if (!self_p || !*self_p)
        return;
    session_store_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        session_free(self->items[i]);
    free(self->items);
    free(self);
    *self_p = NULL;
}

size_t session_store_count(const session_store_t *self) {
    return self ? self->count : 0;
}

static void store_remove(session_store_t *self, size_t i) {
    session_free(self->items[i]);
    self->items[i] = self->items[--self->count];
}

static bool same_key(const session_t *s, const session_key_t *k) {
    return s->layout == k->layout && !strcmp(s->client, k->client ? k->client : "") &&
           !strcmp(s->model, k->model ? k->model : "") &&
           !strcmp(s->collection, k->collection ? k->collection : "") &&
           !strcmp(s->path, k->path ? k->path : "");
}

static session_t *session_new(const session_key_t *k) {
    session_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->client = copy_str(k->client);
    s->model = copy_str(k->model);
    s->collection = copy_str(k->collection);
    s->path = copy_str(k->path);
    s->layout = k->layout;
    if (!s->client || !s->model || !s->collection || !s->path) {
        session_free(s);
        return NULL;
    }
    return s;
}

/* Forgets what s knew of its file and context (the key stays). */
static void session_reset(session_t *s) {
    buf_reset(&s->known);
    free(s->own_path);
    s->own_path = NULL;
    for (size_t i = 0; i < s->nheld; i++)
        chunk_free(&s->held[i]);
    s->nheld = s->nring = 0;
    s->scoped = false;
    s->scope = s->round = 0;
}

session_t *session_find(session_store_t *self, const session_key_t *key, const char *prefix,
                        size_t len, int64_t now_ms) {
    /* the silent go first */
    for (size_t i = 0; i < self->count;)
        if (now_ms - self->items[i]->used_ms > self->ttl_ms)
            store_remove(self, i);
        else
            i++;
    bool named = key->path && *key->path;
    session_t *best = NULL, *oldest_of_key = NULL;
    size_t best_agree = 0, of_key = 0;
    for (size_t i = 0; i < self->count; i++) {
        session_t *s = self->items[i];
        if (!same_key(s, key))
            continue;
        of_key++;
        if (!oldest_of_key || s->used_ms < oldest_of_key->used_ms)
            oldest_of_key = s;
        if (named) { /* one session per named file */
            best = s;
            break;
        }
        session_match_t m = session_match(s->known.data, s->known.len, prefix, len);
        if (m.same && m.agree > best_agree) {
            best = s;
            best_agree = m.agree;
        }
    }
    if (!best && oldest_of_key && (named || of_key >= SESSION_FILES_PER_CLIENT)) {
        best = oldest_of_key; /* another file (or place) of a busy client: its oldest */
        session_reset(best);
    }
    if (!best) {
        if (self->count == self->max) { /* the least recently used goes */
            size_t lru = 0;
            for (size_t i = 1; i < self->count; i++)
                if (self->items[i]->used_ms < self->items[lru]->used_ms)
                    lru = i;
            store_remove(self, lru);
        }
        best = session_new(key);
        if (!best)
            return NULL;
        self->items[self->count++] = best;
    }
    best->used_ms = now_ms;
    return best;
}

/* ---- the prefix ---- */

session_match_t session_match(const char *known, size_t known_len, const char *prefix, size_t len) {
    session_match_t best = {0};
    size_t probe = len < PROBE_BYTES ? len : PROBE_BYTES;
    if (!known || !prefix || probe < 16 || known_len < probe)
        return best;
    size_t from = 0;
    for (int n = 0; n < OCCURRENCES_MAX; n++) {
        const char *hit = memmem(known + from, known_len - from, prefix, probe);
        if (!hit)
            break;
        size_t at = (size_t)(hit - known), agree = probe;
        while (at + agree < known_len && agree < len && known[at + agree] == prefix[agree])
            agree++;
        /* the longest agreement; among equals the latest start (less put back) */
        if (agree >= best.agree) {
            best.at = at;
            best.agree = agree;
        }
        from = at + 1;
        if (from + probe > known_len)
            break;
    }
    size_t need = len < AGREE_BYTES ? len : AGREE_BYTES;
    best.same = best.agree >= need && best.agree >= probe;
    return best;
}

size_t session_trim_head(const char *text, size_t len, size_t max_tokens, tokens_family_t family) {
    if (tokens_estimate(family, text, len) <= max_tokens)
        return 0;
    /* line starts after 0, in order; the estimate of what follows a start
     * falls as the start moves on, so the first that fits is found by
     * halving */
    size_t lo = 1, hi = len, fit = len; /* search the byte range for a line start */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        /* the first line start at or after mid */
        const char *nl = memchr(text + mid - 1, '\n', len - (mid - 1));
        size_t start = nl ? (size_t)(nl - text) + 1 : len;
        if (start < len && tokens_estimate(family, text + start, len - start) <= max_tokens) {
            fit = start;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return fit;
}

size_t session_restore(session_t *s, const char *prefix, size_t len, size_t max_tokens,
                       tokens_family_t family, buf_t *out) {
    session_match_t m = session_match(s->known.data, s->known.len, prefix, len);
    if (!m.same || m.at == 0 || max_tokens == 0)
        return 0;
    size_t from = 0;
    if (tokens_estimate(family, s->known.data, m.at) > max_tokens)
        from = session_trim_head(s->known.data, m.at, max_tokens / 2, family);
    if (from >= m.at)
        return 0;
    buf_append(out, s->known.data + from, m.at - from);
    return m.at - from;
}

void session_remember(session_t *s, const char *restored, size_t restored_len, const char *prefix,
                      size_t len) {
    buf_reset(&s->known);
    if (restored_len + len > SESSION_TEXT_MAX)
        return; /* too long to be a window: nothing to put back next time */
    buf_append(&s->known, restored, restored_len);
    buf_append(&s->known, prefix, len);
}

/* ---- the scope ---- */

static size_t indent_of(const char *line, size_t n) {
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i;
}

static bool starts_word(const char *s, size_t n, const char *word) {
    size_t w = strlen(word);
    return n >= w && memcmp(s, word, w) == 0 &&
           (n == w || !((s[w] >= 'a' && s[w] <= 'z') || (s[w] >= 'A' && s[w] <= 'Z') ||
                        (s[w] >= '0' && s[w] <= '9') || s[w] == '_'));
}

/* A statement that opens a block inside a scope rather than a scope. */
static bool is_control(const char *s, size_t n) {
    static const char *const words[] = {
        "if",     "else",    "elif",       "for",       "while",  "switch",  "case", "try",
        "except", "catch",   "finally",    "with",      "do",     "match",   "when", "loop",
        "unless", "foreach", "async with", "async for", "} else", "} catch", NULL};
    for (int i = 0; words[i]; i++)
        if (starts_word(s, n, words[i]))
            return true;
    return false;
}

/* Brackets only, a comment or a decorator: no scope of its own. */
static bool is_filler(const char *s, size_t n) {
    if (n == 0 || s[0] == '#' || s[0] == '@' ||
        (n >= 2 && s[0] == '/' && (s[1] == '/' || s[1] == '*')) || s[0] == '*' ||
        (n >= 2 && s[0] == '-' && s[1] == '-'))
        return true;
    for (size_t i = 0; i < n; i++)
        if (!strchr("{}()[];,: \t\r", s[i]))
            return false;
    return true;
}

/* Whether a line (trimmed, not a control statement) starts a definition:
 * a definition keyword, or a C-like header (a call-like line that opens a
 * block, or at the left margin and not a statement). */
static bool is_definition(const char *s, size_t n, size_t indent) {
    static const char *const words[] = {
        "def",    "async",     "class",  "function", "func",     "fn",        "fun",
        "pub",    "impl",      "struct", "enum",     "union",    "interface", "trait",
        "module", "namespace", "export", "public",   "private",  "protected", "static",
        "object", "type",      "extern", "inline",   "virtual",  "override",  "abstract",
        "final",  "sub",       "proc",   "macro",    "template", "typedef",   NULL};
    for (int i = 0; words[i]; i++)
        if (starts_word(s, n, words[i]))
            return true;
    bool call_like = memchr(s, '(', n) != NULL;
    if (call_like && n > 0 && s[n - 1] == '{')
        return true;
    /* const f = (a) => {, let g = function (...) */
    if ((starts_word(s, n, "const") || starts_word(s, n, "let") || starts_word(s, n, "var")) &&
        (memmem(s, n, "=>", 2) || memmem(s, n, "function", 8)))
        return true;
    return indent == 0 && call_like && s[n - 1] != ';' && s[n - 1] != ',';
}

/* Whether a line opens a block: it ends with ':', '{', '(' or '['. */
static bool opens_block(const char *s, size_t n) {
    return n > 0 && (s[n - 1] == ':' || s[n - 1] == '{' || s[n - 1] == '(' || s[n - 1] == '[');
}

uint64_t session_scope(const char *text, size_t len) {
    if (!text || len == 0)
        return 0;
    /* the cursor's line, and the indentation a scope line must be under */
    size_t line_start = len;
    while (line_start > 0 && text[line_start - 1] != '\n')
        line_start--;
    size_t cur_indent = indent_of(text + line_start, len - line_start);
    /* SIZE_MAX: the cursor's line is blank, the first line above sets it */
    size_t limit = cur_indent == len - line_start ? SIZE_MAX : cur_indent;
    size_t end = line_start; /* lines before [.., end) are left to read */
    while (end > 0) {
        size_t e = end - 1; /* the '\n' ending the line */
        size_t s = e;
        while (s > 0 && text[s - 1] != '\n')
            s--;
        end = s;
        const char *line = text + s;
        size_t n = e - s;
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            n--;
        size_t ind = indent_of(line, n);
        if (ind == n)
            continue;          /* blank */
        if (limit == SIZE_MAX) /* on a new line: a block the line above opens holds it */
            limit = opens_block(line, n) ? ind + 1 : ind;
        /* the tail of a header or statement cut over lines (") -> T:"):
         * what it closes opens further up */
        bool closing = line[ind] == ')' || line[ind] == ']' || line[ind] == '}';
        if (ind >= limit || is_filler(line + ind, n - ind) || closing)
            continue;
        if (is_control(line + ind, n - ind) || !is_definition(line + ind, n - ind, ind)) {
            /* a block inside the scope, or a statement's continuation */
            limit = ind;
            if (limit == 0)
                break;
            continue;
        }
        return fnv(fnv(FNV_START, &ind, sizeof ind), line + ind, n - ind) | 1;
    }
    return 0;
}

/* ---- the file being edited ---- */

static bool import_like(const char *s, size_t n) {
    return starts_word(s, n, "import") || starts_word(s, n, "from") ||
           starts_word(s, n, "#include") || starts_word(s, n, "using") ||
           starts_word(s, n, "package") || starts_word(s, n, "require") || starts_word(s, n, "use");
}

/* The next line of text[*at, len), trimmed on both sides; false at the end. */
static bool next_line(const char *text, size_t len, size_t *at, const char **line, size_t *n) {
    if (*at >= len)
        return false;
    const char *s = text + *at;
    const char *nl = memchr(s, '\n', len - *at);
    size_t raw = nl ? (size_t)(nl - s) : len - *at;
    *at += raw + (nl ? 1 : 0);
    size_t i = indent_of(s, raw);
    while (raw > i && (s[raw - 1] == ' ' || s[raw - 1] == '\t' || s[raw - 1] == '\r'))
        raw--;
    *line = s + i;
    *n = raw - i;
    return true;
}

/* A set of line hashes (open addressing; 0 is empty). */
typedef struct {
    uint64_t *slots;
    size_t cap;
} lines_t;

static void lines_add(lines_t *set, uint64_t h) {
    for (size_t i = h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (set->slots[i] == h)
            return;
        if (!set->slots[i]) {
            set->slots[i] = h;
            return;
        }
    }
}

static bool lines_has(const lines_t *set, uint64_t h) {
    for (size_t i = h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (set->slots[i] == h)
            return true;
        if (!set->slots[i])
            return false;
    }
}

static uint64_t line_hash(const char *line, size_t n) {
    return fnv(FNV_START, line, n) | 1;
}

/* Whether the chunk's lines are the client's: at least two of its telling
 * lines (long enough, not imports) are in set, and they are at least half
 * of them, or six. */
static bool chunk_is_own(const lines_t *set, const context_chunk_t *c) {
    size_t at = 0, n, telling = 0, found = 0;
    const char *line;
    while (next_line(c->text, c->text_len, &at, &line, &n)) {
        if (n < LINE_MIN || import_like(line, n))
            continue;
        telling++;
        found += lines_has(set, line_hash(line, n));
    }
    return found >= 2 && (found * 2 >= telling || found >= 6);
}

static void drop_path(context_chunk_t *chunks, size_t *count, const char *path) {
    size_t w = 0;
    for (size_t i = 0; i < *count; i++)
        if (strcmp(chunks[i].path, path) != 0)
            chunks[w++] = chunks[i];
    *count = w;
}

size_t session_leave_out_own(session_t *s, context_chunk_t *chunks, size_t count,
                             const char *const *texts, const size_t *lens, size_t ntexts) {
    if (s->own_path)
        drop_path(chunks, &count, s->own_path);
    size_t total = 0;
    for (size_t t = 0; t < ntexts; t++)
        for (size_t i = 0; i < lens[t]; i++)
            total += texts[t][i] == '\n';
    lines_t set = {0};
    for (set.cap = 64; set.cap < 2 * (total + ntexts) + 64; set.cap *= 2)
        ;
    set.slots = calloc(set.cap, sizeof *set.slots);
    if (!set.slots)
        return count;
    for (size_t t = 0; t < ntexts; t++) {
        size_t at = 0, n;
        const char *line;
        while (next_line(texts[t], lens[t], &at, &line, &n))
            if (n >= LINE_MIN)
                lines_add(&set, line_hash(line, n));
    }
    for (size_t i = 0; i < count; i++) {
        if (!chunk_is_own(&set, &chunks[i]))
            continue;
        char *learned = copy_str(chunks[i].path);
        if (!learned)
            break;
        free(s->own_path);
        s->own_path = learned;
        drop_path(chunks, &count, learned);
        /* held chunks of it go too */
        size_t w = 0;
        for (size_t h = 0; h < s->nheld; h++) {
            if (strcmp(s->held[h].path, learned) == 0) {
                chunk_free(&s->held[h]);
                continue;
            }
            s->held[w] = s->held[h];
            s->held_seen[w++] = s->held_seen[h];
        }
        for (size_t h = w; h < s->nheld; h++)
            memset(&s->held[h], 0, sizeof s->held[h]);
        s->nheld = w;
        i = (size_t)-1; /* start again: the list changed under us */
    }
    free(set.slots);
    return count;
}

const char *session_own_path(const session_t *s) {
    return s->own_path;
}

/* ---- the held chunks ---- */

/* What a chunk costs in the block: its text and a header line. */
static size_t cost_chars(const context_chunk_t *c) {
    return c->text_len + strlen(c->path) + 40;
}

static size_t cost_tokens(const context_chunk_t *c, tokens_family_t family) {
    return tokens_estimate(family, c->text, c->text_len) +
           tokens_estimate(family, c->path, strlen(c->path)) + 16;
}

static long held_index(const session_t *s, uint64_t id) {
    for (size_t i = 0; i < s->nheld; i++)
        if (chunk_id(&s->held[i]) == id)
            return (long)i;
    return -1;
}

/* Appends a copy of c to the held list if it fits beside *chars and
 * *tokens (updated). */
static bool held_append(session_t *s, const context_chunk_t *c, const session_budget_t *b,
                        size_t *chars, size_t *tokens) {
    if (s->nheld == SESSION_HELD_MAX)
        return false;
    size_t cc = cost_chars(c), ct = cost_tokens(c, b->family);
    if (*chars + cc > b->chars || *tokens + ct > b->tokens)
        return false;
    if (!chunk_copy(&s->held[s->nheld], c))
        return false;
    s->held_seen[s->nheld++] = s->round;
    *chars += cc;
    *tokens += ct;
    return true;
}

static void held_remove(session_t *s, size_t i) {
    chunk_free(&s->held[i]);
    memmove(&s->held[i], &s->held[i + 1], (s->nheld - i - 1) * sizeof s->held[0]);
    memmove(&s->held_seen[i], &s->held_seen[i + 1], (s->nheld - i - 1) * sizeof s->held_seen[0]);
    s->nheld--;
    memset(&s->held[s->nheld], 0, sizeof s->held[0]);
}

/* A new scope (or the first retrieval): the held chunks still offered, in
 * their order, then the others offered, best first, as the budget allows. */
static bool rebuild(session_t *s, const context_chunk_t *fresh, size_t count,
                    const session_budget_t *b) {
    uint64_t before[SESSION_HELD_MAX];
    size_t nbefore = s->nheld;
    for (size_t i = 0; i < s->nheld; i++)
        before[i] = chunk_id(&s->held[i]);
    bool offered[SESSION_HELD_MAX] = {false};
    for (size_t f = 0; f < count; f++) {
        long h = held_index(s, chunk_id(&fresh[f]));
        if (h >= 0)
            offered[h] = true;
    }
    size_t chars = 0, tokens = 0, w = 0;
    for (size_t i = 0; i < s->nheld; i++) {
        size_t cc = cost_chars(&s->held[i]), ct = cost_tokens(&s->held[i], b->family);
        if (!offered[i] || chars + cc > b->chars || tokens + ct > b->tokens) {
            chunk_free(&s->held[i]);
            continue;
        }
        chars += cc;
        tokens += ct;
        s->held[w] = s->held[i];
        s->held_seen[w++] = s->round;
    }
    for (size_t i = w; i < s->nheld; i++)
        memset(&s->held[i], 0, sizeof s->held[i]);
    s->nheld = w;
    for (size_t f = 0; f < count; f++)
        if (held_index(s, chunk_id(&fresh[f])) < 0)
            held_append(s, &fresh[f], b, &chars, &tokens);
    s->nring = 0;
    if (s->nheld != nbefore)
        return true;
    for (size_t i = 0; i < s->nheld; i++)
        if (chunk_id(&s->held[i]) != before[i])
            return true;
    return false;
}

/* The same scope: held chunks offered again are marked seen; a chunk offered
 * among the best on PROMOTE_STREAK rounds running joins at the end, making
 * room by dropping held chunks retrieval does not offer now, the last
 * first (the model reads again only what follows the first one dropped). */
static bool advance(session_t *s, const context_chunk_t *fresh, size_t count,
                    const session_budget_t *b) {
    candidate_t ring[RING_MAX] = {{0}};
    size_t nring = 0;
    const context_chunk_t *promote = NULL;
    for (size_t f = 0; f < count; f++) {
        uint64_t id = chunk_id(&fresh[f]);
        long h = held_index(s, id);
        if (h >= 0) {
            s->held_seen[h] = s->round;
            continue;
        }
        if (f >= PROMOTE_RANK || nring == RING_MAX)
            continue;
        candidate_t c = {.id = id, .streak = 1, .round = s->round};
        for (size_t r = 0; r < s->nring; r++)
            if (s->ring[r].id == id && s->ring[r].round + 1 == s->round)
                c.streak = s->ring[r].streak + 1;
        if (c.streak >= PROMOTE_STREAK && !promote)
            promote = &fresh[f];
        else
            ring[nring++] = c;
    }
    memcpy(s->ring, ring, nring * sizeof ring[0]);
    s->nring = nring;
    if (!promote)
        return false;
    size_t chars = 0, tokens = 0;
    for (size_t i = 0; i < s->nheld; i++) {
        chars += cost_chars(&s->held[i]);
        tokens += cost_tokens(&s->held[i], b->family);
    }
    size_t need_chars = cost_chars(promote), need_tokens = cost_tokens(promote, b->family);
    if (need_chars > b->chars || need_tokens > b->tokens)
        return false;
    /* Room is made only when dropping what is no longer offered makes
     * enough: otherwise nothing moves. */
    size_t free_chars = 0, free_tokens = 0, free_slots = 0;
    for (size_t i = 0; i < s->nheld; i++)
        if (s->held_seen[i] < s->round) {
            free_chars += cost_chars(&s->held[i]);
            free_tokens += cost_tokens(&s->held[i], b->family);
            free_slots++;
        }
    if ((s->nheld == SESSION_HELD_MAX && free_slots == 0) ||
        chars - free_chars + need_chars > b->chars ||
        tokens - free_tokens + need_tokens > b->tokens)
        return false;
    bool changed = false;
    while (s->nheld == SESSION_HELD_MAX || chars + need_chars > b->chars ||
           tokens + need_tokens > b->tokens) {
        /* the last held chunk retrieval no longer offers: what follows it
         * is all the model reads again */
        long victim = -1;
        for (size_t i = 0; i < s->nheld; i++)
            if (s->held_seen[i] < s->round)
                victim = (long)i;
        if (victim < 0)
            return changed; /* everything held is still offered: no room */
        chars -= cost_chars(&s->held[victim]);
        tokens -= cost_tokens(&s->held[victim], b->family);
        held_remove(s, (size_t)victim);
        changed = true;
    }
    return held_append(s, promote, b, &chars, &tokens) || changed;
}

bool session_hold(session_t *s, uint64_t scope, const context_chunk_t *fresh, size_t count,
                  const session_budget_t *budget) {
    if (count == 0)
        return false; /* nothing new to judge by: what is held stays */
    s->round++;
    if (!s->scoped || scope != s->scope || s->nheld == 0) {
        s->scope = scope;
        s->scoped = true;
        return rebuild(s, fresh, count, budget);
    }
    return advance(s, fresh, count, budget);
}

size_t session_held(const session_t *s, const context_chunk_t **chunks) {
    *chunks = s->held;
    return s->nheld;
}

void session_keep(session_t *s, const bool *used) {
    size_t w = 0;
    for (size_t i = 0; i < s->nheld; i++) {
        if (!used[i]) {
            chunk_free(&s->held[i]);
            continue;
        }
        s->held[w] = s->held[i];
        s->held_seen[w++] = s->held_seen[i];
    }
    for (size_t i = w; i < s->nheld; i++)
        memset(&s->held[i], 0, sizeof s->held[i]);
    s->nheld = w;
}
