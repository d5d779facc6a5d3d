import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { runtimeApi } from '../support/runtime-api.js';
import { WorkflowGates } from '../support/workflow-gates.js';

interface WorkflowView {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
  status?: { phase?: string; message?: string; nodes?: Record<string, { name: string; phase: string; message?: string; outputs?: { result?: string } }>; synchronization?: unknown };
}

describe('workflows under synchronization limits, end to end through the API', () => {
  let gates: WorkflowGates;
  beforeAll(async () => {
    gates = await WorkflowGates.create();
  });
  afterAll(() => gates.remove());
  const runtime = embeddedRuntime();
  const api = runtimeApi(runtime);

  async function submit(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
    const response = await api('POST', `/workflows/${namespace}`, { workflow: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec } });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
  }

  async function get(namespace: string, name: string): Promise<WorkflowView> {
    const response = await api('GET', `/workflows/${namespace}/${name}`);
    expect(response.status).toBe(200);
    return response.json as unknown as WorkflowView;
  }

  async function phaseOf(namespace: string, name: string): Promise<string | undefined> {
    return (await get(namespace, name)).status?.phase;
  }

  function until(namespace: string, name: string, phase: string): Promise<WorkflowView> {
    return vi.waitFor(
      async () => {
        const workflow = await get(namespace, name);
        expect(workflow.status?.phase).toBe(phase);
        return workflow;
      },
      { timeout: 10_000, interval: 25 },
    );
  }

  const gated = (synchronization: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    entrypoint: 'main',
    synchronization,
    templates: [gates.template()],
    ...extra,
  });

  it('admits two of five workflows on a limit-2 database semaphore, then the rest by priority and creation time', async () => {
    const ns = 'five';
    expect((await api('POST', `/sync/${ns}`, { type: 1, key: 'slots', limit: 2 })).status).toBe(200);
    const synchronization = { semaphores: [{ database: { key: 'slots' } }] };
    for (const [name, priority] of [['w1', 0], ['w2', 0], ['w3', 0], ['w4', 5], ['w5', 0]] as const) {
      await submit(ns, name, gated(synchronization, { priority }));
      // Creation timestamps have second precision: order within a second comes from the queue's arrival.
      await until(ns, name, name === 'w1' || name === 'w2' ? 'Running' : 'Pending');
    }
    const waiting = await get(ns, 'w3');
    expect(waiting.status?.message).toBe('Waiting for five/Database/slots lock (sem/five/slots). Lock status: 2/2');
    expect(waiting.status?.synchronization).toMatchObject({ semaphore: { waiting: [{ semaphore: 'five/Database/slots', holders: expect.arrayContaining(['five/w1', 'five/w2']) }] } });

    await gates.open(ns, 'w1');
    await until(ns, 'w1', 'Succeeded');
    await until(ns, 'w4', 'Running');
    expect(await phaseOf(ns, 'w3')).toBe('Pending');
    await gates.open(ns, 'w2');
    await until(ns, 'w3', 'Running');
    expect(await phaseOf(ns, 'w5')).toBe('Pending');
    await gates.open(ns, 'w4');
    await until(ns, 'w5', 'Running');
    await gates.open(ns, 'w3');
    await gates.open(ns, 'w5');
    const finished = await until(ns, 'w5', 'Succeeded');
    expect(finished.status?.synchronization).toBeUndefined();
    expect(Object.values(finished.status?.nodes ?? {})[0]?.outputs?.result).toBe('passed five.w5');
  });

  it('keeps a workflow waiting for a missing limit and starts it when the limit is created through the sync API', async () => {
    const ns = 'missing';
    await submit(ns, 'early', gated({ semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }] }));
    const pending = await until(ns, 'early', 'Pending');
    expect(pending.status?.message).toContain('argosync sync create gpu');
    expect((await api('POST', `/sync/${ns}`, { cmName: 'limits', key: 'gpu', limit: 1 })).status).toBe(200);
    await until(ns, 'early', 'Running');
    await gates.open(ns, 'early');
    await until(ns, 'early', 'Succeeded');
  });

  it('admits waiters at once when the limit is raised', async () => {
    const ns = 'raise';
    expect((await api('POST', `/sync/${ns}`, { type: 1, key: 'k', limit: 1 })).status).toBe(200);
    for (const name of ['r1', 'r2', 'r3']) await submit(ns, name, gated({ semaphores: [{ database: { key: 'k' } }] }));
    await until(ns, 'r1', 'Running');
    await until(ns, 'r3', 'Pending');
    expect((await api('PUT', `/sync/${ns}/k`, { type: 1, limit: 3 })).status).toBe(200);
    await until(ns, 'r2', 'Running');
    await until(ns, 'r3', 'Running');
    for (const name of ['r1', 'r2', 'r3']) await gates.open(ns, name);
    await until(ns, 'r3', 'Succeeded');
  });

  it('lets a multi-lock waiter at the front of a free lock block later waiters on it, as Argo does', async () => {
    const ns = 'front';
    expect((await api('POST', `/sync/${ns}`, { type: 1, key: 'a', limit: 1 })).status).toBe(200);
    expect((await api('POST', `/sync/${ns}`, { type: 1, key: 'b', limit: 1 })).status).toBe(200);
    await submit(ns, 'holds-a', gated({ semaphores: [{ database: { key: 'a' } }] }));
    await until(ns, 'holds-a', 'Running');
    await submit(ns, 'wants-both', gated({ semaphores: [{ database: { key: 'a' } }, { database: { key: 'b' } }] }));
    await until(ns, 'wants-both', 'Pending');
    // Same-second creation times tie-break by key, so this name sorts after wants-both, as a later submission would.
    await submit(ns, 'wants-only-b', gated({ semaphores: [{ database: { key: 'b' } }] }));
    const blocked = await until(ns, 'wants-only-b', 'Pending');
    expect(blocked.status?.message).toBe('Waiting for front/Database/b lock (sem/front/b). Lock status: 0/1');
    await gates.open(ns, 'holds-a');
    await until(ns, 'wants-both', 'Running');
    expect(await phaseOf(ns, 'wants-only-b')).toBe('Pending');
    await gates.open(ns, 'wants-both');
    await until(ns, 'wants-only-b', 'Running');
    await gates.open(ns, 'wants-only-b');
    await until(ns, 'wants-only-b', 'Succeeded');
  });

  it.each(['terminate', 'delete'] as const)('frees the queue place of a waiting workflow on %s', async (action) => {
    const ns = `free-${action}`;
    const synchronization = { mutexes: [{ name: 'one' }] };
    await submit(ns, 'holder', gated(synchronization));
    await until(ns, 'holder', 'Running');
    await submit(ns, 'leaving', gated(synchronization));
    await until(ns, 'leaving', 'Pending');
    await submit(ns, 'next', gated(synchronization));
    await until(ns, 'next', 'Pending');
    if (action === 'terminate') {
      expect((await api('PUT', `/workflows/${ns}/leaving/terminate`)).status).toBe(200);
      const stopped = await until(ns, 'leaving', 'Failed');
      expect(stopped.status?.message).toBe("Stopped with strategy 'Terminate'");
    } else {
      expect((await api('DELETE', `/workflows/${ns}/leaving`)).status).toBe(200);
      expect((await api('GET', `/workflows/${ns}/leaving`)).status).toBe(404);
    }
    const lock = await api('GET', `/sync/${ns}`);
    expect(JSON.stringify(lock.json)).not.toContain(`${ns}/leaving`);
    await gates.open(ns, 'holder');
    await until(ns, 'next', 'Running');
    await gates.open(ns, 'next');
    await until(ns, 'next', 'Succeeded');
  });

  it('serialises the nodes of one DAG on a template-level mutex', async () => {
    const ns = 'dag';
    const log = join(gates.directory, 'dag.log');
    await submit(ns, 'serial', {
      entrypoint: 'fan-out',
      templates: [
        { name: 'fan-out', dag: { tasks: ['a', 'b', 'c'].map((name) => ({ name, template: 'work', arguments: { parameters: [{ name: 'id', value: name }] } })) } },
        {
          name: 'work',
          inputs: { parameters: [{ name: 'id' }] },
          synchronization: { mutexes: [{ name: 'serial-work' }] },
          script: { image: 'busybox', command: ['sh'], source: `echo "start {{inputs.parameters.id}}" >> ${log}; sleep 0.1; echo "end {{inputs.parameters.id}}" >> ${log}` },
        },
      ],
    });
    const done = await until(ns, 'serial', 'Succeeded');
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(6);
    for (let index = 0; index < lines.length; index += 2) {
      expect(lines[index]!.replace('start', 'end')).toBe(lines[index + 1]);
    }
    expect(Object.values(done.status?.nodes ?? {}).filter((node) => node.phase === 'Succeeded')).toHaveLength(4);
  });

  it('runs steps in order, passes parameters and outputs, and fails the workflow when a step fails', async () => {
    const ns = 'steps';
    await submit(ns, 'pipeline', {
      entrypoint: 'pipeline',
      arguments: { parameters: [{ name: 'greeting', value: 'hello' }] },
      templates: [
        {
          name: 'pipeline',
          steps: [
            [{ name: 'say', template: 'echo', arguments: { parameters: [{ name: 'text', value: '{{workflow.parameters.greeting}}' }] } }],
            [{ name: 'repeat', template: 'echo', arguments: { parameters: [{ name: 'text', value: '{{steps.say.outputs.result}} again' }] } }],
            [{ name: 'fail', template: 'exit' }],
            [{ name: 'never', template: 'echo', arguments: { parameters: [{ name: 'text', value: 'unreachable' }] } }],
          ],
        },
        { name: 'echo', inputs: { parameters: [{ name: 'text' }] }, container: { image: 'busybox', command: ['echo', '{{inputs.parameters.text}}'] } },
        { name: 'exit', container: { image: 'busybox', command: ['sh', '-c', 'exit 3'] } },
      ],
    });
    const failed = await until(ns, 'pipeline', 'Failed');
    const nodes = Object.values(failed.status?.nodes ?? {});
    expect(nodes.find((node) => node.name === 'pipeline[1].repeat')?.outputs?.result).toBe('hello again');
    expect(nodes.find((node) => node.name === 'pipeline[2].fail')).toMatchObject({ phase: 'Failed', message: 'Error (exit code 3)' });
    expect(nodes.find((node) => node.name === 'pipeline[3].never')).toBeUndefined();
  });

  it('fails a workflow that runs past activeDeadlineSeconds and releases its lock', async () => {
    const ns = 'deadline';
    await submit(ns, 'slow', gated({ mutexes: [{ name: 'm' }] }, { activeDeadlineSeconds: 1 }));
    const failed = await until(ns, 'slow', 'Failed');
    expect(failed.status?.message).toBe('Max duration limit exceeded');
    await submit(ns, 'after', gated({ mutexes: [{ name: 'm' }] }));
    await until(ns, 'after', 'Running');
    await gates.open(ns, 'after');
    await until(ns, 'after', 'Succeeded');
  });
});
