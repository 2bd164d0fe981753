// Cases: a place in file F where a symbol defined in another file G of the
// same corpus is used.  Imports are read per language (ES modules and
// CommonJS for JS/TS, `from … import` for Python), resolved to files of the
// corpus, and followed through re-exports to the file that defines the name.
// Definitions are top-level (column 0) declarations in code, found by the
// patterns below; the use site is the first use in code after the import.
import { posix as path } from 'node:path';
import { codeMask, lineStarts, lineOf } from './lex.mjs';

export const CODE_EXTS = {
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascript',
  '.ts': 'typescript', '.tsx': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.py': 'python',
};

export function languageOf(rel) {
  if (rel.endsWith('.d.ts')) return null; // declarations only: no code to use
  return CODE_EXTS[path.extname(rel)] || null;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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

// Which use of a name becomes the case: 'first' (the default: the name is
// being typed for the first time, as in CrossCodeEval) or 'random' (any use
// after the import, drawn with a seed per file and name).
export function pickUse(mode, seed) {
  if (mode === 'first') return (uses) => uses[0];
  if (mode !== 'random') throw new Error(`--use must be first or random, not ${mode}`);
  return (uses, key) => {
    let h = 2166136261 ^ seed;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
    return uses[Math.floor(rng(h)() * uses.length)];
  };
}

// Per-file analysis, cached: text, code mask, line starts, definitions,
// imports and re-exports.
class FileInfo {
  constructor(rel, text, lang) {
    this.rel = rel;
    this.text = text;
    this.lang = lang;
    this.mask = codeMask(lang, text);
    this.starts = lineStarts(text);
    this.defs = lang === 'python' ? defsPy(this) : defsJs(this);
  }
  line(offset) {
    return lineOf(this.starts, offset);
  }
}

function addDef(defs, name, line) {
  if (!defs.has(name)) defs.set(name, []);
  const lines = defs.get(name);
  if (!lines.includes(line)) lines.push(line);
}

// Column-0 declarations of JS/TS, plus CommonJS `exports.x =` and the
// name behind `export default` / `module.exports =` (as "default").
function defsJs(f) {
  const defs = new Map();
  const decl = /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\s*\*?|class|interface|type|enum|const\s+enum|namespace|const|let|var)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of f.text.matchAll(decl)) {
    if (!f.mask[m.index]) continue;
    // `const X = require(…)` binds an import; it defines nothing
    const rest = f.text.slice(m.index + m[0].length, m.index + m[0].length + 40);
    if (/^\s*=\s*require\s*\(/.test(rest)) continue;
    addDef(defs, m[1], f.line(m.index));
    if (/^export\s+default\b/.test(m[0])) addDef(defs, 'default', f.line(m.index));
  }
  const cjs = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=(?!=)/gm;
  for (const m of f.text.matchAll(cjs)) if (f.mask[m.index]) addDef(defs, m[1], f.line(m.index));
  const dflt = /^(?:export\s+default|module\.exports\s*=)\s*([A-Za-z_$][\w$]*)\s*;?\s*$/gm;
  for (const m of f.text.matchAll(dflt)) {
    if (!f.mask[m.index]) continue;
    const lines = defs.get(m[1]);
    if (lines) for (const l of lines) addDef(defs, 'default', l);
  }
  return defs;
}

// Column-0 `def`, `class` and assignments of Python.
function defsPy(f) {
  const defs = new Map();
  const decl = /^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=(?!=)/gm;
  for (const m of f.text.matchAll(decl)) {
    if (!f.mask[m.index]) continue;
    addDef(defs, m[1] || m[2], f.line(m.index));
  }
  return defs;
}

