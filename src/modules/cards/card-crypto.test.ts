import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  decryptCardNumber,
  encryptCardNumber,
  fingerprintCardNumber,
  generateCardKeys,
  loadCardKeys,
  needsRotation,
  parseCardKeyRing,
  parseFingerprintKey,
} from './card-crypto.js';

const newKey = (bytes = 32) => randomBytes(bytes).toString('base64');
const PAN = '4242424242424242';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected a throw');
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-card-keys-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('parseCardKeyRing', () => {
  it('makes the first entry the active key and keeps the others for decryption', () => {
    const ring = parseCardKeyRing(`new-2027:${newKey()}, old_2026:${newKey()},k3:${newKey()}`);
    expect(ring.activeKeyId).toBe('new-2027');
    expect(ring.keyIds).toEqual(['new-2027', 'old_2026', 'k3']);
  });
  it('accepts url-safe base64 and 32-character key ids', () => {
    const ring = parseCardKeyRing(`${'a'.repeat(32)}:${randomBytes(32).toString('base64url')}`);
    expect(ring.activeKeyId).toBe('a'.repeat(32));
  });
  it('names the entry and the problem, and never the key', () => {
    const key = newKey();
    const other = newKey();
    const short = newKey(16);
    const cases: [string, RegExp][] = [
      ['', /entry 1: is empty/],
      [`k1:${key},`, /entry 2: is empty/],
      [key, /entry 1: has no ":"/],
      [`${key}:k1`, /entry 1: the key id must be 1 to 32 characters/],
      [`k1:${other},${'x'.repeat(33)}:${key}`, /entry 2: the key id must be/],
      [`k1:${other},k1:${key}`, /entry 2: key id "k1" is already used by entry 1/],
      [`k1:${key}!`, /entry 1: the key of "k1" is not base64/],
      [`k1:${key.slice(0, 20)} ${key.slice(20)}`, /entry 1: the key of "k1" is not base64/],
      [`k1:${short}`, /entry 1: the key of "k1" must decode to exactly 32 bytes, got 16/],
      [`k1:${newKey(33)}`, /got 33/],
    ];
    for (const [value, expected] of cases) {
      const error = thrown(() => parseCardKeyRing(value));
      expect(error.message).toMatch(expected);
      expect(error.message).toMatch(/^CARD_ENCRYPTION_KEYS entry \d/);
      for (const secret of [key, other, short, key.slice(0, 20), key.slice(20)]) expect(error.message).not.toContain(secret);
    }
  });
  it('cannot leak key bytes when logged or serialised', () => {
    const key = newKey();
    const ring = parseCardKeyRing(`k1:${key}`);
    const hex = Buffer.from(key, 'base64').toString('hex');
    for (const shown of [JSON.stringify(ring), inspect(ring, { depth: 10, showHidden: true }), JSON.stringify({ ...ring })]) {
      expect(shown).not.toContain(key);
      expect(shown).not.toContain(hex);
      expect(shown).toContain('k1');
    }
  });
});

