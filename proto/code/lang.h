/*
 * lang: which programming language a file is written in, and the few facts
 * about that language the rest of lca needs.
 *
 * The seeder asks once per file (from its name, else from a `#!` line) and
 * carries the answer with every chunk; the gateway uses the same table to
 * head retrieved code with a path comment in the current file's own comment
 * syntax (fim.c) and to fence it in chat answers.  This is the only table of
 * comment syntax in lca.  ctags gets its own parser name from here
 * so that both agree on the language of every file.
 *
 * Invariants: every lang_id_t below LANG_COUNT has exactly one entry in the
 * table; `name` and `fence` are never NULL; `ctags_name` and `line_comment`
 * are NULL when universal-ctags has no parser or the language no line
 * comment; a language without a line comment has a block comment where it
 * has one at all (HTML, Markdown, CSS; not JSON).  The table is static and immutable: every pointer
 * returned is valid for the life of the process.
 */
#ifndef LCA_CODE_LANG_H
#define LCA_CODE_LANG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LANG_UNKNOWN = 0,
    LANG_C,
    LANG_CPP,
    LANG_PYTHON,
    LANG_JAVASCRIPT,
    LANG_TYPESCRIPT,
    LANG_GO,
    LANG_JAVA,
    LANG_RUST,
    LANG_RUBY,
    LANG_PHP,
    LANG_CSHARP,
    LANG_KOTLIN,
    LANG_SWIFT,
    LANG_SCALA,
    LANG_SHELL,
    LANG_LUA,
    LANG_PERL,
    LANG_R,
    LANG_HASKELL,
    LANG_ELIXIR,
    LANG_ERLANG,
    LANG_SQL,
    LANG_PROTOBUF,
    LANG_HTML,
    LANG_CSS,
    LANG_SCSS,
    LANG_MARKDOWN,
    LANG_JSON,
    LANG_YAML,
    LANG_TOML,
    LANG_MAKE,
    LANG_CMAKE,
    LANG_DOCKERFILE,
    LANG_NIM,
    LANG_ELM,
    LANG_COUNT
} lang_id_t;

typedef struct {
    lang_id_t id;
    const char *name;              /* lower-case, stable: "python", "cpp", "unknown" */
    const char *ctags_name;        /* universal-ctags parser ("C++"), or NULL */
    const char *line_comment;      /* "//", "#", "--", or NULL */
    const char *fence;             /* info string of a Markdown code fence ("text" if unknown) */
    bool braces;                   /* blocks are delimited by { and } */
    bool char_quotes;              /* ' opens a character literal (or a lifetime), not a string */
    const char *const *extensions; /* NULL-terminated, lower-case, without the dot */
    const char *block_open;  /* opens a block comment ("<!--") where there is no line comment */
    const char *block_close; /* closes it ("-->"); NULL when block_open is */
} lang_t;

/* The entry for id; an out-of-range id gives the LANG_UNKNOWN entry.  Never NULL. */
const lang_t *lang_get(lang_id_t id);

/* The language of a file: first from its file name (`Makefile`, `Dockerfile`,
 * `CMakeLists.txt`, ...), then from its extension (case-insensitive), then from
 * a `#!` line at the start of head (which may be NULL; head_len bytes are read
 * at most; `#!/usr/bin/env python3`, `#!/bin/sh`).  LANG_UNKNOWN when none fits.
 * path may carry directories; only its last component is looked at. */
lang_id_t lang_detect(const char *path, const char *head, size_t head_len);

/* The language whose `name` is name (case-insensitive), or LANG_UNKNOWN. */
lang_id_t lang_from_name(const char *name);

#endif
