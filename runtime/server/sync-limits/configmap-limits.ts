import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import { configMapValue, type ConfigMap, type ConfigMapStore } from '../../store/configmap-store.js';
import type { BeforeChange, FoundLimit, SyncLimit, SyncLimitRef, SyncLimitStorage } from './sync-limit.js';

const CONFLICT_RETRIES = 5;

/** ConfigMap limits: the integer string under `data[key]` of ConfigMap `cmName`, with Argo's `sync_cm.go` texts. */
export class ConfigMapLimits implements SyncLimitStorage {
  constructor(private readonly store: ConfigMapStore) {}

  async create(limit: SyncLimit): Promise<SyncLimit> {
    const cmName = requireCmName(limit);
    return this.#modify(limit.namespace, cmName, async (configMap) => {
      if (!configMap) {
        await this.store.create({ namespace: limit.namespace, name: cmName, data: { [limit.key]: String(limit.limit) } });
        return limit;
      }
      if (configMapValue(configMap, limit.key) !== undefined) throw new AlreadyExistsError('sync limit cannot be created as it already exists');
      await this.store.update({ ...configMap, data: { ...configMap.data, [limit.key]: String(limit.limit) } });
      return limit;
    });
  }

  async get(ref: SyncLimitRef): Promise<SyncLimit> {
    const cmName = requireCmName(ref);
    const configMap = await this.#existing(ref.namespace, cmName);
    const value = configMapValue(configMap, ref.key);
    if (value === undefined) throw new NotFoundError(`key ${ref.key} not found in configmap ${ref.namespace}/${cmName}`);
    return { ...ref, cmName, limit: parseLimit(value, ref.key, ref.namespace, cmName) };
  }

  async update(limit: SyncLimit, beforeChange: BeforeChange): Promise<SyncLimit> {
    const cmName = requireCmName(limit);
    return this.#modify(limit.namespace, cmName, async (configMap) => {
      if (!configMap) throw new NotFoundError(`configmaps "${cmName}" not found`);
      const value = configMapValue(configMap, limit.key);
      if (value === undefined) throw new NotFoundError(`key ${limit.key} not found in configmap ${limit.namespace}/${cmName} - please create it first`);
      // A value that is not an integer is audited as it was: the update repairs it.
      await beforeChange(foundLimit(limit, cmName, value));
      await this.store.update({ ...configMap, data: { ...configMap.data, [limit.key]: String(limit.limit) } });
      return limit;
    });
  }

  async delete(ref: SyncLimitRef, beforeChange: BeforeChange): Promise<FoundLimit | undefined> {
    const cmName = requireCmName(ref);
    return this.#modify(ref.namespace, cmName, async (configMap) => {
      if (!configMap) throw new NotFoundError(`configmaps "${cmName}" not found`);
      const value = configMapValue(configMap, ref.key);
      if (value === undefined) return undefined;
      const removed = foundLimit(ref, cmName, value);
      await beforeChange(removed);
      const data = { ...configMap.data };
      delete data[ref.key];
      await this.store.update({ ...configMap, data });
      return removed;
    });
  }

  async list(namespace: string): Promise<SyncLimit[]> {
    const limits: SyncLimit[] = [];
    for (const configMap of await this.store.list(namespace)) {
      for (const [key, value] of Object.entries(configMap.data)) {
        // Other ConfigMaps of the namespace hold other things; only integer values can be limits.
        if (/^\d+$/.test(value.trim())) limits.push({ type: 'CONFIGMAP', namespace, cmName: configMap.name, key, limit: Number(value) });
      }
    }
    return limits;
  }

  async #existing(namespace: string, cmName: string): Promise<ConfigMap> {
    const configMap = await this.store.get(namespace, cmName);
    if (!configMap) throw new NotFoundError(`configmaps "${cmName}" not found`);
    return configMap;
  }

  /** Read-modify-write, retried when another writer changed the ConfigMap in between. */
  async #modify<T>(namespace: string, cmName: string, change: (configMap: ConfigMap | undefined) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await change(await this.store.get(namespace, cmName));
      } catch (error) {
        const raced = error instanceof ConflictError || (error instanceof AlreadyExistsError && error.message.startsWith('configmaps '));
        if (!raced || attempt >= CONFLICT_RETRIES) throw error;
      }
    }
  }
}

function requireCmName(ref: SyncLimitRef): string {
  if (!ref.cmName) throw new InvalidArgumentError('cmName is required for a ConfigMap sync limit');
  return ref.cmName;
}

function isLimitText(value: string): boolean {
  return /^[+-]?\d+$/.test(value.trim());
}

function foundLimit(ref: SyncLimitRef, cmName: string, value: string): FoundLimit {
  return { ...ref, cmName, limit: isLimitText(value) ? Number.parseInt(value, 10) : value };
}

function parseLimit(value: string, key: string, namespace: string, cmName: string): number {
  if (!isLimitText(value)) throw new InvalidArgumentError(`invalid limit format for key ${key} in configmap ${namespace}/${cmName}`);
  return Number.parseInt(value, 10);
}
