#!/usr/bin/env node
// A fake Ollama server for lca's tests.
//
// It speaks Ollama's wire format as Ollama itself writes it (server/routes.go,
// middleware/openai.go, openai/openai.go): NDJSON streams on /api/*, SSE on the
// OpenAI-compatible /v1/* routes, gin's error bodies and status codes, Go's
// JSON encoding (HTML-safe escapes, RFC 3339 timestamps with nanoseconds).
// Nothing is generated: every reply is a script that tests set over HTTP under
// /_fake/, so a test can decide the tokens, their pace, and how the upstream
// fails (error status, cut connection, hang), and can read back every request
// received and every time a client went away in the middle of a stream.
//
// Usage: node fake-ollama.mjs [--host 127.0.0.1] [--port 0] [--dim 768] [--quiet] [--exit-with-stdin]
// Prints exactly one line "listening <host>:<port>" on stdout once it listens;
// everything else goes to stderr. No dependencies beyond Node's standard library.

import http from 'node:http';
import crypto from 'node:crypto';
import { tokenize as tokenizeText, countTokens, commonPrefix } from './tokens.mjs';

// ---------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
    const opts = { host: '127.0.0.1', port: 0, dim: 768, quiet: false, exitWithStdin: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--host') opts.host = value();
        else if (arg === '--port') opts.port = Number(value());
        else if (arg === '--dim') opts.dim = Number(value());
        else if (arg === '--quiet') opts.quiet = true;
        else if (arg === '--exit-with-stdin') opts.exitWithStdin = true;
        else if (arg === '--help' || arg === '-h') usage(null);
        else usage(`unknown argument ${arg}`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
    if (!Number.isInteger(opts.dim) || opts.dim < 1) usage('bad --dim');
    return opts;
}

function usage(message) {
    if (message) process.stderr.write(`fake-ollama: ${message}\n`);
    process.stderr.write(
        'usage: node fake-ollama.mjs [--host 127.0.0.1] [--port 0] [--dim 768] [--quiet] [--exit-with-stdin]\n' +
        '  --exit-with-stdin  exit when standard input closes (a parent test process died)\n');
    process.exit(message ? 2 : 0);
}

const cli = parseArgs(process.argv.slice(2));

function log(...parts) {
    if (!cli.quiet) process.stderr.write(`fake-ollama: ${parts.join(' ')}\n`);
}

// ---------------------------------------------------------------------------
// Go-compatible encoding

// Go's encoding/json escapes <, >, & and U+2028/2029 inside strings; Ollama's
// lines therefore carry "\u003c|fim_prefix|\u003e", and so do ours.
function goJSON(value) {
    return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g,
        (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// Wall clock with nanosecond digits: Date has milliseconds only, so the
// clock is anchored once and then advanced by the monotonic clock.
const CLOCK_ANCHOR = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
function nowNanos() {
    return CLOCK_ANCHOR + process.hrtime.bigint();
}

// Go's time.Time.MarshalJSON for a UTC time: RFC 3339 with up to nine
// fractional digits, trailing zeros trimmed, "Z" for UTC.
function rfc3339Nano(nanos) {
    const ms = Number(nanos / 1000000n);
    const base = new Date(ms).toISOString().slice(0, 19);
    let frac = (nanos % 1000000000n).toString().padStart(9, '0').replace(/0+$/, '');
    return base + (frac ? '.' + frac : '') + 'Z';
}

const monoNanos = () => process.hrtime.bigint();

// Go's float32 encoding: the shortest decimal that reads back as the same
// float32, exponent form below 1e-6 with at least two exponent digits.
function float32Repr(x) {
    const f = Math.fround(x);
    if (f === 0) return 0;
    for (let p = 1; p <= 9; p++) {
        const s = Number(f.toPrecision(p));
        if (Math.fround(s) === f) return s;
    }
    return f;
}

// JSON.stringify writes 1e-7 where Go writes 1e-07; only the exponent differs.
function goFloatArrayJSON(values) {
    return '[' + values.map((v) => String(v).replace(/e([+-])(\d)$/, 'e$10$2')).join(',') + ']';
}

// ---------------------------------------------------------------------------
// Models

const MODIFIED_AT = '2025-06-01T09:30:12.345678901Z';

const TEMPLATES = {
    qwen2: '{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n' +
        '{{- else if .Messages }}{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}' +
        '<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ else }}{{ .Prompt }}{{ end }}',
    llama: '<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>' +
        '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n' +
        '{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n',
    bert: '{{ .Prompt }}',
};

// The models every fresh fake has. A script may replace them with its own
// list of names (defaults below are inferred from the name) or objects.
const DEFAULT_MODELS = [
    'qwen2.5-coder:1.5b-base',
    'qwen2.5-coder:7b',
    'llama3.2:latest',
    'nomic-embed-text:latest',
];

function describeModel(spec) {
    const given = typeof spec === 'string' ? { name: spec } : { ...spec };
    const name = normaliseName(String(given.name ?? given.model ?? ''));
    const base = name.split(':')[0].split('/').pop();
    const embedding = /embed|bge|minilm|e5/i.test(base);
    const family = embedding ? 'nomic-bert' : /qwen/i.test(base) ? 'qwen2' : 'llama';
    const coder = /coder|code|starcoder|codegemma|codestral|deepseek/i.test(base);
    const capabilities = given.capabilities ??
        (embedding ? ['embedding'] : coder ? ['completion', 'insert'] : ['completion', 'tools']);
    return {
        name,
        size: given.size ?? (embedding ? 274302450 : 986061892),
        digest: given.digest ?? crypto.createHash('sha256').update(name).digest('hex'),
        family: given.family ?? family,
        parameter_size: given.parameter_size ?? (embedding ? '137M' : '1.5B'),
        quantization_level: given.quantization_level ?? (embedding ? 'F16' : 'Q4_K_M'),
        context_length: given.context_length ?? (embedding ? 2048 : 32768),
        // The Modelfile's PARAMETER num_ctx: the window when a request names none.
        num_ctx: Number.isInteger(given.num_ctx) && given.num_ctx > 0 ? given.num_ctx :
            (embedding ? 8192 : null),
        embedding_length: given.embedding_length ?? cli.dim,
        capabilities,
        template: given.template ??
            (embedding ? TEMPLATES.bert : family === 'qwen2' ? TEMPLATES.qwen2 : TEMPLATES.llama),
    };
}

// Ollama's model.ParseName fills in the tag "latest"; names compare case-blind.
function normaliseName(name) {
    if (name === '') return '';
    const lastSlash = name.lastIndexOf('/');
    return name.slice(lastSlash + 1).includes(':') ? name : name + ':latest';
}

// model.Name.String(): host/namespace/model:tag, as capability errors print it.
function fullName(model) {
    const parts = model.name.split('/');
    if (parts.length === 1) return `registry.ollama.ai/library/${model.name}`;
    if (parts.length === 2) return `registry.ollama.ai/${model.name}`;
    return model.name;
}

function findModel(name) {
    if (typeof name !== 'string' || name === '') return null;
    const wanted = normaliseName(name).toLowerCase();
    return state.models.find((m) => m.name.toLowerCase() === wanted) ?? null;
}

function detailsOf(m) {
    return {
        parent_model: '',
        format: 'gguf',
        family: m.family,
        families: [m.family],
        parameter_size: m.parameter_size,
        quantization_level: m.quantization_level,
    };
}

// ---------------------------------------------------------------------------
// Script and recorded state

const DEFAULT_SCRIPT = Object.freeze({
    tokens: ['Hello', ' from', ' the', ' fake', ' Ollama', '.'],
    pace_ms: 0,                 // pause between two tokens
    first_token_delay_ms: 0,    // pause before the first token (after the headers)
    fail: null,                 // null | "cut" | "hang" | "silent" | "error_mid" | "<status>"
    cut_after: 1,               // lines written before "cut" / "error_mid"
    error_message: null,        // overrides the error text of fail modes
    echo_prompt: false,         // reply = the prompt (generate) or last user message (chat)
    echo_field: null,           // reply = this dotted path of the request body, e.g. "messages.0.content"
    echo_json: false,           // reply = the request body as JSON
    replies: [],                // per-request overrides, consumed one per inference request
    models: null,               // replaces the model list when set
    version: '0.12.6',
    embed_dim: null,            // defaults to --dim
    honour_options: true,       // apply num_predict / max_tokens and stop like a model would
    prompt_eval_rate: 0,        // prompt tokens/s: >0 delays the first token by evaluated/rate
    num_parallel: 1,            // OLLAMA_NUM_PARALLEL: KV cache slots per loaded model
    default_num_ctx: 4096,      // OLLAMA_CONTEXT_LENGTH: the window when neither request nor model names one
});

const state = {
    script: { ...DEFAULT_SCRIPT },
    replies: [],
    matched: [],                // scripts for requests whose body contains a marker: {match, script, replies}
    models: DEFAULT_MODELS.map(describeModel),
    requests: [],
    events: [],
    prompts: [],                // what each inference request made the model read (GET /_fake/prompts)
    runners: new Map(),         // model name -> loaded runner {numCtx, window, slots, usedAt}, for /api/ps
    nextId: 1,
};

function resetState() {
    state.script = { ...DEFAULT_SCRIPT };
    state.replies = [];
    state.matched = [];
    state.models = DEFAULT_MODELS.map(describeModel);
    state.requests = [];
    state.events = [];
    state.prompts = [];
    state.runners.clear();
}

function setScript(body) {
    const script = { ...DEFAULT_SCRIPT, ...body };
    if (!Array.isArray(script.tokens) || !script.tokens.every((t) => typeof t === 'string'))
        throw new Error('tokens must be an array of strings');
    for (const key of ['pace_ms', 'first_token_delay_ms', 'cut_after', 'prompt_eval_rate']) {
        if (typeof script[key] !== 'number' || script[key] < 0)
            throw new Error(`${key} must be a number >= 0`);
    }
    for (const key of ['num_parallel', 'default_num_ctx']) {
        if (!Number.isInteger(script[key]) || script[key] < 1)
            throw new Error(`${key} must be an integer >= 1`);
    }
    const fail = script.fail;
    if (fail !== null && !['cut', 'hang', 'silent', 'error_mid'].includes(String(fail)) &&
        !/^[1-5]\d\d$/.test(String(fail)))
        throw new Error('fail must be null, "cut", "hang", "silent", "error_mid" or a status code');
    if (!Array.isArray(script.replies)) throw new Error('replies must be an array');
    if (script.match !== undefined && script.match !== null) {
        if (typeof script.match !== 'string' || script.match === '')
            throw new Error('match must be a non-empty string');
        state.matched = state.matched.filter((m) => m.match !== script.match);
        state.matched.push({ match: script.match, script, replies: script.replies.map((r) => ({ ...r })) });
        return script;
    }
    // Another slot count or default window is another server: its loaded models and caches are gone.
    if (script.num_parallel !== state.script.num_parallel || script.default_num_ctx !== state.script.default_num_ctx ||
        script.models !== null || state.script.models !== null)
        state.runners.clear();
    state.script = script;
    state.replies = script.replies.map((r) => ({ ...r }));
    state.models = (script.models ?? DEFAULT_MODELS).map(describeModel);
    return script;
}

// The script for one request: the most recent match-scoped script whose
// marker occurs in the raw request body, else the global one. Each call
// consumes one queued reply override of that script, if any.
function scriptFor(ctx) {
    let entry = null;
    for (let i = state.matched.length - 1; i >= 0; i--) {
        if (ctx.text.includes(state.matched[i].match)) {
            entry = state.matched[i];
            break;
        }
    }
    const base = entry ? entry.script : state.script;
    const queue = entry ? entry.replies : state.replies;
    const override = queue.length > 0 ? queue.shift() : {};
    return { ...base, ...override };
}

function now() {
    const nanos = nowNanos();
    return { t: Number(nanos) / 1e6, time: rfc3339Nano(nanos) };
}

// The logs keep the most recent entries only, so that a long benchmark run
// against the fake does not grow without bound.
const LOG_LIMIT = 20000;

function pushBounded(list, entry) {
    list.push(entry);
    if (list.length > LOG_LIMIT) list.splice(0, list.length - LOG_LIMIT);
}

function recordEvent(type, fields = {}) {
    const event = { ...now(), type, ...fields };
    pushBounded(state.events, event);
    return event;
}

// ---------------------------------------------------------------------------
// HTTP helpers

function send(res, status, contentType, body) {
    if (res.destroyed) return;
    const buf = Buffer.from(body);
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': buf.length });
    res.end(res.req.method === 'HEAD' ? undefined : buf);
}

// gin's c.JSON: compact, no trailing newline, charset in the content type.
function sendGinJSON(res, status, value) {
    send(res, status, 'application/json; charset=utf-8', goJSON(value));
}

// json.NewEncoder(w).Encode as the OpenAI middleware uses it: trailing newline.
function sendEncoderJSON(res, status, value) {
    send(res, status, 'application/json', goJSON(value) + '\n');
}

function sendOllamaError(res, status, message) {
    sendGinJSON(res, status, { error: message });
}

function openAIErrorBody(status, message) {
    const type = status === 400 ? 'invalid_request_error' :
        status === 404 ? 'not_found_error' : 'api_error';
    return { error: { message, type, param: null, code: null } };
}

function sendOpenAIError(res, status, message) {
    sendEncoderJSON(res, status, openAIErrorBody(status, message));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const yieldTurn = () => new Promise((resolve) => setImmediate(resolve));

// Parses a JSON request body the way gin's ShouldBindJSON reports failures.
function parseBody(text) {
    if (text.trim() === '') return { error: 'missing request body' };
    try {
        return { value: JSON.parse(text) };
    } catch (err) {
        return { error: `invalid character in request body: ${err.message}` };
    }
}

const GO_TYPES = { string: 'string', boolean: 'bool', object: 'map[string]interface {}' };

// Mimics encoding/json's message for a field of the wrong type.
function checkTypes(body, structName, fields) {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
        return `json: cannot unmarshal ${jsonKind(body)} into Go value of type api.${structName}`;
    for (const [field, kind] of Object.entries(fields)) {
        const v = body[field];
        if (v === undefined || v === null) continue;
        const ok = kind === 'array' ? Array.isArray(v) :
            kind === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === kind;
        if (!ok) {
            const goType = kind === 'array' ? '[]api.Message' : GO_TYPES[kind];
            return `json: cannot unmarshal ${jsonKind(v)} into Go struct field ` +
                `${structName}.${field} of type ${goType}`;
        }
    }
    return null;
}

function jsonKind(v) {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    return typeof v === 'boolean' ? 'bool' : typeof v;
}

// ---------------------------------------------------------------------------
// Replies

// Splits text into word-sized tokens, each carrying its leading whitespace,
// so that joining the tokens gives the text back.
function tokenize(text) {
    if (text === '') return [];
    return text.match(/\s*\S+|\s+$/g) ?? [text];
}

function dig(value, path) {
    for (const key of String(path).split('.')) {
        if (value === null || value === undefined) return undefined;
        value = value[key];
    }
    return value;
}

// Decides the tokens of one inference reply: the next queued reply override,
// else the script; echo modes derive the text from the request.
function planReply(ctx, kind, body, prompt, limits) {
    const script = scriptFor(ctx);
    // Echoes read the request as the client sent it, before any OpenAI-to-Ollama conversion.
    const received = ctx.received ?? body;
    let tokens = script.tokens;
    if (script.echo_json) tokens = tokenize(JSON.stringify(received));
    else if (script.echo_field) {
        const v = dig(received, script.echo_field);
        tokens = tokenize(typeof v === 'string' ? v : JSON.stringify(v ?? null));
    } else if (script.echo_prompt) tokens = tokenize(prompt ?? '');

    let doneReason = 'stop';
    if (script.honour_options) {
        const stops = limits.stop;
        if (stops.length > 0) {
            const text = tokens.join('');
            let cut = -1;
            for (const s of stops) {
                if (typeof s !== 'string' || s === '') continue;
                const at = text.indexOf(s);
                if (at >= 0 && (cut < 0 || at < cut)) cut = at;
            }
            if (cut >= 0) {
                const kept = [];
                let used = 0;
                for (const t of tokens) {
                    if (used + t.length <= cut) kept.push(t);
                    else if (used < cut) kept.push(t.slice(0, cut - used));
                    used += t.length;
                }
                tokens = kept;
            }
        }
        const limit = limits.numPredict;
        if (Number.isInteger(limit) && limit > 0 && tokens.length > limit) {
            tokens = tokens.slice(0, limit);
            doneReason = 'length';
        }
    }
    return { script, tokens, doneReason, kind };
}

// The options a model applies to its own output: stop strings and num_predict.
function limitsOf(options) {
    const o = options && typeof options === 'object' ? options : {};
    return { stop: Array.isArray(o.stop) ? o.stop : [], numPredict: o.num_predict };
}

function countPromptTokens(text) {
    return Math.max(1, countTokens(text));
}

// Fake token ids for /api/generate's "context": stable for the same text.
function fakeContext(text) {
    const ids = [];
    for (const word of tokenize(text).slice(0, 4096)) {
        ids.push(parseInt(crypto.createHash('md5').update(word).digest('hex').slice(0, 8), 16) % 151643);
    }
    return ids.length > 0 ? ids : [151643];
}

// ---------------------------------------------------------------------------
// Streaming engine shared by every inference route

// Writes the reply of one request: `format` turns each token into the bytes
// of one line/event, `finish` gives the closing bytes, `errorLine` the bytes of
// a mid-stream error. Every token is its own write; nothing is batched.
async function runStream(ctx, plan, { contentType, format, finish, errorLine }) {
    const { res, id } = ctx;
    const { script, tokens } = plan;
    const fail = script.fail === null ? null : String(script.fail);
    const errorText = script.error_message;

    if (fail === 'silent') {
        recordEvent('silent', { request_id: id, path: ctx.path });
        return; // say nothing; the client has to give up
    }
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    recordEvent('response_start', { request_id: id, path: ctx.path, status: 200 });
    if (fail === 'hang') {
        recordEvent('hang', { request_id: id, path: ctx.path });
        return;
    }
    const delay = script.first_token_delay_ms + (ctx.evalDelayMs ?? 0);
    if (delay > 0) await sleep(delay);
    ctx.firstTokenAt = monoNanos();

    const limit = fail === 'cut' || fail === 'error_mid' ? Math.min(script.cut_after, tokens.length) : tokens.length;
    for (let i = 0; i < limit; i++) {
        if (ctx.closed) return;
        if (i > 0) {
            if (script.pace_ms > 0) await sleep(script.pace_ms);
            else await yieldTurn();
            if (ctx.closed) return;
        }
        res.write(format(tokens[i], i));
        recordEvent('token', { request_id: id, index: i });
    }
    if (ctx.closed) return;
    if (fail === 'cut') {
        await yieldTurn();
        ctx.cutByFake = true;
        recordEvent('cut', { request_id: id, path: ctx.path, after: limit });
        res.socket?.destroy();
        return;
    }
    if (fail === 'error_mid') {
        res.end(errorLine(errorText ?? 'an error was encountered while running the model: fake error'));
        return;
    }
    if (tokens.length > 0) await (script.pace_ms > 0 ? sleep(script.pace_ms) : yieldTurn());
    if (ctx.closed) return;
    res.end(finish());
}

// Handles the fail modes that happen before any output for non-streaming
// replies; returns true when the request is dealt with.
// A non-streaming reply that fails half way is, as in Ollama, a 500 with the error.
async function failBeforeOutput(ctx, plan, sendError, model, stream = true) {
    const fail = plan.script.fail === null ? null : String(plan.script.fail);
    if (fail === null) return false;
    const { res } = ctx;
    if (fail === 'error_mid') {
        if (stream) return false;
        if (!(await waitForReply(ctx, plan))) return true;
        sendError(res, 500, plan.script.error_message ?? 'an error was encountered while running the model: fake error');
        return true;
    }
    if (/^\d+$/.test(fail)) {
        const status = Number(fail);
        if (plan.script.first_token_delay_ms > 0) await sleep(plan.script.first_token_delay_ms);
        sendError(res, status, plan.script.error_message ?? defaultErrorMessage(status, model));
        return true;
    }
    return false;
}

function defaultErrorMessage(status, model) {
    switch (status) {
    case 400: return 'fake: bad request';
    case 404: return `model '${model}' not found`;
    case 429: return 'too many requests';
    case 503: return 'server busy, please try again.  maximum pending requests exceeded';
    default: return 'llama runner process has terminated: exit status 2';
    }
}

// Non-streaming fail modes with no output: cut the connection, hang, or stay silent.
async function failWithoutOutput(ctx, plan, contentType) {
    const fail = String(plan.script.fail);
    const { res, id } = ctx;
    if (fail === 'silent') {
        recordEvent('silent', { request_id: id, path: ctx.path });
        return true;
    }
    if (fail === 'hang') {
        res.writeHead(200, { 'Content-Type': contentType });
        res.flushHeaders();
        recordEvent('hang', { request_id: id, path: ctx.path });
        return true;
    }
    if (fail === 'cut') {
        if (plan.script.first_token_delay_ms > 0) await sleep(plan.script.first_token_delay_ms);
        ctx.cutByFake = true;
        recordEvent('cut', { request_id: id, path: ctx.path, after: 0 });
        res.socket?.destroy();
        return true;
    }
    return false;
}

// Waits out the generation of a non-streaming reply (so latency tests see the
// same total time as when streaming) and reports whether the client is still there.
async function waitForReply(ctx, plan) {
    const { script, tokens } = plan;
    const delay = script.first_token_delay_ms + (ctx.evalDelayMs ?? 0);
    if (delay > 0) await sleep(delay);
    ctx.firstTokenAt = monoNanos();
    if (script.pace_ms > 0 && tokens.length > 1) await sleep(script.pace_ms * (tokens.length - 1));
    return !ctx.closed;
}

function metrics(ctx, promptTokens, evalCount) {
    const end = monoNanos();
    const first = ctx.firstTokenAt ?? end;
    const total = end - ctx.startedAt;
    const load = 1000000n + BigInt(ctx.id % 97) * 1000n; // about a millisecond
    return {
        total_duration: Number(total > load ? total : load + 1n),
        load_duration: Number(load),
        prompt_eval_count: promptTokens,
        prompt_eval_duration: Number(first - ctx.startedAt > 0n ? first - ctx.startedAt : 1000n),
        eval_count: Math.max(evalCount, 1),
        eval_duration: Number(end - first > 0n ? end - first : 1000n),
    };
}

// ---------------------------------------------------------------------------
// The window and the KV cache, as Ollama's runner keeps them
//
// A model is loaded with a window of num_ctx tokens: the request's
// options.num_ctx, else the model's PARAMETER num_ctx, else
// OLLAMA_CONTEXT_LENGTH (default_num_ctx), at least 4; the runner caps it at
// the context length the model was trained with.  A request asking for
// another num_ctx loads the model again, and its cache is gone.
//
// The runner has num_parallel slots (OLLAMA_NUM_PARALLEL), each holding the
// tokens of its last prompt and reply.  A request takes the free slot
// sharing the longest prefix in tokens with its prompt and evaluates only
// what follows that prefix (at least one token): those are the tokens the
// model re-reads.  A prompt longer than the window loses its start after the
// first num_keep tokens (default 4), as the runner does; chat first drops its
// oldest messages, keeping the system messages and the last one, as the
// server does (api.ChatRequest/GenerateRequest "truncate": false refuses).
// Everything is recorded per request for GET /_fake/prompts.

const DEFAULT_NUM_KEEP = 4;
const PROMPT_LOG_LIMIT = 5000;

function numCtxFor(model, options) {
    const o = options && typeof options === 'object' ? options : {};
    const asked = Number.isInteger(o.num_ctx) && o.num_ctx > 0 ? o.num_ctx : null;
    return Math.max(asked ?? model.num_ctx ?? state.script.default_num_ctx, 4);
}

// The loaded runner of a model, loaded (again) when missing or when the
// request's window differs from the loaded one.
function loadRunner(model, options) {
    const numCtx = numCtxFor(model, options);
    let runner = state.runners.get(model.name);
    let reloaded = false;
    if (runner && runner.numCtx !== numCtx) {
        reloaded = true;
        recordEvent('reload', { model: model.name, from_num_ctx: runner.numCtx, num_ctx: numCtx });
        runner = null;
    }
    if (!runner) {
        runner = {
            numCtx,
            window: model.context_length > 0 ? Math.min(numCtx, model.context_length) : numCtx,
            slots: Array.from({ length: state.script.num_parallel }, (_, id) => ({ id, tokens: [], inUse: false })),
            usedAt: Date.now(),
            fresh: { reloaded }, // until the first prompt is read: that prompt paid for the load
        };
        state.runners.set(model.name, runner);
    }
    runner.usedAt = Date.now();
    return runner;
}

function markLoaded(model, options) {
    return loadRunner(model, options);
}

function unload(model) {
    state.runners.delete(model.name);
}

// The text a model reads for a chat, in its family's template.
function renderChat(model, messages) {
    const content = (m) => (typeof m.content === 'string' ? m.content : '');
    if (model.family === 'qwen2') {
        return messages.map((m) => `<|im_start|>${m.role}\n${content(m)}<|im_end|>\n`).join('') +
            '<|im_start|>assistant\n';
    }
    if (model.family === 'nomic-bert') return messages.map(content).join('\n');
    return messages.map((m) => `<|start_header_id|>${m.role}<|end_header_id|>\n\n${content(m)}<|eot_id|>`).join('') +
        '<|start_header_id|>assistant<|end_header_id|>\n\n';
}

// The fill-in-the-middle template of a model that has the insert capability.
function renderInsert(model, prompt, suffix) {
    const base = model.name.toLowerCase();
    if (base.includes('codellama')) return `<PRE> ${prompt} <SUF>${suffix} <MID>`;
    if (base.includes('starcoder')) return `<fim_prefix>${prompt}<fim_suffix>${suffix}<fim_middle>`;
    if (base.includes('deepseek')) return `<\uFF5Cfim\u2581begin\uFF5C>${prompt}<\uFF5Cfim\u2581hole\uFF5C>${suffix}<\uFF5Cfim\u2581end\uFF5C>`;
    if (base.includes('codestral')) return `[SUFFIX]${suffix}[PREFIX]${prompt}`;
    return `<|fim_prefix|>${prompt}<|fim_suffix|>${suffix}<|fim_middle|>`;
}

// Ollama's chatPrompt: the latest messages that fit the window, with the
// system messages before the first one kept; the last message always.
function fitMessages(model, messages, numCtx, truncate) {
    let n = messages.length - 1;
    let system = [];
    for (let i = n; i >= 0; i--) {
        if (i === n) continue;
        system = messages.slice(0, i).filter((m) => m.role === 'system');
        const tokens = countTokens(renderChat(model, system.concat(messages.slice(i))));
        if (truncate && tokens > numCtx) break;
        n = i;
    }
    const kept = system.concat(messages.slice(Math.max(n, 0)));
    return { text: renderChat(model, kept), dropped: messages.length - kept.length };
}

// The runner's cut of a prompt longer than its window: keep num_keep tokens,
// drop what follows them until the rest fits.
function fitWindow(tokens, window, options, truncate) {
    if (tokens.length <= window) return { tokens, dropped: 0 };
    if (truncate === false) return { error: 'the input length exceeds the context length' };
    const o = options && typeof options === 'object' ? options : {};
    let numKeep = Number.isInteger(o.num_keep) ? o.num_keep : DEFAULT_NUM_KEEP;
    if (numKeep < 0) numKeep = tokens.length;
    numKeep = Math.min(numKeep, window - 1);
    const discard = tokens.length - window;
    if (numKeep + discard >= tokens.length) return { error: 'entire prompt removed by truncation' };
    return { tokens: tokens.slice(0, numKeep).concat(tokens.slice(numKeep + discard)), dropped: discard };
}

// Ollama's findLongestCacheSlot: the free slot with the longest common prefix.
function takeSlot(runner, tokens) {
    let best = null;
    let longest = -1;
    for (const slot of runner.slots) {
        if (slot.inUse) continue;
        const shared = commonPrefix(slot.tokens, tokens);
        if (shared > longest) {
            longest = shared;
            best = slot;
        }
    }
    if (!best) return { slot: null, cached: 0 };
    let cached = longest;
    if (cached === tokens.length) cached--; // the last token is always evaluated
    best.inUse = true;
    best.tokens = tokens;
    return { slot: best, cached: Math.max(cached, 0) };
}

// Reads the prompt of one inference request the way the runner would:
// window, truncation, cache slot.  Returns {error} when Ollama refuses it,
// else the record (also kept for /_fake/prompts).  The slot is given back
// when the response ends; a complete reply stays in the slot's cache.
function readPrompt(ctx, model, kind, body, text, droppedMessages) {
    const options = body.options;
    const runner = loadRunner(model, options);
    const loaded = runner.fresh !== null;
    const reloaded = runner.fresh?.reloaded ?? false;
    runner.fresh = null;
    const input = tokenizeText(text);
    const truncate = body.truncate !== false;
    const fit = fitWindow(input, runner.window, options, truncate);
    if (fit.error) return { error: fit.error };
    const { slot, cached } = takeSlot(runner, fit.tokens);
    const stamp = now();
    const record = {
        request_id: ctx.id, t: stamp.t, path: ctx.path, model: model.name, kind,
        num_ctx: runner.numCtx, window: runner.window, slot: slot ? slot.id : null,
        input_tokens: input.length, prompt_tokens: fit.tokens.length,
        cached_tokens: cached, evaluated_tokens: fit.tokens.length - cached,
        truncated: fit.dropped > 0 || droppedMessages > 0, dropped_tokens: fit.dropped,
        dropped_messages: droppedMessages, loaded, reloaded, prompt: text,
    };
    state.prompts.push(record);
    if (state.prompts.length > PROMPT_LOG_LIMIT) state.prompts.splice(0, state.prompts.length - PROMPT_LOG_LIMIT);
    if (record.truncated) {
        recordEvent('truncate', {
            request_id: ctx.id, window: runner.window, input_tokens: input.length,
            dropped_tokens: fit.dropped, dropped_messages: droppedMessages,
        });
        log(`#${ctx.id} prompt of ${input.length} tokens over the window of ${runner.window}: truncated`);
    }
    ctx.evalDelayMs = state.script.prompt_eval_rate > 0 ? (record.evaluated_tokens / state.script.prompt_eval_rate) * 1000 : 0;
    if (slot) {
        ctx.res.on('close', () => {
            slot.inUse = false;
            // The reply's tokens follow the prompt in the cache, but for the
            // last one, which was sampled and never fed back.
            if (ctx.replyText !== undefined && ctx.res.writableFinished)
                slot.tokens = slot.tokens.concat(tokenizeText(ctx.replyText).slice(0, -1));
        });
    }
    return { record };
}

// ---------------------------------------------------------------------------
// Ollama routes

const GENERATE_FIELDS = {
    model: 'string', prompt: 'string', suffix: 'string', system: 'string', template: 'string',
    raw: 'boolean', stream: 'boolean', options: 'object', context: 'array', images: 'array',
};

async function handleGenerate(ctx, body, openai = null) {
    const { res } = ctx;
    const sendError = openai ? sendOpenAIError : sendOllamaError;
    const typeError = checkTypes(body, 'GenerateRequest', GENERATE_FIELDS);
    if (typeError) return sendError(res, 400, typeError);
    const modelName = body.model ?? '';
    const model = findModel(modelName);
    if (!model) return sendError(res, 404, `model '${modelName}' not found`);

    const prompt = body.prompt ?? '';
    const keepAliveZero = body.keep_alive === 0 || body.keep_alive === '0' || body.keep_alive === '0s';
    if (!openai && prompt === '' && keepAliveZero) {
        unload(model);
        return sendGinJSON(res, 200, {
            model: modelName, created_at: now().time, response: '', done: true, done_reason: 'unload',
        });
    }
    if (body.raw && ((body.template ?? '') !== '' || (body.system ?? '') !== '' ||
        (Array.isArray(body.context) && body.context.length > 0)))
        return sendError(res, 400, 'raw mode does not support template, system, or context');
    if (!model.capabilities.includes('completion'))
        return sendError(res, 400, `"${modelName}" does not support generate`);
    if (thinkRequested(body) && !model.capabilities.includes('thinking'))
        return sendError(res, 400, `"${modelName}" does not support thinking`);
    if ((body.suffix ?? '') !== '' && !model.capabilities.includes('insert'))
        return sendError(res, 400, `${fullName(model)} does not support insert`);
    markLoaded(model, body.options);
    if (!openai && prompt === '') {
        return sendGinJSON(res, 200, {
            model: modelName, created_at: now().time, response: '', done: true, done_reason: 'load',
        });
    }

    // What the model reads: the prompt as sent (raw), the model's insert
    // template (suffix), or its chat template around one user message.
    let text = prompt;
    let droppedMessages = 0;
    if (!body.raw) {
        if ((body.suffix ?? '') !== '') text = renderInsert(model, prompt, body.suffix);
        else {
            const messages = (body.system ?? '') !== '' ? [{ role: 'system', content: body.system }] : [];
            messages.push({ role: 'user', content: prompt });
            const fit = fitMessages(model, messages, numCtxFor(model, body.options), body.truncate !== false);
            text = fit.text;
            droppedMessages = fit.dropped;
        }
    }
    const read = readPrompt(ctx, model, 'generate', body, text, droppedMessages);
    if (read.error) return sendError(res, 400, read.error);
    const plan = planReply(ctx, 'generate', body, prompt, limitsOf(body.options));
    ctx.replyText = plan.tokens.join('');
    const promptTokens = read.record.prompt_tokens;
    const stream = openai ? openai.stream : body.stream !== false;
    const contextIds = () => (body.raw ? undefined : fakeContext(prompt + plan.tokens.join('')));

    if (await failBeforeOutput(ctx, plan, sendError, modelName, stream)) return;
    if (openai) return openAICompletion(ctx, plan, openai, modelName, promptTokens);

    const finalObject = (response) => {
        const o = { model: modelName, created_at: now().time, response, done: true, done_reason: plan.doneReason };
        const c = contextIds();
        if (c) o.context = c;
        return Object.assign(o, metrics(ctx, promptTokens, plan.tokens.length));
    };
    if (!stream) {
        if (await failWithoutOutput(ctx, plan, 'application/json; charset=utf-8')) return;
        if (!(await waitForReply(ctx, plan))) return;
        return sendGinJSON(res, 200, finalObject(plan.tokens.join('')));
    }
    await runStream(ctx, plan, {
        contentType: 'application/x-ndjson',
        format: (token) => goJSON({ model: modelName, created_at: now().time, response: token, done: false }) + '\n',
        finish: () => goJSON(finalObject('')) + '\n',
        errorLine: (message) => goJSON({ error: message }) + '\n',
    });
}

const CHAT_FIELDS = {
    model: 'string', messages: 'array', stream: 'boolean', options: 'object', tools: 'array',
};

function thinkRequested(body) {
    return body.think === true || (typeof body.think === 'string' && body.think !== '');
}

function lastUserContent(messages) {
    for (let i = messages.length - 1; i >= 0; i--) {
        if (messages[i]?.role === 'user') return typeof messages[i].content === 'string' ? messages[i].content : '';
    }
    return '';
}

async function handleChat(ctx, body, openai = null) {
    const { res } = ctx;
    const sendError = openai ? sendOpenAIError : sendOllamaError;
    const typeError = checkTypes(body, 'ChatRequest', CHAT_FIELDS);
    if (typeError) return sendError(res, 400, typeError);
    const modelName = body.model ?? '';
    if (modelName === '') return sendError(res, 400, 'model is required');
    const model = findModel(modelName);
    if (!model) return sendError(res, 404, `model '${modelName}' not found`);
    const messages = body.messages ?? [];
    for (const m of messages) {
        if (m === null || typeof m !== 'object' || (m.content !== undefined && m.content !== null &&
            typeof m.content !== 'string'))
            return sendError(res, 400, 'json: cannot unmarshal into Go struct field ChatRequest.messages of type api.Message');
    }
    const keepAliveZero = body.keep_alive === 0 || body.keep_alive === '0' || body.keep_alive === '0s';
    if (!openai && messages.length === 0 && keepAliveZero) {
        unload(model);
        return sendGinJSON(res, 200, {
            model: modelName, created_at: now().time, message: { role: 'assistant', content: '' },
            done: true, done_reason: 'unload',
        });
    }
    if (!model.capabilities.includes('completion'))
        return sendError(res, 400, `"${modelName}" does not support chat`);
    if (thinkRequested(body) && !model.capabilities.includes('thinking'))
        return sendError(res, 400, `"${modelName}" does not support thinking`);
    if (Array.isArray(body.tools) && body.tools.length > 0 && !model.capabilities.includes('tools'))
        return sendError(res, 400, `${fullName(model)} does not support tools`);
    markLoaded(model, body.options);
    if (messages.length === 0) {
        return sendGinJSON(res, 200, {
            model: modelName, created_at: now().time, message: { role: 'assistant', content: '' },
            done: true, done_reason: 'load',
        });
    }

    const fit = fitMessages(model, messages, numCtxFor(model, body.options), body.truncate !== false);
    const read = readPrompt(ctx, model, 'chat', body, fit.text, fit.dropped);
    if (read.error) return sendError(res, 400, read.error);
    const plan = planReply(ctx, 'chat', body, lastUserContent(messages), limitsOf(body.options));
    ctx.replyText = plan.tokens.join('');
    const promptTokens = read.record.prompt_tokens;
    const stream = openai ? openai.stream : body.stream !== false;

    if (await failBeforeOutput(ctx, plan, sendError, modelName, stream)) return;
    if (openai) return openAIChat(ctx, plan, openai, modelName, promptTokens);

    const finalObject = (content) => Object.assign({
        model: modelName, created_at: now().time, message: { role: 'assistant', content },
        done: true, done_reason: plan.doneReason,
    }, metrics(ctx, promptTokens, plan.tokens.length));
    if (!stream) {
        if (await failWithoutOutput(ctx, plan, 'application/json; charset=utf-8')) return;
        if (!(await waitForReply(ctx, plan))) return;
        return sendGinJSON(res, 200, finalObject(plan.tokens.join('')));
    }
    await runStream(ctx, plan, {
        contentType: 'application/x-ndjson',
        format: (token) => goJSON({
            model: modelName, created_at: now().time, message: { role: 'assistant', content: token }, done: false,
        }) + '\n',
        finish: () => goJSON(finalObject('')) + '\n',
        errorLine: (message) => goJSON({ error: message }) + '\n',
    });
}

// A deterministic, code-aware stand-in for an embedding model: signed feature
// hashing of lower-cased words and character trigrams, plus a small
// text-seeded component so that no vector is zero; L2-normalised.
function embedText(text, dim) {
    const v = new Float64Array(dim);
    // Each feature touches four coordinates, so vectors are dense enough to
    // look like a model's while staying similar for similar texts.
    const add = (feature, weight) => {
        const h = crypto.createHash('md5').update(feature).digest();
        for (let k = 0; k < 4; k++) {
            const word = h.readUInt32LE(k * 4);
            v[word % dim] += (word >>> 31 ? 1 : -1) * weight;
        }
    };
    const lower = text.toLowerCase();
    for (const word of lower.match(/[a-z0-9_]+/g) ?? []) add('w:' + word, 1.0);
    const padded = ` ${lower} `;
    for (let i = 0; i + 3 <= padded.length; i++) add('c:' + padded.slice(i, i + 3), 0.5);
    const seed = crypto.createHash('sha256').update(text).digest();
    for (let i = 0; i < 8; i++) v[seed.readUInt16LE(i * 2) % dim] += ((seed[16 + i] / 255) - 0.5) * 0.1;
    return normalise(Array.from(v));
}

function normalise(vec) {
    let sum = 0;
    for (const x of vec) sum += x * x;
    const norm = 1 / Math.max(Math.sqrt(sum), 1e-12);
    return vec.map((x) => float32Repr(x * norm));
}

function embedDim() {
    return state.script.embed_dim ?? cli.dim;
}

function embedAll(inputs, dimensions) {
    return inputs.map((text) => {
        let e = embedText(text, embedDim());
        if (Number.isInteger(dimensions) && dimensions > 0 && dimensions < e.length)
            e = normalise(e.slice(0, dimensions));
        return e;
    });
}

async function handleEmbed(ctx, body, openai = null) {
    const { res } = ctx;
    const sendError = openai ? sendOpenAIError : sendOllamaError;
    const typeError = checkTypes(body, 'EmbedRequest', { model: 'string', options: 'object', truncate: 'boolean' });
    if (typeError) return sendError(res, 400, typeError);
    let inputs = [];
    const input = body.input;
    if (typeof input === 'string') {
        if (input.length > 0) inputs = [input];
    } else if (Array.isArray(input)) {
        if (!input.every((x) => typeof x === 'string')) return sendError(res, 400, 'invalid input type');
        inputs = input;
    } else if (input !== undefined && input !== null) {
        return sendError(res, 400, 'invalid input type');
    }
    const modelName = body.model ?? '';
    const model = findModel(modelName);
    if (!model) return sendError(res, 404, `model '${modelName}' not found`);
    markLoaded(model, body.options);
    const plan = { script: scriptFor(ctx), tokens: [] };
    if (await failBeforeOutput(ctx, plan, sendError, modelName, false)) return;
    if (plan.script.fail !== null && await failWithoutOutput(ctx, plan, 'application/json; charset=utf-8')) return;
    if (!(await waitForReply(ctx, plan))) return;

    const embeddings = embedAll(inputs, body.dimensions);
    const promptTokens = inputs.reduce((n, t) => n + countPromptTokens(t), 0);
    if (openai) return sendOpenAIEmbeddings(res, modelName, embeddings, promptTokens, openai.encodingFormat);
    const m = metrics(ctx, promptTokens, 0);
    const head = goJSON({ model: modelName }).slice(0, -1);
    const tail = goJSON({
        total_duration: m.total_duration, load_duration: m.load_duration, prompt_eval_count: promptTokens,
    }).slice(1);
    const json = `${head},"embeddings":[${embeddings.map(goFloatArrayJSON).join(',')}],${tail}`;
    send(res, 200, 'application/json; charset=utf-8', json);
}

async function handleEmbeddingsLegacy(ctx, body) {
    const { res } = ctx;
    const typeError = checkTypes(body, 'EmbeddingRequest', { model: 'string', prompt: 'string', options: 'object' });
    if (typeError) return sendOllamaError(res, 400, typeError);
    if ((body.model ?? '') === '') return sendOllamaError(res, 400, 'model is required');
    const model = findModel(body.model);
    if (!model) return sendOllamaError(res, 404, `model "${body.model}" not found, try pulling it first`);
    markLoaded(model, body.options);
    const plan = { script: scriptFor(ctx), tokens: [] };
    if (await failBeforeOutput(ctx, plan, sendOllamaError, body.model, false)) return;
    if (plan.script.fail !== null && await failWithoutOutput(ctx, plan, 'application/json; charset=utf-8')) return;
    if (!(await waitForReply(ctx, plan))) return;
    const prompt = body.prompt ?? '';
    const embedding = prompt === '' ? [] : embedAll([prompt])[0];
    send(res, 200, 'application/json; charset=utf-8', `{"embedding":${goFloatArrayJSON(embedding)}}`);
}

function handleTags(ctx) {
    sendGinJSON(ctx.res, 200, {
        models: state.models.map((m) => ({
            name: m.name, model: m.name, modified_at: MODIFIED_AT, size: m.size, digest: m.digest,
            details: detailsOf(m),
        })),
    });
}

function handleShow(ctx, body) {
    const { res } = ctx;
    const typeError = checkTypes(body, 'ShowRequest', { model: 'string', name: 'string', verbose: 'boolean' });
    if (typeError) return sendOllamaError(res, 400, typeError);
    const name = body.model || body.name || '';
    if (name === '') return sendOllamaError(res, 400, 'model is required');
    const m = findModel(name);
    if (!m) return sendOllamaError(res, 404, `model '${name}' not found`);
    const arch = m.family;
    // Ollama prints each Modelfile PARAMETER as "%-30s %s"; num_ctx only when the model sets it.
    const params = [];
    if (m.num_ctx) params.push(['num_ctx', String(m.num_ctx)]);
    if (!m.capabilities.includes('embedding')) params.push(['stop', '"<|endoftext|>"']);
    const parameters = params.map(([k, v]) => `${k.padEnd(30)} ${v}`).join('\n');
    sendGinJSON(res, 200, {
        license: 'Apache License\nVersion 2.0, January 2004',
        modelfile: `# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n` +
            `# FROM ${m.name}\n\nFROM /usr/share/ollama/.ollama/models/blobs/sha256-${m.digest}\n` +
            `TEMPLATE """${m.template}"""\n${params.map(([k, v]) => `PARAMETER ${k} ${v}\n`).join('')}`,
        parameters,
        template: m.template,
        details: detailsOf(m),
        model_info: {
            'general.architecture': arch,
            'general.basename': m.name.split(':')[0],
            'general.file_type': 15,
            'general.parameter_count': 1543714304,
            'general.quantization_version': 2,
            [`${arch}.context_length`]: m.context_length,
            [`${arch}.embedding_length`]: m.embedding_length,
            'tokenizer.ggml.model': 'gpt2',
        },
        capabilities: m.capabilities,
        modified_at: MODIFIED_AT,
    });
}

function handlePs(ctx) {
    const models = [];
    for (const [name, runner] of state.runners) {
        const m = findModel(name);
        if (!m) continue;
        models.push({
            name: m.name, model: m.name, size: m.size + 500000000, digest: m.digest, details: detailsOf(m),
            expires_at: rfc3339Nano(BigInt(runner.usedAt + 5 * 60 * 1000) * 1000000n), size_vram: m.size + 500000000,
            context_length: runner.numCtx,
        });
    }
    models.sort((a, b) => (a.expires_at < b.expires_at ? 1 : -1));
    sendGinJSON(ctx.res, 200, { models });
}

// ---------------------------------------------------------------------------
// OpenAI-compatible routes (Ollama's middleware/openai.go)

function openAIOptions(body, fields) {
    const options = {};
    if (typeof body.stop === 'string') options.stop = [body.stop];
    else if (Array.isArray(body.stop)) options.stop = body.stop.filter((s) => typeof s === 'string');
    if (Number.isInteger(body.max_tokens)) options.num_predict = body.max_tokens;
    options.temperature = body.temperature ?? 1.0;
    options.top_p = body.top_p || 1.0;
    for (const f of fields) if (body[f] !== undefined) options[f] = body[f];
    return options;
}

async function handleOpenAIChat(ctx, body) {
    const { res } = ctx;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
        return sendOpenAIError(res, 400, 'json: cannot unmarshal into Go value of type openai.ChatCompletionRequest');
    if (!Array.isArray(body.messages) || body.messages.length === 0)
        return sendOpenAIError(res, 400, "[] is too short - 'messages'");
    const messages = [];
    for (const m of body.messages) {
        if (typeof m?.content === 'string') messages.push({ role: m.role, content: m.content });
        else if (Array.isArray(m?.content)) {
            for (const part of m.content) {
                if (part?.type !== 'text' || typeof part.text !== 'string')
                    return sendOpenAIError(res, 400, 'invalid message format');
                messages.push({ role: m.role, content: part.text });
            }
        } else if (!m?.tool_calls) {
            return sendOpenAIError(res, 400, `invalid message content type: ${m?.content === null ? '<nil>' : typeof m?.content}`);
        }
    }
    const chatBody = {
        model: body.model, messages, stream: body.stream === true,
        options: openAIOptions(body, ['seed', 'frequency_penalty', 'presence_penalty']),
    };
    if (Array.isArray(body.tools)) chatBody.tools = body.tools;
    const openai = {
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        id: `chatcmpl-${Math.floor(Math.random() * 999)}`,
        created: Math.floor(Date.now() / 1000),
    };
    ctx.upstreamBody = chatBody;
    return handleChat(ctx, chatBody, openai);
}

async function openAIChat(ctx, plan, openai, modelName, promptTokens) {
    const { res } = ctx;
    const usage = () => ({
        prompt_tokens: promptTokens, completion_tokens: plan.tokens.length,
        total_tokens: promptTokens + plan.tokens.length,
    });
    const chunk = (content, finishReason) => ({
        id: openai.id, object: 'chat.completion.chunk', created: openai.created, model: modelName,
        system_fingerprint: 'fp_ollama',
        choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: finishReason }],
    });
    if (!openai.stream) {
        if (await failWithoutOutput(ctx, plan, 'application/json')) return;
        if (!(await waitForReply(ctx, plan))) return;
        return sendEncoderJSON(res, 200, {
            id: openai.id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: modelName,
            system_fingerprint: 'fp_ollama',
            choices: [{ index: 0, message: { role: 'assistant', content: plan.tokens.join('') }, finish_reason: plan.doneReason }],
            usage: usage(),
        });
    }
    await runStream(ctx, plan, {
        contentType: 'text/event-stream',
        format: (token) => `data: ${goJSON(chunk(token, null))}\n\n`,
        finish: () => {
            let out = `data: ${goJSON(chunk('', plan.doneReason))}\n\n`;
            if (openai.includeUsage) {
                const c = chunk('', plan.doneReason);
                c.choices = [];
                c.usage = usage();
                out += `data: ${goJSON(c)}\n\n`;
            }
            return out + 'data: [DONE]\n\n';
        },
        // Ollama's middleware decodes {"error":…} as an empty chat response.
        errorLine: () => `data: ${goJSON(chunk('', null))}\n\n`,
    });
}

async function handleOpenAICompletions(ctx, body) {
    const { res } = ctx;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
        return sendOpenAIError(res, 400, 'json: cannot unmarshal into Go value of type openai.CompletionRequest');
    if (body.prompt !== undefined && typeof body.prompt !== 'string')
        return sendOpenAIError(res, 400, `json: cannot unmarshal ${jsonKind(body.prompt)} into Go struct field CompletionRequest.prompt of type string`);
    if (Array.isArray(body.stop) && !body.stop.every((s) => typeof s === 'string'))
        return sendOpenAIError(res, 400, "invalid type for 'stop' field: float64");
    const generateBody = {
        model: body.model, prompt: body.prompt ?? '', suffix: body.suffix ?? '', stream: body.stream === true,
        options: openAIOptions(body, ['seed']),
    };
    generateBody.options.frequency_penalty = body.frequency_penalty ?? 0;
    generateBody.options.presence_penalty = body.presence_penalty ?? 0;
    const openai = {
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        id: `cmpl-${Math.floor(Math.random() * 999)}`,
        created: Math.floor(Date.now() / 1000),
    };
    ctx.upstreamBody = generateBody;
    return handleGenerate(ctx, generateBody, openai);
}

async function openAICompletion(ctx, plan, openai, modelName, promptTokens) {
    const { res } = ctx;
    const usage = () => ({
        prompt_tokens: promptTokens, completion_tokens: plan.tokens.length,
        total_tokens: promptTokens + plan.tokens.length,
    });
    const chunk = (text, finishReason) => {
        const c = {
            id: openai.id, object: 'text_completion', created: openai.created,
            choices: [{ text, index: 0, finish_reason: finishReason }], model: modelName,
            system_fingerprint: 'fp_ollama',
        };
        // Ollama's CompleteWriter puts a zero usage on every chunk when usage is asked for.
        if (openai.includeUsage) c.usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
        return c;
    };
    if (!openai.stream) {
        if (await failWithoutOutput(ctx, plan, 'application/json')) return;
        if (!(await waitForReply(ctx, plan))) return;
        return sendEncoderJSON(res, 200, {
            id: openai.id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: modelName,
            system_fingerprint: 'fp_ollama',
            choices: [{ text: plan.tokens.join(''), index: 0, finish_reason: plan.doneReason }],
            usage: usage(),
        });
    }
    await runStream(ctx, plan, {
        contentType: 'text/event-stream',
        format: (token) => `data: ${goJSON(chunk(token, null))}\n\n`,
        finish: () => {
            let out = `data: ${goJSON(chunk('', plan.doneReason))}\n\n`;
            if (openai.includeUsage) {
                const c = chunk('', plan.doneReason);
                c.choices = [];
                c.usage = usage();
                out += `data: ${goJSON(c)}\n\n`;
            }
            return out + 'data: [DONE]\n\n';
        },
        errorLine: () => `data: ${goJSON(chunk('', null))}\n\n`,
    });
}

async function handleOpenAIEmbeddings(ctx, body) {
    const { res } = ctx;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
        return sendOpenAIError(res, 400, 'json: cannot unmarshal into Go value of type openai.EmbedRequest');
    const format = body.encoding_format ?? '';
    if (format !== '' && !['float', 'base64'].includes(String(format).toLowerCase()))
        return sendOpenAIError(res, 400,
            `Invalid value for 'encoding_format' = ${format}. Supported values: ['float', 'base64'].`);
    let input = body.input;
    if (input === '') input = [''];
    if (input === undefined || input === null || (Array.isArray(input) && input.length === 0))
        return sendOpenAIError(res, 400, 'invalid input');
    return handleEmbed(ctx, { model: body.model, input, dimensions: body.dimensions },
        { encodingFormat: String(format).toLowerCase() });
}

function sendOpenAIEmbeddings(res, modelName, embeddings, promptTokens, encodingFormat) {
    const data = embeddings.map((e, index) => {
        if (encodingFormat === 'base64') {
            const buf = Buffer.alloc(e.length * 4);
            e.forEach((x, i) => buf.writeFloatLE(x, i * 4));
            return `{"object":"embedding","embedding":"${buf.toString('base64')}","index":${index}}`;
        }
        return `{"object":"embedding","embedding":${goFloatArrayJSON(e)},"index":${index}}`;
    });
    const json = `{"object":"list","data":[${data.join(',')}],"model":${goJSON(modelName)},` +
        `"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}\n`;
    send(res, 200, 'application/json', json);
}

function ownedBy(name) {
    const parts = name.split(':')[0].split('/');
    return parts.length >= 2 ? parts[parts.length - 2] : 'library';
}

const MODIFIED_UNIX = Math.floor(Date.parse(MODIFIED_AT) / 1000);

function handleOpenAIModels(ctx) {
    sendEncoderJSON(ctx.res, 200, {
        object: 'list',
        data: state.models.map((m) => ({ id: m.name, object: 'model', created: MODIFIED_UNIX, owned_by: ownedBy(m.name) })),
    });
}

function handleOpenAIModel(ctx, name) {
    const m = findModel(name);
    if (!m) return sendOpenAIError(ctx.res, 404, `model '${name}' not found`);
    sendEncoderJSON(ctx.res, 200, { id: name, object: 'model', created: MODIFIED_UNIX, owned_by: ownedBy(name) });
}

// ---------------------------------------------------------------------------
// Control API under /_fake/

let server;
let listenAddress;

async function handleControl(ctx, text) {
    const { req, res, path } = ctx;
    const json = (status, value) => send(res, status, 'application/json', JSON.stringify(value) + '\n');
    const route = `${req.method} ${path}`;
    switch (route) {
    case 'POST /_fake/script': {
        const parsed = parseBody(text);
        if (parsed.error) return json(400, { error: parsed.error });
        let script;
        try {
            script = setScript(parsed.value ?? {});
        } catch (err) {
            return json(400, { error: err.message });
        }
        log('script set:', JSON.stringify(parsed.value));
        return json(200, script);
    }
    case 'GET /_fake/script':
        return json(200, state.script);
    case 'GET /_fake/requests': {
        // ?match=<marker> keeps the requests whose body contains the marker.
        const match = ctx.query.get('match');
        return json(200, match === null ? state.requests : state.requests.filter((r) => r.body_text.includes(match)));
    }
    case 'GET /_fake/events': {
        // ?match=<marker> keeps the events of requests whose body contains the marker.
        const match = ctx.query.get('match');
        if (match === null) return json(200, state.events);
        const ids = new Set(state.requests.filter((r) => r.body_text.includes(match)).map((r) => r.id));
        return json(200, state.events.filter((e) => ids.has(e.request_id)));
    }
    case 'GET /_fake/prompts': {
        // What each inference request made the model read (see readPrompt).
        // ?match=<marker> keeps the requests whose body contains the marker;
        // ?after=<request id> only later ones; ?text=0 leaves out the prompt texts.
        const match = ctx.query.get('match');
        const after = Number(ctx.query.get('after') ?? 0) || 0;
        let list = state.prompts.filter((p) => p.request_id > after);
        if (match !== null) {
            const ids = new Set(state.requests.filter((r) => r.body_text.includes(match)).map((r) => r.id));
            list = list.filter((p) => ids.has(p.request_id));
        }
        if (ctx.query.get('text') === '0') list = list.map(({ prompt, ...rest }) => rest);
        return json(200, list);
    }
    case 'POST /_fake/reset':
        resetState();
        return json(200, { ok: true });
    case 'POST /_fake/refuse': {
        const parsed = parseBody(text);
        const reopenAfter = parsed.value?.reopen_after_ms;
        res.setHeader('Connection', 'close');
        json(200, { ok: true, reopen_after_ms: reopenAfter ?? null });
        res.on('finish', () => refuse(reopenAfter));
        return;
    }
    default:
        return json(404, { error: `no control route ${route}` });
    }
}

// Stops listening so that new connections are refused, and drops idle
// keep-alive connections so that a client's pooled connection cannot hide it.
// Streams in progress go on. With reopen_after_ms, listens again on the same port.
function refuse(reopenAfterMs) {
    recordEvent('refuse', { reopen_after_ms: reopenAfterMs ?? null });
    log('refusing new connections');
    const reopen = Number.isFinite(reopenAfterMs);
    // Without a reopen the fake has nothing left to do once its last
    // connection ends, so it exits (tests start a new one).
    server.close(() => {
        if (!reopen) {
            log('closed; exiting');
            process.exit(0);
        }
    });
    server.closeIdleConnections?.();
    if (reopen) {
        setTimeout(() => {
            server.listen(listenAddress.port, listenAddress.host, () => {
                recordEvent('reopen', {});
                log(`listening again on ${listenAddress.host}:${listenAddress.port}`);
            });
        }, reopenAfterMs);
    }
}

// ---------------------------------------------------------------------------
// Dispatch

const ROUTES = {
    '/': ['GET', 'HEAD'],
    '/api/version': ['GET', 'HEAD'],
    '/api/tags': ['GET', 'HEAD'],
    '/api/ps': ['GET'],
    '/api/show': ['POST'],
    '/api/generate': ['POST'],
    '/api/chat': ['POST'],
    '/api/embed': ['POST'],
    '/api/embeddings': ['POST'],
    '/v1/chat/completions': ['POST'],
    '/v1/completions': ['POST'],
    '/v1/embeddings': ['POST'],
    '/v1/models': ['GET'],
};

async function dispatch(ctx, text) {
    const { req, res, path } = ctx;
    let modelParam = null;
    let routeKey = path;
    if (path.startsWith('/v1/models/') && path.length > '/v1/models/'.length) {
        modelParam = decodeURIComponent(path.slice('/v1/models/'.length));
        routeKey = '/v1/models/:model';
    }
    const methods = routeKey === '/v1/models/:model' ? ['GET'] : ROUTES[routeKey];
    if (!methods) return send(res, 404, 'text/plain', '404 page not found');
    if (!methods.includes(req.method)) return send(res, 405, 'text/plain', '405 method not allowed');

    const bodyOf = () => {
        const parsed = parseBody(text);
        if (parsed.error) {
            const openai = path.startsWith('/v1/');
            if (openai) sendOpenAIError(res, 400, parsed.error === 'missing request body' ? 'EOF' : parsed.error);
            else sendOllamaError(res, 400, parsed.error);
            return null;
        }
        return parsed.value;
    };
    let body;
    switch (routeKey) {
    case '/':
        return send(res, 200, 'text/plain; charset=utf-8', 'Ollama is running');
    case '/api/version':
        return sendGinJSON(res, 200, { version: state.script.version });
    case '/api/tags':
        return handleTags(ctx);
    case '/api/ps':
        return handlePs(ctx);
    case '/v1/models':
        return handleOpenAIModels(ctx);
    case '/v1/models/:model':
        return handleOpenAIModel(ctx, modelParam);
    }
    if ((body = bodyOf()) === null) return;
    switch (routeKey) {
    case '/api/show': return handleShow(ctx, body);
    case '/api/generate': return handleGenerate(ctx, body);
    case '/api/chat': return handleChat(ctx, body);
    case '/api/embed': return handleEmbed(ctx, body);
    case '/api/embeddings': return handleEmbeddingsLegacy(ctx, body);
    case '/v1/chat/completions': return handleOpenAIChat(ctx, body);
    case '/v1/completions': return handleOpenAICompletions(ctx, body);
    case '/v1/embeddings': return handleOpenAIEmbeddings(ctx, body);
    }
}

function onRequest(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url, 'http://fake');
        const ctx = {
            req, res, text, path: url.pathname, query: url.searchParams, id: 0, closed: false, cutByFake: false,
            startedAt: monoNanos(), firstTokenAt: null,
        };
        if (url.pathname.startsWith('/_fake/')) {
            handleControl(ctx, text).catch((err) => internalError(res, err));
            return;
        }
        ctx.id = state.nextId++;
        let parsed;
        try {
            parsed = text === '' ? null : JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        const stamp = now();
        pushBounded(state.requests, {
            id: ctx.id, t: stamp.t, time: stamp.time, method: req.method, path: url.pathname,
            query: url.search, http_version: req.httpVersion, headers: req.headers,
            raw_headers: req.rawHeaders, body: parsed === undefined ? null : parsed, body_text: text,
        });
        ctx.received = parsed ?? null;
        recordEvent('request', { request_id: ctx.id, method: req.method, path: url.pathname });
        log(`#${ctx.id} ${req.method} ${req.url}`);
        res.on('close', () => {
            ctx.closed = true;
            if (ctx.cutByFake) return;
            if (!res.writableFinished) {
                recordEvent('client_closed', { request_id: ctx.id, path: ctx.path, headers_sent: res.headersSent });
                log(`#${ctx.id} client closed the connection before the response ended`);
            } else {
                recordEvent('response_end', { request_id: ctx.id, path: ctx.path, status: res.statusCode });
            }
        });
        dispatch(ctx, text).catch((err) => internalError(res, err));
    });
}

function internalError(res, err) {
    log('internal error:', err?.stack ?? String(err));
    if (!res.headersSent) sendOllamaError(res, 500, `fake-ollama internal error: ${err?.message ?? err}`);
    else res.destroy();
}

server = http.createServer({ keepAliveTimeout: 120000, requestTimeout: 0 }, onRequest);
server.on('connection', (socket) => socket.setNoDelay(true));
server.keepAliveTimeout = 120000;
server.headersTimeout = 130000;

server.on('error', (err) => {
    process.stderr.write(`fake-ollama: ${err.message}\n`);
    process.exit(1);
});

server.listen(cli.port, cli.host, () => {
    const address = server.address();
    listenAddress = { host: cli.host, port: address.port };
    process.stdout.write(`listening ${cli.host}:${address.port}\n`);
    log(`listening on ${cli.host}:${address.port}`);
});

if (cli.exitWithStdin) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
}

for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
        log(`${signal}, exiting`);
        process.exit(0);
    });
}
