import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';
import { RUNTIME_TOKEN } from './runtime-token.js';

const PORT = 2746;

/** The component's inputs; through Construct any of them may be an Output (secret, unknown or dependent). */
export interface RuntimeArgs {
  readonly namespace?: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly controllerReplicas?: pulumi.Input<number>;
  readonly serverReplicas?: pulumi.Input<number>;
  readonly authMode?: pulumi.Input<string>;
  readonly baseHref?: pulumi.Input<string>;
  readonly apiRateLimit?: pulumi.Input<number>;
  readonly secure?: pulumi.Input<boolean>;
  /** The `synchronization` section; an inline `password` moves into the Secret. */
  readonly synchronization?: pulumi.Input<Record<string, unknown>>;
  readonly persistence?: pulumi.Input<Record<string, unknown>>;
  /** The `sso` section; `clientId` and `clientSecret` move into a Secret the section refers to. */
  readonly sso?: pulumi.Input<RuntimeSsoArgs>;
}

/** `argosync:index:RuntimeSso`: Argo's `sso` keys, with the credentials in clear (the component stores them in a Secret). */
export interface RuntimeSsoArgs {
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

/** Data keys of the Secret that holds the OAuth client, as Argo's `argo-server-sso` Secret names them. */
const SSO_CLIENT_KEYS = { clientId: 'clientID', clientSecret: 'clientSecret' } as const;

const withDefault = <T>(input: pulumi.Input<T> | undefined, fallback: T): pulumi.Output<T> => pulumi.output(input).apply((value) => (value ?? fallback) as pulumi.Unwrap<T>) as pulumi.Output<T>;

/**
 * `Runtime` (SPEC §9): the argosync runtime on Kubernetes. A ServiceAccount with a Role and RoleBinding (and a
 * ClusterRole for token and access reviews), the ConfigMap `argosync-config` the runtime reads its
 * configuration from, a Secret with the database passwords
 * (the configuration refers to them as `${...}`), the controller and server Deployments with HTTPS probes on
 * `/healthz`, and the Service on 2746.
 */
export class RuntimeComponent extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: RuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(RUNTIME_TOKEN, name, {}, opts);
    const parent = { parent: this };
    const namespace = withDefault(args.namespace, 'argosync');
    const secure = withDefault(args.secure, true);
    const baseHref = withDefault(args.baseHref, '/');
    const labels = { 'app.kubernetes.io/name': 'argosync', 'app.kubernetes.io/instance': name };
    const metadata = (suffix: string, extra: Record<string, string> = {}) => ({ name: `${name}-${suffix}`, namespace, labels: { ...labels, ...extra } });

