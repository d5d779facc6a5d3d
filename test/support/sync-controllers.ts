import { systemClock } from '../../runtime/clock.js';
import type { ConfigMapStore } from '../../runtime/store/configmap-store.js';
import type { Driver } from '../../runtime/store/connection-spec.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { migrateSyncSchema } from '../../runtime/store/migrations/sync-migrations.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { DEFAULT_SYNC_TABLES } from '../../runtime/store/migrations/sync-migrations.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { DatabaseSync, type DatabaseSyncOptions } from '../../runtime/controller/sync/database-sync.js';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { SyncManager, type AcquireResult, type LostHold, type SyncManagerOptions } from '../../runtime/controller/sync/sync-manager.js';

/** Resolves when a workflow is woken (Argo's `nextWorkflow`), so tests await hand-offs instead of sleeping. */
export class WakeRecorder {
  readonly woken: string[] = [];
  readonly #waiting = new Map<string, (() => void)[]>();

  readonly onWake = (workflowKey: string): void => {
    this.woken.push(workflowKey);
    for (const resolve of this.#waiting.get(workflowKey) ?? []) resolve();
    this.#waiting.delete(workflowKey);
  };

  /** Resolves at the next wake of `workflowKey`. */
  next(workflowKey: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.#waiting.get(workflowKey) ?? [];
      list.push(resolve);
      this.#waiting.set(workflowKey, list);
    });
  }
}

export interface TestController {
  readonly name: string;
  readonly manager: SyncManager;
  readonly database: DatabaseSync | undefined;
  readonly wakes: WakeRecorder;
  readonly lost: LostHold[];
  /** Tries to acquire the block for workflow `name` in `namespace` (default `ns`). */
  acquire(workflow: WorkflowRef, synchronization: Synchronization): Promise<AcquireResult>;
  /** Keeps trying at every wake until it acquires. */
  acquireWhenWoken(workflow: WorkflowRef, synchronization: Synchronization): Promise<AcquireResult>;
  /** For a workflow already waiting: acquires at its next wake, and again at each one until it succeeds. */
  acquireAtNextWake(workflow: WorkflowRef, synchronization: Synchronization): Promise<AcquireResult>;
  stop(): Promise<void>;
}

export interface WorkflowRef {
  readonly name: string;
  readonly namespace?: string;
  readonly nodeId?: string;
  readonly priority?: number;
  /** Creation time, ms; default: the order in which the test first mentions the workflow. */
  readonly created?: number;
}

let creationCounter = Date.UTC(2026, 0, 1);

const workflowKeyOf = (workflow: WorkflowRef) => `${workflow.namespace ?? 'ns'}/${workflow.name}`;

export interface ControllerOptions {
  readonly name?: string;
  readonly configMaps: ConfigMapStore;
  readonly sqlDatabase?: SqlDatabase;
  readonly database?: Partial<DatabaseSyncOptions>;
  readonly manager?: Partial<SyncManagerOptions>;
}

/** A controller's sync engine as the runtime wires it: a manager, and a database session when one is given. */
export async function startController(options: ControllerOptions): Promise<TestController> {
  const name = options.name ?? 'controller-a';
  const wakes = new WakeRecorder();
  const lost: LostHold[] = [];
  const database = options.sqlDatabase
    ? new DatabaseSync({
        database: options.sqlDatabase,
        tables: DEFAULT_SYNC_TABLES,
        controllerName: name,
        clock: systemClock,
        pollSeconds: 10,
        heartbeatSeconds: 60,
        inactiveControllerSeconds: 600,
        reclaimInactiveHolds: true,
        skipMigration: false,
        ...options.database,
      })
    : undefined;
  await database?.start();
  const manager = new SyncManager({ controllerName: name, configMaps: options.configMaps, database, onWake: wakes.onWake, onHoldLost: (hold) => lost.push(hold), ...options.manager });
  await manager.start();
  const created = new Map<string, number>();
  const acquire = (workflow: WorkflowRef, synchronization: Synchronization) => {
    const namespace = workflow.namespace ?? 'ns';
    const key = `${namespace}/${workflow.name}`;
    if (!created.has(key)) created.set(key, workflow.created ?? (creationCounter += 1000));
    return manager.tryAcquire({
      namespace,
      workflowName: workflow.name,
      ...(workflow.nodeId ? { nodeId: workflow.nodeId } : {}),
      priority: workflow.priority ?? 0,
      creationTime: workflow.created ?? created.get(key)!,
      synchronization,
    });
  };
  const acquireWhenWoken = async (workflow: WorkflowRef, synchronization: Synchronization): Promise<AcquireResult> => {
    for (;;) {
      const woken = wakes.next(workflowKeyOf(workflow));
      const result = await acquire(workflow, synchronization);
      if (result.acquired) return result;
      await woken;
    }
  };
  return {
    name,
    manager,
    database,
    wakes,
    lost,
    acquire,
    acquireWhenWoken,
    async acquireAtNextWake(workflow, synchronization) {
      await wakes.next(workflowKeyOf(workflow));
      return acquireWhenWoken(workflow, synchronization);
    },
    async stop() {
      manager.stop();
      await database?.stop();
    },
  };
}

/** A test database with the sync and argosync schemas, an admin handle on it, and embedded ConfigMaps. */
export interface SyncTestDatabase {
  readonly testDatabase: TestDatabase;
  readonly admin: SqlDatabase;
  readonly configMaps: SqlConfigMapStore;
  drop(): Promise<void>;
}

export async function createSyncTestDatabase(driver: Driver): Promise<SyncTestDatabase> {
  const testDatabase = await createTestDatabase(driver);
  const admin = await testDatabase.open();
  await migrateArgosyncSchema(admin);
  await migrateSyncSchema(admin);
  const configMaps = new SqlConfigMapStore(admin);
  return {
    testDatabase,
    admin,
    configMaps,
    async drop() {
      await configMaps.close();
      await testDatabase.drop();
    },
  };
}
