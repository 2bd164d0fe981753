// Replays of what the ProxyAI JetBrains plugin sends, and readers that parse
// the answer the way that plugin version does, one test per row of the
// client table in the design (and the details gathered about each client).
//
// ProxyAI had two HTTP stacks: up to 3.7.4 OkHttp through the llm-client
// library (okhttp-sse EventSource, Jackson), from 3.7.5 Koog/Ktor. The
// readers below copy the parts of those stacks that decide whether a reply
// is understood:
// - okhttp-sse fails unless the response media type is text/event-stream;
//   it dispatches an event at each blank line and drops an unterminated one.
// - llm-client's Ollama client rewrites a body whose Content-Type is exactly
//   "application/x-ndjson" into SSE, only once the whole body has arrived,
//   with a strict line reader (an unterminated last line is an error).
// - Custom OpenAI bodies are Jackson's pretty printer output; llm-client
//   bodies are compact Jackson with doubles written as 0.0.
//
// Some rows only the lca gateway can satisfy, because real Ollama answers
// them in a format that plugin cannot read (SSE on /api/chat, OpenAI-shaped
// answers on /api/generate, live SSE on /api/generate). Those tests run only
// when LCA_URL differs from FAKE_URL, i.e. in the gateway's own run; against
// the bare fake they are reported as skipped, not passed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { target, marker, MODELS } from './harness.mjs';

const t = await target();
// PROXYAI_ALL_ROWS=1 runs the gateway-only rows anyway, to watch them fail against the fake.
const GATEWAY_ONLY = t.viaGateway || process.env.PROXYAI_ALL_ROWS ? false :
    'needs the lca gateway (real Ollama cannot answer this row)';
const agent = new http.Agent({ keepAlive: true });

after(async () => {
    agent.destroy();
    await t.close();
});

// ---------------------------------------------------------------------------
// Jackson-compatible JSON

/** A Java double: Jackson writes 0.0, not 0. */
class JavaDouble {
    constructor(value) {
        this.value = value;
    }
}
const dbl = (v) => new JavaDouble(v);

function scalar(v) {
    if (v instanceof JavaDouble) return Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
    return JSON.stringify(v);
}

/** Jackson's compact output (ObjectMapper.writeValueAsString). */
function jacksonCompact(v) {
    if (v instanceof JavaDouble || v === null || typeof v !== 'object') return scalar(v);
    if (Array.isArray(v)) return `[${v.map(jacksonCompact).join(',')}]`;
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jacksonCompact(x)}`).join(',')}}`;
}

/**
 * Jackson's DefaultPrettyPrinter: objects one field a line, indented by two
 * spaces per object level, " : " between name and value; arrays stay on the
 * line ("[ a, b ]", "[ {" … "}, {" … "} ]") and add no indentation level.
 */
