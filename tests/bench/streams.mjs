// make bench-streams (also part of make bench): the share of completions that
// get repository context when many editors ask at once.
//
// A completion waits for retrieval only LCA_RAG_COMPLETION_MS (40 ms by
// default); past that it goes upstream without context.  Under load the
// retrieval may spend that time queued behind other retrievals rather than
// searching, and the completion silently loses its context.  This measures
// how often that happens at 1, 8 and 32 concurrent streams:
//
//   - the repository is real code (Jinja2 as Debian ships it, python3-jinja2,
//     the corpus of make bench-prompt), indexed by `lca seed` into `lca up`
//     (two retriever shards, every worker as `lca up` starts it);
//   - each stream is one editor typing function bodies of that repository:
//     a ProxyAI completion (Ollama provider, CodeQwen2.5 raw FIM prompt,
//     `stream: true`, NDJSON) every six characters, the next one as soon as
//     the last answer ended (a closed loop: the heaviest an editor can be);
//   - the fake Ollama answers at once, so that generation costs nothing and
//     what is measured is the gateway and retrieval alone;
//   - a completion "got context" when its X-LCA-Context header names at least
//     one chunk.  The editing session's held context is switched off
//     (`"lca_hold": false`), so the header names what this request's own
//     retrieval found in time and nothing a previous keystroke left behind.
//
// Printed: per concurrency, completions, share with context, time to the
// first byte (p50, p95), and what the gateway's /metrics says of retrieval
// (its time, and how many ran out of time, per level).
//
//   node tests/bench/streams.mjs [--seconds 10] [--streams 1,8,32] [--hold]
//   LCA_BIN=build/bin (release binaries)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCorpus, writeCorpus } from '../eval/corpora.mjs';
import { Stack } from '../eval/lca.mjs';
import { startFake } from '../clients/harness.mjs';
import { chooseFunctions, keystrokes, typedState, proxyaiRequest, quantile } from './prompt/replay.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const CORPUS = {
    name: 'jinja2', kind: 'deb', pkg: 'python3-jinja2', version: '3.1.2-1+deb12u3',
    dir: 'usr/lib/python3/dist-packages', keep: 'jinja2', lang: 'Python',
};

function parseArgs(argv) {
    const o = { seconds: 10, streams: [1, 8, 32], hold: false, keep: false };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--seconds') o.seconds = Number(argv[++i]);
        else if (argv[i] === '--streams') o.streams = argv[++i].split(',').map(Number);
        else if (argv[i] === '--hold') o.hold = true;
        else if (argv[i] === '--keep') o.keep = true;
        else throw new Error(`unknown argument ${argv[i]}`);
    }
    if (!(o.seconds > 0) || o.streams.some((n) => !(n >= 1))) throw new Error('--seconds and --streams want positive numbers');
    return o;
}

const log = (...a) => process.stderr.write(`bench-streams: ${a.join(' ')}\n`);

// The gateway's counters that say how retrieval went: the histogram of its
// time and the retrievals that ran out of time.
async function metrics(port) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const out = { buckets: new Map(), count: 0, sum: 0, timedOut: 0 };
    for (const line of text.split('\n')) {
        let m = line.match(/^lca_retrieval_seconds_bucket\{le="([^"]+)"\} (\d+)/);
        if (m) out.buckets.set(m[1], Number(m[2]));
        else if ((m = line.match(/^lca_retrieval_seconds_count (\d+)/))) out.count = Number(m[1]);
        else if ((m = line.match(/^lca_retrieval_seconds_sum (\S+)/))) out.sum = Number(m[1]);
        else if ((m = line.match(/^lca_retrieval_timeouts_total (\d+)/))) out.timedOut = Number(m[1]);
    }
    return out;
}

// Every keystroke's request body, made once: the client's own work (cutting
// its window into tokens) must not take the CPU the gateway is measured on.
function requestBodies(files, functions, hold) {
    const bodies = [];
    for (const fn of functions) {
        for (const k of keystrokes(fn, 6)) {
            const { buffer, cursor } = typedState(files.get(fn.file), fn, k);
            const body = proxyaiRequest(buffer, cursor);
            body.stream = true;
            if (!hold) body.options.lca_hold = false;
            bodies.push(JSON.stringify(body));
        }
    }
    return bodies;
}

// One editor: types the functions from its own starting point, one
// completion per keystroke, until `until`.
async function editor(index, url, plan, until, tally) {
    const agent = `bench-streams/${index}`;
    let step = index * 7;
    while (Date.now() < until) {
        const body = plan.bodies[step++ % plan.bodies.length];
        const t0 = performance.now();
        try {
            const res = await fetch(url, {
                method: 'POST',
                headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', 'user-agent': agent },
                body,
            });
            const ttfb = performance.now() - t0;
            const text = await res.text();
            if (res.status !== 200 || !text.includes('"done":true')) {
                tally.errors++;
                if (!tally.firstError) tally.firstError = `${res.status} ${text.slice(0, 200)}`;
                continue;
            }
            tally.n++;
            tally.ttfb.push(ttfb);
            const chunks = parseInt(res.headers.get('x-lca-context') ?? '0', 10);
            if (chunks > 0) tally.withContext++;
        } catch (e) {
            tally.errors++;
            if (!tally.firstError) tally.firstError = String(e.cause ?? e);
        }
    }
}

