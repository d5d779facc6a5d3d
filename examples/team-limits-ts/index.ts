// A team's limits in TypeScript: one database semaphore per GPU pool, sized from a table, and a ConfigMap
// semaphore for the nightly batch. `pulumi up` applies them; `pulumi refresh` shows changes made by hand.
import * as argosync from '@argosync/pulumi';

const gpuPools: Record<string, number> = { 'gpu-a100': 2, 'gpu-t4': 6 };

export const gpuLocks = Object.entries(gpuPools).map(([key, limit]) => new argosync.SemaphoreLimit(key, { key, limit }).lockName);

const batch = new argosync.SemaphoreLimit('nightly-batch', { key: 'nightly-batch', type: 'configmap', configMapName: 'team-a-limits', limit: 4 });
export const batchLock = batch.lockName;
