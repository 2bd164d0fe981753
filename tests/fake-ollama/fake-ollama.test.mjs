// Self-test of the fake Ollama: its control API, its fail modes and the
// details of Ollama's wire format that the client tests do not look at.
// Each test file run gets a private fake on a free port.
//
//   node --test tests/fake-ollama/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startFake, waitFor } from '../clients/harness.mjs';

let fake;
let base;

before(async () => {
    fake = await startFake({ args: ['--dim', '64'] });
    base = fake.url;
});

after(async () => {
    await fake.stop();
});

/** A raw HTTP exchange: status, headers, and the body as received chunk by chunk. */
function exchange(path, { method = 'POST', body, headers = {}, abortAfterMs } = {}) {
    return new Promise((resolve, reject) => {
        const payload = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        const req = http.request(`${base}${path}`, {
            method, agent: false,
            headers: { ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}), ...headers },
        }, (res) => {
            const chunks = [];
            const started = performance.now();
            res.on('data', (c) => chunks.push({ t: performance.now() - started, text: c.toString('utf8') }));
            const done = (error) => resolve({
                status: res.statusCode, headers: res.headers, chunks, error,
                text: chunks.map((c) => c.text).join(''),
            });
            res.on('end', () => done(null));
            res.on('error', (err) => done(err));
            res.on('aborted', () => done(new Error('aborted')));
        });
        if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
        req.on('error', (err) => (abortAfterMs !== undefined ? resolve({ error: err, status: 0, chunks: [], text: '' }) : reject(err)));
        if (payload) req.write(payload);
        req.end();
    });
}

const lines = (text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

test('default reply, and reset restores it', async () => {
    await fake.control.reset();
    const first = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'x', stream: false } });
    assert.equal(JSON.parse(first.text).response, 'Hello from the fake Ollama.');
    await fake.control.script({ tokens: ['changed'] });
    const second = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'x', stream: false } });
    assert.equal(JSON.parse(second.text).response, 'changed');
    await fake.control.reset();
    const third = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'x', stream: false } });
    assert.equal(JSON.parse(third.text).response, 'Hello from the fake Ollama.');
});

test('NDJSON stream: one write per token at the pace, after the first-token delay', async () => {
    await fake.control.script({ tokens: ['a', 'b', 'c', 'd'], pace_ms: 40, first_token_delay_ms: 120 });
    const res = await exchange('/api/chat', { body: { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] } });
    await fake.control.reset();
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    const tokenChunks = res.chunks.filter((c) => c.text.includes('"done":false'));
    assert.equal(tokenChunks.length, 4, 'each token its own chunk');
    assert.ok(tokenChunks[0].t >= 100, `first token after ${tokenChunks[0].t} ms`);
    for (let i = 1; i < 4; i++) assert.ok(tokenChunks[i].t - tokenChunks[i - 1].t >= 30);
    const parsed = lines(res.text);
    assert.equal(parsed.length, 5);
    assert.deepEqual(parsed.slice(0, 4).map((l) => l.message.content), ['a', 'b', 'c', 'd']);
    assert.deepEqual(Object.keys(parsed[0]), ['model', 'created_at', 'message', 'done']);
    assert.deepEqual(Object.keys(parsed[4]), ['model', 'created_at', 'message', 'done', 'done_reason',
        'total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration']);
    for (const l of parsed) assert.match(l.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.ok(parsed[4].prompt_eval_duration >= 100e6, 'the first-token delay shows as prompt eval time');
});

test('stream:false waits as long as the stream would have taken', async () => {
    await fake.control.script({ tokens: ['a', 'b', 'c'], pace_ms: 50 });
    const started = performance.now();
    const res = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'x', stream: false } });
    await fake.control.reset();
    assert.ok(performance.now() - started >= 90);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    const o = JSON.parse(res.text);
    assert.equal(o.response, 'abc');
    assert.ok(Array.isArray(o.context));
});

test('Go-style escaping of <, > and & in strings', async () => {
    await fake.control.script({ tokens: ['<|fim_middle|> & done'] });
    const res = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'x' } });
    await fake.control.reset();
    assert.ok(res.text.includes('"response":"\\u003c|fim_middle|\\u003e \\u0026 done"'), res.text);
    assert.equal(lines(res.text)[0].response, '<|fim_middle|> & done');
});

test('fail "cut": cut_after lines, then the connection ends without a final line', async () => {
    await fake.control.script({ tokens: ['1', '2', '3', '4'], fail: 'cut', cut_after: 2, match: 'cut-me' });
    const res = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'cut-me' } });
    assert.ok(res.error, 'the client sees the connection break');
    const got = res.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(got.map((l) => l.response), ['1', '2']);
    assert.ok(got.every((l) => l.done === false));
    const events = await fake.control.events('cut-me');
    assert.ok(events.some((e) => e.type === 'cut' && e.after === 2));
    assert.ok(!events.some((e) => e.type === 'client_closed'), 'a cut by the fake is not a client leaving');
});

