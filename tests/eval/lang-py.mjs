// Python: `from … import` and `import …` resolved to modules of the corpus
// (relative or absolute, through `__init__.py` re-exports), column-0
// definitions, classes with their methods and bases, docstrings.
import { posix as path } from 'node:path';
import { escapeRe, addDef, identUses, before, summarize, classMember, classMembers, defCands } from './common.mjs';
import { makeCase } from './cases.mjs';

export function analyze(corpus, f) {
  f.defs = new Map();
  const decl = /^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=(?!=)/gm;
  for (const m of f.text.matchAll(decl)) {
    if (!f.mask[m.index]) continue;
    addDef(f.defs, m[1] || m[2], f.line(m.index));
  }
  f.classes = classes(f);
  f.functions = [];
  for (const m of f.text.matchAll(/^[ \t]*(?:async\s+)?def\s+([A-Za-z_]\w*)/gm)) {
    if (f.mask[m.index + m[0].indexOf('def')]) f.functions.push({ name: m[1], line: f.line(m.index) });
  }
}

const indentOf = (s) => s.match(/^[ \t]*/)[0].replace(/\t/g, '        ').length;

// The line after the block that starts at line `line`: the first later line
// of code indented no deeper than `indent`.
function blockEnd(f, line, indent) {
  const n = f.starts.length;
  for (let l = line + 1; l <= n; l++) {
    const t = f.lineText(l);
    if (!t.trim()) continue;
    const first = f.lineStart(l) + t.search(/\S/);
    if (!f.mask[first]) continue; // inside a string
    if (indentOf(t) <= indent) return l;
  }
  return n + 1;
}

