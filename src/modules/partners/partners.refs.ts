/** The node types of the partners module, declared once; other modules import them from here. */
import type { PartnerRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisiblePartners } from './partners.service.js';

export const PartnerRef = visibleNodeRef<PartnerRow>('Partner', loadVisiblePartners);
