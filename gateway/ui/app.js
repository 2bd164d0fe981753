// lca's status page.  Plain script, no framework, no build step, served by
// the gateway from its own binary.  Every value from the server is written
// with textContent (never as HTML), so code, paths and model names show as
// they are.  The API key, when the gateway wants one, lives in this tab's
// sessionStorage and goes with each request as Authorization: Bearer; the
// live events are read with fetch() for that reason (EventSource cannot send
// headers).
'use strict';

const KEY_ITEM = 'lca-api-key';
const SIGNALS = {
  symbol: 'defines an identifier used near the cursor',
  object: 'defines the module or object before the cursor\u2019s dot',
  import: 'in a file the current file imports',
  fresh: 'defines a name the file imports and has not used yet',
  imported: 'defines a name the file imports and already uses',
  uses: 'how widely the definition is used',
  bm25: 'shares identifier sub-words with the query (BM25)',
  dense: 'similar as a whole (code-aware vector)',
};

const state = {
  broker: null,
  brokerError: null,
  collections: null,
  requests: new Map(), // id -> entry (the highest version seen)
  selectedRequest: 0,
  view: 'overview',
  streamAbort: null,
  streamEnded: false, // the gateway said bye: do not reconnect
  retryMs: 500,
};

// ---- small helpers ----

const $ = (id) => document.getElementById(id);

/** An element with attributes (class, title, dataset.*) and children (nodes or text). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-')) node.setAttribute(name, String(value));
    else node[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function numCell(value, digits = 0) {
  return el('td', { class: 'num' }, value === null || value === undefined ? '\u2014' : Number(value).toFixed(digits));
}

function meter(fraction, title) {
  const bar = el('span');
  bar.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return el('span', { class: 'meter', title }, bar);
}

function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false });
}

function ago(seconds) {
  if (!seconds) return 'never';
  const s = Math.max(0, Date.now() / 1000 - seconds);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return new Date(seconds * 1000).toLocaleDateString();
}

function replaceRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- talking to the gateway ----

class Unauthorized extends Error {}

function headers(extra) {
  const h = { ...(extra || {}) };
  const key = sessionStorage.getItem(KEY_ITEM);
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: headers(options.headers), cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof body.error === 'string' ? body.error : `HTTP ${res.status}`);
  return body;
}

function askForKey(message) {
  stopStream();
  $('key-view').hidden = false;
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  $('key-error').textContent = message || '';
  $('key-input').focus();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_ITEM, $('key-input').value.trim());
  $('key-input').value = '';
  $('key-view').hidden = true;
  start();
});

// ---- the live stream ----

function setLive(on, text) {
  const live = $('live');
  live.classList.toggle('on', on);
  live.classList.toggle('off', !on);
  live.textContent = text;
}

function stopStream() {
  if (state.streamAbort) state.streamAbort.abort();
  state.streamAbort = null;
}

function onEvent(name, data) {
  let value = {};
  try {
    value = data ? JSON.parse(data) : {};
  } catch {
    return;
  }
  switch (name) {
    case 'hello':
      state.retryMs = 500;
      setLive(true, 'live');
      $('version').textContent = `v${value.version}`;
      loadState();
      break;
    case 'request':
      upsertRequest(value);
      renderRequests();
      break;
    case 'status':
      state.broker = value.broker;
      state.brokerError = null;
      renderServices();
      break;
    case 'collections':
      state.collections = value;
      renderCollections();
      break;
    case 'resync':
      loadState();
      break;
    case 'bye':
      state.streamEnded = true;
      setLive(false, `closed: ${value.reason || 'by the gateway'}`);
      break;
    default:
      break;
  }
}

/** Parses SSE blocks out of text; returns what is left of an unfinished block. */
function parseEvents(text) {
  let rest = text;
  for (;;) {
    const m = /\r?\n\r?\n/.exec(rest);
    if (!m) return rest;
    const block = rest.slice(0, m.index);
    rest = rest.slice(m.index + m[0].length);
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) onEvent(name, data.join('\n'));
  }
}

