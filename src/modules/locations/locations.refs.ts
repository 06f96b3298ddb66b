/** The node types of the locations module, declared once; other modules import them from here. */
import type { LocationRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleLocations } from './locations.service.js';

export const LocationRef = visibleNodeRef<LocationRow>('Location', loadVisibleLocations);
