// The fake Ollama's model of what a prompt costs: its approximate
// tokenizer, the KV cache slots that make a repeated prefix free, the window
// (num_ctx) and what happens to a prompt that does not fit it, and the
// record of all this under GET /_fake/prompts.
//
//   node --test tests/fake-ollama/

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFake } from '../clients/harness.mjs';
import { tokenize, countTokens, commonPrefix } from './tokens.mjs';

let fake;

before(async () => {
    fake = await startFake();
});

after(async () => {
    await fake.stop();
});

beforeEach(async () => {
    await fake.control.reset();
});

async function post(path, body) {
    const res = await fetch(`${fake.url}${path}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
}

/** A streamed raw generate; resolves to its final NDJSON line. */
async function generate(prompt, extra = {}) {
    const res = await post('/api/generate', { model: 'qwen2.5-coder:1.5b-base', prompt, raw: true, ...extra });
    assert.equal(res.status, 200, res.text);
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    return lines.at(-1);
}

async function lastPrompt() {
    const all = await fake.control.prompts();
    return all.at(-1);
}

const code = (n, tag = 'x') => Array.from({ length: n }, (_, i) => `def ${tag}_${i}(a, b):\n    return a + b * ${i}\n`).join('');

test('the tokenizer: lossless, one token per special marker, local edits stay local', () => {
    const text = '<|fim_prefix|> def f(x):\n        return x  # ünïcödé 漢字\n<|fim_suffix|><|fim_middle|>';
    assert.equal(tokenize(text).join(''), text);
    assert.ok(tokenize(text).includes('<|fim_prefix|>'));
    assert.ok(tokenize('<PRE> a <SUF>b <MID>').includes('<SUF>'));
    assert.ok(tokenize('<\uFF5Cfim\u2581begin\uFF5C>x').includes('<\uFF5Cfim\u2581begin\uFF5C>'));
    assert.equal(countTokens(''), 0);
    assert.equal(countTokens(' '.repeat(64)), 4, 'a long run of spaces is a few tokens, not one per space');
    const a = tokenize(code(20) + 'value = compute(');
    const b = tokenize(code(20) + 'value = compute(items');
    assert.ok(commonPrefix(a, b) >= a.length - 1, 'typing at the end keeps every earlier token');
    const c = tokenize('# header\n' + code(20));
    assert.ok(commonPrefix(tokenize(code(20)), c) < 3, 'a change at the start changes the start');
});

test('prompt_eval_count counts the whole prompt; the record says what was cached and re-read', async () => {
    const prompt = code(30);
    const n = countTokens(prompt);
    const first = await generate(prompt);
    assert.equal(first.prompt_eval_count, n, 'prompt_eval_count is the prompt in tokens, cache or not (Ollama >= 0.4)');
    const r1 = await lastPrompt();
    assert.deepEqual([r1.prompt_tokens, r1.cached_tokens, r1.evaluated_tokens, r1.slot, r1.loaded], [n, 0, n, 0, true]);

    const again = await generate(prompt);
    assert.equal(again.prompt_eval_count, n);
    const r2 = await lastPrompt();
    assert.deepEqual([r2.cached_tokens, r2.evaluated_tokens, r2.loaded], [n - 1, 1, false],
        'the same prompt again: everything but the last token comes from the cache');

    await generate(prompt + 'result = x_3(');
    const r3 = await lastPrompt();
    assert.equal(r3.cached_tokens, n, 'appended text: the old prompt is the cached prefix');
    assert.equal(r3.evaluated_tokens, countTokens(prompt + 'result = x_3(') - n);

    await generate('# a new first line\n' + prompt);
    const r4 = await lastPrompt();
    assert.ok(r4.cached_tokens <= 1, `a changed start re-reads everything (cached ${r4.cached_tokens})`);
    assert.equal(r4.prompt, '# a new first line\n' + prompt, 'the record keeps the text the model read');
});

test('the reply stays in the cache after the prompt', async () => {
    await fake.control.script({ tokens: [' return', ' a', ' +', ' b'] });
    const prompt = code(10) + 'def add(a, b):\n   ';
    await generate(prompt);
    await generate(prompt + ' return a + b\n\ndef sub(a, b):');
    const r = await lastPrompt();
    assert.ok(r.cached_tokens >= countTokens(prompt + ' return a + b') - 1, `cached ${r.cached_tokens}`);
});

test('one slot per OLLAMA_NUM_PARALLEL: a request takes the free slot sharing the longest prefix', async () => {
    const a = 'slow-a ' + code(20, 'alpha');
    const b = '# beta\n' + code(20, 'beta');
    // Sequential requests for unrelated prompts: every one takes the first
    // free slot (ties go to the lowest), so each evicts the other.
    for (const p of [a, b, a]) await generate(p);
    const one = (await fake.control.prompts()).slice(-3);
    assert.deepEqual(one.map((r) => r.slot), [0, 0, 0]);
    assert.ok(one.every((r) => r.cached_tokens === 0), 'one slot in use at a time: a and b evict each other');

    // Two slots, and b arrives while a still streams: b gets the second
    // slot, and from then on each prompt finds its own.
    await fake.control.reset();
    await fake.control.script({ num_parallel: 2 });
    await fake.control.script({ match: 'slow-a', tokens: ['1', '2', '3'], pace_ms: 150, replies: [{}] });
    const slow = generate(a);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await generate(b);
    await slow;
    await fake.control.script({ match: 'slow-a', tokens: ['1', '2', '3'] });
    await generate(a);
    await generate(b);
    const two = await fake.control.prompts();
    assert.deepEqual(two.map((r) => r.slot), [0, 1, 0, 1]);
    assert.deepEqual(two.slice(2).map((r) => r.evaluated_tokens), [1, 1], 'each prompt found its own slot');
    await fake.control.reset();
});

test('num_ctx: a longer prompt loses its start after num_keep tokens, and the record says so', async () => {
    const prompt = code(40);
    const n = countTokens(prompt);
    assert.ok(n > 300);
    const last = await generate(prompt, { options: { num_ctx: 256 } });
    assert.equal(last.prompt_eval_count, 256);
    const r = await lastPrompt();
    assert.deepEqual([r.num_ctx, r.window, r.input_tokens, r.prompt_tokens, r.truncated, r.dropped_tokens],
        [256, 256, n, 256, true, n - 256]);
    const events = await fake.control.events();
    assert.ok(events.some((e) => e.type === 'truncate' && e.request_id === r.request_id && e.dropped_tokens === n - 256));

    // What stays: the first four tokens and the end (a cached prefix of it is reused).
    const kept = tokenize(prompt);
    await generate(kept.slice(0, 4).concat(kept.slice(n - 252)).join(''), { options: { num_ctx: 256 } });
    const same = await lastPrompt();
    assert.equal(same.truncated, false);
    assert.equal(same.cached_tokens, 255, 'the truncated prompt is what the cache holds');

    const ps = JSON.parse((await fetch(`${fake.url}/api/ps`).then((x) => x.text())));
    assert.equal(ps.models.find((m) => m.name === 'qwen2.5-coder:1.5b-base').context_length, 256);

    const refused = await post('/api/generate', {
        model: 'qwen2.5-coder:1.5b-base', prompt, raw: true, truncate: false, options: { num_ctx: 256 },
    });
    assert.deepEqual([refused.status, JSON.parse(refused.text)], [400, { error: 'the input length exceeds the context length' }]);
});

test('another num_ctx reloads the model: the cache is gone', async () => {
    const prompt = code(20);
    await generate(prompt, { options: { num_ctx: 2048 } });
    await generate(prompt, { options: { num_ctx: 4096 } });
    const r = await lastPrompt();
    assert.deepEqual([r.reloaded, r.cached_tokens, r.num_ctx], [true, 0, 4096]);
    assert.ok((await fake.control.events()).some((e) => e.type === 'reload' && e.from_num_ctx === 2048));
});

test('the window: request, else the model\'s num_ctx, else the default; capped by the trained length', async () => {
    await fake.control.script({
        default_num_ctx: 2048,
        models: [{ name: 'coder-a:7b', num_ctx: 8192 }, { name: 'coder-b:1b', context_length: 1024 }, 'qwen2.5-coder:7b'],
    });
    const show = JSON.parse((await post('/api/show', { model: 'coder-a:7b' })).text);
    assert.match(show.parameters, /^num_ctx {24}8192$/m);
    assert.match(show.modelfile, /^PARAMETER num_ctx 8192$/m);
    assert.equal(show.model_info['llama.context_length'], 32768);
    const plain = JSON.parse((await post('/api/show', { model: 'qwen2.5-coder:7b' })).text);
    assert.doesNotMatch(plain.parameters, /num_ctx/, 'a model without the parameter shows none');
    assert.equal(plain.model_info['qwen2.context_length'], 32768);

    const windows = [];
    for (const [model, options] of [['coder-a:7b', {}], ['coder-a:7b', { num_ctx: 3000 }],
        ['qwen2.5-coder:7b', {}], ['coder-b:1b', {}], ['coder-b:1b', { num_ctx: 512 }]]) {
        assert.equal((await post('/api/generate', { model, prompt: 'x', raw: true, options })).status, 200);
        const r = await lastPrompt();
        windows.push([r.num_ctx, r.window]);
    }
    assert.deepEqual(windows, [[8192, 8192], [3000, 3000], [2048, 2048], [2048, 1024], [512, 512]]);
    const ps = JSON.parse(await fetch(`${fake.url}/api/ps`).then((x) => x.text()));
    assert.deepEqual(ps.models.map((m) => [m.name, m.context_length]).sort(),
        [['coder-a:7b', 3000], ['coder-b:1b', 512], ['qwen2.5-coder:7b', 2048]]);
});

test('chat: the oldest messages go first, the system messages and the last one stay', async () => {
    const messages = [
        { role: 'system', content: 'You are a careful assistant.' },
        { role: 'user', content: code(40, 'first') },
        { role: 'assistant', content: code(4, 'second') },
        { role: 'user', content: 'and now?' },
    ];
    const res = await post('/api/chat', { model: 'qwen2.5-coder:7b', messages, stream: false, options: { num_ctx: 300 } });
    assert.equal(res.status, 200, res.text);
    const r = await lastPrompt();
    assert.equal(r.dropped_messages, 1);
    assert.equal(r.truncated, true);
    assert.equal(r.dropped_tokens, 0, 'what is left fits: the runner cuts nothing');
    assert.ok(r.prompt.startsWith('<|im_start|>system\nYou are a careful assistant.<|im_end|>\n'));
    assert.ok(!r.prompt.includes('first_0') && r.prompt.includes('second_0') && r.prompt.endsWith('<|im_start|>assistant\n'));
    assert.equal(JSON.parse(res.text).prompt_eval_count, r.prompt_tokens);
});

test('templates: suffix fills the model\'s insert template, a plain prompt its chat template', async () => {
    await post('/api/generate', { model: 'qwen2.5-coder:7b', prompt: 'def f(', suffix: '\n    pass', stream: false });
    assert.equal((await lastPrompt()).prompt, '<|fim_prefix|>def f(<|fim_suffix|>\n    pass<|fim_middle|>');
    await post('/api/generate', { model: 'qwen2.5-coder:7b', prompt: 'hi', system: 'be brief', stream: false });
    assert.equal((await lastPrompt()).prompt,
        '<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    await post('/v1/completions', { model: 'qwen2.5-coder:7b', prompt: 'abc' });
    assert.equal((await lastPrompt()).path, '/v1/completions');
});

test('prompt_eval_rate: the first token waits for the tokens re-read, not for the cached ones', async () => {
    await fake.control.script({ prompt_eval_rate: 1000 });
    const prompt = code(25);
    const n = countTokens(prompt);
    const cold = await generate(prompt);
    assert.ok(cold.prompt_eval_duration >= (n / 1000) * 1e9 * 0.9, `cold: ${cold.prompt_eval_duration} ns for ${n} tokens`);
    const warm = await generate(prompt + 'x = 1\n');
    assert.ok(warm.prompt_eval_duration < cold.prompt_eval_duration / 4, `warm: ${warm.prompt_eval_duration} ns`);
});

test('/_fake/prompts filters by marker and by request id, with or without texts', async () => {
    await generate('marker-one ' + code(2));
    await generate('marker-two ' + code(2));
    const all = await fake.control.prompts();
    assert.equal(all.length, 2);
    const one = await fake.control.prompts('marker-one');
    assert.deepEqual(one.map((r) => r.request_id), [all[0].request_id]);
    const later = await fake.control.prompts(null, { after: all[0].request_id, text: false });
    assert.deepEqual(later.map((r) => r.request_id), [all[1].request_id]);
    assert.equal(later[0].prompt, undefined);
});
