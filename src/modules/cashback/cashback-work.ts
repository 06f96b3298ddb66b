/**
 * The lifecycle of cashback as one unit of work: each transition (created, confirmed, reduced or
 * reversed, credited) updates the row in memory, moves the offer's budget, records the balanced
 * ledger posting, the history entry and the e-mail to send; `flush` writes all of it in a fixed,
 * small number of statements inside the caller's transaction. Ingest, the expiry job and
 * settlement all change cashback through here, so the rules of money live in one place.
 *
 * The caller holds the locks: offers first (in id order), then cashbacks.
 */
import type {
  CashbackRow,
  CashbackStatus,
  DB,
  EmailKind,
  NewCashback,
  NewCashbackChange,
  NewEmail,
  NewEvent,
  NewLedgerEntry,
  OfferRow,
} from '../../../db/types.js';
import type { Kysely } from 'kysely';
import { composeCashbackEmail } from '../emails/email-content.js';
import { emailsInsertSteps } from '../emails/emails.service.js';
import { moveBudgets } from '../offers/offers.service.js';
import { eventsInsert } from '../../outbox/outbox.repository.js';
import { offerEvent } from '../offers/offers.topics.js';
import { CASHBACK_TOPIC } from './cashback.topics.js';
import { ledgerEntriesInsert, posting } from '../ledger/ledger.js';
import {
  cashbackChangesInsert,
  cashbacksInsert,
  cashbacksUpdate,
  findEmailFacts,
  openCreditsResize,
  type EmailFacts,
} from './cashback.repository.js';
import { writeSteps, type WriteStep } from '../../lib/statements.js';

/** Why cashback is smaller than promised, or gone. */
export const CASHBACK_REASONS = {
  LIMITED_BY_BUDGET: "The reward was cut to what was left of the offer's budget.",
  PARTIALLY_REFUNDED: 'Part of the purchase was refunded; the reward shrank in proportion.',
  REFUNDED: 'The purchase was refunded in full.',
  BELOW_MIN_SPEND: 'What was paid (after clearing or refunds) is below the minimum spend.',
  AUTH_EXPIRED: 'The card authorisation was never cleared and expired.',
} as const;

export type CashbackReason = keyof typeof CASHBACK_REASONS;

type ChangeType = NewCashbackChange['type'];

export class CashbackWork {
  private readonly created = new Map<string, CashbackRow>();
  private readonly updated = new Map<string, CashbackRow>();
  private readonly changes: NewCashbackChange[] = [];
  private readonly entries: NewLedgerEntry[] = [];
  private readonly budgetDeltas = new Map<string, number>();
  private readonly creditResizes = new Map<string, number>();
  private readonly emails: { kind: EmailKind; cashback: CashbackRow }[] = [];

  /**
   * @param offers the locked offers, by id; their `budget_remaining` is kept current here.
   * @param options.emailFacts what an e-mail names, when the caller has read it already; the rest
   *   is read when the e-mails are written.
   */
  constructor(
    private readonly offers: ReadonlyMap<string, OfferRow>,
    private readonly options: { emailFacts?: (cashback: CashbackRow) => Omit<EmailFacts, 'cashback_id'> | undefined } = {},
  ) {}

  private offerOf(cashback: CashbackRow): OfferRow {
    const offer = this.offers.get(cashback.offer_id);
    if (!offer) throw new Error(`offer ${cashback.offer_id} of cashback ${cashback.id} is not locked`);
    return offer;
  }

  /** Takes `amount` from (positive) or gives it back to (negative) the offer's remaining budget. */
  private spend(offer: OfferRow, amount: number): void {
    const remaining = (offer.budget_remaining ?? 0) - amount;
    if (remaining < 0) throw new Error(`offer ${offer.id} would be overspent`);
    offer.budget_remaining = remaining;
    this.budgetDeltas.set(offer.id, (this.budgetDeltas.get(offer.id) ?? 0) - amount);
  }

  private touch(cashback: CashbackRow): void {
    if (!this.created.has(cashback.id)) this.updated.set(cashback.id, cashback);
  }

  private record(cashback: CashbackRow, type: ChangeType, transactionId: string | null): void {
    this.changes.push({
      cashback_id: cashback.id,
      type,
      status: cashback.status,
      amount: cashback.amount,
      reason: cashback.reason,
      transaction_id: transactionId,
    });
  }

