// Test support: Debian's Chromium driven by playwright-core (never a downloaded browser), and screenshots of pages.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_AVAILABLE } from './chromium-path.js';

export { CHROMIUM, CHROMIUM_AVAILABLE };
/** The flags DESIGN.md gives for this machine: headless, as root, and no calls to Google's hosts. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

if (!CHROMIUM_AVAILABLE) {
  if (process.env['LABLOG_REQUIRE_CHROMIUM'] === '1')
    throw new Error(`LABLOG_REQUIRE_CHROMIUM=1 but there is no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  console.warn(`No Chromium at ${CHROMIUM} (apt-get install -y chromium): the browser tests are SKIPPED.`);
}

/** Where tests save their screenshots (gitignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  // playwright gives every launch a new, empty profile directory of its own.
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** A page of a fresh context, with the browser's console errors and failed requests collected. */
export async function openPage(browser: Browser, viewport = { width: 1400, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
