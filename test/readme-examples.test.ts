/**
 * Docs that cannot rot: every request example in README.md runs against a fresh server with the
 * demo data, in the order a reader meets them, and where the README shows an answer the real one
 * must match it.
 *
 * - ```sh blocks with `curl` run as written through bash and real curl, with localhost:4000 pointed
 *   at this server and `$TOKEN` set to the token of the README's sign-up.
 * - ```graphql blocks are split into operations. `# Authorization: Bearer <…>` sets the caller for
 *   what follows; `# → {…}` (continued on the next `#` lines) is the answer shown for the operation
 *   before it, compared with that operation's root field: every key shown must be there with that
 *   value, lists must have the length shown.
 * - Placeholders `<…>` are what a reader fills in: the demo keys, the time now, and ids that earlier
 *   examples answered. A placeholder the earlier answers cannot fill fails the test, naming it, so
 *   an example that forgets to select what the next step needs is caught.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { issueDueStatementCredits } from '../src/modules/cashback/cashback.service.js';
import { seedDemoData, type DemoKeys } from '../src/seed.js';
import { startHarness, type Harness } from './harness.js';

const run = promisify(execFile);
const README = new URL('../README.md', import.meta.url);
const DAY = 24 * 60 * 60 * 1000;

export interface Example {
  kind: 'curl' | 'graphql';
  /** 1-based line of README.md where the example starts. */
  line: number;
  text: string;
  /** The `<…>` credential of a GraphQL operation, if any. */
  auth?: string;
  /** The answer shown for it, if any. */
  expected?: unknown;
}

/** The request examples of a README, in order. */
export function readmeExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(sh|graphql)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    const body = lines.slice(start, end);
    if (fence[1] === 'sh') {
      // One example per curl command (a command runs on while its lines end with a backslash).
      for (let j = 0; j < body.length; j++) {
        if (!/^\s*curl\b/.test(body[j]!)) continue;
        const command = [body[j]!];
        let k = j;
        while (/\\\s*$/.test(body[k]!) || unbalancedQuotes(command.join('\n'))) command.push(body[++k]!);
        examples.push({ kind: 'curl', line: start + j + 1, text: command.join('\n') });
        j = k;
      }
    } else {
      let auth: string | undefined;
      let current: string[] = [];
      let depth = 0;
      let currentLine = 0;
      let expectation: { example: Example; text: string[] } | undefined;
      const closeExpectation = () => {
        if (!expectation) return;
        const text = expectation.text.join('\n');
        try {
          expectation.example.expected = JSON.parse(text);
        } catch (error) {
          throw new Error(`README.md line ${expectation.example.line}: the answer shown is not JSON (${(error as Error).message}):\n${text}`);
        }
        expectation = undefined;
      };
      for (let j = 0; j < body.length; j++) {
        const raw = body[j]!;
        const trimmed = raw.trim();
        if (depth === 0 && trimmed.startsWith('#')) {
          const comment = trimmed.replace(/^#\s?/, '');
          const authMatch = /^Authorization: Bearer (<[^>]+>)/.exec(comment);
          if (authMatch) auth = authMatch[1];
          const arrow = /^→\s?(.*)$/.exec(comment);
          if (arrow) {
            closeExpectation();
            const last = examples.at(-1);
            if (!last || last.kind !== 'graphql') throw new Error(`README.md line ${start + j + 1}: an answer with no operation before it`);
            expectation = { example: last, text: [arrow[1]!] };
          } else if (expectation && /^\s/.test(comment)) {
            expectation.text.push(comment);
          } else {
            closeExpectation();
          }
          continue;
        }
        closeExpectation();
        if (depth === 0 && trimmed === '') continue;
        if (current.length === 0) currentLine = start + j + 1;
        const code = raw.replace(/#.*$/, '');
        current.push(code);
        for (const char of code.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
          if (char === '{') depth++;
          if (char === '}') depth--;
        }
        if (depth === 0 && current.join('').includes('{')) {
          examples.push({ kind: 'graphql', line: currentLine, text: current.join('\n').trim(), auth });
          current = [];
        }
      }
      closeExpectation();
      if (current.join('').trim()) throw new Error(`README.md line ${currentLine}: an operation whose braces do not close`);
    }
    i = end;
  }
  return examples;
}

