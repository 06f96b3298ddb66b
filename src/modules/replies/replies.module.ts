/**
 * Declares the replies module: what the platform should post back to delivered posts, for the
 * partner that delivered them (query, acknowledgement, and the `social_reply.created` event).
 */
import { defineModule } from '../module.js';
import { SOCIAL_REPLY_TOPIC } from './replies.topics.js';
import './replies.schema.js';

export const repliesModule = defineModule({
  name: 'replies',
  topics: [SOCIAL_REPLY_TOPIC],
});
