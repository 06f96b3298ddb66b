/** The node types of the credits module, declared once; other modules import them from here. */
import { visibleNodeRef } from '../../schema/node-ref.js';
import type { CreditWithCard } from './credits.repository.js';
import { loadVisibleCredits } from './credits.service.js';

export const StatementCreditRef = visibleNodeRef<CreditWithCard>('StatementCredit', loadVisibleCredits);