function unbalancedQuotes(text: string): boolean {
  const singles = (text.match(/'/g) ?? []).length;
  return singles % 2 === 1;
}

/** Every key of `expected` is in `actual` with that value; lists have the same length. Returns the first difference. */
export function difference(expected: unknown, actual: unknown, path = '$'): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected a list, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const d = difference(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      const d = difference(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** Finds the first value of `key` anywhere in `value` (depth first). */
function find(value: unknown, key: string): unknown {
  if (!value || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && key in value) return (value as Record<string, unknown>)[key];
  for (const child of Object.values(value)) {
    const found = find(child, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

describe('README examples', () => {
  let h: Harness;
  let base: string;
  let keys: DemoKeys;
  /** Answers of the examples so far, by what they answered (root field name). */
  const answers = new Map<string, unknown>();
  let examples: Example[];

  beforeAll(async () => {
    examples = readmeExamples(fs.readFileSync(README, 'utf8'));
    h = await startHarness({ LIVE_EVENTS: 'true' });
    // The demo data of a first `npm start`, the demo buyer and its card included.
    keys = (await seedDemoData(h.db, createLogger({ logLevel: 'silent' }), undefined, { security: h.security })).keys;
    await h.app.listen(0, '127.0.0.1');
    base = `127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** What a reader would put in place of `<…>`; throws when the earlier answers do not hold it. */
  async function fill(placeholder: string, line: number): Promise<string> {
    const missing = (what: string) => new Error(`README.md line ${line}: ${placeholder} — ${what}`);
    const text = placeholder.slice(1, -1);
    if (text === 'merchant key') return keys.merchant;
    if (text === 'partner key') return keys.partner;
    if (text === 'admin key') return keys.admin;
    if (text === 'token') {
      const token = find(answers.get('signUp'), 'token');
      if (typeof token !== 'string') throw missing('no earlier example answered a token');
      return token;
    }
    // Now, as a reader would type it after the steps before (Get Offer came first).
    if (/^now\b/.test(text)) return new Date().toISOString();
    if (/^a date in the future\b/.test(text)) return new Date(Date.now() + 60 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (/Location id/.test(text)) {
      const res = await h.gql('{ merchantViewer { locations { id } } }', {}, keys.merchant);
      return (res.data as { merchantViewer: { locations: { id: string }[] } }).merchantViewer.locations[0]!.id;
    }
    if (/offer id createOffer answered/.test(text)) {
      const id = find(find(answers.get('createOffer'), 'offer'), 'id');
      if (typeof id !== 'string') throw missing('createOffer did not answer an offer id');
      return id;
    }
    if (/offer id from offersForPosts/.test(text)) {
      const posts = answers.get('offersForPosts') as { offer: { id?: string } | null }[] | undefined;
      const id = posts?.find((p) => p.offer)?.offer?.id;
      if (typeof id !== 'string') throw missing('the offersForPosts example does not answer an offer id');
      return id;
    }
    if (/credit id statementCredits answered/.test(text)) {
      const id = find(answers.get('statementCredits'), 'id');
      if (typeof id !== 'string') throw missing('no earlier example listed a statement credit id');
      return id;
    }
    throw missing('the test does not know how to fill this placeholder');
  }

  async function fillAll(text: string, line: number): Promise<string> {
    let out = text;
    for (const placeholder of new Set(text.match(/<[^<>\n]+>/g) ?? [])) {
      out = out.split(placeholder).join(await fill(placeholder, line));
    }
    return out;
  }

  it('every request example answers as shown', async () => {
    expect(examples.filter((e) => e.kind === 'curl').length, 'curl examples found').toBeGreaterThanOrEqual(3);
    expect(examples.filter((e) => e.kind === 'graphql').length, 'GraphQL examples found').toBeGreaterThanOrEqual(8);
    for (const example of examples) {
      const where = `README.md line ${example.line}`;
      if (example.kind === 'curl') {
        const streams = /\s-N\b/.test(example.text);
        const command = example.text.replace(/localhost:4000/g, base);
        const token = command.includes('$TOKEN') ? await fill('<token>', example.line) : '';
        // A streaming example (SSE) runs for a moment, long enough to be accepted and answer.
        const { stdout } = await run('bash', ['-c', streams ? `timeout 2 ${command} || [ $? -eq 124 ]` : command], {
          env: { ...process.env, TOKEN: token },
          timeout: 20_000,
        });
        expect(stdout, `${where}: the example answers something`).not.toBe('');
        if (streams) {
          expect(stdout, `${where}: ${stdout}`).not.toMatch(/"errors"/);
          continue;
        }
        const body = JSON.parse(stdout) as { data?: Record<string, unknown>; errors?: unknown };
        expect(body.errors, `${where}: ${stdout}`).toBeUndefined();
        for (const [field, value] of Object.entries(body.data ?? {})) answers.set(field, value);
        continue;
      }
      // The statement-credit job's round that a running server makes every second (JOB_INTERVAL_MS),
      // at the time a reader sends the example: no hold period passes in between.
      if (/\bstatementCredits\s*\(/.test(example.text)) await issueDueStatementCredits(h.db, new Date());
      const query = await fillAll(example.text, example.line);
      const key = example.auth ? await fill(example.auth, example.line) : null;
      const res = await h.gql(query, {}, key);
      expect(res.errors, `${where}: ${JSON.stringify(res.errors)}\n${query}`).toBeUndefined();
      const data = res.data as Record<string, unknown>;
      for (const [field, value] of Object.entries(data)) answers.set(field, value);
      // Payload userErrors are answers too, but an example that shows none must get none.
      const root = Object.values(data)[0];
      if (example.expected !== undefined) {
        const diff = difference(example.expected, root);
        expect(diff, `${where}: the answer differs from the one shown\n${JSON.stringify(root, null, 2)}`).toBeNull();
      } else if (root && typeof root === 'object' && 'userErrors' in root) {
        expect((root as { userErrors: unknown[] }).userErrors, `${where}: ${JSON.stringify(root)}`).toEqual([]);
      }
    }
  });
});
