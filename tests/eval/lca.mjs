// lca under test: `lca up` on free loopback ports with its own data folder,
// `lca seed` per corpus, and POST /api/context queries.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { posix as path } from 'node:path';

export class ContextMissing extends Error {}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Stack {
  constructor(bin, work, log) {
    this.bin = bin;
    this.work = work;
    this.log = log;
    this.child = null;
  }

  async start() {
    this.port = await freePort();
    // lca's default broker (a Unix socket in $XDG_RUNTIME_DIR/lca, closed to
    // other users), in a runtime directory of this run's own.
    this.runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'lca-eval-run-'));
    this.broker = `ipc://${this.runtime}/lca/broker`;
    this.logFile = path.join(this.work, 'lca-up.log');
    const out = fs.openSync(this.logFile, 'w');
    const env = { ...process.env, XDG_RUNTIME_DIR: this.runtime, LCA_PORT: String(this.port), LCA_SHARDS: '2' };
    delete env.LCA_BROKER;
    delete env.LCA_API_KEY;
    delete env.LCA_CURVE_DIR;
    delete env.LCA_SEED;
    this.env = env;
    this.child = spawn(path.join(this.bin, 'lca'),
      ['up', '--port', String(this.port), '--data', path.join(this.work, 'data'), '--shards', '2'],
      { env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    fs.writeFileSync(path.join(this.work, 'lca-up.pid'), String(this.child.pid));
    let exited = null;
    this.child.on('exit', (code, sig) => (exited = sig || code));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (exited !== null) throw new Error(`lca up exited (${exited}); see ${this.logFile}:\n${this.tail()}`);
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(200);
    }
    throw new Error(`lca up: /healthz not 200 within 30 s; see ${this.logFile}:\n${this.tail()}`);
  }

  tail(n = 20) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }

  // Stops lca up (SIGTERM: it stops its workers), SIGKILL after 10 s.
  async stop() {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(t);
    }
    if (this.runtime) fs.rmSync(this.runtime, { recursive: true, force: true });
  }

  stopSync() {
    if (this.seeder && this.seeder.exitCode === null) this.seeder.kill('SIGTERM');
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }

  seed(dir, collection) {
    return new Promise((resolve, reject) => {
      this.seeder = execFile(path.join(this.bin, 'lca'), ['seed', dir, '--collection', collection, '--json'],
        { env: this.env, maxBuffer: 64 << 20, timeout: 300000 }, (err, stdout, stderr) => {
          this.seeder = null;
          if (err) return reject(new Error(`lca seed ${collection} failed: ${err.message}\n${stderr}`));
          let summary = null;
          for (const line of stdout.split('\n')) {
            try {
              const j = JSON.parse(line);
              if (j && typeof j === 'object') summary = j;
            } catch { /* a plain line */ }
          }
          resolve({ summary, stdout, stderr });
        });
    });
  }

  // POST /api/context; returns {chunks, ms}.  404: the route is missing.
  async context(body) {
    const payload = JSON.stringify(body);
    let r;
    let text;
    let t0;
    for (let attempt = 1; ; attempt++) {
      t0 = performance.now();
      try {
        r = await fetch(`http://127.0.0.1:${this.port}/api/context`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: payload,
        });
        text = await r.text();
        break;
      } catch (e) {
        // a connection the server closed under us: say so, try twice more
        const why = e.cause ? `${e.cause.code || ''} ${e.cause.message || e.cause}` : e.message;
        this.retries = (this.retries || 0) + 1;
        this.log(`/api/context (${body.collection} ${body.path}, ${payload.length} bytes): ${why}${attempt < 3 ? ', retrying' : ''}`);
        if (attempt >= 3) throw new Error(`POST /api/context failed 3 times: ${why}`);
        await sleep(100);
      }
    }
    const ms = performance.now() - t0;
    if (r.status === 404 && !/collection/i.test(text)) {
      throw new ContextMissing('POST /api/context answered 404: the gateway has no context route yet');
    }
    if (r.status !== 200) throw new Error(`POST /api/context: ${r.status} ${text.slice(0, 300)}`);
    const j = JSON.parse(text);
    if (!Array.isArray(j.chunks)) throw new Error(`POST /api/context: no "chunks" array in ${text.slice(0, 300)}`);
    return { chunks: j.chunks, ms, degraded: !!(j.shards_missing || j.timed_out) };
  }
}

// A chunk's path relative to the corpus root (the gateway may answer with
// absolute paths or "./" prefixes).
export function relPath(p, root) {
  if (p.startsWith(root + '/')) return p.slice(root.length + 1);
  return p.replace(/^\.\//, '');
}
