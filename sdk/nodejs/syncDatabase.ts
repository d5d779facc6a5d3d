import * as pulumi from '@pulumi/pulumi';
import type { ControllerStatus } from './types.js';
import { resourceInputs, withVersion } from './utilities.js';

/** Connection fields shared by SyncDatabase and OffloadConfig. */
export interface DatabaseConnectionArgs {
  driver: pulumi.Input<'postgresql' | 'mysql'>;
  host: pulumi.Input<string>;
  port?: pulumi.Input<number>;
  database: pulumi.Input<string>;
  username?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  ssl?: pulumi.Input<boolean>;
  sslMode?: pulumi.Input<string>;
  options?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface SyncDatabaseArgs extends DatabaseConnectionArgs {
  controllerName?: pulumi.Input<string>;
  limitTableName?: pulumi.Input<string>;
  stateTableName?: pulumi.Input<string>;
  controllerTableName?: pulumi.Input<string>;
  lockTableName?: pulumi.Input<string>;
  pollSeconds?: pulumi.Input<number>;
  heartbeatSeconds?: pulumi.Input<number>;
  inactiveControllerSeconds?: pulumi.Input<number>;
  semaphoreLimitCacheSeconds?: pulumi.Input<number>;
  enableAPI?: pulumi.Input<boolean>;
  skipMigration?: pulumi.Input<boolean>;
}

/** The runtime's shared sync database (its `synchronization` section). */
export class SyncDatabase extends pulumi.CustomResource {
  static readonly __pulumiType = 'argosync:index:SyncDatabase';
  static readonly requiredInputs = ['driver', 'host', 'database'] as const;
  static readonly outputsOnly = ['schemaVersion', 'controllers'] as const;

  declare readonly schemaVersion: pulumi.Output<number>;
  declare readonly controllers: pulumi.Output<ControllerStatus[]>;

  constructor(name: string, args: SyncDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    const secretArgs = args.password === undefined ? args : { ...args, password: pulumi.secret(args.password) };
    super(SyncDatabase.__pulumiType, name, resourceInputs(SyncDatabase.__pulumiType, secretArgs, SyncDatabase.requiredInputs, SyncDatabase.outputsOnly, opts), withVersion(opts));
  }
}
