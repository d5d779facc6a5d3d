import type * as pulumi from '@pulumi/pulumi';

/** The package version, so the engine loads the matching plugin. */
export const VERSION = '0.1.0';

/** Resource options with the plugin version set, as generated SDKs do. */
export function withVersion<T extends pulumi.ResourceOptions>(opts: T | undefined): T {
  return { version: VERSION, ...opts } as T;
}

/**
 * What generated SDKs pass to the engine: the given inputs, output-only properties as undefined, and a clear
 * error for a missing required input (unless the resource is read or imported by id).
 */
export function resourceInputs(
  type: string,
  args: object | undefined,
  required: readonly string[],
  outputsOnly: readonly string[],
  opts: pulumi.ResourceOptions | undefined,
): pulumi.Inputs {
  const inputs: pulumi.Inputs = { ...(args as pulumi.Inputs) };
  if (!opts?.id && !(opts as pulumi.CustomResourceOptions | undefined)?.urn) {
    for (const name of required) if (inputs[name] === undefined) throw new Error(`Missing required property '${name}' of ${type}`);
  }
  for (const name of outputsOnly) inputs[name] = undefined;
  return inputs;
}
