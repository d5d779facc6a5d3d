import { sql, type Kysely, type Transaction } from 'kysely';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../errors.js';
import { ChangeChannel } from './change-channel.js';
import type { ConfigMap, ConfigMapEvent, ConfigMapStore } from './configmap-store.js';
import { assertValidConfigMap } from './kubernetes-names.js';
import type { SqlDatabase } from './sql-database.js';
import { readJsonColumn } from './json-column.js';

interface ConfigMapTables {
  argosync_configmaps: {
    namespace: string;
    name: string;
    data: unknown;
    labels: unknown;
    resource_version: number | string;
  };
  argosync_sequence: { name: string; value: number | string };
}

const CHANNEL = 'argosync_configmaps';
const SEQUENCE = 'configmaps';

/**
 * Embedded ConfigMaps (SPEC §4): rows of `argosync_configmaps` with Kubernetes semantics — a global
 * resourceVersion sequence, optimistic concurrency on update, and watch. Watchers in this process hear
 * writes at once; other processes on the same PostgreSQL hear them through LISTEN/NOTIFY.
 */
export class SqlConfigMapStore implements ConfigMapStore {
  readonly #db: Kysely<ConfigMapTables>;
  readonly #changes: ChangeChannel<ConfigMapEvent>;

  /** The tables come from `migrateArgosyncSchema`. */
  constructor(database: SqlDatabase) {
    this.#db = database.db as Kysely<ConfigMapTables>;
    this.#changes = new ChangeChannel(database, CHANNEL);
  }

  async get(namespace: string, name: string): Promise<ConfigMap | undefined> {
    const row = await this.#db.selectFrom('argosync_configmaps').selectAll().where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
    return row && toConfigMap(row);
  }

  async list(namespace?: string): Promise<ConfigMap[]> {
    let query = this.#db.selectFrom('argosync_configmaps').selectAll().orderBy('namespace').orderBy('name');
    if (namespace !== undefined) query = query.where('namespace', '=', namespace);
    return (await query.execute()).map(toConfigMap);
  }

  async create(configMap: Omit<ConfigMap, 'resourceVersion'>): Promise<ConfigMap> {
    assertValidConfigMap(configMap);
    const created = await this.#db.transaction().execute(async (tx) => {
      const exists = await tx.selectFrom('argosync_configmaps').select('name').where('namespace', '=', configMap.namespace).where('name', '=', configMap.name).executeTakeFirst();
      if (exists) throw new AlreadyExistsError(`configmaps ${JSON.stringify(configMap.name)} already exists`);
      const stored = { ...pick(configMap), resourceVersion: await nextVersion(tx) };
      await tx.insertInto('argosync_configmaps').values(toRow(stored)).execute();
      return stored;
    });
    await this.#changes.announce({ type: 'ADDED', configMap: created });
    return created;
  }

  async update(configMap: ConfigMap): Promise<ConfigMap> {
    assertValidConfigMap(configMap);
    const updated = await this.#db.transaction().execute(async (tx) => {
      const current = await tx
        .selectFrom('argosync_configmaps')
        .select('resource_version')
        .where('namespace', '=', configMap.namespace)
        .where('name', '=', configMap.name)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw new NotFoundError(`configmaps ${JSON.stringify(configMap.name)} not found`);
      if (String(current.resource_version) !== configMap.resourceVersion) {
        throw new ConflictError(
          `Operation cannot be fulfilled on configmaps ${JSON.stringify(configMap.name)}: the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      const stored = { ...pick(configMap), resourceVersion: await nextVersion(tx) };
      const row = toRow(stored);
      await tx
        .updateTable('argosync_configmaps')
        .set({ data: row.data, labels: row.labels, resource_version: row.resource_version })
        .where('namespace', '=', configMap.namespace)
        .where('name', '=', configMap.name)
        .execute();
      return stored;
    });
    await this.#changes.announce({ type: 'MODIFIED', configMap: updated });
    return updated;
  }

  async delete(namespace: string, name: string): Promise<void> {
    const deleted = await this.#db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom('argosync_configmaps').selectAll().where('namespace', '=', namespace).where('name', '=', name).forUpdate().executeTakeFirst();
      if (!current) throw new NotFoundError(`configmaps ${JSON.stringify(name)} not found`);
      await tx.deleteFrom('argosync_configmaps').where('namespace', '=', namespace).where('name', '=', name).execute();
      return { ...toConfigMap(current), resourceVersion: await nextVersion(tx) };
    });
    await this.#changes.announce({ type: 'DELETED', configMap: deleted });
  }

  async watch(namespace: string | undefined, onEvent: (event: ConfigMapEvent) => void): Promise<() => void> {
    return this.#changes.subscribe((event) => {
      if (namespace === undefined || namespace === event.configMap.namespace) onEvent(event);
    });
  }

  /** Stops listening for other processes' writes. */
  close(): Promise<void> {
    return this.#changes.close();
  }
}

async function nextVersion(tx: Transaction<ConfigMapTables>): Promise<string> {
  // The migration seeds the row; bumping it takes its row lock, so versions are unique and ordered by commit.
  await tx.updateTable('argosync_sequence').set({ value: sql`value + 1` }).where('name', '=', SEQUENCE).execute();
  const row = await tx.selectFrom('argosync_sequence').select('value').where('name', '=', SEQUENCE).executeTakeFirstOrThrow();
  return String(row.value);
}

function pick(configMap: Omit<ConfigMap, 'resourceVersion'>): Omit<ConfigMap, 'resourceVersion'> {
  return { namespace: configMap.namespace, name: configMap.name, data: { ...configMap.data }, labels: { ...configMap.labels } };
}

function toRow(configMap: ConfigMap): ConfigMapTables['argosync_configmaps'] {
  return {
    namespace: configMap.namespace,
    name: configMap.name,
    data: JSON.stringify(configMap.data),
    labels: JSON.stringify(configMap.labels ?? {}),
    resource_version: configMap.resourceVersion,
  };
}

function toConfigMap(row: ConfigMapTables['argosync_configmaps']): ConfigMap {
  return {
    namespace: row.namespace,
    name: row.name,
    data: readJsonColumn<Record<string, string>>(row.data),
    labels: readJsonColumn<Record<string, string>>(row.labels),
    resourceVersion: String(row.resource_version),
  };
}
