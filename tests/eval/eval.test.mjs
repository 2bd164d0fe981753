// Tests of the evaluation's own parts on small, made-up files:
//   node --test tests/eval/
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { codeMaskJs, codeMaskPy, codeMaskC } from './lex.mjs';
import { Corpus, sampleCases, maskFiles, ownMask, queryOf, rng, pickUse, newStats, Usage, usagePeer } from './cases.mjs';
import { summarize, subwords } from './common.mjs';
import { parseUse } from './lang-rust.mjs';
import { unzip, seederText } from './corpora.mjs';
import { WindowIndex, tokens } from './baselines.mjs';
import { shownLines, score, average, BUDGET } from './metrics.mjs';

const isCode = (mask, text, needle, nth = 0) => {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  assert.ok(at >= 0, `${needle} is in the text`);
  return mask[at] === 1;
};

// All candidates of one file, by kind and symbol: {'bare:Foo': case, …}.
function casesOf(corpus, rel) {
  const out = {};
  for (const c of [...corpus.candidates(rel, newStats()), ...corpus.chats(rel)]) out[`${c.kind}:${c.symbol}`] = c;
  return out;
}

test('JS code mask: comments, strings, templates and regexes are not code', () => {
  const t = 'a(); // b()\n/* c() */ "d()" `e ${f()} g` x = /h()/g; y = 1 / k;\n';
  const m = codeMaskJs(t);
  assert.ok(isCode(m, t, 'a('));
  assert.ok(!isCode(m, t, 'b('));
  assert.ok(!isCode(m, t, 'c('));
  assert.ok(!isCode(m, t, 'd('));
  assert.ok(!isCode(m, t, 'e '));
  assert.ok(isCode(m, t, 'f('));
  assert.ok(!isCode(m, t, 'g`'));
  assert.ok(!isCode(m, t, 'h('));
  assert.ok(isCode(m, t, 'k;'));
});

test('Python code mask: comments and every kind of string', () => {
  const t = 'a = 1  # b\n"""c\nd"""\ne = r\'f\' + "g"\nh()\n';
  const m = codeMaskPy(t);
  assert.ok(isCode(m, t, 'a ='));
  assert.ok(!isCode(m, t, 'b'));
  assert.ok(!isCode(m, t, 'd"'));
  assert.ok(!isCode(m, t, "f'"));
  assert.ok(isCode(m, t, 'h('));
});

test('Go, Rust and Java code masks: raw strings, lifetimes, nested comments, text blocks', () => {
  const g = 'a := `b\nc` + "d\\"e" + \'f\' // g\nh()\n';
  const mg = codeMaskC('go', g);
  assert.ok(isCode(mg, g, 'a :='));
  assert.ok(!isCode(mg, g, 'c`'));
  assert.ok(!isCode(mg, g, 'e"'));
  assert.ok(!isCode(mg, g, 'f'));
  assert.ok(!isCode(mg, g, 'g\n'));
  assert.ok(isCode(mg, g, 'h('));
  const r = 'fn a<\'x>(s: &\'x str) { let c = \'"\'; let d = r#"e"f"#; /* g /* h */ i */ j() }\n';
  const mr = codeMaskC('rust', r);
  assert.ok(isCode(mr, r, 'x>('), "a lifetime is code");
  assert.ok(isCode(mr, r, 'x str'));
  assert.ok(!isCode(mr, r, 'e"f'));
  assert.ok(!isCode(mr, r, 'i */'), 'nested comments');
  assert.ok(isCode(mr, r, 'j()'));
  const j = 'String a = """\nb "c"\n"""; char d = \'"\'; e();\n';
  const mj = codeMaskC('java', j);
  assert.ok(!isCode(mj, j, 'b "c"'));
  assert.ok(isCode(mj, j, 'e()'));
});

