/** The node types of the api-keys module, declared once; other modules import them from here. */
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleApiKeys, type ApiKeyWithPartner } from './api-keys.service.js';

export const ApiKeyRef = visibleNodeRef<ApiKeyWithPartner>('ApiKey', loadVisibleApiKeys);
