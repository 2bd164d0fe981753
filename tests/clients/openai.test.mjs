// The official openai-node client against LCA_URL/v1 (the gateway, or the
// fake itself when LCA_URL equals FAKE_URL). Replies are scripted on the fake.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { target, marker, waitFor, MODELS } from './harness.mjs';

let t;
let openai;

before(async () => {
    t = await target();
    // No retries: a retried request would hide a failure and confuse the fake's request log.
    openai = new OpenAI({ baseURL: `${t.lcaUrl}/v1`, apiKey: 'ollama', maxRetries: 0, timeout: 20000 });
});

after(async () => {
    await t.close();
});

test('chat.completions, streaming: text equals the script; chunk shape', async () => {
    const m = marker('oa-chat-stream');
    const tokens = ['Streams', ' are', ' fun', '.'];
    await t.fake.script({ match: m, tokens });
    const stream = await openai.chat.completions.create({
        model: MODELS.chat, stream: true, messages: [{ role: 'user', content: `Say it ${m}` }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, tokens.join(''));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    for (const c of chunks) {
        assert.equal(c.object, 'chat.completion.chunk');
        assert.match(c.id, /^chatcmpl-/);
        assert.equal(c.id, chunks[0].id);
        assert.equal(c.model, MODELS.chat);
        assert.ok(Number.isInteger(c.created));
    }
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    assert.ok(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null));
});

test('chat.completions, streaming with include_usage: a usage chunk with no choices comes last', async () => {
    const m = marker('oa-chat-usage');
    const tokens = ['a', 'b', 'c'];
    await t.fake.script({ match: m, tokens });
    const stream = await openai.chat.completions.create({
        model: MODELS.chat, stream: true, stream_options: { include_usage: true },
        messages: [{ role: 'user', content: m }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, tokens.length);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), tokens.join(''));
});

test('chat.completions, not streaming: message, finish_reason, usage', async () => {
    const m = marker('oa-chat');
    const tokens = ['Plain', ' answer'];
    await t.fake.script({ match: m, tokens });
    const res = await openai.chat.completions.create({
        model: MODELS.chat, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: m }],
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.choices[0].message.content, tokens.join(''));
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.equal(res.usage.completion_tokens, tokens.length);
});

test('chat.completions: max_tokens cuts the reply with finish_reason "length"', async () => {
    const m = marker('oa-length');
    await t.fake.script({ match: m, tokens: ['1', '2', '3', '4'] });
    const res = await openai.chat.completions.create({
        model: MODELS.chat, max_tokens: 2, messages: [{ role: 'user', content: m }],
    });
    assert.equal(res.choices[0].message.content, '12');
    assert.equal(res.choices[0].finish_reason, 'length');
});

test('completions, streaming with suffix: text equals the script', async () => {
    const m = marker('oa-cmpl-stream');
    const tokens = ['    return', ' x', ' * 2'];
    await t.fake.script({ match: m, tokens });
    const stream = await openai.completions.create({
        model: MODELS.code, stream: true, prompt: `# ${m}\ndef double(x):\n`, suffix: '\n\nprint(double(2))\n',
        temperature: 0.2, max_tokens: 64,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), tokens.join(''));
    for (const c of chunks) {
        assert.equal(c.object, 'text_completion');
        assert.match(c.id, /^cmpl-/);
    }
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('completions, streaming with include_usage', async () => {
    const m = marker('oa-cmpl-usage');
    const tokens = ['x', 'y'];
    await t.fake.script({ match: m, tokens });
    const stream = await openai.completions.create({
        model: MODELS.code, stream: true, stream_options: { include_usage: true }, prompt: m,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, tokens.length);
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), tokens.join(''));
});

test('completions, not streaming', async () => {
    const m = marker('oa-cmpl');
    const tokens = ['int', ' main', '()'];
    await t.fake.script({ match: m, tokens });
    const res = await openai.completions.create({ model: MODELS.code, prompt: `/* ${m} */\n` });
    assert.equal(res.object, 'text_completion');
    assert.equal(res.choices[0].text, tokens.join(''));
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.ok(res.usage.prompt_tokens > 0);
});

test('models.list', async () => {
    const ids = [];
    for await (const model of openai.models.list()) {
        assert.equal(model.object, 'model');
        assert.equal(typeof model.owned_by, 'string');
        ids.push(model.id);
    }
    assert.ok(ids.length > 0);
    if (!t.viaGateway) assert.ok(ids.includes('llama3.2:latest'));
});

test('embeddings: base64 (the client default) and float agree', async () => {
    const input = ['const answer = 42;', 'fn main() {}'];
    const viaBase64 = await openai.embeddings.create({ model: MODELS.embed, input });
    const viaFloat = await openai.embeddings.create({ model: MODELS.embed, input, encoding_format: 'float' });
    assert.equal(viaBase64.object, 'list');
    assert.equal(viaBase64.data.length, 2);
    const dim = viaFloat.data[0].embedding.length;
    if (!t.viaGateway) assert.equal(dim, 768);
    for (let i = 0; i < 2; i++) {
        assert.equal(viaBase64.data[i].index, i);
        assert.equal(viaBase64.data[i].embedding.length, dim);
        for (let j = 0; j < dim; j++) {
            assert.ok(Math.abs(viaBase64.data[i].embedding[j] - viaFloat.data[i].embedding[j]) < 1e-6);
        }
    }
    assert.ok(viaFloat.usage.prompt_tokens > 0);
});

test('errors: unknown model is NotFoundError, empty messages is BadRequestError', async () => {
    await assert.rejects(
        openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
        (err) => err instanceof OpenAI.NotFoundError && err.status === 404 && err.error.type === 'not_found_error' &&
            err.error.message === "model 'no-such-model' not found");
    await assert.rejects(
        openai.chat.completions.create({ model: MODELS.chat, messages: [] }),
        (err) => err instanceof OpenAI.BadRequestError && err.error.type === 'invalid_request_error');
});

test('aborting a stream closes the upstream connection within 1 s', async () => {
    const m = marker('oa-abort');
    await t.fake.script({ match: m, tokens: Array(50).fill(' x'), pace_ms: 100 });
    const stream = await openai.chat.completions.create({
        model: MODELS.chat, stream: true, messages: [{ role: 'user', content: m }],
    });
    let seen = 0;
    let abortedAt = 0;
    for await (const chunk of stream) {
        if (++seen === 2) {
            abortedAt = Date.now();
            stream.controller.abort();
            break;
        }
    }
    const closed = await waitFor(async () => (await t.fake.events(m)).find((e) => e.type === 'client_closed'),
        { timeoutMs: 2000 });
    assert.ok(closed, 'the fake saw no client_closed event');
    assert.ok(closed.t - abortedAt < 1000, `upstream closed ${closed.t - abortedAt} ms after the abort`);
});
