import { afterAll, beforeAll, expect, it } from 'vitest';
import { DatabaseLeaseLock } from '../../runtime/controller/leader/database-lease-lock.js';
import { KubernetesLeaseLock } from '../../runtime/controller/leader/kubernetes-lease-lock.js';
import { LeaderElection, type LeaseLock } from '../../runtime/controller/leader/leader-election.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { createTestDatabase, describeEachDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { describeEachKubeTarget, openCluster, type Cluster } from '../support/kube-targets.js';

const LEASE_MS = 1_000;

/** The lease protocol every LeaseLock keeps, whatever it is stored in. */
function leaseLockSuite(open: () => Promise<{ lock: () => LeaseLock; close: () => Promise<void> }>) {
  let lock: () => LeaseLock;
  let close: () => Promise<void>;
  beforeAll(async () => ({ lock, close } = await open()));
  afterAll(() => close());

  it('gives the lease to one identity, lets it renew, and refuses the other while it is valid', async () => {
    const [a, b] = [lock(), lock()];
    expect(await a.tryAcquireOrRenew('a', LEASE_MS)).toBe(true);
    expect(await b.tryAcquireOrRenew('b', LEASE_MS)).toBe(false);
    expect(await a.tryAcquireOrRenew('a', LEASE_MS)).toBe(true);
    expect(await b.tryAcquireOrRenew('b', LEASE_MS)).toBe(false);
    await a.release('a');
  });

  it('lets exactly one of many racing identities take a free lease', async () => {
    const results = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((identity) => lock().tryAcquireOrRenew(identity, LEASE_MS)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = ['r1', 'r2', 'r3', 'r4'][results.indexOf(true)]!;
    await lock().release(winner);
  });

  it('hands an unrenewed lease to another identity once it expires, and a release frees it at once', async () => {
    const [a, b] = [lock(), lock()];
    expect(await a.tryAcquireOrRenew('a', LEASE_MS)).toBe(true);
    await expect.poll(() => b.tryAcquireOrRenew('b', LEASE_MS), { timeout: 5_000, interval: 100 }).toBe(true);
    expect(await a.tryAcquireOrRenew('a', LEASE_MS)).toBe(false);
    await a.release('a'); // not the holder: changes nothing
    expect(await a.tryAcquireOrRenew('a', LEASE_MS)).toBe(false);
    await b.release('b');
    expect(await a.tryAcquireOrRenew('a', LEASE_MS)).toBe(true);
    await a.release('a');
  });

  it('runs one leader among replicas; stopping it hands over to a standby', async () => {
    const events: string[] = [];
    const replica = (identity: string) =>
      new LeaderElection({
        lock: lock(),
        identity,
        leaseMs: LEASE_MS,
        renewDeadlineMs: 800,
        retryPeriodMs: 100,
        onStartedLeading: async () => void events.push(`${identity} leads`),
        onStoppedLeading: async () => void events.push(`${identity} stops`),
        say: () => undefined,
      });
    const first = replica('first');
    const second = replica('second');
    await first.start();
    await second.start();
    expect([first.leading, second.leading]).toEqual([true, false]);
    await first.stop();
    await expect.poll(() => second.leading, { timeout: 5_000, interval: 50 }).toBe(true);
    await second.stop();
    expect(events).toEqual(['first leads', 'first stops', 'second leads', 'second stops']);
  });
}

describeEachDatabase(DIALECTS)('the leader lease as a row of argosync_leader on %s', (driver) => {
  let database: TestDatabase;
  leaseLockSuite(async () => {
    database = await createTestDatabase(driver);
    const opened: SqlDatabase = await database.open();
    await migrateArgosyncSchema(opened);
    return {
      lock: () => new DatabaseLeaseLock(opened, 'argosync-controller'),
      close: () => database.drop(),
    };
  });
});

describeEachKubeTarget('the leader lease as a Kubernetes Lease on %s', (target) => {
  let cluster: Cluster;
  let namespace: string;
  leaseLockSuite(async () => {
    cluster = await openCluster(target);
    namespace = await cluster.namespace('argo');
    return { lock: () => new KubernetesLeaseLock(cluster.kubeConfig(), namespace, 'argosync-controller'), close: () => cluster.close() };
  });

  it('keeps the Lease fields client-go writes', async () => {
    const lock = new KubernetesLeaseLock(cluster.kubeConfig(), namespace, 'argosync-controller');
    expect(await lock.tryAcquireOrRenew('pod-0', LEASE_MS)).toBe(true);
    expect(await cluster.get('leases', namespace, 'argosync-controller')).toMatchObject({ spec: { holderIdentity: 'pod-0', leaseDurationSeconds: 1, renewTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/) } });
  });
});
