import * as pulumi from '@pulumi/pulumi';
import type { RuntimeSso } from './types.js';
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
  /** Sign-in with an OpenID Connect provider; `clientSecret` is kept secret and stored in a Secret. */
  sso?: pulumi.Input<RuntimeSso>;
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
    // The client secret travels inside `sso`, so all of it is sent as a secret; the component keeps the
    // credentials in a Kubernetes Secret and writes the other keys to the ConfigMap.
    const secretArgs = args.sso === undefined ? args : { ...args, sso: pulumi.secret(args.sso) };
    super(Runtime.__pulumiType, name, resourceInputs(Runtime.__pulumiType, secretArgs, Runtime.requiredInputs, Runtime.outputsOnly, opts), withVersion(opts), true);
  }
}