function classes(f) {
  const out = new Map();
  for (const m of f.text.matchAll(/^class\s+([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*:/gm)) {
    if (!f.mask[m.index]) continue;
    const line = f.line(m.index);
    const end = blockEnd(f, line, 0);
    const bases = (m[2] || '').split(',').map((s) => s.trim()).filter((s) => s && !s.includes('=') && /^[\w.]+$/.test(s));
    const c = { name: m[1], line, start: m.index, end: f.lineStart(end), endLine: end, bases, members: new Map() };
    let bodyIndent = null;
    for (let l = line + 1; l < end; l++) {
      const t = f.lineText(l);
      const mm = t.match(/^([ \t]+)(?:async\s+)?def\s+([A-Za-z_]\w*)/);
      if (!mm || !f.mask[f.lineStart(l) + mm[1].length]) continue;
      const ind = indentOf(mm[1]);
      if (bodyIndent === null) bodyIndent = ind;
      if (ind === bodyIndent) addDef(c.members, mm[2], l);
    }
    out.set(c.name, c);
  }
  return out;
}

// `from <dotted> import …` relative to `from`; returns a module's file.
export function resolveModule(corpus, from, dotted) {
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
    if (corpus.has(n)) return n;
  }
  return null;
}

// Import statements, one logical line each (parentheses and backslash
// continuations joined).
function statements(f) {
  if (f.stmts) return f.stmts;
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
  f.stmts = out;
  return out;
}

// Bindings F's imports introduce: {local, kind: 'name'|'module', file,
// imported, via, end}; a plain `import a.b` binds the dotted name `a.b`.
export function imports(corpus, f) {
  if (f.imports) return f.imports;
  const out = [];
  const spans = [];
  for (const st of statements(f)) {
    spans.push([st.start, st.end]);
    const names = st.body.split(',').map((s) => s.trim()).filter(Boolean);
    if (st.from) {
      for (const n of names) {
        const m = n.match(/^(\w+)(?:\s+as\s+(\w+))?$/);
        if (!m) continue;
        const local = m[2] || m[1];
        const sep = st.from.endsWith('.') ? '' : '.';
        const sub = resolveModule(corpus, f.rel, st.from + sep + m[1]);
        if (sub) {
          out.push({ local, kind: 'module', file: sub, via: 'from-import', start: st.start, end: st.end });
          continue;
        }
        const g = resolveModule(corpus, f.rel, st.from);
        if (g) out.push({ local, kind: 'name', file: g, imported: m[1], via: 'from-import', start: st.start, end: st.end });
      }
    } else {
      for (const n of names) {
        const m = n.match(/^([\w.]+)(?:\s+as\s+(\w+))?$/);
        if (!m) continue;
        const g = resolveModule(corpus, f.rel, m[1]);
        if (g) out.push({ local: m[2] || m[1], kind: 'module', file: g, via: m[2] ? 'import-as' : 'import', start: st.start, end: st.end });
      }
    }
  }
  f.imports = { bindings: out, spans };
  return f.imports;
}

// Where `name` of module g is defined: follows `from .x import a` and `from
// .x import *` up to 4 hops.  {file, lines, hops} or null.
export function definition(corpus, g, name, hops = 0, seen = new Set()) {
  const key = g + '\0' + name;
  if (hops > 4 || seen.has(key)) return null;
  seen.add(key);
  const f = corpus.file(g);
  const lines = f.defs.get(name);
  if (lines) return { file: g, lines: lines.slice(), hops };
  for (const st of statements(f)) {
    if (!st.from) continue;
    for (const n of st.body.split(',').map((s) => s.trim())) {
      const m = n.match(/^(\w+|\*)(?:\s+as\s+(\w+))?$/);
      if (!m) continue;
      if (m[1] === '*' || (m[2] || m[1]) === name) {
        const sep = st.from.endsWith('.') ? '' : '.';
        if (m[1] !== '*' && resolveModule(corpus, g, st.from + sep + m[1])) continue; // a module
        const h = resolveModule(corpus, g, st.from);
        if (!h || h === g) continue;
        const d = definition(corpus, h, m[1] === '*' ? name : m[1], hops + 1, seen);
        if (d) return d;
      }
    }
  }
  return null;
}

// A class from the text naming it in file rel (`Foo`, `mod.Foo`): {file, name}.
export function resolveType(corpus, rel, text) {
  const f = corpus.file(rel);
  const { bindings } = imports(corpus, f);
  const classAt = (d) => {
    if (!d) return null;
    const g = corpus.file(d.file);
    for (const c of g.classes.values()) if (d.lines.includes(c.line)) return { file: d.file, name: c.name };
    return null;
  };
  const dot = text.lastIndexOf('.');
  if (dot > 0) {
    const b = bindings.find((x) => x.kind === 'module' && x.local === text.slice(0, dot));
    return b ? classAt(definition(corpus, b.file, text.slice(dot + 1))) : null;
  }
  if (f.classes.has(text)) return { file: rel, name: text };
  const b = bindings.find((x) => x.kind === 'name' && x.local === text);
  return b ? classAt(definition(corpus, b.file, b.imported)) : null;
}

// `x.member` uses in [from, to): Map member -> offsets of member.
function memberUses(f, x, from, to, skip = () => false) {
  const re = new RegExp(`(?<![\\w.])${escapeRe(x)}\\s*\\.\\s*([A-Za-z_]\\w*)(?!\\w)`, 'g');
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
  const bareCands = [];
  for (const b of bindings) {
    if (b.kind !== 'name') continue;
    const d = definition(corpus, b.file, b.imported);
    if (d) bareCands.push({ name: b.local, file: d.file, line: d.lines[0] });
  }
  for (const b of bindings) {
    if (b.file === rel) continue;
    if (f.defs.has(b.local)) { stats.shadowed++; continue; }
    if (b.kind === 'name') {
      const d = definition(corpus, b.file, b.imported);
      if (!d) { stats.noDefinition++; continue; }
      if (d.file === rel) continue;
      const uses = identUses(f, b.local, b.end, f.text.length, (o) => {
        if (inSpan(o) || before(f, o) === '.') return false;
        if (/^\s*=(?!=)/.test(f.text.slice(o + b.local.length, o + b.local.length + 3))) return false; // keyword argument or re-binding
        return !/\b(?:def|class)\s+$/.test(f.text.slice(Math.max(0, o - 10), o));
      });
      if (!uses.length) { stats.noUse++; continue; }
      push(makeCase(corpus, f, choose(uses, `${rel}\0${b.local}`), b.local, 'bare', b.via, d, bareCands));
    } else {
      for (const [name, uses] of memberUses(f, b.local, b.end, f.text.length, inSpan)) {
        const d = definition(corpus, b.file, name);
        if (!d) { stats.noDefinition++; continue; }
        if (d.file === rel) continue;
        const o = choose(uses, `${rel}\0${b.local}.${name}`);
        push(makeCase(corpus, f, o, name, 'module', b.via, d, defCands(corpus.file(d.file).defs, d.file)));
      }
    }
  }
  for (const c of objectCases(corpus, f, inSpan, choose)) push(c);
  return out;
}

function objectCases(corpus, f, inSpan, choose) {
  const out = [];
  const rel = f.rel;
  // self.m inside a class whose base (in another file) defines m
  for (const c of f.classes.values()) {
    if (!c.bases.length) continue;
    for (const [name, uses] of memberUses(f, 'self', c.start, c.end)) {
      if (c.members.has(name)) continue;
      const d = classMember(corpus, resolveType, rel, c.name, name);
      if (!d || d.file === rel) continue;
      out.push(makeCase(corpus, f, choose(uses, `${rel}\0self.${name}`), name, 'object', 'self', d,
        classMembers(corpus, resolveType, rel, c.name)));
    }
  }
  // x.m after `x = Foo(…)` or `x: Foo`, until the block ends or x is bound again
  const decls = [
    [/^([ \t]*)([A-Za-z_]\w*)\s*(?::\s*[\w.]+\s*)?=\s*([A-Za-z_][\w.]*)\s*\(/gm, 'call'],
    [/[(,]\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z_][\w.]*)\s*(?=[,)=])/g, 'annotation'],
    [/^([ \t]*)([A-Za-z_]\w*)\s*:\s*([A-Za-z_][\w.]*)\s*(?==|$)/gm, 'annotation'],
  ];
  for (const [re, via] of decls) {
    for (const m of f.text.matchAll(re)) {
      const [x, type] = m.length === 4 ? [m[2], m[3]] : [m[1], m[2]];
      const at = m.index + m[0].indexOf(x, m.length === 4 ? m[1].length : 0);
      if (!f.mask[at] || inSpan(at) || x === 'self') continue;
      const t = resolveType(corpus, rel, type);
      if (!t) continue;
      const line = f.line(at);
      // a parameter's scope is its function's body; a variable's, its block
      const isParam = m.length === 3 && via === 'annotation' && m[0][0] !== ' ' && m[0][0] !== '\t';
      const defLine = isParam ? defLineOf(f, line) : line;
      if (!defLine) continue;
      const ind = indentOf(f.lineText(defLine));
      const end = blockEnd(f, defLine, isParam ? ind : ind - 1);
      const from = m.index + m[0].length;
      let to = f.lineStart(end);
      const again = new RegExp(`^[ \\t]*${escapeRe(x)}\\s*(?::[^=\\n]+)?=(?!=)`, 'gm');
      again.lastIndex = f.lineStart(line + 1);
      const a = again.exec(f.text);
      if (a && a.index < to) to = a.index;
      for (const [name, uses] of memberUses(f, x, from, to)) {
        const d = classMember(corpus, resolveType, t.file, t.name, name);
        if (!d || d.file === rel) continue;
        out.push(makeCase(corpus, f, choose(uses, `${rel}\0${x}@${at}.${name}`), name, 'object', via, d,
          classMembers(corpus, resolveType, t.file, t.name)));
      }
    }
  }
  return out;
}

