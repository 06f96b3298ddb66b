/** The node types of the merchants module, declared once; other modules import them from here. */
import type { MerchantRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleMerchants } from './merchants.service.js';

export const MerchantRef = visibleNodeRef<MerchantRow>('Merchant', loadVisibleMerchants);
