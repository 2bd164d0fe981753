// JavaScript and TypeScript: ES module and CommonJS imports resolved to
// files of the corpus (followed through re-exports), column-0 declarations,
// classes with their methods and `extends`, JSDoc comments.
import { posix as path } from 'node:path';
import {
  languageOf, escapeRe, addDef, identUses, before, summarize, classMember, classMembers, defCands,
} from './common.mjs';
import { makeCase } from './cases.mjs';

const ID = '[A-Za-z_$][\\w$]*';
const NOT_METHODS = new Set(['constructor', 'if', 'for', 'while', 'switch', 'catch', 'function', 'return', 'super', 'with']);
const MEMBER = new RegExp(`^[ \\t]*(?:@${ID}(?:\\([^)\\n]*\\))?\\s+)*(?:(?:public|private|protected|static|readonly|abstract|override|async|declare|accessor|get|set)\\s+)*\\*?\\s*(#?${ID})\\s*\\??\\s*(?:<[^>\\n]*>)?\\s*\\(`);
const ARROW_FIELD = new RegExp(`^[ \\t]*(?:(?:public|private|protected|static|readonly|override)\\s+)*(#?${ID})\\s*(?::[^=\\n]+)?=\\s*(?:async\\s+)?(?:\\([^)\\n]*\\)|${ID})\\s*(?::[^=\\n]+)?=>`);

export function analyze(corpus, f) {
  f.defs = defs(f);
  f.classes = classes(f);
  f.functions = functions(f);
}

// Column-0 declarations, plus CommonJS `exports.x =` and the name behind
// `export default` / `module.exports =` (as "default").
function defs(f) {
  const out = new Map();
  const decl = /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\s*\*?|class|interface|type|enum|const\s+enum|namespace|const|let|var)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of f.text.matchAll(decl)) {
    if (!f.mask[m.index]) continue;
    // `const X = require(…)` binds an import; it defines nothing
    const rest = f.text.slice(m.index + m[0].length, m.index + m[0].length + 40);
    if (/^\s*=\s*require\s*\(/.test(rest)) continue;
    addDef(out, m[1], f.line(m.index));
    if (/^export\s+default\b/.test(m[0])) addDef(out, 'default', f.line(m.index));
  }
  const cjs = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=(?!=)/gm;
  for (const m of f.text.matchAll(cjs)) if (f.mask[m.index]) addDef(out, m[1], f.line(m.index));
  const dflt = /^(?:export\s+default|module\.exports\s*=)\s*([A-Za-z_$][\w$]*)\s*;?\s*$/gm;
  for (const m of f.text.matchAll(dflt)) {
    if (!f.mask[m.index]) continue;
    const lines = out.get(m[1]);
    if (lines) for (const l of lines) addDef(out, 'default', l);
  }
  return out;
}

// Column-0 classes: {name, line, open, close, bases: [text], members: Map
// method -> lines}.  Methods are the class body's direct members that take
// parameters (methods, accessors, arrow-function fields).
function classes(f) {
  const out = new Map();
  const re = new RegExp(`^(?:export\\s+)?(?:default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?class\\s+(${ID})([^{]{0,300}?)\\{`, 'gm');
  for (const m of f.text.matchAll(re)) {
    if (!f.mask[m.index]) continue;
    const open = m.index + m[0].length - 1;
    const close = f.closeOf(open);
    if (close < 0) continue;
    const ext = m[2].match(new RegExp(`\\bextends\\s+(${ID}(?:\\.${ID})*)`));
    const c = { name: m[1], line: f.line(m.index), open, close, bases: ext ? [ext[1]] : [], members: new Map() };
    for (let l = f.line(open) + 1; l <= f.line(close); l++) {
      const s = f.lineStart(l);
      const text = f.lineText(l);
      const mm = text.match(MEMBER) || text.match(ARROW_FIELD);
      if (!mm || NOT_METHODS.has(mm[1])) continue;
      const at = s + text.indexOf(mm[1], text.search(/\S/));
      if (!f.mask[at] || f.enclosing(at)?.open !== open) continue;
      addDef(c.members, mm[1], l);
    }
    out.set(c.name, c);
    if (/^export\s+default\b/.test(m[0])) out.set('default', c);
  }
  return out;
}

function functions(f) {
  const out = [];
  const re = /^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?\s*([A-Za-z_$][\w$]*)|(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=\n]+)?=\s*(?:async\s+)?(?:function\b|\([^)\n]*\)\s*(?::[^=\n]+)?=>|[A-Za-z_$][\w$]*\s*=>))|^(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?function\b/gm;
  for (const m of f.text.matchAll(re)) if (f.mask[m.index]) out.push({ name: m[1] || m[2] || m[3], line: f.line(m.index) });
  for (const [key, c] of f.classes) {
    if (key !== c.name) continue;
    for (const [name, lines] of c.members) out.push({ name, line: lines[0] });
  }
  return out;
}

