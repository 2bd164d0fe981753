#!/usr/bin/env node
// The house rules of the source tree, checked (make layout-check; tests/run
// runs it too).  README.md, "How the pieces fit", says why they hold:
//
//  1. Folders depend downwards only: a service (gateway, embedder,
//     retriever, generator, seeder) and the lca command (deploy) include
//     their own headers and the shared libraries', never another
//     service's; proto/ includes proto/ollama, proto/code, proto/base;
//     proto/ollama includes proto/code and proto/base; proto/code includes
//     proto/base; proto/base includes nothing of the project.
//  2. No loops: no two modules (x.c with x.h) include each other, directly
//     or through others.  A call needs the callee's header, so this also
//     means no two modules call each other.
//  3. Every module has a unit test named after it:
//     tests/unit/<folder>_<module>_test.c (folders: the service name,
//     deploy, proto, ollama, code, base).  A kernel of a module for one
//     instruction set (scan_avx2.c beside scan.c) shares the module's test.
//  4. Every document or source file a comment or page names exists.
//
// Prints one TAP line per rule and the offenders under it.
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));

const SERVICES = ['gateway', 'embedder', 'retriever', 'generator', 'seeder', 'deploy'];
// Shared libraries, lowest first: each may include only those before it.
const SHARED = ['proto/base', 'proto/code', 'proto/ollama', 'proto'];
const PREFIX = { proto: 'proto', 'proto/ollama': 'ollama', 'proto/code': 'code', 'proto/base': 'base' };

const product = files.filter((f) => /\.[ch]$/.test(f) && !f.startsWith('tests/'));
const folderOf = (f) => dirname(f);
const moduleOf = (f) => f.replace(/\.[ch]$/, '');

function includes(f) {
    const out = [];
    for (const line of readFileSync(join(root, f), 'utf8').split('\n')) {
        const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
        if (m) out.push(m[1]);
    }
    return out;
}

function allowed(from, to) {
    if (from === to) return true;
    const rank = (d) => SHARED.indexOf(d);
    if (rank(to) < 0) return false; // another service, or no folder we know
    if (rank(from) < 0) return SERVICES.includes(from); // a service uses any shared library
    return rank(to) < rank(from);
}

// Whether git ignores path: an output the tools write (tests/eval/results.md).
function ignored(path) {
    try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: root });
        return true;
    } catch {
        return false;
    }
}

const results = [];
function rule(name, problems) {
    results.push({ name, problems });
}

// 1. Folders depend downwards.
{
    const problems = [];
    for (const f of product) {
        if (f.startsWith('build/')) continue;
        for (const inc of includes(f)) {
            if (!existsSync(join(root, inc))) {
                problems.push(`${f}: includes "${inc}", which is not in the tree`);
                continue;
            }
            if (!allowed(folderOf(f), folderOf(inc)))
                problems.push(`${f}: includes "${inc}" (${folderOf(f)} may not depend on ${folderOf(inc)})`);
        }
    }
    rule('folders depend downwards only', problems);
}

// 2. No loops between modules (Tarjan's strongly connected components).
{
    const edges = new Map();
    for (const f of product) {
        const from = moduleOf(f);
        if (!edges.has(from)) edges.set(from, new Set());
        for (const inc of includes(f)) {
            const to = moduleOf(inc);
            if (to !== from && existsSync(join(root, inc))) edges.get(from).add(to);
        }
    }
    let index = 0;
    const idx = new Map(), low = new Map(), stack = [], on = new Set(), loops = [];
    const visit = (v) => {
        idx.set(v, index);
        low.set(v, index++);
        stack.push(v);
        on.add(v);
        for (const w of edges.get(v) || []) {
            if (!idx.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v), low.get(w)));
            } else if (on.has(w)) {
                low.set(v, Math.min(low.get(v), idx.get(w)));
            }
        }
        if (low.get(v) === idx.get(v)) {
            const scc = [];
            let w;
            do {
                w = stack.pop();
                on.delete(w);
                scc.push(w);
            } while (w !== v);
            if (scc.length > 1) loops.push(scc.sort().join(' <-> '));
        }
    };
    for (const v of edges.keys()) if (!idx.has(v)) visit(v);
    rule('no loops of modules that include or call each other', loops);
}

// 3. A unit test per module.
{
    const problems = [];
    const sources = new Set(product.filter((f) => f.endsWith('.c')));
    for (const f of sources) {
        const dir = folderOf(f);
        const name = f.slice(dir.length + 1, -2);
        if (name === 'main') continue;
        const kernel = /^(.*)_(avx2|avx512|sse\d*|neon)$/.exec(name);
        const base = kernel && sources.has(`${dir}/${kernel[1]}.c`) ? kernel[1] : name;
        const prefix = PREFIX[dir] || dir;
        const test = `tests/unit/${prefix}_${base}_test.c`;
        if (!existsSync(join(root, test))) problems.push(`${f}: no ${test}`);
    }
    rule('every module has a unit test', problems);
}

// 4. What the text names exists.
{
    const problems = [];
    const text = files.filter(
        (f) => /\.(c|h|md|mjs|js|sh|py|yml|html|css)$|(^|\/)(Makefile|run|Dockerfile)$/.test(f) &&
            !f.includes('node_modules/') && !f.startsWith('tests/fixtures/') && !f.startsWith('tests/fuzz/corpus/'));
    const top = '(?:gateway|embedder|retriever|generator|seeder|proto|deploy|tests)';
    const pathRe = new RegExp(`(?<![\\w./-])(${top}/[\\w./-]*\\w)`, 'g');
    const docRe = /(?<![\w./-])([\w-]+\.md)\b/g;
    for (const f of text) {
        const s = readFileSync(join(root, f), 'utf8');
        const seen = new Set();
        for (const re of [pathRe, docRe]) {
            for (const m of s.matchAll(re)) {
                // a quoted path in C is data (a fixture's file, a route), not a reference
                if (/\.[ch]$/.test(f) && s[m.index - 1] === '"') continue;
                let p = m[1].replace(/[.]+$/, '');
                if (seen.has(p)) continue;
                seen.add(p);
                // a name built at run time: <x>, %s, *, ...
                if (/[<>*%{}$]/.test(p)) continue;
                // a module named without its extension (proto/code/subword), a
                // test program by its binary's name (tests/tools/test_worker)
                const forms = [p, `${p}.c`, `${p}.h`, `${p}.mjs`];
                const bases = [root, join(root, dirname(f))];
                if (bases.some((b) => forms.some((x) => existsSync(normalize(join(b, x)))))) continue;
                if (ignored(p) || ignored(join(dirname(f), p))) continue; // what a run writes
                problems.push(`${f}: names ${p}, which does not exist`);
            }
        }
    }
    rule('every document and file named exists', problems);
}

let failed = 0;
console.log(`1..${results.length}`);
results.forEach((r, i) => {
    const ok = r.problems.length === 0;
    if (!ok) failed++;
    console.log(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${r.name}`);
    for (const p of r.problems) console.log(`  ${p}`);
});
process.exit(failed ? 1 : 0);
