import { readFileSync } from 'node:fs';
import type * as pulumi from '@pulumi/pulumi';

/**
 * The package version, which `npm run build` stamps into the package's package.json from argosync's own, so the
 * engine loads the matching plugin. Undefined in a source checkout (the engine then takes the plugin it finds).
 */
export const VERSION: string | undefined = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version?: string }).version;

/** Resource options with the plugin version set, as generated SDKs do. */
export function withVersion<T extends pulumi.ResourceOptions>(opts: T | undefined): T {
  return (VERSION === undefined ? { ...opts } : { version: VERSION, ...opts }) as T;
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
