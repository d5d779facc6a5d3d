// The Workflows pages (list, and one workflow with its node tree and synchronization status) and the
// Archive page. Workflows have no event stream, so a shown page polls every two seconds.
import { $, alert, call, element, list, since } from './dom.js';

const POLL_MS = 2000;
let timer;

export function stopPolling() {
  clearTimeout(timer);
}

function poll(load) {
  stopPolling();
  const tick = async () => {
    await load();
    timer = setTimeout(tick, POLL_MS);
  };
  void tick();
}

const link = (text, hash) => element('a', text, { href: hash });
const phaseCell = (phase) => element('td', phase || 'Pending', { class: `phase ${(phase || 'Pending').toLowerCase()}` });

/** Loads the list at `path` into table `#<name>` (one row per item from `toRow`), with its empty note and error line. */
async function loadTable(name, path, toRow) {
  try {
    const rows = ((await call(path)).items ?? []).map(toRow);
    $(`#${name} tbody`).replaceChildren(...rows);
    $(`#${name}`).hidden = rows.length === 0;
    $(`#${name}-empty`).hidden = rows.length > 0;
    alert(`#${name}-error`);
  } catch (error) {
    alert(`#${name}-error`, error.message);
  }
}

export function showWorkflows(namespace) {
  $('#workflows-namespace').value = namespace;
  poll(() =>
    loadTable('workflows', `workflows/${encodeURIComponent(namespace)}`, (workflow) => {
      const row = element('tr', undefined, { 'data-name': workflow.metadata.name });
      const name = element('td');
      name.append(link(workflow.metadata.name, `#workflow=${encodeURIComponent(`${namespace}/${workflow.metadata.name}`)}`));
      row.append(name, phaseCell(workflow.status?.phase), element('td', String(workflow.spec.priority ?? 0)), element('td', since(workflow.metadata.creationTimestamp)), element('td', workflow.status?.message ?? ''));
      return row;
    }),
  );
}

/** Nodes as Argo nests them: each node's children under it, from the root (the node named like the workflow). */
function nodeTree(nodes, id, seen = new Set()) {
  const node = nodes[id];
  if (!node || seen.has(id)) return element('span');
  seen.add(id);
  const item = element('li', undefined, { 'data-node': node.displayName });
  const label = element('span', `${node.displayName} `);
  label.append(element('span', node.phase, { class: `phase ${node.phase.toLowerCase()}` }));
  const details = [node.type, node.message, node.outputs?.result !== undefined ? `result: ${node.outputs.result}` : undefined, node.synchronizationStatus?.waiting ? `waiting for ${node.synchronizationStatus.waiting}` : undefined];
  item.append(label, element('small', ` ${details.filter(Boolean).join(' · ')}`));
  const children = (node.children ?? []).filter((child) => nodes[child]);
  if (children.length > 0) {
    const nested = element('ul');
    nested.append(...children.map((child) => nodeTree(nodes, child, seen)));
    item.append(nested);
  }
  return item;
}

function synchronization(status) {
  const sync = status?.synchronization ?? {};
  const lines = [
    ...(sync.semaphore?.holding ?? []).map((entry) => `holds semaphore ${entry.semaphore} (${entry.holders.join(', ')})`),
    ...(sync.mutex?.holding ?? []).map((entry) => `holds mutex ${entry.mutex} (${entry.holder})`),
    ...(sync.semaphore?.waiting ?? []).map((entry) => `waits for semaphore ${entry.semaphore} (held by ${(entry.holders ?? []).join(', ') || 'nobody'})`),
    ...(sync.mutex?.waiting ?? []).map((entry) => `waits for mutex ${entry.mutex} (held by ${entry.holder || 'nobody'})`),
  ];
  return list('ul', lines, (line) => line);
}

export function showWorkflow(namespace, name) {
  $('#workflow-title').textContent = `${namespace}/${name}`;
  $('#workflow-back').setAttribute('href', `#workflows=&namespace=${encodeURIComponent(namespace)}`);
  const path = `workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  $('#workflow-terminate').onclick = async () => {
    try {
      await call(`${path}/terminate`, { method: 'PUT' });
    } catch (error) {
      alert('#workflow-error', error.message);
    }
  };
  poll(async () => {
    try {
      const workflow = await call(path);
      const status = workflow.status ?? {};
      $('#workflow-phase').textContent = status.phase || 'Pending';
      $('#workflow-phase').className = `phase ${(status.phase || 'pending').toLowerCase()}`;
      $('#workflow-message').textContent = status.message ?? '';
      $('#workflow-sync').replaceChildren(synchronization(status));
      const nodes = status.nodes ?? {};
      const root = Object.values(nodes).find((node) => node.name === name);
      const tree = element('ul', undefined, { class: 'tree' });
      if (root) tree.append(nodeTree(nodes, root.id));
      $('#workflow-nodes').replaceChildren(root ? tree : element('small', 'no nodes yet'));
      $('#workflow-terminate').disabled = ['Succeeded', 'Failed', 'Error'].includes(status.phase);
      alert('#workflow-error');
    } catch (error) {
      alert('#workflow-error', error.message);
    }
  });
}

export function showArchive(namespace) {
  $('#archive-namespace').value = namespace;
  const query = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
  const load = () =>
    loadTable('archive', `archived-workflows${query}`, (workflow) => {
      const row = element('tr', undefined, { 'data-uid': workflow.metadata.uid });
      const remove = element('button', 'Delete', { type: 'button', 'aria-label': `Delete archived ${workflow.metadata.name}` });
      remove.addEventListener('click', async () => {
        try {
          await call(`archived-workflows/${encodeURIComponent(workflow.metadata.uid)}`, { method: 'DELETE' });
          await load();
        } catch (error) {
          alert('#archive-error', error.message);
        }
      });
      const actions = element('td');
      actions.append(remove);
      row.append(element('td', workflow.metadata.name), element('td', workflow.metadata.namespace), phaseCell(workflow.status?.phase), element('td', workflow.status?.finishedAt ?? ''), actions);
      return row;
    });
  poll(load);
}