const jsFiles = new Map([
  ['src/math/Vector.ts', 'export class Vector {\n  x = 0;\n  length(): number {\n    return 0;\n  }\n}\nexport function dot(a, b) {\n  return 0;\n}\n'],
  ['src/index.ts', "export { Vector as Vec } from './math/Vector';\nexport * from './math/Vector';\n"],
  ['src/app.ts', "import { Vec, dot as d } from './index';\nimport * as M from './math/Vector.js';\n\n" +
    '// Vec in a comment\nconst s = "Vec";\nconst v = new Vec();\nconst w = d(v, v);\nconst u = M.dot(v, w);\n' +
    'function norm(p: Vec) {\n  return p.length();\n}\n'],
  ['src/Point.ts', "import { Vector } from './math/Vector';\n\n/**\n * Moves the point by a vector and returns the new length.\n */\n" +
    'export class Point extends Vector {\n  move() {\n    const n = this.length();\n    return n;\n  }\n}\n'],
  ['lib/util.js', 'class Queue {}\nmodule.exports = Queue;\nmodule.exports.LIMIT = 3;\n'],
  ['lib/use.js', 'const Queue = require("./util");\nconst { LIMIT } = require("./util");\n\nconst q = new Queue(LIMIT);\n' +
    '\n/**\n * Counts the queued items of every queue in the list.\n */\nfunction count(list) {\n  let n = 0;\n  for (const x of list) n++;\n  return n;\n}\n'],
]);

test('JS/TS: named, aliased, namespace and CommonJS imports, through re-exports', () => {
  const corpus = new Corpus('js', jsFiles);
  const app = casesOf(corpus, 'src/app.ts');
  assert.equal(app['bare:Vec'].def_file, 'src/math/Vector.ts');
  assert.deepEqual(app['bare:Vec'].def_lines, [1]);
  assert.equal(app['bare:Vec'].hops, 1);
  assert.equal(app['bare:Vec'].line, 6, 'the use in code, not in the comment or the string');
  assert.deepEqual(app['bare:d'].def_lines, [7]);
  assert.equal(app['module:dot'].via, 'namespace');
  const use = casesOf(corpus, 'lib/use.js');
  assert.equal(use['bare:Queue'].def_file, 'lib/util.js');
  assert.deepEqual(use['bare:Queue'].def_lines, [1]);
  assert.deepEqual(use['bare:LIMIT'].def_lines, [3]);
});

test('JS/TS: this.m from a base class in another file, x: Foo, JSDoc questions', () => {
  const corpus = new Corpus('js', jsFiles);
  const point = casesOf(corpus, 'src/Point.ts');
  assert.equal(point['object:length'].via, 'this');
  assert.equal(point['object:length'].def_file, 'src/math/Vector.ts');
  assert.deepEqual(point['object:length'].def_lines, [3]);
  assert.equal(point['chat:move'], undefined, 'a class comment is not a function comment');
  const app = casesOf(corpus, 'src/app.ts');
  assert.equal(app['object:length'].via, 'annotation');
  const use = casesOf(corpus, 'lib/use.js');
  assert.equal(use['chat:count'].query, 'Counts the queued items of every queue in the list.');
  assert.deepEqual(use['chat:count'].def_lines, [9]);
});

const pyFiles = new Map([
  ['pkg/__init__.py', 'from .core import Engine\n'],
  ['pkg/core.py', 'class Engine:\n    def start(self):\n        pass\n\n    def stop(self):\n        pass\n\n\n' +
    'def connect(url):\n    """Open a connection to the database at url.\n\n    More text.\n    """\n    e = Engine()\n    e.start()\n    return e\n'],
  ['pkg/sub/__init__.py', ''],
  ['pkg/sub/run.py', 'from .. import core\nfrom ..core import (\n    connect as open_,\n)\nfrom pkg import Engine\nimport pkg.core\n\n' +
    '# Engine\ne = open_("x")\nf = core.connect("y")\nassert isinstance(e, Engine)\ng = pkg.core.Engine()\n\n\n' +
    'class Turbo(Engine):\n    def go(self):\n        self.start()\n        self.go()\n\n\n' +
    'def main():\n    eng = Engine()\n    eng.stop()\n\n\ndef other(eng: core.Engine):\n    eng.start()\n'],
]);