test('fail "error_mid": lines, then {"error"} with status 200', async () => {
    await fake.control.script({ tokens: ['1', '2', '3'], fail: 'error_mid', cut_after: 1, error_message: 'boom', match: 'mid' });
    const res = await exchange('/api/chat', { body: { model: 'llama3.2', messages: [{ role: 'user', content: 'mid' }] } });
    assert.equal(res.status, 200);
    assert.deepEqual(lines(res.text), [lines(res.text)[0], { error: 'boom' }]);
    assert.equal(lines(res.text)[0].message.content, '1');
    const whole = await exchange('/api/chat', {
        body: { model: 'llama3.2', stream: false, messages: [{ role: 'user', content: 'mid' }] },
    });
    assert.deepEqual([whole.status, JSON.parse(whole.text)], [500, { error: 'boom' }], 'not streaming: a 500');
});

test('fail "<status>": error before output, Ollama and OpenAI shapes', async () => {
    await fake.control.script({ fail: '404', match: 'nf' });
    const ollama = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'nf' } });
    assert.equal(ollama.status, 404);
    assert.deepEqual(JSON.parse(ollama.text), { error: "model 'qwen2.5-coder:7b' not found" });
    await fake.control.script({ fail: '503', match: 'busy' });
    const openai = await exchange('/v1/chat/completions', {
        body: { model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'busy' }] },
    });
    assert.equal(openai.status, 503);
    assert.equal(openai.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(openai.text), {
        error: { message: 'server busy, please try again.  maximum pending requests exceeded', type: 'api_error', param: null, code: null },
    });
});

test('fail "hang": headers, then nothing; the client leaving is recorded', async () => {
    await fake.control.script({ fail: 'hang', match: 'hang-here' });
    const started = Date.now();
    const res = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'hang-here' }, abortAfterMs: 300 });
    assert.equal(res.status, 200, 'headers arrived');
    assert.equal(res.text, '');
    const closed = await waitFor(async () => (await fake.control.events('hang-here')).find((e) => e.type === 'client_closed'));
    assert.ok(closed, 'client_closed recorded');
    assert.ok(closed.t - started >= 250 && closed.t - started < 1500, `closed at +${closed.t - started} ms`);
    assert.equal(closed.headers_sent, true);
});

test('fail "silent": not even headers', async () => {
    await fake.control.script({ fail: 'silent', match: 'quiet' });
    const res = await exchange('/api/chat', {
        body: { model: 'llama3.2', messages: [{ role: 'user', content: 'quiet' }] }, abortAfterMs: 300,
    });
    assert.equal(res.status, 0);
    const closed = await waitFor(async () => (await fake.control.events('quiet')).find((e) => e.type === 'client_closed'));
    assert.equal(closed.headers_sent, false);
});

test('echo modes and the replies queue', async () => {
    await fake.control.script({ match: 'echo-1', echo_prompt: true });
    const gen = await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'say echo-1 back', stream: false } });
    assert.equal(JSON.parse(gen.text).response, 'say echo-1 back');
    const chat = await exchange('/api/chat', {
        body: { model: 'llama3.2', stream: false, messages: [{ role: 'system', content: 'ctx' }, { role: 'user', content: 'q echo-1' }] },
    });
    assert.equal(JSON.parse(chat.text).message.content, 'q echo-1');

    await fake.control.script({ match: 'echo-2', echo_field: 'messages.0.content' });
    const field = await exchange('/api/chat', {
        body: { model: 'llama3.2', stream: false, messages: [{ role: 'system', content: 'the system text' }, { role: 'user', content: 'echo-2' }] },
    });
    assert.equal(JSON.parse(field.text).message.content, 'the system text');

    await fake.control.script({ match: 'echo-3', echo_json: true });
    const body = { model: 'qwen2.5-coder:7b', prompt: 'echo-3', stream: false, options: { num_ctx: 4096 } };
    const json = await exchange('/api/generate', { body });
    assert.deepEqual(JSON.parse(JSON.parse(json.text).response), body);

    await fake.control.script({ match: 'queue', tokens: ['fallback'], replies: [{ tokens: ['first'] }, { tokens: ['second'], fail: '500' }] });
    const ask = () => exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b', prompt: 'queue', stream: false } });
    const r1 = await ask();
    const r2 = await ask();
    const r3 = await ask();
    assert.equal(JSON.parse(r1.text).response, 'first');
    assert.equal(r2.status, 500);
    assert.equal(JSON.parse(r3.text).response, 'fallback');
});

