import type * as pulumi from '@pulumi/pulumi';

/** A controller registered in the sync database. */
export interface ControllerStatus {
  readonly name: string;
  readonly lastHeartbeat?: string;
}

/** A semaphore limit with its lock name and live counts, as the data sources read it. */
export interface SemaphoreLimitStatus {
  readonly namespace: string;
  readonly key: string;
  readonly type: 'database' | 'configmap';
  readonly configMapName?: string;
  readonly limit: number;
  readonly lockName: string;
  readonly holders: number;
  readonly waiting: number;
}

/** The `sso` configuration section of a Runtime (Argo's keys); `clientSecret` is a secret. */
export interface RuntimeSso {
  readonly issuer: pulumi.Input<string>;
  readonly issuerAlias?: pulumi.Input<string>;
  readonly clientId: pulumi.Input<string>;
  readonly clientSecret: pulumi.Input<string>;
  readonly redirectUrl?: pulumi.Input<string>;
  readonly scopes?: pulumi.Input<pulumi.Input<string>[]>;
  readonly sessionExpiry?: pulumi.Input<string>;
  readonly rbacEnabled?: pulumi.Input<boolean>;
  readonly customGroupClaimName?: pulumi.Input<string>;
  readonly userInfoPath?: pulumi.Input<string>;
  readonly insecureSkipVerify?: pulumi.Input<boolean>;
  readonly filterGroupsRegex?: pulumi.Input<pulumi.Input<string>[]>;
  readonly rootCA?: pulumi.Input<string>;
}
