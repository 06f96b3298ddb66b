import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { randomCardNumber } from './harness.js';

describe('logs', () => {
  it('never carry a card number, whether in a known field or in free text', () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    const number = randomCardNumber('4');
    const spaced = number.replace(/(\d{4})(?=\d)/g, '$1 ');
    logger.info({ number, cardNumber: number, input: { number } }, 'by field');
    logger.info({ note: `customer read out ${spaced}` }, `free text ${number}`);
    logger.error({ err: new Error(`failed for ${number}`) }, 'in an error');
    logger.info({ authorization: 'Bearer hbk_secret', password: 'hunter2hunter2' }, 'credentials');
    const text = lines.join('\n');
    expect(lines).toHaveLength(4);
    expect(text).not.toContain(number);
    expect(text).not.toContain(spaced);
    expect(text).not.toContain('hbk_secret');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('[card redacted]');
    // Ordinary numbers survive: ids, amounts, timestamps.
    logger.info({ amount: 1234567, at: Date.now() }, 'order 42');
    expect(lines[4]).toContain('1234567');
  });
});
