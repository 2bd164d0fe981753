/* Tests of proto/code/imports: scanning and resolution for each language. */
#include "proto/code/imports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fixture.h"
#include "tests/test.h"

/* Every file of the fixture, as the walk lists them. */
static const char *const fixture_paths[] = {
    "README.md",
    "c/include/inventory/stock.h",
    "c/lib/vec.h",
    "c/src/report.c",
    "c/src/stock.c",
    "c/src/util.h",
    "docs/notes.txt",
    "go.mod",
    "go/cmd/server/main.go",
    "go/internal/store/cache.go",
    "go/internal/store/store.go",
    "go/internal/store/store_test.go",
    "java/src/main/java/com/example/shop/App.java",
    "java/src/main/java/com/example/shop/model/Order.java",
    "java/src/main/java/com/example/shop/util/Money.java",
    "java/src/main/java/com/example/shop/util/Strings.java",
    "py/shop/__init__.py",
    "py/shop/main.py",
    "py/shop/models.py",
    "py/shop/services/__init__.py",
    "py/shop/services/billing.py",
    "py/shop/services/tax.py",
    "py/shop/util.py",
    "rust/Cargo.toml",
    "rust/src/config.rs",
    "rust/src/main.rs",
    "rust/src/net/http.rs",
    "rust/src/net/mod.rs",
    "scripts/deploy",
    "web/legacy.cjs",
    "web/src/api.ts",
    "web/src/components/Button.tsx",
    "web/src/index.ts",
    "web/src/util/format.ts",
    "web/src/util/index.js",
    "web/src/util/slug.mjs",
};
#define FIXTURE_COUNT (sizeof fixture_paths / sizeof fixture_paths[0])

static imports_index_t *fixture_index(void) {
    static imports_index_t *index;
    if (!index && imports_index_new(fixture_repo(), fixture_paths, FIXTURE_COUNT, &index) != 0)
        return NULL;
    return index;
}

static imports_t *extract_fixture(const char *rel, lang_id_t lang) {
    size_t len = 0;
    char *data = fixture_repo_read(rel, &len);
    if (!data)
        return NULL;
    imports_t *out = NULL;
    imports_index_t *index = fixture_index();
    if (index && imports_extract(index, rel, lang, data, len, &out) != 0)
        out = NULL;
    free(data);
    return out;
}

static const imports_entry_t *entry(const imports_t *im, const char *name) {
    for (size_t i = 0; i < imports_count(im); i++)
        if (strcmp(imports_get(im, i)->name, name) == 0)
            return imports_get(im, i);
    return NULL;
}

/* The name an import binds, "" for none. */
static bool binds(const imports_t *im, const char *name, const char *alias) {
    const imports_entry_t *e = entry(im, name);
    const char *got = e && e->alias ? e->alias : "";
    if (!e || strcmp(got, alias) != 0) {
        fprintf(stderr, "  %s binds \"%s\", expected \"%s\"\n", name, got, alias);
        return false;
    }
    return true;
}

/* "a b" lists the files an import resolves to, in order; "" means none. */
static bool resolves_to(const imports_t *im, const char *name, const char *files) {
    const imports_entry_t *e = entry(im, name);
    if (!e) {
        fprintf(stderr, "  no import named %s\n", name);
        return false;
    }
    char joined[4096] = "";
    for (size_t i = 0; i < e->file_count; i++) {
        if (i)
            strcat(joined, " ");
        strncat(joined, e->files[i], sizeof joined - strlen(joined) - 2);
    }
    if (strcmp(joined, files) != 0) {
        fprintf(stderr, "  %s resolves to \"%s\", expected \"%s\"\n", name, joined, files);
        return false;
    }
    return true;
}

TEST(python_imports) {
    imports_t *im = extract_fixture("py/shop/main.py", LANG_PYTHON);
    REQUIRE(im);
    CHECK(resolves_to(im, "os", ""));
    CHECK(resolves_to(im, "sys", ""));
    CHECK(resolves_to(im, "shop.services.billing", "py/shop/services/billing.py"));
    CHECK(resolves_to(im, "shop.util", "py/shop/util.py")); /* from shop import util */
    CHECK(resolves_to(im, ".models", "py/shop/models.py"));
    CHECK(resolves_to(im, ".services.tax", "py/shop/services/tax.py"));
    CHECK_INT(entry(im, ".models")->line, ==, 7);
    CHECK(binds(im, "shop.services.billing", "billing")); /* import ... as billing */
    CHECK(binds(im, "shop.util", "util"));                /* from shop import util */
    CHECK(binds(im, ".models", ""));                      /* names, not a module */
    CHECK(binds(im, "os", "os"));
    CHECK_INT(imports_count(im), ==, 6);
    CHECK_INT(imports_file_count(im), ==, 4);
    CHECK_STR(imports_file(im, 0), "py/shop/models.py");
    CHECK(imports_file(im, 99) == NULL);
    imports_destroy(&im);
    im = extract_fixture("py/shop/services/billing.py", LANG_PYTHON);
    REQUIRE(im);
    CHECK(resolves_to(im, "..models", "py/shop/models.py"));
    CHECK(resolves_to(im, ".tax", "py/shop/services/tax.py"));
    CHECK(resolves_to(im, "..util", "py/shop/util.py"));
    imports_destroy(&im);
}

