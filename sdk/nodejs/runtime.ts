import * as pulumi from '@pulumi/pulumi';
import { resourceInputs, withVersion } from './utilities.js';

export interface RuntimeArgs {
  namespace?: pulumi.Input<string>;
  image: pulumi.Input<string>;
  controllerReplicas?: pulumi.Input<number>;
  serverReplicas?: pulumi.Input<number>;
  authMode?: pulumi.Input<string>;
  baseHref?: pulumi.Input<string>;
  apiRateLimit?: pulumi.Input<number>;
  secure?: pulumi.Input<boolean>;
  synchronization?: pulumi.Input<unknown>;
  persistence?: pulumi.Input<unknown>;
}

/** Deploys the argosync runtime to Kubernetes (a remote component: the plugin constructs it). */
export class Runtime extends pulumi.ComponentResource {
  static readonly __pulumiType = 'argosync:index:Runtime';
  static readonly requiredInputs = ['image'] as const;
  static readonly outputsOnly = ['serviceName', 'endpoint'] as const;

  declare readonly namespace: pulumi.Output<string>;
  declare readonly serviceName: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: RuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Runtime.__pulumiType, name, resourceInputs(Runtime.__pulumiType, args, Runtime.requiredInputs, Runtime.outputsOnly, opts), withVersion(opts), true);
  }
}
