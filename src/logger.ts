/**
 * Structured JSON logs (pino). Secrets never reach a log line: credentials and card fields are
 * redacted by path, and every line is scrubbed of anything that looks like a card number
 * (a Luhn-valid run of 13–19 digits), wherever it came from.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { Config } from './config.js';
import { scrubCardNumbers } from './modules/cards/card-number.js';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'hashback' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          'secret',
          '*.secret',
          'password',
          '*.password',
          'number',
          '*.number',
          'cardNumber',
          '*.cardNumber',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
      hooks: { streamWrite: scrubCardNumbers },
    },
    destination,
  );
}
