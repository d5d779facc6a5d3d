import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holderKey, isSameWorkflowNodeKeys, workflowKeyOf } from '../../runtime/controller/sync/holder-key.js';
import { databaseLockKey, decodeLockName, encodeLockName, type LockIdentity } from '../../runtime/controller/sync/lock-name.js';
import { parseSynchronization } from '../../runtime/controller/sync/sync-items.js';

describe('lock names', () => {
  it('encodes the three kinds as Argo does', () => {
    expect(encodeLockName({ kind: 'ConfigMap', namespace: 'team-a', configMapName: 'limits', key: 'gpu' })).toBe('team-a/ConfigMap/limits/gpu');
    expect(encodeLockName({ kind: 'Mutex', namespace: 'team-a', name: 'deploy/prod' })).toBe('team-a/Mutex/deploy/prod');
    expect(encodeLockName({ kind: 'Database', namespace: 'team-a', name: 'gpu', mutex: false })).toBe('team-a/Database/gpu');
    expect(databaseLockKey({ kind: 'Database', namespace: 'team-a', name: 'gpu', mutex: false })).toBe('sem/team-a/gpu');
    expect(databaseLockKey({ kind: 'Database', namespace: 'team-a', name: 'gpu', mutex: true })).toBe('mtx/team-a/gpu');
  });

  it.each([
    ['team-a', 'Invalid lock key: unknown format'],
    ['team-a/Mutex', 'Invalid lock key: unknown format'],
    ['/Mutex/m', 'Invalid lock key: Namespace is missing'],
    ['ns//m', 'Invalid lock key: Kind is missing'],
    ['ns/Mutex/', 'Invalid lock key: ResourceName is missing'],
    ['ns/ConfigMap/cm', 'Invalid ConfigMap lock key: unknown format'],
    ['ns/ConfigMap/cm/a/b', 'Invalid ConfigMap lock key: unknown format'],
    ['ns/ConfigMap/cm/', 'Invalid lock key: Key is missing for ConfigMap lock'],
    ['ns/Semaphore/x', 'Invalid lock key, unexpected kind: Semaphore'],
    ['ns/mutex/x', 'Invalid lock key, unexpected kind: mutex'],
  ])('rejects %j with %s', (name, message) => {
    expect(() => decodeLockName(name)).toThrow(message);
  });

  it('round-trips every name it encodes', () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
    const identity: fc.Arbitrary<LockIdentity> = fc.oneof(
      fc.record({ kind: fc.constant('ConfigMap' as const), namespace: segment, configMapName: segment, key: segment }),
      fc.record({ kind: fc.constant('Mutex' as const), namespace: segment, name: fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')) }),
      fc.record({ kind: fc.constant('Database' as const), namespace: segment, name: fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')), mutex: fc.constant(false) }),
    );
    fc.assert(
      fc.property(identity, (value) => {
        expect(decodeLockName(encodeLockName(value))).toEqual(value);
      }),
    );
  });
});

describe('holder keys', () => {
  it('names workflow- and template-level holders', () => {
    expect(holderKey('ns', 'wf')).toBe('ns/wf');
    expect(holderKey('ns', 'wf', 'wf-123')).toBe('ns/wf/wf-123');
    expect(workflowKeyOf('ns/wf/wf-123')).toBe('ns/wf');
  });

  it('finds the workflow of any holder key: its first two parts', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', '-', '.', '/') }), { minLength: 1, maxLength: 5 }), (parts) => {
        const key = parts.join('/');
        expect(workflowKeyOf(key)).toBe(key.split('/').slice(0, 2).join('/'));
      }),
    );
  });

  it("treats nodes of the same workflow alike, comparing part count and workflow name as Argo does", () => {
    expect(isSameWorkflowNodeKeys('ns/wf/a', 'ns/wf/b')).toBe(true);
    expect(isSameWorkflowNodeKeys('ns/wf', 'ns/wf/b')).toBe(false);
    expect(isSameWorkflowNodeKeys('ns/wf/a', 'other/wf/b')).toBe(true);
    expect(isSameWorkflowNodeKeys('ns/wf/a', 'ns/wf2/a')).toBe(false);
  });
});

describe('synchronization blocks', () => {
  it('lists semaphores first, then mutexes, with namespace overrides', () => {
    const parsed = parseSynchronization(
      { mutexes: [{ name: 'm' }, { name: 'd', database: true, namespace: 'global' }], semaphores: [{ configMapKeyRef: { name: 'cm', key: 'k' } }, { database: { key: 'gpu' }, namespace: 'shared' }] },
      'team-a',
    );
    expect(parsed.items.map((item) => item.lockName)).toEqual(['team-a/ConfigMap/cm/k', 'shared/Database/gpu', 'team-a/Mutex/m', 'global/Database/d']);
    expect(parsed.warnings).toEqual([]);
  });

  it('converts the legacy singular fields with a warning', () => {
    const parsed = parseSynchronization({ semaphore: { configMapKeyRef: { name: 'cm', key: 'k' } }, mutex: { name: 'm' } }, 'ns');
    expect(parsed.items.map((item) => item.lockName)).toEqual(['ns/ConfigMap/cm/k', 'ns/Mutex/m']);
    expect(parsed.warnings).toHaveLength(2);
  });

  it.each([
    [{ semaphores: [{ configMapKeyRef: { name: 'cm', key: 'k' }, database: { key: 'k' } }] }, 'requested configuration is invalid: invalid semaphore with both ConfigMapKeyRef and Database'],
    [{ semaphores: [{}] }, 'requested configuration is invalid: cannot get LockName for a Semaphore without a ConfigMapRef or Database'],
    [{ mutexes: [{ name: 'm' }, { name: 'm' }] }, 'requested configuration is invalid: duplicate synchronization item found'],
    [{ semaphores: [{ database: { key: 'g' } }, { database: { key: 'g' } }] }, 'requested configuration is invalid: duplicate synchronization item found'],
    [{ semaphores: [{ configMapKeyRef: { name: 'cm', key: 'a/b' } }] }, 'requested configuration is invalid: invalid ConfigMap key "a/b": keys cannot contain "/"'],
  ])('rejects %j', (block, message) => {
    expect(() => parseSynchronization(block, 'ns')).toThrow(message);
  });
});
