/** The node types of the activations module, declared once; other modules import them from here. */
import type { ActivationRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleActivations } from './activations.service.js';

export const ActivationRef = visibleNodeRef<ActivationRow>('Activation', loadVisibleActivations);