test('Python: relative and absolute imports, module members, re-exports', () => {
  const corpus = new Corpus('py', pyFiles);
  const run = casesOf(corpus, 'pkg/sub/run.py');
  assert.deepEqual(run['bare:open_'].def_lines, [9]);
  assert.equal(run['module:connect'].via, 'from-import');
  assert.equal(run['bare:Engine'].def_file, 'pkg/core.py');
  assert.equal(run['bare:Engine'].line, 11);
  const engines = corpus.candidates('pkg/sub/run.py', newStats()).filter((c) => c.symbol === 'Engine' && c.kind === 'module');
  assert.deepEqual(engines.map((c) => `${c.via}:${c.line}`).sort(), ['from-import:26', 'import:12'], '`core.Engine`, `pkg.core.Engine`');
});

test('Python: self.m from a base class, x = Foo(), x: mod.Foo, docstring questions', () => {
  const corpus = new Corpus('py', pyFiles);
  const cands = corpus.candidates('pkg/sub/run.py', newStats());
  const obj = cands.filter((c) => c.kind === 'object').map((c) => `${c.via}:${c.symbol}:${c.line}`).sort();
  assert.deepEqual(obj, ['annotation:start:27', 'call:stop:23', 'self:start:17']);
  assert.ok(!cands.some((c) => c.kind === 'object' && c.symbol === 'go'), 'a method of the class itself is not a case');
  const chat = corpus.chats('pkg/core.py');
  assert.equal(chat.length, 1);
  assert.equal(chat[0].query, 'Open a connection to the database at url.');
  assert.deepEqual(chat[0].def_lines, [9]);
});

const goFiles = new Map([
  ['go.mod', 'module example.com/shop\n\ngo 1.19\n'],
  ['cart/cart.go', 'package cart\n\n// Cart holds items.\ntype Cart struct {\n\titems []Item\n}\n\n' +
    '// NewCart makes an empty cart for the given customer name.\nfunc NewCart(name string) *Cart {\n\tc := &Cart{}\n\tc.reset()\n\treturn c\n}\n\n' +
    'func (c *Cart) Add(it Item) {\n\tc.items = append(c.items, it)\n\tc.reset()\n}\n'],
  ['cart/item.go', 'package cart\n\ntype Item struct {\n\tName string\n}\n\nconst (\n\tMaxItems = 10\n\tminItems, midItems = 1, 5\n)\n\n' +
    'func (c *Cart) reset() {\n\tc.items = nil\n}\n'],
  ['main.go', 'package main\n\nimport (\n\t"fmt"\n\tshop "example.com/shop/cart"\n)\n\nfunc main() {\n\tc := shop.NewCart("x")\n' +
    '\tc.Add(shop.Item{Name: "a"})\n\tfmt.Println(shop.MaxItems)\n}\n'],
]);

test('Go: package-level names, pkg.Name through go.mod, receivers and x := pkg.NewT(), doc comments', () => {
  const corpus = new Corpus('go', new Map([...goFiles].filter(([k]) => k.endsWith('.go'))), new Map([['go.mod', goFiles.get('go.mod')]]));
  const cart = casesOf(corpus, 'cart/cart.go');
  assert.equal(cart['bare:Item'].def_file, 'cart/item.go');
  assert.deepEqual(cart['bare:Item'].def_lines, [3]);
  const resets = corpus.candidates('cart/cart.go', newStats()).filter((c) => c.symbol === 'reset').map((c) => `${c.via}:${c.line}`);
  assert.deepEqual(resets.sort(), ['receiver:17', 'var:11']);
  assert.deepEqual(cart['object:reset'].def_lines, [12]);
  assert.equal(cart['bare:Cart'], undefined, 'defined in F itself');
  assert.equal(cart['chat:NewCart'].query, 'makes an empty cart for the given customer name.', "Go's leading name is dropped");
  const main = casesOf(corpus, 'main.go');
  assert.equal(main['module:NewCart'].def_file, 'cart/cart.go');
  assert.equal(main['module:MaxItems'].def_file, 'cart/item.go');
  assert.deepEqual(main['module:MaxItems'].def_lines, [8]);
  assert.equal(main['object:Add'].via, 'var');
  assert.equal(main['object:Add'].def_file, 'cart/cart.go');
});

