/* Tests of seeder/jsclass: the members of JavaScript and TypeScript classes
 * where ctags loses them, and how they complete ctags's tags. */
#include "seeder/jsclass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"

static char seen[4096];

static int note(const jsclass_member_t *m, void *arg) {
    (void)arg;
    size_t n = strlen(seen);
    snprintf(seen + n, sizeof seen - n, "%.*s.%.*s:%s:%d-%d;", (int)m->class_len, m->class_name,
             (int)m->name_len, m->name, m->method ? "m" : "p", m->line, m->end);
    return 0;
}

static const char *scan(lang_id_t lang, const char *text) {
    seen[0] = '\0';
    CHECK_INT(jsclass_scan(lang, text, strlen(text), note, NULL), ==, 0);
    return seen;
}

/* The shape that loses ctags 5.9 the rest of rxjs's Subject. */
static const char SUBJECT[] =
    "export class Subject<T> extends Observable<T> implements SubscriptionLike {\n" /* 1 */
    "  closed = false;\n"
    "  private currentObservers: Observer<T>[] | null = null;\n"
    "  static create: (...args: any[]) => any = <T>(d: Observer<T>): S<T> => {\n"
    "    return new AnonymousSubject<T>(d);\n" /* 5 */
    "  };\n"
    "  /** @internal */\n"
    "  protected _throwIfClosed() {\n"
    "    if (this.closed) { throw new Error('closed {'); }\n"
    "  }\n" /* 10 */
    "  lift<R>(operator: Operator<T, R>): Observable<R> {\n"
    "    const subject = new AnonymousSubject(this, this);\n"
    "    return subject;\n"
    "  }\n"
    "  next(value: T) {\n" /* 15 */
    "    const { observers } = this;\n"
    "    for (const o of observers) { o.next(value); }\n"
    "  }\n"
    "  get observed() { return this.observers.length > 0; }\n"
    "  #secret?: string;\n" /* 20 */
    "  abstract flush(): void;\n"
    "  @Input() label!: string;\n"
    "}\n";

TEST(typescript_members_with_their_lines) {
    CHECK_STR(scan(LANG_TYPESCRIPT, SUBJECT),
              "Subject.closed:p:2-2;Subject.currentObservers:p:3-3;Subject.create:p:4-4;"
              "Subject._throwIfClosed:m:8-10;Subject.lift:m:11-14;Subject.next:m:15-18;"
              "Subject.observed:m:19-19;Subject.#secret:p:20-20;Subject.flush:m:21-21;"
              "Subject.label:p:22-22;");
}

TEST(javascript_nested_anonymous_and_not_classes) {
    CHECK_STR(scan(LANG_JAVASCRIPT, "const o = { class: 1, f() {} };\n"
                                    "function make() {\n"
                                    "  return class {\n"
                                    "    *items() { yield 1; }\n"
                                    "    static async load(x) {\n"
                                    "      class Inner { run() {} }\n"
                                    "      return new Inner();\n"
                                    "    }\n"
                                    "  };\n"
                                    "}\n"
                                    "// class Fake { nope() {} }\n"),
              ".o:p:1-1;.make:m:2-2;.items:m:4-4;Inner.run:m:6-6;.load:m:5-8;");
    CHECK_STR(scan(LANG_PYTHON, "class A:\n    def f(self): pass\n"), "");
    CHECK_STR(scan(LANG_TYPESCRIPT, "class {{{{ ( ) } class"), ""); /* nothing to name */
}

