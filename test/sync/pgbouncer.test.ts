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
// on another server session, which never saw the statements this client prepared on the last one.
(PGBOUNCER_MISSING === undefined ? describeOn('postgresql') : describe.skip)('a controller whose sync database is behind PgBouncer (transaction pooling)', () => {
    let drop: () => Promise<void>;
    let bouncer: RunningPgBouncer;
    let database: SqlDatabase;
    let controller: TestController;
    const warnings: string[] = [];

    beforeAll(async () => {
      const whole = await createWholeDatabase('postgresql');
      drop = whole.drop;
      bouncer = await startPgBouncer(whole.spec);
      database = await openDatabase({ ...bouncer.spec, maxOpenConns: 4 }, { log: { warn: (line) => warnings.push(line), info: () => undefined } });
      await migrateArgosyncSchema(database);
      controller = await startController({ configMaps: new SqlConfigMapStore(database), sqlDatabase: database });
      await sql`insert into sync_limit (name, sizelimit) values ('ns/pooled', ${LIMIT})`.execute(database.db);
    });
    afterAll(async () => {
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
});