test('Go: a tree without go.mod resolves import paths as directories (GOPATH layout)', () => {
  const files = new Map([
    ['example.com/shop/cart/cart.go', goFiles.get('cart/cart.go')],
    ['example.com/shop/cart/item.go', goFiles.get('cart/item.go')],
    ['example.com/shop/main.go', goFiles.get('main.go')],
  ]);
  const main = casesOf(new Corpus('gopath', files), 'example.com/shop/main.go');
  assert.equal(main['module:NewCart'].def_file, 'example.com/shop/cart/cart.go');
});

const rsFiles = new Map([
  ['Cargo.toml', '[package]\nname = "my-rt"\nversion = "0.1.0"\n'],
  ['src/lib.rs', 'pub mod task;\nmod util;\n\npub use crate::task::Task;\n\nmacro_rules! cfg_rt {\n    ($($i:item)*) => { $($i)* }\n}\n'],
  ['src/task/mod.rs', 'mod handle;\n\npub use self::handle::Handle;\n\npub struct Task {\n    id: u64,\n}\n\nimpl Task {\n' +
    '    /// Makes a new task with the given identifier number.\n    pub fn new(id: u64) -> Task {\n        let t = Task { id };\n        t\n    }\n}\n'],
  ['src/task/handle.rs', 'use super::Task;\n\npub struct Handle;\n\nimpl Task {\n    pub fn handle(&self) -> Handle {\n        Handle\n    }\n}\n\n' +
    'cfg_rt! {\n    pub fn spawn(t: Task) -> Handle {\n        t.handle()\n    }\n}\n'],
  ['src/util.rs', "use crate::task::{self, Handle as H};\nuse crate::Task;\n\nfn run<'a>(x: &'a Task) -> H {\n    let t = Task::new(1);\n    let b = Task::new(3).handle();\n    b.handle();\n" +
    '    let h: H = task::handle::spawn(t);\n    x.handle();\n    crate::task::handle::spawn(Task::new(2))\n}\n\nimpl Task {\n    fn again(&self) -> H {\n        self.handle()\n    }\n}\n'],
]);

test('Rust: use trees, module paths, re-exports, self and typed receivers, doc comments', () => {
  assert.deepEqual(parseUse('crate::a::{self, b::{C, D as E}, F}'), [
    { segs: ['crate', 'a'], local: 'a', glob: false },
    { segs: ['crate', 'a', 'b', 'C'], local: 'C', glob: false },
    { segs: ['crate', 'a', 'b', 'D'], local: 'E', glob: false },
    { segs: ['crate', 'a', 'F'], local: 'F', glob: false },
  ]);
  assert.deepEqual(parseUse('super::*'), [{ segs: ['super'], local: null, glob: true }]);
  const corpus = new Corpus('rs', new Map([...rsFiles].filter(([k]) => k.endsWith('.rs'))), new Map([['Cargo.toml', rsFiles.get('Cargo.toml')]]));
  const util = casesOf(corpus, 'src/util.rs');
  assert.equal(util['bare:H'].def_file, 'src/task/handle.rs', 'through `pub use self::handle::Handle`');
  assert.deepEqual(util['bare:H'].def_lines, [3]);
  assert.equal(util['bare:Task'].def_file, 'src/task/mod.rs', 'through `pub use crate::task::Task` in lib.rs');
  assert.equal(util['bare:Task'].hops, 1);
  assert.equal(util['module:spawn'].def_file, 'src/task/handle.rs', 'an item inside a macro block');
  assert.deepEqual(util['module:spawn'].def_lines, [12]);
  const objs = corpus.candidates('src/util.rs', newStats()).filter((c) => c.kind === 'object').map((c) => `${c.via}:${c.symbol}`).sort();
  assert.deepEqual(objs, ['param:handle', 'self:handle'], '`let b = Task::new(3).handle()` is no Task');
  const chat = corpus.chats('src/task/mod.rs');
  assert.equal(chat[0].query, 'Makes a new task with the given identifier number.');
});

