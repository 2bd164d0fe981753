// The official ollama-js client against LCA_URL (the gateway, or the fake
// itself when LCA_URL equals FAKE_URL). Replies are scripted on the fake.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { target, marker, waitFor, MODELS } from './harness.mjs';

let t;
let ollama;

before(async () => {
    t = await target();
    ollama = new Ollama({ host: t.lcaUrl });
});

after(async () => {
    await t.close();
});

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

function assertFinalStats(last) {
    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    for (const key of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration',
        'eval_count', 'eval_duration']) {
        assert.ok(Number.isInteger(last[key]) && last[key] > 0, `${key} = ${last[key]}`);
    }
}

test('chat, streaming: text equals the script, one part per token, final stats', async () => {
    const m = marker('chat-stream');
    const tokens = ['The', ' answer', ' is', ' 42', '.'];
    await t.fake.script({ match: m, tokens });
    const stream = await ollama.chat({
        model: MODELS.chat, stream: true, messages: [{ role: 'user', content: `What is it? ${m}` }],
    });
    const parts = [];
    for await (const part of stream) parts.push(part);
    const last = parts.at(-1);
    const text = parts.map((p) => p.message.content).join('');
    assert.equal(text, tokens.join(''));
    assert.deepEqual(parts.slice(0, -1).map((p) => p.message.content), tokens);
    for (const p of parts) {
        assert.equal(p.message.role, 'assistant');
        assert.match(p.created_at, RFC3339_NANO);
        assert.equal(p.model, MODELS.chat);
    }
    assert.equal(last.message.content, '');
    assertFinalStats(last);
    assert.equal(last.eval_count, tokens.length);
});

test('chat, not streaming: one object with the whole text', async () => {
    const m = marker('chat');
    const tokens = ['Short', ' reply', ' here'];
    await t.fake.script({ match: m, tokens });
    const res = await ollama.chat({ model: MODELS.chat, messages: [{ role: 'user', content: `Hi ${m}` }] });
    assert.equal(res.message.role, 'assistant');
    assert.equal(res.message.content, tokens.join(''));
    assertFinalStats(res);
});

test('generate with suffix, streaming: text equals the script, context in the last line', async () => {
    const m = marker('gen-stream');
    const tokens = ['return', ' a', ' +', ' b', ';'];
    await t.fake.script({ match: m, tokens });
    const stream = await ollama.generate({
        model: MODELS.code, prompt: `// ${m}\nint add(int a, int b) {\n    `, suffix: '\n}\n', stream: true,
        options: { temperature: 0.2, num_predict: 64 },
    });
    const parts = [];
    for await (const part of stream) parts.push(part);
    assert.equal(parts.map((p) => p.response).join(''), tokens.join(''));
    assert.deepEqual(parts.slice(0, -1).map((p) => p.response), tokens);
    const last = parts.at(-1);
    assertFinalStats(last);
    assert.ok(Array.isArray(last.context) && last.context.length > 0, 'context');
    for (const p of parts) assert.match(p.created_at, RFC3339_NANO);
});

test('generate raw, not streaming: whole text, no context', async () => {
    const m = marker('gen-raw');
    const tokens = ['x', ' = ', '1'];
    await t.fake.script({ match: m, tokens });
    const res = await ollama.generate({
        model: MODELS.code, raw: true, prompt: `<|fim_prefix|># ${m}\n<|fim_suffix|>\n<|fim_middle|>`,
    });
    assert.equal(res.response, tokens.join(''));
    assertFinalStats(res);
    assert.equal(res.context, undefined);
});

test('generate honours num_predict and stop like a model', async (ctx) => {
    if (t.viaGateway) ctx.diagnostic('via the gateway: options must reach Ollama unchanged');
    const m = marker('gen-limits');
    await t.fake.script({ match: m, tokens: ['a', ' b', ' c', ' d', ' e'] });
    const limited = await ollama.generate({ model: MODELS.code, prompt: m, options: { num_predict: 2 } });
    assert.equal(limited.response, 'a b');
    assert.equal(limited.done_reason, 'length');
    const stopped = await ollama.generate({ model: MODELS.code, prompt: m, options: { stop: [' d'] } });
    assert.equal(stopped.response, 'a b c');
    assert.equal(stopped.done_reason, 'stop');
});

test('tokens arrive one by one at the scripted pace', async () => {
    const m = marker('pace');
    const tokens = ['one', ' two', ' three', ' four'];
    const pace = 80;
    await t.fake.script({ match: m, tokens, pace_ms: pace });
    const stream = await ollama.generate({ model: MODELS.code, prompt: m, stream: true });
    const arrivals = [];
    for await (const part of stream) if (!part.done) arrivals.push(performance.now());
    assert.equal(arrivals.length, tokens.length);
    for (let i = 1; i < arrivals.length; i++) {
        assert.ok(arrivals[i] - arrivals[i - 1] >= pace * 0.5,
            `gap ${i}: ${(arrivals[i] - arrivals[i - 1]).toFixed(1)} ms, want about ${pace}`);
    }
});

