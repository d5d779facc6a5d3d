import { workflowKeyOf } from './holder-key.js';
import type { Lock } from './lock.js';
import { decodeLockName, type LockIdentity } from './lock-name.js';

/** A hold recorded in a running workflow's status, re-established at startup (SPEC §5 rule 7). */
export interface RecordedHold {
  readonly namespace: string;
  readonly workflowName: string;
  readonly lockName: string;
  readonly type: 'semaphore' | 'mutex';
  readonly holderKey: string;
}

export interface StaleHold {
  readonly namespace: string;
  readonly workflowName: string;
  /** `could not re-establish <type> "<lock>" at controller startup: <err>` */
  readonly reason: string;
}

export interface LostHold {
  readonly workflowKey: string;
  readonly holderKey: string;
  readonly lockName: string;
}

export interface SyncRecoveryOptions {
  /** The lock of an identity, created on first use; throws an ApiError when it cannot be. */
  readonly lock: (identity: LockIdentity) => Lock;
  readonly locks: () => readonly Lock[];
  /** Releases and dequeues holder keys of a lock as the sync manager does. */
  readonly release: (lock: Lock, keys: readonly string[]) => Promise<void>;
  /** A hold this controller had was reclaimed while it was declared inactive: fail that workflow. */
  readonly onHoldLost?: (lost: LostHold) => void;
}

/**
 * Putting the locks right after something went wrong outside them: re-establishing holds at controller start
 * (Argo's Initialize), the existence sweep (Argo's CheckWorkflowExistence), and self-fencing (SPEC §5).
 */
export class SyncRecovery {
  constructor(private readonly options: SyncRecoveryOptions) {}

  /**
   * Re-registers the holds recorded in running workflows (in memory even above the limit; in the database by
   * verifying the row). Returns the workflows whose holds could not be re-established; throws for a hold that
   * can never be (bad lock name, no database).
   */
  async initialize(holds: readonly RecordedHold[]): Promise<StaleHold[]> {
    const stale: StaleHold[] = [];
    for (const hold of holds) {
      let lock: Lock;
      try {
        lock = this.options.lock(identityOf(hold));
      } catch (error) {
        throw new Error(`cannot re-establish ${hold.type} "${hold.lockName}" held by workflow ${hold.namespace}/${hold.workflowName} at startup: ${(error as Error).message}`);
      }
      try {
        await lock.reacquire(hold.holderKey);
      } catch (error) {
        stale.push({
          namespace: hold.namespace,
          workflowName: hold.workflowName,
          reason: `could not re-establish ${hold.type} "${hold.lockName}" at controller startup: ${(error as Error).message}`,
        });
      }
    }
    return stale;
  }

  /** Drops holders and waiters whose workflow no longer exists. */
  async sweep(exists: (workflowKey: string) => boolean): Promise<void> {
    for (const lock of this.options.locks()) {
      const gone = lock.keys().filter((holderKey) => !exists(workflowKeyOf(holderKey)));
      if (gone.length > 0) await this.options.release(lock, gone);
    }
  }

  /** After this controller was declared inactive: reports every hold other controllers reclaimed meanwhile. */
  async reportLostHolds(): Promise<void> {
    for (const lock of this.options.locks()) {
      for (const holderKey of await lock.lostHolds()) this.options.onHoldLost?.({ workflowKey: workflowKeyOf(holderKey), holderKey, lockName: lock.name });
    }
  }
}

/** A recorded database lock name does not say semaphore or mutex; the recorded type does. */
function identityOf(hold: RecordedHold): LockIdentity {
  const identity = decodeLockName(hold.lockName);
  return identity.kind === 'Database' ? { ...identity, mutex: hold.type === 'mutex' } : identity;
}
