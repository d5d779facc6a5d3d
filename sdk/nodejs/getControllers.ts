import * as pulumi from '@pulumi/pulumi';
import type { ControllerStatus } from './types.js';
import { withVersion } from './utilities.js';

export interface GetControllersResult {
  readonly controllers: ControllerStatus[];
}

const TOKEN = 'argosync:index:getControllers';

/** The controllers registered on the runtime's sync database, with their last heartbeat. */
export function getControllers(opts?: pulumi.InvokeOptions): Promise<GetControllersResult> {
  return pulumi.runtime.invoke(TOKEN, {}, withVersion(opts)) as Promise<GetControllersResult>;
}

/** getControllers as an output. */
export function getControllersOutput(opts?: pulumi.InvokeOutputOptions): pulumi.Output<GetControllersResult> {
  return pulumi.runtime.invokeOutput<GetControllersResult>(TOKEN, {}, withVersion(opts));
}
