// Shared helpers for the client-library tests.
//
// - startFake(): runs tests/fake-ollama/fake-ollama.mjs as a child process on
//   a free port and resolves once it printed its "listening host:port" line.
// - fakeControl(url): the fake's control API (/_fake/*) as functions.
// - target(): where the tests point. LCA_URL is the server under test (the
//   lca gateway, or the fake itself), FAKE_URL the fake's control URL. When
//   FAKE_URL is unset a private fake is started and used for both, so
//   `node --test tests/clients/` works on its own.
// - marker(): a unique string to put into a request. Test files run in
//   parallel against one shared fake, so every test scripts its reply with
//   {match: marker} instead of changing the global script, and finds its own
//   requests and events with ?match=marker.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import crypto from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FAKE_SCRIPT = path.resolve(here, '../fake-ollama/fake-ollama.mjs');

/**
 * Starts a fake Ollama on a free port. Resolves to {url, host, port, child,
 * control, stop}; stop() ends the child and waits for it. Rejects if the
 * child exits or stays silent for `timeoutMs` before listening.
 */
export async function startFake({ args = [], host = '127.0.0.1', timeoutMs = 10000, quiet = true } = {}) {
    // The child exits when its stdin closes, so a test process that dies takes its fake along.
    const argv = [FAKE_SCRIPT, '--host', host, '--port', '0', '--exit-with-stdin', ...(quiet ? ['--quiet'] : []), ...args];
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
        stderr += d;
        if (process.env.FAKE_VERBOSE) process.stderr.write(d);
    });
    const listening = await new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`fake-ollama did not start within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d) => {
            out += d;
            const m = out.match(/^listening (\S+):(\d+)\n/);
            if (m) {
                clearTimeout(timer);
                resolve({ host: m[1], port: Number(m[2]) });
            }
        });
        child.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`fake-ollama exited with ${code} before listening: ${stderr}`));
        });
    });
    const url = `http://${listening.host}:${listening.port}`;
    const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        await once(child, 'exit');
    };
    return { url, ...listening, child, control: fakeControl(url), stop, stderr: () => stderr };
}

async function controlCall(base, method, route, body) {
    const res = await fetch(`${base}/_fake/${route}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`fake control ${method} /_fake/${route}: ${res.status} ${text}`);
    return JSON.parse(text);
}

/** The fake's control API at `base`. */
export function fakeControl(base) {
    const q = (match) => (match ? `?match=${encodeURIComponent(match)}` : '');
    return {
        url: base,
        script: (script) => controlCall(base, 'POST', 'script', script),
        getScript: () => controlCall(base, 'GET', 'script'),
        reset: () => controlCall(base, 'POST', 'reset', {}),
        requests: (match) => controlCall(base, 'GET', `requests${q(match)}`),
        events: (match) => controlCall(base, 'GET', `events${q(match)}`),
        /** What the model read per request: tokens in the prompt, cached, evaluated, truncation. */
        prompts: (match, { after, text } = {}) => {
            const params = new URLSearchParams();
            if (match) params.set('match', match);
            if (after) params.set('after', String(after));
            if (text === false) params.set('text', '0');
            const qs = params.toString();
            return controlCall(base, 'GET', `prompts${qs ? `?${qs}` : ''}`);
        },
        refuse: (options = {}) => controlCall(base, 'POST', 'refuse', options),
    };
}

let sharedTarget = null;

/**
 * Resolves to {lcaUrl, fakeUrl, fake, viaGateway, close}. viaGateway is true
 * when LCA_URL names a server other than the fake (the gateway's own run).
 * close() stops a private fake; it is a no-op for an external one.
 */
export async function target() {
    if (sharedTarget) return sharedTarget;
    const trim = (u) => u?.replace(/\/+$/, '');
    let fakeUrl = trim(process.env.FAKE_URL);
    let lcaUrl = trim(process.env.LCA_URL);
    let own = null;
    if (!fakeUrl) {
        if (lcaUrl) throw new Error('LCA_URL is set but FAKE_URL is not: the tests need the fake to script replies');
        own = await startFake();
        fakeUrl = own.url;
        lcaUrl = own.url;
    }
    if (!lcaUrl) lcaUrl = fakeUrl;
    sharedTarget = {
        lcaUrl,
        fakeUrl,
        fake: fakeControl(fakeUrl),
        viaGateway: lcaUrl !== fakeUrl,
        close: async () => {
            if (own) await own.stop();
        },
    };
    return sharedTarget;
}

/** A unique marker for one test. */
export function marker(label = 't') {
    return `lca-${label}-${crypto.randomBytes(6).toString('hex')}`;
}

/** Polls `probe` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(probe, { timeoutMs = 3000, everyMs = 25 } = {}) {
    const start = Date.now();
    for (;;) {
        const value = await probe();
        if (value) return value;
        if (Date.now() - start > timeoutMs) return value;
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/** Model names the default fake knows; a gateway run may override them. */
export const MODELS = {
    chat: process.env.LCA_CHAT_MODEL ?? 'llama3.2',
    code: process.env.LCA_CODE_MODEL ?? 'qwen2.5-coder:1.5b-base',
    embed: process.env.LCA_EMBED_MODEL ?? 'nomic-embed-text',
};
