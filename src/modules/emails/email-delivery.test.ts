/**
 * E-mail delivery against a real SMTP server on loopback. Time is driven through `now`, on a
 * timeline in 2001: on Postgres every test file shares one database, and other files' e-mails
 * are due only from their real queuing time, so a delivery run here neither sends them nor waits
 * behind their backlog. Assertions still look only at this file's recipients and rows.
 */
import { randomUUID } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { Transaction } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB, EmailKind } from '../../../db/types.js';
import { dbId, startHarness, unique, type Harness } from '../../../test/harness.js';
import { createLogger } from '../../logger.js';
import { composeCashbackEmail } from './email-content.js';
import {
  createSmtpMailer,
  deliverDueEmails,
  describeError,
  messageIdOf,
  retryDelayMs,
  type DeliveryOptions,
  type DeliveryResult,
  type Mailer,
} from './email-delivery.js';
import { settleJob } from '../../jobs/queue.repository.js';
import { EMAIL_QUEUE, insertEmails } from './emails.service.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed: ${seed}`);

const SECOND = 1000;
/** When this file's e-mails are queued and delivered (see above). */
const PAST = new Date('2001-01-01T00:00:00Z');
const SMTP_PASSWORD = `pw-${randomUUID()}`;

// ---------------------------------------------------------------------------------------------
// The SMTP server: records every accepted message; refuses the next (or every) message to
// chosen recipients with a 451 that echoes the address, as real servers do.

interface Received {
  to: string[];
  raw: string;
}

const received: Received[] = [];
const refuseNext = new Set<string>();
const refuseAlways = new Set<string>();

const smtp = new SMTPServer({
  authOptional: true,
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth(auth, _session, callback) {
    callback(null, { user: auth.username });
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((a) => a.address);
      const refused = to.find((address) => refuseAlways.has(address) || refuseNext.delete(address));
      if (refused) {
        callback(Object.assign(new Error(`Mailbox <${refused}> busy, try again later`), { responseCode: 451 }));
        return;
      }
      received.push({ to, raw: Buffer.concat(chunks).toString('utf8') });
      callback();
    });
  },
});

const messagesTo = (recipient: string) => received.filter((m) => m.to.includes(recipient)).map(parseMessage);

/** Just enough MIME for what nodemailer sends here: unfolded headers, encoded words, QP/base64 text. */
function parseMessage({ raw }: Received) {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string) =>
    head
      .split('\r\n')
      .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
      ?.slice(name.length + 1)
      .trim();
  const qp = (s: string) => {
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const hex = s.slice(i + 1, i + 3);
      if (s[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(s.charCodeAt(i));
    }
    return Buffer.from(bytes).toString('utf8');
  };
  const words = (s: string) =>
    s
      .replace(/\?=\s+=\?/g, '?==?')
      .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
        enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qp(text.replace(/_/g, ' ')),
      );
  const encoding = header('Content-Transfer-Encoding')?.toLowerCase();
  const rawBody = raw.slice(split + 4);
  const text =
    encoding === 'quoted-printable'
      ? qp(rawBody.replace(/=\r\n/g, ''))
      : encoding === 'base64'
        ? Buffer.from(rawBody, 'base64').toString('utf8')
        : rawBody;
  return { messageId: header('Message-ID'), subject: words(header('Subject') ?? ''), text, raw };
}

// ---------------------------------------------------------------------------------------------

let h: Harness;
let smtpUrl: string;
let mailer: Mailer;
let partnerId: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  smtpUrl = `smtp://hashback:${SMTP_PASSWORD}@127.0.0.1:${port}`;
  mailer = createSmtpMailer(smtpUrl);
  h = await startHarness();
  partnerId = dbId((await h.newPartner(['TRANSACTIONS_WRITE'])).id);
});

afterAll(async () => {
  mailer?.close();
  await new Promise<void>((resolve) => smtp.close(resolve));
  await h?.close();
});

