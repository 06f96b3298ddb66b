/** `.env.example` lists exactly the variables of the configuration schema, and its values are the defaults. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';

const entries = fs
  .readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'))
  .map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)] as const;
  });

describe('.env.example', () => {
  it('lists every configuration variable once, and nothing else', () => {
    const names = entries.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives the defaults: loading it yields the configuration of an empty environment', () => {
    const env = Object.fromEntries(entries.filter(([, value]) => value !== ''));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});
