// Cases: what the evaluation asks lca, built mechanically from a corpus by
// per-language rules (lang-*.mjs), never from a corpus's own names.
//
// Four kinds, reported apart:
//   bare    a name defined in another file G, used bare in file F (imported,
//           or visible because F and G are one package);
//   module  a member of a module, package or namespace (`mod.member`,
//           `pkg.Func`, `ns.member`, `m::f`; Java: `Class.staticMember`);
//   object  a method of an object whose class the prefix shows: `self.m` /
//           `this.m` / a Go receiver / implicit `this` in Java, with m
//           defined in another file (a base class, another file of the
//           package or crate), or `x.m` after `x = Foo()`, `x: Foo`,
//           `new Foo()`, `x := pkg.NewFoo()`, `let x = Foo::new()`;
//   chat    a question in words: the summary sentence of a function's doc
//           comment, with that comment hidden from the indexed copy.
// A case: {corpus, file, lang, kind, via, offset, line, symbol, def_file,
// def_lines, alt: [{file, lines}], hops, cands}; a hit is a returned chunk
// of def_file (or of an alt) holding one of the lines.  `cands` is what the
// usage-count peer ranks ({name, file, line}).
import { FileInfo, languageOf, subwords, stem } from './common.mjs';
import * as js from './lang-js.mjs';
import * as py from './lang-py.mjs';
import * as go from './lang-go.mjs';
import * as rust from './lang-rust.mjs';
import * as java from './lang-java.mjs';

export { languageOf } from './common.mjs';
export const KINDS = ['bare', 'module', 'object', 'chat'];
const LANGS = { javascript: js, typescript: js, python: py, go, rust, java };

// A seeded PRNG (mulberry32), so the sample is the same on every machine.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle(list, rand) {
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function hash(s, seed = 0) {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

// Which use of a name becomes the case: 'first' (the default: the name is
// being typed for the first time, as in CrossCodeEval) or 'random' (any use,
// drawn with a seed per file and name).
export function pickUse(mode, seed) {
  if (mode === 'first') return (uses) => uses[0];
  if (mode !== 'random') throw new Error(`--use must be first or random, not ${mode}`);
  return (uses, key) => uses[Math.floor(rng(hash(key, seed))() * uses.length)];
}

// Corpus: the code files of one repository (Map rel -> text) and the
// manifests that steer resolution (go.mod, Cargo.toml: Map rel -> text).
export class Corpus {
  constructor(name, files, manifests = new Map()) {
    this.name = name;
    this.texts = files;
    this.manifests = manifests;
    this.cache = new Map();
    this.memo = new Map(); // per-language indexes (packages, crates, ...)
  }
  has(rel) {
    return this.texts.has(rel);
  }
  file(rel) {
    let f = this.cache.get(rel);
    if (!f) {
      f = new FileInfo(rel, this.texts.get(rel), languageOf(rel));
      this.cache.set(rel, f);
      LANGS[f.lang].analyze(this, f);
    }
    return f;
  }
  langOf(rel) {
    return LANGS[languageOf(rel)];
  }
  once(key, make) {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key);
  }
  // Cases of kinds bare, module and object whose use site is in rel.
  candidates(rel, stats, choose = (uses) => uses[0]) {
    return this.langOf(rel).candidates(this, rel, stats, choose);
  }
  // Chat cases of rel: its documented functions.
  chats(rel) {
    return this.langOf(rel).chats(this, rel);
  }
  // Every function definition of the corpus ({name, file, line}), for the
  // chat peer.
  functions() {
    return this.once('functions', () => {
      const out = [];
      for (const rel of [...this.texts.keys()].sort()) {
        for (const fn of this.file(rel).functions || []) out.push({ name: fn.name, file: rel, line: fn.line });
      }
      return out;
    });
  }
}

