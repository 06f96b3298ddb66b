/** The node types of the posts module, declared once; other modules import them from here. */
import type { PostRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisiblePosts } from './posts.service.js';

export const PostRef = visibleNodeRef<PostRow>('Post', loadVisiblePosts);