function parseSpecifiers(list) {
  // "A, B as C, type D, default as E" -> [{imported, local}]
  const out = [];
  for (let part of list.split(',')) {
    part = part.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').trim().replace(/^type\s+/, '');
    if (!part) continue;
    const m = part.match(/^([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?$/);
    if (m) out.push({ imported: m[1], local: m[2] || m[1] });
  }
  return out;
}

// Corpus: the files of one package, with module resolution over them.
export class Corpus {
  constructor(name, files) {
    // files: Map rel -> text (code files only)
    this.name = name;
    this.texts = files;
    this.cache = new Map();
  }
  has(rel) {
    return this.texts.has(rel);
  }
  file(rel) {
    if (!this.cache.has(rel)) this.cache.set(rel, new FileInfo(rel, this.texts.get(rel), languageOf(rel)));
    return this.cache.get(rel);
  }

  resolveJs(from, spec) {
    if (!spec.startsWith('.')) return null;
    const p = path.normalize(path.join(path.dirname(from), spec));
    const cands = [p];
    const noExt = p.replace(/\.(m|c)?js$/, '');
    for (const e of ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.jsx']) cands.push(noExt + e, p + e);
    for (const e of ['.ts', '.js']) cands.push(p + '/index' + e);
    for (const c of cands) if (this.has(c) && languageOf(c)) return c;
    return null;
  }

  // `from <dotted> import …` relative to `from`; returns a module's file.
  resolvePyModule(from, dotted) {
    const dots = dotted.match(/^\.*/)[0].length;
    const rest = dotted.slice(dots).split('.').filter(Boolean);
    let base = '';
    if (dots > 0) {
      base = path.dirname(from);
      for (let i = 1; i < dots; i++) base = path.dirname(base);
      if (base === '.') base = '';
    }
    const p = path.join(base || '.', ...rest);
    for (const c of [p + '.py', path.join(p, '__init__.py')]) {
      const n = path.normalize(c);
      if (this.has(n)) return n;
    }
    return null;
  }

  // Bindings that F's imports introduce: {local, kind: 'name'|'module',
  // file (G), imported, end (offset after the statement), span [start,end]}.
  imports(rel) {
    const f = this.file(rel);
    return f.lang === 'python' ? this.importsPy(f) : this.importsJs(f);
  }

  importsJs(f) {
    const out = [];
    const spans = [];
    const add = (m, binding) => {
      if (!f.mask[m.index]) return;
      out.push({ ...binding, start: m.index, end: m.index + m[0].length });
    };
    const named = /\bimport\s+(?:type\s+)?(?:([A-Za-z_$][\w$]*)\s*,\s*)?\{([^}]*)\}\s*from\s*(['"])([^'"]+)\3/g;
    for (const m of f.text.matchAll(named)) {
      spans.push([m.index, m.index + m[0].length]);
      const g = this.resolveJs(f.rel, m[4]);
      if (!g) continue;
      if (m[1]) add(m, { local: m[1], kind: 'name', file: g, imported: 'default' });
      for (const s of parseSpecifiers(m[2])) add(m, { local: s.local, kind: 'name', file: g, imported: s.imported });
    }
    const ns = /\bimport\s+(?:type\s+)?\*\s*as\s+([A-Za-z_$][\w$]*)\s+from\s*(['"])([^'"]+)\2/g;
    for (const m of f.text.matchAll(ns)) {
      spans.push([m.index, m.index + m[0].length]);
      const g = this.resolveJs(f.rel, m[3]);
      if (g) add(m, { local: m[1], kind: 'module', file: g });
    }
    const dflt = /\bimport\s+(?:type\s+)?([A-Za-z_$][\w$]*)\s+from\s*(['"])([^'"]+)\2/g;
    for (const m of f.text.matchAll(dflt)) {
      spans.push([m.index, m.index + m[0].length]);
      const g = this.resolveJs(f.rel, m[3]);
      if (g) add(m, { local: m[1], kind: 'name', file: g, imported: 'default' });
    }
    const req = /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*(['"])([^'"]+)\2\s*\)/g;
    for (const m of f.text.matchAll(req)) {
      spans.push([m.index, m.index + m[0].length]);
      const g = this.resolveJs(f.rel, m[3]);
      if (!g) continue;
      add(m, { local: m[1], kind: 'name', file: g, imported: 'default' });
      add(m, { local: m[1], kind: 'module', file: g });
    }
    const reqd = /\b(?:const|let|var)\s*\{([^}]*)\}\s*=\s*require\(\s*(['"])([^'"]+)\2\s*\)/g;
    for (const m of f.text.matchAll(reqd)) {
      spans.push([m.index, m.index + m[0].length]);
      const g = this.resolveJs(f.rel, m[3]);
      if (!g) continue;
      for (let part of m[1].split(',')) {
        const s = part.trim().match(/^([A-Za-z_$][\w$]*)(?:\s*:\s*([A-Za-z_$][\w$]*))?$/);
        if (s) add(m, { local: s[2] || s[1], kind: 'name', file: g, imported: s[1] });
      }
    }
    const reexp = /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(['"])[^'"]+\1/g;
    for (const m of f.text.matchAll(reexp)) spans.push([m.index, m.index + m[0].length]);
    return { bindings: out, spans };
  }

  // Python import statements, one logical line each (parentheses and
  // backslash continuations joined).
  pyStatements(f) {
    const out = [];
    const re = /^[ \t]*(from\s+([.\w]+)\s+import\s+|import\s+)/gm;
    for (const m of f.text.matchAll(re)) {
      const start = m.index;
      if (!f.mask[start + m[0].search(/\S/)]) continue;
      let i = start + m[0].length;
      let depth = 0;
      while (i < f.text.length) {
        const c = f.text[i];
        if (c === '(') depth++;
        else if (c === ')') depth--;
        else if (c === '\\' && f.text[i + 1] === '\n') { i += 2; continue; }
        else if (c === '\n' && depth <= 0) break;
        i++;
      }
      const body = f.text.slice(start + m[0].length, i).replace(/#.*$/gm, '').replace(/[()\\\n]/g, ' ');
      out.push({ start, end: i, from: m[2] || null, body });
    }
    return out;
  }

  importsPy(f) {
    const out = [];
    const spans = [];
    for (const st of this.pyStatements(f)) {
      spans.push([st.start, st.end]);
      const names = st.body.split(',').map((s) => s.trim()).filter(Boolean);
      if (st.from) {
        for (const n of names) {
          const m = n.match(/^(\w+)(?:\s+as\s+(\w+))?$/);
          if (!m) continue;
          const local = m[2] || m[1];
          const sep = st.from.endsWith('.') ? '' : '.';
          const sub = this.resolvePyModule(f.rel, st.from + sep + m[1]);
          if (sub) {
            out.push({ local, kind: 'module', file: sub, start: st.start, end: st.end });
            continue;
          }
          const g = this.resolvePyModule(f.rel, st.from);
          if (g) out.push({ local, kind: 'name', file: g, imported: m[1], start: st.start, end: st.end });
        }
      } else {
        for (const n of names) {
          const m = n.match(/^([\w.]+)\s+as\s+(\w+)$/);
          if (!m) continue;
          const g = this.resolvePyModule(f.rel, m[1]);
          if (g) out.push({ local: m[2], kind: 'module', file: g, start: st.start, end: st.end });
        }
      }
    }
    return { bindings: out, spans };
  }

  // Where `name` exported by file g is defined: follows re-exports
  // (`export {a as b} from`, `export * from`, `from .x import a`, `from .x
  // import *`) up to 4 hops.  Returns {file, lines, hops} or null.
  definition(g, name, hops = 0, seen = new Set()) {
    const key = g + '\0' + name;
    if (hops > 4 || seen.has(key)) return null;
    seen.add(key);
    const f = this.file(g);
    const lines = f.defs.get(name);
    if (lines) return { file: g, lines: lines.slice(), hops };
    if (name === 'default') return null;
    if (f.lang === 'python') {
      for (const st of this.pyStatements(f)) {
        if (!st.from) continue;
        for (const n of st.body.split(',').map((s) => s.trim())) {
          const m = n.match(/^(\w+|\*)(?:\s+as\s+(\w+))?$/);
          if (!m) continue;
          if (m[1] === '*' || (m[2] || m[1]) === name) {
            const sep = st.from.endsWith('.') ? '' : '.';
            if (m[1] !== '*' && this.resolvePyModule(g, st.from + sep + m[1])) continue; // a module
            const h = this.resolvePyModule(g, st.from);
            if (!h || h === g) continue;
            const d = this.definition(h, m[1] === '*' ? name : m[1], hops + 1, seen);
            if (d) return d;
          }
        }
      }
      return null;
    }
    const re = /\bexport\s+(?:type\s+)?(\*|\{([^}]*)\})\s*from\s*(['"])([^'"]+)\3/g;
    for (const m of f.text.matchAll(re)) {
      if (!f.mask[m.index]) continue;
      const h = this.resolveJs(g, m[4]);
      if (!h || h === g) continue;
      if (m[1] === '*') {
        const d = this.definition(h, name, hops + 1, seen);
        if (d) return d;
        continue;
      }
      for (const s of parseSpecifiers(m[2])) {
        if (s.local !== name) continue;
        const d = this.definition(h, s.imported, hops + 1, seen);
        if (d) return d;
      }
    }
    return null;
  }

  // Every candidate case of file rel: one use in code after its import of
  // each imported name (or each module member): the first one, or with
  // choose = pickUse('random', seed) one drawn at random (seeded per name).
  candidates(rel, stats, choose = (uses) => uses[0]) {
    const f = this.file(rel);
    const { bindings, spans } = this.imports(rel);
    const inSpan = (o) => spans.some(([a, b]) => o >= a && o < b);
    const out = [];
    const seen = new Set();
    const py = f.lang === 'python';
    for (const b of bindings) {
      if (b.file === rel) continue;
      if (f.defs.has(b.local)) { stats.shadowed++; continue; } // F redefines the name
      const from = b.end;
      if (b.kind === 'name') {
        const d = this.definition(b.file, b.imported);
        if (!d) { stats.noDefinition++; continue; }
        if (d.file === rel) continue;
        const re = new RegExp(`(?<![\\w$.])${escapeRe(b.local)}(?![\\w$])`, 'g');
        re.lastIndex = from;
        let m;
        const uses = [];
        while ((m = re.exec(f.text))) {
          const o = m.index;
          if (!f.mask[o] || inSpan(o)) continue;
          const after = f.text.slice(o + b.local.length, o + b.local.length + 3);
          if (!py && /^\s*:(?!:)/.test(after) && !/\?\s*$/.test(f.text.slice(o - 3, o))) continue; // object key
          if (py && /^\s*=(?!=)/.test(after)) continue; // keyword argument or re-binding
          if (/\b(?:def|class|function|let|const|var)\s+$/.test(f.text.slice(Math.max(0, o - 10), o))) continue;
          uses.push(o);
        }
        if (!uses.length) { stats.noUse++; continue; }
        const found = choose(uses, `${rel}\0${b.local}`);
        if (seen.has(found)) continue;
        seen.add(found);
        out.push(this.makeCase(f, found, b.local, d, b.imported === 'default' ? 'default' : 'named'));
      } else {
        const re = new RegExp(`(?<![\\w$.])${escapeRe(b.local)}\\s*\\.\\s*([A-Za-z_$][\\w$]*)(?![\\w$])`, 'g');
        re.lastIndex = from;
        const members = new Map(); // member -> offsets of its uses
        let m;
        while ((m = re.exec(f.text))) {
          if (!f.mask[m.index] || inSpan(m.index)) continue;
          if (!members.has(m[1])) members.set(m[1], []);
          members.get(m[1]).push(m.index + m[0].length - m[1].length);
        }
        for (const [name, uses] of members) {
          const d = this.definition(b.file, name);
          if (!d) { stats.noDefinition++; continue; }
          if (d.file === rel) continue;
          const o = choose(uses, `${rel}\0${b.local}.${name}`);
          if (seen.has(o)) continue;
          seen.add(o);
          out.push(this.makeCase(f, o, name, d, 'member'));
        }
      }
    }
    return out;
  }

  makeCase(f, offset, symbol, def, via) {
    return {
      corpus: this.name,
      file: f.rel,
      lang: f.lang,
      offset,
      line: f.line(offset),
      symbol,
      via,
      def_file: def.file,
      def_lines: def.lines,
      hops: def.hops,
    };
  }
}

// Sample `count` cases of a corpus with a fixed seed.  Skips names shorter
// than 3 characters and caps cases per file F and per definition, so no
// single file or popular definition dominates.
export function sampleCases(corpus, count, seed, opts = {}) {
  const perFile = opts.perFile ?? 2;
  const perDef = opts.perDef ?? 2;
  const stats = { files: 0, candidates: 0, noDefinition: 0, noUse: 0, shadowed: 0, short: 0 };
  let all = [];
  for (const rel of [...corpus.texts.keys()].sort()) {
    stats.files++;
    for (const c of corpus.candidates(rel, stats, pickUse(opts.use || 'first', seed))) {
      if (c.symbol.length < 3) { stats.short++; continue; }
      all.push(c);
    }
  }
  stats.candidates = all.length;
  all = shuffle(all, rng(seed));
  const byFile = new Map();
  const byDef = new Map();
  const picked = [];
  for (const c of all) {
    if (picked.length >= count) break;
    const dk = c.def_file + ':' + c.def_lines[0];
    if ((byFile.get(c.file) || 0) >= perFile || (byDef.get(dk) || 0) >= perDef) continue;
    byFile.set(c.file, (byFile.get(c.file) || 0) + 1);
    byDef.set(dk, (byDef.get(dk) || 0) + 1);
    picked.push(c);
  }
  picked.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset));
  picked.forEach((c, i) => (c.id = `${corpus.name}-${i}`));
  return { cases: picked, stats };
}

// The masked copy of each file F: every sampled use site replaced by
// underscores of the same length (a valid identifier in JS, TS and Python).
export function maskFiles(corpus, cases) {
  const masked = new Map();
  for (const c of cases) {
    const text = masked.get(c.file) ?? corpus.texts.get(c.file);
    const n = c.symbol.length;
    if (text.slice(c.offset, c.offset + n) !== c.symbol) throw new Error(`mask: ${c.id} does not point at ${c.symbol}`);
    masked.set(c.file, text.slice(0, c.offset) + '_'.repeat(n) + text.slice(c.offset + n));
  }
  return masked;
}

// The query of a case, from the masked text of F: the whole prefix up to
// the use site; the suffix from after the symbol to the end of its line
// plus 20 lines.
export function queryOf(c, maskedText, suffixLines = 20) {
  const prefix = maskedText.slice(0, c.offset);
  let end = c.offset + c.symbol.length;
  for (let k = 0; k <= suffixLines && end < maskedText.length; k++) {
    const nl = maskedText.indexOf('\n', end);
    end = nl < 0 ? maskedText.length : nl + 1;
  }
  const suffix = maskedText.slice(c.offset + c.symbol.length, end);
  return { prefix, suffix };
}
