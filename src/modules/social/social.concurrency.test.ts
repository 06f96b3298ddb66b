/**
 * Buying by hashtag under concurrency and faults, through ingestPosts on real Postgres (PGlite
 * runs one transaction at a time and has one process, so it cannot show these properties):
 * many buyers racing for a small stock, one confirmation delivered many times at once, and a
 * server killed (SIGKILL) between the gateway's charge and the order.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { apiFixtures, databaseKind, dbId, httpGql, startHarness, type Harness } from '../../../test/harness.js';
import { startServerProcess, type ServerProcess } from '../../../test/server-process.js';
import { useScratchDatabase } from '../../../test/scratch-database.js';
import { INGEST, socialFixtures, token } from './social-fixtures.js';
import { encryptCardNumber, fingerprintCardNumber } from '../cards/card-crypto.js';
import { randomCardNumber } from '../cards/card-number.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { issueToken } from '../users/users.service.js';

describe.runIf(databaseKind() === 'postgres')('buying by hashtag at once (Postgres)', () => {
  let h: Harness;
  let s: ReturnType<typeof socialFixtures>;
  let partner: { id: string; key: string };

  beforeAll(async () => {
    h = await startHarness({}, { poolSize: 20 });
    s = socialFixtures(h.gql, h);
    partner = await h.newPartner(['POSTS_WRITE']);
  });
  afterAll(() => h?.close());

  /** `n` users with a linked (sealed, approving) card and a verified X handle, written directly: the race is what is tested. */
  async function verifiedHandles(n: number): Promise<{ handle: string; userId: string }[]> {
    const handles: { handle: string; userId: string }[] = [];
    await h.db.transaction().execute(async (trx) => {
      for (let i = 0; i < n; i++) {
        const handle = token('r');
        const user = await trx
          .insertInto('users')
          .values({ email: `${handle}@example.com`, email_key: `${handle}@example.com`, password_hash: 'not-a-hash', display_name: 'Racer', country: 'US' })
          .returning('id')
          .executeTakeFirstOrThrow();
        const number = randomCardNumber();
        const sealed = encryptCardNumber(h.security.cards.ring, number);
        await trx
          .insertInto('cards')
          .values({
            user_id: user.id,
            network: 'VISA',
            first6: number.slice(0, 6),
            last4: number.slice(-4),
            exp_month: 12,
            exp_year: new Date().getUTCFullYear() + 2,
            fingerprint: fingerprintCardNumber(h.security.cards.fingerprintKey, number),
            key_id: sealed.keyId,
            ciphertext: sealed.ciphertext,
          })
          .execute();
        await trx.insertInto('social_accounts').values({ user_id: user.id, platform: 'X', handle, status: 'VERIFIED', verified_at: new Date() }).execute();
        handles.push({ handle, userId: user.id });
      }
    });
    return handles;
  }

  it('sells exactly the stock to 200 buyers posting at once: 10 intents and then 10 orders, 190 SOLD_OUT, never oversold', { timeout: 120_000 }, async () => {
    const offer = await s.purchaseOffer({ quantity: 10 });
    const buyers = await verifiedHandles(200);
    const results = await Promise.all(buyers.map(async ({ handle }) => (await s.deliver(partner.key, [s.post(handle, `${offer.buy} now`)]))[0]!));
    const tally = (outcome: string, reason: string | null) => results.filter((r) => r.outcome === outcome && r.reason === reason).length;
    expect([tally('INTENT_CREATED', null), tally('REJECTED', 'SOLD_OUT')]).toEqual([10, 190]);
    const stock = await h.db.selectFrom('offers').select(['quantity_remaining', 'quantity_held']).where('id', '=', dbId(offer.offerId)).executeTakeFirstOrThrow();
    expect(stock).toEqual({ quantity_remaining: 0, quantity_held: 10 });
    const intents = await h.db.selectFrom('purchase_intents').select(['id', 'user_id']).where('offer_id', '=', dbId(offer.offerId)).execute();
    expect(intents).toHaveLength(10);

    // Each holder confirms in the app, all at once: ten orders, ten charges, the stock sold out.
    const CONFIRM = 'mutation($input: ConfirmPurchaseIntentInput!) { confirmPurchaseIntent(input: $input) { order { status } userErrors { code } } }';
    const confirmed = await Promise.all(
      intents.map(async (intent) =>
        h.gql(CONFIRM, { input: { intentId: encodeGlobalId('PurchaseIntent', intent.id) } }, await issueToken(h.security, intent.user_id)),
      ),
    );
    expect(confirmed.map((r) => r.data.confirmPurchaseIntent)).toEqual(Array.from({ length: 10 }, () => ({ order: { status: 'PAID' }, userErrors: [] })));
    const orders = await h.db.selectFrom('orders').select('id').where('offer_id', '=', dbId(offer.offerId)).execute();
    expect(orders).toHaveLength(10);
    const charges = await h.db.selectFrom('sandbox_charges').select('id').where('idempotency_key', 'in', intents.map((i) => i.id)).execute();
    expect(charges).toHaveLength(10);
    const after = await h.db.selectFrom('offers').select(['quantity_remaining', 'quantity_held']).where('id', '=', dbId(offer.offerId)).executeTakeFirstOrThrow();
    expect(after).toEqual({ quantity_remaining: 0, quantity_held: 0 });
  });

  it('charges once when one confirmation is delivered 20 times at once', { timeout: 60_000 }, async () => {
    const offer = await s.purchaseOffer();
    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, offer.buy)]);
    expect(buy!.outcome).toBe('INTENT_CREATED');
    const confirm = s.post(buyer.handle, offer.confirm, { inReplyToPostId: buy!.postId });
    const results = await Promise.all(Array.from({ length: 20 }, async () => (await s.deliver(partner.key, [confirm]))[0]!));
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes.filter((o) => o === 'ORDER_PLACED')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'DUPLICATE')).toHaveLength(19);
    const intent = await h.db.selectFrom('purchase_intents').select(['id', 'status']).where('user_id', '=', dbId(buyer.id)).executeTakeFirstOrThrow();
    expect(intent.status).toBe('CHARGED');
    expect(await h.db.selectFrom('sandbox_charges').select('id').where('idempotency_key', '=', intent.id).execute()).toHaveLength(1);
    expect(await h.db.selectFrom('orders').select('id').where('intent_id', '=', intent.id).execute()).toHaveLength(1);
  });
});

