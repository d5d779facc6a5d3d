import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChangeChannel } from '../../runtime/store/change-channel.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';

// Two state stores in two schemas of one PostgreSQL database: NOTIFY channels are per database, so unscoped
// channel names let each hear the other's changes, which name its namespaces and workflows.
describeEachDatabase(['postgresql'] as const)('change channels of two schemas of one %s database', (driver) => {
  let first: TestDatabase;
  let second: TestDatabase;
  let firstWriter: SqlDatabase;
  let firstReader: SqlDatabase;
  let secondReader: SqlDatabase;
  beforeAll(async () => {
    [first, second] = await Promise.all([createTestDatabase(driver), createTestDatabase(driver)]);
    [firstWriter, firstReader, secondReader] = await Promise.all([first.open(), first.open(), second.open()]);
  });
  afterAll(async () => {
    await Promise.all([first.drop(), second.drop()]);
  });

  it("hears its own schema's changes and never the other schema's", async () => {
    const writer = new ChangeChannel<string>(firstWriter, 'argosync_workflows');
    const sameSchema = new ChangeChannel<string>(firstReader, 'argosync_workflows');
    const otherSchema = new ChangeChannel<string>(secondReader, 'argosync_workflows');
    const heardByOther: string[] = [];
    await otherSchema.subscribe((event) => heardByOther.push(event));
    const heardBySame = new Promise<string>((resolve) => void sameSchema.subscribe(resolve));
    // Listening is set up once subscribe resolves; give the same-schema reader's subscription that moment too.
    await new Promise<void>((resolve) => void sameSchema.subscribe(() => undefined).then(() => resolve()));
    await writer.announce('team-a/secret-workflow');
    expect(await heardBySame).toBe('team-a/secret-workflow');
    // A notification is delivered to every listener of the channel in commit order: one sent after ours on the
    // other schema's own channel has arrived there, so ours would have arrived before it.
    const marker = new Promise<void>((resolve) => void otherSchema.subscribe((event) => event === 'marker' && resolve()));
    await new ChangeChannel<string>(secondReader, 'argosync_workflows').announce('marker');
    await marker;
    expect(heardByOther.filter((event) => event !== 'marker')).toEqual([]);
    await Promise.all([writer.close(), sameSchema.close(), otherSchema.close()]);
  });

  it('ignores what any other user of the database NOTIFYs on its channel (not JSON, not an announcement)', async () => {
    const reader = new ChangeChannel<string>(firstReader, 'argosync_configmaps');
    const heard: string[] = [];
    const marker = new Promise<void>((resolve) => void reader.subscribe((event) => (heard.push(event), event === 'real' && resolve())));
    await reader.subscribe(() => undefined);
    const channel = firstWriter.engine.notifications!.channelName('argosync_configmaps');
    for (const payload of ['not json', 'null', '{"event":"no origin"}', '42']) await sql`select pg_notify(${channel}, ${payload})`.execute(firstWriter.db);
    await new ChangeChannel<string>(firstWriter, 'argosync_configmaps').announce('real');
    await marker;
    expect(heard).toEqual(['real']);
    await reader.close();
  });

  it('opens one new schema from several processes at once (create schema if not exists races on the catalog)', async () => {
    const fresh = await createTestDatabase(driver);
    try {
      const handles = await Promise.all(Array.from({ length: 6 }, () => fresh.open()));
      expect(handles).toHaveLength(6);
    } finally {
      await fresh.drop();
    }
  });
});
