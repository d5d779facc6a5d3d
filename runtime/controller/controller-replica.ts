import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { EnvironmentKnobs } from '../config/environment-knobs.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { startGarbageCollection, type GarbageCollectionOptions } from './garbage-collection.js';
import { DatabaseLeaseLock } from './leader/database-lease-lock.js';
import { LeaderElection } from './leader/leader-election.js';
import { WorkflowController, type WorkflowControllerOptions } from './workflows/workflow-controller.js';

export const CONTROLLER_LEASE_NAME = 'argosync-controller';

export interface ControllerReplicaOptions {
  readonly controller: WorkflowControllerOptions;
  readonly garbageCollection: Omit<GarbageCollectionOptions, 'store' | 'say'>;
  readonly knobs: EnvironmentKnobs;
  /** On Kubernetes the lease is a Lease in `namespace`; elsewhere a row of the state store. */
  readonly kubernetes: KubeConfig | undefined;
  readonly namespace: string;
  readonly stateStore: SqlDatabase;
  /** Names this replica when `LEADER_ELECTION_IDENTITY` is unset: a restart on the same home leads again at once. */
  readonly home: string;
}

/** One replica of the workflow controller: it reconciles and collects garbage only while it holds the lease. */
export class ControllerReplica {
  readonly #options: ControllerReplicaOptions;
  #election: LeaderElection | undefined;
  #controller: WorkflowController | undefined;
  #stopGarbageCollection: (() => void) | undefined;

  constructor(options: ControllerReplicaOptions) {
    this.#options = options;
  }

  /** The controller while this replica leads. */
  get workflows(): WorkflowController | undefined {
    return this.#controller;
  }

  async start(): Promise<void> {
    const { knobs, kubernetes, namespace, stateStore, home } = this.#options;
    this.#election = new LeaderElection({
      lock: kubernetes
        ? new (await import('./leader/kubernetes-lease-lock.js')).KubernetesLeaseLock(kubernetes, namespace, CONTROLLER_LEASE_NAME)
        : new DatabaseLeaseLock(stateStore, CONTROLLER_LEASE_NAME),
      identity: knobs.leaderElectionIdentity ?? `${hostname()}:${home}`,
      leaseMs: knobs.leaderElectionLeaseMs,
      renewDeadlineMs: knobs.leaderElectionRenewDeadlineMs,
      retryPeriodMs: knobs.leaderElectionRetryPeriodMs,
      onStartedLeading: () => this.#lead(),
      onStoppedLeading: async () => this.#standBy(),
      say: this.#options.controller.say,
    });
    return this.#election.start();
  }

  async stop(): Promise<void> {
    await this.#election?.stop();
  }

  async #lead(): Promise<void> {
    const controller = new WorkflowController(this.#options.controller);
    this.#controller = controller;
    await controller.start();
    this.#stopGarbageCollection = startGarbageCollection({ ...this.#options.garbageCollection, store: this.#options.controller.store, say: this.#options.controller.say });
  }

  #standBy(): void {
    this.#stopGarbageCollection?.();
    this.#controller?.stop();
    this.#controller = undefined;
  }
}