// The `def` line whose signature holds line `line` (null if none within 10 lines).
function defLineOf(f, line) {
  for (let l = line; l > 0 && l > line - 10; l--) if (/^\s*(?:async\s+)?def\s/.test(f.lineText(l))) return l;
  return null;
}

// Functions and methods whose first statement is a docstring.
export function chats(corpus, rel) {
  const f = corpus.file(rel);
  const out = [];
  for (const fn of f.functions) {
    if (/^test|^__\w+__$/.test(fn.name)) continue;
    const s = f.lineStart(fn.line);
    // the end of the signature: a `:` at bracket depth 0 in code
    let depth = 0;
    let i = s;
    for (; i < f.text.length; i++) {
      if (!f.mask[i]) continue;
      const c = f.text[i];
      if (c === '(' || c === '[') depth++;
      else if (c === ')' || c === ']') depth--;
      else if (c === ':' && depth === 0) break;
    }
    let j = i + 1;
    while (j < f.text.length && /\s/.test(f.text[j])) j++;
    const q = f.text.slice(j).match(/^[rRuU]?("""|''')/);
    if (!q) continue;
    const open = j + q[0].length;
    const close = f.text.indexOf(q[1], open);
    if (close < 0) continue;
    const sentence = summarize(f.text.slice(open, close).replace(/^[ \t]+/gm, ''));
    if (!sentence) continue;
    const indent = indentOf(f.lineText(fn.line));
    const end = blockEnd(f, fn.line, indent);
    if (end - f.line(close) <= 3) continue; // fewer than 3 lines of body
    const c = makeCase(corpus, f, s, fn.name, 'chat', 'docstring', { file: rel, lines: [fn.line] });
    c.query = sentence;
    c.hide = [[open, close]];
    out.push(c);
  }
  return out;
}
