export { getControllers, getControllersOutput, type GetControllersResult } from './getControllers.js';
export { getSemaphoreLimit, getSemaphoreLimitOutput, type GetSemaphoreLimitArgs, type GetSemaphoreLimitResult } from './getSemaphoreLimit.js';
export { getSemaphoreLimits, getSemaphoreLimitsOutput, type GetSemaphoreLimitsArgs, type GetSemaphoreLimitsResult } from './getSemaphoreLimits.js';
export { OffloadConfig, type OffloadConfigArgs } from './offloadConfig.js';
export { Provider, type ProviderArgs } from './provider.js';
export { Runtime, type RuntimeArgs } from './runtime.js';
export { SemaphoreLimit, type SemaphoreLimitArgs } from './semaphoreLimit.js';
export { SyncDatabase, type SyncDatabaseArgs, type DatabaseConnectionArgs } from './syncDatabase.js';
export type { ControllerStatus, RuntimeSso, SemaphoreLimitStatus } from './types.js';
