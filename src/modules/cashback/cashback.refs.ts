/** The node types of the cashback module, declared once; other modules import them from here. */
import type { CashbackRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleCashbacks } from './cashback.service.js';

export const CashbackRef = visibleNodeRef<CashbackRow>('Cashback', loadVisibleCashbacks);