TEST(completing_ctags_tags) {
    /* what ctags said of SUBJECT: the class, one property, and a local of
     * `lift` it took for a top-level constant */
    static const ctags_tag_t tags[] = {
        {"s.ts", "Subject", "class", NULL, NULL, 1, 23},
        {"s.ts", "closed", "property", "Subject", "class", 2, 2},
        {"s.ts", "subject", "constant", NULL, NULL, 12, 0},
        {"s.ts", "observers", "constant", "next", "method", 16, 0},
    };
    ctags_tag_t *all = NULL;
    char *names = NULL;
    size_t n = 0;
    REQUIRE(jsclass_complete_tags(LANG_TYPESCRIPT, SUBJECT, strlen(SUBJECT), tags, 4, &all, &n,
                                  &names) == 0);
    REQUIRE(all != NULL);
    CHECK_INT(n, ==, 4 - 1 + 9); /* the local gone, nine members added, `closed` once */
    bool lift = false, local = false;
    int closed = 0;
    for (size_t i = 0; i < n; i++) {
        lift |= !strcmp(all[i].name, "lift") && !strcmp(all[i].kind, "method") &&
                !strcmp(all[i].scope, "Subject") && all[i].line == 11 && all[i].end == 14 &&
                !strcmp(all[i].path, "s.ts");
        local |= !strcmp(all[i].name, "subject");
        closed += !strcmp(all[i].name, "closed");
    }
    CHECK(lift);
    CHECK(!local);
    CHECK_INT(closed, ==, 1);
    free(all);
    free(names);
    /* nothing to add: the tags stay as they are */
    static const ctags_tag_t x_tag[] = {{"x.ts", "x", "variable", NULL, NULL, 1, 0}};
    REQUIRE(jsclass_complete_tags(LANG_TYPESCRIPT, "let x = 1;\n", 11, x_tag, 1, &all, &n,
                                  &names) == 0);
    CHECK(all == NULL && names == NULL);
}

/* ctags 5.9 loses a generic arrow function (`<A>(self: A) =>`) and what
 * follows it at the top level; a function's overloads are one name. */
TEST(top_level_names_ctags_missed) {
    static const char text[] = "import { x } from './x'\n"                            /* 1 */
                               "export const isEmpty = <A>(self: C<A>): boolean =>\n" /* 2 */
                               "  self.length === 0\n"
                               "export const head: <A>(self: C<A>) => A = get(0)\n" /* 4 */
                               "export function pick(a: number): number;\n"         /* 5 */
                               "export function pick(a: any): any {\n"
                               "  const inner = 1\n" /* 7: a local */
                               "  return a\n"
                               "}\n"
                               "const { a, b } = x\n"                      /* 10: destructured */
                               "export default async function* gen() {}\n" /* 11 */
                               "let count = 0, other = 1\n";               /* 12 */
    CHECK_STR(scan(LANG_TYPESCRIPT, text),
              ".isEmpty:p:2-2;.head:p:4-4;.pick:m:5-5;.pick:m:6-6;.gen:m:11-11;.count:p:12-12;");
    static const ctags_tag_t tags[] = {{"t.ts", "x", "alias", NULL, NULL, 1, 0},
                                       {"t.ts", "pick", "function", NULL, NULL, 5, 0}};
    ctags_tag_t *all = NULL;
    char *names = NULL;
    size_t n = 0;
    REQUIRE(jsclass_complete_tags(LANG_TYPESCRIPT, text, strlen(text), tags, 2, &all, &n, &names) ==
            0);
    REQUIRE(all != NULL);
    CHECK_INT(n, ==, 2 + 4); /* isEmpty, head, gen, count; pick once (ctags's) */
    int picks = 0;
    bool is_empty = false, gen = false;
    for (size_t i = 0; i < n; i++) {
        picks += !strcmp(all[i].name, "pick");
        is_empty |= !strcmp(all[i].name, "isEmpty") && !strcmp(all[i].kind, "constant") &&
                    all[i].line == 2 && !all[i].scope;
        gen |= !strcmp(all[i].name, "gen") && !strcmp(all[i].kind, "function");
    }
    CHECK_INT(picks, ==, 1);
    CHECK(is_empty && gen);
    free(all);
    free(names);
}

TEST_MAIN(TEST_CASE(typescript_members_with_their_lines),
          TEST_CASE(javascript_nested_anonymous_and_not_classes), TEST_CASE(completing_ctags_tags),
          TEST_CASE(top_level_names_ctags_missed))
