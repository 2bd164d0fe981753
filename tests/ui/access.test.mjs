// The status page's access rules and its event stream, over raw HTTP (no
// browser): what GET / answers to whom, which files need no key, that /ui
// answers its own origin only and never sends CORS headers, what the event
// stream starts with, and that it holds at most EVENTS_CLIENTS_MAX streams.
// A gateway alone is enough here: nothing below needs a worker.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack } from './stack.mjs';

const KEY = 'ui-test-key';
let open; // a gateway without an API key
let keyed; // one with LCA_API_KEY

before(async () => {
    [open, keyed] = await Promise.all([startStack({ gatewayOnly: true }), startStack({ gatewayOnly: true, key: KEY })]);
});

after(async () => {
    for (const stack of [open, keyed]) {
        if (!stack) continue;
        const code = await stack.stop();
        // The sanitizer build fails here on a leak, streams were open until the end.
        assert.equal(code, 0, `the gateway exited with ${code}\n${stack.logs()}`);
        stack.cleanup();
    }
});

/** One request with exactly the headers given; resolves to {status, headers, body}. */
function request(stack, path, { method = 'GET', headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: stack.port, path, method, headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(body);
    });
}

/** A browser opening the address (what Chromium sends for a typed URL). */
const NAVIGATION = {
    Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'Upgrade-Insecure-Requests': '1',
    'Sec-Fetch-Site': 'none',
    'Sec-Fetch-Mode': 'navigate',
    'Sec-Fetch-Dest': 'document',
};

