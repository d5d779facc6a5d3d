import * as pulumi from '@pulumi/pulumi';
import type { SemaphoreLimitStatus } from './types.js';
import { withVersion } from './utilities.js';

export interface GetSemaphoreLimitsArgs {
  /** Default: the provider's namespace. */
  namespace?: string;
}

export interface GetSemaphoreLimitsResult {
  readonly namespace: string;
  readonly limits: SemaphoreLimitStatus[];
}

const TOKEN = 'argosync:index:getSemaphoreLimits';

/** Every limit of a namespace, ConfigMap and database ones. */
export function getSemaphoreLimits(args: GetSemaphoreLimitsArgs = {}, opts?: pulumi.InvokeOptions): Promise<GetSemaphoreLimitsResult> {
  return pulumi.runtime.invoke(TOKEN, { ...args }, withVersion(opts)) as Promise<GetSemaphoreLimitsResult>;
}

/** getSemaphoreLimits with inputs that may be outputs of other resources. */
export function getSemaphoreLimitsOutput(args: { namespace?: pulumi.Input<string> } = {}, opts?: pulumi.InvokeOutputOptions): pulumi.Output<GetSemaphoreLimitsResult> {
  return pulumi.runtime.invokeOutput<GetSemaphoreLimitsResult>(TOKEN, args, withVersion(opts));
}
