import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, type CliProcess } from '../support/cli-process.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { runtimeApi } from '../support/runtime-api.js';
import { stateStoreUrl } from '../support/state-store-url.js';
import { WorkflowGates } from '../support/workflow-gates.js';

const TOKEN = 'restart-test-token';
const FAST_ELECTION = { LEADER_ELECTION_LEASE_DURATION: '2s', LEADER_ELECTION_RENEW_DEADLINE: '1s', LEADER_ELECTION_RETRY_PERIOD: '200ms' };

interface Replica {
  readonly cli: CliProcess;
  readonly url: string;
}

/** `argosync up` as a child process that can be SIGKILLed, with a fixed admin token. */
async function up(home: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Replica> {
  const cli = runCli(['up', '--port', '0', '--home', home, '--api-rate-limit', '1000000', ...extra], { ARGOSYNC_ADMIN_TOKEN: TOKEN, ...env });
  const [, url] = (await cli.line(/^argosync listening on (https:\/\/127\.0\.0\.1:\d+\/)$/)) as unknown as [string, string];
  return { cli, url };
}

async function kill(replica: Replica): Promise<void> {
  replica.cli.child.kill('SIGKILL');
  await replica.cli.exited;
}

interface Phases {
  readonly byName: Record<string, string | undefined>;
  readonly running: number;
}

function workflowsOf(replica: () => Replica) {
  const api = runtimeApi(() => ({ url: replica().url, token: TOKEN }));
  const gated = (gates: WorkflowGates, name: string) => ({
    metadata: { name },
    spec: { entrypoint: 'main', synchronization: { semaphores: [{ database: { key: 'slots' } }] }, templates: [gates.template()] },
  });
  return {
    api,
    async submit(gates: WorkflowGates, ns: string, name: string) {
      const response = await api('POST', `/workflows/${ns}`, { workflow: gated(gates, name) });
      expect(response.status, JSON.stringify(response.json)).toBe(200);
    },
    async phases(ns: string): Promise<Phases> {
      const response = await api('GET', `/workflows/${ns}`);
      expect(response.status).toBe(200);
      const items = (response.json.items ?? []) as { metadata: { name: string }; status?: { phase?: string } }[];
      const byName = Object.fromEntries(items.map((item) => [item.metadata.name, item.status?.phase]));
      return { byName, running: Object.values(byName).filter((phase) => phase === 'Running').length };
    },
  };
}

/** Waits for the phases, checking on every look that no more than `limit` workflows run at once. */
async function until(phases: () => Promise<Phases>, expected: Record<string, string>, limit: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const seen = await phases();
      expect(seen.running, `over-admission: ${JSON.stringify(seen.byName)}`).toBeLessThanOrEqual(limit);
      expect(seen.byName).toEqual(expected);
    },
    { timeout: 30_000, interval: 50 },
  );
}

/** Waits until exactly these gated nodes run, one process each, none of them one of `stalePids`. */
function onlyNodeProcesses(gates: WorkflowGates, expected: readonly string[], stalePids: readonly number[] = []) {
  return vi.waitFor(
    async () => {
      const nodes = await gates.runningNodes();
      expect(nodes.map((node) => node.gate)).toEqual(expected);
      for (const node of nodes) expect(stalePids).not.toContain(node.pid);
      return nodes;
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe('a controller killed with SIGKILL while workflows hold locks', () => {
  let home: string;
  let gates: WorkflowGates;
  let replica: Replica;
  const workflows = workflowsOf(() => replica);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-restart-'));
    gates = await WorkflowGates.create();
  });
  afterAll(async () => {
    if (replica) await kill(replica);
    await gates.remove();
    await rm(home, { recursive: true, force: true });
  });

  it('comes back on the same home with every workflow, the same holders, and never over-admits', async () => {
    replica = await up(home);
    expect((await workflows.api('POST', '/sync/team-a', { type: 1, key: 'slots', limit: 2 })).status).toBe(200);
    for (const name of ['w1', 'w2', 'w3', 'w4']) await workflows.submit(gates, 'team-a', name);
    const phases = () => workflows.phases('team-a');
    await until(phases, { w1: 'Running', w2: 'Running', w3: 'Pending', w4: 'Pending' }, 2);
    const nodesBefore = await onlyNodeProcesses(gates, ['team-a.w1', 'team-a.w2']);

    await kill(replica);
    replica = await up(home);
    expect(replica.cli.stdout()).toContain('elected leader');
    await until(phases, { w1: 'Running', w2: 'Running', w3: 'Pending', w4: 'Pending' }, 2);
    // The nodes the killed runtime left running are stopped before they run again: one new process per node.
    await onlyNodeProcesses(gates, ['team-a.w1', 'team-a.w2'], nodesBefore.map((node) => node.pid));
    const status = await workflows.api('GET', '/sync/team-a/slots/status?type=1');
    expect((status.json.holders as { key: string }[]).map((holder) => holder.key).sort()).toEqual(['team-a/w1', 'team-a/w2']);

    await gates.open('team-a', 'w1');
    await until(phases, { w1: 'Succeeded', w2: 'Running', w3: 'Running', w4: 'Pending' }, 2);
    for (const name of ['w2', 'w3', 'w4']) await gates.open('team-a', name);
    await until(phases, { w1: 'Succeeded', w2: 'Succeeded', w3: 'Succeeded', w4: 'Succeeded' }, 2);
  }, 120_000);
});

describeOn('postgresql')('two controller replicas on one PostgreSQL state store', () => {
  let database: TestDatabase;
  let gates: WorkflowGates;
  const homes: string[] = [];
  const replicas: Replica[] = [];
  let standby: Replica;
  const workflows = workflowsOf(() => standby);

  beforeAll(async () => {
    database = await createTestDatabase('postgresql');
    gates = await WorkflowGates.create();
  });
  afterAll(async () => {
    for (const replica of replicas) if (replica.cli.child.exitCode === null) await kill(replica);
    await gates.remove();
    for (const home of homes) await rm(home, { recursive: true, force: true });
    await database.drop();
  });

  it('has one leader; when it dies the standby takes over its workflows without over-admitting', async () => {
    const stateStore = stateStoreUrl(database.spec);
    const start = async () => {
      const home = await mkdtemp(join(tmpdir(), 'argosync-replica-'));
      homes.push(home);
      const replica = await up(home, [], { ...FAST_ELECTION, ARGOSYNC_STATE_STORE: stateStore });
      replicas.push(replica);
      return replica;
    };
    const leader = await start();
    expect(leader.cli.stdout()).toContain('elected leader');
    standby = await start();
    expect(standby.cli.stdout()).toContain('standing by: database row argosync_leader/argosync-controller');
    expect(standby.cli.stdout()).not.toContain('elected leader');

    expect((await workflows.api('POST', '/sync/team-b', { type: 1, key: 'slots', limit: 1 })).status).toBe(200);
    await workflows.submit(gates, 'team-b', 'first');
    await workflows.submit(gates, 'team-b', 'second');
    const phases = () => workflows.phases('team-b');
    await until(phases, { first: 'Running', second: 'Pending' }, 1);

    await kill(leader);
    await standby.cli.line(/elected leader/);
    await until(phases, { first: 'Running', second: 'Pending' }, 1);
    await gates.open('team-b', 'first');
    await until(phases, { first: 'Succeeded', second: 'Running' }, 1);
    await gates.open('team-b', 'second');
    await until(phases, { first: 'Succeeded', second: 'Succeeded' }, 1);
  }, 120_000);
});
