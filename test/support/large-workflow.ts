import type { NodeStatus, Workflow } from '../../runtime/controller/workflows/workflow.js';

/** A finished workflow with `count` Pod nodes, each with an output: the offload tests' and bench's payload. */
export function workflowWithNodes(count: number, uid = 'uid-big'): Workflow {
  const nodes: Record<string, NodeStatus> = {};
  for (let index = 0; index < count; index += 1) {
    const id = `big-${index}`;
    nodes[id] = { id, name: `big[${index}].step`, displayName: 'step', type: 'Pod', templateName: 'work', phase: 'Succeeded', startedAt: '2026-11-23T00:00:00Z', finishedAt: '2026-11-23T00:00:01Z', outputs: { result: `output of node ${index}` } };
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: 'big', namespace: 'team-a', uid, creationTimestamp: '2026-11-23T00:00:00Z', resourceVersion: '1', labels: { team: 'a' } },
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
    status: { phase: 'Succeeded', startedAt: '2026-11-23T00:00:00Z', finishedAt: '2026-11-23T00:01:00Z', nodes },
  };
}
