/** The node types of the cards module, declared once; other modules import them from here. */
import type { CardRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleCards } from './cards.service.js';

export const CardRef = visibleNodeRef<CardRow>('Card', loadVisibleCards);
