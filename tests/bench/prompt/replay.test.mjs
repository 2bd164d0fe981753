// The prompt benchmark's replay pieces on a small made-up package: which
// functions are typed, the index's view of the repository, the two clients'
// requests, and where the context block of an upstream prompt ends.
//
//   node --test tests/bench/prompt/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    pythonImports, definitionLine, pythonFunctions, crossFileUses, chooseFunctions, withoutBodies, typedState,
    keystrokes, proxyaiRequest, continueRequest, contextBlock,
} from './replay.mjs';
import { tokenize } from '../../fake-ollama/tokens.mjs';

const body = (n) => Array.from({ length: n }, (_, i) => `    total = total + helper(${i})  # step ${i}\n`).join('');

const files = new Map([
    ['pkg/__init__.py', ''],
    ['pkg/util.py', 'import os\n\ndef helper(x):\n    return x\n\nMISSING = object()\nclass Box:\n    pass\n'],
    ['pkg/nodes.py', 'class Node:\n    pass\n\nclass Call(Node):\n    pass\n'],
    ['pkg/main.py', [
        'from .util import helper, MISSING as NOTHING',
        'from . import nodes',
        'from .nodes import (',
        '    Node,',
        '    Call as C,',
        ')',
        '',
        'def run(',
        '    a,',
        '    b=(1, 2),',
        ') -> int:',
        '    total = 0',
        body(10).trimEnd(),
        '    return nodes.Call() or total',
        '',
        'def tiny():',
        '    return 1',
        '',
        'class K:',
        '    def method(self):',
        '        if self is NOTHING:',
        '            return C()',
        '        return None',
        '',
    ].join('\n')],
]);

test('imports, definitions and the functions of a file', () => {
    const imports = pythonImports(files.get('pkg/main.py'), 'pkg/main.py');
    assert.deepEqual(imports.get('helper'), { module: 'pkg/util', name: 'helper' });
    assert.deepEqual(imports.get('NOTHING'), { module: 'pkg/util', name: 'MISSING' });
    assert.deepEqual(imports.get('nodes'), { module: 'pkg/nodes', name: null });
    assert.deepEqual(imports.get('C'), { module: 'pkg/nodes', name: 'Call' });
    assert.equal(definitionLine(files.get('pkg/util.py'), 'MISSING'), 'MISSING = object()');
    assert.equal(definitionLine(files.get('pkg/nodes.py'), 'Call'), 'class Call(Node):');
    assert.equal(definitionLine(files.get('pkg/nodes.py'), 'Nothing'), null);

    const text = files.get('pkg/main.py');
    const fns = pythonFunctions(text);
    assert.deepEqual(fns.map((f) => [f.name, f.line]), [['run', 8], ['tiny', 25], ['method', 29]]);
    const run = fns[0];
    assert.ok(run.body.startsWith('    total = 0\n'), 'the body starts after a signature of several lines');
    assert.ok(run.body.endsWith('    return nodes.Call() or total\n'));
    assert.equal(text.slice(run.bodyStart, run.bodyEnd), run.body);
    assert.deepEqual(crossFileUses(files, 'pkg/main.py', run.body).map((u) => [u.name, u.file]),
        [['helper', 'pkg/util.py'], ['Call', 'pkg/nodes.py']]);
    assert.deepEqual(crossFileUses(files, 'pkg/main.py', fns[2].body).map((u) => u.header),
        ['MISSING = object()', 'class Call(Node):']);
});

test('the chosen functions, and the repository without their bodies', () => {
    const chosen = chooseFunctions(files, { count: 3, minChars: 100, maxChars: 1000 });
    assert.deepEqual(chosen.map((c) => c.name), ['run'], 'only run is long enough and uses another file');
    assert.deepEqual(chooseFunctions(files, { count: 3, minChars: 100, maxChars: 1000 }).map((c) => c.name), ['run'],
        'the same every time');
    const seeded = withoutBodies(files, chosen);
    assert.match(seeded.get('pkg/main.py'), /\) -> int:\n    pass\n\ndef tiny\(\):/);
    assert.equal(seeded.get('pkg/util.py'), files.get('pkg/util.py'));
});

test('typing: the buffer grows at the cursor; a request every six characters and at the end', () => {
    const text = files.get('pkg/main.py');
    const run = pythonFunctions(text)[0];
    const ks = keystrokes(run, 6);
    assert.equal(ks[0], 6);
    assert.equal(ks.at(-1), run.body.length);
    assert.ok(ks.every((k, i) => i === 0 || k > ks[i - 1]));
    const { buffer, cursor } = typedState(text, run, 10);
    assert.equal(buffer.slice(cursor - 10, cursor), run.body.slice(0, 10));
    assert.equal(buffer.slice(cursor), text.slice(run.bodyEnd));
});

test('ProxyAI: raw CodeQwen2.5 prompt, about 256 tokens each side; Continue: whole lines, prompt + suffix', () => {
    const big = body(200);
    const cursor = big.length / 2 + 3;
    const p = proxyaiRequest(big, cursor, { lcaRag: false });
    assert.equal(p.raw, true);
    assert.equal(p.options.lca_rag, false);
    const m = p.prompt.match(/^<\|fim_prefix\|> ([\s\S]*) <\|fim_suffix\|>([\s\S]*) <\|fim_middle\|>$/);
    assert.ok(m, p.prompt.slice(0, 80));
    assert.equal(tokenize(m[1]).length, 256);
    assert.ok(big.slice(0, cursor).endsWith(m[1]) && big.slice(cursor).startsWith(m[2]));
    assert.equal(proxyaiRequest(big, cursor).options.lca_rag, undefined, 'lca on: the option is not sent');

    const c = continueRequest(big, cursor);
    assert.equal(c.raw, undefined);
    assert.ok(big.slice(0, cursor).endsWith(c.prompt) && big.slice(cursor).startsWith(c.suffix));
    assert.ok(c.prompt.startsWith('    total'), 'the prefix starts at a line');
    assert.ok(tokenize(c.prompt).length <= 4096 * 0.3 && tokenize(c.prompt).length > 4096 * 0.3 - 40);
    assert.ok(tokenize(c.suffix).length <= 4096 * 0.2);
});

test('the context block: before the client\'s own text, even with file text put back before it', () => {
    const file = 'import os\n\ndef f():\n    x = 1\n    return x';
    const client = '    x = 1\n    return x';
    const ctx = '<|repo_name|>r\n<|file_sep|>a.py\ndef g(): pass\n<|file_sep|>b.py\n';
    const alone = `<|fim_prefix|> ${client} <|fim_suffix|>\n <|fim_middle|>`;
    assert.equal(contextBlock(alone, file, ' <|fim_suffix|>'), '<|fim_prefix|>');
    assert.equal(contextBlock(ctx + alone, file, ' <|fim_suffix|>'), ctx + '<|fim_prefix|>');
    const restored = `${ctx}<|fim_prefix|> def f():\n${client} <|fim_suffix|>\n <|fim_middle|>`;
    assert.equal(contextBlock(restored, file, ' <|fim_suffix|>'), ctx + '<|fim_prefix|>',
        'text of the file before the client\'s window is the file\'s');
    const templated = `<|fim_prefix|># a.py\n# def g(): pass\n${client}<|fim_suffix|>\n<|fim_middle|>`;
    assert.equal(contextBlock(templated, file, '<|fim_suffix|>'), '<|fim_prefix|># a.py\n# def g(): pass');
});
