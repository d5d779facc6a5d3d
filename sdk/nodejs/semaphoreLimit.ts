import * as pulumi from '@pulumi/pulumi';
import { resourceInputs, withVersion } from './utilities.js';

export interface SemaphoreLimitArgs {
  namespace?: pulumi.Input<string>;
  key: pulumi.Input<string>;
  type?: pulumi.Input<'database' | 'configmap'>;
  configMapName?: pulumi.Input<string>;
  limit: pulumi.Input<number>;
}

/** A semaphore limit in a ConfigMap key or a `sync_limit` row. */
export class SemaphoreLimit extends pulumi.CustomResource {
  static readonly __pulumiType = 'argosync:index:SemaphoreLimit';
  static readonly requiredInputs = ['key', 'limit'] as const;
  static readonly outputsOnly = ['lockName', 'holders', 'waiting', 'adopted'] as const;

  declare readonly namespace: pulumi.Output<string>;
  declare readonly key: pulumi.Output<string>;
  declare readonly type: pulumi.Output<string>;
  declare readonly configMapName: pulumi.Output<string | undefined>;
  declare readonly limit: pulumi.Output<number>;
  declare readonly lockName: pulumi.Output<string>;
  declare readonly holders: pulumi.Output<number>;
  declare readonly waiting: pulumi.Output<number>;
  /** True when the limit existed before Pulumi and was adopted (provider config `adoptExisting`). */
  declare readonly adopted: pulumi.Output<boolean | undefined>;

  /** An existing limit by id: `database/<ns>/<key>` or `configmap/<ns>/<configMapName>/<key>`. */
  static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): SemaphoreLimit {
    return new SemaphoreLimit(name, undefined, { ...opts, id });
  }

  constructor(name: string, args: SemaphoreLimitArgs | undefined, opts?: pulumi.CustomResourceOptions) {
    super(SemaphoreLimit.__pulumiType, name, resourceInputs(SemaphoreLimit.__pulumiType, args, SemaphoreLimit.requiredInputs, SemaphoreLimit.outputsOnly, opts), withVersion(opts));
  }
}