export function resolve(corpus, from, spec) {
  if (!spec.startsWith('.')) return null;
  const p = path.normalize(path.join(path.dirname(from), spec));
  const cands = [p];
  const noExt = p.replace(/\.(m|c)?js$/, '');
  for (const e of ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.jsx']) cands.push(noExt + e, p + e);
  for (const e of ['.ts', '.js']) cands.push(p + '/index' + e);
  for (const c of cands) if (corpus.has(c) && languageOf(c)) return c;
  return null;
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

// Bindings that F's imports introduce: {local, kind: 'name'|'module', file
// (G), imported, via, end (offset after the statement)}, and the spans of
// import statements (no use site is inside one).
export function imports(corpus, f) {
  if (f.imports) return f.imports;
  const out = [];
  const spans = [];
  const add = (m, binding) => {
    if (!f.mask[m.index]) return;
    out.push({ ...binding, start: m.index, end: m.index + m[0].length });
  };
  const named = /\bimport\s+(?:type\s+)?(?:([A-Za-z_$][\w$]*)\s*,\s*)?\{([^}]*)\}\s*from\s*(['"])([^'"]+)\3/g;
  for (const m of f.text.matchAll(named)) {
    spans.push([m.index, m.index + m[0].length]);
    const g = resolve(corpus, f.rel, m[4]);
    if (!g) continue;
    if (m[1]) add(m, { local: m[1], kind: 'name', file: g, imported: 'default', via: 'default' });
    for (const s of parseSpecifiers(m[2])) add(m, { local: s.local, kind: 'name', file: g, imported: s.imported, via: 'named' });
  }
  const ns = /\bimport\s+(?:type\s+)?\*\s*as\s+([A-Za-z_$][\w$]*)\s+from\s*(['"])([^'"]+)\2/g;
  for (const m of f.text.matchAll(ns)) {
    spans.push([m.index, m.index + m[0].length]);
    const g = resolve(corpus, f.rel, m[3]);
    if (g) add(m, { local: m[1], kind: 'module', file: g, via: 'namespace' });
  }
  const dflt = /\bimport\s+(?:type\s+)?([A-Za-z_$][\w$]*)\s+from\s*(['"])([^'"]+)\2/g;
  for (const m of f.text.matchAll(dflt)) {
    spans.push([m.index, m.index + m[0].length]);
    const g = resolve(corpus, f.rel, m[3]);
    if (g) add(m, { local: m[1], kind: 'name', file: g, imported: 'default', via: 'default' });
  }
  const req = /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*(['"])([^'"]+)\2\s*\)/g;
  for (const m of f.text.matchAll(req)) {
    spans.push([m.index, m.index + m[0].length]);
    const g = resolve(corpus, f.rel, m[3]);
    if (!g) continue;
    add(m, { local: m[1], kind: 'name', file: g, imported: 'default', via: 'require' });
    add(m, { local: m[1], kind: 'module', file: g, via: 'require' });
  }
  const reqd = /\b(?:const|let|var)\s*\{([^}]*)\}\s*=\s*require\(\s*(['"])([^'"]+)\2\s*\)/g;
  for (const m of f.text.matchAll(reqd)) {
    spans.push([m.index, m.index + m[0].length]);
    const g = resolve(corpus, f.rel, m[3]);
    if (!g) continue;
    for (const part of m[1].split(',')) {
      const s = part.trim().match(/^([A-Za-z_$][\w$]*)(?:\s*:\s*([A-Za-z_$][\w$]*))?$/);
      if (s) add(m, { local: s[2] || s[1], kind: 'name', file: g, imported: s[1], via: 'require' });
    }
  }
  const reexp = /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(['"])[^'"]+\1/g;
  for (const m of f.text.matchAll(reexp)) spans.push([m.index, m.index + m[0].length]);
  f.imports = { bindings: out, spans };
  return f.imports;
}

// Where `name` exported by file g is defined: follows re-exports (`export
// {a as b} from`, `export * from`) up to 4 hops.  {file, lines, hops} or null.
export function definition(corpus, g, name, hops = 0, seen = new Set()) {
  const key = g + '\0' + name;
  if (hops > 4 || seen.has(key)) return null;
  seen.add(key);
  const f = corpus.file(g);
  const lines = f.defs.get(name);
  if (lines) return { file: g, lines: lines.slice(), hops };
  if (name === 'default') return null;
  const re = /\bexport\s+(?:type\s+)?(\*|\{([^}]*)\})\s*from\s*(['"])([^'"]+)\3/g;
  for (const m of f.text.matchAll(re)) {
    if (!f.mask[m.index]) continue;
    const h = resolve(corpus, g, m[4]);
    if (!h || h === g) continue;
    if (m[1] === '*') {
      const d = definition(corpus, h, name, hops + 1, seen);
      if (d) return d;
      continue;
    }
    for (const s of parseSpecifiers(m[2])) {
      if (s.local !== name) continue;
      const d = definition(corpus, h, s.imported, hops + 1, seen);
      if (d) return d;
    }
  }
  return null;
}

// A class from the text that names it in file rel (`Foo`, `ns.Foo`,
// `Foo<T>`): {file, name} or null.
export function resolveType(corpus, rel, text) {
  const m = text.trim().match(new RegExp(`^(${ID})(?:\\.(${ID}))?`));
  if (!m) return null;
  const f = corpus.file(rel);
  const { bindings } = imports(corpus, f);
  const classAt = (d) => {
    if (!d) return null;
    const g = corpus.file(d.file);
    for (const c of g.classes.values()) if (d.lines.includes(c.line)) return { file: d.file, name: c.name };
    return null;
  };
  if (m[2]) {
    const b = bindings.find((x) => x.kind === 'module' && x.local === m[1]);
    return b ? classAt(definition(corpus, b.file, m[2])) : null;
  }
  if (f.classes.has(m[1])) return { file: rel, name: m[1] };
  const b = bindings.find((x) => x.kind === 'name' && x.local === m[1]);
  return b ? classAt(definition(corpus, b.file, b.imported)) : null;
}

export function candidates(corpus, rel, stats, choose) {
  const f = corpus.file(rel);
  const { bindings, spans } = imports(corpus, f);
  const inSpan = (o) => spans.some(([a, b]) => o >= a && o < b);
  const out = [];
  const seen = new Set();
  const push = (c) => {
    if (seen.has(c.offset)) return;
    seen.add(c.offset);
    out.push(c);
  };
  // names F's imports bring in, for the peer of bare cases
  const bareCands = [];
  for (const b of bindings) {
    if (b.kind !== 'name' || b.file === rel) continue;
    const d = definition(corpus, b.file, b.imported);
    if (d) bareCands.push({ name: b.local, file: d.file, line: d.lines[0] });
  }
  for (const b of bindings) {
    if (b.file === rel) continue;
    if (f.defs.has(b.local)) { stats.shadowed++; continue; } // F redefines the name
    if (b.kind === 'name') {
      const d = definition(corpus, b.file, b.imported);
      if (!d) { stats.noDefinition++; continue; }
      if (d.file === rel) continue;
      const uses = identUses(f, b.local, b.end, f.text.length, (o) => {
        if (inSpan(o) || before(f, o) === '.') return false;
        const after = f.text.slice(o + b.local.length, o + b.local.length + 3);
        if (/^\s*:(?!:)/.test(after) && !/\?\s*$/.test(f.text.slice(o - 3, o))) return false; // object key
        return !/\b(?:function|class|let|const|var)\s+$/.test(f.text.slice(Math.max(0, o - 10), o));
      });
      if (!uses.length) { stats.noUse++; continue; }
      const o = choose(uses, `${rel}\0${b.local}`);
      push(makeCase(corpus, f, o, b.local, 'bare', b.via, d, bareCands));
    } else {
      const members = memberUses(f, b.local, b.end, f.text.length, inSpan);
      for (const [name, uses] of members) {
        const d = definition(corpus, b.file, name);
        if (!d) { stats.noDefinition++; continue; }
        if (d.file === rel) continue;
        const o = choose(uses, `${rel}\0${b.local}.${name}`);
        push(makeCase(corpus, f, o, name, 'module', b.via, d, defCands(corpus.file(d.file).defs, d.file)));
      }
    }
  }
  for (const c of objectCases(corpus, f, inSpan, stats, choose)) push(c);
  return out;
}

// `x.member` uses in [from, to): Map member -> offsets of member.
function memberUses(f, x, from, to, skip = () => false) {
  const re = new RegExp(`(?<![\\w$.])${escapeRe(x)}\\s*\\??\\.\\s*(#?${ID})(?![\\w$])`, 'g');
  re.lastIndex = from;
  const members = new Map();
  let m;
  while ((m = re.exec(f.text)) && m.index < to) {
    if (!f.mask[m.index] || skip(m.index)) continue;
    if (!members.has(m[1])) members.set(m[1], []);
    members.get(m[1]).push(m.index + m[0].length - m[1].length);
  }
  return members;
}

function objectCases(corpus, f, inSpan, stats, choose) {
  const out = [];
  const rel = f.rel;
  // this.m inside a class whose base (in another file) has m
  for (const [key, c] of f.classes) {
    if (key !== c.name || !c.bases.length) continue;
    const members = memberUses(f, 'this', c.open, c.close);
    for (const [name, uses] of members) {
      if (c.members.has(name)) continue;
      const d = classMember(corpus, resolveType, rel, c.name, name);
      if (!d) continue;
      if (d.file === rel) continue;
      const o = choose(uses, `${rel}\0this.${name}`);
      out.push(makeCase(corpus, f, o, name, 'object', 'this', d, classMembers(corpus, resolveType, rel, c.name)));
    }
  }
  // x.m after `const x = new Foo(`, `x: Foo` (TypeScript)
  const decls = [
    [new RegExp(`\\b(?:const|let|var)\\s+(${ID})\\s*(?::\\s*[^=;\\n]+?)?=\\s*new\\s+(${ID}(?:\\.${ID})?)`, 'g'), 'new'],
    [new RegExp(`(?:\\b(?:const|let|var)\\s+|[(,]\\s*(?:(?:public|private|protected|readonly)\\s+)*)(${ID})\\s*\\??\\s*:\\s*(${ID}(?:\\.${ID})?)\\s*(?=[,)=;])`, 'g'), 'annotation'],
  ];
  for (const [re, via] of decls) {
    if (via === 'annotation' && f.lang !== 'typescript') continue;
    for (const m of f.text.matchAll(re)) {
      const at = m.index + m[0].indexOf(m[1]);
      if (!f.mask[at] || inSpan(at)) continue;
      const t = resolveType(corpus, rel, m[2]);
      if (!t) continue;
      const from = m.index + m[0].length;
      let to;
      if (via === 'annotation' && /^[(,]/.test(m[0])) {
        const body = f.nextCode(from, '{');
        to = body < 0 ? f.text.length : f.closeOf(body);
      } else {
        to = f.enclosing(at)?.close ?? f.text.length;
      }
      const re2 = new RegExp(`(?<![\\w$.])${escapeRe(m[1])}\\s*=(?![=>])`, 'g');
      re2.lastIndex = from;
      const again = re2.exec(f.text);
      if (again && again.index < to) to = again.index;
      for (const [name, uses] of memberUses(f, m[1], from, to)) {
        const d = classMember(corpus, resolveType, t.file, t.name, name);
        if (!d || d.file === rel) continue;
        const o = choose(uses, `${rel}\0${m[1]}@${at}.${name}`);
        out.push(makeCase(corpus, f, o, name, 'object', via, d, classMembers(corpus, resolveType, t.file, t.name)));
      }
    }
  }
  return out;
}

// JSDoc comments right above a function, a method or a function-valued const.
export function chats(corpus, rel) {
  const f = corpus.file(rel);
  const out = [];
  const byLine = new Map(f.functions.map((fn) => [fn.line, fn.name]));
  for (const m of f.text.matchAll(/\/\*\*(?!\/)[\s\S]*?\*\//g)) {
    if (f.mask[m.index]) continue;
    const lineStart = f.text.lastIndexOf('\n', m.index) + 1;
    if (f.text.slice(lineStart, m.index).trim()) continue;
    let l = f.line(m.index + m[0].length) + 1;
    while (/^\s*@\w/.test(f.lineText(l))) l++; // decorators
    if (f.text.slice(m.index + m[0].length, f.lineStart(f.line(m.index + m[0].length) + 1)).trim()) continue;
    const name = byLine.get(l);
    if (!name || /^test|^#/i.test(name)) continue;
    const doc = m[0].slice(3, -2).replace(/^\s*\*+ ?/gm, '');
    const q = summarize(doc);
    if (!q) continue;
    if (!enoughBody(f, l)) continue;
    out.push(chatCase(corpus, f, name, l, q, [[m.index, m.index + m[0].length]]));
  }
  return out;
}

// A function of at least 3 lines (CodeSearchNet drops shorter ones).
function enoughBody(f, line) {
  const o = f.nextCode(f.lineStart(line), '{');
  if (o < 0) return false;
  const close = f.closeOf(o);
  return close > 0 && f.line(close) - line >= 3;
}

export function chatCase(corpus, f, name, line, query, hide) {
  const c = makeCase(corpus, f, f.lineStart(line), name, 'chat', 'doc comment', { file: f.rel, lines: [line] });
  c.query = query;
  c.hide = hide;
  return c;
}