function jacksonPretty(v, level = 0) {
    if (v instanceof JavaDouble || v === null || typeof v !== 'object') return scalar(v);
    if (Array.isArray(v)) {
        if (v.length === 0) return '[ ]';
        return `[ ${v.map((x) => jacksonPretty(x, level)).join(', ')} ]`;
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return '{ }';
    const pad = '  '.repeat(level + 1);
    const body = entries.map(([k, x]) => `${pad}${JSON.stringify(k)} : ${jacksonPretty(x, level + 1)}`).join(',\n');
    return `{\n${body}\n${'  '.repeat(level)}}`;
}

test('jacksonPretty writes what Jackson writes', () => {
    assert.equal(jacksonPretty({ a: 1, m: [{ r: 'u', c: 'x' }, { r: 's' }], e: [], s: ['p', 'q'], t: dbl(0) }),
        '{\n  "a" : 1,\n  "m" : [ {\n    "r" : "u",\n    "c" : "x"\n  }, {\n    "r" : "s"\n  } ],\n' +
        '  "e" : [ ],\n  "s" : [ "p", "q" ],\n  "t" : 0.0\n}');
    assert.equal(jacksonCompact({ a: dbl(0), b: [dbl(0.6)] }), '{"a":0.0,"b":[0.6]}');
});

// ---------------------------------------------------------------------------
// HTTP as the plugin's clients send it

const OKHTTP_UA = 'okhttp/4.12.0';

/**
 * Sends a request with exactly the given headers (plus what OkHttp adds on
 * the wire) and collects the response chunks with their arrival times.
 */
function send(url, { method = 'POST', headers = {}, body = null, okhttp = true } = {}) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const payload = body === null ? null : Buffer.from(body, 'utf8');
        const all = { ...headers };
        if (okhttp) {
            all['Connection'] = 'Keep-Alive';
            all['Accept-Encoding'] = 'gzip';
            all['User-Agent'] = OKHTTP_UA;
        }
        if (payload) all['Content-Length'] = String(payload.length);
        const started = performance.now();
        const req = http.request({
            host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: all, agent,
        }, (res) => {
            const chunks = [];
            let stream = res;
            if (res.headers['content-encoding'] === 'gzip') stream = res.pipe(zlib.createGunzip());
            stream.on('data', (c) => chunks.push({ t: performance.now(), data: c }));
            stream.on('end', () => resolve({
                status: res.statusCode, headers: res.headers, chunks, started,
                text: Buffer.concat(chunks.map((c) => c.data)).toString('utf8'),
            }));
            stream.on('error', reject);
        });
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
    });
}

class EventSourceFailure extends Error {
    constructor(message, response) {
        super(message);
        this.response = response;
    }
}

/**
 * okhttp-sse's EventSource over a finished response: returns the events'
 * data with the time each became complete, or throws EventSourceFailure the
 * way onFailure would be called. With `rewriteNdjson`, first applies
 * llm-client's REWRITE_X_NDJSON_CONTENT_INTERCEPTOR (Ollama client only).
 */
function okhttpEventSource(res, { rewriteNdjson = false } = {}) {
    if (res.status < 200 || res.status >= 300) throw new EventSourceFailure(`HTTP ${res.status}: ${res.text}`, res);
    let contentType = res.headers['content-type'] ?? '';
    let chunks = res.chunks;
    if (rewriteNdjson && contentType === 'application/x-ndjson') {
        // The interceptor reads the whole body, then re-emits each line as an SSE event.
        if (res.text !== '' && !res.text.endsWith('\n'))
            throw new EventSourceFailure('EOFException: unterminated last NDJSON line', res);
        const lines = res.text === '' ? [] : res.text.slice(0, -1).split('\n');
        const end = res.chunks.at(-1)?.t ?? res.started;
        chunks = [{ t: end, data: Buffer.from(lines.map((l) => `data: ${l}\n\n`).join('')) }];
        contentType = 'text/event-stream';
    }
    const media = contentType.split(';')[0].trim().toLowerCase();
    if (media !== 'text/event-stream') throw new EventSourceFailure(`Invalid content-type: ${contentType}`, res);

    const events = [];
    let pending = '';
    let data = null;
    for (const chunk of chunks) {
        pending += chunk.data.toString('utf8');
        for (;;) {
            const m = pending.match(/\r\n|\r|\n/);
            if (!m) break;
            if (m[0] === '\r' && m.index === pending.length - 1) break; // maybe half of \r\n
            const line = pending.slice(0, m.index);
            pending = pending.slice(m.index + m[0].length);
            if (line === '') {
                if (data !== null) events.push({ data, t: chunk.t });
                data = null;
                continue;
            }
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? '' : line.slice(colon + 1);
            if (value.startsWith(' ')) value = value.slice(1);
            if (field === 'data') data = data === null ? value : `${data}\n${value}`;
        }
    }
    return events; // an event without its blank line at the end of the body is dropped, as okhttp-sse does
}

