/**
 * `npm run create-api-key -- --role admin|merchant|partner [--merchant <merchant id>]
 *   [--scopes transactions:write,credits:write,posts:write] [--name "what it is for"]`
 * Mints a key in the configured database and prints it as the last line of output.
 */
import { parseArgs } from 'node:util';
import type { PartnerScope } from '../src/context.js';
import { PARTNER_SCOPES } from '../src/modules/index.js';
import { decodeGlobalId, isUuid } from '../src/lib/ids.js';
import { mintApiKey } from '../src/modules/api-keys/api-keys.service.js';
import { findMerchantById } from '../src/modules/merchants/merchants.service.js';
import { openConfiguredDatabase } from './configured-database.js';

const USAGE =
  'Usage: npm run create-api-key -- --role admin|merchant|partner [--merchant <id>] [--scopes a,b] [--name <text>]';

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    merchant: { type: 'string' },
    scopes: { type: 'string' },
    name: { type: 'string' },
  },
});

const role = values.role?.toUpperCase();
if (role !== 'ADMIN' && role !== 'MERCHANT' && role !== 'PARTNER') usage('--role must be admin, merchant or partner.');
if (role === 'MERCHANT' && !values.merchant) usage('--merchant is required for a merchant key.');
if (role !== 'MERCHANT' && values.merchant) usage('--merchant is only for merchant keys.');
const scopes = (values.scopes ?? (role === 'PARTNER' ? PARTNER_SCOPES.join(',') : ''))
  .split(',')
  .filter(Boolean) as PartnerScope[];
const unknown = scopes.filter((s) => !PARTNER_SCOPES.includes(s));
if (unknown.length > 0) usage(`Unknown scope(s): ${unknown.join(', ')}. Known: ${PARTNER_SCOPES.join(', ')}.`);
if (role !== 'PARTNER' && scopes.length > 0) usage('--scopes is only for partner keys.');

const { database } = await openConfiguredDatabase();
try {
  let merchantId: string | null = null;
  if (values.merchant) {
    merchantId = isUuid(values.merchant) ? values.merchant : (decodeGlobalId(values.merchant)?.id ?? null);
    if (!merchantId || !(await findMerchantById(database.db, merchantId))) usage(`No merchant with id ${values.merchant}.`);
  }
  const { apiKey, secret } = await mintApiKey(database.db, {
    name: values.name ?? `${role.toLowerCase()} key (command line)`,
    role,
    merchantId,
    scopes,
  });
  console.log(`Created ${role} key ${apiKey.prefix}… (shown once; store it now):`);
  console.log(secret);
} finally {
  await database.close();
}
