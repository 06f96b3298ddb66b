/**
 * E-mail delivery: each stored e-mail is a job of the durable queue (`emails`, keyed by the
 * e-mail's id), and this handler sends it over SMTP. The queue brings the rest: one worker at a
 * time per e-mail (lease + SKIP LOCKED, across instances), retries with backoff, FAILED after
 * EMAIL_MAX_ATTEMPTS, takeover of a dead worker's e-mail after its lease (src/jobs/queue.ts).
 *
 * A crash after the server accepted a message and before its job was settled sends it again; it
 * carries the same Message-ID each time, derived from the e-mail's id, so the receiving side can
 * drop the duplicate.
 *
 * An SMTP server that cannot be reached is not the e-mails' fault: such a failure hands the
 * e-mail (and the rest of its batch) back without spending an attempt, and until the server
 * answers again (checked with one connection per round, before claiming anything) no e-mail is
 * claimed, so an outage costs no attempts, however long it lasts.
 */
import { createTransport } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.js';
import type { Logger } from '../../logger.js';
import { backoffMs, type Backoff } from '../../lib/backoff.js';
import { describeError } from '../../lib/error-text.js';
import { workQueue, type QueueHandler } from '../../jobs/queue.js';
import { findEmailById, markEmailFailed, markEmailSent } from './emails.repository.js';
import { EMAIL_QUEUE, type EmailJobPayload } from './emails.service.js';

export { describeError };

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

/** After a failed send: 30 s doubling per attempt, capped at one hour, less up to 10% jitter. */
export const EMAIL_BACKOFF: Backoff = { baseMs: 30_000, capMs: 60 * 60 * 1000, jitter: 0.1 };

/** How long to wait after the `attempts`-th failed attempt; `random` is in [0, 1). */
export const retryDelayMs = (attempts: number, random: number = Math.random()) => backoffMs(attempts, EMAIL_BACKOFF, random);

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

/** The queue handler that sends one e-mail per job; the e-mail row turns SENT or FAILED with its job. */
export function emailDeliveryHandler(db: Kysely<DB>, mailer: Mailer, options: { from: string }): QueueHandler {
  const payloadOf = (payload: Record<string, unknown>) => payload as unknown as EmailJobPayload;
  return {
    queue: EMAIL_QUEUE,
    available: mailer.available ? () => mailer.available!() : undefined,
    async run(job) {
      const email = await findEmailById(db, payloadOf(job.payload).emailId);
      if (!email) return { outcome: 'dead', error: 'the e-mail no longer exists' };
      try {
        await mailer.send({ to: email.recipient, from: options.from, subject: email.subject, text: email.body, messageId: messageIdOf(email.id) });
        return { outcome: 'done' };
      } catch (error) {
        const text = describeError(error);
        return error instanceof MailServerUnavailableError ? { outcome: 'unavailable', error: text } : { outcome: 'failed', error: text };
      }
    },
    async record(trx, job, settlement, now) {
      const { emailId } = payloadOf(job.payload);
      if (settlement.status === 'DONE') await markEmailSent(trx, emailId, now);
      else if (settlement.status === 'DEAD') await markEmailFailed(trx, emailId);
    },
    logFields: (job) => ({ emailId: payloadOf(job.payload).emailId, kind: payloadOf(job.payload).kind }),
    close: () => mailer.close(),
  };
}

/**
 * One round of e-mail delivery: claims the due e-mails' jobs and sends them one after another.
 * Each one ends sent, scheduled again or FAILED; one whose lease this worker lost is left to the
 * worker that holds it.
 */
export async function deliverDueEmails(db: Kysely<DB>, mailer: Mailer, options: DeliveryOptions): Promise<DeliveryResult> {
  const { from, ...work } = options;
  const r = await workQueue(db, emailDeliveryHandler(db, mailer, { from }), { ...work, backoff: EMAIL_BACKOFF });
  return { sent: r.done, failed: r.dead, retried: r.retried };
}