/** llm-client's listener loop: ignore [DONE], append each non-null message. */
function collect(events, getMessage) {
    let text = '';
    for (const e of events) {
        if (e.data === '[DONE]') continue;
        const message = getMessage(e.data);
        if (message !== null && message !== undefined) text += message;
    }
    return text;
}

const parseOrNull = (data) => {
    try {
        return JSON.parse(data);
    } catch {
        return null;
    }
};

// OpenAI chat listener: choices[0].delta.content.
const chatDelta = (data) => parseOrNull(data)?.choices?.[0]?.delta?.content ?? null;
// Custom OpenAI completion listener ("parse as chat" off): the first non-null choices[].text.
const completionText = (data) => (parseOrNull(data)?.choices ?? []).map((c) => c?.text).find((x) => x != null) ?? null;
// Ollama listener: the "response" field (Jackson failure -> "").
const ollamaResponse = (data) => {
    const o = parseOrNull(data);
    return o === null ? '' : (o.response ?? null);
};

/** Koog/Ktor NDJSON reading of /api/chat: message.content of each line until done. */
function ktorNdjsonChat(res) {
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text}`);
    let text = '';
    for (const line of res.text.split('\n')) {
        if (line.trim() === '') continue;
        const o = JSON.parse(line);
        if (o.error) throw new Error(o.error);
        text += o.message?.content ?? '';
        if (o.done) return text;
    }
    throw new Error('stream ended without done:true');
}

// ---------------------------------------------------------------------------
// What the plugin puts into requests

const PREFIX = 'def fibonacci(n):\n    if n < 2:\n        return n\n    ';
const SUFFIX = '\n\nprint(fibonacci(10))\n';

/** ProxyAI's CodeQwen2.5 template (the default), without repository context. */
const qwenFim = (prefix, suffix) => `<|fim_prefix|> ${prefix} <|fim_suffix|>${suffix} <|fim_middle|>`;

const QWEN25_STOPS = ['diff --git', 'package ', 'import ', '<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>',
    '<|fim_suffix|>', '<|fim_pad|>', '<|cursor|>', '<|repo_name|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>'];

function chatMessages(m) {
    return [
        { role: 'system', content: `You are an AI programming assistant.\n<project_path>\n/home/dev/project\n</project_path>` },
        { role: 'user', content: `File Path: /home/dev/project/src/util.py\n\`\`\`python\ndef f(): pass\n\`\`\`\n\nExplain f. ${m}` },
    ];
}

/** Headers of a Custom OpenAI service, in the plugin's default order. */
function customOpenAIHeaders() {
    return {
        'Authorization': 'Bearer sk-local',
        'X-LLM-Application-Tag': 'proxyai',
        'Content-Type': 'application/json',
    };
}

const COMPLETION_TOKENS = ['return', ' fibonacci(n', ' - 1)', ' +', ' fibonacci(n - 2)'];
const CHAT_TOKENS = ['`f`', ' does', ' nothing', ':', ' it', ' returns', ' None', '.'];

async function scriptFor(label, tokens, extra = {}) {
    const m = marker(label);
    await t.fake.script({ match: m, tokens, ...extra });
    return m;
}

/** Against the bare fake, the fake must have received the request byte for byte. */
async function assertReceivedAsSent(m, path, headers, body) {
    if (t.viaGateway) return;
    const seen = await t.fake.requests(m);
    assert.equal(seen.length, 1, `one request with ${m}`);
    assert.equal(seen[0].path, path);
    assert.equal(seen[0].body_text, body);
    for (const [k, v] of Object.entries(headers)) assert.equal(seen[0].headers[k.toLowerCase()], v, k);
}

// ---------------------------------------------------------------------------
// ProxyAI "Custom OpenAI" provider, up to 3.7.4 (OkHttp, always read as SSE)

