import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { generateCardKeys } from '../src/modules/cards/card-crypto.js';
import { loadSecurity } from '../src/security.js';

describe('secrets', () => {
  it('are required in production, each named in the message', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: os.tmpdir() });
    expect(() => loadSecurity(config, () => {})).toThrow(/TOKEN_SECRET is required in production/);
    const keys = generateCardKeys();
    expect(() => loadSecurity({ ...config, tokenSecret: 'x'.repeat(40), cardFingerprintKey: keys.fingerprintKey }, () => {})).toThrow(
      /CARD_ENCRYPTION_KEYS/,
    );
  });

  it('are generated once into the data folder in development, with a warning', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-secrets-'));
    try {
      const warnings: string[] = [];
      const first = loadSecurity(loadConfig({ DATA_DIR: dir }), (m) => warnings.push(m));
      const second = loadSecurity(loadConfig({ DATA_DIR: dir }), (m) => warnings.push(m));
      expect(Buffer.from(second.tokenKey)).toEqual(Buffer.from(first.tokenKey));
      expect(second.cards.ring.activeKeyId).toBe(first.cards.ring.activeKeyId);
      expect(warnings.filter((w) => /Never use/.test(w))).toHaveLength(2);
      expect(fs.statSync(path.join(dir, 'token-secret')).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configuration', () => {
  it('runs with no variables at all: embedded database, port 4000, GraphiQL on', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, databaseUrl: undefined, nodeEnv: 'development', graphiql: true, logLevel: 'info' });
    expect(config.dataDir).toBe(path.resolve('.hashback-data'));
  });

  it('turns GraphiQL off in production unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' }).graphiql).toBe(true);
  });

  it('reads an empty variable as unset, flags included (a copied .env.example leaves GraphiQL and the demo page off in production)', () => {
    const production = loadConfig({ NODE_ENV: 'production', GRAPHIQL: '', DEMO_PAGE: '', JOBS: '', LIVE_EVENTS: '' });
    expect(production).toMatchObject({ graphiql: false, demoPage: false });
    expect(production).toEqual(loadConfig({ NODE_ENV: 'production' }));
    expect(loadConfig({ GRAPHIQL: '', DEMO_PAGE: '' })).toMatchObject({ graphiql: true, demoPage: true });
  });

  it('names every bad variable with its value and what is expected', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://db/x', NODE_ENV: 'staging', GRAPHIQL: 'yes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: must be an integer from 0 to 65535, got "eighty"/),
        expect.stringMatching(/^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/),
        expect.stringMatching(/^DATABASE_URL: must use the postgres:\/\/ scheme/),
        expect.stringMatching(/^NODE_ENV: must be development, production or test \(got "staging"\)/),
        expect.stringMatching(/^GRAPHIQL: must be true or false \(got "yes"\)/),
      ]),
    );
  });

  it('refuses a port out of range and a URL that is not one', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be an integer from 0 to 65535, got "70000"/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL: must be a URL/);
  });
});
