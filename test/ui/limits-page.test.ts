import type { Browser, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { CHROMIUM_MISSING, launchBrowser, openPage, screenshotPath } from '../support/browser.js';

if (CHROMIUM_MISSING) console.warn(`skipping the UI suite: ${CHROMIUM_MISSING}`);

describe.skipIf(CHROMIUM_MISSING !== undefined)('the limits page in Chromium, under --base-href /argo/', () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  beforeAll(async () => {
    browser = await launchBrowser();
    ({ page, pageErrors } = await openPage(browser));
  });
  afterAll(() => browser?.close());
  const runtime = embeddedRuntime(() => ({ server: { baseHref: '/argo/' } }));

  const createLimit = async (namespace: string, body: unknown) => {
    const response = await request(`${runtime().url}api/v1/sync/${namespace}`, {
      method: 'POST',
      dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
      headers: { authorization: `Bearer ${runtime().token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(200);
    await response.body.text();
  };

  it('asks for the token, then shows a limit created through the API, and its holders and queue as they change', async () => {
    expect(runtime().url).toMatch(/\/argo\/$/);
    await page.goto(`${runtime().url}#namespace=team-ui`);
    await page.getByLabel('Token').fill(runtime().token!);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');

    await createLimit('team-ui', { cmName: 'limits', key: 'gpu', limit: 2 });
    const row = page.locator('tr[data-key="gpu"]');
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['gpu', 'configmap', 'limits', '0 of 2', 'none', 'none']);

    const { manager } = runtime().engine!;
    const acquire = (workflowName: string, priority: number) =>
      manager.tryAcquire({ namespace: 'team-ui', workflowName, priority, creationTime: Date.now(), synchronization: { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }] } });
    await acquire('first', 0);
    await acquire('second', 0);
    await acquire('low', 0);
    await acquire('urgent', 9);
    await expect.poll(() => row.locator('td').nth(3).textContent()).toBe('2 of 2');
    expect(await row.locator('td').nth(4).locator('li').allTextContents()).toEqual([expect.stringMatching(/^team-ui\/first \(token 1, for \d+s\)$/), expect.stringMatching(/^team-ui\/second \(token 2/)]);
    expect(await row.locator('td').nth(5).locator('li').allTextContents()).toEqual([expect.stringMatching(/^team-ui\/urgent \(priority 9/), expect.stringMatching(/^team-ui\/low \(priority 0/)]);
    await page.screenshot({ path: screenshotPath('limits-page.png'), fullPage: true });

    await manager.releaseAll('team-ui', 'first');
    await expect.poll(() => row.locator('td').nth(3).textContent()).toBe('1 of 2');
    expect(pageErrors).toEqual([]);
  });

  it('shows the configuration with the live controllers, and explains a rejected change', async () => {
    await page.locator('nav a', { hasText: 'Config' }).click();
    const synchronization = page.locator('[data-section="synchronization"]');
    await synchronization.waitFor();
    expect(await synchronization.locator('p').textContent()).toMatch(/^Database: pglite at .*\. Schema version 10\.$/);
    expect(await synchronization.locator('li').allTextContents()).toEqual([expect.stringMatching(/: last heartbeat \d{4}-/)]);
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Config');

    const persistence = page.locator('[data-section="persistence"]');
    await persistence.locator('textarea').fill('{"archiveTTL": "forever"}');
    await persistence.getByRole('button', { name: 'Save persistence' }).click();
    await expect.poll(() => page.locator('#config-error').textContent()).toMatch(/^persistence: invalid configuration in .*: persistence\.archiveTTL: /);
    await page.screenshot({ path: screenshotPath('config-page.png'), fullPage: true });
    await page.locator('nav a', { hasText: 'Limits' }).click();
    await page.locator('tr[data-key="gpu"]').waitFor();
    // The browser reports the refused save itself; nothing else may go wrong.
    expect(pageErrors.filter((error) => !error.includes('status of 400'))).toEqual([]);
  });

  it('serves no external assets and keeps working when the tab reloads', async () => {
    const external: string[] = [];
    page.on('request', (sent) => {
      if (!sent.url().startsWith(runtime().url.replace(/argo\/$/, ''))) external.push(sent.url());
    });
    await page.reload();
    await page.locator('tr[data-key="gpu"]').waitFor();
    expect(external).toEqual([]);
  });
});