async function stream() {
  stopStream();
  const abort = new AbortController();
  state.streamAbort = abort;
  try {
    const res = await fetch('/ui/events', {
      headers: headers({ Accept: 'text/event-stream' }),
      cache: 'no-store',
      signal: abort.signal,
    });
    if (res.status === 401) throw new Unauthorized();
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending = parseEvents(pending + value);
    }
  } catch (err) {
    if (err instanceof Unauthorized) {
      askForKey(sessionStorage.getItem(KEY_ITEM) ? 'That key was refused.' : '');
      return;
    }
    if (abort.signal.aborted) return;
  }
  if (state.streamAbort !== abort || state.streamEnded) return;
  setLive(false, 'reconnecting');
  setTimeout(() => {
    if (state.streamAbort === abort) stream();
  }, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 10000);
}

// ---- the state ----

function upsertRequest(entry) {
  const known = state.requests.get(entry.id);
  if (!known || known.version <= entry.version) state.requests.set(entry.id, entry);
  // Bounded like the gateway's ring: the oldest go.
  const ids = [...state.requests.keys()].sort((a, b) => b - a);
  for (const id of ids.slice(state.historyMax || 64)) state.requests.delete(id);
}

async function loadState() {
  try {
    const s = await api('/ui/api/state');
    state.broker = s.broker;
    state.brokerError = s.broker_error;
    state.collections = s.collections;
    state.historyMax = s.history_max;
    $('version').textContent = `v${s.version}`;
    for (const entry of s.requests) upsertRequest(entry);
    renderAll();
  } catch (err) {
    if (err instanceof Unauthorized) askForKey(sessionStorage.getItem(KEY_ITEM) ? 'That key was refused.' : '');
    else setLive(false, `error: ${err.message}`);
  }
}

// ---- rendering: overview ----

function renderServices() {
  const broker = state.broker || { services: {}, workers: [] };
  const error = $('broker-error');
  error.hidden = !state.brokerError;
  error.textContent = state.brokerError || '';
  const names = Object.keys(broker.services || {}).sort();
  replaceRows(
    $('services').tBodies[0],
    names.map((name) => {
      const s = broker.services[name];
      return el(
        'tr',
        { 'data-service': name },
        el('td', { class: 'mono' }, name),
        numCell(s.workers),
        numCell(s.inflight),
        numCell(s.queued),
        numCell(s.requests),
        el('td', { class: s.failures ? 'num status-bad' : 'num' }, s.failures ?? 0),
      );
    }),
  );
  const workers = [...(broker.workers || [])].sort((a, b) => a.service.localeCompare(b.service) || a.pid - b.pid);
  replaceRows(
    $('workers').tBodies[0],
    workers.map((w) =>
      el(
        'tr',
        { 'data-service': w.service },
        el('td', { class: 'mono' }, w.service),
        el('td', {}, w.host || '?'),
        numCell(w.pid),
        el('td', { class: 'mono' }, w.key || '\u2014'),
        el('td', {}, meter(w.capacity ? w.inflight / w.capacity : 0, `${w.inflight} of ${w.capacity} slots busy`), ` ${w.inflight}/${w.capacity}`),
        numCell(w.served),
        el('td', { class: 'num' }, w.silent_ms === undefined ? '\u2014' : `${(w.silent_ms / 1000).toFixed(1)} s ago`),
      ),
    ),
  );
}

function renderCollections() {
  const c = state.collections || { list: [], known: false };
  const list = c.list || [];
  const note = [];
  if (!c.known) note.push('No retriever shard has answered yet.');
  if (c.shards_missing) note.push(`${c.shards_missing} shard(s) did not answer the last refresh.`);
  if (c.known && !list.length) note.push('Nothing indexed yet: run `lca seed DIR`.');
  $('collections-note').textContent = note.join(' ');
  replaceRows(
    $('collections').tBodies[0],
    list.map((col) => {
      const spread = col.shard_chunks || [];
      const max = Math.max(1, ...spread.filter((n) => n !== null));
      const bars = el('div', { class: 'spread' });
      spread.forEach((n, i) => {
        const bar = el('span', {
          class: n === null ? 'missing' : '',
          title: n === null ? `shard ${i}: did not answer` : `shard ${i}: ${n} chunks, ${col.shard_files[i]} files`,
        });
        if (n !== null) bar.style.height = `${(n / max) * 100}%`;
        bars.append(bar);
      });
      return el(
        'tr',
        { 'data-collection': col.name },
        el('td', { class: 'mono' }, col.name),
        el('td', { class: 'mono' }, col.root),
        numCell(col.files),
        numCell(col.chunks),
        el('td', {}, `${col.model} (${col.dim})`),
        el('td', { title: col.seeded_at ? new Date(col.seeded_at * 1000).toString() : '' }, ago(col.seeded_at)),
        el('td', {}, el('div', { class: 'spread-cell' }, bars, el('span', { class: 'muted' }, spread.map((n) => (n === null ? '?' : n)).join(' \u00b7 ')))),
      );
    }),
  );
  const select = $('query-collection');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'default'), ...list.map((col) => el('option', { value: col.name }, col.name)));
  select.value = list.some((col) => col.name === chosen) ? chosen : '';
}

