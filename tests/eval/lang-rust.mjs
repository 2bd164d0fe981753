// Rust: a crate per Cargo.toml; a file's module path from where it sits
// under src/ (`a/b.rs` and `a/b/mod.rs` are `crate::a::b`); `use` trees
// resolved through `crate::`, `self::`, `super::`, the crate's own name and
// child modules, following `pub use` re-exports.  Items are the module-level
// definitions (inside macro blocks such as `cfg_x! { … }` too); methods are
// the `fn`s of `impl T` blocks, gathered over the whole crate.
import { posix as path } from 'node:path';
import { before, summarize } from './common.mjs';
import { makeCase } from './cases.mjs';

const ITEM = /^[ \t]*(?:pub(?:\s*\([^)]*\))?\s+)?(?:(?:const|async|unsafe|extern(?:\s+"[^"]*")?|default)\s+)*(fn|struct|enum|trait|type|const|static|union|mod)\s+([A-Za-z_]\w*)/gm;
const stripAttrs = (s) => s.replace(/#!?\[[^\]]*\]/g, ' ');

function classify(header, parentKind) {
  const h = stripAttrs(header).trim();
  if (/^(?:pub(?:\s*\([^)]*\))?\s+)?(?:unsafe\s+)?impl\b/.test(h)) return 'impl';
  if (/\btrait\s+\w+/.test(h) && !/\bfn\b/.test(h)) return 'trait';
  if (/\bfn\s+\w+/.test(h)) return 'fn';
  if (/^(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+\w+$/.test(h)) return 'mod';
  if (/!$/.test(h) || /!\s*\(.*\)$/.test(h)) return 'macro';
  if (parentKind === 'macro' && /^(?:if|else(?:\s+if)?)?$/.test(h)) return 'macro'; // cfg_if! branches
  return 'other';
}

// The type an `impl … {` header is for: `impl<T> Foo<T>`, `impl Tr for &Foo`.
function implType(header) {
  let h = stripAttrs(header).replace(/\bwhere\b[\s\S]*$/, '').trim();
  h = h.replace(/^(?:pub(?:\s*\([^)]*\))?\s+)?(?:unsafe\s+)?impl\s*/, '');
  if (h.startsWith('<')) {
    let depth = 0;
    let i = 0;
    for (; i < h.length; i++) {
      if (h[i] === '<') depth++;
      else if (h[i] === '>' && h[i - 1] !== '-' && --depth === 0) break;
    }
    h = h.slice(i + 1);
  }
  // `for` outside angle brackets
  let depth = 0;
  let cut = -1;
  for (let i = 0; i < h.length; i++) {
    if (h[i] === '<') depth++;
    else if (h[i] === '>' && h[i - 1] !== '-') depth--;
    else if (depth === 0 && /\bfor\s/.test(h.slice(i, i + 4)) && (i === 0 || /\s/.test(h[i - 1]))) cut = i + 3;
  }
  if (cut >= 0) h = h.slice(cut);
  const m = h.match(/^\s*(?:&\s*(?:'\w+\s+)?(?:mut\s+)?|dyn\s+)*(?:\w+::)*([A-Za-z_]\w*)/);
  return m ? m[1] : null;
}

export function analyze(corpus, f) {
  const t = f.text;
  const { opens, parents } = f.blocks;
  const kinds = [];
  for (let i = 0; i < opens.length; i++) {
    let j = opens[i] - 1;
    while (j >= 0 && !(f.mask[j] && ';{}'.includes(t[j]))) j--;
    let header = '';
    for (let k = j + 1; k < opens[i]; k++) header += f.mask[k] ? t[k] : ' ';
    kinds.push(classify(header, parents[i] >= 0 ? kinds[parents[i]] : null));
    if (kinds[i] === 'impl') (f.implHeaders ||= new Map()).set(i, header);
  }
  f.kinds = kinds;
  // the innermost block around o that is not a macro block (-1: module level)
  const owner = (o) => {
    for (const b of f.chain(o)) if (kinds[b.index] !== 'macro') return b;
    return null;
  };
  f.items = new Map();
  f.types = new Set();
  f.mods = [];
  f.implMethods = [];
  f.functions = [];
  for (const m of t.matchAll(ITEM)) {
    const at = m.index + m[0].indexOf(m[1], m[0].search(/\S/));
    if (!f.mask[at]) continue;
    const line = f.line(at);
    const o = owner(at);
    if (m[1] === 'fn') f.functions.push({ name: m[2], line });
    if (!o) {
      if (m[1] === 'mod') {
        if (/^\s*;/.test(t.slice(m.index + m[0].length, m.index + m[0].length + 5))) f.mods.push(m[2]);
        continue;
      }
      if (!f.items.has(m[2])) f.items.set(m[2], []);
      f.items.get(m[2]).push(line);
      if (/^(struct|enum|trait|type|union)$/.test(m[1])) f.types.add(m[2]);
    } else if (m[1] === 'fn' && kinds[o.index] === 'impl') {
      const type = implType(f.implHeaders.get(o.index));
      if (type) f.implMethods.push({ type, name: m[2], line });
    }
  }
  f.impls = [];
  for (const [i, header] of f.implHeaders || []) {
    const type = implType(header);
    if (type) f.impls.push({ type, open: opens[i], close: f.blocks.closes[i] });
  }
  // use declarations
  f.uses = [];
  f.spans = [];
  for (const m of t.matchAll(/\buse\s+([^;]+);/g)) {
    if (!f.mask[m.index] || before(f, m.index) === ':' || /[\w]/.test(t[m.index - 1] || '')) continue;
    f.spans.push([m.index, m.index + m[0].length]);
    for (const u of parseUse(m[1])) f.uses.push({ ...u, start: m.index, end: m.index + m[0].length });
  }
}

// A use tree -> [{segs, local, glob}]: `a::{b, c::D as E, self}`.
export function parseUse(text) {
  const toks = text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ' ').match(/::|[{},*]|[A-Za-z_][\w]*/g) || [];
  let i = 0;
  const out = [];
  if (toks[0] === '::') i++;
  const tree = (prefix) => {
    const segs = [];
    for (;;) {
      const tok = toks[i];
      if (tok === '{') {
        i++;
        while (i < toks.length && toks[i] !== '}') {
          tree([...prefix, ...segs]);
          if (toks[i] === ',') i++;
        }
        i++;
        return;
      }
      if (tok === '*') {
        i++;
        out.push({ segs: [...prefix, ...segs], local: null, glob: true });
        return;
      }
      if (!tok || tok === ',' || tok === '}') break;
      segs.push(tok);
      i++;
      if (toks[i] === '::') { i++; continue; }
      break;
    }
    if (!segs.length) return;
    let local = segs[segs.length - 1];
    if (toks[i] === 'as') {
      local = toks[i + 1];
      i += 2;
    }
    let full = [...prefix, ...segs];
    if (full[full.length - 1] === 'self') {
      full = full.slice(0, -1);
      if (local === 'self') local = full[full.length - 1];
    }
    if (local && local !== '_' && full.length) out.push({ segs: full, local, glob: false });
  };
  while (i < toks.length) {
    const before = i;
    tree([]);
    if (toks[i] === ',') i++;
    if (i === before) i++;
  }
  return out;
}

function cargoName(text) {
  const lib = text.match(/^\[lib\][^[]*?^name\s*=\s*"([^"]+)"/m);
  const pkg = text.match(/^\[package\][^[]*?^name\s*=\s*"([^"]+)"/m);
  const n = (lib || pkg || [])[1];
  return n ? n.replace(/-/g, '_') : null;
}

// Crates (from the Cargo.toml files) and the methods of every type.
function index(corpus) {
  return corpus.once('rust', () => {
    const crates = [];
    for (const [rel, text] of corpus.manifests) {
      if (path.basename(rel) !== 'Cargo.toml') continue;
      const name = cargoName(text);
      if (name) crates.push({ dir: path.dirname(rel) === '.' ? '' : path.dirname(rel), name });
    }
    crates.sort((a, b) => b.dir.length - a.dir.length);
    const methods = new Map();
    for (const rel of [...corpus.texts.keys()].sort()) {
      if (!rel.endsWith('.rs')) continue;
      for (const m of corpus.file(rel).implMethods) {
        if (!methods.has(m.type)) methods.set(m.type, new Map());
        const ms = methods.get(m.type);
        if (!ms.has(m.name)) ms.set(m.name, []);
        ms.get(m.name).push({ file: rel, line: m.line });
      }
    }
    return { crates, methods };
  });
}

function crateOf(corpus, rel) {
  const { crates } = index(corpus);
  return crates.find((c) => c.dir === '' || rel.startsWith(c.dir + '/')) || null;
}

// The module path of a file of the library (null for tests, examples, bins).
export function modPath(corpus, rel) {
  const c = crateOf(corpus, rel);
  if (!c) return null;
  const r = c.dir ? rel.slice(c.dir.length + 1) : rel;
  if (!r.startsWith('src/') || r.startsWith('src/bin/') || r === 'src/main.rs') return null;
  const segs = r.slice(4).replace(/\.rs$/, '').split('/');
  if (segs.length === 1 && segs[0] === 'lib') return [];
  if (segs[segs.length - 1] === 'mod') segs.pop();
  return segs;
}

export function modFile(corpus, crate, segs) {
  const base = path.join(crate.dir, 'src');
  if (!segs.length) return corpus.has(path.join(base, 'lib.rs')) ? path.join(base, 'lib.rs') : null;
  for (const c of [path.join(base, ...segs) + '.rs', path.join(base, ...segs, 'mod.rs')]) if (corpus.has(c)) return c;
  return null;
}

// A use path (as written in file rel) as an absolute module path of the
// library crate, or null.
function absolute(corpus, rel, segs) {
  const crate = crateOf(corpus, rel);
  if (!crate || !segs.length) return null;
  const here = modPath(corpus, rel);
  if (segs[0] === crate.name) return { crate, segs: segs.slice(1) };
  if (segs[0] === 'crate') return here ? { crate, segs: segs.slice(1) } : null;
  if (!here) return null;
  if (segs[0] === 'self') return { crate, segs: [...here, ...segs.slice(1)] };
  if (segs[0] === 'super') {
    let k = 0;
    while (segs[k] === 'super') k++;
    // a file's module is its own path; `super` is its parent
    if (k > here.length) return null;
    return { crate, segs: [...here.slice(0, here.length - k), ...segs.slice(k)] };
  }
  if (modFile(corpus, crate, [...here, segs[0]])) return { crate, segs: [...here, ...segs] };
  if (modFile(corpus, crate, [segs[0]])) return { crate, segs };
  return null;
}

// The definition of item `name` of module segs: {file, lines, hops} or null;
// follows `use` re-exports (and globs) up to 4 hops.
export function definition(corpus, crate, segs, name, hops = 0, seen = new Set()) {
  const file = modFile(corpus, crate, segs);
  const key = file + '\0' + name;
  if (!file || hops > 4 || seen.has(key)) return null;
  seen.add(key);
  const f = corpus.file(file);
  const lines = f.items.get(name);
  if (lines) return { file, lines: lines.slice(), hops };
  for (const u of f.uses) {
    if (!u.glob && u.local !== name) continue;
    const a = absolute(corpus, file, u.segs);
    if (!a) continue;
    if (u.glob) {
      const d = definition(corpus, crate, a.segs, name, hops + 1, seen);
      if (d) return d;
    } else if (a.segs.length && !modFile(corpus, crate, a.segs)) {
      const d = definition(corpus, crate, a.segs.slice(0, -1), a.segs[a.segs.length - 1], hops + 1, seen);
      if (d) return d;
    }
  }
  return null;
}

function defOf(entries, notFile) {
  if (!entries || entries.some((e) => e.file === notFile)) return null;
  const files = [...new Set(entries.map((e) => e.file))];
  const linesOf = (file) => entries.filter((e) => e.file === file).map((e) => e.line);
  return { file: files[0], lines: linesOf(files[0]), alt: files.slice(1).map((file) => ({ file, lines: linesOf(file) })) };
}

const itemCands = (corpus, file) => [...corpus.file(file).items].map(([name, lines]) => ({ name, file, line: lines[0] }));

export function candidates(corpus, rel, stats, choose) {
  const f = corpus.file(rel);
  const crate = crateOf(corpus, rel);
  if (!crate) return [];
  const inSpan = (o) => f.spans.some(([a, b]) => o >= a && o < b);
  const out = [];
  const modules = []; // {local, segs, end, via}
  const names = []; // {local, def, end}
  for (const u of f.uses) {
    if (u.glob) continue;
    const a = absolute(corpus, rel, u.segs);
    if (!a) continue;
    if (modFile(corpus, crate, a.segs)) {
      modules.push({ local: u.local, segs: a.segs, end: u.end, via: 'use' });
      continue;
    }
    if (!a.segs.length) continue;
    const d = definition(corpus, crate, a.segs.slice(0, -1), a.segs[a.segs.length - 1]);
    if (!d) { stats.noDefinition++; continue; }
    names.push({ local: u.local, def: d, end: u.end });
  }
  const here = modPath(corpus, rel);
  if (here) for (const m of f.mods) modules.push({ local: m, segs: [...here, m], end: 0, via: 'mod' });
  // bare: an item brought in by `use`
  const bareCands = names.map((n) => ({ name: n.local, file: n.def.file, line: n.def.lines[0] }));
  for (const n of names) {
    if (n.def.file === rel) continue;
    if (f.items.has(n.local)) { stats.shadowed++; continue; }
    const re = new RegExp(`(?<![\\w:.])${n.local}(?![\\w!])`, 'g');
    re.lastIndex = n.end;
    const uses = [];
    for (let m; (m = re.exec(f.text));) {
      const o = m.index;
      if (!f.mask[o] || inSpan(o)) continue;
      if (/^\s*:(?!:)/.test(f.text.slice(o + n.local.length, o + n.local.length + 3))) continue;
      if (/\b(?:fn|struct|enum|trait|type|const|static|let|mut|mod)\s+$/.test(f.text.slice(Math.max(0, o - 8), o))) continue;
      uses.push(o);
    }
    if (!uses.length) { stats.noUse++; continue; }
    out.push(makeCase(corpus, f, choose(uses, `${rel}\0${n.local}`), n.local, 'bare', 'use', n.def, bareCands));
  }
  // module: m::item after `use …::m` or `mod m;`, and crate::…::item paths
  const seen = new Set();
  const moduleCase = (segs, name, offs, via, key) => {
    const d = definition(corpus, crate, segs, name);
    if (!d) { stats.noDefinition++; return; }
    if (d.file === rel) return;
    const o = choose(offs, key);
    if (seen.has(o)) return;
    seen.add(o);
    out.push(makeCase(corpus, f, o, name, 'module', via, d, itemCands(corpus, d.file)));
  };
  for (const mod of modules) {
    const members = new Map();
    const re = new RegExp(`(?<![\\w:.])${mod.local}\\s*::\\s*([A-Za-z_]\\w*)(?!\\s*::)`, 'g');
    re.lastIndex = mod.end;
    for (let m; (m = re.exec(f.text));) {
      if (!f.mask[m.index] || inSpan(m.index)) continue;
      if (!members.has(m[1])) members.set(m[1], []);
      members.get(m[1]).push(m.index + m[0].length - m[1].length);
    }
    for (const [name, offs] of members) moduleCase(mod.segs, name, offs, mod.via, `${rel}\0${mod.local}::${name}`);
  }
  const paths = new Map();
  const pre = `(?:crate|self|super|${crate.name})`;
  for (const m of f.text.matchAll(new RegExp(`(?<![\\w:])${pre}(?:\\s*::\\s*[A-Za-z_]\\w*)+`, 'g'))) {
    if (!f.mask[m.index] || inSpan(m.index)) continue;
    const segs = m[0].split(/\s*::\s*/);
    const a = absolute(corpus, rel, segs.slice(0, -1));
    if (!a || !modFile(corpus, crate, a.segs)) continue;
    const key = a.segs.join('::') + '::' + segs[segs.length - 1];
    if (!paths.has(key)) paths.set(key, { segs: a.segs, name: segs[segs.length - 1], offs: [] });
    paths.get(key).offs.push(m.index + m[0].length - segs[segs.length - 1].length);
  }
  for (const [key, p] of paths) moduleCase(p.segs, p.name, p.offs, 'path', `${rel}\0${key}`);
  out.push(...objectCases(corpus, f, choose));
  return out;
}

// `x.m(` method calls in [from, to): Map m -> offsets of m.
function callUses(f, x, from, to) {
  const re = new RegExp(`(?<![\\w.])${x}\\s*\\.\\s*([A-Za-z_]\\w*)\\s*(?:::\\s*<[^>]*>\\s*)?\\(`, 'g');
  re.lastIndex = from;
  const out = new Map();
  for (let m; (m = re.exec(f.text)) && m.index < to;) {
    if (!f.mask[m.index]) continue;
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push(m.index + m[0].indexOf(m[1], m[0].indexOf('.')));
  }
  return out;
}

// Whether the bracket at open closes and, past an optional `?`, the statement ends.
function endsStatement(f, open) {
  let close = -1;
  if (f.text[open] === '{') close = f.closeOf(open);
  else {
    for (let i = open, depth = 0; i < f.text.length; i++) {
      if (!f.mask[i]) continue;
      if (f.text[i] === '(') depth++;
      else if (f.text[i] === ')' && --depth === 0) { close = i; break; }
    }
  }
  return close >= 0 && /^\s*\??\s*;/.test(f.text.slice(close + 1, close + 64));
}

function objectCases(corpus, f, choose) {
  const out = [];
  const rel = f.rel;
  const { methods } = index(corpus);
  const methodCases = (type, x, from, to, via, key) => {
    const ms = methods.get(type);
    if (!ms) return;
    const cands = [...ms].map(([name, e]) => ({ name, file: e[0].file, line: e[0].line }));
    for (const [name, offs] of callUses(f, x, from, to)) {
      const d = defOf(ms.get(name), rel);
      if (!d) continue;
      out.push(makeCase(corpus, f, choose(offs, `${rel}\0${key}.${name}`), name, 'object', via, d, cands));
    }
  };
  // self.m( inside `impl T`, m a method of T defined in other files only
  for (const im of f.impls) methodCases(im.type, 'self', im.open, im.close, 'self', `${im.type}@${im.open}`);
  // x.m( after `let x: T`, `let x = T::new(…)` / `T { … }`, or a parameter `x: &T`
  const decls = [
    [/\blet\s+(?:mut\s+)?([a-z_]\w*)\s*:\s*&?(?:'\w+\s+)?(?:mut\s+)?(?:\w+::)*([A-Z]\w*)/g, 'let'],
    [/\blet\s+(?:mut\s+)?([a-z_]\w*)\s*=\s*&?(?:mut\s+)?(?:\w+::)*([A-Z]\w*)(?:::<[^>]*>)?\s*(?:::\s*(?:new\w*|with_\w+|from_\w+|default)\s*\(|\{)/g, 'let'],
    [/[(,]\s*(?:mut\s+)?([a-z_]\w*)\s*:\s*&?(?:'\w+\s+)?(?:mut\s+)?(?:\w+::)*([A-Z]\w*)/g, 'param'],
  ];
  for (const [re, via] of decls) {
    for (const m of f.text.matchAll(re)) {
      if (!f.mask[m.index] || m[1] === 'self' || !methods.has(m[2])) continue;
      // `let x = T::new(…)` types x only when the statement ends there: not
      // `T::builder().a().build()`, whose value is another type.
      if (via === 'let' && /[({]$/.test(m[0]) && !endsStatement(f, m.index + m[0].length - 1)) continue;
      const from = m.index + m[0].length;
      let to;
      if (via === 'param') {
        const head = f.text.slice(f.text.lastIndexOf('\n', m.index) + 1, m.index);
        if (!/\bfn\b/.test(head) && !/^\s*$/.test(head)) continue;
        const open = f.nextCode(from, '{');
        if (open < 0) continue;
        to = f.closeOf(open);
      } else {
        to = f.enclosing(m.index)?.close ?? f.text.length;
        const again = new RegExp(`\\blet\\s+(?:mut\\s+)?${m[1]}\\b`, 'g');
        again.lastIndex = from;
        const a = again.exec(f.text);
        if (a && a.index < to) to = a.index;
      }
      methodCases(m[2], m[1], from, to, via, `${m[1]}@${m.index}`);
    }
  }
  return out;
}

// Functions and methods with a `///` doc comment (attributes may sit between).
export function chats(corpus, rel) {
  const f = corpus.file(rel);
  const out = [];
  for (const fn of f.functions) {
    if (/^test|^main$/.test(fn.name)) continue;
    let l = fn.line;
    while (l > 1 && /^\s*#\[/.test(f.lineText(l - 1))) l--;
    let first = l;
    while (first > 1 && /^\s*\/\/\/(?!\/)/.test(f.lineText(first - 1))) first--;
    if (first === l) continue;
    const doc = [];
    for (let k = first; k < l; k++) doc.push(f.lineText(k).replace(/^\s*\/\/\/ ?/, ''));
    const q = summarize(doc.join('\n').replace(/```[\s\S]*?```/g, ''), fn.name);
    if (!q) continue;
    const open = f.nextCode(f.lineStart(fn.line), '{');
    if (open < 0 || f.text.slice(f.lineStart(fn.line), open).includes(';')) continue; // a declaration only
    if (f.line(f.closeOf(open)) - fn.line < 3) continue;
    const c = makeCase(corpus, f, f.lineStart(fn.line), fn.name, 'chat', 'doc comment', { file: rel, lines: [fn.line] });
    c.query = q;
    c.hide = [[f.lineStart(first), f.lineStart(l) - 1]];
    out.push(c);
  }
  return out;
}
