// The corpora: real code nobody on this team wrote, fetched from the
// registries at eval time with pinned versions.  npm packages come as their
// published tarball (`npm pack`, no dependencies, no install scripts);
// Debian packages as their .deb (`apt-get download`, no root needed), unpacked
// with dpkg-deb.  Only the source folder of each is kept.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { posix as path } from 'node:path';
import { languageOf } from './cases.mjs';

export const CORPORA = [
  { name: 'rxjs', kind: 'npm', pkg: 'rxjs', version: '7.8.2', dir: 'package/src', lang: 'TypeScript' },
  { name: 'three', kind: 'npm', pkg: 'three', version: '0.170.0', dir: 'package/src', lang: 'JavaScript (ES modules)' },
  { name: 'webpack', kind: 'npm', pkg: 'webpack', version: '5.97.1', dir: 'package/lib', lang: 'JavaScript (CommonJS)' },
  {
    name: 'sqlalchemy', kind: 'deb', pkg: 'python3-sqlalchemy', version: '1.4.46+ds1-1',
    dir: 'usr/lib/python3/dist-packages', keep: 'sqlalchemy', lang: 'Python',
  },
];

// What the seeder leaves out by name (seeder/walk.c), so that the baselines
// see the same files as lca's index.
const VENDORED = new Set(['node_modules', 'bower_components', 'jspm_packages', 'vendor', 'third_party',
  'third-party', 'thirdparty', '3rdparty', 'dist', 'build', '.venv', 'venv', 'site-packages', '__pycache__',
  '.tox', '.mypy_cache', '.pytest_cache', '.next', '.nuxt', '.gradle', 'Pods', 'Carthage', '.yarn',
  '.pnpm-store', '.bundle', '.git', '.hg', '.svn']);
const MAX_FILE_BYTES = 1 << 20;

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
}

function fetchNpm(c, dl) {
  const tgz = path.join(dl, `${c.pkg.replace('/', '-')}-${c.version}.tgz`);
  if (!fs.existsSync(tgz)) run('npm', ['pack', '--silent', '--pack-destination', dl, `${c.pkg}@${c.version}`]);
  const out = path.join(dl, `${c.name}-x`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  run('tar', ['xzf', tgz, '-C', out]);
  return { root: path.join(out, c.dir), version: c.version };
}

function fetchDeb(c, dl, log) {
  const find = () => fs.readdirSync(dl).find((f) => f.startsWith(c.pkg + '_') && f.endsWith('.deb'));
  let version = c.version;
  if (!find()) {
    const tries = [`${c.pkg}=${c.version}`, c.pkg];
    let ok = false;
    for (let round = 0; round < 2 && !ok; round++) {
      for (const t of tries) {
        try {
          run('apt-get', ['download', '-q', t], { cwd: dl });
          ok = true;
          if (t === c.pkg) log(`warning: ${c.pkg} ${c.version} is gone from the mirror; using the version it has`);
          break;
        } catch { /* try the next */ }
      }
      if (!ok && round === 0) {
        if (process.getuid && process.getuid() === 0) {
          log('apt-get update (package lists are missing or old)');
          try { run('apt-get', ['update', '-qq']); } catch (e) { log(`apt-get update failed: ${e.message}`); }
        } else break;
      }
    }
    if (!ok) throw new Error(`cannot download ${c.pkg} with apt-get download (run 'apt-get update' as root first)`);
  }
  const deb = find();
  version = decodeURIComponent(deb.split('_')[1]);
  const out = path.join(dl, `${c.name}-x`);
  fs.rmSync(out, { recursive: true, force: true });
  run('dpkg-deb', ['-x', path.join(dl, deb), out]);
  return { root: path.join(out, c.dir), version };
}

// Reads the code files of a fetched corpus: Map rel -> text.
function readCode(root, keep) {
  const files = new Map();
  const walk = (rel) => {
    const abs = path.join(root, rel);
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!VENDORED.has(e.name)) walk(r);
      } else if (e.isFile() && languageOf(r) && !/\.min\.|-min\.js$|\.bundle\.js$/.test(e.name)) {
        const st = fs.statSync(path.join(root, r));
        if (st.size > 0 && st.size <= MAX_FILE_BYTES) files.set(r, fs.readFileSync(path.join(root, r), 'utf8'));
      }
    }
  };
  walk(keep || '');
  return files;
}

// Fetches one corpus into dl (reusing what is there) and returns
// {spec, version, files}.
export function fetchCorpus(c, dl, log) {
  fs.mkdirSync(dl, { recursive: true });
  const { root, version } = c.kind === 'npm' ? fetchNpm(c, dl) : fetchDeb(c, dl, log);
  return { spec: c, version, files: readCode(root, c.keep) };
}

// Writes a corpus (with masked files replacing their originals) to dir.
export function writeCorpus(dir, files, masked) {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, text] of files) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, masked.get(rel) ?? text);
  }
}