  /** New cashback (PENDING for an auth, CONFIRMED for a standalone clearing) reserving its reward. */
  create(
    row: Omit<NewCashback, 'status' | 'occurred_at' | 'expected_credit_at' | 'expires_at' | 'created_at' | 'updated_at' | 'refunded_amount' | 'credited_amount' | 'clawback_amount' | 'reason'> & {
      status: 'PENDING' | 'CONFIRMED';
      reason: CashbackReason | null;
      occurred_at: Date;
      expires_at: Date | null;
      expected_credit_at: Date;
    },
    transactionId: string,
  ): CashbackRow {
    const now = new Date();
    const cashback: CashbackRow = { refunded_amount: 0, credited_amount: 0, clawback_amount: 0, created_at: now, updated_at: now, ...row };
    this.spend(this.offerOf(cashback), cashback.amount);
    this.entries.push(...posting('RESERVE', cashback, cashback.amount));
    this.created.set(cashback.id, cashback);
    this.record(cashback, cashback.status as ChangeType, transactionId);
    if (cashback.status === 'CONFIRMED') this.emails.push({ kind: 'CASHBACK_CONFIRMED', cashback });
    return cashback;
  }

  /**
   * Pending cashback confirmed by its clearing, recomputed on the cleared amount: the budget moves
   * both ways by the difference. The caller has already cut `amount` to what the budget allows.
   */
  confirm(
    cashback: CashbackRow,
    next: { purchaseAmount: number; granted: number; amount: number; reason: CashbackReason | null; expectedCreditAt: Date },
    transactionId: string,
  ): void {
    if (cashback.status !== 'PENDING') throw new Error(`cannot confirm ${cashback.status} cashback`);
    if (next.amount <= 0) throw new Error('confirmed cashback has a positive amount; reverse it instead');
    const delta = next.amount - cashback.amount;
    this.spend(this.offerOf(cashback), delta);
    this.entries.push(...posting('ADJUST', cashback, delta));
    Object.assign(cashback, {
      status: 'CONFIRMED' satisfies CashbackStatus,
      purchase_amount: next.purchaseAmount,
      refunded_amount: Math.min(cashback.refunded_amount, next.purchaseAmount),
      granted_amount: next.granted,
      amount: next.amount,
      reason: next.reason,
      expires_at: null,
      expected_credit_at: next.expectedCreditAt,
    });
    this.touch(cashback);
    this.record(cashback, 'CONFIRMED', transactionId);
    this.emails.push({ kind: 'CASHBACK_CONFIRMED', cashback });
  }

  /**
   * Shrinks cashback to `amount` (0 reverses it). Before the credit the reward goes back to the
   * budget; after it, the difference is a clawback owed by the user, never an edit of the credit.
   */
  reduce(cashback: CashbackRow, amount: number, reason: CashbackReason, transactionId: string | null, purchase?: { refundedAmount: number; purchaseAmount?: number }): void {
    if (cashback.status === 'REVERSED') throw new Error('cannot reduce reversed cashback');
    if (amount < 0 || amount > cashback.amount) throw new RangeError('cashback can only shrink');
    const cut = cashback.amount - amount;
    this.spend(this.offerOf(cashback), -cut);
    if (cashback.status === 'CREDITED') {
      this.entries.push(...posting('CLAWBACK', cashback, cut));
      cashback.clawback_amount += cut;
    } else {
      this.entries.push(...posting('RELEASE', cashback, cut));
      this.creditResizes.set(cashback.id, amount);
    }
    if (purchase) {
      cashback.purchase_amount = purchase.purchaseAmount ?? cashback.purchase_amount;
      cashback.refunded_amount = purchase.refundedAmount;
    }
    cashback.amount = amount;
    cashback.reason = reason;
    if (amount === 0) {
      cashback.status = 'REVERSED';
      cashback.expires_at = null;
    }
    this.touch(cashback);
    if (cut > 0 || amount === 0) this.record(cashback, 'REVERSED', transactionId);
  }

  /** A statement credit of `amount` was issued onto the card. */
  credit(cashback: CashbackRow, amount: number): void {
    if (cashback.status !== 'CONFIRMED') throw new Error(`cannot credit ${cashback.status} cashback`);
    this.entries.push(...posting('CREDIT', cashback, amount));
    cashback.credited_amount += amount;
    cashback.status = 'CREDITED';
    this.touch(cashback);
    this.record(cashback, 'CREDITED', null);
    this.emails.push({ kind: 'CASHBACK_CREDITED', cashback });
  }

  /** Cashback rows this work created. */
  get createdCashbacks(): readonly CashbackRow[] {
    return [...this.created.values()];
  }

