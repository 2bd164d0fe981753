// Go: packages are directories; an import path resolves through a go.mod's
// module path, or else is itself the directory (GOPATH layout: the corpus
// root is `src/`).  Top-level funcs, types, vars and consts; methods by
// receiver type over all files of the package; doc comments.
import { posix as path } from 'node:path';
import { before, summarize } from './common.mjs';
import { makeCase } from './cases.mjs';

const GO_KEYWORDS = new Set(('break case chan const continue default defer else fallthrough for func go goto if ' +
  'import interface map package range return select struct switch type var').split(' '));

export function analyze(corpus, f) {
  const t = f.text;
  f.pkg = (t.match(/^package\s+(\w+)/m) || [])[1] || '';
  f.test = f.rel.endsWith('_test.go');
  // imports
  const imps = [];
  const spans = [];
  for (const m of t.matchAll(/^import\s*(?:\(([\s\S]*?)^\)|((?:[\w.]+\s+)?"[^"]+"))/gm)) {
    if (!f.mask[m.index]) continue;
    spans.push([m.index, m.index + m[0].length]);
    const body = m[1] ?? m[2];
    const base = m.index + m[0].indexOf(body);
    for (const s of body.matchAll(/(?:^|\n)[ \t]*(?:([\w.]+)\s+)?"([^"]+)"/g)) {
      if (!f.mask[base + s.index + s[0].search(/\S/)]) continue;
      imps.push({ alias: s[1] || null, path: s[2] });
    }
  }
  f.goImports = imps;
  f.spans = spans;
  // top-level definitions
  f.defs = new Map();
  f.types = new Set();
  const add = (name, line, type) => {
    if (name === '_') return;
    if (!f.defs.has(name)) f.defs.set(name, []);
    f.defs.get(name).push(line);
    if (type) f.types.add(name);
  };
  for (const m of t.matchAll(/^(?:func\s+(\w+)\s*[[(]|(type|var|const)\s+(\w+))/gm)) {
    if (!f.mask[m.index]) continue;
    add(m[1] || m[3], f.line(m.index), m[2] === 'type');
  }
  for (const m of t.matchAll(/^(type|var|const)\s*\(\n([\s\S]*?)^\)/gm)) {
    if (!f.mask[m.index]) continue;
    const base = m.index + m[0].indexOf('\n') + 1;
    for (const s of m[2].matchAll(/^\t(\w+(?:\s*,\s*\w+)*)/gm)) {
      if (!f.mask[base + s.index + 1]) continue;
      for (const name of s[1].split(/\s*,\s*/)) add(name, f.line(base + s.index), m[1] === 'type');
    }
  }
  // methods and function result types
  f.methods = [];
  f.results = new Map();
  f.functions = [];
  for (const m of t.matchAll(/^func\s*(?:\(\s*(?:(\w+)\s+)?\*?\s*(\w+)(?:\[[^\]]*\])?\s*\)\s*)?(\w+)\s*(?:\[[^\]]*\])?\s*\(/gm)) {
    if (!f.mask[m.index]) continue;
    const line = f.line(m.index);
    f.functions.push({ name: m[3], line });
    if (m[2]) {
      f.methods.push({ recv: m[1] || null, type: m[2], name: m[3], line, at: m.index });
      continue;
    }
    // the first result: `T`, `*T`, `(T, error)`, `(*T, error)`
    let i = m.index + m[0].length;
    for (let depth = 1; i < t.length && depth > 0; i++) {
      if (!f.mask[i]) continue;
      if (t[i] === '(') depth++;
      else if (t[i] === ')') depth--;
    }
    const r = t.slice(i, i + 200).match(/^\s*\(?\s*\*?\s*(?:(\w+)\.)?([A-Za-z_]\w*)/);
    if (r && !r[1]) f.results.set(m[3], r[2]);
  }
}

// The packages of the corpus: Map dir -> {name, files, defs: Map name ->
// [{file, line}], types: Set, methods: Map type -> Map name -> [{file,
// line}], results: Map func -> type}; and the module paths of its go.mod files.
function index(corpus) {
  return corpus.once('go', () => {
    const modules = [];
    for (const [rel, text] of corpus.manifests) {
      if (path.basename(rel) !== 'go.mod') continue;
      const m = text.match(/^module\s+(\S+)/m);
      if (m) modules.push({ dir: path.dirname(rel) === '.' ? '' : path.dirname(rel), module: m[1].replace(/"/g, '') });
    }
    const byDir = new Map();
    for (const rel of corpus.texts.keys()) {
      if (!rel.endsWith('.go')) continue;
      const dir = path.dirname(rel) === '.' ? '' : path.dirname(rel);
      if (!byDir.has(dir)) byDir.set(dir, []);
      byDir.get(dir).push(rel);
    }
    const packages = new Map();
    for (const [dir, rels] of byDir) {
      const votes = new Map();
      for (const rel of rels) {
        const f = corpus.file(rel);
        if (!f.test && f.pkg) votes.set(f.pkg, (votes.get(f.pkg) || 0) + 1);
      }
      const name = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
      if (!name) continue;
      const p = { dir, name, files: [], defs: new Map(), types: new Set(), methods: new Map(), results: new Map() };
      for (const rel of rels.sort()) {
        const f = corpus.file(rel);
        if (f.pkg !== name) continue;
        p.files.push(rel);
        for (const [n, lines] of f.defs) {
          if (!p.defs.has(n)) p.defs.set(n, []);
          for (const line of lines) p.defs.get(n).push({ file: rel, line });
        }
        for (const ty of f.types) p.types.add(ty);
        for (const [fn, ty] of f.results) if (!p.results.has(fn)) p.results.set(fn, ty);
        for (const m of f.methods) {
          if (!p.methods.has(m.type)) p.methods.set(m.type, new Map());
          const ms = p.methods.get(m.type);
          if (!ms.has(m.name)) ms.set(m.name, []);
          ms.get(m.name).push({ file: rel, line: m.line });
        }
      }
      packages.set(dir, p);
    }
    return { modules, packages };
  });
}

// The package directory an import path names, or null (outside the corpus).
export function resolveImport(corpus, importPath) {
  const { modules, packages } = index(corpus);
  for (const { dir, module } of modules) {
    let d = null;
    if (importPath === module) d = dir;
    else if (importPath.startsWith(module + '/')) d = path.join(dir, importPath.slice(module.length + 1));
    if (d !== null && packages.has(d)) return d;
  }
  return packages.has(importPath) ? importPath : null;
}

// [{file, line}] -> a case's definition: the first file, the others as alts.
function defOf(entries, notFile) {
  const rest = entries.filter((e) => e.file !== notFile);
  if (!rest.length || rest.length !== entries.length) return null;
  const files = [...new Set(rest.map((e) => e.file))];
  const linesOf = (file) => rest.filter((e) => e.file === file).map((e) => e.line);
  return { file: files[0], lines: linesOf(files[0]), alt: files.slice(1).map((file) => ({ file, lines: linesOf(file) })) };
}

const candsOf = (map) => {
  const out = [];
  for (const [name, entries] of map) out.push({ name, file: entries[0].file, line: entries[0].line });
  return out;
};

// Names F declares locally (short variable declarations, var, parameters):
// a package-level name of the same spelling is shadowed somewhere in F.
function locals(f) {
  const out = new Set();
  for (const m of f.text.matchAll(/([\w\s,]+?)\s*:=/g)) for (const n of m[1].split(',')) out.add(n.trim());
  for (const m of f.text.matchAll(/\bvar\s+(\w+)/g)) out.add(m[1]);
  for (const m of f.text.matchAll(/\bfunc\b[^{\n]*/g)) {
    for (const g of m[0].matchAll(/\(([^()]*)\)/g)) {
      for (const p of g[1].split(',')) {
        const n = p.trim().match(/^(\w+)\s+[\w*[.]/);
        if (n) out.add(n[1]);
      }
    }
  }
  return out;
}

export function candidates(corpus, rel, stats, choose) {
  const f = corpus.file(rel);
  const { packages } = index(corpus);
  const dir = path.dirname(rel) === '.' ? '' : path.dirname(rel);
  const pkg = packages.get(dir);
  const inSpan = (o) => f.spans.some(([a, b]) => o >= a && o < b);
  const out = [];
  const local = locals(f);
  const isDecl = (o, name) => {
    const lineStart = f.text.lastIndexOf('\n', o) + 1;
    const head = f.text.slice(lineStart, o);
    if (/^func\b/.test(head) && before(f, o) === ')') return true; // a method's name
    // `name Type`, `name *Type`, `name []T`: a field, a parameter or a result
    if (/^[ \t]+(?:\*(?=\S)|\[|[A-Za-z_])/.test(f.text.slice(o + name.length, o + name.length + 3))) return true;
    return /^\s*:(?!=)/.test(f.text.slice(o + name.length, o + name.length + 3)); // key or label
  };
  // bare: package-level names of other files of F's own package
  if (pkg && f.pkg === pkg.name) {
    const bareCands = [];
    for (const [name, entries] of pkg.defs) {
      const e = entries.find((x) => x.file !== rel);
      if (e) bareCands.push({ name, file: e.file, line: e.line });
    }
    const uses = new Map();
    for (const m of f.text.matchAll(/(?<![\w.])[A-Za-z_]\w*/g)) {
      const name = m[0];
      if (!f.mask[m.index] || GO_KEYWORDS.has(name) || !pkg.defs.has(name) || f.defs.has(name)) continue;
      if (inSpan(m.index) || before(f, m.index) === '.' || isDecl(m.index, name)) continue;
      if (!uses.has(name)) uses.set(name, []);
      uses.get(name).push(m.index);
    }
    for (const [name, offs] of uses) {
      if (local.has(name)) { stats.shadowed++; continue; }
      const d = defOf(pkg.defs.get(name), rel);
      if (!d) continue;
      out.push(makeCase(corpus, f, choose(offs, `${rel}\0${name}`), name, 'bare', 'package', d, bareCands));
    }
  }
  // module: pkg.Name through an import
  for (const imp of f.goImports) {
    if (imp.alias === '_' || imp.alias === '.') continue;
    const d = resolveImport(corpus, imp.path);
    if (d === null) continue;
    const p = packages.get(d);
    const alias = imp.alias || p.name;
    if (local.has(alias)) { stats.shadowed++; continue; }
    const members = new Map();
    const re = new RegExp(`(?<![\\w.])${alias}\\s*\\.\\s*([A-Za-z_]\\w*)`, 'g');
    for (const m of f.text.matchAll(re)) {
      if (!f.mask[m.index] || inSpan(m.index)) continue;
      if (!members.has(m[1])) members.set(m[1], []);
      members.get(m[1]).push(m.index + m[0].length - m[1].length);
    }
    for (const [name, offs] of members) {
      const entries = p.defs.get(name);
      if (!entries) { stats.noDefinition++; continue; }
      const def = defOf(entries, rel);
      if (!def) continue;
      out.push(makeCase(corpus, f, choose(offs, `${rel}\0${alias}.${name}`), name, 'module', 'import', def, candsOf(p.defs)));
    }
  }
  out.push(...objectCases(corpus, f, pkg, inSpan, choose));
  return out;
}

// `x.name` uses in [from, to): Map name -> offsets of name.
function memberUses(f, x, from, to) {
  const re = new RegExp(`(?<![\\w.])${x}\\s*\\.\\s*([A-Za-z_]\\w*)`, 'g');
  re.lastIndex = from;
  const out = new Map();
  let m;
  while ((m = re.exec(f.text)) && m.index < to) {
    if (!f.mask[m.index]) continue;
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push(m.index + m[0].length - m[1].length);
  }
  return out;
}

function objectCases(corpus, f, pkg, inSpan, choose) {
  const out = [];
  const rel = f.rel;
  const { packages } = index(corpus);
  const methodCases = (p, type, x, from, to, via, key) => {
    const ms = p.methods.get(type);
    if (!ms) return;
    for (const [name, offs] of memberUses(f, x, from, to)) {
      const entries = ms.get(name);
      if (!entries) continue;
      const d = defOf(entries, rel);
      if (!d) continue;
      out.push(makeCase(corpus, f, choose(offs, `${rel}\0${key}.${name}`), name, 'object', via, d, candsOf(ms)));
    }
  };
  // the receiver: r.m inside a method of T, m a method of T in another file
  if (pkg && f.pkg === pkg.name) {
    for (const m of f.methods) {
      if (!m.recv || m.recv === '_') continue;
      const open = f.nextCode(m.at, '{');
      if (open < 0) continue;
      methodCases(pkg, m.type, m.recv, open, f.closeOf(open), 'receiver', `${m.type}.${m.recv}@${m.at}`);
    }
  }
  // x := T{…} / &T{…} / NewT(…) / pkg.NewT(…), var x T
  const aliases = new Map();
  for (const imp of f.goImports) {
    const d = resolveImport(corpus, imp.path);
    if (d !== null && imp.alias !== '_' && imp.alias !== '.') aliases.set(imp.alias || packages.get(d).name, packages.get(d));
  }
  const re = /(?<![\w.])(\w+)(?:\s*,\s*\w+)*\s*:=\s*&?(?:(\w+)\.)?(\w+)\s*([{(])|\bvar\s+(\w+)\s+\*?(?:(\w+)\.)?(\w+)/g;
  for (const m of f.text.matchAll(re)) {
    if (!f.mask[m.index] || inSpan(m.index)) continue;
    const x = m[1] || m[5];
    const q = m[2] || m[6];
    const name = m[3] || m[7];
    const p = q ? aliases.get(q) : pkg && f.pkg === pkg.name ? pkg : null;
    if (!p || x === '_') continue;
    const type = m[4] === '(' ? p.results.get(name) : name;
    if (!type || !p.types.has(type)) continue;
    const from = m.index + m[0].length;
    const to = f.enclosing(m.index)?.close ?? f.text.length;
    methodCases(p, type, x, from, to, 'var', `${x}@${m.index}`);
  }
  return out;
}

// Funcs and methods with a `//` doc comment right above them.
export function chats(corpus, rel) {
  const f = corpus.file(rel);
  const out = [];
  for (const fn of f.functions) {
    if (/^(Test|Benchmark|Example|Fuzz)/.test(fn.name) || fn.name === 'init' || fn.name === 'main') continue;
    let first = fn.line;
    while (first > 1 && /^\s*\/\/(?!go:|\s*\+build)/.test(f.lineText(first - 1))) first--;
    if (first === fn.line) continue;
    const doc = [];
    for (let l = first; l < fn.line; l++) doc.push(f.lineText(l).replace(/^\s*\/\/ ?/, ''));
    const q = summarize(doc.join('\n'), fn.name);
    if (!q) continue;
    const open = f.nextCode(f.lineStart(fn.line), '{');
    if (open < 0 || f.line(f.closeOf(open)) - fn.line < 3) continue;
    const c = makeCase(corpus, f, f.lineStart(fn.line), fn.name, 'chat', 'doc comment', { file: rel, lines: [fn.line] });
    c.query = q;
    c.hide = [[f.lineStart(first), f.lineStart(fn.line) - 1]];
    out.push(c);
  }
  return out;
}