export function makeCase(corpus, f, offset, symbol, kind, via, def, cands) {
  return {
    corpus: corpus.name,
    file: f.rel,
    lang: f.lang,
    kind,
    via,
    offset,
    line: f.line(offset),
    symbol,
    def_file: def.file,
    def_lines: def.lines,
    alt: def.alt || [],
    hops: def.hops || 0,
    cands: cands || [],
  };
}

export function newStats() {
  return { files: 0, candidates: 0, noDefinition: 0, noUse: 0, shadowed: 0, short: 0, perKind: {} };
}

// Sample up to `count` cases of each kind with a fixed seed.  Skips names
// shorter than 3 characters; at most perFile cases per file F and perDef per
// definition within a kind, so that no single file or popular definition
// dominates.
export function sampleCases(corpus, count, seed, opts = {}) {
  const perFile = opts.perFile ?? 2;
  const perDef = opts.perDef ?? 2;
  const kinds = opts.kinds || KINDS;
  const stats = newStats();
  const byKind = Object.fromEntries(kinds.map((k) => [k, []]));
  const choose = pickUse(opts.use || 'first', seed);
  for (const rel of [...corpus.texts.keys()].sort()) {
    stats.files++;
    const found = [];
    if (kinds.some((k) => k !== 'chat')) found.push(...corpus.candidates(rel, stats, choose));
    if (kinds.includes('chat')) found.push(...corpus.chats(rel));
    for (const c of found) {
      if (!byKind[c.kind]) continue;
      if (c.kind !== 'chat' && c.symbol.length < 3) { stats.short++; continue; }
      byKind[c.kind].push(c);
    }
  }
  const picked = [];
  for (const kind of kinds) {
    const all = shuffle(byKind[kind], rng(hash(kind, seed)));
    stats.perKind[kind] = all.length;
    stats.candidates += all.length;
    const nFile = new Map();
    const nDef = new Map();
    let n = 0;
    for (const c of all) {
      if (n >= count) break;
      const dk = c.def_file + ':' + c.def_lines[0];
      if ((nFile.get(c.file) || 0) >= perFile || (nDef.get(dk) || 0) >= perDef) continue;
      if (picked.some((p) => p.file === c.file && overlaps(p, c))) continue;
      nFile.set(c.file, (nFile.get(c.file) || 0) + 1);
      nDef.set(dk, (nDef.get(dk) || 0) + 1);
      picked.push(c);
      n++;
    }
  }
  picked.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset));
  picked.forEach((c, i) => (c.id = `${corpus.name}-${i}`));
  return { cases: picked, stats };
}

// Two cases of one file that touch the same characters cannot both be
// masked: a use site inside a hidden doc comment, or the same use twice.
function overlaps(a, b) {
  const span = (c) => (c.kind === 'chat' ? c.hide : [[c.offset, c.offset + c.symbol.length]]);
  for (const [s1, e1] of span(a)) for (const [s2, e2] of span(b)) if (s1 < e2 && s2 < e1) return true;
  return false;
}

// The masked copy of each file: every sampled use site replaced by
// underscores of the same length (a valid identifier in every language
// here), every hidden doc comment by blanks (newlines kept).  Lines and
// offsets do not move.
export function maskFiles(corpus, cases) {
  const masked = new Map();
  for (const c of cases) {
    let text = masked.get(c.file) ?? corpus.texts.get(c.file);
    if (c.kind === 'chat') {
      for (const [s, e] of c.hide) text = text.slice(0, s) + text.slice(s, e).replace(/[^\n]/g, ' ') + text.slice(e);
    } else {
      const n = c.symbol.length;
      if (text.slice(c.offset, c.offset + n) !== c.symbol) throw new Error(`mask: ${c.id} does not point at ${c.symbol}`);
      text = text.slice(0, c.offset) + '_'.repeat(n) + text.slice(c.offset + n);
    }
    masked.set(c.file, text);
  }
  return masked;
}

