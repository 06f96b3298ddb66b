/**
 * Card numbers at rest: AES-256-GCM under a key ring from configuration (first key active, older
 * ones kept to decrypt until rotation has re-encrypted every card), and a keyed HMAC fingerprint
 * to find a number again without decrypting. Also where the keys come from: configuration in
 * production, a generated file in the data folder in development. Error messages name the
 * setting and the problem, never key material or a card number.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Which keys exist and which one seals new ciphertexts. The key bytes themselves are kept in a
 * module-private WeakMap, so logging or serialising a ring (or the security context holding it)
 * cannot leak them.
 */
export interface CardKeyRing {
  /** The key new ciphertexts are sealed with: the first configured entry. */
  readonly activeKeyId: string;
  /** Every configured key id, active first. */
  readonly keyIds: readonly string[];
}

export interface SealedCardNumber {
  keyId: string;
  /** base64(iv ‖ tag ‖ encrypted digits). */
  ciphertext: string;
}

export interface CardKeys {
  ring: CardKeyRing;
  fingerprintKey: Buffer;
}

const keyMaterial = new WeakMap<CardKeyRing, ReadonlyMap<string, Buffer>>();

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
// Node's base64 decoder skips characters outside the alphabet; check first so a typo is refused
// rather than silently producing a different key.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const ENCRYPTION_KEYS_HELP =
  "comma-separated keyId:base64key entries, the first one active; generate a key with " +
  `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;
const FINGERPRINT_KEY_HELP =
  `base64 of 32 or more random bytes, e.g. node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"; ` +
  'it must never change once cards are linked, as duplicate detection relies on it';