const javaFiles = new Map([
  ['src/shop/Base.java', 'package shop;\n\npublic abstract class Base {\n    public static final int LIMIT = 3;\n\n' +
    '    /**\n     * Returns the total price of every item in the basket.\n     */\n    protected int total() {\n        int n = 0;\n        n++;\n        return n;\n    }\n}\n'],
  ['src/shop/util/Money.java', 'package shop.util;\n\npublic class Money {\n    public static Money of(int cents) { return new Money(); }\n    public int cents() { return 0; }\n}\n'],
  ['src/shop/Cart.java', 'package shop;\n\nimport shop.util.Money;\n\npublic class Cart extends Base {\n    private Money sum;\n\n' +
    '    int check() {\n        Money m = Money.of(Base.LIMIT);\n        int c = m.cents();\n        return total() + this.total() + c;\n    }\n}\n'],
]);

test('Java: imported and same-package types, static members, implicit this, typed variables, Javadoc', () => {
  const corpus = new Corpus('java', javaFiles);
  const cart = casesOf(corpus, 'src/shop/Cart.java');
  assert.equal(cart['bare:Money'].def_file, 'src/shop/util/Money.java');
  assert.equal(cart['bare:Money'].via, 'import');
  assert.equal(cart['bare:Base'].via, 'package');
  assert.equal(cart['module:of'].def_file, 'src/shop/util/Money.java');
  assert.deepEqual(cart['module:LIMIT'].def_lines, [4]);
  const objs = corpus.candidates('src/shop/Cart.java', newStats()).filter((c) => c.kind === 'object').map((c) => `${c.via}:${c.symbol}`).sort();
  assert.deepEqual(objs, ['implicit this:total', 'this:total', 'typed:cents']);
  const chat = corpus.chats('src/shop/Base.java');
  assert.equal(chat[0].query, 'Returns the total price of every item in the basket.');
  assert.deepEqual(chat[0].def_lines, [9]);
});

test('masking keeps lengths and hides only the use site or the doc comment; the query stops before it', () => {
  for (const files of [jsFiles, pyFiles, javaFiles]) {
    const corpus = new Corpus('x', files);
    const { cases } = sampleCases(corpus, 10, 1, { perFile: 5, perDef: 5 });
    assert.ok(cases.length > 3);
    const masked = maskFiles(corpus, cases);
    for (const c of cases) {
      const text = masked.get(c.file);
      assert.equal(text.length, files.get(c.file).length);
      assert.equal(text.split('\n').length, files.get(c.file).split('\n').length);
      if (c.kind === 'chat') {
        for (const [s, e] of c.hide) assert.match(text.slice(s, e), /^\s*$/);
        assert.ok(!text.includes(c.query.split(' ').slice(0, 3).join(' ')), 'the question is not in the indexed copy');
        continue;
      }
      assert.equal(text.slice(c.offset, c.offset + c.symbol.length), '_'.repeat(c.symbol.length));
      const { prefix, suffix } = queryOf(c, text);
      assert.equal(prefix, text.slice(0, c.offset));
      assert.ok(text.slice(c.offset + c.symbol.length).startsWith(suffix));
    }
  }
  const corpus = new Corpus('js', jsFiles);
  const masked = maskFiles(corpus, sampleCases(corpus, 10, 1, { perFile: 5, perDef: 5 }).cases);
  assert.ok(masked.get('src/app.ts').includes('new ___()'));
  assert.ok(masked.get('src/app.ts').startsWith('import { Vec,'), 'imports stay as they are');
});

test('a query holds the file as the editor does: only its own use site masked', () => {
  const corpus = new Corpus('js', jsFiles);
  const { cases } = sampleCases(corpus, 10, 1, { perFile: 5, perDef: 5 });
  const masked = maskFiles(corpus, cases);
  let others = 0;
  for (const c of cases) {
    if (c.kind === 'chat') continue;
    const original = jsFiles.get(c.file);
    const own = ownMask(c, original);
    assert.equal(own.length, original.length);
    assert.equal(own.slice(c.offset, c.offset + c.symbol.length), '_'.repeat(c.symbol.length));
    assert.equal(own.slice(0, c.offset), original.slice(0, c.offset));
    const { prefix } = queryOf(c, own);
    for (const d of cases)
      if (d !== c && d.kind !== 'chat' && d.file === c.file && d.offset + d.symbol.length <= c.offset) {
        assert.equal(prefix.slice(d.offset, d.offset + d.symbol.length), d.symbol, 'another case\'s site reads as written');
        assert.notEqual(masked.get(c.file).slice(d.offset, d.offset + d.symbol.length), d.symbol, '... and is masked in the index');
        others++;
      }
  }
  assert.ok(others > 0, 'the fixture has two cases in one file');
  assert.throws(() => ownMask({ ...cases.find((c) => c.kind !== 'chat'), offset: 0 }, 'xyz'), /does not point/);
});

