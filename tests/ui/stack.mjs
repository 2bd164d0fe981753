// The whole lca stack for the status page's tests, from the real binaries:
// lca-gateway (hosting the broker), lca-embedder, one lca-retriever per
// shard over a fresh data directory, lca-generator in front of the fake
// Ollama (tests/fake-ollama), and lca-seeder to index a repository.  The
// node counterpart of tests/stack.h.
//
//   const stack = await startStack({ key: 's3cret' });
//   await stack.seed('tests/fixtures/repo/py', 'shop');
//   ... stack.url ...
//   await stack.stop();           // SIGTERM to all; rejects if the gateway does not exit 0
//
// LCA_BIN names the binaries (default build/bin).  Every process logs to
// <dir>/<name>.log; stack.logs() returns their tails for a failure message.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake } from '../clients/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
const BIN = path.resolve(ROOT, process.env.LCA_BIN || 'build/bin');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

/** Polls probe every everyMs until it returns truthy or timeoutMs passes; rejects then. */
export async function until(probe, what, { timeoutMs = 20000, everyMs = 50 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe().catch(() => null);
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/**
 * Starts the stack.  Options: key (LCA_API_KEY for the gateway), shards (2),
 * gatewayOnly (no workers, no fake), env (more gateway environment).
 */
export async function startStack({ key, shards = 2, gatewayOnly = false, env = {} } = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lca-ui-'));
    const children = [];
    const port = await freePort();
    // The stack's own broker, as lca's default is: a Unix socket in a
    // directory only this user may enter (mkdtemp makes it 0700).
    const broker = `ipc://${dir}/broker`;
    const url = `http://127.0.0.1:${port}`;
    const base = { ...process.env, LCA_HEARTBEAT_MS: '200', LCA_LOG: 'info' };
    delete base.LCA_API_KEY;

    const run = (name, bin, args, extraEnv = {}) => {
        const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
        const child = spawn(path.join(BIN, bin), args, {
            env: { ...base, ...extraEnv },
            stdio: ['ignore', log, log],
        });
        fs.closeSync(log);
        child.name = name;
        children.push(child);
        return child;
    };

    const gatewayEnv = { ...env };
    if (key) gatewayEnv.LCA_API_KEY = key;
    const gateway = run('gateway', 'lca-gateway', ['--port', String(port), '--broker', broker, '--shards', String(shards)], gatewayEnv);
    let fake = null;
    if (!gatewayOnly) {
        fake = await startFake();
        run('embedder', 'lca-embedder', ['--broker', broker, '--threads', '1']);
        for (let i = 0; i < shards; i++)
            run(`retriever${i}`, 'lca-retriever', ['--shard', `${i}/${shards}`, '--data', path.join(dir, 'data'), '--broker', broker, '--threads', '1']);
        run('generator', 'lca-generator', ['--broker', broker], { OLLAMA_HOST: fake.url });
    }

    const stack = {
        dir,
        url,
        port,
        broker,
        key,
        fake,
        gateway,
        /** Headers with the key, when there is one. */
        auth(extra = {}) {
            return key ? { ...extra, Authorization: `Bearer ${key}` } : { ...extra };
        },
        logs() {
            return fs
                .readdirSync(dir)
                .filter((f) => f.endsWith('.log'))
                .map((f) => `---- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-30).join('\n')}`)
                .join('\n');
        },
        /** Indexes a copy of repo (relative to the repository root) as collection name,
         *  rooted at <dir>/<name> (so that nothing shows where this checkout lives). */
        async seed(repo, name) {
            const copy = path.join(dir, name);
            fs.cpSync(path.resolve(ROOT, repo), copy, { recursive: true });
            const child = run('seeder', 'lca-seeder', [copy, '--broker', broker, '--shards', String(shards), '--collection', name]);
            const [code] = await once(child, 'exit');
            if (code !== 0) throw new Error(`lca-seeder exited with ${code}\n${stack.logs()}`);
        },
        /** Stops everything; resolves to the gateway's exit code. */
        async stop() {
            let gatewayCode = null;
            await Promise.all(
                children.map(async (child) => {
                    if (child.exitCode !== null || child.signalCode !== null) {
                        if (child === gateway) gatewayCode = child.exitCode;
                        return;
                    }
                    const exited = once(child, 'exit');
                    child.kill('SIGTERM');
                    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
                    const [code] = await exited;
                    clearTimeout(timer);
                    if (child === gateway) gatewayCode = code;
                }),
            );
            if (fake) await fake.stop();
            return gatewayCode;
        },
        cleanup() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };

    try {
        await until(async () => {
            const res = await fetch(`${url}/healthz`);
            if (gatewayOnly) return res.status === 200 || res.status === 503;
            return res.status === 200;
        }, 'the stack to be ready');
    } catch (err) {
        const logs = stack.logs();
        await stack.stop();
        throw new Error(`${err.message}\n${logs}`);
    }
    return stack;
}