function checkSecurityHeaders(res) {
    const csp = res.headers['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/); // no 'unsafe-inline'
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
}

test('GET / stays Ollama for clients and is the page for a browser', async () => {
    for (const headers of [{}, { Accept: '*/*' }, { Accept: 'application/json' },
        // Java's HttpURLConnection default: html first, but no browser's navigation headers.
        { Accept: 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2' }]) {
        const res = await request(open, '/', { headers });
        assert.equal(res.status, 200);
        assert.equal(res.body, 'Ollama is running', JSON.stringify(headers));
        assert.match(res.headers['content-type'], /^text\/plain/);
    }
    const head = await request(open, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const page = await request(open, '/', { headers: NAVIGATION });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.body, /<script src="\/ui\/app.js" defer><\/script>/);
    assert.match(page.headers.vary, /Accept/);
    checkSecurityHeaders(page);
    // Older browsers without fetch metadata still say Upgrade-Insecure-Requests.
    const old = await request(open, '/', { headers: { Accept: 'text/html', 'Upgrade-Insecure-Requests': '1' } });
    assert.match(old.body, /^<!doctype html>/);
});

test('the page, its script and its style sheet are served from the binary', async () => {
    const wanted = {
        '/ui/': /^text\/html; charset=utf-8$/,
        '/ui': /^text\/html; charset=utf-8$/,
        '/ui/app.js': /^text\/javascript; charset=utf-8$/,
        '/ui/style.css': /^text\/css; charset=utf-8$/,
    };
    for (const [path, type] of Object.entries(wanted)) {
        const res = await request(open, path);
        assert.equal(res.status, 200, path);
        assert.match(res.headers['content-type'], type, path);
        assert.ok(res.body.length > 500, path);
        checkSecurityHeaders(res);
    }
    assert.equal((await request(open, '/ui/nope.js')).status, 404);
    assert.equal((await request(open, '/ui/app.js', { method: 'POST', body: '{}' })).status, 405);
    // No inline script or style anywhere: the CSP forbids them.
    const html = (await request(open, '/ui/')).body;
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/);
});

test('with an API key, only the page files are public', async () => {
    for (const path of ['/ui/', '/ui/app.js', '/ui/style.css']) assert.equal((await request(keyed, path)).status, 200, path);
    assert.equal((await request(keyed, '/', { headers: NAVIGATION })).status, 200);
    // Everything with data needs the key, and Ollama's / too, as before.
    for (const path of ['/ui/api/state', '/ui/api/chunk?request=1&index=0', '/ui/events', '/']) {
        const res = await request(keyed, path);
        assert.equal(res.status, 401, path);
        assert.match(res.headers['www-authenticate'] || '', /Bearer/);
    }
    assert.equal((await request(keyed, '/ui/api/state', { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    const res = await request(keyed, '/ui/api/state', { headers: { Authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, 200);
    const state = JSON.parse(res.body);
    assert.equal(state.auth, true);
    assert.equal(state.history_max, 64);
    assert.ok(Array.isArray(state.requests));
    assert.ok(state.broker && typeof state.broker.services === 'object');
});

test('/ui answers its own origin only, key or not, and never with CORS', async () => {
    for (const stack of [open, keyed]) {
        const auth = stack.auth();
        const own = `http://127.0.0.1:${stack.port}`;
        const same = await request(stack, '/ui/api/state', { headers: { ...auth, Origin: own, 'Sec-Fetch-Site': 'same-origin' } });
        assert.equal(same.status, 200);
        assert.equal(same.headers['access-control-allow-origin'], undefined);
        // Origins the API itself lets in (local pages, IDE webviews) are refused here.
        for (const origin of ['http://localhost:3000', 'http://127.0.0.1:1', 'vscode-webview://x', 'null']) {
            const res = await request(stack, '/ui/api/state', { headers: { ...auth, Origin: origin } });
            assert.equal(res.status, 403, origin);
            assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
            const events = await request(stack, '/ui/events', { headers: { ...auth, Origin: origin } });
            assert.equal(events.status, 403, origin);
        }
        const preflight = await request(stack, '/ui/api/state', {
            method: 'OPTIONS',
            headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'GET' },
        });
        assert.equal(preflight.status, 403);
        assert.equal(preflight.headers['access-control-allow-origin'], undefined);
        // A browser saying the request comes from another site: refused, but for
        // a navigation to the page (a link to it).
        for (const site of ['cross-site', 'same-site']) {
            const res = await request(stack, '/ui/api/state', { headers: { ...auth, 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'cors' } });
            assert.equal(res.status, 403, site);
            const script = await request(stack, '/ui/app.js', { headers: { 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'no-cors' } });
            assert.equal(script.status, 403, site);
        }
        const link = await request(stack, '/ui/', { headers: { ...NAVIGATION, 'Sec-Fetch-Site': 'cross-site' } });
        assert.equal(link.status, 200);
    }
    // The API keeps its own rules: an allowed local origin still gets CORS there.
    const api = await request(open, '/api/chat', {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(api.status, 204);
    assert.equal(api.headers['access-control-allow-origin'], 'http://localhost:3000');
});

/** Opens GET /ui/events; resolves once the hello event arrived. */
function openEvents(stack) {
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: '127.0.0.1',
            port: stack.port,
            path: '/ui/events',
            headers: { ...stack.auth(), Accept: 'text/event-stream' },
        });
        req.on('error', reject);
        req.on('response', (res) => {
            const stream = { res, req, text: '', ended: false, waiters: [] };
            res.setEncoding('utf8');
            res.on('data', (d) => {
                stream.text += d;
                for (const w of stream.waiters.splice(0)) w();
                if (/event: hello\n/.test(stream.text) && !stream.resolved) {
                    stream.resolved = true;
                    resolve(stream);
                }
            });
            res.on('end', () => {
                stream.ended = true;
                for (const w of stream.waiters.splice(0)) w();
            });
            res.on('error', () => {});
        });
        req.end();
    });
}

/** Resolves when the stream has ended (rejects after timeoutMs). */
function ended(stream, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the stream did not end')), timeoutMs);
        const check = () => {
            if (stream.ended) {
                clearTimeout(timer);
                resolve();
            } else stream.waiters.push(check);
        };
        check();
    });
}

test('the event stream starts with a comment and hello, and keeps at most 8 open', async () => {
    const first = await openEvents(keyed);
    assert.equal(first.res.statusCode, 200);
    assert.match(first.res.headers['content-type'], /^text\/event-stream/);
    assert.equal(first.res.headers['cache-control'], 'no-cache');
    checkSecurityHeaders(first.res);
    assert.match(first.text, /^: ok\n\nevent: hello\ndata: \{"version":"[^"]+","history_max":64,"heartbeat_ms":15000\}\n\n/);
    const more = [];
    for (let i = 0; i < 7; i++) more.push(await openEvents(keyed));
    assert.equal(first.ended, false);
    // The ninth ends the oldest, which is told why.
    const ninth = await openEvents(keyed);
    await ended(first);
    assert.match(first.text, /event: bye\ndata: \{"reason":"too many live pages[^"]*"\}\n\n$/);
    assert.equal(more[0].ended, false);
    assert.equal(ninth.ended, false);
    for (const s of [...more, ninth]) s.req.destroy();
    // A stream left open when the gateway stops does not keep it from exiting
    // cleanly (after()).
    await openEvents(open);
});
