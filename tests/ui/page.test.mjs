// The status page in a real browser: Debian's Chromium, headless, driven by
// playwright-core, against the whole stack (gateway with an API key,
// embedder, two retriever shards, generator, the fake Ollama) with a small
// repository indexed.  It enters the key, sees the services, workers and the
// collection, runs a query and opens a chunk's breakdown, then sends a
// completion from outside and watches it appear live in the request list with
// its context.  A screenshot of each view goes to build/ui-screenshots/.
//
// Before the browser, the event stream is read from node as the page reads
// it: a completion's request events arrive in order, started, with its
// context, first token, ended.
//
// CHROMIUM names the browser (default /usr/bin/chromium, Debian's package).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, startStack, until } from './stack.mjs';

const KEY = 'page-test-key';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'build', 'ui-screenshots');
const MODEL = 'qwen2.5-coder:1.5b-base';
// The code before the cursor in a file of the indexed repository: it uses
// tax.compute, which retrieval finds by its structure.
const PREFIX = 'from .services import tax\n\n\ndef price_with_tax(amount):\n    return amount + tax.compute(';

let stack;
let context; // the browser, with its own fresh profile
let profile;

before(async () => {
    // Completion retrieval's 40 ms deadline is for a real keyboard; under the
    // sanitizer build on a loaded machine the page must still have chunks to show.
    stack = await startStack({ key: KEY, env: { LCA_RAG_COMPLETION_MS: '5000' } });
    await stack.seed('tests/fixtures/repo/py', 'shop');
    fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
    if (context) await context.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    if (stack) {
        const code = await stack.stop();
        assert.equal(code, 0, `the gateway exited with ${code}\n${stack.logs()}`);
        stack.cleanup();
    }
});

