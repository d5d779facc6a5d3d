import { Counter, Gauge, type Registry } from 'prom-client';
import type { Lock, LockSnapshot } from './lock.js';
import { decodeLockName } from './lock-name.js';

type Labels = 'type' | 'storage' | 'lock_name' | 'namespace';

const METRIC_NAMES = ['argosync_locks_taken_total', 'argosync_locks_missing_limit_total', 'argosync_locks_held', 'argosync_locks_pending'];

/** Argo's labels: storage `configmap` for ConfigMap semaphores and in-memory mutexes; lock_name `<cm>/<key>` or the resource name. */
function labelsOf(lock: Pick<Lock, 'name' | 'kind' | 'storage'>): Record<Labels, string> {
  const identity = decodeLockName(lock.name);
  return {
    type: lock.kind,
    storage: lock.storage === 'database' ? 'database' : 'configmap',
    lock_name: identity.kind === 'ConfigMap' ? `${identity.configMapName}/${identity.key}` : identity.name,
    namespace: identity.namespace,
  };
}

/**
 * Lock metrics of SPEC §7.1: taken counter, held and pending gauges read from live snapshots at scrape time.
 * As Argo's, the gauges count this controller's holders and waiters only, so summing them across the
 * controllers of one database counts every row once.
 */
export class LockMetrics {
  readonly #registry: Registry;
  readonly #taken: Counter<Labels>;
  readonly #missing: Counter<Labels>;
  /** A lock's labels never change: worked out once per lock (by its key), as grants count on the hot path. */
  readonly #labels = new Map<string, Record<Labels, string>>();

  constructor(
    registry: Registry,
    snapshots: () => Promise<LockSnapshot[]>,
    /** Rows of other controllers (database locks) are not counted. */
    controllerName: string,
  ) {
    this.#registry = registry;
    this.#taken = new Counter({ name: 'argosync_locks_taken_total', help: 'Locks granted.', labelNames: ['type', 'storage', 'lock_name', 'namespace'], registers: [registry] });
    this.#missing = new Counter({
      name: 'argosync_locks_missing_limit_total',
      help: 'Acquisition attempts that waited because the limit is missing or not above zero.',
      labelNames: ['type', 'storage', 'lock_name', 'namespace'],
      registers: [registry],
    });
    const gauge = (name: string, help: string, count: (snapshot: LockSnapshot) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['type', 'storage', 'lock_name', 'namespace'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const snapshot of await snapshots()) this.set(labelsOf(snapshot), count(snapshot));
        },
      });
    const mine = (entry: { readonly controller?: string }) => entry.controller === undefined || entry.controller === controllerName;
    gauge('argosync_locks_held', "Current holders per lock, of this controller's.", (snapshot) => snapshot.holders.filter(mine).length);
    gauge('argosync_locks_pending', "Current waiters per lock, of this controller's.", (snapshot) => snapshot.waiters.filter(mine).length);
  }

  /** Removes these metrics from the registry, so a replacing engine can register its own. */
  unregister(): void {
    for (const name of METRIC_NAMES) this.#registry.removeSingleMetric(name);
  }

  taken(lock: Lock): void {
    this.#taken.inc(this.#labelsOf(lock));
  }

  missingLimit(lock: Lock): void {
    this.#missing.inc(this.#labelsOf(lock));
  }

  #labelsOf(lock: Lock): Record<Labels, string> {
    let labels = this.#labels.get(lock.key);
    if (!labels) this.#labels.set(lock.key, (labels = labelsOf(lock)));
    return labels;
  }
}
