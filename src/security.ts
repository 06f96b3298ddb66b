/**
 * Secrets the server works with: the user-token signing key and the card key ring. In production
 * each must come from configuration; in development a missing one is generated once into the
 * data folder (with a warning), so `npm start` needs no setup.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { loadCardKeys, type CardKeyRing } from './modules/cards/card-crypto.js';

export interface Security {
  tokenKey: Uint8Array;
  tokenTtlSeconds: number;
  cards: { ring: CardKeyRing; fingerprintKey: Buffer };
}

function developmentTokenSecret(dataDir: string, warn: (message: string) => void): string {
  const file = path.join(dataDir, 'token-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  warn(`TOKEN_SECRET is not set: generated a development secret into ${file}. Never use it in production.`);
  return secret;
}

export function loadSecurity(config: Config, warn: (message: string) => void): Security {
  const production = config.nodeEnv === 'production';
  let tokenSecret = config.tokenSecret;
  if (!tokenSecret) {
    if (production) {
      throw new Error(
        'TOKEN_SECRET is required in production (32+ random characters, e.g. `openssl rand -base64 32`).',
      );
    }
    tokenSecret = developmentTokenSecret(config.dataDir, warn);
  }
  return {
    tokenKey: new TextEncoder().encode(tokenSecret),
    tokenTtlSeconds: config.tokenTtlSeconds,
    cards: loadCardKeys({
      encryptionKeys: config.cardEncryptionKeys,
      fingerprintKey: config.cardFingerprintKey,
      production,
      dataDir: config.dataDir,
      warn,
    }),
  };
}
