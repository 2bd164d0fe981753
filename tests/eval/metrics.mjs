// Metrics of a ranked list against a case's answer, and their averages.
export const BUDGET = 6000; // characters of context a completion prompt has room for

// A hit: a result of file G whose line range contains a definition line
// (or of one of the case's alternative definitions: a name defined once per
// build configuration, in several files).  A result that is not one span of
// the file (an outline: some members' signatures) lists the lines it shows
// in r.lines, and holds only those.
export function isHit(c, r) {
  const shows = (l) => (r.lines ? r.lines.includes(l) : r.start_line <= l && l <= r.end_line);
  const holds = (file, lines) => r.path === file && lines.some(shows);
  return holds(c.def_file, c.def_lines) || (c.alt || []).some((a) => holds(a.file, a.lines));
}

// The lines of fileText (1-based) within the result's range that its text
// shows: each line of an outline is a copy of a line of the file.  Blank
// lines show nothing.
export function shownLines(fileText, r) {
  const clean = (t) => t.replace(/\r$/, '').trimEnd();
  const shown = new Set(String(r.text).split('\n').map(clean).filter((t) => t.trim()));
  const lines = fileText.split('\n');
  const out = [];
  for (let l = Math.max(1, r.start_line); l <= Math.min(r.end_line, lines.length); l++)
    if (shown.has(clean(lines[l - 1]))) out.push(l);
  return out;
}

// A result of the definition's file (any chunk of it).
export function isFileHit(c, r) {
  return r.path === c.def_file || (c.alt || []).some((a) => a.file === r.path);
}

// results: [{path, start_line, end_line, chars}] best first.
export function score(c, results) {
  const rank = results.slice(0, 10).findIndex((r) => isHit(c, r)) + 1; // 0: none
  let used = 0;
  let budgetHit = false;
  for (const r of results) {
    if (used + r.chars > BUDGET) break;
    used += r.chars;
    if (isHit(c, r)) { budgetHit = true; break; }
  }
  return { rank, r1: rank === 1 ? 1 : 0, r5: rank >= 1 && rank <= 5 ? 1 : 0, mrr: rank ? 1 / rank : 0, budget: budgetHit ? 1 : 0 };
}

export function average(scores) {
  const n = scores.length;
  const sum = (k) => scores.reduce((a, s) => a + s[k], 0);
  return n ? { n, r1: sum('r1') / n, r5: sum('r5') / n, mrr: sum('mrr') / n, budget: sum('budget') / n } : { n: 0 };
}

export function percentile(values, p) {
  if (!values.length) return NaN;
  const v = values.slice().sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];
}
