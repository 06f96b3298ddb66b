import { Migrator, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../../db/migrations/index.js';
import {
  ActivatePartnerDocument,
  CreatePartnerDocument,
  IssuePartnerKeyDocument,
  PartnersPageDocument,
  PartnerViewerDocument,
  RevokeKeyDocument,
  SuspendPartnerDocument,
} from '../../../schema/generated/graphql.js';
import { daysAgo, item, newShop, newShopper } from '../../../test/cashback-fixtures.js';
import { codes, dbId, startHarness, unique, type Harness } from '../../../test/harness.js';
import { openDatabase } from '../../database.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { issueDueStatementCredits } from '../cashback/cashback.service.js';

/** Stable fields only: a replay must answer exactly these again. */
const INGEST = `mutation($input: IngestTransactionsInput!) {
  ingestTransactions(input: $input) {
    results { externalId outcome reason errors { field code } transaction { id } cashback { id amount { amount currency } } }
    userErrors { field code }
  }
}`;
const TRANSACTION = `query($id: ID!) { node(id: $id) { id ... on Transaction { externalId outcome } } }`;
const CREDITS = `{ statementCredits(first: 100) { edges { node { id status transactionExternalId } } } }`;
const SETTLE = `mutation($input: SettleStatementCreditsInput!) {
  settleStatementCredits(input: $input) { credits { id status } userErrors { field code } }
}`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Partner { name status } ... on ApiKey { name } } }`;
const ANY = `{ partnerViewer { partner { id } } }`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function createPartner(name: string, scopes: string[]) {
  const res = await h.gql(CreatePartnerDocument, { input: { name, scopes: scopes as never } }, h.adminKey);
  expect(res.errors).toBeUndefined();
  return res.data!.createPartner;
}

async function issueKey(input: Record<string, unknown>, key: string | null = h.adminKey) {
  const res = await h.gql(IssuePartnerKeyDocument, { input: { name: unique('key'), role: 'PARTNER', ...input } as never }, key);
  expect(res.errors).toBeUndefined();
  return res.data!.createApiKey;
}

async function revoke(apiKeyId: string) {
  const res = await h.gql(RevokeKeyDocument, { input: { apiKeyId } }, h.adminKey);
  expect(res.data!.revokeApiKey.userErrors).toEqual([]);
}

async function ingestAs(key: string, transactions: Record<string, unknown>[], idempotencyKey?: string) {
  const res = await h.gql(INGEST, { input: { transactions, idempotencyKey } }, key);
  expect(res.errors).toBeUndefined();
  return res.data.ingestTransactions;
}

describe('createPartner', () => {
  it('creates an ACTIVE partner with its scopes, once each', async () => {
    const name = unique('Visa network');
    const { partner, userErrors } = await createPartner(name, ['TRANSACTIONS_WRITE', 'CREDITS_WRITE', 'TRANSACTIONS_WRITE']);
    expect(userErrors).toEqual([]);
    expect(partner).toMatchObject({ name, status: 'ACTIVE' });
    expect([...partner!.scopes].sort()).toEqual(['CREDITS_WRITE', 'TRANSACTIONS_WRITE']);
    const row = await h.db.selectFrom('partners').selectAll().where('id', '=', dbId(partner!.id)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name, status: 'ACTIVE' });
    expect([...row.scopes].sort()).toEqual(['credits:write', 'transactions:write']);
  });

  it('refuses a bad name and callers that are not admins, and writes nothing', async () => {
    const empty = await createPartner('  ', []);
    expect(empty.partner).toBeNull();
    expect(codes(empty.userErrors)).toEqual([{ code: 'INVALID_LENGTH', field: ['name'] }]);
    expect(codes((await createPartner('p'.repeat(121), [])).userErrors)).toEqual([{ code: 'INVALID_LENGTH', field: ['name'] }]);
    const merchant = await h.newMerchant();
    const partner = await h.newPartner();
    const names = [];
    for (const [key, code] of [[null, 'UNAUTHENTICATED'], [merchant.key, 'FORBIDDEN'], [partner.key, 'FORBIDDEN']] as const) {
      const name = unique('sneaky');
      names.push(name);
      const res = await h.gql(CreatePartnerDocument, { input: { name, scopes: [] } }, key);
      expect(res.data!.createPartner).toEqual({ partner: null, userErrors: [expect.objectContaining({ code, field: null })] });
    }
    expect(await h.db.selectFrom('partners').select('id').where('name', 'in', [...names, 'p'.repeat(121), '', '  ']).execute()).toEqual([]);
  });
});

describe('keys of a partner', () => {
  it('a key holds its partner scopes, or narrows them; it cannot add one', async () => {
    const { partner } = await createPartner(unique('Processor'), ['TRANSACTIONS_WRITE', 'CREDITS_WRITE']);
    const full = await issueKey({ partnerId: partner!.id });
    expect(full.userErrors).toEqual([]);
    expect(full.apiKey).toMatchObject({ role: 'PARTNER', partner: { id: partner!.id }, revokedAt: null });
    expect([...full.apiKey!.scopes].sort()).toEqual(['CREDITS_WRITE', 'TRANSACTIONS_WRITE']);
    const row = await h.db.selectFrom('api_keys').selectAll().where('id', '=', dbId(full.apiKey!.id)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ partner_id: dbId(partner!.id), scopes: null });

    const narrow = await issueKey({ partnerId: partner!.id, scopes: ['TRANSACTIONS_WRITE'] });
    expect(narrow.apiKey!.scopes).toEqual(['TRANSACTIONS_WRITE']);
    // The narrowed key may ingest but not settle credits.
    const settle = await h.gql(SETTLE, { input: { credits: [{ id: encodeGlobalId('StatementCredit', crypto.randomUUID()), status: 'ISSUED' }] } }, narrow.secret);
    expect(codes(settle.data.settleStatementCredits.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    const ingestOk = await ingestAs(narrow.secret!, [item({ mid: unique('NOMID') }, '4242424242424242')]);
    expect(ingestOk.results[0].outcome).toBe('NOT_QUALIFIED');

    const beyond = await issueKey({ partnerId: partner!.id, scopes: ['TRANSACTIONS_WRITE', 'POSTS_WRITE'] });
    expect(beyond.apiKey).toBeNull();
    expect(beyond.secret).toBeNull();
    expect(codes(beyond.userErrors)).toEqual([{ code: 'SCOPE_NOT_HELD', field: ['scopes'] }]);
  });

  it('refuses a PARTNER key without a partner, with an unknown or malformed one, and a partner on another role', async () => {
    const missing = encodeGlobalId('Partner', '00000000-0000-4000-8000-000000000000');
    expect(codes((await issueKey({})).userErrors)).toEqual([{ code: 'INVALID_INPUT', field: ['partnerId'] }]);
    expect(codes((await issueKey({ partnerId: missing })).userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['partnerId'] }]);
    expect(codes((await issueKey({ partnerId: 'nope' })).userErrors)).toEqual([{ code: 'INVALID_ID', field: ['partnerId'] }]);
    const merchant = await h.newMerchant();
    expect(codes((await issueKey({ partnerId: merchant.id })).userErrors)).toEqual([{ code: 'INVALID_ID', field: ['partnerId'] }]);
    const { id: partnerId } = await h.newPartner();
    expect(codes((await issueKey({ role: 'ADMIN', partnerId })).userErrors)).toEqual([{ code: 'INVALID_INPUT', field: ['partnerId'] }]);
  });
});

describe('rotating a key', () => {
  it('keeps the partner transactions, credits and idempotency replays: ingest with key A, issue key B, revoke A, carry on with B', async () => {
    const { partner } = await createPartner(unique('Rotating network'), ['TRANSACTIONS_WRITE', 'CREDITS_WRITE']);
    const keyA = await issueKey({ partnerId: partner!.id });
    // A purchase old enough for its statement credit to be due, and a fresh one.
    const shop = await newShop(h, { returnPeriodDays: 7, startsAt: daysAgo(20) });
    const shopper = await newShopper(h);
    const old = item(shop, shopper.card.number, { type: 'CLEARING', amount: 10_000, occurredAt: daysAgo(10) });
    const fresh = item(shop, shopper.card.number, { amount: 5_000 });
    const first = await ingestAs(keyA.secret!, [old, fresh], 'rotation-batch-1');
    expect(first.results.map((r: { outcome: string }) => r.outcome)).toEqual(['QUALIFIED', 'QUALIFIED']);
    await issueDueStatementCredits(h.db, new Date());
    const creditsBefore = (await h.gql(CREDITS, {}, keyA.secret)).data.statementCredits.edges.map((e: { node: unknown }) => e.node);
    expect(creditsBefore).toEqual([{ id: expect.any(String), status: 'PENDING', transactionExternalId: old.externalId }]);

    // Rotation: the admin issues key B, then revokes key A.
    const keyB = await issueKey({ partnerId: partner!.id });
    await revoke(keyA.apiKey!.id);
    expect((await h.gql(ANY, {}, keyA.secret)).status).toBe(401);

    // Key B reads the same transactions and credits.
    for (const r of first.results) {
      expect((await h.gql(TRANSACTION, { id: r.transaction.id }, keyB.secret)).data.node).toEqual({
        id: r.transaction.id,
        externalId: r.externalId,
        outcome: 'QUALIFIED',
      });
    }
    expect((await h.gql(CREDITS, {}, keyB.secret)).data.statementCredits.edges.map((e: { node: unknown }) => e.node)).toEqual(creditsBefore);

    // …settles the credit…
    const creditId = (creditsBefore[0] as { id: string }).id;
    const settled = await h.gql(SETTLE, { input: { credits: [{ id: creditId, status: 'ISSUED', reference: 'rot-1' }] } }, keyB.secret);
    expect(settled.data.settleStatementCredits).toEqual({ credits: [{ id: creditId, status: 'ISSUED' }], userErrors: [] });
    expect((await h.db.selectFrom('cashbacks').select('status').where('id', '=', dbId(first.results[0].cashback.id)).executeTakeFirstOrThrow()).status).toBe('CREDITED');

    // …replays key A's idempotency key and gets the first answer, and a re-sent item is a DUPLICATE.
    expect(await ingestAs(keyB.secret!, [old, fresh], 'rotation-batch-1')).toEqual(first);
    const again = await ingestAs(keyB.secret!, [fresh]);
    expect(again.results[0]).toMatchObject({ outcome: 'DUPLICATE', transaction: { id: first.results[1].transaction.id } });

    // One partner owns both purchases, once each.
    const rows = await h.db.selectFrom('transactions').select(['partner_id', 'external_id']).where('external_id', 'in', [old.externalId, fresh.externalId]).execute();
    expect(rows.map((r) => r.partner_id)).toEqual([dbId(partner!.id), dbId(partner!.id)]);
  });
});

describe('suspending a partner', () => {
  it('stops every one of its keys at once and starts them again on reactivation (a revoked key stays revoked)', async () => {
    const partner = await h.newPartner();
    const second = await h.newPartnerKey(partner.id);
    const revoked = await h.newPartnerKey(partner.id);
    await revoke(revoked.keyId);
    const other = await h.newPartner();

    const suspended = await h.gql(SuspendPartnerDocument, { input: { partnerId: partner.id } }, h.adminKey);
    expect(suspended.data!.suspendPartner).toEqual({ partner: { id: partner.id, status: 'SUSPENDED' }, userErrors: [] });
    for (const key of [partner.key, second.key]) {
      const res = await h.gql(ANY, {}, key);
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect((await h.gql(ANY, {}, other.key)).data).toEqual({ partnerViewer: { partner: { id: other.id } } });
    // Suspending twice is harmless; no new key for a suspended partner.
    expect((await h.gql(SuspendPartnerDocument, { input: { partnerId: partner.id } }, h.adminKey)).data!.suspendPartner.userErrors).toEqual([]);
    expect(codes((await issueKey({ partnerId: partner.id })).userErrors)).toEqual([{ code: 'PARTNER_SUSPENDED', field: ['partnerId'] }]);

    const active = await h.gql(ActivatePartnerDocument, { input: { partnerId: partner.id } }, h.adminKey);
    expect(active.data!.activatePartner).toEqual({ partner: { id: partner.id, status: 'ACTIVE' }, userErrors: [] });
    for (const key of [partner.key, second.key]) expect((await h.gql(ANY, {}, key)).data).toEqual({ partnerViewer: { partner: { id: partner.id } } });
    expect((await h.gql(ANY, {}, revoked.key)).status).toBe(401);
  });

  it('is for admins only, and answers unknown or malformed partners', async () => {
    const partner = await h.newPartner();
    const byPartner = await h.gql(SuspendPartnerDocument, { input: { partnerId: partner.id } }, partner.key);
    expect(codes(byPartner.data!.suspendPartner.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    const missing = encodeGlobalId('Partner', '00000000-0000-4000-8000-000000000000');
    expect(codes((await h.gql(SuspendPartnerDocument, { input: { partnerId: missing } }, h.adminKey)).data!.suspendPartner.userErrors)).toEqual([
      { code: 'NOT_FOUND', field: ['partnerId'] },
    ]);
    expect(codes((await h.gql(ActivatePartnerDocument, { input: { partnerId: 'x' } }, h.adminKey)).data!.activatePartner.userErrors)).toEqual([
      { code: 'INVALID_ID', field: ['partnerId'] },
    ]);
    expect((await h.db.selectFrom('partners').select('status').where('id', '=', dbId(partner.id)).executeTakeFirstOrThrow()).status).toBe('ACTIVE');
  });
});

describe('who sees a partner', () => {
  it('partnerViewer: a partner key sees its partner and all of its keys, never their secrets; anyone else null', async () => {
    const name = unique('Viewer network');
    const { partner } = await createPartner(name, ['CREDITS_WRITE']);
    const a = await issueKey({ partnerId: partner!.id, name: 'key A' });
    const b = await issueKey({ partnerId: partner!.id, name: 'key B' });
    await revoke(a.apiKey!.id);
    const res = await h.gql(PartnerViewerDocument, {}, b.secret);
    expect(res.data!.partnerViewer).toEqual({
      partner: { id: partner!.id, name, scopes: ['CREDITS_WRITE'], status: 'ACTIVE' },
      keys: [
        { id: a.apiKey!.id, name: 'key A', prefix: a.apiKey!.prefix, createdAt: expect.any(String), revokedAt: expect.any(String) },
        { id: b.apiKey!.id, name: 'key B', prefix: b.apiKey!.prefix, createdAt: expect.any(String), revokedAt: null },
      ],
    });
    expect(JSON.stringify(res.data)).not.toContain(b.secret!.slice(b.apiKey!.prefix.length));
    const merchant = await h.newMerchant();
    const user = await h.newUser();
    for (const key of [h.adminKey, merchant.key, user.token, null]) expect((await h.gql(PartnerViewerDocument, {}, key)).data).toEqual({ partnerViewer: null });
  });

  it('node: admins and the partner own keys see it (and its keys); other partners, merchants, users and anonymous callers do not', async () => {
    const partner = await h.newPartner();
    const sibling = await h.newPartnerKey(partner.id);
    const other = await h.newPartner();
    const merchant = await h.newMerchant();
    const user = await h.newUser();
    expect((await h.gql(NODE, { id: partner.id }, h.adminKey)).data.node).toMatchObject({ id: partner.id, status: 'ACTIVE' });
    expect((await h.gql(NODE, { id: partner.id }, partner.key)).data.node).toMatchObject({ id: partner.id });
    expect((await h.gql(NODE, { id: sibling.keyId }, partner.key)).data.node).toMatchObject({ id: sibling.keyId });
    for (const key of [other.key, merchant.key, user.token, null]) {
      expect((await h.gql(NODE, { id: partner.id }, key)).data.node).toBeNull();
      expect((await h.gql(NODE, { id: sibling.keyId }, key)).data.node).toBeNull();
    }
  });

  it('partners(first, after): admins page through every partner by name; anyone else gets an empty list', async () => {
    const prefix = unique('Paged');
    const made = [];
    for (const n of [3, 1, 2]) made.push((await createPartner(`${prefix} ${n}`, [])).partner!);
    const seen: { id: string; name: string }[] = [];
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const res: Awaited<ReturnType<typeof h.gql<import('../../../schema/generated/graphql.js').PartnersPageQuery>>> = await h.gql(
        PartnersPageDocument,
        { first: 50, after },
        h.adminKey,
      );
      seen.push(...res.data!.partners.edges.map((e) => e.node));
      if (!res.data!.partners.pageInfo.hasNextPage) break;
      after = res.data!.partners.pageInfo.endCursor!;
    }
    expect(seen.filter((p) => p.name.startsWith(prefix)).map((p) => p.name)).toEqual([`${prefix} 1`, `${prefix} 2`, `${prefix} 3`]);
    expect(new Set(seen.map((p) => p.id)).size).toBe(seen.length);
    const partner = await h.newPartner();
    for (const key of [partner.key, (await h.newMerchant()).key, null]) {
      expect((await h.gql(PartnersPageDocument, { first: 10 }, key)).data!.partners.edges).toEqual([]);
    }
  });
});

describe('migration 2026-12-02T0700_partners', () => {
  it('moves each existing partner key to a partner of its own, with its transactions and idempotency keys (on PGlite)', async () => {
    const database = await openDatabase({ memory: true });
    const db = database.db as unknown as Kysely<any>;
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('2026-12-02T0600_rate_limits')).error).toBeUndefined();
      const [key, revoked, admin] = (await db
        .insertInto('api_keys')
        .values([
          { name: 'Acme processor', role: 'PARTNER', scopes: ['transactions:write', 'credits:write'], prefix: 'hbk_aaaaaa', secret_hash: 'a'.repeat(64) },
          { name: 'Old network key', role: 'PARTNER', scopes: ['posts:write'], prefix: 'hbk_bbbbbb', secret_hash: 'b'.repeat(64), revoked_at: new Date() },
          { name: 'An admin', role: 'ADMIN', prefix: 'hbk_cccccc', secret_hash: 'c'.repeat(64) },
        ])
        .returning('id')
        .execute()) as [{ id: string }, { id: string }, { id: string }];
      const tx = (partnerKeyId: string, externalId: string) => ({
        id: crypto.randomUUID(), partner_key_id: partnerKeyId, external_id: externalId, type: 'AUTH', network: 'VISA', mid: 'M1',
        amount: 100, currency: 'USD', occurred_at: new Date(), outcome: 'NOT_QUALIFIED', reason: 'CARD_NOT_LINKED',
      });
      await db.insertInto('transactions').values([tx(key.id, 'e-1'), tx(key.id, 'e-2'), tx(revoked.id, 'e-1')]).execute();
      await db
        .insertInto('idempotency_keys')
        .values([
          { principal: `key:${key.id}`, key: 'k1', operation: 'ingestTransactions', request_hash: 'h', response: '[]' },
          { principal: `key:${admin.id}`, key: 'k1', operation: 'createMerchant', request_hash: 'h', response: '[]' },
        ])
        .execute();

      expect((await migrator.migrateTo('2026-12-02T0700_partners')).error).toBeUndefined();
      const partners = await db.selectFrom('partners').selectAll().orderBy('name').execute();
      expect(partners.map((p) => ({ id: p.id, name: p.name, scopes: p.scopes, status: p.status }))).toEqual([
        { id: key.id, name: 'Acme processor', scopes: ['transactions:write', 'credits:write'], status: 'ACTIVE' },
        { id: revoked.id, name: 'Old network key', scopes: ['posts:write'], status: 'ACTIVE' },
      ]);
      const keys = await db.selectFrom('api_keys').select(['id', 'partner_id', 'scopes']).orderBy('name').execute();
      expect(keys).toEqual([
        { id: key.id, partner_id: key.id, scopes: null },
        { id: admin.id, partner_id: null, scopes: [] },
        { id: revoked.id, partner_id: revoked.id, scopes: null },
      ]);
      const txs = await db.selectFrom('transactions').select(['partner_id', 'external_id']).orderBy('external_id').orderBy('partner_id').execute();
      expect(txs).toEqual(
        [
          { partner_id: key.id, external_id: 'e-1' },
          { partner_id: revoked.id, external_id: 'e-1' },
          { partner_id: key.id, external_id: 'e-2' },
        ].sort((x, y) => x.external_id.localeCompare(y.external_id) || x.partner_id.localeCompare(y.partner_id)),
      );
      const principals = (await db.selectFrom('idempotency_keys').select('principal').execute()).map((r) => r.principal).sort();
      expect(principals).toEqual([`key:${admin.id}`, `partner:${key.id}`].sort());
      // (partner, external id) stays unique.
      await expect(db.insertInto('transactions').values({ ...tx(key.id, 'e-1'), partner_key_id: undefined, partner_id: key.id }).execute()).rejects.toThrow(
        /transactions_partner_external_id_key/,
      );

      // And back down: each partner's records return to its first key.
      expect((await migrator.migrateTo('2026-12-02T0600_rate_limits')).error).toBeUndefined();
      const back = await db.selectFrom('transactions').select(['partner_key_id', 'external_id']).where('external_id', '=', 'e-2').execute();
      expect(back).toEqual([{ partner_key_id: key.id, external_id: 'e-2' }]);
      expect((await db.selectFrom('idempotency_keys').select('principal').where('key', '=', 'k1').execute()).map((r) => r.principal).sort()).toEqual(
        [`key:${admin.id}`, `key:${key.id}`].sort(),
      );
    } finally {
      await database.close();
    }
  });
});