// The share of retrievals at or under le seconds, from two histogram reads.
function shareUnder(before, after, le) {
    const n = after.count - before.count;
    const k = (after.buckets.get(le) ?? 0) - (before.buckets.get(le) ?? 0);
    return n > 0 ? k / n : NaN;
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const bin = path.resolve(root, process.env.LCA_BIN ?? 'build/bin');
    const cache = path.join(root, 'build', 'bench-prompt'); // shared with make bench-prompt
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lca-bench-streams-'));
    let stack = null;
    let fake = null;
    const cleanup = async () => {
        if (stack) await stack.stop();
        if (fake) await fake.stop();
        if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
        else log(`kept ${work}`);
    };
    process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
    process.on('SIGTERM', () => cleanup().then(() => process.exit(143)));
    try {
        const corpus = fetchCorpus(CORPUS, cache, log);
        const functions = chooseFunctions(corpus.files, { count: 32 });
        const plan = { bodies: requestBodies(corpus.files, functions, opts.hold) };
        const repo = path.join(work, 'jinja2-repo');
        writeCorpus(repo, corpus.files, new Map());

        fake = await startFake();
        await fake.control.script({ tokens: ['    return', ' None'] });
        process.env.OLLAMA_HOST = fake.url;
        stack = new Stack(bin, work, log);
        await stack.start();
        const seeded = await stack.seed(repo, 'jinja2');
        log(`seeded ${repo}: ${JSON.stringify(seeded.summary ?? {})}`);
        const url = `http://127.0.0.1:${stack.port}/api/generate`;

        // Warm up every hop once.
        await editor(0, url, plan, Date.now() + 1000, { n: 0, withContext: 0, errors: 0, ttfb: [] });

        const rows = [];
        for (const streams of opts.streams) {
            const tally = { n: 0, withContext: 0, errors: 0, ttfb: [], firstError: null };
            const before = await metrics(stack.port);
            const until = Date.now() + opts.seconds * 1000;
            const started = performance.now();
            await Promise.all([...Array(streams).keys()].map((i) => editor(i, url, plan, until, tally)));
            const elapsed = (performance.now() - started) / 1000;
            const after = await metrics(stack.port);
            const retrievals = after.count - before.count;
            rows.push({
                streams, ...tally, elapsed,
                retrievals,
                retrievalMean: retrievals > 0 ? ((after.sum - before.sum) / retrievals) * 1000 : NaN,
                under25: shareUnder(before, after, '0.025'),
                timedOut: after.timedOut - before.timedOut,
            });
            log(`${streams} streams: ${tally.n} completions, ${tally.withContext} with context, ${tally.errors} errors` +
                (tally.firstError ? ` (first: ${tally.firstError})` : ''));
        }

        const deadline = process.env.LCA_RAG_COMPLETION_MS ?? '40 (default)';
        console.log(`Jinja2 (${CORPUS.pkg} ${corpus.version}, ${corpus.files.size} files) indexed in two shards; ` +
            `${functions.length} function bodies typed, a ProxyAI streamed FIM completion every 6 characters; ` +
            `${opts.seconds} s per row; fake Ollama answering at once; LCA_RAG_COMPLETION_MS ${deadline}; ` +
            `session hold ${opts.hold ? 'on' : 'off'}; ${os.cpus().length} cores.`);
        console.log();
        console.log('| streams | completions/s | with context | TTFB p50 ms | TTFB p95 ms | retrieval mean ms | retrievals <= 25 ms | timed out | errors |');
        console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
        for (const r of rows) {
            const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '-');
            console.log(`| ${r.streams} | ${(r.n / r.elapsed).toFixed(0)} | **${pct(r.n ? r.withContext / r.n : NaN)}** | ` +
                `${quantile(r.ttfb, 0.5).toFixed(1)} | ${quantile(r.ttfb, 0.95).toFixed(1)} | ` +
                `${Number.isFinite(r.retrievalMean) ? r.retrievalMean.toFixed(1) : '-'} | ${pct(r.under25)} | ` +
                `${pct(r.retrievals ? r.timedOut / r.retrievals : NaN)} | ${r.errors} |`);
        }
        if (rows.some((r) => r.errors > 0)) throw new Error('some completions failed');
    } finally {
        await cleanup();
    }
}

main().catch((err) => {
    process.stderr.write(`bench-streams: ${err.stack ?? err}\n`);
    process.exit(1);
});
