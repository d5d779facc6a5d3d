import type * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeComponent } from '../../provider/resources/runtime.js';
import { secret } from '../support/engine-harness.js';
import { recordResources, type RegisteredResource } from '../support/pulumi-mock-resources.js';

/** The component and the ten resources it creates. */
const EXPECTED = 11;
let registered: RegisteredResource[] = [];
const valueOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

describe('the Runtime component (pulumi.runtime.setMocks)', () => {
  let component: RuntimeComponent;

  beforeAll(async () => {
    const recording = await recordResources(EXPECTED);
    registered = recording.registered;
    // The component module must load after the mocks are in place.
    const { RuntimeComponent } = await import('../../provider/resources/runtime.js');
    component = new RuntimeComponent('team', {
      namespace: 'platform',
      image: 'registry.example/argosync:0.1.0',
      controllerReplicas: 2,
      serverReplicas: 3,
      baseHref: '/argo/',
      synchronization: { controllerName: 'team', postgresql: { host: 'db', database: 'sync', userName: 'argo', password: 's3cret' } },
    });
    await recording.all;
  });

  const find = (type: string, name: string) => {
    const found = registered.find((resource) => resource.type === type && resource.name === name);
    expect(found, `${type} ${name} among ${registered.map((resource) => `${resource.type} ${resource.name}`).join(', ')}`).toBeDefined();
    return found!.inputs;
  };

  it('creates the account, its Role and RoleBinding', () => {
    expect(find('kubernetes:core/v1:ServiceAccount', 'team-runtime').metadata).toMatchObject({ name: 'team-runtime', namespace: 'platform' });
    const role = find('kubernetes:rbac.authorization.k8s.io/v1:Role', 'team-runtime');
    expect(role.rules).toContainEqual({ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] });
    expect(role.rules).toContainEqual({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] });
    const binding = find('kubernetes:rbac.authorization.k8s.io/v1:RoleBinding', 'team-runtime');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'team-runtime' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'team-runtime', namespace: 'platform' }]);
  });

  it('lets the account review tokens and access cluster-wide, for client auth mode', () => {
    const role = find('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole', 'team-auth');
    expect(role.metadata.name).toBe('platform-team-auth');
    expect(role.rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    const binding = find('kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding', 'team-auth');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'platform-team-auth' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'team-runtime', namespace: 'platform' }]);
  });

  it('keeps the configuration in argosync-config and the password only in the Secret', () => {
    const config = find('kubernetes:core/v1:ConfigMap', 'team-config');
    expect(config.metadata).toMatchObject({ name: 'argosync-config', namespace: 'platform' });
    expect(config.data.config).toContain('password: ${ARGOSYNC_SYNCHRONIZATION_PASSWORD}');
    expect(config.data.config).not.toContain('s3cret');
    // The Secret's data reaches the engine marked secret.
    expect(find('kubernetes:core/v1:Secret', 'team-credentials').stringData).toEqual(secret({ ARGOSYNC_SYNCHRONIZATION_PASSWORD: 's3cret' }));
  });

  it('runs the controller and the server with HTTPS probes on /healthz, and exposes the server on 2746', async () => {
    const controller = find('kubernetes:apps/v1:Deployment', 'team-controller');
    const server = find('kubernetes:apps/v1:Deployment', 'team-server');
    expect(controller.spec.replicas).toBe(2);
    expect(server.spec.replicas).toBe(3);
    const serverContainer = server.spec.template.spec.containers[0];
    expect(serverContainer).toMatchObject({
      image: 'registry.example/argosync:0.1.0',
      args: ['server', '--secure=true', '--auth-mode', 'client', '--base-href', '/argo/', '--api-rate-limit', '1000'],
      readinessProbe: { httpGet: { path: '/healthz', port: 2746, scheme: 'HTTPS' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 2746, scheme: 'HTTPS' } },
      envFrom: [{ secretRef: { name: 'team-credentials' } }],
    });
    expect(controller.spec.template.spec.containers[0].args).toEqual(['controller', '--secure=true']);
    expect(controller.spec.template.spec.containers[0].env).toContainEqual({ name: 'LEADER_ELECTION_IDENTITY', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(server.spec.selector.matchLabels).toEqual(server.spec.template.metadata.labels);
    const service = find('kubernetes:core/v1:Service', 'team-server');
    expect(service.spec.ports).toEqual([{ name: 'https', port: 2746, targetPort: 2746 }]);
    expect(service.spec.selector).toEqual(server.spec.template.metadata.labels);
    expect(await valueOf(component.endpoint)).toBe('https://team-server.platform.svc:2746/argo/');
    expect(await valueOf(component.namespace)).toBe('platform');
  });
});
