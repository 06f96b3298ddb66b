/** The node types of the social module, declared once. */
import type { SocialAccountRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleSocialAccounts } from './social.service.js';

export const SocialAccountRef = visibleNodeRef<SocialAccountRow>('SocialAccount', loadVisibleSocialAccounts);
