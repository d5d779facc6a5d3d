// The page router and the Limits and Config pages. Limits list the sync limits of a namespace with holders
// and waiters, refreshed on server-sent events; Workflows and Archive live in workflows.js.
import { $, alert, api, authModes, authorization, call, element, list, signIn, signOut, since, token, whenSignedOut } from './dom.js';
import { showArchive, showWorkflow, showWorkflows, stopPolling } from './workflows.js';

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
    alert('#error');
  } catch (error) {
    alert('#error', error.message);
  }
}

/** Server-sent events over fetch, so the token travels in a header rather than in the URL. */
function follow() {
  stopEvents();
  const controller = new AbortController();
  stopEvents = () => controller.abort();
  (async () => {
    const response = await fetch(api(`sync-events?namespace=${encodeURIComponent(namespace)}`), {
      headers: { ...authorization(), accept: 'text/event-stream' },
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
      alert('#config-error');
      await showConfig();
    } catch (error) {
      alert('#config-error', `${name}: ${error.message}`);
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
    alert('#config-error', error.message);
  }
}

const PAGES = ['limits', 'workflows', 'workflow', 'archive', 'config'];

function showPage(page) {
  for (const name of PAGES) $(`#${name}-page`).hidden = name !== page;
}

/** Who the server says this is (a token's subject, an SSO user), or undefined when nobody is signed in. */
let user;

function showSignIn() {
  stopEvents();
  stopPolling();
  showPage(undefined);
  user = undefined;
  $('#who').hidden = true;
  $('#sso').hidden = !authModes().includes('sso');
  $('#sso-sign-in').setAttribute('href', `oauth2/redirect?redirect=${encodeURIComponent(location.pathname + location.hash)}`);
  $('#sign-in').hidden = false;
  $('#token').focus();
}

/** Asks the server who is signed in (the pasted token, or the SSO cookie) and shows it beside "Log out". */
async function whoAmI() {
  try {
    const info = await call('userinfo');
    user = info.email || info.name || info.subject || 'the server';
  } catch {
    user = undefined;
  }
  $('#who-name').textContent = user ?? '';
  $('#who').hidden = user === undefined;
}

function showLimits() {
  $('#namespace').value = namespace;
  void refresh();
  follow();
}

/**
 * The page named by the URL's hash: `#config`, `#workflows=&namespace=NS`, `#workflow=NS/NAME`,
 * `#archive=&namespace=NS` (no namespace: all), else the Limits page (`#namespace=NS`).
 */
function route() {
  if (user === undefined) return showSignIn();
  const params = new URLSearchParams(location.hash.slice(1));
  const page = PAGES.find((name) => name !== 'limits' && params.has(name)) ?? 'limits';
  if (params.get('namespace')) namespace = params.get('namespace');
  $('#sign-in').hidden = true;
  showPage(page);
  // The links keep the namespace, so moving between pages (or reloading) shows the same one.
  const inNamespace = `namespace=${encodeURIComponent(namespace)}`;
  $('nav a[data-page="limits"]').setAttribute('href', `#${inNamespace}`);
  $('nav a[data-page="workflows"]').setAttribute('href', `#workflows=&${inNamespace}`);
  for (const link of document.querySelectorAll('nav a')) {
    const current = link.dataset.page === page || (page === 'workflow' && link.dataset.page === 'workflows');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  stopEvents();
  stopPolling();
  if (page === 'config') void showConfig();
  else if (page === 'workflows') showWorkflows(namespace);
  else if (page === 'workflow') {
    const [workflowNamespace, name] = params.get('workflow').split('/');
    showWorkflow(workflowNamespace, name);
  } else if (page === 'archive') showArchive(params.get('namespace') ?? '');
  else showLimits();
}

window.addEventListener('hashchange', route);
whenSignedOut(showSignIn);

$('#sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  signIn($('#token').value.trim());
  await whoAmI();
  route();
});

$('#sign-out').addEventListener('click', (event) => {
  // A pasted token is forgotten here; an SSO session is ended by the server (the link's /oauth2/logout).
  if (!token()) return;
  event.preventDefault();
  signOut();
  showSignIn();
});

$('#namespace-form').addEventListener('submit', (event) => {
  event.preventDefault();
  namespace = $('#namespace').value.trim();
  history.replaceState(null, '', `#namespace=${encodeURIComponent(namespace)}`);
  showLimits();
});

$('#workflows-form').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = `workflows=&namespace=${encodeURIComponent($('#workflows-namespace').value.trim())}`;
});

$('#archive-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('#archive-namespace').value.trim();
  location.hash = value ? `archive=&namespace=${encodeURIComponent(value)}` : 'archive=';
});

// Without a pasted token only an SSO cookie (unreadable here: HttpOnly) or server mode can sign this page in.
if (token() || authModes().some((mode) => mode === 'sso' || mode === 'server')) await whoAmI();
route();