test('the request log: method, path, headers, parsed body, time; filtered by marker', async () => {
    const before = Date.now();
    await exchange('/api/generate', {
        body: { model: 'qwen2.5-coder:7b', prompt: 'logged-1', stream: false }, headers: { 'X-LLM-Application-Tag': 'proxyai' },
    });
    const log = await fake.control.requests('logged-1');
    assert.equal(log.length, 1);
    const r = log[0];
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/api/generate');
    assert.equal(r.headers['x-llm-application-tag'], 'proxyai');
    assert.ok(r.raw_headers.includes('X-LLM-Application-Tag'), 'raw header names keep their case');
    assert.deepEqual(r.body, { model: 'qwen2.5-coder:7b', prompt: 'logged-1', stream: false });
    assert.ok(r.t >= before - 5 && r.t <= Date.now() + 5);
    const all = await fake.control.requests();
    assert.ok(all.length >= 1 && all.every((x) => !x.path.startsWith('/_fake/')), 'control calls are not logged');
});

test('a scripted model list replaces /api/tags, /v1/models and what is found', async () => {
    await fake.control.script({ models: ['mine/coder:3b', { name: 'emb', capabilities: ['embedding'] }] });
    const tags = JSON.parse((await exchange('/api/tags', { method: 'GET' })).text);
    assert.deepEqual(tags.models.map((m) => m.name), ['mine/coder:3b', 'emb:latest']);
    const models = JSON.parse((await exchange('/v1/models', { method: 'GET' })).text);
    assert.deepEqual(models.data.map((m) => [m.id, m.owned_by]), [['mine/coder:3b', 'mine'], ['emb:latest', 'library']]);
    const gone = await exchange('/api/chat', { body: { model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] } });
    assert.equal(gone.status, 404);
    const noChat = await exchange('/api/chat', { body: { model: 'emb', messages: [{ role: 'user', content: 'x' }] } });
    assert.deepEqual([noChat.status, JSON.parse(noChat.text)], [400, { error: '"emb" does not support chat' }]);
    await fake.control.reset();
});

test('validation as Ollama does it', async () => {
    const cases = [
        ['/api/chat', { messages: [] }, 400, 'model is required'],
        ['/api/generate', { prompt: 'x' }, 404, "model '' not found"],
        ['/api/generate', { model: 'qwen2.5-coder:7b', prompt: 'x', raw: true, template: '{{ .Prompt }}' }, 400,
            'raw mode does not support template, system, or context'],
        ['/api/generate', { model: 'qwen2.5-coder:7b', prompt: 'x', raw: true, system: 's' }, 400,
            'raw mode does not support template, system, or context'],
        ['/api/generate', { model: 'llama3.2', prompt: 'x', suffix: 'y' }, 400,
            'registry.ollama.ai/library/llama3.2:latest does not support insert'],
        ['/api/generate', { model: 'qwen2.5-coder:7b', prompt: 7 }, 400,
            'json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type string'],
        ['/api/embed', { model: 'nomic-embed-text', input: [1] }, 400, 'invalid input type'],
        ['/api/chat', { model: 'llama3.2', think: true, messages: [{ role: 'user', content: 'x' }] }, 400,
            '"llama3.2" does not support thinking'],
        ['/api/show', {}, 400, 'model is required'],
        ['/api/show', { model: 'nope' }, 404, "model 'nope' not found"],
    ];
    for (const [path, body, status, error] of cases) {
        const res = await exchange(path, { body });
        assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
        assert.deepEqual(JSON.parse(res.text), { error }, `${path} ${JSON.stringify(body)}`);
    }
    const empty = await exchange('/api/generate', { body: '' });
    assert.deepEqual([empty.status, JSON.parse(empty.text)], [400, { error: 'missing request body' }]);
    const notFound = await exchange('/api/nothing', { method: 'GET' });
    assert.deepEqual([notFound.status, notFound.text], [404, '404 page not found']);
    const wrongMethod = await exchange('/api/generate', { method: 'GET' });
    assert.equal(wrongMethod.status, 405);
    const v1Empty = await exchange('/v1/chat/completions', { body: { model: 'llama3.2', messages: [] } });
    assert.deepEqual(JSON.parse(v1Empty.text).error.message, "[] is too short - 'messages'");
});

test('load and unload requests', async () => {
    const load = JSON.parse((await exchange('/api/generate', { body: { model: 'qwen2.5-coder:7b' } })).text);
    assert.deepEqual([load.done, load.done_reason, load.response], [true, 'load', '']);
    const unload = JSON.parse((await exchange('/api/chat', { body: { model: 'llama3.2', messages: [], keep_alive: 0 } })).text);
    assert.equal(unload.done_reason, 'unload');
    const ps = JSON.parse((await exchange('/api/ps', { method: 'GET' })).text);
    assert.ok(ps.models.some((m) => m.name === 'qwen2.5-coder:7b'));
});

