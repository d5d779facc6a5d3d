import { sql } from 'kysely';
import type { Synchronization } from '../runtime/controller/sync/sync-items.js';
import type { Driver } from '../runtime/store/connection-spec.js';
import type { TestDatabase } from '../test/support/databases.js';
import { createSyncTestDatabase, startController, type TestController } from '../test/support/sync-controllers.js';

export const DATABASE_SEMAPHORE: Synchronization = { semaphores: [{ database: { key: 'bench' } }] };
export const CONFIGMAP_SEMAPHORE: Synchronization = { semaphores: [{ configMapKeyRef: { name: 'bench', key: 'bench' } }] };

/** Controllers sharing one fresh database with the `ns/bench` limit set in `sync_limit` and in ConfigMap `ns/bench`. */
export interface BenchCluster {
  readonly database: TestDatabase;
  readonly controllers: TestController[];
  /** p99-style baseline: one `select 1` round trip on this database, in ms. */
  roundTripMs(samples?: number): Promise<number[]>;
  /** How many held rows `ns/bench` has, read by an independent connection. */
  heldRows(): Promise<number>;
  close(): Promise<void>;
}

export async function startCluster(driver: Driver, controllerCount: number, limit: number): Promise<BenchCluster> {
  const { testDatabase: database, admin, configMaps, drop } = await createSyncTestDatabase(driver);
  await sql`insert into sync_limit (name, sizelimit) values ('ns/bench', ${limit})`.execute(admin.db);
  await configMaps.create({ namespace: 'ns', name: 'bench', data: { bench: String(limit) } });
  const controllers: TestController[] = [];
  for (let index = 0; index < controllerCount; index += 1) {
    controllers.push(await startController({ name: `bench-${index}`, configMaps, sqlDatabase: await database.open() }));
  }
  return {
    database,
    controllers,
    async roundTripMs(samples = 200) {
      const times: number[] = [];
      for (let index = 0; index < samples; index += 1) {
        const start = performance.now();
        await sql`select 1`.execute(admin.db);
        times.push(performance.now() - start);
      }
      return times;
    },
    async heldRows() {
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from sync_state where name = 'sem/ns/bench' and held = ${true}`.execute(admin.db);
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      for (const controller of controllers) await controller.stop();
      await drop();
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;