  /**
   * Writes everything in ONE statement: the rows, their history, the ledger, the events (this
   * work's, then the caller's `events`), the offers' budgets, the e-mails and their delivery jobs,
   * with the caller's own `steps`. Only e-mail facts the caller did not give are read first. Call
   * once.
   *
   * `trx` is the caller's transaction, holding the offers' locks; or, with `offerVersions` (the
   * row versions the offers were read at, unlocked), the database itself: the statement is then
   * the whole transaction, and it fails as a serialization failure, leaving nothing, when an offer
   * it changes is no longer at its version.
   */
  async flush(
    trx: Kysely<DB>,
    extra: { steps?: readonly WriteStep[]; events?: readonly NewEvent[]; offerVersions?: ReadonlyMap<string, string> } = {},
  ): Promise<void> {
    const emails = await this.emailRows(trx);
    const steps: WriteStep[] = [...(extra.steps ?? [])];
    if (this.created.size > 0) steps.push({ statement: cashbacksInsert([...this.created.values()]) });
    if (this.updated.size > 0) steps.push({ statement: cashbacksUpdate([...this.updated.values()]) });
    if (this.creditResizes.size > 0) steps.push({ statement: openCreditsResize(this.creditResizes) });
    if (this.changes.length > 0) steps.push({ statement: cashbackChangesInsert(this.changes) });
    if (this.entries.length > 0) steps.push({ statement: ledgerEntriesInsert(this.entries) });
    // One INSERT for all events keeps their order: this work's changes, offers it exhausted, the caller's.
    const events = [...this.cashbackEvents(), ...this.exhaustedOffers(), ...(extra.events ?? [])];
    if (events.length > 0) steps.push({ statement: eventsInsert(events) });
    const budgets = moveBudgets(this.budgetDeltas, extra.offerVersions);
    if (budgets) steps.push({ statement: budgets, ...(extra.offerVersions ? { expect: this.budgetDeltas.size } : {}) });
    steps.push(...emailsInsertSteps(emails));
    await writeSteps(trx, steps);
  }

  /** The outbox: one event per change, for the user's confirmations and the merchant's redemptions. */
  private cashbackEvents(): NewEvent[] {
    return this.changes.map((change) => {
      const cashback = this.created.get(change.cashback_id) ?? this.updated.get(change.cashback_id)!;
      return CASHBACK_TOPIC.event(
        change.type,
        cashback.id,
        { userId: cashback.user_id, merchantId: cashback.merchant_id },
        { status: change.status, amount: change.amount, currency: cashback.currency, reason: change.reason ?? null, offerId: cashback.offer_id },
      );
    });
  }

  /** Offers this work spent down to zero. */
  private exhaustedOffers(): NewEvent[] {
    return [...this.budgetDeltas]
      .filter(([id, delta]) => delta < 0 && this.offers.get(id)?.budget_remaining === 0)
      .map(([id]) => offerEvent(this.offers.get(id)!, 'EXHAUSTED'));
  }

  /** The e-mails to store, their facts read first where the caller did not give them. */
  private async emailRows(trx: Kysely<DB>): Promise<NewEmail[]> {
    if (this.emails.length === 0) return [];
    const facts = new Map<string, Omit<EmailFacts, 'cashback_id'>>();
    for (const { cashback } of this.emails) {
      const known = this.options.emailFacts?.(cashback);
      if (known) facts.set(cashback.id, known);
    }
    const missing = [...new Set(this.emails.flatMap((e) => (facts.has(e.cashback.id) ? [] : [e.cashback.id])))];
    for (const fact of await findEmailFacts(trx, missing)) facts.set(fact.cashback_id, fact);
    const rows: NewEmail[] = [];
    for (const { kind, cashback } of this.emails) {
      const fact = facts.get(cashback.id);
      // Confirmed and reversed in the same unit of work: there is nothing to announce.
      if (!fact || cashback.status === 'REVERSED') continue;
      const { subject, body } = composeCashbackEmail(kind, {
        displayName: fact.display_name,
        merchantName: fact.merchant_name,
        reward: { amount: kind === 'CASHBACK_CREDITED' ? cashback.credited_amount : cashback.amount, currency: cashback.currency },
        purchase: { amount: cashback.purchase_amount, currency: cashback.currency },
        cardLast4: fact.last4,
        expectedCreditAt: cashback.expected_credit_at,
      });
      rows.push({ user_id: cashback.user_id, kind, subject_type: 'Cashback', subject_id: cashback.id, recipient: fact.email, subject, body });
    }
    return rows;
  }
}
