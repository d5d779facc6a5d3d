import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChangeChannel } from '../../runtime/store/change-channel.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { openDatabase, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const FAST = { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 200, retryMultiple: 2 };

describeEachDatabase(['postgresql', 'mysql'] as const)("the state store's change channel on %s", (driver) => {
  let testDatabase: TestDatabase;
  let proxy: FaultProxy;
  let direct: SqlDatabase;
  let proxied: SqlDatabase;
  beforeAll(async () => {
    testDatabase = await createTestDatabase(driver);
    direct = await testDatabase.open();
    await migrateArgosyncSchema(direct);
    proxy = await startFaultProxy(testDatabase.spec);
    proxied = await openDatabase({ ...testDatabase.spec, host: proxy.host, port: proxy.port }, { role: 'state store', reconnection: FAST });
  });
  afterAll(async () => {
    await proxied.destroy();
    await proxy.close();
    await testDatabase.drop();
  });

  it("hears other processes' changes again once the database is back (LISTEN re-established, or the poll's pool recovered)", async () => {
    const sender = new ChangeChannel<string>(direct, 'outage_test', 20);
    const receiver = new ChangeChannel<string>(proxied, 'outage_test', 20);
    const heard: string[] = [];
    let hear: (() => void) | undefined;
    await receiver.subscribe((event) => {
      heard.push(event);
      hear?.();
    });
    const announced = (event: string) =>
      new Promise<void>((resolve) => {
        hear = resolve;
        void sender.announce(event);
      });
    await announced('before');

    const reconnected = new Promise<void>((resolve) => proxied.onReconnected(resolve));
    await proxy.outage(1000);
    await reconnected;
    await announced('after');
    expect(heard).toEqual(['before', 'after']);
    await receiver.close();
    await sender.close();
  });

  it('closes at once while the LISTEN connection or the pool waits out a long outage', async () => {
    // Delays of 20 s: a close that waited for the next attempt would outlast the test's timeout.
    const patient = { maxRetries: 100, baseDelayMs: 20_000, maxDelayMs: 20_000, retryMultiple: 1 };
    const database = await openDatabase({ ...testDatabase.spec, host: proxy.host, port: proxy.port }, { reconnection: patient });
    const channel = new ChangeChannel<string>(database, 'closing_test', 20);
    await channel.subscribe(() => undefined);
    await proxy.cut();
    // Long enough for the LISTEN connection to see the drop, and for a poll round to be waiting to reconnect.
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      const closing = performance.now();
      await channel.close();
      await database.destroy();
      expect(performance.now() - closing).toBeLessThan(10_000);
    } finally {
      await proxy.heal();
    }
  });
});

