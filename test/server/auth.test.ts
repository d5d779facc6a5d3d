import { readFile, stat, writeFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectAuthMode } from '../../runtime/server/auth/auth-mode.js';
import { TOKEN_NOT_VALID } from '../../runtime/server/auth/authenticate.js';
import { hashToken, parsePolicy, PolicyFileAuthorizer, policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import { requirePermission } from '../../runtime/server/auth/require-permission.js';
import { startTestServer, temporaryHome } from './server-harness.js';
import type { TestServer } from './server-harness.js';

/** Routes shaped like the sync API's checks: ConfigMap limits on `configmaps`, DB limits on `workflows`. */
const probeRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { namespace: string; verb: string } }>('/probe/configmap/:namespace/:verb', async (request) => {
    await requirePermission(request, { verb: request.params.verb, resource: 'configmaps', namespace: request.params.namespace });
    return { subject: request.identity?.subject };
  });
  app.get<{ Params: { namespace: string; verb: string } }>('/probe/database/:namespace/:verb', async (request) => {
    const { verb, namespace } = request.params;
    await requirePermission(request, { verb, resource: 'workflows', group: 'argoproj.io', namespace }, 'database sync limit');
    return { subject: request.identity?.subject };
  });
};

const READER_TOKEN = 'reader-token-7f3a';
const ADMIN_TOKEN = 'admin-token-from-env-91c2';
let home: string;
let server: TestServer;

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  home = await temporaryHome();
  const policy = {
    tokens: [
      {
        subject: 'team-a-reader',
        sha256: hashToken(READER_TOKEN),
        rules: [{ verbs: ['get'], resources: ['configmaps', 'workflows'], namespaces: ['team-a'] }],
      },
    ],
  };
  await writeFile(policyFilePath(home), stringify(policy));
  const authorizer = await PolicyFileAuthorizer.load(policyFilePath(home));
  expect(await authorizer.createAdminToken({ ARGOSYNC_ADMIN_TOKEN: ADMIN_TOKEN })).toBe(ADMIN_TOKEN);
  server = await startTestServer({ home, authModes: ['client'] }, { authorizer, apiRoutes: [probeRoutes] });
});
afterAll(() => server.close());

describe('client auth mode with the policy file', () => {
  it('answers 401 without a token, with Argo-searchable text', async () => {
    const response = await server.fetch('/api/v1/probe/configmap/team-a/get');
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ code: 16, message: TOKEN_NOT_VALID });
    expect(TOKEN_NOT_VALID).toMatch(/^token not valid/);
  });

  it.each([
    ['an unknown bearer token', 'Bearer not-a-token'],
    ['an empty bearer token', 'Bearer '],
    ['basic credentials', `Basic ${Buffer.from('admin:x').toString('base64')}`],
  ])('answers 401 for %s', async (_case, authorization) => {
    const response = await server.fetch('/api/v1/probe/configmap/team-a/get', { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ code: 16, message: TOKEN_NOT_VALID });
  });

  it('guards /api/v1/version too, but leaves probes and metrics open', async () => {
    expect((await server.fetch('/api/v1/version')).status).toBe(401);
    expect((await server.fetch('/api/v1/version', bearer(READER_TOKEN))).status).toBe(200);
    expect((await server.fetch('/healthz')).status).toBe(200);
    expect((await server.fetch('/readyz')).status).toBe(200);
    expect((await server.fetch('/metrics')).status).toBe(200);
  });

  it('lets a token act within its rules', async () => {
    const response = await server.fetch('/api/v1/probe/configmap/team-a/get', bearer(READER_TOKEN));
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ subject: 'team-a-reader' });
  });

  it('answers 403 with Argo’s text for a verb or namespace outside the rules', async () => {
    const create = await server.fetch('/api/v1/probe/configmap/team-a/create', bearer(READER_TOKEN));
    expect(create.status).toBe(403);
    expect(create.json()).toEqual({ code: 7, message: 'Permission denied, you are not allowed to create configmaps in namespace "team-a".' });
    const otherNamespace = await server.fetch('/api/v1/probe/configmap/team-b/get', bearer(READER_TOKEN));
    expect(otherNamespace.json()).toEqual({ code: 7, message: 'Permission denied, you are not allowed to get configmaps in namespace "team-b".' });
  });

  it('words a denied database limit as Argo’s sync_db.go does', async () => {
    expect((await server.fetch('/api/v1/probe/database/team-a/get', bearer(READER_TOKEN))).status).toBe(200);
    const denied = await server.fetch('/api/v1/probe/database/team-a/delete', bearer(READER_TOKEN));
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({
      code: 7,
      message: 'Permission denied, you are not allowed to delete database sync limit in namespace "team-a".',
    });
  });

  it('accepts the admin token everywhere, also from the UI’s authorization cookie', async () => {
    expect((await server.fetch('/api/v1/probe/database/anywhere/delete', bearer(ADMIN_TOKEN))).json()).toEqual({ subject: 'admin' });
    const cookie = `theme=dark; authorization=${encodeURIComponent(`Bearer ${ADMIN_TOKEN}`)}`;
    const viaCookie = await server.fetch('/api/v1/probe/configmap/team-b/create', { headers: { cookie } });
    expect(viaCookie.status).toBe(200);
  });

  it('stores only token hashes in the policy file and never logs a token', async () => {
    const file = await readFile(policyFilePath(home), 'utf8');
    expect(file).toContain(hashToken(ADMIN_TOKEN));
    expect(file).toContain(hashToken(READER_TOKEN));
    expect(file).not.toContain(ADMIN_TOKEN);
    expect(file).not.toContain(READER_TOKEN);
    const logs = server.logs.join('\n');
    expect(logs).toContain('/api/v1/probe');
    expect(logs).not.toContain(ADMIN_TOKEN);
    expect(logs).not.toContain(READER_TOKEN);
  });
});

