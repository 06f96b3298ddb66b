/**
 * GraphiQL in a real browser with no network but loopback: it loads from this server (no CDN),
 * the Docs pane lists Query (introspection passes the limits in development), the starter query
 * runs, and a subscription authenticated only by the Headers tab (GraphiQL sends an empty
 * connection_init and the headers in the subscribe message's extensions) receives the user's
 * confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsSkipped, launchChromium, loopbackOnlyContext, screenshot, startDemoServer, type Browser, type BrowserServer, type Page } from './browser-kit.js';

const launched = browserTestsSkipped() ? { skip: browserTestsSkipped()! } : await launchChromium();
if ('skip' in launched) console.warn(`[browser] skipping the GraphiQL tests: ${launched.skip}`);

/** The text of GraphiQL's result pane (a Monaco editor: lines are rendered as divs). */
const resultText = async (page: Page) => (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');

describe.skipIf('skip' in launched)('GraphiQL at /graphql', () => {
  const browser = (launched as { browser: Browser }).browser;
  let server: BrowserServer;

  beforeAll(async () => {
    server = await startDemoServer();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads offline, lists Query in the Docs pane and runs the starter query', async () => {
    const { context, blocked } = await loopbackOnlyContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/graphql`);
      await page.locator('.graphiql-execute-button').waitFor();
      // Two starter tabs: the public feed and the signed-in walk-through.
      await expect.poll(() => page.locator('.graphiql-tab').count()).toBe(2);
      await page.locator('.graphiql-execute-button').click();
      await expect.poll(() => resultText(page), { timeout: 15_000 }).toContain('"name": "Blue Bottle Coffee"');
      expect(await resultText(page)).not.toContain('"errors"');

      await page.getByLabel('Show Documentation Explorer').click();
      await expect.poll(() => page.locator('.graphiql-doc-explorer').innerText(), { timeout: 15_000 }).toContain('Query');
      await expect.poll(() => page.locator('.graphiql-doc-explorer a', { hasText: /^Query$/ }).count()).toBeGreaterThan(0);
      await screenshot(page, 'graphiql');
      expect(blocked).toEqual([]);
    } catch (error) {
      await screenshot(page, 'graphiql-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });

  it('runs a subscription with the user token from the Headers tab and receives the confirmation', async () => {
    const h = server.harness;
    const merchant = await h.newMerchant();
    const locationId = await h.newLocation(merchant.key, { mids: [{ network: 'VISA', mid: `GQL-${Date.now()}` }] });
    const offerId = await h.newOffer(merchant.key, { locationIds: [locationId] });
    const user = await h.newUser();
    const card = await h.linkCard(user.token);
    const mids = await h.db.selectFrom('location_mids').select('mid').execute();
    const mid = mids.find((m) => m.mid.startsWith('GQL-'))!.mid;

    const { context, blocked } = await loopbackOnlyContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/graphql`);
      await page.locator('.graphiql-execute-button').waitFor();
      // Replace the query with the subscription, and the headers with the user's token.
      const editors = page.locator('.graphiql-editor .monaco-editor');
      await page.locator('.graphiql-query-editor .monaco-editor').click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      // From where the log stands now: what happens after this point is delivered, however long registering takes.
      const cursor = (await h.gql('{ eventCursor }', {}, user.token)).data.eventCursor as string;
      await page.keyboard.insertText(`subscription Mine { purchaseConfirmations(after: ${JSON.stringify(cursor)}) { type status amount { formatted } } }`);
      await page.getByRole('button', { name: 'Headers' }).click();
      const headers = page.locator('.graphiql-editor-tool .monaco-editor').last();
      await headers.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${user.token}` }));
      expect(await editors.count()).toBeGreaterThan(0);
      await page.locator('.graphiql-execute-button').click();

      const partner = await h.newPartner();
      const res = await h.gql(
        'mutation($input: IngestTransactionsInput!) { ingestTransactions(input: $input) { results { outcome } userErrors { code } } }',
        { input: { transactions: [{ externalId: `gql-${Date.now()}`, type: 'CLEARING', cardNumber: card.number, network: 'VISA', mid, amount: 2500, currency: 'USD', occurredAt: new Date().toISOString() }] } },
        partner.key,
      );
      expect(res.data.ingestTransactions.results).toEqual([{ outcome: 'QUALIFIED' }]);
      expect(offerId).toBeTruthy();
      await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain('CONFIRMED');
      expect(await resultText(page)).toContain('$2.50');
      await screenshot(page, 'graphiql-subscription');
      expect(blocked).toEqual([]);
    } catch (error) {
      await screenshot(page, 'graphiql-subscription-failure').catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }
  });
});