test('Custom OpenAI <=3.7.4, default chat URL /v1/chat/completions: SSE delta.content', async () => {
    const m = await scriptFor('pa-co-chat', CHAT_TOKENS);
    const headers = { ...customOpenAIHeaders(), Accept: 'text/event-stream' };
    const body = jacksonPretty({ stream: true, model: MODELS.chat, messages: chatMessages(m), temperature: dbl(0.1), max_tokens: 1000 });
    const res = await send(`${t.lcaUrl}/v1/chat/completions`, { headers, body });
    assert.equal(collect(okhttpEventSource(res), chatDelta), CHAT_TOKENS.join(''));
    await assertReceivedAsSent(m, '/v1/chat/completions', { 'X-LLM-Application-Tag': 'proxyai', Accept: 'text/event-stream', 'Content-Type': 'application/json' }, body);
});

test('Custom OpenAI <=3.7.4, default completion URL /v1/completions: SSE choices[].text', async () => {
    const m = await scriptFor('pa-co-cmpl', COMPLETION_TOKENS);
    const headers = { ...customOpenAIHeaders(), Accept: 'text/event-stream' };
    const body = jacksonPretty({
        stream: true, prompt: qwenFim(`# ${m}\n${PREFIX}`, SUFFIX), model: MODELS.code, temperature: dbl(0.2), max_tokens: 24,
    });
    const res = await send(`${t.lcaUrl}/v1/completions`, { headers, body });
    assert.equal(collect(okhttpEventSource(res), completionText), COMPLETION_TOKENS.join(''));
    await assertReceivedAsSent(m, '/v1/completions', { 'X-LLM-Application-Tag': 'proxyai' }, body);
});

// The earlier prototype's setup: chat URL …/api/chat, read as OpenAI SSE.
test('Custom OpenAI <=3.7.4, chat URL /api/chat: SSE chat.completion.chunk with delta.content',
    { skip: GATEWAY_ONLY }, async () => {
        const m = await scriptFor('pa-co-apichat', CHAT_TOKENS);
        const headers = { ...customOpenAIHeaders(), Accept: 'text/event-stream' };
        const body = jacksonPretty({ stream: true, model: MODELS.chat, messages: chatMessages(m), temperature: dbl(0.1) });
        const res = await send(`${t.lcaUrl}/api/chat`, { headers, body });
        const events = okhttpEventSource(res);
        assert.equal(collect(events, chatDelta), CHAT_TOKENS.join(''));
        const first = parseOrNull(events[0].data);
        assert.equal(first?.object, 'chat.completion.chunk');
    });

// The earlier prototype's setup: completion URL …/api/generate with stream:false,
// still read as SSE by the old plugin.
test('Custom OpenAI <=3.7.4, completion URL /api/generate, stream:false: SSE choices[].text',
    { skip: GATEWAY_ONLY }, async () => {
        const m = await scriptFor('pa-co-apigen', COMPLETION_TOKENS);
        const headers = { ...customOpenAIHeaders(), Accept: 'text/event-stream' };
        const body = jacksonPretty({
            suffix: SUFFIX, stream: false, model: MODELS.code, temperature: dbl(0.2), prompt: `# ${m}\n${PREFIX}`, max_tokens: 24,
        });
        const res = await send(`${t.lcaUrl}/api/generate`, { headers, body });
        assert.equal(collect(okhttpEventSource(res), completionText), COMPLETION_TOKENS.join(''));
    });

// ---------------------------------------------------------------------------
// ProxyAI "Custom OpenAI" provider, from 3.7.5 (Ktor; completions forced to stream:false)

test('Custom OpenAI >=3.7.5, completion URL /v1/completions, stream:false: JSON choices[0].text', async () => {
    const m = await scriptFor('pa-co2-cmpl', COMPLETION_TOKENS);
    const headers = { ...customOpenAIHeaders(), Accept: 'application/json' };
    const body = jacksonPretty({
        stream: false, prompt: qwenFim(`# ${m}\n${PREFIX}`, SUFFIX), model: MODELS.code, temperature: dbl(0.2), max_tokens: 24,
    });
    const res = await send(`${t.lcaUrl}/v1/completions`, { headers, body, okhttp: false });
    assert.equal(res.status, 200);
    const o = JSON.parse(res.text);
    assert.equal(o.choices[0].text ?? o.choices[0].message?.content, COMPLETION_TOKENS.join(''));
});

