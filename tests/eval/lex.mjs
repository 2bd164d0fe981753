// Code masks: which characters of a source file are code (not a comment or a
// string).  Good enough to keep use sites and definitions out of comments,
// docstrings and string literals; not a parser.

const ID = /[\w$]/;

// JavaScript / TypeScript.  Regex literals are told from division by the
// last significant character before the slash.
export function codeMaskJs(text) {
  const n = text.length;
  const code = new Uint8Array(n);
  const braces = []; // template-literal nesting: depth of `{` inside ${ }
  let last = ''; // last significant code character
  let lastWord = '';
  let i = 0;
  const regexAllowedAfter = '(,=:[!&|?{};+-*%<>~^';
  const regexKeywords = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
  const skipTemplate = (start) => {
    // from start (just after ` or }), scan template text until ` or ${
    let j = start;
    while (j < n) {
      const c = text[j];
      if (c === '\\') { j += 2; continue; }
      if (c === '`') return { end: j + 1, open: false };
      if (c === '$' && text[j + 1] === '{') return { end: j + 2, open: true };
      j++;
    }
    return { end: n, open: false };
  };
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && d === '*') {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j + 1;
      last = '"';
      lastWord = '';
      continue;
    }
    if (c === '`') {
      const r = skipTemplate(i + 1);
      i = r.end;
      if (r.open) braces.push(0);
      last = '"';
      lastWord = '';
      continue;
    }
    if (c === '/') {
      const isRegex = last === '' || regexAllowedAfter.includes(last) || regexKeywords.has(lastWord);
      if (isRegex) {
        let j = i + 1;
        let inClass = false;
        while (j < n && text[j] !== '\n') {
          const x = text[j];
          if (x === '\\') { j += 2; continue; }
          if (x === '[') inClass = true;
          else if (x === ']') inClass = false;
          else if (x === '/' && !inClass) break;
          j++;
        }
        j++;
        while (j < n && /[a-z]/.test(text[j])) j++;
        i = j;
        last = '"';
        lastWord = '';
        continue;
      }
    }
    if (braces.length) {
      if (c === '{') braces[braces.length - 1]++;
      else if (c === '}') {
        if (braces[braces.length - 1] === 0) {
          braces.pop();
          const r = skipTemplate(i + 1);
          i = r.end;
          if (r.open) braces.push(0);
          last = '"';
          lastWord = '';
          continue;
        }
        braces[braces.length - 1]--;
      }
    }
    code[i] = 1;
    if (ID.test(c)) {
      let j = i;
      while (j < n && ID.test(text[j])) code[j++] = 1;
      lastWord = text.slice(i, j);
      last = 'a';
      i = j;
      continue;
    }
    if (!/\s/.test(c)) {
      last = c;
      lastWord = '';
    }
    i++;
  }
  return code;
}

// Python: comments and strings (any prefix, single or triple quotes).
export function codeMaskPy(text) {
  const n = text.length;
  const code = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text[i + 1] === c && text[i + 2] === c;
      if (triple) {
        const q = c + c + c;
        let j = i + 3;
        while (j < n && text.slice(j, j + 3) !== q) j += text[j] === '\\' ? 2 : 1;
        i = j + 3;
      } else {
        let j = i + 1;
        while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
        i = j + 1;
      }
      continue;
    }
    code[i] = 1;
    i++;
  }
  return code;
}

// Go, Rust and Java: // and /* */ comments (nested in Rust), "…" strings
// with escapes, character literals; Go's `…` raw strings, Rust's r#"…"#
// raw strings (b and br prefixes too) and Java's """…""" text blocks.  A
// Rust `'a` with no closing quote right after one character is a lifetime,
// which is code.
export function codeMaskC(lang, text) {
  const n = text.length;
  const code = new Uint8Array(n);
  const rust = lang === 'rust';
  let i = 0;
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && d === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '*' && text[i + 1] === '/') { depth--; i += 2; continue; }
        if (rust && text[i] === '/' && text[i + 1] === '*') { depth++; i += 2; continue; }
        i++;
      }
      continue;
    }
    if (lang === 'go' && c === '`') {
      const e = text.indexOf('`', i + 1);
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (rust && (c === 'r' || c === 'b') && !/[\w$]/.test(text[i - 1] || '')) {
      const m = /^b?r(#*)"/.exec(text.slice(i, i + 40));
      if (m) {
        const close = '"' + m[1];
        const e = text.indexOf(close, i + m[0].length);
        i = e < 0 ? n : e + close.length;
        continue;
      }
    }
    if (lang === 'java' && c === '"' && d === '"' && text[i + 2] === '"') {
      const e = text.indexOf('"""', i + 3);
      i = e < 0 ? n : e + 3;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && (rust || text[j] !== '\n')) j += text[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === "'") {
      if (rust) {
        const m = /^'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'/u.exec(text.slice(i, i + 12));
        if (m) { i += m[0].length; continue; }
        code[i++] = 1; // a lifetime or a label
        continue;
      }
      let j = i + 1;
      while (j < n && text[j] !== "'" && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    code[i++] = 1;
  }
  return code;
}

export function codeMask(lang, text) {
  if (lang === 'python') return codeMaskPy(text);
  if (lang === 'go' || lang === 'rust' || lang === 'java') return codeMaskC(lang, text);
  return codeMaskJs(text);
}

// Pairs of matching braces in code: opens[i] / closes[i] are offsets of
// the i-th `{` (in text order) and its `}` (text.length when unclosed);
// parents[i] is the block holding block i (-1 at top level).
export function braceBlocks(text, mask) {
  const opens = [];
  const closes = [];
  const parents = [];
  const stack = [];
  for (let i = 0; i < text.length; i++) {
    if (!mask[i]) continue;
    const c = text[i];
    if (c === '{') {
      parents.push(stack.length ? stack[stack.length - 1] : -1);
      stack.push(opens.length);
      opens.push(i);
      closes.push(text.length);
    } else if (c === '}' && stack.length) {
      closes[stack.pop()] = i;
    }
  }
  return { opens, closes, parents };
}

// Offsets of the starts of lines; lineOf(offset) is 1-based.
export function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function lineOf(starts, offset) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
