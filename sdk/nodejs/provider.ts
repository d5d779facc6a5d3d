import * as pulumi from '@pulumi/pulumi';
import { withVersion } from './utilities.js';

export interface ProviderArgs {
  endpoint?: pulumi.Input<string>;
  token?: pulumi.Input<string>;
  insecureSkipVerify?: pulumi.Input<boolean>;
  caCertificate?: pulumi.Input<string>;
  namespace?: pulumi.Input<string>;
  adoptExisting?: pulumi.Input<boolean>;
  requestTimeoutSeconds?: pulumi.Input<number>;
}

/** An explicit argosync provider: which runtime API server to manage. */
export class Provider extends pulumi.ProviderResource {
  static readonly __pulumiType = 'argosync';

  constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions) {
    const inputs: pulumi.Inputs = { ...args, ...(args?.token === undefined ? {} : { token: pulumi.secret(args.token) }) };
    super(Provider.__pulumiType, name, inputs, withVersion(opts));
  }
}
