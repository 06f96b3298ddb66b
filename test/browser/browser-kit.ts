/**
 * Browser tests' kit: the real server in-process on a loopback port, with the demo data seeded
 * (and its keys saved in DATA_DIR/demo-keys.json, as a first `npm start` does), and one headless
 * Debian Chromium per test file driven by playwright-core. Requests that leave the loopback
 * interface are refused and recorded, so a page that needs a CDN fails its test.
 *
 * If Chromium cannot be launched (not installed: `apt-get install -y chromium`, which .ci/run
 * does), the tests skip and say why; a launch that works but a page that fails is a failure.
 * Screenshots go to test-results/browser/ (ignored by git) for a failing run to be looked at.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
// The harness (and so the app) loads before the seed: the seed's services import in that order.
import { databaseKind, startHarness, type Harness } from '../harness.js';
import { createLogger } from '../../src/logger.js';
import { seedDemoData, type DemoKeys } from '../../src/seed.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const SCREENSHOTS = path.resolve('test-results/browser');

/** The browser, or why it cannot run here (the tests then skip with that message). */
export async function launchChromium(): Promise<{ browser: Browser } | { skip: string }> {
  if (!fs.existsSync(CHROMIUM)) return { skip: `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium; .ci/run does this)` };
  try {
    return { browser: await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 }) };
  } catch (error) {
    return { skip: `Chromium at ${CHROMIUM} could not be launched: ${(error as Error).message.split('\n')[0]}` };
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A browser context that may only reach loopback; `blocked` lists what it tried elsewhere. */
export async function loopbackOnlyContext(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) return route.continue();
    blocked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  return { context, blocked };
}

export interface BrowserServer {
  harness: Harness;
  base: string;
  keys: DemoKeys;
  dataDir: string;
  close(): Promise<void>;
}

/** The app with demo data on 127.0.0.1:<free port>, live events on. */
export async function startDemoServer(env: Record<string, string> = {}): Promise<BrowserServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-browser-'));
  const harness = await startHarness({ LIVE_EVENTS: 'true', EVENT_POLL_MS: '200', DATA_DIR: dataDir, DEMO_PAGE: 'true', ...env });
  const seeded = await seedDemoData(harness.db, createLogger({ logLevel: 'silent' }));
  fs.writeFileSync(path.join(dataDir, 'demo-keys.json'), JSON.stringify(seeded.keys));
  const url = await harness.app.listen(0, '127.0.0.1');
  return {
    harness,
    base: new URL(url).origin,
    keys: seeded.keys,
    dataDir,
    close: async () => {
      await harness.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Browser tests run once, on the embedded database: the demo data would otherwise land in the run's shared Postgres database. */
export const browserTestsSkipped = () => (databaseKind() === 'postgres' ? 'browser tests run on the embedded database only' : undefined);

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

export type { Browser, BrowserContext, Page };
