import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { CachedLimitSource } from '../../runtime/controller/sync/cached-limit-source.js';
import type { LimitReading, LimitSource } from '../../runtime/controller/sync/limit-source.js';
import { LockMetrics } from '../../runtime/controller/sync/lock-metrics.js';
import { MemoryLock } from '../../runtime/controller/sync/memory-lock.js';
import { ManualClock } from '../support/manual-clock.js';

/** A limit source the test steers: the current reading, or an outage. */
class SteeredSource implements LimitSource {
  reads = 0;
  constructor(public reading: LimitReading | Error) {}
  async read(): Promise<LimitReading> {
    this.reads += 1;
    if (this.reading instanceof Error) throw this.reading;
    return this.reading;
  }
}

describe('semaphoreLimitCacheSeconds', () => {
  it('re-reads every time at 0, and at most once per period otherwise', async () => {
    const clock = new ManualClock();
    const source = new SteeredSource({ limit: 2 });
    const uncached = new CachedLimitSource(source, 0, clock);
    await uncached.read();
    await uncached.read();
    expect(source.reads).toBe(2);

    const cached = new CachedLimitSource(source, 30_000, clock);
    expect(await cached.read()).toEqual({ limit: 2 });
    source.reading = { limit: 5 };
    clock.advance(29_999);
    expect(await cached.read()).toEqual({ limit: 2 });
    clock.advance(1);
    expect(await cached.read()).toEqual({ limit: 5 });
    source.reading = { limit: 7 };
    cached.invalidate();
    expect(await cached.read()).toEqual({ limit: 7 });
  });

  it('falls back to the last good reading when the store cannot be reached, and retries next time', async () => {
    const clock = new ManualClock();
    const source = new SteeredSource({ limit: 3 });
    const cached = new CachedLimitSource(source, 0, clock);
    await cached.read();
    source.reading = new Error('connection refused');
    expect(await cached.read()).toEqual({ limit: 3 });
    const fresh = new CachedLimitSource(new SteeredSource(new Error('connection refused')), 0, clock);
    await expect(fresh.read()).rejects.toThrow('connection refused');
  });

  it('keeps a lock at its last known limit through an outage, so no slot leaks', async () => {
    const clock = new ManualClock();
    const source = new SteeredSource({ limit: 1 });
    const lock = new MemoryLock('ns/ConfigMap/cm/k', 'semaphore', source, clock);
    await lock.enqueue({ holderKey: 'ns/a', priority: 0, creationTime: 1 });
    expect(await lock.check('ns/a', await lock.readLimit())).toEqual({ status: 'acquirable' });
    await lock.grant('ns/a');
    source.reading = new Error('unreachable');
    await lock.enqueue({ holderKey: 'ns/b', priority: 0, creationTime: 2 });
    expect(await lock.check('ns/b', await lock.readLimit())).toMatchObject({ status: 'waiting', message: 'Waiting for ns/ConfigMap/cm/k lock. Lock status: 0/1' });
  });
});

describe('lock metrics', () => {
  it('exposes taken, held and pending per lock with Argo labels', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const lock = new MemoryLock('team-a/ConfigMap/limits/gpu', 'semaphore', new SteeredSource({ limit: 1 }), clock);
    const metrics = new LockMetrics(registry, async () => [await lock.snapshot()], 'controller-a');
    await lock.enqueue({ holderKey: 'team-a/a', priority: 0, creationTime: 1 });
    await lock.grant('team-a/a');
    metrics.taken(lock);
    await lock.enqueue({ holderKey: 'team-a/b', priority: 0, creationTime: 2 });
    const text = await registry.metrics();
    const labels = 'type="semaphore",storage="configmap",lock_name="limits/gpu",namespace="team-a"';
    expect(text).toContain(`argosync_locks_taken_total{${labels}} 1`);
    expect(text).toContain(`argosync_locks_held{${labels}} 1`);
    expect(text).toContain(`argosync_locks_pending{${labels}} 1`);
  });
});
