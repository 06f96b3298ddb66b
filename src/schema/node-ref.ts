/**
 * How a domain declares its node type once, in its own `<domain>.refs.ts`: a Relay node that
 * loads through a dataloader applying the caller's visibility (the module's `loadVisible…`), so a
 * field can never leak a row its id lookup would hide. Other domains import the ref from there.
 */
import type { Context } from '../context.js';
import { isUuid } from '../lib/ids.js';
import { builder } from './builder.js';

export function visibleNodeRef<T extends { id: string }>(name: string, loadVisible: (ctx: Context, ids: readonly string[]) => Promise<T[]>) {
  return builder.loadableNodeRef<T, string, string>(name, {
    // Ids that are not uuids cannot exist; they never reach SQL.
    load: (ids: string[], ctx: Context) => loadVisible(ctx, ids.filter(isUuid)),
    sort: (row: T) => row.id,
    id: { resolve: (row: T) => row.id },
  });
}
