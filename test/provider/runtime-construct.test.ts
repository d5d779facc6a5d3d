import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHarness, secret, SECRET_KEY, UNKNOWN_SENTINEL } from '../support/engine-harness.js';
import { FakeEngine, type Registration } from '../support/fake-engine.js';

const RUNTIME = 'argosync:index:Runtime';
const KUBERNETES_PROVIDER = 'urn:pulumi:test::argosync-test::pulumi:providers:kubernetes::cluster::04c1a7e2-provider-id';
const CHILD_TYPES = [
  'kubernetes:core/v1:ServiceAccount',
  'kubernetes:rbac.authorization.k8s.io/v1:Role',
  'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
  'kubernetes:rbac.authorization.k8s.io/v1:ClusterRole',
  'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding',
  'kubernetes:core/v1:Secret',
  'kubernetes:core/v1:ConfigMap',
  'kubernetes:apps/v1:Deployment',
  'kubernetes:apps/v1:Deployment',
  'kubernetes:core/v1:Service',
];

/** Everything in a value except what sits inside a secret wrapper. */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object') return value;
  if (SECRET_KEY in value) return '[secret]';
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutSecrets(inner)]));
}

describe('Construct of the Runtime component, with the engine and its resource monitor played over gRPC', () => {
  let engine: FakeEngine;
  let harness: EngineHarness;

  beforeAll(async () => {
    engine = await FakeEngine.start();
    harness = await EngineHarness.launch({}, 'executable', engine.address);
  });
  afterAll(async () => {
    await harness?.close();
    engine?.close();
  });

  const inputs = {
    namespace: 'platform',
    image: 'registry.example/argosync:0.1.0',
    controllerReplicas: 2,
    synchronization: { controllerName: 'team', postgresql: { host: 'db', port: 5432, database: 'sync', userName: 'argo', password: secret('s3cret') } },
  };

  it('registers the component under the stack and its ten Kubernetes objects under it, through the program’s provider', async () => {
    const { urn, state } = await harness.construct(engine, RUNTIME, 'team', inputs, { providers: { kubernetes: KUBERNETES_PROVIDER } });

    expect(urn).toBe('urn:pulumi:test::argosync-test::argosync:index:Runtime::team');
    expect(state).toEqual({ namespace: 'platform', serviceName: 'team-server', endpoint: 'https://team-server.platform.svc:2746/' });
    const component = engine.find(RUNTIME, 'team');
    expect(component).toMatchObject({ parent: engine.stackUrn, custom: false });
    expect(engine.outputs.get(urn)).toEqual(state);

    const children = engine.registrations.filter((registration) => registration.parent === urn);
    expect(children.map((child) => child.type).sort()).toEqual([...CHILD_TYPES].sort());
    for (const child of children) expect(child, `${child.type} ${child.name}`).toMatchObject({ custom: true, provider: KUBERNETES_PROVIDER });
  });

  it('keeps the password only in the Secret, wrapped, and wires the Deployments to it', () => {
    const secretObject = engine.find('kubernetes:core/v1:Secret', 'team-credentials');
    expect(secretObject.inputs.stringData).toEqual(secret({ ARGOSYNC_SYNCHRONIZATION_PASSWORD: 's3cret' }));
    const config = engine.find('kubernetes:core/v1:ConfigMap', 'team-config').inputs as { data: { config: string } };
    expect(config.data.config).toContain('password: ${ARGOSYNC_SYNCHRONIZATION_PASSWORD}');
    expect(config.data.config).toContain('controllerName: team');
    expect(JSON.stringify(engine.registrations.map((registration: Registration) => withoutSecrets(registration.inputs)))).not.toContain('s3cret');

    const controller = engine.find('kubernetes:apps/v1:Deployment', 'team-controller');
    expect(controller.inputs).toMatchObject({ spec: { replicas: 2, template: { spec: { containers: [{ image: inputs.image, envFrom: [{ secretRef: { name: 'team-credentials' } }] }] } } } });
    expect(controller.propertyDependencies.spec).toContain(secretObject.urn);
    expect(controller.propertyDependencies.spec).toContain(engine.find('kubernetes:core/v1:ServiceAccount', 'team-runtime').urn);
  });

  it('previews with an image not yet known, registering the same objects with the value unknown', async () => {
    engine.registrations.length = 0;
    const { state } = await harness.construct(engine, RUNTIME, 'preview', { ...inputs, image: UNKNOWN_SENTINEL }, { preview: true });
    expect(engine.registrations.filter((registration) => registration.type !== RUNTIME)).toHaveLength(CHILD_TYPES.length);
    const server = engine.find('kubernetes:apps/v1:Deployment', 'preview-server').inputs as { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } };
    expect(server.spec.template.spec.containers[0]!.image).toBe(UNKNOWN_SENTINEL);
    expect(server.spec.template.spec.containers[0]!.args).toEqual(['server', '--secure=true', '--auth-mode', 'client', '--base-href', '/', '--api-rate-limit', '1000']);
    expect(state.namespace).toBe('platform');
  });

  it('serves plain HTTP under a base href when asked, probes and port names included', async () => {
    const { state } = await harness.construct(engine, RUNTIME, 'plain', { image: inputs.image, secure: false, baseHref: '/argo/', authMode: 'server' });
    expect(state.endpoint).toBe('http://plain-server.argosync.svc:2746/argo/');
    const server = engine.find('kubernetes:apps/v1:Deployment', 'plain-server').inputs as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    expect(server.spec.template.spec.containers[0]).toMatchObject({
      args: ['server', '--secure=false', '--auth-mode', 'server', '--base-href', '/argo/', '--api-rate-limit', '1000'],
      ports: [{ containerPort: 2746, name: 'http' }],
      readinessProbe: { httpGet: { path: '/healthz', port: 2746, scheme: 'HTTP' } },
    });
    expect(engine.find('kubernetes:core/v1:Service', 'plain-server').inputs).toMatchObject({ spec: { ports: [{ name: 'http', port: 2746, targetPort: 2746 }] } });
  });

  it('rejects bad inputs with each property and reason, registering nothing', async () => {
    engine.registrations.length = 0;
    const failure = harness.construct(engine, RUNTIME, 'bad', { authMode: 'both', controllerReplicas: 1.5, baseHref: 'argo' });
    await expect(failure).rejects.toMatchObject({ code: 3, details: 'invalid inputs for Runtime bad' });
    const details = ((await failure.catch((error: { metadata: { get(key: string): Buffer[] } }) => error)) as { metadata: { get(key: string): Buffer[] } }).metadata.get('grpc-status-details-bin')[0]!.toString();
    for (const expected of ['image', 'is required', 'authMode', 'must be "client", "server" or "sso", or several separated by commas, got "both"', 'controllerReplicas', 'must be a whole number of at least 0, got 1.5', 'baseHref', 'must start and end with "/"'])
      expect(details).toContain(expected);
    expect(engine.registrations).toEqual([]);
  });

  it('warns when the SSO callback URL is not set, since the server never builds it from a request Host', async () => {
    const sso = { issuer: 'https://dex.example/dex', clientId: 'argosync', clientSecret: 'oauth-s3cret' };
    engine.logs.length = 0;
    await harness.construct(engine, RUNTIME, 'no-callback', { image: inputs.image, sso });
    expect(engine.logs.map((log) => log.message)).toContainEqual(expect.stringContaining('no-callback: sso.redirectUrl is not set, so sign-in works only through a port-forward'));
    engine.logs.length = 0;
    await harness.construct(engine, RUNTIME, 'with-callback', { image: inputs.image, sso: { ...sso, redirectUrl: 'https://argo.example/oauth2/callback' } });
    expect(engine.logs.filter((log) => log.message.includes('redirectUrl is not set'))).toEqual([]);
  });

  it('refuses a component type it does not have', async () => {
    await expect(harness.construct(engine, 'argosync:index:Cluster', 'x', {})).rejects.toThrow('component type argosync:index:Cluster is not supported by this version of the argosync provider');
  });
});
