// Keystroke replays for the prompt benchmark, as pure functions: which
// functions of a Python repository are typed, what the repository looks like
// to the index while they are (their bodies gone), the requests two real
// clients send while someone types, and how to read the prompts that reached
// the model afterwards.
import { tokenize } from '../../fake-ollama/tokens.mjs';

// ---------------------------------------------------------------------------
// The functions to type

/** Top-of-file imports of package modules: local name -> {module, name} (name null: the module itself). */
export function pythonImports(text, rel) {
    const pkgDir = rel.split('/').slice(0, -1);
    const resolve = (dots, mod) => {
        const base = pkgDir.slice(0, pkgDir.length - (dots.length - 1));
        return [...base, ...(mod ? mod.split('.') : [])].join('/');
    };
    const out = new Map();
    const joined = text.replace(/\(\s*([^)]*?)\s*\)/gs, (m, inner) => inner.replace(/\s+/g, ' '));
    for (const m of joined.matchAll(/^\s*from\s+(\.+)([\w.]*)\s+import\s+(.+)$/gm)) {
        const target = resolve(m[1], m[2]);
        for (const part of m[3].split(',')) {
            const [name, alias] = part.trim().split(/\s+as\s+/);
            if (!/^\w+$/.test(name ?? '')) continue;
            const local = alias ?? name;
            // `from . import nodes`: a module; `from .nodes import Node`: a name in one
            out.set(local, m[2] === '' ? { module: `${target}/${name}`, name: null } : { module: target, name });
        }
    }
    return out;
}

/** Where a top-level name is defined in a module's text: its first line, or null. */
export function definitionLine(text, name) {
    const re = new RegExp(`^(?:async\\s+def|def|class)\\s+${name}\\b.*$|^${name}\\s*(?::[^=]*)?=(?!=).*$`, 'm');
    const m = text.match(re);
    return m ? m[0].trimEnd() : null;
}