    const account = new k8s.core.v1.ServiceAccount(`${name}-runtime`, { metadata: metadata('runtime') }, parent);
    const role = new k8s.rbac.v1.Role(
      `${name}-runtime`,
      {
        metadata: metadata('runtime'),
        rules: [
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
          // SSO: the OAuth client and the cookie key (Secret `sso`, created by the first server) and, with rbac,
          // the annotated ServiceAccounts.
          { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] },
          { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list'] },
        ],
      },
      parent,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-runtime`,
      {
        metadata: metadata('runtime'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: account.metadata.name, namespace }],
      },
      parent,
    );

    // Client auth mode checks bearer tokens with TokenReview and SubjectAccessReview, which are cluster-scoped.
    const authName = pulumi.interpolate`${namespace}-${name}-auth`;
    const authRole = new k8s.rbac.v1.ClusterRole(
      `${name}-auth`,
      {
        metadata: { name: authName, labels },
        rules: [
          { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
          { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
        ],
      },
      parent,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-auth`,
      {
        metadata: { name: authName, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: authRole.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: account.metadata.name, namespace }],
      },
      parent,
    );

    const ssoClientName = `${name}-sso-client`;
    if (args.sso !== undefined) {
      const client = pulumi.output(args.sso).apply((sso) => ({ [SSO_CLIENT_KEYS.clientId]: sso.clientId, [SSO_CLIENT_KEYS.clientSecret]: sso.clientSecret }));
      new k8s.core.v1.Secret(ssoClientName, { metadata: { ...metadata('sso-client'), name: ssoClientName }, stringData: pulumi.secret(client) }, { ...parent, additionalSecretOutputs: ['stringData'] });
    }
    const configuration = pulumi
      .all([args.synchronization, args.persistence, args.sso])
      .apply(([synchronization, persistence, sso]) => ({ ...withPasswordsFromEnvironment({ synchronization, persistence }), sso: sso && ssoSection(sso, ssoClientName) }));
    const secret = new k8s.core.v1.Secret(`${name}-credentials`, { metadata: metadata('credentials'), stringData: configuration.passwords }, { ...parent, additionalSecretOutputs: ['stringData'] });
    // A secret password makes the whole section secret on the way in; once the passwords are in the Secret the
    // rest refers to them by name and may be shown.
    const config = pulumi.unsecret(configuration.apply(({ sections, sso }) => stringify(sso ? { ...sections, sso } : sections)));
    new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: { name: 'argosync-config', namespace, labels }, data: { config } }, parent);

    const protocol = secure.apply((https) => (https ? 'https' : 'http'));
    const scheme = protocol.apply((name) => name.toUpperCase());
    const probe = { httpGet: { path: '/healthz', port: PORT, scheme } };
    const deployment = (role: 'controller' | 'server', replicas: pulumi.Input<number>, command: pulumi.Input<string>[]) =>
      new k8s.apps.v1.Deployment(
        `${name}-${role}`,
        {
          metadata: metadata(role, { 'app.kubernetes.io/component': role }),
          spec: {
            replicas,
            selector: { matchLabels: { ...labels, 'app.kubernetes.io/component': role } },
            template: {
              metadata: { labels: { ...labels, 'app.kubernetes.io/component': role } },
              spec: {
                serviceAccountName: account.metadata.name,
                containers: [
                  {
                    name: role,
                    image: args.image,
                    args: command,
                    ports: [{ containerPort: PORT, name: protocol }],
                    env: [
                      { name: 'ARGOSYNC_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                      // Each replica's name in the controller Lease.
                      { name: 'LEADER_ELECTION_IDENTITY', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                    ],
                    envFrom: [{ secretRef: { name: secret.metadata.name } }],
                    readinessProbe: probe,
                    livenessProbe: probe,
                  },
                ],
              },
            },
          },
        },
        parent,
      );
    deployment('controller', withDefault(args.controllerReplicas, 1), ['controller', pulumi.interpolate`--secure=${secure}`]);
    deployment('server', withDefault(args.serverReplicas, 1), [
      'server',
      pulumi.interpolate`--secure=${secure}`,
      '--auth-mode',
      // Only whether `sso` is set decides the default, so the (secret) section does not make the Deployment secret.
      pulumi.unsecret(pulumi.all([args.authMode, args.sso]).apply(([authMode, sso]) => authMode ?? (sso ? 'sso' : 'client'))),
      '--base-href',
      baseHref,
      '--api-rate-limit',
      pulumi.interpolate`${withDefault(args.apiRateLimit, 1000)}`,
    ]);
    const service = new k8s.core.v1.Service(
      `${name}-server`,
      {
        metadata: metadata('server'),
        spec: { selector: { ...labels, 'app.kubernetes.io/component': 'server' }, ports: [{ name: protocol, port: PORT, targetPort: PORT }] },
      },
      parent,
    );

    this.namespace = namespace;
    this.serviceName = service.metadata.name;
    this.endpoint = pulumi.interpolate`${protocol}://${service.metadata.name}.${namespace}.svc:${PORT}${baseHref}`;
    this.registerOutputs({ namespace: this.namespace, serviceName: this.serviceName, endpoint: this.endpoint });
  }
}

