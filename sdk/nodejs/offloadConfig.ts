import * as pulumi from '@pulumi/pulumi';
import type { DatabaseConnectionArgs } from './syncDatabase.js';
import { resourceInputs, withVersion } from './utilities.js';

export interface OffloadConfigArgs extends Partial<DatabaseConnectionArgs> {
  nodeStatusOffLoad?: pulumi.Input<boolean>;
  archive?: pulumi.Input<boolean>;
  archiveTTL?: pulumi.Input<string>;
  archiveLabelSelector?: pulumi.Input<unknown>;
  clusterName?: pulumi.Input<string>;
  tableName?: pulumi.Input<string>;
  useSyncDatabase?: pulumi.Input<boolean>;
  skipMigration?: pulumi.Input<boolean>;
}

/** Node-status offload and workflow archive (the runtime's `persistence` section). */
export class OffloadConfig extends pulumi.CustomResource {
  static readonly __pulumiType = 'argosync:index:OffloadConfig';
  static readonly requiredInputs = [] as const;
  static readonly outputsOnly = ['schemaVersion'] as const;

  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: OffloadConfigArgs, opts?: pulumi.CustomResourceOptions) {
    const secretArgs = args.password === undefined ? args : { ...args, password: pulumi.secret(args.password) };
    super(OffloadConfig.__pulumiType, name, resourceInputs(OffloadConfig.__pulumiType, secretArgs, OffloadConfig.requiredInputs, OffloadConfig.outputsOnly, opts), withVersion(opts));
  }
}
