import type { Waiter } from './lock.js';

/** SPEC §5 rule 2: priority descending, then workflow creation time ascending (ties by key, for a stable order). */
export function compareWaiters(a: Waiter, b: Waiter): number {
  return b.priority - a.priority || a.creationTime - b.creationTime || (a.holderKey < b.holderKey ? -1 : a.holderKey > b.holderKey ? 1 : 0);
}
