// Java: a top-level type's fully qualified name (package + name) is its
// address; a simple name in a file resolves through its single-type
// imports, its own types, its package, then its on-demand imports.  Members
// are the direct members of a top-level type's body; bases are `extends`
// and `implements`; Javadoc comments.
import {
  before, summarize, classMember, classMembers,
} from './common.mjs';
import { makeCase } from './cases.mjs';
import { chatCase } from './lang-js.mjs';

const MODS = '(?:(?:public|protected|private|static|final|abstract|synchronized|native|default|strictfp|transient|volatile|sealed|non-sealed)\\s+|@[\\w.]+(?:\\([^)\\n]*\\))?\\s+)*';
const METHOD = new RegExp(`^[ \\t]*${MODS}(?:<[^>\\n]+>\\s+)?([\\w.$]+(?:<[^()\\n]*?>)?(?:\\[\\])*)\\s+([A-Za-z_$][\\w$]*)\\s*\\(`);
const FIELD = new RegExp(`^[ \\t]*${MODS}([\\w.$]+(?:<[^()\\n]*?>)?(?:\\[\\])*)\\s+([A-Za-z_$][\\w$]*)\\s*(?:=|;|,)`);
const NOT_TYPES = new Set(['return', 'new', 'else', 'throw', 'case', 'package', 'import', 'goto', 'assert']);
const KEYWORDS = new Set(('if for while switch catch synchronized return new throw else do try finally case ' +
  'super this assert instanceof').split(' '));

export function analyze(corpus, f) {
  const t = f.text;
  f.pkg = (t.match(/^\s*package\s+([\w.]+)\s*;/m) || [])[1] || '';
  f.single = new Map(); // simple name -> fqn
  f.onDemand = [];
  f.spans = [];
  for (const m of t.matchAll(/^\s*(?:package|import)\s+(static\s+)?([\w.]+)(\.\*)?\s*;/gm)) {
    if (!f.mask[m.index + m[0].search(/\S/)]) continue;
    f.spans.push([m.index, m.index + m[0].length]);
    if (!/^\s*import/.test(m[0]) || m[1]) continue;
    if (m[3]) f.onDemand.push(m[2]);
    else f.single.set(m[2].slice(m[2].lastIndexOf('.') + 1), m[2]);
  }
  f.classes = new Map();
  f.functions = [];
  for (const m of t.matchAll(new RegExp(`^${MODS}(?:@interface|class|interface|enum|record)\\s+([A-Za-z_$][\\w$]*)([^{]{0,400}?)\\{`, 'gm'))) {
    const kw = m.index + m[0].search(/\b(?:@interface|class|interface|enum|record)\b/);
    if (!f.mask[kw] || f.depthAt(kw) !== 0) continue;
    const open = m.index + m[0].length - 1;
    const close = f.closeOf(open);
    const bases = [];
    const head = m[2].replace(/<[^<>]*(?:<[^<>]*>[^<>]*)*>/g, '');
    const ext = head.match(/\bextends\s+([\w.\s,]+?)(?=\bimplements\b|$)/);
    const imp = head.match(/\bimplements\s+([\w.\s,]+)$/);
    for (const list of [ext?.[1], imp?.[1]]) if (list) for (const b of list.split(',')) if (b.trim()) bases.push(b.trim());
    const c = { name: m[1], line: f.line(m.index + m[0].search(/\S/)), open, close, bases, members: new Map(), methods: new Set() };
    for (let l = f.line(open) + 1; l <= f.line(close); l++) {
      const text = f.lineText(l);
      const mm = text.match(METHOD);
      const fm = mm ? null : text.match(FIELD);
      const hit = mm || fm;
      if (!hit || NOT_TYPES.has(hit[1]) || KEYWORDS.has(hit[2])) continue;
      const at = f.lineStart(l) + text.search(/\S/);
      if (!f.mask[at] || f.enclosing(at)?.open !== open) continue;
      if (!c.members.has(hit[2])) c.members.set(hit[2], []);
      c.members.get(hit[2]).push(l);
      if (mm) {
        c.methods.add(hit[2]);
        f.functions.push({ name: hit[2], line: l });
      }
    }
    f.classes.set(c.name, c);
  }
}

// fqn -> file, over the corpus.
function index(corpus) {
  return corpus.once('java', () => {
    const byFqn = new Map();
    for (const rel of [...corpus.texts.keys()].sort()) {
      if (!rel.endsWith('.java')) continue;
      const f = corpus.file(rel);
      for (const name of f.classes.keys()) {
        const fqn = f.pkg ? `${f.pkg}.${name}` : name;
        if (!byFqn.has(fqn)) byFqn.set(fqn, rel);
      }
    }
    return byFqn;
  });
}

