/** The events replies write: a reply was queued for the partner whose post it answers (webhook `social_reply.created`). */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const SOCIAL_REPLY_TOPIC = defineTopic({
  name: 'SOCIAL_REPLY',
  subjectType: 'SocialReply',
  prefix: 'social_reply',
  types: ['CREATED'],
  data: z.object({
    platform: z.enum(['X', 'INSTAGRAM']),
    inReplyToPostId: z.string(),
    kind: z.string(),
    text: z.string().max(500),
  }),
});
