// The corpora: real code nobody on this team wrote, fetched from the
// registries at eval time with pinned versions.  npm packages come as their
// published tarball (`npm pack`, no dependencies, no install scripts);
// Debian packages as their .deb (`apt-get download`, no root needed), unpacked
// with dpkg-deb (and, for source shipped as an archive inside the .deb, the
// archive unpacked too).  Only the source folder of each is kept.
//
// Two per language: one in the "tune" set (weights may be set on it), one
// in the "report" set (only ever measured).  The Python and Go standard
// libraries and golang.org/x/tools are deliberately absent: they are
// held-out checks.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { posix as path } from 'node:path';
import zlib from 'node:zlib';
import { languageOf, MANIFESTS } from './common.mjs';

const DIST = 'usr/lib/python3/dist-packages';
export const CORPORA = [
  { name: 'sqlalchemy', set: 'tune', lang: 'Python', kind: 'deb', pkg: 'python3-sqlalchemy', version: '1.4.46+ds1-1', dir: DIST, keep: 'sqlalchemy' },
  { name: 'networkx', set: 'report', lang: 'Python', kind: 'deb', pkg: 'python3-networkx', version: '2.8.8-1', dir: DIST, keep: 'networkx' },
  { name: 'three', set: 'tune', lang: 'JavaScript', kind: 'npm', pkg: 'three', version: '0.170.0', dir: 'package/src', style: 'ES modules' },
  { name: 'eslint', set: 'report', lang: 'JavaScript', kind: 'npm', pkg: 'eslint', version: '9.39.1', dir: 'package/lib', style: 'CommonJS' },
  { name: 'rxjs', set: 'tune', lang: 'TypeScript', kind: 'npm', pkg: 'rxjs', version: '7.8.2', dir: 'package/src' },
  { name: 'effect', set: 'report', lang: 'TypeScript', kind: 'npm', pkg: 'effect', version: '3.19.3', dir: 'package/src' },
  {
    name: 'distribution', set: 'tune', lang: 'Go', kind: 'deb', pkg: 'golang-github-docker-distribution-dev', version: '2.8.2+ds1-1',
    dir: 'usr/share/gocode/src', style: 'GOPATH layout, no go.mod',
  },
  {
    name: 'go-git', set: 'report', lang: 'Go', kind: 'deb', pkg: 'golang-github-go-git-go-git-dev', version: '5.4.2-3',
    dir: 'usr/share/gocode/src/github.com/go-git/go-git', style: 'go.mod',
  },
  { name: 'tokio', set: 'tune', lang: 'Rust', kind: 'deb', pkg: 'librust-tokio-dev', version: '1.24.2-1', dir: 'usr/share/cargo/registry/tokio-1.24.2' },
  { name: 'rayon', set: 'report', lang: 'Rust', kind: 'deb', pkg: 'librust-rayon-dev', version: '1.6.1-1', dir: 'usr/share/cargo/registry/rayon-1.6.1' },
  { name: 'beanshell', set: 'tune', lang: 'Java', kind: 'deb', pkg: 'bsh-src', version: '2.0b4-20', archive: 'usr/src/bsh-src/bsh.tar.gz', dir: '' },
  {
    name: 'javafx-controls', set: 'report', lang: 'Java', kind: 'deb', pkg: 'openjfx-source', version: '11.0.11+1-3',
    archive: 'usr/share/openjfx/lib/src.zip', dir: 'javafx.controls',
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
  if (!c.archive) return { root: path.join(out, c.dir), version };
  // source shipped as an archive inside the package
  const archive = path.join(out, c.archive);
  const src = path.join(out, 'archive');
  fs.mkdirSync(src, { recursive: true });
  if (/\.zip$/.test(archive)) unzip(archive, src, c.dir ? c.dir + '/' : '');
  else run('tar', ['xzf', archive, '-C', src]);
  return { root: path.join(src, c.dir), version };
}

// Extracts the entries of a zip file under prefix (stored or deflated),
// with node's zlib: no unzip program needed.
export function unzip(file, dest, prefix = '') {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65558); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file`);
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (!name.startsWith(prefix) || name.endsWith('/') || name.split('/').includes('..')) continue;
    const data = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(data, data + size);
    const bytes = method === 0 ? raw : method === 8 ? zlib.inflateRawSync(raw) : null;
    if (!bytes) throw new Error(`${file}: ${name}: compression method ${method}`);
    const to = path.join(dest, name);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, bytes);
  }
}

// The text of a file the seeder indexes (seeder/walk.c), else null: no NUL
// byte, valid UTF-8, no generated-file marker in the first 12 lines, an
// average line under 300 bytes.
export function seederText(bytes) {
  if (bytes.subarray(0, 8192).includes(0)) return null;
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const head = bytes.subarray(0, 4096).toString('utf8').split('\n').slice(0, 12);
  if (head.some((l) => l.includes('@generated') || /<auto-generated/i.test(l) || (/generated/i.test(l) && /do not edit/i.test(l)))) return null;
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (bytes.length >= 1024 && bytes.length / Math.max(1, lines) > 300) return null;
  return text;
}

// Reads the code files of a fetched corpus: Map rel -> text, and the
// manifests that steer import resolution (go.mod, Cargo.toml, tsconfig).
function readCode(root, keep) {
  const files = new Map();
  const manifests = new Map();
  const walk = (rel) => {
    const abs = path.join(root, rel);
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!VENDORED.has(e.name)) walk(r);
      } else if (e.isFile() && MANIFESTS.has(e.name)) {
        manifests.set(r, fs.readFileSync(path.join(root, r), 'utf8'));
      } else if (e.isFile() && languageOf(r) && !/\.min\.|-min\.js$|\.bundle\.js$/.test(e.name)) {
        const st = fs.statSync(path.join(root, r));
        if (st.size === 0 || st.size > MAX_FILE_BYTES) continue;
        const text = seederText(fs.readFileSync(path.join(root, r)));
        if (text !== null) files.set(r, text);
      }
    }
  };
  walk(keep || '');
  return { files, manifests };
}

// Fetches one corpus into dl (reusing what is there) and returns
// {spec, version, files, manifests}.
export function fetchCorpus(c, dl, log) {
  fs.mkdirSync(dl, { recursive: true });
  const { root, version } = c.kind === 'npm' ? fetchNpm(c, dl) : fetchDeb(c, dl, log);
  return { spec: c, version, ...readCode(root, c.keep) };
}

// Writes a corpus (with masked files replacing their originals, and its
// manifests) to dir.
export function writeCorpus(dir, files, masked, manifests = new Map()) {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, text] of [...files, ...manifests]) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, masked.get(rel) ?? text);
  }
}
