// make eval: cross-file retrieval quality of lca against the classic
// baselines and a usage-count peer, on the same cases, per language, kind
// of case and set of corpora (tune / report).  See README.md.
import fs from 'node:fs';
import os from 'node:os';
import { posix as path } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPORA, fetchCorpus, writeCorpus } from './corpora.mjs';
import { Corpus, KINDS, sampleCases, maskFiles, ownMask, queryOf, Usage, usagePeer } from './cases.mjs';
import { WindowIndex, WINDOW, STRIDE } from './baselines.mjs';
import { score, average, percentile, isFileHit, shownLines, BUDGET } from './metrics.mjs';
import { Stack, ContextMissing, relPath } from './lca.mjs';

// A corpus file's text, read once (outlines are checked against it).
const fileTexts = new Map();
function fileText(dir, rel) {
  const abs = path.join(dir, rel);
  if (!fileTexts.has(abs)) {
    let text = '';
    try { text = fs.readFileSync(abs, 'utf8'); } catch { /* not a corpus file: shows nothing */ }
    fileTexts.set(abs, text);
  }
  return fileTexts.get(abs);
}

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: opt } = parseArgs({
  options: {
    corpora: { type: 'string' },
    set: { type: 'string', default: 'all' },
    kinds: { type: 'string', default: KINDS.join(',') },
    cases: { type: 'string', default: '40' },
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
  console.log(`usage: tests/eval/run [--set tune|report|all] [--corpora ${CORPORA.map((c) => c.name).join(',')}]
  [--kinds ${KINDS.join(',')}] [--cases N per corpus and kind] [--seed N] [--use first|random] [--query-lines N]
  [--methods lca,lca-dense,lca-bm25,lca-structure,usage,bm25-win,jaccard-win] [--baselines-only] [--strict]
  [--keep] [--cache DIR] [--out FILE]
LCA_BIN: folder with the lca binaries (make eval sets it).`);
  process.exit(0);
}
const perKind = Number(opt.cases);
const seed = Number(opt.seed);
const queryLines = Number(opt['query-lines']);
const kinds = opt.kinds.split(',').map((s) => s.trim()).filter(Boolean);
for (const k of kinds) if (!KINDS.includes(k)) fail(`unknown kind ${k} (${KINDS.join(', ')})`);
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
  { id: 'usage', label: 'usage-count peer' },
  { id: 'bm25-win', label: `BM25, ${WINDOW}-line windows` },
  { id: 'jaccard-win', label: `Jaccard, ${WINDOW}-line windows` },
];
const wanted = opt.methods ? new Set(opt.methods.split(',').map((s) => s.trim())) : null;
for (const id of wanted || []) if (!METHODS.some((m) => m.id === id)) fail(`unknown method ${id} (${METHODS.map((m) => m.id).join(', ')})`);
const LCA_METHODS = METHODS.filter((m) => m.id.startsWith('lca') && (!wanted || wanted.has(m.id)));
const SETS = ['tune', 'report'];

async function main() {
  const t0 = Date.now();
  let specs = CORPORA;
  if (opt.set !== 'all') {
    if (!SETS.includes(opt.set)) fail(`--set must be tune, report or all, not ${opt.set}`);
    specs = specs.filter((c) => c.set === opt.set);
  }
  if (opt.corpora) {
    specs = opt.corpora.split(',').map((s) => s.trim()).filter(Boolean)
      .map((n) => CORPORA.find((c) => c.name === n) || fail(`unknown corpus ${n}`));
  }

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
    const corpus = new Corpus(spec.name, fc.files, fc.manifests);
    const { cases, stats } = sampleCases(corpus, perKind, seed, { use: opt.use, kinds });
    const masked = maskFiles(corpus, cases);
    const dir = path.join(work, 'corpora', spec.name);
    writeCorpus(dir, fc.files, masked, fc.manifests);
    const files = new Map(fc.files);
    for (const [k, v] of masked) files.set(k, v);
    const index = new WindowIndex(files);
    const usage = new Usage(corpus, files);
    for (const c of cases) {
      Object.assign(c, queryOf(c, ownMask(c, fc.files.get(c.file))));
      c.set = spec.set;
      c.language = spec.lang;
    }
    const bytes = [...fc.files.values()].reduce((a, b) => a + Buffer.byteLength(b), 0);
    corpora.push({ spec, version: fc.version, dir, files, corpus, cases, stats, index, usage, bytes, collection: `eval-${spec.name}` });
    log(`${spec.name} ${fc.version}: ${fc.files.size} files (${(bytes / 1e6).toFixed(1)} MB), ` +
      `candidates ${KINDS.filter((k) => k in stats.perKind).map((k) => `${k} ${stats.perKind[k]}`).join(', ')}; ` +
      `${cases.length} sampled (${Date.now() - t} ms)`);
  }
  const cases = corpora.flatMap((c) => c.cases);
  const results = new Map(cases.map((c) => [c.id, {}]));

  // 2. Baselines and the peer.  Code cases: the last queryLines lines of the
  // prefix, F left out; chat cases: the question.
  for (const k of corpora) {
    await tick();
    for (const c of k.cases) {
      const chat = c.kind === 'chat';
      const q = chat ? c.query : c.prefix.split('\n').slice(-queryLines).join('\n');
      const exclude = chat ? null : c.file;
      const r = results.get(c.id);
      r['bm25-win'] = k.index.bm25(q, 10, exclude);
      r['jaccard-win'] = k.index.jaccard(q, 10, exclude);
      r.usage = usagePeer(c, k.corpus, k.usage, k.files);
    }
  }

  // 3. lca: seed the masked copies, query every case with every signal set.
  const degraded = {};
  let lcaError = null;
  const seedNotes = [];
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
        const expected = k.files.size + k.corpus.manifests.size;
        if (indexed !== expected) log(`warning: the seeder indexed ${indexed} files of ${k.spec.name}, the copy has ${expected}`);
        const s = (Date.now() - t) / 1000;
        seedNotes.push(`${k.spec.name} ${indexed} files, ${summary?.chunks ?? '?'} chunks, ${s.toFixed(1)} s (${(k.bytes / 1e6 / s).toFixed(1)} MB/s)`);
        log(`seeded ${k.collection}: ${indexed} files, ${summary?.chunks ?? '?'} chunks in ${s.toFixed(1)} s`);
      }
      for (const m of LCA_METHODS) {
        const tm = Date.now();
        for (const k of corpora) {
          await tick();
          for (const c of k.cases) {
            const body = c.kind === 'chat'
              ? { collection: k.collection, query: c.query, k: 10 }
              : { collection: k.collection, path: c.file, prefix: c.prefix, suffix: c.suffix, k: 10 };
            if (m.signals) body.signals = m.signals;
            const { chunks, ms, degraded: d } = await stack.context(body);
            if (m.id === 'lca') c.ms = ms;
            if (d) degraded[m.id] = (degraded[m.id] || 0) + 1;
            results.get(c.id)[m.id] = chunks.map((ch) => {
              const r = {
                path: relPath(String(ch.path), k.dir),
                start_line: ch.start_line,
                end_line: ch.end_line,
                chars: typeof ch.text === 'string' ? ch.text.length + 1 : 0,
                score: ch.score,
              };
              if (ch.kind === 'outline') r.lines = shownLines(fileText(k.dir, r.path), { ...r, text: ch.text });
              return r;
            });
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
  const have = (m) => cases.length > 0 && cases.every((c) => results.get(c.id)[m.id]) && (!wanted || wanted.has(m.id));
  const shown = METHODS.filter(have);
  const per = (m, list) => average(list.map((c) => score(c, results.get(c.id)[m.id])));
  const f2 = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));
  const ms = (list) => {
    const v = list.map((c) => c.ms).filter((x) => x !== undefined);
    return v.length ? [percentile(v, 50).toFixed(1), percentile(v, 95).toFixed(1)] : ['–', '–'];
  };
  const langs = [...new Set(CORPORA.map((c) => c.lang))].filter((l) => cases.some((c) => c.language === l));
  const lines = [];
  lines.push('## Retrieval evaluation (`make eval`)', '');
  lines.push('| set | language | corpus | from | files | cases: bare / module / object / chat |', '|---|---|---|---|---:|---|');
  for (const k of corpora) {
    const n = (kind) => k.cases.filter((c) => c.kind === kind).length;
    const from = `${k.spec.kind === 'npm' ? 'npm' : 'Debian'} ${k.spec.pkg} ${k.version}`;
    lines.push(`| ${k.spec.set} | ${k.spec.lang} | ${k.spec.name}${k.spec.style ? ` (${k.spec.style})` : ''} | ${from} | ${k.files.size} | ${KINDS.map(n).join(' / ')} |`);
  }
  lines.push('', `${cases.length} cases (seed ${seed}, up to ${perKind} per corpus and kind, ${opt.use} use). ` +
    `A hit: a returned chunk of the definition's file holding its line. Budget: a hit within the first ${BUDGET} characters of the answer, in order. ` +
    `Baselines: ${WINDOW}-line windows every ${STRIDE} lines, query = the last ${queryLines} lines of the prefix (chat: the question).`);
  const targets = {};
  for (const set of SETS) {
    const inSet = cases.filter((c) => c.set === set);
    if (!inSet.length) continue;
    lines.push('', `### ${set === 'tune' ? 'Tune set (weights may be set on these corpora)' : 'Report set (never tuned on)'}`, '');
    if (shown.some((m) => m.id === 'lca')) {
      const lca = shown.find((m) => m.id === 'lca');
      lines.push('lca (all signals), per language and kind; latency of `/api/context` (one client, sequential):', '');
      lines.push('| language | kind | cases | R@1 | R@5 | MRR@10 | budget | p50 ms | p95 ms |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
      const row = (label, kind, list) => {
        const a = per(lca, list);
        const [p50, p95] = ms(list);
        lines.push(`| ${label} | ${kind} | ${a.n} | ${f2(a.r1)} | ${f2(a.r5)} | ${f2(a.mrr)} | ${f2(a.budget)} | ${p50} | ${p95} |`);
      };
      for (const l of langs) {
        const ofLang = inSet.filter((c) => c.language === l);
        if (!ofLang.length) continue;
        for (const kind of kinds) {
          const list = ofLang.filter((c) => c.kind === kind);
          if (list.length) row(l, kind, list);
        }
        row(`**${l}**`, 'all', ofLang);
      }
      for (const kind of kinds) {
        const list = inSet.filter((c) => c.kind === kind);
        if (list.length) row('**all**', `**${kind}**`, list);
      }
      row('**all**', '**all**', inSet);
      // the issue's bar
      const r5 = Object.fromEntries(langs.map((l) => [l, per(lca, inSet.filter((c) => c.language === l)).r5]));
      const mod = per(lca, inSet.filter((c) => c.kind === 'module'));
      const chat = per(lca, inSet.filter((c) => c.kind === 'chat'));
      const bad = Object.entries(r5).filter(([, v]) => !(v >= 0.8)).map(([l, v]) => `${l} ${f2(v)}`);
      // the targets, and the aim for chat the issue sets beside them
      targets[set] = !bad.length && !(mod.n && mod.r5 < 0.75);
      lines.push('', `Target (R@5 ≥ 0.80 on every language, module R@5 ≥ 0.75): ` +
        `${targets[set] ? 'met' : 'NOT met'}` + (bad.length ? ` (below 0.80: ${bad.join(', ')})` : '') +
        `; module ${f2(mod.r5)}. Aim (chat MRR@10 ≥ 0.5): ` +
        `${chat.n ? `${chat.mrr >= 0.5 ? 'met' : 'not met'}, ${f2(chat.mrr)}` : 'no chat cases'}.`);
    }
    lines.push('', 'Every method on the same cases, R@5 / MRR@10 per kind, then R@1, R@5, MRR@10, budget over all:', '');
    const ks = kinds.filter((kind) => inSet.some((c) => c.kind === kind));
    lines.push(`| method | ${ks.map((kind) => `${kind} (${inSet.filter((c) => c.kind === kind).length})`).join(' | ')} | R@1 | R@5 | MRR@10 | budget | file R@5 |`);
    lines.push(`|---|${ks.map(() => '---:').join('|')}|---:|---:|---:|---:|---:|`);
    for (const m of shown) {
      const a = per(m, inSet);
      const fileR5 = inSet.filter((c) => results.get(c.id)[m.id].slice(0, 5).some((r) => isFileHit(c, r))).length / inSet.length;
      lines.push(`| ${m.label} | ${ks.map((kind) => { const b = per(m, inSet.filter((c) => c.kind === kind)); return `${f2(b.r5)} / ${f2(b.mrr)}`; }).join(' | ')} ` +
        `| ${f2(a.r1)} | ${f2(a.r5)} | ${f2(a.mrr)} | ${f2(a.budget)} | ${f2(fileR5)} |`);
    }
    lines.push('', 'R@5 per corpus:', '');
    const ks2 = corpora.filter((k) => k.spec.set === set);
    lines.push(`| method | ${ks2.map((k) => `${k.spec.name} (${k.cases.length})`).join(' | ')} |`, `|---|${ks2.map(() => '---:').join('|')}|`);
    for (const m of shown) lines.push(`| ${m.label} | ${ks2.map((k) => f2(per(m, k.cases).r5)).join(' | ')} |`);
  }
  lines.push('');
  if (Object.keys(degraded).length) lines.push(`Answers with a shard missing or timed out: ${Object.entries(degraded).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  const ownFile = LCA_METHODS.map((m) => [m.id, cases.filter((c) => c.kind !== 'chat' && (results.get(c.id)[m.id] || []).some((x) => x.path === c.file)).length])
    .filter(([, n]) => n > 0);
  if (ownFile.length) lines.push(`**Answers that contain a chunk of the current file F** (should be left out): ${ownFile.map(([k, n]) => `${k} ${n}`).join(', ')}.`);
  if (stack?.retries) lines.push(`Requests retried after a dropped connection: ${stack.retries}.`);
  if (seedNotes.length) lines.push(`Seeding: ${seedNotes.join('; ')}.`);
  const st = corpora.map((k) => `${k.spec.name} ${KINDS.filter((x) => x in k.stats.perKind).map((x) => k.stats.perKind[x]).join('/')}`);
  lines.push(`Candidates before sampling (bare/module/object/chat): ${st.join('; ')}.`);
  if (missingCorpora.length) lines.push(`**Corpora missing from this run:** ${missingCorpora.join('; ')}.`);
  lines.push(`Run time: ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
  const report = lines.join('\n') + '\n';
  process.stdout.write(report);
  fs.writeFileSync(opt.out, report);
  const detail = cases.map((c) => {
    const r = results.get(c.id);
    const o = {
      id: c.id, set: c.set, language: c.language, kind: c.kind, via: c.via, file: c.file, line: c.line, symbol: c.symbol,
      query: c.query, def_file: c.def_file, def_lines: c.def_lines, alt: c.alt.length ? c.alt : undefined, hops: c.hops, ms: c.ms,
    };
    for (const m of shown) {
      o[m.id] = score(c, r[m.id]).rank;
      o[m.id + '_file'] = r[m.id].slice(0, 10).findIndex((x) => isFileHit(c, x)) + 1;
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
  if (opt.strict && targets.report === false) process.exit(1);
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