test('--use random draws among the uses, the same way every time', () => {
  const pick = pickUse('random', 5);
  const uses = [10, 20, 30, 40, 50, 60];
  const drawn = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => pick(uses, k));
  assert.deepEqual(drawn, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => pickUse('random', 5)(uses, k)));
  assert.ok(new Set(drawn).size > 1);
  assert.equal(pickUse('first', 5)(uses, 'a'), 10);
  assert.throws(() => pickUse('last', 1));
});

test('sampling is deterministic for a seed and capped per kind', () => {
  const a = sampleCases(new Corpus('py', pyFiles), 1, 7).cases.map((c) => c.id + c.kind + c.symbol);
  const b = sampleCases(new Corpus('py', pyFiles), 1, 7).cases.map((c) => c.id + c.kind + c.symbol);
  assert.deepEqual(a, b);
  const { cases } = sampleCases(new Corpus('py', pyFiles), 1, 7);
  for (const k of ['bare', 'module', 'object', 'chat']) assert.equal(cases.filter((c) => c.kind === k).length, 1, k);
  const r = rng(1);
  assert.notEqual(r(), r());
});

test('summaries: first sentence, tags and markup dropped, too short is none', () => {
  assert.equal(summarize('Parses the {@code header} of a <b>message</b>. More.\n@param x y'), 'Parses the header of a message .');
  assert.equal(summarize('Foo returns the [`Bar`](x) of a thing.', 'Foo'), 'returns the Bar of a thing.');
  assert.equal(summarize('Too short.'), null);
  assert.equal(summarize('TODO: write this down later on'), null);
  assert.deepEqual(subwords('parseHTTPRequest_now'), ['parse', 'http', 'request', 'now']);
});

test('usage-count peer: the most used name of the target first; chat by name words', () => {
  const files = new Map([
    ['g.py', 'def rare():\n    pass\n\n\ndef common():\n    pass\n\n\ndef open_database():\n    pass\n'],
    ['a.py', 'import g\ng.common()\ng.common()\ng.rare()\n'],
    ['b.py', 'import g\ng.common()\ng.________()\n'],
  ]);
  const corpus = new Corpus('p', files);
  const usage = new Usage(corpus, files);
  const c = { kind: 'module', file: 'b.py', cands: [{ name: 'rare', file: 'g.py', line: 1 }, { name: 'common', file: 'g.py', line: 5 }] };
  const r = usagePeer(c, corpus, usage, files);
  assert.deepEqual(r.map((x) => x.start_line), [5, 1]);
  const q = { kind: 'chat', query: 'Opens the database of the user.' };
  assert.equal(usagePeer(q, corpus, usage, files)[0].start_line, 9);
});

