import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectBaseHref, normaliseBaseHref, stripBaseHref } from '../../runtime/server/base-href.js';
import { startTestServer } from './server-harness.js';
import type { TestServer } from './server-harness.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ baseHref: 'argo' });
});
afterAll(() => server.close());

describe('a server behind --base-href', () => {
  it('announces the URL with the base href', () => {
    expect(server.printed).toEqual([`argosync listening on ${server.url}`]);
    expect(new URL(server.url).pathname).toBe('/argo/');
  });

  it('answers prefixed and proxy-stripped requests from the same routes', async () => {
    const prefixed = await server.fetch('/argo/api/v1/version');
    const stripped = await server.fetch('/api/v1/version');
    expect(prefixed.status).toBe(200);
    expect(prefixed.json()).toEqual(stripped.json());
    expect((await server.fetch('/argo/healthz')).text).toBe('ok');
    expect((await server.fetch('/healthz')).text).toBe('ok');
    expect((await server.fetch('/argo/readyz?verbose=1')).status).toBe(200);
  });

  it('does not strip a path that merely starts with the same letters', async () => {
    const response = await server.fetch('/argonaut/healthz');
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ code: 5 });
  });
});

describe('normaliseBaseHref', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['argo', '/argo/'],
    ['/argo', '/argo/'],
    ['/argo/', '/argo/'],
    ['//teams/argo//', '/teams/argo/'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normaliseBaseHref(input)).toBe(expected);
  });

  it.each(['/a b/', '/a/../b/', '/a//b/', '/"x"/'])('rejects %j naming it', (input) => {
    expect(() => normaliseBaseHref(input)).toThrow(`--base-href must be a URL path such as /argo/, got "${input}"`);
  });
});

describe('stripBaseHref', () => {
  it.each([
    ['/argo/api/v1/version', '/api/v1/version'],
    ['/argo', '/'],
    ['/argo/', '/'],
    ['/argo?x=1', '/?x=1'],
    ['/api/v1/version', '/api/v1/version'],
    ['/argonaut', '/argonaut'],
  ])('maps %j to %j', (url, expected) => {
    expect(stripBaseHref(url, '/argo/')).toBe(expected);
  });

  it('leaves every URL alone at the root base href', () => {
    expect(stripBaseHref('/argo/x', '/')).toBe('/argo/x');
  });
});

describe('injectBaseHref', () => {
  it('replaces an existing <base> tag', () => {
    expect(injectBaseHref('<html><head><base href="/"><title>x</title></head></html>', '/argo/')).toBe(
      '<html><head><base href="/argo/"><title>x</title></head></html>',
    );
  });

  it('adds the tag at the start of <head> when there is none', () => {
    expect(injectBaseHref('<html><head lang="en"><title>x</title></head></html>', '/argo/')).toBe(
      '<html><head lang="en"><base href="/argo/"><title>x</title></head></html>',
    );
  });
});
