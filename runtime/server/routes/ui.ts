import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

const UI_DIRECTORY = new URL('../ui/', import.meta.url);
const SCRIPT = 'text/javascript; charset=utf-8';
const ASSETS: Record<string, string> = { 'app.js': SCRIPT, 'dom.js': SCRIPT, 'workflows.js': SCRIPT, 'style.css': 'text/css; charset=utf-8' };
// Everything the page needs comes from this server: no external scripts, styles or connections.
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** The web UI (SPEC §7.5) at the base href: the page, with `<base href>` set, and its assets. */
export const uiRoutes: FastifyPluginAsync<{ readonly baseHref: string; readonly authModes?: readonly string[] }> = async (app, options) => {
  const page = (await readFile(new URL('index.html', UI_DIRECTORY), 'utf8'))
    .replace('<base href="/" />', `<base href="${options.baseHref}" />`)
    // The sign-in page offers "Log in with SSO" only when the server runs with --auth-mode sso.
    .replace('<meta name="argosync-auth-modes" content="client" />', `<meta name="argosync-auth-modes" content="${(options.authModes ?? ['client']).join(',')}" />`);
  const assets = new Map(await Promise.all(Object.keys(ASSETS).map(async (name) => [name, await readFile(new URL(name, UI_DIRECTORY), 'utf8')] as const)));

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', CONTENT_SECURITY_POLICY).send(page));
  app.get<{ Params: { asset: string } }>('/ui/:asset', async (request, reply) => {
    const body = assets.get(request.params.asset);
    if (body === undefined) return reply.callNotFound();
    return reply.type(ASSETS[request.params.asset]!).header('cache-control', 'no-cache').send(body);
  });
};
