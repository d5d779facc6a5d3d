import type { FastifyPluginAsync } from 'fastify';
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject, type V1SubjectAccessReviewSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../runtime/clock.js';
import { KubernetesAuthorizer } from '../../runtime/server/auth/kubernetes-authorizer.js';
import { syncLimitRoutes } from '../../runtime/server/routes/sync-limits.js';
import { ConfigMapLimits } from '../../runtime/server/sync-limits/configmap-limits.js';
import { DatabaseLimits } from '../../runtime/server/sync-limits/database-limits.js';
import { SyncAudit } from '../../runtime/server/sync-limits/sync-audit.js';
import { SyncEvents } from '../../runtime/server/sync-limits/sync-events.js';
import { KubernetesConfigMapStore } from '../../runtime/store/kubernetes-configmap-store.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { DEFAULT_SYNC_TABLES, migrateSyncSchema } from '../../runtime/store/migrations/sync-migrations.js';
import { SyncStore } from '../../runtime/store/sync/sync-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { describeEachKubeTarget, openCluster, type Cluster } from '../support/kube-targets.js';
import { startTestServer, type TestResponse, type TestServer } from './server-harness.js';

interface Grant {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
}
type Account = 'admin' | 'reader' | 'cm-editor';

/** The accounts of the test namespace, and what each may do there (the admin: everything). */
const GRANTS: Record<Account, readonly Grant[]> = {
  admin: [{ group: '*', resource: '*', verbs: ['*'] }],
  reader: [
    { group: '', resource: 'configmaps', verbs: ['get', 'list'] },
    { group: 'argoproj.io', resource: 'workflows', verbs: ['get', 'list'] },
  ],
  'cm-editor': [{ group: '', resource: 'configmaps', verbs: ['create', 'get', 'update', 'list'] }],
};
const ACCOUNTS = Object.keys(GRANTS) as Account[];

/**
 * In-process, the test decides TokenReviews and SubjectAccessReviews by GRANTS and records the reviews; on k3s the
 * accounts are real ServiceAccounts with Roles, and their tokens come from the TokenRequest API.
 */
async function accountTokens(cluster: Cluster, namespace: string, reviews: V1SubjectAccessReviewSpec[]): Promise<Record<Account, string>> {
  const userOf = (account: Account) => `system:serviceaccount:${namespace}:${account}`;
  const server = cluster.inProcess;
  if (server) {
    server.setTokenReview((token) => {
      const account = ACCOUNTS.find((candidate) => token === `${candidate}-token`);
      return account && { username: userOf(account), groups: ['system:serviceaccounts'] };
    });
    server.setAccessReview((spec) => {
      reviews.push(spec);
      const { namespace: where, group, resource, verb } = spec.resourceAttributes!;
      const grants = ACCOUNTS.filter((account) => userOf(account) === spec.user).flatMap((account) => GRANTS[account]);
      const granted = (grant: Grant) => [group, '*'].includes(grant.group) && [resource, '*'].includes(grant.resource) && grant.verbs.some((allowed) => [verb, '*'].includes(allowed));
      return { allowed: where === namespace && grants.some(granted) };
    });
    return Object.fromEntries(ACCOUNTS.map((account) => [account, `${account}-token`])) as Record<Account, string>;
  }
  const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  const entries = await Promise.all(
    ACCOUNTS.map(async (name) => {
      const metadata = { namespace, name };
      await objects.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata });
      const rules = GRANTS[name].map((grant) => ({ apiGroups: [grant.group], resources: [grant.resource], verbs: [...grant.verbs] }));
      await objects.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules } as KubernetesObject);
      const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name };
      await objects.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata, roleRef, subjects: [{ kind: 'ServiceAccount', name, namespace }] } as KubernetesObject);
      const request = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
      return [name, request.status!.token] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<Account, string>;
}

