/** The node types of the users module, declared once; other modules import them from here. */
import type { UserRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleUsers } from './users.service.js';

export const UserRef = visibleNodeRef<UserRow>('User', loadVisibleUsers);