describe('createAdminToken', () => {
  it('generates a fresh random token, replacing the previous admin hash', async () => {
    const adminHome = await temporaryHome();
    const authorizer = await PolicyFileAuthorizer.load(policyFilePath(adminHome));
    const first = await authorizer.createAdminToken({});
    const second = await authorizer.createAdminToken({});
    expect(first).toMatch(/^[\w-]{43}$/);
    expect(second).not.toBe(first);
    expect(await authorizer.authenticate(first)).toBeUndefined();
    const reloaded = await PolicyFileAuthorizer.load(policyFilePath(adminHome));
    expect(await reloaded.authenticate(second)).toEqual({ mode: 'client', subject: 'admin', groups: [] });
    expect(parsePolicy('p', await readFile(policyFilePath(adminHome), 'utf8')).tokens).toHaveLength(1);
    expect((await stat(policyFilePath(adminHome))).mode & 0o777).toBe(0o600);
  });
});

describe('parsePolicy', () => {
  it('reports every problem with its path', () => {
    const text = stringify({ tokens: [{ subject: '', sha256: 'abc', rules: [{ verbs: 'get', resources: ['configmaps'] }] }] });
    expect(() => parsePolicy('/h/policy.yaml', text)).toThrow(
      'policy file /h/policy.yaml is invalid: tokens[0].subject must be a non-empty string; ' +
        'tokens[0].sha256 must be 64 lower-case hex characters (the SHA-256 of the token); ' +
        'tokens[0].rules[0].verbs must be a list of strings ("*" matches any); ' +
        'tokens[0].rules[0].namespaces must be a list of strings ("*" matches any)',
    );
  });

  it('refuses two service accounts of one name, whose rules would mix', () => {
    const account = { name: 'admins', rbacRule: "'admins' in groups", rules: [{ verbs: ['get'], resources: ['*'], namespaces: ['*'] }] };
    expect(() => parsePolicy('/h/policy.yaml', stringify({ tokens: [], serviceAccounts: [account, { ...account, rbacRule: 'true' }] }))).toThrow(
      'policy file /h/policy.yaml is invalid: serviceAccounts[1].name "admins" is used by an earlier entry',
    );
  });

  it('refuses an rbacRule whose matches pattern is not a regular expression, when the file is read', () => {
    const account = { name: 'admins', rbacRule: "email matches '('", rules: [] };
    expect(() => parsePolicy('/h/policy.yaml', stringify({ tokens: [], serviceAccounts: [account] }))).toThrow(
      'policy file /h/policy.yaml is invalid: serviceAccounts[0].rbacRule: matches at 6: Invalid regular expression: /(/u: Unterminated group',
    );
  });

  it('names the file when it is not YAML', () => {
    expect(() => parsePolicy('/h/policy.yaml', 'tokens: [')).toThrow('policy file /h/policy.yaml is not valid YAML');
  });
});

describe('server auth mode', () => {
  it('serves requests without a token as the server identity', async () => {
    const serverMode = await startTestServer({ authModes: ['server'] }, { apiRoutes: [probeRoutes] });
    try {
      const response = await serverMode.fetch('/api/v1/probe/database/team-a/create');
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ subject: 'argosync-server' });
      expect(serverMode.logs.some((line) => line.includes('You are running without client authentication'))).toBe(true);
    } finally {
      await serverMode.close();
    }
  });
});

describe('selectAuthMode (client + server, Argo’s hybrid)', () => {
  const modes = ['client', 'server'] as const;
  it('picks client for a bearer header or cookie, server otherwise', () => {
    expect(selectAuthMode(modes, 'Bearer abc', undefined)).toEqual({ mode: 'client', token: 'abc' });
    expect(selectAuthMode(modes, undefined, 'authorization=Bearer%20xyz')).toEqual({ mode: 'client', token: 'xyz' });
    expect(selectAuthMode(modes, undefined, undefined)).toEqual({ mode: 'server' });
    expect(selectAuthMode(['client'], undefined, 'session=1')).toEqual({ mode: 'none' });
    expect(selectAuthMode(['server'], 'Bearer abc', undefined)).toEqual({ mode: 'server' });
  });
});
