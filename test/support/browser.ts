import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs; UI suites skip with this message when it is missing. */
export const CHROMIUM = process.env.ARGOSYNC_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_MISSING = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install Debian's chromium package (or set ARGOSYNC_CHROMIUM)`;

/** Headless Chromium with the flags this sandboxed, offline machine needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that trusts the runtime's self-signed certificate and records every page error and console error. */
export async function openPage(browser: Browser): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  return { page, pageErrors };
}

/**
 * Where a UI test saves its screenshot: the README's pictures in `docs/` when ARGOSYNC_UPDATE_SCREENSHOTS=1,
 * else one folder in the temporary directory that each run overwrites, so an ordinary test run leaves the working
 * tree as it found it and litters nothing.
 */
export function screenshotPath(name: string): string {
  const folder = process.env.ARGOSYNC_UPDATE_SCREENSHOTS === '1' ? 'docs' : join(tmpdir(), 'argosync-screenshots');
  mkdirSync(folder, { recursive: true });
  return join(folder, name);
}