TEST(javascript_and_typescript_imports) {
    imports_t *im = extract_fixture("web/src/index.ts", LANG_TYPESCRIPT);
    REQUIRE(im);
    CHECK(resolves_to(im, "./api", "web/src/api.ts"));
    CHECK(resolves_to(im, "./components/Button", "web/src/components/Button.tsx"));
    CHECK(resolves_to(im, "./util", "web/src/util/index.js"));         /* directory index */
    CHECK(resolves_to(im, "./util/format", "web/src/util/format.ts")); /* export * from */
    CHECK(resolves_to(im, "react", ""));
    CHECK(binds(im, "react", "React"));
    CHECK(binds(im, "./components/Button", "Button"));
    CHECK(binds(im, "./api", "")); /* named imports only */
    imports_destroy(&im);
    im = extract_fixture("web/src/components/Button.tsx", LANG_TYPESCRIPT);
    REQUIRE(im);
    CHECK(resolves_to(im, "../util/format.js", "web/src/util/format.ts")); /* .js means .ts */
    imports_destroy(&im);
    im = extract_fixture("web/src/util/index.js", LANG_JAVASCRIPT);
    REQUIRE(im);
    CHECK(resolves_to(im, "./format", "web/src/util/format.ts"));
    CHECK(resolves_to(im, "./slug.mjs", "web/src/util/slug.mjs"));
    imports_destroy(&im);
    im = extract_fixture("web/legacy.cjs", LANG_JAVASCRIPT);
    REQUIRE(im);
    CHECK(resolves_to(im, "./src/util", "web/src/util/index.js"));
    CHECK(binds(im, "./src/util", "util")); /* const util = require(...) */
    CHECK(resolves_to(im, "lodash", ""));
    imports_destroy(&im);
}

TEST(c_includes) {
    imports_t *im = extract_fixture("c/src/stock.c", LANG_C);
    REQUIRE(im);
    CHECK(resolves_to(im, "inventory/stock.h", "c/include/inventory/stock.h")); /* include dir */
    CHECK(resolves_to(im, "util.h", "c/src/util.h"));                           /* relative */
    CHECK(resolves_to(im, "vec.h", "c/lib/vec.h"));                             /* by name */
    CHECK(resolves_to(im, "stdio.h", ""));
    CHECK(resolves_to(im, "missing/nowhere.h", ""));
    CHECK_INT(entry(im, "vec.h")->line, ==, 7);
    imports_destroy(&im);
}

TEST(go_imports) {
    imports_t *im = extract_fixture("go/cmd/server/main.go", LANG_GO);
    REQUIRE(im);
    CHECK(resolves_to(im, "example.com/shop/go/internal/store",
                      "go/internal/store/cache.go go/internal/store/store.go")); /* no _test.go */
    CHECK(resolves_to(im, "fmt", ""));
    CHECK(resolves_to(im, "net/http", ""));
    CHECK(binds(im, "net/http", "http"));
    CHECK(binds(im, "example.com/shop/go/internal/store", "store"));
    imports_destroy(&im);
}

TEST(java_imports) {
    imports_t *im = extract_fixture("java/src/main/java/com/example/shop/App.java", LANG_JAVA);
    REQUIRE(im);
    CHECK(resolves_to(im, "com.example.shop.model.Order",
                      "java/src/main/java/com/example/shop/model/Order.java"));
    CHECK(resolves_to(im, "com.example.shop.util",
                      "java/src/main/java/com/example/shop/util/Money.java "
                      "java/src/main/java/com/example/shop/util/Strings.java")); /* a.b.* */
    CHECK(resolves_to(im, "com.example.shop.util.Strings.join",
                      "java/src/main/java/com/example/shop/util/Strings.java")); /* static */
    CHECK(resolves_to(im, "java.util.List", ""));
    CHECK(binds(im, "com.example.shop.model.Order", "Order"));
    CHECK(binds(im, "com.example.shop.util", "")); /* a wildcard binds no one name */
    imports_destroy(&im);
}

