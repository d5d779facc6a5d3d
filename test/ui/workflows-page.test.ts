import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, launchBrowser, openPage, screenshotPath } from '../support/browser.js';
import { createTestDatabase, missingDatabase, type TestDatabase } from '../support/databases.js';
import { embeddedRuntime, mysqlPersistence } from '../support/embedded-runtime.js';
import { runtimeApi } from '../support/runtime-api.js';
import { WorkflowGates } from '../support/workflow-gates.js';

if (CHROMIUM_MISSING) console.warn(`skipping the workflows UI suite: ${CHROMIUM_MISSING}`);

describe.skipIf(CHROMIUM_MISSING !== undefined || missingDatabase('mysql') !== undefined)('the workflows and archive pages in Chromium, under --base-href /argo/', () => {
  let database: TestDatabase;
  let gates: WorkflowGates;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    gates = await WorkflowGates.create();
    browser = await launchBrowser();
    ({ page, pageErrors } = await openPage(browser));
  });
  afterAll(async () => {
    await browser?.close();
    await gates?.remove();
    await database?.drop();
  });
  const runtime = embeddedRuntime(() => ({ config: { persistence: mysqlPersistence(database, { archive: true }) }, server: { baseHref: '/argo/' } }));
  const api = runtimeApi(runtime);

  const submit = async (workflow: Record<string, unknown>) => expect((await api('POST', '/workflows/team-ui', { workflow })).status).toBe(200);
  const gated = (name: string) => ({ metadata: { name }, spec: { entrypoint: 'main', synchronization: { semaphores: [{ database: { key: 'slots' } }] }, templates: [gates.template()] } });

  it('lists workflows with their status and waiting message, and shows one with its synchronization status as it changes', async () => {
    expect((await api('POST', '/sync/team-ui', { type: 1, key: 'slots', limit: 1 })).status).toBe(200);
    await submit(gated('first'));
    await submit(gated('second'));

    await page.goto(`${runtime().url}#workflows=&namespace=team-ui`);
    await page.getByLabel('Token').fill(runtime().token!);
    await page.keyboard.press('Enter');
    const second = page.locator('#workflows tr[data-name="second"]');
    await expect.poll(() => second.locator('td').allTextContents(), { timeout: 10_000 }).toEqual([
      'second',
      'Pending',
      '0',
      expect.stringMatching(/^\d+s$/),
      'Waiting for team-ui/Database/slots lock (sem/team-ui/slots). Lock status: 1/1',
    ]);
    expect(await page.locator('#workflows tr[data-name="first"] td').nth(1).textContent()).toBe('Running');
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Workflows');
    await page.screenshot({ path: screenshotPath('workflows-page.png'), fullPage: true });

    await second.getByRole('link', { name: 'second' }).click();
    await expect.poll(() => page.locator('#workflow-sync li').allTextContents()).toEqual(['waits for semaphore team-ui/Database/slots (held by team-ui/first)']);
    expect(await page.locator('#workflow-title').textContent()).toBe('team-ui/second');
    expect(await page.locator('#workflow-phase').textContent()).toBe('Pending');

    await gates.open('team-ui', 'first');
    await expect.poll(() => page.locator('#workflow-sync li').allTextContents(), { timeout: 10_000 }).toEqual(['holds semaphore team-ui/Database/slots (team-ui/second)']);
    expect(await page.locator('#workflow-phase').textContent()).toBe('Running');
    await page.getByRole('button', { name: 'Terminate' }).click();
    await expect.poll(() => page.locator('#workflow-phase').textContent(), { timeout: 10_000 }).toBe('Failed');
    expect(await page.locator('#workflow-message').textContent()).toBe("Stopped with strategy 'Terminate'");
    expect(await page.getByRole('button', { name: 'Terminate' }).isDisabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it("shows a steps workflow's node tree with outputs", async () => {
    await submit({
      metadata: { name: 'tree' },
      spec: {
        entrypoint: 'main',
        templates: [
          { name: 'main', steps: [[{ name: 'hello', template: 'echo' }], [{ name: 'world', template: 'echo' }]] },
          { name: 'echo', container: { image: 'busybox', command: ['echo', 'hi'] } },
        ],
      },
    });
    await page.goto(`${runtime().url}#workflow=${encodeURIComponent('team-ui/tree')}`);
    await expect.poll(() => page.locator('#workflow-phase').textContent(), { timeout: 10_000 }).toBe('Succeeded');
    const root = page.locator('#workflow-nodes > ul.tree > li[data-node="tree"]');
    await root.waitFor();
    expect(await root.locator('li[data-node="hello"] > span').textContent()).toBe('hello Succeeded');
    expect(await root.locator('li[data-node="hello"] > small').textContent()).toContain('result: hi');
    expect(await root.locator('li[data-node="world"]').count()).toBe(1);
    expect(await root.locator(':scope > ul > li').evaluateAll((items) => items.map((item) => item.getAttribute('data-node')))).toEqual(['[0]', '[1]']);
    await page.screenshot({ path: screenshotPath('workflow-page.png'), fullPage: true });
  });

  it('lists archived workflows and deletes one from the archive', async () => {
    await page.locator('nav a', { hasText: 'Archive' }).click();
    const archived = page.locator('#archive tr', { hasText: 'tree' });
    await expect.poll(() => archived.count(), { timeout: 10_000 }).toBe(1);
    expect(await archived.locator('td').nth(1).textContent()).toBe('team-ui');
    expect(await archived.locator('td').nth(2).textContent()).toBe('Succeeded');
    await page.screenshot({ path: screenshotPath('archive-page.png'), fullPage: true });
    await archived.getByRole('button', { name: 'Delete archived tree' }).click();
    await expect.poll(() => archived.count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
