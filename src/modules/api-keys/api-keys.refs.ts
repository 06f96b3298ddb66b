/** The node types of the api-keys module, declared once; other modules import them from here. */
import type { ApiKeyRow } from '../../../db/types.js';
import { visibleNodeRef } from '../../schema/node-ref.js';
import { loadVisibleApiKeys } from './api-keys.service.js';

export const ApiKeyRef = visibleNodeRef<ApiKeyRow>('ApiKey', loadVisibleApiKeys);
