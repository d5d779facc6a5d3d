import type { Clock } from '../../clock.js';
import { CachedLimitSource } from './cached-limit-source.js';
import { ConfigMapLimitSource } from './configmap-limit-source.js';
import { DatabaseLimitSource } from './database-limit-source.js';
import { DatabaseLock } from './database-lock.js';
import type { DatabaseSync } from './database-sync.js';
import type { Lock } from './lock.js';
import { databaseLockKey, encodeLockName, type LockIdentity } from './lock-name.js';
import { MUTEX_LIMIT } from './limit-source.js';
import { MemoryLock } from './memory-lock.js';
import type { WatchedConfigMaps } from './watched-configmaps.js';

export interface LockRegistryOptions {
  readonly clock: Clock;
  readonly configMaps: WatchedConfigMaps;
  /** Undefined when no sync database is configured: database locks then fail to be created. */
  readonly database: DatabaseSync | undefined;
  readonly semaphoreLimitCacheSeconds: number;
}

/** A ConfigMap semaphore's lock with the cache of its limit, so a change of the ConfigMap reaches both. */
interface ConfigMapSemaphore {
  readonly namespace: string;
  readonly configMapName: string;
  readonly limitCache: CachedLimitSource;
  readonly lock: Lock;
}

/**
 * The one place that decides which implementation serves a lock: ConfigMap semaphores and mutexes in memory,
 * database semaphores and mutexes over the sync database, created on first use and found again by their
 * `key`. Database locks are keyed by their row name (`sem/…`, `mtx/…`) so a database semaphore and mutex of
 * the same name stay apart (Argo merges them).
 */
export class LockRegistry {
  readonly #options: LockRegistryOptions;
  readonly #locks = new Map<string, Lock>();
  readonly #configMapSemaphores: ConfigMapSemaphore[] = [];

  constructor(options: LockRegistryOptions) {
    this.#options = options;
  }

  /** The lock of `identity`, created on first use; throws when it cannot be (no sync database). */
  get(identity: LockIdentity): Lock {
    const key = identity.kind === 'Database' ? databaseLockKey(identity) : encodeLockName(identity);
    let lock = this.#locks.get(key);
    if (!lock) {
      lock = this.#create(identity);
      this.#locks.set(key, lock);
    }
    return lock;
  }

  /** The registered lock with this key, if any. */
  find(key: string): Lock | undefined {
    return this.#locks.get(key);
  }

  all(): Lock[] {
    return [...this.#locks.values()];
  }

  /** Forgets the cached limits that ConfigMap `namespace/name` provides; returns their locks. */
  configMapChanged(namespace: string, name: string): Lock[] {
    const affected = this.#configMapSemaphores.filter((semaphore) => semaphore.namespace === namespace && semaphore.configMapName === name);
    for (const semaphore of affected) semaphore.limitCache.invalidate();
    return affected.map((semaphore) => semaphore.lock);
  }

  #create(identity: LockIdentity): Lock {
    const { clock, configMaps, database, semaphoreLimitCacheSeconds } = this.#options;
    const name = encodeLockName(identity);
    const cached = (source: ConstructorParameters<typeof CachedLimitSource>[0]) => new CachedLimitSource(source, semaphoreLimitCacheSeconds * 1000, clock);
    switch (identity.kind) {
      case 'ConfigMap': {
        const limitCache = cached(new ConfigMapLimitSource(configMaps, identity.namespace, identity.configMapName, identity.key));
        const lock = new MemoryLock(name, 'semaphore', limitCache, clock);
        this.#configMapSemaphores.push({ namespace: identity.namespace, configMapName: identity.configMapName, limitCache, lock });
        return lock;
      }
      case 'Mutex':
        return new MemoryLock(name, 'mutex', MUTEX_LIMIT, clock);
      case 'Database': {
        if (!database) throw new Error('synchronization database session is not available');
        const key = databaseLockKey(identity);
        if (identity.mutex) return new DatabaseLock(name, 'mutex', key, MUTEX_LIMIT, database);
        return new DatabaseLock(name, 'semaphore', key, cached(new DatabaseLimitSource(database.store.limits, identity.namespace, identity.name)), database);
      }
    }
  }
}