TEST(rust_imports) {
    imports_t *im = extract_fixture("rust/src/main.rs", LANG_RUST);
    REQUIRE(im);
    CHECK(resolves_to(im, "mod config", "rust/src/config.rs"));
    CHECK(resolves_to(im, "mod net", "rust/src/net/mod.rs"));
    CHECK(resolves_to(im, "crate::config::Settings", "rust/src/config.rs"));
    CHECK(resolves_to(im, "crate::net::http::serve", "rust/src/net/http.rs")); /* use tree */
    CHECK(resolves_to(im, "crate::net::http::Request", "rust/src/net/http.rs"));
    CHECK(resolves_to(im, "std::env", ""));
    CHECK(binds(im, "mod net", "net"));
    CHECK(binds(im, "crate::net::http::Request", "Request"));
    imports_destroy(&im);
    im = extract_fixture("rust/src/net/http.rs", LANG_RUST);
    REQUIRE(im);
    CHECK(resolves_to(im, "super::address", "rust/src/net/mod.rs"));
    imports_destroy(&im);
    im = extract_fixture("rust/src/net/mod.rs", LANG_RUST);
    REQUIRE(im);
    CHECK(resolves_to(im, "mod http", "rust/src/net/http.rs"));
    CHECK(resolves_to(im, "super::config::Settings", "rust/src/config.rs"));
    imports_destroy(&im);
}

/* Synthetic sources against a small collection. */
static const char *const synthetic_paths[] = {
    "pkg/__init__.py",
    "pkg/a.py",
    "pkg/sub/__init__.py",
    "pkg/sub/b.py",
    "src/lib.rs",
    "src/x/mod.rs",
    "src/x/y.rs",
    "src/x/z.rs",
    "ui/app.js",
    "ui/widgets/w.jsx",
    "ui/lazy.ts",
    "include/proj/api.h",
    "lib/one/util.h",
    "lib/two/util.h",
    "lib/two/user.c",
    "Main.kt",
    "src/main/kotlin/app/Tool.kt",
    "web2/package.json",
    "web2/src/lib/api.ts",
    "web2/src/pages/home.tsx",
};

static imports_t *extract(const char *path, lang_id_t lang, const char *text) {
    static imports_index_t *index;
    if (!index &&
        imports_index_new(NULL, synthetic_paths, sizeof synthetic_paths / sizeof synthetic_paths[0],
                          &index) != 0)
        return NULL;
    if (!path) {
        imports_index_destroy(&index);
        return NULL;
    }
    imports_t *out = NULL;
    return imports_extract(index, path, lang, text, strlen(text), &out) == 0 ? out : NULL;
}

