// Gateway benchmark: the same streaming requests through lca-gateway (and
// its broker and generator) and straight to the fake Ollama behind it, in
// the same run.  Time to first token and total time of a 200-token reply,
// median and p99, at 1 and at 64 concurrent streams; requests per second
// for /api/tags.  Prints a markdown table.
//
//   node tests/bench/gateway.mjs GATEWAY_URL FAKE_URL
import http from 'node:http';

const [gatewayUrl, fakeUrl] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const TOKENS = 200;

function request(base, path, body) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const t0 = process.hrtime.bigint();
    let first = null;
    const req = http.request(url, {
      method: body ? 'POST' : 'GET', agent,
      headers: body ? { 'content-type': 'application/json' } : {},
    }, (res) => {
      let lines = 0;
      res.on('data', (chunk) => {
        if (first === null) first = process.hrtime.bigint();
        for (const b of chunk) if (b === 10) lines++;
      });
      res.on('end', () => resolve({
        status: res.statusCode, lines,
        ttft: Number((first ?? process.hrtime.bigint()) - t0) / 1e6,
        total: Number(process.hrtime.bigint() - t0) / 1e6,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.end(JSON.stringify(body)); else req.end();
  });
}

async function script() {
  const tokens = Array.from({ length: TOKENS }, (_, i) => `t${i} `);
  const r = await fetch(new URL('/_fake/script', fakeUrl), {
    method: 'POST', body: JSON.stringify({ tokens, pace_ms: 0 }),
  });
  if (!r.ok) throw new Error('cannot script the fake');
}

const chat = {
  model: 'llama3.2', stream: true, options: { lca_rag: false },
  messages: [{ role: 'user', content: 'hello' }],
};

function signed(x) {
  return (x < 0 ? '' : '+') + x.toFixed(2);
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function streams(base, concurrency, rounds) {
  const ttft = [], total = [];
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.all(Array.from({ length: concurrency },
      () => request(base, '/api/chat', chat)));
    for (const x of results) {
      if (x.status !== 200 || x.lines < TOKENS) throw new Error(`bad stream: ${JSON.stringify(x)}`);
      ttft.push(x.ttft); total.push(x.total);
    }
  }
  return { ttft, total };
}

async function rps(base, seconds, concurrency) {
  let n = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      const x = await request(base, '/api/tags');
      if (x.status !== 200) throw new Error('tags failed');
      n++;
    }
  }));
  return n / seconds;
}

await script();
await streams(gatewayUrl, 4, 5); // warm up both paths
await streams(fakeUrl, 4, 5);
const rows = [];
for (const [c, rounds] of [[1, 200], [64, 8]]) {
  const direct = await streams(fakeUrl, c, rounds);
  const via = await streams(gatewayUrl, c, rounds);
  for (const [name, key] of [['time to first token', 'ttft'], ['total, 200 tokens', 'total']]) {
    const d50 = quantile(direct[key], 0.5), d99 = quantile(direct[key], 0.99);
    const g50 = quantile(via[key], 0.5), g99 = quantile(via[key], 0.99);
    rows.push(`| ${name}, ${c} stream${c > 1 ? 's' : ''} | ${d50.toFixed(2)} / ${d99.toFixed(2)} ms` +
      ` | ${g50.toFixed(2)} / ${g99.toFixed(2)} ms | ${signed(g50 - d50)} / ${signed(g99 - d99)} ms |`);
  }
}
const tagsDirect = await rps(fakeUrl, 3, 16);
const tagsVia = await rps(gatewayUrl, 3, 16);
console.log('| metric (median / p99) | straight to fake Ollama | through lca-gateway | gateway adds |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(`| GET /api/tags, 16 connections | ${tagsDirect.toFixed(0)} req/s | ${tagsVia.toFixed(0)} req/s | ${(tagsVia / tagsDirect).toFixed(2)}x |`);
console.log('\nTargets: + < 2 ms median time to first token at 1 stream; + < 10 ms p99 at 64.');
agent.destroy();
