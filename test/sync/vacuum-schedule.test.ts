import { describe, expect, it } from 'vitest';
import { VacuumSchedule } from '../../runtime/controller/sync/vacuum-schedule.js';
import { ManualClock } from '../support/manual-clock.js';

/** A vacuum the test ends by hand, counting its starts. */
class FakeVacuum {
  starts = 0;
  #end: ((error?: Error) => void) | undefined;

  readonly run = (): Promise<void> => {
    this.starts += 1;
    return new Promise((resolve, reject) => (this.#end = (error) => (error ? reject(error) : resolve())));
  };

  end(error?: Error): void {
    this.#end?.(error);
    this.#end = undefined;
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('vacuum schedule', () => {
  const setUp = (afterWrites = 3, minIntervalMs = 1000) => {
    const clock = new ManualClock();
    const vacuum = new FakeVacuum();
    const errors: unknown[] = [];
    const schedule = new VacuumSchedule(vacuum.run, clock, { afterWrites, minIntervalMs }, (error) => errors.push(error));
    return { clock, vacuum, errors, schedule };
  };

  it('starts a vacuum after `afterWrites` writes, never without writes', async () => {
    const { vacuum, schedule } = setUp();
    schedule.startIfDue();
    schedule.wrote();
    schedule.wrote();
    schedule.startIfDue();
    await nextTurn();
    expect(vacuum.starts).toBe(0);
    schedule.wrote();
    await nextTurn();
    expect(vacuum.starts).toBe(1);
  });

  it('runs one vacuum at a time and waits out the time floor, then a periodic check starts the one due', async () => {
    const { clock, vacuum, schedule } = setUp();
    for (let i = 0; i < 3; i++) schedule.wrote();
    await nextTurn();
    for (let i = 0; i < 6; i++) schedule.wrote();
    await nextTurn();
    expect(vacuum.starts).toBe(1);
    vacuum.end();
    await nextTurn();
    schedule.wrote();
    await nextTurn();
    expect(vacuum.starts).toBe(1);
    clock.advance(1000);
    schedule.startIfDue();
    await nextTurn();
    expect(vacuum.starts).toBe(2);
  });

  it('hands a failure to onError and tries again after as many writes', async () => {
    const { clock, vacuum, errors, schedule } = setUp(2, 0);
    schedule.wrote();
    schedule.wrote();
    await nextTurn();
    vacuum.end(new Error('connection refused'));
    await nextTurn();
    expect(errors).toEqual([new Error('connection refused')]);
    clock.advance(1);
    schedule.wrote();
    await nextTurn();
    expect(vacuum.starts).toBe(1);
    schedule.wrote();
    await nextTurn();
    expect(vacuum.starts).toBe(2);
  });

  it('stops: waits for the vacuum under way and starts no other', async () => {
    const { vacuum, schedule } = setUp(1, 0);
    schedule.wrote();
    await nextTurn();
    let stopped = false;
    const stopping = schedule.stop().then(() => (stopped = true));
    await nextTurn();
    expect(stopped).toBe(false);
    vacuum.end();
    await stopping;
    schedule.wrote();
    await nextTurn();
    expect(vacuum.starts).toBe(1);
  });
});
