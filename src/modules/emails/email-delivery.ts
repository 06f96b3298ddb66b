/**
 * E-mail delivery: sends the stored e-mails over SMTP, retries with backoff, gives up after a
 * number of attempts.
 *
 * Why a small lease-based runner on the `emails` table itself: it works the same on Postgres and
 * on the embedded PGlite, needs no queue service next to the database, and any number of workers
 * (in one process or on several instances) share the work with `FOR UPDATE SKIP LOCKED`, so no
 * row is sent by two of them. A worker claims rows with a short statement that stamps a lease
 * (token and expiry) and then talks SMTP outside any transaction: holding a transaction (and its
 * row locks) open through a slow SMTP conversation would block the whole embedded server, which
 * has a single session. If a worker dies mid-send its lease expires and another worker takes the
 * row over; the dead worker's token no longer matches, so it cannot settle the row late.
 *
 * What leases cannot rule out is a crash after the server accepted a message and before the row
 * was marked sent: the message is then sent again. It carries the same Message-ID each time,
 * derived from the row id, so the receiving side can drop the duplicate.
 *
 * An SMTP server that cannot be reached is not the e-mails' fault: such a failure never marks an
 * e-mail FAILED, the claimed e-mails are handed back at once, and until the server answers again
 * (checked with one connection per round, before claiming anything) no e-mail is claimed, so no
 * attempt is spent on an outage, however long it lasts.
 */
import { createTransport } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.js';
import type { Logger } from '../../logger.js';
import { claimDueEmails, markEmailFailed, markEmailSent } from './emails.repository.js';
import { backoffMs, sleep, type Backoff } from '../../lib/backoff.js';

export interface Mailer {
  /**
   * Resolves once the server accepted the message; rejects with an error safe to store, a
   * `MailServerUnavailableError` when the server could not be reached or the connection broke.
   */
  send(message: { to: string; from: string; subject: string; text: string; messageId: string }): Promise<void>;
  /** False while the server is known to be unreachable and still does not answer (one check). */
  available?(): Promise<boolean>;
  close(): void;
}

/** The mail server could not be reached, or the connection broke: no fault of the message. */
export class MailServerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailServerUnavailableError';
  }
}

/** nodemailer's codes for "no conversation with the server", as opposed to a refused message. */
const UNREACHABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET']);

const SMTP_TIMEOUT_MS = 10_000;
const MAX_ERROR_LENGTH = 500;

/** A mailer over one SMTP server, `smtp://user:pass@host:port` or `smtps://…`. */
export function createSmtpMailer(smtpUrl: string): Mailer {
  const transport = createTransport({
    url: smtpUrl,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  // Whatever an error says, it must not repeat the URL or its credentials.
  const url = new URL(smtpUrl);
  const secrets = [smtpUrl, url.password, decoded(url.password), url.username, decoded(url.username)]
    .filter((s) => s.length > 0)
    .sort((a, b) => b.length - a.length);
  const redact = (error: unknown) => {
    let text = describeError(error);
    for (const secret of secrets) text = text.split(secret).join('[redacted]');
    return text;
  };
  let unreachable = false;
  return {
    async available() {
      if (!unreachable) return true;
      try {
        await transport.verify();
        unreachable = false;
      } catch {
        // still down
      }
      return !unreachable;
    },
    async send(message) {
      try {
        await transport.sendMail({
          from: message.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          messageId: message.messageId,
          disableFileAccess: true,
          disableUrlAccess: true,
        });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
          unreachable = true;
          throw new MailServerUnavailableError(redact(error));
        }
        throw new Error(redact(error));
      }
    },
    close: () => transport.close(),
  };
}

function decoded(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

/** The Message-ID of an e-mail: the same on every attempt, so receivers can drop a duplicate. */
export function messageIdOf(emailId: string): string {
  return `<${emailId}@hashback.email>`;
}

/**
 * Records an outcome, trying again when the database connection dropped meanwhile (the pool
 * opens a new one): once a message went out, losing the record would send it again when the
 * lease expires. The updates are conditional on the lease, so a repeat changes nothing twice.
 */
async function settle<T>(record: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await record();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(backoffMs(attempt, { baseMs: 100, capMs: 1000 }));
    }
  }
}