test('aborting a stream closes the upstream connection within 1 s', async () => {
    const m = marker('abort');
    await t.fake.script({ match: m, tokens: Array(50).fill(' tok'), pace_ms: 100 });
    const stream = await ollama.chat({
        model: MODELS.chat, stream: true, messages: [{ role: 'user', content: m }],
    });
    let seen = 0;
    let abortedAt = 0;
    await assert.rejects(async () => {
        for await (const part of stream) {
            if (++seen === 2) {
                abortedAt = Date.now();
                stream.abort();
            }
        }
    }, /abort/i);
    const closed = await waitFor(async () => (await t.fake.events(m)).find((e) => e.type === 'client_closed'),
        { timeoutMs: 2000 });
    assert.ok(closed, 'the fake saw no client_closed event');
    assert.ok(closed.t - abortedAt < 1000, `upstream closed ${closed.t - abortedAt} ms after the abort`);
});

test('a mid-stream error line makes the iterator throw with its message', async () => {
    const m = marker('err-mid');
    await t.fake.script({ match: m, tokens: ['a', 'b', 'c'], fail: 'error_mid', cut_after: 2,
        error_message: 'out of memory' });
    const stream = await ollama.generate({ model: MODELS.code, prompt: m, stream: true });
    const seen = [];
    await assert.rejects(async () => {
        for await (const part of stream) seen.push(part.response);
    }, /out of memory/);
    assert.deepEqual(seen, ['a', 'b']);
});

test('an unknown model is a ResponseError 404 with Ollama\'s message', async () => {
    await assert.rejects(
        ollama.chat({ model: 'no-such-model:1b', messages: [{ role: 'user', content: 'x' }] }),
        (err) => err.name === 'ResponseError' && err.status_code === 404 &&
            err.error === "model 'no-such-model:1b' not found");
});

test('a scripted 500 reaches the client as a ResponseError', async () => {
    const m = marker('500');
    await t.fake.script({ match: m, fail: '500', error_message: 'llama runner process has terminated' });
    await assert.rejects(
        ollama.generate({ model: MODELS.code, prompt: m }),
        (err) => err.status_code === 500 && /llama runner process has terminated/.test(err.error));
});

test('embed: string and array input, fixed dimension, unit length, deterministic', async () => {
    const one = await ollama.embed({ model: MODELS.embed, input: 'function parseHeader(line)' });
    assert.equal(one.model, MODELS.embed);
    assert.equal(one.embeddings.length, 1);
    const many = await ollama.embed({
        model: MODELS.embed, input: ['function parseHeader(line)', 'class TokenBucket {}', 'SELECT 1'],
    });
    assert.equal(many.embeddings.length, 3);
    const dim = one.embeddings[0].length;
    if (!t.viaGateway) assert.equal(dim, 768);
    for (const e of [...one.embeddings, ...many.embeddings]) {
        assert.equal(e.length, dim);
        const norm = Math.sqrt(e.reduce((s, x) => s + x * x, 0));
        assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
    }
    assert.deepEqual(many.embeddings[0], one.embeddings[0]);
    assert.notDeepEqual(many.embeddings[1], many.embeddings[0]);
    assert.ok(one.total_duration > 0 && one.prompt_eval_count > 0);
});

test('legacy embeddings', async () => {
    const res = await ollama.embeddings({ model: MODELS.embed, prompt: 'hello world' });
    assert.ok(Array.isArray(res.embedding) && res.embedding.length > 0);
});

test('list: the models with names and details', async () => {
    const res = await ollama.list();
    assert.ok(res.models.length > 0);
    for (const m of res.models) {
        assert.equal(typeof m.name, 'string');
        assert.equal(typeof m.digest, 'string');
        assert.equal(typeof m.details.family, 'string');
    }
    if (!t.viaGateway) {
        assert.ok(res.models.some((m) => m.name === 'llama3.2:latest'));
        assert.ok(res.models.some((m) => m.name === 'qwen2.5-coder:1.5b-base'));
    }
});

test('show: template, details, capabilities', async () => {
    const res = await ollama.show({ model: MODELS.code });
    assert.equal(typeof res.template, 'string');
    assert.equal(typeof res.modelfile, 'string');
    assert.equal(typeof res.details.family, 'string');
    assert.ok(res.capabilities.includes('completion'));
    assert.ok(res.capabilities.includes('insert'), 'a coder model can fill in the middle');
    await assert.rejects(ollama.show({ model: 'no-such-model' }), (err) => err.status_code === 404);
});

test('version', async () => {
    const v = await ollama.version();
    assert.match(v.version, /^\d+\.\d+\.\d+/);
});

// Not in the design's list of gateway routes, but part of looking exactly like Ollama.
test('ps', async () => {
    const ps = await ollama.ps();
    assert.ok(Array.isArray(ps.models));
});