test('root, HEAD and version', async () => {
    const get = await exchange('/', { method: 'GET' });
    assert.deepEqual([get.status, get.text], [200, 'Ollama is running']);
    const head = await exchange('/', { method: 'HEAD' });
    assert.deepEqual([head.status, head.text, head.headers['content-length']], [200, '', '17']);
    await fake.control.script({ version: '0.9.0' });
    assert.deepEqual(JSON.parse((await exchange('/api/version', { method: 'GET' })).text), { version: '0.9.0' });
    await fake.control.reset();
});

test('embeddings: --dim, dimensions, legacy route, OpenAI base64', async () => {
    const e = JSON.parse((await exchange('/api/embed', { body: { model: 'nomic-embed-text', input: 'abc' } })).text);
    assert.equal(e.embeddings[0].length, 64);
    const cut = JSON.parse((await exchange('/api/embed', { body: { model: 'nomic-embed-text', input: ['abc'], dimensions: 8 } })).text);
    assert.equal(cut.embeddings[0].length, 8);
    assert.ok(Math.abs(Math.hypot(...cut.embeddings[0]) - 1) < 1e-5);
    const none = JSON.parse((await exchange('/api/embed', { body: { model: 'nomic-embed-text', input: '' } })).text);
    assert.deepEqual(none.embeddings, []);
    const legacy = JSON.parse((await exchange('/api/embeddings', { body: { model: 'nomic-embed-text', prompt: 'abc' } })).text);
    assert.deepEqual(legacy.embedding, e.embeddings[0]);
    const b64 = JSON.parse((await exchange('/v1/embeddings', { body: { model: 'nomic-embed-text', input: 'abc', encoding_format: 'base64' } })).text);
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    const floats = Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
    floats.forEach((x, i) => assert.ok(Math.abs(x - e.embeddings[0][i]) < 1e-7));
    const similar = JSON.parse((await exchange('/api/embed', {
        body: { model: 'nomic-embed-text', input: ['parse_http_header(line)', 'parse_http_headers(lines)', 'matrix multiply kernel'] },
    })).text).embeddings;
    const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
    assert.ok(dot(similar[0], similar[1]) > dot(similar[0], similar[2]), 'similar code, similar vectors');
});

test('OpenAI SSE: chunk fields in Ollama\'s order, usage chunk, [DONE]', async () => {
    await fake.control.script({ match: 'sse', tokens: ['x', 'y'] });
    const res = await exchange('/v1/completions', {
        body: { model: 'qwen2.5-coder:7b', prompt: 'sse', stream: true, stream_options: { include_usage: true } },
    });
    assert.equal(res.headers['content-type'], 'text/event-stream');
    const events = res.text.split('\n\n').filter(Boolean);
    assert.equal(events.at(-1), 'data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')));
    assert.deepEqual(Object.keys(chunks[0]), ['id', 'object', 'created', 'choices', 'model', 'system_fingerprint', 'usage']);
    assert.deepEqual(chunks.map((c) => c.choices[0]?.text), ['x', 'y', '', undefined]);
    assert.equal(chunks[2].choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks[3].choices, []);
    assert.equal(chunks[3].usage.completion_tokens, 2);
});

test('refuse: new connections are refused, then accepted again after reopen_after_ms', async () => {
    const own = await startFake();
    try {
        const connects = (port) => new Promise((resolve) => {
            const s = net.connect(port, '127.0.0.1');
            s.on('connect', () => { s.destroy(); resolve(true); });
            s.on('error', () => resolve(false));
        });
        assert.equal(await connects(own.port), true);
        await own.control.refuse({ reopen_after_ms: 400 });
        assert.equal(await waitFor(async () => !(await connects(own.port)), { timeoutMs: 1000 }), true, 'refused');
        assert.equal(await waitFor(() => connects(own.port), { timeoutMs: 3000 }), true, 'accepted again');
        const events = await own.control.events();
        assert.deepEqual(events.map((e) => e.type).filter((x) => x === 'refuse' || x === 'reopen'), ['refuse', 'reopen']);
    } finally {
        await own.stop();
    }
});

test('refuse without reopen: the process ends by itself once idle', async () => {
    const own = await startFake();
    await own.control.refuse();
    const code = await new Promise((resolve) => {
        if (own.child.exitCode !== null) resolve(own.child.exitCode);
        own.child.on('exit', (c) => resolve(c));
        setTimeout(() => resolve('still running'), 3000);
    });
    await own.stop();
    assert.equal(code, 0);
});