test('Custom OpenAI >=3.7.5, completion URL /api/generate, stream:false: JSON choices[0].text',
    { skip: GATEWAY_ONLY }, async () => {
        const m = await scriptFor('pa-co2-apigen', COMPLETION_TOKENS);
        const headers = { ...customOpenAIHeaders(), Accept: 'application/json' };
        const body = jacksonPretty({
            suffix: SUFFIX, stream: false, model: MODELS.code, temperature: dbl(0.2), prompt: `# ${m}\n${PREFIX}`, max_tokens: 24,
        });
        const res = await send(`${t.lcaUrl}/api/generate`, { headers, body, okhttp: false });
        assert.equal(res.status, 200);
        const o = JSON.parse(res.text);
        assert.equal(o.choices?.[0]?.text ?? o.choices?.[0]?.message?.content, COMPLETION_TOKENS.join(''));
    });

// ---------------------------------------------------------------------------
// ProxyAI "Ollama" provider, up to 3.7.4 (llm-client's OllamaClient and OpenAI client)

const OLLAMA_CLIENT_HEADERS = (accept) => ({
    'Cache-Control': 'no-cache',
    // OkHttp replaces the builder's "application/json" with the body's media type.
    'Content-Type': 'application/json; charset=utf-8',
    Accept: accept,
});

test('Ollama provider, "Refresh models": GET /api/tags, reads models[].name', async () => {
    const res = await send(`${t.lcaUrl}/api/tags`, {
        method: 'GET', headers: { 'Cache-Control': 'no-cache', 'Content-Type': 'application/json', Accept: 'text/json' },
    });
    assert.equal(res.status, 200);
    const names = JSON.parse(res.text).models.map((x) => x.name);
    assert.ok(names.length > 0);
    if (!t.viaGateway) assert.ok(names.includes('qwen2.5-coder:1.5b-base'));
});

test('Ollama provider <=3.7.4, chat on /v1/chat/completions: SSE delta.content', async () => {
    const m = await scriptFor('pa-ol-chat', CHAT_TOKENS);
    const headers = {
        'X-LLM-Application-Tag': 'proxyai', Accept: 'text/event-stream', 'Content-Type': 'application/json; charset=utf-8',
    };
    const body = jacksonCompact({
        model: MODELS.chat, messages: chatMessages(m), max_tokens: 1000, temperature: dbl(0.1),
        frequency_penalty: dbl(0), presence_penalty: dbl(0.6), stream: true,
    });
    const res = await send(`${t.lcaUrl}/v1/chat/completions`, { headers, body });
    assert.equal(collect(okhttpEventSource(res), chatDelta), CHAT_TOKENS.join(''));
    await assertReceivedAsSent(m, '/v1/chat/completions', { 'X-LLM-Application-Tag': 'proxyai' }, body);
});

function ollamaCompletionBody(m, stream) {
    return jacksonCompact({
        model: MODELS.code,
        prompt: qwenFim(`# ${m}\n${PREFIX}`, SUFFIX),
        stream,
        options: { stop: ['\n\n', ...QWEN25_STOPS], num_predict: 128, temperature: dbl(0.4) },
        raw: true,
    });
}

