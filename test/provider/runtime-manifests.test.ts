import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_KEY } from '../support/engine-harness.js';
import type { KubeObject } from '../support/kube-api-server.js';
import { describeOnK3s, openCluster } from '../support/kube-targets.js';
import { recordResources } from '../support/pulumi-mock-resources.js';

/** The component and its children, with both the synchronization password and the SSO client. */
const EXPECTED = 12;

/** The Kubernetes object a child resource stands for: apiVersion and kind from its type token, secrets revealed. */
function manifestOf(type: string, name: string, inputs: Record<string, unknown>): KubeObject {
  const [, groupVersion = '', kind = ''] = type.split(':');
  const apiVersion = groupVersion.startsWith('core/') ? groupVersion.slice('core/'.length) : groupVersion;
  const object = reveal(inputs) as KubeObject;
  return { ...object, apiVersion, kind, metadata: { ...object.metadata, name: object.metadata?.name ?? name } };
}

function reveal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reveal);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  // How the mocks see a secret: `{ [SECRET_KEY]: <secret signature>, value }`.
  if (SECRET_KEY in record) return reveal(record.value);
  return Object.fromEntries(Object.entries(record).map(([key, member]) => [key, reveal(member)]));
}

let manifests: KubeObject[] = [];

beforeAll(async () => {
  const recording = await recordResources(EXPECTED);
  const { RuntimeComponent } = await import('../../provider/resources/runtime.js');
  new RuntimeComponent('team', {
    namespace: 'platform',
    image: 'registry.example/argosync:0.1.0',
    controllerReplicas: 2,
    synchronization: { controllerName: 'team', postgresql: { host: 'db', database: 'sync', userName: 'argo', password: 's3cret' } },
    sso: { issuer: 'https://dex.example/dex', clientId: 'argosync', clientSecret: 'oauth-s3cret', redirectUrl: 'https://argo.example/oauth2/callback', rbacEnabled: true },
  });
  await recording.all;
  manifests = recording.registered.filter(({ type }) => type.startsWith('kubernetes:')).map(({ type, name, inputs }) => manifestOf(type, name, inputs));
});

describe("the Runtime component's children as Kubernetes manifests", () => {
  it('are complete objects: apiVersion, kind and name, secrets in clear', () => {
    expect(manifests.map(({ apiVersion, kind }) => `${apiVersion} ${kind}`).sort()).toEqual([
      'apps/v1 Deployment',
      'apps/v1 Deployment',
      'rbac.authorization.k8s.io/v1 ClusterRole',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'rbac.authorization.k8s.io/v1 Role',
      'rbac.authorization.k8s.io/v1 RoleBinding',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Secret',
      'v1 Service',
      'v1 ServiceAccount',
    ]);
    expect(manifests.every((manifest) => manifest.metadata?.name)).toBe(true);
    expect(JSON.stringify(manifests)).not.toContain(SECRET_KEY);
  });
});

describeOnK3s("the Runtime component's manifests on k3s", () => {
  it('are accepted by the API server as `kubectl apply --dry-run=server` sends them', async () => {
    const cluster = await openCluster('k3s');
    try {
      const namespace = await cluster.namespace('platform');
      const refused: string[] = [];
      for (const manifest of manifests) {
        const placed = manifest.metadata?.namespace === undefined ? manifest : { ...manifest, metadata: { ...manifest.metadata, namespace } };
        await cluster.dryRun(placed).catch((error: unknown) => refused.push(`${manifest.kind} ${manifest.metadata?.name}: ${(error as Error).message}`));
      }
      expect(refused).toEqual([]);
    } finally {
      await cluster.close();
    }
  });
});
