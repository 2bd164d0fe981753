// make bench-prompt: what the model has to read per keystroke, for a client
// alone and through lca.
//
// Someone types six function bodies of a real Python repository (Jinja2 as
// Debian ships it, python3-jinja2) while their editor asks for a completion
// every six characters, in the shape of two real clients:
//   - ProxyAI (Ollama provider, CodeQwen2.5 template): a raw FIM prompt
//     <|fim_prefix|> P <|fim_suffix|>S <|fim_middle|>, P and S about 256
//     tokens each around the cursor;
//   - Continue (Ollama provider): /api/generate with prompt and suffix, the
//     prefix pruned by whole lines to 30% of 4096 tokens, the suffix to 20%.
// Each is replayed against the real stack (lca up, the repository indexed with
// the typed bodies left out) with a fake Ollama upstream that reads every
// prompt the way Ollama's runner does (tests/fake-ollama: window, truncation,
// KV cache by longest common prefix), once with "options":{"lca_rag":false}
// (the client alone) and once as is (lca); the fake's cache starts empty
// before each run.  Printed side by side:
//   re-read tokens per keystroke — what the model evaluates after the cached
//     prefix (mean, p90), and the time to the first token that implies at
//     200 prompt tokens/s;
//   prompt tokens — the whole prompt (mean, max against the window);
//   context changed — share of keystrokes whose context block (the upstream
//     prompt before the client's own text of the file) differs from the
//     previous keystroke's in the same function;
//   context held a definition used — share of keystrokes whose context block
//     holds the first line of a definition from another file of the package
//     that the typed function uses (a name imported at the top of its file,
//     or module.name of an imported module, defined at the top level of
//     that module).
//
//   node tests/bench/prompt/bench.mjs [--functions 6] [--every 6] [--keep] [--dump FILE]
//   (--dump writes one JSON line per keystroke and run: the upstream record
//   without its prompt, the context block and whether it changed)
//   LCA_BIN=build/bin (release binaries)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCorpus, writeCorpus } from '../../eval/corpora.mjs';
import { Stack } from '../../eval/lca.mjs';
import { startFake } from '../../clients/harness.mjs';
import {
    chooseFunctions, withoutBodies, keystrokes, typedState, proxyaiRequest, continueRequest, contextBlock,
    quantile, mean, MODEL,
} from './replay.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const CORPUS = {
    name: 'jinja2', kind: 'deb', pkg: 'python3-jinja2', version: '3.1.2-1+deb12u3',
    dir: 'usr/lib/python3/dist-packages', keep: 'jinja2', lang: 'Python',
};
const EVAL_RATE = 200; // prompt tokens per second for the time to first token

function parseArgs(argv) {
    const o = { functions: 6, every: 6, keep: false, dump: null };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--functions') o.functions = Number(argv[++i]);
        else if (argv[i] === '--every') o.every = Number(argv[++i]);
        else if (argv[i] === '--keep') o.keep = true;
        else if (argv[i] === '--dump') o.dump = argv[++i];
        else throw new Error(`unknown argument ${argv[i]}`);
    }
    return o;
}

const log = (...a) => process.stderr.write(`bench-prompt: ${a.join(' ')}\n`);

async function post(url, body) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
    return { text, context: res.headers.get('x-lca-context') };
}

// One replay: every keystroke of every function, sequentially, through the
// gateway; returns per-keystroke records joined with what the fake saw.
async function replay(stack, fake, shape, lcaRag, plan, files) {
    await fake.control.reset();
    await fake.control.script({ tokens: ['    return', ' None'] });
    const url = `http://127.0.0.1:${stack.port}/api/generate`;
    const sent = [];
    for (const fn of plan.functions) {
        const text = files.get(fn.file);
        for (const k of plan.keys.get(fn)) {
            const { buffer, cursor } = typedState(text, fn, k);
            const body = shape === 'proxyai' ? proxyaiRequest(buffer, cursor, { lcaRag }) :
                continueRequest(buffer, cursor, { lcaRag });
            await post(url, body);
            // the text that follows the prefix in what the model reads
            const cursorMarker = shape === 'proxyai' ? ' <|fim_suffix|>' : '<|fim_suffix|>';
            sent.push({ fn, beforeCursor: buffer.slice(0, cursor), cursorMarker });
        }
    }
    const seen = (await fake.control.prompts()).filter((p) => p.path === '/api/generate');
    if (seen.length !== sent.length) throw new Error(`${sent.length} requests sent, ${seen.length} reached the fake`);
    return sent.map((s, i) => ({ ...s, upstream: seen[i] }));
}

function summarise(rows, dump) {
    const evaluated = rows.map((r) => r.upstream.evaluated_tokens);
    let changed = 0;
    let comparable = 0;
    let held = 0;
    let previous = null;
    for (const r of rows) {
        const block = contextBlock(r.upstream.prompt, r.beforeCursor, r.cursorMarker);
        if (previous && previous.fn === r.fn) {
            comparable++;
            if (previous.block !== block) changed++;
        }
        const holds = r.fn.uses.some((u) => block.includes(u.header));
        if (holds) held++;
        if (dump) {
            const { prompt, ...upstream } = r.upstream;
            dump({ function: `${r.fn.file}:${r.fn.name}`, upstream, block,
                changed: previous?.fn === r.fn && previous.block !== block, held: holds });
        }
        previous = { fn: r.fn, block };
    }
    const window = Math.max(...rows.map((r) => r.upstream.window));
    return {
        n: rows.length,
        rereadMean: mean(evaluated),
        rereadP90: quantile(evaluated, 0.9),
        promptMean: mean(rows.map((r) => r.upstream.prompt_tokens)),
        promptMax: Math.max(...rows.map((r) => r.upstream.input_tokens)),
        window,
        truncated: rows.filter((r) => r.upstream.truncated).length,
        changed: comparable ? changed / comparable : 0,
        held: held / rows.length,
        ttftMean: mean(evaluated) / EVAL_RATE,
        ttftP90: quantile(evaluated, 0.9) / EVAL_RATE,
    };
}

