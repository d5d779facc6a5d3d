/** A controller registered in the sync database. */
export interface ControllerStatus {
  readonly name: string;
  readonly lastHeartbeat?: string;
}

/** A semaphore limit with its lock name and live counts, as the data sources read it. */
export interface SemaphoreLimitStatus {
  readonly namespace: string;
  readonly key: string;
  readonly type: 'database' | 'configmap';
  readonly configMapName?: string;
  readonly limit: number;
  readonly lockName: string;
  readonly holders: number;
  readonly waiting: number;
}
