/**
 * `npm run create-api-key -- --role admin|merchant|partner [--merchant <merchant id>]
 *   [--partner <partner id> | --new-partner "<partner name>"]
 *   [--scopes transactions:write,credits:write,posts:write] [--name "what it is for"]`
 * Mints a key in the configured database and prints it as the last line of output.
 *
 * A partner key belongs to a partner: `--partner` issues another key to an existing one (to
 * rotate: issue one, switch the integration over, then revoke the old key with `revokeApiKey`),
 * `--new-partner` creates the partner first. With `--new-partner`, `--scopes` are the partner's
 * (default: all); with `--partner`, they narrow the key to some of the partner's (default: all of
 * them, following the partner).
 */
import { parseArgs } from 'node:util';
import type { PartnerScope } from '../src/context.js';
import { PARTNER_SCOPES } from '../src/modules/index.js';
import { decodeGlobalId, isUuid } from '../src/lib/ids.js';
import { mintApiKey } from '../src/modules/api-keys/api-keys.service.js';
import { findMerchantById } from '../src/modules/merchants/merchants.service.js';
import { createPartner, findPartnerById } from '../src/modules/partners/partners.service.js';
import { DomainError } from '../src/lib/errors.js';
import { createLogger } from '../src/logger.js';
import type { Context } from '../src/context.js';
import { openConfiguredDatabase } from './configured-database.js';

const USAGE =
  'Usage: npm run create-api-key -- --role admin|merchant|partner [--merchant <id>] [--partner <id> | --new-partner <name>] [--scopes a,b] [--name <text>]';

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    merchant: { type: 'string' },
    partner: { type: 'string' },
    'new-partner': { type: 'string' },
    scopes: { type: 'string' },
    name: { type: 'string' },
  },
});

const role = values.role?.toUpperCase();
if (role !== 'ADMIN' && role !== 'MERCHANT' && role !== 'PARTNER') usage('--role must be admin, merchant or partner.');
if (role === 'MERCHANT' && !values.merchant) usage('--merchant is required for a merchant key.');
if (role !== 'MERCHANT' && values.merchant) usage('--merchant is only for merchant keys.');
const newPartner = values['new-partner'];
if (role === 'PARTNER' && !values.partner === !newPartner) usage('A partner key needs exactly one of --partner <id> or --new-partner <name>.');
if (role !== 'PARTNER' && (values.partner || newPartner)) usage('--partner and --new-partner are only for partner keys.');
const scopes = values.scopes?.split(',').filter(Boolean) as PartnerScope[] | undefined;
const unknown = (scopes ?? []).filter((s) => !PARTNER_SCOPES.includes(s));
if (unknown.length > 0) usage(`Unknown scope(s): ${unknown.join(', ')}. Known: ${PARTNER_SCOPES.join(', ')}.`);
if (role !== 'PARTNER' && scopes && scopes.length > 0) usage('--scopes is only for partner keys.');

const idOf = (value: string, type: string) => (isUuid(value) ? value : (decodeGlobalId(value)?.typename === type ? decodeGlobalId(value)!.id : null));

const { database } = await openConfiguredDatabase();
try {
  let merchantId: string | null = null;
  if (values.merchant) {
    merchantId = idOf(values.merchant, 'Merchant');
    if (!merchantId || !(await findMerchantById(database.db, merchantId))) usage(`No merchant with id ${values.merchant}.`);
  }
  let partnerId: string | null = null;
  let keyScopes: PartnerScope[] | null = null;
  if (values.partner) {
    partnerId = idOf(values.partner, 'Partner');
    const partner = partnerId ? await findPartnerById(database.db, partnerId) : undefined;
    if (!partner) usage(`No partner with id ${values.partner}.`);
    if (partner.status !== 'ACTIVE') usage(`Partner ${partner.name} is ${partner.status}: reactivate it first (activatePartner).`);
    const missing = (scopes ?? []).filter((s) => !partner.scopes.includes(s));
    if (missing.length > 0) usage(`Partner ${partner.name} does not hold ${missing.join(', ')}; a key may only narrow its partner's scopes.`);
    keyScopes = scopes ?? null;
  } else if (newPartner) {
    // Through the service, as an admin would: the partner obeys the same rules as over the API.
    const ctx = { db: database.db, principal: { kind: 'admin', apiKeyId: 'command line' }, logger: createLogger({ logLevel: 'warn' }) } as unknown as Context;
    const { partner } = await createPartner(ctx, { name: newPartner, scopes: scopes ?? [...PARTNER_SCOPES] }).catch((error: unknown) =>
      error instanceof DomainError ? usage(`--new-partner: ${error.message}`) : Promise.reject(error),
    );
    partnerId = partner.id;
    console.log(`Created partner ${partner.name} (${partner.id}) with ${partner.scopes.join(', ') || 'no scopes'}.`);
  }
  const { apiKey, secret } = await mintApiKey(database.db, {
    name: values.name ?? `${role.toLowerCase()} key (command line)`,
    role,
    merchantId,
    partnerId,
    scopes: keyScopes,
  });
  console.log(`Created ${role} key ${apiKey.prefix}… (shown once; store it now):`);
  console.log(secret);
} finally {
  await database.close();
}
