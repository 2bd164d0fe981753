#!/usr/bin/env node
// `ollama` of the stand-in image that tests/compose/run puts where
// docker-compose.yml runs ollama/ollama: the same commands the compose file
// and the README use, answered by tests/fake-ollama instead of a model.
//
//   ollama serve        the fake on 0.0.0.0:11434 (the image's default command)
//   ollama list         the models it serves (the compose health check)
//   ollama pull MODEL   succeeds when the fake serves MODEL (it downloads nothing)
import http from 'node:http';

const [command, ...args] = process.argv.slice(2);
const port = 11434;

function call(method, path, body) {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request({ host: '127.0.0.1', port, method, path,
            headers: data ? { 'content-type': 'application/json' } : {} }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => resolve({ status: res.statusCode, text }));
        });
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
        req.end(data);
    });
}

function fail(message) {
    process.stderr.write(`Error: ${message}\n`);
    process.exit(1);
}

switch (command) {
case 'serve':
    process.argv = [process.argv[0], 'fake-ollama', '--host', '0.0.0.0', '--port', String(port)];
    await import('/opt/fake-ollama/fake-ollama.mjs');
    break;
case 'list': {
    const r = await call('GET', '/api/tags').catch((e) => fail(e.message));
    if (r.status !== 200) fail(`status ${r.status}: ${r.text}`);
    process.stdout.write('NAME\n');
    for (const m of JSON.parse(r.text).models || []) process.stdout.write(`${m.name}\n`);
    break;
}
case 'pull': {
    if (args.length !== 1) fail('usage: ollama pull MODEL');
    const r = await call('POST', '/api/show', { model: args[0] }).catch((e) => fail(e.message));
    if (r.status !== 200) fail(`pull model manifest: file does not exist (${args[0]})`);
    process.stdout.write('success\n');
    break;
}
default:
    fail(`unknown command "${command ?? ''}" for "ollama" (stand-in: serve, list, pull)`);
}
