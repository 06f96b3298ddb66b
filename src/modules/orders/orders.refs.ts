/** The node types of the orders module, declared once; other modules import them from here. */
import type { OrderRow, PurchaseIntentRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleIntents, loadVisibleOrders } from './orders.service.js';

export const PurchaseIntentRef = visibleNodeRef<PurchaseIntentRow>('PurchaseIntent', loadVisibleIntents);
export const OrderRef = visibleNodeRef<OrderRow>('Order', loadVisibleOrders);
