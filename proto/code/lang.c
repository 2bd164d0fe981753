/*
 * lang: the language table and its two look-ups.
 *
 * The table is indexed by lang_id_t, so lang_get() is an array access.
 * Detection looks at whole file names first (they beat extensions:
 * `CMakeLists.txt` is CMake, not text), then at the extension, then at the
 * interpreter named by a `#!` line, which is how scripts without an extension
 * (`bin/deploy`) get a language.  Nothing here allocates.
 */
#include "proto/code/lang.h"

#include <string.h>
#include <strings.h>

#define EXTS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_EXTS ((const char *const[]){NULL})

static const lang_t lang_table[LANG_COUNT] = {
    [LANG_UNKNOWN] = {LANG_UNKNOWN, "unknown", NULL, NULL, "text", false, false, NO_EXTS},
    [LANG_C] = {LANG_C, "c", "C", "//", "c", true, true, EXTS("c", "h")},
    [LANG_CPP] = {LANG_CPP, "cpp", "C++", "//", "cpp", true, true,
                  EXTS("cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "inl", "ipp")},
    [LANG_PYTHON] = {LANG_PYTHON, "python", "Python", "#", "python", false, false,
                     EXTS("py", "pyi", "pyw", "pyx")},
    [LANG_JAVASCRIPT] = {LANG_JAVASCRIPT, "javascript", "JavaScript", "//", "javascript", true,
                         false, EXTS("js", "jsx", "mjs", "cjs")},
    [LANG_TYPESCRIPT] = {LANG_TYPESCRIPT, "typescript", "TypeScript", "//", "typescript", true,
                         false, EXTS("ts", "tsx", "mts", "cts")},
    [LANG_GO] = {LANG_GO, "go", "Go", "//", "go", true, true, EXTS("go")},
    [LANG_JAVA] = {LANG_JAVA, "java", "Java", "//", "java", true, true, EXTS("java")},
    [LANG_RUST] = {LANG_RUST, "rust", "Rust", "//", "rust", true, true, EXTS("rs")},
    [LANG_RUBY] = {LANG_RUBY, "ruby", "Ruby", "#", "ruby", false, false,
                   EXTS("rb", "rake", "gemspec")},
    [LANG_PHP] = {LANG_PHP, "php", "PHP", "//", "php", true, false, EXTS("php", "phtml")},
    [LANG_CSHARP] = {LANG_CSHARP, "csharp", "C#", "//", "csharp", true, true, EXTS("cs")},
    [LANG_KOTLIN] = {LANG_KOTLIN, "kotlin", "Kotlin", "//", "kotlin", true, true,
                     EXTS("kt", "kts")},
    [LANG_SWIFT] = {LANG_SWIFT, "swift", NULL, "//", "swift", true, false, EXTS("swift")},
    [LANG_SCALA] = {LANG_SCALA, "scala", NULL, "//", "scala", true, true, EXTS("scala", "sc")},
    [LANG_SHELL] = {LANG_SHELL, "shell", "Sh", "#", "bash", false, false,
                    EXTS("sh", "bash", "zsh", "ksh")},
    [LANG_LUA] = {LANG_LUA, "lua", "Lua", "--", "lua", false, false, EXTS("lua")},
    [LANG_PERL] = {LANG_PERL, "perl", "Perl", "#", "perl", true, false, EXTS("pl", "pm")},
    [LANG_R] = {LANG_R, "r", "R", "#", "r", true, false, EXTS("r")},
    [LANG_HASKELL] = {LANG_HASKELL, "haskell", "Haskell", "--", "haskell", false, false,
                      EXTS("hs")},
    [LANG_ELIXIR] = {LANG_ELIXIR, "elixir", "Elixir", "#", "elixir", false, false,
                     EXTS("ex", "exs")},
    [LANG_ERLANG] = {LANG_ERLANG, "erlang", "Erlang", "%", "erlang", false, false,
                     EXTS("erl", "hrl")},
    [LANG_SQL] = {LANG_SQL, "sql", "SQL", "--", "sql", false, false, EXTS("sql")},
    [LANG_PROTOBUF] = {LANG_PROTOBUF, "protobuf", "Protobuf", "//", "protobuf", true, false,
                       EXTS("proto")},
    [LANG_HTML] = {LANG_HTML, "html", "HTML", NULL, "html", false, false, EXTS("html", "htm"),
                   "<!--", "-->"},
    [LANG_CSS] = {LANG_CSS, "css", "CSS", NULL, "css", true, false, EXTS("css"), "/*", "*/"},
    [LANG_SCSS] = {LANG_SCSS, "scss", "SCSS", "//", "scss", true, false, EXTS("scss")},
    [LANG_MARKDOWN] = {LANG_MARKDOWN, "markdown", "Markdown", NULL, "markdown", false, false,
                       EXTS("md", "markdown"), "<!--", "-->"},
    [LANG_JSON] = {LANG_JSON, "json", NULL, NULL, "json", false, false, EXTS("json")},
    [LANG_YAML] = {LANG_YAML, "yaml", "Yaml", "#", "yaml", false, false, EXTS("yml", "yaml")},
    [LANG_TOML] = {LANG_TOML, "toml", NULL, "#", "toml", false, false, EXTS("toml")},
    [LANG_MAKE] = {LANG_MAKE, "make", "Make", "#", "makefile", false, false, EXTS("mk", "mak")},
    [LANG_CMAKE] = {LANG_CMAKE, "cmake", "CMake", "#", "cmake", false, false, EXTS("cmake")},
    [LANG_DOCKERFILE] = {LANG_DOCKERFILE, "dockerfile", NULL, "#", "dockerfile", false, false,
                         EXTS("dockerfile")},
    [LANG_NIM] = {LANG_NIM, "nim", NULL, "#", "nim", false, true, EXTS("nim", "nims")},
    [LANG_ELM] = {LANG_ELM, "elm", NULL, "--", "elm", false, true, EXTS("elm")},
};

/* Whole file names that decide the language by themselves. */
static const struct {
    const char *file_name;
    lang_id_t id;
} lang_file_names[] = {
    {"Makefile", LANG_MAKE},
    {"makefile", LANG_MAKE},
    {"GNUmakefile", LANG_MAKE},
    {"Dockerfile", LANG_DOCKERFILE},
    {"Containerfile", LANG_DOCKERFILE},
    {"CMakeLists.txt", LANG_CMAKE},
    {"Rakefile", LANG_RUBY},
    {"Gemfile", LANG_RUBY},
    {"Vagrantfile", LANG_RUBY},
    {"BUILD", LANG_PYTHON},
    {"SConstruct", LANG_PYTHON},
};

/* Interpreters a `#!` line may name, matched against the program's base name
 * with any version digits and dots at its end removed (python3.11 -> python). */
static const struct {
    const char *interpreter;
    lang_id_t id;
} lang_interpreters[] = {
    {"python", LANG_PYTHON},
    {"node", LANG_JAVASCRIPT},
    {"nodejs", LANG_JAVASCRIPT},
    {"deno", LANG_TYPESCRIPT},
    {"ts-node", LANG_TYPESCRIPT},
    {"sh", LANG_SHELL},
    {"bash", LANG_SHELL},
    {"zsh", LANG_SHELL},
    {"ksh", LANG_SHELL},
    {"dash", LANG_SHELL},
    {"ash", LANG_SHELL},
    {"ruby", LANG_RUBY},
    {"perl", LANG_PERL},
    {"php", LANG_PHP},
    {"lua", LANG_LUA},
    {"Rscript", LANG_R},
    {"elixir", LANG_ELIXIR},
    {"escript", LANG_ERLANG},
};

const lang_t *lang_get(lang_id_t id) {
    if ((int)id < 0 || id >= LANG_COUNT)
        id = LANG_UNKNOWN;
    return &lang_table[id];
}

lang_id_t lang_from_name(const char *name) {
    if (!name)
        return LANG_UNKNOWN;
    for (int i = 0; i < LANG_COUNT; i++)
        if (strcasecmp(lang_table[i].name, name) == 0)
            return (lang_id_t)i;
    return LANG_UNKNOWN;
}

static lang_id_t lang_from_extension(const char *ext) {
    for (int i = 1; i < LANG_COUNT; i++)
        for (const char *const *e = lang_table[i].extensions; *e; e++)
            if (strcasecmp(*e, ext) == 0)
                return (lang_id_t)i;
    return LANG_UNKNOWN;
}

/* The interpreter of a `#!` line: `#!/usr/bin/env -S python3 -u` gives
 * "python3" in buf; the `env` indirection and its options are skipped. */
static lang_id_t lang_from_shebang(const char *head, size_t head_len) {
    if (!head || head_len < 3 || head[0] != '#' || head[1] != '!')
        return LANG_UNKNOWN;
    size_t end = 2;
    while (end < head_len && head[end] != '\n' && head[end] != '\r')
        end++;
    char word[64];
    size_t i = 2;
    bool after_env = false;
    for (;;) {
        while (i < end && (head[i] == ' ' || head[i] == '\t'))
            i++;
        if (i >= end)
            return LANG_UNKNOWN;
        size_t start = i;
        while (i < end && head[i] != ' ' && head[i] != '\t')
            i++;
        size_t base = start;
        for (size_t k = start; k < i; k++)
            if (head[k] == '/')
                base = k + 1;
        size_t len = i - base;
        if (len == 0 || len >= sizeof word)
            return LANG_UNKNOWN;
        memcpy(word, head + base, len);
        word[len] = '\0';
        if (!after_env && strcmp(word, "env") == 0) {
            after_env = true;
            continue;
        }
        if (after_env && word[0] == '-')
            continue; /* env options such as -S */
        break;
    }
    size_t len = strlen(word);
    while (len > 0 && ((word[len - 1] >= '0' && word[len - 1] <= '9') || word[len - 1] == '.'))
        word[--len] = '\0';
    for (size_t k = 0; k < sizeof lang_interpreters / sizeof lang_interpreters[0]; k++)
        if (strcmp(word, lang_interpreters[k].interpreter) == 0)
            return lang_interpreters[k].id;
    return LANG_UNKNOWN;
}

lang_id_t lang_detect(const char *path, const char *head, size_t head_len) {
    if (path) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        for (size_t k = 0; k < sizeof lang_file_names / sizeof lang_file_names[0]; k++)
            if (strcmp(base, lang_file_names[k].file_name) == 0)
                return lang_file_names[k].id;
        if (strncmp(base, "Dockerfile.", 11) == 0)
            return LANG_DOCKERFILE;
        const char *dot = strrchr(base, '.');
        if (dot && dot != base && dot[1]) {
            lang_id_t id = lang_from_extension(dot + 1);
            if (id != LANG_UNKNOWN)
                return id;
        }
    }
    return lang_from_shebang(head, head_len);
}
