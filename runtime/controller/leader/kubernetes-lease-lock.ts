import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { kubernetesStatusCode } from '../../kubernetes-status.js';
import type { LeaseLock } from './leader-election.js';

/**
 * The lease as a `coordination.k8s.io/v1` Lease, as client-go's leader election keeps it: the holder renews
 * `renewTime`; a standby replaces an expired lease with the resourceVersion it read, so a race ends in a 409.
 */
export class KubernetesLeaseLock implements LeaseLock {
  readonly description: string;
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;

  constructor(kubeConfig: KubeConfig, namespace: string, name: string) {
    this.#api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.#namespace = namespace;
    this.#name = name;
    this.description = `Lease ${namespace}/${name}`;
  }

  async tryAcquireOrRenew(identity: string, leaseMs: number): Promise<boolean> {
    const now = new V1MicroTime();
    const leaseDurationSeconds = Math.ceil(leaseMs / 1000);
    const existing = await this.#read();
    if (!existing) {
      const body: V1Lease = { metadata: { name: this.#name, namespace: this.#namespace }, spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } };
      return this.#unlessConflict(() => this.#api.createNamespacedLease({ namespace: this.#namespace, body }));
    }
    const spec = existing.spec ?? {};
    const ours = spec.holderIdentity === identity;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = !spec.holderIdentity || renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
    if (!ours && !expired) return false;
    const body: V1Lease = {
      ...existing,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: now,
        ...(ours ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    return this.#unlessConflict(() => this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body }));
  }

  async release(identity: string): Promise<void> {
    const existing = await this.#read();
    if (existing?.spec?.holderIdentity !== identity) return;
    const body: V1Lease = { ...existing, spec: { ...existing.spec, holderIdentity: '', renewTime: new V1MicroTime(0) } };
    await this.#unlessConflict(() => this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body }));
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      return await this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name });
    } catch (error) {
      if (kubernetesStatusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** True when the write went through; false when another replica wrote first (409). */
  async #unlessConflict(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (kubernetesStatusCode(error) === 409) return false;
      throw error;
    }
  }
}
