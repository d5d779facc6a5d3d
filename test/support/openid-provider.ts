import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Provider, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { generate } from 'selfsigned';

/** A person the provider knows; `userinfoGroups` are what its userinfo endpoint says instead of `groups`. */
export interface TestAccount {
  readonly sub: string;
  readonly email?: string;
  readonly name?: string;
  readonly groups?: readonly string[];
  readonly userinfoGroups?: readonly string[];
  /** A custom group claim (`customGroupClaimName: roles`). */
  readonly roles?: readonly string[];
}

export interface TestClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  readonly authMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface TestOpenIdProvider {
  /** `https://localhost:<port>`, the discovery issuer. */
  readonly issuer: string;
  /** The provider's self-signed certificate (PEM), to give argosync as `sso.rootCA`. */
  readonly certificate: string;
  /**
   * Rewrites the claims of the next ID tokens the token endpoint returns (signed again with the provider's
   * own key), to stand for a provider that issues a token for another audience, nonce or issuer.
   */
  tamperIdTokens(change: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined): void;
  close(): Promise<void>;
}

/**
 * `count` distinct free TCP ports on 127.0.0.1, for servers whose callback URLs must be registered before they
 * start: all are held at once, so none is handed out twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createNetServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

const LOGIN_FORM = (uid: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Test provider sign-in</title></head><body><h1>Test provider</h1>` +
  `<form method="post" action="/interaction/${uid}"><label>Login <input name="login" required></label>` +
  `<label>Password <input name="password" type="password" required></label><button type="submit">Sign in</button></form></body></html>`;

/**
 * A real OpenID Provider (`oidc-provider`, OpenID-certified) over HTTPS with its own certificate. Its login
 * form takes any password for a known account; grants are given without a consent page.
 */
export async function startOpenIdProvider(accounts: readonly TestAccount[], clients: readonly TestClient[], port?: number): Promise<TestOpenIdProvider> {
  port ??= (await freePorts(1))[0]!;
  const issuer = `https://localhost:${port}`;
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const byLogin = new Map(accounts.map((account) => [account.sub, account]));
  let tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined;

  const configuration: Configuration = {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [...client.redirectUris],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: client.authMethod ?? 'client_secret_basic',
    })),
    jwks: { keys: [signingKey] },
    claims: { openid: ['sub'], email: ['email'], profile: ['name'], groups: ['groups', 'roles'] },
    conformIdTokenClaims: false,
    // Pages of its own, which load nothing from the network (the defaults import a web font).
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Sign out</title></head><body><h1>Sign out of the test provider?</h1>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></body></html>`;
        },
      },
    },
    renderError: (ctx: KoaContextWithOIDC, out: { error: string }) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Provider error</title></head><body><p>${out.error.replace(/[^\w .-]/g, '')}</p></body></html>`;
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-cookie-key'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    findAccount: (_ctx, sub) => {
      const account = byLogin.get(sub);
      if (account === undefined) return undefined;
      return {
        accountId: sub,
        claims: (use: string) => ({
          sub,
          ...(account.email === undefined ? {} : { email: account.email }),
          ...(account.name === undefined ? {} : { name: account.name }),
          ...(account.roles === undefined ? {} : { roles: account.roles }),
          ...((use === 'userinfo' ? (account.userinfoGroups ?? account.groups) : account.groups) === undefined
            ? {}
            : { groups: use === 'userinfo' ? (account.userinfoGroups ?? account.groups) : account.groups }),
        }),
      };
    },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.path === '/token' && tamper !== undefined && typeof body?.id_token === 'string') {
      const claims = tamper(decodeJwt(body.id_token) as Record<string, unknown>);
      ctx.body = { ...body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(privateKey) };
    }
  });

  const oidcCallback = provider.callback();
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const match = /^\/interaction\/([^/?]+)$/.exec(request.url ?? '');
    if (match === null) return oidcCallback(request, response);
    const details = await provider.interactionDetails(request, response);
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LOGIN_FORM(details.uid));
      return;
    }
    const form = new URLSearchParams(await new Promise<string>((resolve) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => resolve(text));
    }));
    const login = form.get('login') ?? '';
    const result = byLogin.has(login) ? { login: { accountId: login } } : { error: 'access_denied', error_description: 'unknown account' };
    await provider.interactionFinished(request, response, result, { mergeWithLastSubmission: false });
  };
  const server = createHttpsServer({ key: pems.private, cert: pems.cert }, (request, response) => {
    handle(request, response).catch((error: Error) => response.writeHead(500).end(error.message));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    certificate: pems.cert,
    tamperIdTokens(change) {
      tamper = change;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
