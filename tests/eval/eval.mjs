// make eval: cross-file retrieval quality of lca against the classic
// baselines, on the same cases.  See README.md.
import fs from 'node:fs';
import os from 'node:os';
import { posix as path } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPORA, fetchCorpus, writeCorpus } from './corpora.mjs';
import { Corpus, sampleCases, maskFiles, queryOf } from './cases.mjs';
import { WindowIndex, WINDOW, STRIDE } from './baselines.mjs';
import { score, average, percentile, BUDGET } from './metrics.mjs';
import { Stack, ContextMissing, relPath } from './lca.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: opt } = parseArgs({
  options: {
    corpora: { type: 'string', default: CORPORA.map((c) => c.name).join(',') },
    cases: { type: 'string', default: '75' },
    seed: { type: 'string', default: '20261126' },
    'query-lines': { type: 'string', default: '20' },
    methods: { type: 'string' },
    use: { type: 'string', default: 'first' },
    'baselines-only': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    cache: { type: 'string' },
    work: { type: 'string' },
    out: { type: 'string', default: path.join(here, 'results.md') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(`usage: tests/eval/run [--corpora ${CORPORA.map((c) => c.name).join(',')}] [--cases N per corpus]
  [--seed N] [--use first|random] [--query-lines N] [--methods lca,lca-dense,lca-bm25,lca-structure] [--baselines-only] [--strict] [--keep] [--cache DIR] [--out FILE]
LCA_BIN: folder with the lca binaries (make eval sets it).`);
  process.exit(0);
}
const perCorpus = Number(opt.cases);
const seed = Number(opt.seed);
const queryLines = Number(opt['query-lines']);
const log = (...a) => console.error('eval:', ...a);

const bin = process.env.LCA_BIN;
if (!opt['baselines-only'] && (!bin || !fs.existsSync(path.join(bin, 'lca')))) {
  console.error('eval: set LCA_BIN to the folder of the release binaries (make eval does), or pass --baselines-only');
  process.exit(2);
}

const work = opt.work || fs.mkdtempSync(path.join(os.tmpdir(), 'lca-eval-'));
const ownWork = !opt.work;
const dl = opt.cache || path.join(work, 'download');
let stack = null;
const cleanup = () => {
  if (stack) stack.stopSync();
  if (ownWork && !opt.keep) fs.rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

const METHODS = [
  { id: 'lca', label: 'lca (all signals)', signals: null },
  { id: 'lca-dense', label: 'lca, dense only', signals: ['dense'] },
  { id: 'lca-bm25', label: 'lca, BM25 only', signals: ['bm25'] },
  { id: 'lca-structure', label: 'lca, structure only', signals: ['structure'] },
  { id: 'bm25-win', label: `BM25, ${WINDOW}-line windows` },
  { id: 'jaccard-win', label: `Jaccard, ${WINDOW}-line windows` },
];
const wanted = opt.methods ? new Set(opt.methods.split(',').map((s) => s.trim())) : null;
for (const id of wanted || []) if (!METHODS.some((m) => m.id === id)) fail(`unknown method ${id} (${METHODS.map((m) => m.id).join(', ')})`);
const LCA_METHODS = METHODS.filter((m) => m.id.startsWith('lca') && (!wanted || wanted.has(m.id)));

async function main() {
  const t0 = Date.now();
  const names = opt.corpora.split(',').map((s) => s.trim()).filter(Boolean);
  const specs = names.map((n) => CORPORA.find((c) => c.name === n) || fail(`unknown corpus ${n}`));

  // 1. Corpora, cases, masked copies, baseline indexes.
  const corpora = [];
  const missingCorpora = [];
  for (const spec of specs) {
    await tick(); // lets a signal in between the long synchronous steps
    const t = Date.now();
    let fc;
    try {
      fc = fetchCorpus(spec, dl, log);
    } catch (err) {
      log(`cannot fetch ${spec.name}: ${err.message.split('\n')[0]}; going on without it`);
      missingCorpora.push(`${spec.name} (${err.message.split('\n')[0]})`);
      continue;
    }
    const corpus = new Corpus(spec.name, fc.files);
    const { cases, stats } = sampleCases(corpus, perCorpus, seed, { use: opt.use });
    const masked = maskFiles(corpus, cases);
    const dir = path.join(work, 'corpora', spec.name);
    writeCorpus(dir, fc.files, masked);
    const files = new Map(fc.files);
    for (const [k, v] of masked) files.set(k, v);
    const index = new WindowIndex(files);
    for (const c of cases) Object.assign(c, queryOf(c, files.get(c.file)));
    corpora.push({ spec, version: fc.version, dir, files, cases, stats, index, collection: `eval-${spec.name}` });
    log(`${spec.name} ${fc.version}: ${fc.files.size} files, ${stats.candidates} candidate cases, ${cases.length} sampled, ` +
      `${index.windows.length} windows (${Date.now() - t} ms)`);
  }
  const cases = corpora.flatMap((c) => c.cases);
  const results = new Map(cases.map((c) => [c.id, {}]));

  // 2. Baselines: the last queryLines lines of the prefix, F left out.
  for (const k of corpora) {
    await tick();
    for (const c of k.cases) {
      const q = c.prefix.split('\n').slice(-queryLines).join('\n');
      results.get(c.id)['bm25-win'] = k.index.bm25(q, 10, c.file);
      results.get(c.id)['jaccard-win'] = k.index.jaccard(q, 10, c.file);
    }
  }

  // 3. lca: seed the masked copies, query every case with every signal set.
  const latency = [];
  const degraded = {};
  let lcaError = null;
  let seedNotes = [];
  if (!opt['baselines-only']) {
    try {
      stack = new Stack(bin, work, log);
      await stack.start();
      log(`lca up on 127.0.0.1:${stack.port} (broker ${stack.broker})`);
      for (const k of corpora) {
        const t = Date.now();
        let summary;
        try {
          ({ summary } = await stack.seed(k.dir, k.collection));
        } catch (err) {
          log(`${err.message.split('\n')[0]}; seeding again`);
          await new Promise((r) => setTimeout(r, 1000));
          ({ summary } = await stack.seed(k.dir, k.collection));
        }
        const indexed = summary?.files?.indexed ?? '?';
        if (indexed !== k.files.size) log(`warning: the seeder indexed ${indexed} files of ${k.spec.name}, the baselines see ${k.files.size}`);
        seedNotes.push(`${k.spec.name}: ${indexed} files indexed of ${k.files.size} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        log(`seeded ${k.collection}: ${indexed} files, ${summary?.chunks ?? '?'} chunks in ${summary?.seconds ?? '?'} s`);
      }
      for (const m of LCA_METHODS) {
        const tm = Date.now();
        for (const k of corpora) {
          for (const c of k.cases) {
            const body = { collection: k.collection, path: c.file, prefix: c.prefix, suffix: c.suffix, k: 10 };
            if (m.signals) body.signals = m.signals;
            const { chunks, ms, degraded: d } = await stack.context(body);
            if (m.id === 'lca') latency.push(ms);
            if (d) degraded[m.id] = (degraded[m.id] || 0) + 1;
            results.get(c.id)[m.id] = chunks.map((ch) => ({
              path: relPath(String(ch.path), k.dir),
              start_line: ch.start_line,
              end_line: ch.end_line,
              chars: typeof ch.text === 'string' ? ch.text.length + 1 : 0,
              score: ch.score,
            }));
          }
        }
        log(`${m.label}: ${cases.length} queries in ${((Date.now() - tm) / 1000).toFixed(1)} s`);
      }
    } catch (e) {
      lcaError = e;
    } finally {
      if (stack) await stack.stop();
    }
  }

  // 4. Metrics and the report.
  const have = (m) => cases.length > 0 && cases.every((c) => results.get(c.id)[m.id]);
  const shown = METHODS.filter(have);
  const per = (m, list) => average(list.map((c) => score(c, results.get(c.id)[m.id])));
  const f2 = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
  const lines = [];
  lines.push(`## Retrieval evaluation (\`make eval\`)`, '');
  lines.push(`Corpora (fetched at eval time): ${corpora.map((k) => `${k.spec.pkg} ${k.version} (${k.spec.lang}, ${k.files.size} files)`).join('; ')}.`);
  lines.push(`${cases.length} cases (seed ${seed}, up to ${perCorpus} per corpus, ${opt.use} use of each imported name). Baselines: ${WINDOW}-line windows every ${STRIDE} lines, ` +
    `query = the last ${queryLines} lines of the prefix; lca gets the whole prefix and ${'20'} lines of suffix. Budget: ${BUDGET} characters.`, '');
  lines.push('| method | cases | recall@1 | recall@5 | MRR@10 | hit within 6,000 chars |', '|---|---:|---:|---:|---:|---:|');
  const summary = {};
  for (const m of shown) {
    const a = per(m, cases);
    summary[m.id] = a;
    lines.push(`| ${m.label} | ${a.n} | ${f2(a.r1)} | ${f2(a.r5)} | ${f2(a.mrr)} | ${f2(a.budget)} |`);
  }
  const fileR5 = (m) => cases.filter((c) => results.get(c.id)[m.id].slice(0, 5).some((x) => x.path === c.def_file)).length / cases.length;
  lines.push('', `File-level recall@5 (a chunk of G in the top 5, any chunk): ${shown.map((m) => `${m.label} ${f2(fileR5(m))}`).join('; ')}.`);
  lines.push('', '### recall@5 / MRR@10 per corpus', '');
  lines.push(`| method | ${corpora.map((k) => `${k.spec.name} (${k.cases.length})`).join(' | ')} |`);
  lines.push(`|---|${corpora.map(() => '---:').join('|')}|`);
  for (const m of shown) {
    lines.push(`| ${m.label} | ${corpora.map((k) => { const a = per(m, k.cases); return `${f2(a.r5)} / ${f2(a.mrr)}`; }).join(' | ')} |`);
  }
  // kinds of use, and whether G was reached through a re-export (barrel index, __init__.py)
  const groups = [...new Set(cases.map((c) => c.via))].map((v) => [v, (c) => c.via === v]);
  groups.push(['direct import of G', (c) => c.hops === 0], ['through re-exports', (c) => c.hops > 0]);
  lines.push('', '### recall@5 per kind of use', '');
  lines.push(`| method | ${groups.map(([v, p]) => `${v} (${cases.filter(p).length})`).join(' | ')} |`);
  lines.push(`|---|${groups.map(() => '---:').join('|')}|`);
  for (const m of shown) lines.push(`| ${m.label} | ${groups.map(([, p]) => f2(per(m, cases.filter(p)).r5)).join(' | ')} |`);
  lines.push('');
  if (latency.length) {
    const total = latency.reduce((a, b) => a + b, 0) / 1000;
    lines.push(`lca /api/context latency (all signals, one client, sequential): p50 ${percentile(latency, 50).toFixed(1)} ms, ` +
      `p95 ${percentile(latency, 95).toFixed(1)} ms, ${(latency.length / total).toFixed(1)} cases/s.`);
  }
  if (Object.keys(degraded).length) lines.push(`Answers with a shard missing or timed out: ${Object.entries(degraded).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  const ownFile = LCA_METHODS.map((m) => [m.id, cases.filter((c) => (results.get(c.id)[m.id] || []).some((x) => x.path === c.file)).length])
    .filter(([, n]) => n > 0);
  if (ownFile.length) lines.push(`**Answers that contain a chunk of the current file F** (should be left out): ${ownFile.map(([k, n]) => `${k} ${n}`).join(', ')}.`);
  if (stack?.retries) lines.push(`Requests retried after a dropped connection: ${stack.retries}.`);
  if (seedNotes.length) lines.push(`Seeding: ${seedNotes.join('; ')}.`);
  let targetMet = null;
  if (summary.lca && summary['bm25-win']) {
    const r5 = summary.lca.r5;
    const base = summary['bm25-win'].r5;
    targetMet = r5 >= 0.6 && r5 >= 4 * base;
    lines.push(`Target (lca recall@5 ≥ 0.6 and ≥ 4× BM25 windows): ${r5.toFixed(3)} vs ${base.toFixed(3)} ` +
      `(${base > 0 ? (r5 / base).toFixed(2) : '∞'}×): ${targetMet ? 'met' : 'NOT met'}.`);
  }
  const st = corpora.map((k) => `${k.spec.name}: ${k.stats.candidates} candidates; skipped ${k.stats.noDefinition} with no definition found in G, ` +
    `${k.stats.noUse} with no use after the import, ${k.stats.short} names shorter than 3, ${k.stats.shadowed} redefined in F`);
  lines.push(`Cases: ${st.join('; ')}.`);
  if (missingCorpora.length) lines.push(`**Corpora missing from this run:** ${missingCorpora.join('; ')}.`);
  lines.push(`Run time: ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
  const report = lines.join('\n') + '\n';
  process.stdout.write(report);
  fs.writeFileSync(opt.out, report);
  const detail = cases.map((c) => {
    const r = results.get(c.id);
    const o = { id: c.id, file: c.file, line: c.line, symbol: c.symbol, via: c.via, def_file: c.def_file, def_lines: c.def_lines, hops: c.hops };
    for (const m of shown) {
      o[m.id] = score(c, r[m.id]).rank;
      o[m.id + '_file'] = r[m.id].slice(0, 10).findIndex((x) => x.path === c.def_file) + 1;
      if (m.id === 'lca') o.lca_top = r[m.id].slice(0, 3).map((x) => `${x.path}:${x.start_line}-${x.end_line}`);
    }
    return JSON.stringify(o);
  });
  fs.writeFileSync(opt.out.replace(/\.md$/, '') + '-cases.jsonl', detail.join('\n') + '\n');
  log(`wrote ${opt.out} and its -cases.jsonl`);

  if (lcaError) {
    if (lcaError instanceof ContextMissing) {
      console.error(`eval: FAILED: ${lcaError.message}.\neval: the lca rows need POST /api/context ` +
        '{collection, path, prefix, suffix, k, signals?} -> {chunks:[{path,start_line,end_line,score,text}]}; the baselines above ran.');
    } else {
      console.error(`eval: FAILED: lca: ${lcaError.stack || lcaError.message}`);
      if (stack) console.error(`eval: last lines of ${stack.logFile}:\n${stack.tail()}`);
    }
    process.exit(2);
  }
  if (missingCorpora.length) process.exit(3);
  if (opt.strict && targetMet === false) process.exit(1);
}

function tick() {
  return new Promise((r) => setImmediate(r));
}

function fail(msg) {
  console.error(`eval: ${msg}`);
  process.exit(2);
}

main().catch((e) => {
  console.error(`eval: FAILED: ${e.stack || e.message}`);
  process.exit(2);
});
