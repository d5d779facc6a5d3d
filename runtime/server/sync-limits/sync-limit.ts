/** Where a limit is stored (SPEC §2): `CONFIGMAP` (0 on the wire) or `DATABASE` (1). */
export type SyncLimitType = 'CONFIGMAP' | 'DATABASE';

export interface SyncLimit {
  readonly type: SyncLimitType;
  readonly namespace: string;
  /** ConfigMap limits only. */
  readonly cmName?: string;
  readonly key: string;
  readonly limit: number;
}

/** Identifies one limit: the namespace, key and, for ConfigMap limits, the ConfigMap. */
export type SyncLimitRef = Omit<SyncLimit, 'limit'>;

/** The wire form, as Argo's gateway writes it: `type` as an integer, 0 and empty strings omitted. */
export interface SyncLimitWire {
  readonly type?: 1;
  readonly namespace: string;
  readonly cmName?: string;
  readonly key: string;
  readonly limit: number;
}

export function toWire(limit: SyncLimit): SyncLimitWire {
  // Literals in the wire's field order rather than spreads of optional parts: V8 copies spread objects in its
  // runtime, about 2 µs of every API read.
  const { namespace, cmName, key, limit: size } = limit;
  if (limit.type === 'DATABASE') return cmName ? { type: 1, namespace, cmName, key, limit: size } : { type: 1, namespace, key, limit: size };
  return cmName ? { namespace, cmName, key, limit: size } : { namespace, key, limit: size };
}

/** Reads `type` as the gateway does: the enum name or its number; absent means CONFIGMAP. */
export function parseLimitType(value: unknown): SyncLimitType | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0' || value === 'CONFIGMAP') return 'CONFIGMAP';
  if (value === 1 || value === '1' || value === 'DATABASE') return 'DATABASE';
  return undefined;
}

/**
 * A limit as one read found it. A ConfigMap value is text anyone may have edited: where it is not an integer,
 * `limit` is that text, as it was.
 */
export interface FoundLimit extends SyncLimitRef {
  readonly limit: number | string;
}

/**
 * Called by an update or a delete with the limit as its one read found it, before anything is written: the
 * audit records the old value there, and a failure stops the change. A retried read-modify-write calls it again.
 */
export type BeforeChange = (current: FoundLimit) => Promise<void>;

/** Both storages implement these with Argo's texts (argo-reference §6.3, §6.4). */
export interface SyncLimitStorage {
  create(limit: SyncLimit): Promise<SyncLimit>;
  get(ref: SyncLimitRef): Promise<SyncLimit>;
  update(limit: SyncLimit, beforeChange: BeforeChange): Promise<SyncLimit>;
  /** Returns the limit it removed, if there was one; `beforeChange` is called only then. */
  delete(ref: SyncLimitRef, beforeChange: BeforeChange): Promise<FoundLimit | undefined>;
  /** Every limit of the namespace. */
  list(namespace: string): Promise<SyncLimit[]>;
}
