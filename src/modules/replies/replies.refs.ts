/** The node types of the replies module, declared once. */
import type { SocialReplyRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleReplies } from './replies.service.js';

export const SocialReplyRef = visibleNodeRef<SocialReplyRow>('SocialReply', loadVisibleReplies);