// ---- rendering: requests ----

function statusCell(entry) {
  if (!entry.status) return el('td', { class: 'status-run' }, 'running');
  return el('td', { class: entry.status < 400 ? 'status-ok' : 'status-bad' }, entry.status);
}

function contextText(entry) {
  if (!entry.context) return 'off';
  const n = entry.context.chunks.length + entry.context.dropped;
  return n ? `${n} chunk${n === 1 ? '' : 's'}` : 'none';
}

function renderRequests() {
  const entries = [...state.requests.values()].sort((a, b) => b.id - a.id);
  $('requests-empty').hidden = entries.length > 0;
  $('requests-count').textContent = entries.length ? `(${entries.length}, newest first)` : '';
  replaceRows(
    $('request-list').tBodies[0],
    entries.map((e) => {
      const row = el(
        'tr',
        { class: `clickable${e.id === state.selectedRequest ? ' selected' : ''}`, 'data-id': e.id, tabIndex: 0 },
        el('td', { title: e.rid }, clock(e.started_at)),
        el('td', { class: 'mono' }, e.route),
        el('td', {}, e.model),
        statusCell(e),
        el('td', { class: 'num' }, e.first_token_ms === null ? '\u2014' : `${e.first_token_ms.toFixed(0)} ms`),
        numCell(e.tokens),
        numCell(e.prompt_tokens),
        numCell(e.reread_tokens),
        el('td', {}, contextText(e)),
        el('td', { class: 'num' }, e.duration_ms === null ? '\u2014' : `${e.duration_ms.toFixed(0)} ms`),
      );
      const open = () => selectRequest(e.id);
      row.addEventListener('click', open);
      row.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') open();
      });
      return row;
    }),
  );
  renderRequestDetail();
}

function chunkItem(chunk, used, onOpen) {
  const item = el(
    'li',
    { class: used === false ? 'unused' : '', tabIndex: 0, title: 'show the text and why it ranked' },
    el('span', { class: 'where' }, `${chunk.path}:${chunk.start_line}-${chunk.end_line}`),
    chunk.language ? el('span', { class: 'tag' }, chunk.language) : null,
    used === false ? el('span', { class: 'tag' }, 'over the budget') : null,
    el('span', { class: 'score' }, `score ${chunk.score.toFixed(3)}`),
  );
  item.addEventListener('click', () => {
    for (const li of item.parentElement.children) li.classList.remove('selected');
    item.classList.add('selected');
    onOpen();
  });
  item.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') item.click();
  });
  return item;
}

function selectRequest(id) {
  state.selectedRequest = id;
  $('chunk-detail').hidden = true;
  renderRequests();
}

function renderRequestDetail() {
  const entry = state.requests.get(state.selectedRequest);
  const detail = $('request-detail');
  detail.hidden = !entry;
  if (!entry) return;
  $('request-title').textContent = `${entry.route} \u00b7 ${entry.model} \u00b7 ${entry.rid}`;
  const ctx = entry.context;
  $('request-meta').textContent = !ctx
    ? 'No retrieval for this request (retrieval off for it, or it had nothing to ask).'
    : `${ctx.chunks.length} chunk(s) from ${ctx.collection || 'no collection'} in ${ctx.elapsed_ms.toFixed(1)} ms` +
      (ctx.dropped ? `, ${ctx.dropped} more not kept` : '') +
      '. Click one to see its text and why it ranked.';
  const list = $('request-chunks');
  const selected = list.querySelector('li.selected');
  const selectedIndex = selected ? [...list.children].indexOf(selected) : -1;
  list.replaceChildren(
    ...(ctx ? ctx.chunks : []).map((chunk, i) =>
      chunkItem(chunk, ctx.used[i], async () => {
        try {
          const answer = await api(`/ui/api/chunk?request=${entry.id}&index=${i}`);
          showChunk(answer.chunk, answer.used ? 'went into the prompt' : 'retrieved, but over the prompt\u2019s budget', answer.truncated);
        } catch (err) {
          if (err instanceof Unauthorized) askForKey('That key was refused.');
          else showChunkError(err.message);
        }
      }),
    ),
  );
  if (selectedIndex >= 0 && list.children[selectedIndex]) list.children[selectedIndex].classList.add('selected');
}