/** Failures among the inputs already known; Outputs and unknowns (secret, preview, dependent) are taken as given. */
function runtimeInputFailures(inputs: pulumi.Inputs): pulumi.InputPropertyErrorDetails[] {
  const failures: pulumi.InputPropertyErrorDetails[] = [];
  const fail = (propertyPath: string, reason: string) => failures.push({ propertyPath, reason });
  const known = (property: string) => (pulumi.Output.isInstance(inputs[property]) || pulumi.isUnknown(inputs[property]) ? undefined : inputs[property]);
  const image = known('image');
  if (inputs.image === undefined || image === '') fail('image', 'is required: the argosync container image built from the root Dockerfile');
  else if (image !== undefined && typeof image !== 'string') fail('image', `must be a string, got ${JSON.stringify(image)}`);
  for (const [property, minimum] of [['controllerReplicas', 0], ['serverReplicas', 0], ['apiRateLimit', 1]] as const) {
    const value = known(property);
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= minimum)) fail(property, `must be a whole number of at least ${minimum}, got ${JSON.stringify(value)}`);
  }
  const authMode = known('authMode');
  const modes = typeof authMode === 'string' ? authMode.split(',').map((mode) => mode.trim()) : [];
  if (authMode !== undefined && (typeof authMode !== 'string' || !modes.every((mode) => ['client', 'server', 'sso'].includes(mode)))) {
    fail('authMode', `must be "client", "server" or "sso", or several separated by commas, got ${JSON.stringify(authMode)}`);
  }
  const sso = known('sso') as Record<string, unknown> | undefined;
  if (modes.includes('sso') && inputs.sso === undefined) fail('sso', 'is required when authMode includes "sso": the issuer, clientId and clientSecret of the OpenID Connect client');
  if (sso !== undefined) {
    for (const property of ['issuer', 'clientId', 'clientSecret']) {
      if (sso[property] === undefined || sso[property] === '') fail(`sso.${property}`, 'is required');
    }
  }
  const baseHref = known('baseHref');
  if (baseHref !== undefined && !(typeof baseHref === 'string' && baseHref.startsWith('/') && baseHref.endsWith('/'))) fail('baseHref', `must start and end with "/", got ${JSON.stringify(baseHref)}`);
  return failures;
}

/** Construct for `argosync:index:Runtime`: the component from the engine's inputs and options, its outputs as state. */
export function constructRuntime(name: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): pulumi.provider.ConstructResult {
  const errors = runtimeInputFailures(inputs);
  if (errors.length > 0) throw new pulumi.InputPropertiesError({ message: `invalid inputs for Runtime ${name}`, errors });
  const sso = inputs.sso as Record<string, unknown> | undefined;
  // In a cluster the server has no name of its own to build the callback URL on (it never trusts a request's Host).
  if (sso !== undefined && !pulumi.Output.isInstance(sso) && !sso.redirectUrl) {
    void pulumi.log.warn(`${name}: sso.redirectUrl is not set, so sign-in works only through a port-forward (localhost); set it to the callback URL registered at the provider, e.g. https://argo.example.com/oauth2/callback`);
  }
  const runtime = new RuntimeComponent(name, inputs as unknown as RuntimeArgs, options);
  return { urn: runtime.urn, state: { namespace: runtime.namespace, serviceName: runtime.serviceName, endpoint: runtime.endpoint } };
}

/** The `sso` section of the configuration: Argo's keys, the client credentials referred to in their Secret. */
function ssoSection(sso: RuntimeSsoArgs, clientSecretName: string): Record<string, unknown> {
  const { clientId: _id, clientSecret: _secret, rbacEnabled, ...keys } = sso;
  return {
    ...keys,
    clientId: { name: clientSecretName, key: SSO_CLIENT_KEYS.clientId },
    clientSecret: { name: clientSecretName, key: SSO_CLIENT_KEYS.clientSecret },
    ...(rbacEnabled === undefined ? {} : { rbac: { enabled: rbacEnabled } }),
  };
}

/** Moves inline database passwords out of the sections into Secret entries the sections refer to as `${NAME}`. */
function withPasswordsFromEnvironment(sections: Record<string, Record<string, unknown> | undefined>) {
  const passwords: Record<string, string> = {};
  const cleaned: Record<string, unknown> = {};
  for (const [section, content] of Object.entries(sections)) {
    if (!content) continue;
    const copy: Record<string, unknown> = { ...content };
    for (const driver of ['postgresql', 'mysql']) {
      const database = copy[driver] as Record<string, unknown> | undefined;
      if (typeof database?.password !== 'string') continue;
      const variable = `ARGOSYNC_${section.toUpperCase()}_PASSWORD`;
      passwords[variable] = database.password;
      copy[driver] = { ...database, password: `\${${variable}}` };
    }
    cleaned[section] = copy;
  }
  return { sections: cleaned, passwords };
}
