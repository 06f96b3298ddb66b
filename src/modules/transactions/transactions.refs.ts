/** The node types of the transactions module, declared once; other modules import them from here. */
import type { TransactionRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleTransactions } from './transactions.service.js';

export const TransactionRef = visibleNodeRef<TransactionRow>('Transaction', loadVisibleTransactions);
