/* Tests of proto/code/lang: detection by name, extension and `#!` line. */
#include "proto/code/lang.h"

#include <string.h>

#include "tests/test.h"

#define HEAD(s) (s), strlen(s)

TEST(extensions_map_to_languages) {
    CHECK_INT(lang_detect("a/b/main.c", NULL, 0), ==, LANG_C);
    CHECK_INT(lang_detect("x.hpp", NULL, 0), ==, LANG_CPP);
    CHECK_INT(lang_detect("pkg/mod.py", NULL, 0), ==, LANG_PYTHON);
    CHECK_INT(lang_detect("web/app.mjs", NULL, 0), ==, LANG_JAVASCRIPT);
    CHECK_INT(lang_detect("web/App.tsx", NULL, 0), ==, LANG_TYPESCRIPT);
    CHECK_INT(lang_detect("cmd/main.go", NULL, 0), ==, LANG_GO);
    CHECK_INT(lang_detect("A.java", NULL, 0), ==, LANG_JAVA);
    CHECK_INT(lang_detect("src/lib.rs", NULL, 0), ==, LANG_RUST);
    CHECK_INT(lang_detect("app.rb", NULL, 0), ==, LANG_RUBY);
    CHECK_INT(lang_detect("index.php", NULL, 0), ==, LANG_PHP);
    CHECK_INT(lang_detect("Program.cs", NULL, 0), ==, LANG_CSHARP);
    CHECK_INT(lang_detect("Main.kt", NULL, 0), ==, LANG_KOTLIN);
    CHECK_INT(lang_detect("run.sh", NULL, 0), ==, LANG_SHELL);
    CHECK_INT(lang_detect("conf.yaml", NULL, 0), ==, LANG_YAML);
}

TEST(extension_case_is_ignored) {
    CHECK_INT(lang_detect("LEGACY.PY", NULL, 0), ==, LANG_PYTHON);
    CHECK_INT(lang_detect("Main.JAVA", NULL, 0), ==, LANG_JAVA);
}

TEST(whole_file_names_beat_extensions) {
    CHECK_INT(lang_detect("build/CMakeLists.txt", NULL, 0), ==, LANG_CMAKE);
    CHECK_INT(lang_detect("Makefile", NULL, 0), ==, LANG_MAKE);
    CHECK_INT(lang_detect("docker/Dockerfile.dev", NULL, 0), ==, LANG_DOCKERFILE);
    CHECK_INT(lang_detect("Gemfile", NULL, 0), ==, LANG_RUBY);
}

TEST(shebang_gives_language_of_scripts) {
    CHECK_INT(lang_detect("bin/tool", HEAD("#!/usr/bin/env python3\nprint(1)\n")), ==, LANG_PYTHON);
    CHECK_INT(lang_detect("bin/tool", HEAD("#!/usr/bin/python3.11 -u\n")), ==, LANG_PYTHON);
    CHECK_INT(lang_detect("bin/tool", HEAD("#!/bin/sh\nset -e\n")), ==, LANG_SHELL);
    CHECK_INT(lang_detect("bin/tool", HEAD("#! /usr/bin/env -S node --harmony\n")), ==,
              LANG_JAVASCRIPT);
    CHECK_INT(lang_detect("bin/tool", HEAD("#!/usr/bin/env bash")), ==, LANG_SHELL);
    /* The extension wins over the shebang. */
    CHECK_INT(lang_detect("x.rb", HEAD("#!/bin/sh\n")), ==, LANG_RUBY);
}

TEST(unknown_inputs_give_unknown) {
    CHECK_INT(lang_detect("notes.txt", NULL, 0), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect("README", HEAD("hello\n")), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect(".bashrc", NULL, 0), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect("a.", NULL, 0), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect("x", HEAD("#!")), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect("x", HEAD("#!/usr/bin/env")), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect("x", HEAD("#!/usr/bin/frobnicate\n")), ==, LANG_UNKNOWN);
    CHECK_INT(lang_detect(NULL, NULL, 0), ==, LANG_UNKNOWN);
    /* head_len bounds the read: the shebang is cut before the interpreter. */
    CHECK_INT(lang_detect("x", "#!/bin/bash", 5), ==, LANG_UNKNOWN);
}

TEST(table_entries_are_complete) {
    for (int id = 0; id < LANG_COUNT; id++) {
        const lang_t *lang = lang_get((lang_id_t)id);
        CHECK_INT(lang->id, ==, id);
        CHECK(lang->name != NULL && lang->fence != NULL && lang->extensions != NULL);
        CHECK_INT(lang_from_name(lang->name), ==, id);
    }
    CHECK_STR(lang_get(LANG_CPP)->ctags_name, "C++");
    CHECK_STR(lang_get(LANG_PYTHON)->line_comment, "#");
    CHECK_STR(lang_get(LANG_LUA)->line_comment, "--");
    CHECK(lang_get(LANG_JSON)->line_comment == NULL);
    CHECK_STR(lang_get(LANG_SHELL)->fence, "bash");
    CHECK_STR(lang_get(LANG_HTML)->block_open, "<!--");
    CHECK_STR(lang_get(LANG_CSS)->block_close, "*/");
    CHECK(lang_get(LANG_PYTHON)->block_open == NULL);
    for (int id = 0; id < LANG_COUNT; id++) {
        const lang_t *lang = lang_get((lang_id_t)id);
        CHECK(!lang->block_open == !lang->block_close);
        CHECK(!(lang->line_comment && lang->block_open)); /* one way to head a block */
    }
    CHECK_INT(lang_get((lang_id_t)9999)->id, ==, LANG_UNKNOWN);
    CHECK_INT(lang_get((lang_id_t)-1)->id, ==, LANG_UNKNOWN);
    CHECK_INT(lang_from_name("PYTHON"), ==, LANG_PYTHON);
    CHECK_INT(lang_from_name("cobol"), ==, LANG_UNKNOWN);
    CHECK_INT(lang_from_name(NULL), ==, LANG_UNKNOWN);
}

TEST_MAIN(TEST_CASE(extensions_map_to_languages), TEST_CASE(extension_case_is_ignored),
          TEST_CASE(whole_file_names_beat_extensions), TEST_CASE(shebang_gives_language_of_scripts),
          TEST_CASE(unknown_inputs_give_unknown), TEST_CASE(table_entries_are_complete))