function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({ logLevel: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Delivery runs until a run finds nothing more to do. */
async function deliverAll(options: Partial<DeliveryOptions> & Pick<DeliveryOptions, 'logger'>, withMailer = mailer) {
  const total: DeliveryResult = { sent: 0, failed: 0, retried: 0 };
  for (let run = 0; run < 200; run++) {
    const r = await deliverDueEmails(h.db, withMailer, { from: 'hashback <no-reply@hashback.test>', maxAttempts: 5, limit: 50, ...options });
    total.sent += r.sent;
    total.failed += r.failed;
    total.retried += r.retried;
    if (r.sent + r.failed + r.retried === 0) return total;
  }
  throw new Error('delivery did not settle in 200 runs');
}

/** A merchant with a location and a live offer, and a user with a linked card. */
async function purchaseFixture() {
  const merchantName = unique('Bean Bar');
  const merchant = await h.newMerchant({ name: merchantName });
  const locationId = await h.newLocation(merchant.key);
  const offerId = await h.newOffer(merchant.key, { locationIds: [locationId] });
  const user = await h.newUser();
  const card = await h.linkCard(user.token);
  return {
    merchantName,
    merchantId: dbId(merchant.id),
    locationId: dbId(locationId),
    offerId: dbId(offerId),
    userId: dbId(user.id),
    cardId: dbId(card.id),
    cardNumber: card.number,
    recipient: user.email,
  };
}
type Fixture = Awaited<ReturnType<typeof purchaseFixture>>;

/** A confirmed $4.50 cashback on a $45.00 clearing, with its e-mails queued, all in `trx`. */
async function queueCashbackEmails(trx: Transaction<DB>, f: Fixture, kinds: EmailKind[]): Promise<string> {
  const transactionId = randomUUID();
  const cashbackId = randomUUID();
  const occurredAt = new Date();
  const expectedCreditAt = new Date(occurredAt.getTime() + 30 * 24 * 3600 * SECOND);
  await trx
    .insertInto('transactions')
    .values({
      id: transactionId,
      partner_id: partnerId,
      external_id: unique('clearing'),
      type: 'CLEARING',
      network: 'VISA',
      mid: unique('MID'),
      location_id: f.locationId,
      card_id: f.cardId,
      user_id: f.userId,
      amount: 4500,
      currency: 'USD',
      occurred_at: occurredAt,
      auth_external_id: null,
      original_external_id: null,
      outcome: 'QUALIFIED',
      reason: null,
      cashback_id: cashbackId,
    })
    .execute();
  await trx
    .insertInto('cashbacks')
    .values({
      id: cashbackId,
      user_id: f.userId,
      card_id: f.cardId,
      offer_id: f.offerId,
      merchant_id: f.merchantId,
      purchase_transaction_id: transactionId,
      status: 'CONFIRMED',
      currency: 'USD',
      purchase_amount: 4500,
      granted_amount: 450,
      amount: 450,
      reason: null,
      occurred_at: occurredAt,
      expires_at: null,
      expected_credit_at: expectedCreditAt,
    })
    .execute();
  const facts = {
    displayName: 'Test User',
    merchantName: f.merchantName,
    reward: { amount: 450, currency: 'USD' },
    purchase: { amount: 4500, currency: 'USD' },
    cardLast4: f.cardNumber.slice(-4),
    expectedCreditAt,
  };
  await insertEmails(
    trx,
    kinds.map((kind) => ({
      user_id: f.userId,
      kind,
      subject_type: 'Cashback',
      subject_id: cashbackId,
      recipient: f.recipient,
      ...composeCashbackEmail(kind, facts),
    })),
    { sendAt: PAST },
  );
  return cashbackId;
}

async function queueEmails(f: Fixture, kinds: EmailKind[] = ['CASHBACK_CONFIRMED']) {
  const cashbackId = await h.db.transaction().execute((trx) => queueCashbackEmails(trx, f, kinds));
  return h.db.selectFrom('emails').selectAll().where('subject_type', '=', 'Cashback').where('subject_id', '=', cashbackId).orderBy('kind').execute();
}

/** An e-mail as stored, with its delivery: its job on the queue (attempts, due time, lease, error). */
async function emailRow(id: string) {
  const email = await h.db.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const job = await h.db.selectFrom('queued_jobs').selectAll().where('queue', '=', EMAIL_QUEUE).where('key', '=', id).executeTakeFirstOrThrow();
  return {
    ...email,
    job_id: job.id,
    job_status: job.status,
    attempts: job.attempts,
    next_attempt_at: job.run_at,
    lease_token: job.lease_token,
    leased_until: job.leased_until,
    last_error: job.last_error,
  };
}

/** Log lines that mention an e-mail, parsed. */
const linesAbout = (lines: string[], emailId: string) =>
  lines.filter((l) => l.includes(emailId)).map((l) => JSON.parse(l) as Record<string, unknown>);

// ---------------------------------------------------------------------------------------------

describe('retryDelayMs', () => {
  it('waits 30 s after the first failure and doubles per attempt', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => retryDelayMs(a, 0))).toEqual([30, 60, 120, 240, 480, 960, 1920].map((s) => s * SECOND));
  });

  it('never waits more than an hour, however many attempts', () => {
    expect(retryDelayMs(8, 0)).toBe(3600 * SECOND);
    expect(retryDelayMs(1000, 0)).toBe(3600 * SECOND);
    expect(retryDelayMs(Number.MAX_SAFE_INTEGER, 0)).toBe(3600 * SECOND);
  });

  it('takes off at most 10% as jitter (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, random) => {
        const full = retryDelayMs(attempts, 0);
        const delay = retryDelayMs(attempts, random);
        expect(delay).toBeLessThanOrEqual(full);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(full * 0.9));
        expect(delay).toBeLessThanOrEqual(3600 * SECOND);
        expect(Number.isInteger(delay)).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('describeError', () => {
  it('keeps one short line without URLs or e-mail addresses', () => {
    const text = describeError(new Error(`Failed smtp://u:secret@mail.example:587\n  550 <someone@example.com> unknown ${'x'.repeat(1000)}`));
    expect(text).not.toContain('secret');
    expect(text).not.toContain('someone@example.com');
    expect(text).not.toContain('\n');
    expect(text.startsWith('Failed [url] 550 <[address]> unknown xxx')).toBe(true);
    expect(text.length).toBe(500);
  });
});

describe('deliverDueEmails', () => {
  it('delivers each queued e-mail exactly once with two workers running concurrently (proves the race on Postgres)', async () => {
    const f = await purchaseFixture();
    const rows = [];
    for (let i = 0; i < 10; i++) rows.push(...(await queueEmails(f, ['CASHBACK_CONFIRMED', 'CASHBACK_CREDITED'])));
    const { logger, lines } = capturedLogger();
    const now = PAST;

    // One e-mail per claim so the two workers keep racing for the next row.
    const [a, b] = await Promise.all([deliverAll({ logger, now: () => now, limit: 1 }), deliverAll({ logger, now: () => now, limit: 1 })]);
    expect(a.sent + b.sent).toBeGreaterThanOrEqual(rows.length);

    const messages = messagesTo(f.recipient);
    expect(messages.map((m) => m.messageId).sort()).toEqual(rows.map((r) => messageIdOf(r.id)).sort());
    expect(messageIdOf(rows[0]!.id)).toBe(`<${rows[0]!.id}@hashback.email>`);
    for (const row of rows) {
      const after = await emailRow(row.id);
      expect(after).toMatchObject({ status: 'SENT', job_status: 'DONE', attempts: 1, lease_token: null, leased_until: null, last_error: null });
      expect(after.sent_at).toEqual(now);
    }

    for (const message of messages) {
      expect(message.subject).toContain(f.merchantName);
      expect(message.subject).toContain('$4.50');
      expect(message.text).toContain(f.merchantName);
      expect(message.text).toContain('$4.50');
      expect(message.text).toContain(`••${f.cardNumber.slice(-4)}`);
      expect(message.raw).not.toContain(f.cardNumber);
      expect(message.text).not.toContain(f.cardNumber);
    }
    // The stored text is what was sent.
    const confirmed = rows.find((r) => r.kind === 'CASHBACK_CONFIRMED')!;
    const sent = messages.find((m) => m.messageId === messageIdOf(confirmed.id))!;
    expect(sent.text.replace(/\r\n/g, '\n').trim()).toBe(confirmed.body);
    expect(sent.subject).toBe(confirmed.subject);

    // One log line per e-mail, with id and kind, without recipient or content.
    for (const row of rows) {
      const about = linesAbout(lines, row.id);
      expect(about).toEqual([expect.objectContaining({ msg: 'job done', queue: 'emails', emailId: row.id, kind: row.kind })]);
    }
    const logText = lines.join('\n');
    expect(logText).not.toContain(f.recipient);
    expect(logText).not.toContain(f.merchantName);
  });

  it('retries a refused send later with backoff and then delivers it once', async () => {
    const f = await purchaseFixture();
    const [email] = await queueEmails(f);
    refuseNext.add(f.recipient);
    const { logger, lines } = capturedLogger();
    const t0 = PAST;

    await deliverAll({ logger, now: () => t0 });
    const failed = await emailRow(email!.id);
    expect(failed).toMatchObject({ status: 'QUEUED', job_status: 'QUEUED', attempts: 1, lease_token: null, leased_until: null, sent_at: null });
    expect(failed.last_error).toMatch(/451/);
    expect(failed.last_error!.length).toBeLessThanOrEqual(500);
    for (const secret of [SMTP_PASSWORD, smtpUrl, 'smtp://', f.recipient]) expect(failed.last_error).not.toContain(secret);
    const wait = failed.next_attempt_at.getTime() - t0.getTime();
    expect(wait).toBeGreaterThanOrEqual(27 * SECOND);
    expect(wait).toBeLessThanOrEqual(30 * SECOND);
    expect(messagesTo(f.recipient)).toEqual([]);
    expect(linesAbout(lines, email!.id)).toEqual([expect.objectContaining({ msg: 'job failed; will retry', kind: 'CASHBACK_CONFIRMED' })]);
    expect(lines.join('\n')).not.toContain(f.recipient);

    // Not before it is due ...
    await deliverAll({ logger, now: () => new Date(failed.next_attempt_at.getTime() - 1) });
    expect(await emailRow(email!.id)).toMatchObject({ status: 'QUEUED', attempts: 1 });

    // ... then once.
    const later = new Date(failed.next_attempt_at.getTime() + 1);
    await deliverAll({ logger, now: () => later });
    expect(await emailRow(email!.id)).toMatchObject({ status: 'SENT', job_status: 'DONE', attempts: 2, sent_at: later, lease_token: null });
    expect(messagesTo(f.recipient).map((m) => m.messageId)).toEqual([messageIdOf(email!.id)]);
  });

  it('marks an e-mail FAILED after maxAttempts refused sends and claims it no more', async () => {
    const f = await purchaseFixture();
    const [email] = await queueEmails(f);
    refuseAlways.add(f.recipient);
    const { logger, lines } = capturedLogger();
    try {
      let now = PAST;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const at = now;
        await deliverAll({ logger, now: () => at, maxAttempts: 3 });
        const row = await emailRow(email!.id);
        expect(row).toMatchObject({ status: attempt < 3 ? 'QUEUED' : 'FAILED', job_status: attempt < 3 ? 'QUEUED' : 'DEAD', attempts: attempt, lease_token: null, sent_at: null });
        expect(row.last_error).toMatch(/451/);
        now = new Date(row.next_attempt_at.getTime() + 1);
      }
      expect(linesAbout(lines, email!.id).map((l) => [l.msg, l.attempt])).toEqual([
        ['job failed; will retry', 1],
        ['job failed; will retry', 2],
        ['job failed; giving up', 3],
      ]);

      const dayLater = new Date(now.getTime() + 24 * 3600 * SECOND);
      await deliverAll({ logger, now: () => dayLater, maxAttempts: 3 });
      expect(await emailRow(email!.id)).toMatchObject({ status: 'FAILED', job_status: 'DEAD', attempts: 3, lease_token: null });
      expect(messagesTo(f.recipient)).toEqual([]);
    } finally {
      refuseAlways.delete(f.recipient);
    }
  });

  it('lets another worker take over the e-mail of a worker that stalled mid-send, once its lease expired', async () => {
    const f = await purchaseFixture();
    const [email] = await queueEmails(f);
    const { logger, lines } = capturedLogger();
    const t0 = PAST;
    const leaseMs = 60 * SECOND;

    // Worker A claims, then its SMTP conversation hangs (as a process that stopped would).
    let sendStarted!: () => void;
    const started = new Promise<void>((resolve) => (sendStarted = resolve));
    let abandon!: (error: Error) => void;
    const hung = new Promise<void>((_, reject) => (abandon = reject));
    hung.catch(() => {});
    const stalled: Mailer = {
      send: () => {
        sendStarted();
        return hung;
      },
      close: () => {},
    };
    const workerA = deliverDueEmails(h.db, stalled, { from: 'x@hashback.test', maxAttempts: 5, logger, now: () => t0, leaseMs, limit: 10 });
    await started;

    const claimed = await emailRow(email!.id);
    expect(claimed).toMatchObject({ status: 'QUEUED', job_status: 'RUNNING', attempts: 1 });
    expect(claimed.lease_token).toEqual(expect.any(String));
    expect(claimed.leased_until).toEqual(new Date(t0.getTime() + leaseMs));
    const staleToken = claimed.lease_token!;

    // While the lease holds, nobody else takes the e-mail.
    await deliverAll({ logger, now: () => new Date(t0.getTime() + leaseMs - 1) });
    expect(await emailRow(email!.id)).toMatchObject({ status: 'QUEUED', attempts: 1, lease_token: staleToken });
    expect(messagesTo(f.recipient)).toEqual([]);

    // After it, worker B takes it over. While B is sending, worker A wakes up and tries to settle
    // the e-mail with its stale token: that changes nothing.
    const takeover = new Date(t0.getTime() + leaseMs);
    const lateSettlements: boolean[] = [];
    const workerB: Mailer = {
      async send(message) {
        if (message.messageId === messageIdOf(email!.id)) {
          const during = await emailRow(email!.id);
          expect(during).toMatchObject({ status: 'QUEUED', job_status: 'RUNNING', attempts: 2 });
          expect(during.lease_token).not.toBe(staleToken);
          lateSettlements.push(
            await settleJob(h.db, { id: during.job_id, leaseToken: staleToken }, { status: 'DONE' }, takeover),
            await settleJob(h.db, { id: during.job_id, leaseToken: staleToken }, { status: 'DEAD', error: 'late' }, takeover),
          );
          expect(await emailRow(email!.id)).toEqual(during);
        }
        await mailer.send(message);
      },
      close: () => {},
    };
    await deliverAll({ logger, now: () => takeover }, workerB);
    expect(lateSettlements).toEqual([false, false]);
    const sent = await emailRow(email!.id);
    expect(sent).toMatchObject({ status: 'SENT', job_status: 'DONE', attempts: 2, sent_at: takeover, lease_token: null });

    // Nor does it once the e-mail is sent.
    expect(await settleJob(h.db, { id: sent.job_id, leaseToken: staleToken }, { status: 'DONE' }, new Date(t0.getTime() + 2 * leaseMs))).toBe(false);
    expect(await settleJob(h.db, { id: sent.job_id, leaseToken: staleToken }, { status: 'DEAD', error: 'late' }, t0)).toBe(false);
    abandon(new Error('connection reset'));
    expect(await workerA).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(await emailRow(email!.id)).toEqual(sent);
    expect(messagesTo(f.recipient).map((m) => m.messageId)).toEqual([messageIdOf(email!.id)]);
    expect(linesAbout(lines, email!.id).map((l) => l.msg)).toEqual(['job done', 'job failed after its lease was taken over']);
  });

  it('does not start a send once its lease has run out: the rest of the batch is left to the next claim', async () => {
    const f = await purchaseFixture();
    const rows = await queueEmails(f, ['CASHBACK_CONFIRMED', 'CASHBACK_CREDITED']);
    const { logger, lines } = capturedLogger();
    const t0 = PAST;
    const leaseMs = 60 * SECOND;
    let clock = t0;
    // The first of our e-mails takes the whole lease to send.
    const slow: Mailer = {
      async send(message) {
        await mailer.send(message);
        if (message.to === f.recipient) clock = new Date(t0.getTime() + leaseMs);
      },
      close: () => {},
    };

    await deliverDueEmails(h.db, slow, { from: 'x@hashback.test', maxAttempts: 5, logger, now: () => clock, leaseMs, limit: 10 });
    expect(messagesTo(f.recipient)).toHaveLength(1);
    const after = await Promise.all(rows.map((r) => emailRow(r.id)));
    const left = after.find((r) => r.status === 'QUEUED')!;
    expect(after.map((r) => r.status).sort()).toEqual(['QUEUED', 'SENT']);
    expect(left).toMatchObject({ attempts: 1, leased_until: clock });
    expect(linesAbout(lines, left.id).map((l) => l.msg)).toEqual(['job lease expired before it ran; left to the next claim']);

    await deliverAll({ logger, now: () => clock });
    expect(messagesTo(f.recipient).map((m) => m.messageId).sort()).toEqual(rows.map((r) => messageIdOf(r.id)).sort());
    expect(await emailRow(left.id)).toMatchObject({ status: 'SENT', job_status: 'DONE', attempts: 2 });
  });

  it('spends no attempt on an SMTP server that cannot be reached, and claims nothing until it answers', async () => {
    const f = await purchaseFixture();
    const rows = await queueEmails(f, ['CASHBACK_CONFIRMED', 'CASHBACK_CREDITED']);
    // A port nobody listens on: connections are refused.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = createSmtpMailer(`smtp://hashback:${SMTP_PASSWORD}@127.0.0.1:${port}`);
    const { logger, lines } = capturedLogger();
    const now = PAST;
    try {
      // The first send finds the server down: both e-mails go back, due now, with no attempt spent.
      expect(await deliverDueEmails(h.db, down, { from: 'x@hashback.test', maxAttempts: 1, logger, now: () => now })).toMatchObject({ sent: 0, failed: 0 });
      for (const row of rows) {
        const after = await emailRow(row.id);
        expect(after).toMatchObject({ status: 'QUEUED', job_status: 'QUEUED', attempts: 0, next_attempt_at: now, lease_token: null });
        expect(after.last_error).toMatch(/ECONNREFUSED|connect/i);
        expect(after.last_error).not.toContain(SMTP_PASSWORD);
      }
      // Still down: nothing is claimed, however many rounds.
      for (let round = 0; round < 3; round++) {
        expect(await deliverDueEmails(h.db, down, { from: 'x@hashback.test', maxAttempts: 1, logger, now: () => now })).toEqual({ sent: 0, failed: 0, retried: 0 });
      }
      for (const row of rows) expect(await emailRow(row.id)).toMatchObject({ status: 'QUEUED', attempts: 0 });
      expect(lines.join('\n')).not.toContain(f.recipient);
    } finally {
      down.close();
    }

    // A server that answers sends each once, on their one allowed attempt.
    await deliverAll({ logger, now: () => now, maxAttempts: 1 });
    for (const row of rows) expect(await emailRow(row.id)).toMatchObject({ status: 'SENT', job_status: 'DONE', attempts: 1 });
    expect(messagesTo(f.recipient).map((m) => m.messageId).sort()).toEqual(rows.map((r) => messageIdOf(r.id)).sort());
  });

  it('sends nothing for e-mails queued by work that rolled back', async () => {
    const f = await purchaseFixture();
    const [kept] = await queueEmails(f);
    await expect(
      h.db.transaction().execute(async (trx) => {
        await queueCashbackEmails(trx, f, ['CASHBACK_CONFIRMED', 'CASHBACK_CREDITED']);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    const { logger } = capturedLogger();
    const now = PAST;

    await deliverAll({ logger, now: () => now });
    expect(messagesTo(f.recipient).map((m) => m.messageId)).toEqual([messageIdOf(kept!.id)]);
    const rows = await h.db.selectFrom('emails').select(['id', 'status']).where('user_id', '=', f.userId).execute();
    expect(rows).toEqual([{ id: kept!.id, status: 'SENT' }]);
  });
});