describeEachKubeTarget('client auth mode on %s: TokenReview and SubjectAccessReview on every sync route', (target) => {
  let cluster: Cluster;
  let namespace: string;
  let other: string;
  let tokens: Record<Account, string>;
  let database: TestDatabase;
  let server: TestServer;
  const reviews: V1SubjectAccessReviewSpec[] = [];

  beforeAll(async () => {
    cluster = await openCluster(target);
    namespace = await cluster.namespace('team-a');
    other = await cluster.namespace('team-b');
    tokens = await accountTokens(cluster, namespace, reviews);
    database = await createTestDatabase('pglite');
    const handle = await database.open();
    await migrateArgosyncSchema(handle);
    await migrateSyncSchema(handle);
    const kubeConfig = cluster.kubeConfig();
    const databaseLimits = new DatabaseLimits(new SyncStore(handle, DEFAULT_SYNC_TABLES).limits);
    const routes: FastifyPluginAsync = async (api) => {
      await api.register(syncLimitRoutes, {
        configMapLimits: new ConfigMapLimits(new KubernetesConfigMapStore(kubeConfig)),
        databaseLimits: () => databaseLimits,
        audit: new SyncAudit(handle, systemClock),
        events: new SyncEvents(),
      });
    };
    server = await startTestServer({ authModes: ['client'] }, { authorizer: new KubernetesAuthorizer(kubeConfig), apiRoutes: [routes] });
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.close();
    await database?.drop();
  });

  /** `{ns}` in a path is the test namespace, `{other}` one where nobody has rights. */
  const call = (token: string, method: string, path: string, body?: unknown): Promise<TestResponse> =>
    server.fetch(`/api/v1${path.replaceAll('{ns}', namespace).replaceAll('{other}', other)}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const ROUTES = [
    { method: 'POST', path: '/sync/{ns}', body: { cmName: 'limits', key: 'gpu', limit: 2 }, verb: 'create', resource: 'configmaps' },
    { method: 'GET', path: '/sync/{ns}/gpu?cmName=limits', verb: 'get', resource: 'configmaps' },
    { method: 'PUT', path: '/sync/{ns}/gpu', body: { cmName: 'limits', limit: 3 }, verb: 'update', resource: 'configmaps' },
    { method: 'GET', path: '/sync/{ns}/gpu/status?cmName=limits', verb: 'get', resource: 'configmaps' },
    { method: 'GET', path: '/sync/{ns}', verb: 'list', resource: 'configmaps' },
    { method: 'GET', path: '/sync-audit?namespace={ns}', verb: 'get', resource: 'configmaps' },
    { method: 'DELETE', path: '/sync/{ns}/gpu?cmName=limits', verb: 'update', resource: 'configmaps' },
    { method: 'POST', path: '/sync/{ns}', body: { type: 1, key: 'db', limit: 2 }, verb: 'create', resource: 'workflows', what: 'database sync limit' },
    { method: 'GET', path: '/sync/{ns}/db?type=1', verb: 'get', resource: 'workflows', what: 'database sync limit' },
    { method: 'PUT', path: '/sync/{ns}/db', body: { type: 1, limit: 3 }, verb: 'update', resource: 'workflows', what: 'database sync limit' },
    { method: 'DELETE', path: '/sync/{ns}/db?type=1', verb: 'delete', resource: 'workflows', what: 'database sync limit' },
  ] as const;

  it.each(ROUTES)('$method $path: 401 for a token the cluster does not know', async (route) => {
    const response = await call('stolen-token', route.method, route.path, 'body' in route ? route.body : undefined);
    expect(response.status).toBe(401);
  });

  it.each(ROUTES.filter((route) => route.method !== 'GET' || route.resource === 'workflows'))(
    '$method $path: 403 with Argo\'s text for a user without "$verb $resource"',
    async (route) => {
      const token = tokens[route.resource === 'workflows' ? 'cm-editor' : 'reader'];
      const response = await call(token, route.method, route.path, 'body' in route ? route.body : undefined);
      expect(response.status).toBe(403);
      const what = 'what' in route ? route.what : route.resource;
      expect(response.json()).toEqual({ code: 7, message: `Permission denied, you are not allowed to ${route.verb} ${what} in namespace "${namespace}".` });
    },
  );

  it('403 for a namespace the user has no rights in, on the read routes too', async () => {
    for (const path of ['/sync/{other}/gpu?cmName=limits', '/sync/{other}', '/sync/{other}/gpu/status?cmName=limits', '/sync-audit?namespace={other}', '/sync-events?namespace={other}']) {
      expect((await call(tokens.reader, 'GET', path)).status, path).toBe(403);
    }
  });

  it('runs every route for an allowed user, asking the cluster with the right verb, resource and group, and stores ConfigMap limits as ConfigMaps', async () => {
    for (const route of ROUTES) {
      reviews.length = 0;
      const response = await call(tokens.admin, route.method, route.path, 'body' in route ? route.body : undefined);
      expect(response.status, `${route.method} ${route.path}: ${response.text}`).toBe(200);
      // Only the in-process server shows the test the reviews it was asked; k3s decides them by the Roles.
      if (target === 'in-process') {
        expect(reviews.map((review) => review.resourceAttributes)).toContainEqual({
          verb: route.verb,
          resource: route.resource,
          group: route.resource === 'workflows' ? 'argoproj.io' : '',
          namespace,
        });
        expect(reviews[0]?.user).toBe(`system:serviceaccount:${namespace}:admin`);
      }
      if (route.method === 'PUT' && route.resource === 'configmaps') {
        expect((await cluster.get('configmaps', namespace, 'limits'))?.data).toEqual({ gpu: '3' });
      }
    }
  });
});