TEST(python_edge_cases) {
    imports_t *im = extract("pkg/sub/b.py", LANG_PYTHON,
                            "\"\"\"Docstring.\n"
                            "import fake_in_docstring\n"
                            "\"\"\"\n"
                            "from .. import a\n"
                            "from . import (\n"
                            "    nothing_here,  # a comment\n"
                            "    other,\n"
                            ")\n"
                            "from ...too_far import x\n"
                            "def f():\n"
                            "    import pkg.a as alias, json\n");
    REQUIRE(im);
    CHECK(entry(im, "fake_in_docstring") == NULL);
    CHECK(resolves_to(im, "..a", "pkg/a.py"));
    CHECK(resolves_to(im, ".", "pkg/sub/__init__.py")); /* names, not modules: the package */
    CHECK_INT(entry(im, ".")->line, ==, 5);
    CHECK(resolves_to(im, "...too_far", ""));
    CHECK(resolves_to(im, "pkg.a", "pkg/a.py"));
    CHECK(resolves_to(im, "json", ""));
    CHECK(binds(im, "pkg.a", "alias"));
    CHECK(binds(im, "json", "json"));
    CHECK(binds(im, "..a", "a"));
    CHECK_INT(entry(im, "json")->line, ==, 11);
    imports_destroy(&im);
    /* A module never resolves to itself. */
    im = extract("pkg/a.py", LANG_PYTHON, "import pkg.a\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "pkg.a", ""));
    CHECK_INT(imports_file_count(im), ==, 0);
    imports_destroy(&im);
}

TEST(javascript_edge_cases) {
    imports_t *im = extract("ui/app.js", LANG_JAVASCRIPT,
                            "// import x from './commented';\n"
                            "/* require('./also_commented') */\n"
                            "const s = \"require('./in_a_string')\";\n"
                            "import W from './widgets/w';\n"
                            "const lazy = () => import('./lazy');\n"
                            "export { a } from '../outside/of/root/../../..';\n"
                            "import './missing';\n"
                            "import * as ns from './lazy';\n"
                            "import type T from './widgets/w';\n");
    REQUIRE(im);
    CHECK(entry(im, "./commented") == NULL);
    CHECK(entry(im, "./also_commented") == NULL);
    CHECK(entry(im, "./in_a_string") == NULL);
    CHECK(resolves_to(im, "./widgets/w", "ui/widgets/w.jsx"));
    CHECK(resolves_to(im, "./lazy", "ui/lazy.ts"));
    CHECK(resolves_to(im, "./missing", ""));
    CHECK_INT(entry(im, "./lazy")->line, ==, 5);
    CHECK_INT(imports_count(im), ==, 6);
    CHECK(binds(im, "./widgets/w", "W"));
    CHECK(binds(im, "./lazy", "")); /* the dynamic import comes first */
    CHECK_STR(imports_get(im, 4)->alias, "ns");
    CHECK_STR(imports_get(im, 5)->alias, "T");
    imports_destroy(&im);
}

TEST(path_aliases_of_js_projects) {
    imports_t *im = extract("web2/src/pages/home.tsx", LANG_TYPESCRIPT,
                            "import api from '@/lib/api';\n"
                            "import pkg from '~/package.json';\n"
                            "import scoped from '@scope/lib';\n"
                            "import missing from '@/lib/missing';\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "@/lib/api", "web2/src/lib/api.ts"));
    CHECK(resolves_to(im, "~/package.json", "web2/package.json"));
    CHECK(resolves_to(im, "@scope/lib", "")); /* an npm scope, not an alias */
    CHECK(resolves_to(im, "@/lib/missing", ""));
    CHECK(binds(im, "@/lib/api", "api"));
    imports_destroy(&im);
}

TEST(c_edge_cases) {
    imports_t *im = extract("lib/two/user.c", LANG_C,
                            "#include <proj/api.h>\n"
                            "  #  include \"util.h\"\n"
                            "#include <util.h>\n"
                            "#include \"unterminated.h\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "proj/api.h", "include/proj/api.h"));
    CHECK(resolves_to(im, "util.h", "lib/two/util.h")); /* the closest of two */
    CHECK_INT(imports_count(im), ==, 3);
    imports_destroy(&im);
}

TEST(go_aliases) {
    imports_t *im = extract("cmd/x.go", LANG_GO,
                            "package main\n"
                            "import (\n"
                            "\tstr \"example.com/m/pkg/strings\"\n"
                            "\t_ \"example.com/m/pkg/init\"\n"
                            "\t. \"example.com/m/pkg/dot\"\n"
                            "\t\"example.com/m/pkg/v2\" // a comment\n"
                            ")\n"
                            "import single \"example.com/m/one\"\n");
    REQUIRE(im);
    CHECK_INT(imports_count(im), ==, 6); /* and `.`: its own package */
    CHECK(binds(im, "example.com/m/pkg/strings", "str"));
    CHECK(binds(im, "example.com/m/pkg/init", ""));
    CHECK(binds(im, "example.com/m/pkg/dot", ""));
    CHECK(binds(im, "example.com/m/pkg/v2", "pkg")); /* a version suffix is not the name */
    CHECK(binds(im, "example.com/m/one", "single"));
    CHECK_INT(entry(im, "example.com/m/one")->line, ==, 8);
    imports_destroy(&im);
}

TEST(rust_edge_cases) {
    imports_t *im = extract("src/x/y.rs", LANG_RUST,
                            "use self::inner::Thing;\n"
                            "use super::{z::{self, Z as Zed}, y};\n"
                            "use crate::x::*;\n"
                            "mod inline { fn f() {} }\n"
                            "use serde::Deserialize;\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "super::z", "src/x/z.rs"));
    CHECK(resolves_to(im, "super::z::Z", "src/x/z.rs"));
    CHECK(binds(im, "super::z::Z", "Zed"));
    CHECK(binds(im, "super::z", "z"));
    CHECK(binds(im, "crate::x::*", ""));
    CHECK(resolves_to(im, "super::y", "")); /* itself */
    CHECK(resolves_to(im, "crate::x::*", "src/x/mod.rs"));
    CHECK(resolves_to(im, "serde::Deserialize", "")); /* an external crate */
    CHECK(entry(im, "mod inline") == NULL);
    imports_destroy(&im);
    /* a 2018 path inside a module names its child modules first */
    im = extract("src/x/mod.rs", LANG_RUST,
                 "mod y;\npub use y::{Thing, other};\npub use z::Z as Zed;\nuse x::z::K;\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "y::Thing", "src/x/y.rs"));
    CHECK(resolves_to(im, "y::other", "src/x/y.rs"));
    CHECK(resolves_to(im, "z::Z", "src/x/z.rs"));
    CHECK(resolves_to(im, "x::z::K", "src/x/z.rs")); /* no child x: from the crate root */
    imports_destroy(&im);
    /* modules named inline are imports too, bound to their path as written */
    im = extract("src/x/y.rs", LANG_RUST,
                 "fn f() -> crate::x::z::Z {\n"
                 "    super::z::make(crate::x::z::KIND);\n"
                 "    let s = std::mem::take(&mut v); // crate::nothing::here\n"
                 "    crate::x::z::Z::new()\n"
                 "}\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "crate::x::z", "src/x/z.rs"));
    CHECK(binds(im, "crate::x::z", "crate::x::z"));
    CHECK(resolves_to(im, "super::z", "src/x/z.rs"));
    CHECK(entry(im, "std::mem") == NULL);       /* the standard library */
    CHECK(entry(im, "crate::nothing") == NULL); /* a comment */
    CHECK(entry(im, "crate::x::z::Z") == NULL); /* a type's path ends the module's */
    size_t named = 0;
    for (size_t i = 0; i < imports_count(im); i++)
        named += !strcmp(imports_get(im, i)->name, "crate::x::z");
    CHECK_INT(named, ==, 1); /* once, however often it is written */
    imports_destroy(&im);
}

TEST(rust_workspace_crates) {
    char root[64];
    REQUIRE(fixture_tmpdir(root, sizeof root, "imports-test"));
    const fixture_file_t files[] = {
        {"Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"},
        {"crates/core-lib/Cargo.toml", "[package]\nname = \"core-lib\"\n"},
        {"crates/app/Cargo.toml",
         "[package]\nname = \"app\"\n\n[dependencies]\nname = \"decoy\"\n"},
        {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, files) == 0);
    const char *paths[] = {
        "Cargo.toml",
        "crates/core-lib/Cargo.toml",
        "crates/core-lib/src/lib.rs",
        "crates/core-lib/src/model.rs",
        "crates/app/Cargo.toml",
        "crates/app/src/main.rs",
        "crates/app/src/cli.rs",
    };
    imports_index_t *index = NULL;
    REQUIRE(imports_index_new(root, paths, sizeof paths / sizeof paths[0], &index) == 0);
    const char *text = "mod cli;\n"
                       "use core_lib::model::Item;\n"
                       "use core_lib::Thing;\n"
                       "use serde::Serialize;\n"
                       "use crate::cli::Args;\n";
    imports_t *im = NULL;
    REQUIRE(imports_extract(index, "crates/app/src/main.rs", LANG_RUST, text, strlen(text), &im) ==
            0);
    CHECK(resolves_to(im, "mod cli", "crates/app/src/cli.rs"));
    CHECK(resolves_to(im, "core_lib::model::Item", "crates/core-lib/src/model.rs"));
    CHECK(resolves_to(im, "core_lib::Thing", "crates/core-lib/src/lib.rs"));
    CHECK(resolves_to(im, "serde::Serialize", ""));
    CHECK(resolves_to(im, "crate::cli::Args", "crates/app/src/cli.rs"));
    imports_destroy(&im);
    imports_index_destroy(&index);
    fixture_remove_tree(root);
}

TEST(tsconfig_paths_and_base_url) {
    char root[64];
    REQUIRE(fixture_tmpdir(root, sizeof root, "imports-test"));
    /* JSON with comments and trailing commas, a pattern key holding a star,
     * a first target that does not exist, and a longer competing prefix. */
    const fixture_file_t files[] = {
        {"tsconfig.base.json",
         "// shared settings\n"
         "{\n"
         "  \"compilerOptions\": {\n"
         "    /* everything is relative to the repository root */\n"
         "    \"baseUrl\": \".\",\n"
         "    \"paths\": {\n"
         "      \"@app/*\": [\"apps/web/src/app/*\"],\n"
         "      \"@app/special/*\": [\"apps/web/src/special/*\",],\n"
         "      \"@lib\": [\"libs/core/src/index.ts\"],\n"
         "      \"@shared/*\": [\"missing/*\", \"libs/shared/src/*\"], // fallback\n"
         "    },\n"
         "  },\n"
         "}\n"},
        {"apps/web/tsconfig.json", "{ \"extends\": \"../../tsconfig.base\" }\n"},
        {"apps/admin/jsconfig.json", "{\"compilerOptions\": {\"baseUrl\": \"lib\"}}"},
        {"apps/admin/tsconfig.json", "{\"compilerOptions\": {\"baseUrl\": \"src\"}}"},
        {"broken/tsconfig.json", "{\"compilerOptions\": {\"baseUrl\": "},
        {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, files) == 0);
    const char *paths[] = {
        "tsconfig.base.json",
        "apps/web/tsconfig.json",
        "apps/web/src/main.ts",
        "apps/web/src/app/db.ts",
        "apps/web/src/special/x.ts",
        "apps/admin/jsconfig.json",
        "apps/admin/tsconfig.json",
        "apps/admin/src/page.tsx",
        "apps/admin/src/components/Button.tsx",
        "apps/admin/lib/components/Button.js",
        "libs/core/src/index.ts",
        "libs/shared/src/strings.ts",
        "broken/tsconfig.json",
        "broken/src/a.ts",
        "broken/src/b.ts",
    };
    imports_index_t *index = NULL;
    REQUIRE(imports_index_new(root, paths, sizeof paths / sizeof paths[0], &index) == 0);
    const char *web = "import { db } from '@app/db';\n"
                      "import x from '@app/special/x';\n"
                      "import core from '@lib';\n"
                      "import { slug } from '@shared/strings';\n"
                      "import { idx } from 'libs/core/src/index';\n"
                      "import React from 'react';\n"
                      "import { nope } from '@app/nope';\n";
    imports_t *im = NULL;
    REQUIRE(imports_extract(index, "apps/web/src/main.ts", LANG_TYPESCRIPT, web, strlen(web),
                            &im) == 0);
    CHECK(resolves_to(im, "@app/db", "apps/web/src/app/db.ts"));
    CHECK(resolves_to(im, "@app/special/x", "apps/web/src/special/x.ts"));
    CHECK(resolves_to(im, "@lib", "libs/core/src/index.ts"));
    CHECK(resolves_to(im, "@shared/strings", "libs/shared/src/strings.ts"));
    CHECK(resolves_to(im, "libs/core/src/index", "libs/core/src/index.ts"));
    CHECK(resolves_to(im, "react", ""));
    CHECK(resolves_to(im, "@app/nope", ""));
    CHECK(binds(im, "@lib", "core"));
    imports_destroy(&im);
    /* tsconfig.json replaces the jsconfig.json beside it */
    const char *admin = "import Button from 'components/Button';\n";
    REQUIRE(imports_extract(index, "apps/admin/src/page.tsx", LANG_TYPESCRIPT, admin, strlen(admin),
                            &im) == 0);
    CHECK(resolves_to(im, "components/Button", "apps/admin/src/components/Button.tsx"));
    imports_destroy(&im);
    /* a config that does not parse declares nothing; relative imports still work */
    const char *broken = "import b from './b';\nimport c from 'src/b';\n";
    REQUIRE(imports_extract(index, "broken/src/a.ts", LANG_TYPESCRIPT, broken, strlen(broken),
                            &im) == 0);
    CHECK(resolves_to(im, "./b", "broken/src/b.ts"));
    CHECK(resolves_to(im, "src/b", ""));
    imports_destroy(&im);
    imports_index_destroy(&index);
    fixture_remove_tree(root);
}

/* Token soup as tsconfig files: whatever reads, nothing crashes, and
 * whatever resolves is a file of the collection. */
TEST(random_tsconfigs_are_survived) {
    char root[64];
    REQUIRE(fixture_tmpdir(root, sizeof root, "imports-test"));
    static const char *const tokens[] = {"{",
                                         "}",
                                         "[",
                                         "]",
                                         ",",
                                         ":",
                                         "\"",
                                         "//",
                                         "/*",
                                         "*/",
                                         "\\",
                                         "\n",
                                         "\"*\"",
                                         "\"a/*\"",
                                         "\"..\"",
                                         "\"paths\"",
                                         "\"baseUrl\"",
                                         "\"extends\"",
                                         "\"compilerOptions\"",
                                         "\"./tsconfig\"",
                                         "\"src\"",
                                         "\"src/*\"",
                                         "1",
                                         "null",
                                         "\"\"",
                                         "\"../../..\""};
    const char *paths[] = {"tsconfig.json", "src/a.ts", "src/b.ts", "a.ts"};
    unsigned seed = 11;
    for (int round = 0; round < 300; round++) {
        char text[512] = "";
        int n = rand_r(&seed) % 40;
        for (int i = 0; i < n; i++)
            strcat(text, tokens[rand_r(&seed) % (sizeof tokens / sizeof tokens[0])]);
        fixture_write_text(root, "tsconfig.json", text);
        imports_index_t *index = NULL;
        REQUIRE(imports_index_new(root, paths, 4, &index) == 0);
        const char *src = "import a from 'a';\nimport b from 'src/b';\nimport c from 'zz';\n";
        imports_t *im = NULL;
        REQUIRE(imports_extract(index, "src/a.ts", LANG_TYPESCRIPT, src, strlen(src), &im) == 0);
        for (size_t i = 0; i < imports_count(im); i++)
            for (size_t f = 0; f < imports_get(im, i)->file_count; f++) {
                const char *file = imports_get(im, i)->files[f];
                CHECK(!strcmp(file, "src/b.ts") || !strcmp(file, "a.ts"));
            }
        imports_destroy(&im);
        imports_index_destroy(&index);
    }
    fixture_remove_tree(root);
}

TEST(kotlin_and_unknown_languages) {
    imports_t *im = extract("Main.kt", LANG_KOTLIN, "import app.Tool\nimport app.Missing as M\n");
    REQUIRE(im);
    CHECK(resolves_to(im, "app.Tool", "src/main/kotlin/app/Tool.kt"));
    CHECK(resolves_to(im, "app.Missing", ""));
    CHECK(binds(im, "app.Tool", "Tool"));
    CHECK(binds(im, "app.Missing", "M"));
    imports_destroy(&im);
    im = extract("notes.txt", LANG_UNKNOWN, "import everything\n");
    REQUIRE(im);
    CHECK_INT(imports_count(im), ==, 0);
    CHECK(imports_get(im, 0) == NULL);
    imports_destroy(&im);
    CHECK(im == NULL);
    imports_destroy(&im);
}

static bool is_synthetic_path(const char *path) {
    for (size_t i = 0; i < sizeof synthetic_paths / sizeof synthetic_paths[0]; i++)
        if (strcmp(synthetic_paths[i], path) == 0)
            return true;
    return false;
}

/* Random import-flavoured text in every scanned language: no crash, and
 * every resolved file is a distinct path of the collection, sorted. */
TEST(random_inputs_resolve_only_to_collection_files) {
    static const char *const words[] = {
        "import ", "from ", "use ", "mod ", "require", "(",       ")",         "{",     "}",
        ";",       ",",     "'./",  "\"",   "'",       "`",       "#include ", "<",     ">",
        "::",      ".",     "..",   "/",    "*",       " as ",    "\n",        "crate", "super",
        "self",    "pkg",   "a",    "ui",   "widgets", "w",       "x",         "y",     "lib",
        "#",       "//",    "/*",   "*/",   "\\",      "static ", "package ",  "@/",    "\t",
    };
    static const lang_id_t langs[] = {LANG_PYTHON, LANG_JAVASCRIPT, LANG_TYPESCRIPT, LANG_C,
                                      LANG_GO,     LANG_JAVA,       LANG_KOTLIN,     LANG_RUST};
    static const char *const from[] = {"pkg/sub/b.py",   "ui/app.js", "src/x/y.rs",
                                       "lib/two/user.c", "Main.kt",   "web2/src/pages/home.tsx"};
    unsigned seed = 7;
    char text[2048];
    for (int round = 0; round < 2000 && !test_failed_checks; round++) {
        size_t len = 0;
        while (len < sizeof text - 16 && rand_r(&seed) % 200) {
            const char *w = words[rand_r(&seed) % (sizeof words / sizeof words[0])];
            size_t n = strlen(w);
            memcpy(text + len, w, n);
            len += n;
        }
        text[len] = '\0';
        imports_t *im = extract(from[rand_r(&seed) % 6], langs[rand_r(&seed) % 8], text);
        CHECK(im != NULL);
        for (size_t i = 0; i < imports_count(im); i++) {
            const imports_entry_t *e = imports_get(im, i);
            CHECK(e->name && e->name[0]);
            CHECK(!e->alias || e->alias[0]);
            for (size_t k = 0; k < e->file_count; k++) {
                CHECK(is_synthetic_path(e->files[k]));
                if (k > 0)
                    CHECK(strcmp(e->files[k - 1], e->files[k]) < 0);
            }
        }
        imports_destroy(&im);
    }
}

TEST(index_basics) {
    const char *paths[] = {"b.c", "a.c", "b.c"};
    imports_index_t *index = NULL;
    REQUIRE(imports_index_new(NULL, paths, 3, &index) == 0);
    CHECK_INT(imports_index_count(index), ==, 2);
    imports_index_destroy(&index);
    CHECK(index == NULL);
    imports_index_destroy(&index);
    REQUIRE(imports_index_new(NULL, NULL, 0, &index) == 0);
    imports_t *im = NULL;
    CHECK_INT(imports_extract(index, "x.py", LANG_PYTHON, "import os\n", 10, &im), ==, 0);
    CHECK(resolves_to(im, "os", ""));
    imports_destroy(&im);
    imports_index_destroy(&index);
}

TEST(release_indexes) {
    imports_index_t *index = fixture_index();
    imports_index_destroy(&index);
    CHECK(extract(NULL, LANG_UNKNOWN, "") == NULL);
}

TEST(go_without_a_module_file) {
    static const char *const paths[] = {
        "github.com/acme/shop/store/store.go",
        "github.com/acme/shop/store/store_test.go",
        "github.com/acme/shop/cmd/app/main.go",
        "store/stock.go",
        "log/log.go",
        "cmd/main.go",
    };
    imports_index_t *index = NULL;
    REQUIRE(imports_index_new(NULL, paths, 6, &index) == 0);
    imports_t *im = NULL;
    const char *src = "package main\n\nimport (\n\t\"log\"\n"
                      "\t\"github.com/acme/shop/store\"\n\t\"example.org/x/stock\"\n)\n";
    REQUIRE(imports_extract(index, "github.com/acme/shop/cmd/app/main.go", LANG_GO, src,
                            strlen(src), &im) == 0);
    /* GOPATH: the import path is the directory, whole */
    CHECK(resolves_to(im, "github.com/acme/shop/store", "github.com/acme/shop/store/store.go"));
    /* the standard library never lands on a directory of the repository */
    CHECK(resolves_to(im, "log", ""));
    /* the files of its own package, tests left out */
    CHECK(resolves_to(im, ".", ""));
    imports_destroy(&im);
    REQUIRE(imports_extract(index, "github.com/acme/shop/store/extra.go", LANG_GO, src, strlen(src),
                            &im) == 0);
    CHECK(resolves_to(im, ".", "github.com/acme/shop/store/store.go"));
    imports_destroy(&im);
    /* a checkout of github.com/acme/shop: the path's tail is the directory */
    const char *checkout = "package main\n\nimport \"github.com/acme/shop/store\"\n";
    static const char *const flat[] = {"store/stock.go", "cmd/main.go"};
    imports_index_t *index2 = NULL;
    REQUIRE(imports_index_new(NULL, flat, 2, &index2) == 0);
    REQUIRE(imports_extract(index2, "cmd/main.go", LANG_GO, checkout, strlen(checkout), &im) == 0);
    CHECK(resolves_to(im, "github.com/acme/shop/store", "store/stock.go"));
    imports_destroy(&im);
    imports_index_destroy(&index2);
    imports_index_destroy(&index);
}

/* A module's own path is its root package: the Go files beside its go.mod. */
TEST(go_module_root_package) {
    char root[64];
    REQUIRE(fixture_tmpdir(root, sizeof root, "gomod"));
    REQUIRE(fixture_write_tree(
                root, (const fixture_file_t[]){{"go.mod", "module example.com/m/v5\n\ngo 1.20\n"},
                                               {"repo.go", "package m\n"},
                                               {"repo_test.go", "package m\n"},
                                               {"plumbing/hash.go", "package plumbing\n"},
                                               {"cmd/app/main.go", "package main\n"},
                                               {NULL, NULL}}) == 0);
    static const char *const paths[] = {"cmd/app/main.go", "go.mod", "plumbing/hash.go", "repo.go",
                                        "repo_test.go"};
    imports_index_t *index = NULL;
    REQUIRE(imports_index_new(root, paths, 5, &index) == 0);
    const char *src = "package main\n\nimport (\n\tgit \"example.com/m/v5\"\n"
                      "\t\"example.com/m/v5/plumbing\"\n)\n";
    imports_t *im = NULL;
    REQUIRE(imports_extract(index, "cmd/app/main.go", LANG_GO, src, strlen(src), &im) == 0);
    CHECK(resolves_to(im, "example.com/m/v5", "repo.go"));
    CHECK(binds(im, "example.com/m/v5", "git"));
    CHECK(resolves_to(im, "example.com/m/v5/plumbing", "plumbing/hash.go"));
    imports_destroy(&im);
    imports_index_destroy(&index);
    fixture_remove_tree(root);
}

TEST_MAIN(TEST_CASE(go_without_a_module_file), TEST_CASE(go_module_root_package),
          TEST_CASE(python_imports), TEST_CASE(javascript_and_typescript_imports),
          TEST_CASE(c_includes), TEST_CASE(go_imports), TEST_CASE(java_imports),
          TEST_CASE(rust_imports), TEST_CASE(python_edge_cases), TEST_CASE(javascript_edge_cases),
          TEST_CASE(path_aliases_of_js_projects), TEST_CASE(c_edge_cases), TEST_CASE(go_aliases),
          TEST_CASE(rust_edge_cases), TEST_CASE(rust_workspace_crates),
          TEST_CASE(tsconfig_paths_and_base_url), TEST_CASE(random_tsconfigs_are_survived),
          TEST_CASE(kotlin_and_unknown_languages),
          TEST_CASE(random_inputs_resolve_only_to_collection_files), TEST_CASE(index_basics),
          TEST_CASE(release_indexes))