// A type named in file rel: {file, name, how} or null.
export function resolveType(corpus, rel, text) {
  const name = text.trim().replace(/<.*$/, '').replace(/\[\]$/, '');
  const byFqn = index(corpus);
  const f = corpus.file(rel);
  const at = (fqn, how) => (byFqn.has(fqn) ? { file: byFqn.get(fqn), name: fqn.slice(fqn.lastIndexOf('.') + 1), how } : null);
  if (name.includes('.')) return at(name, 'qualified');
  if (f.single.has(name)) return at(f.single.get(name), 'import');
  if (f.classes.has(name)) return { file: rel, name, how: 'own' };
  const same = at(f.pkg ? `${f.pkg}.${name}` : name, 'package');
  if (same) return same;
  for (const p of f.onDemand) {
    const r = at(`${p}.${name}`, 'import');
    if (r) return r;
  }
  return null;
}

const classDef = (corpus, t) => {
  const c = corpus.file(t.file).classes.get(t.name);
  return c ? { file: t.file, lines: [c.line] } : null;
};

export function candidates(corpus, rel, stats, choose) {
  const f = corpus.file(rel);
  const inSpan = (o) => f.spans.some(([a, b]) => o >= a && o < b);
  const out = [];
  const seen = new Set();
  const push = (c) => {
    if (!seen.has(c.offset)) {
      seen.add(c.offset);
      out.push(c);
    }
  };
  const bodyStart = f.spans.length ? f.spans[f.spans.length - 1][1] : 0;
  // bare: a type of another file, imported or of the same package
  const types = new Map(); // name -> {t, uses}
  const members = new Map(); // `T.m` -> {t, name, uses}
  for (const m of f.text.matchAll(/(?<![\w$.])([A-Z][\w$]*)(?![\w$])/g)) {
    const o = m.index;
    if (o < bodyStart || !f.mask[o] || inSpan(o)) continue;
    const t = resolveType(corpus, rel, m[1]);
    if (!t || t.file === rel) continue;
    if (!types.has(m[1])) types.set(m[1], { t, uses: [] });
    types.get(m[1]).uses.push(o);
    const mm = f.text.slice(o + m[1].length, o + m[1].length + 80).match(/^\s*\.\s*([A-Za-z_$][\w$]*)/);
    if (mm && mm[1] !== 'class' && mm[1] !== 'this') {
      const key = `${m[1]}.${mm[1]}`;
      if (!members.has(key)) members.set(key, { t, name: mm[1], uses: [] });
      members.get(key).uses.push(o + m[1].length + mm[0].length - mm[1].length);
    }
  }
  const bareCands = [];
  for (const { t } of types.values()) {
    const d = classDef(corpus, t);
    if (d) bareCands.push({ name: t.name, file: d.file, line: d.lines[0] });
  }
  for (const [name, { t, uses }] of types) {
    const d = classDef(corpus, t);
    if (!d) { stats.noDefinition++; continue; }
    push(makeCase(corpus, f, choose(uses, `${rel}\0${name}`), name, 'bare', t.how, d, bareCands));
  }
  // module: T.member (static members; Java's classes are its namespaces)
  for (const [key, { t, name, uses }] of members) {
    const d = classMember(corpus, resolveType, t.file, t.name, name);
    if (!d) { stats.noDefinition++; continue; }
    if (d.file === rel) continue;
    push(makeCase(corpus, f, choose(uses, `${rel}\0${key}`), name, 'module', 'static member', d,
      classMembers(corpus, resolveType, t.file, t.name)));
  }
  for (const c of objectCases(corpus, f, inSpan, choose)) push(c);
  return out;
}