function table(results) {
    const cols = [['ProxyAI', 'proxyai'], ['Continue', 'continue']];
    const head = ['', ...cols.flatMap(([label]) => [`${label}: client alone`, `${label}: lca`])];
    const cell = (fmt) => cols.flatMap(([, key]) => [fmt(results[key].alone), fmt(results[key].lca)]);
    const pct = (x) => `${(100 * x).toFixed(0)}%`;
    const rows = [
        ['re-read tokens per keystroke, mean', ...cell((s) => s.rereadMean.toFixed(0))],
        ['re-read tokens per keystroke, p90', ...cell((s) => String(s.rereadP90))],
        ['lca / client alone, mean re-read', ...cols.flatMap(([, key]) =>
            ['', `${(results[key].lca.rereadMean / results[key].alone.rereadMean).toFixed(2)}x`])],
        ['prompt tokens, mean', ...cell((s) => s.promptMean.toFixed(0))],
        ['prompt tokens, max / window', ...cell((s) => `${s.promptMax} / ${s.window}`)],
        ['prompts truncated by the window', ...cell((s) => String(s.truncated))],
        ['context block changed (keystrokes)', ...cell((s) => pct(s.changed))],
        ['context held a definition used', ...cell((s) => pct(s.held))],
        [`time to first token at ${EVAL_RATE} tok/s, mean (p90)`,
            ...cell((s) => `${(s.ttftMean * 1000).toFixed(0)} ms (${(s.ttftP90 * 1000).toFixed(0)} ms)`)],
    ];
    const lines = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
    return lines.join('\n');
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const bin = path.resolve(root, process.env.LCA_BIN ?? 'build/bin');
    const cache = path.join(root, 'build', 'bench-prompt');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lca-bench-prompt-'));
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
        if (opts.dump) fs.writeFileSync(opts.dump, '');
        const corpus = fetchCorpus(CORPUS, cache, log);
        const files = corpus.files;
        const functions = chooseFunctions(files, { count: opts.functions });
        if (functions.length < opts.functions) throw new Error(`only ${functions.length} functions qualify`);
        const keys = new Map(functions.map((f) => [f, keystrokes(f, opts.every)]));
        const total = [...keys.values()].reduce((n, k) => n + k.length, 0);
        const repo = path.join(work, 'jinja2-repo');
        writeCorpus(repo, files, withoutBodies(files, functions));

        fake = await startFake();
        process.env.OLLAMA_HOST = fake.url;
        // Retrieval gets time enough to answer every request, so that runs are alike.
        process.env.LCA_RAG_COMPLETION_MS = process.env.LCA_RAG_COMPLETION_MS ?? '1000';
        stack = new Stack(bin, work, log);
        await stack.start();
        const seeded = await stack.seed(repo, 'jinja2');
        log(`seeded ${repo}: ${JSON.stringify(seeded.summary ?? {})}`);

        const plan = { functions, keys };
        const results = {};
        for (const shape of ['proxyai', 'continue']) {
            results[shape] = {};
            for (const [mode, lcaRag] of [['alone', false], ['lca', true]]) {
                const started = Date.now();
                const rows = await replay(stack, fake, shape, lcaRag, plan, files);
                const dump = opts.dump ? (o) => fs.appendFileSync(opts.dump, JSON.stringify({ shape, mode, ...o }) + '\n') : null;
                results[shape][mode] = summarise(rows, dump);
                log(`${shape} ${mode}: ${rows.length} keystrokes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
            }
        }

        console.log(`## Prompt economy: keystroke replays (${CORPUS.pkg} ${corpus.version}, model ${MODEL})`);
        console.log();
        console.log(`${functions.length} function bodies typed, a request every ${opts.every} characters: ${total} keystrokes per run.`);
        for (const f of functions) {
            console.log(`- \`${f.file}\` ${f.name}() line ${f.line}: ${f.body.length} characters, ${keys.get(f).length} keystrokes; ` +
                `uses ${f.uses.map((u) => `${u.name} (${u.file})`).join(', ')}`);
        }
        console.log();
        console.log(table(results));
        console.log();
        console.log('Tokens are counted by the fake Ollama\'s approximate Qwen2.5 tokenizer (about 10% above the real count on code). ' +
            'Window: Ollama\'s default num_ctx, as neither client nor model sets one.');
        // What lca adds must never push a prompt over the model's window.
        const over = ['proxyai', 'continue'].filter((shape) => results[shape].lca.truncated > 0);
        if (over.length) throw new Error(`prompts over the window through lca: ${over.join(', ')}`);
    } finally {
        await cleanup();
    }
}

main().catch((err) => {
    process.stderr.write(`bench-prompt: ${err.stack ?? err}\n`);
    process.exit(1);
});
