// The limits page: lists the sync limits of a namespace with holders and waiters, and refreshes on
// server-sent events. The token stays in this tab's sessionStorage and goes only to this server.
const TOKEN_KEY = 'argosync-token';
const api = (path) => new URL(`api/v1/${path}`, document.baseURI);
const $ = (selector) => document.querySelector(selector);

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

async function call(path, init = {}) {
  const response = await fetch(api(path), {
    ...init,
    headers: { authorization: `Bearer ${token()}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body = await response.json();
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn();
  }
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds / 3600)}h`;
}

function usage(limit) {
  const held = limit.holders.length;
  const cell = element('div', undefined, { class: 'usage' });
  const bar = element('div', undefined, { class: held >= limit.limit ? 'bar full' : 'bar', role: 'img', 'aria-label': `${held} of ${limit.limit} in use` });
  const fill = element('span');
  fill.style.width = `${Math.min(100, (100 * held) / limit.limit)}%`;
  bar.append(fill);
  cell.append(bar, element('span', `${held} of ${limit.limit}`));
  return cell;
}

function list(tag, items, describe) {
  if (items.length === 0) return element('small', 'none');
  const node = element(tag);
  for (const item of items) node.append(element('li', describe(item)));
  return node;
}

function render(items) {
  const body = $('#limits tbody');
  body.replaceChildren();
  for (const limit of items) {
    const row = element('tr', undefined, { 'data-key': limit.key });
    const cells = [
      element('td', limit.key),
      element('td', limit.type === 1 ? 'database' : 'configmap'),
      element('td', limit.cmName ?? ''),
      element('td'),
      element('td'),
      element('td'),
    ];
    cells[3].append(usage(limit));
    cells[4].append(list('ul', limit.holders, (holder) => `${holder.key} (token ${holder.token}, for ${since(holder.since)})`));
    cells[5].append(list('ol', limit.waiting, (waiter) => `${waiter.key} (priority ${waiter.priority}, created ${since(waiter.since)} ago)`));
    row.append(...cells);
    body.append(row);
  }
  $('#empty').hidden = items.length > 0;
  $('#limits').hidden = items.length === 0;
}

let namespace = new URLSearchParams(location.hash.slice(1)).get('namespace') ?? 'default';
let stopEvents = () => undefined;

async function refresh() {
  try {
    const result = await call(`sync/${encodeURIComponent(namespace)}`);
    render(result.items ?? []);
    $('#error').hidden = true;
  } catch (error) {
    $('#error').textContent = error.message;
    $('#error').hidden = false;
  }
}

/** Server-sent events over fetch, so the token travels in a header rather than in the URL. */
function follow() {
  stopEvents();
  const controller = new AbortController();
  stopEvents = () => controller.abort();
  (async () => {
    const response = await fetch(api(`sync-events?namespace=${encodeURIComponent(namespace)}`), {
      headers: { authorization: `Bearer ${token()}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`live updates unavailable (HTTP ${response.status})`);
    $('#live').textContent = 'live';
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const messages = buffer.split('\n\n');
      buffer = messages.pop() ?? '';
      if (messages.some((message) => message.startsWith('event: change'))) await refresh();
    }
    $('#live').textContent = 'reconnecting…';
    setTimeout(follow, 1000);
  })().catch((error) => {
    if (controller.signal.aborted) return;
    $('#live').textContent = error.message;
    setTimeout(follow, 3000);
  });
}

const SECTIONS = ['synchronization', 'persistence'];
/** Facts the server adds to a section; they are shown, not sent back. */
const LIVE_FIELDS = ['schemaVersion', 'database', 'controllers'];

function sectionEditor(name, section) {
  const box = element('div', undefined, { class: 'section', 'data-section': name });
  box.append(element('h2', name));
  const facts = element('p');
  facts.textContent = section.database ? `Database: ${section.database}. Schema version ${section.schemaVersion}.` : section.schemaVersion ? `Schema version ${section.schemaVersion}.` : 'No database configured.';
  box.append(facts);
  if (section.controllers) box.append(list('ul', section.controllers, (controller) => `${controller.name}: last heartbeat ${controller.lastHeartbeat ?? 'never'}`));
  const settings = Object.fromEntries(Object.entries(section).filter(([key]) => !LIVE_FIELDS.includes(key)));
  const label = element('label', `Settings of ${name} (JSON)`);
  const editor = element('textarea', JSON.stringify(settings, null, 2), { name, spellcheck: 'false' });
  label.append(editor);
  const save = element('button', `Save ${name}`, { type: 'button' });
  save.addEventListener('click', async () => {
    try {
      const body = JSON.parse(editor.value);
      await call(`config/${name}`, { method: 'PUT', body: JSON.stringify(body) });
      $('#config-error').hidden = true;
      await showConfig();
    } catch (error) {
      $('#config-error').textContent = `${name}: ${error.message}`;
      $('#config-error').hidden = false;
    }
  });
  box.append(label, save);
  return box;
}

async function showConfig() {
  try {
    const sections = await Promise.all(SECTIONS.map((name) => call(`config/${name}`)));
    $('#sections').replaceChildren(...sections.map((section, index) => sectionEditor(SECTIONS[index], section)));
  } catch (error) {
    $('#config-error').textContent = error.message;
    $('#config-error').hidden = false;
  }
}

function showSignIn() {
  stopEvents();
  $('#limits-page').hidden = true;
  $('#config-page').hidden = true;
  $('#sign-in').hidden = false;
  $('#token').focus();
}

function showLimits() {
  $('#namespace').value = namespace;
  void refresh();
  follow();
}

/** The page named by the URL's hash: `#config`, else the limits page (`#namespace=...`). */
function route() {
  if (!token()) return showSignIn();
  const page = location.hash === '#config' ? 'config' : 'limits';
  $('#sign-in').hidden = true;
  $('#limits-page').hidden = page !== 'limits';
  $('#config-page').hidden = page !== 'config';
  // The Limits link keeps the namespace, so coming back (or reloading) shows the same one.
  $('nav a[data-page="limits"]').setAttribute('href', `#namespace=${encodeURIComponent(namespace)}`);
  for (const link of document.querySelectorAll('nav a')) {
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (page === 'config') {
    stopEvents();
    void showConfig();
  } else showLimits();
}

window.addEventListener('hashchange', route);

$('#sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
  route();
});

$('#namespace-form').addEventListener('submit', (event) => {
  event.preventDefault();
  namespace = $('#namespace').value.trim();
  history.replaceState(null, '', `#namespace=${encodeURIComponent(namespace)}`);
  showLimits();
});

route();
