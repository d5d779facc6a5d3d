import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';

export const RUNTIME_TOKEN = 'argosync:index:Runtime';
const PORT = 2746;

export interface RuntimeArgs {
  readonly namespace?: string;
  readonly image: string;
  readonly controllerReplicas?: number;
  readonly serverReplicas?: number;
  readonly authMode?: string;
  readonly baseHref?: string;
  readonly apiRateLimit?: number;
  readonly secure?: boolean;
  /** The `synchronization` section; an inline `password` moves into the Secret. */
  readonly synchronization?: Record<string, unknown>;
  readonly persistence?: Record<string, unknown>;
}

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
    const namespace = args.namespace ?? 'argosync';
    const secure = args.secure ?? true;
    const baseHref = args.baseHref ?? '/';
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
    const authName = `${namespace}-${name}-auth`;
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

    const { sections, passwords } = withPasswordsFromEnvironment({ synchronization: args.synchronization, persistence: args.persistence });
    const secret = new k8s.core.v1.Secret(`${name}-credentials`, { metadata: metadata('credentials'), stringData: passwords }, { ...parent, additionalSecretOutputs: ['stringData'] });
    new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: { name: 'argosync-config', namespace, labels }, data: { config: stringify(sections) } }, parent);

    const scheme = secure ? 'HTTPS' : 'HTTP';
    const probe = { httpGet: { path: '/healthz', port: PORT, scheme } };
    const deployment = (role: 'controller' | 'server', replicas: number, command: string[]) =>
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
                    ports: [{ containerPort: PORT, name: 'https' }],
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
    deployment('controller', args.controllerReplicas ?? 1, ['controller', `--secure=${secure}`]);
    deployment('server', args.serverReplicas ?? 1, [
      'server',
      `--secure=${secure}`,
      '--auth-mode',
      args.authMode ?? 'client',
      '--base-href',
      baseHref,
      '--api-rate-limit',
      String(args.apiRateLimit ?? 1000),
    ]);
    const service = new k8s.core.v1.Service(
      `${name}-server`,
      {
        metadata: metadata('server'),
        spec: { selector: { ...labels, 'app.kubernetes.io/component': 'server' }, ports: [{ name: 'https', port: PORT, targetPort: PORT }] },
      },
      parent,
    );

    this.namespace = pulumi.output(namespace);
    this.serviceName = service.metadata.name;
    this.endpoint = pulumi.interpolate`${secure ? 'https' : 'http'}://${service.metadata.name}.${namespace}.svc:${PORT}${baseHref}`;
    this.registerOutputs({ namespace: this.namespace, serviceName: this.serviceName, endpoint: this.endpoint });
  }
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
