import { InvalidArgumentError } from '../../errors.js';

/** What a lock name designates (SPEC §2): a ConfigMap semaphore, an in-memory mutex, or a database lock. */
export type LockIdentity =
  | { readonly kind: 'ConfigMap'; readonly namespace: string; readonly configMapName: string; readonly key: string }
  | { readonly kind: 'Mutex'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'Database'; readonly namespace: string; readonly name: string; readonly mutex: boolean };

/** `<ns>/ConfigMap/<cm>/<key>`, `<ns>/Mutex/<name>` or `<ns>/Database/<name>`: the name in status, metrics and messages. */
export function encodeLockName(identity: LockIdentity): string {
  switch (identity.kind) {
    case 'ConfigMap':
      return `${identity.namespace}/ConfigMap/${identity.configMapName}/${identity.key}`;
    case 'Mutex':
      return `${identity.namespace}/Mutex/${identity.name}`;
    case 'Database':
      return `${identity.namespace}/Database/${identity.name}`;
  }
}

/**
 * Parses a lock name with Argo's rules and texts: at most three parts, the last of which may contain `/`
 * except for ConfigMap locks, which need exactly `cm/key`. A `Database` name decodes as a semaphore.
 */
export function decodeLockName(lockName: string): LockIdentity {
  const firstSlash = lockName.indexOf('/');
  const secondSlash = firstSlash < 0 ? -1 : lockName.indexOf('/', firstSlash + 1);
  if (secondSlash < 0) throw new InvalidArgumentError('Invalid lock key: unknown format');
  const namespace = lockName.slice(0, firstSlash);
  const kind = lockName.slice(firstSlash + 1, secondSlash);
  const rest = lockName.slice(secondSlash + 1);
  if (namespace === '') throw new InvalidArgumentError('Invalid lock key: Namespace is missing');
  if (kind === '') throw new InvalidArgumentError('Invalid lock key: Kind is missing');
  if (rest === '') throw new InvalidArgumentError('Invalid lock key: ResourceName is missing');
  switch (kind) {
    case 'Mutex':
      return { kind, namespace, name: rest };
    case 'Database':
      return { kind, namespace, name: rest, mutex: false };
    case 'ConfigMap': {
      const parts = rest.split('/');
      if (parts.length !== 2) throw new InvalidArgumentError('Invalid ConfigMap lock key: unknown format');
      const [configMapName, key] = parts as [string, string];
      if (key === '') throw new InvalidArgumentError('Invalid lock key: Key is missing for ConfigMap lock');
      if (configMapName === '') throw new InvalidArgumentError('Invalid lock key: ResourceName is missing');
      return { kind, namespace, configMapName, key };
    }
    default:
      throw new InvalidArgumentError(`Invalid lock key, unexpected kind: ${kind}`);
  }
}

/** The `sync_state` / `sync_lock` name of a database lock: `sem/<ns>/<key>` or `mtx/<ns>/<name>`. */
export function databaseLockKey(identity: Extract<LockIdentity, { kind: 'Database' }>): string {
  return `${identity.mutex ? 'mtx' : 'sem'}/${identity.namespace}/${identity.name}`;
}

/** The identity of a database lock from its row name (`sem/<ns>/<key>` or `mtx/<ns>/<name>`). */
export function decodeDatabaseLockKey(databaseKey: string): Extract<LockIdentity, { kind: 'Database' }> {
  const [kind, namespace, ...rest] = databaseKey.split('/');
  return { kind: 'Database', namespace: namespace ?? '', name: rest.join('/'), mutex: kind === 'mtx' };
}

/** The `sync_limit` name of a database semaphore: `<ns>/<key>`. */
export function databaseLimitKey(namespace: string, key: string): string {
  return `${namespace}/${key}`;
}
