// Tests of the evaluation's own parts on small, made-up files:
//   node --test tests/eval/
import test from 'node:test';
import assert from 'node:assert/strict';
import { codeMaskJs, codeMaskPy } from './lex.mjs';
import { Corpus, sampleCases, maskFiles, queryOf, rng, pickUse } from './cases.mjs';
import { WindowIndex, tokens } from './baselines.mjs';
import { score, average, BUDGET } from './metrics.mjs';

const isCode = (mask, text, needle, nth = 0) => {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  return mask[at] === 1;
};

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

const jsFiles = new Map([
  ['src/math/Vector.ts', 'export class Vector {\n  x = 0;\n}\nexport function dot(a, b) {\n  return 0;\n}\n'],
  ['src/index.ts', "export { Vector as Vec } from './math/Vector';\nexport * from './math/Vector';\n"],
  ['src/app.ts', "import { Vec, dot as d } from './index';\nimport * as M from './math/Vector.js';\n\n" +
    '// Vec in a comment\nconst s = "Vec";\nconst v = new Vec();\nconst w = d(v, v);\nconst u = M.dot(v, w);\n'],
  ['lib/util.js', 'class Queue {}\nmodule.exports = Queue;\nmodule.exports.LIMIT = 3;\n'],
  ['lib/use.js', 'const Queue = require("./util");\nconst { LIMIT } = require("./util");\n\nconst q = new Queue(LIMIT);\n'],
]);

test('JS/TS: named, aliased, namespace and CommonJS imports, through re-exports', () => {
  const corpus = new Corpus('js', jsFiles);
  const stats = { noDefinition: 0, noUse: 0, shadowed: 0 };
  const app = corpus.candidates('src/app.ts', stats);
  const byName = Object.fromEntries(app.map((c) => [c.symbol, c]));
  assert.equal(byName.Vec.def_file, 'src/math/Vector.ts');
  assert.deepEqual(byName.Vec.def_lines, [1]);
  assert.equal(byName.Vec.hops, 1);
  assert.equal(byName.Vec.line, 6, 'the use in code, not in the comment or the string');
  assert.deepEqual(byName.d.def_lines, [4]);
  assert.equal(byName.dot.via, 'member');
  const use = corpus.candidates('lib/use.js', stats);
  const q = use.find((c) => c.symbol === 'Queue');
  assert.equal(q.def_file, 'lib/util.js');
  assert.deepEqual(q.def_lines, [1]);
  assert.equal(q.via, 'default');
  assert.deepEqual(use.find((c) => c.symbol === 'LIMIT').def_lines, [3]);
});

const pyFiles = new Map([
  ['pkg/__init__.py', 'from .core import Engine\n'],
  ['pkg/core.py', 'class Engine:\n    pass\n\n\ndef connect(url):\n    return Engine()\n'],
  ['pkg/sub/__init__.py', ''],
  ['pkg/sub/run.py', 'from .. import core\nfrom ..core import (\n    connect as open_,\n)\nfrom pkg import Engine\n\n' +
    '# Engine\ne = open_("x")\nf = core.connect("y")\nassert isinstance(e, Engine)\n'],
]);

test('Python: relative and absolute imports, module members, re-exports', () => {
  const corpus = new Corpus('py', pyFiles);
  const stats = { noDefinition: 0, noUse: 0, shadowed: 0 };
  const cases = corpus.candidates('pkg/sub/run.py', stats);
  const byName = Object.fromEntries(cases.map((c) => [c.symbol, c]));
  assert.deepEqual(byName.open_.def_lines, [5]);
  assert.equal(byName.connect.via, 'member');
  assert.equal(byName.Engine.def_file, 'pkg/core.py');
  assert.equal(byName.Engine.line, 10);
});

test('masking keeps lengths and hides only the use site; the query stops before it', () => {
  const corpus = new Corpus('js', jsFiles);
  const { cases } = sampleCases(corpus, 10, 1, { perFile: 5, perDef: 5 });
  const masked = maskFiles(corpus, cases);
  for (const c of cases) {
    const text = masked.get(c.file);
    assert.equal(text.length, jsFiles.get(c.file).length);
    assert.equal(text.slice(c.offset, c.offset + c.symbol.length), '_'.repeat(c.symbol.length));
    const { prefix, suffix } = queryOf(c, text);
    assert.equal(prefix, text.slice(0, c.offset));
    assert.ok(text.slice(c.offset + c.symbol.length).startsWith(suffix));
  }
  assert.ok(masked.get('src/app.ts').includes('new ___()'));
  assert.ok(masked.get('src/app.ts').startsWith('import { Vec,'), 'imports stay as they are');
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

test('sampling is deterministic for a seed', () => {
  const corpus = new Corpus('js', jsFiles);
  const a = sampleCases(corpus, 3, 7).cases.map((c) => c.id + c.symbol);
  const b = sampleCases(new Corpus('js', jsFiles), 3, 7).cases.map((c) => c.id + c.symbol);
  assert.deepEqual(a, b);
  const r = rng(1);
  assert.notEqual(r(), r());
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

test('metrics: ranks, MRR and the character budget', () => {
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
});