test('unzip: stored and deflated entries under a prefix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-zip-'));
  try {
    const entries = [['keep/a.java', 'class A {}\n', 8], ['keep/b.txt', 'bbb', 0], ['drop/c.java', 'class C {}', 0]];
    const locals = [];
    const central = [];
    let off = 0;
    for (const [name, text, method] of entries) {
      const raw = Buffer.from(text);
      const data = method === 8 ? zlib.deflateRawSync(raw) : raw;
      const n = Buffer.from(name);
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(method, 8);
      h.writeUInt32LE(data.length, 18);
      h.writeUInt32LE(raw.length, 22);
      h.writeUInt16LE(n.length, 26);
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(method, 10);
      c.writeUInt32LE(data.length, 20);
      c.writeUInt32LE(raw.length, 24);
      c.writeUInt16LE(n.length, 28);
      c.writeUInt32LE(off, 42);
      locals.push(h, n, data);
      central.push(c, n);
      off += 30 + n.length + data.length;
    }
    const cd = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(cd.length, 12);
    end.writeUInt32LE(off, 16);
    fs.writeFileSync(path.join(dir, 'x.zip'), Buffer.concat([...locals, cd, end]));
    unzip(path.join(dir, 'x.zip'), path.join(dir, 'out'), 'keep/');
    assert.equal(fs.readFileSync(path.join(dir, 'out/keep/a.java'), 'utf8'), 'class A {}\n');
    assert.equal(fs.readFileSync(path.join(dir, 'out/keep/b.txt'), 'utf8'), 'bbb');
    assert.ok(!fs.existsSync(path.join(dir, 'out/drop')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('BM25 and Jaccard windows: the matching window first, the current file left out', () => {
  const files = new Map([
    ['a.js', Array.from({ length: 40 }, (_, i) => (i === 25 ? 'function frobnicate(widget) {}' : `line${i}()`)).join('\n')],
    ['b.js', 'frobnicate(widget);\nother();\n'],
  ]);
  const idx = new WindowIndex(files);
  assert.deepEqual(tokens('fooBar(x__y, ___) 3'), ['foobar', 'x__y', '3']);
  const top = idx.bm25('frobnicate widget', 10, 'b.js');
  assert.equal(top[0].path, 'a.js');
  assert.ok(top[0].start_line <= 26 && 26 <= top[0].end_line);
  assert.ok(top.every((w) => w.path !== 'b.js'));
  assert.equal(idx.jaccard('frobnicate widget', 10, 'a.js')[0].path, 'b.js');
});

test('metrics: ranks, MRR, the character budget and alternative definitions', () => {
  const c = { def_file: 'g.js', def_lines: [10] };
  const miss = { path: 'x.js', start_line: 1, end_line: 20, chars: 100 };
  const hit = { path: 'g.js', start_line: 5, end_line: 15, chars: 100 };
  assert.deepEqual(score(c, [hit]), { rank: 1, r1: 1, r5: 1, mrr: 1, budget: 1 });
  const s = score(c, [miss, miss, hit]);
  assert.equal(s.rank, 3);
  assert.equal(s.r1, 0);
  assert.equal(s.r5, 1);
  assert.ok(Math.abs(s.mrr - 1 / 3) < 1e-9);
  assert.equal(score(c, [{ ...miss, chars: BUDGET - 50 }, hit]).budget, 0, 'the hit does not fit');
  assert.equal(score(c, [{ ...hit, start_line: 11 }]).rank, 0, 'the right file, the wrong chunk');
  assert.equal(average([s, score(c, [])]).r5, 0.5);
  assert.equal(score({ ...c, alt: [{ file: 'x.js', lines: [3] }] }, [miss]).rank, 1, 'a hit on an alternative definition');
  assert.equal(score(c, [{ ...hit, lines: [6, 12] }]).rank, 0, 'an outline that does not show the line');
  assert.equal(score(c, [{ ...hit, lines: [6, 10] }]).rank, 1, 'an outline that shows it');
});

test('metrics: the lines an outline shows', () => {
  const file = ['class A {', '  get(key) {', '    return 1;', '  }', '', '  put(key, value) {', '  }', '}', '  get(key) {'].join('\n');
  const r = { path: 'a.js', start_line: 2, end_line: 6, text: '  get(key) {\n  put(key, value) {\n' };
  assert.deepEqual(shownLines(file, r), [2, 6], 'its own lines, within its range only');
  assert.deepEqual(shownLines(file, { ...r, text: '\n   \n' }), [], 'blank lines show nothing');
});

test("the seeder's content filter: binary, not UTF-8, generated, minified", () => {
  assert.equal(seederText(Buffer.from('int a;\n')), 'int a;\n');
  assert.equal(seederText(Buffer.from('a\0b')), null);
  assert.equal(seederText(Buffer.from([0x61, 0xe9, 0x0a])), null);
  assert.equal(seederText(Buffer.from('/* Generated By:JavaCC: Do not edit this line. */\nclass P {}\n')), null);
  assert.equal(seederText(Buffer.from('x'.repeat(2000))), null);
});

test('summaries: reStructuredText roles keep their last name', () => {
  assert.equal(summarize('Create a new :class:`_engine.Engine` instance.'), 'Create a new Engine instance.');
  assert.equal(summarize('Return the :func:`~networkx.utils.misc.flatten` of a list.'), 'Return the flatten of a list.');
});
