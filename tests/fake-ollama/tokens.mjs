// An approximate tokenizer for the fake Ollama: fast, deterministic, no vocabulary.
//
// It cuts text the way Qwen2's byte-level BPE does before merging — the
// pre-tokenizer's pieces (a word with the one non-letter before it, a single
// digit, a run of punctuation, a run of white space) — and then splits a long
// piece into fixed-size parts, because the real merges rarely join more than
// about six letters or four punctuation characters into one token.  The
// special tokens of the code-model families count as one token each.
//
// What matters for the fake is not the exact count (on code it is about 10%
// above Qwen2.5's, see tests/tokens/) but that it behaves like a
// real tokenizer under edits: the tokens of a text are a function of the
// text, and a change at one place changes only the tokens around it, so the
// common prefix of two prompts in tokens is what a KV cache would reuse.
//
//   tokenize(text)          -> array of strings that join back to text
//   countTokens(text)       -> tokenize(text).length, without the array
//   commonPrefix(a, b)      -> length of the common prefix of two token arrays

// Markers that are one token in the vocabulary of the family that uses them.
const SPECIAL = new RegExp([
    '<\\|[a-z_]+\\|>',                                    // Qwen, CodeGemma, Llama 3: <|fim_prefix|>, <|im_start|> ...
    '<(?:fim_prefix|fim_suffix|fim_middle|fim_pad|file_sep|repo_name|reponame|filename|gh_stars|issue_start|jupyter_start)>',
    '<(?:PRE|SUF|MID|EOT)>',                              // Code Llama
    '<\uFF5C[^\uFF5C<>]{1,32}\uFF5C>',                    // DeepSeek-Coder: <｜fim▁begin｜>
    '\\[(?:PREFIX|SUFFIX|MIDDLE)\\]',                     // Codestral
    '</?s>',
].join('|'), 'gu');

// Qwen2's pre-tokenizer split (the tokenizer.json "Split" pattern).
const PIECE = /(?:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/giu;

const LETTER = /\p{L}/u;
const SPACE = /^\s+$/u;

// Longest part of one piece that counts as one token, in UTF-8 bytes.
function partBytes(piece) {
    if (SPACE.test(piece)) return 16;
    if (LETTER.test(piece)) return 6;
    return 4;
}

function utf8Length(code) {
    return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

function splitPiece(piece, out) {
    const limit = partBytes(piece);
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < piece.length;) {
        const code = piece.codePointAt(i);
        const width = code > 0xffff ? 2 : 1;
        const b = utf8Length(code);
        if (bytes > 0 && bytes + b > limit) {
            out.push(piece.slice(start, i));
            start = i;
            bytes = 0;
        }
        bytes += b;
        i += width;
    }
    if (start < piece.length) out.push(piece.slice(start));
}

function tokenizePlain(text, out) {
    if (text === '') return;
    PIECE.lastIndex = 0;
    let at = 0;
    for (const m of text.matchAll(PIECE)) {
        if (m.index > at) splitPiece(text.slice(at, m.index), out); // never happens with this pattern; kept total
        splitPiece(m[0], out);
        at = m.index + m[0].length;
    }
    if (at < text.length) splitPiece(text.slice(at), out);
}

/** The tokens of text: strings whose concatenation is text. */
export function tokenize(text) {
    const out = [];
    const s = String(text ?? '');
    let at = 0;
    for (const m of s.matchAll(SPECIAL)) {
        tokenizePlain(s.slice(at, m.index), out);
        out.push(m[0]);
        at = m.index + m[0].length;
    }
    tokenizePlain(s.slice(at), out);
    return out;
}

/** How many tokens text has. */
export function countTokens(text) {
    return tokenize(text).length;
}

/** The number of leading tokens a and b share. */
export function commonPrefix(a, b) {
    const n = Math.min(a.length, b.length);
    let i = 0;
    while (i < n && a[i] === b[i]) i++;
    return i;
}
