/**
 * Logs (pino): JSON lines, one object per event, for machines (production, files, pipes, tests);
 * in development on a terminal the same events pretty-printed and coloured on one line each
 * (pino-pretty), so a person can read a start-up or a request at a glance.
 *
 * Secrets never reach a log line in either form: credentials and card fields are redacted by
 * path, and every line is scrubbed of anything that looks like a card number (a Luhn-valid run
 * of 13–19 digits), wherever it came from, before it is formatted.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.js';
import { scrubCardNumbers } from './modules/cards/card-number.js';

export type { Logger };

/** Pretty output when nobody said otherwise: development, and stdout is a terminal. */
export function wantsPrettyLogs(config: { nodeEnv?: Config['nodeEnv'] }, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return (config.nodeEnv ?? 'development') === 'development' && stdout.isTTY === true;
}

/** One coloured line per event: time, level, message, then the event's fields (operation, principal, ms, …). */
export function prettyStream(options: { colorize?: boolean; destination?: NodeJS.WritableStream } = {}): DestinationStream {
  return pretty({
    colorize: options.colorize ?? true,
    singleLine: true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    ...(options.destination ? { destination: options.destination } : {}),
  });
}

export function createLogger(
  config: Pick<Config, 'logLevel'> & { nodeEnv?: Config['nodeEnv'] },
  destination?: DestinationStream,
  options: { pretty?: boolean } = {},
): Logger {
  const pretty = options.pretty ?? (destination === undefined && wantsPrettyLogs(config));
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
    // A given destination (tests) gets plain text; the terminal gets colours.
    // Stdout is written synchronously: a line is out before the next console output (the demo-keys
    // box lands after the lines before it) and before process.exit (the fatal start-up line).
    pretty
      ? prettyStream({ colorize: destination === undefined, destination: destination as NodeJS.WritableStream | undefined })
      : (destination ?? pino.destination({ dest: 1, sync: true })),
  );
}
