import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import { createWholeDatabase, describeOn } from '../support/databases.js';
import { PGBOUNCER_MISSING, startPgBouncer, type RunningPgBouncer } from '../support/pgbouncer.js';
import { startController, type TestController } from '../support/sync-controllers.js';

if (PGBOUNCER_MISSING) console.warn(`skipping the PgBouncer suite: ${PGBOUNCER_MISSING}`);

const LIMIT = 2;
const SEMAPHORE = { semaphores: [{ database: { key: 'pooled' } }] };

// Many platform teams reach their PostgreSQL through PgBouncer in transaction pooling: each transaction may run
// on another server session, which never saw the statements this client prepared on the last one, and LISTEN
// is accepted but nothing is delivered.
(PGBOUNCER_MISSING === undefined ? describeOn('postgresql') : describe.skip)('controllers whose sync database is behind PgBouncer (transaction pooling)', () => {
    let drop: () => Promise<void>;
    let bouncer: RunningPgBouncer;
    let database: SqlDatabase;
    let controller: TestController;
    let other: TestController;
    let otherDatabase: SqlDatabase;
    const warnings: string[] = [];
    /** Resolves with the other controller's warning that notifications do not arrive. */
    let notificationsLost!: Promise<string>;

    beforeAll(async () => {
      const whole = await createWholeDatabase('postgresql');
      drop = whole.drop;
      bouncer = await startPgBouncer(whole.spec);
      database = await openDatabase({ ...bouncer.spec, maxOpenConns: 4 }, { log: { warn: (line) => warnings.push(line), info: () => undefined } });
      await migrateArgosyncSchema(database);
      const configMaps = new SqlConfigMapStore(database);
      controller = await startController({ configMaps, sqlDatabase: database });
      let warned!: (line: string) => void;
      notificationsLost = new Promise((resolve) => (warned = resolve));
      // No poll for an hour: only the fast poll can hand the other controller a slot within the test.
      otherDatabase = await openDatabase(bouncer.spec);
      other = await startController({ name: 'controller-b', configMaps, sqlDatabase: otherDatabase, database: { pollSeconds: 3600, onWarning: warned } });
      await sql`insert into sync_limit (name, sizelimit) values ('ns/pooled', ${LIMIT})`.execute(database.db);
    });
    afterAll(async () => {
      await other?.stop();
      await otherDatabase?.destroy();
      await controller?.stop();
      await database?.destroy();
      await bouncer?.stop();
      await drop?.();
    });

    it('acquires, hands off and releases with fencing tokens 1…n, and says once that statements run unprepared', async () => {
      let holding = 0;
      let mostHolding = 0;
      const tokens: number[] = [];
      const worker = async (id: number) => {
        for (let index = 0; index < 8; index += 1) {
          const workflow = { name: `w-${id}-${index}` };
          const result = await controller.acquireWhenWoken(workflow, SEMAPHORE);
          if (!result.acquired) throw new Error(`${workflow.name} did not acquire`);
          mostHolding = Math.max(mostHolding, (holding += 1));
          tokens.push(result.holds[0]!.token!);
          await new Promise((resolve) => setImmediate(resolve)); // the other workers' turns come while this one holds
          holding -= 1;
          await controller.manager.releaseAll('ns', workflow.name);
        }
      };
      await Promise.all([0, 1, 2, 3].map(worker));
      expect([...tokens].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, index) => index + 1));
      expect(mostHolding).toBeLessThanOrEqual(LIMIT);
      expect(warnings.filter((line) => line.includes('did not keep a prepared statement'))).toHaveLength(1);
    });

    it('notices that notifications never arrive, and hands a slot freed on one controller to a waiter on the other by polling', async () => {
      expect(await notificationsLost).toMatch(/^notifications on .* do not arrive within 2000 ms \(a transaction-pooling proxy such as PgBouncer\?\): .* every 50 ms while its workflows wait$/);
      const holders = [{ name: 'h-1' }, { name: 'h-2' }];
      for (const holder of holders) expect((await controller.acquire(holder, SEMAPHORE)).acquired).toBe(true);
      expect((await other.acquire({ name: 'waiter' }, SEMAPHORE)).acquired).toBe(false);
      const handedOver = other.acquireAtNextWake({ name: 'waiter' }, SEMAPHORE);
      await controller.manager.releaseAll('ns', 'h-1');
      expect((await handedOver).acquired).toBe(true);
      await other.manager.releaseAll('ns', 'waiter');
      await controller.manager.releaseAll('ns', 'h-2');
    });
});
