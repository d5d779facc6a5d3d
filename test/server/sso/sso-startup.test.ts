import { connect } from 'node:net';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSsoSection, type RawSsoSection } from '../../../runtime/config/sso-section.js';
import { startRuntime } from '../../../runtime/runtime-process.js';
import { IdentityProvider } from '../../../runtime/server/auth/sso/identity-provider.js';
import { ssoKeyPath } from '../../../runtime/server/auth/sso/sso-key.js';
import { freePorts, startOpenIdProvider, type TestOpenIdProvider } from '../../support/openid-provider.js';

const homes: string[] = [];

/** Starts `argosync server --auth-mode sso` on a fixed free port with `sso` as its config section. */
async function start(sso: unknown, extra: { env?: Record<string, string> } = {}) {
  const home = await mkdtemp(join(tmpdir(), 'argosync-sso-start-'));
  homes.push(home);
  const config = join(home, 'argosync.yaml');
  await writeFile(config, stringify(sso === undefined ? {} : { sso }));
  const [port] = await freePorts(1);
  const printed: string[] = [];
  Object.assign(process.env, extra.env ?? {});
  const started = startRuntime({ home, config }, { port: port!, address: '127.0.0.1', authModes: ['sso'], logFormat: 'json' }, (line) => printed.push(line), 'server');
  return { home, port: port!, printed, started };
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('--auth-mode sso at start-up', () => {
  let provider: TestOpenIdProvider;
  beforeAll(async () => {
    provider = await startOpenIdProvider([{ sub: 'alice' }], [{ clientId: 'argosync', clientSecret: 'secret', redirectUris: ['https://localhost/oauth2/callback'] }]);
  });
  afterAll(async () => {
    await provider?.close();
    await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
  });
  const valid = () => ({ issuer: provider.issuer, clientIdValue: 'argosync', clientSecretValue: 'secret', rootCA: provider.certificate });

  it.each([
    ['no sso section', undefined, /sso\.issuer: required when --auth-mode sso is on/],
    ['a missing issuer', { clientIdValue: 'a', clientSecretValue: 'b' }, /sso\.issuer: required/],
    ['an unknown key', { issuer: 'https://idp.example', clientIdValue: 'a', clientSecretValue: 'b', clientIDD: 'x' }, /sso\.clientIDD: unknown key/],
    ['a bad regular expression', { issuer: 'https://idp.example', clientIdValue: 'a', clientSecretValue: 'b', filterGroupsRegex: ['^ok$', '(['] }, /sso\.filterGroupsRegex\[1\]: is not a valid regular expression/],
    ['a bad rootCA', { issuer: 'https://idp.example', clientIdValue: 'a', clientSecretValue: 'b', rootCA: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----' }, /sso\.rootCA: must hold one or more PEM certificates/],
    ['a missing client secret', { issuer: 'https://idp.example', clientIdValue: 'a' }, /sso\.clientSecret: required/],
    ['a bad sessionExpiry', { issuer: 'https://idp.example', clientIdValue: 'a', clientSecretValue: 'b', sessionExpiry: '10 hours' }, /sso\.sessionExpiry: must be a Go duration/],
  ])('refuses %s, naming the key, and nothing listens', async (_what, sso, message) => {
    const { started, port, printed } = await start(sso);
    await expect(started).rejects.toThrow(message);
    expect(await listening(port)).toBe(false);
    expect(printed.some((line) => line.startsWith('argosync listening'))).toBe(false);
  }, 60_000);

  it('refuses an unreachable issuer after opening nothing that listens', async () => {
    const [closed] = await freePorts(1);
    const unreachable = await start({ ...valid(), issuer: `https://127.0.0.1:${closed}` });
    await expect(unreachable.started).rejects.toThrow(`sso.issuer: OpenID Connect discovery at https://127.0.0.1:${closed} failed`);
    expect(await listening(unreachable.port)).toBe(false);
  }, 60_000);

  it('refuses an issuer the discovery document does not confirm, and a certificate not trusted through rootCA', async () => {
    const discover = (sso: RawSsoSection) => IdentityProvider.discover(readSsoSection(sso, []), 'argosync', 'secret');
    await expect(discover({ ...valid(), issuer: provider.issuer.replace('localhost', '127.0.0.1') })).rejects.toThrow(/^sso\.issuer: .*issuer does not match/);
    const { rootCA: _trusted, ...untrusted } = valid();
    await expect(discover(untrusted)).rejects.toThrow(/^sso\.issuer: OpenID Connect discovery at .* failed: .*(certificate|self-signed)/i);
    await expect(discover({ ...untrusted, insecureSkipVerify: true })).resolves.toBeInstanceOf(IdentityProvider);
  });

  it('starts with a valid section, reading clientId/clientSecret Secret references from the environment, and keeps the key in <home>/sso.key (0600)', async () => {
    const { clientIdValue: _id, clientSecretValue: _secret, ...rest } = valid();
    const { started, home, port } = await start(
      { ...rest, clientId: { name: 'argo-server-sso', key: 'clientID' }, clientSecret: { name: 'argo-server-sso', key: 'clientSecret' } },
      { env: { ARGO_SERVER_SSO_CLIENTID: 'argosync', ARGO_SERVER_SSO_CLIENTSECRET: 'secret' } },
    );
    const runtime = await started;
    try {
      expect(await listening(port)).toBe(true);
      const info = await stat(ssoKeyPath(home));
      expect(info.mode & 0o777).toBe(0o600);
      const der = await readFile(ssoKeyPath(home));
      expect(der[0]).toBe(0x30); // an ASN.1 SEQUENCE: binary PKCS#1 DER, as Argo's Secret holds it
    } finally {
      await runtime.stop();
    }
  }, 60_000);
});