/** A completion from outside the page, as an IDE sends it. */
async function complete(marker) {
    const res = await fetch(`${stack.url}/api/generate`, {
        method: 'POST',
        headers: stack.auth({ 'Content-Type': 'application/json', 'X-LCA-Path': 'shop/checkout.py' }),
        body: JSON.stringify({ model: MODEL, prompt: `# ${marker}\n${PREFIX}`, suffix: ')\n', stream: true, options: { num_predict: 4 } }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return { context: res.headers.get('x-lca-context'), rid: res.headers.get('x-request-id') };
}

/**
 * Opens /ui/events as the page does; resolves once its hello came, to
 * {events, waitFor(predicate), close()}.
 */
async function openEvents() {
    const abort = new AbortController();
    const res = await fetch(`${stack.url}/ui/events`, { headers: stack.auth(), signal: abort.signal });
    assert.equal(res.status, 200);
    const events = [];
    let waiters = [];
    let failed = null;
    const notify = () => {
        waiters = waiters.filter((w) => !w());
    };
    (async () => {
        let text = '';
        const decoder = new TextDecoder();
        try {
            for await (const bytes of res.body) {
                text += decoder.decode(bytes, { stream: true });
                let at;
                while ((at = text.indexOf('\n\n')) >= 0) {
                    const block = text.slice(0, at);
                    text = text.slice(at + 2);
                    const name = /^event: (.*)$/m.exec(block)?.[1];
                    const data = /^data: (.*)$/m.exec(block)?.[1];
                    if (name) events.push({ name, data: JSON.parse(data) });
                }
                notify();
            }
        } catch (err) {
            failed = err;
        }
        failed = failed || new Error('the event stream ended');
        notify();
    })();
    const waitFor = (predicate, timeoutMs = 20000) =>
        new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no such event in ${JSON.stringify(events)}`)), timeoutMs);
            const check = () => {
                if (predicate(events)) {
                    clearTimeout(timer);
                    resolve(events);
                    return true;
                }
                if (failed && !abort.signal.aborted) {
                    clearTimeout(timer);
                    reject(failed);
                    return true;
                }
                return false;
            };
            if (!check()) waiters.push(check);
        });
    await waitFor((list) => list.some((e) => e.name === 'hello'));
    return { events, waitFor, close: () => abort.abort() };
}

test('the event stream tells a completion from start to end, with its context', async () => {
    const stream = await openEvents();
    const sent = await complete('events-check');
    const rid = sent.rid;
    const events = await stream.waitFor((list) =>
        list.some((e) => e.name === 'request' && e.data.rid === rid && e.data.status) && list.some((e) => e.name === 'status'),
    );
    stream.close();
    assert.equal(events[0].name, 'hello');
    const mine = events.filter((e) => e.name === 'request' && e.data.rid === rid).map((e) => e.data);
    assert.ok(mine.length >= 3, JSON.stringify(mine));
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].version > mine[i - 1].version);
    assert.equal(mine[0].status, 0); // started
    assert.equal(mine[0].route, '/api/generate');
    assert.equal(mine[0].model, MODEL);
    const last = mine[mine.length - 1];
    assert.equal(last.status, 200);
    assert.ok(last.first_token_ms >= 0 && last.duration_ms >= last.first_token_ms);
    assert.ok(last.tokens >= 1);
    assert.ok(last.prompt_tokens > 0);
    assert.equal(last.reread_tokens, null); // unknown until the prompt accounting fills it
    assert.equal(last.context.collection, 'shop');
    assert.ok(last.context.chunks.length > 0);
    // Exactly what X-LCA-Context named, in order.
    const named = last.context.chunks.filter((c, i) => last.context.used[i]).map((c) => `${c.path}:${c.start_line}-${c.end_line}`);
    assert.equal(sent.context, `${named.length} chunks: ${named.join(', ')}`);
    const top = last.context.chunks[0];
    assert.ok(top.breakdown.length > 0 && top.text === undefined);
    const sum = top.breakdown.reduce((s, t) => s + t.value * t.weight, 0);
    assert.ok(Math.abs(sum - top.score) < 1e-3, `${sum} vs ${top.score}`);
    // A status event shows the workers with their hosts.
    const status = events.find((e) => e.name === 'status');
    assert.ok(status, 'a status event');
    assert.ok(status.data.broker.workers.some((w) => w.service === 'generate' && w.host));
    // The chunk's text, on demand.
    const res = await fetch(`${stack.url}/ui/api/chunk?request=${last.id}&index=0`, { headers: stack.auth() });
    assert.equal(res.status, 200);
    const chunk = await res.json();
    assert.equal(chunk.chunk.path, top.path);
    assert.ok(chunk.chunk.text.length > 0);
});

test('the page in Chromium: key, overview, retrieval, a live request', async () => {
    assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM} (deploy/deps.sh installs Debian's chromium)`);
    // A fresh profile of its own, flags that keep Chromium off the network.
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lca-ui-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        viewport: { width: 1180, height: 760 },
        colorScheme: 'light',
    });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
        // A 401 before the key is entered is the page asking for it; anything else is a problem.
        if (msg.type() === 'error' && !/401/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });

    // 1. The key: asked for, kept in the tab, sent with every request.
    await page.goto(`${stack.url}/`);
    await page.locator('#key-view').waitFor({ state: 'visible' });
    await page.fill('#key-input', 'not-the-key');
    await page.click('#key-form button');
    await page.locator('#key-error').filter({ hasText: 'refused' }).waitFor();
    await page.fill('#key-input', KEY);
    await page.click('#key-form button');
    await page.locator('#live.on').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('lca-api-key')), KEY);

    // 2. Overview: services, workers with their hosts, the collection and its spread.
    await page.locator('#overview').waitFor({ state: 'visible' });
    for (const service of ['generate', 'embed', 'retrieve.0', 'retrieve.1'])
        await page.locator(`#services tr[data-service="${service}"]`).waitFor();
    await page.locator('#workers tr[data-service="generate"]').waitFor();
    const host = await page.locator('#workers tr[data-service="generate"] td').nth(1).textContent();
    assert.equal(host, os.hostname());
    const row = page.locator('#collections tr[data-collection="shop"]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'shop');
    assert.ok(Number(cells[2]) >= 5, `files: ${cells[2]}`);
    assert.ok(Number(cells[3]) >= Number(cells[2]), `chunks: ${cells[3]}`);
    assert.match(cells[5], /s ago|min ago/);
    assert.equal(await row.locator('.spread > span').count(), 2);
    await page.screenshot({ path: path.join(SHOTS, 'overview.png') });

    // 3. Try retrieval: the chunks, then one chunk's text and why it ranked.
    await page.click('#nav-retrieval');
    await page.check('input[name=mode][value=prefix]');
    await page.fill('#query-text', PREFIX);
    await page.fill('#query-path', 'shop/checkout.py');
    await page.selectOption('#query-collection', 'shop');
    await page.click('#query-run');
    const first = page.locator('#query-chunks li').first();
    await first.waitFor();
    assert.match(await page.locator('#query-meta').textContent(), /chunk\(s\) from shop/);
    assert.match(await page.locator('#query-chunks').textContent(), /shop\/services\/tax\.py/);
    await page.locator('#query-chunks li', { hasText: 'shop/services/tax.py' }).first().click();
    await page.locator('#chunk-detail').waitFor({ state: 'visible' });
    assert.match(await page.locator('#chunk-text').textContent(), /def compute/);
    const signals = await page.locator('#chunk-breakdown tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.signal));
    assert.ok(signals.length > 0, 'a breakdown');
    assert.ok(signals.some((s) => ['symbol', 'import', 'object', 'fresh', 'imported'].includes(s)), signals.join());
    await page.screenshot({ path: path.join(SHOTS, 'retrieval.png'), fullPage: true });

    // 4. A completion from outside appears live, with the context it got.
    await page.click('#nav-requests');
    await page.locator('#requests').waitFor({ state: 'visible' });
    const before = await page.locator('#request-list tbody tr').count();
    const sent = await complete('live-check');
    const rowLive = page.locator('#request-list tbody tr').first();
    await until(async () => (await page.locator('#request-list tbody tr').count()) > before, 'the request in the list', { timeoutMs: 15000 });
    await rowLive.locator('td.status-ok').waitFor();
    const liveCells = await rowLive.locator('td').allTextContents();
    assert.equal(liveCells[1], '/api/generate');
    assert.equal(liveCells[2], MODEL);
    assert.equal(liveCells[3], '200');
    assert.match(liveCells[4], /^\d+ ms$/);
    assert.match(liveCells[8], /^\d+ chunks?$/);
    assert.equal(await rowLive.getAttribute('data-id').then(Boolean), true);
    assert.equal(await rowLive.locator('td').first().getAttribute('title'), sent.rid);
    await rowLive.click();
    await page.locator('#request-chunks li').first().waitFor();
    const listed = await page.locator('#request-chunks li .where').allTextContents();
    const named = sent.context.replace(/^\d+ chunks?: /, '').split(', ');
    assert.deepEqual(listed.slice(0, named.length), named);
    await page.screenshot({ path: path.join(SHOTS, 'requests.png') });
    await page.locator('#request-chunks li').first().click();
    await page.locator('#chunk-breakdown tbody tr').first().waitFor();
    assert.ok((await page.locator('#chunk-text').textContent()).length > 0);
    await page.screenshot({ path: path.join(SHOTS, 'request-chunk.png'), fullPage: true });

    assert.deepEqual(problems, []);
});
