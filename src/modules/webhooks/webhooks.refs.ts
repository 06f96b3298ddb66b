/** The node types of the webhooks module, declared once. */
import type { WebhookEndpointRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleEndpoints } from './webhooks.service.js';

export const WebhookEndpointRef = visibleNodeRef<WebhookEndpointRow>('WebhookEndpoint', loadVisibleEndpoints);
