import type { FastifyPluginAsync } from 'fastify';
import type { V1SubjectAccessReviewSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { startTestServer, type TestResponse, type TestServer } from './server-harness.js';

/** RBAC of the fake cluster: user → "verb resource" pairs allowed in namespace team-a. */
const RBAC: Record<string, readonly string[]> = {
  'system:serviceaccount:team-a:admin': ['*'],
  'system:serviceaccount:team-a:reader': ['get configmaps', 'list configmaps', 'get workflows', 'list workflows'],
  'system:serviceaccount:team-a:cm-editor': ['create configmaps', 'get configmaps', 'update configmaps', 'list configmaps'],
};
const TOKEN_USERS: Record<string, string> = { 'admin-token': 'system:serviceaccount:team-a:admin', 'reader-token': 'system:serviceaccount:team-a:reader', 'cm-token': 'system:serviceaccount:team-a:cm-editor' };

describe('client auth mode on Kubernetes: TokenReview and SubjectAccessReview on every sync route', () => {
  let kube: KubeApiServer;
  let database: TestDatabase;
  let server: TestServer;
  const reviews: V1SubjectAccessReviewSpec[] = [];

  beforeAll(async () => {
    kube = await startKubeApiServer({ token: 'server-service-account' });
    kube.setTokenReview((token) => (TOKEN_USERS[token] ? { username: TOKEN_USERS[token], groups: ['system:serviceaccounts'] } : undefined));
    kube.setAccessReview((spec) => {
      reviews.push(spec);
      const attributes = spec.resourceAttributes!;
      const grants = RBAC[spec.user ?? ''] ?? [];
      const allowed = attributes.namespace === 'team-a' && (grants.includes('*') || grants.includes(`${attributes.verb} ${attributes.resource}`));
      return { allowed };
    });
    database = await createTestDatabase('pglite');
    const handle = await database.open();
    await migrateArgosyncSchema(handle);
    await migrateSyncSchema(handle);
    const kubeConfig = kubeConfigFor(kube);
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
    await kube?.close();
    await database?.drop();
  });

  const call = (token: string, method: string, path: string, body?: unknown): Promise<TestResponse> =>
    server.fetch(`/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const ROUTES = [
    { method: 'POST', path: '/sync/team-a', body: { cmName: 'limits', key: 'gpu', limit: 2 }, verb: 'create', resource: 'configmaps' },
    { method: 'GET', path: '/sync/team-a/gpu?cmName=limits', verb: 'get', resource: 'configmaps' },
    { method: 'PUT', path: '/sync/team-a/gpu', body: { cmName: 'limits', limit: 3 }, verb: 'update', resource: 'configmaps' },
    { method: 'GET', path: '/sync/team-a/gpu/status?cmName=limits', verb: 'get', resource: 'configmaps' },
    { method: 'GET', path: '/sync/team-a', verb: 'list', resource: 'configmaps' },
    { method: 'GET', path: '/sync-audit?namespace=team-a', verb: 'get', resource: 'configmaps' },
    { method: 'DELETE', path: '/sync/team-a/gpu?cmName=limits', verb: 'update', resource: 'configmaps' },
    { method: 'POST', path: '/sync/team-a', body: { type: 1, key: 'db', limit: 2 }, verb: 'create', resource: 'workflows', what: 'database sync limit' },
    { method: 'GET', path: '/sync/team-a/db?type=1', verb: 'get', resource: 'workflows', what: 'database sync limit' },
    { method: 'PUT', path: '/sync/team-a/db', body: { type: 1, limit: 3 }, verb: 'update', resource: 'workflows', what: 'database sync limit' },
    { method: 'DELETE', path: '/sync/team-a/db?type=1', verb: 'delete', resource: 'workflows', what: 'database sync limit' },
  ] as const;

  it.each(ROUTES)('$method $path: 401 for a token the cluster does not know', async (route) => {
    const response = await call('stolen-token', route.method, route.path, 'body' in route ? route.body : undefined);
    expect(response.status).toBe(401);
  });

  it.each(ROUTES.filter((route) => route.method !== 'GET' || route.resource === 'workflows'))(
    '$method $path: 403 with Argo\'s text for a user without "$verb $resource"',
    async (route) => {
      const token = route.resource === 'workflows' ? 'cm-token' : 'reader-token';
      const response = await call(token, route.method, route.path, 'body' in route ? route.body : undefined);
      expect(response.status).toBe(403);
      const what = 'what' in route ? route.what : route.resource;
      expect(response.json()).toEqual({ code: 7, message: `Permission denied, you are not allowed to ${route.verb} ${what} in namespace "team-a".` });
    },
  );

  it('403 for a namespace the user has no rights in, on the read routes too', async () => {
    for (const path of ['/sync/team-b/gpu?cmName=limits', '/sync/team-b', '/sync/team-b/gpu/status?cmName=limits', '/sync-audit?namespace=team-b', '/sync-events?namespace=team-b']) {
      expect((await call('reader-token', 'GET', path)).status, path).toBe(403);
    }
  });

  it('runs every route for an allowed user, asking the cluster with the right verb, resource and group, and stores ConfigMap limits as ConfigMaps', async () => {
    for (const route of ROUTES) {
      reviews.length = 0;
      const response = await call('admin-token', route.method, route.path, 'body' in route ? route.body : undefined);
      expect(response.status, `${route.method} ${route.path}: ${response.text}`).toBe(200);
      expect(reviews.map((review) => review.resourceAttributes)).toContainEqual({
        verb: route.verb,
        resource: route.resource,
        group: route.resource === 'workflows' ? 'argoproj.io' : '',
        namespace: 'team-a',
      });
      expect(reviews[0]?.user).toBe('system:serviceaccount:team-a:admin');
      if (route.method === 'PUT' && route.resource === 'configmaps') {
        expect((await kube.get('configmaps', 'team-a', 'limits'))?.data).toEqual({ gpu: '3' });
      }
    }
  });
});
