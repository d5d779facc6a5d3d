import type { Browser, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, launchBrowser, openPage, screenshotPath } from '../support/browser.js';
import { runCli } from '../support/cli-process.js';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { freePorts, startOpenIdProvider, type TestOpenIdProvider } from '../support/openid-provider.js';

if (CHROMIUM_MISSING) console.warn(`skipping the SSO UI suite: ${CHROMIUM_MISSING}`);

describe.skipIf(CHROMIUM_MISSING !== undefined)('signing in with SSO in Chromium, under --base-href /argo/', () => {
  let provider: TestOpenIdProvider;
  let port: number;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  beforeAll(async () => {
    const ports = await freePorts(2);
    port = ports[0]!;
    provider = await startOpenIdProvider(
      [{ sub: 'alice', email: 'alice@example.com', name: 'Alice', groups: ['admins'] }],
      [{ clientId: 'argosync', clientSecret: 'ui-secret', redirectUris: [`https://127.0.0.1:${port}/argo/oauth2/callback`] }],
      ports[1],
    );
    browser = await launchBrowser();
    ({ page, pageErrors } = await openPage(browser));
  });
  afterAll(async () => {
    await browser?.close();
    await provider?.close();
  });
  const runtime = embeddedRuntime(() => ({
    config: { sso: { issuer: provider.issuer, clientIdValue: 'argosync', clientSecretValue: 'ui-secret', rootCA: provider.certificate, scopes: ['email', 'profile', 'groups'] } },
    server: { port, baseHref: '/argo/', authModes: ['sso', 'client'] },
  }));

  it('goes from the sign-in page through the provider’s login form to the Limits page, then calls the API with the cookie, then logs out', async () => {
    await page.goto(`${runtime().url}#namespace=team-sso`);
    const sso = page.getByRole('link', { name: 'Log in with SSO' });
    await sso.waitFor();
    expect(await page.getByLabel('Token').isVisible()).toBe(true);
    await sso.click();

    await page.getByLabel('Login').fill('alice');
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    await page.getByLabel('Password').fill('any password');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect.poll(() => page.locator('#empty').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(page.url()).toBe(`${runtime().url}#namespace=team-sso`);
    expect(await page.locator('#who-name').textContent()).toBe('alice@example.com');
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    await page.screenshot({ path: screenshotPath('sso-signed-in.png') });

    const cookie = (await page.context().cookies()).find((c) => c.name === 'authorization');
    expect(cookie).toMatchObject({ path: '/argo/', secure: true, httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).toMatch(/^"Bearer v2:/);
    const response = await request(`${runtime().url}api/v1/sync/team-sso`, { dispatcher: new Agent({ connect: { rejectUnauthorized: false } }), headers: { cookie: `authorization=${cookie!.value}` } });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ items: [] });
    // The CLI takes the same value, as Argo's takes ARGO_TOKEN='Bearer v2:…'.
    const cli = runCli(['sync', 'list', '-n', 'team-sso', '-o', 'json'], {
      ARGOSYNC_SERVER: runtime().url,
      ARGOSYNC_TOKEN: cookie!.value.replace(/^"|"$/g, ''),
      ARGOSYNC_INSECURE_SKIP_VERIFY: 'true',
    });
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.stdout())).toEqual({ items: [] });

    await page.getByRole('link', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).waitFor();
    expect((await page.context().cookies()).some((c) => c.name === 'authorization')).toBe(false);
    // Before signing in, the page asked who was signed in and heard 401: that is the only error it logged.
    expect(pageErrors.filter((error) => !/status of 401/.test(error))).toEqual([]);
  });
});
