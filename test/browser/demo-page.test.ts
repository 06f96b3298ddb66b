/**
 * The demo timeline in a real browser: sign up, link a sandbox card, Get Offer on the seeded post,
 * simulate a purchase (the server plays the card partner with its demo key), and the cashback
 * arrives live over graphql-ws with its confirmation e-mail. Nothing leaves loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsSkipped, launchChromium, loopbackOnlyContext, screenshot, startDemoServer, type Browser, type BrowserServer } from './browser-kit.js';

const launched = browserTestsSkipped() ? { skip: browserTestsSkipped()! } : await launchChromium();
if ('skip' in launched) console.warn(`[browser] skipping the demo page tests: ${launched.skip}`);

describe.skipIf('skip' in launched)('demo page at /demo', () => {
  const browser = (launched as { browser: Browser }).browser;
  let server: BrowserServer;

  beforeAll(async () => {
    server = await startDemoServer();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs up, links a card, gets the offer, simulates a purchase and shows the cashback arriving live', async () => {
    const { context, blocked } = await loopbackOnlyContext(browser);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(`${server.base}/demo`);
      // The seeded post carries its offer, with a Get Offer button.
      const post = page.locator('.post', { hasText: 'Mornings are better with 15% back' });
      await expect.poll(() => post.count()).toBe(1);
      await expect.poll(() => post.locator('.offer-title').textContent()).toBe('15% back on your morning coffee');
      await expect.poll(() => page.locator('#live-status').getAttribute('data-state')).toBe('live');

      // Sign up.
      const email = `ada-${Date.now()}@example.com`;
      await page.fill('#email', email);
      await page.click('#auth-submit');
      await expect.poll(() => page.locator('#viewer-email').textContent()).toBe(email);

      // Get Offer before a card is linked: the API says to link one first.
      await post.locator('[data-action=get-offer]').click();
      await expect.poll(() => page.locator('#toast').textContent()).toContain('Link a card first');

      // Link a sandbox card.
      await page.click('#test-card');
      expect(await page.inputValue('#card-number')).toMatch(/^4\d{3} \d{4} \d{4} \d{4}$/);
      await page.click('#link-card');
      await expect.poll(() => page.locator('#cards li').textContent()).toMatch(/^VISA •••• \d{4}/);

      // Get Offer.
      await post.locator('[data-action=get-offer]').click();
      await expect.poll(() => post.locator('[data-action=get-offer]').textContent()).toBe('✓ Offer saved');
      const user = await server.harness.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
      const activations = await server.harness.db.selectFrom('activations').select('offer_id').where('user_id', '=', user.id).execute();
      expect(activations).toHaveLength(1);

      // Simulate a $42.00 purchase: 15% is $6.30, confirmed at once (a CLEARING).
      await post.locator('[data-action=simulate]').click();
      const confirmation = page.locator('#confirmations li[data-status=CONFIRMED]');
      await expect.poll(() => confirmation.count(), { timeout: 10_000 }).toBe(1);
      expect(await confirmation.textContent()).toContain('$6.30 cashback at Blue Bottle Coffee');
      await expect.poll(() => page.locator('#emails li').first().textContent()).toContain('$6.30');

      const cashback = await server.harness.db.selectFrom('cashbacks').select(['status', 'amount']).where('user_id', '=', user.id).execute();
      expect(cashback).toEqual([{ status: 'CONFIRMED', amount: 630 }]);
      await screenshot(page, 'demo-after-purchase');

      expect(blocked).toEqual([]);
      expect(pageErrors).toEqual([]);
      // The partner key never reaches the browser.
      const html = await page.content();
      expect(html).not.toContain(server.keys.partner);
    } catch (error) {
      await screenshot(page, 'demo-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });

  it('keeps the simulate endpoint behind a user token, a JSON body and the partner key on the server', async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${server.base}/demo/simulate-purchase`, { method: 'POST', headers, body });
    const anonymous = await post('{"offerId":"x","amount":100}', { 'content-type': 'application/json' });
    expect(anonymous.status).toBe(401);
    const form = await post('offerId=x&amount=100', { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer nope' });
    expect(form.status).toBe(415);
    const offerId = Buffer.from('Offer:00000000-0000-4000-8000-000000000000').toString('base64');
    const forged = await post(JSON.stringify({ offerId, amount: 100 }), { 'content-type': 'application/json', authorization: 'Bearer not-a-token' });
    expect(forged.status).toBe(401);
    const page = await fetch(`${server.base}/demo`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = await (await fetch(`${server.base}/demo/app.js`)).text();
    expect(script).not.toContain(server.keys.partner);
    const client = await fetch(`${server.base}/demo/vendor/graphql-ws/client.js`);
    expect(client.status).toBe(200);
    expect(await fetch(`${server.base}/demo/vendor/graphql-ws/../package.json`).then((r) => r.status)).toBe(404);
  });
});