function objectCases(corpus, f, inSpan, choose) {
  const out = [];
  const rel = f.rel;
  const lookup = (file, cls, name) => {
    const d = classMember(corpus, resolveType, file, cls, name);
    if (!d || d.file === rel) return null;
    // only methods: which class of d.file holds the line
    for (const c of corpus.file(d.file).classes.values()) {
      if (c.members.get(name) === undefined) continue;
      if (c.methods.has(name) && d.lines.every((l) => c.members.get(name).includes(l))) return d;
    }
    return null;
  };
  // this.m( and m( inside a class whose bases (other files) define m
  for (const c of f.classes.values()) {
    if (!c.bases.length) continue;
    const uses = new Map();
    const re = /(?<![\w$])(this\s*\.\s*)?([a-z_$][\w$]*)\s*\(/g;
    re.lastIndex = c.open;
    for (let m; (m = re.exec(f.text)) && m.index < c.close;) {
      const name = m[2];
      const o = m.index + m[0].indexOf(name, m[1] ? m[1].length : 0);
      if (!f.mask[m.index] || KEYWORDS.has(name) || c.members.has(name)) continue;
      if (!m[1]) {
        const b = before(f, o);
        if (b === '.' || /[\w$>\]]/.test(b)) { // a member of something else, or a declaration
          const w = f.text.slice(Math.max(0, o - 8), o).match(/(\w+)\s*$/);
          if (!w || !/^(return|throw|else|case)$/.test(w[1])) continue;
        }
        if (/\bnew\s+$/.test(f.text.slice(Math.max(0, o - 5), o))) continue;
      }
      const via = m[1] ? 'this' : 'implicit this';
      const k = `${via}\0${name}`;
      if (!uses.has(k)) uses.set(k, { name, via, offs: [] });
      uses.get(k).offs.push(o);
    }
    for (const { name, via, offs } of uses.values()) {
      const d = lookup(rel, c.name, name);
      if (!d) continue;
      out.push(makeCase(corpus, f, choose(offs, `${rel}\0${via}.${name}`), name, 'object', via, d,
        classMembers(corpus, resolveType, rel, c.name)));
    }
  }
  // x.m( after a declaration `T x` (local, field or parameter)
  for (const m of f.text.matchAll(/(?<![\w$.])([A-Z][\w$]*)(?:<[^;{}()=]*?>)?\s+([a-z_$][\w$]*)\s*(?=[=;,):])/g)) {
    if (!f.mask[m.index] || inSpan(m.index)) continue;
    const t = resolveType(corpus, rel, m[1]);
    if (!t) continue;
    const x = m[2];
    const from = m.index + m[0].length;
    const to = f.enclosing(m.index)?.close ?? f.text.length;
    const re = new RegExp(`(?<![\\w$.])${x.replace(/\$/g, '\\$')}\\s*\\.\\s*([A-Za-z_$][\\w$]*)\\s*\\(`, 'g');
    re.lastIndex = from;
    const calls = new Map();
    for (let mm; (mm = re.exec(f.text)) && mm.index < to;) {
      if (!f.mask[mm.index]) continue;
      if (!calls.has(mm[1])) calls.set(mm[1], []);
      calls.get(mm[1]).push(mm.index + mm[0].indexOf(mm[1], x.length));
    }
    for (const [name, offs] of calls) {
      const d = lookup(t.file, t.name, name);
      if (!d) continue;
      out.push(makeCase(corpus, f, choose(offs, `${rel}\0${x}@${m.index}.${name}`), name, 'object', 'typed', d,
        classMembers(corpus, resolveType, t.file, t.name)));
    }
  }
  return out;
}

// Javadoc comments right above a method.
export function chats(corpus, rel) {
  const f = corpus.file(rel);
  const out = [];
  const byLine = new Map(f.functions.map((fn) => [fn.line, fn.name]));
  for (const m of f.text.matchAll(/\/\*\*(?!\/)[\s\S]*?\*\//g)) {
    if (f.mask[m.index]) continue;
    const lineStart = f.text.lastIndexOf('\n', m.index) + 1;
    if (f.text.slice(lineStart, m.index).trim()) continue;
    const endLine = f.line(m.index + m[0].length);
    if (f.text.slice(m.index + m[0].length, f.lineStart(endLine + 1)).trim()) continue;
    let l = endLine + 1;
    while (/^\s*@\w+(?:\([^)]*\))?\s*$/.test(f.lineText(l))) l++; // annotations on their own lines
    const name = byLine.get(l);
    if (!name || /^test/.test(name)) continue;
    const doc = m[0].slice(3, -2).replace(/^\s*\*+ ?/gm, '');
    const q = summarize(doc);
    if (!q) continue;
    const open = f.nextCode(f.lineStart(l), '{');
    if (open < 0 || f.text.slice(f.lineStart(l), open).includes(';')) continue; // abstract
    if (f.line(f.closeOf(open)) - l < 3) continue;
    out.push(chatCase(corpus, f, name, l, q, [[m.index, m.index + m[0].length]]));
  }
  return out;
}