// ---- a chunk: its text and why it ranked ----

function showChunk(chunk, note, truncated) {
  const panel = $('chunk-detail');
  panel.hidden = false;
  $('chunk-title').textContent = `${chunk.path}:${chunk.start_line}-${chunk.end_line}`;
  $('chunk-meta').textContent = `score ${chunk.score.toFixed(4)}${note ? ` \u00b7 ${note}` : ''}${truncated ? ' \u00b7 text cut for the page' : ''}`;
  const terms = chunk.breakdown || [];
  const total = terms.reduce((sum, t) => sum + t.value * t.weight, 0) || 1;
  replaceRows(
    $('chunk-breakdown').tBodies[0],
    terms.map((t) =>
      el(
        'tr',
        { 'data-signal': t.signal },
        el('td', { class: 'mono' }, t.signal),
        el('td', { class: 'muted' }, SIGNALS[t.signal] || ''),
        numCell(t.value, 3),
        numCell(t.weight, 3),
        numCell(t.value * t.weight, 3),
        el('td', {}, meter((t.value * t.weight) / total, `${(((t.value * t.weight) / total) * 100).toFixed(0)}% of the score`)),
      ),
    ),
  );
  $('chunk-text').textContent = chunk.text || '';
  panel.scrollIntoView({ block: 'nearest' });
}

function showChunkError(message) {
  const panel = $('chunk-detail');
  panel.hidden = false;
  $('chunk-title').textContent = 'Not available';
  $('chunk-meta').textContent = message;
  replaceRows($('chunk-breakdown').tBodies[0], []);
  $('chunk-text').textContent = '';
}

$('chunk-close').addEventListener('click', () => {
  $('chunk-detail').hidden = true;
});

// ---- trying a query ----

$('query-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const mode = document.querySelector('input[name=mode]:checked').value;
  const body = { k: Number($('query-k').value) || 8 };
  body[mode] = $('query-text').value;
  if ($('query-path').value.trim()) body.path = $('query-path').value.trim();
  if ($('query-collection').value) body.collection = $('query-collection').value;
  $('query-error').textContent = '';
  $('query-meta').textContent = 'retrieving\u2026';
  $('chunk-detail').hidden = true;
  try {
    const answer = await api('/api/context', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    $('query-meta').textContent =
      `${answer.chunks.length} chunk(s) from ${answer.collection} (${answer.root}) in ${answer.elapsed_ms.toFixed(1)} ms` +
      (answer.shards_missing ? `, ${answer.shards_missing} shard(s) missing` : '') +
      '. Click one to see its text and why it ranked.';
    $('query-chunks').replaceChildren(...answer.chunks.map((chunk) => chunkItem(chunk, undefined, () => showChunk(chunk, '', false))));
  } catch (err) {
    $('query-meta').textContent = '';
    $('query-chunks').replaceChildren();
    if (err instanceof Unauthorized) askForKey('That key was refused.');
    else $('query-error').textContent = err.message;
  }
});

// ---- views ----

function showView() {
  const wanted = (location.hash || '#overview').slice(1);
  state.view = ['overview', 'requests', 'retrieval'].includes(wanted) ? wanted : 'overview';
  if (!$('key-view').hidden) return;
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== state.view;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.id === `nav-${state.view}`);
  $('chunk-detail').hidden = true;
}

function renderAll() {
  renderServices();
  renderCollections();
  renderRequests();
}

window.addEventListener('hashchange', showView);

function start() {
  state.streamEnded = false;
  showView();
  stream();
}

start();
