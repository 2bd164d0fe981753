// What every language's case builder shares: which files are code, the
// per-file analysis (code mask, lines, brace blocks), identifier scans and
// the summary sentence of a doc comment.
import { posix as path } from 'node:path';
import { codeMask, lineStarts, lineOf, braceBlocks } from './lex.mjs';

export const CODE_EXTS = {
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascript',
  '.ts': 'typescript', '.tsx': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.py': 'python',
  '.go': 'go',
  '.rs': 'rust',
  '.java': 'java',
};

// Files that steer import resolution without being code: kept in the
// indexed copy, never a case.
export const MANIFESTS = new Set(['go.mod', 'Cargo.toml', 'tsconfig.json', 'jsconfig.json']);

export function languageOf(rel) {
  if (/\.d\.[cm]?ts$/.test(rel)) return null; // declarations only: no code to use
  return CODE_EXTS[path.extname(rel)] || null;
}

export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Per-file analysis, cached by the corpus.  Language modules hang their own
// results on it (defs, classes, imports).
export class FileInfo {
  constructor(rel, text, lang) {
    this.rel = rel;
    this.text = text;
    this.lang = lang;
    this.mask = codeMask(lang, text);
    this.starts = lineStarts(text);
    this._blocks = null;
  }
  line(offset) {
    return lineOf(this.starts, offset);
  }
  lineStart(line) {
    return this.starts[line - 1] ?? this.text.length;
  }
  lineText(line) {
    const s = this.lineStart(line);
    const e = this.text.indexOf('\n', s);
    return this.text.slice(s, e < 0 ? this.text.length : e);
  }
  get blocks() {
    if (!this._blocks) this._blocks = braceBlocks(this.text, this.mask);
    return this._blocks;
  }
  // Index of the last block opened before offset o (-1 if none).
  lastOpenBefore(o) {
    const { opens } = this.blocks;
    let lo = 0;
    let hi = opens.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (opens[mid] < o) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }
  // The `}` that closes the `{` at offset open (-1 if open is no `{` of code).
  closeOf(open) {
    const i = this.lastOpenBefore(open + 1);
    return i >= 0 && this.blocks.opens[i] === open ? this.blocks.closes[i] : -1;
  }
  // Innermost block {open, close, index} holding offset o, or null at top level.
  enclosing(o) {
    const { opens, closes, parents } = this.blocks;
    let i = this.lastOpenBefore(o);
    while (i >= 0 && closes[i] < o) i = parents[i];
    return i < 0 ? null : { open: opens[i], close: closes[i], index: i };
  }
  // The chain of blocks holding offset o, innermost first.
  chain(o) {
    const { opens, closes, parents } = this.blocks;
    const out = [];
    let i = this.lastOpenBefore(o);
    while (i >= 0 && closes[i] < o) i = parents[i];
    for (; i >= 0; i = parents[i]) out.push({ open: opens[i], close: closes[i], index: i });
    return out;
  }
  depthAt(o) {
    return this.chain(o).length;
  }
  // The first offset of code at or after o whose character is c.
  nextCode(o, c) {
    for (let i = o; i < this.text.length; i++) if (this.mask[i] && this.text[i] === c) return i;
    return -1;
  }
}

export function addDef(defs, name, line) {
  if (!defs.has(name)) defs.set(name, []);
  const lines = defs.get(name);
  if (!lines.includes(line)) lines.push(line);
}

// Offsets in [from, to) where identifier `name` stands in code as a whole
// word; `ok(offset)` filters further.
export function identUses(f, name, from, to, ok = () => true) {
  const re = new RegExp(`(?<![\\w$])${escapeRe(name)}(?![\\w$])`, 'g');
  re.lastIndex = from;
  const out = [];
  let m;
  while ((m = re.exec(f.text)) && m.index < to) {
    if (f.mask[m.index] && ok(m.index)) out.push(m.index);
  }
  return out;
}

// The character before offset o, skipping blanks ('' at the start).
export function before(f, o) {
  let i = o - 1;
  while (i >= 0 && /\s/.test(f.text[i])) i--;
  return i < 0 ? '' : f.text[i];
}

export function afterText(f, o, n = 3) {
  return f.text.slice(o, o + n);
}

