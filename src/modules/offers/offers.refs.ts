/** The node types of the offers module, declared once; other modules import them from here. */
import type { OfferRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleOffers } from './offers.service.js';

export const OfferRef = visibleNodeRef<OfferRow>('Offer', loadVisibleOffers);
