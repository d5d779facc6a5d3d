/** `<ns>/<workflow>` for a workflow-level hold, `<ns>/<workflow>/<nodeID>` for a template-level one (SPEC §2). */
export function holderKey(namespace: string, workflowName: string, nodeId?: string): string {
  return nodeId === undefined ? `${namespace}/${workflowName}` : `${namespace}/${workflowName}/${nodeId}`;
}

/** The workflow a holder key belongs to, `<ns>/<workflow>`: what gets re-queued when a waiter may proceed. */
export function workflowKeyOf(key: string): string {
  const end = key.indexOf('/', key.indexOf('/') + 1);
  return end < 0 ? key : key.slice(0, end);
}

/**
 * Argo's `isSameWorkflowNodeKeys`: keys with the same number of parts and the same workflow name.
 * The namespace is deliberately not compared, as in Argo.
 */
export function isSameWorkflowNodeKeys(first: string, second: string): boolean {
  const a = first.split('/');
  const b = second.split('/');
  return a.length === b.length && a[1] === b[1];
}