/** Parses `keyId:base64key,…`; `source` names the setting in error messages. */
export function parseCardKeyRing(value: string, source = 'CARD_ENCRYPTION_KEYS'): CardKeyRing {
  const entries = value.split(',').map((entry) => entry.trim());
  const keys = new Map<string, Buffer>();
  const positions = new Map<string, number>();
  entries.forEach((entry, index) => {
    const position = index + 1;
    const problem = (what: string) => new Error(`${source} entry ${position}: ${what} (expected ${ENCRYPTION_KEYS_HELP})`);
    if (entry === '') throw problem('is empty');
    const colon = entry.indexOf(':');
    // Neither side is echoed: a missing colon or a bad id may mean the key was pasted there.
    if (colon < 0) throw problem('has no ":" between the key id and the key');
    const keyId = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(keyId)) throw problem('the key id must be 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-"');
    const earlier = positions.get(keyId);
    if (earlier !== undefined) throw problem(`key id "${keyId}" is already used by entry ${earlier}`);
    if (!BASE64.test(encoded)) throw problem(`the key of "${keyId}" is not base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw problem(`the key of "${keyId}" must decode to exactly ${KEY_BYTES} bytes, got ${key.length}`);
    }
    keys.set(keyId, key);
    positions.set(keyId, position);
  });
  const keyIds = [...keys.keys()];
  const ring: CardKeyRing = Object.freeze({ activeKeyId: keyIds[0]!, keyIds: Object.freeze(keyIds) });
  keyMaterial.set(ring, keys);
  return ring;
}

/** Parses the HMAC key for fingerprints; `source` names the setting in error messages. */
export function parseFingerprintKey(value: string, source = 'CARD_FINGERPRINT_KEY'): Buffer {
  const encoded = value.trim();
  if (!BASE64.test(encoded)) throw new Error(`${source} is not base64 (expected ${FINGERPRINT_KEY_HELP})`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < KEY_BYTES) {
    throw new Error(`${source} decodes to ${key.length} bytes, at least ${KEY_BYTES} are needed (expected ${FINGERPRINT_KEY_HELP})`);
  }
  return key;
}

function keyOf(ring: CardKeyRing, keyId: string): Buffer {
  const key = keyMaterial.get(ring)?.get(keyId);
  if (key) return key;
  // Ids come from the database here: only echo one that looks like an id.
  const shown = KEY_ID.test(keyId) ? `"${keyId}"` : '(malformed id)';
  throw new Error(
    `No card encryption key ${shown} in CARD_ENCRYPTION_KEYS (holds ${ring.keyIds.join(', ') || 'none'}); ` +
      'a retired key must stay in the ring until rotation has re-encrypted every card sealed with it.',
  );
}

/** Seals a card number under the active key; the key id is authenticated with it. */
export function encryptCardNumber(ring: CardKeyRing, digits: string): SealedCardNumber {
  if (!/^[0-9]{12,19}$/.test(digits)) throw new Error('encryptCardNumber takes the 12 to 19 digits of a card number');
  return seal(ring, digits, '');
}

export function decryptCardNumber(ring: CardKeyRing, sealed: SealedCardNumber): string {
  return open(ring, sealed, '', 'A card ciphertext');
}

/**
 * Seals another secret (e.g. a webhook signing secret) under the same ring, so it rotates with the
 * card keys. `purpose` is authenticated beside the key id: a ciphertext sealed for one purpose
 * (or a card number) cannot be opened as another.
 */
export function sealSecret(ring: CardKeyRing, plaintext: string, purpose: string): SealedCardNumber {
  if (purpose === '') throw new Error('sealSecret needs a purpose');
  return seal(ring, plaintext, purpose);
}

export function openSecret(ring: CardKeyRing, sealed: SealedCardNumber, purpose: string): string {
  if (purpose === '') throw new Error('openSecret needs a purpose');
  return open(ring, sealed, purpose, `A ${purpose} ciphertext`);
}

// Card numbers keep the key id alone as authenticated data (what existing rows were sealed with).
const aadOf = (keyId: string, purpose: string) => Buffer.from(purpose === '' ? keyId : `${keyId}|${purpose}`, 'utf8');

function seal(ring: CardKeyRing, plaintext: string, purpose: string): SealedCardNumber {
  const keyId = ring.activeKeyId;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(ring, keyId), iv, { authTagLength: TAG_BYTES });
  // Binding the id means a ciphertext relabelled with another key id fails instead of decrypting.
  cipher.setAAD(aadOf(keyId, purpose));
  const encrypted = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), encrypted]).toString('base64') };
}

function open(ring: CardKeyRing, sealed: SealedCardNumber, purpose: string, what: string): string {
  const key = keyOf(ring, sealed.keyId);
  const bytes = BASE64.test(sealed.ciphertext) ? Buffer.from(sealed.ciphertext, 'base64') : Buffer.alloc(0);
  const failed = () =>
    new Error(`${what} under key "${sealed.keyId}" failed authentication: it was altered, truncated or sealed under another key.`);
  if (bytes.length <= IV_BYTES + TAG_BYTES) throw failed();
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(sealed.keyId, purpose));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw failed();
  }
}

/** Keyed, so a leaked table of fingerprints cannot be matched against all possible card numbers. */
export function fingerprintCardNumber(fingerprintKey: Buffer, digits: string): string {
  return createHmac('sha256', fingerprintKey).update(digits, 'utf8').digest('hex');
}

/** Whether a ciphertext sealed under `keyId` should be re-encrypted under the active key. */
export function needsRotation(ring: CardKeyRing, keyId: string): boolean {
  return keyId !== ring.activeKeyId;
}

/** Fresh keys in the formats of CARD_ENCRYPTION_KEYS and CARD_FINGERPRINT_KEY. */
export function generateCardKeys(): { encryptionKeys: string; fingerprintKey: string } {
  // A dated id tells operators which key is older when they list the ring during a rotation.
  const keyId = `k-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(2).toString('hex')}`;
  return {
    encryptionKeys: `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`,
    fingerprintKey: randomBytes(KEY_BYTES).toString('base64'),
  };
}

function readDevelopmentKeys(file: string): { encryptionKeys: string; fingerprintKey: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    parsed = undefined;
  }
  const keys = parsed as { encryptionKeys?: unknown; fingerprintKey?: unknown } | undefined;
  if (typeof keys?.encryptionKeys !== 'string' || typeof keys.fingerprintKey !== 'string') {
    throw new Error(
      `${file} is not a development card key file ({"encryptionKeys": …, "fingerprintKey": …}). ` +
        'Fix or delete it; cards linked with the keys it held can no longer be decrypted without them.',
    );
  }
  return { encryptionKeys: keys.encryptionKeys, fingerprintKey: keys.fingerprintKey };
}

/** Reads the development keys from `file`, or generates and writes them if there are none yet. */
function developmentKeys(file: string, warn: (msg: string) => void): { encryptionKeys: string; fingerprintKey: string } {
  if (fs.existsSync(file)) return readDevelopmentKeys(file);
  const generated = generateCardKeys();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    // Exclusive create: of two processes starting together, one writes and both use its keys.
    fs.writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readDevelopmentKeys(file);
  }
  warn(
    `CARD_ENCRYPTION_KEYS / CARD_FINGERPRINT_KEY not set: generated development card keys into ${file}. ` +
      'Never use them in production; set both variables there.',
  );
  return generated;
}

/**
 * The card keys for this process. In production both settings are required. Elsewhere a missing
 * one is taken from `<dataDir>/card-keys.json`, generated (with a warning) on first use, so a
 * fresh checkout runs without setup and keeps decrypting its cards across restarts.
 */
export function loadCardKeys(options: {
  encryptionKeys?: string;
  fingerprintKey?: string;
  production: boolean;
  dataDir?: string;
  warn: (msg: string) => void;
}): CardKeys {
  let encryptionKeys = options.encryptionKeys || undefined;
  let fingerprintKey = options.fingerprintKey || undefined;
  let encryptionSource = 'CARD_ENCRYPTION_KEYS';
  let fingerprintSource = 'CARD_FINGERPRINT_KEY';
  if (!encryptionKeys || !fingerprintKey) {
    const missing = [
      ...(encryptionKeys ? [] : [`CARD_ENCRYPTION_KEYS is not set: it takes ${ENCRYPTION_KEYS_HELP}.`]),
      ...(fingerprintKey ? [] : [`CARD_FINGERPRINT_KEY is not set: it takes ${FINGERPRINT_KEY_HELP}.`]),
    ];
    if (options.production) throw new Error(`Card keys are required in production. ${missing.join(' ')}`);
    if (!options.dataDir) throw new Error(`Card keys are missing and there is no data folder to keep development keys in. ${missing.join(' ')}`);
    const file = path.join(options.dataDir, 'card-keys.json');
    const development = developmentKeys(file, options.warn);
    if (!encryptionKeys) {
      encryptionKeys = development.encryptionKeys;
      encryptionSource = `encryptionKeys in ${file}`;
    }
    if (!fingerprintKey) {
      fingerprintKey = development.fingerprintKey;
      fingerprintSource = `fingerprintKey in ${file}`;
    }
  }
  const ring = parseCardKeyRing(encryptionKeys, encryptionSource);
  const fingerprint = parseFingerprintKey(fingerprintKey, fingerprintSource);
  // Separate keys are what let encryption keys rotate while fingerprints stay stable.
  if ([...keyMaterial.get(ring)!.values()].some((key) => key.equals(fingerprint))) {
    throw new Error(`${fingerprintSource} must not be one of the card encryption keys.`);
  }
  return { ring, fingerprintKey: fingerprint };
}
