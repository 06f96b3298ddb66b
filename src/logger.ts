/**
 * Structured JSON logs (pino). Secrets never reach a log line: credentials are redacted by path.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'hashback' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