// The summary of a doc comment, in the manner of CodeSearchNet: the first
// paragraph, tags and markup dropped, cut after its first sentence.  Null
// when fewer than 3 or more than 40 words remain.
export function summarize(doc, fnName) {
  let t = doc.split(/\n\s*\n/)[0];
  t = t.replace(/\{@\w+\s+([^}]*)\}/g, (_, x) => x.replace(/.*#/, '')); // {@link A#b} -> b
  t = t.replace(/<\/?[a-zA-Z][^>]*>/g, ' '); // HTML tags
  t = t.replace(/\[`?([^\]`]+)`?\](\([^)]*\))?/g, '$1'); // markdown links
  t = t.replace(/:[\w:.-]+:`~?\.?([^`]+)`/g, (_, x) => x.replace(/^.*\.(?=\w)/, '')); // reST roles: :class:`~a.Engine` -> Engine
  t = t.replace(/`/g, '');
  t = t.split(/\n\s*[@:](?:param|return|returns|throws|raises|type|rtype|see|since|deprecated|example)\b/)[0];
  t = t.replace(/\s+/g, ' ').trim();
  if (/^(@|:|TODO|FIXME|XXX|Deprecated|deprecated|Copyright|SPDX|#|=|-|\*)/.test(t)) return null;
  const m = t.match(/^.*?[.!?](?=\s|$)/);
  if (m) t = m[0];
  if (fnName) {
    // Go's (and some others') convention: the comment starts with the name.
    const lead = t.match(/^(?:The\s+|A\s+|An\s+)?`?([\w.]+)`?\s+/);
    if (lead && lead[1].replace(/.*\./, '') === fnName) t = t.slice(lead[0].length);
  }
  const words = t.split(' ').filter(Boolean);
  if (words.length < 3 || words.length > 40) return null;
  if (!/[a-z]{3}/.test(t)) return null;
  return t;
}

// Blank out [s, e) of text, newlines kept (lines and offsets do not move).
export function blank(text, s, e) {
  return text.slice(0, s) + text.slice(s, e).replace(/[^\n]/g, ' ') + text.slice(e);
}

// Sub-words of an identifier, lower-cased: parseHTTPRequest -> parse, http, request.
export function subwords(name) {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

// A crude stem, for matching the words of a question to sub-words.
export function stem(w) {
  return w.replace(/(?:ies)$/, 'y').replace(/(?:es|s|ed|ing|er)$/, '') || w;
}

// The function definitions of a file for the chat peer: {name, line}.
export function pushFunction(list, name, line) {
  list.push({ name, line });
}

// Classes (Python, JS/TS, Java): the definition of member of class cls of
// file, looked up in the class and then in its bases (resolveType(corpus,
// file, text) -> {file, name} finds a base from the text of its
// reference).  Returns {file, lines, hops} or null.
export function classMember(corpus, resolveType, file, cls, member, depth = 0, seen = new Set()) {
  const key = file + '\0' + cls;
  if (seen.has(key) || depth > 6) return null;
  seen.add(key);
  const c = corpus.file(file).classes?.get(cls);
  if (!c) return null;
  const lines = c.members.get(member);
  if (lines) return { file, lines: lines.slice(), hops: depth };
  for (const b of c.bases) {
    const t = resolveType(corpus, file, b);
    if (!t) continue;
    const r = classMember(corpus, resolveType, t.file, t.name, member, depth + 1, seen);
    if (r) return r;
  }
  return null;
}

// Every method of class cls and of its bases, nearest first: {name, file, line}.
export function classMembers(corpus, resolveType, file, cls, out = [], depth = 0, seen = new Set()) {
  const key = file + '\0' + cls;
  if (seen.has(key) || depth > 6) return out;
  seen.add(key);
  const c = corpus.file(file).classes?.get(cls);
  if (!c) return out;
  for (const [name, lines] of c.members) out.push({ name, file, line: lines[0] });
  for (const b of c.bases) {
    const t = resolveType(corpus, file, b);
    if (t) classMembers(corpus, resolveType, t.file, t.name, out, depth + 1, seen);
  }
  return out;
}

// Definitions as peer candidates: Map name -> lines of file -> [{name, file, line}].
export function defCands(defs, file, out = []) {
  for (const [name, lines] of defs) out.push({ name, file, line: lines[0] });
  return out;
}
