import * as pulumi from '@pulumi/pulumi';
import type { SemaphoreLimitStatus } from './types.js';
import { withVersion } from './utilities.js';

export interface GetSemaphoreLimitArgs {
  namespace?: string;
  key: string;
  type?: 'database' | 'configmap';
  configMapName?: string;
}

export interface GetSemaphoreLimitResult extends SemaphoreLimitStatus {
  /** The id `pulumi import` takes: `database/<ns>/<key>` or `configmap/<ns>/<configMapName>/<key>`. */
  readonly id: string;
}

const TOKEN = 'argosync:index:getSemaphoreLimit';

/** Reads an existing limit (fails, naming it, when it does not exist). */
export function getSemaphoreLimit(args: GetSemaphoreLimitArgs, opts?: pulumi.InvokeOptions): Promise<GetSemaphoreLimitResult> {
  return pulumi.runtime.invoke(TOKEN, { ...args }, withVersion(opts)) as Promise<GetSemaphoreLimitResult>;
}

/** getSemaphoreLimit with inputs that may be outputs of other resources. */
export function getSemaphoreLimitOutput(args: pulumi.Inputs & { [K in keyof GetSemaphoreLimitArgs]: pulumi.Input<GetSemaphoreLimitArgs[K]> }, opts?: pulumi.InvokeOutputOptions): pulumi.Output<GetSemaphoreLimitResult> {
  return pulumi.runtime.invokeOutput<GetSemaphoreLimitResult>(TOKEN, args, withVersion(opts));
}