// Against real Ollama this works through the NDJSON rewrite (the text shows
// up only when the whole body is in); the gateway may answer SSE instead.
test('Ollama provider <=3.7.4, completion on /api/generate (raw FIM, Accept SSE): reads response', async () => {
    const m = await scriptFor('pa-ol-gen', COMPLETION_TOKENS);
    const headers = OLLAMA_CLIENT_HEADERS('text/event-stream');
    const body = ollamaCompletionBody(m, true);
    const res = await send(`${t.lcaUrl}/api/generate`, { headers, body });
    const ct = res.headers['content-type'];
    assert.ok(ct === 'application/x-ndjson' || ct.startsWith('text/event-stream'),
        `Content-Type must be exactly application/x-ndjson or SSE, got ${ct}`);
    assert.equal(collect(okhttpEventSource(res, { rewriteNdjson: true }), ollamaResponse), COMPLETION_TOKENS.join(''));
    await assertReceivedAsSent(m, '/api/generate', { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' }, body);
});

test('Ollama provider <=3.7.4, completion on /api/generate with Accept SSE streams live as SSE',
    { skip: GATEWAY_ONLY }, async () => {
        const pace = 60;
        const m = await scriptFor('pa-ol-live', COMPLETION_TOKENS, { pace_ms: pace });
        const res = await send(`${t.lcaUrl}/api/generate`, {
            headers: OLLAMA_CLIENT_HEADERS('text/event-stream'), body: ollamaCompletionBody(m, true),
        });
        assert.match(res.headers['content-type'], /^text\/event-stream/);
        const events = okhttpEventSource(res).filter((e) => ollamaResponse(e.data));
        assert.equal(collect(events, ollamaResponse), COMPLETION_TOKENS.join(''));
        // Every event carries both fields, so an OpenAI-style reader finds its text too.
        assert.equal(collect(events, completionText), COMPLETION_TOKENS.join(''));
        const spread = events.at(-1).t - events[0].t;
        assert.ok(spread >= pace * (COMPLETION_TOKENS.length - 1) * 0.5, `events arrived within ${spread.toFixed(0)} ms: buffered`);
    });

// Every FIM template ProxyAI offers, sent the way the Ollama provider sends
// code completions. The model must still get a prompt of that family: the
// prefix and suffix intact and the template's closing token last (the
// gateway may add repository context in front, nothing after).
const FIM_TEMPLATES = [
    ['OpenAI', (p, s) => `<|fim_prefix|> ${p} <|fim_suffix|>${s} <|fim_middle|>`, [], '<|fim_middle|>'],
    ['CodeQwen2.5', qwenFim, QWEN25_STOPS, '<|fim_middle|>'],
    ['CodeGemma', (p, s) => `<|fim_prefix|>${p}<|fim_suffix|>${s}<|fim_middle|>`,
        ['<|file_separator|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<eos>'], '<|fim_middle|>'],
    ['CodeQwen1.5', (p, s) => `<fim_prefix>${p}<fim_suffix>${s}<fim_middle>`, ['<|endoftext|>'], '<fim_middle>'],
    ['Stability', (p, s) => `<fim_prefix>${p}<fim_suffix>${s}<fim_middle>`, ['<|endoftext|>'], '<fim_middle>'],
    ['StarCoder2', (p, s) => `<fim_prefix>${p} <fim_suffix> ${s}<fim_middle>`, ['<|endoftext|>'], '<fim_middle>'],
    ['Code Llama', (p, s) => `<PRE> ${p} <SUF>${s} <MID>`, ['<EOT>'], '<MID>'],
    ['DeepSeek Coder', (p, s) => `<\uff5cfim\u2581begin\uff5c>${p}<\uff5cfim\u2581hole\uff5c>${s}<\uff5cfim\u2581end\uff5c>`,
        ['<|EOT|>'], '<\uff5cfim\u2581end\uff5c>'],
    ['Codestral', (p, s) => `[SUFFIX]${s}[PREFIX]${p}[MIDDLE]`, ['</s>'], '[MIDDLE]'],
];

for (const [label, build, stops, closing] of FIM_TEMPLATES) {
    test(`Ollama provider <=3.7.4, FIM template ${label}: reads response; the model gets a ${label} prompt`, async () => {
        const m = await scriptFor('pa-fim', COMPLETION_TOKENS);
        const prefix = `# ${m}\n${PREFIX}`;
        const body = jacksonCompact({
            model: MODELS.code, prompt: build(prefix, SUFFIX), stream: true,
            options: { stop: ['\n\n', ...stops], num_predict: 128, temperature: dbl(0.4) }, raw: true,
        });
        const res = await send(`${t.lcaUrl}/api/generate`, { headers: OLLAMA_CLIENT_HEADERS('text/event-stream'), body });
        assert.equal(collect(okhttpEventSource(res, { rewriteNdjson: true }), ollamaResponse), COMPLETION_TOKENS.join(''));
        const [seen] = await t.fake.requests(m);
        assert.ok(seen, 'the model was asked');
        const prompt = seen.body.prompt;
        assert.equal(typeof prompt, 'string');
        assert.ok(prompt.includes(PREFIX) && prompt.includes(m), 'prefix intact');
        assert.ok(prompt.includes(SUFFIX.trim()), 'suffix intact');
        assert.ok(prompt.trimEnd().endsWith(closing), `ends with ${closing}`);
        if (!t.viaGateway) assert.equal(seen.body_text, body);
    });
}

// ---------------------------------------------------------------------------
// ProxyAI "Ollama" provider, from 3.7.5 (Koog/Ktor)

test('Ollama provider >=3.7.5, chat on /api/chat: NDJSON message.content', async () => {
    const m = await scriptFor('pa-ol2-chat', CHAT_TOKENS);
    // The optional API key of the Ollama provider travels as a bearer token.
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ollama-key' };
    const body = JSON.stringify({
        model: MODELS.chat, messages: chatMessages(m), stream: true, options: { temperature: 0.1 },
    });
    const res = await send(`${t.lcaUrl}/api/chat`, { headers, body, okhttp: false });
    assert.equal(ktorNdjsonChat(res), CHAT_TOKENS.join(''));
});

test('Ollama provider >=3.7.5, completion on /api/generate, stream:false: JSON response', async () => {
    const m = await scriptFor('pa-ol2-gen', COMPLETION_TOKENS);
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const body = ollamaCompletionBody(m, false);
    const res = await send(`${t.lcaUrl}/api/generate`, { headers, body, okhttp: false });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(JSON.parse(res.text).response, COMPLETION_TOKENS.join(''));
});

// ---------------------------------------------------------------------------
// The reader must behave like okhttp-sse, or the tests above prove nothing.

test('the okhttp-sse reader rejects what ProxyAI rejects', () => {
    const res = (contentType, text, status = 200) => ({
        status, headers: { 'content-type': contentType }, text, started: 0,
        chunks: [{ t: 1, data: Buffer.from(text) }],
    });
    const ndjson = '{"response":"a"}\n{"response":"b","done":true}\n';
    assert.throws(() => okhttpEventSource(res('application/x-ndjson', ndjson)), /Invalid content-type/);
    assert.equal(collect(okhttpEventSource(res('application/x-ndjson', ndjson), { rewriteNdjson: true }), ollamaResponse), 'ab');
    // With a charset the interceptor does not rewrite, and the EventSource refuses the body.
    assert.throws(() => okhttpEventSource(res('application/x-ndjson; charset=utf-8', ndjson), { rewriteNdjson: true }),
        /Invalid content-type/);
    assert.throws(() => okhttpEventSource(res('application/x-ndjson', '{"response":"a"}'), { rewriteNdjson: true }), /EOF/);
    assert.throws(() => okhttpEventSource(res('application/json', '{}', 404)), /HTTP 404/);
    const sse = 'data: {"choices":[{"text":"x"}]}\r\n\r\n: comment\n\ndata:{"choices":[{"text":"y"}]}\n\ndata: [DONE]\n\ndata: {"choices":[{"text":"lost"}]}\n';
    assert.equal(collect(okhttpEventSource(res('text/event-stream; charset=utf-8', sse)), completionText), 'xy');
});
