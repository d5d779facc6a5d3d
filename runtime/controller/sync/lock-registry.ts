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

/** A lock as the registry keeps it, with what is needed to find it again from events. */
export type RegisteredLock =
  | { readonly storage: 'memory'; readonly lock: MemoryLock; readonly identity: LockIdentity; readonly limitCache?: CachedLimitSource }
  | { readonly storage: 'database'; readonly lock: DatabaseLock; readonly identity: LockIdentity; readonly limitCache?: CachedLimitSource };

export interface LockRegistryOptions {
  readonly clock: Clock;
  readonly configMaps: WatchedConfigMaps;
  /** Undefined when no sync database is configured: database locks then fail to be created. */
  readonly database: DatabaseSync | undefined;
  readonly semaphoreLimitCacheSeconds: number;
}

/**
 * The locks this controller knows, created on first use: ConfigMap semaphores and mutexes in memory,
 * database semaphores and mutexes over the sync database. Database locks are keyed by their row name
 * (`sem/…`, `mtx/…`) so a database semaphore and mutex of the same name stay apart (Argo merges them).
 */
export class LockRegistry {
  readonly #options: LockRegistryOptions;
  readonly #locks = new Map<string, RegisteredLock>();

  constructor(options: LockRegistryOptions) {
    this.#options = options;
  }

  get(identity: LockIdentity): Lock<unknown> {
    return this.#entry(identity).lock as Lock<unknown>;
  }

  entry(identity: LockIdentity): RegisteredLock {
    return this.#entry(identity);
  }

  /** The registered database lock with this row name, if any. */
  byDatabaseKey(databaseKey: string): RegisteredLock | undefined {
    return this.#locks.get(databaseKey);
  }

  all(): RegisteredLock[] {
    return [...this.#locks.values()];
  }

  #entry(identity: LockIdentity): RegisteredLock {
    const key = identity.kind === 'Database' ? databaseLockKey(identity) : encodeLockName(identity);
    let entry = this.#locks.get(key);
    if (!entry) {
      entry = this.#create(identity);
      this.#locks.set(key, entry);
    }
    return entry;
  }

  #create(identity: LockIdentity): RegisteredLock {
    const { clock, configMaps, database, semaphoreLimitCacheSeconds } = this.#options;
    const name = encodeLockName(identity);
    const cached = (source: ConstructorParameters<typeof CachedLimitSource>[0]) => new CachedLimitSource(source, semaphoreLimitCacheSeconds * 1000, clock);
    switch (identity.kind) {
      case 'ConfigMap': {
        const limitCache = cached(new ConfigMapLimitSource(configMaps, identity.namespace, identity.configMapName, identity.key));
        return { storage: 'memory', identity, limitCache, lock: new MemoryLock(name, 'semaphore', limitCache, clock) };
      }
      case 'Mutex':
        return { storage: 'memory', identity, lock: new MemoryLock(name, 'mutex', MUTEX_LIMIT, clock) };
      case 'Database': {
        if (!database) throw new Error('synchronization database session is not available');
        const key = databaseLockKey(identity);
        if (identity.mutex) return { storage: 'database', identity, lock: new DatabaseLock(name, 'mutex', key, MUTEX_LIMIT, database) };
        const limitCache = cached(new DatabaseLimitSource(database.db, database.tables, identity.namespace, identity.name));
        return { storage: 'database', identity, limitCache, lock: new DatabaseLock(name, 'semaphore', key, limitCache, database) };
      }
    }
  }
}
