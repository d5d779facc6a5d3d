import { expect, it } from 'vitest';
import type { ConfigMapEvent } from '../../runtime/store/configmap-store.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import { createTestDatabase, describeEachDatabase, DIALECTS } from '../support/databases.js';
import { describeConfigMapStore } from './configmap-store.suite.js';

describeEachDatabase(DIALECTS)('the embedded ConfigMap store on %s', (driver) => {
  describeConfigMapStore('embedded', async () => {
    const testDatabase = await createTestDatabase(driver);
    const database = await testDatabase.open();
    await migrateArgosyncSchema(database);
    const store = new SqlConfigMapStore(database);
    return {
      store,
      // The test has the database to itself.
      namespace: async (prefix) => prefix,
      async close() {
        await store.close();
        await testDatabase.drop();
      },
    };
  });
});

describeEachDatabase(DIALECTS)('embedded ConfigMaps shared through %s', (driver) => {
  it('reach the watchers of another process (LISTEN/NOTIFY, or polled announcements on MySQL)', async () => {
    const testDatabase = await createTestDatabase(driver);
    try {
      const [writerDatabase, readerDatabase] = [await testDatabase.open(), await testDatabase.open()];
      await migrateArgosyncSchema(writerDatabase);
      const writer = new SqlConfigMapStore(writerDatabase);
      const reader = new SqlConfigMapStore(readerDatabase);
      const seen = new Promise<ConfigMapEvent>((resolve) => void reader.watch('team-a', resolve));
      await reader.watch('team-a', () => undefined);
      await writer.create({ namespace: 'team-a', name: 'limits', data: { gpu: '2' } });
      expect(await seen).toMatchObject({ type: 'ADDED', configMap: { name: 'limits', data: { gpu: '2' } } });
      await Promise.all([writer.close(), reader.close()]);
    } finally {
      await testDatabase.drop();
    }
  });
});