/** After a failed send: 30 s doubling per attempt, capped at one hour, less up to 10% jitter. */
export const EMAIL_BACKOFF: Backoff = { baseMs: 30_000, capMs: 60 * 60 * 1000, jitter: 0.1 };

/** How long to wait after the `attempts`-th failed attempt; `random` is in [0, 1). */
export const retryDelayMs = (attempts: number, random: number = Math.random()) => backoffMs(attempts, EMAIL_BACKOFF, random);

/**
 * A failure as stored in `last_error` and logged: one short line without URLs or addresses (an
 * SMTP reply often echoes the recipient).
 */
export function describeError(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const text = raw
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/[^\s<>@"']+@[^\s<>@"']+/g, '[address]')
    .replace(/\s+/g, ' ')
    .trim();
  return (text || 'unknown error').slice(0, MAX_ERROR_LENGTH);
}

export interface DeliveryOptions {
  from: string;
  /** Attempts after which a failing e-mail is marked FAILED. */
  maxAttempts: number;
  logger: Logger;
  now?: () => Date;
  /** Most e-mails claimed by one call. */
  limit?: number;
  /** How long a claim holds; past it, another worker may take the e-mail over. */
  leaseMs?: number;
}

export interface DeliveryResult {
  sent: number;
  /** Marked FAILED for good. */
  failed: number;
  /** Failed and scheduled again. */
  retried: number;
}

/**
 * Claims the due e-mails and sends them one after another. Each one ends sent, scheduled again
 * or FAILED; one whose lease this worker lost is left to the worker that holds it.
 */
export async function deliverDueEmails(db: Kysely<DB>, mailer: Mailer, options: DeliveryOptions): Promise<DeliveryResult> {
  const now = options.now ?? (() => new Date());
  const { logger } = options;
  const result: DeliveryResult = { sent: 0, failed: 0, retried: 0 };
  if (mailer.available && !(await mailer.available())) {
    logger.debug('mail server unavailable; e-mails wait');
    return result;
  }
  const claimed = await claimDueEmails(db, { now: now(), limit: options.limit ?? 20, leaseMs: options.leaseMs ?? 10 * 60_000 });

  let unavailable: string | undefined;
  for (const email of claimed) {
    const fields = { emailId: email.id, kind: email.kind, attempt: email.attempts };
    if (unavailable !== undefined) {
      // The server went away during this batch: hand the rest back, due now, not failed.
      if (await settle(() => markEmailFailed(db, email.id, email.lease_token, { error: unavailable!, nextAttemptAt: now(), final: false }))) result.retried++;
      continue;
    }
    // Earlier sends of this batch were slow: another worker may already have this row.
    if (now().getTime() >= email.leased_until.getTime()) {
      logger.warn(fields, 'email lease expired before sending; left to the next claim');
      continue;
    }
    let failure: string | undefined;
    try {
      await mailer.send({
        to: email.recipient,
        from: options.from,
        subject: email.subject,
        text: email.body,
        messageId: messageIdOf(email.id),
      });
    } catch (error) {
      failure = describeError(error);
      if (error instanceof MailServerUnavailableError) {
        unavailable = failure;
        logger.warn({ ...fields, error: failure }, 'mail server unavailable; e-mails wait until it answers');
        if (await settle(() => markEmailFailed(db, email.id, email.lease_token, { error: failure!, nextAttemptAt: now(), final: false }))) result.retried++;
        continue;
      }
    }

    if (failure === undefined) {
      if (await settle(() => markEmailSent(db, email.id, email.lease_token, now()))) {
        result.sent++;
        logger.info(fields, 'email sent');
      } else {
        logger.warn(fields, 'email sent after its lease was taken over');
      }
      continue;
    }

    const final = email.attempts >= options.maxAttempts;
    const nextAttemptAt = new Date(now().getTime() + retryDelayMs(email.attempts));
    if (!(await settle(() => markEmailFailed(db, email.id, email.lease_token, { error: failure, nextAttemptAt, final })))) {
      logger.warn({ ...fields, error: failure }, 'email send failed after its lease was taken over');
    } else if (final) {
      result.failed++;
      logger.error({ ...fields, error: failure }, 'email failed; giving up');
    } else {
      result.retried++;
      logger.warn({ ...fields, error: failure, nextAttemptAt }, 'email failed; will retry');
    }
  }
  return result;
}
