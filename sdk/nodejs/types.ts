/** A controller registered in the sync database. */
export interface ControllerStatus {
  readonly name: string;
  readonly lastHeartbeat?: string;
}

/** The `sso` configuration section of a Runtime (Argo's keys); `clientSecret` is a secret. */
export interface RuntimeSso {
  readonly issuer: string;
  readonly issuerAlias?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUrl?: string;
  readonly scopes?: readonly string[];
  readonly sessionExpiry?: string;
  readonly rbacEnabled?: boolean;
  readonly customGroupClaimName?: string;
  readonly userInfoPath?: string;
  readonly insecureSkipVerify?: boolean;
  readonly filterGroupsRegex?: readonly string[];
  readonly rootCA?: string;
}