// The text of F as the editor holds it when a code case's name is typed:
// the original, with only that use site masked.  The other sampled sites of
// F are masked in the indexed copy only; in the editor they are code the
// user wrote (`new SuppressionsService(` before `suppressions.⟨`).
export function ownMask(c, text) {
  if (c.kind === 'chat') return text;
  if (text.slice(c.offset, c.offset + c.symbol.length) !== c.symbol) throw new Error(`mask: ${c.id} does not point at ${c.symbol}`);
  return text.slice(0, c.offset) + '_'.repeat(c.symbol.length) + text.slice(c.offset + c.symbol.length);
}

// The query of a code case, from the masked text of F: the whole prefix up
// to the use site; the suffix from after the symbol to the end of its line
// plus 20 lines.  A chat case's query is its sentence.
export function queryOf(c, maskedText, suffixLines = 20) {
  if (c.kind === 'chat') return { prefix: '', suffix: '' };
  const prefix = maskedText.slice(0, c.offset);
  let end = c.offset + c.symbol.length;
  for (let k = 0; k <= suffixLines && end < maskedText.length; k++) {
    const nl = maskedText.indexOf('\n', end);
    end = nl < 0 ? maskedText.length : nl + 1;
  }
  const suffix = maskedText.slice(c.offset + c.symbol.length, end);
  return { prefix, suffix };
}

// How often each identifier occurs in the code of each file (of the masked
// copy): the usage-count peer's only signal.
export class Usage {
  constructor(corpus, files) {
    this.perFile = new Map();
    this.total = new Map();
    for (const [rel, text] of files) {
      const f = new FileInfo(rel, text, languageOf(rel));
      const counts = new Map();
      for (const m of text.matchAll(/[A-Za-z_$][\w$]*/g)) {
        if (!f.mask[m.index]) continue;
        counts.set(m[0], (counts.get(m[0]) || 0) + 1);
      }
      this.perFile.set(rel, counts);
      for (const [k, v] of counts) this.total.set(k, (this.total.get(k) || 0) + v);
    }
  }
  // Uses of name outside file rel.
  outside(name, rel) {
    return (this.total.get(name) || 0) - (this.perFile.get(rel)?.get(name) || 0);
  }
}

const STOP = new Set(('the a an of to in for and or is are be by on with from this that it its as at if ' +
  'not no when which into given returns return whether used use uses using all any each can will should ' +
  'has have new get set value values true false null none one two').split(' '));

// The usage-count peer: for a code case, its candidate definitions (the
// target module's top-level names, the class's methods, the names F's
// imports bring in) by how often the rest of the repository uses each
// name; for a chat case, the corpus's functions by how many words of the
// question are sub-words of the name, then by usage.  Returns ranked
// results like a retriever's: {path, start_line, end_line, chars}.
export function usagePeer(c, corpus, usage, files, k = 10) {
  let ranked;
  if (c.kind === 'chat') {
    const words = new Set(c.query.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 2 && !STOP.has(w)).map(stem));
    ranked = corpus.functions()
      .map((d) => ({ d, s: subwords(d.name).filter((w) => words.has(stem(w))).length }))
      .filter((x) => x.s > 0)
      .map((x) => ({ ...x, u: usage.outside(x.d.name, x.d.file) }))
      .sort((a, b) => b.s - a.s || b.u - a.u || cmp(a.d, b.d))
      .map((x) => x.d);
  } else {
    const seen = new Set();
    ranked = c.cands
      .filter((d) => d.file !== c.file && !seen.has(d.name) && seen.add(d.name))
      .map((d) => ({ d, u: usage.outside(d.name, d.file) }))
      .sort((a, b) => b.u - a.u || cmp(a.d, b.d))
      .map((x) => x.d);
  }
  return ranked.slice(0, k).map((d) => {
    // the definition's line; its cost against the budget is 20 lines from it
    const lines = (files.get(d.file) || '').split('\n').slice(d.line - 1, d.line + 19);
    return { path: d.file, start_line: d.line, end_line: d.line, chars: lines.join('\n').length + 1 };
  });
}

function cmp(a, b) {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
}
