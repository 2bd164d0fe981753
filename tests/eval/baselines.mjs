// The classic lexical baselines over fixed line windows of the masked
// corpus: BM25 (k1 = 1.2, b = 0.75) and Jaccard similarity of token sets
// (RepoBench-R's lexical retriever).  Tokens: the text split on non-word
// characters (\W), lower-cased; runs of underscores (the masks) dropped.

export const WINDOW = 20; // lines per window
export const STRIDE = 10; // lines between window starts (windows overlap by half)

export function tokens(text) {
  const out = [];
  for (const t of text.toLowerCase().split(/\W+/)) if (t && !/^_+$/.test(t)) out.push(t);
  return out;
}

export class WindowIndex {
  constructor(files) {
    // files: Map rel -> text
    this.windows = []; // {path, start_line, end_line, chars, len, set}
    const postings = new Map(); // term -> [[window, tf], …]
    for (const rel of [...files.keys()].sort()) {
      const lines = files.get(rel).split('\n');
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
      for (let s = 0; s < lines.length; s += STRIDE) {
        const e = Math.min(lines.length, s + WINDOW);
        const text = lines.slice(s, e).join('\n');
        const toks = tokens(text);
        const id = this.windows.length;
        const tf = new Map();
        for (const t of toks) tf.set(t, (tf.get(t) || 0) + 1);
        for (const [t, n] of tf) {
          if (!postings.has(t)) postings.set(t, []);
          postings.get(t).push(id, n);
        }
        this.windows.push({ path: rel, start_line: s + 1, end_line: e, chars: text.length + 1, len: toks.length, terms: tf.size });
        if (e >= lines.length) break;
      }
    }
    this.postings = postings;
    this.avgdl = this.windows.reduce((a, w) => a + w.len, 0) / Math.max(1, this.windows.length);
  }

  // Top k windows by score, leaving out the windows of file `exclude`.
  top(scores, k, exclude) {
    const ids = [];
    for (const [id, s] of scores) if (s > 0 && this.windows[id].path !== exclude) ids.push(id);
    ids.sort((a, b) => scores.get(b) - scores.get(a) || a - b);
    return ids.slice(0, k).map((id) => ({ ...this.windows[id], score: scores.get(id) }));
  }

  bm25(query, k, exclude, k1 = 1.2, b = 0.75) {
    const N = this.windows.length;
    const scores = new Map();
    for (const t of new Set(tokens(query))) {
      const p = this.postings.get(t);
      if (!p) continue;
      const df = p.length / 2;
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5));
      for (let i = 0; i < p.length; i += 2) {
        const w = this.windows[p[i]];
        const tf = p[i + 1];
        const s = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * w.len) / this.avgdl));
        scores.set(p[i], (scores.get(p[i]) || 0) + s);
      }
    }
    return this.top(scores, k, exclude);
  }

  jaccard(query, k, exclude) {
    const q = new Set(tokens(query));
    const inter = new Map();
    for (const t of q) {
      const p = this.postings.get(t);
      if (!p) continue;
      for (let i = 0; i < p.length; i += 2) inter.set(p[i], (inter.get(p[i]) || 0) + 1);
    }
    const scores = new Map();
    for (const [id, n] of inter) scores.set(id, n / (q.size + this.windows[id].terms - n));
    return this.top(scores, k, exclude);
  }
}