/** Every def of a file with its signature end and body range (character offsets). */
export function pythonFunctions(text) {
    const lines = text.split('\n');
    const starts = [];
    let at = 0;
    for (const l of lines) {
        starts.push(at);
        at += l.length + 1;
    }
    const out = [];
    for (let i = 0; i < lines.length; i++) {
        const m = lines[i].match(/^(\s*)(?:async\s+)?def\s+(\w+)\s*\(/);
        if (!m) continue;
        const indent = m[1].length;
        // the signature ends at the first line where the brackets close and a ':' ends it
        let depth = 0;
        let end = -1;
        for (let j = i; j < lines.length && j < i + 30; j++) {
            const code = lines[j].replace(/#.*$/, '');
            for (const ch of code) depth += ch === '(' || ch === '[' ? 1 : ch === ')' || ch === ']' ? -1 : 0;
            if (depth === 0 && /:\s*$/.test(code)) {
                end = j;
                break;
            }
        }
        if (end < 0) continue;
        let last = end;
        for (let j = end + 1; j < lines.length; j++) {
            if (lines[j].trim() === '') continue;
            if (lines[j].match(/^\s*/)[0].length <= indent) break;
            last = j;
        }
        if (last === end) continue;
        const bodyStart = starts[end + 1];
        const bodyEnd = starts[last] + lines[last].length + 1;
        out.push({ name: m[2], line: i + 1, indent, bodyStart, bodyEnd, body: text.slice(bodyStart, bodyEnd) });
    }
    return out;
}

/** Definitions of other files of the package that a body uses: [{name, file, header}]. */
export function crossFileUses(files, rel, body) {
    const imports = pythonImports(files.get(rel), rel);
    const used = [];
    const seen = new Set();
    const add = (module, name) => {
        const file = files.has(`${module}.py`) ? `${module}.py` : files.has(`${module}/__init__.py`) ? `${module}/__init__.py` : null;
        if (!file || file === rel) return;
        const header = definitionLine(files.get(file), name);
        const key = `${file}:${name}`;
        if (header && !seen.has(key)) {
            seen.add(key);
            used.push({ name, file, header });
        }
    };
    for (const m of body.matchAll(/\b([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?/g)) {
        const imp = imports.get(m[1]);
        if (!imp) continue;
        if (imp.name !== null) add(imp.module, imp.name);
        else if (m[2]) add(imp.module, m[2]);
    }
    return used;
}

/** A stable 32-bit hash (FNV-1a) for choosing functions without a random generator. */
function hash(s) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    return h;
}

/**
 * The functions to type: bodies of minChars..maxChars characters that use a
 * definition from another file of the package, one per file, the first
 * `count` in a fixed order (hash of path and name).
 */
export function chooseFunctions(files, { count = 6, minChars = 250, maxChars = 600 } = {}) {
    const candidates = [];
    for (const [rel, text] of files) {
        if (!rel.endsWith('.py')) continue;
        for (const f of pythonFunctions(text)) {
            if (f.body.length < minChars || f.body.length > maxChars) continue;
            const uses = crossFileUses(files, rel, f.body);
            if (uses.length === 0) continue;
            candidates.push({ ...f, file: rel, uses, order: hash(`${rel}:${f.name}:${f.line}`) });
        }
    }
    candidates.sort((a, b) => a.order - b.order);
    const chosen = [];
    const filesUsed = new Set();
    for (const c of candidates) {
        if (filesUsed.has(c.file)) continue;
        filesUsed.add(c.file);
        chosen.push(c);
        if (chosen.length === count) break;
    }
    return chosen;
}

/** The repository as the index sees it before the typing: each chosen body is `pass`. */
export function withoutBodies(files, chosen) {
    const out = new Map(files);
    const byFile = new Map();
    for (const c of chosen) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
    for (const [file, fns] of byFile) {
        let text = files.get(file);
        for (const f of [...fns].sort((a, b) => b.bodyStart - a.bodyStart)) {
            const indent = f.body.match(/^[ \t]*/)[0];
            text = text.slice(0, f.bodyStart) + `${indent}pass\n` + text.slice(f.bodyEnd);
        }
        out.set(file, text);
    }
    return out;
}

// ---------------------------------------------------------------------------
// What the clients send

/** The file while the body is typed up to k characters, and the cursor. */
export function typedState(text, fn, k) {
    const before = text.slice(0, fn.bodyStart) + fn.body.slice(0, k);
    return { buffer: before + text.slice(fn.bodyEnd), cursor: before.length };
}

/** The keystrokes at which a request goes out: every `every` characters, and at the end. */
export function keystrokes(fn, every = 6) {
    const ks = [];
    for (let k = every; k < fn.body.length; k += every) ks.push(k);
    ks.push(fn.body.length);
    return ks;
}

const lastTokens = (text, n) => tokenize(text).slice(-n).join('');
const firstTokens = (text, n) => tokenize(text).slice(0, n).join('');

/** Whole lines from the top go until the rest is at most max tokens (Continue's pruneLinesFromTop). */
function pruneLinesFromTop(text, max) {
    const lines = text.split('\n');
    let count = tokenize(text).length;
    let i = 0;
    while (count > max && i < lines.length - 1) {
        count -= tokenize(lines[i] + '\n').length;
        i++;
    }
    return lines.slice(i).join('\n');
}

/** Whole lines from the bottom go until the rest is at most max tokens (pruneLinesFromBottom). */
function pruneLinesFromBottom(text, max) {
    const lines = text.split('\n');
    let count = tokenize(text).length;
    let n = lines.length;
    while (count > max && n > 1) {
        n--;
        count -= tokenize('\n' + lines[n]).length;
    }
    return lines.slice(0, n).join('\n');
}

export const MODEL = 'qwen2.5-coder:7b';

/**
 * ProxyAI's code completion with the Ollama provider and its default
 * CodeQwen2.5 template: a raw FIM prompt with about 256 tokens of prefix and
 * of suffix around the cursor.
 */
export function proxyaiRequest(buffer, cursor, { lcaRag = true, tokens = 256 } = {}) {
    const prefix = lastTokens(buffer.slice(0, cursor), tokens);
    const suffix = firstTokens(buffer.slice(cursor), tokens);
    const restOfLine = buffer.slice(cursor).split('\n')[0];
    const options = {
        stop: ['\n\n', ...(restOfLine.trim() ? [restOfLine] : []), '<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>',
            '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>'],
        num_predict: 128,
        temperature: 0.4,
    };
    if (!lcaRag) options.lca_rag = false;
    return {
        model: MODEL,
        prompt: `<|fim_prefix|> ${prefix} <|fim_suffix|>${suffix} <|fim_middle|>`,
        options,
        stream: false,
        raw: true,
    };
}

/**
 * Continue's tab completion with the Ollama provider for a model whose
 * template has .Suffix: /api/generate with prompt and suffix, the prefix
 * pruned by whole lines to 30% of 4096 prompt tokens and the suffix to 20%.
 */
export function continueRequest(buffer, cursor, { lcaRag = true, maxPromptTokens = 4096 } = {}) {
    const prefix = pruneLinesFromTop(buffer.slice(0, cursor), maxPromptTokens * 0.3);
    const suffixMax = Math.min(maxPromptTokens - tokenize(prefix).length, maxPromptTokens * 0.2);
    const suffix = pruneLinesFromBottom(buffer.slice(cursor), suffixMax);
    const options = { temperature: 0.01, num_predict: 256, stop: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '\n\n\n'] };
    if (!lcaRag) options.lca_rag = false;
    return { model: MODEL, prompt: prefix, suffix, options, keep_alive: 1800, stream: true };
}

// ---------------------------------------------------------------------------
// Reading what reached the model

/**
 * The context block of an upstream prompt: everything before the client's
 * own text of the file.  That text ends at the cursor, where `cursorMarker`
 * (what follows the prefix in the prompt: ProxyAI's " <|fim_suffix|>") is,
 * so it is found as the longest common suffix of the prompt before the
 * marker and the file before the cursor; the block is what precedes it (FIM
 * markers included, which are the same in every prompt).  Text of the file
 * that the gateway put back before the client's window counts as the
 * file's, not as context.
 */
export function contextBlock(prompt, fileBeforeCursor, cursorMarker) {
    let x = prompt.lastIndexOf(cursorMarker);
    if (x < 0) x = prompt.length;
    let m = 0;
    const f = fileBeforeCursor.length;
    while (m < x && m < f && prompt[x - 1 - m] === fileBeforeCursor[f - 1 - m]) m++;
    // where the walk stops inside the white space after a marker depends on the
    // file, not on the context: leave that space out
    return prompt.slice(0, x - m).trimEnd();
}

export function quantile(values, q) {
    if (values.length === 0) return NaN;
    const s = [...values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export const mean = (values) => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);
