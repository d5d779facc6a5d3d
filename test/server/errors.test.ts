import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, PermissionDeniedError } from '../../runtime/errors.js';
import { startTestServer } from './server-harness.js';
import type { TestServer } from './server-harness.js';

const testRoutes: FastifyPluginAsync = async (app) => {
  app.post(
    '/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['limit'],
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1 }, key: { type: 'string' } },
        },
      },
    },
    async (request) => request.body,
  );
  app.get('/throw/not-found', async () => {
    throw new NotFoundError('Database sync limit not found in namespace "argo".');
  });
  app.get('/throw/denied', async () => {
    throw new PermissionDeniedError('Permission denied, you are not allowed to get configmaps in namespace "argo".');
  });
  app.get('/throw/exists', async () => {
    throw new AlreadyExistsError('sync limit cannot be created as it already exists');
  });
  app.get('/throw/unknown', async () => {
    throw new Error('pg: password authentication failed for user "sync" at 10.0.0.7');
  });
};

let server: TestServer;
const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  server = await startTestServer({}, { apiRoutes: [testRoutes] });
});
afterAll(() => server.close());

describe('error responses', () => {
  it('echoes a valid body (control for the cases below)', async () => {
    const response = await server.fetch('/api/v1/echo', { method: 'POST', headers: json, body: '{"limit":2}' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ limit: 2 });
  });

  it.each([
    ['malformed JSON', '{"limit":', 'request body is not valid JSON'],
    ['an empty JSON body', '', 'request body is empty but content-type is application/json'],
    ['a string where an integer belongs', '{"limit":"5"}', 'invalid request: body/limit must be integer'],
    ['a limit below the minimum', '{"limit":0}', 'invalid request: body/limit must be >= 1'],
    ['an unknown property', '{"limit":1,"size":3}', 'invalid request: body must NOT have additional properties'],
    ['a prototype-poisoning body', '{"limit":1,"__proto__":{"x":1}}', 'request body is not valid JSON'],
  ])('answers 3/400 for %s', async (_case, body, message) => {
    const response = await server.fetch('/api/v1/echo', { method: 'POST', headers: json, body });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ code: 3, message });
  });

  it('answers 3/400 for a wrong content type', async () => {
    const response = await server.fetch('/api/v1/echo', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"limit":1}' });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ code: 3, message: 'unsupported content-type "text/plain": send application/json' });
  });

  it('answers 3/400, not 413, for a body over the default 1 MiB', async () => {
    const body = JSON.stringify({ limit: 1, key: 'x'.repeat(1024 * 1024) });
    const response = await server.fetch('/api/v1/echo', { method: 'POST', headers: json, body });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ code: 3, message: 'request body is larger than the limit of 1048576 bytes' });
  });

  it('answers 5/404 JSON for an unknown route', async () => {
    const response = await server.fetch('/api/v1/nothing-here?x=1');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toEqual({ code: 5, message: 'Not Found: no route for GET /api/v1/nothing-here?x=1' });
  });

  it.each([
    ['not-found', 404, 5, 'Database sync limit not found in namespace "argo".'],
    ['denied', 403, 7, 'Permission denied, you are not allowed to get configmaps in namespace "argo".'],
    ['exists', 409, 6, 'sync limit cannot be created as it already exists'],
  ])('writes a thrown ApiError (%s) as its status and {code, message}', async (kind, status, code, message) => {
    const response = await server.fetch(`/api/v1/throw/${kind}`);
    expect(response.status).toBe(status);
    expect(response.json()).toEqual({ code, message });
  });

  it('hides an unknown error behind 13/500 "internal error" and logs the detail', async () => {
    const response = await server.fetch('/api/v1/throw/unknown');
    expect(response.status).toBe(500);
    expect(response.json()).toEqual({ code: 13, message: 'internal error' });
    expect(response.text).not.toContain('password');
    expect(response.text).not.toContain('at ');
    const logged = server.logs.map((line) => JSON.parse(line) as { level: string; err?: { message: string; stack: string } });
    expect(logged.find((entry) => entry.level === 'error' && entry.err?.message.includes('password authentication'))?.err?.stack).toContain(
      'errors.test.ts',
    );
  });
});

describe('a configured body limit', () => {
  it('names the configured limit', async () => {
    const small = await startTestServer({ bodyLimit: 64 }, { apiRoutes: [testRoutes] });
    try {
      const response = await small.fetch('/api/v1/echo', { method: 'POST', headers: json, body: JSON.stringify({ limit: 1, key: 'k'.repeat(100) }) });
      expect(response.status).toBe(400);
      expect(response.json()).toEqual({ code: 3, message: 'request body is larger than the limit of 64 bytes' });
    } finally {
      await small.close();
    }
  });
});
