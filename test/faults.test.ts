/**
 * Faults on real Postgres, against real server processes: database backends terminated under
 * load, a database that stops answering, a server killed with SIGKILL in the middle of ingest,
 * and an SMTP server that is down and then up. PGlite runs inside the server process and has no
 * connections to terminate, so this file runs on the Postgres project only.
 *
 * Everything happens in a scratch database of its own: `pg_terminate_backend` on the run's
 * shared database would hit other test files, and "positions are gap-free" is a property of the
 * whole event log.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it, onTestFailed } from 'vitest';
import { INGEST, item, newShop, newShopper } from './cashback-fixtures.js';
import { openStream } from './confirmation-stream.js';
import { adminQuery, useScratchDatabase } from './scratch-database.js';
import { apiFixtures, databaseKind, dbId, httpGql, unique, type Gql } from './harness.js';
import { expectLedgerMatches } from './ledger-checks.js';
import { freePort, startServerProcess, type ServerProcess } from './server-process.js';
import { decodeCursor } from '../src/lib/pagination.js';
import { generateCardKeys } from '../src/modules/cards/card-crypto.js';

const onPostgres = databaseKind() === 'postgres';
const MASKED = 'Unexpected error.';
const SEQUENCER_LOCK = 7_215_004; // src/outbox/outbox.repository.ts
const OFFERS = `{ offers(first: 20) { edges { node { id title merchant { name } } } } }`;

const positionOf = (cursor: string) => decodeCursor(cursor, ['int'] as const)[0];

/** Polls `check` until it returns a value other than undefined/false; fails with `what` after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


// ---------------------------------------------------------------------------------------------
// Real parts on loopback: an SMTP server that records what it accepts, and a TCP relay in front
// of Postgres that can stop answering.

class MailSink {
  private server: SMTPServer | null = null;
  readonly received: { messageId: string; to: string[] }[] = [];
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const messageId = /^Message-ID:\s*(\S+)/im.exec(raw)?.[1] ?? '';
          this.received.push({ messageId, to: session.envelope.rcptTo.map((a) => a.address) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  count(messageId: string): number {
    return this.received.filter((m) => m.messageId === messageId).length;
  }
}

/** Forwards TCP to Postgres; `blackhole()` cuts every connection and holds new ones silent. */
class DatabaseRelay {
  private readonly server: net.Server;
  private mode: 'forward' | 'blackhole' = 'forward';
  private readonly open = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((socket) => {
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
      socket.on('error', () => undefined);
      if (this.mode === 'blackhole') return; // accepted, never answered
      const upstream = net.connect(this.target.port, this.target.host);
      this.open.add(upstream);
      upstream.on('close', () => {
        this.open.delete(upstream);
        socket.destroy();
      });
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  blackhole(): void {
    this.mode = 'blackhole';
    for (const socket of this.open) socket.destroy();
  }

  forward(): void {
    this.mode = 'forward';
    for (const socket of this.open) socket.destroy(); // the held ones: let the clients retry
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// A confirmation stream over graphql-ws.

// ---------------------------------------------------------------------------------------------

describe.runIf(onPostgres)('faults on real Postgres (PGlite has no server connections to terminate)', () => {
  const scratch = useScratchDatabase('faults', { poolSize: 3 });
  const servers: ServerProcess[] = [];

  const childEnv = (extra: Record<string, string> = {}) => scratch.serverEnv({ JOBS: 'false', SHUTDOWN_TIMEOUT_MS: '2000', ...extra });

  const start = async (extra: Record<string, string> = {}, options: { port?: number } = {}) => {
    const server = await startServerProcess(childEnv(extra), options);
    servers.push(server);
    return server;
  };

  /** Exit code of a server that ended, or null while it runs. */
  const exitOf = (server: ServerProcess) => Promise.race([server.exited, Promise.resolve('running' as const)]);

  const dumpOnFailure = (...list: ServerProcess[]) =>
    onTestFailed(() => {
      for (const s of list) console.error(`--- server on port ${s.port} (pid ${s.pid}) ---\n${s.output()}`);
    });


  const apiOf = (server: ServerProcess) => {
    const gql = httpGql(server.url);
    const api = apiFixtures(gql, scratch.adminKey);
    return { ...api, gql };
  };

  /** Sends one batch; the parsed answer, or null when the server gave none (connection lost). */
  async function sendBatch(gql: Gql, partnerKey: string, batch: { key: string; items: Record<string, unknown>[] }) {
    try {
      return await gql(INGEST, { input: { transactions: batch.items, idempotencyKey: batch.key } }, partnerKey);
    } catch {
      return null;
    }
  }

  /** Every item has exactly one transaction row; returns the cashback ids (one per item). */
  async function expectOncePerItem(externalIds: string[]): Promise<string[]> {
    const rows = await scratch.database.db
      .selectFrom('transactions')
      .leftJoin('cashbacks', 'cashbacks.purchase_transaction_id', 'transactions.id')
      .select(['transactions.external_id', 'cashbacks.id as cashback_id'])
      .where('transactions.external_id', 'in', externalIds)
      .execute();
    const byItem = new Map<string, string[]>();
    for (const row of rows) byItem.set(row.external_id, [...(byItem.get(row.external_id) ?? []), row.cashback_id ?? 'none']);
    expect(
      externalIds.filter((id) => byItem.get(id)?.length !== 1),
      'items without exactly one transaction and one cashback',
    ).toEqual([]);
    const cashbacks = externalIds.map((id) => byItem.get(id)![0]!);
    expect(cashbacks.filter((c) => c === 'none'), 'items without cashback').toEqual([]);
    return cashbacks;
  }

  async function expectLedgerBalanced(cashbackIds: string[]): Promise<void> {
    await expectLedgerMatches(scratch.database.db, cashbackIds);
    const [sum] = await adminQuery<{ total: string | null }>(scratch.url, 'select sum(amount)::text as total from ledger_entries');
    expect(Number(sum?.total ?? 0), 'the whole ledger sums to zero').toBe(0);
  }

  it('survives backends terminated under concurrent reads and ingest; nothing half-committed; retries answer as if sent once; LISTEN and jobs reconnect', async () => {
    const mail = new MailSink(await freePort());
    await mail.start();
    // A takes the writes, runs the jobs and sends e-mail; B only listens, with its fallback poll a
    // minute away, so an event reaching B's subscriber came by NOTIFY on B's LISTEN connection.
    const [a, b] = await Promise.all([
      start({ JOBS: 'true', JOB_INTERVAL_MS: '200', SMTP_URL: `smtp://127.0.0.1:${mail.port}`, EVENT_POLL_MS: '60000' }),
      start({ EVENT_POLL_MS: '60000' }),
    ]);
    dumpOnFailure(a, b);
    try {
      const api = apiOf(a);
      const partner = await api.newPartner();
      const shop = await newShop(api, { budget: 100_000_000 });
      const shopper = await newShopper(api);

      // The load: readers and ingest batches (standalone clearings: each confirms a cashback and
      // queues its e-mail), each batch with its own idempotency key.
      const batches: { key: string; items: Record<string, unknown>[]; answer?: Awaited<ReturnType<typeof sendBatch>> }[] = [];
      const reads: { status: number; errors?: { message: string }[] }[] = [];
      let stop = false;
      let completed = 0;
      const ingester = async () => {
        while (!stop) {
          const batch = {
            key: unique('batch'),
            items: Array.from({ length: 8 }, (_, i) => item(shop, shopper.card.number, { type: 'CLEARING', amount: 1000 + i * 10 })),
          };
          batches.push(batch);
          (batch as (typeof batches)[number]).answer = await sendBatch(api.gql, partner.key, batch);
          completed++;
        }
      };
      const reader = async () => {
        while (!stop) {
          const res = await api.gql(OFFERS);
          reads.push({ status: res.status, errors: res.errors });
          completed++;
        }
      };
      const load = [ingester(), ingester(), ingester(), reader(), reader()];

      // Five rounds of "terminate every backend of the database", each once the load has made
      // progress since the last, so connections in every state are hit (idle, in a query, inside
      // a transaction, the LISTEN connections, the jobs').
      for (let round = 0; round < 5; round++) {
        const before = completed;
        await waitFor('load progress', () => completed >= before + 3);
        await adminQuery(scratch.url, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [scratch.name]);
      }
      const before = completed;
      await waitFor('load progress after the last round', () => completed >= before + 6);
      stop = true;
      await Promise.all(load);

      expect(await exitOf(a), 'server A is still running').toBe('running');
      expect(await exitOf(b), 'server B is still running').toBe('running');

      // Every answer is a success or the masked error: no connection dropped, nothing leaked.
      const answers = [...reads, ...batches.map((x) => x.answer)];
      expect(answers.filter((x) => x === null), 'requests without an answer').toEqual([]);
      // (An answer lists at most 5 errors, then one "…and N more errors." line.)
      const unexpected = answers.filter((x) => x && x.errors && x.errors.some((e) => e.message !== MASKED && !/^…and \d+ more errors\.$/.test(e.message)));
      expect(unexpected, 'errors other than the masked one').toEqual([]);
      const failedBatches = batches.filter((x) => x.answer!.errors);
      console.log(`faults: ${reads.length} reads, ${batches.length} batches, ${answers.filter((x) => x!.errors).length} masked errors (${failedBatches.length} batches)`);

      // A failed batch committed all or nothing; its retry (same key, same items) answers.
      for (const batch of failedBatches) {
        const ids = batch.items.map((i) => i.externalId as string);
        const found = await scratch.database.db.selectFrom('transactions').select('external_id').where('external_id', 'in', ids).execute();
        expect([0, ids.length], `batch ${batch.key}: ${found.length} of ${ids.length} items committed`).toContain(found.length);
        const retry = await sendBatch(api.gql, partner.key, batch);
        expect(retry?.errors).toBeUndefined();
        expect(retry!.data.ingestTransactions.results.map((r: { externalId: string; outcome: string }) => [r.externalId, r.outcome])).toEqual(
          ids.map((id) => [id, 'QUALIFIED']),
        );
        batch.answer = retry;
      }
      // A batch that was answered answers the same when sent again.
      const answered = batches.find((x) => !failedBatches.includes(x))!;
      const again = await sendBatch(api.gql, partner.key, answered);
      expect(again!.data).toEqual(answered.answer!.data);

      const externalIds = batches.flatMap((x) => x.items.map((i) => i.externalId as string));
      const cashbacks = await expectOncePerItem(externalIds);
      await expectLedgerBalanced(cashbacks);

      // The jobs kept going: every confirmation e-mail is sent, one per cashback.
      await waitFor(
        'every confirmation e-mail sent',
        async () => {
          const rows = await scratch.database.db.selectFrom('emails').select(['id', 'status']).where('subject_type', '=', 'Cashback').where('subject_id', 'in', cashbacks).execute();
          return rows.length === cashbacks.length && rows.every((r) => r.status === 'SENT') && rows;
        },
        30_000,
      );
      const emails = await scratch.database.db.selectFrom('emails').select(['id', 'kind', 'subject_id']).where('subject_type', '=', 'Cashback').where('subject_id', 'in', cashbacks).execute();
      expect(new Set(emails.map((e) => `${e.kind}:${e.subject_id}`)).size).toBe(cashbacks.length);
      for (const e of emails) expect(mail.count(`<${e.id}@hashback.email>`), `e-mail ${e.id} received`).toBeGreaterThanOrEqual(1);

      // B's LISTEN connection came back: once B's subscription is live (a first probe arrived), a
      // second write on A reaches it within 3 s; B's own poll is a minute away and B writes
      // nothing, so only NOTIFY on B's LISTEN connection can have told it.
      const stream = openStream(b.wsUrl, shopper.token, { after: (await api.gql('{ eventCursor }')).data.eventCursor });
      try {
        const arrived = (reward: number, timeoutMs: number) =>
          waitFor(`the event of ${reward}`, () => stream.events.some((e) => e.amount.amount === reward), timeoutMs).then(
            () => true,
            () => false,
          );
        await waitFor(
          "a first confirmation on B's subscription",
          async () => {
            await sendBatch(api.gql, partner.key, { key: unique('probe'), items: [item(shop, shopper.card.number, { amount: 7770 })] });
            return arrived(777, 3000);
          },
          20_000,
        );
        await sendBatch(api.gql, partner.key, { key: unique('probe'), items: [item(shop, shopper.card.number, { amount: 8880 })] });
        expect(await arrived(888, 3000), 'the live event reached B through NOTIFY').toBe(true);
      } finally {
        await stream.stop();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await mail.stop();
    }
  }, 120_000);

  it('/ready answers 503 while the database does not answer, and 200 again by itself', async () => {
    const target = new URL(scratch.url);
    const relay = new DatabaseRelay({ host: target.hostname, port: Number(target.port || 5432) });
    await relay.listen();
    const viaRelay = new URL(scratch.url);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    const server = await start({ DATABASE_URL: viaRelay.toString(), JOBS: 'true', JOB_INTERVAL_MS: '200' });
    dumpOnFailure(server);
    const ready = () =>
      fetch(`${server.base}/ready`, { signal: AbortSignal.timeout(5000) }).then(
        async (res) => ({ status: res.status, body: await res.text() }),
        () => ({ status: 0, body: '' }), // no answer within 5 s
      );
    try {
      expect((await ready()).status).toBe(200);

      relay.blackhole();
      const down = await waitFor('/ready to answer 503', async () => {
        const r = await ready();
        return r.status === 503 && r;
      });
      // Says what is not ready, nothing about hosts or drivers.
      expect(JSON.parse(down.body)).toEqual({ status: 'not ready', notReady: ['database not answering'] });
      // A request meanwhile gets an answer (masked), within the connect timeout.
      const started = Date.now();
      const during = await httpGql(server.url, (u, init) => fetch(u, { ...init, signal: AbortSignal.timeout(20_000) }))(OFFERS);
      expect(during.errors?.map((e) => e.message)).toEqual([MASKED]);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await ready()).toMatchObject({ status: 503 });

      relay.forward();
      await waitFor('/ready to answer 200 again', async () => (await ready()).status === 200);
      const after = await httpGql(server.url)(OFFERS);
      expect(after.errors).toBeUndefined();
      expect(await exitOf(server)).toBe('running');
    } finally {
      await server.stop();
      await relay.close();
    }
  }, 90_000);

  it('kill -9 in the middle of ingest: re-sent batches leave one transaction and one cashback per item, a balanced ledger, one e-mail per (kind, cashback); positions stay gap-free and a reader resuming from its cursor misses nothing', async () => {
    const mail = new MailSink(await freePort());
    await mail.start();
    const env = { JOBS: 'true', JOB_INTERVAL_MS: '200', SMTP_URL: `smtp://127.0.0.1:${mail.port}`, EVENT_POLL_MS: '100' };
    let a = await start(env);
    dumpOnFailure(a);
    const holder = new pg.Client({ connectionString: scratch.url });
    const rowLocker = new pg.Client({ connectionString: scratch.url });
    await holder.connect();
    await rowLocker.connect();
    let first: ReturnType<typeof openStream> | undefined;
    let resumed: ReturnType<typeof openStream> | undefined;
    try {
      const apiA = apiOf(a);
      const partner = await apiA.newPartner();
      const shop = await newShop(apiA, { budget: 100_000_000 });
      const shopper = await newShopper(apiA);
      const userId = dbId(shopper.id);

      // A reader follows the shopper's confirmations on A from now on.
      first = openStream(a.wsUrl, shopper.token, { after: (await apiA.gql('{ eventCursor }')).data.eventCursor });
      await sendBatch(apiA.gql, partner.key, { key: unique('warm'), items: [item(shop, shopper.card.number, { type: 'CLEARING', amount: 990 })] });
      await waitFor('the first reader receives', () => first!.events.length >= 1);

      // Hold the sequencer's lock: A's events commit but get no position yet.
      await holder.query('select pg_advisory_lock($1)', [SEQUENCER_LOCK]);
      const batches = Array.from({ length: 12 }, (_, n) => ({
        key: unique('kill'),
        items: Array.from({ length: 10 }, (_, i) => item(shop, shopper.card.number, { type: 'CLEARING', amount: 2000 + n * 100 + i })),
        answered: false,
      }));
      let next = 0;
      const sender = async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          const answer = await sendBatch(apiA.gql, partner.key, batch);
          if (answer && !answer.errors) batch.answered = true;
        }
      };
      const senders = [sender(), sender()];
      await waitFor('a few batches answered', () => batches.filter((x) => x.answered).length >= 3);

      // Catch A's sequencer inside its transaction: it takes positions for the waiting events,
      // then waits on a row this test locks; A dies there, with batches still in flight.
      await rowLocker.query('begin');
      await rowLocker.query('select id from events where position is null order by id limit 1 for update');
      await holder.query('select pg_advisory_unlock($1)', [SEQUENCER_LOCK]);
      await waitFor('A’s sequencer waiting on the locked event', async () => {
        const rows = await adminQuery(
          scratch.url,
          `select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query ilike '%sequence_events%'`,
          [scratch.name],
        );
        return rows.length > 0;
      });
      process.kill(a.pid, 'SIGKILL');
      expect(await a.exited).toBe('SIGKILL');
      await rowLocker.query('rollback');
      await Promise.all(senders);
      await first.closed;

      // B takes A's place (same port: the clients' configuration does not change).
      const b = await start(env, { port: a.port });
      dumpOnFailure(b);
      a = b;
      const apiB = apiOf(b);
      for (const batch of batches.filter((x) => !x.answered)) {
        const answer = await sendBatch(apiB.gql, partner.key, batch);
        expect(answer?.errors).toBeUndefined();
        expect(answer!.data.ingestTransactions.results.map((r: { outcome: string }) => r.outcome)).toEqual(batch.items.map(() => 'QUALIFIED'));
      }

      const externalIds = batches.flatMap((x) => x.items.map((i) => i.externalId as string));
      const cashbacks = await expectOncePerItem(externalIds);
      await expectLedgerBalanced(cashbacks);

      // One e-mail per (kind, cashback), all delivered by B's jobs: at once, except those whose job
      // the dead A held a lease on, which wait for their lease to expire (ten minutes; moved forward here).
      const emailRows = () =>
        scratch.database.db
          .selectFrom('emails')
          .innerJoin('queued_jobs', (join) => join.on('queued_jobs.queue', '=', 'emails').on(sql<boolean>`queued_jobs.key = emails.id::text`))
          .select(['emails.id', 'emails.status', 'queued_jobs.leased_until'])
          .where('emails.subject_type', '=', 'Cashback')
          .where('emails.subject_id', 'in', cashbacks)
          .execute();
      await waitFor(
        'every e-mail not leased by the dead server sent',
        async () => {
          const rows = await emailRows();
          return rows.length === cashbacks.length && rows.every((r) => r.status === 'SENT' || (r.leased_until && r.leased_until > new Date())) && rows;
        },
        30_000,
      );
      await adminQuery(scratch.url, `update queued_jobs set leased_until = now() where queue = 'emails' and status = 'RUNNING' and leased_until > now()`);
      const sentRows = await waitFor('every e-mail sent', async () => {
        const rows = await emailRows();
        return rows.every((r) => r.status === 'SENT') && rows;
      });
      for (const e of sentRows) expect(mail.count(`<${e.id}@hashback.email>`), `e-mail ${e.id} received`).toBeGreaterThanOrEqual(1);
      const duplicates = await adminQuery(scratch.url, 'select kind, subject_type, subject_id from emails group by kind, subject_type, subject_id having count(*) > 1');
      expect(duplicates).toEqual([]);

      // Positions: every event sequenced, 1..N with no hole (the killed sequencer took none).
      await waitFor('every event sequenced', async () => (await adminQuery(scratch.url, 'select 1 from events where position is null limit 1')).length === 0);
      const positions = (await adminQuery<{ position: string }>(scratch.url, 'select position from events order by position')).map((r) => Number(r.position));
      const holes = positions.filter((p, i) => p !== i + 1).slice(0, 3);
      expect(holes, `positions with a hole before them (of ${positions.length})`).toEqual([]);

      // The reader resumes on B from the last cursor it saw on A and misses nothing.
      const last = first.events.at(-1)!.cursor;
      const expected = (
        await adminQuery<{ position: string }>(scratch.url, `select position from events where topic = 'CASHBACK' and user_id = $1 and position > $2 order by position`, [
          userId,
          positionOf(last),
        ])
      ).map((r) => Number(r.position));
      resumed = openStream(b.wsUrl, shopper.token, { after: last });
      await waitFor(`the resumed reader to receive ${expected.length} events`, () => resumed!.events.length >= expected.length, 20_000);
      const seen = [...first.events, ...resumed.events].map((e) => positionOf(e.cursor));
      const all = (
        await adminQuery<{ position: string }>(scratch.url, `select position from events where topic = 'CASHBACK' and user_id = $1 and position >= $2 order by position`, [
          userId,
          positionOf(first.events[0]!.cursor),
        ])
      ).map((r) => Number(r.position));
      expect(seen, 'what the reader saw before and after the kill, in order, once each').toEqual(all);
    } finally {
      await first?.stop();
      await resumed?.stop();
      await holder.end().catch(() => undefined);
      await rowLocker.end().catch(() => undefined);
      await a.stop();
      await mail.stop();
    }
  }, 120_000);

  it('an SMTP server down then up: e-mails wait without spending attempts, then go out once each', async () => {
    const mail = new MailSink(await freePort()); // not listening yet: connections are refused
    // One attempt allowed: an outage that counted as attempts would fail the e-mail for good.
    const server = await start({ JOBS: 'true', JOB_INTERVAL_MS: '100', SMTP_URL: `smtp://127.0.0.1:${mail.port}`, EMAIL_MAX_ATTEMPTS: '1' });
    dumpOnFailure(server);
    try {
      const api = apiOf(server);
      const partner = await api.newPartner();
      const shop = await newShop(api);
      const shopper = await newShopper(api);
      const answer = await sendBatch(api.gql, partner.key, { key: unique('mail'), items: [item(shop, shopper.card.number, { type: 'CLEARING', amount: 4200 })] });
      const cashbackId = dbId(answer!.data.ingestTransactions.results[0].cashback.id);
      const email = () =>
        scratch.database.db
          .selectFrom('emails')
          .innerJoin('queued_jobs', (join) => join.on('queued_jobs.queue', '=', 'emails').on(sql<boolean>`queued_jobs.key = emails.id::text`))
          .select(['emails.id', 'emails.status', 'queued_jobs.status as job_status', 'queued_jobs.attempts', 'queued_jobs.last_error'])
          .where('emails.subject_type', '=', 'Cashback')
          .where('emails.subject_id', '=', cashbackId)
          .executeTakeFirstOrThrow();

      // The job tried, the server refused the connection: the e-mail is still queued, no attempt spent.
      const tried = await waitFor('a failed delivery attempt', async () => {
        const row = await email();
        return (row.last_error !== null || row.status !== 'QUEUED') && row;
      });
      expect(tried.status, `after the refused connection: ${tried.status} (${tried.last_error})`).toBe('QUEUED');
      expect(tried).toMatchObject({ job_status: 'QUEUED', attempts: 0 });

      await mail.start();
      const sent = await waitFor('the e-mail sent', async () => {
        const row = await email();
        return row.status === 'SENT' && row;
      });
      // Then a later e-mail: once it has arrived, a second copy of the first would have too.
      const marker = await sendBatch(api.gql, partner.key, { key: unique('mail'), items: [item(shop, shopper.card.number, { type: 'CLEARING', amount: 4300 })] });
      const markerId = dbId(marker!.data.ingestTransactions.results[0].cashback.id);
      const markerEmail = await waitFor('the later e-mail sent', async () => {
        const row = await scratch.database.db.selectFrom('emails').selectAll().where('subject_type', '=', 'Cashback').where('subject_id', '=', markerId).executeTakeFirstOrThrow();
        return row.status === 'SENT' && row;
      });
      await waitFor('the later e-mail received', () => mail.count(`<${markerEmail.id}@hashback.email>`) === 1);
      expect(mail.count(`<${sent.id}@hashback.email>`), 'the first e-mail was received once').toBe(1);
      expect(mail.received).toHaveLength(2);
    } finally {
      await server.stop();
      await mail.stop();
    }
  }, 60_000);
});