describe.runIf(databaseKind() === 'postgres')('a server killed between the charge and the order (Postgres: real processes)', () => {
  const scratch = useScratchDatabase('hashtag');
  const env = () => scratch.serverEnv({ JOBS: 'true', JOB_INTERVAL_MS: '50', LIVE_EVENTS: 'false' });

  it('charges once and places one order after a restart', { timeout: 90_000 }, async () => {
    const servers: ServerProcess[] = [];
    onTestFailed(() => {
      for (const server of servers) console.error(`--- server ${server.pid} ---\n${server.output()}`);
    });
    const first = await startServerProcess(env());
    servers.push(first);
    const api = apiFixtures(httpGql(first.url), scratch.adminKey);
    const s = socialFixtures(api.gql, api);
    const partner = await api.newPartner(['POSTS_WRITE']);
    const offer = await s.purchaseOffer();
    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, offer.buy)]);
    expect(buy!.outcome).toBe('INTENT_CREATED');

    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      const { rows: intents } = await client.query<{ id: string }>('select id from purchase_intents where buy_post_id = $1', [buy!.postId]);
      const intentId = intents[0]!.id;
      // Hold the offer row: the server charges, then waits here inside the transaction that
      // would write the order (it takes the sold unit off the offer).
      await client.query('begin');
      // (FOR NO KEY UPDATE: rows that merely reference the offer, like the post, still go in.)
      await client.query('select id from offers where id = $1 for no key update', [dbId(offer.offerId)]);
      const confirm = s.post(buyer.handle, offer.confirm);
      const answer = api.gql(INGEST, { input: { posts: [confirm] } }, partner.key).catch((error: unknown) => error);
      await vi.waitFor(
        async () => {
          const charges = await scratch.database.db.selectFrom('sandbox_charges').select('status').where('idempotency_key', '=', intentId).execute();
          expect(charges).toEqual([{ status: 'APPROVED' }]);
          // Asked on another connection: inside a transaction, pg_stat_activity is a snapshot.
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(
            scratch.database.db,
          );
          expect(rows[0]!.n).toBe(1);
        },
        { timeout: 30_000, interval: 50 },
      );
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      await client.query('rollback');
      expect(await answer).toBeInstanceOf(Error);
      expect(await scratch.database.db.selectFrom('orders').select('id').where('intent_id', '=', intentId).execute()).toEqual([]);

      // After the restart the payments queue settles the intent with the same key.
      const second = await startServerProcess(env());
      servers.push(second);
      await vi.waitFor(
        async () => {
          const intent = await scratch.database.db.selectFrom('purchase_intents').select('status').where('id', '=', intentId).executeTakeFirstOrThrow();
          expect(intent.status).toBe('CHARGED');
        },
        { timeout: 60_000, interval: 100 },
      );
      expect(await scratch.database.db.selectFrom('sandbox_charges').select('id').where('idempotency_key', '=', intentId).execute()).toHaveLength(1);
      expect(await scratch.database.db.selectFrom('orders').select(['status', 'amount']).where('intent_id', '=', intentId).execute()).toEqual([
        { status: 'PAID', amount: 1500 },
      ]);
      const stock = await scratch.database.db.selectFrom('offers').select(['quantity_remaining', 'quantity_held']).where('id', '=', dbId(offer.offerId)).executeTakeFirstOrThrow();
      expect(stock).toEqual({ quantity_remaining: 99, quantity_held: 0 });
    } finally {
      await client.end().catch(() => undefined);
    }
  });
});