describe('encryption', () => {
  it('round-trips a card number under the active key', () => {
    const ring = parseCardKeyRing(`k1:${newKey()}`);
    const sealed = encryptCardNumber(ring, PAN);
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext).not.toContain(PAN);
    expect(Buffer.from(sealed.ciphertext, 'base64')).toHaveLength(12 + 16 + PAN.length);
    expect(decryptCardNumber(ring, sealed)).toBe(PAN);
  });
  it('uses a fresh iv each time', () => {
    const ring = parseCardKeyRing(`k1:${newKey()}`);
    const a = encryptCardNumber(ring, PAN).ciphertext;
    const b = encryptCardNumber(ring, PAN).ciphertext;
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64').subarray(0, 12).equals(Buffer.from(b, 'base64').subarray(0, 12))).toBe(false);
  });
  it('refuses to encrypt anything but the digits of a card number, without echoing it', () => {
    const ring = parseCardKeyRing(`k1:${newKey()}`);
    for (const bad of ['4242 4242 4242 4242', '', 'hello world 123', '4'.repeat(20)]) {
      const error = thrown(() => encryptCardNumber(ring, bad));
      if (bad) expect(error.message).not.toContain(bad);
    }
  });
  it('detects a flipped byte anywhere: iv, tag or body', () => {
    const key = newKey();
    const ring = parseCardKeyRing(`k1:${key}`);
    const sealed = encryptCardNumber(ring, PAN);
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    for (const position of [0, 11, 12, 27, 28, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[position]! ^= 0x01;
      const error = thrown(() => decryptCardNumber(ring, { keyId: 'k1', ciphertext: tampered.toString('base64') }));
      expect(error.message).toMatch(/failed authentication/);
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(PAN);
    }
  });
  it('refuses truncated or non-base64 ciphertext', () => {
    const ring = parseCardKeyRing(`k1:${newKey()}`);
    const sealed = encryptCardNumber(ring, PAN);
    for (const ciphertext of ['', sealed.ciphertext.slice(0, 36), `${sealed.ciphertext}!`, Buffer.alloc(28).toString('base64')]) {
      expect(() => decryptCardNumber(ring, { keyId: 'k1', ciphertext })).toThrow(/failed authentication/);
    }
  });
  it('binds the key id: the same ciphertext under another id fails, even with identical key bytes', () => {
    const key = newKey();
    const ring = parseCardKeyRing(`k1:${key},k2:${key}`);
    const sealed = encryptCardNumber(ring, PAN);
    expect(() => decryptCardNumber(ring, { keyId: 'k2', ciphertext: sealed.ciphertext })).toThrow(/failed authentication/);
    expect(decryptCardNumber(ring, sealed)).toBe(PAN);
  });
  it('names an unknown key id and the ids it has, without key material', () => {
    const key = newKey();
    const ring = parseCardKeyRing(`k1:${key}`);
    const sealed = encryptCardNumber(ring, PAN);
    const error = thrown(() => decryptCardNumber(ring, { keyId: 'gone', ciphertext: sealed.ciphertext }));
    expect(error.message).toMatch(/No card encryption key "gone".*holds k1/);
    expect(error.message).not.toContain(key);
    expect(thrown(() => decryptCardNumber(ring, { keyId: `${key}`, ciphertext: sealed.ciphertext })).message).not.toContain(key);
  });
  it('only decrypts with rings it parsed', () => {
    const ring = parseCardKeyRing(`k1:${newKey()}`);
    const forged = { activeKeyId: 'k1', keyIds: ['k1'] };
    expect(() => encryptCardNumber(forged, PAN)).toThrow(/No card encryption key "k1"/);
    expect(() => decryptCardNumber(forged, encryptCardNumber(ring, PAN))).toThrow(/No card encryption key/);
  });
});

describe('rotation', () => {
  it('keeps old ciphertexts readable, re-encrypts under the new active key, and leaves fingerprints alone', () => {
    const oldKey = newKey();
    const newActive = newKey();
    const fingerprintKey = parseFingerprintKey(newKey());
    const ringA = parseCardKeyRing(`2026:${oldKey}`);
    const sealedA = encryptCardNumber(ringA, PAN);
    const fingerprintBefore = fingerprintCardNumber(fingerprintKey, PAN);
    expect(needsRotation(ringA, sealedA.keyId)).toBe(false);

    const ringB = parseCardKeyRing(`2027:${newActive},2026:${oldKey}`);
    expect(decryptCardNumber(ringB, sealedA)).toBe(PAN);
    expect(needsRotation(ringB, sealedA.keyId)).toBe(true);

    const sealedB = encryptCardNumber(ringB, decryptCardNumber(ringB, sealedA));
    expect(sealedB.keyId).toBe('2027');
    expect(needsRotation(ringB, sealedB.keyId)).toBe(false);
    expect(decryptCardNumber(ringB, sealedB)).toBe(PAN);
    expect(() => decryptCardNumber(ringA, sealedB)).toThrow(/No card encryption key "2027"/);
    expect(fingerprintCardNumber(fingerprintKey, PAN)).toBe(fingerprintBefore);
  });
});

describe('fingerprints', () => {
  it('is a keyed HMAC-SHA256: stable per key, different across keys and numbers', () => {
    const key = parseFingerprintKey(newKey());
    const fp = fingerprintCardNumber(key, PAN);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintCardNumber(key, PAN)).toBe(fp);
    expect(fingerprintCardNumber(key, '4111111111111111')).not.toBe(fp);
    expect(fingerprintCardNumber(parseFingerprintKey(newKey()), PAN)).not.toBe(fp);
  });
  it('takes a base64 key of at least 32 bytes and never echoes a bad one', () => {
    expect(parseFingerprintKey(newKey(48))).toHaveLength(48);
    for (const bad of [newKey(31), `${newKey()}!`, '']) {
      const error = thrown(() => parseFingerprintKey(bad));
      expect(error.message).toMatch(/^CARD_FINGERPRINT_KEY /);
      if (bad) expect(error.message).not.toContain(bad);
    }
  });
});

describe('generateCardKeys', () => {
  it('produces fresh values in the configuration formats', () => {
    const a = generateCardKeys();
    const b = generateCardKeys();
    expect(a.encryptionKeys).not.toBe(b.encryptionKeys);
    expect(a.fingerprintKey).not.toBe(b.fingerprintKey);
    const ring = parseCardKeyRing(a.encryptionKeys);
    expect(ring.keyIds).toHaveLength(1);
    expect(decryptCardNumber(ring, encryptCardNumber(ring, PAN))).toBe(PAN);
    expect(parseFingerprintKey(a.fingerprintKey)).toHaveLength(32);
  });
});

describe('loadCardKeys', () => {
  it('parses both settings when given, writing nothing', () => {
    withTempDir((dir) => {
      const generated = generateCardKeys();
      const warnings: string[] = [];
      const keys = loadCardKeys({ ...generated, production: true, dataDir: dir, warn: (m) => warnings.push(m) });
      expect(keys.ring.keyIds).toEqual(parseCardKeyRing(generated.encryptionKeys).keyIds);
      expect(keys.fingerprintKey.equals(parseFingerprintKey(generated.fingerprintKey))).toBe(true);
      expect(fs.readdirSync(dir)).toEqual([]);
      expect(warnings).toEqual([]);
    });
  });
  it('in development, generates keys into the data folder once and reuses them', () => {
    withTempDir((root) => {
      const dir = path.join(root, 'data');
      const warnings: string[] = [];
      const warn = (m: string) => warnings.push(m);
      const first = loadCardKeys({ production: false, dataDir: dir, warn });
      const file = path.join(dir, 'card-keys.json');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(file);
      expect(warnings[0]).toMatch(/development/);
      expect(warnings[0]).toMatch(/Never use them in production/);

      const second = loadCardKeys({ production: false, dataDir: dir, warn });
      expect(warnings).toHaveLength(1);
      expect(second.ring.keyIds).toEqual(first.ring.keyIds);
      expect(decryptCardNumber(second.ring, encryptCardNumber(first.ring, PAN))).toBe(PAN);
      expect(second.fingerprintKey.equals(first.fingerprintKey)).toBe(true);
      for (const warning of warnings) {
        const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { encryptionKeys: string; fingerprintKey: string };
        expect(warning).not.toContain(stored.encryptionKeys.split(':')[1]);
        expect(warning).not.toContain(stored.fingerprintKey);
      }
    });
  });
  it('in development, a setting that is given wins over the generated file', () => {
    withTempDir((dir) => {
      const fingerprint = newKey();
      const keys = loadCardKeys({ fingerprintKey: fingerprint, production: false, dataDir: dir, warn: () => {} });
      expect(keys.fingerprintKey.equals(parseFingerprintKey(fingerprint))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'card-keys.json'))).toBe(true);
    });
  });
  it('names a damaged development key file', () => {
    withTempDir((dir) => {
      fs.writeFileSync(path.join(dir, 'card-keys.json'), '{"encryptionKeys": 1}');
      expect(() => loadCardKeys({ production: false, dataDir: dir, warn: () => {} })).toThrow(/card-keys\.json is not a development card key file/);
    });
  });
  it('refuses to start in production without both settings, saying which is missing and how to make one', () => {
    withTempDir((dir) => {
      const { encryptionKeys, fingerprintKey } = generateCardKeys();
      const both = thrown(() => loadCardKeys({ production: true, dataDir: dir, warn: () => {} }));
      expect(both.message).toMatch(/required in production/);
      expect(both.message).toContain('CARD_ENCRYPTION_KEYS is not set');
      expect(both.message).toContain('CARD_FINGERPRINT_KEY is not set');
      expect(both.message).toContain(`node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`);

      const noFingerprint = thrown(() => loadCardKeys({ encryptionKeys, production: true, dataDir: dir, warn: () => {} }));
      expect(noFingerprint.message).toContain('CARD_FINGERPRINT_KEY is not set');
      expect(noFingerprint.message).not.toContain('CARD_ENCRYPTION_KEYS is not set');
      expect(noFingerprint.message).not.toContain(encryptionKeys.split(':')[1]);

      const noEncryption = thrown(() => loadCardKeys({ fingerprintKey, production: true, dataDir: dir, warn: () => {} }));
      expect(noEncryption.message).toContain('CARD_ENCRYPTION_KEYS is not set');
      expect(noEncryption.message).not.toContain('CARD_FINGERPRINT_KEY is not set');
      expect(noEncryption.message).not.toContain(fingerprintKey);

      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });
  it('refuses to generate keys outside production when there is no data folder', () => {
    expect(() => loadCardKeys({ production: false, warn: () => {} })).toThrow(/no data folder/);
  });
  it('refuses a fingerprint key equal to an encryption key, without echoing it', () => {
    const key = newKey();
    const error = thrown(() => loadCardKeys({ encryptionKeys: `k1:${key}`, fingerprintKey: key, production: true, warn: () => {} }));
    expect(error.message).toMatch(/must not be one of the card encryption keys/);
    expect(error.message).not.toContain(key);
  });
});
